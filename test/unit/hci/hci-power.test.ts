import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boot, connect_classic, connect_le, cs, u16, working } from './hci-script.js';
import { hex, little_endian_store_16 } from '../../../src/core/bytes.js';
import { hci_read_bd_addr } from '../../../src/hci/commands.js';
import { H4Deframer } from '../../../src/hci/h4.js';

function busy(h: ReturnType<typeof working>) {
  // two links, pending fragments on one, a reassembly in progress on the other, a queued command
  const a = connect_classic(h, 0x0001, '00:00:00:00:00:01');
  const b = connect_le(h, 0x0002);
  const hci = h.stack.hci;
  hci.hci_reserve_packet_buffer();
  const buf = hci.hci_get_outgoing_packet_buffer();
  little_endian_store_16(buf, 0, a | 0x2000);
  little_endian_store_16(buf, 2, 3004);
  little_endian_store_16(buf, 4, 3000);
  little_endian_store_16(buf, 6, 0x40);
  hci.hci_send_acl_packet_buffer(3008);
  h.t.acl(`${u16(b | 0x2000)} 06 00 10 00 04 00 01 02`);
  h.t.event('0e 03 00 00 00'); // no credits
  hci.hci_send_cmd(hci_read_bd_addr);
  assert.is(h.stack.pools.packet_buffers.in_use, 1);
  assert.not.ok(h.stack.pools.all_free());
  return { a, b };
}

test('Hardware Error: event to handlers, links torn down as BTstack does, OFF with pools full, then power on again', () => {
  const h = working();
  const { a, b } = busy(h);
  h.clear();
  h.t.take_commands();
  h.t.take_acl();
  let freeAtOff = false;
  h.stack.hci.hci_add_event_handler({
    callback: (_t, _c, p) => {
      if (p[0] === 0x60 && p[2] === 0) freeAtOff = h.stack.pools.all_free();
    },
  });
  h.t.event('10 01 05');
  h.rl.run(0);
  assert.equal(
    h.events.map((e) => hex(e)),
    [
      '10 01 05', // the Hardware Error itself (the pending ACL packet is dropped)
      `05 04 00 ${u16(a)} 16`, // synthesized Disconnection Complete, Connection Terminated By Local Host
      '61 01 01', // BTSTACK_EVENT_NR_CONNECTIONS_CHANGED 1
      `05 04 00 ${u16(b)} 16`,
      '61 01 00',
      '60 01 00', // BTSTACK_EVENT_STATE OFF
      '60 01 01', // and INITIALIZING again (BTstack reboots the stack)
    ],
  );
  assert.ok(freeAtOff, 'every pool full when OFF is reported');
  assert.is(h.t.closes, 1);
  assert.is(h.t.opens, 2);
  const sent = boot(h.t, h.rl, h.stack);
  assert.is(sent[0], '03 0c 00', 'a fresh init sequence');
  assert.is(h.stack.hci.hci_get_state(), 2);
  assert.equal(h.t.take_acl(), [], 'nothing from before the error is sent');
});

test('Hardware Error with a hardware error callback: OFF first (BTstack only calls the callback), then the app decides', () => {
  const h = working();
  const codes: number[] = [];
  const atCallback: Array<[number, boolean, string[]]> = [];
  h.stack.hci.hci_set_hardware_error_callback((c) => {
    codes.push(c);
    atCallback.push([h.stack.hci.hci_get_state(), h.stack.pools.all_free(), h.events.map((e) => hex(e))]);
  });
  connect_classic(h, 0x0003);
  h.clear();
  h.t.event('10 01 2a');
  h.rl.run(0);
  assert.equal(codes, [0x2a]);
  assert.equal(
    atCallback,
    [[0, true, ['10 01 2a', '05 04 00 03 00 16', '61 01 00', '60 01 00']]],
    'the callback sees an OFF stack',
  );
  assert.is(h.t.opens, 1, 'no power on by itself');
  assert.is(h.stack.hci.hci_get_state(), 0);
  assert.ok(h.stack.pools.all_free());
  h.stack.hci.hci_power_control(1);
  boot(h.t, h.rl, h.stack);
  assert.is(h.stack.hci.hci_get_state(), 2);
});

