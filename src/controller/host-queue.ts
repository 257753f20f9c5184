/**
 * The controller's output towards its host: packets (events, ACL) are written into one growable
 * byte queue and handed to the host sink from a callback posted on the run loop, never inside the
 * call that produced them. Records are [type, size lo, size hi, packet...].
 *
 * The packet given to the sink is a view into the queue, valid during the call only. While a
 * drain is running the queue never moves bytes in place (it switches to a new buffer when it
 * must grow), so the view a host is handling stays intact even if the host sends a command
 * from its handler and the controller answers at once.
 */
import type { RunLoop } from '../core/run-loop.js';

export type HostSink = (packet_type: number, packet: Uint8Array, size: number) => void;

/** Packets handed to the sink per posted callback before yielding to the run loop. */
const BATCH = 64;

export class HostQueue {
  buf = new Uint8Array(4096);
  private head = 0;
  private tail = 0;
  private posted = false;
  private draining = false;
  sink: HostSink | null = null;
  /** Packets delivered and dropped (no sink attached), for diagnostics. */
  delivered = 0;
  dropped = 0;
  private readonly drainCb = (): void => this.drain();

  constructor(private readonly run_loop: RunLoop) {}

  /**
   * Reserve a packet of `size` bytes of type `type`; returns the offset of its first byte in
   * `this.buf` (read `buf` after calling: the queue may have switched buffers).
   */
  reserve(type: number, size: number): number {
    const need = 3 + size;
    if (this.tail + need > this.buf.length) this.makeRoom(need);
    const b = this.buf;
    const p = this.tail;
    b[p] = type;
    b[p + 1] = size & 0xff;
    b[p + 2] = size >>> 8;
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

  /** Forget everything queued (controller reset / removal). */
  clear(): void {
    if (this.draining) {
      this.head = this.tail;
    } else {
      this.head = 0;
      this.tail = 0;
    }
  }

  private makeRoom(need: number): void {
    const used = this.tail - this.head;
    if (!this.draining && used + need <= this.buf.length) {
      this.buf.copyWithin(0, this.head, this.tail);
      this.head = 0;
      this.tail = used;
      return;
    }
    let cap = this.buf.length;
    while (cap < used + need) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(this.head, this.tail), 0);
    this.buf = nb;
    this.head = 0;
    this.tail = used;
  }

  private drain(): void {
    this.posted = false;
    this.draining = true;
    let n = 0;
    try {
      while (this.head < this.tail) {
        if (n++ === BATCH) {
          this.posted = true;
          this.run_loop.execute_on_main_thread(this.drainCb);
          break;
        }
        const b = this.buf;
        const p = this.head;
        const type = b[p]!;
        const size = b[p + 1]! | (b[p + 2]! << 8);
        this.head = p + 3 + size;
        const sink = this.sink;
        if (sink) {
          this.delivered++;
          sink(type, b.subarray(p + 3, p + 3 + size), size);
        } else this.dropped++;
      }
    } finally {
      this.draining = false;
      if (this.head >= this.tail) {
        this.head = 0;
        this.tail = 0;
      } else if (!this.posted) {
        // the sink threw: keep delivering what is left on a later turn
        this.posted = true;
        this.run_loop.execute_on_main_thread(this.drainCb);
      }
    }
  }
}
