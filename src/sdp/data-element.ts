/**
 * SDP data elements (Core spec Vol 3 Part B, 3): codec, validation, iteration, UUID helpers,
 * a BTstack-style record builder and record / attribute-list helpers.
 *
 * An element is a header octet (type << 3 | size index) followed, for size indices 5/6/7, by an
 * 8/16/32-bit big-endian data length, then the data. All functions work on (buf, pos) offsets
 * as BTstack's work on pointers, with BTstack's names. Everything that reads input from the
 * wire takes an `end` and never reads at or past it; the `de_get_*` accessors without `end`
 * are for elements already validated (with de_validate) and read out-of-range octets as 0.
 *
 * Builders write into the caller's buffer and never past its end: they return 0 / a size, or
 * DE_ERROR_NO_ROOM (-ERROR_CODE_MEMORY_CAPACITY_EXCEEDED) without writing anything.
 */
import { ERROR_CODE_MEMORY_CAPACITY_EXCEEDED } from '../codes/v1.4.js';

// ---- types and size indices (BTstack's de_type_t / de_size_t) ----

export const DE_NIL = 0;
export const DE_UINT = 1;
export const DE_INT = 2;
export const DE_UUID = 3;
export const DE_STRING = 4;
export const DE_BOOL = 5;
export const DE_DES = 6;
export const DE_DEA = 7;
export const DE_URL = 8;

export const DE_SIZE_8 = 0;
export const DE_SIZE_16 = 1;
export const DE_SIZE_32 = 2;
export const DE_SIZE_64 = 3;
export const DE_SIZE_128 = 4;
export const DE_SIZE_VAR_8 = 5;
export const DE_SIZE_VAR_16 = 6;
export const DE_SIZE_VAR_32 = 7;

/** Data octets for fixed size indices 0-4. */
const FIXED_SIZE = [1, 2, 4, 8, 16];
/** Length-field octets for size indices 5-7. */
const VAR_LEN_SIZE = [0, 0, 0, 0, 0, 1, 2, 4];

/** Default nesting limit for sequences/alternatives (records nest about 6 deep in responses). */
export const DE_MAX_DEPTH = 16;

// ---- typed errors (negative return values) ----

/** The element (header, length field or data) runs past the end of its buffer or container. */
export const DE_ERROR_TRUNCATED = -1;
/** The size index is not allowed for the type (e.g. a 3-octet UUID, a fixed-size string). */
export const DE_ERROR_INVALID_SIZE = -2;
/** Type 9-31 (reserved). */
export const DE_ERROR_RESERVED_TYPE = -3;
/** Sequences nested deeper than the limit. */
export const DE_ERROR_TOO_DEEP = -4;
/** Not the expected type (e.g. a DES was required). */
export const DE_ERROR_WRONG_TYPE = -5;
/** Builder: the buffer has no room (nothing written). */
export const DE_ERROR_NO_ROOM = -ERROR_CODE_MEMORY_CAPACITY_EXCEEDED;

export type DeError =
  | typeof DE_ERROR_TRUNCATED
  | typeof DE_ERROR_INVALID_SIZE
  | typeof DE_ERROR_RESERVED_TYPE
  | typeof DE_ERROR_TOO_DEEP
  | typeof DE_ERROR_WRONG_TYPE;

// ---- raw header accessors (trusted elements) ----

function rd(buf: Uint8Array, i: number): number {
  return i >= 0 && i < buf.length ? buf[i]! : 0;
}

export function de_get_element_type(buf: Uint8Array, pos: number): number {
  return rd(buf, pos) >> 3;
}

export function de_get_size_type(buf: Uint8Array, pos: number): number {
  return rd(buf, pos) & 7;
}

/** Header octets: 1, or 2/3/5 with a length field. */
export function de_get_header_size(buf: Uint8Array, pos: number): number {
  return 1 + VAR_LEN_SIZE[rd(buf, pos) & 7]!;
}

/** Data octets as the header says (nil: 0). */
export function de_get_data_size(buf: Uint8Array, pos: number): number {
  const h = rd(buf, pos);
  const s = h & 7;
  if (s < 5) return h >> 3 === DE_NIL ? 0 : FIXED_SIZE[s]!;
  if (s === DE_SIZE_VAR_8) return rd(buf, pos + 1);
  if (s === DE_SIZE_VAR_16) return (rd(buf, pos + 1) << 8) | rd(buf, pos + 2);
  return rd(buf, pos + 1) * 0x1000000 + ((rd(buf, pos + 2) << 16) | (rd(buf, pos + 3) << 8) | rd(buf, pos + 4));
}

/** Total octets of the element (header + data). */
export function de_get_len(buf: Uint8Array, pos: number): number {
  return de_get_header_size(buf, pos) + de_get_data_size(buf, pos);
}

/** de_get_len when the element fits in buf[pos .. end), else 0 (BTstack's de_get_len_safe). */
export function de_get_len_safe(buf: Uint8Array, pos: number, end: number = buf.length): number {
  const n = de_element_size(buf, pos, end);
  return n > 0 ? n : 0;
}

// ---- validation (untrusted elements) ----

function sizeAllowed(type: number, s: number): boolean {
  switch (type) {
    case DE_NIL:
    case DE_BOOL:
      return s === 0;
    case DE_UINT:
    case DE_INT:
      return s <= DE_SIZE_128;
    case DE_UUID:
      return s === DE_SIZE_16 || s === DE_SIZE_32 || s === DE_SIZE_128;
    default: // string, DES, DEA, URL
      return s >= DE_SIZE_VAR_8;
  }
}

