/**
 * H5 link layer (Core spec Vol 4 Part D 6-8): link establishment, reliable packets with sequence
 * numbers and acknowledgements over a sliding window, retransmission, pure ACKs, peer-reset
 * detection. Sans-I/O: bytes come in through `feed`, go out through `on_write`, time comes from
 * the injected RunLoop (its timers; no setTimeout).
 *
 * Link establishment (Part D 8): Uninitialized sends SYNC every `sync_ms` and answers SYNC with
 * SYNC RESPONSE; a SYNC RESPONSE moves to Initialized, which sends CONFIG every `config_ms` and
 * answers SYNC and CONFIG; a CONFIG RESPONSE moves to Active. The host's CONFIG carries its config
 * field (window, OOF flow control, data integrity check, version) and the controller's CONFIG
 * RESPONSE the combination both use (smaller window and version, each option only if both offer
 * it; no field = window 1, no OOF, no DIC). In role 'controller' the link answers that way and
 * goes Active on a CONFIG RESPONSE only once it has answered the host's CONFIG. A SYNC received
 * in Active means the peer restarted: the link drops its queues, emits `{kind: 'reset'}` and starts
 * link establishment again (the owner resets the layers above).
 *
 * Reliable packets (HCI command, ACL, event, ISO, vendor: `reliable_types`) get sequence numbers
 * 0..7 and wait in one of `window` fixed slots until acknowledged. Every packet but a link control
 * message carries the acknowledgement number (the next sequence number expected); a received
 * reliable packet is acknowledged by the next packet sent, or by a pure ACK sent at the end of the
 * `feed` call that received it. Out-of-order and repeated packets are dropped and acknowledged
 * again. When nothing has been acknowledged for `retransmit_ms`, every unacknowledged packet is
 * sent again, in order (go-back-N). SCO packets are unreliable: sent at once, never repeated.
 *
 * Buffers: received packets are handed to `on_packet(type, buffer, size)` and outgoing bytes to
 * `on_write(bytes)`; both are views of fixed buffers valid only during the call (copy to keep).
 * `on_write` must not call `feed` of the same link synchronously (post it to the run loop).
 */
import { Timer, type RunLoop } from '../core/run-loop.js';
import {
  H5_ACK_PACKET,
  H5_CONFIG,
  H5_CONFIG_RESPONSE,
  H5_DEFAULT_CONFIG,
  H5_FRAME_OK,
  H5_FRAME_STATUS_NAMES,
  H5_HEADER_SIZE,
  H5_LINK_CONFIG,
  H5_LINK_CONFIG_RESPONSE,
  H5_LINK_CONTROL_PACKET,
  H5_LINK_SYNC,
  H5_LINK_SYNC_RESPONSE,
  H5_LINK_WAKEUP,
  H5_MAX_PAYLOAD,
  H5_SYNC,
  H5_SYNC_RESPONSE,
  H5_WOKEN,
  H5_XOFF,
  H5_XON,
  H5SlipDecoder,
  h5_config_combine,
  h5_config_decode,
  h5_config_encode,
  h5_encoded_size_max,
  h5_frame_check,
  h5_frame_encode,
  h5_header_ack,
  h5_header_dic,
  h5_header_length,
  h5_header_reliable,
  h5_header_seq,
  h5_header_type,
  h5_link_message,
  type H5Config,
} from './h5.js';

export const H5_LINK_UNINITIALIZED = 0;
export const H5_LINK_INITIALIZED = 1;
export const H5_LINK_ACTIVE = 2;
const STATE_NAMES = ['UNINITIALIZED', 'INITIALIZED', 'ACTIVE'];

export type H5Role = 'host' | 'controller';

export type H5LinkEvent =
  /** Link established; `config` is what both sides use. */
  | { kind: 'active'; config: H5Config }
  /** The peer restarted (SYNC while Active): queued packets were dropped, link establishment restarts. */
  | { kind: 'reset'; reason: string }
  /** A received frame was dropped (the link recovers by retransmission); informational. */
  | { kind: 'error'; reason: string; position: number }
  /** Window space is free again after a send() was refused. */
  | { kind: 'can_send' }
  /** The peer sent XOFF (true) / XON (false) (out-of-frame flow control). */
  | { kind: 'flow'; xoff: boolean };

