/**
 * H5, the Three-wire UART transport (Core spec Vol 4 Part D): the pure codec parts.
 *
 * - SLIP framing (Part D 3): every packet is sent as 0xC0, the escaped packet, 0xC0. Inside a
 *   frame 0xC0 is sent as 0xDB 0xDC and 0xDB as 0xDB 0xDD. When out-of-frame software flow control
 *   is negotiated (config field bit 3), XON 0x11 and XOFF 0x13 are also escaped (0xDB 0xDE,
 *   0xDB 0xDF) so that a raw 0x11 / 0x13 on the line is always flow control.
 * - The 4-byte packet header (Part D 6): byte 0 = seq (bits 0-2), ack (bits 3-5), data integrity
 *   check present (bit 6), reliable (bit 7); byte 1 = packet type (bits 0-3) and the low 4 bits
 *   of the 12-bit payload length (bits 4-7); byte 2 = length bits 4-11; byte 3 = header checksum,
 *   chosen so that the four bytes sum to 0xFF modulo 256.
 * - The optional data integrity check (Part D 7): a CRC-16 with the CCITT polynomial
 *   x^16 + x^12 + x^5 + 1 over header and payload, register preset to 0xFFFF, each octet shifted
 *   in least significant bit first (the order the UART sends it), no final inversion; the 16-bit
 *   result is sent after the payload, most significant octet first, bit-reversed relative to the
 *   LSB-first register (so the term of x^15 is bit 15). This is the variant BTstack's and Realtek's
 *   H5 implementations put on the wire. Check value: h5_crc16 of ASCII "123456789" = 0x89F6 (the
 *   bit reversal of 0x6F91, the register CRC-16/X-25 ends with before its final XOR; X-25's
 *   catalogue check is 0x906E = ~0x6F91).
 * - Link control messages (Part D 8, packet type 15): SYNC 01 7E, SYNC RESPONSE 02 7D, CONFIG
 *   03 FC [config], CONFIG RESPONSE 04 7B [config], WAKEUP 05 FA, WOKEN 06 F9, SLEEP 07 78. The
 *   config field: sliding window size (bits 0-2, 1..7), OOF flow control (bit 3), data integrity
 *   check type (bit 4, 1 = the CRC above), version (bits 5-7).
 *
 * No allocation per byte: the decoder collects a frame in one fixed buffer (4 + 4095 + 2 bytes)
 * and hands it out as (buffer, length), valid only during the callback. Bad input is reported as
 * a status, never thrown. The link (sequence numbers, window, retransmission, link establishment)
 * is in h5-link.ts.
 */

export const H5_SLIP_DELIMITER = 0xc0;
export const H5_SLIP_ESC = 0xdb;
export const H5_SLIP_ESC_DELIMITER = 0xdc;
export const H5_SLIP_ESC_ESC = 0xdd;
export const H5_SLIP_ESC_XON = 0xde;
export const H5_SLIP_ESC_XOFF = 0xdf;
export const H5_XON = 0x11;
export const H5_XOFF = 0x13;

/** Packet type of a pure acknowledgement (no payload). */
export const H5_ACK_PACKET = 0x00;
/** Vendor specific packet type. */
export const H5_VENDOR_PACKET = 0x0e;
/** Packet type of the link control messages (SYNC, CONFIG, ...). */
export const H5_LINK_CONTROL_PACKET = 0x0f;

export const H5_HEADER_SIZE = 4;
export const H5_MAX_PAYLOAD = 0xfff;
/** Largest unescaped frame: header, 4095 payload bytes, data integrity check. */
export const H5_MAX_FRAME = H5_HEADER_SIZE + H5_MAX_PAYLOAD + 2;

