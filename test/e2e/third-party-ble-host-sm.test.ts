/**
 * LE Secure Connections with an outside implementation: ble-host (pure JavaScript LE host, pinned
 * in test/third-party) connects as central to a bthost Stack on a pty of the virtual radio and asks
 * to pair (its `sendPairingRequest`: Just Works with bonding, Numeric Comparison (both show the same
 * value), or Passkey Entry typing what bthost shows). bthost's Security Manager answers as
 * peripheral (NoInputNoOutput, SM_AUTHREQ_SECURE_CONNECTION | BONDING, the app confirms Just
 * Works). Both sides report success (ble-host 'pairingComplete' and 'encrypt' 0; bthost
 * SM_EVENT_PAIRING_COMPLETE status 0, gap_security_level 2, a bond for ble-host's address), the
 * wiretap shows the SC exchange (Pairing Response with the SC bit, both Public Keys, both DHKey
 * Checks), pools are full after the link went down and both captures decode cleanly.
 * With the SC bit off on bthost's side, the same two models run as LE legacy pairing (c1, s1, our
 * LTK distributed with Encryption Information / Central Identification). Protected characteristics:
 * ble-host reads bthost's FF01 (READ_ENCRYPTED) and FF02 (READ_AUTHENTICATED) before pairing (bthost's
 * Error Responses 0x0F / 0x05 on the wire) and after (the values; FF02 still 0x05 after Just Works).
 * And the other direction: bthost (central, GATT client) and ble-host (peripheral serving a
 * characteristic with readPerm 'encrypted' and one with 'encrypted-mitm-sc'), SC Just Works and
 * Numeric Comparison: reads before pairing fail (0x05), sm_request_pairing, reads after give the
 * values, then bthost encrypts again with the stored LTK (REENCRYPTION_COMPLETE 0: ble-host holds
 * the same key); with gatt_client_set_required_security_level the SM pairs before the first ATT PDU
 * (after the Encryption Change in ble-host's HCI stream). Re-encryption on a new link after a
 * restart of both: third-party-ble-host-bond.test.ts.
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
} from '../../src/gatt/gatt-client-types.js';
import * as C from '../../src/codes/v1.4.js';
import { assertCleanCapture } from '../helpers/capture.js';
import { BLE_HOST_RUNNER, ensure_third_party } from '../third-party/install.js';
import { gatt_query, haveSocat, JsonChild, open_rig, remove_rig, type Rig } from './third-party-helpers.js';

function l2cap_of(packets: Uint8Array[], cid: number): Uint8Array[] {
  return packets.filter((p) => p.length >= 8 && little_endian_read_16(p, 6) === cid).map((p) => p.subarray(8));
}

// bthost's database for ble-host (central): GAP (0x0001-0x0003), then service FF00 with FF01
// (value 0x0006, READ_ENCRYPTED) and FF02 (value 0x0008, READ_AUTHENTICATED)
const PERIPHERAL_DB = `PRIMARY_SERVICE, GAP_SERVICE
CHARACTERISTIC, GAP_DEVICE_NAME, READ, "bthost-sm"
PRIMARY_SERVICE, 0000FF00-0000-1000-8000-00805F9B34FB
CHARACTERISTIC, 0000FF01-0000-1000-8000-00805F9B34FB, READ | READ_ENCRYPTED, "bthost secret"
CHARACTERISTIC, 0000FF02-0000-1000-8000-00805F9B34FB, READ | READ_AUTHENTICATED, "bthost mitm secret"
`;
const FF01 = '0000FF01-0000-1000-8000-00805F9B34FB';
const FF02 = '0000FF02-0000-1000-8000-00805F9B34FB';
const hex_of = (s: string): string => Buffer.from(s).toString('hex');

/** ble-host (GATT client) reads a characteristic by UUID: its ATT error (0 = none) and the value (hex). */
async function ble_read(r: Rig, b: JsonChild, uuid: string): Promise<{ err: unknown; value: unknown }> {
  const before = b.all('read').length;
  b.send({ cmd: 'read', uuid });
  await r.wait(() => b.all('read').length > before, 5000, `ble-host read ${uuid}`, b);
  const e = b.all('read')[before]!;
  return { err: e.err, value: e.value };
}

