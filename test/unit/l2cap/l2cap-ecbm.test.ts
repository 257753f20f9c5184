/**
 * Enhanced Credit Based Flow Control Mode (Core v5.3+ Vol 3 Part A 10.2; signalling 4.25-4.28) with
 * BTstack's l2cap_ecbm_* API in the v1.8 profile, and its absence in v1.4. Every vector is worked
 * by hand from the spec (C-frames on CID 0x0005: code, id, length, data; all little endian) and
 * BTstack v1.8's event layouts (../shared/reference): ECBM_INCOMING_CONNECTION 0x7F `1BH212`,
 * ECBM_CHANNEL_OPENED 0x8A `11BH122222`, ECBM_RECONFIGURED 0x8B `222`, ECBM_RECONFIGURATION_COMPLETE
 * 0x8C `22`. The remote's CIDs are 0x0060-0x0064 so they read apart from ours (0x0040...).
 * Remote address 11:22:33:44:55:66 appears reversed in events (66 55 44 33 22 11).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, makeHarness, type Harness } from './l2cap-harness.js';
import { LE_HANDLE, leLinkUp, lePdu, leSig, sent } from './le-harness.js';

const SPSM = 0x0080;
const ADDR = '66 55 44 33 22 11';
const bufs = (n: number, size: number) => Array.from({ length: n }, () => new Uint8Array(size));
const hx = (a: ArrayLike<number>) => Array.from(a, (b) => b.toString(16).padStart(2, '0')).join(' ');
const u16 = (v: number) => `${(v & 0xff).toString(16).padStart(2, '0')} ${(v >> 8).toString(16).padStart(2, '0')}`;

/** v1.8, an LE link (peer public), an ECBM service on SPSM 0x0080 (min remote MTU 64). */
function server(config = {}): Harness {
  const h = makeHarness('v1.8', config);
  assert.is(h.l2cap.l2cap_ecbm_register_service(h.handler, SPSM, 64, 0), 0);
  leLinkUp(h, LE_HANDLE, 1, undefined, 0);
  return h;
}

/** ECBM_CHANNEL_OPENED: status, address type 0, address, handle 0x0041, incoming, psm 0x0080, cids, mtus. */
function openedEv(status: number, incoming: number, local: number, remote: number, lmtu: number, rmtu: number): string {
  const st = status.toString(16).padStart(2, '0');
  return `8a 15 ${st} 00 ${ADDR} 41 00 0${incoming} 80 00 ${u16(local)} ${u16(remote)} ${u16(lmtu)} ${u16(rmtu)}`;
}

/** Incoming request for `n` channels (remote SCIDs 0x0060...; MTU 100, MPS `mps`, 10 credits), all accepted with MTU 100, 5 credits. */
function incomingOpen(n: number, mps = 0x40): { h: Harness; rx: Uint8Array[] } {
  const h = server();
  const scids = Array.from({ length: n }, (_, i) => u16(0x60 + i)).join(' ');
  leSig(h, `17 01 ${u16(8 + 2 * n)} 80 00 64 00 ${u16(mps)} 0a 00 ${scids}`);
  h.loop.run(0);
  const rx = bufs(n, 100);
  const r = h.l2cap.l2cap_ecbm_accept_channels(0x40, n, 5, 100, rx);
  assert.is(r.status, 0);
  sent(h);
  h.events.length = 0;
  return { h, rx };
}

