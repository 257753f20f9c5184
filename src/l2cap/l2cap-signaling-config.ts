/**
 * Incoming Configuration Requests and Responses (Vol 3 Part A, 4.4, 4.5, 5, 7.1): the
 * configuration half of incoming signalling (l2cap-signaling-in.ts dispatches here). Options of a
 * request (possibly continued) are collected, answered with l2cap_config_request_answer, and the
 * answer is flagged on the channel (TODO_SEND_CONF_RSP) or, when an earlier answer is still unsent,
 * queued on the link so every request gets its own answer; l2cap-run.ts sends them.
 */
import {
  L2CAP_CONF_RESULT_PENDING,
  L2CAP_CONF_RESULT_REJECT,
  L2CAP_CONF_RESULT_SUCCESS,
  L2CAP_CONF_RESULT_UNACCEPTABLE_PARAMETERS,
  L2CAP_DEFAULT_MTU,
  L2CAP_MINIMAL_MTU,
  L2CAP_STATE_CONFIG,
  L2CAP_STATE_OPEN,
} from '../codes/v1.4.js';
import {
  L2CAP_CFG_LOCAL_ACKED,
  L2CAP_CFG_REMOTE_CONTINUATION,
  L2CAP_CFG_REMOTE_REQ_RECEIVED,
  l2cap_config_done,
} from './channel-state.js';
import {
  L2CAP_CONFIG_HAS_FLUSH_TIMEOUT,
  L2CAP_CONFIG_HAS_MTU,
  L2CAP_CONFIG_HAS_RFC,
  L2capConfigOptions,
  l2cap_config_options_copy_unknown,
  l2cap_config_options_parse,
  l2cap_config_options_write,
  l2cap_config_request_answer,
} from './config-options.js';
import {
  L2CAP_CONFIG_FLAG_CONTINUATION,
  L2CAP_REJ_INVALID_CID,
  L2capConfigureRequest,
  L2capConfigureResponse,
  L2capSignalingCommand,
  l2cap_sig_parse_configure_request,
  l2cap_sig_parse_configure_response,
} from './signaling.js';
import {
  L2CAP_MAX_CONFIG_REQUESTS,
  TODO_CONF_REQ_EMPTY,
  TODO_SEND_CONF_REQ,
  TODO_SEND_CONF_RSP,
  L2CAP_CONFIG_BUFFER_SIZE,
  l2cap_conf_buf_room,
  type L2capChannel,
  type L2capLink,
} from './l2cap-objects.js';
import type { L2capState } from './l2cap-state.js';
import type { L2capSignalingInPeers } from './l2cap-signaling-in.js';
/** What configuration handling needs from the channel lifecycle. */
export type L2capConfigInPeers = Pick<L2capSignalingInPeers, 'failConfig' | 'open' | 'startRtx' | 'stopTimer' | 'ertm'>;

/** How configuration handling answers with a Command Reject (the queue in l2cap-signaling-in.ts). */
export interface L2capConfigInAnswers {
  reject(link: L2capLink, id: number, reason: number, d1: number, d2: number): void;
  owed(link: L2capLink, id: number): void;
}

export class L2capConfigIn {
  private readonly confReq = new L2capConfigureRequest();
  private readonly confRsp = new L2capConfigureResponse();
  private readonly options = new L2capConfigOptions();

  constructor(
    private readonly s: L2capState,
    private readonly x: L2capConfigInPeers,
    private readonly answers: L2capConfigInAnswers,
  ) {}

  onConfigureRequest(link: L2capLink, cmd: L2capSignalingCommand): void {
    const req = this.confReq;
    if (!l2cap_sig_parse_configure_request(cmd, req)) return;
    const c = this.s.channelOnLink(link.con_handle, req.dcid);
    if (!c) {
      this.answers.reject(link, cmd.identifier, L2CAP_REJ_INVALID_CID, req.dcid, 0);
      return;
    }
    if (c.state !== L2CAP_STATE_CONFIG && c.state !== L2CAP_STATE_OPEN) {
      // also while the channel is being disconnected: there is nothing left to configure (BlueZ answers the same)
      this.answers.reject(link, cmd.identifier, L2CAP_REJ_INVALID_CID, req.dcid, c.remote_cid);
      return;
    }
    // the answer to the previous request has not gone out yet: it waits in the link's queue (every
    // request gets exactly one response, Vol 3 Part A, 4), this one takes the channel's place
    if (c.todo & TODO_SEND_CONF_RSP) this.queueConfigResponse(link, c);
    // a request that does not continue an earlier one starts a fresh option buffer
    if (!(c.cfg & L2CAP_CFG_REMOTE_CONTINUATION)) c.conf_len = 0;
    const n = req.options_length;
    c.conf_rsp_id = cmd.identifier;
    c.todo |= TODO_SEND_CONF_RSP;
    if (c.conf_len + n > L2CAP_CONFIG_BUFFER_SIZE) {
      this.s.log.error(
        () => `configuration options of channel 0x${c.local_cid.toString(16)} exceed ${L2CAP_CONFIG_BUFFER_SIZE} bytes: rejected`,
      );
      c.conf_len = 0;
      c.cfg &= ~L2CAP_CFG_REMOTE_CONTINUATION;
      c.conf_rsp_flags = 0;
      c.conf_answer.clear();
      c.conf_answer.result = L2CAP_CONF_RESULT_REJECT;
      return;
    }
    l2cap_conf_buf_room(c, c.conf_len + n).set(cmd.buf.subarray(req.options_offset, req.options_offset + n), c.conf_len);
    c.conf_len += n;
    if (req.continuation) {
      // "each Configuration Request with the continuation flag shall be answered" with the flag set (Vol 3 Part A, 4.5)
      c.cfg |= L2CAP_CFG_REMOTE_CONTINUATION;
      c.conf_rsp_flags = L2CAP_CONFIG_FLAG_CONTINUATION;
      c.conf_answer.clear();
      return;
    }
    c.cfg &= ~L2CAP_CFG_REMOTE_CONTINUATION;
    c.conf_rsp_flags = 0;
    const opts = c.remote_options.clear();
    const parse = l2cap_config_options_parse(c.conf_buf, 0, c.conf_len, opts);
    const answer = l2cap_config_request_answer(
      opts,
      parse,
      c.conf_answer,
      parse === 'ok' ? this.x.ertm.modeForRequest(c, opts) : c.mode,
    );
    this.x.ertm.requestAnswered(c, opts, answer);
    if (answer.result !== L2CAP_CONF_RESULT_SUCCESS) {
      this.s.log.info(
        () =>
          `configuration request on channel 0x${c.local_cid.toString(16)} answered with result ${answer.result}: ${answer.problem}`,
      );
      return;
    }
    if (opts.has(L2CAP_CONFIG_HAS_MTU)) c.remote_mtu = Math.min(opts.mtu, this.s.maxMtu());
    else if (c.state === L2CAP_STATE_CONFIG) c.remote_mtu = L2CAP_DEFAULT_MTU;
    if (opts.has(L2CAP_CONFIG_HAS_FLUSH_TIMEOUT)) c.flush_timeout = opts.flush_timeout;
    c.cfg |= L2CAP_CFG_REMOTE_REQ_RECEIVED;
  }

