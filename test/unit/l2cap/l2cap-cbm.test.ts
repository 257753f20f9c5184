/**
 * LE Credit Based Flow Control Mode (Core v5.4 Vol 3 Part A 10.1; signalling 4.22-4.24; K-frames
 * 3.4) with BTstack's API in both profiles: v1.4 events L2CAP_EVENT_LE_* (0x79-0x7D), v1.8
 * L2CAP_EVENT_CBM_* / CHANNEL_CLOSED / CAN_SEND_NOW / PACKET_SENT. Every vector is written by hand
 * from the spec (C-frames on CID 0x0005: code, id, length, data) and BTstack's event layouts
 * (../shared/reference: 1BH2222 incoming, 11BH122222 opened, 2 closed / can send / sent).
 * Remote address 11:22:33:44:55:66 appears reversed in events (66 55 44 33 22 11).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, makeHarness, type Harness } from './l2cap-harness.js';
import { LE_HANDLE, leLinkUp, lePdu, leSig, sent } from './le-harness.js';

const SPSM = 0x0080;
const ADDR = '66 55 44 33 22 11';

/** An LE link (peer address type 0, public) with a CBM service on SPSM 0x0080. */
function server(profile: 'v1.4' | 'v1.8', config = {}): Harness {
  const h = makeHarness(profile, config);
  assert.is(h.l2cap.l2cap_cbm_register_service(h.handler, SPSM, 0), 0);
  leLinkUp(h, LE_HANDLE, 1, undefined, 0);
  return h;
}

