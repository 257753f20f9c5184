/**
 * RFCOMM frame codec (TS 07.10 basic option, as profiled by the Bluetooth RFCOMM spec).
 *
 * Pure and sans-I/O: the decoder fills a caller-owned `RfcommFrame` (no allocation per frame)
 * and returns a status; the encoders write into a caller-supplied buffer and return the size.
 *
 * Frame layout (one frame per L2CAP SDU):
 *
 *   address(1) control(1) length(1|2) [credits(1)] information(length) fcs(1)
 *
 * - address: bit0 EA (always 1 in RFCOMM), bit1 C/R, bits 2-7 DLCI (bit2 is the direction bit D,
 *   bits 3-7 the server channel).
 * - control: frame type with the P/F bit (0x10).
 * - length: bit0 EA; EA=1 -> 7-bit length in one octet, EA=0 -> 15-bit length in two octets
 *   (low 7 bits first). The optional credit octet is not counted.
 * - credits: present in UIH frames with P/F set on a DLCI other than 0 when credit-based flow
 *   control is in use on that DLC.
 * - fcs: TS 07.10 CRC-8 over address+control for UIH, over address+control+length otherwise.
 *
 * Bad frames (wrong FCS, wrong length encoding, truncated, unknown control field) are discarded
 * silently as TS 07.10 prescribes for invalid frames: every status other than 'ok' means discard.
 */

import { ERROR_CODE_MEMORY_CAPACITY_EXCEEDED, ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE } from '../codes/v1.4.js';

// ---- frame types (control field with P/F cleared) ----

/** Set Asynchronous Balanced Mode (command). */
export const RFCOMM_SABM = 0x2f;
/** Unnumbered Acknowledgement (response). */
export const RFCOMM_UA = 0x63;
/** Disconnected Mode (response). */
export const RFCOMM_DM = 0x0f;
/** Disconnect (command). */
export const RFCOMM_DISC = 0x43;
/** Unnumbered Information with Header check (data and multiplexer commands). */
export const RFCOMM_UIH = 0xef;
/** Poll/Final bit in the control field. */
export const RFCOMM_PF = 0x10;

/** Address, control, two length octets and a credit octet. */
export const RFCOMM_MAX_HEADER_SIZE = 5;
/** Largest information field a two-octet length can describe (and the largest N1 allowed). */
export const RFCOMM_MAX_INFORMATION_SIZE = 0x7fff;
/** N1 when no PN was exchanged (TS 07.10 default for the basic option). */
export const RFCOMM_DEFAULT_MAX_FRAME_SIZE = 127;
/** DLCI of the multiplexer control channel. */
export const RFCOMM_DLCI_CONTROL = 0;

// ---- FCS (TS 07.10 annex B) ----

/**
 * CRC-8 table for the reversed polynomial x^8 + x^2 + x + 1 (0x07 reflected = 0xE0), processed
 * least significant bit first. Immutable, shared by every stack.
 */
const CRC_TABLE: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let b = 0; b < 8; b++) c = c & 1 ? (c >>> 1) ^ 0xe0 : c >>> 1;
    t[i] = c;
  }
  Object.freeze(t.buffer);
  return t;
})();

/** The register value after running the CRC over data followed by a correct FCS. */
export const RFCOMM_FCS_GOOD = 0xcf;

/** Run the TS 07.10 CRC register `crc` (start 0xFF) over buf[pos .. pos+len). */
export function rfcomm_crc8_update(crc: number, buf: Uint8Array, pos: number, len: number): number {
  let c = crc & 0xff;
  const end = Math.min(buf.length, pos + len);
  for (let i = pos; i < end; i++) c = CRC_TABLE[c ^ buf[i]!]!;
  return c;
}

/** FCS octet for buf[pos .. pos+len): ones' complement of the CRC register. */
export function rfcomm_fcs(buf: Uint8Array, pos: number, len: number): number {
  return 0xff - rfcomm_crc8_update(0xff, buf, pos, len);
}

