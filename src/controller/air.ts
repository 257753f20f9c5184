/**
 * Connections on the simulated radio: an AirLink joins two controllers (one LinkEnd each, with
 * its own connection handle and role). ACL data a host sends occupies one of its controller's
 * buffers until the packet has crossed the air (latency + size / bandwidth, in order per
 * direction); then the buffer is free again and counted for Number Of Completed Packets.
 *
 * A link that is lost (fault, a controller reset or removed) stops moving data; buffers stay
 * occupied, as on a real link, until the supervision timeout ends the connection.
 */
import { Timer } from '../core/run-loop.js';
import type { BdAddr } from '../core/bytes.js';
import { SpanViews } from '../core/span.js';
import { CLASSIC_AIR_MAX, LE_MAX_OCTETS, LE_MIN_OCTETS } from './defs.js';
import * as C from './codes.js';
import type { ControllerState } from './controller-state.js';

export type AirKind = 'classic' | 'le';

/** One ACL buffer of a controller. */
export class Slot {
  readonly data: Uint8Array;
  len = 0;
  pb = 0;
  deliver_at = 0;
  drop = false;
  corrupt = false;
  /** Bytes already handed to the receiving host (delivery may pause for host credits). */
  off = 0;
  started = false;
  /** Views of data by offset (kept: the same fragments come back slot after slot). */
  readonly views: SpanViews;
  constructor(
    size: number,
    readonly pool: SlotPool,
  ) {
    this.data = new Uint8Array(size);
    this.views = new SpanViews(this.data);
  }
}

/**
 * A controller's ACL (or LE) data buffers: `count` buffers of `size` bytes. A buffer is made the
 * first time it is taken (HCI Reset makes a new pool on every power on, and a boot sends no data),
 * then reused through the free list.
 */
export class SlotPool {
  private readonly free: Slot[] = [];
  /** Buffers never made yet. */
  private unmade: number;
  constructor(
    readonly size: number,
    readonly count: number,
  ) {
    this.unmade = count;
  }
  get available(): number {
    return this.free.length + this.unmade;
  }
  get(): Slot | null {
    const s = this.free.pop();
    if (s !== undefined) return s;
    if (this.unmade === 0) return null;
    this.unmade--;
    return new Slot(this.size, this);
  }
  put(s: Slot): void {
    if (s.pool !== this) return; // from a pool discarded by a reset
    s.drop = false;
    s.corrupt = false;
    s.off = 0;
    s.started = false;
    this.free.push(s);
  }
}

export class LinkEnd {
  /** Completed packets not yet reported in Number Of Completed Packets. */
  completed = 0;
  /** ACL packets given to this end's host and not yet returned (controller-to-host flow control). */
  to_host_outstanding = 0;
  /** Whether this end's controller still knows the connection (false after its reset). */
  present = true;
  /** Classic link policy settings (Write Link Policy Settings). */
  link_policy = 0;
  /** Current mode (0 active, 2 sniff). */
  mode = 0;
  /** LE: max octets this end transmits per air packet (data length). */
  tx_octets = LE_MIN_OCTETS;
  /** LE: the PHY this end transmits on (1 = 1M, 2 = 2M, 3 = Coded). */
  tx_phy = 1;
  /** LE central: a peripheral's Connection Parameters Request waiting for this end's host. */
  param_request: { min: number; max: number; latency: number; timeout: number; timer: Timer } | null = null;
  /** Which host reply this end's controller is waiting for (security procedures). */
  awaiting: '' | 'link_key' | 'io_cap' | 'user_confirm' | 'passkey' | 'pin' | 'ltk' = '';

  constructor(
    readonly controller: ControllerState,
    readonly handle: number,
    public role: number,
    readonly air: AirLink,
  ) {}

  get peer(): LinkEnd {
    return this.air.central === this ? this.air.peripheral : this.air.central;
  }
  /** The address this end's host knows the peer by. */
  get peer_addr(): BdAddr {
    return this === this.air.central ? this.air.peripheral_addr : this.air.central_addr;
  }
  get peer_addr_type(): number {
    return this === this.air.central ? this.air.peripheral_addr_type : this.air.central_addr_type;
  }
}

/** One direction of an AirLink: buffers in flight, delivered in order. */
class Pipe {
  readonly queue: Slot[] = [];
  busy_until = 0;
  last_deliver = 0;
  readonly timer: Timer;
  constructor(
    readonly air: AirLink,
    readonly from: LinkEnd,
    readonly to: LinkEnd,
  ) {
    this.timer = new Timer(() => this.fire());
  }

