/**
 * P-256 (secp256r1 / prime256v1) for LE Secure Connections (Core spec Vol 3 Part H 2.3.5.6),
 * on `node:crypto`'s ECDH; the public-key check is our own, in BigInt.
 *
 * Byte order, as everywhere in src/sm/crypto.ts: BIG ENDIAN ("as printed in the spec").
 *   private key: 32 octets MSB first.
 *   public key:  64 octets X || Y, each coordinate 32 octets MSB first (SEC1's uncompressed point
 *                without its 0x04 prefix).
 *   DHKey:       32 octets MSB first (the X coordinate of the shared point), as f5 takes W.
 * On the air, the Pairing Public Key PDU (3.5.6) carries X then Y, EACH least significant octet
 * first: convert with `sm_p256_public_key_from_wire` / `sm_p256_public_key_to_wire`.
 *
 * Every function here that can see bytes from a peer returns null / false instead of throwing.
 */

import { createECDH } from 'node:crypto';

export interface SmP256KeyPair {
  /** 32 octets, MSB first. */
  private_key: Uint8Array;
  /** 64 octets, X || Y, each MSB first. */
  public_key: Uint8Array;
}

// Curve P-256 (FIPS 186-4 D.1.2.3, which Vol 3 Part H 2.3.5.6 names): y^2 = x^3 - 3x + b over GF(p).
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function toBig(bytes: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex'));
}

function padTo(buf: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(len);
  out.set(buf.subarray(Math.max(0, buf.length - len)), Math.max(0, len - buf.length));
  return out;
}

/**
 * Whether (x, y) is a point of P-256 a peer may send: both 32-octet coordinates (MSB first) below
 * p, not (0, 0) (the encoding some stacks use for the point at infinity, which is not an affine
 * point), and y^2 = x^3 - 3x + b (mod p). This is the check whose absence is CVE-2018-5383: a
 * peer that keeps X and sets Y = 0 (or any Y off the curve) must be refused. Never throws.
 */
export function sm_p256_public_key_valid(x: Uint8Array, y: Uint8Array): boolean {
  if (!(x instanceof Uint8Array) || !(y instanceof Uint8Array) || x.length !== 32 || y.length !== 32) return false;
  const X = toBig(x);
  const Y = toBig(y);
  if (X >= P || Y >= P) return false;
  if (X === 0n && Y === 0n) return false;
  const rhs = (((((X * X) % P) * X - 3n * X + B) % P) + P) % P;
  return (Y * Y) % P === rhs;
}

/** `sm_p256_public_key_valid` for a 64-octet X || Y key (MSB first each). */
function publicKeyValid(pub: Uint8Array): boolean {
  return pub instanceof Uint8Array && pub.length === 64 && sm_p256_public_key_valid(pub.subarray(0, 32), pub.subarray(32, 64));
}

function uncompressed(pub: Uint8Array): Uint8Array {
  const out = new Uint8Array(65);
  out[0] = 0x04;
  out.set(pub, 1);
  return out;
}

/** A fresh key pair from node:crypto's generator. */
export function sm_p256_generate_key_pair(): SmP256KeyPair {
  const ecdh = createECDH('prime256v1');
  const pub = ecdh.generateKeys();
  return { private_key: padTo(ecdh.getPrivateKey(), 32), public_key: new Uint8Array(pub.subarray(1, 65)) };
}

/** The public key (64 octets X || Y) of a 32-octet private key; null when the key is 0, >= n, or not 32 octets. */
export function sm_p256_public_key_from_private(private_key: Uint8Array): Uint8Array | null {
  if (!(private_key instanceof Uint8Array) || private_key.length !== 32) return null;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(private_key);
    return new Uint8Array(ecdh.getPublicKey().subarray(1, 65));
  } catch {
    return null;
  }
}

/**
 * DHKey = the X coordinate of private_key * peer_public_key, 32 octets MSB first; null when the
 * peer's key is not a valid point (checked with `sm_p256_public_key_valid` first, so the refusal
 * does not depend on OpenSSL) or the private key is unusable. Never throws.
 */
export function sm_p256_dhkey(private_key: Uint8Array, peer_public_key: Uint8Array): Uint8Array | null {
  if (!publicKeyValid(peer_public_key)) return null;
  if (!(private_key instanceof Uint8Array) || private_key.length !== 32) return null;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(private_key);
    return padTo(ecdh.computeSecret(uncompressed(peer_public_key)), 32);
  } catch {
    return null;
  }
}

/**
 * The P-256 debug key pair of SC debug mode (Vol 3 Part H 2.3.5.6.1), fresh copies each call.
 * A device accepting a peer's debug key should know that pairing is not secure.
 */
export function sm_p256_debug_key_pair(): SmP256KeyPair {
  const h = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
  return {
    private_key: h('3f49f6d4a3c55f3874c9b3e3d2103f504aff607beb40b7995899b8a6cd3c1abd'),
    public_key: h(
      '20b003d2f297be2c5e2c83a7e9f9a5b9eff49111acf4fddbcc0301480e359de6' +
        'dc809c49652aeb6d63329abf5a52155c766345c28fed3024741c8ed01589d28b',
    ),
  };
}

/**
 * Read the 64-octet public key of a Pairing Public Key PDU's payload (X then Y, each least
 * significant octet first) at src[pos] into X || Y MSB first; null if fewer than 64 octets
 * remain. Does not validate: pass the result to `sm_p256_public_key_valid` (or `sm_p256_dhkey`).
 */
export function sm_p256_public_key_from_wire(src: Uint8Array, pos = 0): Uint8Array | null {
  if (!(src instanceof Uint8Array) || !Number.isInteger(pos) || pos < 0 || pos + 64 > src.length) return null;
  const out = new Uint8Array(64);
  for (let i = 0; i < 32; i++) {
    out[i] = src[pos + 31 - i];
    out[32 + i] = src[pos + 63 - i];
  }
  return out;
}

/** Write a 64-octet X || Y (MSB first) key at dst[pos] as the PDU carries it (each coordinate LSB first); false if it does not fit. */
export function sm_p256_public_key_to_wire(public_key: Uint8Array, dst: Uint8Array, pos = 0): boolean {
  if (!(public_key instanceof Uint8Array) || public_key.length !== 64) return false;
  if (!(dst instanceof Uint8Array) || !Number.isInteger(pos) || pos < 0 || pos + 64 > dst.length) return false;
  for (let i = 0; i < 32; i++) {
    dst[pos + i] = public_key[31 - i];
    dst[pos + 32 + i] = public_key[63 - i];
  }
  return true;
}
