import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from '../../../src/core/bytes.js';
import {
  H5_FRAME_CRC,
  H5_FRAME_HEADER_CHECKSUM,
  H5_FRAME_LENGTH,
  H5_FRAME_OK,
  H5_FRAME_SHORT,
  H5_LINK_CONFIG,
  H5_LINK_CONFIG_RESPONSE,
  H5_LINK_SYNC,
  H5_LINK_SYNC_RESPONSE,
  H5_LINK_UNKNOWN,
  H5_MAX_FRAME,
  H5SlipDecoder,
  h5_config_combine,
  h5_config_decode,
  h5_config_encode,
  h5_crc16,
  h5_encoded_size_max,
  h5_frame_check,
  h5_frame_encode,
  h5_header_ack,
  h5_header_checksum_ok,
  h5_header_dic,
  h5_header_encode,
  h5_header_length,
  h5_header_reliable,
  h5_header_seq,
  h5_header_type,
  h5_link_message,
} from '../../../src/hci/h5.js';

// Vectors worked out by hand from Core spec Vol 4 Part D (Three-wire UART):
// - 3 SLIP: frames are C0 ... C0; C0 -> DB DC, DB -> DB DD; with OOF flow control 11 -> DB DE, 13 -> DB DF.
// - 6 header: b0 = seq | ack<<3 | dic<<6 | reliable<<7; b1 = type | (len & 0xF)<<4; b2 = len >> 4;
//   b3 = 0xFF - (b0 + b1 + b2) mod 256 (the four bytes sum to 0xFF).
// - 8 link messages: SYNC 01 7E, SYNC RESPONSE 02 7D, CONFIG 03 FC + field, CONFIG RESPONSE 04 7B + field;
//   field = window (bits 0-2) | OOF (bit 3) | DIC type (bit 4) | version (bits 5-7). Type 15, unreliable.
//
// SYNC: b0 = 00; b1 = 0F | 2<<4 = 2F; b2 = 00; b3 = FF - 2F = D0.
const SYNC = 'c0 00 2f 00 d0 01 7e c0';
const SYNC_RESPONSE = 'c0 00 2f 00 d0 02 7d c0';
// CONFIG with field 0x14 (window 4, no OOF, DIC, version 0): b1 = 0F | 3<<4 = 3F; b3 = FF - 3F = C0,
// which the SLIP layer escapes to DB DC.
const CONFIG_14 = 'c0 00 3f 00 db dc 03 fc 14 c0';
const CONFIG_RESPONSE_14 = 'c0 00 3f 00 db dc 04 7b 14 c0';
// Pure ACK, ack 3: b0 = 3<<3 = 18; b1 = 00; b2 = 00; b3 = FF - 18 = E7.
const ACK_3 = 'c0 18 00 00 e7 c0';
// Reliable ACL (type 2), seq 3, ack 5, DIC, 5 bytes c0 db 11 13 00:
// b0 = 3 | 5<<3 | 40 | 80 = EB; b1 = 02 | 5<<4 = 52; b2 = 00; b3 = FF - (EB + 52) mod 256 = FF - 3D = C2.
// DIC (Part D 7): CCITT polynomial x^16+x^12+x^5+1, register preset FFFF, octets shifted in LSB first,
// result bit-reversed and sent MSB first; over EB 52 00 C2 C0 DB 11 13 00 the bit-serial register
// (bitSerialDic below) gives 0x8CD8.
const ACL_HEADER = 'eb 52 00 c2';
const ACL_PAYLOAD = 'c0 db 11 13 00';
const ACL_FRAME = 'c0 eb 52 00 c2 db dc db dd 11 13 00 8c d8 c0';
const ACL_FRAME_OOF = 'c0 eb 52 00 c2 db dc db dd db de db df 00 8c d8 c0';
// SYNC with DIC (as sent once DIC is in use): b0 = 40; b3 = FF - (40 + 2F) = 90; DIC over 40 2F 00 90 01 7E = 0x2950.
const SYNC_DIC = 'c0 40 2f 00 90 01 7e 29 50 c0';

/** The spec's shift register, one bit at a time (independent of the table in h5.ts). */
function bitSerialDic(bytes: Uint8Array): number {
  let r = 0xffff;
  for (const b of bytes) {
    for (let k = 0; k < 8; k++) {
      const fb = (r ^ (b >> k)) & 1;
      r >>>= 1;
      if (fb) r ^= 0x8408; // x^16 + x^12 + x^5 + 1, LSB-first form
    }
  }
  let out = 0;
  for (let i = 0; i < 16; i++) out |= ((r >> i) & 1) << (15 - i);
  return out;
}

function encode(seq: number, ack: number, dic: boolean, rel: boolean, type: number, payload: string, oof = false): string {
  const p = fromHex(payload);
  const out = new Uint8Array(h5_encoded_size_max(p.length));
  const n = h5_frame_encode(out, 0, seq, ack, dic, rel, type, p, 0, p.length, oof);
  return hex(out, n);
}