/** Link control messages (first two bytes; CONFIG / CONFIG RESPONSE may add a config field). */
export const H5_SYNC = Object.freeze([0x01, 0x7e]);
export const H5_SYNC_RESPONSE = Object.freeze([0x02, 0x7d]);
export const H5_CONFIG = Object.freeze([0x03, 0xfc]);
export const H5_CONFIG_RESPONSE = Object.freeze([0x04, 0x7b]);
export const H5_WAKEUP = Object.freeze([0x05, 0xfa]);
export const H5_WOKEN = Object.freeze([0x06, 0xf9]);
export const H5_SLEEP = Object.freeze([0x07, 0x78]);

/** Which link control message a type-15 payload is (H5_LINK_* below), or H5_LINK_UNKNOWN. */
export const H5_LINK_UNKNOWN = 0;
export const H5_LINK_SYNC = 1;
export const H5_LINK_SYNC_RESPONSE = 2;
export const H5_LINK_CONFIG = 3;
export const H5_LINK_CONFIG_RESPONSE = 4;
export const H5_LINK_WAKEUP = 5;
export const H5_LINK_WOKEN = 6;
export const H5_LINK_SLEEP = 7;

const LINK_MESSAGES: readonly (readonly number[])[] = [
  [],
  H5_SYNC,
  H5_SYNC_RESPONSE,
  H5_CONFIG,
  H5_CONFIG_RESPONSE,
  H5_WAKEUP,
  H5_WOKEN,
  H5_SLEEP,
];

/**
 * Classify a link control payload: the message code, or H5_LINK_UNKNOWN. SYNC, SYNC RESPONSE,
 * WAKEUP, WOKEN and SLEEP must be exactly two bytes; CONFIG and CONFIG RESPONSE two or three.
 */
export function h5_link_message(buf: Uint8Array, offset: number, length: number): number {
  if (length < 2 || offset < 0 || offset + length > buf.length) return H5_LINK_UNKNOWN;
  const a = buf[offset]!;
  const b = buf[offset + 1]!;
  if (a < 1 || a > 7) return H5_LINK_UNKNOWN;
  const m = LINK_MESSAGES[a]!;
  if (m[1] !== b) return H5_LINK_UNKNOWN;
  const config = a === H5_LINK_CONFIG || a === H5_LINK_CONFIG_RESPONSE;
  if (length === 2 || (config && length === 3)) return a;
  return H5_LINK_UNKNOWN;
}

// ---------------------------------------------------------------------------------------------
// Config field

export interface H5Config {
  /** Sliding window size, 1..7. */
  window: number;
  /** Out-of-frame software flow control (XON/XOFF). */
  oof: boolean;
  /** Data integrity check (the CRC-16) on every packet. */
  dic: boolean;
  /** Protocol version number, 0..7 (0 = version 1.0). */
  version: number;
}

/** The configuration both sides assume when a CONFIG / CONFIG RESPONSE carries no config field. */
export const H5_DEFAULT_CONFIG: Readonly<H5Config> = Object.freeze({ window: 1, oof: false, dic: false, version: 0 });

export function h5_config_encode(c: H5Config): number {
  const w = Math.min(7, Math.max(1, c.window | 0));
  return w | (c.oof ? 0x08 : 0) | (c.dic ? 0x10 : 0) | ((c.version & 7) << 5);
}

/** Decode a config field; a window size of 0 (invalid) is read as 1. */
export function h5_config_decode(field: number): H5Config {
  return {
    window: field & 7 || 1,
    oof: (field & 0x08) !== 0,
    dic: (field & 0x10) !== 0,
    version: (field >> 5) & 7,
  };
}

/** What both sides use: the smaller window and version, each option only if both offer it. */
export function h5_config_combine(a: H5Config, b: H5Config): H5Config {
  return {
    window: Math.max(1, Math.min(a.window, b.window, 7)),
    oof: a.oof && b.oof,
    dic: a.dic && b.dic,
    version: Math.min(a.version & 7, b.version & 7),
  };
}

// ---------------------------------------------------------------------------------------------
// Header

