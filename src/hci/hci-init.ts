/**
 * The power-on init sequence of HCI, one command at a time (BTstack's hci_initializing_run):
 *
 *   Reset (resent every 200 ms until Command Complete)
 *   chipset: baud-rate command (then transport.set_baudrate), vendor init commands, BD_ADDR
 *   Read Local Version Information, Read Local Supported Commands, Read Local Supported Features,
 *   Read Local Extended Features page 1 (if the controller has extended features),
 *   Read BD_ADDR, Read Buffer Size, LE Read Buffer Size (LE controllers),
 *   Host Buffer Size, Set Controller To Host Flow Control (host_flow_control, hci-host-flow.ts),
 *   Set Event Mask, LE Set Event Mask,
 *   Write Simple Pairing Mode, Write Secure Connections Host Support, Write Inquiry Mode,
 *   Write Class of Device, Write Local Name, Write Extended Inquiry Response,
 *   Write LE Host Supported, Write Scan Enable
 *
 * Optional steps are sent only when the controller lists the command in its supported commands
 * (and has the feature). A step answered with an error status is logged and skipped over.
 */
import { bd_addr_to_str, little_endian_read_16, reverse_bd_addr } from '../core/bytes.js';
import { Timer } from '../core/run-loop.js';
import { ERROR_CODE_SUCCESS } from '../codes/v1.4.js';
import {
  hci_host_buffer_size,
  hci_le_read_buffer_size,
  hci_le_set_event_mask,
  hci_read_bd_addr,
  hci_read_buffer_size,
  hci_read_local_extended_features,
  hci_read_local_supported_commands,
  hci_read_local_supported_features,
  hci_read_local_version_information,
  hci_reset,
  hci_set_controller_to_host_flow_control,
  hci_set_event_mask,
  hci_write_class_of_device,
  hci_write_extended_inquiry_response,
  hci_write_inquiry_mode,
  hci_write_le_host_supported,
  hci_write_local_name,
  hci_write_scan_enable,
  hci_write_secure_connections_host_support,
  hci_write_simple_pairing_mode,
  type HciCommand,
} from './commands.js';
import type { Hci } from './hci.js';

/** BTstack's HCI_RESET_RESEND_TIMEOUT_MS. */
export const HCI_RESET_RESEND_TIMEOUT_MS = 200;

/** Bit numbers in the Supported_Commands bitmap (Core Vol 4, Part E, 6.27): octet * 8 + bit. */
export const SUPPORTED_COMMAND = {
  WRITE_LOCAL_NAME: 56,
  WRITE_SCAN_ENABLE: 63,
  WRITE_CLASS_OF_DEVICE: 73,
  WRITE_INQUIRY_MODE: 103,
  READ_LOCAL_EXTENDED_FEATURES: 118,
  SET_CONTROLLER_TO_HOST_FLOW_CONTROL: 85,
  HOST_BUFFER_SIZE: 86,
  READ_BUFFER_SIZE: 119,
  READ_BD_ADDR: 121,
  WRITE_EXTENDED_INQUIRY_RESPONSE: 137,
  WRITE_SIMPLE_PAIRING_MODE: 142,
  WRITE_LE_HOST_SUPPORTED: 198,
  LE_SET_EVENT_MASK: 200,
  LE_READ_BUFFER_SIZE: 201,
  WRITE_SECURE_CONNECTIONS_HOST_SUPPORT: 259,
} as const;

/** LMP feature bits, page 0 (Core Vol 2, Part C, 3.3): byte * 8 + bit. */
export const LMP_FEATURE = {
  RSSI_WITH_INQUIRY_RESULTS: 30,
  BR_EDR_NOT_SUPPORTED: 37,
  LE_SUPPORTED_CONTROLLER: 38,
  EXTENDED_INQUIRY_RESPONSE: 48,
  SECURE_SIMPLE_PAIRING: 51,
  EXTENDED_FEATURES: 63,
} as const;

/** Event mask: every BR/EDR event plus LE Meta (bit 61). */
export const HCI_EVENT_MASK_LOW = 0xffffffff;
export const HCI_EVENT_MASK_HIGH = 0x3fffffff;
/**
 * LE event mask: Connection Complete, Advertising Report, Connection Update Complete, Read Remote
 * Features Complete, Long Term Key Request, Data Length Change, Read Local P-256 Public Key
 * Complete, Generate DHKey Complete (bits 0-4, 6-8). Remote Connection Parameter Request (bit 5)
 * stays off so the controller answers parameter requests itself.
 */
