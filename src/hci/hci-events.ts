/**
 * HCI events from the controller (the receiving half of hci.c's event_handler): validation,
 * command flow control (Command Complete / Status), ACL credits (Number Of Completed Packets),
 * connection bookkeeping, GAP events derived from inquiry results and advertising reports, and
 * dispatch of every HCI event to the registered event handlers.
 *
 * Bad input is logged and dropped: an event shorter than its parameter length, a known event
 * too short for its fields, Command Complete / Status for an opcode that was not sent.
 */
import { HCI_OPCODE_HOST_NUMBER_OF_COMPLETED_PACKETS } from './hci-host-flow.js';
import { bd_addr_cmp, bd_addr_to_str, little_endian_read_16, reverse_bd_addr } from '../core/bytes.js';
import {
  BD_ADDR_TYPE_ACL,
  ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES,
  ERROR_CODE_SUCCESS,
  HCI_EVENT_COMMAND_COMPLETE,
  HCI_EVENT_COMMAND_STATUS,
  HCI_EVENT_CONNECTION_COMPLETE,
  HCI_EVENT_CONNECTION_REQUEST,
  HCI_EVENT_DISCONNECTION_COMPLETE,
  HCI_EVENT_EXTENDED_INQUIRY_RESPONSE,
  HCI_EVENT_HARDWARE_ERROR,
  HCI_EVENT_INQUIRY_COMPLETE,
  HCI_EVENT_INQUIRY_RESULT,
  HCI_EVENT_INQUIRY_RESULT_WITH_RSSI,
  HCI_EVENT_LE_META,
  HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS,
  HCI_EVENT_READ_REMOTE_EXTENDED_FEATURES_COMPLETE,
  HCI_EVENT_READ_REMOTE_SUPPORTED_FEATURES_COMPLETE,
  HCI_EVENT_READ_REMOTE_VERSION_INFORMATION_COMPLETE,
  HCI_EVENT_REMOTE_NAME_REQUEST_COMPLETE,
  HCI_EVENT_ROLE_CHANGE,
  HCI_ROLE_MASTER,
  HCI_ROLE_SLAVE,
  HCI_STATE_FALLING_ASLEEP,
  HCI_STATE_HALTING,
  HCI_STATE_WORKING,
  HCI_SUBEVENT_LE_ADVERTISING_REPORT,
  HCI_SUBEVENT_LE_CONNECTION_COMPLETE,
  HCI_SUBEVENT_LE_CONNECTION_UPDATE_COMPLETE,
  HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE,
  HCI_SUBEVENT_LE_READ_REMOTE_USED_FEATURES_COMPLETE,
} from '../codes/v1.4.js';
import { hci_create_connection, hci_disconnect, hci_le_create_connection, hci_reset } from './commands.js';
import {
  ConnState,
  TODO_ACCEPT,
  TODO_CREATE_CONNECTION,
  TODO_READ_REMOTE_EXTENDED_FEATURES,
  TODO_READ_REMOTE_FEATURES,
  hci_connection_set_state,
  is_le_address_type,
  type HciConnection,
} from './hci-connection.js';
import type { HciState } from './hci-state.js';
import type { InquiryResultKind } from './gap-reports.js';
import { SecurityEventResult } from './hci-security.js';

/**
 * Pending Reject Connection Request commands (and orphan disconnects) kept at most. A controller
 * has one Connection Request open per paging device; 32 covers a burst from every device in
 * range without dropping a reject (one dropped would wait out the accept timeout, issue 18).
 */
export const MAX_PENDING_REJECTS = 32;
/** Supported command bit: Read Remote Extended Features (octet 2, bit 6). */
const SUPPORTED_COMMAND_READ_REMOTE_EXTENDED_FEATURES = 22;

