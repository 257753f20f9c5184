/**
 * examples/gap-inquiry.ts on the in-process virtual controller (real time, ~7 s): it prints
 * "up and running", finds both virtual devices with their names (one from EIR, one through a
 * Remote Name Request), powers off and exits 0; its packet log is clean.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertCleanCapture } from '../helpers/capture.js';

test('gap-inquiry example: devices and names found, clean exit, clean capture', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-gap-inquiry-'));
  const log = path.join(dir, 'gap-inquiry.pklg');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/gap-inquiry.ts', '-l', log], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^up and running at ([0-9A-F]{2}:){5}[0-9A-F]{2}$/m);
  assert.match(out, /^BTSTACK_EVENT_STATE state=2$/m, 'events printed by name');
  assert.match(out, /^Device found: .* name 'Headset ([0-9A-F]{2}:){5}[0-9A-F]{2}'$/m);
  assert.match(out, /^Name: 'Keyboard'$/m, 'name from a Remote Name Request');
  assert.match(out, /Inquiry round done: 2 device\(s\)/);
  assert.ok(fs.existsSync(log));
  const report = assertCleanCapture(log);
  assert.ok(report.records > 20);
});

test('gap-inquiry example: a bad option is one line on stderr, exit 2', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/gap-inquiry.ts', '--bogus'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.is(r.status, 2);
  assert.equal(r.stderr.trim().split('\n'), ['gap-inquiry: unknown option --bogus (gap-inquiry --help for usage)']);
});

test.run();