async function ble_central(passkey: boolean, legacy = false, nc = false): Promise<void> {
  assert.ok(haveSocat, 'socat is installed');
  const tp = ensure_third_party();
  assert.ok(!('unavailable' in tp), 'unavailable' in tp ? tp.unavailable : '');
  let rig: Rig | null = null;
  let ble: JsonChild | null = null;
  try {
    rig = await open_rig('bthost-3p-blehost-sm-');
    const r = rig;
    const bt = await r.stack();
    const db = gatt_compile(PERIPHERAL_DB);
    assert.is(db.status, 0);
    bt.att_server.att_server_init(db.profile_data!);
    const sm = bt.sm;
    sm.sm_init();
    sm.sm_set_io_capabilities(
      nc ? C.IO_CAPABILITY_DISPLAY_YES_NO : passkey ? C.IO_CAPABILITY_DISPLAY_ONLY : C.IO_CAPABILITY_NO_INPUT_NO_OUTPUT,
    );
    sm.sm_set_authentication_requirements(
      (legacy ? 0 : C.SM_AUTHREQ_SECURE_CONNECTION) | C.SM_AUTHREQ_BONDING | (passkey || nc ? C.SM_AUTHREQ_MITM_PROTECTION : 0),
    );
    sm.sm_use_fixed_passkey_in_display_role(123456);
    const smEvents: Uint8Array[] = [];
    sm.sm_add_event_handler({
      callback: (_t, _c, p, n) => {
        const e = p.slice(0, n);
        smEvents.push(e);
        if (e[0] === C.SM_EVENT_JUST_WORKS_REQUEST) sm.sm_just_works_confirm(little_endian_read_16(e, 2));
        if (e[0] === C.SM_EVENT_NUMERIC_COMPARISON_REQUEST) sm.sm_numeric_comparison_confirm(little_endian_read_16(e, 2));
      },
    });
    let conHandle = -1;
    bt.hci.hci_add_event_handler({
      callback: (_t, _c, p) => {
        if (p[0] === 0x3e && p[2] === 0x01 && p[3] === 0) conHandle = little_endian_read_16(p, 4);
      },
    });
    const name = 'bthost-sm';
    const ad = Uint8Array.from([0x02, 0x01, 0x06, 1 + name.length, 0x09, ...new TextEncoder().encode(name)]);
    bt.gap.gap_advertisements_set_params(0x0030, 0x0030, 0x00, 0, new Uint8Array(6), 0x07, 0);
    bt.gap.gap_advertisements_set_data(ad.length, ad);
    bt.gap.gap_advertisements_enable(1);
    const ours = bd_addr_to_str(bt.gap.gap_local_bd_addr());

    const cwd = join(r.dir, 'ble-host');
    mkdirSync(cwd);
    const b = new JsonChild(BLE_HOST_RUNNER, [r.tapSock], cwd);
    ble = b;
    b.send({ cmd: 'connect', address: ours, addressType: 'public' });
    await r.wait(() => !!b.find((e) => e.ev === 'connect') && conHandle >= 0, 8000, 'ble-host connected', b);
    // before pairing: ble-host discovers and reads both protected characteristics -> the errors
    b.send({ cmd: 'discover' });
    await r.wait(() => !!b.find((e) => e.ev === 'services'), 8000, "ble-host discovered bthost's database", b);
    assert.equal(await ble_read(r, b, FF01), { err: C.ATT_ERROR_INSUFFICIENT_ENCRYPTION, value: null }, 'FF01 before pairing');
    assert.equal(
      await ble_read(r, b, FF02),
      { err: C.ATT_ERROR_INSUFFICIENT_AUTHENTICATION, value: null },
      'FF02 before pairing',
    );
    b.send(
      nc
        ? { cmd: 'pair', ioCap: 1, mitm: true, passkey: 'yes' }
        : passkey
          ? { cmd: 'pair', ioCap: 2, mitm: true, passkey: '123456' }
          : { cmd: 'pair' },
    );
    const done = (): boolean => smEvents.some((e) => e[0] === C.SM_EVENT_PAIRING_COMPLETE);
    await r.wait(() => done() && !!b.find((e) => e.ev === 'pairingComplete'), 8000, 'pairing complete on both sides', b);
    await r.wait(() => !!b.find((e) => e.ev === 'encrypt'), 3000, "ble-host's encrypt event", b);
    const complete = smEvents.find((e) => e[0] === C.SM_EVENT_PAIRING_COMPLETE)!;
    assert.is(complete[11], 0, `bthost PAIRING_COMPLETE status (${hex(complete)})`);
    assert.is(b.find((e) => e.ev === 'encrypt')!.status, 0);
    const ask = nc
      ? C.SM_EVENT_NUMERIC_COMPARISON_REQUEST
      : passkey
        ? C.SM_EVENT_PASSKEY_DISPLAY_NUMBER
        : C.SM_EVENT_JUST_WORKS_REQUEST;
    // on connect BTstack's SM looks the peer up among its bonds (none yet: FAILED); ble-host, bonding,
    // distributes its identity (IRK + address), so IDENTITY_CREATED comes before PAIRING_COMPLETE
    assert.equal(
      smEvents.map((e) => e[0]),
      [
        C.SM_EVENT_IDENTITY_RESOLVING_STARTED,
        C.SM_EVENT_IDENTITY_RESOLVING_FAILED,
        C.SM_EVENT_PAIRING_STARTED,
        ask,
        C.SM_EVENT_IDENTITY_CREATED,
        C.SM_EVENT_PAIRING_COMPLETE,
      ],
    );
    const asked = smEvents[3]!;
    if (nc) {
      // the 6-digit value both users compare: bthost's g2 and ble-host's g2 agree
      const shown = b.find((e) => e.ev === 'passkeyExchange')!.passkey as string;
      assert.is(C.sm_event_numeric_comparison_request_get_passkey(asked), Number(shown), `same value (${shown})`);
    } else if (passkey) {
      assert.is(C.sm_event_passkey_display_number_get_passkey(asked), 123456, 'bthost shows 123456');
      assert.ok(
        b.find((e) => e.ev === 'passkeyExchange'),
        'ble-host was asked for the passkey',
      );
    }
    const level = nc ? 4 : passkey ? (legacy ? 3 : 4) : 2;
    assert.is(bt.gap.gap_security_level(conHandle), level, `LE level ${level}`);
    // after pairing: FF01 gives its value; FF02 (authenticated) only after Passkey / Numeric Comparison
    assert.equal(await ble_read(r, b, FF01), { err: 0, value: hex_of('bthost secret') }, 'FF01 after pairing');
    assert.equal(
      await ble_read(r, b, FF02),
      level >= 3
        ? { err: 0, value: hex_of('bthost mitm secret') }
        : { err: C.ATT_ERROR_INSUFFICIENT_AUTHENTICATION, value: null },
      'FF02 after pairing',
    );
    // bthost's Error Responses to Read Requests on the wire (to ble-host, CID 0x0004): value handle, code
    const attErrors = l2cap_of(r.tap.of('in', 0x02), 0x0004)
      .filter((p) => p[0] === 0x01 && p[1] === 0x0a)
      .map((p) => hex(p).replace(/ /g, ''));
    assert.equal(attErrors, level >= 3 ? ['010a06000f', '010a080005'] : ['010a06000f', '010a080005', '010a080005']);
    const peer = r.server.controllers.find((c) => bd_addr_to_str(c.bd_addr) !== ours)!;
    assert.ok(sm.le_device_db.le_device_db_lookup(0, peer.bd_addr) >= 0, "a bond for ble-host's identity address");
    // the SC exchange on the wire (ble-host's view: out = to its controller)
    const fromBle = l2cap_of(r.tap.of('out', 0x02), 0x0006).map((p) => p[0]);
    const toBle = l2cap_of(r.tap.of('in', 0x02), 0x0006);
    const codes = toBle.map((p) => p[0]);
    if (legacy) {
      assert.ok(toBle[0]![0] === 0x02 && (toBle[0]![3]! & 0x09) === 0x01, `legacy Pairing Response: ${hex(toBle[0]!)}`);
      assert.ok(!fromBle.includes(0x0c) && !codes.includes(0x0c), 'no public keys');
      // legacy phase 3: our LTK (Encryption Information + Central Identification) reaches ble-host
      assert.ok(codes.includes(0x03) && codes.includes(0x04) && codes.includes(0x06) && codes.includes(0x07), `bthost: ${codes}`);
    } else {
      assert.ok(
        toBle[0]![0] === 0x02 && (toBle[0]![3]! & 0x09) === 0x09,
        `Pairing Response with SC and bonding: ${hex(toBle[0]!)}`,
      );
      assert.ok(fromBle.includes(0x0c) && fromBle.includes(0x0d), 'ble-host sent its Public Key and DHKey Check');
      assert.ok(codes.includes(0x0c) && codes.includes(0x03) && codes.includes(0x04) && codes.includes(0x0d), `bthost: ${codes}`);
    }

    b.send({ cmd: 'disconnect' });
    await r.wait(() => !!b.find((e) => e.ev === 'disconnect') && bt.sm.state.connections.length === 0, 5000, 'link down', b);
    assert.equal(bt.pools.busy(), [], 'bthost pools back to full');
    await b.stop();
    await r.close();
    assertCleanCapture(r.tapLog);
    assertCleanCapture(r.stackLog);
  } finally {
    await ble?.stop();
    await rig?.close();
    remove_rig(rig);
  }
}

