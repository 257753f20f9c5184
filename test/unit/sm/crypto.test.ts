/**
 * The SM cryptographic toolbox against published sample data. Every vector below is typed as the
 * Bluetooth Core spec prints it (most significant octet first), which is also the byte order of
 * src/sm/crypto.ts's arguments, so `h('…')` of the printed hex is passed unchanged.
 *
 * Sources of the vectors (facts, cited; looked up with the `search` tool, then checked here):
 * - Core spec Vol 3 Part H 2.2.3 (c1 example) and 2.2.4 (s1 example).
 * - Core spec Vol 3 Part H Appendix D: D.1 AES-CMAC (= RFC 4493 section 4), D.2 f4, D.3 f5,
 *   D.4 f6, D.5 g2, D.6 h6, D.7 ah, D.8 h7, D.9/D.10 LTK -> link key (CT2 = 1 / 0), and the link
 *   key -> LTK pair that follows. Numbering as cited by Fuchsia's bt-host
 *   (src/connectivity/bluetooth/core/bt-host/sm/util_unittest.cc); values as in Bumble
 *   (tests/smp_test.py), Zephyr (tests/bluetooth/bt_crypto/src/test_bt_crypto.c, least
 *   significant octet first there) and Fuchsia, which agree.
 * - h8 (Core spec Vol 6 Part E 1.1.1): the vector of Zephyr's test_result_h8, read MSB first.
 * - P-256 sample data (Core spec Vol 2 Part G, P-256 sample data set; private A is the SMP debug
 *   private key of Vol 3 Part H 2.3.5.6.1): values as in Bumble's test_ecc.
 * - RFC 4493 section 4 (AES-CMAC examples and AES-128(K, 0)), FIPS-197 Appendix C.1 (AES-128).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  sm_e,
  sm_aes_cmac,
  sm_c1,
  sm_s1,
  sm_f4,
  sm_f5,
  sm_f6,
  sm_g2,
  sm_numeric_comparison_value,
  sm_ah,
  sm_rpa_generate,
  sm_rpa_resolve,
  sm_rpa_prand_generate,
  sm_h6,
  sm_h7,
  sm_h8,
  sm_ltk_to_link_key,
  sm_link_key_to_ltk,
  sm_read_le,
  sm_write_le,
  sm_p256_debug_key_pair,
  sm_p256_generate_key_pair,
  sm_p256_public_key_from_private,
  sm_p256_dhkey,
  sm_p256_public_key_valid,
  sm_p256_public_key_from_wire,
  sm_p256_public_key_to_wire,
} from '../../../src/sm/crypto.js';
import { fromHex as h, hex } from '../../../src/core/bytes.js';

const eq = (actual: Uint8Array | null, printed: string, msg?: string) =>
  assert.is(actual === null ? 'null' : hex(actual), hex(h(printed)), msg);

// ------------------------------------------------------------------------------------------ e, AES-CMAC

test('e: FIPS-197 Appendix C.1 AES-128 and RFC 4493 section 4 AES-128(K, 0)', () => {
  eq(sm_e(h('000102030405060708090a0b0c0d0e0f'), h('00112233445566778899aabbccddeeff')), '69c4e0d8 6a7b0430 d8cdb780 70b4c55a');
  eq(sm_e(h('2b7e1516 28aed2a6 abf71588 09cf4f3c'), new Uint8Array(16)), '7df76b0c 1ab899b3 3e42f047 b91b546f');
});

test('AES-CMAC: RFC 4493 section 4 examples 1-4 (= Core Vol 3 Part H D.1.1-D.1.4)', () => {
  const k = h('2b7e1516 28aed2a6 abf71588 09cf4f3c');
  const m = h(
    '6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51' +
      '30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710',
  );
  eq(sm_aes_cmac(k, m.subarray(0, 0)), 'bb1d6929 e9593728 7fa37d12 9b756746', 'Len = 0');
  eq(sm_aes_cmac(k, m.subarray(0, 16)), '070a16b4 6b4d4144 f79bdd9d d04a287c', 'Len = 16');
  eq(sm_aes_cmac(k, m.subarray(0, 40)), 'dfa66747 de9ae630 30ca3261 1497c827', 'Len = 40');
  eq(sm_aes_cmac(k, m.subarray(0, 64)), '51f0bebf 7e3b9d92 fc497417 79363cfe', 'Len = 64');
});

test('e and AES-CMAC: programmer errors are TypeErrors', () => {
  assert.throws(
    () => sm_e(new Uint8Array(15), new Uint8Array(16)),
    (e: unknown) => e instanceof TypeError,
  );
  assert.throws(
    () => sm_e(new Uint8Array(16), new Uint8Array(17)),
    (e: unknown) => e instanceof TypeError,
  );
  assert.throws(
    () => sm_aes_cmac(new Uint8Array(16), 'abc' as unknown as Uint8Array),
    (e: unknown) => e instanceof TypeError,
  );
  assert.throws(
    () => sm_f4(new Uint8Array(31), new Uint8Array(32), new Uint8Array(16), 0),
    (e: unknown) => e instanceof TypeError,
  );
});

// ------------------------------------------------------------------------------------------ legacy

test('c1: Core Vol 3 Part H 2.2.3 example (TK 0, Mrand, preq/pres, ia random, ra public)', () => {
  const preq = h('07071000000101');
  const pres = h('05000800000302');
  eq(
    sm_c1(new Uint8Array(16), h('5783D52156AD6F0E6388274EC6702EE0'), preq, pres, 1, 0, h('A1A2A3A4A5A6'), h('B1B2B3B4B5B6')),
    '1e1e3fef 878988ea d2a74dc5 bef13b86',
  );
  // The same preq as it travels in the Pairing Request PDU (3.5.1): code 0x01 first, then IO
  // capability 0x01, OOB 0x00, AuthReq 0x00, max key size 0x10, key distributions 0x07 0x07.
  eq(sm_read_le(Uint8Array.of(0x01, 0x01, 0x00, 0x00, 0x10, 0x07, 0x07), 0, 7), '07071000000101');
  // Only bit 0 of iat/rat is an address type: 0x03 means random, as 1.
  eq(
    sm_c1(new Uint8Array(16), h('5783D52156AD6F0E6388274EC6702EE0'), preq, pres, 3, 0, h('A1A2A3A4A5A6'), h('B1B2B3B4B5B6')),
    '1e1e3fef 878988ea d2a74dc5 bef13b86',
  );
  // Swapping the address types changes the value.
  assert.is.not(
    hex(sm_c1(new Uint8Array(16), h('5783D52156AD6F0E6388274EC6702EE0'), preq, pres, 0, 1, h('A1A2A3A4A5A6'), h('B1B2B3B4B5B6'))),
    hex(h('1e1e3fef878988ead2a74dc5bef13b86')),
  );
});

test('s1: Core Vol 3 Part H 2.2.4 example (r1 = Srand, r2 = Mrand; low 64 bits of each)', () => {
  eq(
    sm_s1(new Uint8Array(16), h('000F0E0D0C0B0A091122334455667788'), h('010203040506070899AABBCCDDEEFF00')),
    '9a1fe1f0 e8b0f49b 5b4216ae 796da062',
  );
  // The high 64 bits of r1 and r2 do not enter s1.
  eq(
    sm_s1(new Uint8Array(16), h('FFFFFFFFFFFFFFFF1122334455667788'), h('000000000000000099AABBCCDDEEFF00')),
    '9a1fe1f0 e8b0f49b 5b4216ae 796da062',
  );
});

// ------------------------------------------------------------------------------------------ Secure Connections

const U = '20b003d2 f297be2c 5e2c83a7 e9f9a5b9 eff49111 acf4fddb cc030148 0e359de6';
const V = '55188b3d 32f6bb9a 900afcfb eed4e72a 59cb9ac2 f19d7cfb 6b4fdd49 f47fc5fd';
const N1 = 'd5cb8454 d177733e ffffb2ec 712baeab';
const N2 = 'a6e8e7cc 25a75f6e 216583f7 ff3dc4cf';
const DHKEY = 'ec0234a3 57c8ad05 341010a6 0a397d9b 99796b13 b4f866f1 868d34f3 73bfa698';
const A1 = { type: 0, addr: h('56123737bfce') }; // A1 = 00561237 37bfce: public, 56:12:37:37:BF:CE
const A2 = { type: 0, addr: h('a713702dcfc1') }; // A2 = 00a71370 2dcfc1: public, A7:13:70:2D:CF:C1

test('f4: Core Vol 3 Part H Appendix D.2', () => {
  eq(sm_f4(h(U), h(V), h(N1), 0x00), 'f2c916f1 07a9bd1c f1eda1be a974872d');
  assert.is.not(hex(sm_f4(h(U), h(V), h(N1), 0x80)), hex(h('f2c916f107a9bd1cf1eda1bea974872d')), 'Z enters the MAC');
});

test('f5: Core Vol 3 Part H Appendix D.3 (MacKey and LTK)', () => {
  const { mac_key, ltk } = sm_f5(h(DHKEY), h(N1), h(N2), A1, A2);
  eq(mac_key, '2965f176 a1084a02 fd3f6a20 ce636e20');
  eq(ltk, '69867911 69d7cd23 980522b5 94750a38');
  const r = sm_f5(h(DHKEY), h(N1), h(N2), { type: 1, addr: A1.addr }, A2);
  assert.is.not(hex(r.ltk), hex(ltk), 'the address type is part of A1');
});

test('f6: Core Vol 3 Part H Appendix D.4 (IOcap 010102 = AuthReq 01, OOB 01, IO capability 02)', () => {
  eq(
    sm_f6(h('2965f176 a1084a02 fd3f6a20 ce636e20'), h(N1), h(N2), h('12a3343b b453bb54 08da42d2 0c2d0fc8'), h('010102'), A1, A2),
    'e3c47398 9cd0e8c5 d26c0b09 da958f61',
  );
});

test('g2: Core Vol 3 Part H Appendix D.5; the Numeric Comparison value is g2 mod 10^6', () => {
  const g = sm_g2(h(U), h(V), h(N1), h(N2));
  assert.is(g, 0x2f9ed5ba);
  assert.is(sm_numeric_comparison_value(g), 938554); // 0x2f9ed5ba = 798938554
  assert.is(sm_numeric_comparison_value(0xffffffff), 967295);
});

// ------------------------------------------------------------------------------------------ key conversion

const KEY = 'ec0234a3 57c8ad05 341010a6 0a397d9b';

test('h6: Core Vol 3 Part H Appendix D.6 (keyID "lebr")', () => {
  eq(sm_h6(h(KEY), h('6c656272')), '2d9ae102 e76dc91c e8d3a9e2 80b16399');
});

test('h7: Core Vol 3 Part H Appendix D.8 (SALT "tmp1")', () => {
  eq(sm_h7(h('00000000 00000000 00000000 746D7031'), h(KEY)), 'fb173597 c6a3c0ec d2998c2a 75a57011');
});

test('h8: Core Vol 6 Part E 1.1.1, the sample vector used by Zephyr (K ec0234a3.., S 1536d18d.., keyID cc030148)', () => {
  // Zephyr's tests/bluetooth/bt_crypto test_result_h8 lists these octets in this order; read most
  // significant octet first, as every vector in this file, they give e5e5beba.. (a 128-bit match).
  const k = h(KEY),
    s = h('1536d18d e3d20df9 9b7044c1 2f9ed5ba'),
    id = h('cc030148');
  eq(sm_h8(k, s, id), 'e5e5beba ae7228e7 22a38904 ed350f6d');
  // h8 is h6 keyed by h7: AES-CMAC_{AES-CMAC_S(K)}(keyID).
  assert.is(hex(sm_h8(k, s, id)), hex(sm_h6(sm_h7(s, k), id)));
});

test('LTK -> link key: Core Vol 3 Part H Appendix D.9 (CT2 = 1, h7) and D.10 (CT2 = 0, h6)', () => {
  const ltk = h('368df9bc e3264b58 bd066c33 334fbf64');
  eq(sm_ltk_to_link_key(ltk, true), '287ad379 dca40253 0a39f1f4 3047b835');
  eq(sm_ltk_to_link_key(ltk, false), 'bc1ca4ef 633fc1bd 0d8230af ee388fb0');
});

test('link key -> LTK: Core Vol 3 Part H Appendix D (CT2 = 1, h7; CT2 = 0, h6)', () => {
  const lk = h('05040302 01000908 07060504 03020100');
  eq(sm_link_key_to_ltk(lk, true), 'e85e09eb 5eccb3e2 69418a13 3211bc79');
  eq(sm_link_key_to_ltk(lk, false), 'a813fb72 f1a3dfa1 8a2c9a43 f10d0a30');
});

// ------------------------------------------------------------------------------------------ ah, RPA

test('ah: Core Vol 3 Part H Appendix D.7 (IRK, prand 708194 -> hash 0dfbaa)', () => {
  eq(sm_ah(h(KEY), h('708194')), '0dfbaa');
});

test('RPA: generated from D.7 is 70:81:94:0D:FB:AA and resolves; others do not', () => {
  const irk = h(KEY);
  eq(sm_rpa_generate(irk, h('708194')), '708194 0dfbaa');
  // The two most significant bits of prand are forced to 01 (Vol 6 Part B 1.3.2.2).
  eq(sm_rpa_generate(irk, h('308194')), '708194 0dfbaa');
  eq(sm_rpa_generate(irk, h('f08194')), '708194 0dfbaa');
  assert.ok(sm_rpa_resolve(irk, h('708194 0dfbaa')));
  // On the wire (HCI, advertising reports) the address is least significant octet first.
  eq(sm_read_le(Uint8Array.of(0xaa, 0xfb, 0x0d, 0x94, 0x81, 0x70), 0, 6), '7081940dfbaa');
  assert.not.ok(sm_rpa_resolve(irk, h('708194 0dfbab')), 'hash off by one bit');
  assert.not.ok(sm_rpa_resolve(irk, h('708195 0dfbaa')), 'prand changed');
  assert.not.ok(sm_rpa_resolve(irk, h('f08194 0dfbaa')), 'static random (11) is not resolvable');
  assert.not.ok(sm_rpa_resolve(irk, h('308194 0dfbaa')), 'non-resolvable private (00)');
  const other = h(KEY);
  other[15] ^= 1;
  assert.not.ok(sm_rpa_resolve(other, h('708194 0dfbaa')), 'another IRK');
  assert.not.ok(sm_rpa_resolve(irk, h('708194 0dfb')), 'short address');
  assert.not.ok(sm_rpa_resolve(irk.subarray(1), h('708194 0dfbaa')), 'short IRK');
});

test('RPA: random prand round trip (1000 addresses)', () => {
  const irk = h('000102030405060708090a0b0c0d0e0f');
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const p = sm_rpa_prand_generate();
    assert.is(p[0]! >>> 6, 1);
    const rnd = ((p[0]! & 0x3f) << 16) | (p[1]! << 8) | p[2]!;
    assert.ok(rnd !== 0 && rnd !== 0x3fffff);
    const a = sm_rpa_generate(irk);
    assert.is(a.length, 6);
    assert.is(a[0]! >>> 6, 1);
    assert.ok(sm_rpa_resolve(irk, a));
    seen.add(hex(a));
  }
  assert.ok(seen.size > 990, 'addresses are random');
});

// ------------------------------------------------------------------------------------------ P-256

const PRIV_A = '3f49f6d4 a3c55f38 74c9b3e3 d2103f50 4aff607b eb40b799 5899b8a6 cd3c1abd';
const PUB_A =
  '20b003d2 f297be2c 5e2c83a7 e9f9a5b9 eff49111 acf4fddb cc030148 0e359de6' +
  'dc809c49 652aeb6d 63329abf 5a52155c 766345c2 8fed3024 741c8ed0 1589d28b';
const PRIV_B = '55188b3d 32f6bb9a 900afcfb eed4e72a 59cb9ac2 f19d7cfb 6b4fdd49 f47fc5fd';
const PUB_B =
  '1ea1f0f0 1faf1d96 09592284 f19e4c00 47b58afd 8615a69f 559077b2 2faaa190' +
  '4c55f33e 429dad37 7356703a 9ab85160 472d1130 e28e3676 5f89aff9 15b1214a';
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;

const big = (b: Uint8Array) => BigInt('0x' + (hex(b).replace(/ /g, '') || '0'));
const bytes32 = (v: bigint) => h(v.toString(16).padStart(64, '0'));

test('P-256: SMP debug key pair (Vol 3 Part H 2.3.5.6.1): private 3f49f6d4.., public X 20b003d2.., Y dc809c49..', () => {
  const dbg = sm_p256_debug_key_pair();
  eq(dbg.private_key, PRIV_A);
  eq(dbg.public_key, PUB_A);
  eq(sm_p256_public_key_from_private(dbg.private_key), PUB_A);
  assert.ok(sm_p256_public_key_valid(dbg.public_key.subarray(0, 32), dbg.public_key.subarray(32)));
  dbg.private_key[0] = 0; // a copy: the next call is untouched
  eq(sm_p256_debug_key_pair().private_key, PRIV_A);
});

test('P-256: sample data (Vol 2 Part G) — both sides compute DHKey ec0234a3..73bfa698', () => {
  eq(sm_p256_public_key_from_private(h(PRIV_B)), PUB_B);
  eq(sm_p256_dhkey(h(PRIV_A), h(PUB_B)), DHKEY);
  eq(sm_p256_dhkey(h(PRIV_B), h(PUB_A)), DHKEY);
  // -Q is on the curve too and d * (-Q) has the same X: the negated key is valid and agrees.
  const negA = h(PUB_A);
  negA.set(bytes32(P - big(negA.subarray(32))), 32);
  assert.ok(sm_p256_public_key_valid(negA.subarray(0, 32), negA.subarray(32)));
  eq(sm_p256_dhkey(h(PRIV_B), negA), DHKEY);
});

test('P-256: two generated key pairs agree on the DHKey', () => {
  const a = sm_p256_generate_key_pair();
  const b = sm_p256_generate_key_pair();
  assert.is(a.private_key.length, 32);
  assert.is(a.public_key.length, 64);
  assert.ok(sm_p256_public_key_valid(a.public_key.subarray(0, 32), a.public_key.subarray(32)));
  eq(sm_p256_public_key_from_private(a.private_key), hex(a.public_key));
  const ab = sm_p256_dhkey(a.private_key, b.public_key);
  const ba = sm_p256_dhkey(b.private_key, a.public_key);
  assert.ok(ab && ba);
  assert.is(hex(ab!), hex(ba!));
  assert.is(ab!.length, 32);
  assert.is.not(hex(a.private_key), hex(b.private_key));
});

test('P-256: the Pairing Public Key PDU carries X then Y, each least significant octet first', () => {
  const wire = new Uint8Array(1 + 64);
  wire[0] = 0x0c; // Pairing Public Key (3.5.6)
  assert.ok(sm_p256_public_key_to_wire(h(PUB_A), wire, 1));
  // X = 20b003d2 .. 0e359de6 -> e6 9d 35 0e .. d2 03 b0 20; Y = dc809c49 .. 1589d28b -> 8b d2 89 15 .. 49 9c 80 dc
  assert.is(hex(wire.subarray(0, 5)), '0c e6 9d 35 0e');
  assert.is(hex(wire.subarray(29, 33)), 'd2 03 b0 20');
  assert.is(hex(wire.subarray(33, 37)), '8b d2 89 15');
  assert.is(hex(wire.subarray(61, 65)), '49 9c 80 dc');
  eq(sm_p256_public_key_from_wire(wire, 1), PUB_A);
  assert.is(sm_p256_public_key_from_wire(wire, 2), null, 'one octet short');
  assert.not.ok(sm_p256_public_key_to_wire(h(PUB_A), wire, 2), 'does not fit');
  assert.not.ok(sm_p256_public_key_to_wire(h(PUB_A).subarray(1), wire, 0), 'not 64 octets');
  const out = new Uint8Array(32);
  assert.ok(sm_write_le(h(KEY), out, 16));
  eq(sm_read_le(out, 16, 16), KEY);
  assert.not.ok(sm_write_le(h(KEY), out, 17));
  assert.is(sm_read_le(out, 17, 16), null);
});

/** A point with a small X (so X + p still fits 256 bits): the smallest x whose x^3 - 3x + b is a square. */
function smallXPoint(): [bigint, bigint] {
  const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
  const pow = (b: bigint, e: bigint) => {
    let r = 1n;
    b %= P;
    while (e) {
      if (e & 1n) r = (r * b) % P;
      b = (b * b) % P;
      e >>= 1n;
    }
    return r;
  };
  for (let x = 0n; ; x++) {
    const rhs = (((x * x * x - 3n * x + B) % P) + P) % P;
    const y = pow(rhs, (P + 1n) / 4n); // p = 3 mod 4
    if ((y * y) % P === rhs) return [x, y];
  }
}