test('5 channels in one incoming request: INCOMING_CONNECTION once, accept -> one Response with 5 DCIDs, 5 CHANNEL_OPENED', () => {
  const h = server();
  // code 0x17, id 1, length 18: SPSM 0x0080, MTU 100, MPS 64, credits 10, SCIDs 0x0060-0x0064 (22 octets <= MTUsig 23)
  leSig(h, '17 01 12 00 80 00 64 00 40 00 0a 00 60 00 61 00 62 00 63 00 64 00');
  h.loop.run(0);
  // address_type 0, address, handle 0x0041, psm 0x0080, num_channels 5, first local cid 0x0040
  assert.equal(
    h.events.map((e) => [e.channel, e.bytes]),
    [[0x40, `7f 0e 00 ${ADDR} 41 00 80 00 05 40 00`]],
  );
  assert.equal(sent(h), [], 'no response before the application decides');
  const r = h.l2cap.l2cap_ecbm_accept_channels(0x40, 5, 5, 100, bufs(5, 100));
  assert.equal(r, { status: 0, local_cids: [0x40, 0x41, 0x42, 0x43, 0x44] });
  // code 0x18, id 1, length 18: MTU 100, MPS 102, credits 5, result 0, DCIDs 0x0040-0x0044
  assert.equal(sent(h), ['16 00 05 00 18 01 12 00 64 00 66 00 05 00 00 00 40 00 41 00 42 00 43 00 44 00']);
  assert.equal(
    h.events.slice(1).map((e) => [e.channel, e.bytes]),
    [0, 1, 2, 3, 4].map((i) => [0x40 + i, openedEv(0, 1, 0x40 + i, 0x60 + i, 100, 100)]),
  );
  h.hci.disconnectionComplete(LE_HANDLE);
  h.loop.run(0);
  assert.equal(
    h.events.slice(6).map((e) => e.bytes),
    [0, 1, 2, 3, 4].map((i) => `71 02 ${u16(0x40 + i)}`),
    'link down: CHANNEL_CLOSED for each',
  );
  assert.is(h.l2cap.l2cap_ecbm_unregister_service(SPSM), 0);
  assert.ok(h.pools.all_free());
});

test('5 channels created in one request; partial refusal (result 0x0004, DCID 0) -> OPENED 0x67 for those', () => {
  const h = server();
  const r = h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, SPSM, 5, 5, 100, bufs(5, 100));
  assert.equal(r, { status: 0, local_cids: [0x40, 0x41, 0x42, 0x43, 0x44] });
  // code 0x17, id 1, length 18: SPSM 0x0080, MTU 100, MPS 102, credits 5, SCIDs 0x0040-0x0044
  assert.equal(sent(h), ['16 00 05 00 17 01 12 00 80 00 64 00 66 00 05 00 40 00 41 00 42 00 43 00 44 00']);
  // MTU 200, MPS 64, credits 3, result 0x0004 (some refused: no resources), DCIDs 0x60 0x61 0 0x62 0
  leSig(h, '18 01 12 00 c8 00 40 00 03 00 04 00 60 00 61 00 00 00 62 00 00 00');
  h.loop.run(0);
  assert.equal(
    h.events.map((e) => [e.channel, e.bytes]),
    [
      [0x40, openedEv(0, 0, 0x40, 0x60, 100, 200)],
      [0x41, openedEv(0, 0, 0x41, 0x61, 100, 200)],
      // BTstack 1.8's l2cap_ecbm_status_for_result: 0x0004 -> 0x67 L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_RESOURCES
      [0x42, openedEv(0x67, 0, 0x42, 0, 100, 0)],
      [0x43, openedEv(0, 0, 0x43, 0x62, 100, 200)],
      [0x44, openedEv(0x67, 0, 0x44, 0, 100, 0)],
    ],
  );
  assert.is(h.l2cap.state.le.channelPool.in_use, 3);
  assert.is(h.l2cap.l2cap_cbm_available_credits(0x43), 3);
});

test('segmentation across the remote MPS (64): an SDU of 150 goes as 64 + 64 + 24 octet K-frames, one credit each; PACKET_SENT', () => {
  const h = server();
  h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, SPSM, 2, 5, 100, bufs(2, 100));
  sent(h);
  leSig(h, '18 01 0c 00 c8 00 40 00 02 00 00 00 60 00 61 00');
  h.loop.run(0);
  h.events.length = 0;
  const sdu = Uint8Array.from({ length: 150 }, (_, i) => i);
  assert.is(h.l2cap.l2cap_send(0x40, sdu), 0);
  assert.is(h.l2cap.l2cap_can_send_packet_now(0x40), false);
  // two credits: the first K-frame (SDU length 150 + 62 octets) and the second (64 octets)
  assert.equal(sent(h), [`40 00 60 00 96 00 ${hx(sdu.subarray(0, 62))}`, `40 00 60 00 ${hx(sdu.subarray(62, 126))}`]);
  leSig(h, '16 02 04 00 60 00 01 00'); // one credit for our 0x0040 (0x0060 at the remote)
  assert.equal(sent(h), [`18 00 60 00 ${hx(sdu.subarray(126))}`]);
  assert.equal(
    h.events.map((e) => e.bytes),
    ['7a 02 40 00'],
  );
  assert.is(h.l2cap.l2cap_ecbm_request_can_send_now_event(0x41), 0);
  h.loop.run(0);
  assert.equal(h.events[1]!.bytes, '79 02 41 00');
});

