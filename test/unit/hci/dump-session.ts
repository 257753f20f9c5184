/** Shared by dump.test.ts and dump-control.test.ts: a hand-written HCI session and clock helpers. */
import { HciDump } from '../../../src/hci/dump.js';
import { fromHex } from '../../../src/core/bytes.js';

export const CMD = 1,
  ACL = 2,
  SCO = 3,
  EVT = 4,
  ISO = 5;
export const OUT = 0,
  IN = 1;

/**
 * A connection's worth of packets, hand-written from the Core spec (Vol 4 Part E for HCI,
 * Vol 3 Part A for L2CAP). HCI packets without the H4 type byte; multi-byte fields little endian.
 */
export const SESSION: [type: number, incoming: number, hex: string][] = [
  // HCI_Reset: opcode 0x0C03 (OGF 0x03, OCF 0x003), no parameters
  [CMD, OUT, '03 0c 00'],
  // Command Complete (0x0E), len 4: Num_HCI_Command_Packets 1, opcode 0x0C03, status 0
  [EVT, IN, '0e 04 01 03 0c 00'],
  // HCI_Read_BD_ADDR: opcode 0x1009 (OGF 0x04, OCF 0x009)
  [CMD, OUT, '09 10 00'],
  // Command Complete, len 10: 1, 0x1009, status 0, BD_ADDR 11:22:33:44:55:66 (reversed on the wire)
  [EVT, IN, '0e 0a 01 09 10 00 66 55 44 33 22 11'],
  // Connection Complete (0x03), len 11: status 0, handle 0x000B, BD_ADDR AA:BB:CC:DD:EE:FF, link type ACL 1, encryption off
  [EVT, IN, '03 0b 00 0b 00 ff ee dd cc bb aa 01 00'],
  // ACL handle 0x000B, PB 10 (first, flushable), 12 bytes: L2CAP len 8, CID 1 (signalling),
  // Connection Request code 0x02, ident 1, len 4, PSM 0x1001, source CID 0x0040
  [ACL, OUT, '0b 20 0c 00  08 00 01 00  02 01 04 00 01 10 40 00'],
  // Number Of Completed Packets (0x13), len 5: 1 handle, 0x000B, 1 packet
  [EVT, IN, '13 05 01 0b 00 01 00'],
  // Connection Response code 0x03, ident 1, len 8: DCID 0x0041, SCID 0x0040, result 0 success, status 0
  [ACL, IN, '0b 20 10 00  0c 00 01 00  03 01 08 00 41 00 40 00 00 00 00 00'],
  // Information Request code 0x0A, ident 2, len 2: InfoType 0x0002 (extended features)
  [ACL, OUT, '0b 20 0a 00  06 00 01 00  0a 02 02 00 02 00'],
  // Information Response code 0x0B, ident 2, len 8: InfoType 2, result 0, features 0x00000080 (fixed channels)
  [ACL, IN, '0b 20 10 00  0c 00 01 00  0b 02 08 00 02 00 00 00 80 00 00 00'],
  // Disconnection Complete (0x05), len 4: status 0, handle 0x000B, reason 0x13 remote user terminated
  [EVT, IN, '05 04 00 0b 00 13'],
];

export const T0 = 1_700_000_000_123_456; // 2023-11-14T22:13:20.123456Z in microseconds
export function stepClock(start = T0, step = 1000) {
  let n = 0;
  const clock = () => start + step * n++;
  return { clock, calls: () => n };
}

export function writeSession(dump: HciDump, packets = SESSION): void {
  for (const [t, inc, h] of packets) {
    const p = fromHex(h.replace(/\s+/g, ''));
    dump.log_packet(t, inc, p, p.length);
  }
}

export function bytesOf(h: string): number[] {
  return Array.from(fromHex(h.replace(/\s+/g, '')));
}

// ------------------------------------------------------------------ exact bytes
