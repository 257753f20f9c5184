import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from '../../../src/core/bytes.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import {
  H5_LINK_ACTIVE,
  H5_LINK_INITIALIZED,
  H5_LINK_UNINITIALIZED,
  H5Link,
  type H5LinkEvent,
  type H5LinkOptions,
} from '../../../src/hci/h5-link.js';

// Bytes worked out by hand from Core spec Vol 4 Part D (see h5.test.ts for the header/CRC rules):
const SYNC = 'c0 00 2f 00 d0 01 7e c0';
const SYNC_RESPONSE = 'c0 00 2f 00 d0 02 7d c0';
const CONFIG_HOST = 'c0 00 3f 00 db dc 03 fc 14 c0'; // field 0x14: window 4, DIC, no OOF, version 0
const CONFIG_NO_FIELD = 'c0 00 2f 00 d0 03 fc c0'; // length 2: b1 = 2F, b3 = D0
const CONFIG_RESPONSE_11 = 'c0 00 3f 00 db dc 04 7b 11 c0'; // field 0x11: window 1, DIC
const CONFIG_RESPONSE_NO_FIELD = 'c0 00 2f 00 d0 04 7b c0';
// HCI_Reset as reliable command, seq 0 ack 0, DIC: b0 = C0 (escaped DB DC); b1 = 01 | 3<<4 = 31; b2 = 00;
// b3 = FF - (C0 + 31) mod 256 = 0E; DIC over C0 31 00 0E 03 0C 00 = 0x9798 (spec shift register).
const RESET_CMD = 'c0 db dc 31 00 0e 03 0c 00 97 98 c0';
// Pure ACK from the controller, ack 1, no DIC: b0 = 08, b3 = F7.
const ACK_1 = 'c0 08 00 00 f7 c0';
// Command Complete (Reset) as reliable event, seq 0 ack 1, DIC: b0 = C8; b1 = 04 | 6<<4 = 64; b3 = FF - 2C = D3;
// DIC over C8 64 00 D3 0E 04 01 03 0C 00 = 0xB75C.
const RESET_COMPLETE = 'c0 c8 64 00 d3 0e 04 01 03 0c 00 b7 5c c0';
// The host's pure ACK for it, ack 1, with DIC (in use): b0 = 48, b3 = B7; DIC over 48 00 00 B7 = 0x5E8C.
const HOST_ACK_1 = 'c0 48 00 00 b7 5e 8c c0';

function single(opts: Partial<H5LinkOptions> = {}) {
  const loop = new VirtualRunLoop();
  const writes: string[] = [];
  const events: H5LinkEvent[] = [];
  const packets: string[] = [];
  const lines: string[] = [];
  const link = new H5Link({
    run_loop: loop,
    on_write: (b) => writes.push(hex(b)),
    on_packet: (t, p, n) => packets.push(`${t}: ${hex(p, n)}`),
    on_event: (e) => events.push(e),
    log: (l) => lines.push(l),
    ...opts,
  });
  const feed = (s: string) => link.feed(fromHex(s));
  return { loop, link, writes, events, packets, lines, feed };
}

