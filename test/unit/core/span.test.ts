/**
 * src/core/span.ts: SpanCopier and WeakSpanCopier copy exactly the bytes asked for, for every span
 * length (byte loop, word loop, native copy from a cached view), from Uint8Arrays, views into a
 * larger ArrayBuffer and Node Buffers, SpanCopier with both miss policies (seeded fuzz against a
 * reference copy); WeakSpanCopier and SpanViews make one view per (source, offset, length) and
 * reuse it; ViewCache hands back the same view for a repeated span / (buffer, offset) and evicts
 * round robin beyond its capacity.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SPAN_COPY_VIEW_MIN, SpanCopier, SpanViews, ViewCache, WeakSpanCopier } from '../../../src/core/span.js';

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function filled(n: number, seed: number): Uint8Array {
  const r = prng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

test('SpanCopier: exact bytes for every span length around the thresholds, nothing outside the span touched', () => {
  for (const wordOnMiss of [false, true]) {
    const c = new SpanCopier(wordOnMiss);
    const src = filled(9000, 7);
    for (const n of [
      0,
      1,
      3,
      4,
      5,
      15,
      16,
      17,
      31,
      255,
      SPAN_COPY_VIEW_MIN - 1,
      SPAN_COPY_VIEW_MIN,
      SPAN_COPY_VIEW_MIN + 1,
      1021,
      4096,
      8191,
    ]) {
      for (const [sp, dp] of [
        [0, 0],
        [1, 3],
        [4, 0],
        [7, 13],
      ] as const) {
        const dst = new Uint8Array(9000).fill(0xee);
        c.copy(dst, dp, src, sp, n);
        for (let i = 0; i < dst.length; i++) {
          const want = i >= dp && i < dp + n ? src[sp + i - dp] : 0xee;
          if (dst[i] !== want)
            assert.unreachable(`n=${n} sp=${sp} dp=${dp} wordOnMiss=${wordOnMiss}: byte ${i} is ${dst[i]}, want ${want}`);
        }
      }
    }
  }
});

test('SpanCopier fuzz: views into shared ArrayBuffers, Node Buffers (pool slab), a fixed source array, seeded', () => {
  const r = prng(0xc0ffee);
  const ri = (n: number) => Math.floor(r() * n);
  for (const wordOnMiss of [false, true]) {
    const c = new SpanCopier(wordOnMiss);
    const backing = filled(20000, 3);
    const fixed = filled(2048, 5);
    const dstBacking = new Uint8Array(30000);
    const dst = dstBacking.subarray(17, 17 + 10000); // a destination with a byteOffset
    for (let iter = 0; iter < 2000; iter++) {
      let src: Uint8Array;
      switch (ri(3)) {
        case 0: {
          const off = ri(10000);
          src = backing.subarray(off, off + 1 + ri(5000)); // a fresh view with a byteOffset every time
          break;
        }
        case 1:
          src = Buffer.from(filled(1 + ri(3000), iter)); // a Buffer, possibly from Node's pool slab
          break;
        default:
          src = fixed; // the same array again and again (a transport's receive buffer)
      }
      const n = ri(src.length + 1);
      const sp = ri(src.length - n + 1);
      const dp = ri(dst.length - n + 1);
      const before = dst.slice();
      c.copy(dst, dp, src, sp, n);
      for (let i = 0; i < dst.length; i++) {
        const want = i >= dp && i < dp + n ? src[sp + i - dp] : before[i];
        if (dst[i] !== want) assert.unreachable(`iter ${iter}: byte ${i} differs (n=${n} sp=${sp} dp=${dp})`);
      }
      assert.ok(
        dstBacking.subarray(0, 17).every((b) => b === 0),
        'nothing written before the destination view',
      );
    }
  }
});

/** Count Uint8Array#subarray calls while `fn` runs. */
function subarrayCalls(fn: () => void): number {
  const proto = Uint8Array.prototype as unknown as { subarray: (this: Uint8Array, a?: number, b?: number) => Uint8Array };
  const orig = proto.subarray;
  let n = 0;
  proto.subarray = function (this: Uint8Array, a?: number, b?: number): Uint8Array {
    n++;
    return orig.call(this, a, b);
  };
  try {
    fn();
  } finally {
    proto.subarray = orig;
  }
  return n;
}

test('WeakSpanCopier: exact bytes for every span length around its thresholds, from arrays, views and Buffers (seeded fuzz)', () => {
  const c = new WeakSpanCopier();
  const src = filled(9000, 11);
  for (const n of [0, 1, 15, 127, 128, 129, 255, 1021, 8191]) {
    for (const [sp, dp] of [
      [0, 0],
      [1, 3],
      [4, 0],
      [7, 13],
    ] as const) {
      const dst = new Uint8Array(9000).fill(0xee);
      c.copy(dst, dp, src, sp, n);
      for (let i = 0; i < dst.length; i++) {
        const want = i >= dp && i < dp + n ? src[sp + i - dp] : 0xee;
        if (dst[i] !== want) assert.unreachable(`n=${n} sp=${sp} dp=${dp}: byte ${i} is ${dst[i]}, want ${want}`);
      }
    }
  }
  const r = prng(0xbeef);
  const ri = (k: number) => Math.floor(r() * k);
  const backing = filled(20000, 13);
  const dst = new Uint8Array(30000).subarray(17, 17 + 10000);
  for (let iter = 0; iter < 2000; iter++) {
    const off = ri(10000);
    const s = ri(2) === 0 ? backing.subarray(off, off + 1 + ri(5000)) : Buffer.from(filled(1 + ri(3000), iter));
    const n = ri(s.length + 1);
    const sp = ri(s.length - n + 1);
    const dp = ri(dst.length - n + 1);
    const before = dst.slice();
    c.copy(dst, dp, s, sp, n);
    for (let i = 0; i < dst.length; i++) {
      const want = i >= dp && i < dp + n ? s[sp + i - dp] : before[i];
      if (dst[i] !== want) assert.unreachable(`iter ${iter}: byte ${i} differs (n=${n} sp=${sp} dp=${dp})`);
    }
  }
});

