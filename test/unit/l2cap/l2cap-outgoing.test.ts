/**
 * Outgoing channels against a scripted fake HCI: link creation on demand, the information
 * exchange before the first Connection Request, pending + ERTX, RTX, refusals with BTstack's
 * 0x63 + result status, command reject, configuration retries and failures, link loss, the
 * idle auto-disconnect. PDUs and events checked byte for byte (hand-derived from Core v5.4
 * Vol 3 Part A and BTstack's event formats).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HANDLE, REMOTE, fromHex, makeHarness, openOutgoing, type Harness } from './l2cap-harness.js';

const PSM = 0x1001;

/** Create a channel to PSM 0x1001 (MTU 1000) and bring the link up; the information exchange is answered "no extended features". */
function toConnectionRequest(h: Harness): void {
  const r = h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 1000);
  assert.equal(r, { status: 0, local_cid: 0x40 });
  h.hci.connectionComplete(REMOTE, HANDLE);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['06 00 01 00 0a 01 02 00 02 00'], 'Information Request, extended features');
  h.hci.sig(HANDLE, '0b 01 0800 0200 0000 00000000');
  h.loop.run(0);
  // Connection Request id 2: PSM 0x1001, SCID 0x0040
  assert.equal(h.hci.take(), ['08 00 01 00 02 02 04 00 01 10 40 00']);
}

test('create channel: ACL link on demand, information exchange (features then fixed channels), Connection Request', () => {
  for (const profile of ['v1.4', 'v1.8'] as const) {
    const h = makeHarness(profile);
    const info: string[] = [];
    h.l2cap.l2cap_add_event_handler({ callback: (_t, _c, p, n) => info.push(Buffer.from(p.subarray(0, n)).toString('hex')) });
    const r = h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 1000);
    assert.equal(r, { status: 0, local_cid: 0x40 });
    assert.equal(h.hci.connect_requests, ['11 22 33 44 55 66']);
    assert.equal(
      h.l2cap.l2cap_get_connections().map((c) => c.state),
      ['W4_LP_CON_CFM'],
    );
    assert.is(h.l2cap.l2cap_get_channels()[0]!.state, 'W4_L2CAP_CON_RSP');
    h.loop.run(0);
    assert.equal(h.hci.take(), []);
    h.hci.connectionComplete(REMOTE, HANDLE);
    h.loop.run(0);
    assert.equal(h.hci.take(), ['06 00 01 00 0a 01 02 00 02 00']);
    // features: fixed channels supported -> ask for them
    h.hci.sig(HANDLE, '0b 01 0800 0200 0000 80000000');
    h.loop.run(0);
    assert.equal(h.hci.take(), ['06 00 01 00 0a 02 02 00 03 00']);
    h.hci.sig(HANDLE, '0b 02 0c00 0300 0000 0600000000000000');
    h.loop.run(0);
    assert.equal(h.hci.take(), ['08 00 01 00 02 03 04 00 01 10 40 00']);
    const conn = h.l2cap.l2cap_get_connections();
    assert.equal(
      conn.map((c) => [c.state, c.extended_features, c.fixed_channels]),
      [['OPEN', 0x80, 0x06]],
    );
    // v1.8: L2CAP_EVENT_INFORMATION_RESPONSE (0x78, H22): handle, features (16 bit), fixed channels (16 bit)
    assert.equal(info, profile === 'v1.8' ? ['780640008000' + '0600'] : [], profile);
  }
});

test('outgoing open: configuration both ways, CHANNEL_OPENED with incoming 0 and the default remote MTU 672', () => {
  const h = makeHarness();
  toConnectionRequest(h);
  h.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 04 03 08 00 50 00 00 00 01 02 e8 03']);
  h.hci.sig(HANDLE, '04 07 0400 4000 0000'); // no options: MTU 672 by default
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 05 07 06 00 50 00 00 00 00 00']);
  h.hci.sig(HANDLE, '05 03 0600 4000 0000 0000');
  h.loop.run(0);
  assert.equal(
    h.ofCode(0x70).map((e) => e.bytes),
    ['70 18 00 66 55 44 33 22 11 40 00 01 10 40 00 50 00 e8 03 a0 02 00 00 00 00 00'],
  );
  assert.is(h.ofCode(0x70)[0]!.channel, 0x40);
});

