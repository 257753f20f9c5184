/**
 * Two (or three) controllers on one radio: inquiry, paging, connection setup on both sides,
 * rejection and timeouts, disconnection reasons, remote information, supervision timeout.
 * Event layouts written out from Vol 4 Part E 7.7.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../../src/core/bytes.js';
import { bench, le16, unmask, wire, type Host } from './bench.js';

function up(h: Host, scan = 0x03): void {
  unmask(h);
  h.cmd(`1a 0c 01 0${scan}`);
}

function nameHex(s: string, n = 248): string {
  const b = new Uint8Array(n);
  b.set(new TextEncoder().encode(s));
  return hex(b);
}

/** a pages b, b accepts (staying peripheral); returns [a's handle, b's handle]. */
export function connect(loop: import('../../../src/core/run-loop.js').VirtualRunLoop, a: Host, b: Host): [number, number] {
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!b.find(0x04));
  b.cmd(`09 04 07 ${wire(a.c.bd_addr)} 01`);
  loop.run_until(() => !!a.find(0x03) && !!b.find(0x03));
  const ha = a.find(0x03)!;
  const hb = b.find(0x03)!;
  return [ha[3]! | (ha[4]! << 8), hb[3]! | (hb[4]! << 8)];
}

test('inquiry (mode 0): Command Status, Inquiry Result, Inquiry Complete after Inquiry_Length x 1.28 s', () => {
  const { loop, hosts, link } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  b.cmd('24 0c 03 0c 02 5a');
  loop.run();
  a.clear();
  const t0 = loop.get_time_ms();
  a.cmd('01 04 05 33 8b 9e 02 00'); // GIAC, 2 x 1.28 s, unlimited responses
  assert.ok(loop.run_until(() => !!a.find(0x01), 10_000));
  assert.is(loop.get_time_ms() - t0, 2560);
  const co = le16(link.clock_offset(b.c));
  assert.equal(a.take(), ['0f 04 00 01 01 04', `02 0f 01 ${wire(b.c.bd_addr)} 01 00 00 0c 02 5a ${co}`, '01 01 00']);
});

test('inquiry with RSSI (mode 1); extended inquiry result (mode 2) carries only the EIR the host wrote', () => {
  const { loop, hosts, link } = bench(2, { rssi: -60 });
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  b.cmd(`13 0c f8 ${nameHex('peer-b')}`);
  a.cmd('45 0c 01 01');
  loop.run();
  a.clear();
  a.cmd('01 04 05 33 8b 9e 01 01'); // 1 response
  loop.run();
  const co = le16(link.clock_offset(b.c));
  // Num_Responses reached: Inquiry Complete at once
  assert.equal(a.take(), ['0f 04 00 01 01 04', `22 0f 01 ${wire(b.c.bd_addr)} 01 00 00 00 00 ${co} c4`, '01 01 00']);
  a.cmd('45 0c 01 02');
  a.cmd('01 04 05 33 8b 9e 01 01');
  loop.run();
  const ev = a.take();
  assert.is(ev.length, 4);
  // b's host wrote a local name but no EIR: the controller sends 240 zero octets (7.7.38), it
  // does not make an EIR of its own; the name is for Remote Name Request
  const zeros = ' 00'.repeat(240);
  assert.is(ev[2], `2f ff 01 ${wire(b.c.bd_addr)} 01 00 00 00 00 ${co} c4${zeros}`);
  // EIR written by the host (Write Extended Inquiry Response) is sent as written
  b.cmd('52 0c f1 00 03 08 61 62' + ' 00'.repeat(236));
  loop.run();
  a.clear();
  a.cmd('01 04 05 33 8b 9e 01 01');
  loop.run();
  assert.is(a.take()[1], `2f ff 01 ${wire(b.c.bd_addr)} 01 00 00 00 00 ${co} c4 03 08 61 62` + ' 00'.repeat(236));
  // HCI Reset forgets it: zeros again (the name written before is gone too)
  b.cmd('03 0c 00');
  up(b);
  loop.run();
  a.clear();
  a.cmd('01 04 05 33 8b 9e 01 01');
  loop.run();
  assert.is(a.take()[1], `2f ff 01 ${wire(b.c.bd_addr)} 01 00 00 00 00 ${co} c4${zeros}`);
});

