/**
 * The RFCOMM send side: L2CAP_EVENT_CAN_SEND_NOW turned into at most one frame per opportunity
 * (multiplexer work, then the DLCs' own frames round robin, then one application
 * RFCOMM_EVENT_CAN_SEND_NOW), control frames built in place, and the application's data frames
 * (rfcomm_send, and the zero-copy path), written straight into L2CAP's outgoing buffer.
 */
import {
  BTSTACK_ACL_BUFFERS_FULL,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  RFCOMM_AGGREGATE_FLOW_OFF,
  RFCOMM_DATA_LEN_EXCEEDS_MTU,
  RFCOMM_MULTIPLEXER_STOPPED,
  RFCOMM_NO_OUTGOING_CREDITS,
} from '../codes/v1.4.js';
import {
  RFCOMM_UIH,
  rfcomm_address,
  rfcomm_cr,
  rfcomm_encode_disc,
  rfcomm_encode_dm,
  rfcomm_encode_sabm,
  rfcomm_encode_ua,
  rfcomm_encode_uih,
  rfcomm_frame_encode_in_place,
} from './frames.js';
import {
  type RfcommPn,
  type RfcommRpn,
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
  MUX_SHUTTING_DOWN,
  MUX_W4_UA_0,
  MUX_W4_UA_0_AFTER_DISC,
  RFCOMM_TEST_DATA_MAX_LEN,
  type RfcommChannel,
  type RfcommMultiplexer,
  fillPn,
  preOpenRoom,
  rpnToStruct,
} from './rfcomm-objects.js';
import type { ChannelInfo } from './rfcomm-lifecycle.js';
import { MAX_FRAMES_PER_TOKEN, type RfcommState } from './rfcomm-state.js';
import { ViewCache } from '../core/span.js';

/** What the send side needs of the life cycle (rfcomm-lifecycle.ts). */
export interface RfcommOutputPeers {
  takeChannel(ch: RfcommChannel, why: string): ChannelInfo;
  startChannelTimer(ch: RfcommChannel): void;
  startMuxTimer(mux: RfcommMultiplexer, ms: number): void;
  muxOpened(mux: RfcommMultiplexer, why: string): void;
  shutdown(mux: RfcommMultiplexer, status: number, why: string): void;
  checkOpen(ch: RfcommChannel): void;
}

export class RfcommOutput {
  /** Control frames (at most a Test echo). */
  private readonly ctl = new Uint8Array(RFCOMM_TEST_DATA_MAX_LEN + 16);
  /** Multiplexer command scratch (the information field of a control frame). */
  private readonly mcmd = new Uint8Array(RFCOMM_TEST_DATA_MAX_LEN + 8);
  private readonly pn: RfcommPn = {
    dlci: 0,
    cl: 0,
    priority: 0,
    ack_timer: 0,
    max_frame_size: 0,
    max_retransmissions: 0,
    credits: 0,
  };
  private readonly rpn: RfcommRpn = {
    baud_rate: 0,
    flags: 0,
    flow_control: 0,
    xon: 0,
    xoff: 0,
    parameter_mask_0: 0,
    parameter_mask_1: 0,
  };
  /** Exact views of rfcomm_send payloads shorter than their array (one per buffer and length). */
  private readonly txViews = new ViewCache(4);
  /** rfcomm_get_outgoing_buffer's view into L2CAP's outgoing buffer (cached per buffer). */
  private l2capOut: Uint8Array | null = null;
  private l2capOutPayload: Uint8Array | null = null;

  constructor(
    private readonly s: RfcommState,
    private readonly x: RfcommOutputPeers,
  ) {}

  requestSend(mux: RfcommMultiplexer): void {
    if (!mux.l2cap_open || mux.state === MUX_SHUTTING_DOWN) return;
    this.s.l2cap!.l2cap_request_can_send_now_event(mux.l2cap_cid);
  }

  canSend(ch: RfcommChannel): boolean {
    if (ch.state !== CH_OPEN) return false;
    const mux = ch.mux!;
    if (!mux.fcon) return false;
    if (ch.has(F_CREDIT_FLOW) ? ch.credits_outgoing === 0 : ch.has(F_REMOTE_FC)) return false;
    return this.s.l2cap!.l2cap_can_send_packet_now(mux.l2cap_cid);
  }