/**
 * Size of the element at buf[pos] if its header is valid and it fits in [pos, end); otherwise a
 * negative DeError. Does not look inside sequences (see de_validate).
 */
export function de_element_size(buf: Uint8Array, pos: number, end: number = buf.length): number {
  end = Math.min(end, buf.length);
  if (!(pos >= 0 && pos < end)) return DE_ERROR_TRUNCATED;
  const h = buf[pos]!;
  const type = h >> 3;
  const s = h & 7;
  if (type > DE_URL) return DE_ERROR_RESERVED_TYPE;
  if (!sizeAllowed(type, s)) return DE_ERROR_INVALID_SIZE;
  const lenOctets = VAR_LEN_SIZE[s]!;
  if (pos + 1 + lenOctets > end) return DE_ERROR_TRUNCATED;
  const total = 1 + lenOctets + de_get_data_size(buf, pos);
  if (pos + total > end) return DE_ERROR_TRUNCATED;
  return total;
}

/**
 * Validate the element at buf[pos] and everything nested in it: valid headers, children exactly
 * filling their sequence, nesting at most `max_depth` sequences deep, nothing past `end`.
 * Returns the element's size or a negative DeError.
 */
export function de_validate(buf: Uint8Array, pos: number, end: number = buf.length, max_depth = DE_MAX_DEPTH): number {
  const total = de_element_size(buf, pos, end);
  if (total < 0) return total;
  const type = buf[pos]! >> 3;
  if (type !== DE_DES && type !== DE_DEA) return total;
  if (max_depth <= 0) return DE_ERROR_TOO_DEEP;
  const stop = pos + total;
  let p = pos + de_get_header_size(buf, pos);
  while (p < stop) {
    const n = de_validate(buf, p, stop, max_depth - 1);
    if (n < 0) return n;
    p += n;
  }
  return total;
}

// ---- value accessors ----

/** Offset of a string/URL element's text, or -1 if the element is neither. */
export function de_get_string(buf: Uint8Array, pos: number): number {
  const t = de_get_element_type(buf, pos);
  return t === DE_STRING || t === DE_URL ? pos + de_get_header_size(buf, pos) : -1;
}

/** UTF-8 text of a string/URL element that fits in [pos, end), else null. Allocates. */
export function de_get_string_value(buf: Uint8Array, pos: number, end: number = buf.length): string | null {
  const n = de_element_size(buf, pos, end);
  if (n < 0 || de_get_string(buf, pos) < 0) return null;
  const hs = de_get_header_size(buf, pos);
  return new TextDecoder().decode(buf.subarray(pos + hs, pos + n));
}

/** Value of an unsigned 8/16-bit element that fits in [pos, end), else -1 (BTstack's de_element_get_uint16). */
export function de_element_get_uint16(buf: Uint8Array, pos: number, end: number = buf.length): number {
  if (de_element_size(buf, pos, end) < 0 || de_get_element_type(buf, pos) !== DE_UINT) return -1;
  const s = de_get_size_type(buf, pos);
  if (s === DE_SIZE_8) return buf[pos + 1]!;
  if (s === DE_SIZE_16) return (buf[pos + 1]! << 8) | buf[pos + 2]!;
  return -1;
}

/** Value of an unsigned 8/16/32-bit element that fits in [pos, end), else -1. */
export function de_element_get_uint32(buf: Uint8Array, pos: number, end: number = buf.length): number {
  if (de_get_size_type(buf, pos) !== DE_SIZE_32) return de_element_get_uint16(buf, pos, end);
  if (de_element_size(buf, pos, end) < 0 || de_get_element_type(buf, pos) !== DE_UINT) return -1;
  return buf[pos + 1]! * 0x1000000 + ((buf[pos + 2]! << 16) | (buf[pos + 3]! << 8) | buf[pos + 4]!);
}

// ---- UUIDs ----

/** Bluetooth Base UUID 00000000-0000-1000-8000-00805F9B34FB, octets 4-15 (octets 0-3 hold the short UUID). */
const BASE_UUID_TAIL = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0x80, 0x5f, 0x9b, 0x34, 0xfb];

/** Whether a 128-bit UUID (big endian, as printed) is Base UUID based (BTstack's uuid_has_bluetooth_prefix). */
export function uuid_has_bluetooth_prefix(uuid128: Uint8Array, pos = 0): boolean {
  for (let i = 0; i < 12; i++) if (rd(uuid128, pos + 4 + i) !== BASE_UUID_TAIL[i]) return false;
  return pos >= 0 && pos + 16 <= uuid128.length;
}

/** Write the 128-bit form of a 16/32-bit UUID into out[pos..pos+16) (BTstack's sdp_normalize_uuid). */
export function sdp_normalize_uuid(out: Uint8Array, short_uuid: number, pos = 0): void {
  out[pos] = (short_uuid >>> 24) & 0xff;
  out[pos + 1] = (short_uuid >>> 16) & 0xff;
  out[pos + 2] = (short_uuid >>> 8) & 0xff;
  out[pos + 3] = short_uuid & 0xff;
  for (let i = 0; i < 12; i++) out[pos + 4 + i] = BASE_UUID_TAIL[i]!;
}

/** A new 16-octet array with the 128-bit form of a short UUID. */
export function uuid128_from_short(short_uuid: number): Uint8Array {
  const out = new Uint8Array(16);
  sdp_normalize_uuid(out, short_uuid);
  return out;
}

