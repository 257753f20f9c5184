/**
 * The HCI user channel transport (ports/hci-socket) against the fake binding and kernel
 * (test/helpers/fake-hci-socket.ts): datagram checks (hand-built packets), one line per bind error
 * in the kernel's order, the binding missing, unplug by write error and by sysfs, close and reopen.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { RadioLink } from '../../../src/controller/index.js';
import type { TransportEvent } from '../../../src/hci/transport.js';
import { HciSocketTransport } from '../../../ports/hci-socket/transport.js';
import { hci_datagram_check } from '../../../ports/hci-socket/datagram.js';
import { describe_hci_socket_error, HCI_SETCAP_LINE } from '../../../ports/hci-socket/errors.js';
import { load_hci_socket_binding } from '../../../ports/hci-socket/binding.js';
import { FakeHciKernel } from '../../helpers/fake-hci-socket.js';

function setup(opts: { bluez?: boolean } = {}) {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'hci-socket' });
  const kernel = new FakeHciKernel(rl);
  const dev = kernel.add(0, link.create_controller());
  const events: TransportEvent[] = [];
  const packets: number[][] = [];
  const t = new HciSocketTransport(0, {
    socket_class: kernel.socket_class(),
    presence_check_ms: 0,
    device_present: kernel.present,
    bluez_running: () => Promise.resolve(!!opts.bluez),
  });
  t.init(rl);
  t.register_event_handler((e) => events.push(e));
  t.register_packet_handler((type, p, n) => packets.push([type, ...p.subarray(0, n)]));
  return { rl, kernel, dev, t, events, packets };
}

/** Let promises (bluetoothd check, presence check) settle, then run the loop. */
async function settle(rl: VirtualRunLoop): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setImmediate(r));
    rl.run(10);
  }
}

const HCI_RESET = [0x03, 0x0c, 0x00];

test('datagram: whole packets pass, with their type and size', () => {
  // Command Complete for HCI_Reset, status 0 (Vol 4 Part E 7.7.14 + 7.3.2)
  const ev = Uint8Array.of(0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00);
  assert.equal(hci_datagram_check(ev), { ok: true, type: 4, offset: 1, size: 6 });
  const acl = Uint8Array.of(0x02, 0x01, 0x20, 0x03, 0x00, 0xaa, 0xbb, 0xcc);
  assert.equal(hci_datagram_check(acl), { ok: true, type: 2, offset: 1, size: 7 });
  const sco = Uint8Array.of(0x03, 0x01, 0x00, 0x02, 0x11, 0x22);
  assert.equal(hci_datagram_check(sco), { ok: true, type: 3, offset: 1, size: 5 });
  const iso = Uint8Array.of(0x05, 0x01, 0x00, 0x01, 0xc0, 0x99); // length 0xc001 & 0x3fff = 1
  assert.equal(hci_datagram_check(iso), { ok: true, type: 5, offset: 1, size: 5 });
});

test('datagram: cut short, too long, unknown type, empty', () => {
  const cut = new Uint8Array(1024);
  cut.set([0x02, 0x01, 0x20, 0xfd, 0x03]); // 1021 data bytes announced, 1019 read
  const r = hci_datagram_check(cut);
  assert.is(r.ok, false);
  assert.match((r as { error: string }).error, 'header announces 1025 bytes, 1023 read (cut short)');
  assert.is(hci_datagram_check(Uint8Array.of(0x04, 0x0e, 0x01, 0x01, 0x02)).ok, false);
  assert.match((hci_datagram_check(Uint8Array.of(0x09, 1)) as { error: string }).error, 'unknown packet type 0x09');
  assert.is(hci_datagram_check(new Uint8Array(0)).ok, false);
  assert.is(hci_datagram_check(Uint8Array.of(0x02, 0x01)).ok, false);
});

