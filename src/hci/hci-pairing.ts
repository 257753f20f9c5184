/**
 * Pairing in HCI (a component of HciSecurity, hci-security.ts): the host answers every pairing
 * request of the controller as BTstack's hci.c does (Core Vol 4 Part E 7.7.x events, 7.1.x replies;
 * association models Vol 3 Part C 5.2.2.6):
 *
 *   Link Key Request          Reply with the stored key when its level covers the level asked for, else Negative Reply
 *   IO Capability Request     Reply (our IO capability, no OOB, MITM bit per settings / level, general bonding when
 *                             bondable and the peer bonds), or Negative Reply 0x18 Pairing Not Allowed: level out
 *                             of reach of the two IO capabilities, or not bondable while the peer asks for bonding
 *   User Confirmation Request Negative Reply when the level needs MITM the IO capabilities cannot give (not
 *                             forwarded), Reply at once with auto accept, else the application answers
 *   User Passkey Request      with auto accept BTstack replies 000000 at once; else the application answers
 *   PIN Code Request          Negative Reply when not bondable or level 4 was asked for (not forwarded), else the app
 *   Link Key Notification     stored when bondable, the key's level covers the level asked for, the peer asked for
 *                             bonding (SSP keys) and it is neither all zero (CVE-2020-26555) nor a debug key
 *
 * The application has GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS to answer; then the Negative Reply goes
 * out. Requests for an address without a connection record get their Negative Reply too (at most
 * MAX_ORPHAN_REPLIES owed). GAP_EVENT_PAIRING_STARTED / _COMPLETE frame each pairing.
 */
import { bd_addr_to_str, reverse_bd_addr, type BdAddr } from '../core/bytes.js';
import { Timer } from '../core/run-loop.js';
import {
  BD_ADDR_TYPE_ACL,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_INSUFFICIENT_SECURITY,
  ERROR_CODE_PAIRING_NOT_ALLOWED,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  LEVEL_3,
  LEVEL_4,
  SSP_IO_AUTHREQ_MITM_PROTECTION_NOT_REQUIRED_DEDICATED_BONDING,
  SSP_IO_AUTHREQ_MITM_PROTECTION_NOT_REQUIRED_GENERAL_BONDING,
  SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT,
  SSP_IO_CAPABILITY_UNKNOWN,
} from '../codes/v1.4.js';
import {
  hci_io_capability_request_negative_reply,
  hci_io_capability_request_reply,
  hci_link_key_request_negative_reply,
  hci_link_key_request_reply,
  hci_pin_code_request_negative_reply,
  hci_pin_code_request_reply,
  hci_user_confirmation_request_negative_reply,
  hci_user_confirmation_request_reply,
  hci_user_passkey_request_negative_reply,
  hci_user_passkey_request_reply,
  type HciArg,
  type HciCommand,
} from './commands.js';
import type { HciConnection } from './hci-connection.js';
import {
  GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS,
  Pairing,
  SEC_SEND_CONFIRM_NEGATIVE,
  SEC_SEND_CONFIRM_REPLY,
  SEC_SEND_IO_CAP_NEGATIVE,
  SEC_SEND_IO_CAP_REPLY,
  SEC_SEND_LINK_KEY_NEGATIVE,
  SEC_SEND_LINK_KEY_REPLY,
  SEC_SEND_PASSKEY_NEGATIVE,
  SEC_SEND_PASSKEY_REPLY,
  SEC_SEND_PIN_NEGATIVE,
  SEC_SEND_PIN_REPLY,
  SEC_W4_AUTH,
  SecurityEventResult,
  UserAnswer,
  gap_mitm_protection_required_for_security_level,
  gap_security_level_for_link_key_type,
  sec_set_todo,
  sec_take,
  ssp_security_level_possible,
} from './hci-security-state.js';
import type { HciState } from './hci-state.js';
import { CHANGED_COMBINATION_KEY, COMBINATION_KEY, DEBUG_COMBINATION_KEY } from './link-key-db.js';

/** Negative replies owed to addresses without a connection record, kept at most. */
export const MAX_ORPHAN_REPLIES = 4;

/** What pairing needs from HciSecurity. */
export interface HciPairingPeers {
  send_command(cmd: HciCommand, ...args: HciArg[]): boolean;
  run(): void;
  emit(packet: Uint8Array, size: number): void;
  buffer(): Uint8Array;
}

