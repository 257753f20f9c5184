/**
 * Fault specs for `bthost controller --fault SPECS` / `--control unix:PATH`, and LineFaults: the
 * byte-level faults of the H4 line between a virtual controller and its host (the part a proxy
 * would do: lying Number Of Completed Packets, rewritten command credits, stray bytes, a silent
 * controller). The controller-level faults go to `VirtualController.faults` (src/controller/faults.ts).
 *
 * SPECS is a comma-separated list of SPEC; each is `[cN:]ACTION[@MS]`:
 *   cN:   only controller N (the index `bthost controller` prints: `controller N ADDR connected`);
 *         without it, every controller (on the command line: each one as it connects)
 *   @MS   MS milliseconds after the controller connected (command line) or after the request (control)
 * ACTIONs:
 *   fail=CMD:STATUS[:COUNT]  the next COUNT (default 1) commands CMD (opcode 0x0c03 or name HCI_Reset) fail with STATUS
 *   swallow=CMD[:COUNT]     the next COUNT (default 1) asynchronous commands CMD get Command Status 0 and no completion
 *   drop-acl=N | corrupt-acl=N | delay-acl=MS[:N]   the host's next N ACL packets are lost / corrupted / delayed on the air
 *   stall-nocp | release-nocp                       hold Number Of Completed Packets back / let them go
 *   inflate-nocp=COUNT[:TIMES]  every NOCP handle entry on the line says COUNT (TIMES events, default: all)
 *   credits=N[:TIMES]           Command Complete / Status on the line carry Num_HCI_Command_Packets N
 *   hardware-error[=CODE]       a Hardware Error event now (default code 0x00)
 *   crash[=CODE]                the controller restarts by itself (its links lost: the peers' supervision
 *                               timeout ends them), then a Hardware Error event (default code 0x00)
 *   drop-link=HANDLE            the radio link of HANDLE is lost (supervision timeout follows)
 *   stray=HEX                   these raw bytes on the line to the host, between two packets
 *   framing-error               stray=ff (no H4 packet type: the host's deframer reports it)
 *   silent | talk               the controller ignores / takes the host's packets again
 *   unplug                      the line drops (the socket closes; the host sees its port go away)
 *   clear                       undo the line faults (inflate-nocp, credits, silent)
 */
import { fromHex } from '../../src/core/bytes.js';
import { Timer, type RunLoop } from '../../src/core/run-loop.js';
import type { Faults } from '../../src/controller/faults.js';
import { HCI_COMMANDS } from '../../src/hci/commands.js';

export type FaultAction =
  | { kind: 'fail'; opcode: number; status: number; count: number }
  | { kind: 'swallow'; opcode: number; count: number }
  | { kind: 'drop-acl' | 'corrupt-acl'; n: number }
  | { kind: 'delay-acl'; ms: number; n: number }
  | { kind: 'stall-nocp' | 'release-nocp' | 'framing-error' | 'silent' | 'talk' | 'unplug' | 'clear' }
  | { kind: 'inflate-nocp'; count: number; times: number }
  | { kind: 'credits'; n: number; times: number }
  | { kind: 'hardware-error' | 'crash'; code: number }
  | { kind: 'drop-link'; handle: number }
  | { kind: 'stray'; bytes: Uint8Array };

export interface FaultSpec {
  /** Controller index, or null for every controller. */
  target: number | null;
  /** Delay in ms (0: at once). */
  at_ms: number;
  action: FaultAction;
  /** The spec as written. */
  text: string;
}

const num = (v: string | undefined, min: number, max: number): number | null => {
  if (v === undefined || v.trim() === '') return null;
  const n = Number(v.trim());
  return Number.isInteger(n) && n >= min && n <= max ? n : null;
};

function opcodeOf(v: string): number | null {
  const n = num(v, 0, 0xffff);
  if (n !== null) return n;
  for (const c of HCI_COMMANDS.values()) if (c.name.toLowerCase() === v.toLowerCase()) return c.opcode;
  return null;
}

