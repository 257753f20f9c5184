/**
 * ACL data between connected controllers: routing both ways, the sender's buffer count and size
 * enforced (Data Buffer Overflow), Number Of Completed Packets as buffers drain, LE fragmentation
 * at the data length, air timing (latency, bandwidth), buffers after disconnection, and the
 * ACL faults (drop, corrupt, delay, stalled completions).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../../src/core/bytes.js';
import type { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { bench, le16, unmask, wire, type Host } from './bench.js';

const payload = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

function classic(loop: VirtualRunLoop, a: Host, b: Host): [number, number] {
  for (const h of [a, b]) {
    unmask(h);
    h.cmd('1a 0c 01 02');
  }
  loop.run();
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!b.find(0x04));
  b.cmd(`09 04 07 ${wire(a.c.bd_addr)} 01`);
  loop.run_until(() => !!a.find(0x03) && !!b.find(0x03));
  const ea = a.find(0x03)!;
  const eb = b.find(0x03)!;
  loop.run();
  a.clear();
  b.clear();
  return [ea[3]! | (ea[4]! << 8), eb[3]! | (eb[4]! << 8)];
}

function le(loop: VirtualRunLoop, a: Host, b: Host): [number, number] {
  for (const h of [a, b]) unmask(h);
  b.cmd('06 20 0f 20 00 20 00 00 00 00 00 00 00 00 00 00 07 00');
  b.cmd('0a 20 01 01');
  a.cmd(`0d 20 19 60 00 30 00 00 00 ${wire(b.c.bd_addr)} 00 18 00 28 00 00 00 2a 00 00 00 00 00`);
  loop.run_until(() => !!a.find(0x3e, 1) && !!b.find(0x3e, 1));
  const ea = a.find(0x3e, 1)!;
  const eb = b.find(0x3e, 1)!;
  loop.run();
  a.clear();
  b.clear();
  return [ea[4]! | (ea[5]! << 8), eb[4]! | (eb[5]! << 8)];
}

/** ACL packet bytes as hex: handle | PB << 12, length, data. */
const acl = (handle: number, pb: number, data: Uint8Array): string =>
  `${le16(handle | (pb << 12))} ${le16(data.length)} ${hex(data)}`.trim();

test('classic ACL both ways; Number Of Completed Packets per handle as buffers drain', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  const [ha, hb] = classic(loop, a, b);
  const d1 = payload(8);
  a.acl(ha, 0x2, d1); // first automatically flushable
  assert.equal(b.acls(), [], 'not delivered synchronously');
  loop.run();
  assert.equal(
    b.acls().map((r) => r.hex),
    [acl(hb, 0x2, d1)],
  );
  assert.equal(a.take(), [`13 05 01 ${le16(ha)} 01 00`]);
  b.clear();
  const d2 = payload(12, 9);
  b.acl(hb, 0x0, d2); // first non-flushable: delivered to the peer's host as a start (0b10)
  b.acl(hb, 0x1, d1); // continuation
  loop.run();
  assert.equal(
    a.acls().map((r) => r.hex),
    [acl(ha, 0x2, d2), acl(ha, 0x1, d1)],
  );
  assert.equal(b.take(), [`13 05 01 ${le16(hb)} 02 00`]);
});

test('host beyond its credits: Data Buffer Overflow, packet dropped; credits back after NOCP', () => {
  const { loop, hosts } = bench(2, {}, [{ acl_buffers: 4 }]);
  const [a, b] = hosts as [Host, Host];
  const [ha] = classic(loop, a, b);
  for (let i = 0; i < 5; i++) a.acl(ha, 0x2, payload(10, i));
  loop.run();
  assert.equal(a.take(), ['1a 01 01', `13 05 01 ${le16(ha)} 04 00`]);
  assert.is(b.acls().length, 4);
  assert.equal(
    b.acls().map((r) => r.bytes[4]),
    [0, 1, 2, 3],
  );
  b.clear();
  for (let i = 0; i < 4; i++) a.acl(ha, 0x2, payload(10, i));
  loop.run();
  assert.equal(a.take(), [`13 05 01 ${le16(ha)} 04 00`]);
  assert.is(b.acls().length, 4);
});

