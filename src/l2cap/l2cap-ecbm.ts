/**
 * Enhanced Credit Based Flow Control Mode on LE (Core v5.3+ Vol 3 Part A 10.2; signalling 4.25-4.28)
 * with BTstack's l2cap_ecbm_* API (v1.8 profile only: BTstack 1.4.1 has no ECBM; there every
 * call returns ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE and a Credit Based Connection
 * Request is answered "command not understood"). LE only: ECBM over BR/EDR is not built.
 *
 * Channels are L2capCbmChannel records with `enhanced` set; once open they are CBM channels in
 * every respect (K-frames, credits, disconnection, can-send-now: l2cap-cbm.ts). What is ECBM's own:
 *
 * - One request opens up to 5 channels (4.25). Channels of one request share `group_cid` (the CID
 *   of the first); the first live channel of the group ("leader") sends the request or answers
 *   for all of them. Our request carries SPSM, MTU, MPS, initial credits and our SCIDs in
 *   creation order; the response (4.26) names one DCID per SCID in the same order, 0 = refused.
 * - An incoming request is checked before the application sees it (result for all channels):
 *   0 or more than 5 SCIDs -> 0x000C (invalid parameters); SPSM outside 0x0001-0x00FF or without an
 *   ECBM service -> 0x0002 (the CVE-2022-42896 class); MTU or MPS below 64 or MPS above 65533 ->
 *   0x000C; the service's security level not reached -> 0x0005 / 0x0007 / 0x0008
 *   (l2cap-le-security.ts); MTU below the service's
 *   min_remote_mtu -> 0x000B. Then per SCID: outside 0x0040-0x007F -> refused, 0x0009; already
 *   used on the link (or twice in the request) -> 0x000A; no channel record -> 0x0004. The rest
 *   reach the application as one L2CAP_EVENT_ECBM_INCOMING_CONNECTION (num_channels, first CID);
 *   it answers with l2cap_ecbm_accept_channels (the first num_channels; others refused 0x0004) or
 *   l2cap_ecbm_decline_channels. Refused channels answer DCID 0; MTU, MPS and credits are 0 when
 *   none was accepted. Each channel that opens gets L2CAP_EVENT_ECBM_CHANNEL_OPENED.
 * - Outgoing with a security level above the link's: the group pairs first (l2cap-cbm-security.ts).
 *   A refused channel reports BTstack 1.8's status for the result (l2cap-cbm-status.ts: 0x65-0x6F).
 * - Our MPS: MTU + 2 within the range of l2cap_ecbm_mps_set_min / _max (default 64-65533).
 * - Reconfiguration (4.27, 4.28): l2cap_ecbm_reconfigure_channels raises our MTU (never lowers it)
 *   for 1-5 open channels of one link (the MPS follows the range, lower only for a single
 *   channel); the new receive buffers take over when the remote accepts (a partly reassembled
 *   SDU is carried over); L2CAP_EVENT_ECBM_RECONFIGURATION_COMPLETE per
 *   channel with the remote's result; no answer within RTX disconnects the channels. A remote's
 *   request is checked: MTU or MPS below 64, or more than 5 DCIDs -> 0x0004; a DCID not an open
 *   ECBM channel of ours on the link -> 0x0003; a smaller MTU -> 0x0001; a smaller MPS with more
 *   than one channel -> 0x0002; success updates the channels and reports
 *   L2CAP_EVENT_ECBM_RECONFIGURED (remote_cid, mtu, mps) per channel.
 */
