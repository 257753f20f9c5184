/**
 * Classic GAP (BR/EDR): local name, class of device, EIR, SSP / Secure Connections settings,
 * discoverable / connectable (Write Scan Enable), inquiry with GAP_EVENT_INQUIRY_COMPLETE, and the
 * remote name request. Settings are kept across power cycles and written by the init sequence
 * (the `take_*` methods) or, when changed while WORKING, by run() one command at a time.
 */
import { bd_addr_copy, bd_addr_to_str, type BdAddr } from '../core/bytes.js';
import {
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS,
  ERROR_CODE_SUCCESS,
  HCI_STATE_WORKING,
} from '../codes/v1.4.js';
import type { CodesV14, CodesV18 } from '../codes/index.js';
import {
  hci_inquiry,
  hci_inquiry_cancel,
  hci_remote_name_request,
  hci_write_class_of_device,
  hci_write_extended_inquiry_response,
  hci_write_local_name,
  hci_write_scan_enable,
  type HciArg,
  type HciCommand,
} from './commands.js';
import type { GapEventOut } from './gap-reports.js';
import type { HciInitGap } from './hci-init.js';
import type { HciState } from './hci-state.js';

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
/** LMP feature bit 48: Extended Inquiry Response. */
const LMP_FEATURE_EXTENDED_INQUIRY_RESPONSE = 48;

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

const encoder = new TextEncoder();

/** What classic GAP needs from its siblings. */
export interface GapClassicPeers {
  send_command(cmd: HciCommand, ...args: HciArg[]): boolean;
  run(): void;
  readonly out: GapEventOut;
}

export class GapClassic implements HciInitGap {
  // ---- settings (kept across power cycles)
  private local_name = GAP_DEFAULT_LOCAL_NAME;
  private class_of_device = GAP_DEFAULT_CLASS_OF_DEVICE;
  private discoverable = false;
  private connectable = false;
  private ssp = true;
  private secure_connections = true;
  private eir: Uint8Array | null = null;
  // ---- work for the scheduler
  private local_name_todo = false;
  private class_of_device_todo = false;
  private eir_todo = false;
  private scan_enable_todo = false;

  // ---- inquiry
  private inquiryState = Inquiry.IDLE;
  private inquiryDuration = 0;
  private inquiryLap = GAP_IAC_GENERAL_INQUIRY;

  // ---- remote name request
  private remoteNameState = RemoteName.IDLE;
  private readonly remoteNameAddr = new Uint8Array(6);
  private remoteNamePsrm = 0;
  private remoteNameClockOffset = 0;

  constructor(
    private readonly s: HciState,
    private readonly x: GapClassicPeers,
  ) {}

  /** Forget controller-side state after power off / reset; keep the app's settings. */
  reset_controller_state(): void {
    this.scan_enable_todo = false;
    this.local_name_todo = false;
    this.class_of_device_todo = false;
    this.eir_todo = false;
    this.inquiryState = Inquiry.IDLE;
    this.remoteNameState = RemoteName.IDLE;
  }

  private get working(): boolean {
    return this.s.power === HCI_STATE_WORKING;
  }

  // =============================================================== settings

  /** BTstack: name with "00:00:00:00:00:00" replaced by the local address, as sent to the controller. */
  private local_name_bytes(): Uint8Array {
    const addr = bd_addr_to_str(this.s.controller.local_bd_addr);
    return encoder.encode(this.local_name.replace('00:00:00:00:00:00', addr));
  }

  set_local_name(name: string): void {
    this.local_name = name;
    this.local_name_todo = true;
    if (this.eir === null) this.eir_todo = true;
    this.x.run();
  }

  set_class_of_device(class_of_device: number): void {
    this.class_of_device = class_of_device & 0xffffff;
    this.class_of_device_todo = true;
    this.x.run();
  }