test('inquiry finds only devices with inquiry scan on; Inquiry Cancel ends it without Inquiry Complete', () => {
  const { loop, hosts } = bench(3);
  const [a, b, c] = hosts as [Host, Host, Host];
  up(a);
  up(b, 0x02); // connectable, not discoverable
  up(c, 0x01);
  loop.run();
  a.clear();
  a.cmd('01 04 05 33 8b 9e 01 00');
  loop.run();
  const ev = a.take();
  assert.is(ev.length, 3);
  assert.ok(ev[1]!.startsWith(`02 0f 01 ${wire(c.c.bd_addr)}`));
  a.cmd('01 04 05 33 8b 9e 01 00');
  loop.run_until(() => a.events().length === 1);
  a.cmd('02 04 00');
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 01 04', '0e 04 01 02 04 00']);
  a.cmd('01 04 05 00 00 00 01 00'); // LAP outside 0x9E8B00-0x9E8B3F
  a.cmd('01 04 05 33 8b 9e 31 00'); // length 0x31 > 0x30
  loop.run();
  assert.equal(a.take(), ['0f 04 12 01 01 04', '0f 04 12 01 01 04']);
});

test('limited discoverable: a device listening to the LIAC only answers a LIAC inquiry', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  b.cmd('3a 0c 04 01 00 8b 9e'); // current IAC: LIAC 0x9E8B00
  loop.run();
  a.clear();
  a.cmd('01 04 05 33 8b 9e 01 00'); // GIAC
  loop.run();
  assert.is(a.take().length, 2, 'Command Status and Inquiry Complete only');
  a.cmd('01 04 05 00 8b 9e 01 00'); // LIAC
  loop.run();
  const ev = a.take();
  assert.is(ev.length, 3);
  assert.ok(ev[1]!.startsWith(`02 0f 01 ${wire(b.c.bd_addr)}`));
});

test('classic connect: Connection Request on the peer, Connection Complete on both sides', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  a.cmd('24 0c 03 04 01 2a');
  loop.run();
  a.clear();
  b.clear();
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run_until(() => b.events().length > 0);
  assert.equal(a.take(), ['0f 04 00 01 05 04']);
  assert.equal(b.take(), [`04 0a ${wire(a.c.bd_addr)} 04 01 2a 01`]);
  b.cmd(`09 04 07 ${wire(a.c.bd_addr)} 01`);
  loop.run();
  assert.equal(a.take(), [`03 0b 00 01 00 ${wire(b.c.bd_addr)} 01 00`]);
  assert.equal(b.take(), ['0f 04 00 01 09 04', `03 0b 00 11 00 ${wire(a.c.bd_addr)} 01 00`]);
  // roles: a central, b peripheral
  a.cmd('09 08 02 01 00');
  b.cmd('09 08 02 11 00');
  // a second Create Connection to the same device
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run();
  assert.equal(a.take(), ['0e 07 01 09 08 00 01 00 00', '0f 04 0b 01 05 04']);
  assert.equal(b.take(), ['0e 07 01 09 08 00 11 00 01']);
});

test('accept with role switch: Role Change on both sides before Connection Complete', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  loop.run();
  a.clear();
  b.clear();
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!b.find(0x04));
  b.clear();
  b.cmd(`09 04 07 ${wire(a.c.bd_addr)} 00`);
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 05 04', `12 08 00 ${wire(b.c.bd_addr)} 01`, `03 0b 00 01 00 ${wire(b.c.bd_addr)} 01 00`]);
  assert.equal(b.take(), ['0f 04 00 01 09 04', `12 08 00 ${wire(a.c.bd_addr)} 00`, `03 0b 00 11 00 ${wire(a.c.bd_addr)} 01 00`]);
});

test('reject: both sides get Connection Complete with the reason; bad reason -> 0x12', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  loop.run();
  a.clear();
  b.clear();
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!b.find(0x04));
  b.clear();
  b.cmd(`0a 04 07 ${wire(a.c.bd_addr)} 13`);
  b.cmd(`0a 04 07 ${wire(a.c.bd_addr)} 0f`);
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 05 04', `03 0b 0f 00 00 ${wire(b.c.bd_addr)} 01 00`]);
  assert.equal(b.take(), ['0f 04 12 01 0a 04', '0f 04 00 01 0a 04', `03 0b 0f 00 00 ${wire(a.c.bd_addr)} 01 00`]);
  // accept for a request that no longer exists
  b.cmd(`09 04 07 ${wire(a.c.bd_addr)} 01`);
  loop.run();
  assert.equal(b.take(), ['0f 04 02 01 09 04']);
});

