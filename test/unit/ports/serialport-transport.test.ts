/**
 * SerialPortTransport on @serialport/binding-mock (SerialPortMock): open failures, close while
 * opening, write errors, a failed baud-rate change and unplug, without a device. The transport's
 * timer (the presence check) runs in virtual time on a VirtualRunLoop; serialport's own callbacks
 * are real promises, so `settle()` lets them run and then the loop takes what they posted.
 * End to end on real ptys: test/pty/serialport-transport.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { SerialPortMock } from 'serialport';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { hci_transport_config_uart } from '../../../src/chipset/chipset.js';
import type { TransportEvent } from '../../../src/hci/transport.js';
import { SerialPortTransport, type SerialPortTransportOptions } from '../../../ports/serialport/transport.js';

// @serialport/binding-mock (a pinned devDependency) as serialport loads it: its CommonJS build. An
// ESM import would load the package's ESM build, a second copy with its own devices.
const MockBinding = createRequire(import.meta.url)('@serialport/binding-mock').MockBinding as typeof SerialPortMock.binding;
type MockPortBinding = NonNullable<SerialPortMock['port']>;
const PATH = '/dev/ttyMOCK0';
const RESET = Uint8Array.of(0x03, 0x0c, 0x00);

/**
 * Let serialport's promises, ticks and file-system calls run, and the loop run what they posted
 * (no virtual time passes): a few rounds, or until `done()` holds (real time bounded).
 */
async function settle(loop: VirtualRunLoop, done?: () => boolean): Promise<void> {
  const deadline = performance.now() + 5000;
  for (let i = 0; done ? !done() && performance.now() < deadline : i < 30; i++) {
    await new Promise<void>((r) => setImmediate(r));
    loop.run(0);
  }
}

interface Rig {
  loop: VirtualRunLoop;
  t: SerialPortTransport;
  events: TransportEvent[];
  types(): string[];
  /** The mock device end of the open port. */
  binding(): MockPortBinding;
}

function rig(opts: SerialPortTransportOptions = {}, path = PATH): Rig {
  const loop = new VirtualRunLoop();
  const t = new SerialPortTransport(hci_transport_config_uart(path, { baudrate_init: 115200 }), {
    port_class: SerialPortMock,
    presence_check_ms: 0,
    modem_lines: null,
    ...opts,
  });
  const events: TransportEvent[] = [];
  t.init(loop);
  t.register_event_handler((e) => events.push(e));
  let lastPort: SerialPortMock | undefined;
  return {
    loop,
    t,
    events,
    types: () => events.map((e) => e.type),
    binding: () => {
      // the SerialPortMock the transport made is its session's port
      lastPort = (t as unknown as { session: { port: SerialPortMock } | null }).session?.port ?? lastPort;
      return lastPort!.port!;
    },
  };
}

async function opened(opts: SerialPortTransportOptions = {}, path = PATH): Promise<Rig> {
  const r = rig(opts, path);
  r.t.open();
  await settle(r.loop);
  assert.equal(r.types(), ['opened']);
  assert.ok(r.t.is_open);
  return r;
}

function errorOf(e: TransportEvent | undefined): string {
  return e && 'error' in e ? String(e.error) : '';
}

test.before.each(() => {
  assert.is(MockBinding, SerialPortMock.binding, 'one copy of the mock binding');
  MockBinding.reset();
  MockBinding.createPort(PATH, { record: true });
});

test('open, send: the H4 bytes reach the device; data from it reaches the packet handler', async () => {
  const r = await opened();
  const got: string[] = [];
  r.t.register_packet_handler((type, p, size) => got.push(`${type}:${Buffer.from(p.subarray(0, size)).toString('hex')}`));
  assert.is(r.t.send_packet(1, RESET, 3), 0);
  await settle(r.loop);
  assert.is(r.binding().recording.toString('hex'), '01030c00');
  r.binding().emitData(Buffer.from('040e0401030c00', 'hex'));
  await settle(r.loop);
  assert.equal(got, ['4:0e0401030c00']);
  r.t.close();
  await settle(r.loop);
  assert.equal(r.types(), ['opened', 'closed']);
});

