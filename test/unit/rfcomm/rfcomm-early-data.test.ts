/**
 * Data a peer sends on a DLC after the SABM/UA exchange but before this side has reported the
 * channel with RFCOMM_EVENT_CHANNEL_OPENED (legal: TS 07.10 lets a station send once its SABM
 * is answered, RFCOMM once it holds credits; CHANNEL_OPENED follows the MSC exchange). The
 * application must never see an rfcomm_cid it has not heard of: the frames are held and handed
 * over, in order, right after CHANNEL_OPENED (issue 11, item 2). Held data is bounded: before the
 * channel is open at most RFCOMM_CREDITS credits are granted (the rest follow CHANNEL_OPENED);
 * without credit-based flow control our MSC says FC = 1 while the buffer is nearly full.
 * Frames are worked out by hand (TS 07.10 5.2, FCS by the bitwise reference in rfcomm-helpers).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../../src/core/bytes.js';
import type { VirtualRunLoop } from '../../../src/core/run-loop.js';
import {
  ADDR_A,
  CAN_SEND,
  INCOMING,
  MODEM_STATUS,
  OPENED,
  PORT_CONFIG,
  auto_accept,
  fr,
  frame_by_hand,
  make_raw,
  type Node,
  type RawPeer,
} from './rfcomm-helpers.js';

const h = (b: Uint8Array): string => hex(b).replace(/ /g, '');
/** A UIH frame on DLCI 0 from A, the responder (address EA 1, C/R 0, DLCI 0 = 0x01). */
const fromA0 = (cmd: number[]): string => h(frame_by_hand(0x01, 0xef, cmd));

/** The link goes; with the service unregistered every pool is back to full. */
function finish(loop: VirtualRunLoop, a: Node, p: RawPeer): void {
  p.l2cap.link_loss();
  loop.run(100);
  a.rfcomm.rfcomm_unregister_service(4);
  assert.ok(a.stack.pools.all_free(), 'pools back to full');
}

/** What A's application saw: events by code name, data as "data:<hex>", in order. */
function seen(a: Node): string[] {
  const names: Record<number, string> = {
    [OPENED]: 'OPENED',
    [CAN_SEND]: 'CAN_SEND_NOW',
    [PORT_CONFIG]: 'PORT_CONFIGURATION',
    [INCOMING]: 'INCOMING',
    [MODEM_STATUS]: 'MODEM_STATUS',
  };
  return a.recs.map((r) => (r.type === 7 ? `data:${r.hex}` : (names[r.bytes[0]!] ?? `event:${r.hex}`)));
}

/**
 * The raw peer (initiator) opens the session and A's server channel 4 (DLCI 8, address 0x23 for
 * the peer's commands): PN with the given convergence layer and N1, then SABM. Returns after A's
 * UA (and whatever A sends with it).
 */
