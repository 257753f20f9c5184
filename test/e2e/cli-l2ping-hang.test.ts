/**
 * Issue 18 item 4 as a user met it: `bthost l2ping ADDR --page-timeout MS` against a controller that
 * acknowledges Create Connection (Command Status 0) and never completes it (`bthost controller
 * --fault swallow=HCI_Create_Connection`, test/helpers/fault-harness.ts) hung until Ctrl-C. Now the
 * host cancels after the page timeout + 6 s and reports Page Timeout a second later: l2ping exits 1
 * with one `bthost:` line, within that bound.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { faultRadio } from '../helpers/fault-harness.js';
import { tsx, type Proc } from './proc-helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-l2ping-hang-'));
const procs: Proc[] = [];

test.after(() => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('l2ping --page-timeout 1000, Create Connection never completed: exit 1, one line, within page timeout + 7 s', async () => {
  process.env['BTHOST_KEYS_DIR'] = path.join(tmp, 'keys');
  const r = await faultRadio(tmp, procs, ['a'], { faults: 'swallow=HCI_Create_Connection' });
  const t0 = performance.now();
  const p = tsx('ports/cli/cli.ts', ['l2ping', '00:1B:DC:0F:42:01', '--page-timeout', '1000', '-c', '1', '--port', r.ttys[0]!]);
  procs.push(p);
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    p.exit,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`l2ping still running after 20 s:\n${p.out}`)), 20_000);
    }),
  ]);
  clearTimeout(timer);
  const took = performance.now() - t0;
  assert.is(code, 1, p.out);
  const lines = p.out.split('\n').filter((l) => l.startsWith('bthost:'));
  assert.is(lines.length, 1, p.out);
  assert.match(lines[0]!, /00:1B:DC:0F:42:01.*page timeout/i);
  // 1 s page timeout + 6 s setup + 1 s after the cancel, plus start-up, with slack for a loaded machine
  assert.ok(took >= 8000, `took ${took.toFixed(0)} ms: ended before the bound?`);
  assert.ok(took < 8000 + 8000, `took ${took.toFixed(0)} ms`);
});

test.run();
