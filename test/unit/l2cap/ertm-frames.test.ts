/**
 * ERTM / streaming frame codec against the Core spec v5.4, Vol 3, Part A:
 * - 3.3.2 Enhanced Control Field (I-frame: bit 0 = 0, TxSeq bits 1-6, F bit 7, ReqSeq bits 8-13,
 *   SAR bits 14-15; S-frame: bit 0 = 1, S bits 2-3, P bit 4, F bit 7, ReqSeq bits 8-13), table 3.4
 *   SAR (00 unsegmented, 01 start, 10 end, 11 continuation), table 3.5 S (00 RR, 01 REJ, 10 RNR, 11 SREJ);
 * - 3.3.3 SDU Length only in a start I-frame;
 * - 3.3.5 FCS and its two examples: I-frame `0E 00 40 00 02 00 00 01 02 03 04 05 06 07 08 09`
 *   gives FCS 0x6138; RR frame `04 00 40 00 01 01` gives FCS 0x14D4.
 * Control field vectors below are worked out by hand from those bit positions.
 *
 * A segmented SDU (3.3.1-3.3.5, figure 3.3): the start I-frame is Length, CID, Control, L2CAP SDU
 * Length, information payload, FCS, and its Length counts everything after the CID (control 2 +
 * SDU Length 2 + payload + FCS 2). The FCS values of the two frames below (0x3ECD, 0x794C) come
 * from a 16-stage shift register modelled on 3.3.5 (generator x^16 + x^15 + x^2 + 1, initial 0,
 * bits in least significant first) in a Python script, not from l2cap_fcs; the same register
 * gives the spec's 0x6138 and 0x14D4. btmon 5.66 decodes such frames from our captures as
 * "I-frame: Start (len 700)"; tshark 4.0 reads the same SDU Length (see test/helpers/ertm-capture.ts
 * for why it still reports the start frame malformed).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { enc, fromHex, hex, prng } from './helpers.js';
import {
  L2CAP_SAR_CONTINUATION,
  L2CAP_SAR_END,
  L2CAP_SAR_START,
  L2CAP_SAR_UNSEGMENTED,
  L2CAP_SUPERVISORY_REJ,
  L2CAP_SUPERVISORY_RNR,
  L2CAP_SUPERVISORY_RR,
  L2CAP_SUPERVISORY_SREJ,
  L2capErtmFrame,
  l2cap_ertm_final,
  l2cap_ertm_i_control,
  l2cap_ertm_is_s_frame,
  l2cap_ertm_parse,
  l2cap_ertm_poll,
  l2cap_ertm_req_seq,
  l2cap_ertm_s_control,
  l2cap_ertm_sar,
  l2cap_ertm_supervisory,
  l2cap_ertm_tx_seq,
  l2cap_ertm_write,
  l2cap_fcs,
} from '../../../src/l2cap/l2cap-ertm-frames.js';

function le16(v: number): string {
  return hex(new Uint8Array([v & 0xff, v >> 8]));
}

test('FCS: the two examples of Vol 3 Part A 3.3.5', () => {
  const i = fromHex('0E 00 40 00 02 00 00 01 02 03 04 05 06 07 08 09');
  assert.is(l2cap_fcs(i, 0, i.length), 0x6138);
  const rr = fromHex('04 00 40 00 01 01');
  assert.is(l2cap_fcs(rr, 0, rr.length), 0x14d4);
  // continuing a CRC over a split buffer gives the same value
  assert.is(l2cap_fcs(i, 6, i.length - 6, l2cap_fcs(i, 0, 6)), 0x6138);
});

test('I-frame control fields (3.3.2, table 3.4)', () => {
  // the spec's FCS example 1 uses TxSeq 1, ReqSeq 0, unsegmented: 02 00
  assert.is(le16(l2cap_ertm_i_control(1, 0, L2CAP_SAR_UNSEGMENTED, false)), '02 00');
  // TxSeq 5 (bits 1-6: 0x0A), F (0x80), ReqSeq 3 (0x0300), SAR start (0x4000) = 0x438A
  assert.is(le16(l2cap_ertm_i_control(5, 3, L2CAP_SAR_START, true)), '8a 43');
  // TxSeq 63, ReqSeq 63, SAR end (0x8000): 0x7E | 0x3F00 | 0x8000 = 0xBF7E
  assert.is(le16(l2cap_ertm_i_control(63, 63, L2CAP_SAR_END, false)), '7e bf');
  // SAR continuation = 0xC000, TxSeq 2 = 0x04
  assert.is(le16(l2cap_ertm_i_control(2, 0, L2CAP_SAR_CONTINUATION, false)), '04 c0');
  // sequence numbers wrap modulo 64
  assert.is(l2cap_ertm_i_control(64, 65, 0, false), l2cap_ertm_i_control(0, 1, 0, false));
});

test('S-frame control fields (3.3.2, table 3.5)', () => {
  // the spec's FCS example 2: RR with ReqSeq 1 = 01 01
  assert.is(le16(l2cap_ertm_s_control(L2CAP_SUPERVISORY_RR, 1, false, false)), '01 01');
  // REJ (S=01 -> 0x04), F (0x80), ReqSeq 10 (0x0A00): 0x0A85
  assert.is(le16(l2cap_ertm_s_control(L2CAP_SUPERVISORY_REJ, 10, false, true)), '85 0a');
  // RNR (S=10 -> 0x08), P (0x10), ReqSeq 63: 0x3F19
  assert.is(le16(l2cap_ertm_s_control(L2CAP_SUPERVISORY_RNR, 63, true, false)), '19 3f');
  // SREJ (S=11 -> 0x0C), ReqSeq 2: 0x020D
  assert.is(le16(l2cap_ertm_s_control(L2CAP_SUPERVISORY_SREJ, 2, false, false)), '0d 02');
});

test('control field readers invert the spec layouts', () => {
  const c = 0x438a; // worked out above: I, TxSeq 5, F, ReqSeq 3, start
  assert.not.ok(l2cap_ertm_is_s_frame(c));
  assert.is(l2cap_ertm_tx_seq(c), 5);
  assert.is(l2cap_ertm_req_seq(c), 3);
  assert.is(l2cap_ertm_sar(c), L2CAP_SAR_START);
  assert.ok(l2cap_ertm_final(c));
  const s = 0x3f19; // RNR, P, ReqSeq 63
  assert.ok(l2cap_ertm_is_s_frame(s));
  assert.is(l2cap_ertm_supervisory(s), L2CAP_SUPERVISORY_RNR);
  assert.ok(l2cap_ertm_poll(s));
  assert.not.ok(l2cap_ertm_final(s));
  assert.is(l2cap_ertm_req_seq(s), 63);
});

test('whole PDUs: the spec examples written with FCS', () => {
  const payload = fromHex('00 01 02 03 04 05 06 07 08 09');
  assert.is(
    enc(64, 3, (b, p) => l2cap_ertm_write(b, p, 0x0040, l2cap_ertm_i_control(1, 0, 0, false), 0, payload, 0, 10, true)),
    '0e 00 40 00 02 00 00 01 02 03 04 05 06 07 08 09 38 61',
  );
  assert.is(
    enc(16, 0, (b, p) => l2cap_ertm_write(b, p, 0x0040, l2cap_ertm_s_control(0, 1, false, false), 0, null, 0, 0, true)),
    '04 00 40 00 01 01 d4 14',
  );
  // start I-frame without FCS: length 6 = control 2 + SDU Length 2 + 2 octets; SDU Length 0x0100
  assert.is(
    enc(16, 0, (b, p) =>
      l2cap_ertm_write(b, p, 0x0041, l2cap_ertm_i_control(0, 0, L2CAP_SAR_START, false), 0x100, fromHex('aa bb'), 0, 2, false),
    ),
    '06 00 41 00 00 40 00 01 aa bb',
  );
  // too small a buffer: nothing
  assert.is(l2cap_ertm_write(new Uint8Array(7), 0, 0x40, 0x0101, 0, null, 0, 0, true), -1);
});

test('a segmented SDU with FCS: start frame (SDU Length after the control field) and end frame', () => {
  const sdu = fromHex('01 02 03 04 05');
  // start: length 9 = control 2 + SDU Length 2 + 3 octets + FCS 2; control 0x4000 (SAR start, TxSeq 0); SDU Length 5
  assert.is(
    enc(32, 0, (b, p) => l2cap_ertm_write(b, p, 0x0040, l2cap_ertm_i_control(0, 0, L2CAP_SAR_START, false), 5, sdu, 0, 3, true)),
    '09 00 40 00 00 40 05 00 01 02 03 cd 3e',
  );
  // end: length 6 = control 2 + 2 octets + FCS 2; control 0x8002 (SAR end, TxSeq 1); no SDU Length
  assert.is(
    enc(32, 0, (b, p) => l2cap_ertm_write(b, p, 0x0040, l2cap_ertm_i_control(1, 0, L2CAP_SAR_END, false), 0, sdu, 3, 2, true)),
    '06 00 40 00 02 80 04 05 4c 79',
  );
  const f = new L2capErtmFrame();
  assert.is(l2cap_ertm_parse(fromHex('09 00 40 00 00 40 05 00 01 02 03 cd 3e'), 0, 4, 9, true, f), 'ok');
  assert.is(f.sdu_length, 5);
  assert.is(f.payload_offset, 8);
  assert.is(f.payload_length, 3);
});

test('parse: FCS checked, S-frame length, start frame needs its SDU Length', () => {
  const f = new L2capErtmFrame();
  const i = fromHex('0E 00 40 00 02 00 00 01 02 03 04 05 06 07 08 09 38 61');
  assert.is(l2cap_ertm_parse(i, 0, 4, i.length - 4, true, f), 'ok');
  assert.is(f.control, 0x0002);
  assert.is(f.payload_offset, 6);
  assert.is(f.payload_length, 10);
  i[10] ^= 0x01;
  assert.is(l2cap_ertm_parse(i, 0, 4, i.length - 4, true, f), 'fcs');
  assert.is(l2cap_ertm_parse(fromHex('04 00 40 00 01 01 d4 14'), 0, 4, 4, true, f), 'ok');
  assert.is(l2cap_ertm_parse(fromHex('03 00 40 00 01 01 00'), 0, 4, 3, false, f), 'length');
  assert.is(l2cap_ertm_parse(fromHex('03 00 40 00 00 40 00'), 0, 4, 3, false, f), 'short');
  assert.is(l2cap_ertm_parse(fromHex('01 00 40 00 00'), 0, 4, 1, false, f), 'short');
  assert.is(l2cap_ertm_parse(fromHex('06 00 41 00 00 40 00 01 aa bb'), 0, 4, 6, false, f), 'ok');
  assert.is(f.sdu_length, 0x100);
  assert.is(f.payload_offset, 8);
  assert.is(f.payload_length, 2);
});

test('parse fuzz: random bytes never read out of range nor throw', () => {
  const r = prng(17);
  const f = new L2capErtmFrame();
  const buf = new Uint8Array(64);
  for (let n = 0; n < 20000; n++) {
    const len = Math.floor(r() * 64);
    for (let i = 0; i < len; i++) buf[i] = Math.floor(r() * 256);
    const view = buf.subarray(0, len);
    const res = l2cap_ertm_parse(view, 0, 4, len - 4 + Math.floor(r() * 8) - 4, r() < 0.5, f);
    if (res === 'ok') assert.ok(f.payload_offset + f.payload_length <= len);
  }
});

test.run();
