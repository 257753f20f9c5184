/**
 * Data of BR/EDR security in HCI (no logic but pure helpers): the GAP security settings of the
 * stack (HciState.security) and the security record of one connection (HciConnection.sec),
 * with BTstack's defaults (hci.c hci_init) and BTstack's level rules (gap.h):
 *
 *   security mode 4, level 2; SSP on, IO capability NoInputNoOutput, authentication requirement
 *   "no MITM, general bonding", auto accept on; Secure Connections on; bondable; encryption keys
 *   shorter than 7 octets count as level 0.
 *
 * Levels (Core Vol 3 Part C 5.2.2.8, BTstack's gap_security_level_t): 0 none, 1 (LE only), 2
 * encrypted with an unauthenticated key, 3 authenticated key (MITM; legacy PIN keys count as
 * authenticated, as in BTstack), 4 authenticated P-256 key with a 128-bit encryption key.
 */
import {
  GAP_SECURITY_MODE_4,
  LEVEL_0,
  LEVEL_2,
  LEVEL_3,
  LEVEL_4,
  SSP_IO_AUTHREQ_MITM_PROTECTION_NOT_REQUIRED_GENERAL_BONDING,
  SSP_IO_CAPABILITY_DISPLAY_ONLY,
  SSP_IO_CAPABILITY_KEYBOARD_ONLY,
  SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT,
  SSP_IO_CAPABILITY_UNKNOWN,
} from '../codes/v1.4.js';
import type { Logger } from '../core/log.js';
import type { HciConnection } from './hci-connection.js';
import type { HciLeSecurityProvider } from './hci-le-security.js';
import {
  AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P192,
  AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256,
  COMBINATION_KEY,
  INVALID_LINK_KEY,
  UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256,
  type BtstackLinkKeyDb,
  type LinkKeyType,
} from './link-key-db.js';

/** BTstack's gap_security_level_for_link_key_type. */
export function gap_security_level_for_link_key_type(type: LinkKeyType): number {
  switch (type) {
    case AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256:
      return LEVEL_4;
    case COMBINATION_KEY:
    case AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P192:
      return LEVEL_3;
    default:
      return LEVEL_2;
  }
}

/** BTstack's gap_authenticated_for_link_key_type: keys made with MITM protection. */
export function gap_authenticated_for_link_key_type(type: LinkKeyType): boolean {
  return type === AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P192 || type === AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256;
}

/** BTstack's gap_secure_connection_for_link_key_type: keys from Secure Connections (P-256). */
export function gap_secure_connection_for_link_key_type(type: LinkKeyType): boolean {
  return (
    type === UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256 || type === AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256
  );
}

/** BTstack's gap_mitm_protection_required_for_security_level. */
export function gap_mitm_protection_required_for_security_level(level: number): boolean {
  return level > LEVEL_2;
}

/**
 * Can SSP between these IO capabilities reach `level`? (BTstack's
 * hci_ssp_security_level_possible_for_io_cap; Core Vol 3 Part C table 5.7: MITM needs a keyboard
 * on one side and a keyboard or display on the other, or a display with yes/no on both.)
 * An IO capability outside 0..3 from the peer counts as "no input, no output".
 */
export function ssp_security_level_possible(level: number, io_local: number, io_remote: number): boolean {
  if (io_local === SSP_IO_CAPABILITY_UNKNOWN) return false;
  if (level < LEVEL_3) return true;
  if (io_remote >= SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT || io_local >= SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT) return false;
  if (io_remote === SSP_IO_CAPABILITY_KEYBOARD_ONLY || io_local === SSP_IO_CAPABILITY_KEYBOARD_ONLY) return true;
  return io_remote !== SSP_IO_CAPABILITY_DISPLAY_ONLY && io_local !== SSP_IO_CAPABILITY_DISPLAY_ONLY;
}

/** BTstack's gap_required_encryption_key_size default: shorter keys give level 0 (KNOB). */
export const GAP_REQUIRED_ENCRYPTION_KEY_SIZE = 7;

/**
 * How long the host waits for the application to answer a User Confirmation, User Passkey or PIN
 * Code Request before it sends the negative reply itself. BTstack has no such timer and leaves it
 * to the controller's LMP response timeout (30 s, Core Vol 2 Part C 4.1.2 / Vol 4 Part E 7.7.42);
 * 25 s answers first, so the peer sees the spec's negative reply rather than a timeout.
 */
