import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boot, cc, cs, DUAL_MODE, harness, init_reply } from './hci-script.js';
import { fromHex, hex } from '../../../src/core/bytes.js';
import { chipset_bcm } from '../../../src/chipset/bcm.js';

// Command packets below are written out from the Core spec (Vol 4, Part E, 7): opcode little
// endian (OGF << 10 | OCF), parameter length, parameters.
const NAME = 'BTstack 11:22:33:44:55:66';
function nameField(): string {
  const b = new Uint8Array(248);
  b.set(new TextEncoder().encode(NAME));
  return hex(b);
}
function eirField(): string {
  const b = new Uint8Array(240);
  b[0] = NAME.length + 1;
  b[1] = 0x09; // Complete Local Name
  b.set(new TextEncoder().encode(NAME), 2);
  return hex(b);
}

test('power on: the full init sequence of a dual-mode controller, byte for byte, then WORKING', () => {
  const h = harness();
  assert.is(h.stack.hci.hci_power_control(1), 0);
  assert.equal(h.codes(), [0x60]);
  assert.equal(Array.from(h.events[0]!), [0x60, 1, 1], 'BTSTACK_EVENT_STATE INITIALIZING');
  const sent = boot(h.t, h.rl, h.stack);
  assert.equal(sent, [
    '03 0c 00', // Reset
    '01 10 00', // Read Local Version Information
    '02 10 00', // Read Local Supported Commands
    '03 10 00', // Read Local Supported Features
    '04 10 01 01', // Read Local Extended Features, page 1
    '09 10 00', // Read BD_ADDR
    '05 10 00', // Read Buffer Size
    '02 20 00', // LE Read Buffer Size
    '01 0c 08 ff ff ff ff ff ff ff 3f', // Set Event Mask: all BR/EDR events + LE Meta
    '01 20 08 ff 09 08 00 00 00 00 00', // LE Set Event Mask
    '56 0c 01 01', // Write Simple Pairing Mode: enabled
    '7a 0c 01 01', // Write Secure Connections Host Support: enabled
    '45 0c 01 02', // Write Inquiry Mode: RSSI or EIR
    '24 0c 03 0c 02 7a', // Write Class of Device 0x7a020c
    '13 0c f8 ' + nameField(), // Write Local Name, address filled in
    '52 0c f1 01 ' + eirField(), // Write Extended Inquiry Response, FEC required
    '6d 0c 02 01 00', // Write LE Host Supported
    '1a 0c 01 00', // Write Scan Enable: no scans
  ]);
  assert.is(h.stack.hci.hci_get_state(), 2);
  const states = h.events.filter((e) => e[0] === 0x60).map((e) => e[2]);
  assert.equal(states, [1, 2], 'INITIALIZING then WORKING');
  // the Write Scan Enable completion reports BTSTACK_EVENT_DISCOVERABLE_ENABLED (v1.4) = 0
  assert.ok(h.events.some((e) => hex(e) === '66 01 00'));
  assert.is(h.stack.hci.hci_max_acl_data_packet_length(), 310);
  assert.is(h.stack.hci.hci_max_acl_le_data_packet_length(), 27);
  // nothing in flight after init: the transport hears of buffer pools only when ACL data goes out
  assert.equal(h.t.acl_buffer_reports, []);
  assert.is(h.stack.gap.gap_local_bd_addr().join(','), [0x11, 0x22, 0x33, 0x44, 0x55, 0x66].join(','));
  assert.ok(h.stack.hci.hci_le_supported());
  assert.ok(h.stack.hci.hci_classic_supported());
});

test('LE-only controller: no BR/EDR commands; Read Buffer Size 0 LE length means shared buffers', () => {
  const h = harness();
  h.stack.hci.hci_power_control(1);
  const p = {
    ...DUAL_MODE,
    features: '00 00 00 00 60 00 00 00', // BR/EDR not supported, LE supported, no extended features
    le_len: 0,
    le_num: 0,
  };
  const sent = boot(h.t, h.rl, h.stack, p);
  assert.equal(sent, [
    '03 0c 00',
    '01 10 00',
    '02 10 00',
    '03 10 00',
    '09 10 00',
    '05 10 00',
    '02 20 00',
    '01 0c 08 ff ff ff ff ff ff ff 3f',
    '01 20 08 ff 09 08 00 00 00 00 00',
  ]);
  assert.is(h.stack.hci.hci_get_state(), 2);
  assert.is(h.stack.hci.hci_max_acl_le_data_packet_length(), 310, 'LE shares the BR/EDR buffers');
});

