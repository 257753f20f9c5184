/**
 * LE on the radio: advertising reports (passive / active scanning, duplicate filtering, directed
 * advertising), LE Create Connection (+ Cancel) with LE Connection Complete on both sides,
 * connection update, remote features, data length, disconnection and supervision timeout.
 * Layouts written out from Vol 4 Part E 7.7.65.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { bench, le16, unmask, wire, type Host } from './bench.js';

/** b advertises connectable (ADV_IND, 20 ms), with data 02 01 06 and scan response "BLE". */
function advertise(b: Host, type = '00', own = '00'): void {
  b.cmd(`06 20 0f 20 00 20 00 ${type} ${own} 00 00 00 00 00 00 00 07 00`);
  b.cmd('08 20 20 03 02 01 06' + ' 00'.repeat(28));
  b.cmd('09 20 20 05 04 09 42 4c 45' + ' 00'.repeat(26));
  b.cmd('0a 20 01 01');
}

/** LE Create Connection to public `peer`: interval max 0x0028, latency 0, timeout 0x002a. */
function createConnection(a: Host, peer: Uint8Array, peerType = '00'): void {
  a.cmd(`0d 20 19 60 00 30 00 00 ${peerType} ${wire(peer)} 00 18 00 28 00 00 00 2a 00 00 00 00 00`);
}

export function leConnect(loop: VirtualRunLoop, a: Host, b: Host): [number, number] {
  advertise(b);
  createConnection(a, b.c.bd_addr);
  loop.run_until(() => !!a.find(0x3e, 0x01) && !!b.find(0x3e, 0x01));
  const ea = a.find(0x3e, 0x01)!;
  const eb = b.find(0x3e, 0x01)!;
  return [ea[4]! | (ea[5]! << 8), eb[4]! | (eb[5]! << 8)];
}

function two(rssi = -55) {
  const { loop, hosts } = bench(2, { rssi });
  const [a, b] = hosts as [Host, Host];
  unmask(a);
  unmask(b);
  loop.run();
  a.clear();
  b.clear();
  return { loop, a, b };
}

test('passive scan with duplicate filter: one ADV_IND report', () => {
  const { loop, a, b } = two();
  advertise(b);
  a.cmd('0b 20 07 00 10 00 10 00 00 00');
  a.cmd('0c 20 02 01 01');
  loop.advance(1000);
  assert.equal(a.take(), ['0e 04 01 0b 20 00', '0e 04 01 0c 20 00', `3e 0f 02 01 00 00 ${wire(b.c.bd_addr)} 03 02 01 06 c9`]);
});

test('active scan: ADV_IND followed by SCAN_RSP; without duplicate filter one report per interval', () => {
  const { loop, a, b } = two();
  advertise(b);
  a.cmd('0b 20 07 01 10 00 10 00 00 00');
  a.cmd('0c 20 02 01 00');
  loop.advance(10);
  const adv = `3e 0f 02 01 00 00 ${wire(b.c.bd_addr)} 03 02 01 06 c9`;
  const rsp = `3e 11 02 01 04 00 ${wire(b.c.bd_addr)} 05 04 09 42 4c 45 c9`;
  assert.equal(a.take(), ['0e 04 01 0b 20 00', '0e 04 01 0c 20 00', adv, rsp]);
  loop.advance(100); // 20 ms interval: 5 more advertising events
  const ev = a.take();
  assert.is(ev.length, 10);
  for (let i = 0; i < 10; i += 2) assert.equal([ev[i], ev[i + 1]], [adv, rsp]);
  a.cmd('0c 20 02 00 00');
  loop.advance(100);
  assert.equal(a.take(), ['0e 04 01 0c 20 00']);
});

test('non-connectable advertising from a random address; random address needed first', () => {
  const { loop, a, b } = two(-70);
  b.cmd('05 20 06 01 02 03 04 05 c6'); // random static C6:05:04:03:02:01
  advertise(b, '03', '01');
  a.cmd('0b 20 07 00 10 00 10 00 00 00');
  a.cmd('0c 20 02 01 01');
  loop.advance(200);
  assert.equal(a.take(), ['0e 04 01 0b 20 00', '0e 04 01 0c 20 00', '3e 0f 02 01 03 01 01 02 03 04 05 c6 03 02 01 06 ba']);
  // LE Create Connection to a non-connectable advertiser never completes; cancel it
  createConnection(a, Uint8Array.of(0xc6, 5, 4, 3, 2, 1), '01');
  loop.advance(500);
  a.cmd('0e 20 00');
  loop.advance(10);
  assert.equal(a.take(), ['0f 04 00 01 0d 20', '0e 04 01 0e 20 00', '3e 13 01 02' + ' 00'.repeat(17)]);
});

