/**
 * SDP client (BTstack's sdp_client.c / sdp_client_rfcomm.c API). One query at a time per stack:
 * a query opens an L2CAP channel to PSM 1, sends the request, follows continuation states until
 * the answer is complete, disconnects, and reports SDP_EVENT_QUERY_COMPLETE(status) to the
 * query's handler (channel 0). While a query runs, every query call returns SDP_QUERY_BUSY;
 * `sdp_client_register_query_callback` queues a callback for when the client is free.
 *
 * Events (in the stack's code profile), as BTstack emits them:
 * - sdp_client_query / _uuid16 / _uuid128 (ServiceSearchAttributeRequest) and
 *   sdp_client_service_attribute_search (ServiceAttributeRequest): one event per octet of every
 *   attribute value, with code SDP_EVENT_QUERY_ATTRIBUTE_VALUE (0x94) and the 11-octet layout of
 *   SDP_EVENT_QUERY_ATTRIBUTE_BYTE (record_id, attribute_id, attribute_length, data_offset, data):
 *   read it with the sdp_event_query_attribute_byte_get_* getters, as BTstack's examples do;
 * - sdp_client_service_search (ServiceSearchRequest): SDP_EVENT_QUERY_SERVICE_RECORD_HANDLE
 *   (total_count, record_index counting from 1, record_handle) per handle;
 * - sdp_client_query_rfcomm_channel_and_name_for_*: SDP_EVENT_QUERY_RFCOMM_SERVICE per record with
 *   an RFCOMM channel (_for_service_class_uuid: only records whose ServiceClassIDList holds the UUID);
 * - finally SDP_EVENT_QUERY_COMPLETE: 0, SDP_QUERY_INCOMPLETE (channel closed early, an
 *   ErrorResponse, or a malformed/inconsistent response, after which the client disconnects), or
 *   the L2CAP_EVENT_CHANNEL_OPENED failure status (e.g. 0x04 page timeout).
 *
 * The query functions return 0, SDP_QUERY_BUSY, or the status of l2cap_create_channel (the client
 * is then free again). Patterns and attribute lists are validated (a malformed one is a TypeError)
 * and copied.
 *
 * Built as every layer (docs/ARCHITECTURE.md, "The layer pattern"): this facade holds the API and
 * checks arguments; the state record is client-state.ts; the components are client-query.ts (the
 * query machine; every state change is logged at debug level as `sdp client: W4_CONNECT -> W2_SEND
 * (why)`), client-parser.ts (attribute lists as they stream in), client-sinks.ts (events for the
 * app) and client-rfcomm.ts (the RFCOMM query's sink).
 */
import type { BdAddr } from '../core/bytes.js';
import { EventOut } from '../core/event-out.js';
import { ERROR_CODE_COMMAND_DISALLOWED, ERROR_CODE_SUCCESS, SDP_QUERY_BUSY } from '../codes/v1.4.js';
import {
  de_validate,
  sdp_attribute_list_valid,
  sdp_service_search_pattern_for_uuid128,
  sdp_service_search_pattern_for_uuid16,
  sdp_valid_service_search_pattern,
} from './data-element.js';
import { SDP_ServiceAttributeResponse, SDP_ServiceSearchAttributeResponse, SDP_ServiceSearchResponse } from './pdu.js';
import type { L2capService } from '../l2cap/l2cap-service.js';
import type { SdpPacketHandler, SdpStackLike } from './sdp-stack.js';
import { SdpAttributeParser } from './client-parser.js';
import { RfcommQuerySink } from './client-rfcomm.js';
import { AppSink } from './client-sinks.js';
import { SdpClientQuery } from './client-query.js';
import { SdpClientState, type BtstackContextCallbackRegistration } from './client-state.js';

export type { BtstackContextCallbackRegistration } from './client-state.js';
export type { SdpQuerySink } from './client-sinks.js';

