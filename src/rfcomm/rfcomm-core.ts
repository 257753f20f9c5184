/**
 * The RFCOMM layer's state: pools and lists of services, multiplexers and DLCs, timers, and the
 * life cycle of multiplexers and channels with their final events. Layered as classes:
 * RfcommCore <- RfcommOutput (send side, rfcomm-output.ts) <- RfcommInput (receive side,
 * rfcomm-input.ts) <- Rfcomm (the BTstack API, rfcomm.ts).
 */
import { bd_addr_cmp, bd_addr_to_str, type BdAddr } from '../core/bytes.js';
import type { Logger } from '../core/log.js';
import type { Pool } from '../core/pool.js';
import type { RunLoop, Timer } from '../core/run-loop.js';
import type { Codes } from '../codes/index.js';
import { ERROR_CODE_CONNECTION_TIMEOUT, LEVEL_0, RFCOMM_CREDITS, RFCOMM_DATA_PACKET, RFCOMM_MULTIPLEXER_STOPPED } from '../codes/v1.4.js';
import { HOLD_DATA_OFFSET, holdDropFirst, holdFirstLen } from './hold.js';
import { RfcommFrame, RFCOMM_MAX_INFORMATION_SIZE } from './frames.js';
import { RfcommMuxCommand, type RfcommPn, type RfcommRpn } from './mux-commands.js';
import { type RfcommL2cap, type RfcommPacketHandler, type RfcommStackLike } from './rfcomm-l2cap.js';
import { RfcommEvents } from './rfcomm-events.js';
import { ViewCache } from './view-cache.js';
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
  F_CREDIT_FLOW,
  F_HOLD_FC,
  F_INCOMING,
  F_RCVD_MSC_RSP,
  F_REMOTE_FC,
  F_SEND_MSC_APP,
  F_SENT_MSC_CMD,
  MUX_CLOSED,
  MUX_OPEN,
  MUX_SEND_DISC_0,
  MUX_SEND_UA_0_AND_DISC,
  MUX_SHUTTING_DOWN,
  MUX_W4_SABM_0,
  MUX_W4_UA_0,
  MUX_W4_UA_0_AFTER_DISC,
  RFCOMM_TEST_DATA_MAX_LEN,
  preOpenRoom,
  RfcommChannel,
  RfcommMultiplexer,
  RfcommService,
} from './rfcomm-objects.js';

/** BTstack's RFCOMM_MULIPLEXER_TIMEOUT_MS: a multiplexer without DLCs is closed after this long. */
export const RFCOMM_MULTIPLEXER_TIMEOUT_MS = 60_000;
/** T1/T2 (RFCOMM spec 5.3, range 10-60 s): how long we wait for UA, PN and MSC responses. */
export const RFCOMM_RESPONSE_TIMEOUT_MS = 60_000;
/** How long a multiplexer waits for L2CAP to report its channel closed before freeing itself. */
export const RFCOMM_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Octets of an RFCOMM frame around the information field when no credit octet is sent. */
export const RFCOMM_FRAME_OVERHEAD = 5;
/** Automatic credits: grant more once the peer holds fewer than this. */
export const RFCOMM_CREDITS_LOW_WATER = RFCOMM_CREDITS >> 1;
/** Frames sent in one CAN_SEND_NOW handler before the rest is left to the next event. */
export const MAX_FRAMES_PER_TOKEN = 32;


export function isMuxOpen(mux: RfcommMultiplexer): boolean {
  return mux.state === MUX_OPEN;
}

export abstract class RfcommCore {
  readonly run_loop: RunLoop;
  readonly log: Logger;
  readonly codes: Codes;
  /** Security level asked of L2CAP for PSM 3 (BTstack's rfcomm_set_required_security_level). */
  security_level = LEVEL_0;
  /** Idle time after which a multiplexer without DLCs is closed (DISC on DLCI 0). */
  multiplexer_timeout_ms = RFCOMM_MULTIPLEXER_TIMEOUT_MS;
  /** T1/T2 response timer. */
  response_timeout_ms = RFCOMM_RESPONSE_TIMEOUT_MS;

  protected l2cap: RfcommL2cap | null;
  protected readonly events: RfcommEvents;
  protected readonly servicePool: Pool<RfcommService>;
  protected readonly muxPool: Pool<RfcommMultiplexer>;
  protected readonly channelPool: Pool<RfcommChannel>;
  protected readonly services: RfcommService[] = [];
  protected readonly muxes: RfcommMultiplexer[] = [];
  protected readonly channels: RfcommChannel[] = [];
  protected cidGenerator = 0;
  protected l2capRegistered = false;