test('page timeout when the peer does not page scan; accept timeout when its host never answers', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b, 0x00);
  a.cmd('18 0c 02 00 10'); // page timeout 0x1000 slots = 2.56 s
  loop.run();
  a.clear();
  const t0 = loop.get_time_ms();
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 05 04', `03 0b 04 00 00 ${wire(b.c.bd_addr)} 01 00`]);
  assert.is(loop.get_time_ms() - t0, 2560);
  b.cmd('1a 0c 01 02');
  loop.run();
  b.clear();
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 05 04', `03 0b 10 00 00 ${wire(b.c.bd_addr)} 01 00`]);
  assert.equal(b.take(), [`04 0a ${wire(a.c.bd_addr)} 00 00 00 01`, `03 0b 10 00 00 ${wire(a.c.bd_addr)} 01 00`]);
});

test('Create Connection Cancel: 0x00 then Connection Complete 0x02 on both; nothing pending -> 0x02', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  loop.run();
  a.clear();
  b.clear();
  a.cmd(`08 04 06 ${wire(b.c.bd_addr)}`);
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!b.find(0x04));
  a.cmd(`08 04 06 ${wire(b.c.bd_addr)}`);
  loop.run();
  assert.equal(a.take(), [
    `0e 0a 01 08 04 02 ${wire(b.c.bd_addr)}`,
    '0f 04 00 01 05 04',
    `0e 0a 01 08 04 00 ${wire(b.c.bd_addr)}`,
    `03 0b 02 00 00 ${wire(b.c.bd_addr)} 01 00`,
  ]);
  assert.equal(b.take(), [`04 0a ${wire(a.c.bd_addr)} 00 00 00 01`, `03 0b 02 00 00 ${wire(a.c.bd_addr)} 01 00`]);
});

test('disconnect: local side 0x16, remote side the reason sent; bad reason and unknown handle rejected', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  loop.run();
  const [ha, hb] = connect(loop, a, b);
  a.clear();
  b.clear();
  a.cmd(`06 04 03 ${le16(ha)} 16`); // 0x16 is not a valid Disconnect reason
  a.cmd('06 04 03 99 00 13');
  a.cmd(`06 04 03 ${le16(ha)} 13`);
  loop.run();
  assert.equal(a.take(), ['0f 04 12 01 06 04', '0f 04 02 01 06 04', '0f 04 00 01 06 04', `05 04 00 ${le16(ha)} 16`]);
  assert.equal(b.take(), [`05 04 00 ${le16(hb)} 13`]);
  assert.is(a.c.state.connections.size, 0);
  assert.is(b.c.state.connections.size, 0);
  // the peripheral disconnects with "power off" on a new link
  const [ha2, hb2] = connect(loop, a, b);
  a.clear();
  b.clear();
  b.cmd(`06 04 03 ${le16(hb2)} 15`);
  loop.run();
  assert.equal(a.take(), [`05 04 00 ${le16(ha2)} 15`]);
  assert.equal(b.take(), ['0f 04 00 01 06 04', `05 04 00 ${le16(hb2)} 16`]);
});

test('link loss: both sides get Disconnection Complete 0x08 after the supervision timeout', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  loop.run();
  const [ha, hb] = connect(loop, a, b);
  a.cmd(`37 0c 04 ${le16(ha)} 40 1f`); // 0x1f40 slots = 5 s
  loop.run();
  a.clear();
  b.clear();
  const t0 = loop.get_time_ms();
  assert.ok(a.c.faults.drop_link(ha));
  loop.run();
  assert.is(loop.get_time_ms() - t0, 5000);
  assert.equal(a.take(), [`05 04 00 ${le16(ha)} 08`]);
  assert.equal(b.take(), [`05 04 00 ${le16(hb)} 08`]);
});

test('reset of one controller: its peer loses the link (supervision timeout 20 s)', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  loop.run();
  const [, hb] = connect(loop, a, b);
  a.clear();
  b.clear();
  const t0 = loop.get_time_ms();
  a.cmd('03 0c 00');
  loop.run();
  assert.equal(a.take(), ['0e 04 01 03 0c 00']);
  assert.equal(b.take(), [`05 04 00 ${le16(hb)} 08`]);
  assert.is(loop.get_time_ms() - t0, 20_000);
});

