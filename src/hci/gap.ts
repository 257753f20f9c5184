/**
 * GAP basics with BTstack's names (gap.h): local name, class of device, discoverable /
 * connectable control, inquiry with GAP_EVENT_INQUIRY_RESULT / _COMPLETE, remote name request,
 * LE advertising and scanning with GAP_EVENT_ADVERTISING_REPORT, LE connect / cancel,
 * disconnect, connection type and security level getters.
 *
 * Every gap_* call records what is wanted and asks HCI to run; HCI's scheduler sends at most one
 * command per opportunity (Num_HCI_Command_Packets), in the order run() finds work.
 */
import { bd_addr_copy, type BdAddr } from '../core/bytes.js';
import {
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS,
  ERROR_CODE_REMOTE_USER_TERMINATED_CONNECTION,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  BTSTACK_MEMORY_ALLOC_FAILED,
  GAP_CONNECTION_ACL,
  GAP_CONNECTION_INVALID,
  GAP_CONNECTION_LE,
  HCI_ROLE_MASTER,
  HCI_STATE_WORKING,
  LEVEL_0,
} from '../codes/v1.4.js';
import type { CodesV14, CodesV18 } from '../codes/index.js';
import {
  hci_inquiry,
  hci_inquiry_cancel,
  hci_le_set_advertise_enable,
  hci_le_set_advertising_data,
  hci_le_set_advertising_parameters,
  hci_le_set_scan_enable,
  hci_le_set_scan_parameters,
  hci_le_set_scan_response_data,
  hci_remote_name_request,
  hci_write_class_of_device,
  hci_write_extended_inquiry_response,
  hci_write_local_name,
  hci_write_scan_enable,
} from './commands.js';
import { ConnState, TODO_DISCONNECT, TODO_LE_CREATE_CONNECTION, TODO_LE_CREATE_CONNECTION_CANCEL, TODO_CREATE_CONNECTION_CANCEL, is_le_address_type } from './hci-connection.js';
import type { Hci } from './hci.js';
import { GapReports, GAP_INQUIRY_MAX_NAME_LEN, type InquiryResultKind } from './gap-reports.js';

export { GAP_INQUIRY_MAX_NAME_LEN };

/** General/Unlimited Inquiry Access Code (GIAC), BTstack's GAP_IAC_GENERAL_INQUIRY. */
export const GAP_IAC_GENERAL_INQUIRY = 0x9e8b33;
/** BTstack's GAP_IAC_LIMITED_INQUIRY. */
export const GAP_IAC_LIMITED_INQUIRY = 0x9e8b00;
export const GAP_INQUIRY_DURATION_MIN = 0x01;
export const GAP_INQUIRY_DURATION_MAX = 0x30;
/** BTstack's default local name; the zero address is replaced by the controller's. */
export const GAP_DEFAULT_LOCAL_NAME = 'BTstack 00:00:00:00:00:00';
/** BTstack's default class of device (smartphone). */
export const GAP_DEFAULT_CLASS_OF_DEVICE = 0x007a020c;

/** EIR data type of the local name written by default. */
const BLUETOOTH_DATA_TYPE_COMPLETE_LOCAL_NAME = 0x09;

const enum Inquiry {
  IDLE,
  W2_START,
  W4_STARTED,
  ACTIVE,
  W2_CANCEL,
  W4_CANCELLED,
}

const enum RemoteName {
  IDLE,
  W2_SEND,
  W4_COMPLETE,
}

const ADV_PARAMS = 1 << 0;
const ADV_DATA = 1 << 1;
const ADV_SCAN_DATA = 1 << 2;
const ADV_ENABLE = 1 << 3;

const encoder = new TextEncoder();

function bd_addr_copy_new(a: BdAddr): BdAddr {
  return Uint8Array.from(a);
}

/** LE connection parameters BTstack uses for gap_connect (hci.c defaults). */
export interface GapLeConnectionParameters {
  scan_interval: number;
  scan_window: number;
  conn_interval_min: number;
  conn_interval_max: number;
  conn_latency: number;
  supervision_timeout: number;
  min_ce_length: number;
  max_ce_length: number;
}