test('datagram: 100k random inputs never throw, and whatever passes is self-consistent', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let i = 0; i < 100_000; i++) {
    const n = rnd() % 12;
    const b = new Uint8Array(n);
    for (let k = 0; k < n; k++) b[k] = k === 0 ? rnd() % 7 : rnd() % 8;
    const r = hci_datagram_check(b);
    if (r.ok) assert.is(r.offset + r.size, n);
  }
});

test('opens, Reset answered through the socket, closes and frees the device', () => {
  const { rl, t, events, packets, dev, kernel } = setup();
  t.open();
  rl.run(10);
  assert.equal(events, [{ type: 'opened' }]);
  assert.ok(dev.user, 'bound');
  assert.is(t.send_packet(1, Uint8Array.from(HCI_RESET), 3), 0);
  rl.run(10);
  assert.equal(packets, [[4, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00]]);
  t.close();
  rl.run(10);
  assert.equal(events[1], { type: 'closed' });
  assert.is(dev.user, null);
  assert.ok(kernel.sockets[0]!.stopped);
  t.open(); // a new socket each time (the binding's cannot be bound twice)
  rl.run(10);
  assert.equal(events[2], { type: 'opened' });
  assert.is(kernel.sockets.length, 2);
});

const cases: [string, (s: ReturnType<typeof setup>) => void, string, boolean?][] = [
  [
    'no such device',
    (s) => s.kernel.devices.delete(0),
    'no Bluetooth controller hci0 (bthost list shows the controllers there are)',
  ],
  [
    'missing capabilities',
    (s) => (s.kernel.cap_net_admin = false),
    `no permission for the HCI user channel on hci0: it needs CAP_NET_ADMIN and CAP_NET_RAW (sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node)), or run as root)`,
  ],
  [
    'device up',
    (s) => (s.dev.up = true),
    'hci0 is up: take it down first (sudo hciconfig hci0 down, or sudo btmgmt --index 0 power off)',
  ],
  [
    'BlueZ holding it',
    (s) => (s.dev.up = true),
    'hci0 is held by BlueZ (bluetoothd keeps it up): stop it (sudo systemctl stop bluetooth), then sudo btmgmt --index 0 power off',
    true,
  ],
  ['rfkill', (s) => (s.dev.rfkill = true), 'hci0 is blocked by rfkill: rfkill unblock bluetooth'],
  [
    'no Bluetooth in the kernel',
    (s) => (s.kernel.bluetooth = false),
    'this kernel has no Bluetooth sockets (load the module: sudo modprobe bluetooth), or use --port usb',
  ],
];
for (const [name, arrange, line, bluez] of cases) {
  test(`bind error, one line: ${name}`, async () => {
    const s = setup({ bluez });
    arrange(s);
    s.t.open();
    await settle(s.rl);
    assert.equal(s.events, [{ type: 'open-failed', error: line }]);
    assert.not.match(line, '\n');
    assert.is(s.t.is_open, false);
  });
}

test('bind error: another user channel on the device (EUSERS)', () => {
  const s = setup();
  s.t.open();
  s.rl.run(10);
  const other = new HciSocketTransport(0, { socket_class: s.kernel.socket_class(), presence_check_ms: 0 });
  const ev: TransportEvent[] = [];
  other.init(s.rl);
  other.register_event_handler((e) => ev.push(e));
  other.open();
  s.rl.run(10);
  assert.equal(ev, [
    { type: 'open-failed', error: 'hci0 is already open on the HCI user channel by another program (another bthost?)' },
  ]);
});

test('the setcap line is the exact one', () => {
  assert.is(HCI_SETCAP_LINE, 'sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))');
  // errno from an 'error' event wins over text; unknown text is passed through
  assert.is(describe_hci_socket_error(1, Object.assign(new Error('x'), { errno: 19 })).kind, 'no-device');
  assert.is(describe_hci_socket_error(1, new Error('Weird')).message, 'cannot open hci1 on the HCI user channel: Weird');
});

