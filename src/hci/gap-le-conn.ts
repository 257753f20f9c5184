/**
 * LE GAP for connections (BTstack's gap.h): the whitelist (filter accept list) with
 * gap_auto_connection_start / _stop / _stop_all and gap_connect_with_whitelist (LE Create
 * Connection with initiator filter policy 1), connection parameter updates as central
 * (gap_update_connection_parameters -> LE Connection Update) and requests as peripheral
 * (gap_request_connection_parameter_update: L2CAP sends the signalling request), the answer to
 * LE Remote Connection Parameter Request (reply inside the accepted range, else a negative reply
 * with Unacceptable Connection Parameters, as BTstack), LE data length and PHY.
 *
 * run() sends at most one command. In the v1.8 profile every LE (Enhanced) Connection Complete is
 * followed by GAP_SUBEVENT_LE_CONNECTION_COMPLETE (HCI_EVENT_META_GAP), as BTstack 1.8 reports it.
 */
import { bd_addr_cmp, little_endian_read_16, reverse_bd_addr, type BdAddr } from '../core/bytes.js';
import {
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNACCEPTABLE_CONNECTION_PARAMETERS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  ERROR_CODE_UNKNOWN_HCI_COMMAND,
  HCI_ROLE_MASTER,
  HCI_ROLE_SLAVE,
  HCI_STATE_WORKING,
  HCI_SUBEVENT_LE_CONNECTION_COMPLETE,
  HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE,
  HCI_SUBEVENT_LE_REMOTE_CONNECTION_PARAMETER_REQUEST,
} from '../codes/v1.4.js';
import {
  hci_le_add_device_to_white_list,
  hci_le_connection_update,
  hci_le_create_connection,
  hci_le_create_connection_cancel,
  hci_le_remote_connection_parameter_request_negative_reply,
  hci_le_remote_connection_parameter_request_reply,
  hci_le_remove_device_from_white_list,
  hci_le_set_data_length,
  hci_le_set_phy,
  type HciArg,
  type HciCommand,
} from './commands.js';
import { ConnState } from './hci-connection.js';
import type { GapLeConnectionParameters } from './hci-link-control.js';
import type { HciState } from './hci-state.js';

/** Whitelist entries the host keeps (BTstack's MAX_NR_WHITELIST_ENTRIES). */
export const MAX_NR_WHITELIST_ENTRIES = 16;
/** Supported_Commands bits (Vol 4 Part E 6.27): LE Set Data Length, LE Set PHY, Remote Connection Parameter Request Reply. */
const CMD_LE_SET_DATA_LENGTH = 270;
const CMD_LE_SET_PHY = 286;
const CMD_LE_REMOTE_CONN_PARAM_REPLY = 268;

/** BTstack's le_connection_parameter_range_t. */
export interface LeConnectionParameterRange {
  le_conn_interval_min: number;
  le_conn_interval_max: number;
  le_conn_latency_min: number;
  le_conn_latency_max: number;
  le_supervision_timeout_min: number;
  le_supervision_timeout_max: number;
}

/** A peripheral's request for new connection parameters, for L2CAP to send (BTstack's connection fields). */
export interface LeConnectionParameterUpdateRequest {
  con_handle: number;
  conn_interval_min: number;
  conn_interval_max: number;
  conn_latency: number;
  supervision_timeout: number;
}

const W_ADD = 1; // to add on the controller
const W_REMOVE = 2; // to remove from the controller (and then forget)
const W_ON_CONTROLLER = 4;

interface WhitelistEntry {
  type: number;
  addr: BdAddr;
  state: number;
}

/** Work pending per connection handle. */
interface ConnTasks {
  /** LE Connection Update (central) or the answer to a Remote Connection Parameter Request. */
  update: 'none' | 'update' | 'reply' | 'negative';
  min: number;
  max: number;
  latency: number;
  timeout: number;
  /** L2CAP request (peripheral), taken by L2CAP. */
  request: boolean;
  data_length: boolean;
  tx_octets: number;
  tx_time: number;
  phy: boolean;
  all_phys: number;
  tx_phys: number;
  rx_phys: number;
  phy_options: number;
}

