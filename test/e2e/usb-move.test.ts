/**
 * The stack over the USB transport (ports/usb), on the fake `usb` package with a dongle driven by
 * a virtual controller (test/helpers/fake-usb.ts), in virtual time: the kernel driver detached,
 * commands as class control transfers, events over the 16-byte interrupt endpoint and ACL over
 * 64-byte bulk endpoints with several reads in flight; boots, inquires, opens L2CAP and RFCOMM
 * channels and moves 1 MiB over each (and 1 MiB back); the driver is attached again on power off.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsbTransport } from '../../ports/usb/transport.js';
import { FakeUsbModule } from '../helpers/fake-usb.js';
import { host_stack, inquire_and_move, world } from '../helpers/transport-move.js';

test('usb (first Bluetooth device) on the fake libusb: boot, inquiry, L2CAP and RFCOMM, 1 MiB each way', async () => {
  const w = world();
  const usb = new FakeUsbModule(w.rl);
  const dev = usb.add(w.controller, { vid: 0x0a12, pid: 0x0001, bus: 3, ports: [1, 4] });
  const transport = new UsbTransport({ kind: 'first' }, { usb });
  const stack = host_stack(w, transport);
  await inquire_and_move(w, stack, 1 << 20);
  assert.is(transport.opened_device, 'usb:3-1.4 (0a12:0001)');
  assert.is(dev.detaches, 1, 'btusb detached');
  const i = dev.interface(0);
  assert.equal(i.aclIn.poll, { n: 4, size: 1028 }, 'four bulk reads in flight');
  assert.equal(i.events.poll, { n: 2, size: 16 }, 'interrupt reads of the packet size');
  assert.ok(dev.commands > 10 && dev.acl_out > 1000);
  assert.ok(
    dev.setups.every((s) => s.join() === '32,0,0,0'),
    'every command: bmRequestType 0x20, bRequest 0, wValue 0, wIndex 0',
  );
  stack.hci.hci_power_control(0);
  w.until(() => !dev.opened, 'device closed');
  assert.is(dev.attaches, 1, 'btusb attached again');
  assert.is(dev.kernel_driver, true);
  assert.is(dev.claimed, false);
});

test.run();
