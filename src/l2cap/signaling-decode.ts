/**
 * L2CAP BR/EDR signalling decoder (Core v5.4 Vol 3 Part A, 4): pure, no I/O, no state.
 * L2capSignalingReader walks a C-frame and fills a reusable L2capSignalingCommand per command;
 * l2cap_sig_classify() says what the layer must do with it ('process', 'reject' with a Command
 * Reject reason, or 'drop'); the l2cap_sig_parse_* functions fill reusable typed views. Field
 * layouts and minimum lengths come from the command table (signaling-format.ts); the rules are
 * listed in signaling.ts's header. Re-exported by signaling.ts.
 */
import { little_endian_read_16 } from '../core/bytes.js';
import {
  COMMAND_REJECT,
  CONNECTION_REQUEST,
  CONNECTION_RESPONSE,
  CONFIGURE_REQUEST,
  CONFIGURE_RESPONSE,
  DISCONNECTION_REQUEST,
  DISCONNECTION_RESPONSE,
  INFORMATION_REQUEST,
  INFORMATION_RESPONSE,
  L2CAP_REJ_CMD_UNKNOWN,
} from '../codes/v1.4.js';
import { L2CAP_REJ_MTU_EXCEEDED } from '../codes/v1.8.js';
import {
  L2CAP_INFO_RESULT_SUCCESS,
  L2CAP_SIG_FORMATS,
  L2CAP_SIG_INFO_DATA,
  L2CAP_SIG_REJECT_DATA,
  l2cap_sig_info_data_size,
  l2cap_sig_read,
  l2cap_sig_reject_data_size,
} from './signaling-format.js';

/** Code, identifier, length: the header of every signalling command. */
export const L2CAP_SIGNALING_COMMAND_HEADER_SIZE = 4;
/** Configuration Request/Response flags: bit 0, continuation. */
export const L2CAP_CONFIG_FLAG_CONTINUATION = 0x0001;

/** True for the request codes of Vol 3 Part A, 4 (any transport), which a response answers. */
export function l2cap_sig_is_request(code: number): boolean {
  switch (code) {
    case 0x02:
    case 0x04:
    case 0x06:
    case 0x08:
    case 0x0a: // BR/EDR
    case 0x0c:
    case 0x0e:
    case 0x10: // AMP create/move channel, move confirmation
    case 0x12:
    case 0x14:
    case 0x17:
    case 0x19: // LE parameter update, LE/enhanced credit based
      return true;
    default:
      return false;
  }
}

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

/**
 * What the layer must do with a command the reader returned as 'command' on CID 0x0001 (ACL-U):
 * process it, answer it with a Command Reject (verdict.reason), or drop it. See signaling.ts's
 * header for the spec rules. The minimum lengths come from the command table
 * (signaling-format.ts). 'process' guarantees the matching l2cap_sig_parse_* succeeds.
 */
