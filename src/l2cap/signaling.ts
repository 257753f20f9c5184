/**
 * L2CAP BR/EDR signalling codec (Core spec v5.4, Vol 3, Part A, 4): pure, no I/O, no state.
 *
 * A C-frame on CID 0x0001 carries one or more commands, each
 *   Code (1) | Identifier (1) | Length (2, of the data only) | Data (Length octets)
 * all little endian. Encoders write one command into a caller-supplied buffer at an offset and
 * return the bytes written, or -1 when the buffer is too small (they never allocate);
 * l2cap_sig_frame_finish() puts the basic header (length, CID 0x0001) in front of the commands.
 *
 * Reception: L2capSignalingReader walks a C-frame and fills a reusable L2capSignalingCommand
 * per command; l2cap_sig_classify() says what the layer must do with it ('process', 'reject' with
 * a Command Reject reason, or 'drop'); the l2cap_sig_parse_* functions fill reusable typed views.
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
import { little_endian_read_16, little_endian_read_32, little_endian_store_16, little_endian_store_32 } from '../core/bytes.js';
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

/** Code, identifier, length: the header of every signalling command. */
export const L2CAP_SIGNALING_COMMAND_HEADER_SIZE = 4;

// Values from the spec that no reference table names (Vol 3 Part A, 4.3, 4.4, 4.10, 4.11, 4.12).
/** Connection Response status (meaningful with result Pending). */
export const L2CAP_CONNECTION_STATUS_NO_FURTHER_INFORMATION = 0x0000;
export const L2CAP_CONNECTION_STATUS_AUTHENTICATION_PENDING = 0x0001;
export const L2CAP_CONNECTION_STATUS_AUTHORIZATION_PENDING = 0x0002;
/** Configuration Request/Response flags: bit 0, continuation. */
export const L2CAP_CONFIG_FLAG_CONTINUATION = 0x0001;
/** Information Request InfoType. */
export const L2CAP_INFO_TYPE_CONNECTIONLESS_MTU = 0x0001;
export const L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED = 0x0002;
export const L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED = 0x0003;
/** Information Response result. */
export const L2CAP_INFO_RESULT_SUCCESS = 0x0000;
export const L2CAP_INFO_RESULT_NOT_SUPPORTED = 0x0001;
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

/** Names of the BR/EDR signalling codes (index = code) for logs. */
const CODE_NAMES = [
  '',
  'COMMAND_REJECT',
  'CONNECTION_REQUEST',
  'CONNECTION_RESPONSE',
  'CONFIGURE_REQUEST',
  'CONFIGURE_RESPONSE',
  'DISCONNECTION_REQUEST',
  'DISCONNECTION_RESPONSE',
  'ECHO_REQUEST',
  'ECHO_RESPONSE',
  'INFORMATION_REQUEST',
  'INFORMATION_RESPONSE',
] as const;

/** BTstack name of a BR/EDR signalling code, or 'UNKNOWN_0xNN'. */
export function l2cap_sig_code_name(code: number): string {
  return code >= 1 && code < CODE_NAMES.length ? CODE_NAMES[code]! : `UNKNOWN_0x${(code & 0xff).toString(16).padStart(2, '0')}`;
}

/** True for the request codes of Vol 3 Part A, 4 (any transport), which a response answers. */
export function l2cap_sig_is_request(code: number): boolean {
  switch (code) {
    case 0x02: case 0x04: case 0x06: case 0x08: case 0x0a: // BR/EDR
    case 0x0c: case 0x0e: case 0x10: // AMP create/move channel, move confirmation
    case 0x12: case 0x14: case 0x17: case 0x19: // LE parameter update, LE/enhanced credit based
      return true;
    default:
      return false;
  }
}

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

/** Command Reject, reason 0x0000 Command not understood (no reason data). */
export function l2cap_sig_command_reject_not_understood(buf: Uint8Array, pos: number, identifier: number): number {
  if (!room(buf, pos, 6)) return -1;
  header(buf, pos, COMMAND_REJECT, identifier, 2);
  little_endian_store_16(buf, pos + 4, L2CAP_REJ_CMD_UNKNOWN);
  return 6;
}

