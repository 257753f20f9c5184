import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from '../../../src/core/bytes.js';
import {
  SDP_ATTRIBUTE_RESPONSE_DATA_OFFSET,
  SDP_ENCODE_INVALID_ARGUMENT,
  SDP_ENCODE_NO_ROOM,
  SDP_ERROR_INVALID_CONTINUATION_STATE,
  SDP_ERROR_INVALID_PDU_SIZE,
  SDP_ERROR_INVALID_REQUEST_SYNTAX,
  SDP_ErrorResponse,
  SDP_ServiceAttributeRequest,
  SDP_ServiceAttributeResponse,
  SDP_ServiceSearchAttributeRequest,
  SDP_ServiceSearchAttributeResponse,
  SDP_ServiceSearchRequest,
  SDP_ServiceSearchResponse,
  SdpPdu,
  sdp_encode_attribute_response,
  sdp_encode_error_response,
  sdp_encode_header,
  sdp_encode_service_attribute_request,
  sdp_encode_service_search_attribute_request,
  sdp_encode_service_search_request,
  sdp_encode_service_search_response,
  sdp_finish_attribute_response,
  sdp_pdu_get_record_handle,
  sdp_request_decode,
  sdp_response_decode,
} from '../../../src/sdp/pdu.js';

const pdu = new SdpPdu();

function enc(fn: (buf: Uint8Array, pos: number) => number): string {
  const buf = new Uint8Array(128);
  const n = fn(buf, 0);
  assert.ok(n > 0, `encoder returned ${n}`);
  return hex(buf, n);
}

function req(s: string): number {
  const b = fromHex(s);
  return sdp_request_decode(b, 0, b.length, pdu);
}
function rsp(s: string) {
  const b = fromHex(s);
  return sdp_response_decode(b, 0, b.length, pdu);
}

const SPP_PATTERN = fromHex('35 03 19 11 01');
const ALL_ATTRIBUTES = fromHex('35 05 0a 00 00 ff ff');

test('ServiceSearchRequest: PDU 02, transaction id, parameter length, pattern, max count, continuation', () => {
  // params: 35 03 19 11 01 (5) + 00 10 (2) + 00 (1) = 8
  assert.is(
    enc((b, p) => sdp_encode_service_search_request(b, p, 0x0001, SPP_PATTERN, 0x0010)),
    '02 00 01 00 08 35 03 19 11 01 00 10 00',
  );
  assert.is(
    enc((b, p) => sdp_encode_service_search_request(b, p, 0xabcd, SPP_PATTERN, 0x0010, fromHex('01 02'))),
    '02 ab cd 00 0a 35 03 19 11 01 00 10 02 01 02',
  );
  assert.is(req('02 00 01 00 08 35 03 19 11 01 00 10 00'), 0);
  assert.is(pdu.pdu_id, SDP_ServiceSearchRequest);
  assert.is(pdu.transaction_id, 1);
  assert.is(pdu.param_len, 8);
  assert.is(pdu.pattern_pos, 5);
  assert.is(pdu.pattern_len, 5);
  assert.is(pdu.max_record_count, 16);
  assert.is(pdu.continuation_len, 0);
  assert.is(req('02 ab cd 00 0a 35 03 19 11 01 00 10 02 01 02'), 0);
  assert.is(pdu.transaction_id, 0xabcd);
  assert.is(pdu.continuation_len, 2);
  assert.is(pdu.continuation_pos, 13);
});