test('receiving on several channels: K-frames reassembled per channel; automatic credits; MPS / credit violations disconnect', () => {
  const h = server();
  leSig(h, '17 01 0c 00 80 00 64 00 40 00 0a 00 60 00 61 00');
  h.loop.run(0);
  const rx = bufs(2, 100);
  h.l2cap.l2cap_ecbm_accept_channels(0x40, 2, 0xffff, 100, rx); // L2CAP_LE_AUTOMATIC_CREDITS: 10 each
  assert.equal(sent(h), ['10 00 05 00 18 01 0c 00 64 00 66 00 0a 00 00 00 40 00 41 00']);
  h.events.length = 0;
  lePdu(h, 0x0040, '05 00 01 02');
  lePdu(h, 0x0041, '03 00 aa bb cc');
  lePdu(h, 0x0040, '03 04 05');
  assert.equal(
    h.events.map((e) => [e.type, e.channel, e.bytes]),
    [
      [6, 0x41, 'aa bb cc'],
      [6, 0x40, '01 02 03 04 05'],
    ],
  );
  lePdu(h, 0x0041, '65 00' + ' 00'.repeat(101)); // 103 octets > our MPS 102
  assert.equal(sent(h), ['08 00 05 00 06 01 04 00 61 00 41 00'], 'Disconnection Request for 0x0041 only');
  for (let i = 0; i < 7; i++) lePdu(h, 0x0040, '01 00 aa'); // 10 - 2 - 7 = 1 < watermark: 5 more
  assert.equal(sent(h), ['08 00 05 00 16 02 04 00 40 00 05 00']);
});

test('an SDU sent from the CHANNEL_OPENED handler goes out after the Response that opens the channel', () => {
  const h = makeHarness('v1.8', {}, (e) => {
    if (e.code === 0x8a) h.l2cap.l2cap_send(e.channel, fromHex('01 02 03'));
  });
  h.l2cap.l2cap_ecbm_register_service(h.handler, SPSM, 64, 0);
  leLinkUp(h, LE_HANDLE, 1, undefined, 0);
  leSig(h, '17 01 0c 00 80 00 64 00 40 00 0a 00 60 00 61 00');
  h.loop.run(0);
  h.l2cap.l2cap_ecbm_accept_channels(0x40, 2, 5, 100, bufs(2, 100));
  const out = sent(h);
  assert.is(out[0], '10 00 05 00 18 01 0c 00 64 00 66 00 05 00 00 00 40 00 41 00');
  assert.equal(
    out.slice(1).sort(),
    ['05 00 60 00 03 00 01 02 03', '05 00 61 00 03 00 01 02 03'],
    'then the K-frames (round robin)',
  );
});

test('decline: all DCIDs 0 with the given result, MTU/MPS/credits 0, no event after INCOMING; partial accept refuses the rest 0x0004', () => {
  const h = server();
  leSig(h, '17 01 0c 00 80 00 64 00 40 00 0a 00 60 00 61 00');
  h.loop.run(0);
  assert.is(h.l2cap.l2cap_ecbm_decline_channels(0x40, 0x0006), 0);
  assert.equal(sent(h), ['10 00 05 00 18 01 0c 00 00 00 00 00 00 00 06 00 00 00 00 00']);
  assert.is(h.events.length, 1);
  assert.is(h.l2cap.state.le.channelPool.in_use, 0);
  leSig(h, '17 02 0e 00 80 00 64 00 40 00 0a 00 60 00 61 00 62 00');
  h.loop.run(0);
  // CIDs are handed out round robin: 0x0042-0x0044 now
  assert.equal(h.events[1]!.bytes, `7f 0e 00 ${ADDR} 41 00 80 00 03 42 00`);
  assert.equal(h.l2cap.l2cap_ecbm_accept_channels(0x42, 2, 5, 100, bufs(2, 100)), { status: 0, local_cids: [0x42, 0x43] });
  assert.equal(sent(h), ['12 00 05 00 18 02 0e 00 64 00 66 00 05 00 04 00 42 00 43 00 00 00']);
  assert.is(h.ofCode(0x8a).length, 2);
  assert.is(h.l2cap.state.le.channelPool.in_use, 2);
  // l2cap_disconnect on a pending incoming group declines it (0x0004)
  leSig(h, '17 03 0a 00 80 00 64 00 40 00 0a 00 70 00');
  h.loop.run(0);
  assert.equal(h.events[h.events.length - 1]!.bytes, `7f 0e 00 ${ADDR} 41 00 80 00 01 45 00`);
  assert.is(h.l2cap.l2cap_disconnect(0x45), 0);
  assert.equal(sent(h), ['0e 00 05 00 18 03 0a 00 00 00 00 00 00 00 04 00 00 00']);
});

