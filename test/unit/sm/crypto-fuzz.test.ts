/**
 * Fuzz (seeded, reproducible) of the parts of src/sm/crypto.ts that see bytes from a peer:
 * - sm_p256_public_key_valid on 100,000 candidate points (random, valid points mutated, the
 *   CVE-2018-5383 shape (X kept, Y = 0), coordinates around p, non-canonical x + p, negations):
 *   never throws, and accepts exactly the points node:crypto (OpenSSL's point decoding, via
 *   ECDH.convertKey) accepts; a fair share of the inputs are valid, so both answers are exercised.
 * - sm_p256_dhkey on 2,000 of them: a DHKey exactly when the point is valid, equal to node's own.
 * - the wire converters (public key, sm_read_le / sm_write_le) and sm_rpa_resolve on 100,000
 *   random buffers, offsets and lengths: never throw; a conversion that succeeds round-trips.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ECDH, createECDH } from 'node:crypto';
import {
  sm_p256_public_key_valid,
  sm_p256_dhkey,
  sm_p256_generate_key_pair,
  sm_p256_debug_key_pair,
  sm_p256_public_key_from_wire,
  sm_p256_public_key_to_wire,
  sm_read_le,
  sm_write_le,
  sm_rpa_resolve,
  sm_ah,
} from '../../../src/sm/crypto.js';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function prng(seed: number): () => number {
  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const toBig = (b: Uint8Array) => {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
};
function bytes32(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
function modpow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b %= P;
  while (e) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}
/** Points with x = 0, 1, 2, ... where x^3 - 3x + b is a square (so x + p still fits in 256 bits). */
function smallXPoints(n: number): Array<[bigint, bigint]> {
  const out: Array<[bigint, bigint]> = [];
  for (let x = 0n; out.length < n; x++) {
    const rhs = (((x * x * x - 3n * x + B) % P) + P) % P;
    const y = modpow(rhs, (P + 1n) / 4n);
    if ((y * y) % P === rhs) out.push([x, y]);
  }
  return out;
}

function nodeAccepts(x: Uint8Array, y: Uint8Array): boolean {
  const k = new Uint8Array(65);
  k[0] = 4;
  k.set(x, 1);
  k.set(y, 33);
  try {
    ECDH.convertKey(k, 'prime256v1');
    return true;
  } catch {
    return false;
  }
}

test('sm_p256_public_key_valid agrees with node:crypto on 100,000 candidate points', () => {
  const rnd = prng(0x5383);
  const byte = () => (rnd() * 256) | 0;
  const randBytes = (n: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = byte();
    return b;
  };
  const pool: Uint8Array[] = [sm_p256_debug_key_pair().public_key];
  for (let i = 0; i < 63; i++) pool.push(sm_p256_generate_key_pair().public_key);
  const small = smallXPoints(8);
  const near = (base: bigint) => bytes32((base + BigInt(((rnd() * 5) | 0) - 2) + (1n << 256n)) % (1n << 256n));
  let valid = 0;
  const shapes = new Map<string, number>();
  for (let i = 0; i < 100_000; i++) {
    const pick = pool[(rnd() * pool.length) | 0]!;
    let x: Uint8Array = pick.slice(0, 32),
      y: Uint8Array = pick.slice(32, 64);
    const s = (rnd() * 10) | 0;
    switch (s) {
      case 0:
        x = randBytes(32);
        y = randBytes(32);
        break;
      case 1: {
        const j = (rnd() * 64) | 0;
        const m = 1 << ((rnd() * 8) | 0);
        (j < 32 ? x : y)[j & 31] ^= m;
        break;
      }
      case 2:
        y = randBytes(32);
        break;
      case 3:
        y = new Uint8Array(32);
        break; // CVE-2018-5383
      case 4:
        break; // unchanged: valid
      case 5:
        y = bytes32(P - toBig(y));
        break; // the negation: valid
      case 6:
        if (rnd() < 0.5) x = near(P);
        else y = near(P);
        break;
      case 7: {
        const [sx, sy] = small[(rnd() * small.length) | 0]!;
        x = bytes32(sx + (rnd() < 0.5 ? P : 0n));
        y = bytes32(sy);
        break;
      }
      case 8:
        x = bytes32(BigInt((rnd() * 4) | 0));
        y = rnd() < 0.5 ? new Uint8Array(32) : randBytes(32);
        break;
      default: {
        const j = (rnd() * 64) | 0;
        (j < 32 ? x : y)[j & 31] = byte();
        break;
      }
    }
    let ours: boolean;
    try {
      ours = sm_p256_public_key_valid(x, y);
    } catch (e) {
      assert.unreachable(`threw on case ${s}: ${String(e)}`);
      return;
    }
    const theirs = nodeAccepts(x, y);
    if (ours !== theirs) {
      assert.unreachable(
        `case ${s}: ours ${ours}, node ${theirs}, x ${Buffer.from(x).toString('hex')} y ${Buffer.from(y).toString('hex')}`,
      );
    }
    if (ours) valid++;
    shapes.set(`${s}:${ours}`, (shapes.get(`${s}:${ours}`) ?? 0) + 1);
  }
  assert.ok(valid > 20_000 && valid < 80_000, `valid ${valid}`);
  assert.is(shapes.get('3:true'), undefined, 'no (X, 0) accepted');
  assert.ok((shapes.get('7:true') ?? 0) > 0 && (shapes.get('7:false') ?? 0) > 0, 'x + p seen both ways');
});

