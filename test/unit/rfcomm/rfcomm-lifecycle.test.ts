/**
 * RFCOMM life cycle over the fake L2CAP: decline, no service, disconnect from either side, link
 * loss in every phase, L2CAP failures, pools exhausted (status codes, DM, L2CAP decline),
 * service registration errors, response timeouts, the peer closing the session (DISC / DM on
 * DLCI 0), and several sessions at once. Every test ends with the pools back to full.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../../src/core/bytes.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import {
  ADDR_A,
  ADDR_B,
  ADDR_C,
  CLOSED,
  FakeAir,
  INCOMING,
  Node,
  OPENED,
  auto_accept,
  fr,
  frame_by_hand,
  make_pair,
  make_raw,
  opened_info,
  pool_in_use,
  sent_hex,
} from './rfcomm-helpers.js';

const h = (b: Uint8Array): string => hex(b).replace(/ /g, '');

function opened(a: Node): Array<{ status: number; cid: number; mfs: number; incoming: number }> {
  return a.events(OPENED).map(opened_info);
}

test('decline: DM for the DLC, CHANNEL_OPENED 0x0D on the client, nothing more on the server', () => {
  const { loop, air, a, b } = make_pair('v1.4');
  b.on = (r) => {
    if (r.type === 4 && r.bytes[0] === INCOMING) assert.is(b.rfcomm.rfcomm_decline_connection(r.bytes[9]!), 0);
  };
  b.rfcomm.rfcomm_register_service(b.handler, 4, 100);
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 4);
  loop.run(1000);
  // DM (P/F set) from the responder: response, C/R 1 -> address (8 << 2) | 3 = 0x23
  assert.ok(sent_hex(air, ADDR_B).includes(h(frame_by_hand(0x23, 0x1f))), 'DM with F=1 on DLCI 8');
  assert.equal(opened(a), [{ status: 0x0d, cid: 1, mfs: 1012, incoming: 0 }]);
  assert.is(a.events(OPENED)[0]!.channel, 0);
  assert.is(b.events(INCOMING).length, 1);
  assert.is(b.recs.length, 1, 'the server only saw the incoming connection');
  assert.is(pool_in_use(a, 'rfcomm_channels') + pool_in_use(b, 'rfcomm_channels'), 0);
  assert.is(b.rfcomm.rfcomm_decline_connection(1), 0x02, 'unknown cid now');
  loop.run();
  assert.ok(a.stack.pools.all_free() && pool_in_use(b, 'rfcomm_multiplexers') === 0, 'idle session closed, pools full');
});

test('no service on the server channel: DM, CHANNEL_OPENED 0x0D', () => {
  const { loop, a, b } = make_pair('v1.8');
  b.rfcomm.rfcomm_register_service(b.handler, 1, 100);
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 9);
  loop.run(1000);
  assert.equal(
    opened(a).map((o) => o.status),
    [0x0d],
  );
  assert.is(b.recs.length, 0);
  loop.run();
  assert.ok(a.stack.pools.all_free());
});

test('disconnect from the server side, then the client reconnects on the same session', () => {
  const { loop, a, b } = make_pair('v1.4');
  auto_accept(b);
  b.rfcomm.rfcomm_register_service(b.handler, 2, 100);
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 2);
  loop.run(1000);
  const bcid = opened_info(b.events(OPENED)[0]!).cid;
  assert.is(b.rfcomm.rfcomm_disconnect(bcid), 0);
  assert.is(b.rfcomm.rfcomm_disconnect(bcid), 0, 'a second call while closing is harmless');
  loop.run(1000);
  assert.equal(
    a.events(CLOSED).map((r) => r.hex),
    ['81020100'],
  );
  assert.equal(
    b.events(CLOSED).map((r) => r.hex),
    ['81020100'],
  );
  const again = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 2);
  assert.equal(again, { status: 0, rfcomm_cid: 2 });
  loop.run(1000);
  assert.equal(
    opened(a).map((o) => [o.status, o.cid]),
    [
      [0, 1],
      [0, 2],
    ],
  );
  assert.equal(a.l2cap.calls.filter((c) => c === 'create').length, 1, 'the session was reused');
});

test('link loss: open DLCs get CHANNEL_CLOSED, DLCs being set up CHANNEL_OPENED with RFCOMM_MULTIPLEXER_STOPPED; pools full', () => {
  const { loop, a, b } = make_pair('v1.4');
  auto_accept(b);
  b.rfcomm.rfcomm_register_service(b.handler, 1, 100);
  b.rfcomm.rfcomm_register_service(b.handler, 2, 100);
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1);
  loop.run(1000);
  // the second DLC is still waiting for its PN response when the link goes
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 2);
  assert.ok(
    loop.run_until(() => a.rfcomm.list()[0]!.channels[1]!.state === 4, 1000),
    'W4_PN_RSP',
  );
  a.l2cap.link_loss();
  loop.run(1000);
  assert.equal(
    a.events(CLOSED).map((r) => r.hex),
    ['81020100'],
  );
  assert.equal(
    opened(a).map((o) => [o.status, o.cid]),
    [
      [0, 1],
      [0x70, 2],
    ],
  );
  assert.equal(
    b.events(CLOSED).map((r) => r.hex),
    ['81020100'],
  );
  assert.ok(a.stack.pools.all_free(), 'A pools full');
  assert.is(pool_in_use(b, 'rfcomm_channels') + pool_in_use(b, 'rfcomm_multiplexers'), 0);
  assert.is(loop.timer_count(), 0);
  assert.is(a.rfcomm.rfcomm_send(1, new Uint8Array(1)), 0x02);
});

test('link loss while the server has not answered INCOMING_CONNECTION: CHANNEL_OPENED 0x70 to the service', () => {
  const { loop, a, b } = make_pair('v1.8');
  b.rfcomm.rfcomm_register_service(b.handler, 1, 100);
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1);
  assert.ok(loop.run_until(() => b.events(INCOMING).length === 1, 1000));
  b.l2cap.link_loss();
  loop.run(1000);
  assert.equal(
    opened(b).map((o) => [o.status, o.incoming]),
    [[0x70, 1]],
  );
  assert.equal(
    opened(a).map((o) => o.status),
    [0x70],
  );
  assert.is(b.rfcomm.rfcomm_accept_connection(1), 0x02, 'gone');
  assert.ok(a.stack.pools.all_free());
});

test('L2CAP failures: page timeout and refused PSM reach every waiting DLC as CHANNEL_OPENED status', () => {
  const { loop, a, b } = make_pair('v1.4');
  b.l2cap.unreachable = true;
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1);
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 2);
  loop.run(1000);
  assert.equal(
    opened(a).map((o) => [o.status, o.cid]),
    [
      [0x04, 1],
      [0x04, 2],
    ],
  );
  assert.ok(a.stack.pools.all_free());
  b.l2cap.unreachable = false; // reachable, but nothing registered on PSM 3
  a.clear();
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1);
  loop.run(1000);
  assert.equal(
    opened(a).map((o) => o.status),
    [0x65],
  );
  assert.ok(a.stack.pools.all_free());
});

test('pools exhausted: BTSTACK_MEMORY_ALLOC_FAILED, DM for a DLC the server has no room for, L2CAP declined for a session', () => {
  const loop = new VirtualRunLoop();
  loop.onError = (e) => {
    throw e;
  };
  const air = new FakeAir(loop);
  const small = { MAX_NR_RFCOMM_MULTIPLEXERS: 1, MAX_NR_RFCOMM_CHANNELS: 2, MAX_NR_RFCOMM_SERVICES: 2 };
  const a = new Node(air, ADDR_A, 'v1.4', small);
  const b = new Node(air, ADDR_B, 'v1.4', { MAX_NR_RFCOMM_MULTIPLEXERS: 1, MAX_NR_RFCOMM_CHANNELS: 1 });
  const c = new Node(air, ADDR_C, 'v1.4');
  auto_accept(b);
  auto_accept(c);
  assert.is(b.rfcomm.rfcomm_register_service(b.handler, 1, 100), 0);
  assert.is(b.rfcomm.rfcomm_register_service(b.handler, 2, 100), 0);
  assert.is(c.rfcomm.rfcomm_register_service(c.handler, 1, 100), 0);
  assert.equal(a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1), { status: 0, rfcomm_cid: 1 });
  assert.equal(a.rfcomm.rfcomm_create_channel(a.handler, ADDR_C, 1), { status: 0x56, rfcomm_cid: 0 }, 'no multiplexer left');
  assert.equal(a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 2), { status: 0, rfcomm_cid: 2 });
  assert.equal(a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 3), { status: 0x56, rfcomm_cid: 0 }, 'no channel left');
  loop.run(1000);
  // B has room for one DLC: the second gets DM
  assert.equal(
    opened(a)
      .map((o) => [o.status, o.cid])
      .sort((x, y) => x[1]! - y[1]!),
    [
      [0, 1],
      [0x0d, 2],
    ],
  );
  // C connects to B: B has no multiplexer left and declines the L2CAP channel
  c.rfcomm.rfcomm_create_channel(c.handler, ADDR_B, 2);
  loop.run(1000);
  assert.ok(b.l2cap.calls.includes('decline'));
  assert.equal(
    opened(c).map((o) => o.status),
    [0x67],
  );
  // services: duplicate, pool, bad arguments
  assert.is(a.rfcomm.rfcomm_register_service(a.handler, 5, 100), 0);
  assert.is(a.rfcomm.rfcomm_register_service(a.handler, 5, 100), 0x71, 'RFCOMM_CHANNEL_ALREADY_REGISTERED');
  assert.is(a.rfcomm.rfcomm_register_service_with_initial_credits(a.handler, 6, 100, 3), 0);
  assert.is(a.rfcomm.rfcomm_register_service(a.handler, 7, 100), 0x56, 'service pool full');
  assert.is(a.rfcomm.rfcomm_register_service(a.handler, 0, 100), 0x11);
  assert.is(a.rfcomm.rfcomm_register_service(a.handler, 31, 100), 0x11);
  assert.is(a.rfcomm.rfcomm_register_service(a.handler, 8, 0), 0x11);
  assert.throws(() => a.rfcomm.rfcomm_register_service(null as never, 9, 100), TypeError);
  assert.throws(() => a.rfcomm.rfcomm_register_service_with_initial_credits(a.handler, 9, 100, 256), TypeError);
  a.rfcomm.rfcomm_unregister_service(5);
  a.rfcomm.rfcomm_unregister_service(6);
  a.rfcomm.rfcomm_unregister_service(6);
  // everything closes
  a.rfcomm.rfcomm_disconnect(1);
  loop.run();
  assert.ok(a.stack.pools.all_free(), 'A pools full');
  assert.ok(c.stack.pools.all.filter((p) => p.name !== 'rfcomm_services').every((p) => p.in_use === 0));
});

test('response timeouts: no UA for SABM 0 -> 0x70 and L2CAP closed; no UA for the DLC -> ERROR_CODE_CONNECTION_TIMEOUT', () => {
  const { loop, a, p } = make_raw('v1.4');
  p.listen();
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 3);
  loop.run(1000);
  assert.equal(p.rx(), ['033f011c']);
  loop.run(58_000);
  assert.is(a.events(OPENED).length, 0, 'still waiting');
  loop.run(2_000);
  assert.equal(
    opened(a).map((o) => o.status),
    [0x70],
  );
  assert.ok(a.l2cap.calls.includes('disconnect'));
  loop.run();
  assert.ok(a.stack.pools.all_free());

  // second round: the peer opens the session and answers PN, but never the SABM on the DLC
  a.clear();
  p.received.length = 0;
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 3);
  loop.run(100);
  assert.equal(p.rx(), ['033f011c']);
  p.send(fr(0x03, 0x73));
  loop.run(100);
  const pn = p.received[1]!;
  assert.is(h(pn.subarray(0, 5)), '03ef158311', 'PN command');
  p.send(fr(0x01, 0xef, [0x81, 0x11, 0x06, 0xe0, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x02]));
  loop.run(100);
  assert.is(h(p.received[2]!), h(frame_by_hand(0x1b, 0x3f)), 'SABM on DLCI 6');
  loop.run(61_000);
  assert.equal(
    opened(a).map((o) => o.status),
    [0x08],
  );
  assert.is(pool_in_use(a, 'rfcomm_channels'), 0);
});

test('the peer closes the session: DISC on DLCI 0 -> UA, DLCs closed, L2CAP closed; DM on DLCI 0 refuses the session', () => {
  const { loop, a, p } = make_raw('v1.8');
  p.listen();
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1);
  loop.run(100);
  p.send(fr(0x03, 0x73)); // UA 0
  loop.run(100);
  p.send(fr(0x01, 0xef, [0x81, 0x11, 0x02, 0xe0, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x05])); // PN rsp, N1 127, k 5
  loop.run(100);
  p.send(fr(0x0b, 0x73)); // UA on DLCI 2 (response from the responder: C/R 1)
  loop.run(100);
  p.send(fr(0x01, 0xef, [0xe1, 0x05, 0x0b, 0x8d])); // MSC response
  p.send(fr(0x01, 0xef, [0xe3, 0x05, 0x0b, 0x8d])); // MSC command
  loop.run(100);
  assert.equal(
    opened(a).map((o) => [o.status, o.mfs]),
    [[0, 127]],
  );
  p.received.length = 0;
  p.send(fr(0x01, 0x53)); // DISC 0 from the responder (command, C/R 0)
  loop.run(100);
  assert.equal(p.rx()[0], h(frame_by_hand(0x01, 0x73)), 'UA 0 from the initiator (response, C/R 0)');
  assert.equal(
    a.events(CLOSED).map((r) => r.hex),
    ['81020100'],
  );
  assert.ok(p.closed, 'L2CAP closed');
  assert.ok(a.stack.pools.all_free());

  a.clear();
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1);
  loop.run(100);
  p.send(fr(0x03, 0x1f)); // DM 0 with F
  loop.run(100);
  assert.equal(
    opened(a).map((o) => o.status),
    [0x70],
  );
  loop.run();
  assert.ok(a.stack.pools.all_free());
});

test('several sessions at once: A to B and C, data on both, link loss on one leaves the other', () => {
  const loop = new VirtualRunLoop();
  loop.onError = (e) => {
    throw e;
  };
  const air = new FakeAir(loop);
  const a = new Node(air, ADDR_A, 'v1.4');
  const b = new Node(air, ADDR_B, 'v1.4');
  const c = new Node(air, ADDR_C, 'v1.4');
  for (const n of [b, c]) {
    auto_accept(n);
    n.rfcomm.rfcomm_register_service(n.handler, 1, 100);
  }
  const cb = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1).rfcomm_cid;
  const cc = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_C, 1).rfcomm_cid;
  loop.run(1000);
  assert.equal(
    opened(a).map((o) => o.status),
    [0, 0],
  );
  assert.is(a.rfcomm.list().length, 2);
  assert.is(a.rfcomm.rfcomm_send(cb, Uint8Array.of(1)), 0);
  assert.is(a.rfcomm.rfcomm_send(cc, Uint8Array.of(2)), 0);
  loop.run(1000);
  assert.equal(
    b.data().map((d) => d.hex),
    ['01'],
  );
  assert.equal(
    c.data().map((d) => d.hex),
    ['02'],
  );
  b.l2cap.link_loss();
  loop.run(1000);
  assert.equal(
    a.events(CLOSED).map((r) => r.bytes[2]),
    [cb],
  );
  assert.is(a.rfcomm.rfcomm_send(cc, Uint8Array.of(3)), 0);
  loop.run(1000);
  assert.equal(
    c.data().map((d) => d.hex),
    ['02', '03'],
  );
  assert.is(a.rfcomm.list().length, 1);
});

test('rfcomm_disconnect in every phase ends with exactly one final event', () => {
  for (const phase of ['w4-mux', 'w4-pn', 'w4-ua', 'incoming-accepted'] as const) {
    const { loop, a, b } = make_pair('v1.4');
    b.rfcomm.rfcomm_register_service(b.handler, 1, 100);
    if (phase !== 'incoming-accepted') auto_accept(b);
    const cid = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1).rfcomm_cid;
    if (phase === 'w4-mux') {
      assert.is(a.rfcomm.rfcomm_disconnect(cid), 0);
      assert.equal(
        a.events(CLOSED).map((r) => r.hex),
        ['81020100'],
        `${phase}: closed at once`,
      );
    } else if (phase === 'w4-pn' || phase === 'w4-ua') {
      const want = phase === 'w4-pn' ? '83' : '3f';
      assert.ok(
        loop.run_until(
          () =>
            sent_hex(a.l2cap.air, ADDR_A).some((f) =>
              phase === 'w4-pn' ? f.slice(6, 8) === want : f.slice(2, 4) === want && f.slice(0, 2) !== '03',
            ),
          1000,
        ),
      );
      assert.is(a.rfcomm.rfcomm_disconnect(cid), 0);
      loop.run(1000);
      assert.is(a.events(CLOSED).length + a.events(OPENED).length, 1, `${phase}: one final event`);
      assert.is(a.events(OPENED).filter((r) => r.bytes[2] === 0).length, 0, `${phase}: never reported open`);
    } else {
      assert.ok(loop.run_until(() => b.events(INCOMING).length === 1, 1000));
      const bcid = b.events(INCOMING)[0]!.bytes[9]!;
      assert.is(b.rfcomm.rfcomm_accept_connection(bcid), 0);
      assert.is(b.rfcomm.rfcomm_accept_connection(bcid), 0x0c, 'already accepted');
      assert.is(b.rfcomm.rfcomm_disconnect(bcid), 0);
      loop.run(1000);
      assert.equal(b.events(CLOSED).length, 1, 'accepted then disconnected: CHANNEL_CLOSED');
      assert.equal(
        opened(a).map((o) => o.status),
        [0x0d],
      );
    }
    loop.run();
    assert.ok(a.stack.pools.all_free(), `${phase}: A pools full`);
    assert.is(pool_in_use(b, 'rfcomm_channels') + pool_in_use(b, 'rfcomm_multiplexers'), 0, `${phase}: B pools full`);
  }
});

test.run();
