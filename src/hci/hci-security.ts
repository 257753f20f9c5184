/**
 * BR/EDR security in HCI, as BTstack's hci.c: the host answers every pairing request of the
 * controller, and gap_request_security_level raises a link's security.
 *
 * The answers to pairing requests (Link Key, IO Capability, User Confirmation / Passkey, PIN
 * Code, Link Key Notification) are HciPairing's (hci-pairing.ts); this component dispatches the
 * events, runs the security procedure and sends one command per run() call.
 *
 * gap_request_security_level(handle, level): met already -> GAP_EVENT_SECURITY_LEVEL from the run
 * loop; else Authentication Requested, Set Connection Encryption when not yet encrypted, Read
 * Encryption Key Size after every Encryption Change, then GAP_EVENT_SECURITY_LEVEL with the level
 * reached (lower on failure). Requests while one runs fold into it (the higher level wins) and
 * each still gets its event. Authentication Complete 0x06 PIN or Key Missing deletes the stored
 * key (the peer lost it); a disconnect ends the procedure (level 0, from the run loop).
 *
 * Every step goes through `set_todo` (debug line `hci sec 0x000b: +W4_AUTH (Authentication
 * Requested sent)`); `run()` sends at most one command per call, as BTstack's hci_run.
 */
import { bd_addr_to_str, little_endian_read_16, reverse_bd_addr, type BdAddr } from '../core/bytes.js';
import {
  ERROR_CODE_INSUFFICIENT_SECURITY,
  ERROR_CODE_PIN_OR_KEY_MISSING,
  ERROR_CODE_REMOTE_USER_TERMINATED_CONNECTION,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  HCI_EVENT_AUTHENTICATION_COMPLETE,
  HCI_EVENT_ENCRYPTION_CHANGE,
  HCI_EVENT_ENCRYPTION_KEY_REFRESH_COMPLETE,
  HCI_EVENT_IO_CAPABILITY_REQUEST,
  HCI_EVENT_IO_CAPABILITY_RESPONSE,
  HCI_EVENT_LINK_KEY_NOTIFICATION,
  HCI_EVENT_LINK_KEY_REQUEST,
  HCI_EVENT_PIN_CODE_REQUEST,
  HCI_EVENT_SIMPLE_PAIRING_COMPLETE,
  HCI_EVENT_USER_CONFIRMATION_REQUEST,
  HCI_EVENT_USER_PASSKEY_NOTIFICATION,
  HCI_EVENT_USER_PASSKEY_REQUEST,
  HCI_STATE_WORKING,
  LEVEL_0,
  LEVEL_3,
  LEVEL_4,
} from '../codes/v1.4.js';
import {
  hci_authentication_requested,
  hci_read_bd_addr,
  hci_read_encryption_key_size,
  hci_set_connection_encryption,
  type HciArg,
  type HciCommand,
} from './commands.js';
import type { HciConnection } from './hci-connection.js';
import { HciPairing } from './hci-pairing.js';
import { gap_security_level_for_le_link } from './hci-le-security.js';
import {
  SEC_PROCEDURE_BUSY,
  SEC_SEND_AUTH,
  SEC_SEND_ENCRYPTION,
  SEC_SEND_READ_KEY_SIZE,
  SEC_W4_AUTH,
  SEC_W4_ENCRYPTION,
  SEC_W4_KEY_SIZE,
  SecurityEventResult,
  type UserAnswer,
  gap_security_level_for_link_key_type,
  sec_set_todo,
  sec_take,
} from './hci-security-state.js';
import type { HciState } from './hci-state.js';
import { INVALID_LINK_KEY } from './link-key-db.js';

export { SecurityEventResult } from './hci-security-state.js';

/** HCI_Encryption_Change [v2] (Core Vol 4 Part E 7.7.8.2; v1.8 profile only has the name). */
export const HCI_EVENT_ENCRYPTION_CHANGE_V2 = 0x59;
/** Supported_Commands bit of Read Encryption Key Size (octet 20 bit 4). */
const SUPPORTED_COMMAND_READ_ENCRYPTION_KEY_SIZE = 164;

/** What the security component needs from its siblings. */
export interface HciSecurityPeers {
  send_command(cmd: HciCommand, ...args: HciArg[]): boolean;
  run(): void;
  /** Hand an event the stack built to the event handlers (and the packet log). */
  emit(packet: Uint8Array, size: number): void;
  buffer(): Uint8Array;
}

