/**
 * Incoming LE signalling (CID 0x0005, Core v5.4 Vol 3 Part A 4): one command per C-frame (4),
 * checked, then dispatched. Every request gets exactly one answer, queued on the link
 * (l2cap-le-objects.ts, L2capLeResponseQueue); requests this host does not handle, requests of
 * the wrong length and commands of BR/EDR only get Command Reject "command not understood";
 * a C-frame longer than our MTUsig (23) gets "signaling MTU exceeded"; identifier 0 is invalid
 * and dropped, as are malformed responses.
 *
 * Connection Parameter Update Request (4.20): a peripheral answers it with Command Reject (only
 * the central may be asked); the central accepts parameters inside the range of
 * gap_get_connection_parameter_range (BTstack's policy, gap_connection_parameter_range_included),
 * answers, reports
 * L2CAP_EVENT_CONNECTION_PARAMETER_UPDATE_REQUEST to the event handlers and, when accepted, has
 * GAP issue HCI LE Connection Update. l2cap_set_connection_parameter_update_policy(false) leaves
 * accepting to the application (l2cap_connection_parameter_update_response).
 */
import { little_endian_read_16 } from '../core/bytes.js';
import { ERROR_CODE_SUCCESS, ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER } from '../codes/v1.4.js';
import type { L2capLeLink } from './l2cap-le-objects.js';
import type { L2capLeEvents } from './l2cap-le-events.js';
import {
  LE_CPU_RESULT_ACCEPTED,
  LE_CPU_RESULT_REJECTED,
  LE_REJ_MTU_EXCEEDED,
  LE_REJ_NOT_UNDERSTOOD,
  LE_SIG_COMMAND_REJECT,
  LE_SIG_CONNECTION_PARAMETER_UPDATE_REQUEST,
  LE_SIG_CONNECTION_PARAMETER_UPDATE_RESPONSE,
  LE_SIG_CREDIT_BASED_CONNECTION_REQUEST,
  LE_SIG_CREDIT_BASED_CONNECTION_RESPONSE,
  LE_SIG_CREDIT_BASED_RECONFIGURE_REQUEST,
  LE_SIG_CREDIT_BASED_RECONFIGURE_RESPONSE,
  LE_SIG_DISCONNECTION_REQUEST,
  LE_SIG_DISCONNECTION_RESPONSE,
  LE_SIG_FLOW_CONTROL_CREDIT_IND,
  LE_SIG_LE_CREDIT_BASED_CONNECTION_REQUEST,
  LE_SIG_LE_CREDIT_BASED_CONNECTION_RESPONSE,
  L2CAP_LE_SIGNALING_MTU,
  le_sig_command_reject,
  le_sig_is_request,
  le_sig_write,
} from './l2cap-le-sig.js';
import type { L2capState } from './l2cap-state.js';

/** BTstack's le_connection_parameter_range_t. */
export interface LeConnectionParameterRange {
  le_conn_interval_min: number;
  le_conn_interval_max: number;
  le_conn_latency_min: number;
  le_conn_latency_max: number;
  le_supervision_timeout_min: number;
  le_supervision_timeout_max: number;
}

/** The spec's limits (Vol 6 Part B 4.5.1, 4.5.2): interval 7.5 ms-4 s, latency < 500, timeout 100 ms-32 s. */
export const LE_CONNECTION_PARAMETER_RANGE_DEFAULT: Readonly<LeConnectionParameterRange> = Object.freeze({
  le_conn_interval_min: 6,
  le_conn_interval_max: 3200,
  le_conn_latency_min: 0,
  le_conn_latency_max: 499,
  le_supervision_timeout_min: 10,
  le_supervision_timeout_max: 3200,
});

