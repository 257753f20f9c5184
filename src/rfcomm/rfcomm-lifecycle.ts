/**
 * RFCOMM life cycle: services, records taken from and returned to the pools, multiplexers and
 * DLCs opened and closed down, their final events (CHANNEL_OPENED with a status, CHANNEL_CLOSED),
 * the timers, and the step DLC_SETUP -> OPEN with the data held before it (hold.ts).
 */
import { bd_addr_copy, bd_addr_to_str, type BdAddr } from '../core/bytes.js';
import type { Timer } from '../core/run-loop.js';
import {
  BLUETOOTH_PROTOCOL_RFCOMM,
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_CONNECTION_TIMEOUT,
  ERROR_CODE_SUCCESS,
  RFCOMM_CHANNEL_ALREADY_REGISTERED,
  RFCOMM_CREDITS,
  RFCOMM_DATA_PACKET,
  RFCOMM_MULTIPLEXER_STOPPED,
} from '../codes/v1.4.js';
import type { L2capServicePacketHandler } from '../l2cap/l2cap-service.js';
import { RFCOMM_MAX_INFORMATION_SIZE, rfcomm_dlci_for_outgoing } from './frames.js';
import { HOLD_DATA_OFFSET, holdDropFirst, holdFirstLen } from './hold.js';
import {
  CH_DLC_SETUP,
  CH_INCOMING_SETUP,
  CH_OPEN,
  CH_CLOSED,
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
  F_SEND_MSC_APP,
  F_SENT_MSC_CMD,
  MUX_CLOSED,
  MUX_OPEN,
  MUX_SEND_DISC_0,
  MUX_SHUTTING_DOWN,
  MUX_W4_CONNECT,
  MUX_W4_SABM_0,
  MUX_W4_UA_0,
  MUX_W4_UA_0_AFTER_DISC,
  preOpenRoom,
  type RfcommChannel,
  type RfcommMultiplexer,
  type RfcommPacketHandler,
} from './rfcomm-objects.js';
import { RFCOMM_CREDITS_LOW_WATER, RFCOMM_SHUTDOWN_TIMEOUT_MS, type RfcommState } from './rfcomm-state.js';

/** What the life cycle needs from its siblings: the send side and the L2CAP handler of the receive side. */
export interface RfcommLifecyclePeers {
  /** Ask L2CAP for a CAN_SEND_NOW on the multiplexer's channel (rfcomm-output.ts). */
  requestSend(mux: RfcommMultiplexer): void;
  /** Whether the application may send on `ch` now (rfcomm-output.ts). */
  canSend(ch: RfcommChannel): boolean;
  /**
   * The handler L2CAP delivers PSM 3 events and data to (rfcomm-input.ts). A method, not a getter:
   * an accessor in the peers' object literal puts it in dictionary mode, slowing every peer call.
   */
  l2capHandler(): L2capServicePacketHandler;
}

/** What a final event needs of a channel that is already freed. */
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

export interface RfcommCreateChannelResult {
  /** ERROR_CODE_SUCCESS or a status; the outcome arrives later as RFCOMM_EVENT_CHANNEL_OPENED. */
  status: number;
  /** The new channel's rfcomm_cid (0 on failure). */
  rfcomm_cid: number;
}

export class RfcommLifecycle {
  /** muxTimerHandler bound to this component, made the first time it is handed out. */
  #muxTimerHandler: ((t: Timer) => void) | null = null;

  private muxTimerHandler(t: Timer): void {
    this.onMuxTimer(t.context as RfcommMultiplexer);
  }

  /** channelTimerHandler bound to this component, made the first time it is handed out. */
  #channelTimerHandler: ((t: Timer) => void) | null = null;

  private channelTimerHandler(t: Timer): void {
    this.onChannelTimer(t.context as RfcommChannel);
  }

  constructor(
    private readonly s: RfcommState,
    private readonly x: RfcommLifecyclePeers,
  ) {}

  // ====================================================================== services

