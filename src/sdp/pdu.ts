/**
 * SDP PDU codec (Core spec Vol 3 Part B, 4): header, the six request/response PDUs, the
 * ErrorResponse and continuation state. All multi-octet fields are big endian.
 *
 *   PDU ID(1) TransactionID(2) ParameterLength(2) parameters(ParameterLength)
 *
 * Decoders fill a caller-owned `SdpPdu` (offsets into the caller's buffer, no allocation) and
 * never read outside [pos, pos+len). `sdp_request_decode` returns 0 or the SDP error code the
 * server must answer with; `sdp_response_decode` returns a status for the client. Encoders write
 * into a caller buffer and return the PDU size or a negative error (nothing written).
 */
import { ERROR_CODE_MEMORY_CAPACITY_EXCEEDED, ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE } from '../codes/v1.4.js';
import { de_element_size, sdp_attribute_list_valid, sdp_valid_service_search_pattern } from './data-element.js';

// ---- PDU IDs (BTstack's sdp_pdu_id_t) ----

export const SDP_Invalid = 0x00;
export const SDP_ErrorResponse = 0x01;
export const SDP_ServiceSearchRequest = 0x02;
export const SDP_ServiceSearchResponse = 0x03;
export const SDP_ServiceAttributeRequest = 0x04;
export const SDP_ServiceAttributeResponse = 0x05;
export const SDP_ServiceSearchAttributeRequest = 0x06;
export const SDP_ServiceSearchAttributeResponse = 0x07;

// ---- ErrorResponse codes (Core Vol 3 Part B 4.4.1) ----

export const SDP_ERROR_INVALID_SDP_VERSION = 0x0001;
export const SDP_ERROR_INVALID_SERVICE_RECORD_HANDLE = 0x0002;
export const SDP_ERROR_INVALID_REQUEST_SYNTAX = 0x0003;
export const SDP_ERROR_INVALID_PDU_SIZE = 0x0004;
export const SDP_ERROR_INVALID_CONTINUATION_STATE = 0x0005;
export const SDP_ERROR_INSUFFICIENT_RESOURCES = 0x0006;

export const SDP_PDU_HEADER_SIZE = 5;
/** Largest continuation state information (InfoLength 0-16). */
export const SDP_MAX_CONTINUATION_STATE = 16;
/** Smallest MaximumAttributeByteCount a request may carry. */
export const SDP_MIN_MAXIMUM_ATTRIBUTE_BYTE_COUNT = 7;
/** Where the AttributeList(s) octets start in a ServiceAttribute/ServiceSearchAttribute response. */
export const SDP_ATTRIBUTE_RESPONSE_DATA_OFFSET = SDP_PDU_HEADER_SIZE + 2;
/** Where the handle list starts in a ServiceSearchResponse. */
export const SDP_SERVICE_SEARCH_RESPONSE_DATA_OFFSET = SDP_PDU_HEADER_SIZE + 4;

/** Encoder failure: no room in `buf` (nothing written). */
export const SDP_ENCODE_NO_ROOM = -ERROR_CODE_MEMORY_CAPACITY_EXCEEDED;
/** Encoder failure: an argument out of range (continuation state > 16 octets, counts > 65535...). */
export const SDP_ENCODE_INVALID_ARGUMENT = -ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;

// ---- decoded view ----

/** A decoded PDU: header, the parameters of its type, continuation state. Reused; offsets are absolute. */
export class SdpPdu {
  /** Whether the 5-octet header was present (transaction_id is valid when at least 3 octets were). */
  has_header = false;
  pdu_id = 0;
  transaction_id = 0;
  param_len = 0;
  /** Offset of the parameters. */
  params_pos = 0;

  /** ServiceSearchPattern element (requests 0x02, 0x06). */
  pattern_pos = 0;
  pattern_len = 0;
  /** MaximumServiceRecordCount (0x02). */
  max_record_count = 0;
  /** ServiceRecordHandle (0x04). */
  record_handle = 0;
  /** MaximumAttributeByteCount (0x04, 0x06). */
  max_attribute_bytes = 0;
  /** AttributeIDList element (0x04, 0x06). */
  attribute_list_pos = 0;
  attribute_list_len = 0;

  /** TotalServiceRecordCount / CurrentServiceRecordCount and the handle list (0x03). */
  total_record_count = 0;
  current_record_count = 0;
  handles_pos = 0;
  /** AttributeList(s)ByteCount and the octets (0x05, 0x07). */
  attribute_bytes_count = 0;
  attribute_bytes_pos = 0;

