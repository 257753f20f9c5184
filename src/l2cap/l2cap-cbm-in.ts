/**
 * What comes in for the LE credit-based channels (l2cap-cbm.ts has the channels, the API and the
 * send side): the LE Credit Based Connection Request / Response (4.22, 4.23), Disconnection
 * Request / Response (4.6, 4.7), Flow Control Credit Indication (4.24), Command Reject for our
 * requests, and K-frames (3.4) reassembled into the application's receive buffer. The checks and
 * result codes are listed in l2cap-cbm.ts's header; the enhanced mode's commands are l2cap-ecbm.ts's.
 */
import { little_endian_read_16 } from '../core/bytes.js';
import { SpanCopier } from '../core/span.js';
import { L2CAP_CONNECTION_BASEBAND_DISCONNECT, L2CAP_DATA_PACKET } from '../codes/v1.4.js';
import {
  AUTOMATIC_CREDITS_INCREMENT,
  AUTOMATIC_CREDITS_WATERMARK,
  CBM_RESULT_INVALID_SOURCE_CID,
  CBM_RESULT_NO_RESOURCES,
  CBM_RESULT_SOURCE_CID_ALREADY_ALLOCATED,
  CBM_RESULT_SPSM_NOT_SUPPORTED,
  CBM_RESULT_SUCCESS,
  CBM_RESULT_UNACCEPTABLE_PARAMETERS,
  type L2capCbm,
  type L2capCbmPeers,
} from './l2cap-cbm.js';
import {
  CBM_CLOSED,
  CBM_OPEN,
  CBM_W4_ACCEPT,
  CBM_W4_DISCONNECT_RESPONSE,
  CBM_W4_RESPONSE,
  CBM_WILL_SEND_DISCONNECT_REQUEST,
  CBM_WILL_SEND_RESPONSE,
  type L2capLeLink,
} from './l2cap-le-objects.js';
import type { L2capLeEvents } from './l2cap-le-events.js';
import { L2CAP_LE_CID_DYNAMIC_FIRST, L2CAP_LE_CID_DYNAMIC_LAST } from './l2cap-le-state.js';
import {
  LE_REJ_INVALID_CID,
  LE_SIG_DISCONNECTION_REQUEST,
  LE_SIG_DISCONNECTION_RESPONSE,
  LE_SIG_FLOW_CONTROL_CREDIT_IND,
  LE_SIG_LE_CREDIT_BASED_CONNECTION_REQUEST,
  LE_SIG_LE_CREDIT_BASED_CONNECTION_RESPONSE,
  L2CAP_CBM_MAX_CREDITS,
  L2CAP_CBM_MAX_MPS,
  L2CAP_CBM_MIN_MPS,
  L2CAP_CBM_MIN_MTU,
  L2CAP_LE_PSM_MAX,
} from './l2cap-le-sig.js';
import { l2cap_le_security_result } from './l2cap-le-security.js';
import { l2cap_cbm_rejected_status, l2cap_cbm_status_for_result } from './l2cap-cbm-status.js';
import type { L2capState } from './l2cap-state.js';

export class L2capCbmIn {
  private readonly s: L2capState;
  private readonly ev: L2capLeEvents;
  private readonly x: L2capCbmPeers;
  /** K-frame payloads into the SDU buffer: from the few buffers HCI hands PDUs in, no view per K-frame. */
  private readonly rxCopier = new SpanCopier();

  constructor(private readonly c: L2capCbm) {
    this.s = c.s;
    this.ev = c.ev;
    this.x = c.x;
  }

  // ============================================================================ incoming signalling

