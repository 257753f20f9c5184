/**
 * RFCOMM multiplexer commands in (UIH frames on DLCI 0 of an open multiplexer, TS 07.10 5.4.6):
 * PN (parameter negotiation, both directions of DLC setup), MSC, RPN, RLS, Test, FCon/FCoff and
 * NSC; unknown command types are queued for an NSC answer, malformed ones discarded.
 */
import { ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE } from '../codes/v1.4.js';
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
  CH_SEND_SABM_W4_UA,
  CH_SEND_UIH_PN,
  CH_W4_PN_RSP,
  F_ACCEPTED,
  F_CREDIT_FLOW,
  F_RCVD_MSC_RSP,
  F_RCVD_PN,
  F_REMOTE_FC,
  F_SEND_MSC_RSP,
  F_SEND_PN_RSP,
  F_SEND_RLS_RSP,
  F_SEND_RPN_RSP,
  F_SENT_MSC_CMD,
  MUX_OPEN,
  RFCOMM_TEST_DATA_MAX_LEN,
  type RfcommChannel,
  type RfcommMultiplexer,
  rpn_set_defaults,
  rpnFromCommand,
  rpnUpdate,
} from './rfcomm-objects.js';
import type { ChannelInfo } from './rfcomm-lifecycle.js';
import type { RfcommState } from './rfcomm-state.js';

/** What the multiplexer commands need of the send side and the life cycle. */
export interface RfcommMuxInputPeers {
  requestSend(mux: RfcommMultiplexer): void;
  createIncoming(mux: RfcommMultiplexer, dlci: number, why: string): RfcommChannel | null;
  takeChannel(ch: RfcommChannel, why: string): ChannelInfo;
  emitFinal(info: ChannelInfo, status: number): void;
  stopChannelTimer(ch: RfcommChannel): void;
  checkOpen(ch: RfcommChannel): void;
}

export class RfcommMuxInput {
  private readonly cmd = new RfcommMuxCommand();
  private readonly rpnTmp = new Uint8Array(7);

  constructor(
    private readonly s: RfcommState,
    private readonly x: RfcommMuxInputPeers,
  ) {}

  onMuxCommands(mux: RfcommMultiplexer, buf: Uint8Array, pos: number, len: number): void {
    const cmd = this.cmd;
    const end = pos + len;
    let p = pos;
    while (p < end && mux.state === MUX_OPEN) {
      const st = rfcomm_mux_decode(buf, p, end - p, cmd);
      const action = RFCOMM_MUX_ACTION[st];
      if (action === 'nsc') {
        if (mux.nsc_count < mux.nsc.length) mux.nsc[mux.nsc_count++] = cmd.type_octet;
        else this.s.log.info(() => `RFCOMM: NSC queue full, type 0x${cmd.type_octet.toString(16)} not answered`);
        this.x.requestSend(mux);
      } else if (action === 'discard') {
        this.s.log.info(() => `RFCOMM: multiplexer command discarded (${st})`);
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
        const ch = this.s.channelFor(mux, cmd.dlci);
        if (!ch || !cmd.command) return;
        if (ch.state !== CH_OPEN && ch.state !== CH_DLC_SETUP) return;
        ch.rls_rsp = cmd.line_status;
        ch.set(F_SEND_RLS_RSP);
        this.x.requestSend(mux);
        this.s.events.remote_line_status(ch.handler, ch.rfcomm_cid, cmd.line_status);
        return;
      }
      case RFCOMM_MUX_TEST:
        if (!cmd.command) return;
        // echo as much of the pattern as fits our buffer and the peer's MTU (type + 2 length octets)
        mux.test_len = Math.max(0, Math.min(cmd.value_len, RFCOMM_TEST_DATA_MAX_LEN, mux.max_frame_size - 3));
        mux.test_data.set(buf.subarray(cmd.value_pos, cmd.value_pos + mux.test_len));
        this.x.requestSend(mux);
        return;
      case RFCOMM_MUX_FCON:
      case RFCOMM_MUX_FCOFF:
        if (!cmd.command) return;
        mux.fcon = cmd.type === RFCOMM_MUX_FCON;
        mux.fc_response = mux.fcon ? 1 : 2;
        this.x.requestSend(mux);
        return;
      case RFCOMM_MUX_NSC:
        this.s.log.info(() => `RFCOMM: peer does not support command type 0x${cmd.nsc_type.toString(16)}`);
        return;
      default:
        return;
    }
  }