test('classic controller without LE, without extended features: inquiry mode RSSI, no LE commands', () => {
  const h = harness();
  h.stack.hci.hci_power_control(1);
  const p = { ...DUAL_MODE, features: 'ff ff 8f fe 18 ff 08 03' }; // RSSI inquiry, SSP, no EIR, no LE, no ext
  const sent = boot(h.t, h.rl, h.stack, p);
  assert.ok(!sent.some((c) => c.startsWith('02 20') || c.startsWith('01 20') || c.startsWith('6d 0c')), 'no LE commands');
  assert.ok(!sent.includes('04 10 01 01'), 'no extended features read');
  assert.ok(sent.includes('45 0c 01 01'), 'inquiry mode 1 (RSSI)');
  assert.ok(!sent.some((c) => c.startsWith('52 0c')), 'no EIR without the feature');
  assert.ok(sent.includes('01 0c 08 ff ff ff ff ff ff ff 1f'), 'no LE Meta bit without LE');
  assert.is(h.stack.hci.hci_get_state(), 2);
});

test('supported commands bitmap decides optional steps (no Secure Connections, no Write Inquiry Mode)', () => {
  const h = harness();
  h.stack.hci.hci_power_control(1);
  const cmds = new Uint8Array(64).fill(0xff);
  cmds[12] = 0x7f; // octet 12 bit 7: Write Inquiry Mode
  cmds[32] = 0xf7; // octet 32 bit 3: Write Secure Connections Host Support
  const sent = boot(h.t, h.rl, h.stack, { ...DUAL_MODE, supported_commands: hex(cmds) });
  assert.not.ok(sent.some((c) => c.startsWith('45 0c')));
  assert.not.ok(sent.some((c) => c.startsWith('7a 0c')));
  assert.is(h.stack.hci.hci_get_state(), 2);
});

test('HCI Reset is resent every 200 ms (virtual time) until it completes, then never again', () => {
  const h = harness();
  h.stack.hci.hci_power_control(1);
  h.rl.run(0);
  assert.equal(h.t.take_commands(), ['03 0c 00']);
  h.rl.advance(199);
  assert.equal(h.t.take_commands(), []);
  h.rl.advance(1);
  assert.equal(h.t.take_commands(), ['03 0c 00'], 'resent at 200 ms');
  h.rl.advance(200);
  assert.equal(h.t.take_commands(), ['03 0c 00'], 'resent at 400 ms');
  h.rl.advance(200);
  assert.equal(h.t.take_commands(), ['03 0c 00'], 'resent at 600 ms');
  h.t.event(cc(0x0c03));
  assert.equal(h.t.take_commands(), ['01 10 00'], 'init goes on after the Reset completes');
  h.rl.advance(5000);
  assert.equal(h.t.take_commands(), [], 'no more resets');
  assert.is(h.rl.timer_count(), 0);
});

test('a second Command Complete for a resent Reset is dropped, init is not confused', () => {
  const h = harness();
  h.stack.hci.hci_power_control(1);
  h.rl.run(0);
  h.rl.advance(200); // two resets out
  assert.equal(h.t.take_commands(), ['03 0c 00', '03 0c 00']);
  h.t.event(cc(0x0c03));
  assert.equal(h.t.take_commands(), ['01 10 00']);
  h.t.event(cc(0x0c03)); // the late answer to the second Reset
  assert.equal(h.t.take_commands(), [], 'Read Local Version is still outstanding, nothing new sent');
  h.t.event(cc(0x1001, init_reply(0x1001, DUAL_MODE)!));
  assert.equal(h.t.take_commands(), ['02 10 00']);
});

