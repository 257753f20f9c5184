/**
 * L2CAP end to end, the failure paths in virtual time: RTX timeout against a peer without L2CAP,
 * "pending" + ERTX (accepted late, and never answered), and link loss while SDUs are in flight
 * on several channels in both directions (every channel gets its terminal event, pools back to
 * full), idle ACL links (closed after 10 s only when L2CAP runs). Captures must stay clean.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { ADDR_A, ADDR_B, h16, makePair, pattern, revAddr } from './l2cap-helpers.js';

test('RTX: the peer never answers (no L2CAP there): CHANNEL_OPENED 0x69 after 10 s + 10 s of virtual time', () => {
  const p = makePair({ tag: 'rtx', l2cap_b: false });
  const { a, b } = p;
  // b's application takes the ACL data itself (raw HCI): nothing reaches its L2CAP, nothing answers
  b.stack.hci.hci_register_acl_packet_handler(() => {});
  b.stack.gap.gap_connectable_control(1);
  p.rl.run(50);
  const t0 = p.rl.get_time_ms();
  const c = a.stack.l2cap.l2cap_create_channel(a.handler, ADDR_B, 0x1001, 1000);
  assert.is(c.status, 0);
  p.until(() => a.events(0x70).length === 1, 'open failed', 60_000);
  const dt = p.rl.get_time_ms() - t0;
  // information request RTX (10 s, then the Connection Request goes out anyway) + connection RTX (10 s)
  assert.ok(dt >= 20_000 && dt < 20_200, `failed after ${dt} ms`);
  assert.equal(a.events(0x70), [`70 18 69 ${revAddr(ADDR_B)} ${h16(a.handle())} 01 10 40 00 00 00 e8 03 a0 02 00 00 00 00 00`]);
  assert.is(a.stack.l2cap.state.channelPool.in_use, 0);
  const [logA, logB] = p.finish();
  assertCleanCapture(logA);
  assertCleanCapture(logB);
});

test('pending: an undecided server answers "pending" after 1 s, the client waits ERTX; accepted after 60 s it opens', () => {
  const p = makePair({ tag: 'ertx-late' });
  const { a, b } = p;
  b.stack.l2cap.l2cap_register_service(b.handler, 0x1001, 1000, 0);
  const c = a.stack.l2cap.l2cap_create_channel(a.handler, ADDR_B, 0x1001, 1000);
  p.until(() => b.events(0x72).length === 1, 'incoming');
  const t0 = p.rl.get_time_ms();
  p.rl.run(60_000);
  assert.is(a.events(0x70).length, 0, 'still waiting: pending moved the client to ERTX');
  assert.is(b.stack.l2cap.l2cap_accept_connection(0x40), 0);
  p.until(() => a.events(0x70).length === 1 && b.events(0x70).length === 1, 'open after the late accept');
  assert.ok(p.rl.get_time_ms() - t0 < 61_000);
  assert.is(a.events(0x70)[0]!.slice(0, 8), '70 18 00');
  assert.equal(
    a.stack.l2cap.l2cap_get_channels().map((x) => [x.local_cid, x.state]),
    [[c.local_cid, 'OPEN']],
  );
  a.stack.l2cap.l2cap_disconnect(c.local_cid);
  p.until(() => b.events(0x71).length === 1, 'closed');
  b.stack.l2cap.l2cap_unregister_service(0x1001);
  const [logA, logB] = p.finish();
  assertCleanCapture(logA);
  assertCleanCapture(logB);
  // the Connection Responses on the wire: pending (1) with status 2 authorization pending, then success
  const rsps = tsharkFields(logA, ['btl2cap.result', 'btl2cap.status'], 'btl2cap.cmd_code == 0x03').map(([r, s]) => [
    parseInt(r!, 16),
    parseInt(s!, 16),
  ]);
  assert.equal(rsps, [
    [1, 2],
    [0, 0],
  ]);
});

test('pending never resolved: the client gives up after ERTX (120 s) with 0x69; the undecided server channel is declined with 0x69', () => {
  const p = makePair({ tag: 'ertx-never' });
  const { a, b } = p;
  b.stack.l2cap.l2cap_register_service(b.handler, 0x1001, 1000, 0);
  a.stack.l2cap.l2cap_create_channel(a.handler, ADDR_B, 0x1001, 1000);
  p.until(() => b.events(0x72).length === 1, 'incoming');
  const hb = b.handle();
  const t0 = p.rl.get_time_ms();
  p.until(() => a.events(0x70).length === 1, 'client gives up', 200_000);
  const dt = p.rl.get_time_ms() - t0;
  assert.ok(dt >= 120_000 && dt < 121_500, `gave up after ${dt} ms`);
  assert.is(a.events(0x70)[0]!.slice(0, 8), '70 18 69');
  // b's application never answered either: once the client's ERTX is over, b declines it itself
  p.until(() => b.events(0x70).length === 1, 'server channel ends', 20_000);
  assert.equal(b.events(0x70), [`70 18 69 ${revAddr(ADDR_A)} ${h16(hb)} 01 10 40 00 40 00 e8 03 a0 02 00 00 01 00 00`]);
  assert.is(b.stack.l2cap.state.channelPool.in_use, 0);
  // and a closes the idle link 10 s after its channel ended
  p.until(() => a.handle() === -1 && b.handle() === -1, 'idle link closed', 15_000);
  b.stack.l2cap.l2cap_unregister_service(0x1001);
  const [logA, logB] = p.finish();
  assertCleanCapture(logA);
  assertCleanCapture(logB);
});

test('a channel created while L2CAP is closing the idle link gets a new link and opens', () => {
  const p = makePair({ tag: 'reconnect' });
  const { a, b } = p;
  b.on = (r, n) => {
    if (r.type === 4 && r.bytes[0] === 0x72) n.stack.l2cap.l2cap_accept_connection(r.channel);
  };
  b.stack.l2cap.l2cap_register_service(b.handler, 0x1001, 1000, 0);
  const la = a.stack.l2cap;
  la.l2cap_set_auto_disconnect_timeout(1000);
  const c1 = la.l2cap_create_channel(a.handler, ADDR_B, 0x1001, 1000);
  p.until(() => a.events(0x70).length === 1, 'first channel open');
  la.l2cap_disconnect(c1.local_cid);
  p.until(() => la.state.linkForAddr(ADDR_B)?.closing === true, 'idle link being closed', 5000);
  const c2 = la.l2cap_create_channel(a.handler, ADDR_B, 0x1001, 1000);
  assert.is(c2.status, 0);
  p.until(() => a.events(0x70).length === 2, 'second channel reported', 10_000);
  assert.is(a.events(0x70)[1]!.slice(0, 8), '70 18 00');
  assert.ok(a.handle() >= 0);
  assert.equal(
    la.l2cap_get_connections().map((c) => [c.state, c.channels]),
    [['OPEN', 1]],
  );
  assert.ok(a.events(0x70)[1]!.includes(h16(a.handle())), 'on the new link');
  la.l2cap_disconnect(c2.local_cid);
  p.until(() => b.events(0x71).length === 2, 'closed');
  b.stack.l2cap.l2cap_unregister_service(0x1001);
  const [logA, logB] = p.finish();
  assertCleanCapture(logA);
  assertCleanCapture(logB);
});

test('idle ACL link: with L2CAP, a link no channel ever used is closed after 10 s (reason 0x13, as BTstack); without L2CAP (raw HCI) it stays', () => {
  const p = makePair({ tag: 'idle-acl', l2cap_b: false });
  const { a, b } = p;
  const reasons: number[] = [];
  b.stack.hci.hci_add_event_handler({ callback: (_t, _c, e) => void (e[0] === 0x05 && reasons.push(e[5]!)) });
  b.stack.gap.gap_connectable_control(1);
  p.rl.run(50);
  assert.is(a.stack.hci.hci_connect_acl(ADDR_B), 0);
  p.until(() => a.handle() >= 0 && b.handle() >= 0, 'link up');
  const t0 = p.rl.get_time_ms();
  p.until(() => a.handle() === -1 && b.handle() === -1, 'idle link closed by a', 20_000);
  const dt = p.rl.get_time_ms() - t0;
  assert.ok(dt >= 10_000 && dt < 10_500, `closed after ${dt} ms`);
  assert.equal(reasons, [0x13], 'b: remote user terminated connection');
  const [logA, logB] = p.finish();
  assertCleanCapture(logA);
  assertCleanCapture(logB);

  const q = makePair({ tag: 'raw-acl', l2cap_a: false, l2cap_b: false });
  q.b.stack.gap.gap_connectable_control(1);
  q.rl.run(50);
  assert.is(q.a.stack.hci.hci_connect_acl(ADDR_B), 0);
  q.until(() => q.a.handle() >= 0 && q.b.handle() >= 0, 'raw link up');
  q.rl.run(120_000);
  assert.ok(q.a.handle() >= 0 && q.b.handle() >= 0, 'no L2CAP: nobody closes the link');
  const [logC, logD] = q.finish();
  assertCleanCapture(logC);
  assertCleanCapture(logD);
});

test('link loss with data in flight on three channels both ways: every channel CHANNEL_CLOSED, pools back to full', () => {
  const p = makePair({ tag: 'linkloss', acl_size: 100, acl_buffers: 3 });
  const { a, b } = p;
  const la = a.stack.l2cap;
  const lb = b.stack.l2cap;
  la.l2cap_register_service(a.handler, 0x1003, 4000, 0);
  lb.l2cap_register_service(b.handler, 0x1001, 4000, 0);
  const accept = (r: { type: number; channel: number; bytes: Uint8Array }, n: typeof a) => {
    if (r.type === 4 && r.bytes[0] === 0x72) n.stack.l2cap.l2cap_accept_connection(r.channel);
    // keep sending: every CAN_SEND_NOW sends a 3000-byte SDU and asks again
    if (r.type === 4 && r.bytes[0] === 0x78) {
      n.stack.l2cap.l2cap_send(r.channel, pattern(3000, r.channel));
      n.stack.l2cap.l2cap_request_can_send_now_event(r.channel);
    }
    if (r.type === 4 && r.bytes[0] === 0x70 && r.bytes[2] === 0) n.stack.l2cap.l2cap_request_can_send_now_event(r.channel);
  };
  a.on = accept;
  b.on = accept;
  la.l2cap_create_channel(a.handler, ADDR_B, 0x1001, 4000);
  la.l2cap_create_channel(a.handler, ADDR_B, 0x1001, 4000);
  p.until(() => a.events(0x70).length === 2, 'a -> b channels open');
  lb.l2cap_create_channel(b.handler, ADDR_A, 0x1003, 4000);
  p.until(() => a.events(0x70).length === 3 && b.events(0x70).length === 3, 'b -> a channel open');
  p.until(() => a.data(0x40).length >= 2 && b.data(0x40).length >= 2, 'data flowing', 10_000);
  const handle = a.handle();
  // lose the radio link in the middle of it all
  const ctrl = (a.stack.hci.state.transport as VirtualTransport).controller;
  assert.ok(ctrl.faults.drop_link(handle));
  p.until(() => a.events(0x71).length === 3 && b.events(0x71).length === 3, 'every channel closed on both sides', 60_000);
  assert.equal(a.events(0x71).sort(), ['71 02 40 00', '71 02 41 00', '71 02 42 00']);
  assert.equal(b.events(0x71).sort(), ['71 02 40 00', '71 02 41 00', '71 02 42 00']);
  for (const n of [a, b]) {
    const st = n.stack.pools.busy().filter((s) => s.name !== 'l2cap_services');
    assert.equal(st, [], `${n.name}: only the services remain`);
    // every SDU that arrived is intact
    for (const cid of [0x40, 0x41, 0x42]) for (const sdu of n.data(cid)) assert.is(sdu.length, 3000);
  }
  la.l2cap_unregister_service(0x1003);
  lb.l2cap_unregister_service(0x1001);
  const [logA, logB] = p.finish();
  assertCleanCapture(logA);
  assertCleanCapture(logB);
});

test.run();
