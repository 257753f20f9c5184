/**
 * Pacer: one direction of a UART-paced byte stream. Chunks leave no faster than `baud` / 10 bytes
 * per second (8N1: a start bit, 8 data bits, a stop bit); timing comes from the run loop's timers,
 * so on a VirtualRunLoop it is exact and instant.
 *
 * The sink may refuse more (return false, as net.Socket.write does when its buffer is full): the
 * line then stops after that chunk, as a UART does when the far side deasserts its RTS, until
 * `unblock()`. The pacer never drops bytes; its owner bounds what it pushes (see `pending`).
 */
import { Timer, type RunLoop } from '../../src/core/run-loop.js';

/** Takes a chunk (valid during the call only); false = take no more until unblock(). */
export type PacerSink = (chunk: Uint8Array) => boolean | void;

export class Pacer {
  private readonly queue: Uint8Array[] = [];
  private head_off = 0;
  /** Bytes not yet handed to the sink (including the chunk on the line). */
  private queued = 0;
  private inflight: Uint8Array | null = null;
  private idle = true;
  private blocked = false;
  private busy_until = 0;
  private readonly timer: Timer;
  /** Baud rate changes that take effect once this many more bytes have left. */
  private readonly changes: Array<{ after: number; baud: number }> = [];
  private sent = 0;

  constructor(
    private readonly run_loop: RunLoop,
    public baud: number,
    private readonly sink: PacerSink,
    private readonly on_drain?: () => void,
  ) {
    this.timer = new Timer(() => this.pump());
  }

  /** Bytes pushed and not yet handed to the sink. */
  get pending(): number {
    return this.queued;
  }

  /** Bytes handed to the sink so far. */
  get total_sent(): number {
    return this.sent;
  }

  /** Whether the sink refused more and the line is stopped until unblock(). */
  get is_blocked(): boolean {
    return this.blocked;
  }

  /** Queue `bytes` (kept by reference: the caller must not reuse them). */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.queue.push(bytes);
    this.queued += bytes.length;
    if (!this.timer.active) this.pump();
  }

  /** Switch to `baud` once everything queued so far has left. */
  change_after_queued(baud: number): void {
    this.changes.push({ after: this.sent + this.queued, baud });
  }

  /** The sink takes bytes again: the line restarts now. */
  unblock(): void {
    if (!this.blocked) return;
    this.blocked = false;
    if (!this.timer.active) this.pump();
  }

  stop(): void {
    this.run_loop.remove_timer(this.timer);
    this.queue.length = 0;
    this.head_off = 0;
    this.queued = 0;
    this.inflight = null;
    this.blocked = false;
    this.idle = true;
  }

  private pump(): void {
    if (this.blocked) return;
    const now = this.run_loop.get_time_ms();
    while (this.queued > 0) {
      if (!this.inflight) {
        // the next chunk goes on the line; its last byte is out when busy_until is reached
        const first = this.queue[0]!;
        const per_ms = this.baud / 10 / 1000;
        const size = Math.max(1, Math.min(256, Math.floor(per_ms * 4)));
        const n = Math.min(size, first.length - this.head_off);
        this.inflight = first.subarray(this.head_off, this.head_off + n);
        this.head_off += n;
        if (this.head_off >= first.length) {
          this.queue.shift();
          this.head_off = 0;
        }
        // a busy line continues where the previous chunk ended, even when the timer ran late
        if (this.idle) this.busy_until = now;
        this.idle = false;
        this.busy_until += n / per_ms;
      }
      if (this.busy_until > now) break;
      const chunk = this.inflight;
      this.inflight = null;
      this.queued -= chunk.length;
      this.sent += chunk.length;
      while (this.changes.length && this.sent >= this.changes[0]!.after) this.baud = this.changes.shift()!.baud;
      if (this.sink(chunk) === false) {
        // the far side stopped the line: nothing more leaves until unblock()
        this.blocked = true;
        this.idle = true;
        this.run_loop.remove_timer(this.timer);
        return;
      }
    }
    if (this.queued > 0) {
      this.run_loop.remove_timer(this.timer);
      this.run_loop.set_timer(this.timer, this.busy_until - now);
      this.run_loop.add_timer(this.timer);
    } else {
      this.idle = true;
      this.on_drain?.();
    }
  }
}
