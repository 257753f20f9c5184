/**
 * Link control for HCI: the API that asks for links (hci_connect_acl, gap_connect,
 * gap_connect_cancel, gap_disconnect, hci_read_remote_version, disconnecting every link when
 * powering off), the connection bookkeeping every command going out implies (a Create Connection
 * owns a record, an Accept sets the role, a Disconnect marks the link) and the scheduler part that
 * sends connection work: rejects, disconnects, cancels, accepts, creates, remote features / version
 * reads. One command per call, as BTstack's hci_run.
 */
import { bd_addr_copy, little_endian_read_16, reverse_bd_addr, type BdAddr } from '../core/bytes.js';
import {
  BD_ADDR_TYPE_ACL,
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS,
  ERROR_CODE_REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_LOW_RESOURCES,
  ERROR_CODE_REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_POWER_OFF,
  ERROR_CODE_REMOTE_USER_TERMINATED_CONNECTION,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  HCI_ROLE_MASTER,
  HCI_ROLE_SLAVE,
  HCI_STATE_WORKING,
} from '../codes/v1.4.js';
import {
  hci_accept_connection_request,
  hci_create_connection,
  hci_create_connection_cancel,
  hci_disconnect,
  hci_le_create_connection,
  hci_le_create_connection_cancel,
  hci_read_remote_extended_features,
  hci_read_remote_supported_features,
  hci_read_remote_version_information,
  hci_reject_connection_request,
  type HciArg,
  type HciCommand,
} from './commands.js';
import {
  ConnState,
  hci_connection_set_state,
  type HciConnection,
  TODO_ACCEPT,
  TODO_CREATE_CONNECTION,
  TODO_CREATE_CONNECTION_CANCEL,
  TODO_DISCONNECT,
  TODO_LE_CREATE_CONNECTION,
  TODO_LE_CREATE_CONNECTION_CANCEL,
  TODO_READ_REMOTE_EXTENDED_FEATURES,
  TODO_READ_REMOTE_FEATURES,
  TODO_READ_REMOTE_VERSION,
  is_le_address_type,
} from './hci-connection.js';
import type { HciState } from './hci-state.js';

/** ACL packet types for Create Connection: DM1 DH1 DM3 DH3 DM5 DH5, all EDR types allowed. */
export const HCI_USABLE_ACL_PACKET_TYPES = 0xcc18;

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

/** What link control needs from its siblings. */
export interface HciLinkControlPeers {
  send_command(cmd: HciCommand, ...args: HciArg[]): boolean;
  run(): void;
  /** GAP's part of a command going out (scan enable, inquiry, advertising, ...). */
  gap_command_sent(opcode: number, params: Uint8Array): void;
  /** LE Create Connection parameters (gap_set_connection_parameters) and own address type. */
  le_connection_parameters(): GapLeConnectionParameters;
  le_own_address_type(): number;
  /** False while GAP's LE Set Random Address waits: LE Create Connection goes after it. */
  le_address_settled(): boolean;
  le_connection_complete_event(status: number, address_type: number, address: BdAddr): void;
}

export class HciLinkControl {
  constructor(
    private readonly s: HciState,
    private readonly x: HciLinkControlPeers,
  ) {}

  private setState(conn: HciConnection, state: ConnState, why: string): void {
    hci_connection_set_state(this.s.log, conn, state, why);
  }

  // ------------------------------------------------------------------ API

