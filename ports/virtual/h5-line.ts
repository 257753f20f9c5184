/**
 * The virtual controller's side of H5 (`bthost controller --h5`): the same H5Link as the host
 * (src/hci/h5-link.ts) in role 'controller', between a connection's bytes and its controller.
 *
 * - Bytes from the host go through `input` (after the line's errors) into the link; packets
 *   it delivers go to the controller.
 * - Packets of the controller go out through `send`; while the link's window is full they wait
 *   here (copied; `pending` bytes, which the session counts as output behind on the line, so the
 *   controller is held before this grows), and leave as acknowledgements free the window.
 * - `restart()` plays a controller that restarts: its link sends SYNC, which the host sees on an
 *   active link (a peer reset).
 *
 * Line errors (`LineErrors`): a share of the bytes of both directions is lost or corrupted,
 * drawn from a seeded mulberry32 generator (the same seed, the same damage): each byte starts a
 * burst with probability rate / burst, and the `burst` bytes from there are all dropped or all
 * corrupted (XOR 0x5a), half of the bursts each. rate 0.01, burst 1: 1 % of the bytes, each
 * alone.
 */
import type { RunLoop } from '../../src/core/run-loop.js';
import { H5Link, type H5LinkEvent } from '../../src/hci/h5-link.js';

export interface LineErrorOptions {
  /** Share of bytes damaged, 0..0.5. */
  rate: number;
  /** Bytes per damage burst (default 1). */
  burst?: number;
  /** Generator seed (default 1). */
  seed?: number;
}

export class LineErrors {
  readonly rate: number;
  readonly burst: number;
  private rng: number;
  private left = 0;
  private drop = false;
  /** Bytes dropped / corrupted so far. */
  dropped = 0;
  corrupted = 0;

  constructor(o: LineErrorOptions) {
    this.rate = o.rate;
    this.burst = Math.max(1, Math.floor(o.burst ?? 1));
    this.rng = (o.seed ?? 1) >>> 0;
  }

  private random(): number {
    let t = (this.rng = (this.rng + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** The bytes as the line delivers them (a new array when anything was damaged, else `bytes`). */
  apply(bytes: Uint8Array): Uint8Array {
    if (this.rate <= 0) return bytes;
    const out = new Uint8Array(bytes.length);
    const p = this.rate / this.burst;
    let n = 0;
    let damaged = false;
    for (let i = 0; i < bytes.length; i++) {
      if (this.left === 0 && this.random() < p) {
        this.left = this.burst;
        this.drop = this.random() < 0.5;
      }
      let b = bytes[i]!;
      if (this.left > 0) {
        this.left--;
        damaged = true;
        if (this.drop) {
          this.dropped++;
          continue;
        }
        this.corrupted++;
        b ^= 0x5a;
      }
      out[n++] = b;
    }
    return damaged ? out.subarray(0, n) : bytes;
  }
}

export interface ControllerH5Options {
  run_loop: RunLoop;
  /** Packets from the host, for the controller. */
  on_packet: (type: number, packet: Uint8Array, size: number) => void;
  /** Bytes for the host (a copy the callee may keep). */
  write: (bytes: Uint8Array) => void;
  /** The host restarted the link (SYNC on an active link): queued output was dropped. */
  on_reset?: () => void;
  /** The window has room again and `pending` went down. */
  on_drain?: () => void;
  errors?: LineErrors | null;
  /** Retransmission timeout (default 250 ms, as the host's). */
  retransmit_ms?: number;
  log?: (line: string) => void;
}

export class ControllerH5 {
  readonly link: H5Link;
  private readonly queue: { type: number; packet: Uint8Array }[] = [];
  private queued = 0;
  /** The line's damage (null: a clean line). */
  readonly errors: LineErrors | null;

  constructor(private readonly o: ControllerH5Options) {
    this.errors = o.errors ?? null;
    this.link = new H5Link({
      run_loop: o.run_loop,
      role: 'controller',
      retransmit_ms: o.retransmit_ms ?? 250,
      on_packet: (type, packet, size) => o.on_packet(type, packet, size),
      on_write: (bytes) => {
        const out = this.errors ? this.errors.apply(bytes) : bytes;
        if (out.length > 0) o.write(out === bytes ? bytes.slice() : out);
      },
      on_event: (ev) => this.onEvent(ev),
      ...(o.log ? { log: o.log } : {}),
    });
  }

  /** Bytes waiting for room in the window. */
  get pending(): number {
    return this.queued;
  }

  open(): void {
    this.link.open();
  }

  close(): void {
    this.link.close();
    this.queue.length = 0;
    this.queued = 0;
  }

  /** The controller restarts: its link starts over with SYNC (the host sees a peer reset). */
  restart(): void {
    this.queue.length = 0;
    this.queued = 0;
    this.link.restart('controller restart');
  }

  /** Bytes from the host. */
  input(bytes: Uint8Array): void {
    const b = this.errors ? this.errors.apply(bytes) : bytes;
    if (b.length > 0) this.link.feed(b, 0, b.length);
  }

  /** A packet for the host: sent when the window has room, else queued in order. */
  send(type: number, packet: Uint8Array, size: number): void {
    if (this.queue.length === 0 && this.link.send(type, packet, size)) return;
    this.queue.push({ type, packet: packet.slice(0, size) });
    this.queued += size;
  }

  private drain(): void {
    let sent = false;
    while (this.queue.length > 0) {
      const q = this.queue[0]!;
      if (!this.link.send(q.type, q.packet, q.packet.length)) break;
      this.queue.shift();
      this.queued -= q.packet.length;
      sent = true;
    }
    if (sent) this.o.on_drain?.();
  }

  private onEvent(ev: H5LinkEvent): void {
    switch (ev.kind) {
      case 'can_send':
      case 'active':
        this.drain();
        return;
      case 'reset':
        this.queue.length = 0;
        this.queued = 0;
        this.o.on_reset?.();
        return;
      default:
        return;
    }
  }
}
