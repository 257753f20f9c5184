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
 * - PSM 3 is registered with security level 0 (BTstack: LEVEL_2), as this stack has no pairing
 *   yet; rfcomm_set_required_security_level changes it.
 * - Functions that BTstack declares void (rfcomm_accept_connection, rfcomm_decline_connection,
 *   rfcomm_grant_credits, rfcomm_disconnect, rfcomm_request_can_send_now_event) return 0 or a
 *   status here; rfcomm_create_channel* return { status, rfcomm_cid } instead of an out parameter.
 */
import { bd_addr_copy, bd_addr_to_str, type BdAddr } from '../core/bytes.js';
import {
  BLUETOOTH_PROTOCOL_RFCOMM,
  BTSTACK_ACL_BUFFERS_FULL,
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE,
  RFCOMM_CHANNEL_ALREADY_REGISTERED,
  RFCOMM_CREDITS,
  RFCOMM_DATA_LEN_EXCEEDS_MTU,
} from '../codes/v1.4.js';
import {
  RFCOMM_MAX_INFORMATION_SIZE,
  RFCOMM_UIH,
  rfcomm_dlci_for_outgoing,
  rfcomm_encode_uih,
  rfcomm_frame_encode_in_place,
  rfcomm_address,
  rfcomm_cr,
} from './frames.js';
import { l2cap_create_result, l2cap_has_prepared, type RfcommL2cap, type RfcommPacketHandler, type RfcommStackLike } from './rfcomm-l2cap.js';
import {
  CH_DLC_SETUP,
  CH_INCOMING_SETUP,
  CH_OPEN,
  CH_SEND_DISC,
  CH_SEND_DM,
  CH_SEND_UA_AFTER_DISC,
  CH_SEND_UIH_PN,
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
  MUX_OPEN,
  MUX_SEND_DISC_0,
  MUX_W4_CONNECT,
  RFCOMM_MAX_OUTGOING_CREDITS,
} from './rfcomm-objects.js';

import { RfcommInput } from './rfcomm-input.js';
import { checkByte, isMuxOpen } from './rfcomm-core.js';

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
export type { RfcommL2cap, RfcommPacketHandler, RfcommStackLike } from './rfcomm-l2cap.js';

export { RFCOMM_MULTIPLEXER_TIMEOUT_MS, RFCOMM_RESPONSE_TIMEOUT_MS } from './rfcomm-core.js';

export interface RfcommCreateChannelResult {
  /** ERROR_CODE_SUCCESS or a status; the outcome arrives later as RFCOMM_EVENT_CHANNEL_OPENED. */
  status: number;
  /** The new channel's rfcomm_cid (0 on failure). */
  rfcomm_cid: number;
}

export class Rfcomm extends RfcommInput {
  constructor(stack: RfcommStackLike, l2cap?: RfcommL2cap) {
    super(stack, l2cap);
  }

  /** Attach the L2CAP layer later (when the Rfcomm was created before it). */
  attachL2cap(l2cap: RfcommL2cap): void {
    this.l2cap = l2cap;
  }

  // ====================================================================== BTstack API

  /** BTstack's rfcomm_init: nothing to allocate (pools are per stack); safe to call again. */
  rfcomm_init(): void {}

  /** Deprecated in BTstack (use gap_set_security_level); applies to services registered afterwards. */
  rfcomm_set_required_security_level(security_level: number): void {
    this.security_level = security_level;
  }

  /** Register a server channel (1-30); the peer gets credits automatically. */
  rfcomm_register_service(handler: RfcommPacketHandler, channel: number, max_frame_size: number): number {
    return this.registerService(handler, channel, max_frame_size, false, RFCOMM_CREDITS);
  }

  /** Register a server channel with manual credits: `initial_credits` at setup, then rfcomm_grant_credits. */
  rfcomm_register_service_with_initial_credits(handler: RfcommPacketHandler, channel: number, max_frame_size: number, initial_credits: number): number {
    checkByte('initial_credits', initial_credits);
    return this.registerService(handler, channel, max_frame_size, true, initial_credits);
  }

