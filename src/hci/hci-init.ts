/**
 * The power-on init sequence of HCI, one command at a time (BTstack's hci_initializing_run):
 *
 *   Reset (resent every 200 ms until Command Complete)
 *   Read Local Version Information (an event handler may pick the chipset driver from it here,
 *     as BTstack's posix-h4 main does: hci_set_chipset before the next step)
 *   chipset: baud-rate command (then transport.set_baudrate), vendor init commands (patches);
 *     when the chipset reports a restart (`restart_delay_ms`, Broadcom's Launch RAM): wait, switch
 *     the port back to baudrate_init, Reset, baud-rate command again, Read Local Version again
 *   chipset BD_ADDR
 *   Read Local Supported Commands, Read Local Supported Features,
 *   Read Local Extended Features page 1 (if the controller has extended features),
 *   Read BD_ADDR, Read Buffer Size, LE Read Buffer Size (LE controllers),
 *   Host Buffer Size, Set Controller To Host Flow Control (host_flow_control, hci-host-flow.ts),
 *   Set Event Mask, LE Set Event Mask,
 *   Write Simple Pairing Mode, Write Secure Connections Host Support, Write Inquiry Mode,
 *   Write Class of Device, Write Local Name, Write Extended Inquiry Response,
 *   Write LE Host Supported, Write Scan Enable
 *
 * Optional steps are sent only when the controller lists the command in its supported commands
 * (and has the feature). The answers the host depends on (Reset, Read Local Version, Read Local
 * Supported Commands / Features, Read BD_ADDR, Read Buffer Size, LE Read Buffer Size) must come
 * with status success and their full return parameters, and some ACL buffer must exist: otherwise
 * power-on fails (BTSTACK_EVENT_POWERON_FAILED, OFF) with the command and status logged. Any
 * other step answered with an error status is logged and skipped over. No answer for
 * HCI_INIT_TIMEOUT_MS (a silent controller, or one granting no command credit) fails power-on too.
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
  type HciArg,
  type HciCommand,
} from './commands.js';
import {
  HCI_EVENT_MASK_HIGH,
  HCI_EVENT_MASK_LOW,
  HCI_LE_EVENT_MASK_HIGH,
  HCI_LE_EVENT_MASK_LOW,
  INQUIRY_MODE_RSSI,
  INQUIRY_MODE_RSSI_AND_EIR,
  INQUIRY_MODE_STANDARD,
  LMP_FEATURE,
  REQUIRED_ANSWERS,
  SUPPORTED_COMMAND,
  Step,
  op4,
  stepName,
} from './hci-init-steps.js';
import type { HciState } from './hci-state.js';

/** BTstack's HCI_RESET_RESEND_TIMEOUT_MS. */
export const HCI_RESET_RESEND_TIMEOUT_MS = 200;
/**
 * Power-on gives up when the init sequence makes no progress for this long (ms): BTstack resends
 * Reset forever; bthost fails with BTSTACK_EVENT_POWERON_FAILED after 5 s (25 Resets).
 */
export const HCI_INIT_TIMEOUT_MS = 5000;

/** The GAP settings the init sequence writes (gap-classic.ts); `take_*` clears that setting's pending write. */
export interface HciInitGap {
  ssp_enabled(): boolean;
  secure_connections_enabled(): boolean;
  take_class_of_device(): number;
  take_local_name(): Uint8Array;
  take_eir(): Uint8Array;
  take_scan_enable(): number;
}

/** What the init sequence needs from its siblings (the command scheduler, the power machine, GAP). */
export interface HciInitPeers {
  can_send_command(): boolean;
  /** The shared buffer for building a command (chipset commands are written into it). */
  command_buffer(): Uint8Array;
  send_command(cmd: HciCommand, ...args: HciArg[]): boolean;
  send_command_packet(packet: Uint8Array, size: number): boolean;
  /** The Reset resend path: the controller may have lost the first Reset. */
  force_command_credit(): void;
  run(): void;
  /** The sequence reached its end: HCI goes WORKING. */
  init_done(): void;
  /** Power-on failed (`why` names the command and status): POWERON_FAILED, then OFF. */
  init_failed(why: string): void;
  /** GAP classic settings written during init (gap-classic.ts). */
  readonly classic: HciInitGap;
}