import { little_endian_read_16 } from '../core/bytes.js';
import {
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE,
  L2CAP_LOCAL_CID_DOES_NOT_EXIST,
} from '../codes/v1.4.js';
import {
  L2CAP_ECBM_CONNECTION_RESULT_ALL_REFUSED_INVALID_PARAMETERS,
  L2CAP_ECBM_CONNECTION_RESULT_ALL_REFUSED_SPSM_NOT_SUPPORTED,
  L2CAP_ECBM_CONNECTION_RESULT_ALL_REFUSED_UNACCEPTABLE_PARAMETERS,
  L2CAP_ECBM_CONNECTION_RESULT_ALL_SUCCESS,
  L2CAP_ECBM_CONNECTION_RESULT_SOME_REFUSED_INSUFFICIENT_RESOURCES_AVAILABLE,
  L2CAP_ECBM_CONNECTION_RESULT_SOME_REFUSED_INVALID_SOURCE_CID,
  L2CAP_ECBM_CONNECTION_RESULT_SOME_REFUSED_SOURCE_CID_ALREADY_ALOCATED,
  L2CAP_ECBM_RECONFIGURE_FAILED_DESTINATION_CID_INVALID,
  L2CAP_ECBM_RECONFIGURE_FAILED_MPS_REDUCTION_MULTIPLE_CHANNELS,
  L2CAP_ECBM_RECONFIGURE_FAILED_MTU_REDUCTION_NOT_ALLOWED,
  L2CAP_ECBM_RECONFIGURE_FAILED_UNACCEPTABLE_PARAMETERS,
  L2CAP_ECBM_RECONFIGURE_SUCCESS,
} from '../codes/v1.8.js';
import type { L2capPacketHandler } from './l2cap-objects.js';
import type { L2capCbm, L2capCbmPeers } from './l2cap-cbm.js';
import {
  CBM_CLOSED,
  CBM_OPEN,
  CBM_W4_ACCEPT,
  CBM_W4_RESPONSE,
  CBM_WILL_SEND_DISCONNECT_REQUEST,
  CBM_WILL_SEND_REQUEST,
  CBM_WILL_SEND_RESPONSE,
  type L2capCbmChannel,
  type L2capLeLink,
} from './l2cap-le-objects.js';
import type { L2capLeEvents } from './l2cap-le-events.js';
import { L2CAP_LE_CID_DYNAMIC_FIRST, L2CAP_LE_CID_DYNAMIC_LAST } from './l2cap-le-state.js';
import {
  LE_SIG_CREDIT_BASED_CONNECTION_REQUEST,
  LE_SIG_CREDIT_BASED_CONNECTION_RESPONSE,
  LE_SIG_CREDIT_BASED_RECONFIGURE_REQUEST,
  LE_SIG_CREDIT_BASED_RECONFIGURE_RESPONSE,
  L2CAP_CBM_MAX_MPS,
  L2CAP_ECBM_MAX_CHANNELS,
  L2CAP_ECBM_MIN_MPS,
  L2CAP_ECBM_MIN_MTU,
  L2CAP_LE_PSM_MAX,
  le_sig_credit_based_connection_request,
  le_sig_credit_based_reconfigure_request,
} from './l2cap-le-sig.js';
import { l2cap_le_security_result } from './l2cap-le-security.js';
import { l2cap_cbm_status_for_result } from './l2cap-cbm-status.js';
import type { L2capState } from './l2cap-state.js';

/** Outcome of l2cap_ecbm_create_channels / l2cap_ecbm_accept_channels: status and the local CIDs (BTstack's out_local_cids). */
export interface L2capEcbmChannelsResult {
  /** 0 or a BTstack status; nothing was created / accepted unless 0. */
  status: number;
  /** The local CIDs, in request order (empty unless status is 0). */
  local_cids: number[];
}

const fail = (status: number): L2capEcbmChannelsResult => ({ status, local_cids: [] });

export class L2capEcbm {
  constructor(
    private readonly s: L2capState,
    private readonly ev: L2capLeEvents,
    private readonly cbm: L2capCbm,
    private readonly x: L2capCbmPeers,
  ) {}

  /** ECBM exists in the v1.8 profile only (BTstack >= 1.5). */
  get supported(): boolean {
    return this.s.codes.PROFILE === 'v1.8';
  }

  // ============================================================================ API