  onCanSendNow(mux: RfcommMultiplexer): void {
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
          this.s.run_loop.execute_on_main_thread(() => {
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
    const list = this.s.channels;
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
      this.s.events.can_send_now(ch.handler, ch.rfcomm_cid);
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
      this.s.log.error(() => `RFCOMM: control frame could not be encoded (${size})`);
      return true;
    }
    const status = this.s.l2cap!.l2cap_send(mux.l2cap_cid, this.ctl, size);
    if (status === BTSTACK_ACL_BUFFERS_FULL) return false;
    if (status !== 0) this.s.log.error(() => `RFCOMM: l2cap_send failed with 0x${status.toString(16)}, frame dropped`);
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
        if (on) for (const ch of this.s.channels) if (ch.mux === mux && ch.waiting_for_can_send_now) this.requestSend(mux);
      }
      return true;
    }
    switch (mux.state) {
      case MUX_SEND_SABM_0:
        if (this.sendCtl(mux, rfcomm_encode_sabm(ctl, 0, true, 0))) {
          this.s.setMuxState(mux, MUX_W4_UA_0, 'SABM 0 sent');
          this.x.startMuxTimer(mux, this.s.response_timeout_ms);
        }
        return true;
      case MUX_SEND_UA_0:
        if (this.sendCtl(mux, rfcomm_encode_ua(ctl, 0, mux.initiator, 0))) this.x.muxOpened(mux, 'UA 0 sent');
        return true;
      case MUX_SEND_UA_0_AND_DISC:
        if (this.sendCtl(mux, rfcomm_encode_ua(ctl, 0, mux.initiator, 0)))
          this.x.shutdown(mux, RFCOMM_MULTIPLEXER_STOPPED, 'UA 0 sent after DISC 0');
        return true;
      case MUX_SEND_DISC_0:
        if (this.sendCtl(mux, rfcomm_encode_disc(ctl, 0, mux.initiator, 0))) {
          this.s.setMuxState(mux, MUX_W4_UA_0_AFTER_DISC, 'DISC 0 sent');
          this.x.startMuxTimer(mux, this.s.response_timeout_ms);
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
          const info = this.x.takeChannel(ch, 'DM sent');
          if (accepted) this.s.events.channel_closed(info.handler, info.rfcomm_cid);
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
          this.s.setChannelState(ch, CH_W4_PN_RSP, 'PN sent');
          this.x.startChannelTimer(ch);
        }
        return;
      }
      case CH_SEND_SABM_W4_UA:
        if (this.sendCtl(mux, rfcomm_encode_sabm(ctl, 0, mux.initiator, ch.dlci))) {
          this.s.setChannelState(ch, CH_W4_UA, 'SABM sent');
          this.x.startChannelTimer(ch);
        }
        return;
      case CH_SEND_DISC:
        if (this.sendCtl(mux, rfcomm_encode_disc(ctl, 0, mux.initiator, ch.dlci))) {
          this.s.setChannelState(ch, CH_W4_UA_AFTER_DISC, 'DISC sent');
          this.x.startChannelTimer(ch);
        }
        return;
      case CH_SEND_UA_AFTER_DISC:
        if (this.sendCtl(mux, rfcomm_encode_ua(ctl, 0, mux.initiator, ch.dlci))) this.x.takeChannel(ch, 'UA sent after DISC');
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
          this.s.setChannelState(ch, CH_DLC_SETUP, 'UA sent');
          ch.set(F_SEND_MSC_CMD);
        }
      }
      return;
    }
    if (ch.has(F_SEND_MSC_CMD)) {
      if (this.sendMcmd(mux, rfcomm_mux_encode_msc(mc, 0, true, ch.dlci, this.mscSignals(ch)))) {
        ch.clear(F_SEND_MSC_CMD);
        ch.set(F_SENT_MSC_CMD);
        this.x.startChannelTimer(ch);
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
        this.x.checkOpen(ch);
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
  private mscSignals(ch: RfcommChannel): number {
    return ch.has(F_HOLD_FC) ? ch.msc_app | 0x02 : ch.msc_app;
  }

  /** Why `len` octets cannot go out on `ch` now (0: they can). `l2capToo`: also ask L2CAP (not for a reserved buffer). */
  private checkSend(ch: RfcommChannel, len: number, l2capToo = true): number {
    if (ch.state !== CH_OPEN) return ERROR_CODE_COMMAND_DISALLOWED;
    if (len > ch.max_frame_size) return RFCOMM_DATA_LEN_EXCEEDS_MTU;
    const mux = ch.mux!;
    if (ch.has(F_CREDIT_FLOW)) {
      if (ch.credits_outgoing === 0) return RFCOMM_NO_OUTGOING_CREDITS;
    } else if (ch.has(F_REMOTE_FC)) {
      return RFCOMM_NO_OUTGOING_CREDITS;
    }
    if (!mux.fcon) return RFCOMM_AGGREGATE_FLOW_OFF;
    if (l2capToo && !this.s.l2cap!.l2cap_can_send_packet_now(mux.l2cap_cid)) return BTSTACK_ACL_BUFFERS_FULL;
    return 0;
  }

  // ====================================================================== application data

  /** rfcomm_send on a known channel (arguments checked): one UIH frame written into L2CAP's outgoing buffer. */
  send(ch: RfcommChannel, data: Uint8Array, len: number): number {
    const err = this.checkSend(ch, len);
    if (err) return err;
    const l2 = this.s.l2cap!;
    // the encoder copies a whole array with one `set`; part of one goes as an exact view, made
    // once per (array, length) and then reused, or octet by octet when short
    const info = len < 16 ? data : this.txViews.view(data, 0, len);
    if (!l2.l2cap_reserve_packet_buffer()) return BTSTACK_ACL_BUFFERS_FULL;
    const size = rfcomm_encode_uih(l2.l2cap_get_outgoing_buffer(), 0, ch.mux!.initiator, ch.dlci, -1, info, 0, len);
    if (size < 0) {
      l2.l2cap_release_packet_buffer();
      return RFCOMM_DATA_LEN_EXCEEDS_MTU;
    }
    return this.sendPrepared(ch, size, len);
  }

  /** rfcomm_reserve_packet_buffer: L2CAP's outgoing buffer (false when in use or there is no L2CAP). */
  reserveBuffer(): boolean {
    const l2 = this.s.l2cap;
    return l2 ? l2.l2cap_reserve_packet_buffer() : false;
  }

  releaseBuffer(): void {
    this.s.l2cap?.l2cap_release_packet_buffer();
  }

  /** rfcomm_get_outgoing_buffer: L2CAP's outgoing buffer after room for the frame header (a view cached per buffer). */
  outgoingPayload(): Uint8Array {
    const b = this.s.requireL2cap().l2cap_get_outgoing_buffer();
    if (this.l2capOut !== b) {
      this.l2capOut = b;
      this.l2capOutPayload = b.subarray(4);
    }
    return this.l2capOutPayload!;
  }

  /** rfcomm_send_prepared (length checked): frame the payload in place and send it; the buffer is released whatever the outcome. */
  sendPreparedPayload(rfcomm_cid: number, len: number): number {
    const ch = this.s.channelForCid(rfcomm_cid);
    // with L2CAP's buffer reserved, L2CAP itself says whether it can go (l2cap_send_prepared)
    const err = ch ? this.checkSend(ch, len, false) : ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (err) {
      // the buffer is released, as BTstack's rfcomm_send_prepared does
      this.releaseBuffer();
      return err;
    }
    const l2 = this.s.l2cap!;
    const address = rfcomm_address(ch!.dlci, rfcomm_cr(ch!.mux!.initiator, true));
    const buf = l2.l2cap_get_outgoing_buffer();
    // the payload sits at 4 (room for a 2-octet length); a short one moves down a octet so
    // the frame starts at 0 with the 1-octet length
    if (len <= 127) buf.copyWithin(3, 4, 4 + len);
    const start = rfcomm_frame_encode_in_place(buf, len <= 127 ? 3 : 4, len, address, RFCOMM_UIH);
    if (start !== 0) {
      l2.l2cap_release_packet_buffer();
      return RFCOMM_DATA_LEN_EXCEEDS_MTU;
    }
    return this.sendPrepared(ch!, (len <= 127 ? 3 : 4) + len + 1, len);
  }

  /** Send the `size`-octet frame already in L2CAP's outgoing buffer (reserved); releases it. */
  private sendPrepared(ch: RfcommChannel, size: number, len: number): number {
    const status = this.s.l2cap!.l2cap_send_prepared(ch.mux!.l2cap_cid, size);
    if (status === 0 && len > 0 && ch.has(F_CREDIT_FLOW)) ch.credits_outgoing--;
    return status;
  }
}
