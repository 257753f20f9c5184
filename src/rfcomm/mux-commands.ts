/**
 * RFCOMM multiplexer control commands (TS 07.10 5.4.6, as used by RFCOMM): the information
 * field of UIH frames on DLCI 0.
 *
 *   type(1: EA, C/R, 6-bit type) length(1|2: EA-chained, 7 bits per octet) value(length)
 *
 * Supported in RFCOMM: PN, MSC, RPN, RLS, Test, FCon, FCoff, NSC. Anything else (PSC, CLD, SNC,
 * unknown types) received as a command is answered with NSC carrying the command's type octet.
 * Encoders write type+length+value into a caller buffer (wrap it in a UIH frame on DLCI 0);
 * the decoder fills a caller-owned `RfcommMuxCommand` and returns a status whose action is
 * given by RFCOMM_MUX_ACTION.
 */

import { ERROR_CODE_MEMORY_CAPACITY_EXCEEDED, ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE } from '../codes/v1.4.js';

// ---- type field values (C/R and EA bits cleared) ----

export const RFCOMM_MUX_PN = 0x80; // DLC parameter negotiation
export const RFCOMM_MUX_PSC = 0x40; // power saving control (not used by RFCOMM)
export const RFCOMM_MUX_CLD = 0xc0; // multiplexer close down (not used by RFCOMM: DISC on DLCI 0)
export const RFCOMM_MUX_TEST = 0x20;
export const RFCOMM_MUX_FCON = 0xa0; // aggregate flow on
export const RFCOMM_MUX_FCOFF = 0x60; // aggregate flow off
export const RFCOMM_MUX_MSC = 0xe0; // modem status
export const RFCOMM_MUX_NSC = 0x10; // non supported command response
export const RFCOMM_MUX_RPN = 0x90; // remote port negotiation
export const RFCOMM_MUX_RLS = 0x50; // remote line status
export const RFCOMM_MUX_SNC = 0xd0; // service negotiation (not used by RFCOMM)

/** C/R bit of the type octet: 1 = command, 0 = response. */
export const RFCOMM_MUX_CR = 0x02;

// Full type octets, as BTstack names them (EA=1; _CMD with C/R=1, _RSP with C/R=0).
export const BT_RFCOMM_PN_CMD = 0x83;
export const BT_RFCOMM_PN_RSP = 0x81;
export const BT_RFCOMM_TEST_CMD = 0x23;
export const BT_RFCOMM_TEST_RSP = 0x21;
export const BT_RFCOMM_FCON_CMD = 0xa3;
export const BT_RFCOMM_FCON_RSP = 0xa1;
export const BT_RFCOMM_FCOFF_CMD = 0x63;
export const BT_RFCOMM_FCOFF_RSP = 0x61;
export const BT_RFCOMM_MSC_CMD = 0xe3;
export const BT_RFCOMM_MSC_RSP = 0xe1;
export const BT_RFCOMM_RPN_CMD = 0x93;
export const BT_RFCOMM_RPN_RSP = 0x91;
export const BT_RFCOMM_RLS_CMD = 0x53;
export const BT_RFCOMM_RLS_RSP = 0x51;
export const BT_RFCOMM_NSC_RSP = 0x11;

/** PN convergence-layer nibble: credit-based flow control requested (in a PN command). */
export const RFCOMM_PN_CL_CREDIT_REQUEST = 0xf0;
/** PN convergence-layer nibble: credit-based flow control accepted (in a PN response). */
export const RFCOMM_PN_CL_CREDIT_ACCEPT = 0xe0;

/** Value lengths. */
export const RFCOMM_PN_LEN = 8;
export const RFCOMM_RPN_LEN = 8;
export const RFCOMM_RPN_QUERY_LEN = 1;
export const RFCOMM_RLS_LEN = 2;
/** Largest value a two-octet length field can carry. */
export const RFCOMM_MUX_MAX_VALUE_LEN = 0x7fff;

// ---- typed values ----

