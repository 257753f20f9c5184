/**
 * No view per frame on RFCOMM's hot paths: received data is handed up as a view into the L2CAP
 * buffer made once per (buffer, header size), as BTstack passes a pointer into its L2CAP buffer;
 * rfcomm_send copies without making a view per frame. The ViewCache behind both.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADDR_B, auto_accept, fr, make_pair, make_raw, open_with_raw } from './rfcomm-helpers.js';

/** Count Uint8Array#subarray calls made from src/rfcomm while `fn` runs. */
function rfcommSubarrayCalls(fn: () => void): number {
  const proto = Uint8Array.prototype as unknown as { subarray: (this: Uint8Array, a?: number, b?: number) => Uint8Array };
  const orig = proto.subarray;
  let n = 0;
  proto.subarray = function (this: Uint8Array, a?: number, b?: number): Uint8Array {
    if (/[\\/]src[\\/]rfcomm[\\/]/.test(new Error().stack ?? '')) n++;
    return orig.call(this, a, b);
  };
  try {
    fn();
  } finally {
    proto.subarray = orig;
  }
  return n;
}

// ViewCache itself is tested in test/unit/core/span.test.ts; here: RFCOMM's use of it.

test('receive: data frames from one L2CAP buffer come up as the same view per header size, with the right octets', () => {
  const { loop, a, p } = make_raw('v1.4');
  a.l2cap.rx_buffer = new Uint8Array(2048);
  open_with_raw(loop, a, p, { credit: true, k: 7, n1: 400 });
  const payload = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);
  // header sizes: 3 (short, no credits), 4 (short + credits / long), 5 (long + credits)
  const frames = [
    { f: fr(0x09, 0xef, payload(10, 1)), info: payload(10, 1) },
    { f: fr(0x09, 0xff, payload(20, 2), 3), info: payload(20, 2) },
    { f: fr(0x09, 0xef, payload(300, 3)), info: payload(300, 3) },
    { f: fr(0x09, 0xff, payload(200, 4), 1), info: payload(200, 4) },
  ];
  const calls = rfcommSubarrayCalls(() => {
    for (let round = 0; round < 25; round++) {
      for (const { f } of frames) p.send(f);
      loop.run(10);
    }
  });
  const data = a.data();
  assert.is(data.length, 100, 'every frame delivered');
  for (let i = 0; i < data.length; i++) assert.equal(Array.from(data[i]!.bytes), frames[i % 4]!.info, `frame ${i} octets`);
  assert.ok(calls <= 3, `views made in src/rfcomm: ${calls} for 100 frames (one per header size at most)`);
});

test('receive: the handler gets one object per header size (a view from the payload on, size octets valid)', () => {
  const { loop, a, p } = make_raw('v1.4');
  a.l2cap.rx_buffer = new Uint8Array(1024);
  p.listen();
  const objs: Uint8Array[] = [];
  const sizes: number[] = [];
  const firsts: number[] = [];
  const cid = a.rfcomm.rfcomm_create_channel(
    (type, _ch, packet, size) => {
      a.handler(type, _ch, packet, size);
      if (type === 7) {
        objs.push(packet);
        sizes.push(size);
        firsts.push(packet[0]!);
      }
    },
    ADDR_B,
    1,
  ).rfcomm_cid;
  loop.run(10);
  p.send(fr(0x03, 0x73)); // UA 0
  loop.run(10);
  p.send(fr(0x01, 0xef, [0x81, 0x11, 0x02, 0xe0, 0x00, 0x00, 0x90, 0x01, 0x00, 0x07])); // PN rsp, N1 400, 7 credits
  loop.run(10);
  p.send(fr(0x0b, 0x73)); // UA 2
  loop.run(10);
  p.send(fr(0x01, 0xef, [0xe1, 0x05, 0x0b, 0x8d])); // MSC response
  p.send(fr(0x01, 0xef, [0xe3, 0x05, 0x0b, 0x8d])); // MSC command
  loop.run(10);
  assert.ok(cid > 0);
  for (let k = 0; k < 3; k++) {
    p.send(fr(0x09, 0xef, [0x41, 0x42])); // header 3
    p.send(fr(0x09, 0xff, [0x43], 2)); // header 4
    p.send(fr(0x09, 0xef, new Array(130).fill(0x44))); // header 4 (two-octet length)
    p.send(fr(0x09, 0xff, new Array(140).fill(0x45), 1)); // header 5
    loop.run(10);
  }
  assert.equal(sizes, [2, 1, 130, 140, 2, 1, 130, 140, 2, 1, 130, 140]);
  assert.equal(firsts, [0x41, 0x43, 0x44, 0x45, 0x41, 0x43, 0x44, 0x45, 0x41, 0x43, 0x44, 0x45]);
  const distinct = new Set(objs);
  assert.is(distinct.size, 3, 'one view per header size (3, 4, 5 octets)');
  assert.is(objs[1], objs[2], 'header 4 with credits and with a two-octet length: same offset, same view');
  assert.is(objs[0], objs[4]);
  assert.is(objs[3], objs[11]);
  // a view into L2CAP's buffer from the payload on: the FCS follows the data, as in BTstack's buffer
  assert.is(objs[0]!.buffer, a.l2cap.rx_buffer!.buffer);
  assert.is(objs[0]!.byteOffset, 3);
  assert.is(objs[3]!.byteOffset, 5);
});

