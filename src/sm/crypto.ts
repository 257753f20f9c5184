/**
 * The Security Manager's cryptographic toolbox (Core spec Vol 3 Part H 2.2), sans-I/O: pure,
 * synchronous functions over byte arrays, built on `node:crypto`'s AES-128 only.
 *
 * BYTE ORDER (one convention, everywhere in this module and in `p256.ts`):
 *   every multi-octet argument and result is BIG ENDIAN, "as printed in the spec": index 0 holds
 *   the most significant octet. This is how the spec's sample data reads, how FIPS-197 feeds AES
 *   (Part H 2.2.1: "the most significant octet of key corresponds to key[0]"), how BTstack keeps
 *   sm_key_t values inside sm.c, and how this project's BdAddr is stored ("AA:BB:..", addr[0] =
 *   0xAA). SMP PDUs, HCI LE commands and events carry the same values LEAST significant octet
 *   first; convert at the PDU boundary with `sm_read_le` / `sm_write_le` (and, for the P-256
 *   public key, `sm_p256_public_key_from_wire` / `_to_wire`), never inside these functions.
 *   Example: the Pairing Request PDU 01 03 00 01 10 07 07 on the wire is preq = 07 07 10 01 00 03
 *   01 for `sm_c1`: the code octet is preq's least significant octet, as in 2.2.3's example
 *   (preq = 07071000000101).
 *
 * Errors: a wrong-length or non-Uint8Array argument to a toolbox function is a programmer error
 * (TypeError). Functions meant for values from the air (`sm_rpa_resolve`, the P-256 validator and
 * DHKey, the wire converters) never throw: they answer false / null.
 *
 * No state: nothing here is mutable at module level; each call allocates only its small results.
 */

import { createCipheriv, randomBytes } from 'node:crypto';
import type { BdAddr } from '../core/bytes.js';

export type { SmP256KeyPair } from './p256.js';
export {
  sm_p256_debug_key_pair,
  sm_p256_generate_key_pair,
  sm_p256_public_key_from_private,
  sm_p256_dhkey,
  sm_p256_public_key_valid,
  sm_p256_public_key_from_wire,
  sm_p256_public_key_to_wire,
} from './p256.js';

function need(name: string, v: unknown, len: number): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== len) {
    throw new TypeError(`${name} must be a Uint8Array of ${len} octets`);
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Byte-order helpers for the PDU boundary

/** Read `len` octets stored least significant first at src[pos] into a new big-endian array; null if short. */
export function sm_read_le(src: Uint8Array, pos: number, len: number): Uint8Array | null {
  if (
    !(src instanceof Uint8Array) ||
    !Number.isInteger(pos) ||
    !Number.isInteger(len) ||
    pos < 0 ||
    len < 0 ||
    pos + len > src.length
  )
    return null;
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = src[pos + len - 1 - i];
  return out;
}

/** Write the big-endian `value` least significant octet first at dst[pos]; false if it does not fit. */
export function sm_write_le(value: Uint8Array, dst: Uint8Array, pos: number): boolean {
  if (
    !(value instanceof Uint8Array) ||
    !(dst instanceof Uint8Array) ||
    !Number.isInteger(pos) ||
    pos < 0 ||
    pos + value.length > dst.length
  )
    return false;
  for (let i = 0; i < value.length; i++) dst[pos + i] = value[value.length - 1 - i];
  return true;
}

// ---------------------------------------------------------------------------------------------
// 2.2.1 security function e, and AES-CMAC (RFC 4493; 2.2.5)

/** e(key, plaintextData) = AES-128 (FIPS-197) encryption of one block. key, plaintext, result: 16 octets, MSB first. */
export function sm_e(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
  need('key', key, 16);
  need('plaintext', plaintext, 16);
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  const out = c.update(plaintext);
  return new Uint8Array(out.buffer, out.byteOffset, 16).slice();
}

const CMAC_RB = 0x87; // RFC 4493 2.3: const_Rb

/** Shift a 16-octet block left by one bit; xor const_Rb if the bit shifted out was set (RFC 4493 Generate_Subkey). */
function dbl(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = ((b[i] << 1) | (i < 15 ? b[i + 1] >>> 7 : 0)) & 0xff;
  if (b[0] & 0x80) out[15] ^= CMAC_RB;
  return out;
}

/**
 * AES-CMAC_key(message) per RFC 4493 (Part H 2.2.5). key: 16 octets; message: any length, both
 * MSB first (the message's octet 0 is the first octet fed to CBC); result: the full 128-bit MAC.
 */
export function sm_aes_cmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  need('key', key, 16);
  if (!(message instanceof Uint8Array)) throw new TypeError('message must be a Uint8Array');
  const k1 = dbl(sm_e(key, new Uint8Array(16)));
  const n = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  const last = new Uint8Array(16);
  const tail = message.subarray((n - 1) * 16);
  if (complete) {
    for (let i = 0; i < 16; i++) last[i] = tail[i] ^ k1[i];
  } else {
    const k2 = dbl(k1);
    last.set(tail);
    last[tail.length] = 0x80; // padding 10^i
    for (let i = 0; i < 16; i++) last[i] ^= k2[i];
  }
  let x: Uint8Array = new Uint8Array(16);
  const y = new Uint8Array(16);
  for (let b = 0; b < n - 1; b++) {
    for (let i = 0; i < 16; i++) y[i] = x[i] ^ message[b * 16 + i];
    x = sm_e(key, y);
  }
  for (let i = 0; i < 16; i++) y[i] = x[i] ^ last[i];
  return sm_e(key, y);
}