export class Gap {
  // ---- classic settings (kept across power cycles)
  local_name = GAP_DEFAULT_LOCAL_NAME;
  class_of_device = GAP_DEFAULT_CLASS_OF_DEVICE;
  discoverable = false;
  connectable = false;
  ssp_enabled = true;
  secure_connections_enabled = true;
  private eir: Uint8Array | null = null;
  /** @internal work for the scheduler */
  local_name_todo = false;
  class_of_device_todo = false;
  eir_todo = false;
  scan_enable_todo = false;
  /** Scan_Enable value of the Write Scan Enable in flight. */
  private writeScanEnableSent = -1;

  // ---- inquiry
  private inquiryState = Inquiry.IDLE;
  private inquiryDuration = 0;
  private inquiryLap = GAP_IAC_GENERAL_INQUIRY;

  // ---- remote name request
  private remoteNameState = RemoteName.IDLE;
  private readonly remoteNameAddr = new Uint8Array(6);
  private remoteNamePsrm = 0;
  private remoteNameClockOffset = 0;

  // ---- LE advertising
  private advTodo = 0;
  /** What the app configured (written again after every controller reset). */
  private advConfigured = 0;
  private advEnabled = false; // what the app wants
  private advControllerEnabled = false; // what the controller does
  private advEnableSent = -1;
  adv_interval_min = 0x0800;
  adv_interval_max = 0x0800;
  adv_type = 0;
  adv_own_address_type = 0;
  adv_direct_address_type = 0;
  readonly adv_direct_address = new Uint8Array(6);
  adv_channel_map = 0x07;
  adv_filter_policy = 0;
  private readonly advData = new Uint8Array(31);
  private advDataLen = 0;
  private readonly scanRspData = new Uint8Array(31);
  private scanRspDataLen = 0;

  // ---- LE scanning
  private scanWanted = false;
  private scanControllerEnabled = false;
  private scanEnableSent = -1;
  private scanParamsTodo = true;
  le_scan_type = 1; // active
  le_scan_interval = 0x01e0;
  le_scan_window = 0x0030;
  le_scan_filter_policy = 0;
  le_own_address_type = 0;

  // ---- LE connection parameters (BTstack defaults)
  readonly le_connection: GapLeConnectionParameters = {
    scan_interval: 0x0060,
    scan_window: 0x0030,
    conn_interval_min: 0x0008,
    conn_interval_max: 0x0018,
    conn_latency: 4,
    supervision_timeout: 0x0048,
    min_ce_length: 2,
    max_ce_length: 0x0030,
  };

  private readonly reports: GapReports;

  constructor(private readonly hci: Hci) {
    this.reports = new GapReports(hci);
  }

  /** Forget controller-side state after power off / reset; keep the app's settings. */
  reset_controller_state(): void {
    this.scan_enable_todo = false;
    this.writeScanEnableSent = -1;
    this.local_name_todo = false;
    this.class_of_device_todo = false;
    this.eir_todo = false;
    this.inquiryState = Inquiry.IDLE;
    this.remoteNameState = RemoteName.IDLE;
    this.advControllerEnabled = false;
    this.advEnableSent = -1;
    // the controller was reset: everything configured must be written again
    this.advTodo = this.advConfigured | (this.advEnabled ? ADV_ENABLE : 0);
    this.scanControllerEnabled = false;
    this.scanEnableSent = -1;
    this.scanParamsTodo = true;
  }

  private get working(): boolean {
    return this.hci.hci_get_state() === HCI_STATE_WORKING;
  }

  // =============================================================== classic settings

  /** BTstack: name with "00:00:00:00:00:00" replaced by the local address, as sent to the controller. */
  local_name_bytes(): Uint8Array {
    const addr = this.hci.local_bd_addr_string();
    return encoder.encode(this.local_name.replace('00:00:00:00:00:00', addr));
  }

  gap_set_local_name(name: string): void {
    if (typeof name !== 'string') throw new TypeError('gap_set_local_name: name must be a string');
    this.local_name = name;
    this.local_name_todo = true;
    if (this.eir === null) this.eir_todo = true;
    this.hci.run();
  }

  gap_set_class_of_device(class_of_device: number): void {
    this.class_of_device = class_of_device & 0xffffff;
    this.class_of_device_todo = true;
    this.hci.run();
  }

  /** Set the EIR data (240 bytes max); null = BTstack's default (the local name). */
  gap_set_extended_inquiry_response(data: Uint8Array | null): void {
    this.eir = data ? data.slice(0, 240) : null;
    this.eir_todo = true;
    this.hci.run();
  }

