/**
 * Fault injection for one controller, all on the run loop's clock:
 * - `fail_command(opcode, status, count)`: the next `count` commands with that opcode fail with
 *   `status` (Command Status or Command Complete, as the command is answered normally);
 * - `swallow_completion(opcode, count)`: the next `count` commands with that opcode (asynchronous
 *   ones: Create Connection, Disconnect, Authentication Requested, Remote Name Request, ...) are
 *   acknowledged with Command Status 0 and then never carried out: no completion event follows;
 * - `drop_next_acl(n)`, `corrupt_next_acl(n)`, `delay_next_acl(ms, n)`: ACL packets this
 *   controller's host sends next are lost on the air (the buffer is still reported completed),
 *   arrive with a flipped byte, or arrive `ms` later (packets behind them wait too);
 * - `acl_loss(drop, corrupt, seed)`: from now on every ACL packet this controller's host sends is
 *   lost with probability `drop` and corrupted with probability `corrupt` (0..1), drawn from a
 *   generator seeded with `seed`: the same seed loses the same packets (0, 0 turns it off);
 * - `stall_completed_packets(true|false)`: hold Number Of Completed Packets back, then release;
 * - `drop_link(handle)`: the radio link is lost: nothing moves, and after the supervision
 *   timeout both sides get Disconnection Complete with Connection Timeout (0x08);
 * - `hardware_error(code)`: send a Hardware Error event now (nothing else changes: the host decides);
 * - `crash(code)`: the controller fails and restarts by itself (a firmware crash, a watchdog): what
 *   HCI Reset puts back happens (its links are lost: each peer's controller ends the link by its
 *   supervision timeout, Disconnection Complete 0x08; this host hears nothing of them), then it
 *   reports Hardware Error `code`;
 * - `set_link_params(handle, { latency_ms, bandwidth_bps })`: change a connection's air timing.
 */
import type { HciCommand } from '../hci/commands.js';
import type { ControllerState } from './controller-state.js';

export interface LinkParams {
  latency_ms?: number;
  bandwidth_bps?: number;
}

/** What Faults needs from the controller's ACL path. */
export interface FaultsPeers {
  /** Report buffers completed meanwhile (after a stall ends). */
  schedule_completed_packets(): void;
  /** Everything HCI Reset does (the controller restarted). */
  restart(): void;
}

export class Faults {
  /** @internal created by VirtualController. */
  constructor(
    private readonly s: ControllerState,
    private readonly x: FaultsPeers,
  ) {}

  fail_command(command: number | HciCommand, status: number, count = 1): void {
    const opcode = typeof command === 'number' ? command : command.opcode;
    if (!Number.isInteger(status) || status < 0 || status > 0xff) throw new RangeError('status must be a byte');
    if (count <= 0) this.s.command_failures.delete(opcode);
    else this.s.command_failures.set(opcode, { status, count });
  }

  swallow_completion(command: number | HciCommand, count = 1): void {
    const opcode = typeof command === 'number' ? command : command.opcode;
    if (count <= 0) this.s.command_swallows.delete(opcode);
    else this.s.command_swallows.set(opcode, count);
  }

  drop_next_acl(n = 1): void {
    this.s.acl_drop += n;
  }
  corrupt_next_acl(n = 1): void {
    this.s.acl_corrupt += n;
  }
  acl_loss(drop: number, corrupt = 0, seed = 1): void {
    const ok = (v: number): boolean => Number.isFinite(v) && v >= 0 && v <= 1;
    if (!ok(drop) || !ok(corrupt) || drop + corrupt > 1) throw new RangeError('loss rates must be in 0..1');
    this.s.acl_loss_drop = drop;
    this.s.acl_loss_corrupt = corrupt;
    this.s.acl_loss_rng = seed >>> 0;
  }
  delay_next_acl(ms: number, n = 1): void {
    for (let i = 0; i < n; i++) this.s.acl_delays.push(ms);
  }

  stall_completed_packets(stall = true): void {
    this.s.nocp_stalled = stall;
    if (!stall) this.x.schedule_completed_packets();
  }

  /** Lose the radio link of `handle`; false when there is no such connection. */
  drop_link(handle: number): boolean {
    const end = this.s.connections.get(handle);
    if (!end) return false;
    end.air.lose();
    return true;
  }

  hardware_error(code = 0x00): void {
    this.s.ev.hardware_error(code);
  }

  crash(code = 0x00): void {
    this.x.restart();
    this.s.ev.hardware_error(code);
  }

  set_link_params(handle: number, params: LinkParams): boolean {
    const end = this.s.connections.get(handle);
    if (!end) return false;
    if (params.latency_ms !== undefined) end.air.latency_ms = Math.max(0, params.latency_ms);
    if (params.bandwidth_bps !== undefined) end.air.bandwidth_bps = Math.max(0, params.bandwidth_bps);
    return true;
  }
}