test('receive: fresh L2CAP arrays every time still deliver the right octets', () => {
  const { loop, a, p } = make_raw('v1.4');
  const cid = open_with_raw(loop, a, p, { credit: true, k: 7, n1: 400 });
  for (let i = 0; i < 20; i++) {
    p.send(fr(0x09, 0xef, [i, i + 1, i + 2]));
    loop.run(10); // A's credits are refilled as they run low
  }
  const got = a
    .data()
    .filter((d) => d.channel === cid)
    .map((d) => Array.from(d.bytes));
  assert.equal(
    got,
    Array.from({ length: 20 }, (_, i) => [i, i + 1, i + 2]),
  );
});

test('send (zero-copy L2CAP path): whole arrays, part of one buffer, short parts: no view per frame, octets right', () => {
  const { loop, air, a, b } = make_pair('v1.4');
  b.l2cap.window = 1 << 20;
  b.l2cap.rx_buffer = new Uint8Array(1024);
  a.l2cap.window = 1 << 20;
  auto_accept(b);
  b.rfcomm.rfcomm_register_service(b.handler, 1, 500);
  const cid = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1).rfcomm_cid;
  loop.run(100);
  assert.ok(a.rfcomm.rfcomm_can_send_packet_now(cid), 'open');
  const whole = new Uint8Array(100).map((_, i) => i);
  const big = new Uint8Array(400).map((_, i) => (i * 3) & 0xff);
  const expected: number[][] = [];
  const before = air.sent.length;
  const calls = rfcommSubarrayCalls(() => {
    for (let i = 0; i < 60; i++) {
      const which = i % 3;
      let st: number;
      if (which === 0) {
        whole[0] = i;
        st = a.rfcomm.rfcomm_send(cid, whole);
        expected.push(Array.from(whole));
      } else if (which === 1) {
        big[0] = i;
        st = a.rfcomm.rfcomm_send(cid, big, 300);
        expected.push(Array.from(big.subarray(0, 300)));
      } else {
        big[0] = i;
        st = a.rfcomm.rfcomm_send(cid, big, 7);
        expected.push(Array.from(big.subarray(0, 7)));
      }
      assert.is(st, 0, `send ${i}`);
      loop.run(10);
    }
  });
  // the sender: one for the 300-octet part of the 400-octet array; the receiver: one per header size (3 and 4 octets)
  assert.ok(calls <= 3, `views made in src/rfcomm for 60 frames: ${calls}`);
  const got = b.data().map((d) => Array.from(d.bytes));
  assert.equal(got, expected);
  // the frames on the wire: UIH on DLCI 2 from the initiator (0b ef), length, data, FCS 9a
  const frames = air.sent.slice(before).filter((s) => s.bytes[0] === 0x0b && s.bytes[1] === 0xef);
  assert.is(frames.length, 60);
  assert.equal(Array.from(frames[2]!.bytes), [0x0b, 0xef, 0x0f, ...expected[2]!, 0x9a]);
  assert.equal(Array.from(frames[1]!.bytes.subarray(0, 4)), [0x0b, 0xef, (300 & 0x7f) << 1, 300 >> 7]);
  assert.ok(a.l2cap.prepared_sends >= 60);
});

test.run();
