/**
 * The GATT client's query machine, send side (BTstack's gatt_client_run): one query per
 * connection; API calls record the query (state P_W2_SEND_*) and call run(), which for each
 * connection that can send on the ATT fixed channel sends at most one PDU: the MTU exchange
 * first (once, unless auto negotiation is off), an owed Handle Value Confirmation, then the
 * query's next request (state -> P_W4_*), else a pending CAN_WRITE_WITHOUT_RESPONSE. A connection
 * that cannot send asks L2CAP for L2CAP_EVENT_CAN_SEND_NOW, which calls run() again.
 *
 * Every state change goes through setState (debug line `gatt client 0x0040: P_READY ->
 * P_W2_SEND_SERVICE_QUERY (discover primary services)`); every query ends with exactly one
 * GATT_EVENT_QUERY_COMPLETE through complete() (response, ATT error, 30 s timeout: ATT_ERROR_TIMEOUT,
 * disconnect: ATT_ERROR_HCI_DISCONNECT_RECEIVED).
 */
import { ATT_ERROR_INVALID_ATTRIBUTE_VALUE_LENGTH, ATT_ERROR_TIMEOUT, L2CAP_CID_ATTRIBUTE_PROTOCOL } from '../codes/v1.4.js';
import {
  ATT_EXCHANGE_MTU_REQUEST,
  ATT_FIND_INFORMATION_REQUEST,
  ATT_READ_BLOB_REQUEST,
  ATT_READ_BY_GROUP_TYPE_REQUEST,
  ATT_READ_BY_TYPE_REQUEST,
  ATT_READ_REQUEST,
  ATT_WRITE_REQUEST,
  GATT_CHARACTERISTICS_UUID,
  GATT_CLIENT_CHARACTERISTICS_CONFIGURATION,
  GATT_INCLUDE_SERVICE_UUID,
  GATT_PRIMARY_SERVICE_UUID,
  att_encode_confirmation,
  att_encode_execute_write,
  att_encode_exchange_mtu,
  att_encode_find_by_type_value,
  att_encode_handle,
  att_encode_handle_offset,
  att_encode_handle_range,
  att_encode_prepare_write,
  att_encode_read_by_type,
  att_encode_read_multiple,
  att_encode_write,
  att_reverse,
} from '../att/att-pdu.js';
import type { Timer, TimerHandler } from '../core/run-loop.js';
import type { PacketHandler } from '../hci/hci-service.js';
import type { GattClientEvents } from './gatt-client-events.js';
import type { GattClientSecurity } from './gatt-client-security.js';
import {
  GATT_CLIENT_TIMEOUT_MS,
  type GattClientConnection,
  type GattClientQueryState,
  type GattClientState,
} from './gatt-client-state.js';

const ATT = L2CAP_CID_ATTRIBUTE_PROTOCOL;

export class GattClientQuery {
  private readonly scratch = new Uint8Array(16);
  /** The security gate (gatt-client-security.ts), set by the facade. */
  security: GattClientSecurity | null = null;

  constructor(
    private readonly s: GattClientState,
    private readonly events: GattClientEvents,
  ) {}

  setState(c: GattClientConnection, to: GattClientQueryState, why: string): void {
    const from = c.state;
    c.state = to;
    this.s.log.debug(() => `gatt client 0x${hex4(c.con_handle)}: ${from} -> ${to} (${why})`);
  }

  /** A new query: handler, the 30 s timer, the first state, then run(). */
  start(c: GattClientConnection, callback: PacketHandler, to: GattClientQueryState, why: string): void {
    c.callback = callback;
    this.timerStart(c);
    this.setState(c, to, why);
    this.run();
  }

  /** BTstack's gatt_client_handle_transaction_complete: ready again, timer stopped. */
  finish(c: GattClientConnection, why: string): void {
    this.setState(c, 'P_READY', why);
    this.s.run_loop.remove_timer(c.timer);
  }

  /** End the query with GATT_EVENT_QUERY_COMPLETE(status). */
  complete(c: GattClientConnection, status: number, why: string): void {
    this.finish(c, why);
    this.events.queryComplete(c, status);
  }

  /** BTstack's gatt_client_report_error_if_pending. */
  reportErrorIfPending(c: GattClientConnection, status: number, why: string): void {
    if (c.state === 'P_READY') return;
    this.complete(c, status, why);
  }

  private timerFired: TimerHandler | null = null;

