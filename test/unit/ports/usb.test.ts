/**
 * The USB transport (ports/usb) against the fake `usb` package (test/helpers/fake-usb.ts): the
 * assembler on hand-split transfers, port names and device choice, one line per open error,
 * unplug, flow control on the bulk OUT endpoint, close giving the interface back to btusb.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { RadioLink } from '../../../src/controller/index.js';
import type { TransportEvent } from '../../../src/hci/transport.js';
import { UsbTransport } from '../../../ports/usb/transport.js';
import { UsbPacketAssembler } from '../../../ports/usb/assembler.js';
import { parse_usb_spec, usb_is_bluetooth, usb_port_name, usb_select } from '../../../ports/usb/find.js';
import { load_usb_binding } from '../../../ports/usb/binding.js';
import { FakeUsbModule, type FakeUsbDeviceOptions } from '../../helpers/fake-usb.js';

function setup(devs: FakeUsbDeviceOptions[] = [{}], spec = 'usb') {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'usb' });
  const usb = new FakeUsbModule(rl);
  for (const o of devs) usb.add(link.create_controller(), o);
  const sel = parse_usb_spec(spec);
  if ('problem' in sel) throw new Error(sel.problem);
  const t = new UsbTransport(sel, { usb, max_write_queue: 256 });
  const events: TransportEvent[] = [];
  const packets: number[][] = [];
  t.init(rl);
  t.register_event_handler((e) => events.push(e));
  t.register_packet_handler((type, p, n) => packets.push([type, ...p.subarray(0, n)]));
  return { rl, usb, t, events, packets, dev: usb.devices[0]! };
}

const RESET = Uint8Array.of(0x03, 0x0c, 0x00);

test('assembler: events split over 16-byte transfers, two in one, zero-length, ACL across transfers', () => {
  const out: number[][] = [];
  const errors: string[] = [];
  const ev = new UsbPacketAssembler({
    type: 4,
    on_packet: (t, p, n) => out.push([t, ...p.subarray(0, n)]),
    on_error: (m) => errors.push(m),
  });
  // Command Complete (Reset) then Number Of Completed Packets (1 handle), as one 13-byte transfer
  ev.feed(Uint8Array.of(0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00, 0x13, 0x05, 0x01, 0x01, 0x00, 0x01, 0x00));
  assert.equal(out, [
    [4, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00],
    [4, 0x13, 0x05, 0x01, 0x01, 0x00, 0x01, 0x00],
  ]);
  // a 20-byte event in 16 + 4, one byte at a time for its header
  const big = [0x0f, 18, ...Array.from({ length: 18 }, (_, i) => i)];
  ev.feed(Uint8Array.from(big.slice(0, 1)));
  ev.feed(Uint8Array.from(big.slice(1, 16)));
  assert.is(ev.pending, 4);
  ev.feed(Uint8Array.from(big.slice(16)));
  assert.equal(out[2], [4, ...big]);
  ev.feed(new Uint8Array(0));
  const acl = new UsbPacketAssembler({
    type: 2,
    max_acl: 100,
    on_packet: (t, p, n) => out.push([t, ...p.subarray(0, n)]),
    on_error: (m) => errors.push(m),
  });
  acl.feed(Uint8Array.of(0x01, 0x20, 0x03, 0x00, 0xaa));
  acl.feed(Uint8Array.of(0xbb, 0xcc, 0x01, 0x20, 0x00, 0x00)); // end of one + an empty ACL packet
  assert.equal(out.slice(3), [
    [2, 0x01, 0x20, 0x03, 0x00, 0xaa, 0xbb, 0xcc],
    [2, 0x01, 0x20, 0x00, 0x00],
  ]);
  acl.feed(Uint8Array.of(0x01, 0x20, 0xe8, 0x03, 1, 2, 3)); // 1000 > 100
  assert.equal(errors, ['ACL packet of 1000 bytes, more than the 100 taken (the rest of the transfer dropped)']);
  acl.feed(Uint8Array.of(0x01, 0x20, 0x01, 0x00, 0x77));
  assert.equal(out.at(-1), [2, 0x01, 0x20, 0x01, 0x00, 0x77], 'assembly starts again at the next transfer');
});

test('assembler: 50k random transfers never throw', () => {
  let seed = 3;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  let n = 0;
  const a = new UsbPacketAssembler({ type: 2, max_acl: 300, on_packet: (_t, _p, size) => (n += size >= 4 ? 1 : 0) });
  const e = new UsbPacketAssembler({ type: 4, on_packet: () => n++ });
  for (let i = 0; i < 50_000; i++) {
    const b = new Uint8Array(rnd() % 70);
    for (let k = 0; k < b.length; k++) b[k] = rnd();
    a.feed(b);
    e.feed(b);
  }
  assert.ok(n > 0);
});

test('port names: usb, usb:VID:PID, usb:BUS-PORTS; class on the device or on interface 0', () => {
  assert.equal(parse_usb_spec('usb'), { kind: 'first' });
  assert.equal(parse_usb_spec('usb:0A12:0001'), { kind: 'id', vid: 0x0a12, pid: 0x0001 });
  assert.equal(parse_usb_spec('usb:1-1.2'), { kind: 'path', bus: 1, ports: [1, 2] });
  assert.match(
    (parse_usb_spec('usb:zz') as { problem: string }).problem,
    "a USB port is usb, usb:VID:PID (hex, e.g. usb:0a12:0001) or usb:BUS-PORTS (e.g. usb:1-1.2), got 'usb:zz'",
  );
  const { usb } = setup([
    { bluetooth: false, vid: 0x046d, pid: 0xc52b },
    { interface_class_only: true, vid: 0x0bda, pid: 0x8771, bus: 2, ports: [3] },
    {},
  ]);
  const [mouse, rtl, csr] = usb.devices;
  assert.is(usb_is_bluetooth(mouse!), false);
  assert.is(usb_is_bluetooth(rtl!), true);
  assert.is(usb_is_bluetooth(csr!), true);
  assert.is(usb_port_name(rtl!), 'usb:2-3');
  assert.is((usb_select(usb.devices, { kind: 'first' }) as { device: unknown }).device, rtl);
  assert.is((usb_select(usb.devices, { kind: 'path', bus: 1, ports: [3] }) as { device: unknown }).device, csr);
  assert.equal(usb_select(usb.devices, { kind: 'id', vid: 1, pid: 2 }), {
    error: 'no USB device 0001:0002 (bthost list shows the controllers there are)',
  });
});

test('open: detach btusb, claim, polls; Reset as a class control transfer; close attaches btusb again', () => {
  const s = setup();
  s.t.open();
  s.rl.run(10);
  assert.equal(s.events, [{ type: 'opened' }]);
  assert.is(s.dev.kernel_driver, false);
  assert.is(s.t.send_packet(1, RESET, 3), 0);
  s.rl.run(10);
  assert.equal(s.dev.setups, [[0x20, 0, 0, 0]]);
  assert.equal(s.packets, [[4, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00]]);
  s.t.close();
  s.rl.run(10);
  assert.equal(s.events[1], { type: 'closed' });
  assert.is(s.dev.kernel_driver, true);
  assert.is(s.dev.opened, false);
  s.t.open();
  s.rl.run(10);
  assert.equal(s.events[2], { type: 'opened' }, 'opens again');
});

const lines: [string, FakeUsbDeviceOptions[], string, string][] = [
  [
    'no Bluetooth device',
    [{ bluetooth: false }],
    'usb',
    'no USB Bluetooth controller found (bthost list shows the controllers there are)',
  ],
  ['no device at that path', [{}], 'usb:9-9', 'no USB device at 9-9 (bthost list shows the controllers there are)'],
  [
    'no permission (open: LIBUSB_ERROR_ACCESS)',
    [{ errors: { open: -3 }, bus: 1, ports: [2] }],
    'usb',
    'no permission for USB device usb:1-2 (0a12:0001): run as root, or add the udev rule SUBSYSTEM=="usb", ATTR{idVendor}=="0a12", ATTR{idProduct}=="0001", MODE="0666" to /etc/udev/rules.d/50-bthost.rules',
  ],
  [
    'btusb cannot be detached',
    [{ errors: { detach: -3 }, ports: [2] }],
    'usb',
    "cannot detach the kernel's btusb driver from usb:1-2 (0a12:0001): run as root",
  ],
  [
    'claimed by another program',
    [{ errors: { claim: -6 }, ports: [2] }],
    'usb:0a12:0001',
    'USB device usb:1-2 (0a12:0001) is claimed by another program (another bthost?)',
  ],
  [
    'an I/O error',
    [{ errors: { open: -1 }, ports: [2] }],
    'usb',
    'USB device usb:1-2 (0a12:0001): cannot open it: LIBUSB_ERROR_IO',
  ],
];
for (const [name, devs, spec, line] of lines) {
  test(`open error, one line: ${name}`, () => {
    const s = setup(devs, spec);
    s.t.open();
    s.rl.run(10);
    assert.equal(s.events, [{ type: 'open-failed', error: line }]);
    if (devs[0]!.errors?.claim) assert.is(s.dev.kernel_driver, true, 'btusb given back after a failed claim');
  });
}

test('the usb package: missing, 3.x (WebUSB only), 2.x', async () => {
  const missing = await load_usb_binding(() =>
    Promise.reject(Object.assign(new Error('Cannot find package'), { code: 'ERR_MODULE_NOT_FOUND' })),
  );
  assert.equal(missing, { ok: false, error: 'the USB transport needs the optional package usb (libusb): npm install usb@2' });
  const v3 = await load_usb_binding(() => Promise.resolve({ usb: {}, WebUSB: class {} }));
  assert.equal(v3, {
    ok: false,
    error: 'the installed usb package has no libusb interface (usb 3.x is WebUSB only): npm install usb@2',
  });
  const v2 = await load_usb_binding(() => Promise.resolve({ usb: { getDeviceList: () => [] } }));
  assert.is(v2.ok, true);
  const rl = new VirtualRunLoop();
  const t = new UsbTransport({ kind: 'first' }, { load: () => Promise.resolve(missing) });
  const ev: TransportEvent[] = [];
  t.init(rl);
  t.register_event_handler((e) => ev.push(e));
  t.open();
  await new Promise((r) => setImmediate(r));
  rl.run(10);
  assert.equal(ev, [
    { type: 'open-failed', error: 'the USB transport needs the optional package usb (libusb): npm install usb@2' },
  ]);
});

test('unplugged: transfers fail with NO_DEVICE, detach -> failed, one line', () => {
  const s = setup([{ ports: [5] }]);
  s.t.open();
  s.rl.run(10);
  s.usb.unplug(s.dev);
  s.rl.run(10);
  assert.equal(s.events.slice(1), [{ type: 'failed', error: 'USB device usb:1-5 (0a12:0001) was unplugged' }]);
  assert.is(s.t.can_send_packet_now(2), false);
  assert.is(s.t.send_packet(1, RESET, 3), 0x0c);
});

test('a command refused by the device (stall) -> failed with its libusb name', () => {
  const s = setup([{ ports: [5] }]);
  s.t.open();
  s.rl.run(10);
  s.dev.stall = true;
  s.t.send_packet(1, RESET, 3);
  s.rl.run(10);
  assert.equal(s.events[1], { type: 'failed', error: 'USB device usb:1-5 (0a12:0001): failed: LIBUSB_TRANSFER_STALL' });
});

test('flow control: ACL bytes in libusb past max_write_queue -> cannot send; done -> can-send-now', () => {
  const s = setup();
  s.t.open();
  s.rl.run(10);
  s.dev.hold_out = true;
  const acl = new Uint8Array(4 + 96);
  acl.set([0x01, 0x00, 96, 0x00]);
  let sent = 0;
  while (s.t.can_send_packet_now(2)) {
    assert.is(s.t.send_packet(2, acl, acl.length), 0);
    sent++;
  }
  assert.is(sent, 3, '3 x 100 bytes reach 256');
  assert.is(s.t.write_queue_bytes, 300);
  assert.is(s.t.can_send_packet_now(1), true, 'commands are not held back');
  s.dev.release_out();
  s.rl.run(10);
  assert.equal(s.events.slice(1), [{ type: 'can-send-now' }]);
  assert.is(s.t.write_queue_bytes, 0);
  assert.is(s.dev.acl_out, 3);
});

test.run();
