/**
 * --port names (ports/port-transport.ts), `bthost list` and `--port auto` (ports/port-list.ts)
 * with made-up sources: HCI devices from a temporary /sys/class/bluetooth, USB devices from the
 * fake usb package, serial ports as serialport lists them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { RadioLink } from '../../../src/controller/index.js';
import { open_port_transport, parse_port_spec } from '../../../ports/port-transport.js';
import {
  choose_auto_port,
  format_port_list,
  hci_source,
  list_ports,
  usb_source,
  type PortSource,
} from '../../../ports/port-list.js';
import { parse_port_options } from '../../../ports/main.js';
import { HciSocketTransport } from '../../../ports/hci-socket/transport.js';
import { UsbTransport } from '../../../ports/usb/transport.js';
import { list_main } from '../../../ports/cli/list.js';
import { FakeUsbModule } from '../../helpers/fake-usb.js';

test('parse_port_spec: serial paths, hci0 / hci:0, usb forms, auto, malformed', () => {
  assert.equal(parse_port_spec('/dev/ttyACM0'), { kind: 'serial', path: '/dev/ttyACM0' });
  assert.equal(parse_port_spec('COM3'), { kind: 'serial', path: 'COM3' });
  assert.equal(parse_port_spec('hci0'), { kind: 'hci', dev: 0 });
  assert.equal(parse_port_spec('hci:1'), { kind: 'hci', dev: 1 });
  assert.equal(parse_port_spec('usb'), { kind: 'usb', selector: { kind: 'first' } });
  assert.equal(parse_port_spec('usb:0bda:8771'), { kind: 'usb', selector: { kind: 'id', vid: 0x0bda, pid: 0x8771 } });
  assert.equal(parse_port_spec('usb:2-1.3'), { kind: 'usb', selector: { kind: 'path', bus: 2, ports: [1, 3] } });
  assert.equal(parse_port_spec('auto'), { kind: 'auto' });
  assert.equal(parse_port_spec('hcix'), { problem: "an HCI device is hciN or hci:N (e.g. hci0), got 'hcix'" });
  assert.ok('problem' in parse_port_spec('usb:1'));
});

const src =
  (kind: 'serial' | 'usb' | 'hci', ports: string[], note?: string): PortSource =>
  () =>
    Promise.resolve({ kind, found: ports.map((port) => ({ kind, port, detail: `a ${kind}` })), ...(note ? { note } : {}) });

test('bthost list: one line per controller with its --port, notes of sources that could not look', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-sysfs-'));
  for (const n of ['hci1', 'hci0', 'rfkill3']) fs.mkdirSync(path.join(dir, n));
  const rl = new VirtualRunLoop();
  const usb = new FakeUsbModule(rl);
  const link = new RadioLink(rl);
  usb.add(link.create_controller(), { vid: 0x0a12, pid: 0x0001, bus: 1, ports: [2] });
  usb.add(link.create_controller(), { bluetooth: false });
  const results = await list_ports([
    hci_source(dir),
    usb_source(() => Promise.resolve({ ok: true, usb })),
    src('serial', ['/dev/ttyACM0']),
    usb_source(() =>
      Promise.resolve({ ok: false, error: 'the USB transport needs the optional package usb (libusb): npm install usb@2' }),
    ),
  ]);
  assert.equal(format_port_list(results), [
    'hci     --port hci0          kernel HCI device (HCI user channel)',
    'hci     --port hci1          kernel HCI device (HCI user channel)',
    'usb     --port usb:1-2       USB Bluetooth controller 0a12:0001',
    'serial  --port /dev/ttyACM0  a serial',
    '(usb: the USB transport needs the optional package usb (libusb): npm install usb@2)',
  ]);
  assert.equal(format_port_list(await list_ports([hci_source(path.join(dir, 'none'))])), ['no controllers found']);
  const out: string[] = [];
  assert.is(await list_main([], [src('hci', ['hci0'])], (l) => out.push(l)), 0);
  assert.equal(out, ['hci     --port hci0  a hci']);
  assert.is(await list_main(['--help'], [], (l) => out.push(l)), 0);
  assert.match(out.at(-1)!, 'usage: bthost list');
});

test('--port auto: the only one, none (exit 1), several (exit 2, which to choose)', async () => {
  assert.equal(choose_auto_port([{ kind: 'hci', found: [{ kind: 'hci', port: 'hci0', detail: '' }] }]), { port: 'hci0' });
  assert.equal(choose_auto_port([]), {
    error: '--port auto: no controller found (bthost list shows what was looked at)',
    exit: 1,
  });
  const two = await list_ports([src('hci', ['hci0']), src('serial', ['/dev/ttyUSB0'])]);
  assert.equal(choose_auto_port(two), {
    error: '--port auto: 2 controllers, choose one: --port hci0 | --port /dev/ttyUSB0',
    exit: 2,
  });
});

test('open_port_transport: hci (host flow control), usb, auto, and its one-line errors', async () => {
  const o = (port: string) => parse_port_options(['--port', port]);
  const hci = await open_port_transport(o('hci:2'), undefined);
  assert.ok(!('error' in hci) && hci.transport instanceof HciSocketTransport && hci.host_flow_control);
  assert.is((hci as { where: string }).where, 'hci2 (HCI user channel)');
  const usb = await open_port_transport(o('usb:0a12:0001'), undefined);
  assert.ok(!('error' in usb) && usb.transport instanceof UsbTransport);
  const auto = await open_port_transport(o('auto'), undefined, { sources: [src('hci', ['hci0'])] });
  assert.equal([(auto as { port: string }).port, (auto as { where: string }).where], ['hci0', 'hci0 (HCI user channel)']);
  assert.equal(await open_port_transport(o('hci-0'), undefined), {
    error: "--port: an HCI device is hciN or hci:N (e.g. hci0), got 'hci-0'",
    exit: 2,
  });
  assert.equal(await open_port_transport(o('auto'), undefined, { sources: [] }), {
    error: '--port auto: no controller found (bthost list shows what was looked at)',
    exit: 1,
  });
});

test.run();
