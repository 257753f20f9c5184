/**
 * LE GAP: the random address (gap_random_address_set / _set_mode: off, static, non-resolvable or
 * resolvable private; the private addresses are made anew every update period, 15 minutes by
 * default as BTstack, on a run-loop timer; resolvable ones come from the Security Manager, which
 * holds our IRK: `set_resolvable_address_source`), advertising (parameters, data, scan response,
 * enable), scanning (parameters, enable) and the parameters gap_connect uses. Advertising,
 * scanning and connecting use the random address (own address type 1) once one is set. LE Set
 * Random Address is refused while advertising, scanning or initiating (Vol 4 Part E 7.8.4), so
 * run() pauses advertising and scanning around it (as BTstack does) and waits while an LE Create
 * Connection is under way. What the app configured is kept across power cycles and written again
 * after every controller reset; run() sends one command at a time, waiting for each enable /
 * disable to complete.
 */
import { randomBytes } from 'node:crypto';
import { bd_addr_cmp, bd_addr_copy, type BdAddr } from '../core/bytes.js';
import { Timer, type RunLoop } from '../core/run-loop.js';
import { ERROR_CODE_SUCCESS, ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE } from '../codes/v1.4.js';
import {
  hci_le_set_advertise_enable,
  hci_le_set_advertising_data,
  hci_le_set_advertising_parameters,
  hci_le_set_random_address,
  hci_le_set_scan_enable,
  hci_le_set_scan_parameters,
  hci_le_set_scan_response_data,
  type HciArg,
  type HciCommand,
} from './commands.js';
import { GapLePrivacy } from './gap-le-privacy.js';
import type { GapLeConn } from './gap-le-conn.js';
import type { GapLeConnectionParameters } from './hci-link-control.js';

const ADV_PARAMS = 1 << 0;
const ADV_DATA = 1 << 1;
const ADV_SCAN_DATA = 1 << 2;
const ADV_ENABLE = 1 << 3;

/** BTstack's gap_random_address_type_t (gap.h, v1.8 numbering; v1.4.1 had no STATIC). */
export const GAP_RANDOM_ADDRESS_TYPE_OFF = 0;
export const GAP_RANDOM_ADDRESS_TYPE_STATIC = 1;
export const GAP_RANDOM_ADDRESS_NON_RESOLVABLE = 2;
export const GAP_RANDOM_ADDRESS_RESOLVABLE = 3;

/** A static random address (Vol 6 Part B 1.3.2.1): two top bits 1, the rest random, not all 0 or all 1. */
export function gap_static_random_address(): BdAddr {
  for (;;) {
    const a = new Uint8Array(randomBytes(6));
    a[0] = a[0]! | 0xc0;
    const rest = Array.from(a, (v, i) => (i === 0 ? v & 0x3f : v));
    if (rest.some((v) => v !== 0) && rest.some((v, i) => v !== (i === 0 ? 0x3f : 0xff))) return a;
  }
}

/**
 * A non-resolvable private address (Vol 6 Part B 1.3.2.2): two top bits 0, the rest random, not
 * all 0 or all 1, and not the public address.
 */
export function gap_non_resolvable_private_address(public_addr: BdAddr): BdAddr {
  for (;;) {
    const a = new Uint8Array(randomBytes(6));
    a[0] = a[0]! & 0x3f;
    const ok = a.some((v) => v !== 0) && a.some((v, i) => v !== (i === 0 ? 0x3f : 0xff));
    if (ok && bd_addr_cmp(a, public_addr) !== 0) return a;
  }
}

/** BTstack's default update period of private addresses: 15 minutes. */
export const GAP_RANDOM_ADDRESS_UPDATE_PERIOD_DEFAULT_MS = 15 * 60 * 1000;

/** What LE GAP needs from its siblings. */
export interface GapLePeers {
  send_command(cmd: HciCommand, ...args: HciArg[]): boolean;
  run(): void;
  readonly run_loop: RunLoop;
  /** The controller's public address (a non-resolvable address must differ from it). */
  public_address(): BdAddr;
  /** An LE Create Connection is under way (LE Set Random Address would be refused). */
  initiating(): boolean;
  /** Supported_Commands bit `bit` is set (the resolving list needs its commands). */
  supports_command(bit: number): boolean;
}

