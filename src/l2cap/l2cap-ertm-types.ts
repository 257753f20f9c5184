/** The contracts of the ERTM / streaming engine (l2cap-ertm.ts): its I/O, parameters and counters. */

/** What the engine needs from the channel that hosts it. */
export interface L2capErtmIo {
  /** There is a frame to send: call poll() when the link can take a PDU. */
  request_send(): void;
  /** A whole SDU, in order (the view is valid during the call only). */
  deliver(sdu: Uint8Array, len: number): void;
  /** The channel cannot go on (MaxTransmit reached, invalid sequence numbers, SAR errors). */
  fail(reason: string): void;
}

/** The negotiated parameters of one channel. */
export interface L2capErtmParams {
  mode: number;
  fcs: boolean;
  remote_cid: number;
  local_mtu: number;
  remote_mtu: number;
  /** Largest I-frame payload we accept (our MPS) = the size of each slot. */
  local_mps: number;
  /** Largest I-frame payload the remote accepts. */
  remote_mps: number;
  /** Unacknowledged I-frames the remote may send us (our TxWindow, <= num_rx_buffers). */
  local_tx_window: number;
  /** Unacknowledged I-frames we may send (the remote's TxWindow). */
  remote_tx_window: number;
  num_rx_buffers: number;
  num_tx_buffers: number;
  /** Transmissions of one I-frame (and polls) before the channel fails; 0 = unlimited. */
  max_transmit: number;
  retransmission_timeout_ms: number;
  monitor_timeout_ms: number;
}

export class L2capErtmStats {
  i_frames_sent = 0;
  retransmissions = 0;
  s_frames_sent = 0;
  rej_sent = 0;
  srej_sent = 0;
  rnr_sent = 0;
  polls_sent = 0;
  fcs_errors = 0;
  malformed = 0;
  dropped = 0;
  sdus_delivered = 0;
  clear(): void {
    this.i_frames_sent = this.retransmissions = this.s_frames_sent = this.rej_sent = this.srej_sent = 0;
    this.rnr_sent = this.polls_sent = this.fcs_errors = this.malformed = this.dropped = this.sdus_delivered = 0;
  }
}
