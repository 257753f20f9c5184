/**
 * L2CAP BR/EDR signalling codec (Core spec v5.4, Vol 3, Part A, 4): pure, no I/O, no state.
 *
 * A C-frame on CID 0x0001 carries one or more commands, each
 *   Code (1) | Identifier (1) | Length (2, of the data only) | Data (Length octets)
 * all little endian. Every command's layout is one row of the table in signaling-format.ts
 * (code, name, fixed fields, variable tail). Encoders (here) write one command from that table
 * into a caller-supplied buffer at an offset and return the bytes written, or -1 when the buffer
 * is too small (they never allocate); l2cap_sig_frame_finish() puts the basic header (length,
 * CID 0x0001) in front of the commands.
 *
 * Reception (signaling-decode.ts, re-exported here): L2capSignalingReader walks a C-frame and
 * fills a reusable L2capSignalingCommand per command; l2cap_sig_classify() says what the layer
 * must do with it ('process', 'reject' with a Command Reject reason, or 'drop'); the
 * l2cap_sig_parse_* functions fill reusable typed views, field by field from the same table.
 *
 * Decisions, with the spec text they rest on (Vol 3 Part A):
 * - 4: "a Command Reject ... shall be sent in response to a command with an unknown command code"
 *   -> any code other than 0x01-0x0B (the BR/EDR commands this host implements; AMP 0x0C-0x11 and
 *   the LE-only / credit-based codes 0x12-0x1A included) is rejected with reason 0x0000
 *   "Command not understood", with the command's identifier.
 * - 4: identifier 0x00 "is an illegal identifier and shall never be used in any command": such a
 *   command cannot be answered (the answer would carry the illegal identifier) and is dropped.
 * - 4.1: Command Reject is also sent "when sending the corresponding response is inappropriate":
 *   a request too short for its mandatory fields cannot be answered, so it is rejected with
 *   "Command not understood". A short response (or Command Reject) has no answer and is dropped;
 *   the outstanding request then ends by its RTX timer. A Command Reject is never answered with
 *   a Command Reject.
 * - Octets after a command's defined fields are ignored (the fields of the longer form are read,
 *   the rest skipped): the layouts have grown over spec versions and a longer command is not
 *   "not understood".
 * - 4.2: the PSM field "is at least two octets", extended while the least significant bit of an
 *   octet is 1 (the most significant octet has it 0). The Connection Request is PSM + SCID, so it
 *   is at least 4 octets. A longer request whose PSM extension fits is read as an extended PSM.
 *   When the extension would not leave 2 octets for the SCID, the PSM is read as 2 octets and
 *   marked invalid: the request is understood, and the layer refuses it with result 0x0002
 *   "PSM not supported" (what peers and test systems sending an invalid PSM expect).
 * - 4: a C-frame larger than the receiver's MTUsig is answered with one Command Reject "Signaling
 *   MTU exceeded" carrying the actual MTUsig, whose identifier "shall match the first Request
 *   command in the C-frame"; the frame's commands are not processed.
 * - A command whose Length runs past the end of the C-frame, or 1-3 stray octets after the last
 *   command, cannot be delimited; they are dropped (the commands before them stand).
 *
 * Analyser note for the layer: Wireshark's btl2cap (tshark 4.0) marks an Echo Request/Response
 * with no data as malformed, and reads everything after an Echo command in a C-frame as echo
 * data. Both are valid L2CAP; to keep captures clean, put Echo commands last in a C-frame.
 */
