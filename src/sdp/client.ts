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
 */
import type { BdAddr } from '../core/bytes.js';
import type { Logger } from '../core/log.js';
import type { Codes } from '../codes/index.js';
import { EventOut } from '../core/event-out.js';
import {
  BLUETOOTH_PSM_SDP,
  BTSTACK_ACL_BUFFERS_FULL,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_SUCCESS,
  HCI_EVENT_PACKET,
  L2CAP_DATA_PACKET,
  SDP_QUERY_BUSY,
  SDP_QUERY_INCOMPLETE,
} from '../codes/v1.4.js';
import {
  de_validate,
  sdp_attribute_list_valid,
  sdp_service_search_pattern_for_uuid128,
  sdp_service_search_pattern_for_uuid16,
  sdp_valid_service_search_pattern,
} from './data-element.js';
import {
  SdpPdu,
  SDP_ErrorResponse,
  SDP_MAX_CONTINUATION_STATE,
  SDP_ServiceAttributeResponse,
  SDP_ServiceSearchAttributeResponse,
  SDP_ServiceSearchResponse,
  sdp_encode_service_attribute_request,
  sdp_encode_service_search_attribute_request,
  sdp_encode_service_search_request,
  sdp_pdu_get_record_handle,
  sdp_response_decode,
} from './pdu.js';
import { SdpAttributeParser, type SdpAttributeSink } from './client-parser.js';
import { RfcommQuerySink } from './client-rfcomm.js';
import type { L2capService } from '../l2cap/l2cap-service.js';
import type { SdpPacketHandler, SdpStackLike } from './sdp-stack.js';

/** BTstack's btstack_context_callback_registration_t. */
export interface BtstackContextCallbackRegistration {
  callback: (context: unknown) => void;
  context?: unknown;
}

/** Where a query's results go. */
export interface SdpQuerySink extends SdpAttributeSink {
  record_handle(total_count: number, record_index: number, record_handle: number): void;
  /** Report SDP_EVENT_QUERY_COMPLETE. */
  complete(status: number): void;
}

/** Attribute list of sdp_client_query_uuid16/uuid128: 0x0001-0xFFFF (as BTstack). */
const ALL_BUT_HANDLE = Uint8Array.from([0x35, 0x05, 0x0a, 0x00, 0x01, 0xff, 0xff]);
/** Attribute list of the RFCOMM query: 0x0001-0x0100. */
const RFCOMM_QUERY_ATTRIBUTES = Uint8Array.from([0x35, 0x05, 0x0a, 0x00, 0x01, 0x01, 0x00]);

const INIT = 0;
const W4_CONNECT = 1;
const W2_SEND = 2;
const W4_RESPONSE = 3;
const QUERY_COMPLETE = 4;
/** Gave up on a broken answer; waiting for the channel to close. */
const W4_DISCONNECT = 5;

/** Octets of a request around the pattern and attribute list: header, counts, handle, continuation. */
const REQUEST_OVERHEAD = 5 + 2 + 4 + 1 + SDP_MAX_CONTINUATION_STATE;

/** Forwards results to the app's packet handler. */
class AppSink implements SdpQuerySink {
  callback: SdpPacketHandler = () => {};
  constructor(
    private readonly codes: Codes,
    private readonly out: EventOut,
  ) {}
  attribute_byte(record_id: number, attribute_id: number, attribute_length: number, data_offset: number, data: number): void {
    const ev = this.out.buffer();
    const n = this.codes.sdp_event_query_attribute_byte_build(ev, 0, record_id, attribute_id, attribute_length, data_offset, data);
    ev[0] = this.codes.SDP_EVENT_QUERY_ATTRIBUTE_VALUE; // BTstack's code for this layout
    this.out.to_handler(this.callback, 0, ev, n);
  }
  record_end(): void {}
  record_handle(total_count: number, record_index: number, record_handle: number): void {
    const ev = this.out.buffer();
    const n = this.codes.sdp_event_query_service_record_handle_build(ev, 0, total_count, record_index, record_handle);
    this.out.to_handler(this.callback, 0, ev, n);
  }
  complete(status: number): void {
    const ev = this.out.buffer();
    const n = this.codes.sdp_event_query_complete_build(ev, 0, status);
    this.out.to_handler(this.callback, 0, ev, n);
  }
}

