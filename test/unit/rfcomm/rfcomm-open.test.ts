/**
 * RFCOMM over the fake L2CAP: session and DLC set-up with every frame checked against bytes
 * built by hand (TS 07.10 FCS computed bit by bit), the events each side's application sees
 * (bytes and channel argument) in both code profiles, data both ways, a second DLC opened by
 * the responder (direction bit and C/R of the other role), disconnect and the idle close-down.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../../src/core/bytes.js';
import {
  ADDR_A,
  ADDR_B,
  CAN_SEND,
  CLOSED,
  INCOMING,
  MODEM_STATUS,
  OPENED,
  PORT_CONFIG,
  auto_accept,
  fcs_by_hand,
  frame_by_hand,
  make_pair,
  opened_info,
  sent_hex,
} from './rfcomm-helpers.js';

const h = (b: Uint8Array): string => hex(b).replace(/ /g, '');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('FCS by hand matches the well-known frames (SABM 0 = 03 3F 01 1C, UA 0 = 03 73 01 D7, DISC 0 = 03 53 01 FD)', () => {
  assert.is(fcs_by_hand([0x03, 0x3f, 0x01]), 0x1c);
  assert.is(fcs_by_hand([0x03, 0x73, 0x01]), 0xd7);
  assert.is(fcs_by_hand([0x03, 0x53, 0x01]), 0xfd);
});

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: open a DLC, frames on the wire, events, data both ways, disconnect, idle close-down`, () => {
    const { loop, air, a, b } = make_pair(profile);
    auto_accept(b);
    assert.is(b.rfcomm.rfcomm_register_service(b.handler, 5, 1000), 0);
    assert.equal(b.l2cap.calls, ['register 3'], 'PSM 3 registered with L2CAP on the first service');
    const r = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 5);
    assert.equal(r, { status: 0, rfcomm_cid: 1 });
    loop.run(1000);

    // ---- frames: initiator A, responder B; server channel 5 on the responder -> DLCI 10 (D = 0)
    const fromA = sent_hex(air, ADDR_A);
    const fromB = sent_hex(air, ADDR_B);
    const pnCmd = [0x83, 0x11, 0x0a, 0xf0, 0x00, 0x00, 0xf4, 0x03, 0x00, 0x07]; // N1 1012 = MTU 1017 - 5, CL 0xF0, k 7
    const pnRsp = [0x81, 0x11, 0x0a, 0xe0, 0x00, 0x00, 0xe8, 0x03, 0x00, 0x07]; // N1 1000 (service), CL 0xE0, k 7
    assert.equal(
      fromA.slice(0, 3),
      ['033f011c', h(frame_by_hand(0x03, 0xef, pnCmd)), h(frame_by_hand(0x2b, 0x3f))],
      'SABM 0, PN, SABM 10',
    );
    assert.equal(
      fromB.slice(0, 3),
      ['037301d7', h(frame_by_hand(0x01, 0xef, pnRsp)), h(frame_by_hand(0x2b, 0x73))],
      'UA 0, PN response, UA 10',
    );
    // then each side: MSC command (signals 0x8D), MSC response, the 3 initial credits PN could not carry
    assert.equal(
      fromA.slice(3).sort(),
      [
        h(frame_by_hand(0x03, 0xef, [0xe3, 0x05, 0x2b, 0x8d])),
        h(frame_by_hand(0x03, 0xef, [0xe1, 0x05, 0x2b, 0x8d])),
        h(frame_by_hand(0x2b, 0xff, [], 3)),
      ].sort(),
    );
    assert.equal(
      fromB.slice(3).sort(),
      [
        h(frame_by_hand(0x01, 0xef, [0xe3, 0x05, 0x2b, 0x8d])),
        h(frame_by_hand(0x01, 0xef, [0xe1, 0x05, 0x2b, 0x8d])),
        h(frame_by_hand(0x29, 0xff, [], 3)),
      ].sort(),
    );

    // ---- events on B (server)
    const inc = b.events(INCOMING);
    assert.is(inc.length, 1);
    assert.is(inc[0]!.channel, 0, 'INCOMING_CONNECTION with channel 0');
    assert.is(
      inc[0]!.hex,
      profile === 'v1.4' ? '8209a6a5a4a3a2a1050100' : '820ba6a5a4a3a2a10501000b00',
      'B12 (v1.4) / B12H (v1.8)',
    );
    const bOpen = b.events(OPENED);
    assert.is(bOpen.length, 1);
    assert.is(bOpen[0]!.channel, 0);
    assert.is(
      bOpen[0]!.hex,
      '801000a6a5a4a3a2a10b00050100e8030100',
      'status 0, addr, handle 0x000b, #5, cid 1, mfs 1000, incoming 1, reserved',
    );
    // ---- events on A (client)
    const aOpen = a.events(OPENED);
    assert.is(aOpen.length, 1);
    assert.is(aOpen[0]!.hex, '801000b6b5b4b3b2b10b00050100e8030000', 'incoming 0, mfs 1000 from the PN response');
    for (const n of [a, b]) {
      const ms = n.events(MODEM_STATUS);
      assert.is(ms.length, 1);
      assert.is(ms[0]!.channel, 1, 'REMOTE_MODEM_STATUS with channel = rfcomm_cid');
      assert.is(ms[0]!.hex, '870301008d', 'cid + modem status (5 bytes in both profiles)');
      const cs = n.events(CAN_SEND);
      assert.is(cs.length, 1, 'CAN_SEND_NOW follows the open');
      assert.is(cs[0]!.channel, 1);
      assert.is(cs[0]!.hex, '89020100');
      const pc = n.events(PORT_CONFIGURATION_CODE);
      if (profile === 'v1.4') {
        assert.is(pc.length, 1, 'v1.4: PORT_CONFIGURATION after every open');
        assert.is(pc[0]!.channel, 1);
        assert.is(pc[0]!.hex, '8807030300d1d37f3f', '9600 8N1, XON D1, XOFF D3, masks 7F 3F');
      } else {
        assert.is(pc.length, 0, 'v1.8: no PORT_CONFIGURATION after the open');
      }
      // order: OPENED, CAN_SEND_NOW, (PORT_CONFIGURATION)
      const codes = n.recs
        .filter((x) => x.type === 4 && x.bytes[0] !== MODEM_STATUS && x.bytes[0] !== INCOMING)
        .map((x) => x.bytes[0]);
      assert.equal(codes, profile === 'v1.4' ? [OPENED, CAN_SEND, PORT_CONFIG] : [OPENED, CAN_SEND]);
    }
    assert.is(a.rfcomm.rfcomm_get_max_frame_size(1), 1000);
    assert.is(b.rfcomm.rfcomm_get_max_frame_size(1), 1000);
    assert.is(a.rfcomm.rfcomm_get_max_frame_size(99), 0);

    // ---- data both ways
    air.sent.length = 0;
    assert.is(a.rfcomm.rfcomm_send(1, enc('hello')), 0);
    assert.is(b.rfcomm.rfcomm_send(1, enc('world!')), 0);
    loop.run(1000);
    assert.equal(sent_hex(air, ADDR_A), [h(frame_by_hand(0x2b, 0xef, [...enc('hello')]))]);
    assert.equal(sent_hex(air, ADDR_B), [h(frame_by_hand(0x29, 0xef, [...enc('world!')]))]);
    assert.equal(
      b.data().map((d) => [d.channel, d.hex]),
      [[1, h(enc('hello'))]],
    );
    assert.equal(
      a.data().map((d) => [d.channel, d.hex]),
      [[1, h(enc('world!'))]],
    );

    // ---- disconnect from A: DISC / UA on DLCI 10, CHANNEL_CLOSED on both sides (channel 0)
    air.sent.length = 0;
    assert.is(a.rfcomm.rfcomm_disconnect(1), 0);
    assert.ok(loop.run_until(() => a.events(CLOSED).length === 1 && b.events(CLOSED).length === 1, 1000));
    loop.run(0);
    assert.equal(sent_hex(air), [h(frame_by_hand(0x2b, 0x53)), h(frame_by_hand(0x2b, 0x73))]);
    for (const n of [a, b]) {
      const c = n.events(CLOSED);
      assert.is(c.length, 1);
      assert.is(c[0]!.channel, 0);
      assert.is(c[0]!.hex, '81020100');
    }
    assert.is(a.rfcomm.rfcomm_send(1, enc('x')), 0x02, 'unknown cid after close');
    assert.is(a.stack.pools.all.find((p) => p.name === 'rfcomm_channels')!.in_use, 0);
    assert.is(a.stack.pools.all.find((p) => p.name === 'rfcomm_multiplexers')!.in_use, 1, 'the session stays for the idle time');

    // ---- idle close-down after 60 s: DISC 0 / UA 0, then L2CAP closed; pools back to full
    air.sent.length = 0;
    loop.run(59_000);
    assert.equal(sent_hex(air), [], 'nothing before the idle timeout');
    loop.run();
    const disc = sent_hex(air);
    assert.ok(disc.includes('035301fd') || disc.includes(h(frame_by_hand(0x01, 0x53))), 'DISC on DLCI 0');
    assert.ok(a.l2cap.calls.includes('disconnect') || b.l2cap.calls.includes('disconnect'));
    assert.ok(a.stack.pools.all_free(), 'A: every pool back to full');
    assert.is(b.stack.pools.all.find((p) => p.name === 'rfcomm_multiplexers')!.in_use, 0);
    assert.is(b.stack.pools.all.find((p) => p.name === 'rfcomm_channels')!.in_use, 0);
    b.rfcomm.rfcomm_unregister_service(5);
    assert.ok(b.stack.pools.all_free(), 'B: every pool back to full');
    assert.equal(b.l2cap.calls.slice(-1), ['unregister 3']);
    assert.is(loop.timer_count(), 0, 'no timer left');
  });
}

const PORT_CONFIGURATION_CODE = PORT_CONFIG;

test('a second DLC opened by the responder: server on the initiator (D = 1), responder C/R values', () => {
  const { loop, air, a, b } = make_pair('v1.4');
  auto_accept(a);
  auto_accept(b);
  assert.is(b.rfcomm.rfcomm_register_service(b.handler, 3, 0xffff), 0);
  assert.is(a.rfcomm.rfcomm_register_service(a.handler, 7, 200), 0);
  const first = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 3);
  loop.run(1000);
  assert.is(a.events(OPENED).length, 1);
  air.sent.length = 0;
  // B (responder of the session) opens A's server channel 7: DLCI = 7 << 1 | 1 = 15
  const second = b.rfcomm.rfcomm_create_channel(b.handler, ADDR_A, 7);
  assert.equal(second, { status: 0, rfcomm_cid: 2 });
  loop.run(1000);
  const fromB = sent_hex(air, ADDR_B);
  const fromA = sent_hex(air, ADDR_A);
  // PN command from the responder on DLCI 0: address 0x01 (C/R 0); N1 1012 offered, A's service caps at 200
  assert.is(fromB[0], h(frame_by_hand(0x01, 0xef, [0x83, 0x11, 0x0f, 0xf0, 0x00, 0x00, 0xf4, 0x03, 0x00, 0x07])));
  assert.is(fromA[0], h(frame_by_hand(0x03, 0xef, [0x81, 0x11, 0x0f, 0xe0, 0x00, 0x00, 0xc8, 0x00, 0x00, 0x07])));
  // SABM from the responder: command C/R = 0 -> address (15 << 2) | 1 = 0x3D; UA from the initiator: response C/R = 0 too
  assert.is(fromB[1], h(frame_by_hand(0x3d, 0x3f)));
  assert.is(fromA[1], h(frame_by_hand(0x3d, 0x73)));
  const bo = b.events(OPENED).map(opened_info);
  assert.equal(bo.slice(-1), [{ status: 0, cid: 2, mfs: 200, incoming: 0 }]);
  const ao = a.events(OPENED).map(opened_info);
  assert.equal(ao.slice(-1), [{ status: 0, cid: 2, mfs: 200, incoming: 1 }]);
  assert.is(a.events(INCOMING)[0]!.hex, '8209b6b5b4b3b2b1070200', 'A is told: B, server channel 7, cid 2');
  // data on the second DLC: B sends UIH with C/R 0 (0x3D), A answers with C/R 1 (0x3F)
  air.sent.length = 0;
  assert.is(b.rfcomm.rfcomm_send(2, enc('to A')), 0);
  assert.is(a.rfcomm.rfcomm_send(2, enc('to B')), 0);
  assert.is(a.rfcomm.rfcomm_send(first.rfcomm_cid, enc('dlc 6')), 0);
  loop.run(1000);
  assert.equal(sent_hex(air, ADDR_B), [h(frame_by_hand(0x3d, 0xef, [...enc('to A')]))]);
  assert.equal(sent_hex(air, ADDR_A), [
    h(frame_by_hand(0x3f, 0xef, [...enc('to B')])),
    h(frame_by_hand(0x1b, 0xef, [...enc('dlc 6')])),
  ]);
  assert.equal(
    a.data().map((d) => [d.channel, new TextDecoder().decode(d.bytes)]),
    [[2, 'to A']],
  );
  assert.equal(
    b.data().map((d) => [d.channel, new TextDecoder().decode(d.bytes)]),
    [
      [2, 'to B'],
      [1, 'dlc 6'],
    ],
  );
  assert.is(a.rfcomm.list().length, 1, 'one session for both DLCs');
  assert.is(a.rfcomm.list()[0]!.channels.length, 2);
  // the responder closes its DLC: DISC with C/R 0, UA with C/R 0
  air.sent.length = 0;
  assert.is(b.rfcomm.rfcomm_disconnect(2), 0);
  loop.run(1000);
  assert.equal(sent_hex(air), [h(frame_by_hand(0x3d, 0x53)), h(frame_by_hand(0x3d, 0x73))]);
  assert.is(a.events(CLOSED).length, 1);
  assert.is(b.events(CLOSED).length, 1);
  assert.is(a.rfcomm.list()[0]!.channels.length, 1, 'the other DLC stays');
});

test(`zero-copy send through L2CAP's outgoing buffer: reserve, write into the outgoing buffer, send_prepared (1- and 2-octet lengths)`, () => {
  const { loop, air, a, b } = make_pair('v1.4');
  auto_accept(b);
  b.rfcomm.rfcomm_register_service(b.handler, 1, 1000);
  a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1);
  loop.run(1000);
  air.sent.length = 0;
  for (const len of [10, 300]) {
    assert.ok(a.rfcomm.rfcomm_reserve_packet_buffer());
    assert.not.ok(a.rfcomm.rfcomm_reserve_packet_buffer(), 'already reserved');
    const buf = a.rfcomm.rfcomm_get_outgoing_buffer();
    assert.ok(buf.length >= a.rfcomm.rfcomm_get_max_frame_size(1));
    for (let i = 0; i < len; i++) buf[i] = i & 0xff;
    assert.is(a.rfcomm.rfcomm_send_prepared(1, len), 0);
    loop.run(1000);
  }
  const pl = (n: number): number[] => Array.from({ length: n }, (_, i) => i & 0xff);
  // server channel 1 on the responder: DLCI 2, address (2 << 2) | 2 | 1 = 0x0B
  assert.equal(sent_hex(air, ADDR_A), [h(frame_by_hand(0x0b, 0xef, pl(10))), h(frame_by_hand(0x0b, 0xef, pl(300)))]);
  assert.equal(
    b.data().map((d) => d.bytes.length),
    [10, 300],
  );
  assert.ok(a.rfcomm.rfcomm_reserve_packet_buffer(), 'send_prepared released the buffer');
  a.rfcomm.rfcomm_release_packet_buffer();
  assert.ok(a.rfcomm.rfcomm_reserve_packet_buffer());
  assert.is(a.rfcomm.rfcomm_send_prepared(1, 1001), 0x74, 'RFCOMM_DATA_LEN_EXCEEDS_MTU');
  assert.ok(a.rfcomm.rfcomm_reserve_packet_buffer(), 'a failed send_prepared released the buffer too');
  a.rfcomm.rfcomm_release_packet_buffer();
  assert.is(a.rfcomm.rfcomm_send(1, new Uint8Array(1001)), 0x74);
  // rfcomm_send goes through the same buffer
  air.sent.length = 0;
  assert.is(a.rfcomm.rfcomm_send(1, Uint8Array.of(1, 2, 3)), 0);
  loop.run(1000);
  assert.equal(sent_hex(air, ADDR_A), [h(frame_by_hand(0x0b, 0xef, [1, 2, 3]))]);
  assert.is(a.l2cap.prepared_sends, 3);
});

test('a channel opened while the session is still being set up waits for it; several DLCs to one device share it', () => {
  const { loop, air, a, b } = make_pair('v1.8');
  auto_accept(b);
  for (const sc of [1, 2, 30]) assert.is(b.rfcomm.rfcomm_register_service(b.handler, sc, 500), 0);
  const c1 = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1);
  const c2 = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 2);
  const c3 = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 30);
  assert.equal([c1.rfcomm_cid, c2.rfcomm_cid, c3.rfcomm_cid], [1, 2, 3]);
  assert.is(
    a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 2).status,
    0x71,
    'RFCOMM_CHANNEL_ALREADY_REGISTERED for a second DLC to the same server channel',
  );
  assert.equal(
    a.l2cap.calls.filter((c) => c === 'create'),
    ['create'],
    'one L2CAP channel',
  );
  loop.run(1000);
  assert.equal(
    a
      .events(OPENED)
      .map(opened_info)
      .map((o) => [o.status, o.cid, o.mfs]),
    [
      [0, 1, 500],
      [0, 2, 500],
      [0, 3, 500],
    ],
  );
  assert.is(sent_hex(air, ADDR_A).filter((f) => f === '033f011c').length, 1, 'one SABM 0');
  // server channel 30 -> DLCI 60 -> address 0xF3
  assert.ok(sent_hex(air, ADDR_A).includes(h(frame_by_hand(0xf3, 0x3f))));
  assert.is(a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 0).status, 0x11, 'server channel 0 is invalid');
  assert.is(a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 31).status, 0x11, 'server channel 31 is invalid');
  assert.throws(() => a.rfcomm.rfcomm_create_channel(a.handler, new Uint8Array(5), 1), TypeError);
});

test.run();
