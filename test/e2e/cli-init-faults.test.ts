/**
 * Issue 18 item 5 at the CLI: `bthost` commands as processes on socat ptys of `bthost controller
 * --fault` (test/helpers/fault-harness.ts).
 *
 * - a controller answering Reset, Read BD_ADDR or Read Buffer Size with an error status: exit 1
 *   and ONE line naming the command and the status in words (before: `bthost info` printed
 *   BD_ADDR 00:00:00:00:00:00 and its other answers as valid, exit 0);
 * - a controller that answers but grants no command credit (Num_HCI_Command_Packets 0): the line
 *   says so, at the CLI's --timeout and at the stack's init timeout (before: "wrong baud rate");
 * - a silent controller keeps the baud-rate / flow-control hint;
 * - an example (ports/example-main.ts) prints the same decoded reason.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { faultRadio, type FaultRadio } from '../helpers/fault-harness.js';
import { haveSocat, tsx, type Proc } from './proc-helpers.js';
import {
  ERROR_CODE_HARDWARE_FAILURE,
  ERROR_CODE_UNSPECIFIED_ERROR,
  ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE,
} from '../../src/codes/v1.4.js';

const CLI = 'ports/cli/cli.ts';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-cli-init-faults-'));
process.env['BTHOST_KEYS_DIR'] = path.join(tmp, 'keys');
const procs: Proc[] = [];

const hex2 = (v: number) => `0x${v.toString(16).padStart(2, '0')}`;
/** [HCI command name for --fault, opcode, the stack's step name, status, the status in words (Core Vol 1 Part F)] */
const FAILED = [
  ['HCI_Reset', '0x0c03', 'Reset', ERROR_CODE_HARDWARE_FAILURE, 'Hardware Failure'],
  ['HCI_Read_BD_ADDR', '0x1009', 'Read BD_ADDR', ERROR_CODE_UNSPECIFIED_ERROR, 'Unspecified Error'],
  [
    'HCI_Read_Buffer_Size',
    '0x1005',
    'Read Buffer Size',
    ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE,
    'Unsupported Feature Or Parameter Value',
  ],
] as const;
const CREDITS = FAILED.length; // controller index with credits=0
const SILENT = CREDITS + 1; // controller index that answers nothing

let r: FaultRadio;

/** Run `bthost ARGS` to its exit (bounded); its exit code and its `bthost:` lines. */
async function bthost(args: string[], ms = 20_000): Promise<{ rc: number | null; lines: string[]; out: string }> {
  const p = tsx(CLI, args);
  procs.push(p);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bthost ${args.join(' ')}: no exit within ${ms} ms:\n${p.out}`)), ms);
  });
  try {
    const rc = await Promise.race([p.exit, late]);
    return { rc, lines: p.out.split('\n').filter((l) => l.startsWith('bthost:')), out: p.out };
  } finally {
    clearTimeout(timer);
  }
}

test.before(async () => {
  assert.ok(haveSocat, 'socat is installed');
  const specs = FAILED.map(([cmd, , , status], i) => `c${i}:fail=${cmd}:${hex2(status)}:1000`);
  specs.push(`c${CREDITS}:credits=0`, `c${SILENT}:silent`);
  r = await faultRadio(tmp, procs, [...FAILED.map((f) => f[0]), 'credits', 'silent'], { faults: specs.join(',') });
});

test.after(() => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

for (const [i, [cmd, opcode, step, status, words]] of FAILED.entries()) {
  test(`info: ${cmd} answered with status ${hex2(status)} -> exit 1, one line naming the command and the status`, async () => {
    const res = await bthost(['info', '--port', r.ttys[i]!]);
    assert.is(res.rc, 1, res.out);
    assert.equal(res.lines, [
      `bthost: power on failed: ${step} (opcode ${opcode}) failed with status ${hex2(status)} (${words})`,
    ]);
    assert.not.match(res.out, /BD_ADDR:|ACL buffers:|00:00:00:00:00:00/, 'no controller report');
  });
}

test('every command through CliHost says the same: scan on a controller failing Read BD_ADDR', async () => {
  const res = await bthost(['scan', '--port', r.ttys[1]!]);
  assert.is(res.rc, 1, res.out);
  assert.equal(res.lines, [
    `bthost: power on failed: Read BD_ADDR (opcode 0x1009) failed with status ${hex2(ERROR_CODE_UNSPECIFIED_ERROR)} (Unspecified Error)`,
  ]);
});

test('an example on a controller failing Read BD_ADDR: exit 1, the same reason in one line', async () => {
  const p = tsx('examples/gap-inquiry.ts', ['-u', r.ttys[1]!]);
  procs.push(p);
  assert.is(await p.exit, 1, p.out);
  assert.match(
    p.out,
    new RegExp(
      `^gap-inquiry: power on failed: Read BD_ADDR \\(opcode 0x1009\\) failed with status ${hex2(ERROR_CODE_UNSPECIFIED_ERROR)} \\(Unspecified Error\\)$`,
      'm',
    ),
  );
});

test('no command credit (Num_HCI_Command_Packets 0) at --timeout: the controller answered, no baud-rate hint', async () => {
  const res = await bthost(['info', '--port', r.ttys[CREDITS]!, '--timeout', '2000']);
  assert.is(res.rc, 1, res.out);
  assert.is(res.lines.length, 1, res.out);
  assert.match(
    res.lines[0]!,
    /^bthost: the controller on .* answered \(1 command answer, the last to HCI_Reset \(opcode 0x0c03\)\) but gave no command credits \(Num_HCI_Command_Packets 0\): power on could not go on within 2000 ms$/,
  );
  assert.not.match(res.out, /wrong baud rate/);
});

test("no command credit past the stack's init timeout (5 s): POWERON_FAILED naming the step and the credits", async () => {
  const res = await bthost(['info', '--port', r.ttys[CREDITS]!, '--timeout', '9000']);
  assert.is(res.rc, 1, res.out);
  assert.equal(res.lines, [
    'bthost: power on failed: Read Local Version not sent: the controller gives no command credit (Num_HCI_Command_Packets 0) within 5000 ms',
  ]);
});

test('a silent controller keeps the baud-rate / flow-control hint', async () => {
  const res = await bthost(['info', '--port', r.ttys[SILENT]!, '--timeout', '1500']);
  assert.is(res.rc, 1, res.out);
  assert.is(res.lines.length, 1, res.out);
  assert.match(res.lines[0]!, /^bthost: no answer from the controller on .* within 1500 ms: wrong baud rate or flow control\?/);
});

test.run();
