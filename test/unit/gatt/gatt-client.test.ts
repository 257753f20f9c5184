/**
 * GATT client procedures on the fake L2CAP fixed channel, both code profiles. Request bytes are
 * worked out from the Core spec (Vol 3 Part F 3.4: ATT PDUs; Part G 4: GATT procedures), server
 * answers are hand-made, and every event is checked byte for byte against the layouts of the
 * reference tables (v1.4: handle first; v1.8: handle, service_id 0, connection_id 0, then the
 * same fields). X/Y/Z fields hold UUIDs little endian: 0x1800 -> fb349b5f 80000080 00100000 00180000.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CodeProfile } from '../../../src/codes/index.js';
import {
  gatt_client_deserialize_characteristic,
  gatt_client_deserialize_service,
  type GattClientCharacteristic,
  type GattClientNotification,
} from '../../../src/gatt/gatt-client-types.js';
import { GattHarness, HANDLE, h } from './gatt-harness.js';

const PROFILES: CodeProfile[] = ['v1.4', 'v1.8'];
/** 16-bit UUID in the Bluetooth Base UUID, little endian (as X/Y/Z fields carry it). */
const U = (x: number): string =>
  `fb349b5f8000008000100000${(x & 0xff).toString(16).padStart(2, '0')}${(x >> 8).toString(16).padStart(2, '0')}0000`;
/** Event code, v1.4 parameter length, then handle 0x0040 (+ service_id, connection_id in v1.8) and the rest. */
function ev(p: CodeProfile, code: string, len14: number, rest: string): string {
  const ids = p === 'v1.8';
  return h(code + (len14 + (ids ? 4 : 0)).toString(16).padStart(2, '0') + '4000' + (ids ? '00000000' : '') + rest);
}
const done = (p: CodeProfile, status = '00'): string => ev(p, 'a0', 3, status);
const ch = (start: number, value: number, end: number, properties: number): GattClientCharacteristic => ({
  start_handle: start,
  value_handle: value,
  end_handle: end,
  properties,
  uuid16: 0,
  uuid128: new Uint8Array(16),
});

