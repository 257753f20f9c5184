/**
 * ERTM recovery frame by frame (src/l2cap/l2cap-ertm.ts, l2cap-ertm-rx.ts), without FCS, every
 * frame a hand-built byte vector: the Basic header (Length, CID) and the Enhanced Control Field of
 * Core spec v5.4, Vol 3, Part A, 3.3.2 (I-frame: TxSeq bits 1-6, F bit 7, ReqSeq bits 8-13; S-frame:
 * bit 0 = 1, S bits 2-3 with 00 RR, 01 REJ, 11 SREJ, P bit 4, F bit 7, ReqSeq bits 8-13), worked
 * out by hand:
 * - the sender side answers a REJ from the peer (8.6.1.2: retransmit from its ReqSeq), also
 *   with F=1 in WAIT_F and as REJ_Actioned before a later F=1;
 * - the receiver side (SREJ_SENT) asks again at once for a frame whose SREJ went out before the
 *   SREJ of a frame that has just arrived (its SREJ or its retransmission was lost), and only then.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from './helpers.js';
import { Pair } from './ertm-pair.js';

/** Give `bytes` (a whole PDU, Basic header first) to an engine. */
function feed(p: Pair, to: 'a' | 'b', bytes: string): void {
  const f = fromHex(bytes);
  p[to].engine.receive(f, 0, 4, f.length - 4);
}

/** Control fields (octets 4-5) of the frames an end wrote from index `from` on. */
function controls(frames: Uint8Array[], from = 0): string[] {
  return frames.slice(from).map((f) => hex(f.subarray(4, 6)));
}

/** A Pair whose frames are recorded and never delivered: the test plays the peer. */
function isolated(): Pair {
  const p = new Pair({ fcs: false });
  p.start();
  p.tap = () => true;
  return p;
}

test('incoming REJ: the sender retransmits from its ReqSeq, the frames before it are acknowledged', () => {
  const p = isolated();
  for (let i = 0; i < 4; i++) assert.is(p.a.engine.send_sdu(new Uint8Array([0x10 + i]), 0, 1), 0);
  p.loop.run(1);
  // I-frames TxSeq 0..3, ReqSeq 0, unsegmented: Length 3, CID 0x0041, control 00 00 / 02 00 / 04 00 / 06 00
  assert.equal(
    p.a.frames.map((f) => hex(f)),
    ['03 00 41 00 00 00 10', '03 00 41 00 02 00 11', '03 00 41 00 04 00 12', '03 00 41 00 06 00 13'],
  );
  // REJ ReqSeq 2 (S=01: 0x05, ReqSeq 2 << 8): 05 02
  feed(p, 'a', '02 00 40 00 05 02');
  p.loop.run(1);
  assert.equal(
    p.a.frames.slice(4).map((f) => hex(f)),
    ['03 00 41 00 04 00 12', '03 00 41 00 06 00 13'],
  );
  assert.is(p.a.engine.unacked, 2);
  assert.is(p.a.engine.stats.retransmissions, 2);
  assert.is(p.a.failed, null);
});

test('incoming REJ with F=1 answers the poll: WAIT_F ends, one go from ReqSeq, monitor timer stopped', () => {
  const p = isolated();
  for (let i = 0; i < 2; i++) p.a.engine.send_sdu(new Uint8Array([0x20 + i]), 0, 1);
  p.loop.run(1);
  // nothing acknowledged: the retransmission timer (200 ms) sends RR P=1 ReqSeq 0: 11 00
  p.loop.run(250);
  assert.equal(controls(p.a.frames, 2), ['11 00']);
  assert.ok(p.a.engine.monitor_timer.active);
  // REJ F=1 ReqSeq 1 (0x05 | 0x80, 1 << 8): 85 01
  feed(p, 'a', '02 00 40 00 85 01');
  p.loop.run(1);
  assert.equal(
    p.a.frames.slice(3).map((f) => hex(f)),
    ['03 00 41 00 02 00 21'],
  );
  assert.not.ok(p.a.engine.monitor_timer.active);
  assert.ok(p.a.engine.retransmission_timer.active);
  assert.is(p.a.engine.unacked, 1);
});

