/**
 * ERTM and streaming mode on classic channels: BTstack's l2cap_ertm_* API checks, mode
 * negotiation in configuration (Core spec v5.4, Vol 3, Part A, 5.4, 5.5, 7.1.3), and the channel's
 * engine (l2cap-ertm.ts) wired to HCI's outgoing buffer, the channel's handler and disconnection.
 *
 * Negotiation, as BTstack does it:
 * - outgoing: the extended features exchange comes first; a remote without the mode's feature bit
 *   makes a mandatory channel fail with L2CAP_CONNECTION_RESPONSE_RESULT_ERTM_NOT_SUPPORTED (no
 *   Connection Request), an optional one falls back to Basic;
 * - our Configuration Request carries the RFC option (mode, TxWindow = num_rx_buffers,
 *   MaxTransmit, timeouts 0, MPS from the buffer) and, for fcs_option 0, FCS "No FCS";
 * - the remote's request asking for Basic (or no RFC option) on an optional channel moves the channel
 *   to Basic (accepted; our next request is Basic); on a mandatory one it is answered "unacceptable
 *   parameters" proposing our mode; a request for our mode is accepted, the response echoing the RFC
 *   option with our retransmission and monitor timeouts;
 * - "unacceptable parameters" proposing Basic to our request: optional -> Basic and a new request;
 *   mandatory -> the channel is disconnected (CHANNEL_OPENED with REFUSED_RESOURCES);
 * - a Basic channel (l2cap_accept_connection) answers ERTM requests "unacceptable" proposing Basic.
 */
import {
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_SUCCESS,
  L2CAP_CHANNEL_MODE_BASIC,
  L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION,
  L2CAP_CHANNEL_MODE_STREAMING_MODE,
  L2CAP_DATA_PACKET,
  L2CAP_LOCAL_CID_DOES_NOT_EXIST,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE,
  L2CAP_MINIMAL_MTU,
  L2CAP_STATE_OPEN,
  L2CAP_CONF_RESULT_SUCCESS,
} from '../codes/v1.4.js';
import {
  L2CAP_CONFIG_HAS_FCS,
  L2CAP_CONFIG_HAS_RFC,
  L2CAP_FCS_NONE,
  type L2capConfigAnswer,
  type L2capConfigOptions,
} from './config-options.js';
import { L2capErtm } from './l2cap-ertm.js';
import { L2CAP_ERTM_MAX_TX_WINDOW } from './l2cap-ertm-frames.js';
import type { l2cap_ertm_config_t } from './l2cap-ertm-types.js';
import { L2CAP_EXTENDED_FEATURE_ENHANCED_RETRANSMISSION_MODE, L2CAP_EXTENDED_FEATURE_STREAMING_MODE } from './signaling.js';
import type { L2capChannel } from './l2cap-objects.js';
import type { L2capState } from './l2cap-state.js';

/** Smallest MPS the buffer must give (the minimum MTU: one slot holds a minimal SDU). */
export const L2CAP_ERTM_MIN_MPS = L2CAP_MINIMAL_MTU;

/** What the ERTM glue needs from the rest of L2CAP. */
export interface L2capErtmChannelPeers {
  scheduleRun(): void;
  /** Give the channel up: Disconnection Request (CHANNEL_CLOSED once answered). */
  disconnect(ch: L2capChannel, why: string): void;
}

export class L2capErtmChannels {
  /**
   * Channels opened in ERTM / streaming mode, for the sender's frame scan (a closed one leaves at
   * its next scan): the scan no longer walks every channel when none uses these modes.
   */
  readonly open: L2capChannel[] = [];

  constructor(
    private readonly s: L2capState,
    private readonly x: L2capErtmChannelPeers,
  ) {}

  /** Check an ertm_config and buffer; 0 or a status. */
  check(cfg: l2cap_ertm_config_t, size: number): number {
    if (!cfg || typeof cfg !== 'object') throw new TypeError('ertm_config must be an l2cap_ertm_config_t');
    const mode = cfg.mode ?? L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION;
    if (mode !== L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION && mode !== L2CAP_CHANNEL_MODE_STREAMING_MODE)
      return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    const ints = [
      cfg.max_transmit,
      cfg.retransmission_timeout_ms,
      cfg.monitor_timeout_ms,
      cfg.local_mtu,
      cfg.num_tx_buffers,
      cfg.num_rx_buffers,
    ];
    if (ints.some((v) => !Number.isInteger(v) || v < 0)) return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    if (cfg.num_tx_buffers < 1 || cfg.num_tx_buffers > L2CAP_ERTM_MAX_TX_WINDOW)
      return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    if (cfg.num_rx_buffers < 1 || cfg.num_rx_buffers > L2CAP_ERTM_MAX_TX_WINDOW)
      return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    if (cfg.local_mtu < L2CAP_MINIMAL_MTU || cfg.local_mtu > 0xffff) return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    if (cfg.max_transmit > 0xff || cfg.retransmission_timeout_ms > 0xffff || cfg.monitor_timeout_ms > 0xffff)
      return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    const mps = L2capErtm.mps_for_buffer(size, cfg.local_mtu, cfg.num_rx_buffers, cfg.num_tx_buffers);
    return mps < L2CAP_ERTM_MIN_MPS ? BTSTACK_MEMORY_ALLOC_FAILED : ERROR_CODE_SUCCESS;
  }

