/** Shared helpers for the L2CAP unit tests. */
import { fromHex, hex } from '../../../src/core/bytes.js';

export { fromHex, hex };

/** mulberry32: small seeded PRNG so fuzz runs are reproducible. Returns [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Run an encoder into a fresh zeroed buffer of `size` bytes at `pos`; returns the hex of what it wrote. */
export function enc(size: number, pos: number, f: (buf: Uint8Array, pos: number) => number): string {
  const buf = new Uint8Array(size);
  const n = f(buf, pos);
  if (n < 0) return `-1`;
  return hex(buf.subarray(pos, pos + n));
}
