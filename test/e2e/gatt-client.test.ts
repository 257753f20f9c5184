/**
 * The GATT client end to end against our ATT server: two Stacks on the virtual radio (see
 * gatt-helpers.ts for the database and its handles), both code profiles. Every procedure of Core
 * Vol 3 Part G 4 that the client has: MTU exchange, primary services (all, by UUID16, by
 * UUID128), included services, characteristics (all, by UUID), descriptors, reads (value, by
 * UUID, long, multiple), writes (with and without response, long, reliable), CCC writes with
 * notifications and indications, and an error. Each GATT_EVENT_* is compared byte for byte with a
 * vector worked out by hand from the reference layouts (v1.4: handle first; v1.8: handle,
 * service_id 0, connection_id 0, then the same fields; X/Y/Z fields: start/end/value handles
 * LE16, properties LE16, UUID128 little endian). Then disconnect, pools back to full, both
 * btsnoop captures clean under tshark (btatt) and btmon.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tsharkFields } from '../helpers/capture.js';
import { gatt_compile } from '../../src/att/gatt-compiler.js';
import {
  gatt_client_deserialize_characteristic,
  gatt_client_deserialize_characteristic_descriptor,
  type GattClientNotification,
} from '../../src/gatt/gatt-client-types.js';
import { fromHex } from '../../src/core/bytes.js';

const hex = (pk: Uint8Array, n: number): string => Buffer.from(pk.subarray(0, n)).toString('hex');
import {
  DESCRIPTOR_DB,
  DescriptorApp,
  GATT_E2E_DB,
  LONG_VALUE,
  USER_DESCRIPTION,
  assertCleanGattCapture,
  gatt_pair,
} from './gatt-helpers.js';

const PROFILES = ['v1.4', 'v1.8'] as const;
type Profile = (typeof PROFILES)[number];

const h = (s: string): string => s.replace(/\s+/g, '').toLowerCase();
const le16 = (v: number): string => (v & 0xff).toString(16).padStart(2, '0') + (v >> 8).toString(16).padStart(2, '0');
const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
/** 16-bit UUID in the Bluetooth Base UUID, little endian (X/Y/Z fields). */
const U = (x: number): string => `fb349b5f8000008000100000${le16(x)}0000`;

/** Event code, v1.4 parameter length, connection handle (+ service_id 0, connection_id 0 in v1.8), rest. */
function ev(p: Profile, con: number, code: string, len14: number, rest: string): string {
  const ids = p === 'v1.8';
  return h(code + (len14 + (ids ? 4 : 0)).toString(16).padStart(2, '0') + le16(con) + (ids ? '00000000' : '') + rest);
}

test('the e2e database: the handles of gatt-helpers.ts', () => {
  const r = gatt_compile(GATT_E2E_DB);
  assert.is(r.status, 0);
  const v = r.handles;
  assert.is(v.ATT_CHARACTERISTIC_GAP_DEVICE_NAME_01_VALUE_HANDLE, 0x0003);
  assert.is(v.ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL_01_CLIENT_CONFIGURATION_HANDLE, 0x0007);
  assert.is(v.ATT_CHARACTERISTIC_0000FF12_0000_1000_8000_00805F9B34FB_01_VALUE_HANDLE, 0x000d);
  assert.is(v.ATT_CHARACTERISTIC_0000FF13_0000_1000_8000_00805F9B34FB_01_VALUE_HANDLE, 0x0010);
  assert.is(v.ATT_CHARACTERISTIC_0000FF13_0000_1000_8000_00805F9B34FB_01_CLIENT_CONFIGURATION_HANDLE, 0x0011);
  assert.is(v.ATT_SERVICE_0000FF10_0000_1000_8000_00805F9B34FB_END_HANDLE, 0x0011);
});

