/**
 * Encryption and SMP phase 3 (Vol 3 Part H 2.4, 3.6): LE Start Encryption with the STK / LTK,
 * the peripheral's answer to LE Long Term Key Request, Encryption Change, key distribution in the
 * spec's order (the responder's keys first: Encryption Information + Central Identification
 * (legacy only), Identity Information + Identity Address Information, Signing Information; then
 * the initiator's), the bond stored in the le device db when both sides asked for bonding, and
 * re-encryption with a stored LTK in both roles (SM_EVENT_REENCRYPTION_STARTED / _COMPLETE).
 * Component of sm.ts. The link's LE security (HciConnection.le_sec) is set on every successful
 * Encryption Change and Key Refresh, so gap_security_level answers for LE links.
 */
import {
  hci_le_long_term_key_negative_reply,
  hci_le_long_term_key_request_reply,
  hci_le_start_encryption,
} from '../hci/commands.js';
import { ERROR_CODE_PIN_OR_KEY_MISSING, SM_AUTHREQ_CT2, SM_REASON_UNSPECIFIED_REASON } from '../codes/v1.4.js';
import { little_endian_read_16, type BdAddr } from '../core/bytes.js';
import {
  AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256,
  UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256,
} from '../hci/link-key-db.js';
import { sm_ltk_to_link_key } from './crypto.js';
import { GAP_RANDOM_ADDRESS_NON_RESOLVABLE, GAP_RANDOM_ADDRESS_RESOLVABLE, GAP_RANDOM_ADDRESS_TYPE_OFF } from '../hci/gap-le.js';
import type { LeDeviceDbEncryption } from './le-device-db.js';
import {
  SM_CODE_CENTRAL_IDENTIFICATION,
  SM_CODE_ENCRYPTION_INFORMATION,
  SM_CODE_IDENTITY_ADDRESS_INFORMATION,
  SM_CODE_IDENTITY_INFORMATION,
  SM_CODE_SIGNING_INFORMATION,
  SM_KEYDIST_ENC_KEY,
  SM_KEYDIST_ID_KEY,
  SM_KEYDIST_SIGN,
  sm_build_central_identification,
  sm_build_identity_address,
  sm_build_value128,
  sm_parse_identity_address,
  sm_parse_value128,
} from './sm-pdu.js';
import type { SmEvents } from './sm-events.js';
import type { SmIo } from './sm-io.js';
import type { SmConnection, SmState } from './sm-state.js';

function reversed(v: Uint8Array): Uint8Array {
  return Uint8Array.from(v).reverse();
}

function zero(v: Uint8Array): boolean {
  return v.every((b) => b === 0);
}

/** Who hears of a stored bond (the privacy component, sm-privacy.ts). */
export interface SmBondStoredListener {
  identity_created(c: SmConnection, index: number): void;
}

export class SmKeys {
  /** Told after a bond was stored (sm-privacy: SM_EVENT_IDENTITY_CREATED); set by Sm. */
  stored_listener: SmBondStoredListener | null = null;

  constructor(
    private readonly s: SmState,
    private readonly io: SmIo,
    private readonly ev: SmEvents,
  ) {}

  // ================================================================ encryption

  private start_encryption(c: SmConnection, rand_wire: Uint8Array, ediv: number, key_msb: Uint8Array): void {
    const st = this.s.hci.hci_send_cmd(hci_le_start_encryption, c.con_handle, rand_wire, ediv, reversed(key_msb));
    if (st !== 0) this.s.log.error(`sm 0x${c.con_handle.toString(16)}: LE Start Encryption not sent (0x${st.toString(16)})`);
  }

  /** Central, end of phase 2: encrypt with the STK (legacy) or LTK (SC); EDIV and Rand 0. */
  start_encryption_stk(c: SmConnection): void {
    this.s.setPhase(c, 'W4_ENCRYPTION', 'LE Start Encryption');
    this.start_encryption(c, new Uint8Array(8), 0, c.key);
  }

  /** The bond for this connection's peer (found when the link came up, sm-privacy.ts), or -1. */
  bond_index(c: SmConnection): number {
    if (c.db_index >= 0 && this.s.db.le_device_db_info(c.db_index)) return c.db_index;
    return this.s.db.le_device_db_lookup(c.peer_addr_type, c.peer_addr);
  }

