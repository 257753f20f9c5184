import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from '../../../src/core/bytes.js';
import { H4Deframer, h4_encode, h4_size, type H4DeframerOptions } from '../../../src/hci/h4.js';

// Byte vectors worked out by hand from the Core spec (Vol 4, Part A, 2 and Part E, 5.4):
// H4 type byte, then the HCI packet.
const RESET_CMD = '01 03 0c 00'; // HCI_Reset, opcode 0x0C03, no parameters
const RESET_COMPLETE = '04 0e 04 01 03 0c 00'; // Command Complete, 1 credit, opcode 0x0C03, status 0
// ACL handle 0x001, PB=10 (first automatically flushable), BC=00 -> 0x2001; 5 bytes: L2CAP len 1, CID 4, 0xAA
const ACL = '02 01 20 05 00 01 00 04 00 aa';
const SCO = '03 01 00 03 11 22 33'; // handle 1, 3 bytes
const ISO = '05 01 00 04 00 de ad be ef'; // handle 1, ISO_Data_Load_Length 4
const ALL = [RESET_CMD, RESET_COMPLETE, ACL, SCO, ISO];

type Got = { type: number; bytes: string };

function collector(opts: Partial<H4DeframerOptions> = {}) {
  const packets: Got[] = [];
  const errors: string[] = [];
  const d = new H4Deframer({
    on_packet: (type, packet, size) => packets.push({ type, bytes: hex(packet, size) }),
    on_error: (m) => errors.push(m),
    ...opts,
  });
  return { d, packets, errors };
}

/** Expected delivery for an H4 vector: type byte and the rest. */
function expected(vector: string): Got {
  const b = fromHex(vector);
  return { type: b[0]!, bytes: hex(b.subarray(1)) };
}

function concat(vectors: string[]): Uint8Array {
  return fromHex(vectors.join(' '));
}

