/**
 * The Enhanced Retransmission Mode and Streaming Mode engine of one channel (Core spec v5.4,
 * Vol 3, Part A, 8.3-8.6), sans-I/O: frames in through `receive`, frames out through `poll`
 * (one PDU per call, written whole with its Basic L2CAP header into the caller's buffer), SDUs up
 * through `io.deliver`, work announced with `io.request_send`, failure with `io.fail` (the host
 * disconnects the channel). Timers (retransmission, monitor) run on the stack's run loop.
 *
 * Memory: the application's buffer (l2cap_ertm_create_channel / accept_connection) holds
 * everything that scales with the window: the reassembly buffer (local MTU), `num_rx_buffers`
 * receive slots for out-of-order I-frames and `num_tx_buffers` transmit slots for unacknowledged
 * I-frames, each `mps` octets (the MPS is what is left of the buffer divided by the slots, as in
 * BTstack). The per-slot bookkeeping is fixed arrays of 64 entries (sequence numbers are modulo 64).
 *
 * Sender (8.6.5 XMIT / WAIT_F): frames are stored segmented (SAR, SDU Length in the start frame),
 * sent while fewer than the remote TxWindow are unacknowledged and the remote is not busy; ReqSeq
 * in any received frame acknowledges; the retransmission timer polls (RR/RNR with P=1) and enters
 * WAIT_F, the monitor timer polls again until MaxTransmit polls are unanswered (then the channel
 * fails); a frame with F=1 in WAIT_F returns to XMIT and retransmits every unacknowledged frame
 * unless a REJ already did (REJ_Actioned); a REJ from the peer retransmits from its ReqSeq, an SREJ
 * one frame (SREJ'd frames go again in the order the SREJs arrived, before new frames); a frame
 * sent MaxTransmit times fails the channel (MaxTransmit 0 = unlimited).
 * Receiver (8.6.6 RECV / SREJ_SENT, l2cap-ertm-rx.ts): in-sequence frames are reassembled and
 * acknowledged (RR, or the ReqSeq of the next I-frame); each missing frame is asked for with its own
 * SREJ (never REJ) and later frames are kept until the gaps are filled; an SREJ'd frame arriving
 * while one asked for before it is still missing sends that one's SREJ again; a poll met while
 * frames are missing is answered with SREJ F=1 (so WAIT_F ends without go-back-N); duplicates are
 * dropped; a TxSeq outside the window or a ReqSeq acknowledging unsent frames fails the channel
 * (8.6.5.x "invalid"); P=1 is answered with F=1; local busy sends RNR and drops I-frames.
 * Streaming (8.5): I-frames only, nothing acknowledged or retransmitted; a missing TxSeq drops the
 * SDU being reassembled (only whole SDUs, in order). Frames failing the FCS (3.3.5) or malformed: discarded.
 */
import type { RunLoop } from '../core/run-loop.js';
import { Timer } from '../core/run-loop.js';
import {
  L2CAP_ERTM_CONTROL_SIZE,
  L2CAP_ERTM_SDU_LENGTH_SIZE,
  L2CAP_FCS_SIZE,
  L2CAP_SAR_CONTINUATION,
  L2CAP_SAR_END,
  L2CAP_SAR_START,
  L2CAP_SAR_UNSEGMENTED,
  L2CAP_SUPERVISORY_REJ,
  L2CAP_SUPERVISORY_RNR,
  L2CAP_SUPERVISORY_RR,
  L2CAP_SUPERVISORY_SREJ,
  L2capErtmFrame,
  l2cap_ertm_final,
  l2cap_ertm_i_control,
  l2cap_ertm_is_s_frame,
  l2cap_ertm_parse,
  l2cap_ertm_poll,
  l2cap_ertm_req_seq,
  l2cap_ertm_s_control,
  l2cap_ertm_sar,
  l2cap_ertm_supervisory,
  l2cap_ertm_tx_seq,
  l2cap_ertm_write,
  l2cap_seq_delta,
} from './l2cap-ertm-frames.js';
import {
  L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION,
  L2CAP_CHANNEL_MODE_STREAMING_MODE,
  L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU,
  BTSTACK_ACL_BUFFERS_FULL,
  ERROR_CODE_MEMORY_CAPACITY_EXCEEDED,
} from '../codes/v1.4.js';
import { L2capErtmRx, type L2capErtmRxOwner } from './l2cap-ertm-rx.js';
import { L2capErtmStats, type L2capErtmIo, type L2capErtmParams } from './l2cap-ertm-types.js';

