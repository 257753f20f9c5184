/**
 * The RFCOMM receive side: L2CAP events (incoming channel, opened, closed, can-send-now) and
 * L2CAP data, decoded frame by frame: DLCI 0 (session start-up and close-down; the multiplexer
 * commands go to rfcomm-mux-input.ts) and the DLCs (SABM, UA, DM, DISC, UIH data and credits).
 * Malformed input is discarded or answered as TS 07.10 / RFCOMM prescribe.
 */
import { bd_addr_cmp, bd_addr_to_str, type BdAddr } from '../core/bytes.js';
import {
  BLUETOOTH_PROTOCOL_RFCOMM,
  ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES,
  HCI_EVENT_PACKET,
  L2CAP_DATA_PACKET,
  RFCOMM_DATA_PACKET,
  RFCOMM_MULTIPLEXER_STOPPED,
} from '../codes/v1.4.js';
import type { L2capServicePacketHandler } from '../l2cap/l2cap-service.js';
import {
  RfcommFrame,
  RFCOMM_DEFAULT_MAX_FRAME_SIZE,
  RFCOMM_DISC,
  RFCOMM_DM,
  RFCOMM_SABM,
  RFCOMM_UA,
  RFCOMM_UIH,
  rfcomm_frame_decode,
  rfcomm_frame_peek_dlci,
} from './frames.js';
import { holdNearlyFull, holdPut } from './hold.js';
import {
  CH_DLC_SETUP,
  CH_INCOMING_SETUP,
  CH_OPEN,
  CH_SEND_DM,
  CH_SEND_UA_AFTER_DISC,
  CH_W4_UA,
  CH_W4_UA_AFTER_DISC,
  F_ACCEPTED,
  F_CREDIT_FLOW,
  F_HOLD_FC,
  F_INCOMING,
  F_RCVD_PN,
  F_RCVD_SABM,
  F_SEND_MSC_APP,
  F_SEND_MSC_CMD,
  F_SEND_UA,
  F_SENT_MSC_CMD,
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
  frameSizeForMtu,
  type RfcommChannel,
  type RfcommMultiplexer,
} from './rfcomm-objects.js';
import type { ChannelInfo } from './rfcomm-lifecycle.js';
import type { RfcommState } from './rfcomm-state.js';

/** What the receive side needs of its siblings: the life cycle, the send side and the multiplexer commands. */
export interface RfcommInputPeers {
  // life cycle (rfcomm-lifecycle.ts)
  newMux(addr: BdAddr, initiator: boolean): RfcommMultiplexer | null;
  createIncoming(mux: RfcommMultiplexer, dlci: number, why: string): RfcommChannel | null;
  muxOpened(mux: RfcommMultiplexer, why: string): void;
  shutdown(mux: RfcommMultiplexer, status: number, why: string): void;
  finalizeChannels(mux: RfcommMultiplexer, status: number, why: string): void;
  freeMux(mux: RfcommMultiplexer, why: string): void;
  startMuxTimer(mux: RfcommMultiplexer, ms: number): void;
  stopMuxTimer(mux: RfcommMultiplexer): void;
  stopChannelTimer(ch: RfcommChannel): void;
  takeChannel(ch: RfcommChannel, why: string): ChannelInfo;
  emitFinal(info: ChannelInfo, status: number): void;
  emitFinalFor(ch: RfcommChannel, state: number, accepted: boolean, status: number): void;
  refillCredits(ch: RfcommChannel): void;
  // send side (rfcomm-output.ts)
  requestSend(mux: RfcommMultiplexer): void;
  onCanSendNow(mux: RfcommMultiplexer): void;
  // multiplexer commands (rfcomm-mux-input.ts)
  onMuxCommands(mux: RfcommMultiplexer, buf: Uint8Array, pos: number, len: number): void;
}

export class RfcommInput {
  /** The handler L2CAP delivers PSM 3 events and data to. */
  readonly l2capHandler: L2capServicePacketHandler = (packet_type, channel, packet, size) =>
    this.onL2capPacket(packet_type, channel, packet, size);
  private readonly frame = new RfcommFrame();

  constructor(
    private readonly s: RfcommState,
    private readonly x: RfcommInputPeers,
  ) {}