/** Parse '0000110100001000800000805F9B34FB' with or without dashes; null if malformed. */
export function uuid128_from_string(s: string): Uint8Array | null {
  const h = s.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(h)) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * 128-bit form of the UUID element at buf[pos] (fitting in [pos, end)) into out[out_pos..+16).
 * Returns false (out untouched) if it is not a valid UUID element (BTstack's de_get_normalized_uuid).
 */
export function de_get_normalized_uuid(out: Uint8Array, buf: Uint8Array, pos: number, end: number = buf.length, out_pos = 0): boolean {
  if (de_element_size(buf, pos, end) < 0 || de_get_element_type(buf, pos) !== DE_UUID) return false;
  const s = de_get_size_type(buf, pos);
  if (s === DE_SIZE_16) sdp_normalize_uuid(out, (buf[pos + 1]! << 8) | buf[pos + 2]!, out_pos);
  else if (s === DE_SIZE_32) sdp_normalize_uuid(out, (buf[pos + 1]! * 0x1000000 + ((buf[pos + 2]! << 16) | (buf[pos + 3]! << 8) | buf[pos + 4]!)) >>> 0, out_pos);
  else for (let i = 0; i < 16; i++) out[out_pos + i] = buf[pos + 1 + i]!;
  return true;
}

/**
 * 16/32-bit value of a UUID element; a 128-bit UUID counts when it is Base UUID based.
 * 0 when the element is not such a UUID (BTstack's de_get_uuid32).
 */
export function de_get_uuid32(buf: Uint8Array, pos: number, end: number = buf.length): number {
  if (de_element_size(buf, pos, end) < 0 || de_get_element_type(buf, pos) !== DE_UUID) return 0;
  const s = de_get_size_type(buf, pos);
  if (s === DE_SIZE_16) return (buf[pos + 1]! << 8) | buf[pos + 2]!;
  if (s === DE_SIZE_32 || uuid_has_bluetooth_prefix(buf, pos + 1)) {
    return (buf[pos + 1]! * 0x1000000 + ((buf[pos + 2]! << 16) | (buf[pos + 3]! << 8) | buf[pos + 4]!)) >>> 0;
  }
  return 0;
}

/** Whether the UUID element at buf[pos] (fitting in [pos, end)) denotes `uuid128`. No allocation. */
export function de_uuid_equals_uuid128(buf: Uint8Array, pos: number, uuid128: Uint8Array, end: number = buf.length, uuid_pos = 0): boolean {
  if (de_element_size(buf, pos, end) < 0 || de_get_element_type(buf, pos) !== DE_UUID) return false;
  const s = de_get_size_type(buf, pos);
  if (s === DE_SIZE_128) return uuid128_equal(buf, uuid128, pos + 1, uuid_pos);
  if (!uuid_has_bluetooth_prefix(uuid128, uuid_pos)) return false;
  const n = s === DE_SIZE_16 ? 2 : 4;
  for (let i = 0; i < 4; i++) {
    const b = i < 4 - n ? 0 : buf[pos + 1 + i - (4 - n)]!;
    if (uuid128[uuid_pos + i] !== b) return false;
  }
  return true;
}

/** Whether two UUID elements (any mix of 16/32/128 bits) denote the same UUID. */
export function de_uuid_equal(a: Uint8Array, a_pos: number, b: Uint8Array, b_pos: number, a_end: number = a.length, b_end: number = b.length): boolean {
  const ua = new Uint8Array(16);
  return de_get_normalized_uuid(ua, a, a_pos, a_end) && de_uuid_equals_uuid128(b, b_pos, ua, b_end);
}

export function uuid128_equal(a: Uint8Array, b: Uint8Array, a_pos = 0, b_pos = 0): boolean {
  for (let i = 0; i < 16; i++) if (rd(a, a_pos + i) !== rd(b, b_pos + i)) return false;
  return true;
}

// ---- DES iterator (BTstack's des_iterator_t) ----

export class DesIterator {
  buf: Uint8Array = new Uint8Array(0);
  /** Offset of the current child. */
  pos = 0;
  /** End of the sequence (exclusive). */
  end = 0;
  /** Set when a child header or length does not fit the sequence; iteration stops there. */
  error = false;
}

/**
 * Start iterating the DES/DEA at buf[pos], which must fit in [pos, end). Returns false (and an
 * exhausted iterator) when it is not a sequence or does not fit.
 */
export function des_iterator_init(it: DesIterator, buf: Uint8Array, pos: number, end: number = buf.length): boolean {
  it.buf = buf;
  it.error = false;
  const n = de_element_size(buf, pos, end);
  const t = n > 0 ? buf[pos]! >> 3 : -1;
  if (t !== DE_DES && t !== DE_DEA) {
    it.pos = it.end = 0;
    it.error = true;
    return false;
  }
  it.pos = pos + de_get_header_size(buf, pos);
  it.end = pos + n;
  return true;
}

/** Whether a complete, valid-headed child is at the iterator (a broken child sets `error`). */
export function des_iterator_has_more(it: DesIterator): boolean {
  if (it.pos >= it.end || it.error) return false;
  if (de_element_size(it.buf, it.pos, it.end) < 0) {
    it.error = true;
    return false;
  }
  return true;
}

/** Whether every child was consumed and all fit exactly. */
export function des_iterator_is_complete(it: DesIterator): boolean {
  return !it.error && it.pos === it.end;
}

export function des_iterator_get_type(it: DesIterator): number {
  return de_get_element_type(it.buf, it.pos);
}

/** Data size of the current child. */
export function des_iterator_get_size(it: DesIterator): number {
  return de_get_data_size(it.buf, it.pos);
}

/** Offset of the current child. */
export function des_iterator_get_element(it: DesIterator): number {
  return it.pos;
}

export function des_iterator_get_element_len(it: DesIterator): number {
  const n = de_element_size(it.buf, it.pos, it.end);
  return n > 0 ? n : 0;
}

export function des_iterator_next(it: DesIterator): void {
  const n = de_element_size(it.buf, it.pos, it.end);
  if (n < 0) {
    it.error = true;
    it.pos = it.end;
    return;
  }
  it.pos += n;
}

/**
 * Call `handler(pos, type, len)` for each child of the sequence at buf[pos] until it returns
 * true. Returns false if the sequence is broken (after visiting the valid prefix).
 */
export function de_traverse_sequence(buf: Uint8Array, pos: number, handler: (child: number, type: number, len: number) => boolean | void, end: number = buf.length): boolean {
  const it = new DesIterator();
  if (!des_iterator_init(it, buf, pos, end)) return false;
  while (des_iterator_has_more(it)) {
    const p = it.pos;
    const len = de_element_size(buf, p, it.end);
    if (handler(p, buf[p]! >> 3, len)) return true;
    it.pos += len;
  }
  return !it.error;
}

// ---- BTstack-style builder (sequences with 16-bit lengths) ----

/** Header octet. */
export function de_store_descriptor(buf: Uint8Array, pos: number, type: number, size: number): void {
  buf[pos] = ((type & 0x1f) << 3) | (size & 7);
}

/**
 * Header with its length field (size DE_SIZE_VAR_8/16/32). Returns header size, or
 * DE_ERROR_NO_ROOM / DE_ERROR_INVALID_SIZE without writing.
 */
export function de_store_descriptor_with_len(buf: Uint8Array, pos: number, type: number, size: number, len: number): number {
  const lo = VAR_LEN_SIZE[size & 7]!;
  if (size < DE_SIZE_VAR_8 || size > DE_SIZE_VAR_32 || len < 0 || len >= 2 ** (8 * lo)) return DE_ERROR_INVALID_SIZE;
  if (!(pos >= 0 && pos + 1 + lo <= buf.length)) return DE_ERROR_NO_ROOM;
  de_store_descriptor(buf, pos, type, size);
  for (let i = 0; i < lo; i++) buf[pos + 1 + i] = Math.floor(len / 2 ** (8 * (lo - 1 - i))) & 0xff;
  return 1 + lo;
}

/** Start an empty DES with a 16-bit length at buf[pos] (36 00 00). Returns 3 or DE_ERROR_NO_ROOM. */
export function de_create_sequence(buf: Uint8Array, pos: number): number {
  return de_store_descriptor_with_len(buf, pos, DE_DES, DE_SIZE_VAR_16, 0);
}

/** Grow the length of the sequence at buf[seq] by `n`; false if its length field cannot hold it. */
function growSequence(buf: Uint8Array, seq: number, n: number): boolean {
  const s = de_get_size_type(buf, seq);
  if (s < DE_SIZE_VAR_8) return false;
  const cur = de_get_data_size(buf, seq);
  return de_store_descriptor_with_len(buf, seq, de_get_element_type(buf, seq), s, cur + n) > 0;
}

/** Append position of a sequence: just past its current data. */
function seqEnd(buf: Uint8Array, seq: number): number {
  return seq + de_get_len(buf, seq);
}

function fitsInSeq(buf: Uint8Array, seq: number, n: number): number {
  const s = de_get_size_type(buf, seq);
  if (s < DE_SIZE_VAR_8 || de_get_data_size(buf, seq) + n >= 2 ** (8 * VAR_LEN_SIZE[s]!)) return DE_ERROR_INVALID_SIZE;
  const at = seqEnd(buf, seq);
  return at + n <= buf.length ? at : DE_ERROR_NO_ROOM;
}

/**
 * Start an empty DES (16-bit length) at the end of sequence `seq`; returns its offset, or a
 * negative error. Call de_pop_sequence(buf, seq, child) when the child is complete.
 */
export function de_push_sequence(buf: Uint8Array, seq: number): number {
  const at = fitsInSeq(buf, seq, 3);
  if (at < 0) return at;
  de_create_sequence(buf, at);
  return at;
}

/** Account the completed child sequence in its parent's length. Returns 0 or a negative error. */
export function de_pop_sequence(buf: Uint8Array, parent: number, child: number): number {
  const n = de_get_len(buf, child);
  if (fitsInSeq(buf, parent, 0) < 0 || !growSequence(buf, parent, n)) return DE_ERROR_INVALID_SIZE;
  return 0;
}

/**
 * Append a number element (size DE_SIZE_8/16/32/64; a bigint for 64 bits) to sequence `seq`.
 * Returns 0 or a negative error.
 */
export function de_add_number(buf: Uint8Array, seq: number, type: number, size: number, value: number | bigint): number {
  const ok =
    ((type === DE_UINT || type === DE_INT) && size >= DE_SIZE_8 && size <= DE_SIZE_64) ||
    (type === DE_BOOL && size === DE_SIZE_8) ||
    (type === DE_UUID && (size === DE_SIZE_16 || size === DE_SIZE_32));
  if (!ok) return DE_ERROR_INVALID_SIZE;
  const n = FIXED_SIZE[size]!;
  const at = fitsInSeq(buf, seq, 1 + n);
  if (at < 0) return at;
  de_store_descriptor(buf, at, type, size);
  let v = BigInt.asUintN(64, typeof value === 'bigint' ? value : BigInt(Math.trunc(value)));
  for (let i = n - 1; i >= 0; i--) {
    buf[at + 1 + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  growSequence(buf, seq, 1 + n);
  return 0;
}

/**
 * Append a variable-length element (DE_STRING, DE_URL, DE_DES, DE_DEA with raw content) with
 * an 8-bit length when it fits, else 16-bit. Returns 0 or a negative error.
 */
export function de_add_data(buf: Uint8Array, seq: number, type: number, data: Uint8Array, data_pos = 0, data_len = data.length - data_pos): number {
  if (data_len < 0 || data_len > 0xffff || data_pos < 0 || data_pos + data_len > data.length) return DE_ERROR_INVALID_SIZE;
  const size = data_len <= 0xff ? DE_SIZE_VAR_8 : DE_SIZE_VAR_16;
  const hs = 1 + VAR_LEN_SIZE[size]!;
  const at = fitsInSeq(buf, seq, hs + data_len);
  if (at < 0) return at;
  de_store_descriptor_with_len(buf, at, type, size, data_len);
  buf.set(data.subarray(data_pos, data_pos + data_len), at + hs);
  growSequence(buf, seq, hs + data_len);
  return 0;
}

/** Append a 128-bit UUID element (uuid as printed, big endian). Returns 0 or a negative error. */
export function de_add_uuid128(buf: Uint8Array, seq: number, uuid128: Uint8Array, uuid_pos = 0): number {
  if (uuid_pos < 0 || uuid_pos + 16 > uuid128.length) return DE_ERROR_INVALID_SIZE;
  const at = fitsInSeq(buf, seq, 17);
  if (at < 0) return at;
  de_store_descriptor(buf, at, DE_UUID, DE_SIZE_128);
  buf.set(uuid128.subarray(uuid_pos, uuid_pos + 16), at + 1);
  growSequence(buf, seq, 17);
  return 0;
}

/** Append a complete, already encoded element (copied). Returns 0 or a negative error. */
export function de_add_element(buf: Uint8Array, seq: number, element: Uint8Array, pos = 0, end: number = element.length): number {
  const n = de_validate(element, pos, end);
  if (n < 0) return n;
  const at = fitsInSeq(buf, seq, n);
  if (at < 0) return at;
  buf.set(element.subarray(pos, pos + n), at);
  growSequence(buf, seq, n);
  return 0;
}

// ---- value trees (record building, tests, readable dumps; allocate) ----

/** A data element as a value. `size`: the size index, or -1 to pick the shortest length field. */
export interface DeValue {
  readonly type: number;
  readonly size: number;
  /** UINT/INT up to 64 bits (bigint for 64), BOOL (0/1), UUID 16/32. */
  readonly num?: number | bigint;
  /** UINT/INT 128 bits, UUID 128 bits (big endian), STRING/URL octets. */
  readonly bytes?: Uint8Array;
  /** DES/DEA children. */
  readonly items?: readonly DeValue[];
}

function num(type: number, size: number, v: number | bigint): DeValue {
  return { type, size, num: v };
}

/** Constructors for DeValue, e.g. de.des(de.uuid16(0x1101)). */
export const de = Object.freeze({
  nil: (): DeValue => ({ type: DE_NIL, size: DE_SIZE_8 }),
  uint8: (v: number) => num(DE_UINT, DE_SIZE_8, v),
  uint16: (v: number) => num(DE_UINT, DE_SIZE_16, v),
  uint32: (v: number) => num(DE_UINT, DE_SIZE_32, v),
  uint64: (v: number | bigint) => num(DE_UINT, DE_SIZE_64, BigInt(v)),
  uint128: (bytes16: Uint8Array): DeValue => ({ type: DE_UINT, size: DE_SIZE_128, bytes: bytes16 }),
  int8: (v: number) => num(DE_INT, DE_SIZE_8, v),
  int16: (v: number) => num(DE_INT, DE_SIZE_16, v),
  int32: (v: number) => num(DE_INT, DE_SIZE_32, v),
  int64: (v: number | bigint) => num(DE_INT, DE_SIZE_64, BigInt(v)),
  int128: (bytes16: Uint8Array): DeValue => ({ type: DE_INT, size: DE_SIZE_128, bytes: bytes16 }),
  uuid16: (v: number) => num(DE_UUID, DE_SIZE_16, v),
  uuid32: (v: number) => num(DE_UUID, DE_SIZE_32, v),
  /** 16 octets as printed, or a string '00001101-0000-1000-8000-00805F9B34FB'. */
  uuid128: (u: Uint8Array | string): DeValue => {
    const bytes = typeof u === 'string' ? uuid128_from_string(u) : u;
    if (!bytes || bytes.length !== 16) throw new TypeError('uuid128: expected 16 octets or a UUID string');
    return { type: DE_UUID, size: DE_SIZE_128, bytes };
  },
  /** Text string (UTF-8 from a JS string, or raw octets). */
  text: (s: string | Uint8Array, size = -1): DeValue => ({ type: DE_STRING, size, bytes: typeof s === 'string' ? new TextEncoder().encode(s) : s }),
  url: (s: string | Uint8Array, size = -1): DeValue => ({ type: DE_URL, size, bytes: typeof s === 'string' ? new TextEncoder().encode(s) : s }),
  bool: (b: boolean) => num(DE_BOOL, DE_SIZE_8, b ? 1 : 0),
  des: (...items: DeValue[]): DeValue => ({ type: DE_DES, size: -1, items }),
  dea: (...items: DeValue[]): DeValue => ({ type: DE_DEA, size: -1, items }),
  /** A sequence with a chosen length field (DE_SIZE_VAR_8/16/32), e.g. BTstack's 16-bit ones. */
  des_sized: (size: number, ...items: DeValue[]): DeValue => ({ type: DE_DES, size, items }),
});

function isVarType(t: number): boolean {
  return t === DE_STRING || t === DE_URL || t === DE_DES || t === DE_DEA;
}

function dataSize(v: DeValue): number {
  if (v.type === DE_DES || v.type === DE_DEA) {
    let n = 0;
    for (const it of v.items ?? []) {
      const k = de_value_size(it);
      if (k < 0) return k;
      n += k;
    }
    return n;
  }
  if (v.type === DE_STRING || v.type === DE_URL) return v.bytes?.length ?? 0;
  if (v.type === DE_NIL) return 0;
  return FIXED_SIZE[v.size] ?? DE_ERROR_INVALID_SIZE;
}

function varSizeFor(v: DeValue, len: number): number {
  if (v.size >= DE_SIZE_VAR_8) return 2 ** (8 * VAR_LEN_SIZE[v.size]!) > len ? v.size : DE_ERROR_INVALID_SIZE;
  return len <= 0xff ? DE_SIZE_VAR_8 : len <= 0xffff ? DE_SIZE_VAR_16 : DE_SIZE_VAR_32;
}

/** Encoded size of a value, or a negative error for an impossible type/size. */
export function de_value_size(v: DeValue): number {
  if (v.type > DE_URL || v.type < 0) return DE_ERROR_RESERVED_TYPE;
  const len = dataSize(v);
  if (len < 0) return len;
  if (isVarType(v.type)) {
    const s = varSizeFor(v, len);
    return s < 0 ? s : 1 + VAR_LEN_SIZE[s]! + len;
  }
  if (!sizeAllowed(v.type, v.size)) return DE_ERROR_INVALID_SIZE;
  if (v.size === DE_SIZE_128 && v.bytes?.length !== 16) return DE_ERROR_INVALID_SIZE;
  return 1 + len;
}

function writeValue(buf: Uint8Array, pos: number, v: DeValue): number {
  const len = dataSize(v);
  if (isVarType(v.type)) {
    let p = pos + de_store_descriptor_with_len(buf, pos, v.type, varSizeFor(v, len), len);
    if (v.type === DE_STRING || v.type === DE_URL) {
      if (v.bytes) buf.set(v.bytes, p);
      return p + len - pos;
    }
    for (const it of v.items ?? []) p += writeValue(buf, p, it);
    return p - pos;
  }
  de_store_descriptor(buf, pos, v.type, v.size);
  if (v.type === DE_NIL) return 1;
  if (v.size === DE_SIZE_128) {
    buf.set(v.bytes!, pos + 1);
    return 17;
  }
  let x = BigInt.asUintN(64, typeof v.num === 'bigint' ? v.num : BigInt(Math.trunc(v.num ?? 0)));
  for (let i = len; i >= 1; i--) {
    buf[pos + i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return 1 + len;
}

/** Encode a value at buf[pos]. Returns its size, or a negative error (nothing written). */
export function de_encode_value(buf: Uint8Array, pos: number, v: DeValue): number {
  const n = de_value_size(v);
  if (n < 0) return n;
  if (!(pos >= 0 && pos + n <= buf.length)) return DE_ERROR_NO_ROOM;
  return writeValue(buf, pos, v);
}

/** The value encoded in a new array (throws a TypeError for an impossible value). */
export function de_encode_to_bytes(v: DeValue): Uint8Array {
  const n = de_value_size(v);
  if (n < 0) throw new TypeError(`de_encode_to_bytes: invalid data element (${n})`);
  const out = new Uint8Array(n);
  writeValue(out, 0, v);
  return out;
}

/** Decode (and validate) the element at buf[pos] into a value tree, or a negative DeError. */
export function de_decode_value(buf: Uint8Array, pos: number, end: number = buf.length, max_depth = DE_MAX_DEPTH): DeValue | DeError {
  const n = de_validate(buf, pos, end, max_depth);
  if (n < 0) return n as DeError;
  return decodeTrusted(buf, pos);
}

function decodeTrusted(buf: Uint8Array, pos: number): DeValue {
  const type = buf[pos]! >> 3;
  const size = buf[pos]! & 7;
  const hs = de_get_header_size(buf, pos);
  const len = de_get_data_size(buf, pos);
  const d = pos + hs;
  switch (type) {
    case DE_NIL:
      return { type, size };
    case DE_STRING:
    case DE_URL:
      return { type, size, bytes: buf.slice(d, d + len) };
    case DE_DES:
    case DE_DEA: {
      const items: DeValue[] = [];
      for (let p = d; p < d + len; p += de_get_len(buf, p)) items.push(decodeTrusted(buf, p));
      return { type, size, items };
    }
    default: {
      if (size === DE_SIZE_128) return { type, size, bytes: buf.slice(d, d + 16) };
      let x = 0n;
      for (let i = 0; i < len; i++) x = (x << 8n) | BigInt(buf[d + i]!);
      if (type === DE_INT) x = BigInt.asIntN(len * 8, x);
      return { type, size, num: size === DE_SIZE_64 ? x : Number(x) };
    }
  }
}

// ---- records: DES of (uint16 attribute id, value) pairs ----

/**
 * Encode a service record from attribute id/value pairs (sorted by id, as the spec asks) with
 * a 16-bit length DES as BTstack's records. Returns the size or a negative error.
 */
export function sdp_create_record(buf: Uint8Array, pos: number, attributes: Iterable<readonly [number, DeValue]>): number {
  const sorted = [...attributes].sort((a, b) => a[0] - b[0]);
  const items: DeValue[] = [];
  for (const [id, v] of sorted) items.push(de.uint16(id), v);
  return de_encode_value(buf, pos, de.des_sized(DE_SIZE_VAR_16, ...items));
}

/**
 * Offset of the value of attribute `attribute_id` in the record at buf[record], or -1
 * (BTstack's sdp_get_attribute_value_for_attribute_id). Safe on untrusted records: stops at
 * the first malformed pair.
 */
export function sdp_get_attribute_value_for_attribute_id(buf: Uint8Array, record: number, attribute_id: number, end: number = buf.length): number {
  const it = new DesIterator();
  if (!des_iterator_init(it, buf, record, end)) return -1;
  while (des_iterator_has_more(it)) {
    const idPos = it.pos;
    const id = de_element_get_uint16(buf, idPos, it.end);
    des_iterator_next(it);
    if (id < 0 || de_get_size_type(buf, idPos) !== DE_SIZE_16 || !des_iterator_has_more(it)) return -1;
    if (id === attribute_id) return it.pos;
    des_iterator_next(it);
  }
  return -1;
}

/**
 * Overwrite an existing unsigned attribute value (8/16/32 bits) in place, e.g. the record handle
 * 0x0000. Returns false if absent or not such an element.
 */
export function sdp_set_attribute_value_for_attribute_id(buf: Uint8Array, record: number, attribute_id: number, value: number, end: number = buf.length): boolean {
  const p = sdp_get_attribute_value_for_attribute_id(buf, record, attribute_id, end);
  if (p < 0 || de_get_element_type(buf, p) !== DE_UINT) return false;
  const s = de_get_size_type(buf, p);
  if (s > DE_SIZE_32) return false;
  const n = FIXED_SIZE[s]!;
  for (let i = 0; i < n; i++) buf[p + n - i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
  return true;
}

/** Whether any UUID element anywhere inside buf[pos..] (nesting limited) equals `uuid128`. */
export function sdp_element_contains_uuid128(buf: Uint8Array, pos: number, uuid128: Uint8Array, end: number = buf.length, max_depth = DE_MAX_DEPTH): boolean {
  const n = de_element_size(buf, pos, end);
  if (n < 0) return false;
  const t = buf[pos]! >> 3;
  if (t === DE_UUID) return de_uuid_equals_uuid128(buf, pos, uuid128, end);
  if ((t !== DE_DES && t !== DE_DEA) || max_depth <= 0) return false;
  const stop = pos + n;
  for (let p = pos + de_get_header_size(buf, pos); p < stop; ) {
    const k = de_element_size(buf, p, stop);
    if (k < 0) return false;
    if (sdp_element_contains_uuid128(buf, p, uuid128, stop, max_depth - 1)) return true;
    p += k;
  }
  return false;
}

/**
 * Whether every UUID of the service search pattern (a DES of UUIDs) occurs in the record
 * (BTstack's sdp_record_matches_service_search_pattern). False for a malformed pattern.
 */
export function sdp_record_matches_service_search_pattern(
  record_buf: Uint8Array,
  record: number,
  pattern_buf: Uint8Array,
  pattern: number,
  record_end: number = record_buf.length,
  pattern_end: number = pattern_buf.length,
): boolean {
  const it = new DesIterator();
  if (!des_iterator_init(it, pattern_buf, pattern, pattern_end)) return false;
  const u = new Uint8Array(16);
  while (des_iterator_has_more(it)) {
    if (!de_get_normalized_uuid(u, pattern_buf, it.pos, it.end)) return false;
    if (!sdp_element_contains_uuid128(record_buf, record, u, record_end)) return false;
    des_iterator_next(it);
  }
  return des_iterator_is_complete(it);
}

// ---- attribute ID lists and service search patterns (request parameters) ----

/** Maximum UUIDs in a ServiceSearchPattern (Core Vol 3 Part B 4.5.1). */
export const SDP_MAX_SERVICE_SEARCH_PATTERN_UUIDS = 12;

/**
 * Whether an AttributeIDList is well formed: a DES of at least one uint16 attribute ID or
 * uint32 range (start in the high 16 bits, end in the low 16 bits, start <= end).
 */
export function sdp_attribute_list_valid(buf: Uint8Array, pos: number, end: number = buf.length): boolean {
  if (de_validate(buf, pos, end, 1) < 0) return false;
  const it = new DesIterator();
  if (!des_iterator_init(it, buf, pos, end) || de_get_element_type(buf, pos) !== DE_DES) return false;
  let count = 0;
  while (des_iterator_has_more(it)) {
    const p = it.pos;
    if (buf[p]! >> 3 !== DE_UINT) return false;
    const s = buf[p]! & 7;
    if (s === DE_SIZE_32) {
      if (((buf[p + 1]! << 8) | buf[p + 2]!) > ((buf[p + 3]! << 8) | buf[p + 4]!)) return false;
    } else if (s !== DE_SIZE_16) return false;
    count++;
    des_iterator_next(it);
  }
  return count > 0 && des_iterator_is_complete(it);
}

/** Whether the (valid) AttributeIDList contains `attribute_id` (BTstack's sdp_attribute_list_contains_id). */
export function sdp_attribute_list_contains_id(buf: Uint8Array, pos: number, attribute_id: number, end: number = buf.length): boolean {
  const it = new DesIterator();
  if (!des_iterator_init(it, buf, pos, end)) return false;
  while (des_iterator_has_more(it)) {
    const p = it.pos;
    const s = buf[p]! & 7;
    if (buf[p]! >> 3 === DE_UINT) {
      if (s === DE_SIZE_16 && ((buf[p + 1]! << 8) | buf[p + 2]!) === attribute_id) return true;
      if (s === DE_SIZE_32) {
        const lo = (buf[p + 1]! << 8) | buf[p + 2]!;
        const hi = (buf[p + 3]! << 8) | buf[p + 4]!;
        if (attribute_id >= lo && attribute_id <= hi) return true;
      }
    }
    des_iterator_next(it);
  }
  return false;
}

/** Whether a ServiceSearchPattern is a DES of 1-12 valid UUID elements. */
export function sdp_valid_service_search_pattern(buf: Uint8Array, pos: number, end: number = buf.length): boolean {
  if (de_validate(buf, pos, end, 1) < 0 || de_get_element_type(buf, pos) !== DE_DES) return false;
  const it = new DesIterator();
  des_iterator_init(it, buf, pos, end);
  let count = 0;
  while (des_iterator_has_more(it)) {
    if (des_iterator_get_type(it) !== DE_UUID) return false;
    count++;
    des_iterator_next(it);
  }
  return count >= 1 && count <= SDP_MAX_SERVICE_SEARCH_PATTERN_UUIDS && des_iterator_is_complete(it);
}

/** Write the pattern DES { UUID16 } (35 03 19 hi lo) at buf[pos]; returns 5 or DE_ERROR_NO_ROOM. */
export function sdp_service_search_pattern_for_uuid16(buf: Uint8Array, pos: number, uuid16: number): number {
  return de_encode_value(buf, pos, de.des(de.uuid16(uuid16)));
}

/** Write the pattern DES { UUID128 } (35 11 1c ...) at buf[pos]; returns 19 or a negative error. */
export function sdp_service_search_pattern_for_uuid128(buf: Uint8Array, pos: number, uuid128: Uint8Array): number {
  if (uuid128.length < 16) return DE_ERROR_INVALID_SIZE;
  return de_encode_value(buf, pos, de.des({ type: DE_UUID, size: DE_SIZE_128, bytes: uuid128.subarray(0, 16) }));
}

// ---- attribute filtering for responses (server side) ----

/**
 * Walk the (trusted, registered) record's pairs whose id is in the (valid) AttributeIDList;
 * calls visit(pair_pos, pair_len) in record order.
 */
function forEachSelected(rec: Uint8Array, record: number, ids: Uint8Array, ids_pos: number, visit: (p: number, n: number) => void): void {
  const it = new DesIterator();
  if (!des_iterator_init(it, rec, record)) return;
  while (des_iterator_has_more(it)) {
    const idPos = it.pos;
    const id = de_element_get_uint16(rec, idPos, it.end);
    des_iterator_next(it);
    if (id < 0 || !des_iterator_has_more(it)) return;
    const valueLen = des_iterator_get_element_len(it);
    if (sdp_attribute_list_contains_id(ids, ids_pos, id)) visit(idPos, it.pos + valueLen - idPos);
    des_iterator_next(it);
  }
}

/** Octets of the selected id/value pairs of a record (without the enclosing DES header). */
export function sdp_get_filtered_size(rec: Uint8Array, record: number, ids: Uint8Array, ids_pos: number): number {
  let total = 0;
  forEachSelected(rec, record, ids, ids_pos, (_p, n) => (total += n));
  return total;
}

/**
 * Copy octets [start_offset, start_offset + max_bytes) of the record's selected id/value pairs
 * (the concatenation, without the enclosing DES header) to out[out_pos..]. Returns the number of
 * octets copied; the stream is complete when start_offset + copied equals sdp_get_filtered_size.
 * Continuation of large responses slices this stream; out-of-range offsets copy nothing.
 */
export function sdp_filter_attributes_in_attribute_id_list(
  rec: Uint8Array,
  record: number,
  ids: Uint8Array,
  ids_pos: number,
  start_offset: number,
  max_bytes: number,
  out: Uint8Array,
  out_pos: number,
): number {
  let streamPos = 0;
  let copied = 0;
  const limit = Math.max(0, Math.min(max_bytes, out.length - out_pos));
  forEachSelected(rec, record, ids, ids_pos, (p, n) => {
    const from = Math.max(start_offset, streamPos);
    const to = Math.min(streamPos + n, start_offset + limit);
    if (to > from) {
      out.set(rec.subarray(p + (from - streamPos), p + (to - streamPos)), out_pos + copied);
      copied += to - from;
    }
    streamPos += n;
  });
  return copied;
}