export class HciInit {
  private step = Step.DONE;
  private started = false;
  /** Opcode whose Command Complete the sequence waits for (0 = none). */
  private waiting = 0;
  private readonly resetTimer: Timer;
  private chipsetCommands = 0;
  private resets_sent = 0;
  /** The port runs at baudrate_main (the chipset's baud-rate command completed). */
  private switched = false;
  private readonly restartTimer: Timer;
  /** No progress for HCI_INIT_TIMEOUT_MS: power-on fails. */
  private readonly progressTimer: Timer;
  /** Run-loop time of the last progress plus its allowance. */
  private progressDeadline = 0;

  constructor(
    private readonly s: HciState,
    private readonly x: HciInitPeers,
  ) {
    this.resetTimer = new Timer(HciInit.timerFired, this);
    this.progressTimer = new Timer(HciInit.timerFired, this);
    this.restartTimer = new Timer(HciInit.timerFired, this);
    this.pauseTimer = new Timer(HciInit.timerFired, this);
  }

  /** The timers' handler (this HciInit is their context): closures made per Stack kept dead Stacks reachable for V8's young-generation GC (gap-le.ts). */
  private static timerFired(this: void, t: Timer): void {
    const init = t.context as HciInit;
    if (t === init.resetTimer) init.onResetExpired();
    else if (t === init.progressTimer) init.onNoProgress();
    else if (t === init.restartTimer) init.onRestartWaited();
    else if (init.waiting === -2) {
      init.waiting = 0; // the chipset's pause is over
      init.x.run();
    }
  }

  /** Begin the sequence (transport open, state INITIALIZING). */
  start(): void {
    this.stop();
    this.started = true;
    this.step = Step.RESET;
    this.waiting = 0;
    this.chipsetCommands = 0;
    this.resets_sent = 0;
    this.switched = false;
    this.restarted = false;
    const c = this.s.controller;
    c.supported_commands.fill(0);
    c.supported_commands_known = false;
    c.local_features.fill(0);
    c.local_features_page1.fill(0);
    c.local_features_max_page = 0;
    this.progress();
  }

  /**
   * The sequence moved on: the controller has another HCI_INIT_TIMEOUT_MS (plus `extra_ms`). One
   * timer for the whole sequence: it stays queued while its deadline is no later than the new one
   * and, firing before the last progress's deadline, waits for the rest (not re-queued per step).
   */
  private progress(extra_ms = 0): void {
    const rl = this.s.run_loop;
    const t = this.progressTimer;
    const deadline = rl.get_time_ms() + HCI_INIT_TIMEOUT_MS + extra_ms;
    this.progressDeadline = deadline;
    if (t.active && t.timeout <= deadline) return;
    rl.remove_timer(t);
    rl.set_timer(t, HCI_INIT_TIMEOUT_MS + extra_ms);
    rl.add_timer(t);
  }

  private onNoProgress(): void {
    if (!this.started) return;
    const rl = this.s.run_loop;
    const left = this.progressDeadline - rl.get_time_ms();
    if (left > 0) {
      rl.set_timer(this.progressTimer, left);
      rl.add_timer(this.progressTimer);
      return;
    }
    const what =
      this.waiting > 0
        ? `${stepName(this.step)} (opcode ${op4(this.waiting)}) not answered`
        : `${stepName(this.step)} not sent: the controller gives no command credit (Num_HCI_Command_Packets ${this.s.cmd_credits})`;
    const resets = this.resets_sent > 1 ? ` (${this.resets_sent} Resets sent)` : '';
    this.fail(`${what} within ${HCI_INIT_TIMEOUT_MS} ms${resets}`);
  }

  private fail(why: string): void {
    this.stop();
    this.x.init_failed(why);
  }

  stop(): void {
    this.started = false;
    this.step = Step.DONE;
    this.waiting = 0;
    this.s.run_loop.remove_timer(this.resetTimer);
    this.s.run_loop.remove_timer(this.restartTimer);
    this.s.run_loop.remove_timer(this.progressTimer);
    this.s.run_loop.remove_timer(this.pauseTimer);
  }