export class HciSecurity {
  private readonly pairing: HciPairing;
  /** Handles of Authentication Requested / Set Connection Encryption in flight (Command Status has none). */
  private readonly authSent: number[] = [];
  private readonly encSent: number[] = [];

  constructor(
    private readonly s: HciState,
    private readonly x: HciSecurityPeers,
  ) {
    this.pairing = new HciPairing(s, x);
  }

  // ================================================================== levels

  /** BTstack's gap_security_level_for_connection (LE links: from what the Security Manager reported). */
  level(conn: HciConnection): number {
    if (conn.is_le)
      return gap_security_level_for_le_link(conn.encryption_enabled, conn.le_sec, this.s.security.required_encryption_key_size);
    if (conn.encryption_enabled === 0) return LEVEL_0;
    const sec = conn.sec;
    if (sec.encryption_key_size < this.s.security.required_encryption_key_size) return LEVEL_0;
    const level = gap_security_level_for_link_key_type(sec.link_key_type);
    return level === LEVEL_4 && sec.encryption_key_size < 16 ? LEVEL_3 : level;
  }

  // ================================================================== gap_request_security_level

  request(handle: number, level: number): void {
    const conn = this.s.connections.for_handle(handle);
    if (!conn) {
      this.post(handle, 1, LEVEL_0, ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER);
      return;
    }
    if (conn.is_le) return this.requestLe(conn, level);
    const sec = conn.sec;
    if (sec.pending_requests > 0) {
      sec.pending_requests++;
      if (level > sec.requested_level) sec.requested_level = level;
      return;
    }
    const current = this.level(conn);
    if (level <= current && (sec.todo & SEC_PROCEDURE_BUSY) === 0) {
      this.post(handle, 1, current, ERROR_CODE_SUCCESS);
      return;
    }
    sec.pending_requests = 1;
    sec.requested_level = level;
    sec.tried_auth = false;
    sec.tried_encryption = false;
    sec.failure = 0;
    this.advance(conn, 'gap_request_security_level');
    this.x.run();
  }

  /**
   * LE link: met already -> GAP_EVENT_SECURITY_LEVEL from the run loop; else the Security Manager
   * pairs or encrypts (central: LE Start Encryption with a bond's LTK, else Pairing Request;
   * peripheral: Security Request) and its end answers (le_procedure_complete). Without an SM
   * (sm_init not called) or when it cannot start: the current level with
   * ERROR_CODE_INSUFFICIENT_SECURITY. Requests while one runs fold into it, each gets its event.
   */
  private requestLe(conn: HciConnection, level: number): void {
    const sec = conn.sec;
    if (sec.pending_requests > 0) {
      sec.pending_requests++;
      if (level > sec.requested_level) sec.requested_level = level;
      return;
    }
    const current = this.level(conn);
    if (level <= current) return this.post(conn.con_handle, 1, current, ERROR_CODE_SUCCESS);
    const sm = this.s.security.le_security_provider;
    sec.pending_requests = 1;
    sec.requested_level = level;
    this.s.log.debug(() => `hci sec 0x${hex4(conn.con_handle)}: LE level ${level} requested (now ${current})`);
    if (sm && sm.le_request_security(conn.con_handle)) return;
    sec.pending_requests = 0;
    sec.requested_level = LEVEL_0;
    this.post(conn.con_handle, 1, current, ERROR_CODE_INSUFFICIENT_SECURITY);
  }

  /**
   * The Security Manager ended a pairing / encryption on an LE link (status 0 or its failure): the
   * requests waiting get the level reached, with ERROR_CODE_INSUFFICIENT_SECURITY when below the
   * level asked for (the SM's failure status when it failed).
   */
  le_procedure_complete(handle: number, status: number): void {
    const conn = this.s.connections.for_handle(handle);
    if (!conn || !conn.is_le || conn.sec.pending_requests === 0) return;
    const level = this.level(conn);
    const ok = level >= conn.sec.requested_level;
    this.finish(conn, level, ok ? ERROR_CODE_SUCCESS : status !== 0 ? status : ERROR_CODE_INSUFFICIENT_SECURITY);
  }

