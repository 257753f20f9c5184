/**
 * The send side of L2CAP (BTstack's l2cap_run): find work, send at most one PDU per
 * opportunity (hci_can_send_acl_packet_now for the link), repeat while HCI takes more.
 *
 * Priority per pass: (1) signalling responses queued on a link, (2) the link's information and
 * echo requests, (3) the channels' signalling, one step each in round-robin order, then (4)
 * L2CAP_EVENT_CAN_SEND_NOW to the channels waiting for it, round robin starting after the last
 * channel served, so three busy channels get turns A, B, C, A, B, C.
 */
import { little_endian_store_16 } from '../core/bytes.js';
import {
  BTSTACK_ACL_BUFFERS_FULL,
  COMMAND_REJECT,
  CONFIGURE_RESPONSE,
  CONNECTION_RESPONSE,
  DISCONNECTION_RESPONSE,
  ECHO_RESPONSE,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_SUCCESS,
  HCI_CON_HANDLE_INVALID,
  INFORMATION_RESPONSE,
  L2CAP_CID_SIGNALING,
  L2CAP_CONF_RESULT_SUCCESS,
  L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU,
  L2CAP_HEADER_SIZE,
  L2CAP_LOCAL_CID_DOES_NOT_EXIST,
  L2CAP_STATE_CONFIG,
  L2CAP_STATE_OPEN,
  L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT,
  L2CAP_STATE_WAIT_CONNECT_RSP,
  L2CAP_STATE_WAIT_DISCONNECT,
  L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE,
  L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_ACCEPT,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE,
  L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST,
  L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE,
} from '../codes/v1.4.js';
import {
  L2CAP_CFG_LOCAL_REQ_SENT,
  L2CAP_CFG_REMOTE_RESPONDED,
  L2CAP_CFG_REMOTE_REQ_RECEIVED,
  l2cap_config_done,
} from './channel-state.js';
import {
  L2CAP_CONFIG_FLAG_CONTINUATION,
  L2CAP_CONNECTION_RESULT_PENDING,
  L2CAP_CONNECTION_RESULT_SUCCESS,
  L2CAP_CONNECTION_STATUS_AUTHENTICATION_PENDING,
  L2CAP_CONNECTION_STATUS_AUTHORIZATION_PENDING,
  L2CAP_EXTENDED_FEATURE_ENHANCED_RETRANSMISSION_MODE,
  L2CAP_EXTENDED_FEATURE_FCS_OPTION,
  L2CAP_EXTENDED_FEATURE_FIXED_CHANNELS,
  L2CAP_EXTENDED_FEATURE_STREAMING_MODE,
  L2CAP_EXTENDED_FEATURE_UNICAST_CONNECTIONLESS_DATA_RECEPTION,
  L2CAP_INFO_TYPE_CONNECTIONLESS_MTU,
  L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED,
  L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED,
  L2CAP_REJ_INVALID_CID,
  L2CAP_REJ_MTU_EXCEEDED,
  l2cap_sig_command_reject_invalid_cid,
  l2cap_sig_command_reject_mtu_exceeded,
  l2cap_sig_command_reject_not_understood,
  l2cap_sig_configure_request,
  l2cap_sig_configure_response_answer,
  l2cap_sig_configure_response_raw,
  l2cap_sig_connection_request,
  l2cap_sig_connection_response,
  l2cap_sig_disconnection_request,
  l2cap_sig_disconnection_response,
  l2cap_sig_echo_response,
  l2cap_sig_information_response_connectionless_mtu,
  l2cap_sig_information_response_extended_features,
  l2cap_sig_information_response_fixed_channels,
  l2cap_sig_information_response_not_supported,
} from './signaling.js';
import {
  COMPLETE_L2CAP_HEADER,
  L2CAP_CONNECTIONLESS_MTU,
  TODO_CONF_REQ_EMPTY,
  TODO_SEND_CONF_REQ,
  TODO_SEND_CONF_RSP,
  TODO_SEND_CONN_RSP_PENDING,
  NO_BYTES,
  type L2capChannel,
  type L2capLink,
} from './l2cap-objects.js';
import type { L2capErtmChannels } from './l2cap-ertm-channel.js';
import type { L2capState } from './l2cap-state.js';

