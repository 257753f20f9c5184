/**
 * GATT client descriptor reads and writes (Core Vol 3 Part G 4.12) on the fake L2CAP fixed
 * channel, both code profiles. Requests are worked out from Part F 3.4 (Read Request 0x0A, Read
 * Blob Request 0x0C, Write Request 0x12, Prepare Write Request 0x16, Execute Write Request 0x18),
 * server answers are hand-made and each event is checked byte for byte against the reference
 * layouts:
 *
 *   GATT_EVENT_CHARACTERISTIC_DESCRIPTOR_QUERY_RESULT 0xA9       v1.4 H2LV     v1.8 H222LV
 *     handle, [service_id, connection_id,] descriptor_handle, length, value
 *   GATT_EVENT_LONG_CHARACTERISTIC_DESCRIPTOR_QUERY_RESULT 0xAA  v1.4 H2LV     v1.8 H2222LV
 *     v1.4: handle, offset, length, value (no descriptor handle);
 *     v1.8: handle, service_id, connection_id, descriptor_handle, offset, length, value
 *
 * The ATT MTU is 23 throughout (the server answers the exchange with 23): a read part is full at
 * 22 octets (MTU - 1), a Write Request holds 20 (MTU - 3), a Prepare Write part 18 (MTU - 5).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CodeProfile } from '../../../src/codes/index.js';
import { GattHarness, HANDLE, h } from './gatt-harness.js';

const PROFILES: CodeProfile[] = ['v1.4', 'v1.8'];
/** Event code, v1.4 parameter length, handle 0x0040 (+ service_id 0, connection_id 0 in v1.8), rest. */
function ev(p: CodeProfile, code: string, len14: number, rest: string): string {
  const ids = p === 'v1.8';
  return h(code + (len14 + (ids ? 4 : 0)).toString(16).padStart(2, '0') + '4000' + (ids ? '00000000' : '') + rest);
}
const done = (p: CodeProfile, status = '00'): string => ev(p, 'a0', 3, status);
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