import { little_endian_store_16 } from '../core/bytes.js';
import {
  COMMAND_REJECT,
  CONNECTION_REQUEST,
  CONNECTION_RESPONSE,
  CONFIGURE_REQUEST,
  CONFIGURE_RESPONSE,
  DISCONNECTION_REQUEST,
  DISCONNECTION_RESPONSE,
  ECHO_REQUEST,
  ECHO_RESPONSE,
  INFORMATION_REQUEST,
  INFORMATION_RESPONSE,
  L2CAP_REJ_CMD_UNKNOWN,
  L2CAP_CID_SIGNALING,
  L2CAP_HEADER_SIZE,
} from '../codes/v1.4.js';
// Wire constants that only the v1.8 table (BTstack >= v1.5/v1.6) names; same values for both profiles.
import {
  L2CAP_REJ_MTU_EXCEEDED,
  L2CAP_REJ_INVALID_CID,
  L2CAP_CONNECTION_RESULT_SUCCESS,
  L2CAP_CONNECTION_RESULT_PENDING,
  L2CAP_CONNECTION_RESULT_PSM_NOT_SUPPORTED,
  L2CAP_CONNECTION_RESULT_SECURITY_BLOCK,
  L2CAP_CONNECTION_RESULT_NO_RESOURCES_AVAILABLE,
  L2CAP_CONNECTION_RESULT_INVALID_SOURCE_CID,
  L2CAP_CONNECTION_RESULT_SOURCE_CID_ALREADY_ALLOCATED,
} from '../codes/v1.8.js';
import {
  L2capConfigAnswer,
  L2capConfigOptions,
  l2cap_config_options_copy_unknown,
  l2cap_config_options_size,
  l2cap_config_options_write,
  l2cap_config_unknown_options_size,
} from './config-options.js';
import {
  L2CAP_INFO_RESULT_NOT_SUPPORTED,
  L2CAP_INFO_RESULT_SUCCESS,
  L2CAP_INFO_TYPE_CONNECTIONLESS_MTU,
  L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED,
  L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED,
  L2CAP_SIG_FORMATS,
  L2CAP_SIG_INFO_DATA,
  L2CAP_SIG_REJECT_DATA,
  l2cap_sig_write,
} from './signaling-format.js';

export {
  L2CAP_INFO_RESULT_NOT_SUPPORTED,
  L2CAP_INFO_RESULT_SUCCESS,
  L2CAP_INFO_TYPE_CONNECTIONLESS_MTU,
  L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED,
  L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED,
  L2CAP_SIG_FORMATS,
  l2cap_sig_code_name,
  type L2capSigFormat,
} from './signaling-format.js';

export {
  L2CAP_REJ_CMD_UNKNOWN,
  L2CAP_REJ_MTU_EXCEEDED,
  L2CAP_REJ_INVALID_CID,
  L2CAP_CONNECTION_RESULT_SUCCESS,
  L2CAP_CONNECTION_RESULT_PENDING,
  L2CAP_CONNECTION_RESULT_PSM_NOT_SUPPORTED,
  L2CAP_CONNECTION_RESULT_SECURITY_BLOCK,
  L2CAP_CONNECTION_RESULT_NO_RESOURCES_AVAILABLE,
  L2CAP_CONNECTION_RESULT_INVALID_SOURCE_CID,
  L2CAP_CONNECTION_RESULT_SOURCE_CID_ALREADY_ALLOCATED,
};

// Values from the spec that no reference table names (Vol 3 Part A, 4.3, 4.4, 4.10, 4.11, 4.12).
/** Connection Response status (meaningful with result Pending). */
export const L2CAP_CONNECTION_STATUS_NO_FURTHER_INFORMATION = 0x0000;
export const L2CAP_CONNECTION_STATUS_AUTHENTICATION_PENDING = 0x0001;
export const L2CAP_CONNECTION_STATUS_AUTHORIZATION_PENDING = 0x0002;
/** Extended feature mask bits (Vol 3 Part A, 4.12, Table 4.13). */
export const L2CAP_EXTENDED_FEATURE_FLOW_CONTROL_MODE = 1 << 0;
export const L2CAP_EXTENDED_FEATURE_RETRANSMISSION_MODE = 1 << 1;
export const L2CAP_EXTENDED_FEATURE_BIDIRECTIONAL_QOS = 1 << 2;
export const L2CAP_EXTENDED_FEATURE_ENHANCED_RETRANSMISSION_MODE = 1 << 3;
export const L2CAP_EXTENDED_FEATURE_STREAMING_MODE = 1 << 4;
export const L2CAP_EXTENDED_FEATURE_FCS_OPTION = 1 << 5;
export const L2CAP_EXTENDED_FEATURE_EXTENDED_FLOW_SPECIFICATION = 1 << 6;
export const L2CAP_EXTENDED_FEATURE_FIXED_CHANNELS = 1 << 7;
export const L2CAP_EXTENDED_FEATURE_EXTENDED_WINDOW_SIZE = 1 << 8;
export const L2CAP_EXTENDED_FEATURE_UNICAST_CONNECTIONLESS_DATA_RECEPTION = 1 << 9;
export const L2CAP_EXTENDED_FEATURE_ENHANCED_CREDIT_BASED_FLOW_CONTROL_MODE = 1 << 10;