  /**
   * Central: re-encrypt with the stored LTK; false when there is none, or when re-encryption
   * already failed on this link (then the caller pairs, as BTstack's sm_request_pairing does).
   */
  reencrypt(c: SmConnection): boolean {
    if (c.reencryption_failed) return false;
    const index = this.bond_index(c);
    const enc = index >= 0 ? this.s.db.le_device_db_encryption_get(index) : null;
    if (!enc || zero(enc.ltk)) return false;
    c.db_index = index;
    this.s.setPhase(c, 'REENCRYPTING', 'stored LTK');
    this.ev.reencryption_started(c);
    this.start_encryption(c, enc.rand, enc.ediv, enc.ltk);
    return true;
  }

  /** Peripheral: HCI_SUBEVENT_LE_LONG_TERM_KEY_REQUEST (rand as on the wire). */
  on_ltk_request(c: SmConnection, rand: Uint8Array, ediv: number): void {
    const hci = this.s.hci;
    if (c.pairing) {
      if (c.phase === 'W4_LTK_REQUEST' && ediv === 0 && zero(rand)) {
        this.s.setPhase(c, 'W4_ENCRYPTION', 'LTK Request answered with the new key');
        hci.hci_send_cmd(hci_le_long_term_key_request_reply, c.con_handle, reversed(c.key));
      } else {
        hci.hci_send_cmd(hci_le_long_term_key_negative_reply, c.con_handle);
      }
      return;
    }
    const enc = this.lookup_local(c, rand, ediv);
    if (!enc) {
      this.s.log.info(`sm 0x${c.con_handle.toString(16)}: LTK Request without a bond, negative reply`);
      hci.hci_send_cmd(hci_le_long_term_key_negative_reply, c.con_handle);
      return;
    }
    this.s.setPhase(c, 'REENCRYPTING', 'LTK Request with a bond');
    this.ev.reencryption_started(c);
    hci.hci_send_cmd(hci_le_long_term_key_request_reply, c.con_handle, reversed(enc.ltk));
  }

  /** The key a peripheral answers an LTK Request with: the SC LTK (EDIV, Rand 0) or the legacy LTK we distributed. */
  private lookup_local(c: SmConnection, rand: Uint8Array, ediv: number): LeDeviceDbEncryption | null {
    const db = this.s.db;
    const index = this.bond_index(c);
    if (index < 0) return null;
    const remote = db.le_device_db_encryption_get(index);
    const local = db.le_device_db_local_encryption_get(index);
    let enc: LeDeviceDbEncryption | null = null;
    if (ediv === 0 && zero(rand) && remote?.secure_connection) enc = remote;
    else if (local && local.ediv === ediv && local.rand.every((b, i) => b === rand[i])) enc = local;
    if (enc) c.db_index = index;
    return enc;
  }

  /** Encryption Change (status, enabled) or Key Refresh Complete (enabled = -1) on this LE link. */
  on_encryption_change(c: SmConnection, status: number, enabled: number): void {
    const le_sec = this.s.hci.hci_connection_for_handle(c.con_handle)?.le_sec ?? null;
    if (status === 0 && enabled !== 0) {
      c.encrypted = true;
      c.reencryption_failed = false;
      if (c.pairing && c.phase === 'W4_ENCRYPTION') {
        if (le_sec) {
          le_sec.encryption_key_size = c.key_size;
          le_sec.authenticated = c.method !== 'JW';
          le_sec.secure_connection = c.sc;
        }
        return this.start_distribution(c);
      }
      if (c.phase === 'REENCRYPTING') {
        const enc = c.db_index >= 0 ? this.s.db.le_device_db_encryption_get(c.db_index) : null;
        if (le_sec && enc) {
          le_sec.encryption_key_size = enc.key_size;
          le_sec.authenticated = enc.authenticated;
          le_sec.secure_connection = enc.secure_connection;
        }
        this.s.setPhase(c, 'IDLE', 're-encrypted');
        this.ev.reencryption_complete(c, 0);
      }
      return;
    }
    if (status === 0 && enabled === 0) {
      c.encrypted = false;
      le_sec?.reset();
      return;
    }
    // failed
    if (c.pairing && c.phase === 'W4_ENCRYPTION') return this.io.complete(c, status, 0);
    if (c.phase === 'REENCRYPTING') {
      // As BTstack: the bond stays; REENCRYPTION_COMPLETE carries the controller's status (PIN or
      // Key Missing 0x06 when the peripheral lost the bond). The application decides: BTstack's
      // sm_pairing_central deletes the bond (gap_delete_bonding) and calls sm_request_pairing,
      // which on this link now sends a Pairing Request.
      this.s.setPhase(c, 'IDLE', `re-encryption failed 0x${status.toString(16)}`);
      if (c.role === 0) c.reencryption_failed = true;
      if (status === ERROR_CODE_PIN_OR_KEY_MISSING)
        this.s.log.info(`sm 0x${c.con_handle.toString(16)}: the peer has no key for our bond (PIN or Key Missing)`);
      this.ev.reencryption_complete(c, status);
    }
  }