test('LE connect: LE Connection Complete on both sides with roles, addresses and parameters', () => {
  const { loop, a, b } = two();
  advertise(b);
  loop.run_until(() => b.events().length === 4);
  b.clear();
  createConnection(a, b.c.bd_addr);
  loop.run_until(() => !!a.find(0x3e, 1) && !!b.find(0x3e, 1));
  assert.equal(a.take(), ['0f 04 00 01 0d 20', `3e 13 01 00 01 00 00 00 ${wire(b.c.bd_addr)} 28 00 00 00 2a 00 00`]);
  assert.equal(b.take(), [`3e 13 01 00 11 00 01 00 ${wire(a.c.bd_addr)} 28 00 00 00 2a 00 01`]);
  // advertising stopped with the connection; a second LE Create Connection to b: already connected
  createConnection(a, b.c.bd_addr);
  a.cmd('0c 20 02 01 00');
  loop.advance(500);
  assert.equal(a.take(), ['0f 04 0b 01 0d 20', '0e 04 01 0c 20 00']);
});

test('LE Enhanced Connection Complete replaces the legacy event when unmasked', () => {
  const { loop, a, b } = two();
  a.cmd('01 20 08 ff 02 00 00 00 00 00 00'); // subevents 0x01-0x08 and 0x0A
  loop.run();
  a.clear();
  advertise(b);
  createConnection(a, b.c.bd_addr);
  loop.run_until(() => !!a.find(0x3e, 0x0a) && !!b.find(0x3e, 0x01));
  const ev = a.events();
  assert.is(ev[ev.length - 1], `3e 1f 0a 00 01 00 00 00 ${wire(b.c.bd_addr)}` + ' 00'.repeat(12) + ' 28 00 00 00 2a 00 00');
});

test('LE Create Connection parameter checks', () => {
  const { loop, a, b } = two();
  // supervision timeout 0x000a (100 ms) not above (1 + 0) * 0x0028 * 1.25 ms * 2 = 100 ms
  a.cmd(`0d 20 19 60 00 30 00 00 00 ${wire(b.c.bd_addr)} 00 18 00 28 00 00 00 0a 00 00 00 00 00`);
  // interval min > max
  a.cmd(`0d 20 19 60 00 30 00 00 00 ${wire(b.c.bd_addr)} 00 30 00 28 00 00 00 2a 00 00 00 00 00`);
  // scan window > scan interval
  a.cmd(`0d 20 19 10 00 30 00 00 00 ${wire(b.c.bd_addr)} 00 18 00 28 00 00 00 2a 00 00 00 00 00`);
  createConnection(a, b.c.bd_addr);
  createConnection(a, b.c.bd_addr); // already initiating
  loop.advance(50);
  assert.equal(a.take(), [
    '0f 04 12 01 0d 20',
    '0f 04 12 01 0d 20',
    '0f 04 12 01 0d 20',
    '0f 04 00 01 0d 20',
    '0f 04 0c 01 0d 20',
  ]);
});

test('connection update (central); the peripheral asks (refused by the central host); remote features; data length', () => {
  const { loop, a, b } = two();
  const [ha, hb] = leConnect(loop, a, b);
  a.clear();
  b.clear();
  a.cmd(`13 20 0e ${le16(ha)} 10 00 20 00 00 00 64 00 00 00 00 00`);
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 13 20', `3e 0a 03 00 ${le16(ha)} 20 00 00 00 64 00`]);
  assert.equal(b.take(), [`3e 0a 03 00 ${le16(hb)} 20 00 00 00 64 00`]);
  b.cmd(`13 20 0e ${le16(hb)} 10 00 20 00 00 00 64 00 00 00 00 00`);
  loop.run_until(() => !!a.find(0x3e, 0x06));
  // 7.7.65.6 LE Remote Connection Parameter Request: handle, min 0x10, max 0x20, latency 0, timeout 0x64
  assert.equal(a.take(), [`3e 0b 06 ${le16(ha)} 10 00 20 00 00 00 64 00`]);
  a.cmd(`21 20 03 ${le16(ha)} 3b`); // 7.8.32 Negative Reply, Unacceptable Connection Parameters
  loop.run();
  assert.equal(a.take(), [`0e 06 01 21 20 00 ${le16(ha)}`]);
  assert.equal(b.take(), ['0f 04 00 01 13 20', `3e 0a 03 3b ${le16(hb)} 20 00 00 00 64 00`]);
  b.cmd(`16 20 02 ${le16(hb)}`);
  loop.run();
  assert.equal(b.take(), ['0f 04 00 01 16 20', `3e 0c 04 00 ${le16(hb)} 6f 09 00 00 00 00 00 00`]);
  a.cmd(`22 20 06 ${le16(ha)} fb 00 48 08`);
  loop.run();
  assert.equal(a.take(), [`0e 06 01 22 20 00 ${le16(ha)}`, `3e 0b 07 ${le16(ha)} fb 00 48 08 1b 00 48 01`]);
  assert.equal(b.take(), [`3e 0b 07 ${le16(hb)} 1b 00 48 01 fb 00 48 08`]);
  a.cmd('23 20 00');
  a.cmd('24 20 04 fb 00 48 08');
  a.cmd('23 20 00');
  a.cmd('2f 20 00');
  loop.run();
  assert.equal(a.take(), [
    '0e 08 01 23 20 00 1b 00 48 01',
    '0e 04 01 24 20 00',
    '0e 08 01 23 20 00 fb 00 48 08',
    '0e 0c 01 2f 20 00 fb 00 48 08 fb 00 48 08',
  ]);
});