function parseAction(body: string): FaultAction | string {
  const eq = body.indexOf('=');
  const name = eq < 0 ? body : body.slice(0, eq);
  const arg = eq < 0 ? undefined : body.slice(eq + 1);
  const parts = arg?.split(':') ?? [];
  const bad = (what: string): string => `fault '${body}': ${what}`;
  switch (name) {
    case 'fail': {
      const opcode = opcodeOf(parts[0] ?? '');
      const status = num(parts[1], 0, 0xff);
      const count = parts[2] === undefined ? 1 : num(parts[2], 1, 1e9);
      if (opcode === null || status === null || count === null) return bad('expected fail=CMD:STATUS[:COUNT]');
      return { kind: 'fail', opcode, status, count };
    }
    case 'swallow': {
      const opcode = opcodeOf(parts[0] ?? '');
      const count = parts[1] === undefined ? 1 : num(parts[1], 1, 1e9);
      if (opcode === null || count === null) return bad('expected swallow=CMD[:COUNT]');
      if (HCI_COMMANDS.get(opcode)?.async !== true) return bad('only a command answered by Command Status can be swallowed');
      return { kind: 'swallow', opcode, count };
    }
    case 'drop-acl':
    case 'corrupt-acl': {
      const n = arg === undefined ? 1 : num(arg, 1, 1e9);
      return n === null ? bad('expected a count >= 1') : { kind: name, n };
    }
    case 'delay-acl': {
      const ms = num(parts[0], 0, 3_600_000);
      const n = parts[1] === undefined ? 1 : num(parts[1], 1, 1e9);
      return ms === null || n === null ? bad('expected delay-acl=MS[:N]') : { kind: name, ms, n };
    }
    case 'inflate-nocp': {
      const count = num(parts[0], 0, 0xffff);
      const times = parts[1] === undefined ? 0 : num(parts[1], 1, 1e9);
      return count === null || times === null ? bad('expected inflate-nocp=COUNT[:TIMES]') : { kind: name, count, times };
    }
    case 'credits': {
      const n = num(parts[0], 0, 0xff);
      const times = parts[1] === undefined ? 0 : num(parts[1], 1, 1e9);
      return n === null || times === null ? bad('expected credits=N[:TIMES]') : { kind: name, n, times };
    }
    case 'hardware-error':
    case 'crash': {
      const code = arg === undefined ? 0 : num(arg, 0, 0xff);
      return code === null ? bad(`expected ${name}[=CODE]`) : { kind: name, code };
    }
    case 'drop-link': {
      const handle = num(arg, 0, 0x0eff);
      return handle === null ? bad('expected drop-link=HANDLE') : { kind: name, handle };
    }
    case 'stray': {
      const bytes = arg !== undefined && /^([0-9a-fA-F]{2})+$/.test(arg) ? fromHex(arg) : null;
      return bytes ? { kind: name, bytes } : bad('expected stray=HEX (whole bytes)');
    }
    case 'stall-nocp':
    case 'release-nocp':
    case 'framing-error':
    case 'silent':
    case 'talk':
    case 'unplug':
    case 'clear':
      return arg === undefined ? { kind: name } : bad('takes no value');
    default:
      return `unknown fault '${name}'`;
  }
}

/** Parse `SPEC[,SPEC...]`; a string is the first problem. */
export function parse_fault_specs(text: string): FaultSpec[] | string {
  const out: FaultSpec[] = [];
  for (const raw of text.split(',')) {
    let s = raw.trim();
    if (!s) continue;
    let target: number | null = null;
    const m = /^c(\d+):/.exec(s);
    if (m) {
      target = Number(m[1]);
      s = s.slice(m[0].length);
    }
    let at_ms = 0;
    const at = s.lastIndexOf('@');
    if (at >= 0) {
      const ms = num(s.slice(at + 1), 0, 24 * 3_600_000);
      if (ms === null) return `fault '${raw.trim()}': @MS must be a whole number of milliseconds`;
      at_ms = ms;
      s = s.slice(0, at);
    }
    const action = parseAction(s);
    if (typeof action === 'string') return action;
    out.push({ target, at_ms, action, text: raw.trim() });
  }
  if (out.length === 0) return 'no fault given';
  return out;
}

