/**
 * L2CAP for BR/EDR with BTstack's API, events and status codes (l2cap.h / l2cap.c semantics):
 * services, connection-oriented channels in Basic mode, the signalling channel, connectionless
 * data, link management.
 *
 * Shape (BTstack's): API calls and incoming packets only record work; one run() looks for work
 * and sends at most one PDU per opportunity (hci_can_send_acl_packet_now), in this order:
 * signalling responses waiting on a link, the link's information / echo requests, the channels'
 * signalling (round robin), then L2CAP_EVENT_CAN_SEND_NOW to the channels that asked for it
 * (round robin, so no channel starves another).
 *
 * Layout (the layer pattern, docs/ARCHITECTURE.md): this facade is the API (argument checks,
 * then forwarding); L2capState (l2cap-state.ts) holds the data; one component per concern:
 * channel lifecycle and timers (l2cap-channels.ts), links (l2cap-links.ts), the send side and
 * round robin (l2cap-run.ts), input from HCI (l2cap-input.ts), incoming signalling
 * (l2cap-signaling-in.ts, answers queued in l2cap-responses.ts), echo and information requests
 * (l2cap-echo-info.ts), services and connectionless data (l2cap-services.ts).
 *
 * Every channel ends with exactly one terminal event: L2CAP_EVENT_CHANNEL_CLOSED once it had
 * opened (or when the application closed it itself), otherwise L2CAP_EVENT_CHANNEL_OPENED with a
 * failure status. Status codes (BTstack's):
 * - HCI status (e.g. 0x04 page timeout) when the ACL link could not be created;
 * - 0x63 + the remote's result for a refused outgoing channel (BTstack quirk, see refusal_status());
 * - L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY (0x66, also 0x63 + 3) when the link's security
 *   level could not be raised to what the channel needs (l2cap-security.ts);
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
import type { BdAddr } from '../core/bytes.js';
import {
  ERROR_CODE_SUCCESS,
  L2CAP_LOCAL_CID_DOES_NOT_EXIST,
  L2CAP_STATE_OPEN,
  L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT,
} from '../codes/v1.4.js';
import type { L2capCallbackRegistration, L2capEchoCallback, L2capPacketHandler } from './l2cap-objects.js';
import type { L2capCreateChannelResult, L2capService } from './l2cap-service.js';
import { L2capState, type L2capHost } from './l2cap-state.js';
import { L2capChannels } from './l2cap-channels.js';
import { L2capLinks } from './l2cap-links.js';
import { L2capSender } from './l2cap-run.js';
import { L2capInput } from './l2cap-input.js';
import { L2capSignalingIn } from './l2cap-signaling-in.js';
import { L2capEchoInfo } from './l2cap-echo-info.js';
import { L2capServices } from './l2cap-services.js';
import { L2capSecurity } from './l2cap-security.js';
import { l2cap_channel_list, l2cap_connection_list, type L2capChannelInfo, type L2capConnectionInfo } from './l2cap-lists.js';
import { checkAddr, checkData, checkHandler, checkInt, checkU16 } from './l2cap-args.js';
import { L2capLeApi, type L2capLeParts } from './l2cap-le-api.js';
import { L2capLeEvents } from './l2cap-le-events.js';
import { L2capLeFixed } from './l2cap-le-fixed.js';
import { L2capClassicFixed } from './l2cap-classic-fixed.js';
import { L2capLeSignaling } from './l2cap-le-signaling.js';
import { L2capCbm } from './l2cap-cbm.js';
import { L2capCbmIn } from './l2cap-cbm-in.js';
import { L2capEcbm } from './l2cap-ecbm.js';
import { L2capErtmChannels } from './l2cap-ertm-channel.js';
import { L2capLeWiring, L2capWiring } from './l2cap-wiring.js';
import type { l2cap_ertm_config_t } from './l2cap-ertm-types.js';

export type { L2capChannelInfo, L2capConnectionInfo } from './l2cap-lists.js';
export type { L2capCallbackRegistration, L2capEchoCallback, L2capPacketHandler } from './l2cap-objects.js';
export type { L2capCreateChannelResult } from './l2cap-service.js';
export type { L2capHost } from './l2cap-state.js';
export type { l2cap_ertm_config_t } from './l2cap-ertm-types.js';
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

export type { L2capCbmCreateResult, L2capEcbmChannelsResult } from './l2cap-le-api.js';

/** The v1.4 packet handler's registration before one is set. */
function ignore_packet(): void {}

