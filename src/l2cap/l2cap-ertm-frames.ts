/**
 * Enhanced Retransmission and Streaming mode frames (Core spec v5.4, Vol 3, Part A, 3.3): the
 * 16-bit Enhanced Control Field of I-frames and S-frames, the SDU Length field of a start
 * I-frame, and the Frame Check Sequence. A pure codec: bytes in, numbers out, encoders write into
 * a caller-supplied buffer.
 *
 * Enhanced Control Field (3.3.2, little endian on the wire), bit 0 first:
 *
 * | frame   | 0        | 1-6      | 7     | 8-13    | 14-15      |
 * |---------|----------|----------|-------|---------|------------|
 * | I-frame | 0 (type) | TxSeq    | F     | ReqSeq  | SAR        |
 * | S-frame | 1 (type) | bit 1 reserved, bits 2-3 S, bit 4 P, bits 5-6 reserved | F | ReqSeq | reserved |
 *
 * S (supervisory function, 3.3.2 table 3.5): 00 RR, 01 REJ, 10 RNR, 11 SREJ. SAR (table 3.4): 00
 * unsegmented SDU, 01 start (followed by the 2-octet SDU Length), 10 end, 11 continuation.
 *
 * FCS (3.3.5): CRC-16 with generator x^16 + x^15 + x^2 + 1, initial value 0, bits processed least
 * significant first (the reflected form, polynomial 0xA001), over the Basic L2CAP header, the
 * control field, the SDU Length and the information payload; sent least significant octet first.
 * The spec's two worked examples (I-frame `0E 00 40 00 02 00 00 01 .. 09` -> 0x6138, RR frame
 * `04 00 40 00 01 01` -> 0x14D4) are this function's test vectors.
 *
 * The Extended Control Field (32 bit, Extended Window Size option) is not supported, as in BTstack
 * (whose l2cap_ertm_config_t has no extended window): this host never offers the Extended Window
 * Size feature bit, so a conforming peer never uses it.
 */

/** SAR values (Vol 3 Part A, 3.3.2 table 3.4); BTstack's l2cap_segmentation_and_reassembly_t order. */
export const L2CAP_SAR_UNSEGMENTED = 0;
export const L2CAP_SAR_START = 1;
export const L2CAP_SAR_END = 2;
export const L2CAP_SAR_CONTINUATION = 3;

/** Supervisory functions (Vol 3 Part A, 3.3.2 table 3.5). */
export const L2CAP_SUPERVISORY_RR = 0;
export const L2CAP_SUPERVISORY_REJ = 1;
export const L2CAP_SUPERVISORY_RNR = 2;
export const L2CAP_SUPERVISORY_SREJ = 3;

export const L2CAP_SUPERVISORY_NAMES: readonly string[] = Object.freeze(['RR', 'REJ', 'RNR', 'SREJ']);

/** Octets of the Enhanced Control Field, the SDU Length field and the FCS. */
export const L2CAP_ERTM_CONTROL_SIZE = 2;
export const L2CAP_ERTM_SDU_LENGTH_SIZE = 2;
export const L2CAP_FCS_SIZE = 2;
/** Sequence numbers are modulo 64 with the enhanced control field. */
export const L2CAP_ERTM_SEQ_MODULO = 64;
/** Largest TxWindow of the enhanced control field (Vol 3 Part A, 5.4). */
export const L2CAP_ERTM_MAX_TX_WINDOW = 63;

/** Enhanced control field of an I-frame. */
export function l2cap_ertm_i_control(tx_seq: number, req_seq: number, sar: number, final: boolean): number {
  return ((tx_seq & 0x3f) << 1) | (final ? 0x80 : 0) | ((req_seq & 0x3f) << 8) | ((sar & 3) << 14);
}

/** Enhanced control field of an S-frame. */
export function l2cap_ertm_s_control(s: number, req_seq: number, poll: boolean, final: boolean): number {
  return 1 | ((s & 3) << 2) | (poll ? 0x10 : 0) | (final ? 0x80 : 0) | ((req_seq & 0x3f) << 8);
}

/** Field readers of an enhanced control field value. */
export function l2cap_ertm_is_s_frame(control: number): boolean {
  return (control & 1) === 1;
}
export function l2cap_ertm_tx_seq(control: number): number {
  return (control >> 1) & 0x3f;
}
export function l2cap_ertm_req_seq(control: number): number {
  return (control >> 8) & 0x3f;
}
export function l2cap_ertm_sar(control: number): number {
  return (control >> 14) & 3;
}
export function l2cap_ertm_final(control: number): boolean {
  return (control & 0x80) !== 0;
}
export function l2cap_ertm_poll(control: number): boolean {
  return (control & 0x10) !== 0;
}
export function l2cap_ertm_supervisory(control: number): number {
  return (control >> 2) & 3;
}

