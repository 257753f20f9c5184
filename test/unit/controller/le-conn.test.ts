/**
 * LE connection procedures of the virtual controller (controller-le-conn.ts): the peripheral's
 * Connection Parameters Request answered by the central's host (LE Remote Connection Parameter
 * Request Reply / Negative Reply, masked event, LL response timeout), LE Set PHY / Read PHY / Set
 * Default PHY with PHY Update Complete, connecting from a static random address, and the
 * Supported_Commands bits of what exists. Command bytes from Vol 4 Part E 7.8, events from 7.7.65.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex } from '../../../src/core/bytes.js';
import { bench, le16, unmask, wire, type Host } from './bench.js';

function two() {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  unmask(a);
  unmask(b);
  for (const h of [a, b]) h.cmd('01 20 08 ff 0d 00 00 00 00 00 00'); // LE Set Event Mask: subevents 0x01-0x0C but Enhanced Connection Complete
  loop.run();
  a.clear();
  b.clear();
  return { loop, a, b };
}

/** a connects to b (ADV_IND, 20 ms; b's own address type `own`); returns both handles. */
function connect(loop: ReturnType<typeof two>['loop'], a: Host, b: Host, own = '00', peer = b.c.bd_addr, peerType = '00') {
  b.cmd(`06 20 0f 20 00 20 00 00 ${own} 00 00 00 00 00 00 00 07 00`);
  b.cmd('0a 20 01 01');
  a.cmd(`0d 20 19 60 00 30 00 00 ${peerType} ${wire(peer)} 00 18 00 28 00 00 00 2a 00 00 00 00 00`);
  loop.run_until(() => !!a.find(0x3e, 0x01) && !!b.find(0x3e, 0x01));
  const ea = a.find(0x3e, 0x01)!;
  const eb = b.find(0x3e, 0x01)!;
  return { ha: ea[4]! | (ea[5]! << 8), hb: eb[4]! | (eb[5]! << 8), ea, eb };
}

test('peripheral asks for new parameters: the central host replies, both sides get Connection Update Complete', () => {
  const { loop, a, b } = two();
  const { ha, hb } = connect(loop, a, b);
  a.clear();
  b.clear();
  b.cmd(`13 20 0e ${le16(hb)} 18 00 28 00 02 00 c8 00 00 00 00 00`); // 7.8.18 from the peripheral
  loop.run_until(() => !!a.find(0x3e, 0x06));
  assert.equal(b.take(), ['0f 04 00 01 13 20']);
  assert.equal(a.take(), [`3e 0b 06 ${le16(ha)} 18 00 28 00 02 00 c8 00`]);
  // 7.8.31 Reply: interval 0x18-0x20, latency 2, timeout 0xc8, CE 0-0
  a.cmd(`20 20 0e ${le16(ha)} 18 00 20 00 02 00 c8 00 00 00 00 00`);
  loop.run();
  assert.equal(a.take(), [`0e 06 01 20 20 00 ${le16(ha)}`, `3e 0a 03 00 ${le16(ha)} 20 00 02 00 c8 00`]);
  assert.equal(b.take(), [`3e 0a 03 00 ${le16(hb)} 20 00 02 00 c8 00`]);
  // a reply without a pending request is disallowed; an unknown handle is refused
  a.cmd(`20 20 0e ${le16(ha)} 18 00 20 00 02 00 c8 00 00 00 00 00`);
  a.cmd(`21 20 03 ff 0e 3b`);
  loop.run();
  assert.equal(a.take(), [`0e 06 01 20 20 0c ${le16(ha)}`, '0e 06 01 21 20 02 ff 0e']);
});

test('central host masked the request event: the peripheral hears 0x1A; no answer in 40 s: 0x22', () => {
  const { loop, a, b } = two();
  const { ha, hb } = connect(loop, a, b);
  a.cmd('01 20 08 df 0d 00 00 00 00 00 00'); // bit 5 (Remote Connection Parameter Request) off
  loop.run();
  a.clear();
  b.clear();
  b.cmd(`13 20 0e ${le16(hb)} 18 00 28 00 02 00 c8 00 00 00 00 00`);
  loop.run();
  assert.equal(a.take(), []);
  assert.equal(b.take(), ['0f 04 00 01 13 20', `3e 0a 03 1a ${le16(hb)} 28 00 00 00 2a 00`]);
  a.cmd('01 20 08 ff 0d 00 00 00 00 00 00');
  loop.run();
  a.clear();
  b.cmd(`13 20 0e ${le16(hb)} 18 00 28 00 02 00 c8 00 00 00 00 00`);
  loop.run_until(() => !!a.find(0x3e, 0x06));
  a.clear();
  b.clear();
  // a second request while one waits is disallowed
  b.cmd(`13 20 0e ${le16(hb)} 18 00 28 00 02 00 c8 00 00 00 00 00`);
  const t0 = loop.get_time_ms();
  loop.run_until(() => !!b.find(0x3e, 0x03));
  assert.ok(loop.get_time_ms() - t0 >= 40000, 'LL response timeout');
  assert.equal(b.take(), ['0f 04 0c 01 13 20', `3e 0a 03 22 ${le16(hb)} 28 00 00 00 2a 00`]);
  assert.equal(a.take(), []);
  // the request is gone: a late reply is disallowed
  a.cmd(`20 20 0e ${le16(ha)} 18 00 20 00 02 00 c8 00 00 00 00 00`);
  loop.run();
  assert.equal(a.take(), [`0e 06 01 20 20 0c ${le16(ha)}`]);
});

