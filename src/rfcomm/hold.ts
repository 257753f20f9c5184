/**
 * Data a peer sends on a DLC after the SABM/UA exchange but before this side reports the channel
 * with RFCOMM_EVENT_CHANNEL_OPENED (the MSC exchange and the initial credits come first). TS 07.10
 * lets the peer send as soon as its SABM was answered (and RFCOMM as soon as it holds credits),
 * but the application has not heard of the rfcomm_cid yet: the frames wait here, in order, and
 * are handed over right after CHANNEL_OPENED.
 *
 * Bounds (fixed memory, nothing is lost silently):
 * - Credit-based flow control: before the channel is open at most RFCOMM_HOLD_FRAMES credits are
 *   outstanding or used (`preOpenRoom`), the rest of the initial credits follow once it is open,
 *   so every frame the peer may send fits.
 * - TS 07.10 flow control (no credits): once the buffer is two frames short of full, our MSC
 *   carries FC = 1 (the peer "is unable to accept frames", TS 07.10 5.4.6.3.7) until the
 *   channel is open; a frame beyond that is a flow-control violation, discarded with an error log.
 * The buffer is the channel record's own (made on first use, grown only past any size before,
 * at most RFCOMM_HOLD_FRAMES * (max frame size + 2) octets) and is reused with the record.
 */
import { F_CREDIT_FLOW, RFCOMM_HOLD_FRAMES, type RfcommChannel } from './rfcomm-objects.js';

export { RFCOMM_HOLD_FRAMES, preOpenRoom } from './rfcomm-objects.js';

/** Octets a frame takes in the hold buffer besides its data (its length). */
const HOLD_HEADER = 2;

/** Append `len` octets of `src` from `pos`; false when they do not fit. */
export function holdPut(ch: RfcommChannel, src: Uint8Array, pos: number, len: number): boolean {
  if (ch.hold_count >= RFCOMM_HOLD_FRAMES || len > ch.max_frame_size) return false;
  const need = RFCOMM_HOLD_FRAMES * (ch.max_frame_size + HOLD_HEADER);
  let buf = ch.hold;
  if (!buf || buf.length < need) {
    // first use, or a DLC with a larger frame size than any before on this record
    const grown = new Uint8Array(need);
    if (buf) grown.set(buf.subarray(0, ch.hold_len));
    buf = ch.hold = grown;
  }
  const at = ch.hold_len;
  if (at + HOLD_HEADER + len > buf.length) return false;
  buf[at] = len & 0xff;
  buf[at + 1] = len >> 8;
  buf.set(src.subarray(pos, pos + len), at + HOLD_HEADER);
  ch.hold_len = at + HOLD_HEADER + len;
  ch.hold_count++;
  return true;
}

/** Without credit-based flow control: time to ask the peer to stop (FC = 1 in our MSC). */
export function holdNearlyFull(ch: RfcommChannel): boolean {
  return !ch.has(F_CREDIT_FLOW) && ch.hold_count >= RFCOMM_HOLD_FRAMES - 2;
}

/**
 * Length of the oldest held frame, -1 when nothing is held. The oldest frame is always at the
 * front (its data at HOLD_DATA_OFFSET), so one view of the buffer serves every frame.
 */
export function holdFirstLen(ch: RfcommChannel): number {
  const buf = ch.hold;
  if (!buf || ch.hold_count === 0) return -1;
  return buf[0]! | (buf[1]! << 8);
}

/** Drop the oldest held frame (the rest moves to the front). */
export function holdDropFirst(ch: RfcommChannel): void {
  const buf = ch.hold!;
  const size = HOLD_HEADER + (buf[0]! | (buf[1]! << 8));
  buf.copyWithin(0, size, ch.hold_len);
  ch.hold_len -= size;
  ch.hold_count--;
}

/** Offset of a held frame's data in the buffer (the view handed to the application starts here). */
export const HOLD_DATA_OFFSET = HOLD_HEADER;
