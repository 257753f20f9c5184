/**
 * SDP server (BTstack's sdp_server.c API): a record database and the SDP service on PSM 1.
 *
 *   const sdp = new SdpServer(stack);       // stack.l2cap, or pass an L2CAP layer
 *   sdp.sdp_init();
 *   spp_create_sdp_record(buf, 0x10001, 1, 'SPP Counter');
 *   sdp.sdp_register_service(buf);          // 0 or a status
 *
 * Each SDP channel (one per peer, from a pool of MAX_NR_HCI_CONNECTIONS) has its own
 * continuation state; requests are answered one at a time, the response is sent on
 * L2CAP_EVENT_CAN_SEND_NOW. Malformed requests get the ErrorResponse the spec prescribes
 * (see server-responder.ts); nothing from the wire throws.
 *
 * A client must wait for each response before its next request (Core Vol 3 Part B: one request
 * outstanding per connection), but one that pipelines is not ignored: each request that arrives while
 * an answer is still owed gets ErrorResponse 0x0006 (Insufficient Resources) with its own
 * TransactionID, in arrival order after the answers owed before it. They are remembered as runs
 * of consecutive TransactionIDs (SDP_SERVER_OWED_RUNS per channel), so a client counting its ids
 * up costs one run however many it sends; a client that breaks more runs than that while its
 * answers wait has its channel disconnected (the one answer left that needs no memory).
 */
import { HCI_EVENT_PACKET, L2CAP_DATA_PACKET, LEVEL_0, BLUETOOTH_PSM_SDP, BTSTACK_ACL_BUFFERS_FULL, ERROR_CODE_SUCCESS } from '../codes/v1.4.js';
import type { Pool } from '../core/pool.js';
import type { Logger } from '../core/log.js';
import type { Codes } from '../codes/index.js';
import type { L2capService } from '../l2cap/l2cap-service.js';
import type { SdpStackLike } from './sdp-stack.js';
import { SdpRecordDb, sdp_get_service_record_handle as recordHandleOf } from './records.js';
import { ContinuationSlot, SdpResponder } from './server-responder.js';
import { SDP_ERROR_INSUFFICIENT_RESOURCES, sdp_encode_error_response } from './pdu.js';

/** The smallest MTU an L2CAP channel may have (Core Vol 3 Part A 5.1). */
const L2CAP_MIN_MTU = 48;

/** Runs of consecutive TransactionIDs of pipelined requests a channel remembers (see above). */
export const SDP_SERVER_OWED_RUNS = 16;

/** Pipelined requests owed ErrorResponse 0x0006, oldest first, as runs of consecutive TransactionIDs. */
class OwedErrors {
  private readonly first = new Uint16Array(SDP_SERVER_OWED_RUNS);
  private readonly count = new Uint32Array(SDP_SERVER_OWED_RUNS);
  private head = 0;
  private runs = 0;
  /** Requests owed an ErrorResponse. */
  total = 0;

  clear(): void {
    this.head = this.runs = this.total = 0;
  }

  /** Remember request `tid`; false when it would need one run more than there is room for. */
  add(tid: number): boolean {
    if (this.runs > 0) {
      const last = (this.head + this.runs - 1) % SDP_SERVER_OWED_RUNS;
      if (((this.first[last]! + this.count[last]!) & 0xffff) === tid && this.count[last]! < 0xffffffff) {
        this.count[last]!++;
        this.total++;
        return true;
      }
    }
    if (this.runs === SDP_SERVER_OWED_RUNS) return false;
    const at = (this.head + this.runs) % SDP_SERVER_OWED_RUNS;
    this.first[at] = tid;
    this.count[at] = 1;
    this.runs++;
    this.total++;
    return true;
  }

  /** TransactionID of the oldest owed answer (call only while total > 0). */
  peek(): number {
    return this.first[this.head]!;
  }

  /** The oldest owed answer went out. */
  shift(): void {
    if (this.total === 0) return;
    this.total--;
    this.first[this.head] = (this.first[this.head]! + 1) & 0xffff;
    if (--this.count[this.head]! === 0) {
      this.head = (this.head + 1) % SDP_SERVER_OWED_RUNS;
      this.runs--;
    }
  }
}