test('pending: the Connection Response "pending" switches to ERTX (120 s), then 0x69 RTX timeout', () => {
  const h = makeHarness();
  toConnectionRequest(h);
  h.loop.run(9_000);
  h.hci.sig(HANDLE, '03 02 0800 0000 4000 0100 0200');
  h.loop.run(119_999);
  assert.is(h.ofCode(0x70).length, 0, 'ERTX replaced RTX');
  h.loop.run(2);
  assert.equal(
    h.ofCode(0x70).map((e) => e.bytes),
    ['70 18 69 66 55 44 33 22 11 40 00 01 10 40 00 00 00 e8 03 a0 02 00 00 00 00 00'],
  );
  assert.is(h.l2cap.state.channelPool.in_use, 0);
});

test('pending then success opens normally', () => {
  const h = makeHarness();
  toConnectionRequest(h);
  h.hci.sig(HANDLE, '03 02 0800 0000 4000 0100 0000');
  h.loop.run(60_000);
  h.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 04 03 08 00 50 00 00 00 01 02 e8 03']);
});

test('RTX: no Connection Response within 10 s -> CHANNEL_OPENED status 0x69', () => {
  const h = makeHarness();
  toConnectionRequest(h);
  h.loop.run(9_999);
  assert.is(h.ofCode(0x70).length, 0);
  h.loop.run(1);
  assert.is(h.ofCode(0x70)[0]!.bytes.slice(0, 8), '70 18 69');
});

test('refused: status is 0x63 + the remote result (BTstack quirk): 2 -> 0x65, 3 -> 0x66, 4 -> 0x67, 7 -> 0x6a', () => {
  for (const [result, status] of [
    [2, 0x65],
    [3, 0x66],
    [4, 0x67],
    [7, 0x6a],
  ] as const) {
    const h = makeHarness();
    toConnectionRequest(h);
    h.hci.sig(HANDLE, `03 02 0800 0000 4000 0${result}00 0000`);
    h.loop.run(0);
    const ev = h.ofCode(0x70);
    assert.is(ev.length, 1);
    assert.is(fromHex(ev[0]!.bytes)[2], status);
    assert.is(h.l2cap.state.channelPool.in_use, 0);
  }
});

test('responses that match no request are dropped (wrong id, wrong cid, duplicate)', () => {
  const h = makeHarness();
  toConnectionRequest(h);
  h.hci.sig(HANDLE, '03 09 0800 5000 4000 0000 0000'); // wrong identifier
  h.hci.sig(HANDLE, '03 02 0800 5000 4100 0000 0000'); // wrong source CID
  h.hci.sig(HANDLE, '03 02 0800 0300 4000 0000 0000'); // success with a non-dynamic DCID
  h.loop.run(0);
  assert.equal(h.hci.take(), []);
  h.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000');
  h.hci.sig(HANDLE, '03 02 0800 5100 4000 0000 0000'); // duplicate: channel is in CONFIG now
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 04 03 08 00 50 00 00 00 01 02 e8 03']);
  assert.is(h.l2cap.l2cap_get_channels()[0]!.remote_cid, 0x50);
});

test('Command Reject for our Connection Request: CHANNEL_OPENED status 0x60 + reason', () => {
  const h = makeHarness();
  toConnectionRequest(h);
  h.hci.sig(HANDLE, '01 02 0200 0000');
  h.loop.run(0);
  assert.is(fromHex(h.ofCode(0x70)[0]!.bytes)[2], 0x60);
});

test('ACL link failure: CHANNEL_OPENED with the HCI status and handle 0xffff', () => {
  const h = makeHarness();
  h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 1000);
  h.l2cap.l2cap_create_channel(h.handler, REMOTE, 0x1003, 1000);
  h.hci.connectionComplete(REMOTE, 0, 0x04);
  h.loop.run(0);
  assert.equal(
    h.ofCode(0x70).map((e) => e.bytes),
    [
      '70 18 04 66 55 44 33 22 11 ff ff 01 10 40 00 00 00 e8 03 a0 02 00 00 00 00 00',
      '70 18 04 66 55 44 33 22 11 ff ff 03 10 41 00 00 00 e8 03 a0 02 00 00 00 00 00',
    ],
  );
  assert.is(h.l2cap.state.channelPool.in_use, 0);
});