/** Command Reject, reason 0x0001 Signaling MTU exceeded, data: the actual MTUsig (2 octets). */
export function l2cap_sig_command_reject_mtu_exceeded(buf: Uint8Array, pos: number, identifier: number, mtu_sig: number): number {
  if (!room(buf, pos, 8)) return -1;
  header(buf, pos, COMMAND_REJECT, identifier, 4);
  little_endian_store_16(buf, pos + 4, L2CAP_REJ_MTU_EXCEEDED);
  little_endian_store_16(buf, pos + 6, mtu_sig);
  return 8;
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
  if (!room(buf, pos, 10)) return -1;
  header(buf, pos, COMMAND_REJECT, identifier, 6);
  little_endian_store_16(buf, pos + 4, L2CAP_REJ_INVALID_CID);
  little_endian_store_16(buf, pos + 6, local_cid);
  little_endian_store_16(buf, pos + 8, remote_cid);
  return 10;
}

/** Connection Request: PSM (2 octets), source CID. */
export function l2cap_sig_connection_request(buf: Uint8Array, pos: number, identifier: number, psm: number, scid: number): number {
  if (!room(buf, pos, 8)) return -1;
  header(buf, pos, CONNECTION_REQUEST, identifier, 4);
  little_endian_store_16(buf, pos + 4, psm);
  little_endian_store_16(buf, pos + 6, scid);
  return 8;
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
  if (!room(buf, pos, 12)) return -1;
  header(buf, pos, CONNECTION_RESPONSE, identifier, 8);
  little_endian_store_16(buf, pos + 4, dcid);
  little_endian_store_16(buf, pos + 6, scid);
  little_endian_store_16(buf, pos + 8, result);
  little_endian_store_16(buf, pos + 10, status);
  return 12;
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
  const olen = options ? l2cap_config_options_size(options) : 0;
  if (!room(buf, pos, 8 + olen)) return -1;
  header(buf, pos, CONFIGURE_REQUEST, identifier, 4 + olen);
  little_endian_store_16(buf, pos + 4, dcid);
  little_endian_store_16(buf, pos + 6, flags);
  if (options) l2cap_config_options_write(buf, pos + 8, options);
  return 8 + olen;
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
  if (!room(buf, pos, 8 + n) || n > 0xffff - 4) return -1;
  header(buf, pos, CONFIGURE_REQUEST, identifier, 4 + n);
  little_endian_store_16(buf, pos + 4, dcid);
  little_endian_store_16(buf, pos + 6, flags);
  for (let i = 0; i < n; i++) buf[pos + 8 + i] = src[off + i]!;
  return 8 + n;
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
  const olen = options ? l2cap_config_options_size(options) : 0;
  if (!room(buf, pos, 10 + olen)) return -1;
  header(buf, pos, CONFIGURE_RESPONSE, identifier, 6 + olen);
  little_endian_store_16(buf, pos + 4, scid);
  little_endian_store_16(buf, pos + 6, flags);
  little_endian_store_16(buf, pos + 8, result);
  if (options) l2cap_config_options_write(buf, pos + 10, options);
  return 10 + olen;
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
  if (!room(buf, pos, 10 + olen)) return -1;
  header(buf, pos, CONFIGURE_RESPONSE, identifier, 6 + olen);
  little_endian_store_16(buf, pos + 4, scid);
  little_endian_store_16(buf, pos + 6, flags);
  little_endian_store_16(buf, pos + 8, answer.result);
  l2cap_config_options_copy_unknown(req, opt_off, opt_len, buf, pos + 10);
  return 10 + olen;
}

/** Disconnection Request: destination CID, source CID. */
export function l2cap_sig_disconnection_request(buf: Uint8Array, pos: number, identifier: number, dcid: number, scid: number): number {
  if (!room(buf, pos, 8)) return -1;
  header(buf, pos, DISCONNECTION_REQUEST, identifier, 4);
  little_endian_store_16(buf, pos + 4, dcid);
  little_endian_store_16(buf, pos + 6, scid);
  return 8;
}

/** Disconnection Response: destination CID, source CID (echoing the request's values). */
export function l2cap_sig_disconnection_response(buf: Uint8Array, pos: number, identifier: number, dcid: number, scid: number): number {
  if (!room(buf, pos, 8)) return -1;
  header(buf, pos, DISCONNECTION_RESPONSE, identifier, 4);
  little_endian_store_16(buf, pos + 4, dcid);
  little_endian_store_16(buf, pos + 6, scid);
  return 8;
}

