/**
 * Issue 18 items 1 and 2, as a user meets them: `bthost l2cap listen` and `connect` as processes on
 * socat ptys of `bthost controller` with its fault control socket (test/helpers/fault-harness.ts).
 *
 * - a transfer cut by a fault exits 1 with one `bthost:` line naming the cause and the bytes done
 *   (never 0, never "the controller went away"): the side whose controller failed at once, the
 *   peer when its controller ends the lost link by the supervision timeout (20 s, reason 0x08);
 * - a `listen` rides through a stray byte (H4 framing error) and a Hardware Error: it names each
 *   in one line, registers its service again, and a second transfer succeeds (exit 0);
 * - a `listen` whose port is unplugged reopens it (with backoff) once it is back and serves again;
 * - `--once` stops at the first fault with exit 1;
 * - piped input cut by the peer closing early exits 1 (N bytes sent, before the end of the input).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { faultRadio, type FaultRadio } from '../helpers/fault-harness.js';
import { ROOT, run, tsx, until, type Proc } from './proc-helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-cli-faults-'));
const procs: Proc[] = [];
let seq = 0;

const ADDR = /at ((?:[0-9A-F]{2}:){5}[0-9A-F]{2})/;
const cli = (args: string[]) => {
  const p = tsx('ports/cli/cli.ts', args);
  procs.push(p);
  return p;
};
/** The exit code, or a failure naming the process's output after `ms`. */
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
/** The `bthost:` lines a process printed. */
const errLines = (p: Proc) => p.out.split('\n').filter((l) => l.startsWith('bthost:'));

async function radio(names: string[]): Promise<FaultRadio> {
  const dir = path.join(tmp, `r${++seq}`);
  fs.mkdirSync(dir);
  // link keys of this radio only (the virtual controllers' addresses repeat from radio to radio)
  process.env['BTHOST_KEYS_DIR'] = path.join(dir, 'keys');
  return faultRadio(dir, procs, names);
}

/** A listener on tty; resolves with its address once it listens. */
async function listen(tty: string, extra: string[] = []): Promise<[Proc, string]> {
  const p = cli(['l2cap', 'listen', '0x1001', '--receive', '--sha256', '--no-progress', '--port', tty, ...extra]);
  await until(() => ADDR.test(p.out), 20_000, 'listening');
  return [p, ADDR.exec(p.out)![1]!];
}