/** PN parameters (all octets of the 8-octet value). */
export interface RfcommPn {
  /** DLCI the parameters are for (1-61). */
  dlci: number;
  /** I (frame type, low nibble, 0 = UIH) and CL (high nibble: 0xF0 request / 0xE0 accept credits). */
  cl: number;
  /** Priority 0-63. */
  priority: number;
  /** T1 acknowledgement timer (unused by RFCOMM, 0). */
  ack_timer: number;
  /** N1: maximum frame size (information octets), 1-32767. */
  max_frame_size: number;
  /** N2: maximum retransmissions (unused by RFCOMM, 0). */
  max_retransmissions: number;
  /** K: window size, used by RFCOMM as initial credits (0-7). */
  credits: number;
}

/** RPN port settings (the 7 octets after the DLCI, as BTstack's rfcomm_rpn_data_t). */
export interface RfcommRpn {
  /** RPN_BAUD_* */
  baud_rate: number;
  /** data bits (bits 0-1, 0=5 .. 3=8) | stop bits (bit 2) | parity (bits 3-5: RPN_PARITY_*). */
  flags: number;
  /** RPN_FLOW_CONTROL_* bits. */
  flow_control: number;
  xon: number;
  xoff: number;
  /** RPN_PARAM_MASK_0_* */
  parameter_mask_0: number;
  /** RPN_PARAM_MASK_1_* */
  parameter_mask_1: number;
}

/** Pack the RPN flags octet from a data-bits code (0=5 bits .. 3=8 bits), stop bits code and RPN_PARITY_*. */
export function rfcomm_rpn_flags(data_bits_code: number, stop_bits: number, parity: number): number {
  return (data_bits_code & 3) | ((stop_bits & 1) << 2) | ((parity & 7) << 3);
}

/** Data-bits code (0-3) of an RPN flags octet; the number of bits is code + 5. */
export function rfcomm_rpn_get_data_bits(flags: number): number {
  return flags & 3;
}
/** Stop-bits code: 0 = 1 stop bit, 1 = 1.5 stop bits. */
export function rfcomm_rpn_get_stop_bits(flags: number): number {
  return (flags >> 2) & 1;
}
/** Parity as RPN_PARITY_* (bit 0 = parity on, bits 1-2 = parity type). */
export function rfcomm_rpn_get_parity(flags: number): number {
  return (flags >> 3) & 7;
}

// ---- decoder ----

/**
 * Decoder status; RFCOMM_MUX_ACTION gives what the multiplexer does with each:
 * 'handle' the command/response, answer 'nsc', or 'discard' it (log and drop).
 */
export type RfcommMuxStatus =
  | 'ok'
  /** A command RFCOMM does not support (or an unknown type): answer NSC with out.type_octet. */
  | 'not-supported'
  /** A response of a type RFCOMM does not use. */
  | 'unknown-response'
  /** Fewer octets than the type and length fields, or the value runs past the information field. */
  | 'truncated'
  /** Type octet with EA=0 (multi-octet type, not used by RFCOMM). */
  | 'bad-type'
  /** Length field longer than two octets, or a value length wrong for the command. */
  | 'bad-length'
  /** DLCI/address octet inside the value has EA=0. */
  | 'bad-value';

export type RfcommMuxAction = 'handle' | 'nsc' | 'discard';

export const RFCOMM_MUX_ACTION: Readonly<Record<RfcommMuxStatus, RfcommMuxAction>> = Object.freeze({
  ok: 'handle',
  'not-supported': 'nsc',
  'unknown-response': 'discard',
  truncated: 'discard',
  'bad-type': 'discard',
  'bad-length': 'discard',
  'bad-value': 'discard',
});

/** A decoded multiplexer command: fields per `type`; a view into the caller's buffer. Reused. */
export class RfcommMuxCommand implements RfcommPn, RfcommRpn {
  /** Type with C/R and EA cleared (RFCOMM_MUX_*). */
  type = 0;
  /** Raw type octet as received (the value of an NSC answer). */
  type_octet = 0;
  /** C/R of the type octet: true = command, false = response. */
  command = false;
  /** Offset and length of the value field in the decoder's buffer (Test data, raw access). */
  value_pos = 0;
  value_len = 0;
  /** Octets consumed (type + length + value); another command may follow. */
  size = 0;

  // PN; MSC, RPN and RLS also set dlci
  dlci = 0;
  cl = 0;
  priority = 0;
  ack_timer = 0;
  max_frame_size = 0;
  max_retransmissions = 0;
  credits = 0;

