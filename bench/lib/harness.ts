/**
 * Benchmark harness: result format, machine description, JSON output, and the standalone entry
 * (`npx tsx bench/<name>.ts [--quick]`) that re-executes node with --expose-gc when needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gcAvailable } from './measure.js';
import { flag_given, flag_string, parse_flags, read_flag, type FlagSpec, type ParsedFlags } from '../../ports/options.js';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT_DIR = resolve(BENCH_DIR, '..');
export const RESULTS_DIR = join(BENCH_DIR, 'results');

export interface BenchOptions {
  /** Seconds instead of minutes: small inputs, one round. */
  quick: boolean;
  /** Install bench/ dev dependencies (peer stacks) with npm when missing. Default true. */
  install_peer?: boolean;
  /** Print progress lines. Default true. */
  verbose?: boolean;
}

export interface Target {
  /** Figure key in `figures`. */
  figure: string;
  /** Human-readable target, e.g. '>= 5x'. */
  target: string;
  op: '>=' | '<=';
  value: number;
}

export interface BenchResult {
  name: string;
  title: string;
  quick: boolean;
  date: string;
  machine: MachineInfo;
  /** Figures by key; null when a part could not be measured (see notes). */
  figures: Record<string, number | string | null>;
  /** Units or a short description per figure key. */
  units: Record<string, string>;
  targets: Target[];
  notes: string[];
}

export interface MachineInfo {
  nproc: number;
  cpu_model: string;
  node: string;
  platform: string;
  gc_exposed: boolean;
  /** 1-minute load average when the benchmark started (other processes share the cores). */
  load_1m: number;
  /** Source revision measured: BTHOST_BENCH_COMMIT, else `git describe --always --dirty`. */
  commit: string;
}

