/**
 * HCI event encoders (Vol 4 Part E 7.7), written straight into the controller's host queue.
 * Each method checks the host's event masks first and writes nothing when the event is masked
 * (returns false). Command Complete / Command Status / Number Of Completed Packets cannot be
 * masked. Addresses are BdAddr (display order) and go on the wire reversed.
 */
import type { BdAddr } from '../core/bytes.js';
import * as C from './codes.js';
import { event_mask_bit, mask_has } from './defs.js';
import type { HostQueue } from './host-queue.js';

export interface EventMasks {
  event_mask_lo: number;
  event_mask_hi: number;
  le_event_mask_lo: number;
  le_event_mask_hi: number;
}

const H4_EVENT = 0x04;
const LE_META_BIT = 61;

/** Reports a controller drops first when its host is not taking events. */
const discardable = (code: number): boolean =>
  code === C.HCI_EVENT_INQUIRY_RESULT ||
  code === C.HCI_EVENT_INQUIRY_RESULT_WITH_RSSI ||
  code === C.HCI_EVENT_EXTENDED_INQUIRY_RESPONSE;
const discardableLe = (sub: number): boolean => sub === C.HCI_SUBEVENT_LE_ADVERTISING_REPORT;

export class Events {
  private b: Uint8Array = new Uint8Array(0);
  private p = 0;

  constructor(
    private readonly q: HostQueue,
    private readonly masks: EventMasks,
  ) {}

  /** Whether the host would receive this event code (and LE subevent). */
  enabled(code: number, sub = 0): boolean {
    const m = this.masks;
    if (!mask_has(m.event_mask_lo, m.event_mask_hi, event_mask_bit(code))) return false;
    if (code === C.HCI_EVENT_LE_META) {
      if (!mask_has(m.event_mask_lo, m.event_mask_hi, LE_META_BIT)) return false;
      return mask_has(m.le_event_mask_lo, m.le_event_mask_hi, sub - 1);
    }
    return true;
  }

  // ---- writer primitives ----
  private begin(code: number, len: number): boolean {
    if (!this.enabled(code)) return false;
    const off = this.q.reserve(H4_EVENT, len + 2, discardable(code));
    this.b = this.q.buf;
    this.b[off] = code;
    this.b[off + 1] = len;
    this.p = off + 2;
    return true;
  }
  /** Begin an event that cannot be masked. */
  private beginAlways(code: number, len: number): void {
    const off = this.q.reserve(H4_EVENT, len + 2);
    this.b = this.q.buf;
    this.b[off] = code;
    this.b[off + 1] = len;
    this.p = off + 2;
  }
  private beginLe(sub: number, len: number): boolean {
    if (!this.enabled(C.HCI_EVENT_LE_META, sub)) return false;
    const off = this.q.reserve(H4_EVENT, len + 3, discardableLe(sub));
    this.b = this.q.buf;
    this.b[off] = C.HCI_EVENT_LE_META;
    this.b[off + 1] = len + 1;
    this.b[off + 2] = sub;
    this.p = off + 3;
    return true;
  }
  private u8(v: number): void {
    this.b[this.p++] = v & 0xff;
  }
  private u16(v: number): void {
    this.b[this.p++] = v & 0xff;
    this.b[this.p++] = (v >>> 8) & 0xff;
  }
  private u24(v: number): void {
    this.u16(v & 0xffff);
    this.u8(v >>> 16);
  }
  private u32(v: number): void {
    this.u16(v & 0xffff);
    this.u16(Math.floor(v / 0x10000) & 0xffff);
  }
  private addr(a: BdAddr): void {
    for (let i = 5; i >= 0; i--) this.b[this.p++] = a[i] ?? 0;
  }
  /** Copy exactly n bytes (zero padded). */
  private bytes(src: Uint8Array, n: number): void {
    const k = Math.min(n, src.length);
    this.b.set(src.subarray(0, k), this.p);
    this.b.fill(0, this.p + k, this.p + n);
    this.p += n;
  }

  // ---- command flow (never masked) ----

