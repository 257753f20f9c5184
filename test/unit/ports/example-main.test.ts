/**
 * ports/example-main.ts: the examples' shared main. Option parsing (the profile, flags, numbers in
 * decimal or hex within their range, unknown options), usage and exit code 2 for bad options,
 * 0 for -h; a whole run in this process on a virtual controller: "up and running at ADDR" after
 * the HCI events printed by name, the example's handler after the helper's, the exit code the
 * example chose, the packet log written; a failing btstack_main and an exit before power-on.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { btstack_main_run, parse_example_args, type Example } from '../../../ports/example-main.js';
import { RadioLink } from '../../../src/controller/index.js';
import { VirtualTransport } from '../../../ports/virtual/transport.js';
import { bd_addr_to_str } from '../../../src/core/bytes.js';
import { readCapture } from '../../helpers/capture.js';

const SPECS = {
  psm: { value: 'PSM', help: 'PSM (default 0x1001)', default: 0x1001 },
  count: { value: 'N', help: 'count', default: 10, min: 1, max: 100 },
  once: { help: 'exit after one' },
};

test('parse_example_args: defaults, flags, decimal and hex numbers, profile', () => {
  const errors: string[] = [];
  assert.equal(parse_example_args([], SPECS, errors), {
    profile: 'v1.4',
    args: { psm: 0x1001, count: 10, once: false },
    once: false,
  });
  assert.equal(parse_example_args(['--once', '--psm', '0x0003', '--count', '7', '--profile', 'v1.8'], SPECS, errors), {
    profile: 'v1.8',
    args: { psm: 3, count: 7, once: true },
    once: true,
  });
  assert.equal(errors, []);
});

test('parse_example_args: out of range, not a number, missing value, unknown option, bad profile', () => {
  // ports/options.ts: an option given twice keeps its last value; each given option is checked once
  const cases: Array<[string[], string]> = [
    [['--count', '0'], "--count: expected a number 1..100, got '0'"],
    [['--count', '101'], "--count: expected a number 1..100, got '101'"],
    [['--psm', '0x10000'], "--psm: expected a number 0..65535, got '0x10000'"],
    [['--psm', 'x'], "--psm: expected a number 0..65535, got 'x'"],
    [['--count'], '--count: missing value'],
    [['--loop'], 'unknown option --loop'],
    [['stray'], 'unknown option stray'],
    [['--profile', 'v2'], "--profile: expected v1.4 or v1.8, got 'v2'"],
    [['--once=yes'], '--once: takes no value'],
  ];
  for (const [argv, message] of cases) {
    const errors: string[] = [];
    const r = parse_example_args(argv, SPECS, errors);
    assert.equal(errors, [message], argv.join(' '));
    assert.equal(r.args, { psm: 0x1001, count: 10, once: false }, `${argv.join(' ')}: bad values leave the defaults`);
  }
  const errors: string[] = [];
  assert.equal(parse_example_args(['--count', '0', '--count', '5', '--psm', '0X0A'], SPECS, errors).args, {
    psm: 10,
    count: 5,
    once: false,
  });
  assert.equal(errors, []);
});

/** Run `fn` with console.log / console.error captured. */
async function captured<T>(fn: () => Promise<T>): Promise<{ result: T; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    return { result: await fn(), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

function example(overrides: Partial<Example<typeof SPECS>> = {}): Example<typeof SPECS> {
  return {
    name: 'unit-example',
    options: SPECS,
    requires_addr: true,
    virtual_world: (run_loop) => {
      const link = new RadioLink(run_loop);
      return {
        transport: new VirtualTransport(link.create_controller({ bd_addr: '00:11:22:33:44:55' })),
        peer: link.create_controller().bd_addr,
      };
    },
    btstack_main: () => {
      throw new Error('not reached');
    },
    ...overrides,
  };
}

test('bad options: one line on stderr, exit 2; -h: usage, exit 0; --addr required with -u', async () => {
  const bad = await captured(() => btstack_main_run(['--bogus', '--count', '0'], example()));
  assert.is(bad.result, 2);
  assert.equal(bad.err, ['unit-example: unknown option --bogus (unit-example --help for usage)']);
  const help = await captured(() => btstack_main_run(['-h'], example()));
  assert.is(help.result, 0);
  const usage = help.err.join('\n');
  assert.match(usage, /^usage: unit-example \[options\] \[example options\]/);
  assert.match(
    usage,
    /\n {2}--psm PSM {14}PSM \(default 0x1001\)\n {2}--count N {14}count\n {2}--once {17}exit after one\n {2}--profile v1\.4\|v1\.8 {4}BTstack release of the event codes$/,
  );
  const noAddr = await captured(() => btstack_main_run(['-u', '/dev/null'], example()));
  assert.is(noAddr.result, 2);
  assert.equal(noAddr.err, ['unit-example: --addr XX:XX:XX:XX:XX:XX is required with -u (unit-example --help for usage)']);
  assert.is(bad.out.length + help.out.length + noAddr.out.length, 0);
});

test('-u takes every --port name (ports/port-transport.ts): hci0, usb, malformed names; a port not to be had is one line', async () => {
  const addr = ['--addr', '00:11:22:33:44:55'];
  const bad = await captured(() => btstack_main_run(['-u', 'hcix', ...addr], example()));
  assert.is(bad.result, 2);
  assert.equal(bad.err, ["unit-example: --port: an HCI device is hciN or hci:N (e.g. hci0), got 'hcix'"]);
  const badUsb = await captured(() => btstack_main_run(['-u', 'usb:zz', ...addr], example()));
  assert.is(badUsb.result, 2);
  assert.is(badUsb.err.length, 1);
  assert.match(badUsb.err[0]!, /^unit-example: --port: a USB port is usb, usb:VID:PID/);
  // neither optional package is installed here: the user channel and USB say so in one line, exit 1
  for (const port of ['hci0', 'hci:1', 'usb', 'usb:0bda:8771']) {
    const r = await captured(() => btstack_main_run(['-u', port, ...addr], example({ btstack_main: () => {} })));
    assert.is(r.result, 1, port);
    assert.is(r.err.length, 1, `${port}: ${r.err.join(' | ')}`);
    assert.ok(
      /@stoprocent\/bluetooth-hci-socket|no Bluetooth controller hci|Linux only|npm install usb@2|no USB Bluetooth controller/.test(
        r.err[0]!,
      ),
      r.err[0],
    );
    assert.ok(r.err[0]!.startsWith('unit-example: '), r.err[0]);
  }
});

test('a whole run on the virtual controller: events by name, up and running, the example exits with its code', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-example-main-'));
  const log = path.join(dir, 'run.pklg');
  const seen: string[] = [];
  let remote = '';
  const r = await captured(() =>
    btstack_main_run(
      ['-l', log, '--once', '--profile', 'v1.8'],
      example({
        btstack_main(stack, ctx) {
          assert.is(stack.profile, 'v1.8');
          assert.equal(ctx.args, { psm: 0x1001, count: 10, once: true });
          assert.ok(ctx.virtual);
          remote = bd_addr_to_str(ctx.remote!);
          ctx.exit_code = 1;
          ctx.bt.hci_add_event_handler({
            callback: (_t, _c, packet) => {
              if (packet[0] !== stack.codes.BTSTACK_EVENT_STATE) return;
              seen.push(`state ${packet[2]}`);
              if (packet[2] === 2) {
                console.log('example: working');
                ctx.exit(7);
              }
            },
          });
        },
      }),
    ),
  );
  assert.is(r.result, 7, 'the code the example passed to exit()');
  assert.equal(r.err, []);
  assert.is(r.out[0], `packet log: ${log} (pklg)`);
  assert.is(r.out[1], 'BTSTACK_EVENT_STATE state=1');
  const i = r.out.indexOf('BTSTACK_EVENT_STATE state=2');
  assert.ok(i > 1);
  assert.equal(
    r.out.slice(i + 1, i + 3),
    ['up and running at 00:11:22:33:44:55', 'example: working'],
    "the helper's line first, then the example's handler",
  );
  assert.ok(r.out.some((l) => l.startsWith('HCI_EVENT_COMMAND_COMPLETE ')));
  assert.is(r.out[r.out.length - 1], 'BTSTACK_EVENT_STATE state=0');
  assert.equal(seen, ['state 1', 'state 2', 'state 3', 'state 0']);
  assert.match(remote, /^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
  assert.is.not(remote, '00:11:22:33:44:55', 'ctx.remote is the virtual peer without --addr');
  assert.ok(readCapture(fs.readFileSync(log)).records.length > 10, 'packet log written');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('btstack_main failing: its code, no power-on; exit() before power-on: no run', async () => {
  const failing = await captured(() => btstack_main_run([], example({ btstack_main: () => 5 })));
  assert.is(failing.result, 5);
  assert.equal(failing.out, [], 'not powered on: no events');
  const early = await captured(() => btstack_main_run([], example({ btstack_main: (_s, ctx) => ctx.exit(4) })));
  assert.is(early.result, 4);
  assert.equal(early.out, []);
  assert.is(process.listenerCount('SIGINT'), 0, 'signal handlers removed');
});

test.run();