  registerService(
    handler: RfcommPacketHandler,
    channel: number,
    max_frame_size: number,
    manual: boolean,
    initial_credits: number,
  ): number {
    const s = this.s;
    if (s.serviceFor(channel)) return RFCOMM_CHANNEL_ALREADY_REGISTERED;
    const svc = s.servicePool.get();
    if (!svc) return BTSTACK_MEMORY_ALLOC_FAILED;
    if (!s.l2capRegistered) {
      const status = s
        .requireL2cap()
        .l2cap_register_service(this.x.l2capHandler(), BLUETOOTH_PROTOCOL_RFCOMM, 0xffff, s.security_level);
      if (status !== 0) {
        s.servicePool.free(svc);
        return status;
      }
      s.l2capRegistered = true;
    }
    svc.handler = handler;
    svc.server_channel = channel;
    svc.max_frame_size = Math.min(max_frame_size, RFCOMM_MAX_INFORMATION_SIZE);
    svc.incoming_flow_control = manual;
    svc.initial_credits = initial_credits;
    s.services.push(svc);
    return ERROR_CODE_SUCCESS;
  }

  unregisterService(service_channel: number): void {
    const s = this.s;
    const i = s.services.findIndex((v) => v.server_channel === service_channel);
    if (i < 0) return;
    const svc = s.services[i]!;
    s.services.splice(i, 1);
    s.servicePool.free(svc);
    if (s.services.length === 0 && s.l2capRegistered) {
      s.l2capRegistered = false;
      s.l2cap?.l2cap_unregister_service(BLUETOOTH_PROTOCOL_RFCOMM);
    }
  }

  // ====================================================================== records

  /** A multiplexer from the pool (null when none is left), in the list. */
  newMux(addr: BdAddr, initiator: boolean): RfcommMultiplexer | null {
    const mux = this.s.muxPool.get();
    if (!mux) return null;
    mux.timer.handler = this.#muxTimerHandler ??= this.muxTimerHandler.bind(this);
    bd_addr_copy(mux.addr, addr);
    mux.initiator = initiator;
    mux.max_frame_size = this.s.maxInfo;
    this.s.muxes.push(mux);
    return mux;
  }

  /** A channel from the pool (null when none is left), not in the list yet. */
  newChannel(mux: RfcommMultiplexer, dlci: number, handler: RfcommPacketHandler): RfcommChannel | null {
    const ch = this.s.channelPool.get();
    if (!ch) return null;
    ch.timer.handler = this.#channelTimerHandler ??= this.channelTimerHandler.bind(this);
    ch.rfcomm_cid = this.s.nextCid();
    ch.dlci = dlci;
    ch.server_channel = dlci >> 1;
    ch.mux = mux;
    ch.handler = handler;
    return ch;
  }

  /** Open a DLC to `server_channel` on `addr` (the arguments are checked), on a new multiplexer when there is none. */
  createOutgoing(
    handler: RfcommPacketHandler,
    addr: BdAddr,
    server_channel: number,
    manual: boolean,
    initial_credits: number,
  ): RfcommCreateChannelResult {
    const s = this.s;
    const l2 = s.requireL2cap();
    let mux = s.muxForAddr(addr);
    let newMux = false;
    if (!mux) {
      mux = this.newMux(addr, true);
      if (!mux) return { status: BTSTACK_MEMORY_ALLOC_FAILED, rfcomm_cid: 0 };
      s.setMuxState(mux, MUX_W4_CONNECT, 'rfcomm_create_channel');
      newMux = true;
    }
    const dlci = rfcomm_dlci_for_outgoing(server_channel, mux.initiator);
    if (s.channelFor(mux, dlci)) {
      if (newMux) this.freeMux(mux, 'DLC exists');
      return { status: RFCOMM_CHANNEL_ALREADY_REGISTERED, rfcomm_cid: 0 };
    }
    const ch = this.newChannel(mux, dlci, handler);
    if (!ch) {
      if (newMux) this.freeMux(mux, 'no channel left');
      return { status: BTSTACK_MEMORY_ALLOC_FAILED, rfcomm_cid: 0 };
    }
    ch.incoming_flow_control = manual;
    ch.new_credits_incoming = initial_credits;
    ch.max_frame_size = mux.max_frame_size;
    s.channels.push(ch);
    if (mux.state === MUX_SEND_DISC_0) s.setMuxState(mux, MUX_OPEN, 'new DLC before the idle DISC'); // idle close-down not sent yet: keep the session
    if (mux.state === MUX_OPEN) this.stopMuxTimer(mux); // the idle timer (other states use it as a response timer)
    if (mux.state === MUX_OPEN) {
      s.setChannelState(ch, CH_SEND_UIH_PN, 'rfcomm_create_channel');
      this.x.requestSend(mux);
    } else {
      s.setChannelState(ch, CH_W4_MULTIPLEXER, 'rfcomm_create_channel');
      if (newMux) {
        const r = l2.l2cap_create_channel(this.x.l2capHandler(), addr, BLUETOOTH_PROTOCOL_RFCOMM, s.l2capMaxMtu(0xffff));
        if (r.status !== 0) {
          this.takeChannel(ch, 'l2cap_create_channel failed');
          this.freeMux(mux, 'l2cap_create_channel failed');
          return { status: r.status, rfcomm_cid: 0 };
        }
        if (r.local_cid) mux.l2cap_cid = r.local_cid;
      }
    }
    s.log.info(() => `RFCOMM create channel ${bd_addr_to_str(addr)} #${server_channel} cid 0x${ch.rfcomm_cid.toString(16)}`);
    return { status: ERROR_CODE_SUCCESS, rfcomm_cid: ch.rfcomm_cid };
  }