/** Check a received FCS: the CRC over the covered octets plus the FCS gives 0xCF. */
export function rfcomm_fcs_check(buf: Uint8Array, pos: number, len: number, fcs: number): boolean {
  return CRC_TABLE[rfcomm_crc8_update(0xff, buf, pos, len) ^ (fcs & 0xff)] === RFCOMM_FCS_GOOD;
}

// ---- roles, C/R and direction ----

/**
 * C/R bit of the address field (TS 07.10 5.2.1.2): a command from the initiator of the
 * multiplexer session (the station that sent SABM on DLCI 0) has C/R=1, a command from the
 * responder C/R=0; responses have the opposite values. In RFCOMM, UIH frames are commands.
 */
export function rfcomm_cr(local_is_initiator: boolean, command: boolean): 0 | 1 {
  return local_is_initiator === command ? 1 : 0;
}

/**
 * Whether a received frame is a command, given its C/R bit and whether the sender is the
 * initiator of the multiplexer session (i.e. the local side is the responder).
 */
export function rfcomm_frame_is_command(cr: number, sender_is_initiator: boolean): boolean {
  return (cr & 1) === (sender_is_initiator ? 1 : 0);
}

/**
 * DLCI of a server channel (1-30). The direction bit D is 1 when the server channel lives on the
 * side that initiated the multiplexer session, 0 when it lives on the responder.
 */
export function rfcomm_dlci(server_channel: number, server_on_initiator: boolean): number {
  return ((server_channel & 0x1f) << 1) | (server_on_initiator ? 1 : 0);
}

/** DLCI to open the remote's server channel: the server is the peer. */
export function rfcomm_dlci_for_outgoing(server_channel: number, local_is_initiator: boolean): number {
  return rfcomm_dlci(server_channel, !local_is_initiator);
}

/** Server channel (1-30) encoded in a DLCI. */
export function rfcomm_server_channel(dlci: number): number {
  return (dlci >> 1) & 0x1f;
}

/** Address octet: EA=1, C/R, DLCI. */
export function rfcomm_address(dlci: number, cr: number): number {
  return ((dlci & 0x3f) << 2) | ((cr & 1) << 1) | 1;
}

// ---- encoder ----

/** Header size (address, control, length, credit) for an information field of `info_len` octets. */
export function rfcomm_frame_header_size(info_len: number, with_credits: boolean): number {
  return 2 + (info_len > 127 ? 2 : 1) + (with_credits ? 1 : 0);
}

/** Total frame size for an information field of `info_len` octets. */
export function rfcomm_frame_size(info_len: number, with_credits: boolean): number {
  return rfcomm_frame_header_size(info_len, with_credits) + info_len + 1;
}

/** Encoder failure (negative return, nothing written): `buf` has no room (as the event builders). */
export const RFCOMM_ENCODE_BUFFER_TOO_SMALL = -ERROR_CODE_MEMORY_CAPACITY_EXCEEDED;
/** Encoder failure (negative return, nothing written): length > 32767, credits > 255 or on a non-UIH frame. */
export const RFCOMM_ENCODE_INVALID_ARGUMENT = -ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;

function validArgs(control: number, info_len: number, credits: number): boolean {
  if (!(info_len >= 0 && info_len <= RFCOMM_MAX_INFORMATION_SIZE) || !Number.isInteger(info_len)) return false;
  if (credits >= 0 && ((control & ~RFCOMM_PF) !== RFCOMM_UIH || credits > 255)) return false;
  return true;
}

