/**
 * The controller's output towards its host: packets (events, ACL) are written into one growable
 * byte queue and handed to the host sink from a callback posted on the run loop, never inside the
 * call that produced them. Records are [type | size bit 16 << 4, size lo, size hi, packet...]
 * (an ACL packet of 65535 data bytes is 65539 bytes long).
 *
 * The packet given to the sink is always the same fixed array (`delivery`, valid during the call
 * only): the front of the queue's ArrayBuffer, into which each record is moved with copyWithin
 * (no view or copy allocated per packet, and a host caching views per buffer keeps hitting).
 * Records live after it, from offset `base`. While a drain is running the queue never moves
 * bytes in place (it switches to a new buffer when it must grow), so the packet a host is
 * handling stays intact even if the host sends a command from its handler and the controller
 * answers at once.
 *
 * A host may stop taking packets (`set_ready(false)`: a UART host deasserting RTS, a socket
 * client that stops reading). Packets then wait here, in a bounded buffer as a controller's RAM
 * is: advertising and inquiry reports ("discardable") may use REPORTS_ROOM bytes of it and are
 * dropped beyond that; other packets are dropped only beyond CAPACITY (a transport stops giving
 * the controller host input long before: see `congested`). Nothing grows without bound.
 */
import type { RunLoop } from '../core/run-loop.js';

export type HostSink = (packet_type: number, packet: Uint8Array, size: number) => void;

/** Packets handed to the sink per posted callback before yielding to the run loop. */
const BATCH = 64;

/** Bytes kept for a host that is not taking packets (records with their 3-byte headers). */
export const HOST_QUEUE_CAPACITY = 16 * 1024;
/** Of those, what advertising and inquiry reports may occupy; later reports are dropped. */
export const HOST_QUEUE_REPORTS_ROOM = 4 * 1024;

/** Initial room at the front of the buffer for the packet being delivered (grows to the largest). */
const DELIVERY_ROOM = 1024;

/** What a transport and diagnostics read of the queue (VirtualController.out). */
export interface HostQueueStatus {
  /** Bytes waiting to be delivered. */
  readonly pending: number;
  /** Whether half the buffer is used: give the controller no more host input until it drains. */
  readonly congested: boolean;
  /** Whether the host takes packets now. */
  readonly ready: boolean;
  /** Packets delivered, and dropped because no host was attached. */
  readonly delivered: number;
  readonly dropped: number;
  /** Reports dropped while the host was not taking packets. */
  readonly discarded: number;
  /** Other packets dropped while the host was not taking packets and the buffer was full. */
  readonly overflowed: number;
}

export class HostQueue implements HostQueueStatus {
  /** The whole buffer: [0, base) is `delivery`, records from `base` on. */
  buf = new Uint8Array(4096);
  /** What the sink is given: buf's first `base` bytes. */
  delivery = this.buf.subarray(0, DELIVERY_ROOM);
  private base = DELIVERY_ROOM;
  private head = DELIVERY_ROOM;
  private tail = DELIVERY_ROOM;
  private posted = false;
  private draining = false;
  sink: HostSink | null = null;
  /** Packets delivered and dropped (no sink attached), for diagnostics. */
  delivered = 0;
  dropped = 0;
  /** Reports dropped while the host was not taking packets. */
  discarded = 0;
  /** Other packets dropped while the host was not taking packets and the buffer was full. */
  overflowed = 0;
  private host_ready = true;
  private readonly drainCb = (): void => this.drain();

  constructor(private readonly run_loop: RunLoop) {}

