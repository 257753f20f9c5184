/**
 * spp_create_sdp_record / spp_create_custom_sdp_record: exact bytes against the record written
 * out by hand in sdp-vectors.ts, the custom UUID, buffer limits, argument checks; the record is
 * accepted by the server.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from '../../../src/core/bytes.js';
import { spp_create_custom_sdp_record, spp_create_sdp_record } from '../../../src/sdp/spp.js';
import { DE_ERROR_NO_ROOM, uuid128_from_string } from '../../../src/sdp/data-element.js';
import { SdpServer } from '../../../src/sdp/server.js';
import {
  SPP_RECORD as SPP_RECORD_BTSTACK,
  SPP_RECORD_COMPACT as SPP_RECORD,
  SPP_RECORD_COMPACT_BODY as SPP_RECORD_BODY,
} from './sdp-vectors.js';
import { FakeL2cap, FakeAir, fake_stack, sdp_endpoint } from './sdp-peers.js';
import { sscanf_bd_addr } from '../../../src/core/bytes.js';

test('spp_create_sdp_record: the record of BTstack spp_counter (8-bit sequence lengths), byte for byte', () => {
  const buf = new Uint8Array(150);
  const n = spp_create_sdp_record(buf, 0x10001, 1, 'SPP Counter');
  assert.is(n, 86);
  assert.is(hex(buf, n), hex(SPP_RECORD));
});

test('spp_create_sdp_record: channel, handle and a UTF-8 name land where the spec puts them', () => {
  const buf = new Uint8Array(150);
  const n = spp_create_sdp_record(buf, 0x12345678, 30, 'Zähler');
  // name "Zähler" is 7 UTF-8 octets: 25 07 5a c3 a4 68 6c 65 72; record 84 - 11 + 7 = 80 = 0x50
  const body = SPP_RECORD_BODY.replace('0a 00 01 00 01', '0a 12 34 56 78')
    .replace('19 00 03 08 01', '19 00 03 08 1e')
    .replace('25 0b 53 50 50 20 43 6f 75 6e 74 65 72', '25 07 5a c3 a4 68 6c 65 72');
  assert.is(hex(buf, n), hex(fromHex('35 50 ' + body)));
});

test('spp_create_custom_sdp_record: a UUID128 service class, everything else as SPP', () => {
  const uuid = uuid128_from_string('8ce255c0-200a-11e0-ac64-0800200c9a66')!;
  const buf = new Uint8Array(200);
  const n = spp_create_custom_sdp_record(buf, 0x10001, uuid, 1, 'SPP Counter');
  // 0x0001 becomes 35 11 1c <16 octets>: 22 instead of 8 octets -> 84 + 14 = 98 = 0x62
  const body = SPP_RECORD_BODY.replace(
    '09 00 01 35 03 19 11 01',
    '09 00 01 35 11 1c 8c e2 55 c0 20 0a 11 e0 ac 64 08 00 20 0c 9a 66',
  );
  assert.is(n, 100);
  assert.is(hex(buf, n), hex(fromHex('35 62 ' + body)));
});

test('spp_create_sdp_record: too small a buffer is a status, not an exception', () => {
  for (let size = 0; size < 86; size++) {
    assert.is(spp_create_sdp_record(new Uint8Array(size), 0x10001, 1, 'SPP Counter'), DE_ERROR_NO_ROOM, `size ${size}`);
  }
  assert.is(spp_create_sdp_record(new Uint8Array(86), 0x10001, 1, 'SPP Counter'), 86);
  // a name of 300 octets takes a 16-bit string length and a 16-bit record length
  const long = new Uint8Array(400);
  assert.is(spp_create_sdp_record(long, 0x10001, 1, 'n'.repeat(300)), 3 + 374);
  assert.is(hex(long.subarray(0, 6)), '36 01 76 09 00 00'); // 84 - 13 + (26 01 2c + 300) = 374 = 0x176
});

test("the same record with 16-bit sequence lengths (BTstack's builder) is equivalent for the server", () => {
  const server = new SdpServer(fake_stack(), new FakeL2cap(new FakeAir(), sscanf_bd_addr('00:00:00:00:00:01')!));
  assert.is(server.sdp_register_service(SPP_RECORD_BTSTACK), 0);
  assert.is(server.sdp_get_service_record_handle(SPP_RECORD), 0x10001);
});

test('spp_create_sdp_record: wrong arguments are TypeErrors', () => {
  const buf = new Uint8Array(150);
  assert.throws(() => spp_create_sdp_record(buf, 0x10001, 0, 'x'), TypeError);
  assert.throws(() => spp_create_sdp_record(buf, 0x10001, 31, 'x'), TypeError);
  assert.throws(() => spp_create_sdp_record(buf, 0x10001, 1.5, 'x'), TypeError);
  assert.throws(() => spp_create_sdp_record([] as unknown as Uint8Array, 0x10001, 1, 'x'), TypeError);
  assert.throws(() => spp_create_sdp_record(buf, 0x10001, 1, 5 as unknown as string), TypeError);
  assert.throws(() => spp_create_custom_sdp_record(buf, 0x10001, new Uint8Array(4), 1, 'x'), TypeError);
});

test('the SPP record registers with the server under its handle', () => {
  const server = new SdpServer(fake_stack(), new FakeL2cap(new FakeAir(), sscanf_bd_addr('00:00:00:00:00:01')!));
  const buf = new Uint8Array(150);
  spp_create_sdp_record(buf, server.sdp_create_service_record_handle(), 3, 'SPP');
  assert.is(server.sdp_register_service(buf), 0);
  assert.ok(server.sdp_get_record_for_handle(0x10000));
});

test.run();