test('host link establishment and a command/event exchange, byte by byte', () => {
  const { loop, link, writes, events, packets, lines, feed } = single();
  link.open();
  assert.equal(writes, [SYNC]);
  loop.advance(250);
  assert.equal(writes, [SYNC, SYNC]); // SYNC repeated every 250 ms while Uninitialized
  feed(SYNC); // the peer's SYNC is answered
  assert.is(writes.at(-1), SYNC_RESPONSE);
  feed(SYNC_RESPONSE);
  assert.is(link.state, H5_LINK_INITIALIZED);
  assert.is(writes.at(-1), CONFIG_HOST);
  loop.advance(250);
  assert.is(writes.at(-1), CONFIG_HOST); // CONFIG repeated while Initialized
  feed(CONFIG_NO_FIELD); // the controller's CONFIG, answered without a field
  assert.is(writes.at(-1), CONFIG_RESPONSE_NO_FIELD);
  feed(CONFIG_RESPONSE_11);
  assert.is(link.state, H5_LINK_ACTIVE);
  assert.equal(events, [{ kind: 'active', config: { window: 1, oof: false, dic: true, version: 0 } }]);
  assert.ok(
    lines.includes('h5 host: INITIALIZED -> ACTIVE (config response: window 1, oof 0, dic 1, version 0)'),
    lines.join('\n'),
  );
  const n = writes.length;
  loop.advance(1000);
  assert.is(writes.length, n, 'no more SYNC/CONFIG once active');

  assert.ok(link.send(1, fromHex('03 0c 00'), 3));
  assert.is(writes.at(-1), RESET_CMD);
  assert.not.ok(link.send(1, fromHex('03 0c 00'), 3), 'window 1 is full');
  loop.advance(250); // no ACK: sent again, same bytes
  assert.is(writes.at(-1), RESET_CMD);
  feed(ACK_1);
  assert.equal(events.at(-1), { kind: 'can_send' });
  assert.is(link.unacked, 0);
  const m = writes.length;
  loop.advance(1000);
  assert.is(writes.length, m, 'acknowledged: no retransmission');
  feed(RESET_COMPLETE);
  assert.equal(packets, ['4: 0e 04 01 03 0c 00']);
  assert.is(writes.at(-1), HOST_ACK_1);
  feed(RESET_COMPLETE); // a repeat (our ACK lost): dropped and acknowledged again
  assert.equal(packets.length, 1);
  assert.is(writes.at(-1), HOST_ACK_1);
  assert.is(link.stats.out_of_order, 1);
});

test('fast retransmission: a pure ACK that moves nothing resends the window at once, once until the window moves', () => {
  const { link, writes, feed } = single();
  link.open();
  feed(SYNC_RESPONSE);
  feed('c0 00 3f 00 db dc 04 7b 14 c0'); // CONFIG RESPONSE field 0x14: window 4, DIC
  assert.is(link.state, H5_LINK_ACTIVE);
  for (let i = 0; i < 3; i++) assert.ok(link.send(1, fromHex('03 0c 00'), 3));
  const sent = writes.slice(-3); // seq 0, 1, 2
  assert.is(sent[0], RESET_CMD);
  feed('c0 00 00 00 ff c0'); // pure ACK, ack 0 (b0 = 00, b3 = FF): the controller got seq 1 or 2 without seq 0
  assert.equal(writes.slice(-3), sent, 'seq 0, 1, 2 again, before any timer');
  assert.is(link.stats.fast_retransmits, 1);
  const n = writes.length;
  feed('c0 00 00 00 ff c0'); // the ACKs of the rest of that window: no second resend
  assert.is(writes.length, n);
  feed(ACK_1); // seq 0 arrived: the window moves, the next pure ACK 1 may resend again
  feed(ACK_1);
  assert.equal(writes.slice(-2), sent.slice(1), 'seq 1 and 2 again');
  assert.is(link.stats.fast_retransmits, 2);
});

test('controller role answers CONFIG with the combination and goes active', () => {
  const { link, writes, events, feed } = single({ role: 'controller', config: { window: 3, dic: true } });
  link.open();
  feed(SYNC_RESPONSE);
  assert.is(writes.at(-1), CONFIG_NO_FIELD);
  feed(CONFIG_RESPONSE_NO_FIELD); // the host's answer before its own CONFIG: not yet active
  assert.is(link.state, H5_LINK_INITIALIZED);
  feed(CONFIG_HOST); // host offers window 4 + DIC -> window 3 + DIC = 0x13
  assert.is(writes.at(-1), 'c0 00 3f 00 db dc 04 7b 13 c0');
  feed(CONFIG_RESPONSE_NO_FIELD);
  assert.is(link.state, H5_LINK_ACTIVE);
  assert.equal(events, [{ kind: 'active', config: { window: 3, oof: false, dic: true, version: 0 } }]);
  // SYNC while active: the host restarted
  feed(SYNC);
  assert.is(link.state, H5_LINK_UNINITIALIZED);
  assert.equal(events.at(-1), { kind: 'reset', reason: 'peer sent SYNC while the link was active (peer restarted)' });
  assert.equal(writes.slice(-2), [SYNC, SYNC_RESPONSE]);
});

