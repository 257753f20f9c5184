/**
 * Capture check for ERTM / streaming channels that carry segmented SDUs (issue 17).
 *
 * tshark 4.0 (here 4.0.17) reports every start I-frame of a segmented SDU as "Malformed Packet
 * (Exception occurred)". The fault is Wireshark's, not ours:
 *
 * - What the spec asks (Core v5.4, Vol 3, Part A, 3.3.1-3.3.5, figure 3.3): a start I-frame (SAR
 *   0b01) is Length (2), CID (2), Control (2), L2CAP SDU Length (2), information payload, FCS (2);
 *   Length counts everything after the CID; the SDU Length is the size of the whole SDU, so it is
 *   larger than the start frame's payload. Our frames are exactly that: in the capture of a 700-octet
 *   SDU over a channel with MPS 300 the start frame is `30 01 40 00 | 00 40 | bc 02 | 298 octets | FCS`
 *   (Length 304 = 2 + 2 + 298 + 2, SDU Length 700), then a continuation of 300 and an end of 102
 *   octets (298 + 300 + 102 = 700). The unit test test/unit/l2cap/ertm-frames checks this layout
 *   with an FCS from an independent shift-register model of 3.3.5.
 * - What Wireshark does (epan/dissectors/packet-btl2cap.c, dissect_i_frame, the wmem-era code
 *   that 4.0 ships): for SAR = start it reads `sdulen`, subtracts control + SDU Length + FCS from
 *   `length` (so `length` is the start frame's payload), then
 *   `tvb_memcpy(tvb, mfp->reassembled, offset, sdulen); mfp->cur_off = sdulen;`: it copies
 *   SDU-Length octets out of the start frame, which holds only payload + FCS. Whenever the SDU is
 *   longer than that (every segmented SDU but a degenerate one), tvb_memcpy throws
 *   ReportedBoundsError and the frame is marked malformed; and because cur_off is set to the whole
 *   SDU, no continuation / end frame is ever appended (`tot_len >= cur_off + length` fails), so the
 *   SDU is never reassembled. Wireshark 1.x (se_alloc era) copied `length` and set cur_off =
 *   length, which is right. The same dissector also assumes an FCS on every I-frame.
 * - btmon 5.66 decodes the same frames without complaint ("I-frame: Start (len 700) TxSeq 0").
 *
 * So the capture is judged by:
 *  1. checkCapture (our record walker with L2CAP reassembly, tshark, btmon) with exactly one
 *     exception: a frame tshark marks malformed is forgiven only if tshark itself decoded it as an
 *     I-frame with SAR = start whose SDU Length exceeds the octets after the SDU Length field
 *     (Length - 4: payload + FCS), i.e. the condition that makes tvb_memcpy throw; every other
 *     malformed frame, expert error or warning still fails;
 *  2. btmon's decode of the start frames: the SDU Lengths it prints ("I-frame: Start (len N)"), in
 *     file order, equal tshark's, so two decoders agree on every start frame's bytes;
 *  3. the FCS of every start frame this host sent that sits in one ACL packet, recomputed here
 *     with a bitwise shift register (not l2cap_fcs), when the channel uses the FCS (received frames
 *     may carry the radio's corruption, `--acl-loss`, which is what the FCS is for);
 *  4. the spec's own constraint on a start frame: SDU Length > its payload (Length - 6 with FCS).
 */
import * as fs from 'node:fs';
import {
  btmonText,
  checkCapture,
  formatReport,
  readCapture,
  tsharkFields,
  type CaptureReport,
  type CheckOptions,
} from './capture.js';

export interface ErtmCaptureOptions extends CheckOptions {
  /** The ERTM / streaming channels in the capture use the FCS (default true). */
  fcs?: boolean;
}

export interface ErtmCaptureReport extends CaptureReport {
  /** Start I-frames of segmented SDUs (tshark's count). */
  start_frames: number;
  /** Of those, the ones tshark 4.0 marked malformed (forgiven, see the file header). */
  tshark_start_bug: number;
  /** Sent start frames whose FCS was recomputed here. */
  fcs_checked: number;
}