  /** Set the EIR data (240 bytes max); null = BTstack's default (the local name). */
  set_extended_inquiry_response(data: Uint8Array | null): void {
    this.eir = data ? data.slice(0, 240) : null;
    this.eir_todo = true;
    this.x.run();
  }

  /** EIR as written to the controller: custom data, or the Complete Local Name. */
  private eir_bytes(): Uint8Array {
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

  set_ssp(enable: boolean): void {
    this.ssp = enable;
  }

  set_secure_connections(enable: boolean): void {
    this.secure_connections = enable;
  }

  private scan_enable_value(): number {
    return (this.discoverable ? 0x01 : 0) | (this.connectable ? 0x02 : 0);
  }

  discoverable_control(on: boolean): void {
    if (on === this.discoverable) {
      // BTstack reports the current value again
      this.emitScanMode();
      return;
    }
    this.discoverable = on;
    this.scan_enable_todo = true;
    this.x.run();
  }

  connectable_control(on: boolean): void {
    if (on === this.connectable) return;
    this.connectable = on;
    this.scan_enable_todo = true;
    this.x.run();
  }

  // =============================================================== for the init sequence

  ssp_enabled(): boolean {
    return this.ssp;
  }
  secure_connections_enabled(): boolean {
    return this.secure_connections;
  }
  take_class_of_device(): number {
    this.class_of_device_todo = false;
    return this.class_of_device;
  }
  take_local_name(): Uint8Array {
    this.local_name_todo = false;
    return this.local_name_bytes();
  }
  take_eir(): Uint8Array {
    this.eir_todo = false;
    return this.eir_bytes();
  }
  take_scan_enable(): number {
    this.scan_enable_todo = false;
    return this.scan_enable_value();
  }

  // =============================================================== inquiry, remote name

  inquiry_start(duration_in_1280ms_units: number): number {
    if (!this.working) return ERROR_CODE_COMMAND_DISALLOWED;
    if (this.inquiryState !== Inquiry.IDLE) return ERROR_CODE_COMMAND_DISALLOWED;
    const d = duration_in_1280ms_units;
    if (!Number.isInteger(d) || d < GAP_INQUIRY_DURATION_MIN || d > GAP_INQUIRY_DURATION_MAX)
      return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    this.inquiryDuration = d;
    this.inquiryLap = GAP_IAC_GENERAL_INQUIRY;
    this.inquiryState = Inquiry.W2_START;
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  inquiry_stop(): number {
    switch (this.inquiryState) {
      case Inquiry.W2_START:
        this.inquiryState = Inquiry.IDLE;
        this.emitInquiryComplete(ERROR_CODE_SUCCESS);
        return ERROR_CODE_SUCCESS;
      case Inquiry.W4_STARTED:
      case Inquiry.ACTIVE:
        this.inquiryState = Inquiry.W2_CANCEL;
        this.x.run();
        return ERROR_CODE_SUCCESS;
      default:
        return ERROR_CODE_COMMAND_DISALLOWED;
    }
  }

  /** The caller checked addr. */
  remote_name_request(addr: BdAddr, page_scan_repetition_mode: number, clock_offset: number): number {
    bd_addr_copy(this.remoteNameAddr, addr);
    this.remoteNamePsrm = page_scan_repetition_mode & 0xff;
    this.remoteNameClockOffset = clock_offset & 0xffff;
    this.remoteNameState = RemoteName.W2_SEND;
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  /** A Remote Name Request was sent (by GAP or the app) and not completed. */
  get remote_name_waiting(): boolean {
    return this.remoteNameState === RemoteName.W4_COMPLETE;
  }

  /** gap_remote_name_request may start now. */
  get remote_name_idle(): boolean {
    return this.working && this.remoteNameState === RemoteName.IDLE;
  }

  // =============================================================== scheduler

  /** Send at most one classic GAP command. Returns true when one went out. Only called in WORKING. */
  run(): boolean {
    const c = this.s.controller;
    const x = this.x;
    if (this.scan_enable_todo && c.classic_supported) {
      this.scan_enable_todo = false;
      return x.send_command(hci_write_scan_enable, this.scan_enable_value());
    }
    this.scan_enable_todo = false;
    if (this.local_name_todo && c.classic_supported) {
      this.local_name_todo = false;
      return x.send_command(hci_write_local_name, this.local_name_bytes());
    }
    this.local_name_todo = false;
    if (this.eir_todo && c.classic_supported && c.has_feature(LMP_FEATURE_EXTENDED_INQUIRY_RESPONSE)) {
      this.eir_todo = false;
      return x.send_command(hci_write_extended_inquiry_response, 1, this.eir_bytes());
    }
    this.eir_todo = false;
    if (this.class_of_device_todo && c.classic_supported) {
      this.class_of_device_todo = false;
      return x.send_command(hci_write_class_of_device, this.class_of_device);
    }
    this.class_of_device_todo = false;

    switch (this.inquiryState) {
      case Inquiry.W2_START:
        this.inquiryState = Inquiry.W4_STARTED;
        return x.send_command(hci_inquiry, this.inquiryLap, this.inquiryDuration, 0);
      case Inquiry.W2_CANCEL:
        this.inquiryState = Inquiry.W4_CANCELLED;
        return x.send_command(hci_inquiry_cancel);
      default:
        break;
    }

    if (this.remoteNameState === RemoteName.W2_SEND) {
      this.remoteNameState = RemoteName.W4_COMPLETE;
      return x.send_command(hci_remote_name_request, this.remoteNameAddr, this.remoteNamePsrm, 0, this.remoteNameClockOffset);
    }
    return false;
  }

  // =============================================================== events from HCI

  /** A command went to the controller (from GAP or from the app via hci_send_cmd). */
  on_command_sent(opcode: number): void {
    switch (opcode) {
      case hci_inquiry.opcode:
        if (this.inquiryState === Inquiry.IDLE) this.inquiryState = Inquiry.W4_STARTED;
        return;
      case hci_remote_name_request.opcode:
        this.remoteNameState = RemoteName.W4_COMPLETE;
        return;
      default:
        return;
    }
  }

  /** Command Complete for opcode. */
  on_command_complete(opcode: number): void {
    switch (opcode) {
      case hci_write_scan_enable.opcode:
        this.emitScanMode();
        return;
      case hci_inquiry_cancel.opcode:
        if (this.inquiryState === Inquiry.W4_CANCELLED) {
          this.inquiryState = Inquiry.IDLE;
          this.emitInquiryComplete(ERROR_CODE_SUCCESS);
        }
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

  private emitInquiryComplete(status: number): void {
    const buf = this.x.out.buffer();
    const n = this.s.codes.gap_event_inquiry_complete_build(buf, 0, status);
    if (n > 0) this.x.out.emit(buf, n);
  }

  /** BTSTACK_EVENT_DISCOVERABLE_ENABLED (v1.4) or BTSTACK_EVENT_SCAN_MODE_CHANGED (v1.8). */
  private emitScanMode(): void {
    const codes = this.s.codes as {
      btstack_event_scan_mode_changed_build?: CodesV18['btstack_event_scan_mode_changed_build'];
      btstack_event_discoverable_enabled_build?: CodesV14['btstack_event_discoverable_enabled_build'];
    };
    const buf = this.x.out.buffer();
    let n = 0;
    if (codes.btstack_event_scan_mode_changed_build) {
      n = codes.btstack_event_scan_mode_changed_build(buf, 0, this.discoverable ? 1 : 0, this.connectable ? 1 : 0);
    } else if (codes.btstack_event_discoverable_enabled_build) {
      n = codes.btstack_event_discoverable_enabled_build(buf, 0, this.discoverable ? 1 : 0);
    }
    if (n > 0) this.x.out.emit(buf, n);
  }
}
