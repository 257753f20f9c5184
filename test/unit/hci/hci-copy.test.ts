/**
 * src/hci/hci-copy.ts: SpanCopier copies exactly the bytes asked for, for every span length
 * (byte loop, word loop, native copy from a cached view), from Uint8Arrays, views into a larger
 * ArrayBuffer and Node Buffers, with both miss policies (seeded fuzz against a reference copy);
 * the view caches hand back the same view for a repeated (buffer, offset) / span and evict
 * beyond their slots.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OffsetViewCache, SPAN_COPY_VIEW_MIN, SpanCopier } from '../../../src/hci/hci-copy.js';

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
    for (const n of [0, 1, 3, 4, 5, 15, 16, 17, 31, 255, SPAN_COPY_VIEW_MIN - 1, SPAN_COPY_VIEW_MIN, SPAN_COPY_VIEW_MIN + 1, 1021, 4096, 8191]) {
      for (const [sp, dp] of [[0, 0], [1, 3], [4, 0], [7, 13]] as const) {
        const dst = new Uint8Array(9000).fill(0xee);
        c.copy(dst, dp, src, sp, n);
        for (let i = 0; i < dst.length; i++) {
          const want = i >= dp && i < dp + n ? src[sp + i - dp] : 0xee;
          if (dst[i] !== want) assert.unreachable(`n=${n} sp=${sp} dp=${dp} wordOnMiss=${wordOnMiss}: byte ${i} is ${dst[i]}, want ${want}`);
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
      assert.ok(dstBacking.subarray(0, 17).every((b) => b === 0), 'nothing written before the destination view');
    }
  }
});

test('OffsetViewCache: the same view for a repeated (buffer, offset), starting at the offset; offset 0 is the buffer; evicts beyond its slots', () => {
  const cache = new OffsetViewCache(2);
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
  cache.clear();
  assert.is.not(cache.at(a, 8), va);
});

test.run();
