/**
 * Code profiles: which BTstack release's event codes, layouts and status codes a stack uses.
 *
 * - 'v1.4' (default): BTstack v1.4.1, the release the manual documents (L2CAP_EVENT_CAN_SEND_NOW = 0x78).
 * - 'v1.8': current BTstack (L2CAP_EVENT_CAN_SEND_NOW = 0x79, L2CAP_EVENT_CBM_*, ...).
 *
 * Programs import constants from `bthost/v1.4` or `bthost/v1.8`; layers call the profile they were
 * created with through `codes_for(profile)`. This module also decodes events for readable traces.
 */
import { codes_object_v1_4 } from './v1.4-object.js';
import { codes_object_v1_8 } from './v1.8-object.js';
import { bd_addr_to_str } from '../core/bytes.js';
import { event_end, find_event, rd_reversed, rd_string } from './runtime.js';
import type { EventInfo } from './runtime.js';

export type { BtstackEventIterator, EventIndex, EventInfo } from './runtime.js';
export { btstack_event_iterator_create, hci_event_packet_get_type } from './runtime.js';

export type CodeProfile = 'v1.4' | 'v1.8';
export const CODE_PROFILES: readonly CodeProfile[] = Object.freeze(['v1.4', 'v1.8'] as const);
export const DEFAULT_CODE_PROFILE: CodeProfile = 'v1.4';

/**
 * The generated module of one profile (constants, getters, builders, EVENTS). Layer code calls
 * through it: `codes.l2cap_event_can_send_now_build(buf, 0, cid)`, `case codes.L2CAP_EVENT_CAN_SEND_NOW:`.
 * Members that exist in one profile only are not on the union (narrow with `codes.PROFILE`).
 * Where a layout grew at the end (RFCOMM_EVENT_INCOMING_CONNECTION + con_handle, GAP_EVENT_SECURITY_LEVEL
 * + status, SM_EVENT_JUST_WORKS_REQUEST / PASSKEY_INPUT_NUMBER + secure_connection, SM_EVENT_PAIRING_COMPLETE
 * + ctkd_active) the union builder takes the longer argument list and v1.4 ignores the extra arguments.
 * CAUTION: SM_EVENT_PASSKEY_DISPLAY_NUMBER and SM_EVENT_NUMERIC_COMPARISON_REQUEST insert secure_connection
 * BEFORE passkey in v1.8 (H1B4 -> H1B14): both type-check, so branch on `codes.PROFILE` for those.
 */
export type Codes = typeof import('./v1.4.js') | typeof import('./v1.8.js');
export type CodesV14 = typeof import('./v1.4.js');
export type CodesV18 = typeof import('./v1.8.js');

export function is_code_profile(value: unknown): value is CodeProfile {
  return value === 'v1.4' || value === 'v1.8';
}

/**
 * The exports of a profile's module as one frozen object, made the first time a profile is asked
 * for (a process loads no object for the profile it does not use). Throws a TypeError for an
 * unknown profile name.
 */
export function codes_for(profile: 'v1.4'): CodesV14;
export function codes_for(profile: 'v1.8'): CodesV18;
export function codes_for(profile?: CodeProfile): Codes;
export function codes_for(profile: CodeProfile = DEFAULT_CODE_PROFILE): Codes {
  if (profile === 'v1.4') return codes_object_v1_4();
  if (profile === 'v1.8') return codes_object_v1_8();
  throw new TypeError(`unknown code profile ${String(profile)} (expected 'v1.4' or 'v1.8')`);
}

/** The table row of an event packet (meta subevents resolved through packet[2]), or undefined. */
export function event_info(codes: Codes, packet: Uint8Array): EventInfo | undefined {
  return find_event(codes.EVENT_INDEX, packet);
}

/** BTstack name of an event packet ('L2CAP_EVENT_CHANNEL_OPENED'), or null when the code is unknown. */
export function event_name(codes: Codes, packet: Uint8Array): string | null {
  return find_event(codes.EVENT_INDEX, packet)?.name ?? null;
}

export interface DecodedEvent {
  name: string;
  /** packet[0] */
  code: number;
  /** packet[2] for meta subevents */
  subevent?: number;
  /**
   * Parameters by BTstack param name: integers as numbers (signed letters signed), B as
   * 'AA:BB:CC:DD:EE:FF', N/T as strings, other byte fields as lowercase hex (K/Q in the
   * getters' reversed order), C arrays as 'v0,v1,..', array items as 'name[i].field'.
   * The subevent_code of meta events and fields of events without @format are not listed.
   */
  fields: Record<string, number | string>;
  /** Set when the packet ends before the layout does (fields after that point are missing). */
  truncated?: boolean;
}

const INT_SIZE: Readonly<Record<string, number>> = { '1': 1, a: 1, J: 1, '2': 2, b: 2, H: 2, L: 2, '3': 3, '4': 4 };
const BLOB_SIZE: Readonly<Record<string, number>> = { D: 8, P: 16, X: 20, Y: 24, Z: 18 };

function to_hex(p: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += p[i]!.toString(16).padStart(2, '0');
  return s;
}