export const HCI_LE_EVENT_MASK_LOW = 0x000001df;
export const HCI_LE_EVENT_MASK_HIGH = 0;

/** Inquiry_Mode values. */
export const INQUIRY_MODE_STANDARD = 0;
export const INQUIRY_MODE_RSSI = 1;
export const INQUIRY_MODE_RSSI_AND_EIR = 2;

const enum Step {
  RESET,
  CHIPSET_BAUDRATE,
  CHIPSET_INIT,
  CHIPSET_BD_ADDR,
  READ_LOCAL_VERSION,
  READ_SUPPORTED_COMMANDS,
  READ_FEATURES,
  READ_EXTENDED_FEATURES,
  READ_BD_ADDR,
  READ_BUFFER_SIZE,
  LE_READ_BUFFER_SIZE,
  HOST_BUFFER_SIZE,
  SET_CONTROLLER_TO_HOST_FLOW_CONTROL,
  SET_EVENT_MASK,
  LE_SET_EVENT_MASK,
  WRITE_SIMPLE_PAIRING_MODE,
  WRITE_SECURE_CONNECTIONS_HOST,
  WRITE_INQUIRY_MODE,
  WRITE_CLASS_OF_DEVICE,
  WRITE_LOCAL_NAME,
  WRITE_EIR,
  WRITE_LE_HOST_SUPPORTED,
  WRITE_SCAN_ENABLE,
  DONE,
}

function bit(bitmap: Uint8Array, n: number): boolean {
  return ((bitmap[n >> 3] ?? 0) & (1 << (n & 7))) !== 0;
}

export class HciInit {
  private step = Step.DONE;
  private started = false;
  /** Opcode whose Command Complete the sequence waits for (0 = none). */
  private waiting = 0;
  private readonly resetTimer: Timer;
  private chipsetCommands = 0;

  // What the controller told us
  hci_version = 0;
  hci_revision = 0;
  lmp_version = 0;
  manufacturer = 0;
  lmp_subversion = 0;
  readonly supported_commands = new Uint8Array(64);
  supported_commands_known = false;
  readonly local_features = new Uint8Array(8);
  readonly local_features_page1 = new Uint8Array(8);
  local_features_max_page = 0;
  readonly local_bd_addr = new Uint8Array(6);
  sco_data_packet_length = 0;
  sco_packets_total_num = 0;
  inquiry_mode = INQUIRY_MODE_STANDARD;
  resets_sent = 0;

  constructor(private readonly hci: Hci) {
    this.resetTimer = new Timer(() => this.onResetExpired());
  }

  get active(): boolean {
    return this.started;
  }

  /** Begin the sequence (transport open, state INITIALIZING). */
  start(): void {
    this.stop();
    this.started = true;
    this.step = Step.RESET;
    this.waiting = 0;
    this.chipsetCommands = 0;
    this.resets_sent = 0;
    this.supported_commands.fill(0);
    this.supported_commands_known = false;
    this.local_features.fill(0);
    this.local_features_page1.fill(0);
    this.local_features_max_page = 0;
  }

  stop(): void {
    this.started = false;
    this.step = Step.DONE;
    this.waiting = 0;
    this.hci.run_loop.remove_timer(this.resetTimer);
  }

  supports_command(bitNumber: number): boolean {
    return !this.supported_commands_known || bit(this.supported_commands, bitNumber);
  }
  has_feature(bitNumber: number): boolean {
    return bit(this.local_features, bitNumber);
  }
  get classic_supported(): boolean {
    return !this.has_feature(LMP_FEATURE.BR_EDR_NOT_SUPPORTED);
  }
  get le_supported(): boolean {
    return this.has_feature(LMP_FEATURE.LE_SUPPORTED_CONTROLLER);
  }