export const GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS = 25_000;

/** What `event` did with an HCI event. */
export enum SecurityEventResult {
  /** Not a security event, or handled: hand it to the event handlers. */
  FORWARD,
  /** Handled, and (as in BTstack) not for the application. */
  CONSUMED,
  /** Too short for its fields: drop it. */
  MALFORMED,
}

/** The GAP security settings (BTstack's hci_stack_t fields), kept across power cycles. */
export class HciSecuritySettings {
  security_mode = GAP_SECURITY_MODE_4;
  security_level = LEVEL_2;
  io_capability = SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT;
  authentication_requirement = SSP_IO_AUTHREQ_MITM_PROTECTION_NOT_REQUIRED_GENERAL_BONDING;
  auto_accept = true;
  bondable = true;
  required_encryption_key_size = GAP_REQUIRED_ENCRYPTION_KEY_SIZE;
  /** The link key store (hci_set_link_key_db); null: every Link Key Request answered negatively. */
  link_key_db: BtstackLinkKeyDb | null = null;
  /** The Security Manager, once sm_init ran: LE gap_request_security_level asks it (hci-le-security.ts). */
  le_security_provider: HciLeSecurityProvider | null = null;

  constructor(link_key_db: BtstackLinkKeyDb | null) {
    this.link_key_db = link_key_db;
  }
}

/** Commands a connection owes the controller (HciSecurity.run sends them, one per call). */
export const SEC_SEND_LINK_KEY_REPLY = 1 << 0;
export const SEC_SEND_LINK_KEY_NEGATIVE = 1 << 1;
export const SEC_SEND_PIN_REPLY = 1 << 2;
export const SEC_SEND_PIN_NEGATIVE = 1 << 3;
export const SEC_SEND_IO_CAP_REPLY = 1 << 4;
export const SEC_SEND_IO_CAP_NEGATIVE = 1 << 5;
export const SEC_SEND_CONFIRM_REPLY = 1 << 6;
export const SEC_SEND_CONFIRM_NEGATIVE = 1 << 7;
export const SEC_SEND_PASSKEY_REPLY = 1 << 8;
export const SEC_SEND_PASSKEY_NEGATIVE = 1 << 9;
export const SEC_SEND_AUTH = 1 << 10;
export const SEC_SEND_ENCRYPTION = 1 << 11;
export const SEC_SEND_READ_KEY_SIZE = 1 << 12;
/** Sent and not yet answered (Authentication Complete, Encryption Change, Command Complete). */
export const SEC_W4_AUTH = 1 << 13;
export const SEC_W4_ENCRYPTION = 1 << 14;
export const SEC_W4_KEY_SIZE = 1 << 15;
/** Steps of the security procedure (sent or to send). */
export const SEC_PROCEDURE_BUSY =
  SEC_SEND_AUTH | SEC_SEND_ENCRYPTION | SEC_SEND_READ_KEY_SIZE | SEC_W4_AUTH | SEC_W4_ENCRYPTION | SEC_W4_KEY_SIZE;

/** What the application is asked for: nothing, a yes/no, a passkey, a PIN. */
export enum UserAnswer {
  NONE = 0,
  CONFIRM = 1,
  PASSKEY = 2,
  PIN = 3,
}

/** Pairing on this link as BTstack's AUTH_FLAG_*_PAIRING_ACTIVE. */
export enum Pairing {
  NONE = 0,
  SSP = 1,
  LEGACY = 2,
}

/** The security record of one connection (part of HciConnection; reset with it). */
export class HciConnectionSecurity {
  /** Type of the key the link uses (stored key replied, or Link Key Notification); INVALID_LINK_KEY when none. */
  link_key_type: LinkKeyType = INVALID_LINK_KEY;
  /** The key for an owed Link Key Request Reply (as on the wire). */
  readonly link_key = new Uint8Array(16);
  /** From Read Encryption Key Size; 0 while not encrypted or unknown. */
  encryption_key_size = 0;
  /** Authentication Complete (or Simple Pairing Complete) succeeded on this link. */
  authenticated = false;
  /** SEC_* bits. */
  todo = 0;