/** Small seeded PRNG (mulberry32). */
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

/** Test-side frame sniffer (SLIP + header + DIC from the spec; independent of src/hci/h5.ts). */
function sniffer(onFrame: (f: Uint8Array) => void) {
  const buf = new Uint8Array(5000);
  let n = -1; // -1: hunting
  let esc = false;
  const crc = (b: Uint8Array, len: number) => {
    let r = 0xffff;
    for (let i = 0; i < len; i++) for (let k = 0; k < 8; k++) r = ((r ^ (b[i]! >> k)) & 1 ? 0x8408 : 0) ^ (r >>> 1);
    let o = 0;
    for (let i = 0; i < 16; i++) o |= ((r >> i) & 1) << (15 - i);
    return o;
  };
  return (bytes: Uint8Array) => {
    for (const b of bytes) {
      if (b === 0xc0) {
        if (n >= 4 && !esc && ((buf[0]! + buf[1]! + buf[2]! + buf[3]!) & 0xff) === 0xff) {
          const len = (buf[1]! >> 4) | (buf[2]! << 4);
          const dic = (buf[0]! & 0x40) !== 0;
          if (n === 4 + len + (dic ? 2 : 0) && (!dic || crc(buf, n - 2) === ((buf[n - 2]! << 8) | buf[n - 1]!)))
            onFrame(buf.slice(0, n));
        }
        n = 0;
        esc = false;
      } else if (n < 0) {
        continue;
      } else if (esc) {
        esc = false;
        if (b === 0xdc) buf[n++] = 0xc0;
        else if (b === 0xdd) buf[n++] = 0xdb;
        else n = -1;
      } else if (b === 0xdb) esc = true;
      else if (n < buf.length) buf[n++] = b;
      else n = -1;
    }
  };
}

interface Side {
  link: H5Link;
  name: string;
  write: (bytes: Uint8Array) => void;
  recv: (type: number, packet: Uint8Array, size: number) => void;
  pump: () => void;
  sent: number; // packets accepted by send()
  got: number; // packets delivered in order
  events: H5LinkEvent[];
}

/** Payload of packet i of a stream: 4-byte index then bytes derived from it. */
function payload(stream: number, i: number, size: number, out: Uint8Array): number {
  out[0] = i & 0xff;
  out[1] = (i >> 8) & 0xff;
  out[2] = (i >> 16) & 0xff;
  out[3] = stream;
  for (let k = 4; k < size; k++) out[k] = (i * 31 + k * 7 + stream) & 0xff;
  return size;
}