test('oversized ACL, unknown handle, length mismatch: dropped (overflow reported for the oversized one)', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  const [ha] = classic(loop, a, b);
  a.acl(ha, 0x2, payload(1022));
  a.acl(0x0abc, 0x2, payload(10));
  a.c.host_send(0x02, Uint8Array.of(ha & 0xff, 0x20 | (ha >> 8), 0x05, 0x00, 1, 2), 6);
  a.c.host_send(0x02, Uint8Array.of(1, 2), 2);
  loop.run();
  assert.equal(a.take(), ['1a 01 01']);
  assert.is(b.acls().length, 0);
  assert.is(a.c.stats.acl_dropped, 4);
  a.acl(ha, 0x2, payload(1021));
  loop.run();
  assert.is(b.acls().length, 1);
  assert.is(b.acls()[0]!.bytes.length, 1025);
});

test('LE ACL: fragments of 27 octets to the peer host until the data length grows', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  const [ha, hb] = le(loop, a, b);
  const d = payload(100);
  a.acl(ha, 0x0, d);
  loop.run();
  assert.equal(
    b.acls().map((r) => r.hex),
    [
      acl(hb, 0x2, d.subarray(0, 27)),
      acl(hb, 0x1, d.subarray(27, 54)),
      acl(hb, 0x1, d.subarray(54, 81)),
      acl(hb, 0x1, d.subarray(81, 100)),
    ],
  );
  assert.equal(a.take(), [`13 05 01 ${le16(ha)} 01 00`]);
  b.clear();
  a.cmd(`22 20 06 ${le16(ha)} fb 00 48 08`);
  loop.run();
  a.clear();
  b.clear();
  a.acl(ha, 0x0, payload(251));
  a.acl(ha, 0x0, payload(252)); // above the LE buffer size
  loop.run();
  assert.equal(
    b.acls().map((r) => r.hex),
    [acl(hb, 0x2, payload(251))],
  );
  assert.equal(a.take(), ['1a 01 01', `13 05 01 ${le16(ha)} 01 00`]);
});

test('LE buffers shared with ACL when le_buffers is 0', () => {
  const { loop, hosts } = bench(2, {}, [{ le_buffers: 0, acl_buffers: 2 }]);
  const [a, b] = hosts as [Host, Host];
  const [ha] = le(loop, a, b);
  for (let i = 0; i < 3; i++) a.acl(ha, 0x0, payload(20, i));
  loop.run();
  assert.equal(a.take(), ['1a 01 01', `13 05 01 ${le16(ha)} 02 00`]);
  assert.is(b.acls().length, 2);
});

test('air timing: latency and bandwidth decide when data arrives and buffers complete', () => {
  const { loop, hosts } = bench(2, { latency_ms: 5, bandwidth_bps: 100_000 });
  const [a, b] = hosts as [Host, Host];
  const [ha] = classic(loop, a, b);
  const t0 = loop.get_time_ms();
  a.acl(ha, 0x2, payload(996)); // 1000 bytes on air = 80 ms at 100 kbit/s
  a.acl(ha, 0x2, payload(996));
  loop.run_until(() => b.acls().length === 1);
  assert.is(loop.get_time_ms() - t0, 85);
  loop.run_until(() => b.acls().length === 2);
  assert.is(loop.get_time_ms() - t0, 165);
  loop.run();
  assert.ok(a.c.faults.set_link_params(ha, { latency_ms: 0, bandwidth_bps: 0 }));
  b.clear();
  const t1 = loop.get_time_ms();
  a.acl(ha, 0x2, payload(996));
  loop.run_until(() => b.acls().length === 1);
  assert.is(loop.get_time_ms() - t1, 0);
});

test('disconnect with data in flight: no completion after Disconnection Complete; buffers free again', () => {
  const { loop, hosts } = bench(2, { latency_ms: 50, bandwidth_bps: 1000 }, [{ acl_buffers: 3 }]);
  const [a, b] = hosts as [Host, Host];
  let [ha] = classic(loop, a, b);
  for (let i = 0; i < 3; i++) a.acl(ha, 0x2, payload(10, i));
  a.cmd(`06 04 03 ${le16(ha)} 13`);
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 06 04', `05 04 00 ${le16(ha)} 16`]);
  assert.is(b.acls().length, 0);
  assert.is(a.c.state.acl_pool.available, 3);
  b.cmd('1a 0c 01 02');
  [ha] = classic(loop, a, b);
  for (let i = 0; i < 3; i++) a.acl(ha, 0x2, payload(10, i));
  loop.run();
  // 14 bytes at 1 kbit/s: one packet every 112 ms, each completion reported as it drains
  assert.equal(a.take(), Array(3).fill(`13 05 01 ${le16(ha)} 01 00`));
});