  /** MSC: V.24 signals octet as received (EA | FC | RTC | RTR | IC | DV; MODEM_STATUS_*). */
  modem_status = 0;
  /** MSC: break signal octet, or -1 when absent. */
  break_signal = -1;

  /** RPN: true for the 1-octet query form (settings fields are then 0). */
  rpn_query = false;
  baud_rate = 0;
  flags = 0;
  flow_control = 0;
  xon = 0;
  xoff = 0;
  parameter_mask_0 = 0;
  parameter_mask_1 = 0;

  /** RLS: line status octet (LINE_STATUS_*). */
  line_status = 0;

  /** NSC: the type octet of the command the peer did not support. */
  nsc_type = 0;

  clear(): void {
    this.type = this.type_octet = this.value_pos = this.value_len = this.size = 0;
    this.command = false;
    this.dlci = this.cl = this.priority = this.ack_timer = this.max_frame_size = this.max_retransmissions = this.credits = 0;
    this.modem_status = 0;
    this.break_signal = -1;
    this.rpn_query = false;
    this.baud_rate = this.flags = this.flow_control = this.xon = this.xoff = this.parameter_mask_0 = this.parameter_mask_1 = 0;
    this.line_status = 0;
    this.nsc_type = 0;
  }
}

function isSupported(type: number): boolean {
  return (
    type === RFCOMM_MUX_PN ||
    type === RFCOMM_MUX_MSC ||
    type === RFCOMM_MUX_RPN ||
    type === RFCOMM_MUX_RLS ||
    type === RFCOMM_MUX_TEST ||
    type === RFCOMM_MUX_FCON ||
    type === RFCOMM_MUX_FCOFF ||
    type === RFCOMM_MUX_NSC
  );
}

/** Address/DLCI octet inside MSC, RPN and RLS values: EA=1, bit1=1, DLCI. */
function dlciOctet(dlci: number): number {
  return ((dlci & 0x3f) << 2) | 0x03;
}

/**
 * Decode one multiplexer command from buf[pos .. pos+len) (a UIH information field on DLCI 0).
 * Fills `out` (cleared first) and returns a status; see RFCOMM_MUX_ACTION. Never reads
 * outside the range.
 */
export function rfcomm_mux_decode(buf: Uint8Array, pos: number, len: number, out: RfcommMuxCommand): RfcommMuxStatus {
  out.clear();
  if (!(pos >= 0 && len >= 0 && pos + len <= buf.length)) return 'truncated';
  if (len < 2) return 'truncated';
  const t = buf[pos]!;
  out.type_octet = t;
  out.type = t & 0xfc;
  out.command = (t & RFCOMM_MUX_CR) !== 0;
  if ((t & 1) === 0) return 'bad-type';
  let p = pos + 1;
  const end = pos + len;
  const l0 = buf[p++]!;
  let vlen = l0 >> 1;
  if ((l0 & 1) === 0) {
    if (p >= end) return 'truncated';
    const l1 = buf[p++]!;
    if ((l1 & 1) === 0) return 'bad-length'; // more than two length octets
    vlen |= (l1 >> 1) << 7;
  }
  if (p + vlen > end) return 'truncated';
  out.value_pos = p;
  out.value_len = vlen;
  out.size = p + vlen - pos;
  if (!isSupported(out.type)) return out.command ? 'not-supported' : 'unknown-response';
  const v = p;
  switch (out.type) {
    case RFCOMM_MUX_PN:
      if (vlen !== RFCOMM_PN_LEN) return 'bad-length';
      out.dlci = buf[v]! & 0x3f;
      out.cl = buf[v + 1]!;
      out.priority = buf[v + 2]! & 0x3f;
      out.ack_timer = buf[v + 3]!;
      out.max_frame_size = buf[v + 4]! | (buf[v + 5]! << 8);
      out.max_retransmissions = buf[v + 6]!;
      out.credits = buf[v + 7]! & 0x07;
      return 'ok';
    case RFCOMM_MUX_MSC:
      if (vlen !== 2 && vlen !== 3) return 'bad-length';
      if ((buf[v]! & 1) === 0) return 'bad-value';
      out.dlci = buf[v]! >> 2;
      out.modem_status = buf[v + 1]!;
      out.break_signal = vlen === 3 ? buf[v + 2]! : -1;
      return 'ok';
    case RFCOMM_MUX_RPN:
      if (vlen !== RFCOMM_RPN_QUERY_LEN && vlen !== RFCOMM_RPN_LEN) return 'bad-length';
      if ((buf[v]! & 1) === 0) return 'bad-value';
      out.dlci = buf[v]! >> 2;
      out.rpn_query = vlen === RFCOMM_RPN_QUERY_LEN;
      if (!out.rpn_query) {
        out.baud_rate = buf[v + 1]!;
        out.flags = buf[v + 2]!;
        out.flow_control = buf[v + 3]!;
        out.xon = buf[v + 4]!;
        out.xoff = buf[v + 5]!;
        out.parameter_mask_0 = buf[v + 6]!;
        out.parameter_mask_1 = buf[v + 7]!;
      }
      return 'ok';
    case RFCOMM_MUX_RLS:
      if (vlen !== RFCOMM_RLS_LEN) return 'bad-length';
      if ((buf[v]! & 1) === 0) return 'bad-value';
      out.dlci = buf[v]! >> 2;
      out.line_status = buf[v + 1]!;
      return 'ok';
    case RFCOMM_MUX_NSC:
      if (vlen !== 1) return 'bad-length';
      out.nsc_type = buf[v]!;
      return 'ok';
    case RFCOMM_MUX_FCON:
    case RFCOMM_MUX_FCOFF:
      return vlen === 0 ? 'ok' : 'bad-length';
    default: // RFCOMM_MUX_TEST: any pattern, echoed back in the response
      return 'ok';
  }
}

