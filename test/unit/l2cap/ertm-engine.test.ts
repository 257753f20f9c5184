/**
 * The ERTM / streaming engine (src/l2cap/l2cap-ertm.ts) between two instances on a lossy
 * in-memory pipe (ertm-pair.ts), virtual time. Frames are checked as bytes (Core spec v5.4,
 * Vol 3, Part A, 3.3.2 control fields worked out by hand) and data end to end.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex, prng } from './helpers.js';
import { Pair } from './ertm-pair.js';
import {
  L2CAP_CHANNEL_MODE_STREAMING_MODE,
  BTSTACK_ACL_BUFFERS_FULL,
  L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU,
} from '../../../src/codes/v1.4.js';
import { l2cap_ertm_is_s_frame, l2cap_ertm_supervisory, l2cap_fcs } from '../../../src/l2cap/l2cap-ertm-frames.js';

function sdus(n: number, seed: number, max: number): Uint8Array[] {
  const r = prng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(r() * max);
    const b = new Uint8Array(len);
    b[0] = i & 0xff;
    for (let k = 1; k < len; k++) b[k] = Math.floor(r() * 256);
    out.push(b);
  }
  return out;
}

/** Send `data` from a to b as fast as the engine takes it; returns when all arrived or time ran out. */
function transfer(p: Pair, data: Uint8Array[], max_ms = 600_000): boolean {
  let next = 0;
  const feed = (): void => {
    while (next < data.length && p.a.engine.can_store(data[next]!.length)) {
      assert.is(p.a.engine.send_sdu(data[next]!, 0, data[next]!.length), 0);
      next++;
    }
  };
  return p.loop.run_until(() => {
    feed();
    return p.b.received.length >= data.length || p.a.failed !== null || p.b.failed !== null;
  }, max_ms);
}

function controlOf(frame: Uint8Array): number {
  return frame[4]! | (frame[5]! << 8);
}

function count(frames: Uint8Array[], s: number): number {
  return frames.filter((f) => l2cap_ertm_is_s_frame(controlOf(f)) && l2cap_ertm_supervisory(controlOf(f)) === s).length;
}

test('first frames on the wire: unsegmented I-frame then RR acknowledging it (with FCS)', () => {
  const p = new Pair();
  p.start();
  assert.is(p.a.engine.send_sdu(new Uint8Array([1, 2, 3]), 0, 3), 0);
  p.loop.run_until(() => p.b.received.length === 1 && p.a.engine.unacked === 0, 1000);
  // I-frame TxSeq 0 ReqSeq 0 unsegmented: control 00 00; length 2 + 3 + 2 = 7; CID 0x0041 (a's remote cid)
  assert.is(hex(p.a.frames[0]!.subarray(0, 9)), '07 00 41 00 00 00 01 02 03');
  // RR ReqSeq 1 (01 01) from b to cid 0x0040
  assert.is(hex(p.b.frames[0]!.subarray(0, 6)), '04 00 40 00 01 01');
  assert.equal([...p.b.received[0]!], [1, 2, 3]);
});

test('segmentation: start frame with SDU Length, continuation, end; MTU and buffer limits', () => {
  const p = new Pair({ mps: 10, mtu: 100 });
  p.start();
  const sdu = new Uint8Array(25).map((_, i) => i);
  assert.is(p.a.engine.send_sdu(sdu, 0, 25), 0);
  p.loop.run_until(() => p.b.received.length === 1 && p.a.engine.unacked === 0, 1000);
  // start: control SAR 01 (0x4000), SDU Length 25 (19 00), 8 octets of data
  assert.is(hex(p.a.frames[0]!.subarray(4, 8)), '00 40 19 00');
  assert.is(p.a.frames[0]!.length, 4 + 2 + 2 + 8 + 2);
  // continuation TxSeq 1: 0xC002; end TxSeq 2: 0x8004
  assert.is(hex(p.a.frames[1]!.subarray(4, 6)), '02 c0');
  assert.is(hex(p.a.frames[2]!.subarray(4, 6)), '04 80');
  assert.equal([...p.b.received[0]!], [...sdu]);
  assert.is(p.a.engine.send_sdu(new Uint8Array(101), 0, 101), L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU);
  // 12 tx slots of 10 octets: a 100-octet SDU takes 11, a second does not fit
  assert.is(p.a.engine.send_sdu(new Uint8Array(100), 0, 100), 0);
  assert.is(p.a.engine.send_sdu(new Uint8Array(100), 0, 100), BTSTACK_ACL_BUFFERS_FULL);
});