  /** EIR as written to the controller: custom data, or the Complete Local Name. */
  eir_bytes(): Uint8Array {
    const out = new Uint8Array(240);
    if (this.eir) {
      out.set(this.eir);
      return out;
    }
    const name = this.local_name_bytes().subarray(0, 238);
    out[0] = name.length + 1;
    out[1] = BLUETOOTH_DATA_TYPE_COMPLETE_LOCAL_NAME;
    out.set(name, 2);
    return out;
  }

  gap_ssp_set_enable(enable: boolean | number): void {
    this.ssp_enabled = !!enable;
  }

  gap_secure_connections_enable(enable: boolean | number): void {
    this.secure_connections_enabled = !!enable;
  }

  scan_enable_value(): number {
    return (this.discoverable ? 0x01 : 0) | (this.connectable ? 0x02 : 0);
  }

  gap_discoverable_control(enable: boolean | number): void {
    const on = !!enable;
    if (on === this.discoverable) {
      // BTstack reports the current value again
      this.emitScanMode();
      return;
    }
    this.discoverable = on;
    this.scan_enable_todo = true;
    this.hci.run();
  }

  /** Page scan on/off. L2CAP turns it on when a classic service is registered. */
  gap_connectable_control(enable: boolean | number): void {
    const on = !!enable;
    if (on === this.connectable) return;
    this.connectable = on;
    this.scan_enable_todo = true;
    this.hci.run();
  }

  // =============================================================== inquiry

  /** Start an inquiry for duration * 1.28 s; results as GAP_EVENT_INQUIRY_RESULT, then GAP_EVENT_INQUIRY_COMPLETE. */
  gap_inquiry_start(duration_in_1280ms_units: number): number {
    if (!this.working) return ERROR_CODE_COMMAND_DISALLOWED;
    if (this.inquiryState !== Inquiry.IDLE) return ERROR_CODE_COMMAND_DISALLOWED;
    const d = duration_in_1280ms_units;
    if (!Number.isInteger(d) || d < GAP_INQUIRY_DURATION_MIN || d > GAP_INQUIRY_DURATION_MAX) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    this.inquiryDuration = d;
    this.inquiryLap = GAP_IAC_GENERAL_INQUIRY;
    this.inquiryState = Inquiry.W2_START;
    this.hci.run();
    return ERROR_CODE_SUCCESS;
  }

  /** Stop a running inquiry; GAP_EVENT_INQUIRY_COMPLETE follows. */
  gap_inquiry_stop(): number {
    switch (this.inquiryState) {
      case Inquiry.W2_START:
        this.inquiryState = Inquiry.IDLE;
        this.emitInquiryComplete(ERROR_CODE_SUCCESS);
        return ERROR_CODE_SUCCESS;
      case Inquiry.W4_STARTED:
      case Inquiry.ACTIVE:
        this.inquiryState = Inquiry.W2_CANCEL;
        this.hci.run();
        return ERROR_CODE_SUCCESS;
      default:
        return ERROR_CODE_COMMAND_DISALLOWED;
    }
  }

  // =============================================================== remote name

  gap_remote_name_request(addr: BdAddr, page_scan_repetition_mode: number, clock_offset: number): number {
    if (!this.working) return ERROR_CODE_COMMAND_DISALLOWED;
    if (this.remoteNameState !== RemoteName.IDLE) return ERROR_CODE_COMMAND_DISALLOWED;
    if (!(addr instanceof Uint8Array) || addr.length !== 6) throw new TypeError('gap_remote_name_request: addr must be a 6-byte BdAddr');
    bd_addr_copy(this.remoteNameAddr, addr);
    this.remoteNamePsrm = page_scan_repetition_mode & 0xff;
    this.remoteNameClockOffset = clock_offset & 0xffff;
    this.remoteNameState = RemoteName.W2_SEND;
    this.hci.run();
    return ERROR_CODE_SUCCESS;
  }

  // =============================================================== LE advertising

  gap_advertisements_set_params(
    adv_int_min: number,
    adv_int_max: number,
    adv_type: number,
    direct_address_typ: number,
    direct_address: BdAddr,
    channel_map: number,
    filter_policy: number,
  ): void {
    this.adv_interval_min = adv_int_min;
    this.adv_interval_max = adv_int_max;
    this.adv_type = adv_type;
    this.adv_direct_address_type = direct_address_typ;
    bd_addr_copy(this.adv_direct_address, direct_address);
    this.adv_channel_map = channel_map;
    this.adv_filter_policy = filter_policy;
    this.advTodo |= ADV_PARAMS;
    this.advConfigured |= ADV_PARAMS;
    this.hci.run();
  }

