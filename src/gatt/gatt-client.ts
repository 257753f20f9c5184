/**
 * GATT client (BTstack's ble/gatt_client.c API) on the ATT fixed channel (CID 0x0004) of LE
 * connections: discovery of primary services (all, by UUID16/UUID128), included services,
 * characteristics (all, by UUID) and descriptors; reads (value, by UUID, long, multiple); writes
 * (with and without response, long, reliable); Client Characteristic Configuration writes and the
 * notification / indication listeners (gatt_client_notification_t); MTU exchange.
 *
 * One query per connection at a time: a query call while one runs returns
 * GATT_CLIENT_IN_WRONG_STATE. A context (gatt_client_t) is made for a connection on its first use,
 * only for a connection HCI knows; none free or no connection: v1.4 returns
 * BTSTACK_MEMORY_ALLOC_FAILED for both, v1.8 ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER /
 * ERROR_CODE_MEMORY_CAPACITY_EXCEEDED. As BTstack, a query call starts the 30 s timer before it
 * checks that the client is ready (a refused call restarts the running query's timer). Every
 * accepted query ends with exactly one GATT_EVENT_QUERY_COMPLETE to its handler: the ATT error
 * code as status (0 success), ATT_ERROR_TIMEOUT (0x7F) after 30 s, ATT_ERROR_HCI_DISCONNECT_RECEIVED
 * (0x1F) when the connection goes. Before the first request on a connection the client sends an
 * Exchange MTU Request with l2cap_max_le_mtu (HCI_ACL_PAYLOAD_SIZE - 4), answered by GATT_EVENT_MTU
 * (gatt_client_mtu_enable_auto_negotiation(0) turns that off; gatt_client_send_mtu_negotiation
 * then starts it). Event layouts per profile: gatt-client-events.ts. Values passed to writes are
 * not copied (as BTstack: leave them unchanged until QUERY_COMPLETE); the handler is called with
 * views valid during the call only.
 *
 * The client registers for the ATT fixed channel at gatt_client_init (or its first use). L2CAP has
 * one handler per fixed channel: Stack.gatt_client takes att_dispatch's client view (odd opcodes),
 * so it shares CID 0x0004 with Stack.att_server, as BTstack's att_dispatch. Security
 * (gatt_client_set_required_security_level, pairing on Insufficient Authentication / Encryption):
 * gatt-client-security.ts. Not built: GATT over BR/EDR, signed writes, the *_with_context variants
 * (v1.8 events carry service_id = connection_id = 0).
 *
 * The layer pattern (docs/ARCHITECTURE.md 2a): this facade checks arguments and forwards; reads and
 * writes (values, CCCD, descriptors) are in the base class gatt-client-rw-api.ts; the state
 * record is gatt-client-state.ts; components: gatt-client-query.ts (send side, states, timer),
 * gatt-client-responses.ts (responses in), gatt-client-events.ts (events per profile),
 * gatt-client-listeners.ts (value listeners), gatt-client-types.ts (records, (de)serializers),
 * and the ATT codec src/att/att-pdu.ts.
 */
import type { Logger } from '../core/log.js';
import type { Pools, StackConfig } from '../core/config.js';
import type { RunLoop } from '../core/run-loop.js';
import type { EventPacketLog } from '../core/event-out.js';
import type { Codes } from '../codes/index.js';
import {
  ATT_DATA_PACKET,
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_MEMORY_CAPACITY_EXCEEDED,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  GATT_CLIENT_IN_WRONG_STATE,
  HCI_EVENT_DISCONNECTION_COMPLETE,
  HCI_EVENT_PACKET,
  L2CAP_CID_ATTRIBUTE_PROTOCOL,
  ATT_ERROR_HCI_DISCONNECT_RECEIVED,
  ATT_ERROR_SUCCESS,
} from '../codes/v1.4.js';
import type { PacketHandler } from '../hci/hci-service.js';
import type { L2capFixedChannelService } from '../l2cap/l2cap-fixed-service.js';
import {
  ATT_DEFAULT_MTU,
  ATT_HANDLE_VALUE_INDICATION,
  ATT_HANDLE_VALUE_NOTIFICATION,
  uuid_add_bluetooth_prefix,
} from '../att/att-pdu.js';
import { checkHandler, checkU16, checkUuid128 } from './gatt-client-args.js';
import { GattClientEvents } from './gatt-client-events.js';
import { GattClientListeners } from './gatt-client-listeners.js';
import { GattClientQuery } from './gatt-client-query.js';
import { GattClientResponses } from './gatt-client-responses.js';
import { GattClientReadWriteApi } from './gatt-client-rw-api.js';
import { GattClientSecurity, type GattClientGapSecurity, type GattClientSm } from './gatt-client-security.js';
import { GattClientConnection, GattClientState, type GattClientHci, type GattClientQueryState } from './gatt-client-state.js';