/** Write header octets ending right before `info_pos`; returns the frame start. Args validated. */
function writeHeader(
  buf: Uint8Array,
  info_pos: number,
  info_len: number,
  address: number,
  control: number,
  credits: number,
): number {
  const start = info_pos - rfcomm_frame_header_size(info_len, credits >= 0);
  let p = start;
  buf[p++] = address & 0xff;
  buf[p++] = (credits >= 0 ? control | RFCOMM_PF : control) & 0xff;
  if (info_len > 127) {
    buf[p++] = (info_len & 0x7f) << 1; // EA = 0: a second length octet follows
    buf[p++] = info_len >> 7;
  } else {
    buf[p++] = (info_len << 1) | 1;
  }
  if (credits >= 0) buf[p++] = credits;
  return start;
}

function writeFcs(buf: Uint8Array, start: number, info_pos: number, info_len: number, control: number, credits: number): void {
  const isUih = (control & ~RFCOMM_PF) === RFCOMM_UIH;
  // UIH: address + control; others: address + control + length (no credit octet there)
  const covered = isUih ? 2 : info_pos - start - (credits >= 0 ? 1 : 0);
  buf[info_pos + info_len] = rfcomm_fcs(buf, start, covered);
}

/** Copies shorter than this go octet by octet (cheaper than making a view to hand to `set`). */
const SMALL_COPY = 16;

/**
 * Copy info[info_pos .. info_pos+len) to buf[dst ..], as memmove does when both share memory,
 * without making a view where it can: the whole of `info` goes with one `set`, the same array
 * with copyWithin, a short range octet by octet; only a long part of another array needs a view
 * (RFCOMM's rfcomm_send hands in an exact, cached view, so it never gets here).
 */
function copyInfo(buf: Uint8Array, dst: number, info: Uint8Array, info_pos: number, len: number): void {
  if (info_pos === 0 && len === info.length) {
    buf.set(info, dst);
  } else if (info === buf) {
    buf.copyWithin(dst, info_pos, info_pos + len);
  } else if (len < SMALL_COPY) {
    const sameMemory = info.buffer === buf.buffer;
    const from = info.byteOffset + info_pos;
    const to = buf.byteOffset + dst;
    if (sameMemory && from < to) {
      for (let i = len - 1; i >= 0; i--) buf[dst + i] = info[info_pos + i]!;
    } else {
      for (let i = 0; i < len; i++) buf[dst + i] = info[info_pos + i]!;
    }
  } else {
    // TypedArray.set copies as memmove does when source and target share a buffer
    buf.set(info.subarray(info_pos, info_pos + len), dst);
  }
}

/**
 * Encode a frame at buf[pos]. `control` is the frame type, with RFCOMM_PF if wanted;
 * `credits` >= 0 adds a credit octet (UIH only) and sets P/F. The information field is copied
 * from info[info_pos .. info_pos+info_len). Returns the frame size, or a negative
 * RFCOMM_ENCODE_* value (nothing written).
 */
export function rfcomm_frame_encode(
  buf: Uint8Array,
  pos: number,
  address: number,
  control: number,
  credits = -1,
  info: Uint8Array | null = null,
  info_pos = 0,
  info_len = info ? info.length - info_pos : 0,
): number {
  if (!validArgs(control, info_len, credits)) return RFCOMM_ENCODE_INVALID_ARGUMENT;
  if (info_len > 0 && (!info || info_pos < 0 || info_pos + info_len > info.length)) return RFCOMM_ENCODE_INVALID_ARGUMENT;
  const hdr = rfcomm_frame_header_size(info_len, credits >= 0);
  const size = hdr + info_len + 1;
  if (pos < 0 || pos + size > buf.length) return RFCOMM_ENCODE_BUFFER_TOO_SMALL;
  if (info && info_len > 0) copyInfo(buf, pos + hdr, info, info_pos, info_len);
  writeHeader(buf, pos + hdr, info_len, address, control, credits);
  writeFcs(buf, pos, pos + hdr, info_len, control, credits);
  return size;
}

