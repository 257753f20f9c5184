/**
 * Signalling encoders against byte vectors worked out by hand from the Core spec v5.4,
 * Vol 3, Part A: 3.1 (basic header: Length of the payload only, then CID, little endian) and 4
 * (command: Code, Identifier, Length of the data only, Data; every field little endian).
 * Each vector's derivation is written next to it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { enc, hex } from './helpers.js';
import {
  l2cap_sig_connection_request,
  l2cap_sig_connection_response,
  l2cap_sig_configure_request,
  l2cap_sig_configure_request_raw,
  l2cap_sig_configure_response,
  l2cap_sig_disconnection_request,
  l2cap_sig_disconnection_response,
  l2cap_sig_echo_request,
  l2cap_sig_echo_response,
  l2cap_sig_information_request,
  l2cap_sig_information_response_connectionless_mtu,
  l2cap_sig_information_response_extended_features,
  l2cap_sig_information_response_fixed_channels,
  l2cap_sig_information_response_not_supported,
  l2cap_sig_command_reject_not_understood,
  l2cap_sig_command_reject_mtu_exceeded,
  l2cap_sig_command_reject_invalid_cid,
  l2cap_sig_frame_finish,
  l2cap_sig_write_command,
  l2cap_sig_write_header,
  l2cap_sig_next_identifier,
  l2cap_sig_code_name,
  L2CAP_CONFIG_FLAG_CONTINUATION,
  L2CAP_CONNECTION_RESULT_SUCCESS,
  L2CAP_CONNECTION_RESULT_PENDING,
  L2CAP_CONNECTION_STATUS_AUTHENTICATION_PENDING,
  L2CAP_EXTENDED_FEATURE_FIXED_CHANNELS,
  L2CAP_EXTENDED_FEATURE_ENHANCED_RETRANSMISSION_MODE,
  L2CAP_EXTENDED_FEATURE_STREAMING_MODE,
  L2CAP_EXTENDED_FEATURE_FCS_OPTION,
  L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED,
  L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED,
} from '../../../src/l2cap/signaling.js';
import { L2capConfigOptions } from '../../../src/l2cap/config-options.js';

test('Connection Request for PSM 0x1001, SCID 0x0040, id 1, as a whole C-frame on CID 1', () => {
  // Command: code 0x02, id 0x01, length 4 (PSM 2 + SCID 2) = 04 00, PSM 0x1001 = 01 10, SCID 0x0040 = 40 00.
  // Basic header: Length = payload only = 4 + 4 = 8 -> 08 00 (NOT 12: the header's own 4 octets are
  // excluded, Vol 3 Part A 3.1), CID 0x0001 -> 01 00.
  const buf = new Uint8Array(12);
  const n = l2cap_sig_connection_request(buf, 4, 1, 0x1001, 0x0040);
  assert.is(n, 8);
  assert.is(l2cap_sig_frame_finish(buf, 0, 4 + n), 12);
  assert.is(hex(buf), '08 00 01 00 02 01 04 00 01 10 40 00');
});

test('Connection Response: success, and pending with authentication pending', () => {
  // code 0x03, id, length 8; DCID 0x0041 = 41 00, SCID 0x0040 = 40 00, result, status.
  assert.is(
    enc(12, 0, (b, p) => l2cap_sig_connection_response(b, p, 1, 0x0041, 0x0040, L2CAP_CONNECTION_RESULT_SUCCESS, 0)),
    '03 01 08 00 41 00 40 00 00 00 00 00',
  );
  // result 0x0001 pending, status 0x0001 authentication pending
  assert.is(
    enc(12, 0, (b, p) =>
      l2cap_sig_connection_response(
        b,
        p,
        2,
        0x0041,
        0x0040,
        L2CAP_CONNECTION_RESULT_PENDING,
        L2CAP_CONNECTION_STATUS_AUTHENTICATION_PENDING,
      ),
    ),
    '03 02 08 00 41 00 40 00 01 00 01 00',
  );
});

test('Configuration Request with MTU 672, framed', () => {
  // code 0x04, id 0x02, length 4 + 4 = 8; DCID 0x0041, flags 0x0000, option MTU: type 01, len 02, 672 = 0x02A0 -> a0 02.
  // Frame: Length 12 = 0c 00, CID 01 00.
  const opts = new L2capConfigOptions().set_mtu(672);
  const buf = new Uint8Array(16);
  const n = l2cap_sig_configure_request(buf, 4, 2, 0x0041, 0, opts);
  assert.is(n, 12);
  assert.is(l2cap_sig_frame_finish(buf, 0, 4 + n), 16);
  assert.is(hex(buf), '0c 00 01 00 04 02 08 00 41 00 00 00 01 02 a0 02');
});

test('Configuration Request: continuation flag without options; raw options copied verbatim', () => {
  // flags 0x0001 -> 01 00, no options: length 4
  assert.is(
    enc(8, 0, (b, p) => l2cap_sig_configure_request(b, p, 3, 0x0041, L2CAP_CONFIG_FLAG_CONTINUATION, null)),
    '04 03 04 00 41 00 01 00',
  );
  // raw: flush timeout option 02 02 ff ff (0xFFFF infinite) -> length 8
  const raw = new Uint8Array([0xee, 0x02, 0x02, 0xff, 0xff, 0xee]);
  assert.is(
    enc(12, 0, (b, p) => l2cap_sig_configure_request_raw(b, p, 4, 0x0041, 0, raw, 1, 4)),
    '04 04 08 00 41 00 00 00 02 02 ff ff',
  );
});

test('Configuration Response: success without options, and with MTU 1691', () => {
  // code 0x05, id 0x02, length 6; SCID 0x0040, flags 0, result 0x0000
  assert.is(
    enc(10, 0, (b, p) => l2cap_sig_configure_response(b, p, 2, 0x0040, 0, 0, null)),
    '05 02 06 00 40 00 00 00 00 00',
  );
  // + MTU option 01 02, 1691 = 0x069B -> 9b 06; length 10
  assert.is(
    enc(14, 0, (b, p) => l2cap_sig_configure_response(b, p, 2, 0x0040, 0, 0, new L2capConfigOptions().set_mtu(1691))),
    '05 02 0a 00 40 00 00 00 00 00 01 02 9b 06',
  );
});

test('Disconnection Request and Response', () => {
  // code 0x06 / 0x07, id 5, length 4, DCID 0x0041, SCID 0x0040
  assert.is(
    enc(8, 0, (b, p) => l2cap_sig_disconnection_request(b, p, 5, 0x0041, 0x0040)),
    '06 05 04 00 41 00 40 00',
  );
  assert.is(
    enc(8, 0, (b, p) => l2cap_sig_disconnection_response(b, p, 5, 0x0041, 0x0040)),
    '07 05 04 00 41 00 40 00',
  );
});

test('Echo Request/Response with data, and without', () => {
  const hi = new Uint8Array([0x68, 0x69]); // "hi"
  // code 0x08, id 7, length 2, data 68 69
  assert.is(
    enc(6, 0, (b, p) => l2cap_sig_echo_request(b, p, 7, hi)),
    '08 07 02 00 68 69',
  );
  assert.is(
    enc(6, 0, (b, p) => l2cap_sig_echo_response(b, p, 7, hi)),
    '09 07 02 00 68 69',
  );
  // no data: length 0
  assert.is(
    enc(4, 0, (b, p) => l2cap_sig_echo_request(b, p, 8)),
    '08 08 00 00',
  );
  // a slice of a larger array: only data[1..3)
  assert.is(
    enc(6, 0, (b, p) => l2cap_sig_echo_response(b, p, 9, new Uint8Array([1, 2, 3, 4]), 1, 2)),
    '09 09 02 00 02 03',
  );
});

test('Information Request and the three Information Response types', () => {
  // code 0x0A, id 3, length 2, InfoType 0x0002 (extended features)
  assert.is(
    enc(6, 0, (b, p) => l2cap_sig_information_request(b, p, 3, L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED)),
    '0a 03 02 00 02 00',
  );
  // code 0x0B, length 8: type 02 00, result 00 00, mask (4 octets LE). Fixed channels = bit 7 = 0x80.
  assert.is(
    enc(12, 0, (b, p) => l2cap_sig_information_response_extended_features(b, p, 3, L2CAP_EXTENDED_FEATURE_FIXED_CHANNELS)),
    '0b 03 08 00 02 00 00 00 80 00 00 00',
  );
  // ERTM bit 3 (0x08) | streaming bit 4 (0x10) | FCS bit 5 (0x20) | fixed channels bit 7 (0x80) = 0xB8
  const m =
    L2CAP_EXTENDED_FEATURE_ENHANCED_RETRANSMISSION_MODE |
    L2CAP_EXTENDED_FEATURE_STREAMING_MODE |
    L2CAP_EXTENDED_FEATURE_FCS_OPTION |
    L2CAP_EXTENDED_FEATURE_FIXED_CHANNELS;
  assert.is(
    enc(12, 0, (b, p) => l2cap_sig_information_response_extended_features(b, p, 3, m)),
    '0b 03 08 00 02 00 00 00 b8 00 00 00',
  );
  // bit 31 set survives as an unsigned mask
  assert.is(
    enc(12, 0, (b, p) => l2cap_sig_information_response_extended_features(b, p, 3, 0x80000000)),
    '0b 03 08 00 02 00 00 00 00 00 00 80',
  );
  // InfoType 0x0001 connectionless MTU 672: length 6, type 01 00, result 00 00, a0 02
  assert.is(
    enc(10, 0, (b, p) => l2cap_sig_information_response_connectionless_mtu(b, p, 4, 672)),
    '0b 04 06 00 01 00 00 00 a0 02',
  );
  // InfoType 0x0003 fixed channels: bit 1 signalling + bit 2 connectionless = 0x06, 8 octets; length 12 = 0c 00
  assert.is(
    enc(16, 0, (b, p) => l2cap_sig_information_response_fixed_channels(b, p, 5, 0x06)),
    '0b 05 0c 00 03 00 00 00 06 00 00 00 00 00 00 00',
  );
  // not supported (result 0x0001) for an unknown InfoType 0x0004: length 4, no data
  assert.is(
    enc(8, 0, (b, p) => l2cap_sig_information_response_not_supported(b, p, 6, 0x0004)),
    '0b 06 04 00 04 00 01 00',
  );
  assert.is(L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED, 3);
});

test('Command Reject variants', () => {
  // code 0x01, id 9; reason 0x0000 not understood: length 2
  assert.is(
    enc(6, 0, (b, p) => l2cap_sig_command_reject_not_understood(b, p, 9)),
    '01 09 02 00 00 00',
  );
  // reason 0x0001 signalling MTU exceeded + actual MTUsig 48 = 30 00: length 4
  assert.is(
    enc(8, 0, (b, p) => l2cap_sig_command_reject_mtu_exceeded(b, p, 9, 48)),
    '01 09 04 00 01 00 30 00',
  );
  // reason 0x0002 invalid CID + local 0x0040 + remote 0x0041: length 6
  assert.is(
    enc(10, 0, (b, p) => l2cap_sig_command_reject_invalid_cid(b, p, 9, 0x0040, 0x0041)),
    '01 09 06 00 02 00 40 00 41 00',
  );
});

test('two commands in one C-frame', () => {
  // Information Request id 1 type 2 (6 octets) + id 2 type 3 (6 octets): payload 12 = 0c 00, CID 01 00
  const buf = new Uint8Array(16);
  let p = 4;
  p += l2cap_sig_information_request(buf, p, 1, 2);
  p += l2cap_sig_information_request(buf, p, 2, 3);
  assert.is(l2cap_sig_frame_finish(buf, 0, p), 16);
  assert.is(hex(buf), '0c 00 01 00 0a 01 02 00 02 00 0a 02 02 00 03 00');
});

test('encoders write at the offset, touch nothing else, and return -1 without writing when the buffer is too small', () => {
  const buf = new Uint8Array(20).fill(0xee);
  assert.is(l2cap_sig_disconnection_request(buf, 5, 1, 0x41, 0x40), 8);
  assert.is(hex(buf), 'ee ee ee ee ee 06 01 04 00 41 00 40 00 ee ee ee ee ee ee ee');
  const small = new Uint8Array(11).fill(0xee);
  const cases: Array<(b: Uint8Array) => number> = [
    (b) => l2cap_sig_connection_response(b, 0, 1, 1, 1, 0, 0), // needs 12
    (b) => l2cap_sig_connection_request(b, 4, 1, 1, 1), // needs 8 at 4
    (b) => l2cap_sig_configure_request(b, 0, 1, 1, 0, new L2capConfigOptions().set_mtu(672)), // 12
    (b) => l2cap_sig_configure_response(b, 2, 1, 1, 0, 0, null), // 10 at 2
    (b) => l2cap_sig_echo_request(b, 0, 1, new Uint8Array(8)), // 12
    (b) => l2cap_sig_information_response_extended_features(b, 0, 1, 0), // 12
    (b) => l2cap_sig_information_response_fixed_channels(b, 0, 1, 0), // 16
    (b) => l2cap_sig_command_reject_invalid_cid(b, 2, 1, 1, 1), // 10 at 2
    (b) => l2cap_sig_write_header(b, 8, 1, 1, 0), // 4 at 8
    (b) => l2cap_sig_disconnection_response(b, -1, 1, 1, 1), // negative offset
  ];
  for (const f of cases) {
    assert.is(f(small), -1);
    assert.is(hex(small), 'ee ee ee ee ee ee ee ee ee ee ee', 'nothing written');
  }
  // a frame whose end lies before its start + header cannot be finished
  assert.is(l2cap_sig_frame_finish(buf, 4, 6), -1);
  // generic writer: unknown code 0x20 with 1 data octet
  assert.is(
    enc(5, 0, (b, p) => l2cap_sig_write_command(b, p, 0x20, 0x11, new Uint8Array([0xab]))),
    '20 11 01 00 ab',
  );
});

test('identifiers run 1..255 and skip 0; code names for logs', () => {
  assert.is(l2cap_sig_next_identifier(1), 2);
  assert.is(l2cap_sig_next_identifier(254), 255);
  assert.is(l2cap_sig_next_identifier(255), 1);
  assert.is(l2cap_sig_next_identifier(0), 1);
  assert.is(l2cap_sig_code_name(0x02), 'CONNECTION_REQUEST');
  assert.is(l2cap_sig_code_name(0x0b), 'INFORMATION_RESPONSE');
  assert.is(l2cap_sig_code_name(0x12), 'UNKNOWN_0x12');
});

test.run();