test('sm_p256_dhkey: a DHKey exactly for valid points, equal to node:crypto computeSecret (2,000 keys)', () => {
  const rnd = prng(0xd4e7);
  const me = sm_p256_generate_key_pair();
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(me.private_key);
  let got = 0;
  for (let i = 0; i < 2000; i++) {
    const peer = sm_p256_generate_key_pair().public_key;
    if (rnd() < 0.5) peer[(rnd() * 64) | 0] ^= 1 << ((rnd() * 8) | 0);
    const valid = sm_p256_public_key_valid(peer.subarray(0, 32), peer.subarray(32));
    const dh = sm_p256_dhkey(me.private_key, peer);
    assert.is(dh !== null, valid);
    if (dh) {
      got++;
      const k = new Uint8Array(65);
      k[0] = 4;
      k.set(peer, 1);
      assert.is(Buffer.from(dh).toString('hex'), ecdh.computeSecret(k).toString('hex'));
    }
  }
  assert.ok(got > 800 && got < 1200, `valid ${got}`);
});

test('wire converters, sm_read_le / sm_write_le and sm_rpa_resolve: 100,000 random buffers never throw', () => {
  const rnd = prng(0x0c0c);
  const byte = () => (rnd() * 256) | 0;
  const weird: unknown[] = [undefined, null, 'abc', [1, 2, 3], 42, {}, new Uint16Array(64)];
  let round = 0;
  for (let i = 0; i < 100_000; i++) {
    const len = (rnd() * 90) | 0;
    const buf = new Uint8Array(len);
    for (let j = 0; j < len; j++) buf[j] = byte();
    const pos = rnd() < 0.05 ? [-1, 0.5, NaN, Infinity][(rnd() * 4) | 0]! : ((rnd() * 80) | 0) - 2;
    const n = ((rnd() * 40) | 0) - 2;
    try {
      const key = sm_p256_public_key_from_wire(buf, pos);
      if (key) {
        const back = new Uint8Array(len);
        assert.ok(sm_p256_public_key_to_wire(key, back, pos));
        assert.is(
          Buffer.from(back.subarray(pos, pos + 64)).toString('hex'),
          Buffer.from(buf.subarray(pos, pos + 64)).toString('hex'),
        );
        round++;
      } else {
        assert.ok(!(pos >= 0 && Number.isInteger(pos) && pos + 64 <= len));
      }
      const v = sm_read_le(buf, pos, n);
      if (v) {
        const back = new Uint8Array(len);
        assert.ok(sm_write_le(v, back, pos));
        assert.is(
          Buffer.from(back.subarray(pos, pos + n)).toString('hex'),
          Buffer.from(buf.subarray(pos, pos + n)).toString('hex'),
        );
      }
      const irk = buf.subarray(0, rnd() < 0.9 ? 16 : (rnd() * 20) | 0);
      const addr = buf.subarray(16, 16 + (rnd() < 0.9 ? 6 : (rnd() * 8) | 0));
      const r = sm_rpa_resolve(irk, addr);
      if (r)
        assert.is(Buffer.from(sm_ah(irk, addr.subarray(0, 3))).toString('hex'), Buffer.from(addr.subarray(3)).toString('hex'));
      if (i % 1000 === 0) {
        const w = weird[(rnd() * weird.length) | 0] as Uint8Array;
        assert.not.ok(sm_p256_public_key_valid(w, w));
        assert.is(sm_p256_public_key_from_wire(w, 0), null);
        assert.not.ok(sm_rpa_resolve(w, w));
        assert.is(sm_p256_dhkey(w, w), null);
        assert.is(sm_read_le(w, 0, 1), null);
        assert.not.ok(sm_write_le(w, w, 0));
      }
    } catch (e) {
      assert.unreachable(`iteration ${i} (len ${len}, pos ${pos}, n ${n}) threw: ${String(e)}`);
    }
  }
  assert.ok(round > 3000, `round trips ${round}`);
});

test.run();
