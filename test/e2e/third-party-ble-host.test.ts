/**
 * ble-host (Emil Lenngren's pure JavaScript LE host, npm "ble-host", pinned in test/third-party/,
 * installed on demand) against bthost over one virtual radio (issue 14, "Third-party peers"):
 *
 * 1. ble-host as GATT server (its own database: a read/write characteristic and a read/notify one,
 *    advertising its name); bthost's GATT client (a Stack on a socat pty of the radio) scans, finds
 *    it by name, connects, discovers services and characteristics, reads, writes (ble-host sees the
 *    value), subscribes (ble-host sees the CCCD write) and gets three notifications.
 * 2. ble-host as GATT client of bthost's ATT server (a .gatt database compiled by
 *    src/att/gatt-compiler.ts): it connects, exchanges the MTU, discovers, reads, writes and gets
 *    three notifications; then it asks to pair (Just Works) and gets no answer: bthost has no LE
 *    Security Manager yet (docs/third-party-hosts.md).
 *
 * ble-host runs in a child process (test/third-party/ble-host-runner.cjs) with a scratch working
 * directory (it writes its bond store there), on the wiretap's Unix socket: its HCI in both
 * directions lands in a btsnoop file that tshark and btmon must decode cleanly, as bthost's log.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bd_addr_to_str, hex, little_endian_read_16 } from '../../src/core/bytes.js';
import { gatt_compile } from '../../src/att/gatt-compiler.js';
import {
  gatt_client_deserialize_characteristic,
  gatt_client_deserialize_service,
  type GattClientCharacteristic,
  type GattClientNotification,
} from '../../src/gatt/gatt-client-types.js';
import * as C from '../../src/codes/v1.4.js';
import { assertCleanCapture } from '../helpers/capture.js';
import { BLE_HOST_RUNNER, ensure_third_party } from '../third-party/install.js';
import { gatt_query, haveSocat, JsonChild, open_rig, remove_rig, type Rig } from './third-party-helpers.js';

const SERVICE_UUID = 'B7E50001-3F2A-4C6B-9D10-5A1E2B3C4D5E';
const CHAR_RW = 'B7E50002-3F2A-4C6B-9D10-5A1E2B3C4D5E';
const CHAR_NOTIFY = 'B7E50003-3F2A-4C6B-9D10-5A1E2B3C4D5E';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const uuid_text = (u: Uint8Array): string => {
  const h = hex(u).replace(/ /g, '').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

function preflight(): void {
  assert.ok(haveSocat, 'socat is installed');
  const tp = ensure_third_party();
  assert.ok(!('unavailable' in tp), 'unavailable' in tp ? tp.unavailable : '');
}

function start_ble_host(rig: Rig): JsonChild {
  const cwd = join(rig.dir, 'ble-host');
  mkdirSync(cwd);
  return new JsonChild(BLE_HOST_RUNNER, [rig.tapSock], cwd);
}

/** H4 ACL packets (no indicator) on L2CAP channel `cid`: [handle, cid, payload]. */
function l2cap_of(packets: Uint8Array[], cid: number): Uint8Array[] {
  return packets.filter((p) => p.length >= 8 && little_endian_read_16(p, 6) === cid).map((p) => p.subarray(8));
}

function check_stream(rig: Rig): void {
  assert.equal(rig.tap.framing_errors, [], 'clean H4 both ways');
  const unknown = rig.tap.of('in', 0x04).filter((e) => (e[0] === 0x0e && e[5] === 0x01) || (e[0] === 0x0f && e[2] === 0x01));
  assert.equal(
    unknown.map((e) => hex(e)),
    [],
    'no command ble-host sent is unknown to the controller',
  );
}