  registerService(handler: L2capPacketHandler, psm: number, min_remote_mtu: number, security_level: number): number {
    if (!this.supported) return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    return this.cbm.registerService(handler, psm, security_level, true, min_remote_mtu);
  }

  unregisterService(psm: number): number {
    if (!this.supported) return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    return this.cbm.unregisterService(psm, true);
  }

  create(
    handler: L2capPacketHandler,
    con_handle: number,
    security_level: number,
    psm: number,
    num_channels: number,
    initial_credits: number,
    mtu: number,
    receive_buffers: readonly Uint8Array[],
  ): L2capEcbmChannelsResult {
    if (!this.supported) return fail(ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE);
    const link = this.x.linkFor(con_handle);
    if (!link) return fail(ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER);
    if (
      num_channels < 1 ||
      num_channels > L2CAP_ECBM_MAX_CHANNELS ||
      psm < 1 ||
      psm > L2CAP_LE_PSM_MAX ||
      mtu < L2CAP_ECBM_MIN_MTU
    )
      return fail(ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS);
    const le = this.s.le;
    if (le.channelPool.available < num_channels) return fail(BTSTACK_MEMORY_ALLOC_FAILED);
    const made: L2capCbmChannel[] = [];
    for (let i = 0; i < num_channels; i++) {
      const ch = this.cbm.newChannel(link, handler, psm);
      if (!ch) {
        for (const c of made) {
          c.state = CBM_WILL_SEND_REQUEST; // not CLOSED, so finalize takes it back (no event: status < 0)
          this.cbm.finalize(c, -1, 'no CID');
        }
        return fail(BTSTACK_MEMORY_ALLOC_FAILED);
      }
      made.push(ch);
    }
    const group = made[0]!.local_cid;
    for (let i = 0; i < num_channels; i++) {
      const ch = made[i]!;
      ch.enhanced = true;
      ch.group_cid = group;
      ch.security_level = security_level;
      this.cbm.setLocal(ch, receive_buffers[i]!, mtu, initial_credits);
      ch.local_mps = this.mps(mtu);
      // the group waits for the link's security level together (one request for all)
      if (i === 0) this.cbm.security.start(ch);
      else ch.state = made[0]!.state;
    }
    this.x.scheduleRun();
    return { status: ERROR_CODE_SUCCESS, local_cids: made.map((c) => c.local_cid) };
  }

  /** The pending incoming group whose first channel is `local_cid`, or a status. */
  private pendingGroup(local_cid: number): L2capCbmChannel[] | number {
    if (!this.supported) return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    const ch = this.s.le.channelForCid(local_cid);
    if (!ch || !ch.enhanced) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    if (ch.state !== CBM_W4_ACCEPT) return ERROR_CODE_COMMAND_DISALLOWED;
    return this.group(ch);
  }

  accept(local_cid: number, num_channels: number, initial_credits: number, mtu: number, receive_buffers: readonly Uint8Array[]) {
    const g = this.pendingGroup(local_cid);
    if (typeof g === 'number') return fail(g);
    if (mtu < L2CAP_ECBM_MIN_MTU || num_channels < 1) return fail(ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS);
    const local_cids: number[] = [];
    g.forEach((ch, i) => {
      if (i < num_channels) {
        this.cbm.setLocal(ch, receive_buffers[i]!, mtu, initial_credits);
        ch.local_mps = this.mps(mtu);
        ch.response_result = L2CAP_ECBM_CONNECTION_RESULT_ALL_SUCCESS;
        local_cids.push(ch.local_cid);
      } else {
        ch.response_result = L2CAP_ECBM_CONNECTION_RESULT_SOME_REFUSED_INSUFFICIENT_RESOURCES_AVAILABLE;
      }
      ch.state = CBM_WILL_SEND_RESPONSE;
    });
    this.x.scheduleRun();
    return { status: ERROR_CODE_SUCCESS, local_cids };
  }