/** GAP's part of incoming events (gap-classic.ts, gap-le.ts, gap-reports.ts). */
export interface HciEventsGap {
  command_complete(opcode: number, ret: Uint8Array): void;
  command_status(opcode: number, status: number): void;
  /** One GAP_EVENT_INQUIRY_RESULT per response; false when malformed. */
  inquiry_result(packet: Uint8Array, size: number, kind: InquiryResultKind): boolean;
  inquiry_complete(status: number): void;
  remote_name_request_complete(): void;
  /** One GAP_EVENT_ADVERTISING_REPORT per report; false when malformed. */
  advertising_report(packet: Uint8Array, size: number): boolean;
  le_connection_complete(role_peripheral: boolean): void;
  le_disconnection(): void;
  /** Every LE meta event, after HCI's bookkeeping and the event handlers (gap-le-conn.ts). */
  le_meta(packet: Uint8Array, size: number): void;
}

/** Events the stack emits itself (hci-emit.ts). */
export interface HciEventsOut {
  dispatch(packet: Uint8Array, size: number): void;
  nr_connections_changed(): void;
  le_connection_complete(status: number, address_type: number, address: Uint8Array): void;
  connection_complete_failure(status: number, address: Uint8Array): void;
}

/** What event handling needs from its siblings. */
export interface HciEventsPeers extends HciEventsGap {
  readonly out: HciEventsOut;
  /** BR/EDR security events (hci-security.ts); MALFORMED drops, CONSUMED answers without dispatch. */
  readonly security: { event(packet: Uint8Array, plen: number): SecurityEventResult };
  /** Command Complete (or a failed Command Status) for the init sequence. */
  init_command_complete(opcode: number, ret: Uint8Array): void;
  /** Number Of Completed Packets: credits back per handle, then send what waits (hci-acl.ts; a component: per packet). */
  readonly acl: { completed(handle: number, count: number): void; pump(): void };
  release_connection(conn: HciConnection): void;
  hardware_error(code: number): void;
  /** A link up while powering off: disconnect it. */
  close_for_power_off(conn: HciConnection): void;
}

export class HciEvents {
  constructor(
    private readonly s: HciState,
    private readonly x: HciEventsPeers,
  ) {}

  private setState(conn: HciConnection, state: ConnState, why: string): void {
    hci_connection_set_state(this.s.log, conn, state, why);
  }

