/**
 * The serialport transport's fd I/O path (ports/serialport/fd-io.ts) on a real socat pty pair:
 * which path is chosen, a burst of packets as one write with the exact bytes on the wire, a
 * stream cut in odd pieces read back as the exact packets, the other end vanishing as a read
 * error (EIO) -> 'failed', and the stream fallback chosen by option. Real time, bounded waits.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { fromHex, hex } from '../../src/core/bytes.js';
import { hci_transport_config_uart } from '../../src/chipset/chipset.js';
import type { TransportEvent } from '../../src/hci/transport.js';
import { SerialPortTransport, type SerialPortTransportOptions } from '../../ports/serialport/transport.js';
import { fd_io_handle, serial_io_choice } from '../../ports/serialport/fd-io.js';
import { PeerPort, ptyPair, until, type PtyPair } from './pty-helpers.js';

interface Rig {
  pair: PtyPair;
  t: SerialPortTransport;
  peer: PeerPort;
  loop: NodeRunLoop;
  events: TransportEvent[];
  packets: Array<{ type: number; bytes: string }>;
  cleanup(): Promise<void>;
}

async function rig(opts: SerialPortTransportOptions = {}): Promise<Rig> {
  const pair = await ptyPair();
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const t = new SerialPortTransport(hci_transport_config_uart(pair.a, { baudrate_init: 115200 }), opts);
  const events: TransportEvent[] = [];
  const packets: Array<{ type: number; bytes: string }> = [];
  t.init(loop);
  t.register_event_handler((e) => events.push(e));
  t.register_packet_handler((type, p, size) => packets.push({ type, bytes: hex(p, size) }));
  const peer = new PeerPort(pair.b, true);
  await peer.open();
  t.open();
  await until(() => events.some((e) => e.type === 'opened'), 3000, 'opened');
  return {
    pair,
    t,
    peer,
    loop,
    events,
    packets,
    async cleanup() {
      if (t.is_open) {
        t.close();
        await until(() => !t.is_open, 2000, 'closed').catch(() => {});
      }
      await peer.close();
      await pair.cleanup();
    },
  };
}

/** Number Of Completed Packets (1 packet on handle n) as it comes from the controller. */
const nocp = (n: number) => [0x04, 0x13, 0x05, 0x01, 0x01, 0x00, n, 0x00];

/** Two events within the window: the next reads wait for it (the rig's rx_coalesce_ms). */
async function startWindow(r: Rig): Promise<void> {
  await r.peer.write(nocp(1));
  await until(() => r.packets.length === 1, 2000, 'first event');
  await r.peer.write(nocp(2));
  await until(() => r.packets.length === 2, 2000, 'second event: the window starts');
}

test('serial_io_choice: option first, then BTHOST_SERIAL_IO, else auto; fd_io_handle needs an fd and a poller', () => {
  assert.is(serial_io_choice('stream', { BTHOST_SERIAL_IO: 'fd' }), 'stream');
  assert.is(serial_io_choice(undefined, { BTHOST_SERIAL_IO: ' FD ' }), 'fd');
  assert.is(serial_io_choice(undefined, { BTHOST_SERIAL_IO: 'bogus' }), 'auto');
  assert.is(serial_io_choice(undefined, {}), 'auto');
  assert.is(fd_io_handle(null), null);
  assert.is(fd_io_handle({ fd: 5 }), null); // the mock binding: no poller
  assert.is(fd_io_handle({ fd: null, poller: {} }), null); // closed
  const poller = { poll() {}, on() {}, removeListener() {} };
  assert.equal(fd_io_handle({ fd: 7, poller }), { fd: 7, poller });
});