test('remote name request: connected, not connected, and page timeout', () => {
  const { loop, hosts } = bench(3);
  const [a, b, c] = hosts as [Host, Host, Host];
  up(a);
  up(b);
  up(c, 0x00);
  b.cmd(`13 0c f8 ${nameHex('bravo')}`);
  b.cmd('56 0c 01 01');
  a.cmd('18 0c 02 00 08'); // page timeout 1.28 s
  loop.run();
  a.clear();
  a.cmd(`19 04 0a ${wire(b.c.bd_addr)} 01 00 00 00`);
  loop.run();
  assert.equal(a.take(), [
    '0f 04 00 01 19 04',
    `3d 0e ${wire(b.c.bd_addr)} 01 00 00 00 00 00 00 00`,
    `07 ff 00 ${wire(b.c.bd_addr)} ${nameHex('bravo')}`,
  ]);
  a.cmd(`19 04 0a ${wire(c.c.bd_addr)} 01 00 00 00`);
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 19 04', `07 ff 04 ${wire(c.c.bd_addr)} ${nameHex('')}`]);
  connect(loop, a, b);
  a.clear();
  a.cmd(`19 04 0a ${wire(b.c.bd_addr)} 01 00 00 00`);
  a.cmd(`1a 04 06 ${wire(c.c.bd_addr)}`); // cancel: nothing pending for c
  loop.run();
  assert.equal(a.take(), [
    '0f 04 00 01 19 04',
    `0e 0a 01 1a 04 02 ${wire(c.c.bd_addr)}`,
    `07 ff 00 ${wire(b.c.bd_addr)} ${nameHex('bravo')}`,
  ]);
});

test('remote features, extended features and version of a connected peer', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  b.cmd('56 0c 01 01');
  b.cmd('6d 0c 02 01 00');
  loop.run();
  const [ha] = connect(loop, a, b);
  a.clear();
  const h = le16(ha);
  a.cmd(`1b 04 02 ${h}`);
  a.cmd(`1c 04 03 ${h} 01`);
  a.cmd(`1c 04 03 ${h} 03`);
  a.cmd(`1d 04 02 ${h}`);
  a.cmd('1d 04 02 77 07');
  loop.run();
  assert.equal(a.take(), [
    '0f 04 00 01 1b 04',
    '0f 04 00 01 1c 04',
    '0f 04 12 01 1c 04',
    '0f 04 00 01 1d 04',
    '0f 04 02 01 1d 04',
    `0b 0b 00 ${h} bf 00 00 7e c0 01 5b 80`,
    `23 0d 00 ${h} 01 02 03 00 00 00 00 00 00 00`,
    `0c 08 00 ${h} 09 ff ff 01 00`,
  ]);
});

test('sniff mode and exit: Mode Change on both sides; switch role: Role Change on both', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  a.cmd('0f 08 02 05 00'); // default link policy: role switch + sniff
  b.cmd('0f 08 02 05 00');
  loop.run();
  const [ha, hb] = connect(loop, a, b);
  a.clear();
  b.clear();
  a.cmd(`03 08 0a ${le16(ha)} 20 03 20 00 04 00 01 00`); // max 0x0320, min 0x0020, attempt 4, timeout 1
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 03 08', `14 06 00 ${le16(ha)} 02 20 03`]);
  assert.equal(b.take(), [`14 06 00 ${le16(hb)} 02 20 03`]);
  b.cmd(`04 08 02 ${le16(hb)}`);
  loop.run();
  assert.equal(b.take(), ['0f 04 00 01 04 08', `14 06 00 ${le16(hb)} 00 00 00`]);
  assert.equal(a.take(), [`14 06 00 ${le16(ha)} 00 00 00`]);
  b.cmd(`0b 08 07 ${wire(a.c.bd_addr)} 00`); // b becomes central
  loop.run();
  assert.equal(b.take(), ['0f 04 00 01 0b 08', `12 08 00 ${wire(a.c.bd_addr)} 00`]);
  assert.equal(a.take(), [`12 08 00 ${wire(b.c.bd_addr)} 01`]);
  b.cmd(`09 08 02 ${le16(hb)}`);
  loop.run();
  assert.equal(b.take(), [`0e 07 01 09 08 00 ${le16(hb)} 00`]);
});

test('connection setup filter with auto-accept: no Connection Request, connection completes', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  b.cmd('05 0c 03 02 00 02');
  loop.run();
  a.clear();
  b.clear();
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run();
  assert.equal(b.take(), [`03 0b 00 11 00 ${wire(a.c.bd_addr)} 01 00`]);
  assert.equal(a.take(), ['0f 04 00 01 05 04', `03 0b 00 01 00 ${wire(b.c.bd_addr)} 01 00`]);
});

test.run();
