/**
 * The SDP client's query machine (BTstack's sdp_client.c): open an L2CAP channel to PSM 1, send
 * the request on L2CAP_EVENT_CAN_SEND_NOW, check each response, follow continuation states, and
 * disconnect when the answer is complete (or broken); CHANNEL_CLOSED then reports
 * SDP_EVENT_QUERY_COMPLETE. Every state change goes through setState, which logs
 * `sdp client: W4_CONNECT -> W2_SEND (channel open)` at debug level.
 */
import type { BdAddr } from '../core/bytes.js';
import {
  BLUETOOTH_PSM_SDP,
  BTSTACK_ACL_BUFFERS_FULL,
  ERROR_CODE_SUCCESS,
  HCI_EVENT_PACKET,
  L2CAP_DATA_PACKET,
  SDP_QUERY_INCOMPLETE,
} from '../codes/v1.4.js';
import {
  SdpPdu,
  SDP_ErrorResponse,
  SDP_MAX_CONTINUATION_STATE,
  SDP_ServiceAttributeResponse,
  SDP_ServiceSearchResponse,
  sdp_encode_service_attribute_request,
  sdp_encode_service_search_attribute_request,
  sdp_encode_service_search_request,
  sdp_pdu_get_record_handle,
  sdp_response_decode,
} from './pdu.js';
import type { SdpAttributeSink } from './client-parser.js';
import type { SdpQuerySink } from './client-sinks.js';
import type { SdpPacketHandler } from './sdp-stack.js';
import {
  SDP_CLIENT_INIT,
  SDP_CLIENT_QUERY_COMPLETE,
  SDP_CLIENT_STATE_NAMES,
  SDP_CLIENT_W2_SEND,
  SDP_CLIENT_W4_CONNECT,
  SDP_CLIENT_W4_DISCONNECT,
  SDP_CLIENT_W4_RESPONSE,
  type SdpClientState,
} from './client-state.js';

/** Octets of a request around the pattern and attribute list: header, counts, handle, continuation. */
const REQUEST_OVERHEAD = 5 + 2 + 4 + 1 + SDP_MAX_CONTINUATION_STATE;

/** What the machine needs from the attribute list parser (client-parser.ts's SdpAttributeParser). */
export interface SdpClientAttributeParser {
  reset(mode: 'lists' | 'list', sink: SdpAttributeSink): void;
  feed(buf: Uint8Array, pos: number, len: number): boolean;
  readonly complete: boolean;
}

export class SdpClientQuery {
  /** The L2CAP packet handler of the client's channel, bound on the first query. */
  #handler: SdpPacketHandler | null = null;
  private readonly pdu = new SdpPdu();

  constructor(
    private readonly s: SdpClientState,
    private readonly parser: SdpClientAttributeParser,
  ) {}

  /** The one way the machine changes state: logs `sdp client: FROM -> TO (why)` at debug level. */
  setState(to: number, why: string): void {
    const s = this.s;
    const from = s.state;
    s.state = to;
    if (from !== to) s.log.debug(() => `sdp client: ${SDP_CLIENT_STATE_NAMES[from]} -> ${SDP_CLIENT_STATE_NAMES[to]} (${why})`);
  }

  get ready(): boolean {
    return this.s.state === SDP_CLIENT_INIT;
  }

