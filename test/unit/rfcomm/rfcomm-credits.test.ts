/**
 * RFCOMM flow control: credits exhausted and replenished (automatic and manual), credit frames on
 * the wire, ACL buffers full, aggregate FCoff/FCon, TS 07.10 flow control (MSC FC) on a DLC
 * without credit-based flow control, a DLC opened without PN, credits overflowing, a peer sending
 * beyond its credits (delivered, as BTstack) or beyond the frame size (discarded).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../../src/core/bytes.js';
import type { VirtualRunLoop } from '../../../src/core/run-loop.js';
import {
  ADDR_A,
  ADDR_B,
  CAN_SEND,
  INCOMING,
  OPENED,
  auto_accept,
  fr,
  frame_by_hand,
  make_pair,
  make_raw,
  open_with_raw,
  opened_info,
  sent_hex,
  type Node,
  type RawPeer,
} from './rfcomm-helpers.js';

const h = (b: Uint8Array): string => hex(b).replace(/ /g, '');

test('automatic credits: the sender runs dry, the receiver refills, 200 frames arrive in order', () => {
  const { loop, air, a, b } = make_pair('v1.4');
  auto_accept(b);
  b.rfcomm.rfcomm_register_service(b.handler, 1, 100);
  const cid = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1).rfcomm_cid;
  loop.run(100);
  let next = 0;
  let noCredits = 0;
  const total = 200;
  // send as fast as allowed; on CAN_SEND_NOW send until refused
  const pump = (): void => {
    while (next < total) {
      const st = a.rfcomm.rfcomm_send(cid, Uint8Array.of(next & 0xff, next >> 8));
      if (st === 0x72) noCredits++;
      if (st !== 0) break;
      next++;
    }
    if (next < total) a.rfcomm.rfcomm_request_can_send_now_event(cid);
  };
  a.on = (r) => {
    if (r.type === 4 && r.bytes[0] === CAN_SEND) pump();
  };
  pump();
  loop.run(10_000);
  assert.is(next, total);
  assert.ok(noCredits > 0, 'RFCOMM_NO_OUTGOING_CREDITS seen');
  const got = b.data().map((d) => d.bytes[0]! | (d.bytes[1]! << 8));
  assert.equal(
    got,
    Array.from({ length: total }, (_, i) => i),
  );
  // credit frames from B: UIH with P/F on DLCI 2 (address 0x09), never more than RFCOMM_CREDITS outstanding
  const credits = sent_hex(air, ADDR_B).filter((f) => f.startsWith('09ff01'));
  assert.ok(credits.length > 10);
  for (const f of credits) {
    const n = parseInt(f.slice(6, 8), 16);
    assert.ok(n >= 1 && n <= 10, `grant ${n}`);
    assert.is(f, h(frame_by_hand(0x09, 0xff, [], n)));
  }
  const ch = b.rfcomm.list()[0]!.channels[0]!;
  assert.ok(ch.credits_incoming <= 10);
});

test('manual credits: initial credits in PN, RFCOMM_NO_OUTGOING_CREDITS, rfcomm_grant_credits, CAN_SEND_NOW after the grant', () => {
  const { loop, air, a, b } = make_pair('v1.8');
  auto_accept(b);
  assert.is(b.rfcomm.rfcomm_register_service_with_initial_credits(b.handler, 1, 100, 2), 0);
  const cid = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1).rfcomm_cid;
  loop.run(100);
  // PN response carries k = 2 and no credit frame follows from B
  assert.ok(
    sent_hex(air, ADDR_B).includes(h(frame_by_hand(0x01, 0xef, [0x81, 0x11, 0x02, 0xe0, 0x00, 0x00, 0x64, 0x00, 0x00, 0x02]))),
  );
  assert.is(sent_hex(air, ADDR_B).filter((f) => f.startsWith('09ff')).length, 0);
  a.clear();
  assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(1)), 0);
  assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(2)), 0);
  assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(3)), 0x72, 'RFCOMM_NO_OUTGOING_CREDITS');
  assert.not.ok(a.rfcomm.rfcomm_can_send_packet_now(cid));
  assert.is(a.rfcomm.rfcomm_request_can_send_now(cid), 0);
  loop.run(1000);
  assert.is(a.events(CAN_SEND).length, 0, 'no CAN_SEND_NOW without credits');
  assert.is(b.data().length, 2);
  const bcid = opened_info(b.events(OPENED)[0]!).cid;
  air.sent.length = 0;
  assert.is(b.rfcomm.rfcomm_grant_credits(bcid, 3), 0);
  loop.run(1000);
  assert.equal(sent_hex(air, ADDR_B), [h(frame_by_hand(0x09, 0xff, [], 3))]);
  assert.equal(
    a.events(CAN_SEND).map((r) => [r.channel, r.hex]),
    [[cid, '89020100']],
  );
  for (let i = 0; i < 3; i++) assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(10 + i)), 0);
  assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(99)), 0x72);
  loop.run(1000);
  assert.equal(
    b.data().map((d) => d.bytes[0]),
    [1, 2, 10, 11, 12],
  );
  // errors
  assert.is(a.rfcomm.rfcomm_grant_credits(cid, 1), 0x0c, 'automatic channel: COMMAND_DISALLOWED');
  assert.is(b.rfcomm.rfcomm_grant_credits(99, 1), 0x02);
  assert.throws(() => b.rfcomm.rfcomm_grant_credits(bcid, -1), TypeError);
  assert.throws(() => b.rfcomm.rfcomm_grant_credits(bcid, 256), TypeError);
});

test('manual credits on the client: initial 0, the server cannot send until the client grants; > 255 credits go in several frames', () => {
  const { loop, air, a, b } = make_pair('v1.4');
  auto_accept(b);
  b.rfcomm.rfcomm_register_service(b.handler, 1, 100);
  const cid = a.rfcomm.rfcomm_create_channel_with_initial_credits(a.handler, ADDR_B, 1, 0).rfcomm_cid;
  loop.run(100);
  const bcid = opened_info(b.events(OPENED)[0]!).cid;
  assert.is(b.events(CAN_SEND).length, 0, 'no CAN_SEND_NOW after open without credits');
  assert.is(b.rfcomm.rfcomm_send(bcid, Uint8Array.of(1)), 0x72);
  air.sent.length = 0;
  assert.is(a.rfcomm.rfcomm_grant_credits(cid, 200), 0);
  assert.is(a.rfcomm.rfcomm_grant_credits(cid, 200), 0);
  loop.run(100);
  assert.equal(sent_hex(air, ADDR_A), [h(frame_by_hand(0x0b, 0xff, [], 255)), h(frame_by_hand(0x0b, 0xff, [], 145))]);
  assert.is(b.rfcomm.list()[0]!.channels[0]!.credits_outgoing, 400);
  assert.is(b.rfcomm.rfcomm_send(bcid, Uint8Array.of(1)), 0);
});

test('ACL buffers full: BTSTACK_ACL_BUFFERS_FULL, then CAN_SEND_NOW when the buffer frees', () => {
  const { loop, a, b } = make_pair('v1.4');
  auto_accept(b);
  b.rfcomm.rfcomm_register_service(b.handler, 1, 100);
  const cid = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1).rfcomm_cid;
  loop.run(100);
  a.l2cap.window = 1;
  a.clear();
  assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(1)), 0);
  assert.not.ok(a.rfcomm.rfcomm_can_send_packet_now(cid));
  assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(2)), 0x57, 'BTSTACK_ACL_BUFFERS_FULL');
  assert.is(a.rfcomm.rfcomm_request_can_send_now_event(cid), 0);
  loop.run(100);
  assert.is(a.events(CAN_SEND).length, 1);
  assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(2)), 0);
  loop.run(100);
  assert.equal(
    b.data().map((d) => d.bytes[0]),
    [1, 2],
  );
  assert.is(a.rfcomm.rfcomm_request_can_send_now_event(77), 0x02);
  assert.not.ok(a.rfcomm.rfcomm_can_send_packet_now(77));
});

test('aggregate flow control: FCoff answered, sending refused with RFCOMM_AGGREGATE_FLOW_OFF, FCon answered and CAN_SEND_NOW', () => {
  const { loop, a, p } = make_raw('v1.4');
  const cid = open_with_raw(loop, a, p, { credit: true, k: 7, n1: 127 });
  a.clear();
  p.received.length = 0;
  p.send(fr(0x01, 0xef, [0x63, 0x01])); // FCoff command
  loop.run(10);
  assert.equal(p.rx(), [h(frame_by_hand(0x03, 0xef, [0x61, 0x01]))], 'FCoff response');
  assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(1)), 0x73, 'RFCOMM_AGGREGATE_FLOW_OFF');
  assert.not.ok(a.rfcomm.rfcomm_can_send_packet_now(cid));
  a.rfcomm.rfcomm_request_can_send_now_event(cid);
  loop.run(10);
  assert.is(a.events(CAN_SEND).length, 0);
  p.received.length = 0;
  p.send(fr(0x01, 0xef, [0xa3, 0x01])); // FCon command
  loop.run(10);
  assert.equal(p.rx(), [h(frame_by_hand(0x03, 0xef, [0xa1, 0x01]))], 'FCon response');
  assert.is(a.events(CAN_SEND).length, 1);
  assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(1)), 0);
});

test('no credit-based flow control (PN answered with CL 0): no credit octets, MSC FC stops and restarts sending', () => {
  const { loop, a, p } = make_raw('v1.8');
  const cid = open_with_raw(loop, a, p, { credit: false, k: 0, n1: 50 });
  assert.is(opened_info(a.events(OPENED)[0]!).mfs, 50);
  // no credit frame went out from A during set-up
  assert.is(p.rx().filter((f) => f.startsWith('0bff')).length, 0);
  p.received.length = 0;
  a.l2cap.window = 100;
  for (let i = 0; i < 12; i++) assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(i)), 0, 'no credits needed');
  loop.run(10);
  assert.is(p.received.length, 12);
  assert.is(p.rx()[0], h(frame_by_hand(0x0b, 0xef, [0])));
  // the peer's data with P/F set carries no credit octet here
  p.send(fr(0x09, 0xff, [0x41, 0x42]));
  loop.run(10);
  assert.equal(
    a.data().map((d) => d.hex),
    ['4142'],
  );
  // MSC with FC set: flow off on this DLC
  a.clear();
  p.send(fr(0x01, 0xef, [0xe3, 0x05, 0x0b, 0x8f]));
  loop.run(10);
  assert.equal(
    a.events(0x87).map((r) => r.hex),
    ['870301008f'],
  );
  assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(1)), 0x72);
  a.rfcomm.rfcomm_request_can_send_now_event(cid);
  loop.run(10);
  assert.is(a.events(CAN_SEND).length, 0);
  p.send(fr(0x01, 0xef, [0xe3, 0x05, 0x0b, 0x8d]));
  loop.run(10);
  assert.is(a.events(CAN_SEND).length, 1, 'FC cleared: CAN_SEND_NOW');
  assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(1)), 0);
});

test('a DLC opened by SABM without PN: UA, frame size 127, no credit-based flow control', () => {
  const { loop, a, p } = make_raw('v1.4');
  auto_accept(a);
  a.rfcomm.rfcomm_register_service(a.handler, 4, 1000);
  p.connect(ADDR_A);
  loop.run(10);
  p.send(fr(0x03, 0x3f)); // SABM 0: the raw peer is the initiator
  loop.run(10);
  assert.equal(p.rx(), ['037301d7']);
  // server channel 4 on the responder: DLCI 8, SABM from the initiator: address (8 << 2) | 3 = 0x23
  p.send(fr(0x23, 0x3f));
  loop.run(10);
  assert.equal(
    a.events(INCOMING).map((r) => r.hex),
    ['8209b6b5b4b3b2b1040100'],
  );
  assert.is(p.rx()[1], h(frame_by_hand(0x23, 0x73)), 'UA on DLCI 8');
  assert.is(p.rx()[2], h(frame_by_hand(0x01, 0xef, [0xe3, 0x05, 0x23, 0x8d])), 'MSC command from the responder');
  p.send(fr(0x03, 0xef, [0xe1, 0x05, 0x23, 0x8d]));
  loop.run(10);
  const o = opened_info(a.events(OPENED)[0]!);
  assert.equal(o, { status: 0, cid: 1, mfs: 127, incoming: 1 });
  assert.is(a.rfcomm.rfcomm_send(1, new Uint8Array(127)), 0);
  assert.is(a.rfcomm.rfcomm_send(1, new Uint8Array(128)), 0x74);
});

test('credits overflowing are clamped, never wrapped; data beyond the credits is delivered (as BTstack), beyond the frame size discarded', () => {
  const { loop, a, p } = make_raw('v1.4');
  a.rfcomm.rfcomm_register_service_with_initial_credits(a.handler, 4, 1000, 2);
  auto_accept(a);
  p.connect(ADDR_A);
  loop.run(10);
  p.send(fr(0x03, 0x3f));
  loop.run(10);
  p.send(fr(0x03, 0xef, [0x83, 0x11, 0x08, 0xf0, 0x00, 0x00, 0x10, 0x00, 0x00, 0x07])); // PN: N1 16, k 7
  loop.run(10);
  assert.is(
    p.rx()[1],
    h(frame_by_hand(0x01, 0xef, [0x81, 0x11, 0x08, 0xe0, 0x00, 0x00, 0x10, 0x00, 0x00, 0x02])),
    'PN response: N1 16, k 2',
  );
  p.send(fr(0x23, 0x3f));
  loop.run(10);
  p.send(fr(0x03, 0xef, [0xe1, 0x05, 0x23, 0x8d]));
  loop.run(10);
  assert.is(opened_info(a.events(OPENED)[0]!).mfs, 16);
  // 300 credit frames of 255 credits: clamped at 65535
  for (let i = 0; i < 300; i++) p.send(fr(0x23, 0xff, [], 255));
  loop.run(10);
  assert.is(a.rfcomm.list()[0]!.channels[0]!.credits_outgoing, 65535);
  // the peer has 2 credits: the third frame comes all the same (delivered, the count stays 0); 17 octets exceed N1 16 (discarded)
  const incoming = (): number => a.rfcomm.list()[0]!.channels[0]!.credits_incoming;
  assert.is(incoming(), 2);
  p.send(fr(0x23, 0xef, [1]));
  p.send(fr(0x23, 0xef, new Array<number>(17).fill(9)));
  p.send(fr(0x23, 0xef, [2]));
  p.send(fr(0x23, 0xef, [3]));
  loop.run(10);
  assert.equal(
    a.data().map((d) => d.hex),
    ['01', '02', '03'],
  );
  assert.is(incoming(), 0, 'no credit below 0');
  const before = p.rx().length;
  assert.is(a.rfcomm.rfcomm_grant_credits(1, 1), 0);
  loop.run(10);
  // the grant on the wire: UIH with P/F on DLCI 8 from the responder (address 0x21 = DLCI 8, C/R 0), 1 credit, FCS over 21 ff
  assert.equal(p.rx().slice(before), [h(frame_by_hand(0x21, 0xff, [], 1))]);
  assert.is(incoming(), 1);
  p.send(fr(0x23, 0xef, [4]));
  loop.run(10);
  assert.equal(
    a.data().map((d) => d.hex),
    ['01', '02', '03', '04'],
  );
  assert.is(incoming(), 0);
  assert.is(a.rfcomm.rfcomm_send(1, new Uint8Array(16)), 0);
  assert.is(a.rfcomm.rfcomm_send(1, new Uint8Array(17)), 0x74);
});

test.run();
