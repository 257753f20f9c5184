/**
 * Run every benchmark, each in its own node process (with --expose-gc, so heap figures follow a
 * real collection and one benchmark's garbage does not land in the next one's figures), then
 * print a summary against the targets. Results: bench/results/<name>[.quick].json and
 * bench/results/summary[.quick].json.
 *
 *   npm run bench                      all benchmarks (under five minutes on 2 cores)
 *   npm run bench -- --quick           seconds: small inputs, one round (CI smoke)
 *   npm run bench -- --only parser     a subset (comma-separated names)
 *   npm run bench -- --report          print the Markdown table of the latest results, run nothing
 *   npm run bench -- --report --write  also rewrite the generated blocks of BENCHMARKS.md (run info,
 *                                      targets, figures; the hand-written notes stay)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { flag_given, flag_string, parse_flags, type FlagSpec } from '../ports/options.js';
import { BENCH_DIR, isMain, machineInfo, resultPath, RESULTS_DIR, ROOT_DIR, targetMet, type BenchResult } from './lib/harness.js';

/** Every benchmark, in the order of the issue's list where it exists. */
export const BENCHMARKS: Array<{ name: string; file: string }> = [
  { name: 'l2cap-bulk', file: 'l2cap-bulk.ts' },
  { name: 'rfcomm-bulk', file: 'rfcomm-bulk.ts' },
  { name: 'uart', file: 'uart.ts' },
  { name: 'latency', file: 'latency.ts' },
  { name: 'parser', file: 'parser.ts' },
  { name: 'scale', file: 'scale.ts' },
  { name: 'startup', file: 'startup.ts' },
  { name: 'le-cbm', file: 'le-cbm.ts' },
  { name: 'gatt-notify', file: 'gatt-notify.ts' },
  { name: 'ertm', file: 'ertm.ts' },
];