function pair(seed: number, loss: number, total: number, window = 7) {
  const loop = new VirtualRunLoop();
  const rnd = prng(seed);
  const sizeOf = (stream: number, i: number) => 4 + (((i * 2654435761 + stream * 97) >>> 0) % 97); // 4..100
  const mkSide = (name: string, role: 'host' | 'controller', stream: number): Side => {
    const side: Side = {
      link: undefined as unknown as H5Link,
      name,
      write: () => {},
      recv: () => {},
      pump: () => {},
      sent: 0,
      got: 0,
      events: [],
    };
    const out = new Uint8Array(200);
    const pump = () => {
      while (side.sent < total) {
        const n = payload(stream, side.sent, sizeOf(stream, side.sent), out);
        if (!side.link.send(2, out, n)) break;
        side.sent++;
      }
    };
    side.pump = pump;
    side.link = new H5Link({
      run_loop: loop,
      role,
      config: { window, dic: true },
      on_write: (bytes) => side.write(bytes),
      on_packet: (t, p, n) => side.recv(t, p, n),
      on_event: (e) => {
        side.events.push(e);
        if (e.kind === 'active' || e.kind === 'can_send') pump();
      },
    });
    return side;
  };
  const a = mkSide('host', 'host', 1);
  const b = mkSide('controller', 'controller', 2);
  const failures: string[] = [];
  const check = (rx: Side, stream: number) => (type: number, p: Uint8Array, n: number) => {
    const i = p[0]! | (p[1]! << 8) | (p[2]! << 16);
    const exp = new Uint8Array(200);
    const m = payload(stream, rx.got, sizeOf(stream, rx.got), exp);
    if (type !== 2 || p[3] !== stream || i !== rx.got || n !== m || hex(p, n) !== hex(exp, m)) {
      if (failures.length < 5) failures.push(`${rx.name}: got #${i} (${n} bytes) expected #${rx.got}`);
    }
    rx.got++;
  };
  // window check on the wire: what A sends against the acks A has received intact
  let ackSeenByA = 0;
  let windowViolations = 0;
  let maxOutstanding = 0;
  const sniffAout = sniffer((f) => {
    if ((f[0]! & 0x80) === 0) return;
    const outstanding = ((f[0]! & 7) - ackSeenByA) & 7;
    maxOutstanding = Math.max(maxOutstanding, outstanding + 1);
    if (outstanding >= a.link.config.window) windowViolations++;
  });
  const sniffAin = sniffer((f) => {
    if ((f[1]! & 0x0f) !== 0x0f) ackSeenByA = (f[0]! >> 3) & 7;
  });
  const line = (from: Side, to: Side, sniffOut?: (b: Uint8Array) => void, sniffIn?: (b: Uint8Array) => void) => {
    return (bytes: Uint8Array) => {
      sniffOut?.(bytes);
      const copy = new Uint8Array(bytes.length);
      let n = 0;
      for (const byte of bytes) {
        const r = rnd();
        if (r < loss / 2) continue; // dropped
        copy[n++] = r < loss ? (byte + 1 + Math.floor(rnd() * 255)) & 0xff : byte; // corrupted / intact
      }
      const chunk = copy.subarray(0, n);
      loop.execute_on_main_thread(() => {
        sniffIn?.(chunk);
        to.link.feed(chunk);
      });
    };
  };
  a.write = line(a, b, sniffAout);
  a.recv = check(a, 2);
  b.write = line(b, a, undefined, sniffAin);
  b.recv = check(b, 1);
  return { loop, a, b, failures, stats: () => ({ windowViolations, maxOutstanding }) };
}

test('two links back to back: 10,000 packets each way with 1 % of bytes dropped or corrupted', () => {
  const total = 10_000;
  const { loop, a, b, failures, stats } = pair(0x5eed, 0.01, total);
  a.link.open();
  b.link.open();
  const done = () => a.got === total && b.got === total;
  assert.ok(loop.run_until(done, 24 * 3600_000), `host got ${a.got}, controller got ${b.got}`);
  assert.equal(failures, []);
  assert.is(a.sent, total);
  assert.is(b.sent, total);
  const s = stats();
  assert.is(s.windowViolations, 0);
  assert.ok(s.maxOutstanding <= 7 && s.maxOutstanding >= 2, `outstanding ${s.maxOutstanding}`);
  assert.ok(a.link.stats.max_in_flight <= 7);
  assert.ok(a.link.stats.retransmits > 10, 'losses forced retransmissions');
  assert.ok(a.link.stats.frames_dropped > 10, 'corruption was detected');
  assert.is(a.events.filter((e) => e.kind === 'reset').length, 0);
  // nothing more is delivered afterwards, and the retransmission timers go quiet
  loop.run_until(() => a.link.unacked === 0 && b.link.unacked === 0, 3600_000);
  loop.advance(10_000);
  assert.is(a.got, total);
  assert.is(b.got, total);
  console.log(
    `  h5: ${total} packets each way, virtual ${(loop.get_time_ms() / 1000).toFixed(0)} s, retransmits ${a.link.stats.retransmits}/${b.link.stats.retransmits}, dropped frames ${a.link.stats.frames_dropped}/${b.link.stats.frames_dropped}`,
  );
});