  /** An HCI event packet from the transport (valid during the call only). */
  handle(packet: Uint8Array, size: number): void {
    if (size < 2 || 2 + packet[1]! > size) {
      this.s.log.error(() => `HCI event of ${size} bytes is shorter than its parameter length, dropped`);
      return;
    }
    size = 2 + packet[1]!;
    const plen = packet[1]!;
    switch (packet[0]) {
      case HCI_EVENT_COMMAND_COMPLETE:
        this.onCommandComplete(packet, size, plen);
        return;
      case HCI_EVENT_COMMAND_STATUS:
        this.onCommandStatus(packet, size, plen);
        return;
      case HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS:
        if (!this.onNumberOfCompletedPackets(packet, plen)) return;
        break;
      case HCI_EVENT_CONNECTION_REQUEST:
        if (plen < 10) return this.malformed(packet);
        this.onConnectionRequest(packet);
        break;
      case HCI_EVENT_CONNECTION_COMPLETE:
        if (plen < 11) return this.malformed(packet);
        this.onConnectionComplete(packet);
        break;
      case HCI_EVENT_DISCONNECTION_COMPLETE:
        if (plen < 4) return this.malformed(packet);
        this.onDisconnectionComplete(packet, size);
        return;
      case HCI_EVENT_HARDWARE_ERROR:
        this.x.out.dispatch(packet, size);
        this.x.hardware_error(plen >= 1 ? packet[2]! : 0);
        return;
      case HCI_EVENT_INQUIRY_RESULT:
        if (!this.x.inquiry_result(packet, size, 'standard')) return this.malformed(packet);
        break;
      case HCI_EVENT_INQUIRY_RESULT_WITH_RSSI:
        if (!this.x.inquiry_result(packet, size, 'rssi')) return this.malformed(packet);
        break;
      case HCI_EVENT_EXTENDED_INQUIRY_RESPONSE:
        if (!this.x.inquiry_result(packet, size, 'eir')) return this.malformed(packet);
        break;
      case HCI_EVENT_INQUIRY_COMPLETE:
        if (plen < 1) return this.malformed(packet);
        this.x.inquiry_complete(packet[2]!);
        break;
      case HCI_EVENT_REMOTE_NAME_REQUEST_COMPLETE:
        this.x.remote_name_request_complete();
        break;
      case HCI_EVENT_READ_REMOTE_SUPPORTED_FEATURES_COMPLETE:
        if (plen < 11) return this.malformed(packet);
        this.onRemoteFeatures(packet);
        break;
      case HCI_EVENT_READ_REMOTE_EXTENDED_FEATURES_COMPLETE: {
        if (plen < 13) return this.malformed(packet);
        const conn = this.s.connections.for_handle(little_endian_read_16(packet, 3) & 0x0fff);
        if (conn && packet[2] === 0 && packet[5] === 1) conn.remote_features_page1.set(packet.subarray(7, 15));
        break;
      }
      case HCI_EVENT_READ_REMOTE_VERSION_INFORMATION_COMPLETE: {
        if (plen < 8) return this.malformed(packet);
        const conn = this.s.connections.for_handle(little_endian_read_16(packet, 3) & 0x0fff);
        if (conn && packet[2] === 0) {
          conn.remote_version = packet[5]!;
          conn.remote_manufacturer = little_endian_read_16(packet, 6);
          conn.remote_subversion = little_endian_read_16(packet, 8);
          conn.remote_version_valid = true;
        }
        break;
      }
      case HCI_EVENT_ROLE_CHANGE: {
        if (plen < 8) return this.malformed(packet);
        const conn = this.s.connections.for_addr(reverse_bd_addr(packet, 3), BD_ADDR_TYPE_ACL);
        if (conn && packet[2] === 0) conn.role = packet[9]!;
        break;
      }
      case HCI_EVENT_LE_META:
        if (plen < 1) return this.malformed(packet);
        if (!this.onLeMeta(packet, size, plen)) return this.malformed(packet);
        this.x.out.dispatch(packet, size);
        this.x.le_meta(packet, size);
        return;
      default: {
        // security events (link keys, pairing, authentication, encryption): hci-security.ts
        const r = this.x.security.event(packet, plen);
        if (r === SecurityEventResult.MALFORMED) return this.malformed(packet);
        if (r === SecurityEventResult.CONSUMED) return;
        break;
      }
    }
    this.x.out.dispatch(packet, size);
  }

  private malformed(packet: Uint8Array): void {
    this.s.log.error(
      () => `malformed HCI event 0x${packet[0]!.toString(16).padStart(2, '0')} (${packet[1]} parameter bytes), dropped`,
    );
  }

  /** Match a Command Complete / Status against the commands sent. */
  private takeOutstanding(opcode: number): boolean {
    const i = this.s.outstanding.indexOf(opcode);
    if (i < 0) return false;
    this.s.outstanding.splice(i, 1);
    return true;
  }

  private onCommandComplete(packet: Uint8Array, size: number, plen: number): void {
    if (plen < 3) return this.malformed(packet);
    this.s.cmd_credits = packet[2]!;
    const opcode = little_endian_read_16(packet, 3);
    if (opcode === 0) return; // controller ready / credit update (NOP), nothing to dispatch
    if (opcode === HCI_OPCODE_HOST_NUMBER_OF_COMPLETED_PACKETS) {
      // sent without a credit and answered only when wrong (Vol 4 Part E 7.3.40)
      this.s.log.error(
        () => `Host Number Of Completed Packets refused with status 0x${(packet[5] ?? 0xff).toString(16).padStart(2, '0')}`,
      );
      this.x.out.dispatch(packet, size);
      return;
    }
    if (!this.takeOutstanding(opcode)) {
      this.s.log.error(() => `Command Complete for opcode 0x${opcode.toString(16).padStart(4, '0')} that was not sent, dropped`);
      return;
    }
    if (opcode === hci_reset.opcode) this.s.outstanding.length = 0;
    const ret = packet.subarray(5, size);
    this.x.init_command_complete(opcode, ret);
    // GAP state follows both its own commands and init steps (Write Scan Enable emits its event)
    this.x.command_complete(opcode, ret);
    this.x.out.dispatch(packet, size);
  }