  /** Next step of a running procedure, or its end (GAP_EVENT_SECURITY_LEVEL per request). */
  private advance(conn: HciConnection, why: string): void {
    const sec = conn.sec;
    if (conn.is_le) return; // LE: the Security Manager's end of pairing answers (le_procedure_complete)
    if (sec.pending_requests === 0 || (sec.todo & SEC_PROCEDURE_BUSY) !== 0) return;
    const level = this.level(conn);
    if (level >= sec.requested_level) return this.finish(conn, level, ERROR_CODE_SUCCESS);
    if (sec.failure !== 0) return this.finish(conn, level, sec.failure);
    if (!sec.authenticated && !sec.tried_auth) {
      sec.tried_auth = true;
      return this.set_todo(conn, SEC_SEND_AUTH, 0, why);
    }
    if (sec.authenticated && conn.encryption_enabled === 0 && !sec.tried_encryption) {
      sec.tried_encryption = true;
      return this.set_todo(conn, SEC_SEND_ENCRYPTION, 0, why);
    }
    if (!sec.tried_auth) {
      // authenticated with a key too weak for the level asked for: pair again (new key)
      sec.tried_auth = true;
      return this.set_todo(conn, SEC_SEND_AUTH, 0, why);
    }
    this.finish(conn, level, ERROR_CODE_INSUFFICIENT_SECURITY);
  }

  private finish(conn: HciConnection, level: number, status: number): void {
    const sec = conn.sec;
    const n = sec.pending_requests;
    sec.pending_requests = 0;
    sec.requested_level = LEVEL_0;
    sec.failure = 0;
    this.s.log.debug(() => `hci sec 0x${hex4(conn.con_handle)}: level ${level} reached (status 0x${status.toString(16)})`);
    for (let i = 0; i < n; i++) this.emitSecurityLevel(conn.con_handle, level, status);
  }

  /** GAP_EVENT_SECURITY_LEVEL from the run loop (never inside the caller). */
  private post(handle: number, count: number, level: number, status: number): void {
    this.s.run_loop.execute_on_main_thread(() => {
      for (let i = 0; i < count; i++) this.emitSecurityLevel(handle, level, status);
    });
  }

  private emitSecurityLevel(handle: number, level: number, status: number): void {
    const k = this.s.codes;
    const b = this.x.buffer();
    const n =
      k.PROFILE === 'v1.8'
        ? k.gap_event_security_level_build(b, 0, handle, level, status)
        : k.gap_event_security_level_build(b, 0, handle, level);
    this.x.emit(b, n);
  }

  private set_todo(conn: HciConnection, add: number, clear: number, why: string): void {
    sec_set_todo(this.s.log, conn, add, clear, why);
  }

  // ================================================================== HCI events

  /** A security event from the controller (plen checked against each layout). */
  event(packet: Uint8Array, plen: number): SecurityEventResult {
    switch (packet[0]) {
      case HCI_EVENT_LINK_KEY_REQUEST:
        return plen < 6 ? SecurityEventResult.MALFORMED : this.pairing.onLinkKeyRequest(reverse_bd_addr(packet, 2));
      case HCI_EVENT_LINK_KEY_NOTIFICATION:
        return plen < 23 ? SecurityEventResult.MALFORMED : this.pairing.onLinkKeyNotification(packet);
      case HCI_EVENT_PIN_CODE_REQUEST:
        return plen < 6 ? SecurityEventResult.MALFORMED : this.pairing.onPinCodeRequest(reverse_bd_addr(packet, 2));
      case HCI_EVENT_IO_CAPABILITY_REQUEST:
        return plen < 6 ? SecurityEventResult.MALFORMED : this.pairing.onIoCapabilityRequest(reverse_bd_addr(packet, 2));
      case HCI_EVENT_IO_CAPABILITY_RESPONSE:
        return plen < 9 ? SecurityEventResult.MALFORMED : this.pairing.onIoCapabilityResponse(packet);
      case HCI_EVENT_USER_CONFIRMATION_REQUEST:
        return plen < 10 ? SecurityEventResult.MALFORMED : this.pairing.onUserConfirmationRequest(reverse_bd_addr(packet, 2));
      case HCI_EVENT_USER_PASSKEY_REQUEST:
        return plen < 6 ? SecurityEventResult.MALFORMED : this.pairing.onUserPasskeyRequest(reverse_bd_addr(packet, 2));
      case HCI_EVENT_USER_PASSKEY_NOTIFICATION:
        return plen < 10 ? SecurityEventResult.MALFORMED : SecurityEventResult.FORWARD;
      case HCI_EVENT_SIMPLE_PAIRING_COMPLETE:
        return plen < 7
          ? SecurityEventResult.MALFORMED
          : this.pairing.onSimplePairingComplete(packet[2]!, reverse_bd_addr(packet, 3));
      case HCI_EVENT_AUTHENTICATION_COMPLETE:
        return plen < 3 ? SecurityEventResult.MALFORMED : this.onAuthenticationComplete(packet[2]!, handle_at(packet, 3));
      case HCI_EVENT_ENCRYPTION_CHANGE:
        return plen < 4
          ? SecurityEventResult.MALFORMED
          : this.onEncryptionChange(packet[2]!, handle_at(packet, 3), packet[5]!, -1);
      case HCI_EVENT_ENCRYPTION_CHANGE_V2:
        return plen < 5
          ? SecurityEventResult.MALFORMED
          : this.onEncryptionChange(packet[2]!, handle_at(packet, 3), packet[5]!, packet[6]!);
      case HCI_EVENT_ENCRYPTION_KEY_REFRESH_COMPLETE:
        return plen < 3 ? SecurityEventResult.MALFORMED : SecurityEventResult.FORWARD;
      default:
        return SecurityEventResult.FORWARD;
    }
  }

