/**
 * The exit-code contract (README "Exit codes", issue 18) for the short commands, table-driven:
 * `scan`, `info`, `pair`, `gatt` each
 *   - exit 0 when the work is done (on the in-process virtual controller and its virtual peer),
 *   - exit 1 with one `bthost:` line when a fault hits mid-command (over a socat pty of `bthost
 *     controller --control`: a Hardware Error or the port unplugged once the command's own packet
 *     log shows it is at work: the inquiry, the page, the LE connection, the Reset it keeps
 *     sending to a silent controller),
 *   - exit 2 with one usage line on a usage error.
 * All processes of a column run at once (wall time well under a minute).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCapture } from '../helpers/capture.js';
import { faultRadio } from '../helpers/fault-harness.js';
import { bthostAsync, tmp, PEER, type Run } from './cli-helpers.js';
import { tsx, until, type Proc } from './proc-helpers.js';

const NOBODY = '11:22:33:44:55:66';
/** HCI opcodes the commands send once at work. */
const INQUIRY = 0x0401;
const CREATE_CONNECTION = 0x0405;
const LE_CREATE_CONNECTION = 0x200d;
const RESET = 0x0c03;

interface Row {
  command: string;
  ok: string[];
  usage: string[];
  /** Args on a pty (the packet log and --port are added). */
  faulted: string[];
  /** Fault once this command is in the packet log; `before`: a fault applied before the command starts. */
  at: number;
  before?: string;
  fault: string;
  /** What the one line names. */
  cause: RegExp;
}

const ROWS: Row[] = [
  {
    command: 'scan',
    ok: ['scan', '--time', '1'],
    usage: ['scan', '--time', 'soon'],
    faulted: ['scan', '--time', '10', '--classic'],
    at: INQUIRY,
    fault: 'hardware-error=0x42',
    cause: /^bthost: Hardware Error 0x42 from the controller on .*; the controller restarted$/,
  },
  {
    command: 'info',
    ok: ['info'],
    usage: ['info', 'extra'],
    faulted: ['info', '--timeout', '20000'],
    at: RESET,
    before: 'silent',
    fault: 'unplug',
    cause: /^bthost: port lost: /,
  },
  {
    command: 'pair',
    ok: ['pair', PEER],
    usage: ['pair'],
    faulted: ['pair', NOBODY, '--page-timeout', '10000'],
    at: CREATE_CONNECTION,
    fault: 'hardware-error=0x42',
    cause: /Hardware Error 0x42 from the controller on /,
  },
  {
    command: 'gatt',
    ok: ['gatt', PEER],
    usage: ['gatt'],
    faulted: ['gatt', NOBODY, '--connect-timeout', '20000'],
    at: LE_CREATE_CONNECTION,
    fault: 'unplug',
    cause: /^bthost: port lost: /,
  },
];

const lines = (r: { stdout?: string; stderr?: string; out?: string }) =>
  (r.stderr ?? r.out ?? '').split('\n').filter((l) => l.startsWith('bthost'));

/** Whether the btsnoop file at `file` has a command with `opcode` (false while it cannot be read whole). */
function sent(file: string, opcode: number): boolean {
  try {
    return readCapture(fs.readFileSync(file)).records.some(
      (r) => r.packet_type === 1 && (r.data[0]! | (r.data[1]! << 8)) === opcode,
    );
  } catch {
    return false;
  }
}

const procs: Proc[] = [];

test('exit 0 when done, 2 on a usage error (scan, info, pair, gatt)', async () => {
  process.env['BTHOST_KEYS_DIR'] = path.join(tmp, 'exit-codes-keys');
  const runs = await Promise.all(ROWS.flatMap((r) => [bthostAsync(r.ok), bthostAsync(r.usage)]));
  ROWS.forEach((row, i) => {
    const ok: Run = runs[2 * i]!;
    const usage: Run = runs[2 * i + 1]!;
    assert.is(ok.status, 0, `${row.command}: ${ok.stderr}`);
    assert.equal(
      lines(ok).filter((l) => l.startsWith('bthost:')),
      [],
      row.command,
    );
    assert.is(usage.status, 2, `${row.command} usage: ${usage.stderr}`);
    const u = lines(usage);
    assert.is(u.length, 1, usage.stderr);
    assert.match(u[0]!, new RegExp(`^bthost ${row.command}: .* \\(bthost ${row.command} --help for usage\\)$`));
  });
});

test('exit 1 with one line naming the fault when it hits mid-command (scan, info, pair, gatt)', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'exit-codes-'));
  process.env['BTHOST_KEYS_DIR'] = path.join(dir, 'keys');
  const r = await faultRadio(
    dir,
    procs,
    ROWS.map((row) => row.command),
  );
  const done = ROWS.map(async (row, i) => {
    if (row.before) assert.match(await r.fault(`c${i}:${row.before}`), /^ok/);
    const log = path.join(dir, `${row.command}.btsnoop`);
    const p = tsx('ports/cli/cli.ts', [...row.faulted, '--port', r.ttys[i]!, '-l', log]);
    procs.push(p);
    await until(() => sent(log, row.at), 30_000, `${row.command} at work`);
    assert.match(await r.fault(`c${i}:${row.fault}`), /^ok/);
    const code = await Promise.race([p.exit, new Promise((res) => setTimeout(() => res('late'), 20_000))]);
    return { row, p, code };
  });
  for (const { row, p, code } of await Promise.all(done)) {
    assert.is(code, 1, `${row.command}: ${p.out}`);
    const l = p.out.split('\n').filter((x) => x.startsWith('bthost:'));
    assert.is(l.length, 1, `${row.command}: ${p.out}`);
    assert.match(l[0]!, row.cause, `${row.command}: ${p.out}`);
    assert.not.match(p.out, /went away/);
  }
});

test.after(() => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

test.run();
