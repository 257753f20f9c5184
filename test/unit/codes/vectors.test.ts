/**
 * Event builders and getters against byte vectors worked out by hand from the @format layouts
 * (BTstack tables) and, for the HCI LE meta event, the Core spec (Vol 4 Part E 7.7.65.1).
 * Layout rule: byte 0 event code, byte 1 parameter length, params from byte 2, multi-byte
 * integers little endian, bd_addr reversed on the wire.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as v14 from '../../../src/codes/v1.4.js';
import * as v18 from '../../../src/codes/v1.8.js';
import { bytes } from './helpers.js';

// Addresses in display order and as they appear on the wire (reversed).
const ADDR = bytes('00 1B DC 07 32 EF'); // 00:1B:DC:07:32:EF -> wire EF 32 07 DC 1B 00
const LE_ADDR = bytes('C0 11 22 33 44 55'); // C0:11:22:33:44:55 -> wire 55 44 33 22 11 C0

function build(f: (buf: Uint8Array, pos: number) => number): Uint8Array {
  const buf = new Uint8Array(300);
  const n = f(buf, 0);
  assert.ok(n > 0, `builder returned ${n}`);
  return buf.slice(0, n);
}

// ------------------------------------------------------------ L2CAP_EVENT_CHANNEL_OPENED
const CHANNEL_OPENED = bytes(
  '70' + //                 event code L2CAP_EVENT_CHANNEL_OPENED (0x70 in v1.4.1 and current)
    '18' + //               parameter length 24 = 1 + 6 + 2*7 + 1*3 (total 26 bytes)
    '00' + //               status 0
    'EF 32 07 DC 1B 00' + // address 00:1B:DC:07:32:EF reversed
    '40 00' + //            handle 0x0040
    '01 10' + //            psm 0x1001
    '41 00' + //            local_cid 0x0041
    '52 00' + //            remote_cid 0x0052
    'A0 02' + //            local_mtu 672 = 0x02A0
    'FD 03' + //            remote_mtu 1021 = 0x03FD
    'FF FF' + //            flush_timeout 0xFFFF (infinite)
    '01' + //               incoming 1
    '03' + //               mode 3 (ERTM)
    '01', //                fcs 1
);

for (const [profile, c] of [
  ['v1.4', v14],
  ['v1.8', v18],
] as const) {
  test(`${profile} L2CAP_EVENT_CHANNEL_OPENED: builder bytes, getters, 26 bytes`, () => {
    assert.is(c.L2CAP_EVENT_CHANNEL_OPENED, 0x70);
    const pkt = build((b, p) =>
      c.l2cap_event_channel_opened_build(b, p, 0, ADDR, 0x0040, 0x1001, 0x0041, 0x0052, 672, 1021, 0xffff, 1, 3, 1),
    );
    assert.equal(pkt, CHANNEL_OPENED);
    assert.is(pkt.length, 26);
    assert.is(c.l2cap_event_channel_opened_get_status(CHANNEL_OPENED), 0);
    assert.equal(c.l2cap_event_channel_opened_get_address(CHANNEL_OPENED), ADDR);
    assert.is(c.l2cap_event_channel_opened_get_handle(CHANNEL_OPENED), 0x0040);
    assert.is(c.l2cap_event_channel_opened_get_psm(CHANNEL_OPENED), 0x1001);
    assert.is(c.l2cap_event_channel_opened_get_local_cid(CHANNEL_OPENED), 0x0041);
    assert.is(c.l2cap_event_channel_opened_get_remote_cid(CHANNEL_OPENED), 0x0052);
    assert.is(c.l2cap_event_channel_opened_get_local_mtu(CHANNEL_OPENED), 672);
    assert.is(c.l2cap_event_channel_opened_get_remote_mtu(CHANNEL_OPENED), 1021);
    assert.is(c.l2cap_event_channel_opened_get_flush_timeout(CHANNEL_OPENED), 0xffff);
    assert.is(c.l2cap_event_channel_opened_get_incoming(CHANNEL_OPENED), 1);
    assert.is(c.l2cap_event_channel_opened_get_mode(CHANNEL_OPENED), 3);
    assert.is(c.l2cap_event_channel_opened_get_fcs(CHANNEL_OPENED), 1);
    const info = c.EVENTS.find((e) => e.name === 'L2CAP_EVENT_CHANNEL_OPENED')!;
    assert.is(info.size, 26);
  });

  // ------------------------------------------------------ L2CAP_EVENT_INCOMING_CONNECTION
  test(`${profile} L2CAP_EVENT_INCOMING_CONNECTION: builder bytes, getters, 16 bytes`, () => {
    const expected = bytes(
      '72' + //                 L2CAP_EVENT_INCOMING_CONNECTION (0x72 in both)
        '0E' + //               parameter length 14 = 6 + 2*4 (total 16 bytes)
        'EF 32 07 DC 1B 00' + // address reversed
        '40 00' + //            handle 0x0040
        '03 00' + //            psm 0x0003 (RFCOMM)
        '41 00' + //            local_cid 0x0041
        '52 00', //             remote_cid 0x0052
    );
    assert.is(c.L2CAP_EVENT_INCOMING_CONNECTION, 0x72);
    const pkt = build((b, p) => c.l2cap_event_incoming_connection_build(b, p, ADDR, 0x0040, 0x0003, 0x0041, 0x0052));
    assert.equal(pkt, expected);
    assert.is(pkt.length, 16);
    assert.equal(c.l2cap_event_incoming_connection_get_address(expected), ADDR);
    assert.is(c.l2cap_event_incoming_connection_get_handle(expected), 0x0040);
    assert.is(c.l2cap_event_incoming_connection_get_psm(expected), 3);
    assert.is(c.l2cap_event_incoming_connection_get_local_cid(expected), 0x0041);
    assert.is(c.l2cap_event_incoming_connection_get_remote_cid(expected), 0x0052);
  });

  // ------------------------------------------------------------ RFCOMM_EVENT_CHANNEL_OPENED
  test(`${profile} RFCOMM_EVENT_CHANNEL_OPENED: builder bytes, getters, 18 bytes`, () => {
    const expected = bytes(
      '80' + //                 RFCOMM_EVENT_CHANNEL_OPENED (0x80 in both)
        '10' + //               parameter length 16: BTstack's event[18] with sizeof - 2
        '00' + //               status 0
        'EF 32 07 DC 1B 00' + // bd_addr reversed
        '40 00' + //            con_handle 0x0040
        '01' + //               server_channel 1
        '02 00' + //            rfcomm_cid 0x0002
        'F3 03' + //            max_frame_size 1011 = 0x03F3
        '00' + //               incoming 0
        '00', //                reserved trailing byte (format 1B21221 = 15 param bytes, notes: total 18)
    );
    assert.is(c.RFCOMM_EVENT_CHANNEL_OPENED, 0x80);
    const pkt = build((b, p) => c.rfcomm_event_channel_opened_build(b, p, 0, ADDR, 0x0040, 1, 0x0002, 1011, 0));
    assert.equal(pkt, expected);
    assert.is(pkt.length, 18);
    assert.is(c.rfcomm_event_channel_opened_get_status(expected), 0);
    assert.equal(c.rfcomm_event_channel_opened_get_bd_addr(expected), ADDR);
    assert.is(c.rfcomm_event_channel_opened_get_con_handle(expected), 0x0040);
    assert.is(c.rfcomm_event_channel_opened_get_server_channel(expected), 1);
    assert.is(c.rfcomm_event_channel_opened_get_rfcomm_cid(expected), 2);
    assert.is(c.rfcomm_event_channel_opened_get_max_frame_size(expected), 1011);
    assert.is(c.rfcomm_event_channel_opened_get_incoming(expected), 0);
    // a builder into a dirty buffer still writes the reserved byte as 0
    const dirty = new Uint8Array(18).fill(0xee);
    assert.is(c.rfcomm_event_channel_opened_build(dirty, 0, 0, ADDR, 0x0040, 1, 0x0002, 1011, 0), 18);
    assert.equal(dirty, expected);
  });
}

// ---------------------------------------------------------------- L2CAP_EVENT_CAN_SEND_NOW
test('L2CAP_EVENT_CAN_SEND_NOW is 0x78 in v1.4 and 0x79 in v1.8 (4 bytes)', () => {
  const old = bytes('78 02 41 00'); // code 0x78, length 2, local_cid 0x0041
  const cur = bytes('79 02 41 00'); // code 0x79 since v1.5.0
  assert.is(v14.L2CAP_EVENT_CAN_SEND_NOW, 0x78);
  assert.is(v18.L2CAP_EVENT_CAN_SEND_NOW, 0x79);
  assert.equal(
    build((b, p) => v14.l2cap_event_can_send_now_build(b, p, 0x0041)),
    old,
  );
  assert.equal(
    build((b, p) => v18.l2cap_event_can_send_now_build(b, p, 0x0041)),
    cur,
  );
  assert.is(v14.l2cap_event_can_send_now_get_local_cid(old), 0x41);
  assert.is(v18.l2cap_event_can_send_now_get_local_cid(cur), 0x41);
  // in v1.8, 0x78 is L2CAP_EVENT_INFORMATION_RESPONSE; in v1.4 0x79 was L2CAP_EVENT_LE_INCOMING_CONNECTION
  assert.is(v18.L2CAP_EVENT_INFORMATION_RESPONSE, 0x78);
  assert.is(v14.L2CAP_EVENT_LE_INCOMING_CONNECTION, 0x79);
});

// --------------------------------------------------------- RFCOMM_EVENT_INCOMING_CONNECTION
test('RFCOMM_EVENT_INCOMING_CONNECTION: B12 (11 bytes) in v1.4, B12H (13 bytes) in v1.8', () => {
  const old = bytes(
    '82' + //                 RFCOMM_EVENT_INCOMING_CONNECTION
      '09' + //               length 9 = 6 + 1 + 2
      'EF 32 07 DC 1B 00' + // bd_addr reversed
      '01' + //               server_channel 1
      '02 00', //             rfcomm_cid 0x0002
  );
  const cur = bytes('82 0B EF 32 07 DC 1B 00 01 02 00' + '40 00'); // length 11, then con_handle 0x0040
  assert.equal(
    build((b, p) => v14.rfcomm_event_incoming_connection_build(b, p, ADDR, 1, 2)),
    old,
  );
  assert.equal(
    build((b, p) => v18.rfcomm_event_incoming_connection_build(b, p, ADDR, 1, 2, 0x0040)),
    cur,
  );
  assert.equal(v14.rfcomm_event_incoming_connection_get_bd_addr(old), ADDR);
  assert.is(v14.rfcomm_event_incoming_connection_get_server_channel(old), 1);
  assert.is(v14.rfcomm_event_incoming_connection_get_rfcomm_cid(old), 2);
  assert.is(v18.rfcomm_event_incoming_connection_get_con_handle(cur), 0x0040);
  assert.is(v18.rfcomm_event_incoming_connection_get_rfcomm_cid(cur), 2);
  assert.not.ok('rfcomm_event_incoming_connection_get_con_handle' in v14);
});

// ------------------------------------------------------------- LE meta: connection complete
test('HCI_SUBEVENT_LE_CONNECTION_COMPLETE (meta 0x3E/0x01): builder writes the subevent code, getters skip it', () => {
  const expected = bytes(
    '3E' + //                 HCI_EVENT_LE_META
      '13' + //               parameter length 19
      '01' + //               subevent code HCI_SUBEVENT_LE_CONNECTION_COMPLETE
      '00' + //               status 0
      '40 00' + //            connection_handle 0x0040
      '01' + //               role 1 (peripheral)
      '01' + //               peer_address_type 1 (random)
      '55 44 33 22 11 C0' + // peer_address C0:11:22:33:44:55 reversed
      '18 00' + //            conn_interval 0x0018 (30 ms)
      '00 00' + //            conn_latency 0
      'C8 00' + //            supervision_timeout 0x00C8 (2 s)
      '05', //                master_clock_accuracy 5
  );
  for (const c of [v14, v18]) {
    assert.is(c.HCI_EVENT_LE_META, 0x3e);
    assert.is(c.HCI_SUBEVENT_LE_CONNECTION_COMPLETE, 0x01);
    const pkt = build((b, p) => c.hci_subevent_le_connection_complete_build(b, p, 0, 0x0040, 1, 1, LE_ADDR, 0x18, 0, 0xc8, 5));
    assert.equal(pkt, expected);
    assert.is(pkt.length, 21);
    assert.is(c.hci_event_le_meta_get_subevent_code(expected), 0x01);
    assert.is(c.hci_subevent_le_connection_complete_get_status(expected), 0);
    assert.is(c.hci_subevent_le_connection_complete_get_connection_handle(expected), 0x40);
    assert.is(c.hci_subevent_le_connection_complete_get_role(expected), 1);
    assert.is(c.hci_subevent_le_connection_complete_get_peer_address_type(expected), 1);
    assert.equal(c.hci_subevent_le_connection_complete_get_peer_address(expected), LE_ADDR);
    assert.is(c.hci_subevent_le_connection_complete_get_conn_interval(expected), 0x18);
    assert.is(c.hci_subevent_le_connection_complete_get_conn_latency(expected), 0);
    assert.is(c.hci_subevent_le_connection_complete_get_supervision_timeout(expected), 0xc8);
    assert.is(c.hci_subevent_le_connection_complete_get_master_clock_accuracy(expected), 5);
    assert.not.ok('hci_subevent_le_connection_complete_get_subevent_code' in c);
  }
});

test('GAP meta 0xE7 (v1.8): GAP_SUBEVENT_BIG_CREATED with a C array', () => {
  const expected = bytes(
    'E7' + //   HCI_EVENT_META_GAP
      '08' + // length 8 = subevent 1 + status 1 + big_handle 1 + num_bis 1 + 2 * 2
      '02' + // GAP_SUBEVENT_BIG_CREATED
      '00' + // status
      '07' + // big_handle
      '02' + // num_bis 2
      '60 00' + // bis_con_handles[0] 0x0060
      '61 00', //  bis_con_handles[1] 0x0061
  );
  assert.is(v18.HCI_EVENT_META_GAP, 0xe7);
  assert.equal(
    build((b, p) => v18.gap_subevent_big_created_build(b, p, 0, 7, 2, [0x60, 0x61])),
    expected,
  );
  assert.is(v18.hci_event_gap_meta_get_subevent_code(expected), 0x02);
  assert.is(v18.gap_subevent_big_created_get_num_bis(expected), 2);
  assert.is(v18.gap_subevent_big_created_get_bis_con_handles(expected, 0), 0x60);
  assert.is(v18.gap_subevent_big_created_get_bis_con_handles(expected, 1), 0x61);
  assert.is(v18.gap_subevent_big_created_get_bis_con_handles(expected, 2), 0, 'index past num_bis');
});

// ------------------------------------------------------------------------ J/V: adv report
test('GAP_EVENT_ADVERTISING_REPORT (J/V): rssi unsigned in v1.4 (format 1), signed in v1.8 (format a)', () => {
  const expected = bytes(
    'DA' + //                 GAP_EVENT_ADVERTISING_REPORT
      '0D' + //               length 13 = 1 + 1 + 6 + 1 + 1 + 3
      '00' + //               advertising_event_type 0 (ADV_IND)
      '01' + //               address_type 1
      '55 44 33 22 11 C0' + // address C0:11:22:33:44:55 reversed
      'C4' + //               rssi -60 = 0xC4
      '03' + //               data_length 3 (J, computed from data)
      '02 01 06', //          data: AD flags
  );
  const data = bytes('02 01 06');
  for (const c of [v14, v18]) {
    assert.equal(
      build((b, p) => c.gap_event_advertising_report_build(b, p, 0, 1, LE_ADDR, -60, data)),
      expected,
    );
    assert.is(c.gap_event_advertising_report_get_advertising_event_type(expected), 0);
    assert.is(c.gap_event_advertising_report_get_address_type(expected), 1);
    assert.equal(c.gap_event_advertising_report_get_address(expected), LE_ADDR);
    assert.is(c.gap_event_advertising_report_get_data_length(expected), 3);
    assert.equal(c.gap_event_advertising_report_get_data(expected), data);
  }
  assert.is(v14.gap_event_advertising_report_get_rssi(expected), 0xc4);
  assert.is(v18.gap_event_advertising_report_get_rssi(expected), -60);
  // the data getter is a view into the packet, not a copy
  const view = v18.gap_event_advertising_report_get_data(expected);
  assert.is(view.buffer, expected.buffer);
  // a length byte that claims more data than the packet holds gives an empty view
  const lying = expected.slice();
  lying[11] = 9;
  assert.is(v18.gap_event_advertising_report_get_data(lying).length, 0);
});

test('SDP_EVENT_QUERY_RFCOMM_SERVICE (T): zero-terminated name, length counts the terminator', () => {
  const expected = bytes(
    '92' + //         SDP_EVENT_QUERY_RFCOMM_SERVICE
      '05' + //       length 5 = channel 1 + "SPP" 3 + terminator 1
      '03' + //       rfcomm_channel 3
      '53 50 50' + // "SPP"
      '00', //        terminator
  );
  assert.equal(
    build((b, p) => v14.sdp_event_query_rfcomm_service_build(b, p, 3, 'SPP')),
    expected,
  );
  assert.is(v14.sdp_event_query_rfcomm_service_get_rfcomm_channel(expected), 3);
  assert.is(v14.sdp_event_query_rfcomm_service_get_name(expected), 'SPP');
});

test('HCI_EVENT_COMMAND_COMPLETE (R): return parameters are the rest of the event', () => {
  // Command Complete for HCI_Reset (opcode 0x0C03): num packets 1, opcode 03 0C, status 0
  const expected = bytes('0E 04 01 03 0C 00');
  assert.equal(
    build((b, p) => v14.hci_event_command_complete_build(b, p, 1, 0x0c03, bytes('00'))),
    expected,
  );
  assert.is(v14.hci_event_command_complete_get_num_hci_command_packets(expected), 1);
  assert.is(v14.hci_event_command_complete_get_command_opcode(expected), 0x0c03);
  assert.equal(v14.hci_event_command_complete_get_return_parameters(expected), bytes('00'));
  // R stops at the end of the event given by the length byte, not at the end of the buffer
  const in_big_buffer = new Uint8Array(64).fill(0xaa);
  in_big_buffer.set(expected);
  assert.equal(v14.hci_event_command_complete_get_return_parameters(in_big_buffer), bytes('00'));
});

test('HCI_EVENT_REMOTE_NAME_REQUEST_COMPLETE (N): 248-byte name field, zero padded', () => {
  const buf = new Uint8Array(257).fill(0xff);
  assert.is(v14.hci_event_remote_name_request_complete_build(buf, 0, 0, ADDR, 'Héllo'), 257);
  // code 07, length 255 = 1 + 6 + 248, status 0, address, 'H' 'é'(C3 A9) 'l' 'l' 'o', then zeros
  assert.equal(buf.subarray(0, 16), bytes('07 FF 00 EF 32 07 DC 1B 00 48 C3 A9 6C 6C 6F 00'));
  assert.ok(buf.subarray(15).every((b) => b === 0));
  assert.is(v14.hci_event_remote_name_request_complete_get_remote_name(buf), 'Héllo');
  // a 248-byte name fills the field without a terminator; whole characters only
  assert.is(v14.hci_event_remote_name_request_complete_build(buf, 0, 0, ADDR, 'x'.repeat(247) + 'é'), 257);
  assert.is(v14.hci_event_remote_name_request_complete_get_remote_name(buf), 'x'.repeat(247), 'é does not fit in 1 byte');
  assert.is(buf[256], 0);
});

test('K/Q keys are reversed on the wire and by the getter', () => {
  // HCI_SUBEVENT_LE_GENERATE_DHKEY_COMPLETE 11Q: status, dhkey (32 bytes)
  const key = new Uint8Array(32).map((_, i) => i + 1); // 01 02 .. 20
  const pkt = build((b, p) => v14.hci_subevent_le_generate_dhkey_complete_build(b, p, 0, key));
  assert.is(pkt.length, 2 + 1 + 1 + 32);
  assert.equal(pkt.subarray(0, 5), bytes('3E 22 09 00 20')); // length 34, subevent 0x09, status 0, last key byte first
  assert.is(pkt[35], 0x01);
  assert.equal(v14.hci_subevent_le_generate_dhkey_complete_get_dhkey(pkt), key);
});

test('builder at an offset writes only its own bytes', () => {
  const buf = new Uint8Array(10).fill(0x55);
  assert.is(v14.l2cap_event_can_send_now_build(buf, 3, 0x1234), 4);
  assert.equal(buf, bytes('55 55 55 78 02 34 12 55 55 55'));
});

test.run();
