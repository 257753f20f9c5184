/**
 * LE GAP: advertising (parameters, data, scan response, enable), scanning (parameters, enable) and
 * the parameters gap_connect uses. What the app configured is kept across power cycles and
 * written again after every controller reset; run() sends one command at a time, waiting for each
 * enable / disable to complete.
 */
import { bd_addr_copy, type BdAddr } from '../core/bytes.js';
import { ERROR_CODE_SUCCESS } from '../codes/v1.4.js';
import {
  hci_le_set_advertise_enable,
  hci_le_set_advertising_data,
  hci_le_set_advertising_parameters,
  hci_le_set_scan_enable,
  hci_le_set_scan_parameters,
  hci_le_set_scan_response_data,
  type HciArg,
  type HciCommand,
} from './commands.js';
import type { GapLeConnectionParameters } from './hci-link-control.js';

const ADV_PARAMS = 1 << 0;
const ADV_DATA = 1 << 1;
const ADV_SCAN_DATA = 1 << 2;
const ADV_ENABLE = 1 << 3;

/** What LE GAP needs from its siblings. */
export interface GapLePeers {
  send_command(cmd: HciCommand, ...args: HciArg[]): boolean;
  run(): void;
}

export class GapLe {
  // ---- advertising
  private advTodo = 0;
  /** What the app configured (written again after every controller reset). */
  private advConfigured = 0;
  private advEnabled = false; // what the app wants
  private advControllerEnabled = false; // what the controller does
  private advEnableSent = -1;
  private adv_interval_min = 0x0800;
  private adv_interval_max = 0x0800;
  private adv_type = 0;
  private adv_own_address_type = 0;
  private adv_direct_address_type = 0;
  private readonly adv_direct_address = new Uint8Array(6);
  private adv_channel_map = 0x07;
  private adv_filter_policy = 0;
  private readonly advData = new Uint8Array(31);
  private advDataLen = 0;
  private readonly scanRspData = new Uint8Array(31);
  private scanRspDataLen = 0;

  // ---- scanning
  private scanWanted = false;
  private scanControllerEnabled = false;
  private scanEnableSent = -1;
  private scanParamsTodo = true;
  private le_scan_type = 1; // active
  private le_scan_interval = 0x01e0;
  private le_scan_window = 0x0030;
  private le_scan_filter_policy = 0;
  /** Own_Address_Type of scanning and LE Create Connection. */
  readonly le_own_address_type = 0;

  /** LE connection parameters (BTstack defaults). */
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

  constructor(private readonly x: GapLePeers) {}

  /** Forget controller-side state after power off / reset; keep the app's settings. */
  reset_controller_state(): void {
    this.advControllerEnabled = false;
    this.advEnableSent = -1;
    // the controller was reset: everything configured must be written again
    this.advTodo = this.advConfigured | (this.advEnabled ? ADV_ENABLE : 0);
    this.scanControllerEnabled = false;
    this.scanEnableSent = -1;
    this.scanParamsTodo = true;
  }

  // =============================================================== advertising

  set_advertising_params(
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
    this.x.run();
  }

  set_advertising_data(advertising_data_length: number, advertising_data: Uint8Array): void {
    const n = Math.min(31, advertising_data_length, advertising_data.length);
    this.advData.fill(0);
    this.advData.set(advertising_data.subarray(0, n));
    this.advDataLen = n;
    this.advTodo |= ADV_DATA;
    this.advConfigured |= ADV_DATA;
    this.x.run();
  }

  set_scan_response_data(scan_response_data_length: number, scan_response_data: Uint8Array): void {
    const n = Math.min(31, scan_response_data_length, scan_response_data.length);
    this.scanRspData.fill(0);
    this.scanRspData.set(scan_response_data.subarray(0, n));
    this.scanRspDataLen = n;
    this.advTodo |= ADV_SCAN_DATA;
    this.advConfigured |= ADV_SCAN_DATA;
    this.x.run();
  }