/**
 * Extended features this host announces: Enhanced Retransmission Mode, Streaming Mode, the FCS
 * option, fixed channels supported, unicast connectionless data reception.
 */
export const L2CAP_LOCAL_EXTENDED_FEATURES =
  L2CAP_EXTENDED_FEATURE_ENHANCED_RETRANSMISSION_MODE |
  L2CAP_EXTENDED_FEATURE_STREAMING_MODE |
  L2CAP_EXTENDED_FEATURE_FCS_OPTION |
  L2CAP_EXTENDED_FEATURE_FIXED_CHANNELS |
  L2CAP_EXTENDED_FEATURE_UNICAST_CONNECTIONLESS_DATA_RECEPTION;
/** Fixed channels this host always announces: bit 1 signalling, bit 2 connectionless (bit 7, BR/EDR SM, while registered). */
export const L2CAP_LOCAL_FIXED_CHANNELS = (1 << 1) | (1 << 2);

/** Upper bound of PDUs per run pass (a safety net; HCI's buffer credits end a pass long before). */
const MAX_SENDS_PER_PASS = 4096;

/** What the send side needs from its siblings. */
export interface L2capSenderPeers {
  setState(ch: L2capChannel, to: number, why: string): void;
  enterConfig(ch: L2capChannel, why: string): void;
  startRtx(ch: L2capChannel): void;
  open(ch: L2capChannel): void;
  finalize(ch: L2capChannel, status: number, why: string): void;
  /** Links (l2cap-links.ts): ask HCI for the ACL links channels wait for. Called on every run, so a component, not a closure. */
  readonly links: { createPendingLinks(): void };
  /**
   * Echo and information requests (l2cap-echo-info.ts): hasRequest says the link has one to send,
   * writeRequest writes it (bytes or -1). Asked per link on every send pass.
   */
  readonly echoInfo: {
    hasRequest(link: L2capLink): boolean;
    writeRequest(link: L2capLink, buf: Uint8Array, pos: number): number;
  };
  /** ERTM / streaming channels (l2cap-ertm-channel.ts). */
  readonly ertm: L2capErtmChannels;
  /** Our fixed channels mask for the Information Response (l2cap-classic-fixed.ts: + 0x0007 when registered). */
  fixedChannels(): number;
}

export class L2capSender {
  /** Round-robin start for CAN_SEND_NOW. */
  private rrIndex = 0;
  /** Round-robin start for channel signalling. */
  private rrSignal = 0;
  /** Round-robin start for ERTM / streaming frames. */
  private rrErtm = 0;
  private running = false;
  private runAgain = false;
  private runScheduled = false;
  /** scheduledRun bound to this component, made the first time it is handed out. */
  #scheduledRun: (() => void) | null = null;

  private scheduledRun(): void {
    this.runScheduled = false;
    this.run();
  }
  private outgoingView: Uint8Array | null = null;

  constructor(
    private readonly s: L2capState,
    private readonly x: L2capSenderPeers,
  ) {}

  /** Process pending work now (re-entrant calls fold into the running loop). */
  run(): void {
    if (!this.s.initialized) return;
    if (this.running) {
      this.runAgain = true;
      return;
    }
    this.running = true;
    try {
      let rounds = 0;
      do {
        this.runAgain = false;
        this.runOnce();
      } while (this.runAgain && ++rounds < 10_000);
    } finally {
      this.running = false;
    }
  }

