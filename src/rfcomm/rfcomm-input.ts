/**
 * The RFCOMM receive side: L2CAP events (incoming channel, opened, closed, can-send-now) and
 * L2CAP data, decoded frame by frame: DLCI 0 (session start-up and close-down, multiplexer
 * commands PN, MSC, RPN, RLS, Test, FCon/FCoff, NSC) and the DLCs (SABM, UA, DM, DISC, UIH data
 * and credits). Malformed input is discarded or answered as TS 07.10 / RFCOMM prescribe.
 */
import { bd_addr_cmp, bd_addr_copy, bd_addr_to_str } from '../core/bytes.js';
import {
  BLUETOOTH_PROTOCOL_RFCOMM,
  ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES,
  ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE,
  HCI_EVENT_PACKET,
  L2CAP_DATA_PACKET,
  RFCOMM_CREDITS,
  RFCOMM_DATA_PACKET,
  RFCOMM_MULTIPLEXER_STOPPED,
} from '../codes/v1.4.js';
import {
  RFCOMM_DEFAULT_MAX_FRAME_SIZE,
  RFCOMM_DISC,
  RFCOMM_DM,
  RFCOMM_SABM,
  RFCOMM_UA,
  RFCOMM_UIH,
  rfcomm_frame_decode,
  rfcomm_frame_peek_dlci,
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
} from './mux-commands.js';
import {
  CH_DLC_SETUP,
  CH_INCOMING_SETUP,
  CH_OPEN,
  CH_SEND_DM,
  CH_SEND_SABM_W4_UA,
  CH_SEND_UA_AFTER_DISC,
  CH_SEND_UIH_PN,
  CH_W4_PN_RSP,
  CH_W4_UA,
  CH_W4_UA_AFTER_DISC,
  F_ACCEPTED,
  F_CREDIT_FLOW,
  F_HOLD_FC,
  F_INCOMING,
  F_RCVD_MSC_RSP,
  F_RCVD_PN,
  F_RCVD_SABM,
  F_REMOTE_FC,
  F_SEND_MSC_APP,
  F_SEND_MSC_CMD,
  F_SEND_MSC_RSP,
  F_SEND_PN_RSP,
  F_SEND_RLS_RSP,
  F_SEND_RPN_RSP,
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
  RFCOMM_TEST_DATA_MAX_LEN,
  RfcommChannel,
  RfcommMultiplexer,
  rpn_set_defaults,
} from './rfcomm-objects.js';
import { rpnFromCommand, rpnUpdate, frameSizeForMtu } from './rfcomm-core.js';
import { holdNearlyFull, holdPut } from './hold.js';
import { RfcommOutput } from './rfcomm-output.js';

export abstract class RfcommInput extends RfcommOutput {
  // ====================================================================== L2CAP events and data

  protected onL2capPacket(packet_type: number, channel: number, packet: Uint8Array, size: number): void {
    if (packet_type === HCI_EVENT_PACKET) this.onL2capEvent(packet, Math.min(size, packet.length));
    else if (packet_type === L2CAP_DATA_PACKET) this.onL2capData(channel, packet, Math.min(size, packet.length));
  }