test('an optional init step answered with an error status is logged and skipped over', () => {
  const h = harness();
  h.stack.hci.hci_power_control(1);
  const sent: string[] = [];
  h.rl.run(0);
  for (let guard = 0; guard < 100 && h.stack.hci.hci_get_state() !== 2; guard++) {
    const cmds = h.t.take_commands();
    if (!cmds.length) break;
    for (const c of cmds) {
      sent.push(c);
      const op = fromHex(c);
      const opcode = op[0]! | (op[1]! << 8);
      // Write Class of Device (0x0c24) refused with Unknown HCI Command, Write Local Name by a Command Status error
      if (opcode === 0x0c24) h.t.event(cc(opcode, '01'));
      else if (opcode === 0x0c13) h.t.event(cs(opcode, 0x01));
      else h.t.event(cc(opcode, init_reply(opcode, DUAL_MODE) ?? '00'));
    }
    h.rl.run(0);
  }
  assert.is(h.stack.hci.hci_get_state(), 2, 'WORKING');
  assert.ok(sent.some((c) => c.startsWith('24 0c')) && sent.some((c) => c.startsWith('13 0c')));
});

/** Boot answering every command from DUAL_MODE except `opcode`, answered `reply` (Command Complete return parameters). */
function bootWith(opcode: number, reply: string) {
  const h = harness();
  const lines: string[] = [];
  h.stack.log.add_sink((_l, m) => lines.push(m));
  h.stack.hci.hci_power_control(1);
  h.rl.run(0);
  for (let guard = 0; guard < 100 && h.stack.hci.hci_get_state() === 1; guard++) {
    const cmds = h.t.take_commands();
    if (!cmds.length) break;
    for (const c of cmds) {
      const op = fromHex(c);
      const o = op[0]! | (op[1]! << 8);
      h.t.event(cc(o, o === opcode ? reply : (init_reply(o, DUAL_MODE) ?? '00')));
    }
    h.rl.run(0);
  }
  return { h, lines };
}

for (const [name, opcode, reply, why] of [
  ['Reset with an error status', 0x0c03, '03', /Reset \(opcode 0x0c03\) failed with status 0x03/],
  ['Read Local Version with an error status', 0x1001, '01', /Read Local Version \(opcode 0x1001\) failed with status 0x01/],
  ['Read BD_ADDR with an error status', 0x1009, '1f', /Read BD_ADDR \(opcode 0x1009\) failed with status 0x1f/],
  ['Read Buffer Size with an error status', 0x1005, '01', /Read Buffer Size \(opcode 0x1005\) failed with status 0x01/],
  [
    'Read BD_ADDR short (status only)',
    0x1009,
    '00',
    /Read BD_ADDR \(opcode 0x1009\): malformed answer, 1 bytes of return parameters, 7 expected/,
  ],
  ['Read Buffer Size short', 0x1005, '00 36 01', /Read Buffer Size \(opcode 0x1005\): malformed answer, 3 bytes/],
  ['Read Local Supported Commands short', 0x1002, '00 ff ff', /malformed answer, 3 bytes of return parameters, 65 expected/],
] as const) {
  test(`init: ${name} is a power-on failure naming the command (POWERON_FAILED, OFF, never WORKING)`, () => {
    const { h, lines } = bootWith(opcode, reply);
    const codes = h.events.map((e) => hex(e));
    assert.ok(codes.includes('62 00'), `BTSTACK_EVENT_POWERON_FAILED (${codes.join(' | ')})`);
    const states = codes.filter((c) => c.startsWith('60 01') || c === '62 00');
    assert.equal(states.slice(-2), ['62 00', '60 01 00'], 'POWERON_FAILED, then BTSTACK_EVENT_STATE OFF');
    assert.not.ok(codes.includes('60 01 02'), 'never WORKING');
    assert.is(h.stack.hci.hci_get_state(), 0);
    assert.match(h.stack.hci.state.poweron_failure, why);
    assert.ok(
      lines.some((l) => /^power on failed: /.test(l) && why.test(l)),
      'logged',
    );
    assert.ok(h.stack.pools.all_free());
  });
}

test('init: Read Buffer Size and LE Read Buffer Size with zero buffers: power-on fails (no ACL buffers)', () => {
  const h = harness();
  h.stack.hci.hci_power_control(1);
  boot(h.t, h.rl, h.stack, { ...DUAL_MODE, acl_num: 0, acl_len: 0, le_num: 0, le_len: 0 });
  assert.is(h.stack.hci.hci_get_state(), 0);
  assert.match(h.stack.hci.state.poweron_failure, /^no ACL buffers: Read Buffer Size gave 0 x 0/);
});

