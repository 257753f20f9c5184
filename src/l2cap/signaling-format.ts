/**
 * The BR/EDR signalling commands as ONE table (Core v5.4 Vol 3 Part A, 4.1-4.11), as HCI
 * commands are (src/hci/commands.ts): per code the name, whether it is a request, the fixed
 * fields (name:octets, little endian) and what follows them. The encoders (signaling.ts), the
 * decoder's minimum lengths and typed views (signaling-decode.ts) and the names in logs all come
 * from it. Two variable tails have their own small tables: a Command Reject's reason data (by
 * reason) and a successful Information Response's data (by InfoType).
 *
 * Pure: no state, no allocation per command.
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
} from '../codes/v1.4.js';
// Wire constants that only the v1.8 table (BTstack >= v1.5/v1.6) names; same values for both profiles.
import { L2CAP_REJ_MTU_EXCEEDED, L2CAP_REJ_INVALID_CID } from '../codes/v1.8.js';

/** Information Request InfoType (Vol 3 Part A, 4.10). */
export const L2CAP_INFO_TYPE_CONNECTIONLESS_MTU = 0x0001;
export const L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED = 0x0002;
export const L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED = 0x0003;
/** Information Response result. */
export const L2CAP_INFO_RESULT_SUCCESS = 0x0000;
export const L2CAP_INFO_RESULT_NOT_SUPPORTED = 0x0001;

/** A run of fixed little-endian fields: names and octets (2 or 4), and their total size. */
export interface L2capSigLayout {
  readonly names: readonly string[];
  readonly sizes: readonly number[];
  readonly size: number;
}

/** What follows a command's fixed fields. */
export type L2capSigTail =
  /** nothing (octets after the fixed fields are ignored) */
  | 'none'
  /** Echo data, any length */
  | 'data'
  /** Configuration options (config-options.ts) */
  | 'options'
  /** Command Reject: reason data, by reason (L2CAP_SIG_REJECT_DATA) */
  | 'reason-data'
  /** Information Response: data by InfoType when the result is success (L2CAP_SIG_INFO_DATA) */
  | 'info-data';

export interface L2capSigFormat extends L2capSigLayout {
  readonly code: number;
  /** BTstack's name (COMMAND_REJECT, CONNECTION_REQUEST, ...). */
  readonly name: string;
  readonly request: boolean;
  readonly tail: L2capSigTail;
}

/** A layout from 'name:octets name:octets ...' ('' for none). */
export function l2cap_sig_layout(spec: string): L2capSigLayout {
  const names: string[] = [];
  const sizes: number[] = [];
  for (const f of spec.split(' ').filter((x) => x !== '')) {
    const [name, octets] = f.split(':');
    const n = Number(octets);
    if (!name || (n !== 2 && n !== 4)) throw new TypeError(`bad signalling field '${f}'`);
    names.push(name);
    sizes.push(n);
  }
  return Object.freeze({ names: Object.freeze(names), sizes: Object.freeze(sizes), size: sizes.reduce((a, b) => a + b, 0) });
}

function cmd(code: number, name: string, request: boolean, fields: string, tail: L2capSigTail): L2capSigFormat {
  return Object.freeze({ ...l2cap_sig_layout(fields), code, name, request, tail });
}

/** The table: index = code (0x01-0x0B, the BR/EDR commands this host implements). */
export const L2CAP_SIG_FORMATS: readonly (L2capSigFormat | undefined)[] = (() => {
  const rows = [
    cmd(COMMAND_REJECT, 'COMMAND_REJECT', false, 'reason:2', 'reason-data'),
    // the PSM is at least 2 octets and may be longer (4.2): the decoder reads extended PSMs
    cmd(CONNECTION_REQUEST, 'CONNECTION_REQUEST', true, 'psm:2 scid:2', 'none'),
    cmd(CONNECTION_RESPONSE, 'CONNECTION_RESPONSE', false, 'dcid:2 scid:2 result:2 status:2', 'none'),
    cmd(CONFIGURE_REQUEST, 'CONFIGURE_REQUEST', true, 'dcid:2 flags:2', 'options'),
    cmd(CONFIGURE_RESPONSE, 'CONFIGURE_RESPONSE', false, 'scid:2 flags:2 result:2', 'options'),
    cmd(DISCONNECTION_REQUEST, 'DISCONNECTION_REQUEST', true, 'dcid:2 scid:2', 'none'),
    cmd(DISCONNECTION_RESPONSE, 'DISCONNECTION_RESPONSE', false, 'dcid:2 scid:2', 'none'),
    cmd(ECHO_REQUEST, 'ECHO_REQUEST', true, '', 'data'),
    cmd(ECHO_RESPONSE, 'ECHO_RESPONSE', false, '', 'data'),
    cmd(INFORMATION_REQUEST, 'INFORMATION_REQUEST', true, 'info_type:2', 'none'),
    cmd(INFORMATION_RESPONSE, 'INFORMATION_RESPONSE', false, 'info_type:2 result:2', 'info-data'),
  ];
  const table: (L2capSigFormat | undefined)[] = [];
  for (const r of rows) table[r.code] = r;
  return Object.freeze(table);
})();

