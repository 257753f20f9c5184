/**
 * `npm test`: every test/**\/*.test.ts under uvu (with tsx), in parallel worker processes.
 *
 * uvu runs the files it is given one after the other in one process; most of our end-to-end
 * files wait on child processes, ptys and tshark, so one process leaves the machine idle. This
 * runner splits the suite into jobs (each end-to-end or pty file alone, each unit directory as
 * one job), runs BTHOST_TEST_JOBS of them at a time (default: CPUs + 1), prints each job's uvu
 * output whole when it ends (never interleaved), and ends with one summary in uvu's own format
 * (Total / Passed / Skipped / Duration), which .ci/run reads. Each job gets its own empty
 * BTHOST_KEYS_DIR (removed after it), so no test reads or writes the user's ~/.bthost. A job that prints no summary (a
 * file that throws on import) counts as one failed test. Exit status 1 when anything failed.
 *
 *   npm test                      the whole suite
 *   npm test -- PATTERN           only files whose path (relative to test/) matches PATTERN
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TEST_DIR = path.join(ROOT, 'test');
const UVU = path.join(ROOT, 'node_modules', 'uvu', 'bin.js');

interface Job {
  name: string;
  files: string[];
  weight: number;
}

interface Result {
  job: Job;
  output: string;
  code: number;
  total: number;
  passed: number;
  skipped: number;
  ms: number;
}

/** Test files relative to test/, as uvu names them (forward slashes), node_modules skipped. */
function listTests(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listTests(path.join(dir, e.name), r));
    else if (/\.test\.ts$/.test(e.name)) out.push(r);
  }
  return out;
}

/** One job per file outside test/unit (processes, ptys, captures), one per test/unit/<dir>. */
function makeJobs(files: string[]): Job[] {
  const groups = new Map<string, string[]>();
  for (const f of files) {
    const parts = f.split('/');
    const key = parts[0] === 'unit' && parts.length > 2 ? `unit/${parts[1]}` : f;
    const g = groups.get(key) ?? [];
    g.push(f);
    groups.set(key, g);
  }
  const jobs = [...groups].map(([name, fs_]) => ({
    name,
    files: fs_.sort(),
    // larger first: source size is a rough stand-in for run time
    weight: fs_.reduce((n, f) => n + fs.statSync(path.join(TEST_DIR, f)).size, 0) * (name.startsWith('unit/') ? 1 : 4),
  }));
  return jobs.sort((a, b) => b.weight - a.weight || a.name.localeCompare(b.name));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function strip(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

function field(out: string, name: string): number {
  const m = [...strip(out).matchAll(new RegExp(`^\\s*${name}:\\s*(\\d+)`, 'gm'))].pop();
  return m ? Number(m[1]) : 0;
}

function runJob(job: Job): Promise<Result> {
  const pattern = `^(?:${job.files.map(escapeRe).join('|')})$`;
  const started = process.hrtime.bigint();
  // each job's CLI children keep their keys in a directory of their own, never in ~/.bthost: the
  // virtual controllers' addresses repeat from run to run, so a key left there by one run (or by a
  // user) would meet the next run's peer as a stale key
  const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-test-keys-'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', UVU, 'test', pattern], {
      cwd: ROOT,
      env: {
        ...process.env,
        BTHOST_KEYS_DIR: keys,
        FORCE_COLOR: process.env.FORCE_COLOR ?? (process.stdout.isTTY ? '1' : '0'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code, signal) => {
      fs.rmSync(keys, { recursive: true, force: true });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (signal) output += `\n(run-tests: killed by ${signal})\n`;
      resolve({
        job,
        output,
        code: code ?? 1,
        total: field(output, 'Total'),
        passed: field(output, 'Passed'),
        skipped: field(output, 'Skipped'),
        ms,
      });
    });
  });
}

async function main(): Promise<number> {
  const filter = process.argv[2] ? new RegExp(process.argv[2], 'i') : null;
  const files = listTests(TEST_DIR).filter((f) => !filter || filter.test(f));
  if (files.length === 0) {
    console.error(`run-tests: no test file matches ${filter ?? '\\.test\\.ts$'}`);
    return 1;
  }
  const env = Number(process.env.BTHOST_TEST_JOBS);
  const width = Number.isInteger(env) && env > 0 ? env : os.availableParallelism() + 1;
  const queue = makeJobs(files);
  const started = Date.now();
  const results: Result[] = [];
  console.log(`run-tests: ${files.length} files in ${queue.length} jobs, ${width} at a time`);
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const r = await runJob(job);
      results.push(r);
      const failed = r.total - r.passed - r.skipped;
      process.stdout.write(
        `\n=== ${job.name} (${job.files.length} file${job.files.length > 1 ? 's' : ''}, ${(r.ms / 1000).toFixed(1)} s): ` +
          `${r.passed} passed, ${failed} failed, exit ${r.code}\n${r.output}`,
      );
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  let total = 0;
  let passed = 0;
  let skipped = 0;
  const bad: string[] = [];
  for (const r of results) {
    // a job without a summary (a file threw on import) or with a non-zero exit counts one failure at least
    const t = r.total === 0 || (r.code !== 0 && r.total === r.passed + r.skipped) ? r.total + 1 : r.total;
    total += t;
    passed += r.passed;
    skipped += r.skipped;
    if (t !== r.passed + r.skipped) bad.push(r.job.name);
  }
  const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 8);
  console.log(`\nslowest jobs: ${slowest.map((r) => `${r.job.name} ${(r.ms / 1000).toFixed(0)} s`).join(', ')}`);
  if (bad.length) console.log(`failed jobs: ${bad.join(', ')}`);
  // uvu's summary format: .ci/run reads the last Total / Passed / Skipped lines
  console.log(
    `\n  Total:     ${total}\n  Passed:    ${passed}\n  Skipped:   ${skipped}\n  Duration:  ${Date.now() - started}ms\n`,
  );
  return bad.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`run-tests: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
