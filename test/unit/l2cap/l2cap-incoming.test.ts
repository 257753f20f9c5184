/**
 * L2CAP against a scripted fake HCI: an incoming channel from connection request to open,
 * data both ways, disconnect both ways. Every PDU and event checked byte for byte; the vectors
 * are worked out by hand from Core spec v5.4 Vol 3 Part A (4.2-4.7) and BTstack's event formats.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HANDLE, fromHex, hex, linkUp, makeHarness } from './l2cap-harness.js';

const PSM = 0x1001;

function setup(profile: 'v1.4' | 'v1.8' = 'v1.4') {
  const h = makeHarness(profile);
  assert.is(h.l2cap.l2cap_register_service(h.handler, PSM, 1000, 0), 0);
  linkUp(h);
  return h;
}

/** Incoming connection request 0x0050 -> PSM 0x1001, accepted; returns the harness with the channel open. */
function openIncoming(profile: 'v1.4' | 'v1.8' = 'v1.4') {
  const h = setup(profile);
  // Connection Request: code 02, id 01, len 4, PSM 0x1001, SCID 0x0050
  h.hci.sig(HANDLE, '02 01 0400 0110 5000');
  h.loop.run(0);
  const inc = h.ofCode(0x72);
  assert.is(inc.length, 1);
  h.l2cap.l2cap_accept_connection(0x40);
  h.loop.run(0);
  h.hci.take();
  // remote's Configuration Request: MTU 512
  h.hci.sig(HANDLE, '04 02 0800 4000 0000 0102 0002');
  h.loop.run(0);
  // remote's success response to our request (id 01)
  h.hci.sig(HANDLE, '05 01 0600 4000 0000 0000');
  h.loop.run(0);
  h.hci.take();
  return h;
}

test('incoming: L2CAP_EVENT_INCOMING_CONNECTION bytes, then accept sends Connection Response + Configuration Request', () => {
  const h = setup();
  h.hci.sig(HANDLE, '02 01 0400 0110 5000');
  h.loop.run(0);
  assert.equal(h.hci.take(), [], 'nothing is sent before the application decides');
  const inc = h.ofCode(0x72);
  assert.is(inc.length, 1);
  // 0x72, len 14, address reversed, handle 0x0040, psm 0x1001, local cid 0x0040, remote cid 0x0050
  assert.is(inc[0]!.bytes, '72 0e 66 55 44 33 22 11 40 00 01 10 40 00 50 00');
  assert.is(inc[0]!.channel, 0x40);
  assert.is(h.l2cap.l2cap_accept_connection(0x40), 0);
  assert.equal(h.hci.take(), [], 'accept acts from the run loop, not inside the call');
  h.loop.run(0);
  assert.equal(h.hci.take(), [
    // Connection Response: DCID 0x0040 SCID 0x0050 result 0 status 0
    '0c 00 01 00 03 01 08 00 40 00 50 00 00 00 00 00',
    // Configuration Request id 1: DCID 0x0050, flags 0, MTU option 1000
    '0c 00 01 00 04 01 08 00 50 00 00 00 01 02 e8 03',
  ]);
  assert.is(h.l2cap.l2cap_get_channels()[0]!.state, 'CONFIG');
});