/** Echo Request with optional data (data[off, off+len)). */
export function l2cap_sig_echo_request(buf: Uint8Array, pos: number, identifier: number, data: Uint8Array | null = null, off = 0, len = data ? data.length - off : 0): number {
  return l2cap_sig_write_command(buf, pos, ECHO_REQUEST, identifier, data, off, len);
}

/** Echo Response with optional data (data[off, off+len)). */
export function l2cap_sig_echo_response(buf: Uint8Array, pos: number, identifier: number, data: Uint8Array | null = null, off = 0, len = data ? data.length - off : 0): number {
  return l2cap_sig_write_command(buf, pos, ECHO_RESPONSE, identifier, data, off, len);
}

/** Information Request: InfoType. */
export function l2cap_sig_information_request(buf: Uint8Array, pos: number, identifier: number, info_type: number): number {
  if (!room(buf, pos, 6)) return -1;
  header(buf, pos, INFORMATION_REQUEST, identifier, 2);
  little_endian_store_16(buf, pos + 4, info_type);
  return 6;
}

/** Information Response with result Not supported (no data), for any InfoType. */
export function l2cap_sig_information_response_not_supported(buf: Uint8Array, pos: number, identifier: number, info_type: number): number {
  if (!room(buf, pos, 8)) return -1;
  header(buf, pos, INFORMATION_RESPONSE, identifier, 4);
  little_endian_store_16(buf, pos + 4, info_type);
  little_endian_store_16(buf, pos + 6, L2CAP_INFO_RESULT_NOT_SUPPORTED);
  return 8;
}

/** Information Response, InfoType 0x0001: the connectionless MTU (2 octets). */
export function l2cap_sig_information_response_connectionless_mtu(buf: Uint8Array, pos: number, identifier: number, mtu: number): number {
  if (!room(buf, pos, 10)) return -1;
  header(buf, pos, INFORMATION_RESPONSE, identifier, 6);
  little_endian_store_16(buf, pos + 4, L2CAP_INFO_TYPE_CONNECTIONLESS_MTU);
  little_endian_store_16(buf, pos + 6, L2CAP_INFO_RESULT_SUCCESS);
  little_endian_store_16(buf, pos + 8, mtu);
  return 10;
}

/** Information Response, InfoType 0x0002: the extended feature mask (4 octets). */
export function l2cap_sig_information_response_extended_features(buf: Uint8Array, pos: number, identifier: number, mask: number): number {
  if (!room(buf, pos, 12)) return -1;
  header(buf, pos, INFORMATION_RESPONSE, identifier, 8);
  little_endian_store_16(buf, pos + 4, L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED);
  little_endian_store_16(buf, pos + 6, L2CAP_INFO_RESULT_SUCCESS);
  little_endian_store_32(buf, pos + 8, mask >>> 0);
  return 12;
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
  if (!room(buf, pos, 16)) return -1;
  header(buf, pos, INFORMATION_RESPONSE, identifier, 12);
  little_endian_store_16(buf, pos + 4, L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED);
  little_endian_store_16(buf, pos + 6, L2CAP_INFO_RESULT_SUCCESS);
  little_endian_store_32(buf, pos + 8, mask_low >>> 0);
  little_endian_store_32(buf, pos + 12, mask_high >>> 0);
  return 16;
}

// ---------------------------------------------------------------------------------------------
// Decoder

const EMPTY = new Uint8Array(0);

/**
 * One command of a C-frame, as the reader found it. Reused: valid until the next `next()` call
 * and only while the frame's buffer is (as every packet view in the stack).
 */
export class L2capSignalingCommand {
  /** The C-frame buffer. */
  buf: Uint8Array = EMPTY;
  /** Offset of the Code octet in buf. */
  offset = 0;
  code = 0;
  identifier = 0;
  /** The Length field as sent. */
  length = 0;
  /** Offset of the data in buf. */
  data_offset = 0;
  /**
   * Data octets actually present: equal to `length` for a well-delimited command; fewer when
   * the reader returned 'length-exceeds-frame'.
   */
  data_length = 0;