  /** hci_connect_acl: queue Create Connection (paging). 0 or a status. */
  connect_acl(addr: BdAddr): number {
    const conns = this.s.connections;
    if (this.s.power !== HCI_STATE_WORKING) return ERROR_CODE_COMMAND_DISALLOWED;
    const existing = conns.for_addr(addr, BD_ADDR_TYPE_ACL);
    if (existing) return ERROR_CODE_SUCCESS; // already connected or connecting
    const conn = conns.create(addr, BD_ADDR_TYPE_ACL);
    if (!conn) return BTSTACK_MEMORY_ALLOC_FAILED;
    this.setState(conn, ConnState.SEND_CREATE_CONNECTION, 'hci_connect_acl');
    conn.role = HCI_ROLE_MASTER;
    conn.todo |= TODO_CREATE_CONNECTION;
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  /** hci_read_remote_version. */
  read_remote_version(handle: number): number {
    const conn = this.s.connections.for_handle(handle);
    if (!conn || conn.is_le) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    conn.todo |= TODO_READ_REMOTE_VERSION;
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  /** gap_connect: LE Create Connection. Completion: HCI_SUBEVENT_LE_CONNECTION_COMPLETE. */
  connect_le(addr: BdAddr, addr_type: number): number {
    if (!is_le_address_type(addr_type)) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    if (this.s.power !== HCI_STATE_WORKING) return ERROR_CODE_COMMAND_DISALLOWED;
    const conns = this.s.connections;
    for (const c of conns.list) {
      if (c.is_le && (c.state === ConnState.SEND_CREATE_CONNECTION || c.state === ConnState.SENT_CREATE_CONNECTION)) {
        return ERROR_CODE_COMMAND_DISALLOWED; // one LE connection attempt at a time
      }
    }
    const existing = conns.for_addr(addr, addr_type);
    if (existing) return existing.state === ConnState.OPEN ? ERROR_CODE_SUCCESS : ERROR_CODE_COMMAND_DISALLOWED;
    const conn = conns.create(addr, addr_type);
    if (!conn) return BTSTACK_MEMORY_ALLOC_FAILED;
    this.setState(conn, ConnState.SEND_CREATE_CONNECTION, 'gap_connect');
    conn.role = HCI_ROLE_MASTER;
    conn.todo |= TODO_LE_CREATE_CONNECTION;
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  /** gap_connect_cancel. The controller answers with an LE Connection Complete (status 0x02). */
  connect_le_cancel(): number {
    for (const c of this.s.connections.list) {
      if (!c.is_le) continue;
      if (c.state === ConnState.SEND_CREATE_CONNECTION) {
        // never sent: report it as BTstack does, with Unknown Connection Identifier
        const type = c.address_type;
        const addr = new Uint8Array(6);
        bd_addr_copy(addr, c.address);
        this.s.connections.free(c);
        this.x.le_connection_complete_event(ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER, type, addr);
        return ERROR_CODE_SUCCESS;
      }
      if (c.state === ConnState.SENT_CREATE_CONNECTION) {
        c.todo |= TODO_LE_CREATE_CONNECTION_CANCEL;
        this.setState(c, ConnState.SEND_CANCEL_CONNECTION, 'gap_connect_cancel');
        this.x.run();
        return ERROR_CODE_SUCCESS;
      }
    }
    return ERROR_CODE_SUCCESS;
  }

  /** gap_disconnect: a classic or LE link (reason: Remote User Terminated Connection). */
  disconnect(handle: number): number {
    const conn = this.s.connections.for_handle(handle);
    if (!conn) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    switch (conn.state) {
      case ConnState.SEND_DISCONNECT:
      case ConnState.SENT_DISCONNECT:
      case ConnState.RECEIVED_DISCONNECTION_COMPLETE:
        return ERROR_CODE_SUCCESS;
      case ConnState.SENT_CREATE_CONNECTION:
        if (!conn.is_le) {
          conn.todo |= TODO_CREATE_CONNECTION_CANCEL;
          this.x.run();
          return ERROR_CODE_SUCCESS;
        }
        return this.connect_le_cancel();
      default:
        conn.disconnect_reason = ERROR_CODE_REMOTE_USER_TERMINATED_CONNECTION;
        conn.todo |= TODO_DISCONNECT;
        this.setState(conn, ConnState.SEND_DISCONNECT, 'gap_disconnect');
        this.x.run();
        return ERROR_CODE_SUCCESS;
    }
  }

  /** Powering off or falling asleep: cancel what is being created, disconnect what is up. */
  halt_connections(): void {
    for (const c of this.s.connections.list) {
      switch (c.state) {
        case ConnState.SEND_CREATE_CONNECTION:
          break; // never sent: dropped when halting ends
        case ConnState.SENT_CREATE_CONNECTION:
          if (c.is_le) {
            c.todo |= TODO_LE_CREATE_CONNECTION_CANCEL;
            this.setState(c, ConnState.SEND_CANCEL_CONNECTION, 'power off');
          } else c.todo |= TODO_CREATE_CONNECTION_CANCEL;
          break;
        case ConnState.SEND_DISCONNECT:
        case ConnState.SENT_DISCONNECT:
        case ConnState.RECEIVED_DISCONNECTION_COMPLETE:
        case ConnState.SEND_CANCEL_CONNECTION:
        case ConnState.SENT_CANCEL_CONNECTION:
          break;
        default:
          if (c.con_handle !== 0xffff) this.close_for_power_off(c);
      }
    }
  }

  /** A link up while powering off or falling asleep: disconnect it (Remote Device Terminated: Power Off). */
  close_for_power_off(conn: HciConnection): void {
    conn.disconnect_reason = ERROR_CODE_REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_POWER_OFF;
    conn.todo = TODO_DISCONNECT;
    this.setState(conn, ConnState.SEND_DISCONNECT, 'power off');
  }

  // ------------------------------------------------------------------ commands out

  /**
   * Bookkeeping for an app command before it is accepted (BTstack's hci_send_cmd_packet):
   * connection records for Create Connection / LE Create Connection.
   */
  prepare(packet: Uint8Array, size: number): number {
    const opcode = little_endian_read_16(packet, 0);
    const params = packet.subarray(3, size);
    if (opcode === hci_create_connection.opcode && params.length >= 6) {
      const addr = reverse_bd_addr(params, 0);
      if (this.s.connections.for_addr(addr, BD_ADDR_TYPE_ACL)) return ERROR_CODE_SUCCESS;
      const conn = this.s.connections.create(addr, BD_ADDR_TYPE_ACL);
      if (!conn) return BTSTACK_MEMORY_ALLOC_FAILED;
      this.setState(conn, ConnState.SEND_CREATE_CONNECTION, 'hci_send_cmd Create Connection');
      conn.role = HCI_ROLE_MASTER;
    } else if (opcode === hci_le_create_connection.opcode && params.length >= 12 && params[4] === 0) {
      const type = params[5]!;
      const addr = reverse_bd_addr(params, 6);
      if (!is_le_address_type(type) || this.s.connections.for_addr(addr, type)) return ERROR_CODE_SUCCESS;
      const conn = this.s.connections.create(addr, type);
      if (!conn) return BTSTACK_MEMORY_ALLOC_FAILED;
      this.setState(conn, ConnState.SEND_CREATE_CONNECTION, 'hci_send_cmd LE Create Connection');
      conn.role = HCI_ROLE_MASTER;
    }
    return ERROR_CODE_SUCCESS;
  }

  /** State changes caused by any command going out (internal or from the app). */
  on_command_sent(opcode: number, params: Uint8Array): void {
    switch (opcode) {
      case hci_create_connection.opcode: {
        if (params.length < 6) return;
        const addr = reverse_bd_addr(params, 0);
        const conn = this.s.connections.for_addr(addr, BD_ADDR_TYPE_ACL) ?? this.s.connections.create(addr, BD_ADDR_TYPE_ACL);
        if (!conn) {
          this.s.log.error('Create Connection sent without a free connection record');
          return;
        }
        if (conn.con_handle === 0xffff) {
          this.setState(conn, ConnState.SENT_CREATE_CONNECTION, 'Create Connection sent');
          conn.role = HCI_ROLE_MASTER;
        }
        return;
      }
      case hci_accept_connection_request.opcode: {
        if (params.length < 7) return;
        const conn = this.s.connections.for_addr(reverse_bd_addr(params, 0), BD_ADDR_TYPE_ACL);
        if (conn) {
          this.setState(conn, ConnState.ACCEPTED_CONNECTION_REQUEST, 'Accept Connection Request sent');
          conn.role = params[6] === 0 ? HCI_ROLE_MASTER : HCI_ROLE_SLAVE;
        }
        return;
      }
      case hci_disconnect.opcode: {
        const conn = this.s.connections.for_handle(little_endian_read_16(params, 0) & 0x0fff);
        if (conn) this.setState(conn, ConnState.SENT_DISCONNECT, 'Disconnect sent');
        return;
      }
      case hci_le_create_connection.opcode: {
        if (params.length < 12 || params[4] !== 0) return;
        const type = params[5]!;
        const addr = reverse_bd_addr(params, 6);
        if (!is_le_address_type(type)) return;
        const conn = this.s.connections.for_addr(addr, type) ?? this.s.connections.create(addr, type);
        if (conn && conn.con_handle === 0xffff) {
          this.setState(conn, ConnState.SENT_CREATE_CONNECTION, 'LE Create Connection sent');
          conn.role = HCI_ROLE_MASTER;
        }
        return;
      }
      case hci_le_create_connection_cancel.opcode:
        for (const c of this.s.connections.list) {
          if (c.is_le && (c.state === ConnState.SENT_CREATE_CONNECTION || c.state === ConnState.SEND_CANCEL_CONNECTION)) {
            this.setState(c, ConnState.SENT_CANCEL_CONNECTION, 'LE Create Connection Cancel sent');
          }
        }
        return;
      default:
        this.x.gap_command_sent(opcode, params);
    }
  }

  /** Send one command for connection work (rejects, disconnects, accepts, creates, remote info). */
  run(): boolean {
    const s = this.s;
    // every hci_run passes here: look before shift() (a builtin call even on an empty array)
    const reject = s.pending_rejects.length !== 0 ? s.pending_rejects.shift() : undefined;
    if (reject) return this.x.send_command(hci_reject_connection_request, reject.addr, reject.reason);
    const orphan = s.pending_disconnects.length !== 0 ? s.pending_disconnects.shift() : undefined;
    if (orphan !== undefined)
      return this.x.send_command(hci_disconnect, orphan, ERROR_CODE_REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_LOW_RESOURCES);
    const halting = s.power !== HCI_STATE_WORKING;
    for (const c of this.s.connections.list) {
      if (c.todo === 0) continue;
      if (c.todo & TODO_DISCONNECT) {
        c.todo &= ~TODO_DISCONNECT;
        return this.x.send_command(hci_disconnect, c.con_handle, c.disconnect_reason);
      }
      if (c.todo & TODO_CREATE_CONNECTION_CANCEL) {
        c.todo &= ~TODO_CREATE_CONNECTION_CANCEL;
        return this.x.send_command(hci_create_connection_cancel, c.address);
      }
      if (c.todo & TODO_LE_CREATE_CONNECTION_CANCEL) {
        c.todo &= ~TODO_LE_CREATE_CONNECTION_CANCEL;
        return this.x.send_command(hci_le_create_connection_cancel);
      }
      if (halting) {
        c.todo = 0;
        continue;
      }
      if (c.todo & TODO_ACCEPT) {
        c.todo &= ~TODO_ACCEPT;
        return this.x.send_command(hci_accept_connection_request, c.address, s.master_slave_policy);
      }
      if (c.todo & TODO_CREATE_CONNECTION) {
        c.todo &= ~TODO_CREATE_CONNECTION;
        return this.x.send_command(hci_create_connection, c.address, HCI_USABLE_ACL_PACKET_TYPES, 0, 0, 0, 1);
      }
      if (c.todo & TODO_LE_CREATE_CONNECTION && this.x.le_address_settled()) {
        c.todo &= ~TODO_LE_CREATE_CONNECTION;
        const p = this.x.le_connection_parameters();
        return this.x.send_command(
          hci_le_create_connection,
          p.scan_interval,
          p.scan_window,
          0,
          c.address_type,
          c.address,
          this.x.le_own_address_type(),
          p.conn_interval_min,
          p.conn_interval_max,
          p.conn_latency,
          p.supervision_timeout,
          p.min_ce_length,
          p.max_ce_length,
        );
      }
      if (c.state !== ConnState.OPEN) continue;
      if (c.todo & TODO_READ_REMOTE_FEATURES) {
        c.todo &= ~TODO_READ_REMOTE_FEATURES;
        return this.x.send_command(hci_read_remote_supported_features, c.con_handle);
      }
      if (c.todo & TODO_READ_REMOTE_EXTENDED_FEATURES) {
        c.todo &= ~TODO_READ_REMOTE_EXTENDED_FEATURES;
        return this.x.send_command(hci_read_remote_extended_features, c.con_handle, 1);
      }
      if (c.todo & TODO_READ_REMOTE_VERSION) {
        c.todo &= ~TODO_READ_REMOTE_VERSION;
        return this.x.send_command(hci_read_remote_version_information, c.con_handle);
      }
    }
    return false;
  }
}