test('create channel: HCI refusing the link is returned; pool exhausted; bad arguments throw', () => {
  const h = makeHarness('v1.4', { MAX_NR_L2CAP_CHANNELS: 1 });
  h.hci.connect_status = 0x0c;
  assert.equal(h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 100), { status: 0x0c, local_cid: 0 });
  h.hci.connect_status = 0;
  assert.equal(h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 100).status, 0);
  assert.equal(h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 100), { status: 0x56, local_cid: 0 });
  assert.throws(() => h.l2cap.l2cap_create_channel(h.handler, new Uint8Array(5), PSM, 100), TypeError);
  assert.throws(() => h.l2cap.l2cap_create_channel(h.handler, REMOTE, -1, 100), TypeError);
});

test('second channel on a link whose information exchange is done goes straight to the Connection Request', () => {
  const h = makeHarness();
  const a = openOutgoing(h, PSM, 0x50);
  assert.is(a, 0x40);
  h.l2cap.l2cap_create_channel(h.handler, REMOTE, 0x1003, 200);
  h.loop.run(0);
  const sent = h.hci.take();
  assert.is(sent.length, 1);
  assert.match(sent[0]!, /^08 00 01 00 02 .. 04 00 03 10 41 00$/);
  assert.is(h.hci.connect_requests.length, 1, 'no second link');
});

test('configuration: "unacceptable parameters" with a larger MTU -> new request with it; Rejected -> disconnect, CHANNEL_OPENED 0x67', () => {
  const h = makeHarness();
  toConnectionRequest(h);
  h.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000');
  h.loop.run(0);
  h.hci.take();
  h.hci.sig(HANDLE, '05 03 0a00 4000 0000 0100 0102 d007');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 04 04 08 00 50 00 00 00 01 02 d0 07'], 'MTU 2000 accepted and asked again');
  h.hci.sig(HANDLE, '05 04 0600 4000 0000 0200');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['08 00 01 00 06 05 04 00 50 00 40 00'], 'Disconnection Request');
  h.hci.sig(HANDLE, '07 05 0400 5000 4000');
  h.loop.run(0);
  const ev = h.ofCode(0x70);
  assert.is(ev.length, 1);
  assert.is(ev[0]!.bytes.slice(0, 8), '70 18 67');
  assert.is(h.ofCode(0x71).length, 0);
});