  /** LE Credit Based Connection Request (4.22), data at packet[d, d + 10). */
  incomingRequest(link: L2capLeLink, id: number, packet: Uint8Array, d: number): void {
    const spsm = little_endian_read_16(packet, d);
    const scid = little_endian_read_16(packet, d + 2);
    const mtu = little_endian_read_16(packet, d + 4);
    const mps = little_endian_read_16(packet, d + 6);
    const credits = little_endian_read_16(packet, d + 8);
    const refuse = (result: number) => this.x.respond(link, LE_SIG_LE_CREDIT_BASED_CONNECTION_RESPONSE, id, [0, 0, 0, 0, result]);
    const svc = spsm >= 1 && spsm <= L2CAP_LE_PSM_MAX ? this.c.serviceFor(spsm, false) : null;
    if (!svc) return refuse(CBM_RESULT_SPSM_NOT_SUPPORTED);
    if (scid < L2CAP_LE_CID_DYNAMIC_FIRST || scid > L2CAP_LE_CID_DYNAMIC_LAST) return refuse(CBM_RESULT_INVALID_SOURCE_CID);
    if (this.s.le.channelForRemote(link.con_handle, scid)) return refuse(CBM_RESULT_SOURCE_CID_ALREADY_ALLOCATED);
    if (mtu < L2CAP_CBM_MIN_MTU || mps < L2CAP_CBM_MIN_MPS || mps > L2CAP_CBM_MAX_MPS)
      return refuse(CBM_RESULT_UNACCEPTABLE_PARAMETERS);
    const security = l2cap_le_security_result(this.s.hci.gap, link.con_handle, svc.security_level);
    if (security !== 0) return refuse(security);
    const ch = this.c.newChannel(link, svc.handler, spsm);
    if (!ch) return refuse(CBM_RESULT_NO_RESOURCES);
    ch.incoming = true;
    ch.remote_cid = scid;
    ch.remote_mtu = mtu;
    ch.remote_mps = mps;
    ch.credits_outgoing = credits;
    ch.remote_sig_id = id;
    ch.security_level = svc.security_level;
    ch.state = CBM_W4_ACCEPT;
    this.ev.incoming(ch);
  }

  /** LE Credit Based Connection Response (4.23) to our request `id`. */
  incomingResponse(link: L2capLeLink, id: number, packet: Uint8Array, d: number): void {
    const ch = this.s.le.channels.find(
      (c) => c.con_handle === link.con_handle && c.state === CBM_W4_RESPONSE && !c.enhanced && c.local_sig_id === id,
    );
    if (!ch) {
      this.s.log.info('LE Credit Based Connection Response without a request, dropped');
      return;
    }
    const dcid = little_endian_read_16(packet, d);
    const mtu = little_endian_read_16(packet, d + 2);
    const mps = little_endian_read_16(packet, d + 4);
    const credits = little_endian_read_16(packet, d + 6);
    const result = little_endian_read_16(packet, d + 8);
    if (result !== CBM_RESULT_SUCCESS)
      return this.c.finalize(ch, l2cap_cbm_status_for_result(this.s.codes.PROFILE, result), 'refused by the remote');
    ch.remote_cid = dcid;
    ch.remote_mtu = mtu;
    ch.remote_mps = mps;
    ch.credits_outgoing = credits;
    if (
      dcid < L2CAP_LE_CID_DYNAMIC_FIRST ||
      dcid > L2CAP_LE_CID_DYNAMIC_LAST ||
      this.s.le.channels.some(
        (c) => c !== ch && c.con_handle === link.con_handle && c.remote_cid === dcid && c.state !== CBM_CLOSED,
      ) ||
      mtu < L2CAP_CBM_MIN_MTU ||
      mps < L2CAP_CBM_MIN_MPS ||
      mps > L2CAP_CBM_MAX_MPS
    ) {
      // the remote opened its end with parameters we cannot use: report failure, then close its end
      ch.opened = false;
      this.ev.opened(ch, l2cap_cbm_status_for_result(this.s.codes.PROFILE, CBM_RESULT_UNACCEPTABLE_PARAMETERS));
      ch.opened = true; // the Disconnection exchange ends silently (the event went out)
      ch.handler = null;
      ch.state = CBM_WILL_SEND_DISCONNECT_REQUEST;
      this.x.scheduleRun();
      return;
    }
    this.c.open(ch);
  }

  /** Disconnection Request (4.6) naming our DCID and its SCID. */
  remoteDisconnect(link: L2capLeLink, id: number, dcid: number, scid: number): void {
    const ch = this.s.le.channels.find(
      (c) => c.con_handle === link.con_handle && c.local_cid === dcid && c.remote_cid === scid && c.state !== CBM_CLOSED,
    );
    if (!ch || ch.state === CBM_W4_ACCEPT || ch.state === CBM_WILL_SEND_RESPONSE) {
      this.x.reject(link, id, LE_REJ_INVALID_CID, dcid, scid);
      return;
    }
    this.x.respond(link, LE_SIG_DISCONNECTION_RESPONSE, id, [dcid, scid]);
    ch.closed_by_remote = true;
    this.c.finalize(ch, L2CAP_CONNECTION_BASEBAND_DISCONNECT, 'disconnected by the remote');
  }

  disconnectResponse(link: L2capLeLink, id: number, dcid: number, scid: number): void {
    const ch = this.s.le.channels.find(
      (c) => c.con_handle === link.con_handle && c.state === CBM_W4_DISCONNECT_RESPONSE && c.local_sig_id === id,
    );
    if (!ch || ch.remote_cid !== dcid || ch.local_cid !== scid) {
      this.s.log.info('LE Disconnection Response without a request, dropped');
      return;
    }
    this.c.finalize(ch, 0, 'Disconnection Response');
  }

