/**
 * The link-level requests this host makes (Vol 3 Part A, 4.8-4.11): the information exchange
 * (extended features, then fixed channels when the remote has them) that outgoing channels wait
 * for, and l2cap_send_echo_request. Requests are written by the send side (l2cap-run.ts) when the
 * link can take a packet; their answers, Command Rejects and RTX timeouts end them here.
 */
import type { Timer } from '../core/run-loop.js';
import {
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  L2CAP_COMMAND_REJECT_REASON_COMMAND_NOT_UNDERSTOOD,
  L2CAP_CONNECTION_BASEBAND_DISCONNECT,
  L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT,
  L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU,
  L2CAP_RTX_TIMEOUT_MS,
} from '../codes/v1.4.js';
import {
  ECHO_IDLE,
  ECHO_W2_SEND,
  ECHO_W4_RESPONSE,
  INFO_DONE,
  INFO_IDLE,
  INFO_W2_SEND_EXTENDED_FEATURES,
  INFO_W2_SEND_FIXED_CHANNELS,
  INFO_W4_EXTENDED_FEATURES,
  INFO_W4_FIXED_CHANNELS,
  L2CAP_ECHO_BUFFER_SIZE,
  NO_BYTES,
  type L2capEchoCallback,
  type L2capLink,
} from './l2cap-objects.js';
import {
  L2CAP_EXTENDED_FEATURE_FIXED_CHANNELS,
  L2CAP_INFO_RESULT_SUCCESS,
  L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED,
  L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED,
  l2cap_sig_echo_request,
  l2cap_sig_information_request,
  type L2capInformationResponse,
} from './signaling.js';
import type { L2capState } from './l2cap-state.js';

/** What the echo / information requests need from their siblings. */
export interface L2capEchoInfoPeers {
  run(): void;
  scheduleRun(): void;
  noteActivity(link: L2capLink): void;
  /** The information exchange on `link` ended: channels waiting for it go on. */
  infoReady(link: L2capLink): void;
}

const EMPTY = new Uint8Array(0);

export class L2capEchoInfo {
  constructor(
    private readonly s: L2capState,
    private readonly x: L2capEchoInfoPeers,
  ) {}