  /** Start a query (arguments already checked and copied). Returns the status of l2cap_create_channel. */
  start(
    pduId: number,
    sink: SdpQuerySink,
    remote: BdAddr,
    pattern: Uint8Array,
    attributeList: Uint8Array,
    recordHandle: number,
  ): number {
    const s = this.s;
    const l2cap = s.l2cap;
    if (!l2cap) throw new Error('sdp_client: the stack has no L2CAP layer');
    if (!(remote instanceof Uint8Array) || remote.length !== 6)
      throw new TypeError('sdp_client: remote must be a 6-octet BdAddr');
    s.pduId = pduId;
    s.sink = sink;
    s.pattern = pattern;
    s.attributeList = attributeList;
    s.recordHandle = recordHandle;
    s.contLen = 0;
    s.handlesSeen = 0;
    s.handlesTotal = -1;
    s.cid = 0;
    this.parser.reset(pduId === SDP_ServiceAttributeResponse ? 'list' : 'lists', sink);
    s.tx = new Uint8Array(REQUEST_OVERHEAD + pattern.length + attributeList.length);
    this.setState(SDP_CLIENT_W4_CONNECT, 'query started');
    const { status } = l2cap.l2cap_create_channel(
      (this.#handler ??= this.packetHandler.bind(this)),
      remote,
      BLUETOOTH_PSM_SDP,
      l2cap.l2cap_max_mtu(),
    );
    if (status !== ERROR_CODE_SUCCESS) {
      this.setState(SDP_CLIENT_INIT, `l2cap_create_channel failed, status 0x${status.toString(16)}`);
      this.notifyCallbacks();
    }
    return status;
  }

  /** Forget the current query without events (sdp_client_deinit); drops queued callbacks. */
  deinit(): void {
    const s = this.s;
    if (s.cid && s.l2cap && s.state !== SDP_CLIENT_INIT) s.l2cap.l2cap_disconnect(s.cid);
    this.setState(SDP_CLIENT_INIT, 'deinit');
    s.cid = 0;
    s.requests.length = 0;
  }

  /** Call the oldest queued query callback if the client is free. */
  notifyCallbacks(): void {
    if (!this.ready) return;
    const r = this.s.requests.shift();
    if (r) r.callback(r.context);
  }

  private done(status: number): void {
    const s = this.s;
    this.setState(SDP_CLIENT_INIT, `channel closed, query complete with status 0x${status.toString(16)}`);
    s.cid = 0;
    s.sink.complete(status);
    this.notifyCallbacks();
  }

  /** Give up on the query: disconnect; CHANNEL_CLOSED then reports SDP_QUERY_INCOMPLETE. */
  private abort(why: string): void {
    const s = this.s;
    s.log.error(`sdp_client: ${why}, disconnecting`);
    this.setState(SDP_CLIENT_W4_DISCONNECT, why);
    s.l2cap?.l2cap_disconnect(s.cid);
  }

  private sendRequest(): void {
    const s = this.s;
    const l2cap = s.l2cap!;
    const tid = (s.transactionId + 1) & 0xffff;
    const cont = s.contLen ? s.cont.subarray(0, s.contLen) : null;
    let n: number;
    if (s.pduId === SDP_ServiceSearchResponse) n = sdp_encode_service_search_request(s.tx, 0, tid, s.pattern, 0xffff, cont);
    else if (s.pduId === SDP_ServiceAttributeResponse)
      n = sdp_encode_service_attribute_request(s.tx, 0, tid, s.recordHandle, s.maxAttributeBytes, s.attributeList, cont);
    else n = sdp_encode_service_search_attribute_request(s.tx, 0, tid, s.pattern, s.maxAttributeBytes, s.attributeList, cont);
    if (n < 0 || n > s.remoteMtu) {
      this.abort(`request of ${n} octets does not fit the server's MTU ${s.remoteMtu}`);
      return;
    }
    const status = l2cap.l2cap_send(s.cid, s.tx, n);
    if (status === BTSTACK_ACL_BUFFERS_FULL) {
      l2cap.l2cap_request_can_send_now_event(s.cid);
      return;
    }
    if (status !== ERROR_CODE_SUCCESS) {
      this.abort(`l2cap_send failed with status 0x${status.toString(16)}`);
      return;
    }
    s.transactionId = tid;
    this.setState(SDP_CLIENT_W4_RESPONSE, `request 0x${tid.toString(16)} sent`);
  }

  private packetHandler(packet_type: number, channel: number, packet: Uint8Array, size: number): void {
    const s = this.s;
    size = Math.min(size, packet.length);
    if (packet_type === L2CAP_DATA_PACKET) {
      if (channel === s.cid && s.state === SDP_CLIENT_W4_RESPONSE) this.response(packet, size);
      return;
    }
    if (packet_type !== HCI_EVENT_PACKET || size < 2) return;
    const codes = s.codes;
    switch (packet[0]) {
      case codes.L2CAP_EVENT_CHANNEL_OPENED: {
        if (s.state !== SDP_CLIENT_W4_CONNECT) return;
        const status = codes.l2cap_event_channel_opened_get_status(packet);
        if (status !== 0) {
          this.done(status);
          return;
        }
        s.cid = codes.l2cap_event_channel_opened_get_local_cid(packet);
        s.remoteMtu = codes.l2cap_event_channel_opened_get_remote_mtu(packet);
        const localMtu = codes.l2cap_event_channel_opened_get_local_mtu(packet);
        // what fits in one response to us: header 5, byte count 2, continuation up to 17
        s.maxAttributeBytes = Math.max(7, Math.min(0xffff, localMtu - 24));
        this.setState(SDP_CLIENT_W2_SEND, `channel 0x${s.cid.toString(16)} open`);
        s.l2cap!.l2cap_request_can_send_now_event(s.cid);
        return;
      }
      case codes.L2CAP_EVENT_CAN_SEND_NOW:
        if (s.state === SDP_CLIENT_W2_SEND && codes.l2cap_event_can_send_now_get_local_cid(packet) === s.cid) this.sendRequest();
        return;
      case codes.L2CAP_EVENT_CHANNEL_CLOSED: {
        if (s.state === SDP_CLIENT_INIT || s.cid === 0 || codes.l2cap_event_channel_closed_get_local_cid(packet) !== s.cid)
          return;
        this.done(s.state === SDP_CLIENT_QUERY_COMPLETE ? 0 : SDP_QUERY_INCOMPLETE);
        return;
      }
      default:
        return;
    }
  }

  private response(packet: Uint8Array, size: number): void {
    const s = this.s;
    if (size < 3) return;
    const tid = (packet[1]! << 8) | packet[2]!;
    if (tid !== s.transactionId) {
      s.log.error(`sdp_client: transaction id ${tid} does not match ${s.transactionId}, ignored`);
      return;
    }
    const pdu = this.pdu;
    const status = sdp_response_decode(packet, 0, size, pdu);
    if (status !== 'ok') return this.abort(`malformed response (${status})`);
    if (pdu.pdu_id === SDP_ErrorResponse) return this.abort(`ErrorResponse 0x${pdu.error_code.toString(16).padStart(4, '0')}`);
    if (pdu.pdu_id !== s.pduId) return this.abort(`unexpected PDU 0x${pdu.pdu_id.toString(16)}`);
    if (pdu.pdu_id === SDP_ServiceSearchResponse) {
      if (s.handlesTotal < 0) s.handlesTotal = pdu.total_record_count;
      if (pdu.total_record_count !== s.handlesTotal || s.handlesSeen + pdu.current_record_count > s.handlesTotal) {
        return this.abort('inconsistent ServiceSearchResponse counts');
      }
      for (let i = 0; i < pdu.current_record_count; i++) {
        s.handlesSeen++;
        s.sink.record_handle(s.handlesTotal, s.handlesSeen, sdp_pdu_get_record_handle(packet, pdu, i));
        if (s.state !== SDP_CLIENT_W4_RESPONSE) return; // the handler ended the query (deinit)
      }
    } else {
      if (pdu.attribute_bytes_count > s.maxAttributeBytes)
        return this.abort('more attribute octets than MaximumAttributeByteCount');
      if (!this.parser.feed(packet, pdu.attribute_bytes_pos, pdu.attribute_bytes_count))
        return this.abort('malformed attribute list');
      if (s.state !== SDP_CLIENT_W4_RESPONSE) return;
    }
    if (pdu.continuation_len === 0) {
      const complete = pdu.pdu_id === SDP_ServiceSearchResponse ? s.handlesSeen === s.handlesTotal : this.parser.complete;
      if (!complete) return this.abort('answer ended before its data did');
      this.setState(SDP_CLIENT_QUERY_COMPLETE, 'answer complete');
      s.l2cap!.l2cap_disconnect(s.cid);
      return;
    }
    s.contLen = pdu.continuation_len;
    s.cont.set(packet.subarray(pdu.continuation_pos, pdu.continuation_pos + pdu.continuation_len));
    this.setState(SDP_CLIENT_W2_SEND, `continuation of ${pdu.continuation_len} octets`);
    s.l2cap!.l2cap_request_can_send_now_event(s.cid);
  }
}