/** What signalling needs from the credit-based channels and the LE send side. */
export interface L2capLeSignalingPeers {
  /** A command for the credit-based channels (codes 0x06, 0x07, 0x14-0x1A; data at packet[off, off + len)); false: not understood. */
  cbm(link: L2capLeLink, code: number, identifier: number, packet: Uint8Array, off: number, len: number): boolean;
  /** A Command Reject for one of our requests (channel requests). */
  cbmRejected(link: L2capLeLink, identifier: number): void;
  cpuAnswered(link: L2capLeLink, identifier: number, result: number): boolean;
  scheduleRun(): void;
}

/** Exact data length of each request / response this host handles (-1: variable, checked by the handler). */
function expectedLength(code: number): number {
  switch (code) {
    case LE_SIG_DISCONNECTION_REQUEST:
    case LE_SIG_DISCONNECTION_RESPONSE:
    case LE_SIG_FLOW_CONTROL_CREDIT_IND:
      return 4;
    case LE_SIG_CONNECTION_PARAMETER_UPDATE_REQUEST:
      return 8;
    case LE_SIG_CONNECTION_PARAMETER_UPDATE_RESPONSE:
    case LE_SIG_CREDIT_BASED_RECONFIGURE_RESPONSE:
      return 2;
    case LE_SIG_LE_CREDIT_BASED_CONNECTION_REQUEST:
    case LE_SIG_LE_CREDIT_BASED_CONNECTION_RESPONSE:
      return 10;
    case LE_SIG_COMMAND_REJECT:
    case LE_SIG_CREDIT_BASED_CONNECTION_REQUEST:
    case LE_SIG_CREDIT_BASED_CONNECTION_RESPONSE:
    case LE_SIG_CREDIT_BASED_RECONFIGURE_REQUEST:
      return -1;
    default:
      return -2; // not handled
  }
}

export class L2capLeSignaling {
  /** Central: accept or reject a Connection Parameter Update Request by itself (BTstack's behaviour). */
  auto_accept_connection_parameters = true;

  constructor(
    private readonly s: L2capState,
    private readonly ev: L2capLeEvents,
    private readonly x: L2capLeSignalingPeers,
  ) {}

  /** Queue a Command Reject (or anything else written by `write`) as the answer to `identifier`. */
  private answer(link: L2capLeLink, identifier: number, write: (buf: Uint8Array) => number): void {
    const slot = link.responses.slot(identifier);
    if (!slot) return; // owed a Command Reject "not understood"
    const n = write(slot);
    if (n < 0) return;
    link.responses.commit(n);
    this.x.scheduleRun();
  }

  reject(link: L2capLeLink, identifier: number, reason = LE_REJ_NOT_UNDERSTOOD, d1 = 0, d2 = 0): void {
    this.answer(link, identifier, (b) => le_sig_command_reject(b, 0, identifier, reason, d1, d2));
  }

  /** Queue a response (code, identifier, 16-bit values, 16-bit list) to a request. */
  respond(link: L2capLeLink, code: number, identifier: number, values: ArrayLike<number>, extra?: ArrayLike<number>): void {
    this.answer(link, identifier, (b) => le_sig_write(b, 0, code, identifier, values, extra));
  }

