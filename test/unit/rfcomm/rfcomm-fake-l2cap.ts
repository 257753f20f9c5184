/**
 * A fake L2CAP for RFCOMM unit tests: endpoints on one in-memory "air", each with BTstack's
 * L2CAP API (the L2capService contract, zero-copy path included), driven by a shared VirtualRunLoop. Events are built with
 * the profile's builders and posted with execute_on_main_thread, so nothing re-enters a handler
 * and timers interleave as on a real stack. A per-channel window of in-flight SDUs models the
 * controller's ACL buffers (l2cap_can_send_packet_now false while it is used up).
 */
import { bd_addr_to_str, type BdAddr } from '../../../src/core/bytes.js';
import { Pools, resolveConfig, type StackConfig } from '../../../src/core/config.js';
import { Logger } from '../../../src/core/log.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { codes_for, type CodeProfile, type Codes } from '../../../src/codes/index.js';
import type { L2capCreateChannelResult, L2capService, L2capServicePacketHandler } from '../../../src/l2cap/l2cap-service.js';
import type { RfcommStackLike } from '../../../src/rfcomm/rfcomm-state.js';
import {
  BTSTACK_ACL_BUFFERS_FULL,
  ERROR_CODE_PAGE_TIMEOUT,
  HCI_EVENT_PACKET,
  L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_PSM,
  L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU,
  L2CAP_DATA_PACKET,
  L2CAP_LOCAL_CID_DOES_NOT_EXIST,
  L2CAP_SERVICE_ALREADY_REGISTERED,
} from '../../../src/codes/v1.4.js';

interface FakeChannel {
  owner: FakeL2cap;
  handler: L2capServicePacketHandler;
  local_cid: number;
  peer: FakeChannel | null;
  psm: number;
  local_mtu: number;
  open: boolean;
  incoming: boolean;
  /** SDUs in flight (sent, not yet delivered). */
  in_flight: number;
  can_send_requested: boolean;
}

export interface SentFrame {
  from: string;
  bytes: Uint8Array;
}

export class FakeAir {
  readonly endpoints: FakeL2cap[] = [];
  /** Every SDU sent, in order. */
  readonly sent: SentFrame[] = [];
  constructor(readonly run_loop: VirtualRunLoop) {}
}

export class FakeL2cap implements L2capService {
  readonly codes: Codes;
  private services = new Map<number, { handler: L2capServicePacketHandler; mtu: number }>();
  readonly channels = new Map<number, FakeChannel>();
  private nextCid = 0x41;
  private readonly ev = new Uint8Array(64);
  /** Incoming MTU this endpoint offers (l2cap_max_mtu). */
  max_mtu = 1017;
  /** SDUs a channel may have in flight (ACL buffers). */
  window = 4;
  /** When true, a create_channel to this endpoint fails with a page timeout. */
  unreachable = false;
  /** Calls, for assertions: 'register 3', 'create', 'accept', 'decline', 'disconnect'. */
  readonly calls: string[] = [];

  constructor(
    readonly air: FakeAir,
    readonly address: BdAddr,
    readonly profile: CodeProfile = 'v1.4',
  ) {
    this.codes = codes_for(profile);
    air.endpoints.push(this);
  }

  private post(fn: () => void): void {
    this.air.run_loop.execute_on_main_thread(fn);
  }

  l2cap_max_mtu(): number {
    return this.max_mtu;
  }

  l2cap_register_service(handler: L2capServicePacketHandler, psm: number, mtu: number, _security_level: number): number {
    this.calls.push(`register ${psm}`);
    if (this.services.has(psm)) return L2CAP_SERVICE_ALREADY_REGISTERED;
    this.services.set(psm, { handler, mtu: Math.min(mtu, this.max_mtu) });
    return 0;
  }

  l2cap_unregister_service(psm: number): number {
    this.calls.push(`unregister ${psm}`);
    this.services.delete(psm);
    return 0;
  }

  private emit(ch: FakeChannel, build: (buf: Uint8Array) => number): void {
    const n = build(this.ev);
    const copy = this.ev.slice(0, n);
    this.post(() => ch.handler(HCI_EVENT_PACKET, 0, copy, n));
  }