  /** A chipset pause between its commands (pause_ms); `paused`: taken before the next one. */
  private paused = false;
  private readonly pauseTimer: Timer;

  /** The chipset restarted the controller after its init commands (the wait step ran). */
  private restarted = false;

  /** Whether the step applies to this controller and configuration. */
  private applies(step: Step): boolean {
    const s = this.s;
    const c = s.controller;
    const chipset = s.chipset;
    const classic = c.classic_supported;
    const le = c.le_supported;
    switch (step) {
      case Step.CHIPSET_RESTART_WAIT:
        return this.chipsetCommands > 0 && (chipset?.restart_delay_ms?.() ?? 0) > 0;
      case Step.CHIPSET_RESTART_RESET:
      case Step.CHIPSET_RESTART_READ_LOCAL_VERSION:
        return this.restarted;
      case Step.CHIPSET_RESTART_BAUDRATE:
        return this.restarted && this.applies(Step.CHIPSET_BAUDRATE);
      case Step.CHIPSET_BAUDRATE: {
        const cfg = s.transport_config;
        const main = cfg?.baudrate_main ?? 0;
        return !!chipset?.set_baudrate_command && main > 0 && main !== (cfg?.baudrate_init ?? 0);
      }
      case Step.CHIPSET_INIT:
        return !!chipset?.next_command;
      case Step.CHIPSET_BD_ADDR:
        return !!chipset?.set_bd_addr_command && s.custom_bd_addr !== null;
      case Step.READ_EXTENDED_FEATURES:
        return c.has_feature(LMP_FEATURE.EXTENDED_FEATURES) && c.supports_command(SUPPORTED_COMMAND.READ_LOCAL_EXTENDED_FEATURES);
      case Step.LE_READ_BUFFER_SIZE:
        return le && c.supports_command(SUPPORTED_COMMAND.LE_READ_BUFFER_SIZE);
      case Step.LE_SET_EVENT_MASK:
        return le && c.supports_command(SUPPORTED_COMMAND.LE_SET_EVENT_MASK);
      case Step.HOST_BUFFER_SIZE:
        return (
          s.host_flow.enabled &&
          c.supports_command(SUPPORTED_COMMAND.HOST_BUFFER_SIZE) &&
          c.supports_command(SUPPORTED_COMMAND.SET_CONTROLLER_TO_HOST_FLOW_CONTROL)
        );
      case Step.SET_CONTROLLER_TO_HOST_FLOW_CONTROL:
        return s.host_flow.buffer_size_set;
      case Step.WRITE_SIMPLE_PAIRING_MODE:
        return (
          classic &&
          this.x.classic.ssp_enabled() &&
          c.has_feature(LMP_FEATURE.SECURE_SIMPLE_PAIRING) &&
          c.supports_command(SUPPORTED_COMMAND.WRITE_SIMPLE_PAIRING_MODE)
        );
      case Step.WRITE_SECURE_CONNECTIONS_HOST:
        return (
          classic &&
          this.x.classic.secure_connections_enabled() &&
          c.supports_command_known(SUPPORTED_COMMAND.WRITE_SECURE_CONNECTIONS_HOST_SUPPORT)
        );
      case Step.WRITE_INQUIRY_MODE:
        return classic && c.supports_command(SUPPORTED_COMMAND.WRITE_INQUIRY_MODE);
      case Step.WRITE_CLASS_OF_DEVICE:
        return classic && c.supports_command(SUPPORTED_COMMAND.WRITE_CLASS_OF_DEVICE);
      case Step.WRITE_LOCAL_NAME:
        return classic && c.supports_command(SUPPORTED_COMMAND.WRITE_LOCAL_NAME);
      case Step.WRITE_EIR:
        return (
          classic &&
          c.has_feature(LMP_FEATURE.EXTENDED_INQUIRY_RESPONSE) &&
          c.supports_command(SUPPORTED_COMMAND.WRITE_EXTENDED_INQUIRY_RESPONSE)
        );
      case Step.WRITE_LE_HOST_SUPPORTED:
        return le && classic && c.supports_command(SUPPORTED_COMMAND.WRITE_LE_HOST_SUPPORTED);
      case Step.WRITE_SCAN_ENABLE:
        return classic && c.supports_command(SUPPORTED_COMMAND.WRITE_SCAN_ENABLE);
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
        const c = this.s.controller;
        if (
          !(c.acl_packets_total_num > 0 && c.acl_data_packet_length > 0) &&
          !(c.le_acl_packets_total_num > 0 && c.le_data_packets_length > 0)
        ) {
          this.fail(
            `no ACL buffers: Read Buffer Size gave ${c.acl_packets_total_num} x ${c.acl_data_packet_length}, LE Read Buffer Size ${c.le_acl_packets_total_num} x ${c.le_data_packets_length}`,
          );
          return false;
        }
        this.stop();
        this.x.init_done();
        return false;
      }
      if (!this.x.can_send_command()) return false;
      if (!this.applies(this.step)) {
        this.step++;
        continue;
      }
      if (this.step === Step.CHIPSET_INIT) {
        const pause = this.chipsetCommands > 0 && !this.paused ? (this.s.chipset!.pause_ms?.() ?? 0) : 0;
        this.paused = pause > 0;
        if (pause > 0) {
          this.waiting = -2; // no command: the timer goes on
          this.s.run_loop.set_timer(this.pauseTimer, pause);
          this.s.run_loop.add_timer(this.pauseTimer);
          return true;
        }
        const n = this.s.chipset!.next_command!(this.x.command_buffer());
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
    const buf = this.x.command_buffer();
    this.waiting = little_endian_read_16(buf, 0);
    this.x.send_command_packet(buf, size);
  }

  private send(cmd: HciCommand, ...args: HciArg[]): true {
    this.waiting = cmd.opcode;
    this.x.send_command(cmd, ...args);
    return true;
  }

  /** Send the step's command; false when there is nothing to send (the step is skipped). */
  private sendStep(step: Step): boolean {
    const s = this.s;
    const c = s.controller;
    const gap = this.x.classic;
    switch (step) {
      case Step.CHIPSET_RESTART_WAIT: {
        const ms = s.chipset!.restart_delay_ms!();
        s.log.info(() => `chipset: controller restarts, waiting ${ms} ms`);
        this.restarted = true;
        this.waiting = -1; // no command: the timer moves on
        this.progress(ms);
        s.run_loop.set_timer(this.restartTimer, ms);
        s.run_loop.add_timer(this.restartTimer);
        return true;
      }
      case Step.RESET:
      case Step.CHIPSET_RESTART_RESET:
        this.resets_sent++;
        // arm the resend timer first: the answer may come back before send() returns
        s.run_loop.set_timer(this.resetTimer, HCI_RESET_RESEND_TIMEOUT_MS);
        s.run_loop.add_timer(this.resetTimer);
        return this.send(hci_reset);
      case Step.CHIPSET_BAUDRATE:
      case Step.CHIPSET_RESTART_BAUDRATE: {
        const n = s.chipset!.set_baudrate_command!(s.transport_config!.baudrate_main!, this.x.command_buffer());
        if (n <= 0) return false;
        this.sendRaw(n);
        return true;
      }
      case Step.CHIPSET_BD_ADDR: {
        const n = s.chipset!.set_bd_addr_command!(s.custom_bd_addr!, this.x.command_buffer());
        if (n <= 0) return false;
        this.sendRaw(n);
        return true;
      }
      case Step.READ_LOCAL_VERSION:
      case Step.CHIPSET_RESTART_READ_LOCAL_VERSION:
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
        const flow = s.host_flow;
        flow.acl_packet_length = this.announced_length();
        flow.acl_packet_num = Math.max(1, Math.min(s.config.HCI_HOST_ACL_PACKET_NUM, 0xffff));
        // synchronous length and count 0: SCO is not taken (synchronous flow control stays off)
        return this.send(hci_host_buffer_size, flow.acl_packet_length, 0, flow.acl_packet_num, 0);
      }
      case Step.SET_CONTROLLER_TO_HOST_FLOW_CONTROL:
        return this.send(hci_set_controller_to_host_flow_control, 0x01); // ACL on, synchronous off
      case Step.SET_EVENT_MASK:
        return this.send(
          hci_set_event_mask,
          HCI_EVENT_MASK_LOW,
          c.le_supported ? HCI_EVENT_MASK_HIGH : HCI_EVENT_MASK_HIGH & ~0x20000000,
        );
      case Step.LE_SET_EVENT_MASK:
        return this.send(hci_le_set_event_mask, HCI_LE_EVENT_MASK_LOW, HCI_LE_EVENT_MASK_HIGH);
      case Step.WRITE_SIMPLE_PAIRING_MODE:
        return this.send(hci_write_simple_pairing_mode, 1);
      case Step.WRITE_SECURE_CONNECTIONS_HOST:
        return this.send(hci_write_secure_connections_host_support, 1);
      case Step.WRITE_INQUIRY_MODE:
        c.inquiry_mode = c.has_feature(LMP_FEATURE.EXTENDED_INQUIRY_RESPONSE)
          ? INQUIRY_MODE_RSSI_AND_EIR
          : c.has_feature(LMP_FEATURE.RSSI_WITH_INQUIRY_RESULTS)
            ? INQUIRY_MODE_RSSI
            : INQUIRY_MODE_STANDARD;
        return this.send(hci_write_inquiry_mode, c.inquiry_mode);
      case Step.WRITE_CLASS_OF_DEVICE:
        return this.send(hci_write_class_of_device, gap.take_class_of_device());
      case Step.WRITE_LOCAL_NAME:
        return this.send(hci_write_local_name, gap.take_local_name());
      case Step.WRITE_EIR:
        return this.send(hci_write_extended_inquiry_response, 1, gap.take_eir());
      case Step.WRITE_LE_HOST_SUPPORTED:
        return this.send(hci_write_le_host_supported, 1, 0);
      case Step.WRITE_SCAN_ENABLE:
        return this.send(hci_write_scan_enable, gap.take_scan_enable());
      default:
        return false;
    }
  }