function sourceCommit(): string {
  if (process.env.BTHOST_BENCH_COMMIT) return process.env.BTHOST_BENCH_COMMIT;
  const r = spawnSync('git', ['describe', '--always', '--dirty'], { cwd: ROOT_DIR, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

export function machineInfo(): MachineInfo {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1]!.trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  return {
    nproc: cpus().length,
    cpu_model: model,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    gc_exposed: gcAvailable(),
    load_1m: Math.round(loadavg()[0]! * 100) / 100,
    commit: sourceCommit(),
  };
}

export function newResult(name: string, title: string, opts: BenchOptions): BenchResult {
  return {
    name,
    title,
    quick: opts.quick,
    date: new Date().toISOString(),
    machine: machineInfo(),
    figures: {},
    units: {},
    targets: [],
    notes: [],
  };
}

/** Whether a target is met; undefined when the figure is missing. */
export function targetMet(r: BenchResult, t: Target): boolean | undefined {
  const v = r.figures[t.figure];
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  return t.op === '>=' ? v >= t.value : v <= t.value;
}

export function resultPath(name: string, quick: boolean): string {
  return join(RESULTS_DIR, `${name}${quick ? '.quick' : ''}.json`);
}

export function writeResult(r: BenchResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const p = resultPath(r.name, r.quick);
  writeFileSync(p, JSON.stringify(r, null, 2) + '\n');
  return p;
}

function formatValue(v: number | string | null): string {
  if (v === null) return 'n/a';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

export function printResult(r: BenchResult): void {
  const lines: string[] = [];
  lines.push(`== ${r.title}${r.quick ? ' (quick)' : ''}`);
  const keys = Object.keys(r.figures);
  const w = Math.max(...keys.map((k) => k.length), 10);
  for (const k of keys) {
    const unit = r.units[k] ? `  ${r.units[k]}` : '';
    lines.push(`  ${k.padEnd(w)}  ${formatValue(r.figures[k]!).padStart(10)}${unit}`);
  }
  for (const t of r.targets) {
    const met = targetMet(r, t);
    lines.push(`  target ${t.figure} ${t.target}: ${met === undefined ? 'not measured' : met ? 'met' : 'MISSED'}`);
  }
  for (const n of r.notes) lines.push(`  note: ${n}`);
  console.log(lines.join('\n'));
}

/** Every benchmark's flags (ports/options.ts, the one option parser); a benchmark adds its own. */
export const HARNESS_FLAGS: FlagSpec = {
  quick: { type: 'boolean' },
  'no-install': { type: 'boolean' },
  silent: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** --mb N: megabytes to move (the bulk benchmarks). */
export const MB_FLAG: FlagSpec = { mb: { type: 'string' } };

/** The value of --mb, a positive number of megabytes; undefined when not given or malformed (then p.errors says why). */
export function flag_mb(p: ParsedFlags): number | undefined {
  return read_flag(p, 'mb', (v) =>
    /^\d+(\.\d+)?$/.test(v) && Number(v) > 0 ? Number(v) : { problem: `expected a positive number of megabytes, got '${v}'` },
  );
}

/** Parse a benchmark's argv: the harness's flags and `own`; anything else is an error in `flags.errors`. */
export function parseArgs(argv: string[], own: FlagSpec = {}): BenchOptions & { json: boolean; flags: ParsedFlags } {
  const p = parse_flags(argv, { ...HARNESS_FLAGS, ...own }, { positionals: false });
  return {
    quick: flag_given(p, 'quick'),
    install_peer: !flag_given(p, 'no-install'),
    verbose: !flag_given(p, 'silent'),
    json: flag_given(p, 'json'),
    flags: p,
  };
}

/** The usage line of a benchmark script: the harness's flags and its own. */
export function benchUsage(script: string, own: FlagSpec = {}): string {
  const flags = Object.entries({ ...HARNESS_FLAGS, ...own })
    .filter(([n]) => n !== 'help')
    .map(([n, d]) => `[--${n}${d.type === 'string' ? ' V' : ''}]`);
  return `usage: npx tsx bench/${script} ${flags.join(' ')}`;
}

/** Value of a string flag of a benchmark's own (after parseArgs). */
export { flag_string };

/** True when the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  const self = fileURLToPath(url);
  return resolve(argv1) === self || resolve(argv1) === self.replace(/\.ts$/, '');
}

/**
 * Run node again with --expose-gc (keeping tsx's loader flags) when GC is not exposed, so heap
 * figures are after a real collection. Returns true when the child ran (the caller exits).
 */
export function reexecWithGc(): boolean {
  if (gcAvailable() || process.env.BTHOST_BENCH_REEXEC) return false;
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BTHOST_BENCH_REEXEC: '1' },
  });
  process.exitCode = r.status ?? 1;
  return true;
}

/**
 * Standalone entry for a benchmark module: the harness's flags and the benchmark's `own` (given to
 * `run` as parsed flags). A usage error (unknown option, bad value) is one line on stderr, exit 2,
 * before anything runs; --help prints the usage line.
 */
export async function benchMain(
  run: (opts: BenchOptions, flags: ParsedFlags) => Promise<BenchResult>,
  own: FlagSpec = {},
  check?: (flags: ParsedFlags) => void,
): Promise<void> {
  const script = process.argv[1] ? process.argv[1].replace(/^.*\//, '') : 'benchmark';
  const args = parseArgs(process.argv.slice(2), own);
  check?.(args.flags);
  if (flag_given(args.flags, 'help')) {
    console.log(benchUsage(script, own));
    return;
  }
  if (args.flags.errors.length > 0) {
    console.error(`${script.replace(/\.ts$/, '')}: ${args.flags.errors[0]} (${benchUsage(script, own)})`);
    process.exitCode = 2;
    return;
  }
  if (reexecWithGc()) return;
  const r = await run(args, args.flags);
  const p = writeResult(r);
  if (args.json) console.log(JSON.stringify(r));
  else {
    printResult(r);
    console.log(`  (written to ${p})`);
  }
}

export function log(opts: BenchOptions, msg: string): void {
  if (opts.verbose !== false) console.error(`  .. ${msg}`);
}
