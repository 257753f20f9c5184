/**
 * One packet read from an HCI socket (sans-I/O). The kernel hands the HCI user channel one whole
 * packet per read, led by its H4 packet type byte; this checks that the length in the packet's
 * header matches what was read, so a packet cut short by the reader's buffer
 * (@stoprocent/bluetooth-hci-socket reads into 1024 bytes) or any garbage is reported, never parsed.
 */
import { HCI_ACL_DATA_PACKET, HCI_EVENT_PACKET, HCI_SCO_DATA_PACKET } from '../../src/codes/v1.4.js';

/** ISO data (Core 5.2 Vol 4 Part A 2: packet indicator 0x05; BTstack 1.4 has no name for it). */
const ISO_PACKET = 5;

/** Header length of each packet type the host receives (type byte not counted). */
function headerLength(type: number): number {
  switch (type) {
    case HCI_ACL_DATA_PACKET:
      return 4;
    case HCI_SCO_DATA_PACKET:
      return 3;
    case HCI_EVENT_PACKET:
      return 2;
    case ISO_PACKET:
      return 4;
    default:
      return -1;
  }
}

/** Parameter / data length the header announces (header at `pos`). */
function announced(type: number, b: Uint8Array, pos: number): number {
  switch (type) {
    case HCI_ACL_DATA_PACKET:
      return b[pos + 2]! | (b[pos + 3]! << 8);
    case HCI_SCO_DATA_PACKET:
      return b[pos + 2]!;
    case HCI_EVENT_PACKET:
      return b[pos + 1]!;
    default: // ISO: 14-bit length
      return (b[pos + 2]! | (b[pos + 3]! << 8)) & 0x3fff;
  }
}

/** What a datagram holds: the packet (without the type byte) at [offset, offset + size), or a problem. */
export type HciDatagram = { ok: true; type: number; offset: number; size: number } | { ok: false; error: string };

/** Check one datagram of `length` bytes: type byte, header, and a length that matches the header. Never throws. */
export function hci_datagram_check(b: Uint8Array, length: number = b.length): HciDatagram {
  if (length < 1) return { ok: false, error: 'empty read' };
  const type = b[0]!;
  const header = headerLength(type);
  if (header < 0) return { ok: false, error: `unknown packet type 0x${type.toString(16).padStart(2, '0')} (${length} bytes)` };
  if (length < 1 + header)
    return { ok: false, error: `packet type ${type}: ${length - 1} bytes, shorter than its ${header}-byte header` };
  const want = header + announced(type, b, 1);
  if (length - 1 !== want) {
    return {
      ok: false,
      error: `packet type ${type}: header announces ${want} bytes, ${length - 1} read${length - 1 < want ? ' (cut short)' : ''}`,
    };
  }
  return { ok: true, type, offset: 1, size: want };
}
