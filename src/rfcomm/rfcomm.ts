/**
 * RFCOMM (TS 07.10 multiplexer over L2CAP PSM 3) with BTstack's API, events and status codes.
 *
 *   const rfcomm = new Rfcomm(stack);            // stack.l2cap, or pass an L2CAP layer
 *   rfcomm.rfcomm_init();
 *   rfcomm.rfcomm_register_service(handler, 1, 0xffff);
 *   const { status, rfcomm_cid } = rfcomm.rfcomm_create_channel(handler, addr, 1);
 *
 * One multiplexer per remote device (one L2CAP channel), several DLCs on it; several
 * multiplexers at once. Each multiplexer advances on L2CAP_EVENT_CAN_SEND_NOW: one frame per
 * opportunity, multiplexer work first (DM, NSC, FCon/FCoff and Test responses, SABM/UA/DISC on
 * DLCI 0), then the DLCs' own frames (PN, SABM, UA, MSC, RPN, RLS, credits, DISC) round robin,
 * then one application RFCOMM_EVENT_CAN_SEND_NOW.
 *
 * Structure (docs/ARCHITECTURE.md, the layer pattern): this facade checks arguments and forwards
 * to components sharing one state record (rfcomm-state.ts: pools, lists, L2CAP service, timers'
 * settings, the two state machines' setters that log every transition at debug level):
 * rfcomm-lifecycle.ts (services, records, open/close, final events, timers), rfcomm-output.ts
 * (send side), rfcomm-input.ts (L2CAP events and frames in), rfcomm-mux-input.ts (multiplexer
 * commands in). L2CAP is used only through L2capService (src/l2cap/l2cap-service.ts).
 *
 * Roles: the station that sends SABM on DLCI 0 is the initiator; commands it sends have C/R=1,
 * responses C/R=0, and the other way round for the responder; UIH frames are commands. A server
 * channel on the initiator has direction bit 1 in its DLCI, one on the responder 0.
 *
 * Flow control: credit-based (PN convergence layer 0xF0/0xE0) on every DLC that negotiated it,
 * otherwise TS 07.10 flow control (MSC FC bit); aggregate FCon/FCoff on top. Channels from
 * rfcomm_register_service / rfcomm_create_channel refill the peer's credits automatically
 * (RFCOMM_CREDITS); the *_with_initial_credits variants leave it to rfcomm_grant_credits.
 *
 * Data reaches the channel's handler as (RFCOMM_DATA_PACKET, rfcomm_cid, packet, size): as BTstack's
 * pointer into the L2CAP buffer, `packet` is a view that starts at the payload and is valid during
 * the call only; `size` octets are the data (the octets after them are the rest of the L2CAP buffer).
 * No view is made per frame: one per L2CAP buffer and header size (3-5 octets) is kept. rfcomm_send
 * copies the payload into the outgoing buffer without a view per frame either.
 *
 * Bad input never throws: frames with a bad FCS, length or control field are discarded, as are
 * UIH frames on DLCs still being set up (before SABM/UA); SABM/PN for a channel nobody serves,
 * DISC and UIH on a closed DLC get DM (TS 07.10 5.3.3); unknown multiplexer commands get NSC;
 * absurd PN values are refused with DM (N1 = 0 also for a DLC in setup, which then fails with
 * CHANNEL_OPENED 0x11).
 *
 * Differences from BTstack (v1.4.1 and today's rfcomm.c), each deliberate:
 *
 * - rfcomm_send_modem_status, rfcomm_send_local_line_status, rfcomm_send_port_configuration and
 *   rfcomm_query_port_configuration queue the command and return 0; it goes out at the
 *   multiplexer's next L2CAP_EVENT_CAN_SEND_NOW, in turn with the other frames (one of each kind
 *   per DLC: a second call before it went out replaces the value). BTstack sends at once with
 *   l2cap_send and returns L2CAP's status, so with the controller's buffers full it returns
 *   BTSTACK_ACL_BUFFERS_FULL and the command is lost. Here it cannot be lost, and code that checks
 *   for a non-zero status works unchanged. They return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER for
 *   an unknown rfcomm_cid (BTstack: 0) and ERROR_CODE_COMMAND_DISALLOWED before the DLC is open
 *   (the modem status may also be set during DLC setup: the setup MSC carries it, or a second MSC
 *   follows it).
 * - An idle multiplexer (no DLC for RFCOMM_MULTIPLEXER_TIMEOUT_MS, 60 s) is closed with DISC on
 *   DLCI 0 and the peer's UA (or the response timer), then L2CAP, as TS 07.10's close-down
 *   procedure reads (RFCOMM 5.2.2). BTstack disconnects the L2CAP channel directly. No event either
 *   way (no DLC is left); the peer sees one more exchange.
 * - Data the peer sends without a credit (credit-based flow control) is delivered, as BTstack does
 *   (the RFCOMM spec tells the sender not to send without credits, nothing to the receiver, and
 *   dropping a frame would cut bytes out of the serial stream); our count stays at 0 and is
 *   refilled as usual. Data longer than the negotiated max frame size is discarded (BTstack
 *   delivers it): the application was told the frame size in RFCOMM_EVENT_CHANNEL_OPENED and ported
 *   C code sizes its buffers by it. Data on a DLC before its SABM/UA exchange is done is discarded
 *   too (BTstack hands it to the handler whenever the DLC exists); during the MSC exchange that
 *   follows it is held and delivered in order right after RFCOMM_EVENT_CHANNEL_OPENED (BTstack
 *   delivers it at once, with an rfcomm_cid the application has not heard of): hold.ts. For that
 *   at most RFCOMM_CREDITS credits are granted before the channel is open (the rest of larger
 *   initial credits follow it), and without credit-based flow control our MSC says FC = 1 while
 *   the hold buffer is nearly full.
 * - UIH on a DLCI that is not open gets DM with F = P (BTstack drops it); a PN with N1 = 0 for a
 *   DLC in setup gets DM and the DLC fails (BTstack takes N1 = 0).
 * - A failed RFCOMM_EVENT_CHANNEL_OPENED carries the fields BTstack's does: the con_handle of the
 *   failed L2CAP event and the frame size held then, which before L2CAP is open is
 *   min(32767, l2cap_max_mtu() - 5) (BTstack: l2cap_max_mtu() - 5, not clamped to the 15-bit
 *   RFCOMM length field).
 * - RFCOMM_EVENT_CHANNEL_OPENED is 18 bytes, as the reference tables say (code, length byte 16,
 *   status, bd_addr, con_handle, server_channel, rfcomm_cid, max_frame_size, incoming, one reserved
 *   0), and the handler's size argument is 18. BTstack logs the same 18 bytes but passes size 17
 *   (the octets it filled), one fewer than its own length byte promises.
 * - RFCOMM_EVENT_REMOTE_MODEM_STATUS is 5 bytes with the rfcomm_cid in both profiles: neither
 *   v1.4.1's 3-byte event without the cid nor today's length byte taken from sizeof(pointer) - 2
 *   is reproduced (rfcomm-events.ts).
 * - Server channels are 1-30 (RFCOMM 5.4): rfcomm_register_service* and rfcomm_create_channel*
 *   return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE for others; BTstack takes any value
 *   and builds a DLCI from it.
 * - Functions that BTstack declares void (rfcomm_accept_connection, rfcomm_decline_connection,
 *   rfcomm_grant_credits, rfcomm_disconnect, rfcomm_request_can_send_now_event) return 0 or a
 *   status here; rfcomm_create_channel* return { status, rfcomm_cid } instead of an out parameter.
 */