/** Attribute list of sdp_client_query_uuid16/uuid128: 0x0001-0xFFFF (as BTstack). */
const ALL_BUT_HANDLE = Uint8Array.from([0x35, 0x05, 0x0a, 0x00, 0x01, 0xff, 0xff]);
/** Attribute list of the RFCOMM query: 0x0001-0x0100. */
const RFCOMM_QUERY_ATTRIBUTES = Uint8Array.from([0x35, 0x05, 0x0a, 0x00, 0x01, 0x01, 0x00]);

export class SdpClient {
  /** @internal The client's state record (tests). */
  readonly state: SdpClientState;
  readonly #query: SdpClientQuery;
  readonly #appSink: AppSink;
  readonly #rfcommSink: RfcommQuerySink;

  constructor(stack: SdpStackLike, l2cap?: L2capService) {
    // BTstack's SDP client hands its events to the query's handler without logging them
    const out = new EventOut(null);
    this.#appSink = new AppSink(stack.codes, out);
    this.#rfcommSink = new RfcommQuerySink(stack.codes, out);
    this.state = new SdpClientState(stack.codes, stack.log, l2cap ?? stack.l2cap ?? null, this.#appSink);
    this.#query = new SdpClientQuery(this.state, new SdpAttributeParser(this.#appSink));
  }

  // ---- BTstack API ----

  sdp_client_init(): void {}

  /** True when no query is active (deprecated in BTstack in favour of the query callback). */
  sdp_client_ready(): boolean {
    return this.#query.ready;
  }

  /**
   * Call `registration.callback(registration.context)` once the client is free (right away if it
   * is free now, possibly before this returns). ERROR_CODE_COMMAND_DISALLOWED if already queued.
   */
  sdp_client_register_query_callback(registration: BtstackContextCallbackRegistration): number {
    if (!registration || typeof registration.callback !== 'function')
      throw new TypeError('sdp_client_register_query_callback: expected { callback, context }');
    const requests = this.state.requests;
    if (requests.includes(registration)) return ERROR_CODE_COMMAND_DISALLOWED;
    requests.push(registration);
    this.#query.notifyCallbacks();
    return ERROR_CODE_SUCCESS;
  }

  /** ServiceSearchAttributeRequest for a pattern (DES of UUIDs) and an AttributeIDList. */
  sdp_client_query(
    callback: SdpPacketHandler,
    remote: BdAddr,
    des_service_search_pattern: Uint8Array,
    des_attribute_id_list: Uint8Array,
  ): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    this.#appSink.callback = checkHandler(callback);
    return this.#query.start(
      SDP_ServiceSearchAttributeResponse,
      this.#appSink,
      remote,
      copyPattern(des_service_search_pattern),
      copyAttributeList(des_attribute_id_list),
      0,
    );
  }

  sdp_client_query_uuid16(callback: SdpPacketHandler, remote: BdAddr, uuid16: number): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    return this.sdp_client_query(callback, remote, patternForUuid16(uuid16), ALL_BUT_HANDLE);
  }

  sdp_client_query_uuid128(callback: SdpPacketHandler, remote: BdAddr, uuid128: Uint8Array): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    return this.sdp_client_query(callback, remote, patternForUuid128(uuid128), ALL_BUT_HANDLE);
  }

  /** ServiceAttributeRequest for one record (ENABLE_SDP_EXTRA_QUERIES in BTstack). */
  sdp_client_service_attribute_search(
    callback: SdpPacketHandler,
    remote: BdAddr,
    search_service_record_handle: number,
    des_attribute_id_list: Uint8Array,
  ): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    this.#appSink.callback = checkHandler(callback);
    return this.#query.start(
      SDP_ServiceAttributeResponse,
      this.#appSink,
      remote,
      new Uint8Array(0),
      copyAttributeList(des_attribute_id_list),
      search_service_record_handle >>> 0,
    );
  }

  /** ServiceSearchRequest: the handles of matching records (ENABLE_SDP_EXTRA_QUERIES in BTstack). */
  sdp_client_service_search(callback: SdpPacketHandler, remote: BdAddr, des_service_search_pattern: Uint8Array): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    this.#appSink.callback = checkHandler(callback);
    return this.#query.start(
      SDP_ServiceSearchResponse,
      this.#appSink,
      remote,
      copyPattern(des_service_search_pattern),
      new Uint8Array(0),
      0,
    );
  }

  sdp_client_query_rfcomm_channel_and_name_for_search_pattern(
    callback: SdpPacketHandler,
    remote: BdAddr,
    des_service_search_pattern: Uint8Array,
  ): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    const pattern = copyPattern(des_service_search_pattern);
    this.#rfcommSink.start(checkHandler(callback));
    return this.#query.start(SDP_ServiceSearchAttributeResponse, this.#rfcommSink, remote, pattern, RFCOMM_QUERY_ATTRIBUTES, 0);
  }

  /** RFCOMM services whose ServiceClassIDList holds `uuid16` (the _for_uuid query matches the UUID anywhere in a record). */
  sdp_client_query_rfcomm_channel_and_name_for_service_class_uuid(
    callback: SdpPacketHandler,
    remote: BdAddr,
    uuid16: number,
  ): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    const pattern = patternForUuid16(uuid16);
    this.#rfcommSink.start(checkHandler(callback), uuid16 & 0xffff);
    return this.#query.start(SDP_ServiceSearchAttributeResponse, this.#rfcommSink, remote, pattern, RFCOMM_QUERY_ATTRIBUTES, 0);
  }

  sdp_client_query_rfcomm_channel_and_name_for_uuid(callback: SdpPacketHandler, remote: BdAddr, uuid16: number): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    return this.sdp_client_query_rfcomm_channel_and_name_for_search_pattern(callback, remote, patternForUuid16(uuid16));
  }

  sdp_client_query_rfcomm_channel_and_name_for_uuid128(callback: SdpPacketHandler, remote: BdAddr, uuid128: Uint8Array): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    return this.sdp_client_query_rfcomm_channel_and_name_for_search_pattern(callback, remote, patternForUuid128(uuid128));
  }

  /** Forget the current query without events (BTstack's sdp_client_deinit); drops queued callbacks. */
  sdp_client_deinit(): void {
    this.#query.deinit();
  }
}