  /** ErrorCode and ErrorInfo (0x01). */
  error_code = 0;
  error_info_pos = 0;
  error_info_len = 0;

  /** ContinuationState: InfoLength and the offset of the information octets. */
  continuation_len = 0;
  continuation_pos = 0;

  clear(): void {
    this.has_header = false;
    this.pdu_id = this.transaction_id = this.param_len = this.params_pos = 0;
    this.pattern_pos = this.pattern_len = this.max_record_count = this.record_handle = 0;
    this.max_attribute_bytes = this.attribute_list_pos = this.attribute_list_len = 0;
    this.total_record_count = this.current_record_count = this.handles_pos = 0;
    this.attribute_bytes_count = this.attribute_bytes_pos = 0;
    this.error_code = this.error_info_pos = this.error_info_len = 0;
    this.continuation_len = this.continuation_pos = 0;
  }
}

/** Handle number `i` of a decoded ServiceSearchResponse. */
export function sdp_pdu_get_record_handle(buf: Uint8Array, pdu: SdpPdu, i: number): number {
  if (!(i >= 0 && i < pdu.current_record_count)) return 0;
  const p = pdu.handles_pos + 4 * i;
  return buf[p]! * 0x1000000 + ((buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!);
}

function u16(buf: Uint8Array, p: number): number {
  return (buf[p]! << 8) | buf[p + 1]!;
}
function u32(buf: Uint8Array, p: number): number {
  return buf[p]! * 0x1000000 + ((buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!);
}

/** Read the header; returns the parameter end, or -1 (size error). */
function header(buf: Uint8Array, pos: number, len: number, out: SdpPdu): number {
  out.clear();
  if (!(pos >= 0 && len >= 0 && pos + len <= buf.length)) return -1;
  if (len >= 1) out.pdu_id = buf[pos]!;
  if (len >= 3) out.transaction_id = u16(buf, pos + 1);
  if (len < SDP_PDU_HEADER_SIZE) return -1;
  out.has_header = true;
  out.param_len = u16(buf, pos + 3);
  out.params_pos = pos + SDP_PDU_HEADER_SIZE;
  if (out.param_len !== len - SDP_PDU_HEADER_SIZE) return -1;
  return pos + len;
}

/**
 * Parse the continuation state at buf[p] which must end exactly at `end`.
 * Returns 0, or 'syntax' / 'state' for a malformed / over-long state.
 */
function continuation(buf: Uint8Array, p: number, end: number, out: SdpPdu): 0 | 'syntax' | 'state' {
  if (p >= end) return 'syntax';
  const n = buf[p]!;
  if (p + 1 + n !== end) return 'syntax';
  if (n > SDP_MAX_CONTINUATION_STATE) return 'state';
  out.continuation_len = n;
  out.continuation_pos = p + 1;
  return 0;
}

function contError(r: 'syntax' | 'state'): number {
  return r === 'state' ? SDP_ERROR_INVALID_CONTINUATION_STATE : SDP_ERROR_INVALID_REQUEST_SYNTAX;
}

/**
 * Decode a request (what an SDP server receives) from buf[pos .. pos+len). Returns 0 when it is a
 * well-formed ServiceSearch/ServiceAttribute/ServiceSearchAttribute request, else the error code
 * to send back in an ErrorResponse (out.transaction_id holds the request's id when at least 3
 * octets arrived):
 * - SDP_ERROR_INVALID_PDU_SIZE: fewer than 5 octets, or ParameterLength not equal to the octets
 *   that follow the header;
 * - SDP_ERROR_INVALID_REQUEST_SYNTAX: not a request PDU ID, a broken/lying data element, a
 *   pattern that is not 1-12 UUIDs, a bad AttributeIDList, MaximumServiceRecordCount 0,
 *   MaximumAttributeByteCount < 7, missing or trailing octets;
 * - SDP_ERROR_INVALID_CONTINUATION_STATE: InfoLength above 16.
 * Whether a continuation state is one this server issued is for the server to check.
 */
export function sdp_request_decode(buf: Uint8Array, pos: number, len: number, out: SdpPdu): number {
  const end = header(buf, pos, len, out);
  if (end < 0) return SDP_ERROR_INVALID_PDU_SIZE;
  let p = out.params_pos;
  const id = out.pdu_id;
  if (id !== SDP_ServiceSearchRequest && id !== SDP_ServiceAttributeRequest && id !== SDP_ServiceSearchAttributeRequest) {
    return SDP_ERROR_INVALID_REQUEST_SYNTAX;
  }
  if (id === SDP_ServiceAttributeRequest) {
    if (p + 4 > end) return SDP_ERROR_INVALID_REQUEST_SYNTAX;
    out.record_handle = u32(buf, p);
    p += 4;
  } else {
    const n = de_element_size(buf, p, end);
    if (n < 0 || !sdp_valid_service_search_pattern(buf, p, p + n)) return SDP_ERROR_INVALID_REQUEST_SYNTAX;
    out.pattern_pos = p;
    out.pattern_len = n;
    p += n;
  }
  if (p + 2 > end) return SDP_ERROR_INVALID_REQUEST_SYNTAX;
  const max = u16(buf, p);
  p += 2;
  if (id === SDP_ServiceSearchRequest) {
    if (max === 0) return SDP_ERROR_INVALID_REQUEST_SYNTAX;
    out.max_record_count = max;
  } else {
    if (max < SDP_MIN_MAXIMUM_ATTRIBUTE_BYTE_COUNT) return SDP_ERROR_INVALID_REQUEST_SYNTAX;
    out.max_attribute_bytes = max;
    const n = de_element_size(buf, p, end);
    if (n < 0 || !sdp_attribute_list_valid(buf, p, p + n)) return SDP_ERROR_INVALID_REQUEST_SYNTAX;
    out.attribute_list_pos = p;
    out.attribute_list_len = n;
    p += n;
  }
  const c = continuation(buf, p, end, out);
  return c === 0 ? 0 : contError(c);
}

/** Client-side status of a decoded response. */
export type SdpResponseStatus =
  | 'ok'
  /** Fewer than 5 octets. */
  | 'too-short'
  /** ParameterLength does not match the octets after the header. */
  | 'bad-param-length'
  /** Counts or byte counts lying about the octets present, missing/trailing octets, bad continuation. */
  | 'bad-syntax'
  /** Not a response PDU ID. */
  | 'unknown-pdu';

/**
 * Decode a response (what an SDP client receives) from buf[pos .. pos+len). An ErrorResponse
 * decodes as 'ok' with pdu_id SDP_ErrorResponse and error_code set. The client must still
 * match transaction_id and check counts against what it asked for.
 */
export function sdp_response_decode(buf: Uint8Array, pos: number, len: number, out: SdpPdu): SdpResponseStatus {
  const end = header(buf, pos, len, out);
  if (end < 0) return out.has_header ? 'bad-param-length' : 'too-short';
  let p = out.params_pos;
  switch (out.pdu_id) {
    case SDP_ErrorResponse:
      if (p + 2 > end) return 'bad-syntax';
      out.error_code = u16(buf, p);
      out.error_info_pos = p + 2;
      out.error_info_len = end - p - 2;
      return 'ok';
    case SDP_ServiceSearchResponse: {
      if (p + 4 > end) return 'bad-syntax';
      out.total_record_count = u16(buf, p);
      out.current_record_count = u16(buf, p + 2);
      p += 4;
      if (out.current_record_count > out.total_record_count || p + 4 * out.current_record_count > end) return 'bad-syntax';
      out.handles_pos = p;
      p += 4 * out.current_record_count;
      break;
    }
    case SDP_ServiceAttributeResponse:
    case SDP_ServiceSearchAttributeResponse: {
      if (p + 2 > end) return 'bad-syntax';
      out.attribute_bytes_count = u16(buf, p);
      p += 2;
      if (p + out.attribute_bytes_count > end) return 'bad-syntax';
      out.attribute_bytes_pos = p;
      p += out.attribute_bytes_count;
      break;
    }
    default:
      return 'unknown-pdu';
  }
  return continuation(buf, p, end, out) === 0 ? 'ok' : 'bad-syntax';
}

// ---- encoders ----

function validCont(cont: Uint8Array | null): boolean {
  return !cont || cont.length <= SDP_MAX_CONTINUATION_STATE;
}

function putHeader(buf: Uint8Array, pos: number, pdu_id: number, tid: number, param_len: number): void {
  buf[pos] = pdu_id & 0xff;
  buf[pos + 1] = (tid >> 8) & 0xff;
  buf[pos + 2] = tid & 0xff;
  buf[pos + 3] = param_len >> 8;
  buf[pos + 4] = param_len & 0xff;
}

function putCont(buf: Uint8Array, p: number, cont: Uint8Array | null): number {
  const n = cont ? cont.length : 0;
  buf[p] = n;
  if (cont && n) buf.set(cont, p + 1);
  return p + 1 + n;
}

function room(buf: Uint8Array, pos: number, size: number): boolean {
  return pos >= 0 && pos + size <= buf.length;
}

function put16(buf: Uint8Array, p: number, v: number): void {
  buf[p] = (v >> 8) & 0xff;
  buf[p + 1] = v & 0xff;
}
function put32(buf: Uint8Array, p: number, v: number): void {
  buf[p] = (v >>> 24) & 0xff;
  buf[p + 1] = (v >>> 16) & 0xff;
  buf[p + 2] = (v >>> 8) & 0xff;
  buf[p + 3] = v & 0xff;
}

/** Write a header at buf[pos] (5 octets). Returns 5 or SDP_ENCODE_NO_ROOM. */
export function sdp_encode_header(
  buf: Uint8Array,
  pos: number,
  pdu_id: number,
  transaction_id: number,
  param_len: number,
): number {
  if (!(param_len >= 0 && param_len <= 0xffff)) return SDP_ENCODE_INVALID_ARGUMENT;
  if (!room(buf, pos, SDP_PDU_HEADER_SIZE)) return SDP_ENCODE_NO_ROOM;
  putHeader(buf, pos, pdu_id, transaction_id, param_len);
  return SDP_PDU_HEADER_SIZE;
}

/** ErrorResponse with an SDP_ERROR_* code (7 octets). */
export function sdp_encode_error_response(buf: Uint8Array, pos: number, transaction_id: number, error_code: number): number {
  if (!room(buf, pos, 7)) return SDP_ENCODE_NO_ROOM;
  putHeader(buf, pos, SDP_ErrorResponse, transaction_id, 2);
  put16(buf, pos + 5, error_code);
  return 7;
}

/** ServiceSearchRequest: `pattern` is the encoded DES of UUIDs. */
export function sdp_encode_service_search_request(
  buf: Uint8Array,
  pos: number,
  transaction_id: number,
  pattern: Uint8Array,
  max_record_count: number,
  cont: Uint8Array | null = null,
): number {
  const plen = pattern.length + 2 + 1 + (cont?.length ?? 0);
  if (!validCont(cont) || plen > 0xffff) return SDP_ENCODE_INVALID_ARGUMENT;
  if (!room(buf, pos, SDP_PDU_HEADER_SIZE + plen)) return SDP_ENCODE_NO_ROOM;
  putHeader(buf, pos, SDP_ServiceSearchRequest, transaction_id, plen);
  let p = pos + SDP_PDU_HEADER_SIZE;
  buf.set(pattern, p);
  p += pattern.length;
  put16(buf, p, max_record_count);
  p = putCont(buf, p + 2, cont);
  return p - pos;
}

/** ServiceAttributeRequest: `attribute_list` is the encoded AttributeIDList DES. */
export function sdp_encode_service_attribute_request(
  buf: Uint8Array,
  pos: number,
  transaction_id: number,
  record_handle: number,
  max_attribute_bytes: number,
  attribute_list: Uint8Array,
  cont: Uint8Array | null = null,
): number {
  const plen = 4 + 2 + attribute_list.length + 1 + (cont?.length ?? 0);
  if (!validCont(cont) || plen > 0xffff) return SDP_ENCODE_INVALID_ARGUMENT;
  if (!room(buf, pos, SDP_PDU_HEADER_SIZE + plen)) return SDP_ENCODE_NO_ROOM;
  putHeader(buf, pos, SDP_ServiceAttributeRequest, transaction_id, plen);
  let p = pos + SDP_PDU_HEADER_SIZE;
  put32(buf, p, record_handle);
  put16(buf, p + 4, max_attribute_bytes);
  p += 6;
  buf.set(attribute_list, p);
  p = putCont(buf, p + attribute_list.length, cont);
  return p - pos;
}

/** ServiceSearchAttributeRequest. */
export function sdp_encode_service_search_attribute_request(
  buf: Uint8Array,
  pos: number,
  transaction_id: number,
  pattern: Uint8Array,
  max_attribute_bytes: number,
  attribute_list: Uint8Array,
  cont: Uint8Array | null = null,
): number {
  const plen = pattern.length + 2 + attribute_list.length + 1 + (cont?.length ?? 0);
  if (!validCont(cont) || plen > 0xffff) return SDP_ENCODE_INVALID_ARGUMENT;
  if (!room(buf, pos, SDP_PDU_HEADER_SIZE + plen)) return SDP_ENCODE_NO_ROOM;
  putHeader(buf, pos, SDP_ServiceSearchAttributeRequest, transaction_id, plen);
  let p = pos + SDP_PDU_HEADER_SIZE;
  buf.set(pattern, p);
  p += pattern.length;
  put16(buf, p, max_attribute_bytes);
  p += 2;
  buf.set(attribute_list, p);
  p = putCont(buf, p + attribute_list.length, cont);
  return p - pos;
}

/**
 * ServiceSearchResponse with handles[first .. first+count) as the current handles.
 */
export function sdp_encode_service_search_response(
  buf: Uint8Array,
  pos: number,
  transaction_id: number,
  total_record_count: number,
  handles: ArrayLike<number>,
  first = 0,
  count = handles.length - first,
  cont: Uint8Array | null = null,
): number {
  if (
    !validCont(cont) ||
    count < 0 ||
    first < 0 ||
    first + count > handles.length ||
    total_record_count > 0xffff ||
    count > total_record_count
  ) {
    return SDP_ENCODE_INVALID_ARGUMENT;
  }
  const plen = 4 + 4 * count + 1 + (cont?.length ?? 0);
  if (plen > 0xffff) return SDP_ENCODE_INVALID_ARGUMENT;
  if (!room(buf, pos, SDP_PDU_HEADER_SIZE + plen)) return SDP_ENCODE_NO_ROOM;
  putHeader(buf, pos, SDP_ServiceSearchResponse, transaction_id, plen);
  let p = pos + SDP_PDU_HEADER_SIZE;
  put16(buf, p, total_record_count);
  put16(buf, p + 2, count);
  p += 4;
  for (let i = 0; i < count; i++, p += 4) put32(buf, p, handles[first + i]!);
  p = putCont(buf, p, cont);
  return p - pos;
}

/**
 * Finish a ServiceAttributeResponse / ServiceSearchAttributeResponse whose `byte_count` octets
 * of attribute list data the caller already wrote at buf[pos + SDP_ATTRIBUTE_RESPONSE_DATA_OFFSET]
 * (zero copy): writes header, byte count and continuation state. Returns the PDU size.
 */
export function sdp_finish_attribute_response(
  buf: Uint8Array,
  pos: number,
  pdu_id: number,
  transaction_id: number,
  byte_count: number,
  cont: Uint8Array | null = null,
): number {
  if (pdu_id !== SDP_ServiceAttributeResponse && pdu_id !== SDP_ServiceSearchAttributeResponse)
    return SDP_ENCODE_INVALID_ARGUMENT;
  const plen = 2 + byte_count + 1 + (cont?.length ?? 0);
  if (!validCont(cont) || byte_count < 0 || plen > 0xffff) return SDP_ENCODE_INVALID_ARGUMENT;
  if (!room(buf, pos, SDP_PDU_HEADER_SIZE + plen)) return SDP_ENCODE_NO_ROOM;
  putHeader(buf, pos, pdu_id, transaction_id, plen);
  put16(buf, pos + SDP_PDU_HEADER_SIZE, byte_count);
  const p = putCont(buf, pos + SDP_ATTRIBUTE_RESPONSE_DATA_OFFSET + byte_count, cont);
  return p - pos;
}

/** ServiceAttributeResponse / ServiceSearchAttributeResponse with the octets copied from `data`. */
export function sdp_encode_attribute_response(
  buf: Uint8Array,
  pos: number,
  pdu_id: number,
  transaction_id: number,
  data: Uint8Array,
  cont: Uint8Array | null = null,
): number {
  const plen = 2 + data.length + 1 + (cont?.length ?? 0);
  if (!validCont(cont) || plen > 0xffff) return SDP_ENCODE_INVALID_ARGUMENT;
  if (pdu_id !== SDP_ServiceAttributeResponse && pdu_id !== SDP_ServiceSearchAttributeResponse)
    return SDP_ENCODE_INVALID_ARGUMENT;
  if (!room(buf, pos, SDP_PDU_HEADER_SIZE + plen)) return SDP_ENCODE_NO_ROOM;
  buf.set(data, pos + SDP_ATTRIBUTE_RESPONSE_DATA_OFFSET);
  return sdp_finish_attribute_response(buf, pos, pdu_id, transaction_id, data.length, cont);
}
