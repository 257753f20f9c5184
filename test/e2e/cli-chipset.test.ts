/**
 * The chipset error paths of issue 16 (items 3-4) as a user meets them: `bthost info --port PTY`
 * on `bthost controller --bcm` (a BCM43430A1 that takes a .hcd download) and on a plain controller
 * (manufacturer 0xFFFF), through socat ptys. Each problem is one line on stderr and exit 1: no .hcd
 * found, a bad .hcd, a Write RAM the controller refuses (records that overlap: Invalid HCI Command
 * Parameters 0x12), `--main-baud` when the detected chipset has no baud-rate command. `--main-baud`
 * without `--chipset` is fine when detection picks BCM (which has one).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { bthost, Proc, Socat, tmp, waitForPaths } from './cli-helpers.js';

const procs: Array<Proc | Socat> = [];

async function controller(name: string, args: string[]): Promise<string> {
  const sock = path.join(tmp, `${name}.sock`);
  const tty = path.join(tmp, `${name}.tty`);
  const ctl = new Proc(['controller', '--listen', `unix:${sock}`, ...args]);
  procs.push(ctl);
  await ctl.waitFor(/listening on .*\n/);
  procs.push(new Socat(`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${sock}`));
  await waitForPaths([tty]);
  return tty;
}

/** Write RAM record: opcode 0xFC4C, length, 32-bit address, data. */
const writeRam = (addr: number, data: number[]): number[] => [
  0x4c,
  0xfc,
  4 + data.length,
  addr & 0xff,
  (addr >> 8) & 0xff,
  (addr >> 16) & 0xff,
  addr >>> 24,
  ...data,
];
const LAUNCH_RAM = [0x4e, 0xfc, 0x04, 0xff, 0xff, 0xff, 0xff];

test('bthost info on a BCM43430A1: no .hcd is a warning, each .hcd problem is one line and exit 1; --main-baud without --chipset is fine', async () => {
  const tty = await controller('bcm', ['--bcm']);
  const empty = path.join(tmp, 'no-firmware');
  mkdirSync(empty);
  const bad = path.join(tmp, 'bad.hcd');
  writeFileSync(bad, 'garbage!');
  const overlap = path.join(tmp, 'overlap.hcd');
  // the second record starts below the end of the first: the chip refuses it (0x12)
  writeFileSync(
    overlap,
    Uint8Array.from([...writeRam(0x85000, [1, 2, 3, 4]), ...writeRam(0x84000, [5, 6, 7, 8]), ...LAUNCH_RAM]),
  );
  const info = (...args: string[]) => bthost(['info', '--port', tty, '--no-flow', ...args]);

  // no .hcd found: a warning, and the ROM firmware runs (Linux btbcm and BTstack go on too)
  let r = info('--firmware', empty);
  assert.is(r.status, 0, r.stderr);
  assert.is(
    r.stderr,
    `bthost: no .hcd patch file for BCM43430A1: looked for BCM43430A1.hcd, BCM.hcd in ${empty}; ` +
      `running the ROM firmware (give one with --firmware PATH, or --firmware none to silence this)\n`,
  );

  r = info('--firmware', bad);
  assert.is(r.status, 1);
  assert.is(r.stderr, `bthost: bad .hcd patch file ${bad}: record 0x6167 at offset 0: 114 parameter bytes, 5 left\n`);

  r = info('--firmware', overlap);
  assert.is(r.status, 1);
  const lines = r.stderr.split('\n');
  assert.is(lines.at(-2), `bthost: patch download failed: the controller refused Write RAM with status 0x12 (${overlap})`);
  assert.equal(
    lines.filter((l) => l.includes('failed')),
    [lines.at(-2)],
    'one failure line (the progress lines before it are status)',
  );

  r = info('--firmware', 'none', '--main-baud', '921600');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /\n {2}Chipset: {7}bcm \(detected: /);
});

test('--main-baud on a controller whose detected chipset has no baud-rate command: one line, exit 1', async () => {
  const tty = await controller('generic', []);
  const r = bthost(['info', '--port', tty, '--no-flow', '--main-baud', '921600']);
  assert.is(r.status, 1);
  assert.is(
    r.stderr,
    "bthost: --main-baud 921600: the speed is changed through the chipset's baud-rate command, and the driver chosen, " +
      'generic (no vendor driver) (detected: manufacturer 0xffff not in the table: generic controller, no vendor init), ' +
      'has none (leave out --main-baud, or name the chipset with --chipset bcm)\n',
  );
  // --chipset zephyr (no baud-rate command) is still refused before anything opens
  const z = bthost(['info', '--port', tty, '--chipset', 'zephyr', '--main-baud', '921600']);
  assert.is(z.status, 2);
  assert.match(z.stderr, /--main-baud: .*chipset zephyr has no baud-rate command/);
});

test('stop the controllers', async () => {
  for (const p of procs) p.kill();
  await Promise.all(procs.filter((p): p is Proc => p instanceof Proc).map((p) => p.exited));
});

test.run();