test('link loss: data stops, buffers stay used until the supervision timeout', () => {
  const { loop, hosts } = bench(2, {}, [{ acl_buffers: 2 }]);
  const [a, b] = hosts as [Host, Host];
  const [ha, hb] = classic(loop, a, b);
  a.c.faults.drop_link(ha);
  a.acl(ha, 0x2, payload(10));
  a.acl(ha, 0x2, payload(10));
  a.acl(ha, 0x2, payload(10));
  loop.advance(10_000);
  assert.equal(a.take(), ['1a 01 01']);
  assert.is(b.acls().length, 0);
  loop.run();
  assert.equal(a.take(), [`05 04 00 ${le16(ha)} 08`]);
  assert.equal(b.take(), [`05 04 00 ${le16(hb)} 08`]);
  assert.is(a.c.state.acl_pool.available, 2);
});

test('controller-to-host flow control: data waits for Host Number Of Completed Packets; Host Buffer Size length', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  const [ha, hb] = classic(loop, a, b);
  b.cmd('33 0c 07 0a 00 40 02 00 00 00'); // Host Buffer Size: ACL 10 bytes x 2
  b.cmd('31 0c 01 01'); // Set Controller To Host Flow Control: ACL on
  loop.run();
  assert.equal(b.take(), ['0e 04 01 33 0c 00', '0e 04 01 31 0c 00']);
  const d = payload(25);
  a.acl(ha, 0x2, d); // 3 packets of at most 10 bytes for b's host, which has room for 2
  a.acl(ha, 0x2, payload(4, 7));
  loop.run();
  assert.equal(
    b.acls().map((r) => r.hex),
    [acl(hb, 0x2, d.subarray(0, 10)), acl(hb, 0x1, d.subarray(10, 20))],
  );
  assert.equal(a.take(), [], "a's buffers stay in use while b's host is full");
  b.clear();
  b.cmd(`35 0c 05 01 ${le16(hb)} 02 00`); // b's host frees both
  loop.run();
  assert.equal(b.events(), [], 'no event for Host Number Of Completed Packets');
  assert.equal(
    b.acls().map((r) => r.hex),
    [acl(hb, 0x1, d.subarray(20, 25)), acl(hb, 0x2, payload(4, 7))],
  );
  assert.equal(a.take(), [`13 05 01 ${le16(ha)} 02 00`]);
  // disconnection gives the host's outstanding buffers back
  b.clear();
  a.acl(ha, 0x2, payload(3));
  loop.run();
  assert.equal(b.acls().length, 0);
  assert.is(b.c.state.host_acl_credits, 0);
  b.cmd(`06 04 03 ${le16(hb)} 13`);
  loop.run();
  assert.is(b.c.state.host_acl_credits, 2);
});