  private onCommandStatus(packet: Uint8Array, size: number, plen: number): void {
    if (plen < 4) return this.malformed(packet);
    const status = packet[2]!;
    this.s.cmd_credits = packet[3]!;
    const opcode = little_endian_read_16(packet, 4);
    if (opcode === 0) return;
    if (!this.takeOutstanding(opcode)) {
      this.s.log.error(() => `Command Status for opcode 0x${opcode.toString(16).padStart(4, '0')} that was not sent, dropped`);
      return;
    }
    if (status !== ERROR_CODE_SUCCESS) this.x.init_command_complete(opcode, packet.subarray(2, 3));
    this.x.command_status(opcode, status);
    this.x.out.dispatch(packet, size);
    if (status !== ERROR_CODE_SUCCESS) this.onCommandFailed(opcode, status);
  }

  /** A connection-creating command was refused: drop its record and tell the upper layers. */
  private onCommandFailed(opcode: number, status: number): void {
    if (opcode === hci_create_connection.opcode) {
      for (const c of this.s.connections.list) {
        if (!c.is_le && c.state === ConnState.SENT_CREATE_CONNECTION && c.con_handle === 0xffff) {
          const addr = Uint8Array.from(c.address);
          this.s.connections.free(c);
          this.x.out.nr_connections_changed();
          this.x.out.connection_complete_failure(status, addr);
          return;
        }
      }
    } else if (opcode === hci_le_create_connection.opcode) {
      for (const c of this.s.connections.list) {
        if (c.is_le && c.con_handle === 0xffff && c.state === ConnState.SENT_CREATE_CONNECTION) {
          const addr = Uint8Array.from(c.address);
          const type = c.address_type;
          this.s.connections.free(c);
          this.x.out.le_connection_complete(status, type, addr);
          return;
        }
      }
    } else if (opcode === hci_disconnect.opcode) {
      for (const c of this.s.connections.list)
        if (c.state === ConnState.SENT_DISCONNECT) this.setState(c, ConnState.OPEN, 'Disconnect refused');
    }
  }

  private onNumberOfCompletedPackets(packet: Uint8Array, plen: number): boolean {
    if (plen < 1) {
      this.malformed(packet);
      return false;
    }
    const num = packet[2]!;
    if (1 + 4 * num > plen) {
      this.s.log.error(() => `Number Of Completed Packets lists ${num} handles in ${plen} bytes, dropped`);
      return false;
    }
    for (let i = 0; i < num; i++) {
      const o = 3 + 4 * i;
      this.x.acl.completed(little_endian_read_16(packet, o) & 0x0fff, little_endian_read_16(packet, o + 2));
    }
    this.x.acl.pump();
    return true;
  }

  private onConnectionRequest(packet: Uint8Array): void {
    const addr = reverse_bd_addr(packet, 2);
    const linkType = packet[11]!;
    const reject = (reason: number) => {
      // one reject answers a device's open request: a repeat while it waits adds nothing
      for (const r of this.s.pending_rejects) if (bd_addr_cmp(r.addr, addr) === 0) return;
      if (this.s.pending_rejects.length >= MAX_PENDING_REJECTS) {
        this.s.log.error('too many pending connection rejects, one dropped');
        this.s.pending_rejects.shift();
      }
      this.s.pending_rejects.push({ addr, reason });
    };
    if (linkType !== 0x01 || this.s.power !== HCI_STATE_WORKING) {
      // SCO/eSCO is not supported; nothing is accepted while halting
      reject(ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES);
      return;
    }
    let conn = this.s.connections.for_addr(addr, BD_ADDR_TYPE_ACL);
    if (conn && conn.con_handle !== 0xffff) {
      reject(ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES);
      return;
    }
    if (!conn) conn = this.s.connections.create(addr, BD_ADDR_TYPE_ACL);
    if (!conn) {
      this.s.log.error(() => `no free connection record for ${bd_addr_to_str(addr)}, rejecting`);
      reject(ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES);
      return;
    }
    this.setState(conn, ConnState.RECEIVED_CONNECTION_REQUEST, 'Connection Request');
    conn.role = HCI_ROLE_SLAVE;
    conn.todo |= TODO_ACCEPT;
    conn.todo &= ~TODO_CREATE_CONNECTION;
  }

