/**
 * Security levels of classic channels, as BTstack's l2cap.c enforces them (levels 0-4 of
 * gap_security_level_t; GAP security mode 4, Vol 3 Part C 5.2.2):
 * - the level a channel needs: its service's own level (0 for an outgoing channel), raised to
 *   the mode-4 minimum (gap_get_security_level) unless the PSM is SDP (0x0001), which mode 4
 *   lets run at level 0; in mode 2 only the service's own level counts;
 * - incoming: when the link is below it, the channel waits in WAIT_INCOMING_SECURITY_LEVEL_UPDATE,
 *   answers "pending, authentication pending" (Vol 3 Part A, 4.3) at once and asks HCI for the
 *   level (gap_request_security_level); GAP_EVENT_SECURITY_LEVEL then offers it to the
 *   application (sufficient) or refuses it with result 0x0003 "security block" (no event: the
 *   application never saw it);
 * - outgoing: once the link is up and below the level, the channel waits in
 *   WAIT_OUTGOING_SECURITY_LEVEL_UPDATE before its information exchange and Connection Request;
 *   not reached: L2CAP_EVENT_CHANNEL_OPENED with L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY.
 * HCI answers every request with exactly one GAP_EVENT_SECURITY_LEVEL; the event judges every
 * channel waiting on that link (as BTstack). A channel left without an answer for ERTX (120 s,
 * the remote's own limit after "pending") ends as if the level had not been reached.
 */
import type { Timer } from '../core/run-loop.js';
import {
  BLUETOOTH_PSM_SDP,
  GAP_SECURITY_MODE_4,
  L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY,
  L2CAP_ERTX_TIMEOUT_MS,
  L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE,
  L2CAP_STATE_WAIT_OUTGOING_SECURITY_LEVEL_UPDATE,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE,
} from '../codes/v1.4.js';
import { L2CAP_CONNECTION_RESULT_SECURITY_BLOCK } from './signaling.js';
import { TODO_SEND_CONN_RSP_PENDING, type L2capChannel, type L2capLink } from './l2cap-objects.js';
import type { L2capState } from './l2cap-state.js';

/** What the security checks need from the channel lifecycle. */
export interface L2capSecurityPeers {
  setState(ch: L2capChannel, to: number, why: string): void;
  finalize(ch: L2capChannel, status: number, why: string): void;
  /** An incoming channel with the level it needs: offer it to the application. */
  offerIncoming(ch: L2capChannel): void;
  /** First state of an outgoing channel on `link` once its security is settled. */
  outgoingReadyState(link: L2capLink): number;
  run(): void;
}

export class L2capSecurity {
  constructor(
    private readonly s: L2capState,
    private readonly x: L2capSecurityPeers,
  ) {}

  /** The level a channel to / from `psm` needs, given its service's own level (0 for outgoing). */
  requiredLevel(psm: number, service_level: number): number {
    const gap = this.s.hci.gap;
    if (psm === BLUETOOTH_PSM_SDP || gap.gap_get_security_mode() !== GAP_SECURITY_MODE_4) return service_level;
    return Math.max(service_level, gap.gap_get_security_level());
  }

  /** True when the channel's link is below the level the channel needs. */
  needsMore(ch: L2capChannel): boolean {
    return ch.required_security_level > this.s.hci.gap.gap_security_level(ch.con_handle);
  }

  /**
   * A new incoming channel (in the channel list, on its link): offered to the application at
   * once when the link's level suffices, otherwise "pending" and a security request.
   */
  incoming(ch: L2capChannel): void {
    if (!this.needsMore(ch)) {
      this.x.offerIncoming(ch);
      return;
    }
    const level = ch.required_security_level;
    this.x.setState(ch, L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE, `security level ${level} needed`);
    ch.todo |= TODO_SEND_CONN_RSP_PENDING;
    this.startGuard(ch);
    this.s.hci.gap.gap_request_security_level(ch.con_handle, level);
  }

  /**
   * An outgoing channel whose link is up (in the channel list): the state it starts in, either
   * WAIT_OUTGOING_SECURITY_LEVEL_UPDATE (call request() once it is set) or the usual next step.
   */
  outgoingState(ch: L2capChannel, link: L2capLink): number {
    return this.needsMore(ch) ? L2CAP_STATE_WAIT_OUTGOING_SECURITY_LEVEL_UPDATE : this.x.outgoingReadyState(link);
  }

  /** Ask HCI for the level of an outgoing channel that waits for it. */
  request(ch: L2capChannel): void {
    if (ch.state !== L2CAP_STATE_WAIT_OUTGOING_SECURITY_LEVEL_UPDATE) return;
    this.startGuard(ch);
    this.s.hci.gap.gap_request_security_level(ch.con_handle, ch.required_security_level);
  }

  /** GAP_EVENT_SECURITY_LEVEL: the link `handle` is at `level` now; every channel waiting on it goes on or ends. */
  onSecurityLevel(handle: number, level: number): void {
    const s = this.s;
    for (const c of s.channels) {
      if (c.con_handle !== handle) continue;
      if (c.state === L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE) {
        s.run_loop.remove_timer(c.timer);
        c.todo &= ~TODO_SEND_CONN_RSP_PENDING;
        if (level >= c.required_security_level) this.x.offerIncoming(c);
        else this.refuseIncoming(c, `security level ${level} < ${c.required_security_level}`);
      } else if (c.state === L2CAP_STATE_WAIT_OUTGOING_SECURITY_LEVEL_UPDATE) {
        s.run_loop.remove_timer(c.timer);
        const link = s.linkForHandle(handle);
        if (level >= c.required_security_level && link) {
          this.x.setState(c, this.x.outgoingReadyState(link), `security level ${level} reached`);
        } else {
          this.x.finalize(
            c,
            L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY,
            `security level ${level} < ${c.required_security_level}`,
          );
        }
      }
    }
  }

  private refuseIncoming(c: L2capChannel, why: string): void {
    c.refuse_result = L2CAP_CONNECTION_RESULT_SECURITY_BLOCK;
    this.x.setState(c, L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE, why);
  }

  private startGuard(ch: L2capChannel): void {
    const rl = this.s.run_loop;
    rl.remove_timer(ch.timer);
    ch.timer.handler = this.#onGuardTimeout ??= this.onGuardTimeout.bind(this);
    rl.set_timer(ch.timer, L2CAP_ERTX_TIMEOUT_MS);
    rl.add_timer(ch.timer);
  }

  /** onGuardTimeout bound to this component, made the first time it is handed out. */
  #onGuardTimeout: ((t: Timer) => void) | null = null;

  /** No GAP_EVENT_SECURITY_LEVEL for ERTX: the level counts as not reached. */
  private onGuardTimeout(t: Timer): void {
    const ch = t.context as L2capChannel;
    if (!this.s.channelPool.owns(ch)) return;
    if (ch.state === L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE) {
      ch.todo &= ~TODO_SEND_CONN_RSP_PENDING;
      this.refuseIncoming(ch, 'no security level answer');
    } else if (ch.state === L2CAP_STATE_WAIT_OUTGOING_SECURITY_LEVEL_UPDATE) {
      this.x.finalize(ch, L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY, 'no security level answer');
    } else return;
    this.x.run();
  }
}