  rfcomm_unregister_service(service_channel: number): void {
    const i = this.services.findIndex((s) => s.server_channel === service_channel);
    if (i < 0) return;
    const s = this.services[i]!;
    this.services.splice(i, 1);
    this.servicePool.free(s);
    if (this.services.length === 0 && this.l2capRegistered) {
      this.l2capRegistered = false;
      this.l2cap?.l2cap_unregister_service(BLUETOOTH_PROTOCOL_RFCOMM);
    }
  }

  /** Open a DLC to `server_channel` on `addr`; automatic credits. Outcome: RFCOMM_EVENT_CHANNEL_OPENED. */
  rfcomm_create_channel(handler: RfcommPacketHandler, addr: BdAddr, server_channel: number): RfcommCreateChannelResult {
    return this.createChannel(handler, addr, server_channel, false, RFCOMM_CREDITS);
  }

  /** As rfcomm_create_channel with manual credits (`initial_credits` at setup, then rfcomm_grant_credits). */
  rfcomm_create_channel_with_initial_credits(handler: RfcommPacketHandler, addr: BdAddr, server_channel: number, initial_credits: number): RfcommCreateChannelResult {
    checkByte('initial_credits', initial_credits);
    return this.createChannel(handler, addr, server_channel, true, initial_credits);
  }