  gap_advertisements_set_data(advertising_data_length: number, advertising_data: Uint8Array): void {
    const n = Math.min(31, advertising_data_length, advertising_data.length);
    this.advData.fill(0);
    this.advData.set(advertising_data.subarray(0, n));
    this.advDataLen = n;
    this.advTodo |= ADV_DATA;
    this.advConfigured |= ADV_DATA;
    this.hci.run();
  }

  gap_scan_response_set_data(scan_response_data_length: number, scan_response_data: Uint8Array): void {
    const n = Math.min(31, scan_response_data_length, scan_response_data.length);
    this.scanRspData.fill(0);
    this.scanRspData.set(scan_response_data.subarray(0, n));
    this.scanRspDataLen = n;
    this.advTodo |= ADV_SCAN_DATA;
    this.advConfigured |= ADV_SCAN_DATA;
    this.hci.run();
  }

  gap_advertisements_enable(enabled: boolean | number): void {
    this.advEnabled = !!enabled;
    if (this.advEnabled) this.advTodo |= ADV_ENABLE;
    else this.advTodo &= ~ADV_ENABLE;
    this.hci.run();
  }

  // =============================================================== LE scanning

  /** BTstack v1.4: scan_type 0 passive / 1 active, interval and window in 0.625 ms units. */
  gap_set_scan_parameters(scan_type: number, scan_interval: number, scan_window: number): void {
    this.gap_set_scan_params(scan_type, scan_interval, scan_window, this.le_scan_filter_policy);
  }

  /** Current BTstack: as gap_set_scan_parameters plus the scanning filter policy. */
  gap_set_scan_params(scan_type: number, scan_interval: number, scan_window: number, scanning_filter_policy = 0): void {
    this.le_scan_type = scan_type;
    this.le_scan_interval = scan_interval;
    this.le_scan_window = scan_window;
    this.le_scan_filter_policy = scanning_filter_policy;
    this.scanParamsTodo = true;
    this.hci.run();
  }

  gap_start_scan(): void {
    this.scanWanted = true;
    this.hci.run();
  }

  gap_stop_scan(): void {
    this.scanWanted = false;
    this.hci.run();
  }

  // =============================================================== LE connections

  gap_set_connection_parameters(
    conn_scan_interval: number,
    conn_scan_window: number,
    conn_interval_min: number,
    conn_interval_max: number,
    conn_latency: number,
    supervision_timeout: number,
    min_ce_length: number,
    max_ce_length: number,
  ): void {
    Object.assign(this.le_connection, {
      scan_interval: conn_scan_interval,
      scan_window: conn_scan_window,
      conn_interval_min,
      conn_interval_max,
      conn_latency,
      supervision_timeout,
      min_ce_length,
      max_ce_length,
    });
  }

  /** Connect to an LE peripheral (LE Create Connection). Completion: HCI_SUBEVENT_LE_CONNECTION_COMPLETE. */
  gap_connect(addr: BdAddr, addr_type: number): number {
    if (!(addr instanceof Uint8Array) || addr.length !== 6) throw new TypeError('gap_connect: addr must be a 6-byte BdAddr');
    if (!is_le_address_type(addr_type)) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    if (!this.working) return ERROR_CODE_COMMAND_DISALLOWED;
    const conns = this.hci.connections;
    for (const c of conns.list) {
      if (c.is_le && (c.state === ConnState.SEND_CREATE_CONNECTION || c.state === ConnState.SENT_CREATE_CONNECTION)) {
        return ERROR_CODE_COMMAND_DISALLOWED; // one LE connection attempt at a time
      }
    }
    const existing = conns.for_addr(addr, addr_type);
    if (existing) return existing.state === ConnState.OPEN ? ERROR_CODE_SUCCESS : ERROR_CODE_COMMAND_DISALLOWED;
    const conn = conns.create(addr, addr_type);
    if (!conn) return BTSTACK_MEMORY_ALLOC_FAILED;
    conn.state = ConnState.SEND_CREATE_CONNECTION;
    conn.role = HCI_ROLE_MASTER;
    conn.todo |= TODO_LE_CREATE_CONNECTION;
    this.hci.run();
    return ERROR_CODE_SUCCESS;
  }