for (const [loss, corrupt, seed] of [
  [0, 0, 1],
  [0.01, 0.01, 2],
  [0.05, 0.05, 3],
  [0.2, 0.05, 4],
] as const) {
  test(`ERTM at ${loss * 100} % loss and ${corrupt * 100} % corruption: every SDU once, in order`, () => {
    const p = new Pair({ loss, corrupt, seed, max_transmit: 0 });
    p.start();
    const data = sdus(1500, seed, 300);
    assert.ok(transfer(p, data), 'transfer finished');
    assert.is(p.a.failed, null);
    assert.is(p.b.failed, null);
    assert.is(p.b.received.length, data.length);
    for (let i = 0; i < data.length; i++) assert.equal(hex(p.b.received[i]!), hex(data[i]!), `SDU ${i}`);
    if (loss > 0) {
      assert.ok(p.a.engine.stats.retransmissions > 0, 'retransmissions');
      assert.ok(count(p.b.frames, 3) > 0, 'SREJ sent');
      // (the pair flips bits of recorded frames in place: only frames whose FCS holds are as sent)
      const intact = p.b.frames.filter((f) => l2cap_fcs(f, 0, f.length - 2) === (f[f.length - 2]! | (f[f.length - 1]! << 8)));
      assert.is(count(intact, 1), 0, 'no REJ: every missing frame is asked for with SREJ');
      assert.ok(p.b.engine.stats.fcs_errors > 0, 'corrupted frames failed the FCS');
    }
  });
}

test('both directions at once at 5 % loss', () => {
  const p = new Pair({ loss: 0.05, seed: 9, max_transmit: 0 });
  p.start();
  const ab = sdus(400, 10, 200);
  const ba = sdus(400, 11, 200);
  let i = 0;
  let j = 0;
  const ok = p.loop.run_until(() => {
    while (i < ab.length && p.a.engine.can_store(ab[i]!.length)) p.a.engine.send_sdu(ab[i]!, 0, ab[i++]!.length);
    while (j < ba.length && p.b.engine.can_store(ba[j]!.length)) p.b.engine.send_sdu(ba[j]!, 0, ba[j++]!.length);
    return p.b.received.length === ab.length && p.a.received.length === ba.length;
  }, 600_000);
  assert.ok(ok);
  assert.equal(
    p.b.received.map((x) => hex(x)),
    ab.map((x) => hex(x)),
  );
  assert.equal(
    p.a.received.map((x) => hex(x)),
    ba.map((x) => hex(x)),
  );
});

test('silent peer: polls with P=1 up to MaxTransmit, then the channel fails', () => {
  const p = new Pair({ max_transmit: 3 });
  p.start();
  p.tap = (from) => from === p.a; // everything a sends is lost
  p.a.engine.send_sdu(new Uint8Array(5), 0, 5);
  p.loop.run_until(() => p.a.failed !== null, 60_000);
  assert.is(p.a.failed, 'MaxTransmit polls unanswered');
  const polls = p.a.frames.filter((f) => l2cap_ertm_is_s_frame(controlOf(f)) && (controlOf(f) & 0x10) !== 0);
  assert.is(polls.length, 3);
  // RR with P=1, ReqSeq 0: 11 00
  assert.is(hex(polls[0]!.subarray(4, 6)), '11 00');
  // retransmission timer 200 ms, then the monitor timer 1000 ms between polls
  assert.is(p.loop.get_time_ms(), 200 + 3 * 1000);
  assert.not.ok(p.a.engine.running);
});