// ---------------------------------------------------------------------------------------------
// LE legacy pairing: c1 (2.2.3), s1 (2.2.4)

/**
 * c1(k, r, preq, pres, iat, rat, ia, ra): the legacy confirm value (Mconfirm / Sconfirm).
 * k = TK, r = Mrand/Srand: 16 octets MSB first. preq / pres: the 7-octet Pairing Request /
 * Response PDUs as a 56-bit value MSB first, i.e. the wire octets REVERSED (the code octet is the
 * least significant, last). iat / rat: initiating / responding address type (0 public, 1 random;
 * only bit 0 is used). ia / ra: addresses MSB first (BdAddr order).
 * p1 = pres || preq || rat' || iat';  p2 = padding(32) || ia || ra;  c1 = e(k, e(k, r ^ p1) ^ p2).
 */
export function sm_c1(
  k: Uint8Array,
  r: Uint8Array,
  preq: Uint8Array,
  pres: Uint8Array,
  iat: number,
  rat: number,
  ia: BdAddr,
  ra: BdAddr,
): Uint8Array {
  need('k', k, 16);
  need('r', r, 16);
  need('preq', preq, 7);
  need('pres', pres, 7);
  need('ia', ia, 6);
  need('ra', ra, 6);
  const p1 = concat(pres, preq, Uint8Array.of(rat & 1, iat & 1));
  const p2 = concat(new Uint8Array(4), ia, ra);
  const t = new Uint8Array(16);
  for (let i = 0; i < 16; i++) t[i] = r[i] ^ p1[i];
  const t2 = sm_e(k, t);
  for (let i = 0; i < 16; i++) t2[i] ^= p2[i];
  return sm_e(k, t2);
}

/**
 * s1(k, r1, r2): the legacy STK. k = TK, r1 = Srand, r2 = Mrand (16 octets each, MSB first; the
 * caller passes them in the spec's order, s1(TK, Srand, Mrand)). r' = the least significant 64
 * bits of r1 || the least significant 64 bits of r2; s1 = e(k, r').
 */
export function sm_s1(k: Uint8Array, r1: Uint8Array, r2: Uint8Array): Uint8Array {
  need('k', k, 16);
  need('r1', r1, 16);
  need('r2', r2, 16);
  return sm_e(k, concat(r1.subarray(8), r2.subarray(8)));
}