  /** Cancel gap_connect. The controller answers with an LE Connection Complete (status 0x02). */
  gap_connect_cancel(): number {
    for (const c of this.hci.connections.list) {
      if (!c.is_le) continue;
      if (c.state === ConnState.SEND_CREATE_CONNECTION) {
        // never sent: report it as BTstack does, with Unknown Connection Identifier
        const type = c.address_type;
        const addr = bd_addr_copy_new(c.address);
        this.hci.connections.free(c);
        this.hci.emitLeConnectionComplete(ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER, type, addr);
        return ERROR_CODE_SUCCESS;
      }
      if (c.state === ConnState.SENT_CREATE_CONNECTION) {
        c.todo |= TODO_LE_CREATE_CONNECTION_CANCEL;
        c.state = ConnState.SEND_CANCEL_CONNECTION;
        this.hci.run();
        return ERROR_CODE_SUCCESS;
      }
    }
    return ERROR_CODE_SUCCESS;
  }

  /** Disconnect a classic or LE link (reason: Remote User Terminated Connection). */
  gap_disconnect(handle: number): number {
    const conn = this.hci.connections.for_handle(handle);
    if (!conn) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    switch (conn.state) {
      case ConnState.SEND_DISCONNECT:
      case ConnState.SENT_DISCONNECT:
      case ConnState.RECEIVED_DISCONNECTION_COMPLETE:
        return ERROR_CODE_SUCCESS;
      case ConnState.SENT_CREATE_CONNECTION:
        if (!conn.is_le) {
          conn.todo |= TODO_CREATE_CONNECTION_CANCEL;
          this.hci.run();
          return ERROR_CODE_SUCCESS;
        }
        return this.gap_connect_cancel();
      default:
        conn.disconnect_reason = ERROR_CODE_REMOTE_USER_TERMINATED_CONNECTION;
        conn.todo |= TODO_DISCONNECT;
        conn.state = ConnState.SEND_DISCONNECT;
        this.hci.run();
        return ERROR_CODE_SUCCESS;
    }
  }

  gap_get_connection_type(handle: number): number {
    const conn = this.hci.connections.for_handle(handle);
    if (!conn) return GAP_CONNECTION_INVALID;
    return conn.is_le ? GAP_CONNECTION_LE : GAP_CONNECTION_ACL;
  }

  /** Security level of a connection. Pairing is not implemented yet: always LEVEL_0. */
  gap_security_level(_handle: number): number {
    return LEVEL_0;
  }

  /** BTstack: the security level services ask for by default. */
  gap_get_security_level(): number {
    return LEVEL_0;
  }

  /** BTstack's gap_local_bd_addr: copies the controller's public address into addr (and returns it). */
  gap_local_bd_addr(addr: BdAddr = new Uint8Array(6)): BdAddr {
    bd_addr_copy(addr, this.hci.init.local_bd_addr);
    return addr;
  }

  // =============================================================== scheduler

  /** Send at most one GAP command. Returns true when one went out. Only called in WORKING. */
  run(): boolean {
    const hci = this.hci;
    if (this.scan_enable_todo && hci.init.classic_supported) {
      this.scan_enable_todo = false;
      const v = this.scan_enable_value();
      this.writeScanEnableSent = v;
      return hci.sendCommandInternal(hci_write_scan_enable, v);
    }
    this.scan_enable_todo = false;
    if (this.local_name_todo && hci.init.classic_supported) {
      this.local_name_todo = false;
      return hci.sendCommandInternal(hci_write_local_name, this.local_name_bytes());
    }
    this.local_name_todo = false;
    if (this.eir_todo && hci.init.classic_supported && hci.init.has_feature(48)) {
      this.eir_todo = false;
      return hci.sendCommandInternal(hci_write_extended_inquiry_response, 1, this.eir_bytes());
    }
    this.eir_todo = false;
    if (this.class_of_device_todo && hci.init.classic_supported) {
      this.class_of_device_todo = false;
      return hci.sendCommandInternal(hci_write_class_of_device, this.class_of_device);
    }
    this.class_of_device_todo = false;

    switch (this.inquiryState) {
      case Inquiry.W2_START:
        this.inquiryState = Inquiry.W4_STARTED;
        return hci.sendCommandInternal(hci_inquiry, this.inquiryLap, this.inquiryDuration, 0);
      case Inquiry.W2_CANCEL:
        this.inquiryState = Inquiry.W4_CANCELLED;
        return hci.sendCommandInternal(hci_inquiry_cancel);
      default:
        break;
    }

    if (this.remoteNameState === RemoteName.W2_SEND) {
      this.remoteNameState = RemoteName.W4_COMPLETE;
      return hci.sendCommandInternal(hci_remote_name_request, this.remoteNameAddr, this.remoteNamePsrm, 0, this.remoteNameClockOffset);
    }

    if (hci.init.le_supported) {
      if (this.runAdvertising()) return true;
      if (this.runScanning()) return true;
    }
    return false;
  }