function decodeAll(stream: string, oof = false): { frames: string[]; errors: number[]; flow: boolean[] } {
  const frames: string[] = [];
  const errors: number[] = [];
  const flow: boolean[] = [];
  const d = new H5SlipDecoder({
    on_frame: (f, n) => frames.push(hex(f, n)),
    on_error: (r) => errors.push(r),
    on_flow: (x) => flow.push(x),
  });
  d.oof = oof;
  d.feed(fromHex(stream));
  return { frames, errors, flow };
}

test('CRC: check value and the hand-worked vectors', () => {
  assert.is(h5_crc16(new TextEncoder().encode('123456789')), 0x89f6);
  assert.is(bitSerialDic(new TextEncoder().encode('123456789')), 0x89f6);
  const acl = fromHex(`${ACL_HEADER} ${ACL_PAYLOAD}`);
  assert.is(bitSerialDic(acl), 0x8cd8);
  assert.is(h5_crc16(acl), 0x8cd8);
  assert.is(h5_crc16(fromHex('40 2f 00 90 01 7e')), 0x2950);
});

test('header: fields, checksum, 12-bit length', () => {
  const b = new Uint8Array(4);
  h5_header_encode(b, 0, 3, 5, true, true, 2, 5);
  assert.is(hex(b), ACL_HEADER);
  assert.ok(h5_header_checksum_ok(b));
  assert.is(h5_header_seq(b), 3);
  assert.is(h5_header_ack(b), 5);
  assert.ok(h5_header_dic(b));
  assert.ok(h5_header_reliable(b));
  assert.is(h5_header_type(b), 2);
  assert.is(h5_header_length(b), 5);
  // length 4095, type 4, seq 7, ack 7, reliable, no DIC: b0 = 7 | 38 | 80 = BF; b1 = 04 | F0 = F4; b2 = FF;
  // b3 = FF - (BF + F4 + FF) mod 256 = FF - B2 = 4D
  h5_header_encode(b, 0, 7, 7, false, true, 4, 4095);
  assert.is(hex(b), 'bf f4 ff 4d');
  assert.is(h5_header_length(b), 4095);
  b[3] ^= 1;
  assert.not.ok(h5_header_checksum_ok(b));
});

test('frame encoding: link messages, pure ACK, escapes, DIC, OOF escapes', () => {
  assert.is(encode(0, 0, false, false, 15, '01 7e'), SYNC);
  assert.is(encode(0, 0, false, false, 15, '02 7d'), SYNC_RESPONSE);
  assert.is(encode(0, 0, false, false, 15, '03 fc 14'), CONFIG_14);
  assert.is(encode(0, 0, false, false, 15, '04 7b 14'), CONFIG_RESPONSE_14);
  assert.is(encode(0, 3, false, false, 0, ''), ACK_3);
  assert.is(encode(3, 5, true, true, 2, ACL_PAYLOAD), ACL_FRAME);
  assert.is(encode(3, 5, true, true, 2, ACL_PAYLOAD, true), ACL_FRAME_OOF);
  assert.is(encode(0, 0, true, false, 15, '01 7e'), SYNC_DIC);
  // too small an output buffer: 0, nothing claimed
  const p = fromHex(ACL_PAYLOAD);
  assert.is(h5_frame_encode(new Uint8Array(10), 0, 3, 5, true, true, 2, p, 0, 5, false), 0);
  assert.is(h5_frame_encode(new Uint8Array(9000), 0, 0, 0, false, true, 2, new Uint8Array(4096), 0, 4096, false), 0);
});

test('decoding the hand-worked frames back', () => {
  const all = [SYNC, CONFIG_14, ACK_3, ACL_FRAME, SYNC_DIC].join(' ');
  const { frames, errors } = decodeAll(all);
  assert.equal(errors, []);
  assert.equal(frames, [
    '00 2f 00 d0 01 7e',
    '00 3f 00 c0 03 fc 14',
    '18 00 00 e7',
    `${ACL_HEADER} ${ACL_PAYLOAD} 8c d8`,
    '40 2f 00 90 01 7e 29 50',
  ]);
  for (const f of frames) {
    const b = fromHex(f);
    assert.is(h5_frame_check(b, b.length), H5_FRAME_OK, f);
  }
  // OOF: raw 11/13 are flow control and removed; DB DE / DB DF are data
  const oof = decodeAll(`11 ${ACL_FRAME_OOF} 13`, true);
  assert.equal(oof.frames, [`${ACL_HEADER} ${ACL_PAYLOAD} 8c d8`]);
  assert.equal(oof.flow, [false, true]);
  // without OOF, DB DE is a bad escape: the frame is dropped, the next one still decodes
  const bad = decodeAll(`${ACL_FRAME_OOF} ${SYNC}`);
  assert.equal(bad.errors, [1]);
  assert.equal(bad.frames, ['00 2f 00 d0 01 7e']);
});