  /**
   * Reserve a packet of `size` bytes of type `type`; returns the offset of its first byte in
   * `this.buf` (read `buf` after calling: the queue may have switched buffers). `discardable`
   * marks an advertising or inquiry report. A packet with no room (host not ready) is still
   * written, where the next packet will go, and forgotten.
   */
  reserve(type: number, size: number, discardable = false): number {
    const need = 3 + size;
    if (size > this.base) this.makeRoom(need, size);
    if (!this.host_ready && this.tail - this.head + need > (discardable ? HOST_QUEUE_REPORTS_ROOM : HOST_QUEUE_CAPACITY)) {
      if (discardable) this.discarded++;
      else this.overflowed++;
      if (this.tail + need > this.buf.length) this.makeRoom(need);
      return this.tail + 3;
    }
    if (this.tail + need > this.buf.length) this.makeRoom(need);
    const b = this.buf;
    const p = this.tail;
    // sizes above 65535 (an ACL packet of 65535 data bytes is 65539 bytes): bit 16 in the type byte's high nibble
    b[p] = type | ((size >>> 16) << 4);
    b[p + 1] = size & 0xff;
    b[p + 2] = (size >>> 8) & 0xff;
    this.tail = p + need;
    if (!this.posted) {
      this.posted = true;
      this.run_loop.execute_on_main_thread(this.drainCb);
    }
    return p + 3;
  }

  /** Bytes waiting to be delivered. */
  get pending(): number {
    return this.tail - this.head;
  }

  /** Whether the host takes packets now. */
  get ready(): boolean {
    return this.host_ready;
  }

  /** The host stops (false) or resumes (true) taking packets; waiting ones follow on resume. */
  set_ready(ready: boolean): void {
    if (ready === this.host_ready) return;
    this.host_ready = ready;
    if (ready && this.head < this.tail && !this.posted) {
      this.posted = true;
      this.run_loop.execute_on_main_thread(this.drainCb);
    }
  }

  /**
   * Whether half the buffer is used: a transport should give the controller no more host input
   * until it drains (a controller that cannot answer deasserts its RTS).
   */
  get congested(): boolean {
    return this.tail - this.head >= HOST_QUEUE_CAPACITY / 2;
  }

  /** Forget everything queued (controller reset / removal). */
  clear(): void {
    if (this.draining) {
      this.head = this.tail;
    } else {
      this.head = this.base;
      this.tail = this.base;
    }
  }

  /** Room for `need` more record bytes after tail, and a delivery area of at least `room`. */
  private makeRoom(need: number, room = this.base): void {
    const used = this.tail - this.head;
    const base = this.base;
    if (!this.draining && room <= base && base + used + need <= this.buf.length) {
      this.buf.copyWithin(base, this.head, this.tail);
      this.head = base;
      this.tail = base + used;
      return;
    }
    let nbase = base;
    while (nbase < room) nbase *= 2;
    let cap = this.buf.length;
    while (cap - nbase < used + need) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(this.head, this.tail), nbase);
    this.buf = nb;
    this.delivery = nb.subarray(0, nbase);
    this.base = nbase;
    this.head = nbase;
    this.tail = nbase + used;
  }

  private drain(): void {
    this.posted = false;
    this.draining = true;
    let n = 0;
    try {
      while (this.head < this.tail && this.host_ready) {
        if (n++ === BATCH) {
          this.posted = true;
          this.run_loop.execute_on_main_thread(this.drainCb);
          break;
        }
        const b = this.buf;
        const p = this.head;
        const type = b[p]! & 0x0f;
        const size = b[p + 1]! | (b[p + 2]! << 8) | ((b[p]! >>> 4) << 16);
        this.head = p + 3 + size;
        const sink = this.sink;
        if (sink) {
          this.delivered++;
          // b and delivery share one ArrayBuffer (a sink that made the queue grow switched both)
          b.copyWithin(0, p + 3, p + 3 + size);
          sink(type, this.delivery, size);
        } else this.dropped++;
      }
    } finally {
      this.draining = false;
      if (this.head >= this.tail) {
        this.head = this.base;
        this.tail = this.base;
      } else if (!this.posted && this.host_ready) {
        // the sink threw: keep delivering what is left on a later turn
        this.posted = true;
        this.run_loop.execute_on_main_thread(this.drainCb);
      }
    }
  }
}
