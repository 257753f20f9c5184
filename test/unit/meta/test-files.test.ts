/**
 * The test files themselves: every test/**\/*.test.ts ends with `test.run()` (a test declared after
 * it is silently never run by uvu) and uses no `.only` / `.skip`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const ONLY = ['test', 'only('].join('.');
const SKIP = ['test', 'skip('].join('.');

/** Problems of one test file's text (empty when it is fine). */
function check_test_file(text: string): string[] {
  const problems: string[] = [];
  const lines = text.split('\n');
  const runs = lines.flatMap((l, i) => (/^test\.run\(\);?\s*$/.test(l) ? [i] : []));
  if (runs.length !== 1) {
    problems.push(`${runs.length} top-level test.run() lines (expected exactly 1)`);
    if (runs.length === 0) return problems;
  }
  const last = runs[runs.length - 1]!;
  let in_comment = false;
  for (let i = last + 1; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (in_comment) {
      if (l.includes('*/')) in_comment = false;
      continue;
    }
    if (l === '' || l.startsWith('//')) continue;
    if (l.startsWith('/*')) {
      in_comment = !l.includes('*/');
      continue;
    }
    // erased at run time: a type-only export is harmless after test.run()
    if (/^export type \{[^}]*\}( from '[^']+')?;?$/.test(l)) continue;
    problems.push(`line ${i + 1}, after test.run(): ${l.slice(0, 60)}`);
  }
  for (const [i, l] of lines.entries()) {
    if (l.includes(ONLY) || l.includes(SKIP)) problems.push(`line ${i + 1}: .only / .skip`);
  }
  return problems;
}

function test_files(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...test_files(p));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

test('the checker: accepts a file ending in test.run(); flags a test after it, code after it, two or no runs, .only/.skip', () => {
  const ok = "import { test } from 'uvu';\ntest('a', () => {});\n\ntest.run();\n";
  assert.equal(check_test_file(ok), []);
  assert.equal(check_test_file(ok + '\n// trailing comment\n/* block\n comment */\nexport type { A, B };\n'), []);
  assert.equal(check_test_file(ok + "\ntest('never runs', () => {});\n"), [
    "line 6, after test.run(): test('never runs', () => {});",
  ]);
  assert.equal(check_test_file(ok + '\nconsole.log(1);\n'), ['line 6, after test.run(): console.log(1);']);
  assert.equal(check_test_file(ok + "test('b', () => {});\ntest.run();\n"), [
    '2 top-level test.run() lines (expected exactly 1)',
  ]);
  assert.equal(check_test_file("test('a', () => {});\n"), ['0 top-level test.run() lines (expected exactly 1)']);
  assert.equal(check_test_file(`${ONLY}'a', () => {});\ntest.run();\n`), ['line 1: .only / .skip']);
  assert.equal(check_test_file(`${SKIP}'a', () => {});\ntest.run();\n`), ['line 1: .only / .skip']);
});

test('every test/**/*.test.ts ends with test.run(), declares nothing after it and has no .only / .skip', () => {
  const files = test_files(path.join(ROOT, 'test'));
  assert.ok(files.length > 50, `${files.length} test files`);
  assert.ok(files.includes(path.join(ROOT, 'test/unit/meta/test-files.test.ts')), 'this file is checked too');
  const bad: string[] = [];
  for (const f of files) {
    for (const p of check_test_file(fs.readFileSync(f, 'utf8'))) bad.push(`${path.relative(ROOT, f)}: ${p}`);
  }
  assert.equal(bad, []);
});

test.run();