  // ---- gap_request_security_level
  /** Highest level asked for while a procedure runs (BTstack's requested_security_level). */
  requested_level = LEVEL_0;
  /** GAP_EVENT_SECURITY_LEVEL owed: one per gap_request_security_level call folded into this procedure. */
  pending_requests = 0;
  /** Steps tried in this procedure (each at most once). */
  tried_auth = false;
  tried_encryption = false;
  /** First failure status seen in this procedure (v1.8 status of GAP_EVENT_SECURITY_LEVEL). */
  failure = 0;

  // ---- pairing
  pairing = Pairing.NONE;
  pairing_initiator = false;
  io_cap_response_received = false;
  remote_io_capability = SSP_IO_CAPABILITY_UNKNOWN;
  remote_auth_req = 0;
  /** Reason code of an owed IO Capability Request Negative Reply. */
  io_cap_negative_reason = 0;
  /** The application's answers. */
  passkey = 0;
  /** The PIN for legacy pairing, made the first time one is given (SSP links never need it). */
  #pin: Uint8Array | null = null;
  get pin(): Uint8Array {
    return (this.#pin ??= new Uint8Array(16));
  }
  pin_len = 0;
  /** Which answer the application owes, and until when (run-loop time). */
  awaiting = UserAnswer.NONE;
  deadline = 0;

  reset(): void {
    this.link_key_type = INVALID_LINK_KEY;
    this.link_key.fill(0);
    this.encryption_key_size = 0;
    this.authenticated = false;
    this.todo = 0;
    this.requested_level = LEVEL_0;
    this.pending_requests = 0;
    this.tried_auth = false;
    this.tried_encryption = false;
    this.failure = 0;
    this.pairing = Pairing.NONE;
    this.pairing_initiator = false;
    this.io_cap_response_received = false;
    this.remote_io_capability = SSP_IO_CAPABILITY_UNKNOWN;
    this.remote_auth_req = 0;
    this.io_cap_negative_reason = 0;
    this.passkey = 0;
    this.#pin?.fill(0);
    this.pin_len = 0;
    this.awaiting = UserAnswer.NONE;
    this.deadline = 0;
  }
}

const SEC_FLAG_NAMES: readonly string[] = [
  'LINK_KEY_REPLY',
  'LINK_KEY_NEGATIVE',
  'PIN_REPLY',
  'PIN_NEGATIVE',
  'IO_CAP_REPLY',
  'IO_CAP_NEGATIVE',
  'CONFIRM_REPLY',
  'CONFIRM_NEGATIVE',
  'PASSKEY_REPLY',
  'PASSKEY_NEGATIVE',
  'SEND_AUTH',
  'SEND_ENCRYPTION',
  'SEND_READ_KEY_SIZE',
  'W4_AUTH',
  'W4_ENCRYPTION',
  'W4_KEY_SIZE',
];

function flag_names(bits: number): string {
  const out: string[] = [];
  for (let i = 0; i < SEC_FLAG_NAMES.length; i++) if (bits & (1 << i)) out.push(SEC_FLAG_NAMES[i]!);
  return out.join('|');
}

/**
 * The one place a connection's security work changes (SEC_* bits): sets `add`, clears `clear` and
 * logs `hci sec 0x000b: +W4_AUTH (Authentication Requested sent)` at debug level.
 */
export function sec_set_todo(log: Logger, conn: HciConnection, add: number, clear: number, why: string): void {
  const sec = conn.sec;
  const before = sec.todo;
  sec.todo = (before & ~clear) | add;
  if (sec.todo === before) return;
  log.debug(() => {
    const parts: string[] = [];
    if (add & ~before) parts.push('+' + flag_names(add & ~before));
    if (clear & before) parts.push('-' + flag_names(clear & before));
    return `hci sec 0x${conn.con_handle.toString(16).padStart(4, '0')}: ${parts.join(' ')} (${why})`;
  });
}

/** Take one SEC_* bit off a connection's work; true when it was set. */
export function sec_take(conn: HciConnection, bit: number): boolean {
  if ((conn.sec.todo & bit) === 0) return false;
  conn.sec.todo &= ~bit;
  return true;
}