import { bd_addr_to_str, type BdAddr } from '../core/bytes.js';
import {
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE,
  RFCOMM_CREDITS,
} from '../codes/v1.4.js';
import type { L2capService } from '../l2cap/l2cap-service.js';
import { RfcommInput } from './rfcomm-input.js';
import { RfcommLifecycle, type RfcommCreateChannelResult } from './rfcomm-lifecycle.js';
import { RfcommMuxInput } from './rfcomm-mux-input.js';
import {
  CH_DLC_SETUP,
  CH_INCOMING_SETUP,
  CH_OPEN,
  CH_SEND_DISC,
  CH_SEND_DM,
  CH_SEND_UA_AFTER_DISC,
  CH_W4_MULTIPLEXER,
  CH_W4_UA_AFTER_DISC,
  F_ACCEPTED,
  F_RCVD_PN,
  F_RCVD_SABM,
  F_SEND_MSC_APP,
  F_SEND_MSC_CMD,
  F_SEND_PN_RSP,
  F_SEND_RLS_CMD,
  F_SEND_RPN_CONFIG,
  F_SEND_RPN_QUERY,
  F_SEND_UA,
  F_SENT_MSC_CMD,
  RFCOMM_MAX_OUTGOING_CREDITS,
  checkByte,
  type RfcommPacketHandler,
} from './rfcomm-objects.js';
import { RfcommOutput } from './rfcomm-output.js';
import { RfcommState, type RfcommStackLike } from './rfcomm-state.js';
import { RfcommWiring } from './rfcomm-wiring.js';

