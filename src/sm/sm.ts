/**
 * The LE Security Manager (BTstack's ble/sm.c API, sm.h names) on the SM fixed channel (CID
 * 0x0006) of every LE connection.
 *
 *   const sm = stack.sm;
 *   sm.sm_init();
 *   sm.sm_set_io_capabilities(IO_CAPABILITY_DISPLAY_YES_NO);
 *   sm.sm_set_authentication_requirements(SM_AUTHREQ_SECURE_CONNECTION | SM_AUTHREQ_BONDING);
 *   sm.sm_add_event_handler({ callback: (type, channel, packet, size) => { ... } });
 *
 * Events (SmEvents, sm-events.ts) to every handler added with sm_add_event_handler, in the
 * stack's code profile: SM_EVENT_PAIRING_STARTED, JUST_WORKS_REQUEST (answer sm_just_works_confirm
 * or sm_bonding_decline), NUMERIC_COMPARISON_REQUEST (sm_numeric_comparison_confirm),
 * PASSKEY_DISPLAY_NUMBER, PASSKEY_INPUT_NUMBER (sm_passkey_input), PAIRING_COMPLETE (status:
 * ERROR_CODE_SUCCESS, _CONNECTION_TIMEOUT, _REMOTE_USER_TERMINATED_CONNECTION or
 * _AUTHENTICATION_FAILURE with the SM_REASON_*), REENCRYPTION_STARTED / _COMPLETE, and in v1.8
 * SM_EVENT_SECURITY_REQUEST when a peripheral asks a central for security; KEYPRESS_NOTIFICATION
 * when the peer reports keys typed during Passkey Entry (sm_keypress_notification sends ours).
 *
 * Roles: a central pairs on sm_request_pairing (or re-encrypts when it has a bond) and when a
 * peripheral's Security Request arrives; a peripheral answers Pairing Requests, sends a Security
 * Request on sm_request_pairing, and on every connection with sm_set_request_security(true).
 *
 * The layer pattern (docs/ARCHITECTURE.md 2a): this facade (API, HCI events, PDU dispatch); the
 * state record sm-state.ts; components sm-io.ts (output, SMP timer, end of pairing),
 * sm-pairing.ts (phases 1-2), sm-keys.ts (encryption, phase 3, bonds), sm-events.ts; the codecs
 * sm-pdu.ts and crypto.ts / p256.ts; bonds in an LeDeviceDb (le-device-db.ts: in memory, or
 * le-device-db-tlv.ts: in the TLV store shared with link keys; Stack option le_device_db).
 * A peer whose confirm / DHKey check failed gets Repeated Attempts (0x09) for a while (sm-io.ts).
 * OOB: sm_register_oob_data_callback, sm_register_sc_oob_data_callback, sm_generate_sc_oob_data (sm-oob.ts).
 * Privacy (sm-privacy.ts): IR / ER -> IRK, GAP's resolvable private addresses, peers resolved
 * against the bonds (SM_EVENT_IDENTITY_RESOLVING_*, IDENTITY_CREATED). CTKD LE -> BR/EDR (sm-keys.ts) and BR/EDR -> LE (SMP over BR/EDR on channel
 * 0x0007, sm-br-edr.ts). Not built yet: authorization, signed writes.
 */
