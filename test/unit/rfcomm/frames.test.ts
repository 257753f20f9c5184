import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from '../../../src/core/bytes.js';
import { ERROR_CODE_MEMORY_CAPACITY_EXCEEDED } from '../../../src/codes/v1.4.js';
import {
  RFCOMM_DISC,
  RFCOMM_DM,
  RFCOMM_ENCODE_BUFFER_TOO_SMALL,
  RFCOMM_ENCODE_INVALID_ARGUMENT,
  RFCOMM_MAX_HEADER_SIZE,
  RFCOMM_PF,
  RFCOMM_SABM,
  RFCOMM_UA,
  RFCOMM_UIH,
  RfcommFrame,
  rfcomm_address,
  rfcomm_cr,
  rfcomm_crc8_update,
  rfcomm_dlci,
  rfcomm_dlci_for_outgoing,
  rfcomm_encode_disc,
  rfcomm_encode_dm,
  rfcomm_encode_sabm,
  rfcomm_encode_ua,
  rfcomm_encode_uih,
  rfcomm_fcs,
  rfcomm_fcs_check,
  rfcomm_frame_decode,
  rfcomm_frame_encode,
  rfcomm_frame_encode_in_place,
  rfcomm_frame_is_command,
  rfcomm_frame_peek_dlci,
  rfcomm_frame_size,
  rfcomm_server_channel,
} from '../../../src/rfcomm/frames.js';

/**
 * Reference CRC, written from the TS 07.10 definition (annex B) and independent of the
 * table-driven code: register preset to all ones, each octet shifted in least significant bit
 * first through the generator x^8 + x^2 + x + 1 (as a right-shifting register the feedback
 * taps are x^0, x^1, x^2 -> 0xE0), FCS = ones' complement of the register.
 */
function refFcs(bytes: number[]): number {
  let reg = 0xff;
  for (const octet of bytes) {
    for (let bit = 0; bit < 8; bit++) {
      const inBit = (octet >> bit) & 1;
      const fb = (reg & 1) ^ inBit;
      reg >>= 1;
      if (fb) reg ^= 0xe0;
    }
  }
  return ~reg & 0xff;
}