  private alloc(handler: L2capServicePacketHandler, psm: number, mtu: number, incoming: boolean): FakeChannel {
    const ch: FakeChannel = { owner: this, handler, local_cid: this.nextCid++, peer: null, psm, local_mtu: mtu, open: false, incoming, in_flight: 0, can_send_requested: false };
    this.channels.set(ch.local_cid, ch);
    return ch;
  }

  l2cap_create_channel(handler: L2capServicePacketHandler, address: BdAddr, psm: number, mtu: number): L2capCreateChannelResult {
    this.calls.push('create');
    const peer = this.air.endpoints.find((e) => e !== this && bd_addr_to_str(e.address) === bd_addr_to_str(address));
    const ch = this.alloc(handler, psm, Math.min(mtu, this.max_mtu), false);
    const codes = this.codes;
    // as a real L2CAP: the ACL handle when the ACL came up and only L2CAP failed, 0xFFFF (HCI_CON_HANDLE_INVALID) without an ACL
    const fail = (status: number, handle: number): void => {
      this.emit(ch, (b) => codes.l2cap_event_channel_opened_build(b, 0, status, address, handle, psm, ch.local_cid, 0, ch.local_mtu, 0, 0, 0, 0, 0));
      this.channels.delete(ch.local_cid);
    };
    if (!peer || peer.unreachable) {
      fail(ERROR_CODE_PAGE_TIMEOUT, 0xffff);
      return { status: 0, local_cid: ch.local_cid };
    }
    const svc = peer.services.get(psm);
    if (!svc) {
      fail(L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_PSM, 0x0b);
      return { status: 0, local_cid: ch.local_cid };
    }
    const remote = peer.alloc(svc.handler, psm, svc.mtu, true);
    remote.peer = ch;
    ch.peer = remote;
    peer.emit(remote, (b) => peer.codes.l2cap_event_incoming_connection_build(b, 0, this.address, 0x0b, psm, remote.local_cid, ch.local_cid));
    return { status: 0, local_cid: ch.local_cid };
  }

  private openedEvent(ch: FakeChannel, status: number): void {
    const p = ch.peer!;
    const other = p.owner;
    this.emit(ch, (b) =>
      this.codes.l2cap_event_channel_opened_build(b, 0, status, other.address, 0x0b, ch.psm, ch.local_cid, p.local_cid, ch.local_mtu, p.local_mtu, 0xffff, ch.incoming ? 1 : 0, 0, 0),
    );
  }

  l2cap_accept_connection(local_cid: number): number {
    this.calls.push('accept');
    const ch = this.channels.get(local_cid);
    if (!ch || !ch.peer || ch.open) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    ch.open = ch.peer.open = true;
    ch.peer.owner.openedEvent(ch.peer, 0);
    this.openedEvent(ch, 0);
    return 0;
  }

  l2cap_decline_connection(local_cid: number): number {
    this.calls.push('decline');
    const ch = this.channels.get(local_cid);
    if (!ch || !ch.peer) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    const p = ch.peer;
    this.channels.delete(local_cid);
    p.owner.emit(p, (b) => p.owner.codes.l2cap_event_channel_opened_build(b, 0, 0x63 + 4, this.address, 0x0b, p.psm, p.local_cid, 0, p.local_mtu, 0, 0, 0, 0, 0));
    p.owner.channels.delete(p.local_cid);
    return 0;
  }

  l2cap_can_send_packet_now(local_cid: number): boolean {
    const ch = this.channels.get(local_cid);
    return !!ch && ch.open && ch.in_flight < this.window;
  }

  l2cap_request_can_send_now_event(local_cid: number): number {
    const ch = this.channels.get(local_cid);
    if (!ch || !ch.open) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    ch.can_send_requested = true;
    this.notifyCanSend(ch);
    return 0;
  }

  private notifyCanSend(ch: FakeChannel): void {
    if (!ch.can_send_requested || !ch.open || ch.in_flight >= this.window) return;
    ch.can_send_requested = false;
    this.emit(ch, (b) => this.codes.l2cap_event_can_send_now_build(b, 0, ch.local_cid));
  }