import type { Logger } from '../core/log.js';
import type { Pools, StackConfig } from '../core/config.js';
import type { RunLoop } from '../core/run-loop.js';
import { EventOut, type EventPacketLog } from '../core/event-out.js';
import { little_endian_read_16, reverse_bd_addr } from '../core/bytes.js';
import type { Codes } from '../codes/index.js';
import {
  ERROR_CODE_REMOTE_USER_TERMINATED_CONNECTION,
  HCI_EVENT_CONNECTION_COMPLETE,
  HCI_EVENT_DISCONNECTION_COMPLETE,
  HCI_EVENT_ENCRYPTION_CHANGE,
  HCI_EVENT_ENCRYPTION_KEY_REFRESH_COMPLETE,
  HCI_EVENT_LE_META,
  HCI_EVENT_PACKET,
  HCI_EVENT_SIMPLE_PAIRING_COMPLETE,
  HCI_SUBEVENT_LE_CONNECTION_COMPLETE,
  HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE,
  HCI_SUBEVENT_LE_LONG_TERM_KEY_REQUEST,
  L2CAP_CID_SECURITY_MANAGER_PROTOCOL,
  SM_DATA_PACKET,
  SM_AUTHREQ_KEYPRESS,
  SM_REASON_COMMAND_NOT_SUPPORTED,
  SM_REASON_INVALID_PARAMETERS,
  SM_REASON_REPEATED_ATTEMPTS,
  SM_REASON_UNSPECIFIED_REASON,
} from '../codes/v1.4.js';
import type { BtstackPacketCallbackRegistration } from '../hci/hci-service.js';
import type { L2capFixedChannelService } from '../l2cap/l2cap-fixed-service.js';
import { LeDeviceDbMemory, type LeDeviceDb } from './le-device-db.js';
import { SmEvents, type SmGapHooks } from './sm-events.js';
import { SmIo } from './sm-io.js';
import { SmBrEdr } from './sm-br-edr.js';
import { SmKeys } from './sm-keys.js';
import { SmPairing } from './sm-pairing.js';
import { SmPrivacy } from './sm-privacy.js';
import { sm_rpa_generate } from './crypto.js';
import type { BtstackTlv } from '../core/tlv.js';
import type { BdAddr } from '../core/bytes.js';
import { SmOob, type SmOobDataCallback, type SmScOobDataCallback, type SmScOobGenerateCallback } from './sm-oob.js';
import {
  SM_CODE_CENTRAL_IDENTIFICATION,
  SM_CODE_ENCRYPTION_INFORMATION,
  SM_CODE_IDENTITY_ADDRESS_INFORMATION,
  SM_CODE_IDENTITY_INFORMATION,
  SM_CODE_PAIRING_CONFIRM,
  SM_CODE_PAIRING_DHKEY_CHECK,
  SM_CODE_PAIRING_FAILED,
  SM_CODE_PAIRING_KEYPRESS_NOTIFICATION,
  SM_CODE_PAIRING_PUBLIC_KEY,
  SM_CODE_PAIRING_RANDOM,
  SM_CODE_PAIRING_REQUEST,
  SM_CODE_PAIRING_RESPONSE,
  SM_CODE_SECURITY_REQUEST,
  SM_CODE_SIGNING_INFORMATION,
  sm_build_keypress_notification,
  sm_build_pairing_failed,
  sm_build_security_request,
  sm_code_name,
  sm_pdu_length,
} from './sm-pdu.js';
import { SM_CID_BR_EDR, SmConnection, SmState, type SmHci } from './sm-state.js';

export type { SmHci } from './sm-state.js';
export type { LeDeviceDb, LeDeviceDbEncryption, LeDeviceDbInfo } from './le-device-db.js';
export { LeDeviceDbMemory } from './le-device-db.js';
export type { SmOobDataCallback, SmScOobDataCallback, SmScOobGenerateCallback } from './sm-oob.js';

/** What the SM takes from the Stack. */
export interface SmStackLike {
  readonly run_loop: RunLoop;
  readonly config: StackConfig;
  readonly pools: Pools;
  readonly log: Logger;
  readonly codes: Codes;
  readonly dump?: EventPacketLog;
}

const SM = L2CAP_CID_SECURITY_MANAGER_PROTOCOL;

function check_handle(fn: string, h: unknown): void {
  if (!Number.isInteger(h)) throw new TypeError(`${fn}: con_handle must be an integer`);
}

export class Sm {
  /** @internal The SM's state record (tests). */
  readonly state: SmState;
  readonly #io: SmIo;
  readonly #ev: SmEvents;
  readonly #keys: SmKeys;
  readonly #pairing: SmPairing;
  readonly #privacy: SmPrivacy;
  readonly #oob: SmOob;
  readonly #brEdr: SmBrEdr;
  readonly #hciRegistration = { callback: this.#onHciEvent.bind(this) };