test('incoming request checks: each refusal answered with its result and one DCID 0 per SCID', () => {
  const h = server({ MAX_NR_L2CAP_CHANNELS: 2 });
  assert.is(h.l2cap.l2cap_ecbm_register_service(h.handler, 0x00f0, 64, 2), 0); // needs security level 2
  assert.is(h.l2cap.l2cap_ecbm_register_service(h.handler, 0x00f1, 200, 0), 0); // remote MTU >= 200
  h.l2cap.l2cap_cbm_register_service(h.handler, 0x0081, 0); // a CBM service is no ECBM service
  const cases: [string, string][] = [
    ['00 00 64 00 40 00 0a 00 60 00', '02 00'], // SPSM 0 (CVE-2022-42896 class): SPSM not supported
    ['00 01 64 00 40 00 0a 00 60 00', '02 00'], // SPSM 0x0100: outside the LE range
    ['81 00 64 00 40 00 0a 00 60 00', '02 00'], // SPSM 0x0081: CBM only
    ['80 00 3f 00 40 00 0a 00 60 00', '0c 00'], // MTU 63 < 64: invalid parameters
    ['80 00 64 00 3f 00 0a 00 60 00', '0c 00'], // MPS 63
    ['80 00 64 00 fe ff 0a 00 60 00', '0c 00'], // MPS 65534 > 65533
    ['f0 00 64 00 40 00 0a 00 60 00', '08 00'], // level 2 service, link unencrypted: insufficient encryption
    ['f1 00 64 00 40 00 0a 00 60 00', '0b 00'], // MTU 100 < the service's 200: unacceptable parameters
    ['80 00 64 00 40 00 0a 00 00 00', '09 00'], // SCID 0: invalid source CID
    ['80 00 64 00 40 00 0a 00 80 00 3f 00', '09 00'], // SCIDs 0x0080 and 0x003F: outside 0x0040-0x007F
  ];
  let id = 1;
  for (const [data, result] of cases) {
    const i = (id++).toString(16).padStart(2, '0');
    const n = (data.split(' ').length - 8) / 2;
    const dcids = ' 00 00'.repeat(n);
    leSig(h, `17 ${i} ${u16(8 + 2 * n)} ${data}`);
    assert.equal(sent(h), [`${u16(12 + 2 * n)} 05 00 18 ${i} ${u16(8 + 2 * n)} 00 00 00 00 00 00 ${result}${dcids}`], data);
  }
  leSig(h, '17 20 08 00 80 00 64 00 40 00 0a 00'); // no SCID at all: invalid parameters, no DCIDs
  assert.equal(sent(h), ['0c 00 05 00 18 20 08 00 00 00 00 00 00 00 0c 00']);
  // some refused: SCID 0 (0x0009), 0x0060 twice (0x000A), then the pool of 2 is full (0x0004);
  // the result names the first refusal
  leSig(h, '17 21 12 00 80 00 64 00 40 00 0a 00 60 00 00 00 60 00 61 00 62 00');
  h.loop.run(0);
  assert.equal(h.ofCode(0x7f).length, 1, 'only this request reached the application');
  assert.equal(h.ofCode(0x7f)[0]!.bytes, `7f 0e 00 ${ADDR} 41 00 80 00 02 40 00`);
  h.l2cap.l2cap_ecbm_accept_channels(0x40, 2, 5, 100, bufs(2, 100));
  assert.equal(sent(h), ['16 00 05 00 18 21 12 00 64 00 66 00 05 00 09 00 40 00 00 00 00 00 41 00 00 00']);
  leSig(h, '17 22 0a 00 80 00 64 00 40 00 0a 00 61 00'); // 0x0061 is open now
  assert.equal(sent(h), ['0e 00 05 00 18 22 0a 00 00 00 00 00 00 00 0a 00 00 00']);
});