class SdpServerChannel {
  local_cid = 0;
  open = false;
  remote_mtu = L2CAP_MIN_MTU;
  /** Octets of the response waiting for CAN_SEND_NOW (0: none). */
  pending = 0;
  response: Uint8Array = new Uint8Array(0);
  readonly slot = new ContinuationSlot();
  /** Requests that arrived while an answer was owed (pipelined), each owed ErrorResponse 0x0006. */
  readonly owed = new OwedErrors();
}

export class SdpServer {
  readonly db: SdpRecordDb;
  private readonly responder: SdpResponder;
  private readonly channels: Pool<SdpServerChannel>;
  private readonly codes: Codes;
  private readonly log: Logger;
  private readonly responseSize: number;
  private l2cap: L2capService | null;
  private registered = false;
  private readonly handler = (packet_type: number, channel: number, packet: Uint8Array, size: number): void =>
    this.packetHandler(packet_type, channel, packet, size);

  constructor(stack: SdpStackLike, l2cap?: L2capService) {
    this.codes = stack.codes;
    this.log = stack.log;
    this.l2cap = l2cap ?? stack.l2cap ?? null;
    this.db = new SdpRecordDb(stack.pools, stack.log);
    this.responder = new SdpResponder(this.db);
    // BTstack answers from a buffer of one ACL payload (HCI_ACL_PAYLOAD_SIZE - L2CAP header).
    this.responseSize = Math.max(L2CAP_MIN_MTU, stack.pools.config.HCI_ACL_PAYLOAD_SIZE - 4);
    const size = this.responseSize;
    this.channels = stack.pools.create(
      'MAX_NR_HCI_CONNECTIONS',
      'sdp_server_channels',
      () => {
        const c = new SdpServerChannel();
        c.response = new Uint8Array(size);
        return c;
      },
      (c) => {
        c.local_cid = 0;
        c.open = false;
        c.remote_mtu = L2CAP_MIN_MTU;
        c.pending = 0;
        c.slot.clear();
        c.owed.clear();
      },
    );
  }

  // ---- BTstack API ----

  /** Set up the SDP server: register PSM 1 with L2CAP (security level 0, as SDP must be reachable before pairing). */
  sdp_init(): number {
    if (this.registered) return ERROR_CODE_SUCCESS;
    const l2cap = this.l2cap;
    if (!l2cap) throw new Error('sdp_init: the stack has no L2CAP layer');
    const status = l2cap.l2cap_register_service(this.handler, BLUETOOTH_PSM_SDP, 0xffff, LEVEL_0);
    if (status === ERROR_CODE_SUCCESS) this.registered = true;
    else this.log.error(`sdp_init: l2cap_register_service failed, status 0x${status.toString(16)}`);
    return status;
  }

  /**
   * Register a service record (a DES of attribute id/value pairs in ascending id order whose
   * attribute 0x0000 is its 32-bit ServiceRecordHandle, > 0xFFFF). The record is copied.
   * Returns 0, SDP_HANDLE_INVALID, SDP_HANDLE_ALREADY_REGISTERED or BTSTACK_MEMORY_ALLOC_FAILED.
   */
  sdp_register_service(record: Uint8Array): number {
    if (!(record instanceof Uint8Array)) throw new TypeError('sdp_register_service: record must be a Uint8Array');
    return this.db.register(record);
  }

  /** Remove a record (nothing happens for an unknown handle, as in BTstack). */
  sdp_unregister_service(service_record_handle: number): void {
    this.db.unregister(service_record_handle >>> 0);
  }

  /** An unused ServiceRecordHandle (the lowest free one from 0x10000). */
  sdp_create_service_record_handle(): number {
    return this.db.create_handle();
  }

  /** The registered copy of a record, or null. */
  sdp_get_record_for_handle(handle: number): Uint8Array | null {
    return this.db.find(handle >>> 0)?.service_record ?? null;
  }

  /** The ServiceRecordHandle stored in a record, or 0. */
  sdp_get_service_record_handle(record: Uint8Array): number {
    return recordHandleOf(record);
  }

  /** Unregister PSM 1, close nothing (open channels stay until L2CAP closes them), drop all records. */
  sdp_deinit(): void {
    if (this.registered && this.l2cap) this.l2cap.l2cap_unregister_service(BLUETOOTH_PSM_SDP);
    this.registered = false;
    this.db.clear();
  }