export interface H5LinkOptions {
  run_loop: RunLoop;
  /** 'host' (default) sends its config in CONFIG; 'controller' answers with the combination. */
  role?: H5Role;
  /** What this side offers. Default: window 4, no OOF flow control, data integrity check, version 0. */
  config?: Partial<H5Config>;
  /** SYNC period while Uninitialized (default 250 ms). */
  sync_ms?: number;
  /** CONFIG period while Initialized (default 250 ms). */
  config_ms?: number;
  /** Retransmission timeout (default 250 ms; see h5_retransmit_ms for a value from the baud rate). */
  retransmit_ms?: number;
  /** Packet types sent reliably (default HCI command 1, ACL 2, event 4, ISO 5, vendor 14). */
  reliable_types?: readonly number[];
  on_packet: (packet_type: number, packet: Uint8Array, size: number) => void;
  on_write: (bytes: Uint8Array) => void;
  on_event?: (event: H5LinkEvent) => void;
  /** State-change and diagnostic lines (built only when set). */
  log?: (line: string) => void;
}

export interface H5LinkStats {
  frames_in: number;
  frames_dropped: number;
  packets_in: number;
  packets_out: number;
  retransmits: number;
  /** Retransmissions started by a pure ACK that acknowledged nothing new (a frame was lost). */
  fast_retransmits: number;
  out_of_order: number;
  acks_sent: number;
  resets: number;
  /** Most reliable packets sent and not yet acknowledged at any time. */
  max_in_flight: number;
}

/** Retransmission timeout: three times the time to send the largest frame at `baudrate` (8N1), plus 50 ms slack. */
export function h5_retransmit_ms(baudrate: number, max_payload = H5_MAX_PAYLOAD): number {
  const bits = (H5_HEADER_SIZE + max_payload + 2 + 2) * 10;
  return Math.ceil((3 * bits * 1000) / Math.max(1, baudrate)) + 50;
}

export class H5Link {
  private readonly loop: RunLoop;
  private readonly role: H5Role;
  private readonly own: H5Config;
  private readonly sync_ms: number;
  private readonly config_ms: number;
  private readonly retransmit_ms: number;
  private readonly reliable = new Uint8Array(16);
  private readonly on_packet: (packet_type: number, packet: Uint8Array, size: number) => void;
  private readonly on_write: (bytes: Uint8Array) => void;
  private readonly on_event: (event: H5LinkEvent) => void;
  private readonly log: ((line: string) => void) | undefined;

  private readonly decoder: H5SlipDecoder;
  private readonly tx = new Uint8Array(h5_encoded_size_max(H5_MAX_PAYLOAD));
  private readonly ctl = new Uint8Array(3);
  private readonly one = new Uint8Array(1);
  /** Window slots indexed by sequence number (window <= 7, so no two live packets share one). */
  private readonly slots: Uint8Array[] = [];
  private readonly slot_type = new Uint8Array(8);
  private readonly slot_size = new Uint16Array(8);
  // handlers shared by every link, the link as context (a closure assigned in the constructor kept
  // every link, and what it references, reachable for V8's young-generation GC after it died)
  private readonly link_timer = new Timer(H5Link.linkTimerFired, this);
  private readonly retx_timer = new Timer(H5Link.retransmitTimerFired, this);

  private link_state = H5_LINK_UNINITIALIZED;
  private opened = false;
  private feeding = false;
  private cfg: H5Config = { ...H5_DEFAULT_CONFIG };
  private config_known = false;
  private tx_base = 0; // oldest unacknowledged sequence number
  private tx_unsent = 0; // next sequence number to put on the line
  private tx_next = 0; // next sequence number to assign
  private rx_expected = 0; // our acknowledgement number
  private ack_pending = false;
  private blocked = false;
  private peer_xoff = false;
  /** A fast retransmission was made since the last acknowledgement that moved the window. */
  private fast_done = false;