  /** l2cap_send_echo_request (arguments checked). */
  echoRequest(con_handle: number, data: Uint8Array | null, len: number, callback: L2capEchoCallback | null): number {
    const link = this.s.linkForHandle(con_handle);
    if (!link) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (link.echo_state !== ECHO_IDLE) return ERROR_CODE_COMMAND_DISALLOWED;
    const n = data ? len : 0;
    if (n > L2CAP_ECHO_BUFFER_SIZE - 8) return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (data && n) (link.echo_req_data ??= new Uint8Array(L2CAP_ECHO_BUFFER_SIZE)).set(data.subarray(0, n), 0);
    link.echo_req_len = n;
    link.echo_callback = callback;
    link.echo_state = ECHO_W2_SEND;
    this.x.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  /** l2cap_send_information_request. */
  informationRequest(con_handle: number): number {
    const link = this.s.linkForHandle(con_handle);
    if (!link) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (link.info_state !== INFO_IDLE && link.info_state !== INFO_DONE) return ERROR_CODE_COMMAND_DISALLOWED;
    link.info_state = INFO_W2_SEND_EXTENDED_FEATURES;
    this.x.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  // ============================================================================== send side

  /** The link has an information or echo request to send. */
  hasRequest(link: L2capLink): boolean {
    return (
      link.info_state === INFO_W2_SEND_EXTENDED_FEATURES ||
      link.info_state === INFO_W2_SEND_FIXED_CHANNELS ||
      link.echo_state === ECHO_W2_SEND
    );
  }

  /** Write the link's next request at buf[pos] (information first, then echo): bytes written or -1. */
  writeRequest(link: L2capLink, buf: Uint8Array, pos: number): number {
    const id = this.s.nextSigId();
    if (link.info_state === INFO_W2_SEND_EXTENDED_FEATURES || link.info_state === INFO_W2_SEND_FIXED_CHANNELS) {
      const fixed = link.info_state === INFO_W2_SEND_FIXED_CHANNELS;
      const n = l2cap_sig_information_request(
        buf,
        pos,
        id,
        fixed ? L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED : L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED,
      );
      link.info_sig_id = id;
      link.info_state = fixed ? INFO_W4_FIXED_CHANNELS : INFO_W4_EXTENDED_FEATURES;
      this.startTimer(link.info_timer, (this.#onInfoTimeout ??= this.onInfoTimeout.bind(this)));
      return n;
    }
    const n = l2cap_sig_echo_request(buf, pos, id, link.echo_req_data ?? NO_BYTES, 0, link.echo_req_len);
    link.echo_sig_id = id;
    link.echo_state = ECHO_W4_RESPONSE;
    this.startTimer(link.echo_timer, (this.#onEchoTimeout ??= this.onEchoTimeout.bind(this)));
    this.x.noteActivity(link);
    return n;
  }

  private startTimer(timer: Timer, handler: (t: Timer) => void): void {
    const rl = this.s.run_loop;
    rl.remove_timer(timer);
    timer.handler = handler;
    rl.set_timer(timer, L2CAP_RTX_TIMEOUT_MS);
    rl.add_timer(timer);
  }

  /** onInfoTimeout bound to this component, made the first time it is handed out. */
  #onInfoTimeout: ((t: Timer) => void) | null = null;

  private onInfoTimeout(t: Timer): void {
    const link = t.context as L2capLink;
    if (!this.s.linkPool.owns(link)) return;
    this.s.log.info(() => `L2CAP information request on handle 0x${link.con_handle.toString(16)} not answered, going on without`);
    this.infoDone(link, 0, 0);
    this.x.run();
  }

  /** onEchoTimeout bound to this component, made the first time it is handed out. */
  #onEchoTimeout: ((t: Timer) => void) | null = null;

  private onEchoTimeout(t: Timer): void {
    const link = t.context as L2capLink;
    if (!this.s.linkPool.owns(link)) return;
    this.echoDone(link, L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT, null, 0, 0);
  }

  // ================================================================================ answers

  /** An Echo Response with identifier `id` and data buf[off, off + len). */
  echoResponse(link: L2capLink, id: number, buf: Uint8Array, off: number, len: number): void {
    if (link.echo_state === ECHO_W4_RESPONSE && id === link.echo_sig_id) this.echoDone(link, 0, buf, off, len);
    else this.s.log.info(() => `unexpected echo response id ${id} dropped`);
  }

  informationResponse(link: L2capLink, id: number, r: L2capInformationResponse): void {
    if (id !== link.info_sig_id) {
      this.s.log.info(() => `information response id ${id} matches no request, dropped`);
      return;
    }
    const ok = r.result === L2CAP_INFO_RESULT_SUCCESS;
    if (link.info_state === INFO_W4_EXTENDED_FEATURES && r.info_type === L2CAP_INFO_TYPE_EXTENDED_FEATURES_SUPPORTED) {
      const features = ok ? r.extended_features : 0;
      if (features & L2CAP_EXTENDED_FEATURE_FIXED_CHANNELS) {
        this.s.run_loop.remove_timer(link.info_timer);
        link.extended_features = features >>> 0;
        link.info_state = INFO_W2_SEND_FIXED_CHANNELS;
        link.info_sig_id = 0;
      } else this.infoDone(link, features, 0);
      return;
    }
    if (link.info_state === INFO_W4_FIXED_CHANNELS && r.info_type === L2CAP_INFO_TYPE_FIXED_CHANNELS_SUPPORTED) {
      this.infoDone(link, link.extended_features, ok ? r.fixed_channels_low : 0);
      return;
    }
    this.s.log.info(() => `information response type ${r.info_type} does not match the request, dropped`);
  }

  /** A Command Reject with identifier `id`: true when it answered our echo or information request. */
  commandReject(link: L2capLink, id: number, reason: number): boolean {
    if (link.echo_state === ECHO_W4_RESPONSE && link.echo_sig_id === id) {
      this.echoDone(link, (L2CAP_COMMAND_REJECT_REASON_COMMAND_NOT_UNDERSTOOD + Math.min(reason, 2)) & 0xff, null, 0, 0);
      return true;
    }
    if (
      (link.info_state === INFO_W4_EXTENDED_FEATURES || link.info_state === INFO_W4_FIXED_CHANNELS) &&
      link.info_sig_id === id
    ) {
      this.infoDone(link, link.info_state === INFO_W4_FIXED_CHANNELS ? link.extended_features : 0, 0);
      return true;
    }
    return false;
  }

  /** The link is going down. */
  linkGone(link: L2capLink): void {
    const rl = this.s.run_loop;
    rl.remove_timer(link.info_timer);
    if (link.echo_state !== ECHO_IDLE) this.echoDone(link, L2CAP_CONNECTION_BASEBAND_DISCONNECT, null, 0, 0);
    rl.remove_timer(link.echo_timer);
  }

  /** The information exchange ended: release channels waiting for it. */
  private infoDone(link: L2capLink, features: number, fixed: number): void {
    this.s.run_loop.remove_timer(link.info_timer);
    link.info_state = INFO_DONE;
    link.extended_features = features >>> 0;
    link.fixed_channels = fixed >>> 0;
    this.x.infoReady(link);
    this.s.events.informationResponse(link);
  }

  /** The echo request ended. */
  private echoDone(link: L2capLink, status: number, data: Uint8Array | null, off: number, len: number): void {
    this.s.run_loop.remove_timer(link.echo_timer);
    const cb = link.echo_callback;
    link.echo_callback = null;
    link.echo_state = ECHO_IDLE;
    link.echo_sig_id = 0;
    if (!cb) return;
    const view = data ? data.subarray(off, off + len) : EMPTY;
    try {
      cb(status, view, view.length);
    } catch (err) {
      this.s.log.error(() => `echo callback threw: ${String(err)}`);
    }
  }
}