  constructor(stack: SmStackLike, l2cap: L2capFixedChannelService, hci: SmHci, db: LeDeviceDb = new LeDeviceDbMemory()) {
    const pool = stack.pools.create(
      'MAX_NR_HCI_CONNECTIONS',
      'sm_connections',
      () => new SmConnection(),
      (c) => c.reset(),
    );
    this.state = new SmState(stack.codes, stack.log, stack.run_loop, l2cap, hci, pool, new EventOut(stack.dump ?? null), db);
    this.#ev = new SmEvents(this.state);
    this.#io = new SmIo(this.state, this.#ev);
    this.#keys = new SmKeys(this.state, this.#io, this.#ev);
    this.#privacy = new SmPrivacy(this.state, this.#ev);
    // an object, not a closure assigned here: a closure stored from this constructor kept every
    // Stack that ever made its Sm reachable for V8's young-generation GC after the Stack died
    this.#keys.stored_listener = this.#privacy;
    // GAP's resolvable private addresses come from our IRK (gap_random_address_set_mode)
    hci.gap.le_set_resolvable_address_source?.(() => sm_rpa_generate(this.state.irk));
    // the controller's resolving list follows the bonds with an IRK (gap_load_resolving_list_from_le_device_db)
    hci.gap.le_set_resolving_list_source?.({
      max_count: () => this.state.db.le_device_db_max_count(),
      info: (i) => this.state.db.le_device_db_info(i),
      local_irk: () => this.state.irk,
    });
    this.#oob = new SmOob(this.state);
    this.#pairing = new SmPairing(this.state, this.#io, this.#ev, this.#keys, this.#oob);
    this.#brEdr = new SmBrEdr(this.state, this.#io, this.#ev, this.#keys);
  }

  // ================================================================ setup