for (const p of PROFILES) {
  test(`${p}: every GATT client procedure against our ATT server, events byte for byte; captures clean; pools full`, () => {
    const g = gatt_pair(p, p);
    const { A, B, con, app } = g;
    const gc = A.gatt_client;
    const E = (code: string, len14: number, rest: string): string => ev(p, con, code, len14, rest);
    const done = (status = 0): string => E('a0', 3, status.toString(16).padStart(2, '0'));
    const svc = (s: number, e: number, u: string): string => E('a1', 22, le16(s) + le16(e) + u);
    const chr = (s: number, v: number, e: number, props: number, u: string): string =>
      E('a2', 26, le16(s) + le16(v) + le16(e) + le16(props) + u);
    const value = (vh: number, data: string): string => E('a5', 6 + data.length / 2, le16(vh) + le16(data.length / 2) + data);
    const long = (vh: number, off: number, data: string): string =>
      E('a6', 8 + data.length / 2, le16(vh) + le16(off) + le16(data.length / 2) + data);

    // primary services; the MTU exchange goes first: GATT_EVENT_MTU (H2 in both profiles) with min(100, 1017)
    assert.equal(
      g.query((cb) => gc.gatt_client_discover_primary_services(cb, con)),
      [
        h('ab04' + le16(con) + '6400'),
        svc(0x0001, 0x0003, U(0x1800)),
        svc(0x0004, 0x0007, U(0x180f)),
        svc(0x0008, 0x0011, U(0xff10)),
        done(),
      ],
    );
    assert.equal(gc.gatt_client_get_mtu(con), { status: 0, mtu: 100 });
    assert.is(B.att_server.att_server_get_mtu(g.con_b), 100);
    // ATT_EVENT_MTU_EXCHANGE_COMPLETE 0xB5 on the server: handle, MTU
    assert.ok(app.events.includes(h('b504' + le16(g.con_b) + '6400')), 'server MTU event');

    assert.equal(
      g.query((cb) => gc.gatt_client_discover_primary_services_by_uuid16(cb, con, 0x180f)),
      [svc(0x0004, 0x0007, U(0x180f)), done()],
    );
    const ff10 = fromHex('0000ff1000001000800000805f9b34fb');
    assert.equal(
      g.query((cb) => gc.gatt_client_discover_primary_services_by_uuid128(cb, con, ff10)),
      [svc(0x0008, 0x0011, U(0xff10)), done()],
    );
    const service = { start_group_handle: 0x0008, end_group_handle: 0x0011, uuid16: 0, uuid128: ff10 };
    const battery = { start_group_handle: 0x0004, end_group_handle: 0x0007, uuid16: 0x180f, uuid128: new Uint8Array(16) };

    // included services: include handle 0x0009, the battery service's range and UUID
    assert.equal(
      g.query((cb) => gc.gatt_client_find_included_services_for_service(cb, con, service)),
      [E('a3', 24, le16(0x0009) + le16(0x0004) + le16(0x0007) + U(0x180f)), done()],
    );

    // characteristics: each ends before the next declaration, the last at the service's end
    const chars = g.query((cb) => gc.gatt_client_discover_characteristics_for_service(cb, con, service));
    assert.equal(chars, [
      chr(0x000a, 0x000b, 0x000b, 0x02, U(0xff11)),
      chr(0x000c, 0x000d, 0x000e, 0x8e, U(0xff12)),
      chr(0x000f, 0x0010, 0x0011, 0x32, U(0xff13)),
      done(),
    ]);
    const ff13 = gatt_client_deserialize_characteristic(fromHex(chars[2]!), p === 'v1.8' ? 8 : 4);
    const level_events = g.query((cb) => gc.gatt_client_discover_characteristics_for_service_by_uuid16(cb, con, battery, 0x2a19));
    assert.equal(level_events, [chr(0x0005, 0x0006, 0x0007, 0x12, U(0x2a19)), done()]);
    const level = gatt_client_deserialize_characteristic(fromHex(level_events[0]!), p === 'v1.8' ? 8 : 4);

    // descriptors: Find Information from value handle + 1 to the end
    assert.equal(
      g.query((cb) => gc.gatt_client_discover_characteristic_descriptors(cb, con, ff13)),
      [E('a4', 20, le16(0x0011) + U(0x2902)), done()],
    );

    // reads
    assert.equal(
      g.query((cb) => gc.gatt_client_read_value_of_characteristic_using_value_handle(cb, con, 0x0003)),
      [value(0x0003, ascii('gatt e2e')), done()],
    );
    assert.equal(
      g.query((cb) => gc.gatt_client_read_value_of_characteristics_by_uuid16(cb, con, 0x0001, 0xffff, 0x2a19)),
      [value(0x0006, '64'), done()],
    );
    // long: ATT_MTU - 1 = 99 octets, then 51 from offset 99
    assert.equal(
      g.query((cb) => gc.gatt_client_read_long_value_of_characteristic_using_value_handle(cb, con, 0x000b)),
      [long(0x000b, 0, ascii(LONG_VALUE.slice(0, 99))), long(0x000b, 99, ascii(LONG_VALUE.slice(99))), done()],
    );
    // multiple: the Read Multiple Response's concatenated values in one value event, value handle 0
    assert.equal(
      g.query((cb) => gc.gatt_client_read_multiple_characteristic_values(cb, con, 2, [0x0003, 0x0006])),
      [value(0x0000, ascii('gatt e2e') + '64'), done()],
    );
    // an error ends the query: Read Request on a handle that does not exist -> Invalid Handle 0x01
    assert.equal(
      g.query((cb) => gc.gatt_client_read_value_of_characteristic_using_value_handle(cb, con, 0x0099)),
      [done(0x01)],
    );

    // writes
    const hello = new TextEncoder().encode('hello');
    assert.equal(
      g.query((cb) => gc.gatt_client_write_value_of_characteristic(cb, con, 0x000d, 5, hello)),
      [done()],
    );
    assert.is(Buffer.from(app.ff12).toString(), 'hello');
    const before = app.writes;
    assert.is(gc.gatt_client_write_value_of_characteristic_without_response(con, 0x000d, 3, Uint8Array.of(0x78, 0x79, 0x7a)), 0);
    g.until(() => app.writes > before, 'Write Command at the server');
    // GATT_EVENT_CAN_WRITE_WITHOUT_RESPONSE 0xAC (H, both profiles) to its handler, channel = handle
    const can: string[] = [];
    assert.is(
      gc.gatt_client_request_can_write_without_response_event(
        (_t, ch, pk, n) => can.push(ch.toString(16) + ':' + Buffer.from(pk.subarray(0, n)).toString('hex')),
        con,
      ),
      0,
    );
    g.until(() => can.length > 0, 'CAN_WRITE_WITHOUT_RESPONSE');
    assert.equal(can, [con.toString(16) + ':' + h('ac02' + le16(con))]);
    assert.is(Buffer.from(app.ff12).toString(), 'xyz');
    const big = Uint8Array.from({ length: 200 }, (_, i) => (i * 7) & 0xff);
    assert.equal(
      g.query((cb) => gc.gatt_client_write_long_value_of_characteristic(cb, con, 0x000d, 200, big)),
      [done()],
    );
    assert.equal(Array.from(app.ff12), Array.from(big));
    assert.equal(
      g.query((cb) => gc.gatt_client_read_long_value_of_characteristic_using_value_handle(cb, con, 0x000d)),
      [
        long(0x000d, 0, Buffer.from(big.subarray(0, 99)).toString('hex')),
        long(0x000d, 99, Buffer.from(big.subarray(99, 198)).toString('hex')),
        long(0x000d, 198, Buffer.from(big.subarray(198)).toString('hex')),
        done(),
      ],
    );
    const rel = Uint8Array.from({ length: 120 }, (_, i) => 0xff - i);
    assert.equal(
      g.query((cb) => gc.gatt_client_reliable_write_long_value_of_characteristic(cb, con, 0x000d, 120, rel)),
      [done()],
    );
    assert.equal(Array.from(app.ff12.subarray(0, 120)), Array.from(rel));

    // notifications: CCC 0x0007 := 0x0001, listener on the battery level, one notification
    const notes: string[] = [];
    const listener: GattClientNotification = { callback: null, con_handle: 0, attribute_handle: 0 };
    gc.gatt_client_listen_for_characteristic_value_updates(
      listener,
      (_t, _c, pk, n) => notes.push(Buffer.from(pk.subarray(0, n)).toString('hex')),
      con,
      level,
    );
    assert.equal(
      g.query((cb) => gc.gatt_client_write_client_characteristic_configuration(cb, con, level, 1)),
      [done()],
    );
    assert.is(app.ccc.get(0x0007), 1);
    assert.is(B.att_server.att_server_notify(g.con_b, 0x0006, Uint8Array.of(0x63)), 0);
    g.until(() => notes.length === 1, 'notification');
    assert.equal(notes, [E('a7', 7, le16(0x0006) + le16(1) + '63')]);

    // indications on FF13: CCC 0x0011 := 0x0002; the client confirms, the server reports status 0
    const notes13: string[] = [];
    const listener13: GattClientNotification = { callback: null, con_handle: 0, attribute_handle: 0 };
    gc.gatt_client_listen_for_characteristic_value_updates(
      listener13,
      (_t, _c, pk, n) => notes13.push(Buffer.from(pk.subarray(0, n)).toString('hex')),
      con,
      ff13,
    );
    assert.equal(
      g.query((cb) => gc.gatt_client_write_client_characteristic_configuration(cb, con, ff13, 2)),
      [done()],
    );
    assert.is(app.ccc.get(0x0011), 2);
    app.events.length = 0;
    assert.is(B.att_server.att_server_indicate(g.con_b, 0x0010, new TextEncoder().encode('ind')), 0);
    g.until(() => notes13.length === 1 && app.events.length > 0, 'indication and its confirmation');
    assert.equal(notes13, [E('a8', 9, le16(0x0010) + le16(3) + ascii('ind'))]);
    // ATT_EVENT_HANDLE_VALUE_INDICATION_COMPLETE 0xB6: status, handle, attribute handle
    assert.equal(app.events, [h('b605 00' + le16(g.con_b) + le16(0x0010))]);
    assert.equal(notes, [E('a7', 7, le16(0x0006) + le16(1) + '63')], 'the battery listener got nothing more');
    gc.gatt_client_stop_listening_for_characteristic_value_updates(listener);
    gc.gatt_client_stop_listening_for_characteristic_value_updates(listener13);

    g.close();
    for (const s of [A, B]) {
      assert.equal(s.pools.busy(), [], 'pools back to full');
      s.close_packet_log();
    }
    for (const log of g.logs) {
      assertCleanGattCapture(log);
    }
    // tshark reads the ATT opcodes: the client's side has every request and response kind used above
    const ops = new Set(tsharkFields(g.logs[0]!, ['btatt.opcode'], 'btatt').map((r) => r[0]));
    for (const op of ['0x02', '0x03', '0x10', '0x11', '0x06', '0x07', '0x08', '0x09', '0x04', '0x05', '0x0a', '0x0b'])
      assert.ok(ops.has(op), `opcode ${op} in the capture (${[...ops].join(' ')})`);
    for (const op of [
      '0x0c',
      '0x0d',
      '0x0e',
      '0x0f',
      '0x12',
      '0x13',
      '0x52',
      '0x16',
      '0x17',
      '0x18',
      '0x19',
      '0x1b',
      '0x1d',
      '0x1e',
    ])
      assert.ok(ops.has(op), `opcode ${op} in the capture (${[...ops].join(' ')})`);
  });
}