  private onAuthenticationComplete(status: number, handle: number): SecurityEventResult {
    const conn = this.s.connections.for_handle(handle);
    if (!conn || conn.is_le) return SecurityEventResult.FORWARD;
    const sec = conn.sec;
    this.set_todo(conn, 0, SEC_W4_AUTH, `Authentication Complete 0x${status.toString(16).padStart(2, '0')}`);
    this.pairing.pairingComplete(conn, status);
    if (status === ERROR_CODE_SUCCESS) {
      sec.authenticated = true;
    } else {
      if (status === ERROR_CODE_PIN_OR_KEY_MISSING) {
        // the peer lost its key: ours is stale (BTstack deletes it; the next request pairs again)
        this.s.log.info(() => `stale link key for ${bd_addr_to_str(conn.address)} deleted`);
        this.s.security.link_key_db?.delete_link_key(conn.address);
        if (conn.encryption_enabled === 0) sec.link_key_type = INVALID_LINK_KEY;
      }
      if (sec.pending_requests > 0 && sec.failure === 0) sec.failure = status;
    }
    this.advance(conn, 'Authentication Complete');
    this.x.run();
    return SecurityEventResult.FORWARD;
  }

  private onEncryptionChange(status: number, handle: number, enabled: number, key_size: number): SecurityEventResult {
    const conn = this.s.connections.for_handle(handle);
    if (!conn) return SecurityEventResult.FORWARD;
    const sec = conn.sec;
    const waited = (sec.todo & SEC_W4_ENCRYPTION) !== 0;
    this.set_todo(conn, 0, SEC_W4_ENCRYPTION, `Encryption Change 0x${status.toString(16).padStart(2, '0')} enabled ${enabled}`);
    if (status === ERROR_CODE_SUCCESS) {
      conn.encryption_enabled = enabled;
      sec.encryption_key_size = 0;
      if (enabled !== 0 && !conn.is_le) {
        // AES-CCM on BR/EDR implies Secure Connections mutual authentication (BTstack)
        if (enabled === 2) sec.authenticated = true;
        if (key_size >= 0) sec.encryption_key_size = key_size;
        else if (this.s.controller.supports_command(SUPPORTED_COMMAND_READ_ENCRYPTION_KEY_SIZE))
          this.set_todo(conn, SEC_SEND_READ_KEY_SIZE, 0, 'encrypted, key size unknown');
        else sec.encryption_key_size = 16;
      }
    } else if (waited && sec.pending_requests > 0 && sec.failure === 0) {
      sec.failure = status;
    }
    this.advance(conn, 'Encryption Change');
    this.x.run();
    return SecurityEventResult.FORWARD;
  }