test('the binding: not installed, not Linux, no class', async () => {
  const missing = await load_hci_socket_binding('linux', () =>
    Promise.reject(
      Object.assign(new Error("Cannot find package '@stoprocent/bluetooth-hci-socket'"), { code: 'ERR_MODULE_NOT_FOUND' }),
    ),
  );
  assert.equal(missing, {
    ok: false,
    error:
      'the HCI user channel needs the optional package @stoprocent/bluetooth-hci-socket: npm install @stoprocent/bluetooth-hci-socket',
  });
  const mac = await load_hci_socket_binding('darwin', () => Promise.reject(new Error('not reached')));
  assert.is(mac.ok, false);
  assert.match((mac as { error: string }).error, 'Linux only');
  const odd = await load_hci_socket_binding('linux', () => Promise.resolve({ default: 42 }));
  assert.is(odd.ok, false);
  const good = await load_hci_socket_binding('linux', () => Promise.resolve({ default: class {} }));
  assert.is(good.ok, true);
  // the transport reports the loader's line as open-failed
  const rl = new VirtualRunLoop();
  const t = new HciSocketTransport(0, { load: () => Promise.resolve(missing) });
  const ev: TransportEvent[] = [];
  t.init(rl);
  t.register_event_handler((e) => ev.push(e));
  t.open();
  await settle(rl);
  assert.equal(ev, [{ type: 'open-failed', error: (missing as { error: string }).error }]);
});

test('unplugged: the next write fails with EPIPE -> failed, one line', () => {
  const s = setup();
  s.t.open();
  s.rl.run(10);
  s.kernel.unplug(0);
  assert.is(s.t.send_packet(1, Uint8Array.from(HCI_RESET), 3), 0);
  s.rl.run(10);
  assert.equal(s.events[1], { type: 'failed', error: 'hci0 is gone: the controller was unplugged or its driver unloaded' });
  assert.is(s.t.can_send_packet_now(1), false);
  assert.is(s.t.send_packet(1, Uint8Array.from(HCI_RESET), 3), 0x0c);
});

test('unplugged while idle: the sysfs check sees it -> failed', async () => {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'hci-socket' });
  const kernel = new FakeHciKernel(rl);
  kernel.add(0, link.create_controller());
  const t = new HciSocketTransport(0, {
    socket_class: kernel.socket_class(),
    presence_check_ms: 500,
    device_present: kernel.present,
  });
  const ev: TransportEvent[] = [];
  t.init(rl);
  t.register_event_handler((e) => ev.push(e));
  t.open();
  rl.run(10);
  rl.advance(600);
  await settle(rl);
  assert.equal(ev, [{ type: 'opened' }], 'still there');
  kernel.unplug(0);
  rl.advance(600);
  await settle(rl);
  assert.equal(ev[1], { type: 'failed', error: 'hci0 is gone: the controller was unplugged or its driver unloaded' });
});

test('a packet cut short by the read buffer is a framing error, the next one still passes', () => {
  const s = setup();
  s.t.open();
  s.rl.run(10);
  const sock = s.kernel.sockets[0]!;
  const cut = Buffer.alloc(1024);
  cut.set([0x02, 0x01, 0x20, 0xfd, 0x03]);
  sock.emit('data', cut);
  sock.emit('data', Buffer.from([0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00]));
  s.rl.run(10);
  assert.is(s.events[1]!.type, 'framing-error');
  assert.match(
    (s.events[1] as { error: string }).error,
    'hci0: packet type 2: header announces 1025 bytes, 1023 read (cut short)',
  );
  assert.equal(s.packets, [[4, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00]]);
  assert.is(s.t.framing_errors, 1);
});

test('close while opening, bad arguments', () => {
  const s = setup();
  s.t.open();
  s.t.close();
  s.rl.run(10);
  assert.equal(s.events, [{ type: 'closed' }]);
  assert.is(s.dev.user, null);
  assert.throws(() => new HciSocketTransport(-1), /bad device index/);
  assert.is(s.t.send_packet(9, new Uint8Array(1), 1), 0x12);
});

test.run();