test('poll answered with F=1; lost I-frame retransmitted after the final', () => {
  const p = new Pair({ max_transmit: 5 });
  p.start();
  let first = true;
  p.tap = (from) => {
    if (from === p.a && first) {
      first = false;
      return true; // the only I-frame is lost: no later frame reveals the gap
    }
    return false;
  };
  p.a.engine.send_sdu(new Uint8Array([9]), 0, 1);
  p.loop.run_until(() => p.b.received.length === 1, 10_000);
  const fin = p.b.frames.find((f) => (controlOf(f) & 0x80) !== 0)!;
  // RR F=1 ReqSeq 0: 81 00
  assert.is(hex(fin.subarray(4, 6)), '81 00');
  assert.is(p.a.engine.stats.retransmissions, 1);
  assert.equal([...p.b.received[0]!], [9]);
});

test('local busy: RNR, I-frames held back until ready (RR)', () => {
  const p = new Pair();
  p.start();
  p.b.engine.set_local_busy(true);
  p.loop.run(10);
  // RNR ReqSeq 0: 09 00
  assert.is(hex(p.b.frames[0]!.subarray(4, 6)), '09 00');
  p.a.engine.send_sdu(new Uint8Array([1]), 0, 1);
  p.loop.run(100);
  assert.is(p.b.received.length, 0);
  p.b.engine.set_local_busy(false);
  p.loop.run_until(() => p.b.received.length === 1, 10_000);
  assert.is(p.b.received.length, 1);
});

test('invalid ReqSeq (acknowledging frames never sent) fails the channel', () => {
  const p = new Pair({ fcs: false });
  p.start();
  // RR ReqSeq 5 while nothing was sent
  p.a.engine.receive(new Uint8Array([2, 0, 0x40, 0, 0x01, 0x05]), 0, 4, 2);
  assert.is(p.a.failed, 'invalid ReqSeq');
});

test('streaming at 5 % loss: only whole SDUs, in order, none twice', () => {
  const p = new Pair({ mode: L2CAP_CHANNEL_MODE_STREAMING_MODE, loss: 0.05, seed: 5 });
  p.start();
  const data = sdus(2000, 6, 350);
  let next = 0;
  p.loop.run_until(() => {
    while (next < data.length && p.a.engine.can_store(data[next]!.length))
      p.a.engine.send_sdu(data[next]!, 0, data[next++]!.length);
    return next === data.length && !p.a.engine.has_work();
  }, 600_000);
  p.loop.run(100);
  const want = new Map(data.map((d, i) => [hex(d), i]));
  let last = -1;
  for (const r of p.b.received) {
    const i = want.get(hex(r));
    assert.ok(i !== undefined, 'a delivered SDU is one that was sent, whole');
    assert.ok(i! > last, 'in order, once');
    last = i!;
  }
  assert.ok(p.b.received.length < data.length && p.b.received.length > data.length * 0.7);
  assert.is(p.a.engine.stats.retransmissions, 0);
  assert.is(p.b.frames.length, 0, 'the receiver sends nothing in streaming mode');
});

test('fuzz: 100,000 random and mutated frames at both modes never throw; a failed engine stops its timers', () => {
  const r = prng(77);
  for (const mode of [3, L2CAP_CHANNEL_MODE_STREAMING_MODE]) {
    const p = new Pair({ mode, fcs: false, mps: 40, mtu: 200, num_rx: 6, num_tx: 6 });
    p.start();
    const buf = new Uint8Array(64);
    let restarts = 0;
    for (let n = 0; n < 50_000; n++) {
      const len = 4 + Math.floor(r() * 56);
      for (let i = 4; i < len; i++) buf[i] = Math.floor(r() * 256);
      if (r() < 0.5) buf[4] = (buf[4]! & 0xfe) | (r() < 0.5 ? 1 : 0);
      p.a.engine.receive(buf, 0, 4, len - 4);
      if (r() < 0.1) p.a.pump();
      if (p.a.failed) {
        assert.not.ok(p.a.engine.retransmission_timer.active || p.a.engine.monitor_timer.active);
        p.a.failed = null;
        p.start();
        restarts++;
      }
      if (r() < 0.01) p.loop.run(5);
    }
    if (mode === 3) assert.ok(restarts > 0);
  }
});

test.run();