  /** Command Status: a refused Authentication Requested / Set Connection Encryption ends that step. */
  command_status(opcode: number, status: number): void {
    let list: number[] | null = null;
    let bit = 0;
    if (opcode === hci_authentication_requested.opcode) [list, bit] = [this.authSent, SEC_W4_AUTH];
    else if (opcode === hci_set_connection_encryption.opcode) [list, bit] = [this.encSent, SEC_W4_ENCRYPTION];
    if (!list) return;
    const handle = list.shift();
    if (status === ERROR_CODE_SUCCESS || handle === undefined) return;
    const conn = this.s.connections.for_handle(handle);
    if (!conn) return;
    this.set_todo(conn, 0, bit, `command refused with 0x${status.toString(16).padStart(2, '0')}`);
    if (conn.sec.pending_requests > 0 && conn.sec.failure === 0) conn.sec.failure = status;
    this.advance(conn, 'command refused');
    this.x.run();
  }

  /** Command Complete: the key size read, the local address for the key store, refused replies. */
  command_complete(opcode: number, ret: Uint8Array): void {
    if (opcode === hci_read_bd_addr.opcode) {
      if (ret.length >= 7 && ret[0] === 0) this.s.security.link_key_db?.set_local_bd_addr(reverse_bd_addr(ret, 1));
      return;
    }
    if (opcode !== hci_read_encryption_key_size.opcode || ret.length < 3) return;
    const conn = this.s.connections.for_handle(little_endian_read_16(ret, 1) & 0x0fff);
    if (!conn || (conn.sec.todo & SEC_W4_KEY_SIZE) === 0) return;
    const ok = ret[0] === ERROR_CODE_SUCCESS && ret.length >= 4;
    conn.sec.encryption_key_size = ok ? ret[3]! : 0;
    this.set_todo(conn, 0, SEC_W4_KEY_SIZE, `encryption key size ${conn.sec.encryption_key_size}`);
    this.advance(conn, 'Read Encryption Key Size');
    this.x.run();
  }

  /** The link is gone (Disconnection Complete, power off): pairing and requests end. */
  link_down(conn: HciConnection): void {
    const sec = conn.sec;
    this.pairing.pairingComplete(conn, ERROR_CODE_REMOTE_USER_TERMINATED_CONNECTION);
    if (sec.pending_requests > 0)
      this.post(conn.con_handle, sec.pending_requests, LEVEL_0, ERROR_CODE_REMOTE_USER_TERMINATED_CONNECTION);
    sec.pending_requests = 0;
    sec.todo = 0;
  }

  /** The application's answer to a pairing request (gap_ssp_* / gap_pin_code_*). */
  answer(addr: BdAddr, what: UserAnswer, yes: boolean, value = 0, pin: Uint8Array | null = null): number {
    return this.pairing.answer(addr, what, yes, value, pin);
  }

  // ================================================================== commands out

  /** Send one command that security work owes; true when one went out. */
  run(): boolean {
    if (this.s.power !== HCI_STATE_WORKING) return false;
    if (this.pairing.run_orphan()) return true;
    for (const c of this.s.connections.list) {
      if (c.sec_todo !== 0 && c.con_handle !== 0xffff && this.runConnection(c)) return true;
    }
    return false;
  }

  private runConnection(c: HciConnection): boolean {
    if (this.pairing.run_replies(c)) return true;
    if (sec_take(c, SEC_SEND_AUTH)) {
      this.set_todo(c, SEC_W4_AUTH, 0, 'Authentication Requested sent');
      this.authSent.push(c.con_handle);
      return this.x.send_command(hci_authentication_requested, c.con_handle);
    }
    if (sec_take(c, SEC_SEND_ENCRYPTION)) {
      this.set_todo(c, SEC_W4_ENCRYPTION, 0, 'Set Connection Encryption sent');
      this.encSent.push(c.con_handle);
      return this.x.send_command(hci_set_connection_encryption, c.con_handle, 1);
    }
    if (sec_take(c, SEC_SEND_READ_KEY_SIZE)) {
      this.set_todo(c, SEC_W4_KEY_SIZE, 0, 'Read Encryption Key Size sent');
      return this.x.send_command(hci_read_encryption_key_size, c.con_handle);
    }
    return false;
  }
}

function handle_at(packet: Uint8Array, pos: number): number {
  return little_endian_read_16(packet, pos) & 0x0fff;
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}