test('fd path by default on Linux: a burst of packets leaves as one write, bytes exact', async () => {
  const r = await rig();
  try {
    assert.is(r.t.io_path, 'fd');
    const w0 = r.t.io_stats.writes;
    // three packets sent in one run-loop task
    r.loop.execute_on_main_thread(() => {
      assert.is(r.t.send_packet(1, fromHex('03 0c 00'), 3), 0);
      assert.is(r.t.send_packet(2, fromHex('01 00 03 00 aa bb cc'), 7), 0);
      assert.is(r.t.send_packet(1, fromHex('01 10 00'), 3), 0);
    });
    await until(() => r.peer.received.length >= 4 + 8 + 4, 2000, 'bytes at the peer');
    assert.is(hex(Uint8Array.from(r.peer.received)), '01 03 0c 00 02 01 00 03 00 aa bb cc 01 01 10 00');
    assert.is(r.t.io_stats.writes - w0, 1, 'one write for the burst');
    assert.is(r.t.write_queue_bytes, 0);
  } finally {
    await r.cleanup();
  }
});

test('fd path: a stream of events cut in odd pieces comes back as the exact packets', async () => {
  const r = await rig();
  try {
    const expected: string[] = [];
    const wire: number[] = [];
    for (let i = 0; i < 200; i++) {
      const ev = [0x0e, 0x04, 0x01, i & 0xff, 0x0c, 0x00]; // Command Complete, opcode varies
      expected.push(hex(Uint8Array.from(ev)));
      wire.push(0x04, ...ev);
    }
    for (let pos = 0, k = 1; pos < wire.length; k = (k * 7) % 61) {
      const n = Math.min(wire.length - pos, 1 + k);
      await r.peer.write(wire.slice(pos, pos + n));
      pos += n;
    }
    await until(() => r.packets.length >= 200, 3000, '200 packets');
    assert.equal(
      r.packets.map((p) => p.bytes),
      expected,
    );
    assert.ok(r.packets.every((p) => p.type === 4));
    assert.is(r.t.io_stats.read_bytes, wire.length);
    assert.is(r.t.framing_errors, 0);
  } finally {
    await r.cleanup();
  }
});

test('fd path read window: sparse events are read as they come; inside the window ACL data waits for it, an HCI command ends it', async () => {
  const r = await rig({ rx_coalesce_ms: 1000 });
  try {
    const ev = (n: number) => [0x04, 0x13, 0x05, 0x01, 0x01, 0x00, n, 0x00]; // Number Of Completed Packets
    // events further apart than the window are read as they come (on the poller) ...
    await r.peer.write(ev(1));
    await until(() => r.packets.length === 1, 2000, 'the first event (after a quiet spell: read at once)');
    // ... and two reads within the window start it
    const t0 = performance.now();
    await r.peer.write(ev(2));
    await until(() => r.packets.length === 2, 2000, 'the second event (still read at once)');
    const t1 = performance.now();
    assert.ok(t1 - t0 < 500, `the second event waited ${(t1 - t0).toFixed(0)} ms: a lone event must not wait for a window`);
    // now inside the 1 s window: the next event waits in the kernel; an ACL packet sent does not end the wait
    await r.peer.write(ev(3));
    r.loop.execute_on_main_thread(() => assert.is(r.t.send_packet(2, fromHex('01 00 03 00 aa bb cc'), 7), 0));
    await until(() => r.peer.received.length === 8, 2000, 'the ACL packet at the peer');
    await new Promise((res) => setTimeout(res, 300));
    assert.is(r.packets.length, 2, 'the third event was read inside the window although only ACL data was sent');
    // a command: its answer must not wait for the rest of the window
    r.loop.execute_on_main_thread(() => assert.is(r.t.send_packet(1, fromHex('03 0c 00'), 3), 0));
    await until(() => r.packets.length === 3, 2000, 'the event waiting in the kernel');
    const t2 = performance.now();
    assert.ok(t2 - t1 < 900, `read ${(t2 - t1).toFixed(0)} ms after the second: the command did not end the 1000 ms window`);
    assert.equal(
      r.packets.map((p) => p.bytes),
      [1, 2, 3].map((n) => hex(Uint8Array.from(ev(n).slice(1)))),
    );
  } finally {
    await r.cleanup();
  }
});

