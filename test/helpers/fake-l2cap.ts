/**
 * The one fake L2CAP for unit tests of the layers above L2CAP (SDP server and client, RFCOMM, and
 * later ATT/SM): endpoints on one in-memory "air", each implementing `L2capService`
 * (src/l2cap/l2cap-service.ts) exactly, so a layer under test gets the same typed contract as
 * from the real `L2cap`.
 *
 *   const air = new FakeAir();                    // own queue, drained by air.run()
 *   const air = new FakeAir(run_loop);            // or: posted on a VirtualRunLoop (timers interleave)
 *   const a = new FakeL2cap(air, ADDR_A);         // profile 'v1.4' (default) or 'v1.8'
 *   const b = new FakeL2cap(air, ADDR_B, 'v1.4', { max_mtu: 1691, first_cid: 0x40 });
 *
 * What it models (stable API; other suites build on it):
 * - Events in the endpoint's code profile, built with the profile's builders, delivered as
 *   `(HCI_EVENT_PACKET, 0, event, size)` and data as `(L2CAP_DATA_PACKET, local_cid, sdu, size)`,
 *   always from the queue / run loop, never inside the call that caused them.
 * - Outgoing channels: l2cap_create_channel returns `{ status: 0, local_cid }`; the peer's service
 *   gets L2CAP_EVENT_INCOMING_CONNECTION; l2cap_accept_connection opens both ends
 *   (L2CAP_EVENT_CHANNEL_OPENED to the initiator first, then to the acceptor);
 *   l2cap_decline_connection fails the initiator with status 0x67 (0x63 + result 4, no resources).
 *   No endpoint with that address, or one marked `unreachable`: CHANNEL_OPENED status 0x04 (page
 *   timeout, handle 0xFFFF); no service on the PSM: status 0x65 (0x63 + result 2, PSM refused,
 *   handle 0x000B). Handles are 0x000B, channel ids count up from `first_cid`.
 * - MTUs as real L2CAP: a channel's local MTU is min(requested, max_mtu); l2cap_send longer than
 *   the peer's local MTU -> L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU; unknown cid ->
 *   L2CAP_LOCAL_CID_DOES_NOT_EXIST, known but not open -> ERROR_CODE_COMMAND_DISALLOWED.
 * - Credits / buffers: each channel may have `window` SDUs in flight (sent, not yet delivered);
 *   while they are used up l2cap_send returns BTSTACK_ACL_BUFFERS_FULL, l2cap_can_send_packet_now is
 *   false and a requested L2CAP_EVENT_CAN_SEND_NOW waits until one is delivered. `refuse_sends = n`
 *   additionally refuses the next n sends with BTSTACK_ACL_BUFFERS_FULL (buffer-full simulation).
 * - The zero-copy quartet: l2cap_reserve_packet_buffer (false while reserved; l2cap_send also
 *   returns BTSTACK_ACL_BUFFERS_FULL then, as HCI's one outgoing buffer is taken),
 *   l2cap_get_outgoing_buffer (SDU at index 0), l2cap_send_prepared (releases the buffer whatever
 *   the outcome; counted in `prepared_sends`), l2cap_release_packet_buffer.
 * - l2cap_disconnect closes both ends with L2CAP_EVENT_CHANNEL_CLOSED after the SDUs already in
 *   flight are delivered (the Disconnection Request follows them on the link); `link_loss()`
 *   closes every channel of the endpoint at once.
 * - Recording: `air.sent` holds every SDU sent (`{ from, cid, bytes }`, `from` as
 *   bd_addr_to_str), `calls` the endpoint's calls ('register 3', 'unregister 3', 'create',
 *   'accept', 'decline', 'disconnect'), `channels` the endpoint's live channels by local cid.
 * - Injection: `inject(local_cid, bytes)` delivers raw bytes to the other end of our channel as if
 *   sent (no MTU or buffer checks: malformed-input tests); `rx_buffer` makes every SDU arrive in
 *   one long shared buffer (`size` tells the length), as a real L2CAP hands up views.
 */
import { bd_addr_to_str, type BdAddr } from '../../src/core/bytes.js';
import type { VirtualRunLoop } from '../../src/core/run-loop.js';
import { codes_for, type CodeProfile, type Codes } from '../../src/codes/index.js';
import type { L2capCreateChannelResult, L2capService, L2capServicePacketHandler } from '../../src/l2cap/l2cap-service.js';
import {
  BTSTACK_ACL_BUFFERS_FULL,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_PAGE_TIMEOUT,
  ERROR_CODE_SUCCESS,
  HCI_EVENT_PACKET,
  L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_PSM,
  L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU,
  L2CAP_DATA_PACKET,
  L2CAP_LOCAL_CID_DOES_NOT_EXIST,
  L2CAP_SERVICE_ALREADY_REGISTERED,
  L2CAP_SERVICE_DOES_NOT_EXIST,
} from '../../src/codes/v1.4.js';

