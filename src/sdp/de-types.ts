/**
 * SDP data element types, size indices, size tables and typed errors (Core spec Vol 3 Part B, 3.2,
 * 3.3; BTstack's de_type_t / de_size_t). Part of the data element codec: data-element.ts re-exports
 * the public names; FIXED_SIZE, VAR_LEN_SIZE and sizeAllowed are the codec's own.
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
export const FIXED_SIZE = [1, 2, 4, 8, 16];
/** Length-field octets for size indices 5-7. */
export const VAR_LEN_SIZE = [0, 0, 0, 0, 0, 1, 2, 4];

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

/** Whether size index `s` is allowed for element type `type`. */
export function sizeAllowed(type: number, s: number): boolean {
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