/**
 * The update timer's handler, shared by every GapLe (the instance is the timer's context). A closure
 * assigned in the constructor instead (`timer.handler = () => ...`) kept every Stack ever built
 * reachable for V8's young-generation GC until the next full GC, so each scavenge copied and
 * promoted whole dead stacks (bench/startup.ts: ~19 % of CPU in GC against ~4 % at 182843b).
 */
function on_update_timer(timer: Timer): void {
  (timer.context as GapLe).update_timer_fired();
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
  // ---- random address
  private random_mode = GAP_RANDOM_ADDRESS_TYPE_OFF;
  private readonly random_addr = new Uint8Array(6);
  private randomAddrTodo = false;
  private randomAddrSent = false;
  /** A private address is due (timer fired or mode set) and is made once nothing initiates. */
  private privateAddrDue = false;
  private update_period_ms = GAP_RANDOM_ADDRESS_UPDATE_PERIOD_DEFAULT_MS;
  private readonly updateTimer = new Timer(on_update_timer, this);
  /** Makes a resolvable private address from our IRK (set by the Security Manager), or null. */
  private rpaSource: (() => BdAddr) | null = null;

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

  /** Connections, whitelist, parameter updates, data length, PHY (set once by Hci). */
  conn!: GapLeConn;

  /** The controller's resolving list (gap-le-privacy.ts). */
  readonly privacy: GapLePrivacy;

  constructor(private readonly x: GapLePeers) {
    this.privacy = new GapLePrivacy(x);
  }

  /** Own_Address_Type of advertising, scanning and LE Create Connection: 0 public, 1 random. */
  get le_own_address_type(): number {
    return this.random_mode === GAP_RANDOM_ADDRESS_TYPE_OFF ? 0 : 1;
  }

  // =============================================================== random address

  /**
   * gap_random_address_set_mode: OFF (public address), STATIC (a new static random address),
   * NON_RESOLVABLE or RESOLVABLE (a new private address now and every update period; RESOLVABLE
   * needs the Security Manager's IRK: 0x11 before the SM exists).
   */
  random_address_set_mode(mode: number): number {
    if (mode === GAP_RANDOM_ADDRESS_RESOLVABLE && !this.rpaSource) return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    this.x.run_loop.remove_timer(this.updateTimer);
    this.privateAddrDue = false;
    if (mode === GAP_RANDOM_ADDRESS_TYPE_STATIC) {
      this.random_address_set(gap_static_random_address());
      return ERROR_CODE_SUCCESS;
    }
    if (mode === GAP_RANDOM_ADDRESS_NON_RESOLVABLE || mode === GAP_RANDOM_ADDRESS_RESOLVABLE) {
      this.setMode(mode);
      this.privateAddrDue = true;
      this.startUpdateTimer();
      this.x.run();
      return ERROR_CODE_SUCCESS;
    }
    if (mode !== GAP_RANDOM_ADDRESS_TYPE_OFF) return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    this.setMode(GAP_RANDOM_ADDRESS_TYPE_OFF);
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  /** gap_random_address_set_update_period: how often a private address is made anew (restarts the timer). */
  random_address_set_update_period(period_ms: number): void {
    this.update_period_ms = period_ms;
    if (this.random_mode !== GAP_RANDOM_ADDRESS_NON_RESOLVABLE && this.random_mode !== GAP_RANDOM_ADDRESS_RESOLVABLE) return;
    this.startUpdateTimer();
  }

  get random_address_update_period(): number {
    return this.update_period_ms;
  }

  /** The Security Manager's maker of resolvable private addresses (null: none, RESOLVABLE refused). */
  set_resolvable_address_source(source: (() => BdAddr) | null): void {
    this.rpaSource = source;
  }

  /** @internal the update period ended: a new private address is due */
  update_timer_fired(): void {
    this.privateAddrDue = true;
    this.startUpdateTimer();
    this.x.run();
  }

  private startUpdateTimer(): void {
    const rl = this.x.run_loop;
    rl.remove_timer(this.updateTimer);
    rl.set_timer(this.updateTimer, this.update_period_ms);
    rl.add_timer(this.updateTimer);
  }

  /** Make the private address that is due, once no LE Create Connection is under way. */
  private makePrivateAddress(): void {
    this.privateAddrDue = false;
    const addr =
      this.random_mode === GAP_RANDOM_ADDRESS_RESOLVABLE && this.rpaSource
        ? this.rpaSource()
        : gap_non_resolvable_private_address(this.x.public_address());
    bd_addr_copy(this.random_addr, addr);
    this.randomAddrTodo = true;
  }

  /** No LE Set Random Address waits or is under way (LE Create Connection must wait for it). */
  get address_settled(): boolean {
    return !this.randomAddrTodo && !this.randomAddrSent && !this.privacy.pending;
  }

  get random_address_mode(): number {
    return this.random_mode;
  }

  /** gap_random_address_set: use `addr` as static random address (mode STATIC, as BTstack). */
  random_address_set(addr: BdAddr): void {
    this.x.run_loop.remove_timer(this.updateTimer);
    this.privateAddrDue = false;
    bd_addr_copy(this.random_addr, addr);
    this.randomAddrTodo = true;
    this.setMode(GAP_RANDOM_ADDRESS_TYPE_STATIC);
    this.x.run();
  }

  /** gap_le_get_own_address: the type and address advertising and connections use. */
  own_address(public_addr: BdAddr): { addr_type: number; addr: BdAddr } {
    const random = this.le_own_address_type === 1;
    return { addr_type: random ? 1 : 0, addr: Uint8Array.from(random ? this.random_addr : public_addr) };
  }

  private setMode(mode: number): void {
    if (mode === this.random_mode) return;
    this.random_mode = mode;
    // the own address type is part of the advertising and scan parameters: write them again
    this.advTodo |= ADV_PARAMS;
    this.advConfigured |= ADV_PARAMS;
    this.scanParamsTodo = true;
  }

  /** Forget controller-side state after power off / reset; keep the app's settings. */
  reset_controller_state(): void {
    this.advControllerEnabled = false;
    this.advEnableSent = -1;
    // the controller was reset: everything configured must be written again
    this.advTodo = this.advConfigured | (this.advEnabled ? ADV_ENABLE : 0);
    this.scanControllerEnabled = false;
    this.scanEnableSent = -1;
    this.scanParamsTodo = true;
    this.randomAddrTodo = this.random_mode !== GAP_RANDOM_ADDRESS_TYPE_OFF;
    this.randomAddrSent = false;
    this.privacy.reset_controller_state();
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
    if (this.randomAddrSent) return false; // wait for LE Set Random Address to complete
    if (this.privateAddrDue && !this.x.initiating()) this.makePrivateAddress();
    if (this.randomAddrTodo) return this.runRandomAddress();
    if (this.privacy.pending) return this.runPrivacy();
    // idle (nothing asked, the controller as wanted): what runAdvertising and runScanning would
    // find, without calling them; this runs on every hci_run (several per packet on a busy link)
    if (
      this.advTodo === 0 &&
      (this.advEnabled || !this.advControllerEnabled) &&
      this.scanWanted === this.scanControllerEnabled &&
      !(this.scanParamsTodo && this.scanWanted)
    )
      return false;
    if (this.runAdvertising()) return true;
    return this.runScanning();
  }

  /** LE Set Random Address is refused while advertising or scanning: pause them first. */
  private runRandomAddress(): boolean {
    if (this.advEnableSent >= 0 || this.scanEnableSent >= 0 || this.x.initiating()) return false;
    if (this.advControllerEnabled) {
      if (this.advEnabled) this.advTodo |= ADV_ENABLE;
      return this.sendAdvEnable(0);
    }
    if (this.scanControllerEnabled) return this.sendScanEnable(0);
    this.randomAddrTodo = false;
    this.randomAddrSent = true;
    return this.x.send_command(hci_le_set_random_address, this.random_addr);
  }

  /** The resolving list changes only while advertising, scanning and initiating are off: pause them. */
  private runPrivacy(): boolean {
    if (this.privacy.busy || this.advEnableSent >= 0 || this.scanEnableSent >= 0 || this.x.initiating()) return false;
    if (this.advControllerEnabled) {
      if (this.advEnabled) this.advTodo |= ADV_ENABLE;
      return this.sendAdvEnable(0);
    }
    if (this.scanControllerEnabled) return this.sendScanEnable(0);
    if (this.privacy.run()) return true;
    // done: advertising and scanning as the app wants them
    return this.runAdvertising() || this.runScanning();
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
        this.le_own_address_type,
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
      case hci_le_set_random_address.opcode:
        this.randomAddrSent = false;
        return;
      default:
        this.privacy.on_command_complete(opcode, r);
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
