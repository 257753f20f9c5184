import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bd_addr_to_str } from '../../../src/core/bytes.js';
import { chipset_bcm, chipset_zephyr, HCI_TRANSPORT_CONFIG_UART } from '../../../src/chipset/index.js';
import { parse_port_options, port_chipset, port_uart_config, port_usage, PORT_CHIPSETS } from '../../../ports/main.js';

test('no arguments: virtual controller, flow control on, no log', () => {
  const o = parse_port_options([]);
  assert.equal(o, {
    tty: undefined,
    baudrate: undefined,
    baudrate_main: undefined,
    chipset: undefined,
    firmware: undefined,
    flowcontrol: true,
    h5: false,
    log_file: undefined,
    log_format: 'btsnoop',
    addr: undefined,
    help: false,
    rest: [],
    errors: [],
  });
  assert.is(port_uart_config(o), undefined);
});

test('BTstack posix-h4 flags, separate values', () => {
  const o = parse_port_options([
    '-u',
    '/dev/ttyACM0',
    '-b',
    '1000000',
    '-l',
    '/tmp/x.log',
    '-f',
    'pklg',
    '--addr',
    '00:1a:7d:da:71:13',
    '--no-flow',
  ]);
  assert.is(o.tty, '/dev/ttyACM0');
  assert.is(o.baudrate, 1_000_000);
  assert.is(o.log_file, '/tmp/x.log');
  assert.is(o.log_format, 'pklg');
  assert.is(bd_addr_to_str(o.addr!), '00:1A:7D:DA:71:13');
  assert.is(o.flowcontrol, false);
  assert.equal(o.errors, []);
  assert.equal(o.rest, []);
});

test('attached and long forms', () => {
  const o = parse_port_options(['-u/dev/ttyUSB1', '-b921600', '--logfile=/tmp/a.pklg', '--main-baud', '3000000']);
  assert.is(o.tty, '/dev/ttyUSB1');
  assert.is(o.baudrate, 921600);
  assert.is(o.baudrate_main, 3_000_000);
  assert.is(o.log_file, '/tmp/a.pklg');
  assert.is(o.log_format, 'pklg', 'format from the .pklg extension');
  const p = parse_port_options(['--tty', '/dev/ttyS0', '--baudrate=115200', '--format=btsnoop', '--addr=C0:12:34:56:78:9A']);
  assert.is(p.tty, '/dev/ttyS0');
  assert.is(p.baudrate, 115200);
  assert.is(p.log_format, 'btsnoop');
  assert.is(p.log_file, '/tmp/hci_dump.btsnoop', '-f alone logs to the default path');
  assert.is(bd_addr_to_str(p.addr!), 'C0:12:34:56:78:9A');
});

test('log format: explicit -f wins over the extension; default btsnoop', () => {
  assert.is(parse_port_options(['-l', 'cap.pklg', '-f', 'btsnoop']).log_format, 'btsnoop');
  assert.is(parse_port_options(['-l', 'cap.btsnoop']).log_format, 'btsnoop');
  assert.is(parse_port_options(['-l', 'cap.log']).log_format, 'btsnoop');
  assert.is(parse_port_options(['-f', 'pklg']).log_file, '/tmp/hci_dump.pklg');
});

test('-h, unknown arguments and -- go through', () => {
  const o = parse_port_options(['-h', '--count', '3', 'name', '-u', '/dev/x', '--', '-b', '5']);
  assert.is(o.help, true);
  assert.is(o.tty, '/dev/x');
  assert.equal(o.rest, ['--count', '3', 'name', '-b', '5']);
  assert.is(o.baudrate, undefined);
  assert.ok(parse_port_options(['--help']).help);
});

test('malformed values are reported, never thrown', () => {
  const cases: Array<[string[], RegExp]> = [
    [['-u'], /-u: missing value/],
    [['-b', 'fast'], /-b: baud rate must be a positive integer, got 'fast'/],
    [['-b', '0'], /positive integer/],
    [['-b', '-5'], /-b: baud rate must be a positive integer, got '-5'/], // a value, not a missing one (f05cc2d)
    [['--baudrate=1.5'], /--baudrate: baud rate must be a positive integer/],
    [['-f', 'pcap'], /-f: log format must be btsnoop or pklg, got 'pcap'/],
    [['--addr', '00:11:22:33:44'], /--addr: address must look like XX:XX:XX:XX:XX:XX/],
    [['--addr', '001122334455'], /--addr: address must look like/],
    [['-l', '-u', 'x'], /-l: missing value/],
    [['--tty='], /--tty: empty device path/],
  ];
  for (const [argv, re] of cases) {
    const o = parse_port_options(argv);
    assert.is(o.errors.length, 1, argv.join(' '));
    assert.match(o.errors[0]!, re);
  }
});

