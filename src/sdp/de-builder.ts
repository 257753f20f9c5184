/**
 * BTstack-style data element builder (de_create_sequence, de_add_number, ...): writes into the
 * caller's buffer and never past its end, returning 0 / a size, or DE_ERROR_NO_ROOM
 * (-ERROR_CODE_MEMORY_CAPACITY_EXCEEDED) without writing anything. Part of the data element codec;
 * data-element.ts re-exports every name.
 */
import {
  DE_BOOL,
  DE_DES,
  DE_ERROR_INVALID_SIZE,
  DE_ERROR_NO_ROOM,
  DE_INT,
  DE_SIZE_128,
  DE_SIZE_16,
  DE_SIZE_32,
  DE_SIZE_64,
  DE_SIZE_8,
  DE_SIZE_VAR_16,
  DE_SIZE_VAR_32,
  DE_SIZE_VAR_8,
  DE_UINT,
  DE_UUID,
  FIXED_SIZE,
  VAR_LEN_SIZE,
} from './de-types.js';
import { de_get_data_size, de_get_element_type, de_get_len, de_get_size_type, de_validate } from './de-reader.js';

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
export function de_add_data(
  buf: Uint8Array,
  seq: number,
  type: number,
  data: Uint8Array,
  data_pos = 0,
  data_len = data.length - data_pos,
): number {
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
