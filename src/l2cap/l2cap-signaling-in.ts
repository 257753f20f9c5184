/**
 * Incoming C-frames on CID 0x0001 (Vol 3 Part A, 4): walk the commands, answer what must be
 * answered, advance the channels. Nothing is sent from here: answers are queued on the link
 * (L2capLink.responses, l2cap-responses.ts: every request gets exactly one answer, in bounded
 * memory) or flagged on the channel, and l2cap-run.ts sends them.
 *
 * Rules beyond the codec's (signaling.ts decides reject / drop for malformed commands):
 * - A response is matched by identifier AND the CIDs it names; a response that matches nothing
 *   we are waiting for (late, duplicated, forged) is dropped.
 * - Every request is answered, also one whose identifier is that of a request still being
 *   answered: "a device receiving a duplicate request should reply with a duplicate response"
 *   (Vol 3 Part A, 4), and a remote may reuse an identifier once it has used all others, so
 *   the same identifier may legitimately be outstanding twice. A repeated Connection Request
 *   for a channel we have gets the answer that channel stands for now (success, pending, or
 *   the refusal), a repeated Disconnection Request a second Disconnection Response.
 * - A request naming a CID we do not have (or one in a state where the request makes no sense)
 *   gets Command Reject "invalid CID in request" with the CIDs as the request named them.
 */
import {
  COMMAND_REJECT,
  CONFIGURE_REQUEST,
  CONFIGURE_RESPONSE,
  CONNECTION_REQUEST,
  CONNECTION_RESPONSE,
  DISCONNECTION_REQUEST,
  DISCONNECTION_RESPONSE,
  ECHO_REQUEST,
  ECHO_RESPONSE,
  INFORMATION_REQUEST,
  INFORMATION_RESPONSE,
  L2CAP_COMMAND_REJECT_REASON_COMMAND_NOT_UNDERSTOOD,
  L2CAP_CONNECTION_RESPONSE_RESULT_SUCCESSFUL,
  L2CAP_STATE_CLOSED,
  L2CAP_STATE_CONFIG,
  L2CAP_STATE_OPEN,
  L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT,
  L2CAP_STATE_WAIT_CONNECT_RSP,
  L2CAP_STATE_WAIT_DISCONNECT,
  L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE,
  L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST,
  L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE,
} from '../codes/v1.4.js';
import {} from './channel-state.js';
import { l2cap_cid_is_dynamic } from './pdu.js';
import { SpanCopier } from '../core/span.js';
import {
  L2CAP_CONNECTION_RESULT_INVALID_SOURCE_CID,
  L2CAP_CONNECTION_RESULT_NO_RESOURCES_AVAILABLE,
  L2CAP_CONNECTION_RESULT_PENDING,
  L2CAP_CONNECTION_RESULT_PSM_NOT_SUPPORTED,
  L2CAP_CONNECTION_RESULT_SECURITY_BLOCK,
  L2CAP_CONNECTION_RESULT_SOURCE_CID_ALREADY_ALLOCATED,
  L2CAP_CONNECTION_RESULT_SUCCESS,
  L2CAP_CONNECTION_STATUS_AUTHENTICATION_PENDING,
  L2CAP_CONNECTION_STATUS_AUTHORIZATION_PENDING,
  L2CAP_REJ_INVALID_CID,
  L2CAP_REJ_MTU_EXCEEDED,
  L2capCommandReject,
  L2capConnectionRequest,
  L2capConnectionResponse,
  L2capDisconnection,
  L2capInformationRequest,
  L2capInformationResponse,
  L2capSignalingCommand,
  L2capSignalingReader,
  l2cap_sig_classify,
  l2cap_sig_classify_frame,
  l2cap_sig_first_request_identifier,
  l2cap_sig_parse_command_reject,
  l2cap_sig_parse_connection_request,
  l2cap_sig_parse_connection_response,
  l2cap_sig_parse_disconnection,
  l2cap_sig_parse_information_request,
  l2cap_sig_parse_information_response,
} from './signaling.js';
import {
  L2CAP_ECHO_BUFFER_SIZE,
  L2CAP_SIGNALING_MTU,
  TODO_DISCONNECT_WHEN_CONNECTED,
  type L2capChannel,
  type L2capLink,
} from './l2cap-objects.js';
import type { L2capErtmChannels } from './l2cap-ertm-channel.js';
import type { L2capState } from './l2cap-state.js';
import { L2CAP_ECHO_INLINE } from './l2cap-responses.js';
import { L2capConfigIn, type L2capConfigInAnswers } from './l2cap-signaling-config.js';

