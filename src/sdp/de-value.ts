/**
 * Data elements as value trees (`de.des(de.uuid16(0x1101))`): encode, decode, sizes. For record
 * building, tests and readable dumps; these allocate. Part of the data element codec;
 * data-element.ts re-exports every name.
 */
import {
  DE_BOOL,
  DE_DEA,
  DE_DES,
  DE_ERROR_INVALID_SIZE,
  DE_ERROR_NO_ROOM,
  DE_ERROR_RESERVED_TYPE,
  DE_INT,
  DE_MAX_DEPTH,
  DE_NIL,
  DE_SIZE_128,
  DE_SIZE_16,
  DE_SIZE_32,
  DE_SIZE_64,
  DE_SIZE_8,
  DE_SIZE_VAR_16,
  DE_SIZE_VAR_32,
  DE_SIZE_VAR_8,
  DE_STRING,
  DE_UINT,
  DE_URL,
  DE_UUID,
  type DeError,
  FIXED_SIZE,
  VAR_LEN_SIZE,
  sizeAllowed,
} from './de-types.js';
import { de_get_data_size, de_get_header_size, de_get_len, de_validate, uuid128_from_string } from './de-reader.js';
import { de_store_descriptor, de_store_descriptor_with_len } from './de-builder.js';

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
  text: (s: string | Uint8Array, size = -1): DeValue => ({
    type: DE_STRING,
    size,
    bytes: typeof s === 'string' ? new TextEncoder().encode(s) : s,
  }),
  url: (s: string | Uint8Array, size = -1): DeValue => ({
    type: DE_URL,
    size,
    bytes: typeof s === 'string' ? new TextEncoder().encode(s) : s,
  }),
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
export function de_decode_value(
  buf: Uint8Array,
  pos: number,
  end: number = buf.length,
  max_depth = DE_MAX_DEPTH,
): DeValue | DeError {
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