  /** Channel for a PN/SABM on a DLCI we serve; null after queueing DM. */
  createIncoming(mux: RfcommMultiplexer, dlci: number, why: string): RfcommChannel | null {
    const s = this.s;
    // our server channels carry direction bit 1 when we are the initiator, 0 when the responder
    const ours = dlci >= 2 && dlci <= 61 && (dlci & 1) === (mux.initiator ? 1 : 0);
    const service = ours ? s.serviceFor(dlci >> 1) : null;
    const ch = service ? this.newChannel(mux, dlci, service.handler!) : null;
    if (!service || !ch) {
      s.log.info(() => `RFCOMM DLCI ${dlci}: ${service ? 'no channel left' : 'no service'}, DM`);
      mux.queueDm(dlci);
      return null;
    }
    ch.set(F_INCOMING);
    ch.incoming_flow_control = service.incoming_flow_control;
    ch.new_credits_incoming = service.initial_credits;
    ch.max_frame_size = Math.min(service.max_frame_size, mux.max_frame_size);
    s.setChannelState(ch, CH_INCOMING_SETUP, why);
    s.channels.push(ch);
    this.stopMuxTimer(mux);
    return ch;
  }

  // ====================================================================== DLC_SETUP -> OPEN

  /**
   * DLC_SETUP -> OPEN once our MSC was answered and the initial credits are out (those that may
   * be granted before the channel is open: preOpenRoom; the rest follow it). Events in BTstack's
   * order (CHANNEL_OPENED, CAN_SEND_NOW, v1.4: PORT_CONFIGURATION), then the data that arrived
   * before, in order (hold.ts).
   */
  checkOpen(ch: RfcommChannel): void {
    const s = this.s;
    const state: number = ch.state; // not narrowed: the handlers called below may change ch.state
    if (state !== CH_DLC_SETUP) return;
    if (!ch.has(F_SENT_MSC_CMD) || !ch.has(F_RCVD_MSC_RSP)) return;
    if (ch.has(F_CREDIT_FLOW) && ch.new_credits_incoming > 0 && preOpenRoom(ch) > 0) return;
    s.setChannelState(ch, CH_OPEN, 'MSC exchanged');
    this.stopChannelTimer(ch);
    const mux = ch.mux!;
    const gen = ch.generation;
    s.log.info(
      () =>
        `RFCOMM_EVENT_CHANNEL_OPENED cid 0x${ch.rfcomm_cid.toString(16)} DLCI ${ch.dlci} frame size ${ch.max_frame_size}${ch.has(F_CREDIT_FLOW) ? '' : ' (no credit flow control)'}`,
    );
    s.events.channel_opened(
      ch.handler,
      0,
      mux.addr,
      mux.con_handle,
      ch.server_channel,
      ch.rfcomm_cid,
      ch.max_frame_size,
      ch.has(F_INCOMING),
    );
    if (ch.generation !== gen || ch.state !== CH_OPEN) return;
    if (this.x.canSend(ch)) {
      ch.waiting_for_can_send_now = false;
      s.events.can_send_now(ch.handler, ch.rfcomm_cid);
      if (ch.generation !== gen || ch.state !== CH_OPEN) return;
    }
    if (s.codes.PROFILE === 'v1.4') s.events.port_configuration(ch.handler, ch.rfcomm_cid, false, ch.rpn_local);
    if (ch.generation !== gen) return;
    this.deliverHeld(ch);
    if (ch.generation !== gen) return;
    if (ch.has(F_HOLD_FC)) {
      // we told the peer to stop (FC = 1) while the data waited: an MSC with FC = 0 lets it go on
      ch.clear(F_HOLD_FC);
      if (ch.state === CH_OPEN) ch.set(F_SEND_MSC_APP);
    }
    if (ch.state === CH_OPEN) this.refillCredits(ch);
    if (ch.generation === gen && (ch.hasWork() || ch.waiting_for_can_send_now)) this.x.requestSend(mux);
  }