function setup(loop: VirtualRunLoop, a: Node, p: RawPeer, cl: number, n1: number): void {
  auto_accept(a);
  p.connect(ADDR_A);
  loop.run(10);
  p.send(fr(0x03, 0x3f)); // SABM 0
  loop.run(10);
  assert.equal(p.rx(), ['037301d7'], 'UA 0');
  p.received.length = 0;
  p.send(fr(0x03, 0xef, [0x83, 0x11, 0x08, cl, 0x00, 0x00, n1 & 0xff, n1 >> 8, 0x00, 0x07])); // PN, k 7
  loop.run(10);
  p.send(fr(0x23, 0x3f)); // SABM 8
  loop.run(10);
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: UIH right after UA and the peer's MSC is held until CHANNEL_OPENED, then delivered in order`, () => {
    const { loop, a, p } = make_raw(profile);
    a.rfcomm.rfcomm_register_service(a.handler, 4, 500);
    setup(loop, a, p, 0xf0, 256);
    // A: PN response (CL 0xE0, N1 256, k 7), UA on DLCI 8 (response from the responder: C/R 1 -> 0x23),
    // its MSC command (DLCI 8 as EA 1, C/R 1: 0x23; V.24 0x8D), the 3 remaining initial credits (UIH P/F on 0x21)
    assert.equal(p.rx(), [
      fromA0([0x81, 0x11, 0x08, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07]),
      h(frame_by_hand(0x23, 0x73)),
      fromA0([0xe3, 0x05, 0x23, 0x8d]),
      h(frame_by_hand(0x21, 0xff, [], 3)),
    ]);
    p.received.length = 0;
    // the peer: its MSC command, then data at once (one frame granting A 2 credits), before answering A's MSC
    p.send(fr(0x03, 0xef, [0xe3, 0x05, 0x23, 0x8d]));
    p.send(fr(0x23, 0xef, [0x68, 0x65, 0x6c, 0x6c, 0x6f])); // "hello"
    p.send(fr(0x23, 0xff, [0x20], 2)); // " " with 2 credits
    p.send(fr(0x23, 0xef, new Array<number>(200).fill(0x77))); // two length octets
    loop.run(10);
    assert.equal(seen(a), ['INCOMING', 'MODEM_STATUS'], 'no data before CHANNEL_OPENED');
    assert.equal(p.rx(), [fromA0([0xe1, 0x05, 0x23, 0x8d])], 'MSC response');
    assert.is(a.rfcomm.list()[0]!.channels[0]!.credits_outgoing, 7 + 2, 'credits of a held frame count at once');
    // the peer answers A's MSC: CHANNEL_OPENED, then the held data in order
    p.send(fr(0x03, 0xef, [0xe1, 0x05, 0x23, 0x8d]));
    loop.run(10);
    const after = profile === 'v1.4' ? ['OPENED', 'CAN_SEND_NOW', 'PORT_CONFIGURATION'] : ['OPENED', 'CAN_SEND_NOW'];
    assert.equal(seen(a), ['INCOMING', 'MODEM_STATUS', ...after, 'data:68656c6c6f', 'data:20', `data:${'77'.repeat(200)}`]);
    // CHANNEL_OPENED byte for byte: status 0, bd_addr B reversed, handle 0x000b, channel 4, cid 1, N1 256, incoming 1, reserved
    assert.is(a.events(OPENED)[0]!.hex, '801000b6b5b4b3b2b10b00040100000101' + '00');
    // data afterwards arrives as usual, the credits go on (10 granted, 4 used: no refill yet)
    p.send(fr(0x23, 0xef, [0x21]));
    loop.run(10);
    assert.equal(
      a
        .data()
        .map((d) => d.hex)
        .slice(-1),
      ['21'],
    );
    assert.is(a.rfcomm.list()[0]!.channels[0]!.credits_incoming, 6);
    finish(loop, a, p);
  });

  test(`${profile}: manual initial credits beyond RFCOMM_CREDITS: 10 before CHANNEL_OPENED, the rest after; 10 early frames all delivered`, () => {
    const { loop, a, p } = make_raw(profile);
    a.rfcomm.rfcomm_register_service_with_initial_credits(a.handler, 4, 100, 30);
    setup(loop, a, p, 0xf0, 100);
    assert.equal(
      p.rx(),
      [
        fromA0([0x81, 0x11, 0x08, 0xe0, 0x00, 0x00, 0x64, 0x00, 0x00, 0x07]),
        h(frame_by_hand(0x23, 0x73)),
        fromA0([0xe3, 0x05, 0x23, 0x8d]),
        h(frame_by_hand(0x21, 0xff, [], 3)),
      ],
      '7 + 3 credits before the channel is open',
    );
    p.received.length = 0;
    p.send(fr(0x03, 0xef, [0xe3, 0x05, 0x23, 0x8d]));
    for (let i = 0; i < 10; i++) p.send(fr(0x23, 0xef, new Array<number>(100).fill(i)));
    loop.run(10);
    assert.equal(a.data().length, 0);
    p.send(fr(0x03, 0xef, [0xe1, 0x05, 0x23, 0x8d]));
    loop.run(10);
    assert.equal(
      a.data().map((d) => d.hex),
      Array.from({ length: 10 }, (_, i) => i.toString(16).padStart(2, '0').repeat(100)),
    );
    // the other 20 initial credits after CHANNEL_OPENED
    assert.equal(p.rx(), [fromA0([0xe1, 0x05, 0x23, 0x8d]), h(frame_by_hand(0x21, 0xff, [], 20))]);
    finish(loop, a, p);
  });

  test(`${profile}: without credit-based flow control, FC = 1 in an MSC while early data fills the buffer, FC = 0 once open`, () => {
    const { loop, a, p } = make_raw(profile);
    a.rfcomm.rfcomm_register_service(a.handler, 4, 500);
    setup(loop, a, p, 0x00, 50);
    assert.equal(p.rx(), [
      fromA0([0x81, 0x11, 0x08, 0x00, 0x00, 0x00, 0x32, 0x00, 0x00, 0x00]),
      h(frame_by_hand(0x23, 0x73)),
      fromA0([0xe3, 0x05, 0x23, 0x8d]),
    ]);
    p.received.length = 0;
    p.send(fr(0x03, 0xef, [0xe3, 0x05, 0x23, 0x8d]));
    for (let i = 0; i < 8; i++) p.send(fr(0x23, 0xef, [i]));
    loop.run(10);
    // MSC response, then an MSC command with FC (bit 2 of the V.24 octet: 0x8D | 0x02 = 0x8F)
    assert.equal(p.rx(), [fromA0([0xe1, 0x05, 0x23, 0x8d]), fromA0([0xe3, 0x05, 0x23, 0x8f])]);
    p.received.length = 0;
    p.send(fr(0x03, 0xef, [0xe1, 0x05, 0x23, 0x8d])); // answers the first MSC
    loop.run(10);
    assert.equal(
      a.data().map((d) => d.hex),
      ['00', '01', '02', '03', '04', '05', '06', '07'],
    );
    assert.equal(p.rx(), [fromA0([0xe3, 0x05, 0x23, 0x8d])], 'FC = 0 again');
    finish(loop, a, p);
  });
}

test('the channel fails before it opens: held data goes with it, CHANNEL_OPENED with a status, no data event', () => {
  const { loop, a, p } = make_raw('v1.4');
  a.rfcomm.rfcomm_register_service(a.handler, 4, 500);
  setup(loop, a, p, 0xf0, 256);
  p.send(fr(0x23, 0xef, [1, 2, 3]));
  p.send(fr(0x23, 0x53)); // DISC 8 before the MSC exchange
  loop.run(10);
  assert.equal(a.data().length, 0);
  assert.equal(
    a.events(OPENED).map((r) => r.bytes[2]),
    [0x0d],
  );
  finish(loop, a, p);
});

test.run();
