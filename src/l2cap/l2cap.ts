/**
 * L2CAP for BR/EDR with BTstack's API, events and status codes (l2cap.h / l2cap.c semantics):
 * services, connection-oriented channels in Basic mode, the signalling channel, connectionless
 * data, link management.
 *
 * Shape (BTstack's): API calls and incoming packets only record work; one run() looks for work
 * and sends at most one PDU per opportunity (hci_can_send_acl_packet_now), in this order:
 * signalling responses waiting on a link, the link's information / echo requests, the channels'
 * signalling (round robin), then L2CAP_EVENT_CAN_SEND_NOW to the channels that asked for it
 * (round robin, so no channel starves another). Incoming signalling is handled in
 * l2cap-signaling-in.ts, the send side in l2cap-run.ts.
 *
 * Every channel ends with exactly one terminal event: L2CAP_EVENT_CHANNEL_CLOSED once it had
 * opened (or when the application closed it itself), otherwise L2CAP_EVENT_CHANNEL_OPENED with a
 * failure status. Status codes (BTstack's):
 * - HCI status (e.g. 0x04 page timeout) when the ACL link could not be created;
 * - 0x63 + the remote's result for a refused outgoing channel (BTstack quirk, see refusal_status());
 * - 0x60 + the reject reason when the remote answered our Connection Request with Command Reject;
 * - L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT when the remote did not answer in RTX / ERTX time,
 *   or configuration did not complete within L2CAP_CONFIG_TIMEOUT_MS (40 s; the channel is disconnected);
 * - L2CAP_CONNECTION_BASEBAND_DISCONNECT when the link went down before the channel opened;
 * - L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_RESOURCES when configuration failed (remote answered
 *   Rejected / Unknown options, or "unacceptable parameters" too often): the channel is disconnected.
 * No event comes for an incoming channel the application declined, nor for one refused for
 * security (the application never saw it). An incoming connection the application leaves
 * unanswered gets "pending" after 1 s; if it is still unanswered when the remote's ERTX has run
 * out (120 s later) it is declined and reported as CHANNEL_OPENED with the RTX timeout status.
 */