/** Incoming request SCID 0x0040, MTU 100, MPS 23, 10 credits, accepted with MTU 200 and 5 credits. */
function opened(profile: 'v1.4' | 'v1.8', credits = 10): { h: Harness; rx: Uint8Array } {
  const h = server(profile);
  leSig(h, `14 01 0a 00 80 00 40 00 64 00 17 00 ${credits.toString(16).padStart(2, '0')} 00`);
  const rx = new Uint8Array(200);
  assert.is(h.l2cap.l2cap_le_accept_connection(0x40, rx, 200, 5), 0);
  sent(h);
  h.events.length = 0;
  return { h, rx };
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: incoming LE Credit Based Connection Request -> INCOMING event; accept -> Response and OPENED event`, () => {
    const h = server(profile);
    // code 0x14, id 1, length 10: SPSM 0x0080, SCID 0x0040, MTU 100, MPS 23, credits 10
    leSig(h, '14 01 0a 00 80 00 40 00 64 00 17 00 0a 00');
    h.loop.run(0);
    // incoming: address_type (v1.4: always 1, as BTstack 1.4.1 hard-codes), address, handle 0x0041,
    // psm 0x0080, local cid 0x0040, remote cid 0x0040, remote mtu 100
    const incoming =
      profile === 'v1.4' ? `79 11 01 ${ADDR} 41 00 80 00 40 00 40 00 64 00` : `7c 11 00 ${ADDR} 41 00 80 00 40 00 40 00 64 00`;
    assert.equal(
      h.events.map((e) => [e.channel, e.bytes]),
      [[0x40, incoming]],
    );
    assert.equal(sent(h), [], 'no response before the application decides');
    assert.is(h.l2cap.l2cap_cbm_accept_connection(0x40, new Uint8Array(200), 200, 5), 0);
    // response: code 0x15, id 1, length 10: DCID 0x0040, MTU 200, MPS 202, credits 5, result 0
    assert.equal(sent(h), ['0e 00 05 00 15 01 0a 00 40 00 c8 00 ca 00 05 00 00 00']);
    // opened: status 0, address_type 0, address, handle, incoming 1, psm, local cid, remote cid, local mtu 200, remote mtu 100
    const code = profile === 'v1.4' ? '7a' : '7d';
    assert.equal(h.events[1]!.bytes, `${code} 15 00 00 ${ADDR} 41 00 01 80 00 40 00 40 00 c8 00 64 00`);
  });

  test(`${profile}: K-frames reassembled into the receive buffer (SDU length in the first), credits returned automatically`, () => {
    const h = server(profile);
    leSig(h, '14 01 0a 00 80 00 40 00 64 00 17 00 0a 00');
    const rx = new Uint8Array(200);
    h.l2cap.l2cap_cbm_accept_connection(0x40, rx, 200, 0xffff); // L2CAP_LE_AUTOMATIC_CREDITS: 10 granted
    assert.equal(sent(h), ['0e 00 05 00 15 01 0a 00 40 00 c8 00 ca 00 0a 00 00 00']);
    h.events.length = 0;
    lePdu(h, 0x0040, '08 00 01 02 03'); // SDU length 8, first 3 octets
    lePdu(h, 0x0040, '04 05 06 07 08');
    assert.equal(
      h.events.map((e) => [e.type, e.channel, e.bytes]),
      [[0x06, 0x40, '01 02 03 04 05 06 07 08']],
    );
    for (let i = 0; i < 4; i++) lePdu(h, 0x0040, '01 00 aa');
    // 10 - 6 = 4 < watermark 5: 5 more credits, Flow Control Credit Indication: code 0x16, CID 0x0040, credits 5
    assert.equal(sent(h), ['08 00 05 00 16 01 04 00 40 00 05 00']);
  });

  test(`${profile}: sending segments an SDU into K-frames of the remote's MPS, one credit each, then PACKET_SENT and CAN_SEND_NOW`, () => {
    const { h } = opened(profile, 2);
    const sdu = Uint8Array.from({ length: 60 }, (_, i) => i);
    h.l2cap.l2cap_le_request_can_send_now_event(0x40);
    h.loop.run(0);
    const can = profile === 'v1.4' ? '7c 02 40 00' : '79 02 40 00';
    assert.equal(
      h.events.map((e) => e.bytes),
      [can],
    );
    assert.is(h.l2cap.l2cap_le_send_data(0x40, new Uint8Array(101)), 0x6c, 'longer than the remote MTU 100');
    assert.is(h.l2cap.l2cap_le_send_data(0x40, sdu), 0);
    assert.is(h.l2cap.l2cap_le_send_data(0x40, sdu), 0x57, 'one SDU at a time');
    assert.is(h.l2cap.l2cap_le_can_send_now(0x40), false);
    const out = sent(h);
    // MPS 23: first K-frame = SDU length (60) + 21 octets; the second 23 octets; then no credit left
    assert.equal(out, [
      '17 00 40 00 3c 00 ' + Array.from(sdu.subarray(0, 21), (b) => b.toString(16).padStart(2, '0')).join(' '),
      '17 00 40 00 ' + Array.from(sdu.subarray(21, 44), (b) => b.toString(16).padStart(2, '0')).join(' '),
    ]);
    assert.is(h.l2cap.l2cap_cbm_available_credits(0x40), 0);
    leSig(h, '16 05 04 00 40 00 03 00'); // 3 credits for our channel (its CID on the remote: 0x0040)
    assert.equal(sent(h), ['10 00 40 00 ' + Array.from(sdu.subarray(44), (b) => b.toString(16).padStart(2, '0')).join(' ')]);
    const sentEv = profile === 'v1.4' ? '7d 02 40 00' : '7a 02 40 00';
    assert.equal(
      h.events.slice(1).map((e) => e.bytes),
      [sentEv],
    );
    assert.is(h.l2cap.l2cap_cbm_available_credits(0x40), 2);
  });

  test(`${profile}: l2cap_le_disconnect -> Disconnection Request; the Response closes with the profile's event`, () => {
    const { h } = opened(profile);
    assert.is(h.l2cap.l2cap_le_disconnect(0x40), 0);
    // code 0x06, id 1, length 4: DCID 0x0040 (the remote's), SCID 0x0040 (ours)
    assert.equal(sent(h), ['08 00 05 00 06 01 04 00 40 00 40 00']);
    leSig(h, '07 01 04 00 40 00 40 00');
    h.loop.run(0);
    assert.equal(
      h.events.map((e) => e.bytes),
      [profile === 'v1.4' ? '7b 02 40 00' : '71 02 40 00'],
    );
    leSig(h, '06 02 04 00 40 00 40 00');
    assert.equal(sent(h), ['0a 00 05 00 01 02 06 00 02 00 40 00 40 00'], 'the channel is gone: invalid CID');
    h.hci.disconnectionComplete(LE_HANDLE);
    h.l2cap.l2cap_cbm_unregister_service(SPSM);
    assert.ok(h.pools.all_free());
  });

  test(`${profile}: the remote's Disconnection Request is answered and reported as CHANNEL_CLOSED 0x71`, () => {
    const { h } = opened(profile);
    leSig(h, '06 07 04 00 40 00 40 00');
    assert.equal(sent(h), ['08 00 05 00 07 07 04 00 40 00 40 00']);
    assert.equal(
      h.events.map((e) => e.bytes),
      ['71 02 40 00'],
    );
  });

  test(`${profile}: the link going down closes open channels (v1.4 LE_CHANNEL_CLOSED 0x7B) and fails pending ones (0x6A)`, () => {
    const { h } = opened(profile);
    const r = h.l2cap.l2cap_cbm_create_channel(h.handler, LE_HANDLE, SPSM, new Uint8Array(100), 100, 5);
    assert.equal(r, { status: 0, local_cid: 0x41 });
    h.loop.run(0);
    h.hci.disconnectionComplete(LE_HANDLE);
    h.loop.run(0);
    const closed = profile === 'v1.4' ? '7b 02 40 00' : '71 02 40 00';
    const op = profile === 'v1.4' ? '7a' : '7d';
    assert.equal(
      h.events.map((e) => e.bytes),
      [closed, `${op} 15 6a 00 ${ADDR} 41 00 00 80 00 41 00 00 00 64 00 00 00`],
    );
    h.l2cap.l2cap_cbm_unregister_service(SPSM);
    assert.ok(h.pools.all_free());
  });

  test(`${profile}: outgoing channel: Request bytes, Response success -> OPENED; refusal -> OPENED with the profile's status`, () => {
    const h = server(profile);
    const r = h.l2cap.l2cap_le_create_channel(h.handler, LE_HANDLE, SPSM, new Uint8Array(100), 100, 5);
    assert.equal(r, { status: 0, local_cid: 0x40 });
    // code 0x14, id 1, length 10: SPSM 0x0080, SCID 0x0040, MTU 100, MPS 102, credits 5
    assert.equal(sent(h), ['0e 00 05 00 14 01 0a 00 80 00 40 00 64 00 66 00 05 00']);
    leSig(h, '15 01 0a 00 50 00 c8 00 17 00 03 00 00 00');
    h.loop.run(0);
    const op = profile === 'v1.4' ? '7a' : '7d';
    assert.equal(
      h.events.map((e) => e.bytes),
      [`${op} 15 00 00 ${ADDR} 41 00 00 80 00 40 00 50 00 64 00 c8 00`],
    );
    assert.is(h.l2cap.l2cap_cbm_available_credits(0x40), 3);
    h.events.length = 0;
    h.l2cap.l2cap_cbm_create_channel(h.handler, LE_HANDLE, 0x0081, new Uint8Array(100), 100, 5);
    sent(h);
    leSig(h, '15 02 0a 00 00 00 00 00 00 00 00 00 02 00'); // SPSM not supported
    h.loop.run(0);
    // v1.4: the raw result (BTstack 1.4.1); v1.8: l2cap_cbm_status_for_result, 0x0002 -> 0x65 REFUSED_PSM
    const refused = profile === 'v1.4' ? '02' : '65';
    assert.equal(
      h.events.map((e) => e.bytes),
      [`${op} 15 ${refused} 00 ${ADDR} 41 00 00 81 00 41 00 00 00 64 00 00 00`],
    );
  });
}