test('ble-host (central) pairs with bthost (peripheral) using LE Secure Connections Just Works', () => ble_central(false));

test('ble-host (central, keyboard) pairs with bthost (peripheral, display) using LE Secure Connections Passkey Entry', () =>
  ble_central(true));

test('ble-host (central, DisplayYesNo) and bthost (peripheral, DisplayYesNo): SC Numeric Comparison, the same value', () =>
  ble_central(false, false, true));

test('ble-host (central) and bthost (peripheral, no SC bit): LE legacy pairing, Just Works and Passkey Entry', async () => {
  await ble_central(false, true);
  await ble_central(true, true);
});

const SERVICE_UUID = 'B7E50001-3F2A-4C6B-9D10-5A1E2B3C4D5E';
const CHAR_ENC = 'B7E50004-3F2A-4C6B-9D10-5A1E2B3C4D5E';
const CHAR_MITM_SC = 'B7E50005-3F2A-4C6B-9D10-5A1E2B3C4D5E';
const uuid_text = (u: Uint8Array): string => {
  const h = hex(u).replace(/ /g, '').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
/** a UUID as text -> 16 octets in BTstack's order (as written) */
const uuid_bytes = (t: string): Uint8Array => Uint8Array.from(Buffer.from(t.replace(/-/g, ''), 'hex'));

/**
 * bthost (central, GATT client) and ble-host (peripheral, `serve` with "protected": CHAR_ENC needs
 * an encrypted link, CHAR_MITM_SC an authenticated SC key). `nc`: both DisplayYesNo with MITM (SC
 * Numeric Comparison), else Just Works. `required`: gatt_client_set_required_security_level (4 with
 * NC, 2 with JW) before the first query: the SM pairs before any ATT PDU; else bthost reads both
 * before pairing (ble-host: Insufficient Authentication 0x05, it has no key for us), pairs with
 * sm_request_pairing, reads again, then encrypts once more with the stored LTK.
 */
async function bthost_central(nc: boolean, required: boolean): Promise<void> {
  assert.ok(haveSocat, 'socat is installed');
  const tp = ensure_third_party();
  assert.ok(!('unavailable' in tp), 'unavailable' in tp ? tp.unavailable : '');
  let rig: Rig | null = null;
  let ble: JsonChild | null = null;
  try {
    rig = await open_rig('bthost-3p-blehost-smc-');
    const r = rig;
    const bt = await r.stack();
    const sm = bt.sm;
    sm.sm_init();
    sm.sm_set_io_capabilities(nc ? C.IO_CAPABILITY_DISPLAY_YES_NO : C.IO_CAPABILITY_NO_INPUT_NO_OUTPUT);
    sm.sm_set_authentication_requirements(
      C.SM_AUTHREQ_SECURE_CONNECTION | C.SM_AUTHREQ_BONDING | (nc ? C.SM_AUTHREQ_MITM_PROTECTION : 0),
    );
    const smEvents: Uint8Array[] = [];
    sm.sm_add_event_handler({
      callback: (_t, _c, p, n) => {
        const e = p.slice(0, n);
        smEvents.push(e);
        if (e[0] === C.SM_EVENT_JUST_WORKS_REQUEST) sm.sm_just_works_confirm(little_endian_read_16(e, 2));
        if (e[0] === C.SM_EVENT_NUMERIC_COMPARISON_REQUEST) sm.sm_numeric_comparison_confirm(little_endian_read_16(e, 2));
      },
    });
    let conHandle = -1;
    bt.hci.hci_add_event_handler({
      callback: (_t, _c, p) => {
        if (p[0] === 0x3e && p[2] === 0x01 && p[3] === 0) conHandle = little_endian_read_16(p, 4);
      },
    });
    const cwd = join(r.dir, 'ble-host');
    mkdirSync(cwd);
    const b = new JsonChild(BLE_HOST_RUNNER, [r.tapSock], cwd);
    ble = b;
    b.send(
      nc
        ? { cmd: 'serve', name: 'ble-host-sm', protected: true, ioCap: 1, mitm: true, passkey: 'yes' }
        : { cmd: 'serve', name: 'ble-host-sm', protected: true },
    );
    await r.wait(() => !!b.find((e) => e.ev === 'advertising'), 8000, 'ble-host advertising', b);
    const ours = bd_addr_to_str(bt.gap.gap_local_bd_addr());
    const peer = r.server.controllers.find((c) => bd_addr_to_str(c.bd_addr) !== ours)!;
    assert.is(bt.gap.gap_connect(peer.bd_addr, 0), 0);
    await r.wait(() => conHandle >= 0 && !!b.find((e) => e.ev === 'connect'), 8000, 'LE link up', b);
    const level = nc ? 4 : 2;
    const gc = bt.gatt_client;
    if (required) gc.gatt_client_set_required_security_level(level);

    // discover the test service's characteristics (with a required level: after pairing)
    const svcs = await gatt_query(
      (cb) => gc.gatt_client_discover_primary_services_by_uuid128(cb, conHandle, uuid_bytes(SERVICE_UUID)),
      'service',
    );
    assert.is(C.gatt_event_query_complete_get_att_status(svcs.at(-1)!), 0);
    const svc = gatt_client_deserialize_service(
      svcs.find((e) => e[0] === C.GATT_EVENT_SERVICE_QUERY_RESULT)!,
      4,
    );
    const charEvents = await gatt_query((cb) => gc.gatt_client_discover_characteristics_for_service(cb, conHandle, svc), 'chars');
    const chars = charEvents
      .filter((e) => e[0] === C.GATT_EVENT_CHARACTERISTIC_QUERY_RESULT)
      .map((e) => gatt_client_deserialize_characteristic(e, 4));
    const enc = chars.find((c) => uuid_text(c.uuid128) === CHAR_ENC)!;
    const mitm = chars.find((c) => uuid_text(c.uuid128) === CHAR_MITM_SC)!;
    assert.ok(enc && mitm, `both protected characteristics discovered (${chars.map((c) => uuid_text(c.uuid128))})`);
    const read = async (c: GattClientCharacteristic): Promise<[number, string | null]> => {
      const ev = await gatt_query((cb) => gc.gatt_client_read_value_of_characteristic(cb, conHandle, c), 'read');
      const v = ev.find((e) => e[0] === C.GATT_EVENT_CHARACTERISTIC_VALUE_QUERY_RESULT);
      return [
        C.gatt_event_query_complete_get_att_status(ev.at(-1)!),
        v ? Buffer.from(C.gatt_event_characteristic_value_query_result_get_value(v)).toString() : null,
      ];
    };
    const paired = (): boolean => smEvents.some((e) => e[0] === C.SM_EVENT_PAIRING_COMPLETE);
    if (!required) {
      assert.equal(await read(enc), [C.ATT_ERROR_INSUFFICIENT_AUTHENTICATION, null], 'CHAR_ENC before pairing');
      assert.equal(await read(mitm), [C.ATT_ERROR_INSUFFICIENT_AUTHENTICATION, null], 'CHAR_MITM_SC before pairing');
      assert.not.ok(paired(), 'no pairing yet');
      sm.sm_request_pairing(conHandle);
    }
    await r.wait(() => paired() && !!b.find((e) => e.ev === 'pairingComplete'), 8000, 'pairing complete on both sides', b);
    const complete = smEvents.find((e) => e[0] === C.SM_EVENT_PAIRING_COMPLETE)!;
    assert.is(complete[11], 0, `bthost PAIRING_COMPLETE status (${hex(complete)})`);
    assert.ok(
      smEvents.some((e) => e[0] === (nc ? C.SM_EVENT_NUMERIC_COMPARISON_REQUEST : C.SM_EVENT_JUST_WORKS_REQUEST)),
      'the association model asked',
    );
    if (nc) {
      const shown = b.find((e) => e.ev === 'passkeyExchange')!.passkey as string;
      const asked = smEvents.find((e) => e[0] === C.SM_EVENT_NUMERIC_COMPARISON_REQUEST)!;
      assert.is(C.sm_event_numeric_comparison_request_get_passkey(asked), Number(shown), `same value (${shown})`);
    }
    assert.is(bt.gap.gap_security_level(conHandle), level, `LE level ${level}`);
    assert.ok(sm.le_device_db.le_device_db_lookup(0, peer.bd_addr) >= 0, 'bond stored');
    // after pairing: CHAR_ENC's value; CHAR_MITM_SC's only with the authenticated SC key
    assert.equal(await read(enc), [0, 'ble-host encrypted'], 'CHAR_ENC after pairing');
    assert.equal(
      await read(mitm),
      nc ? [0, 'ble-host mitm sc'] : [C.ATT_ERROR_INSUFFICIENT_AUTHENTICATION, null],
      'CHAR_MITM_SC after pairing',
    );
    // ble-host answered with SC (its view: out = to its controller)
    const fromBle = l2cap_of(r.tap.of('out', 0x02), 0x0006);
    assert.ok(fromBle[0]![0] === 0x02 && (fromBle[0]![3]! & 0x08) === 0x08, `ble-host's Pairing Response: ${hex(fromBle[0]!)}`);
    // the order on the wire at ble-host's controller: with a required level, bthost's first ATT PDU
    // comes after the Encryption Change; else two Read Requests answered 0x05 before any SMP PDU
    const order = r.tap.packets
      .filter((p) => (p.type === 0x04 && p.bytes[0] === 0x08) || (p.type === 0x02 && p.dir === 'in'))
      .map((p) =>
        p.type === 0x04 ? 'enc' : little_endian_read_16(p.bytes, 6) === 0x0004 ? `att${hex(p.bytes.subarray(8, 9))}` : 'other',
      );
    const firstAtt = order.findIndex((o) => o.startsWith('att'));
    if (required) assert.ok(firstAtt > order.indexOf('enc') && order.indexOf('enc') >= 0, `ATT only after encryption: ${order}`);
    else {
      const errors = l2cap_of(r.tap.of('out', 0x02), 0x0004).filter((p) => p[0] === 0x01 && p[1] === 0x0a);
      assert.equal(
        errors.map((p) => hex(p.subarray(0, 2)).replace(/ /g, '') + hex(p.subarray(4)).replace(/ /g, '')),
        nc ? ['010a05', '010a05'] : ['010a05', '010a05', '010a05'],
        "ble-host's Error Responses to the Read Requests",
      );
    }
    if (!required) {
      // the stored LTK is the one ble-host keeps: encrypt again with it (Key Refresh on this link;
      // the runner advertises only once, so no second link)
      const before = smEvents.length;
      sm.sm_request_pairing(conHandle);
      await r.wait(
        () => smEvents.some((e, i) => i >= before && e[0] === C.SM_EVENT_REENCRYPTION_COMPLETE),
        8000,
        're-encrypted',
        b,
      );
      const reenc = smEvents.slice(before);
      assert.equal(
        reenc.map((e) => e[0]),
        [C.SM_EVENT_REENCRYPTION_STARTED, C.SM_EVENT_REENCRYPTION_COMPLETE],
      );
      assert.is(reenc[1]![reenc[1]!.length - 1], 0, 'REENCRYPTION_COMPLETE status 0: ble-host had our LTK');
      assert.is(bt.gap.gap_security_level(conHandle), level);
    }
    bt.gap.gap_disconnect(conHandle);
    await r.wait(() => bt.sm.state.connections.length === 0, 5000, 'link down', b);
    assert.equal(bt.pools.busy(), [], 'bthost pools back to full');
    await b.stop();
    await r.close();
    assertCleanCapture(r.tapLog);
    assertCleanCapture(r.stackLog);
  } finally {
    await ble?.stop();
    await rig?.close();
    remove_rig(rig);
  }
}

test('bthost (central) pairs with ble-host (peripheral), SC Just Works: protected reads fail before, CHAR_ENC reads after', () =>
  bthost_central(false, false));

test('bthost (central) and ble-host (peripheral), SC Numeric Comparison: both protected characteristics read after pairing', () =>
  bthost_central(true, false));

test('bthost (central), gatt_client_set_required_security_level(2): SC Just Works before the first ATT PDU', () =>
  bthost_central(false, true));

test('bthost (central), gatt_client_set_required_security_level(4): SC Numeric Comparison before the first ATT PDU', () =>
  bthost_central(true, true));

test.run();