/** What LE connection GAP needs from its siblings. */
export interface GapLeConnPeers {
  send_command(cmd: HciCommand, ...args: HciArg[]): boolean;
  run(): void;
  /** Emit an event the stack builds to every HCI event handler. */
  emit(packet: Uint8Array, size: number): void;
  buffer(): Uint8Array;
  le_connection_parameters(): GapLeConnectionParameters;
  le_own_address_type(): number;
  /** No LE Set Random Address waits or is under way (LE Create Connection must wait for it). */
  le_address_settled?(): boolean;
}

export class GapLeConn {
  private readonly whitelist: WhitelistEntry[] = [];
  /** LE Create Connection with filter policy 1: wanted by the app, and what the controller does. */
  private autoWanted = false;
  private autoOnce = false;
  /** 'idle' | 'sent' (Create Connection sent) | 'cancel' (Cancel sent). */
  private connecting: 'idle' | 'sent' | 'cancel' = 'idle';

  /** An LE Create Connection with the filter accept list is under way. */
  get initiating(): boolean {
    return this.connecting !== 'idle';
  }
  private readonly tasks = new Map<number, ConnTasks>();
  readonly range: LeConnectionParameterRange = {
    le_conn_interval_min: 6,
    le_conn_interval_max: 3200,
    le_conn_latency_min: 0,
    le_conn_latency_max: 500,
    le_supervision_timeout_min: 10,
    le_supervision_timeout_max: 3200,
  };

  constructor(
    private readonly s: HciState,
    private readonly x: GapLeConnPeers,
  ) {}

  /** Whether LE Create Connection with the whitelist is wanted or under way. */
  get whitelist_connecting(): boolean {
    return this.connecting !== 'idle' || (this.autoWanted && this.whitelist.some((e) => !(e.state & W_REMOVE)));
  }

  reset_controller_state(): void {
    this.connecting = 'idle';
    for (let i = this.whitelist.length - 1; i >= 0; i--) {
      const e = this.whitelist[i]!;
      if (e.state & W_REMOVE) this.whitelist.splice(i, 1);
      else e.state = W_ADD;
    }
    this.tasks.clear();
  }

  // =============================================================== whitelist / auto connection

