/**
 * The GATT client's state record: one GattClientConnection per LE connection that has used the
 * client (BTstack's gatt_client_t, pooled as `gatt_clients` with MAX_NR_HCI_CONNECTIONS entries),
 * the value listeners, the services below (L2CAP fixed channel, HCI), the run loop, the code
 * profile, the logger and the outgoing PDU buffer. Fields and lookups only; the query machine is
 * gatt-client-query.ts, the response handling gatt-client-responses.ts.
 */
import type { Logger } from '../core/log.js';
import type { Pool } from '../core/pool.js';
import { Timer, type RunLoop } from '../core/run-loop.js';
import type { Codes } from '../codes/index.js';
import type { HciService, PacketHandler } from '../hci/hci-service.js';
import type { L2capFixedChannelService } from '../l2cap/l2cap-fixed-service.js';
import { ATT_DEFAULT_MTU } from '../att/att-pdu.js';
import type { GattClientNotification } from './gatt-client-types.js';

/** BTstack's gatt_client_state_t (the names of gatt_client.h), as the machine's states. */
export type GattClientQueryState =
  | 'P_READY'
  | 'P_W2_SEND_SERVICE_QUERY'
  | 'P_W4_SERVICE_QUERY_RESULT'
  | 'P_W2_SEND_SERVICE_WITH_UUID_QUERY'
  | 'P_W4_SERVICE_WITH_UUID_RESULT'
  | 'P_W2_SEND_ALL_CHARACTERISTICS_OF_SERVICE_QUERY'
  | 'P_W4_ALL_CHARACTERISTICS_OF_SERVICE_QUERY_RESULT'
  | 'P_W2_SEND_CHARACTERISTIC_WITH_UUID_QUERY'
  | 'P_W4_CHARACTERISTIC_WITH_UUID_QUERY_RESULT'
  | 'P_W2_SEND_ALL_CHARACTERISTIC_DESCRIPTORS_QUERY'
  | 'P_W4_ALL_CHARACTERISTIC_DESCRIPTORS_QUERY_RESULT'
  | 'P_W2_SEND_INCLUDED_SERVICE_QUERY'
  | 'P_W4_INCLUDED_SERVICE_QUERY_RESULT'
  | 'P_W2_SEND_INCLUDED_SERVICE_WITH_UUID_QUERY'
  | 'P_W4_INCLUDED_SERVICE_UUID_WITH_QUERY_RESULT'
  | 'P_W2_SEND_READ_CHARACTERISTIC_VALUE_QUERY'
  | 'P_W4_READ_CHARACTERISTIC_VALUE_RESULT'
  | 'P_W2_SEND_READ_BLOB_QUERY'
  | 'P_W4_READ_BLOB_RESULT'
  | 'P_W2_SEND_READ_BY_TYPE_REQUEST'
  | 'P_W4_READ_BY_TYPE_RESPONSE'
  | 'P_W2_SEND_READ_MULTIPLE_REQUEST'
  | 'P_W4_READ_MULTIPLE_RESPONSE'
  | 'P_W2_SEND_WRITE_CHARACTERISTIC_VALUE'
  | 'P_W4_WRITE_CHARACTERISTIC_VALUE_RESULT'
  | 'P_W2_PREPARE_WRITE'
  | 'P_W4_PREPARE_WRITE_RESULT'
  | 'P_W2_PREPARE_RELIABLE_WRITE'
  | 'P_W4_PREPARE_RELIABLE_WRITE_RESULT'
  | 'P_W2_EXECUTE_PREPARED_WRITE'
  | 'P_W4_EXECUTE_PREPARED_WRITE_RESULT'
  | 'P_W2_CANCEL_PREPARED_WRITE'
  | 'P_W4_CANCEL_PREPARED_WRITE_RESULT'
  | 'P_W2_CANCEL_PREPARED_WRITE_DATA_MISMATCH'
  | 'P_W4_CANCEL_PREPARED_WRITE_DATA_MISMATCH_RESULT'
  | 'P_W2_SEND_READ_CLIENT_CHARACTERISTIC_CONFIGURATION_QUERY'
  | 'P_W4_READ_CLIENT_CHARACTERISTIC_CONFIGURATION_QUERY_RESULT'
  | 'P_W2_WRITE_CLIENT_CHARACTERISTIC_CONFIGURATION'
  | 'P_W4_CLIENT_CHARACTERISTIC_CONFIGURATION_RESULT'
  | 'P_W2_SEND_READ_CHARACTERISTIC_DESCRIPTOR_QUERY'
  | 'P_W4_READ_CHARACTERISTIC_DESCRIPTOR_RESULT'
  | 'P_W2_SEND_READ_BLOB_CHARACTERISTIC_DESCRIPTOR_QUERY'
  | 'P_W4_READ_BLOB_CHARACTERISTIC_DESCRIPTOR_RESULT'
  | 'P_W2_SEND_WRITE_CHARACTERISTIC_DESCRIPTOR'
  | 'P_W4_WRITE_CHARACTERISTIC_DESCRIPTOR_RESULT'
  | 'P_W2_PREPARE_WRITE_CHARACTERISTIC_DESCRIPTOR'
  | 'P_W4_PREPARE_WRITE_CHARACTERISTIC_DESCRIPTOR_RESULT'
  | 'P_W2_EXECUTE_PREPARED_WRITE_CHARACTERISTIC_DESCRIPTOR'
  | 'P_W4_EXECUTE_PREPARED_WRITE_CHARACTERISTIC_DESCRIPTOR_RESULT';

