/**
 * Link control for HCI: the connection bookkeeping every command going out implies (a Create
 * Connection owns a record, an Accept sets the role, a Disconnect marks the link) and the
 * scheduler part that sends connection work: rejects, disconnects, cancels, accepts, creates,
 * remote features / version reads. One command per call, as BTstack's hci_run.
 */
import { little_endian_read_16, reverse_bd_addr } from '../core/bytes.js';
import {
  BD_ADDR_TYPE_ACL,
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_LOW_RESOURCES,
  ERROR_CODE_SUCCESS,
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
} from './commands.js';
import {
  ConnState,
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
import type { Hci } from './hci.js';

/** ACL packet types for Create Connection: DM1 DH1 DM3 DH3 DM5 DH5, all EDR types allowed. */
export const HCI_USABLE_ACL_PACKET_TYPES = 0xcc18;

export class HciLinkControl {
  constructor(private readonly hci: Hci) {}

  /**
   * Bookkeeping for an app command before it is accepted (BTstack's hci_send_cmd_packet):
   * connection records for Create Connection / LE Create Connection.
   */
  prepare(packet: Uint8Array, size: number): number {
    const opcode = little_endian_read_16(packet, 0);
    const params = packet.subarray(3, size);
    if (opcode === hci_create_connection.opcode && params.length >= 6) {
      const addr = reverse_bd_addr(params, 0);
      if (this.hci.connections.for_addr(addr, BD_ADDR_TYPE_ACL)) return ERROR_CODE_SUCCESS;
      const conn = this.hci.connections.create(addr, BD_ADDR_TYPE_ACL);
      if (!conn) return BTSTACK_MEMORY_ALLOC_FAILED;
      conn.state = ConnState.SEND_CREATE_CONNECTION;
      conn.role = HCI_ROLE_MASTER;
    } else if (opcode === hci_le_create_connection.opcode && params.length >= 12 && params[4] === 0) {
      const type = params[5]!;
      const addr = reverse_bd_addr(params, 6);
      if (!is_le_address_type(type) || this.hci.connections.for_addr(addr, type)) return ERROR_CODE_SUCCESS;
      const conn = this.hci.connections.create(addr, type);
      if (!conn) return BTSTACK_MEMORY_ALLOC_FAILED;
      conn.state = ConnState.SEND_CREATE_CONNECTION;
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
        const conn = this.hci.connections.for_addr(addr, BD_ADDR_TYPE_ACL) ?? this.hci.connections.create(addr, BD_ADDR_TYPE_ACL);
        if (!conn) {
          this.hci.log.error('Create Connection sent without a free connection record');
          return;
        }
        if (conn.con_handle === 0xffff) {
          conn.state = ConnState.SENT_CREATE_CONNECTION;
          conn.role = HCI_ROLE_MASTER;
        }
        return;
      }
      case hci_accept_connection_request.opcode: {
        if (params.length < 7) return;
        const conn = this.hci.connections.for_addr(reverse_bd_addr(params, 0), BD_ADDR_TYPE_ACL);
        if (conn) {
          conn.state = ConnState.ACCEPTED_CONNECTION_REQUEST;
          conn.role = params[6] === 0 ? HCI_ROLE_MASTER : HCI_ROLE_SLAVE;
        }
        return;
      }
      case hci_disconnect.opcode: {
        const conn = this.hci.connections.for_handle(little_endian_read_16(params, 0) & 0x0fff);
        if (conn) conn.state = ConnState.SENT_DISCONNECT;
        return;
      }
      case hci_le_create_connection.opcode: {
        if (params.length < 12 || params[4] !== 0) return;
        const type = params[5]!;
        const addr = reverse_bd_addr(params, 6);
        if (!is_le_address_type(type)) return;
        const conn = this.hci.connections.for_addr(addr, type) ?? this.hci.connections.create(addr, type);
        if (conn && conn.con_handle === 0xffff) {
          conn.state = ConnState.SENT_CREATE_CONNECTION;
          conn.role = HCI_ROLE_MASTER;
        }
        return;
      }
      case hci_le_create_connection_cancel.opcode:
        for (const c of this.hci.connections.list) {
          if (c.is_le && (c.state === ConnState.SENT_CREATE_CONNECTION || c.state === ConnState.SEND_CANCEL_CONNECTION)) {
            c.state = ConnState.SENT_CANCEL_CONNECTION;
          }
        }
        return;
      default:
        this.hci.gap.on_command_sent(opcode, params);
    }
  }

  /** Send one command for connection work (rejects, disconnects, accepts, creates, remote info). */
  run(): boolean {
    const reject = this.hci.pendingRejects.shift();
    if (reject) return this.hci.sendCommandInternal(hci_reject_connection_request, reject.addr, reject.reason);
    const orphan = this.hci.pendingDisconnects.shift();
    if (orphan !== undefined) return this.hci.sendCommandInternal(hci_disconnect, orphan, ERROR_CODE_REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_LOW_RESOURCES);
    const halting = this.hci.hci_get_state() !== HCI_STATE_WORKING;
    for (const c of this.hci.connections.list) {
      if (c.todo === 0) continue;
      if (c.todo & TODO_DISCONNECT) {
        c.todo &= ~TODO_DISCONNECT;
        return this.hci.sendCommandInternal(hci_disconnect, c.con_handle, c.disconnect_reason);
      }
      if (c.todo & TODO_CREATE_CONNECTION_CANCEL) {
        c.todo &= ~TODO_CREATE_CONNECTION_CANCEL;
        return this.hci.sendCommandInternal(hci_create_connection_cancel, c.address);
      }
      if (c.todo & TODO_LE_CREATE_CONNECTION_CANCEL) {
        c.todo &= ~TODO_LE_CREATE_CONNECTION_CANCEL;
        return this.hci.sendCommandInternal(hci_le_create_connection_cancel);
      }
      if (halting) {
        c.todo = 0;
        continue;
      }
      if (c.todo & TODO_ACCEPT) {
        c.todo &= ~TODO_ACCEPT;
        return this.hci.sendCommandInternal(hci_accept_connection_request, c.address, this.hci.master_slave_policy);
      }
      if (c.todo & TODO_CREATE_CONNECTION) {
        c.todo &= ~TODO_CREATE_CONNECTION;
        return this.hci.sendCommandInternal(hci_create_connection, c.address, HCI_USABLE_ACL_PACKET_TYPES, 0, 0, 0, 1);
      }
      if (c.todo & TODO_LE_CREATE_CONNECTION) {
        c.todo &= ~TODO_LE_CREATE_CONNECTION;
        const p = this.hci.gap.le_connection;
        return this.hci.sendCommandInternal(
          hci_le_create_connection,
          p.scan_interval,
          p.scan_window,
          0,
          c.address_type,
          c.address,
          this.hci.gap.le_own_address_type,
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
        return this.hci.sendCommandInternal(hci_read_remote_supported_features, c.con_handle);
      }
      if (c.todo & TODO_READ_REMOTE_EXTENDED_FEATURES) {
        c.todo &= ~TODO_READ_REMOTE_EXTENDED_FEATURES;
        return this.hci.sendCommandInternal(hci_read_remote_extended_features, c.con_handle, 1);
      }
      if (c.todo & TODO_READ_REMOTE_VERSION) {
        c.todo &= ~TODO_READ_REMOTE_VERSION;
        return this.hci.sendCommandInternal(hci_read_remote_version_information, c.con_handle);
      }
    }
    return false;
  }
}