  whitelist_add(type: number, addr: BdAddr): number {
    if (type > 1) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    const e = this.find(type, addr);
    if (e) {
      e.state &= ~W_REMOVE;
      if (!(e.state & W_ON_CONTROLLER)) e.state |= W_ADD;
    } else {
      if (this.whitelist.length >= MAX_NR_WHITELIST_ENTRIES) return BTSTACK_MEMORY_ALLOC_FAILED;
      this.whitelist.push({ type, addr: Uint8Array.from(addr), state: W_ADD });
    }
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  whitelist_remove(type: number, addr: BdAddr): number {
    const e = this.find(type, addr);
    if (!e) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    this.markRemoved(e);
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  whitelist_clear(): number {
    for (const e of [...this.whitelist]) this.markRemoved(e);
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  private markRemoved(e: WhitelistEntry): void {
    if (e.state & W_ON_CONTROLLER) e.state = W_ON_CONTROLLER | W_REMOVE;
    else this.whitelist.splice(this.whitelist.indexOf(e), 1);
  }

  private find(type: number, addr: BdAddr): WhitelistEntry | undefined {
    return this.whitelist.find((e) => e.type === type && bd_addr_cmp(e.addr, addr) === 0);
  }

  auto_connection_start(type: number, addr: BdAddr): number {
    const st = this.whitelist_add(type, addr);
    if (st !== ERROR_CODE_SUCCESS) return st;
    this.autoWanted = true;
    this.autoOnce = false;
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  auto_connection_stop(type: number, addr: BdAddr): number {
    return this.whitelist_remove(type, addr);
  }

  auto_connection_stop_all(): number {
    this.autoWanted = false;
    return this.whitelist_clear();
  }

  connect_with_whitelist(): number {
    if (this.s.power !== HCI_STATE_WORKING) return ERROR_CODE_COMMAND_DISALLOWED;
    if (this.connecting !== 'idle' || this.directConnecting()) return ERROR_CODE_COMMAND_DISALLOWED;
    this.autoWanted = true;
    this.autoOnce = true;
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  /** gap_connect_cancel while connecting with the whitelist. */
  cancel(): number {
    this.autoWanted = false;
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  /** A gap_connect / hci_send_cmd LE Create Connection record waits or is under way. */
  private directConnecting(): boolean {
    for (const c of this.s.connections.list) {
      if (c.is_le && c.con_handle === 0xffff) return true;
    }
    return false;
  }

  // =============================================================== connection parameters, data length, PHY

  private taskFor(handle: number): ConnTasks | null {
    const conn = this.s.connections.for_handle(handle);
    if (!conn || !conn.is_le || conn.state !== ConnState.OPEN) return null;
    let t = this.tasks.get(handle);
    if (!t) {
      t = {
        update: 'none',
        min: 0,
        max: 0,
        latency: 0,
        timeout: 0,
        request: false,
        data_length: false,
        tx_octets: 0,
        tx_time: 0,
        phy: false,
        all_phys: 0,
        tx_phys: 0,
        rx_phys: 0,
        phy_options: 0,
      };
      this.tasks.set(handle, t);
    }
    return t;
  }

  /** gap_update_connection_parameters: LE Connection Update (Vol 4 Part E 7.8.18). */
  update_connection_parameters(handle: number, min: number, max: number, latency: number, timeout: number): number {
    const t = this.taskFor(handle);
    if (!t) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    Object.assign(t, { update: 'update', min, max, latency, timeout });
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  /**
   * gap_request_connection_parameter_update: as peripheral, L2CAP sends a Connection Parameter
   * Update Request; HCI emits L2CAP_EVENT_TRIGGER_RUN and L2CAP takes the request with
   * take_connection_parameter_update_request().
   */
  request_connection_parameter_update(handle: number, min: number, max: number, latency: number, timeout: number): number {
    const conn = this.s.connections.for_handle(handle);
    const t = this.taskFor(handle);
    if (!conn || !t) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (conn.role !== HCI_ROLE_SLAVE) return ERROR_CODE_COMMAND_DISALLOWED;
    Object.assign(t, { request: true, min, max, latency, timeout });
    const buf = this.x.buffer();
    this.x.emit(buf, this.s.codes.l2cap_event_trigger_run_build(buf, 0));
    return ERROR_CODE_SUCCESS;
  }

  /** The next peripheral request for L2CAP to send, or null (each is taken once). */
  take_connection_parameter_update_request(): LeConnectionParameterUpdateRequest | null {
    for (const [handle, t] of this.tasks) {
      if (!t.request) continue;
      t.request = false;
      if (!this.s.connections.for_handle(handle)) continue;
      return {
        con_handle: handle,
        conn_interval_min: t.min,
        conn_interval_max: t.max,
        conn_latency: t.latency,
        supervision_timeout: t.timeout,
      };
    }
    return null;
  }

  /** gap_connection_parameter_range_included. */
  range_included(range: LeConnectionParameterRange, min: number, max: number, latency: number, timeout: number): boolean {
    return (
      min >= range.le_conn_interval_min &&
      max <= range.le_conn_interval_max &&
      latency >= range.le_conn_latency_min &&
      latency <= range.le_conn_latency_max &&
      timeout >= range.le_supervision_timeout_min &&
      timeout <= range.le_supervision_timeout_max
    );
  }

  /** gap_le_set_data_length: LE Set Data Length (7.8.33) where the controller has it. */
  set_data_length(handle: number, tx_octets: number, tx_time: number): number {
    if (!this.s.controller.supports_command(CMD_LE_SET_DATA_LENGTH)) return ERROR_CODE_UNKNOWN_HCI_COMMAND;
    const t = this.taskFor(handle);
    if (!t) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    Object.assign(t, { data_length: true, tx_octets, tx_time });
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  /** gap_le_set_phy: LE Set PHY (7.8.49) where the controller has it. */
  set_phy(handle: number, all_phys: number, tx_phys: number, rx_phys: number, phy_options: number): number {
    if (!this.s.controller.supports_command(CMD_LE_SET_PHY)) return ERROR_CODE_UNKNOWN_HCI_COMMAND;
    const t = this.taskFor(handle);
    if (!t) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    Object.assign(t, { phy: true, all_phys, tx_phys, rx_phys, phy_options });
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  // =============================================================== scheduler

  /** Send at most one command. Only called in WORKING on LE controllers. */
  run(): boolean {
    if (this.tasks.size === 0 && this.whitelist.length === 0 && this.connecting === 'idle') {
      this.autoWanted = false; // what runWhitelist concludes from an empty list, without its calls
      return false;
    }
    if (this.runTasks()) return true;
    return this.runWhitelist();
  }

  private runTasks(): boolean {
    if (this.tasks.size === 0) return false; // the common case, on every hci_run: no iterator
    for (const [handle, t] of this.tasks) {
      if (!this.s.connections.for_handle(handle)) {
        this.tasks.delete(handle);
        continue;
      }
      const p = this.x.le_connection_parameters();
      if (t.update === 'reply') {
        t.update = 'none';
        const cmd = hci_le_remote_connection_parameter_request_reply;
        return this.x.send_command(cmd, handle, t.min, t.max, t.latency, t.timeout, p.min_ce_length, p.max_ce_length);
      }
      if (t.update === 'negative') {
        t.update = 'none';
        const cmd = hci_le_remote_connection_parameter_request_negative_reply;
        return this.x.send_command(cmd, handle, ERROR_CODE_UNACCEPTABLE_CONNECTION_PARAMETERS);
      }
      if (t.update === 'update') {
        t.update = 'none';
        const cmd = hci_le_connection_update;
        return this.x.send_command(cmd, handle, t.min, t.max, t.latency, t.timeout, p.min_ce_length, p.max_ce_length);
      }
      if (t.data_length) {
        t.data_length = false;
        return this.x.send_command(hci_le_set_data_length, handle, t.tx_octets, t.tx_time);
      }
      if (t.phy) {
        t.phy = false;
        return this.x.send_command(hci_le_set_phy, handle, t.all_phys, t.tx_phys, t.rx_phys, t.phy_options);
      }
    }
    return false;
  }

  private runWhitelist(): boolean {
    if (this.connecting === 'cancel') return false; // wait for the LE Connection Complete
    // plain loops: this runs on every hci_run (once per packet on a busy link), closures made garbage
    let modify = false;
    let active = false;
    for (let i = 0; i < this.whitelist.length; i++) {
      const st = this.whitelist[i]!.state;
      if (st & (W_ADD | W_REMOVE)) modify = true;
      if (!(st & W_REMOVE)) active = true;
    }
    const wanted = this.autoWanted && active;
    if (this.connecting === 'sent' && (modify || !wanted)) {
      // the list may not change while it is in use (Vol 4 Part E 7.8.16): stop connecting first
      this.connecting = 'cancel';
      return this.x.send_command(hci_le_create_connection_cancel);
    }
    if (this.connecting !== 'idle') return false;
    for (const e of this.whitelist) {
      if (e.state & W_REMOVE) {
        this.whitelist.splice(this.whitelist.indexOf(e), 1);
        return this.x.send_command(hci_le_remove_device_from_white_list, e.type, e.addr);
      }
      if (e.state & W_ADD) {
        e.state = W_ON_CONTROLLER;
        return this.x.send_command(hci_le_add_device_to_white_list, e.type, e.addr);
      }
    }
    if (!wanted) {
      if (!active) this.autoWanted = false;
      return false;
    }
    if (this.directConnecting()) return false;
    if (this.x.le_address_settled && !this.x.le_address_settled()) return false;
    const p = this.x.le_connection_parameters();
    this.connecting = 'sent';
    return this.x.send_command(
      hci_le_create_connection,
      p.scan_interval,
      p.scan_window,
      1, // initiator filter policy: the filter accept list
      0,
      new Uint8Array(6),
      this.x.le_own_address_type(),
      p.conn_interval_min,
      p.conn_interval_max,
      p.conn_latency,
      p.supervision_timeout,
      p.min_ce_length,
      p.max_ce_length,
    );
  }

  // =============================================================== events from HCI

  /** Command Status: a refused LE Create Connection ends our attempt. */
  on_command_status(opcode: number, status: number): void {
    if (opcode === hci_le_create_connection.opcode && status !== ERROR_CODE_SUCCESS && this.connecting === 'sent') {
      this.connecting = 'idle';
      this.autoWanted = false;
    }
  }

  /** Command Complete: a refused Create Connection Cancel means nothing was being created. */
  on_command_complete(opcode: number, ret: Uint8Array): void {
    if (opcode === hci_le_create_connection_cancel.opcode && ret[0] !== ERROR_CODE_SUCCESS && this.connecting === 'cancel') {
      this.connecting = 'idle';
    }
  }

  /** An LE meta event, after HCI's bookkeeping and the event handlers saw it. */
  on_le_meta(packet: Uint8Array, size: number): void {
    const sub = packet[2];
    if (sub === HCI_SUBEVENT_LE_CONNECTION_COMPLETE || sub === HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE) {
      this.onConnectionComplete(packet, size);
      return;
    }
    if (sub === HCI_SUBEVENT_LE_REMOTE_CONNECTION_PARAMETER_REQUEST && size >= 13) {
      const handle = little_endian_read_16(packet, 3) & 0x0fff;
      const t = this.taskFor(handle);
      if (!t) return;
      const min = little_endian_read_16(packet, 5);
      const max = little_endian_read_16(packet, 7);
      const latency = little_endian_read_16(packet, 9);
      const timeout = little_endian_read_16(packet, 11);
      const ok =
        this.range_included(this.range, min, max, latency, timeout) &&
        this.s.controller.supports_command(CMD_LE_REMOTE_CONN_PARAM_REPLY);
      Object.assign(t, { update: ok ? 'reply' : 'negative', min, max, latency, timeout });
      this.x.run();
    }
  }

  private onConnectionComplete(packet: Uint8Array, size: number): void {
    const enhanced = packet[2] === HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE;
    if (size < (enhanced ? 33 : 21)) return;
    const status = packet[3]!;
    const role = packet[6]!;
    const type = packet[7]!;
    const addr = reverse_bd_addr(packet, 8);
    if (role === HCI_ROLE_MASTER && this.connecting !== 'idle') {
      // our whitelist attempt ended: connected (forget that entry, as BTstack) or cancelled
      const wasCancel = this.connecting === 'cancel';
      this.connecting = 'idle';
      if (status === ERROR_CODE_SUCCESS) {
        const e = this.find(type & 1, addr);
        if (e) this.markRemoved(e);
        if (this.autoOnce) this.autoWanted = false;
      } else if (!wasCancel) this.autoWanted = false;
      this.x.run();
    }
    this.emitGapConnectionComplete(packet, enhanced);
  }

  /** v1.8: GAP_SUBEVENT_LE_CONNECTION_COMPLETE from the HCI event (BTstack's conversion). */
  private emitGapConnectionComplete(packet: Uint8Array, enhanced: boolean): void {
    const codes = this.s.codes;
    if (!('gap_subevent_le_connection_complete_build' in codes)) return;
    const o = enhanced ? 26 : 14;
    const zero = new Uint8Array(6);
    const buf = this.x.buffer();
    const n = codes.gap_subevent_le_connection_complete_build(
      buf,
      0,
      packet[3]!,
      little_endian_read_16(packet, 4),
      packet[6]!,
      packet[7]!,
      reverse_bd_addr(packet, 8),
      enhanced ? reverse_bd_addr(packet, 14) : zero,
      enhanced ? reverse_bd_addr(packet, 20) : zero,
      little_endian_read_16(packet, o),
      little_endian_read_16(packet, o + 2),
      little_endian_read_16(packet, o + 4),
      packet[o + 6]!,
      0xff,
      0xffff,
    );
    this.x.emit(buf, n);
  }
}