/** The byte-level faults of one line, applied to what the controller sends its host. */
export class LineFaults {
  private inflate: { count: number; left: number } | null = null;
  private credits: { n: number; left: number } | null = null;
  /** The controller ignores the host's packets. */
  silent = false;
  /** NOCP events rewritten so far. */
  inflated = 0;

  set_inflate_nocp(count: number, times = 0): void {
    this.inflate = { count, left: times > 0 ? times : Infinity };
  }
  set_credits(n: number, times = 0): void {
    this.credits = { n, left: times > 0 ? times : Infinity };
  }
  clear(): void {
    this.inflate = null;
    this.credits = null;
    this.silent = false;
  }

  /** Rewrite a packet for the host in place (`packet` is the line's own copy, without the H4 byte). */
  rewrite(type: number, packet: Uint8Array, size: number): void {
    if (type !== 0x04 || size < 2) return;
    const code = packet[0];
    if (code === 0x13 && this.inflate && size >= 3) {
      const n = packet[2]!;
      for (let i = 0; i < n && 3 + i * 4 + 3 < size; i++) {
        packet[3 + i * 4 + 2] = this.inflate.count & 0xff;
        packet[3 + i * 4 + 3] = this.inflate.count >> 8;
      }
      this.inflated++;
      if (--this.inflate.left <= 0) this.inflate = null;
    } else if (this.credits && ((code === 0x0e && size >= 3) || (code === 0x0f && size >= 4))) {
      packet[code === 0x0e ? 2 : 3] = this.credits.n;
      if (--this.credits.left <= 0) this.credits = null;
    }
  }
}

/** Where a fault lands: a controller and its line. */
export interface FaultTarget {
  controller: { readonly index: number; readonly faults: Faults };
  line: LineFaults;
  /** Raw bytes to the host between packets. */
  write_raw(bytes: Uint8Array): void;
  /** Drop the line. */
  unplug(): void;
}

/** Apply one action now. */
export function apply_fault(t: FaultTarget, a: FaultAction): void {
  const f = t.controller.faults;
  switch (a.kind) {
    case 'fail':
      return f.fail_command(a.opcode, a.status, a.count);
    case 'swallow':
      return f.swallow_completion(a.opcode, a.count);
    case 'drop-acl':
      return f.drop_next_acl(a.n);
    case 'corrupt-acl':
      return f.corrupt_next_acl(a.n);
    case 'delay-acl':
      return f.delay_next_acl(a.ms, a.n);
    case 'stall-nocp':
      return f.stall_completed_packets(true);
    case 'release-nocp':
      return f.stall_completed_packets(false);
    case 'inflate-nocp':
      return t.line.set_inflate_nocp(a.count, a.times);
    case 'credits':
      return t.line.set_credits(a.n, a.times);
    case 'hardware-error':
      return f.hardware_error(a.code);
    case 'crash':
      return f.crash(a.code);
    case 'drop-link':
      f.drop_link(a.handle);
      return;
    case 'stray':
      return t.write_raw(a.bytes);
    case 'framing-error':
      return t.write_raw(Uint8Array.of(0xff));
    case 'silent':
      t.line.silent = true;
      return;
    case 'talk':
      t.line.silent = false;
      return;
    case 'unplug':
      return t.unplug();
    case 'clear':
      return t.line.clear();
  }
}

/**
 * Apply the specs meant for `t` (target null or its controller's index): at once, or on a run-loop
 * timer after `at_ms`. Returns how many were meant for it.
 */
export function schedule_faults(run_loop: RunLoop, t: FaultTarget, specs: readonly FaultSpec[], alive: () => boolean): number {
  let n = 0;
  for (const s of specs) {
    if (s.target !== null && s.target !== t.controller.index) continue;
    n++;
    if (s.at_ms <= 0) {
      apply_fault(t, s.action);
      continue;
    }
    const timer = new Timer(() => {
      if (alive()) apply_fault(t, s.action);
    });
    run_loop.set_timer(timer, s.at_ms);
    run_loop.add_timer(timer);
  }
  return n;
}