  readonly stats: H5LinkStats = {
    frames_in: 0,
    frames_dropped: 0,
    packets_in: 0,
    packets_out: 0,
    retransmits: 0,
    fast_retransmits: 0,
    out_of_order: 0,
    acks_sent: 0,
    resets: 0,
    max_in_flight: 0,
  };

  constructor(opts: H5LinkOptions) {
    this.loop = opts.run_loop;
    this.role = opts.role ?? 'host';
    const c = opts.config ?? {};
    this.own = {
      window: Math.min(7, Math.max(1, (c.window ?? 4) | 0)),
      oof: c.oof ?? false,
      dic: c.dic ?? true,
      version: (c.version ?? 0) & 7,
    };
    this.sync_ms = opts.sync_ms ?? 250;
    this.config_ms = opts.config_ms ?? 250;
    this.retransmit_ms = opts.retransmit_ms ?? 250;
    for (const t of opts.reliable_types ?? [1, 2, 4, 5, 14]) if (t > 0 && t < 15) this.reliable[t] = 1;
    this.on_packet = opts.on_packet;
    this.on_write = opts.on_write;
    this.on_event = opts.on_event ?? (() => {});
    this.log = opts.log;
    for (let i = 0; i < 8; i++) this.slots.push(new Uint8Array(H5_MAX_PAYLOAD));
    this.decoder = new H5SlipDecoder({
      on_frame: (frame, length) => this.onFrame(frame, length),
      on_error: (reason, position) => this.dropped(reason === 1 ? 'bad SLIP escape' : 'frame too long', position),
      on_flow: (xoff) => this.onFlow(xoff),
    });
  }

  /** Link state: H5_LINK_UNINITIALIZED, _INITIALIZED or _ACTIVE. */
  get state(): number {
    return this.link_state;
  }
  get state_name(): string {
    return STATE_NAMES[this.link_state]!;
  }
  /** The configuration in use (meaningful once Active). */
  get config(): Readonly<H5Config> {
    return this.cfg;
  }
  /** Reliable packets queued or sent and not yet acknowledged. */
  get unacked(): number {
    return (this.tx_next - this.tx_base) & 7;
  }
  /** Reliable packets on the line and not yet acknowledged. */
  get in_flight(): number {
    return (this.tx_unsent - this.tx_base) & 7;
  }
  /** Bytes held in fixed buffers (constant: for leak checks). */
  get buffer_bytes(): number {
    return this.tx.length + this.decoder.capacity + this.slots.length * H5_MAX_PAYLOAD;
  }

  /** Start link establishment (sends SYNC now and every sync_ms). */
  open(): void {
    this.opened = true;
    this.restart('open');
  }

  /** Stop: timers removed, queues dropped, nothing more is written. */
  close(): void {
    this.opened = false;
    this.loop.remove_timer(this.link_timer);
    this.loop.remove_timer(this.retx_timer);
    this.clearQueues();
    this.setState(H5_LINK_UNINITIALIZED, 'close');
  }

  /** Drop the queues and start link establishment again (e.g. after resetting the peer). */
  restart(why = 'restart'): void {
    this.loop.remove_timer(this.retx_timer);
    this.clearQueues();
    this.setState(H5_LINK_UNINITIALIZED, why);
    if (!this.opened) return;
    this.sendControl(H5_SYNC, -1);
    this.armLink(this.sync_ms);
  }

  /** Whether send() of a reliable packet would be accepted now. */
  can_send_now(): boolean {
    return this.link_state === H5_LINK_ACTIVE && this.unacked < this.cfg.window;
  }