export {
  rfcomm_event_port_configuration_get_baud_rate,
  rfcomm_event_port_configuration_get_data_bits,
  rfcomm_event_port_configuration_get_flow_control,
  rfcomm_event_port_configuration_get_parameter_mask_0,
  rfcomm_event_port_configuration_get_parameter_mask_1,
  rfcomm_event_port_configuration_get_parity,
  rfcomm_event_port_configuration_get_remote,
  rfcomm_event_port_configuration_get_rfcomm_cid,
  rfcomm_event_port_configuration_get_stop_bits,
  rfcomm_event_port_configuration_get_xoff,
  rfcomm_event_port_configuration_get_xon,
} from './rfcomm-events.js';
export type { RfcommPacketHandler } from './rfcomm-objects.js';
export type { RfcommStackLike } from './rfcomm-state.js';
export type { RfcommCreateChannelResult } from './rfcomm-lifecycle.js';
export { RFCOMM_MULTIPLEXER_TIMEOUT_MS, RFCOMM_RESPONSE_TIMEOUT_MS } from './rfcomm-state.js';

export class Rfcomm {
  /** @internal The layer's state record (tests and tools read it; not part of the API). */
  readonly state: RfcommState;
  private readonly life: RfcommLifecycle;
  private readonly out: RfcommOutput;

  constructor(stack: RfcommStackLike, l2cap?: L2capService) {
    const s = (this.state = new RfcommState(stack, l2cap));
    // the components reach each other only through the small interfaces each declares, all
    // satisfied by one wiring object (rfcomm-wiring.ts) that closes the cycles (the life cycle asks
    // the send side for CAN_SEND_NOW and the other way round)
    const w = new RfcommWiring();
    const life = (w.life = new RfcommLifecycle(s, w));
    const out = (w.out = new RfcommOutput(s, life));
    w.muxIn = new RfcommMuxInput(s, w);
    w.input = new RfcommInput(s, w);
    this.life = life;
    this.out = out;
  }

  /** Attach the L2CAP layer later (when the Rfcomm was created before it). */
  attachL2cap(l2cap: L2capService): void {
    this.state.l2cap = l2cap;
  }

  // ====================================================================== BTstack API

  /** BTstack's rfcomm_init: nothing to allocate (pools are per stack); safe to call again. */
  rfcomm_init(): void {}

  /** Deprecated in BTstack (use gap_set_security_level); applies to services registered afterwards. */
  rfcomm_set_required_security_level(security_level: number): void {
    this.state.security_level = security_level;
  }

  /** Register a server channel (1-30); the peer gets credits automatically. */
  rfcomm_register_service(handler: RfcommPacketHandler, channel: number, max_frame_size: number): number {
    return this.registerService(handler, channel, max_frame_size, false, RFCOMM_CREDITS);
  }

  /** Register a server channel with manual credits: `initial_credits` at setup, then rfcomm_grant_credits. */
  rfcomm_register_service_with_initial_credits(
    handler: RfcommPacketHandler,
    channel: number,
    max_frame_size: number,
    initial_credits: number,
  ): number {
    checkByte('initial_credits', initial_credits);
    return this.registerService(handler, channel, max_frame_size, true, initial_credits);
  }

  rfcomm_unregister_service(service_channel: number): void {
    this.life.unregisterService(service_channel);
  }

  /** Open a DLC to `server_channel` on `addr`; automatic credits. Outcome: RFCOMM_EVENT_CHANNEL_OPENED. */
  rfcomm_create_channel(handler: RfcommPacketHandler, addr: BdAddr, server_channel: number): RfcommCreateChannelResult {
    return this.createChannel(handler, addr, server_channel, false, RFCOMM_CREDITS);
  }

  /** As rfcomm_create_channel with manual credits (`initial_credits` at setup, then rfcomm_grant_credits). */
  rfcomm_create_channel_with_initial_credits(
    handler: RfcommPacketHandler,
    addr: BdAddr,
    server_channel: number,
    initial_credits: number,
  ): RfcommCreateChannelResult {
    checkByte('initial_credits', initial_credits);
    return this.createChannel(handler, addr, server_channel, true, initial_credits);
  }

