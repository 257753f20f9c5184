/**
 * L2CAP channel states, as the FreeBSD ng_l2cap node documents and lists them
 * (ng_l2cap.h "L2CAP channel states"; l2control read_channel_list prints these names), mapped onto
 * BTstack's finer L2CAP_STATE_* values (reference table group l2cap-channel-state), plus the
 * configuration sub-state flags of the CONFIG state (Core spec v5.4, Vol 3, Part A, 6.1.4-6.1.5:
 * each direction is configured separately; the channel opens once both are done).
 *
 * Pure definitions: no state lives here.
 */
import {
  L2CAP_STATE_CLOSED,
  L2CAP_STATE_WILL_SEND_CREATE_CONNECTION,
  L2CAP_STATE_WAIT_CONNECTION_COMPLETE,
  L2CAP_STATE_WAIT_REMOTE_SUPPORTED_FEATURES,
  L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE,
  L2CAP_STATE_WAIT_OUTGOING_SECURITY_LEVEL_UPDATE,
  L2CAP_STATE_WAIT_INCOMING_EXTENDED_FEATURES,
  L2CAP_STATE_WAIT_OUTGOING_EXTENDED_FEATURES,
  L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT,
  L2CAP_STATE_WAIT_CONNECT_RSP,
  L2CAP_STATE_CONFIG,
  L2CAP_STATE_OPEN,
  L2CAP_STATE_WAIT_DISCONNECT,
  L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_INSUFFICIENT_SECURITY,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_ACCEPT,
  L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST,
  L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE,
  L2CAP_STATE_WILL_SEND_LE_CONNECTION_REQUEST,
  L2CAP_STATE_WILL_SEND_LE_CONNECTION_RESPONSE_DECLINE,
  L2CAP_STATE_WILL_SEND_LE_CONNECTION_RESPONSE_ACCEPT,
  L2CAP_STATE_WAIT_LE_CONNECTION_RESPONSE,
  L2CAP_STATE_EMIT_OPEN_FAILED_AND_DISCARD,
} from '../codes/v1.4.js';

// FreeBSD ng_l2cap channel states (same numbering as NG_L2CAP_* in ng_l2cap.h).
/** No channel, or fully closed. */
export const L2CAP_CHANNEL_CLOSED = 0;
/** Outgoing: waiting for the remote's Connection Response (incl. getting the ACL link up first). */
export const L2CAP_CHANNEL_W4_L2CAP_CON_RSP = 1;
/** Incoming: waiting for the local upper layer to accept or decline (then the response is sent). */
export const L2CAP_CHANNEL_W4_L2CA_CON_RSP = 2;
/** Connected, exchanging Configuration Request/Response both ways (see L2CAP_CFG_* flags). */
export const L2CAP_CHANNEL_CONFIG = 3;
/** Both directions configured: data flows. */
export const L2CAP_CHANNEL_OPEN = 4;
/** We sent (or will send) a Disconnection Request and wait for the remote's response. */
export const L2CAP_CHANNEL_W4_L2CAP_DISCON_RSP = 5;
/** The remote asked to disconnect; the local Disconnection Response is still to be sent. */
export const L2CAP_CHANNEL_W4_L2CA_DISCON_RSP = 6;

export type L2capChannelState = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/** The names the FreeBSD node prints (index = state). */
export const L2CAP_CHANNEL_STATE_NAMES: readonly string[] = Object.freeze([
  'CLOSED',
  'W4_L2CAP_CON_RSP',
  'W4_L2CA_CON_RSP',
  'CONFIG',
  'OPEN',
  'W4_L2CAP_DISCON_RSP',
  'W4_L2CA_DISCON_RSP',
]);

export function l2cap_channel_state_name(state: number): string {
  return L2CAP_CHANNEL_STATE_NAMES[state] ?? 'UNKNOWN';
}

/**
 * The FreeBSD state each BTstack L2CAP_STATE_* value belongs to (BTstack splits the FreeBSD
 * states into "will send X" / "wait for Y" steps). Values 0x01-0x18 are the same in v1.4.1 and
 * the current release. L2CAP_STATE_INVALID (0x19 in v1.4.1, 0x1E today) and the enhanced
 * credit-based states 0x19-0x1D of later releases are not mapped.
 */