/**
 * The status L2CAP_EVENT_CHANNEL_OPENED reports when the remote refused our Connection Request
 * with `result`: 0x63 + result. This is BTstack's own mapping (l2cap.c writes
 * L2CAP_CONNECTION_RESPONSE_RESULT_SUCCESSFUL + result): 2 -> 0x65 REFUSED_PSM, 3 -> 0x66
 * REFUSED_SECURITY, 4 -> 0x67 REFUSED_RESOURCES; results 5-7 land on 0x68-0x6A, which BTstack
 * also uses for other meanings (ERTM not supported, RTX timeout, baseband disconnect). Ported
 * code compares against these values, so the quirk is kept.
 */
export function l2cap_refusal_status(result: number): number {
  return (L2CAP_CONNECTION_RESPONSE_RESULT_SUCCESSFUL + result) & 0xff;
}

/** Reusable views for decoding one C-frame (one set per L2cap instance). */
class L2capSignalingScratch {
  readonly reader = new L2capSignalingReader();
  readonly cmd = new L2capSignalingCommand();
  readonly rej = new L2capCommandReject();
  readonly connReq = new L2capConnectionRequest();
  readonly connRsp = new L2capConnectionResponse();
  readonly disc = new L2capDisconnection();
  readonly infoReq = new L2capInformationRequest();
  readonly infoRsp = new L2capInformationResponse();
}

/** What incoming signalling needs from its siblings (the channel lifecycle and the echo / information requests). */
export interface L2capSignalingInPeers {
  /** ERTM / streaming mode negotiation in configuration (l2cap-ertm-channel.ts). */
  readonly ertm: Pick<L2capErtmChannels, 'modeForRequest' | 'requestAnswered' | 'proposedMode'>;
  setState(ch: L2capChannel, to: number, why: string): void;
  add(ch: L2capChannel): void;
  startRtx(ch: L2capChannel, ertx?: boolean): void;
  stopTimer(ch: L2capChannel): void;
  /** The security level a channel to `psm` needs given its service's own level. */
  requiredLevel(psm: number, service_level: number): number;
  /** A new incoming channel (in the list): offered to the application, or waiting for its security level. */
  incoming(ch: L2capChannel): void;
  enterConfig(ch: L2capChannel, why: string): void;
  failConfig(ch: L2capChannel, why: string): void;
  open(ch: L2capChannel): void;
  finalize(ch: L2capChannel, status: number, why: string): void;
  echoResponse(link: L2capLink, id: number, buf: Uint8Array, off: number, len: number): void;
  informationResponse(link: L2capLink, id: number, r: L2capInformationResponse): void;
  /** True when the Command Reject answered our echo or information request. */
  commandReject(link: L2capLink, id: number, reason: number): boolean;
}

export class L2capSignalingIn implements L2capConfigInAnswers {
  /** Reusable decoding views. */
  private readonly scratch = new L2capSignalingScratch();
  /** Echo Request data into its response (no view per request: the requests come in HCI's few receive buffers). */
  private readonly copier = new SpanCopier();

  /** Configuration Requests and Responses (l2cap-signaling-config.ts). */
  private readonly config: L2capConfigIn;

  constructor(
    private readonly s: L2capState,
    private readonly x: L2capSignalingInPeers,
  ) {
    this.config = new L2capConfigIn(s, x, this);
  }

  /** Handle the C-frame payload packet[off, off + len) received on `link`. */
  handle(link: L2capLink, packet: Uint8Array, off: number, len: number): void {
    const s = this.scratch;
    if (l2cap_sig_classify_frame(len, L2CAP_SIGNALING_MTU).action === 'reject') {
      const id = l2cap_sig_first_request_identifier(packet, off, len);
      this.s.log.error(() => `C-frame of ${len} bytes exceeds our signalling MTU ${L2CAP_SIGNALING_MTU}`);
      if (id !== 0) this.reject(link, id, L2CAP_REJ_MTU_EXCEEDED, L2CAP_SIGNALING_MTU, 0);
      return;
    }
    const reader = s.reader.reset(packet, off, len);
    const cmd = s.cmd;
    for (;;) {
      const st = reader.next(cmd);
      if (st === 'end') return;
      if (st !== 'command') {
        this.s.log.error(() => `signalling command dropped: ${st}`);
        return;
      }
      const verdict = l2cap_sig_classify(cmd);
      if (verdict.action === 'drop') {
        this.s.log.info(() => `signalling command 0x${cmd.code.toString(16)} id ${cmd.identifier} dropped: ${verdict.problem}`);
        continue;
      }
      if (verdict.action === 'reject') {
        this.s.log.info(() => `signalling command 0x${cmd.code.toString(16)} id ${cmd.identifier} rejected: ${verdict.problem}`);
        this.reject(link, cmd.identifier, verdict.reason, 0, 0);
        continue;
      }
      this.dispatch(link, cmd);
    }
  }

