/** The contracts of the ERTM / streaming engine (l2cap-ertm.ts): its I/O, parameters and counters. */

/** What the engine needs from the channel that hosts it. */
export interface L2capErtmIo {
  /** There is a frame to send: call poll() when the link can take a PDU. */
  request_send(): void;
  /** A whole SDU, in order (the view is valid during the call only). */
  deliver(sdu: Uint8Array, len: number): void;
  /** The channel cannot go on (MaxTransmit reached, invalid sequence numbers, SAR errors). */
  fail(reason: string): void;
  /** Every stored frame is sent (streaming) or acknowledged (ERTM). */
  drained?(): void;
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
  srej_sent = 0;
  rnr_sent = 0;
  polls_sent = 0;
  fcs_errors = 0;
  malformed = 0;
  dropped = 0;
  sdus_delivered = 0;
  clear(): void {
    this.i_frames_sent = this.retransmissions = this.s_frames_sent = this.srej_sent = 0;
    this.rnr_sent = this.polls_sent = this.fcs_errors = this.malformed = this.dropped = this.sdus_delivered = 0;
  }
}
/**
 * BTstack's l2cap_ertm_config_t (l2cap.h): what the application asks for in
 * l2cap_ertm_create_channel / l2cap_ertm_accept_connection.
 */
export interface l2cap_ertm_config_t {
  /** If not mandatory, the remote may decide against ERTM (fallback to Basic mode). */
  ertm_mandatory: boolean | number;
  /** Transmissions of an I-frame (and unanswered polls) before the channel is given up (1..255). */
  max_transmit: number;
  /** Time before an unacknowledged I-frame is polled for (BTstack recommends 2000 ms). */
  retransmission_timeout_ms: number;
  /** Time between polls while waiting for the F bit (BTstack recommends 12000 ms). */
  monitor_timeout_ms: number;
  /** MTU for incoming SDUs. */
  local_mtu: number;
  /** Outgoing I-frames kept until acknowledged. */
  num_tx_buffers: number;
  /** Out-of-order I-frames kept (our TxWindow). */
  num_rx_buffers: number;
  /** 1: use the FCS (16 bit); 0: ask for No FCS (used only when both sides ask, Vol 3 Part A 5.5). */
  fcs_option: number;
  /** bthost: L2CAP_CHANNEL_MODE_STREAMING_MODE for a streaming channel (BTstack has ERTM only); default ERTM. */
  mode?: number;
}

/** The ERTM / streaming state of one channel record besides its engine (reset with the record). */
export class L2capErtmChannelConfig {
  /** The mode the application asked for (0 = Basic: a plain channel). */
  wanted_mode = 0;
  mandatory = false;
  max_transmit = 0;
  retransmission_timeout_ms = 0;
  monitor_timeout_ms = 0;
  num_tx_buffers = 0;
  num_rx_buffers = 0;
  fcs_option = 1;
  buffer: Uint8Array | null = null;
  /** Our MPS: what the buffer gives each slot. */
  local_mps = 0;
  /** From the remote's Configuration Request: its TxWindow (our sending window), MaxTransmit, MPS, FCS. */
  remote_tx_window = 1;
  remote_max_transmit = 0;
  remote_mps = 0;
  remote_no_fcs = false;
  /** Fallback to Basic already done (the remote refused the mode). */
  fallback = false;
  /** l2cap_disconnect while frames were still queued or unacknowledged: disconnect once drained. */
  close_pending = false;

  reset(): void {
    this.wanted_mode = 0;
    this.mandatory = false;
    this.max_transmit = this.retransmission_timeout_ms = this.monitor_timeout_ms = 0;
    this.num_tx_buffers = this.num_rx_buffers = 0;
    this.fcs_option = 1;
    this.buffer = null;
    this.local_mps = 0;
    this.remote_tx_window = 1;
    this.remote_max_transmit = 0;
    this.remote_mps = 0;
    this.remote_no_fcs = false;
    this.fallback = false;
    this.close_pending = false;
  }

  /** FCS on the channel: unless both sides asked for No FCS. */
  get fcs_in_use(): boolean {
    return !(this.fcs_option === 0 && this.remote_no_fcs);
  }
}
