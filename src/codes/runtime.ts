/**
 * Runtime helpers shared by the generated code profiles (src/codes/v1.4.ts, src/codes/v1.8.ts).
 *
 * Readers are bounded by the end of the event: min(packet.length, 2 + packet[1]) (the
 * parameter length byte), so a getter never reads past the event, even when the packet is a
 * larger reused buffer. A field that does not fit reads as 0 / empty array / ''.
 * Writers never allocate: they are used by the generated event builders on the hot path.
 */
import type { BdAddr } from '../core/bytes.js';

/** Metadata of one event row of the BTstack tables. */
export interface EventInfo {
  /** BTstack name, e.g. 'L2CAP_EVENT_CHANNEL_OPENED'. */
  readonly name: string;
  /** Event code at packet[0] (for a meta subevent: the meta event code, e.g. 0x3E). */
  readonly code: number;
  /** Subevent code at packet[2] for meta subevents (HCI_SUBEVENT_LE_*, GAP_SUBEVENT_*). */
  readonly subevent?: number;
  /** Layer column of the table ('hci', 'l2cap', 'hci-le-meta', 'meta-event-code', ...). */
  readonly layer: string;
  /** BTstack @format string ('' = no params), or null when the event has no @format. */
  readonly format: string | null;
  /**
   * Total bytes (code + length byte + params) of an event with a fixed layout; undefined when the
   * size varies or there is no @format. Larger than the @format size where BTstack emits reserved
   * trailing bytes (RFCOMM_EVENT_CHANNEL_OPENED: 18 bytes, length byte 16).
   */
  readonly size?: number;
  /**
   * Parameter names in format order, spelled as in BTstack (they name the getters). Meta
   * subevents start with 'subevent_code'. Arrays are written as in the tables:
   * '[name:' for '[' and 'field[]' for each item field; ']' has no entry.
   */
  readonly params: readonly string[];
}

/** Iterator over the items of an array field ('[...]' in a format), as btstack_event_iterator_t. */
export interface BtstackEventIterator {
  packet: Uint8Array;
  /** Offset of the current item. */
  pos: number;
  /** End of the event (exclusive). */
  end: number;
  /** Items left, including the current one. */
  remaining: number;
}

export function btstack_event_iterator_create(): BtstackEventIterator {
  return { packet: new Uint8Array(0), pos: 0, end: 0, remaining: 0 };
}

/** BTstack's hci_event_packet_get_type: the event code at packet[0] (0 for an empty packet). */
export function hci_event_packet_get_type(packet: Uint8Array): number {
  return packet.length > 0 ? packet[0]! : 0;
}

/** End of the event: min(packet.length, 2 + parameter length byte). */
export function event_end(packet: Uint8Array): number {
  const n = packet.length;
  if (n < 2) return n;
  const e = 2 + packet[1]!;
  return e < n ? e : n;
}

const EMPTY = new Uint8Array(0);

/* ------------------------------------------------------------------ readers */

export function rd_u8(p: Uint8Array, o: number, end: number): number {
  return o >= 0 && o + 1 <= end ? p[o]! : 0;
}
export function rd_i8(p: Uint8Array, o: number, end: number): number {
  return o >= 0 && o + 1 <= end ? (p[o]! << 24) >> 24 : 0;
}
export function rd_u16(p: Uint8Array, o: number, end: number): number {
  return o >= 0 && o + 2 <= end ? p[o]! | (p[o + 1]! << 8) : 0;
}
export function rd_i16(p: Uint8Array, o: number, end: number): number {
  return o >= 0 && o + 2 <= end ? ((p[o]! | (p[o + 1]! << 8)) << 16) >> 16 : 0;
}
export function rd_u24(p: Uint8Array, o: number, end: number): number {
  return o >= 0 && o + 3 <= end ? p[o]! | (p[o + 1]! << 8) | (p[o + 2]! << 16) : 0;
}
export function rd_u32(p: Uint8Array, o: number, end: number): number {
  return o >= 0 && o + 4 <= end ? (p[o]! | (p[o + 1]! << 8) | (p[o + 2]! << 16) | (p[o + 3]! << 24)) >>> 0 : 0;
}
/** A view of n bytes at o, or an empty array when they do not fit. */
export function rd_view(p: Uint8Array, o: number, n: number, end: number): Uint8Array {
  return o >= 0 && n >= 0 && o + n <= end ? p.subarray(o, o + n) : EMPTY;
}
/** A new array with the n bytes at o reversed (bd_addr, keys), or an empty array when they do not fit. */
export function rd_reversed(p: Uint8Array, o: number, n: number, end: number): Uint8Array {
  if (o < 0 || o + n > end) return EMPTY;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = p[o + n - 1 - i]!;
  return out;
}
/** A view from o to the end of the event (R: rest of event). */
export function rd_rest(p: Uint8Array, o: number, end: number): Uint8Array {
  return o >= 0 && o < end ? p.subarray(o, end) : EMPTY;
}