test('init: a silent controller: Reset resent every 200 ms, power-on fails after 5 s with POWERON_FAILED', () => {
  const h = harness();
  h.stack.hci.hci_power_control(1);
  h.rl.run(4999);
  assert.is(h.stack.hci.hci_get_state(), 1, 'still INITIALIZING at 4.999 s');
  const resets = h.t.take_commands().filter((c) => c === '03 0c 00').length;
  assert.ok(resets >= 24 && resets <= 26, `Reset resent every 200 ms (${resets})`);
  h.rl.run(2);
  assert.is(h.stack.hci.hci_get_state(), 0, 'OFF after 5 s');
  assert.ok(
    h.events.some((e) => hex(e) === '62 00'),
    'POWERON_FAILED',
  );
  assert.match(h.stack.hci.state.poweron_failure, /Reset \(opcode 0x0c03\) not answered within 5000 ms \(2\d Resets sent\)/);
  h.rl.run(60_000);
  assert.equal(h.t.take_commands(), [], 'no endless Resets');
});

test('init: the 5 s without progress count from the last answer, not from power on', () => {
  const h = harness();
  h.stack.hci.hci_power_control(1);
  h.rl.run(0);
  h.rl.advance(150);
  h.t.event(cc(0x0c03)); // Reset answered at 150 ms
  h.rl.advance(3000);
  h.t.event(cc(0x1001, init_reply(0x1001, DUAL_MODE)!)); // Read Local Version at 3.15 s, then silence
  assert.equal(h.t.take_commands(), ['03 0c 00', '01 10 00', '02 10 00']);
  h.rl.advance(4999);
  assert.is(h.stack.hci.hci_get_state(), 1, 'still INITIALIZING at 8.149 s (past 5 s from power on)');
  h.rl.advance(1);
  assert.is(h.stack.hci.hci_get_state(), 0, 'OFF 5 s after the last answer');
  assert.match(h.stack.hci.state.poweron_failure, /\(opcode 0x1002\) not answered within 5000 ms/);
  assert.is(h.rl.timer_count(), 0);
});

test('init: zero command credits: power-on fails naming the credits, not the line', () => {
  const h = harness();
  h.stack.hci.hci_power_control(1);
  h.rl.run(0);
  h.t.take_commands();
  h.t.event(cc(0x0c03, '00', 0)); // Reset done, Num_HCI_Command_Packets 0
  h.rl.run(6000);
  assert.is(h.stack.hci.hci_get_state(), 0);
  assert.match(
    h.stack.hci.state.poweron_failure,
    /Read Local Version not sent: the controller gives no command credit \(Num_HCI_Command_Packets 0\)/,
  );
});

test('open-failed: BTSTACK_EVENT_POWERON_FAILED, state OFF, power on possible again (asynchronous, unlike BTstack: see hci_power_control)', () => {
  const h = harness();
  h.t.fail_open = true;
  assert.is(h.stack.hci.hci_power_control(1), 0, 'the open fails later: the call itself succeeds');
  h.rl.run(0);
  // STATE INITIALIZING, POWERON_FAILED, STATE OFF (BTstack: an error return and POWERON_FAILED only)
  assert.equal(
    h.events.map((e) => hex(e)),
    ['60 01 01', '62 00', '60 01 00'],
  );
  assert.is(h.stack.hci.hci_get_state(), 0);
  h.t.fail_open = false;
  h.clear();
  h.stack.hci.hci_power_control(1);
  boot(h.t, h.rl, h.stack);
  assert.is(h.stack.hci.hci_get_state(), 2);
});