export class L2cap extends L2capLeApi implements L2capService {
  /** @internal The layer's state record (tests look at pools, channels and links through it). */
  readonly state: L2capState;
  readonly #channels: L2capChannels;
  readonly #links: L2capLinks;
  readonly #sender: L2capSender;
  readonly #input: L2capInput;
  readonly #echoInfo: L2capEchoInfo;
  readonly #services: L2capServices;
  readonly #ertm: L2capErtmChannels;
  readonly #packetHandlerRegistration: L2capCallbackRegistration = { callback: ignore_packet };
  /** @internal The LE components (l2cap-le-api.ts forwards to them). */
  protected readonly le: L2capLeParts;

  constructor(host: L2capHost) {
    super();
    const s = new L2capState(host);
    this.state = s;
    // LE: fixed channels and the LE send side, signalling, credit-based channels
    const leEvents = new L2capLeEvents(s);
    // the components reach each other only through the narrow interfaces each declares, all
    // satisfied by the wiring objects (l2cap-wiring.ts) whose fields are set as they are built
    const lw = new L2capLeWiring();
    const leFixed = (lw.fixed = new L2capLeFixed(s, leEvents, lw));
    const leSignaling = (lw.sig = new L2capLeSignaling(s, leEvents, lw));
    const cbm = (lw.cbmChannels = new L2capCbm(s, leEvents, lw));
    lw.cbmIn = new L2capCbmIn(cbm);
    const ecbm = (lw.ecbm = new L2capEcbm(s, leEvents, cbm, lw)); // same peers as the CBM channels
    cbm.enhanced = lw;
    // BR/EDR fixed channels (0x0007, SMP over BR/EDR): the classic send side sends, the info exchange gates
    const w = new L2capWiring(s);
    const classicFixed = (w.classicFixed = new L2capClassicFixed(s, leEvents, w));
    w.le = leFixed;
    this.le = { fixed: leFixed, signaling: leSignaling, cbm, ecbm, classic: classicFixed };
    const ertm = (w.ertm = new L2capErtmChannels(s, w));
    const channels = (w.channels = new L2capChannels(s, w));
    w.security = new L2capSecurity(s, w);
    const echoInfo = (w.echoInfo = new L2capEchoInfo(s, w));
    const links = (w.links = new L2capLinks(s, w));
    const sender = (w.sender = new L2capSender(s, w));
    const services = (w.services = new L2capServices(s, w));
    w.signaling = new L2capSignalingIn(s, w);
    const input = new L2capInput(s, w);
    this.#channels = channels;
    this.#links = links;
    this.#sender = sender;
    this.#input = input;
    this.#echoInfo = echoInfo;
    this.#services = services;
    this.#ertm = ertm;
    // BTstack's applications always call l2cap_init; ours may never (a host with no service that
    // only answers): the first L2CAP PDU initialises L2CAP, so every request gets its answer
    // (a Connection Request "PSM not supported"). Until then an idle ACL link stays (raw HCI use).
    s.hci.hci_register_acl_packet_handler(this.#firstAcl.bind(this));
  }

  /** ACL handler until l2cap_init: initialise on the first PDU, then handle it. */
  #firstAcl(type: number, handle: number, packet: Uint8Array, size: number): void {
    this.l2cap_init();
    this.#input.onAcl(type, handle, packet, size);
  }

  // =================================================================================== API

  /**
   * BTstack's l2cap_init: hook into HCI. Calling it again is harmless. Done by the first service,
   * channel or incoming L2CAP PDU otherwise.
   */
  l2cap_init(): void {
    const s = this.state;
    if (s.initialized) return;
    s.initialized = true;
    const input = this.#input;
    s.hci.hci_add_event_handler({ callback: input.onHciEvent.bind(input) });
    s.hci.hci_register_acl_packet_handler(input.onAcl.bind(input));
  }

  /** Handlers for L2CAP events not tied to a channel (BTstack >= v1.5 l2cap_add_event_handler). */
  l2cap_add_event_handler(registration: L2capCallbackRegistration): void {
    if (!registration || typeof registration.callback !== 'function')
      throw new TypeError('l2cap_add_event_handler: expected { callback }');
    this.state.events.handlers.add(registration);
  }

  l2cap_remove_event_handler(registration: L2capCallbackRegistration): void {
    this.state.events.handlers.remove(registration);
  }