  private onConnectionComplete(packet: Uint8Array): void {
    const status = packet[2]!;
    const handle = little_endian_read_16(packet, 3) & 0x0fff;
    const addr = reverse_bd_addr(packet, 5);
    const linkType = packet[11]!;
    if (linkType !== 0x01) return; // SCO: not tracked
    let conn = this.s.connections.for_addr(addr, BD_ADDR_TYPE_ACL);
    if (status !== ERROR_CODE_SUCCESS) {
      if (conn && conn.con_handle === 0xffff) {
        this.s.connections.free(conn);
        this.x.out.nr_connections_changed();
      }
      return;
    }
    if (!conn) conn = this.s.connections.create(addr, BD_ADDR_TYPE_ACL);
    if (!conn) {
      this.s.log.error(() => `Connection Complete for ${bd_addr_to_str(addr)} without a free connection record; disconnecting`);
      this.orphan(handle);
      return;
    }
    conn.con_handle = handle;
    this.setState(conn, ConnState.OPEN, 'Connection Complete');
    if (conn.role === 0xff) conn.role = HCI_ROLE_SLAVE;
    conn.encryption_enabled = packet[12]!;
    conn.todo |= TODO_READ_REMOTE_FEATURES;
    this.closeIfHalting(conn);
    this.x.out.nr_connections_changed();
  }

  /** A link that completes while the stack powers off or falls asleep is closed right away. */
  private closeIfHalting(conn: HciConnection): void {
    const st = this.s.power;
    if (st !== HCI_STATE_HALTING && st !== HCI_STATE_FALLING_ASLEEP) return;
    this.x.close_for_power_off(conn);
  }

  private orphan(handle: number): void {
    if (this.s.pending_disconnects.length < MAX_PENDING_REJECTS) this.s.pending_disconnects.push(handle);
  }

  private onDisconnectionComplete(packet: Uint8Array, size: number): void {
    const status = packet[2]!;
    const handle = little_endian_read_16(packet, 3) & 0x0fff;
    const conn = this.s.connections.for_handle(handle);
    if (status !== ERROR_CODE_SUCCESS || !conn) {
      if (conn && conn.state === ConnState.SENT_DISCONNECT) this.setState(conn, ConnState.OPEN, 'Disconnection Complete failed');
      if (!conn) this.s.log.info(() => `Disconnection Complete for unknown handle 0x${handle.toString(16)}`);
      this.x.out.dispatch(packet, size);
      return;
    }
    this.setState(conn, ConnState.RECEIVED_DISCONNECTION_COMPLETE, 'Disconnection Complete');
    this.x.release_connection(conn);
    const le = conn.is_le;
    this.x.out.dispatch(packet, size);
    // BTstack frees the record after the upper layers saw the event
    if (this.s.connections.list.includes(conn)) this.s.connections.free(conn);
    if (le) this.x.le_disconnection();
    this.x.out.nr_connections_changed();
  }

  private onRemoteFeatures(packet: Uint8Array): void {
    const conn = this.s.connections.for_handle(little_endian_read_16(packet, 3) & 0x0fff);
    if (!conn || packet[2] !== 0) return;
    conn.remote_features.set(packet.subarray(5, 13));
    conn.remote_features_valid = true;
    // extended features page 1 holds the remote host's SSP support (bit 63 = extended features)
    if ((packet[12]! & 0x80) !== 0 && this.s.controller.supports_command(SUPPORTED_COMMAND_READ_REMOTE_EXTENDED_FEATURES)) {
      conn.todo |= TODO_READ_REMOTE_EXTENDED_FEATURES;
    }
  }