test('incoming: configuration both ways opens the channel with the 26-byte CHANNEL_OPENED', () => {
  for (const profile of ['v1.4', 'v1.8'] as const) {
    const h = setup(profile);
    h.hci.sig(HANDLE, '02 01 0400 0110 5000');
    h.loop.run(0);
    h.l2cap.l2cap_accept_connection(0x40);
    h.loop.run(0);
    h.hci.take();
    h.hci.sig(HANDLE, '04 02 0800 4000 0000 0102 0002');
    h.loop.run(0);
    // Configuration Response to the remote: SCID 0x0050, flags 0, result success, no options
    assert.equal(h.hci.take(), ['0a 00 01 00 05 02 06 00 50 00 00 00 00 00']);
    assert.is(h.ofCode(0x70).length, 0, 'not open until our request is answered');
    h.hci.sig(HANDLE, '05 01 0600 4000 0000 0000');
    h.loop.run(0);
    const opened = h.ofCode(0x70);
    assert.is(opened.length, 1, profile);
    // status 0, addr, handle 0x40, psm 0x1001, local 0x40, remote 0x50, local mtu 1000, remote mtu 512,
    // flush timeout 0 (no Flush Timeout option received, as BTstack reports), incoming 1, mode 0, fcs 0
    assert.is(opened[0]!.bytes, '70 18 00 66 55 44 33 22 11 40 00 01 10 40 00 50 00 e8 03 00 02 00 00 01 00 00', profile);
    assert.is(h.l2cap.l2cap_get_remote_mtu_for_local_cid(0x40), 512);
    assert.is(h.l2cap.l2cap_get_channels()[0]!.state, 'OPEN');
  }
});

test('data: remote SDU delivered as L2CAP_DATA_PACKET; l2cap_send writes ACL + L2CAP headers', () => {
  const h = openIncoming();
  h.hci.acl(HANDLE, fromHex('0500 4000 68656c6c6f'));
  const data = h.events.filter((e) => e.type === 0x06);
  assert.is(data.length, 1);
  assert.is(data[0]!.channel, 0x40);
  assert.is(data[0]!.bytes, '68 65 6c 6c 6f');
  assert.is(h.l2cap.l2cap_send(0x40, fromHex('6869')), 0);
  assert.equal(h.hci.aclHeaders(), ['40 20 06 00'], 'handle 0x040, PB 10 (first flushable), 6 bytes');
  assert.equal(h.hci.take(), ['02 00 50 00 68 69']);
  h.hci.non_flushable = true;
  assert.is(h.l2cap.l2cap_send(0x40, fromHex('6869')), 0);
  assert.equal(h.hci.aclHeaders(), ['40 00 06 00'], 'PB 00 when the controller supports non-flushable');
  h.hci.take();
});

test("data: SDUs arriving in the same buffer (a transport's receive buffer) reach the handler as one cached view, packet from the SDU, size its length", () => {
  const h = openIncoming();
  const seen: Array<{ packet: Uint8Array; size: number; bytes: string }> = [];
  h.l2cap.state.channelForCid(0x40)!.handler = (type, _ch, packet, size) => {
    if (type === 6) seen.push({ packet, size, bytes: hex(packet.subarray(0, size)) });
  };
  // one receive buffer, reused: ACL handle 0x0040 PB=10, L2CAP length, CID 0x0040, SDU
  const rx = new Uint8Array(64);
  const deliver = (sdu: string) => {
    const b = fromHex(sdu);
    rx.set(fromHex(`40 20 ${hex(new Uint8Array([(b.length + 4) & 0xff, 0]))} ${hex(new Uint8Array([b.length, 0]))} 40 00`), 0);
    rx.set(b, 8);
    h.hci.aclPacket(HANDLE, rx, 8 + b.length);
  };
  deliver('01 02 03');
  deliver('04 05 06 07 08');
  assert.equal(
    seen.map((x) => [x.size, x.bytes]),
    [
      [3, '01 02 03'],
      [5, '04 05 06 07 08'],
    ],
  );
  assert.is(seen[1]!.packet, seen[0]!.packet, 'no new view per SDU');
  assert.is(seen[0]!.packet.byteOffset, rx.byteOffset + 8);
});

test('data: an SDU longer than our MTU is dropped and the channel stays usable', () => {
  const h = openIncoming();
  const big = new Uint8Array(4 + 1001);
  big[0] = 1001 & 0xff;
  big[1] = 1001 >> 8;
  big[2] = 0x40;
  h.hci.acl(HANDLE, big);
  assert.is(h.events.filter((e) => e.type === 0x06).length, 0);
  const ok = new Uint8Array(4 + 1000);
  ok[0] = 1000 & 0xff;
  ok[1] = 1000 >> 8;
  ok[2] = 0x40;
  h.hci.acl(HANDLE, ok);
  assert.is(h.events.filter((e) => e.type === 0x06).length, 1);
  assert.is(h.l2cap.l2cap_get_channels()[0]!.state, 'OPEN');
});

