/**
 * LE signalling commands on CID 0x0005 (Core v5.4 Vol 3 Part A, 4): writers for the commands
 * this host sends, and the constants of the LE-U commands. Pure: no state, no allocation. A
 * writer puts one command (code, identifier, length, data; all little endian) at buf[pos] and
 * returns its length, or -1 when it does not fit (nothing written). On LE-U each C-frame carries
 * exactly one command (4: "only one command per C-frame").
 */
import { little_endian_store_16 } from '../core/bytes.js';

export const LE_SIG_COMMAND_REJECT = 0x01;
export const LE_SIG_DISCONNECTION_REQUEST = 0x06;
export const LE_SIG_DISCONNECTION_RESPONSE = 0x07;
export const LE_SIG_CONNECTION_PARAMETER_UPDATE_REQUEST = 0x12;
export const LE_SIG_CONNECTION_PARAMETER_UPDATE_RESPONSE = 0x13;
export const LE_SIG_LE_CREDIT_BASED_CONNECTION_REQUEST = 0x14;
export const LE_SIG_LE_CREDIT_BASED_CONNECTION_RESPONSE = 0x15;
export const LE_SIG_FLOW_CONTROL_CREDIT_IND = 0x16;
export const LE_SIG_CREDIT_BASED_CONNECTION_REQUEST = 0x17;
export const LE_SIG_CREDIT_BASED_CONNECTION_RESPONSE = 0x18;
export const LE_SIG_CREDIT_BASED_RECONFIGURE_REQUEST = 0x19;
export const LE_SIG_CREDIT_BASED_RECONFIGURE_RESPONSE = 0x1a;

/** Command Reject reasons (4.1). */
export const LE_REJ_NOT_UNDERSTOOD = 0x0000;
export const LE_REJ_MTU_EXCEEDED = 0x0001;
export const LE_REJ_INVALID_CID = 0x0002;

/** MTUsig of LE-U this host accepts: the spec minimum, 23 octets (4). */
export const L2CAP_LE_SIGNALING_MTU = 23;
/** Smallest MTU and MPS of an LE credit-based channel (4.22, 4.23) and of an enhanced one (4.25). */
export const L2CAP_CBM_MIN_MTU = 23;
export const L2CAP_CBM_MIN_MPS = 23;
export const L2CAP_ECBM_MIN_MTU = 64;
export const L2CAP_ECBM_MIN_MPS = 64;
/** Largest MPS (4.22). */
export const L2CAP_CBM_MAX_MPS = 65533;
/** Largest credit count a channel may hold (4.24: more is a protocol error). */
export const L2CAP_CBM_MAX_CREDITS = 65535;
/** Channels one Credit Based Connection Request may open (4.25). */
export const L2CAP_ECBM_MAX_CHANNELS = 5;
/** LE PSM ranges (Vol 3 Part A 4.22; Assigned Numbers): fixed SIG-assigned 0x0001-0x007F, dynamic 0x0080-0x00FF. */
export const L2CAP_LE_PSM_MAX = 0x00ff;
export const L2CAP_LE_PSM_DYNAMIC_FIRST = 0x0080;

/** Result of a Connection Parameter Update Response (4.21). */
export const LE_CPU_RESULT_ACCEPTED = 0x0000;
export const LE_CPU_RESULT_REJECTED = 0x0001;

/** Write a command with `n` 16-bit fields (values[0..n)) followed by the 16-bit list extra[0..m). */
export function le_sig_write(
  buf: Uint8Array,
  pos: number,
  code: number,
  identifier: number,
  values: ArrayLike<number>,
  extra: ArrayLike<number> = EMPTY,
): number {
  const len = 2 * (values.length + extra.length);
  if (pos < 0 || pos + 4 + len > buf.length) return -1;
  buf[pos] = code;
  buf[pos + 1] = identifier;
  little_endian_store_16(buf, pos + 2, len);
  let p = pos + 4;
  for (let i = 0; i < values.length; i++, p += 2) little_endian_store_16(buf, p, values[i]!);
  for (let i = 0; i < extra.length; i++, p += 2) little_endian_store_16(buf, p, extra[i]!);
  return 4 + len;
}

const EMPTY: number[] = [];

/** Command Reject (4.1): reason 0 / 1 (+ MTUsig) / 2 (+ local, remote CID as the request named them). */
export function le_sig_command_reject(buf: Uint8Array, pos: number, identifier: number, reason: number, d1 = 0, d2 = 0): number {
  if (reason === LE_REJ_MTU_EXCEEDED) return le_sig_write(buf, pos, LE_SIG_COMMAND_REJECT, identifier, [reason, d1]);
  if (reason === LE_REJ_INVALID_CID) return le_sig_write(buf, pos, LE_SIG_COMMAND_REJECT, identifier, [reason, d1, d2]);
  return le_sig_write(buf, pos, LE_SIG_COMMAND_REJECT, identifier, [reason]);
}