/**
 * Zero-copy encoding: the information field already sits at buf[info_pos .. info_pos+info_len).
 * Writes the header into the bytes just before it (reserve RFCOMM_MAX_HEADER_SIZE) and the FCS
 * right after it. Returns the offset where the frame starts (its size is
 * info_pos + info_len + 1 - start), or a negative RFCOMM_ENCODE_* value (nothing written).
 */
export function rfcomm_frame_encode_in_place(
  buf: Uint8Array,
  info_pos: number,
  info_len: number,
  address: number,
  control: number,
  credits = -1,
): number {
  if (!validArgs(control, info_len, credits)) return RFCOMM_ENCODE_INVALID_ARGUMENT;
  const hdr = rfcomm_frame_header_size(info_len, credits >= 0);
  if (info_pos - hdr < 0 || info_pos + info_len + 1 > buf.length) return RFCOMM_ENCODE_BUFFER_TOO_SMALL;
  const start = writeHeader(buf, info_pos, info_len, address, control, credits);
  writeFcs(buf, start, info_pos, info_len, control, credits);
  return start;
}

/** SABM command with P=1 (opens DLCI; DLCI 0 starts the multiplexer). Returns 4 or < 0. */
export function rfcomm_encode_sabm(buf: Uint8Array, pos: number, local_is_initiator: boolean, dlci: number): number {
  return rfcomm_frame_encode(buf, pos, rfcomm_address(dlci, rfcomm_cr(local_is_initiator, true)), RFCOMM_SABM | RFCOMM_PF);
}

/** DISC command with P=1. Returns 4 or < 0. */
export function rfcomm_encode_disc(buf: Uint8Array, pos: number, local_is_initiator: boolean, dlci: number): number {
  return rfcomm_frame_encode(buf, pos, rfcomm_address(dlci, rfcomm_cr(local_is_initiator, true)), RFCOMM_DISC | RFCOMM_PF);
}

/** UA response with F=1 (answers SABM/DISC with P=1). Returns 4 or < 0. */
export function rfcomm_encode_ua(buf: Uint8Array, pos: number, local_is_initiator: boolean, dlci: number): number {
  return rfcomm_frame_encode(buf, pos, rfcomm_address(dlci, rfcomm_cr(local_is_initiator, false)), RFCOMM_UA | RFCOMM_PF);
}

/** DM response; F mirrors the P bit of the frame it answers (default 1). Returns 4 or < 0. */
export function rfcomm_encode_dm(buf: Uint8Array, pos: number, local_is_initiator: boolean, dlci: number, final = true): number {
  return rfcomm_frame_encode(
    buf,
    pos,
    rfcomm_address(dlci, rfcomm_cr(local_is_initiator, false)),
    RFCOMM_DM | (final ? RFCOMM_PF : 0),
  );
}

/**
 * UIH command (data, or a multiplexer command on DLCI 0). `credits` >= 0 adds a credit octet
 * with P/F set. Returns the frame size or < 0.
 */
export function rfcomm_encode_uih(
  buf: Uint8Array,
  pos: number,
  local_is_initiator: boolean,
  dlci: number,
  credits: number,
  info: Uint8Array | null,
  info_pos = 0,
  info_len = info ? info.length - info_pos : 0,
): number {
  return rfcomm_frame_encode(
    buf,
    pos,
    rfcomm_address(dlci, rfcomm_cr(local_is_initiator, true)),
    RFCOMM_UIH,
    credits,
    info,
    info_pos,
    info_len,
  );
}

// ---- decoder ----

/** Why a frame was discarded; 'ok' when it is valid. Every other status: discard silently. */
export type RfcommFrameStatus =
  | 'ok'
  /** Fewer octets than the smallest frame (address, control, length, FCS). */
  | 'too-short'
  /** Address EA bit is 0 (RFCOMM uses one address octet). */
  | 'bad-address'
  /** Length field does not match the octets received (truncated or trailing octets), or a
   *  non-UIH frame carries information. */
  | 'bad-length'
  /** Control field is none of SABM, UA, DM, DISC, UIH. */
  | 'bad-control'
  /** FCS check failed. */
  | 'bad-fcs';

