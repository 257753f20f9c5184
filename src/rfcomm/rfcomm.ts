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
 * Bad input never throws: frames with a bad FCS, length or control field are discarded, as are
 * UIH frames on DLCs that are not established; SABM/PN for a channel nobody serves and DISC on a
 * closed DLC get DM; unknown multiplexer commands get NSC; absurd PN values are refused with DM.
 */
import { bd_addr_cmp, bd_addr_copy, bd_addr_to_str, type BdAddr } from '../core/bytes.js';
import type { Logger } from '../core/log.js';
import type { Pool } from '../core/pool.js';
import type { RunLoop, Timer } from '../core/run-loop.js';
import type { Codes } from '../codes/index.js';
import {
  BLUETOOTH_PROTOCOL_RFCOMM,
  BTSTACK_ACL_BUFFERS_FULL,
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES,
  ERROR_CODE_CONNECTION_TIMEOUT,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE,
  HCI_EVENT_PACKET,
  L2CAP_DATA_PACKET,
  LEVEL_0,
  RFCOMM_AGGREGATE_FLOW_OFF,
  RFCOMM_CHANNEL_ALREADY_REGISTERED,
  RFCOMM_CREDITS,
  RFCOMM_DATA_LEN_EXCEEDS_MTU,
  RFCOMM_DATA_PACKET,
  RFCOMM_MULTIPLEXER_STOPPED,
  RFCOMM_NO_OUTGOING_CREDITS,
} from '../codes/v1.4.js';
import {
  RfcommFrame,
  RFCOMM_DEFAULT_MAX_FRAME_SIZE,
  RFCOMM_DISC,
  RFCOMM_DM,
  RFCOMM_MAX_INFORMATION_SIZE,
  RFCOMM_SABM,
  RFCOMM_UA,
  RFCOMM_UIH,
  rfcomm_dlci_for_outgoing,
  rfcomm_encode_disc,
  rfcomm_encode_dm,
  rfcomm_encode_sabm,
  rfcomm_encode_ua,
  rfcomm_encode_uih,
  rfcomm_frame_decode,
  rfcomm_frame_encode_in_place,
  rfcomm_frame_peek_dlci,
  rfcomm_address,
  rfcomm_cr,
} from './frames.js';
import {
  RfcommMuxCommand,
  RFCOMM_MUX_ACTION,
  RFCOMM_MUX_FCOFF,
  RFCOMM_MUX_FCON,
  RFCOMM_MUX_MSC,
  RFCOMM_MUX_NSC,
  RFCOMM_MUX_PN,
  RFCOMM_MUX_RLS,
  RFCOMM_MUX_RPN,
  RFCOMM_MUX_TEST,
  RFCOMM_PN_CL_CREDIT_ACCEPT,
  RFCOMM_PN_CL_CREDIT_REQUEST,
  rfcomm_mux_decode,
  rfcomm_mux_encode_fc,
  rfcomm_mux_encode_msc,
  rfcomm_mux_encode_nsc,
  rfcomm_mux_encode_pn,
  rfcomm_mux_encode_rls,
  rfcomm_mux_encode_rpn,
  rfcomm_mux_encode_test,
  type RfcommPn,
  type RfcommRpn,
} from './mux-commands.js';
import { l2cap_create_result, type RfcommL2cap, type RfcommPacketHandler, type RfcommStackLike } from './rfcomm-l2cap.js';
import { RfcommEvents } from './rfcomm-events.js';
import {
  CH_CLOSED,
  CH_DLC_SETUP,
  CH_INCOMING_SETUP,
  CH_OPEN,
  CH_SEND_DISC,
  CH_SEND_DM,
  CH_SEND_SABM_W4_UA,
  CH_SEND_UA_AFTER_DISC,
  CH_SEND_UIH_PN,
  CH_W4_MULTIPLEXER,
  CH_W4_PN_RSP,
  CH_W4_UA,
  CH_W4_UA_AFTER_DISC,
  F_ACCEPTED,
  F_CREDIT_FLOW,
  F_INCOMING,
  F_RCVD_MSC_RSP,
  F_RCVD_PN,
  F_RCVD_SABM,
  F_REMOTE_FC,
  F_SEND_MSC_APP,
  F_SEND_MSC_CMD,
  F_SEND_MSC_RSP,
  F_SEND_PN_RSP,
  F_SEND_RLS_CMD,
  F_SEND_RLS_RSP,
  F_SEND_RPN_CONFIG,
  F_SEND_RPN_QUERY,
  F_SEND_RPN_RSP,
  F_SEND_UA,
  F_SENT_MSC_CMD,
  MUX_CLOSED,
  MUX_OPEN,
  MUX_SEND_DISC_0,
  MUX_SEND_SABM_0,
  MUX_SEND_UA_0,
  MUX_SEND_UA_0_AND_DISC,
  MUX_SHUTTING_DOWN,
  MUX_W4_CONNECT,
  MUX_W4_SABM_0,
  MUX_W4_UA_0,
  MUX_W4_UA_0_AFTER_DISC,
  RFCOMM_MAX_OUTGOING_CREDITS,
  RFCOMM_TEST_DATA_MAX_LEN,
  RfcommChannel,
  RfcommMultiplexer,
  RfcommService,
  rpn_set_defaults,
} from './rfcomm-objects.js';

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

/** BTstack's RFCOMM_MULIPLEXER_TIMEOUT_MS: a multiplexer without DLCs is closed after this long. */
export const RFCOMM_MULTIPLEXER_TIMEOUT_MS = 60_000;
/** T1/T2 (RFCOMM spec 5.3, range 10-60 s): how long we wait for UA, PN and MSC responses. */
export const RFCOMM_RESPONSE_TIMEOUT_MS = 60_000;
/** How long a multiplexer waits for L2CAP to report its channel closed before freeing itself. */
const RFCOMM_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Octets of an RFCOMM frame around the information field when no credit octet is sent. */
const RFCOMM_FRAME_OVERHEAD = 5;
/** Automatic credits: grant more once the peer holds fewer than this. */
const RFCOMM_CREDITS_LOW_WATER = RFCOMM_CREDITS >> 1;
/** Frames sent in one CAN_SEND_NOW handler before the rest is left to the next event. */
const MAX_FRAMES_PER_TOKEN = 32;

export interface RfcommCreateChannelResult {
  /** ERROR_CODE_SUCCESS or a status; the outcome arrives later as RFCOMM_EVENT_CHANNEL_OPENED. */
  status: number;
  /** The new channel's rfcomm_cid (0 on failure). */
  rfcomm_cid: number;
}

function isMuxOpen(mux: RfcommMultiplexer): boolean {
  return mux.state === MUX_OPEN;
}

export class Rfcomm {
  readonly run_loop: RunLoop;
  readonly log: Logger;
  readonly codes: Codes;
  /** Security level asked of L2CAP for PSM 3 (BTstack's rfcomm_set_required_security_level). */
  security_level = LEVEL_0;
  /** Idle time after which a multiplexer without DLCs is closed (DISC on DLCI 0). */
  multiplexer_timeout_ms = RFCOMM_MULTIPLEXER_TIMEOUT_MS;
  /** T1/T2 response timer. */
  response_timeout_ms = RFCOMM_RESPONSE_TIMEOUT_MS;

  private l2cap: RfcommL2cap | null;
  private readonly events: RfcommEvents;
  private readonly servicePool: Pool<RfcommService>;
  private readonly muxPool: Pool<RfcommMultiplexer>;
  private readonly channelPool: Pool<RfcommChannel>;
  private readonly services: RfcommService[] = [];
  private readonly muxes: RfcommMultiplexer[] = [];
  private readonly channels: RfcommChannel[] = [];
  private cidGenerator = 0;
  private l2capRegistered = false;

