/**
 * The RFCOMM send side: L2CAP_EVENT_CAN_SEND_NOW turned into at most one frame per opportunity
 * (multiplexer work, then the DLCs' own frames round robin, then one application
 * RFCOMM_EVENT_CAN_SEND_NOW), control frames built in place, and the checks of rfcomm_send.
 */
import {
  BTSTACK_ACL_BUFFERS_FULL,
  ERROR_CODE_COMMAND_DISALLOWED,
  RFCOMM_AGGREGATE_FLOW_OFF,
  RFCOMM_DATA_LEN_EXCEEDS_MTU,
  RFCOMM_MULTIPLEXER_STOPPED,
  RFCOMM_NO_OUTGOING_CREDITS,
} from '../codes/v1.4.js';
import { rfcomm_encode_disc, rfcomm_encode_dm, rfcomm_encode_sabm, rfcomm_encode_ua, rfcomm_encode_uih } from './frames.js';
import {
  RFCOMM_PN_CL_CREDIT_ACCEPT,
  RFCOMM_PN_CL_CREDIT_REQUEST,
  rfcomm_mux_encode_fc,
  rfcomm_mux_encode_msc,
  rfcomm_mux_encode_nsc,
  rfcomm_mux_encode_pn,
  rfcomm_mux_encode_rls,
  rfcomm_mux_encode_rpn,
  rfcomm_mux_encode_test,
} from './mux-commands.js';
import {
  CH_DLC_SETUP,
  CH_INCOMING_SETUP,
  CH_OPEN,
  CH_SEND_DISC,
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
  MUX_OPEN,
  MUX_SEND_DISC_0,
  MUX_SEND_SABM_0,
  MUX_SEND_UA_0,
  MUX_SEND_UA_0_AND_DISC,
  MUX_W4_UA_0,
  MUX_W4_UA_0_AFTER_DISC,
  RfcommChannel,
  RfcommMultiplexer,
  preOpenRoom,
} from './rfcomm-objects.js';

/** BTstack's RFCOMM_MULIPLEXER_TIMEOUT_MS: a multiplexer without DLCs is closed after this long. */
import type { RfcommL2capPrepared } from './rfcomm-l2cap.js';
import { RfcommCore, fillPn, rpnToStruct, MAX_FRAMES_PER_TOKEN } from './rfcomm-core.js';

export abstract class RfcommOutput extends RfcommCore {
  protected onCanSendNow(mux: RfcommMultiplexer): void {
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
  protected sendOne(mux: RfcommMultiplexer): boolean {
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
  protected sendCtl(mux: RfcommMultiplexer, size: number): boolean {
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
  protected sendMcmd(mux: RfcommMultiplexer, n: number): boolean {
    if (n <= 0) return this.sendCtl(mux, n);
    return this.sendCtl(mux, rfcomm_encode_uih(this.ctl, 0, mux.initiator, 0, -1, this.mcmd, 0, n));
  }

  protected sendMuxWork(mux: RfcommMultiplexer): boolean {
    const ctl = this.ctl;
    const dlci = mux.takeDm();
    if (dlci >= 0) {
      const final = mux.dmFinal;
      if (!this.sendCtl(mux, rfcomm_encode_dm(ctl, 0, mux.initiator, dlci, final))) mux.queueDm(dlci, final);
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

  protected sendChannelWork(ch: RfcommChannel): void {
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
      if (this.sendMcmd(mux, rfcomm_mux_encode_msc(mc, 0, true, ch.dlci, this.mscSignals(ch)))) {
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
    // before the channel is open only as many credits as its hold buffer takes frames (hold.ts)
    const creditRoom = ch.state === CH_OPEN ? 255 : ch.state === CH_DLC_SETUP ? preOpenRoom(ch) : 0;
    if (ch.has(F_CREDIT_FLOW) && ch.new_credits_incoming > 0 && creditRoom > 0) {
      const n = Math.min(255, creditRoom, ch.new_credits_incoming);
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
      if (this.sendMcmd(mux, rfcomm_mux_encode_msc(mc, 0, true, ch.dlci, this.mscSignals(ch)))) ch.clear(F_SEND_MSC_APP);
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

  /** Our V.24 signals for an MSC command: the application's, with FC = 1 while held data waits (hold.ts). */
  protected mscSignals(ch: RfcommChannel): number {
    return ch.has(F_HOLD_FC) ? ch.msc_app | 0x02 : ch.msc_app;
  }

  /** Why `len` octets cannot go out on `ch` now (0: they can). `l2capToo`: also ask L2CAP (not for a reserved buffer). */
  protected checkSend(ch: RfcommChannel, len: number, l2capToo = true): number {
    if (ch.state !== CH_OPEN) return ERROR_CODE_COMMAND_DISALLOWED;
    if (len > ch.max_frame_size) return RFCOMM_DATA_LEN_EXCEEDS_MTU;
    const mux = ch.mux!;
    if (ch.has(F_CREDIT_FLOW)) {
      if (ch.credits_outgoing === 0) return RFCOMM_NO_OUTGOING_CREDITS;
    } else if (ch.has(F_REMOTE_FC)) {
      return RFCOMM_NO_OUTGOING_CREDITS;
    }
    if (!mux.fcon) return RFCOMM_AGGREGATE_FLOW_OFF;
    if (l2capToo && !this.l2cap!.l2cap_can_send_packet_now(mux.l2cap_cid)) return BTSTACK_ACL_BUFFERS_FULL;
    return 0;
  }

  protected sendData(ch: RfcommChannel, buf: Uint8Array, size: number, len: number): number {
    const status = this.l2cap!.l2cap_send(ch.mux!.l2cap_cid, buf, size);
    if (status === 0 && len > 0 && ch.has(F_CREDIT_FLOW)) ch.credits_outgoing--;
    return status;
  }

  /** Send the `size`-octet frame already in L2CAP's outgoing buffer (reserved); releases it. */
  protected sendPreparedData(ch: RfcommChannel, l2: RfcommL2capPrepared, size: number, len: number): number {
    const status = l2.l2cap_send_prepared(ch.mux!.l2cap_cid, size);
    if (status === 0 && len > 0 && ch.has(F_CREDIT_FLOW)) ch.credits_outgoing--;
    return status;
  }
}