test.after.each(() => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

test('data loss: a Hardware Error cuts a transfer -> both ends exit 1 with one line naming it (--once listen)', async () => {
  const r = await radio(['a', 'b']);
  const [server, addr] = await listen(r.ttys[0]!, ['--once']);
  const client = cli(['l2cap', 'connect', addr, '0x1001', '--send', '20M', '--no-progress', '--port', r.ttys[1]!]);
  await until(() => /L2CAP channel open/.test(client.out), 20_000, 'channel open');
  await until(() => /L2CAP channel open/.test(server.out), 5_000, 'server channel open');
  await new Promise((res) => setTimeout(res, 300));
  // the listener's controller only, which restarts by itself (crash: links lost, then Hardware
  // Error; the --once listener sends no Reset before it exits): the peer's controller ends the link
  // by its supervision timeout (0x7d00 slots = 20 s): Disconnection Complete 0x08
  assert.match(await r.fault('c0:crash=0x42'), /^ok/);
  assert.is(await exitOf(server), 1, server.out);
  const t0 = Date.now();
  assert.is(await exitOf(client, 30_000), 1, client.out);
  assert.ok(Date.now() - t0 > 15_000, `the client ended ${Date.now() - t0} ms after the fault, before its supervision timeout`);
  const s = errLines(server);
  assert.is(s.length, 1, server.out);
  assert.match(
    s[0]!,
    /^bthost: Hardware Error 0x42 from the controller on .*a\/tty .*: the channel was cut after \d+ bytes received$/,
  );
  const c = errLines(client);
  assert.is(c.length, 1, client.out);
  assert.match(
    c[0]!,
    /^bthost: the link was lost \(connection timeout \(0x08\)\): the channel was cut after \d+ of 20971520 bytes sent$/,
  );
  assert.not.match(server.out + client.out, /went away/);
});

test('listen rides through a stray byte and a Hardware Error; the next transfer succeeds (exit 0)', async () => {
  const r = await radio(['a', 'b']);
  const [server, addr] = await listen(r.ttys[0]!);
  for (const fault of ['framing-error', 'hardware-error']) {
    const client = cli(['l2cap', 'connect', addr, '0x1001', '--send', '20M', '--no-progress', '--port', r.ttys[1]!]);
    await until(() => /L2CAP channel open/.test(client.out), 20_000, 'channel open');
    const before = server.out.length;
    await new Promise((res) => setTimeout(res, 200));
    // the listener's controller only (the client's link stays up until its supervision timeout)
    assert.match(await r.fault(`c0:${fault}`), /^ok/);
    await until(() => /still listening/.test(server.out.slice(before)), 10_000, 'transfer failed line');
    await until(() => /is back/.test(server.out.slice(before)), 10_000, 'controller back');
    const lines = errLines({ ...server, out: server.out.slice(before) });
    const cause = fault.includes('framing') ? /H4 framing error on .*: unknown H4 packet type 0xff/ : /Hardware Error 0x00 from/;
    assert.match(lines[0]!, cause);
    assert.match(lines[0]!, /; the stack restarts \(--once: stop at a fault\)$/);
    assert.match(lines[1]!, /^bthost: transfer failed: .*the channel was cut after \d+ bytes received; still listening$/);
    assert.match(lines[2]!, /^bthost: the controller on .* is back \(/);
    await until(() => (server.out.slice(before).match(/listening on PSM 0x1001/g) ?? []).length === 1, 5000, 'listening again');
    assert.is(server.child.exitCode, null, 'the listener keeps serving');
    // the client's controller still holds the lost link (20 s supervision timeout): the next
    // client process resets that controller
    assert.is(client.child.exitCode, null, client.out);
    client.child.kill('SIGKILL');
    await client.exit;
  }
  const ok = cli(['l2cap', 'connect', addr, '0x1001', '--send', '64k', '--sha256', '--no-progress', '--port', r.ttys[1]!]);
  assert.is(await exitOf(ok), 0, ok.out);
  assert.is(await exitOf(server), 0, server.out);
  const sha = (p: Proc) => /sha256 ([0-9a-f]{64})/.exec(p.out.slice(p.out.lastIndexOf('received 65536')))?.[1];
  assert.ok(/received 65536 bytes/.test(server.out), server.out);
  assert.is(sha(server), /sha256 ([0-9a-f]{64})/.exec(ok.out)?.[1]);
  assert.not.match(server.out, /went away/);
});

test('listen: the port unplugged and back -> reopened with backoff, serves again (exit 0)', async () => {
  const r = await radio(['a', 'b']);
  const [server] = await listen(r.ttys[0]!);
  assert.match(await r.fault('c0:unplug'), /^ok/);
  await until(() => /port lost: .*; opening it again/.test(server.out), 10_000, 'port lost line');
  await until(() => /opening .*a\/tty again in 250 ms \(attempt 1\)/.test(server.out), 5_000, 'retry line');
  await new Promise((res) => setTimeout(res, 800)); // a few failed attempts while the pty is gone
  assert.is(server.child.exitCode, null, server.out);
  // plug in again: a new pty at the same path (a new virtual controller: a new address)
  procs.push(
    run('socat', [`pty,raw,echo=0,link=${r.ttys[0]!}`, `UNIX-CONNECT:${path.join(path.dirname(r.control), 'controller.sock')}`]),
  );
  await until(() => /is back \(((?:[0-9A-F]{2}:){5}[0-9A-F]{2})\)/.test(server.out), 15_000, 'reopened');
  const addr = /is back \(((?:[0-9A-F]{2}:){5}[0-9A-F]{2})\)/.exec(server.out)![1]!;
  const ok = cli(['l2cap', 'connect', addr, '0x1001', '--send', '32k', '--no-progress', '--port', r.ttys[1]!]);
  assert.is(await exitOf(ok), 0, ok.out);
  assert.is(await exitOf(server), 0, server.out);
  assert.match(server.out, /received 32768 bytes/);
});

test('piped input: the peer closes before the end of it -> exit 1, N bytes sent, before the end of the input', async () => {
  const r = await radio(['a', 'b']);
  // an interactive listener: its stdin is empty, so it closes the channel after --linger
  const server = cli(['l2cap', 'listen', '0x1001', '--linger', '300', '--port', r.ttys[0]!]);
  await until(() => ADDR.test(server.out), 20_000, 'listening');
  const addr = ADDR.exec(server.out)![1]!;
  const big = path.join(tmp, 'big.bin');
  fs.writeFileSync(big, Buffer.alloc(16 * 1024 * 1024, 0x5a));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'ports/cli/cli.ts', 'l2cap', 'connect', addr, '0x1001', '--port', r.ttys[1]!],
    {
      cwd: ROOT,
      stdio: [fs.openSync(big, 'r'), 'pipe', 'pipe'],
    },
  );
  const client: Proc = { child, out: '', exit: new Promise((res) => child.on('exit', (c) => res(c))) };
  procs.push(client);
  child.stdout!.on('data', (d) => (client.out += d));
  child.stderr!.on('data', (d) => (client.out += d));
  assert.is(await exitOf(client), 1, client.out);
  const lines = errLines(client);
  assert.is(lines.length, 1, client.out);
  assert.match(
    lines[0] ?? client.out,
    /^bthost: the peer closed the channel after \d+ bytes sent, before the end of the input \(\d+ bytes read so far\)$/,
    client.out,
  );
  assert.is(await exitOf(server), 0, server.out);
});

test.after(() => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