  /**
   * Queue (reliable types) or send (unreliable) a packet. Returns false when the link is not
   * Active, the window is full (an event {kind: 'can_send'} follows when space frees), the peer
   * sent XOFF (unreliable packets), or the arguments are out of range (type 0 and 15 are the
   * link's own; size 0..4095).
   */
  send(packet_type: number, packet: Uint8Array, size: number): boolean {
    if (this.link_state !== H5_LINK_ACTIVE) return false;
    if (!Number.isInteger(packet_type) || packet_type <= 0 || packet_type >= 15) return false;
    if (!Number.isInteger(size) || size < 0 || size > H5_MAX_PAYLOAD || size > packet.length) return false;
    if (!this.reliable[packet_type]) {
      if (this.peer_xoff) return false;
      this.write(0, false, packet_type, packet, size);
      this.stats.packets_out++;
      return true;
    }
    if (this.unacked >= this.cfg.window) {
      this.blocked = true;
      return false;
    }
    const seq = this.tx_next;
    this.slots[seq]!.set(packet.subarray(0, size));
    this.slot_type[seq] = packet_type;
    this.slot_size[seq] = size;
    this.tx_next = (seq + 1) & 7;
    this.stats.packets_out++;
    if (this.unacked >= this.cfg.window) this.blocked = true;
    this.transmitPending();
    return true;
  }

  /**
   * Out-of-frame flow control towards the peer: write XOFF (stop = true) or XON. Returns false
   * unless OOF flow control was negotiated and the link is Active.
   */
  set_rx_flow(stop: boolean): boolean {
    if (this.link_state !== H5_LINK_ACTIVE || !this.cfg.oof) return false;
    this.one[0] = stop ? H5_XOFF : H5_XON;
    this.on_write(this.one);
    return true;
  }

  /** Bytes from the line. */
  feed(chunk: Uint8Array, offset = 0, length = chunk.length - offset): void {
    if (this.feeding) throw new Error('H5Link.feed called from inside its own callback (post it to the run loop)');
    this.feeding = true;
    try {
      this.decoder.feed(chunk, offset, length);
    } finally {
      this.feeding = false;
    }
    if (this.ack_pending && this.link_state === H5_LINK_ACTIVE) this.sendAck();
  }

  // -------------------------------------------------------------------------------------------

  private setState(to: number, why: string): void {
    const from = this.link_state;
    this.link_state = to;
    const log = this.log;
    if (log && from !== to) log(`h5 ${this.role}: ${STATE_NAMES[from]} -> ${STATE_NAMES[to]} (${why})`);
  }

  private clearQueues(): void {
    this.tx_base = this.tx_unsent = this.tx_next = 0;
    this.rx_expected = 0;
    this.ack_pending = false;
    this.blocked = false;
    this.fast_done = false;
    this.peer_xoff = false;
    this.config_known = false;
    this.cfg = { ...H5_DEFAULT_CONFIG };
    this.decoder.oof = false;
  }

  private armLink(ms: number): void {
    this.loop.remove_timer(this.link_timer);
    this.loop.set_timer(this.link_timer, ms);
    this.loop.add_timer(this.link_timer);
  }

  private armRetransmit(): void {
    this.loop.remove_timer(this.retx_timer);
    this.loop.set_timer(this.retx_timer, this.retransmit_ms);
    this.loop.add_timer(this.retx_timer);
  }

  private static linkTimerFired(this: void, t: Timer): void {
    (t.context as H5Link).onLinkTimer();
  }

  private static retransmitTimerFired(this: void, t: Timer): void {
    (t.context as H5Link).onRetransmitTimer();
  }

  private onLinkTimer(): void {
    if (!this.opened) return;
    if (this.link_state === H5_LINK_UNINITIALIZED) {
      this.sendControl(H5_SYNC, -1);
      this.armLink(this.sync_ms);
    } else if (this.link_state === H5_LINK_INITIALIZED) {
      this.sendConfig();
      this.armLink(this.config_ms);
    }
  }

  private onRetransmitTimer(): void {
    if (this.link_state !== H5_LINK_ACTIVE || this.tx_unsent === this.tx_base) return;
    this.stats.retransmits++;
    const log = this.log;
    if (log) log(`h5 ${this.role}: retransmit ${this.in_flight} from seq ${this.tx_base}`);
    this.tx_unsent = this.tx_base;
    this.fast_done = false;
    this.transmitPending();
    if (!this.retx_timer.active) this.armRetransmit();
  }

