/**
 * SMP phases 1 and 2 (Vol 3 Part H 2.3, 3.5, 3.6 pairing part): feature exchange, the association
 * model (Tables 2.8 / 2.7), LE legacy pairing (c1, s1: Just Works, Passkey Entry) and LE Secure
 * Connections (P-256, f4, f5, f6, g2: Just Works, Numeric Comparison, Passkey Entry), in both
 * roles. Component of sm.ts; phase 3 and encryption are SmKeys' (sm-keys.ts).
 *
 * Every check ends the pairing with the spec's reason (3.5.5): wrong PDU length 0x0A Invalid
 * Parameters; a PDU the phase does not expect 0x08 Unspecified Reason; a reserved code 0x07
 * Command Not Supported; key size below sm_set_encryption_key_size_range's minimum 0x06;
 * secure-connections-only mode against a legacy peer, or MITM asked for and only Just Works
 * possible, 0x03 Authentication Requirements; a confirm value that does not match 0x04; a public
 * key not on P-256 (CVE-2018-5383: validated before any DHKey) or a DHKey Check mismatch 0x0B
 * (as BTstack's sm.c); the user declining 0x0C (Numeric Comparison / SC Just Works) or 0x01.
 * OOB (sm-oob.ts): legacy OOB when both sides set the OOB flag (TK from the application), SC OOB
 * when either does (commitments checked against the Public Keys, then Na / Nb, then the DHKey
 * checks with ra / rb); a legacy OOB pairing without a TK of ours fails with 0x02 OOB Not Available.
 */
import {
  IO_CAPABILITY_KEYBOARD_DISPLAY,
  SM_AUTHREQ_BONDING,
  SM_AUTHREQ_CT2,
  SM_AUTHREQ_MITM_PROTECTION,
  SM_AUTHREQ_SECURE_CONNECTION,
  SM_REASON_AUTHENTHICATION_REQUIREMENTS,
  SM_REASON_CONFIRM_VALUE_FAILED,
  SM_REASON_DHKEY_CHECK_FAILED,
  SM_REASON_ENCRYPTION_KEY_SIZE,
  SM_REASON_INVALID_PARAMETERS,
  SM_REASON_NUMERIC_COMPARISON_FAILED,
  SM_REASON_OOB_NOT_AVAILABLE,
  SM_REASON_PASSKEY_ENTRY_FAILED,
  SM_REASON_UNSPECIFIED_REASON,
} from '../codes/v1.4.js';
import { sm_c1, sm_f4, sm_f5, sm_f6, sm_g2, sm_numeric_comparison_value, sm_s1, type SmAddress } from './crypto.js';
import {
  sm_p256_dhkey,
  sm_p256_generate_key_pair,
  sm_p256_public_key_from_wire,
  sm_p256_public_key_to_wire,
  sm_p256_public_key_valid,
} from './p256.js';
import {
  SM_CODE_PAIRING_CONFIRM,
  SM_CODE_PAIRING_DHKEY_CHECK,
  SM_CODE_PAIRING_RANDOM,
  SM_CODE_PAIRING_REQUEST,
  SM_CODE_PAIRING_RESPONSE,
  SM_KEYDIST_LINK_KEY,
  sm_build_pairing,
  sm_build_public_key,
  sm_build_value128,
  sm_parse_pairing,
  sm_parse_value128,
  type SmPairingParams,
} from './sm-pdu.js';
import type { SmEvents } from './sm-events.js';
import type { SmIo } from './sm-io.js';
import type { SmKeys } from './sm-keys.js';
import type { SmOob } from './sm-oob.js';
import type { SmConnection, SmMethod, SmState } from './sm-state.js';