  /** Put an (already checked) config on a channel record. */
  apply(ch: L2capChannel, cfg: l2cap_ertm_config_t, buffer: Uint8Array, size: number): void {
    const e = ch.ertm_cfg;
    e.wanted_mode = cfg.mode ?? L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION;
    e.mandatory = !!cfg.ertm_mandatory;
    e.max_transmit = cfg.max_transmit;
    e.retransmission_timeout_ms = cfg.retransmission_timeout_ms;
    e.monitor_timeout_ms = cfg.monitor_timeout_ms;
    e.num_tx_buffers = cfg.num_tx_buffers;
    e.num_rx_buffers = cfg.num_rx_buffers;
    e.fcs_option = cfg.fcs_option ? 1 : 0;
    e.buffer = buffer.subarray(0, size);
    e.local_mps = L2capErtm.mps_for_buffer(size, cfg.local_mtu, cfg.num_rx_buffers, cfg.num_tx_buffers);
    ch.mode = e.wanted_mode;
    ch.local_mtu = cfg.local_mtu;
  }

  /** The remote's extended features are known (outgoing channel): 0 to go on, or the failure status. */
  featuresKnown(ch: L2capChannel, features: number): number {
    if (ch.mode === L2CAP_CHANNEL_MODE_BASIC) return 0;
    const bit =
      ch.mode === L2CAP_CHANNEL_MODE_STREAMING_MODE
        ? L2CAP_EXTENDED_FEATURE_STREAMING_MODE
        : L2CAP_EXTENDED_FEATURE_ENHANCED_RETRANSMISSION_MODE;
    if (features & bit) return 0;
    if (ch.ertm_cfg.mandatory) return this.s.codes.L2CAP_CONNECTION_RESPONSE_RESULT_ERTM_NOT_SUPPORTED;
    this.fallback(ch, 'remote without the mode');
    return 0;
  }

  private fallback(ch: L2capChannel, why: string): void {
    this.s.log.info(() => `l2cap cid 0x${ch.local_cid.toString(16)}: mode ${ch.mode} -> Basic (${why})`);
    ch.mode = L2CAP_CHANNEL_MODE_BASIC;
    ch.ertm_cfg.fallback = true;
  }

  /** Our Configuration Request's mode options. */
  requestOptions(ch: L2capChannel, opts: L2capConfigOptions): void {
    if (ch.mode === L2CAP_CHANNEL_MODE_BASIC) return;
    const e = ch.ertm_cfg;
    const streaming = ch.mode === L2CAP_CHANNEL_MODE_STREAMING_MODE;
    opts.set_rfc(ch.mode, streaming ? 0 : e.num_rx_buffers, streaming ? 0 : e.max_transmit, 0, 0, e.local_mps);
    if (e.fcs_option === 0) opts.set_fcs(L2CAP_FCS_NONE);
  }

  /** The mode the remote's request is judged against (an optional channel follows a remote asking for Basic). */
  modeForRequest(ch: L2capChannel, opts: L2capConfigOptions): number {
    if (ch.mode === L2CAP_CHANNEL_MODE_BASIC) return ch.mode;
    const asked = opts.has(L2CAP_CONFIG_HAS_RFC) ? opts.mode : L2CAP_CHANNEL_MODE_BASIC;
    if (asked === L2CAP_CHANNEL_MODE_BASIC && !ch.ertm_cfg.mandatory) this.fallback(ch, 'the remote asked for Basic');
    return ch.mode;
  }

  /** The remote's request was answered: keep its parameters, and fill the RFC option of the answer. */
  requestAnswered(ch: L2capChannel, opts: L2capConfigOptions, answer: L2capConfigAnswer): void {
    if (ch.mode === L2CAP_CHANNEL_MODE_BASIC) return;
    const e = ch.ertm_cfg;
    if (answer.result === L2CAP_CONF_RESULT_SUCCESS) {
      e.remote_tx_window = Math.max(1, Math.min(opts.tx_window_size, L2CAP_ERTM_MAX_TX_WINDOW));
      e.remote_max_transmit = opts.max_transmit;
      e.remote_mps = opts.mps || e.local_mps;
      e.remote_no_fcs = opts.has(L2CAP_CONFIG_HAS_FCS) && opts.fcs === L2CAP_FCS_NONE;
      // the response carries the timeouts we use as a sender (5.4)
      answer.options.set_rfc(
        ch.mode,
        opts.tx_window_size,
        opts.max_transmit,
        e.retransmission_timeout_ms,
        e.monitor_timeout_ms,
        opts.mps,
      );
    } else if (answer.options.has(L2CAP_CONFIG_HAS_RFC)) {
      const streaming = ch.mode === L2CAP_CHANNEL_MODE_STREAMING_MODE;
      answer.options.set_rfc(ch.mode, streaming ? 0 : e.num_rx_buffers, streaming ? 0 : e.max_transmit, 0, 0, e.local_mps);
    }
  }

