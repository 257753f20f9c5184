/**
 * Code profiles: constants against CODES.md, the profile switch, the Codes union as layer code
 * uses it, and decode_event / event_name / format_event for traces (with a fuzz test).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as v14 from '../../../src/codes/v1.4.js';
import * as v18 from '../../../src/codes/v1.8.js';
import {
  codes_for,
  decode_event,
  event_name,
  format_event,
  hci_event_packet_get_type,
  is_code_profile,
  CODE_PROFILES,
  DEFAULT_CODE_PROFILE,
} from '../../../src/codes/index.js';
import type { CodeProfile, Codes } from '../../../src/codes/index.js';
import { bytes, prng } from './helpers.js';

test('PSM_SDP, PSM_RFCOMM, PSM_BNEP alias BLUETOOTH_PROTOCOL_* in both profiles (BTstack l2cap.h)', () => {
  for (const c of [v14, v18]) {
    // Assigned numbers (logical link control): SDP 0x0001, RFCOMM 0x0003, BNEP 0x000F
    assert.is(c.PSM_SDP, 0x0001);
    assert.is(c.PSM_RFCOMM, 0x0003);
    assert.is(c.PSM_BNEP, 0x000f);
    assert.is(c.PSM_SDP, c.BLUETOOTH_PROTOCOL_SDP);
    assert.is(c.PSM_RFCOMM, c.BLUETOOTH_PROTOCOL_RFCOMM);
    assert.is(c.PSM_BNEP, c.BLUETOOTH_PROTOCOL_BNEP);
    assert.is(c.PSM_HID_CONTROL, 0x11);
  }
  assert.is(codes_for('v1.8').PSM_RFCOMM, 0x03);
});

test('status constants match CODES.md (not the manual errata)', () => {
  for (const c of [v14, v18]) {
    assert.is(c.L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_RESOURCES, 0x67); // manual says 0x65
    assert.is(c.L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_PSM, 0x65);
    assert.is(c.L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY, 0x66);
    assert.is(c.L2CAP_SERVICE_ALREADY_REGISTERED, 0x6b); // manual says 0x6a
    assert.is(c.L2CAP_CONNECTION_BASEBAND_DISCONNECT, 0x6a);
    assert.is(c.BTSTACK_MEMORY_ALLOC_FAILED, 0x56);
    assert.is(c.BTSTACK_ACL_BUFFERS_FULL, 0x57);
    assert.is(c.HCI_EVENT_PACKET, 0x04);
    assert.is(c.L2CAP_EVENT_CHANNEL_OPENED, 0x70);
    assert.is(c.RFCOMM_EVENT_CAN_SEND_NOW, 0x89);
    assert.is(c.ERROR_CODE_MEMORY_CAPACITY_EXCEEDED, 0x07);
    assert.is(c.HCI_CON_HANDLE_INVALID, 0xffff);
  }
  assert.is(v14.GAP_EVENT_INQUIRY_RESULT, 0xdb);
  assert.is(v18.GAP_EVENT_INQUIRY_RESULT, 0xdc);
  assert.is(v18.GAP_EVENT_EXTENDED_ADVERTISING_REPORT, 0xdb);
  assert.is(v14.L2CAP_CONNECTION_RESPONSE_RESULT_SUCCESSFUL, 0x63); // base of the 0x63 + result mapping
  assert.is(v18.L2CAP_CONNECTION_PIN_OR_LINK_KEY_MISSING, 0x63);
  assert.is(v14.PROVISIONING_DATA_PACKET, 0x11);
  assert.is(v18.PROVISIONING_DATA_PACKET, 0x12);
  assert.is(v18.HCI_ISO_DATA_PACKET, 0x05);
  assert.not.ok('HCI_ISO_DATA_PACKET' in v14);
  assert.is(v14.L2CAP_EVENT_ERTM_BUFFER_RELEASED, 0x7e);
  assert.is(v18.L2CAP_EVENT_ERTM_BUFFER_RELEASED, 0x7b);
  assert.is(v18.L2CAP_EVENT_CBM_CHANNEL_OPENED, 0x7d);
  assert.is(v14.L2CAP_EVENT_LE_CHANNEL_OPENED, 0x7a);
  assert.is(v14.BTSTACK_EVENT_DISCOVERABLE_ENABLED, 0x66);
  assert.is(v18.BTSTACK_EVENT_SCAN_MODE_CHANGED, 0x66);
  assert.is(v18.GAP_SUBEVENT_LE_CONNECTION_COMPLETE, 0x08);
  assert.is(v14.HCI_EVENT_AUTHENTICATION_COMPLETE_EVENT, 0x06);
});

test('EVENTS metadata: one entry per table row, frozen', () => {
  assert.is(v14.EVENTS.length, 131); // 113 + 13 GATT client + 5 ATT server rows
  assert.is(v18.EVENTS.length, 230); // 214 + 16 GATT client rows
  const le = v14.EVENTS.find((e) => e.name === 'HCI_SUBEVENT_LE_CONNECTION_COMPLETE')!;
  assert.equal(
    { ...le, params: [...le.params] },
    {
      name: 'HCI_SUBEVENT_LE_CONNECTION_COMPLETE',
      code: 0x3e,
      subevent: 0x01,
      layer: 'hci-le-meta',
      format: '11H11B2221',
      size: 21,
      params: [
        'subevent_code',
        'status',
        'connection_handle',
        'role',
        'peer_address_type',
        'peer_address',
        'conn_interval',
        'conn_latency',
        'supervision_timeout',
        'master_clock_accuracy',
      ],
    },
  );
  assert.is(v14.EVENTS.find((e) => e.name === 'HCI_EVENT_LE_META')!.format, null);
  assert.ok(Object.isFrozen(v14.EVENTS) && Object.isFrozen(v14.EVENTS[0]) && Object.isFrozen(v14.EVENTS[0]!.params));
  assert.is(v14.PROFILE, 'v1.4');
  assert.is(v18.PROFILE, 'v1.8');
});

test('events whose code, layout or param names differ between the profiles are the ones CODES.md lists', () => {
  const changed: string[] = [];
  for (const a of v14.EVENTS) {
    const b = v18.EVENTS.find((e) => e.name === a.name);
    if (!b) continue;
    const what = [
      a.code !== b.code ? 'code' : '',
      a.format !== b.format ? 'format' : '',
      a.params.join() !== b.params.join() ? 'params' : '',
    ].filter(Boolean);
    if (what.length) changed.push(`${a.name}:${what.join('+')}`);
  }
  assert.equal(changed, [
    'HCI_EVENT_FLUSH_OCCURRED:format+params', // no format -> H
    'HCI_EVENT_INQUIRY_RESULT_WITH_RSSI:format', // rssi 1 -> a (same bytes)
    'HCI_EVENT_EXTENDED_INQUIRY_RESPONSE:format',
    'HCI_EVENT_SCO_CAN_SEND_NOW:format', // B -> H
    'L2CAP_EVENT_CONNECTION_PARAMETER_UPDATE_REQUEST:params', // latencey -> latency
    'L2CAP_EVENT_CAN_SEND_NOW:code', // 0x78 -> 0x79
    'L2CAP_EVENT_ERTM_BUFFER_RELEASED:code',
    'L2CAP_EVENT_TRIGGER_RUN:code',
    'RFCOMM_EVENT_INCOMING_CONNECTION:format+params', // B12 -> B12H
    'SM_EVENT_JUST_WORKS_REQUEST:format+params',
    'SM_EVENT_PASSKEY_DISPLAY_NUMBER:format+params',
    'SM_EVENT_PASSKEY_INPUT_NUMBER:format+params',
    'SM_EVENT_NUMERIC_COMPARISON_REQUEST:format+params',
    'SM_EVENT_PAIRING_COMPLETE:format+params',
    'GAP_EVENT_SECURITY_LEVEL:format+params',
    'GAP_EVENT_ADVERTISING_REPORT:format',
    'GAP_EVENT_INQUIRY_RESULT:code+format',
    'GAP_EVENT_INQUIRY_COMPLETE:code',
    'GAP_EVENT_RSSI_MEASUREMENT:code',
    'GAP_EVENT_LOCAL_OOB_DATA:code',
    'GAP_EVENT_PAIRING_STARTED:code',
    'GAP_EVENT_PAIRING_COMPLETE:code',
    // GATT client events: since v1.5 every one carries service_id and connection_id after the handle
    // (the reference tables' GATT rows: H1 -> H221, HX -> H22X, ...)
    'GATT_EVENT_QUERY_COMPLETE:format+params',
    'GATT_EVENT_SERVICE_QUERY_RESULT:format+params',
    'GATT_EVENT_CHARACTERISTIC_QUERY_RESULT:format+params',
    'GATT_EVENT_INCLUDED_SERVICE_QUERY_RESULT:format+params',
    'GATT_EVENT_ALL_CHARACTERISTIC_DESCRIPTORS_QUERY_RESULT:format+params',
    'GATT_EVENT_CHARACTERISTIC_VALUE_QUERY_RESULT:format+params',
    'GATT_EVENT_LONG_CHARACTERISTIC_VALUE_QUERY_RESULT:format+params',
    'GATT_EVENT_NOTIFICATION:format+params',
    'GATT_EVENT_INDICATION:format+params',
    'GATT_EVENT_CHARACTERISTIC_DESCRIPTOR_QUERY_RESULT:format+params',
    'GATT_EVENT_LONG_CHARACTERISTIC_DESCRIPTOR_QUERY_RESULT:format+params',
  ]);
  // v1.4.1 spelling gives the v1.4 getter name
  assert.type(v14.l2cap_event_connection_parameter_update_request_get_latencey, 'function');
  assert.type(v18.l2cap_event_connection_parameter_update_request_get_latency, 'function');
});

test("codes_for returns every export of the profile's module, the same values, in one frozen object", () => {
  for (const [profile, ns] of [
    ['v1.4', v14],
    ['v1.8', v18],
  ] as const) {
    const codes = codes_for(profile);
    // the generated object module lists the names: none missing, none extra (a stale generation fails)
    assert.equal(Object.keys(codes).sort(), Object.keys(ns).sort(), profile);
    for (const name of Object.keys(ns))
      assert.ok(Object.is((codes as Record<string, unknown>)[name], (ns as Record<string, unknown>)[name]), name);
    assert.ok(Object.isFrozen(codes), 'frozen');
    assert.is(codes_for(profile), codes, 'made once');
    assert.is(codes.PROFILE, profile);
  }
  assert.is(codes_for(), codes_for('v1.4'));
  assert.is(DEFAULT_CODE_PROFILE, 'v1.4');
  assert.equal([...CODE_PROFILES], ['v1.4', 'v1.8']);
  assert.ok(is_code_profile('v1.8'));
  assert.not.ok(is_code_profile('v1.5'));
  assert.throws(() => codes_for('v1.5' as CodeProfile), TypeError);
});

// Layer code is written against the union; this must type-check and work with either profile.
function emit_can_send_now(codes: Codes, buf: Uint8Array, cid: number): number {
  const n = codes.l2cap_event_can_send_now_build(buf, 0, cid);
  if (n < 0) return n;
  switch (hci_event_packet_get_type(buf)) {
    case codes.L2CAP_EVENT_CAN_SEND_NOW:
      return codes.l2cap_event_can_send_now_get_local_cid(buf);
    default:
      return -1;
  }
}

test('the Codes union works for layer code (builders, constants in a switch, getters)', () => {
  const buf = new Uint8Array(8);
  assert.is(emit_can_send_now(codes_for('v1.4'), buf, 0x41), 0x41);
  assert.is(buf[0], 0x78);
  assert.is(emit_can_send_now(codes_for('v1.8'), buf, 0x42), 0x42);
  assert.is(buf[0], 0x79);
  assert.is(emit_can_send_now(codes_for('v1.8'), new Uint8Array(3), 1), -0x07);
});

test('decode_event: names and fields (B as AA:BB.., bytes as hex), meta subevents, unknown codes', () => {
  const opened = bytes('70 18 00 EF 32 07 DC 1B 00 40 00 01 10 41 00 52 00 A0 02 FD 03 FF FF 01 03 01');
  for (const c of [v14, v18]) {
    assert.equal(decode_event(c, opened), {
      name: 'L2CAP_EVENT_CHANNEL_OPENED',
      code: 0x70,
      fields: {
        status: 0,
        address: '00:1B:DC:07:32:EF',
        handle: 0x40,
        psm: 0x1001,
        local_cid: 0x41,
        remote_cid: 0x52,
        local_mtu: 672,
        remote_mtu: 1021,
        flush_timeout: 0xffff,
        incoming: 1,
        mode: 3,
        fcs: 1,
      },
    });
  }
  assert.is(event_name(v14, bytes('78 02 41 00')), 'L2CAP_EVENT_CAN_SEND_NOW');
  assert.is(event_name(v18, bytes('78 02 41 00')), 'L2CAP_EVENT_INFORMATION_RESPONSE');
  assert.is(event_name(v18, bytes('79 02 41 00')), 'L2CAP_EVENT_CAN_SEND_NOW');
  assert.is(event_name(v14, bytes('E7 02 00 00')), null, 'no GAP meta event at v1.4.1');
  assert.is(event_name(v14, new Uint8Array(0)), null);

  const le = bytes('3E 13 01 00 40 00 01 01 55 44 33 22 11 C0 18 00 00 00 C8 00 05');
  const d = decode_event(v18, le)!;
  assert.is(d.name, 'HCI_SUBEVENT_LE_CONNECTION_COMPLETE');
  assert.is(d.subevent, 1);
  assert.is(d.fields.peer_address, 'C0:11:22:33:44:55');
  assert.is(d.fields.supervision_timeout, 0xc8);
  assert.not.ok('subevent_code' in d.fields);
  // an unknown LE subevent decodes as the meta event itself
  assert.is(event_name(v14, bytes('3E 02 7F 00')), 'HCI_EVENT_LE_META');

  const adv = bytes('DA 0D 00 01 55 44 33 22 11 C0 C4 03 02 01 06');
  assert.equal(decode_event(v18, adv)!.fields, {
    advertising_event_type: 0,
    address_type: 1,
    address: 'C0:11:22:33:44:55',
    rssi: -60,
    data_length: 3,
    data: '020106',
  });
  assert.is(decode_event(v14, adv)!.fields.rssi, 196, 'v1.4.1 declares rssi unsigned');
  assert.is(decode_event(v14, bytes('92 05 03 53 50 50 00'))!.fields.name, 'SPP');
  assert.equal(decode_event(v18, bytes('E7 08 02 00 07 02 60 00 61 00'))!.fields, {
    status: 0,
    big_handle: 7,
    num_bis: 2,
    bis_con_handles: '96,97',
  });

  // CS subevent result with an array of steps
  const cs = bytes('3E 19 31 78 56 34 12 11 14 13 16 15 17 18 19 1A 1B 02 A1 B1 02 C1 C2 A2 B2 01 D1');
  const f = decode_event(v18, cs)!.fields;
  assert.is(f.frequency_compensation, 0x1516);
  assert.is(f['steps[0].step_mode'], 0xa1);
  assert.is(f['steps[0].step_data'], 'c1c2');
  assert.is(f['steps[1].step_data'], 'd1');
  assert.is(decode_event(v18, cs)!.truncated, undefined);

  assert.equal(decode_event(v14, bytes('02 00')), { name: 'HCI_EVENT_INQUIRY_RESULT', code: 2, fields: {}, truncated: true });
  assert.is(decode_event(v14, bytes('FE 00')), null, 'unknown code');
  assert.equal(
    decode_event(v14, bytes('13 05 01 40 00 01 00')),
    { name: 'HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS', code: 0x13, fields: {} },
    'no @format',
  );
});

test('decode_event: truncated packets and the size argument', () => {
  const opened = bytes('70 18 00 EF 32 07 DC 1B 00 40 00 01 10 41 00 52 00 A0 02 FD 03 FF FF 01 03 01');
  const d = decode_event(v14, opened, 12)!;
  assert.is(d.truncated, true);
  assert.equal(d.fields, { status: 0, address: '00:1B:DC:07:32:EF', handle: 0x40 });
  assert.is(decode_event(v14, opened.slice(0, 1))!.truncated, true);
});

test('format_event: one readable trace line', () => {
  assert.is(format_event(v14, bytes('78 02 41 00')), 'L2CAP_EVENT_CAN_SEND_NOW local_cid=65');
  assert.is(
    format_event(v18, bytes('82 0B EF 32 07 DC 1B 00 01 02 00 40 00')),
    'RFCOMM_EVENT_INCOMING_CONNECTION bd_addr=00:1B:DC:07:32:EF server_channel=1 rfcomm_cid=2 con_handle=64',
  );
  assert.is(format_event(v14, bytes('FE 01 02')), 'EVENT_0xFE fe0102');
  assert.is(format_event(v14, bytes('92 04 03 41 20 42')), 'SDP_EVENT_QUERY_RFCOMM_SERVICE rfcomm_channel=3 name="A B"');
  assert.is(format_event(v14, bytes('70 18 00 EF')), 'L2CAP_EVENT_CHANNEL_OPENED status=0 (truncated)');
});

test('fuzz: decode_event and format_event never throw on random bytes (both profiles)', () => {
  const rnd = prng(0xdec0de);
  let named = 0;
  for (let round = 0; round < 20000; round++) {
    const n = Math.floor(rnd() * 40);
    const pkt = Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
    // bias towards meta events so subevent layouts are exercised
    if (n > 2 && rnd() < 0.3) pkt[0] = rnd() < 0.5 ? 0x3e : 0xe7;
    for (const c of [v14, v18]) {
      const d = decode_event(c, pkt, rnd() < 0.2 ? Math.floor(rnd() * 50) - 5 : undefined);
      if (d) {
        named++;
        for (const v of Object.values(d.fields)) assert.ok(typeof v === 'number' ? Number.isFinite(v) : typeof v === 'string');
      }
      assert.type(format_event(c, pkt), 'string');
    }
  }
  assert.ok(named > 10000, `${named} decoded`);
});

test.run();