/** Status of CHANNEL_OPENED when the acceptor declines: 0x63 + result 0x0004 (no resources). */
const DECLINED = 0x63 + 4;
/** ACL handle of every fake link. */
const HANDLE = 0x000b;

export interface FakeChannel {
  readonly owner: FakeL2cap;
  readonly handler: L2capServicePacketHandler;
  readonly local_cid: number;
  peer: FakeChannel | null;
  readonly psm: number;
  readonly local_mtu: number;
  open: boolean;
  readonly incoming: boolean;
  /** SDUs in flight (sent, not yet delivered). */
  in_flight: number;
  can_send_requested: boolean;
}

export interface SentFrame {
  /** Sender's address (bd_addr_to_str). */
  from: string;
  /** Sender's local cid. */
  cid: number;
  bytes: Uint8Array;
}

export interface FakeL2capOptions {
  /** Incoming MTU the endpoint offers (l2cap_max_mtu); default 1017. */
  max_mtu?: number;
  /** First local cid handed out; default 0x41. */
  first_cid?: number;
  /** SDUs a channel may have in flight; default 4. */
  window?: number;
}

/** The medium: endpoints, the delivery queue, and the record of every SDU sent. */
export class FakeAir {
  readonly endpoints: FakeL2cap[] = [];
  /** Every SDU sent with l2cap_send / l2cap_send_prepared, in order (not inject()). */
  readonly sent: SentFrame[] = [];
  private readonly queue: Array<() => void> = [];
  private head = 0;

  /** With a run loop, deliveries are posted on it (run it to deliver); without, air.run() delivers. */
  constructor(readonly run_loop: VirtualRunLoop | null = null) {}

  /** Schedule a delivery (never runs inside the caller). */
  post(fn: () => void): void {
    if (this.run_loop) this.run_loop.execute_on_main_thread(fn);
    else this.queue.push(fn);
  }

  /** Deliveries waiting in the air's own queue (0 with a run loop). */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /**
   * Deliver up to `max` queued callbacks (and whatever they queue), returning how many ran. With a
   * run loop: run it until idle and return 0.
   */
  run(max = Infinity): number {
    if (this.run_loop) {
      this.run_loop.run();
      return 0;
    }
    let n = 0;
    while (this.head < this.queue.length && n < max) {
      const fn = this.queue[this.head]!;
      this.queue[this.head++] = noop;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      fn();
      n++;
    }
    return n;
  }
}

function noop(): void {}

export class FakeL2cap implements L2capService {
  readonly codes: Codes;
  readonly channels = new Map<number, FakeChannel>();
  /** Incoming MTU this endpoint offers (l2cap_max_mtu). */
  max_mtu: number;
  /** SDUs a channel may have in flight (ACL buffers / credits). */
  window: number;
  /** When true, a create_channel to this endpoint fails with a page timeout. */
  unreachable = false;
  /** Sends refused with BTSTACK_ACL_BUFFERS_FULL before sends go through again. */
  refuse_sends = 0;
  /** Calls, for assertions: 'register 3', 'unregister 3', 'create', 'accept', 'decline', 'disconnect'. */
  readonly calls: string[] = [];
  /** SDUs sent through l2cap_send_prepared. */
  prepared_sends = 0;
  /**
   * When set, every SDU is handed up in this one buffer (longer than the SDU; `size` tells the
   * length), as a real L2CAP hands up views of its fixed receive buffer. Else each SDU comes in
   * a fresh array of its own length.
   */
  rx_buffer: Uint8Array | null = null;

  private readonly services = new Map<number, { handler: L2capServicePacketHandler; mtu: number }>();
  private nextCid: number;
  private readonly ev = new Uint8Array(64);
  private outgoing: Uint8Array;
  private reserved = false;

  constructor(
    readonly air: FakeAir,
    readonly address: BdAddr,
    readonly profile: CodeProfile = 'v1.4',
    options: FakeL2capOptions = {},
  ) {
    this.codes = codes_for(profile);
    this.max_mtu = options.max_mtu ?? 1017;
    this.nextCid = options.first_cid ?? 0x41;
    this.window = options.window ?? 4;
    this.outgoing = new Uint8Array(this.max_mtu);
    air.endpoints.push(this);
  }

  // ---- L2capService ----

  l2cap_max_mtu(): number {
    return this.max_mtu;
  }