  private runAdvertising(): boolean {
    const hci = this.hci;
    if (this.advEnableSent >= 0) return false; // wait for the enable/disable to complete
    if ((this.advTodo & ADV_PARAMS) && this.advControllerEnabled) {
      // parameters cannot change while advertising: off, parameters, on again
      if (this.advEnabled) this.advTodo |= ADV_ENABLE;
      return this.sendAdvEnable(0);
    }
    if (this.advTodo & ADV_PARAMS) {
      this.advTodo &= ~ADV_PARAMS;
      return hci.sendCommandInternal(
        hci_le_set_advertising_parameters,
        this.adv_interval_min,
        this.adv_interval_max,
        this.adv_type,
        this.adv_own_address_type,
        this.adv_direct_address_type,
        this.adv_direct_address,
        this.adv_channel_map,
        this.adv_filter_policy,
      );
    }
    if (this.advTodo & ADV_DATA) {
      this.advTodo &= ~ADV_DATA;
      return hci.sendCommandInternal(hci_le_set_advertising_data, this.advDataLen, this.advData);
    }
    if (this.advTodo & ADV_SCAN_DATA) {
      this.advTodo &= ~ADV_SCAN_DATA;
      return hci.sendCommandInternal(hci_le_set_scan_response_data, this.scanRspDataLen, this.scanRspData);
    }
    if (!this.advEnabled && this.advControllerEnabled) return this.sendAdvEnable(0);
    if ((this.advTodo & ADV_ENABLE) && this.advEnabled && !this.advControllerEnabled) {
      this.advTodo &= ~ADV_ENABLE;
      return this.sendAdvEnable(1);
    }
    this.advTodo &= ~ADV_ENABLE;
    return false;
  }

  private sendAdvEnable(v: number): boolean {
    this.advEnableSent = v;
    return this.hci.sendCommandInternal(hci_le_set_advertise_enable, v);
  }

  private runScanning(): boolean {
    const hci = this.hci;
    if (this.scanEnableSent >= 0) return false;
    if (this.scanParamsTodo && (this.scanWanted || this.scanControllerEnabled)) {
      if (this.scanControllerEnabled) return this.sendScanEnable(0);
      this.scanParamsTodo = false;
      return hci.sendCommandInternal(
        hci_le_set_scan_parameters,
        this.le_scan_type,
        this.le_scan_interval,
        this.le_scan_window,
        this.le_own_address_type,
        this.le_scan_filter_policy,
      );
    }
    if (this.scanWanted && !this.scanControllerEnabled) return this.sendScanEnable(1);
    if (!this.scanWanted && this.scanControllerEnabled) return this.sendScanEnable(0);
    return false;
  }

  private sendScanEnable(v: number): boolean {
    this.scanEnableSent = v;
    return this.hci.sendCommandInternal(hci_le_set_scan_enable, v, 0);
  }

  // =============================================================== events from HCI

  /** A command went to the controller (from GAP or from the app via hci_send_cmd). */
  on_command_sent(opcode: number, params: Uint8Array): void {
    switch (opcode) {
      case hci_write_scan_enable.opcode:
        this.writeScanEnableSent = params[0] ?? 0;
        return;
      case hci_inquiry.opcode:
        if (this.inquiryState === Inquiry.IDLE) this.inquiryState = Inquiry.W4_STARTED;
        return;
      case hci_le_set_advertise_enable.opcode:
        this.advEnableSent = params[0] ?? 0;
        return;
      case hci_le_set_scan_enable.opcode:
        this.scanEnableSent = params[0] ?? 0;
        return;
      case hci_remote_name_request.opcode:
        this.remoteNameState = RemoteName.W4_COMPLETE;
        return;
      default:
        return;
    }
  }