test("fd path read window: reads cut by the kernel's tty buffer are followed on the poller, so a fast link is not held to one buffer per window", async () => {
  const r = await rig({ rx_coalesce_ms: 1000 });
  try {
    await startWindow(r);
    // 64 ACL packets of 1021 bytes (65,536 bytes with headers) written at once: more than the
    // pty's line discipline hands out per read (4 KiB); one read per 1 s window would take ~16 s
    const acl = (i: number) => {
      const p = new Uint8Array(1 + 4 + 1019);
      p.set([0x02, 0x01, 0x20, 1019 & 0xff, 1019 >> 8]);
      p.fill(i & 0xff, 5);
      return p;
    };
    const burst = new Uint8Array(64 * 1024);
    for (let i = 0; i < 64; i++) burst.set(acl(i), i * 1024);
    const t0 = performance.now();
    await r.peer.write(burst);
    await until(() => r.packets.length === 66, 6000, 'the 64 ACL packets');
    const took = performance.now() - t0;
    assert.ok(took < 4000, `64 KiB took ${took.toFixed(0)} ms through a 1000 ms window`);
    for (let i = 0; i < 64; i++) {
      const p = r.packets[2 + i]!;
      assert.is(p.type, 2);
      assert.is(p.bytes, hex(acl(i).subarray(1)), `ACL packet ${i}`);
    }
    assert.is(r.t.framing_errors, 0);
  } finally {
    await r.cleanup();
  }
});

test("fd path read window: a cap from the controller's buffers cuts a window already running", async () => {
  const r = await rig({ rx_coalesce_ms: 1000 });
  try {
    await startWindow(r);
    const t1 = performance.now();
    await r.peer.write(nocp(3)); // waits for the window
    // packets in flight in a 58-byte pool at 115200 baud: 5 ms of line, a 2 ms window
    r.loop.execute_on_main_thread(() => r.t.controller_acl_buffer_bytes(58));
    await until(() => r.packets.length === 3, 2000, 'third event');
    const waited = performance.now() - t1;
    assert.is(r.t.read_window_ms, 2);
    assert.ok(waited < 800, `the third event waited ${waited.toFixed(0)} ms: the running 1000 ms window was not cut`);
  } finally {
    await r.cleanup();
  }
});

test('fd path: the other end vanishing is a read error -> failed (one event, port closed)', async () => {
  const r = await rig();
  try {
    await r.pair.kill();
    await until(() => r.events.some((e) => e.type === 'failed'), 3000, 'failed');
    const f = r.events.find((e) => e.type === 'failed') as { error: string };
    assert.match(f.error, `serial port ${r.pair.a} failed: `, f.error);
    assert.match(f.error, /read: (EIO|end of file)/, f.error);
    assert.is(r.events.filter((e) => e.type === 'failed').length, 1);
    assert.is(r.t.is_open, false);
    assert.is(r.t.send_packet(1, fromHex('03 0c 00'), 3), 0x0c);
  } finally {
    await r.cleanup();
  }
});

test("io: 'stream' keeps serialport's streams (the fallback), same bytes", async () => {
  const r = await rig({ io: 'stream' });
  try {
    assert.is(r.t.io_path, 'stream');
    assert.is(r.t.io_choice, 'stream');
    assert.is(r.t.send_packet(1, fromHex('03 0c 00'), 3), 0);
    await until(() => r.peer.received.length >= 4, 2000, 'reset at the peer');
    assert.is(hex(Uint8Array.from(r.peer.received)), '01 03 0c 00');
    await r.peer.write(fromHex('04 0e 04 01 03 0c 00'));
    await until(() => r.packets.length === 1, 2000, 'event');
    assert.equal(r.packets[0], { type: 4, bytes: '0e 04 01 03 0c 00' });
    assert.is(r.t.io_stats.reads >= 1, true);
  } finally {
    await r.cleanup();
  }
});

test.run();