// ---------------------------------------------------------------------------------------------
// LE Secure Connections: f4 (2.2.6), f5 (2.2.7), f6 (2.2.8), g2 (2.2.9)

/** An LE address as f5/f6 take it (A1, A2: 56 bits = type octet || address). type: 0 public, 1 random. */
export interface SmAddress {
  type: number;
  addr: BdAddr;
}

function a56(name: string, a: SmAddress): Uint8Array {
  if (!a || typeof a !== 'object') throw new TypeError(`${name} must be { type, addr }`);
  need(`${name}.addr`, a.addr, 6);
  return concat(Uint8Array.of(a.type & 1), a.addr);
}

/**
 * f4(U, V, X, Z) = AES-CMAC_X(U || V || Z): the SC confirm value. U, V: 32-octet public key X
 * coordinates (MSB first: PKax / PKbx as printed, not as on the wire); X: 16-octet nonce used as
 * key; Z: one octet (0 for Just Works / Numeric Comparison, 0x80 | bit for Passkey Entry).
 */
export function sm_f4(u: Uint8Array, v: Uint8Array, x: Uint8Array, z: number): Uint8Array {
  need('U', u, 32);
  need('V', v, 32);
  need('X', x, 16);
  return sm_aes_cmac(x, concat(u, v, Uint8Array.of(z & 0xff)));
}

/** SALT of f5 (2.2.7), MSB first. */
const F5_SALT = Uint8Array.of(0x6c, 0x88, 0x83, 0x91, 0xaa, 0xf5, 0xa5, 0x38, 0x60, 0x37, 0x0b, 0xdb, 0x5a, 0x60, 0x83, 0xbe);
/** keyID of f5: "btle" = 0x62746c65. */
const F5_KEY_ID = Uint8Array.of(0x62, 0x74, 0x6c, 0x65);

/**
 * f5(W, N1, N2, A1, A2) -> { mac_key, ltk }: the SC key generation. W: 32-octet DHKey, N1/N2:
 * 16-octet nonces (Na, Nb), A1/A2: initiator / responder address with type. All MSB first.
 * T = AES-CMAC_SALT(W); MacKey = AES-CMAC_T(0 || keyID || N1 || N2 || A1 || A2 || 256),
 * LTK = the same with counter 1.
 */
export function sm_f5(
  w: Uint8Array,
  n1: Uint8Array,
  n2: Uint8Array,
  a1: SmAddress,
  a2: SmAddress,
): { mac_key: Uint8Array; ltk: Uint8Array } {
  need('W', w, 32);
  need('N1', n1, 16);
  need('N2', n2, 16);
  const t = sm_aes_cmac(F5_SALT, w);
  const m = concat(Uint8Array.of(0), F5_KEY_ID, n1, n2, a56('A1', a1), a56('A2', a2), Uint8Array.of(0x01, 0x00));
  const mac_key = sm_aes_cmac(t, m);
  m[0] = 1;
  return { mac_key, ltk: sm_aes_cmac(t, m) };
}

/**
 * f6(W, N1, N2, R, IOcap, A1, A2) = AES-CMAC_W(N1 || N2 || R || IOcap || A1 || A2): the SC DHKey
 * check value. W: 16-octet MacKey; N1, N2, R: 16 octets; IOcap: 3 octets MSB first = AuthReq,
 * OOB data flag, IO capability (in that order, as the spec prints 0x010102). All MSB first.
 */
export function sm_f6(
  w: Uint8Array,
  n1: Uint8Array,
  n2: Uint8Array,
  r: Uint8Array,
  io_cap: Uint8Array,
  a1: SmAddress,
  a2: SmAddress,
): Uint8Array {
  need('W', w, 16);
  need('N1', n1, 16);
  need('N2', n2, 16);
  need('R', r, 16);
  need('IOcap', io_cap, 3);
  return sm_aes_cmac(w, concat(n1, n2, r, io_cap, a56('A1', a1), a56('A2', a2)));
}