test('window 2 is respected on the wire', () => {
  const { loop, a, b, failures, stats } = pair(7, 0.005, 500, 2);
  a.link.open();
  b.link.open();
  assert.ok(loop.run_until(() => a.got === 500 && b.got === 500, 3600_000));
  assert.equal(failures, []);
  assert.is(stats().windowViolations, 0);
  assert.is(stats().maxOutstanding, 2);
  assert.is(a.link.config.window, 2);
});

test('peer restart: SYNC while active resets the link, both re-establish and traffic flows again', () => {
  const { loop, a, b, failures } = pair(3, 0, 200);
  a.link.open();
  b.link.open();
  assert.ok(loop.run_until(() => a.got === 200 && b.got === 200, 60_000));
  b.link.restart('controller rebooted'); // the controller comes back up and sends SYNC
  loop.run_until(
    () =>
      a.link.state === H5_LINK_ACTIVE &&
      b.link.state === H5_LINK_ACTIVE &&
      a.events.filter((e) => e.kind === 'active').length === 2,
    60_000,
  );
  assert.equal(
    a.events.filter((e) => e.kind === 'reset'),
    [{ kind: 'reset', reason: 'peer sent SYNC while the link was active (peer restarted)' }],
  );
  assert.is(a.link.stats.resets, 1);
  assert.is(b.events.filter((e) => e.kind === 'active').length, 2);
  // a fresh exchange after the reset: both streams start again from packet 0
  a.got = b.got = 0;
  a.sent = b.sent = 0;
  a.pump();
  b.pump();
  assert.ok(
    loop.run_until(() => a.got === 200 && b.got === 200, 60_000),
    `got ${a.got} ${b.got}`,
  );
  assert.equal(failures, []);
});

test('fuzz: 100,000 random and mutated streams into feed() never throw, buffers stay fixed', () => {
  const rnd = prng(1616);
  const loop = new VirtualRunLoop();
  let delivered = 0;
  let writes = 0;
  const mk = (role: 'host' | 'controller') =>
    new H5Link({
      run_loop: loop,
      role,
      config: { window: 7, oof: (rnd() < 0.5) as boolean, dic: true },
      on_write: () => writes++,
      on_packet: (_t, p, n) => {
        delivered++;
        assert.ok(n <= 4095 && n <= p.length);
      },
    });
  const links = [mk('host'), mk('controller')];
  for (const l of links) l.open();
  const seeds = [
    SYNC,
    SYNC_RESPONSE,
    CONFIG_HOST,
    CONFIG_NO_FIELD,
    CONFIG_RESPONSE_11,
    CONFIG_RESPONSE_NO_FIELD,
    RESET_CMD,
    ACK_1,
    RESET_COMPLETE,
    HOST_ACK_1,
  ].map(fromHex);
  const bytes0 = links.map((l) => l.buffer_bytes);
  const buf = new Uint8Array(600);
  for (let i = 0; i < 100_000; i++) {
    const link = links[i & 1]!;
    let n = 0;
    if (i % 4 === 0) {
      n = 1 + Math.floor(rnd() * 300);
      for (let k = 0; k < n; k++) buf[k] = rnd() < 0.08 ? 0xc0 : rnd() < 0.05 ? 0xdb : Math.floor(rnd() * 256);
    } else {
      const parts = 1 + Math.floor(rnd() * 5);
      for (let p = 0; p < parts; p++) {
        const s = seeds[Math.floor(rnd() * seeds.length)]!;
        buf.set(s, n);
        n += s.length;
      }
      const mutations = Math.floor(rnd() * 3);
      for (let m = 0; m < mutations; m++) buf[Math.floor(rnd() * n)] = Math.floor(rnd() * 256);
    }
    link.feed(buf, 0, n);
    assert.ok(link.unacked <= link.config.window);
    if (i % 1000 === 0) loop.advance(300); // let the timers run too
    if (i % 5000 === 0 && link.state === H5_LINK_ACTIVE) link.send(2, buf, 100);
  }
  assert.equal(
    links.map((l) => l.buffer_bytes),
    bytes0,
  );
  assert.ok(writes > 1000);
  assert.ok(delivered > 100, `delivered ${delivered}`);
  assert.ok(links.some((l) => l.stats.resets > 0));
});

test.run();