function read_int(p: Uint8Array, o: number, letter: string): number {
  switch (letter) {
    case 'a':
      return (p[o]! << 24) >> 24;
    case 'b':
      return ((p[o]! | (p[o + 1]! << 8)) << 16) >> 16;
    case '2':
    case 'H':
    case 'L':
      return p[o]! | (p[o + 1]! << 8);
    case '3':
      return p[o]! | (p[o + 1]! << 8) | (p[o + 2]! << 16);
    case '4':
      return (p[o]! | (p[o + 1]! << 8) | (p[o + 2]! << 16) | (p[o + 3]! << 24)) >>> 0;
    default:
      return p[o]!;
  }
}

/**
 * Walk a list of format letters with their param names from offset o, adding fields.
 * Returns the offset after the last field, or -1 when the packet ended first.
 */
function walk(
  letters: string,
  names: readonly string[],
  p: Uint8Array,
  o: number,
  end: number,
  prefix: string,
  fields: Record<string, number | string>,
): number {
  let len = -1; // value of the last J/L
  let count = 0; // value of the last integer (array / C item count)
  let ni = 0;
  for (let i = 0; i < letters.length; i++) {
    const c = letters[i]!;
    const name = names[ni++] ?? `param${ni}`;
    const key = prefix + name;
    const int_size = INT_SIZE[c];
    if (int_size !== undefined) {
      if (o + int_size > end) return -1;
      const v = read_int(p, o, c);
      fields[key] = v;
      count = v;
      if (c === 'J' || c === 'L') len = v;
      o += int_size;
      continue;
    }
    const blob = BLOB_SIZE[c];
    if (blob !== undefined) {
      if (o + blob > end) return -1;
      fields[key] = to_hex(p, o, o + blob);
      o += blob;
      continue;
    }
    switch (c) {
      case 'B':
        if (o + 6 > end) return -1;
        fields[key] = bd_addr_to_str(rd_reversed(p, o, 6, end));
        o += 6;
        break;
      case 'K':
      case 'Q': {
        const n = c === 'K' ? 16 : 32;
        if (o + n > end) return -1;
        fields[key] = to_hex(rd_reversed(p, o, n, end), 0, n);
        o += n;
        break;
      }
      case 'N':
        fields[key] = rd_string(p, o, 248, end);
        if (o + 248 > end) return -1;
        o += 248;
        break;
      case 'T':
        if (o > end) return -1;
        fields[key] = rd_string(p, o, 255, end);
        return end;
      case 'R':
        if (o > end) return -1;
        fields[key] = to_hex(p, o, end);
        return end;
      case 'V': {
        const n = len >= 0 ? len : end - o;
        len = -1;
        if (o + n > end) return -1;
        fields[key] = to_hex(p, o, o + n);
        o += n;
        break;
      }
      case 'C': {
        if (o + 2 * count > end) return -1;
        const values: number[] = [];
        for (let k = 0; k < count; k++) values.push(p[o + 2 * k]! | (p[o + 2 * k + 1]! << 8));
        fields[key] = values.join(',');
        o += 2 * count;
        break;
      }
      case '[': {
        const close = letters.indexOf(']', i);
        const item_letters = letters.slice(i + 1, close < 0 ? letters.length : close);
        const item_names = names.slice(ni, ni + item_letters.length).map((n) => n.replace(/\[\]$/, ''));
        ni += item_letters.length;
        const array = /^\[(.*):$/.exec(name)?.[1] ?? name;
        for (let k = 0; k < count; k++) {
          o = walk(item_letters, item_names, p, o, end, `${prefix}${array}[${k}].`, fields);
          if (o < 0) return -1;
        }
        i = close < 0 ? letters.length : close;
        break;
      }
      default:
        return o; // unknown letter: stop quietly
    }
  }
  return o;
}

/**
 * Decode an event packet for traces: name, code and every field of its @format.
 * Returns null for an empty packet or an event code the profile does not know. Never throws.
 */
export function decode_event(codes: Codes, packet: Uint8Array, size?: number): DecodedEvent | null {
  const p = size !== undefined && size >= 0 && size < packet.length ? packet.subarray(0, size) : packet;
  const info = find_event(codes.EVENT_INDEX, p);
  if (!info) return null;
  const out: DecodedEvent = { name: info.name, code: info.code, fields: {} };
  if (info.subevent !== undefined) out.subevent = info.subevent;
  if (info.format === null) return out;
  const end = event_end(p);
  let letters = info.format;
  let names = info.params;
  let o = 2;
  if (info.subevent !== undefined) {
    letters = letters.slice(1);
    names = names.slice(1);
    o = 3;
  }
  if (p.length < 2 || walk(letters, names, p, o, end, '', out.fields) < 0) out.truncated = true;
  return out;
}

/**
 * One trace line: 'L2CAP_EVENT_CHANNEL_OPENED status=0 address=AA:BB:.. handle=64 ...'.
 * Unknown events print as 'EVENT_0xNN' followed by the packet in hex.
 */
export function format_event(codes: Codes, packet: Uint8Array, size?: number): string {
  const d = decode_event(codes, packet, size);
  const n = size !== undefined && size >= 0 && size < packet.length ? size : packet.length;
  if (!d) return `EVENT_0x${(packet[0] ?? 0).toString(16).padStart(2, '0').toUpperCase()} ${to_hex(packet, 0, n)}`;
  let s = d.name;
  for (const [k, v] of Object.entries(d.fields)) s += ` ${k}=${typeof v === 'string' && /\s|^$/.test(v) ? JSON.stringify(v) : v}`;
  if (d.truncated) s += ' (truncated)';
  return s;
}
