/**
 * The HCI power state machine (BTstack's hci_power_control and its halting / sleeping paths):
 *
 *   OFF -> INITIALIZING (transport opens, init sequence) -> WORKING
 *   WORKING -> HALTING (every link disconnected, or HCI_HALTING_TIMEOUT_MS) -> OFF
 *   WORKING -> FALLING_ASLEEP -> SLEEPING (transport stays open) -> INITIALIZING | OFF
 *
 * Every change goes through set_state(), which logs `hci: OFF -> INITIALIZING (why)` at debug
 * level and reports BTSTACK_EVENT_STATE. Hardware errors and transport trouble take the stack to
 * OFF and (without an app callback) power it on again.
 */
import { Timer } from '../core/run-loop.js';
import {
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_CONNECTION_TERMINATED_BY_LOCAL_HOST,
  ERROR_CODE_SUCCESS,
  HCI_POWER_OFF,
  HCI_POWER_ON,
  HCI_POWER_SLEEP,
  HCI_STATE_FALLING_ASLEEP,
  HCI_STATE_HALTING,
  HCI_STATE_INITIALIZING,
  HCI_STATE_OFF,
  HCI_STATE_SLEEPING,
  HCI_STATE_WORKING,
} from '../codes/v1.4.js';
import type { HciConnection } from './hci-connection.js';
import { HCI_POWER_STATE_NAMES, type HciState } from './hci-state.js';

/** How long HALTING waits for Disconnection Complete events before closing anyway. */
export const HCI_HALTING_TIMEOUT_MS = 2000;

/** What the power machine needs from its siblings. */
export interface HciPowerPeers {
  open_transport(): void;
  close_transport(): void;
  init_start(): void;
  init_stop(): void;
  run(): void;
  run_again(): void;
  /** The controller is being reset: command credits, ACL buffers, host flow control, GAP's controller state. */
  reset_controller_state(): void;
  drop_queued_commands(): void;
  /** Return a link's ACL credits and buffers (teardown). */
  release_connection(conn: HciConnection): void;
  /** Mark every link for disconnection (HALTING / FALLING_ASLEEP). */
  halt_connections(): void;
  state_event(state: number): void;
  poweron_failed_event(): void;
  disconnection_complete_event(handle: number, reason: number): void;
  nr_connections_changed_event(): void;
}

function name(state: number): string {
  return HCI_POWER_STATE_NAMES[state] ?? `0x${state.toString(16)}`;
}

export class HciPower {
  /** Power on again once the stack reached OFF (HALTING interrupted by ON, hardware error). */
  private powerOnWhenOff = false;
  /** FALLING_ASLEEP ends in SLEEPING instead of OFF. */
  private haltToSleep = false;
  private readonly haltTimer: Timer;

  constructor(
    private readonly s: HciState,
    private readonly x: HciPowerPeers,
  ) {
    this.haltTimer = new Timer(() => this.finish_halting());
  }

  /**
   * The one place the power state changes: sets it, logs the transition at debug level and (unless
   * `emit` is false) reports BTSTACK_EVENT_STATE, also when the state stays the same.
   */
  set_state(state: number, why: string, emit = true): void {
    const from = this.s.power;
    this.s.power = state;
    if (from !== state) this.s.log.debug(() => `hci: ${name(from)} -> ${name(state)} (${why})`);
    if (emit) this.x.state_event(state);
  }

  /** hci_power_control after its argument check. */
  power_control(power_mode: number): number {
    switch (this.s.power) {
      case HCI_STATE_OFF:
        if (power_mode === HCI_POWER_ON) return this.powerOn();
        return ERROR_CODE_SUCCESS;
      case HCI_STATE_INITIALIZING:
        if (power_mode === HCI_POWER_OFF) this.powerOffNow('power off');
        return ERROR_CODE_SUCCESS;
      case HCI_STATE_WORKING:
        if (power_mode === HCI_POWER_OFF) this.startHalting(false);
        else if (power_mode === HCI_POWER_SLEEP) this.startHalting(true);
        return ERROR_CODE_SUCCESS;
      case HCI_STATE_HALTING:
        if (power_mode === HCI_POWER_ON) this.powerOnWhenOff = true;
        return ERROR_CODE_SUCCESS;
      case HCI_STATE_FALLING_ASLEEP:
        if (power_mode === HCI_POWER_OFF) {
          this.haltToSleep = false;
          this.set_state(HCI_STATE_HALTING, 'power off while falling asleep');
        } else if (power_mode === HCI_POWER_ON) this.powerOnWhenOff = true;
        return ERROR_CODE_SUCCESS;
      case HCI_STATE_SLEEPING:
        if (power_mode === HCI_POWER_OFF) this.powerOffNow('power off');
        else if (power_mode === HCI_POWER_ON) {
          this.set_state(HCI_STATE_INITIALIZING, 'power on from sleep');
          this.start_init();
        }
        return ERROR_CODE_SUCCESS;
      default:
        return ERROR_CODE_COMMAND_DISALLOWED;
    }
  }

  /** hci_close: power off now. */
  close(): void {
    if (this.s.power !== HCI_STATE_OFF) this.powerOffNow('hci_close');
  }

  /** The transport is open while INITIALIZING: reset what the controller knew, run the init sequence. */
  start_init(): void {
    this.s.poweron_failure = '';
    this.x.reset_controller_state();
    this.x.init_start();
    this.x.run();
  }