  /** Largest information field we offer (L2CAP MTU - 5, at most 32767). */
  protected readonly maxInfo: number;
  /** Control frames (at most a Test echo). */
  protected readonly ctl = new Uint8Array(RFCOMM_TEST_DATA_MAX_LEN + 16);
  /** Multiplexer command scratch (the information field of a control frame). */
  protected readonly mcmd = new Uint8Array(RFCOMM_TEST_DATA_MAX_LEN + 8);
  /** rfcomm_send frames (allocated on first use). */
  protected outBuf: Uint8Array | null = null;
  /** Zero-copy frames (rfcomm_reserve_packet_buffer / rfcomm_get_outgoing_buffer / rfcomm_send_prepared), on first use. */
  protected appBuf: Uint8Array | null = null;
  protected appPayload: Uint8Array | null = null;
  protected appFrom1: Uint8Array | null = null;
  protected appReserved = false;
  /** rfcomm_get_outgoing_buffer's view into L2CAP's outgoing buffer (cached per buffer). */
  protected l2capOut: Uint8Array | null = null;
  protected l2capOutPayload: Uint8Array | null = null;
  /** Views of received data (one per L2CAP buffer and header size): no view per frame. */
  protected readonly rxViews = new ViewCache(4);
  /** Exact views of rfcomm_send payloads shorter than their array (one per buffer and length). */
  protected readonly txViews = new ViewCache(4);
  protected readonly frame = new RfcommFrame();
  protected readonly cmd = new RfcommMuxCommand();
  protected readonly pn: RfcommPn = { dlci: 0, cl: 0, priority: 0, ack_timer: 0, max_frame_size: 0, max_retransmissions: 0, credits: 0 };
  protected readonly rpn: RfcommRpn = { baud_rate: 0, flags: 0, flow_control: 0, xon: 0, xoff: 0, parameter_mask_0: 0, parameter_mask_1: 0 };
  protected readonly rpnTmp = new Uint8Array(7);

  protected readonly l2capHandler: RfcommPacketHandler = (packet_type, channel, packet, size) =>
    this.onL2capPacket(packet_type, channel, packet, size);
  protected readonly muxTimerHandler = (t: Timer): void => this.onMuxTimer(t.context as RfcommMultiplexer);
  protected readonly channelTimerHandler = (t: Timer): void => this.onChannelTimer(t.context as RfcommChannel);