  rfcomm_accept_connection(rfcomm_cid: number): number {
    const ch = this.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (ch.state !== CH_INCOMING_SETUP || ch.has(F_ACCEPTED)) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.set(F_ACCEPTED);
    if (ch.has(F_RCVD_PN)) ch.set(F_SEND_PN_RSP);
    if (ch.has(F_RCVD_SABM)) ch.set(F_SEND_UA);
    this.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  rfcomm_decline_connection(rfcomm_cid: number): number {
    const ch = this.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (ch.state !== CH_INCOMING_SETUP) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.state = CH_SEND_DM;
    this.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  rfcomm_grant_credits(rfcomm_cid: number, credits: number): number {
    checkByte('credits', credits);
    const ch = this.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (!ch.incoming_flow_control) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.new_credits_incoming = Math.min(RFCOMM_MAX_OUTGOING_CREDITS, ch.new_credits_incoming + credits);
    this.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  rfcomm_can_send_packet_now(rfcomm_cid: number): boolean {
    const ch = this.channelForCid(rfcomm_cid);
    return ch ? this.canSend(ch) : false;
  }

  /** RFCOMM_EVENT_CAN_SEND_NOW follows as soon as a frame can be sent on this channel. */
  rfcomm_request_can_send_now_event(rfcomm_cid: number): number {
    const ch = this.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    ch.waiting_for_can_send_now = true;
    this.requestSend(ch.mux!);
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
    const ch = this.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    const err = this.checkSend(ch, len);
    if (err) return err;
    const mux = ch.mux!;
    const l2 = this.l2cap;
    // the encoder copies a whole array with one `set`; part of one goes as an exact view, made
    // once per (array, length) and then reused, or octet by octet when short
    const info = len < 16 ? data : this.txViews.view(data, 0, len);
    if (l2cap_has_prepared(l2)) {
      // write the frame straight into L2CAP's outgoing buffer
      if (!l2.l2cap_reserve_packet_buffer()) return BTSTACK_ACL_BUFFERS_FULL;
      const size = rfcomm_encode_uih(l2.l2cap_get_outgoing_buffer(), 0, mux.initiator, ch.dlci, -1, info, 0, len);
      if (size < 0) {
        l2.l2cap_release_packet_buffer();
        return RFCOMM_DATA_LEN_EXCEEDS_MTU;
      }
      return this.sendPreparedData(ch, l2, size, len);
    }
    const size = rfcomm_encode_uih(this.out, 0, mux.initiator, ch.dlci, -1, info, 0, len);
    if (size < 0) return RFCOMM_DATA_LEN_EXCEEDS_MTU;
    return this.sendData(ch, this.out, size, len);
  }

  /**
   * Reserve the outgoing buffer for rfcomm_get_outgoing_buffer / rfcomm_send_prepared (L2CAP's
   * own buffer when it has the zero-copy path). False when it is in use.
   */
  rfcomm_reserve_packet_buffer(): boolean {
    const l2 = this.l2cap;
    if (l2cap_has_prepared(l2)) return l2.l2cap_reserve_packet_buffer();
    if (this.appReserved) return false;
    this.appReserved = true;
    return true;
  }

  rfcomm_release_packet_buffer(): void {
    const l2 = this.l2cap;
    if (l2cap_has_prepared(l2)) l2.l2cap_release_packet_buffer();
    else this.appReserved = false;
  }

  /**
   * Where to write the payload (rfcomm_get_max_frame_size octets fit), after room for the frame
   * header; valid until rfcomm_send_prepared / rfcomm_release_packet_buffer.
   */
  rfcomm_get_outgoing_buffer(): Uint8Array {
    const l2 = this.l2cap;
    if (l2cap_has_prepared(l2)) {
      const b = l2.l2cap_get_outgoing_buffer();
      if (this.l2capOut !== b) {
        this.l2capOut = b;
        this.l2capOutPayload = b.subarray(4);
      }
      return this.l2capOutPayload!;
    }
    void this.app;
    return this.appPayload!;
  }

  /** Send `len` octets prepared in rfcomm_get_outgoing_buffer(); releases the buffer. 0 or a status. */
  rfcomm_send_prepared(rfcomm_cid: number, len: number): number {
    if (!Number.isInteger(len) || len < 0) throw new RangeError(`rfcomm_send_prepared: bad length ${len}`);
    const l2 = this.l2cap;
    const prepared = l2cap_has_prepared(l2);
    const ch = this.channelForCid(rfcomm_cid);
    // with L2CAP's buffer reserved, L2CAP itself says whether it can go (l2cap_send_prepared)
    const err = ch ? this.checkSend(ch, len, !prepared) : ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (err) {
      // the buffer is released, as BTstack's rfcomm_send_prepared does
      this.rfcomm_release_packet_buffer();
      return err;
    }
    const address = rfcomm_address(ch!.dlci, rfcomm_cr(ch!.mux!.initiator, true));
    if (prepared) {
      const buf = l2.l2cap_get_outgoing_buffer();
      // the payload sits at 4 (room for a 2-octet length); a short one moves down a octet so
      // the frame starts at 0 with the 1-octet length
      if (len <= 127) buf.copyWithin(3, 4, 4 + len);
      const start = rfcomm_frame_encode_in_place(buf, len <= 127 ? 3 : 4, len, address, RFCOMM_UIH);
      if (start !== 0) {
        l2.l2cap_release_packet_buffer();
        return RFCOMM_DATA_LEN_EXCEEDS_MTU;
      }
      return this.sendPreparedData(ch!, l2, (len <= 127 ? 3 : 4) + len + 1, len);
    }
    const app = this.app;
    const start = rfcomm_frame_encode_in_place(app, 4, len, address, RFCOMM_UIH);
    if (start < 0) {
      this.appReserved = false;
      return RFCOMM_DATA_LEN_EXCEEDS_MTU;
    }
    const size = 4 + len + 1 - start;
    const status = this.sendData(ch!, start === 0 ? app : this.appFrom1!, size, len);
    this.appReserved = false;
    return status;
  }

  rfcomm_get_max_frame_size(rfcomm_cid: number): number {
    return this.channelForCid(rfcomm_cid)?.max_frame_size ?? 0;
  }

  /** Close the DLC (DISC); RFCOMM_EVENT_CHANNEL_CLOSED follows. */
  rfcomm_disconnect(rfcomm_cid: number): number {
    const ch = this.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    const mux = ch.mux!;
    switch (ch.state) {
      case CH_W4_MULTIPLEXER: {
        // nothing went out on this DLCI yet
        const info = this.takeChannel(ch);
        this.events.channel_closed(info.handler, info.rfcomm_cid);
        return ERROR_CODE_SUCCESS;
      }
      case CH_INCOMING_SETUP:
        ch.state = CH_SEND_DM;
        break;
      case CH_SEND_DISC:
      case CH_W4_UA_AFTER_DISC:
      case CH_SEND_UA_AFTER_DISC:
      case CH_SEND_DM:
        return ERROR_CODE_SUCCESS;
      default:
        ch.state = CH_SEND_DISC;
        ch.clear(F_SEND_PN_RSP | F_SEND_UA | F_SEND_MSC_CMD);
        this.stopChannelTimer(ch);
        break;
    }
    this.requestSend(mux);
    return ERROR_CODE_SUCCESS;
  }

  /** Send our V.24 signals (MODEM_STATUS_*) in an MSC command. */
  rfcomm_send_modem_status(rfcomm_cid: number, modem_status: number): number {
    checkByte('modem_status', modem_status);
    const ch = this.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (ch.state !== CH_OPEN && ch.state !== CH_DLC_SETUP) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.msc_app = modem_status | 1;
    if (ch.state === CH_OPEN || ch.has(F_SENT_MSC_CMD)) ch.set(F_SEND_MSC_APP);
    this.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  /** Send our line status (LINE_STATUS_*) in an RLS command. */
  rfcomm_send_local_line_status(rfcomm_cid: number, line_status: number): number {
    checkByte('line_status', line_status);
    const ch = this.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (ch.state !== CH_OPEN) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.rls_cmd = line_status;
    ch.set(F_SEND_RLS_CMD);
    this.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  /** Configure the remote port (RPN command with every setting but XON/XOFF). */
  rfcomm_send_port_configuration(rfcomm_cid: number, baud_rate: number, data_bits: number, stop_bits: number, parity: number, flow_control: number): number {
    for (const [n, v] of [['baud_rate', baud_rate], ['data_bits', data_bits], ['stop_bits', stop_bits], ['parity', parity], ['flow_control', flow_control]] as const) checkByte(n, v);
    const ch = this.channelForCid(rfcomm_cid);
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
    this.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  /** Ask for the remote port settings (RPN query). */
  rfcomm_query_port_configuration(rfcomm_cid: number): number {
    const ch = this.channelForCid(rfcomm_cid);
    if (!ch) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (ch.state !== CH_OPEN) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.set(F_SEND_RPN_QUERY);
    this.requestSend(ch.mux!);
    return ERROR_CODE_SUCCESS;
  }

  // ====================================================================== introspection (tools, tests)

  /** Multiplexers and their DLCs with their states, for tools and tests. */
  list(): Array<{ addr: string; l2cap_cid: number; state: number; initiator: boolean; channels: Array<{ rfcomm_cid: number; dlci: number; state: number; credits_outgoing: number; credits_incoming: number; max_frame_size: number }> }> {
    return this.muxes.map((m) => ({
      addr: bd_addr_to_str(m.addr),
      l2cap_cid: m.l2cap_cid,
      state: m.state,
      initiator: m.initiator,
      channels: this.channels
        .filter((c) => c.mux === m)
        .map((c) => ({ rfcomm_cid: c.rfcomm_cid, dlci: c.dlci, state: c.state, credits_outgoing: c.credits_outgoing, credits_incoming: c.credits_incoming, max_frame_size: c.max_frame_size })),
    }));
  }

  // ====================================================================== services and channel creation

  protected registerService(handler: RfcommPacketHandler, channel: number, max_frame_size: number, manual: boolean, initial_credits: number): number {
    if (typeof handler !== 'function') throw new TypeError('rfcomm_register_service: handler must be a function');
    if (!Number.isInteger(channel)) throw new TypeError('rfcomm_register_service: channel must be an integer');
    if (!Number.isInteger(max_frame_size)) throw new TypeError('rfcomm_register_service: max_frame_size must be an integer');
    if (channel < 1 || channel > 30 || max_frame_size < 1) return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    if (this.serviceFor(channel)) return RFCOMM_CHANNEL_ALREADY_REGISTERED;
    const s = this.servicePool.get();
    if (!s) return BTSTACK_MEMORY_ALLOC_FAILED;
    if (!this.l2capRegistered) {
      const l2 = this.requireL2cap();
      const status = l2.l2cap_register_service(this.l2capHandler, BLUETOOTH_PROTOCOL_RFCOMM, 0xffff, this.security_level);
      if (status !== 0) {
        this.servicePool.free(s);
        return status;
      }
      this.l2capRegistered = true;
    }
    s.handler = handler;
    s.server_channel = channel;
    s.max_frame_size = Math.min(max_frame_size, RFCOMM_MAX_INFORMATION_SIZE);
    s.incoming_flow_control = manual;
    s.initial_credits = initial_credits;
    this.services.push(s);
    return ERROR_CODE_SUCCESS;
  }

  protected createChannel(handler: RfcommPacketHandler, addr: BdAddr, server_channel: number, manual: boolean, initial_credits: number): RfcommCreateChannelResult {
    if (typeof handler !== 'function') throw new TypeError('rfcomm_create_channel: handler must be a function');
    if (!(addr instanceof Uint8Array) || addr.length !== 6) throw new TypeError('rfcomm_create_channel: addr must be a 6-byte BdAddr');
    if (!Number.isInteger(server_channel)) throw new TypeError('rfcomm_create_channel: server_channel must be an integer');
    if (server_channel < 1 || server_channel > 30) return { status: ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE, rfcomm_cid: 0 };
    const l2 = this.requireL2cap();
    let mux = this.muxForAddr(addr);
    let newMux = false;
    if (!mux) {
      mux = this.muxPool.get();
      if (!mux) return { status: BTSTACK_MEMORY_ALLOC_FAILED, rfcomm_cid: 0 };
      bd_addr_copy(mux.addr, addr);
      mux.state = MUX_W4_CONNECT;
      mux.initiator = true;
      mux.max_frame_size = this.maxInfo;
      this.muxes.push(mux);
      newMux = true;
    }
    const dlci = rfcomm_dlci_for_outgoing(server_channel, mux.initiator);
    if (this.channelFor(mux, dlci)) {
      if (newMux) this.freeMux(mux);
      return { status: RFCOMM_CHANNEL_ALREADY_REGISTERED, rfcomm_cid: 0 };
    }
    const ch = this.channelPool.get();
    if (!ch) {
      if (newMux) this.freeMux(mux);
      return { status: BTSTACK_MEMORY_ALLOC_FAILED, rfcomm_cid: 0 };
    }
    this.initChannel(ch, mux, dlci, handler);
    ch.incoming_flow_control = manual;
    ch.new_credits_incoming = initial_credits;
    ch.max_frame_size = mux.max_frame_size;
    this.channels.push(ch);
    if (mux.state === MUX_SEND_DISC_0) mux.state = MUX_OPEN; // idle close-down not sent yet: keep the session
    if (mux.state === MUX_OPEN) this.stopMuxTimer(mux); // the idle timer (other states use it as a response timer)
    if (isMuxOpen(mux)) {
      ch.state = CH_SEND_UIH_PN;
      this.requestSend(mux);
    } else {
      ch.state = CH_W4_MULTIPLEXER;
      if (newMux) {
        const r = l2cap_create_result(l2.l2cap_create_channel(this.l2capHandler, addr, BLUETOOTH_PROTOCOL_RFCOMM, this.l2capMaxMtu(0xffff)));
        if (r.status !== 0) {
          this.takeChannel(ch);
          this.freeMux(mux);
          return { status: r.status, rfcomm_cid: 0 };
        }
        if (r.local_cid) mux.l2cap_cid = r.local_cid;
      }
    }
    this.log.info(() => `RFCOMM create channel ${bd_addr_to_str(addr)} #${server_channel} cid 0x${ch.rfcomm_cid.toString(16)}`);
    return { status: ERROR_CODE_SUCCESS, rfcomm_cid: ch.rfcomm_cid };
  }


}