test('chipset: baud-rate command after Reset, transport switched on its Command Complete, BD_ADDR set', () => {
  const chipset = {
    name: 'test',
    set_baudrate_command(baud: number, buf: Uint8Array): number {
      buf.set(fromHex('18 fc 06 00 00'));
      buf[5] = baud & 0xff;
      buf[6] = (baud >> 8) & 0xff;
      buf[7] = (baud >> 16) & 0xff;
      buf[8] = (baud >>> 24) & 0xff;
      return 9;
    },
    set_bd_addr_command(addr: Uint8Array, buf: Uint8Array): number {
      buf.set(fromHex('01 fc 06'));
      for (let i = 0; i < 6; i++) buf[3 + i] = addr[5 - i]!;
      return 9;
    },
    script: ['3f fc 01 aa', '3e fc 00'],
    next_command(buf: Uint8Array): number {
      const c = this.script.shift();
      if (!c) return 0;
      const b = fromHex(c);
      buf.set(b);
      return b.length;
    },
  };
  const h = harness({ chipset, transport_config: { baudrate_init: 115200, baudrate_main: 921600 } });
  h.stack.hci.hci_set_bd_addr(fromHex('c0 ff ee 00 11 22'));
  h.stack.hci.hci_power_control(1);
  h.rl.run(0);
  assert.equal(h.t.take_commands(), ['03 0c 00']);
  h.t.event(cc(0x0c03));
  assert.equal(h.t.take_commands(), ['01 10 00'], 'Read Local Version first (chipset detection reads it)');
  h.t.event(cc(0x1001, init_reply(0x1001, DUAL_MODE)!));
  assert.equal(h.t.take_commands(), ['18 fc 06 00 00 00 10 0e 00'], '921600 = 0x000e1000');
  assert.equal(h.t.baudrates, []);
  h.t.event(cc(0xfc18));
  assert.equal(h.t.baudrates, [921600], 'port switched after the Command Complete');
  assert.equal(h.t.take_commands(), ['3f fc 01 aa']);
  h.t.event(cc(0xfc3f));
  assert.equal(h.t.take_commands(), ['3e fc 00']);
  h.t.event(cc(0xfc3e));
  assert.equal(h.t.take_commands(), ['01 fc 06 22 11 00 ee ff c0']);
  h.t.event(cc(0xfc01));
  assert.equal(h.t.take_commands(), ['02 10 00'], 'no restart asked: Read Local Supported Commands');
});

test('chipset restart (Launch RAM): wait, port back to baudrate_init, Reset, baud-rate command again, version re-read, then BD_ADDR', () => {
  const script = ['4e fc 04 ff ff ff ff'];
  const chipset = {
    name: 'test',
    set_baudrate_command(baud: number, buf: Uint8Array): number {
      buf.set(fromHex('18 fc 06 00 00'));
      for (let i = 0; i < 4; i++) buf[5 + i] = (baud >>> (8 * i)) & 0xff;
      return 9;
    },
    set_bd_addr_command(addr: Uint8Array, buf: Uint8Array): number {
      buf.set(fromHex('01 fc 06'));
      for (let i = 0; i < 6; i++) buf[3 + i] = addr[5 - i]!;
      return 9;
    },
    next_command(buf: Uint8Array): number {
      const c = script.shift();
      if (!c) return 0;
      const b = fromHex(c);
      buf.set(b);
      return b.length;
    },
    restart_delay_ms: () => 250,
  };
  const h = harness({ chipset, transport_config: { baudrate_init: 115200, baudrate_main: 3000000 } });
  h.stack.hci.hci_set_bd_addr(fromHex('c0 ff ee 00 11 22'));
  h.stack.hci.hci_power_control(1);
  h.rl.run(0);
  assert.equal(h.t.take_commands(), ['03 0c 00']);
  h.t.event(cc(0x0c03));
  assert.equal(h.t.take_commands(), ['01 10 00']);
  h.t.event(cc(0x1001, init_reply(0x1001, DUAL_MODE)!));
  assert.equal(h.t.take_commands(), ['18 fc 06 00 00 c0 c6 2d 00'], '3000000 = 0x002dc6c0');
  h.t.event(cc(0xfc18));
  assert.equal(h.t.baudrates, [3000000]);
  assert.equal(h.t.take_commands(), ['4e fc 04 ff ff ff ff'], 'Launch RAM');
  h.t.event(cc(0xfc4e));
  h.rl.advance(249);
  assert.equal(h.t.take_commands(), [], 'nothing during the restart');
  assert.equal(h.t.baudrates, [3000000]);
  h.rl.advance(1);
  assert.equal(h.t.baudrates, [3000000, 115200], 'port back at the initial speed before the Reset');
  assert.equal(h.t.take_commands(), ['03 0c 00']);
  h.t.event(cc(0x0c03));
  assert.equal(h.t.take_commands(), ['18 fc 06 00 00 c0 c6 2d 00']);
  h.t.event(cc(0xfc18));
  assert.equal(h.t.baudrates, [3000000, 115200, 3000000]);
  assert.equal(h.t.take_commands(), ['01 10 00'], 'version read again (the patch changes the LMP subversion)');
  h.t.event(cc(0x1001, init_reply(0x1001, DUAL_MODE)!));
  assert.equal(h.t.take_commands(), ['01 fc 06 22 11 00 ee ff c0']);
  h.t.event(cc(0xfc01));
  assert.equal(h.t.take_commands(), ['02 10 00']);
});

