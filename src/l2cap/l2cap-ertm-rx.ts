/**
 * The receiving half of an ERTM / streaming channel (Core spec v5.4, Vol 3, Part A, 8.5 and
 * 8.6.6 RECV / SREJ_SENT): TxSeq checks, the out-of-order receive slots, SREJ requests, SAR
 * reassembly into the application's buffer, local busy. The sender side (l2cap-ertm.ts) owns this
 * component, processes ReqSeq and the F bit first, and turns the flags here (send_final,
 * srej_to_send, send_busy_state, the pending acknowledgement) into frames.
 *
 * No REJ is ever sent (REJ_SENT is never entered): every missing frame is asked for with its own
 * SREJ and the frames after a gap are kept, so a REJ would only make the sender resend frames we
 * hold. The SrejList is `srej_requested` with `srej_stamp`, the order in which each SREJ went on
 * the wire: a peer answers SREJs in the order it receives them, so when an SREJ'd frame arrives
 * while a frame asked for before it is still missing, that frame's SREJ or its retransmission was
 * lost and its SREJ is sent again at once (SREJ_SENT, TxSeq = Unexpected-Srej), instead of
 * waiting for the peer's retransmission timer and poll.
 */
import {
  L2CAP_SAR_CONTINUATION,
  L2CAP_SAR_END,
  L2CAP_SAR_START,
  L2CAP_SAR_UNSEGMENTED,
  type L2capErtmFrame,
  l2cap_ertm_sar,
  l2cap_ertm_tx_seq,
  l2cap_seq_delta,
} from './l2cap-ertm-frames.js';
import type { L2capErtmIo, L2capErtmParams, L2capErtmStats } from './l2cap-ertm-types.js';

const RECV = 0;
const SREJ_SENT = 2;

/** What the receiver needs from the engine that owns it. */
export interface L2capErtmRxOwner {
  readonly p: L2capErtmParams;
  readonly stats: L2capErtmStats;
  readonly io: L2capErtmIo;
  readonly streaming: boolean;
  /** The application's buffer: reassembly at 0, receive slots from rx_base. */
  buffer(): Uint8Array;
  rxFail(reason: string): void;
}

export class L2capErtmRx {
  readonly rx_valid = new Uint8Array(64);
  readonly rx_len = new Uint16Array(64);
  readonly rx_sar = new Uint8Array(64);
  readonly rx_sdu_len = new Uint16Array(64);
  readonly rx_slot = new Uint8Array(64);
  /** In-sequence frames received so far (expected_tx_seq without wrapping): places out-of-order frames in distinct slots. */
  rx_total = 0;
  readonly srej_requested = new Uint8Array(64);
  /** SREJ frames to send, by the missing TxSeq. */
  readonly srej_to_send = new Uint8Array(64);
  srej_outstanding = 0;
  /** When the SREJ for each requested TxSeq last went on the wire (srej_sent_count then; 0: not yet). */
  readonly srej_stamp = new Uint32Array(64);
  private srej_sent_count = 0;
  /** SREJs sent again because a frame asked for later arrived first (Unexpected-Srej). */
  srej_resent = 0;
  expected_tx_seq = 0;
  rx_highest = 0;
  /** The ReqSeq last sent (an acknowledgement is pending while it differs from expected_tx_seq). */
  last_ack_sent = 0;
  rx_state = RECV;
  local_busy = false;
  /** Answer a poll: RR / RNR with F=1. */
  send_final = false;
  /** Local busy changed: RNR or RR to send. */
  send_busy_state = false;
  reasm_active = false;
  reasm_pos = 0;
  reasm_len = 0;
  rx_base = 0;

  constructor(private readonly o: L2capErtmRxOwner) {}

  reset(rx_base: number): void {
    this.rx_valid.fill(0);
    this.srej_requested.fill(0);
    this.srej_to_send.fill(0);
    this.srej_stamp.fill(0);
    this.srej_sent_count = this.srej_resent = 0;
    this.rx_total = this.srej_outstanding = this.expected_tx_seq = this.rx_highest = this.last_ack_sent = 0;
    this.rx_state = RECV;
    this.local_busy = this.send_final = this.send_busy_state = this.reasm_active = false;
    this.reasm_pos = this.reasm_len = 0;
    this.rx_base = rx_base;
  }