test('Number Of Completed Packets covers several handles in one event', () => {
  const { loop, hosts } = bench(3);
  const [a, b, c] = hosts as [Host, Host, Host];
  const [hab] = classic(loop, a, b);
  c.cmd('1a 0c 01 02');
  unmask(c);
  loop.run();
  a.cmd(`05 04 0d ${wire(c.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!c.find(0x04));
  c.cmd(`09 04 07 ${wire(a.c.bd_addr)} 01`);
  loop.run();
  const hac = a.find(0x03)![3]! | (a.find(0x03)![4]! << 8);
  a.clear();
  a.acl(hab, 0x2, payload(5));
  a.acl(hac, 0x2, payload(5));
  a.acl(hac, 0x2, payload(5));
  loop.run();
  assert.equal(a.take(), [`13 09 02 ${le16(hab)} 01 00 ${le16(hac)} 02 00`]);
});

test('faults: stall completions, drop, corrupt and delay packets', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  const [ha, hb] = classic(loop, a, b);
  a.c.faults.stall_completed_packets(true);
  a.acl(ha, 0x2, payload(4));
  a.acl(ha, 0x2, payload(4));
  loop.run();
  assert.equal(a.take(), []);
  assert.is(b.acls().length, 2);
  a.c.faults.stall_completed_packets(false);
  loop.run();
  assert.equal(a.take(), [`13 05 01 ${le16(ha)} 02 00`]);
  b.clear();
  a.c.faults.drop_next_acl(1);
  a.c.faults.corrupt_next_acl(1);
  a.acl(ha, 0x2, Uint8Array.of(1, 2, 3));
  a.acl(ha, 0x2, Uint8Array.of(1, 2, 3));
  a.acl(ha, 0x2, Uint8Array.of(1, 2, 3));
  loop.run();
  // first lost, second corrupted (last byte ^ 0xa5), third intact; all three buffers completed
  assert.equal(
    b.acls().map((r) => r.hex),
    [acl(hb, 0x2, Uint8Array.of(1, 2, 0xa6)), acl(hb, 0x2, Uint8Array.of(1, 2, 3))],
  );
  assert.equal(a.take(), [`13 05 01 ${le16(ha)} 03 00`]);
  b.clear();
  a.c.faults.delay_next_acl(100);
  const t0 = loop.get_time_ms();
  a.acl(ha, 0x2, Uint8Array.of(9));
  a.acl(ha, 0x2, Uint8Array.of(8));
  loop.run_until(() => b.acls().length === 2);
  assert.is(loop.get_time_ms() - t0, 101);
  assert.equal(
    b.acls().map((r) => r.bytes[4]),
    [9, 8],
  );
});

/** Send n numbered L2CAP PDUs (3 octets to `cid`) from a to b, 4 at a time; returns what b received (hex). */
function numbered(loop: VirtualRunLoop, a: Host, b: Host, ha: number, n: number, cid = 0x40): string[] {
  for (let i = 0; i < n; i += 4) {
    for (let k = i; k < Math.min(n, i + 4); k++) a.acl(ha, 0x2, Uint8Array.of(3, 0, cid, 0, k & 0xff, k >> 8, 0x33));
    loop.run();
  }
  return b.acls().map((r) => hex(r.bytes.subarray(8)));
}

test('faults: acl_loss drops and corrupts a share of data packets, the same ones for the same seed; signalling passes', () => {
  const runs: string[][] = [];
  for (let round = 0; round < 2; round++) {
    const { loop, hosts } = bench(2);
    const [a, b] = hosts as [Host, Host];
    const [ha] = classic(loop, a, b);
    a.c.faults.acl_loss(0.05, 0.05, 7);
    runs.push(numbered(loop, a, b, ha, 2000));
  }
  const got = runs[0]!;
  assert.equal(runs[1], got);
  const intact = got.filter((h) => h.endsWith('33')).length;
  const corrupted = got.filter((h) => h.endsWith('96')).length; // 0x33 ^ 0xa5
  assert.ok(2000 - got.length > 60 && 2000 - got.length < 140, `lost ${2000 - got.length}`);
  assert.ok(corrupted > 60 && corrupted < 140, `corrupted ${corrupted}`);
  assert.is(intact + corrupted, got.length);
  // the link option does the same for every controller (controller n seeded with seed + n)
  const { loop, hosts } = bench(2, { acl_loss: { drop: 0.05, corrupt: 0.05, seed: 7 } });
  const [a, b] = hosts as [Host, Host];
  const [ha] = classic(loop, a, b);
  assert.equal(numbered(loop, a, b, ha, 2000), got);
  assert.throws(() => a.c.faults.acl_loss(1.5), RangeError);
  // PDUs on the signalling channel (CID 0x0001) all arrive intact
  b.clear();
  const sig = numbered(loop, a, b, ha, 400, 0x0001);
  assert.is(sig.length, 400);
  assert.ok(sig.every((h) => h.endsWith('33')));
});

test('packets reach the host in one fixed array, valid during the call, with the right bytes (no view per packet)', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  const [ha, hb] = classic(loop, a, b);
  const seen: Array<{ array: Uint8Array; type: number; hex: string }> = [];
  b.c.attach_host((type, packet, size) => {
    seen.push({ array: packet, type, hex: hex(packet.subarray(0, size)) });
  });
  const sizes = [3, 300, 27, 1021];
  for (let i = 0; i < sizes.length; i++) a.acl(ha, 0x2, payload(sizes[i]!, i + 1));
  loop.run();
  const acls = seen.filter((r) => r.type === 2);
  assert.equal(
    acls.map((r) => r.hex),
    sizes.map((n, i) => acl(hb, 0x2, payload(n, i + 1))),
    'every packet arrives whole and in order',
  );
  assert.ok(acls.length === sizes.length && acls.every((r) => r.array === acls[0]!.array), 'one array for every delivery');
  // events come through the same delivery area
  b.cmd('1a 0c 01 03'); // Write Scan Enable -> Command Complete
  loop.run();
  const ev = seen.filter((r) => r.type === 4);
  assert.ok(ev.length >= 1 && ev.every((r) => r.array === acls[0]!.array), 'events share the array');
  assert.equal(ev.at(-1)!.hex, '0e 04 01 1a 0c 00');
});

test.run();