function x(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function enc(fn: (buf: Uint8Array, pos: number) => number): string {
  const buf = new Uint8Array(64);
  const n = fn(buf, 0);
  assert.ok(n > 0, `encoder returned ${n}`);
  return hex(buf, n);
}

const frame = new RfcommFrame();

test('FCS: the reference CRC gives the published frames (SABM/UA/DISC on DLCI 0)', () => {
  assert.is(refFcs([0x03, 0x3f, 0x01]), 0x1c);
  assert.is(refFcs([0x03, 0x73, 0x01]), 0xd7);
  assert.is(refFcs([0x03, 0x53, 0x01]), 0xfd);
  // UA on DLCI 2 as seen in many captures (03 ... 0b 73 01 92)
  assert.is(refFcs([0x0b, 0x73, 0x01]), 0x92);
});

test('FCS: table-driven CRC equals the reference for every 1-4 octet prefix we use and random data', () => {
  for (const v of [
    [0x03, 0x3f, 0x01],
    [0x03, 0x1f, 0x01],
    [0x0b, 0xef],
    [0x0b, 0xff],
    [0x01, 0xef],
    [0xff, 0xff, 0xff, 0xff],
  ]) {
    assert.is(rfcomm_fcs(Uint8Array.from(v), 0, v.length), refFcs(v), hex(Uint8Array.from(v)));
  }
  let seed = 12345;
  for (let n = 0; n < 2000; n++) {
    const len = n % 5;
    const v: number[] = [];
    for (let i = 0; i < len; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      v.push(seed >>> 24);
    }
    assert.is(rfcomm_fcs(Uint8Array.from(v), 0, len), refFcs(v));
  }
});

test('FCS check: CRC over data plus a good FCS is 0xCF; a bad one fails', () => {
  const b = Uint8Array.from([0x03, 0x3f, 0x01]);
  assert.is(rfcomm_crc8_update(0xff, Uint8Array.from([0x03, 0x3f, 0x01, 0x1c]), 0, 4), 0xcf);
  assert.ok(rfcomm_fcs_check(b, 0, 3, 0x1c));
  assert.not.ok(rfcomm_fcs_check(b, 0, 3, 0x1d));
});

test('C/R and direction helpers follow TS 07.10 5.2.1.2 and the RFCOMM server channel rules', () => {
  assert.is(rfcomm_cr(true, true), 1); // initiator -> responder command
  assert.is(rfcomm_cr(false, true), 0); // responder -> initiator command
  assert.is(rfcomm_cr(true, false), 0); // initiator -> responder response
  assert.is(rfcomm_cr(false, false), 1); // responder -> initiator response
  assert.ok(rfcomm_frame_is_command(1, true));
  assert.not.ok(rfcomm_frame_is_command(0, true));
  assert.ok(rfcomm_frame_is_command(0, false));
  assert.not.ok(rfcomm_frame_is_command(1, false));
  // server channel 1 on the responder: DLCI 2; on the initiator: DLCI 3
  assert.is(rfcomm_dlci(1, false), 2);
  assert.is(rfcomm_dlci(1, true), 3);
  assert.is(rfcomm_dlci_for_outgoing(1, true), 2); // initiator opens the responder's channel 1
  assert.is(rfcomm_dlci_for_outgoing(1, false), 3); // responder opens the initiator's channel 1
  assert.is(rfcomm_dlci(30, true), 61);
  assert.is(rfcomm_server_channel(61), 30);
  assert.is(rfcomm_address(2, 1), 0x0b);
  assert.is(rfcomm_address(0, 0), 0x01);
});

test('encode: SABM / UA / DISC / DM on DLCI 0 are the published frames', () => {
  assert.is(
    enc((b, p) => rfcomm_encode_sabm(b, p, true, 0)),
    '03 3f 01 1c',
  );
  assert.is(
    enc((b, p) => rfcomm_encode_ua(b, p, false, 0)),
    '03 73 01 d7',
  );
  assert.is(
    enc((b, p) => rfcomm_encode_disc(b, p, true, 0)),
    '03 53 01 fd',
  );
  // DM response from the responder: address 03 (C/R=1), control 0x0f|F = 0x1f
  assert.is(refFcs([0x03, 0x1f, 0x01]), 0x36);
  assert.is(
    enc((b, p) => rfcomm_encode_dm(b, p, false, 0)),
    '03 1f 01 36',
  );
});

test('encode: DLCI frames for both roles', () => {
  // initiator opens responder's server channel 1 (DLCI 2): SABM 0b 3f 01 59, UA from responder 0b 73 01 92
  assert.is(refFcs([0x0b, 0x3f, 0x01]), 0x59);
  assert.is(
    enc((b, p) => rfcomm_encode_sabm(b, p, true, 2)),
    '0b 3f 01 59',
  );
  assert.is(
    enc((b, p) => rfcomm_encode_ua(b, p, false, 2)),
    '0b 73 01 92',
  );
  // responder opens initiator's channel 1 (DLCI 3): command from responder has C/R=0 -> 0x0d;
  // the initiator's UA response also has C/R=0 -> 0x0d
  assert.is(refFcs([0x0d, 0x3f, 0x01]), 0xfa);
  assert.is(refFcs([0x0d, 0x73, 0x01]), 0x31);
  assert.is(
    enc((b, p) => rfcomm_encode_sabm(b, p, false, 3)),
    '0d 3f 01 fa',
  );
  assert.is(
    enc((b, p) => rfcomm_encode_ua(b, p, true, 3)),
    '0d 73 01 31',
  );
  // DM without F (answering a UIH on an unknown DLCI) from the responder on DLCI 2: 0b 0f 01 xx
  assert.is(
    enc((b, p) => rfcomm_encode_dm(b, p, false, 2, false)),
    `0b 0f 01 ${x(refFcs([0x0b, 0x0f, 0x01]))}`,
  );
  assert.is(
    enc((b, p) => rfcomm_encode_disc(b, p, true, 2)),
    '0b 53 01 b8',
  );
});

test('encode: UIH PN on DLCI 0 from the initiator is 03 ef 15 <pn> 70 (FCS over address+control only)', () => {
  assert.is(refFcs([0x03, 0xef]), 0x70);
  const pn = fromHex('83 11 02 f0 07 00 f0 03 00 07');
  assert.is(
    enc((b, p) => rfcomm_encode_uih(b, p, true, 0, -1, pn)),
    '03 ef 15 83 11 02 f0 07 00 f0 03 00 07 70',
  );
  // from the responder: address 01
  assert.is(refFcs([0x01, 0xef]), 0xaa);
  assert.is(
    enc((b, p) => rfcomm_encode_uih(b, p, false, 0, -1, pn)),
    '01 ef 15 83 11 02 f0 07 00 f0 03 00 07 aa',
  );
});

test('encode: UIH with credits sets P/F and puts the credit octet after the length (not counted)', () => {
  assert.is(refFcs([0x0b, 0xff]), 0x86);
  const data = new TextEncoder().encode('hi');
  assert.is(
    enc((b, p) => rfcomm_encode_uih(b, p, true, 2, 5, data)),
    '0b ff 05 05 68 69 86',
  );
  // credits only (empty information field), from the responder on DLCI 3
  assert.is(refFcs([0x0d, 0xff]), 0x29);
  assert.is(
    enc((b, p) => rfcomm_encode_uih(b, p, false, 3, 33, null)),
    '0d ff 01 21 29',
  );
  // plain data without credits
  assert.is(refFcs([0x0b, 0xef]), 0x9a);
  assert.is(
    enc((b, p) => rfcomm_encode_uih(b, p, true, 2, -1, data)),
    '0b ef 05 68 69 9a',
  );
});

test('encode: information of 128+ octets uses a two-octet length (EA=0, low 7 bits first)', () => {
  const data = new Uint8Array(200).map((_, i) => i);
  const buf = new Uint8Array(300);
  const n = rfcomm_encode_uih(buf, 0, true, 2, -1, data);
  assert.is(n, 2 + 2 + 200 + 1);
  // 200 = 0b1_1001000: first octet (200 & 0x7f) << 1 = 0x90 (EA 0), second 200 >> 7 = 0x01
  assert.is(hex(buf.subarray(0, 4)), '0b ef 90 01');
  assert.equal(Array.from(buf.subarray(4, 204)), Array.from(data));
  assert.is(buf[204], 0x9a); // UIH FCS still over address + control only
  // 127 still fits one octet; 128 needs two: 128 -> 00 01 (the second octet holds L8-L15, no EA bit)
  assert.is(rfcomm_frame_size(127, false), 131);
  assert.is(rfcomm_frame_size(128, false), 133);
  const n128 = rfcomm_encode_uih(buf, 0, true, 2, 7, new Uint8Array(128));
  assert.is(n128, 134);
  assert.is(hex(buf.subarray(0, 5)), '0b ff 00 01 07');
  // maximum 32767: ff ff
  const big = new Uint8Array(32767 + 10);
  assert.is(rfcomm_frame_encode(big, 0, 0x0b, RFCOMM_UIH, -1, new Uint8Array(32767)), 32767 + 5);
  assert.is(hex(big.subarray(0, 4)), '0b ef fe ff');
});

test('encode: non-UIH frames cover the length octet with the FCS', () => {
  const buf = new Uint8Array(8);
  rfcomm_frame_encode(buf, 0, 0x03, RFCOMM_SABM | RFCOMM_PF);
  assert.is(buf[3], refFcs([0x03, 0x3f, 0x01]));
});

test('encode: in place writes header before and FCS after the caller-written payload', () => {
  const buf = new Uint8Array(64).fill(0xee);
  const payloadPos = RFCOMM_MAX_HEADER_SIZE;
  buf.set([0x41, 0x42, 0x43], payloadPos);
  const start = rfcomm_frame_encode_in_place(buf, payloadPos, 3, rfcomm_address(2, 1), RFCOMM_UIH, 1);
  assert.is(start, 1); // 4-octet header: address, control, length, credit
  assert.is(hex(buf.subarray(start, payloadPos + 4)), '0b ff 07 01 41 42 43 86');
  assert.is(buf[0], 0xee); // untouched
  assert.is(buf[payloadPos + 4], 0xee);
  // without credits: 3-octet header
  const b2 = new Uint8Array(16);
  b2.set([0x41], 5);
  const s2 = rfcomm_frame_encode_in_place(b2, 5, 1, 0x0b, RFCOMM_UIH);
  assert.is(s2, 2);
  assert.is(hex(b2.subarray(2, 7)), '0b ef 03 41 9a');
});

test('encode: the information field is copied from any part of the source, also from the target buffer itself', () => {
  // 0b ef = UIH on DLCI 2 from the initiator (FCS 9a, over address + control); length octet (n << 1) | 1
  const src = new Uint8Array(300).map((_, i) => (i * 7 + 3) & 0xff);
  for (const [pos, len] of [
    [0, 3],
    [5, 3],
    [5, 15],
    [5, 16],
    [1, 127],
    [10, 200],
    [0, 300],
  ] as const) {
    const buf = new Uint8Array(320).fill(0xee);
    const n = rfcomm_encode_uih(buf, 2, true, 2, -1, src, pos, len);
    const hdr = len > 127 ? [0x0b, 0xef, (len & 0x7f) << 1, len >> 7] : [0x0b, 0xef, (len << 1) | 1];
    assert.is(n, hdr.length + len + 1, `size for ${pos}+${len}`);
    assert.equal(Array.from(buf.subarray(2, 2 + n)), [...hdr, ...src.subarray(pos, pos + len), 0x9a], `frame for ${pos}+${len}`);
    assert.is(buf[1], 0xee, 'nothing written before the frame');
    assert.is(buf[2 + n], 0xee, 'nothing written after the frame');
  }
  // payload already in the target, overlapping where the frame goes (memmove semantics), short and long
  for (const len of [5, 40]) {
    const buf = new Uint8Array(64).map((_, i) => i);
    const frameOf = (first: number): number[] => [
      0x0b,
      0xef,
      (len << 1) | 1,
      ...Array.from({ length: len }, (_, i) => first + i),
      0x9a,
    ];
    const expect = frameOf(1);
    assert.is(rfcomm_encode_uih(buf, 0, true, 2, -1, buf, 1, len), len + 4);
    assert.equal(Array.from(buf.subarray(0, len + 4)), expect, `same array, ${len} octets`);
    // another view of the same memory, source after the target and before it
    const mem = new Uint8Array(80).map((_, i) => i);
    const target = mem.subarray(8);
    assert.is(rfcomm_encode_uih(target, 0, true, 2, -1, mem, 9, len), len + 4);
    assert.equal(Array.from(target.subarray(0, len + 4)), frameOf(9), `overlapping views (source later), ${len} octets`);
    const mem2 = new Uint8Array(80).map((_, i) => i);
    const target2 = mem2.subarray(2);
    // the source starts at mem2[1], the information field lands at target2[3] = mem2[5]: it moves forward
    assert.is(rfcomm_encode_uih(target2, 0, true, 2, -1, mem2, 1, len), len + 4);
    assert.equal(Array.from(target2.subarray(0, len + 4)), expect, `overlapping views (source earlier), ${len} octets`);
  }
});

test('encode: errors return negative codes and write nothing', () => {
  const buf = new Uint8Array(3).fill(0xaa);
  assert.is(RFCOMM_ENCODE_BUFFER_TOO_SMALL, -ERROR_CODE_MEMORY_CAPACITY_EXCEEDED);
  assert.is(rfcomm_encode_sabm(buf, 0, true, 0), RFCOMM_ENCODE_BUFFER_TOO_SMALL);
  assert.is(hex(buf), 'aa aa aa');
  const b4 = new Uint8Array(4);
  assert.is(rfcomm_encode_sabm(b4, 1, true, 0), RFCOMM_ENCODE_BUFFER_TOO_SMALL);
  assert.is(rfcomm_frame_encode(new Uint8Array(64), 0, 0x03, RFCOMM_SABM, 3), RFCOMM_ENCODE_INVALID_ARGUMENT); // credits on SABM
  assert.is(rfcomm_frame_encode(new Uint8Array(64), 0, 0x03, RFCOMM_UIH, 256), RFCOMM_ENCODE_INVALID_ARGUMENT);
  assert.is(rfcomm_frame_encode(new Uint8Array(40000), 0, 0x03, RFCOMM_UIH, -1, null, 0, 32768), RFCOMM_ENCODE_INVALID_ARGUMENT);
  assert.is(
    rfcomm_frame_encode(new Uint8Array(64), 0, 0x03, RFCOMM_UIH, -1, new Uint8Array(2), 0, 5),
    RFCOMM_ENCODE_INVALID_ARGUMENT,
  );
  assert.is(rfcomm_frame_encode_in_place(new Uint8Array(64), 2, 1, 0x0b, RFCOMM_UIH), RFCOMM_ENCODE_BUFFER_TOO_SMALL); // no header room
  assert.is(rfcomm_frame_encode_in_place(new Uint8Array(8), 5, 3, 0x0b, RFCOMM_UIH), RFCOMM_ENCODE_BUFFER_TOO_SMALL); // no FCS room
});

test('decode: published frames', () => {
  assert.is(rfcomm_frame_decode(fromHex('03 3f 01 1c'), 0, 4, frame), 'ok');
  assert.is(frame.type, RFCOMM_SABM);
  assert.is(frame.dlci, 0);
  assert.is(frame.cr, 1);
  assert.ok(frame.pf);
  assert.is(frame.info_len, 0);
  assert.is(frame.credits, -1);
  assert.is(rfcomm_frame_decode(fromHex('03 73 01 d7'), 0, 4, frame), 'ok');
  assert.is(frame.type, RFCOMM_UA);
  assert.is(rfcomm_frame_decode(fromHex('03 53 01 fd'), 0, 4, frame), 'ok');
  assert.is(frame.type, RFCOMM_DISC);
  assert.is(rfcomm_frame_decode(fromHex('03 1f 01 36'), 0, 4, frame), 'ok');
  assert.is(frame.type, RFCOMM_DM);
  assert.is(rfcomm_frame_decode(fromHex('0d 0f 01 ' + x(refFcs([0x0d, 0x0f, 0x01]))), 0, 4, frame), 'ok');
  assert.is(frame.dlci, 3);
  assert.is(frame.cr, 0);
  assert.not.ok(frame.pf);
});

test('decode: UIH with credits, without, two-octet length, at an offset', () => {
  const f1 = fromHex('ff ff 0b ff 05 05 68 69 86');
  assert.is(rfcomm_frame_decode(f1, 2, 7, frame), 'ok');
  assert.is(frame.dlci, 2);
  assert.is(frame.credits, 5);
  assert.is(frame.info_pos, 6);
  assert.is(frame.info_len, 2);
  assert.is(frame.size, 7);
  // the same octets without credit-based flow control on that DLC: length says 2, 3 octets follow
  assert.is(rfcomm_frame_decode(f1, 2, 7, frame, false), 'bad-length');
  // UIH with P/F on DLCI 0 never carries credits
  const pn = fromHex('03 ff 03 81 ' + x(refFcs([0x03, 0xff])));
  assert.is(rfcomm_frame_decode(pn, 0, pn.length, frame), 'ok');
  assert.is(frame.credits, -1);
  assert.is(frame.info_len, 1);
  const long = new Uint8Array(205);
  long.set([0x0b, 0xef, 0x90, 0x01]);
  long[204] = 0x9a;
  assert.is(rfcomm_frame_decode(long, 0, 205, frame), 'ok');
  assert.is(frame.info_len, 200);
  assert.is(frame.info_pos, 4);
  // a two-octet length below 128 is accepted (unambiguous), 1 octet here
  const nonMinimal = fromHex('0b ef 02 00 41 9a');
  assert.is(rfcomm_frame_decode(nonMinimal, 0, 6, frame), 'ok');
  assert.is(frame.info_len, 1);
  assert.is(rfcomm_frame_peek_dlci(f1, 2, 7), 2);
  assert.is(rfcomm_frame_peek_dlci(f1, 9, 0), -1);
});

test('decode: bad input is discarded with the reason', () => {
  assert.is(rfcomm_frame_decode(fromHex('03 3f 01 1d'), 0, 4, frame), 'bad-fcs');
  assert.is(rfcomm_frame_decode(fromHex('03 3f 01'), 0, 3, frame), 'too-short');
  assert.is(rfcomm_frame_decode(fromHex('02 3f 01 1c'), 0, 4, frame), 'bad-address');
  assert.is(rfcomm_frame_decode(fromHex('03 03 01 00'), 0, 4, frame), 'bad-control'); // UI is not used
  assert.is(rfcomm_frame_decode(fromHex('0b ef 07 68 69 9a'), 0, 6, frame), 'bad-length'); // says 3, has 2
  assert.is(rfcomm_frame_decode(fromHex('0b ef 03 68 69 9a'), 0, 6, frame), 'bad-length'); // says 1, has 2
  assert.is(rfcomm_frame_decode(fromHex('0b ef 90'), 0, 3, frame), 'too-short');
  assert.is(rfcomm_frame_decode(fromHex('0b ef 90 01 9a'), 0, 5, frame), 'bad-length'); // says 200
  const sabmInfo = fromHex('03 3f 03 00 ' + x(refFcs([0x03, 0x3f, 0x03])));
  assert.is(rfcomm_frame_decode(sabmInfo, 0, 5, frame), 'bad-length'); // SABM carries no information
  // a FCS that is right for the UIH rule but the frame is a SABM (length octet not covered)
  assert.is(rfcomm_frame_decode(fromHex('03 3f 01 ' + x(refFcs([0x03, 0x3f]))), 0, 4, frame), 'bad-fcs');
  // range outside the buffer
  assert.is(rfcomm_frame_decode(fromHex('03 3f 01 1c'), 1, 4, frame), 'bad-length');
  assert.is(rfcomm_frame_decode(fromHex('03 3f 01 1c'), -1, 4, frame), 'too-short');
});

test('roundtrip: every frame type, DLCI, C/R and credits decodes to what was encoded', () => {
  const buf = new Uint8Array(300);
  const info = new Uint8Array(150).map((_, i) => (i * 7) & 0xff);
  for (const type of [RFCOMM_SABM, RFCOMM_UA, RFCOMM_DM, RFCOMM_DISC, RFCOMM_UIH]) {
    for (const dlci of [0, 1, 2, 3, 33, 61, 63]) {
      for (const cr of [0, 1]) {
        for (const pf of [0, RFCOMM_PF]) {
          const lens = type === RFCOMM_UIH ? [0, 1, 127, 128, 150] : [0];
          for (const len of lens) {
            const credits = type === RFCOMM_UIH && pf && dlci !== 0 ? 9 : -1;
            const n = rfcomm_frame_encode(buf, 3, rfcomm_address(dlci, cr), type | pf, credits, info, 0, len);
            assert.ok(n > 0);
            assert.is(rfcomm_frame_decode(buf, 3, n, frame), 'ok');
            assert.is(frame.type, type);
            assert.is(frame.dlci, dlci);
            assert.is(frame.cr, cr);
            assert.is(frame.pf, pf !== 0);
            assert.is(frame.credits, credits);
            assert.is(frame.info_len, len);
            assert.equal(Array.from(buf.subarray(frame.info_pos, frame.info_pos + len)), Array.from(info.subarray(0, len)));
          }
        }
      }
    }
  }
});

test.run();
