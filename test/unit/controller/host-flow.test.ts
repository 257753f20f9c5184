/**
 * A host that stops taking packets (a UART host deasserting RTS; a socket client that stops
 * reading): the controller keeps what it has for the host in a bounded buffer, drops advertising
 * reports beyond their share of it, keeps command answers up to the whole buffer, holds ACL data
 * from the peer on the air (the peer's buffers stay used, no Number Of Completed Packets), and
 * delivers everything it kept, in order, once the host reads again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../../src/core/bytes.js';
import { HOST_QUEUE_CAPACITY, HOST_QUEUE_REPORTS_ROOM } from '../../../src/controller/host-queue.js';
import { bench, le16, unmask, wire, type Host } from './bench.js';

test('buffer sizes: 16 KiB for a host that does not read, 4 KiB of it for reports', () => {
  assert.is(HOST_QUEUE_CAPACITY, 16384);
  assert.is(HOST_QUEUE_REPORTS_ROOM, 4096);
});

test('advertising reports while the host does not read: 4 KiB kept, the rest dropped; delivered in order later', () => {
  const { loop, hosts } = bench(2, { rssi: -55 });
  const [a, b] = hosts as [Host, Host];
  unmask(a);
  unmask(b);
  // b: ADV_IND every 20 ms, data 02 01 06; a: passive scan without duplicate filter
  b.cmd('06 20 0f 20 00 20 00 00 00 00 00 00 00 00 00 00 07 00');
  b.cmd('08 20 20 03 02 01 06' + ' 00'.repeat(28));
  b.cmd('0a 20 01 01');
  a.cmd('0b 20 07 00 10 00 10 00 00 00');
  a.cmd('0c 20 02 01 00');
  loop.advance(100);
  const report = `3e 0f 02 01 00 00 ${wire(b.c.bd_addr)} 03 02 01 06 c9`;
  assert.ok(a.take().includes(report), 'reports flow while the host reads');
  a.c.set_host_ready(false);
  loop.advance(10_000); // 500 advertising events
  assert.equal(a.rx, [], 'nothing reaches a host that does not read');
  // each report: 17 bytes of event + 3 bytes of record header = 20 bytes; 4096 / 20 = 204 kept
  assert.is(a.c.out.pending, 204 * 20);
  assert.is(a.c.out.discarded, 500 - 204);
  // a command still gets its answer (not a report: it may use the whole buffer)
  a.cmd('09 10 00');
  loop.advance(1);
  assert.is(a.c.out.pending, 204 * 20 + 3 + 12);
  a.c.set_host_ready(true);
  loop.run_until(() => a.rx.length >= 205, 1);
  const ev = a.take();
  assert.is(ev.length, 205);
  assert.ok(
    ev.slice(0, 204).every((e) => e === report),
    'the kept reports, unchanged',
  );
  assert.is(ev[204], `0e 0a 01 09 10 00 ${wire(a.c.bd_addr)}`);
  assert.is(a.c.out.pending, 0);
  loop.advance(100);
  assert.is(a.take().length, 5, 'reports flow again (20 ms interval)');
});

test('command answers beyond the whole buffer are dropped; the buffer never grows past it', () => {
  const { loop, hosts } = bench(1);
  const a = hosts[0]!;
  a.c.set_host_ready(false);
  assert.not.ok(a.c.out.congested);
  // Read Local Name: Command Complete of 2 + 252 bytes, 257 bytes with the record header
  for (let i = 0; i < 200; i++) a.cmd('14 0c 00');
  loop.run();
  assert.equal(a.rx, []);
  const kept = Math.floor(16384 / 257); // 63
  assert.is(a.c.out.pending, kept * 257);
  assert.is(a.c.out.overflowed, 200 - kept);
  assert.ok(a.c.out.congested, 'more than half full: the transport should stop reading the host');
  assert.ok(a.c.state.out.buf.length <= 2 * 16384, `buffer ${a.c.state.out.buf.length} bytes`);
  a.c.set_host_ready(true);
  loop.run();
  const ev = a.take();
  assert.is(ev.length, kept);
  assert.ok(
    ev.every((e) => e.startsWith('0e fc 01 14 0c 00 62 74 68 6f 73 74')),
    'Command Complete with the name "bthost..."',
  );
  assert.not.ok(a.c.out.congested);
});

test('ACL for a host that does not read waits on the air: the peer gets no completions until it reads', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  for (const h of [a, b]) {
    unmask(h);
    h.cmd('1a 0c 01 02');
  }
  loop.run();
  b.cmd(`05 04 0d ${wire(a.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!a.find(0x04));
  a.cmd(`09 04 07 ${wire(b.c.bd_addr)} 01`);
  loop.run_until(() => !!a.find(0x03) && !!b.find(0x03));
  const ha = a.find(0x03)![3]! | (a.find(0x03)![4]! << 8);
  const hb = b.find(0x03)![3]! | (b.find(0x03)![4]! << 8);
  loop.run();
  a.clear();
  b.clear();
  a.c.set_host_ready(false);
  const data = (i: number): Uint8Array => Uint8Array.of(0x04, 0x00, 0x40, 0x00, i, i, i, i);
  for (let i = 0; i < 8; i++) b.acl(hb, 0x2, data(i)); // b's 8 buffers
  loop.advance(5000);
  assert.equal(a.rx, [], 'nothing for a');
  assert.equal(b.take(), [], "no Number Of Completed Packets: b's buffers are still in use");
  b.acl(hb, 0x2, data(8));
  loop.advance(10);
  assert.equal(b.take(), ['1a 01 01'], 'a ninth packet: Data Buffer Overflow');
  a.c.set_host_ready(true);
  loop.run();
  assert.equal(
    a.acls().map((r) => r.hex),
    Array.from({ length: 8 }, (_, i) => `${le16(ha | 0x2000)} 08 00 ${hex(data(i))}`),
  );
  assert.equal(b.take(), [`13 05 01 ${le16(hb)} 08 00`]);
});

test.run();