export function l2cap_sig_classify(cmd: L2capSignalingCommand): L2capSigVerdict {
  if (cmd.identifier === 0) return L2CAP_SIG_DROP_INVALID_IDENTIFIER;
  const f = L2CAP_SIG_FORMATS[cmd.code];
  if (!f) return L2CAP_SIG_REJECT_UNKNOWN_CODE;
  const len = cmd.data_length;
  let ok = len >= f.size;
  if (ok) {
    const b = cmd.buf;
    const d = cmd.data_offset;
    if (f.tail === 'reason-data') ok = len >= f.size + l2cap_sig_reject_data_size(little_endian_read_16(b, d));
    else if (f.tail === 'info-data')
      ok = len >= f.size + l2cap_sig_info_data_size(little_endian_read_16(b, d), little_endian_read_16(b, d + 2));
  }
  if (ok) return L2CAP_SIG_PROCESS;
  return f.request ? L2CAP_SIG_REJECT_TOO_SHORT : L2CAP_SIG_DROP_RESPONSE_TOO_SHORT;
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

// ---------------------------------------------------------------------------------------------
// Typed views. Each parse_* fills a reusable view from a command's data and returns true, or
// false (view unspecified) when the data is too short. Extra octets are ignored.

const FORMAT_REJECT = L2CAP_SIG_FORMATS[COMMAND_REJECT]!;
const FORMAT_CONNECTION_REQUEST = L2CAP_SIG_FORMATS[CONNECTION_REQUEST]!;
const FORMAT_CONFIGURE_REQUEST = L2CAP_SIG_FORMATS[CONFIGURE_REQUEST]!;
const FORMAT_CONFIGURE_RESPONSE = L2CAP_SIG_FORMATS[CONFIGURE_RESPONSE]!;
const FORMAT_INFORMATION_RESPONSE = L2CAP_SIG_FORMATS[INFORMATION_RESPONSE]!;

/** The fixed fields of command `code` into the same-named fields of `out`; false when the command is not `code` or too short. */
function read_fixed(cmd: L2capSignalingCommand, code: number, out: object): boolean {
  const f = L2CAP_SIG_FORMATS[code]!;
  if (cmd.code !== code || cmd.data_length < f.size) return false;
  l2cap_sig_read(cmd.buf, cmd.data_offset, f, out);
  return true;
}

export class L2capCommandReject {
  reason = 0;
  /** Reason 0x0001: the rejecting side's actual MTUsig. */
  mtu = 0;
  /** Reason 0x0002: local and remote CIDs, relative to the sender of the reject. */
  local_cid = 0;
  remote_cid = 0;
}

export function l2cap_sig_parse_command_reject(cmd: L2capSignalingCommand, out: L2capCommandReject): boolean {
  const f = FORMAT_REJECT;
  if (cmd.code !== f.code || cmd.data_length < f.size) return false;
  const p = l2cap_sig_read(cmd.buf, cmd.data_offset, f, out);
  out.mtu = 0;
  out.local_cid = 0;
  out.remote_cid = 0;
  const data = L2CAP_SIG_REJECT_DATA.get(out.reason);
  if (!data) return true;
  if (cmd.data_length < f.size + data.size) return false;
  l2cap_sig_read(cmd.buf, p, data, out);
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
  const b = cmd.buf,
    d = cmd.data_offset,
    n = cmd.data_length;
  if (cmd.code !== CONNECTION_REQUEST || n < FORMAT_CONNECTION_REQUEST.size) return false;
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
  return read_fixed(cmd, CONNECTION_RESPONSE, out);
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
  if (!read_fixed(cmd, CONFIGURE_REQUEST, out)) return false;
  out.options_offset = cmd.data_offset + FORMAT_CONFIGURE_REQUEST.size;
  out.options_length = cmd.data_length - FORMAT_CONFIGURE_REQUEST.size;
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
  if (!read_fixed(cmd, CONFIGURE_RESPONSE, out)) return false;
  out.options_offset = cmd.data_offset + FORMAT_CONFIGURE_RESPONSE.size;
  out.options_length = cmd.data_length - FORMAT_CONFIGURE_RESPONSE.size;
  return true;
}

/** Disconnection Request and Response share the layout: destination CID, source CID. */
export class L2capDisconnection {
  dcid = 0;
  scid = 0;
}

export function l2cap_sig_parse_disconnection(cmd: L2capSignalingCommand, out: L2capDisconnection): boolean {
  if (cmd.code !== DISCONNECTION_REQUEST && cmd.code !== DISCONNECTION_RESPONSE) return false;
  return read_fixed(cmd, cmd.code, out);
}

export class L2capInformationRequest {
  info_type = 0;
}

export function l2cap_sig_parse_information_request(cmd: L2capSignalingCommand, out: L2capInformationRequest): boolean {
  return read_fixed(cmd, INFORMATION_REQUEST, out);
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
  if (!read_fixed(cmd, INFORMATION_RESPONSE, out)) return false;
  const f = FORMAT_INFORMATION_RESPONSE;
  if (cmd.data_length < f.size + l2cap_sig_info_data_size(out.info_type, out.result)) return false;
  out.data_offset = cmd.data_offset + f.size;
  out.data_length = cmd.data_length - f.size;
  out.connectionless_mtu = 0;
  out.extended_features = 0;
  out.fixed_channels_low = 0;
  out.fixed_channels_high = 0;
  const data = out.result === L2CAP_INFO_RESULT_SUCCESS ? L2CAP_SIG_INFO_DATA.get(out.info_type) : undefined;
  if (data) l2cap_sig_read(cmd.buf, out.data_offset, data, out);
  return true;
}
