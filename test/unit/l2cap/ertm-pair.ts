/**
 * Two ERTM/streaming engines joined by an in-memory pipe on a VirtualRunLoop: every frame one
 * engine writes is handed to the other after `latency_ms`, unless the seeded loss model drops it
 * or flips one bit (then the FCS discards it). The pump sends at most `per_ms` frames per side
 * and millisecond, like a link with limited buffers.
 */
import { VirtualRunLoop, Timer } from '../../../src/core/run-loop.js';
import { L2capErtm, type L2capErtmParams } from '../../../src/l2cap/l2cap-ertm.js';
import { L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION } from '../../../src/codes/v1.4.js';
import { prng } from './helpers.js';

export interface PairOptions {
  mode?: number;
  fcs?: boolean;
  loss?: number;
  corrupt?: number;
  seed?: number;
  latency_ms?: number;
  per_ms?: number;
  num_rx?: number;
  num_tx?: number;
  mps?: number;
  mtu?: number;
  max_transmit?: number;
}

export class End {
  readonly engine: L2capErtm;
  readonly received: Uint8Array[] = [];
  readonly frames: Uint8Array[] = [];
  failed: string | null = null;
  peer!: End;
  private scheduled = false;
  private readonly out = new Uint8Array(70000);
  private readonly timer: Timer;
  sent_ms = -1;
  sent_in_ms = 0;

  constructor(
    readonly pair: Pair,
    readonly name: string,
  ) {
    this.engine = new L2capErtm(pair.loop, {
      request_send: () => this.schedule(),
      deliver: (sdu, len) => this.received.push(sdu.slice(0, len)),
      fail: (reason) => {
        this.failed = reason;
      },
    });
    this.timer = new Timer(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.pair.loop.set_timer(this.timer, 0);
    this.pair.loop.add_timer(this.timer);
  }

  pump(): void {
    const now = this.pair.loop.get_time_ms();
    if (now !== this.sent_ms) {
      this.sent_ms = now;
      this.sent_in_ms = 0;
    }
    while (this.sent_in_ms < this.pair.per_ms) {
      const n = this.engine.poll(this.out, 0);
      if (n <= 0) return;
      this.sent_in_ms++;
      const frame = this.out.slice(0, n);
      this.frames.push(frame);
      this.pair.transmit(this, frame);
    }
    // out of capacity for this millisecond: try again in the next one
    if (this.engine.has_work()) {
      this.scheduled = true;
      this.pair.loop.set_timer(this.timer, 1);
      this.pair.loop.add_timer(this.timer);
    }
  }
}

export class Pair {
  readonly loop = new VirtualRunLoop();
  readonly a: End;
  readonly b: End;
  readonly rand: () => number;
  readonly per_ms: number;
  dropped = 0;
  corrupted = 0;
  /** Set to hand frames to a test instead of the peer. */
  tap: ((from: End, frame: Uint8Array) => boolean) | null = null;

  constructor(readonly o: PairOptions = {}) {
    this.rand = prng(o.seed ?? 1);
    this.per_ms = o.per_ms ?? 4;
    this.a = new End(this, 'a');
    this.b = new End(this, 'b');
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  params(remote_cid: number): L2capErtmParams {
    const o = this.o;
    const win = o.num_rx ?? 8;
    return {
      mode: o.mode ?? L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION,
      fcs: o.fcs ?? true,
      remote_cid,
      local_mtu: o.mtu ?? 1000,
      remote_mtu: o.mtu ?? 1000,
      local_mps: o.mps ?? 100,
      remote_mps: o.mps ?? 100,
      local_tx_window: win,
      remote_tx_window: win,
      num_rx_buffers: win,
      num_tx_buffers: o.num_tx ?? 12,
      max_transmit: o.max_transmit ?? 10,
      retransmission_timeout_ms: 200,
      monitor_timeout_ms: 1000,
    };
  }

  start(): void {
    for (const [e, cid] of [
      [this.a, 0x41],
      [this.b, 0x40],
    ] as const) {
      const p = this.params(cid);
      e.engine.start(p, new Uint8Array(p.local_mtu + (p.num_rx_buffers + p.num_tx_buffers) * p.local_mps));
    }
  }

  transmit(from: End, frame: Uint8Array): void {
    if (this.tap && this.tap(from, frame)) return;
    const o = this.o;
    if (o.loss && this.rand() < o.loss) {
      this.dropped++;
      return;
    }
    if (o.corrupt && this.rand() < o.corrupt) {
      this.corrupted++;
      const i = 4 + Math.floor(this.rand() * (frame.length - 4));
      frame[i]! ^= 1 << Math.floor(this.rand() * 8);
    }
    const t = new Timer(() => from.peer.engine.receive(frame, 0, 4, frame.length - 4));
    this.loop.set_timer(t, this.o.latency_ms ?? 2);
    this.loop.add_timer(t);
  }
}