  private sendConfig(): void {
    // the host offers its config; the controller's CONFIG carries none (it answers the host's)
    this.sendControl(H5_CONFIG, this.role === 'host' ? h5_config_encode(this.own) : -1);
  }

  /** A link control message with an optional config field (field < 0: none). */
  private sendControl(msg: readonly number[], field: number): void {
    const c = this.ctl;
    c[0] = msg[0]!;
    c[1] = msg[1]!;
    let n = 2;
    if (field >= 0) c[n++] = field;
    const active = this.link_state === H5_LINK_ACTIVE;
    const n_out = h5_frame_encode(
      this.tx,
      0,
      0,
      0,
      active && this.cfg.dic,
      false,
      H5_LINK_CONTROL_PACKET,
      c,
      0,
      n,
      active && this.cfg.oof,
    );
    this.on_write(this.tx.subarray(0, n_out));
  }

  private write(seq: number, reliable: boolean, type: number, payload: Uint8Array, size: number): void {
    const n = h5_frame_encode(this.tx, 0, seq, this.rx_expected, this.cfg.dic, reliable, type, payload, 0, size, this.cfg.oof);
    this.ack_pending = false;
    this.on_write(this.tx.subarray(0, n));
  }

  private sendAck(): void {
    if (this.peer_xoff) return;
    this.stats.acks_sent++;
    this.write(0, false, H5_ACK_PACKET, this.ctl, 0);
  }

  private transmitPending(): void {
    let sent = false;
    while (this.tx_unsent !== this.tx_next && !this.peer_xoff && this.link_state === H5_LINK_ACTIVE) {
      const seq = this.tx_unsent;
      this.tx_unsent = (seq + 1) & 7;
      this.write(seq, true, this.slot_type[seq]!, this.slots[seq]!, this.slot_size[seq]!);
      sent = true;
    }
    const f = this.in_flight;
    if (f > this.stats.max_in_flight) this.stats.max_in_flight = f;
    if (sent && !this.retx_timer.active) this.armRetransmit();
  }

  private onFlow(xoff: boolean): void {
    this.peer_xoff = xoff;
    this.on_event({ kind: 'flow', xoff });
    if (!xoff) {
      this.transmitPending();
      if (this.ack_pending && this.link_state === H5_LINK_ACTIVE) this.sendAck();
    }
  }

  private dropped(reason: string, position: number): void {
    this.stats.frames_dropped++;
    this.on_event({ kind: 'error', reason, position });
  }

  private onFrame(frame: Uint8Array, length: number): void {
    const status = h5_frame_check(frame, length);
    if (status !== H5_FRAME_OK) {
      this.dropped(H5_FRAME_STATUS_NAMES[status]!, this.decoder.bytes_fed);
      return;
    }
    this.stats.frames_in++;
    if (!this.opened) return;
    const type = h5_header_type(frame);
    const size = h5_header_length(frame);
    if (type === H5_LINK_CONTROL_PACKET) {
      this.onLinkControl(frame, size);
      return;
    }
    if (this.link_state !== H5_LINK_ACTIVE) return;
    const reliable = h5_header_reliable(frame);
    if (reliable && this.cfg.dic && !h5_header_dic(frame)) {
      this.dropped('reliable packet without data integrity check', this.decoder.bytes_fed);
      return;
    }
    const moved = this.onAck(h5_header_ack(frame));
    if (this.link_state !== H5_LINK_ACTIVE) return; // an event handler closed or restarted the link
    if (!moved && !reliable && type === H5_ACK_PACKET) this.fastRetransmit();
    if (reliable) {
      this.ack_pending = true;
      const seq = h5_header_seq(frame);
      if (seq !== this.rx_expected || type === H5_ACK_PACKET) {
        this.stats.out_of_order++;
        return;
      }
      this.rx_expected = (seq + 1) & 7;
    } else if (type === H5_ACK_PACKET) {
      return;
    }
    this.stats.packets_in++;
    this.on_packet(type, frame.subarray(H5_HEADER_SIZE, H5_HEADER_SIZE + size), size);
  }