/** Write the 4-byte packet header (with its checksum) at out[pos..pos+3]. */
export function h5_header_encode(
  out: Uint8Array,
  pos: number,
  seq: number,
  ack: number,
  dic: boolean,
  reliable: boolean,
  packet_type: number,
  length: number,
): void {
  const b0 = (seq & 7) | ((ack & 7) << 3) | (dic ? 0x40 : 0) | (reliable ? 0x80 : 0);
  const b1 = (packet_type & 0x0f) | ((length & 0x0f) << 4);
  const b2 = (length >> 4) & 0xff;
  out[pos] = b0;
  out[pos + 1] = b1;
  out[pos + 2] = b2;
  out[pos + 3] = (0xff - ((b0 + b1 + b2) & 0xff)) & 0xff;
}

export function h5_header_seq(buf: Uint8Array, pos = 0): number {
  return buf[pos]! & 7;
}
export function h5_header_ack(buf: Uint8Array, pos = 0): number {
  return (buf[pos]! >> 3) & 7;
}
export function h5_header_dic(buf: Uint8Array, pos = 0): boolean {
  return (buf[pos]! & 0x40) !== 0;
}
export function h5_header_reliable(buf: Uint8Array, pos = 0): boolean {
  return (buf[pos]! & 0x80) !== 0;
}
export function h5_header_type(buf: Uint8Array, pos = 0): number {
  return buf[pos + 1]! & 0x0f;
}
export function h5_header_length(buf: Uint8Array, pos = 0): number {
  return (buf[pos + 1]! >> 4) | (buf[pos + 2]! << 4);
}
/** Whether the four header bytes sum to 0xFF modulo 256. */
export function h5_header_checksum_ok(buf: Uint8Array, pos = 0): boolean {
  return ((buf[pos]! + buf[pos + 1]! + buf[pos + 2]! + buf[pos + 3]!) & 0xff) === 0xff;
}

// ---------------------------------------------------------------------------------------------
// Data integrity check

/** LSB-first (reflected) CCITT table: one entry per octet value. */
const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i;
    for (let k = 0; k < 8; k++) r = r & 1 ? (r >>> 1) ^ 0x8408 : r >>> 1;
    t[i] = r;
  }
  return t;
})();

/** Feed bytes into the (LSB-first) CRC register; start with 0xFFFF. */
export function h5_crc_update(reg: number, buf: Uint8Array, offset: number, length: number): number {
  let r = reg & 0xffff;
  const end = offset + length;
  for (let i = offset; i < end; i++) r = (r >>> 8) ^ CRC_TABLE[(r ^ buf[i]!) & 0xff]!;
  return r;
}

/** The value sent on the wire for a final register (bit reversal of the 16 bits). */
export function h5_crc_finish(reg: number): number {
  let v = reg & 0xffff;
  let out = 0;
  for (let i = 0; i < 16; i++) {
    out = (out << 1) | (v & 1);
    v >>>= 1;
  }
  return out;
}

/** The data integrity check of `length` bytes (header and payload, contiguous). */
export function h5_crc16(buf: Uint8Array, offset = 0, length = buf.length - offset): number {
  return h5_crc_finish(h5_crc_update(0xffff, buf, offset, length));
}

// ---------------------------------------------------------------------------------------------
// SLIP encoding

/** Worst-case size on the line of a frame with `payload` bytes (every byte escaped). */
export function h5_encoded_size_max(payload: number): number {
  return 2 + 2 * (H5_HEADER_SIZE + payload + 2);
}

/**
 * Append src[offset..offset+length) SLIP-escaped to out at pos; returns the new position, or -1
 * when out is too small. `oof`: also escape XON/XOFF.
 */
export function h5_slip_escape(
  src: Uint8Array,
  offset: number,
  length: number,
  out: Uint8Array,
  pos: number,
  oof: boolean,
): number {
  const end = offset + length;
  const cap = out.length;
  for (let i = offset; i < end; i++) {
    const b = src[i]!;
    let esc = 0;
    if (b === H5_SLIP_DELIMITER) esc = H5_SLIP_ESC_DELIMITER;
    else if (b === H5_SLIP_ESC) esc = H5_SLIP_ESC_ESC;
    else if (oof && b === H5_XON) esc = H5_SLIP_ESC_XON;
    else if (oof && b === H5_XOFF) esc = H5_SLIP_ESC_XOFF;
    if (esc) {
      if (pos + 2 > cap) return -1;
      out[pos++] = H5_SLIP_ESC;
      out[pos++] = esc;
    } else {
      if (pos >= cap) return -1;
      out[pos++] = b;
    }
  }
  return pos;
}