test('incoming REJ in WAIT_F without F: acknowledges, the go-back waits for the F=1 and happens once (REJ_Actioned)', () => {
  const p = isolated();
  for (let i = 0; i < 3; i++) p.a.engine.send_sdu(new Uint8Array([0x30 + i]), 0, 1);
  p.loop.run(1);
  p.loop.run(250);
  assert.equal(controls(p.a.frames, 3), ['11 00']);
  // REJ ReqSeq 1, F=0: 05 01 -> TxSeq 0 acknowledged; no I-frame while waiting for the F bit
  feed(p, 'a', '02 00 40 00 05 01');
  p.loop.run(1);
  assert.is(p.a.frames.length, 4);
  assert.is(p.a.engine.unacked, 2);
  // RR F=1 ReqSeq 1 (0x01 | 0x80): 81 01 -> WAIT_F ends; TxSeq 1 and 2 go again, once
  feed(p, 'a', '02 00 40 00 81 01');
  p.loop.run(1);
  assert.equal(controls(p.a.frames, 4), ['02 00', '04 00']);
  assert.not.ok(p.a.engine.monitor_timer.active);
  assert.is(p.a.engine.stats.retransmissions, 2);
});

/** I-frame to b: TxSeq t, ReqSeq 0, unsegmented, one octet of payload. */
function iFrame(t: number): string {
  return `03 00 40 00 ${hex(new Uint8Array([t << 1]))} 00 ${hex(new Uint8Array([0x40 + t]))}`;
}

test("SREJ_SENT: an SREJ'd frame arriving before one asked for earlier sends that SREJ again at once", () => {
  const p = isolated();
  feed(p, 'b', iFrame(0));
  p.loop.run(1);
  // RR ReqSeq 1: 01 01
  assert.equal(controls(p.b.frames), ['01 01']);
  // TxSeq 3: 1 and 2 missing -> SREJ 1, SREJ 2 (S=11: 0x0D): 0d 01, 0d 02
  feed(p, 'b', iFrame(3));
  p.loop.run(1);
  assert.equal(controls(p.b.frames, 1), ['0d 01', '0d 02']);
  // TxSeq 5: 4 missing -> SREJ 4
  feed(p, 'b', iFrame(5));
  p.loop.run(1);
  assert.equal(controls(p.b.frames, 3), ['0d 04']);
  // the retransmission of 2 arrives while 1, asked for before it, has not: 1's SREJ or its
  // retransmission was lost -> SREJ 1 again, and not 4 (asked for after 2)
  feed(p, 'b', iFrame(2));
  p.loop.run(1);
  assert.equal(controls(p.b.frames, 4), ['0d 01']);
  // 4 arrives: 1 was asked for again after 4, so nothing is sent again
  feed(p, 'b', iFrame(4));
  p.loop.run(1);
  assert.is(p.b.frames.length, 5);
  assert.is(p.b.engine.rx_srej_resent, 1);
  // 1 arrives: every frame delivered in order, RR ReqSeq 6: 01 06
  feed(p, 'b', iFrame(1));
  p.loop.run(1);
  assert.equal(controls(p.b.frames, 5), ['01 06']);
  assert.equal(
    p.b.received.map((r) => r[0]),
    [0x40, 0x41, 0x42, 0x43, 0x44, 0x45],
  );
  assert.is(p.b.failed, null);
});

test('SREJ_SENT: retransmissions in the order asked for send no SREJ again; nor does a frame whose SREJ is not out yet', () => {
  const p = isolated();
  feed(p, 'b', iFrame(0));
  feed(p, 'b', iFrame(3));
  p.loop.run(1);
  // SREJ 1, SREJ 2, then RR ReqSeq 1 for frame 0
  assert.equal(controls(p.b.frames), ['0d 01', '0d 02', '01 01']);
  feed(p, 'b', iFrame(1));
  feed(p, 'b', iFrame(2));
  p.loop.run(1);
  // only the acknowledgement of 0..3: RR ReqSeq 4
  assert.equal(controls(p.b.frames, 3), ['01 04']);
  // a gap whose SREJs are still queued when a frame of it arrives (same run-loop step): no SREJ for it
  feed(p, 'b', iFrame(6));
  feed(p, 'b', iFrame(5));
  p.loop.run(1);
  assert.equal(controls(p.b.frames, 4), ['0d 04']);
  assert.is(p.b.engine.rx_srej_resent, 0);
  assert.is(p.b.engine.stats.srej_sent, 3);
});

test.run();