  /** Largest information field we offer (L2CAP MTU - 5, at most 32767). */
  private readonly maxInfo: number;
  /** Control frames (at most a Test echo). */
  private readonly ctl = new Uint8Array(RFCOMM_TEST_DATA_MAX_LEN + 16);
  /** Multiplexer command scratch (the information field of a control frame). */
  private readonly mcmd = new Uint8Array(RFCOMM_TEST_DATA_MAX_LEN + 8);
  /** rfcomm_send frames (allocated on first use). */
  private outBuf: Uint8Array | null = null;
  /** Zero-copy frames (rfcomm_reserve_packet_buffer / rfcomm_get_outgoing_buffer / rfcomm_send_prepared), on first use. */
  private appBuf: Uint8Array | null = null;
  private appPayload: Uint8Array | null = null;
  private appFrom1: Uint8Array | null = null;
  private appReserved = false;
  private readonly frame = new RfcommFrame();
  private readonly cmd = new RfcommMuxCommand();
  private readonly pn: RfcommPn = { dlci: 0, cl: 0, priority: 0, ack_timer: 0, max_frame_size: 0, max_retransmissions: 0, credits: 0 };
  private readonly rpn: RfcommRpn = { baud_rate: 0, flags: 0, flow_control: 0, xon: 0, xoff: 0, parameter_mask_0: 0, parameter_mask_1: 0 };
  private readonly rpnTmp = new Uint8Array(7);

  private readonly l2capHandler: RfcommPacketHandler = (packet_type, channel, packet, size) =>
    this.l2cap_packet_handler(packet_type, channel, packet, size);
  private readonly muxTimerHandler = (t: Timer): void => this.onMuxTimer(t.context as RfcommMultiplexer);
  private readonly channelTimerHandler = (t: Timer): void => this.onChannelTimer(t.context as RfcommChannel);

  constructor(stack: RfcommStackLike, l2cap?: RfcommL2cap) {
    this.run_loop = stack.run_loop;
    this.log = stack.log;
    this.codes = stack.codes;
    this.l2cap = l2cap ?? ((stack.l2cap as RfcommL2cap | undefined) || null);
    this.events = new RfcommEvents(stack.codes);
    const pools = stack.pools;
    this.servicePool = pools.create('MAX_NR_RFCOMM_SERVICES', 'rfcomm_services', () => new RfcommService(), (s) => s.reset());
    this.muxPool = pools.create('MAX_NR_RFCOMM_MULTIPLEXERS', 'rfcomm_multiplexers', () => {
      const m = new RfcommMultiplexer();
      m.timer.handler = this.muxTimerHandler;
      return m;
    }, (m) => m.reset());
    this.channelPool = pools.create('MAX_NR_RFCOMM_CHANNELS', 'rfcomm_channels', () => {
      const c = new RfcommChannel();
      c.timer.handler = this.channelTimerHandler;
      return c;
    }, (c) => c.reset());
    const mtu = this.l2capMaxMtu(pools.config.HCI_ACL_PAYLOAD_SIZE - 4);
    this.maxInfo = frameSizeForMtu(mtu);
  }

  private get out(): Uint8Array {
    return (this.outBuf ??= new Uint8Array(this.maxInfo + RFCOMM_FRAME_OVERHEAD + 1));
  }

  private get app(): Uint8Array {
    if (!this.appBuf) {
      this.appBuf = new Uint8Array(this.maxInfo + RFCOMM_FRAME_OVERHEAD + 1);
      this.appPayload = this.appBuf.subarray(4);
      this.appFrom1 = this.appBuf.subarray(1);
    }
    return this.appBuf;
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
    const size = rfcomm_encode_uih(this.out, 0, mux.initiator, ch.dlci, -1, data, 0, len);
    if (size < 0) return RFCOMM_DATA_LEN_EXCEEDS_MTU;
    return this.sendData(ch, this.out, size, len);
  }

  /** Reserve the outgoing buffer for rfcomm_get_outgoing_buffer / rfcomm_send_prepared. */
  rfcomm_reserve_packet_buffer(): boolean {
    if (this.appReserved) return false;
    this.appReserved = true;
    return true;
  }

  rfcomm_release_packet_buffer(): void {
    this.appReserved = false;
  }

  /** Where to write the payload (rfcomm_get_max_frame_size octets fit); valid until send_prepared/release. */
  rfcomm_get_outgoing_buffer(): Uint8Array {
    void this.app;
    return this.appPayload!;
  }