/** Command Reject reason data (4.1), by reason; other reasons carry none. */
export const L2CAP_SIG_REJECT_DATA: ReadonlyMap<number, L2capSigLayout> = new Map([
  [L2CAP_REJ_CMD_UNKNOWN, l2cap_sig_layout('')],
  [L2CAP_REJ_MTU_EXCEEDED, l2cap_sig_layout('mtu:2')],
  [L2CAP_REJ_INVALID_CID, l2cap_sig_layout('local_cid:2 remote_cid:2')],
]);

/** Data of a successful Information Response (4.11), by InfoType; other types carry none. */
export const L2CAP_SIG_INFO_DATA: ReadonlyMap<number, L2capSigLayout> = new Map([
  [L2CAP_INFO_TYPE_CONNECTIONLESS_MTU, l2cap_sig_layout('connectionless_mtu:2')],
  [L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED, l2cap_sig_layout('extended_features:4')],
  [L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED, l2cap_sig_layout('fixed_channels_low:4 fixed_channels_high:4')],
]);

const NO_FIELDS = l2cap_sig_layout('');

/** Octets of a Command Reject's reason data. */
export function l2cap_sig_reject_data_size(reason: number): number {
  return (L2CAP_SIG_REJECT_DATA.get(reason) ?? NO_FIELDS).size;
}

/** Octets of data an Information Response carries after type and result (0 for failures and unknown types). */
export function l2cap_sig_info_data_size(info_type: number, result: number): number {
  if (result !== L2CAP_INFO_RESULT_SUCCESS) return 0;
  return (L2CAP_SIG_INFO_DATA.get(info_type) ?? NO_FIELDS).size;
}

/** BTstack name of a BR/EDR signalling code, or 'UNKNOWN_0xNN'. */
export function l2cap_sig_code_name(code: number): string {
  return L2CAP_SIG_FORMATS[code]?.name ?? `UNKNOWN_0x${(code & 0xff).toString(16).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Generic writer and reader of fixed fields

/**
 * Write one command: header (code, identifier, Length = fixed fields + extra fields + tail), the
 * fixed fields of `code` then those of `extra` from the values a, b, c, d in order, and room for
 * `tail_len` octets of tail that the caller fills at the returned size minus tail_len. Returns
 * the command's size, or -1 when buf has no room (or the Length would not fit 16 bits).
 */
export function l2cap_sig_write(
  buf: Uint8Array,
  pos: number,
  code: number,
  identifier: number,
  extra: L2capSigLayout | null,
  tail_len: number,
  a = 0,
  b = 0,
  c = 0,
  d = 0,
): number {
  const f = L2CAP_SIG_FORMATS[code]!;
  const len = f.size + (extra ? extra.size : 0) + tail_len;
  if (pos < 0 || pos + 4 + len > buf.length || len > 0xffff) return -1;
  buf[pos] = code;
  buf[pos + 1] = identifier & 0xff;
  little_endian_store_16(buf, pos + 2, len);
  let p = pos + 4;
  let i = 0;
  for (let pass = 0; pass < 2; pass++) {
    const l = pass === 0 ? f : extra;
    if (!l) break;
    const sizes = l.sizes;
    for (let k = 0; k < sizes.length; k++, i++) {
      const v = i === 0 ? a : i === 1 ? b : i === 2 ? c : d;
      if (sizes[k] === 2) little_endian_store_16(buf, p, v);
      else little_endian_store_32(buf, p, v >>> 0);
      p += sizes[k]!;
    }
  }
  return 4 + len;
}

/**
 * Read the fields of `layout` from buf[pos] into the same-named properties of `out` (the caller
 * checked the length). Returns the offset after them.
 */
export function l2cap_sig_read(buf: Uint8Array, pos: number, layout: L2capSigLayout, out: object): number {
  const o = out as Record<string, number>;
  const { names, sizes } = layout;
  for (let k = 0; k < sizes.length; k++) {
    o[names[k]!] = sizes[k] === 2 ? little_endian_read_16(buf, pos) : little_endian_read_32(buf, pos);
    pos += sizes[k]!;
  }
  return pos;
}