/** Disconnection Request / Response (4.6, 4.7): DCID then SCID, as seen from the sender of the request. */
export function le_sig_disconnection(
  buf: Uint8Array,
  pos: number,
  code: number,
  identifier: number,
  dcid: number,
  scid: number,
): number {
  return le_sig_write(buf, pos, code, identifier, [dcid, scid]);
}

/** Connection Parameter Update Request (4.20): interval min, max (1.25 ms), latency, timeout (10 ms). */
export function le_sig_connection_parameter_update_request(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  interval_min: number,
  interval_max: number,
  latency: number,
  timeout: number,
): number {
  return le_sig_write(buf, pos, LE_SIG_CONNECTION_PARAMETER_UPDATE_REQUEST, identifier, [
    interval_min,
    interval_max,
    latency,
    timeout,
  ]);
}

/** LE Credit Based Connection Request (4.22): SPSM, SCID, MTU, MPS, initial credits. */
export function le_sig_le_credit_based_connection_request(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  spsm: number,
  scid: number,
  mtu: number,
  mps: number,
  credits: number,
): number {
  return le_sig_write(buf, pos, LE_SIG_LE_CREDIT_BASED_CONNECTION_REQUEST, identifier, [spsm, scid, mtu, mps, credits]);
}

/** LE Credit Based Connection Response (4.23): DCID, MTU, MPS, initial credits, result. */
export function le_sig_le_credit_based_connection_response(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  dcid: number,
  mtu: number,
  mps: number,
  credits: number,
  result: number,
): number {
  return le_sig_write(buf, pos, LE_SIG_LE_CREDIT_BASED_CONNECTION_RESPONSE, identifier, [dcid, mtu, mps, credits, result]);
}

/** Flow Control Credit Indication (4.24): CID (the sender's local = receiver's destination), credits. */
export function le_sig_flow_control_credit_ind(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  cid: number,
  credits: number,
): number {
  return le_sig_write(buf, pos, LE_SIG_FLOW_CONTROL_CREDIT_IND, identifier, [cid, credits]);
}

/** Credit Based Connection Request (4.25): SPSM, MTU, MPS, initial credits, then 1-5 SCIDs. */
export function le_sig_credit_based_connection_request(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  spsm: number,
  mtu: number,
  mps: number,
  credits: number,
  scids: ArrayLike<number>,
): number {
  return le_sig_write(buf, pos, LE_SIG_CREDIT_BASED_CONNECTION_REQUEST, identifier, [spsm, mtu, mps, credits], scids);
}

/** Credit Based Connection Response (4.26): MTU, MPS, initial credits, result, then one DCID per requested channel (0: refused). */
export function le_sig_credit_based_connection_response(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  mtu: number,
  mps: number,
  credits: number,
  result: number,
  dcids: ArrayLike<number>,
): number {
  return le_sig_write(buf, pos, LE_SIG_CREDIT_BASED_CONNECTION_RESPONSE, identifier, [mtu, mps, credits, result], dcids);
}

/** Credit Based Reconfigure Request (4.27): MTU, MPS, then 1-5 DCIDs (the receiver's CIDs). */
export function le_sig_credit_based_reconfigure_request(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  mtu: number,
  mps: number,
  dcids: ArrayLike<number>,
): number {
  return le_sig_write(buf, pos, LE_SIG_CREDIT_BASED_RECONFIGURE_REQUEST, identifier, [mtu, mps], dcids);
}

/** Credit Based Reconfigure Response (4.28): result. */
export function le_sig_credit_based_reconfigure_response(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  result: number,
): number {
  return le_sig_write(buf, pos, LE_SIG_CREDIT_BASED_RECONFIGURE_RESPONSE, identifier, [result]);
}

/**
 * True when a command code is one that gets an answer: everything but Command Reject, the
 * responses (odd codes 0x03-0x11 of BR/EDR, 0x13, 0x15, 0x18, 0x1A) and the Flow Control Credit
 * Indication. Unknown codes count as requests: they are answered "command not understood" (4.1).
 */
export function le_sig_is_request(code: number): boolean {
  if (code === LE_SIG_COMMAND_REJECT || code === LE_SIG_FLOW_CONTROL_CREDIT_IND) return false;
  if (code >= 0x03 && code <= 0x11) return (code & 1) === 0;
  switch (code) {
    case LE_SIG_CONNECTION_PARAMETER_UPDATE_RESPONSE:
    case LE_SIG_LE_CREDIT_BASED_CONNECTION_RESPONSE:
    case LE_SIG_CREDIT_BASED_CONNECTION_RESPONSE:
    case LE_SIG_CREDIT_BASED_RECONFIGURE_RESPONSE:
      return false;
    default:
      return true;
  }
}