const JW: SmMethod = 'JW';
const PI: SmMethod = 'PK_INIT_INPUT';
const PR: SmMethod = 'PK_RESP_INPUT';
const PB: SmMethod = 'PK_BOTH_INPUT';
const NC: SmMethod = 'NC';
/** Table 2.8 (legacy), [responder IO capability][initiator IO capability]. */
const LEGACY_METHOD: readonly (readonly SmMethod[])[] = [
  [JW, JW, PI, JW, PI],
  [JW, JW, PI, JW, PI],
  [PR, PR, PB, JW, PR],
  [JW, JW, JW, JW, JW],
  [PR, PR, PI, JW, PR],
];
/** Table 2.8 with LE Secure Connections: Numeric Comparison where both can show and confirm. */
const SC_METHOD: readonly (readonly SmMethod[])[] = [
  [JW, JW, PI, JW, PI],
  [JW, NC, PI, JW, NC],
  [PR, PR, PB, JW, PR],
  [JW, JW, JW, JW, JW],
  [PR, NC, PI, JW, NC],
];

/**
 * The association model for this pairing (2.3.5.1): OOB when both OOB flags are set (legacy,
 * Table 2.6) or either is (SC, Table 2.7); else Just Works when neither side asks for MITM; else
 * Table 2.8 by IO capabilities.
 */
export function sm_association_model(preq: SmPairingParams, pres: SmPairingParams, sc: boolean): SmMethod {
  if (sc ? preq.oob_data_flag | pres.oob_data_flag : preq.oob_data_flag & pres.oob_data_flag) return 'OOB';
  const mitm = ((preq.auth_req | pres.auth_req) & SM_AUTHREQ_MITM_PROTECTION) !== 0;
  if (!mitm) return 'JW';
  const row = (sc ? SC_METHOD : LEGACY_METHOD)[pres.io_capability];
  return row?.[preq.io_capability] ?? 'JW';
}