test('BCM patch: 50 ms pause after Download Minidriver (as Linux btbcm), none between the records', () => {
  const bcm = chipset_bcm();
  // Write RAM 0x00085000 with 2 bytes, another at 0x00085002, Launch RAM 0xFFFFFFFF (.hcd records as sent)
  const w1 = '4c fc 06 00 50 08 00 aa bb';
  const w2 = '4c fc 06 02 50 08 00 cc dd';
  const launch = '4e fc 04 ff ff ff ff';
  assert.is(bcm.set_hcd(fromHex(`${w1} ${w2} ${launch}`)), null);
  const h = harness({ chipset: bcm, transport_config: { baudrate_init: 115200 } });
  h.stack.hci.hci_power_control(1);
  h.rl.run(0);
  assert.equal(h.t.take_commands(), ['03 0c 00']);
  h.t.event(cc(0x0c03));
  assert.equal(h.t.take_commands(), ['01 10 00']);
  h.t.event(cc(0x1001, init_reply(0x1001, DUAL_MODE)!));
  assert.equal(h.t.take_commands(), ['2e fc 00'], 'Download Minidriver');
  h.t.event(cc(0xfc2e));
  h.rl.advance(49);
  assert.equal(h.t.take_commands(), [], 'the minidriver starts');
  h.rl.advance(1);
  assert.equal(h.t.take_commands(), [w1]);
  h.t.event(cc(0xfc4c));
  assert.equal(h.t.take_commands(), [w2], 'the next record at once');
  h.t.event(cc(0xfc4c));
  assert.equal(h.t.take_commands(), [launch]);
});

test('BTSTACK_EVENT_STATE bytes for the v1.8 profile are the same; scan mode event differs', () => {
  const h = harness({ profile: 'v1.8' });
  h.stack.hci.hci_power_control(1);
  boot(h.t, h.rl, h.stack);
  assert.equal(
    h.events.filter((e) => e[0] === 0x60).map((e) => hex(e)),
    ['60 01 01', '60 01 02'],
  );
  assert.ok(
    h.events.some((e) => hex(e) === '66 02 00 00'),
    'BTSTACK_EVENT_SCAN_MODE_CHANGED discoverable=0 connectable=0',
  );
});

test('two stacks in one process do not share state', () => {
  const a = harness();
  const b = harness();
  a.stack.hci.hci_power_control(1);
  boot(a.t, a.rl, a.stack);
  assert.is(a.stack.hci.hci_get_state(), 2);
  assert.is(b.stack.hci.hci_get_state(), 0);
  assert.equal(b.t.sent, []);
  assert.equal(b.events, []);
});

test('packet log: every command out and event in, plus the stack own events (not PACKET_SENT)', async () => {
  const { HciDump, HciDumpMemorySink } = await import('../../../src/hci/dump.js');
  const dump = new HciDump({ now_us: () => 0 });
  const sink = new HciDumpMemorySink();
  dump.open_sink(sink, 'pklg');
  const h = harness({ dump });
  h.stack.hci.hci_power_control(1);
  const sent = boot(h.t, h.rl, h.stack);
  const bytes = sink.bytes();
  const records: Array<{ type: number; hex: string }> = [];
  for (let p = 0; p < bytes.length;) {
    const len = ((bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!) >>> 0;
    records.push({ type: bytes[p + 12]!, hex: hex(bytes.subarray(p + 13, p + 4 + len)) });
    p += 4 + len;
  }
  assert.equal(
    records.filter((r) => r.type === 0x00).map((r) => r.hex),
    sent,
    'commands, in order',
  );
  const events = records.filter((r) => r.type === 0x01).map((r) => r.hex);
  assert.is(events[0], '60 01 01', 'BTSTACK_EVENT_STATE INITIALIZING logged first');
  assert.ok(events.includes('60 01 02'));
  assert.is(events.filter((e) => e.startsWith('0e ')).length, sent.length, 'one Command Complete per command');
  assert.not.ok(events.includes('6e 00'));
});

test.run();