/** A decoded frame: a view into the caller's buffer, valid while that buffer is. Reused. */
export class RfcommFrame {
  /** Raw address octet. */
  address = 0;
  /** DLCI (0-63). */
  dlci = 0;
  /** C/R bit of the address (use rfcomm_frame_is_command to interpret). */
  cr = 0;
  /** Frame type, P/F cleared: RFCOMM_SABM, _UA, _DM, _DISC or _UIH. */
  type = 0;
  /** P/F bit. */
  pf = false;
  /** Credit octet of a UIH frame with P/F set under credit-based flow control, else -1. */
  credits = -1;
  /** Offset of the information field in the buffer passed to the decoder. */
  info_pos = 0;
  /** Length of the information field. */
  info_len = 0;
  /** Total frame size (header + information + FCS). */
  size = 0;
}

/** Read the DLCI before decoding (to look up the DLC's credit-flow mode); -1 when empty. */
export function rfcomm_frame_peek_dlci(buf: Uint8Array, pos: number, len: number): number {
  if (len < 1 || pos < 0 || pos >= buf.length) return -1;
  return buf[pos]! >> 2;
}

function isKnownType(t: number): boolean {
  return t === RFCOMM_UIH || t === RFCOMM_SABM || t === RFCOMM_UA || t === RFCOMM_DM || t === RFCOMM_DISC;
}

/**
 * Decode the frame in buf[pos .. pos+len) (exactly one frame, as carried in one L2CAP SDU).
 * `credit_flow`: whether credit-based flow control is in use on this frame's DLC, i.e. whether
 * a UIH frame with P/F set on a DLCI other than 0 carries a credit octet.
 * Fills `out` and returns 'ok', or a reason to discard the frame. Never reads outside the range.
 */
export function rfcomm_frame_decode(
  buf: Uint8Array,
  pos: number,
  len: number,
  out: RfcommFrame,
  credit_flow = true,
): RfcommFrameStatus {
  if (!(pos >= 0 && len >= 4 && pos + len <= buf.length)) return len >= 4 && pos >= 0 ? 'bad-length' : 'too-short';
  const address = buf[pos]!;
  if ((address & 1) === 0) return 'bad-address';
  const control = buf[pos + 1]!;
  const type = control & ~RFCOMM_PF & 0xff;
  if (!isKnownType(type)) return 'bad-control';
  const pf = (control & RFCOMM_PF) !== 0;
  const l0 = buf[pos + 2]!;
  let infoLen: number;
  let hdr: number;
  if (l0 & 1) {
    infoLen = l0 >> 1;
    hdr = 3;
  } else {
    if (len < 5) return 'too-short';
    infoLen = (l0 >> 1) | (buf[pos + 3]! << 7);
    hdr = 4; // a two-octet length below 128 is not the shortest form, but unambiguous: accepted
  }
  const dlci = address >> 2;
  const hasCredits = credit_flow && type === RFCOMM_UIH && pf && dlci !== 0;
  const lengthOctets = hdr;
  if (hasCredits) hdr++;
  if (hdr + infoLen + 1 !== len) return 'bad-length';
  if (type !== RFCOMM_UIH && infoLen !== 0) return 'bad-length';
  const fcs = buf[pos + len - 1]!;
  if (!rfcomm_fcs_check(buf, pos, type === RFCOMM_UIH ? 2 : lengthOctets, fcs)) return 'bad-fcs';
  out.address = address;
  out.dlci = dlci;
  out.cr = (address >> 1) & 1;
  out.type = type;
  out.pf = pf;
  out.credits = hasCredits ? buf[pos + hdr - 1]! : -1;
  out.info_pos = pos + hdr;
  out.info_len = infoLen;
  out.size = len;
  return 'ok';
}
