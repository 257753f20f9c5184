/**
 * Host-side supervision (issue 18): a bound on every controller operation the host waits for, so a
 * controller that acknowledges a command (Command Status 0) and then never completes it cannot
 * leave a connection record, a name request or a pairing waiting forever. BTstack trusts the
 * controller here; when a bound passes we first ask the controller to stop (where HCI has a cancel
 * command) and then end the operation as the controller would have, by handing HCI's own event
 * path (HciEvents, so every layer and the application see it) the event BTstack reports for that
 * failure, logged as an incoming event (as BTstack's hci_emit_event does):
 *
 * | waits for                          | bound                                   | then                                     | finally (host-built event)                                   |
 * |------------------------------------|-----------------------------------------|------------------------------------------|--------------------------------------------------------------|
 * | Connection Complete (Create Conn.) | page timeout + HCI_CONNECTION_SETUP_MS  | Create Connection Cancel                 | Connection Complete, Page Timeout (0x04) after HCI_CANCEL_TIMEOUT_MS |
 * | LE Connection Complete after LE Create Connection Cancel | HCI_CANCEL_TIMEOUT_MS | -                                  | LE Connection Complete, Unknown Connection Identifier (0x02) |
 * | Remote Name Request Complete       | page timeout + HCI_LMP_RESPONSE_TIMEOUT_MS | Remote Name Request Cancel            | Remote Name Request Complete, Page Timeout (0x04)             |
 * | Authentication Complete            | HCI_AUTHENTICATION_TIMEOUT_MS           | -                                        | Authentication Complete, LMP Response Timeout (0x22)         |
 * | Disconnection Complete             | link supervision timeout + HCI_SUPERVISION_MARGIN_MS | -                           | Disconnection Complete, reason Connection Terminated By Local Host (0x16), as BTstack reports links it drops itself |
 *
 * LE Create Connection itself has no bound: initiating lasts until the peer advertises or the
 * application calls gap_connect_cancel (Core Vol 4 Part E 7.8.12; BTstack has no timer either).
 * The page timeout is the controller's (Write Page Timeout as sent, 5.12 s until then).
 *
 * One run-loop timer for the earliest deadline; a deadline that no longer applies (the operation
 * completed) is ignored when the timer fires.
 */
import { bd_addr_copy, bd_addr_to_str, little_endian_read_16, reverse_bd_addr, type BdAddr } from '../core/bytes.js';
import { Timer } from '../core/run-loop.js';
import {
  BD_ADDR_TYPE_ACL,
  ERROR_CODE_CONNECTION_TERMINATED_BY_LOCAL_HOST,
  ERROR_CODE_LMP_RESPONSE_TIMEOUT_LL_RESPONSE_TIMEOUT,
  ERROR_CODE_PAGE_TIMEOUT,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  HCI_ROLE_MASTER,
} from '../codes/v1.4.js';
import {
  hci_authentication_requested,
  hci_create_connection,
  hci_create_connection_cancel,
  hci_disconnect,
  hci_le_create_connection_cancel,
  hci_remote_name_request,
  hci_remote_name_request_cancel,
  hci_write_page_timeout,
  type HciArg,
  type HciCommand,
} from './commands.js';
import { ConnState, TODO_CREATE_CONNECTION_CANCEL, type HciConnection } from './hci-connection.js';
import { SEC_W4_AUTH } from './hci-security-state.js';
import type { HciState } from './hci-state.js';

/** Beyond the page timeout, what a Create Connection may take: LMP setup and the peer host's answer (its Connection Accept Timeout, 5 s by default). */
export const HCI_CONNECTION_SETUP_MS = 6000;
/** After a cancel command (or for LE Create Connection Cancel), how long the controller has to end the operation. */
export const HCI_CANCEL_TIMEOUT_MS = 1000;
/** LMP Response Timeout (Core Vol 2 Part C 2.2: 30 s), the bound of one remote transaction. */
export const HCI_LMP_RESPONSE_TIMEOUT_MS = 30000;
/** Authentication Requested until Authentication Complete: pairing with both users answering (25 s each here) and LMP. */
export const HCI_AUTHENTICATION_TIMEOUT_MS = 60000;
/** Added to the link supervision timeout (20 s BR/EDR default; LE: the connection's) for a Disconnect. */
export const HCI_SUPERVISION_MARGIN_MS = 2000;
/** The BR/EDR default Link Supervision Timeout (0x7D00 slots). */
const DEFAULT_LINK_SUPERVISION_MS = 20000;
/** The default Page Timeout (0x2000 slots of 0.625 ms). */
const DEFAULT_PAGE_TIMEOUT_MS = 5120;

/** What the connection's deadline (`sup_deadline`) supervises. */
export enum SupOp {
  NONE = 0,
  CREATE = 1,
  CREATE_CANCEL = 2,
  LE_CANCEL = 3,
  DISCONNECT = 4,
}

enum NameStep {
  NONE = 0,
  WAIT = 1,
  CANCELLED = 2,
}