  /** Whether the step applies to this controller and configuration. */
  private applies(step: Step): boolean {
    const hci = this.hci;
    const chipset = hci.chipset;
    const classic = this.classic_supported;
    const le = this.le_supported;
    switch (step) {
      case Step.CHIPSET_BAUDRATE: {
        const cfg = hci.transport_config;
        const main = cfg?.baudrate_main ?? 0;
        return !!chipset?.set_baudrate_command && main > 0 && main !== (cfg?.baudrate_init ?? 0);
      }
      case Step.CHIPSET_INIT:
        return !!chipset?.next_command;
      case Step.CHIPSET_BD_ADDR:
        return !!chipset?.set_bd_addr_command && hci.custom_bd_addr !== null;
      case Step.READ_EXTENDED_FEATURES:
        return this.has_feature(LMP_FEATURE.EXTENDED_FEATURES) && this.supports_command(SUPPORTED_COMMAND.READ_LOCAL_EXTENDED_FEATURES);
      case Step.LE_READ_BUFFER_SIZE:
        return le && this.supports_command(SUPPORTED_COMMAND.LE_READ_BUFFER_SIZE);
      case Step.LE_SET_EVENT_MASK:
        return le && this.supports_command(SUPPORTED_COMMAND.LE_SET_EVENT_MASK);
      case Step.HOST_BUFFER_SIZE:
        return hci.host_flow.enabled && this.supports_command(SUPPORTED_COMMAND.HOST_BUFFER_SIZE) &&
          this.supports_command(SUPPORTED_COMMAND.SET_CONTROLLER_TO_HOST_FLOW_CONTROL);
      case Step.SET_CONTROLLER_TO_HOST_FLOW_CONTROL:
        return hci.host_flow.buffer_size_set;
      case Step.WRITE_SIMPLE_PAIRING_MODE:
        return classic && hci.gap.ssp_enabled && this.has_feature(LMP_FEATURE.SECURE_SIMPLE_PAIRING) && this.supports_command(SUPPORTED_COMMAND.WRITE_SIMPLE_PAIRING_MODE);
      case Step.WRITE_SECURE_CONNECTIONS_HOST:
        return classic && hci.gap.secure_connections_enabled && this.supported_commands_known && bit(this.supported_commands, SUPPORTED_COMMAND.WRITE_SECURE_CONNECTIONS_HOST_SUPPORT);
      case Step.WRITE_INQUIRY_MODE:
        return classic && this.supports_command(SUPPORTED_COMMAND.WRITE_INQUIRY_MODE);
      case Step.WRITE_CLASS_OF_DEVICE:
        return classic && this.supports_command(SUPPORTED_COMMAND.WRITE_CLASS_OF_DEVICE);
      case Step.WRITE_LOCAL_NAME:
        return classic && this.supports_command(SUPPORTED_COMMAND.WRITE_LOCAL_NAME);
      case Step.WRITE_EIR:
        return classic && this.has_feature(LMP_FEATURE.EXTENDED_INQUIRY_RESPONSE) && this.supports_command(SUPPORTED_COMMAND.WRITE_EXTENDED_INQUIRY_RESPONSE);
      case Step.WRITE_LE_HOST_SUPPORTED:
        return le && classic && this.supports_command(SUPPORTED_COMMAND.WRITE_LE_HOST_SUPPORTED);
      case Step.WRITE_SCAN_ENABLE:
        return classic && this.supports_command(SUPPORTED_COMMAND.WRITE_SCAN_ENABLE);
      default:
        return true;
    }
  }

  /**
   * Send the next init command if the sequence is not waiting and a command can go out.
   * Returns true when it sent one. Reaching the end switches HCI to WORKING.
   */
  run(): boolean {
    if (!this.started || this.waiting !== 0) return false;
    for (;;) {
      if (this.step === Step.DONE) {
        this.hci.initDone();
        return false;
      }
      if (!this.hci.canSendCommandInternal()) return false;
      if (!this.applies(this.step)) {
        this.step++;
        continue;
      }
      if (this.step === Step.CHIPSET_INIT) {
        const n = this.hci.chipset!.next_command!(this.hci.commandBuffer());
        if (n <= 0) {
          this.step++;
          continue;
        }
        this.chipsetCommands++;
        this.sendRaw(n);
        return true;
      }
      if (this.sendStep(this.step)) return true;
      this.step++;
    }
  }

  private sendRaw(size: number): void {
    const buf = this.hci.commandBuffer();
    this.waiting = little_endian_read_16(buf, 0);
    this.hci.sendCommandPacketInternal(buf, size);
  }

  private send(cmd: HciCommand, ...args: Array<number | Uint8Array | string>): true {
    this.waiting = cmd.opcode;
    this.hci.sendCommandInternal(cmd, ...args);
    return true;
  }