test('the UART config follows the options and the chipset defaults', () => {
  assert.equal(port_uart_config(parse_port_options(['-u', '/dev/ttyACM0']), chipset_zephyr()), {
    type: HCI_TRANSPORT_CONFIG_UART,
    baudrate_init: 1_000_000,
    baudrate_main: 0,
    flowcontrol: true,
    device_name: '/dev/ttyACM0',
    parity: 0,
  });
  const c = port_uart_config(parse_port_options(['-u', '/dev/ttyUSB0', '--main-baud', '921600', '--no-flow']), chipset_bcm())!;
  assert.is(c.baudrate_init, 115200);
  assert.is(c.baudrate_main, 921600);
  assert.is(c.flowcontrol, false);
  assert.is(port_uart_config(parse_port_options(['-u', '/dev/ttyUSB0', '-b', '460800']))!.baudrate_init, 460800);
});

test('--chipset bcm|zephyr (with { chipset: true }): the driver, its defaults; --main-baud needs a chipset with a baud-rate command', () => {
  const bcm = parse_port_options(['-u', '/dev/ttyAMA0', '--chipset', 'bcm', '--main-baud', '921600'], { chipset: true });
  assert.equal(bcm.errors, []);
  assert.is(bcm.chipset, 'bcm');
  const driver = port_chipset(bcm)!;
  assert.is(driver.name, PORT_CHIPSETS.bcm().name);
  // the driver writes BCM's Update UART Baud Rate (0xFC18): 2 reserved octets + the speed, little endian
  const cmd = new Uint8Array(16);
  const n = driver.set_baudrate_command!(921600, cmd);
  assert.equal(Array.from(cmd.subarray(0, n)), [0x18, 0xfc, 0x06, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00]);
  assert.is(port_uart_config(bcm, driver)!.baudrate_main, 921600);

  const zephyr = parse_port_options(['-u', '/dev/ttyACM0', '--chipset=zephyr'], { chipset: true });
  assert.equal(zephyr.errors, []);
  assert.is(zephyr.chipset, 'zephyr');
  assert.is(port_uart_config(zephyr, port_chipset(zephyr))!.baudrate_init, 1_000_000, "zephyr's default speed");
  assert.is(port_chipset(parse_port_options([], { chipset: true })), undefined);

  // --main-baud that nothing would act on is an error, not silently ignored
  assert.equal(parse_port_options(['-u', '/dev/ttyUSB0', '--main-baud', '921600'], { chipset: true }).errors, [
    "--main-baud: the speed is changed through the chipset's baud-rate command, and no --chipset given (use --chipset bcm, or drop --main-baud)",
  ]);
  assert.equal(
    parse_port_options(['-u', '/dev/ttyACM0', '--chipset', 'zephyr', '--main-baud', '2000000'], { chipset: true }).errors,
    [
      "--main-baud: the speed is changed through the chipset's baud-rate command, and chipset zephyr has no baud-rate command (use --chipset bcm, or drop --main-baud)",
    ],
  );
  assert.equal(parse_port_options(['--chipset', 'csr'], { chipset: true }).errors, [
    "--chipset: chipset must be bcm or zephyr, got 'csr'",
  ]);
  assert.equal(parse_port_options(['--chipset'], { chipset: true }).errors, ['--chipset: missing value']);

  // without { chipset: true } (the bthost CLI reads --chipset itself): left in rest, --main-baud not checked
  const cli = parse_port_options(['--chipset', 'bcm', '--main-baud', '921600']);
  assert.equal(cli.rest, ['--chipset', 'bcm']);
  assert.is(cli.chipset, undefined);
  assert.equal(cli.errors, []);
});

test('usage lists every flag', () => {
  const u = port_usage('gap-inquiry', ['--count N   stop after N devices']);
  for (const f of [
    '-u, --tty',
    '-b, --baudrate',
    '--main-baud',
    '--chipset C',
    '-l, --logfile',
    '-f, --format',
    '--addr',
    '--no-flow',
    '-h, --help',
    '--count N',
  ]) {
    assert.ok(u.includes(f), f);
  }
  assert.ok(u.startsWith('usage: gap-inquiry [options]'));
});

test.run();