  /** Queue a Command Reject (reason with its data) answering the request `request_code` / `id`. */
  reject(link: L2capLink, id: number, reason: number, d1: number, d2: number): void {
    if (!link.responses.command_reject(id, reason, d1, d2)) this.owed(link, id);
  }

  /** The request `id` got no room in the link's queue: it is owed a Command Reject "not understood" (l2cap-responses.ts). */
  owed(link: L2capLink, id: number): void {
    const q = link.responses;
    if (q.lost)
      this.s.log.error(
        () =>
          `signalling request id ${id} on handle 0x${link.con_handle.toString(16)} cannot be answered: ${q.lost} answers lost`,
      );
    else
      this.s.log.info(
        () =>
          `signalling queue of handle 0x${link.con_handle.toString(16)} full: request id ${id} will get Command Reject (${q.size} answers waiting)`,
      );
  }

  private dispatch(link: L2capLink, cmd: L2capSignalingCommand): void {
    switch (cmd.code) {
      case COMMAND_REJECT:
        return this.onCommandReject(link, cmd);
      case CONNECTION_REQUEST:
        return this.onConnectionRequest(link, cmd);
      case CONNECTION_RESPONSE:
        return this.onConnectionResponse(link, cmd);
      case CONFIGURE_REQUEST:
        return this.config.onConfigureRequest(link, cmd);
      case CONFIGURE_RESPONSE:
        return this.config.onConfigureResponse(link, cmd);
      case DISCONNECTION_REQUEST:
        return this.onDisconnectionRequest(link, cmd);
      case DISCONNECTION_RESPONSE:
        return this.onDisconnectionResponse(link, cmd);
      case ECHO_REQUEST:
        return this.onEchoRequest(link, cmd);
      case ECHO_RESPONSE:
        return this.x.echoResponse(link, cmd.identifier, cmd.buf, cmd.data_offset, cmd.data_length);
      case INFORMATION_REQUEST: {
        const r = this.scratch.infoReq;
        if (!l2cap_sig_parse_information_request(cmd, r)) return;
        if (!link.responses.information_response(cmd.identifier, r.info_type)) this.owed(link, cmd.identifier);
        return;
      }
      case INFORMATION_RESPONSE:
        return this.onInformationResponse(link, cmd);
      default:
        return;
    }
  }

  private onCommandReject(link: L2capLink, cmd: L2capSignalingCommand): void {
    const rej = this.scratch.rej;
    if (!l2cap_sig_parse_command_reject(cmd, rej)) return;
    const id = cmd.identifier;
    for (const c of this.s.channels) {
      if (c.con_handle !== link.con_handle || c.local_sig_id !== id || c.state === L2CAP_STATE_CLOSED) continue;
      c.local_sig_id = 0;
      this.x.stopTimer(c);
      switch (c.state) {
        case L2CAP_STATE_WAIT_CONNECT_RSP:
          this.x.finalize(
            c,
            (L2CAP_COMMAND_REJECT_REASON_COMMAND_NOT_UNDERSTOOD + Math.min(rej.reason, 2)) & 0xff,
            'Connection Request rejected',
          );
          return;
        case L2CAP_STATE_CONFIG:
        case L2CAP_STATE_OPEN:
          this.x.failConfig(c, 'configuration rejected');
          return;
        case L2CAP_STATE_WAIT_DISCONNECT:
          this.x.finalize(c, c.fail_status, 'Disconnection Request rejected');
          return;
        default:
          return;
      }
    }
    if (this.x.commandReject(link, id, rej.reason)) return;
    this.s.log.info(() => `command reject for unknown id ${id} dropped`);
  }

  private refuse(link: L2capLink, id: number, scid: number, result: number): void {
    this.connectionResponse(link, id, 0, scid, result, 0);
  }

