/**
 * .ci/run's last line ("N passed, M failed") for real uvu runs: M >= 1 whenever the run failed,
 * including a test file that throws on import (uvu then runs nothing and prints no summary).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../..');

const PASS =
  "import { test } from 'uvu';\nimport * as assert from 'uvu/assert';\ntest('one', () => assert.ok(true));\ntest('two', () => assert.ok(true));\ntest.run();\n";
const FAIL =
  "import { test } from 'uvu';\nimport * as assert from 'uvu/assert';\ntest('bad', () => assert.ok(false));\ntest.run();\n";
const THROWS = "import { test } from 'uvu';\nthrow new Error('broken at import');\ntest('never', () => {});\ntest.run();\n";

/** Run uvu over the given test files, then `.ci/run --summary` on its output: last line and exit status. */
function ci(files: Record<string, string>): { last: string; status: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-ci-summary-'));
  try {
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    fs.mkdirSync(path.join(dir, 't'));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, 't', name), text);
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'node_modules/uvu/bin.js'), 't', '\\.test\\.ts$'],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const out = path.join(dir, 'out.txt');
    fs.writeFileSync(out, run.stdout + run.stderr);
    const s = spawnSync('bash', [path.join(ROOT, '.ci/run'), '--summary', out, String(run.status)], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    const lines = s.stdout.trimEnd().split('\n');
    return { last: lines[lines.length - 1]!, status: s.status, output: run.stdout + run.stderr + s.stdout + s.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('all pass: "2 passed, 0 failed", exit 0', () => {
  const r = ci({ 'a.test.ts': PASS });
  assert.is(r.last, '2 passed, 0 failed', r.output);
  assert.is(r.status, 0);
});

test('a failing test: "2 passed, 1 failed", exit 1', () => {
  const r = ci({ 'a.test.ts': PASS, 'b.test.ts': FAIL });
  assert.is(r.last, '2 passed, 1 failed', r.output);
  assert.is(r.status, 1);
});

test('a test file that throws on import: no uvu summary, "0 passed, 1 failed", exit 1', () => {
  const r = ci({ 'a.test.ts': PASS, 'b.test.ts': THROWS });
  assert.match(r.output, /broken at import/);
  assert.not.match(r.output, /Total:/, 'uvu printed no summary');
  assert.match(r.output, /ci: no test ran/);
  assert.is(r.last, '0 passed, 1 failed', r.output);
  assert.is(r.status, 1);
});

test('no test files: "0 passed, 1 failed", exit 1', () => {
  const r = ci({ 'a.txt': 'not a test' });
  assert.is(r.last, '0 passed, 1 failed', r.output);
  assert.is(r.status, 1);
});

test.run();