  /** The controller has had its time to restart: the port back at baudrate_init, then Reset. */
  private onRestartWaited(): void {
    if (this.step !== Step.CHIPSET_RESTART_WAIT || this.waiting !== -1) return;
    const s = this.s;
    const init = s.transport_config?.baudrate_init ?? 0;
    if (this.switched && init > 0 && s.transport?.set_baudrate) {
      const err = s.transport.set_baudrate(init);
      if (err) s.log.error(() => `transport.set_baudrate(${init}) failed: ${err}`);
      else s.log.info(() => `back to ${init} baud after the controller restart`);
    }
    this.switched = false;
    this.waiting = 0;
    this.step++;
    this.x.run();
  }

  private onResetExpired(): void {
    if ((this.step !== Step.RESET && this.step !== Step.CHIPSET_RESTART_RESET) || this.waiting !== hci_reset.opcode) return;
    this.s.log.info(() => `HCI Reset not answered within ${HCI_RESET_RESEND_TIMEOUT_MS} ms, resending`);
    this.waiting = 0;
    this.x.force_command_credit();
    this.x.run();
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
    if (step === Step.RESET || step === Step.CHIPSET_RESTART_RESET) this.s.run_loop.remove_timer(this.resetTimer);
    this.progress();
    const required = REQUIRED_ANSWERS.get(step);
    if (status !== ERROR_CODE_SUCCESS) {
      const why = `${stepName(step)} (opcode ${op4(opcode)}) failed with status 0x${status.toString(16).padStart(2, '0')}`;
      if (required !== undefined) {
        this.fail(why);
        return true;
      }
      this.s.log.error(() => `init: ${why}`);
    } else if (required !== undefined && ret.length < required) {
      this.fail(
        `${stepName(step)} (opcode ${op4(opcode)}): malformed answer, ${ret.length} bytes of return parameters, ${required} expected`,
      );
      return true;
    } else {
      this.store(step, ret);
    }
    if (step === Step.CHIPSET_INIT) {
      this.s.chipset?.command_complete?.(opcode, ret); // then next_command() decides when the script ends
      return true;
    }
    this.step++;
    return true;
  }