const decoder = new TextDecoder('utf-8');

/** UTF-8 text at o, up to the first zero byte, at most max bytes, never past end. */
export function rd_string(p: Uint8Array, o: number, max: number, end: number): string {
  if (o < 0 || o >= end) return '';
  let stop = o + max < end ? o + max : end;
  for (let i = o; i < stop; i++) {
    if (p[i] === 0) {
      stop = i;
      break;
    }
  }
  return stop > o ? decoder.decode(p.subarray(o, stop)) : '';
}

/* ------------------------------------------------------------------ writers */

/** Copy n bytes of src (missing bytes as 0) to buf[pos..]. */
export function put_bytes(buf: Uint8Array, pos: number, src: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) buf[pos + i] = src[i] ?? 0;
}
/** Copy n bytes of src reversed (K/Q keys: display order in, wire order out). */
export function put_reversed(buf: Uint8Array, pos: number, src: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) buf[pos + i] = src[n - 1 - i] ?? 0;
}
/** Store n little-endian uint16 values (C arrays); missing values as 0. */
export function put_u16_array(buf: Uint8Array, pos: number, src: ArrayLike<number>, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = src[i] ?? 0;
    buf[pos + 2 * i] = v & 0xff;
    buf[pos + 2 * i + 1] = (v >>> 8) & 0xff;
  }
}

/** Byte length of the UTF-8 encoding of s (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8_length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Write s as UTF-8 at buf[pos..], at most max bytes and only whole characters.
 * Returns the number of bytes written. No allocation.
 */
export function put_utf8(buf: Uint8Array, pos: number, s: string, max: number): number {
  let o = pos;
  const limit = pos + max;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    let pair = false;
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && (d & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        pair = true;
      } else c = 0xfffd;
    }
    if (c < 0x80) {
      if (o + 1 > limit) break;
      buf[o++] = c;
    } else if (c < 0x800) {
      if (o + 2 > limit) break;
      buf[o++] = 0xc0 | (c >> 6);
      buf[o++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      if (o + 3 > limit) break;
      buf[o++] = 0xe0 | (c >> 12);
      buf[o++] = 0x80 | ((c >> 6) & 0x3f);
      buf[o++] = 0x80 | (c & 0x3f);
    } else {
      if (o + 4 > limit) break;
      buf[o++] = 0xf0 | (c >> 18);
      buf[o++] = 0x80 | ((c >> 12) & 0x3f);
      buf[o++] = 0x80 | ((c >> 6) & 0x3f);
      buf[o++] = 0x80 | (c & 0x3f);
    }
    if (pair) i++;
  }
  return o - pos;
}

/** N field: s as UTF-8 in a fixed field of n bytes, zero padded (a name of n bytes has no terminator). */
export function put_name(buf: Uint8Array, pos: number, s: string, n: number): void {
  const w = put_utf8(buf, pos, s, n);
  for (let i = pos + w; i < pos + n; i++) buf[i] = 0;
}

export type { BdAddr };

/* ------------------------------------------------------------------ event index */

/** EVENTS indexed by event code and by meta event code + subevent code (immutable). */
export interface EventIndex {
  /** Event rows by code (meta subevents excluded). */
  readonly by_code: readonly (EventInfo | undefined)[];
  /** Meta subevent rows: by_subevent[meta code][subevent code]. */
  readonly by_subevent: readonly (readonly (EventInfo | undefined)[] | undefined)[];
}

export function freeze_events(list: EventInfo[]): readonly EventInfo[] {
  for (const ev of list) {
    Object.freeze(ev.params);
    Object.freeze(ev);
  }
  return Object.freeze(list);
}

export function index_events(list: readonly EventInfo[]): EventIndex {
  const by_code: (EventInfo | undefined)[] = new Array(256).fill(undefined);
  const by_subevent: ((EventInfo | undefined)[] | undefined)[] = new Array(256).fill(undefined);
  for (const ev of list) {
    if (ev.subevent === undefined) {
      by_code[ev.code] ??= ev;
    } else {
      const table = (by_subevent[ev.code] ??= new Array(256).fill(undefined));
      table[ev.subevent] ??= ev;
    }
  }
  for (const t of by_subevent) if (t) Object.freeze(t);
  return Object.freeze({ by_code: Object.freeze(by_code), by_subevent: Object.freeze(by_subevent) });
}

/**
 * The table row describing a packet: a meta subevent row when the packet is a meta event
 * with a known subevent code at packet[2], else the row for packet[0]; undefined if unknown.
 */
export function find_event(index: EventIndex, packet: Uint8Array): EventInfo | undefined {
  if (packet.length < 1) return undefined;
  const code = packet[0]!;
  const sub = index.by_subevent[code];
  if (sub && event_end(packet) > 2) {
    const ev = sub[packet[2]!];
    if (ev) return ev;
  }
  return index.by_code[code];
}