  /** A subarray view of the data (allocates a view object; hot paths use data_offset/data_length). */
  get data(): Uint8Array {
    return this.buf.subarray(this.data_offset, this.data_offset + this.data_length);
  }
}

/** What L2capSignalingReader.next() found. */
export type L2capSigReadStatus =
  /** A complete command is in the L2capSignalingCommand. */
  | 'command'
  /** No more octets in the frame. */
  | 'end'
  /** 1-3 octets left: not even a command header. The walk ends. */
  | 'truncated-header'
  /** The Length field claims more octets than the frame has left (the command's header is filled in). The walk ends. */
  | 'length-exceeds-frame';

/** Walks the commands of one C-frame payload (the octets after the basic L2CAP header). */
export class L2capSignalingReader {
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  private end = 0;

  /** Start on the C-frame information payload buf[pos, pos+len) (clamped to buf). */
  reset(buf: Uint8Array, pos: number, len: number): this {
    this.buf = buf;
    this.pos = Math.max(0, Math.min(pos, buf.length));
    this.end = Math.max(this.pos, Math.min(pos + len, buf.length));
    return this;
  }

  /** Offset of the next unread octet. */
  get position(): number {
    return this.pos;
  }

  next(cmd: L2capSignalingCommand): L2capSigReadStatus {
    const left = this.end - this.pos;
    if (left === 0) return 'end';
    const b = this.buf;
    const p = this.pos;
    cmd.buf = b;
    cmd.offset = p;
    if (left < L2CAP_SIGNALING_COMMAND_HEADER_SIZE) {
      cmd.code = b[p]!;
      cmd.identifier = left > 1 ? b[p + 1]! : 0;
      cmd.length = 0;
      cmd.data_offset = this.end;
      cmd.data_length = 0;
      this.pos = this.end;
      return 'truncated-header';
    }
    cmd.code = b[p]!;
    cmd.identifier = b[p + 1]!;
    cmd.length = b[p + 2]! | (b[p + 3]! << 8);
    cmd.data_offset = p + 4;
    if (cmd.length > left - 4) {
      cmd.data_length = left - 4;
      this.pos = this.end;
      return 'length-exceeds-frame';
    }
    cmd.data_length = cmd.length;
    this.pos = p + 4 + cmd.length;
    return 'command';
  }
}

/**
 * Identifier of the first request command in the C-frame payload buf[pos, pos+len) (for the
 * "Signaling MTU exceeded" reject); when there is no request, the first nonzero identifier of any
 * command; 0 when none can be found (then the frame is simply dropped).
 */
export function l2cap_sig_first_request_identifier(buf: Uint8Array, pos: number, len: number): number {
  const end = Math.min(pos + len, buf.length);
  let p = Math.max(0, pos);
  let any = 0;
  while (end - p >= 2) {
    const code = buf[p]!;
    const id = buf[p + 1]!;
    if (id !== 0) {
      if (l2cap_sig_is_request(code)) return id;
      if (any === 0) any = id;
    }
    if (end - p < 4) break;
    p += 4 + (buf[p + 2]! | (buf[p + 3]! << 8));
  }
  return any;
}

// ---------------------------------------------------------------------------------------------
// Classification: what the layer must do with a command

export type L2capSigProblem =
  | 'none'
  | 'invalid-identifier'
  | 'unknown-code'
  | 'request-too-short'
  | 'response-too-short'
  | 'truncated-header'
  | 'length-exceeds-frame'
  | 'signaling-mtu-exceeded';

/** The layer's reaction. `reason` (an L2CAP_REJ_* value) is meaningful for 'reject' only. */
export interface L2capSigVerdict {
  readonly action: 'process' | 'reject' | 'drop';
  readonly reason: number;
  readonly problem: L2capSigProblem;
}

function verdict(action: L2capSigVerdict['action'], reason: number, problem: L2capSigProblem): L2capSigVerdict {
  return Object.freeze({ action, reason, problem });
}