test('configuration: continuation flag in a success response -> empty request for the rest', () => {
  const h = makeHarness();
  toConnectionRequest(h);
  h.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000');
  h.loop.run(0);
  h.hci.take();
  h.hci.sig(HANDLE, '05 03 0600 4000 0100 0000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['08 00 01 00 04 04 04 00 50 00 00 00']);
  h.hci.sig(HANDLE, '04 08 0400 4000 0000');
  h.hci.sig(HANDLE, '05 04 0600 4000 0000 0000');
  h.loop.run(0);
  assert.is(h.ofCode(0x70)[0]!.bytes.slice(0, 8), '70 18 00');
});

test('configuration pending (result 4) waits ERTX; no answer to our request at all -> RTX 0x69', () => {
  const h = makeHarness();
  toConnectionRequest(h);
  h.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000');
  h.loop.run(0);
  h.hci.sig(HANDLE, '05 03 0600 4000 0000 0400');
  h.loop.run(100_000);
  assert.is(h.ofCode(0x70).length, 0);
  h.hci.sig(HANDLE, '05 03 0600 4000 0000 0000');
  h.hci.sig(HANDLE, '04 08 0400 4000 0000');
  h.loop.run(0);
  assert.is(h.ofCode(0x70)[0]!.bytes.slice(0, 8), '70 18 00');

  const g = makeHarness();
  toConnectionRequest(g);
  g.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000');
  g.loop.run(10_001);
  assert.is(g.ofCode(0x70)[0]!.bytes.slice(0, 8), '70 18 69');
});

test('configuration guard: our request accepted but the remote never sends its own -> Disconnection Request after 40 s, CHANNEL_OPENED 0x69, pools full', () => {
  const h = makeHarness();
  toConnectionRequest(h);
  h.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000'); // connected: CONFIG starts now
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 04 03 08 00 50 00 00 00 01 02 e8 03']);
  h.hci.sig(HANDLE, '05 03 0600 4000 0000 0000'); // success for our request, and then silence
  h.loop.run(39_999);
  assert.equal(h.hci.take(), []);
  assert.is(h.l2cap.l2cap_get_channels()[0]!.state, 'CONFIG');
  h.loop.run(1);
  // Disconnection Request id 4: DCID 0x0050 SCID 0x0040
  assert.equal(h.hci.take(), ['08 00 01 00 06 04 04 00 50 00 40 00']);
  assert.is(h.ofCode(0x70).length, 0, 'reported once the disconnection is done');
  h.hci.sig(HANDLE, '07 04 0400 5000 4000');
  h.loop.run(0);
  // status 0x69 (L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT), remote cid 0x0050, local MTU 1000, remote MTU 672
  assert.equal(
    h.ofCode(0x70).map((e) => e.bytes),
    ['70 18 69 66 55 44 33 22 11 40 00 01 10 40 00 50 00 e8 03 a0 02 00 00 00 00 00'],
  );
  assert.is(h.ofCode(0x71).length, 0, 'never opened: no CHANNEL_CLOSED');
  assert.is(h.l2cap.state.channelPool.in_use, 0);
  assert.equal(h.l2cap.l2cap_get_channels(), []);

  // the remote does not answer the Disconnection Request either: RTX ends the channel with 0x69
  const g = makeHarness();
  toConnectionRequest(g);
  g.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000');
  g.loop.run(0);
  g.hci.sig(HANDLE, '05 03 0600 4000 0000 0000');
  g.loop.run(40_000);
  assert.equal(g.hci.take(), ['0c 00 01 00 04 03 08 00 50 00 00 00 01 02 e8 03', '08 00 01 00 06 04 04 00 50 00 40 00']);
  g.loop.run(10_000);
  assert.equal(
    g.ofCode(0x70).map((e) => e.bytes.slice(0, 8)),
    ['70 18 69'],
  );
  assert.is(g.l2cap.state.channelPool.in_use, 0);
});

test('configuration guard: the remote sends its request but never answers ours -> RTX (10 s) decides, 0x69; a request answered "pending" outlives the guard', () => {
  const h = makeHarness();
  toConnectionRequest(h);
  h.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000');
  h.loop.run(0);
  h.hci.sig(HANDLE, '04 08 0400 4000 0000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 04 03 08 00 50 00 00 00 01 02 e8 03', '0a 00 01 00 05 08 06 00 50 00 00 00 00 00']);
  h.loop.run(10_000);
  assert.equal(
    h.ofCode(0x70).map((e) => e.bytes.slice(0, 8)),
    ['70 18 69'],
  );
  assert.is(h.l2cap.state.channelPool.in_use, 0);

  // "pending" (result 4) to our request: ERTX (120 s) runs past the 40 s guard, then success opens
  const g = makeHarness();
  toConnectionRequest(g);
  g.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000');
  g.hci.sig(HANDLE, '04 08 0400 4000 0000');
  g.loop.run(0);
  g.hci.sig(HANDLE, '05 03 0600 4000 0000 0400');
  g.loop.run(110_000);
  g.hci.take();
  assert.is(g.ofCode(0x70).length, 0);
  g.hci.sig(HANDLE, '05 03 0600 4000 0000 0000');
  g.loop.run(0);
  assert.equal(
    g.ofCode(0x70).map((e) => e.bytes.slice(0, 8)),
    ['70 18 00'],
  );
  g.loop.run(200_000);
  assert.equal(g.hci.take(), [], 'no guard left once open');
  assert.is(g.ofCode(0x71).length, 0);
});

test('l2cap_disconnect before the link is up drops the channel with CHANNEL_CLOSED; during the request, disconnects once connected', () => {
  const h = makeHarness();
  h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 1000);
  assert.is(h.l2cap.l2cap_disconnect(0x40), 0);
  assert.equal(
    h.ofCode(0x71).map((e) => e.bytes),
    ['71 02 40 00'],
  );
  assert.is(h.l2cap.state.channelPool.in_use, 0);

  const g = makeHarness();
  toConnectionRequest(g);
  g.l2cap.l2cap_disconnect(0x40);
  g.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000');
  g.loop.run(0);
  assert.equal(g.hci.take(), ['08 00 01 00 06 03 04 00 50 00 40 00']);
  g.hci.sig(HANDLE, '07 03 0400 5000 4000');
  g.loop.run(0);
  assert.equal(
    g.ofCode(0x71).map((e) => e.bytes),
    ['71 02 40 00'],
  );
  assert.is(g.ofCode(0x70).length, 0);
});