test('malformed requests: odd length / short -> Command Reject "not understood"; 6 SCIDs exceed MTUsig 23 -> reason 0x0001', () => {
  const h = server();
  leSig(h, '17 01 09 00 80 00 64 00 40 00 0a 00 60'); // 9 octets: half a CID
  leSig(h, '17 02 06 00 80 00 64 00 40 00'); // 6 octets: no credits field
  leSig(h, '19 03 05 00 c8 00 40 00 40'); // reconfigure, odd
  leSig(h, '19 04 04 00 c8 00 40 00'); // reconfigure without a DCID
  // 6 SCIDs: 4 + 8 + 12 = 24 octets > MTUsig 23: signaling MTU exceeded, MTUsig 0x0017
  leSig(h, '17 05 14 00 80 00 64 00 40 00 0a 00 60 00 61 00 62 00 63 00 64 00 65 00');
  assert.equal(sent(h), [
    '06 00 05 00 01 01 02 00 00 00',
    '06 00 05 00 01 02 02 00 00 00',
    '06 00 05 00 01 03 02 00 00 00',
    '06 00 05 00 01 04 02 00 00 00',
    '08 00 05 00 01 05 04 00 01 00 17 00',
  ]);
  leSig(h, '18 09 0a 00 64 00 40 00 05 00 00 00 60 00'); // a response nobody asked for: dropped
  leSig(h, '1a 09 02 00 00 00'); // likewise
  assert.equal(sent(h), []);
  assert.equal(h.events, []);
});

test('the remote reconfigures: success -> ECBM_RECONFIGURED per channel; each error result (0x0001-0x0004)', () => {
  const { h } = incomingOpen(2, 0x64); // remote MTU 100, MPS 100
  // code 0x19, id 2, length 8: MTU 200, MPS 100, DCIDs 0x0040 0x0041
  leSig(h, '19 02 08 00 c8 00 64 00 40 00 41 00');
  assert.equal(sent(h), ['06 00 05 00 1a 02 02 00 00 00']);
  // remote_cid, mtu 200, mps 100
  assert.equal(
    h.events.map((e) => [e.channel, e.bytes]),
    [
      [0x40, '8b 06 60 00 c8 00 64 00'],
      [0x41, '8b 06 61 00 c8 00 64 00'],
    ],
  );
  h.events.length = 0;
  const cases: [string, string][] = [
    ['c7 00 64 00 40 00', '01 00'], // MTU 199 < 200: MTU reduction not allowed
    ['c8 00 50 00 40 00 41 00', '02 00'], // MPS 80 < 100 on two channels
    ['c8 00 64 00 40 00 45 00', '03 00'], // DCID 0x0045 is not ours
    ['c8 00 64 00 40 00 40 00', '03 00'], // the same DCID twice
    ['3f 00 64 00 40 00', '04 00'], // MTU 63: unacceptable parameters
    ['c8 00 3f 00 40 00', '04 00'], // MPS 63
  ];
  let id = 3;
  for (const [data, result] of cases) {
    const i = (id++).toString(16).padStart(2, '0');
    const len = data.split(' ').length;
    leSig(h, `19 ${i} ${u16(len)} ${data}`);
    assert.equal(sent(h), [`06 00 05 00 1a ${i} 02 00 ${result}`], data);
  }
  assert.equal(h.events, [], 'nothing changed');
  leSig(h, '19 10 06 00 c8 00 50 00 41 00'); // MPS 80 < 100 with one channel: allowed
  assert.equal(sent(h), ['06 00 05 00 1a 10 02 00 00 00']);
  assert.equal(h.events[0]!.bytes, '8b 06 61 00 c8 00 50 00');
  assert.is(h.l2cap.l2cap_send(0x41, new Uint8Array(200)), 0, 'the new remote MTU applies');
  assert.is(h.l2cap.l2cap_send(0x40, new Uint8Array(201)), 0x6c);
});