  decline(local_cid: number, result: number): number {
    const g = this.pendingGroup(local_cid);
    if (typeof g === 'number') return g;
    for (const ch of g) {
      ch.response_result = result === 0 ? L2CAP_ECBM_CONNECTION_RESULT_SOME_REFUSED_INSUFFICIENT_RESOURCES_AVAILABLE : result;
      ch.state = CBM_WILL_SEND_RESPONSE;
    }
    this.x.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  /** l2cap_ecbm_reconfigure_channels: a larger MTU (and MPS) for 1-5 open ECBM channels of one link. */
  reconfigure(local_cids: readonly number[], mtu: number, receive_buffers: readonly Uint8Array[]): number {
    if (!this.supported) return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    const n = local_cids.length;
    if (n < 1 || n > L2CAP_ECBM_MAX_CHANNELS || mtu < L2CAP_ECBM_MIN_MTU) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    const chans: L2capCbmChannel[] = [];
    for (const cid of local_cids) {
      const ch = this.s.le.channelForCid(cid);
      if (!ch || !ch.enhanced) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
      if (ch.state !== CBM_OPEN || ch.reconf_pending || ch.reconf_sig_id !== 0 || chans.includes(ch))
        return ERROR_CODE_COMMAND_DISALLOWED;
      if (chans.length > 0 && ch.con_handle !== chans[0]!.con_handle) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
      if (mtu < ch.local_mtu) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS; // 4.27: the MTU may not decrease
      chans.push(ch);
    }
    const mps = this.mps(mtu);
    chans.forEach((ch, i) => {
      ch.reconf_pending = true;
      ch.reconf_group = chans[0]!.local_cid;
      ch.reconf_mtu = mtu;
      ch.reconf_mps = n === 1 ? mps : Math.max(mps, ch.local_mps); // 4.27: a smaller MPS only for a single channel
      ch.reconf_buffer = receive_buffers[i]!;
    });
    this.x.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  /** l2cap_ecbm_mps_set_min / _max: our MPS range on new and reconfigured ECBM channels (kept within 64-65533). */
  setMpsRange(min: number | null, max: number | null): void {
    const le = this.s.le;
    const clamp = (v: number) => Math.max(L2CAP_ECBM_MIN_MPS, Math.min(v, L2CAP_CBM_MAX_MPS));
    if (min !== null) le.ecbm_mps_min = clamp(min);
    if (max !== null) le.ecbm_mps_max = clamp(max);
  }

  // ============================================================================ helpers

  /** Our MPS for an MTU: a whole SDU per K-frame when the range allows (BTstack's choice is similar). */
  private mps(mtu: number): number {
    const le = this.s.le;
    return Math.max(le.ecbm_mps_min, Math.min(mtu + 2, le.ecbm_mps_max, L2CAP_CBM_MAX_MPS));
  }

  /** Live channels of `ch`'s request, in request order. */
  private group(ch: L2capCbmChannel): L2capCbmChannel[] {
    return this.s.le.channels.filter(
      (c) => c.enhanced && c.con_handle === ch.con_handle && c.group_cid === ch.group_cid && c.state !== CBM_CLOSED,
    );
  }

  private reserve(): Uint8Array | null {
    const hci = this.s.hci;
    if (!hci.hci_reserve_packet_buffer()) return null;
    return hci.hci_get_outgoing_packet_buffer();
  }

  private usedRemote(link: L2capLeLink, cid: number): boolean {
    return this.s.le.channelForRemote(link.con_handle, cid) !== null;
  }

  // ============================================================================ send side

  /** The ECBM part of a channel's step (before the CBM part); true when a PDU went out. */
  step(link: L2capLeLink, ch: L2capCbmChannel): boolean {
    if (ch.state === CBM_WILL_SEND_REQUEST) return this.sendRequest(link, ch);
    // the answer is queued on the link and goes out next, before any K-frame of the channels it
    // opens (true: stop this pass here, so the CBM step cannot send one first)
    if (ch.state === CBM_WILL_SEND_RESPONSE) return this.sendResponse(link, ch);
    if (ch.state === CBM_OPEN && ch.reconf_pending) return this.sendReconfigure(link, ch);
    return false;
  }

  private sendRequest(link: L2capLeLink, ch: L2capCbmChannel): boolean {
    const g = this.group(ch).filter((c) => c.state === CBM_WILL_SEND_REQUEST);
    if (g[0] !== ch) return false; // the first channel of the group asks for all
    const buf = this.reserve();
    if (!buf) return false;
    const id = this.s.nextSigId();
    const scids = g.map((c) => c.local_cid);
    const n = le_sig_credit_based_connection_request(buf, 8, id, ch.psm, ch.local_mtu, ch.local_mps, ch.credits_incoming, scids);
    for (const c of g) {
      c.local_sig_id = id;
      c.state = CBM_W4_RESPONSE;
      this.cbm.startRtx(c);
    }
    return this.cbm.sig(link, n);
  }

  private sendResponse(link: L2capLeLink, ch: L2capCbmChannel): boolean {
    const g = this.group(ch);
    const lead = g[0]!;
    if (lead !== ch || g.some((c) => c.state !== CBM_WILL_SEND_RESPONSE)) return false;
    const accepted = g.filter((c) => c.response_result === L2CAP_ECBM_CONNECTION_RESULT_ALL_SUCCESS);
    const dcids: number[] = [];
    for (let i = 0; i < lead.ecbm_count; i++) {
      const scid = lead.ecbm_scids[i]!;
      const c = scid === 0 ? undefined : accepted.find((a) => a.remote_cid === scid);
      dcids.push(c ? c.local_cid : 0);
    }
    // result: all refused -> the application's; some refused -> the request's finding, else "no resources"
    let result = L2CAP_ECBM_CONNECTION_RESULT_ALL_SUCCESS;
    if (accepted.length === 0) result = g[0]!.response_result;
    else if (lead.ecbm_result !== 0) result = lead.ecbm_result;
    else if (accepted.length < g.length) result = L2CAP_ECBM_CONNECTION_RESULT_SOME_REFUSED_INSUFFICIENT_RESOURCES_AVAILABLE;
    const a = accepted[0];
    this.x.respond(
      link,
      LE_SIG_CREDIT_BASED_CONNECTION_RESPONSE,
      lead.remote_sig_id,
      a ? [a.local_mtu, a.local_mps, a.credits_incoming, result] : [0, 0, 0, result],
      dcids,
    );
    for (const c of g) {
      if (c.response_result === L2CAP_ECBM_CONNECTION_RESULT_ALL_SUCCESS) this.cbm.open(c);
      else this.cbm.finalize(c, -1, 'declined');
    }
    return true;
  }

  private sendReconfigure(link: L2capLeLink, ch: L2capCbmChannel): boolean {
    const g = this.s.le.channels.filter(
      (c) => c.con_handle === ch.con_handle && c.reconf_pending && c.reconf_group === ch.reconf_group && c.state === CBM_OPEN,
    );
    if (g[0] !== ch) return false; // the first live channel of the request asks for all
    const buf = this.reserve();
    if (!buf) return false;
    const id = this.s.nextSigId();
    const mps = Math.max(...g.map((c) => c.reconf_mps));
    const n = le_sig_credit_based_reconfigure_request(
      buf,
      8,
      id,
      ch.reconf_mtu,
      mps,
      g.map((c) => c.remote_cid),
    );
    for (const c of g) {
      c.reconf_pending = false;
      c.reconf_sig_id = id;
      c.reconf_mps = mps;
      this.cbm.startRtx(c);
    }
    return this.cbm.sig(link, n);
  }

  // ============================================================================ incoming signalling

  /** Codes 0x17-0x1A (data at packet[d, d + len)); false: not handled (v1.4, or malformed: Command Reject). */
  command(link: L2capLeLink, code: number, id: number, packet: Uint8Array, d: number, len: number): boolean {
    if (!this.supported) return false;
    switch (code) {
      case LE_SIG_CREDIT_BASED_CONNECTION_REQUEST:
        if (len < 8 || len % 2 !== 0) return false;
        this.incomingRequest(link, id, packet, d, (len - 8) / 2);
        return true;
      case LE_SIG_CREDIT_BASED_CONNECTION_RESPONSE:
        if (len < 8 || len % 2 !== 0) {
          this.s.log.info('Credit Based Connection Response malformed, dropped');
          return true;
        }
        this.incomingResponse(link, id, packet, d, (len - 8) / 2);
        return true;
      case LE_SIG_CREDIT_BASED_RECONFIGURE_REQUEST:
        if (len < 6 || len % 2 !== 0) return false;
        this.reconfigureRequest(link, id, packet, d, (len - 4) / 2);
        return true;
      case LE_SIG_CREDIT_BASED_RECONFIGURE_RESPONSE:
        this.reconfigureResponse(link, id, little_endian_read_16(packet, d));
        return true;
      default:
        return false;
    }
  }

  /** Credit Based Connection Request (4.25) with `n` SCIDs at packet[d + 8]. */
  private incomingRequest(link: L2capLeLink, id: number, packet: Uint8Array, d: number, n: number): void {
    const spsm = little_endian_read_16(packet, d);
    const mtu = little_endian_read_16(packet, d + 2);
    const mps = little_endian_read_16(packet, d + 4);
    const credits = little_endian_read_16(packet, d + 6);
    const zeros = new Array<number>(Math.min(n, L2CAP_ECBM_MAX_CHANNELS)).fill(0);
    const refuse = (result: number) =>
      this.x.respond(link, LE_SIG_CREDIT_BASED_CONNECTION_RESPONSE, id, [0, 0, 0, result], zeros);
    if (n < 1 || n > L2CAP_ECBM_MAX_CHANNELS) return refuse(L2CAP_ECBM_CONNECTION_RESULT_ALL_REFUSED_INVALID_PARAMETERS);
    const svc = spsm >= 1 && spsm <= L2CAP_LE_PSM_MAX ? this.cbm.serviceFor(spsm, true) : null;
    if (!svc) return refuse(L2CAP_ECBM_CONNECTION_RESULT_ALL_REFUSED_SPSM_NOT_SUPPORTED);
    if (mtu < L2CAP_ECBM_MIN_MTU || mps < L2CAP_ECBM_MIN_MPS || mps > L2CAP_CBM_MAX_MPS)
      return refuse(L2CAP_ECBM_CONNECTION_RESULT_ALL_REFUSED_INVALID_PARAMETERS);
    const security = l2cap_le_security_result(this.s.hci.gap, link.con_handle, svc.security_level);
    if (security !== 0) return refuse(security); // ECBM's 0x05 / 0x07 / 0x08 are CBM's values
    if (mtu < svc.min_remote_mtu) return refuse(L2CAP_ECBM_CONNECTION_RESULT_ALL_REFUSED_UNACCEPTABLE_PARAMETERS);
    const made: L2capCbmChannel[] = [];
    const seen: number[] = [];
    const scids: number[] = [];
    let refusal = 0;
    for (let i = 0; i < n; i++) {
      const scid = little_endian_read_16(packet, d + 8 + 2 * i);
      let why = 0;
      if (scid < L2CAP_LE_CID_DYNAMIC_FIRST || scid > L2CAP_LE_CID_DYNAMIC_LAST)
        why = L2CAP_ECBM_CONNECTION_RESULT_SOME_REFUSED_INVALID_SOURCE_CID;
      else if (seen.includes(scid) || this.usedRemote(link, scid))
        why = L2CAP_ECBM_CONNECTION_RESULT_SOME_REFUSED_SOURCE_CID_ALREADY_ALOCATED;
      seen.push(scid);
      const ch = why === 0 ? this.cbm.newChannel(link, svc.handler, spsm) : null;
      scids[i] = ch ? scid : 0; // the response answers DCID 0 at this position
      if (!ch) {
        if (refusal === 0) refusal = why || L2CAP_ECBM_CONNECTION_RESULT_SOME_REFUSED_INSUFFICIENT_RESOURCES_AVAILABLE;
        continue;
      }
      ch.enhanced = true;
      ch.incoming = true;
      ch.remote_cid = scid;
      ch.remote_mtu = mtu;
      ch.remote_mps = mps;
      ch.credits_outgoing = credits;
      ch.remote_sig_id = id;
      ch.security_level = svc.security_level;
      ch.group_cid = made.length > 0 ? made[0]!.local_cid : ch.local_cid;
      ch.state = CBM_W4_ACCEPT;
      made.push(ch);
    }
    if (made.length === 0) return refuse(refusal);
    const lead = made[0]!;
    lead.ecbm_count = n;
    lead.ecbm_scids.set(scids);
    lead.ecbm_result = refusal;
    this.ev.incoming(lead, made.length);
  }

  /** Credit Based Connection Response (4.26) with `n` DCIDs to our request `id`. */
  private incomingResponse(link: L2capLeLink, id: number, packet: Uint8Array, d: number, n: number): void {
    const g = this.s.le.channels.filter(
      (c) => c.enhanced && c.con_handle === link.con_handle && c.state === CBM_W4_RESPONSE && c.local_sig_id === id,
    );
    if (g.length === 0) {
      this.s.log.info('Credit Based Connection Response without a request, dropped');
      return;
    }
    const mtu = little_endian_read_16(packet, d);
    const mps = little_endian_read_16(packet, d + 2);
    const credits = little_endian_read_16(packet, d + 4);
    const result = little_endian_read_16(packet, d + 6);
    if (n !== g.length) this.s.log.info(() => `Credit Based Connection Response: ${n} DCIDs for ${g.length} channels`);
    const taken: number[] = [];
    g.forEach((ch, i) => {
      const dcid = i < n ? little_endian_read_16(packet, d + 8 + 2 * i) : 0;
      if (dcid === 0) {
        // a DCID 0 under result 0: refused all the same (BTstack would report success), as "no resources"
        const r = result === 0 ? L2CAP_ECBM_CONNECTION_RESULT_SOME_REFUSED_INSUFFICIENT_RESOURCES_AVAILABLE : result;
        this.cbm.finalize(ch, l2cap_cbm_status_for_result(this.s.codes.PROFILE, r), 'refused by the remote');
        return;
      }
      ch.remote_cid = dcid;
      ch.remote_mtu = mtu;
      ch.remote_mps = mps;
      ch.credits_outgoing = credits;
      const bad =
        dcid < L2CAP_LE_CID_DYNAMIC_FIRST ||
        dcid > L2CAP_LE_CID_DYNAMIC_LAST ||
        taken.includes(dcid) ||
        this.s.le.channels.some(
          (c) =>
            c !== ch && c.con_handle === link.con_handle && c.remote_cid === dcid && c.state !== CBM_CLOSED && !g.includes(c),
        ) ||
        mtu < L2CAP_ECBM_MIN_MTU ||
        mps < L2CAP_ECBM_MIN_MPS ||
        mps > L2CAP_CBM_MAX_MPS;
      taken.push(dcid);
      if (bad) {
        // the remote opened its end with parameters we cannot use: report failure, then close its end
        this.ev.opened(
          ch,
          l2cap_cbm_status_for_result(this.s.codes.PROFILE, L2CAP_ECBM_CONNECTION_RESULT_ALL_REFUSED_INVALID_PARAMETERS),
        );
        ch.opened = true; // the Disconnection exchange ends silently (the event went out)
        ch.handler = null;
        ch.state = CBM_WILL_SEND_DISCONNECT_REQUEST;
        this.x.scheduleRun();
        return;
      }
      this.cbm.open(ch);
    });
  }

  /** Credit Based Reconfigure Request (4.27) with `n` DCIDs (our CIDs). */
  private reconfigureRequest(link: L2capLeLink, id: number, packet: Uint8Array, d: number, n: number): void {
    const mtu = little_endian_read_16(packet, d);
    const mps = little_endian_read_16(packet, d + 2);
    const answer = (result: number) => this.x.respond(link, LE_SIG_CREDIT_BASED_RECONFIGURE_RESPONSE, id, [result]);
    if (n > L2CAP_ECBM_MAX_CHANNELS || mtu < L2CAP_ECBM_MIN_MTU || mps < L2CAP_ECBM_MIN_MPS || mps > L2CAP_CBM_MAX_MPS)
      return answer(L2CAP_ECBM_RECONFIGURE_FAILED_UNACCEPTABLE_PARAMETERS);
    const chans: L2capCbmChannel[] = [];
    for (let i = 0; i < n; i++) {
      const ch = this.s.le.channelForCid(little_endian_read_16(packet, d + 4 + 2 * i));
      if (!ch || !ch.enhanced || ch.con_handle !== link.con_handle || ch.state !== CBM_OPEN || chans.includes(ch))
        return answer(L2CAP_ECBM_RECONFIGURE_FAILED_DESTINATION_CID_INVALID);
      chans.push(ch);
    }
    if (chans.some((c) => mtu < c.remote_mtu)) return answer(L2CAP_ECBM_RECONFIGURE_FAILED_MTU_REDUCTION_NOT_ALLOWED);
    if (n > 1 && chans.some((c) => mps < c.remote_mps))
      return answer(L2CAP_ECBM_RECONFIGURE_FAILED_MPS_REDUCTION_MULTIPLE_CHANNELS);
    answer(L2CAP_ECBM_RECONFIGURE_SUCCESS);
    for (const ch of chans) {
      ch.remote_mtu = mtu;
      ch.remote_mps = mps;
      this.ev.reconfigured(ch);
    }
    this.x.scheduleRun();
  }

  /** Credit Based Reconfigure Response (4.28) to our request `id`. */
  private reconfigureResponse(link: L2capLeLink, id: number, result: number): void {
    const g = this.s.le.channels.filter(
      (c) => c.con_handle === link.con_handle && c.reconf_sig_id === id && c.state === CBM_OPEN,
    );
    if (g.length === 0) {
      this.s.log.info('Credit Based Reconfigure Response without a request, dropped');
      return;
    }
    for (const ch of g) {
      this.s.run_loop.remove_timer(ch.timer);
      ch.reconf_sig_id = 0;
      if (result === L2CAP_ECBM_RECONFIGURE_SUCCESS) {
        const buf = ch.reconf_buffer!;
        if (ch.rx_sdu_len >= 0 && ch.rx_pos > 0) buf.set(ch.receive_buffer!.subarray(0, ch.rx_pos));
        ch.receive_buffer = buf;
        ch.local_mtu = ch.reconf_mtu;
        ch.local_mps = ch.reconf_mps;
      }
      ch.reconf_buffer = null;
      this.ev.reconfigurationComplete(ch, result);
    }
  }

  /** A Command Reject for our request `id`: an outstanding reconfiguration failed (the connection case is l2cap-cbm.ts's). */
  rejected(link: L2capLeLink, id: number): void {
    for (const ch of this.s.le.channels) {
      if (ch.con_handle !== link.con_handle || ch.reconf_sig_id !== id || ch.state !== CBM_OPEN) continue;
      this.s.run_loop.remove_timer(ch.timer);
      ch.reconf_sig_id = 0;
      ch.reconf_buffer = null;
      this.ev.reconfigurationComplete(ch, L2CAP_ECBM_RECONFIGURE_FAILED_UNACCEPTABLE_PARAMETERS);
    }
  }

  /** No Reconfigure Response within RTX: the channel is disconnected (its CHANNEL_CLOSED ends it). */
  reconfigureTimeout(ch: L2capCbmChannel): void {
    ch.reconf_sig_id = 0;
    ch.reconf_buffer = null;
    this.cbm.protocolError(ch, 'no Credit Based Reconfigure Response');
  }
}
