/**
 * Seeded, bounded fuzzing of the HCI parsers that take controller input: ACL reassembly,
 * inquiry results (standard / RSSI / EIR), LE advertising reports, Number Of Completed Packets.
 * Invariants: nothing throws, every delivered ACL packet is one consistent L2CAP PDU, pools
 * never leak, and the stack still works afterwards.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect_classic, connect_le, u16, working } from './hci-script.js';
import { little_endian_read_16, little_endian_store_16 } from '../../../src/core/bytes.js';
import { hci_read_bd_addr } from '../../../src/hci/commands.js';

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

test('ACL reassembly fuzz: random fragment sequences on two links', () => {
  const h = working();
  const a = connect_classic(h, 0x0001, '00:00:00:00:00:01');
  const b = connect_le(h, 0x0002);
  const rnd = prng(42);
  const int = (n: number) => Math.floor(rnd() * n);
  for (let i = 0; i < 30000; i++) {
    const handle = rnd() < 0.45 ? a : rnd() < 0.9 ? b : int(0x1000);
    const pb = int(4);
    const kind = rnd();
    let data: Uint8Array;
    if (kind < 0.5 && pb !== 1) {
      // a plausible start: L2CAP header with a length near the data
      const total = int(400);
      const here = Math.min(total + 4, int(120) + 1);
      data = new Uint8Array(Math.max(here, 0));
      if (data.length >= 2) little_endian_store_16(data, 0, total + (rnd() < 0.2 ? int(5) - 2 : 0));
      if (data.length >= 4) little_endian_store_16(data, 2, 0x0040);
    } else {
      data = new Uint8Array(int(130));
    }
    for (let j = 4; j < data.length; j++) data[j] = int(256);
    const pkt = new Uint8Array(4 + data.length + (rnd() < 0.05 ? int(4) : 0));
    little_endian_store_16(pkt, 0, handle | (pb << 12) | (int(4) << 14));
    little_endian_store_16(pkt, 2, rnd() < 0.03 ? int(0x10000) : data.length);
    pkt.set(data, 4);
    h.t.acl(pkt.subarray(0, rnd() < 0.02 ? int(pkt.length + 1) : pkt.length));
    assert.ok(h.stack.pools.packet_buffers.in_use <= 2, 'at most one reassembly per link');
  }
  for (const d of h.acl) {
    const aclLen = little_endian_read_16(d.bytes, 2);
    const l2capLen = little_endian_read_16(d.bytes, 4);
    assert.ok(d.handle === a || d.handle === b);
    assert.is(d.bytes.length, 4 + aclLen);
    assert.ok(l2capLen + 4 <= aclLen, 'a whole L2CAP PDU (a single-packet PDU may carry trailing bytes)');
  }
  assert.ok(h.acl.length > 100, `some PDUs delivered (${h.acl.length})`);
  h.t.event(`05 04 00 ${u16(a)} 13`);
  h.t.event(`05 04 00 ${u16(b)} 13`);
  assert.ok(h.stack.pools.all_free(), 'reassembly buffers returned when the links go');
});

test('inquiry result / advertising report / NOCP fuzz with valid headers and random bodies', () => {
  const h = working();
  const a = connect_classic(h, 0x0001);
  const rnd = prng(7);
  const int = (n: number) => Math.floor(rnd() * n);
  let gapEvents = 0;
  h.stack.hci.hci_add_event_handler({
    callback: (_t, _c, p, size) => {
      if (p[0] === 0xdb || p[0] === 0xda) {
        gapEvents++;
        assert.is(size, 2 + p[1]!, 'emitted length byte matches');
        if (p[0] === 0xdb) assert.ok(p[26]! <= 32 && size === 27 + p[26]!, 'name within GAP_INQUIRY_MAX_NAME_LEN');
        if (p[0] === 0xda) assert.ok(size === 12 + p[11]! && p[11]! <= 31);
      }
    },
  });
  for (let i = 0; i < 20000; i++) {
    const which = int(5);
    let b: Uint8Array;
    if (which === 0) {
      const n = int(4);
      b = new Uint8Array(3 + n * 14 + (rnd() < 0.3 ? int(5) : 0));
      b[0] = rnd() < 0.5 ? 0x02 : 0x22;
      b[2] = rnd() < 0.8 ? n : int(256);
    } else if (which === 1) {
      b = new Uint8Array(2 + 255);
      b[0] = 0x2f;
      b[2] = rnd() < 0.9 ? 1 : int(3);
      // random EIR structures
      for (let p = 17; p < 257;) {
        const len = int(40);
        b[p] = len;
        b[p + 1] = [0x08, 0x09, 0x10, 0x0a, int(256)][int(5)]!;
        p += len + 1;
      }
    } else if (which === 2) {
      const n = int(4);
      b = new Uint8Array(4 + n * 12 + int(40));
      b[0] = 0x3e;
      b[2] = 0x02;
      b[3] = rnd() < 0.8 ? n : int(256);
      for (let j = 4; j < b.length; j++) b[j] = int(256);
      let p = 4;
      for (let k = 0; k < n && p + 9 < b.length; k++) {
        b[p + 8] = int(35);
        p += 10 + b[p + 8]!;
      }
    } else if (which === 3) {
      const n = int(4);
      b = new Uint8Array(3 + 4 * n + int(3));
      b[0] = 0x13;
      b[2] = rnd() < 0.8 ? n : int(256);
      for (let k = 0; k < n; k++) {
        little_endian_store_16(b, 3 + 4 * k, rnd() < 0.5 ? a : int(0x1000));
        little_endian_store_16(b, 5 + 4 * k, int(10));
      }
    } else {
      b = new Uint8Array(2 + int(60));
      b[0] = 0x3e;
      b[2] = int(16);
    }
    if (which !== 1 && which !== 2 && which !== 3) for (let j = 3; j < b.length; j++) if (rnd() < 0.5) b[j] = int(256);
    b[1] = Math.min(255, b.length - 2);
    h.t.event(b.subarray(0, Math.min(b.length, 2 + b[1]!)));
  }
  assert.ok(gapEvents > 1000, `GAP events emitted (${gapEvents})`);
  assert.is(h.stack.hci.hci_number_free_acl_slots_for_handle(a), 4, 'credits never exceed the controller buffers');
  assert.is(h.stack.hci.hci_get_state(), 2);
  assert.is(h.stack.hci.hci_send_cmd(hci_read_bd_addr), 0);
});

test.run();
