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
 * Built as every layer (docs/ARCHITECTURE.md, "The layer pattern"): this facade holds the API;
 * the state record is server-state.ts; the components are records.ts (the record database),
 * server-responder.ts (one request in, one response out) and server-l2cap.ts (PSM 1, channels,
 * sending); server-channel.ts is a channel's data.
 *
 * A client must wait for each response before its next request (Core Vol 3 Part B: one request
 * outstanding per connection), but one that pipelines is not ignored: each request that arrives while
 * an answer is still owed gets ErrorResponse 0x0006 (Insufficient Resources) with its own
 * TransactionID, in arrival order after the answers owed before it. They are remembered as runs
 * of consecutive TransactionIDs (SDP_SERVER_OWED_RUNS per channel), so a client counting its ids
 * up costs one run however many it sends; a client that breaks more runs than that while its
 * answers wait has its channel disconnected (the one answer left that needs no memory).
 */
import { LEVEL_0, BLUETOOTH_PSM_SDP, ERROR_CODE_SUCCESS } from '../codes/v1.4.js';
import type { L2capService } from '../l2cap/l2cap-service.js';
import type { SdpStackLike } from './sdp-stack.js';
import { sdp_get_service_record_handle as recordHandleOf } from './records.js';
import { SdpResponder } from './server-responder.js';
import { SdpServerL2cap } from './server-l2cap.js';
import { SdpServerState } from './server-state.js';

export { SDP_SERVER_OWED_RUNS } from './server-channel.js';

export class SdpServer {
  /** @internal The server's state record (tests). */
  readonly state: SdpServerState;
  readonly #l2cap: SdpServerL2cap;

  constructor(stack: SdpStackLike, l2cap?: L2capService) {
    this.state = new SdpServerState(stack, l2cap ?? stack.l2cap ?? null);
    this.#l2cap = new SdpServerL2cap(this.state, new SdpResponder(this.state.db));
  }

  // ---- BTstack API ----

  /** Set up the SDP server: register PSM 1 with L2CAP (security level 0, as SDP must be reachable before pairing). */
  sdp_init(): number {
    const s = this.state;
    if (s.registered) return ERROR_CODE_SUCCESS;
    const l2cap = s.l2cap;
    if (!l2cap) throw new Error('sdp_init: the stack has no L2CAP layer');
    const server = this.#l2cap;
    const status = l2cap.l2cap_register_service(server.packetHandler.bind(server), BLUETOOTH_PSM_SDP, 0xffff, LEVEL_0);
    if (status === ERROR_CODE_SUCCESS) s.registered = true;
    else s.log.error(`sdp_init: l2cap_register_service failed, status 0x${status.toString(16)}`);
    return status;
  }

  /**
   * Register a service record (a DES of attribute id/value pairs in ascending id order whose
   * attribute 0x0000 is its 32-bit ServiceRecordHandle, > 0xFFFF). The record is copied.
   * Returns 0, SDP_HANDLE_INVALID, SDP_HANDLE_ALREADY_REGISTERED or BTSTACK_MEMORY_ALLOC_FAILED.
   */
  sdp_register_service(record: Uint8Array): number {
    if (!(record instanceof Uint8Array)) throw new TypeError('sdp_register_service: record must be a Uint8Array');
    return this.state.db.register(record);
  }

  /** Remove a record (nothing happens for an unknown handle, as in BTstack). */
  sdp_unregister_service(service_record_handle: number): void {
    this.state.db.unregister(service_record_handle >>> 0);
  }

  /** An unused ServiceRecordHandle (the lowest free one from 0x10000). */
  sdp_create_service_record_handle(): number {
    return this.state.db.create_handle();
  }

  /** The registered copy of a record, or null. */
  sdp_get_record_for_handle(handle: number): Uint8Array | null {
    return this.state.db.find(handle >>> 0)?.service_record ?? null;
  }

  /** The ServiceRecordHandle stored in a record, or 0. */
  sdp_get_service_record_handle(record: Uint8Array): number {
    return recordHandleOf(record);
  }

  /** Unregister PSM 1, close nothing (open channels stay until L2CAP closes them), drop all records. */
  sdp_deinit(): void {
    const s = this.state;
    if (s.registered && s.l2cap) s.l2cap.l2cap_unregister_service(BLUETOOTH_PSM_SDP);
    s.registered = false;
    s.db.clear();
  }

  /** @internal Number of SDP channels in use (tests: state.channels.in_use). */
  get channels_in_use(): number {
    return this.state.channels.in_use;
  }
}