  protected onL2capEvent(packet: Uint8Array, size: number): void {
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

  protected onL2capOpened(ev: Uint8Array): void {
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
      // as BTstack: the failed CHANNEL_OPENED events carry the handle L2CAP reports (the ACL's
      // when it came up and only L2CAP was refused; L2CAP's 0xFFFF when there was no ACL)
      mux.con_handle = c.l2cap_event_channel_opened_get_handle(ev);
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

  protected onL2capData(l2cap_cid: number, packet: Uint8Array, size: number): void {
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

  protected onControlFrame(mux: RfcommMultiplexer, packet: Uint8Array): void {
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

  protected onMuxCommands(mux: RfcommMultiplexer, buf: Uint8Array, pos: number, len: number): void {
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

  protected onMuxCommand(mux: RfcommMultiplexer, cmd: RfcommMuxCommand, buf: Uint8Array): void {
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

  protected onPnCommand(mux: RfcommMultiplexer, pn: RfcommMuxCommand): void {
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
        if (pn.max_frame_size < 1) {
          this.refusePn(mux, ch);
          return;
        }
        this.applyPn(ch, pn, true);
        ch.set(F_RCVD_PN);
        if (ch.has(F_ACCEPTED)) ch.set(F_SEND_PN_RSP);
        break;
      case CH_SEND_UIH_PN:
      case CH_W4_PN_RSP:
        // both sides negotiate the same DLC: answer with what we can take
        if (pn.max_frame_size < 1) {
          this.refusePn(mux, ch);
          return;
        }
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

  /**
   * A PN command with N1 = 0 for a DLC in setup: no frame could ever be sent on it, and a PN
   * response may only offer an N1 up to the one proposed (RFCOMM 5.5.3, TS 07.10 5.4.6.3.1), so
   * nothing we could answer is acceptable. The DLC is refused with DM (F = 1, as a refused SABM,
   * TS 07.10 5.4.1; the same answer as to such a PN for a DLC we did not know yet) and the
   * application gets CHANNEL_OPENED with ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE (as
   * for a PN response with N1 = 0). BTstack takes N1 = 0 and answers a PN response with N1 0.
   */
  protected refusePn(mux: RfcommMultiplexer, ch: RfcommChannel): void {
    this.log.info(() => `RFCOMM: PN with frame size 0 for DLCI ${ch.dlci} in setup: DM`);
    mux.queueDm(ch.dlci);
    this.requestSend(mux);
    this.emitFinal(this.takeChannel(ch), ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE);
  }

  /** Take the peer's PN (command or response) into the channel. */
  protected applyPn(ch: RfcommChannel, pn: RfcommMuxCommand, command: boolean): void {
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

  protected onPnResponse(mux: RfcommMultiplexer, pn: RfcommMuxCommand): void {
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

  protected onMsc(mux: RfcommMultiplexer, cmd: RfcommMuxCommand): void {
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

  protected onRpn(mux: RfcommMultiplexer, cmd: RfcommMuxCommand): void {
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

  protected onDlcFrame(mux: RfcommMultiplexer, ch: RfcommChannel | null, dlci: number, packet: Uint8Array): void {
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
        if (ch) {
          this.onUih(mux, ch, packet);
        } else {
          // TS 07.10 5.3.3: a DLCI in disconnected mode accepts no command but SABM and reports
          // its state with DM (UIH frames are commands, RFCOMM 5.1.3). The F bit answers the P
          // bit (TS 07.10 5.2.1.3: F = 1 only in the response to a poll); BTstack drops the frame.
          this.log.info(() => `RFCOMM: UIH on DLCI ${dlci}, which is not open: DM`);
          mux.queueDm(dlci, f.pf);
          this.requestSend(mux);
        }
        return;
      default:
        return;
    }
  }

  protected onSabm(mux: RfcommMultiplexer, ch: RfcommChannel | null, dlci: number): void {
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

  protected onUih(mux: RfcommMultiplexer, ch: RfcommChannel, packet: Uint8Array): void {
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
        // the peer had no credit left for this frame: delivered all the same, as BTstack does
        // (RFCOMM tells the sender not to send without credits and the receiver nothing;
        // dropping would cut bytes out of the serial stream), the count stays at 0
        if (ch.credits_incoming === 0) this.log.info(() => `RFCOMM: data on DLCI ${ch.dlci} beyond the credits granted, delivered`);
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
      if (handler) handler(RFCOMM_DATA_PACKET, ch.rfcomm_cid, this.rxViews.view(packet, f.info_pos, packet.length), f.info_len);
      if (ch.generation !== gen) return;
      this.refillCredits(ch);
    }
  }

  /**
   * Data on a DLC whose SABM/UA exchange is done but which the application has not been told
   * about yet (CHANNEL_OPENED follows the MSC exchange): held in order, delivered right after
   * CHANNEL_OPENED (hold.ts, which also bounds it).
   */
  protected holdData(mux: RfcommMultiplexer, ch: RfcommChannel, packet: Uint8Array): void {
    const f = this.frame;
    if (!holdPut(ch, packet, f.info_pos, f.info_len)) {
      this.log.error(() => `RFCOMM: ${f.info_len} octets on DLCI ${ch.dlci} before the channel is open and the hold buffer is full (${ch.hold_count} frames): the peer ignores flow control, discarded`);
      return;
    }
    if (!ch.has(F_HOLD_FC) && holdNearlyFull(ch)) {
      // no credits to withhold: ask the peer to stop with FC = 1 in our MSC until the channel is open
      ch.set(F_HOLD_FC);
      if (ch.has(F_SENT_MSC_CMD)) ch.set(F_SEND_MSC_APP);
      this.requestSend(mux);
    }
  }

}