  /**
   * Command Complete header; returns the offset in `buf` where `ret_len` bytes of return
   * parameters go (the caller writes them into `this.buffer`).
   */
  command_complete(opcode: number, ret_len: number): number {
    this.beginAlways(C.HCI_EVENT_COMMAND_COMPLETE, 3 + ret_len);
    this.u8(1);
    this.u16(opcode);
    return this.p;
  }
  get buffer(): Uint8Array {
    return this.b;
  }
  command_status(status: number, opcode: number): void {
    this.beginAlways(C.HCI_EVENT_COMMAND_STATUS, 4);
    this.u8(status);
    this.u8(1);
    this.u16(opcode);
  }
  /** Number Of Completed Packets for up to 63 (handle, count) pairs (flat array). */
  number_of_completed_packets(pairs: readonly number[], from: number, count: number): void {
    this.beginAlways(C.HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS, 1 + 4 * count);
    this.u8(count);
    for (let i = 0; i < count; i++) {
      this.u16(pairs[2 * (from + i)]!);
      this.u16(pairs[2 * (from + i) + 1]!);
    }
  }

  // ---- classic ----
  inquiry_complete(status: number): boolean {
    if (!this.begin(C.HCI_EVENT_INQUIRY_COMPLETE, 1)) return false;
    this.u8(status);
    return true;
  }
  inquiry_result(addr: BdAddr, psrm: number, cod: number, clock_offset: number): boolean {
    if (!this.begin(C.HCI_EVENT_INQUIRY_RESULT, 15)) return false;
    this.u8(1);
    this.addr(addr);
    this.u8(psrm);
    this.u16(0); // reserved (formerly page scan period mode, page scan mode)
    this.u24(cod);
    this.u16(clock_offset);
    return true;
  }
  inquiry_result_with_rssi(addr: BdAddr, psrm: number, cod: number, clock_offset: number, rssi: number): boolean {
    if (!this.begin(C.HCI_EVENT_INQUIRY_RESULT_WITH_RSSI, 15)) return false;
    this.u8(1);
    this.addr(addr);
    this.u8(psrm);
    this.u8(0); // reserved
    this.u24(cod);
    this.u16(clock_offset);
    this.u8(rssi);
    return true;
  }
  extended_inquiry_result(addr: BdAddr, psrm: number, cod: number, clock_offset: number, rssi: number, eir: Uint8Array): boolean {
    if (!this.begin(C.HCI_EVENT_EXTENDED_INQUIRY_RESPONSE, 255)) return false;
    this.u8(1);
    this.addr(addr);
    this.u8(psrm);
    this.u8(0);
    this.u24(cod);
    this.u16(clock_offset);
    this.u8(rssi);
    this.bytes(eir, 240);
    return true;
  }
  connection_complete(status: number, handle: number, addr: BdAddr, link_type: number, encryption: number): boolean {
    if (!this.begin(C.HCI_EVENT_CONNECTION_COMPLETE, 11)) return false;
    this.u8(status);
    this.u16(handle);
    this.addr(addr);
    this.u8(link_type);
    this.u8(encryption);
    return true;
  }
  connection_request(addr: BdAddr, cod: number, link_type: number): boolean {
    if (!this.begin(C.HCI_EVENT_CONNECTION_REQUEST, 10)) return false;
    this.addr(addr);
    this.u24(cod);
    this.u8(link_type);
    return true;
  }
  disconnection_complete(status: number, handle: number, reason: number): boolean {
    if (!this.begin(C.HCI_EVENT_DISCONNECTION_COMPLETE, 4)) return false;
    this.u8(status);
    this.u16(handle);
    this.u8(reason);
    return true;
  }
  authentication_complete(status: number, handle: number): boolean {
    if (!this.begin(C.HCI_EVENT_AUTHENTICATION_COMPLETE, 3)) return false;
    this.u8(status);
    this.u16(handle);
    return true;
  }
  remote_name_request_complete(status: number, addr: BdAddr, name: Uint8Array): boolean {
    if (!this.begin(C.HCI_EVENT_REMOTE_NAME_REQUEST_COMPLETE, 255)) return false;
    this.u8(status);
    this.addr(addr);
    this.bytes(name, 248);
    return true;
  }
  encryption_change(status: number, handle: number, enabled: number): boolean {
    if (!this.begin(C.HCI_EVENT_ENCRYPTION_CHANGE, 4)) return false;
    this.u8(status);
    this.u16(handle);
    this.u8(enabled);
    return true;
  }
  read_remote_supported_features_complete(status: number, handle: number, features: Uint8Array): boolean {
    if (!this.begin(C.HCI_EVENT_READ_REMOTE_SUPPORTED_FEATURES_COMPLETE, 11)) return false;
    this.u8(status);
    this.u16(handle);
    this.bytes(features, 8);
    return true;
  }
  read_remote_version_information_complete(
    status: number,
    handle: number,
    version: number,
    manufacturer: number,
    subversion: number,
  ): boolean {
    if (!this.begin(C.HCI_EVENT_READ_REMOTE_VERSION_INFORMATION_COMPLETE, 8)) return false;
    this.u8(status);
    this.u16(handle);
    this.u8(version);
    this.u16(manufacturer);
    this.u16(subversion);
    return true;
  }
  hardware_error(code: number): boolean {
    if (!this.begin(C.HCI_EVENT_HARDWARE_ERROR, 1)) return false;
    this.u8(code);
    return true;
  }
  role_change(status: number, addr: BdAddr, role: number): boolean {
    if (!this.begin(C.HCI_EVENT_ROLE_CHANGE, 8)) return false;
    this.u8(status);
    this.addr(addr);
    this.u8(role);
    return true;
  }
  mode_change(status: number, handle: number, mode: number, interval: number): boolean {
    if (!this.begin(C.HCI_EVENT_MODE_CHANGE, 6)) return false;
    this.u8(status);
    this.u16(handle);
    this.u8(mode);
    this.u16(interval);
    return true;
  }
  pin_code_request(addr: BdAddr): boolean {
    if (!this.begin(C.HCI_EVENT_PIN_CODE_REQUEST, 6)) return false;
    this.addr(addr);
    return true;
  }
  link_key_request(addr: BdAddr): boolean {
    if (!this.begin(C.HCI_EVENT_LINK_KEY_REQUEST, 6)) return false;
    this.addr(addr);
    return true;
  }
  /** `key` in HCI wire order (as the hosts send and receive it). */
  link_key_notification(addr: BdAddr, key: Uint8Array, key_type: number): boolean {
    if (!this.begin(C.HCI_EVENT_LINK_KEY_NOTIFICATION, 23)) return false;
    this.addr(addr);
    this.bytes(key, 16);
    this.u8(key_type);
    return true;
  }
  data_buffer_overflow(link_type: number): boolean {
    if (!this.begin(C.HCI_EVENT_DATA_BUFFER_OVERFLOW, 1)) return false;
    this.u8(link_type);
    return true;
  }
  read_remote_extended_features_complete(
    status: number,
    handle: number,
    page: number,
    max_page: number,
    features: Uint8Array,
  ): boolean {
    if (!this.begin(C.HCI_EVENT_READ_REMOTE_EXTENDED_FEATURES_COMPLETE, 13)) return false;
    this.u8(status);
    this.u16(handle);
    this.u8(page);
    this.u8(max_page);
    this.bytes(features, 8);
    return true;
  }
  encryption_key_refresh_complete(status: number, handle: number): boolean {
    if (!this.begin(C.HCI_EVENT_ENCRYPTION_KEY_REFRESH_COMPLETE, 3)) return false;
    this.u8(status);
    this.u16(handle);
    return true;
  }
  io_capability_request(addr: BdAddr): boolean {
    if (!this.begin(C.HCI_EVENT_IO_CAPABILITY_REQUEST, 6)) return false;
    this.addr(addr);
    return true;
  }
  io_capability_response(addr: BdAddr, io: number, oob: number, auth_req: number): boolean {
    if (!this.begin(C.HCI_EVENT_IO_CAPABILITY_RESPONSE, 9)) return false;
    this.addr(addr);
    this.u8(io);
    this.u8(oob);
    this.u8(auth_req);
    return true;
  }
  user_confirmation_request(addr: BdAddr, value: number): boolean {
    if (!this.begin(C.HCI_EVENT_USER_CONFIRMATION_REQUEST, 10)) return false;
    this.addr(addr);
    this.u32(value);
    return true;
  }
  user_passkey_request(addr: BdAddr): boolean {
    if (!this.begin(C.HCI_EVENT_USER_PASSKEY_REQUEST, 6)) return false;
    this.addr(addr);
    return true;
  }
  simple_pairing_complete(status: number, addr: BdAddr): boolean {
    if (!this.begin(C.HCI_EVENT_SIMPLE_PAIRING_COMPLETE, 7)) return false;
    this.u8(status);
    this.addr(addr);
    return true;
  }
  user_passkey_notification(addr: BdAddr, passkey: number): boolean {
    if (!this.begin(C.HCI_EVENT_USER_PASSKEY_NOTIFICATION, 10)) return false;
    this.addr(addr);
    this.u32(passkey);
    return true;
  }
  remote_host_supported_features(addr: BdAddr, features: Uint8Array): boolean {
    if (!this.begin(C.HCI_EVENT_REMOTE_HOST_SUPPORTED_FEATURES, 14)) return false;
    this.addr(addr);
    this.bytes(features, 8);
    return true;
  }