// ---- encoders ----

/** Negative return of the encoders when `buf` has no room (nothing written). */
export const RFCOMM_MUX_BUFFER_TOO_SMALL = -ERROR_CODE_MEMORY_CAPACITY_EXCEEDED;
/** Negative return of the encoders for a value out of range (nothing written). */
export const RFCOMM_MUX_INVALID_ARGUMENT = -ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;

/** Size of a command with a value of `value_len` octets. */
export function rfcomm_mux_size(value_len: number): number {
  return 1 + (value_len > 127 ? 2 : 1) + value_len;
}

/** Write type and length; returns the value offset, or a negative error. */
function header(buf: Uint8Array, pos: number, type: number, command: boolean, vlen: number): number {
  if (!(vlen >= 0 && vlen <= RFCOMM_MUX_MAX_VALUE_LEN)) return RFCOMM_MUX_INVALID_ARGUMENT;
  if (!(pos >= 0 && pos + rfcomm_mux_size(vlen) <= buf.length)) return RFCOMM_MUX_BUFFER_TOO_SMALL;
  buf[pos] = (type & 0xfc) | (command ? RFCOMM_MUX_CR : 0) | 1;
  if (vlen > 127) {
    buf[pos + 1] = (vlen & 0x7f) << 1;
    buf[pos + 2] = ((vlen >> 7) << 1) | 1;
    return pos + 3;
  }
  buf[pos + 1] = (vlen << 1) | 1;
  return pos + 2;
}

/**
 * Encode any multiplexer command with a raw value (Test data, NSC, or a future type).
 * Returns the size written or a negative error.
 */
export function rfcomm_mux_encode(
  buf: Uint8Array,
  pos: number,
  type: number,
  command: boolean,
  value: Uint8Array | null,
  value_pos = 0,
  value_len = value ? value.length - value_pos : 0,
): number {
  if (value_len > 0 && (!value || value_pos < 0 || value_pos + value_len > value.length)) return RFCOMM_MUX_INVALID_ARGUMENT;
  const v = header(buf, pos, type, command, value_len);
  if (v < 0) return v;
  if (value && value_len > 0) buf.set(value.subarray(value_pos, value_pos + value_len), v);
  return v + value_len - pos;
}

