/**
 * SerialPortTransport on a real pty pair made by socat; the test plays the controller on the
 * other end. Real time: every wait is a bounded poll.
 */
import { unlinkSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { Logger, LOG_LEVEL_DEBUG } from '../../src/core/log.js';
import { fromHex, hex } from '../../src/core/bytes.js';
import { hci_transport_config_uart } from '../../src/chipset/chipset.js';
import type { TransportEvent } from '../../src/hci/transport.js';
import { SerialPortTransport, type SerialPortTransportOptions } from '../../ports/serialport/transport.js';
import { PeerPort, ptyPair, sttySpeed, until, type PtyPair } from './pty-helpers.js';

const RESET = fromHex('03 0c 00'); // HCI_Reset, no H4 byte
const RESET_H4 = '01 03 0c 00';
const RESET_COMPLETE_H4 = fromHex('04 0e 04 01 03 0c 00');

interface Rig {
  pair: PtyPair;
  loop: NodeRunLoop;
  t: SerialPortTransport;
  peer: PeerPort;
  events: TransportEvent[];
  packets: Array<{ type: number; bytes: string }>;
  logs: string[];
  cleanup(): Promise<void>;
}

async function rig(opts: SerialPortTransportOptions = {}, peerReads = true): Promise<Rig> {
  const pair = await ptyPair();
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const logger = new Logger();
  logger.level = LOG_LEVEL_DEBUG;
  const logs: string[] = [];
  logger.add_sink((_l, m) => logs.push(m));
  const t = new SerialPortTransport(hci_transport_config_uart(pair.a, { baudrate_init: 115200 }), { logger, ...opts });
  const events: TransportEvent[] = [];
  const packets: Array<{ type: number; bytes: string }> = [];
  t.init(loop);
  t.register_event_handler((e) => events.push(e));
  t.register_packet_handler((type, p, size) => packets.push({ type, bytes: hex(p, size) }));
  const peer = new PeerPort(pair.b, peerReads);
  await peer.open();
  return {
    pair,
    loop,
    t,
    peer,
    events,
    packets,
    logs,
    async cleanup() {
      if (t.is_open) {
        t.close();
        await until(
          () => !t.is_open && events.some((e) => e.type === 'closed' || e.type === 'failed'),
          2000,
          'transport closed',
        ).catch(() => {});
      }
      await peer.close();
      await pair.cleanup();
    },
  };
}

const types = (r: Rig) => r.events.map((e) => e.type);
const has =
  (r: Rig, type: TransportEvent['type'], n = 1) =>
  () =>
    r.events.filter((e) => e.type === type).length >= n;

async function openRig(r: Rig): Promise<void> {
  r.t.open();
  await until(has(r, 'opened'), 2000, 'opened');
}

test('Reset goes out as H4 bytes; Command Complete comes back through the packet handler', async () => {
  const r = await rig();
  try {
    await openRig(r);
    assert.is(r.t.is_open, true);
    assert.is(r.t.can_send_packet_now(1), true);
    assert.is(r.t.send_packet(1, RESET, 3), 0);
    await until(() => r.peer.received.length >= 4, 2000, 'reset at the controller');
    assert.is(hex(Uint8Array.from(r.peer.received)), RESET_H4);
    // answer in two pieces to exercise reassembly across reads
    await r.peer.write(RESET_COMPLETE_H4.subarray(0, 3));
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(r.packets, []);
    await r.peer.write(RESET_COMPLETE_H4.subarray(3));
    await until(() => r.packets.length === 1, 2000, 'command complete');
    assert.equal(r.packets, [{ type: 4, bytes: '0e 04 01 03 0c 00' }]);
    assert.equal(types(r), ['opened']);
  } finally {
    await r.cleanup();
  }
});

test('pty refuses DTR/RTS ioctls: logged and ignored, the port still works', async () => {
  const r = await rig({ modem_lines: { dtr: true, rts: true } });
  try {
    await openRig(r);
    await until(() => r.logs.some((l) => /DTR\/RTS not supported here, ignored/.test(l)), 2000, 'ignored ioctl log');
    assert.is(r.t.send_packet(1, RESET, 3), 0);
    await until(() => r.peer.received.length >= 4, 2000, 'reset at the controller');
    assert.equal(types(r), ['opened']);
  } finally {
    await r.cleanup();
  }
});

test('garbage from the controller is a framing error; the next valid event still arrives', async () => {
  const r = await rig();
  try {
    await openRig(r);
    await r.peer.write([0xff]);
    await until(has(r, 'framing-error'), 2000, 'framing-error');
    const fe = r.events.find((e) => e.type === 'framing-error') as { error: string };
    assert.match(fe.error, /unknown H4 packet type 0xff/);
    assert.is(r.t.framing_errors, 1);
    // an incoming HCI command is not valid host-side either
    await r.peer.write(fromHex('01'));
    await until(has(r, 'framing-error', 2), 2000, 'second framing-error');
    await r.peer.write(RESET_COMPLETE_H4);
    await until(() => r.packets.length === 1, 2000, 'event after garbage');
    assert.equal(r.packets, [{ type: 4, bytes: '0e 04 01 03 0c 00' }]);
    assert.is(r.t.is_open, true);
  } finally {
    await r.cleanup();
  }
});

test('set_baudrate changes the port speed; traffic continues both ways', async () => {
  const r = await rig();
  try {
    assert.is(r.t.set_baudrate(1_000_000), 0x0c, 'not open: Command Disallowed');
    await openRig(r);
    assert.is(sttySpeed(r.pair.a), 115200);
    assert.is(r.t.set_baudrate(0), 0x12);
    assert.is(r.t.set_baudrate(1_000_000), 0);
    assert.is(r.t.baudrate, 1_000_000);
    // a packet sent right after the switch (held back by the transport until the speed change is done)
    assert.is(r.t.send_packet(1, RESET, 3), 0);
    await until(() => r.peer.received.length >= 4, 2000, 'reset after baud change');
    assert.is(sttySpeed(r.pair.a), 1_000_000);
    assert.is(hex(Uint8Array.from(r.peer.received)), RESET_H4);
    await r.peer.write(RESET_COMPLETE_H4);
    await until(() => r.packets.length === 1, 2000, 'event after baud change');
    assert.is(r.t.set_baudrate(3_000_000), 0);
    await until(() => r.logs.some((l) => l.includes('now at 3000000 baud')), 2000, 'second change');
    assert.is(sttySpeed(r.pair.a), 3_000_000);
    assert.equal(types(r), ['opened']);
  } finally {
    await r.cleanup();
  }
});

test('close reports closed; reopen works at baudrate_init; close while opening; open while closing', async () => {
  const r = await rig();
  try {
    await openRig(r);
    r.t.set_baudrate(921600);
    await until(() => sttySpeed(r.pair.a) === 921600, 2000, 'speed 921600');
    r.t.close();
    assert.is(r.t.is_open, false);
    assert.is(r.t.send_packet(1, RESET, 3), 0x0c);
    assert.is(r.t.can_send_packet_now(1), false);
    await until(has(r, 'closed'), 2000, 'closed');
    r.t.open();
    await until(has(r, 'opened', 2), 2000, 'reopened');
    assert.is(r.t.baudrate, 115200);
    assert.is(sttySpeed(r.pair.a), 115200);
    r.t.send_packet(1, RESET, 3);
    await until(() => r.peer.received.length >= 4, 2000, 'reset after reopen');
    assert.is(hex(Uint8Array.from(r.peer.received)), RESET_H4);
    await r.peer.write(RESET_COMPLETE_H4);
    await until(() => r.packets.length === 1, 2000, 'event after reopen');

    // close() and open() back to back (HCI resetting the transport): closed, then opened again
    r.t.close();
    r.t.open();
    await until(has(r, 'opened', 3), 2000, 'reopened after close+open');
    assert.equal(types(r), ['opened', 'closed', 'opened', 'closed', 'opened']);

    // close while opening: no 'opened', just 'closed'; the device is released (open again works)
    r.t.close();
    await until(has(r, 'closed', 3), 2000, 'closed 3');
    r.t.open();
    r.t.close();
    await until(has(r, 'closed', 4), 2000, 'closed while opening');
    assert.is(r.events.filter((e) => e.type === 'opened').length, 3);
    r.t.open();
    await until(has(r, 'opened', 4), 2000, 'open after abandoned open');
    // close when already closed still answers 'closed'
    r.t.close();
    await until(has(r, 'closed', 5), 2000, 'closed 5');
    r.t.close();
    await until(has(r, 'closed', 6), 2000, 'closed 6');
    assert.not.ok(r.events.some((e) => e.type === 'failed' || e.type === 'open-failed'));
  } finally {
    await r.cleanup();
  }
});

test('the other end vanishing (socat killed) is a transport failure; reopening reports not found', async () => {
  const r = await rig();
  try {
    await openRig(r);
    await r.pair.kill();
    await until(has(r, 'failed'), 3000, 'failed');
    const f = r.events.find((e) => e.type === 'failed') as { error: string };
    assert.match(f.error, r.pair.a);
    assert.is(r.t.is_open, false);
    assert.is(r.t.send_packet(1, RESET, 3), 0x0c);
    r.t.open();
    await until(has(r, 'open-failed'), 2000, 'open-failed');
    const of = r.events.find((e) => e.type === 'open-failed') as { error: string };
    assert.match(of.error, 'not found');
    assert.equal(types(r), ['opened', 'failed', 'open-failed']);
  } finally {
    await r.cleanup();
  }
});

test('device node removed while open (USB unplug without a read error) is a transport failure', async () => {
  const r = await rig({ presence_check_ms: 50 });
  try {
    await openRig(r);
    assert.is(r.loop.timer_count(), 1, 'presence check armed');
    unlinkSync(r.pair.a); // the node goes away; the pty itself (socat) is still there
    await until(has(r, 'failed'), 2000, 'failed');
    const f = r.events.find((e) => e.type === 'failed') as { error: string };
    assert.match(f.error, 'device removed');
    assert.is(r.loop.timer_count(), 0, 'no timer left behind');
    assert.equal(types(r), ['opened', 'failed']);
  } finally {
    await r.cleanup();
  }
});

test('closing removes the presence timer', async () => {
  const r = await rig();
  try {
    await openRig(r);
    assert.is(r.loop.timer_count(), 1);
    r.t.close();
    await until(has(r, 'closed'), 2000, 'closed');
    assert.is(r.loop.timer_count(), 0);
  } finally {
    await r.cleanup();
  }
});

test('open errors users meet: no such port, port busy', async () => {
  const r = await rig();
  try {
    const loop = r.loop;
    const missing = new SerialPortTransport(hci_transport_config_uart(r.pair.dir + '/nope'));
    const ev1: TransportEvent[] = [];
    missing.init(loop);
    missing.register_event_handler((e) => ev1.push(e));
    missing.open();
    await until(() => ev1.length > 0, 2000, 'missing open-failed');
    assert.is(ev1[0]!.type, 'open-failed');
    assert.match((ev1[0] as { error: string }).error, /serial port .*\/nope not found/);

    await openRig(r);
    const second = new SerialPortTransport(hci_transport_config_uart(r.pair.a));
    const ev2: TransportEvent[] = [];
    second.init(loop);
    second.register_event_handler((e) => ev2.push(e));
    second.open();
    await until(() => ev2.length > 0, 2000, 'busy open-failed');
    assert.is(ev2[0]!.type, 'open-failed');
    assert.match((ev2[0] as { error: string }).error, /is busy: another program has it open/);
    // the first transport is unaffected
    assert.is(r.t.send_packet(1, RESET, 3), 0);
    await until(() => r.peer.received.length >= 4, 2000, 'reset');
  } finally {
    await r.cleanup();
  }
});

test('write queue bound: can_send_packet_now false while the OS has not taken the bytes; can-send-now after; nothing lost', async () => {
  const bound = 2048;
  const r = await rig({ max_write_queue: bound }, false); // the controller does not read yet
  try {
    await openRig(r);
    const payload = 1021;
    const acl = new Uint8Array(4 + payload);
    let sent = 0;
    let maxQueued = 0;
    const total = 200; // ~205 KB: far more than the pty buffers
    const expected: number[] = [];
    let stalledFor = 0;
    while (sent < total) {
      if (!r.t.can_send_packet_now(2)) {
        const waitedFrom = Date.now();
        const before = r.events.filter((e) => e.type === 'can-send-now').length;
        if (stalledFor === 0) {
          // give the OS time: with nobody reading, the queue stays above the bound
          await new Promise((res) => setTimeout(res, 150));
          if (!r.t.can_send_packet_now(2) && r.events.filter((e) => e.type === 'can-send-now').length === before) {
            stalledFor = Date.now() - waitedFrom;
            assert.ok(sent > 0 && sent < total, `stalled after ${sent} packets`);
            r.peer.resume(); // the controller starts reading
          }
        }
        await until(() => r.events.filter((e) => e.type === 'can-send-now').length > before, 3000, 'can-send-now');
        assert.ok(r.t.can_send_packet_now(2));
        continue;
      }
      acl[0] = 0x01;
      acl[1] = 0x20;
      acl[2] = payload & 0xff;
      acl[3] = payload >> 8;
      for (let i = 0; i < payload; i++) acl[4 + i] = (sent + i) & 0xff;
      assert.is(r.t.send_packet(2, acl, acl.length), 0);
      expected.push(2, ...acl);
      sent++;
      maxQueued = Math.max(maxQueued, r.t.write_queue_bytes);
    }
    assert.ok(stalledFor > 0, 'the queue stalled while the controller was not reading');
    assert.ok(maxQueued < bound + acl.length + 1, `queue stayed bounded (${maxQueued})`);
    await until(() => r.peer.received.length >= expected.length, 5000, 'all bytes at the controller');
    assert.is(r.peer.received.length, expected.length);
    let firstDiff = -1;
    for (let i = 0; i < expected.length; i++) {
      if (r.peer.received[i] !== expected[i]) {
        firstDiff = i;
        break;
      }
    }
    assert.is(firstDiff, -1, 'bytes arrive intact and in order');
    await until(() => r.t.write_queue_bytes === 0, 2000, 'queue empty');
  } finally {
    await r.cleanup();
  }
});

test.run();
