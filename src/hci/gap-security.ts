/**
 * The GAP security API of BTstack's gap.h for BR/EDR (the `Gap` facade forwards here): security
 * mode and level, SSP settings, the application's answers to pairing requests, the security of a
 * connection, and the link key store. The protocol work is HciSecurity's (hci-security.ts).
 *
 * Differences from BTstack: an answer nobody asked for (no request pending on that link, or auto
 * accept already answered it) returns ERROR_CODE_COMMAND_DISALLOWED instead of sending a reply the
 * controller would refuse; an unknown address returns ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER.
 */
import type { BdAddr } from '../core/bytes.js';
import {
  ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS,
  ERROR_CODE_SUCCESS,
  GAP_SECURITY_MODE_2,
  GAP_SECURITY_MODE_4,
  LEVEL_0,
  LEVEL_4,
  SSP_IO_AUTHREQ_MITM_PROTECTION_REQUIRED_GENERAL_BONDING,
  SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT,
  SSP_IO_CAPABILITY_UNKNOWN,
} from '../codes/v1.4.js';
import type { HciSecurity } from './hci-security.js';
import type { HciLeSecurityProvider } from './hci-le-security.js';
import {
  UserAnswer,
  gap_authenticated_for_link_key_type,
  gap_secure_connection_for_link_key_type,
} from './hci-security-state.js';
import type { HciState } from './hci-state.js';
import {
  LINK_KEY_LEN,
  type BtstackLinkKeyDb,
  type BtstackLinkKeyIterator,
  type LinkKeyEntry,
  type LinkKeyRecord,
  type LinkKeyType,
} from './link-key-db.js';

const encoder = new TextEncoder();

function check_addr(fn: string, addr: BdAddr): void {
  if (!(addr instanceof Uint8Array) || addr.length !== 6) throw new TypeError(`${fn}: addr must be a 6-byte BdAddr`);
}

function check_int(fn: string, what: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new TypeError(`${fn}: ${what} must be an integer ${min}..${max}`);
}

export class GapSecurity {
  constructor(
    private readonly s: HciState,
    private readonly sec: HciSecurity,
  ) {}

  // ------------------------------------------------------------------ settings

  /** GAP_SECURITY_MODE_4 (default) or GAP_SECURITY_MODE_2 (legacy peers); other modes: INVALID_HCI_COMMAND_PARAMETERS. */
  set_security_mode(mode: number): number {
    if (mode !== GAP_SECURITY_MODE_4 && mode !== GAP_SECURITY_MODE_2) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    this.s.security.security_mode = mode;
    return ERROR_CODE_SUCCESS;
  }

  security_mode(): number {
    return this.s.security.security_mode;
  }

  set_security_level(level: number): void {
    check_int('gap_set_security_level', 'level', level, LEVEL_0, LEVEL_4);
    this.s.security.security_level = level;
  }

  security_level(): number {
    return this.s.security.security_level;
  }

  set_io_capability(io: number): void {
    if (io !== SSP_IO_CAPABILITY_UNKNOWN)
      check_int('gap_ssp_set_io_capability', 'io_capability', io, 0, SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT);
    this.s.security.io_capability = io;
  }

  set_authentication_requirement(req: number): void {
    check_int(
      'gap_ssp_set_authentication_requirement',
      'requirement',
      req,
      0,
      SSP_IO_AUTHREQ_MITM_PROTECTION_REQUIRED_GENERAL_BONDING,
    );
    this.s.security.authentication_requirement = req;
  }

  set_auto_accept(on: boolean): void {
    this.s.security.auto_accept = on;
  }

  set_bondable(on: boolean): void {
    this.s.security.bondable = on;
  }

  bondable(): boolean {
    return this.s.security.bondable;
  }

  // ------------------------------------------------------------------ answers

  confirmation(fn: string, addr: BdAddr, yes: boolean): number {
    check_addr(fn, addr);
    return this.sec.answer(addr, UserAnswer.CONFIRM, yes);
  }

  passkey(fn: string, addr: BdAddr, yes: boolean, passkey = 0): number {
    check_addr(fn, addr);
    if (yes && (!Number.isInteger(passkey) || passkey < 0 || passkey > 999999)) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    return this.sec.answer(addr, UserAnswer.PASSKEY, yes, passkey);
  }