interface OrphanReply {
  addr: BdAddr;
  cmd: HciCommand;
}

export class HciPairing {
  private readonly timer = new Timer(() => this.onTimer());
  private readonly orphans: OrphanReply[] = [];

  constructor(
    private readonly s: HciState,
    private readonly x: HciPairingPeers,
  ) {}

  /** A negative reply owed to an unknown address; true when one went out. */
  run_orphan(): boolean {
    if (this.orphans.length === 0) return false; // every hci_run asks: no shift() on an empty array
    const orphan = this.orphans.shift();
    if (!orphan) return false;
    if (orphan.cmd === hci_io_capability_request_negative_reply)
      return this.x.send_command(orphan.cmd, orphan.addr, ERROR_CODE_PAIRING_NOT_ALLOWED);
    return this.x.send_command(orphan.cmd, orphan.addr);
  }

  /** One reply this connection owes; true when one went out. */
  run_replies(c: HciConnection): boolean {
    const sec = c.sec;
    const a = c.address;
    if (sec_take(c, SEC_SEND_LINK_KEY_REPLY)) return this.x.send_command(hci_link_key_request_reply, a, sec.link_key);
    if (sec_take(c, SEC_SEND_LINK_KEY_NEGATIVE)) return this.x.send_command(hci_link_key_request_negative_reply, a);
    if (sec_take(c, SEC_SEND_PIN_REPLY)) return this.x.send_command(hci_pin_code_request_reply, a, sec.pin_len, sec.pin);
    if (sec_take(c, SEC_SEND_PIN_NEGATIVE)) return this.x.send_command(hci_pin_code_request_negative_reply, a);
    if (sec_take(c, SEC_SEND_IO_CAP_REPLY))
      return this.x.send_command(hci_io_capability_request_reply, a, this.s.security.io_capability, 0, this.authReq(c));
    if (sec_take(c, SEC_SEND_IO_CAP_NEGATIVE))
      return this.x.send_command(hci_io_capability_request_negative_reply, a, sec.io_cap_negative_reason);
    if (sec_take(c, SEC_SEND_CONFIRM_REPLY)) return this.x.send_command(hci_user_confirmation_request_reply, a);
    if (sec_take(c, SEC_SEND_CONFIRM_NEGATIVE)) return this.x.send_command(hci_user_confirmation_request_negative_reply, a);
    if (sec_take(c, SEC_SEND_PASSKEY_REPLY)) return this.x.send_command(hci_user_passkey_request_reply, a, sec.passkey);
    if (sec_take(c, SEC_SEND_PASSKEY_NEGATIVE)) return this.x.send_command(hci_user_passkey_request_negative_reply, a);
    return false;
  }

  // ================================================================== pairing events (GAP_EVENT_PAIRING_*)

  pairingStarted(conn: HciConnection, ssp: boolean): void {
    const sec = conn.sec;
    if (sec.pairing !== Pairing.NONE) return;
    sec.pairing = ssp ? Pairing.SSP : Pairing.LEGACY;
    sec.pairing_initiator = (sec.todo & SEC_W4_AUTH) !== 0;
    const b = this.x.buffer();
    // BTstack v1.4.1 put bd_addr before the handle in this event (reference notes column); bthost emits
    // the declared layout (handle, bd_addr, ssp, initiator) in both profiles so the getters read it
    // (README "Event layouts": the v1.4.1 emission bugs are not reproduced).
    const n = this.s.codes.gap_event_pairing_started_build(
      b,
      0,
      conn.con_handle,
      conn.address,
      ssp ? 1 : 0,
      sec.pairing_initiator ? 1 : 0,
    );
    this.x.emit(b, n);
  }

  pairingComplete(conn: HciConnection, status: number): void {
    const sec = conn.sec;
    if (sec.awaiting !== UserAnswer.NONE) {
      sec.awaiting = UserAnswer.NONE;
      this.arm();
    }
    if (sec.pairing === Pairing.NONE) return;
    sec.pairing = Pairing.NONE;
    const b = this.x.buffer();
    // v1.4.1 emitted bd_addr before the handle here too (same note as PAIRING_STARTED)
    const n = this.s.codes.gap_event_pairing_complete_build(b, 0, conn.con_handle, conn.address, status);
    this.x.emit(b, n);
  }

  private classic(addr: BdAddr): HciConnection | null {
    return this.s.connections.for_addr(addr, BD_ADDR_TYPE_ACL);
  }