export { L2capErtmStats, type L2capErtmIo, type L2capErtmParams };

const XMIT = 0;
const WAIT_F = 1;

export class L2capErtm implements L2capErtmRxOwner {
  readonly stats = new L2capErtmStats();
  p!: L2capErtmParams;
  private buf: Uint8Array = new Uint8Array(0);
  private rx_base = 0;
  private tx_base = 0;
  private readonly frame = new L2capErtmFrame();
  // sender
  private readonly tx_len = new Uint16Array(64);
  private readonly tx_sar = new Uint8Array(64);
  private readonly tx_sdu_len = new Uint16Array(64);
  private readonly tx_count = new Uint8Array(64);
  /** Transmit slot of each stored sequence number (frames counted without wrapping, so any num_tx_buffers works). */
  private readonly tx_slot = new Uint8Array(64);
  private tx_stored_total = 0;
  /** SREJ'd frames to send again: the order their SREJ arrived in (srej_received then; 0 = none). */
  private readonly srej_pending = new Uint32Array(64);
  private srej_received = 0;
  private next_tx_seq = 0;
  private expected_ack_seq = 0;
  private next_send_seq = 0;
  private sent_end_seq = 0;
  private tx_state = XMIT;
  private remote_busy = false;
  private rej_actioned = false;
  private poll_count = 0;
  private send_poll = false;
  private readonly rx = new L2capErtmRx(this);
  private active = false;
  readonly retransmission_timer: Timer;
  readonly monitor_timer: Timer;

  constructor(
    private readonly run_loop: RunLoop,
    readonly io: L2capErtmIo,
  ) {
    this.retransmission_timer = new Timer(() => this.onRetransmissionTimeout(), this);
    this.monitor_timer = new Timer(() => this.onMonitorTimeout(), this);
  }

  /** The MPS a buffer of `size` octets gives (0 when too small for one slot of 1 octet). */
  static mps_for_buffer(size: number, local_mtu: number, num_rx: number, num_tx: number): number {
    const slots = num_rx + num_tx;
    if (slots <= 0 || size <= local_mtu) return 0;
    return Math.min(0xffff - 16, Math.floor((size - local_mtu) / slots));
  }

  /** Start on an opened channel; `buffer` is the application's memory (size checked by the caller). */
  start(p: L2capErtmParams, buffer: Uint8Array): void {
    this.stop();
    this.p = p;
    this.buf = buffer;
    this.rx_base = p.local_mtu;
    this.tx_base = this.rx_base + p.num_rx_buffers * p.local_mps;
    this.tx_len.fill(0);
    this.tx_count.fill(0);
    this.srej_pending.fill(0);
    this.srej_received = 0;
    this.rx.reset(this.rx_base);
    this.next_tx_seq = this.expected_ack_seq = this.next_send_seq = this.sent_end_seq = 0;
    this.tx_state = XMIT;
    this.remote_busy = this.rej_actioned = this.send_poll = false;
    this.poll_count = this.tx_stored_total = 0;
    this.stats.clear();
    this.active = true;
  }

  /** Stop the timers and forget the buffer (channel closed). */
  stop(): void {
    this.active = false;
    this.run_loop.remove_timer(this.retransmission_timer);
    this.run_loop.remove_timer(this.monitor_timer);
    this.buf = new Uint8Array(0);
  }

  get running(): boolean {
    return this.active;
  }

  /** @internal the application's buffer (L2capErtmRxOwner) */
  buffer(): Uint8Array {
    return this.buf;
  }

  /** @internal the receiver cannot go on (L2capErtmRxOwner) */
  rxFail(reason: string): void {
    this.failWith(reason);
  }

  get streaming(): boolean {
    return this.p.mode === L2CAP_CHANNEL_MODE_STREAMING_MODE;
  }

  /** Largest payload of one I-frame we send (start frames carry 2 octets of SDU Length on top of nothing: kept within the MPS). */
  private get segment(): number {
    return Math.max(1, Math.min(this.p.remote_mps, this.p.local_mps));
  }