  // ====================================================================== L2CAP events and data

  private onL2capPacket(packet_type: number, channel: number, packet: Uint8Array, size: number): void {
    if (packet_type === HCI_EVENT_PACKET) this.onL2capEvent(packet, Math.min(size, packet.length));
    else if (packet_type === L2CAP_DATA_PACKET) this.onL2capData(channel, packet, Math.min(size, packet.length));
  }

  private onL2capEvent(packet: Uint8Array, size: number): void {
    if (size < 2) return;
    const c = this.s.codes;
    // the generated getters stop at the event's own length byte: no need to cut the packet
    const ev = packet;
    switch (packet[0]) {
      case c.L2CAP_EVENT_INCOMING_CONNECTION: {
        if (c.l2cap_event_incoming_connection_get_psm(ev) !== BLUETOOTH_PROTOCOL_RFCOMM) return;
        const cid = c.l2cap_event_incoming_connection_get_local_cid(ev);
        const addr = c.l2cap_event_incoming_connection_get_address(ev);
        const l2 = this.s.l2cap!;
        if (this.s.muxForAddr(addr)) {
          this.s.log.info(() => `RFCOMM: L2CAP from ${bd_addr_to_str(addr)} declined, a multiplexer exists`);
          l2.l2cap_decline_connection(cid);
          return;
        }
        const mux = this.x.newMux(addr, false);
        if (!mux) {
          this.s.log.info(() => `RFCOMM: L2CAP from ${bd_addr_to_str(addr)} declined, no multiplexer left`);
          l2.l2cap_decline_connection(cid);
          return;
        }
        mux.con_handle = c.l2cap_event_incoming_connection_get_handle(ev);
        mux.l2cap_cid = cid;
        this.s.setMuxState(mux, MUX_W4_SABM_0, 'L2CAP incoming');
        l2.l2cap_accept_connection(cid);
        return;
      }
      case c.L2CAP_EVENT_CHANNEL_OPENED:
        if (c.l2cap_event_channel_opened_get_psm(ev) === BLUETOOTH_PROTOCOL_RFCOMM) this.onL2capOpened(ev);
        return;
      case c.L2CAP_EVENT_CHANNEL_CLOSED: {
        const mux = this.s.muxForL2capCid(c.l2cap_event_channel_closed_get_local_cid(ev));
        if (!mux) return;
        this.s.log.info(() => `RFCOMM: L2CAP channel of ${bd_addr_to_str(mux.addr)} closed`);
        this.x.finalizeChannels(mux, RFCOMM_MULTIPLEXER_STOPPED, 'L2CAP closed');
        this.x.freeMux(mux, 'L2CAP closed');
        return;
      }
      case c.L2CAP_EVENT_CAN_SEND_NOW: {
        const mux = this.s.muxForL2capCid(c.l2cap_event_can_send_now_get_local_cid(ev));
        if (mux && mux.l2cap_open) this.x.onCanSendNow(mux);
        return;
      }
      default:
        return;
    }
  }

