/**
 * Credit-based channels on LE (Core v5.4 Vol 3 Part A, 10.1 LE Credit Based Flow Control Mode):
 * the records, API, lifecycle and send side here; what comes in (signalling, K-frames) in
 * l2cap-cbm-in.ts; the enhanced mode's own signalling in l2cap-ecbm.ts, which shares the rest:
 *
 * - Connection: LE Credit Based Connection Request / Response (4.22, 4.23). An incoming request
 *   is checked before any application sees it: SPSM 0x0001-0x00FF with a registered service
 *   (else result 0x0002, which also covers SPSM 0 and out-of-range values: the CVE-2022-42896
 *   class), SCID in the LE dynamic range 0x0040-0x007F (0x0009) and not already used on the link
 *   (0x000A), MTU and MPS >= 23 and MPS <= 65533 (0x000B), the service's security level
 *   (0x0005 / 0x0007 / 0x0008, l2cap-le-security.ts), a free channel record (0x0004). Refusals
 *   answer with DCID, MTU, MPS, credits 0. An outgoing channel with a security level above the
 *   link's pairs first (l2cap-cbm-security.ts); a refusal reaches the application as the
 *   profile's status (l2cap-cbm-status.ts: raw in v1.4, 0x65-0x6F in v1.8).
 * - Data: K-frames (3.4): the first of an SDU carries the 2-octet SDU length; each K-frame costs
 *   the sender one credit. Received SDUs are reassembled into the application's receive buffer
 *   and delivered as (L2CAP_DATA_PACKET, local_cid, buffer, sdu_len). A K-frame without a credit,
 *   longer than our MPS, an SDU longer than our MTU or overrunning its announced length is a
 *   protocol error: the channel is disconnected (10.1, 3.4.3).
 * - Credits: Flow Control Credit Indication (4.24); more than 65535 credits in total is an error
 *   (the channel is disconnected). With L2CAP_LE_AUTOMATIC_CREDITS we grant as SDUs are consumed
 *   (AUTOMATIC_CREDITS_INITIAL, then WATERMARK / INCREMENT, BTstack's numbers), otherwise the
 *   application grants with l2cap_cbm_provide_credits.
 * - Sending: l2cap_cbm_send_data keeps a reference to the application's SDU (as BTstack: the data
 *   must stay until PACKET_SENT) and sends K-frames as credits and HCI allow.
 * - Every channel ends with one terminal event (opened with a failure status, or closed) and goes
 *   back to its pool; none comes for a declined incoming channel.
 */
import { little_endian_store_16 } from '../core/bytes.js';
import type { Timer } from '../core/run-loop.js';
import {
  BTSTACK_ACL_BUFFERS_FULL,
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  L2CAP_CONNECTION_BASEBAND_DISCONNECT,
  L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT,
  L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU,
  L2CAP_LOCAL_CID_DOES_NOT_EXIST,
  L2CAP_SERVICE_ALREADY_REGISTERED,
  L2CAP_SERVICE_DOES_NOT_EXIST,
} from '../codes/v1.4.js';
import type { L2capPacketHandler } from './l2cap-objects.js';
import {
  CBM_CLOSED,
  CBM_OPEN,
  CBM_W4_ACCEPT,
  CBM_W4_DISCONNECT_RESPONSE,
  CBM_W4_RESPONSE,
  CBM_WILL_SEND_DISCONNECT_REQUEST,
  CBM_WILL_SEND_REQUEST,
  CBM_WILL_SEND_RESPONSE,
  type L2capCbmChannel,
  type L2capLeLink,
} from './l2cap-le-objects.js';
import { L2CAP_LE_CID_DYNAMIC_FIRST, L2CAP_LE_CID_DYNAMIC_LAST } from './l2cap-le-state.js';
import { L2capCbmSecurity, type L2capCbmSecurityPeers } from './l2cap-cbm-security.js';
import type { L2capLeEvents } from './l2cap-le-events.js';
import {
  LE_SIG_DISCONNECTION_REQUEST,
  LE_SIG_LE_CREDIT_BASED_CONNECTION_RESPONSE,
  L2CAP_CBM_MAX_CREDITS,
  L2CAP_CBM_MAX_MPS,
  L2CAP_CBM_MIN_MTU,
  L2CAP_LE_PSM_MAX,
  le_sig_disconnection,
  le_sig_flow_control_credit_ind,
  le_sig_le_credit_based_connection_request,
} from './l2cap-le-sig.js';
import type { L2capState } from './l2cap-state.js';

