/**
 * HCI packets out of a USB pipe's transfers (sans-I/O). Events arrive on the interrupt endpoint
 * and ACL data on the bulk endpoint, without a packet type byte; a transfer ends when full or at a
 * short packet, so one transfer may hold part of a packet, one packet, or the end of one and the
 * start of the next. The assembler reads each header's length and hands out whole packets.
 * One fixed buffer; a length past the limit is an error (the pipe's state is then unknown: the
 * rest of that transfer is dropped and assembly starts again at the next one).
 */
import { HCI_ACL_DATA_PACKET, HCI_EVENT_PACKET } from '../../src/codes/v1.4.js';

export interface UsbAssemblerOptions {
  /** HCI_EVENT_PACKET (interrupt endpoint) or HCI_ACL_DATA_PACKET (bulk endpoint). */
  type: number;
  /** Largest ACL data length taken (default 65535). */
  max_acl?: number;
  /** A whole packet: a view valid during the call. */
  on_packet: (type: number, packet: Uint8Array, size: number) => void;
  on_error?: (message: string) => void;
}

export class UsbPacketAssembler {
  readonly type: number;
  private readonly header: number;
  /** Largest parameter / data length taken. */
  readonly max: number;
  private readonly buf: Uint8Array;
  private have = 0;
  private want = 0;
  errors = 0;
  packets = 0;

  constructor(private readonly o: UsbAssemblerOptions) {
    if (o.type !== HCI_EVENT_PACKET && o.type !== HCI_ACL_DATA_PACKET) throw new TypeError(`UsbPacketAssembler: type ${o.type}`);
    this.type = o.type;
    this.header = o.type === HCI_EVENT_PACKET ? 2 : 4;
    this.max = o.type === HCI_EVENT_PACKET ? 255 : (o.max_acl ?? 65535);
    this.buf = new Uint8Array(this.header + this.max);
    this.want = this.header;
  }

  /** Drop a partial packet. */
  reset(): void {
    this.have = 0;
    this.want = this.header;
  }

  /** Bytes of a packet still missing (0: between packets). */
  get pending(): number {
    return this.have === 0 ? 0 : this.want - this.have;
  }

  feed(chunk: Uint8Array, offset = 0, length = chunk.length - offset): void {
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const n = Math.min(this.want - this.have, end - pos);
      this.buf.set(chunk.subarray(pos, pos + n), this.have);
      this.have += n;
      pos += n;
      if (this.have < this.want) return;
      if (this.want === this.header) {
        const len = this.type === HCI_EVENT_PACKET ? this.buf[1]! : this.buf[2]! | (this.buf[3]! << 8);
        if (len > this.max) {
          this.errors++;
          this.reset();
          this.o.on_error?.(`ACL packet of ${len} bytes, more than the ${this.max} taken (the rest of the transfer dropped)`);
          return;
        }
        this.want = this.header + len;
        if (len > 0) continue;
      }
      const size = this.want;
      this.reset();
      this.packets++;
      this.o.on_packet(this.type, this.buf, size);
    }
  }
}