  /** Flow Control Credit Indication (4.24). */
  credits(link: L2capLeLink, cid: number, credits: number): void {
    const ch = this.s.le.channelForRemote(link.con_handle, cid);
    if (!ch || ch.state !== CBM_OPEN) return;
    if (ch.credits_outgoing + credits > L2CAP_CBM_MAX_CREDITS) {
      this.c.protocolError(ch, `credit overflow (${ch.credits_outgoing} + ${credits})`);
      return;
    }
    ch.credits_outgoing += credits;
    this.x.scheduleRun();
  }

  /** A Command Reject for our request `id`: the channel (or ECBM group) did not open. */
  rejected(link: L2capLeLink, id: number): void {
    for (const c of this.s.le.channels) {
      if (c.con_handle !== link.con_handle || c.local_sig_id !== id) continue;
      if (c.state === CBM_W4_RESPONSE)
        this.c.finalize(c, l2cap_cbm_rejected_status(this.s.codes.PROFILE, c.enhanced), 'request rejected');
      else if (c.state === CBM_W4_DISCONNECT_RESPONSE) this.c.finalize(c, 0, 'disconnection rejected');
    }
  }

  // ============================================================================ data

  /** A K-frame packet[off, off + len) for local CID `cid` on `link`. */
  kframe(link: L2capLeLink, cid: number, packet: Uint8Array, off: number, len: number): void {
    const ch = this.s.le.channelForCid(cid);
    if (!ch || ch.con_handle !== link.con_handle || ch.state !== CBM_OPEN) {
      this.s.log.info(() => `L2CAP LE PDU for CID 0x${cid.toString(16)} (no open channel), dropped`);
      return;
    }
    if (ch.credits_incoming === 0) return this.c.protocolError(ch, 'K-frame without credit');
    ch.credits_incoming--;
    if (len > ch.local_mps) return this.c.protocolError(ch, `K-frame of ${len} octets exceeds MPS ${ch.local_mps}`);
    let p = off;
    let n = len;
    if (ch.rx_sdu_len < 0) {
      if (n < 2) return this.c.protocolError(ch, 'first K-frame without SDU length');
      const sdu = little_endian_read_16(packet, p);
      if (sdu > ch.local_mtu) return this.c.protocolError(ch, `SDU of ${sdu} octets exceeds MTU ${ch.local_mtu}`);
      ch.rx_sdu_len = sdu;
      ch.rx_pos = 0;
      p += 2;
      n -= 2;
    }
    if (ch.rx_pos + n > ch.rx_sdu_len) return this.c.protocolError(ch, 'K-frame overruns its SDU');
    const buf = ch.receive_buffer!;
    this.rxCopier.copy(buf, ch.rx_pos, packet, p, n);
    ch.rx_pos += n;
    if (ch.automatic_credits && ch.credits_incoming + ch.credits_to_return < AUTOMATIC_CREDITS_WATERMARK) {
      ch.credits_to_return += AUTOMATIC_CREDITS_INCREMENT;
      this.x.scheduleRun();
    }
    if (ch.rx_pos < ch.rx_sdu_len) return;
    const size = ch.rx_sdu_len;
    ch.rx_sdu_len = -1;
    ch.rx_pos = 0;
    ch.handler?.(L2CAP_DATA_PACKET, ch.local_cid, buf, size);
  }

  /** Commands for the channels (codes 0x06, 0x07, 0x14-0x16); false: not handled here. */
  command(link: L2capLeLink, code: number, id: number, packet: Uint8Array, d: number): boolean {
    switch (code) {
      case LE_SIG_DISCONNECTION_REQUEST:
        this.remoteDisconnect(link, id, little_endian_read_16(packet, d), little_endian_read_16(packet, d + 2));
        return true;
      case LE_SIG_DISCONNECTION_RESPONSE:
        this.disconnectResponse(link, id, little_endian_read_16(packet, d), little_endian_read_16(packet, d + 2));
        return true;
      case LE_SIG_LE_CREDIT_BASED_CONNECTION_REQUEST:
        this.incomingRequest(link, id, packet, d);
        return true;
      case LE_SIG_LE_CREDIT_BASED_CONNECTION_RESPONSE:
        this.incomingResponse(link, id, packet, d);
        return true;
      case LE_SIG_FLOW_CONTROL_CREDIT_IND:
        this.credits(link, little_endian_read_16(packet, d), little_endian_read_16(packet, d + 2));
        return true;
      default:
        return false;
    }
  }
}