test('ble-host as GATT server: bthost scans, connects, discovers, reads, writes, subscribes and gets 3 notifications', async () => {
  preflight();
  let rig: Rig | null = null;
  let ble: JsonChild | null = null;
  try {
    rig = await open_rig('bthost-3p-blehost-srv-');
    const r = rig;
    const bt = await r.stack();
    const b = start_ble_host(r);
    ble = b;
    b.send({ cmd: 'serve', name: 'ble-host-3p' });
    await r.wait(() => !!b.find((e) => e.ev === 'advertising'), 8000, 'ble-host advertising', b);
    const adv = b.find((e) => e.ev === 'advertising')!;
    const bleCtl = r.server.controllers.find((c) => bd_addr_to_str(c.bd_addr) !== bd_addr_to_str(bt.gap.gap_local_bd_addr()));
    assert.ok(bleCtl, 'a second controller serves ble-host');

    // ---- scan: a connectable report carrying ble-host's name
    const reports: Uint8Array[] = [];
    bt.hci.hci_add_event_handler({
      callback: (_t, _c, p, n) => {
        if (p[0] === C.GAP_EVENT_ADVERTISING_REPORT) reports.push(p.slice(0, n));
      },
    });
    bt.gap.gap_set_scan_parameters(1, 0x30, 0x30);
    bt.gap.gap_start_scan();
    const named = (): Uint8Array | undefined =>
      reports.find((p) => Buffer.from(C.gap_event_advertising_report_get_data(p)).includes('ble-host-3p'));
    await r.wait(() => !!named(), 5000, "bthost sees ble-host's advertising", b);
    bt.gap.gap_stop_scan();
    const rep = named()!;
    const peer = C.gap_event_advertising_report_get_address(rep);
    assert.is(bd_addr_to_str(peer), bd_addr_to_str(bleCtl!.bd_addr), "the report carries ble-host's controller address");
    assert.is(C.gap_event_advertising_report_get_address_type(rep), 0, 'public address');

    // ---- connect as central
    assert.is(bt.gap.gap_connect(peer, 0), 0);
    const leUp = (): Uint8Array | undefined =>
      r.events.find((e) => e[0] === C.HCI_EVENT_LE_META && e[2] === C.HCI_SUBEVENT_LE_CONNECTION_COMPLETE);
    await r.wait(() => !!leUp() && !!b.find((e) => e.ev === 'connect'), 5000, 'LE link up on both sides', b);
    assert.is(leUp()![3], 0, 'status success');
    assert.is(leUp()![6], 0, 'bthost is central');
    const handle = little_endian_read_16(leUp()!, 4) & 0x0fff;
    assert.is(b.find((e) => e.ev === 'connect')!.peerAddress, bd_addr_to_str(bt.gap.gap_local_bd_addr()));

    // ---- discover: GAP, GATT (ble-host's own) and the test service with its range as ble-host reports it
    const gc = bt.gatt_client;
    const svcEvents = await gatt_query((cb) => gc.gatt_client_discover_primary_services(cb, handle), 'services');
    assert.is(C.gatt_event_query_complete_get_att_status(svcEvents.at(-1)!), 0);
    const services = svcEvents
      .filter((e) => e[0] === C.GATT_EVENT_SERVICE_QUERY_RESULT)
      .map((e) => gatt_client_deserialize_service(e, 4));
    assert.equal(
      services.map((s) => [s.uuid16, s.start_group_handle, s.end_group_handle]),
      [
        [0x1801, 1, 4],
        [0x1800, 5, 9],
        [0, adv.start, adv.end],
      ],
      "ble-host's GATT and GAP services, then the test service with the range ble-host gave it",
    );
    const svc = services[2]!;
    assert.is(uuid_text(svc.uuid128), SERVICE_UUID);
    const charEvents = await gatt_query((cb) => gc.gatt_client_discover_characteristics_for_service(cb, handle, svc), 'chars');
    const chars = charEvents
      .filter((e) => e[0] === C.GATT_EVENT_CHARACTERISTIC_QUERY_RESULT)
      .map((e) => gatt_client_deserialize_characteristic(e, 4));
    assert.equal(
      chars.map((c) => [uuid_text(c.uuid128), c.properties]),
      [
        [CHAR_RW, 0x0a], // Read | Write (Vol 3 Part G 3.3.1.1)
        [CHAR_NOTIFY, 0x12], // Read | Notify
      ],
    );
    const [rw, nt] = chars as [GattClientCharacteristic, GattClientCharacteristic];
    assert.is(rw.start_handle, svc.start_group_handle + 1);
    assert.is(nt.end_handle, svc.end_group_handle, 'the last characteristic ends with the service');

    // ---- read, write, read back
    const read = async (c: GattClientCharacteristic): Promise<string> => {
      const ev = await gatt_query((cb) => gc.gatt_client_read_value_of_characteristic(cb, handle, c), 'read');
      assert.is(C.gatt_event_query_complete_get_att_status(ev.at(-1)!), 0);
      const v = ev.find((e) => e[0] === C.GATT_EVENT_CHARACTERISTIC_VALUE_QUERY_RESULT)!;
      assert.is(C.gatt_event_characteristic_value_query_result_get_value_handle(v), c.value_handle);
      return Buffer.from(C.gatt_event_characteristic_value_query_result_get_value(v)).toString();
    };
    assert.is(await read(rw), 'ble-host value');
    const value = enc('written by bthost');
    const wr = await gatt_query(
      (cb) => gc.gatt_client_write_value_of_characteristic(cb, handle, rw.value_handle, value.length, value),
      'write',
    );
    assert.is(C.gatt_event_query_complete_get_att_status(wr.at(-1)!), 0);
    await r.wait(() => !!b.find((e) => e.ev === 'written'), 2000, 'ble-host got the write', b);
    assert.is(b.find((e) => e.ev === 'written')!.value, Buffer.from(value).toString('hex'));
    assert.is(b.find((e) => e.ev === 'written')!.needsResponse, true, 'a Write Request, not a command');
    assert.is(await read(rw), 'written by bthost');

    // ---- subscribe: CCCD found and written, ble-host sees it, three notifications arrive
    const values: string[] = [];
    const listener: GattClientNotification = { callback: null, con_handle: 0, attribute_handle: 0 };
    gc.gatt_client_listen_for_characteristic_value_updates(
      listener,
      (_t, _c, p) => {
        if (p[0] !== C.GATT_EVENT_NOTIFICATION) return;
        assert.is(C.gatt_event_notification_get_value_handle(p), nt.value_handle);
        values.push(hex(C.gatt_event_notification_get_value(p)).replace(/ /g, ''));
      },
      handle,
      nt,
    );
    const cccd = await gatt_query((cb) => gc.gatt_client_write_client_characteristic_configuration(cb, handle, nt, 1), 'cccd');
    assert.is(C.gatt_event_query_complete_get_att_status(cccd.at(-1)!), 0);
    await r.wait(() => !!b.find((e) => e.ev === 'subscription'), 2000, 'ble-host sees the subscription', b);
    assert.equal(
      b.find((e) => e.ev === 'subscription'),
      {
        ev: 'subscription',
        uuid: CHAR_NOTIFY,
        notification: true,
        indication: false,
        isWrite: true,
      },
    );
    const sent = ['01', '0203', '040506'];
    for (const v of sent) b.send({ cmd: 'notify', uuid: CHAR_NOTIFY, value: v });
    await r.wait(() => values.length >= 3, 3000, 'three notifications', b);
    assert.equal(values, sent);
    assert.ok(
      b.all('notified').every((e) => e.sent === true),
      'ble-host saw the client subscribed',
    );
    gc.gatt_client_stop_listening_for_characteristic_value_updates(listener);

    // ---- disconnect from bthost
    assert.is(bt.gap.gap_disconnect(handle), 0);
    await r.wait(
      () => !!b.find((e) => e.ev === 'disconnect') && r.events.some((e) => e[0] === C.HCI_EVENT_DISCONNECTION_COMPLETE),
      5000,
      'link down on both sides',
      b,
    );
    assert.is(b.find((e) => e.ev === 'disconnect')!.reason, 0x13, 'ble-host: Remote User Terminated Connection');
    assert.equal(bt.pools.busy(), [], 'bthost pools back to full');
    check_stream(r);
    await b.stop();
    await r.close();
    assertCleanCapture(r.tapLog);
    assertCleanCapture(r.stackLog);
  } finally {
    await ble?.stop();
    await rig?.close();
    remove_rig(rig);
  }
});

