/**
 * SDP data element readers (Core spec Vol 3 Part B, 3): types and size indices, typed errors,
 * header accessors, validation of untrusted elements, value accessors, UUID helpers and the DES
 * iterator. Part of the data element codec; data-element.ts re-exports every name.
 *
 * An element is a header octet (type << 3 | size index) followed, for size indices 5/6/7, by an
 * 8/16/32-bit big-endian data length, then the data. All functions work on (buf, pos) offsets
 * as BTstack's work on pointers, with BTstack's names. Everything that reads input from the
 * wire takes an `end` and never reads at or past it; the `de_get_*` accessors without `end`
 * are for elements already validated (with de_validate) and read out-of-range octets as 0.
 */
import {
  DE_DEA,
  DE_DES,
  DE_ERROR_INVALID_SIZE,
  DE_ERROR_RESERVED_TYPE,
  DE_ERROR_TOO_DEEP,
  DE_ERROR_TRUNCATED,
  DE_MAX_DEPTH,
  DE_NIL,
  DE_SIZE_128,
  DE_SIZE_16,
  DE_SIZE_32,
  DE_SIZE_8,
  DE_SIZE_VAR_16,
  DE_SIZE_VAR_8,
  DE_STRING,
  DE_UINT,
  DE_URL,
  DE_UUID,
  FIXED_SIZE,
  VAR_LEN_SIZE,
  sizeAllowed,
} from './de-types.js';

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
export function de_get_normalized_uuid(
  out: Uint8Array,
  buf: Uint8Array,
  pos: number,
  end: number = buf.length,
  out_pos = 0,
): boolean {
  if (de_element_size(buf, pos, end) < 0 || de_get_element_type(buf, pos) !== DE_UUID) return false;
  const s = de_get_size_type(buf, pos);
  if (s === DE_SIZE_16) sdp_normalize_uuid(out, (buf[pos + 1]! << 8) | buf[pos + 2]!, out_pos);
  else if (s === DE_SIZE_32)
    sdp_normalize_uuid(
      out,
      (buf[pos + 1]! * 0x1000000 + ((buf[pos + 2]! << 16) | (buf[pos + 3]! << 8) | buf[pos + 4]!)) >>> 0,
      out_pos,
    );
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
export function de_uuid_equals_uuid128(
  buf: Uint8Array,
  pos: number,
  uuid128: Uint8Array,
  end: number = buf.length,
  uuid_pos = 0,
): boolean {
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
export function de_uuid_equal(
  a: Uint8Array,
  a_pos: number,
  b: Uint8Array,
  b_pos: number,
  a_end: number = a.length,
  b_end: number = b.length,
): boolean {
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
export function de_traverse_sequence(
  buf: Uint8Array,
  pos: number,
  handler: (child: number, type: number, len: number) => boolean | void,
  end: number = buf.length,
): boolean {
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