  l2cap_send(local_cid: number, data: Uint8Array, len: number): number {
    const ch = this.channels.get(local_cid);
    if (!ch || !ch.open || !ch.peer) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    if (len > ch.peer.local_mtu) return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (ch.in_flight >= this.window) return BTSTACK_ACL_BUFFERS_FULL;
    const copy = data.slice(0, len);
    const p = ch.peer;
    this.air.sent.push({ from: bd_addr_to_str(this.address), bytes: copy });
    ch.in_flight++;
    this.post(() => {
      ch.in_flight--;
      if (p.open) p.owner.deliver(p, copy);
      this.notifyCanSend(ch);
    });
    return 0;
  }

  // BTstack's zero-copy path: reserve, write the SDU at index 0 of the outgoing buffer, send_prepared
  private out: Uint8Array | null = null;
  private reserved = false;

  l2cap_reserve_packet_buffer(): boolean {
    if (this.reserved) return false;
    this.reserved = true;
    return true;
  }

  l2cap_get_outgoing_buffer(): Uint8Array {
    if (!this.out || this.out.length < this.max_mtu + 64) this.out = new Uint8Array(this.max_mtu + 64);
    return this.out;
  }

  l2cap_release_packet_buffer(): void {
    this.reserved = false;
  }

  l2cap_send_prepared(local_cid: number, len: number): number {
    if (!this.reserved) return BTSTACK_ACL_BUFFERS_FULL;
    this.reserved = false;
    this.prepared_sends++;
    return this.l2cap_send(local_cid, this.l2cap_get_outgoing_buffer(), len);
  }

  /** SDUs sent through l2cap_send_prepared. */
  prepared_sends = 0;

  /**
   * When set, every SDU is handed up in this one buffer (longer than the SDU; `size` tells the
   * length), as a real L2CAP hands up views of its fixed receive buffer. Else each SDU comes in
   * a fresh array of its own length.
   */
  rx_buffer: Uint8Array | null = null;

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

  /** Deliver raw bytes to the RFCOMM layer on the other end of our channel `local_cid` (no checks). */
  inject(local_cid: number, bytes: Uint8Array): void {
    const ch = this.channels.get(local_cid);
    if (!ch || !ch.peer) throw new Error(`inject: no channel 0x${local_cid.toString(16)}`);
    const p = ch.peer;
    const copy = bytes.slice();
    this.post(() => {
      if (p.open) p.owner.deliver(p, copy);
    });
  }

  /** Closes after the SDUs already sent are delivered (as the Disconnection Request follows them on the link). */
  l2cap_disconnect(local_cid: number): number {
    this.calls.push('disconnect');
    const ch = this.channels.get(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    this.post(() => {
      this.close(ch);
      if (ch.peer) ch.peer.owner.close(ch.peer);
    });
    return 0;
  }

  /** Link loss: every channel of this endpoint (and its peer ends) closes. */
  link_loss(): void {
    for (const ch of [...this.channels.values()]) {
      this.close(ch);
      if (ch.peer) ch.peer.owner.close(ch.peer);
    }
  }

  /** The first open channel (for inject). */
  first_cid(): number {
    for (const ch of this.channels.values()) if (ch.open) return ch.local_cid;
    return 0;
  }

  private close(ch: FakeChannel): void {
    if (!this.channels.has(ch.local_cid)) return;
    this.channels.delete(ch.local_cid);
    ch.open = false;
    this.emit(ch, (b) => this.codes.l2cap_event_channel_closed_build(b, 0, ch.local_cid));
  }
}

/** A stack-like object for RFCOMM (run loop, pools, codes, log). */
export function fake_stack(run_loop: VirtualRunLoop, profile: CodeProfile = 'v1.4', config: Partial<StackConfig> = {}): RfcommStackLike & { pools: Pools; log: Logger } {
  return { run_loop, pools: new Pools(resolveConfig(config)), codes: codes_for(profile), log: new Logger() };
}