test('open failures: no such device, the messages users meet from the OS, busy port; nothing else reported', async () => {
  const missing = rig({}, '/dev/ttyMOCK9');
  missing.t.open();
  await settle(missing.loop);
  assert.equal(missing.types(), ['open-failed']);
  assert.match(errorOf(missing.events[0]), /cannot open serial port \/dev\/ttyMOCK9: Port does not exist/);
  assert.not.ok(missing.t.is_open);

  const realOpen = MockBinding.open;
  const cases: Array<[string, RegExp]> = [
    [
      'Error: No such file or directory, cannot open /dev/ttyMOCK0',
      /serial port \/dev\/ttyMOCK0 not found: is the controller plugged in/,
    ],
    [
      'Error Resource temporarily unavailable Cannot lock port',
      /serial port \/dev\/ttyMOCK0 is busy: another program has it open/,
    ],
    [
      'Error: Permission denied, cannot open /dev/ttyMOCK0',
      /permission denied opening serial port \/dev\/ttyMOCK0: add your user to the 'dialout' group/,
    ],
  ];
  try {
    for (const [os, re] of cases) {
      MockBinding.open = async () => {
        throw new Error(os);
      };
      const r = rig();
      r.t.open();
      await settle(r.loop);
      assert.equal(r.types(), ['open-failed'], os);
      assert.match(errorOf(r.events[0]), re);
      assert.is(r.loop.timer_count(), 0);
    }
  } finally {
    MockBinding.open = realOpen;
  }

  // the mock's own lock: a second open of the same device fails, the first one keeps working
  const first = await opened();
  const second = rig();
  second.t.open();
  await settle(second.loop);
  assert.equal(second.types(), ['open-failed']);
  assert.match(errorOf(second.events[0]), /locked/);
  assert.ok(first.t.is_open);
  assert.is(first.t.send_packet(1, RESET, 3), 0);
});

test('close while opening: only closed is reported, the port is closed; open while closing reopens', async () => {
  const r = rig();
  r.t.open();
  r.t.close();
  await settle(r.loop);
  assert.equal(r.types(), ['closed']);
  assert.not.ok(r.t.is_open);
  const port = (r.t as unknown as { session: unknown }).session;
  assert.is(port, null);
  // the device is free again: a new open succeeds (the mock rejects a second open of a locked port)
  r.t.open();
  await settle(r.loop);
  assert.equal(r.types(), ['closed', 'opened']);
  // close, and open again before the close finished
  r.t.close();
  r.t.open();
  await settle(r.loop);
  assert.equal(r.types(), ['closed', 'opened', 'closed', 'opened']);
  assert.ok(r.t.is_open);
});

test('a write error is a transport failure: failed once, the port closed, sending disallowed', async () => {
  const r = await opened();
  const b = r.binding();
  b.write = async () => {
    throw new Error('Input/output error, cannot write');
  };
  assert.is(r.t.send_packet(1, RESET, 3), 0);
  await settle(r.loop);
  assert.equal(r.types(), ['opened', 'failed']);
  assert.match(errorOf(r.events[1]), /serial port \/dev\/ttyMOCK0 failed: Input\/output error, cannot write/);
  assert.not.ok(r.t.is_open);
  assert.is(r.t.send_packet(1, RESET, 3), 0x0c, 'COMMAND_DISALLOWED after the failure');
  assert.is(r.t.write_queue_bytes, 0);
});

test('set_baudrate: the speed changes; a refused change is a failure and the speed stays the old one', async () => {
  const r = await opened();
  assert.is(r.t.set_baudrate(921600), 0);
  await settle(r.loop);
  assert.is(r.t.baudrate, 921600);
  assert.is(r.binding().port.openOpt!.baudRate, 921600, 'the device runs at the new speed');
  r.binding().update = async () => {
    throw new Error('Invalid argument, cannot set baud rate');
  };
  assert.is(r.t.set_baudrate(3_000_000), 0);
  assert.is(r.t.baudrate, 3_000_000, 'the new speed while the change is under way');
  await settle(r.loop);
  assert.equal(r.types(), ['opened', 'failed']);
  assert.match(errorOf(r.events[1]), /cannot set \/dev\/ttyMOCK0 to 3000000 baud: Invalid argument/);
  assert.is(r.t.baudrate, 921600);
  assert.not.ok(r.t.is_open);
  assert.is(r.t.set_baudrate(115200), 0x0c);
});

test('unplug seen by serialport (read fails: disconnect): failed, no presence check needed', async () => {
  const r = await opened();
  const b = r.binding();
  b.read = async () => {
    throw Object.assign(new Error('Input/output error, device disconnected'), { disconnect: true });
  };
  b.emitData(Buffer.from('04', 'hex')); // the pending read returns; the next one fails
  await settle(r.loop);
  assert.equal(r.types(), ['opened', 'failed']);
  assert.match(errorOf(r.events[1]), /serial port \/dev\/ttyMOCK0 failed: .*disconnected/);
  assert.not.ok(r.t.is_open);
});

