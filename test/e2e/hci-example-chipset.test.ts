/**
 * The examples' --chipset over a real serial line: examples/gap-inquiry.ts with
 * `-u PTY --chipset bcm --main-baud 921600` against `bthost controller --listen` (paced like a
 * 115200 baud UART) through a socat pty sends Reset, Read Local Version Information (BTstack's
 * hci.c reads it right after Reset, for chipset detection), then BCM's Update UART Baud Rate, and
 * comes up; `--main-baud` without a chipset that can change the speed is an option error (exit 2).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hex } from '../../src/core/bytes.js';
import { assertCleanCapture, readCapture } from '../helpers/capture.js';
import { Proc, Socat, tmp, waitForPaths } from './cli-helpers.js';

const EXAMPLE = ['--import', 'tsx', 'examples/gap-inquiry.ts'];

test('--main-baud without a chipset that has a baud-rate command: the problem and the usage, exit 2', () => {
  for (const [extra, why] of [
    [[], 'no --chipset given'],
    [['--chipset', 'zephyr'], 'chipset zephyr has no baud-rate command'],
  ] as const) {
    const r = spawnSync(process.execPath, [...EXAMPLE, '-u', '/dev/ttyBTHOST-NOPE', ...extra, '--main-baud', '921600'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.is(r.status, 2, r.stderr);
    assert.is(r.stdout, '');
    assert.match(
      r.stderr,
      new RegExp(
        `^gap-inquiry: --main-baud: the speed is changed through the chipset's baud-rate command, and ${why} \\(use --chipset bcm, or drop --main-baud\\) \\(gap-inquiry --help for usage\\)$`,
        'm',
      ),
    );
    assert.is(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});

test('--chipset bcm --main-baud 921600 on a paced 115200 baud pty: Reset, Read Local Version, Update UART Baud Rate, up and running', async () => {
  const sock = path.join(tmp, 'example-bcm.sock');
  const ctl = new Proc(['controller', '--listen', `unix:${sock}`, '--baud', '115200']);
  let socat: Socat | null = null;
  let ex: Proc | null = null;
  try {
    await ctl.waitFor(/^listening on unix:.* at 115200 baud$/m);
    const pty = path.join(tmp, 'example-bcm-tty');
    socat = new Socat(`pty,raw,echo=0,link=${pty}`, `UNIX-CONNECT:${sock}`);
    await waitForPaths([pty]);
    const log = path.join(tmp, 'example-bcm.btsnoop');
    ex = new Proc(['-u', pty, '--chipset', 'bcm', '--main-baud', '921600', '-l', log], EXAMPLE);
    await ex.waitFor(/^up and running at ([0-9A-F]{2}:){5}[0-9A-F]{2}$/m, 30_000);
    ex.kill('SIGINT');
    const r = await ex.exited;
    assert.is(r.status, 0, r.stderr);
    assertCleanCapture(log);
    const cmds = readCapture(fs.readFileSync(log)).records.filter((x) => x.packet_type === 1);
    assert.is(hex(cmds[0]!.data), '03 0c 00', 'Reset');
    assert.is(hex(cmds[1]!.data), '01 10 00', 'Read Local Version Information');
    // BCM Update UART Baud Rate (0xFC18), 6 octets: 00 00, then 921600 = 0x000E1000 little endian
    assert.is(hex(cmds[2]!.data), '18 fc 06 00 00 00 10 0e 00');
  } finally {
    ex?.kill('SIGKILL');
    socat?.kill();
    ctl.kill();
    await ctl.exited;
  }
});

test.run();