// ---- ble-host as client of bthost's ATT server

const GATT = `PRIMARY_SERVICE, GAP_SERVICE
CHARACTERISTIC, GAP_DEVICE_NAME, READ, "bthost-3p"
PRIMARY_SERVICE, 0000FF10-0000-1000-8000-00805F9B34FB
CHARACTERISTIC, 0000FF11-0000-1000-8000-00805F9B34FB, READ | NOTIFY | DYNAMIC,
CHARACTERISTIC, 0000FF12-0000-1000-8000-00805F9B34FB, READ | WRITE | DYNAMIC,
`;

test('ble-host as GATT client of the bthost ATT server: MTU, discovery, read, write, 3 notifications; SMP pairing unanswered', async () => {
  preflight();
  const db = gatt_compile(GATT);
  assert.is(db.status, 0);
  const H = {
    counter: db.handles['ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_VALUE_HANDLE']!,
    cccd: db.handles['ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_CLIENT_CONFIGURATION_HANDLE']!,
    rw: db.handles['ATT_CHARACTERISTIC_0000FF12_0000_1000_8000_00805F9B34FB_01_VALUE_HANDLE']!,
  };
  let rig: Rig | null = null;
  let ble: JsonChild | null = null;
  try {
    rig = await open_rig('bthost-3p-blehost-cli-');
    const r = rig;
    const bt = await r.stack();

    // ---- bthost: ATT server on the compiled db, dynamic values through the callbacks
    let rwValue = enc('bthost value');
    let counter = 0;
    let subscribed = 0;
    const writes: Array<[number, string]> = [];
    const attEvents: Uint8Array[] = [];
    const serve = (buf: Uint8Array | null, offset: number, v: Uint8Array): number => {
      const n = Math.max(0, v.length - offset);
      if (buf) buf.set(v.subarray(offset, offset + Math.min(n, buf.length)));
      return buf ? Math.min(n, buf.length) : n;
    };
    bt.att_server.att_server_init(
      db.profile_data!,
      (_h, attr, offset, buf) => {
        if (attr === H.rw) return serve(buf, offset, rwValue);
        if (attr === H.counter) return serve(buf, offset, enc(`counter ${counter}`));
        return 0;
      },
      (_h, attr, _mode, _offset, buf, size) => {
        writes.push([attr, hex(buf.subarray(0, size)).replace(/ /g, '')]);
        if (attr === H.rw) rwValue = buf.slice(0, size);
        if (attr === H.cccd) subscribed = little_endian_read_16(buf, 0);
        if (attr === H.cccd && subscribed === 1) bt.att_server.att_server_request_can_send_now_event(conHandle);
        return 0;
      },
    );
    let conHandle = -1;
    bt.att_server.att_server_register_packet_handler((_t, _c, p, n) => {
      const e = p.slice(0, n);
      attEvents.push(e);
      if (e[0] === C.ATT_EVENT_CONNECTED) conHandle = C.att_event_connected_get_handle(e);
      if (e[0] === C.ATT_EVENT_CAN_SEND_NOW && subscribed === 1 && counter < 3) {
        counter++;
        const v = enc(`counter ${counter}`);
        assert.is(bt.att_server.att_server_notify(conHandle, H.counter, v), 0);
        if (counter < 3) bt.att_server.att_server_request_can_send_now_event(conHandle);
      }
    });
    const name = 'bthost-3p';
    const ad = Uint8Array.from([0x02, 0x01, 0x06, 1 + name.length, 0x09, ...enc(name)]);
    bt.gap.gap_advertisements_set_params(0x0030, 0x0030, 0x00, 0, new Uint8Array(6), 0x07, 0);
    bt.gap.gap_advertisements_set_data(ad.length, ad);
    bt.gap.gap_advertisements_enable(1);
    const ours = bd_addr_to_str(bt.gap.gap_local_bd_addr());

    // ---- ble-host connects as central
    const b = start_ble_host(r);
    ble = b;
    b.send({ cmd: 'connect', address: ours, addressType: 'public' });
    await r.wait(() => !!b.find((e) => e.ev === 'connect') && conHandle >= 0, 8000, 'ble-host connected, ATT_EVENT_CONNECTED', b);
    const connected = attEvents.find((e) => e[0] === C.ATT_EVENT_CONNECTED)!;
    const bleCtl = r.server.controllers.find((c) => bd_addr_to_str(c.bd_addr) !== ours)!;
    assert.is(bd_addr_to_str(C.att_event_connected_get_address(connected)), bd_addr_to_str(bleCtl.bd_addr), 'the peer reported');
    assert.is(C.att_event_connected_get_address_type(connected), 0);

    // ---- MTU: ble-host asks for 517; both sides agree on the minimum
    b.send({ cmd: 'mtu' });
    await r.wait(() => !!b.find((e) => e.ev === 'mtu'), 3000, 'MTU exchanged', b);
    const mtuEv = attEvents.find((e) => e[0] === C.ATT_EVENT_MTU_EXCHANGE_COMPLETE);
    assert.ok(mtuEv, 'ATT_EVENT_MTU_EXCHANGE_COMPLETE');
    const mtu = C.att_event_mtu_exchange_complete_get_MTU(mtuEv!);
    assert.is(b.find((e) => e.ev === 'mtu')!.err, 0);
    assert.is(b.find((e) => e.ev === 'mtu')!.mtu, mtu, 'ble-host and bthost agree on the MTU');
    assert.is(bt.att_server.att_server_get_mtu(conHandle), mtu);
    assert.ok(mtu > 23 && mtu <= 517, `MTU ${mtu}`);

    // ---- discovery: the compiled db as ble-host sees it
    b.send({ cmd: 'discover' });
    await r.wait(() => !!b.find((e) => e.ev === 'services'), 5000, 'ble-host discovery', b);
    type Svc = {
      uuid: string;
      start: number;
      end: number;
      characteristics: { uuid: string; properties: string[]; valueHandle: number }[];
    };
    const services = b.find((e) => e.ev === 'services')!.services as Svc[];
    const base = (x: string): string => `0000${x}-0000-1000-8000-00805F9B34FB`;
    assert.equal(
      services.map((s) => [s.uuid, s.start, s.end]),
      [
        [base('1800'), db.handles['ATT_SERVICE_GAP_SERVICE_START_HANDLE'], db.handles['ATT_SERVICE_GAP_SERVICE_END_HANDLE']],
        [
          base('FF10'),
          db.handles['ATT_SERVICE_0000FF10_0000_1000_8000_00805F9B34FB_START_HANDLE'],
          db.handles['ATT_SERVICE_0000FF10_0000_1000_8000_00805F9B34FB_END_HANDLE'],
        ],
      ],
    );
    assert.equal(
      services[1]!.characteristics.map((c) => [c.uuid, c.properties, c.valueHandle]),
      [
        [base('FF11'), ['read', 'notify'], H.counter],
        [base('FF12'), ['read', 'write'], H.rw],
      ],
    );
    assert.equal(
      services[0]!.characteristics.map((c) => c.uuid),
      [base('2A00')],
    );

    // ---- read (dynamic, through the read callback), write, read back
    b.send({ cmd: 'read', uuid: base('FF12') });
    b.send({ cmd: 'read', uuid: base('2A00') });
    await r.wait(() => b.all('read').length === 2, 3000, 'two reads', b);
    assert.equal(
      b.all('read').map((e) => [e.err, Buffer.from(e.value as string, 'hex').toString()]),
      [
        [0, 'bthost value'],
        [0, 'bthost-3p'],
      ],
    );
    b.send({ cmd: 'write', uuid: base('FF12'), value: Buffer.from('from ble-host').toString('hex') });
    await r.wait(() => !!b.find((e) => e.ev === 'write'), 3000, 'write answered', b);
    assert.is(b.find((e) => e.ev === 'write')!.err, 0);
    assert.equal(writes, [[H.rw, Buffer.from('from ble-host').toString('hex')]]);
    b.send({ cmd: 'read', uuid: base('FF12') });
    await r.wait(() => b.all('read').length === 3, 3000, 'read back', b);
    assert.is(Buffer.from(b.all('read')[2]!.value as string, 'hex').toString(), 'from ble-host');

    // ---- subscribe: ble-host finds and writes the CCCD, bthost notifies three times on can-send-now
    b.send({ cmd: 'subscribe', uuid: base('FF11') });
    await r.wait(() => b.all('change').length >= 3, 5000, 'three notifications at ble-host', b);
    assert.is(b.find((e) => e.ev === 'cccd')!.err, 0);
    assert.equal(writes[1], [H.cccd, '0100'], 'CCCD written with Notification');
    assert.equal(
      b.all('change').map((e) => [Buffer.from(e.value as string, 'hex').toString(), e.indication]),
      [
        ['counter 1', false],
        ['counter 2', false],
        ['counter 3', false],
      ],
    );

    // ---- pairing: ble-host sends Pairing Request (Vol 3 Part H 3.5.1) on CID 0x0006; bthost has no
    // Security Manager and does not answer (docs/third-party-hosts.md)
    b.send({ cmd: 'pair' });
    await r.wait(() => l2cap_of(r.tap.of('out', 0x02), 0x0006).length > 0, 2000, 'a Pairing Request from ble-host', b);
    const req = l2cap_of(r.tap.of('out', 0x02), 0x0006)[0]!;
    assert.is(req[0], 0x01, 'SMP Pairing Request');
    assert.is(req.length, 7);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(
      l2cap_of(r.tap.of('in', 0x02), 0x0006).map((p) => hex(p)),
      [],
      'no SMP answer from bthost (no LE Security Manager yet)',
    );
    assert.not.ok(b.find((e) => e.ev === 'pairingComplete' || e.ev === 'encrypt'));

    // ---- ble-host disconnects
    b.send({ cmd: 'disconnect' });
    await r.wait(
      () => attEvents.some((e) => e[0] === C.ATT_EVENT_DISCONNECTED) && !!b.find((e) => e.ev === 'disconnect'),
      5000,
      'link down',
      b,
    );
    assert.equal(bt.pools.busy(), [], 'bthost pools back to full');
    check_stream(r);
    await b.stop();
    await r.close();
    assertCleanCapture(r.tapLog);
    assertCleanCapture(r.stackLog);
  } finally {
    await ble?.stop();
    await rig?.close();
    remove_rig(rig);
  }
});

test.run();