  /** Command Complete for opcode with return parameters r (status first). */
  on_command_complete(opcode: number, r: Uint8Array): void {
    const status = r[0] ?? 0xff;
    switch (opcode) {
      case hci_write_scan_enable.opcode:
        this.writeScanEnableSent = -1;
        this.emitScanMode();
        return;
      case hci_inquiry_cancel.opcode:
        if (this.inquiryState === Inquiry.W4_CANCELLED) {
          this.inquiryState = Inquiry.IDLE;
          this.emitInquiryComplete(ERROR_CODE_SUCCESS);
        }
        return;
      case hci_le_set_advertise_enable.opcode:
        if (status === ERROR_CODE_SUCCESS && this.advEnableSent >= 0) this.advControllerEnabled = this.advEnableSent === 1;
        this.advEnableSent = -1;
        return;
      case hci_le_set_scan_enable.opcode:
        if (status === ERROR_CODE_SUCCESS && this.scanEnableSent >= 0) this.scanControllerEnabled = this.scanEnableSent === 1;
        this.scanEnableSent = -1;
        return;
      default:
        return;
    }
  }

  /** Command Status for opcode. */
  on_command_status(opcode: number, status: number): void {
    switch (opcode) {
      case hci_inquiry.opcode:
        if (status === ERROR_CODE_SUCCESS) {
          if (this.inquiryState === Inquiry.W4_STARTED) this.inquiryState = Inquiry.ACTIVE;
        } else if (this.inquiryState !== Inquiry.IDLE) {
          this.inquiryState = Inquiry.IDLE;
          this.emitInquiryComplete(status);
        }
        return;
      case hci_remote_name_request.opcode:
        if (status !== ERROR_CODE_SUCCESS) this.remoteNameState = RemoteName.IDLE;
        return;
      default:
        return;
    }
  }

  /** HCI Inquiry Complete. */
  on_inquiry_complete(status: number): void {
    if (this.inquiryState === Inquiry.IDLE) return;
    this.inquiryState = Inquiry.IDLE;
    this.emitInquiryComplete(status);
  }

  on_remote_name_request_complete(): void {
    this.remoteNameState = RemoteName.IDLE;
  }

  /** An LE link opened: as peripheral, the controller stopped advertising. */
  on_le_connection_complete(role_peripheral: boolean): void {
    if (role_peripheral) this.advControllerEnabled = false;
  }

  /** An LE link closed: re-enable advertising if the app wants it (BTstack does). */
  on_le_disconnection(): void {
    if (this.advEnabled) this.advTodo |= ADV_ENABLE;
  }

  /** One GAP_EVENT_INQUIRY_RESULT per response of an HCI inquiry result event; false when malformed. */
  explode_inquiry_result(packet: Uint8Array, size: number, kind: InquiryResultKind): boolean {
    return this.reports.inquiry_result(packet, size, kind);
  }

  /** One GAP_EVENT_ADVERTISING_REPORT per report of an LE Advertising Report; false when malformed. */
  explode_advertising_report(packet: Uint8Array, size: number): boolean {
    return this.reports.advertising_report(packet, size);
  }

  private emitInquiryComplete(status: number): void {
    const buf = this.hci.eventBuffer();
    const n = this.hci.codes.gap_event_inquiry_complete_build(buf, 0, status);
    if (n > 0) this.hci.emitEvent(buf, n);
  }

  /** BTSTACK_EVENT_DISCOVERABLE_ENABLED (v1.4) or BTSTACK_EVENT_SCAN_MODE_CHANGED (v1.8). */
  private emitScanMode(): void {
    const codes = this.hci.codes as {
      btstack_event_scan_mode_changed_build?: CodesV18['btstack_event_scan_mode_changed_build'];
      btstack_event_discoverable_enabled_build?: CodesV14['btstack_event_discoverable_enabled_build'];
    };
    const buf = this.hci.eventBuffer();
    let n = 0;
    if (codes.btstack_event_scan_mode_changed_build) {
      n = codes.btstack_event_scan_mode_changed_build(buf, 0, this.discoverable ? 1 : 0, this.connectable ? 1 : 0);
    } else if (codes.btstack_event_discoverable_enabled_build) {
      n = codes.btstack_event_discoverable_enabled_build(buf, 0, this.discoverable ? 1 : 0);
    }
    if (n > 0) this.hci.emitEvent(buf, n);
  }
}