function checkHandler(callback: SdpPacketHandler): SdpPacketHandler {
  if (typeof callback !== 'function') throw new TypeError('sdp_client: callback must be a packet handler function');
  return callback;
}

function copyPattern(p: Uint8Array): Uint8Array {
  if (!(p instanceof Uint8Array)) throw new TypeError('sdp_client: service search pattern must be a Uint8Array');
  const n = de_validate(p, 0);
  if (n < 0 || !sdp_valid_service_search_pattern(p, 0, n))
    throw new TypeError('sdp_client: service search pattern must be a DES of 1-12 UUIDs');
  return p.slice(0, n);
}

function copyAttributeList(p: Uint8Array): Uint8Array {
  if (!(p instanceof Uint8Array)) throw new TypeError('sdp_client: attribute id list must be a Uint8Array');
  const n = de_validate(p, 0);
  if (n < 0 || !sdp_attribute_list_valid(p, 0, n))
    throw new TypeError('sdp_client: attribute id list must be a DES of uint16 ids and uint32 ranges');
  return p.slice(0, n);
}

function patternForUuid16(uuid16: number): Uint8Array {
  const p = new Uint8Array(5);
  sdp_service_search_pattern_for_uuid16(p, 0, uuid16 & 0xffff);
  return p;
}

function patternForUuid128(uuid128: Uint8Array): Uint8Array {
  if (!(uuid128 instanceof Uint8Array) || uuid128.length < 16) throw new TypeError('sdp_client: uuid128 must be 16 octets');
  const p = new Uint8Array(19);
  sdp_service_search_pattern_for_uuid128(p, 0, uuid128);
  return p;
}