export class SdpClient {
  private readonly codes: Codes;
  private readonly log: Logger;
  private l2cap: L2capService | null;
  private state = INIT;
  private cid = 0;
  private pduId = 0;
  private transactionId = 0;
  private pattern: Uint8Array = new Uint8Array(0);
  private attributeList: Uint8Array = new Uint8Array(0);
  private recordHandle = 0;
  private maxAttributeBytes = 0;
  private remoteMtu = 0;
  private tx: Uint8Array = new Uint8Array(0);
  private readonly cont = new Uint8Array(SDP_MAX_CONTINUATION_STATE);
  private contLen = 0;
  private handlesSeen = 0;
  private handlesTotal = -1;
  private sink: SdpQuerySink;
  private readonly appSink: AppSink;
  private readonly rfcommSink: RfcommQuerySink;
  private readonly parser: SdpAttributeParser;
  private readonly pdu = new SdpPdu();
  private readonly requests: BtstackContextCallbackRegistration[] = [];
  private readonly handler: SdpPacketHandler = (t, c, p, s) => this.packetHandler(t, c, p, s);

  constructor(stack: SdpStackLike, l2cap?: L2capService) {
    this.codes = stack.codes;
    this.log = stack.log;
    this.l2cap = l2cap ?? stack.l2cap ?? null;
    // BTstack's SDP client hands its events to the query's handler without logging them
    const out = new EventOut(null);
    this.appSink = new AppSink(this.codes, out);
    this.rfcommSink = new RfcommQuerySink(this.codes, out);
    this.sink = this.appSink;
    this.parser = new SdpAttributeParser(this.appSink);
  }

  // ---- BTstack API ----

  sdp_client_init(): void {}

  /** True when no query is active (deprecated in BTstack in favour of the query callback). */
  sdp_client_ready(): boolean {
    return this.state === INIT;
  }

  /**
   * Call `registration.callback(registration.context)` once the client is free (right away if it
   * is free now, possibly before this returns). ERROR_CODE_COMMAND_DISALLOWED if already queued.
   */
  sdp_client_register_query_callback(registration: BtstackContextCallbackRegistration): number {
    if (!registration || typeof registration.callback !== 'function') throw new TypeError('sdp_client_register_query_callback: expected { callback, context }');
    if (this.requests.includes(registration)) return ERROR_CODE_COMMAND_DISALLOWED;
    this.requests.push(registration);
    this.notifyCallbacks();
    return ERROR_CODE_SUCCESS;
  }

