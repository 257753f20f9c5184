/**
 * LE fixed channels (Core v5.4 Vol 3 Part A 2.1 Table 2.3: ATT 0x0004, LE signalling 0x0005, SM
 * 0x0006) with BTstack's API (l2cap_register_fixed_channel, l2cap_can_send_fixed_channel_packet_now,
 * l2cap_request_can_send_fix_channel_now_event, l2cap_send_connectionless): delivery types and
 * channel argument, the B-frame bytes on the wire (3.1: length, CID, payload), statuses, and
 * L2CAP_EVENT_CAN_SEND_NOW in both profiles (v1.4: 0x78, v1.8: 0x79; local_cid = the fixed CID).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, makeHarness, HANDLE, linkUp } from './l2cap-harness.js';
import { LE_HANDLE, leLinkUp, lePdu, sent } from './le-harness.js';

test('a PDU on CID 0x0004 reaches the ATT handler as ATT_DATA_PACKET with channel = con_handle; 0x0006 as SM_DATA_PACKET', () => {
  const h = makeHarness('v1.4');
  h.l2cap.l2cap_register_fixed_channel(h.handler, 0x0004);
  h.l2cap.l2cap_register_fixed_channel(h.handler, 0x0006);
  leLinkUp(h);
  lePdu(h, 0x0004, '02 17 00'); // ATT Exchange MTU Request, MTU 23 (Vol 3 Part F 3.4.2.1)
  lePdu(h, 0x0006, '01 03 00 01 10 07 07'); // SM Pairing Request (Vol 3 Part H 3.5.1)
  assert.equal(
    h.events.map((e) => [e.type, e.channel, e.bytes]),
    [
      [0x08, LE_HANDLE, '02 17 00'],
      [0x09, LE_HANDLE, '01 03 00 01 10 07 07'],
    ],
  );
});

test('a PDU for a fixed CID without a handler is dropped with a log line; an unregistered ATT PDU too', () => {
  const h = makeHarness('v1.4');
  leLinkUp(h);
  lePdu(h, 0x0003, 'aa');
  lePdu(h, 0x0004, '02 17 00');
  assert.equal(h.events, []);
  assert.ok(h.log.some((l) => l.includes('fixed CID 0x3') && l.includes('dropped')));
  assert.ok(h.log.some((l) => l.includes('fixed CID 0x4') && l.includes('dropped')));
  assert.equal(sent(h), [], 'nothing answered on a fixed data channel');
});

test('l2cap_send_connectionless(con_handle, 0x0004, ...): one B-frame "len cid payload", ACL PB 0b00, statuses', () => {
  const h = makeHarness('v1.4');
  leLinkUp(h);
  assert.is(h.l2cap.l2cap_can_send_fixed_channel_packet_now(LE_HANDLE, 4), true);
  assert.is(h.l2cap.l2cap_send_connectionless(LE_HANDLE, 0x0004, fromHex('03 17 00 ff'), 3), 0);
  assert.equal(h.hci.aclHeaders(), ['41 00 07 00']);
  assert.equal(h.hci.take(), ['03 00 04 00 03 17 00']);
  assert.is(h.l2cap.l2cap_send_connectionless(0x0999, 0x0004, fromHex('01'), 1), 0x02, 'unknown connection');
  h.hci.hci_reserve_packet_buffer();
  assert.is(h.l2cap.l2cap_can_send_fixed_channel_packet_now(LE_HANDLE, 4), false);
  assert.is(h.l2cap.l2cap_send_connectionless(LE_HANDLE, 0x0004, fromHex('01'), 1), 0x57, 'BTSTACK_ACL_BUFFERS_FULL');
  h.hci.hci_release_packet_buffer();
  assert.is(h.l2cap.l2cap_send_connectionless(LE_HANDLE, 0x0004, new Uint8Array(70000), 70000), 0x6c, 'longer than a PDU');
});

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: l2cap_request_can_send_fix_channel_now_event gives exactly one CAN_SEND_NOW, from the run loop`, () => {
    const h = makeHarness(profile);
    h.l2cap.l2cap_register_fixed_channel(h.handler, 0x0004);
    leLinkUp(h);
    h.l2cap.l2cap_request_can_send_fix_channel_now_event(LE_HANDLE, 0x0004);
    h.l2cap.l2cap_request_can_send_fix_channel_now_event(LE_HANDLE, 0x0004);
    assert.equal(h.events, [], 'not inside the call');
    h.loop.run(0);
    // L2CAP_EVENT_CAN_SEND_NOW: code, length 2, local_cid 0x0004
    const code = profile === 'v1.4' ? '78' : '79';
    assert.equal(
      h.events.map((e) => [e.type, e.channel, e.bytes]),
      [[0x04, LE_HANDLE, `${code} 02 04 00`]],
    );
    h.loop.run(0);
    assert.is(h.events.length, 1, 'one event per request');
  });
}

test('can-send-now waits while HCI has no buffer, then comes', () => {
  const h = makeHarness('v1.8');
  h.l2cap.l2cap_register_fixed_channel(h.handler, 0x0006);
  leLinkUp(h);
  h.hci.credits = 0;
  h.l2cap.l2cap_request_can_send_fix_channel_now_event(LE_HANDLE, 0x0006);
  h.loop.run(0);
  assert.equal(h.events, []);
  h.hci.complete(LE_HANDLE, 1);
  h.loop.run(0);
  assert.equal(
    h.events.map((e) => e.bytes),
    ['79 02 06 00'],
  );
});

test('LE links do not disturb classic ones; the LE link record goes with Disconnection Complete', () => {
  const h = makeHarness('v1.4');
  linkUp(h);
  leLinkUp(h);
  assert.is(h.l2cap.state.le.linkPool.in_use, 1);
  assert.is(h.l2cap.state.linkPool.in_use, 1);
  h.hci.disconnectionComplete(LE_HANDLE);
  h.hci.disconnectionComplete(HANDLE);
  h.loop.run(0);
  assert.ok(h.pools.all_free());
});

test.run();