/** Next signalling identifier after `prev`: 1..255, wrapping, never 0 (Vol 3 Part A, 4). */
export function l2cap_sig_next_identifier(prev: number): number {
  const n = (prev & 0xff) + 1;
  return n > 0xff ? 1 : n;
}

// ---------------------------------------------------------------------------------------------
// Encoders

function room(buf: Uint8Array, pos: number, n: number): boolean {
  return pos >= 0 && pos + n <= buf.length;
}

function header(buf: Uint8Array, pos: number, code: number, identifier: number, length: number): void {
  buf[pos] = code;
  buf[pos + 1] = identifier & 0xff;
  little_endian_store_16(buf, pos + 2, length);
}

/** Write a command's code, identifier and length at buf[pos]; returns 4 or -1. */
export function l2cap_sig_write_header(buf: Uint8Array, pos: number, code: number, identifier: number, length: number): number {
  if (!room(buf, pos, 4)) return -1;
  header(buf, pos, code & 0xff, identifier, length);
  return 4;
}

/** Write any command with `data_len` octets copied from data[data_off]; returns size or -1. */
export function l2cap_sig_write_command(
  buf: Uint8Array,
  pos: number,
  code: number,
  identifier: number,
  data: Uint8Array | null,
  data_off = 0,
  data_len = data ? data.length - data_off : 0,
): number {
  const n = data ? Math.max(0, Math.min(data_len, data.length - data_off)) : 0;
  if (n > 0xffff || !room(buf, pos, 4 + n)) return -1;
  header(buf, pos, code & 0xff, identifier, n);
  for (let i = 0; i < n; i++) buf[pos + 4 + i] = data![data_off + i]!;
  return 4 + n;
}

/**
 * Put the basic L2CAP header (length, CID 0x0001) at buf[frame_pos] in front of the commands
 * written from frame_pos + 4 up to end_pos. Returns the C-frame size (header included) or -1.
 */
export function l2cap_sig_frame_finish(buf: Uint8Array, frame_pos: number, end_pos: number): number {
  const len = end_pos - frame_pos - L2CAP_HEADER_SIZE;
  if (len < 0 || len > 0xffff || !room(buf, frame_pos, L2CAP_HEADER_SIZE) || end_pos > buf.length) return -1;
  little_endian_store_16(buf, frame_pos, len);
  little_endian_store_16(buf, frame_pos + 2, L2CAP_CID_SIGNALING);
  return len + L2CAP_HEADER_SIZE;
}

// Every encoder below is one row of the command table (signaling-format.ts) written by
// l2cap_sig_write: header, fixed fields in the table's order, then the tail.

const REJECT_NOT_UNDERSTOOD = L2CAP_SIG_REJECT_DATA.get(L2CAP_REJ_CMD_UNKNOWN)!;
const REJECT_MTU_EXCEEDED = L2CAP_SIG_REJECT_DATA.get(L2CAP_REJ_MTU_EXCEEDED)!;
const REJECT_INVALID_CID = L2CAP_SIG_REJECT_DATA.get(L2CAP_REJ_INVALID_CID)!;
const INFO_CONNECTIONLESS_MTU = L2CAP_SIG_INFO_DATA.get(L2CAP_INFO_TYPE_CONNECTIONLESS_MTU)!;
const INFO_EXTENDED_FEATURES = L2CAP_SIG_INFO_DATA.get(L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED)!;
const INFO_FIXED_CHANNELS = L2CAP_SIG_INFO_DATA.get(L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED)!;
const CONFIGURE_REQUEST_FIXED = L2CAP_SIG_FORMATS[CONFIGURE_REQUEST]!.size;
const CONFIGURE_RESPONSE_FIXED = L2CAP_SIG_FORMATS[CONFIGURE_RESPONSE]!.size;

/** Command Reject, reason 0x0000 Command not understood (no reason data). */
export function l2cap_sig_command_reject_not_understood(buf: Uint8Array, pos: number, identifier: number): number {
  return l2cap_sig_write(buf, pos, COMMAND_REJECT, identifier, REJECT_NOT_UNDERSTOOD, 0, L2CAP_REJ_CMD_UNKNOWN);
}