  /** Send `len` octets prepared in rfcomm_get_outgoing_buffer(); releases the buffer. 0 or a status. */
  rfcomm_send_prepared(rfcomm_cid: number, len: number): number {
    if (!Number.isInteger(len) || len < 0) throw new RangeError(`rfcomm_send_prepared: bad length ${len}`);
    const ch = this.channelForCid(rfcomm_cid);
    if (!ch) {
      this.appReserved = false;
      return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    }
    const err = this.checkSend(ch, len);
    if (err) return err; // the buffer stays reserved: the caller may retry or release it
    const app = this.app;
    const start = rfcomm_frame_encode_in_place(app, 4, len, rfcomm_address(ch.dlci, rfcomm_cr(ch.mux!.initiator, true)), RFCOMM_UIH);
    if (start < 0) return RFCOMM_DATA_LEN_EXCEEDS_MTU;
    const size = 4 + len + 1 - start;
    const status = this.sendData(ch, start === 0 ? app : this.appFrom1!, size, len);
    if (status === 0) this.appReserved = false;
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

  private registerService(handler: RfcommPacketHandler, channel: number, max_frame_size: number, manual: boolean, initial_credits: number): number {
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

  private createChannel(handler: RfcommPacketHandler, addr: BdAddr, server_channel: number, manual: boolean, initial_credits: number): RfcommCreateChannelResult {
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

  private initChannel(ch: RfcommChannel, mux: RfcommMultiplexer, dlci: number, handler: RfcommPacketHandler): void {
    ch.rfcomm_cid = this.nextCid();
    ch.dlci = dlci;
    ch.server_channel = dlci >> 1;
    ch.mux = mux;
    ch.handler = handler;
  }

  /** Channel for a PN/SABM on a DLCI we serve; null after queueing DM. */
  private createIncoming(mux: RfcommMultiplexer, dlci: number): RfcommChannel | null {
    // our server channels carry direction bit 1 when we are the initiator, 0 when the responder
    const ours = dlci >= 2 && dlci <= 61 && (dlci & 1) === (mux.initiator ? 1 : 0);
    const service = ours ? this.serviceFor(dlci >> 1) : null;
    const ch = service ? this.channelPool.get() : null;
    if (!service || !ch) {
      this.log.info(() => `RFCOMM DLCI ${dlci}: ${service ? 'no channel left' : 'no service'}, DM`);
      mux.queueDm(dlci);
      return null;
    }
    this.initChannel(ch, mux, dlci, service.handler!);
    ch.set(F_INCOMING);
    ch.incoming_flow_control = service.incoming_flow_control;
    ch.new_credits_incoming = service.initial_credits;
    ch.max_frame_size = Math.min(service.max_frame_size, mux.max_frame_size);
    ch.state = CH_INCOMING_SETUP;
    this.channels.push(ch);
    this.stopMuxTimer(mux);
    return ch;
  }

  // ====================================================================== L2CAP events and data

  private l2cap_packet_handler(packet_type: number, channel: number, packet: Uint8Array, size: number): void {
    if (packet_type === HCI_EVENT_PACKET) this.onL2capEvent(packet, Math.min(size, packet.length));
    else if (packet_type === L2CAP_DATA_PACKET) this.onL2capData(channel, packet, Math.min(size, packet.length));
  }

  private onL2capEvent(packet: Uint8Array, size: number): void {
    if (size < 2) return;
    const c = this.codes;
    // the generated getters stop at the event's own length byte: no need to cut the packet
    const ev = packet;
    switch (packet[0]) {
      case c.L2CAP_EVENT_INCOMING_CONNECTION: {
        if (c.l2cap_event_incoming_connection_get_psm(ev) !== BLUETOOTH_PROTOCOL_RFCOMM) return;
        const cid = c.l2cap_event_incoming_connection_get_local_cid(ev);
        const addr = c.l2cap_event_incoming_connection_get_address(ev);
        const l2 = this.l2cap!;
        if (this.muxForAddr(addr)) {
          this.log.info(() => `RFCOMM: L2CAP from ${bd_addr_to_str(addr)} declined, a multiplexer exists`);
          l2.l2cap_decline_connection(cid);
          return;
        }
        const mux = this.muxPool.get();
        if (!mux) {
          this.log.info(() => `RFCOMM: L2CAP from ${bd_addr_to_str(addr)} declined, no multiplexer left`);
          l2.l2cap_decline_connection(cid);
          return;
        }
        bd_addr_copy(mux.addr, addr);
        mux.con_handle = c.l2cap_event_incoming_connection_get_handle(ev);
        mux.l2cap_cid = cid;
        mux.initiator = false;
        mux.state = MUX_W4_SABM_0;
        mux.max_frame_size = this.maxInfo;
        this.muxes.push(mux);
        l2.l2cap_accept_connection(cid);
        return;
      }
      case c.L2CAP_EVENT_CHANNEL_OPENED:
        if (c.l2cap_event_channel_opened_get_psm(ev) === BLUETOOTH_PROTOCOL_RFCOMM) this.onL2capOpened(ev);
        return;
      case c.L2CAP_EVENT_CHANNEL_CLOSED: {
        const mux = this.muxForL2capCid(c.l2cap_event_channel_closed_get_local_cid(ev));
        if (!mux) return;
        this.log.info(() => `RFCOMM: L2CAP channel of ${bd_addr_to_str(mux.addr)} closed`);
        this.finalizeChannels(mux, RFCOMM_MULTIPLEXER_STOPPED);
        this.freeMux(mux);
        return;
      }
      case c.L2CAP_EVENT_CAN_SEND_NOW: {
        const mux = this.muxForL2capCid(c.l2cap_event_can_send_now_get_local_cid(ev));
        if (mux && mux.l2cap_open) this.onCanSendNow(mux);
        return;
      }
      default:
        return;
    }
  }

  private onL2capOpened(ev: Uint8Array): void {
    const c = this.codes;
    const status = c.l2cap_event_channel_opened_get_status(ev);
    const cid = c.l2cap_event_channel_opened_get_local_cid(ev);
    let mux = this.muxForL2capCid(cid);
    if (!mux) {
      const addr = c.l2cap_event_channel_opened_get_address(ev);
      mux = this.muxes.find((m) => m.state === MUX_W4_CONNECT && m.l2cap_cid === 0 && bd_addr_cmp(m.addr, addr) === 0)
        ?? this.muxes.find((m) => m.state === MUX_SHUTTING_DOWN && m.l2cap_cid === 0 && bd_addr_cmp(m.addr, addr) === 0)
        ?? null;
    }
    if (!mux) {
      this.log.error(() => `RFCOMM: L2CAP_EVENT_CHANNEL_OPENED for unknown cid 0x${cid.toString(16)}`);
      if (status === 0) this.l2cap!.l2cap_disconnect(cid);
      return;
    }
    if (status !== 0) {
      this.log.info(() => `RFCOMM: L2CAP to ${bd_addr_to_str(mux.addr)} failed, status 0x${status.toString(16)}`);
      mux.state = MUX_SHUTTING_DOWN;
      this.finalizeChannels(mux, status);
      this.freeMux(mux);
      return;
    }
    mux.l2cap_cid = cid;
    mux.l2cap_open = true;
    mux.con_handle = c.l2cap_event_channel_opened_get_handle(ev);
    if (mux.state === MUX_SHUTTING_DOWN) {
      // every DLC went away while L2CAP was connecting
      this.l2cap!.l2cap_disconnect(cid);
      return;
    }
    const mtu = Math.min(c.l2cap_event_channel_opened_get_local_mtu(ev), c.l2cap_event_channel_opened_get_remote_mtu(ev));
    mux.max_frame_size = Math.min(this.maxInfo, frameSizeForMtu(mtu));
    for (const ch of this.channels) if (ch.mux === mux && ch.max_frame_size > mux.max_frame_size) ch.max_frame_size = mux.max_frame_size;
    if (mux.state === MUX_W4_CONNECT) {
      mux.state = MUX_SEND_SABM_0;
      this.requestSend(mux);
    } else {
      // responder: the initiator's SABM should follow; close the session if it never comes
      this.startMuxTimer(mux, this.multiplexer_timeout_ms);
    }
  }

  private onL2capData(l2cap_cid: number, packet: Uint8Array, size: number): void {
    const mux = this.muxForL2capCid(l2cap_cid);
    if (!mux || !mux.l2cap_open || mux.state === MUX_SHUTTING_DOWN) return;
    const dlci = rfcomm_frame_peek_dlci(packet, 0, size);
    const ch = dlci > 0 ? this.channelFor(mux, dlci) : null;
    const f = this.frame;
    const st = rfcomm_frame_decode(packet, 0, size, f, ch ? ch.has(F_CREDIT_FLOW) : true);
    if (st !== 'ok') {
      this.log.info(() => `RFCOMM: frame from ${bd_addr_to_str(mux.addr)} discarded (${st})`);
      return;
    }
    if (f.dlci === 0) this.onControlFrame(mux, packet);
    else this.onDlcFrame(mux, ch, f.dlci, packet);
  }

  // ====================================================================== DLCI 0

  private onControlFrame(mux: RfcommMultiplexer, packet: Uint8Array): void {
    const f = this.frame;
    switch (f.type) {
      case RFCOMM_SABM:
        if (mux.state === MUX_W4_SABM_0) {
          this.stopMuxTimer(mux);
          mux.state = MUX_SEND_UA_0;
          this.requestSend(mux);
        } else {
          this.log.info(() => `RFCOMM: SABM 0 in multiplexer state ${mux.state} ignored`);
        }
        return;
      case RFCOMM_UA:
        if (mux.state === MUX_W4_UA_0) {
          this.stopMuxTimer(mux);
          this.muxOpened(mux);
        } else if (mux.state === MUX_W4_UA_0_AFTER_DISC) {
          this.shutdown(mux, RFCOMM_MULTIPLEXER_STOPPED);
        }
        return;
      case RFCOMM_DM:
        if (mux.state === MUX_W4_UA_0 || mux.state === MUX_OPEN || mux.state === MUX_W4_UA_0_AFTER_DISC || mux.state === MUX_SEND_DISC_0) {
          this.log.info(() => `RFCOMM: DM on DLCI 0 from ${bd_addr_to_str(mux.addr)}, closing the multiplexer`);
          this.shutdown(mux, RFCOMM_MULTIPLEXER_STOPPED);
        }
        return;
      case RFCOMM_DISC:
        if (mux.state === MUX_W4_SABM_0) {
          mux.queueDm(0); // disconnected mode: DISC gets DM
        } else if (mux.state === MUX_OPEN || mux.state === MUX_SEND_DISC_0 || mux.state === MUX_W4_UA_0_AFTER_DISC || mux.state === MUX_W4_UA_0) {
          this.stopMuxTimer(mux);
          mux.state = MUX_SEND_UA_0_AND_DISC;
        }
        this.requestSend(mux);
        return;
      case RFCOMM_UIH:
        if (mux.state !== MUX_OPEN) {
          this.log.info(() => `RFCOMM: UIH on DLCI 0 before the multiplexer is open, discarded`);
          return;
        }
        this.onMuxCommands(mux, packet, f.info_pos, f.info_len);
        return;
      default:
        return;
    }
  }

  private onMuxCommands(mux: RfcommMultiplexer, buf: Uint8Array, pos: number, len: number): void {
    const cmd = this.cmd;
    const end = pos + len;
    let p = pos;
    while (p < end && mux.state === MUX_OPEN) {
      const st = rfcomm_mux_decode(buf, p, end - p, cmd);
      const action = RFCOMM_MUX_ACTION[st];
      if (action === 'nsc') {
        if (mux.nsc_count < mux.nsc.length) mux.nsc[mux.nsc_count++] = cmd.type_octet;
        else this.log.info(() => `RFCOMM: NSC queue full, type 0x${cmd.type_octet.toString(16)} not answered`);
        this.requestSend(mux);
      } else if (action === 'discard') {
        this.log.info(() => `RFCOMM: multiplexer command discarded (${st})`);
        return;
      } else {
        this.onMuxCommand(mux, cmd, buf);
      }
      if (cmd.size <= 0) return;
      p += cmd.size;
    }
  }

  private onMuxCommand(mux: RfcommMultiplexer, cmd: RfcommMuxCommand, buf: Uint8Array): void {
    switch (cmd.type) {
      case RFCOMM_MUX_PN:
        if (cmd.command) this.onPnCommand(mux, cmd);
        else this.onPnResponse(mux, cmd);
        return;
      case RFCOMM_MUX_MSC:
        this.onMsc(mux, cmd);
        return;
      case RFCOMM_MUX_RPN:
        this.onRpn(mux, cmd);
        return;
      case RFCOMM_MUX_RLS: {
        const ch = this.channelFor(mux, cmd.dlci);
        if (!ch || !cmd.command) return;
        if (ch.state !== CH_OPEN && ch.state !== CH_DLC_SETUP) return;
        ch.rls_rsp = cmd.line_status;
        ch.set(F_SEND_RLS_RSP);
        this.requestSend(mux);
        this.events.remote_line_status(ch.handler, ch.rfcomm_cid, cmd.line_status);
        return;
      }
      case RFCOMM_MUX_TEST:
        if (!cmd.command) return;
        // echo as much of the pattern as fits our buffer and the peer's MTU (type + 2 length octets)
        mux.test_len = Math.max(0, Math.min(cmd.value_len, RFCOMM_TEST_DATA_MAX_LEN, mux.max_frame_size - 3));
        mux.test_data.set(buf.subarray(cmd.value_pos, cmd.value_pos + mux.test_len));
        this.requestSend(mux);
        return;
      case RFCOMM_MUX_FCON:
      case RFCOMM_MUX_FCOFF:
        if (!cmd.command) return;
        mux.fcon = cmd.type === RFCOMM_MUX_FCON;
        mux.fc_response = mux.fcon ? 1 : 2;
        this.requestSend(mux);
        return;
      case RFCOMM_MUX_NSC:
        this.log.info(() => `RFCOMM: peer does not support command type 0x${cmd.nsc_type.toString(16)}`);
        return;
      default:
        return;
    }
  }

  private onPnCommand(mux: RfcommMultiplexer, pn: RfcommMuxCommand): void {
    const dlci = pn.dlci;
    if (dlci === 0) return;
    let ch = this.channelFor(mux, dlci);
    if (!ch) {
      if (pn.max_frame_size < 1) {
        mux.queueDm(dlci);
        this.requestSend(mux);
        return;
      }
      ch = this.createIncoming(mux, dlci);
      if (!ch) {
        this.requestSend(mux);
        return;
      }
      this.applyPn(ch, pn, true);
      ch.set(F_RCVD_PN);
      this.events.incoming_connection(ch.handler, mux.addr, ch.server_channel, ch.rfcomm_cid, mux.con_handle);
      return;
    }
    switch (ch.state) {
      case CH_INCOMING_SETUP:
        if (pn.max_frame_size < 1) return;
        this.applyPn(ch, pn, true);
        ch.set(F_RCVD_PN);
        if (ch.has(F_ACCEPTED)) ch.set(F_SEND_PN_RSP);
        break;
      case CH_SEND_UIH_PN:
      case CH_W4_PN_RSP:
        // both sides negotiate the same DLC: answer with what we can take
        if (pn.max_frame_size < 1) return;
        this.applyPn(ch, pn, true);
        ch.set(F_SEND_PN_RSP);
        break;
      case CH_DLC_SETUP:
      case CH_OPEN:
        // parameters cannot change on an established DLC: answer with the current ones
        ch.set(F_SEND_PN_RSP);
        break;
      default:
        return;
    }
    this.requestSend(mux);
  }

  /** Take the peer's PN (command or response) into the channel. */
  private applyPn(ch: RfcommChannel, pn: RfcommMuxCommand, command: boolean): void {
    ch.priority = pn.priority;
    if (pn.max_frame_size < ch.max_frame_size) ch.max_frame_size = pn.max_frame_size;
    const credit = command ? (pn.cl & 0xf0) === RFCOMM_PN_CL_CREDIT_REQUEST : (pn.cl & 0xf0) === RFCOMM_PN_CL_CREDIT_ACCEPT;
    if (credit) {
      ch.set(F_CREDIT_FLOW);
      ch.credits_outgoing = pn.credits;
    } else {
      ch.clear(F_CREDIT_FLOW);
      ch.credits_outgoing = 0;
    }
  }

  private onPnResponse(mux: RfcommMultiplexer, pn: RfcommMuxCommand): void {
    const ch = this.channelFor(mux, pn.dlci);
    if (!ch || ch.state !== CH_W4_PN_RSP) return;
    this.stopChannelTimer(ch);
    if (pn.max_frame_size < 1) {
      this.log.info(() => `RFCOMM: PN response with frame size 0 for DLCI ${pn.dlci}`);
      const info = this.takeChannel(ch);
      this.emitFinal(info, ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE);
      return;
    }
    this.applyPn(ch, pn, false);
    if (!ch.has(F_CREDIT_FLOW)) {
      // the credits offered in our PN do not apply
      ch.new_credits_incoming += ch.credits_incoming;
      ch.credits_incoming = 0;
    }
    ch.state = CH_SEND_SABM_W4_UA;
    this.requestSend(mux);
  }

  private onMsc(mux: RfcommMultiplexer, cmd: RfcommMuxCommand): void {
    const ch = this.channelFor(mux, cmd.dlci);
    if (!ch || (ch.state !== CH_DLC_SETUP && ch.state !== CH_OPEN)) {
      this.log.info(() => `RFCOMM: MSC for DLCI ${cmd.dlci} without an established DLC, discarded`);
      return;
    }
    if (cmd.command) {
      ch.msc_rsp = cmd.modem_status;
      const wasFc = ch.has(F_REMOTE_FC);
      if (cmd.modem_status & 0x02) ch.set(F_REMOTE_FC);
      else ch.clear(F_REMOTE_FC);
      ch.set(F_SEND_MSC_RSP);
      this.requestSend(mux);
      this.events.remote_modem_status(ch.handler, ch.rfcomm_cid, cmd.modem_status);
      if (wasFc && !ch.has(F_REMOTE_FC) && ch.waiting_for_can_send_now) this.requestSend(mux);
    } else if (ch.has(F_SENT_MSC_CMD) && !ch.has(F_RCVD_MSC_RSP)) {
      ch.set(F_RCVD_MSC_RSP);
      this.stopChannelTimer(ch);
      this.checkOpen(ch);
    }
  }

  private onRpn(mux: RfcommMultiplexer, cmd: RfcommMuxCommand): void {
    const ch = this.channelFor(mux, cmd.dlci);
    if (!cmd.command) {
      if (!ch || ch.state !== CH_OPEN || cmd.rpn_query) return;
      if (this.codes.PROFILE !== 'v1.4') {
        const r = this.rpnTmp;
        rpnFromCommand(r, cmd);
        this.events.port_configuration(ch.handler, ch.rfcomm_cid, true, r);
      }
      return;
    }
    if (!ch) {
      // "RPN may be used before a new DLC is opened": answer for a channel we serve, else DM
      const ours = cmd.dlci >= 2 && cmd.dlci <= 61 && (cmd.dlci & 1) === (mux.initiator ? 1 : 0);
      if (!ours || !this.serviceFor(cmd.dlci >> 1)) {
        mux.queueDm(cmd.dlci);
      } else {
        mux.rpn_dlci = cmd.dlci;
        rpn_set_defaults(mux.rpn_data);
        if (cmd.rpn_query) {
          mux.rpn_data[5] = mux.rpn_data[6] = 0;
        } else {
          rpnFromCommand(this.rpnTmp, cmd);
          rpnUpdate(mux.rpn_data, this.rpnTmp);
        }
      }
      this.requestSend(mux);
      return;
    }
    if (cmd.rpn_query) {
      ch.rpn_rsp.set(ch.rpn_local);
      ch.rpn_rsp[5] = ch.rpn_rsp[6] = 0; // nothing was set
    } else {
      rpnFromCommand(this.rpnTmp, cmd);
      rpnUpdate(ch.rpn_local, this.rpnTmp);
      ch.rpn_rsp.set(ch.rpn_local);
      if (ch.state === CH_OPEN || ch.state === CH_DLC_SETUP) this.events.port_configuration(ch.handler, ch.rfcomm_cid, false, ch.rpn_local);
    }
    ch.set(F_SEND_RPN_RSP);
    this.requestSend(mux);
  }

  // ====================================================================== DLCs

  private onDlcFrame(mux: RfcommMultiplexer, ch: RfcommChannel | null, dlci: number, packet: Uint8Array): void {
    const f = this.frame;
    if (mux.state !== MUX_OPEN) {
      // TS 07.10: in disconnected mode only SABM is accepted; DISC gets DM
      if (f.type === RFCOMM_DISC) {
        mux.queueDm(dlci);
        this.requestSend(mux);
      }
      return;
    }
    switch (f.type) {
      case RFCOMM_SABM:
        this.onSabm(mux, ch, dlci);
        return;
      case RFCOMM_UA:
        if (!ch) return;
        if (ch.state === CH_W4_UA) {
          this.stopChannelTimer(ch);
          ch.state = CH_DLC_SETUP;
          ch.set(F_SEND_MSC_CMD);
          this.requestSend(mux);
        } else if (ch.state === CH_W4_UA_AFTER_DISC) {
          const info = this.takeChannel(ch);
          this.events.channel_closed(info.handler, info.rfcomm_cid);
        }
        return;
      case RFCOMM_DM:
        if (!ch || ch.state === CH_SEND_DM || ch.state === CH_SEND_UA_AFTER_DISC) return;
        this.log.info(() => `RFCOMM: DM for DLCI ${dlci}`);
        this.emitFinal(this.takeChannel(ch), ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES);
        return;
      case RFCOMM_DISC:
        if (!ch || ch.state === CH_SEND_DM) {
          mux.queueDm(dlci);
        } else if (ch.state !== CH_SEND_UA_AFTER_DISC) {
          const before = ch.state;
          const accepted = ch.has(F_ACCEPTED);
          ch.state = CH_SEND_UA_AFTER_DISC;
          this.stopChannelTimer(ch);
          ch.clear(~(F_CREDIT_FLOW | F_INCOMING));
          ch.waiting_for_can_send_now = false;
          this.emitFinalFor(ch, before, accepted, ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES);
        }
        this.requestSend(mux);
        return;
      case RFCOMM_UIH:
        if (ch) this.onUih(mux, ch, packet);
        return;
      default:
        return;
    }
  }

  private onSabm(mux: RfcommMultiplexer, ch: RfcommChannel | null, dlci: number): void {
    if (!ch) {
      const nc = this.createIncoming(mux, dlci);
      if (!nc) {
        this.requestSend(mux);
        return;
      }
      // no PN: TS 07.10 defaults, no credit-based flow control
      if (nc.max_frame_size > RFCOMM_DEFAULT_MAX_FRAME_SIZE) nc.max_frame_size = RFCOMM_DEFAULT_MAX_FRAME_SIZE;
      nc.set(F_RCVD_SABM);
      this.events.incoming_connection(nc.handler, mux.addr, nc.server_channel, nc.rfcomm_cid, mux.con_handle);
      return;
    }
    if (ch.state === CH_INCOMING_SETUP) {
      if (!ch.has(F_RCVD_PN) && ch.max_frame_size > RFCOMM_DEFAULT_MAX_FRAME_SIZE) ch.max_frame_size = RFCOMM_DEFAULT_MAX_FRAME_SIZE;
      ch.set(F_RCVD_SABM);
      if (ch.has(F_ACCEPTED)) {
        ch.set(F_SEND_UA);
        this.requestSend(mux);
      }
    } else if (ch.has(F_INCOMING) && (ch.state === CH_DLC_SETUP || ch.state === CH_OPEN)) {
      ch.set(F_SEND_UA); // repeated SABM on an established DLC: UA again
      this.requestSend(mux);
    } else {
      this.log.info(() => `RFCOMM: SABM for DLCI ${dlci} in channel state ${ch.state} ignored`);
    }
  }

  private onUih(mux: RfcommMultiplexer, ch: RfcommChannel, packet: Uint8Array): void {
    const f = this.frame;
    if (ch.state !== CH_OPEN && ch.state !== CH_DLC_SETUP) {
      this.log.info(() => `RFCOMM: UIH on DLCI ${ch.dlci} before it is established, discarded`);
      return;
    }
    const credit = ch.has(F_CREDIT_FLOW);
    if (f.credits > 0 && credit) {
      const before = ch.credits_outgoing;
      ch.credits_outgoing = Math.min(RFCOMM_MAX_OUTGOING_CREDITS, before + f.credits);
      if (before + f.credits > RFCOMM_MAX_OUTGOING_CREDITS) this.log.info(() => `RFCOMM: credits for DLCI ${ch.dlci} clamped at ${RFCOMM_MAX_OUTGOING_CREDITS}`);
      if (ch.waiting_for_can_send_now) this.requestSend(mux);
    }
    if (f.info_len > 0) {
      if (f.info_len > ch.max_frame_size) {
        this.log.info(() => `RFCOMM: ${f.info_len} octets on DLCI ${ch.dlci} exceed the frame size ${ch.max_frame_size}, discarded`);
        return;
      }
      if (credit) {
        if (ch.credits_incoming === 0) {
          this.log.info(() => `RFCOMM: data on DLCI ${ch.dlci} without credits, discarded`);
          return;
        }
        ch.credits_incoming--;
      }
      const gen = ch.generation;
      const handler = ch.handler;
      if (handler) handler(RFCOMM_DATA_PACKET, ch.rfcomm_cid, packet.subarray(f.info_pos, f.info_pos + f.info_len), f.info_len);
      if (ch.generation !== gen) return;
      if (credit && !ch.incoming_flow_control && ch.state === CH_OPEN) {
        const outstanding = ch.credits_incoming + ch.new_credits_incoming;
        if (outstanding < RFCOMM_CREDITS_LOW_WATER) {
          ch.new_credits_incoming += RFCOMM_CREDITS - outstanding;
          this.requestSend(mux);
        }
      }
    }
  }

  /** DLC_SETUP -> OPEN once our MSC was answered and the initial credits are out. */
  private checkOpen(ch: RfcommChannel): void {
    if (ch.state !== CH_DLC_SETUP) return;
    if (!ch.has(F_SENT_MSC_CMD) || !ch.has(F_RCVD_MSC_RSP)) return;
    if (ch.has(F_CREDIT_FLOW) && ch.new_credits_incoming > 0) return;
    ch.state = CH_OPEN;
    this.stopChannelTimer(ch);
    const mux = ch.mux!;
    const gen = ch.generation;
    this.log.info(() => `RFCOMM_EVENT_CHANNEL_OPENED cid 0x${ch.rfcomm_cid.toString(16)} DLCI ${ch.dlci} frame size ${ch.max_frame_size}${ch.has(F_CREDIT_FLOW) ? '' : ' (no credit flow control)'}`);
    this.events.channel_opened(ch.handler, 0, mux.addr, mux.con_handle, ch.server_channel, ch.rfcomm_cid, ch.max_frame_size, ch.has(F_INCOMING));
    if (ch.generation !== gen || ch.state !== CH_OPEN) return;
    if (this.canSend(ch)) {
      ch.waiting_for_can_send_now = false;
      this.events.can_send_now(ch.handler, ch.rfcomm_cid);
      if (ch.generation !== gen || ch.state !== CH_OPEN) return;
    }
    if (this.codes.PROFILE === 'v1.4') this.events.port_configuration(ch.handler, ch.rfcomm_cid, false, ch.rpn_local);
    if (ch.generation === gen && (ch.hasWork() || ch.waiting_for_can_send_now)) this.requestSend(mux);
  }

  // ====================================================================== sending

  private requestSend(mux: RfcommMultiplexer): void {
    if (!mux.l2cap_open || mux.state === MUX_SHUTTING_DOWN) return;
    this.l2cap!.l2cap_request_can_send_now_event(mux.l2cap_cid);
  }

  private onCanSendNow(mux: RfcommMultiplexer): void {
    if (mux.busy) {
      mux.token_again = true;
      return;
    }
    const gen = mux.generation;
    mux.busy = true;
    let frames = 0;
    try {
      for (;;) {
        mux.token_again = false;
        const consumed = this.sendOne(mux);
        if (mux.generation !== gen || !mux.l2cap_open) return;
        if (!consumed && !mux.token_again) return;
        if (++frames >= MAX_FRAMES_PER_TOKEN) {
          // leave the rest to a later turn of the run loop
          this.run_loop.execute_on_main_thread(() => {
            if (mux.generation === gen) this.requestSend(mux);
          });
          return;
        }
        if (consumed) {
          this.requestSend(mux);
          if (mux.generation !== gen) return;
          if (!mux.token_again) return;
        }
      }
    } finally {
      if (mux.generation === gen) mux.busy = false;
    }
  }

  /** Send at most one frame (or emit one CAN_SEND_NOW); true when the opportunity was used. */
  private sendOne(mux: RfcommMultiplexer): boolean {
    if (mux.hasMuxWork()) return this.sendMuxWork(mux);
    if (mux.state !== MUX_OPEN) return false;
    const list = this.channels;
    const n = list.length;
    if (n === 0) return false;
    const start = mux.rr % n;
    for (let k = 0; k < n; k++) {
      const ch = list[(start + k) % n]!;
      if (ch.mux !== mux || !ch.hasWork()) continue;
      mux.rr = (start + k + 1) % n;
      this.sendChannelWork(ch);
      return true;
    }
    for (let k = 0; k < n; k++) {
      const ch = list[(start + k) % n]!;
      if (ch.mux !== mux || !ch.waiting_for_can_send_now || !this.canSend(ch)) continue;
      mux.rr = (start + k + 1) % n;
      ch.waiting_for_can_send_now = false;
      this.events.can_send_now(ch.handler, ch.rfcomm_cid);
      return true;
    }
    return false;
  }

  /**
   * Send a control frame from `ctl`. True when it went out, or failed for good (logged; the state
   * machine moves on rather than retrying a frame L2CAP will never take); false when L2CAP had
   * no buffer (BTSTACK_ACL_BUFFERS_FULL): the frame is tried again on the next CAN_SEND_NOW.
   */
  private sendCtl(mux: RfcommMultiplexer, size: number): boolean {
    if (size <= 0) {
      this.log.error(() => `RFCOMM: control frame could not be encoded (${size})`);
      return true;
    }
    const status = this.l2cap!.l2cap_send(mux.l2cap_cid, this.ctl, size);
    if (status === BTSTACK_ACL_BUFFERS_FULL) return false;
    if (status !== 0) this.log.error(() => `RFCOMM: l2cap_send failed with 0x${status.toString(16)}, frame dropped`);
    return true;
  }

  /** A multiplexer command in a UIH frame on DLCI 0 (`n` octets in mcmd). */
  private sendMcmd(mux: RfcommMultiplexer, n: number): boolean {
    if (n <= 0) return this.sendCtl(mux, n);
    return this.sendCtl(mux, rfcomm_encode_uih(this.ctl, 0, mux.initiator, 0, -1, this.mcmd, 0, n));
  }

  private sendMuxWork(mux: RfcommMultiplexer): boolean {
    const ctl = this.ctl;
    const dlci = mux.takeDm();
    if (dlci >= 0) {
      if (!this.sendCtl(mux, rfcomm_encode_dm(ctl, 0, mux.initiator, dlci, true))) mux.queueDm(dlci);
      return true;
    }
    if (mux.nsc_count > 0) {
      if (this.sendMcmd(mux, rfcomm_mux_encode_nsc(this.mcmd, 0, mux.nsc[0]!))) {
        mux.nsc.copyWithin(0, 1, mux.nsc_count);
        mux.nsc_count--;
      }
      return true;
    }
    if (mux.fc_response) {
      if (this.sendMcmd(mux, rfcomm_mux_encode_fc(this.mcmd, 0, false, mux.fc_response === 1))) {
        const on = mux.fc_response === 1;
        mux.fc_response = 0;
        if (on) for (const ch of this.channels) if (ch.mux === mux && ch.waiting_for_can_send_now) this.requestSend(mux);
      }
      return true;
    }
    switch (mux.state) {
      case MUX_SEND_SABM_0:
        if (this.sendCtl(mux, rfcomm_encode_sabm(ctl, 0, true, 0))) {
          mux.state = MUX_W4_UA_0;
          this.startMuxTimer(mux, this.response_timeout_ms);
        }
        return true;
      case MUX_SEND_UA_0:
        if (this.sendCtl(mux, rfcomm_encode_ua(ctl, 0, mux.initiator, 0))) this.muxOpened(mux);
        return true;
      case MUX_SEND_UA_0_AND_DISC:
        if (this.sendCtl(mux, rfcomm_encode_ua(ctl, 0, mux.initiator, 0))) this.shutdown(mux, RFCOMM_MULTIPLEXER_STOPPED);
        return true;
      case MUX_SEND_DISC_0:
        if (this.sendCtl(mux, rfcomm_encode_disc(ctl, 0, mux.initiator, 0))) {
          mux.state = MUX_W4_UA_0_AFTER_DISC;
          this.startMuxTimer(mux, this.response_timeout_ms);
        }
        return true;
      default:
        break;
    }
    if (mux.test_len >= 0) {
      if (this.sendMcmd(mux, rfcomm_mux_encode_test(this.mcmd, 0, false, mux.test_data, 0, mux.test_len))) mux.test_len = -1;
      return true;
    }
    if (mux.rpn_dlci >= 0) {
      rpnToStruct(this.rpn, mux.rpn_data);
      if (this.sendMcmd(mux, rfcomm_mux_encode_rpn(this.mcmd, 0, false, mux.rpn_dlci, this.rpn))) mux.rpn_dlci = -1;
      return true;
    }
    return false;
  }

  private sendChannelWork(ch: RfcommChannel): void {
    const mux = ch.mux!;
    const ctl = this.ctl;
    const mc = this.mcmd;
    switch (ch.state) {
      case CH_SEND_DM:
        if (this.sendCtl(mux, rfcomm_encode_dm(ctl, 0, mux.initiator, ch.dlci, true))) {
          const accepted = ch.has(F_ACCEPTED);
          const info = this.takeChannel(ch);
          if (accepted) this.events.channel_closed(info.handler, info.rfcomm_cid);
        }
        return;
      case CH_SEND_UIH_PN: {
        const pn = this.pn;
        // offer up to 7 initial credits in PN; the rest follows in a credit frame
        const total = ch.credits_incoming + ch.new_credits_incoming;
        const k = Math.min(7, total);
        fillPn(pn, ch.dlci, RFCOMM_PN_CL_CREDIT_REQUEST, ch.priority, ch.max_frame_size, k);
        if (this.sendMcmd(mux, rfcomm_mux_encode_pn(mc, 0, true, pn))) {
          ch.credits_incoming = k;
          ch.new_credits_incoming = total - k;
          ch.state = CH_W4_PN_RSP;
          this.startChannelTimer(ch);
        }
        return;
      }
      case CH_SEND_SABM_W4_UA:
        if (this.sendCtl(mux, rfcomm_encode_sabm(ctl, 0, mux.initiator, ch.dlci))) {
          ch.state = CH_W4_UA;
          this.startChannelTimer(ch);
        }
        return;
      case CH_SEND_DISC:
        if (this.sendCtl(mux, rfcomm_encode_disc(ctl, 0, mux.initiator, ch.dlci))) {
          ch.state = CH_W4_UA_AFTER_DISC;
          this.startChannelTimer(ch);
        }
        return;
      case CH_SEND_UA_AFTER_DISC:
        if (this.sendCtl(mux, rfcomm_encode_ua(ctl, 0, mux.initiator, ch.dlci))) this.takeChannel(ch);
        return;
      default:
        break;
    }
    if (ch.has(F_SEND_PN_RSP)) {
      const pn = this.pn;
      let k = 0;
      if (ch.has(F_CREDIT_FLOW) && ch.state !== CH_OPEN && ch.state !== CH_DLC_SETUP) {
        const total = ch.credits_incoming + ch.new_credits_incoming;
        k = Math.min(7, total);
        ch.credits_incoming = k;
        ch.new_credits_incoming = total - k;
      }
      fillPn(pn, ch.dlci, ch.has(F_CREDIT_FLOW) ? RFCOMM_PN_CL_CREDIT_ACCEPT : 0, ch.priority, ch.max_frame_size, k);
      if (this.sendMcmd(mux, rfcomm_mux_encode_pn(mc, 0, false, pn))) ch.clear(F_SEND_PN_RSP);
      return;
    }
    if (ch.has(F_SEND_UA)) {
      if (this.sendCtl(mux, rfcomm_encode_ua(ctl, 0, mux.initiator, ch.dlci))) {
        ch.clear(F_SEND_UA);
        if (ch.state === CH_INCOMING_SETUP) {
          ch.state = CH_DLC_SETUP;
          ch.set(F_SEND_MSC_CMD);
        }
      }
      return;
    }
    if (ch.has(F_SEND_MSC_CMD)) {
      if (this.sendMcmd(mux, rfcomm_mux_encode_msc(mc, 0, true, ch.dlci, ch.msc_app))) {
        ch.clear(F_SEND_MSC_CMD);
        ch.set(F_SENT_MSC_CMD);
        this.startChannelTimer(ch);
      }
      return;
    }
    if (ch.has(F_SEND_MSC_RSP)) {
      if (this.sendMcmd(mux, rfcomm_mux_encode_msc(mc, 0, false, ch.dlci, ch.msc_rsp))) ch.clear(F_SEND_MSC_RSP);
      return;
    }
    if (ch.has(F_CREDIT_FLOW) && ch.new_credits_incoming > 0 && (ch.state === CH_DLC_SETUP || ch.state === CH_OPEN)) {
      const n = Math.min(255, ch.new_credits_incoming);
      if (this.sendCtl(mux, rfcomm_encode_uih(ctl, 0, mux.initiator, ch.dlci, n, null))) {
        ch.new_credits_incoming -= n;
        ch.credits_incoming += n;
        this.checkOpen(ch);
      }
      return;
    }
    if (ch.has(F_SEND_RPN_RSP)) {
      rpnToStruct(this.rpn, ch.rpn_rsp);
      if (this.sendMcmd(mux, rfcomm_mux_encode_rpn(mc, 0, false, ch.dlci, this.rpn))) ch.clear(F_SEND_RPN_RSP);
      return;
    }
    if (ch.has(F_SEND_RLS_RSP)) {
      if (this.sendMcmd(mux, rfcomm_mux_encode_rls(mc, 0, false, ch.dlci, ch.rls_rsp))) ch.clear(F_SEND_RLS_RSP);
      return;
    }
    if (ch.has(F_SEND_MSC_APP)) {
      if (this.sendMcmd(mux, rfcomm_mux_encode_msc(mc, 0, true, ch.dlci, ch.msc_app))) ch.clear(F_SEND_MSC_APP);
      return;
    }
    if (ch.has(F_SEND_RLS_CMD)) {
      if (this.sendMcmd(mux, rfcomm_mux_encode_rls(mc, 0, true, ch.dlci, ch.rls_cmd))) ch.clear(F_SEND_RLS_CMD);
      return;
    }
    if (ch.has(F_SEND_RPN_CONFIG)) {
      rpnToStruct(this.rpn, ch.rpn_cfg);
      if (this.sendMcmd(mux, rfcomm_mux_encode_rpn(mc, 0, true, ch.dlci, this.rpn))) ch.clear(F_SEND_RPN_CONFIG);
      return;
    }
    if (ch.has(F_SEND_RPN_QUERY)) {
      if (this.sendMcmd(mux, rfcomm_mux_encode_rpn(mc, 0, true, ch.dlci, null))) ch.clear(F_SEND_RPN_QUERY);
      return;
    }
  }

  private checkSend(ch: RfcommChannel, len: number): number {
    if (ch.state !== CH_OPEN) return ERROR_CODE_COMMAND_DISALLOWED;
    if (len > ch.max_frame_size) return RFCOMM_DATA_LEN_EXCEEDS_MTU;
    const mux = ch.mux!;
    if (ch.has(F_CREDIT_FLOW)) {
      if (ch.credits_outgoing === 0) return RFCOMM_NO_OUTGOING_CREDITS;
    } else if (ch.has(F_REMOTE_FC)) {
      return RFCOMM_NO_OUTGOING_CREDITS;
    }
    if (!mux.fcon) return RFCOMM_AGGREGATE_FLOW_OFF;
    if (!this.l2cap!.l2cap_can_send_packet_now(mux.l2cap_cid)) return BTSTACK_ACL_BUFFERS_FULL;
    return 0;
  }

  private sendData(ch: RfcommChannel, buf: Uint8Array, size: number, len: number): number {
    const status = this.l2cap!.l2cap_send(ch.mux!.l2cap_cid, buf, size);
    if (status === 0 && len > 0 && ch.has(F_CREDIT_FLOW)) ch.credits_outgoing--;
    return status;
  }

  private canSend(ch: RfcommChannel): boolean {
    if (ch.state !== CH_OPEN) return false;
    const mux = ch.mux!;
    if (!mux.fcon) return false;
    if (ch.has(F_CREDIT_FLOW) ? ch.credits_outgoing === 0 : ch.has(F_REMOTE_FC)) return false;
    return this.l2cap!.l2cap_can_send_packet_now(mux.l2cap_cid);
  }

  // ====================================================================== multiplexer life cycle

  private muxOpened(mux: RfcommMultiplexer): void {
    mux.state = MUX_OPEN;
    this.log.info(() => `RFCOMM multiplexer with ${bd_addr_to_str(mux.addr)} open (${mux.initiator ? 'initiator' : 'responder'})`);
    let any = false;
    for (const ch of this.channels) {
      if (ch.mux !== mux) continue;
      any = true;
      if (ch.state === CH_W4_MULTIPLEXER) ch.state = CH_SEND_UIH_PN;
    }
    if (!any) this.startMuxTimer(mux, this.multiplexer_timeout_ms);
    this.requestSend(mux);
  }

  /** Finalize every DLC and close the L2CAP channel; the multiplexer is freed when L2CAP reports it closed. */
  private shutdown(mux: RfcommMultiplexer, status: number): void {
    const gen = mux.generation;
    mux.state = MUX_SHUTTING_DOWN;
    this.finalizeChannels(mux, status);
    if (mux.generation !== gen || mux.state !== MUX_SHUTTING_DOWN) return;
    this.startMuxTimer(mux, RFCOMM_SHUTDOWN_TIMEOUT_MS);
    if (mux.l2cap_open) this.l2cap!.l2cap_disconnect(mux.l2cap_cid);
  }

  private finalizeChannels(mux: RfcommMultiplexer, status: number): void {
    for (;;) {
      const ch = this.channels.find((c) => c.mux === mux);
      if (!ch) return;
      this.emitFinal(this.takeChannel(ch, false), status);
    }
  }

  private onMuxTimer(mux: RfcommMultiplexer): void {
    switch (mux.state) {
      case MUX_OPEN:
        if (this.channels.some((c) => c.mux === mux)) return;
        this.log.info(() => `RFCOMM multiplexer with ${bd_addr_to_str(mux.addr)} idle, closing`);
        mux.state = MUX_SEND_DISC_0;
        this.requestSend(mux);
        return;
      case MUX_W4_UA_0:
        this.log.info(() => `RFCOMM: no UA for SABM 0 from ${bd_addr_to_str(mux.addr)}`);
        this.shutdown(mux, RFCOMM_MULTIPLEXER_STOPPED);
        return;
      case MUX_W4_SABM_0:
      case MUX_W4_UA_0_AFTER_DISC:
        this.shutdown(mux, RFCOMM_MULTIPLEXER_STOPPED);
        return;
      case MUX_SHUTTING_DOWN:
        this.log.error(() => `RFCOMM: L2CAP did not report the channel of ${bd_addr_to_str(mux.addr)} closed; freeing the multiplexer`);
        this.freeMux(mux);
        return;
      default:
        return;
    }
  }

  private startMuxTimer(mux: RfcommMultiplexer, ms: number): void {
    this.run_loop.remove_timer(mux.timer);
    this.run_loop.set_timer(mux.timer, ms);
    this.run_loop.add_timer(mux.timer);
  }

  private stopMuxTimer(mux: RfcommMultiplexer): void {
    this.run_loop.remove_timer(mux.timer);
  }

  private freeMux(mux: RfcommMultiplexer): void {
    if (!this.muxPool.owns(mux)) return;
    this.run_loop.remove_timer(mux.timer);
    const i = this.muxes.indexOf(mux);
    if (i >= 0) this.muxes.splice(i, 1);
    this.muxPool.free(mux);
  }

  // ====================================================================== channel life cycle

  private onChannelTimer(ch: RfcommChannel): void {
    if (!this.channelPool.owns(ch)) return;
    this.log.info(() => `RFCOMM: no response on DLCI ${ch.dlci} (channel state ${ch.state})`);
    if (ch.state === CH_W4_UA_AFTER_DISC) {
      const info = this.takeChannel(ch);
      this.events.channel_closed(info.handler, info.rfcomm_cid);
      return;
    }
    this.emitFinal(this.takeChannel(ch), ERROR_CODE_CONNECTION_TIMEOUT);
  }

  private startChannelTimer(ch: RfcommChannel): void {
    this.run_loop.remove_timer(ch.timer);
    this.run_loop.set_timer(ch.timer, this.response_timeout_ms);
    this.run_loop.add_timer(ch.timer);
  }

  private stopChannelTimer(ch: RfcommChannel): void {
    this.run_loop.remove_timer(ch.timer);
  }

  /** Remove and free a channel; returns what the final event needs. Starts the idle timer of a multiplexer left empty. */
  private takeChannel(ch: RfcommChannel, idle = true): ChannelInfo {
    const mux = ch.mux!;
    const info: ChannelInfo = {
      handler: ch.handler,
      rfcomm_cid: ch.rfcomm_cid,
      server_channel: ch.server_channel,
      max_frame_size: ch.max_frame_size,
      incoming: ch.has(F_INCOMING),
      accepted: ch.has(F_ACCEPTED),
      state: ch.state,
      mux,
    };
    this.run_loop.remove_timer(ch.timer);
    const i = this.channels.indexOf(ch);
    if (i >= 0) this.channels.splice(i, 1);
    this.channelPool.free(ch);
    if (idle && mux.state === MUX_OPEN && !this.channels.some((c) => c.mux === mux)) this.startMuxTimer(mux, this.multiplexer_timeout_ms);
    return info;
  }

  /** CHANNEL_CLOSED for a DLC that was open (or closing at our request), CHANNEL_OPENED with `status` otherwise. */
  private emitFinal(info: ChannelInfo, status: number): void {
    this.emitFinalState(info.handler, info.mux, info.state, info.accepted, info.rfcomm_cid, info.server_channel, info.max_frame_size, info.incoming, status);
  }

  private emitFinalFor(ch: RfcommChannel, state: number, accepted: boolean, status: number): void {
    this.emitFinalState(ch.handler, ch.mux!, state, accepted, ch.rfcomm_cid, ch.server_channel, ch.max_frame_size, ch.has(F_INCOMING), status);
  }

  private emitFinalState(
    handler: RfcommPacketHandler | null,
    mux: RfcommMultiplexer,
    state: number,
    accepted: boolean,
    cid: number,
    server_channel: number,
    max_frame_size: number,
    incoming: boolean,
    status: number,
  ): void {
    switch (state) {
      case CH_OPEN:
      case CH_SEND_DISC:
      case CH_W4_UA_AFTER_DISC:
        this.events.channel_closed(handler, cid);
        return;
      case CH_SEND_UA_AFTER_DISC:
        return; // CHANNEL_CLOSED went out when the DISC came in
      case CH_SEND_DM:
        if (accepted) this.events.channel_closed(handler, cid);
        return; // declined: the application knows
      default:
        break;
    }
    // not open yet (also an incoming DLC the application has not answered): CHANNEL_OPENED with the status
    this.events.channel_opened(handler, status, mux.addr, mux.con_handle, server_channel, cid, max_frame_size, incoming);
  }

  // ====================================================================== lookups

  private channelForCid(cid: number): RfcommChannel | null {
    for (const ch of this.channels) if (ch.rfcomm_cid === cid) return ch;
    return null;
  }

  private channelFor(mux: RfcommMultiplexer, dlci: number): RfcommChannel | null {
    for (const ch of this.channels) if (ch.mux === mux && ch.dlci === dlci) return ch;
    return null;
  }

  private serviceFor(server_channel: number): RfcommService | null {
    for (const s of this.services) if (s.server_channel === server_channel) return s;
    return null;
  }

  /** The multiplexer with `addr` that can take new DLCs (not closing down). */
  private muxForAddr(addr: BdAddr): RfcommMultiplexer | null {
    for (const m of this.muxes) {
      if (m.state === MUX_SHUTTING_DOWN || m.state === MUX_W4_UA_0_AFTER_DISC || m.state === MUX_SEND_UA_0_AND_DISC || m.state === MUX_CLOSED) continue;
      if (bd_addr_cmp(m.addr, addr) === 0) return m;
    }
    return null;
  }

  private muxForL2capCid(cid: number): RfcommMultiplexer | null {
    if (!cid) return null;
    for (const m of this.muxes) if (m.l2cap_cid === cid) return m;
    return null;
  }

  private nextCid(): number {
    do {
      this.cidGenerator = this.cidGenerator >= 0xffff ? 1 : this.cidGenerator + 1;
    } while (this.channelForCid(this.cidGenerator));
    return this.cidGenerator;
  }

  private requireL2cap(): RfcommL2cap {
    if (!this.l2cap) throw new Error('RFCOMM: no L2CAP layer (create the stack\'s L2CAP first or pass one to new Rfcomm)');
    return this.l2cap;
  }

  private l2capMaxMtu(fallback: number): number {
    const m = this.l2cap?.l2cap_max_mtu?.();
    return typeof m === 'number' && m > 0 ? m : fallback;
  }
}

interface ChannelInfo {
  handler: RfcommPacketHandler | null;
  rfcomm_cid: number;
  server_channel: number;
  max_frame_size: number;
  incoming: boolean;
  accepted: boolean;
  state: number;
  mux: RfcommMultiplexer;
}

/** Largest information field for an L2CAP MTU: address, control, two length octets and FCS around it. */
function frameSizeForMtu(mtu: number): number {
  return Math.max(1, Math.min(RFCOMM_MAX_INFORMATION_SIZE, mtu - RFCOMM_FRAME_OVERHEAD));
}

function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new TypeError(`RFCOMM: ${name} must be an integer 0-255, got ${String(v)}`);
}

function fillPn(pn: RfcommPn, dlci: number, cl: number, priority: number, max_frame_size: number, credits: number): void {
  pn.dlci = dlci;
  pn.cl = cl;
  pn.priority = priority;
  pn.ack_timer = 0;
  pn.max_frame_size = max_frame_size;
  pn.max_retransmissions = 0;
  pn.credits = credits;
}

function rpnFromCommand(out: Uint8Array, cmd: RfcommMuxCommand): void {
  out[0] = cmd.baud_rate;
  out[1] = cmd.flags;
  out[2] = cmd.flow_control;
  out[3] = cmd.xon;
  out[4] = cmd.xoff;
  out[5] = cmd.parameter_mask_0;
  out[6] = cmd.parameter_mask_1;
}

function rpnToStruct(out: RfcommRpn, d: Uint8Array): void {
  out.baud_rate = d[0]!;
  out.flags = d[1]!;
  out.flow_control = d[2]!;
  out.xon = d[3]!;
  out.xoff = d[4]!;
  out.parameter_mask_0 = d[5]!;
  out.parameter_mask_1 = d[6]!;
}

/**
 * Apply the settings of an RPN command whose parameter-mask bits are set (TS 07.10 5.4.6.3.9):
 * mask 0 bit 0 baud, 1 data bits, 2 stop bits, 3 parity, 4 parity type, 5 XON, 6 XOFF; mask 1
 * bits 0-5 the flow-control bits of the same number. The masks are kept (the response carries them).
 */
function rpnUpdate(dst: Uint8Array, src: Uint8Array): void {
  const m0 = src[5]!;
  const m1 = src[6]!;
  if (m0 & 0x01) dst[0] = src[0]!;
  let flags = dst[1]!;
  if (m0 & 0x02) flags = (flags & ~0x03) | (src[1]! & 0x03);
  if (m0 & 0x04) flags = (flags & ~0x04) | (src[1]! & 0x04);
  if (m0 & 0x08) flags = (flags & ~0x08) | (src[1]! & 0x08);
  if (m0 & 0x10) flags = (flags & ~0x30) | (src[1]! & 0x30);
  dst[1] = flags;
  dst[2] = (dst[2]! & ~(m1 & 0x3f)) | (src[2]! & m1 & 0x3f);
  if (m0 & 0x20) dst[3] = src[3]!;
  if (m0 & 0x40) dst[4] = src[4]!;
  dst[5] = m0;
  dst[6] = m1;
}
