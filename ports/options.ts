/**
 * The one command-line parser of bthost's programs (the example main, the `bthost` CLI and its
 * `controller` command, the demo, the benchmarks): `node:util` parseArgs behind one definition of
 * the flags they share, BTstack's example flags first:
 *
 *   -u, --tty TTY (--port)        serial device of an H4 controller
 *   -b, --baudrate BAUD (--baud)  initial UART speed
 *   -l, --logfile FILE (--log)    packet log file
 *   -f, --format FMT              packet log format: btsnoop | pklg
 *       --main-baud BAUD, --chipset C, --firmware PATH, --no-flow, --h5, --addr ADDR, --profile P
 *   -v, --verbose                 -h, --help
 *
 * A program picks the common flags it takes (`pick_flags`) and adds its own; `parse_flags` is
 * pure (no I/O, no exit): values by canonical name, the flag as the user typed it (for messages),
 * positionals, and problems as one-line strings. Unknown options are an error (`unknown option
 * X`) or, with `{ unknown: 'rest' }`, kept in order in `rest` for a second parser (the example's
 * own options, a CLI command's flags). The `read_*` helpers check a common flag's value and give
 * every program the same message for the same mistake.
 */
import { parseArgs } from 'node:util';
import { sscanf_bd_addr, type BdAddr } from '../src/core/bytes.js';
import { is_code_profile, type CodeProfile } from '../src/codes/index.js';

/** One option: a string value or a switch; `short` is a one-letter alias, `aliases` other long names. */
export interface FlagDef {
  /** 'string': takes a value; 'boolean': a switch. */
  readonly type: 'string' | 'boolean';
  /** One-letter alias (`-u`). */
  readonly short?: string;
  /** Other long names (`--port` for --tty). */
  readonly aliases?: readonly string[];
}

/** A program's options by canonical long name. */
export type FlagSpec = Readonly<Record<string, FlagDef>>;

/** The flags every program means the same thing by (BTstack's `-u -b -l -f` and bthost's own). */
export const COMMON_FLAGS = {
  tty: { type: 'string', short: 'u', aliases: ['port'] },
  baudrate: { type: 'string', short: 'b', aliases: ['baud'] },
  logfile: { type: 'string', short: 'l', aliases: ['log'] },
  format: { type: 'string', short: 'f' },
  'main-baud': { type: 'string' },
  chipset: { type: 'string' },
  firmware: { type: 'string' },
  'no-flow': { type: 'boolean' },
  h5: { type: 'boolean' },
  addr: { type: 'string' },
  profile: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies FlagSpec;

/** The name of a common flag. */
export type CommonFlag = keyof typeof COMMON_FLAGS;

/** A subset of COMMON_FLAGS, by name. */
export function pick_flags<K extends CommonFlag>(...names: K[]): { [P in K]: (typeof COMMON_FLAGS)[P] } {
  const out = {} as { [P in K]: (typeof COMMON_FLAGS)[P] };
  for (const n of names) out[n] = COMMON_FLAGS[n];
  return out;
}

/** What parse_flags found. */
export interface ParsedFlags {
  /** Value of each flag given, by canonical name (the last one wins); `true` for a switch. */
  readonly values: Map<string, string | true>;
  /** How each flag given was spelled (`-b`, `--baud`, `--baudrate`): messages name what the user typed. */
  readonly spelled: Map<string, string>;
  /** Positional arguments (also everything after `--`), in order. */
  readonly positionals: string[];
  /** With { unknown: 'rest' }: unknown options and positionals as given, in order; after `--` everything. */
  readonly rest: string[];
  /** Problems, one line each; empty when all is well. */
  readonly errors: string[];
}

/** How parse_flags treats unknown options and positionals. */
export interface ParseFlagsOptions {
  /** 'error' (default): an unknown option is an error; 'rest': it goes to `rest` with the positionals. */
  unknown?: 'error' | 'rest';
  /** Whether positional arguments are allowed (default true; false: each is reported as `unknown option X`). */
  positionals?: boolean;
}

/** Parse argv (without node and the script) against `spec`. Never throws. */
export function parse_flags(argv: readonly string[], spec: FlagSpec, how: ParseFlagsOptions = {}): ParsedFlags {
  const toRest = how.unknown === 'rest';
  const allowPositionals = how.positionals ?? true;
  // parseArgs knows every long name (aliases too); map them back to the canonical one
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  const canonical = new Map<string, string>();
  for (const [name, def] of Object.entries(spec)) {
    options[name] = def.short ? { type: def.type, short: def.short } : { type: def.type };
    canonical.set(name, name);
    for (const a of def.aliases ?? []) {
      options[a] = { type: def.type };
      canonical.set(a, name);
    }
  }
  const out: ParsedFlags = { values: new Map(), spelled: new Map(), positionals: [], rest: [], errors: [] };
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  // argv indexes that hold a known option (a group of short flags may mix known and unknown ones)
  const knownAt = new Set<number>();
  for (const t of tokens) if (t.kind === 'option' && canonical.has(t.name)) knownAt.add(t.index);
  let lastUnknownIndex = -1;
  let terminated = false;
  const unknown = (raw: string): void => {
    if (toRest) out.rest.push(raw);
    else out.errors.push(`unknown option ${raw}`);
  };
  for (const t of tokens) {
    if (t.kind === 'option-terminator') {
      terminated = true;
      continue;
    }
    if (t.kind === 'positional') {
      if (!terminated && !allowPositionals && !toRest) {
        out.errors.push(`unknown option ${t.value}`);
        continue;
      }
      out.positionals.push(t.value);
      out.rest.push(t.value);
      continue;
    }
    const name = canonical.get(t.name);
    if (name === undefined) {
      // unknown: as the user wrote it (the whole argument once, unless a group mixes in known flags)
      if (!knownAt.has(t.index)) {
        if (t.index !== lastUnknownIndex) unknown(argv[t.index]!);
        lastUnknownIndex = t.index;
      } else unknown(t.inlineValue ? `${t.rawName}=${t.value}` : t.rawName);
      continue;
    }
    const flag = t.rawName;
    if (spec[name]!.type === 'boolean') {
      if (t.value !== undefined) out.errors.push(`${flag}: takes no value`);
      else {
        out.values.set(name, true);
        out.spelled.set(name, flag);
      }
      continue;
    }
    // a value in the next argument that looks like an option is a forgotten value (`-l -u x`);
    // a negative number (`--baud -9600`) is a value, for the flag's check to refuse
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('-') && t.value.length > 1 && !/^-\d/.test(t.value))) {
      out.errors.push(`${flag}: missing value`);
      continue;
    }
    out.values.set(name, t.value);
    out.spelled.set(name, flag);
  }
  return out;
}