test('decline: v1.4 l2cap_le_decline_connection answers result 0x0004; v1.8 decline with a result; no event; pool free', () => {
  for (const profile of ['v1.4', 'v1.8'] as const) {
    const h = server(profile);
    leSig(h, '14 01 0a 00 80 00 40 00 64 00 17 00 0a 00');
    h.loop.run(0);
    if (profile === 'v1.4') h.l2cap.l2cap_le_decline_connection(0x40);
    else h.l2cap.l2cap_cbm_decline_connection(0x40, 0x0006);
    const result = profile === 'v1.4' ? '04 00' : '06 00';
    assert.equal(sent(h), [`0e 00 05 00 15 01 0a 00 00 00 00 00 00 00 00 00 ${result}`]);
    assert.is(h.events.length, 1, 'only the INCOMING event');
    assert.is(h.l2cap.state.le.channelPool.in_use, 0);
  }
});

test('the spec checks of an incoming request, each refused with its result and all-zero DCID/MTU/MPS/credits', () => {
  const h = server('v1.8', { MAX_NR_L2CAP_CHANNELS: 1 });
  h.l2cap.l2cap_cbm_register_service(h.handler, 0x00f0, 2); // needs security level 2
  const cases: [string, string][] = [
    ['00 00 40 00 64 00 17 00 0a 00', '02 00'], // SPSM 0 (CVE-2022-42896): SPSM not supported
    ['00 01 40 00 64 00 17 00 0a 00', '02 00'], // SPSM 0x0100: outside the LE range
    ['81 00 40 00 64 00 17 00 0a 00', '02 00'], // SPSM 0x0081: no service
    ['80 00 00 00 64 00 17 00 0a 00', '09 00'], // SCID 0x0000: invalid source CID
    ['80 00 80 00 64 00 17 00 0a 00', '09 00'], // SCID 0x0080: past the LE dynamic range
    ['80 00 40 00 16 00 17 00 0a 00', '0b 00'], // MTU 22 < 23: unacceptable parameters
    ['80 00 40 00 64 00 16 00 0a 00', '0b 00'], // MPS 22
    ['80 00 40 00 64 00 fe ff 0a 00', '0b 00'], // MPS 65534 > 65533
    ['f0 00 40 00 64 00 17 00 0a 00', '08 00'], // level 2 service, link unencrypted: insufficient encryption
  ];
  let id = 1;
  for (const [data, result] of cases) {
    const i = (id++).toString(16).padStart(2, '0');
    leSig(h, `14 ${i} 0a 00 ${data}`);
    assert.equal(sent(h), [`0e 00 05 00 15 ${i} 0a 00 00 00 00 00 00 00 00 00 ${result}`], data);
  }
  leSig(h, '14 20 0a 00 80 00 41 00 64 00 17 00 0a 00');
  h.loop.run(0);
  h.l2cap.l2cap_cbm_accept_connection(0x40, new Uint8Array(100), 100, 5);
  sent(h);
  leSig(h, '14 21 0a 00 80 00 41 00 64 00 17 00 0a 00'); // SCID 0x0041 again
  assert.equal(sent(h), ['0e 00 05 00 15 21 0a 00 00 00 00 00 00 00 00 00 0a 00']);
  leSig(h, '14 22 0a 00 80 00 42 00 64 00 17 00 0a 00'); // pool of 1 in use
  assert.equal(sent(h), ['0e 00 05 00 15 22 0a 00 00 00 00 00 00 00 00 00 04 00']);
  assert.is(h.events.filter((e) => e.code === 0x7c).length, 1, 'only the valid request reached the application');
});

