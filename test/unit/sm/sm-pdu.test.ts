/**
 * SMP PDU encoders against byte vectors worked out from the Core spec, Vol 3 Part H 3.3-3.6
 * (code octet, then parameters least significant octet first). The Pairing Request / Response
 * vectors are 2.2.3's c1 example read back onto the wire: preq = 0x07071000000101 is the PDU
 * 01 01 00 00 10 07 07, pres = 0x05000800000302 is 02 03 00 00 08 00 05.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { sm_p256_debug_key_pair, sm_p256_public_key_to_wire } from '../../../src/sm/p256.js';
import {
  SM_CODE_ENCRYPTION_INFORMATION,
  SM_CODE_IDENTITY_INFORMATION,
  SM_CODE_PAIRING_CONFIRM,
  SM_CODE_PAIRING_DHKEY_CHECK,
  SM_CODE_PAIRING_RANDOM,
  SM_CODE_PAIRING_REQUEST,
  SM_CODE_PAIRING_RESPONSE,
  SM_CODE_SIGNING_INFORMATION,
  sm_build_central_identification,
  sm_build_identity_address,
  sm_build_keypress_notification,
  sm_build_pairing,
  sm_build_pairing_failed,
  sm_build_public_key,
  sm_build_security_request,
  sm_build_value128,
  sm_parse_identity_address,
  sm_parse_pairing,
  sm_parse_value128,
  sm_pdu_length,
} from '../../../src/sm/sm-pdu.js';
import { x } from './sm-harness.js';

const h = (s: string): string => s.replace(/\s+/g, '');

test('3.5.1 / 3.5.2 Pairing Request and Response: 2.2.3 example preq / pres on the wire', () => {
  const preq = sm_build_pairing(SM_CODE_PAIRING_REQUEST, {
    io_capability: 0x01,
    oob_data_flag: 0x00,
    auth_req: 0x00,
    max_encryption_key_size: 0x10,
    initiator_key_distribution: 0x07,
    responder_key_distribution: 0x07,
  });
  assert.is(x(preq), h('01 01 00 00 10 07 07'));
  // preq as c1 reads it: the 56-bit value MSB first = the wire octets reversed
  assert.is(x(Uint8Array.from(preq).reverse()), '07071000000101');
  const pres = sm_build_pairing(SM_CODE_PAIRING_RESPONSE, {
    io_capability: 0x03,
    oob_data_flag: 0x00,
    auth_req: 0x00,
    max_encryption_key_size: 0x08,
    initiator_key_distribution: 0x00,
    responder_key_distribution: 0x05,
  });
  assert.is(x(pres), h('02 03 00 00 08 00 05'));
  assert.is(x(Uint8Array.from(pres).reverse()), '05000800000302');
  assert.equal(sm_parse_pairing(pres), {
    io_capability: 3,
    oob_data_flag: 0,
    auth_req: 0,
    max_encryption_key_size: 8,
    initiator_key_distribution: 0,
    responder_key_distribution: 5,
  });
});

test('3.5.3 / 3.5.4 / 3.5.7 Confirm, Random, DHKey Check and 3.6.2 / 3.6.4 / 3.6.6 keys: 16 octets LSB first', () => {
  const v = fromHex('000102030405060708090a0b0c0d0e0f'); // MSB first as the toolbox holds it
  const lsb = '0f0e0d0c0b0a09080706050403020100';
  for (const code of [
    SM_CODE_PAIRING_CONFIRM,
    SM_CODE_PAIRING_RANDOM,
    SM_CODE_PAIRING_DHKEY_CHECK,
    SM_CODE_ENCRYPTION_INFORMATION,
    SM_CODE_IDENTITY_INFORMATION,
    SM_CODE_SIGNING_INFORMATION,
  ]) {
    const pdu = sm_build_value128(code, v);
    assert.is(x(pdu), code.toString(16).padStart(2, '0') + lsb);
    assert.is(x(sm_parse_value128(pdu)), x(v));
  }
});

test('3.5.5 Pairing Failed, 3.6.7 Security Request, 3.5.8 Keypress Notification: two octets', () => {
  assert.is(x(sm_build_pairing_failed(0x04)), '0504');
  assert.is(x(sm_build_security_request(0x0d)), '0b0d'); // Bonding | MITM | SC
  assert.is(x(sm_build_keypress_notification(0x01)), '0e01');
});

test('3.6.3 Central Identification: EDIV (2) then Rand (8); 3.6.5 Identity Address Information: type, address', () => {
  assert.is(x(sm_build_central_identification(0x1234, fromHex('0102030405060708'))), h('07 34 12 01 02 03 04 05 06 07 08'));
  const addr = sscanf_bd_addr('C0:11:22:33:44:55')!;
  const pdu = sm_build_identity_address(1, addr);
  assert.is(x(pdu), h('09 01 55 44 33 22 11 c0'));
  const back = sm_parse_identity_address(pdu);
  assert.is(back.addr_type, 1);
  assert.is(x(back.addr), 'c01122334455');
});

test('3.5.6 Pairing Public Key: X then Y, 32 octets each LSB first (the debug key of 2.3.5.6.1)', () => {
  const w = new Uint8Array(64);
  sm_p256_public_key_to_wire(sm_p256_debug_key_pair().public_key, w, 0);
  const pdu = sm_build_public_key(w);
  assert.is(pdu.length, 65);
  assert.is(pdu[0], 0x0c);
  // X = 20b003d2 f297be2c 5e2c83a7 e9f9a5b9 eff49111 acf4fddb cc030148 0e359de6 (MSB first)
  assert.is(x(pdu.subarray(1, 33)), x(fromHex('20b003d2f297be2c5e2c83a7e9f9a5b9eff49111acf4fddbcc0301480e359de6').reverse()));
  // Y = dc809c49 652aeb6d 63329abf 5a52155c 766345c2 8fed3024 741c8ed0 1589d28b
  assert.is(x(pdu.subarray(33, 65)), x(fromHex('dc809c49652aeb6d63329abf5a52155c766345c28fed3024741c8ed01589d28b').reverse()));
});

test('PDU lengths per code (3.3: code + parameters); reserved codes 0x00, 0x0F.. -> 0', () => {
  const want: Record<number, number> = {
    1: 7,
    2: 7,
    3: 17,
    4: 17,
    5: 2,
    6: 17,
    7: 11,
    8: 17,
    9: 8,
    10: 17,
    11: 2,
    12: 65,
    13: 17,
    14: 2,
  };
  for (let code = 0; code < 256; code++) assert.is(sm_pdu_length(code), want[code] ?? 0, `code 0x${code.toString(16)}`);
});

test.run();