/** PN command or response (10 octets). */
export function rfcomm_mux_encode_pn(buf: Uint8Array, pos: number, command: boolean, pn: RfcommPn): number {
  if (!(pn.max_frame_size >= 0 && pn.max_frame_size <= 0xffff)) return RFCOMM_MUX_INVALID_ARGUMENT;
  const v = header(buf, pos, RFCOMM_MUX_PN, command, RFCOMM_PN_LEN);
  if (v < 0) return v;
  buf[v] = pn.dlci & 0x3f;
  buf[v + 1] = pn.cl & 0xff;
  buf[v + 2] = pn.priority & 0x3f;
  buf[v + 3] = pn.ack_timer & 0xff;
  buf[v + 4] = pn.max_frame_size & 0xff;
  buf[v + 5] = pn.max_frame_size >> 8;
  buf[v + 6] = pn.max_retransmissions & 0xff;
  buf[v + 7] = pn.credits & 0x07;
  return v + RFCOMM_PN_LEN - pos;
}

/**
 * MSC command or response: `signals` = MODEM_STATUS_* bits (the EA bit is set here);
 * `break_signal` >= 0 adds the break octet (then the signals octet has EA=0).
 */
export function rfcomm_mux_encode_msc(
  buf: Uint8Array,
  pos: number,
  command: boolean,
  dlci: number,
  signals: number,
  break_signal = -1,
): number {
  const hasBreak = break_signal >= 0;
  const v = header(buf, pos, RFCOMM_MUX_MSC, command, hasBreak ? 3 : 2);
  if (v < 0) return v;
  buf[v] = dlciOctet(dlci);
  buf[v + 1] = (signals & 0xfe) | (hasBreak ? 0 : 1);
  if (hasBreak) buf[v + 2] = (break_signal & 0xff) | 1;
  return v + (hasBreak ? 3 : 2) - pos;
}

/** RPN command or response; `rpn` null encodes the 1-octet query form. */
export function rfcomm_mux_encode_rpn(
  buf: Uint8Array,
  pos: number,
  command: boolean,
  dlci: number,
  rpn: RfcommRpn | null,
): number {
  const vlen = rpn ? RFCOMM_RPN_LEN : RFCOMM_RPN_QUERY_LEN;
  const v = header(buf, pos, RFCOMM_MUX_RPN, command, vlen);
  if (v < 0) return v;
  buf[v] = dlciOctet(dlci);
  if (rpn) {
    buf[v + 1] = rpn.baud_rate & 0xff;
    buf[v + 2] = rpn.flags & 0xff;
    buf[v + 3] = rpn.flow_control & 0xff;
    buf[v + 4] = rpn.xon & 0xff;
    buf[v + 5] = rpn.xoff & 0xff;
    buf[v + 6] = rpn.parameter_mask_0 & 0xff;
    buf[v + 7] = rpn.parameter_mask_1 & 0xff;
  }
  return v + vlen - pos;
}

/** RLS command or response; `line_status` = LINE_STATUS_*. */
export function rfcomm_mux_encode_rls(buf: Uint8Array, pos: number, command: boolean, dlci: number, line_status: number): number {
  const v = header(buf, pos, RFCOMM_MUX_RLS, command, RFCOMM_RLS_LEN);
  if (v < 0) return v;
  buf[v] = dlciOctet(dlci);
  buf[v + 1] = line_status & 0xff;
  return v + RFCOMM_RLS_LEN - pos;
}

/** FCon or FCoff command/response (no value). */
export function rfcomm_mux_encode_fc(buf: Uint8Array, pos: number, command: boolean, on: boolean): number {
  return rfcomm_mux_encode(buf, pos, on ? RFCOMM_MUX_FCON : RFCOMM_MUX_FCOFF, command, null);
}

/** NSC response carrying the type octet of the unsupported command as received. */
export function rfcomm_mux_encode_nsc(buf: Uint8Array, pos: number, unsupported_type_octet: number): number {
  const v = header(buf, pos, RFCOMM_MUX_NSC, false, 1);
  if (v < 0) return v;
  buf[v] = unsupported_type_octet & 0xff;
  return v + 1 - pos;
}

/** Test command/response: the pattern is copied (echo it back in the response). */
export function rfcomm_mux_encode_test(
  buf: Uint8Array,
  pos: number,
  command: boolean,
  data: Uint8Array,
  data_pos = 0,
  data_len = data.length - data_pos,
): number {
  return rfcomm_mux_encode(buf, pos, RFCOMM_MUX_TEST, command, data, data_pos, data_len);
}
