/**
 * `--h5` as a user runs it (issue 16 item 5): `bthost controller --h5` serves H5 on its socket (with
 * `--line-errors` damaging bytes, `--acl-size` for short frames), socat makes a pty of it, and
 * `bthost info --port PTY --h5` boots over it; the error paths print one line each: an H5 host on
 * an H4 controller (exit 1), --line-errors without --h5 (exit 2).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { bthost, Proc, Socat, tmp, waitForPaths } from './cli-helpers.js';

async function controller(name: string, args: string[]): Promise<{ ctl: Proc; pty: Socat; tty: string }> {
  const sock = path.join(tmp, `${name}.sock`);
  const tty = path.join(tmp, `${name}.tty`);
  const ctl = new Proc(['controller', '--listen', `unix:${sock}`, ...args]);
  await ctl.waitFor(/listening on .*\n/);
  const pty = new Socat(`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${sock}`);
  await waitForPaths([tty]);
  return { ctl, pty, tty };
}

test('bthost info --h5 over bthost controller --h5 with 1 % of the bytes damaged and 128-byte ACL buffers', async () => {
  const { ctl, pty, tty } = await controller('h5', ['--h5', '--line-errors', '1:8:7', '--acl-size', '128']);
  try {
    assert.match(
      ctl.stdout,
      /^listening on unix:\S+, ACL buffers of 128 bytes, H5 with 1 % of bytes damaged \(bursts of 8, seed 7\)\n/,
    );
    const r = bthost(['info', '--port', tty, '--h5', '--no-flow']);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /\n {2}ACL buffers: {3}8 x 128 bytes\n/);
    assert.match(r.stdout, /\n {2}Chipset: {7}generic/);
  } finally {
    pty.kill();
    ctl.kill();
    await ctl.exited;
  }
});

test('bthost info --h5 on an H4 controller: one line naming the missing SYNC answer, exit 1', async () => {
  const { ctl, pty, tty } = await controller('h4', []);
  try {
    const r = bthost(['info', '--port', tty, '--h5', '--no-flow']);
    assert.is(r.status, 1);
    assert.is(
      r.stderr,
      `bthost: no H5 link with the controller on ${tty} at 115200 baud: no answer to SYNC within 2 s ` +
        `(an H5 controller at this baud rate? for H4 leave out --h5)\n`,
    );
  } finally {
    pty.kill();
    ctl.kill();
    await ctl.exited;
  }
});

test('bthost controller --line-errors without --h5, and a bad value: one line, exit 2', () => {
  const a = bthost(['controller', '--listen', `unix:${path.join(tmp, 'x.sock')}`, '--line-errors', '1']);
  assert.is(a.status, 2);
  assert.is(
    a.stderr,
    'bthost controller: --line-errors needs --h5 (H4 has no retransmission: every damaged byte breaks the stream) (bthost controller --help for usage)\n',
  );
  const b = bthost(['controller', '--listen', `unix:${path.join(tmp, 'x.sock')}`, '--h5', '--line-errors', '60']);
  assert.is(b.status, 2);
  assert.match(b.stderr, /^bthost controller: .*PCT\[:BURST\[:SEED\]\] with PCT in 0\.\.50.*'60'.*\n$/);
});

test.run();
