/**
 * The UART pacing of the socket server (ports/virtual/pacer.ts) on a VirtualRunLoop: at 8N1 a
 * byte takes 10 bit times, so 115200 baud moves 11.52 bytes per ms and 9600 baud 0.96; a baud
 * change takes effect after the bytes queued before it; a sink that refuses more stops the line
 * until unblocked, without losing or reordering a byte.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { Pacer } from '../../../ports/virtual/pacer.js';

/** A sink recording when each byte arrived (virtual ms). */
function recorder(loop: VirtualRunLoop) {
  const bytes: number[] = [];
  const times: number[] = [];
  let refuse = false;
  const sink = (c: Uint8Array): boolean => {
    for (const b of c) {
      bytes.push(b);
      times.push(loop.get_time_ms());
    }
    return !refuse;
  };
  return { bytes, times, sink, refuse_next: (v: boolean) => (refuse = v) };
}

const seq = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
const near = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);

test('115200 baud: 1152 bytes take exactly 100 virtual ms (11.52 bytes per ms), in order', () => {
  const loop = new VirtualRunLoop();
  const r = recorder(loop);
  let drained = -1;
  const p = new Pacer(loop, 115200, r.sink, () => (drained = loop.get_time_ms()));
  p.push(seq(1000));
  p.push(seq(152, 1000));
  assert.is(p.pending, 1152);
  assert.is(r.bytes.length, 0, 'nothing leaves before its bits are on the line');
  loop.advance(50);
  // by 50 ms, 576 bytes have had time to leave; they leave in chunks of 46 (4 ms of line time)
  assert.ok(r.bytes.length <= 576 && r.bytes.length > 576 - 46, `after 50 ms: ${r.bytes.length}`);
  assert.is(p.pending, 1152 - r.bytes.length);
  // no byte ever arrives before its line time: byte k is out at (k + 1) / 11.52 ms at the earliest
  r.times.forEach((t, k) => assert.ok(t + 1e-9 >= (k + 1) / 11.52, `byte ${k} at ${t} ms`));
  loop.run();
  assert.is(r.bytes.length, 1152);
  near(r.times[1151]!, 100, 'last byte');
  near(drained, 100, 'drained');
  assert.equal(r.bytes, Array.from(seq(1152)));
  assert.is(p.pending, 0);
  assert.is(p.total_sent, 1152);
});

test('9600 baud: 0.96 bytes per ms; an idle line starts again from the time of the next push', () => {
  const loop = new VirtualRunLoop();
  const r = recorder(loop);
  const p = new Pacer(loop, 9600, r.sink);
  p.push(seq(96));
  loop.run();
  near(r.times[95]!, 100, '96 bytes at 9600 baud');
  loop.advance(1000); // idle
  p.push(seq(48));
  loop.run();
  near(r.times[143]!, 1100 + 50, '48 more bytes, 50 ms after the push');
});

test('a baud change applies to the bytes queued after it', () => {
  const loop = new VirtualRunLoop();
  const r = recorder(loop);
  const p = new Pacer(loop, 9600, r.sink);
  p.push(seq(96)); // 100 ms at 9600
  p.change_after_queued(921600);
  p.push(seq(9216)); // 100 ms at 921600 (92.16 bytes per ms)
  loop.run();
  near(r.times[95]!, 100, 'slow part');
  near(r.times[96 + 9215]!, 200, 'fast part');
  assert.is(p.baud, 921600);
});

test('a sink that refuses more stops the line until unblock(); the line restarts then, nothing lost', () => {
  const loop = new VirtualRunLoop();
  const r = recorder(loop);
  const p = new Pacer(loop, 115200, r.sink);
  r.refuse_next(true);
  p.push(seq(1152));
  loop.run();
  // the first chunk (46 bytes, 4 ms of line) went out and was refused: the line stopped there
  assert.is(r.bytes.length, 46);
  assert.ok(p.is_blocked);
  loop.advance(10_000);
  assert.is(r.bytes.length, 46, 'nothing while blocked');
  assert.is(p.pending, 1152 - 46);
  r.refuse_next(false);
  const t0 = loop.get_time_ms();
  p.unblock();
  loop.run();
  assert.not.ok(p.is_blocked);
  assert.equal(r.bytes, Array.from(seq(1152)));
  // the remaining 1106 bytes take their line time from the moment of unblock()
  near(r.times[1151]! - t0, 1106 / 11.52, 'rest after unblock');
});

test('stop() forgets what is queued and stops the timer', () => {
  const loop = new VirtualRunLoop();
  const r = recorder(loop);
  const p = new Pacer(loop, 9600, r.sink);
  p.push(seq(100));
  loop.advance(10);
  const n = r.bytes.length;
  p.stop();
  assert.is(p.pending, 0);
  loop.run();
  assert.is(r.bytes.length, n);
  assert.is(loop.get_time_ms(), 10, 'no timer left');
});

test.run();