test('data: unknown CID, fixed CIDs and PDUs whose length lies are dropped', () => {
  const h = openIncoming();
  h.hci.acl(HANDLE, fromHex('0300 4100 616263')); // no channel 0x41
  h.hci.acl(HANDLE, fromHex('0300 0700 616263')); // BR/EDR SM fixed channel, not supported
  h.hci.acl(HANDLE, fromHex('0900 4000 616263')); // length says 9, 3 present
  h.hci.acl(HANDLE, fromHex('0100 4000 616263')); // length says 1, 3 present
  h.hci.acl(HANDLE, fromHex('0300')); // shorter than a header
  assert.is(h.events.filter((e) => e.type === 0x06).length, 0);
  assert.equal(h.hci.take(), [], 'nothing is answered for data');
});

test('l2cap_send statuses: unknown cid, too long, buffers full', () => {
  const h = openIncoming();
  assert.is(h.l2cap.l2cap_send(0x99, new Uint8Array(1)), 0x6e, 'L2CAP_LOCAL_CID_DOES_NOT_EXIST');
  assert.is(h.l2cap.l2cap_send(0x40, new Uint8Array(513)), 0x6c, 'L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU');
  assert.is(h.l2cap.l2cap_send(0x40, new Uint8Array(512)), 0);
  h.hci.credits = 0;
  assert.is(h.l2cap.l2cap_can_send_packet_now(0x40), false);
  assert.is(h.l2cap.l2cap_send(0x40, new Uint8Array(10)), 0x57, 'BTSTACK_ACL_BUFFERS_FULL');
  assert.throws(() => h.l2cap.l2cap_send(0x40, 'abc' as unknown as Uint8Array), TypeError);
});

test('zero-copy: reserve, write into l2cap_get_outgoing_buffer, send_prepared', () => {
  const h = openIncoming();
  assert.is(h.l2cap.l2cap_reserve_packet_buffer(), true);
  assert.is(h.l2cap.l2cap_reserve_packet_buffer(), false, 'only one reservation at a time');
  const out = h.l2cap.l2cap_get_outgoing_buffer();
  out.set([1, 2, 3]);
  assert.is(h.l2cap.l2cap_send_prepared(0x40, 3), 0);
  assert.equal(h.hci.take(), ['03 00 50 00 01 02 03']);
  assert.is(h.l2cap.l2cap_send_prepared(0x40, 3), 0x57, 'not reserved');
  h.l2cap.l2cap_reserve_packet_buffer();
  assert.is(h.l2cap.l2cap_send_prepared(0x40, 600), 0x6c, 'over the remote MTU');
  assert.is(h.hci.reserved, false, 'released on failure');
  h.l2cap.l2cap_reserve_packet_buffer();
  h.l2cap.l2cap_release_packet_buffer();
  assert.is(h.hci.reserved, false);
});