  /** A request for an address we have no link to: the negative reply still goes out (bounded). */
  private orphan(addr: BdAddr, cmd: HciCommand, what: string): SecurityEventResult {
    this.s.log.info(() => `${what} for ${bd_addr_to_str(addr)} without a connection: ${cmd.name}`);
    if (this.orphans.length >= MAX_ORPHAN_REPLIES) {
      this.s.log.error('too many negative replies owed to unknown addresses, one dropped');
      this.orphans.shift();
    }
    this.orphans.push({ addr, cmd });
    this.x.run();
    return SecurityEventResult.FORWARD;
  }

  onLinkKeyRequest(addr: BdAddr): SecurityEventResult {
    const conn = this.classic(addr);
    if (!conn) return this.orphan(addr, hci_link_key_request_negative_reply, 'Link Key Request');
    const sec = conn.sec;
    const rec = this.s.security.link_key_db?.get_link_key(addr) ?? null;
    if (rec && gap_security_level_for_link_key_type(rec.type) >= sec.requested_level) {
      sec.link_key.set(rec.link_key.subarray(0, 16));
      sec.link_key_type = rec.type;
      sec_set_todo(this.s.log, conn, SEC_SEND_LINK_KEY_REPLY, SEC_SEND_LINK_KEY_NEGATIVE, 'Link Key Request, key stored');
    } else {
      sec_set_todo(
        this.s.log,
        conn,
        SEC_SEND_LINK_KEY_NEGATIVE,
        SEC_SEND_LINK_KEY_REPLY,
        rec ? 'Link Key Request, key too weak' : 'Link Key Request, no key',
      );
    }
    this.x.run();
    return SecurityEventResult.FORWARD;
  }

  onLinkKeyNotification(packet: Uint8Array): SecurityEventResult {
    const addr = reverse_bd_addr(packet, 2);
    const conn = this.classic(addr);
    if (!conn) return SecurityEventResult.FORWARD;
    const sec = conn.sec;
    this.pairingComplete(conn, ERROR_CODE_SUCCESS);
    const key = packet.subarray(8, 24);
    if (key.every((b) => b === 0)) {
      this.s.log.error(() => `Link Key Notification with an all-zero key from ${bd_addr_to_str(addr)} ignored`);
      return SecurityEventResult.FORWARD;
    }
    const type = packet[24]!;
    if (type !== CHANGED_COMBINATION_KEY) sec.link_key_type = type;
    sec.link_key.set(key); // the link's key (as BTstack's hci_connection->link_key): CTKD from BR/EDR derives from it
    const settings = this.s.security;
    const db = settings.link_key_db;
    let keep = !!db && settings.bondable;
    if (keep && type === DEBUG_COMBINATION_KEY) keep = false; // a key from the public debug key pair protects nothing
    if (keep && gap_security_level_for_link_key_type(sec.link_key_type) < sec.requested_level) keep = false;
    if (keep && sec.link_key_type !== COMBINATION_KEY)
      keep = sec.remote_auth_req >= SSP_IO_AUTHREQ_MITM_PROTECTION_NOT_REQUIRED_DEDICATED_BONDING;
    this.s.log.info(() => `link key type ${sec.link_key_type} for ${bd_addr_to_str(addr)}: ${keep ? 'stored' : 'not stored'}`);
    if (keep) db!.put_link_key(addr, key, sec.link_key_type);
    return SecurityEventResult.FORWARD;
  }

  onPinCodeRequest(addr: BdAddr): SecurityEventResult {
    const conn = this.classic(addr);
    if (!conn) return this.orphan(addr, hci_pin_code_request_negative_reply, 'PIN Code Request');
    this.pairingStarted(conn, false);
    if (!this.s.security.bondable || conn.sec.requested_level === LEVEL_4) {
      const status = this.s.security.bondable ? ERROR_CODE_INSUFFICIENT_SECURITY : ERROR_CODE_PAIRING_NOT_ALLOWED;
      this.pairingComplete(conn, status);
      sec_set_todo(
        this.s.log,
        conn,
        SEC_SEND_PIN_NEGATIVE,
        0,
        status === ERROR_CODE_PAIRING_NOT_ALLOWED ? 'PIN Code Request, not bondable' : 'PIN Code Request, level 4',
      );
      this.x.run();
      return SecurityEventResult.CONSUMED;
    }
    this.await(conn, UserAnswer.PIN);
    return SecurityEventResult.FORWARD;
  }