const scratch = new Uint8Array(H5_HEADER_SIZE + 2);

/**
 * Encode one complete frame into out at pos: delimiter, header, payload, optional data integrity
 * check, delimiter. Returns the bytes written, or 0 when out is too small or the arguments are
 * out of range (length > 4095, payload shorter than length).
 */
export function h5_frame_encode(
  out: Uint8Array,
  pos: number,
  seq: number,
  ack: number,
  dic: boolean,
  reliable: boolean,
  packet_type: number,
  payload: Uint8Array,
  offset: number,
  length: number,
  oof: boolean,
): number {
  if (length < 0 || length > H5_MAX_PAYLOAD || offset < 0 || offset + length > payload.length || pos < 0) return 0;
  const start = pos;
  if (pos >= out.length) return 0;
  out[pos++] = H5_SLIP_DELIMITER;
  h5_header_encode(scratch, 0, seq, ack, dic, reliable, packet_type, length);
  pos = h5_slip_escape(scratch, 0, H5_HEADER_SIZE, out, pos, oof);
  if (pos < 0) return 0;
  pos = h5_slip_escape(payload, offset, length, out, pos, oof);
  if (pos < 0) return 0;
  if (dic) {
    const crc = h5_crc_finish(h5_crc_update(h5_crc_update(0xffff, scratch, 0, H5_HEADER_SIZE), payload, offset, length));
    scratch[4] = crc >> 8;
    scratch[5] = crc & 0xff;
    pos = h5_slip_escape(scratch, 4, 2, out, pos, oof);
    if (pos < 0) return 0;
  }
  if (pos >= out.length) return 0;
  out[pos++] = H5_SLIP_DELIMITER;
  return pos - start;
}

// ---------------------------------------------------------------------------------------------
// Frame check

export const H5_FRAME_OK = 0;
/** Fewer than 4 bytes between delimiters. */
export const H5_FRAME_SHORT = 1;
/** Header bytes do not sum to 0xFF. */
export const H5_FRAME_HEADER_CHECKSUM = 2;
/** Frame size does not match the header's payload length (and DIC bit). */
export const H5_FRAME_LENGTH = 3;
/** Data integrity check mismatch. */
export const H5_FRAME_CRC = 4;

export const H5_FRAME_STATUS_NAMES: readonly string[] = [
  'ok',
  'short frame',
  'header checksum',
  'length mismatch',
  'CRC mismatch',
];

/** Validate an unescaped frame (header, payload, optional DIC) of `length` bytes at buf[0]. */
export function h5_frame_check(buf: Uint8Array, length: number): number {
  if (length < H5_HEADER_SIZE || length > buf.length) return H5_FRAME_SHORT;
  if (!h5_header_checksum_ok(buf, 0)) return H5_FRAME_HEADER_CHECKSUM;
  const dic = h5_header_dic(buf, 0);
  const payload = h5_header_length(buf, 0);
  if (H5_HEADER_SIZE + payload + (dic ? 2 : 0) !== length) return H5_FRAME_LENGTH;
  if (dic) {
    const want = (buf[length - 2]! << 8) | buf[length - 1]!;
    if (h5_crc16(buf, 0, length - 2) !== want) return H5_FRAME_CRC;
  }
  return H5_FRAME_OK;
}

// ---------------------------------------------------------------------------------------------
// SLIP decoding

/** A SLIP decoding problem: the frame is dropped and the decoder waits for the next 0xC0. */
export const H5_SLIP_BAD_ESCAPE = 1;
export const H5_SLIP_OVERFLOW = 2;

