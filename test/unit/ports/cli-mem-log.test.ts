/**
 * BTHOST_MEM_LOG (ports/cli/mem-log.ts, the soak's hook): one JSON line at the start and one per
 * period from the host's timers, with the process's memoryUsage fields; no file, no timer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MEM_LOG_PERIOD_MS, mem_log } from '../../../ports/cli/mem-log.js';

/** A host whose timers run when told to. */
function fakeHost() {
  const timers: { ms: number; fn: () => void }[] = [];
  return { timers, after: (ms: number, fn: () => void) => timers.push({ ms, fn }) };
}

test('a line at once, then one per 10 s timer, each with t and the memoryUsage fields', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-memlog-'));
  const file = path.join(dir, 'mem.jsonl');
  const host = fakeHost();
  mem_log(host, file);
  assert.is(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 1);
  assert.is(host.timers.length, 1);
  assert.is(host.timers[0]!.ms, MEM_LOG_PERIOD_MS);
  assert.is(MEM_LOG_PERIOD_MS, 10_000);
  host.timers.shift()!.fn();
  host.timers.shift()!.fn();
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  assert.is(lines.length, 3);
  for (const l of lines) {
    const o = JSON.parse(l) as Record<string, number>;
    assert.equal(Object.keys(o), ['t', 'rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers']);
    for (const v of Object.values(o)) assert.ok(Number.isInteger(v) && v > 0, l);
    assert.ok(Math.abs(o['t']! - Date.now()) < 60_000);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('no file: nothing sampled, no timer; an unwritable file stops sampling without throwing', () => {
  const host = fakeHost();
  mem_log(host, undefined);
  mem_log(host, '');
  assert.is(host.timers.length, 0);
  mem_log(host, '/nonexistent-dir/x/mem.jsonl');
  assert.is(host.timers.length, 0);
});

test.run();
