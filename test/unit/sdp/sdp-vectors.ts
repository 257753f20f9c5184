/**
 * SDP byte vectors worked out by hand from the Core spec (Vol 3 Part B 3, 5.1) and SPP 1.2
 * section 7; not produced by our encoder.
 */
import { fromHex } from '../../../src/core/bytes.js';

/**
 * The SPP record BTstack's spp_counter registers (handle 0x10001, RFCOMM channel 1, "SPP Counter"):
 */
export const SPP_RECORD_BODY = [
  '09 00 00 0a 00 01 00 01', // 0x0000 ServiceRecordHandle = uint32 0x00010001             (8)
  '09 00 01 36 00 03 19 11 01', // 0x0001 ServiceClassIDList = { UUID16 SerialPort }      (9)
  '09 00 04 36 00 0e 36 00 03 19 01 00 36 00 05 19 00 03 08 01', // 0x0004 { {L2CAP} {RFCOMM, 1} } (20)
  '09 00 05 36 00 03 19 10 02', // 0x0005 BrowseGroupList = { PublicBrowseRoot }         (9)
  '09 00 06 36 00 09 09 65 6e 09 00 6a 09 01 00', // 0x0006 LanguageBase { "en", UTF-8, 0x0100 } (15)
  '09 00 09 36 00 09 36 00 06 19 11 01 09 01 02', // 0x0009 ProfileDescriptorList { {SerialPort, 0x0102} } (15)
  '09 01 00 25 0b 53 50 50 20 43 6f 75 6e 74 65 72', // 0x0100 ServiceName "SPP Counter" (16)
].join(' ');
/** 8 + 9 + 20 + 9 + 15 + 15 + 16 = 92 = 0x5c octets in the record DES. */
export const SPP_RECORD = fromHex('36 00 5c ' + SPP_RECORD_BODY);

/** A second record: handle 0x10002, class 0x1105 (OBEX Object Push), PublicBrowseRoot, name "Push" (3 + 8 + 9 + 9 + 9 = 38 octets). */
export const OPP_RECORD = fromHex(
  '36 00 23 09 00 00 0a 00 01 00 02 09 00 01 36 00 03 19 11 05 09 00 05 36 00 03 19 10 02 09 01 00 25 04 50 75 73 68',
);

/**
 * The same SPP record as bthost's spp_create_sdp_record writes it: every sequence with an 8-bit
 * length (0x35), which Wireshark's dissector reads correctly.
 */
export const SPP_RECORD_COMPACT_BODY = [
  '09 00 00 0a 00 01 00 01', // 0x0000 ServiceRecordHandle                                  (8)
  '09 00 01 35 03 19 11 01', // 0x0001 { SerialPort }                                       (8)
  '09 00 04 35 0c 35 03 19 01 00 35 05 19 00 03 08 01', // 0x0004 { {L2CAP} {RFCOMM, 1} }   (17)
  '09 00 05 35 03 19 10 02', // 0x0005 { PublicBrowseRoot }                                 (8)
  '09 00 06 35 09 09 65 6e 09 00 6a 09 01 00', // 0x0006 { "en", UTF-8, 0x0100 }           (14)
  '09 00 09 35 08 35 06 19 11 01 09 01 02', // 0x0009 { {SerialPort, 0x0102} }             (13)
  '09 01 00 25 0b 53 50 50 20 43 6f 75 6e 74 65 72', // 0x0100 "SPP Counter"               (16)
].join(' ');
/** 8 + 8 + 17 + 8 + 14 + 13 + 16 = 84 = 0x54. */
export const SPP_RECORD_COMPACT = fromHex('35 54 ' + SPP_RECORD_COMPACT_BODY);
