/**
 * The Security Manager's PDU output, SMP timer and the end of a pairing (component of sm.ts).
 *
 * Sending: `send(c, pdu)` queues one PDU (at most SM_OUT_MAX per connection, a full queue drops
 * with a log line) and `run(c)` writes them with l2cap_send_connectionless while the fixed channel
 * can send (0x0006 on LE, 0x0007 on BR/EDR: SmConnection.cid), else asks for one L2CAP_EVENT_CAN_SEND_NOW. Every PDU queued during a pairing restarts
 * the 30 s SMP timer (Vol 3 Part H 3.4); when it fires, pairing ends with ERROR_CODE_CONNECTION_TIMEOUT
 * and no further SMP traffic is sent or accepted on that link until it reconnects.
 *
 * `fail(c, reason)` sends Pairing Failed and ends the pairing with ERROR_CODE_AUTHENTICATION_FAILURE
 * + reason; `complete(c, status, reason)` reports SM_EVENT_PAIRING_COMPLETE (when a pairing was
 * started) and forgets the setup: nothing of a failed pairing is stored. A failed check of the
 * peer's proof (confirm value 0x04, DHKey check value 0x0B; sm-pairing.ts `refused_proof`) makes
 * that peer wait before it may pair again (2.3.6 repeated attempts: 2 s, doubled per failure up to
 * 64 s; SmState.attempt*). An invalid public key ends the pairing without that wait.
 */
import { ERROR_CODE_AUTHENTICATION_FAILURE, ERROR_CODE_CONNECTION_TIMEOUT } from '../codes/v1.4.js';
import type { Timer, TimerHandler } from '../core/run-loop.js';
import { sm_build_pairing_failed, sm_code_name } from './sm-pdu.js';
import type { SmEvents } from './sm-events.js';
import { SM_OUT_MAX, SM_TIMEOUT_MS, type SmConnection, type SmState } from './sm-state.js';

export class SmIo {
  constructor(
    private readonly s: SmState,
    private readonly ev: SmEvents,
  ) {}

  send(c: SmConnection, pdu: Uint8Array): void {
    if (c.phase === 'TIMEOUT') return;
    if (c.out.length >= SM_OUT_MAX) {
      this.s.log.error(`sm 0x${c.con_handle.toString(16)}: output queue full, ${sm_code_name(pdu[0]!)} dropped`);
      return;
    }
    c.out.push(pdu);
    if (c.pairing) this.restart_timer(c);
    this.run(c);
  }

  run(c: SmConnection): void {
    const l2cap = this.s.l2cap;
    while (c.out.length > 0) {
      if (!l2cap.l2cap_can_send_fixed_channel_packet_now(c.con_handle, c.cid)) {
        l2cap.l2cap_request_can_send_fix_channel_now_event(c.con_handle, c.cid);
        return;
      }
      const pdu = c.out[0]!;
      const st = l2cap.l2cap_send_connectionless(c.con_handle, c.cid, pdu, pdu.length);
      if (st !== 0) {
        l2cap.l2cap_request_can_send_fix_channel_now_event(c.con_handle, c.cid);
        return;
      }
      c.out.shift();
      this.s.log.debug(() => `sm 0x${c.con_handle.toString(16).padStart(4, '0')}: sent ${sm_code_name(pdu[0]!)}`);
    }
  }

  restart_timer(c: SmConnection): void {
    const rl = this.s.run_loop;
    rl.remove_timer(c.timer);
    c.timer.context = c;
    // one bound method for every connection (the connection is the timer's context), not a closure per restart
    c.timer.handler = this.timerFired ??= this.onTimer.bind(this);
    rl.set_timer(c.timer, SM_TIMEOUT_MS);
    rl.add_timer(c.timer);
  }

  stop_timer(c: SmConnection): void {
    this.s.run_loop.remove_timer(c.timer);
  }

  private timerFired: TimerHandler | null = null;

  private onTimer(t: Timer): void {
    this.timeout(t.context as SmConnection);
  }

  private timeout(c: SmConnection): void {
    if (!this.s.connections.includes(c) || !c.pairing) return;
    this.s.log.info(`sm 0x${c.con_handle.toString(16)}: SMP timeout, no more SMP on this link`);
    c.out.length = 0;
    this.complete(c, ERROR_CODE_CONNECTION_TIMEOUT, 0);
    this.s.setPhase(c, 'TIMEOUT', 'SMP timeout');
  }

  /** Send Pairing Failed (reason) and end the pairing. */
  fail(c: SmConnection, reason: number): void {
    this.s.log.info(`sm 0x${c.con_handle.toString(16)}: pairing failed, reason 0x${reason.toString(16).padStart(2, '0')}`);
    this.send(c, sm_build_pairing_failed(reason));
    this.complete(c, ERROR_CODE_AUTHENTICATION_FAILURE, reason);
  }

  /** End the pairing (if one runs): PAIRING_COMPLETE, timer stopped, setup forgotten, phase IDLE. */
  complete(c: SmConnection, status: number, reason: number): void {
    this.stop_timer(c);
    const was = c.pairing;
    c.pairing = false;
    c.reset_setup();
    this.s.setPhase(c, 'IDLE', status === 0 ? 'pairing complete' : `pairing ended 0x${status.toString(16)}`);
    if (was && status === 0) this.s.attemptSucceeded(c);
    if (was) this.ev.pairing_complete(c, status, reason);
  }
}