/** Immutable verdicts (shared, never modified). */
export const L2CAP_SIG_PROCESS = verdict('process', 0, 'none');
export const L2CAP_SIG_REJECT_UNKNOWN_CODE = verdict('reject', L2CAP_REJ_CMD_UNKNOWN, 'unknown-code');
export const L2CAP_SIG_REJECT_TOO_SHORT = verdict('reject', L2CAP_REJ_CMD_UNKNOWN, 'request-too-short');
export const L2CAP_SIG_REJECT_MTU_EXCEEDED = verdict('reject', L2CAP_REJ_MTU_EXCEEDED, 'signaling-mtu-exceeded');
export const L2CAP_SIG_DROP_INVALID_IDENTIFIER = verdict('drop', 0, 'invalid-identifier');
export const L2CAP_SIG_DROP_RESPONSE_TOO_SHORT = verdict('drop', 0, 'response-too-short');
export const L2CAP_SIG_DROP_TRUNCATED_HEADER = verdict('drop', 0, 'truncated-header');
export const L2CAP_SIG_DROP_LENGTH_EXCEEDS_FRAME = verdict('drop', 0, 'length-exceeds-frame');

/**
 * Octets of the PSM field starting at buf[off], given `avail` octets (Vol 3 Part A, 4.2: at least
 * 2, extended while an octet's least significant bit is 1); -1 when the field runs past `avail`.
 */
export function l2cap_sig_psm_length(buf: Uint8Array, off: number, avail: number): number {
  if (avail < 2) return -1;
  let n = 2;
  // octet 0 has bit 0 = 1 in any valid PSM; the field ends at the first octet (from the second on) with bit 0 = 0
  while ((buf[off + n - 1]! & 1) === 1) {
    if (n >= avail) return -1;
    n++;
  }
  return n;
}

/** Minimum data length of each BR/EDR command (index = code) before the variable parts. */
const MIN_LENGTH = [0, 2, 4, 8, 4, 6, 4, 4, 0, 0, 2, 4] as const;

/**
 * What the layer must do with a command the reader returned as 'command' on CID 0x0001 (ACL-U):
 * process it, answer it with a Command Reject (verdict.reason), or drop it. See the file header
 * for the spec rules. 'process' guarantees the matching l2cap_sig_parse_* succeeds.
 */
export function l2cap_sig_classify(cmd: L2capSignalingCommand): L2capSigVerdict {
  if (cmd.identifier === 0) return L2CAP_SIG_DROP_INVALID_IDENTIFIER;
  const code = cmd.code;
  if (code < COMMAND_REJECT || code > INFORMATION_RESPONSE) return L2CAP_SIG_REJECT_UNKNOWN_CODE;
  const len = cmd.data_length;
  const request = l2cap_sig_is_request(code);
  let ok = len >= MIN_LENGTH[code]!;
  if (ok) {
    const b = cmd.buf;
    const d = cmd.data_offset;
    switch (code) {
      case COMMAND_REJECT: {
        const reason = little_endian_read_16(b, d);
        if (reason === L2CAP_REJ_MTU_EXCEEDED) ok = len >= 4;
        else if (reason === L2CAP_REJ_INVALID_CID) ok = len >= 6;
        break;
      }
      case INFORMATION_RESPONSE:
        ok = len >= 4 + info_data_length(little_endian_read_16(b, d), little_endian_read_16(b, d + 2));
        break;
    }
  }
  if (ok) return L2CAP_SIG_PROCESS;
  return request ? L2CAP_SIG_REJECT_TOO_SHORT : L2CAP_SIG_DROP_RESPONSE_TOO_SHORT;
}

/** The verdict for a reader status other than 'command' ('end' gives L2CAP_SIG_PROCESS: nothing to do). */
export function l2cap_sig_classify_read_status(status: L2capSigReadStatus): L2capSigVerdict {
  switch (status) {
    case 'truncated-header':
      return L2CAP_SIG_DROP_TRUNCATED_HEADER;
    case 'length-exceeds-frame':
      return L2CAP_SIG_DROP_LENGTH_EXCEEDS_FRAME;
    default:
      return L2CAP_SIG_PROCESS;
  }
}

/**
 * Frame-level check, before walking: a C-frame payload longer than our MTUsig gets one Command
 * Reject "Signaling MTU exceeded" (with l2cap_sig_first_request_identifier; drop when that is 0)
 * and none of its commands are processed.
 */