  rfcomm_accept_connection(rfcomm_cid: number): number {
    const ch = this.state.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (ch.state !== CH_INCOMING_SETUP || ch.has(F_ACCEPTED)) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.set(F_ACCEPTED);
    if (ch.has(F_RCVD_PN)) ch.set(F_SEND_PN_RSP);
    if (ch.has(F_RCVD_SABM)) ch.set(F_SEND_UA);
    this.out.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  rfcomm_decline_connection(rfcomm_cid: number): number {
    const ch = this.state.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (ch.state !== CH_INCOMING_SETUP) return ERROR_CODE_COMMAND_DISALLOWED;
    this.state.setChannelState(ch, CH_SEND_DM, 'rfcomm_decline_connection');
    this.out.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  rfcomm_grant_credits(rfcomm_cid: number, credits: number): number {
    checkByte('credits', credits);
    const ch = this.state.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (!ch.incoming_flow_control) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.new_credits_incoming = Math.min(RFCOMM_MAX_OUTGOING_CREDITS, ch.new_credits_incoming + credits);
    this.out.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  rfcomm_can_send_packet_now(rfcomm_cid: number): boolean {
    const ch = this.state.channelForCid(rfcomm_cid);
    return ch ? this.out.canSend(ch) : false;
  }

  /** RFCOMM_EVENT_CAN_SEND_NOW follows as soon as a frame can be sent on this channel. */
  rfcomm_request_can_send_now_event(rfcomm_cid: number): number {
    const ch = this.state.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    ch.waiting_for_can_send_now = true;
    this.out.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  /** The manual's name for rfcomm_request_can_send_now_event. */
  rfcomm_request_can_send_now(rfcomm_cid: number): number {
    return this.rfcomm_request_can_send_now_event(rfcomm_cid);
  }

  /** Send `len` octets of `data` in one UIH frame (copied before returning). 0 or a status. */
  rfcomm_send(rfcomm_cid: number, data: Uint8Array, len: number = data.length): number {
    if (!(data instanceof Uint8Array)) throw new TypeError('rfcomm_send: data must be a Uint8Array');
    if (!Number.isInteger(len) || len < 0 || len > data.length) throw new RangeError(`rfcomm_send: bad length ${len}`);
    const ch = this.state.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    return this.out.send(ch, data, len);
  }

  /**
   * Reserve the outgoing buffer for rfcomm_get_outgoing_buffer / rfcomm_send_prepared (L2CAP's
   * own buffer: the frame is written straight into it). False when it is in use.
   */
  rfcomm_reserve_packet_buffer(): boolean {
    return this.out.reserveBuffer();
  }

  rfcomm_release_packet_buffer(): void {
    this.out.releaseBuffer();
  }

  /**
   * Where to write the payload (rfcomm_get_max_frame_size octets fit), after room for the frame
   * header; valid until rfcomm_send_prepared / rfcomm_release_packet_buffer.
   */
  rfcomm_get_outgoing_buffer(): Uint8Array {
    return this.out.outgoingPayload();
  }

  /** Send `len` octets prepared in rfcomm_get_outgoing_buffer(); releases the buffer. 0 or a status. */
  rfcomm_send_prepared(rfcomm_cid: number, len: number): number {
    if (!Number.isInteger(len) || len < 0) throw new RangeError(`rfcomm_send_prepared: bad length ${len}`);
    return this.out.sendPreparedPayload(rfcomm_cid, len);
  }

  rfcomm_get_max_frame_size(rfcomm_cid: number): number {
    return this.state.channelForCid(rfcomm_cid)?.max_frame_size ?? 0;
  }

  /** Close the DLC (DISC); RFCOMM_EVENT_CHANNEL_CLOSED follows. */
  rfcomm_disconnect(rfcomm_cid: number): number {
    const s = this.state;
    const ch = s.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    const mux = ch.mux!;
    switch (ch.state) {
      case CH_W4_MULTIPLEXER: {
        // nothing went out on this DLCI yet
        const info = this.life.takeChannel(ch, 'rfcomm_disconnect');
        s.events.channel_closed(info.handler, info.rfcomm_cid);
        return ERROR_CODE_SUCCESS;
      }
      case CH_INCOMING_SETUP:
        s.setChannelState(ch, CH_SEND_DM, 'rfcomm_disconnect');
        break;
      case CH_SEND_DISC:
      case CH_W4_UA_AFTER_DISC:
      case CH_SEND_UA_AFTER_DISC:
      case CH_SEND_DM:
        return ERROR_CODE_SUCCESS;
      default:
        s.setChannelState(ch, CH_SEND_DISC, 'rfcomm_disconnect');
        ch.clear(F_SEND_PN_RSP | F_SEND_UA | F_SEND_MSC_CMD);
        this.life.stopChannelTimer(ch);
        break;
    }
    this.out.requestSend(mux);
    return ERROR_CODE_SUCCESS;
  }

  /** Send our V.24 signals (MODEM_STATUS_*) in an MSC command. */
  rfcomm_send_modem_status(rfcomm_cid: number, modem_status: number): number {
    checkByte('modem_status', modem_status);
    const ch = this.state.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (ch.state !== CH_OPEN && ch.state !== CH_DLC_SETUP) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.msc_app = modem_status | 1;
    if (ch.state === CH_OPEN || ch.has(F_SENT_MSC_CMD)) ch.set(F_SEND_MSC_APP);
    this.out.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  /** Send our line status (LINE_STATUS_*) in an RLS command. */
  rfcomm_send_local_line_status(rfcomm_cid: number, line_status: number): number {
    checkByte('line_status', line_status);
    const ch = this.state.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (ch.state !== CH_OPEN) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.rls_cmd = line_status;
    ch.set(F_SEND_RLS_CMD);
    this.out.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  /** Configure the remote port (RPN command with every setting but XON/XOFF). */
  rfcomm_send_port_configuration(
    rfcomm_cid: number,
    baud_rate: number,
    data_bits: number,
    stop_bits: number,
    parity: number,
    flow_control: number,
  ): number {
    for (const [n, v] of [
      ['baud_rate', baud_rate],
      ['data_bits', data_bits],
      ['stop_bits', stop_bits],
      ['parity', parity],
      ['flow_control', flow_control],
    ] as const)
      checkByte(n, v);
    const ch = this.state.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (ch.state !== CH_OPEN) return ERROR_CODE_COMMAND_DISALLOWED;
    const c = ch.rpn_cfg;
    c[0] = baud_rate;
    c[1] = (data_bits & 3) | ((stop_bits & 1) << 2) | ((parity & 7) << 3);
    c[2] = flow_control & 0x3f;
    c[3] = 0;
    c[4] = 0;
    c[5] = 0x1f; // baud, data bits, stop bits, parity, parity type
    c[6] = 0x3f; // every flow control bit
    ch.set(F_SEND_RPN_CONFIG);
    this.out.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  /** Ask for the remote port settings (RPN query). */
  rfcomm_query_port_configuration(rfcomm_cid: number): number {
    const ch = this.state.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (ch.state !== CH_OPEN) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.set(F_SEND_RPN_QUERY);
    this.out.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  // ====================================================================== introspection (tools, tests)

  /** Multiplexers and their DLCs with their states, for tools and tests. */
  list(): Array<{
    addr: string;
    l2cap_cid: number;
    state: number;
    initiator: boolean;
    channels: Array<{
      rfcomm_cid: number;
      dlci: number;
      state: number;
      credits_outgoing: number;
      credits_incoming: number;
      max_frame_size: number;
    }>;
  }> {
    const s = this.state;
    return s.muxes.map((m) => ({
      addr: bd_addr_to_str(m.addr),
      l2cap_cid: m.l2cap_cid,
      state: m.state,
      initiator: m.initiator,
      channels: s.channels
        .filter((c) => c.mux === m)
        .map((c) => ({
          rfcomm_cid: c.rfcomm_cid,
          dlci: c.dlci,
          state: c.state,
          credits_outgoing: c.credits_outgoing,
          credits_incoming: c.credits_incoming,
          max_frame_size: c.max_frame_size,
        })),
    }));
  }

  // ====================================================================== argument checks

  private registerService(
    handler: RfcommPacketHandler,
    channel: number,
    max_frame_size: number,
    manual: boolean,
    initial_credits: number,
  ): number {
    if (typeof handler !== 'function') throw new TypeError('rfcomm_register_service: handler must be a function');
    if (!Number.isInteger(channel)) throw new TypeError('rfcomm_register_service: channel must be an integer');
    if (!Number.isInteger(max_frame_size)) throw new TypeError('rfcomm_register_service: max_frame_size must be an integer');
    if (channel < 1 || channel > 30 || max_frame_size < 1) return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    return this.life.registerService(handler, channel, max_frame_size, manual, initial_credits);
  }

  private createChannel(
    handler: RfcommPacketHandler,
    addr: BdAddr,
    server_channel: number,
    manual: boolean,
    initial_credits: number,
  ): RfcommCreateChannelResult {
    if (typeof handler !== 'function') throw new TypeError('rfcomm_create_channel: handler must be a function');
    if (!(addr instanceof Uint8Array) || addr.length !== 6)
      throw new TypeError('rfcomm_create_channel: addr must be a 6-byte BdAddr');
    if (!Number.isInteger(server_channel)) throw new TypeError('rfcomm_create_channel: server_channel must be an integer');
    if (server_channel < 1 || server_channel > 30)
      return { status: ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE, rfcomm_cid: 0 };
    return this.life.createOutgoing(handler, addr, server_channel, manual, initial_credits);
  }
}