  // ================================================================ phase 3

  /** Phase 3 (also SMP over BR/EDR right after the feature exchange, sm-br-edr.ts): the responder's keys first. */
  start_distribution(c: SmConnection): void {
    this.s.setPhase(c, 'W4_KEYS', 'encrypted, key distribution');
    c.keys_expected = c.role === 0 ? c.resp_dist : c.init_dist;
    if (c.role === 1) this.send_keys(c);
    this.maybe_finish(c);
  }

  private send_keys(c: SmConnection): void {
    if (c.keys_sent) return;
    c.keys_sent = true;
    const dist = c.role === 0 ? c.init_dist : c.resp_dist;
    if (dist & SM_KEYDIST_ENC_KEY && !c.sc) {
      const ltk = this.s.random(16);
      ltk.fill(0, 0, 16 - c.key_size);
      const r = this.s.random(10);
      c.local_ltk = ltk;
      c.local_ediv = r[0]! | (r[1]! << 8);
      c.local_rand = r.slice(2, 10);
      this.io.send(c, sm_build_value128(SM_CODE_ENCRYPTION_INFORMATION, ltk));
      this.io.send(c, sm_build_central_identification(c.local_ediv, c.local_rand));
    }
    if (dist & SM_KEYDIST_ID_KEY) {
      const id = this.identity_address();
      this.io.send(c, sm_build_value128(SM_CODE_IDENTITY_INFORMATION, this.s.irk));
      this.io.send(c, sm_build_identity_address(id.addr_type, id.addr));
    }
    if (dist & SM_KEYDIST_SIGN) this.io.send(c, sm_build_value128(SM_CODE_SIGNING_INFORMATION, this.s.csrk));
  }

  /**
   * Our identity address (Identity Address Information): the public or static random address we
   * use, or the public one while we use private addresses (as BTstack).
   */
  private identity_address(): { addr_type: number; addr: Uint8Array } {
    const gap = this.s.hci.gap;
    const mode = gap.gap_random_address_get_mode?.() ?? GAP_RANDOM_ADDRESS_TYPE_OFF;
    if ((mode === GAP_RANDOM_ADDRESS_NON_RESOLVABLE || mode === GAP_RANDOM_ADDRESS_RESOLVABLE) && gap.gap_local_bd_addr)
      return { addr_type: 0, addr: gap.gap_local_bd_addr() };
    const own = gap.gap_le_get_own_address();
    return { addr_type: own.addr_type & 1, addr: own.addr };
  }

