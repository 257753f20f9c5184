/**
 * A controller that hands ACL data to its host in packets larger than the air packet
 * (`acl_to_host_max`): each L2CAP PDU joined up to that size, never above the host's announced
 * Host_ACL_Data_Packet_Length, never more packets than Host_Total_Num_ACL_Data_Packets before
 * Host Number Of Completed Packets (Core Vol 4 Part E 7.3.39, 7.3.40). Raw HCI on both sides.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../../src/core/bytes.js';
import type { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { HostAclMerger } from '../../../src/controller/host-acl.js';
import { bench, le16, unmask, wire, type Host } from './bench.js';

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

/** An L2CAP PDU (basic header: length, CID 0x0040) with `n` payload bytes. */
function pdu(n: number, seed: number): Uint8Array {
  const d = new Uint8Array(4 + n);
  d[0] = n & 0xff;
  d[1] = n >> 8;
  d[2] = 0x40;
  for (let i = 0; i < n; i++) d[4 + i] = (i * 13 + seed) & 0xff;
  return d;
}

/** Send `d` from a's host in ACL fragments of at most 1021 bytes (a's buffer size). */
function sendPdu(a: Host, handle: number, d: Uint8Array): void {
  for (let off = 0; off < d.length; off += 1021)
    a.acl(handle, off === 0 ? 0x2 : 0x1, d.subarray(off, Math.min(d.length, off + 1021)));
}

const header = (r: { bytes: Uint8Array }) => ({ pb: r.bytes[1]! >> 4, len: r.bytes[2]! | (r.bytes[3]! << 8) });

test('acl_to_host_max 65535: a PDU of 3000 bytes sent in 1021-byte pieces reaches the host as one ACL packet (PB 0b10)', () => {
  const { loop, hosts } = bench(2, {}, [{ acl_buffers: 80 }, { acl_to_host_max: 65535 }]);
  const [a, b] = hosts as [Host, Host];
  const [ha, hb] = classic(loop, a, b);
  const d = pdu(2996, 1);
  sendPdu(a, ha, d);
  loop.run();
  const got = b.acls();
  assert.is(got.length, 1);
  assert.equal(header(got[0]!), { pb: 0x2, len: 3000 });
  assert.is(got[0]!.hex, `${le16(hb | 0x2000)} ${le16(3000)} ${hex(d)}`);
  assert.equal(a.take(), [`13 05 01 ${le16(ha)} 03 00`], "a's three buffers completed");
});

test('acl_to_host_max 65535: the largest PDU (65535 + 4 bytes) arrives as 65535 + 4 data bytes; two PDUs stay apart', () => {
  const { loop, hosts } = bench(2, {}, [{ acl_buffers: 80 }, { acl_to_host_max: 65535 }]);
  const [a, b] = hosts as [Host, Host];
  const [ha, hb] = classic(loop, a, b);
  const big = pdu(65535, 2);
  const small = pdu(10, 3);
  sendPdu(a, ha, big);
  sendPdu(a, ha, small);
  loop.run();
  const got = b.acls();
  assert.equal(got.map(header), [
    { pb: 0x2, len: 65535 },
    { pb: 0x1, len: 4 },
    { pb: 0x2, len: 14 },
  ]);
  const joined = Buffer.concat([got[0]!.bytes.subarray(4), got[1]!.bytes.subarray(4)]);
  assert.ok(joined.equals(Buffer.from(big)), 'the big PDU intact');
  assert.is(got[2]!.hex, `${le16(hb | 0x2000)} 0e 00 ${hex(small)}`);
});