  private segments(len: number): number {
    const seg = this.segment;
    if (len <= seg) return 1;
    return Math.ceil((len + L2CAP_ERTM_SDU_LENGTH_SIZE) / seg);
  }

  private stored(): number {
    return l2cap_seq_delta(this.next_tx_seq, this.expected_ack_seq);
  }

  /** Frames stored and not yet acknowledged (ERTM) or not yet sent (streaming). */
  get queued(): number {
    return this.active ? this.stored() : 0;
  }

  /** Room in the transmit slots for an SDU of `len` octets. */
  can_store(len: number): boolean {
    return this.active && this.stored() + this.segments(len) <= this.p.num_tx_buffers;
  }

  /** The longest SDU the transmit slots can ever hold. */
  get max_sdu(): number {
    const seg = this.segment;
    return Math.min(
      this.p.remote_mtu,
      this.p.num_tx_buffers <= 1 ? seg : seg * this.p.num_tx_buffers - L2CAP_ERTM_SDU_LENGTH_SIZE,
    );
  }

  /**
   * Store an SDU for sending: 0, L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU, ERROR_CODE_MEMORY_CAPACITY_EXCEEDED
   * (more segments than there are transmit slots: it can never be sent) or BTSTACK_ACL_BUFFERS_FULL.
   */
  send_sdu(data: Uint8Array, off: number, len: number): number {
    if (len > this.p.remote_mtu) return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (this.segments(len) > this.p.num_tx_buffers) return ERROR_CODE_MEMORY_CAPACITY_EXCEEDED;
    if (!this.can_store(len)) return BTSTACK_ACL_BUFFERS_FULL;
    const seg = this.segment;
    const mps = this.p.local_mps;
    if (len <= seg) {
      this.storeFrame(L2CAP_SAR_UNSEGMENTED, 0, data, off, len, mps);
    } else {
      let pos = 0;
      // the start frame's payload leaves room for the 2-octet SDU Length within the remote MPS
      let n = seg - L2CAP_ERTM_SDU_LENGTH_SIZE;
      this.storeFrame(L2CAP_SAR_START, len, data, off, n, mps);
      pos += n;
      while (pos < len) {
        n = Math.min(seg, len - pos);
        this.storeFrame(pos + n === len ? L2CAP_SAR_END : L2CAP_SAR_CONTINUATION, 0, data, off + pos, n, mps);
        pos += n;
      }
    }
    this.io.request_send();
    return 0;
  }

  private storeFrame(sar: number, sdu_len: number, data: Uint8Array, off: number, n: number, mps: number): void {
    const seq = this.next_tx_seq;
    const slot = this.tx_stored_total % this.p.num_tx_buffers;
    this.tx_stored_total++;
    this.tx_slot[seq] = slot;
    this.buf.set(data.subarray(off, off + n), this.tx_base + slot * mps);
    this.tx_len[seq] = n;
    this.tx_sar[seq] = sar;
    this.tx_sdu_len[seq] = sdu_len;
    this.tx_count[seq] = 0;
    this.srej_pending[seq] = 0;
    this.next_tx_seq = (seq + 1) & 0x3f;
  }

  /** Local busy (l2cap_ertm_set_busy / set_ready): RNR / RR go out. */
  set_local_busy(busy: boolean): void {
    if (!this.active || this.streaming || this.rx.local_busy === busy) return;
    this.rx.local_busy = busy;
    this.rx.send_busy_state = true;
    this.io.request_send();
  }

  /** SREJs the receiver sent again because a frame it asked for later arrived first. */
  get rx_srej_resent(): number {
    return this.rx.srej_resent;
  }

  get is_local_busy(): boolean {
    return this.rx.local_busy;
  }

  get unacked(): number {
    return l2cap_seq_delta(this.sent_end_seq, this.expected_ack_seq);
  }

  /** True when poll() would write a frame. */
  has_work(): boolean {
    if (!this.active) return false;
    if (this.streaming) return this.next_send_seq !== this.next_tx_seq;
    if (this.rx.send_final || this.rx.srejToSend() || this.send_poll || this.rx.send_busy_state) return true;
    if (this.tx_state === XMIT && !this.remote_busy) {
      if (this.nextSrejRetransmission() >= 0) return true;
      if (this.canSendNext()) return true;
    }
    return this.rx.expected_tx_seq !== this.rx.last_ack_sent;
  }

