/**
 * Basic L2CAP header (Core spec v5.4, Vol 3, Part A, 3.1): Length (2 octets, of the information
 * payload only) then Channel ID (2 octets), little endian. Fixed CIDs from Table 2.1.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from './helpers.js';
import {
  l2cap_header_write,
  l2cap_header_get_length,
  l2cap_header_get_cid,
  l2cap_pdu_check,
  l2cap_cid_is_dynamic,
  L2CAP_HEADER_SIZE,
  L2CAP_CID_SIGNALING,
  L2CAP_CID_CONNECTIONLESS_CHANNEL,
  L2CAP_CID_AMP_MANAGER,
  L2CAP_CID_ATTRIBUTE_PROTOCOL,
  L2CAP_CID_SIGNALING_LE,
  L2CAP_CID_SECURITY_MANAGER_PROTOCOL,
  L2CAP_CID_BR_EDR_SECURITY_MANAGER,
} from '../../../src/l2cap/pdu.js';

test('fixed channel identifiers (Table 2.1)', () => {
  assert.equal(
    [
      L2CAP_CID_SIGNALING,
      L2CAP_CID_CONNECTIONLESS_CHANNEL,
      L2CAP_CID_AMP_MANAGER,
      L2CAP_CID_ATTRIBUTE_PROTOCOL,
      L2CAP_CID_SIGNALING_LE,
      L2CAP_CID_SECURITY_MANAGER_PROTOCOL,
      L2CAP_CID_BR_EDR_SECURITY_MANAGER,
    ],
    [1, 2, 3, 4, 5, 6, 7],
  );
  assert.is(L2CAP_HEADER_SIZE, 4);
  assert.not.ok(l2cap_cid_is_dynamic(0x003f));
  assert.ok(l2cap_cid_is_dynamic(0x0040));
  assert.ok(l2cap_cid_is_dynamic(0xffff));
  assert.not.ok(l2cap_cid_is_dynamic(0));
});

test('header write and read', () => {
  // length 8 -> 08 00, CID 0x0040 -> 40 00, at offset 2 of a marked buffer
  const buf = new Uint8Array(8).fill(0xee);
  assert.is(l2cap_header_write(buf, 2, 8, 0x0040), 4);
  assert.is(hex(buf), 'ee ee 08 00 40 00 ee ee');
  // length 0x1234, CID 0x0002 (connectionless)
  assert.is(l2cap_header_write(buf, 0, 0x1234, L2CAP_CID_CONNECTIONLESS_CHANNEL), 4);
  assert.is(hex(buf.subarray(0, 4)), '34 12 02 00');
  assert.is(l2cap_header_get_length(buf), 0x1234);
  assert.is(l2cap_header_get_cid(buf), 2);
  assert.is(l2cap_header_get_cid(buf, 2), 0x0040);
  // no room: nothing written
  const small = new Uint8Array(5).fill(0xee);
  assert.is(l2cap_header_write(small, 2, 1, 1), -1);
  assert.is(l2cap_header_write(small, -1, 1, 1), -1);
  assert.is(hex(small), 'ee ee ee ee ee');
  // reads past the end give 0, never throw
  assert.is(l2cap_header_get_cid(new Uint8Array(3)), 0);
});

test('PDU check: ok, short header, truncated (lying length), excess octets', () => {
  assert.is(l2cap_pdu_check(fromHex('02 00 01 00 aa bb'), 0, 6), 'ok');
  assert.is(l2cap_pdu_check(fromHex('00 00 40 00'), 0, 4), 'ok');
  assert.is(l2cap_pdu_check(fromHex('02 00 01'), 0, 3), 'short-header');
  assert.is(l2cap_pdu_check(fromHex('03 00 01 00 aa bb'), 0, 6), 'truncated');
  assert.is(l2cap_pdu_check(fromHex('01 00 01 00 aa bb'), 0, 6), 'excess');
  // size larger than the buffer is clamped to what is there
  assert.is(l2cap_pdu_check(fromHex('02 00 01 00 aa bb'), 0, 100), 'ok');
  // at an offset
  assert.is(l2cap_pdu_check(fromHex('ff 01 00 05 00 cc'), 1, 5), 'ok');
  assert.is(l2cap_pdu_check(new Uint8Array(0), 0, 0), 'short-header');
});

test.run();