  l2cap_register_service(handler: L2capServicePacketHandler, psm: number, mtu: number, _security_level: number): number {
    this.calls.push(`register ${psm}`);
    if (this.services.has(psm)) return L2CAP_SERVICE_ALREADY_REGISTERED;
    this.services.set(psm, { handler, mtu: Math.min(mtu, this.max_mtu) });
    return ERROR_CODE_SUCCESS;
  }

  l2cap_unregister_service(psm: number): number {
    this.calls.push(`unregister ${psm}`);
    return this.services.delete(psm) ? ERROR_CODE_SUCCESS : L2CAP_SERVICE_DOES_NOT_EXIST;
  }

  l2cap_create_channel(handler: L2capServicePacketHandler, address: BdAddr, psm: number, mtu: number): L2capCreateChannelResult {
    this.calls.push('create');
    const peer = this.air.endpoints.find((e) => e !== this && bd_addr_to_str(e.address) === bd_addr_to_str(address));
    const ch = this.alloc(handler, psm, Math.min(mtu, this.max_mtu), false);
    const codes = this.codes;
    // as a real L2CAP: the ACL handle when the ACL came up and only L2CAP failed, 0xFFFF (HCI_CON_HANDLE_INVALID) without an ACL
    const fail = (status: number, handle: number): void => {
      this.emit(ch, (b) =>
        codes.l2cap_event_channel_opened_build(b, 0, status, address, handle, psm, ch.local_cid, 0, ch.local_mtu, 0, 0, 0, 0, 0),
      );
      this.channels.delete(ch.local_cid);
    };
    if (!peer || peer.unreachable) {
      fail(ERROR_CODE_PAGE_TIMEOUT, 0xffff);
      return { status: ERROR_CODE_SUCCESS, local_cid: ch.local_cid };
    }
    const svc = peer.services.get(psm);
    if (!svc) {
      fail(L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_PSM, HANDLE);
      return { status: ERROR_CODE_SUCCESS, local_cid: ch.local_cid };
    }
    const remote = peer.alloc(svc.handler, psm, svc.mtu, true);
    remote.peer = ch;
    ch.peer = remote;
    peer.emit(remote, (b) =>
      peer.codes.l2cap_event_incoming_connection_build(b, 0, this.address, HANDLE, psm, remote.local_cid, ch.local_cid),
    );
    return { status: ERROR_CODE_SUCCESS, local_cid: ch.local_cid };
  }

  l2cap_accept_connection(local_cid: number): number {
    this.calls.push('accept');
    const ch = this.channels.get(local_cid);
    if (!ch || !ch.peer || ch.open) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    ch.open = ch.peer.open = true;
    ch.peer.owner.openedEvent(ch.peer);
    this.openedEvent(ch);
    return ERROR_CODE_SUCCESS;
  }

  l2cap_decline_connection(local_cid: number): number {
    this.calls.push('decline');
    const ch = this.channels.get(local_cid);
    if (!ch || !ch.peer || ch.open) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    const p = ch.peer;
    this.channels.delete(local_cid);
    const o = p.owner;
    o.emit(p, (b) =>
      o.codes.l2cap_event_channel_opened_build(
        b,
        0,
        DECLINED,
        this.address,
        HANDLE,
        p.psm,
        p.local_cid,
        0,
        p.local_mtu,
        0,
        0,
        0,
        0,
        0,
      ),
    );
    o.channels.delete(p.local_cid);
    return ERROR_CODE_SUCCESS;
  }