/**
 * g2(U, V, X, Y) = AES-CMAC_X(U || V || Y) mod 2^32, returned as an unsigned number; the value
 * shown to the user is `g2 % 1000000` (`sm_numeric_comparison_value`). U, V: 32-octet X
 * coordinates (PKax, PKbx), X, Y: 16-octet nonces (Na, Nb). All MSB first.
 */
export function sm_g2(u: Uint8Array, v: Uint8Array, x: Uint8Array, y: Uint8Array): number {
  need('U', u, 32);
  need('V', v, 32);
  need('X', x, 16);
  need('Y', y, 16);
  const m = sm_aes_cmac(x, concat(u, v, y));
  return ((m[12] << 24) | (m[13] << 16) | (m[14] << 8) | m[15]) >>> 0;
}

/** The six-digit number of Numeric Comparison: g2 mod 10^6. */
export function sm_numeric_comparison_value(g2: number): number {
  return (g2 >>> 0) % 1000000;
}

// ---------------------------------------------------------------------------------------------
// Key generation from IR (Vol 3 Part H Appendix B.2.1)

/**
 * d1(k, d, r) = e(k, d') with d' = padding(96 zero bits) || r(16) || d(16) (Appendix B.2.1.1);
 * the IRK is d1(IR, 1, 0) and the DHK d1(IR, 3, 0) (B.2.2). k: 16 octets, d and r 0..0xffff; MSB first.
 */
export function sm_d1(k: Uint8Array, d: number, r: number): Uint8Array {
  need('k', k, 16);
  const p = new Uint8Array(16);
  p[12] = (r >> 8) & 0xff;
  p[13] = r & 0xff;
  p[14] = (d >> 8) & 0xff;
  p[15] = d & 0xff;
  return sm_e(k, p);
}

// ---------------------------------------------------------------------------------------------
// Random address hash ah (2.2.2) and resolvable private addresses (Vol 6 Part B 1.3.2.2)

/** ah(k, r) = e(k, padding(104) || r) mod 2^24. k: 16-octet IRK, r: 3-octet prand, result 3 octets; MSB first. */
export function sm_ah(irk: Uint8Array, r: Uint8Array): Uint8Array {
  need('IRK', irk, 16);
  need('r', r, 3);
  const p = new Uint8Array(16);
  p.set(r, 13);
  return sm_e(irk, p).slice(13);
}

/**
 * A fresh prand for an RPA: 3 random octets (MSB first) whose two most significant bits are 01,
 * and whose 22 random bits are neither all 0 nor all 1 (Vol 6 Part B 1.3.2.2).
 */
export function sm_rpa_prand_generate(): Uint8Array {
  for (;;) {
    const p = new Uint8Array(randomBytes(3));
    p[0] = (p[0] & 0x3f) | 0x40;
    const rnd = ((p[0] & 0x3f) << 16) | (p[1] << 8) | p[2];
    if (rnd !== 0 && rnd !== 0x3fffff) return p;
  }
}

/**
 * The resolvable private address for `irk` and `prand` (3 octets, MSB first; its two most
 * significant bits are forced to 01): prand || ah(irk, prand), as a BdAddr (MSB first, so
 * addr[0..2] = prand and addr[3..5] = hash; on the wire, reversed like any address). Without
 * `prand`, a fresh one from `sm_rpa_prand_generate`.
 */
export function sm_rpa_generate(irk: Uint8Array, prand?: Uint8Array): BdAddr {
  need('IRK', irk, 16);
  let p: Uint8Array;
  if (prand === undefined) p = sm_rpa_prand_generate();
  else {
    need('prand', prand, 3);
    p = prand.slice();
    p[0] = (p[0] & 0x3f) | 0x40;
  }
  return concat(p, sm_ah(irk, p));
}

/**
 * Whether `addr` (6 octets, MSB first as BdAddr) is a resolvable private address generated from
 * `irk`: its two most significant bits are 01 and its low 24 bits equal ah(irk, high 24 bits).
 * Never throws: false for anything that is not a 16-octet IRK and a 6-octet address.
 */