  push(slot: Slot, extra_delay: number): void {
    const rl = this.air.run_loop;
    const now = rl.get_time_ms();
    const start = Math.max(now, this.busy_until);
    const tx = this.air.bandwidth_bps > 0 ? ((slot.len + 4) * 8 * 1000) / this.air.bandwidth_bps : 0;
    this.busy_until = start + tx;
    const at = Math.max(start + tx + this.air.latency_ms + extra_delay, this.last_deliver);
    this.last_deliver = at;
    slot.deliver_at = at;
    this.queue.push(slot);
    if (this.queue.length === 1) this.arm();
  }

  private arm(): void {
    const head = this.queue[0];
    if (!head || this.air.lost || !this.air.alive) return;
    const rl = this.air.run_loop;
    rl.remove_timer(this.timer);
    rl.set_timer(this.timer, head.deliver_at - rl.get_time_ms());
    rl.add_timer(this.timer);
  }

  private fire(): void {
    const air = this.air;
    const now = air.run_loop.get_time_ms();
    while (this.queue.length && !air.lost && air.alive) {
      const slot = this.queue[0]!;
      if (slot.deliver_at > now) break;
      // with controller-to-host flow control the receiver's host may have no room: the rest of
      // the packet waits on the air, and the sender's buffer stays in use
      if (!slot.drop && this.to.present && !deliver_to_host(air, this.to, slot, this)) return;
      this.queue.shift();
      slot.pool.put(slot);
      if (this.from.present) {
        this.from.completed++;
        this.from.controller.air.schedule_completed_packets();
      }
    }
    this.arm();
  }

  /** Try again (the receiving host returned buffers). */
  rearm(): void {
    if (this.queue.length === 0 || this.air.lost || !this.air.alive) return;
    const rl = this.air.run_loop;
    rl.remove_timer(this.timer);
    rl.set_timer(this.timer, Math.max(0, this.queue[0]!.deliver_at - rl.get_time_ms()));
    rl.add_timer(this.timer);
  }

  /** Free every buffer in flight (disconnection): no completion is reported for them. */
  flush(): void {
    this.air.run_loop.remove_timer(this.timer);
    for (const s of this.queue) s.pool.put(s);
    this.queue.length = 0;
  }
}

/** ACL data length per packet to `to`'s host: the air packet size, or less if its host asked. */
function fragment_size(air: AirLink, to: LinkEnd): number {
  const air_max = air.kind === 'le' ? Math.min(to.peer.tx_octets, LE_MAX_OCTETS) : CLASSIC_AIR_MAX;
  return to.controller.air.host_fragment_size(air_max);
}

/**
 * Hand `slot` to `to`'s host in packets of the host's fragment size, as far as the host has
 * room; returns true once all of it was delivered.
 */
function deliver_to_host(air: AirLink, to: LinkEnd, slot: Slot, pipe: Pipe): boolean {
  if (slot.corrupt && slot.len > 0 && !slot.started) {
    // flip bits in the last payload byte: the data arrives, but wrong
    slot.data[slot.len - 1]! ^= 0xa5;
  }
  const frag = fragment_size(air, to);
  while (!slot.started || slot.off < slot.len) {
    if (!to.controller.air.may_deliver(pipe)) return false;
    const pb = slot.started || slot.pb === 0x01 ? 0x01 : 0x02;
    const n = Math.min(frag, slot.len - slot.off);
    to.controller.air.acl_to_host(to.handle, pb, slot.views.view(slot.off, n), 0, n);
    slot.off += n;
    slot.started = true;
  }
  return true;
}

export interface AirOptions {
  kind: AirKind;
  latency_ms: number;
  bandwidth_bps: number;
}

/** A connection between two controllers. */
export class AirLink {
  readonly kind: AirKind;
  latency_ms: number;
  bandwidth_bps: number;
  central!: LinkEnd;
  peripheral!: LinkEnd;
  central_addr: BdAddr = new Uint8Array(6);
  peripheral_addr: BdAddr = new Uint8Array(6);
  central_addr_type = 0;
  peripheral_addr_type = 0;
  alive = true;
  lost = false;
  private pipes: Pipe[] = [];
  private readonly timers = new Set<Timer>();
  private supervision: Timer | null = null;
  /** Run-loop time at which the supervision timeout ends this lost link (Infinity: never). */
  private ends_at = Infinity;

  // classic
  /** Link supervision timeout in slots (0.625 ms), set by the central. */
  supervision_timeout = 0x7d00;
  authenticated = false;
  link_key: Uint8Array | null = null;
  key_type = 0;
  /** 0 off, 1 E0 / AES-CCM (LE), 2 AES-CCM (BR/EDR secure connections). */
  encryption = 0;
  encryption_pending = false;
  /** Security procedure in progress (security.ts). */
  sec: unknown = null;

