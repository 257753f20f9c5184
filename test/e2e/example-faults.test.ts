/**
 * Issue 18 item 2 for the examples (ports/example-main.ts): examples/spp-counter as a process on a
 * socat pty of `bthost controller --control` (test/helpers/fault-harness.ts), as a user runs it.
 *
 * - a Hardware Error: one line naming it (`...; the stack restarts`), `the controller is back:
 *   serving again`, `up and running at ADDR` again;
 * - the port unplugged: `port lost: ...; opening it again`, `opening TTY again in 250 ms (attempt
 *   1)`, retries while the pty is gone; a new pty at the same path: back, up and running (a new
 *   virtual controller, a new address), and it serves: examples/spp-client on another pty reads a
 *   counter line from it and exits 0;
 * - with --once, the port unplugged ends it: exit 1 and one line `port lost: ...: stopping (--once)`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { faultRadio, type FaultRadio } from '../helpers/fault-harness.js';
import { run, tsx, until, type Proc } from './proc-helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-example-faults-'));
const procs: Proc[] = [];
let seq = 0;
const UP = /up and running at ((?:[0-9A-F]{2}:){5}[0-9A-F]{2})/g;

const example = (script: string, args: string[]) => {
  const p = tsx(script, args);
  procs.push(p);
  return p;
};
async function exitOf(p: Proc, ms = 20_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms:\n${p.out}`)), ms);
  });
  try {
    return await Promise.race([p.exit, late]);
  } finally {
    clearTimeout(timer);
  }
}
/** The fault lines (what example-main prints on stderr about faults), in order. */
const faultLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => /^(Hardware Error|H4 framing error|port lost|opening .* again in|the controller is back)/.test(l));
const ups = (out: string) => [...out.matchAll(UP)].map((m) => m[1]!);

async function radio(): Promise<FaultRadio> {
  const dir = path.join(tmp, `r${++seq}`);
  fs.mkdirSync(dir);
  return faultRadio(dir, procs, ['a', 'b']);
}

test.after.each(() => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

test('spp-counter rides through a Hardware Error and reopens its unplugged port; serves spp-client after', async () => {
  const r = await radio();
  const tty = r.ttys[0]!;
  const counter = example('examples/spp-counter.ts', ['-u', tty, '--no-flow']);
  await until(() => ups(counter.out).length === 1, 20_000, 'up and running');
  const first = ups(counter.out)[0]!;

  assert.match(await r.fault('c0:hardware-error=0x42'), /^ok/);
  await until(() => ups(counter.out).length === 2, 15_000, 'up again after the Hardware Error');
  assert.equal(faultLines(counter.out), [
    `Hardware Error 0x42 from the controller on ${tty}; the stack restarts`,
    'the controller is back: serving again',
  ]);
  assert.is(ups(counter.out)[1], first, 'the same controller');

  const before = counter.out.length;
  assert.match(await r.fault('c0:unplug'), /^ok/);
  await until(() => /opening .* again in 250 ms \(attempt 1\)/.test(counter.out.slice(before)), 10_000, 'retry line');
  await new Promise((res) => setTimeout(res, 800)); // a few attempts while the pty is gone
  assert.is(counter.child.exitCode, null, counter.out);
  procs.push(
    run('socat', [`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${path.join(path.dirname(r.control), 'controller.sock')}`]),
  );
  await until(() => ups(counter.out).length === 3, 20_000, 'up again after the unplug');
  const lines = faultLines(counter.out.slice(before));
  assert.match(lines[0]!, new RegExp(`^port lost: .*; opening it again$`));
  assert.is(lines[1], `opening ${tty} again in 250 ms (attempt 1)`);
  assert.is(lines[lines.length - 1], 'the controller is back: serving again');
  // one line per fault and per first (then every tenth) retry: nothing else
  assert.ok(lines.length <= 4, lines.join('\n'));
  const addr = ups(counter.out)[2]!;

  const client = example('examples/spp-client.ts', ['-u', r.ttys[1]!, '--no-flow', '--addr', addr, '--lines', '1']);
  assert.is(await exitOf(client, 30_000), 0, client.out);
  assert.match(client.out, /BTstack counter \d{4}/);
  assert.is(counter.child.exitCode, null, 'the counter keeps serving');
});

test('spp-counter --once: the port unplugged -> exit 1 with one line', async () => {
  const r = await radio();
  const tty = r.ttys[0]!;
  const counter = example('examples/spp-counter.ts', ['-u', tty, '--no-flow', '--once']);
  await until(() => ups(counter.out).length === 1, 20_000, 'up and running');
  assert.match(await r.fault('c0:unplug'), /^ok/);
  assert.is(await exitOf(counter), 1, counter.out);
  const lines = faultLines(counter.out);
  assert.is(lines.length, 1, counter.out);
  assert.match(lines[0]!, /^port lost: .*: stopping \(--once\)$/);
});

test.after(() => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