/** The value of a string flag, or undefined when not given. */
export function flag_string(p: ParsedFlags, name: string): string | undefined {
  const v = p.values.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** Whether a switch (or any flag) was given. */
export function flag_given(p: ParsedFlags, name: string): boolean {
  return p.values.has(name);
}

/** How the flag was typed, else `--name`. */
export function flag_spelled(p: ParsedFlags, name: string): string {
  return p.spelled.get(name) ?? `--${name}`;
}

/**
 * Read a string flag through `check` (returns the value or a message without the flag name);
 * a problem goes to `p.errors` as `FLAG: message`. Undefined when absent or malformed.
 */
export function read_flag<T>(p: ParsedFlags, name: string, check: (v: string) => T | { problem: string }): T | undefined {
  const v = flag_string(p, name);
  if (v === undefined) return undefined;
  const r = check(v);
  if (r !== null && typeof r === 'object' && 'problem' in r) {
    p.errors.push(`${flag_spelled(p, name)}: ${(r as { problem: string }).problem}`);
    return undefined;
  }
  return r as T;
}

// ---- the common flags' values: one message per mistake for every program

/** A baud rate: a positive integer. */
export const check_baud = (v: string): number | { problem: string } =>
  /^\d+$/.test(v) && Number(v) > 0 && Number(v) <= 0xffffffff
    ? Number(v)
    : { problem: `baud rate must be a positive integer, got '${v}'` };

/** A path that is not empty (`what` names it in the message). */
export const check_path =
  (what: string) =>
  (v: string): string | { problem: string } =>
    v === '' ? { problem: `empty ${what}` } : v;

export type PacketLogFormat = 'btsnoop' | 'pklg';

/** A packet log format: btsnoop or pklg. */
export const check_format = (v: string): PacketLogFormat | { problem: string } =>
  v === 'btsnoop' || v === 'pklg' ? v : { problem: `log format must be btsnoop or pklg, got '${v}'` };

/** A BD_ADDR as XX:XX:XX:XX:XX:XX. */
export const check_addr = (v: string): BdAddr | { problem: string } =>
  (/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(v) ? sscanf_bd_addr(v) : null) ?? {
    problem: `address must look like XX:XX:XX:XX:XX:XX, got '${v}'`,
  };

/** --profile: a BTstack release of the event codes, v1.4 or v1.8. */
export const check_profile = (v: string): CodeProfile | { problem: string } =>
  is_code_profile(v) ? v : { problem: `expected v1.4 or v1.8, got '${v}'` };

/** A whole number in [min, max] (decimal, or 0x hex when `hex`), else `expected WHAT, got 'V'`. */
export const check_int =
  (min: number, max: number, what: string, hex = false) =>
  (v: string): number | { problem: string } => {
    const n = hex && /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : NaN;
    return Number.isInteger(n) && n >= min && n <= max ? n : { problem: `expected ${what}, got '${v}'` };
  };

/** The one line a program prints for a usage error: `PROGRAM: PROBLEM (HINT)`; exit code 2. */
export function usage_error_line(program: string, problem: string, hint: string): string {
  return `${program}: ${problem} (${hint})`;
}
