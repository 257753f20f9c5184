/**
 * SMP over BR/EDR (Vol 3 Part H 3.2, 2.4.2.5): cross-transport key derivation of an LE LTK from a
 * BR/EDR Secure Connections link key, on the BR/EDR Security Manager fixed channel 0x0007, as
 * BTstack's sm.c does with ENABLE_CROSS_TRANSPORT_KEY_DERIVATION. Component of sm.ts.
 *
 * - Every classic ACL link gets an SmConnection (transport BR/EDR, peer = its public address,
 *   the HCI role: central = initiator). A successful Simple Pairing Complete marks the link as
 *   freshly paired (BTstack's sm_pairing_requested: only a new BR/EDR pairing starts CTKD).
 * - Encryption Change with Encryption_Enabled 0x02 (AES-CCM, i.e. a Secure Connections link key)
 *   on a freshly paired link whose key is a P-256 one (type 0x07 / 0x08): the initiator asks L2CAP
 *   for the fixed channel (which learns the remote's fixed channels mask first: the Pairing Request
 *   goes out only to a remote announcing 0x0007) and sends a Pairing Request: IO capability, OOB
 *   flag and AuthReq zero except CT2 (3.5.1: reserved over BR/EDR), our maximum key size, and the
 *   key distribution EncKey (= derive the LTK, 3.6.1), IdKey, SignKey from sm settings.
 * - The responder answers with the same fields (key distributions ANDed with ours), then phase 3
 *   runs without encryption setup (the link is encrypted): the responder's IdKey / SignKey PDUs,
 *   then the initiator's (no Encryption Information over BR/EDR: the LTK is derived, not sent).
 * - Both sides derive LTK = h6(ILTK, "brle"), ILTK = h7(SALT "tmp2", link key) when both set CT2,
 *   else h6(link key, "tmp2") (crypto.ts sm_link_key_to_ltk), shortened to the negotiated key size,
 *   and keep it as an LE Secure Connections bond (EDIV 0, Rand 0; authenticated when the link key
 *   is type 0x08) for the peer's identity address (Identity Address Information, else its BR/EDR
 *   address, public) with its IRK / CSRK: a later LE connection re-encrypts without pairing.
 *   SM_EVENT_PAIRING_STARTED / _COMPLETE carry the BR/EDR handle.
 * - A Pairing Request on a link that is not encrypted with AES-CCM after a P-256 key is refused
 *   with Pairing Failed 0x0E Cross-transport Key Derivation/Generation not allowed (3.5.5); any
 *   other PDU but the expected ones ends the procedure with 0x08 (0x07 for a reserved code, 0x0A
 *   for a wrong length), as over LE.
 */
import {
  SM_AUTHREQ_CT2,
  SM_REASON_COMMAND_NOT_SUPPORTED,
  SM_REASON_ENCRYPTION_KEY_SIZE,
  SM_REASON_INVALID_PARAMETERS,
  SM_REASON_UNSPECIFIED_REASON,
} from '../codes/v1.4.js';
// Only the v1.8 table (BTstack >= 1.5) names this reason; the wire value is the same in both profiles.
import { SM_REASON_CROSS_TRANSPORT_KEY_DERIVATION_NOT_ALLOWED } from '../codes/v1.8.js';
import {
  AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256,
  UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256,
} from '../hci/link-key-db.js';
import { sm_link_key_to_ltk } from './crypto.js';
import {
  SM_CODE_IDENTITY_ADDRESS_INFORMATION,
  SM_CODE_IDENTITY_INFORMATION,
  SM_CODE_PAIRING_FAILED,
  SM_CODE_PAIRING_REQUEST,
  SM_CODE_PAIRING_RESPONSE,
  SM_CODE_SIGNING_INFORMATION,
  SM_KEYDIST_ENC_KEY,
  SM_KEYDIST_ID_KEY,
  SM_KEYDIST_SIGN,
  sm_build_pairing,
  sm_build_pairing_failed,
  sm_parse_pairing,
  sm_pdu_length,
} from './sm-pdu.js';
import type { SmEvents } from './sm-events.js';
import type { SmIo } from './sm-io.js';
import type { SmKeys } from './sm-keys.js';
import { SM_CID_BR_EDR, type SmConnection, type SmState } from './sm-state.js';

/** Key distribution bits SMP over BR/EDR uses: EncKey (derive the LTK), IdKey, SignKey. */
const BR_EDR_DIST = SM_KEYDIST_ENC_KEY | SM_KEYDIST_ID_KEY | SM_KEYDIST_SIGN;

export class SmBrEdr {
  constructor(
    private readonly s: SmState,
    private readonly io: SmIo,
    private readonly ev: SmEvents,
    private readonly keys: SmKeys,
  ) {}

