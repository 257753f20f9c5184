/**
 * Issue 18 item 7: the CLI's messages name what the user typed and what happened, with the exit
 * code of the contract (2: usage, 1: run time). Each line is checked whole.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { faultRadio } from '../helpers/fault-harness.js';
import { tsx, until, type Proc } from './proc-helpers.js';
import { bthost } from './cli-helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-cli-diag-'));
const procs: Proc[] = [];

const lines = (s: string) => s.trim().split('\n');

test('usage errors: the option as typed, an invalid value named as such, exit 2', () => {
  const cases: Array<[string[], string]> = [
    [
      ['info', '--baud', '-9600'],
      "bthost info: --baud: baud rate must be a positive integer, got '-9600' (bthost info --help for usage)",
    ],
    [
      ['info', '-b', '-9600'],
      "bthost info: -b: baud rate must be a positive integer, got '-9600' (bthost info --help for usage)",
    ],
    [['info', '--port'], 'bthost info: --port: missing value (bthost info --help for usage)'],
    [
      ['info', '--port', '/x', '--baud', 'abc'],
      "bthost info: --baud: baud rate must be a positive integer, got 'abc' (bthost info --help for usage)",
    ],
    [
      // without --chipset the detected driver decides at power on (test/e2e/cli-chipset.test.ts)
      ['info', '--chipset', 'zephyr', '--main-baud', '3000000'],
      "bthost info: --main-baud: the speed is changed through the chipset's baud-rate command, and chipset zephyr has no baud-rate command (use --chipset bcm, or drop --main-baud) (bthost info --help for usage)",
    ],
    [
      ['controller', '--listen', `unix:${tmp}/c.sock`, '--bandwidth', '0'],
      "bthost controller: --bandwidth: expected a positive number of bits per second, got '0' (leave it out for no limit) (bthost controller --help for usage)",
    ],
  ];
  for (const [args, line] of cases) {
    const r = bthost(args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(lines(r.stderr), [line], args.join(' '));
  }
});

test('controller --listen unix: in a missing directory: ENOENT, named, exit 1', () => {
  const r = bthost(['controller', '--listen', `unix:${tmp}/nope/c.sock`]);
  assert.is(r.status, 1);
  assert.equal(lines(r.stderr), [
    `bthost controller: cannot listen on unix:${tmp}/nope/c.sock: the directory ${tmp}/nope does not exist (ENOENT)`,
  ]);
});

test('--timeout 99999999999999: clamped, no TimeoutOverflowWarning', () => {
  const r = bthost(['info', '--timeout', '99999999999999', '--port', `${tmp}/no-such-tty`]);
  assert.is(r.status, 1);
  assert.not.match(r.stderr, /TimeoutOverflowWarning/);
  assert.equal(lines(r.stderr), [
    `bthost: serial port ${tmp}/no-such-tty not found: is the controller plugged in and the path right? (try ls /dev/ttyACM* /dev/ttyUSB*)`,
  ]);
});

test('an HCI status in a message is decoded from the generated codes: Connection Accept Timeout Exceeded (0x10)', async () => {
  const dir = path.join(tmp, 'radio');
  fs.mkdirSync(dir);
  process.env['BTHOST_KEYS_DIR'] = path.join(dir, 'keys');
  try {
    const r = await faultRadio(dir, procs, ['a']);
    assert.match(await r.fault('c0:fail=HCI_Create_Connection:0x10'), /^ok/);
    const p = tsx('ports/cli/cli.ts', ['l2cap', 'connect', 'C0:FF:EE:00:00:09', '0x1001', '--port', r.ttys[0]!]);
    procs.push(p);
    const code = await Promise.race([p.exit, until(() => false, 20_000, `exit of ${p.out}`).then(() => -1)]);
    assert.is(code, 1, p.out);
    const errs = p.out.split('\n').filter((l) => l.startsWith('bthost:'));
    assert.equal(errs, [
      'bthost: cannot open an L2CAP channel to C0:FF:EE:00:00:09 PSM 0x1001: Connection Accept Timeout Exceeded (0x10)',
    ]);
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  }
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