  /** In SREJ_SENT with frames still asked for: a poll is answered with SREJ (F=1) for them, not with RR. */
  get srej_recovery(): boolean {
    return this.rx_state === SREJ_SENT && this.srej_outstanding > 0;
  }

  /**
   * Answer to a poll in SREJ_SENT: every frame still missing is asked for again; returns the first
   * (its SREJ carries F=1), the others go out as SREJ frames after it.
   */
  srejPollAnswer(): number {
    let first = -1;
    for (let d = 0; d < 64; d++) {
      const seq = (this.expected_tx_seq + d) & 0x3f;
      if (!this.srej_requested[seq]) continue;
      if (first < 0) {
        first = seq;
        this.srej_to_send[seq] = 0;
      } else this.srej_to_send[seq] = 1;
    }
    return first;
  }

  /** The SREJ for `seq` was written to the wire (the sender side calls this for every SREJ it sends). */
  srejSent(seq: number): void {
    this.srej_stamp[seq] = ++this.srej_sent_count;
  }

  /** An SREJ waits to be sent. */
  srejToSend(): boolean {
    for (let d = 0; d < 64; d++) if (this.srej_to_send[(this.expected_tx_seq + d) & 0x3f]) return true;
    return false;
  }

  /** An I-frame whose ReqSeq and F bit the sender side has processed (ERTM). */
  onIFrame(f: L2capErtmFrame, buf: Uint8Array): void {
    const c = f.control;
    if (this.local_busy) {
      this.o.stats.dropped++;
      return;
    }
    const tx = l2cap_ertm_tx_seq(c);
    const win = this.o.p.local_tx_window;
    const d = l2cap_seq_delta(tx, this.expected_tx_seq);
    if (d >= win) {
      if (l2cap_seq_delta(this.expected_tx_seq, tx) <= win) {
        this.o.stats.dropped++; // duplicate
        return;
      }
      this.o.rxFail('invalid TxSeq');
      return;
    }
    if (f.payload_length > this.o.p.local_mps) {
      this.o.rxFail('I-frame payload above MPS');
      return;
    }
    if (d === 0) {
      this.srejAnswered(tx);
      if (!this.reassemble(l2cap_ertm_sar(c), f.sdu_length, buf, f.payload_offset, f.payload_length)) return;
      this.expected_tx_seq = (tx + 1) & 0x3f;
      this.rx_total++;
      this.rx_valid[tx] = 0;
      this.drainStored();
      return;
    }
    if (this.rx_state === RECV) {
      // every missing frame is asked for with SREJ (one per frame, below) and the ones received are
      // kept, instead of a REJ that makes the sender resend frames we already hold (as BTstack, which
      // stores out-of-sequence frames and answers with SREJ)
      this.rx_state = SREJ_SENT;
      this.requestSrej(this.expected_tx_seq);
      this.rx_highest = this.expected_tx_seq;
    }
    // SREJ_SENT: keep the frame; ask for every new gap before it
    this.storeRx(f, buf, tx, d);
    this.srejAnswered(tx);
    const hd = l2cap_seq_delta(this.rx_highest, this.expected_tx_seq);
    if (d >= hd) {
      for (let s = (this.rx_highest + 1) & 0x3f; s !== tx; s = (s + 1) & 0x3f) {
        if (s === this.expected_tx_seq || this.rx_valid[s] || this.srej_requested[s]) continue;
        this.requestSrej(s);
      }
      this.rx_highest = tx;
    }
  }

  /**
   * A frame we may have asked for arrived: it leaves the SrejList. When it had been asked for, every
   * frame whose SREJ went out before its own and is still missing was lost again (its SREJ or its
   * retransmission: the peer answers SREJs in order) and is asked for again now.
   */
  private srejAnswered(tx: number): void {
    if (!this.srej_requested[tx]) return;
    this.srej_requested[tx] = 0;
    this.srej_to_send[tx] = 0;
    this.srej_outstanding--;
    const stamp = this.srej_stamp[tx]!;
    this.srej_stamp[tx] = 0;
    if (stamp === 0 || this.srej_outstanding === 0) return;
    for (let d = 0; d < 64; d++) {
      const s = (this.expected_tx_seq + d) & 0x3f;
      if (!this.srej_requested[s] || this.srej_to_send[s]) continue;
      const st = this.srej_stamp[s]!;
      if (st === 0 || st > stamp) continue;
      this.srej_to_send[s] = 1;
      this.srej_resent++;
    }
  }

