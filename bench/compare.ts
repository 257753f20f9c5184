/**
 * Compare two checkouts on selected benchmarks, interleaved: each round runs every benchmark once in
 * each tree (A B, then B A in the next round, so neither side always runs first), each in its own
 * node process with --expose-gc, and prints per figure the median of each side and the ratio
 * HEAD / base. Interleaving makes a busy machine slow both sides alike; medians drop outliers.
 *
 *   npx tsx bench/compare.ts --base /work/base                       this tree against /work/base
 *   npx tsx bench/compare.ts --base DIR --head DIR --only latency,parser --rounds 7
 *   npx tsx bench/compare.ts --base DIR --all-figures --mb 64        every numeric figure; --mb to the bulk ones
 *
 * Both trees need node_modules (a symlink to this tree's is fine when package.json only gained
 * dev tools). The parser benchmark runs bthost's side only (--side bthost): noble is the same code
 * in both trees, so bthost's CPU ms per MB carries the whole change of the ratio.
 * On a loaded machine prefer --inproc, started as
 *   node --no-concurrent-recompilation --no-concurrent-osr --import tsx bench/compare.ts --base DIR --inproc echo,rfcomm-667
 * (JIT tier-up on the main thread, so a busy core does not delay optimization of one side more than
 * the other), and repeat it a few times. echo-latency times each round trip as bench/latency.ts
 * does and adds rows for their median, p99 and p99.9: tail figures from separate processes (the
 * latency benchmark's p99) move by 2x from run to run on a shared machine. Deterministic work
 * counts come from V8's precise coverage (call counts per function under --no-opt), which is how
 * the regressions were found.
 * Exit 0 when every run succeeded; 1 when one failed; 2 on a usage error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { check_int, check_path, flag_given, flag_string, parse_flags, read_flag, type FlagSpec } from '../ports/options.js';
import { ROOT_DIR, isMain, reexecWithGc } from './lib/harness.js';
import { AB_SCENARIOS, type AbScenario } from './lib/ab-scenarios.js';
import { percentile } from './lib/measure.js';
import type * as AbModule from './lib/ab-scenarios.js';
import { performance } from 'node:perf_hooks';

/** The benchmarks compare knows: file, extra arguments, and the figures shown by default. */
export const COMPARABLE: Record<string, { file: string; args: string[]; figures: string[]; bulk?: boolean }> = {
  latency: { file: 'latency.ts', args: [], figures: ['echo_median_us', 'pingpong_median_us', 'echo_p99_us', 'pingpong_p99_us'] },
  'rfcomm-bulk': {
    file: 'rfcomm-bulk.ts',
    args: [],
    bulk: true,
    figures: ['frame667_MBps', 'frame667_cpu_ms_per_MB', 'frame32767_MBps', 'frame32767_cpu_ms_per_MB'],
  },
  'l2cap-bulk': {
    file: 'l2cap-bulk.ts',
    args: [],
    bulk: true,
    figures: ['mtu65535_MBps', 'mtu65535_cpu_ms_per_MB', 'mtu672_MBps', 'mtu672_cpu_ms_per_MB'],
  },
  'le-cbm': {
    file: 'le-cbm.ts',
    args: [],
    bulk: true,
    figures: [
      'mtu2048_central_to_peripheral_MB_per_cpu_s',
      'mtu65535_central_to_peripheral_MB_per_cpu_s',
      'mtu2048_dle_central_to_peripheral_MB_per_cpu_s',
      'mtu65535_dle_central_to_peripheral_MB_per_cpu_s',
    ],
  },
  'gatt-notify': {
    file: 'gatt-notify.ts',
    args: [],
    bulk: true,
    figures: ['mtu23_MB_per_cpu_s', 'mtu23_scavenges_per_100MB', 'mtu1017_MB_per_cpu_s', 'mtu1017_dle_MB_per_cpu_s'],
  },
  uart: {
    file: 'uart.ts',
    args: [],
    figures: ['tx_921600_cpu_pct', 'rx_921600_cpu_pct', 'tx_3000000_cpu_pct', 'rx_3000000_cpu_pct'],
  },
  scale: {
    file: 'scale.ts',
    args: [],
    figures: ['mem_per_classic_link_kB', 'mem_per_channel_kB', 'mem_per_le_link_kB', 'packets_per_s'],
  },
  startup: {
    file: 'startup.ts',
    args: [],
    figures: [
      'cold_process_to_working_ms',
      'cold_tsx_process_to_working_ms',
      'warm_boot_median_ms',
      'virtual_boot_median_ms',
      'stack_construct_median_ms',
      'init_commands',
    ],
  },
  parser: {
    file: 'parser.ts',
    args: ['--side', 'bthost', '--no-install'],
    figures: ['framing_bthost_MBps', 'framing_bthost_cpu_ms_per_MB', 'reassembly_bthost_MBps', 'reassembly_bthost_cpu_ms_per_MB'],
  },
};