  private onPnCommand(mux: RfcommMultiplexer, pn: RfcommMuxCommand): void {
    const dlci = pn.dlci;
    if (dlci === 0) return;
    let ch = this.s.channelFor(mux, dlci);
    if (!ch) {
      if (pn.max_frame_size < 1) {
        mux.queueDm(dlci);
        this.x.requestSend(mux);
        return;
      }
      ch = this.x.createIncoming(mux, dlci, 'PN');
      if (!ch) {
        this.x.requestSend(mux);
        return;
      }
      this.applyPn(ch, pn, true);
      ch.set(F_RCVD_PN);
      this.s.events.incoming_connection(ch.handler, mux.addr, ch.server_channel, ch.rfcomm_cid, mux.con_handle);
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
    this.x.requestSend(mux);
  }

  /**
   * A PN command with N1 = 0 for a DLC in setup: no frame could ever be sent on it, and a PN
   * response may only offer an N1 up to the one proposed (RFCOMM 5.5.3, TS 07.10 5.4.6.3.1), so
   * nothing we could answer is acceptable. The DLC is refused with DM (F = 1, as a refused SABM,
   * TS 07.10 5.4.1; the same answer as to such a PN for a DLC we did not know yet) and the
   * application gets CHANNEL_OPENED with ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE (as
   * for a PN response with N1 = 0). BTstack takes N1 = 0 and answers a PN response with N1 0.
   */
  private refusePn(mux: RfcommMultiplexer, ch: RfcommChannel): void {
    this.s.log.info(() => `RFCOMM: PN with frame size 0 for DLCI ${ch.dlci} in setup: DM`);
    mux.queueDm(ch.dlci);
    this.x.requestSend(mux);
    this.x.emitFinal(this.x.takeChannel(ch, 'PN with N1 0'), ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE);
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
    const ch = this.s.channelFor(mux, pn.dlci);
    if (!ch || ch.state !== CH_W4_PN_RSP) return;
    this.x.stopChannelTimer(ch);
    if (pn.max_frame_size < 1) {
      this.s.log.info(() => `RFCOMM: PN response with frame size 0 for DLCI ${pn.dlci}`);
      const info = this.x.takeChannel(ch, 'PN response with N1 0');
      this.x.emitFinal(info, ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE);
      return;
    }
    this.applyPn(ch, pn, false);
    if (!ch.has(F_CREDIT_FLOW)) {
      // the credits offered in our PN do not apply
      ch.new_credits_incoming += ch.credits_incoming;
      ch.credits_incoming = 0;
    }
    this.s.setChannelState(ch, CH_SEND_SABM_W4_UA, 'PN response');
    this.x.requestSend(mux);
  }

  private onMsc(mux: RfcommMultiplexer, cmd: RfcommMuxCommand): void {
    const ch = this.s.channelFor(mux, cmd.dlci);
    if (!ch || (ch.state !== CH_DLC_SETUP && ch.state !== CH_OPEN)) {
      this.s.log.info(() => `RFCOMM: MSC for DLCI ${cmd.dlci} without an established DLC, discarded`);
      return;
    }
    if (cmd.command) {
      ch.msc_rsp = cmd.modem_status;
      const wasFc = ch.has(F_REMOTE_FC);
      if (cmd.modem_status & 0x02) ch.set(F_REMOTE_FC);
      else ch.clear(F_REMOTE_FC);
      ch.set(F_SEND_MSC_RSP);
      this.x.requestSend(mux);
      this.s.events.remote_modem_status(ch.handler, ch.rfcomm_cid, cmd.modem_status);
      if (wasFc && !ch.has(F_REMOTE_FC) && ch.waiting_for_can_send_now) this.x.requestSend(mux);
    } else if (ch.has(F_SENT_MSC_CMD) && !ch.has(F_RCVD_MSC_RSP)) {
      ch.set(F_RCVD_MSC_RSP);
      this.x.stopChannelTimer(ch);
      this.x.checkOpen(ch);
    }
  }

  private onRpn(mux: RfcommMultiplexer, cmd: RfcommMuxCommand): void {
    const ch = this.s.channelFor(mux, cmd.dlci);
    if (!cmd.command) {
      if (!ch || ch.state !== CH_OPEN || cmd.rpn_query) return;
      if (this.s.codes.PROFILE !== 'v1.4') {
        const r = this.rpnTmp;
        rpnFromCommand(r, cmd);
        this.s.events.port_configuration(ch.handler, ch.rfcomm_cid, true, r);
      }
      return;
    }
    if (!ch) {
      // "RPN may be used before a new DLC is opened": answer for a channel we serve, else DM
      const ours = cmd.dlci >= 2 && cmd.dlci <= 61 && (cmd.dlci & 1) === (mux.initiator ? 1 : 0);
      if (!ours || !this.s.serviceFor(cmd.dlci >> 1)) {
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
      this.x.requestSend(mux);
      return;
    }
    if (cmd.rpn_query) {
      ch.rpn_rsp.set(ch.rpn_local);
      ch.rpn_rsp[5] = ch.rpn_rsp[6] = 0; // nothing was set
    } else {
      rpnFromCommand(this.rpnTmp, cmd);
      rpnUpdate(ch.rpn_local, this.rpnTmp);
      ch.rpn_rsp.set(ch.rpn_local);
      if (ch.state === CH_OPEN || ch.state === CH_DLC_SETUP)
        this.s.events.port_configuration(ch.handler, ch.rfcomm_cid, false, ch.rpn_local);
    }
    ch.set(F_SEND_RPN_RSP);
    this.x.requestSend(mux);
  }
}