test('we reconfigure: Request bytes; success -> RECONFIGURATION_COMPLETE and the larger buffers; errors keep the old MTU', () => {
  const { h, rx } = incomingOpen(2);
  const big = bufs(2, 300);
  assert.is(h.l2cap.l2cap_ecbm_reconfigure_channels([0x40, 0x41], 99, bufs(2, 99)), 0x12, 'the MTU may not decrease');
  assert.is(h.l2cap.l2cap_ecbm_reconfigure_channels([0x40, 0x77], 300, big), 0x6e);
  assert.is(h.l2cap.l2cap_ecbm_reconfigure_channels([], 300, []), 0x12);
  lePdu(h, 0x0040, '96 00 01 02 03'); // an SDU of 150 octets starts: 150 > MTU 100 is a protocol error...
  assert.equal(sent(h), ['08 00 05 00 06 01 04 00 60 00 40 00']);
  const { h: h2, rx: rx2 } = incomingOpen(2);
  lePdu(h2, 0x0041, '50 00 aa bb'); // ...but an SDU of 80 may be half way when the MTU grows
  assert.is(h2.l2cap.l2cap_ecbm_reconfigure_channels([0x40, 0x41], 300, big), 0);
  assert.is(h2.l2cap.l2cap_ecbm_reconfigure_channels([0x40], 400, bufs(1, 400)), 0x0c, 'one outstanding');
  // code 0x19, id 1, length 8: MTU 300, MPS 302, DCIDs = the remote's CIDs 0x0060 0x0061
  assert.equal(sent(h2), ['0c 00 05 00 19 01 08 00 2c 01 2e 01 60 00 61 00']);
  leSig(h2, '1a 01 02 00 00 00');
  assert.equal(
    h2.events.map((e) => [e.channel, e.bytes]),
    [
      [0x40, '8c 04 40 00 00 00'],
      [0x41, '8c 04 41 00 00 00'],
    ],
  );
  lePdu(h2, 0x0041, '00'.repeat(78).replace(/(..)(?=.)/g, '$1 ')); // the rest of the SDU of 80
  const data = h2.events[2]!;
  assert.is(data.channel, 0x41);
  assert.is(data.data!.length, 80);
  assert.is(hx(data.data!.subarray(0, 2)), 'aa bb', 'the first octets moved to the new buffer');
  assert.is(rx2[1]!.length, 100);
  lePdu(h2, 0x0040, '2c 01' + ' 11'.repeat(300)); // 302 octets = the new MPS, an SDU of 300 = the new MTU
  assert.is(h2.events[3]!.data!.length, 300);
  void rx;
  // errors: each result reported, the MTU stays
  for (const result of [1, 2, 3, 4]) {
    const { h: h3 } = incomingOpen(1);
    h3.l2cap.l2cap_ecbm_reconfigure_channels([0x40], 300, bufs(1, 300));
    assert.equal(sent(h3), ['0a 00 05 00 19 01 06 00 2c 01 2e 01 60 00']);
    leSig(h3, `1a 01 02 00 0${result} 00`);
    assert.equal(
      h3.events.map((e) => e.bytes),
      [`8c 04 40 00 0${result} 00`],
    );
    lePdu(h3, 0x0040, '65 00 00'); // SDU of 101 > MTU 100: still a protocol error
    assert.equal(sent(h3), ['08 00 05 00 06 02 04 00 60 00 40 00']);
  }
});

test('reconfiguration of two channels when the first is disconnected before the request goes out: the second asks alone', () => {
  const { h } = incomingOpen(2);
  assert.is(h.l2cap.l2cap_ecbm_reconfigure_channels([0x40, 0x41], 300, bufs(2, 300)), 0);
  assert.is(h.l2cap.l2cap_disconnect(0x40), 0);
  const out = sent(h).sort();
  // Disconnection Request DCID 0x0060 SCID 0x0040; Reconfigure Request MTU 300, MPS 302, DCID 0x0061
  assert.equal(out, ['08 00 05 00 06 02 04 00 60 00 40 00', '0a 00 05 00 19 01 06 00 2c 01 2e 01 61 00']);
});