  onIoCapabilityRequest(addr: BdAddr): SecurityEventResult {
    const conn = this.classic(addr);
    if (!conn) return this.orphan(addr, hci_io_capability_request_negative_reply, 'IO Capability Request');
    const sec = conn.sec;
    this.pairingStarted(conn, true);
    const settings = this.s.security;
    const io = settings.io_capability;
    let refuse = '';
    let status: number = ERROR_CODE_INSUFFICIENT_SECURITY;
    if (io === SSP_IO_CAPABILITY_UNKNOWN) refuse = 'IO capability unknown';
    else if (sec.io_cap_response_received) {
      // responder: both IO capabilities known
      if (!ssp_security_level_possible(sec.requested_level, io, sec.remote_io_capability))
        refuse = 'level out of reach of the IO capabilities';
      else if (!settings.bondable && sec.remote_auth_req >= SSP_IO_AUTHREQ_MITM_PROTECTION_NOT_REQUIRED_DEDICATED_BONDING) {
        refuse = 'not bondable, peer bonds';
        status = ERROR_CODE_PAIRING_NOT_ALLOWED;
      }
    } else if (sec.requested_level >= LEVEL_3 && io >= SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT) {
      refuse = 'MITM asked for without input or output';
    }
    if (refuse) {
      this.pairingComplete(conn, status);
      sec.io_cap_negative_reason = ERROR_CODE_PAIRING_NOT_ALLOWED;
      sec_set_todo(this.s.log, conn, SEC_SEND_IO_CAP_NEGATIVE, 0, `IO Capability Request, ${refuse}`);
    } else {
      sec_set_todo(this.s.log, conn, SEC_SEND_IO_CAP_REPLY, 0, 'IO Capability Request');
    }
    this.x.run();
    return SecurityEventResult.FORWARD;
  }

  onIoCapabilityResponse(packet: Uint8Array): SecurityEventResult {
    const conn = this.classic(reverse_bd_addr(packet, 2));
    if (!conn) return SecurityEventResult.FORWARD;
    const sec = conn.sec;
    sec.io_cap_response_received = true;
    sec.remote_io_capability = packet[8]!;
    sec.remote_auth_req = packet[10]!;
    this.pairingStarted(conn, true);
    return SecurityEventResult.FORWARD;
  }

  onUserConfirmationRequest(addr: BdAddr): SecurityEventResult {
    const conn = this.classic(addr);
    if (!conn) return this.orphan(addr, hci_user_confirmation_request_negative_reply, 'User Confirmation Request');
    const sec = conn.sec;
    this.pairingStarted(conn, true);
    if (sec.awaiting !== UserAnswer.NONE || (sec.todo & (SEC_SEND_CONFIRM_REPLY | SEC_SEND_CONFIRM_NEGATIVE)) !== 0) {
      // a second request before the first was answered: the newest one is answered
      sec.awaiting = UserAnswer.NONE;
    }
    if (!ssp_security_level_possible(sec.requested_level, this.s.security.io_capability, sec.remote_io_capability)) {
      this.pairingComplete(conn, ERROR_CODE_INSUFFICIENT_SECURITY);
      sec_set_todo(
        this.s.log,
        conn,
        SEC_SEND_CONFIRM_NEGATIVE,
        SEC_SEND_CONFIRM_REPLY,
        'User Confirmation Request, no MITM possible',
      );
      this.x.run();
      return SecurityEventResult.CONSUMED;
    }
    if (this.s.security.auto_accept) {
      sec_set_todo(this.s.log, conn, SEC_SEND_CONFIRM_REPLY, SEC_SEND_CONFIRM_NEGATIVE, 'User Confirmation Request, auto accept');
      this.x.run();
    } else {
      this.await(conn, UserAnswer.CONFIRM);
    }
    return SecurityEventResult.FORWARD;
  }

  onUserPasskeyRequest(addr: BdAddr): SecurityEventResult {
    const conn = this.classic(addr);
    if (!conn) return this.orphan(addr, hci_user_passkey_request_negative_reply, 'User Passkey Request');
    this.pairingStarted(conn, true);
    if (this.s.security.auto_accept) {
      // BTstack: with auto accept the passkey request is answered with 000000
      conn.sec.passkey = 0;
      sec_set_todo(this.s.log, conn, SEC_SEND_PASSKEY_REPLY, SEC_SEND_PASSKEY_NEGATIVE, 'User Passkey Request, auto accept');
      this.x.run();
    } else {
      this.await(conn, UserAnswer.PASSKEY);
    }
    return SecurityEventResult.FORWARD;
  }