const BTSTACK_TO_CHANNEL: ReadonlyArray<readonly [number, L2capChannelState]> = [
  [L2CAP_STATE_CLOSED, L2CAP_CHANNEL_CLOSED],
  [L2CAP_STATE_EMIT_OPEN_FAILED_AND_DISCARD, L2CAP_CHANNEL_CLOSED],
  // outgoing, before and while waiting for the Connection Response
  [L2CAP_STATE_WILL_SEND_CREATE_CONNECTION, L2CAP_CHANNEL_W4_L2CAP_CON_RSP],
  [L2CAP_STATE_WAIT_CONNECTION_COMPLETE, L2CAP_CHANNEL_W4_L2CAP_CON_RSP],
  [L2CAP_STATE_WAIT_REMOTE_SUPPORTED_FEATURES, L2CAP_CHANNEL_W4_L2CAP_CON_RSP],
  [L2CAP_STATE_WAIT_OUTGOING_SECURITY_LEVEL_UPDATE, L2CAP_CHANNEL_W4_L2CAP_CON_RSP],
  [L2CAP_STATE_WAIT_OUTGOING_EXTENDED_FEATURES, L2CAP_CHANNEL_W4_L2CAP_CON_RSP],
  [L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST, L2CAP_CHANNEL_W4_L2CAP_CON_RSP],
  [L2CAP_STATE_WAIT_CONNECT_RSP, L2CAP_CHANNEL_W4_L2CAP_CON_RSP],
  [L2CAP_STATE_WILL_SEND_LE_CONNECTION_REQUEST, L2CAP_CHANNEL_W4_L2CAP_CON_RSP],
  [L2CAP_STATE_WAIT_LE_CONNECTION_RESPONSE, L2CAP_CHANNEL_W4_L2CAP_CON_RSP],
  // incoming, until our Connection Response is sent
  [L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE, L2CAP_CHANNEL_W4_L2CA_CON_RSP],
  [L2CAP_STATE_WAIT_INCOMING_EXTENDED_FEATURES, L2CAP_CHANNEL_W4_L2CA_CON_RSP],
  [L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT, L2CAP_CHANNEL_W4_L2CA_CON_RSP],
  [L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_INSUFFICIENT_SECURITY, L2CAP_CHANNEL_W4_L2CA_CON_RSP],
  [L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE, L2CAP_CHANNEL_W4_L2CA_CON_RSP],
  [L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_ACCEPT, L2CAP_CHANNEL_W4_L2CA_CON_RSP],
  [L2CAP_STATE_WILL_SEND_LE_CONNECTION_RESPONSE_DECLINE, L2CAP_CHANNEL_W4_L2CA_CON_RSP],
  [L2CAP_STATE_WILL_SEND_LE_CONNECTION_RESPONSE_ACCEPT, L2CAP_CHANNEL_W4_L2CA_CON_RSP],
  [L2CAP_STATE_CONFIG, L2CAP_CHANNEL_CONFIG],
  [L2CAP_STATE_OPEN, L2CAP_CHANNEL_OPEN],
  [L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST, L2CAP_CHANNEL_W4_L2CAP_DISCON_RSP],
  [L2CAP_STATE_WAIT_DISCONNECT, L2CAP_CHANNEL_W4_L2CAP_DISCON_RSP],
  [L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE, L2CAP_CHANNEL_W4_L2CA_DISCON_RSP],
];

const BTSTACK_MAP: ReadonlyMap<number, L2capChannelState> = new Map(BTSTACK_TO_CHANNEL);

/** The FreeBSD-style state of a BTstack L2CAP_STATE_* value, or -1 for a value with no counterpart. */
export function l2cap_channel_state_from_btstack(btstack_state: number): L2capChannelState | -1 {
  return BTSTACK_MAP.get(btstack_state) ?? -1;
}