/** What supervision needs from its siblings. */
export interface HciSupervisionPeers {
  /** Handle an event the host built as if the controller had sent it (logged, then HciEvents). */
  inject(packet: Uint8Array, size: number): void;
  /** Queue a command (hci_send_cmd). */
  queue_command(cmd: HciCommand, ...args: HciArg[]): void;
  run(): void;
  /** GAP waits for a Remote Name Request Complete. */
  remote_name_waiting(): boolean;
}

export class HciSupervision {
  private readonly timer = new Timer(() => this.fire());
  private pageTimeoutMs = DEFAULT_PAGE_TIMEOUT_MS;
  private nameStep = NameStep.NONE;
  private nameDeadline = 0;
  private readonly nameAddr: BdAddr = new Uint8Array(6);
  /** Events built here: never a depth buffer of EventOut (the handlers emit into those). */
  private readonly scratch = new Uint8Array(258);

  constructor(
    private readonly s: HciState,
    private readonly x: HciSupervisionPeers,
  ) {}

  /** The controller was reset or the stack went down: nothing is waited for. */
  reset(): void {
    this.s.run_loop.remove_timer(this.timer);
    this.pageTimeoutMs = DEFAULT_PAGE_TIMEOUT_MS;
    this.nameStep = NameStep.NONE;
    this.nameDeadline = 0;
  }

  private now(): number {
    return this.s.run_loop.get_time_ms();
  }

  /** A command went to the controller: start the bound of what it asks for. */
  command_sent(opcode: number, params: Uint8Array): void {
    const conns = this.s.connections;
    switch (opcode) {
      case hci_write_page_timeout.opcode:
        if (params.length >= 2) this.pageTimeoutMs = Math.max(1, little_endian_read_16(params, 0)) * 0.625;
        return;
      case hci_create_connection.opcode: {
        if (params.length < 6) return;
        const c = conns.for_addr(reverse_bd_addr(params, 0), BD_ADDR_TYPE_ACL);
        if (c && c.state === ConnState.SENT_CREATE_CONNECTION)
          this.start(c, SupOp.CREATE, this.pageTimeoutMs + HCI_CONNECTION_SETUP_MS);
        break;
      }
      case hci_create_connection_cancel.opcode: {
        if (params.length < 6) return;
        const c = conns.for_addr(reverse_bd_addr(params, 0), BD_ADDR_TYPE_ACL);
        if (c && this.creating(c)) this.start(c, SupOp.CREATE_CANCEL, HCI_CANCEL_TIMEOUT_MS);
        break;
      }
      case hci_le_create_connection_cancel.opcode:
        for (const c of conns.list) if (this.le_cancelling(c)) this.start(c, SupOp.LE_CANCEL, HCI_CANCEL_TIMEOUT_MS);
        break;
      case hci_disconnect.opcode: {
        const c = params.length >= 2 ? conns.for_handle(little_endian_read_16(params, 0) & 0x0fff) : null;
        if (!c || c.state !== ConnState.SENT_DISCONNECT) return;
        const lsto = c.is_le && c.le_supervision_timeout ? c.le_supervision_timeout * 10 : DEFAULT_LINK_SUPERVISION_MS;
        this.start(c, SupOp.DISCONNECT, lsto + HCI_SUPERVISION_MARGIN_MS);
        break;
      }
      case hci_authentication_requested.opcode: {
        const c = params.length >= 2 ? conns.for_handle(little_endian_read_16(params, 0) & 0x0fff) : null;
        if (!c) return;
        c.sup_auth_deadline = this.now() + HCI_AUTHENTICATION_TIMEOUT_MS;
        break;
      }
      case hci_remote_name_request.opcode:
        if (params.length < 6) return;
        bd_addr_copy(this.nameAddr, reverse_bd_addr(params, 0));
        this.nameStep = NameStep.WAIT;
        this.nameDeadline = this.now() + this.pageTimeoutMs + HCI_LMP_RESPONSE_TIMEOUT_MS;
        break;
      default:
        return;
    }
    this.arm();
  }

  private start(c: HciConnection, op: SupOp, ms: number): void {
    c.sup_op = op;
    c.sup_deadline = this.now() + ms;
  }

  private creating(c: HciConnection): boolean {
    return !c.is_le && c.con_handle === 0xffff && c.state === ConnState.SENT_CREATE_CONNECTION;
  }

  private le_cancelling(c: HciConnection): boolean {
    return (
      c.is_le &&
      c.con_handle === 0xffff &&
      (c.state === ConnState.SEND_CANCEL_CONNECTION || c.state === ConnState.SENT_CANCEL_CONNECTION)
    );
  }

  /** Does the connection's deadline still apply? */
  private applies(c: HciConnection): boolean {
    switch (c.sup_op) {
      case SupOp.CREATE:
      case SupOp.CREATE_CANCEL:
        return this.creating(c);
      case SupOp.LE_CANCEL:
        return this.le_cancelling(c);
      case SupOp.DISCONNECT:
        return c.state === ConnState.SENT_DISCONNECT;
      default:
        return false;
    }
  }

