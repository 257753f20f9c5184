/**
 * SDP data elements (Core spec Vol 3 Part B, 3): codec, validation, iteration, UUID helpers,
 * a BTstack-style record builder and record / attribute-list helpers. One pure codec, split by
 * concern; this module re-exports all of it (the public names live here):
 *
 * - de-types.ts: types, size indices, typed errors;
 * - de-reader.ts: header/value accessors, validation, UUIDs, the DES iterator;
 * - de-builder.ts: the BTstack-style builder into caller buffers (de_create_sequence & co.);
 * - de-value.ts: value trees (`de.*`, de_encode_value, de_decode_value);
 * - sdp-util.ts: records, attribute ID lists, search patterns, response filtering (sdp_*).
 *
 * Everything that reads input from the wire takes an `end` and never reads at or past it;
 * builders never write past the caller's buffer (DE_ERROR_NO_ROOM instead).
 */
export {
  DE_NIL,
  DE_UINT,
  DE_INT,
  DE_UUID,
  DE_STRING,
  DE_BOOL,
  DE_DES,
  DE_DEA,
  DE_URL,
  DE_SIZE_8,
  DE_SIZE_16,
  DE_SIZE_32,
  DE_SIZE_64,
  DE_SIZE_128,
  DE_SIZE_VAR_8,
  DE_SIZE_VAR_16,
  DE_SIZE_VAR_32,
  DE_MAX_DEPTH,
  DE_ERROR_TRUNCATED,
  DE_ERROR_INVALID_SIZE,
  DE_ERROR_RESERVED_TYPE,
  DE_ERROR_TOO_DEEP,
  DE_ERROR_WRONG_TYPE,
  DE_ERROR_NO_ROOM,
  type DeError,
} from './de-types.js';
export * from './de-reader.js';
export * from './de-builder.js';
export * from './de-value.js';
export * from './sdp-util.js';