  private onTimer(t: Timer): void {
    const c = t.context as GattClientConnection | null; // null once the connection was freed (reset)
    if (c) this.reportErrorIfPending(c, ATT_ERROR_TIMEOUT, 'ATT timeout');
  }

  timerStart(c: GattClientConnection): void {
    const rl = this.s.run_loop;
    rl.remove_timer(c.timer);
    c.timer.context = c;
    // one bound method for every connection (the connection is the timer's context), not a closure per request
    c.timer.handler = this.timerFired ??= this.onTimer.bind(this);
    rl.set_timer(c.timer, GATT_CLIENT_TIMEOUT_MS);
    rl.add_timer(c.timer);
  }

  /** BTstack's gatt_client_run: serve the connections round robin, one PDU per opportunity. */
  run(): void {
    const list = this.s.connections;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      if (!this.s.l2cap.l2cap_can_send_fixed_channel_packet_now(c.con_handle, ATT)) {
        this.s.l2cap.l2cap_request_can_send_fix_channel_now_event(c.con_handle, ATT);
        return;
      }
      if (this.runFor(c)) {
        this.s.l2cap.l2cap_request_can_send_fix_channel_now_event(c.con_handle, ATT);
        // requeue for fairness
        const at = list.indexOf(c);
        if (at >= 0) {
          list.splice(at, 1);
          list.push(c);
        }
        return;
      }
    }
  }

  private send(c: GattClientConnection, len: number): number {
    if (len <= 0) return 0;
    return this.s.l2cap.l2cap_send_connectionless(c.con_handle, ATT, this.s.tx, len);
  }

  /** Bytes of the next Prepare Write part (BTstack's write_blob_length). */
  writeBlobLength(c: GattClientConnection): number {
    if (c.attribute_offset >= c.attribute_length) return 0;
    return Math.min(c.mtu - 5, c.attribute_length - c.attribute_offset);
  }

  /** One PDU for this connection if it has one to send; true when sent (or a callback was served). */
  private runFor(c: GattClientConnection): boolean {
    const tx = this.s.tx;
    const gate = this.security?.gate(c) ?? 'GO';
    if (gate !== 'GO') return gate === 'SENT';
    switch (c.mtu_state) {
      case 'SEND_MTU_EXCHANGE':
        c.mtu_state = 'SENT_MTU_EXCHANGE';
        this.send(c, att_encode_exchange_mtu(tx, ATT_EXCHANGE_MTU_REQUEST, this.s.local_mtu));
        return true;
      case 'SENT_MTU_EXCHANGE':
        return false;
      default:
        break;
    }
    if (c.send_confirmation) {
      c.send_confirmation = false;
      this.send(c, att_encode_confirmation(tx));
      return true;
    }
    if (
      ((c.state === 'P_W2_SEND_WRITE_CHARACTERISTIC_VALUE' || c.state === 'P_W2_SEND_WRITE_CHARACTERISTIC_DESCRIPTOR') &&
        c.attribute_length > c.mtu - 3) ||
      (c.state === 'P_W2_SEND_READ_MULTIPLE_REQUEST' && 1 + 2 * c.read_multiple_handles.length > c.mtu)
    ) {
      this.complete(c, ATT_ERROR_INVALID_ATTRIBUTE_VALUE_LENGTH, 'longer than the MTU');
      return false;
    }
    const len = this.request(c);
    if (len > 0) {
      this.send(c, len);
      return true;
    }
    const handler = c.write_without_response_callback;
    if (handler) {
      c.write_without_response_callback = null;
      this.events.canWriteWithoutResponse(handler, c.con_handle);
      return true;
    }
    return false;
  }

  /** Encode the query's next request into tx and move to its P_W4_* state; 0 when nothing to send. */
  private request(c: GattClientConnection): number {
    const tx = this.s.tx;
    const start = c.start_group_handle;
    const end = c.end_group_handle;
    switch (c.state) {
      case 'P_W2_SEND_SERVICE_QUERY':
        this.setState(c, 'P_W4_SERVICE_QUERY_RESULT', 'Read By Group Type Request');
        return att_encode_read_by_type(tx, ATT_READ_BY_GROUP_TYPE_REQUEST, start, end, c.uuid16, null);
      case 'P_W2_SEND_SERVICE_WITH_UUID_QUERY': {
        this.setState(c, 'P_W4_SERVICE_WITH_UUID_RESULT', 'Find By Type Value Request');
        const v = this.scratch;
        if (c.uuid16) {
          v[0] = c.uuid16 & 0xff;
          v[1] = c.uuid16 >> 8;
          return att_encode_find_by_type_value(tx, start, end, GATT_PRIMARY_SERVICE_UUID, v, 2);
        }
        att_reverse(c.uuid128, 0, v, 0, 16);
        return att_encode_find_by_type_value(tx, start, end, GATT_PRIMARY_SERVICE_UUID, v, 16);
      }
      case 'P_W2_SEND_ALL_CHARACTERISTICS_OF_SERVICE_QUERY':
        this.setState(c, 'P_W4_ALL_CHARACTERISTICS_OF_SERVICE_QUERY_RESULT', 'Read By Type Request');
        return att_encode_read_by_type(tx, ATT_READ_BY_TYPE_REQUEST, start, end, GATT_CHARACTERISTICS_UUID, null);
      case 'P_W2_SEND_CHARACTERISTIC_WITH_UUID_QUERY':
        this.setState(c, 'P_W4_CHARACTERISTIC_WITH_UUID_QUERY_RESULT', 'Read By Type Request');
        return att_encode_read_by_type(tx, ATT_READ_BY_TYPE_REQUEST, start, end, GATT_CHARACTERISTICS_UUID, null);
      case 'P_W2_SEND_ALL_CHARACTERISTIC_DESCRIPTORS_QUERY':
        this.setState(c, 'P_W4_ALL_CHARACTERISTIC_DESCRIPTORS_QUERY_RESULT', 'Find Information Request');
        return att_encode_handle_range(tx, ATT_FIND_INFORMATION_REQUEST, start, end);
      case 'P_W2_SEND_INCLUDED_SERVICE_QUERY':
        this.setState(c, 'P_W4_INCLUDED_SERVICE_QUERY_RESULT', 'Read By Type Request');
        return att_encode_read_by_type(tx, ATT_READ_BY_TYPE_REQUEST, start, end, GATT_INCLUDE_SERVICE_UUID, null);
      case 'P_W2_SEND_INCLUDED_SERVICE_WITH_UUID_QUERY':
        this.setState(c, 'P_W4_INCLUDED_SERVICE_UUID_WITH_QUERY_RESULT', 'Read Request');
        return att_encode_handle(tx, ATT_READ_REQUEST, c.query_start_handle);
      case 'P_W2_SEND_READ_CHARACTERISTIC_VALUE_QUERY':
        this.setState(c, 'P_W4_READ_CHARACTERISTIC_VALUE_RESULT', 'Read Request');
        return att_encode_handle(tx, ATT_READ_REQUEST, c.attribute_handle);
      case 'P_W2_SEND_READ_BLOB_QUERY':
        this.setState(c, 'P_W4_READ_BLOB_RESULT', c.attribute_offset === 0 ? 'Read Request' : 'Read Blob Request');
        return c.attribute_offset === 0
          ? att_encode_handle(tx, ATT_READ_REQUEST, c.attribute_handle)
          : att_encode_handle_offset(tx, ATT_READ_BLOB_REQUEST, c.attribute_handle, c.attribute_offset);
      case 'P_W2_SEND_READ_BY_TYPE_REQUEST':
        this.setState(c, 'P_W4_READ_BY_TYPE_RESPONSE', 'Read By Type Request');
        return att_encode_read_by_type(tx, ATT_READ_BY_TYPE_REQUEST, start, end, c.uuid16, c.uuid16 ? null : c.uuid128);
      case 'P_W2_SEND_READ_MULTIPLE_REQUEST':
        this.setState(c, 'P_W4_READ_MULTIPLE_RESPONSE', 'Read Multiple Request');
        return att_encode_read_multiple(tx, c.read_multiple_handles);
      case 'P_W2_SEND_WRITE_CHARACTERISTIC_VALUE':
        this.setState(c, 'P_W4_WRITE_CHARACTERISTIC_VALUE_RESULT', 'Write Request');
        return att_encode_write(tx, ATT_WRITE_REQUEST, c.attribute_handle, c.attribute_value, 0, c.attribute_length);
      case 'P_W2_PREPARE_WRITE':
        this.setState(c, 'P_W4_PREPARE_WRITE_RESULT', 'Prepare Write Request');
        return att_encode_prepare_write(tx, c.attribute_handle, c.attribute_offset, c.attribute_value, this.writeBlobLength(c));
      case 'P_W2_PREPARE_RELIABLE_WRITE':
        this.setState(c, 'P_W4_PREPARE_RELIABLE_WRITE_RESULT', 'Prepare Write Request');
        return att_encode_prepare_write(tx, c.attribute_handle, c.attribute_offset, c.attribute_value, this.writeBlobLength(c));
      case 'P_W2_EXECUTE_PREPARED_WRITE':
        this.setState(c, 'P_W4_EXECUTE_PREPARED_WRITE_RESULT', 'Execute Write Request');
        return att_encode_execute_write(tx, 1);
      case 'P_W2_CANCEL_PREPARED_WRITE':
        this.setState(c, 'P_W4_CANCEL_PREPARED_WRITE_RESULT', 'Execute Write Request (cancel)');
        return att_encode_execute_write(tx, 0);
      case 'P_W2_CANCEL_PREPARED_WRITE_DATA_MISMATCH':
        this.setState(c, 'P_W4_CANCEL_PREPARED_WRITE_DATA_MISMATCH_RESULT', 'Execute Write Request (cancel)');
        return att_encode_execute_write(tx, 0);
      case 'P_W2_SEND_READ_CHARACTERISTIC_DESCRIPTOR_QUERY':
        this.setState(c, 'P_W4_READ_CHARACTERISTIC_DESCRIPTOR_RESULT', 'Read Request');
        return att_encode_handle(tx, ATT_READ_REQUEST, c.attribute_handle);
      case 'P_W2_SEND_READ_BLOB_CHARACTERISTIC_DESCRIPTOR_QUERY':
        this.setState(
          c,
          'P_W4_READ_BLOB_CHARACTERISTIC_DESCRIPTOR_RESULT',
          c.attribute_offset === 0 ? 'Read Request' : 'Read Blob Request',
        );
        return c.attribute_offset === 0
          ? att_encode_handle(tx, ATT_READ_REQUEST, c.attribute_handle)
          : att_encode_handle_offset(tx, ATT_READ_BLOB_REQUEST, c.attribute_handle, c.attribute_offset);
      case 'P_W2_SEND_WRITE_CHARACTERISTIC_DESCRIPTOR':
        this.setState(c, 'P_W4_WRITE_CHARACTERISTIC_DESCRIPTOR_RESULT', 'Write Request');
        return att_encode_write(tx, ATT_WRITE_REQUEST, c.attribute_handle, c.attribute_value, 0, c.attribute_length);
      case 'P_W2_PREPARE_WRITE_CHARACTERISTIC_DESCRIPTOR':
        this.setState(c, 'P_W4_PREPARE_WRITE_CHARACTERISTIC_DESCRIPTOR_RESULT', 'Prepare Write Request');
        return att_encode_prepare_write(tx, c.attribute_handle, c.attribute_offset, c.attribute_value, this.writeBlobLength(c));
      case 'P_W2_EXECUTE_PREPARED_WRITE_CHARACTERISTIC_DESCRIPTOR':
        this.setState(c, 'P_W4_EXECUTE_PREPARED_WRITE_CHARACTERISTIC_DESCRIPTOR_RESULT', 'Execute Write Request');
        return att_encode_execute_write(tx, 1);
      case 'P_W2_SEND_READ_CLIENT_CHARACTERISTIC_CONFIGURATION_QUERY':
        this.setState(c, 'P_W4_READ_CLIENT_CHARACTERISTIC_CONFIGURATION_QUERY_RESULT', 'Read By Type Request');
        return att_encode_read_by_type(tx, ATT_READ_BY_TYPE_REQUEST, start, end, GATT_CLIENT_CHARACTERISTICS_CONFIGURATION, null);
      case 'P_W2_WRITE_CLIENT_CHARACTERISTIC_CONFIGURATION': {
        this.setState(c, 'P_W4_CLIENT_CHARACTERISTIC_CONFIGURATION_RESULT', 'Write Request');
        const v = this.scratch;
        v[0] = c.client_characteristic_configuration_value & 0xff;
        v[1] = c.client_characteristic_configuration_value >> 8;
        return att_encode_write(tx, ATT_WRITE_REQUEST, c.client_characteristic_configuration_handle, v, 0, 2);
      }
      default:
        return 0;
    }
  }
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