test('presence check in virtual time: asked presence_check_ms after the last answer, one at a time; gone -> failed, timer removed', async () => {
  const asked: number[] = [];
  const pending: { answer?: (present: boolean) => void } = {};
  const r = await opened({
    presence_check_ms: 500,
    device_present: () => {
      asked.push(r.loop.get_time_ms());
      return new Promise<boolean>((res) => (pending.answer = res));
    },
  });
  assert.is(r.loop.timer_count(), 1, 'armed at open');
  r.loop.advance(499);
  assert.equal(asked, []);
  r.loop.advance(1);
  assert.equal(asked, [500]);
  // while the answer is outstanding no timer runs and no second check starts
  assert.is(r.loop.timer_count(), 0);
  r.loop.advance(5000);
  assert.equal(asked, [500]);
  pending.answer!(true);
  await settle(r.loop);
  assert.is(r.loop.timer_count(), 1, 're-armed after the answer');
  r.loop.advance(500);
  assert.equal(asked, [500, 6000]);
  pending.answer!(false);
  await settle(r.loop);
  assert.equal(r.types(), ['opened', 'failed']);
  assert.match(errorOf(r.events[1]), /serial port \/dev\/ttyMOCK0 failed: device removed/);
  assert.is(r.loop.timer_count(), 0);
});

test('presence check: an answer after close is ignored; close removes the timer', async () => {
  const pending: { answer?: (present: boolean) => void } = {};
  const r = await opened({ presence_check_ms: 100, device_present: () => new Promise<boolean>((res) => (pending.answer = res)) });
  r.loop.advance(100);
  assert.ok(pending.answer);
  r.t.close();
  await settle(r.loop);
  pending.answer!(false);
  await settle(r.loop);
  assert.equal(r.types(), ['opened', 'closed']);
  const q = await opened({ presence_check_ms: 100 }, PATH);
  assert.is(q.loop.timer_count(), 1);
  q.t.close();
  await settle(q.loop);
  assert.is(q.loop.timer_count(), 0);
});

test('the default presence check: the device node removed -> failed (asynchronous fs access, not a blocking poll)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bthost-mock-tty-'));
  const node = join(dir, 'ttyMOCK1');
  writeFileSync(node, '');
  MockBinding.createPort(node);
  try {
    const r = await opened({ presence_check_ms: 500 }, node);
    r.loop.advance(500);
    await settle(r.loop, () => r.loop.timer_count() === 1);
    assert.equal(r.types(), ['opened'], 'still there');
    assert.is(r.loop.timer_count(), 1, 're-armed after the answer');
    rmSync(node);
    r.loop.advance(500);
    assert.equal(r.types(), ['opened'], 'the answer is asynchronous');
    await settle(r.loop, () => r.events.length === 2);
    assert.equal(r.types(), ['opened', 'failed']);
    assert.match(errorOf(r.events[1]), /failed: device removed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('read window: rx_coalesce_ms (12) while no ACL packets are in flight, else at most half the line time of the pool holding them', async () => {
  const r = await opened();
  try {
    assert.is(r.t.read_window_ms, 12, 'nothing in flight');
    r.t.controller_acl_buffer_bytes(8 * 1021); // 8 x 1021 at 115200 baud: 709 ms of line
    assert.is(r.t.read_window_ms, 12);
    assert.is(r.t.set_baudrate(3_000_000), 0); // 27.2 ms of line: half is 13 ms, the 12 ms window stays
    await settle(r.loop);
    assert.is(r.t.read_window_ms, 12);
    r.t.controller_acl_buffer_bytes(6 * 1021); // 20.4 ms of line: half is 10 ms
    assert.is(r.t.read_window_ms, 10);
    r.t.controller_acl_buffer_bytes(4 * 251); // 3.3 ms of line at 3 Mbaud: half is 1 ms
    assert.is(r.t.read_window_ms, 1);
    assert.is(r.t.set_baudrate(1_000_000), 0);
    await settle(r.loop);
    assert.is(r.t.read_window_ms, 5); // 10 ms of line at 1 Mbaud
    r.t.controller_acl_buffer_bytes(3 * 27); // 0.8 ms of line: no window
    assert.is(r.t.read_window_ms, 0);
    r.t.controller_acl_buffer_bytes(0); // nothing in flight: the whole window again
    assert.is(r.t.read_window_ms, 12);
  } finally {
    r.t.close();
    await settle(r.loop);
  }
});

test('read window: rx_coalesce_ms given is the most it can be', async () => {
  const r = await opened({ rx_coalesce_ms: 2 });
  try {
    r.t.controller_acl_buffer_bytes(8 * 1021);
    assert.is(r.t.read_window_ms, 2);
  } finally {
    r.t.close();
    await settle(r.loop);
  }
});

test.run();
