/**
 * Issue 18 item 2 for the LE long-running commands, as a user meets them: `bthost le-cbm listen`
 * and `bthost advertise` as processes on socat ptys of `bthost controller --control`
 * (test/helpers/fault-harness.ts), faults on the listener's controller only.
 *
 * - le-cbm listen rides through a Hardware Error mid-transfer: one line naming it, the cut
 *   transfer reported (`transfer failed: ...; still listening`), SPSM registered and advertising
 *   again once the controller is back; the sender's LE link ends by its supervision timeout (exit 1);
 *   the next sender's transfer succeeds (exit 0, same sha256 on both ends);
 * - le-cbm listen --once stops at the first fault (a stray byte): exit 1, one line;
 * - advertise rides through a Hardware Error (advertising again, one line each) and Ctrl-C exits 0;
 * - pair --listen rides through a Hardware Error (waiting again); with --once it exits 1, one line.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { faultRadio, type FaultRadio } from '../helpers/fault-harness.js';
import { tsx, until, type Proc } from './proc-helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-cli-faults-le-'));
const procs: Proc[] = [];
let seq = 0;

const ADDR = /at ((?:[0-9A-F]{2}:){5}[0-9A-F]{2})/;
const cli = (args: string[]) => {
  const p = tsx('ports/cli/cli.ts', args);
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
const errLines = (out: string) => out.split('\n').filter((l) => l.startsWith('bthost:'));
const count = (out: string, re: RegExp) => (out.match(new RegExp(re.source, 'g')) ?? []).length;

async function radio(): Promise<FaultRadio> {
  const dir = path.join(tmp, `r${++seq}`);
  fs.mkdirSync(dir);
  process.env['BTHOST_KEYS_DIR'] = path.join(dir, 'keys');
  return faultRadio(dir, procs, ['a', 'b']);
}

test.after.each(() => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

test('le-cbm listen rides through a Hardware Error mid-transfer; the next transfer succeeds (exit 0)', async () => {
  const r = await radio();
  const server = cli(['le-cbm', 'listen', '0x85', '--receive', '--sha256', '--no-progress', '--port', r.ttys[0]!]);
  await until(() => /listening on SPSM 0x85/.test(server.out), 20_000, 'listening');
  const addr = ADDR.exec(server.out)![1]!;
  const cut = cli(['le-cbm', 'connect', addr, '0x85', '--send', '20M', '--no-progress', '--port', r.ttys[1]!]);
  await until(() => /LE credit-based channel open/.test(cut.out), 20_000, 'channel open');
  await new Promise((res) => setTimeout(res, 200));
  const before = server.out.length;
  assert.match(await r.fault('c0:hardware-error=0x42'), /^ok/);
  await until(() => /listening on SPSM 0x85/.test(server.out.slice(before)), 15_000, 'listening again');
  const lines = errLines(server.out.slice(before));
  assert.is(lines.length, 3, server.out);
  assert.match(
    lines[0]!,
    /^bthost: Hardware Error 0x42 from the controller on .*a\/tty .*; the stack restarts \(--once: stop at a fault\)$/,
  );
  assert.match(
    lines[1]!,
    /^bthost: transfer failed: Hardware Error 0x42 from .*: the channel was cut after \d+ bytes received; still listening$/,
  );
  assert.match(lines[2]!, new RegExp(`^bthost: the controller on .* is back \\(${addr}\\)$`));
  assert.match(server.out.slice(before), /listening on SPSM 0x85 at .* \(LE, advertising as 'bthost le-cbm'\)/);
  // the sender's controller ends the LE link by its supervision timeout
  assert.is(await exitOf(cut), 1, cut.out);
  assert.match(errLines(cut.out).join('\n'), /the channel was cut after \d+ of 20971520 bytes sent|was lost \(.*\(0x08\)\)/);
  const ok = cli(['le-cbm', 'connect', addr, '0x85', '--send', '64k', '--sha256', '--no-progress', '--port', r.ttys[1]!]);
  assert.is(await exitOf(ok), 0, ok.out);
  assert.is(await exitOf(server), 0, server.out);
  assert.match(server.out, /received 65536 bytes/);
  const sha = (out: string) => /sha256 ([0-9a-f]{64})/.exec(out.slice(out.lastIndexOf('received 65536')))?.[1];
  assert.is(sha(server.out), /sha256 ([0-9a-f]{64})/.exec(ok.out)?.[1]);
  assert.is(count(server.out, /registered|went away/), 0, server.out);
});

test('le-cbm listen --once: a stray byte on its line -> exit 1 with one line', async () => {
  const r = await radio();
  const server = cli(['le-cbm', 'listen', '0x85', '--receive', '--once', '--no-progress', '--port', r.ttys[0]!]);
  await until(() => /listening on SPSM 0x85/.test(server.out), 20_000, 'listening');
  assert.match(await r.fault('c0:framing-error'), /^ok/);
  assert.is(await exitOf(server), 1, server.out);
  const lines = errLines(server.out);
  assert.is(lines.length, 1, server.out);
  assert.match(
    lines[0]!,
    /^bthost: H4 framing error on .*a\/tty .*: unknown H4 packet type 0xff .*; the controller restarted$/,
    server.out,
  );
});

test('advertise rides through a Hardware Error (advertising again), Ctrl-C exits 0', async () => {
  const r = await radio();
  const adv = cli(['advertise', '--connectable', '--name', 'ride', '--port', r.ttys[0]!]);
  await until(() => /advertising as "ride"/.test(adv.out), 20_000, 'advertising');
  assert.match(await r.fault('c0:hardware-error'), /^ok/);
  await until(() => count(adv.out, /advertising as "ride"/) === 2, 15_000, 'advertising again');
  const lines = errLines(adv.out);
  assert.is(lines.length, 2, adv.out);
  assert.match(
    lines[0]!,
    /^bthost: Hardware Error 0x00 from the controller on .*; the stack restarts \(--once: stop at a fault\)$/,
  );
  assert.match(lines[1]!, /^bthost: the controller on .* is back \(/);
  adv.child.kill('SIGINT');
  assert.is(await exitOf(adv), 0, adv.out);
  assert.match(adv.out, /advertising stopped, 0 connections/);
});

test('pair --listen rides through a Hardware Error (waiting again); --once stops at it (exit 1, one line)', async () => {
  const r = await radio();
  const ride = cli(['pair', '--listen', '--yes', '--port', r.ttys[0]!]);
  const once = cli(['pair', '--listen', '--yes', '--once', '--port', r.ttys[1]!]);
  for (const p of [ride, once]) await until(() => /waiting for a device to pair/.test(p.out), 20_000, 'waiting');
  assert.match(await r.fault('hardware-error=0x42'), /^ok 2/);
  await until(() => count(ride.out, /waiting for a device to pair/) === 2, 15_000, 'waiting again');
  const lines = errLines(ride.out);
  assert.is(lines.length, 2, ride.out);
  assert.match(
    lines[0]!,
    /^bthost: Hardware Error 0x42 from the controller on .*a\/tty .*; the stack restarts \(--once: stop at a fault\)$/,
  );
  assert.match(lines[1]!, /^bthost: the controller on .* is back \(/);
  assert.is(await exitOf(once), 1, once.out);
  assert.equal(errLines(once.out).length, 1, once.out);
  assert.match(
    errLines(once.out)[0]!,
    /^bthost: Hardware Error 0x42 from the controller on .*b\/tty .*; the controller restarted$/,
  );
  assert.is(ride.child.exitCode, null, ride.out);
});

test.after(() => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