  /** Send the step's command; false when there is nothing to send (the step is skipped). */
  private sendStep(step: Step): boolean {
    const hci = this.hci;
    const gap = hci.gap;
    switch (step) {
      case Step.RESET:
        this.resets_sent++;
        // arm the resend timer first: the answer may come back before send() returns
        hci.run_loop.set_timer(this.resetTimer, HCI_RESET_RESEND_TIMEOUT_MS);
        hci.run_loop.add_timer(this.resetTimer);
        return this.send(hci_reset);
      case Step.CHIPSET_BAUDRATE: {
        const n = hci.chipset!.set_baudrate_command!(hci.transport_config!.baudrate_main!, hci.commandBuffer());
        if (n <= 0) return false;
        this.sendRaw(n);
        return true;
      }
      case Step.CHIPSET_BD_ADDR: {
        const n = hci.chipset!.set_bd_addr_command!(hci.custom_bd_addr!, hci.commandBuffer());
        if (n <= 0) return false;
        this.sendRaw(n);
        return true;
      }
      case Step.READ_LOCAL_VERSION:
        return this.send(hci_read_local_version_information);
      case Step.READ_SUPPORTED_COMMANDS:
        return this.send(hci_read_local_supported_commands);
      case Step.READ_FEATURES:
        return this.send(hci_read_local_supported_features);
      case Step.READ_EXTENDED_FEATURES:
        return this.send(hci_read_local_extended_features, 1);
      case Step.READ_BD_ADDR:
        return this.send(hci_read_bd_addr);
      case Step.READ_BUFFER_SIZE:
        return this.send(hci_read_buffer_size);
      case Step.LE_READ_BUFFER_SIZE:
        return this.send(hci_le_read_buffer_size);
      case Step.HOST_BUFFER_SIZE: {
        const flow = hci.host_flow;
        flow.acl_packet_length = flow.announced_length();
        flow.acl_packet_num = flow.announced_count();
        // synchronous length and count 0: SCO is not taken (synchronous flow control stays off)
        return this.send(hci_host_buffer_size, flow.acl_packet_length, 0, flow.acl_packet_num, 0);
      }
      case Step.SET_CONTROLLER_TO_HOST_FLOW_CONTROL:
        return this.send(hci_set_controller_to_host_flow_control, 0x01); // ACL on, synchronous off
      case Step.SET_EVENT_MASK:
        return this.send(hci_set_event_mask, HCI_EVENT_MASK_LOW, this.le_supported ? HCI_EVENT_MASK_HIGH : HCI_EVENT_MASK_HIGH & ~0x20000000);
      case Step.LE_SET_EVENT_MASK:
        return this.send(hci_le_set_event_mask, HCI_LE_EVENT_MASK_LOW, HCI_LE_EVENT_MASK_HIGH);
      case Step.WRITE_SIMPLE_PAIRING_MODE:
        return this.send(hci_write_simple_pairing_mode, 1);
      case Step.WRITE_SECURE_CONNECTIONS_HOST:
        return this.send(hci_write_secure_connections_host_support, 1);
      case Step.WRITE_INQUIRY_MODE:
        this.inquiry_mode = this.has_feature(LMP_FEATURE.EXTENDED_INQUIRY_RESPONSE)
          ? INQUIRY_MODE_RSSI_AND_EIR
          : this.has_feature(LMP_FEATURE.RSSI_WITH_INQUIRY_RESULTS)
            ? INQUIRY_MODE_RSSI
            : INQUIRY_MODE_STANDARD;
        return this.send(hci_write_inquiry_mode, this.inquiry_mode);
      case Step.WRITE_CLASS_OF_DEVICE:
        gap.class_of_device_todo = false;
        return this.send(hci_write_class_of_device, gap.class_of_device);
      case Step.WRITE_LOCAL_NAME:
        gap.local_name_todo = false;
        return this.send(hci_write_local_name, gap.local_name_bytes());
      case Step.WRITE_EIR:
        gap.eir_todo = false;
        return this.send(hci_write_extended_inquiry_response, 1, gap.eir_bytes());
      case Step.WRITE_LE_HOST_SUPPORTED:
        return this.send(hci_write_le_host_supported, 1, 0);
      case Step.WRITE_SCAN_ENABLE:
        gap.scan_enable_todo = false;
        return this.send(hci_write_scan_enable, gap.scan_enable_value());
      default:
        return false;
    }
  }

  private onResetExpired(): void {
    if (this.step !== Step.RESET || this.waiting !== hci_reset.opcode) return;
    this.hci.log.info(() => `HCI Reset not answered within ${HCI_RESET_RESEND_TIMEOUT_MS} ms, resending`);
    this.waiting = 0;
    this.hci.forceCommandCredit();
    this.hci.run();
  }

  /**
   * Command Complete (or a failed Command Status) for an init command. `ret` holds the return
   * parameters (status first). Returns true when the event belonged to the sequence.
   */
  command_complete(opcode: number, ret: Uint8Array): boolean {
    if (!this.started || this.waiting === 0 || opcode !== this.waiting) return false;
    this.waiting = 0;
    const status = ret.length > 0 ? ret[0]! : 0xff;
    const step = this.step;
    if (step === Step.RESET) this.hci.run_loop.remove_timer(this.resetTimer);
    if (status !== ERROR_CODE_SUCCESS) {
      this.hci.log.error(() => `init: ${stepName(step)} (opcode 0x${opcode.toString(16).padStart(4, '0')}) failed with status 0x${status.toString(16)}`);
    } else {
      this.store(step, ret);
    }
    if (step === Step.CHIPSET_INIT) return true; // next_command() decides when the script ends
    this.step++;
    return true;
  }

