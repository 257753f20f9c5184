/**
 * HCI commands from the host (Vol 4 Part E 4.4, 5.4.1): decoded with the shared templates of
 * src/hci/commands.ts and handed to the component that implements them (each component declares
 * its commands in a static table); answered with Command Complete or Command Status.
 *
 * `ControllerReply` writes the answers (the components' `CommandReply`); `ControllerCommands`
 * takes a command packet, applies injected failures, checks the parameters and dispatches.
 */
import { ControllerBcm } from './controller-bcm.js';
import { little_endian_read_16, reverse_bd_addr } from '../core/bytes.js';
import {
  HCI_COMMANDS,
  hci_format_decode,
  hci_format_encode,
  hci_format_size,
  type HciArg,
  type HciCommand,
} from '../hci/commands.js';
import * as C from './codes.js';
import type { ControllerState } from './controller-state.js';

/** A command handler of component T: decoded arguments, and the command's template. */
export type CommandHandler<T> = (x: T, args: HciArg[], cmd: HciCommand) => void;
/** The commands a component implements. */
export type CommandTable<T> = ReadonlyArray<readonly [HciCommand, CommandHandler<T>]>;
/** Where a command goes: the handler, and the place of its component in the facade's list. */
export interface CommandRoute {
  readonly slot: number;
  readonly handler: CommandHandler<never>;
}

/**
 * Opcode -> route for the components' tables in dispatch order (table i is slot i). Built once per
 * process: a controller holds only its list of components, no handler bound per controller.
 */
export function command_routes(tables: ReadonlyArray<CommandTable<never>>): ReadonlyMap<number, CommandRoute> {
  const routes = new Map<number, CommandRoute>();
  tables.forEach((table, slot) => {
    for (const [cmd, handler] of table) routes.set(cmd.opcode, { slot, handler });
  });
  return routes;
}

/** How a component answers the command it handles. */
export interface CommandReply {
  /** Command Complete with return parameters per `cmd.ret` (the first is the status). */
  complete(cmd: HciCommand, ...ret: HciArg[]): void;
  /** Command Status for an asynchronous command. */
  status(cmd: HciCommand, status: number): void;
  /** Reject the command with `status`, as controllers answer that command. */
  fail(cmd: HciCommand, status: number): void;
}

const HOST_NUMBER_OF_COMPLETED_PACKETS = 0x0c35;

export class ControllerReply implements CommandReply {
  constructor(private readonly s: ControllerState) {}

  complete(cmd: HciCommand, ...ret: HciArg[]): void {
    const ev = this.s.ev;
    const fmt = cmd.ret ?? '1';
    let len = hci_format_size(fmt);
    if (len < 0) {
      const tail = ret[ret.length - 1];
      len = hci_format_size(fmt.slice(0, -1)) + (tail instanceof Uint8Array ? tail.length : 0);
    }
    const off = ev.command_complete(cmd.opcode, len);
    const n = hci_format_encode(ev.buffer, off, fmt, ret);
    if (n !== len) {
      // a bug in a handler: answer with the status alone rather than garbage
      ev.buffer.fill(0, off, off + len);
      ev.buffer[off] = typeof ret[0] === 'number' ? ret[0] : C.ERROR_CODE_HARDWARE_FAILURE;
    }
  }

  status(cmd: HciCommand, status: number): void {
    this.s.ev.command_status(status, cmd.opcode);
  }

  /**
   * Command Status for asynchronous commands; otherwise Command Complete with all return
   * parameters, the handle or address echoed from the command and the rest zero.
   */
  fail(cmd: HciCommand, status: number): void {
    if (cmd.opcode === HOST_NUMBER_OF_COMPLETED_PACKETS) {
      // answered only when wrong, with Command Complete (Vol 4 Part E 7.3.40)
      this.complete(cmd, status);
      return;
    }
    if (cmd.async || !cmd.ret) {
      this.status(cmd, status);
      return;
    }
    const p = this.s.cur_params;
    const handle = cmd.format.startsWith('H') && p.length >= 2 ? little_endian_read_16(p, 0) : 0;
    const addr = cmd.format.startsWith('B') && p.length >= 6 ? reverse_bd_addr(p, 0) : new Uint8Array(6);
    const args: HciArg[] = [status];
    for (const ch of cmd.ret.slice(1)) {
      if (ch === 'V') args.push(Uint8Array.of(0));
      else if (ch === 'H') args.push(handle);
      else if (ch === 'B') args.push(addr);
      else if (ch === '1' || ch === '2' || ch === '3' || ch === '4') args.push(0);
      else args.push(new Uint8Array(0));
    }
    this.complete(cmd, ...args);
  }
}

export interface CommandsPeers {
  reply: CommandReply;
  /** Every implemented command's route (command_routes, shared by all controllers). */
  routes: ReadonlyMap<number, CommandRoute>;
  /** The component of each route slot; null: not on this controller (its commands are unknown). */
  components: readonly unknown[];
}

export class ControllerCommands {
  constructor(
    private readonly s: ControllerState,
    private readonly x: CommandsPeers,
  ) {}

  /** A command packet from the host (`size` bytes, without the H4 type). Never throws on bad input. */
  on_command(packet: Uint8Array, size: number): void {
    const s = this.s;
    s.stats.commands++;
    if (size < 3) {
      s.link.logger.error(() => `controller ${s.index}: command shorter than its header dropped`);
      return;
    }
    const opcode = little_endian_read_16(packet, 0);
    if (ControllerBcm.booting(s)) {
      s.link.logger.info(
        () => `controller ${s.index}: command 0x${opcode.toString(16)} while restarting after Launch RAM, no answer`,
      );
      return;
    }
    const declared = packet[2]!;
    const plen = Math.min(declared, size - 3);
    const params = packet.subarray(3, 3 + plen);
    s.cur_params = params;
    const cmd = HCI_COMMANDS.get(opcode);
    const route = this.x.routes.get(opcode);
    const component = route === undefined ? null : this.x.components[route.slot];
    if (!cmd || !route || component === null || component === undefined) {
      s.stats.unknown_commands++;
      const off = s.ev.command_complete(opcode, 1);
      s.ev.buffer[off] = C.ERROR_CODE_UNKNOWN_HCI_COMMAND;
      return;
    }
    const injected = this.take_failure(opcode);
    if (injected >= 0) {
      this.x.reply.fail(cmd, injected);
      return;
    }
    const args = declared === size - 3 ? hci_format_decode(params, 0, plen, cmd.format) : null;
    if (args && cmd.async && this.take_swallow(opcode)) {
      this.x.reply.status(cmd, C.ERROR_CODE_SUCCESS); // acknowledged, never completed (Faults.swallow_completion)
      return;
    }
    if (!args) {
      this.x.reply.fail(cmd, C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS);
      return;
    }
    (route.handler as CommandHandler<unknown>)(component, args, cmd);
  }

  /** True when an injected swallow (Faults.swallow_completion) takes this command. */
  private take_swallow(opcode: number): boolean {
    const left = this.s.command_swallows.get(opcode);
    if (left === undefined) return false;
    if (left <= 1) this.s.command_swallows.delete(opcode);
    else this.s.command_swallows.set(opcode, left - 1);
    return true;
  }

  /** The status an injected failure (Faults.fail_command) answers this opcode with now, or -1. */
  private take_failure(opcode: number): number {
    const failures = this.s.command_failures;
    const f = failures.get(opcode);
    if (!f) return -1;
    if (--f.count <= 0) failures.delete(opcode);
    return f.status;
  }
}