test('l2cap_ecbm_mps_set_max / _min: the MPS we announce; a reconfiguration lowers it only for a single channel (4.27)', () => {
  const h = server();
  h.l2cap.l2cap_ecbm_mps_set_max(80);
  h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, SPSM, 2, 5, 100, bufs(2, 100));
  // SPSM 0x0080, MTU 100, MPS 80 (not 102), credits 5, SCIDs 0x0040 0x0041
  assert.equal(sent(h), ['10 00 05 00 17 01 0c 00 80 00 64 00 50 00 05 00 40 00 41 00']);
  leSig(h, '18 01 0c 00 64 00 40 00 05 00 00 00 60 00 61 00');
  h.l2cap.l2cap_ecbm_mps_set_max(10); // clamped to the minimum, 64
  h.l2cap.l2cap_ecbm_reconfigure_channels([0x40, 0x41], 200, bufs(2, 200));
  // two channels: MTU 200, MPS stays 80
  assert.equal(sent(h), ['0c 00 05 00 19 02 08 00 c8 00 50 00 60 00 61 00']);
  leSig(h, '1a 02 02 00 00 00');
  h.l2cap.l2cap_ecbm_reconfigure_channels([0x41], 300, bufs(1, 300));
  // one channel: MTU 300, MPS 64
  assert.equal(sent(h), ['0a 00 05 00 19 03 06 00 2c 01 40 00 61 00']);
  leSig(h, '1a 03 02 00 00 00');
  lePdu(h, 0x0041, '3e 00' + ' 00'.repeat(63)); // 65 octets > MPS 64: protocol error
  assert.equal(sent(h), ['08 00 05 00 06 04 04 00 61 00 41 00']);
  h.l2cap.l2cap_ecbm_mps_set_min(1000);
  h.l2cap.l2cap_ecbm_mps_set_max(2000);
  h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, SPSM, 1, 5, 100, bufs(1, 100));
  // MTU 100, MPS 1000 (the minimum now), credits 5, SCID 0x0042
  assert.equal(sent(h), ['0e 00 05 00 17 05 0a 00 80 00 64 00 e8 03 05 00 42 00']);
});

test('reconfiguration: a Command Reject ends it (0x0004); no answer within 30 s disconnects the channels', () => {
  const { h } = incomingOpen(1);
  h.l2cap.l2cap_ecbm_reconfigure_channels([0x40], 300, bufs(1, 300));
  sent(h);
  leSig(h, '01 01 02 00 00 00');
  assert.equal(
    h.events.map((e) => e.bytes),
    ['8c 04 40 00 04 00'],
  );
  h.events.length = 0;
  h.l2cap.l2cap_ecbm_reconfigure_channels([0x40], 300, bufs(1, 300));
  assert.equal(sent(h), ['0a 00 05 00 19 02 06 00 2c 01 2e 01 60 00']);
  h.loop.run(30_000);
  assert.equal(sent(h), ['08 00 05 00 06 03 04 00 60 00 40 00']);
  leSig(h, '07 03 04 00 60 00 40 00');
  h.loop.run(0);
  assert.equal(
    h.events.map((e) => e.bytes),
    ['71 02 40 00'],
  );
});

test('outgoing: Command Reject / RTX / link down fail every channel of the request; bad parameters of the remote close its end', () => {
  const h = server();
  h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, SPSM, 2, 5, 100, bufs(2, 100));
  sent(h);
  leSig(h, '01 01 02 00 00 00');
  h.loop.run(0);
  assert.equal(
    h.events.map((e) => e.bytes),
    // Command Reject of an ECBM request: 0x65 REFUSED_PSM (BTstack 1.8; a CBM request's reject stays 0x02)
    [openedEv(0x65, 0, 0x40, 0, 100, 0), openedEv(0x65, 0, 0x41, 0, 100, 0)],
  );
  h.events.length = 0;
  h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, SPSM, 2, 5, 100, bufs(2, 100));
  sent(h);
  h.loop.run(30_000);
  assert.equal(
    h.events.map((e) => e.bytes.slice(0, 8)),
    ['8a 15 69', '8a 15 69'],
    'RTX: L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT',
  );
  h.events.length = 0;
  // the remote answers with MPS 63 for one channel: reported as 0x000C through BTstack 1.8's table (0x6F
  // L2CAP_CONNECTION_RESPONSE_UNKNOWN_ERROR), then its end is closed
  const r = h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, SPSM, 1, 5, 100, bufs(1, 100));
  sent(h);
  leSig(h, '18 03 0a 00 64 00 3f 00 05 00 00 00 60 00');
  assert.equal(sent(h), [`08 00 05 00 06 04 04 00 60 00 ${u16(r.local_cids[0]!)}`]);
  assert.equal(h.events[0]!.bytes.slice(0, 8), '8a 15 6f');
  leSig(h, `07 04 04 00 60 00 ${u16(r.local_cids[0]!)}`);
  h.loop.run(0);
  assert.is(h.events.length, 1, 'no CHANNEL_CLOSED after a failed OPENED');
  h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, SPSM, 3, 5, 100, bufs(3, 100));
  h.hci.disconnectionComplete(LE_HANDLE);
  h.loop.run(0);
  assert.equal(
    h.events.slice(1).map((e) => e.bytes.slice(0, 8)),
    ['8a 15 6a', '8a 15 6a', '8a 15 6a'],
  );
  h.l2cap.l2cap_ecbm_unregister_service(SPSM);
  assert.ok(h.pools.all_free());
});