test('ServiceAttributeRequest and ServiceSearchAttributeRequest', () => {
  // params: handle 4 + max 2 + list 7 + cont 1 = 14
  assert.is(
    enc((b, p) => sdp_encode_service_attribute_request(b, p, 2, 0x00010000, 0x0400, ALL_ATTRIBUTES)),
    '04 00 02 00 0e 00 01 00 00 04 00 35 05 0a 00 00 ff ff 00',
  );
  assert.is(req('04 00 02 00 0e 00 01 00 00 04 00 35 05 0a 00 00 ff ff 00'), 0);
  assert.is(pdu.pdu_id, SDP_ServiceAttributeRequest);
  assert.is(pdu.record_handle, 0x00010000);
  assert.is(pdu.max_attribute_bytes, 0x0400);
  assert.is(pdu.attribute_list_pos, 11);
  assert.is(pdu.attribute_list_len, 7);
  // params: pattern 5 + max 2 + list 7 + cont 1 = 15
  assert.is(
    enc((b, p) => sdp_encode_service_search_attribute_request(b, p, 3, SPP_PATTERN, 0x0400, ALL_ATTRIBUTES)),
    '06 00 03 00 0f 35 03 19 11 01 04 00 35 05 0a 00 00 ff ff 00',
  );
  assert.is(req('06 00 03 00 0f 35 03 19 11 01 04 00 35 05 0a 00 00 ff ff 00'), 0);
  assert.is(pdu.pdu_id, SDP_ServiceSearchAttributeRequest);
  assert.is(pdu.pattern_len, 5);
  assert.is(pdu.attribute_list_pos, 12);
  assert.is(req('06 00 03 00 11 35 03 19 11 01 00 07 35 05 0a 00 00 ff ff 02 00 30'), 0); // with continuation 00 30
  assert.is(pdu.max_attribute_bytes, 7);
  assert.is(pdu.continuation_len, 2);
});

test('responses: ServiceSearch, ServiceAttribute, ServiceSearchAttribute, Error', () => {
  // params: total 2 + current 2 + 1 handle 4 + cont 1 = 9
  assert.is(
    enc((b, p) => sdp_encode_service_search_response(b, p, 1, 1, [0x00010000])),
    '03 00 01 00 09 00 01 00 01 00 01 00 00 00',
  );
  assert.is(
    enc((b, p) => sdp_encode_service_search_response(b, p, 1, 3, [0x10000, 0x10001, 0x10002], 1, 2, fromHex('02'))),
    '03 00 01 00 0e 00 03 00 02 00 01 00 01 00 01 00 02 01 02',
  );
  assert.is(rsp('03 00 01 00 0e 00 03 00 02 00 01 00 01 00 01 00 02 01 02'), 'ok');
  assert.is(pdu.pdu_id, SDP_ServiceSearchResponse);
  assert.is(pdu.total_record_count, 3);
  assert.is(pdu.current_record_count, 2);
  const b = fromHex('03 00 01 00 0e 00 03 00 02 00 01 00 01 00 01 00 02 01 02');
  assert.is(sdp_pdu_get_record_handle(b, pdu, 0), 0x10001);
  assert.is(sdp_pdu_get_record_handle(b, pdu, 1), 0x10002);
  assert.is(sdp_pdu_get_record_handle(b, pdu, 2), 0);
  assert.is(pdu.continuation_len, 1);
  // attribute list: DES { 09 00 01 35 03 19 11 01 } = 35 08 ..., byte count 10, cont 0: params 2 + 10 + 1 = 13
  const attrs = fromHex('35 08 09 00 01 35 03 19 11 01');
  assert.is(
    enc((b2, p) => sdp_encode_attribute_response(b2, p, SDP_ServiceAttributeResponse, 2, attrs)),
    '05 00 02 00 0d 00 0a 35 08 09 00 01 35 03 19 11 01 00',
  );
  assert.is(rsp('05 00 02 00 0d 00 0a 35 08 09 00 01 35 03 19 11 01 00'), 'ok');
  assert.is(pdu.attribute_bytes_count, 10);
  assert.is(pdu.attribute_bytes_pos, 7);
  // partial AttributeLists with a continuation state of 2 octets: params 2 + 4 + 3 = 9
  assert.is(
    enc((b2, p) =>
      sdp_encode_attribute_response(b2, p, SDP_ServiceSearchAttributeResponse, 3, fromHex('35 10 36 00'), fromHex('00 04')),
    ),
    '07 00 03 00 09 00 04 35 10 36 00 02 00 04',
  );
  assert.is(rsp('07 00 03 00 09 00 04 35 10 36 00 02 00 04'), 'ok');
  assert.is(pdu.pdu_id, SDP_ServiceSearchAttributeResponse);
  assert.is(pdu.continuation_len, 2);
  assert.is(pdu.continuation_pos, 12);
  assert.is(
    enc((b2, p) => sdp_encode_error_response(b2, p, 5, SDP_ERROR_INVALID_REQUEST_SYNTAX)),
    '01 00 05 00 02 00 03',
  );
  assert.is(rsp('01 00 05 00 02 00 03'), 'ok');
  assert.is(pdu.pdu_id, SDP_ErrorResponse);
  assert.is(pdu.error_code, 3);
  assert.is(pdu.error_info_len, 0);
  assert.is(
    enc((b2, p) => sdp_encode_header(b2, p, SDP_ErrorResponse, 0x1234, 2)),
    '01 12 34 00 02',
  );
});