/** CRC-16 lookup table for the reflected polynomial 0xA001 (built once per process; pure data). */
const FCS_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** The L2CAP FCS of buf[off, off+len), continuing from `crc` (0 to start). */
export function l2cap_fcs(buf: Uint8Array, off: number, len: number, crc = 0): number {
  let c = crc & 0xffff;
  const end = Math.min(off + len, buf.length);
  for (let i = off; i < end; i++) c = (c >>> 8) ^ FCS_TABLE[(c ^ buf[i]!) & 0xff]!;
  return c;
}

/** Modulo-64 distance from `from` forward to `to`. */
export function l2cap_seq_delta(to: number, from: number): number {
  return (to - from) & 0x3f;
}

/** Ordered list of the PDU fields of an ERTM/streaming frame, as parsed by l2cap_ertm_parse. */
export class L2capErtmFrame {
  /** The 16-bit control field. */
  control = 0;
  /** SDU Length of a start I-frame (0 otherwise). */
  sdu_length = 0;
  /** Offset and length of the information payload in the parsed buffer. */
  payload_offset = 0;
  payload_length = 0;
}

export type L2capErtmParse = 'ok' | 'short' | 'fcs' | 'length';

/**
 * Parse the B-frame payload `buf[off, off+len)` of a channel in ERTM or streaming mode; `pdu_off`
 * is where its Basic L2CAP header starts (the FCS covers it). Checks the FCS when `fcs` is true
 * (a mismatch is 'fcs': the frame is discarded, Vol 3 Part A, 3.3.5), the minimum sizes, and
 * that an S-frame carries nothing but its control field ('length'). Never reads outside the range.
 */
export function l2cap_ertm_parse(
  buf: Uint8Array,
  pdu_off: number,
  off: number,
  len: number,
  fcs: boolean,
  out: L2capErtmFrame,
): L2capErtmParse {
  const end = Math.min(off + len, buf.length);
  let body_end = end;
  if (fcs) {
    if (end - off < L2CAP_ERTM_CONTROL_SIZE + L2CAP_FCS_SIZE || pdu_off < 0 || pdu_off > off) return 'short';
    body_end = end - L2CAP_FCS_SIZE;
    const want = buf[body_end]! | (buf[body_end + 1]! << 8);
    if (l2cap_fcs(buf, pdu_off, body_end - pdu_off) !== want) return 'fcs';
  }
  if (body_end - off < L2CAP_ERTM_CONTROL_SIZE) return 'short';
  const control = buf[off]! | (buf[off + 1]! << 8);
  out.control = control;
  out.sdu_length = 0;
  let p = off + L2CAP_ERTM_CONTROL_SIZE;
  if (l2cap_ertm_is_s_frame(control)) {
    out.payload_offset = p;
    out.payload_length = 0;
    return p === body_end ? 'ok' : 'length';
  }
  if (l2cap_ertm_sar(control) === L2CAP_SAR_START) {
    if (body_end - p < L2CAP_ERTM_SDU_LENGTH_SIZE) return 'short';
    out.sdu_length = buf[p]! | (buf[p + 1]! << 8);
    p += L2CAP_ERTM_SDU_LENGTH_SIZE;
  }
  out.payload_offset = p;
  out.payload_length = body_end - p;
  return 'ok';
}

/**
 * Write a complete PDU (Basic L2CAP header for `cid`, control field, SDU Length for a start
 * I-frame, payload from src[src_off, src_off+src_len), FCS when `fcs`) at out[pos]. Returns the
 * bytes written or -1 when `out` is too small.
 */
export function l2cap_ertm_write(
  out: Uint8Array,
  pos: number,
  cid: number,
  control: number,
  sdu_length: number,
  src: Uint8Array | null,
  src_off: number,
  src_len: number,
  fcs: boolean,
): number {
  const s_frame = l2cap_ertm_is_s_frame(control);
  const start = !s_frame && l2cap_ertm_sar(control) === L2CAP_SAR_START;
  const payload = s_frame ? 0 : src_len;
  const body = L2CAP_ERTM_CONTROL_SIZE + (start ? L2CAP_ERTM_SDU_LENGTH_SIZE : 0) + payload + (fcs ? L2CAP_FCS_SIZE : 0);
  const total = 4 + body;
  if (pos < 0 || pos + total > out.length || body > 0xffff) return -1;
  out[pos] = body & 0xff;
  out[pos + 1] = body >> 8;
  out[pos + 2] = cid & 0xff;
  out[pos + 3] = (cid >> 8) & 0xff;
  out[pos + 4] = control & 0xff;
  out[pos + 5] = (control >> 8) & 0xff;
  let p = pos + 6;
  if (start) {
    out[p] = sdu_length & 0xff;
    out[p + 1] = (sdu_length >> 8) & 0xff;
    p += 2;
  }
  if (payload > 0 && src) {
    out.set(src.subarray(src_off, src_off + payload), p);
    p += payload;
  }
  if (fcs) {
    const c = l2cap_fcs(out, pos, p - pos);
    out[p] = c & 0xff;
    out[p + 1] = c >> 8;
    p += 2;
  }
  return p - pos;
}