/** Command Reject, reason 0x0001 Signaling MTU exceeded, data: the actual MTUsig (2 octets). */
export function l2cap_sig_command_reject_mtu_exceeded(buf: Uint8Array, pos: number, identifier: number, mtu_sig: number): number {
  return l2cap_sig_write(buf, pos, COMMAND_REJECT, identifier, REJECT_MTU_EXCEEDED, 0, L2CAP_REJ_MTU_EXCEEDED, mtu_sig);
}

/**
 * Command Reject, reason 0x0002 Invalid CID in request, data: the local (first) and remote
 * (second) endpoints of the channel, relative to the sender of the reject (4 octets).
 */
export function l2cap_sig_command_reject_invalid_cid(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  local_cid: number,
  remote_cid: number,
): number {
  return l2cap_sig_write(
    buf,
    pos,
    COMMAND_REJECT,
    identifier,
    REJECT_INVALID_CID,
    0,
    L2CAP_REJ_INVALID_CID,
    local_cid,
    remote_cid,
  );
}

/** Connection Request: PSM (2 octets), source CID. */
export function l2cap_sig_connection_request(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  psm: number,
  scid: number,
): number {
  return l2cap_sig_write(buf, pos, CONNECTION_REQUEST, identifier, null, 0, psm, scid);
}

/** Connection Response: destination CID, source CID, result, status. */
export function l2cap_sig_connection_response(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  dcid: number,
  scid: number,
  result: number,
  status: number,
): number {
  return l2cap_sig_write(buf, pos, CONNECTION_RESPONSE, identifier, null, 0, dcid, scid, result, status);
}

/** Configuration Request: destination CID, flags, then the options present in `options`. */
export function l2cap_sig_configure_request(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  dcid: number,
  flags: number,
  options: L2capConfigOptions | null,
): number {
  const n = l2cap_sig_write(
    buf,
    pos,
    CONFIGURE_REQUEST,
    identifier,
    null,
    options ? l2cap_config_options_size(options) : 0,
    dcid,
    flags,
  );
  if (n > 0 && options) l2cap_config_options_write(buf, pos + 4 + CONFIGURE_REQUEST_FIXED, options);
  return n;
}

/** Configuration Request with options already encoded in src[off, off+len). */
export function l2cap_sig_configure_request_raw(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  dcid: number,
  flags: number,
  src: Uint8Array,
  off: number,
  len: number,
): number {
  const n = Math.max(0, Math.min(len, src.length - off));
  const size = l2cap_sig_write(buf, pos, CONFIGURE_REQUEST, identifier, null, n, dcid, flags);
  if (size > 0) buf.set(src.subarray(off, off + n), pos + 4 + CONFIGURE_REQUEST_FIXED);
  return size;
}

/** Configuration Response: source CID, flags, result, then the options present in `options`. */
export function l2cap_sig_configure_response(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  scid: number,
  flags: number,
  result: number,
  options: L2capConfigOptions | null,
): number {
  const n = l2cap_sig_write(
    buf,
    pos,
    CONFIGURE_RESPONSE,
    identifier,
    null,
    options ? l2cap_config_options_size(options) : 0,
    scid,
    flags,
    result,
  );
  if (n > 0 && options) l2cap_config_options_write(buf, pos + 4 + CONFIGURE_RESPONSE_FIXED, options);
  return n;
}

/** Configuration Response with options already encoded in src[off, off+len). */
export function l2cap_sig_configure_response_raw(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  scid: number,
  flags: number,
  result: number,
  src: Uint8Array,
  off: number,
  len: number,
): number {
  const n = Math.max(0, Math.min(len, src.length - off));
  const size = l2cap_sig_write(buf, pos, CONFIGURE_RESPONSE, identifier, null, n, scid, flags, result);
  if (size > 0) buf.set(src.subarray(off, off + n), pos + 4 + CONFIGURE_RESPONSE_FIXED);
  return size;
}

/**
 * The Configuration Response for a request judged by l2cap_config_request_answer: result and
 * acceptable values from `answer`, or (Unknown Options) the unrecognised non-hint options copied
 * from the request's option bytes req[opt_off, opt_off+opt_len). `scid` is the requester's CID
 * (the channel's remote CID).
 */