test('API checks: v1.8 statuses; v1.4 has no ECBM (0x11, and a request is "not understood")', () => {
  const h = server({ MAX_NR_L2CAP_CHANNELS: 4 });
  const ok = (n: number) => h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, SPSM, n, 5, 100, bufs(n, 100)).status;
  assert.is(ok(0), 0x12);
  assert.is(ok(6), 0x12, 'at most 5 channels per request');
  assert.is(ok(5), 0x56, 'only 4 channel records');
  assert.is(h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, SPSM, 1, 5, 63, bufs(1, 63)).status, 0x12, 'MTU < 64');
  assert.is(h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, 0, 1, 5, 100, bufs(1, 100)).status, 0x12, 'PSM 0');
  assert.is(h.l2cap.l2cap_ecbm_create_channels(h.handler, 0x0999, 0, SPSM, 1, 5, 100, bufs(1, 100)).status, 0x02);
  assert.throws(() => h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, SPSM, 2, 5, 100, bufs(1, 100)), TypeError);
  assert.throws(() => h.l2cap.l2cap_ecbm_accept_channels(0x40, 1, 5, 100, bufs(1, 50)), TypeError);
  assert.is(h.l2cap.l2cap_ecbm_accept_channels(0x40, 1, 5, 100, bufs(1, 100)).status, 0x6e);
  assert.is(h.l2cap.l2cap_ecbm_decline_channels(0x40, 4), 0x6e);
  assert.is(h.l2cap.l2cap_ecbm_register_service(h.handler, SPSM, 64, 0), 0x6b);
  assert.is(h.l2cap.l2cap_ecbm_register_service(h.handler, 0, 64, 0), 0x12);
  assert.is(h.l2cap.l2cap_ecbm_unregister_service(0x99), 0x6d);
  assert.is(h.l2cap.l2cap_ecbm_create_channels(h.handler, LE_HANDLE, 0, SPSM, 1, 5, 100, bufs(1, 100)).status, 0);
  assert.is(h.l2cap.l2cap_ecbm_accept_channels(0x40, 1, 5, 100, bufs(1, 100)).status, 0x0c, 'not an incoming channel');

  const v14 = makeHarness('v1.4');
  leLinkUp(v14, LE_HANDLE, 1, undefined, 0);
  assert.is(v14.l2cap.l2cap_ecbm_register_service(v14.handler, SPSM, 64, 0), 0x11);
  assert.is(v14.l2cap.l2cap_ecbm_create_channels(v14.handler, LE_HANDLE, 0, SPSM, 1, 5, 100, bufs(1, 100)).status, 0x11);
  assert.is(v14.l2cap.l2cap_ecbm_reconfigure_channels([0x40], 100, bufs(1, 100)), 0x11);
  v14.l2cap.l2cap_cbm_register_service(v14.handler, SPSM, 0);
  leSig(v14, '17 01 0a 00 80 00 64 00 40 00 0a 00 60 00');
  leSig(v14, '19 02 06 00 c8 00 40 00 40 00');
  assert.equal(sent(v14), ['06 00 05 00 01 01 02 00 00 00', '06 00 05 00 01 02 02 00 00 00']);
  assert.equal(v14.events, []);
  assert.ok(v14.pools.all_free() || v14.l2cap.state.le.channelPool.in_use === 0);
  void fromHex;
});

test.run();