test('protocol errors disconnect the channel: credit overflow, K-frame without credit, SDU over MTU, over MPS, overrun', () => {
  const cases = [
    (h: Harness) => leSig(h, '16 09 04 00 40 00 ff ff'), // 10 + 65535 > 65535 credits
    (h: Harness) => {
      for (let i = 0; i < 6; i++) lePdu(h, 0x0040, '01 00 aa'); // 5 credits granted, the 6th frame has none
    },
    (h: Harness) => lePdu(h, 0x0040, 'c9 00 aa'), // SDU of 201 > MTU 200
    (h: Harness) => lePdu(h, 0x0040, '02 00' + ' 00'.repeat(201)), // 203 octets > MPS 202
    (h: Harness) => lePdu(h, 0x0040, '02 00 aa bb cc'), // 3 octets for an SDU of 2
  ];
  for (const hit of cases) {
    const { h } = opened('v1.8');
    hit(h);
    const out = sent(h);
    assert.equal(out[out.length - 1], '08 00 05 00 06 01 04 00 40 00 40 00');
  }
});

test('v1.8: l2cap_send / l2cap_request_can_send_now_event / l2cap_disconnect work on CBM channels (one API since BTstack 1.5)', () => {
  const { h } = opened('v1.8');
  h.l2cap.l2cap_request_can_send_now_event(0x40);
  h.loop.run(0);
  assert.equal(
    h.events.map((e) => e.bytes),
    ['79 02 40 00'],
  );
  assert.is(h.l2cap.l2cap_can_send_packet_now(0x40), true);
  assert.is(h.l2cap.l2cap_send(0x40, fromHex('01 02 03')), 0);
  assert.equal(sent(h), ['05 00 40 00 03 00 01 02 03']);
  assert.is(h.l2cap.l2cap_disconnect(0x40), 0);
  assert.equal(sent(h), ['08 00 05 00 06 01 04 00 40 00 40 00']);
});

test('manual credits: l2cap_cbm_provide_credits sends a Flow Control Credit Indication; over 65535 refused', () => {
  const { h } = opened('v1.4');
  assert.is(h.l2cap.l2cap_le_provide_credits(0x40, 7), 0);
  assert.equal(sent(h), ['08 00 05 00 16 01 04 00 40 00 07 00']);
  assert.is(h.l2cap.l2cap_cbm_provide_credits(0x40, 65535), 0x12);
  assert.is(h.l2cap.l2cap_cbm_provide_credits(0x77, 1), 0x6e);
});

test('services: SPSM out of range refused, duplicate refused, unregister frees', () => {
  const h = makeHarness('v1.8');
  assert.is(h.l2cap.l2cap_cbm_register_service(h.handler, 0, 0), 0x12);
  assert.is(h.l2cap.l2cap_cbm_register_service(h.handler, 0x100, 0), 0x12);
  assert.is(h.l2cap.l2cap_le_register_service(h.handler, 0x25, 0), 0);
  assert.is(h.l2cap.l2cap_cbm_register_service(h.handler, 0x25, 0), 0x6b);
  assert.is(h.l2cap.l2cap_le_unregister_service(0x25), 0);
  assert.is(h.l2cap.l2cap_cbm_unregister_service(0x25), 0x6d);
  assert.ok(h.pools.all_free());
});

test.run();