  l2cap_disconnect(local_cid: number): number {
    this.calls.push('disconnect');
    const ch = this.channels.get(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    this.air.post(() => {
      this.close(ch);
      if (ch.peer) ch.peer.owner.close(ch.peer);
    });
    return ERROR_CODE_SUCCESS;
  }

  l2cap_request_can_send_now_event(local_cid: number): number {
    const ch = this.channels.get(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    if (!ch.open) return ERROR_CODE_SUCCESS;
    ch.can_send_requested = true;
    this.notifyCanSend(ch);
    return ERROR_CODE_SUCCESS;
  }

  l2cap_can_send_packet_now(local_cid: number): boolean {
    const ch = this.channels.get(local_cid);
    return !!ch && ch.open && ch.in_flight < this.window && !this.reserved;
  }

  l2cap_send(local_cid: number, data: Uint8Array, len: number): number {
    if (this.reserved) return BTSTACK_ACL_BUFFERS_FULL;
    return this.transmit(local_cid, data, len);
  }

  l2cap_reserve_packet_buffer(): boolean {
    if (this.reserved) return false;
    this.reserved = true;
    return true;
  }

  l2cap_get_outgoing_buffer(): Uint8Array {
    if (this.outgoing.length < this.max_mtu) this.outgoing = new Uint8Array(this.max_mtu);
    return this.outgoing;
  }

  l2cap_send_prepared(local_cid: number, len: number): number {
    if (!this.reserved) return BTSTACK_ACL_BUFFERS_FULL;
    this.reserved = false;
    const status = this.transmit(local_cid, this.outgoing, len);
    if (status === ERROR_CODE_SUCCESS) this.prepared_sends++;
    return status;
  }

  l2cap_release_packet_buffer(): void {
    this.reserved = false;
  }

  // ---- test controls ----

  /** Deliver raw bytes to the other end of our channel `local_cid` (no MTU/buffer checks). */
  inject(local_cid: number, bytes: Uint8Array): void {
    const ch = this.channels.get(local_cid);
    if (!ch || !ch.peer) throw new Error(`inject: no channel 0x${local_cid.toString(16)}`);
    const p = ch.peer;
    const copy = bytes.slice();
    this.air.post(() => {
      if (p.open) p.owner.deliver(p, copy);
    });
  }

  /** Link loss: every channel of this endpoint (and its peer ends) closes. */
  link_loss(): void {
    for (const ch of [...this.channels.values()]) {
      this.close(ch);
      if (ch.peer) ch.peer.owner.close(ch.peer);
    }
  }

  /** The first open channel's local cid, or 0. */
  first_cid(): number {
    for (const ch of this.channels.values()) if (ch.open) return ch.local_cid;
    return 0;
  }

  /** Whether the zero-copy buffer is reserved (l2cap_reserve_packet_buffer without a send/release). */
  get buffer_reserved(): boolean {
    return this.reserved;
  }

  // ---- internals ----

  private transmit(local_cid: number, data: Uint8Array, len: number): number {
    const ch = this.channels.get(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    if (!ch.open || !ch.peer) return ERROR_CODE_COMMAND_DISALLOWED;
    if (len > ch.peer.local_mtu) return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (this.refuse_sends > 0) {
      this.refuse_sends--;
      return BTSTACK_ACL_BUFFERS_FULL;
    }
    if (ch.in_flight >= this.window) return BTSTACK_ACL_BUFFERS_FULL;
    const copy = data.slice(0, len);
    const p = ch.peer;
    this.air.sent.push({ from: bd_addr_to_str(this.address), cid: local_cid, bytes: copy });
    ch.in_flight++;
    this.air.post(() => {
      ch.in_flight--;
      if (p.open) p.owner.deliver(p, copy);
      this.notifyCanSend(ch);
    });
    return ERROR_CODE_SUCCESS;
  }

  private emit(ch: FakeChannel, build: (buf: Uint8Array) => number): void {
    const n = build(this.ev);
    const copy = this.ev.slice(0, n);
    this.air.post(() => ch.handler(HCI_EVENT_PACKET, 0, copy, n));
  }

  private alloc(handler: L2capServicePacketHandler, psm: number, mtu: number, incoming: boolean): FakeChannel {
    const ch: FakeChannel = {
      owner: this,
      handler,
      local_cid: this.nextCid++,
      peer: null,
      psm,
      local_mtu: mtu,
      open: false,
      incoming,
      in_flight: 0,
      can_send_requested: false,
    };
    this.channels.set(ch.local_cid, ch);
    return ch;
  }

  private openedEvent(ch: FakeChannel): void {
    const p = ch.peer!;
    const other = p.owner;
    this.emit(ch, (b) =>
      this.codes.l2cap_event_channel_opened_build(
        b,
        0,
        0,
        other.address,
        HANDLE,
        ch.psm,
        ch.local_cid,
        p.local_cid,
        ch.local_mtu,
        p.local_mtu,
        0xffff,
        ch.incoming ? 1 : 0,
        0,
        0,
      ),
    );
  }

  private notifyCanSend(ch: FakeChannel): void {
    if (!ch.can_send_requested || !ch.open || ch.in_flight >= this.window) return;
    ch.can_send_requested = false;
    this.emit(ch, (b) => this.codes.l2cap_event_can_send_now_build(b, 0, ch.local_cid));
  }

  private deliver(ch: FakeChannel, sdu: Uint8Array): void {
    const rx = this.rx_buffer;
    if (rx) {
      rx.fill(0xa5);
      rx.set(sdu, 0);
      ch.handler(L2CAP_DATA_PACKET, ch.local_cid, rx, sdu.length);
    } else {
      ch.handler(L2CAP_DATA_PACKET, ch.local_cid, sdu, sdu.length);
    }
  }

  private close(ch: FakeChannel): void {
    if (!this.channels.has(ch.local_cid)) return;
    this.channels.delete(ch.local_cid);
    ch.open = false;
    this.emit(ch, (b) => this.codes.l2cap_event_channel_closed_build(b, 0, ch.local_cid));
  }
}