  private onL2capOpened(ev: Uint8Array): void {
    const c = this.s.codes;
    const status = c.l2cap_event_channel_opened_get_status(ev);
    const cid = c.l2cap_event_channel_opened_get_local_cid(ev);
    let mux = this.s.muxForL2capCid(cid);
    if (!mux) {
      const addr = c.l2cap_event_channel_opened_get_address(ev);
      mux =
        this.s.muxes.find((m) => m.state === MUX_W4_CONNECT && m.l2cap_cid === 0 && bd_addr_cmp(m.addr, addr) === 0) ??
        this.s.muxes.find((m) => m.state === MUX_SHUTTING_DOWN && m.l2cap_cid === 0 && bd_addr_cmp(m.addr, addr) === 0) ??
        null;
    }
    if (!mux) {
      this.s.log.error(() => `RFCOMM: L2CAP_EVENT_CHANNEL_OPENED for unknown cid 0x${cid.toString(16)}`);
      if (status === 0) this.s.l2cap!.l2cap_disconnect(cid);
      return;
    }
    if (status !== 0) {
      this.s.log.info(() => `RFCOMM: L2CAP to ${bd_addr_to_str(mux.addr)} failed, status 0x${status.toString(16)}`);
      // as BTstack: the failed CHANNEL_OPENED events carry the handle L2CAP reports (the ACL's
      // when it came up and only L2CAP was refused; L2CAP's 0xFFFF when there was no ACL)
      mux.con_handle = c.l2cap_event_channel_opened_get_handle(ev);
      this.s.setMuxState(mux, MUX_SHUTTING_DOWN, 'L2CAP failed');
      this.x.finalizeChannels(mux, status, 'L2CAP failed');
      this.x.freeMux(mux, 'L2CAP failed');
      return;
    }
    mux.l2cap_cid = cid;
    mux.l2cap_open = true;
    mux.con_handle = c.l2cap_event_channel_opened_get_handle(ev);
    if (mux.state === MUX_SHUTTING_DOWN) {
      // every DLC went away while L2CAP was connecting
      this.s.l2cap!.l2cap_disconnect(cid);
      return;
    }
    const mtu = Math.min(c.l2cap_event_channel_opened_get_local_mtu(ev), c.l2cap_event_channel_opened_get_remote_mtu(ev));
    mux.max_frame_size = Math.min(this.s.maxInfo, frameSizeForMtu(mtu));
    for (const ch of this.s.channels)
      if (ch.mux === mux && ch.max_frame_size > mux.max_frame_size) ch.max_frame_size = mux.max_frame_size;
    if (mux.state === MUX_W4_CONNECT) {
      this.s.setMuxState(mux, MUX_SEND_SABM_0, 'L2CAP open');
      this.x.requestSend(mux);
    } else {
      // responder: the initiator's SABM should follow; close the session if it never comes
      this.x.startMuxTimer(mux, this.s.multiplexer_timeout_ms);
    }
  }