test('WeakSpanCopier: one view per (source, offset, length), reused packet after packet; none for short runs or whole arrays', () => {
  const c = new WeakSpanCopier();
  const out = new Uint8Array(4096);
  // a host's ACL fragments: views of one outgoing buffer from each fragment's start, sent again and again
  const outgoing = filled(8192, 21);
  const fragments = [0, 1025, 2050, 3075].map((o) => outgoing.subarray(o));
  const first = subarrayCalls(() => {
    for (const f of fragments) c.copy(out, 0, f, 4, 1021);
  });
  assert.is(first, 4, 'one view per fragment source');
  const again = subarrayCalls(() => {
    for (let k = 0; k < 10; k++) for (const f of fragments) c.copy(out, 0, f, 4, 1021);
  });
  assert.is(again, 0, 'the same spans again: no view');
  assert.equal(Array.from(out.subarray(0, 1021)), Array.from(outgoing.subarray(3079, 3079 + 1021)));
  assert.is(
    subarrayCalls(() => c.copy(out, 0, fragments[0]!, 4, 500)),
    1,
    'another length at that offset: a new view',
  );
  assert.is(
    subarrayCalls(() => c.copy(out, 0, fragments[0]!, 4, 128)),
    0,
    '128 bytes and less: byte loop',
  );
  const whole = filled(3000, 22);
  assert.is(
    subarrayCalls(() => c.copy(out, 7, whole, 0, 3000)),
    0,
    'the whole source: copied from itself',
  );
  assert.equal(Array.from(out.subarray(7, 3007)), Array.from(whole));
});

test('SpanViews: data[off, off + n) as one view per offset, made again only when the length changes', () => {
  const data = filled(1021, 31);
  const v = new SpanViews(data);
  const a = v.view(0, 1021);
  assert.is(a.length, 1021);
  assert.is(a[5], data[5]);
  assert.is(v.view(0, 1021), a, 'same offset and length: same view');
  const b = v.view(100, 200);
  assert.equal(Array.from(b), Array.from(data.subarray(100, 300)));
  assert.is(v.view(100, 200), b);
  assert.is(v.view(0, 1021), a, 'other offsets kept');
  const c = v.view(100, 50);
  assert.is.not(c, b, 'another length: another view');
  assert.is(c.length, 50);
  data[100] = 0x5a;
  assert.is(c[0], 0x5a, 'a view, not a copy');
});

test('ViewCache: the whole array is itself; a range gives one view per (array, start, end), replaced round robin', () => {
  const c = new ViewCache(2);
  const a = Uint8Array.from([10, 11, 12, 13, 14, 15, 16, 17]);
  const b = Uint8Array.from([20, 21, 22, 23, 24, 25, 26, 27]);
  assert.is(c.view(a, 0, 8), a);
  assert.is(c.view(a, -3, 99), a, 'clamped to the whole array');
  assert.is(c.made, 0);
  const v = c.view(a, 3, 8);
  assert.equal(Array.from(v), [13, 14, 15, 16, 17]);
  assert.is(c.view(a, 3, 8), v, 'same view again');
  assert.is(c.made, 1);
  const w = c.view(b, 3, 8);
  assert.is.not(w, v, 'another array, another view');
  assert.equal(Array.from(w), [23, 24, 25, 26, 27]);
  assert.is(c.view(a, 3, 5).length, 2, 'another end, another view');
  assert.is(c.made, 3);
  // capacity 2: (a,3,8) was replaced by (a,3,5)
  const v2 = c.view(a, 3, 8);
  assert.is.not(v2, v);
  assert.equal(Array.from(v2), [13, 14, 15, 16, 17]);
  assert.is(c.view(a, 6, 2).length, 0, 'end before start: empty');
  // a view stays a view: writes to the array show through
  a[4] = 99;
  assert.is(v2[1], 99);
  c.clear();
  c.view(a, 3, 8);
  assert.is(c.made, 6);
  assert.throws(() => new ViewCache(0), RangeError);
  assert.throws(() => new ViewCache(1.5), RangeError);
  assert.is(new ViewCache().capacity, 8, 'default capacity');
});

test('ViewCache.at: the same view for a repeated (buffer, offset), starting at the offset; offset 0 is the buffer; evicts beyond its capacity', () => {
  const cache = new ViewCache(2);
  const a = filled(100, 1);
  const b = filled(100, 2);
  const c = filled(100, 3);
  const va = cache.at(a, 8);
  assert.is(va[0], a[8]);
  assert.is(va.length, 92, 'runs to the end of the buffer: the size says how much is the packet');
  assert.is(cache.at(a, 8), va, 'cached');
  assert.is(cache.at(a, 0), a);
  const vb = cache.at(b, 8);
  assert.is(cache.at(a, 8), va);
  assert.is(cache.at(b, 8), vb);
  assert.is.not(cache.at(a, 10), va, 'another offset is another view');
  cache.at(c, 8);
  assert.is.not(cache.at(b, 8), vb, 'evicted after two newer entries');
  assert.is(cache.at(a, 200).length, 0, 'beyond the end: empty');
  cache.clear();
  assert.is.not(cache.at(a, 8), va);
});

test.run();