test('link loss while channels open and opening: CLOSED for open ones, OPENED 0x6A for the others, pools back to full', () => {
  const h = makeHarness();
  openOutgoing(h, PSM, 0x50);
  openOutgoing(h, 0x1003, 0x51);
  h.l2cap.l2cap_create_channel(h.handler, REMOTE, 0x1005, 1000);
  h.loop.run(0);
  h.hci.disconnectionComplete(HANDLE, 0x08);
  h.loop.run(0);
  assert.equal(
    h.ofCode(0x71).map((e) => e.bytes),
    ['71 02 40 00', '71 02 41 00'],
  );
  const failed = h.ofCode(0x70).filter((e) => !e.bytes.startsWith('70 18 00'));
  assert.equal(
    failed.map((e) => e.bytes.slice(0, 8) + ' ' + e.channel),
    ['70 18 6a 66'],
  );
  assert.ok(h.pools.all_free(), JSON.stringify(h.pools.stats()));
});

test('idle link: disconnected after the auto-disconnect timeout once the last channel closed; 0 = never', () => {
  const h = makeHarness();
  openOutgoing(h, PSM, 0x50);
  h.l2cap.l2cap_disconnect(0x40);
  h.loop.run(0);
  h.hci.sig(HANDLE, '07 04 0400 5000 4000');
  h.loop.run(0);
  assert.equal(
    h.l2cap.l2cap_get_connections().map((c) => c.idle),
    [true],
  );
  h.loop.run(9_999);
  assert.equal(h.hci.disconnects, []);
  h.loop.run(1);
  assert.equal(h.hci.disconnects, [HANDLE]);

  const g = makeHarness();
  g.l2cap.l2cap_set_auto_disconnect_timeout(0);
  openOutgoing(g, PSM, 0x50);
  g.hci.sig(HANDLE, '06 09 0400 4000 5000');
  g.loop.run(0);
  g.loop.run(1_000_000);
  assert.equal(g.hci.disconnects, []);

  // a new channel on the idle link stops the timer
  const k = makeHarness();
  k.l2cap.l2cap_set_auto_disconnect_timeout(5000);
  openOutgoing(k, PSM, 0x50);
  k.hci.sig(HANDLE, '06 09 0400 4000 5000');
  k.loop.run(4000);
  openOutgoing(k, PSM, 0x51);
  k.loop.run(0);
  assert.equal(
    k.l2cap.l2cap_get_connections().map((c) => c.idle),
    [false],
  );
  k.loop.run(60_000);
  assert.equal(k.hci.disconnects, []);
});

test('idle from the start: a link that comes up without a channel (remote-initiated) is disconnected after 10 s', () => {
  const h = makeHarness();
  h.hci.connectionComplete(REMOTE, HANDLE);
  h.loop.run(0);
  assert.equal(
    h.l2cap.l2cap_get_connections().map((c) => c.idle),
    [true],
  );
  h.loop.run(9_999);
  assert.equal(h.hci.disconnects, []);
  h.loop.run(1);
  assert.equal(h.hci.disconnects, [HANDLE]);
  assert.equal(h.hci.take(), [], 'no signalling on an idle link');
  h.hci.disconnectionComplete(HANDLE);
  h.loop.run(0);
  assert.ok(h.pools.all_free());
});

test('idle from the start: a channel the remote opens within the timeout keeps the link; closing it restarts the wait', () => {
  const h = makeHarness();
  assert.is(h.l2cap.l2cap_register_service(h.handler, PSM, 1000, 0), 0);
  h.hci.connectionComplete(REMOTE, HANDLE);
  h.loop.run(5_000);
  h.hci.sig(HANDLE, '02 01 0400 0110 5000'); // Connection Request at 5 s
  h.loop.run(0);
  h.l2cap.l2cap_accept_connection(0x40);
  h.loop.run(0);
  h.hci.sig(HANDLE, '05 01 0600 4000 0000 0000');
  h.hci.sig(HANDLE, '04 02 0400 4000 0000');
  h.loop.run(0);
  assert.equal(
    h.ofCode(0x70).map((e) => e.bytes.slice(0, 8)),
    ['70 18 00'],
  );
  h.loop.run(60_000);
  assert.equal(h.hci.disconnects, []);
  h.hci.sig(HANDLE, '06 03 0400 4000 5000'); // the remote disconnects the channel
  h.loop.run(0);
  assert.equal(
    h.ofCode(0x71).map((e) => e.bytes),
    ['71 02 40 00'],
  );
  h.loop.run(9_999);
  assert.equal(h.hci.disconnects, []);
  h.loop.run(1);
  assert.equal(h.hci.disconnects, [HANDLE]);
});