test('zero-copy attribute response: data written first, header and continuation around it', () => {
  const buf = new Uint8Array(32).fill(0xee);
  buf.set(fromHex('35 03 09 00 01'), SDP_ATTRIBUTE_RESPONSE_DATA_OFFSET);
  const n = sdp_finish_attribute_response(buf, 0, SDP_ServiceAttributeResponse, 9, 5, null);
  assert.is(n, 13);
  assert.is(hex(buf, 14), '05 00 09 00 08 00 05 35 03 09 00 01 00 ee');
  assert.is(sdp_finish_attribute_response(buf, 0, SDP_ServiceSearchResponse, 9, 5), SDP_ENCODE_INVALID_ARGUMENT);
});

test('requests with lying lengths get Invalid PDU Size; broken parameters Invalid Request Syntax', () => {
  assert.is(req('02 00 01 00 09 35 03 19 11 01 00 10 00'), SDP_ERROR_INVALID_PDU_SIZE); // says 9, has 8
  assert.is(pdu.transaction_id, 1); // for the ErrorResponse
  assert.is(req('02 00 01 00 07 35 03 19 11 01 00 10 00'), SDP_ERROR_INVALID_PDU_SIZE); // says 7, has 8
  assert.is(req('02 00 07 00'), SDP_ERROR_INVALID_PDU_SIZE);
  assert.is(pdu.transaction_id, 7);
  assert.not.ok(pdu.has_header);
  assert.is(req(''), SDP_ERROR_INVALID_PDU_SIZE);
  assert.is(req('02 00 01 ff ff'), SDP_ERROR_INVALID_PDU_SIZE);
  // data element lying about its length
  assert.is(req('02 00 01 00 08 35 09 19 11 01 00 10 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX);
  assert.is(req('02 00 01 00 08 35 04 19 11 01 00 10 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // swallows a nil
  assert.is(req('02 00 01 00 08 35 03 09 11 01 00 10 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // not a UUID
  assert.is(req('02 00 01 00 05 35 00 00 10 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // no UUID
  assert.is(req('02 00 01 00 08 35 03 19 11 01 00 00 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // max count 0
  assert.is(req('02 00 01 00 07 35 03 19 11 01 00 10'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // no continuation
  assert.is(req('02 00 01 00 09 35 03 19 11 01 00 10 00 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // trailing octet
  assert.is(req('02 00 01 00 09 35 03 19 11 01 00 10 02 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // continuation cut
  const cont17 = '11' + ' 00'.repeat(17);
  assert.is(req('02 00 01 00 19 35 03 19 11 01 00 10 ' + cont17), SDP_ERROR_INVALID_CONTINUATION_STATE); // 0x19 = 25 params
  const thirteen = '35 27' + ' 19 00 01'.repeat(13);
  assert.is(req('02 00 01 00 2c ' + thirteen + ' 00 10 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // 13 UUIDs
  const twelve = '35 24' + ' 19 00 01'.repeat(12);
  assert.is(req('02 00 01 00 29 ' + twelve + ' 00 10 00'), 0);
  // attribute requests
  assert.is(req('04 00 02 00 0e 00 01 00 00 00 06 35 05 0a 00 00 ff ff 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // max bytes 6 < 7
  assert.is(req('04 00 02 00 0e 00 01 00 00 04 00 35 05 0a ff ff 00 00 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // range backwards
  assert.is(req('04 00 02 00 0b 00 01 00 00 04 00 35 02 08 01 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // 8-bit id
  assert.is(req('04 00 02 00 05 00 01 00 00 04'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // truncated
  assert.is(req('04 00 02 00 03 00 01 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX);
  assert.is(req('06 00 03 00 0f 35 03 19 11 01 04 00 35 05 0a 00 00 ff ff 11'), SDP_ERROR_INVALID_REQUEST_SYNTAX); // cont length lies
  // not a request
  assert.is(req('03 00 01 00 09 00 01 00 01 00 01 00 00 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX);
  assert.is(req('08 00 01 00 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX);
  assert.is(req('00 00 01 00 00'), SDP_ERROR_INVALID_REQUEST_SYNTAX);
});

test('responses with lying counts are rejected', () => {
  assert.is(rsp('03 00 01 00'), 'too-short');
  assert.is(rsp('03 00 01 00 0a 00 01 00 01 00 01 00 00 00'), 'bad-param-length');
  assert.is(rsp('03 00 01 00 09 00 01 00 02 00 01 00 00 00'), 'bad-syntax'); // current 2 > total 1
  assert.is(rsp('03 00 01 00 09 00 02 00 02 00 01 00 00 00'), 'bad-syntax'); // 2 handles announced, 1 present
  assert.is(rsp('05 00 02 00 0d 00 0b 35 08 09 00 01 35 03 19 11 01 00'), 'bad-syntax'); // byte count 11, 10 present
  assert.is(rsp('05 00 02 00 0d 00 08 35 08 09 00 01 35 03 19 11 01 00'), 'bad-syntax'); // byte count 8: continuation 0x11 lies
  assert.is(rsp('07 00 03 00 09 00 04 35 10 36 00 03 00 04'), 'bad-syntax'); // continuation longer than present
  assert.is(rsp('07 00 03 00 18 00 02 35 00 13' + ' 00'.repeat(19)), 'bad-syntax'); // continuation of 19 octets
  assert.is(rsp('01 00 05 00 01 00'), 'bad-syntax');
  assert.is(rsp('02 00 01 00 08 35 03 19 11 01 00 10 00'), 'unknown-pdu');
  assert.is(rsp('01 00 05 00 04 00 03 aa bb'), 'ok');
  assert.is(pdu.error_info_len, 2);
});

test('encoders refuse bad arguments and small buffers without writing', () => {
  const b = new Uint8Array(12).fill(0xee);
  assert.is(sdp_encode_service_search_request(b, 0, 1, SPP_PATTERN, 16), SDP_ENCODE_NO_ROOM); // needs 13
  assert.ok(b.every((x) => x === 0xee));
  assert.is(
    sdp_encode_service_search_request(new Uint8Array(64), 0, 1, SPP_PATTERN, 16, new Uint8Array(17)),
    SDP_ENCODE_INVALID_ARGUMENT,
  );
  assert.is(sdp_encode_service_search_response(new Uint8Array(64), 0, 1, 1, [1, 2]), SDP_ENCODE_INVALID_ARGUMENT); // current > total
  assert.is(sdp_encode_error_response(new Uint8Array(6), 0, 1, 1), SDP_ENCODE_NO_ROOM);
  assert.is(
    sdp_encode_attribute_response(new Uint8Array(64), 0, SDP_ServiceSearchRequest, 1, new Uint8Array(2)),
    SDP_ENCODE_INVALID_ARGUMENT,
  );
  const small = new Uint8Array(10).fill(0xee);
  assert.is(sdp_encode_attribute_response(small, 0, SDP_ServiceAttributeResponse, 1, new Uint8Array(3)), SDP_ENCODE_NO_ROOM);
  assert.ok(small.every((x) => x === 0xee));
});

test.run();