  private connectionResponse(link: L2capLink, id: number, dcid: number, scid: number, result: number, status: number): void {
    if (!link.responses.connection_response(id, dcid, scid, result, status)) this.owed(link, id);
  }

  /**
   * A repeated Connection Request (same SCID and identifier) for channel `c`: the answer the
   * channel stands for now. Accepted (or past that): success; the application still deciding:
   * pending; declined: the refusal the channel is about to send.
   */
  private repeatConnectionResponse(link: L2capLink, id: number, c: L2capChannel): void {
    switch (c.state) {
      case L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE:
      case L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT:
        this.connectionResponse(
          link,
          id,
          c.local_cid,
          c.remote_cid,
          L2CAP_CONNECTION_RESULT_PENDING,
          c.state === L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT
            ? L2CAP_CONNECTION_STATUS_AUTHORIZATION_PENDING
            : L2CAP_CONNECTION_STATUS_AUTHENTICATION_PENDING,
        );
        return;
      case L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE:
        this.refuse(link, id, c.remote_cid, c.refuse_result);
        return;
      default:
        this.connectionResponse(link, id, c.local_cid, c.remote_cid, L2CAP_CONNECTION_RESULT_SUCCESS, 0);
    }
  }

  private onConnectionRequest(link: L2capLink, cmd: L2capSignalingCommand): void {
    const req = this.scratch.connReq;
    if (!l2cap_sig_parse_connection_request(cmd, req)) return;
    const id = cmd.identifier;
    const scid = req.scid;
    // duplicate of a request we already have a channel for
    for (const c of this.s.channels) {
      if (c.con_handle !== link.con_handle || !c.incoming || c.remote_cid !== scid || c.state === L2CAP_STATE_CLOSED) continue;
      if (c.remote_sig_id === id) this.repeatConnectionResponse(link, id, c);
      else this.refuse(link, id, scid, L2CAP_CONNECTION_RESULT_SOURCE_CID_ALREADY_ALLOCATED);
      return;
    }
    const service = req.psm_valid && req.psm >= 0 ? this.s.serviceFor(req.psm) : null;
    if (!service) {
      this.s.log.info(() => `connection request for PSM 0x${req.psm.toString(16)}: no service`);
      this.refuse(link, id, scid, L2CAP_CONNECTION_RESULT_PSM_NOT_SUPPORTED);
      return;
    }
    if (!l2cap_cid_is_dynamic(scid)) {
      this.refuse(link, id, scid, L2CAP_CONNECTION_RESULT_INVALID_SOURCE_CID);
      return;
    }
    const ch = this.s.channelPool.get();
    if (!ch) {
      this.refuse(link, id, scid, L2CAP_CONNECTION_RESULT_NO_RESOURCES_AVAILABLE);
      return;
    }
    ch.reset();
    ch.local_cid = this.s.allocateCid();
    ch.remote_cid = scid;
    ch.remote_sig_id = id;
    ch.psm = req.psm;
    ch.con_handle = link.con_handle;
    ch.address.set(link.address);
    ch.incoming = true;
    ch.local_mtu = service.mtu;
    ch.required_security_level = this.x.requiredLevel(req.psm, service.required_security_level);
    ch.handler = service.handler;
    this.x.add(ch);
    // offered to the application now, or once the link has the security level (l2cap-security.ts)
    this.x.incoming(ch);
  }

  private onConnectionResponse(link: L2capLink, cmd: L2capSignalingCommand): void {
    const rsp = this.scratch.connRsp;
    if (!l2cap_sig_parse_connection_response(cmd, rsp)) return;
    const c = this.s.channelOnLink(link.con_handle, rsp.scid);
    if (!c || c.state !== L2CAP_STATE_WAIT_CONNECT_RSP || c.local_sig_id !== cmd.identifier) {
      this.s.log.info(
        () => `connection response id ${cmd.identifier} for cid 0x${rsp.scid.toString(16)} matches no request, dropped`,
      );
      return;
    }
    switch (rsp.result) {
      case L2CAP_CONNECTION_RESULT_SUCCESS:
        if (!l2cap_cid_is_dynamic(rsp.dcid)) {
          this.s.log.error(() => `connection response with invalid destination CID 0x${rsp.dcid.toString(16)} dropped`);
          return;
        }
        this.x.stopTimer(c);
        c.local_sig_id = 0;
        c.remote_cid = rsp.dcid;
        if (c.todo & TODO_DISCONNECT_WHEN_CONNECTED) {
          c.todo = 0;
          c.opened = true;
          this.x.setState(c, L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST, 'connected after l2cap_disconnect');
          return;
        }
        this.x.enterConfig(c, 'Connection Response success');
        return;
      case L2CAP_CONNECTION_RESULT_PENDING:
        this.x.startRtx(c, true);
        return;
      default:
        this.s.log.info(() => `connection to PSM 0x${c.psm.toString(16)} refused, result ${rsp.result}`);
        // BTstack: a security block means the remote does not trust our link key: drop it, the next attempt pairs anew
        if (rsp.result === L2CAP_CONNECTION_RESULT_SECURITY_BLOCK) this.s.hci.gap.gap_drop_link_key_for_bd_addr?.(c.address);
        this.x.finalize(c, l2cap_refusal_status(rsp.result), 'connection refused');
        return;
    }
  }

