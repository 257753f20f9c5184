/**
 * What the programs around the stack (the `bthost` CLI, the example main) do when the controller
 * side fails under them, in one place:
 *
 * - a fault is named in one line: an H4 framing error (`H4 framing error on WHERE: MESSAGE`), a
 *   Hardware Error (`Hardware Error 0xNN from the controller on WHERE`), the serial port lost
 *   (`port lost: MESSAGE`); the caller adds what follows (`; the stack restarts`, ...);
 * - after a framing error or a Hardware Error the stack powers itself on again (src/hci); after a
 *   lost port, with `reopen`, the watcher powers on again after 250 ms, then 0.5, 1, 2 and every
 *   4 s while the port cannot be opened (BTSTACK_EVENT_POWERON_FAILED), until it can;
 * - `on_down(cause)` when the stack left WORKING without being asked to (the caller decides:
 *   stop with exit code 1 and the cause, or ride through it), `on_up()` when it is WORKING again.
 *
 * The watcher sees the transport's events through `transport_event` (the caller wraps the
 * transport) and every HCI event through `event`; it only reads, except for the power-on retries.
 */
import { Timer, type RunLoop } from '../src/core/run-loop.js';
import {
  BTSTACK_EVENT_POWERON_FAILED,
  BTSTACK_EVENT_STATE,
  HCI_EVENT_HARDWARE_ERROR,
  HCI_POWER_ON,
  HCI_STATE_OFF,
  HCI_STATE_WORKING,
} from '../src/codes/v1.4.js';
import type { TransportEvent } from '../src/hci/transport.js';
import type { Hci } from '../src/hci/hci.js';

/** Delays between attempts to open a lost port again (ms); the last one repeats. */
export const REOPEN_BACKOFF_MS: readonly number[] = [250, 500, 1000, 2000, 4000];

export interface FaultWatchOptions {
  /** 'the virtual controller', '/dev/ttyACM0 (115200 baud, flow control on)': for the messages. */
  where: string;
  /** Power on again (with backoff) after the transport failed (a serial port unplugged). */
  reopen: boolean;
  /** The stack left WORKING on its own: `cause` is the one line naming why. */
  on_down(cause: string): void;
  /** The stack is WORKING again after a fault. */
  on_up(): void;
  /** A retry is scheduled: `attempt` (1, 2, ...) in `ms`. */
  on_retry?(attempt: number, ms: number): void;
}

export class FaultWatch {
  /** The cause of the last fault (null: none since the stack was last WORKING). */
  cause: string | null = null;
  /** Number of faults seen since start. */
  faults = 0;
  private portLost = false;
  private down = false;
  private attempt = 0;
  private active = true;
  private readonly retryTimer = new Timer(() => this.retry());

  constructor(
    private readonly hci: Hci,
    private readonly run_loop: RunLoop,
    private readonly o: FaultWatchOptions,
  ) {}

  /** Whether the current fault is a lost port (else the stack restarts by itself). */
  get port_lost(): boolean {
    return this.portLost;
  }

  /** Whether the stack is between a fault and WORKING again. */
  get is_down(): boolean {
    return this.down;
  }

  /** Stop watching (the program is ending): no more retries, no callbacks. */
  stop(): void {
    this.active = false;
    this.run_loop.remove_timer(this.retryTimer);
  }

  /** The framing-error callback (hci_set_framing_error_callback) calls this first. */
  framing_error(message: string): void {
    this.note(`H4 framing error on ${this.o.where}: ${message}`);
  }

  /** Every transport event, before HCI sees it. */
  transport_event(ev: TransportEvent): void {
    if (ev.type === 'failed') {
      this.portLost = true;
      this.note(`port lost: ${ev.error}`);
    }
  }

  /** Every HCI event the stack reports (BTstack events too). */
  event(packet: Uint8Array): void {
    if (!this.active) return;
    switch (packet[0]) {
      case HCI_EVENT_HARDWARE_ERROR:
        this.note(`Hardware Error 0x${(packet[2] ?? 0).toString(16).padStart(2, '0')} from the controller on ${this.o.where}`);
        return;
      case BTSTACK_EVENT_STATE:
        if (packet[2] === HCI_STATE_WORKING) {
          this.attempt = 0;
          this.portLost = false;
          if (this.down) {
            this.down = false;
            this.cause = null;
            this.o.on_up();
          }
        } else if (packet[2] === HCI_STATE_OFF && this.cause !== null && !this.down) {
          this.down = true;
          this.o.on_down(this.cause);
          if (this.active && this.portLost && this.o.reopen) this.schedule();
        }
        return;
      case BTSTACK_EVENT_POWERON_FAILED:
        if (this.down && this.portLost && this.o.reopen) this.schedule();
        return;
      default:
        return;
    }
  }

  private note(cause: string): void {
    if (!this.active || this.down) return;
    if (this.cause === null) this.faults++;
    this.cause ??= cause;
  }

  private schedule(): void {
    if (!this.active) return;
    const ms = REOPEN_BACKOFF_MS[Math.min(this.attempt, REOPEN_BACKOFF_MS.length - 1)]!;
    this.attempt++;
    this.o.on_retry?.(this.attempt, ms);
    this.run_loop.remove_timer(this.retryTimer);
    this.run_loop.set_timer(this.retryTimer, ms);
    this.run_loop.add_timer(this.retryTimer);
  }

  private retry(): void {
    if (!this.active || !this.down) return;
    if (this.hci.hci_get_state() === HCI_STATE_OFF) this.hci.hci_power_control(HCI_POWER_ON);
  }
}