test('idle from the start: echo traffic on a channel-less link restarts the wait; l2cap_set_auto_disconnect_timeout(0) keeps it forever', () => {
  const h = makeHarness();
  h.hci.connectionComplete(REMOTE, HANDLE);
  h.loop.run(8_000);
  assert.is(h.l2cap.l2cap_send_echo_request(HANDLE, fromHex('0102'), 2), 0);
  h.loop.run(0);
  // Echo Request id 1, data 01 02
  assert.equal(h.hci.take(), ['06 00 01 00 08 01 02 00 01 02']);
  h.hci.sig(HANDLE, '09 01 0200 0102');
  h.loop.run(2_000); // 10 s after link up
  assert.equal(h.hci.disconnects, []);
  h.loop.run(7_999);
  assert.equal(h.hci.disconnects, []);
  h.loop.run(1); // 10 s after the Echo Response
  assert.equal(h.hci.disconnects, [HANDLE]);

  const g = makeHarness();
  g.l2cap.l2cap_set_auto_disconnect_timeout(0);
  g.hci.connectionComplete(REMOTE, HANDLE);
  g.loop.run(3_600_000);
  assert.equal(g.hci.disconnects, []);

  // a shorter timeout applies to links that come up afterwards
  const k = makeHarness();
  k.l2cap.l2cap_set_auto_disconnect_timeout(2_500);
  k.hci.connectionComplete(REMOTE, HANDLE);
  k.loop.run(2_499);
  assert.equal(k.hci.disconnects, []);
  k.loop.run(1);
  assert.equal(k.hci.disconnects, [HANDLE]);
});

test('a link HCI made before L2CAP knew about it is adopted: by l2cap_create_channel and by incoming signalling', () => {
  const h = makeHarness();
  h.hci.preexisting(REMOTE, 0x0077);
  const r = h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 1000);
  assert.is(r.status, 0);
  assert.equal(h.hci.connect_requests, [], 'no new link asked for');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['06 00 01 00 0a 01 02 00 02 00'], 'information request on the existing link');
  assert.equal(h.hci.aclHeaders(), [], 'taken');

  const g = makeHarness();
  g.l2cap.l2cap_register_service(g.handler, PSM, 1000, 0);
  g.hci.preexisting(REMOTE, 0x0078);
  g.hci.sig(0x0078, '02 01 0400 0110 5000');
  g.loop.run(0);
  assert.equal(
    g.ofCode(0x72).map((e) => e.bytes),
    ['72 0e 66 55 44 33 22 11 78 00 01 10 40 00 50 00'],
  );
  g.hci.sig(0x0099, '0a 02 0200 0200'); // a handle HCI does not know: dropped
  g.loop.run(0);
  assert.equal(g.hci.take(), []);
});

test('a channel created while the idle link is being disconnected waits for it to go, then gets a new link', () => {
  const h = makeHarness();
  openOutgoing(h, PSM, 0x50);
  h.hci.sig(HANDLE, '06 09 0400 4000 5000'); // remote closes the channel
  h.loop.run(10_000);
  assert.equal(h.hci.disconnects, [HANDLE], 'idle link disconnect asked for');
  const r = h.l2cap.l2cap_create_channel(h.handler, REMOTE, 0x1003, 500);
  assert.is(r.status, 0);
  h.loop.run(0);
  assert.equal(h.hci.connect_requests.length, 1, 'no new link while the old one is going');
  assert.equal(
    h.hci.take().filter((p) => !p.startsWith('08 00 01 00 07')),
    [],
    'nothing sent on the closing link',
  );
  h.hci.disconnectionComplete(HANDLE, 0x16);
  h.loop.run(0);
  assert.equal(h.hci.connect_requests.length, 2, 'a new link asked for');
  assert.is(h.ofCode(0x70).filter((e) => e.channel === r.local_cid).length, 0, 'the channel lives on');
  h.hci.connectionComplete(REMOTE, 0x0041);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['06 00 01 00 0a 04 02 00 02 00'], 'information request on the new link');
  assert.equal(
    h.l2cap.l2cap_get_channels().map((c) => [c.local_cid, c.con_handle, c.state]),
    [[r.local_cid, 0x41, 'W4_L2CAP_CON_RSP']],
  );
});

test('stack off: channels waiting for a link end with 0x6A', () => {
  const h = makeHarness();
  h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 1000);
  h.hci.event(fromHex('60 01 00')); // BTSTACK_EVENT_STATE OFF
  h.loop.run(0);
  assert.is(h.ofCode(0x70)[0]!.bytes.slice(0, 8), '70 18 6a');
  assert.ok(h.pools.all_free());
});

test.run();