  /** ServiceSearchAttributeRequest for a pattern (DES of UUIDs) and an AttributeIDList. */
  sdp_client_query(callback: SdpPacketHandler, remote: BdAddr, des_service_search_pattern: Uint8Array, des_attribute_id_list: Uint8Array): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    this.appSink.callback = checkHandler(callback);
    return this.start(SDP_ServiceSearchAttributeResponse, this.appSink, remote, copyPattern(des_service_search_pattern), copyAttributeList(des_attribute_id_list), 0);
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
  sdp_client_service_attribute_search(callback: SdpPacketHandler, remote: BdAddr, search_service_record_handle: number, des_attribute_id_list: Uint8Array): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    this.appSink.callback = checkHandler(callback);
    return this.start(SDP_ServiceAttributeResponse, this.appSink, remote, new Uint8Array(0), copyAttributeList(des_attribute_id_list), search_service_record_handle >>> 0);
  }

  /** ServiceSearchRequest: the handles of matching records (ENABLE_SDP_EXTRA_QUERIES in BTstack). */
  sdp_client_service_search(callback: SdpPacketHandler, remote: BdAddr, des_service_search_pattern: Uint8Array): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    this.appSink.callback = checkHandler(callback);
    return this.start(SDP_ServiceSearchResponse, this.appSink, remote, copyPattern(des_service_search_pattern), new Uint8Array(0), 0);
  }

  sdp_client_query_rfcomm_channel_and_name_for_search_pattern(callback: SdpPacketHandler, remote: BdAddr, des_service_search_pattern: Uint8Array): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    const pattern = copyPattern(des_service_search_pattern);
    this.rfcommSink.start(checkHandler(callback));
    return this.start(SDP_ServiceSearchAttributeResponse, this.rfcommSink, remote, pattern, RFCOMM_QUERY_ATTRIBUTES, 0);
  }

  /** RFCOMM services whose ServiceClassIDList holds `uuid16` (the _for_uuid query matches the UUID anywhere in a record). */
  sdp_client_query_rfcomm_channel_and_name_for_service_class_uuid(callback: SdpPacketHandler, remote: BdAddr, uuid16: number): number {
    if (!this.sdp_client_ready()) return SDP_QUERY_BUSY;
    const pattern = patternForUuid16(uuid16);
    this.rfcommSink.start(checkHandler(callback), uuid16 & 0xffff);
    return this.start(SDP_ServiceSearchAttributeResponse, this.rfcommSink, remote, pattern, RFCOMM_QUERY_ATTRIBUTES, 0);
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
    if (this.cid && this.l2cap && this.state !== INIT) this.l2cap.l2cap_disconnect(this.cid);
    this.state = INIT;
    this.cid = 0;
    this.requests.length = 0;
  }

  // ---- query machinery ----

  private start(pduId: number, sink: SdpQuerySink, remote: BdAddr, pattern: Uint8Array, attributeList: Uint8Array, recordHandle: number): number {
    const l2cap = this.l2cap;
    if (!l2cap) throw new Error('sdp_client: the stack has no L2CAP layer');
    if (!(remote instanceof Uint8Array) || remote.length !== 6) throw new TypeError('sdp_client: remote must be a 6-octet BdAddr');
    this.pduId = pduId;
    this.sink = sink;
    this.pattern = pattern;
    this.attributeList = attributeList;
    this.recordHandle = recordHandle;
    this.contLen = 0;
    this.handlesSeen = 0;
    this.handlesTotal = -1;
    this.cid = 0;
    if (pduId === SDP_ServiceAttributeResponse) this.parser.reset('list', sink);
    else this.parser.reset('lists', sink);
    this.tx = new Uint8Array(REQUEST_OVERHEAD + pattern.length + attributeList.length);
    this.state = W4_CONNECT;
    const { status } = l2cap.l2cap_create_channel(this.handler, remote, BLUETOOTH_PSM_SDP, l2cap.l2cap_max_mtu());
    if (status !== ERROR_CODE_SUCCESS) {
      this.state = INIT;
      this.notifyCallbacks();
    }
    return status;
  }

  private notifyCallbacks(): void {
    if (!this.sdp_client_ready()) return;
    const r = this.requests.shift();
    if (r) r.callback(r.context);
  }

  private done(status: number): void {
    this.state = INIT;
    this.cid = 0;
    this.sink.complete(status);
    this.notifyCallbacks();
  }

  /** Give up on the query: disconnect; CHANNEL_CLOSED then reports SDP_QUERY_INCOMPLETE. */
  private abort(why: string): void {
    this.log.error(`sdp_client: ${why}, disconnecting`);
    this.state = W4_DISCONNECT;
    this.l2cap?.l2cap_disconnect(this.cid);
  }

  private sendRequest(): void {
    const l2cap = this.l2cap!;
    const tid = (this.transactionId + 1) & 0xffff;
    const cont = this.contLen ? this.cont.subarray(0, this.contLen) : null;
    let n: number;
    if (this.pduId === SDP_ServiceSearchResponse) n = sdp_encode_service_search_request(this.tx, 0, tid, this.pattern, 0xffff, cont);
    else if (this.pduId === SDP_ServiceAttributeResponse) n = sdp_encode_service_attribute_request(this.tx, 0, tid, this.recordHandle, this.maxAttributeBytes, this.attributeList, cont);
    else n = sdp_encode_service_search_attribute_request(this.tx, 0, tid, this.pattern, this.maxAttributeBytes, this.attributeList, cont);
    if (n < 0 || n > this.remoteMtu) {
      this.abort(`request of ${n} octets does not fit the server's MTU ${this.remoteMtu}`);
      return;
    }
    const status = l2cap.l2cap_send(this.cid, this.tx, n);
    if (status === BTSTACK_ACL_BUFFERS_FULL) {
      l2cap.l2cap_request_can_send_now_event(this.cid);
      return;
    }
    if (status !== ERROR_CODE_SUCCESS) {
      this.abort(`l2cap_send failed with status 0x${status.toString(16)}`);
      return;
    }
    this.transactionId = tid;
    this.state = W4_RESPONSE;
  }

  /** The L2CAP packet handler of the client's channel. */
  packetHandler(packet_type: number, channel: number, packet: Uint8Array, size: number): void {
    size = Math.min(size, packet.length);
    if (packet_type === L2CAP_DATA_PACKET) {
      if (channel === this.cid && this.state === W4_RESPONSE) this.response(packet, size);
      return;
    }
    if (packet_type !== HCI_EVENT_PACKET || size < 2) return;
    const codes = this.codes;
    switch (packet[0]) {
      case codes.L2CAP_EVENT_CHANNEL_OPENED: {
        if (this.state !== W4_CONNECT) return;
        const status = codes.l2cap_event_channel_opened_get_status(packet);
        if (status !== 0) {
          this.done(status);
          return;
        }
        this.cid = codes.l2cap_event_channel_opened_get_local_cid(packet);
        this.remoteMtu = codes.l2cap_event_channel_opened_get_remote_mtu(packet);
        const localMtu = codes.l2cap_event_channel_opened_get_local_mtu(packet);
        // what fits in one response to us: header 5, byte count 2, continuation up to 17
        this.maxAttributeBytes = Math.max(7, Math.min(0xffff, localMtu - 24));
        this.state = W2_SEND;
        this.l2cap!.l2cap_request_can_send_now_event(this.cid);
        return;
      }
      case codes.L2CAP_EVENT_CAN_SEND_NOW:
        if (this.state === W2_SEND && codes.l2cap_event_can_send_now_get_local_cid(packet) === this.cid) this.sendRequest();
        return;
      case codes.L2CAP_EVENT_CHANNEL_CLOSED: {
        if (this.state === INIT || this.cid === 0 || codes.l2cap_event_channel_closed_get_local_cid(packet) !== this.cid) return;
        this.done(this.state === QUERY_COMPLETE ? 0 : SDP_QUERY_INCOMPLETE);
        return;
      }
      default:
        return;
    }
  }

  private response(packet: Uint8Array, size: number): void {
    if (size < 3) return;
    const tid = (packet[1]! << 8) | packet[2]!;
    if (tid !== this.transactionId) {
      this.log.error(`sdp_client: transaction id ${tid} does not match ${this.transactionId}, ignored`);
      return;
    }
    const pdu = this.pdu;
    const status = sdp_response_decode(packet, 0, size, pdu);
    if (status !== 'ok') return this.abort(`malformed response (${status})`);
    if (pdu.pdu_id === SDP_ErrorResponse) return this.abort(`ErrorResponse 0x${pdu.error_code.toString(16).padStart(4, '0')}`);
    if (pdu.pdu_id !== this.pduId) return this.abort(`unexpected PDU 0x${pdu.pdu_id.toString(16)}`);
    if (pdu.pdu_id === SDP_ServiceSearchResponse) {
      if (this.handlesTotal < 0) this.handlesTotal = pdu.total_record_count;
      if (pdu.total_record_count !== this.handlesTotal || this.handlesSeen + pdu.current_record_count > this.handlesTotal) {
        return this.abort('inconsistent ServiceSearchResponse counts');
      }
      for (let i = 0; i < pdu.current_record_count; i++) {
        this.handlesSeen++;
        this.sink.record_handle(this.handlesTotal, this.handlesSeen, sdp_pdu_get_record_handle(packet, pdu, i));
        if (this.state !== W4_RESPONSE) return; // the handler ended the query (deinit)
      }
    } else {
      if (pdu.attribute_bytes_count > this.maxAttributeBytes) return this.abort('more attribute octets than MaximumAttributeByteCount');
      if (!this.parser.feed(packet, pdu.attribute_bytes_pos, pdu.attribute_bytes_count)) return this.abort('malformed attribute list');
      if (this.state !== W4_RESPONSE) return;
    }
    if (pdu.continuation_len === 0) {
      const complete = pdu.pdu_id === SDP_ServiceSearchResponse ? this.handlesSeen === this.handlesTotal : this.parser.complete;
      if (!complete) return this.abort('answer ended before its data did');
      this.state = QUERY_COMPLETE;
      this.l2cap!.l2cap_disconnect(this.cid);
      return;
    }
    this.contLen = pdu.continuation_len;
    this.cont.set(packet.subarray(pdu.continuation_pos, pdu.continuation_pos + pdu.continuation_len));
    this.state = W2_SEND;
    this.l2cap!.l2cap_request_can_send_now_event(this.cid);
  }
}

function checkHandler(callback: SdpPacketHandler): SdpPacketHandler {
  if (typeof callback !== 'function') throw new TypeError('sdp_client: callback must be a packet handler function');
  return callback;
}

function copyPattern(p: Uint8Array): Uint8Array {
  if (!(p instanceof Uint8Array)) throw new TypeError('sdp_client: service search pattern must be a Uint8Array');
  const n = de_validate(p, 0);
  if (n < 0 || !sdp_valid_service_search_pattern(p, 0, n)) throw new TypeError('sdp_client: service search pattern must be a DES of 1-12 UUIDs');
  return p.slice(0, n);
}

function copyAttributeList(p: Uint8Array): Uint8Array {
  if (!(p instanceof Uint8Array)) throw new TypeError('sdp_client: attribute id list must be a Uint8Array');
  const n = de_validate(p, 0);
  if (n < 0 || !sdp_attribute_list_valid(p, 0, n)) throw new TypeError('sdp_client: attribute id list must be a DES of uint16 ids and uint32 ranges');
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