function passkey128(passkey: number): Uint8Array {
  const r = new Uint8Array(16);
  r[12] = (passkey >>> 24) & 0xff;
  r[13] = (passkey >>> 16) & 0xff;
  r[14] = (passkey >>> 8) & 0xff;
  r[15] = passkey & 0xff;
  return r;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export class SmPairing {
  constructor(
    private readonly s: SmState,
    private readonly io: SmIo,
    private readonly ev: SmEvents,
    private readonly keys: SmKeys,
    private readonly oob: SmOob,
  ) {}

  // ================================================================ addresses and helpers

  private initiator(c: SmConnection): SmAddress {
    return c.role === 0 ? { type: c.local_addr_type & 1, addr: c.local_addr } : this.peer(c);
  }

  private responder(c: SmConnection): SmAddress {
    return c.role === 1 ? { type: c.local_addr_type & 1, addr: c.local_addr } : this.peer(c);
  }

  /** The peer's address on the air: its RPA when the controller resolved it to the identity we report. */
  private peer(c: SmConnection): SmAddress {
    return c.peer_rpa ? { type: 1, addr: c.peer_rpa } : { type: c.peer_addr_type & 1, addr: c.peer_addr };
  }

  private ourParams(c: SmConnection): SmPairingParams {
    const st = this.s.settings;
    let auth = st.auth_req;
    if (st.sc_only) auth |= SM_AUTHREQ_SECURE_CONNECTION;
    let dist = auth & SM_AUTHREQ_BONDING ? st.key_distribution : 0;
    // CTKD (2.4.2.4): a dual-mode stack offers to derive the BR/EDR link key from an SC LTK, with CT2 (h7)
    if (dist && auth & SM_AUTHREQ_SECURE_CONNECTION && this.s.hci.gap.gap_store_link_key_for_bd_addr) {
      dist |= SM_KEYDIST_LINK_KEY;
      auth |= SM_AUTHREQ_CT2;
    }
    return {
      io_capability: st.io_capability,
      oob_data_flag: this.oob.lookup(c, auth),
      auth_req: auth & 0x3f, // Bonding_Flags, MITM, SC, Keypress, CT2
      max_encryption_key_size: st.max_key_size,
      initiator_key_distribution: dist,
      responder_key_distribution: dist,
    };
  }

  private pk_x(pk: Uint8Array): Uint8Array {
    return pk.subarray(0, 32);
  }

  private ourPk(): Uint8Array {
    return (this.s.key_pair ??= sm_p256_generate_key_pair()).public_key;
  }

  private na(c: SmConnection): Uint8Array {
    return c.role === 0 ? c.local_random : c.peer_random!;
  }

  private nb(c: SmConnection): Uint8Array {
    return c.role === 1 ? c.local_random : c.peer_random!;
  }

  private pka(c: SmConnection): Uint8Array {
    return c.role === 0 ? this.ourPk() : c.peer_pk!;
  }

  private pkb(c: SmConnection): Uint8Array {
    return c.role === 1 ? this.ourPk() : c.peer_pk!;
  }

  /** The peer's confirm / DHKey check value is wrong: fail, and make it wait before the next try (2.3.6). */
  private refused_proof(c: SmConnection, reason: number): void {
    this.s.attemptFailed(c);
    this.io.fail(c, reason);
  }

  // ================================================================ phase 1

  /** Initiator: send the Pairing Request (sm_request_pairing, or a peripheral's Security Request). */
  start_initiator(c: SmConnection): void {
    c.reset_setup();
    const req = sm_build_pairing(SM_CODE_PAIRING_REQUEST, this.ourParams(c));
    c.preq.set(req);
    c.pairing = true;
    this.ev.base('started', c);
    this.s.setPhase(c, 'W4_PAIRING_RESPONSE', 'Pairing Request sent');
    this.io.send(c, req);
  }

  /** Responder: a Pairing Request arrived (length checked). */
  on_pairing_request(c: SmConnection, pdu: Uint8Array): void {
    c.reset_setup();
    c.preq.set(pdu.subarray(0, 7));
    c.pairing = true;
    this.ev.base('started', c);
    const req = sm_parse_pairing(pdu);
    const ours = this.ourParams(c);
    const res: SmPairingParams = {
      ...ours,
      initiator_key_distribution: req.initiator_key_distribution & ours.initiator_key_distribution,
      responder_key_distribution: req.responder_key_distribution & ours.responder_key_distribution,
    };
    const reason = this.negotiate(c, req, res);
    if (reason) return this.io.fail(c, reason);
    const rsp = sm_build_pairing(SM_CODE_PAIRING_RESPONSE, res);
    c.pres.set(rsp);
    this.io.send(c, rsp);
    if (c.sc) {
      this.s.setPhase(c, 'W4_PUBLIC_KEY', 'Pairing Response sent (LE Secure Connections)');
    } else {
      this.s.setPhase(c, 'W4_CONFIRM', 'Pairing Response sent (legacy)');
      this.legacy_ask_user(c);
    }
  }

  /** Initiator: the Pairing Response arrived (length checked). */
  on_pairing_response(c: SmConnection, pdu: Uint8Array): void {
    const req = sm_parse_pairing(c.preq);
    const res = sm_parse_pairing(pdu);
    if (
      (res.initiator_key_distribution & ~req.initiator_key_distribution) !== 0 ||
      (res.responder_key_distribution & ~req.responder_key_distribution) !== 0
    )
      return this.io.fail(c, SM_REASON_INVALID_PARAMETERS);
    const reason = this.negotiate(c, req, res);
    if (reason) return this.io.fail(c, reason);
    c.pres.set(pdu.subarray(0, 7));
    if (c.sc) {
      this.s.setPhase(c, 'W4_PUBLIC_KEY', 'Public Key sent');
      this.send_public_key(c);
    } else {
      this.s.setPhase(c, 'W4_CONFIRM', 'legacy pairing');
      this.legacy_ask_user(c);
    }
  }

  /** Both roles: check the two feature sets, pick key size, SC and the method; 0 or a reason. */
  private negotiate(c: SmConnection, req: SmPairingParams, res: SmPairingParams): number {
    const st = this.s.settings;
    for (const p of [req, res]) {
      if (p.io_capability > IO_CAPABILITY_KEYBOARD_DISPLAY || p.oob_data_flag > 1) return SM_REASON_INVALID_PARAMETERS;
      if (p.max_encryption_key_size > 16) return SM_REASON_INVALID_PARAMETERS;
    }
    c.key_size = Math.min(req.max_encryption_key_size, res.max_encryption_key_size);
    if (c.key_size < st.min_key_size || c.key_size < 7) return SM_REASON_ENCRYPTION_KEY_SIZE;
    c.sc = (req.auth_req & res.auth_req & SM_AUTHREQ_SECURE_CONNECTION) !== 0;
    if (st.sc_only && !c.sc) return SM_REASON_AUTHENTHICATION_REQUIREMENTS;
    c.method = sm_association_model(req, res, c.sc);
    if (c.method === 'JW' && (st.auth_req & SM_AUTHREQ_MITM_PROTECTION) !== 0) return SM_REASON_AUTHENTHICATION_REQUIREMENTS;
    c.bonding = (req.auth_req & res.auth_req & SM_AUTHREQ_BONDING) !== 0;
    let init = res.initiator_key_distribution;
    let resp = res.responder_key_distribution;
    if (c.sc) {
      // the EncKey bit is ignored with LE Secure Connections (3.6.1); the LinkKey bit asks for CTKD
      c.ctkd = ((init | resp) & SM_KEYDIST_LINK_KEY) !== 0;
      init &= ~0x09;
      resp &= ~0x09;
    }
    c.init_dist = init & 0x07;
    c.resp_dist = resp & 0x07;
    return 0;
  }

  // ================================================================ the user

  /** Does this side type the passkey? */
  private inputs(c: SmConnection): boolean {
    return c.method === 'PK_BOTH_INPUT' || (c.method === 'PK_INIT_INPUT') === (c.role === 0);
  }

  /** Passkey Entry: display a passkey or ask for one. */
  private passkey_setup(c: SmConnection): void {
    if (this.inputs(c)) {
      c.user = 'PENDING';
      this.ev.passkey_input(c);
      return;
    }
    const fixed = this.s.settings.fixed_passkey;
    const r = this.s.random(4);
    c.passkey = fixed ?? (((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0) % 1000000;
    c.passkey_ready = true;
    c.user = 'CONFIRMED';
    this.ev.number('display', c, c.passkey);
  }

  private legacy_ask_user(c: SmConnection): void {
    if (c.method === 'OOB') {
      if (!c.oob_tk) return this.io.fail(c, SM_REASON_OOB_NOT_AVAILABLE);
      c.tk.set(c.oob_tk);
    } else if (c.method === 'JW') {
      c.user = 'PENDING';
      this.ev.just_works_request(c);
    } else {
      this.passkey_setup(c);
      if (c.passkey_ready) c.tk.set(passkey128(c.passkey));
    }
    this.advance(c);
  }

  /** sm_just_works_confirm / sm_numeric_comparison_confirm. */
  user_confirm(c: SmConnection): void {
    if (c.user !== 'PENDING' || (c.method !== 'JW' && c.method !== 'NC')) return;
    c.user = 'CONFIRMED';
    this.advance(c);
  }

  /** sm_passkey_input. */
  user_passkey(c: SmConnection, passkey: number): void {
    if (c.user !== 'PENDING' || c.method === 'JW' || c.method === 'NC') return;
    c.user = 'CONFIRMED';
    c.passkey = passkey;
    c.passkey_ready = true;
    if (!c.sc) c.tk.set(passkey128(passkey));
    this.advance(c);
  }

  /** sm_bonding_decline: the pending question answered no. */
  user_decline(c: SmConnection): void {
    if (c.user !== 'PENDING') return;
    c.user = 'DECLINED';
    const reason =
      c.sc && (c.method === 'NC' || c.method === 'JW') ? SM_REASON_NUMERIC_COMPARISON_FAILED : SM_REASON_PASSKEY_ENTRY_FAILED;
    this.io.fail(c, reason);
  }

  private user_done(c: SmConnection): boolean {
    return c.user === 'CONFIRMED' || c.user === 'NONE';
  }

  /** Send what the state allows now that the user or a PDU moved it on. */
  private advance(c: SmConnection): void {
    if (!this.user_done(c)) return;
    if (!c.sc) {
      // legacy: the initiator confirms first; the responder once the initiator's confirm is in
      if (c.phase !== 'W4_CONFIRM' || c.local_confirm_sent) return;
      if (c.role === 1 && !c.peer_confirm) return;
      this.send_confirm_legacy(c);
      return;
    }
    if (c.method === 'JW' || c.method === 'NC') {
      if (c.phase === 'W4_DHKEY_CHECK') this.sc_dhkey_check(c);
      return;
    }
    // SC Passkey Entry rounds
    if (c.phase === 'W4_CONFIRM' && !c.local_confirm_sent && (c.role === 0 || c.peer_confirm)) this.sc_send_passkey_confirm(c);
  }

  // ================================================================ legacy (c1, s1)

  private c1(c: SmConnection, r: Uint8Array): Uint8Array {
    const preq = Uint8Array.from(c.preq).reverse();
    const pres = Uint8Array.from(c.pres).reverse();
    const ia = this.initiator(c);
    const ra = this.responder(c);
    return sm_c1(c.tk, r, preq, pres, ia.type, ra.type, ia.addr, ra.addr);
  }

  private send_confirm_legacy(c: SmConnection): void {
    c.local_random = this.s.random(16);
    c.local_confirm_sent = true;
    this.io.send(c, sm_build_value128(SM_CODE_PAIRING_CONFIRM, this.c1(c, c.local_random)));
    if (c.role === 1) this.s.setPhase(c, 'W4_RANDOM', 'Sconfirm sent');
  }

  // ================================================================ PDUs of phase 2

  on_confirm(c: SmConnection, pdu: Uint8Array): void {
    const value = sm_parse_value128(pdu);
    // the initiator confirms first (legacy, SC passkey rounds); in SC Just Works / Numeric
    // Comparison only the responder sends a confirm value
    const jw_nc = c.sc && (c.method === 'JW' || c.method === 'NC');
    if (c.phase !== 'W4_CONFIRM' || c.peer_confirm || (c.role === 0 && !c.local_confirm_sent) || (jw_nc && c.role === 1))
      return this.io.fail(c, SM_REASON_UNSPECIFIED_REASON);
    c.peer_confirm = value;
    if (c.role === 1) {
      this.advance(c);
      return;
    }
    // initiator: send our random (legacy Mrand, SC Na / Nai)
    if (jw_nc) c.local_random = this.s.random(16);
    this.s.setPhase(c, 'W4_RANDOM', 'peer confirm received');
    this.io.send(c, sm_build_value128(SM_CODE_PAIRING_RANDOM, c.local_random));
  }

  on_random(c: SmConnection, pdu: Uint8Array): void {
    if (c.phase !== 'W4_RANDOM') return this.io.fail(c, SM_REASON_UNSPECIFIED_REASON);
    c.peer_random = sm_parse_value128(pdu);
    if (!c.sc) return this.legacy_random(c);
    if (c.method === 'OOB') return this.sc_random_oob(c);
    if (c.method === 'JW' || c.method === 'NC') return this.sc_random_jw_nc(c);
    return this.sc_random_passkey(c);
  }

  private legacy_random(c: SmConnection): void {
    if (!equal(this.c1(c, c.peer_random!), c.peer_confirm!)) return this.refused_proof(c, SM_REASON_CONFIRM_VALUE_FAILED);
    const srand = c.role === 1 ? c.local_random : c.peer_random!;
    const mrand = c.role === 0 ? c.local_random : c.peer_random!;
    this.set_key(c, sm_s1(c.tk, srand, mrand));
    if (c.role === 1) {
      this.io.send(c, sm_build_value128(SM_CODE_PAIRING_RANDOM, c.local_random));
      this.s.setPhase(c, 'W4_LTK_REQUEST', 'Srand sent, STK ready');
    } else {
      this.keys.start_encryption_stk(c);
    }
  }

  /** The encryption key: STK / LTK shortened to the negotiated size (2.3.4: most significant octets zeroed). */
  private set_key(c: SmConnection, key: Uint8Array): void {
    c.key.set(key);
    c.key.fill(0, 0, 16 - c.key_size);
  }

  // ================================================================ LE Secure Connections

  private send_public_key(c: SmConnection): void {
    const wire = new Uint8Array(64);
    sm_p256_public_key_to_wire(this.ourPk(), wire, 0);
    this.io.send(c, sm_build_public_key(wire));
  }

  on_public_key(c: SmConnection, pdu: Uint8Array): void {
    if (c.phase !== 'W4_PUBLIC_KEY' || !c.sc) return this.io.fail(c, SM_REASON_UNSPECIFIED_REASON);
    const pk = sm_p256_public_key_from_wire(pdu, 1)!;
    // CVE-2018-5383: the point must be on the curve before it goes anywhere near a DHKey
    const dhkey = sm_p256_public_key_valid(pk.subarray(0, 32), pk.subarray(32, 64))
      ? sm_p256_dhkey((this.s.key_pair ??= sm_p256_generate_key_pair()).private_key, pk)
      : null;
    if (!dhkey || equal(pk, this.ourPk())) return this.io.fail(c, SM_REASON_DHKEY_CHECK_FAILED);
    c.peer_pk = pk;
    c.dhkey = dhkey;
    if (c.role === 1) this.send_public_key(c);
    if (c.method === 'OOB') {
      if (!this.oob.sc_public_key(c, pk)) return this.refused_proof(c, SM_REASON_CONFIRM_VALUE_FAILED);
      this.s.setPhase(c, 'W4_RANDOM', 'public keys exchanged (OOB)');
      if (c.role === 0) {
        c.local_random = this.s.random(16);
        this.io.send(c, sm_build_value128(SM_CODE_PAIRING_RANDOM, c.local_random));
      }
      return;
    }
    if (c.method === 'JW' || c.method === 'NC') {
      if (c.role === 1) {
        c.local_random = this.s.random(16);
        const cb = sm_f4(this.pk_x(this.pkb(c)), this.pk_x(this.pka(c)), c.local_random, 0);
        this.io.send(c, sm_build_value128(SM_CODE_PAIRING_CONFIRM, cb));
        this.s.setPhase(c, 'W4_RANDOM', 'Cb sent');
      } else {
        c.local_confirm_sent = true; // the initiator sends no confirm in JW / NC
        this.s.setPhase(c, 'W4_CONFIRM', 'public keys exchanged');
      }
      return;
    }
    this.s.setPhase(c, 'W4_CONFIRM', 'public keys exchanged (passkey)');
    this.passkey_setup(c);
    this.advance(c);
  }

  private rbit(c: SmConnection): number {
    return 0x80 | ((c.passkey >>> c.passkey_round) & 1);
  }

  private sc_send_passkey_confirm(c: SmConnection): void {
    c.local_random = this.s.random(16);
    c.local_confirm_sent = true;
    const ours = c.role === 0 ? this.pka(c) : this.pkb(c);
    const theirs = c.role === 0 ? this.pkb(c) : this.pka(c);
    const conf = sm_f4(this.pk_x(ours), this.pk_x(theirs), c.local_random, this.rbit(c));
    this.io.send(c, sm_build_value128(SM_CODE_PAIRING_CONFIRM, conf));
    if (c.role === 1) this.s.setPhase(c, 'W4_RANDOM', `Cb${c.passkey_round + 1} sent`);
  }

  private sc_random_passkey(c: SmConnection): void {
    const theirs = c.role === 0 ? this.pkb(c) : this.pka(c);
    const ours = c.role === 0 ? this.pka(c) : this.pkb(c);
    if (!equal(sm_f4(this.pk_x(theirs), this.pk_x(ours), c.peer_random!, this.rbit(c)), c.peer_confirm!))
      return this.refused_proof(c, SM_REASON_CONFIRM_VALUE_FAILED);
    if (c.role === 1) this.io.send(c, sm_build_value128(SM_CODE_PAIRING_RANDOM, c.local_random));
    c.passkey_round++;
    if (c.passkey_round < 20) {
      c.peer_confirm = null;
      c.local_confirm_sent = false;
      this.s.setPhase(c, 'W4_CONFIRM', `passkey round ${c.passkey_round + 1}`);
      this.advance(c);
      return;
    }
    this.s.setPhase(c, 'W4_DHKEY_CHECK', 'passkey rounds done');
    this.sc_dhkey_check(c);
  }

  private sc_random_jw_nc(c: SmConnection): void {
    if (c.role === 0) {
      const cb = sm_f4(this.pk_x(this.pkb(c)), this.pk_x(this.pka(c)), c.peer_random!, 0);
      if (!equal(cb, c.peer_confirm!)) return this.refused_proof(c, SM_REASON_CONFIRM_VALUE_FAILED);
    } else {
      this.io.send(c, sm_build_value128(SM_CODE_PAIRING_RANDOM, c.local_random));
    }
    this.s.setPhase(c, 'W4_DHKEY_CHECK', 'nonces exchanged');
    c.user = 'PENDING';
    if (c.method === 'NC') {
      c.display_value = sm_numeric_comparison_value(
        sm_g2(this.pk_x(this.pka(c)), this.pk_x(this.pkb(c)), this.na(c), this.nb(c)),
      );
      this.ev.number('compare', c, c.display_value);
    } else {
      this.ev.just_works_request(c);
    }
  }

  /** SC OOB: Na in (responder: answer Nb) or Nb in (initiator); then the DHKey checks. */
  private sc_random_oob(c: SmConnection): void {
    if (c.role === 1) {
      c.local_random = this.s.random(16);
      this.io.send(c, sm_build_value128(SM_CODE_PAIRING_RANDOM, c.local_random));
    }
    this.s.setPhase(c, 'W4_DHKEY_CHECK', 'nonces exchanged (OOB)');
    this.sc_dhkey_check(c);
  }

  private iocap(p: Uint8Array): Uint8Array {
    return Uint8Array.of(p[3]!, p[2]!, p[1]!);
  }

  /** f6 for side A (initiator) or B. */
  private f6(c: SmConnection, side: 'a' | 'b'): Uint8Array {
    let r = c.method === 'JW' || c.method === 'NC' ? new Uint8Array(16) : passkey128(c.passkey);
    // OOB: Ea carries rb, Eb ra (2.3.5.6.5)
    if (c.method === 'OOB') r = (side === 'a' ? c.oob_rb : c.oob_ra) ?? new Uint8Array(16);
    const a = this.initiator(c);
    const b = this.responder(c);
    return side === 'a'
      ? sm_f6(c.mac_key!, this.na(c), this.nb(c), r, this.iocap(c.preq), a, b)
      : sm_f6(c.mac_key!, this.nb(c), this.na(c), r, this.iocap(c.pres), b, a);
  }

  /** Phase 2 end (SC): the initiator sends Ea; the responder checks Ea (once the user agreed) and answers Eb. */
  private sc_dhkey_check(c: SmConnection): void {
    if (!this.user_done(c) || c.phase !== 'W4_DHKEY_CHECK') return;
    if (!c.mac_key) {
      const { mac_key, ltk } = sm_f5(c.dhkey!, this.na(c), this.nb(c), this.initiator(c), this.responder(c));
      c.mac_key = mac_key;
      this.set_key(c, ltk);
    }
    if (c.role === 0) {
      if (c.dhkey_check_sent) return;
      c.dhkey_check_sent = true;
      this.io.send(c, sm_build_value128(SM_CODE_PAIRING_DHKEY_CHECK, this.f6(c, 'a')));
      return;
    }
    if (!c.peer_dhkey_check) return;
    if (!equal(c.peer_dhkey_check, this.f6(c, 'a'))) return this.refused_proof(c, SM_REASON_DHKEY_CHECK_FAILED);
    this.io.send(c, sm_build_value128(SM_CODE_PAIRING_DHKEY_CHECK, this.f6(c, 'b')));
    this.s.setPhase(c, 'W4_LTK_REQUEST', 'Eb sent, LTK ready');
  }

  on_dhkey_check(c: SmConnection, pdu: Uint8Array): void {
    if (c.phase !== 'W4_DHKEY_CHECK' || c.peer_dhkey_check || (c.role === 0 && !c.dhkey_check_sent))
      return this.io.fail(c, SM_REASON_UNSPECIFIED_REASON);
    c.peer_dhkey_check = sm_parse_value128(pdu);
    if (c.role === 1) return this.sc_dhkey_check(c);
    if (!equal(c.peer_dhkey_check, this.f6(c, 'b'))) return this.refused_proof(c, SM_REASON_DHKEY_CHECK_FAILED);
    this.keys.start_encryption_stk(c);
  }
}