for (const p of PROFILES) {
  test(`${p}: primary services: MTU exchange first, Read By Group Type until Attribute Not Found (Part G 4.4.1)`, () => {
    const g = new GattHarness(p);
    assert.is(g.client.gatt_client_discover_primary_services(g.handler, HANDLE), 0);
    // Exchange MTU Request (Part F 3.4.2.1): 0x02, Client Rx MTU 1017 (HCI_ACL_PAYLOAD_SIZE 1021 - 4)
    assert.equal(g.sent(), ['02f903']);
    g.inject('03 1700');
    assert.equal(g.got(), [h('ab04 4000 1700')]); // GATT_EVENT_MTU: handle, MTU 23 (both profiles)
    assert.equal(g.client.gatt_client_get_mtu(HANDLE), { status: 0, mtu: 23 });
    // Read By Group Type Request (3.4.4.9): 0x10, 0x0001-0xFFFF, «Primary Service» 0x2800
    assert.equal(g.sent(), [h('10 0100 ffff 0028')]);
    // Response (3.4.4.10): length 6, {0x0001-0x0005 0x1800} {0x0006-0x0009 0x180F}
    g.inject('11 06 0100 0500 0018 0600 0900 0f18');
    assert.equal(g.got(), [ev(p, 'a1', 22, '0100 0500' + U(0x1800)), ev(p, 'a1', 22, '0600 0900' + U(0x180f))]);
    assert.equal(g.sent(), [h('10 0a00 ffff 0028')]);
    g.inject('01 10 0a00 0a'); // Error Response (3.4.1.1): Attribute Not Found
    assert.equal(g.got(), [done(p)]);
    assert.is(g.client.gatt_client_is_ready(HANDLE), 1);
  });

  test(`${p}: services by UUID16 (Find By Type Value, Part G 4.4.2) and the X field deserialized`, () => {
    const g = new GattHarness(p);
    assert.is(g.client.gatt_client_discover_primary_services_by_uuid16(g.handler, HANDLE, 0x180f), 0);
    // Find By Type Value Request (3.4.3.3): range, type 0x2800, value 0x180F
    assert.equal(g.mtu(), [h('06 0100 ffff 0028 0f18')]);
    g.inject('07 0600 0900'); // Handles Information List: 0x0006-0x0009
    const events = g.got();
    assert.equal(events.slice(1), [ev(p, 'a1', 22, '0600 0900' + U(0x180f))]);
    assert.equal(g.sent(), [h('06 0a00 ffff 0028 0f18')]);
    g.inject('01 06 0a00 0a');
    assert.equal(g.got(), [done(p)]);
    const raw = Uint8Array.from(Buffer.from(events[1]!, 'hex'));
    const s = gatt_client_deserialize_service(raw, p === 'v1.8' ? 8 : 4);
    assert.equal([s.start_group_handle, s.end_group_handle, s.uuid16], [6, 9, 0x180f]);
    assert.is(Buffer.from(s.uuid128).toString('hex'), '0000180f00001000800000805f9b34fb');
  });

  test(`${p}: characteristics (Read By Type 0x2803, Part G 4.6.1): each ends where the next starts`, () => {
    const g = new GattHarness(p);
    const service = { start_group_handle: 1, end_group_handle: 5, uuid16: 0x1800, uuid128: new Uint8Array(16) };
    assert.is(g.client.gatt_client_discover_characteristics_for_service(g.handler, HANDLE, service), 0);
    assert.equal(g.mtu(), [h('08 0100 0500 0328')]); // Read By Type Request (3.4.4.1)
    // declarations (Part G 3.3.1): properties, value handle, UUID: 0x0002 {02, 0x0003, 0x2A00}, 0x0004 {0a, 0x0005, 0x2A01}
    g.inject('09 07 0200 02 0300 002a 0400 0a 0500 012a');
    const events = g.got().slice(1);
    assert.equal(events, [
      ev(p, 'a2', 26, '0200 0300 0300 0200' + U(0x2a00)),
      ev(p, 'a2', 26, '0400 0500 0500 0a00' + U(0x2a01)),
      done(p),
    ]);
    const c = gatt_client_deserialize_characteristic(Uint8Array.from(Buffer.from(events[1]!, 'hex')), p === 'v1.8' ? 8 : 4);
    assert.equal([c.start_handle, c.value_handle, c.end_handle, c.properties, c.uuid16], [4, 5, 5, 0x0a, 0x2a01]);
    assert.equal(g.sent(), []);
  });

  test(`${p}: characteristics by UUID16 report only matches; descriptors (Find Information, Part G 4.7.1)`, () => {
    const g = new GattHarness(p);
    g.client.gatt_client_discover_characteristics_for_handle_range_by_uuid16(g.handler, HANDLE, 1, 5, 0x2a01);
    assert.equal(g.mtu(), [h('08 0100 0500 0328')]);
    g.inject('09 07 0200 02 0300 002a 0400 0a 0500 012a');
    assert.equal(g.got().slice(1), [ev(p, 'a2', 26, '0400 0500 0500 0a00' + U(0x2a01)), done(p)]);
    assert.is(g.client.gatt_client_discover_characteristic_descriptors(g.handler, HANDLE, ch(4, 5, 7, 0x10)), 0);
    assert.equal(g.sent(), [h('04 0600 0700')]); // Find Information Request (3.4.3.1): value handle + 1 .. end
    g.inject('05 01 0600 0229 0700 0129'); // format 1: 16-bit UUIDs
    assert.equal(g.got(), [ev(p, 'a4', 20, '0600' + U(0x2902)), ev(p, 'a4', 20, '0700' + U(0x2901)), done(p)]);
    // nothing between value handle and end: QUERY_COMPLETE(0) at once, nothing sent
    assert.is(g.client.gatt_client_discover_characteristic_descriptors(g.handler, HANDLE, ch(4, 5, 5, 0)), 0);
    assert.equal(g.got(), [done(p)]);
    assert.equal(g.sent(), []);
  });

  test(`${p}: included services (Read By Type 0x2802, Part G 4.5.1)`, () => {
    const g = new GattHarness(p);
    const service = { start_group_handle: 1, end_group_handle: 9, uuid16: 0, uuid128: new Uint8Array(16) };
    g.client.gatt_client_find_included_services_for_service(g.handler, HANDLE, service);
    assert.equal(g.mtu(), [h('08 0100 0900 0228')]);
    g.inject('09 08 0200 0a00 0f00 0f18'); // include at 0x0002: service 0x000A-0x000F, UUID 0x180F
    assert.equal(g.got().slice(1), [ev(p, 'a3', 24, '0200 0a00 0f00' + U(0x180f))]);
    assert.equal(g.sent(), [h('08 0300 0900 0228')]);
    g.inject('01 08 0300 0a');
    assert.equal(g.got(), [done(p)]);
  });

  test(`${p}: read value, read by UUID16, read multiple (Part G 4.8.1, 4.8.2, 4.8.4)`, () => {
    const g = new GattHarness(p);
    g.client.gatt_client_read_value_of_characteristic_using_value_handle(g.handler, HANDLE, 3);
    assert.equal(g.mtu(), [h('0a 0300')]); // Read Request (3.4.4.3)
    g.inject('0b 4142');
    assert.equal(g.got().slice(1), [ev(p, 'a5', 8, '0300 0200 4142'), done(p)]);
    g.client.gatt_client_read_value_of_characteristics_by_uuid16(g.handler, HANDLE, 1, 0xffff, 0x2a19);
    assert.equal(g.sent(), [h('08 0100 ffff 192a')]);
    g.inject('09 03 0300 64'); // one handle-value pair of 3 octets
    assert.equal(g.got(), [ev(p, 'a5', 7, '0300 0100 64')]);
    assert.equal(g.sent(), [h('08 0400 ffff 192a')]);
    g.inject('01 08 0400 0a'); // not found after a result: success
    assert.equal(g.got(), [done(p)]);
    g.client.gatt_client_read_value_of_characteristics_by_uuid16(g.handler, HANDLE, 1, 0xffff, 0x2a19);
    assert.equal(g.sent(), [h('08 0100 ffff 192a')]);
    g.inject('01 08 0100 0a'); // not found at all: ATT_ERROR_ATTRIBUTE_NOT_FOUND
    assert.equal(g.got(), [done(p, '0a')]);
    g.client.gatt_client_read_multiple_characteristic_values(g.handler, HANDLE, 2, [3, 5]);
    assert.equal(g.sent(), [h('0e 0300 0500')]); // Read Multiple Request (3.4.4.7)
    g.inject('0f 0102');
    assert.equal(g.got(), [ev(p, 'a5', 8, '0000 0200 0102'), done(p)]); // value handle 0, as BTstack
  });

  test(`${p}: read long value: Read Request, then Read Blob while parts are MTU - 1 long (Part G 4.8.3)`, () => {
    const g = new GattHarness(p);
    g.client.gatt_client_read_long_value_of_characteristic_using_value_handle(g.handler, HANDLE, 3);
    assert.equal(g.mtu(), [h('0a 0300')]);
    const part1 = '11'.repeat(22);
    g.inject('0b' + part1);
    assert.equal(g.got().slice(1), [ev(p, 'a6', 30, '0300 0000 1600' + part1)]);
    assert.equal(g.sent(), [h('0c 0300 1600')]); // Read Blob Request (3.4.4.5): offset 22
    g.inject('0d 2222');
    assert.equal(g.got(), [ev(p, 'a6', 10, '0300 1600 0200 2222'), done(p)]);
  });

  test(`${p}: write, write long, reliable write with a mismatch (Part G 4.9.3 - 4.9.5)`, () => {
    const g = new GattHarness(p);
    g.client.gatt_client_write_value_of_characteristic(g.handler, HANDLE, 3, 2, Uint8Array.from([1, 2]));
    assert.equal(g.mtu(), [h('12 0300 0102')]); // Write Request (3.4.5.1)
    g.inject('13');
    assert.equal(g.got().slice(1), [done(p)]);
    const value = Uint8Array.from({ length: 20 }, (_, i) => i);
    const part1 = Buffer.from(value.subarray(0, 18)).toString('hex');
    g.client.gatt_client_write_long_value_of_characteristic(g.handler, HANDLE, 3, 20, value);
    assert.equal(g.sent(), [h('16 0300 0000' + part1)]); // Prepare Write Request (3.4.6.1): MTU - 5 = 18 octets
    g.inject('17 0300 0000' + part1);
    assert.equal(g.sent(), [h('16 0300 1200 1213')]);
    g.inject('17 0300 1200 1213');
    assert.equal(g.sent(), [h('18 01')]); // Execute Write Request (3.4.6.3): write
    g.inject('19');
    assert.equal(g.got(), [done(p)]);
    g.client.gatt_client_reliable_write_long_value_of_characteristic(g.handler, HANDLE, 3, 20, value);
    assert.equal(g.sent(), [h('16 0300 0000' + part1)]);
    g.inject('17 0300 0000' + part1.slice(0, -2) + 'ff'); // echo differs
    assert.equal(g.sent(), [h('18 00')]); // cancel
    g.inject('19');
    assert.equal(g.got(), [done(p, '7e')]); // ATT_ERROR_DATA_MISMATCH
    // a value longer than MTU - 3: QUERY_COMPLETE(ATT_ERROR_INVALID_ATTRIBUTE_VALUE_LENGTH), nothing sent
    g.client.gatt_client_write_value_of_characteristic(g.handler, HANDLE, 3, 21, new Uint8Array(21));
    assert.equal(g.sent(), []);
    assert.equal(g.got(), [done(p, '0d')]);
  });

  test(`${p}: CCCD write and notifications / indications to listeners (Part G 4.10, 4.11, 4.12.3)`, () => {
    const g = new GattHarness(p);
    assert.is(g.client.gatt_client_write_client_characteristic_configuration(g.handler, HANDLE, ch(2, 3, 4, 0x02), 1), 0x98);
    assert.is(g.client.gatt_client_write_client_characteristic_configuration(g.handler, HANDLE, ch(2, 3, 4, 0x10), 2), 0x99);
    assert.is(g.client.gatt_client_write_client_characteristic_configuration(g.handler, HANDLE, ch(2, 3, 4, 0x10), 1), 0);
    assert.equal(g.mtu(), [h('08 0300 0400 0229')]); // Read By Type 0x2902 over value handle .. end
    g.inject('09 04 0400 0000');
    assert.equal(g.sent(), [h('12 0400 0100')]); // Write Request: CCCD 0x0004 := 0x0001
    g.inject('13');
    assert.equal(g.got().slice(1), [done(p)]);
    const n: GattClientNotification = { callback: null, con_handle: 0, attribute_handle: 0 };
    g.client.gatt_client_listen_for_characteristic_value_updates(n, g.listener, HANDLE, ch(2, 3, 4, 0x30));
    assert.equal([n.con_handle, n.attribute_handle], [HANDLE, 3]);
    g.inject('1b 0300 0102'); // Handle Value Notification (3.4.7.1)
    g.inject('1b 0500 09'); // another value handle: not for this listener
    g.inject('1d 0300 07'); // Handle Value Indication (3.4.7.2)
    assert.equal(
      g.notes.splice(0).map((e) => Buffer.from(e).toString('hex')),
      [ev(p, 'a7', 8, '0300 0200 0102'), ev(p, 'a8', 7, '0300 0100 07')],
    );
    assert.equal(g.sent(), ['1e']); // Handle Value Confirmation (3.4.7.3)
    g.client.gatt_client_stop_listening_for_characteristic_value_updates(n);
    g.inject('1b 0300 0102');
    assert.equal(g.notes.length, 0);
  });

  test(`${p}: write without response, CAN_WRITE_WITHOUT_RESPONSE, busy and too long`, () => {
    const g = new GattHarness(p);
    g.client.gatt_client_mtu_enable_auto_negotiation(0);
    assert.is(g.client.gatt_client_write_value_of_characteristic_without_response(HANDLE, 3, 1, Uint8Array.of(1)), 0);
    assert.equal(g.sent(), [h('52 0300 01')]); // Write Command (3.4.5.3)
    assert.is(g.client.gatt_client_write_value_of_characteristic_without_response(HANDLE, 3, 21, new Uint8Array(21)), 0x97);
    g.l2cap.can_send = false;
    assert.is(g.client.gatt_client_write_value_of_characteristic_without_response(HANDLE, 3, 1, Uint8Array.of(1)), 0x94);
    const got: [number, string][] = [];
    const cb = (_t: number, channel: number, pk: Uint8Array, n: number): void =>
      void got.push([channel, Buffer.from(pk.subarray(0, n)).toString('hex')]);
    assert.is(g.client.gatt_client_request_can_write_without_response_event(cb, HANDLE), 0);
    assert.is(g.client.gatt_client_request_can_write_without_response_event(cb, HANDLE), 0x95);
    g.rl.run();
    assert.equal(got, []);
    g.l2cap.can_send = true;
    g.l2cap.pump(HANDLE);
    g.rl.run();
    assert.equal(got, [[HANDLE, h('ac02 4000')]]);
    assert.equal(g.client.gatt_client_get_mtu(HANDLE), { status: 0, mtu: 23 });
  });

  test(`${p}: one query per connection, unknown connection, 30 s timeout, disconnect; pools back to full`, () => {
    const g = new GattHarness(p);
    assert.is(g.client.gatt_client_discover_primary_services(g.handler, HANDLE), 0);
    assert.is(g.client.gatt_client_read_value_of_characteristic_using_value_handle(g.handler, HANDLE, 3), 0x95);
    assert.is(g.client.gatt_client_discover_primary_services(g.handler, 0x0041), p === 'v1.8' ? 0x02 : 0x56);
    assert.equal(g.client.gatt_client_get_mtu(HANDLE), { status: 0x95, mtu: 23 });
    g.mtu();
    g.got();
    g.rl.advance(29_999);
    assert.equal(g.got(), []);
    g.rl.advance(1);
    assert.equal(g.got(), [done(p, '7f')]); // ATT_ERROR_TIMEOUT
    g.inject('11 06 0100 0500 0018'); // a late answer: ignored
    assert.equal(g.got(), []);
    assert.is(g.client.gatt_client_read_value_of_characteristic_using_value_handle(g.handler, HANDLE, 3), 0);
    assert.equal(g.sent(), [h('0a 0300')]);
    g.disconnect();
    assert.equal(g.got(), [done(p, '1f')]); // ATT_ERROR_HCI_DISCONNECT_RECEIVED
    assert.ok(g.pools.all_free());
    assert.is(g.rl.timer_count(), 0);
  });

  test(`${p}: a value longer than one event holds: low 8 bits of the length octet, value_length and size right`, () => {
    const g = new GattHarness(p);
    g.client.gatt_client_read_value_of_characteristic_using_value_handle(g.handler, HANDLE, 3);
    assert.equal(g.mtu(512), [h('0a 0300')]); // MTU min(1017, 512) = 512
    const value = '5a'.repeat(300);
    g.inject('0b' + value);
    const [mtu, big, end] = g.got();
    assert.is(mtu, h('ab04 4000 0002'));
    // v1.4: 8 + 300 octets, parameter length 306 -> 0x32; v1.8: 12 + 300, 310 -> 0x36
    assert.is(big, p === 'v1.8' ? h('a5 36 4000 00000000 0300 2c01') + value : h('a5 32 4000 0300 2c01') + value);
    assert.is(end, done(p));
  });

  test(`${p}: contexts beyond MAX_NR_HCI_CONNECTIONS are refused`, () => {
    const g = new GattHarness(p, { MAX_NR_HCI_CONNECTIONS: 1 });
    g.connected.add(0x41);
    assert.is(g.client.gatt_client_discover_primary_services(g.handler, HANDLE), 0);
    assert.is(g.client.gatt_client_discover_primary_services(g.handler, 0x41), p === 'v1.8' ? 0x07 : 0x56);
    g.disconnect();
    assert.ok(g.pools.all_free());
  });
}

test.run();