test('P-256: invalid public keys are refused, CVE-2018-5383 (X kept, Y = 0) included', () => {
  const A = h(PUB_A);
  const X = A.subarray(0, 32),
    Y = A.subarray(32);
  const valid = (x: Uint8Array, y: Uint8Array) => sm_p256_public_key_valid(x, y);
  const dh = (x: Uint8Array, y: Uint8Array) => sm_p256_dhkey(h(PRIV_B), Uint8Array.from([...x, ...y]));
  const cases: Array<[string, Uint8Array, Uint8Array]> = [
    ['same X, Y = 0 (CVE-2018-5383)', X, new Uint8Array(32)],
    ['same X, Y + 1 (off the curve)', X, bytes32(big(Y) + 1n)],
    ['same X, Y of another key', X, h(PUB_B).subarray(32)],
    ['Y = 0 with X = 0', new Uint8Array(32), new Uint8Array(32)],
    ['all ones', new Uint8Array(32).fill(0xff), new Uint8Array(32).fill(0xff)],
    ['X = p', bytes32(P), Y],
    ['Y = p', X, bytes32(P)],
    ['Y + p would wrap: Y = p + 1', X, bytes32(P + 1n)],
  ];
  for (const [name, x, y] of cases) {
    assert.not.ok(valid(x, y), name);
    assert.is(dh(x, y), null, name);
  }
  // Non-canonical coordinates: (x + p, y) satisfies the equation mod p, only the range check refuses it.
  const [sx, sy] = smallXPoint();
  assert.ok(valid(bytes32(sx), bytes32(sy)), `(${sx}, y) is on the curve`);
  assert.ok(sm_p256_dhkey(h(PRIV_B), Uint8Array.from([...bytes32(sx), ...bytes32(sy)])));
  assert.not.ok(valid(bytes32(sx + P), bytes32(sy)), 'x + p');
  assert.is(dh(bytes32(sx + P), bytes32(sy)), null);
  // Wrong shapes never throw.
  assert.not.ok(sm_p256_public_key_valid(X.subarray(1), Y));
  assert.not.ok(sm_p256_public_key_valid(X, new Uint8Array(33)));
  assert.not.ok(sm_p256_public_key_valid(null as unknown as Uint8Array, Y));
  assert.is(sm_p256_dhkey(h(PRIV_B), A.subarray(0, 63)), null);
  assert.is(sm_p256_dhkey(new Uint8Array(32), A), null, 'private key 0');
  assert.is(sm_p256_dhkey(new Uint8Array(32).fill(0xff), A), null, 'private key >= n');
  assert.is(sm_p256_public_key_from_private(new Uint8Array(32)), null);
  assert.is(sm_p256_public_key_from_private(new Uint8Array(31)), null);
});

test.run();