  private canSendNext(): boolean {
    return (
      this.next_send_seq !== this.next_tx_seq &&
      l2cap_seq_delta(this.next_send_seq, this.expected_ack_seq) < Math.min(this.p.remote_tx_window, this.p.num_tx_buffers)
    );
  }

  /** The SREJ'd frame whose SREJ arrived first (8.6.5: each SREJ retransmits its frame, in turn). */
  private nextSrejRetransmission(): number {
    const n = this.unacked;
    let best = -1;
    let order = 0;
    for (let d = 0; d < n; d++) {
      const seq = (this.expected_ack_seq + d) & 0x3f;
      const o = this.srej_pending[seq]!;
      if (o !== 0 && (best < 0 || o < order)) {
        best = seq;
        order = o;
      }
    }
    return best;
  }

  /**
   * Write the next frame (whole PDU, Basic header included) at out[pos]; returns its size, 0 when
   * there is nothing to send, -1 when `out` is too small.
   */
  poll(out: Uint8Array, pos: number): number {
    if (!this.active) return 0;
    if (this.streaming) return this.pollStreaming(out, pos);
    const busy_s = this.rx.local_busy ? L2CAP_SUPERVISORY_RNR : L2CAP_SUPERVISORY_RR;
    if (this.rx.send_final && this.rx.srej_recovery && !this.rx.local_busy) {
      // the poll's answer names what is missing (SREJ, F=1), so the sender resends only that
      this.rx.send_final = false;
      this.rx.send_busy_state = false;
      return this.srejFrame(out, pos, this.rx.srejPollAnswer(), true);
    }
    if (this.rx.send_final) {
      this.rx.send_final = false;
      this.rx.send_busy_state = false;
      return this.sFrame(out, pos, busy_s, this.rx.expected_tx_seq, false, true);
    }
    for (let d = 0; d < 64; d++) {
      const seq = (this.rx.expected_tx_seq + d) & 0x3f;
      if (this.rx.srej_to_send[seq]) {
        this.rx.srej_to_send[seq] = 0;
        return this.srejFrame(out, pos, seq, false);
      }
    }
    if (this.send_poll) {
      this.send_poll = false;
      this.rx.send_busy_state = false;
      this.stats.polls_sent++;
      return this.sFrame(out, pos, busy_s, this.rx.expected_tx_seq, true, false);
    }
    if (this.rx.send_busy_state) {
      this.rx.send_busy_state = false;
      if (this.rx.local_busy) this.stats.rnr_sent++;
      return this.sFrame(out, pos, busy_s, this.rx.expected_tx_seq, false, false);
    }
    if (this.tx_state === XMIT && !this.remote_busy) {
      const srej = this.nextSrejRetransmission();
      if (srej >= 0) {
        this.srej_pending[srej] = 0;
        return this.iFrame(out, pos, srej);
      }
      if (this.canSendNext()) {
        const seq = this.next_send_seq;
        const n = this.iFrame(out, pos, seq);
        if (n > 0) {
          this.next_send_seq = (seq + 1) & 0x3f;
          if (
            l2cap_seq_delta(this.next_send_seq, this.expected_ack_seq) > l2cap_seq_delta(this.sent_end_seq, this.expected_ack_seq)
          )
            this.sent_end_seq = this.next_send_seq;
        }
        return n;
      }
    }
    if (this.rx.expected_tx_seq !== this.rx.last_ack_sent)
      return this.sFrame(out, pos, busy_s, this.rx.expected_tx_seq, false, false);
    return 0;
  }

  /** An SREJ for `seq` (F = `final`): its ReqSeq names the missing frame and acknowledges nothing (8.6.1.4). */
  private srejFrame(out: Uint8Array, pos: number, seq: number, final: boolean): number {
    this.rx.srejSent(seq);
    this.stats.srej_sent++;
    const control = l2cap_ertm_s_control(L2CAP_SUPERVISORY_SREJ, seq, false, final);
    const n = l2cap_ertm_write(out, pos, this.p.remote_cid, control, 0, null, 0, 0, this.p.fcs);
    if (n > 0) this.stats.s_frames_sent++;
    return n;
  }

