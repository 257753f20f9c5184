/**
 * The send side of L2CAP (BTstack's l2cap_run): find work, send at most one PDU per
 * opportunity (hci_can_send_acl_packet_now for the link), repeat while HCI takes more.
 *
 * Priority per pass: (1) signalling responses queued on a link, (2) the link's information and
 * echo requests, (3) the channels' signalling, one step each in round-robin order, then (4)
 * L2CAP_EVENT_CAN_SEND_NOW to the channels waiting for it, round robin starting after the last
 * channel served, so three busy channels get turns A, B, C, A, B, C.
 */
import {
  COMMAND_REJECT,
  CONNECTION_RESPONSE,
  DISCONNECTION_RESPONSE,
  ECHO_RESPONSE,
  HCI_CON_HANDLE_INVALID,
  INFORMATION_RESPONSE,
  L2CAP_CID_SIGNALING,
  L2CAP_CONF_RESULT_SUCCESS,
  L2CAP_STATE_CONFIG,
  L2CAP_STATE_OPEN,
  L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT,
  L2CAP_STATE_WAIT_CONNECT_RSP,
  L2CAP_STATE_WAIT_DISCONNECT,
  L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_ACCEPT,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE,
  L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST,
  L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE,
} from '../codes/v1.4.js';
import { L2CAP_CFG_LOCAL_REQ_SENT, L2CAP_CFG_REMOTE_RESPONDED, L2CAP_CFG_REMOTE_REQ_RECEIVED, l2cap_config_done } from './channel-state.js';
import {
  L2CAP_CONFIG_FLAG_CONTINUATION,
  L2CAP_CONNECTION_RESULT_NO_RESOURCES_AVAILABLE,
  L2CAP_CONNECTION_RESULT_PENDING,
  L2CAP_CONNECTION_RESULT_SUCCESS,
  L2CAP_CONNECTION_STATUS_AUTHORIZATION_PENDING,
  L2CAP_EXTENDED_FEATURE_FIXED_CHANNELS,
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
  l2cap_sig_connection_request,
  l2cap_sig_connection_response,
  l2cap_sig_disconnection_request,
  l2cap_sig_disconnection_response,
  l2cap_sig_echo_request,
  l2cap_sig_echo_response,
  l2cap_sig_information_request,
  l2cap_sig_information_response_connectionless_mtu,
  l2cap_sig_information_response_extended_features,
  l2cap_sig_information_response_fixed_channels,
  l2cap_sig_information_response_not_supported,
} from './signaling.js';
import {
  COMPLETE_L2CAP_HEADER,
  ECHO_W2_SEND,
  ECHO_W4_RESPONSE,
  INFO_W2_SEND_EXTENDED_FEATURES,
  INFO_W2_SEND_FIXED_CHANNELS,
  INFO_W4_EXTENDED_FEATURES,
  INFO_W4_FIXED_CHANNELS,
  L2CAP_CONNECTIONLESS_MTU,
  TODO_CONF_REQ_EMPTY,
  TODO_SEND_CONF_REQ,
  TODO_SEND_CONF_RSP,
  TODO_SEND_CONN_RSP_PENDING,
  type L2capChannel,
  type L2capLink,
} from './l2cap-objects.js';
import type { L2cap } from './l2cap.js';

/** Extended features this host announces: fixed channels supported, unicast connectionless data reception. */
export const L2CAP_LOCAL_EXTENDED_FEATURES = L2CAP_EXTENDED_FEATURE_FIXED_CHANNELS | L2CAP_EXTENDED_FEATURE_UNICAST_CONNECTIONLESS_DATA_RECEPTION;
/** Fixed channels this host announces: bit 1 signalling, bit 2 connectionless. */
export const L2CAP_LOCAL_FIXED_CHANNELS = (1 << 1) | (1 << 2);

/** Upper bound of PDUs per run pass (a safety net; HCI's buffer credits end a pass long before). */
const MAX_SENDS_PER_PASS = 4096;

export function l2cap_run_once(l: L2cap): void {
  l.createPendingLinks();
  for (let i = 0; i < MAX_SENDS_PER_PASS; i++) {
    if (!sendOne(l)) break;
  }
  canSendNow(l);
}

/** Reserve HCI's outgoing buffer for a C-frame; null when it is busy. */
function reserve(l: L2cap): Uint8Array | null {
  if (!l.hci.hci_reserve_packet_buffer()) return null;
  return l.hci.hci_get_outgoing_packet_buffer();
}

/** Send the `n` bytes of commands written at offset 8 as a C-frame; false when nothing went out. */
function finish(l: L2cap, con_handle: number, n: number): boolean {
  if (n < 0) {
    l.hci.hci_release_packet_buffer();
    l.log.error('signalling command does not fit the outgoing buffer');
    return false;
  }
  const st = l.sendPrepared(con_handle, L2CAP_CID_SIGNALING, n);
  if (st !== 0) l.log.error(() => `sending a signalling command failed with status 0x${st.toString(16)}`);
  return true;
}