  private nameApplies(): boolean {
    if (this.nameStep === NameStep.NONE) return false;
    if (this.x.remote_name_waiting()) return true;
    this.nameStep = NameStep.NONE;
    return false;
  }

  /** Set the timer to the earliest deadline that still applies (none: stop it). */
  private arm(): void {
    let next = Infinity;
    for (const c of this.s.connections.list) {
      if (c.sup_op !== SupOp.NONE) {
        if (this.applies(c)) next = Math.min(next, c.sup_deadline);
        else c.sup_op = SupOp.NONE;
      }
      if (c.sup_auth_deadline !== 0) {
        if (c.sec.todo & SEC_W4_AUTH) next = Math.min(next, c.sup_auth_deadline);
        else c.sup_auth_deadline = 0;
      }
    }
    if (this.nameApplies()) next = Math.min(next, this.nameDeadline);
    const loop = this.s.run_loop;
    loop.remove_timer(this.timer);
    if (next === Infinity) return;
    loop.set_timer(this.timer, Math.max(0, next - this.now()));
    loop.add_timer(this.timer);
  }

  private fire(): void {
    const now = this.now();
    // one expiry per pass: what it injects may free records and change the list
    for (const c of this.s.connections.list) {
      if (c.sup_op !== SupOp.NONE && c.sup_deadline <= now && this.applies(c)) {
        this.expire(c);
        return this.arm();
      }
      if (c.sup_auth_deadline !== 0 && c.sup_auth_deadline <= now && c.sec.todo & SEC_W4_AUTH) {
        c.sup_auth_deadline = 0;
        this.s.log.error(
          () =>
            `hci: no Authentication Complete for handle 0x${c.con_handle.toString(16).padStart(4, '0')} in ${HCI_AUTHENTICATION_TIMEOUT_MS} ms`,
        );
        const b = this.scratch;
        const n = this.s.codes.hci_event_authentication_complete_build(
          b,
          0,
          ERROR_CODE_LMP_RESPONSE_TIMEOUT_LL_RESPONSE_TIMEOUT,
          c.con_handle,
        );
        this.x.inject(b, n);
        return this.arm();
      }
    }
    if (this.nameDeadline <= now && this.nameApplies()) this.expireName();
    this.arm();
  }

  private expire(c: HciConnection): void {
    const s = this.s;
    const b = this.scratch;
    const who = bd_addr_to_str(c.address);
    switch (c.sup_op) {
      case SupOp.CREATE:
        s.log.error(() => `hci: Create Connection to ${who} acknowledged but not completed in time, cancelling`);
        c.sup_op = SupOp.CREATE_CANCEL;
        c.sup_deadline = this.now() + HCI_CANCEL_TIMEOUT_MS;
        c.todo |= TODO_CREATE_CONNECTION_CANCEL;
        this.x.run();
        return;
      case SupOp.CREATE_CANCEL: {
        s.log.error(() => `hci: no Connection Complete for ${who} after Create Connection Cancel, reporting Page Timeout`);
        c.sup_op = SupOp.NONE;
        const n = s.codes.hci_event_connection_complete_build(b, 0, ERROR_CODE_PAGE_TIMEOUT, 0, c.address, 1, 0);
        this.x.inject(b, n);
        return;
      }
      case SupOp.LE_CANCEL: {
        s.log.error(() => `hci: no LE Connection Complete for ${who} after LE Create Connection Cancel`);
        c.sup_op = SupOp.NONE;
        const n = s.codes.hci_subevent_le_connection_complete_build(
          b,
          0,
          ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
          0,
          HCI_ROLE_MASTER,
          c.address_type,
          c.address,
          0,
          0,
          0,
          0,
        );
        this.x.inject(b, n);
        return;
      }
      case SupOp.DISCONNECT: {
        const h = c.con_handle;
        s.log.error(
          () => `hci: no Disconnection Complete for handle 0x${h.toString(16).padStart(4, '0')}, link dropped by the host`,
        );
        c.sup_op = SupOp.NONE;
        const n = s.codes.hci_event_disconnection_complete_build(b, 0, 0, h, ERROR_CODE_CONNECTION_TERMINATED_BY_LOCAL_HOST);
        this.x.inject(b, n);
        return;
      }
      default:
        return;
    }
  }

  private expireName(): void {
    const who = bd_addr_to_str(this.nameAddr);
    if (this.nameStep === NameStep.WAIT) {
      this.s.log.error(() => `hci: Remote Name Request for ${who} not completed in time, cancelling`);
      this.nameStep = NameStep.CANCELLED;
      this.nameDeadline = this.now() + HCI_CANCEL_TIMEOUT_MS;
      this.x.queue_command(hci_remote_name_request_cancel, this.nameAddr);
      return;
    }
    this.s.log.error(() => `hci: no Remote Name Request Complete for ${who} after the cancel, reporting Page Timeout`);
    this.nameStep = NameStep.NONE;
    const n = this.s.codes.hci_event_remote_name_request_complete_build(
      this.scratch,
      0,
      ERROR_CODE_PAGE_TIMEOUT,
      this.nameAddr,
      '',
    );
    this.x.inject(this.scratch, n);
  }
}
