/**
 * One option parser (issue 12 item 7): every bthost program reads its argv through ports/options.ts,
 * so the same mistake gets the same answer everywhere: one line on stderr naming the program and
 * the problem, exit 2, nothing on stdout, nothing run. Programs: the demo, an example (the example
 * main), the `bthost` CLI and its controller command, the benchmarks (a benchmark, the runner,
 * the profiler, the comparison).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';

const PROGRAMS: Array<{ name: string; argv: string[] }> = [
  { name: 'demo', argv: ['examples/demo.ts'] },
  { name: 'gap-inquiry', argv: ['examples/gap-inquiry.ts'] },
  { name: 'bthost info', argv: ['ports/cli/cli.ts', 'info'] },
  { name: 'bthost controller', argv: ['ports/cli/cli.ts', 'controller'] },
  { name: 'latency', argv: ['bench/latency.ts'] },
  { name: 'l2cap-bulk', argv: ['bench/l2cap-bulk.ts'] },
  { name: 'bench', argv: ['bench/run.ts'] },
  { name: 'profile', argv: ['bench/profile.ts', 'l2cap-672'] },
  { name: 'compare', argv: ['bench/compare.ts', '--base', '.'] },
];

function run(argv: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', ...argv], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, BTHOST_BENCH_REEXEC: '1' },
  });
}

test('an unknown option: one line `PROGRAM: unknown option X (...)`, exit 2, in every program', () => {
  for (const p of PROGRAMS) {
    const r = run([...p.argv, '--bogus']);
    assert.is(r.status, 2, `${p.name}: exit status; stderr ${r.stderr}`);
    assert.is(r.stdout, '', `${p.name}: nothing on stdout`);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, `${p.name}: one line, got ${JSON.stringify(r.stderr)}`);
    assert.ok(lines[0]!.startsWith(`${p.name}: unknown option --bogus (`), `${p.name}: ${lines[0]}`);
  }
});

test('a bad value of a shared flag: the same words in every program that takes it', () => {
  const profile = "--profile: expected v1.4 or v1.8, got 'v9'";
  for (const p of [PROGRAMS[0]!, PROGRAMS[1]!, PROGRAMS[2]!]) {
    const r = run([...p.argv, '--profile', 'v9']);
    assert.is(r.status, 2, `${p.name}: ${r.stderr}`);
    assert.ok(r.stderr.trim().startsWith(`${p.name}: ${profile} (`), `${p.name}: ${r.stderr}`);
  }
  // a missing value is reported the same way, also when the next argument is another option
  for (const p of [PROGRAMS[0]!, PROGRAMS[1]!]) {
    const r = run([...p.argv, '--profile', '--bogus']);
    assert.is(r.status, 2, `${p.name}: ${r.stderr}`);
    assert.ok(r.stderr.trim().startsWith(`${p.name}: --profile: missing value (`), `${p.name}: ${r.stderr}`);
  }
});

test('--mb: a bad number is a usage error in the bulk benchmarks and the profiler, before anything runs', () => {
  for (const argv of [['bench/l2cap-bulk.ts'], ['bench/rfcomm-bulk.ts'], ['bench/profile.ts', 'l2cap-672']]) {
    const r = run([...argv, '--mb', 'lots']);
    assert.is(r.status, 2, `${argv[0]}: ${r.stderr}`);
    assert.match(r.stderr.trim(), /^[a-z0-9-]+: --mb: expected a positive number of megabytes, got 'lots' \(usage: /);
  }
});

test.run();