/** bench/run.ts's flags (ports/options.ts, the one option parser). */
const RUN_FLAGS: FlagSpec = {
  quick: { type: 'boolean' },
  only: { type: 'string' },
  report: { type: 'boolean' },
  write: { type: 'boolean' },
  'no-install': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
const RUN_USAGE = 'usage: npm run bench -- [--quick] [--only NAME,...] [--no-install] | --report [--write]';

function formatValue(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

/** Markdown table: one row per target, then the other headline figures. */
export function markdownTable(results: BenchResult[]): string {
  const rows = ['| Benchmark | Figure | Result | Target | Met |', '|---|---|---:|---|---|'];
  for (const r of results) {
    for (const t of r.targets) {
      const met = targetMet(r, t);
      rows.push(
        `| ${r.title} | ${t.figure} | ${formatValue(r.figures[t.figure])} | ${t.target} | ${met === undefined ? 'not measured' : met ? 'yes' : '**no**'} |`,
      );
    }
  }
  return rows.join('\n');
}

export function figuresTable(r: BenchResult): string {
  const rows = [`| ${r.title} | Value | Unit |`, '|---|---:|---|'];
  for (const [k, v] of Object.entries(r.figures)) rows.push(`| ${k} | ${formatValue(v)} | ${r.units[k] ?? ''} |`);
  return rows.join('\n');
}

/** Replace the text between <!-- NAME:BEGIN --> and <!-- NAME:END --> (or a bare <!-- NAME --> marker). */
function replaceBlock(doc: string, name: string, body: string): string {
  const begin = `<!-- ${name}:BEGIN -->`;
  const end = `<!-- ${name}:END -->`;
  const block = `${begin}\n${body}\n${end}`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) return doc.slice(0, i) + block + doc.slice(j + end.length);
  const bare = `<!-- ${name} -->`;
  if (doc.includes(bare)) return doc.replace(bare, block);
  return doc + `\n${block}\n`;
}

function runInfo(results: BenchResult[], quick: boolean): string {
  const m = results[0]?.machine;
  if (!m) return '(no results)';
  const loads = results.map((r) => r.machine.load_1m);
  const dates = results.map((r) => r.date).sort();
  let total = '';
  const sp = join(RESULTS_DIR, `summary${quick ? '.quick' : ''}.json`);
  if (existsSync(sp)) total = `; whole run ${(JSON.parse(readFileSync(sp, 'utf8')) as { total_s: number }).total_s.toFixed(0)} s`;
  return [
    `- Command: \`npm run bench${quick ? ' -- --quick' : ''}\` (then \`npm run bench:report -- --write\`)`,
    `- Source: commit \`${[...new Set(results.map((r) => r.machine.commit))].join(', ')}\`, ${dates[0]} .. ${dates[dates.length - 1]}${total}`,
    `- Machine: ${m.nproc} cores (\`nproc\`), CPU \`${m.cpu_model}\` (/proc/cpuinfo model name), node ${m.node}, ${m.platform}, GC exposed: ${m.gc_exposed}`,
    `- 1-minute load average when each benchmark started: ${Math.min(...loads)} .. ${Math.max(...loads)} (other work shares the 2 cores; wall-clock rates suffer first, CPU-time figures much less)`,
  ].join('\n');
}

function writeBenchmarksMd(results: BenchResult[], quick: boolean): void {
  const p = join(ROOT_DIR, 'BENCHMARKS.md');
  let doc = existsSync(p) ? readFileSync(p, 'utf8') : '# Benchmarks\n';
  doc = replaceBlock(doc, 'RUN-INFO', runInfo(results, quick));
  doc = replaceBlock(doc, 'TARGETS', markdownTable(results));
  doc = replaceBlock(doc, 'FIGURES', results.map((r) => figuresTable(r)).join('\n\n'));
  writeFileSync(p, doc);
  console.log(`\n(wrote ${p})`);
}

function readResult(name: string, quick: boolean): BenchResult | null {
  const p = resultPath(name, quick);
  if (!existsSync(p)) return null;
  return JSON.parse(readFileSync(p, 'utf8')) as BenchResult;
}

function main(): void {
  const p = parse_flags(process.argv.slice(2), RUN_FLAGS, { positionals: false });
  if (flag_given(p, 'help')) {
    console.log(RUN_USAGE);
    return;
  }
  if (p.errors.length > 0) {
    console.error(`bench: ${p.errors[0]} (${RUN_USAGE})`);
    process.exitCode = 2;
    return;
  }
  const quick = flag_given(p, 'quick');
  const only = flag_string(p, 'only')?.split(',');
  const list = BENCHMARKS.filter((b) => !only || only.includes(b.name));
  if (only && list.length !== only.length) {
    console.error(`unknown benchmark in --only; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    process.exitCode = 2;
    return;
  }

  if (flag_given(p, 'report')) {
    const results = list.map((b) => readResult(b.name, quick)).filter((r): r is BenchResult => r !== null);
    console.log(markdownTable(results));
    for (const r of results) console.log('\n' + figuresTable(r));
    if (flag_given(p, 'write')) writeBenchmarksMd(results, quick);
    return;
  }

  const m = machineInfo();
  console.log(`bthost benchmarks${quick ? ' (quick)' : ''}: ${m.nproc} x ${m.cpu_model}, node ${m.node}, load ${m.load_1m}`);
  const t0 = Date.now();
  const passOn = [...(flag_given(p, 'no-install') ? ['--no-install'] : []), ...(quick ? ['--quick'] : [])];
  const results: BenchResult[] = [];
  const failed: string[] = [];
  for (const b of list) {
    const start = Date.now();
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(BENCH_DIR, b.file), ...passOn], {
      cwd: ROOT_DIR,
      stdio: 'inherit',
      env: { ...process.env, BTHOST_BENCH_REEXEC: '1' },
    });
    if (r.status !== 0) {
      failed.push(b.name);
      console.error(`!! ${b.name} failed (exit ${r.status ?? r.signal})`);
      continue;
    }
    const res = readResult(b.name, quick);
    if (res) results.push(res);
    console.log(`   (${b.name}: ${((Date.now() - start) / 1000).toFixed(1)} s)\n`);
  }
  const total_s = (Date.now() - t0) / 1000;
  console.log('== Summary against targets');
  console.log(markdownTable(results));
  console.log(`total ${total_s.toFixed(1)} s${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, `summary${quick ? '.quick' : ''}.json`),
    JSON.stringify(
      { date: new Date().toISOString(), machine: m, total_s, failed, results: results.map((r) => r.name) },
      null,
      2,
    ) + '\n',
  );
  if (failed.length) process.exitCode = 1;
}

if (isMain(import.meta.url)) main();