  /** PIN as text (UTF-8, 1..16 octets) or bytes; null: negative reply. */
  pin(fn: string, addr: BdAddr, pin: string | Uint8Array | null): number {
    check_addr(fn, addr);
    if (pin === null) return this.sec.answer(addr, UserAnswer.PIN, false);
    const bytes = typeof pin === 'string' ? encoder.encode(pin) : pin;
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: pin must be a string or bytes`);
    if (bytes.length < 1 || bytes.length > 16) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    return this.sec.answer(addr, UserAnswer.PIN, true, 0, bytes);
  }

  // ------------------------------------------------------------------ a connection's security

  request_security_level(handle: number, level: number): void {
    check_int('gap_request_security_level', 'level', level, LEVEL_0, LEVEL_4);
    this.sec.request(handle, level);
  }

  level(handle: number): number {
    const conn = this.s.connections.for_handle(handle);
    return conn ? this.sec.level(conn) : LEVEL_0;
  }

  // LE links: what the Security Manager reported for the key the link is encrypted with (le_sec)

  authenticated(handle: number): boolean {
    const conn = this.s.connections.for_handle(handle);
    if (conn?.is_le) return conn.encryption_enabled !== 0 && conn.le_sec.authenticated;
    return !!conn && gap_authenticated_for_link_key_type(conn.sec.link_key_type);
  }

  encryption_key_size(handle: number): number {
    const conn = this.s.connections.for_handle(handle);
    if (!conn || conn.encryption_enabled === 0) return 0;
    return conn.is_le ? conn.le_sec.encryption_key_size : conn.sec.encryption_key_size;
  }

  secure_connection(handle: number): boolean {
    const conn = this.s.connections.for_handle(handle);
    if (conn?.is_le) return conn.encryption_enabled !== 0 && conn.le_sec.secure_connection;
    return !!conn && gap_secure_connection_for_link_key_type(conn.sec.link_key_type);
  }

  set_le_security_provider(provider: HciLeSecurityProvider | null): void {
    this.s.security.le_security_provider = provider;
  }

  le_security_procedure_complete(handle: number, status: number): void {
    this.sec.le_procedure_complete(handle, status);
  }

  // ------------------------------------------------------------------ link key store

  set_link_key_db(db: BtstackLinkKeyDb | null): void {
    this.s.security.link_key_db = db;
    db?.open();
    if (db && this.s.controller.local_bd_addr.some((b) => b !== 0)) db.set_local_bd_addr(this.s.controller.local_bd_addr);
  }

  close_link_key_db(): void {
    this.s.security.link_key_db?.close();
  }

  drop_link_key(addr: BdAddr): void {
    check_addr('gap_drop_link_key_for_bd_addr', addr);
    this.s.security.link_key_db?.delete_link_key(addr);
  }

  store_link_key(addr: BdAddr, key: Uint8Array, type: LinkKeyType): void {
    check_addr('gap_store_link_key_for_bd_addr', addr);
    if (!(key instanceof Uint8Array) || key.length !== LINK_KEY_LEN)
      throw new TypeError(`gap_store_link_key_for_bd_addr: link_key must be ${LINK_KEY_LEN} bytes`);
    this.s.security.link_key_db?.put_link_key(addr, key, type);
  }

  get_link_key(addr: BdAddr): LinkKeyRecord | null {
    check_addr('gap_get_link_key_for_bd_addr', addr);
    return this.s.security.link_key_db?.get_link_key(addr) ?? null;
  }

  /** BTstack's gap_delete_all_link_keys: every key the iterator returns is deleted. */
  delete_all_link_keys(): void {
    const db = this.s.security.link_key_db;
    if (!db) return;
    const it: BtstackLinkKeyIterator = { context: null };
    if (!db.iterator_init(it)) return;
    for (let e = db.iterator_get_next(it); e; e = db.iterator_get_next(it)) db.delete_link_key(e.bd_addr);
    db.iterator_done(it);
  }

  iterator_init(it: BtstackLinkKeyIterator): boolean {
    const db = this.s.security.link_key_db;
    return !!db && db.iterator_init(it);
  }

  iterator_get_next(it: BtstackLinkKeyIterator): LinkKeyEntry | null {
    return this.s.security.link_key_db?.iterator_get_next(it) ?? null;
  }

  iterator_done(it: BtstackLinkKeyIterator): void {
    this.s.security.link_key_db?.iterator_done(it);
  }
}