test('remote disconnects: Disconnection Response, then L2CAP_EVENT_CHANNEL_CLOSED; pools full', () => {
  const h = openIncoming();
  // Disconnection Request id 3: DCID 0x0040 (ours) SCID 0x0050
  h.hci.sig(HANDLE, '06 03 0400 4000 5000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['08 00 01 00 07 03 04 00 40 00 50 00']);
  const closed = h.ofCode(0x71);
  assert.is(closed.length, 1);
  assert.is(closed[0]!.bytes, '71 02 40 00');
  assert.is(h.l2cap.l2cap_get_channels().length, 0);
  assert.is(h.l2cap.state.channelPool.in_use, 0);
});

test('local disconnect: Disconnection Request, CHANNEL_CLOSED when answered', () => {
  const h = openIncoming();
  assert.is(h.l2cap.l2cap_disconnect(0x40), 0);
  h.loop.run(0);
  // id 2 (our second request): DCID 0x0050 (remote), SCID 0x0040
  assert.equal(h.hci.take(), ['08 00 01 00 06 02 04 00 50 00 40 00']);
  assert.is(h.l2cap.l2cap_get_channels()[0]!.state, 'W4_L2CAP_DISCON_RSP');
  assert.is(h.ofCode(0x71).length, 0);
  // a response with the wrong identifier is ignored
  h.hci.sig(HANDLE, '07 09 0400 5000 4000');
  h.loop.run(0);
  assert.is(h.ofCode(0x71).length, 0);
  h.hci.sig(HANDLE, '07 02 0400 5000 4000');
  h.loop.run(0);
  assert.equal(
    h.ofCode(0x71).map((e) => e.bytes),
    ['71 02 40 00'],
  );
  assert.is(h.l2cap.state.channelPool.in_use, 0);
});

test('local disconnect not answered: CHANNEL_CLOSED after RTX (10 s virtual)', () => {
  const h = openIncoming();
  h.l2cap.l2cap_disconnect(0x40);
  h.loop.run(9_999);
  assert.is(h.ofCode(0x71).length, 0);
  h.loop.run(2);
  assert.is(h.ofCode(0x71).length, 1);
  assert.is(h.l2cap.state.channelPool.in_use, 0);
});

test('disconnect collision: both sides ask at once, one CHANNEL_CLOSED', () => {
  const h = openIncoming();
  h.l2cap.l2cap_disconnect(0x40);
  h.loop.run(0);
  h.hci.take();
  h.hci.sig(HANDLE, '06 05 0400 4000 5000');
  h.loop.run(100);
  assert.equal(h.hci.take(), ['08 00 01 00 07 05 04 00 40 00 50 00']);
  assert.is(h.ofCode(0x71).length, 1);
  h.hci.sig(HANDLE, '07 02 0400 5000 4000'); // their late answer to ours
  h.loop.run(0);
  assert.is(h.ofCode(0x71).length, 1);
});

test('configuration guard on an incoming channel: our request accepted, none from the remote -> disconnected after 40 s, CHANNEL_OPENED 0x69', () => {
  const h = setup();
  h.hci.sig(HANDLE, '02 01 0400 0110 5000');
  h.loop.run(0);
  h.l2cap.l2cap_accept_connection(0x40);
  h.loop.run(0);
  h.hci.take();
  h.hci.sig(HANDLE, '05 01 0600 4000 0000 0000');
  h.loop.run(39_999);
  assert.equal(h.hci.take(), []);
  h.loop.run(1);
  // Disconnection Request id 2: DCID 0x0050 SCID 0x0040
  assert.equal(h.hci.take(), ['08 00 01 00 06 02 04 00 50 00 40 00']);
  h.hci.sig(HANDLE, '07 02 0400 5000 4000');
  h.loop.run(0);
  // status 0x69, incoming 1
  assert.equal(
    h.ofCode(0x70).map((e) => e.bytes),
    ['70 18 69 66 55 44 33 22 11 40 00 01 10 40 00 50 00 e8 03 a0 02 00 00 01 00 00'],
  );
  assert.is(h.ofCode(0x71).length, 0);
  assert.is(h.l2cap.state.channelPool.in_use, 0);
});

test('decline: result 0x0004 on the wire, no event, channel freed', () => {
  const h = setup();
  h.hci.sig(HANDLE, '02 07 0400 0110 6000');
  h.loop.run(0);
  assert.is(h.l2cap.l2cap_decline_connection(0x40), 0);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 03 07 08 00 00 00 60 00 04 00 00 00']);
  assert.is(h.events.length, 1, 'only INCOMING_CONNECTION');
  assert.is(h.l2cap.state.channelPool.in_use, 0);
  assert.is(h.l2cap.l2cap_accept_connection(0x40), 0x6e, 'gone');
});

test('an incoming connection left undecided gets "pending, authorization pending" after 1 s', () => {
  const h = setup();
  h.hci.sig(HANDLE, '02 07 0400 0110 6000');
  h.loop.run(999);
  assert.equal(h.hci.take(), []);
  h.loop.run(2);
  // result 1 pending, status 2 authorization pending; DCID is our channel
  assert.equal(h.hci.take(), ['0c 00 01 00 03 07 08 00 40 00 60 00 01 00 02 00']);
  h.l2cap.l2cap_accept_connection(0x40);
  h.loop.run(0);
  assert.equal(h.hci.take().slice(0, 1), ['0c 00 01 00 03 07 08 00 40 00 60 00 00 00 00 00']);
});

test('an incoming connection never answered is declined once the remote has given up (1 s + ERTX), CHANNEL_OPENED 0x69', () => {
  const h = setup();
  h.hci.sig(HANDLE, '02 07 0400 0110 6000');
  h.loop.run(1001);
  assert.equal(h.hci.take(), ['0c 00 01 00 03 07 08 00 40 00 60 00 01 00 02 00']);
  h.loop.run(119_998);
  assert.is(h.ofCode(0x70).length, 0);
  h.loop.run(2);
  assert.equal(h.hci.take(), ['0c 00 01 00 03 07 08 00 00 00 60 00 04 00 00 00']);
  assert.equal(
    h.ofCode(0x70).map((e) => e.bytes),
    ['70 18 69 66 55 44 33 22 11 40 00 01 10 40 00 60 00 e8 03 a0 02 00 00 01 00 00'],
  );
  assert.is(h.l2cap.state.channelPool.in_use, 0);
});

test('refused: unknown PSM -> result 2, invalid source CID -> 6, CID in use -> 7, security not reached -> 3', () => {
  const h = setup();
  h.hci.sig(HANDLE, '02 01 0400 0310 5000'); // PSM 0x1003 not registered
  h.hci.sig(HANDLE, '02 02 0400 0110 3f00'); // SCID 0x003F is not dynamic
  h.hci.sig(HANDLE, '02 03 0400 0200 5000'); // PSM 0x0002 invalid (LSB even)
  h.loop.run(0);
  assert.equal(h.hci.take(), [
    '0c 00 01 00 03 01 08 00 00 00 50 00 02 00 00 00',
    '0c 00 01 00 03 02 08 00 00 00 3f 00 06 00 00 00',
    '0c 00 01 00 03 03 08 00 00 00 50 00 02 00 00 00',
  ]);
  h.hci.sig(HANDLE, '02 04 0400 0110 5000');
  h.loop.run(0);
  h.hci.sig(HANDLE, '02 05 0400 0110 5000'); // same SCID, other identifier
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 03 05 08 00 00 00 50 00 07 00 00 00']);
  assert.is(h.l2cap.l2cap_register_service(h.handler, 0x1003, 100, 2), 0);
  h.hci.sig(HANDLE, '02 06 0400 0310 5100');
  h.loop.run(0);
  // pending (0x0001), authentication pending (0x0001) while the level is raised (l2cap-security.test.ts)
  assert.equal(h.hci.take(), ['0c 00 01 00 03 06 08 00 41 00 51 00 01 00 01 00']);
  h.hci.securityLevel(HANDLE, 0);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 03 06 08 00 00 00 51 00 03 00 00 00']);
  assert.is(h.ofCode(0x72).length, 1, 'refused requests never reach the application');
});

test('channel pool exhausted: result 4 no resources', () => {
  const h = makeHarness('v1.4', { MAX_NR_L2CAP_CHANNELS: 1 });
  h.l2cap.l2cap_register_service(h.handler, PSM, 100, 0);
  linkUp(h);
  h.hci.sig(HANDLE, '02 01 0400 0110 5000');
  h.hci.sig(HANDLE, '02 02 0400 0110 5100');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 03 02 08 00 00 00 51 00 04 00 00 00']);
});

test('duplicate Connection Request (Vol 3 Part A, 4: duplicate response): "pending" while deciding, success again once connected', () => {
  const h = setup();
  h.hci.sig(HANDLE, '02 01 0400 0110 5000');
  h.hci.sig(HANDLE, '02 01 0400 0110 5000');
  h.loop.run(0);
  assert.is(h.ofCode(0x72).length, 1, 'one channel, one INCOMING_CONNECTION');
  // the repeat is answered: DCID 0x0040 SCID 0x0050, result 1 pending, status 2 authorization pending
  assert.equal(h.hci.take(), ['0c 00 01 00 03 01 08 00 40 00 50 00 01 00 02 00']);
  h.l2cap.l2cap_accept_connection(0x40);
  h.loop.run(0);
  assert.equal(h.hci.take().slice(0, 1), ['0c 00 01 00 03 01 08 00 40 00 50 00 00 00 00 00'], 'the original request: success');
  h.hci.sig(HANDLE, '02 01 0400 0110 5000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 03 01 08 00 40 00 50 00 00 00 00 00']);
  assert.is(h.l2cap.state.channelPool.in_use, 1);
});

