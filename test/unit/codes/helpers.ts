/** Test helpers for the codes tests (not a test file). */
import type { Codes } from '../../../src/codes/index.js';
import type { EventInfo } from '../../../src/codes/runtime.js';

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

/** Bytes from a hex literal with spaces/comments-free content: 'AA BB' -> [0xAA, 0xBB]. */
export function bytes(hex: string): Uint8Array {
  const h = hex.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new Error(`bad hex literal ${hex}`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** BTstack's function base name rule, written independently of the generator. */
export function base_name(event_name: string): string {
  const lower = event_name.toLowerCase();
  return lower.includes('event') ? lower : `${lower}_event`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFn = (...args: any[]) => any;

export function fn(codes: Codes, name: string): AnyFn {
  const f = (codes as unknown as Record<string, unknown>)[name];
  if (typeof f !== 'function') throw new Error(`${name} is not exported`);
  return f as AnyFn;
}

export function events_with_format(codes: Codes): EventInfo[] {
  return codes.EVENTS.filter((e) => e.format !== null);
}
