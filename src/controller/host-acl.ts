/**
 * A controller whose reassembly hands each L2CAP PDU to its host in as few ACL packets as allowed
 * (the `acl_to_host_max` controller option, `bthost controller --acl-to-host-max N`): the pieces
 * of one PDU that crossed the air are joined, per connection handle, into ACL packets of up to
 * `cap` data bytes (`acl_to_host_max`, and never more than the host's Host_ACL_Data_Packet_Length
 * from Host Buffer Size). A packet is handed up when the PDU is complete (its L2CAP basic header
 * length is reached), when `cap` is reached, or when the next PDU starts. The first packet of a PDU
 * carries PB 0b10, the others 0b01.
 *
 * Host credits (controller-to-host flow control) are taken per packet handed up. A packet that is
 * ready while the host has no credit (or does not read) is held here; while one is held, the
 * controller takes nothing more from the air for its host (`held` > 0), and `release()` hands held
 * packets up once the host has room again.
 */

/** The controller side the merger hands packets to. */
export interface HostAclSink {
  /** Hand one ACL packet to the host (takes a host credit). */
  emit(handle: number, pb: number, data: Uint8Array, off: number, n: number): void;
  /** Whether the host may take one more ACL packet now. */
  can_emit(): boolean;
  /** Copy n bytes (no view per call). */
  copy(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void;
}

interface Assembly {
  handle: number;
  buf: Uint8Array;
  /** Bytes waiting in buf. */
  len: number;
  /** The next packet handed up starts the PDU. */
  first: boolean;
  /** PDU length (L2CAP header + payload), -1 when unknown. */
  expect: number;
  /** PDU bytes received so far. */
  got: number;
  /** Ready, but the host had no room. */
  held: boolean;
  /** Largest packet for the host (acl_to_host_max within Host Buffer Size). */
  cap: number;
}

export class HostAclMerger {
  private readonly asm = new Map<number, Assembly>();
  /** Assemblies holding a ready packet. */
  held = 0;

  constructor(private readonly sink: HostAclSink) {}

  /**
   * n bytes (n <= cap) for the host on `handle`; pb 0b10 starts a PDU, 0b01 continues it. The
   * caller made sure the host may take one packet now and nothing is held.
   */
  push(handle: number, pb: number, data: Uint8Array, off: number, n: number, cap: number): void {
    let a = this.asm.get(handle);
    if (!a) {
      a = { handle, buf: new Uint8Array(2 * Math.max(cap, 1024)), len: 0, first: false, expect: -1, got: 0, held: false, cap };
      this.asm.set(handle, a);
    }
    a.cap = cap;
    if (pb !== 0x01) {
      if (a.len > 0) this.emit(a, a.len); // an unfinished PDU: hand up what came of it
      a.first = true;
      a.got = 0;
      a.expect = n >= 2 ? (data[off]! | (data[off + 1]! << 8)) + 4 : -1;
    }
    if (a.len + n > a.buf.length) {
      const bigger = new Uint8Array(Math.max(a.len + n, 2 * a.buf.length));
      bigger.set(a.buf.subarray(0, a.len));
      a.buf = bigger;
    }
    this.sink.copy(data, off, a.buf, a.len, n);
    a.len += n;
    a.got += n;
    this.flush(a);
  }

  /** Hand up held packets while the host has room; true when nothing is held any more. */
  release(): boolean {
    if (this.held === 0) return true;
    for (const a of this.asm.values()) {
      if (!a.held) continue;
      a.held = false;
      this.held--;
      this.flush(a);
    }
    return this.held === 0;
  }

  /** Hand up every packet that is ready (cap reached, or the end of the PDU) while the host has room. */
  private flush(a: Assembly): void {
    while (a.len >= a.cap || (a.len > 0 && (a.expect < 0 || a.got >= a.expect))) {
      if (!this.sink.can_emit()) {
        a.held = true;
        this.held++;
        return;
      }
      this.emit(a, Math.min(a.len, a.cap));
    }
  }

  /** The connection ended: what waits for it is flushed. */
  drop(handle: number): void {
    const a = this.asm.get(handle);
    if (!a) return;
    if (a.held) this.held--;
    this.asm.delete(handle);
  }

  clear(): void {
    this.asm.clear();
    this.held = 0;
  }

  /** Hand the first k bytes up; the rest moves to the front. */
  private emit(a: Assembly, k: number): void {
    const pb = a.first ? 0x02 : 0x01;
    a.first = false;
    this.sink.emit(a.handle, pb, a.buf, 0, k);
    if (a.len > k) a.buf.copyWithin(0, k, a.len);
    a.len -= k;
  }
}