  /** HCI Connection Complete of a classic ACL link: its SM record. */
  connected(c: SmConnection, peer_addr: Uint8Array): void {
    const s = this.s;
    const conn = s.hci.hci_connection_for_handle(c.con_handle);
    c.classic = true;
    c.cid = SM_CID_BR_EDR;
    c.role = conn?.role === 0 ? 0 : 1; // HCI_ROLE_MASTER initiates
    c.peer_addr_type = 0; // a BR/EDR address is public
    c.peer_addr = peer_addr;
    c.local_addr_type = 0;
    c.local_addr = s.hci.gap.gap_local_bd_addr?.().slice() ?? new Uint8Array(6);
  }

  /** Simple Pairing Complete (success) on this link: a new link key. */
  paired(c: SmConnection): void {
    c.ssp_done = true;
  }

  /** The link's key is a P-256 (Secure Connections) one and the link is encrypted with AES-CCM. */
  private allowed(c: SmConnection): boolean {
    const conn = this.s.hci.hci_connection_for_handle(c.con_handle);
    const type = conn?.sec?.link_key_type;
    return (
      c.encrypted &&
      (type === AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256 || type === UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256)
    );
  }

  /** Encryption Change on the classic link. */
  encryption_change(c: SmConnection, status: number, enabled: number): void {
    if (status !== 0) return;
    c.encrypted = enabled === 0x02;
    if (!c.encrypted || c.role !== 0 || !c.ssp_done || c.phase !== 'IDLE' || !this.allowed(c)) return;
    if ((this.s.settings.key_distribution & BR_EDR_DIST) === 0) return;
    c.ssp_done = false;
    // the Pairing Request goes out once L2CAP knows the remote has channel 0x0007 (CAN_SEND_NOW)
    this.s.setPhase(c, 'BR_W4_FIXED_CHANNEL', 'AES-CCM after BR/EDR SC pairing: CTKD');
    this.s.l2cap.l2cap_request_can_send_fix_channel_now_event(c.con_handle, SM_CID_BR_EDR);
  }

  /** L2CAP_EVENT_CAN_SEND_NOW on 0x0007. */
  can_send_now(c: SmConnection): void {
    if (c.phase === 'BR_W4_FIXED_CHANNEL') return this.start_initiator(c);
    this.io.run(c);
  }

  private ours(): { max: number; dist: number } {
    const st = this.s.settings;
    return { max: st.max_key_size, dist: st.key_distribution & BR_EDR_DIST };
  }

  private start_initiator(c: SmConnection): void {
    c.reset_setup();
    const o = this.ours();
    const req = sm_build_pairing(SM_CODE_PAIRING_REQUEST, {
      io_capability: 0,
      oob_data_flag: 0,
      auth_req: SM_AUTHREQ_CT2,
      max_encryption_key_size: o.max,
      initiator_key_distribution: o.dist,
      responder_key_distribution: o.dist,
    });
    c.preq.set(req);
    c.pairing = true;
    this.ev.base('started', c);
    this.s.setPhase(c, 'W4_PAIRING_RESPONSE', 'Pairing Request sent over BR/EDR');
    this.io.send(c, req);
  }

  /** An SMP PDU on 0x0007 of this classic link. */
  pdu(c: SmConnection, pdu: Uint8Array): void {
    const code = pdu[0]!;
    const len = sm_pdu_length(code);
    if (len === 0) return this.refuse(c, SM_REASON_COMMAND_NOT_SUPPORTED);
    if (pdu.length !== len) {
      if (code === SM_CODE_PAIRING_FAILED) return this.peer_failed(c, 0);
      return this.refuse(c, SM_REASON_INVALID_PARAMETERS);
    }
    if (c.pairing) this.io.restart_timer(c);
    switch (code) {
      case SM_CODE_PAIRING_FAILED:
        return this.peer_failed(c, pdu[1]!);
      case SM_CODE_PAIRING_REQUEST:
        if (!this.allowed(c)) return this.refuse(c, SM_REASON_CROSS_TRANSPORT_KEY_DERIVATION_NOT_ALLOWED);
        if (c.role !== 1 || c.phase !== 'IDLE') return this.refuse(c, SM_REASON_UNSPECIFIED_REASON);
        return this.on_pairing_request(c, pdu);
      case SM_CODE_PAIRING_RESPONSE:
        if (!c.pairing || c.role !== 0 || c.phase !== 'W4_PAIRING_RESPONSE') return this.refuse(c, SM_REASON_UNSPECIFIED_REASON);
        return this.on_pairing_response(c, pdu);
      case SM_CODE_IDENTITY_INFORMATION:
      case SM_CODE_IDENTITY_ADDRESS_INFORMATION:
      case SM_CODE_SIGNING_INFORMATION:
        if (!c.pairing || c.phase !== 'W4_KEYS') return this.refuse(c, SM_REASON_UNSPECIFIED_REASON);
        return this.keys.on_key_pdu(c, pdu);
    }
    // LE-only PDUs (confirm, random, public key, DHKey check, Encryption Information, Security Request, keypress)
    return this.refuse(c, SM_REASON_UNSPECIFIED_REASON);
  }

