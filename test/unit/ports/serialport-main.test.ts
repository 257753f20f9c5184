import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chipset_zephyr } from '../../../src/chipset/index.js';
import { parse_port_options, serialport_transport_from_options } from '../../../ports/serialport/main.js';
import { H5SerialPortTransport } from '../../../ports/serialport/h5-transport.js';

test('no -u: no serial transport (the example uses the virtual controller)', () => {
  assert.is(serialport_transport_from_options(parse_port_options([])), undefined);
});

test('-u builds a transport with the config HCI needs', () => {
  const r = serialport_transport_from_options(parse_port_options(['-u', '/dev/ttyACM0', '--no-flow']), chipset_zephyr())!;
  assert.is(r.config.device_name, '/dev/ttyACM0');
  assert.is(r.config.baudrate_init, 1_000_000);
  assert.is(r.config.flowcontrol, false);
  assert.equal(r.transport.config, r.config);
  assert.is(r.transport.baudrate, 1_000_000);
  assert.is(r.transport.is_open, false);
  assert.is(r.transport.name, 'H4 serialport');
  assert.throws(() => r.transport.open(), /init\(run_loop\) must be called first/);
});

test('--h5: the H5 transport on the same UART config (link establishment bound, ACL limit of an H5 frame)', () => {
  const o = parse_port_options(['-u', '/dev/ttyS0', '--h5', '--no-flow']);
  assert.is(o.h5, true);
  assert.is(parse_port_options(['-u', '/dev/ttyS0']).h5, false);
  const r = serialport_transport_from_options(o, undefined, { establish_ms: 500 })!;
  assert.ok(r.transport instanceof H5SerialPortTransport);
  assert.is(r.transport.name, 'H5 serialport');
  assert.is(r.config.baudrate_init, 115200);
  assert.is(r.config.flowcontrol, false);
  assert.is(r.transport.max_acl_receive_length?.(), 4091);
  assert.throws(() => r.transport.open(), /init\(run_loop\) must be called first/);
});

test('the chipset defaults to the --chipset of the options', () => {
  const z = serialport_transport_from_options(
    parse_port_options(['-u', '/dev/ttyACM0', '--chipset', 'zephyr'], { chipset: true }),
  )!;
  assert.is(z.config.baudrate_init, 1_000_000, "zephyr's speed without -b");
  const b = serialport_transport_from_options(
    parse_port_options(['-u', '/dev/ttyAMA0', '--chipset', 'bcm', '--main-baud', '921600'], { chipset: true }),
  )!;
  assert.is(b.config.baudrate_init, 115200);
  assert.is(b.config.baudrate_main, 921600);
  const g = serialport_transport_from_options(parse_port_options(['-u', '/dev/ttyUSB0'], { chipset: true }))!;
  assert.is(g.config.baudrate_init, 115200, 'generic');
});

test.run();
