import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cc, cs, working } from './hci-script.js';
import { hex } from '../../../src/core/bytes.js';
import { hci_read_bd_addr, hci_write_class_of_device, hci_inquiry, hci_read_rssi } from '../../../src/hci/commands.js';
import { Logger } from '../../../src/core/log.js';

const NOP_0 = '0e 03 00 00 00'; // Command Complete, Num_HCI_Command_Packets 0, opcode 0x0000
const NOP_1 = '0e 03 01 00 00';

test('Num_HCI_Command_Packets 0 blocks sending; a credit releases the waiting command', () => {
  const h = working();
  assert.ok(h.stack.hci.hci_can_send_command_packet_now());
  h.t.event(NOP_0);
  assert.not.ok(h.stack.hci.hci_can_send_command_packet_now(), 'no credit');
  assert.is(h.stack.hci.hci_send_cmd(hci_read_bd_addr), 0, 'accepted and queued');
  assert.equal(h.t.take_commands(), []);
  h.rl.advance(10_000);
  assert.equal(h.t.take_commands(), [], 'still waiting: no credit');
  h.t.event(NOP_1);
  assert.equal(h.t.take_commands(), ['09 10 00']);
  assert.not.ok(h.stack.hci.hci_can_send_command_packet_now(), 'the credit was used');
  h.t.event(cc(0x1009, '00 66 55 44 33 22 11'));
  assert.ok(h.stack.hci.hci_can_send_command_packet_now());
  assert.ok(
    h.events.some((e) => e[0] === 0x0e && e[3] === 0x09 && e[4] === 0x10),
    'the app saw its Command Complete',
  );
});

test('the command queue is bounded and keeps order; nothing accepted is lost', () => {
  const h = working();
  h.t.event(NOP_0);
  const results: number[] = [];
  for (let i = 0; i < 9; i++) results.push(h.stack.hci.hci_send_cmd(hci_write_class_of_device, 0x100 + i));
  assert.equal(results, [0, 0, 0, 0, 0, 0, 0, 0, 0x0c], 'eight queued, the ninth refused with Command Disallowed');
  assert.equal(h.t.take_commands(), []);
  const sent: string[] = [];
  for (let i = 0; i < 8; i++) {
    h.t.event(NOP_1);
    const c = h.t.take_commands();
    sent.push(...c);
    if (c.length) h.t.event(cc(0x0c24, '00', 0)); // completes, but gives no new credit
  }
  assert.equal(
    sent,
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `24 0c 03 ${hex(Uint8Array.of(i, 1, 0))}`),
  );
  assert.ok(h.stack.pools.all_free(), 'queue slots back in the pool');
});

test('several credits: queued commands go out together', () => {
  const h = working();
  h.t.event(NOP_0);
  h.stack.hci.hci_send_cmd(hci_read_bd_addr);
  h.stack.hci.hci_send_cmd(hci_read_rssi, 0x0040);
  h.stack.hci.hci_send_cmd(hci_inquiry, 0x9e8b33, 4, 0);
  h.t.event('0e 03 03 00 00');
  assert.equal(h.t.take_commands(), ['09 10 00', '05 14 02 40 00', '01 04 05 33 8b 9e 04 00']);
});

test('hci_send_cmd: wrong arguments are a TypeError; OFF stack refuses', () => {
  const h = working();
  assert.throws(() => h.stack.hci.hci_send_cmd(hci_write_class_of_device), TypeError);
  assert.throws(() => h.stack.hci.hci_send_cmd(hci_write_class_of_device, 'x' as unknown as number), TypeError);
  h.stack.hci.hci_power_control(0);
  h.rl.run(0);
  assert.is(h.stack.hci.hci_get_state(), 0);
  assert.is(h.stack.hci.hci_send_cmd(hci_read_bd_addr), 0x0c);
});

test('Command Complete / Status for an opcode nobody sent: logged and dropped, stack keeps working', () => {
  const log = new Logger();
  const lines: string[] = [];
  log.add_sink((_l, m) => lines.push(m));
  const h = working({ log });
  h.t.event(cc(0x1009, '00 01 02 03 04 05 06'));
  h.t.event(cs(0x0405, 0));
  assert.equal(h.events, [], 'not passed to handlers');
  assert.ok(lines.some((l) => /not sent/.test(l)));
  assert.is(h.stack.hci.hci_send_cmd(hci_read_bd_addr), 0);
  assert.equal(h.t.take_commands(), ['09 10 00']);
  h.t.event(cc(0x1009, '00 01 02 03 04 05 06'));
  assert.is(h.events.length, 1, 'the real answer is dispatched');
});

test('events shorter than their parameter length, and malformed known events, are dropped', () => {
  const log = new Logger();
  const lines: string[] = [];
  log.add_sink((_l, m) => lines.push(m));
  const h = working({ log });
  const bad = [
    '0e', // no length byte
    '0e 05 01 09 10', // says 5, carries 3
    '0e 02 01 09', // Command Complete too short for an opcode
    '0f 03 00 01 05', // Command Status too short
    '13 05 02 40 00 01 00', // NOCP: 2 handles announced, 1 present
    '03 05 00 40 00 01 02', // Connection Complete too short
    '05 02 00 40', // Disconnection Complete too short
    '3e 00', // LE meta without subevent
    '3e 05 01 00 40 00 00', // LE Connection Complete too short
    '3e 0c 02 01 00 00 11 22 33 44 55 66 1f 00', // advertising report with data length beyond the event
    '02 0e 02 11 22 33 44 55 66 01 00 00 0c 02 7a 00 00', // inquiry result: 2 announced, 1 present
  ];
  for (const b of bad) h.t.event(b);
  assert.equal(h.events, [], 'none of them reaches the handlers');
  assert.ok(lines.length >= bad.length);
  // still working
  assert.is(h.stack.hci.hci_get_state(), 2);
  assert.is(h.stack.hci.hci_send_cmd(hci_read_bd_addr), 0);
  assert.equal(h.t.take_commands(), ['09 10 00']);
});

test('fuzz: random events never throw and leave the stack working (seeded)', () => {
  const h = working();
  let seed = 0x1234567;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const interesting = [0x01, 0x02, 0x03, 0x04, 0x05, 0x07, 0x0b, 0x0c, 0x0e, 0x0f, 0x12, 0x13, 0x22, 0x23, 0x2f, 0x3e, 0x08];
  for (let i = 0; i < 20000; i++) {
    const len = Math.floor(rnd() * 40);
    const b = new Uint8Array(2 + len);
    b[0] = rnd() < 0.8 ? interesting[Math.floor(rnd() * interesting.length)]! : Math.floor(rnd() * 256);
    b[1] = rnd() < 0.7 ? len : Math.floor(rnd() * 256);
    for (let j = 2; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
    if (b[0] === 0x10) b[0] = 0x11; // Hardware Error restarts the stack: covered elsewhere
    h.t.event(b.subarray(0, Math.floor(rnd() * (b.length + 1))));
    if (rnd() < 0.1) {
      const acl = new Uint8Array(Math.floor(rnd() * 64));
      for (let j = 0; j < acl.length; j++) acl[j] = Math.floor(rnd() * 256);
      h.t.acl(acl);
    }
    h.rl.run(0);
    h.t.sent.length = 0;
  }
  // restore a credit and check the stack still talks
  h.t.event(NOP_1);
  h.t.take_commands();
  assert.ok([2].includes(h.stack.hci.hci_get_state()));
});

test.run();