const FLAGS: FlagSpec = {
  base: { type: 'string' },
  head: { type: 'string' },
  only: { type: 'string' },
  rounds: { type: 'string' },
  mb: { type: 'string' },
  quick: { type: 'boolean' },
  'all-figures': { type: 'boolean' },
  inproc: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const USAGE = `usage: npx tsx bench/compare.ts --base DIR [--head DIR] [--only ${Object.keys(COMPARABLE).join(',')}]
       [--rounds N (default 5)] [--mb N (bulk benchmarks)] [--quick] [--all-figures]
   or: npx tsx bench/compare.ts --base DIR [--head DIR] --inproc ${Object.keys(AB_SCENARIOS).join(',')} [--rounds N (default 41)]`;

type Figures = Record<string, number | string | null>;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One benchmark process in `tree`; its figures (the --json line), or an error line. */
function runOne(tree: string, name: string, extra: string[]): Figures | string {
  const b = COMPARABLE[name]!;
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(tree, 'bench', b.file), '--json', '--silent', ...b.args, ...extra],
    { cwd: tree, encoding: 'utf8', env: { ...process.env, BTHOST_BENCH_REEXEC: '1' }, maxBuffer: 64 << 20 },
  );
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{'))
    return `${name} in ${tree}: exit ${r.status}: ${r.stderr.trim().split('\n').pop()}`;
  return (JSON.parse(last) as { figures: Figures }).figures;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

/**
 * --inproc: both trees' code in one process; per round, one step of the scenario on each side
 * (order alternating), CPU time per step; medians and the median of the per-round ratios. Several
 * scenarios run one per child process: run one after the other in one process, a scenario ran
 * with the type feedback the ones before it left in the shared stack code (l2cap-672 after the
 * echo scenarios: 1.14-1.24 against 182843b instead of 1.01-1.03 alone).
 */
async function inproc(trees: { base: string; head: string }, names: string[], rounds: number): Promise<number> {
  const rows = [
    '| Scenario | base CPU ms / step | head CPU ms / step | head / base | median paired ratio | rounds |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  if (names.length > 1) {
    let status = 0;
    for (const name of names) {
      const args = ['--base', trees.base, '--head', trees.head, '--inproc', name, '--rounds', String(rounds)];
      const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
        env: { ...process.env, BTHOST_BENCH_REEXEC: '1' },
      });
      if (r.status !== 0) status = 1;
      rows.push(...r.stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Scenario')));
    }
    console.log(rows.join('\n'));
    return status;
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  for (const name of names) {
    // each side gets its own copy of the scenario module, so driver code is not shared (not polymorphic)
    const own = async (tree: string): Promise<AbScenario> => {
      const m = (await import(`./lib/ab-scenarios.js?tree=${encodeURIComponent(tree)}`)) as typeof AbModule;
      return m.AB_SCENARIOS[name]!(tree);
    };
    const side = { base: await own(trees.base), head: await own(trees.head) };
    side.base.warm();
    side.head.warm();
    const ms: Record<'base' | 'head', number[]> = { base: [], head: [] };
    const ratios: number[] = [];
    // per round and side, the median, p99 and p99.9 of a scenario's timed operations
    const pct: Record<'base' | 'head', number[][]> = { base: [], head: [] };
    const one = (k: 'base' | 'head'): number => {
      gc?.();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      side[k].step();
      const c = process.cpuUsage(c0);
      // CPU time, unless the process slept (then wall time is the better bound)
      return Math.min((c.user + c.system) / 1000, performance.now() - t0) || performance.now() - t0;
    };
    for (let r = 0; r < rounds; r++) {
      const order: Array<'base' | 'head'> = r % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
      const got = { base: 0, head: 0 };
      for (const k of order) {
        got[k] = one(k);
        const t = side[k].samples?.();
        if (t) pct[k].push([50, 99, 99.9].map((q) => percentile(t, q)));
      }
      ms.base.push(got.base);
      ms.head.push(got.head);
      ratios.push(got.head / got.base);
    }
    const mb = median(ms.base);
    const mh = median(ms.head);
    rows.push(
      `| ${name} (${side.head.unit}) | ${fmt(mb)} | ${fmt(mh)} | ${(mh / mb).toFixed(3)} | ${median(ratios).toFixed(3)} | ${rounds} |`,
    );
    ['median', 'p99', 'p99.9'].forEach((label, q) => {
      if (pct.head.length === 0) return;
      const b = pct.base.map((x) => x[q]!);
      const h = pct.head.map((x) => x[q]!);
      const paired = median(h.map((v, r) => v / b[r]!));
      rows.push(
        `| ${name}: ${label} of the timed operations, us | ${fmt(median(b))} | ${fmt(median(h))} | ${(median(h) / median(b)).toFixed(3)} | ${paired.toFixed(3)} | ${rounds} |`,
      );
    });
    console.error(`  .. ${name} done`);
  }
  console.log(rows.join('\n'));
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const p = parse_flags(argv, FLAGS, { positionals: false });
  if (flag_given(p, 'help')) {
    console.log(USAGE);
    return 0;
  }
  const base = read_flag(p, 'base', check_path('directory'));
  const head = read_flag(p, 'head', check_path('directory')) ?? ROOT_DIR;
  const inprocNames = flag_string(p, 'inproc')?.split(',');
  const rounds = read_flag(p, 'rounds', check_int(1, 1000, '1..1000')) ?? (inprocNames ? 41 : 5);
  const mb = read_flag(p, 'mb', check_int(1, 100_000, '1..100000'));
  const only = (flag_string(p, 'only') ?? 'latency,rfcomm-bulk,parser,l2cap-bulk').split(',');
  if (base === undefined && p.errors.length === 0) p.errors.push('--base: missing (the tree to compare against)');
  for (const n of only) if (!COMPARABLE[n]) p.errors.push(`--only: unknown benchmark '${n}'`);
  for (const n of inprocNames ?? []) if (!AB_SCENARIOS[n]) p.errors.push(`--inproc: unknown scenario '${n}'`);
  for (const t of [base, head]) if (t !== undefined && !existsSync(join(t, 'bench'))) p.errors.push(`no bench/ in ${t}`);
  if (p.errors.length > 0) {
    console.error(`compare: ${p.errors[0]} (${USAGE.split('\n')[0]})`);
    return 2;
  }
  const trees = { base: resolve(base!), head: resolve(head) };
  if (inprocNames) return inproc(trees, inprocNames, rounds);
  const all = flag_given(p, 'all-figures');
  const samples: Record<string, Record<'base' | 'head', Record<string, number[]>>> = {};
  let failed = false;
  console.log(`compare: base ${trees.base}, head ${trees.head}, ${rounds} rounds, ${only.join(', ')}`);
  for (let round = 0; round < rounds; round++) {
    const order: Array<'base' | 'head'> = round % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
    for (const name of only) {
      const extra = [
        ...(flag_given(p, 'quick') ? ['--quick'] : []),
        ...(mb && COMPARABLE[name]!.bulk ? ['--mb', String(mb)] : []),
      ];
      for (const side of order) {
        const f = runOne(trees[side], name, extra);
        if (typeof f === 'string') {
          console.error(f);
          failed = true;
          continue;
        }
        const s = ((samples[name] ??= { base: {}, head: {} })[side] ??= {});
        for (const [k, v] of Object.entries(f)) if (typeof v === 'number') (s[k] ??= []).push(v);
      }
    }
    console.error(`  .. round ${round + 1} of ${rounds} done`);
  }
  const rows = ['| Benchmark | Figure | base (median) | head (median) | head / base | n |', '|---|---|---:|---:|---:|---:|'];
  for (const name of only) {
    const s = samples[name];
    if (!s) continue;
    const keys = all ? Object.keys(s.head).filter((k) => s.base[k]) : COMPARABLE[name]!.figures;
    for (const k of keys) {
      const a = s.base[k];
      const b = s.head[k];
      if (!a?.length || !b?.length) continue;
      const ma = median(a);
      const mh = median(b);
      rows.push(
        `| ${name} | ${k} | ${fmt(ma)} | ${fmt(mh)} | ${ma !== 0 ? (mh / ma).toFixed(3) : 'n/a'} | ${Math.min(a.length, b.length)} |`,
      );
    }
  }
  console.log(rows.join('\n'));
  return failed ? 1 : 0;
}

if (isMain(import.meta.url) && !reexecWithGc()) process.exitCode = await main(process.argv.slice(2));