test("transport 'failed' (device unplugged): OFF, pools full, no restart; power on again works", () => {
  const h = working();
  busy(h);
  h.clear();
  h.t.emit({ type: 'failed', error: 'unplugged' });
  h.rl.run(0);
  assert.is(h.stack.hci.hci_get_state(), 0);
  assert.ok(h.stack.pools.all_free());
  assert.equal(
    h.events.filter((e) => e[0] === 0x60).map((e) => e[2]),
    [0],
  );
  assert.is(h.t.opens, 1);
  h.stack.hci.hci_power_control(1);
  boot(h.t, h.rl, h.stack);
  assert.is(h.stack.hci.hci_get_state(), 2);
});

test("transport 'framing-error': the transport is reset and the stack powers on again", () => {
  const h = working();
  connect_classic(h, 0x0005);
  h.clear();
  h.t.emit({ type: 'framing-error', error: 'unknown packet type 0x7f' });
  h.rl.run(0);
  assert.equal(
    h.events.filter((e) => e[0] === 0x60).map((e) => e[2]),
    [0, 1],
  );
  assert.is(h.t.closes, 1);
  assert.is(h.t.opens, 2);
  boot(h.t, h.rl, h.stack);
  assert.is(h.stack.hci.hci_get_state(), 2);
  assert.ok(h.stack.pools.all_free());
});

test('a garbage burst (one framing error per bad byte) restarts the stack exactly once; a later burst once more', () => {
  const h = working();
  // the transport side: a host-side H4 deframer whose errors become 'framing-error' events, as ports/serialport does
  const deframer = new H4Deframer({
    accept: [2, 3, 4, 5],
    on_packet: (type, packet, size) => (type === 4 ? h.t.event(packet.slice(0, size)) : undefined),
    on_error: (error) => h.t.emit({ type: 'framing-error', error }),
  });
  const garbage = new Uint8Array(64).map((_, i) => 0x80 + i); // 64 bytes, none a valid H4 type
  h.t.report_closed = false;
  deframer.feed(garbage);
  assert.is(deframer.errors, 64, 'one framing error per bad byte');
  assert.is(h.t.closes, 1);
  // more of the same burst while the transport is closing ...
  deframer.feed(garbage.subarray(0, 8));
  // ... and once it is closed, while it is being opened again
  h.t.emit({ type: 'closed' });
  assert.is(h.t.opens, 2, 'reopening');
  deframer.feed(garbage.subarray(8, 16));
  assert.is(deframer.errors, 80);
  h.t.report_closed = true;
  h.rl.run(0);
  assert.equal(
    h.events.filter((e) => e[0] === 0x60).map((e) => e[2]),
    [0, 1],
    'OFF, INITIALIZING once',
  );
  assert.is(h.t.closes, 1);
  assert.is(h.t.opens, 2);
  boot(h.t, h.rl, h.stack);
  assert.is(h.stack.hci.hci_get_state(), 2);
  assert.ok(h.stack.pools.all_free());

  // the transport is open again: a new burst is a new problem and restarts once more
  h.clear();
  deframer.feed(garbage.subarray(0, 16));
  h.rl.run(0);
  assert.equal(
    h.events.filter((e) => e[0] === 0x60).map((e) => e[2]),
    [0, 1],
  );
  assert.is(h.t.closes, 2);
  assert.is(h.t.opens, 3);
});

test('a transport that never reports closed is reopened after a timeout', () => {
  const h = working();
  h.t.report_closed = false;
  h.t.emit({ type: 'framing-error', error: 'x' });
  h.rl.run(0);
  assert.is(h.t.opens, 1, 'waits for closed');
  h.rl.advance(500);
  assert.is(h.t.opens, 2);
  boot(h.t, h.rl, h.stack);
  assert.is(h.stack.hci.hci_get_state(), 2);
});

