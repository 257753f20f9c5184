import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WriteRing } from '../../../ports/serialport/write-ring.js';

test('slots are contiguous, released in order, wrap by skipping the end', () => {
  const r = new WriteRing(100);
  assert.is(r.reserve(40), 0);
  assert.is(r.reserve(40), 40);
  assert.is(r.used, 80);
  assert.is(r.reserve(30), -1, '20 left at the end, head region busy');
  assert.ok(r.release()); // frees [0,40)
  assert.is(r.used, 40);
  assert.is(r.reserve(30), 0, 'wraps: skips [80,100)');
  assert.is(r.used, 40 + 20 + 30);
  assert.is(r.reserve(11), -1, 'only [30,40) free');
  assert.is(r.reserve(10), 30);
  assert.is(r.reserve(1), -1, 'full');
  assert.ok(r.release()); // the slot at [40,80)
  assert.is(r.used, 100 - 40);
  assert.ok(r.release()); // the wrapped slot: its padding goes with it
  assert.is(r.used, 10);
  assert.ok(r.release());
  assert.is(r.used, 0);
  assert.not.ok(r.release());
  assert.is(r.reserve(100), 0, 'empty ring starts over');
});

test('fuzz against a model: reserved slots never overlap live ones; accounting returns to zero', () => {
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const cap = 4096;
  const r = new WriteRing(cap);
  const live: Array<[number, number]> = [];
  for (let step = 0; step < 100_000; step++) {
    if (rnd() < 0.55) {
      const size = 1 + Math.floor(rnd() * 700);
      const pos = r.reserve(size);
      if (pos < 0) continue;
      assert.ok(pos + size <= cap);
      for (const [p, s] of live) if (pos < p + s && p < pos + size) assert.unreachable(`overlap at step ${step}`);
      live.push([pos, size]);
    } else if (live.length) {
      live.shift();
      assert.ok(r.release());
    }
    const sum = live.reduce((a, [, s]) => a + s, 0);
    assert.ok(r.used >= sum && r.used <= cap, `used ${r.used} live ${sum}`);
  }
  while (live.length) {
    live.shift();
    r.release();
  }
  assert.is(r.used, 0);
  assert.is(r.slots, 0);
});

test.run();