  private onDisconnectionRequest(link: L2capLink, cmd: L2capSignalingCommand): void {
    const d = this.scratch.disc;
    if (!l2cap_sig_parse_disconnection(cmd, d)) return;
    const c = this.s.channelOnLink(link.con_handle, d.dcid);
    const valid =
      c !== null &&
      c.remote_cid === d.scid &&
      (c.state === L2CAP_STATE_CONFIG ||
        c.state === L2CAP_STATE_OPEN ||
        c.state === L2CAP_STATE_WAIT_DISCONNECT ||
        c.state === L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST ||
        c.state === L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE);
    if (!valid) {
      this.reject(link, cmd.identifier, L2CAP_REJ_INVALID_CID, d.dcid, d.scid);
      return;
    }
    if (c.state === L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE) {
      // repeated while our answer waits: it gets its own (duplicate) response
      if (!link.responses.disconnection_response(cmd.identifier, c.local_cid, c.remote_cid)) this.owed(link, cmd.identifier);
      return;
    }
    this.x.stopTimer(c);
    c.todo = 0;
    c.waiting_for_can_send_now = false;
    c.remote_sig_id = cmd.identifier;
    // BTstack reports a channel the remote closed with L2CAP_EVENT_CHANNEL_CLOSED, also during configuration
    if (c.fail_status === 0) c.opened = true;
    this.x.setState(c, L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE, 'Disconnection Request received');
  }

  private onDisconnectionResponse(link: L2capLink, cmd: L2capSignalingCommand): void {
    const d = this.scratch.disc;
    if (!l2cap_sig_parse_disconnection(cmd, d)) return;
    const c = this.s.channelOnLink(link.con_handle, d.scid);
    if (!c || c.state !== L2CAP_STATE_WAIT_DISCONNECT || c.local_sig_id !== cmd.identifier || c.remote_cid !== d.dcid) {
      this.s.log.info(() => `disconnection response id ${cmd.identifier} matches no request, dropped`);
      return;
    }
    this.x.finalize(c, c.fail_status, 'Disconnection Response');
  }

  /**
   * Echo Response with the request's data: short data (L2CAP_ECHO_INLINE) in the queued answer
   * itself, longer data in the link's one echo buffer while it is free, otherwise its first
   * L2CAP_ECHO_INLINE octets ("the data field ... may contain the contents of the data field in
   * the request, different data, or no data at all", Vol 3 Part A, 4.9).
   */
  private onEchoRequest(link: L2capLink, cmd: L2capSignalingCommand): void {
    const r = link.responses.echo_response(cmd.identifier);
    if (!r) {
      this.owed(link, cmd.identifier);
      return;
    }
    let dst: Uint8Array = r.echo_inline;
    if (cmd.data_length > L2CAP_ECHO_INLINE && !link.echo_rsp_busy) {
      dst = link.echo_rsp_data ??= new Uint8Array(L2CAP_ECHO_BUFFER_SIZE);
      r.echo_shared = true;
      link.echo_rsp_busy = true;
    }
    r.echo_len = Math.min(cmd.data_length, dst.length);
    this.copier.copy(dst, 0, cmd.buf, cmd.data_offset, r.echo_len);
  }

  private onInformationResponse(link: L2capLink, cmd: L2capSignalingCommand): void {
    const r = this.scratch.infoRsp;
    if (l2cap_sig_parse_information_response(cmd, r)) this.x.informationResponse(link, cmd.identifier, r);
  }
}