  private sFrame(out: Uint8Array, pos: number, s: number, req: number, poll: boolean, final: boolean): number {
    const n = l2cap_ertm_write(out, pos, this.p.remote_cid, l2cap_ertm_s_control(s, req, poll, final), 0, null, 0, 0, this.p.fcs);
    if (n > 0) {
      this.rx.last_ack_sent = req;
      this.stats.s_frames_sent++;
    }
    return n;
  }

  private iFrame(out: Uint8Array, pos: number, seq: number): number {
    const mt = this.p.max_transmit;
    if (this.tx_count[seq]! > 0) {
      if (mt !== 0 && this.tx_count[seq]! >= mt) {
        this.failWith('MaxTransmit reached');
        return 0;
      }
      this.stats.retransmissions++;
    }
    const slot = this.tx_slot[seq]!;
    const ctl = l2cap_ertm_i_control(seq, this.rx.expected_tx_seq, this.tx_sar[seq]!, false);
    const base = this.tx_base + slot * this.p.local_mps;
    const n = l2cap_ertm_write(
      out,
      pos,
      this.p.remote_cid,
      ctl,
      this.tx_sdu_len[seq]!,
      this.buf,
      base,
      this.tx_len[seq]!,
      this.p.fcs,
    );
    if (n <= 0) return n;
    if (this.tx_count[seq]! < 255) this.tx_count[seq]!++;
    this.rx.last_ack_sent = this.rx.expected_tx_seq;
    this.stats.i_frames_sent++;
    if (!this.retransmission_timer.active) this.startTimer(this.retransmission_timer, this.p.retransmission_timeout_ms);
    return n;
  }

  private pollStreaming(out: Uint8Array, pos: number): number {
    if (this.next_send_seq === this.next_tx_seq) return 0;
    const seq = this.next_send_seq;
    const slot = this.tx_slot[seq]!;
    const ctl = l2cap_ertm_i_control(seq, 0, this.tx_sar[seq]!, false);
    const base = this.tx_base + slot * this.p.local_mps;
    const n = l2cap_ertm_write(
      out,
      pos,
      this.p.remote_cid,
      ctl,
      this.tx_sdu_len[seq]!,
      this.buf,
      base,
      this.tx_len[seq]!,
      this.p.fcs,
    );
    if (n <= 0) return n;
    this.stats.i_frames_sent++;
    // nothing is kept: the slot is free once the frame is out (8.5)
    this.next_send_seq = this.expected_ack_seq = this.sent_end_seq = (seq + 1) & 0x3f;
    if (this.stored() === 0 && this.io.drained)
      this.run_loop.execute_on_main_thread(() => this.active && this.stored() === 0 && this.io.drained?.());
    return n;
  }

  private startTimer(t: Timer, ms: number): void {
    this.run_loop.remove_timer(t);
    this.run_loop.set_timer(t, ms);
    this.run_loop.add_timer(t);
  }

  private failWith(reason: string): void {
    if (!this.active) return;
    this.stop();
    this.io.fail(reason);
  }

  private onRetransmissionTimeout(): void {
    if (!this.active || this.tx_state !== XMIT || this.unacked === 0) return;
    this.tx_state = WAIT_F;
    this.poll_count = 1;
    this.send_poll = true;
    this.startTimer(this.monitor_timer, this.p.monitor_timeout_ms);
    this.io.request_send();
  }

  private onMonitorTimeout(): void {
    if (!this.active || this.tx_state !== WAIT_F) return;
    const mt = this.p.max_transmit;
    if (mt !== 0 && this.poll_count >= mt) {
      this.failWith('MaxTransmit polls unanswered');
      return;
    }
    this.poll_count++;
    this.send_poll = true;
    this.startTimer(this.monitor_timer, this.p.monitor_timeout_ms);
    this.io.request_send();
  }