/** initial_credits value asking L2CAP to manage credits (BTstack's L2CAP_LE_AUTOMATIC_CREDITS). */
export const L2CAP_LE_AUTOMATIC_CREDITS = 0xffff;
/** Automatic credits: granted at connection time, and topped up by INCREMENT when fewer than WATERMARK remain. */
export const AUTOMATIC_CREDITS_INITIAL = 10;
export const AUTOMATIC_CREDITS_WATERMARK = 5;
export const AUTOMATIC_CREDITS_INCREMENT = 5;
/** Response timeout of our requests (RTX, Vol 3 Part A 6.2.1: 1-60 s). */
export const L2CAP_LE_RTX_TIMEOUT_MS = 30_000;

// LE Credit Based Connection Response results (4.23, Table 4.16)
export const CBM_RESULT_SUCCESS = 0x0000;
export const CBM_RESULT_SPSM_NOT_SUPPORTED = 0x0002;
export const CBM_RESULT_NO_RESOURCES = 0x0004;
export const CBM_RESULT_INSUFFICIENT_AUTHENTICATION = 0x0005;
export const CBM_RESULT_INVALID_SOURCE_CID = 0x0009;
export const CBM_RESULT_SOURCE_CID_ALREADY_ALLOCATED = 0x000a;
export const CBM_RESULT_UNACCEPTABLE_PARAMETERS = 0x000b;

export interface L2capCbmCreateResult {
  status: number;
  local_cid: number;
}

/** What the channels need from the LE send side and signalling. */
export interface L2capCbmPeers {
  scheduleRun(): void;
  /** Queue a response to a request on the link (code, identifier, 16-bit values, 16-bit list). */
  respond(link: L2capLeLink, code: number, identifier: number, values: ArrayLike<number>, extra?: ArrayLike<number>): void;
  reject(link: L2capLeLink, identifier: number, reason?: number, d1?: number, d2?: number): void;
  sendPrepared(con_handle: number, cid: number, len: number): number;
  linkFor(handle: number): L2capLeLink | null;
}

/** The enhanced mode's part of channel handling (l2cap-ecbm.ts; set by L2cap). */
export interface L2capCbmEnhanced {
  /** Decline the pending incoming group of `local_cid` with `result`. */
  decline(local_cid: number, result: number): number;
  /** RTX ran out on an open channel with a reconfiguration outstanding. */
  reconfigureTimeout(ch: L2capCbmChannel): void;
}

export class L2capCbm implements L2capCbmSecurityPeers {
  private rr = 0;
  /** ECBM hooks (null: no enhanced mode). */
  enhanced: L2capCbmEnhanced | null = null;
  /** The security level of outgoing channels (pairing before the request). */
  readonly security: L2capCbmSecurity;

  constructor(
    readonly s: L2capState,
    readonly ev: L2capLeEvents,
    readonly x: L2capCbmPeers,
  ) {
    this.security = new L2capCbmSecurity(s, this);
  }

  /** L2capCbmSecurityPeers (with finalize below). */
  scheduleRun(): void {
    this.x.scheduleRun();
  }

  // ============================================================================ services