  private refuse(c: SmConnection, reason: number): void {
    this.s.log.info(`sm 0x${c.con_handle.toString(16)} (BR/EDR): refused, reason 0x${reason.toString(16).padStart(2, '0')}`);
    if (c.pairing) return this.io.fail(c, reason);
    this.io.send(c, sm_build_pairing_failed(reason));
  }

  private peer_failed(c: SmConnection, reason: number): void {
    if (!c.pairing) return;
    this.s.log.info(`sm 0x${c.con_handle.toString(16)} (BR/EDR): peer sent Pairing Failed 0x${reason.toString(16)}`);
    this.io.complete(c, 0x05, reason); // ERROR_CODE_AUTHENTICATION_FAILURE
  }

  private on_pairing_request(c: SmConnection, pdu: Uint8Array): void {
    c.reset_setup();
    c.preq.set(pdu.subarray(0, 7));
    c.pairing = true;
    this.ev.base('started', c);
    const req = sm_parse_pairing(pdu);
    const o = this.ours();
    const rsp = sm_build_pairing(SM_CODE_PAIRING_RESPONSE, {
      io_capability: 0,
      oob_data_flag: 0,
      auth_req: SM_AUTHREQ_CT2,
      max_encryption_key_size: o.max,
      initiator_key_distribution: req.initiator_key_distribution & o.dist,
      responder_key_distribution: req.responder_key_distribution & o.dist,
    });
    if (!this.negotiate(c, req.max_encryption_key_size, rsp)) return;
    this.io.send(c, rsp);
    this.keys.start_distribution(c);
  }

  private on_pairing_response(c: SmConnection, pdu: Uint8Array): void {
    const req = sm_parse_pairing(c.preq);
    const res = sm_parse_pairing(pdu);
    if (
      (res.initiator_key_distribution & ~req.initiator_key_distribution) !== 0 ||
      (res.responder_key_distribution & ~req.responder_key_distribution) !== 0
    )
      return this.io.fail(c, SM_REASON_INVALID_PARAMETERS);
    if (!this.negotiate(c, res.max_encryption_key_size, pdu)) return;
    this.keys.start_distribution(c);
  }

  /** Key size, key distribution, the derived LTK; false when the pairing failed. */
  private negotiate(c: SmConnection, peer_max: number, pres: Uint8Array): boolean {
    const st = this.s.settings;
    c.pres.set(pres.subarray(0, 7));
    if (peer_max > 16) {
      this.io.fail(c, SM_REASON_INVALID_PARAMETERS);
      return false;
    }
    c.key_size = Math.min(peer_max, st.max_key_size);
    if (c.key_size < st.min_key_size || c.key_size < 7) {
      this.io.fail(c, SM_REASON_ENCRYPTION_KEY_SIZE);
      return false;
    }
    // the LTK is derived on both sides (EncKey), never distributed; IdKey and SignKey are
    c.init_dist = c.pres[5]! & (SM_KEYDIST_ID_KEY | SM_KEYDIST_SIGN);
    c.resp_dist = c.pres[6]! & (SM_KEYDIST_ID_KEY | SM_KEYDIST_SIGN);
    c.sc = true;
    // 3.6.1: the LTK is derived when EncKey is set in both key distributions (the answer ANDs them with the request)
    c.bonding = (c.pres[5]! & c.pres[6]! & SM_KEYDIST_ENC_KEY) !== 0;
    const conn = this.s.hci.hci_connection_for_handle(c.con_handle)!;
    const authenticated = conn.sec?.link_key_type === AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256;
    c.method = authenticated ? 'NC' : 'JW'; // the bond's authenticated flag follows the link key's type
    const ct2 = (c.preq[3]! & c.pres[3]! & SM_AUTHREQ_CT2) !== 0;
    // the HCI link key is least significant octet first; h6 / h7 take it most significant first
    const link_key = Uint8Array.from(conn.sec!.link_key).reverse();
    c.key.set(sm_link_key_to_ltk(link_key, ct2));
    c.key.fill(0, 0, 16 - c.key_size);
    this.s.log.info(`sm 0x${c.con_handle.toString(16)} (BR/EDR): LE LTK derived from the link key (CTKD, ${ct2 ? 'h7' : 'h6'})`);
    return true;
  }
}