  private store(step: Step, r: Uint8Array): void {
    const hci = this.hci;
    switch (step) {
      case Step.CHIPSET_BAUDRATE: {
        const baud = hci.transport_config?.baudrate_main ?? 0;
        const t = hci.transport;
        if (t?.set_baudrate && baud > 0) {
          const err = t.set_baudrate(baud);
          if (err) hci.log.error(() => `transport.set_baudrate(${baud}) failed: ${err}`);
          else hci.log.info(() => `switched to ${baud} baud`);
        }
        return;
      }
      case Step.READ_LOCAL_VERSION:
        if (r.length < 9) return;
        this.hci_version = r[1]!;
        this.hci_revision = little_endian_read_16(r, 2);
        this.lmp_version = r[4]!;
        this.manufacturer = little_endian_read_16(r, 5);
        this.lmp_subversion = little_endian_read_16(r, 7);
        return;
      case Step.READ_SUPPORTED_COMMANDS:
        if (r.length < 65) return;
        this.supported_commands.set(r.subarray(1, 65));
        this.supported_commands_known = true;
        return;
      case Step.READ_FEATURES:
        if (r.length < 9) return;
        this.local_features.set(r.subarray(1, 9));
        return;
      case Step.READ_EXTENDED_FEATURES:
        if (r.length < 11 || r[1] !== 1) return;
        this.local_features_max_page = r[2]!;
        this.local_features_page1.set(r.subarray(3, 11));
        return;
      case Step.READ_BD_ADDR:
        if (r.length < 7) return;
        reverse_bd_addr(r, 1, this.local_bd_addr);
        hci.log.info(() => `local address ${bd_addr_to_str(this.local_bd_addr)}`);
        return;
      case Step.READ_BUFFER_SIZE:
        if (r.length < 8) return;
        hci.acl.acl_data_packet_length = little_endian_read_16(r, 1);
        this.sco_data_packet_length = r[3]!;
        hci.acl.acl_packets_total_num = little_endian_read_16(r, 4);
        this.sco_packets_total_num = little_endian_read_16(r, 6);
        hci.log.info(() => `controller ACL buffers: ${hci.acl.acl_packets_total_num} x ${hci.acl.acl_data_packet_length} bytes`);
        return;
      case Step.HOST_BUFFER_SIZE:
        hci.host_flow.buffer_size_set = true;
        return;
      case Step.SET_CONTROLLER_TO_HOST_FLOW_CONTROL:
        hci.host_flow.active = true;
        hci.log.info(() => `controller-to-host flow control on: ${hci.host_flow.acl_packet_num} x ${hci.host_flow.acl_packet_length} bytes`);
        return;
      case Step.LE_READ_BUFFER_SIZE:
        if (r.length < 4) return;
        hci.acl.le_data_packets_length = little_endian_read_16(r, 1);
        hci.acl.le_acl_packets_total_num = r[3]!;
        if (hci.acl.le_data_packets_length === 0) hci.acl.le_acl_packets_total_num = 0; // shared with BR/EDR
        hci.log.info(() =>
          hci.acl.le_acl_packets_total_num > 0
            ? `controller LE buffers: ${hci.acl.le_acl_packets_total_num} x ${hci.acl.le_data_packets_length} bytes`
            : 'controller LE buffers shared with BR/EDR',
        );
        return;
      default:
        return;
    }
  }
}

function stepName(step: Step): string {
  return [
    'Reset', 'chipset baud rate', 'chipset init', 'chipset BD_ADDR', 'Read Local Version', 'Read Local Supported Commands',
    'Read Local Supported Features', 'Read Local Extended Features', 'Read BD_ADDR', 'Read Buffer Size', 'LE Read Buffer Size',
    'Host Buffer Size', 'Set Controller To Host Flow Control', 'Set Event Mask', 'LE Set Event Mask', 'Write Simple Pairing Mode', 'Write Secure Connections Host Support',
    'Write Inquiry Mode', 'Write Class of Device', 'Write Local Name', 'Write Extended Inquiry Response',
    'Write LE Host Supported', 'Write Scan Enable', 'done',
  ][step] ?? String(step);
}