  /** Run from the run loop soon (API calls never emit events from inside themselves). */
  scheduleRun(): void {
    if (this.runScheduled) return;
    this.runScheduled = true;
    this.s.run_loop.execute_on_main_thread((this.#scheduledRun ??= this.scheduledRun.bind(this)));
  }

  // ============================================================================ data (API)

  /** l2cap_send (arguments checked). */
  send(local_cid: number, data: Uint8Array, len: number): number {
    const s = this.s;
    const hci = s.hci;
    const ch = s.channelForCid(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    if (ch.state !== L2CAP_STATE_OPEN) return ERROR_CODE_COMMAND_DISALLOWED;
    if (len > ch.remote_mtu) return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (this.x.ertm.isErtm(ch)) return this.x.ertm.send(ch, data, len);
    if (!hci.hci_can_send_acl_packet_now(ch.con_handle)) return BTSTACK_ACL_BUFFERS_FULL;
    if (!hci.hci_reserve_packet_buffer()) return BTSTACK_ACL_BUFFERS_FULL;
    const buf = hci.hci_get_outgoing_packet_buffer();
    if (COMPLETE_L2CAP_HEADER + len > buf.length) {
      hci.hci_release_packet_buffer();
      return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    }
    buf.set(len === data.length ? data : data.subarray(0, len), COMPLETE_L2CAP_HEADER);
    return this.sendPrepared(ch.con_handle, ch.remote_cid, len);
  }

  /** l2cap_get_outgoing_buffer: HCI's buffer after room for the ACL and L2CAP headers. */
  outgoingBuffer(): Uint8Array {
    const b = this.s.hci.hci_get_outgoing_packet_buffer();
    if (!this.outgoingView || this.outgoingView.buffer !== b.buffer) this.outgoingView = b.subarray(COMPLETE_L2CAP_HEADER);
    return this.outgoingView;
  }

  /** l2cap_send_prepared (length checked). */
  sendPreparedSdu(local_cid: number, len: number): number {
    const s = this.s;
    const hci = s.hci;
    if (!hci.hci_is_packet_buffer_reserved()) {
      s.log.error('l2cap_send_prepared called without reserving the packet buffer');
      return BTSTACK_ACL_BUFFERS_FULL;
    }
    const ch = s.channelForCid(local_cid);
    let status: number = ERROR_CODE_SUCCESS;
    if (!ch) status = L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    else if (ch.state !== L2CAP_STATE_OPEN) status = ERROR_CODE_COMMAND_DISALLOWED;
    else if (len > ch.remote_mtu || COMPLETE_L2CAP_HEADER + len > hci.hci_get_outgoing_packet_buffer().length)
      status = L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    else if (!hci.hci_can_send_prepared_acl_packet_now(ch.con_handle)) status = BTSTACK_ACL_BUFFERS_FULL;
    if (status !== ERROR_CODE_SUCCESS) {
      hci.hci_release_packet_buffer();
      return status;
    }
    return this.sendPrepared(ch!.con_handle, ch!.remote_cid, len);
  }

  /** Finish and send the reserved buffer holding an L2CAP payload of `len` bytes at offset 8. */
  sendPrepared(con_handle: number, cid: number, len: number): number {
    const hci = this.s.hci;
    const buf = hci.hci_get_outgoing_packet_buffer();
    const pb = hci.hci_non_flushable_packet_boundary_flag_supported() ? 0x00 : 0x02;
    little_endian_store_16(buf, 0, (con_handle & 0x0fff) | (pb << 12));
    little_endian_store_16(buf, 2, len + L2CAP_HEADER_SIZE);
    little_endian_store_16(buf, 4, len);
    little_endian_store_16(buf, 6, cid);
    return hci.hci_send_acl_packet_buffer(len + COMPLETE_L2CAP_HEADER);
  }

  // ============================================================================ run loop pass

  private runOnce(): void {
    this.x.links.createPendingLinks();
    for (let i = 0; i < MAX_SENDS_PER_PASS; i++) {
      if (!this.sendOne()) break;
    }
    this.canSendNow();
  }

  /** Reserve HCI's outgoing buffer for a C-frame; null when it is busy. */
  private reserve(): Uint8Array | null {
    const hci = this.s.hci;
    if (!hci.hci_reserve_packet_buffer()) return null;
    return hci.hci_get_outgoing_packet_buffer();
  }

  /** Send the `n` bytes of commands written at offset 8 as a C-frame; false when nothing went out. */
  private finish(con_handle: number, n: number): boolean {
    const s = this.s;
    if (n < 0) {
      s.hci.hci_release_packet_buffer();
      s.log.error('signalling command does not fit the outgoing buffer');
      return false;
    }
    const st = this.sendPrepared(con_handle, L2CAP_CID_SIGNALING, n);
    if (st !== 0) s.log.error(() => `sending a signalling command failed with status 0x${st.toString(16)}`);
    return true;
  }

  private sendOne(): boolean {
    const s = this.s;
    const hci = s.hci;
    for (const link of s.links) {
      // what the link has to send first (plain fields), HCI's buffers only then: most runs find nothing
      const answer = !link.responses.empty;
      if (!answer && !this.x.echoInfo.hasRequest(link)) continue;
      if (!hci.hci_can_send_acl_packet_now(link.con_handle)) continue;
      if (answer) return this.sendResponse(link);
      const buf = this.reserve();
      if (!buf) return false;
      return this.finish(link.con_handle, this.x.echoInfo.writeRequest(link, buf, COMPLETE_L2CAP_HEADER));
    }
    const chans = s.channels;
    const n = chans.length;
    if (n === 0) return false;
    const start = this.rrSignal % n;
    for (let i = 0; i < n; i++) {
      const idx = (start + i) % n;
      const c = chans[idx]!;
      if (c.con_handle === HCI_CON_HANDLE_INVALID || !hasSignalling(c)) continue;
      if (!hci.hci_can_send_acl_packet_now(c.con_handle)) continue;
      if (this.channelStep(c)) {
        this.rrSignal = idx + 1;
        return true;
      }
    }
    return this.sendErtmFrame();
  }

  /** One frame of an ERTM / streaming channel with something to send (round robin). */
  private sendErtmFrame(): boolean {
    const hci = this.s.hci;
    const ertm = this.x.ertm;
    const chans = ertm.open;
    if (chans.length === 0) return false;
    for (let i = chans.length - 1; i >= 0; i--) {
      if (chans[i]!.ertm?.running) continue;
      chans[i] = chans[chans.length - 1]!; // its engine stopped (channel closed): leaves the list
      chans.pop();
    }
    const n = chans.length;
    if (n === 0) return false;
    const start = this.rrErtm % n;
    for (let i = 0; i < n; i++) {
      const idx = (start + i) % n;
      const c = chans[idx]!;
      if (!ertm.isErtm(c) || !c.ertm!.has_work()) continue;
      if (!hci.hci_can_send_acl_packet_now(c.con_handle)) continue;
      const buf = this.reserve();
      if (!buf) return false;
      // the engine writes the whole PDU (Basic header, control, SDU Length, payload, FCS) after the ACL header
      const len = c.ertm!.poll(buf, 4);
      if (len <= 0) {
        hci.hci_release_packet_buffer();
        continue;
      }
      this.rrErtm = idx + 1;
      const pb = hci.hci_non_flushable_packet_boundary_flag_supported() ? 0x00 : 0x02;
      little_endian_store_16(buf, 0, (c.con_handle & 0x0fff) | (pb << 12));
      little_endian_store_16(buf, 2, len);
      hci.hci_send_acl_packet_buffer(len + 4);
      return true;
    }
    return false;
  }

  private sendResponse(link: L2capLink): boolean {
    const q = link.responses;
    const r = q.peek();
    const buf = this.reserve();
    if (!buf) return false;
    const p = COMPLETE_L2CAP_HEADER;
    if (!r) {
      // a request the full queue had no room for: its Command Reject "not understood"
      const id = q.next_owed_reject();
      q.owed_reject_sent(id);
      return this.finish(link.con_handle, l2cap_sig_command_reject_not_understood(buf, p, id));
    }
    let n = -1;
    switch (r.code) {
      case COMMAND_REJECT:
        if (r.reason === L2CAP_REJ_MTU_EXCEEDED) n = l2cap_sig_command_reject_mtu_exceeded(buf, p, r.identifier, r.mtu);
        else if (r.reason === L2CAP_REJ_INVALID_CID)
          n = l2cap_sig_command_reject_invalid_cid(buf, p, r.identifier, r.local_cid, r.remote_cid);
        else n = l2cap_sig_command_reject_not_understood(buf, p, r.identifier);
        break;
      case CONNECTION_RESPONSE:
        n = l2cap_sig_connection_response(buf, p, r.identifier, r.local_cid, r.remote_cid, r.result, r.status);
        break;
      case ECHO_RESPONSE:
        n = l2cap_sig_echo_response(buf, p, r.identifier, r.echo_shared ? link.echo_rsp_data! : r.echo_inline, 0, r.echo_len);
        if (r.echo_shared) link.echo_rsp_busy = false;
        break;
      case INFORMATION_RESPONSE:
        switch (r.info_type) {
          case L2CAP_INFO_TYPE_CONNECTIONLESS_MTU:
            n = l2cap_sig_information_response_connectionless_mtu(buf, p, r.identifier, L2CAP_CONNECTIONLESS_MTU);
            break;
          case L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED:
            n = l2cap_sig_information_response_extended_features(buf, p, r.identifier, L2CAP_LOCAL_EXTENDED_FEATURES);
            break;
          case L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED:
            n = l2cap_sig_information_response_fixed_channels(buf, p, r.identifier, this.x.fixedChannels(), 0);
            break;
          default:
            n = l2cap_sig_information_response_not_supported(buf, p, r.identifier, r.info_type);
        }
        break;
      case DISCONNECTION_RESPONSE:
        n = l2cap_sig_disconnection_response(buf, p, r.identifier, r.local_cid, r.remote_cid);
        break;
      case CONFIGURE_RESPONSE:
        n = l2cap_sig_configure_response_raw(buf, p, r.identifier, r.remote_cid, r.flags, r.result, r.options, 0, r.options_len);
        break;
    }
    q.pop();
    return this.finish(link.con_handle, n);
  }

  /** One signalling step of a channel; true when a PDU went out. */
  private channelStep(c: L2capChannel): boolean {
    const s = this.s;
    const x = this.x;
    const p = COMPLETE_L2CAP_HEADER;
    switch (c.state) {
      case L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST: {
        const link = s.linkForHandle(c.con_handle);
        const refused = this.x.ertm.featuresKnown(c, link ? link.extended_features : 0);
        if (refused) {
          x.finalize(c, refused, 'mode not supported by the remote');
          return true;
        }
        const buf = this.reserve();
        if (!buf) return false;
        const id = s.nextSigId();
        const n = l2cap_sig_connection_request(buf, p, id, c.psm, c.local_cid);
        c.local_sig_id = id;
        x.setState(c, L2CAP_STATE_WAIT_CONNECT_RSP, 'Connection Request sent');
        x.startRtx(c);
        return this.finish(c.con_handle, n);
      }
      case L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE:
      case L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT: {
        const buf = this.reserve();
        if (!buf) return false;
        // BTstack sends status 0 "no further information" for both; the spec's statuses say which wait it is
        const n = l2cap_sig_connection_response(
          buf,
          p,
          c.remote_sig_id,
          c.local_cid,
          c.remote_cid,
          L2CAP_CONNECTION_RESULT_PENDING,
          c.state === L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE
            ? L2CAP_CONNECTION_STATUS_AUTHENTICATION_PENDING
            : L2CAP_CONNECTION_STATUS_AUTHORIZATION_PENDING,
        );
        c.todo &= ~TODO_SEND_CONN_RSP_PENDING;
        return this.finish(c.con_handle, n);
      }
      case L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_ACCEPT: {
        const buf = this.reserve();
        if (!buf) return false;
        const n = l2cap_sig_connection_response(
          buf,
          p,
          c.remote_sig_id,
          c.local_cid,
          c.remote_cid,
          L2CAP_CONNECTION_RESULT_SUCCESS,
          0,
        );
        x.enterConfig(c, 'Connection Response success sent');
        return this.finish(c.con_handle, n);
      }
      case L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE: {
        const buf = this.reserve();
        if (!buf) return false;
        const n = l2cap_sig_connection_response(buf, p, c.remote_sig_id, 0, c.remote_cid, c.refuse_result, 0);
        const sent = this.finish(c.con_handle, n);
        // declined by the application or refused for security: no event (undecided for too long: CHANNEL_OPENED 0x69)
        x.finalize(c, c.fail_status || -1, 'declined');
        return sent;
      }
      case L2CAP_STATE_CONFIG:
      case L2CAP_STATE_OPEN:
        if (c.todo & TODO_SEND_CONF_RSP) return this.sendConfigResponse(c);
        if (c.state === L2CAP_STATE_CONFIG && c.todo & TODO_SEND_CONF_REQ) return this.sendConfigRequest(c);
        return false;
      case L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST: {
        const buf = this.reserve();
        if (!buf) return false;
        const id = s.nextSigId();
        const n = l2cap_sig_disconnection_request(buf, p, id, c.remote_cid, c.local_cid);
        c.local_sig_id = id;
        x.setState(c, L2CAP_STATE_WAIT_DISCONNECT, 'Disconnection Request sent');
        x.startRtx(c);
        return this.finish(c.con_handle, n);
      }
      case L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE: {
        const buf = this.reserve();
        if (!buf) return false;
        const n = l2cap_sig_disconnection_response(buf, p, c.remote_sig_id, c.local_cid, c.remote_cid);
        const sent = this.finish(c.con_handle, n);
        x.finalize(c, c.fail_status, 'Disconnection Response sent');
        return sent;
      }
      default:
        return false;
    }
  }

  private sendConfigResponse(c: L2capChannel): boolean {
    const buf = this.reserve();
    if (!buf) return false;
    const n = l2cap_sig_configure_response_answer(
      buf,
      COMPLETE_L2CAP_HEADER,
      c.conf_rsp_id,
      c.remote_cid,
      c.conf_rsp_flags,
      c.conf_answer,
      c.conf_buf,
      0,
      c.conf_len,
    );
    c.todo &= ~TODO_SEND_CONF_RSP;
    const final = (c.conf_rsp_flags & L2CAP_CONFIG_FLAG_CONTINUATION) === 0;
    if (final) {
      if (c.conf_answer.result === L2CAP_CONF_RESULT_SUCCESS && c.cfg & L2CAP_CFG_REMOTE_REQ_RECEIVED)
        c.cfg |= L2CAP_CFG_REMOTE_RESPONDED;
      c.conf_len = 0;
      c.conf_buf = NO_BYTES; // answered: the options are not needed any more
    }
    const sent = this.finish(c.con_handle, n);
    if (c.state === L2CAP_STATE_CONFIG && l2cap_config_done(c.cfg)) this.x.open(c);
    return sent;
  }

  private sendConfigRequest(c: L2capChannel): boolean {
    const buf = this.reserve();
    if (!buf) return false;
    const id = this.s.nextSigId();
    const empty = (c.todo & TODO_CONF_REQ_EMPTY) !== 0;
    const opts = c.local_options.clear();
    if (!empty) {
      opts.set_mtu(c.local_mtu);
      this.x.ertm.requestOptions(c, opts);
    }
    const n = l2cap_sig_configure_request(buf, COMPLETE_L2CAP_HEADER, id, c.remote_cid, 0, opts);
    c.todo &= ~(TODO_SEND_CONF_REQ | TODO_CONF_REQ_EMPTY);
    c.local_sig_id = id;
    c.conf_requests++;
    c.cfg |= L2CAP_CFG_LOCAL_REQ_SENT;
    this.x.startRtx(c);
    return this.finish(c.con_handle, n);
  }

  private canSendNow(): void {
    const s = this.s;
    const chans = s.channels;
    const n = chans.length;
    if (n === 0) return;
    const start = this.rrIndex % n;
    for (let i = 0; i < n; i++) {
      const idx = (start + i) % n;
      const c = chans[idx]!;
      if (!c.waiting_for_can_send_now || c.state !== L2CAP_STATE_OPEN) continue;
      if (this.x.ertm.isErtm(c) ? !this.x.ertm.canSend(c) : !s.hci.hci_can_send_acl_packet_now(c.con_handle)) continue;
      c.waiting_for_can_send_now = false;
      this.rrIndex = idx + 1;
      s.events.canSendNow(c);
    }
  }
}

function hasSignalling(c: L2capChannel): boolean {
  switch (c.state) {
    case L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST:
    case L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_ACCEPT:
    case L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE:
    case L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST:
    case L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE:
      return true;
    case L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE:
    case L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT:
      return (c.todo & TODO_SEND_CONN_RSP_PENDING) !== 0;
    case L2CAP_STATE_CONFIG:
      return (c.todo & (TODO_SEND_CONF_RSP | TODO_SEND_CONF_REQ)) !== 0;
    case L2CAP_STATE_OPEN:
      return (c.todo & TODO_SEND_CONF_RSP) !== 0;
    default:
      return false;
  }
}
