import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineErrors } from '../../../ports/virtual/h5-line.js';

/** 100,000 bytes 0..255 repeating, through a fresh LineErrors in chunks of 97. */
function damage(rate: number, burst: number, seed: number): { out: Uint8Array; e: LineErrors } {
  const e = new LineErrors({ rate, burst, seed });
  const parts: Uint8Array[] = [];
  const chunk = new Uint8Array(97);
  for (let i = 0; i < 100_000; i += 97) {
    const n = Math.min(97, 100_000 - i);
    for (let k = 0; k < n; k++) chunk[k] = (i + k) & 0xff;
    parts.push(e.apply(chunk.subarray(0, n)).slice());
  }
  return { out: Buffer.concat(parts), e };
}

test('line errors: about the share asked, the same damage for the same seed, another for another seed', () => {
  const a = damage(0.01, 1, 7);
  const n = a.e.dropped + a.e.corrupted;
  assert.ok(n > 800 && n < 1200, `damaged ${n} of 100000`);
  assert.is(a.out.length, 100_000 - a.e.dropped);
  const b = damage(0.01, 1, 7);
  assert.equal(b.out, a.out, 'same seed, same bytes');
  assert.not.equal(damage(0.01, 1, 8).out, a.out);
  assert.ok(a.e.corrupted > 300 && a.e.dropped > 300, `${a.e.dropped} dropped, ${a.e.corrupted} corrupted`);
});

test('line errors in bursts: whole bursts of one kind, the same share', () => {
  const e = new LineErrors({ rate: 0.01, burst: 8, seed: 3 });
  const input = new Uint8Array(100_000).fill(0x11);
  const out = e.apply(input);
  const n = e.dropped + e.corrupted;
  assert.ok(n > 700 && n < 1300, `damaged ${n}`);
  assert.is(e.dropped % 8, 0, 'drops come in bursts of 8');
  assert.is(e.corrupted % 8, 0, 'corruptions come in bursts of 8');
  const bad = out.filter((b) => b !== 0x11);
  assert.is(bad.length, e.corrupted);
  assert.ok(bad.every((b) => b === (0x11 ^ 0x5a)));
});

test('rate 0: bytes pass untouched (the same array)', () => {
  const e = new LineErrors({ rate: 0 });
  const b = Uint8Array.from([1, 2, 3]);
  assert.is(e.apply(b), b);
});

test.run();