  /** A key distribution PDU (length checked); false when it does not belong here. */
  on_key_pdu(c: SmConnection, pdu: Uint8Array): void {
    const k = c.peer_keys;
    const exp = c.keys_expected;
    switch (pdu[0]) {
      case SM_CODE_ENCRYPTION_INFORMATION:
        if (!(exp & SM_KEYDIST_ENC_KEY) || k.ltk) return this.unexpected(c);
        k.ltk = sm_parse_value128(pdu);
        break;
      case SM_CODE_CENTRAL_IDENTIFICATION:
        if (!(exp & SM_KEYDIST_ENC_KEY) || !k.ltk) return this.unexpected(c);
        k.ediv = little_endian_read_16(pdu, 1);
        k.rand = pdu.slice(3, 11);
        c.keys_expected &= ~SM_KEYDIST_ENC_KEY;
        break;
      case SM_CODE_IDENTITY_INFORMATION:
        if (exp & SM_KEYDIST_ENC_KEY || !(exp & SM_KEYDIST_ID_KEY) || k.irk) return this.unexpected(c);
        k.irk = sm_parse_value128(pdu);
        break;
      case SM_CODE_IDENTITY_ADDRESS_INFORMATION: {
        if (exp & SM_KEYDIST_ENC_KEY || !(exp & SM_KEYDIST_ID_KEY) || !k.irk) return this.unexpected(c);
        const id = sm_parse_identity_address(pdu);
        k.identity_addr_type = id.addr_type;
        k.identity_addr = id.addr;
        c.keys_expected &= ~SM_KEYDIST_ID_KEY;
        break;
      }
      case SM_CODE_SIGNING_INFORMATION:
        if (exp & (SM_KEYDIST_ENC_KEY | SM_KEYDIST_ID_KEY) || !(exp & SM_KEYDIST_SIGN)) return this.unexpected(c);
        k.csrk = sm_parse_value128(pdu);
        c.keys_expected &= ~SM_KEYDIST_SIGN;
        break;
      default:
        return this.unexpected(c);
    }
    this.maybe_finish(c);
  }

  private unexpected(c: SmConnection): void {
    this.io.fail(c, SM_REASON_UNSPECIFIED_REASON);
  }

  private maybe_finish(c: SmConnection): void {
    if (c.keys_expected !== 0 || c.phase !== 'W4_KEYS') return;
    if (c.role === 0) this.send_keys(c);
    if (c.bonding) this.store(c);
    this.io.complete(c, 0, 0);
  }

  /** Keep the bond (BTstack's le_device_db calls): identity address if the peer sent one. */
  private store(c: SmConnection): void {
    const db = this.s.db;
    const k = c.peer_keys;
    const addr_type = k.identity_addr ? k.identity_addr_type : c.peer_addr_type;
    const addr = k.identity_addr ?? c.peer_addr;
    const index = db.le_device_db_add(addr_type, addr, k.irk);
    if (index < 0) {
      this.s.log.error('sm: le device db full, bond not stored');
      return;
    }
    const flags = { key_size: c.key_size, authenticated: c.method !== 'JW', authorized: false, secure_connection: c.sc };
    if (c.sc) db.le_device_db_encryption_set(index, { ...flags, ediv: 0, rand: new Uint8Array(8), ltk: c.key.slice() });
    else if (k.ltk && k.rand) db.le_device_db_encryption_set(index, { ...flags, ediv: k.ediv, rand: k.rand, ltk: k.ltk });
    if (c.local_ltk && c.local_rand)
      db.le_device_db_local_encryption_set(index, { ...flags, ediv: c.local_ediv, rand: c.local_rand, ltk: c.local_ltk });
    if (k.csrk) db.le_device_db_remote_csrk_set(index, k.csrk);
    if ((c.role === 0 ? c.init_dist : c.resp_dist) & SM_KEYDIST_SIGN) db.le_device_db_local_csrk_set(index, this.s.csrk);
    c.db_index = index;
    this.stored_listener?.identity_created(c, index);
    if (c.ctkd) this.derive_link_key(c, addr_type, addr);
  }

  /**
   * CTKD, LE -> BR/EDR (2.4.2.4): link key = h6(ILK, "lebr"), ILK = h7(SALT "tmp1", LTK) when both
   * set CT2, else h6(LTK, "tmp1"); into the link key db for the peer's public (identity) address,
   * typed as an SC combination key (authenticated when the pairing was), so a BR/EDR connection to
   * the same device authenticates with it and does not pair again.
   */
  private derive_link_key(c: SmConnection, addr_type: number, addr: BdAddr): void {
    const store = this.s.hci.gap.gap_store_link_key_for_bd_addr;
    if (!store || addr_type !== 0) return;
    const ct2 = (c.preq[3]! & c.pres[3]! & SM_AUTHREQ_CT2) !== 0;
    const type =
      c.method === 'JW' ? UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256 : AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256;
    // h6 gives the key most significant octet first; HCI (Link Key Request Reply, the key db) takes it least significant first
    store.call(this.s.hci.gap, addr.slice(), sm_ltk_to_link_key(c.key, ct2).reverse(), type);
    this.s.log.info(`sm 0x${c.con_handle.toString(16)}: BR/EDR link key derived from the LTK (CTKD, ${ct2 ? 'h7' : 'h6'})`);
  }
}