  /**
   * One received PDU: buf[pdu_off] is its Basic L2CAP header, buf[off, off+len) the payload after
   * it (control field onwards). Never throws; bad frames are counted and dropped or fail the channel.
   */
  receive(buf: Uint8Array, pdu_off: number, off: number, len: number): void {
    if (!this.active) return;
    const f = this.frame;
    const r = l2cap_ertm_parse(buf, pdu_off, off, len, this.p.fcs, f);
    if (r !== 'ok') {
      if (r === 'fcs') this.stats.fcs_errors++;
      else this.stats.malformed++;
      return;
    }
    const c = f.control;
    if (this.streaming) {
      if (!l2cap_ertm_is_s_frame(c)) this.rx.receiveStreaming(f, buf);
      else this.stats.malformed++;
      return;
    }
    if (l2cap_ertm_is_s_frame(c)) this.receiveS(c);
    else this.receiveI(f, buf);
    if (this.active && this.has_work()) this.io.request_send();
  }

  /** Acknowledge up to req_seq; false (channel failed) when it acknowledges frames never sent. */
  private processReqSeq(req: number): boolean {
    const d = l2cap_seq_delta(req, this.expected_ack_seq);
    if (d > this.unacked) {
      this.failWith('invalid ReqSeq');
      return false;
    }
    if (d === 0) return true;
    for (let i = 0; i < d; i++) this.srej_pending[(this.expected_ack_seq + i) & 0x3f] = 0;
    const behind = l2cap_seq_delta(this.next_send_seq, this.expected_ack_seq) < d;
    this.expected_ack_seq = req;
    if (behind) this.next_send_seq = req;
    if (this.tx_state === XMIT) {
      if (this.unacked > 0) this.startTimer(this.retransmission_timer, this.p.retransmission_timeout_ms);
      else this.run_loop.remove_timer(this.retransmission_timer);
    }
    if (this.stored() === 0) this.io.drained?.();
    return true;
  }

  /** F=1 while waiting for it: back to XMIT; everything unacknowledged goes again unless a REJ already did it. */
  private receiveI(f: L2capErtmFrame, buf: Uint8Array): void {
    if (!this.processReqSeq(l2cap_ertm_req_seq(f.control))) return;
    if (l2cap_ertm_final(f.control)) this.onFinal(true);
    this.rx.onIFrame(f, buf);
  }

  private onFinal(retransmit: boolean): void {
    if (this.tx_state !== WAIT_F) return;
    this.run_loop.remove_timer(this.monitor_timer);
    this.tx_state = XMIT;
    if (retransmit && !this.rej_actioned) this.next_send_seq = this.expected_ack_seq;
    this.rej_actioned = false;
    this.run_loop.remove_timer(this.retransmission_timer);
    if (this.unacked > 0) this.startTimer(this.retransmission_timer, this.p.retransmission_timeout_ms);
  }

  private receiveS(c: number): void {
    const poll = l2cap_ertm_poll(c);
    const final = l2cap_ertm_final(c);
    if (poll && final) {
      this.stats.malformed++;
      return;
    }
    const req = l2cap_ertm_req_seq(c);
    const s = l2cap_ertm_supervisory(c);
    if (poll) this.rx.send_final = true;
    switch (s) {
      case L2CAP_SUPERVISORY_RR:
      case L2CAP_SUPERVISORY_RNR:
        this.remote_busy = s === L2CAP_SUPERVISORY_RNR;
        if (!this.processReqSeq(req)) return;
        if (final) this.onFinal(true);
        return;
      case L2CAP_SUPERVISORY_REJ:
        this.remote_busy = false;
        if (!this.processReqSeq(req)) return;
        if (final && this.tx_state === WAIT_F) {
          this.onFinal(true);
          return;
        }
        this.next_send_seq = this.expected_ack_seq;
        if (this.tx_state === WAIT_F) this.rej_actioned = true;
        return;
      default: {
        // SREJ: retransmit the one frame it names (it must be unacknowledged)
        this.remote_busy = false;
        if (l2cap_seq_delta(req, this.expected_ack_seq) >= this.unacked) {
          this.stats.malformed++;
          return;
        }
        this.srej_pending[req] = ++this.srej_received;
        if (final) this.onFinal(false);
        return;
      }
    }
  }

  /** Sizes used on the wire: largest PDU this engine writes (for the caller's outgoing buffer). */
  max_pdu_size(): number {
    return 4 + L2CAP_ERTM_CONTROL_SIZE + L2CAP_ERTM_SDU_LENGTH_SIZE + this.segment + L2CAP_FCS_SIZE;
  }
}

export { L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION, L2CAP_CHANNEL_MODE_STREAMING_MODE };