  private onL2capData(l2cap_cid: number, packet: Uint8Array, size: number): void {
    const mux = this.s.muxForL2capCid(l2cap_cid);
    if (!mux || !mux.l2cap_open || mux.state === MUX_SHUTTING_DOWN) return;
    const dlci = rfcomm_frame_peek_dlci(packet, 0, size);
    const ch = dlci > 0 ? this.s.channelFor(mux, dlci) : null;
    const f = this.frame;
    const st = rfcomm_frame_decode(packet, 0, size, f, ch ? ch.has(F_CREDIT_FLOW) : true);
    if (st !== 'ok') {
      this.s.log.info(() => `RFCOMM: frame from ${bd_addr_to_str(mux.addr)} discarded (${st})`);
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
          this.x.stopMuxTimer(mux);
          this.s.setMuxState(mux, MUX_SEND_UA_0, 'SABM 0');
          this.x.requestSend(mux);
        } else {
          this.s.log.info(() => `RFCOMM: SABM 0 in multiplexer state ${mux.state} ignored`);
        }
        return;
      case RFCOMM_UA:
        if (mux.state === MUX_W4_UA_0) {
          this.x.stopMuxTimer(mux);
          this.x.muxOpened(mux, 'UA 0');
        } else if (mux.state === MUX_W4_UA_0_AFTER_DISC) {
          this.x.shutdown(mux, RFCOMM_MULTIPLEXER_STOPPED, 'UA 0 after DISC 0');
        }
        return;
      case RFCOMM_DM:
        if (
          mux.state === MUX_W4_UA_0 ||
          mux.state === MUX_OPEN ||
          mux.state === MUX_W4_UA_0_AFTER_DISC ||
          mux.state === MUX_SEND_DISC_0
        ) {
          this.s.log.info(() => `RFCOMM: DM on DLCI 0 from ${bd_addr_to_str(mux.addr)}, closing the multiplexer`);
          this.x.shutdown(mux, RFCOMM_MULTIPLEXER_STOPPED, 'DM 0');
        }
        return;
      case RFCOMM_DISC:
        if (mux.state === MUX_W4_SABM_0) {
          mux.queueDm(0); // disconnected mode: DISC gets DM
        } else if (
          mux.state === MUX_OPEN ||
          mux.state === MUX_SEND_DISC_0 ||
          mux.state === MUX_W4_UA_0_AFTER_DISC ||
          mux.state === MUX_W4_UA_0
        ) {
          this.x.stopMuxTimer(mux);
          this.s.setMuxState(mux, MUX_SEND_UA_0_AND_DISC, 'DISC 0');
        }
        this.x.requestSend(mux);
        return;
      case RFCOMM_UIH:
        if (mux.state !== MUX_OPEN) {
          this.s.log.info(() => `RFCOMM: UIH on DLCI 0 before the multiplexer is open, discarded`);
          return;
        }
        this.x.onMuxCommands(mux, packet, f.info_pos, f.info_len);
        return;
      default:
        return;
    }
  }

  // ====================================================================== DLCs

  private onDlcFrame(mux: RfcommMultiplexer, ch: RfcommChannel | null, dlci: number, packet: Uint8Array): void {
    const f = this.frame;
    if (mux.state !== MUX_OPEN) {
      // TS 07.10: in disconnected mode only SABM is accepted; DISC gets DM
      if (f.type === RFCOMM_DISC) {
        mux.queueDm(dlci);
        this.x.requestSend(mux);
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
          this.x.stopChannelTimer(ch);
          this.s.setChannelState(ch, CH_DLC_SETUP, 'UA');
          ch.set(F_SEND_MSC_CMD);
          this.x.requestSend(mux);
        } else if (ch.state === CH_W4_UA_AFTER_DISC) {
          const info = this.x.takeChannel(ch, 'UA after DISC');
          this.s.events.channel_closed(info.handler, info.rfcomm_cid);
        }
        return;
      case RFCOMM_DM:
        if (!ch || ch.state === CH_SEND_DM || ch.state === CH_SEND_UA_AFTER_DISC) return;
        this.s.log.info(() => `RFCOMM: DM for DLCI ${dlci}`);
        this.x.emitFinal(this.x.takeChannel(ch, 'DM'), ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES);
        return;
      case RFCOMM_DISC:
        if (!ch || ch.state === CH_SEND_DM) {
          mux.queueDm(dlci);
        } else if (ch.state !== CH_SEND_UA_AFTER_DISC) {
          const before = ch.state;
          const accepted = ch.has(F_ACCEPTED);
          this.s.setChannelState(ch, CH_SEND_UA_AFTER_DISC, 'DISC');
          this.x.stopChannelTimer(ch);
          ch.clear(~(F_CREDIT_FLOW | F_INCOMING));
          ch.waiting_for_can_send_now = false;
          this.x.emitFinalFor(ch, before, accepted, ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES);
        }
        this.x.requestSend(mux);
        return;
      case RFCOMM_UIH:
        if (ch) {
          this.onUih(mux, ch, packet);
        } else {
          // TS 07.10 5.3.3: a DLCI in disconnected mode accepts no command but SABM and reports
          // its state with DM (UIH frames are commands, RFCOMM 5.1.3). The F bit answers the P
          // bit (TS 07.10 5.2.1.3: F = 1 only in the response to a poll); BTstack drops the frame.
          this.s.log.info(() => `RFCOMM: UIH on DLCI ${dlci}, which is not open: DM`);
          mux.queueDm(dlci, f.pf);
          this.x.requestSend(mux);
        }
        return;
      default:
        return;
    }
  }

  private onSabm(mux: RfcommMultiplexer, ch: RfcommChannel | null, dlci: number): void {
    if (!ch) {
      const nc = this.x.createIncoming(mux, dlci, 'SABM');
      if (!nc) {
        this.x.requestSend(mux);
        return;
      }
      // no PN: TS 07.10 defaults, no credit-based flow control
      if (nc.max_frame_size > RFCOMM_DEFAULT_MAX_FRAME_SIZE) nc.max_frame_size = RFCOMM_DEFAULT_MAX_FRAME_SIZE;
      nc.set(F_RCVD_SABM);
      this.s.events.incoming_connection(nc.handler, mux.addr, nc.server_channel, nc.rfcomm_cid, mux.con_handle);
      return;
    }
    if (ch.state === CH_INCOMING_SETUP) {
      if (!ch.has(F_RCVD_PN) && ch.max_frame_size > RFCOMM_DEFAULT_MAX_FRAME_SIZE)
        ch.max_frame_size = RFCOMM_DEFAULT_MAX_FRAME_SIZE;
      ch.set(F_RCVD_SABM);
      if (ch.has(F_ACCEPTED)) {
        ch.set(F_SEND_UA);
        this.x.requestSend(mux);
      }
    } else if (ch.has(F_INCOMING) && (ch.state === CH_DLC_SETUP || ch.state === CH_OPEN)) {
      ch.set(F_SEND_UA); // repeated SABM on an established DLC: UA again
      this.x.requestSend(mux);
    } else {
      this.s.log.info(() => `RFCOMM: SABM for DLCI ${dlci} in channel state ${ch.state} ignored`);
    }
  }

  private onUih(mux: RfcommMultiplexer, ch: RfcommChannel, packet: Uint8Array): void {
    const f = this.frame;
    if (ch.state !== CH_OPEN && ch.state !== CH_DLC_SETUP) {
      this.s.log.info(() => `RFCOMM: UIH on DLCI ${ch.dlci} before it is established, discarded`);
      return;
    }
    const credit = ch.has(F_CREDIT_FLOW);
    if (f.credits > 0 && credit) {
      const before = ch.credits_outgoing;
      ch.credits_outgoing = Math.min(RFCOMM_MAX_OUTGOING_CREDITS, before + f.credits);
      if (before + f.credits > RFCOMM_MAX_OUTGOING_CREDITS)
        this.s.log.info(() => `RFCOMM: credits for DLCI ${ch.dlci} clamped at ${RFCOMM_MAX_OUTGOING_CREDITS}`);
      if (ch.waiting_for_can_send_now) this.x.requestSend(mux);
    }
    if (f.info_len > 0) {
      if (f.info_len > ch.max_frame_size) {
        this.s.log.info(
          () => `RFCOMM: ${f.info_len} octets on DLCI ${ch.dlci} exceed the frame size ${ch.max_frame_size}, discarded`,
        );
        return;
      }
      if (credit) {
        // the peer had no credit left for this frame: delivered all the same, as BTstack does
        // (RFCOMM tells the sender not to send without credits and the receiver nothing;
        // dropping would cut bytes out of the serial stream), the count stays at 0
        if (ch.credits_incoming === 0)
          this.s.log.info(() => `RFCOMM: data on DLCI ${ch.dlci} beyond the credits granted, delivered`);
        else ch.credits_incoming--;
      }
      if (ch.state === CH_DLC_SETUP) {
        this.holdData(mux, ch, packet);
        return;
      }
      const gen = ch.generation;
      const handler = ch.handler;
      // as BTstack's pointer into the L2CAP buffer: a view from the payload on (made once per
      // buffer and header size), `size` octets of which are the data
      if (handler) handler(RFCOMM_DATA_PACKET, ch.rfcomm_cid, this.s.rxViews.view(packet, f.info_pos, packet.length), f.info_len);
      if (ch.generation !== gen) return;
      this.x.refillCredits(ch);
    }
  }

  /**
   * Data on a DLC whose SABM/UA exchange is done but which the application has not been told
   * about yet (CHANNEL_OPENED follows the MSC exchange): held in order, delivered right after
   * CHANNEL_OPENED (hold.ts, which also bounds it).
   */
  private holdData(mux: RfcommMultiplexer, ch: RfcommChannel, packet: Uint8Array): void {
    const f = this.frame;
    if (!holdPut(ch, packet, f.info_pos, f.info_len)) {
      this.s.log.error(
        () =>
          `RFCOMM: ${f.info_len} octets on DLCI ${ch.dlci} before the channel is open and the hold buffer is full (${ch.hold_count} frames): the peer ignores flow control, discarded`,
      );
      return;
    }
    if (!ch.has(F_HOLD_FC) && holdNearlyFull(ch)) {
      // no credits to withhold: ask the peer to stop with FC = 1 in our MSC until the channel is open
      ch.set(F_HOLD_FC);
      if (ch.has(F_SENT_MSC_CMD)) ch.set(F_SEND_MSC_APP);
      this.x.requestSend(mux);
    }
  }
}