test('acl_to_host_max within Host Buffer Size: packets never above the announced length nor beyond the announced count', () => {
  const { loop, hosts } = bench(2, {}, [{ acl_buffers: 80 }, { acl_to_host_max: 65535 }]);
  const [a, b] = hosts as [Host, Host];
  const [ha, hb] = classic(loop, a, b);
  b.cmd('33 0c 07 dc 05 00 02 00 00 00'); // Host Buffer Size: ACL 1500 bytes x 2
  b.cmd('31 0c 01 01'); // Set Controller To Host Flow Control: ACL on
  loop.run();
  assert.equal(b.take(), ['0e 04 01 33 0c 00', '0e 04 01 31 0c 00']);
  const d1 = pdu(3996, 4); // 4000 bytes: 1500 + 1500 + 1000
  const d2 = pdu(496, 5); // 500 bytes
  sendPdu(a, ha, d1);
  sendPdu(a, ha, d2);
  const seen: Array<{ pb: number; len: number }> = [];
  const data: Uint8Array[] = [];
  for (let round = 0; round < 10; round++) {
    loop.run();
    const got = b.acls();
    b.clear();
    assert.ok(got.length <= 2, `round ${round}: ${got.length} packets, host has room for 2`);
    for (const r of got) {
      const h = header(r);
      assert.ok(h.len <= 1500, `packet of ${h.len} bytes above 1500`);
      assert.is(r.bytes[0]! | ((r.bytes[1]! & 0x0f) << 8), hb);
      seen.push(h);
      data.push(r.bytes.subarray(4));
    }
    if (got.length === 0) break;
    b.cmd(`35 0c 05 01 ${le16(hb)} ${le16(got.length)}`); // the host consumed them
  }
  assert.equal(seen, [
    { pb: 2, len: 1500 },
    { pb: 1, len: 1500 },
    { pb: 1, len: 1000 },
    { pb: 2, len: 500 },
  ]);
  assert.ok(Buffer.concat(data).equals(Buffer.concat([d1, d2])), 'every byte, in order');
  assert.equal(b.events(), [], 'Host Number Of Completed Packets gets no event');
});

test('a disconnection drops what the controller held for the host and gives the credits back', () => {
  const { loop, hosts } = bench(2, {}, [{ acl_buffers: 80 }, { acl_to_host_max: 65535 }]);
  const [a, b] = hosts as [Host, Host];
  const [ha, hb] = classic(loop, a, b);
  b.cmd('33 0c 07 ff ff 00 01 00 00 00'); // 65535 x 1
  b.cmd('31 0c 01 01');
  loop.run();
  b.clear();
  sendPdu(a, ha, pdu(100, 1));
  sendPdu(a, ha, pdu(100, 2)); // held: the host has room for one
  loop.run();
  assert.is(b.acls().length, 1);
  assert.is(b.c.state.host_acl_credits, 0);
  b.clear();
  b.cmd(`06 04 03 ${le16(hb)} 13`);
  loop.run();
  assert.is(b.acls().length, 0, 'the held PDU is flushed with the link');
  assert.is(b.c.state.host_acl_credits, 1);
});

test('without acl_to_host_max the host still gets air-sized packets (1021)', () => {
  const { loop, hosts } = bench(2, {}, [{ acl_buffers: 80 }]);
  const [a, b] = hosts as [Host, Host];
  const [ha] = classic(loop, a, b);
  sendPdu(a, ha, pdu(2996, 1));
  loop.run();
  assert.equal(b.acls().map(header), [
    { pb: 2, len: 1021 },
    { pb: 1, len: 1021 },
    { pb: 1, len: 958 },
  ]);
});

test('fuzz: random pieces, PB flags, L2CAP lengths, caps and host room: never a packet above the cap, never a byte lost or reordered, never a throw', () => {
  let seed = 0x1234;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let run = 0; run < 200; run++) {
    let room = rnd(4);
    const out: number[] = [];
    let cap = 1 + rnd(3000);
    const m = new HostAclMerger({
      emit: (_h, _pb, data, off, n) => {
        assert.ok(n >= 1 && n <= cap, `packet of ${n} bytes, cap ${cap}`);
        room--;
        for (let i = 0; i < n; i++) out.push(data[off + i]!);
      },
      can_emit: () => room > 0,
      copy: (src, from, dst, to, n) => dst.set(src.subarray(from, from + n), to),
    });
    const sent: number[] = [];
    let k = 0;
    for (let step = 0; step < 100; step++) {
      if (m.held > 0 || room <= 0) {
        room += 1 + rnd(3);
        m.release();
        continue;
      }
      const n = 1 + rnd(Math.min(cap, 1021));
      const piece = Uint8Array.from({ length: n }, () => k++ & 0xff);
      m.push(1, rnd(3) === 0 ? 0x2 : 0x1, piece, 0, n, cap);
      sent.push(...piece);
      if (rnd(20) === 0) cap = Math.max(cap, 1 + rnd(3000)); // Host Buffer Size grows mid-stream
    }
    room = 1e9;
    m.release();
    assert.ok(out.length <= sent.length);
    assert.equal(out, sent.slice(0, out.length), 'a prefix of what was pushed, in order');
  }
});

test.run();