import { bd_addr_cmp, bd_addr_copy, bd_addr_to_str, little_endian_store_16, type BdAddr } from '../core/bytes.js';
import type { Pools, StackConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { EventPacketLog } from '../core/event-out.js';
import type { Pool } from '../core/pool.js';
import type { RunLoop, Timer } from '../core/run-loop.js';
import type { Codes } from '../codes/index.js';
import {
  BD_ADDR_TYPE_ACL,
  BTSTACK_ACL_BUFFERS_FULL,
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  HCI_CON_HANDLE_INVALID,
  L2CAP_CID_CONNECTIONLESS_CHANNEL,
  L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT,
  L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU,
  L2CAP_ERTX_TIMEOUT_MS,
  L2CAP_HEADER_SIZE,
  L2CAP_LOCAL_CID_DOES_NOT_EXIST,
  L2CAP_MINIMAL_MTU,
  L2CAP_RTX_TIMEOUT_MS,
  L2CAP_SERVICE_ALREADY_REGISTERED,
  L2CAP_SERVICE_DOES_NOT_EXIST,
  L2CAP_STATE_CLOSED,
  L2CAP_STATE_CONFIG,
  L2CAP_STATE_OPEN,
  L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT,
  L2CAP_STATE_WAIT_CONNECT_RSP,
  L2CAP_STATE_WAIT_CONNECTION_COMPLETE,
  L2CAP_STATE_WAIT_DISCONNECT,
  L2CAP_STATE_WAIT_OUTGOING_EXTENDED_FEATURES,
  L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_ACCEPT,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE,
  L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST,
} from '../codes/v1.4.js';
import { L2CAP_CID_DYNAMIC_FIRST } from './pdu.js';
import {
  COMPLETE_L2CAP_HEADER,
  ECHO_IDLE,
  ECHO_W2_SEND,
  INFO_DONE,
  INFO_IDLE,
  INFO_W2_SEND_EXTENDED_FEATURES,
  L2CAP_CONNECTIONLESS_MTU,
  L2CAP_CONFIG_TIMEOUT_MS,
  L2CAP_DEFAULT_AUTO_DISCONNECT_TIMEOUT_MS,
  L2CAP_ECHO_BUFFER_SIZE,
  L2CAP_INCOMING_PENDING_DELAY_MS,
  L2capChannel,
  L2capLink,
  L2capService,
  TODO_CREATE_ACL,
  TODO_DISCONNECT_WHEN_CONNECTED,
  TODO_SEND_CONF_REQ,
  TODO_SEND_CONN_RSP_PENDING,
  type L2capCallbackRegistration,
  type L2capEchoCallback,
  type L2capHci,
  type L2capPacketHandler,
} from './l2cap-objects.js';
import { L2capSignalingScratch } from './l2cap-signaling-in.js';
import { OffsetViewCache } from '../hci/hci-copy.js';
import { l2cap_run_once } from './l2cap-run.js';
import { l2cap_on_acl, l2cap_on_hci_event } from './l2cap-input.js';
import { L2capEvents } from './l2cap-events.js';
import { l2cap_channel_list, l2cap_connection_list, type L2capChannelInfo, type L2capConnectionInfo } from './l2cap-lists.js';
export type { L2capChannelInfo, L2capConnectionInfo } from './l2cap-lists.js';
import { checkAddr, checkData, checkHandler, checkInt, checkU16 } from './l2cap-args.js';

export type { L2capCallbackRegistration, L2capEchoCallback, L2capHci, L2capPacketHandler } from './l2cap-objects.js';
export {
  COMPLETE_L2CAP_HEADER,
  L2CAP_CONFIG_TIMEOUT_MS,
  L2CAP_CONNECTIONLESS_MTU,
  L2CAP_DEFAULT_AUTO_DISCONNECT_TIMEOUT_MS,
  L2CAP_INCOMING_PENDING_DELAY_MS,
  L2CAP_SIGNALING_MTU,
} from './l2cap-objects.js';
export { l2cap_refusal_status } from './l2cap-signaling-in.js';
export { L2CAP_LOCAL_EXTENDED_FEATURES, L2CAP_LOCAL_FIXED_CHANNELS } from './l2cap-run.js';

/** What L2CAP needs from the Stack that owns it. */
export interface L2capHost {
  readonly run_loop: RunLoop;
  readonly config: StackConfig;
  readonly pools: Pools;
  readonly log: Logger;
  readonly codes: Codes;
  readonly hci: L2capHci;
  /** Packet log for L2CAP's events (the stack's HciDump); none: not logged. */
  readonly dump?: EventPacketLog;
}

/** Result of l2cap_create_channel (BTstack returns the status and writes the cid to an out parameter). */
export interface L2capCreateChannelResult {
  status: number;
  /** The new channel's local CID (0 when status is not 0). */
  local_cid: number;
}

export class L2cap {
  readonly run_loop: RunLoop;
  readonly config: StackConfig;
  readonly log: Logger;
  readonly codes: Codes;
  readonly hci: L2capHci;

  /** @internal */ readonly channelPool: Pool<L2capChannel>;
  /** @internal */ readonly servicePool: Pool<L2capService>;
  /** @internal */ readonly linkPool: Pool<L2capLink>;
  /** @internal live channels in creation order (copy-on-write: iterate a captured reference) */
  channels: L2capChannel[] = [];
  /** @internal */ services: L2capService[] = [];
  /** @internal */ links: L2capLink[] = [];

  /** @internal event builders and the event handlers */
  readonly events: L2capEvents;
  /** @internal reusable decoding views */
  readonly scratch = new L2capSignalingScratch();
  /**
   * @internal Views of incoming packets from the SDU on, handed to channel handlers with the SDU
   * size (BTstack's (packet, size): the view may run past the SDU). Cached per buffer and offset:
   * packets come in a transport's buffer or a pooled reassembly buffer, the same few every time.
   */
  readonly sduViews = new OffsetViewCache(8);
  private initialized = false;
  private readonly hciRegistration: L2capCallbackRegistration;
  private readonly packetHandlerRegistration: L2capCallbackRegistration = { callback: () => {} };
  private nextLocalCid = L2CAP_CID_DYNAMIC_FIRST;
  private sigId = 0;
  /** @internal round-robin start for CAN_SEND_NOW */
  rrIndex = 0;
  /** @internal round-robin start for channel signalling */
  rrSignal = 0;
  /** Auto-disconnect timeout in ms (0 = never). */
  auto_disconnect_timeout_ms = L2CAP_DEFAULT_AUTO_DISCONNECT_TIMEOUT_MS;

  private running = false;
  private runAgain = false;
  private runScheduled = false;
  private readonly scheduledRun = () => {
    this.runScheduled = false;
    this.run();
  };
  private outgoingView: Uint8Array | null = null;

  constructor(host: L2capHost) {
    this.run_loop = host.run_loop;
    this.config = host.config;
    this.log = host.log;
    this.codes = host.codes;
    this.hci = host.hci;
    this.events = new L2capEvents(this.codes, this.log, host.dump ?? null);
    this.channelPool = host.pools.create('MAX_NR_L2CAP_CHANNELS', 'l2cap_channels', () => new L2capChannel(), (c) => c.reset());
    this.servicePool = host.pools.create('MAX_NR_L2CAP_SERVICES', 'l2cap_services', () => new L2capService(), (s) => s.reset());
    this.linkPool = host.pools.create('MAX_NR_HCI_CONNECTIONS', 'l2cap_links', () => new L2capLink(), (l) => l.reset());
    this.hciRegistration = { callback: (type, _ch, packet, size) => l2cap_on_hci_event(this, type, packet, size) };
  }

  // =================================================================================== API

  /** BTstack's l2cap_init: hook into HCI. Calling it again is harmless. */
  l2cap_init(): void {
    if (this.initialized) return;
    this.initialized = true;
    this.hci.hci_add_event_handler(this.hciRegistration);
    this.hci.hci_register_acl_packet_handler((type, handle, packet, size) => l2cap_on_acl(this, type, handle, packet, size));
  }

  /** Handlers for L2CAP events not tied to a channel (BTstack >= v1.5 l2cap_add_event_handler). */
  l2cap_add_event_handler(registration: L2capCallbackRegistration): void {
    if (!registration || typeof registration.callback !== 'function') throw new TypeError('l2cap_add_event_handler: expected { callback }');
    this.events.handlers.add(registration);
  }

  l2cap_remove_event_handler(registration: L2capCallbackRegistration): void {
    this.events.handlers.remove(registration);
  }

  /** BTstack v1.4's single L2CAP packet handler (the same events as l2cap_add_event_handler); a new call replaces it. */
  l2cap_register_packet_handler(handler: L2capPacketHandler): void {
    checkHandler('l2cap_register_packet_handler', handler);
    this.packetHandlerRegistration.callback = handler;
    this.l2cap_add_event_handler(this.packetHandlerRegistration);
  }

  /**
   * Register a service for `psm`: incoming connections are offered to `handler` with
   * L2CAP_EVENT_INCOMING_CONNECTION. Makes the device connectable. `mtu` is clamped to
   * [48, l2cap_max_mtu()]. A security level above what the link has (LEVEL_0 until pairing
   * exists) makes every incoming connection be refused with "security block".
   * Returns 0, L2CAP_SERVICE_ALREADY_REGISTERED or BTSTACK_MEMORY_ALLOC_FAILED.
   */
  l2cap_register_service(handler: L2capPacketHandler, psm: number, mtu: number, security_level = 0): number {
    checkHandler('l2cap_register_service', handler);
    checkU16('l2cap_register_service', 'psm', psm);
    checkU16('l2cap_register_service', 'mtu', mtu);
    checkInt('l2cap_register_service', 'security_level', security_level);
    this.l2cap_init();
    if (this.serviceFor(psm)) return L2CAP_SERVICE_ALREADY_REGISTERED;
    const s = this.servicePool.get();
    if (!s) return BTSTACK_MEMORY_ALLOC_FAILED;
    s.psm = psm;
    s.mtu = this.clampMtu(mtu);
    s.required_security_level = security_level;
    s.handler = handler;
    this.services = [...this.services, s];
    this.log.info(() => `L2CAP service registered: PSM 0x${psm.toString(16)} MTU ${s.mtu} security level ${security_level}`);
    this.hci.gap.gap_connectable_control(1);
    return ERROR_CODE_SUCCESS;
  }

  /** Returns 0 or L2CAP_SERVICE_DOES_NOT_EXIST. The last service gone makes the device non-connectable. */
  l2cap_unregister_service(psm: number): number {
    checkU16('l2cap_unregister_service', 'psm', psm);
    const s = this.serviceFor(psm);
    if (!s) return L2CAP_SERVICE_DOES_NOT_EXIST;
    this.services = this.services.filter((x) => x !== s);
    this.servicePool.free(s);
    if (this.services.length === 0) this.hci.gap.gap_connectable_control(0);
    return ERROR_CODE_SUCCESS;
  }

  /**
   * Open a channel to `psm` on `address`; the ACL link is created if there is none. The outcome
   * comes to `handler` as L2CAP_EVENT_CHANNEL_OPENED. Returns { status, local_cid } where status
   * is 0, BTSTACK_MEMORY_ALLOC_FAILED, or the status of creating the link (e.g.
   * ERROR_CODE_COMMAND_DISALLOWED when the stack is not working). `mtu` is clamped to [48, l2cap_max_mtu()].
   */
  l2cap_create_channel(handler: L2capPacketHandler, address: BdAddr, psm: number, mtu: number): L2capCreateChannelResult {
    checkHandler('l2cap_create_channel', handler);
    checkAddr('l2cap_create_channel', address);
    checkU16('l2cap_create_channel', 'psm', psm);
    checkU16('l2cap_create_channel', 'mtu', mtu);
    this.l2cap_init();
    const ch = this.channelPool.get();
    if (!ch) return { status: BTSTACK_MEMORY_ALLOC_FAILED, local_cid: 0 };
    ch.reset();
    ch.local_cid = this.allocateCid();
    ch.psm = psm;
    ch.handler = handler;
    ch.incoming = false;
    ch.local_mtu = this.clampMtu(mtu);
    bd_addr_copy(ch.address, address);
    let link = this.linkForAddr(address);
    if (!link) {
      // a classic link HCI already has (made before L2CAP was initialised): use it
      const conn = this.hci.hci_connection_for_bd_addr_and_type(address, BD_ADDR_TYPE_ACL);
      if (conn && conn.con_handle !== HCI_CON_HANDLE_INVALID) link = this.linkUp(conn.con_handle, address);
    }
    if (link && link.closing) {
      // the idle link is on its way down: a new one is made once it is gone
      ch.state = L2CAP_STATE_WAIT_CONNECTION_COMPLETE;
      ch.todo |= TODO_CREATE_ACL;
    } else if (link) {
      ch.con_handle = link.con_handle;
      ch.state = this.outgoingStartState(link);
    } else {
      const st = this.hci.hci_connect_acl(address);
      if (st !== ERROR_CODE_SUCCESS) {
        this.channelPool.free(ch);
        return { status: st, local_cid: 0 };
      }
      ch.state = L2CAP_STATE_WAIT_CONNECTION_COMPLETE;
    }
    this.addChannel(ch);
    this.log.info(() => `L2CAP create channel 0x${ch.local_cid.toString(16)} to ${bd_addr_to_str(address)} PSM 0x${psm.toString(16)}`);
    this.scheduleRun();
    return { status: ERROR_CODE_SUCCESS, local_cid: ch.local_cid };
  }

  /** Accept an incoming connection (after L2CAP_EVENT_INCOMING_CONNECTION). Returns 0 or L2CAP_LOCAL_CID_DOES_NOT_EXIST. */
  l2cap_accept_connection(local_cid: number): number {
    const ch = this.channelForCid(local_cid);
    if (!ch || ch.state !== L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    this.run_loop.remove_timer(ch.timer);
    ch.todo &= ~TODO_SEND_CONN_RSP_PENDING;
    ch.state = L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_ACCEPT;
    this.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  /**
   * Decline an incoming connection: the remote gets result 0x0004 "no resources available" (as
   * BTstack sends). No further event. Returns 0 or L2CAP_LOCAL_CID_DOES_NOT_EXIST.
   */
  l2cap_decline_connection(local_cid: number, _reason?: number): number {
    const ch = this.channelForCid(local_cid);
    if (!ch || ch.state !== L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    this.run_loop.remove_timer(ch.timer);
    ch.todo &= ~TODO_SEND_CONN_RSP_PENDING;
    ch.state = L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE;
    this.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  /**
   * Close a channel (BTstack v1.4 takes a reason, which is not used on the wire). An open or
   * configuring channel sends a Disconnection Request and reports L2CAP_EVENT_CHANNEL_CLOSED
   * when answered (or after RTX); one not connected yet is dropped at once with
   * L2CAP_EVENT_CHANNEL_CLOSED; an incoming one not accepted yet is declined.
   * Returns 0 or L2CAP_LOCAL_CID_DOES_NOT_EXIST.
   */
  l2cap_disconnect(local_cid: number, _reason?: number): number {
    const ch = this.channelForCid(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    switch (ch.state) {
      case L2CAP_STATE_OPEN:
      case L2CAP_STATE_CONFIG:
        this.run_loop.remove_timer(ch.timer);
        ch.todo = 0;
        ch.waiting_for_can_send_now = false;
        ch.state = L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST;
        ch.opened = true; // the application closed it: the terminal event is CHANNEL_CLOSED
        break;
      case L2CAP_STATE_WAIT_CONNECT_RSP:
        ch.todo |= TODO_DISCONNECT_WHEN_CONNECTED;
        break;
      case L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT:
        return this.l2cap_decline_connection(local_cid);
      case L2CAP_STATE_WAIT_DISCONNECT:
      case L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST:
        return ERROR_CODE_SUCCESS;
      default:
        if (ch.state === L2CAP_STATE_WAIT_CONNECTION_COMPLETE || ch.state === L2CAP_STATE_WAIT_OUTGOING_EXTENDED_FEATURES || ch.state === L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST) {
          ch.opened = true;
          this.finalize(ch, 0);
        }
        return ERROR_CODE_SUCCESS;
    }
    this.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  /**
   * Ask for L2CAP_EVENT_CAN_SEND_NOW on this channel; it comes from the run loop (never inside
   * this call) when the channel is open and HCI can take a packet, in round-robin order among
   * the channels waiting. Returns 0 or L2CAP_LOCAL_CID_DOES_NOT_EXIST.
   */
  l2cap_request_can_send_now_event(local_cid: number): number {
    const ch = this.channelForCid(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    ch.waiting_for_can_send_now = true;
    this.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  /** The manual's name for l2cap_request_can_send_now_event. */
  l2cap_request_can_send_now(local_cid: number): number {
    return this.l2cap_request_can_send_now_event(local_cid);
  }

  /** True when l2cap_send on this (open) channel would go out now. */
  l2cap_can_send_packet_now(local_cid: number): boolean {
    const ch = this.channelForCid(local_cid);
    if (!ch || ch.state !== L2CAP_STATE_OPEN) return false;
    return this.hci.hci_can_send_acl_packet_now(ch.con_handle);
  }

  /**
   * Send an SDU (data[0, len)) on an open channel. Returns 0, L2CAP_LOCAL_CID_DOES_NOT_EXIST,
   * ERROR_CODE_COMMAND_DISALLOWED (channel not open), L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU or
   * BTSTACK_ACL_BUFFERS_FULL (ask for L2CAP_EVENT_CAN_SEND_NOW first). Nothing is queued.
   */
  l2cap_send(local_cid: number, data: Uint8Array, len: number = data?.length): number {
    checkData('l2cap_send', data, len);
    const ch = this.channelForCid(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    if (ch.state !== L2CAP_STATE_OPEN) return ERROR_CODE_COMMAND_DISALLOWED;
    if (len > ch.remote_mtu) return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (!this.hci.hci_can_send_acl_packet_now(ch.con_handle)) return BTSTACK_ACL_BUFFERS_FULL;
    if (!this.hci.hci_reserve_packet_buffer()) return BTSTACK_ACL_BUFFERS_FULL;
    const buf = this.hci.hci_get_outgoing_packet_buffer();
    if (COMPLETE_L2CAP_HEADER + len > buf.length) {
      this.hci.hci_release_packet_buffer();
      return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    }
    buf.set(len === data.length ? data : data.subarray(0, len), COMPLETE_L2CAP_HEADER);
    return this.sendPrepared(ch.con_handle, ch.remote_cid, len);
  }

  /** Reserve HCI's outgoing buffer for l2cap_send_prepared. False when it is in use. */
  l2cap_reserve_packet_buffer(): boolean {
    return this.hci.hci_reserve_packet_buffer();
  }

  /** Where to write the SDU for l2cap_send_prepared (after room for the ACL and L2CAP headers). */
  l2cap_get_outgoing_buffer(): Uint8Array {
    const b = this.hci.hci_get_outgoing_packet_buffer();
    if (!this.outgoingView || this.outgoingView.buffer !== b.buffer) this.outgoingView = b.subarray(COMPLETE_L2CAP_HEADER);
    return this.outgoingView;
  }

  /**
   * Send the `len` bytes written to l2cap_get_outgoing_buffer() on a channel. The buffer must
   * have been reserved; on any failure it is released. Same statuses as l2cap_send.
   */
  l2cap_send_prepared(local_cid: number, len: number): number {
    if (!Number.isInteger(len) || len < 0) throw new TypeError(`l2cap_send_prepared: bad length ${len}`);
    if (!this.hci.hci_is_packet_buffer_reserved()) {
      this.log.error('l2cap_send_prepared called without reserving the packet buffer');
      return BTSTACK_ACL_BUFFERS_FULL;
    }
    const ch = this.channelForCid(local_cid);
    let status: number = ERROR_CODE_SUCCESS;
    if (!ch) status = L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    else if (ch.state !== L2CAP_STATE_OPEN) status = ERROR_CODE_COMMAND_DISALLOWED;
    else if (len > ch.remote_mtu || COMPLETE_L2CAP_HEADER + len > this.hci.hci_get_outgoing_packet_buffer().length) status = L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    else if (!this.hci.hci_can_send_prepared_acl_packet_now(ch.con_handle)) status = BTSTACK_ACL_BUFFERS_FULL;
    if (status !== ERROR_CODE_SUCCESS) {
      this.hci.hci_release_packet_buffer();
      return status;
    }
    return this.sendPrepared(ch!.con_handle, ch!.remote_cid, len);
  }

  l2cap_release_packet_buffer(): void {
    this.hci.hci_release_packet_buffer();
  }

  /** The remote's MTU of a channel (0 for an unknown cid). */
  l2cap_get_remote_mtu_for_local_cid(local_cid: number): number {
    return this.channelForCid(local_cid)?.remote_mtu ?? 0;
  }

  /** Largest MTU this stack supports: what fits a pooled packet buffer, at most 65535. */
  l2cap_max_mtu(): number {
    return Math.max(L2CAP_MINIMAL_MTU, Math.min(0xffff, this.config.HCI_PACKET_BUFFER_SIZE - COMPLETE_L2CAP_HEADER));
  }

  /**
   * Send an Echo Request with data[0, len) on the ACL link `con_handle`. The Echo Response (or
   * the failure: L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT, L2CAP_CONNECTION_BASEBAND_DISCONNECT,
   * 0x60 + a Command Reject reason) goes to the optional `callback`; neither BTstack profile has
   * an event for it. Returns 0, ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER, ERROR_CODE_COMMAND_DISALLOWED
   * (an echo is already outstanding on the link) or L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU (> 664 bytes).
   */
  l2cap_send_echo_request(con_handle: number, data: Uint8Array | null = null, len: number = data ? data.length : 0, callback: L2capEchoCallback | null = null): number {
    if (data !== null) checkData('l2cap_send_echo_request', data, len);
    if (callback !== null && typeof callback !== 'function') throw new TypeError('l2cap_send_echo_request: callback must be a function');
    const link = this.linkForHandle(con_handle);
    if (!link) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (link.echo_state !== ECHO_IDLE) return ERROR_CODE_COMMAND_DISALLOWED;
    const n = data ? len : 0;
    if (n > L2CAP_ECHO_BUFFER_SIZE - 8) return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (data && n) link.echo_req_data.set(data.subarray(0, n), 0);
    link.echo_req_len = n;
    link.echo_callback = callback;
    link.echo_state = ECHO_W2_SEND;
    this.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  /**
   * (Re)run the information exchange with the remote on `con_handle`: Information Requests for
   * the extended feature mask, then (when the remote has fixed channels) the fixed channels
   * supported. Outgoing channels do this by themselves before their first Connection Request.
   * The result shows in l2cap_get_connections(); profile v1.8 also emits
   * L2CAP_EVENT_INFORMATION_RESPONSE to the event handlers. Returns 0,
   * ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER or ERROR_CODE_COMMAND_DISALLOWED (one is running).
   */
  l2cap_send_information_request(con_handle: number): number {
    const link = this.linkForHandle(con_handle);
    if (!link) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (link.info_state !== INFO_IDLE && link.info_state !== INFO_DONE) return ERROR_CODE_COMMAND_DISALLOWED;
    link.info_state = INFO_W2_SEND_EXTENDED_FEATURES;
    this.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  /**
   * Enable or disable reception of connectionless data (G-frames on CID 0x0002) for a registered
   * PSM (FreeBSD's ENABLE_CLT; off by default). Received data goes to the service's handler as
   * UCD_DATA_PACKET with channel = the ACL handle and the bytes after the PSM.
   * Returns 0 or L2CAP_SERVICE_DOES_NOT_EXIST.
   */
  l2cap_connectionless_enable(psm: number, enable: boolean | number): number {
    checkU16('l2cap_connectionless_enable', 'psm', psm);
    const s = this.serviceFor(psm);
    if (!s) return L2CAP_SERVICE_DOES_NOT_EXIST;
    s.connectionless_enabled = !!enable;
    return ERROR_CODE_SUCCESS;
  }

  /** True when l2cap_send_connectionless on this link would go out now. */
  l2cap_can_send_connectionless_packet_now(con_handle: number): boolean {
    return !!this.linkForHandle(con_handle) && this.hci.hci_can_send_acl_packet_now(con_handle);
  }

  /**
   * Send data[0, len) as a G-frame on CID 0x0002 to `psm` on the remote of `con_handle`.
   * Returns 0, ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER, L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU
   * (over 672 bytes, the connectionless MTU assumed for the remote) or BTSTACK_ACL_BUFFERS_FULL.
   */
  l2cap_send_connectionless(con_handle: number, psm: number, data: Uint8Array, len: number = data?.length): number {
    checkU16('l2cap_send_connectionless', 'psm', psm);
    checkData('l2cap_send_connectionless', data, len);
    if (!this.linkForHandle(con_handle)) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (len > L2CAP_CONNECTIONLESS_MTU) return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (!this.hci.hci_can_send_acl_packet_now(con_handle) || !this.hci.hci_reserve_packet_buffer()) return BTSTACK_ACL_BUFFERS_FULL;
    this.noteActivity(this.linkForHandle(con_handle)!);
    const buf = this.hci.hci_get_outgoing_packet_buffer();
    little_endian_store_16(buf, COMPLETE_L2CAP_HEADER, psm);
    buf.set(len === data.length ? data : data.subarray(0, len), COMPLETE_L2CAP_HEADER + 2);
    return this.sendPrepared(con_handle, L2CAP_CID_CONNECTIONLESS_CHANNEL, len + 2);
  }

  /**
   * Close a classic ACL link that has no L2CAP channel this long (ms) after it came up without one
   * (a remote that connects and opens nothing, hci_connect_acl with no channel following) or after
   * its last channel closed; L2CAP traffic on the channel-less link (echo, information, connectionless
   * data) restarts the wait. 0 = never (FreeBSD's auto-disconnect timeout). Default 10 s, BTstack's
   * HCI_CONNECTION_TIMEOUT_MS: BTstack's L2CAP also disconnects every classic link that carries no
   * channel 10 s after Connection Complete. Only once L2CAP is initialised (l2cap_init, a service or a
   * channel): an application using raw HCI connections without L2CAP keeps them. Applies to links
   * that become idle from now on.
   */
  l2cap_set_auto_disconnect_timeout(ms: number): void {
    checkInt('l2cap_set_auto_disconnect_timeout', 'ms', ms);
    this.auto_disconnect_timeout_ms = ms;
    if (ms === 0) for (const l of this.links) this.run_loop.remove_timer(l.idle_timer);
  }

  /** The channels with their states (for tools and tests). */
  l2cap_get_channels(): L2capChannelInfo[] {
    return l2cap_channel_list(this);
  }

  /** The ACL links L2CAP uses or is creating, with their states (for tools and tests). */
  l2cap_get_connections(): L2capConnectionInfo[] {
    return l2cap_connection_list(this);
  }

  // ============================================================================ internals: lookups

  /** @internal */
  serviceFor(psm: number): L2capService | null {
    for (const s of this.services) if (s.psm === psm) return s;
    return null;
  }

  /** @internal a live channel by local CID (CLOSED ones, being torn down, are not found) */
  channelForCid(local_cid: number): L2capChannel | null {
    if (!Number.isInteger(local_cid)) return null;
    for (const c of this.channels) if (c.local_cid === local_cid && c.state !== L2CAP_STATE_CLOSED) return c;
    return null;
  }

  /** @internal */
  linkForHandle(con_handle: number): L2capLink | null {
    const links = this.links;
    for (let i = 0; i < links.length; i++) if (links[i]!.con_handle === con_handle) return links[i]!;
    return null;
  }

  /** @internal */
  linkForAddr(addr: BdAddr): L2capLink | null {
    for (const l of this.links) if (bd_addr_cmp(l.address, addr) === 0) return l;
    return null;
  }

  /** @internal */
  allocateCid(): number {
    for (let i = 0; i < 0x10000; i++) {
      const cid = this.nextLocalCid;
      this.nextLocalCid = cid >= 0xffff ? L2CAP_CID_DYNAMIC_FIRST : cid + 1;
      if (!this.channels.some((c) => c.local_cid === cid)) return cid;
    }
    return L2CAP_CID_DYNAMIC_FIRST; // unreachable: the pool is far smaller than the CID space
  }

  /** @internal next signalling identifier (1..255, never 0) */
  nextSigId(): number {
    this.sigId = this.sigId >= 0xff ? 1 : this.sigId + 1;
    return this.sigId;
  }

  private clampMtu(mtu: number): number {
    return Math.max(L2CAP_MINIMAL_MTU, Math.min(mtu, this.l2cap_max_mtu()));
  }

  /** @internal first state of an outgoing channel once its link is up */
  outgoingStartState(link: L2capLink): number {
    if (link.info_state === INFO_DONE) return L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST;
    if (link.info_state === INFO_IDLE) link.info_state = INFO_W2_SEND_EXTENDED_FEATURES;
    return L2CAP_STATE_WAIT_OUTGOING_EXTENDED_FEATURES;
  }

  /**
   * @internal A classic ACL link is up: its record (created once), and the channels waiting for
   * it move on. Null when no record is left (those channels fail with BTSTACK_MEMORY_ALLOC_FAILED).
   */
  linkUp(handle: number, addr: BdAddr): L2capLink | null {
    let link = this.linkForHandle(handle);
    if (!link) {
      link = this.linkPool.get();
      if (!link) {
        this.log.error(() => `L2CAP: no link record for handle 0x${handle.toString(16)}`);
        for (const c of this.channels) {
          if (c.state === L2CAP_STATE_WAIT_CONNECTION_COMPLETE && bd_addr_cmp(c.address, addr) === 0) this.finalize(c, BTSTACK_MEMORY_ALLOC_FAILED);
        }
        return null;
      }
      link.reset();
      link.con_handle = handle;
      bd_addr_copy(link.address, addr);
      this.links = [...this.links, link];
      // a link that comes up without a channel waiting for it is idle from the start
      this.startIdleTimer(link);
    }
    for (const c of this.channels) {
      if (c.state === L2CAP_STATE_WAIT_CONNECTION_COMPLETE && bd_addr_cmp(c.address, addr) === 0) {
        c.con_handle = handle;
        c.todo &= ~TODO_CREATE_ACL;
        c.state = this.outgoingStartState(link);
        this.attach(c);
      }
    }
    return link;
  }

  /**
   * @internal Channels created while their link was closing: once HCI has let the old link go,
   * ask for a new one (a channel whose link request fails ends with that status).
   */
  createPendingLinks(): void {
    const chans = this.channels;
    for (let i = 0; i < chans.length; i++) {
      const c = chans[i]!;
      if (!(c.todo & TODO_CREATE_ACL) || c.state !== L2CAP_STATE_WAIT_CONNECTION_COMPLETE) continue;
      if (this.linkForAddr(c.address) || this.hci.hci_connection_for_bd_addr_and_type(c.address, BD_ADDR_TYPE_ACL)) continue; // not gone yet
      c.todo &= ~TODO_CREATE_ACL;
      const st = this.hci.hci_connect_acl(c.address);
      if (st !== ERROR_CODE_SUCCESS) this.finalize(c, st);
    }
  }

  /** @internal */
  addChannel(ch: L2capChannel): void {
    this.channels = [...this.channels, ch];
    if (ch.con_handle !== HCI_CON_HANDLE_INVALID) this.attach(ch);
  }

  /** @internal count the channel on its link (stops the idle timer) */
  attach(ch: L2capChannel): void {
    const link = this.linkForHandle(ch.con_handle);
    if (!link) return;
    link.channels++;
    this.run_loop.remove_timer(link.idle_timer);
  }

  // ============================================================================ internals: timers

  /** @internal (re)start a channel's RTX (10 s) or ERTX (120 s) timer */
  startRtx(ch: L2capChannel, ertx = false): void {
    this.run_loop.remove_timer(ch.timer);
    ch.timer.handler = this.onChannelTimeout;
    this.run_loop.set_timer(ch.timer, ertx ? L2CAP_ERTX_TIMEOUT_MS : L2CAP_RTX_TIMEOUT_MS);
    this.run_loop.add_timer(ch.timer);
  }

  /** @internal */
  stopTimer(ch: L2capChannel): void {
    this.run_loop.remove_timer(ch.timer);
  }

  /**
   * @internal The channel is connected: configuration starts (we send our request, the remote
   * sends its own), guarded by L2CAP_CONFIG_TIMEOUT_MS as a whole.
   */
  enterConfig(ch: L2capChannel): void {
    ch.state = L2CAP_STATE_CONFIG;
    ch.cfg = 0;
    ch.todo |= TODO_SEND_CONF_REQ;
    this.run_loop.remove_timer(ch.config_timer);
    ch.config_timer.handler = this.onConfigTimeout;
    this.run_loop.set_timer(ch.config_timer, L2CAP_CONFIG_TIMEOUT_MS);
    this.run_loop.add_timer(ch.config_timer);
  }

  /**
   * Configuration did not finish in time (typically: the remote accepted our Configuration
   * Request but never sent its own). While our own request is outstanding its RTX / ERTX decides;
   * otherwise the channel is disconnected and, as it never opened, ends with
   * L2CAP_EVENT_CHANNEL_OPENED status L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT.
   */
  private readonly onConfigTimeout = (t: Timer): void => {
    const ch = t.context as L2capChannel;
    if (!this.channelPool.owns(ch) || ch.state !== L2CAP_STATE_CONFIG) return;
    if (ch.local_sig_id !== 0) {
      // our request is outstanding: its RTX / ERTX timer ends the channel if the remote stays silent
      this.run_loop.set_timer(ch.config_timer, L2CAP_CONFIG_TIMEOUT_MS);
      this.run_loop.add_timer(ch.config_timer);
      return;
    }
    this.log.info(() => `L2CAP channel 0x${ch.local_cid.toString(16)}: configuration not complete after ${L2CAP_CONFIG_TIMEOUT_MS} ms, disconnecting`);
    this.run_loop.remove_timer(ch.timer);
    ch.todo = 0;
    ch.waiting_for_can_send_now = false;
    ch.fail_status = L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT;
    ch.state = L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST;
    this.run();
  };

  /** @internal timer sending "pending" for an incoming connection the application sits on */
  startPendingTimer(ch: L2capChannel): void {
    this.run_loop.remove_timer(ch.timer);
    ch.timer.handler = this.onPendingTimeout;
    this.run_loop.set_timer(ch.timer, L2CAP_INCOMING_PENDING_DELAY_MS);
    this.run_loop.add_timer(ch.timer);
  }

  private readonly onPendingTimeout = (t: Timer): void => {
    const ch = t.context as L2capChannel;
    if (!this.channelPool.owns(ch) || ch.state !== L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT) return;
    ch.todo |= TODO_SEND_CONN_RSP_PENDING;
    // the remote waits ERTX after "pending"; past that nobody waits for this channel any more
    this.run_loop.remove_timer(ch.timer);
    ch.timer.handler = this.onUndecidedTimeout;
    this.run_loop.set_timer(ch.timer, L2CAP_ERTX_TIMEOUT_MS);
    this.run_loop.add_timer(ch.timer);
    this.run();
  };

  /**
   * The application never answered L2CAP_EVENT_INCOMING_CONNECTION and the remote has given up
   * (ERTX after our "pending"): decline it so the channel does not stay forever, and tell the
   * application with L2CAP_EVENT_CHANNEL_OPENED status L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT.
   */
  private readonly onUndecidedTimeout = (t: Timer): void => {
    const ch = t.context as L2capChannel;
    if (!this.channelPool.owns(ch) || ch.state !== L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT) return;
    this.log.info(() => `L2CAP: incoming channel 0x${ch.local_cid.toString(16)} not answered by the application, declined`);
    ch.todo &= ~TODO_SEND_CONN_RSP_PENDING;
    ch.fail_status = L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT;
    ch.state = L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE;
    this.run();
  };

  private readonly onChannelTimeout = (t: Timer): void => {
    const ch = t.context as L2capChannel;
    if (!this.channelPool.owns(ch) || ch.state === L2CAP_STATE_CLOSED) return;
    this.log.info(() => `L2CAP RTX timeout on channel 0x${ch.local_cid.toString(16)} (state 0x${ch.state.toString(16)})`);
    // "When terminating the channel, it is not necessary to send a L2CAP_DisconnectReq and enter
    // WAIT_DISCONNECT state. Channels can be transitioned directly to the CLOSED state." (Vol 3 Part A, 6.2)
    this.finalize(ch, L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT);
    this.run();
  };

  /** @internal start an information / echo request timer on a link */
  startLinkTimer(timer: Timer, handler: (t: Timer) => void): void {
    this.run_loop.remove_timer(timer);
    timer.handler = handler;
    this.run_loop.set_timer(timer, L2CAP_RTX_TIMEOUT_MS);
    this.run_loop.add_timer(timer);
  }

  /** @internal */
  readonly onInfoTimeout = (t: Timer): void => {
    const link = t.context as L2capLink;
    if (!this.linkPool.owns(link)) return;
    this.log.info(() => `L2CAP information request on handle 0x${link.con_handle.toString(16)} not answered, going on without`);
    this.infoDone(link, 0, 0);
    this.run();
  };

  /** @internal */
  readonly onEchoTimeout = (t: Timer): void => {
    const link = t.context as L2capLink;
    if (!this.linkPool.owns(link)) return;
    this.echoDone(link, L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT, null, 0, 0);
  };

  private readonly onIdleTimeout = (t: Timer): void => {
    const link = t.context as L2capLink;
    if (!this.linkPool.owns(link) || link.channels > 0) return;
    if (link.echo_state !== ECHO_IDLE || (link.info_state !== INFO_IDLE && link.info_state !== INFO_DONE)) {
      this.startIdleTimer(link);
      return;
    }
    const quiet = this.run_loop.get_time_ms() - link.last_activity_ms;
    if (quiet < this.auto_disconnect_timeout_ms) {
      // traffic on the channel-less link (echo, information, connectionless): wait the rest
      this.run_loop.set_timer(link.idle_timer, this.auto_disconnect_timeout_ms - quiet);
      this.run_loop.add_timer(link.idle_timer);
      return;
    }
    this.log.info(() => `L2CAP: link 0x${link.con_handle.toString(16)} idle for ${this.auto_disconnect_timeout_ms} ms, disconnecting`);
    if (this.hci.gap.gap_disconnect(link.con_handle) === ERROR_CODE_SUCCESS) link.closing = true;
  };

  private startIdleTimer(link: L2capLink): void {
    if (this.auto_disconnect_timeout_ms <= 0) return;
    this.run_loop.remove_timer(link.idle_timer);
    link.last_activity_ms = this.run_loop.get_time_ms();
    link.idle_timer.handler = this.onIdleTimeout;
    this.run_loop.set_timer(link.idle_timer, this.auto_disconnect_timeout_ms);
    this.run_loop.add_timer(link.idle_timer);
  }

  /** @internal L2CAP traffic on a link: an idle one (no channel) waits the full timeout again */
  noteActivity(link: L2capLink): void {
    if (link.channels === 0) link.last_activity_ms = this.run_loop.get_time_ms();
  }

  // ============================================================================ internals: results

  /** @internal the information exchange ended: release channels waiting for it */
  infoDone(link: L2capLink, features: number, fixed: number): void {
    this.run_loop.remove_timer(link.info_timer);
    link.info_state = INFO_DONE;
    link.extended_features = features >>> 0;
    link.fixed_channels = fixed >>> 0;
    for (const c of this.channels) {
      if (c.con_handle === link.con_handle && c.state === L2CAP_STATE_WAIT_OUTGOING_EXTENDED_FEATURES) c.state = L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST;
    }
    this.events.informationResponse(link);
  }

  /** @internal the echo request ended */
  echoDone(link: L2capLink, status: number, data: Uint8Array | null, off: number, len: number): void {
    this.run_loop.remove_timer(link.echo_timer);
    const cb = link.echo_callback;
    link.echo_callback = null;
    link.echo_state = ECHO_IDLE;
    link.echo_sig_id = 0;
    if (!cb) return;
    const view = data ? data.subarray(off, off + len) : EMPTY;
    try {
      cb(status, view, view.length);
    } catch (err) {
      this.log.error(() => `echo callback threw: ${String(err)}`);
    }
  }

  /**
   * @internal End a channel: the terminal event (CHANNEL_CLOSED once opened, else CHANNEL_OPENED
   * with `status`; none when status is -1), then back to the pool.
   */
  finalize(ch: L2capChannel, status: number): void {
    if (ch.state === L2CAP_STATE_CLOSED || !this.channelPool.owns(ch)) return;
    this.run_loop.remove_timer(ch.timer);
    this.run_loop.remove_timer(ch.config_timer);
    ch.state = L2CAP_STATE_CLOSED;
    ch.waiting_for_can_send_now = false;
    if (ch.opened) this.events.channelClosed(ch);
    else if (status >= 0) this.events.channelOpened(ch, status);
    this.channels = this.channels.filter((c) => c !== ch);
    const link = ch.con_handle !== HCI_CON_HANDLE_INVALID ? this.linkForHandle(ch.con_handle) : null;
    this.channelPool.free(ch);
    if (link) {
      link.channels = Math.max(0, link.channels - 1);
      if (link.channels === 0) this.startIdleTimer(link);
    }
  }

  /** @internal both directions configured: OPEN and CHANNEL_OPENED(0) */
  openChannel(ch: L2capChannel): void {
    this.run_loop.remove_timer(ch.timer);
    this.run_loop.remove_timer(ch.config_timer);
    ch.state = L2CAP_STATE_OPEN;
    ch.opened = true;
    this.log.info(() => `L2CAP channel 0x${ch.local_cid.toString(16)} open: PSM 0x${ch.psm.toString(16)} remote cid 0x${ch.remote_cid.toString(16)} local MTU ${ch.local_mtu} remote MTU ${ch.remote_mtu}`);
    this.events.channelOpened(ch, ERROR_CODE_SUCCESS);
  }

  // ============================================================================ internals: sending

  /** @internal finish and send the reserved buffer holding an L2CAP payload of `len` bytes at offset 8 */
  sendPrepared(con_handle: number, cid: number, len: number): number {
    const buf = this.hci.hci_get_outgoing_packet_buffer();
    const pb = this.hci.hci_non_flushable_packet_boundary_flag_supported() ? 0x00 : 0x02;
    little_endian_store_16(buf, 0, (con_handle & 0x0fff) | (pb << 12));
    little_endian_store_16(buf, 2, len + L2CAP_HEADER_SIZE);
    little_endian_store_16(buf, 4, len);
    little_endian_store_16(buf, 6, cid);
    return this.hci.hci_send_acl_packet_buffer(len + COMPLETE_L2CAP_HEADER);
  }

  /** @internal process pending work now (re-entrant calls fold into the running loop) */
  run(): void {
    if (!this.initialized) return;
    if (this.running) {
      this.runAgain = true;
      return;
    }
    this.running = true;
    try {
      let rounds = 0;
      do {
        this.runAgain = false;
        l2cap_run_once(this);
      } while (this.runAgain && ++rounds < 10_000);
    } finally {
      this.running = false;
    }
  }

  /** @internal run from the run loop soon (API calls never emit events from inside themselves) */
  scheduleRun(): void {
    if (this.runScheduled) return;
    this.runScheduled = true;
    this.run_loop.execute_on_main_thread(this.scheduledRun);
  }
}

const EMPTY = new Uint8Array(0);