  registerService(
    handler: L2capPacketHandler,
    psm: number,
    security_level: number,
    enhanced: boolean,
    min_remote_mtu = 0,
  ): number {
    const le = this.s.le;
    if (psm < 1 || psm > L2CAP_LE_PSM_MAX) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    if (le.services.some((x) => x.psm === psm && x.enhanced === enhanced)) return L2CAP_SERVICE_ALREADY_REGISTERED;
    const svc = le.servicePool.get();
    if (!svc) return BTSTACK_MEMORY_ALLOC_FAILED;
    svc.psm = psm;
    svc.security_level = security_level;
    svc.enhanced = enhanced;
    svc.min_remote_mtu = min_remote_mtu;
    svc.handler = handler;
    le.services = [...le.services, svc];
    return ERROR_CODE_SUCCESS;
  }

  unregisterService(psm: number, enhanced: boolean): number {
    const le = this.s.le;
    const svc = le.services.find((x) => x.psm === psm && x.enhanced === enhanced);
    if (!svc) return L2CAP_SERVICE_DOES_NOT_EXIST;
    le.services = le.services.filter((x) => x !== svc);
    le.servicePool.free(svc);
    return ERROR_CODE_SUCCESS;
  }

  serviceFor(psm: number, enhanced: boolean) {
    return this.s.le.services.find((x) => x.psm === psm && x.enhanced === enhanced) ?? null;
  }

  // ============================================================================ channels

  /** A new channel record on `link` with a fresh local CID, or null (pool or CIDs exhausted). */
  newChannel(link: L2capLeLink, handler: L2capPacketHandler | null, psm: number): L2capCbmChannel | null {
    const le = this.s.le;
    const cid = this.allocateCid();
    if (cid === 0) return null;
    const ch = le.channelPool.get();
    if (!ch) return null;
    ch.reset();
    ch.local_cid = cid;
    ch.con_handle = link.con_handle;
    ch.address.set(link.address);
    ch.address_type = link.address_type;
    ch.handler = handler;
    ch.psm = psm;
    ch.timer.handler = this.#onTimeout ??= this.onTimeout.bind(this);
    le.channels = [...le.channels, ch];
    return ch;
  }

  /** A free LE dynamic CID not used by any L2CAP channel (classic CIDs share one number space with LE's for the v1.8 API). */
  private allocateCid(): number {
    for (let i = 0; i <= L2CAP_LE_CID_DYNAMIC_LAST - L2CAP_LE_CID_DYNAMIC_FIRST; i++) {
      const cid = this.s.le.allocateCid();
      if (cid === 0) return 0;
      if (!this.s.channels.some((c) => c.local_cid === cid)) return cid;
    }
    return 0;
  }

  /** Set our receive side: buffer, MTU, MPS, initial credits. */
  setLocal(ch: L2capCbmChannel, receive_buffer: Uint8Array, mtu: number, initial_credits: number): void {
    ch.receive_buffer = receive_buffer;
    ch.local_mtu = mtu;
    ch.local_mps = Math.min(mtu + 2, L2CAP_CBM_MAX_MPS);
    ch.automatic_credits = initial_credits === L2CAP_LE_AUTOMATIC_CREDITS;
    ch.credits_incoming = ch.automatic_credits ? AUTOMATIC_CREDITS_INITIAL : initial_credits;
  }

  create(
    handler: L2capPacketHandler,
    con_handle: number,
    psm: number,
    receive_buffer: Uint8Array,
    mtu: number,
    initial_credits: number,
    security_level: number,
  ): L2capCbmCreateResult {
    const link = this.x.linkFor(con_handle);
    if (!link) return { status: ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER, local_cid: 0 };
    if (psm < 1 || psm > L2CAP_LE_PSM_MAX || mtu < L2CAP_CBM_MIN_MTU)
      return { status: ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS, local_cid: 0 };
    const ch = this.newChannel(link, handler, psm);
    if (!ch) return { status: BTSTACK_MEMORY_ALLOC_FAILED, local_cid: 0 };
    this.setLocal(ch, receive_buffer, mtu, initial_credits);
    ch.security_level = security_level;
    this.security.start(ch); // CBM_WILL_SEND_REQUEST, or pairing first
    this.x.scheduleRun();
    return { status: ERROR_CODE_SUCCESS, local_cid: ch.local_cid };
  }