  /** BTstack's sm_init: take part in every LE connection from now on (idempotent). */
  sm_init(): void {
    const s = this.state;
    if (s.initialized) return;
    s.initialized = true;
    s.hci.hci_add_event_handler(this.#hciRegistration);
    s.l2cap.l2cap_register_fixed_channel(this.#onSm.bind(this), SM);
    // a dual-mode stack (a BR/EDR link key store): SMP over BR/EDR for CTKD (sm-br-edr.ts), announced in L2CAP's fixed channels mask
    if (s.hci.gap.gap_store_link_key_for_bd_addr) s.l2cap.l2cap_register_fixed_channel(this.#onSm.bind(this), SM_CID_BR_EDR);
    (s.hci.gap as Partial<SmGapHooks>).gap_le_set_security_provider?.({ le_request_security: (h) => this.#gapRequest(h) });
  }

  /** HCI's LE gap_request_security_level: pair / encrypt now (true), or a running one will end (true). */
  #gapRequest(con_handle: number): boolean {
    const c = this.state.connectionFor(con_handle);
    if (!c || c.classic || c.phase === 'TIMEOUT') return false;
    if (c.phase === 'IDLE') this.sm_request_pairing(con_handle);
    return true;
  }

  /** BTstack's sm_add_event_handler. */
  sm_add_event_handler(registration: BtstackPacketCallbackRegistration): void {
    this.state.handlers.add(registration);
  }

  /** BTstack's sm_remove_event_handler. */
  sm_remove_event_handler(registration: BtstackPacketCallbackRegistration): void {
    this.state.handlers.remove(registration);
  }

  /** IO_CAPABILITY_DISPLAY_ONLY .. _KEYBOARD_DISPLAY (default NO_INPUT_NO_OUTPUT). */
  sm_set_io_capabilities(io_capability: number): void {
    if (!Number.isInteger(io_capability) || io_capability < 0 || io_capability > 4)
      throw new TypeError('sm_set_io_capabilities: io_capability must be 0..4');
    this.state.settings.io_capability = io_capability;
  }

  /** SM_AUTHREQ_* bits (default 0: no bonding, no MITM, legacy pairing). */
  sm_set_authentication_requirements(auth_req: number): void {
    if (!Number.isInteger(auth_req) || auth_req < 0 || auth_req > 0xff)
      throw new TypeError('sm_set_authentication_requirements: auth_req must be an octet');
    this.state.settings.auth_req = auth_req;
  }

  /** Accepted encryption key sizes (7..16, default 7..16); smaller negotiated sizes fail with 0x06. */
  sm_set_encryption_key_size_range(min_size: number, max_size: number): void {
    if (!Number.isInteger(min_size) || !Number.isInteger(max_size) || min_size < 7 || max_size > 16 || min_size > max_size)
      throw new TypeError('sm_set_encryption_key_size_range: 7 <= min <= max <= 16');
    this.state.settings.min_key_size = min_size;
    this.state.settings.max_key_size = max_size;
  }

  /** Only LE Secure Connections pairing (legacy peers fail with 0x03). */
  sm_set_secure_connections_only_mode(enable: boolean): void {
    this.state.settings.sc_only = !!enable;
  }

  /** Peripheral: send a Security Request on every new connection. */
  sm_set_request_security(enable: boolean): void {
    this.state.settings.request_security = !!enable;
  }

  /** Show this passkey instead of a random one when we display (BTstack's sm_use_fixed_passkey_in_display_role). */
  sm_use_fixed_passkey_in_display_role(passkey: number): void {
    if (!Number.isInteger(passkey) || passkey < 0 || passkey > 999999)
      throw new TypeError('sm_use_fixed_passkey_in_display_role: passkey must be 0..999999');
    this.state.settings.fixed_passkey = passkey;
  }

  /**
   * BTstack's sm_register_oob_data_callback: LE legacy OOB. The callback writes the TK for the peer
   * (16 octets, MSB first) into oob_data and returns 1, or returns 0 (no OOB data); null removes it.
   */
  sm_register_oob_data_callback(callback: SmOobDataCallback | null): void {
    this.state.settings.oob_data_callback = callback;
  }

  /**
   * BTstack's sm_register_sc_oob_data_callback: LE Secure Connections OOB. The callback writes the
   * peer's confirm and random (from the peer's sm_generate_sc_oob_data, MSB first) and returns 1,
   * or returns 0; null removes it.
   */
  sm_register_sc_oob_data_callback(callback: SmScOobDataCallback | null): void {
    this.state.settings.sc_oob_data_callback = callback;
  }

  /**
   * BTstack's sm_generate_sc_oob_data: a new random r and confirm C = f4(PKx, PKx, r, 0) with our
   * P-256 key, handed to the callback on the run loop (give both to the peer out of band). Returns
   * ERROR_CODE_SUCCESS; the latest r is the one our SC OOB pairings use.
   */
  sm_generate_sc_oob_data(callback: SmScOobGenerateCallback): number {
    if (typeof callback !== 'function') throw new TypeError('sm_generate_sc_oob_data: callback must be a function');
    return this.#oob.generate(callback);
  }

  /** The bond store (default: in memory); set before connections come up. */
  sm_set_le_device_db(db: LeDeviceDb): void {
    this.state.db = db;
  }

  /** BTstack's sm_set_ir: our Identity Root (16 octets, MSB first); IRK = d1(IR, 1, 0) follows it. */
  sm_set_ir(ir: Uint8Array): void {
    if (!(ir instanceof Uint8Array) || ir.length !== 16) throw new TypeError('sm_set_ir: ir must be 16 octets');
    this.#privacy.set_ir(ir);
  }

  /** BTstack's sm_set_er: our Encryption Root (16 octets, MSB first). */
  sm_set_er(er: Uint8Array): void {
    if (!(er instanceof Uint8Array) || er.length !== 16) throw new TypeError('sm_set_er: er must be 16 octets');
    this.#privacy.set_er(er);
  }

  /**
   * Keep IR / ER (so our IRK and identity) in a TLV store, as BTstack's SM does with the TLV
   * instance: adopts the ones stored under 'SMIR' / 'SMER', else stores the current ones. Set it
   * before privacy or pairing starts.
   */
  set_tlv(tlv: BtstackTlv | null): void {
    this.#privacy.set_tlv(tlv);
  }

  /** Our Identity Resolving Key (16 octets, MSB first; a copy). */
  get irk(): Uint8Array {
    return this.state.irk.slice();
  }

  /**
   * BTstack's sm_address_resolution_lookup: resolve an address (from an advertising report)
   * against the bonds; SM_EVENT_IDENTITY_RESOLVING_STARTED then _SUCCEEDED / _FAILED, handle 0.
   */
  sm_address_resolution_lookup(address_type: number, address: BdAddr): number {
    if (!(address instanceof Uint8Array) || address.length !== 6)
      throw new TypeError('sm_address_resolution_lookup: address must be a 6-byte BdAddr');
    return this.#privacy.address_resolution_lookup(address_type, address);
  }

  get le_device_db(): LeDeviceDb {
    return this.state.db;
  }

  /**
   * BTstack's gap_delete_bonding (an LE function of its sm.c): forget the bond of the LE peer
   * (address_type, identity address) in the le device db (a TLV db deletes its tag). Its
   * connections keep going unencrypted or encrypted as they are; the next sm_request_pairing pairs.
   */
  gap_delete_bonding(address_type: number, address: Uint8Array): void {
    if (!Number.isInteger(address_type)) throw new TypeError('gap_delete_bonding: address_type must be an integer');
    if (!(address instanceof Uint8Array) || address.length !== 6)
      throw new TypeError('gap_delete_bonding: address must be a 6-byte BdAddr');
    const db = this.state.db;
    const index = db.le_device_db_lookup(address_type, address);
    if (index < 0) return;
    this.state.hci.gap.hci_remove_le_device_db_entry_from_resolving_list?.(index);
    db.le_device_db_remove(index);
    for (const c of this.state.connections) if (c.db_index === index) c.db_index = -1;
  }

  // ================================================================ per connection

  /**
   * BTstack's sm_request_pairing: central: re-encrypt with a stored LTK, else send a Pairing
   * Request; peripheral: send a Security Request. Ignored while a pairing runs.
   */
  sm_request_pairing(con_handle: number): void {
    check_handle('sm_request_pairing', con_handle);
    const c = this.state.connectionFor(con_handle);
    if (!c || c.classic || c.phase !== 'IDLE') return;
    if (c.role === 0) {
      if (!this.#keys.reencrypt(c)) this.#pairing.start_initiator(c);
    } else {
      this.#io.send(c, sm_build_security_request(this.state.settings.auth_req & 0x3f));
    }
  }

  /** BTstack's sm_send_security_request (deprecated there): a peripheral's Security Request. */
  sm_send_security_request(con_handle: number): void {
    this.sm_request_pairing(con_handle);
  }

  sm_just_works_confirm(con_handle: number): void {
    check_handle('sm_just_works_confirm', con_handle);
    const c = this.state.connectionFor(con_handle);
    if (c) this.#pairing.user_confirm(c);
  }

  sm_numeric_comparison_confirm(con_handle: number): void {
    check_handle('sm_numeric_comparison_confirm', con_handle);
    const c = this.state.connectionFor(con_handle);
    if (c) this.#pairing.user_confirm(c);
  }

  sm_passkey_input(con_handle: number, passkey: number): void {
    check_handle('sm_passkey_input', con_handle);
    if (!Number.isInteger(passkey) || passkey < 0 || passkey > 999999)
      throw new TypeError('sm_passkey_input: passkey must be 0..999999');
    const c = this.state.connectionFor(con_handle);
    if (c) this.#pairing.user_passkey(c, passkey);
  }

  sm_bonding_decline(con_handle: number): void {
    check_handle('sm_bonding_decline', con_handle);
    const c = this.state.connectionFor(con_handle);
    if (c) this.#pairing.user_decline(c);
  }

  /**
   * BTstack's sm_keypress_notification: while the user types a passkey, tell the peer (Pairing
   * Keypress Notification, 3.5.8) when both sides set SM_AUTHREQ_KEYPRESS; action
   * SM_KEYPRESS_PASSKEY_ENTRY_STARTED .. _ENTRY_COMPLETED (0..4).
   */
  sm_keypress_notification(con_handle: number, action: number): void {
    check_handle('sm_keypress_notification', con_handle);
    if (!Number.isInteger(action) || action < 0 || action > 4)
      throw new TypeError('sm_keypress_notification: action must be 0..4');
    const c = this.state.connectionFor(con_handle);
    if (!c || !c.pairing || c.user !== 'PENDING' || !c.method.startsWith('PK')) return;
    if ((c.preq[3]! & c.pres[3]! & SM_AUTHREQ_KEYPRESS) === 0) return;
    this.#io.send(c, sm_build_keypress_notification(action));
  }

  /** Key size of the link's encryption, 0 when not encrypted (BTstack's sm_encryption_key_size). */
  sm_encryption_key_size(con_handle: number): number {
    const c = this.state.connectionFor(con_handle);
    if (!c || !c.encrypted) return 0;
    return this.state.hci.hci_connection_for_handle(con_handle)?.le_sec.encryption_key_size ?? 0;
  }

  /** The link's key came from an MITM-protected pairing (BTstack's sm_authenticated). */
  sm_authenticated(con_handle: number): boolean {
    const c = this.state.connectionFor(con_handle);
    return !!c && c.encrypted && !!this.state.hci.hci_connection_for_handle(con_handle)?.le_sec.authenticated;
  }

  // ================================================================ lower layers

  #onSm(packet_type: number, channel: number, packet: Uint8Array, size: number): void {
    const s = this.state;
    if (packet_type === HCI_EVENT_PACKET) {
      if (packet[0] === s.codes.L2CAP_EVENT_CAN_SEND_NOW) {
        const c = s.connectionFor(channel);
        if (c?.classic) this.#brEdr.can_send_now(c);
        else if (c) this.#io.run(c);
      }
      return;
    }
    if (packet_type !== SM_DATA_PACKET) return;
    const c = s.connectionFor(channel);
    if (!c || size < 1 || c.phase === 'TIMEOUT') return;
    if (c.classic) this.#brEdr.pdu(c, packet.subarray(0, size));
    else this.#pdu(c, packet.subarray(0, size));
  }

  #pdu(c: SmConnection, pdu: Uint8Array): void {
    const code = pdu[0]!;
    const len = sm_pdu_length(code);
    this.state.log.debug(
      () => `sm 0x${c.con_handle.toString(16).padStart(4, '0')}: received ${sm_code_name(code)} (${pdu.length})`,
    );
    if (len === 0) return this.#refuse(c, SM_REASON_COMMAND_NOT_SUPPORTED);
    if (pdu.length !== len) {
      if (code === SM_CODE_PAIRING_FAILED) return this.#peerFailed(c, 0);
      return this.#refuse(c, SM_REASON_INVALID_PARAMETERS);
    }
    if (c.pairing) this.#io.restart_timer(c);
    const p = this.#pairing;
    switch (code) {
      case SM_CODE_PAIRING_FAILED:
        return this.#peerFailed(c, pdu[1]!);
      case SM_CODE_PAIRING_REQUEST:
        if (c.role !== 1) return this.#refuse(c, SM_REASON_COMMAND_NOT_SUPPORTED);
        if (c.phase !== 'IDLE') return this.#refuse(c, SM_REASON_UNSPECIFIED_REASON);
        if (this.state.attemptBlocked(c)) return this.#refuse(c, SM_REASON_REPEATED_ATTEMPTS);
        return p.on_pairing_request(c, pdu);
      case SM_CODE_SECURITY_REQUEST:
        if (c.role !== 0) return this.#refuse(c, SM_REASON_COMMAND_NOT_SUPPORTED);
        if (c.phase !== 'IDLE') return; // a pairing / encryption runs already
        this.#ev.security_request(c, pdu[1]!);
        if (!this.#keys.reencrypt(c)) p.start_initiator(c);
        return;
      case SM_CODE_PAIRING_KEYPRESS_NOTIFICATION:
        // 3.5.8: only during Passkey Entry; notification types 5-255 are reserved
        if (!c.pairing || !c.method.startsWith('PK')) return this.#refuse(c, SM_REASON_UNSPECIFIED_REASON);
        if (pdu[1]! > 4) return this.#refuse(c, SM_REASON_INVALID_PARAMETERS);
        return this.#ev.keypress(c, pdu[1]!);
    }
    if (!c.pairing) return this.#refuse(c, SM_REASON_UNSPECIFIED_REASON);
    switch (code) {
      case SM_CODE_PAIRING_RESPONSE:
        if (c.role !== 0 || c.phase !== 'W4_PAIRING_RESPONSE') return this.#refuse(c, SM_REASON_UNSPECIFIED_REASON);
        return p.on_pairing_response(c, pdu);
      case SM_CODE_PAIRING_CONFIRM:
        return p.on_confirm(c, pdu);
      case SM_CODE_PAIRING_RANDOM:
        return p.on_random(c, pdu);
      case SM_CODE_PAIRING_PUBLIC_KEY:
        return p.on_public_key(c, pdu);
      case SM_CODE_PAIRING_DHKEY_CHECK:
        return p.on_dhkey_check(c, pdu);
      case SM_CODE_ENCRYPTION_INFORMATION:
      case SM_CODE_CENTRAL_IDENTIFICATION:
      case SM_CODE_IDENTITY_INFORMATION:
      case SM_CODE_IDENTITY_ADDRESS_INFORMATION:
      case SM_CODE_SIGNING_INFORMATION:
        if (c.phase !== 'W4_KEYS') return this.#refuse(c, SM_REASON_UNSPECIFIED_REASON);
        return this.#keys.on_key_pdu(c, pdu);
    }
  }

  /** A PDU we do not accept: Pairing Failed, and the end of a running pairing. */
  #refuse(c: SmConnection, reason: number): void {
    if (c.pairing) return this.#io.fail(c, reason);
    this.#io.send(c, sm_build_pairing_failed(reason));
  }

  #peerFailed(c: SmConnection, reason: number): void {
    if (!c.pairing) return;
    this.state.log.info(`sm 0x${c.con_handle.toString(16)}: peer sent Pairing Failed 0x${reason.toString(16)}`);
    this.#io.complete(c, 0x05, reason); // ERROR_CODE_AUTHENTICATION_FAILURE
  }

  #onHciEvent(packet_type: number, _channel: number, packet: Uint8Array, size: number): void {
    const s = this.state;
    if (packet_type !== HCI_EVENT_PACKET || size < 2 || !s.initialized) return;
    switch (packet[0]) {
      case HCI_EVENT_LE_META: {
        const sub = packet[2];
        if ((sub === HCI_SUBEVENT_LE_CONNECTION_COMPLETE || sub === HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE) && size >= 14) {
          if (packet[3] !== 0) return;
          // LE Enhanced Connection Complete of a peer the controller resolved (0x02 / 0x03): its RPA beside the identity
          const rpa =
            sub === HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE && size >= 26 && packet[7]! >= 2
              ? reverse_bd_addr(packet, 20)
              : null;
          const air = rpa && rpa.some((b) => b !== 0) ? rpa : null;
          this.#connected(little_endian_read_16(packet, 4) & 0x0fff, packet[6]!, packet[7]!, reverse_bd_addr(packet, 8), air);
        } else if (sub === HCI_SUBEVENT_LE_LONG_TERM_KEY_REQUEST && size >= 15) {
          const c = s.connectionFor(little_endian_read_16(packet, 3) & 0x0fff);
          if (c && c.role === 1) this.#keys.on_ltk_request(c, packet.slice(5, 13), little_endian_read_16(packet, 13));
        }
        return;
      }
      case HCI_EVENT_ENCRYPTION_CHANGE: {
        if (size < 6) return;
        const c = s.connectionFor(little_endian_read_16(packet, 3) & 0x0fff);
        if (c?.classic) this.#brEdr.encryption_change(c, packet[2]!, packet[5]!);
        else if (c) this.#keys.on_encryption_change(c, packet[2]!, packet[5]!);
        return;
      }
      case HCI_EVENT_ENCRYPTION_KEY_REFRESH_COMPLETE: {
        if (size < 5) return;
        const c = s.connectionFor(little_endian_read_16(packet, 3) & 0x0fff);
        if (c && !c.classic) this.#keys.on_encryption_change(c, packet[2]!, packet[2] === 0 ? 1 : 0);
        return;
      }
      case HCI_EVENT_CONNECTION_COMPLETE: {
        // a classic ACL link (link type 0x01): SMP over BR/EDR may run on it (sm-br-edr.ts)
        if (size < 13 || packet[2] !== 0 || packet[11] !== 0x01 || !s.hci.gap.gap_store_link_key_for_bd_addr) return;
        const c = this.#newConnection(little_endian_read_16(packet, 3) & 0x0fff);
        if (c) this.#brEdr.connected(c, reverse_bd_addr(packet, 5));
        return;
      }
      case HCI_EVENT_SIMPLE_PAIRING_COMPLETE: {
        if (size < 9 || packet[2] !== 0) return;
        const addr = reverse_bd_addr(packet, 3);
        for (const c of s.connections) if (c.classic && c.peer_addr.every((b, i) => b === addr[i])) this.#brEdr.paired(c);
        return;
      }
      case HCI_EVENT_DISCONNECTION_COMPLETE: {
        if (size < 6 || packet[2] !== 0) return;
        const c = s.connectionFor(little_endian_read_16(packet, 3) & 0x0fff);
        if (c) this.#release(c);
        return;
      }
    }
  }

  /** A fresh record for this handle (an old one released), in the connection list; null when the pool is empty. */
  #newConnection(con_handle: number): SmConnection | null {
    const s = this.state;
    const old = s.connectionFor(con_handle);
    if (old) this.#release(old);
    const c = s.pool.get();
    if (!c) {
      s.log.error(`sm: no connection record free for handle 0x${con_handle.toString(16)}`);
      return null;
    }
    c.con_handle = con_handle;
    s.connections.push(c);
    return c;
  }

  #connected(con_handle: number, role: number, peer_addr_type: number, peer_addr: Uint8Array, peer_rpa: Uint8Array | null): void {
    const s = this.state;
    const c = this.#newConnection(con_handle);
    if (!c) return;
    const own = s.hci.gap.gap_le_get_own_address();
    c.role = role;
    c.peer_addr_type = peer_addr_type;
    c.peer_addr = peer_addr;
    c.peer_rpa = peer_rpa;
    c.local_addr_type = own.addr_type;
    c.local_addr = own.addr.slice();
    s.setPhase(c, 'IDLE', 'LE connection complete');
    this.#privacy.connected(c);
    if (role === 1 && s.settings.request_security) this.sm_request_pairing(con_handle);
  }

  #release(c: SmConnection): void {
    const s = this.state;
    const i = s.connections.indexOf(c);
    if (i < 0) return;
    s.connections.splice(i, 1);
    this.#io.stop_timer(c);
    if (c.pairing) this.#io.complete(c, ERROR_CODE_REMOTE_USER_TERMINATED_CONNECTION, 0);
    s.pool.free(c);
  }
}