function sendOne(l: L2cap): boolean {
  for (const link of l.links) {
    if (!l.hci.hci_can_send_acl_packet_now(link.con_handle)) continue;
    if (!link.responses.empty) return sendResponse(l, link);
    if (link.info_state === INFO_W2_SEND_EXTENDED_FEATURES || link.info_state === INFO_W2_SEND_FIXED_CHANNELS) return sendInfoRequest(l, link);
    if (link.echo_state === ECHO_W2_SEND) return sendEchoRequest(l, link);
  }
  const chans = l.channels;
  const n = chans.length;
  if (n === 0) return false;
  const start = l.rrSignal % n;
  for (let i = 0; i < n; i++) {
    const idx = (start + i) % n;
    const c = chans[idx]!;
    if (c.con_handle === HCI_CON_HANDLE_INVALID || !hasSignalling(c)) continue;
    if (!l.hci.hci_can_send_acl_packet_now(c.con_handle)) continue;
    if (channelStep(l, c)) {
      l.rrSignal = idx + 1;
      return true;
    }
  }
  return false;
}

function hasSignalling(c: L2capChannel): boolean {
  switch (c.state) {
    case L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST:
    case L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_ACCEPT:
    case L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE:
    case L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST:
    case L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE:
      return true;
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

function sendResponse(l: L2cap, link: L2capLink): boolean {
  const q = link.responses;
  const r = q.peek();
  const buf = reserve(l);
  if (!buf) return false;
  const p = COMPLETE_L2CAP_HEADER;
  if (!r) {
    // a request the full queue had no room for: its Command Reject "not understood"
    const id = q.next_owed_reject();
    q.owed_reject_sent(id);
    return finish(l, link.con_handle, l2cap_sig_command_reject_not_understood(buf, p, id));
  }
  let n = -1;
  switch (r.code) {
    case COMMAND_REJECT:
      if (r.reason === L2CAP_REJ_MTU_EXCEEDED) n = l2cap_sig_command_reject_mtu_exceeded(buf, p, r.identifier, r.mtu);
      else if (r.reason === L2CAP_REJ_INVALID_CID) n = l2cap_sig_command_reject_invalid_cid(buf, p, r.identifier, r.local_cid, r.remote_cid);
      else n = l2cap_sig_command_reject_not_understood(buf, p, r.identifier);
      break;
    case CONNECTION_RESPONSE:
      n = l2cap_sig_connection_response(buf, p, r.identifier, r.local_cid, r.remote_cid, r.result, r.status);
      break;
    case ECHO_RESPONSE:
      n = l2cap_sig_echo_response(buf, p, r.identifier, r.echo_shared ? link.echo_rsp_data : r.echo_inline, 0, r.echo_len);
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
          n = l2cap_sig_information_response_fixed_channels(buf, p, r.identifier, L2CAP_LOCAL_FIXED_CHANNELS, 0);
          break;
        default:
          n = l2cap_sig_information_response_not_supported(buf, p, r.identifier, r.info_type);
      }
      break;
    case DISCONNECTION_RESPONSE:
      n = l2cap_sig_disconnection_response(buf, p, r.identifier, r.local_cid, r.remote_cid);
      break;
  }
  q.pop();
  return finish(l, link.con_handle, n);
}

function sendInfoRequest(l: L2cap, link: L2capLink): boolean {
  const buf = reserve(l);
  if (!buf) return false;
  const id = l.nextSigId();
  const fixed = link.info_state === INFO_W2_SEND_FIXED_CHANNELS;
  const n = l2cap_sig_information_request(buf, COMPLETE_L2CAP_HEADER, id, fixed ? L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED : L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED);
  link.info_sig_id = id;
  link.info_state = fixed ? INFO_W4_FIXED_CHANNELS : INFO_W4_EXTENDED_FEATURES;
  l.startLinkTimer(link.info_timer, l.onInfoTimeout);
  return finish(l, link.con_handle, n);
}

function sendEchoRequest(l: L2cap, link: L2capLink): boolean {
  const buf = reserve(l);
  if (!buf) return false;
  const id = l.nextSigId();
  const n = l2cap_sig_echo_request(buf, COMPLETE_L2CAP_HEADER, id, link.echo_req_data, 0, link.echo_req_len);
  link.echo_sig_id = id;
  link.echo_state = ECHO_W4_RESPONSE;
  l.startLinkTimer(link.echo_timer, l.onEchoTimeout);
  l.noteActivity(link);
  return finish(l, link.con_handle, n);
}

/** One signalling step of a channel; true when a PDU went out. */
function channelStep(l: L2cap, c: L2capChannel): boolean {
  const p = COMPLETE_L2CAP_HEADER;
  switch (c.state) {
    case L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST: {
      const buf = reserve(l);
      if (!buf) return false;
      const id = l.nextSigId();
      const n = l2cap_sig_connection_request(buf, p, id, c.psm, c.local_cid);
      c.local_sig_id = id;
      c.state = L2CAP_STATE_WAIT_CONNECT_RSP;
      l.startRtx(c);
      return finish(l, c.con_handle, n);
    }
    case L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT: {
      const buf = reserve(l);
      if (!buf) return false;
      const n = l2cap_sig_connection_response(buf, p, c.remote_sig_id, c.local_cid, c.remote_cid, L2CAP_CONNECTION_RESULT_PENDING, L2CAP_CONNECTION_STATUS_AUTHORIZATION_PENDING);
      c.todo &= ~TODO_SEND_CONN_RSP_PENDING;
      return finish(l, c.con_handle, n);
    }
    case L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_ACCEPT: {
      const buf = reserve(l);
      if (!buf) return false;
      const n = l2cap_sig_connection_response(buf, p, c.remote_sig_id, c.local_cid, c.remote_cid, L2CAP_CONNECTION_RESULT_SUCCESS, 0);
      l.enterConfig(c);
      return finish(l, c.con_handle, n);
    }
    case L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE: {
      const buf = reserve(l);
      if (!buf) return false;
      const n = l2cap_sig_connection_response(buf, p, c.remote_sig_id, 0, c.remote_cid, L2CAP_CONNECTION_RESULT_NO_RESOURCES_AVAILABLE, 0);
      const sent = finish(l, c.con_handle, n);
      l.finalize(c, c.fail_status || -1); // declined by the application: no event (undecided for too long: CHANNEL_OPENED 0x69)
      return sent;
    }
    case L2CAP_STATE_CONFIG:
    case L2CAP_STATE_OPEN:
      if (c.todo & TODO_SEND_CONF_RSP) return sendConfigResponse(l, c);
      if (c.state === L2CAP_STATE_CONFIG && c.todo & TODO_SEND_CONF_REQ) return sendConfigRequest(l, c);
      return false;
    case L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST: {
      const buf = reserve(l);
      if (!buf) return false;
      const id = l.nextSigId();
      const n = l2cap_sig_disconnection_request(buf, p, id, c.remote_cid, c.local_cid);
      c.local_sig_id = id;
      c.state = L2CAP_STATE_WAIT_DISCONNECT;
      l.startRtx(c);
      return finish(l, c.con_handle, n);
    }
    case L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE: {
      const buf = reserve(l);
      if (!buf) return false;
      const n = l2cap_sig_disconnection_response(buf, p, c.remote_sig_id, c.local_cid, c.remote_cid);
      const sent = finish(l, c.con_handle, n);
      l.finalize(c, c.fail_status);
      return sent;
    }
    default:
      return false;
  }
}

function sendConfigResponse(l: L2cap, c: L2capChannel): boolean {
  const buf = reserve(l);
  if (!buf) return false;
  const n = l2cap_sig_configure_response_answer(buf, COMPLETE_L2CAP_HEADER, c.conf_rsp_id, c.remote_cid, c.conf_rsp_flags, c.conf_answer, c.conf_buf, 0, c.conf_len);
  c.todo &= ~TODO_SEND_CONF_RSP;
  const final = (c.conf_rsp_flags & L2CAP_CONFIG_FLAG_CONTINUATION) === 0;
  if (final) {
    if (c.conf_answer.result === L2CAP_CONF_RESULT_SUCCESS && c.cfg & L2CAP_CFG_REMOTE_REQ_RECEIVED) c.cfg |= L2CAP_CFG_REMOTE_RESPONDED;
    c.conf_len = 0;
  }
  const sent = finish(l, c.con_handle, n);
  if (c.state === L2CAP_STATE_CONFIG && l2cap_config_done(c.cfg)) l.openChannel(c);
  return sent;
}

function sendConfigRequest(l: L2cap, c: L2capChannel): boolean {
  const buf = reserve(l);
  if (!buf) return false;
  const id = l.nextSigId();
  const empty = (c.todo & TODO_CONF_REQ_EMPTY) !== 0;
  const opts = c.local_options.clear();
  if (!empty) opts.set_mtu(c.local_mtu);
  const n = l2cap_sig_configure_request(buf, COMPLETE_L2CAP_HEADER, id, c.remote_cid, 0, opts);
  c.todo &= ~(TODO_SEND_CONF_REQ | TODO_CONF_REQ_EMPTY);
  c.local_sig_id = id;
  c.conf_requests++;
  c.cfg |= L2CAP_CFG_LOCAL_REQ_SENT;
  l.startRtx(c);
  return finish(l, c.con_handle, n);
}

function canSendNow(l: L2cap): void {
  const chans = l.channels;
  const n = chans.length;
  if (n === 0) return;
  const start = l.rrIndex % n;
  for (let i = 0; i < n; i++) {
    const idx = (start + i) % n;
    const c = chans[idx]!;
    if (!c.waiting_for_can_send_now || c.state !== L2CAP_STATE_OPEN) continue;
    if (!l.hci.hci_can_send_acl_packet_now(c.con_handle)) continue;
    c.waiting_for_can_send_now = false;
    l.rrIndex = idx + 1;
    l.events.canSendNow(c);
  }
}

