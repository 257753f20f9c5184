/**
 * SDP record and request helpers on data elements (BTstack's sdp_util.c): records as DES of
 * (uint16 attribute id, value) pairs, UUID search, attribute ID lists, service search patterns,
 * and the attribute filtering the server's responses use. Part of the data element codec;
 * data-element.ts re-exports every name.
 */
import {
  DE_DEA,
  DE_DES,
  DE_ERROR_INVALID_SIZE,
  DE_MAX_DEPTH,
  DE_SIZE_128,
  DE_SIZE_16,
  DE_SIZE_32,
  DE_SIZE_VAR_16,
  DE_UINT,
  DE_UUID,
  FIXED_SIZE,
} from './de-types.js';
import {
  DesIterator,
  de_element_get_uint16,
  de_element_size,
  de_get_element_type,
  de_get_header_size,
  de_get_normalized_uuid,
  de_get_size_type,
  de_uuid_equals_uuid128,
  de_validate,
  des_iterator_get_element_len,
  des_iterator_get_type,
  des_iterator_has_more,
  des_iterator_init,
  des_iterator_is_complete,
  des_iterator_next,
} from './de-reader.js';
import { type DeValue, de, de_encode_value } from './de-value.js';

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
export function sdp_get_attribute_value_for_attribute_id(
  buf: Uint8Array,
  record: number,
  attribute_id: number,
  end: number = buf.length,
): number {
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
export function sdp_set_attribute_value_for_attribute_id(
  buf: Uint8Array,
  record: number,
  attribute_id: number,
  value: number,
  end: number = buf.length,
): boolean {
  const p = sdp_get_attribute_value_for_attribute_id(buf, record, attribute_id, end);
  if (p < 0 || de_get_element_type(buf, p) !== DE_UINT) return false;
  const s = de_get_size_type(buf, p);
  if (s > DE_SIZE_32) return false;
  const n = FIXED_SIZE[s]!;
  for (let i = 0; i < n; i++) buf[p + n - i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
  return true;
}

/** Whether any UUID element anywhere inside buf[pos..] (nesting limited) equals `uuid128`. */
export function sdp_element_contains_uuid128(
  buf: Uint8Array,
  pos: number,
  uuid128: Uint8Array,
  end: number = buf.length,
  max_depth = DE_MAX_DEPTH,
): boolean {
  const n = de_element_size(buf, pos, end);
  if (n < 0) return false;
  const t = buf[pos]! >> 3;
  if (t === DE_UUID) return de_uuid_equals_uuid128(buf, pos, uuid128, end);
  if ((t !== DE_DES && t !== DE_DEA) || max_depth <= 0) return false;
  const stop = pos + n;
  for (let p = pos + de_get_header_size(buf, pos); p < stop;) {
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
export function sdp_attribute_list_contains_id(
  buf: Uint8Array,
  pos: number,
  attribute_id: number,
  end: number = buf.length,
): boolean {
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
function forEachSelected(
  rec: Uint8Array,
  record: number,
  ids: Uint8Array,
  ids_pos: number,
  visit: (p: number, n: number) => void,
): void {
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
