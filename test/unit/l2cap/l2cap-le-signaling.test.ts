/**
 * LE signalling on CID 0x0005 (Core v5.4 Vol 3 Part A 4): Connection Parameter Update Request /
 * Response both ways (4.20, 4.21), Command Reject for what this host does not handle (4.1),
 * signalling MTU (MTUsig 23 on LE-U), identifier 0, every request answered once. C-frames are
 * written by hand from the spec: basic header (length, CID 0x0005), then code, identifier,
 * length, data, little endian.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeHarness, type Harness } from './l2cap-harness.js';
import { LE_HANDLE, leLinkUp, leSig, sent } from './le-harness.js';

function central(profile: 'v1.4' | 'v1.8' = 'v1.4'): Harness & { updates: number[][] } {
  const h = makeHarness(profile) as Harness & { updates: number[][] };
  h.updates = [];
  (h.hci.gap as Record<string, unknown>).gap_update_connection_parameters = (...a: number[]) => {
    h.updates.push(a);
    return 0;
  };
  h.l2cap.l2cap_add_event_handler({ callback: h.handler });
  leLinkUp(h, LE_HANDLE, 0);
  return h;
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile} central: Connection Parameter Update Request in range -> Response 0 accepted, REQUEST event, LE Connection Update`, () => {
    const h = central(profile);
    // code 0x12, id 1, length 8: interval min 6 (7.5 ms), max 12 (15 ms), latency 0, timeout 200 (2 s)
    leSig(h, '12 01 08 00 06 00 0c 00 00 00 c8 00');
    // response: length 6, CID 5; code 0x13, id 1, length 2, result 0x0000
    assert.equal(sent(h), ['06 00 05 00 13 01 02 00 00 00']);
    // L2CAP_EVENT_CONNECTION_PARAMETER_UPDATE_REQUEST (0x76): handle, min, max, latency, timeout
    assert.equal(
      h.events.map((e) => e.bytes),
      ['76 0a 41 00 06 00 0c 00 00 00 c8 00'],
    );
    assert.equal(h.updates, [[LE_HANDLE, 6, 12, 0, 200]]);
  });
}

test('central: parameters outside the range (interval min 2 < 6, min > max) -> result 1 rejected, no update', () => {
  const h = central();
  leSig(h, '12 02 08 00 02 00 0c 00 00 00 c8 00');
  leSig(h, '12 03 08 00 20 00 10 00 00 00 c8 00');
  assert.equal(sent(h), ['06 00 05 00 13 02 02 00 01 00', '06 00 05 00 13 03 02 00 01 00']);
  assert.equal(h.updates, []);
  assert.is(h.events.length, 2, 'the REQUEST event still reports each request');
});

test('central, auto accept off: the application answers with l2cap_connection_parameter_update_response', () => {
  const h = central('v1.8');
  h.l2cap.l2cap_set_connection_parameter_update_auto_accept(false);
  leSig(h, '12 04 08 00 06 00 0c 00 00 00 c8 00');
  assert.equal(sent(h), []);
  assert.is(h.l2cap.l2cap_connection_parameter_update_response(LE_HANDLE, false), 0);
  assert.equal(sent(h), ['06 00 05 00 13 04 02 00 01 00']);
  assert.is(h.l2cap.l2cap_connection_parameter_update_response(LE_HANDLE, true), 0x02, 'nothing pending');
});

test('peripheral: a Connection Parameter Update Request is answered with Command Reject "not understood" (4.20)', () => {
  const h = makeHarness('v1.4');
  leLinkUp(h, LE_HANDLE, 1);
  leSig(h, '12 05 08 00 06 00 0c 00 00 00 c8 00');
  // Command Reject: code 0x01, id 5, length 2, reason 0x0000
  assert.equal(sent(h), ['06 00 05 00 01 05 02 00 00 00']);
});

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile} peripheral: l2cap_request_connection_parameter_update sends the request; the response becomes the RESPONSE event`, () => {
    const h = makeHarness(profile);
    h.l2cap.l2cap_register_packet_handler(h.handler);
    leLinkUp(h, LE_HANDLE, 1);
    assert.is(h.l2cap.l2cap_request_connection_parameter_update(LE_HANDLE, 0x18, 0x28, 4, 600), 0);
    // length 12, CID 5; code 0x12, id 1, length 8, 0x0018, 0x0028, 0x0004, 0x0258
    assert.equal(sent(h), ['0c 00 05 00 12 01 08 00 18 00 28 00 04 00 58 02']);
    leSig(h, '13 01 02 00 01 00');
    h.loop.run(0);
    // L2CAP_EVENT_CONNECTION_PARAMETER_UPDATE_RESPONSE (0x77): handle 0x0041, result 1
    assert.equal(
      h.events.map((e) => e.bytes),
      ['77 04 41 00 01 00'],
    );
    leSig(h, '13 01 02 00 00 00');
    h.loop.run(0);
    assert.is(h.events.length, 1, 'a response without a request is dropped');
    assert.is(h.l2cap.l2cap_request_connection_parameter_update(0x0999, 6, 6, 0, 100), 0x02);
  });
}

test('peripheral: GAP hands over its request with L2CAP_EVENT_TRIGGER_RUN (gap_request_connection_parameter_update)', () => {
  const h = makeHarness('v1.8');
  leLinkUp(h, LE_HANDLE, 1);
  const pending = [
    { con_handle: LE_HANDLE, conn_interval_min: 6, conn_interval_max: 6, conn_latency: 0, supervision_timeout: 100 },
  ];
  (h.hci.gap as Record<string, unknown>).gap_le_take_connection_parameter_update_request = () => pending.shift() ?? null;
  h.hci.event(new Uint8Array([0x7e, 0])); // v1.8 L2CAP_EVENT_TRIGGER_RUN
  assert.equal(sent(h), ['0c 00 05 00 12 01 08 00 06 00 06 00 00 00 64 00']);
});

test('a peripheral request answered with Command Reject reports result 1', () => {
  const h = makeHarness('v1.4');
  h.l2cap.l2cap_register_packet_handler(h.handler);
  leLinkUp(h, LE_HANDLE, 1);
  h.l2cap.l2cap_request_connection_parameter_update(LE_HANDLE, 6, 6, 0, 100);
  sent(h);
  leSig(h, '01 01 02 00 00 00');
  h.loop.run(0);
  assert.equal(
    h.events.map((e) => e.bytes),
    ['77 04 41 00 01 00'],
  );
});

test('requests this host does not handle on LE get Command Reject "not understood": BR/EDR Connection, Echo, Information, unknown codes', () => {
  const h = makeHarness('v1.4');
  leLinkUp(h);
  leSig(h, '02 01 04 00 01 00 40 00'); // Connection Request (BR/EDR only)
  leSig(h, '08 02 00 00'); // Echo Request
  leSig(h, '0a 03 02 00 02 00'); // Information Request
  leSig(h, '1b 04 00 00'); // unassigned code
  leSig(h, '00 05 00 00'); // code 0 (reserved)
  assert.equal(sent(h), [
    '06 00 05 00 01 01 02 00 00 00',
    '06 00 05 00 01 02 02 00 00 00',
    '06 00 05 00 01 03 02 00 00 00',
    '06 00 05 00 01 04 02 00 00 00',
    '06 00 05 00 01 05 02 00 00 00',
  ]);
});

test('v1.4 profile: ECBM requests (0x17, 0x19) are unknown to BTstack 1.4.1: Command Reject', () => {
  const h = makeHarness('v1.4');
  leLinkUp(h);
  leSig(h, '17 06 0a 00 80 00 40 00 40 00 05 00 40 00');
  assert.equal(sent(h), ['06 00 05 00 01 06 02 00 00 00']);
});

test('wrong lengths: a request gets "not understood", a response is dropped; a truncated frame and identifier 0 are dropped', () => {
  const h = makeHarness('v1.4');
  leLinkUp(h);
  leSig(h, '12 07 06 00 06 00 0c 00 00 00'); // CPU request with length 6
  leSig(h, '14 08 0c 00 80 00 40 00 17 00 17 00 01 00 00 00'); // LE CB request with length 12
  leSig(h, '12 09 08 00 06 00'); // length says 8, frame has 2
  leSig(h, '13 0a 04 00 00 00 00 00'); // CPU response with length 4
  leSig(h, '12 00 08 00 06 00 0c 00 00 00 c8 00'); // identifier 0
  leSig(h, '12 0b'); // no complete header
  assert.equal(sent(h), ['06 00 05 00 01 07 02 00 00 00', '06 00 05 00 01 08 02 00 00 00', '06 00 05 00 01 09 02 00 00 00']);
});

test('a C-frame over MTUsig 23 gets Command Reject "signaling MTU exceeded" with MTUsig 0x0017', () => {
  const h = makeHarness('v1.4');
  leLinkUp(h);
  leSig(h, '08 0c 14 00' + ' 00'.repeat(20)); // 24 octets
  // reason 0x0001, data: MTUsig 0x0017
  assert.equal(sent(h), ['08 00 05 00 01 0c 04 00 01 00 17 00']);
});

test('Disconnection Request for a channel that does not exist: Command Reject "invalid CID" naming DCID and SCID', () => {
  const h = makeHarness('v1.8');
  leLinkUp(h);
  leSig(h, '06 0d 04 00 40 00 41 00');
  // reason 0x0002, local endpoint 0x0040 (the request's DCID), remote endpoint 0x0041 (its SCID)
  assert.equal(sent(h), ['0a 00 05 00 01 0d 06 00 02 00 40 00 41 00']);
});

test('every request is answered once, however fast they come: 300 requests while HCI has no buffer', () => {
  const h = makeHarness('v1.4');
  leLinkUp(h);
  h.hci.credits = 0;
  for (let i = 0; i < 300; i++) leSig(h, `08 ${(1 + (i % 255)).toString(16).padStart(2, '0')} 00 00`);
  h.loop.run(0);
  h.hci.credits = 1000;
  h.hci.complete(LE_HANDLE, 0);
  const out = sent(h);
  assert.is(out.length, 300);
  const ids = out.map((p) => p.split(' ')[5]).sort();
  const want = Array.from({ length: 300 }, (_, i) => (1 + (i % 255)).toString(16).padStart(2, '0')).sort();
  assert.equal(ids, want);
  assert.ok(out.every((p) => p.startsWith('06 00 05 00 01 ')));
});

test.run();