/** CRC-16 of Vol 3 Part A 3.3.5 as a shift register (x^16 + x^15 + x^2 + 1, initial 0, LSB first). */
function fcsShiftRegister(b: Uint8Array, off: number, len: number): number {
  let reg = 0; // bit k = stage x^k
  for (let i = off; i < off + len; i++) {
    for (let k = 0; k < 8; k++) {
      const fb = ((b[i]! >> k) & 1) ^ ((reg >> 15) & 1);
      reg = ((reg << 1) & 0xffff) ^ (fb ? 0x8005 : 0); // stages 0, 2 and 15 take the feedback
    }
  }
  // the register read out from stage 15 down to stage 0 is the FCS, least significant bit first
  let v = 0;
  for (let k = 0; k < 16; k++) v |= ((reg >> k) & 1) << (15 - k);
  return v;
}

/** Check a capture with ERTM / streaming traffic; throws with the problems unless it is clean. */
export function assertCleanErtmCapture(path: string, options: ErtmCaptureOptions = {}): ErtmCaptureReport {
  const problems: string[] = [];
  const starts = tsharkFields(
    path,
    ['frame.number', 'btl2cap.length', 'btl2cap.sdulength', '_ws.malformed'],
    'btl2cap.control_type == 0 && btl2cap.control_sar == 1',
  ).map(([num, length, sdulen, malformed]) => ({
    frame: Number(num),
    length: Number(length),
    sdulen: Number(sdulen),
    malformed: (malformed ?? '') !== '',
  }));
  const forgiven: RegExp[] = [];
  for (const s of starts) {
    if (!(s.sdulen > s.length - 6)) problems.push(`frame ${s.frame}: start I-frame with SDU Length ${s.sdulen} <= payload`);
    if (s.malformed && s.sdulen > s.length - 4) forgiven.push(new RegExp(`^frame ${s.frame}: malformed \\(`));
  }
  // btmon: the same SDU Lengths, in file order
  const bm = [...btmonText(path).matchAll(/I-frame: Start \(len (\d+)\)/g)].map((m) => Number(m[1]));
  const ts = starts.map((s) => s.sdulen);
  if (bm.join(',') !== ts.join(','))
    problems.push(
      `btmon start frames (${bm.length}: ${bm.slice(0, 8)}...) differ from tshark's (${ts.length}: ${ts.slice(0, 8)}...)`,
    );
  // FCS of every start frame that is one whole ACL packet
  let fcs_checked = 0;
  if (options.fcs ?? true) {
    const parsed = readCapture(fs.readFileSync(path));
    for (const r of parsed.records) {
      const d = r.data;
      if (r.packet_type !== 2 || r.incoming || d.length < 12 || ((d[1]! >> 4) & 3) === 1) continue;
      const len = d[4]! | (d[5]! << 8);
      const cid = d[6]! | (d[7]! << 8);
      if (cid < 0x40 || len + 8 !== d.length || (d[8]! & 1) !== 0 || d[9]! >> 6 !== 1) continue;
      const want = d[d.length - 2]! | (d[d.length - 1]! << 8);
      const got = fcsShiftRegister(d, 4, d.length - 6);
      if (got !== want) problems.push(`record ${r.index}: start I-frame FCS ${want.toString(16)}, computed ${got.toString(16)}`);
      fcs_checked++;
    }
  }
  const report = checkCapture(path, { ...options, ignore: [...(options.ignore ?? []), ...forgiven] });
  const all = [...report.problems, ...problems];
  const out: ErtmCaptureReport = {
    ...report,
    problems: all,
    start_frames: starts.length,
    tshark_start_bug: forgiven.length,
    fcs_checked,
  };
  if (all.length > 0) throw new Error(`capture is not clean: ${formatReport(out)}`);
  return out;
}