  private requestSrej(seq: number): void {
    if (!this.srej_requested[seq]) this.srej_outstanding++;
    this.srej_requested[seq] = 1;
    this.srej_to_send[seq] = 1;
  }

  private storeRx(f: L2capErtmFrame, buf: Uint8Array, tx: number, d: number): void {
    const slot = (this.rx_total + d) % this.o.p.num_rx_buffers;
    this.rx_slot[tx] = slot;
    const base = this.rx_base + slot * this.o.p.local_mps;
    this.o.buffer().set(buf.subarray(f.payload_offset, f.payload_offset + f.payload_length), base);
    this.rx_valid[tx] = 1;
    this.rx_len[tx] = f.payload_length;
    this.rx_sar[tx] = l2cap_ertm_sar(f.control);
    this.rx_sdu_len[tx] = f.sdu_length;
  }

  /** Reassemble the frames kept after a filled gap; back to RECV when no SREJ is outstanding. */
  private drainStored(): void {
    if (this.rx_state !== SREJ_SENT) return;
    for (;;) {
      const seq = this.expected_tx_seq;
      if (!this.rx_valid[seq]) break;
      this.rx_valid[seq] = 0;
      const base = this.rx_base + this.rx_slot[seq]! * this.o.p.local_mps;
      if (!this.reassemble(this.rx_sar[seq]!, this.rx_sdu_len[seq]!, this.o.buffer(), base, this.rx_len[seq]!)) return;
      this.expected_tx_seq = (seq + 1) & 0x3f;
      this.rx_total++;
    }
    if (this.srej_outstanding === 0) {
      this.rx_state = RECV;
      this.rx_valid.fill(0);
    }
  }

  receiveStreaming(f: L2capErtmFrame, buf: Uint8Array): void {
    const tx = l2cap_ertm_tx_seq(f.control);
    if (tx !== this.expected_tx_seq) {
      // frames were lost: the SDU under reassembly is incomplete and is dropped (8.5)
      if (this.reasm_active) this.o.stats.dropped++;
      this.reasm_active = false;
    }
    this.expected_tx_seq = (tx + 1) & 0x3f;
    if (f.payload_length > this.o.p.local_mps) {
      this.o.stats.malformed++;
      this.reasm_active = false;
      return;
    }
    this.reassemble(l2cap_ertm_sar(f.control), f.sdu_length, buf, f.payload_offset, f.payload_length);
  }

  /** Add one I-frame's payload to the SDU; false when the SAR sequence is broken (ERTM: the channel fails). */
  private reassemble(sar: number, sdu_len: number, src: Uint8Array, off: number, len: number): boolean {
    const mtu = this.o.p.local_mtu;
    let ok = true;
    switch (sar) {
      case L2CAP_SAR_UNSEGMENTED:
        if (this.reasm_active || len > mtu) ok = false;
        else {
          this.o.buffer().set(src.subarray(off, off + len), 0);
          this.deliver(len);
        }
        break;
      case L2CAP_SAR_START:
        if (this.reasm_active || sdu_len > mtu || len >= sdu_len) ok = false;
        else {
          this.o.buffer().set(src.subarray(off, off + len), 0);
          this.reasm_active = true;
          this.reasm_pos = len;
          this.reasm_len = sdu_len;
        }
        break;
      case L2CAP_SAR_CONTINUATION:
        if (!this.reasm_active || this.reasm_pos + len >= this.reasm_len) ok = false;
        else {
          this.o.buffer().set(src.subarray(off, off + len), this.reasm_pos);
          this.reasm_pos += len;
        }
        break;
      default: // END
        if (!this.reasm_active || this.reasm_pos + len !== this.reasm_len) ok = false;
        else {
          this.o.buffer().set(src.subarray(off, off + len), this.reasm_pos);
          this.reasm_active = false;
          this.deliver(this.reasm_len);
        }
        break;
    }
    if (ok) return true;
    this.reasm_active = false;
    if (this.o.streaming) {
      this.o.stats.dropped++;
      return true;
    }
    this.o.rxFail('SAR error');
    return false;
  }

  private deliver(len: number): void {
    this.o.stats.sdus_delivered++;
    this.o.io.deliver(this.o.buffer().subarray(0, len), len);
  }
}