  /** Hand the data held before CHANNEL_OPENED to the application, oldest first, while the channel stays open. */
  private deliverHeld(ch: RfcommChannel): void {
    const gen = ch.generation;
    for (;;) {
      const len = holdFirstLen(ch);
      if (len < 0 || ch.state !== CH_OPEN) return;
      const handler = ch.handler;
      const hold = ch.hold!;
      // one view of the hold buffer serves every frame (each is moved to the front in turn)
      if (handler) handler(RFCOMM_DATA_PACKET, ch.rfcomm_cid, this.s.rxViews.view(hold, HOLD_DATA_OFFSET, hold.length), len);
      if (ch.generation !== gen) return;
      holdDropFirst(ch);
    }
  }

  /** Automatic credits: top the peer up to RFCOMM_CREDITS once it holds fewer than half. */
  refillCredits(ch: RfcommChannel): void {
    if (!ch.has(F_CREDIT_FLOW) || ch.incoming_flow_control || ch.state !== CH_OPEN) return;
    const outstanding = ch.credits_incoming + ch.new_credits_incoming;
    if (outstanding < RFCOMM_CREDITS_LOW_WATER) {
      ch.new_credits_incoming += RFCOMM_CREDITS - outstanding;
      this.x.requestSend(ch.mux!);
    }
  }

  // ====================================================================== multiplexer life cycle

  muxOpened(mux: RfcommMultiplexer, why: string): void {
    const s = this.s;
    s.setMuxState(mux, MUX_OPEN, why);
    s.log.info(() => `RFCOMM multiplexer with ${bd_addr_to_str(mux.addr)} open (${mux.initiator ? 'initiator' : 'responder'})`);
    let any = false;
    for (const ch of s.channels) {
      if (ch.mux !== mux) continue;
      any = true;
      if (ch.state === CH_W4_MULTIPLEXER) s.setChannelState(ch, CH_SEND_UIH_PN, 'multiplexer open');
    }
    if (!any) this.startMuxTimer(mux, s.multiplexer_timeout_ms);
    this.x.requestSend(mux);
  }

  /** Finalize every DLC and close the L2CAP channel; the multiplexer is freed when L2CAP reports it closed. */
  shutdown(mux: RfcommMultiplexer, status: number, why: string): void {
    const gen = mux.generation;
    this.s.setMuxState(mux, MUX_SHUTTING_DOWN, why);
    this.finalizeChannels(mux, status, why);
    if (mux.generation !== gen || mux.state !== MUX_SHUTTING_DOWN) return;
    this.startMuxTimer(mux, RFCOMM_SHUTDOWN_TIMEOUT_MS);
    if (mux.l2cap_open) this.s.l2cap!.l2cap_disconnect(mux.l2cap_cid);
  }

  finalizeChannels(mux: RfcommMultiplexer, status: number, why: string): void {
    for (;;) {
      const ch = this.s.channels.find((c) => c.mux === mux);
      if (!ch) return;
      this.emitFinal(this.takeChannel(ch, why, false), status);
    }
  }

  private onMuxTimer(mux: RfcommMultiplexer): void {
    const s = this.s;
    switch (mux.state) {
      case MUX_OPEN:
        if (s.hasChannels(mux)) return;
        s.log.info(() => `RFCOMM multiplexer with ${bd_addr_to_str(mux.addr)} idle, closing`);
        s.setMuxState(mux, MUX_SEND_DISC_0, 'idle');
        this.x.requestSend(mux);
        return;
      case MUX_W4_UA_0:
        s.log.info(() => `RFCOMM: no UA for SABM 0 from ${bd_addr_to_str(mux.addr)}`);
        this.shutdown(mux, RFCOMM_MULTIPLEXER_STOPPED, 'timeout');
        return;
      case MUX_W4_SABM_0:
      case MUX_W4_UA_0_AFTER_DISC:
        this.shutdown(mux, RFCOMM_MULTIPLEXER_STOPPED, 'timeout');
        return;
      case MUX_SHUTTING_DOWN:
        s.log.error(
          () => `RFCOMM: L2CAP did not report the channel of ${bd_addr_to_str(mux.addr)} closed; freeing the multiplexer`,
        );
        this.freeMux(mux, 'timeout');
        return;
      default:
        return;
    }
  }