test('link loss: open channel gets CHANNEL_CLOSED, unanswered incoming one CHANNEL_OPENED 0x6A', () => {
  const h = openIncoming();
  h.hci.sig(HANDLE, '02 09 0400 0110 7000');
  h.loop.run(0);
  h.hci.disconnectionComplete(HANDLE);
  h.loop.run(0);
  assert.equal(
    h.ofCode(0x71).map((e) => e.bytes),
    ['71 02 40 00'],
  );
  const failed = h.ofCode(0x70).filter((e) => e.bytes.startsWith('70 18 6a'));
  assert.is(failed.length, 1);
  assert.is(failed[0]!.channel, 0x41);
  assert.ok(
    h.pools.all.filter((p) => p.name.startsWith('l2cap_channels') || p.name === 'l2cap_links').every((p) => p.in_use === 0),
  );
  assert.equal(h.l2cap.l2cap_get_connections(), []);
});

test('services: already registered, not existing, connectable follows the service count, pool exhausted', () => {
  const h = makeHarness('v1.4', { MAX_NR_L2CAP_SERVICES: 2 });
  assert.is(h.hci.connectable, false);
  assert.is(h.l2cap.l2cap_register_service(h.handler, 0x1001, 100, 0), 0);
  assert.is(h.hci.connectable, true);
  assert.is(h.l2cap.l2cap_register_service(h.handler, 0x1001, 100, 0), 0x6b, 'L2CAP_SERVICE_ALREADY_REGISTERED');
  assert.is(h.l2cap.l2cap_register_service(h.handler, 0x1003, 100, 0), 0);
  assert.is(h.l2cap.l2cap_register_service(h.handler, 0x1005, 100, 0), 0x56, 'BTSTACK_MEMORY_ALLOC_FAILED');
  assert.is(h.l2cap.l2cap_unregister_service(0x1001), 0);
  assert.is(h.hci.connectable, true);
  assert.is(h.l2cap.l2cap_unregister_service(0x1001), 0x6d, 'L2CAP_SERVICE_DOES_NOT_EXIST');
  assert.is(h.l2cap.l2cap_unregister_service(0x1003), 0);
  assert.is(h.hci.connectable, false);
  assert.throws(() => h.l2cap.l2cap_register_service(null as never, 1, 100, 0), TypeError);
  assert.throws(() => h.l2cap.l2cap_register_service(h.handler, 0x10000, 100, 0), TypeError);
});

test('l2cap_max_mtu follows the packet buffer size', () => {
  assert.is(makeHarness().l2cap.l2cap_max_mtu(), 65535);
  assert.is(makeHarness('v1.4', { HCI_PACKET_BUFFER_SIZE: 1024 }).l2cap.l2cap_max_mtu(), 1016);
});

test.run();
