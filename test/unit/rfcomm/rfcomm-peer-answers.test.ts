/**
 * Answers the specs ask for where the layer used to say nothing, and the fields of a failed
 * RFCOMM_EVENT_CHANNEL_OPENED (issue 11, items 6 and 9):
 * - UIH on a DLCI that is not open gets DM (TS 07.10 5.3.3: a DLC in disconnected mode takes no
 *   command but SABM); the F bit answers the frame's P bit (TS 07.10 5.2.1.3).
 * - A PN with N1 = 0 for a DLC in setup is refused with DM (F = 1, TS 07.10 5.4.1), and the
 *   application gets CHANNEL_OPENED with ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE.
 * - A failed L2CAP channel: CHANNEL_OPENED carries the handle from L2CAP's event (the ACL's when
 *   only L2CAP was refused, 0xFFFF without an ACL) and the frame size held then, as BTstack.
 * Frames by hand (FCS by the bitwise reference in rfcomm-helpers), events byte for byte in both
 * code profiles.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../../src/core/bytes.js';
import { ADDR_A, ADDR_B, INCOMING, OPENED, auto_accept, fr, frame_by_hand, make_pair, make_raw } from './rfcomm-helpers.js';

const h = (b: Uint8Array): string => hex(b).replace(/ /g, '');

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: UIH on a DLCI that is not open gets DM, F = P`, () => {
    const { loop, a, p } = make_raw(profile);
    auto_accept(a);
    a.rfcomm.rfcomm_register_service(a.handler, 4, 500);
    p.connect(ADDR_A);
    loop.run(10);
    p.send(fr(0x03, 0x3f)); // SABM 0
    loop.run(10);
    p.received.length = 0;
    // UIH (P = 0) on DLCI 10 from the initiator: address 10 << 2 | C/R 1 | EA 1 = 0x2B
    p.send(fr(0x2b, 0xef, [1, 2, 3]));
    loop.run(10);
    // DM is a response; from the responder C/R = 1 (RFCOMM 5.1.3): address 0x2B; control DM 0x0F, F = 0
    assert.equal(p.rx(), [h(frame_by_hand(0x2b, 0x0f))]);
    p.received.length = 0;
    // UIH with P/F = 1 (a credit octet) on DLCI 12 (0x33): DM with F = 1 (0x1F)
    p.send(fr(0x33, 0xff, [9], 4));
    loop.run(10);
    assert.equal(p.rx(), [h(frame_by_hand(0x33, 0x1f))]);
    p.received.length = 0;
    // a DLC that was open and is closed again: its DLCI answers DM as well
    p.send(fr(0x03, 0xef, [0x83, 0x11, 0x08, 0xf0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07]));
    p.send(fr(0x23, 0x3f));
    loop.run(10);
    p.send(fr(0x03, 0xef, [0xe1, 0x05, 0x23, 0x8d]));
    loop.run(10);
    assert.is(a.events(OPENED)[0]!.bytes[2], 0);
    p.send(fr(0x23, 0x53)); // DISC 8
    loop.run(10);
    p.received.length = 0;
    p.send(fr(0x23, 0xef, [7]));
    loop.run(10);
    assert.equal(p.rx(), [h(frame_by_hand(0x23, 0x0f))]);
    assert.is(a.data().length, 0);
    p.l2cap.link_loss();
    loop.run(100);
    a.rfcomm.rfcomm_unregister_service(4);
    assert.ok(a.stack.pools.all_free());
  });

  test(`${profile}: PN with N1 = 0 for an incoming DLC in setup: DM, CHANNEL_OPENED 0x11`, () => {
    const { loop, a, p } = make_raw(profile);
    a.rfcomm.rfcomm_register_service(a.handler, 4, 500);
    p.connect(ADDR_A);
    loop.run(10);
    p.send(fr(0x03, 0x3f));
    loop.run(10);
    p.send(fr(0x03, 0xef, [0x83, 0x11, 0x08, 0xf0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07])); // PN DLCI 8, N1 256
    loop.run(10);
    assert.is(a.events(INCOMING).length, 1, 'the application has not answered yet');
    p.received.length = 0;
    p.send(fr(0x03, 0xef, [0x83, 0x11, 0x08, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07])); // PN DLCI 8, N1 0
    loop.run(10);
    assert.equal(p.rx(), [h(frame_by_hand(0x23, 0x1f))], 'DM with F = 1 on DLCI 8');
    // status 0x11, bd_addr B reversed, handle 0x000b, channel 4, cid 1, N1 256 (held then), incoming 1, reserved
    assert.equal(
      a.events(OPENED).map((r) => r.hex),
      ['801011b6b5b4b3b2b10b000401000001' + '0100'],
    );
    assert.is(a.rfcomm.rfcomm_accept_connection(1), 0x02, 'the DLC is gone');
    // the DLCI can be set up afresh
    auto_accept(a);
    p.received.length = 0;
    p.send(fr(0x03, 0xef, [0x83, 0x11, 0x08, 0xf0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x07])); // N1 128
    loop.run(10);
    assert.equal(p.rx(), [h(frame_by_hand(0x01, 0xef, [0x81, 0x11, 0x08, 0xe0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x07]))]);
    p.l2cap.link_loss();
    loop.run(100);
    a.rfcomm.rfcomm_unregister_service(4);
    assert.ok(a.stack.pools.all_free());
  });

  test(`${profile}: PN command with N1 = 0 for our own DLC waiting for its PN response: DM, CHANNEL_OPENED 0x11`, () => {
    const { loop, a, p } = make_raw(profile);
    p.listen();
    const cid = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1).rfcomm_cid;
    loop.run(10);
    p.send(fr(0x03, 0x73)); // UA 0: A is the initiator
    loop.run(10);
    p.received.length = 0;
    // the peer's own PN command for DLCI 2 (from the responder: C/R 0 -> 0x01), N1 0
    p.send(fr(0x01, 0xef, [0x83, 0x11, 0x02, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07]));
    loop.run(10);
    // DM from the initiator is a response with C/R 0: address 2 << 2 | 1 = 0x09
    assert.equal(p.rx(), [h(frame_by_hand(0x09, 0x1f))]);
    // status 0x11, handle 0x000b, channel 1, cid 1, N1 1012 (L2CAP MTU 1017 - 5), outgoing
    assert.equal(
      a.events(OPENED).map((r) => r.hex),
      ['801011b6b5b4b3b2b10b0001' + '0100' + 'f4030000'],
    );
    assert.is(cid, 1);
    p.l2cap.link_loss();
    loop.run(100);
    assert.ok(a.stack.pools.all_free());
  });

  test(`${profile}: failed L2CAP: CHANNEL_OPENED carries L2CAP's handle (ACL up: 0x000B; page timeout: 0xFFFF) and the frame size held`, () => {
    const { loop, a, b } = make_pair(profile);
    // B is reachable but has nothing on PSM 3: L2CAP refused (0x65) on a live ACL
    a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1);
    a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 2);
    loop.run(1000);
    // status 0x65, bd_addr B reversed, handle 0x000b, channel, cid, N1 1012 (the multiplexer's: MTU 1017 - 5), outgoing, reserved
    assert.equal(
      a.events(OPENED).map((r) => r.hex),
      ['801065b6b5b4b3b2b10b00010100f4030000', '801065b6b5b4b3b2b10b00020200f4030000'],
    );
    assert.ok(a.stack.pools.all_free());
    a.clear();
    b.l2cap.unreachable = true; // page timeout: no ACL, L2CAP reports 0xFFFF
    a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 3);
    loop.run(1000);
    assert.equal(
      a.events(OPENED).map((r) => r.hex),
      ['801004b6b5b4b3b2b1ffff030300f4030000'],
    );
    assert.ok(a.stack.pools.all_free());
  });
}

test.run();