  /**
   * A pure ACK that moves nothing while packets are in flight: the peer received a reliable packet
   * out of order or again (it acknowledges those with a pure ACK), so one before it was lost. Go
   * back to the oldest unacknowledged packet now instead of at the timer; at most once until an
   * acknowledgement moves the window (the ACKs of the rest of that window follow).
   */
  private fastRetransmit(): void {
    if (this.fast_done || this.in_flight === 0) return;
    this.fast_done = true;
    this.stats.fast_retransmits++;
    this.stats.retransmits++;
    this.tx_unsent = this.tx_base;
    this.transmitPending();
    this.armRetransmit();
  }

  /** Returns whether the acknowledgement moved the window. */
  private onAck(ack: number): boolean {
    const acked = (ack - this.tx_base) & 7;
    if (acked === 0 || acked > this.in_flight) return false;
    this.fast_done = false;
    this.tx_base = ack;
    if (this.tx_base === this.tx_unsent) this.loop.remove_timer(this.retx_timer);
    else this.armRetransmit();
    if (this.blocked && this.unacked < this.cfg.window) {
      this.blocked = false;
      this.on_event({ kind: 'can_send' });
    }
    return true;
  }

  private onLinkControl(frame: Uint8Array, size: number): void {
    const msg = h5_link_message(frame, H5_HEADER_SIZE, size);
    const field = size === 3 ? frame[H5_HEADER_SIZE + 2]! : -1;
    const state = this.link_state;
    switch (msg) {
      case H5_LINK_SYNC:
        if (state === H5_LINK_ACTIVE) {
          this.stats.resets++;
          this.restart('peer sent SYNC: it restarted');
          this.on_event({ kind: 'reset', reason: 'peer sent SYNC while the link was active (peer restarted)' });
          if (this.link_state !== H5_LINK_UNINITIALIZED || !this.opened) return;
        }
        this.sendControl(H5_SYNC_RESPONSE, -1);
        return;
      case H5_LINK_SYNC_RESPONSE:
        if (state !== H5_LINK_UNINITIALIZED) return;
        this.setState(H5_LINK_INITIALIZED, 'sync response');
        this.sendConfig();
        this.armLink(this.config_ms);
        return;
      case H5_LINK_CONFIG: {
        if (state === H5_LINK_UNINITIALIZED) return;
        const cfg = field >= 0 ? h5_config_combine(h5_config_decode(field), this.own) : { ...H5_DEFAULT_CONFIG };
        if (this.role === 'controller' && state !== H5_LINK_ACTIVE) {
          this.cfg = cfg;
          this.config_known = true;
        }
        this.sendControl(H5_CONFIG_RESPONSE, field >= 0 ? h5_config_encode(state === H5_LINK_ACTIVE ? this.cfg : cfg) : -1);
        return;
      }
      case H5_LINK_CONFIG_RESPONSE:
        if (state !== H5_LINK_INITIALIZED) return;
        if (this.role === 'host') {
          this.cfg = field >= 0 ? h5_config_combine(h5_config_decode(field), this.own) : { ...H5_DEFAULT_CONFIG };
        } else if (!this.config_known) {
          return; // wait for the host's CONFIG (it repeats it)
        }
        this.activate();
        return;
      case H5_LINK_WAKEUP:
        if (state === H5_LINK_ACTIVE) this.sendControl(H5_WOKEN, -1);
        return;
      default:
        return; // WOKEN, SLEEP, unknown: nothing to do
    }
  }

  private activate(): void {
    this.loop.remove_timer(this.link_timer);
    this.tx_base = this.tx_unsent = this.tx_next = 0;
    this.rx_expected = 0;
    this.decoder.oof = this.cfg.oof;
    const c = this.cfg;
    this.setState(
      H5_LINK_ACTIVE,
      `config response: window ${c.window}, oof ${c.oof ? 1 : 0}, dic ${c.dic ? 1 : 0}, version ${c.version}`,
    );
    this.on_event({ kind: 'active', config: { ...c } });
  }
}