test('frame check: short, header checksum, length, CRC', () => {
  const good = fromHex(`${ACL_HEADER} ${ACL_PAYLOAD} 8c d8`);
  assert.is(h5_frame_check(good, 3), H5_FRAME_SHORT);
  const c1 = good.slice();
  c1[2] ^= 0x10;
  assert.is(h5_frame_check(c1, c1.length), H5_FRAME_HEADER_CHECKSUM);
  assert.is(h5_frame_check(good.subarray(0, 10), 10), H5_FRAME_LENGTH);
  const c2 = good.slice();
  c2[6] ^= 0x80;
  assert.is(h5_frame_check(c2, c2.length), H5_FRAME_CRC);
});

test('link messages and config field', () => {
  const m = (s: string) => {
    const b = fromHex(s);
    return h5_link_message(b, 0, b.length);
  };
  assert.is(m('01 7e'), H5_LINK_SYNC);
  assert.is(m('02 7d'), H5_LINK_SYNC_RESPONSE);
  assert.is(m('03 fc'), H5_LINK_CONFIG);
  assert.is(m('03 fc 14'), H5_LINK_CONFIG);
  assert.is(m('04 7b 1f'), H5_LINK_CONFIG_RESPONSE);
  assert.is(m('01 7e 00'), H5_LINK_UNKNOWN);
  assert.is(m('01 7f'), H5_LINK_UNKNOWN);
  assert.is(m('01'), H5_LINK_UNKNOWN);
  assert.is(h5_config_encode({ window: 4, oof: false, dic: true, version: 0 }), 0x14);
  assert.is(h5_config_encode({ window: 7, oof: true, dic: true, version: 1 }), 0x3f);
  assert.equal(h5_config_decode(0x3f), { window: 7, oof: true, dic: true, version: 1 });
  assert.equal(h5_config_decode(0x00).window, 1);
  assert.equal(h5_config_combine(h5_config_decode(0x3f), h5_config_decode(0x13)), {
    window: 3,
    oof: false,
    dic: true,
    version: 0,
  });
});

test('SLIP decoder: garbage before the first delimiter, empty frames, overflow', () => {
  const r = decodeAll(`55 aa db ${SYNC} c0 c0 ${SYNC}`);
  assert.equal(r.frames.length, 2);
  assert.equal(r.errors, []);
  const big = new Uint8Array(H5_MAX_FRAME + 10).fill(0x41);
  const errors: number[] = [];
  let frames = 0;
  const d = new H5SlipDecoder({ on_frame: () => frames++, on_error: (e) => errors.push(e) });
  d.feed(fromHex('c0'));
  d.feed(big);
  d.feed(fromHex(SYNC));
  assert.equal(errors, [2]);
  assert.is(frames, 1);
});

/** Small seeded PRNG (mulberry32) so fuzz runs are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('fuzz: 100,000 random and mutated streams into the SLIP decoder and frame check', () => {
  const rnd = prng(16);
  const seeds = [SYNC, CONFIG_14, ACK_3, ACL_FRAME, ACL_FRAME_OOF, SYNC_DIC].map(fromHex);
  let frames = 0;
  let ok = 0;
  const d = new H5SlipDecoder({
    on_frame: (f, n) => {
      frames++;
      assert.ok(n <= H5_MAX_FRAME);
      if (h5_frame_check(f, n) === H5_FRAME_OK) ok++;
    },
  });
  const buf = new Uint8Array(512);
  for (let i = 0; i < 100_000; i++) {
    d.oof = (i & 1) === 1;
    let n: number;
    if (i % 3 === 0) {
      n = 1 + Math.floor(rnd() * 200);
      for (let k = 0; k < n; k++) buf[k] = rnd() < 0.1 ? 0xc0 : rnd() < 0.1 ? 0xdb : Math.floor(rnd() * 256);
    } else {
      n = 0;
      const parts = 1 + Math.floor(rnd() * 4);
      for (let p = 0; p < parts; p++) {
        const s = seeds[Math.floor(rnd() * seeds.length)]!;
        buf.set(s, n);
        n += s.length;
      }
      const mutations = Math.floor(rnd() * 4);
      for (let m = 0; m < mutations; m++) {
        const at = Math.floor(rnd() * n);
        const op = rnd();
        if (op < 0.5) buf[at] = Math.floor(rnd() * 256);
        else if (op < 0.75) buf.copyWithin(at, at + 1, n--);
        else buf[at] ^= 1 << Math.floor(rnd() * 8);
      }
    }
    const cut = Math.floor(rnd() * n);
    d.feed(buf, 0, cut);
    d.feed(buf, cut, n - cut);
  }
  assert.ok(frames > 100_000, `frames ${frames}`);
  assert.ok(ok > 10_000, `valid ${ok}`);
  assert.is(d.capacity, H5_MAX_FRAME);
});

test.run();
