/**
 * L2CAP basic header (Core spec v5.4, Vol 3, Part A, 3.1): every B-frame, C-frame and G-frame
 * starts with a 2-octet Length (of the information payload, header excluded) and a 2-octet
 * Channel ID, both little endian.
 *
 * Pure helpers: no state, no allocation. Writers take a caller-supplied buffer and an offset and
 * return the number of bytes written, or -1 when the buffer is too small (nothing is written then).
 */
import { little_endian_read_16, little_endian_store_16 } from '../core/bytes.js';
import {
  L2CAP_HEADER_SIZE,
  L2CAP_CID_SIGNALING,
  L2CAP_CID_CONNECTIONLESS_CHANNEL,
  L2CAP_CID_ATTRIBUTE_PROTOCOL,
  L2CAP_CID_SIGNALING_LE,
  L2CAP_CID_SECURITY_MANAGER_PROTOCOL,
} from '../codes/v1.4.js';
// Only the v1.8 table (BTstack >= v1.5.0) names this CID; the wire value is the same for both profiles.
import { L2CAP_CID_BR_EDR_SECURITY_MANAGER } from '../codes/v1.8.js';

export {
  L2CAP_HEADER_SIZE,
  L2CAP_CID_SIGNALING,
  L2CAP_CID_CONNECTIONLESS_CHANNEL,
  L2CAP_CID_ATTRIBUTE_PROTOCOL,
  L2CAP_CID_SIGNALING_LE,
  L2CAP_CID_SECURITY_MANAGER_PROTOCOL,
  L2CAP_CID_BR_EDR_SECURITY_MANAGER,
};

/**
 * AMP Manager protocol fixed channel (Core spec Vol 3 Part A, 2.1, Table 2.1). BTstack has no name
 * for it and neither reference table lists it, so it is spelled here; AMP was withdrawn in v5.3.
 */
export const L2CAP_CID_AMP_MANAGER = 0x0003;

/** The null identifier: never used (Vol 3 Part A, 2.1). */
export const L2CAP_CID_NULL = 0x0000;
/** First and last dynamically allocated CID on ACL-U (Vol 3 Part A, 2.1, Table 2.1). */
export const L2CAP_CID_DYNAMIC_FIRST = 0x0040;
export const L2CAP_CID_DYNAMIC_LAST = 0xffff;

/** True for a CID in the dynamically allocated range of ACL-U (0x0040-0xFFFF). */
export function l2cap_cid_is_dynamic(cid: number): boolean {
  return cid >= L2CAP_CID_DYNAMIC_FIRST && cid <= L2CAP_CID_DYNAMIC_LAST;
}

/** Write the basic header (length, cid) at buf[pos]; returns 4, or -1 when it does not fit. */
export function l2cap_header_write(buf: Uint8Array, pos: number, length: number, cid: number): number {
  if (pos < 0 || pos + L2CAP_HEADER_SIZE > buf.length) return -1;
  little_endian_store_16(buf, pos, length);
  little_endian_store_16(buf, pos + 2, cid);
  return L2CAP_HEADER_SIZE;
}

/** The Length field of the header at buf[pos] (0 for bytes past the end). */
export function l2cap_header_get_length(buf: Uint8Array, pos = 0): number {
  return little_endian_read_16(buf, pos);
}

/** The Channel ID field of the header at buf[pos] (0 for bytes past the end). */
export function l2cap_header_get_cid(buf: Uint8Array, pos = 0): number {
  return little_endian_read_16(buf, pos + 2);
}

/** Outcome of checking a reassembled L2CAP PDU against its header. */
export type L2capPduCheck =
  /** Header present and Length equal to the payload bytes present. */
  | 'ok'
  /** Fewer than 4 bytes: no complete basic header. */
  | 'short-header'
  /** Length field larger than the payload present (truncated PDU, or a lying length). */
  | 'truncated'
  /** Bytes present beyond the Length field (data beyond the PDU). */
  | 'excess';

/**
 * Check the `size` bytes at buf[pos] as one complete PDU. The receiver drops anything but 'ok'
 * (HCI delivers complete PDUs; a basic-mode PDU whose length does not match cannot be trusted).
 * `size` is clamped to the bytes actually in `buf`.
 */
export function l2cap_pdu_check(buf: Uint8Array, pos: number, size: number): L2capPduCheck {
  const avail = Math.max(0, Math.min(size, buf.length - pos));
  if (avail < L2CAP_HEADER_SIZE) return 'short-header';
  const len = little_endian_read_16(buf, pos);
  const payload = avail - L2CAP_HEADER_SIZE;
  if (len > payload) return 'truncated';
  if (len < payload) return 'excess';
  return 'ok';
}