  advertisements_enable(enabled: boolean): void {
    this.advEnabled = enabled;
    if (this.advEnabled) this.advTodo |= ADV_ENABLE;
    else this.advTodo &= ~ADV_ENABLE;
    this.x.run();
  }

  // =============================================================== scanning

  get scan_filter_policy(): number {
    return this.le_scan_filter_policy;
  }

  set_scan_params(scan_type: number, scan_interval: number, scan_window: number, scanning_filter_policy: number): void {
    this.le_scan_type = scan_type;
    this.le_scan_interval = scan_interval;
    this.le_scan_window = scan_window;
    this.le_scan_filter_policy = scanning_filter_policy;
    this.scanParamsTodo = true;
    this.x.run();
  }

  scan(wanted: boolean): void {
    this.scanWanted = wanted;
    this.x.run();
  }

  // =============================================================== connections

  set_connection_parameters(p: GapLeConnectionParameters): void {
    Object.assign(this.le_connection, p);
  }

  // =============================================================== scheduler

  /** Send at most one LE GAP command. Returns true when one went out. Only called in WORKING on LE controllers. */
  run(): boolean {
    if (this.runAdvertising()) return true;
    return this.runScanning();
  }

  private runAdvertising(): boolean {
    if (this.advEnableSent >= 0) return false; // wait for the enable/disable to complete
    if (this.advTodo & ADV_PARAMS && this.advControllerEnabled) {
      // parameters cannot change while advertising: off, parameters, on again
      if (this.advEnabled) this.advTodo |= ADV_ENABLE;
      return this.sendAdvEnable(0);
    }
    if (this.advTodo & ADV_PARAMS) {
      this.advTodo &= ~ADV_PARAMS;
      return this.x.send_command(
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
      return this.x.send_command(hci_le_set_advertising_data, this.advDataLen, this.advData);
    }
    if (this.advTodo & ADV_SCAN_DATA) {
      this.advTodo &= ~ADV_SCAN_DATA;
      return this.x.send_command(hci_le_set_scan_response_data, this.scanRspDataLen, this.scanRspData);
    }
    if (!this.advEnabled && this.advControllerEnabled) return this.sendAdvEnable(0);
    if (this.advTodo & ADV_ENABLE && this.advEnabled && !this.advControllerEnabled) {
      this.advTodo &= ~ADV_ENABLE;
      return this.sendAdvEnable(1);
    }
    this.advTodo &= ~ADV_ENABLE;
    return false;
  }

  private sendAdvEnable(v: number): boolean {
    this.advEnableSent = v;
    return this.x.send_command(hci_le_set_advertise_enable, v);
  }

  private runScanning(): boolean {
    if (this.scanEnableSent >= 0) return false;
    if (this.scanParamsTodo && (this.scanWanted || this.scanControllerEnabled)) {
      if (this.scanControllerEnabled) return this.sendScanEnable(0);
      this.scanParamsTodo = false;
      return this.x.send_command(
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
    return this.x.send_command(hci_le_set_scan_enable, v, 0);
  }

  // =============================================================== events from HCI

  /** A command went to the controller (from GAP or from the app via hci_send_cmd). */
  on_command_sent(opcode: number, params: Uint8Array): void {
    switch (opcode) {
      case hci_le_set_advertise_enable.opcode:
        this.advEnableSent = params[0] ?? 0;
        return;
      case hci_le_set_scan_enable.opcode:
        this.scanEnableSent = params[0] ?? 0;
        return;
      default:
        return;
    }
  }

  /** Command Complete for opcode with return parameters r (status first). */
  on_command_complete(opcode: number, r: Uint8Array): void {
    const status = r[0] ?? 0xff;
    switch (opcode) {
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

  /** An LE link opened: as peripheral, the controller stopped advertising. */
  on_le_connection_complete(role_peripheral: boolean): void {
    if (role_peripheral) this.advControllerEnabled = false;
  }

  /** An LE link closed: re-enable advertising if the app wants it (BTstack does). */
  on_le_disconnection(): void {
    if (this.advEnabled) this.advTodo |= ADV_ENABLE;
  }
}