  /** Number of SDP channels in use (tests). */
  get channels_in_use(): number {
    return this.channels.in_use;
  }

  // ---- L2CAP side ----

  private find(local_cid: number): SdpServerChannel | null {
    for (const c of this.channels.items()) if (c.local_cid === local_cid) return c;
    return null;
  }

  private release(c: SdpServerChannel): void {
    this.channels.free(c);
  }

  /** The packet handler registered for PSM 1. */
  packetHandler(packet_type: number, channel: number, packet: Uint8Array, size: number): void {
    const l2cap = this.l2cap;
    if (!l2cap) return;
    if (packet_type === L2CAP_DATA_PACKET) {
      const c = this.find(channel);
      if (!c || !c.open) return;
      if (c.pending || c.owed.total) {
        // pipelined: answered with an ErrorResponse after the answers owed before it
        const n = Math.min(size, packet.length);
        const tid = n >= 3 ? (packet[1]! << 8) | packet[2]! : 0;
        if (c.owed.add(tid)) {
          this.log.info(() => `sdp: request 0x${tid.toString(16)} on cid 0x${channel.toString(16)} while an answer is owed: ErrorResponse insufficient resources`);
        } else {
          this.log.error(() => `sdp: client on cid 0x${channel.toString(16)} pipelines beyond ${SDP_SERVER_OWED_RUNS} runs of requests: disconnecting`);
          l2cap.l2cap_disconnect(c.local_cid);
        }
        return;
      }
      const mtu = Math.min(c.remote_mtu, c.response.length);
      c.pending = this.responder.handle_request(packet, 0, Math.min(size, packet.length), mtu, c.slot, c.response);
      l2cap.l2cap_request_can_send_now_event(c.local_cid);
      return;
    }
    if (packet_type !== HCI_EVENT_PACKET || size < 2) return;
    const codes = this.codes;
    switch (packet[0]) {
      case codes.L2CAP_EVENT_INCOMING_CONNECTION: {
        const cid = codes.l2cap_event_incoming_connection_get_local_cid(packet);
        if (this.find(cid)) return;
        const c = this.channels.get();
        if (!c) {
          this.log.info(() => `sdp: no free SDP channel, declining cid 0x${cid.toString(16)}`);
          l2cap.l2cap_decline_connection(cid);
          return;
        }
        c.local_cid = cid;
        l2cap.l2cap_accept_connection(cid);
        return;
      }
      case codes.L2CAP_EVENT_CHANNEL_OPENED: {
        const cid = codes.l2cap_event_channel_opened_get_local_cid(packet);
        const c = this.find(cid);
        if (!c) return;
        if (codes.l2cap_event_channel_opened_get_status(packet) !== 0) {
          this.release(c);
          return;
        }
        c.open = true;
        c.remote_mtu = codes.l2cap_event_channel_opened_get_remote_mtu(packet);
        return;
      }
      case codes.L2CAP_EVENT_CAN_SEND_NOW: {
        const c = this.find(codes.l2cap_event_can_send_now_get_local_cid(packet));
        if (!c || !c.open) return;
        // the pending response is older than every owed ErrorResponse
        const owedError = c.pending === 0;
        if (owedError) {
          if (c.owed.total === 0) return;
          c.pending = sdp_encode_error_response(c.response, 0, c.owed.peek(), SDP_ERROR_INSUFFICIENT_RESOURCES);
        }
        const status = l2cap.l2cap_send(c.local_cid, c.response, c.pending);
        if (status === BTSTACK_ACL_BUFFERS_FULL) {
          if (owedError) c.pending = 0;
          l2cap.l2cap_request_can_send_now_event(c.local_cid);
          return;
        }
        if (status !== ERROR_CODE_SUCCESS) this.log.error(`sdp: l2cap_send on cid 0x${c.local_cid.toString(16)} failed, status 0x${status.toString(16)}`);
        c.pending = 0;
        if (owedError) c.owed.shift();
        if (c.owed.total) l2cap.l2cap_request_can_send_now_event(c.local_cid);
        return;
      }
      case codes.L2CAP_EVENT_CHANNEL_CLOSED: {
        const c = this.find(codes.l2cap_event_channel_closed_get_local_cid(packet));
        if (c) this.release(c);
        return;
      }
      default:
        return;
    }
  }
}