export function l2cap_sig_classify_frame(payload_length: number, mtu_sig: number): L2capSigVerdict {
  return payload_length > mtu_sig ? L2CAP_SIG_REJECT_MTU_EXCEEDED : L2CAP_SIG_PROCESS;
}

/** Data octets a successful Information Response carries for `info_type` (0 for failures and unknown types). */
function info_data_length(info_type: number, result: number): number {
  if (result !== L2CAP_INFO_RESULT_SUCCESS) return 0;
  switch (info_type) {
    case L2CAP_INFO_TYPE_CONNECTIONLESS_MTU:
      return 2;
    case L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED:
      return 4;
    case L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED:
      return 8;
    default:
      return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Typed views. Each parse_* fills a reusable view from a command's data and returns true, or
// false (view unspecified) when the data is too short. Extra octets are ignored.

export class L2capCommandReject {
  reason = 0;
  /** Reason 0x0001: the rejecting side's actual MTUsig. */
  mtu = 0;
  /** Reason 0x0002: local and remote CIDs, relative to the sender of the reject. */
  local_cid = 0;
  remote_cid = 0;
}

export function l2cap_sig_parse_command_reject(cmd: L2capSignalingCommand, out: L2capCommandReject): boolean {
  const b = cmd.buf, d = cmd.data_offset, n = cmd.data_length;
  if (cmd.code !== COMMAND_REJECT || n < 2) return false;
  out.reason = little_endian_read_16(b, d);
  out.mtu = 0;
  out.local_cid = 0;
  out.remote_cid = 0;
  if (out.reason === L2CAP_REJ_MTU_EXCEEDED) {
    if (n < 4) return false;
    out.mtu = little_endian_read_16(b, d + 2);
  } else if (out.reason === L2CAP_REJ_INVALID_CID) {
    if (n < 6) return false;
    out.local_cid = little_endian_read_16(b, d + 2);
    out.remote_cid = little_endian_read_16(b, d + 4);
  }
  return true;
}

export class L2capConnectionRequest {
  /** The PSM when it is 2 octets long (every PSM assigned so far), else -1. */
  psm = 0;
  /** Octets of the PSM field (2, or more for an extended PSM). */
  psm_length = 2;
  /**
   * Whether the PSM is valid (Vol 3 Part A, 4.2): least significant octet odd, most significant
   * octet even. An invalid PSM is refused with result "PSM not supported".
   */
  psm_valid = false;
  scid = 0;
}

export function l2cap_sig_parse_connection_request(cmd: L2capSignalingCommand, out: L2capConnectionRequest): boolean {
  const b = cmd.buf, d = cmd.data_offset, n = cmd.data_length;
  if (cmd.code !== CONNECTION_REQUEST) return false;
  if (n < 4) return false;
  let plen = l2cap_sig_psm_length(b, d, n - 2); // the SCID needs the last 2 octets
  if (plen < 0) plen = 2; // extension does not fit: a 2-octet PSM, invalid (see the file header)
  out.psm_length = plen;
  out.psm = plen === 2 ? little_endian_read_16(b, d) : -1;
  out.psm_valid = (b[d]! & 1) === 1 && (b[d + plen - 1]! & 1) === 0;
  out.scid = little_endian_read_16(b, d + plen);
  return true;
}

export class L2capConnectionResponse {
  dcid = 0;
  scid = 0;
  result = 0;
  status = 0;
}

export function l2cap_sig_parse_connection_response(cmd: L2capSignalingCommand, out: L2capConnectionResponse): boolean {
  const b = cmd.buf, d = cmd.data_offset;
  if (cmd.code !== CONNECTION_RESPONSE || cmd.data_length < 8) return false;
  out.dcid = little_endian_read_16(b, d);
  out.scid = little_endian_read_16(b, d + 2);
  out.result = little_endian_read_16(b, d + 4);
  out.status = little_endian_read_16(b, d + 6);
  return true;
}

export class L2capConfigureRequest {
  dcid = 0;
  flags = 0;
  /** The options: buf[options_offset, options_offset + options_length) of the command's buffer. */
  options_offset = 0;
  options_length = 0;
  get continuation(): boolean {
    return (this.flags & L2CAP_CONFIG_FLAG_CONTINUATION) !== 0;
  }
}

export function l2cap_sig_parse_configure_request(cmd: L2capSignalingCommand, out: L2capConfigureRequest): boolean {
  const b = cmd.buf, d = cmd.data_offset, n = cmd.data_length;
  if (cmd.code !== CONFIGURE_REQUEST || n < 4) return false;
  out.dcid = little_endian_read_16(b, d);
  out.flags = little_endian_read_16(b, d + 2);
  out.options_offset = d + 4;
  out.options_length = n - 4;
  return true;
}

export class L2capConfigureResponse {
  scid = 0;
  flags = 0;
  result = 0;
  options_offset = 0;
  options_length = 0;
  get continuation(): boolean {
    return (this.flags & L2CAP_CONFIG_FLAG_CONTINUATION) !== 0;
  }
}

export function l2cap_sig_parse_configure_response(cmd: L2capSignalingCommand, out: L2capConfigureResponse): boolean {
  const b = cmd.buf, d = cmd.data_offset, n = cmd.data_length;
  if (cmd.code !== CONFIGURE_RESPONSE || n < 6) return false;
  out.scid = little_endian_read_16(b, d);
  out.flags = little_endian_read_16(b, d + 2);
  out.result = little_endian_read_16(b, d + 4);
  out.options_offset = d + 6;
  out.options_length = n - 6;
  return true;
}

/** Disconnection Request and Response share the layout: destination CID, source CID. */
export class L2capDisconnection {
  dcid = 0;
  scid = 0;
}

export function l2cap_sig_parse_disconnection(cmd: L2capSignalingCommand, out: L2capDisconnection): boolean {
  const b = cmd.buf, d = cmd.data_offset;
  if ((cmd.code !== DISCONNECTION_REQUEST && cmd.code !== DISCONNECTION_RESPONSE) || cmd.data_length < 4) return false;
  out.dcid = little_endian_read_16(b, d);
  out.scid = little_endian_read_16(b, d + 2);
  return true;
}

export class L2capInformationRequest {
  info_type = 0;
}

export function l2cap_sig_parse_information_request(cmd: L2capSignalingCommand, out: L2capInformationRequest): boolean {
  if (cmd.code !== INFORMATION_REQUEST || cmd.data_length < 2) return false;
  out.info_type = little_endian_read_16(cmd.buf, cmd.data_offset);
  return true;
}

export class L2capInformationResponse {
  info_type = 0;
  result = 0;
  /** InfoType 0x0001 (success): the connectionless MTU. */
  connectionless_mtu = 0;
  /** InfoType 0x0002 (success): the extended feature mask. */
  extended_features = 0;
  /** InfoType 0x0003 (success): fixed channels mask, bits 0-31 and 32-63. */
  fixed_channels_low = 0;
  fixed_channels_high = 0;
  /** The data after type and result (any InfoType): buf[data_offset, data_offset + data_length). */
  data_offset = 0;
  data_length = 0;
}

export function l2cap_sig_parse_information_response(cmd: L2capSignalingCommand, out: L2capInformationResponse): boolean {
  const b = cmd.buf, d = cmd.data_offset, n = cmd.data_length;
  if (cmd.code !== INFORMATION_RESPONSE || n < 4) return false;
  out.info_type = little_endian_read_16(b, d);
  out.result = little_endian_read_16(b, d + 2);
  if (n < 4 + info_data_length(out.info_type, out.result)) return false;
  out.data_offset = d + 4;
  out.data_length = n - 4;
  out.connectionless_mtu = 0;
  out.extended_features = 0;
  out.fixed_channels_low = 0;
  out.fixed_channels_high = 0;
  if (out.result === L2CAP_INFO_RESULT_SUCCESS) {
    switch (out.info_type) {
      case L2CAP_INFO_TYPE_CONNECTIONLESS_MTU:
        out.connectionless_mtu = little_endian_read_16(b, d + 4);
        break;
      case L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED:
        out.extended_features = little_endian_read_32(b, d + 4);
        break;
      case L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED:
        out.fixed_channels_low = little_endian_read_32(b, d + 4);
        out.fixed_channels_high = little_endian_read_32(b, d + 8);
        break;
    }
  }
  return true;
}