  onSimplePairingComplete(status: number, addr: BdAddr): SecurityEventResult {
    const conn = this.classic(addr);
    if (!conn) return SecurityEventResult.FORWARD;
    if (status === ERROR_CODE_SUCCESS) conn.sec.authenticated = true;
    this.pairingComplete(conn, status);
    return SecurityEventResult.FORWARD;
  }

  // ================================================================== the application's answers

  /** Wait for the application (bounded by GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS). */
  private await(conn: HciConnection, what: UserAnswer): void {
    conn.sec.awaiting = what;
    conn.sec.deadline = this.s.run_loop.get_time_ms() + GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS;
    this.arm();
  }

  /** The application's answer: 0, UNKNOWN_CONNECTION_IDENTIFIER or COMMAND_DISALLOWED (not asked). */
  answer(addr: BdAddr, what: UserAnswer, yes: boolean, value = 0, pin: Uint8Array | null = null): number {
    const conn = this.classic(addr);
    if (!conn) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    const sec = conn.sec;
    if (sec.awaiting !== what) return ERROR_CODE_COMMAND_DISALLOWED;
    sec.awaiting = UserAnswer.NONE;
    this.arm();
    if (what === UserAnswer.CONFIRM)
      sec_set_todo(this.s.log, conn, yes ? SEC_SEND_CONFIRM_REPLY : SEC_SEND_CONFIRM_NEGATIVE, 0, 'application');
    else if (what === UserAnswer.PASSKEY) {
      sec.passkey = value;
      sec_set_todo(this.s.log, conn, yes ? SEC_SEND_PASSKEY_REPLY : SEC_SEND_PASSKEY_NEGATIVE, 0, 'application');
    } else {
      sec.pin.fill(0);
      if (yes && pin) sec.pin.set(pin.subarray(0, 16));
      sec.pin_len = yes && pin ? Math.min(16, pin.length) : 0;
      sec_set_todo(this.s.log, conn, yes ? SEC_SEND_PIN_REPLY : SEC_SEND_PIN_NEGATIVE, 0, 'application');
    }
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  private arm(): void {
    const rl = this.s.run_loop;
    let next = Infinity;
    for (const c of this.s.connections.list)
      if (c.sec.awaiting !== UserAnswer.NONE && c.sec.deadline < next) next = c.sec.deadline;
    rl.remove_timer(this.timer);
    if (next === Infinity) return;
    rl.set_timer(this.timer, Math.max(0, next - rl.get_time_ms()));
    rl.add_timer(this.timer);
  }

  private onTimer(): void {
    const now = this.s.run_loop.get_time_ms();
    for (const c of this.s.connections.list) {
      const sec = c.sec;
      if (sec.awaiting === UserAnswer.NONE || sec.deadline > now) continue;
      const bit =
        sec.awaiting === UserAnswer.CONFIRM
          ? SEC_SEND_CONFIRM_NEGATIVE
          : sec.awaiting === UserAnswer.PASSKEY
            ? SEC_SEND_PASSKEY_NEGATIVE
            : SEC_SEND_PIN_NEGATIVE;
      sec.awaiting = UserAnswer.NONE;
      sec_set_todo(this.s.log, c, bit, 0, `no answer from the application in ${GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS} ms`);
    }
    this.arm();
    this.x.run();
  }

  /**
   * Authentication_Requirements of our IO Capability Reply (BTstack): MITM from the settings or
   * the level asked for; general bonding when bondable, unless the peer (we respond) does not bond.
   */
  private authReq(c: HciConnection): number {
    const sec = c.sec;
    let req = this.s.security.authentication_requirement & 1;
    if (gap_mitm_protection_required_for_security_level(sec.requested_level)) req |= 1;
    let bonding = this.s.security.bondable;
    if (sec.io_cap_response_received && sec.remote_auth_req < SSP_IO_AUTHREQ_MITM_PROTECTION_NOT_REQUIRED_DEDICATED_BONDING)
      bonding = false;
    if (bonding) req |= SSP_IO_AUTHREQ_MITM_PROTECTION_NOT_REQUIRED_GENERAL_BONDING;
    return req;
  }
}