test('power off: HALTING disconnects every link (reason 0x15), then OFF; pools full', () => {
  const h = working();
  const a = connect_classic(h, 0x0001, '00:00:00:00:00:01');
  const b = connect_le(h, 0x0002);
  h.clear();
  assert.is(h.stack.hci.hci_power_control(0), 0);
  assert.equal(
    h.events.map((e) => hex(e)),
    ['60 01 03'],
  );
  assert.equal(h.t.take_commands(), [`06 04 03 ${u16(a)} 15`]);
  h.t.event(cs(0x0406));
  assert.equal(h.t.take_commands(), [`06 04 03 ${u16(b)} 15`]);
  h.t.event(cs(0x0406));
  h.t.event(`05 04 00 ${u16(a)} 16`);
  assert.is(h.stack.hci.hci_get_state(), 3);
  h.t.event(`05 04 00 ${u16(b)} 16`);
  h.rl.run(0);
  assert.is(h.stack.hci.hci_get_state(), 0);
  assert.ok(h.stack.pools.all_free());
  assert.equal(
    h.events.filter((e) => e[0] === 0x60).map((e) => e[2]),
    [3, 0],
  );
  assert.is(h.t.closes, 1);
});

test('power off: a link that completes while HALTING is disconnected at once', () => {
  const h = working();
  const a = connect_classic(h, 0x0001, '00:00:00:00:00:01');
  h.stack.gap.gap_connect(new Uint8Array([0xc0, 0xff, 0xee, 0, 0x11, 0x22]), 0);
  h.t.take_commands();
  h.t.event(cs(0x200d));
  h.stack.hci.hci_power_control(0);
  const cmds = h.t.take_commands();
  assert.equal(cmds, [`06 04 03 ${u16(a)} 15`]);
  h.t.event(cs(0x0406));
  assert.equal(h.t.take_commands(), ['0e 20 00'], 'the pending LE connect is cancelled');
  h.t.event('0e 04 01 0e 20 0c'); // too late: the link came up first
  connect_le(h, 0x0002);
  assert.equal(h.t.take_commands(), ['06 04 03 02 00 15']);
  h.t.event(cs(0x0406));
  h.t.event(`05 04 00 ${u16(a)} 16`);
  h.t.event('05 04 00 02 00 16');
  h.rl.run(0);
  assert.is(h.stack.hci.hci_get_state(), 0);
  assert.ok(h.stack.pools.all_free());
});

test('power off: a controller that never answers the disconnects is closed after the halting timeout', () => {
  const h = working();
  connect_classic(h, 0x0001);
  h.stack.hci.hci_power_control(0);
  h.t.take_commands();
  h.rl.advance(1999);
  assert.is(h.stack.hci.hci_get_state(), 3);
  h.rl.advance(1);
  assert.is(h.stack.hci.hci_get_state(), 0);
  assert.ok(h.stack.pools.all_free());
  assert.ok(
    h.events.some((e) => e[0] === 0x05 && e[5] === 0x16),
    'links discarded with a synthesized Disconnection Complete',
  );
});

test('power off during init closes at once; sleep then wake re-runs init', () => {
  const h = working();
  h.stack.hci.hci_power_control(2);
  h.rl.run(0);
  assert.is(h.stack.hci.hci_get_state(), 4, 'SLEEPING (no links to disconnect)');
  assert.equal(
    h.events.filter((e) => e[0] === 0x60).map((e) => e[2]),
    [5, 4],
  );
  h.stack.hci.hci_power_control(1);
  const sent = boot(h.t, h.rl, h.stack);
  assert.is(sent[0], '03 0c 00');
  assert.is(h.stack.hci.hci_get_state(), 2);
  h.stack.hci.hci_power_control(0);
  h.rl.run(0);
  h.stack.hci.hci_power_control(1);
  h.rl.run(0);
  assert.is(h.stack.hci.hci_get_state(), 1);
  h.stack.hci.hci_power_control(0);
  h.rl.run(0);
  assert.is(h.stack.hci.hci_get_state(), 0);
  assert.ok(h.stack.pools.all_free());
});

test('hci_close: links discarded, OFF, power on refused afterwards', () => {
  const h = working();
  connect_classic(h, 0x0001);
  h.stack.hci.hci_close();
  assert.is(h.stack.hci.hci_get_state(), 0);
  assert.ok(h.stack.pools.all_free());
  assert.is(h.stack.hci.hci_power_control(1), 0x0c);
});

test.run();
