/**
 * GAP events derived from controller reports, as BTstack's gap_inquiry_explode and
 * le_handle_advertisement_report: one GAP_EVENT_INQUIRY_RESULT per inquiry response (name and
 * Device ID taken from the EIR, the name shortened to GAP_INQUIRY_MAX_NAME_LEN), one
 * GAP_EVENT_ADVERTISING_REPORT per advertising report. A malformed event emits nothing.
 */
import { little_endian_read_16, little_endian_read_24, reverse_bd_addr } from '../core/bytes.js';
import type { HciState } from './hci-state.js';

/** Names in GAP_EVENT_INQUIRY_RESULT are shortened to this many bytes (BTstack's GAP_INQUIRY_MAX_NAME_LEN). */
export const GAP_INQUIRY_MAX_NAME_LEN = 32;

/** EIR data types read here. */
const BLUETOOTH_DATA_TYPE_SHORTENED_LOCAL_NAME = 0x08;
const BLUETOOTH_DATA_TYPE_COMPLETE_LOCAL_NAME = 0x09;
const BLUETOOTH_DATA_TYPE_DEVICE_ID = 0x10;

/** Which HCI event carried the responses: Inquiry Result, ... with RSSI, Extended Inquiry Response. */
export type InquiryResultKind = 'standard' | 'rssi' | 'eir';

/** Where GAP events go (hci-emit.ts). */
export interface GapEventOut {
  /** A scratch buffer for building an event at the current nesting depth. */
  buffer(): Uint8Array;
  emit(packet: Uint8Array, size: number): void;
}

export class GapReports {
  constructor(
    private readonly s: HciState,
    private readonly out: GapEventOut,
  ) {}

  /**
   * HCI Inquiry Result / with RSSI / Extended Inquiry Response: one GAP_EVENT_INQUIRY_RESULT per
   * response. Returns false when the event is malformed (nothing emitted).
   */
  inquiry_result(packet: Uint8Array, size: number, kind: InquiryResultKind): boolean {
    const num = packet[2] ?? 0;
    const itemSize = 14;
    const eir = kind === 'eir';
    const need = eir ? 3 + itemSize + 240 : 3 + num * itemSize;
    if (num === 0 || size < (eir ? 3 + itemSize : need)) return false;
    const count = eir ? 1 : num;
    const name = this.scratchName;
    for (let i = 0; i < count; i++) {
      const o = 3 + i * itemSize;
      const addr = reverse_bd_addr(packet, o, this.scratchAddr);
      const psrm = packet[o + 6]!;
      let cod: number;
      let clock: number;
      let rssiAvailable = 0;
      let rssi = 0;
      if (kind === 'standard') {
        // bd_addr, psrm, reserved(2), class_of_device, clock_offset
        cod = little_endian_read_24(packet, o + 9);
        clock = little_endian_read_16(packet, o + 12);
      } else {
        // bd_addr, psrm, reserved(1), class_of_device, clock_offset, rssi
        cod = little_endian_read_24(packet, o + 8);
        clock = little_endian_read_16(packet, o + 11);
        rssiAvailable = 1;
        rssi = packet[o + 13]!;
      }
      let nameLen = 0;
      let nameAvailable = 0;
      let didAvailable = 0;
      let didSource = 0;
      let didVendor = 0;
      let didProduct = 0;
      let didVersion = 0;
      if (eir) {
        const start = 3 + itemSize;
        const end = Math.min(size, start + 240);
        let shortName = -1;
        let shortLen = 0;
        for (let p = start; p < end;) {
          const len = packet[p]!;
          if (len === 0 || p + 1 + len > end) break;
          const type = packet[p + 1]!;
          const dataPos = p + 2;
          const dataLen = len - 1;
          if (type === BLUETOOTH_DATA_TYPE_COMPLETE_LOCAL_NAME && !nameAvailable) {
            nameLen = Math.min(dataLen, GAP_INQUIRY_MAX_NAME_LEN);
            name.set(packet.subarray(dataPos, dataPos + nameLen));
            nameAvailable = 1;
          } else if (type === BLUETOOTH_DATA_TYPE_SHORTENED_LOCAL_NAME && shortName < 0) {
            shortName = dataPos;
            shortLen = Math.min(dataLen, GAP_INQUIRY_MAX_NAME_LEN);
          } else if (type === BLUETOOTH_DATA_TYPE_DEVICE_ID && dataLen >= 8) {
            didAvailable = 1;
            didSource = little_endian_read_16(packet, dataPos);
            didVendor = little_endian_read_16(packet, dataPos + 2);
            didProduct = little_endian_read_16(packet, dataPos + 4);
            didVersion = little_endian_read_16(packet, dataPos + 6);
          }
          p += 1 + len;
        }
        if (!nameAvailable && shortName >= 0) {
          nameLen = shortLen;
          name.set(packet.subarray(shortName, shortName + nameLen));
          nameAvailable = 1;
        }
      }
      const buf = this.out.buffer();
      const n = this.s.codes.gap_event_inquiry_result_build(
        buf,
        0,
        addr,
        psrm,
        cod,
        clock,
        rssiAvailable,
        rssi,
        didAvailable,
        didSource,
        didVendor,
        didProduct,
        didVersion,
        nameAvailable,
        name.subarray(0, nameLen),
      );
      if (n > 0) this.out.emit(buf, n);
    }
    return true;
  }

  /** LE Advertising Report: one GAP_EVENT_ADVERTISING_REPORT per report. False when malformed. */
  advertising_report(packet: Uint8Array, size: number): boolean {
    const num = packet[3] ?? 0;
    let p = 4;
    // validate first, so a malformed event emits nothing
    for (let i = 0; i < num; i++) {
      if (p + 9 > size) return false;
      const len = packet[p + 8]!;
      if (len > 31 || p + 9 + len + 1 > size) return false;
      p += 9 + len + 1;
    }
    p = 4;
    for (let i = 0; i < num; i++) {
      const type = packet[p]!;
      const addrType = packet[p + 1]!;
      const addr = reverse_bd_addr(packet, p + 2, this.scratchAddr);
      const len = packet[p + 8]!;
      const data = packet.subarray(p + 9, p + 9 + len);
      const rssi = packet[p + 9 + len]!;
      const buf = this.out.buffer();
      const n = this.s.codes.gap_event_advertising_report_build(buf, 0, type, addrType, addr, rssi, data);
      if (n > 0) this.out.emit(buf, n);
      p += 9 + len + 1;
    }
    return true;
  }

  private readonly scratchAddr = new Uint8Array(6);
  private readonly scratchName = new Uint8Array(GAP_INQUIRY_MAX_NAME_LEN);
}