export type { GattClientHci } from './gatt-client-state.js';
export { GattClientReadWriteApi } from './gatt-client-rw-api.js';
import {
  GATT_CLIENT_ANY_VALUE_HANDLE,
  type GattClientCharacteristic,
  type GattClientNotification,
  type GattClientService,
} from './gatt-client-types.js';

/** What the GATT client takes from the Stack. */
export interface GattClientStackLike {
  readonly run_loop: RunLoop;
  readonly config: StackConfig;
  readonly pools: Pools;
  readonly log: Logger;
  readonly codes: Codes;
  readonly dump?: EventPacketLog;
  /** The Security Manager (the Stack makes it on first use): pairing for the required level / on errors. */
  readonly sm?: GattClientSm;
}

const ATT = L2CAP_CID_ATTRIBUTE_PROTOCOL;

export class GattClient extends GattClientReadWriteApi {
  /** @internal The client's state record (tests). */
  readonly state: GattClientState;
  readonly #query: GattClientQuery;
  readonly #responses: GattClientResponses;
  readonly #listeners: GattClientListeners;
  readonly #security: GattClientSecurity;
  readonly #hciRegistration = { callback: this.#onHciEvent.bind(this) };

  constructor(stack: GattClientStackLike, l2cap: L2capFixedChannelService, hci: GattClientHci) {
    super();
    const local_mtu = Math.max(ATT_DEFAULT_MTU, stack.config.HCI_ACL_PAYLOAD_SIZE - 4);
    const pool = stack.pools.create(
      'MAX_NR_HCI_CONNECTIONS',
      'gatt_clients',
      () => new GattClientConnection(),
      (c) => c.reset(),
    );
    this.state = new GattClientState(stack.codes, stack.log, stack.run_loop, l2cap, hci, pool, local_mtu);
    const events = new GattClientEvents(stack.codes, stack.dump ?? null, local_mtu);
    this.#query = new GattClientQuery(this.state, events);
    this.#listeners = new GattClientListeners(this.state, events);
    this.#responses = new GattClientResponses(this.state, this.#query, events, this.#listeners);
    const gap = (hci as { gap?: Partial<GattClientGapSecurity> }).gap;
    this.#security = new GattClientSecurity(
      this.state,
      this.#query,
      () => stack.sm ?? null,
      gap?.gap_encryption_key_size && gap.gap_authenticated ? (gap as GattClientGapSecurity) : null,
    );
    this.#query.security = this.#security;
  }

  /**
   * BTstack's gatt_client_set_required_security_level (default LEVEL_0): with a level above 0 every
   * query on an LE link below it first has the Security Manager pair (the SM must be set up with
   * sm_init); pairing failed -> GATT_EVENT_QUERY_COMPLETE with ATT_ERROR_INSUFFICIENT_AUTHENTICATION
   * (level 3, 4) or _ENCRYPTION (1, 2). gatt_client_write_value_of_characteristic_without_response
   * does not wait (as BTstack's).
   */
  gatt_client_set_required_security_level(level: number): void {
    if (!Number.isInteger(level) || level < 0 || level > 4)
      throw new TypeError('gatt_client_set_required_security_level: level must be 0..4');
    this.#security.required_level = level;
    if (level > 0) this.#security.register();
  }

  /**
   * BTstack's compile-time ENABLE_GATT_CLIENT_PAIRING as a switch (default off, as BTstack builds
   * without it): on ATT Insufficient Authentication / Encryption / Encryption Key Size the client
   * has the SM pair once per connection and sends the request again.
   */
  gatt_client_set_pairing_on_security_error(enabled: boolean): void {
    this.#security.pairing_on_error = !!enabled;
    if (enabled) this.#security.register();
  }

  // ---- set-up ----

  /** BTstack's gatt_client_init: HCI events and the ATT fixed channel (also done on first use). */
  gatt_client_init(): void {
    if (this.state.initialized) return;
    this.state.initialized = true;
    this.state.hci.hci_add_event_handler(this.#hciRegistration);
    this.state.l2cap.l2cap_register_fixed_channel(this.#onAtt.bind(this), ATT);
  }

  gatt_client_mtu_enable_auto_negotiation(enabled: number | boolean): void {
    this.state.mtu_exchange_enabled = !!enabled;
  }

  /** 1 when no query runs on the connection (a context is made if needed), else 0. */
  gatt_client_is_ready(con_handle: number): number {
    const { connection } = this.provideContext(con_handle);
    return connection && connection.state === 'P_READY' ? 1 : 0;
  }

  /** BTstack's gatt_client_get_mtu: the MTU once exchanged (or auto exchange is off), else 23 and GATT_CLIENT_IN_WRONG_STATE. */
  gatt_client_get_mtu(con_handle: number): { status: number; mtu: number } {
    const { status, connection: c } = this.provideContext(con_handle);
    if (!c) return { status, mtu: ATT_DEFAULT_MTU };
    if (c.mtu_state === 'MTU_EXCHANGED' || c.mtu_state === 'MTU_AUTO_EXCHANGE_DISABLED') return { status: 0, mtu: c.mtu };
    return { status: GATT_CLIENT_IN_WRONG_STATE, mtu: ATT_DEFAULT_MTU };
  }

  /** Start the MTU exchange when auto negotiation is off (GATT_EVENT_MTU to `callback`). */
  gatt_client_send_mtu_negotiation(callback: PacketHandler, con_handle: number): void {
    checkHandler(callback);
    const { connection: c } = this.provideContext(con_handle);
    if (!c || c.mtu_state !== 'MTU_AUTO_EXCHANGE_DISABLED') return;
    c.callback = callback;
    c.mtu_state = 'SEND_MTU_EXCHANGE';
    this.#query.run();
  }

  // ---- discovery (Core Vol 3 Part G 4.4 - 4.7) ----

  gatt_client_discover_primary_services(callback: PacketHandler, con_handle: number): number {
    return this.startQuery(callback, con_handle, 'P_W2_SEND_SERVICE_QUERY', 'discover primary services', (c) => {
      c.start_group_handle = 0x0001;
      c.end_group_handle = 0xffff;
      c.uuid16 = 0x2800;
    });
  }

  gatt_client_discover_primary_services_by_uuid16(callback: PacketHandler, con_handle: number, uuid16: number): number {
    checkU16(uuid16, 'uuid16');
    return this.startQuery(callback, con_handle, 'P_W2_SEND_SERVICE_WITH_UUID_QUERY', 'discover services by UUID16', (c) => {
      c.start_group_handle = 0x0001;
      c.end_group_handle = 0xffff;
      c.uuid16 = uuid16;
      uuid_add_bluetooth_prefix(c.uuid128, uuid16);
    });
  }

  gatt_client_discover_primary_services_by_uuid128(callback: PacketHandler, con_handle: number, uuid128: Uint8Array): number {
    checkUuid128(uuid128);
    return this.startQuery(callback, con_handle, 'P_W2_SEND_SERVICE_WITH_UUID_QUERY', 'discover services by UUID128', (c) => {
      c.start_group_handle = 0x0001;
      c.end_group_handle = 0xffff;
      c.uuid16 = 0;
      c.uuid128.set(uuid128.subarray(0, 16));
    });
  }

  gatt_client_find_included_services_for_service(
    callback: PacketHandler,
    con_handle: number,
    service: GattClientService,
  ): number {
    return this.startQuery(callback, con_handle, 'P_W2_SEND_INCLUDED_SERVICE_QUERY', 'find included services', (c) => {
      c.start_group_handle = service.start_group_handle;
      c.end_group_handle = service.end_group_handle;
    });
  }

  gatt_client_discover_characteristics_for_service(
    callback: PacketHandler,
    con_handle: number,
    service: GattClientService,
  ): number {
    return this.startQuery(
      callback,
      con_handle,
      'P_W2_SEND_ALL_CHARACTERISTICS_OF_SERVICE_QUERY',
      'discover characteristics',
      (c) => {
        c.start_group_handle = service.start_group_handle;
        c.end_group_handle = service.end_group_handle;
        c.filter_with_uuid = false;
        c.characteristic_start_handle = 0;
      },
    );
  }

  gatt_client_discover_characteristics_for_handle_range_by_uuid16(
    callback: PacketHandler,
    con_handle: number,
    start_handle: number,
    end_handle: number,
    uuid16: number,
  ): number {
    checkU16(uuid16, 'uuid16');
    return this.startQuery(
      callback,
      con_handle,
      'P_W2_SEND_CHARACTERISTIC_WITH_UUID_QUERY',
      'discover characteristics by UUID16',
      (c) => {
        c.start_group_handle = start_handle;
        c.end_group_handle = end_handle;
        c.filter_with_uuid = true;
        c.uuid16 = uuid16;
        uuid_add_bluetooth_prefix(c.uuid128, uuid16);
        c.characteristic_start_handle = 0;
      },
    );
  }

  gatt_client_discover_characteristics_for_handle_range_by_uuid128(
    callback: PacketHandler,
    con_handle: number,
    start_handle: number,
    end_handle: number,
    uuid128: Uint8Array,
  ): number {
    checkUuid128(uuid128);
    return this.startQuery(
      callback,
      con_handle,
      'P_W2_SEND_CHARACTERISTIC_WITH_UUID_QUERY',
      'discover characteristics by UUID128',
      (c) => {
        c.start_group_handle = start_handle;
        c.end_group_handle = end_handle;
        c.filter_with_uuid = true;
        c.uuid16 = 0;
        c.uuid128.set(uuid128.subarray(0, 16));
        c.characteristic_start_handle = 0;
      },
    );
  }

  gatt_client_discover_characteristics_for_service_by_uuid16(
    callback: PacketHandler,
    con_handle: number,
    service: GattClientService,
    uuid16: number,
  ): number {
    const { start_group_handle: s, end_group_handle: e } = service;
    return this.gatt_client_discover_characteristics_for_handle_range_by_uuid16(callback, con_handle, s, e, uuid16);
  }

  gatt_client_discover_characteristics_for_service_by_uuid128(
    callback: PacketHandler,
    con_handle: number,
    service: GattClientService,
    uuid128: Uint8Array,
  ): number {
    const { start_group_handle: s, end_group_handle: e } = service;
    return this.gatt_client_discover_characteristics_for_handle_range_by_uuid128(callback, con_handle, s, e, uuid128);
  }

  /** Find Information over value_handle + 1 .. end_handle; none there: QUERY_COMPLETE(0) at once. */
  gatt_client_discover_characteristic_descriptors(
    callback: PacketHandler,
    con_handle: number,
    characteristic: GattClientCharacteristic,
  ): number {
    return this.startQuery(
      callback,
      con_handle,
      'P_W2_SEND_ALL_CHARACTERISTIC_DESCRIPTORS_QUERY',
      'discover descriptors',
      (c) => {
        if (characteristic.value_handle === characteristic.end_handle) return false;
        c.start_group_handle = (characteristic.value_handle + 1) & 0xffff;
        c.end_group_handle = characteristic.end_handle;
        return true;
      },
    );
  }

  // ---- notifications and indications (Part G 4.10, 4.11) ----

  /** Register `notification` for values of `characteristic` (null: every value handle) on con_handle (0xFFFF: any). */
  gatt_client_listen_for_characteristic_value_updates(
    notification: GattClientNotification,
    callback: PacketHandler,
    con_handle: number,
    characteristic: GattClientCharacteristic | null,
  ): void {
    checkHandler(callback);
    if (!notification || typeof notification !== 'object') throw new TypeError('notification: expected an object');
    this.gatt_client_init();
    const value_handle = characteristic ? characteristic.value_handle : GATT_CLIENT_ANY_VALUE_HANDLE;
    this.#listeners.add(notification, callback, con_handle, value_handle);
  }

  gatt_client_stop_listening_for_characteristic_value_updates(notification: GattClientNotification): void {
    this.#listeners.remove(notification);
  }

  /** One GATT_EVENT_CAN_WRITE_WITHOUT_RESPONSE (channel = con_handle) once a Write Command can go; one at a time. */
  gatt_client_request_can_write_without_response_event(callback: PacketHandler, con_handle: number): number {
    checkHandler(callback);
    const { status, connection: c } = this.provideContext(con_handle);
    if (!c) return status;
    if (c.write_without_response_callback) return GATT_CLIENT_IN_WRONG_STATE;
    c.write_without_response_callback = callback;
    this.state.l2cap.l2cap_request_can_send_fix_channel_now_event(con_handle, ATT);
    return ERROR_CODE_SUCCESS;
  }

  // ---- internals ----

  /** @internal BTstack's gatt_client_provide_context_for_handle. */
  protected provideContext(con_handle: number): { status: number; connection: GattClientConnection | null } {
    this.gatt_client_init();
    const s = this.state;
    const found = s.connectionFor(con_handle);
    if (found) return { status: 0, connection: found };
    const v18 = s.codes.PROFILE === 'v1.8';
    if (!s.hci.hci_connection_for_handle(con_handle)) {
      return { status: v18 ? ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER : BTSTACK_MEMORY_ALLOC_FAILED, connection: null };
    }
    const c = s.pool.get();
    if (!c) return { status: v18 ? ERROR_CODE_MEMORY_CAPACITY_EXCEEDED : BTSTACK_MEMORY_ALLOC_FAILED, connection: null };
    c.con_handle = con_handle;
    c.mtu = ATT_DEFAULT_MTU;
    c.mtu_state = s.mtu_exchange_enabled ? 'SEND_MTU_EXCHANGE' : 'MTU_AUTO_EXCHANGE_DISABLED';
    c.state = 'P_READY';
    s.connections.unshift(c); // BTstack's btstack_linked_list_add adds at the head
    return { status: 0, connection: c };
  }

  /**
   * @internal A query: context (+ timer, as BTstack before the ready check), ready check, parameters
   * (`setup` may end the call: false = QUERY_COMPLETE(0) now, a number = that status), run().
   */
  protected startQuery(
    callback: PacketHandler,
    con_handle: number,
    to: GattClientQueryState,
    why: string,
    setup: (c: GattClientConnection) => void | boolean | number,
  ): number {
    checkHandler(callback);
    const { status, connection: c } = this.provideContext(con_handle);
    if (!c) return status;
    this.#query.timerStart(c);
    if (c.state !== 'P_READY') return GATT_CLIENT_IN_WRONG_STATE;
    const r = setup(c);
    if (typeof r === 'number') return r;
    c.callback = callback;
    if (r === false) {
      this.#query.complete(c, ATT_ERROR_SUCCESS, why + ': nothing to query');
      return ERROR_CODE_SUCCESS;
    }
    this.#query.setState(c, to, why);
    this.#query.run();
    return ERROR_CODE_SUCCESS;
  }

  #onHciEvent(packet_type: number, _channel: number, packet: Uint8Array, size: number): void {
    if (packet_type !== HCI_EVENT_PACKET || size < 1) return;
    if (packet[0] === HCI_EVENT_DISCONNECTION_COMPLETE) {
      if (size < 5) return;
      const con_handle = packet[3]! | (packet[4]! << 8);
      const c = this.state.connectionFor(con_handle);
      if (c) {
        this.#query.reportErrorIfPending(c, ATT_ERROR_HCI_DISCONNECT_RECEIVED, 'disconnected');
        this.state.run_loop.remove_timer(c.timer);
        const at = this.state.connections.indexOf(c);
        if (at >= 0) this.state.connections.splice(at, 1);
        this.state.pool.free(c);
      }
    }
    this.#query.run();
  }

  #onAtt(packet_type: number, con_handle: number, packet: Uint8Array, size: number): void {
    if (size < 1) return;
    if (packet_type === HCI_EVENT_PACKET) {
      if (packet[0] === this.state.codes.L2CAP_EVENT_CAN_SEND_NOW) this.#query.run();
      return;
    }
    if (packet_type !== ATT_DATA_PACKET) return;
    const opcode = packet[0];
    const c =
      opcode === ATT_HANDLE_VALUE_NOTIFICATION || opcode === ATT_HANDLE_VALUE_INDICATION
        ? this.provideContext(con_handle).connection
        : this.state.connectionFor(con_handle);
    if (!c) return;
    this.#responses.handle(c, packet, size);
    this.#query.run();
  }
}