  /** A C-frame payload packet[off, off + len) on CID 0x0005 of `link`. */
  handle(link: L2capLeLink, packet: Uint8Array, off: number, len: number): void {
    const s = this.s;
    if (len < 4) {
      // no complete command header: nothing to answer (an identifier alone does not make a request)
      s.log.info(() => `LE signalling: C-frame of ${len} octets dropped`);
      return;
    }
    const code = packet[off]!;
    const id = packet[off + 1]!;
    const cmdLen = little_endian_read_16(packet, off + 2);
    const request = le_sig_is_request(code);
    if (id === 0) {
      s.log.info(() => `LE signalling: command 0x${code.toString(16)} with identifier 0 dropped`);
      return;
    }
    if (len > L2CAP_LE_SIGNALING_MTU) {
      if (request) this.reject(link, id, LE_REJ_MTU_EXCEEDED, L2CAP_LE_SIGNALING_MTU);
      return;
    }
    const want = expectedLength(code);
    if (4 + cmdLen > len || want === -2 || (want >= 0 && cmdLen !== want)) {
      if (request) this.reject(link, id);
      else s.log.info(() => `LE signalling: response 0x${code.toString(16)} malformed or not expected, dropped`);
      return;
    }
    const d = off + 4;
    switch (code) {
      case LE_SIG_COMMAND_REJECT:
        if (!this.x.cpuAnswered(link, id, LE_CPU_RESULT_REJECTED)) this.x.cbmRejected(link, id);
        return;
      case LE_SIG_CONNECTION_PARAMETER_UPDATE_REQUEST:
        this.parameterUpdateRequest(link, id, packet, d);
        return;
      case LE_SIG_CONNECTION_PARAMETER_UPDATE_RESPONSE:
        if (!this.x.cpuAnswered(link, id, little_endian_read_16(packet, d)))
          s.log.info('LE signalling: unexpected Connection Parameter Update Response dropped');
        return;
      default:
        if (!this.x.cbm(link, code, id, packet, d, cmdLen) && request) this.reject(link, id);
    }
  }

  private parameterUpdateRequest(link: L2capLeLink, id: number, packet: Uint8Array, d: number): void {
    if (link.peripheral) {
      this.reject(link, id); // 4.20: only the central is asked
      return;
    }
    const min = little_endian_read_16(packet, d);
    const max = little_endian_read_16(packet, d + 2);
    const latency = little_endian_read_16(packet, d + 4);
    const timeout = little_endian_read_16(packet, d + 6);
    if (this.auto_accept_connection_parameters) {
      const ok = this.acceptable(min, max, latency, timeout);
      this.respond(link, LE_SIG_CONNECTION_PARAMETER_UPDATE_RESPONSE, id, [ok ? LE_CPU_RESULT_ACCEPTED : LE_CPU_RESULT_REJECTED]);
      if (ok) {
        const gap = this.s.hci.gap;
        if (gap.gap_update_connection_parameters)
          gap.gap_update_connection_parameters(link.con_handle, min, max, latency, timeout);
        else
          this.s.log.info('LE connection parameters accepted, but GAP cannot update them (no gap_update_connection_parameters)');
      }
    } else {
      link.cpu_remote_sig_id = id;
    }
    this.ev.connectionParameterUpdateRequest(link.con_handle, min, max, latency, timeout);
  }

  /**
   * BTstack's policy: accept when the parameters lie inside GAP's connection parameter range
   * (gap_connection_parameter_range_included with gap_get_connection_parameter_range; without a GAP
   * that has them, the spec's limits and min <= max).
   */
  acceptable(min: number, max: number, latency: number, timeout: number): boolean {
    const gap = this.s.hci.gap;
    const r = { ...LE_CONNECTION_PARAMETER_RANGE_DEFAULT };
    if (gap.gap_get_connection_parameter_range && gap.gap_connection_parameter_range_included) {
      gap.gap_get_connection_parameter_range(r);
      return gap.gap_connection_parameter_range_included(r, min, max, latency, timeout) !== 0;
    }
    if (min > max || min < r.le_conn_interval_min || max > r.le_conn_interval_max) return false;
    if (latency < r.le_conn_latency_min || latency > r.le_conn_latency_max) return false;
    return timeout >= r.le_supervision_timeout_min && timeout <= r.le_supervision_timeout_max;
  }

  /** The application's answer to a request it was left (auto accept off). */
  applicationAnswer(handle: number, accept: boolean): number {
    const link = this.s.le.linkForHandle(handle);
    if (!link || link.cpu_remote_sig_id === 0) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    const id = link.cpu_remote_sig_id;
    link.cpu_remote_sig_id = 0;
    this.respond(link, LE_SIG_CONNECTION_PARAMETER_UPDATE_RESPONSE, id, [
      accept ? LE_CPU_RESULT_ACCEPTED : LE_CPU_RESULT_REJECTED,
    ]);
    return ERROR_CODE_SUCCESS;
  }
}