export function l2cap_sig_configure_response_answer(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  scid: number,
  flags: number,
  answer: L2capConfigAnswer,
  req: Uint8Array,
  opt_off: number,
  opt_len: number,
): number {
  if (!answer.echo_unknown) return l2cap_sig_configure_response(buf, pos, identifier, scid, flags, answer.result, answer.options);
  const olen = l2cap_config_unknown_options_size(req, opt_off, opt_len);
  const n = l2cap_sig_write(buf, pos, CONFIGURE_RESPONSE, identifier, null, olen, scid, flags, answer.result);
  if (n > 0) l2cap_config_options_copy_unknown(req, opt_off, opt_len, buf, pos + 4 + CONFIGURE_RESPONSE_FIXED);
  return n;
}

/** Disconnection Request: destination CID, source CID. */
export function l2cap_sig_disconnection_request(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  dcid: number,
  scid: number,
): number {
  return l2cap_sig_write(buf, pos, DISCONNECTION_REQUEST, identifier, null, 0, dcid, scid);
}

/** Disconnection Response: destination CID, source CID (echoing the request's values). */
export function l2cap_sig_disconnection_response(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  dcid: number,
  scid: number,
): number {
  return l2cap_sig_write(buf, pos, DISCONNECTION_RESPONSE, identifier, null, 0, dcid, scid);
}

/** Echo Request with optional data (data[off, off+len)). */
export function l2cap_sig_echo_request(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  data: Uint8Array | null = null,
  off = 0,
  len = data ? data.length - off : 0,
): number {
  return l2cap_sig_write_command(buf, pos, ECHO_REQUEST, identifier, data, off, len);
}

/** Echo Response with optional data (data[off, off+len)). */
export function l2cap_sig_echo_response(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  data: Uint8Array | null = null,
  off = 0,
  len = data ? data.length - off : 0,
): number {
  return l2cap_sig_write_command(buf, pos, ECHO_RESPONSE, identifier, data, off, len);
}

/** Information Request: InfoType. */
export function l2cap_sig_information_request(buf: Uint8Array, pos: number, identifier: number, info_type: number): number {
  return l2cap_sig_write(buf, pos, INFORMATION_REQUEST, identifier, null, 0, info_type);
}

/** Information Response with result Not supported (no data), for any InfoType. */
export function l2cap_sig_information_response_not_supported(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  info_type: number,
): number {
  return l2cap_sig_write(buf, pos, INFORMATION_RESPONSE, identifier, null, 0, info_type, L2CAP_INFO_RESULT_NOT_SUPPORTED);
}

/** Information Response, InfoType 0x0001: the connectionless MTU (2 octets). */
export function l2cap_sig_information_response_connectionless_mtu(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  mtu: number,
): number {
  return l2cap_sig_write(
    buf,
    pos,
    INFORMATION_RESPONSE,
    identifier,
    INFO_CONNECTIONLESS_MTU,
    0,
    L2CAP_INFO_TYPE_CONNECTIONLESS_MTU,
    L2CAP_INFO_RESULT_SUCCESS,
    mtu,
  );
}

/** Information Response, InfoType 0x0002: the extended feature mask (4 octets). */
export function l2cap_sig_information_response_extended_features(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  mask: number,
): number {
  return l2cap_sig_write(
    buf,
    pos,
    INFORMATION_RESPONSE,
    identifier,
    INFO_EXTENDED_FEATURES,
    0,
    L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED,
    L2CAP_INFO_RESULT_SUCCESS,
    mask,
  );
}

/**
 * Information Response, InfoType 0x0003: the fixed channels supported (8 octets, bit N = CID N;
 * `mask_low` holds bits 0-31, `mask_high` bits 32-63).
 */
export function l2cap_sig_information_response_fixed_channels(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  mask_low: number,
  mask_high = 0,
): number {
  return l2cap_sig_write(
    buf,
    pos,
    INFORMATION_RESPONSE,
    identifier,
    INFO_FIXED_CHANNELS,
    0,
    L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED,
    L2CAP_INFO_RESULT_SUCCESS,
    mask_low,
    mask_high,
  );
}

export * from './signaling-decode.js';
