/**
 * L2CAP end to end: two stacks on the virtual controller, both code profiles. Accept, data both
 * ways, either side disconnecting, decline, refused PSM, security refusal. Every event's bytes
 * are checked against the BTstack layout written out by hand (addresses and handles filled
 * in); the captures decode in tshark and btmon without a malformed frame, and tshark's
 * btl2cap.psm / btl2cap.cid fields match what the test opened.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { ADDR_A, ADDR_B, h16, makePair, pattern, revAddr } from './l2cap-helpers.js';

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: accept, data both ways, client and server disconnect, decline, refused PSM, security refusal`, () => {
    const p = makePair({ profile, tag: `basic-${profile}` });
    const { a, b } = p;
    const la = a.stack.l2cap;
    const lb = b.stack.l2cap;

    assert.is(lb.l2cap_register_service(b.handler, 0x1001, 1000, 0), 0);
    assert.is(lb.l2cap_register_service(b.handler, 0x1003, 1000, 0), 0);
    assert.is(lb.l2cap_register_service(b.handler, 0x1007, 1000, 3), 0);
    assert.is(lb.l2cap_register_service(b.handler, 0x1001, 1000, 0), 0x6b);
    b.on = (r, n) => {
      if (r.type !== 4 || r.bytes[0] !== 0x72) return;
      const psm = r.bytes[10]! | (r.bytes[11]! << 8);
      if (psm === 0x1003) n.stack.l2cap.l2cap_decline_connection(r.channel);
      else n.stack.l2cap.l2cap_accept_connection(r.channel);
    };

    // ---- accept
    const c1 = la.l2cap_create_channel(a.handler, ADDR_B, 0x1001, 800);
    assert.equal(c1, { status: 0, local_cid: 0x40 });
    p.until(() => a.events(0x70).length === 1 && b.events(0x70).length === 1, 'channel open on both sides');
    const ha = a.handle();
    const hb = b.handle();
    assert.ok(ha >= 0 && hb >= 0);
    assert.equal(b.events(0x72), [`72 0e ${revAddr(ADDR_A)} ${h16(hb)} 01 10 40 00 40 00`]);
    assert.equal(a.events(0x70), [`70 18 00 ${revAddr(ADDR_B)} ${h16(ha)} 01 10 40 00 40 00 20 03 e8 03 00 00 00 00 00`]);
    assert.equal(b.events(0x70), [`70 18 00 ${revAddr(ADDR_A)} ${h16(hb)} 01 10 40 00 40 00 e8 03 20 03 00 00 01 00 00`]);
    assert.is(la.l2cap_get_remote_mtu_for_local_cid(0x40), 1000);
    assert.is(lb.l2cap_get_remote_mtu_for_local_cid(0x40), 800);

    // ---- data both ways (fragmented: the controllers take 200-byte ACL packets)
    const ab = pattern(1000, 1);
    const ba = pattern(800, 2);
    assert.is(la.l2cap_send(0x40, ab), 0);
    p.until(() => b.data(0x40).length === 1, 'b gets the SDU');
    assert.equal(b.data(0x40)[0], ab);
    assert.is(lb.l2cap_send(0x40, ba), 0);
    p.until(() => a.data(0x40).length === 1, 'a gets the SDU');
    assert.equal(a.data(0x40)[0], ba);
    assert.is(lb.l2cap_send(0x40, new Uint8Array(801)), 0x6c, 'longer than a can take');

    // ---- client disconnects
    assert.is(la.l2cap_disconnect(0x40), 0);
    p.until(() => a.events(0x71).length === 1 && b.events(0x71).length === 1, 'closed on both sides');
    assert.equal(a.events(0x71), ['71 02 40 00']);
    assert.equal(b.events(0x71), ['71 02 40 00']);

    // ---- server disconnects (the link stays up: same handle)
    const c2 = la.l2cap_create_channel(a.handler, ADDR_B, 0x1001, 800);
    assert.is(c2.status, 0);
    p.until(() => a.events(0x70).length === 2 && b.events(0x70).length === 2, 'second channel open');
    assert.is(a.handle(), ha);
    assert.equal(a.events(0x70)[1], `70 18 00 ${revAddr(ADDR_B)} ${h16(ha)} 01 10 41 00 41 00 20 03 e8 03 00 00 00 00 00`);
    assert.is(lb.l2cap_send(0x41, Uint8Array.of(1, 2, 3)), 0);
    p.until(() => a.data(0x41).length === 1, 'data on the second channel');
    assert.is(lb.l2cap_disconnect(0x41), 0);
    p.until(() => a.events(0x71).length === 2 && b.events(0x71).length === 2, 'second channel closed');
    assert.equal(a.events(0x71)[1], '71 02 41 00');
    assert.equal(b.events(0x71)[1], '71 02 41 00');

    // ---- decline: BTstack sends result 4 -> 0x63 + 4 = 0x67 at the client; no event at the server after INCOMING
    const c3 = la.l2cap_create_channel(a.handler, ADDR_B, 0x1003, 800);
    p.until(() => a.events(0x70).length === 3, 'declined channel reported');
    assert.equal(
      a.events(0x70)[2],
      `70 18 67 ${revAddr(ADDR_B)} ${h16(ha)} 03 10 ${h16(c3.local_cid)} 00 00 20 03 a0 02 00 00 00 00 00`,
    );
    assert.is(b.events(0x72).length, 3);
    assert.is(b.events(0x70).length, 2);

    // ---- refused PSM: result 2 -> 0x65
    const c4 = la.l2cap_create_channel(a.handler, ADDR_B, 0x1005, 800);
    p.until(() => a.events(0x70).length === 4, 'refused PSM reported');
    assert.equal(
      a.events(0x70)[3],
      `70 18 65 ${revAddr(ADDR_B)} ${h16(ha)} 05 10 ${h16(c4.local_cid)} 00 00 20 03 a0 02 00 00 00 00 00`,
    );

    // ---- security: the service wants level 3 (MITM); both sides have no input / output, so the link
    // (paired Just Works for the mode-4 level 2 of the channels above) cannot get there: b answers
    // "pending", asks HCI for level 3, gets 2 -> result 3 "security block" -> 0x66; b's app sees nothing
    const c5 = la.l2cap_create_channel(a.handler, ADDR_B, 0x1007, 800);
    p.until(() => a.events(0x70).length === 5, 'security refusal reported');
    assert.equal(
      a.events(0x70)[4],
      `70 18 66 ${revAddr(ADDR_B)} ${h16(ha)} 07 10 ${h16(c5.local_cid)} 00 00 20 03 a0 02 00 00 00 00 00`,
    );
    assert.is(b.events(0x72).length, 3);

    // ---- the link, unused now, goes after the auto-disconnect timeout (10 s)
    assert.equal(
      la.l2cap_get_connections().map((c) => [c.state, c.channels, c.idle]),
      [['OPEN', 0, true]],
    );
    p.until(() => a.handle() === -1 && b.handle() === -1, 'idle link closed', 11_000);
    assert.equal(la.l2cap_get_connections(), []);

    for (const psm of [0x1001, 0x1003, 0x1007]) assert.is(lb.l2cap_unregister_service(psm), 0);
    const [logA, logB] = p.finish();
    assertCleanCapture(logA);
    assertCleanCapture(logB);
    // tshark sees the PSMs the test asked for, in order, in both captures
    for (const log of [logA, logB]) {
      const reqs = tsharkFields(log, ['btl2cap.psm', 'btl2cap.scid'], 'btl2cap.cmd_code == 0x02').map(([psm, scid]) => [
        parseInt(psm!, 16),
        parseInt(scid!, 16),
      ]);
      assert.equal(
        reqs,
        [
          [0x1001, 0x40],
          [0x1001, 0x41],
          [0x1003, 0x42],
          [0x1005, 0x43],
          [0x1007, 0x44],
        ],
        log,
      );
      // data frames only on the CIDs of the two channels that carried data
      const dataCids = new Set(tsharkFields(log, ['btl2cap.cid'], 'btl2cap.cid >= 0x40').map(([cid]) => parseInt(cid!, 16)));
      assert.equal([...dataCids].sort(), [0x40, 0x41], log);
    }
  });
}

test.run();