  protected constructor(stack: RfcommStackLike, l2cap?: RfcommL2cap) {
    this.run_loop = stack.run_loop;
    this.log = stack.log;
    this.codes = stack.codes;
    this.l2cap = l2cap ?? ((stack.l2cap as RfcommL2cap | undefined) || null);
    this.events = new RfcommEvents(stack.codes, stack.dump ?? null);
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

  protected get out(): Uint8Array {
    return (this.outBuf ??= new Uint8Array(this.maxInfo + RFCOMM_FRAME_OVERHEAD + 1));
  }

  protected get app(): Uint8Array {
    if (!this.appBuf) {
      this.appBuf = new Uint8Array(this.maxInfo + RFCOMM_FRAME_OVERHEAD + 1);
      this.appPayload = this.appBuf.subarray(4);
      this.appFrom1 = this.appBuf.subarray(1);
    }
    return this.appBuf;
  }


  protected abstract onL2capPacket(packet_type: number, channel: number, packet: Uint8Array, size: number): void;

  /**
   * DLC_SETUP -> OPEN once our MSC was answered and the initial credits are out (those that may
   * be granted before the channel is open: preOpenRoom; the rest follow it). Events in BTstack's
   * order (CHANNEL_OPENED, CAN_SEND_NOW, v1.4: PORT_CONFIGURATION), then the data that arrived
   * before, in order (hold.ts).
   */
  protected checkOpen(ch: RfcommChannel): void {
    if (ch.state !== CH_DLC_SETUP) return;
    if (!ch.has(F_SENT_MSC_CMD) || !ch.has(F_RCVD_MSC_RSP)) return;
    if (ch.has(F_CREDIT_FLOW) && ch.new_credits_incoming > 0 && preOpenRoom(ch) > 0) return;
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
    if (ch.generation !== gen) return;
    this.deliverHeld(ch);
    if (ch.generation !== gen) return;
    if (ch.has(F_HOLD_FC)) {
      // we told the peer to stop (FC = 1) while the data waited: an MSC with FC = 0 lets it go on
      ch.clear(F_HOLD_FC);
      if (ch.state === CH_OPEN) ch.set(F_SEND_MSC_APP);
    }
    if (ch.state === CH_OPEN) this.refillCredits(ch);
    if (ch.generation === gen && (ch.hasWork() || ch.waiting_for_can_send_now)) this.requestSend(mux);
  }

  /** Hand the data held before CHANNEL_OPENED to the application, oldest first, while the channel stays open. */
  protected deliverHeld(ch: RfcommChannel): void {
    const gen = ch.generation;
    for (;;) {
      const len = holdFirstLen(ch);
      if (len < 0 || ch.state !== CH_OPEN) return;
      const handler = ch.handler;
      const hold = ch.hold!;
      // one view of the hold buffer serves every frame (each is moved to the front in turn)
      if (handler) handler(RFCOMM_DATA_PACKET, ch.rfcomm_cid, this.rxViews.view(hold, HOLD_DATA_OFFSET, hold.length), len);
      if (ch.generation !== gen) return;
      holdDropFirst(ch);
    }
  }

  /** Automatic credits: top the peer up to RFCOMM_CREDITS once it holds fewer than half. */
  protected refillCredits(ch: RfcommChannel): void {
    if (!ch.has(F_CREDIT_FLOW) || ch.incoming_flow_control || ch.state !== CH_OPEN) return;
    const outstanding = ch.credits_incoming + ch.new_credits_incoming;
    if (outstanding < RFCOMM_CREDITS_LOW_WATER) {
      ch.new_credits_incoming += RFCOMM_CREDITS - outstanding;
      this.requestSend(ch.mux!);
    }
  }

  // ====================================================================== channel creation

  protected initChannel(ch: RfcommChannel, mux: RfcommMultiplexer, dlci: number, handler: RfcommPacketHandler): void {
    ch.rfcomm_cid = this.nextCid();
    ch.dlci = dlci;
    ch.server_channel = dlci >> 1;
    ch.mux = mux;
    ch.handler = handler;
  }

  /** Channel for a PN/SABM on a DLCI we serve; null after queueing DM. */
  protected createIncoming(mux: RfcommMultiplexer, dlci: number): RfcommChannel | null {
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

  // ====================================================================== sending

  protected requestSend(mux: RfcommMultiplexer): void {
    if (!mux.l2cap_open || mux.state === MUX_SHUTTING_DOWN) return;
    this.l2cap!.l2cap_request_can_send_now_event(mux.l2cap_cid);
  }









  protected canSend(ch: RfcommChannel): boolean {
    if (ch.state !== CH_OPEN) return false;
    const mux = ch.mux!;
    if (!mux.fcon) return false;
    if (ch.has(F_CREDIT_FLOW) ? ch.credits_outgoing === 0 : ch.has(F_REMOTE_FC)) return false;
    return this.l2cap!.l2cap_can_send_packet_now(mux.l2cap_cid);
  }

  // ====================================================================== multiplexer life cycle

  protected muxOpened(mux: RfcommMultiplexer): void {
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
  protected shutdown(mux: RfcommMultiplexer, status: number): void {
    const gen = mux.generation;
    mux.state = MUX_SHUTTING_DOWN;
    this.finalizeChannels(mux, status);
    if (mux.generation !== gen || mux.state !== MUX_SHUTTING_DOWN) return;
    this.startMuxTimer(mux, RFCOMM_SHUTDOWN_TIMEOUT_MS);
    if (mux.l2cap_open) this.l2cap!.l2cap_disconnect(mux.l2cap_cid);
  }

  protected finalizeChannels(mux: RfcommMultiplexer, status: number): void {
    for (;;) {
      const ch = this.channels.find((c) => c.mux === mux);
      if (!ch) return;
      this.emitFinal(this.takeChannel(ch, false), status);
    }
  }

  protected onMuxTimer(mux: RfcommMultiplexer): void {
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

  protected startMuxTimer(mux: RfcommMultiplexer, ms: number): void {
    this.run_loop.remove_timer(mux.timer);
    this.run_loop.set_timer(mux.timer, ms);
    this.run_loop.add_timer(mux.timer);
  }

  protected stopMuxTimer(mux: RfcommMultiplexer): void {
    this.run_loop.remove_timer(mux.timer);
  }

  protected freeMux(mux: RfcommMultiplexer): void {
    if (!this.muxPool.owns(mux)) return;
    this.run_loop.remove_timer(mux.timer);
    const i = this.muxes.indexOf(mux);
    if (i >= 0) this.muxes.splice(i, 1);
    this.muxPool.free(mux);
  }

  // ====================================================================== channel life cycle

  protected onChannelTimer(ch: RfcommChannel): void {
    if (!this.channelPool.owns(ch)) return;
    this.log.info(() => `RFCOMM: no response on DLCI ${ch.dlci} (channel state ${ch.state})`);
    if (ch.state === CH_W4_UA_AFTER_DISC) {
      const info = this.takeChannel(ch);
      this.events.channel_closed(info.handler, info.rfcomm_cid);
      return;
    }
    this.emitFinal(this.takeChannel(ch), ERROR_CODE_CONNECTION_TIMEOUT);
  }

  protected startChannelTimer(ch: RfcommChannel): void {
    this.run_loop.remove_timer(ch.timer);
    this.run_loop.set_timer(ch.timer, this.response_timeout_ms);
    this.run_loop.add_timer(ch.timer);
  }

  protected stopChannelTimer(ch: RfcommChannel): void {
    this.run_loop.remove_timer(ch.timer);
  }

  /** Remove and free a channel; returns what the final event needs. Starts the idle timer of a multiplexer left empty. */
  protected takeChannel(ch: RfcommChannel, idle = true): ChannelInfo {
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
  protected emitFinal(info: ChannelInfo, status: number): void {
    this.emitFinalState(info.handler, info.mux, info.state, info.accepted, info.rfcomm_cid, info.server_channel, info.max_frame_size, info.incoming, status);
  }

  protected emitFinalFor(ch: RfcommChannel, state: number, accepted: boolean, status: number): void {
    this.emitFinalState(ch.handler, ch.mux!, state, accepted, ch.rfcomm_cid, ch.server_channel, ch.max_frame_size, ch.has(F_INCOMING), status);
  }

  protected emitFinalState(
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

  protected channelForCid(cid: number): RfcommChannel | null {
    for (const ch of this.channels) if (ch.rfcomm_cid === cid) return ch;
    return null;
  }

  protected channelFor(mux: RfcommMultiplexer, dlci: number): RfcommChannel | null {
    for (const ch of this.channels) if (ch.mux === mux && ch.dlci === dlci) return ch;
    return null;
  }

  protected serviceFor(server_channel: number): RfcommService | null {
    for (const s of this.services) if (s.server_channel === server_channel) return s;
    return null;
  }

  /** The multiplexer with `addr` that can take new DLCs (not closing down). */
  protected muxForAddr(addr: BdAddr): RfcommMultiplexer | null {
    for (const m of this.muxes) {
      if (m.state === MUX_SHUTTING_DOWN || m.state === MUX_W4_UA_0_AFTER_DISC || m.state === MUX_SEND_UA_0_AND_DISC || m.state === MUX_CLOSED) continue;
      if (bd_addr_cmp(m.addr, addr) === 0) return m;
    }
    return null;
  }

  protected muxForL2capCid(cid: number): RfcommMultiplexer | null {
    if (!cid) return null;
    for (const m of this.muxes) if (m.l2cap_cid === cid) return m;
    return null;
  }

  protected nextCid(): number {
    do {
      this.cidGenerator = this.cidGenerator >= 0xffff ? 1 : this.cidGenerator + 1;
    } while (this.channelForCid(this.cidGenerator));
    return this.cidGenerator;
  }

  protected requireL2cap(): RfcommL2cap {
    if (!this.l2cap) throw new Error('RFCOMM: no L2CAP layer (create the stack\'s L2CAP first or pass one to new Rfcomm)');
    return this.l2cap;
  }

  protected l2capMaxMtu(fallback: number): number {
    const m = this.l2cap?.l2cap_max_mtu?.();
    return typeof m === 'number' && m > 0 ? m : fallback;
  }
}

export interface ChannelInfo {
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
export function frameSizeForMtu(mtu: number): number {
  return Math.max(1, Math.min(RFCOMM_MAX_INFORMATION_SIZE, mtu - RFCOMM_FRAME_OVERHEAD));
}

export function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new TypeError(`RFCOMM: ${name} must be an integer 0-255, got ${String(v)}`);
}

export function fillPn(pn: RfcommPn, dlci: number, cl: number, priority: number, max_frame_size: number, credits: number): void {
  pn.dlci = dlci;
  pn.cl = cl;
  pn.priority = priority;
  pn.ack_timer = 0;
  pn.max_frame_size = max_frame_size;
  pn.max_retransmissions = 0;
  pn.credits = credits;
}

export function rpnFromCommand(out: Uint8Array, cmd: RfcommMuxCommand): void {
  out[0] = cmd.baud_rate;
  out[1] = cmd.flags;
  out[2] = cmd.flow_control;
  out[3] = cmd.xon;
  out[4] = cmd.xoff;
  out[5] = cmd.parameter_mask_0;
  out[6] = cmd.parameter_mask_1;
}

export function rpnToStruct(out: RfcommRpn, d: Uint8Array): void {
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
export function rpnUpdate(dst: Uint8Array, src: Uint8Array): void {
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