export function sm_rpa_resolve(irk: Uint8Array, addr: BdAddr): boolean {
  if (!(irk instanceof Uint8Array) || irk.length !== 16 || !(addr instanceof Uint8Array) || addr.length !== 6) return false;
  if ((addr[0] & 0xc0) !== 0x40) return false;
  const h = sm_ah(irk, addr.subarray(0, 3));
  return h[0] === addr[3] && h[1] === addr[4] && h[2] === addr[5];
}

// ---------------------------------------------------------------------------------------------
// Key conversion: h6 (2.2.10), h7 (2.2.11), and h8 (Vol 6 Part E 1.1.1)

/** h6(W, keyID) = AES-CMAC_W(keyID). W: 16 octets, keyID: 4 octets (e.g. "lebr" = 6c656272), MSB first. */
export function sm_h6(w: Uint8Array, key_id: Uint8Array): Uint8Array {
  need('W', w, 16);
  need('keyID', key_id, 4);
  return sm_aes_cmac(w, key_id);
}

/** h7(SALT, W) = AES-CMAC_SALT(W). SALT, W: 16 octets, MSB first. */
export function sm_h7(salt: Uint8Array, w: Uint8Array): Uint8Array {
  need('SALT', salt, 16);
  need('W', w, 16);
  return sm_aes_cmac(salt, w);
}

/** h8(K, S, keyID) = AES-CMAC_T(keyID) with T = AES-CMAC_S(K). K, S: 16 octets, keyID: 4 octets, MSB first. */
export function sm_h8(k: Uint8Array, s: Uint8Array, key_id: Uint8Array): Uint8Array {
  need('K', k, 16);
  need('S', s, 16);
  need('keyID', key_id, 4);
  return sm_aes_cmac(sm_aes_cmac(s, k), key_id);
}

// The ASCII keyIDs and salts of cross-transport key derivation (2.4.2.4, 2.4.2.5), MSB first.
// Not exported: a Uint8Array cannot be frozen, and no caller may change them.
const SM_KEY_ID_TMP1 = Uint8Array.of(0x74, 0x6d, 0x70, 0x31); // "tmp1"
const SM_KEY_ID_TMP2 = Uint8Array.of(0x74, 0x6d, 0x70, 0x32); // "tmp2"
const SM_KEY_ID_LEBR = Uint8Array.of(0x6c, 0x65, 0x62, 0x72); // "lebr"
const SM_KEY_ID_BRLE = Uint8Array.of(0x62, 0x72, 0x6c, 0x65); // "brle"

function salt_of(key_id: Uint8Array): Uint8Array {
  const s = new Uint8Array(16);
  s.set(key_id, 12);
  return s;
}

/**
 * LE LTK -> BR/EDR link key (2.4.2.4): ILK = ct2 ? h7(SALT "tmp1", LTK) : h6(LTK, "tmp1");
 * link key = h6(ILK, "lebr"). ct2: both devices set CT2 in AuthReq. 16 octets, MSB first.
 */
export function sm_ltk_to_link_key(ltk: Uint8Array, ct2: boolean): Uint8Array {
  need('LTK', ltk, 16);
  const ilk = ct2 ? sm_h7(salt_of(SM_KEY_ID_TMP1), ltk) : sm_h6(ltk, SM_KEY_ID_TMP1);
  return sm_h6(ilk, SM_KEY_ID_LEBR);
}

/**
 * BR/EDR link key -> LE LTK (2.4.2.5): ILTK = ct2 ? h7(SALT "tmp2", link key) : h6(link key,
 * "tmp2"); LTK = h6(ILTK, "brle"). 16 octets, MSB first.
 */
export function sm_link_key_to_ltk(link_key: Uint8Array, ct2: boolean): Uint8Array {
  need('link key', link_key, 16);
  const iltk = ct2 ? sm_h7(salt_of(SM_KEY_ID_TMP2), link_key) : sm_h6(link_key, SM_KEY_ID_TMP2);
  return sm_h6(iltk, SM_KEY_ID_BRLE);
}