  /** Move the channel's unsent Configuration Response into the link's queue. */
  private queueConfigResponse(link: L2capLink, c: L2capChannel): void {
    c.todo &= ~TODO_SEND_CONF_RSP;
    const a = c.conf_answer;
    const r = link.responses.configure_response(c.conf_rsp_id, c.remote_cid, c.conf_rsp_flags, a.result);
    if (!r) {
      this.answers.owed(link, c.conf_rsp_id);
      return;
    }
    const n = a.echo_unknown
      ? l2cap_config_options_copy_unknown(c.conf_buf, 0, c.conf_len, r.options, 0)
      : l2cap_config_options_write(r.options, 0, a.options);
    if (n < 0) {
      // more unknown options than a queued answer holds: "rejected" without a list
      r.result = L2CAP_CONF_RESULT_REJECT;
      r.options_len = 0;
    } else r.options_len = n;
  }

  onConfigureResponse(link: L2capLink, cmd: L2capSignalingCommand): void {
    const rsp = this.confRsp;
    if (!l2cap_sig_parse_configure_response(cmd, rsp)) return;
    const c = this.s.channelOnLink(link.con_handle, rsp.scid);
    if (!c || (c.state !== L2CAP_STATE_CONFIG && c.state !== L2CAP_STATE_OPEN) || c.local_sig_id !== cmd.identifier) {
      this.s.log.info(
        () => `configuration response id ${cmd.identifier} for cid 0x${rsp.scid.toString(16)} matches no request, dropped`,
      );
      return;
    }
    this.x.stopTimer(c);
    switch (rsp.result) {
      case L2CAP_CONF_RESULT_SUCCESS:
        c.local_sig_id = 0;
        if (rsp.continuation) {
          // the responder has more to say: ask for it with an empty request (Vol 3 Part A, 4.5)
          c.todo |= TODO_SEND_CONF_REQ | TODO_CONF_REQ_EMPTY;
          return;
        }
        c.cfg |= L2CAP_CFG_LOCAL_ACKED;
        if (c.state === L2CAP_STATE_CONFIG && l2cap_config_done(c.cfg)) this.x.open(c);
        return;
      case L2CAP_CONF_RESULT_UNACCEPTABLE_PARAMETERS: {
        c.local_sig_id = 0;
        const o = this.options.clear();
        const ok = l2cap_config_options_parse(cmd.buf, rsp.options_offset, rsp.options_length, o) === 'ok';
        let acceptable = ok && c.conf_requests < L2CAP_MAX_CONFIG_REQUESTS;
        if (acceptable && o.has(L2CAP_CONFIG_HAS_MTU)) {
          if (o.mtu >= L2CAP_MINIMAL_MTU && o.mtu <= this.s.maxMtu()) c.local_mtu = o.mtu;
          else acceptable = false;
        }
        if (acceptable && o.has(L2CAP_CONFIG_HAS_RFC) && !this.x.ertm.proposedMode(c, o.mode)) acceptable = false;
        if (!acceptable) {
          this.s.log.info(
            () => `configuration of channel 0x${c.local_cid.toString(16)} failed: remote wants parameters we cannot use`,
          );
          this.x.failConfig(c, 'configuration rejected');
          return;
        }
        c.todo |= TODO_SEND_CONF_REQ;
        return;
      }
      case L2CAP_CONF_RESULT_PENDING:
        this.x.startRtx(c, true);
        return;
      default:
        c.local_sig_id = 0;
        this.s.log.info(() => `configuration of channel 0x${c.local_cid.toString(16)} failed with result ${rsp.result}`);
        this.x.failConfig(c, 'configuration failed');
        return;
    }
  }
}