/** Small seeded PRNG (mulberry32) so fuzz runs are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('each packet type 1-5 is delivered with its type and without the H4 byte', () => {
  for (const v of ALL) {
    const { d, packets, errors } = collector();
    d.feed(fromHex(v));
    assert.equal(packets, [expected(v)], v);
    assert.equal(errors, []);
    assert.is(d.in_packet, false);
  }
});

test('five packets in one chunk arrive in order', () => {
  const { d, packets, errors } = collector();
  d.feed(concat(ALL));
  assert.equal(packets, ALL.map(expected));
  assert.equal(errors, []);
});

test('a stream split at every byte boundary (two chunks) delivers the same packets', () => {
  const all = concat(ALL);
  for (let cut = 0; cut <= all.length; cut++) {
    const { d, packets, errors } = collector();
    d.feed(all.subarray(0, cut));
    d.feed(all.subarray(cut));
    assert.equal(packets, ALL.map(expected), `cut at ${cut}`);
    assert.equal(errors, []);
  }
});

test('a stream split at every pair of boundaries (three chunks) and byte by byte', () => {
  const all = concat(ALL);
  for (let a = 0; a <= all.length; a++) {
    for (let b = a; b <= all.length; b++) {
      const { d, packets, errors } = collector();
      d.feed(all.subarray(0, a));
      d.feed(all.subarray(a, b));
      d.feed(all.subarray(b));
      assert.equal(packets, ALL.map(expected), `cuts at ${a},${b}`);
      assert.equal(errors, []);
    }
  }
  const { d, packets } = collector();
  for (let i = 0; i < all.length; i++) d.feed(all.subarray(i, i + 1));
  assert.equal(packets, ALL.map(expected));
});

test('feed honours offset and length', () => {
  const { d, packets } = collector();
  const buf = fromHex('ff ff ' + RESET_COMPLETE + ' ee');
  d.feed(buf, 2, 7);
  assert.equal(packets, [expected(RESET_COMPLETE)]);
});

test('offset/length past the chunk are clamped, never read undefined bytes', () => {
  const { d, packets, errors } = collector();
  const buf = fromHex(RESET_COMPLETE);
  d.feed(buf, 0, 100); // length too long: only the real bytes count
  d.feed(buf, 50, 3); // offset past the end: nothing
  d.feed(buf, -3, 0);
  assert.equal(packets, [expected(RESET_COMPLETE)]);
  assert.equal(errors, []);
});

test('zero-length payloads complete on the header', () => {
  const zero = [
    '01 03 0c 00', // command without parameters
    '02 01 20 00 00', // ACL, length 0
    '03 01 00 00', // SCO, length 0
    '04 ff 00', // vendor event, no parameters
    '05 01 00 00 00', // ISO, length 0
  ];
  const { d, packets, errors } = collector();
  for (const z of zero) {
    const before = packets.length;
    d.feed(fromHex(z));
    assert.is(packets.length, before + 1, z);
  }
  assert.equal(packets, zero.map(expected));
  assert.equal(errors, []);
});

test('ISO length uses 14 bits (RFU bits 14-15 ignored)', () => {
  const { d, packets, errors } = collector();
  d.feed(fromHex('05 01 00 02 c0 aa bb 04 0e 04 01 03 0c 00'));
  assert.equal(packets, [{ type: 5, bytes: '01 00 02 c0 aa bb' }, expected(RESET_COMPLETE)]);
  assert.equal(errors, []);
});

test('ACL length above the limit is a framing error; next packet is delivered', () => {
  const { d, packets, errors } = collector({ limits: { max_acl: 27 } });
  d.feed(fromHex('02 01 20 1b 00')); // 27: at the limit, payload pending
  assert.is(d.in_packet, true);
  d.feed(new Uint8Array(27));
  assert.is(packets.length, 1);
  assert.is(packets[0]!.bytes.split(' ').length, 4 + 27);
  d.feed(fromHex('02 01 20 1c 00')); // 28: above
  assert.is(errors.length, 1);
  assert.match(errors[0]!, /length 28 above limit/);
  assert.is(d.in_packet, false);
  assert.is(d.errors, 1);
  d.feed(fromHex(RESET_COMPLETE));
  assert.equal(packets.slice(1), [expected(RESET_COMPLETE)]);
});

test('every type has its own limit', () => {
  const over = [
    ['01 03 0c 05', { max_command: 4 }],
    ['03 01 00 05', { max_sco: 4 }],
    ['04 0e 05', { max_event: 4 }],
    ['05 01 00 05 00', { max_iso: 4 }],
  ] as const;
  for (const [v, limits] of over) {
    const { d, packets, errors } = collector({ limits });
    d.feed(fromHex(v));
    assert.is(errors.length, 1, v);
    assert.is(packets.length, 0);
    d.feed(fromHex(RESET_COMPLETE));
    assert.equal(packets, [expected(RESET_COMPLETE)], v);
  }
});

test('default ACL limit: every length H4 can express (4097, 10000, 65535 data bytes) is accepted', () => {
  const { d, packets, errors } = collector();
  for (const len of [4097, 10000, 65535]) {
    d.feed(Uint8Array.of(0x02, 0x01, 0x20, len & 0xff, len >> 8));
    d.feed(new Uint8Array(len).fill(len & 0xff));
  }
  assert.equal(errors, []);
  assert.equal(
    packets.map((p) => p.bytes.split(' ').length),
    [4 + 4097, 4 + 10000, 4 + 65535],
  );
  assert.is(d.limits.max_acl, 65535);
});

test('a framing error says where: stream byte position of the type byte, length, limit, error count', () => {
  const infos: unknown[] = [];
  const errors: string[] = [];
  const d = new H4Deframer({
    accept: [2, 3, 4, 5],
    limits: { max_acl: 27 },
    on_packet: () => {},
    on_error: (m, info) => (errors.push(m), infos.push(info)),
  });
  d.feed(fromHex(RESET_COMPLETE)); // bytes 0-6
  d.feed(fromHex('02 01')); // type byte at position 7, header split across reads
  d.feed(fromHex('20 1c 00')); // length 28 > 27
  assert.equal(infos, [{ position: 7, packet_type: 2, length: 28, limit: 27, errors: 1 }]);
  assert.is(errors[0], 'H4 packet type 2: length 28 above limit 27 at stream byte 7 (framing error 1, 1 packets before)');
  d.feed(Uint8Array.of(0x7f)); // position 12
  assert.equal(infos[1], { position: 12, packet_type: 0x7f, length: -1, limit: -1, errors: 2 });
  assert.match(errors[1]!, /^unknown H4 packet type 0x7f at stream byte 12 \(framing error 2/);
  assert.is(d.bytes_fed, 13);
});

test('unknown type byte is reported (not thrown) and the deframer resyncs', () => {
  for (const bad of [0x00, 0x06, 0x7f, 0xff]) {
    const { d, packets, errors } = collector();
    d.feed(Uint8Array.of(bad));
    assert.is(errors.length, 1);
    assert.match(errors[0]!, `unknown H4 packet type 0x${bad.toString(16).padStart(2, '0')}`);
    d.feed(fromHex(RESET_COMPLETE));
    assert.equal(packets, [expected(RESET_COMPLETE)]);
  }
});

test('host side (accept 2,3,4,5) reports an incoming command as a framing error', () => {
  const { d, packets, errors } = collector({ accept: [2, 3, 4, 5] });
  d.feed(fromHex(RESET_CMD));
  // 0x01 is refused; 0x03 (SCO) then starts a packet from the remaining bytes
  assert.is(errors.length >= 1, true);
  assert.match(errors[0]!, /unknown H4 packet type 0x01/);
  d.reset();
  d.feed(fromHex(ACL + ' ' + RESET_COMPLETE));
  assert.equal(packets.slice(-2), [expected(ACL), expected(RESET_COMPLETE)]);
});

test('reset() drops a partial packet', () => {
  const { d, packets, errors } = collector();
  d.feed(fromHex('04 0e 04 01 03')); // partial event
  assert.is(d.in_packet, true);
  d.reset();
  assert.is(d.in_packet, false);
  d.feed(fromHex(SCO));
  assert.equal(packets, [expected(SCO)]);
  assert.equal(errors, []);
});

test('bad limits are a programmer error (TypeError)', () => {
  assert.throws(() => new H4Deframer({ on_packet: () => {}, limits: { max_acl: -1 } }), TypeError);
  assert.throws(() => new H4Deframer({ on_packet: () => {}, limits: { max_event: Number.NaN } }), TypeError);
});

test('h4_encode writes the type byte and packet; too-small buffer gives 0', () => {
  const out = new Uint8Array(8).fill(0xee);
  const pkt = fromHex('03 0c 00');
  assert.is(h4_encode(1, pkt, 3, out, 2), 4);
  assert.is(hex(out), 'ee ee 01 03 0c 00 ee ee');
  assert.is(h4_size(3), 4);
  assert.is(h4_encode(1, pkt, 3, new Uint8Array(3)), 0);
  assert.is(h4_encode(1, pkt, 3, out, 5), 0);
});

test('fuzz: valid packet stream in random chunks is delivered exactly', () => {
  const rnd = prng(0x4b1d);
  const vectors: string[] = [];
  const stream: number[] = [];
  for (let n = 0; n < 2000; n++) {
    const t = 2 + Math.floor(rnd() * 4); // host side: 2..5
    const len = Math.floor(rnd() * (t === 2 ? 300 : t === 5 ? 300 : 256));
    const head =
      t === 2
        ? [0x01, 0x20, len & 0xff, len >> 8]
        : t === 3
          ? [0x01, 0x00, len]
          : t === 4
            ? [0x3e, len]
            : [0x01, 0x00, len & 0xff, len >> 8];
    const body = Array.from({ length: len }, () => Math.floor(rnd() * 256));
    const bytes = [t, ...head, ...body];
    vectors.push(hex(Uint8Array.from(bytes)));
    stream.push(...bytes);
  }
  const all = Uint8Array.from(stream);
  const { d, packets, errors } = collector({ accept: [2, 3, 4, 5] });
  let i = 0;
  while (i < all.length) {
    const n = 1 + Math.floor(rnd() * 700);
    d.feed(all.subarray(i, i + n));
    i += n;
  }
  assert.equal(errors, []);
  assert.is(packets.length, vectors.length);
  assert.equal(packets, vectors.map(expected));
});

test('fuzz: 100k random chunks of garbage never throw, stay bounded, and recover after reset()', () => {
  const rnd = prng(20240601);
  const limits = { max_acl: 1021, max_iso: 512 };
  let lastBuf: Uint8Array | null = null;
  let sameBuffer = true;
  let delivered = 0;
  let badShape = 0;
  let errorsSeen = 0;
  let afterReset = false;
  const got: Got[] = [];
  const d = new H4Deframer({
    limits,
    accept: [2, 3, 4, 5],
    on_packet: (type, packet, size) => {
      if (afterReset) got.push({ type, bytes: hex(packet, size) });
      delivered++;
      if (lastBuf && packet !== lastBuf) sameBuffer = false;
      lastBuf = packet;
      // every delivered packet is self-consistent: header length matches size, within limits
      let want: number;
      if (type === 2) want = 4 + (packet[2]! | (packet[3]! << 8));
      else if (type === 3) want = 3 + packet[2]!;
      else if (type === 4) want = 2 + packet[1]!;
      else if (type === 5) want = 4 + ((packet[2]! | (packet[3]! << 8)) & 0x3fff);
      else want = -1;
      if (want !== size || (type === 2 && size > 4 + 1021) || (type === 5 && size > 4 + 512)) badShape++;
    },
    on_error: () => errorsSeen++,
  });
  const scratch = new Uint8Array(2048);
  for (let n = 0; n < 100_000; n++) {
    const len = Math.floor(rnd() * 64);
    const mode = rnd();
    for (let i = 0; i < len; i++) {
      // mostly plausible type bytes and small lengths, sometimes pure noise
      scratch[i] = mode < 0.5 ? Math.floor(rnd() * 256) : [2, 3, 4, 5, 0, 0, 1, 0xff][Math.floor(rnd() * 8)]!;
    }
    d.feed(scratch, 0, len);
  }
  assert.ok(errorsSeen > 1000, 'garbage produced framing errors');
  assert.ok(delivered > 100, 'some plausible packets formed');
  assert.is(badShape, 0);
  assert.ok(sameBuffer, 'one fixed buffer, no per-packet allocation');
  assert.is(d.errors, errorsSeen);

  // After reset, a valid stream fed to the same instance byte by byte is delivered intact.
  d.reset();
  afterReset = true;
  const valid = concat([RESET_COMPLETE, ACL, SCO, ISO]);
  for (let i = 0; i < valid.length; i++) d.feed(valid, i, 1);
  assert.equal(got, [RESET_COMPLETE, ACL, SCO, ISO].map(expected));
  assert.is(d.errors, errorsSeen, 'no new errors');
});

test.run();
