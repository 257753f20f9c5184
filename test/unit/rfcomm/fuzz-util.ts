/**
 * Helpers for the RFCOMM and SDP codec fuzz tests (no test of its own).
 *
 * Two independent ways to catch a parser reading outside its input:
 * - `guarded(bytes)`: a Proxy over an exact-size copy that counts every indexed read outside
 *   0..length-1 (typed arrays return undefined there instead of throwing, so such reads would
 *   otherwise go unnoticed);
 * - `embed(bytes, junk)`: the input placed inside a larger buffer between junk octets. Parsing
 *   the same input between two different junk patterns must give identical results, otherwise
 *   the parser looked at octets outside the range it was given.
 */

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

export function randInt(rnd: () => number, n: number): number {
  return Math.floor(rnd() * n);
}

export function randomBytes(rnd: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = randInt(rnd, 256);
  return b;
}

/** Mutate a copy: flip bits, overwrite octets, truncate, extend, or splice. */
export function mutate(rnd: () => number, src: Uint8Array): Uint8Array {
  let b: Uint8Array = Uint8Array.from(src);
  const n = 1 + randInt(rnd, 4);
  for (let k = 0; k < n; k++) {
    const op = randInt(rnd, 6);
    if (op === 0 && b.length) b[randInt(rnd, b.length)] ^= 1 << randInt(rnd, 8);
    else if (op === 1 && b.length) b[randInt(rnd, b.length)] = randInt(rnd, 256);
    else if (op === 2 && b.length) b = b.subarray(0, randInt(rnd, b.length));
    else if (op === 3) {
      const extra = randomBytes(rnd, 1 + randInt(rnd, 8));
      const c = new Uint8Array(b.length + extra.length);
      c.set(b);
      c.set(extra, b.length);
      b = c;
    } else if (op === 4 && b.length) {
      // interesting values at a random spot (lengths of 0, 0x7f, 0xff, 0xffff...)
      const vals = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
      b[randInt(rnd, b.length)] = vals[randInt(rnd, vals.length)]!;
    } else if (op === 5 && b.length > 1) {
      const i = randInt(rnd, b.length);
      const j = randInt(rnd, b.length);
      const t = b[i]!;
      b[i] = b[j]!;
      b[j] = t;
    }
  }
  return Uint8Array.from(b);
}

export interface Guarded {
  buf: Uint8Array;
  /** Indexed reads outside 0..length-1 so far. */
  outside(): number;
}

/** An exact-size copy of `bytes` behind a Proxy that counts out-of-range indexed reads. */
export function guarded(bytes: Uint8Array): Guarded {
  const target = Uint8Array.from(bytes);
  let outside = 0;
  const buf = new Proxy(target, {
    get(t, prop) {
      if (typeof prop === 'string') {
        const c = prop.charCodeAt(0);
        if ((c >= 48 && c <= 57) || c === 45) {
          const i = Number(prop);
          if (Number.isInteger(i)) {
            if (i < 0 || i >= t.length) outside++;
            return t[i];
          }
        }
      }
      const v = Reflect.get(t, prop, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  return { buf, outside: () => outside };
}

/** `bytes` placed at offset `pad` of a buffer with `pad` junk octets on each side. */
export function embed(bytes: Uint8Array, junk: number, pad = 8): { buf: Uint8Array; pos: number } {
  const buf = new Uint8Array(bytes.length + 2 * pad).fill(junk & 0xff);
  buf.set(bytes, pad);
  return { buf, pos: pad };
}