  /** The init sequence is done. */
  init_done(): void {
    this.x.init_stop();
    this.set_state(HCI_STATE_WORKING, 'init done');
    this.x.run_again();
  }

  /** BTSTACK_EVENT_POWERON_FAILED, then OFF (the transport could not be opened). */
  transport_open_failed(): void {
    this.x.init_stop();
    this.set_state(HCI_STATE_OFF, 'transport failed to open', false);
    this.x.poweron_failed_event();
    if (this.s.power === HCI_STATE_OFF) this.set_state(HCI_STATE_OFF, 'transport failed to open');
  }

  /**
   * The init sequence failed (an answer power-on depends on was an error or malformed, or the
   * controller stayed silent): logged, kept in `poweron_failure`, BTSTACK_EVENT_POWERON_FAILED, OFF.
   */
  init_failed(why: string): void {
    this.s.log.error(() => `power on failed: ${why}`);
    this.s.poweron_failure = why;
    this.powerOnWhenOff = false;
    this.x.poweron_failed_event();
    this.powerOffNow(`power on failed: ${why}`);
  }

  transport_failed(): void {
    this.powerOffNow('transport failed');
  }

  /** Controller or transport trouble: everything to OFF, then power on again. */
  restart(why: string): void {
    this.powerOnWhenOff = true;
    this.powerOffNow(why);
  }

  /**
   * Hardware Error: without a callback power off and on again (as BTstack); with one, OFF first and
   * then the callback (BTstack only calls the callback; see hci_set_hardware_error_callback).
   */
  hardware_error(code: number): void {
    this.s.log.error(() => `Hardware Error 0x${code.toString(16).padStart(2, '0')}`);
    if (this.s.power === HCI_STATE_OFF) return;
    const cb = this.s.hardware_error_callback;
    if (cb) {
      this.powerOffNow('hardware error');
      cb(code);
    } else {
      this.restart('hardware error');
    }
  }

  /** Every link is gone (or the halting timeout fired): OFF, or SLEEPING with the transport open. */
  finish_halting(): void {
    this.s.run_loop.remove_timer(this.haltTimer);
    const st = this.s.power;
    if (st !== HCI_STATE_HALTING && st !== HCI_STATE_FALLING_ASLEEP) return;
    if (this.haltToSleep && st === HCI_STATE_FALLING_ASLEEP) {
      this.discardConnections();
      this.x.drop_queued_commands();
      this.set_state(HCI_STATE_SLEEPING, 'links closed');
      if (this.powerOnWhenOff) {
        this.powerOnWhenOff = false;
        this.power_control(HCI_POWER_ON);
      }
      return;
    }
    this.powerOffNow('links closed');
  }

  private powerOn(): number {
    const s = this.s;
    if (!s.transport || s.closed) return ERROR_CODE_COMMAND_DISALLOWED;
    this.powerOnWhenOff = false;
    s.chipset?.init?.(s.transport_config);
    this.set_state(HCI_STATE_INITIALIZING, 'power on');
    if (s.power !== HCI_STATE_INITIALIZING) return ERROR_CODE_SUCCESS; // a handler turned it off again
    this.x.open_transport();
    return ERROR_CODE_SUCCESS;
  }

  /** Tear down connections, queues and state; close the transport; emit OFF. */
  private powerOffNow(why: string): void {
    const s = this.s;
    s.run_loop.remove_timer(this.haltTimer);
    this.x.init_stop();
    this.discardConnections();
    this.x.drop_queued_commands();
    s.pending_rejects.length = 0;
    s.pending_disconnects.length = 0;
    this.x.reset_controller_state();
    this.x.close_transport();
    this.set_state(HCI_STATE_OFF, why);
    if (this.powerOnWhenOff && s.power === HCI_STATE_OFF) {
      this.powerOnWhenOff = false;
      this.powerOn();
    }
  }

  /**
   * Free every connection, as BTstack's hci_discard_connections: each gets a synthesized
   * Disconnection Complete (reason Connection Terminated By Local Host) so upper layers close
   * their channels, then BTSTACK_EVENT_NR_CONNECTIONS_CHANGED.
   */
  private discardConnections(): void {
    const conns = this.s.connections;
    for (const conn of conns.list) {
      this.x.release_connection(conn);
      const handle = conn.con_handle;
      if (handle !== 0xffff) this.x.disconnection_complete_event(handle, ERROR_CODE_CONNECTION_TERMINATED_BY_LOCAL_HOST);
      if (conns.list.includes(conn)) conns.free(conn);
      this.x.nr_connections_changed_event();
    }
  }

  private startHalting(toSleep: boolean): void {
    this.haltToSleep = toSleep;
    this.set_state(toSleep ? HCI_STATE_FALLING_ASLEEP : HCI_STATE_HALTING, toSleep ? 'power sleep' : 'power off');
    if (this.s.power !== HCI_STATE_HALTING && this.s.power !== HCI_STATE_FALLING_ASLEEP) return;
    this.x.halt_connections();
    this.s.run_loop.set_timer(this.haltTimer, HCI_HALTING_TIMEOUT_MS);
    this.s.run_loop.add_timer(this.haltTimer);
    this.x.run();
  }
}