  startMuxTimer(mux: RfcommMultiplexer, ms: number): void {
    const rl = this.s.run_loop;
    rl.remove_timer(mux.timer);
    rl.set_timer(mux.timer, ms);
    rl.add_timer(mux.timer);
  }

  stopMuxTimer(mux: RfcommMultiplexer): void {
    this.s.run_loop.remove_timer(mux.timer);
  }

  freeMux(mux: RfcommMultiplexer, why: string): void {
    const s = this.s;
    if (!s.muxPool.owns(mux)) return;
    s.run_loop.remove_timer(mux.timer);
    s.setMuxState(mux, MUX_CLOSED, why);
    const i = s.muxes.indexOf(mux);
    if (i >= 0) s.muxes.splice(i, 1);
    s.muxPool.free(mux);
  }

  // ====================================================================== channel life cycle

  private onChannelTimer(ch: RfcommChannel): void {
    const s = this.s;
    if (!s.channelPool.owns(ch)) return;
    s.log.info(() => `RFCOMM: no response on DLCI ${ch.dlci} (channel state ${ch.state})`);
    if (ch.state === CH_W4_UA_AFTER_DISC) {
      const info = this.takeChannel(ch, 'timeout');
      s.events.channel_closed(info.handler, info.rfcomm_cid);
      return;
    }
    this.emitFinal(this.takeChannel(ch, 'timeout'), ERROR_CODE_CONNECTION_TIMEOUT);
  }

  startChannelTimer(ch: RfcommChannel): void {
    const rl = this.s.run_loop;
    rl.remove_timer(ch.timer);
    rl.set_timer(ch.timer, this.s.response_timeout_ms);
    rl.add_timer(ch.timer);
  }

  stopChannelTimer(ch: RfcommChannel): void {
    this.s.run_loop.remove_timer(ch.timer);
  }

  /** Remove and free a channel (state CLOSED, `why` logged); returns what the final event needs. Starts the idle timer of a multiplexer left empty. */
  takeChannel(ch: RfcommChannel, why: string, idle = true): ChannelInfo {
    const s = this.s;
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
    s.run_loop.remove_timer(ch.timer);
    s.setChannelState(ch, CH_CLOSED, why);
    const i = s.channels.indexOf(ch);
    if (i >= 0) s.channels.splice(i, 1);
    s.channelPool.free(ch);
    if (idle && mux.state === MUX_OPEN && !s.hasChannels(mux)) this.startMuxTimer(mux, s.multiplexer_timeout_ms);
    return info;
  }

  /** CHANNEL_CLOSED for a DLC that was open (or closing at our request), CHANNEL_OPENED with `status` otherwise. */
  emitFinal(info: ChannelInfo, status: number): void {
    this.emitFinalState(
      info.handler,
      info.mux,
      info.state,
      info.accepted,
      info.rfcomm_cid,
      info.server_channel,
      info.max_frame_size,
      info.incoming,
      status,
    );
  }

  emitFinalFor(ch: RfcommChannel, state: number, accepted: boolean, status: number): void {
    this.emitFinalState(
      ch.handler,
      ch.mux!,
      state,
      accepted,
      ch.rfcomm_cid,
      ch.server_channel,
      ch.max_frame_size,
      ch.has(F_INCOMING),
      status,
    );
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
    const ev = this.s.events;
    switch (state) {
      case CH_OPEN:
      case CH_SEND_DISC:
      case CH_W4_UA_AFTER_DISC:
        ev.channel_closed(handler, cid);
        return;
      case CH_SEND_UA_AFTER_DISC:
        return; // CHANNEL_CLOSED went out when the DISC came in
      case CH_SEND_DM:
        if (accepted) ev.channel_closed(handler, cid);
        return; // declined: the application knows
      default:
        break;
    }
    // not open yet (also an incoming DLC the application has not answered): CHANNEL_OPENED with the status
    ev.channel_opened(handler, status, mux.addr, mux.con_handle, server_channel, cid, max_frame_size, incoming);
  }
}