  /** "Unacceptable parameters" to our request proposing mode `proposed`: true to send a new request, false to give up. */
  proposedMode(ch: L2capChannel, proposed: number): boolean {
    if (proposed === ch.mode) return true;
    if (proposed === L2CAP_CHANNEL_MODE_BASIC && ch.mode !== L2CAP_CHANNEL_MODE_BASIC && !ch.ertm_cfg.mandatory) {
      this.fallback(ch, 'the remote proposed Basic');
      return true;
    }
    return false;
  }

  // ================================================================================ open channel

  private engineFor(ch: L2capChannel): L2capErtm {
    if (ch.ertm) return ch.ertm;
    const x = this.x;
    ch.ertm = new L2capErtm(this.s.run_loop, {
      request_send: () => x.scheduleRun(),
      deliver: (sdu, len) => ch.handler?.(L2CAP_DATA_PACKET, ch.local_cid, sdu, len),
      fail: (reason) => x.disconnect(ch, `ERTM: ${reason}`),
      drained: () => {
        if (!ch.ertm_cfg.close_pending) return;
        ch.ertm_cfg.close_pending = false;
        x.disconnect(ch, 'every frame delivered');
      },
    });
    return ch.ertm;
  }

  /** The channel opened in ERTM / streaming mode: start its engine on the application's buffer. */
  opened(ch: L2capChannel): void {
    if (ch.mode === L2CAP_CHANNEL_MODE_BASIC) return;
    if (!this.open.includes(ch)) this.open.push(ch);
    const e = ch.ertm_cfg;
    this.engineFor(ch).start(
      {
        mode: ch.mode,
        fcs: e.fcs_in_use,
        remote_cid: ch.remote_cid,
        local_mtu: ch.local_mtu,
        remote_mtu: ch.remote_mtu,
        local_mps: e.local_mps,
        remote_mps: e.remote_mps || e.local_mps,
        local_tx_window: e.num_rx_buffers,
        remote_tx_window: e.remote_tx_window,
        num_rx_buffers: e.num_rx_buffers,
        num_tx_buffers: e.num_tx_buffers,
        max_transmit: e.remote_max_transmit || e.max_transmit,
        retransmission_timeout_ms: Math.max(1, e.retransmission_timeout_ms),
        monitor_timeout_ms: Math.max(1, e.monitor_timeout_ms),
      },
      e.buffer!,
    );
  }

  /** The channel ended: stop the engine; the buffer goes back to the application (ERTM_BUFFER_RELEASED). */
  closed(ch: L2capChannel): void {
    ch.ertm?.stop();
    const e = ch.ertm_cfg_made;
    if (e?.buffer) {
      e.buffer = null;
      this.s.events.ertmBufferReleased(ch);
    }
  }

  /** l2cap_disconnect on an ERTM / streaming channel with frames still queued: wait for them (true = deferred). */
  deferDisconnect(ch: L2capChannel): boolean {
    if (!this.isErtm(ch) || ch.ertm!.queued === 0) return false;
    ch.ertm_cfg.close_pending = true;
    this.s.log.info(
      () => `l2cap cid 0x${ch.local_cid.toString(16)}: disconnect once ${ch.ertm!.queued} queued frames are through`,
    );
    return true;
  }

  isErtm(ch: L2capChannel): boolean {
    return ch.mode !== L2CAP_CHANNEL_MODE_BASIC && ch.state === L2CAP_STATE_OPEN && !!ch.ertm?.running;
  }

  /** l2cap_send on an ERTM / streaming channel: the SDU is copied into the transmit slots. */
  send(ch: L2capChannel, data: Uint8Array, len: number): number {
    const st = ch.ertm!.send_sdu(data, 0, len);
    return st;
  }

  /** Room for one SDU of the remote's MTU (or as much as the transmit slots can ever hold). */
  canSend(ch: L2capChannel): boolean {
    const e = ch.ertm!;
    return e.can_store(Math.max(1, e.max_sdu));
  }

  /** l2cap_ertm_set_busy / set_ready. */
  setBusy(local_cid: number, busy: boolean): number {
    const ch = this.s.channelForCid(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    if (ch.mode !== L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION || !ch.ertm?.running) return ERROR_CODE_COMMAND_DISALLOWED;
    ch.ertm.set_local_busy(busy);
    return ERROR_CODE_SUCCESS;
  }
}
