/**
 * ports/options.ts: the one option parser of the example main, the CLI (and its controller
 * command), the demo and the benchmarks (issue 12 item 7). One definition of the common flags:
 * `-l` is the log file for every program, `--port/--baud/--log` are the long aliases everywhere.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  check_baud,
  check_int,
  check_profile,
  COMMON_FLAGS,
  flag_given,
  flag_string,
  parse_flags,
  pick_flags,
  read_flag,
} from '../../../ports/options.js';
import { parse_port_options } from '../../../ports/main.js';
import { parse_cli_options, Flags } from '../../../ports/cli/options.js';

test("BTstack's example flags -u -b -l -f: short, attached, long and the CLI's long aliases mean the same", () => {
  const forms = [
    ['-u', '/dev/ttyX', '-b', '921600', '-l', 'a.pklg', '-f', 'pklg'],
    ['-u/dev/ttyX', '-b921600', '-la.pklg', '-fpklg'],
    ['--tty', '/dev/ttyX', '--baudrate=921600', '--logfile', 'a.pklg', '--format=pklg'],
    ['--port=/dev/ttyX', '--baud', '921600', '--log=a.pklg', '--format', 'pklg'],
  ];
  for (const argv of forms) {
    const o = parse_port_options(argv);
    assert.equal(
      [o.tty, o.baudrate, o.log_file, o.log_format, o.errors],
      ['/dev/ttyX', 921600, 'a.pklg', 'pklg', []],
      argv.join(' '),
    );
    const c = parse_cli_options(argv);
    assert.equal(
      [c.port.tty, c.port.baudrate, c.port.log_file, c.port.log_format, c.errors],
      ['/dev/ttyX', 921600, 'a.pklg', 'pklg', []],
      argv.join(' '),
    );
  }
});

test('messages name the flag as typed', () => {
  assert.equal(parse_port_options(['--baud', 'fast']).errors, ["--baud: baud rate must be a positive integer, got 'fast'"]);
  assert.equal(parse_port_options(['-b', 'fast']).errors, ["-b: baud rate must be a positive integer, got 'fast'"]);
  assert.equal(parse_cli_options(['--baudrate=0']).errors, ["--baudrate: baud rate must be a positive integer, got '0'"]);
  assert.equal(parse_cli_options(['--profile', 'v2']).errors, ["--profile: expected v1.4 or v1.8, got 'v2'"]);
  assert.equal(parse_cli_options(['--timeout', '1.5']).errors, ["--timeout: expected milliseconds, got '1.5'"]);
  assert.equal(parse_cli_options(['--chipset', 'csr']).errors, ["--chipset: chipset must be bcm or zephyr, got 'csr'"]);
  assert.equal(parse_cli_options(['--no-flow=yes']).errors, ['--no-flow: takes no value']);
});

test("CLI: common flags, its own, and a command's flags left in rest in order", () => {
  const c = parse_cli_options([
    'l2ping',
    '-v',
    'C0:FF:EE:00:00:02',
    '-c',
    '3',
    '--profile=v1.8',
    '--timeout',
    '500',
    '--host-flow-control',
    '--send=1k',
    '-s5',
  ]);
  assert.equal(c.rest, ['l2ping', 'C0:FF:EE:00:00:02', '-c', '3', '--send=1k', '-s5']);
  assert.equal([c.verbose, c.profile, c.timeout_ms, c.host_flow_control, c.errors], [true, 'v1.8', 500, true, []]);
  const f = new Flags(c.rest, ['-c', '-s', '--send'], []);
  assert.equal(f.positional, ['l2ping', 'C0:FF:EE:00:00:02']);
  assert.equal([f.get('-c'), f.get('-s'), f.get('--send'), f.errors], ['3', '5', '1k', []]);
  assert.equal(new Flags(['--bogus', 'x'], [], ['--le']).errors, ['unknown option --bogus']);
  assert.equal(new Flags(['--le=1'], [], ['--le']).errors, ['--le: takes no value']);
  assert.equal(new Flags(['-c'], ['-c'], []).errors, ['-c: missing value']);
  // --chipset is parsed with the common flags: --main-baud needs one that can change the speed; without
  // --chipset the CLI detects the chipset at power on (ChipsetAuto refuses it then if the driver cannot)
  assert.equal(parse_cli_options(['--port', '/dev/x', '--main-baud', '921600']).errors, []);
  assert.match(
    parse_cli_options(['--port', '/dev/x', '--chipset', 'zephyr', '--main-baud', '921600']).errors[0]!,
    /^--main-baud: .*chipset zephyr has no baud-rate command/,
  );
  const bcm = parse_cli_options(['--port', '/dev/x', '--chipset', 'bcm', '--main-baud', '921600']);
  assert.equal([bcm.chipset, bcm.port.baudrate_main, bcm.errors], ['bcm', 921600, []]);
});

test('parse_flags: strict by default (unknown options and, if asked, positionals are errors); never throws', () => {
  const spec = { ...pick_flags('profile', 'verbose', 'help'), bytes: { type: 'string' } } as const;
  const p = parse_flags(['-v', '--bytes', '10', '--profile', 'v1.8'], spec, { positionals: false });
  assert.equal(
    [flag_given(p, 'verbose'), flag_string(p, 'bytes'), read_flag(p, 'profile', check_profile), p.errors],
    [true, '10', 'v1.8', []],
  );
  assert.equal(parse_flags(['--bogus'], spec).errors, ['unknown option --bogus']);
  assert.equal(parse_flags(['stray'], spec, { positionals: false }).errors, ['unknown option stray']);
  assert.equal(parse_flags(['--bytes'], spec).errors, ['--bytes: missing value']);
  assert.equal(parse_flags(['--bytes', '-v'], spec).errors, ['--bytes: missing value']);
  assert.equal(parse_flags(['--bytes=-5'], spec).values.get('bytes'), '-5', 'an attached value may start with a dash');
  const q = parse_flags(['--bytes', 'lots'], spec);
  assert.is(read_flag(q, 'bytes', check_int(1, 100, '1..100')), undefined);
  assert.equal(q.errors, ["--bytes: expected 1..100, got 'lots'"]);
  assert.is(read_flag(parse_flags(['-b', '9600'], pick_flags('baudrate')), 'baudrate', check_baud), 9600);
  // lenient mode: unknown options as written (a group keeps its unknown letters), -- ends options
  const r = parse_flags(['-vx', '--count=3', '-k', 'name', '--', '-v'], spec, { unknown: 'rest' });
  assert.equal(r.rest, ['-x', '--count=3', '-k', 'name', '-v']);
  assert.ok(flag_given(r, 'verbose'));
  for (const junk of [['-'], ['--'], ['---'], ['-=', '=x'], ['--=x'], ['-\u0000'], ['--profile=']]) parse_flags(junk, spec);
});

test('one definition: -u -b -l -f are tty, baud, log file, log format; no program gives -l another meaning', () => {
  assert.equal(
    Object.entries(COMMON_FLAGS)
      .filter(([, d]) => 'short' in d)
      .map(([n, d]) => [(d as { short: string }).short, n]),
    [
      ['u', 'tty'],
      ['b', 'baudrate'],
      ['l', 'logfile'],
      ['f', 'format'],
      ['v', 'verbose'],
      ['h', 'help'],
    ],
  );
});

test.run();