  accept(local_cid: number, receive_buffer: Uint8Array, mtu: number, initial_credits: number): number {
    const ch = this.s.le.channelForCid(local_cid);
    if (!ch || ch.enhanced) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    if (ch.state !== CBM_W4_ACCEPT) return ERROR_CODE_COMMAND_DISALLOWED;
    if (mtu < L2CAP_CBM_MIN_MTU) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    this.setLocal(ch, receive_buffer, mtu, initial_credits);
    ch.response_result = CBM_RESULT_SUCCESS;
    ch.state = CBM_WILL_SEND_RESPONSE;
    this.x.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  decline(local_cid: number, result: number): number {
    const ch = this.s.le.channelForCid(local_cid);
    if (!ch || ch.enhanced) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    if (ch.state !== CBM_W4_ACCEPT) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.response_result = result === CBM_RESULT_SUCCESS ? CBM_RESULT_NO_RESOURCES : result;
    ch.state = CBM_WILL_SEND_RESPONSE;
    this.x.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  send(local_cid: number, data: Uint8Array, len: number): number {
    const ch = this.s.le.channelForCid(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    if (ch.state !== CBM_OPEN) return ERROR_CODE_COMMAND_DISALLOWED;
    if (len > ch.remote_mtu) return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (ch.tx_data) return BTSTACK_ACL_BUFFERS_FULL;
    ch.tx_data = data;
    ch.tx_len = len;
    ch.tx_pos = 0;
    ch.tx_kframe = 0;
    this.x.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  canSendNow(local_cid: number): boolean {
    const ch = this.s.le.channelForCid(local_cid);
    return !!ch && ch.state === CBM_OPEN && ch.tx_data === null;
  }

  requestCanSendNow(local_cid: number): number {
    const ch = this.s.le.channelForCid(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    ch.waiting_for_can_send_now = true;
    this.x.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  provideCredits(local_cid: number, credits: number): number {
    const ch = this.s.le.channelForCid(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    const room = L2CAP_CBM_MAX_CREDITS - ch.credits_incoming - ch.credits_to_return;
    if (credits > room) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    ch.credits_to_return += credits;
    this.x.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  availableCredits(local_cid: number): number {
    return this.s.le.channelForCid(local_cid)?.credits_outgoing ?? 0;
  }

  disconnect(local_cid: number): number {
    const ch = this.s.le.channelForCid(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    switch (ch.state) {
      case CBM_OPEN:
        ch.state = CBM_WILL_SEND_DISCONNECT_REQUEST;
        this.x.scheduleRun();
        break;
      case CBM_W4_ACCEPT:
        if (ch.enhanced) return this.enhanced?.decline(local_cid, CBM_RESULT_NO_RESOURCES) ?? ERROR_CODE_COMMAND_DISALLOWED;
        return this.decline(local_cid, CBM_RESULT_NO_RESOURCES);
      case CBM_WILL_SEND_DISCONNECT_REQUEST:
      case CBM_W4_DISCONNECT_RESPONSE:
        break;
      default:
        // not connected yet: ends now (a response coming later finds no channel and is dropped)
        ch.opened = true;
        this.finalize(ch, 0, 'disconnected before it opened');
    }
    return ERROR_CODE_SUCCESS;
  }

  /**
   * The channel ends: its terminal event (CLOSED once opened; OPENED with `status` otherwise; none
   * when status < 0, a declined incoming channel), then back to the pool.
   */
  finalize(ch: L2capCbmChannel, status: number, why: string): void {
    const le = this.s.le;
    if (ch.state === CBM_CLOSED || !le.channelPool.owns(ch)) return;
    this.s.log.debug(() => `L2CAP LE channel 0x${ch.local_cid.toString(16)} ends: ${why}`);
    const wasIncomingUnanswered =
      ch.incoming && !ch.opened && (ch.state === CBM_W4_ACCEPT || ch.state === CBM_WILL_SEND_RESPONSE);
    ch.state = CBM_CLOSED;
    this.s.run_loop.remove_timer(ch.timer);
    le.channels = le.channels.filter((c) => c !== ch);
    if (ch.opened) this.ev.closed(ch);
    else if (status >= 0 && !(wasIncomingUnanswered && status === 0)) this.ev.opened(ch, status);
    le.channelPool.free(ch);
  }

  startRtx(ch: L2capCbmChannel): void {
    this.s.run_loop.remove_timer(ch.timer);
    this.s.run_loop.set_timer(ch.timer, L2CAP_LE_RTX_TIMEOUT_MS);
    this.s.run_loop.add_timer(ch.timer);
  }

  /** onTimeout bound to this component, made the first time it is handed out. */
  #onTimeout: ((t: Timer) => void) | null = null;

  private onTimeout(t: Timer): void {
    const ch = t.context as L2capCbmChannel;
    if (ch.state === CBM_W4_RESPONSE) this.finalize(ch, L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT, 'no response');
    else if (ch.state === CBM_W4_DISCONNECT_RESPONSE) this.finalize(ch, 0, 'no disconnection response');
    else if (ch.state === CBM_OPEN && ch.reconf_sig_id !== 0) this.enhanced?.reconfigureTimeout(ch);
    this.x.scheduleRun();
  }

  /** Channel opened (both directions known). */
  open(ch: L2capCbmChannel): void {
    ch.state = CBM_OPEN;
    ch.opened = true;
    this.s.run_loop.remove_timer(ch.timer);
    this.ev.opened(ch, 0);
  }

  /** A protocol error on an open channel: disconnect it (10.1). */
  protocolError(ch: L2capCbmChannel, why: string): void {
    this.s.log.error(() => `L2CAP LE channel 0x${ch.local_cid.toString(16)}: ${why}, disconnecting`);
    ch.tx_data = null;
    if (ch.state === CBM_OPEN) ch.state = CBM_WILL_SEND_DISCONNECT_REQUEST;
    this.x.scheduleRun();
  }

  linkDown(link: L2capLeLink): void {
    for (const c of this.s.le.channels) {
      if (c.con_handle === link.con_handle) this.finalize(c, L2CAP_CONNECTION_BASEBAND_DISCONNECT, 'link down');
    }
  }

  // ============================================================================ send side

  /** One signalling PDU or K-frame of a channel on `link`, round robin; true when one went out. */
  step(link: L2capLeLink, ecbmStep: (ch: L2capCbmChannel) => boolean): boolean {
    const chans = this.s.le.channels;
    const n = chans.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.rr + i) % n;
      const ch = chans[idx]!;
      if (ch.con_handle !== link.con_handle) continue;
      if ((ch.enhanced && ecbmStep(ch)) || this.channelStep(link, ch)) {
        this.rr = idx + 1;
        return true;
      }
    }
    return false;
  }

  private reserve(): Uint8Array | null {
    const hci = this.s.hci;
    if (!hci.hci_reserve_packet_buffer()) return null;
    return hci.hci_get_outgoing_packet_buffer();
  }

  /** Send the reserved buffer with a signalling command of `n` octets at offset 8. */
  sig(link: L2capLeLink, n: number): boolean {
    this.x.sendPrepared(link.con_handle, 0x0005, n);
    return true;
  }

  private channelStep(link: L2capLeLink, ch: L2capCbmChannel): boolean {
    const P = 8;
    switch (ch.state) {
      case CBM_WILL_SEND_REQUEST: {
        if (ch.enhanced) return false;
        const buf = this.reserve();
        if (!buf) return false;
        ch.local_sig_id = this.s.nextSigId();
        const n = le_sig_le_credit_based_connection_request(
          buf,
          P,
          ch.local_sig_id,
          ch.psm,
          ch.local_cid,
          ch.local_mtu,
          ch.local_mps,
          ch.credits_incoming,
        );
        ch.state = CBM_W4_RESPONSE;
        this.startRtx(ch);
        return this.sig(link, n);
      }
      case CBM_WILL_SEND_RESPONSE: {
        if (ch.enhanced) return false;
        const ok = ch.response_result === CBM_RESULT_SUCCESS;
        this.x.respond(
          link,
          LE_SIG_LE_CREDIT_BASED_CONNECTION_RESPONSE,
          ch.remote_sig_id,
          ok ? [ch.local_cid, ch.local_mtu, ch.local_mps, ch.credits_incoming, 0] : [0, 0, 0, 0, ch.response_result],
        );
        if (ok) this.open(ch);
        else this.finalize(ch, -1, 'declined');
        return false; // queued as the link's answer; it goes out first on the next step
      }
      case CBM_OPEN:
        if (ch.credits_to_return > 0) {
          const buf = this.reserve();
          if (!buf) return false;
          const n = le_sig_flow_control_credit_ind(buf, P, this.s.nextSigId(), ch.local_cid, ch.credits_to_return);
          ch.credits_incoming += ch.credits_to_return;
          ch.credits_to_return = 0;
          return this.sig(link, n);
        }
        if (ch.tx_data && ch.credits_outgoing > 0) return this.sendKframe(ch);
        return false;
      case CBM_WILL_SEND_DISCONNECT_REQUEST: {
        const buf = this.reserve();
        if (!buf) return false;
        ch.local_sig_id = this.s.nextSigId();
        const n = le_sig_disconnection(buf, P, LE_SIG_DISCONNECTION_REQUEST, ch.local_sig_id, ch.remote_cid, ch.local_cid);
        ch.state = CBM_W4_DISCONNECT_RESPONSE;
        this.startRtx(ch);
        return this.sig(link, n);
      }
      default:
        return false;
    }
  }

  private sendKframe(ch: L2capCbmChannel): boolean {
    const buf = this.reserve();
    if (!buf) return false;
    let p = 8;
    let room = ch.remote_mps;
    if (ch.tx_pos === 0) {
      little_endian_store_16(buf, p, ch.tx_len);
      p += 2;
      room -= 2;
    }
    const n = Math.min(room, ch.tx_len - ch.tx_pos, buf.length - p);
    buf.set(this.kframeView(ch, n), p);
    ch.tx_pos += n;
    ch.tx_kframe++;
    ch.credits_outgoing--;
    if (ch.tx_pos >= ch.tx_len) {
      ch.tx_data = null;
      ch.packet_sent_pending = true;
    }
    this.x.sendPrepared(ch.con_handle, ch.remote_cid, p + n - 8);
    return true;
  }

  /**
   * The view of the SDU the next K-frame carries (n octets from tx_pos): the SDU itself when it
   * is all of it, else the channel's view for this K-frame index, made again only when the app's
   * buffer or the K-frame's place in it changed (not one view per K-frame).
   */
  private kframeView(ch: L2capCbmChannel, n: number): Uint8Array {
    const src = ch.tx_data!;
    const pos = ch.tx_pos;
    if (pos === 0 && n === src.length) return src;
    const views = ch.tx_views;
    const i = ch.tx_kframe;
    const v = i < views.length ? views[i]! : null;
    if (v && v.buffer === src.buffer && v.byteOffset === src.byteOffset + pos && v.length === n) return v;
    // a plain Uint8Array even when src is a Buffer (Buffer#subarray would make a FastBuffer)
    const nv = new Uint8Array(src.buffer, src.byteOffset + pos, n);
    if (i < views.length) views[i] = nv;
    else views.push(nv);
    return nv;
  }

  /** PACKET_SENT and CAN_SEND_NOW to the channels due them. */
  events(): void {
    for (const ch of this.s.le.channels) {
      if (ch.state !== CBM_OPEN) continue;
      if (ch.packet_sent_pending) {
        ch.packet_sent_pending = false;
        this.ev.packetSent(ch);
      }
      if (ch.waiting_for_can_send_now && ch.tx_data === null && ch.state === CBM_OPEN) {
        ch.waiting_for_can_send_now = false;
        this.ev.canSendNow(ch);
      }
    }
  }
}