  /**
   * The ACL data length to announce in Host Buffer Size: HCI_HOST_ACL_PACKET_LEN, at most what the
   * transport's receive path takes (its H4 buffer) and at most 65535; at least 1.
   */
  private announced_length(): number {
    const cfg = this.s.config.HCI_HOST_ACL_PACKET_LEN;
    const t = this.s.transport?.max_acl_receive_length?.() ?? 0xffff;
    return Math.max(1, Math.min(cfg, t, 0xffff));
  }

  private store(step: Step, r: Uint8Array): void {
    const s = this.s;
    const c = s.controller;
    switch (step) {
      case Step.CHIPSET_BAUDRATE:
      case Step.CHIPSET_RESTART_BAUDRATE: {
        const baud = s.transport_config?.baudrate_main ?? 0;
        const t = s.transport;
        if (t?.set_baudrate && baud > 0) {
          const err = t.set_baudrate(baud);
          if (err) s.log.error(() => `transport.set_baudrate(${baud}) failed: ${err}`);
          else {
            this.switched = true;
            s.log.info(() => `switched to ${baud} baud`);
          }
        }
        return;
      }
      case Step.READ_LOCAL_VERSION:
      case Step.CHIPSET_RESTART_READ_LOCAL_VERSION:
        if (r.length < 9) return;
        c.hci_version = r[1]!;
        c.hci_revision = little_endian_read_16(r, 2);
        c.lmp_version = r[4]!;
        c.manufacturer = little_endian_read_16(r, 5);
        c.lmp_subversion = little_endian_read_16(r, 7);
        return;
      case Step.READ_SUPPORTED_COMMANDS:
        if (r.length < 65) return;
        c.supported_commands.set(r.subarray(1, 65));
        c.supported_commands_known = true;
        return;
      case Step.READ_FEATURES:
        if (r.length < 9) return;
        c.local_features.set(r.subarray(1, 9));
        return;
      case Step.READ_EXTENDED_FEATURES:
        if (r.length < 11 || r[1] !== 1) return;
        c.local_features_max_page = r[2]!;
        c.local_features_page1.set(r.subarray(3, 11));
        return;
      case Step.READ_BD_ADDR:
        if (r.length < 7) return;
        reverse_bd_addr(r, 1, c.local_bd_addr);
        s.log.info(() => `local address ${bd_addr_to_str(c.local_bd_addr)}`);
        return;
      case Step.READ_BUFFER_SIZE:
        if (r.length < 8) return;
        c.acl_data_packet_length = little_endian_read_16(r, 1);
        c.sco_data_packet_length = r[3]!;
        c.acl_packets_total_num = little_endian_read_16(r, 4);
        c.sco_packets_total_num = little_endian_read_16(r, 6);
        s.log.info(() => `controller ACL buffers: ${c.acl_packets_total_num} x ${c.acl_data_packet_length} bytes`);
        return;
      case Step.HOST_BUFFER_SIZE:
        s.host_flow.buffer_size_set = true;
        return;
      case Step.SET_CONTROLLER_TO_HOST_FLOW_CONTROL:
        s.host_flow.active = true;
        s.log.info(
          () => `controller-to-host flow control on: ${s.host_flow.acl_packet_num} x ${s.host_flow.acl_packet_length} bytes`,
        );
        return;
      case Step.LE_READ_BUFFER_SIZE:
        if (r.length < 4) return;
        c.le_data_packets_length = little_endian_read_16(r, 1);
        c.le_acl_packets_total_num = r[3]!;
        if (c.le_data_packets_length === 0) c.le_acl_packets_total_num = 0; // shared with BR/EDR
        s.log.info(() =>
          c.le_acl_packets_total_num > 0
            ? `controller LE buffers: ${c.le_acl_packets_total_num} x ${c.le_data_packets_length} bytes`
            : 'controller LE buffers shared with BR/EDR',
        );
        return;
      default:
        return;
    }
  }
}