  // LE
  interval = 0;
  latency = 0;
  timeout = 0;
  ltk: Uint8Array | null = null;

  constructor(
    readonly run_loop: import('../core/run-loop.js').RunLoop,
    opts: AirOptions,
  ) {
    this.kind = opts.kind;
    this.latency_ms = opts.latency_ms;
    this.bandwidth_bps = opts.bandwidth_bps;
  }

  /** Attach the two ends (central first) once their handles are known. */
  attach(central: LinkEnd, peripheral: LinkEnd): void {
    this.central = central;
    this.peripheral = peripheral;
    this.pipes = [new Pipe(this, central, peripheral), new Pipe(this, peripheral, central)];
  }

  pipe_from(end: LinkEnd): Pipe {
    return this.pipes[end === this.central ? 0 : 1]!;
  }

  /** Run `fn` after `ms` unless the link is gone (or lost, unless `even_if_lost`). */
  after(ms: number, fn: () => void, even_if_lost = false): Timer {
    const t = new Timer(() => {
      this.timers.delete(t);
      if (!this.alive || (this.lost && !even_if_lost)) return;
      fn();
    });
    this.timers.add(t);
    this.run_loop.set_timer(t, ms);
    this.run_loop.add_timer(t);
    return t;
  }

  cancel(t: Timer | null): void {
    if (!t) return;
    this.timers.delete(t);
    this.run_loop.remove_timer(t);
  }

  /** One air message delay (LMP / LL PDU). */
  lmp(fn: () => void): Timer {
    return this.after(this.latency_ms, fn);
  }

  /** Supervision timeout in ms for this link. */
  supervision_ms(): number {
    return this.kind === 'le' ? this.timeout * 10 : this.supervision_timeout * 0.625;
  }

  /**
   * The radio link is gone (out of range, the peer vanished): nothing moves any more; after the
   * supervision timeout both remaining ends see Disconnection Complete with Connection Timeout.
   */
  lose(): void {
    if (!this.alive || this.lost) return;
    this.lost = true;
    const ms = this.supervision_ms();
    if (!Number.isFinite(ms)) return;
    this.ends_at = this.run_loop.get_time_ms() + ms;
    this.supervision = this.after(
      ms,
      () => this.disconnect(C.ERROR_CODE_CONNECTION_TIMEOUT, C.ERROR_CODE_CONNECTION_TIMEOUT),
      true,
    );
  }

  /** Time left until a lost link ends by supervision timeout (0 if ended, Infinity if never). */
  ends_in_ms(): number {
    if (!this.alive) return 0;
    return Math.max(0, this.ends_at - this.run_loop.get_time_ms());
  }

  /**
   * End the connection: free buffers in flight, forget the handles, and report Disconnection
   * Complete to each end still present with its reason.
   */
  disconnect(central_reason: number, peripheral_reason: number): void {
    if (!this.alive) return;
    this.alive = false;
    for (const t of this.timers) this.run_loop.remove_timer(t);
    this.timers.clear();
    for (const p of this.pipes) p.flush();
    for (const [end, reason] of [
      [this.central, central_reason],
      [this.peripheral, peripheral_reason],
    ] as const) {
      end.completed = 0;
      end.awaiting = '';
      if (!end.present) continue;
      end.present = false;
      end.controller.air.connection_closed(end, reason);
    }
    this.sec = null;
  }

  /** Queue a host's ACL packet (already in a slot) for the air. */
  send(from: LinkEnd, slot: Slot, extra_delay: number): void {
    this.pipe_from(from).push(slot, extra_delay);
  }

  /** ACL buffers of `end`'s controller currently in flight on this link. */
  in_flight(end: LinkEnd): number {
    return this.pipe_from(end).queue.length;
  }
}

/** Create the two ends of a new AirLink (central first) and register them with both controllers. */
export function join_controllers(air: AirLink, central: ControllerState, peripheral: ControllerState): [LinkEnd, LinkEnd] | null {
  const hc = central.alloc_handle();
  const hp = peripheral.alloc_handle();
  if (hc < 0 || hp < 0) return null;
  const ce = new LinkEnd(central, hc, 0, air);
  const pe = new LinkEnd(peripheral, hp, 1, air);
  air.attach(ce, pe);
  central.connections.set(hc, ce);
  peripheral.connections.set(hp, pe);
  return [ce, pe];
}