test('LE disconnect and LE supervision timeout (timeout x 10 ms)', () => {
  const { loop, a, b } = two();
  let [ha, hb] = leConnect(loop, a, b);
  a.clear();
  b.clear();
  b.cmd(`06 04 03 ${le16(hb)} 13`);
  loop.run();
  assert.equal(b.take(), ['0f 04 00 01 06 04', `05 04 00 ${le16(hb)} 16`]);
  assert.equal(a.take(), [`05 04 00 ${le16(ha)} 13`]);
  [ha, hb] = leConnect(loop, a, b);
  a.clear();
  b.clear();
  const t0 = loop.get_time_ms();
  b.c.faults.drop_link(hb);
  loop.run();
  assert.is(loop.get_time_ms() - t0, 420);
  assert.equal(a.take(), [`05 04 00 ${le16(ha)} 08`]);
  assert.equal(b.take(), [`05 04 00 ${le16(hb)} 08`]);
});

test('high duty cycle directed advertising: only the target hears it; times out after 1.28 s with 0x3C', () => {
  const { loop, hosts } = bench(3, { rssi: -55 });
  const [a, b, c] = hosts as [Host, Host, Host];
  for (const h of hosts) unmask(h);
  loop.run();
  for (const h of hosts) h.clear();
  b.cmd(`06 20 0f 20 00 20 00 01 00 00 ${wire(a.c.bd_addr)} 07 00`);
  b.cmd('0a 20 01 01');
  for (const h of [a, c]) {
    h.cmd('0b 20 07 00 10 00 10 00 00 00');
    h.cmd('0c 20 02 01 01');
  }
  const t0 = loop.get_time_ms();
  loop.run_until(() => !!b.find(0x3e, 1), 5000);
  assert.is(loop.get_time_ms() - t0, 1280);
  assert.equal(b.take(), [
    '0e 04 01 06 20 00',
    '0e 04 01 0a 20 00',
    `3e 13 01 3c 00 00 01 00 ${wire(a.c.bd_addr)} 00 00 00 00 00 00 00`,
  ]);
  assert.equal(a.take(), ['0e 04 01 0b 20 00', '0e 04 01 0c 20 00', `3e 0c 02 01 01 00 ${wire(b.c.bd_addr)} 00 c9`]);
  assert.equal(c.take(), ['0e 04 01 0b 20 00', '0e 04 01 0c 20 00']);
});

test('filter accept list: scanning and connecting with filter policy 1; list locked while in use', () => {
  const { loop, hosts } = bench(3, { rssi: -55 });
  const [a, b, c] = hosts as [Host, Host, Host];
  for (const h of hosts) unmask(h);
  loop.run();
  for (const h of hosts) h.clear();
  advertise(b);
  advertise(c);
  a.cmd(`11 20 07 00 ${wire(b.c.bd_addr)}`); // add b (public)
  a.cmd('0f 20 00');
  a.cmd('0b 20 07 00 10 00 10 00 00 01'); // passive, accept list only
  a.cmd('0c 20 02 01 01');
  a.cmd(`11 20 07 00 ${wire(c.c.bd_addr)}`); // in use: disallowed
  a.cmd(`11 20 07 02 ${wire(c.c.bd_addr)}`); // address type 2: invalid
  loop.advance(100);
  assert.equal(a.take(), [
    '0e 04 01 11 20 00',
    '0e 05 01 0f 20 00 08',
    '0e 04 01 0b 20 00',
    '0e 04 01 0c 20 00',
    '0e 04 01 11 20 0c',
    '0e 04 01 11 20 12',
    `3e 0f 02 01 00 00 ${wire(b.c.bd_addr)} 03 02 01 06 c9`,
  ]);
  a.cmd('0c 20 02 00 00');
  // initiator filter policy 1: the peer address in the command is ignored
  a.cmd('0d 20 19 60 00 30 00 01 00 00 00 00 00 00 00 00 18 00 28 00 00 00 2a 00 00 00 00 00');
  loop.run_until(() => !!a.find(0x3e, 1));
  assert.is(a.find(0x3e, 1)!.subarray(8, 14).join(','), Uint8Array.from(b.c.bd_addr).reverse().join(','));
});

test('directed advertising: the target connects', () => {
  const { loop, a, b } = two();
  b.cmd(`06 20 0f 20 00 20 00 04 00 00 ${wire(a.c.bd_addr)} 07 00`); // low duty directed
  b.cmd('0a 20 01 01');
  createConnection(a, b.c.bd_addr);
  loop.run_until(() => !!a.find(0x3e, 1) && !!b.find(0x3e, 1));
  assert.is(a.find(0x3e, 1)![3], 0x00);
  assert.is(b.find(0x3e, 1)![3], 0x00);
});

test.run();