/** The BTstack states that make up one FreeBSD-style state (in ascending value order). */
export function l2cap_btstack_states_of(state: L2capChannelState): number[] {
  const out: number[] = [];
  for (const [b, s] of BTSTACK_TO_CHANNEL) if (s === state) out.push(b);
  return out.sort((a, z) => a - z);
}

// Configuration sub-state flags (valid in L2CAP_CHANNEL_CONFIG). "Local" = our Configuration
// Request, configuring what we receive (FreeBSD's incoming direction); "remote" = the peer's
// request, configuring what we send (FreeBSD's outgoing direction).
/** Our Configuration Request is sent (the last fragment, when continued). */
export const L2CAP_CFG_LOCAL_REQ_SENT = 1 << 0;
/** The remote answered our request with Success: our direction is configured. */
export const L2CAP_CFG_LOCAL_ACKED = 1 << 1;
/** A Configuration Request from the remote is received (the last fragment, when continued). */
export const L2CAP_CFG_REMOTE_REQ_RECEIVED = 1 << 2;
/** We answered the remote's request with Success: its direction is configured. */
export const L2CAP_CFG_REMOTE_RESPONDED = 1 << 3;
/** The remote's request so far had the continuation flag: more options are coming. */
export const L2CAP_CFG_REMOTE_CONTINUATION = 1 << 4;
/** Our request goes out in fragments and not all are sent yet. */
export const L2CAP_CFG_LOCAL_CONTINUATION = 1 << 5;
/** Both directions configured: the channel may enter OPEN. */
export const L2CAP_CFG_DONE = L2CAP_CFG_LOCAL_ACKED | L2CAP_CFG_REMOTE_RESPONDED;

/** True when both directions are configured. */
export function l2cap_config_done(flags: number): boolean {
  return (flags & L2CAP_CFG_DONE) === L2CAP_CFG_DONE;
}

/** BTstack's L2CAP_STATE_* names without the prefix (index = value; v1.4.1 numbering), for the transition log. */
const BTSTACK_STATE_NAMES: readonly string[] = Object.freeze([
  'INVALID_0',
  'CLOSED',
  'WILL_SEND_CREATE_CONNECTION',
  'WAIT_CONNECTION_COMPLETE',
  'WAIT_REMOTE_SUPPORTED_FEATURES',
  'WAIT_INCOMING_SECURITY_LEVEL_UPDATE',
  'WAIT_OUTGOING_SECURITY_LEVEL_UPDATE',
  'WAIT_INCOMING_EXTENDED_FEATURES',
  'WAIT_OUTGOING_EXTENDED_FEATURES',
  'WAIT_CLIENT_ACCEPT_OR_REJECT',
  'WAIT_CONNECT_RSP',
  'CONFIG',
  'OPEN',
  'WAIT_DISCONNECT',
  'WILL_SEND_CONNECTION_REQUEST',
  'WILL_SEND_CONNECTION_RESPONSE_INSUFFICIENT_SECURITY',
  'WILL_SEND_CONNECTION_RESPONSE_DECLINE',
  'WILL_SEND_CONNECTION_RESPONSE_ACCEPT',
  'WILL_SEND_DISCONNECT_REQUEST',
  'WILL_SEND_DISCONNECT_RESPONSE',
  'WILL_SEND_LE_CONNECTION_REQUEST',
  'WILL_SEND_LE_CONNECTION_RESPONSE_DECLINE',
  'WILL_SEND_LE_CONNECTION_RESPONSE_ACCEPT',
  'WAIT_LE_CONNECTION_RESPONSE',
  'EMIT_OPEN_FAILED_AND_DISCARD',
  'INVALID',
]);

/** BTstack's name of an L2CAP_STATE_* value without the prefix ('WAIT_CONNECT_RSP'), or 'UNKNOWN_0xNN'. */
export function l2cap_btstack_state_name(btstack_state: number): string {
  return BTSTACK_STATE_NAMES[btstack_state] ?? `UNKNOWN_0x${(btstack_state & 0xff).toString(16).padStart(2, '0')}`;
}