for (const p of PROFILES) {
  test(`${p}: read descriptor (Part G 4.12.1): Read Request, GATT_EVENT_CHARACTERISTIC_DESCRIPTOR_QUERY_RESULT, QUERY_COMPLETE`, () => {
    const g = new GattHarness(p);
    const descriptor = { handle: 0x0006, uuid16: 0x2901, uuid128: new Uint8Array(16) };
    assert.is(g.client.gatt_client_read_characteristic_descriptor(g.handler, HANDLE, descriptor), 0);
    assert.equal(g.mtu(), [h('0a 0600')]); // Read Request (3.4.4.3): handle 0x0006
    g.inject('0b 414243'); // Read Response: "ABC"
    // v1.4: a9 09 | 4000 | 0600 | 0300 | 414243 (9 = 2 + 2 + 2 + 3); v1.8: a9 0d | 4000 0000 0000 | 0600 | 0300 | 414243
    const got = g.got().slice(1);
    assert.equal(got, [ev(p, 'a9', 9, '0600 0300 414243'), done(p)]);
    assert.is(got[0], p === 'v1.8' ? h('a90d 4000 0000 0000 0600 0300 414243') : h('a909 4000 0600 0300 414243'));
    // by handle; an empty value: length 0
    assert.is(g.client.gatt_client_read_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 0x0007), 0);
    assert.equal(g.sent(), [h('0a 0700')]);
    g.inject('0b');
    assert.equal(g.got(), [ev(p, 'a9', 6, '0700 0000'), done(p)]);
    // an Error Response ends the query with its code: Read Not Permitted 0x02
    g.client.gatt_client_read_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 0x0008);
    assert.equal(g.sent(), [h('0a 0800')]);
    g.inject('01 0a 0800 02');
    assert.equal(g.got(), [done(p, '02')]);
    assert.is(g.client.gatt_client_is_ready(HANDLE), 1);
  });

  test(`${p}: read long descriptor (Part G 4.12.2): Read Request, Read Blob while parts are MTU - 1; LONG events per part`, () => {
    const g = new GattHarness(p);
    assert.is(g.client.gatt_client_read_long_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 0x0007), 0);
    assert.equal(g.mtu(), [h('0a 0700')]); // offset 0: a Read Request
    const part1 = '11'.repeat(22);
    g.inject('0b' + part1);
    // v1.4: aa 1c | 4000 | 0000 (offset) | 1600 | 22 octets (0x1c = 28 = 2 + 2 + 2 + 22)
    // v1.8: aa 22 | 4000 0000 0000 | 0700 (descriptor) | 0000 | 1600 | 22 octets (0x22 = 34)
    const first = g.got()[1];
    assert.is(first, p === 'v1.8' ? h('aa22 4000 0000 0000 0700 0000 1600' + part1) : h('aa1c 4000 0000 1600' + part1));
    assert.equal(g.sent(), [h('0c 0700 1600')]); // Read Blob Request (3.4.4.5): offset 22
    g.inject('0d 2222'); // 2 < 22: the last part
    assert.equal(g.got(), [p === 'v1.8' ? h('aa0e 4000 0000 0000 0700 1600 0200 2222') : h('aa08 4000 1600 0200 2222'), done(p)]);
    assert.equal(g.sent(), []);
    // with an offset: a Read Blob Request first
    const d = { handle: 0x0007, uuid16: 0, uuid128: new Uint8Array(16) };
    assert.is(g.client.gatt_client_read_long_characteristic_descriptor(g.handler, HANDLE, d), 0);
    assert.equal(g.sent(), [h('0a 0700')]);
    g.inject('0b 01');
    assert.equal(g.got(), [p === 'v1.8' ? h('aa0d 4000 00000000 0700 0000 0100 01') : h('aa07 4000 0000 0100 01'), done(p)]);
    g.client.gatt_client_read_long_characteristic_descriptor_using_descriptor_handle_with_offset(g.handler, HANDLE, 0x0007, 5);
    assert.equal(g.sent(), [h('0c 0700 0500')]);
    g.inject('0d 33');
    assert.equal(g.got(), [p === 'v1.8' ? h('aa0d 4000 00000000 0700 0500 0100 33') : h('aa07 4000 0500 0100 33'), done(p)]);
    // Invalid Offset (0x07) from the server ends the long read
    g.client.gatt_client_read_long_characteristic_descriptor_using_descriptor_handle_with_offset(g.handler, HANDLE, 0x0007, 99);
    assert.equal(g.sent(), [h('0c 0700 6300')]);
    g.inject('01 0c 0700 07');
    assert.equal(g.got(), [done(p, '07')]);
  });

  test(`${p}: write descriptor (Part G 4.12.3): Write Request; longer than MTU - 3 refused with 0x0D, nothing sent`, () => {
    const g = new GattHarness(p);
    const cccd = { handle: 0x0004, uuid16: 0x2902, uuid128: new Uint8Array(16) };
    assert.is(g.client.gatt_client_write_characteristic_descriptor(g.handler, HANDLE, cccd, 2, Uint8Array.of(1, 0)), 0);
    assert.equal(g.mtu(), [h('12 0400 0100')]); // Write Request (3.4.5.1): handle 0x0004, value 01 00
    g.inject('13'); // Write Response
    assert.equal(g.got().slice(1), [done(p)]);
    const text = new TextEncoder().encode('twenty octets, fits!');
    assert.is(text.length, 20);
    g.client.gatt_client_write_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 0x0006, 20, text);
    assert.equal(g.sent(), [h('12 0600' + hexOf(text))]);
    g.inject('01 12 0600 03'); // Write Not Permitted
    assert.equal(g.got(), [done(p, '03')]);
    // 21 octets > MTU - 3: ATT_ERROR_INVALID_ATTRIBUTE_VALUE_LENGTH (0x0D)
    g.client.gatt_client_write_characteristic_descriptor_using_descriptor_handle(
      g.handler,
      HANDLE,
      0x0006,
      21,
      new Uint8Array(21),
    );
    assert.equal(g.sent(), []);
    assert.equal(g.got(), [done(p, '0d')]);
    // only `length` octets of a longer buffer go out
    g.client.gatt_client_write_characteristic_descriptor_using_descriptor_handle(
      g.handler,
      HANDLE,
      0x0006,
      1,
      Uint8Array.of(9, 8, 7),
    );
    assert.equal(g.sent(), [h('12 0600 09')]);
    g.inject('13');
    assert.equal(g.got(), [done(p)]);
  });

  test(`${p}: write long descriptor (Part G 4.12.4): Prepare Write parts of MTU - 5, Execute Write; with offset`, () => {
    const g = new GattHarness(p);
    const value = Uint8Array.from({ length: 20 }, (_, i) => i);
    const d = { handle: 0x0006, uuid16: 0x2901, uuid128: new Uint8Array(16) };
    assert.is(g.client.gatt_client_write_long_characteristic_descriptor(g.handler, HANDLE, d, 20, value), 0);
    const part1 = hexOf(value.subarray(0, 18));
    // Prepare Write Request (3.4.6.1): handle 0x0006, offset 0, 18 octets
    assert.equal(g.mtu(), [h('16 0600 0000' + part1)]);
    g.inject('17 0600 0000' + part1); // Prepare Write Response echoes the part
    assert.equal(g.sent(), [h('16 0600 1200 1213')]); // offset 18, the last 2 octets
    g.inject('17 0600 1200 1213');
    assert.equal(g.sent(), [h('18 01')]); // Execute Write Request (3.4.6.3): flags 0x01 write
    assert.equal(g.got().slice(1), [], 'nothing reported before the Execute Write Response');
    g.inject('19');
    assert.equal(g.got(), [done(p)]);
    // by handle, from offset 4: value[4..10) at offset 4
    const ten = Uint8Array.from({ length: 10 }, (_, i) => i);
    g.client.gatt_client_write_long_characteristic_descriptor_using_descriptor_handle_with_offset(
      g.handler,
      HANDLE,
      0x0006,
      4,
      10,
      ten,
    );
    assert.equal(g.sent(), [h('16 0600 0400 040506070809')]);
    g.inject('17 0600 0400 040506070809');
    assert.equal(g.sent(), [h('18 01')]);
    g.inject('19');
    assert.equal(g.got(), [done(p)]);
    // an error on a part ends the query with its code (the server cancels its own queue)
    g.client.gatt_client_write_long_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 0x0006, 20, value);
    assert.equal(g.sent(), [h('16 0600 0000' + part1)]);
    g.inject('01 16 0600 09'); // Prepare Queue Full
    assert.equal(g.got(), [done(p, '09')]);
    assert.is(g.client.gatt_client_is_ready(HANDLE), 1);
  });

  test(`${p}: descriptor queries: one at a time, unknown connection, bad arguments throw, disconnect; pools full`, () => {
    const g = new GattHarness(p);
    const c = g.client;
    assert.is(c.gatt_client_read_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 6), 0);
    // GATT_CLIENT_IN_WRONG_STATE 0x95 while one runs
    assert.is(
      c.gatt_client_write_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 6, 1, Uint8Array.of(1)),
      0x95,
    );
    assert.is(c.gatt_client_read_long_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 6), 0x95);
    // unknown connection: v1.8 ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER 0x02, v1.4 BTSTACK_MEMORY_ALLOC_FAILED 0x56
    assert.is(
      c.gatt_client_read_characteristic_descriptor_using_descriptor_handle(g.handler, 0x41, 6),
      p === 'v1.8' ? 0x02 : 0x56,
    );
    assert.throws(
      () => c.gatt_client_read_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 0x10000),
      TypeError,
    );
    assert.throws(
      () => c.gatt_client_write_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 6, 3, Uint8Array.of(1)),
      TypeError,
    );
    assert.throws(
      () => c.gatt_client_read_long_characteristic_descriptor_using_descriptor_handle_with_offset(g.handler, HANDLE, 6, -1),
      TypeError,
    );
    assert.throws(
      () => c.gatt_client_read_characteristic_descriptor_using_descriptor_handle(null as never, HANDLE, 6),
      TypeError,
    );
    g.mtu();
    g.disconnect();
    assert.equal(g.got().slice(1), [done(p, '1f')]); // ATT_ERROR_HCI_DISCONNECT_RECEIVED
    assert.ok(g.pools.all_free());
    assert.is(g.rl.timer_count(), 0);
  });
}

test.run();