  /** LE meta events. Returns false when malformed. */
  private onLeMeta(packet: Uint8Array, size: number, plen: number): boolean {
    switch (packet[2]) {
      case HCI_SUBEVENT_LE_CONNECTION_COMPLETE:
        if (plen < 19) return false;
        this.onLeConnectionComplete(packet, 14);
        return true;
      case HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE:
        // as the legacy event, with the two resolvable private addresses before the parameters
        if (plen < 31) return false;
        this.onLeConnectionComplete(packet, 26);
        return true;
      case HCI_SUBEVENT_LE_ADVERTISING_REPORT:
        if (plen < 2) return false;
        return this.x.advertising_report(packet, size);
      case HCI_SUBEVENT_LE_CONNECTION_UPDATE_COMPLETE: {
        if (plen < 10) return false;
        const conn = this.s.connections.for_handle(little_endian_read_16(packet, 4) & 0x0fff);
        if (conn && packet[3] === 0) {
          conn.le_conn_interval = little_endian_read_16(packet, 6);
          conn.le_conn_latency = little_endian_read_16(packet, 8);
          conn.le_supervision_timeout = little_endian_read_16(packet, 10);
        }
        return true;
      }
      case HCI_SUBEVENT_LE_READ_REMOTE_USED_FEATURES_COMPLETE: {
        if (plen < 12) return false;
        const conn = this.s.connections.for_handle(little_endian_read_16(packet, 4) & 0x0fff);
        if (conn && packet[3] === 0) {
          conn.remote_features.set(packet.subarray(6, 14));
          conn.remote_features_valid = true;
        }
        return true;
      }
      default:
        return true;
    }
  }

  /** LE (Enhanced) Connection Complete; `o`: offset of Conn_Interval (Vol 4 Part E 7.7.65.1 / .10). */
  private onLeConnectionComplete(packet: Uint8Array, o: number): void {
    const status = packet[3]!;
    const handle = little_endian_read_16(packet, 4) & 0x0fff;
    const role = packet[6]!;
    const type = packet[7]!;
    const addr = reverse_bd_addr(packet, 8);
    if (status !== ERROR_CODE_SUCCESS) {
      // the pending attempt failed or was cancelled
      for (const c of this.s.connections.list) {
        if (c.is_le && c.con_handle === 0xffff && c.state !== ConnState.SEND_CREATE_CONNECTION) {
          this.s.connections.free(c);
          this.x.out.nr_connections_changed();
          break;
        }
      }
      return;
    }
    let conn = this.s.connections.for_addr(addr, type);
    if (!conn && role === HCI_ROLE_MASTER) {
      // filter-accept-list connect: the pending record has no address yet
      conn =
        this.s.connections.list.find((c) => c.is_le && c.con_handle === 0xffff && c.state === ConnState.SENT_CREATE_CONNECTION) ??
        null;
    }
    if (!conn) conn = this.s.connections.create(addr, is_le_address_type(type) ? type : 0);
    if (!conn) {
      this.s.log.error(
        () => `LE Connection Complete for ${bd_addr_to_str(addr)} without a free connection record; disconnecting`,
      );
      this.orphan(handle);
      return;
    }
    conn.con_handle = handle;
    if (type === 0x02 || type === 0x03) {
      // resolved by the controller's resolving list: the address is the peer's identity
      conn.identity_addr = addr.slice();
      conn.identity_addr_type = type & 1;
    }
    this.setState(conn, ConnState.OPEN, 'LE Connection Complete');
    conn.role = role;
    conn.le_conn_interval = little_endian_read_16(packet, o);
    conn.le_conn_latency = little_endian_read_16(packet, o + 2);
    conn.le_supervision_timeout = little_endian_read_16(packet, o + 4);
    this.x.le_connection_complete(role === HCI_ROLE_SLAVE);
    this.closeIfHalting(conn);
    this.x.out.nr_connections_changed();
  }
}