  /** BTstack v1.4's single L2CAP packet handler (the same events as l2cap_add_event_handler); a new call replaces it. */
  l2cap_register_packet_handler(handler: L2capPacketHandler): void {
    checkHandler('l2cap_register_packet_handler', handler);
    this.#packetHandlerRegistration.callback = handler;
    this.l2cap_add_event_handler(this.#packetHandlerRegistration);
  }

  /**
   * Register a service for `psm`: incoming connections are offered to `handler` with
   * L2CAP_EVENT_INCOMING_CONNECTION. Makes the device connectable. `mtu` is clamped to
   * [48, l2cap_max_mtu()]. Incoming connections need `security_level`, raised to
   * gap_get_security_level() in security mode 4 unless `psm` is SDP: a link below it answers
   * "pending", is asked for it (gap_request_security_level) and, not reaching it, refused with
   * "security block" (l2cap-security.ts).
   * Returns 0, L2CAP_SERVICE_ALREADY_REGISTERED or BTSTACK_MEMORY_ALLOC_FAILED.
   */
  l2cap_register_service(handler: L2capPacketHandler, psm: number, mtu: number, security_level = 0): number {
    checkHandler('l2cap_register_service', handler);
    checkU16('l2cap_register_service', 'psm', psm);
    checkU16('l2cap_register_service', 'mtu', mtu);
    checkInt('l2cap_register_service', 'security_level', security_level);
    this.l2cap_init();
    return this.#services.register(handler, psm, mtu, security_level);
  }

  /** Returns 0 or L2CAP_SERVICE_DOES_NOT_EXIST. The last service gone makes the device non-connectable. */
  l2cap_unregister_service(psm: number): number {
    checkU16('l2cap_unregister_service', 'psm', psm);
    return this.#services.unregister(psm);
  }

  /**
   * Open a channel to `psm` on `address`; the ACL link is created if there is none. The outcome
   * comes to `handler` as L2CAP_EVENT_CHANNEL_OPENED. Returns { status, local_cid } where status
   * is 0, BTSTACK_MEMORY_ALLOC_FAILED, or the status of creating the link (e.g.
   * ERROR_CODE_COMMAND_DISALLOWED when the stack is not working). `mtu` is clamped to [48, l2cap_max_mtu()].
   * In security mode 4 every PSM but SDP needs gap_get_security_level(): once the link is up it is
   * raised before the Connection Request (not reached: CHANNEL_OPENED status
   * L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY).
   */
  l2cap_create_channel(handler: L2capPacketHandler, address: BdAddr, psm: number, mtu: number): L2capCreateChannelResult {
    checkHandler('l2cap_create_channel', handler);
    checkAddr('l2cap_create_channel', address);
    checkU16('l2cap_create_channel', 'psm', psm);
    checkU16('l2cap_create_channel', 'mtu', mtu);
    this.l2cap_init();
    return this.#channels.create(handler, address, psm, mtu);
  }

  /**
   * l2cap_create_channel in Enhanced Retransmission Mode (or, with `ertm_config.mode`
   * L2CAP_CHANNEL_MODE_STREAMING_MODE, streaming mode). `buffer[0, size)` holds the channel's
   * reassembly buffer and its receive / transmit windows until L2CAP_EVENT_ERTM_BUFFER_RELEASED.
   * Not mandatory: a remote without the mode gets a Basic channel. Returns { status, local_cid }:
   * status as l2cap_create_channel, ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE for a bad
   * config, BTSTACK_MEMORY_ALLOC_FAILED when the buffer gives slots under 48 octets.
   */
  l2cap_ertm_create_channel(
    handler: L2capPacketHandler,
    address: BdAddr,
    psm: number,
    ertm_config: l2cap_ertm_config_t,
    buffer: Uint8Array,
    size: number = buffer?.length,
  ): L2capCreateChannelResult {
    checkData('l2cap_ertm_create_channel', buffer, size);
    const st = this.#ertm.check(ertm_config, size);
    if (st !== ERROR_CODE_SUCCESS) return { status: st, local_cid: 0 };
    const r = this.l2cap_create_channel(handler, address, psm, Math.min(ertm_config.local_mtu, this.l2cap_max_mtu()));
    const ch = r.status === ERROR_CODE_SUCCESS ? this.state.channelForCid(r.local_cid) : null;
    if (ch) this.#ertm.apply(ch, ertm_config, buffer, size);
    return r;
  }

  /** Accept an incoming connection in ERTM / streaming mode (see l2cap_ertm_create_channel). Returns 0 or a status. */
  l2cap_ertm_accept_connection(
    local_cid: number,
    ertm_config: l2cap_ertm_config_t,
    buffer: Uint8Array,
    size: number = buffer?.length,
  ): number {
    checkData('l2cap_ertm_accept_connection', buffer, size);
    const ch = this.state.channelForCid(local_cid);
    if (!ch || ch.state !== L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    const st = this.#ertm.check(ertm_config, size);
    if (st !== ERROR_CODE_SUCCESS) return st;
    this.#ertm.apply(ch, ertm_config, buffer, size);
    return this.#channels.answerIncoming(local_cid, true);
  }

  /** Decline an incoming connection offered for ERTM (as l2cap_decline_connection). */
  l2cap_ertm_decline_connection(local_cid: number): number {
    return this.#channels.answerIncoming(local_cid, false);
  }

  /** ERTM local busy: RNR goes out, received I-frames wait (until l2cap_ertm_set_ready). 0, L2CAP_LOCAL_CID_DOES_NOT_EXIST or COMMAND_DISALLOWED. */
  l2cap_ertm_set_busy(local_cid: number): number {
    return this.#ertm.setBusy(local_cid, true);
  }

  /** End the local busy condition of l2cap_ertm_set_busy (RR goes out). */
  l2cap_ertm_set_ready(local_cid: number): number {
    return this.#ertm.setBusy(local_cid, false);
  }

  /** Accept an incoming connection (after L2CAP_EVENT_INCOMING_CONNECTION). Returns 0 or L2CAP_LOCAL_CID_DOES_NOT_EXIST. */
  l2cap_accept_connection(local_cid: number): number {
    return this.#channels.answerIncoming(local_cid, true);
  }

  /**
   * Decline an incoming connection: the remote gets result 0x0004 "no resources available" (as
   * BTstack sends). No further event. Returns 0 or L2CAP_LOCAL_CID_DOES_NOT_EXIST.
   */
  l2cap_decline_connection(local_cid: number, _reason?: number): number {
    return this.#channels.answerIncoming(local_cid, false);
  }

  /**
   * Close a channel (BTstack v1.4 takes a reason, which is not used on the wire). An open or
   * configuring channel sends a Disconnection Request and reports L2CAP_EVENT_CHANNEL_CLOSED
   * when answered (or after RTX); one not connected yet is dropped at once with
   * L2CAP_EVENT_CHANNEL_CLOSED; an incoming one not accepted yet is declined.
   * Returns 0 or L2CAP_LOCAL_CID_DOES_NOT_EXIST.
   */
  l2cap_disconnect(local_cid: number, _reason?: number): number {
    if (this.state.le.channelForCid(local_cid)) return this.le.cbm.disconnect(local_cid); // CBM/ECBM (BTstack >= 1.5)
    return this.#channels.disconnect(local_cid);
  }

  /**
   * Ask for L2CAP_EVENT_CAN_SEND_NOW on this channel; it comes from the run loop (never inside
   * this call) when the channel is open and HCI can take a packet, in round-robin order among
   * the channels waiting. Returns 0 or L2CAP_LOCAL_CID_DOES_NOT_EXIST.
   */
  l2cap_request_can_send_now_event(local_cid: number): number {
    if (this.state.le.channelForCid(local_cid)) return this.le.cbm.requestCanSendNow(local_cid);
    const ch = this.state.channelForCid(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    ch.waiting_for_can_send_now = true;
    this.#sender.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  /** The manual's name for l2cap_request_can_send_now_event. */
  l2cap_request_can_send_now(local_cid: number): number {
    return this.l2cap_request_can_send_now_event(local_cid);
  }

  /** True when l2cap_send on this (open) channel would go out now. */
  l2cap_can_send_packet_now(local_cid: number): boolean {
    if (this.state.le.channelForCid(local_cid)) return this.le.cbm.canSendNow(local_cid);
    const ch = this.state.channelForCid(local_cid);
    if (!ch || ch.state !== L2CAP_STATE_OPEN) return false;
    if (this.#ertm.isErtm(ch)) return this.#ertm.canSend(ch);
    return this.state.hci.hci_can_send_acl_packet_now(ch.con_handle);
  }

  /**
   * Send an SDU (data[0, len)) on an open channel. Returns 0, L2CAP_LOCAL_CID_DOES_NOT_EXIST,
   * ERROR_CODE_COMMAND_DISALLOWED (channel not open), L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU or
   * BTSTACK_ACL_BUFFERS_FULL (ask for L2CAP_EVENT_CAN_SEND_NOW first). Nothing is queued.
   */
  l2cap_send(local_cid: number, data: Uint8Array, len: number = data?.length): number {
    checkData('l2cap_send', data, len);
    if (this.state.le.channelForCid(local_cid)) return this.le.cbm.send(local_cid, data, len); // CBM/ECBM: not copied (BTstack)
    return this.#sender.send(local_cid, data, len);
  }

  /** Reserve HCI's outgoing buffer for l2cap_send_prepared. False when it is in use. */
  l2cap_reserve_packet_buffer(): boolean {
    return this.state.hci.hci_reserve_packet_buffer();
  }

  /** Where to write the SDU for l2cap_send_prepared (after room for the ACL and L2CAP headers). */
  l2cap_get_outgoing_buffer(): Uint8Array {
    return this.#sender.outgoingBuffer();
  }

  /**
   * Send the `len` bytes written to l2cap_get_outgoing_buffer() on a channel. The buffer must
   * have been reserved; on any failure it is released. Same statuses as l2cap_send.
   */
  l2cap_send_prepared(local_cid: number, len: number): number {
    if (!Number.isInteger(len) || len < 0) throw new TypeError(`l2cap_send_prepared: bad length ${len}`);
    return this.#sender.sendPreparedSdu(local_cid, len);
  }

  l2cap_release_packet_buffer(): void {
    this.state.hci.hci_release_packet_buffer();
  }

  /** The remote's MTU of a channel (0 for an unknown cid). */
  l2cap_get_remote_mtu_for_local_cid(local_cid: number): number {
    return this.state.channelForCid(local_cid)?.remote_mtu ?? 0;
  }

  /** Largest MTU this stack supports: what fits a pooled packet buffer, at most 65535. */
  l2cap_max_mtu(): number {
    return this.state.maxMtu();
  }

  /**
   * Send an Echo Request with data[0, len) on the ACL link `con_handle`. The Echo Response (or
   * the failure: L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT, L2CAP_CONNECTION_BASEBAND_DISCONNECT,
   * 0x60 + a Command Reject reason) goes to the optional `callback`; neither BTstack profile has
   * an event for it. Returns 0, ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER, ERROR_CODE_COMMAND_DISALLOWED
   * (an echo is already outstanding on the link) or L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU (> 664 bytes).
   */
  l2cap_send_echo_request(
    con_handle: number,
    data: Uint8Array | null = null,
    len: number = data ? data.length : 0,
    callback: L2capEchoCallback | null = null,
  ): number {
    if (data !== null) checkData('l2cap_send_echo_request', data, len);
    if (callback !== null && typeof callback !== 'function')
      throw new TypeError('l2cap_send_echo_request: callback must be a function');
    return this.#echoInfo.echoRequest(con_handle, data, len, callback);
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
    return this.#echoInfo.informationRequest(con_handle);
  }

  /**
   * Enable or disable reception of connectionless data (G-frames on CID 0x0002) for a registered
   * PSM (FreeBSD's ENABLE_CLT; off by default). Received data goes to the service's handler as
   * UCD_DATA_PACKET with channel = the ACL handle and the bytes after the PSM.
   * Returns 0 or L2CAP_SERVICE_DOES_NOT_EXIST.
   */
  l2cap_connectionless_enable(psm: number, enable: boolean | number): number {
    checkU16('l2cap_connectionless_enable', 'psm', psm);
    return this.#services.connectionlessEnable(psm, !!enable);
  }

  /** True when l2cap_send_connectionless_psm on this link would go out now. */
  l2cap_can_send_connectionless_packet_now(con_handle: number): boolean {
    return this.#services.canSendConnectionless(con_handle);
  }

  /**
   * Send data[0, len) as a G-frame on CID 0x0002 to `psm` on the remote of `con_handle` (BR/EDR
   * connectionless data; BTstack's l2cap_send_connectionless(con_handle, cid, ...) is the fixed-channel
   * sender, l2cap-le-api.ts).
   * Returns 0, ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER, L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU
   * (over 672 bytes, the connectionless MTU assumed for the remote) or BTSTACK_ACL_BUFFERS_FULL.
   */
  l2cap_send_connectionless_psm(con_handle: number, psm: number, data: Uint8Array, len: number = data?.length): number {
    checkU16('l2cap_send_connectionless_psm', 'psm', psm);
    checkData('l2cap_send_connectionless_psm', data, len);
    return this.#services.sendConnectionless(con_handle, psm, data, len);
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
    this.#links.setAutoDisconnectTimeout(ms);
  }

  /** The channels with their states (for tools and tests). */
  l2cap_get_channels(): L2capChannelInfo[] {
    return l2cap_channel_list(this.state);
  }

  /** The ACL links L2CAP uses or is creating, with their states (for tools and tests). */
  l2cap_get_connections(): L2capConnectionInfo[] {
    return l2cap_connection_list(this.state);
  }
}