/** BTstack's gatt_client_mtu_t. */
export type GattClientMtuState = 'SEND_MTU_EXCHANGE' | 'SENT_MTU_EXCHANGE' | 'MTU_EXCHANGED' | 'MTU_AUTO_EXCHANGE_DISABLED';

/** The 30 s ATT transaction timeout (Vol 3 Part F 3.3.3), started per query as BTstack does. */
export const GATT_CLIENT_TIMEOUT_MS = 30000;

/** BTstack's gatt_client_t: one per connection, the query in progress and its parameters. */
export class GattClientConnection {
  con_handle = 0xffff;
  state: GattClientQueryState = 'P_READY';
  mtu = ATT_DEFAULT_MTU;
  mtu_state: GattClientMtuState = 'SEND_MTU_EXCHANGE';
  /** The handler of the current (or last) query. */
  callback: PacketHandler | null = null;
  /** v1.8 events carry these; the plain API leaves them 0 (BTstack's *_with_context calls set them). */
  service_id = 0;
  connection_id = 0;
  start_group_handle = 0;
  end_group_handle = 0;
  query_start_handle = 0;
  query_end_handle = 0;
  uuid16 = 0;
  /** Big endian. */
  readonly uuid128 = new Uint8Array(16);
  filter_with_uuid = false;
  characteristic_start_handle = 0;
  characteristic_properties = 0;
  attribute_handle = 0;
  attribute_offset = 0;
  attribute_length = 0;
  /** The app's value (not copied, as BTstack: keep it unchanged until QUERY_COMPLETE). */
  attribute_value: Uint8Array = EMPTY;
  read_multiple_handles: readonly number[] = [];
  client_characteristic_configuration_handle = 0;
  client_characteristic_configuration_value = 0;
  send_confirmation = false;
  write_without_response_callback: PacketHandler | null = null;
  /** Security (gatt-client-security.ts): pairing asked, its end awaited before any PDU. */
  wait_for_authentication_complete = false;
  /** The SM re-encrypts the link (SM_EVENT_REENCRYPTION_STARTED seen): PDUs wait. */
  reencryption_active = false;
  /** The ATT error reported if the pairing fails. */
  pending_error_code = 0;
  /** Security errors answered with pairing on this connection (BTstack retries once). */
  security_counter = 0;
  readonly timer = new Timer();

  reset(): void {
    this.con_handle = 0xffff;
    this.state = 'P_READY';
    this.mtu = ATT_DEFAULT_MTU;
    this.mtu_state = 'SEND_MTU_EXCHANGE';
    this.callback = null;
    this.service_id = 0;
    this.connection_id = 0;
    this.filter_with_uuid = false;
    this.characteristic_start_handle = 0;
    this.attribute_value = EMPTY;
    this.read_multiple_handles = [];
    this.send_confirmation = false;
    this.write_without_response_callback = null;
    this.wait_for_authentication_complete = false;
    this.reencryption_active = false;
    this.pending_error_code = 0;
    this.security_counter = 0;
    this.timer.context = null;
  }
}

const EMPTY = new Uint8Array(0);

/** What the GATT client needs from HCI. */
export type GattClientHci = Pick<HciService, 'hci_add_event_handler' | 'hci_connection_for_handle'>;

export class GattClientState {
  /** Contexts in BTstack's list order (served round robin by run()). */
  readonly connections: GattClientConnection[] = [];
  /** gatt_client_listen_for_characteristic_value_updates registrations (copy on write). */
  listeners: readonly GattClientNotification[] = [];
  /** gatt_client_mtu_enable_auto_negotiation (default on). */
  mtu_exchange_enabled = true;
  initialized = false;
  /** Outgoing PDU, written then copied by l2cap_send_connectionless. */
  readonly tx: Uint8Array;

  constructor(
    readonly codes: Codes,
    readonly log: Logger,
    readonly run_loop: RunLoop,
    readonly l2cap: L2capFixedChannelService,
    readonly hci: GattClientHci,
    readonly pool: Pool<GattClientConnection>,
    /** BTstack's l2cap_max_le_mtu(): the Client Rx MTU the client asks for. */
    readonly local_mtu: number,
  ) {
    this.tx = new Uint8Array(local_mtu);
  }

  connectionFor(con_handle: number): GattClientConnection | null {
    for (const c of this.connections) if (c.con_handle === con_handle) return c;
    return null;
  }
}
