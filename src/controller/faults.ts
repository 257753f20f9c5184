/**
 * Fault injection for one controller, all on the run loop's clock:
 * - `fail_command(opcode, status, count)`: the next `count` commands with that opcode fail with
 *   `status` (Command Status or Command Complete, as the command is answered normally);
 * - `drop_next_acl(n)`, `corrupt_next_acl(n)`, `delay_next_acl(ms, n)`: ACL packets this
 *   controller's host sends next are lost on the air (the buffer is still reported completed),
 *   arrive with a flipped byte, or arrive `ms` later (packets behind them wait too);
 * - `stall_completed_packets(true|false)`: hold Number Of Completed Packets back, then release;
 * - `drop_link(handle)`: the radio link is lost: nothing moves, and after the supervision
 *   timeout both sides get Disconnection Complete with Connection Timeout (0x08);
 * - `hardware_error(code)`: send a Hardware Error event now;
 * - `set_link_params(handle, { latency_ms, bandwidth_bps })`: change a connection's air timing.
 */
import type { HciCommand } from '../hci/commands.js';
import type { Slot } from './air.js';
import type { VirtualController } from './controller.js';

export interface LinkParams {
  latency_ms?: number;
  bandwidth_bps?: number;
}

export class Faults {
  private readonly failures = new Map<number, { status: number; count: number }>();
  private drop = 0;
  private corrupt = 0;
  private delays: number[] = [];
  nocp_stalled = false;

  constructor(private readonly c: VirtualController) {}

  fail_command(command: number | HciCommand, status: number, count = 1): void {
    const opcode = typeof command === 'number' ? command : command.opcode;
    if (!Number.isInteger(status) || status < 0 || status > 0xff) throw new RangeError('status must be a byte');
    if (count <= 0) this.failures.delete(opcode);
    else this.failures.set(opcode, { status, count });
  }

  /** @internal the status to fail this opcode with now, or -1. */
  take_command_failure(opcode: number): number {
    const f = this.failures.get(opcode);
    if (!f) return -1;
    if (--f.count <= 0) this.failures.delete(opcode);
    return f.status;
  }

  drop_next_acl(n = 1): void {
    this.drop += n;
  }
  corrupt_next_acl(n = 1): void {
    this.corrupt += n;
  }
  delay_next_acl(ms: number, n = 1): void {
    for (let i = 0; i < n; i++) this.delays.push(ms);
  }

  /** @internal mark an outgoing ACL slot; returns the extra delay in ms. */
  take_acl_fault(slot: Slot): number {
    if (this.drop > 0) {
      this.drop--;
      slot.drop = true;
    } else if (this.corrupt > 0) {
      this.corrupt--;
      slot.corrupt = true;
    }
    return this.delays.length ? this.delays.shift()! : 0;
  }

  stall_completed_packets(stall = true): void {
    this.nocp_stalled = stall;
    if (!stall) this.c.schedule_completed_packets();
  }

  /** Lose the radio link of `handle`; false when there is no such connection. */
  drop_link(handle: number): boolean {
    const end = this.c.connections.get(handle);
    if (!end) return false;
    end.air.lose();
    return true;
  }

  hardware_error(code = 0x00): void {
    this.c.ev.hardware_error(code);
  }

  set_link_params(handle: number, params: LinkParams): boolean {
    const end = this.c.connections.get(handle);
    if (!end) return false;
    if (params.latency_ms !== undefined) end.air.latency_ms = Math.max(0, params.latency_ms);
    if (params.bandwidth_bps !== undefined) end.air.bandwidth_bps = Math.max(0, params.bandwidth_bps);
    return true;
  }
}