  // ---- LE ----
  le_connection_complete(
    status: number,
    handle: number,
    role: number,
    peer_type: number,
    peer: BdAddr,
    interval: number,
    latency: number,
    timeout: number,
    sca: number,
  ): boolean {
    if (!this.beginLe(C.HCI_SUBEVENT_LE_CONNECTION_COMPLETE, 18)) return false;
    this.u8(status);
    this.u16(handle);
    this.u8(role);
    this.u8(peer_type);
    this.addr(peer);
    this.u16(interval);
    this.u16(latency);
    this.u16(timeout);
    this.u8(sca);
    return true;
  }
  le_enhanced_connection_complete(
    status: number,
    handle: number,
    role: number,
    peer_type: number,
    peer: BdAddr,
    interval: number,
    latency: number,
    timeout: number,
    sca: number,
    local_rpa: BdAddr | null = null,
    peer_rpa: BdAddr | null = null,
  ): boolean {
    if (!this.beginLe(C.HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE, 30)) return false;
    this.u8(status);
    this.u16(handle);
    this.u8(role);
    this.u8(peer_type);
    this.addr(peer);
    // the resolvable private addresses used (zeros: none; controller-privacy.ts)
    if (local_rpa) this.addr(local_rpa);
    else this.bytes(EMPTY, 6);
    if (peer_rpa) this.addr(peer_rpa);
    else this.bytes(EMPTY, 6);
    this.u16(interval);
    this.u16(latency);
    this.u16(timeout);
    this.u8(sca);
    return true;
  }
  le_advertising_report(
    event_type: number,
    addr_type: number,
    addr: BdAddr,
    data: Uint8Array,
    data_len: number,
    rssi: number,
  ): boolean {
    if (!this.beginLe(C.HCI_SUBEVENT_LE_ADVERTISING_REPORT, 11 + data_len)) return false;
    this.u8(1);
    this.u8(event_type);
    this.u8(addr_type);
    this.addr(addr);
    this.u8(data_len);
    this.bytes(data, data_len);
    this.u8(rssi);
    return true;
  }
  le_connection_update_complete(status: number, handle: number, interval: number, latency: number, timeout: number): boolean {
    if (!this.beginLe(C.HCI_SUBEVENT_LE_CONNECTION_UPDATE_COMPLETE, 9)) return false;
    this.u8(status);
    this.u16(handle);
    this.u16(interval);
    this.u16(latency);
    this.u16(timeout);
    return true;
  }
  le_read_remote_features_complete(status: number, handle: number, features: Uint8Array): boolean {
    if (!this.beginLe(C.HCI_SUBEVENT_LE_READ_REMOTE_USED_FEATURES_COMPLETE, 11)) return false;
    this.u8(status);
    this.u16(handle);
    this.bytes(features, 8);
    return true;
  }
  /** `rand` in wire order (8 bytes), as the central's host sent it. */
  le_long_term_key_request(handle: number, rand: Uint8Array, ediv: number): boolean {
    if (!this.beginLe(C.HCI_SUBEVENT_LE_LONG_TERM_KEY_REQUEST, 12)) return false;
    this.u16(handle);
    this.bytes(rand, 8);
    this.u16(ediv);
    return true;
  }
  le_data_length_change(handle: number, tx_octets: number, tx_time: number, rx_octets: number, rx_time: number): boolean {
    if (!this.beginLe(C.HCI_SUBEVENT_LE_DATA_LENGTH_CHANGE, 10)) return false;
    this.u16(handle);
    this.u16(tx_octets);
    this.u16(tx_time);
    this.u16(rx_octets);
    this.u16(rx_time);
    return true;
  }
  le_remote_connection_parameter_request(handle: number, min: number, max: number, latency: number, timeout: number): boolean {
    if (!this.beginLe(C.HCI_SUBEVENT_LE_REMOTE_CONNECTION_PARAMETER_REQUEST, 10)) return false;
    this.u16(handle);
    this.u16(min);
    this.u16(max);
    this.u16(latency);
    this.u16(timeout);
    return true;
  }
  le_phy_update_complete(status: number, handle: number, tx_phy: number, rx_phy: number): boolean {
    if (!this.beginLe(C.HCI_SUBEVENT_LE_PHY_UPDATE_COMPLETE, 5)) return false;
    this.u8(status);
    this.u16(handle);
    this.u8(tx_phy);
    this.u8(rx_phy);
    return true;
  }
}

const EMPTY = new Uint8Array(0);