test('the descriptor database: the handles of gatt-helpers.ts', () => {
  const r = gatt_compile(DESCRIPTOR_DB);
  assert.is(r.status, 0);
  const v = r.handles;
  assert.is(v.ATT_CHARACTERISTIC_0000FF21_0000_1000_8000_00805F9B34FB_01_VALUE_HANDLE, 0x0003);
  assert.is(v.ATT_CHARACTERISTIC_0000FF21_0000_1000_8000_00805F9B34FB_01_CLIENT_CONFIGURATION_HANDLE, 0x0004);
  assert.is(v.ATT_CHARACTERISTIC_0000FF21_0000_1000_8000_00805F9B34FB_01_USER_DESCRIPTION_HANDLE, 0x0005);
  assert.is(v.ATT_CHARACTERISTIC_0000FF21_0000_1000_8000_00805F9B34FB_01_SERVER_CONFIGURATION_HANDLE, 0x0006);
  assert.is(USER_DESCRIPTION.length, 130);
});

for (const p of PROFILES) {
  test(`${p}: descriptor reads and writes (Part G 4.12) against our ATT server, events byte for byte; captures clean`, () => {
    const app = new DescriptorApp();
    const g = gatt_pair(p, `${p}-desc`, true, { db: DESCRIPTOR_DB, app });
    const { A, B, con } = g;
    const gc = A.gatt_client;
    const E = (code: string, len14: number, rest: string): string => ev(p, con, code, len14, rest);
    const done = (status = 0): string => E('a0', 3, status.toString(16).padStart(2, '0'));
    // 0xA9: handle, [ids,] descriptor handle, length, value (v1.4 H2LV, v1.8 H222LV)
    const desc = (dh: number, data: string): string => E('a9', 6 + data.length / 2, le16(dh) + le16(data.length / 2) + data);
    // 0xAA: v1.4 H2LV: handle, offset, length, value; v1.8 H2222LV: handle, ids, descriptor handle, offset, length, value
    const long = (dh: number, off: number, data: string): string =>
      p === 'v1.8'
        ? E('aa', 8 + data.length / 2, le16(dh) + le16(off) + le16(data.length / 2) + data)
        : E('aa', 6 + data.length / 2, le16(off) + le16(data.length / 2) + data);

    // discover FF21's descriptors: CCC, User Description, Server Characteristic Configuration
    const ff21 = { start_handle: 2, value_handle: 3, end_handle: 6, properties: 0x12, uuid16: 0, uuid128: new Uint8Array(16) };
    const found = g.query((cb) => gc.gatt_client_discover_characteristic_descriptors(cb, con, ff21));
    assert.equal(found.slice(1), [
      E('a4', 20, le16(0x0004) + U(0x2902)),
      E('a4', 20, le16(0x0005) + U(0x2901)),
      E('a4', 20, le16(0x0006) + U(0x2903)),
      done(),
    ]);
    assert.is(found[0], h('ab04' + le16(con) + '6400'), 'MTU 100 first');
    const at = p === 'v1.8' ? 8 : 4;
    const [cccd, user, sccd] = found.slice(1, 4).map((e) => gatt_client_deserialize_characteristic_descriptor(fromHex(e), at));
    assert.equal([cccd!.handle, cccd!.uuid16, user!.handle, user!.uuid16, sccd!.handle], [4, 0x2902, 5, 0x2901, 6]);

    // CCCD: read 0x0000, write 0x0001 (Write Request), read it back
    assert.equal(
      g.query((cb) => gc.gatt_client_read_characteristic_descriptor(cb, con, cccd!)),
      [desc(0x0004, '0000'), done()],
    );
    assert.equal(
      g.query((cb) => gc.gatt_client_write_characteristic_descriptor(cb, con, cccd!, 2, Uint8Array.of(1, 0))),
      [done()],
    );
    assert.equal(Array.from(app.store.get(0x0004)!), [1, 0]);
    assert.equal(
      g.query((cb) => gc.gatt_client_read_characteristic_descriptor_using_descriptor_handle(cb, con, 0x0004)),
      [desc(0x0004, '0100'), done()],
    );
    // the CCCD write lets B notify: ATT_EVENT-free check that the server sees it subscribed
    const notes: string[] = [];
    const listener: GattClientNotification = { callback: null, con_handle: 0, attribute_handle: 0 };
    gc.gatt_client_listen_for_characteristic_value_updates(listener, (_t, _c, pk, n) => notes.push(hex(pk, n)), con, ff21);
    assert.is(B.att_server.att_server_notify(g.con_b, 0x0003, Uint8Array.of(0x18)), 0);
    g.until(() => notes.length === 1, 'notification');
    assert.equal(notes, [E('a7', 7, le16(0x0003) + le16(1) + '18')]);
    gc.gatt_client_stop_listening_for_characteristic_value_updates(listener);

    // User Description (130 octets): a plain read gets ATT_MTU - 1 = 99; the long read all of it
    const ud = ascii(USER_DESCRIPTION);
    assert.equal(
      g.query((cb) => gc.gatt_client_read_characteristic_descriptor(cb, con, user!)),
      [desc(0x0005, ud.slice(0, 198)), done()],
    );
    assert.equal(
      g.query((cb) => gc.gatt_client_read_long_characteristic_descriptor(cb, con, user!)),
      [long(0x0005, 0, ud.slice(0, 198)), long(0x0005, 99, ud.slice(198)), done()],
    );
    assert.equal(
      g.query((cb) =>
        gc.gatt_client_read_long_characteristic_descriptor_using_descriptor_handle_with_offset(cb, con, 0x0005, 120),
      ),
      [long(0x0005, 120, ud.slice(240)), done()],
    );
    // it is read only: Write Not Permitted (0x03) from the server ends the write
    assert.equal(
      g.query((cb) => gc.gatt_client_write_characteristic_descriptor(cb, con, user!, 3, Uint8Array.of(1, 2, 3))),
      [done(0x03)],
    );

    // Server Characteristic Configuration: write long (Prepare Write parts of 95, Execute Write), read long back
    const sccd_value = Uint8Array.from({ length: 150 }, (_, i) => (i * 3 + 1) & 0xff);
    assert.equal(
      g.query((cb) => gc.gatt_client_write_long_characteristic_descriptor(cb, con, sccd!, 150, sccd_value)),
      [done()],
    );
    assert.equal(Array.from(app.store.get(0x0006)!), Array.from(sccd_value));
    const sv = Buffer.from(sccd_value).toString('hex');
    assert.equal(
      g.query((cb) => gc.gatt_client_read_long_characteristic_descriptor_using_descriptor_handle(cb, con, 0x0006)),
      [long(0x0006, 0, sv.slice(0, 198)), long(0x0006, 99, sv.slice(198)), done()],
    );
    // with an offset: bytes 140..150 replaced by the ten octets of `tail` from offset 140
    const tail = new Uint8Array(150).fill(0xee);
    assert.equal(
      g.query((cb) =>
        gc.gatt_client_write_long_characteristic_descriptor_using_descriptor_handle_with_offset(cb, con, 0x0006, 140, 150, tail),
      ),
      [done()],
    );
    assert.equal(Array.from(app.store.get(0x0006)!.subarray(138)), [
      sccd_value[138],
      sccd_value[139],
      ...new Array(10).fill(0xee),
    ]);
    // a plain descriptor write: 2 octets by handle
    assert.equal(
      g.query((cb) =>
        gc.gatt_client_write_characteristic_descriptor_using_descriptor_handle(cb, con, 0x0006, 2, Uint8Array.of(1, 0)),
      ),
      [done()],
    );
    assert.equal(Array.from(app.store.get(0x0006)!), [1, 0]);

    g.close();
    for (const s of [A, B]) {
      assert.equal(s.pools.busy(), [], 'pools back to full');
      s.close_packet_log();
    }
    for (const log of g.logs) assertCleanGattCapture(log);
    // the client's capture: Read, Read Blob, Write, Prepare Write and Execute Write requests and their responses
    const ops = new Set(tsharkFields(g.logs[0]!, ['btatt.opcode'], 'btatt').map((r) => r[0]));
    for (const op of ['0x04', '0x05', '0x0a', '0x0b', '0x0c', '0x0d', '0x12', '0x13', '0x16', '0x17', '0x18', '0x19', '0x01'])
      assert.ok(ops.has(op), `opcode ${op} in the capture (${[...ops].join(' ')})`);
  });
}

test.run();