export interface H5SlipDecoderOptions {
  /** A complete unescaped frame (not yet validated: see h5_frame_check); valid during the call. */
  on_frame: (frame: Uint8Array, length: number) => void;
  /** A frame dropped for a bad escape or for being longer than H5_MAX_FRAME. */
  on_error?: (reason: number, position: number) => void;
  /** A raw XON (false) / XOFF (true) seen while out-of-frame flow control is on. */
  on_flow?: (xoff: boolean) => void;
}

const enum Slip {
  Hunt, // waiting for a delimiter (after an error or at start)
  Frame, // inside a frame
  Escape, // after 0xDB
}

/** Chunk-fed SLIP decoder with one fixed frame buffer. */
export class H5SlipDecoder {
  private readonly on_frame: (frame: Uint8Array, length: number) => void;
  private readonly on_error: (reason: number, position: number) => void;
  private readonly on_flow: (xoff: boolean) => void;
  private readonly buf = new Uint8Array(H5_MAX_FRAME);
  private state = Slip.Hunt;
  private len = 0;
  /** Treat raw 0x11 / 0x13 as XON / XOFF and accept their escapes (set when negotiated). */
  oof = false;
  /** Bytes fed since construction. */
  bytes_fed = 0;
  /** Frames dropped for bad escapes or overflow. */
  errors = 0;

  constructor(opts: H5SlipDecoderOptions) {
    this.on_frame = opts.on_frame;
    this.on_error = opts.on_error ?? (() => {});
    this.on_flow = opts.on_flow ?? (() => {});
  }

  /** Forget a partial frame and wait for the next delimiter. */
  reset(): void {
    this.state = Slip.Hunt;
    this.len = 0;
  }

  /** Capacity of the frame buffer (fixed). */
  get capacity(): number {
    return this.buf.length;
  }

  feed(chunk: Uint8Array, offset = 0, length = chunk.length - offset): void {
    let i = Math.max(0, offset | 0);
    const end = Math.min(chunk.length, i + Math.max(0, length | 0));
    const base = this.bytes_fed - i;
    this.bytes_fed += Math.max(0, end - i);
    const buf = this.buf;
    for (; i < end; i++) {
      const b = chunk[i]!;
      if (this.oof && (b === H5_XON || b === H5_XOFF)) {
        this.on_flow(b === H5_XOFF);
        continue;
      }
      if (b === H5_SLIP_DELIMITER) {
        if (this.state === Slip.Escape) {
          // 0xDB 0xC0: the frame is bad; this delimiter starts the next one
          this.fail(H5_SLIP_BAD_ESCAPE, base + i);
        } else if (this.state === Slip.Frame && this.len > 0) {
          const n = this.len;
          this.len = 0;
          this.state = Slip.Frame;
          this.on_frame(buf, n);
          continue;
        }
        this.state = Slip.Frame;
        this.len = 0;
        continue;
      }
      if (this.state === Slip.Hunt) continue;
      let v = b;
      if (this.state === Slip.Escape) {
        if (b === H5_SLIP_ESC_DELIMITER) v = H5_SLIP_DELIMITER;
        else if (b === H5_SLIP_ESC_ESC) v = H5_SLIP_ESC;
        else if (this.oof && b === H5_SLIP_ESC_XON) v = H5_XON;
        else if (this.oof && b === H5_SLIP_ESC_XOFF) v = H5_XOFF;
        else {
          this.fail(H5_SLIP_BAD_ESCAPE, base + i);
          continue;
        }
        this.state = Slip.Frame;
      } else if (b === H5_SLIP_ESC) {
        this.state = Slip.Escape;
        continue;
      }
      if (this.len >= buf.length) {
        this.fail(H5_SLIP_OVERFLOW, base + i);
        continue;
      }
      buf[this.len++] = v;
    }
  }

  private fail(reason: number, position: number): void {
    this.errors++;
    this.state = Slip.Hunt;
    this.len = 0;
    this.on_error(reason, position);
  }
}