test('LE Set PHY: 2M both ways, PHY Update Complete on both sides; Read PHY; no change: initiator only', () => {
  const { loop, a, b } = two();
  const { ha, hb } = connect(loop, a, b);
  a.clear();
  b.clear();
  a.cmd(`30 20 02 ${le16(ha)}`); // 7.8.47 Read PHY: 1M both ways
  a.cmd(`32 20 07 ${le16(ha)} 00 02 02 00 00`); // 7.8.49 Set PHY: TX 2M, RX 2M
  loop.run();
  assert.equal(a.take(), [`0e 08 01 30 20 00 ${le16(ha)} 01 01`, '0f 04 00 01 32 20', `3e 06 0c 00 ${le16(ha)} 02 02`]);
  assert.equal(b.take(), [`3e 06 0c 00 ${le16(hb)} 02 02`]);
  b.cmd(`30 20 02 ${le16(hb)}`);
  loop.run();
  assert.equal(b.take(), [`0e 08 01 30 20 00 ${le16(hb)} 02 02`]);
  // again: nothing changes, only the initiator hears (7.7.65.12)
  a.cmd(`32 20 07 ${le16(ha)} 00 02 02 00 00`);
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 32 20', `3e 06 0c 00 ${le16(ha)} 02 02`]);
  assert.equal(b.take(), []);
  // b prefers Coded for receiving (7.8.48 Set Default PHY: TX no preference, RX Coded)
  b.cmd('31 20 03 01 00 04');
  a.cmd(`32 20 07 ${le16(ha)} 02 07 00 00 00`); // a: TX any of 1M/2M/Coded, RX no preference
  loop.run();
  assert.equal(b.take(), ['0e 04 01 31 20 00', `3e 06 0c 00 ${le16(hb)} 02 03`]);
  assert.equal(a.take(), ['0f 04 00 01 32 20', `3e 06 0c 00 ${le16(ha)} 03 02`]);
});

test('LE Set PHY / Set Default PHY parameter checks; a peer without 2M keeps 1M', () => {
  const { loop, a, b } = two();
  b.c.state.le_features[1] = 0; // b: no 2M, no Coded
  const { ha, hb } = connect(loop, a, b);
  a.clear();
  b.clear();
  a.cmd(`32 20 07 ${le16(ha)} 00 00 01 00 00`); // TX_PHYS 0 without "no preference": invalid
  a.cmd(`32 20 07 ${le16(ha)} 00 08 01 00 00`); // reserved bit: unsupported
  a.cmd('32 20 07 ff 0e 00 01 01 00 00'); // unknown handle
  a.cmd('31 20 03 00 00 01');
  b.cmd('31 20 03 00 02 02'); // b does not support 2M
  loop.run();
  assert.equal(a.take(), ['0f 04 12 01 32 20', '0f 04 11 01 32 20', '0f 04 02 01 32 20', '0e 04 01 31 20 12']);
  assert.equal(b.take(), ['0e 04 01 31 20 11']);
  a.cmd(`32 20 07 ${le16(ha)} 00 02 02 00 00`);
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 32 20', `3e 06 0c 00 ${le16(ha)} 01 01`]);
  assert.equal(b.take(), []);
  b.cmd(`30 20 02 ${le16(hb)}`);
  loop.run();
  assert.equal(b.take(), [`0e 08 01 30 20 00 ${le16(hb)} 01 01`]);
});

test('a static random advertiser: the central sees peer type 1 and the random address, the peripheral type 0', () => {
  const { loop, a, b } = two();
  b.cmd('05 20 06 01 02 03 04 05 c6'); // 7.8.4 LE Set Random Address C6:05:04:03:02:01
  loop.run();
  b.clear();
  const rnd = Uint8Array.from([0xc6, 0x05, 0x04, 0x03, 0x02, 0x01]);
  const { ea, eb } = connect(loop, a, b, '01', rnd, '01');
  // 7.7.65.1: status, handle, role, peer address type, peer address
  assert.equal(Array.from(ea.subarray(6, 14)), [0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0xc6]);
  assert.equal(Array.from(eb.subarray(6, 8)), [0x01, 0x00]);
  assert.equal(Array.from(eb.subarray(8, 14)), Array.from(fromHex(wire(a.c.bd_addr))));
});

test('Supported_Commands has the bits of the new LE commands (Vol 4 Part E 6.27)', () => {
  const { loop, a } = two();
  a.cmd('02 10 00');
  loop.run();
  const ev = fromHex(a.take()[0]!);
  const bit = (n: number): boolean => (ev[6 + (n >> 3)]! & (1 << (n & 7))) !== 0;
  // octet 33 bits 4-5: Remote Connection Parameter Request (Negative) Reply; 35 bits 4-6: Read PHY,
  // Set Default PHY, Set PHY; 25 bit 4: Set Random Address; 27 bits 0-1: Add/Remove accept list
  for (const n of [268, 269, 284, 285, 286, 204, 216, 217]) assert.ok(bit(n), `bit ${n}`);
});

test.run();
