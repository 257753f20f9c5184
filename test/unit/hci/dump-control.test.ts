/** HciDump beyond the record bytes: log control, packet limits, clocks, ISO, bad arguments, I/O errors, FIFOs, fuzz. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HciDump, HciDumpMemorySink } from '../../../src/hci/dump.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { fromHex } from '../../../src/core/bytes.js';
import { checkCapture, assertCleanCapture, tsharkFields, btmonText, readCapture } from '../../helpers/capture.js';
import { ACL, bytesOf, CMD, EVT, IN, ISO, OUT, SCO, SESSION, stepClock, T0, writeSession } from './dump-session.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-dump-'));
const file = (name: string) => path.join(dir, name);
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('logger sink forwards log lines', async () => {
  const { Logger } = await import('../../../src/core/log.js');
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 0 });
  d.open_sink(sink, 'pklg');
  const log = new Logger();
  log.add_sink(d.log_sink);
  log.info('from the logger');
  assert.is(readCapture(sink.bytes()).records[0]!.note, 'from the logger');
});

// ------------------------------------------------------------------ enable, limit, clock

test('enable_packet_log(false) writes nothing and does not even read the clock', () => {
  const c = stepClock();
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: c.clock });
  d.open_sink(sink, 'pklg');
  d.enable_packet_log(false);
  assert.is(d.active, false);
  writeSession(d);
  assert.is(sink.bytes().length, 0);
  assert.is(c.calls(), 0);
  d.log_message(1, 'log lines still go through');
  assert.is(c.calls(), 1);
  d.enable_packet_log(true);
  writeSession(d, SESSION.slice(0, 1));
  assert.is(d.records_written, 2);
  const recs = readCapture(sink.bytes()).records;
  assert.equal(
    recs.map((r) => r.packet_type),
    [0, CMD],
  );
});

test('no log open: log_packet and log_message are no-ops', () => {
  const c = stepClock();
  const d = new HciDump({ now_us: c.clock });
  writeSession(d);
  d.log_message(1, 'x');
  assert.is(c.calls(), 0);
  assert.is(d.is_open, false);
  assert.is(d.format, null);
});

test('set_max_packets restarts the file with a fresh header (BTstack reset); notes do not count', () => {
  const f = file('limit.btsnoop');
  const d = new HciDump({ now_us: stepClock().clock });
  d.open(f, 'btsnoop');
  d.set_max_packets(3);
  writeSession(d, SESSION.slice(0, 5)); // 1..3 written, 4th restarts: file holds 4 and 5
  d.close();
  assert.is(d.restarts, 1);
  const b = fs.readFileSync(f);
  assert.equal(Array.from(b.subarray(0, 8)), [0x62, 0x74, 0x73, 0x6e, 0x6f, 0x6f, 0x70, 0x00]);
  assert.is(b.length, 16 + (24 + 13) + (24 + 14));
  assert.is(b[16 + 24], 0x04, 'first record is now the 4th packet (an event)');
  assert.equal(Array.from(b.subarray(16 + 25, 16 + 28)), [0x0e, 0x0a, 0x01]);
  const r = assertCleanCapture(f);
  assert.is(r.frames, 2);
});

test('set_max_packets with a pklg sink calls reset(); stop mode drops and counts', () => {
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 0 });
  d.open_sink(sink, 'pklg');
  d.set_max_packets(2);
  d.log_message(1, 'notes are not packets');
  writeSession(d, SESSION.slice(0, 3));
  assert.is(sink.resets, 1);
  assert.equal(
    readCapture(sink.bytes()).records.map((r) => r.data[0]),
    [0x09],
  ); // Read BD_ADDR only

  const stop = new HciDumpMemorySink();
  const e = new HciDump({ now_us: () => 0 });
  e.open_sink(stop, 'btsnoop');
  e.set_max_packets(2, 'stop');
  writeSession(e, SESSION.slice(0, 5));
  assert.is(stop.resets, 0);
  assert.is(e.packets_dropped, 3);
  assert.equal(readCapture(stop.bytes()).records.length, 2);

  // a plain function sink cannot be reset: the limit stops it
  const chunks: number[] = [];
  const g = new HciDump({ now_us: () => 0 });
  g.open_sink((bytes) => chunks.push(bytes.length), 'pklg');
  g.set_max_packets(1);
  writeSession(g, SESSION.slice(0, 3));
  assert.equal(chunks, [16]);
  assert.is(g.packets_dropped, 2);
  assert.throws(() => g.set_max_packets(1, 'rotate' as never), TypeError);
});

test('deterministic timestamps from the virtual run loop: identical files, tshark reads the virtual time', () => {
  const make = (name: string) => {
    const loop = new VirtualRunLoop();
    const d = new HciDump({ now_us: () => loop.get_time_ms() * 1000 });
    const f = file(name);
    d.open(f, 'btsnoop');
    for (const [t, inc, h] of SESSION) {
      const p = fromHex(h.replace(/\s+/g, ''));
      d.log_packet(t, inc, p, p.length);
      loop.advance(1500);
    }
    d.close();
    return fs.readFileSync(f);
  };
  const a = make('virt-a.btsnoop');
  const b = make('virt-b.btsnoop');
  assert.ok(a.equals(b));
  // first record at virtual time 0: the timestamp is the btsnoop epoch offset itself
  assert.equal(Array.from(a.subarray(32, 40)), [0x00, 0xdc, 0xdd, 0xb3, 0x0f, 0x2f, 0x80, 0x00]);
  // second at 1.5 s: 0x00dcddb30f2f8000 + 1500000 = 0x00dcddb30f466360
  assert.equal(Array.from(a.subarray(44 + 16, 44 + 24)), [0x00, 0xdc, 0xdd, 0xb3, 0x0f, 0x46, 0x63, 0x60]);
  const times = tsharkFields(file('virt-a.btsnoop'), ['frame.time_epoch']).map((r) => r[0]);
  assert.equal(times.slice(0, 3), ['0.000000000', '1.500000000', '3.000000000']);
});

test('bigint clock and pklg time split', () => {
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 4_294_971_336_196_101n }); // 0x000f4240_f0d08005 us
  d.open_sink(sink, 'btsnoop');
  const p = fromHex('030c00');
  d.log_packet(CMD, OUT, p, 3);
  // 0x000f4240_f0d08005 + 0x00dcddb3_0f2f8000: low words overflow (0x1_00000005), carry into high = 0x00ec1ff4_00000005
  assert.equal(Array.from(sink.bytes().subarray(32, 40)), [0x00, 0xec, 0x1f, 0xf4, 0x00, 0x00, 0x00, 0x05]);
  const s2 = new HciDumpMemorySink();
  const e = new HciDump({ now_us: () => 12_345_678_901n });
  e.open_sink(s2, 'pklg');
  e.log_packet(CMD, OUT, p, 3);
  // 12345 s = 0x3039, 678901 us = 0x000a5bf5
  assert.equal(Array.from(s2.bytes().subarray(4, 12)), [0, 0, 0x30, 0x39, 0x00, 0x0a, 0x5b, 0xf5]);
});

// ------------------------------------------------------------------ ISO, bad arguments, I/O errors

test('ISO: btsnoop writes H4 type 5 (tshark decodes it; btmon skips it, and the checker allows that); pklg writes a note', () => {
  // ISO handle 0x0001, PB 10 (complete SDU), TS 0, data load 8: seq 1, SDU length 4, 4 bytes
  const iso = fromHex('01200800 0100 0400 01020304'.replace(/ /g, ''));
  const f = file('iso.btsnoop');
  const d = new HciDump({ now_us: stepClock().clock });
  d.open(f, 'btsnoop');
  writeSession(d, SESSION.slice(0, 2));
  d.log_packet(ISO, OUT, iso, iso.length);
  d.close();
  const r = assertCleanCapture(f);
  assert.is(r.frames, 3);
  assert.is(r.btmonFrames, 2);
  assert.equal(
    tsharkFields(f, ['bthci_iso.chandle', 'bthci_iso_data.packet_seq_num', 'bthci_iso_data.sdu_length'], 'bthci_iso'),
    [['0x0001', '1', '4']],
  );
  const b = fs.readFileSync(f);
  assert.equal(Array.from(b.subarray(b.length - 13)), [0x05, ...iso]);
  assert.equal(Array.from(b.subarray(b.length - 13 - 24, b.length - 13 - 12)), [0, 0, 0, 13, 0, 0, 0, 13, 0, 0, 0, 0]);

  const g = file('iso.pklg');
  const e = new HciDump({ now_us: stepClock().clock });
  e.open(g, 'pklg');
  e.log_packet(ISO, IN, iso, iso.length);
  e.close();
  assertCleanCapture(g);
  assert.equal(tsharkFields(g, ['packetlogger.info']), [['ISO in: handle 0x0001 pb 2 ts 0 data_load_length 8']]);
});

test('bad arguments never throw into the stack: unknown types ignored, len clamped', () => {
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 0 });
  d.open_sink(sink, 'btsnoop');
  const p = fromHex('030c00');
  d.log_packet(0, OUT, p, 3);
  d.log_packet(6, OUT, p, 3);
  d.log_packet(0xff, OUT, p, 3);
  assert.is(d.records_written, 0);
  d.log_packet(CMD, OUT, p, 99); // len beyond the array: only the real bytes
  d.log_packet(CMD, OUT, p, -1);
  d.log_packet(CMD, OUT, p, NaN);
  const recs = readCapture(sink.bytes()).records;
  assert.equal(
    recs.map((r) => r.data.length),
    [3, 0, 3],
  );
  assert.throws(() => d.open_sink(sink, 'bluez' as never), TypeError);
  assert.throws(() => d.open(file('x'), 'hcidump' as never), TypeError);
  assert.throws(() => d.open_sink(sink, 1), TypeError, 'HCI_DUMP_BLUEZ is not supported');
  // BTstack's HCI_DUMP_PACKETLOGGER = 2 and HCI_DUMP_BTSNOOP = 3 work for ported code
  d.open_sink(sink, 2);
  assert.is(d.format, 'pklg');
  d.open_sink(sink, 3);
  assert.is(d.format, 'btsnoop');
});

test('I/O errors: open failure returns errno; a failing write closes the log and reports once', () => {
  const errors: Error[] = [];
  const d = new HciDump({ now_us: () => 0, on_error: (e) => errors.push(e) });
  assert.is(d.open(path.join(dir, 'no-such-dir', 'x.pklg'), 'pklg'), 2); // ENOENT
  assert.is(errors.length, 1);
  assert.is(d.is_open, false);

  if (fs.existsSync('/dev/full')) {
    const e2: Error[] = [];
    const full = new HciDump({ now_us: () => 0, on_error: (e) => e2.push(e) });
    assert.is(full.open('/dev/full', 'btsnoop'), 5); // header write fails: ENOSPC, reported, closed
    assert.is(e2.length, 1);
    assert.match(e2[0]!.message, /ENOSPC/);
    assert.is(full.is_open, false);
  }

  const e3: Error[] = [];
  let calls = 0;
  const x = new HciDump({ now_us: () => 0, on_error: (e) => e3.push(e) });
  x.open_sink(() => {
    calls++;
    throw new Error('disk gone');
  }, 'pklg');
  writeSession(x);
  x.log_message(1, 'still fine');
  assert.is(calls, 1, 'the log closed after the first failure');
  assert.equal(
    e3.map((e) => e.message),
    ['disk gone'],
  );
  assert.is(x.active, false);

  // a throwing on_error callback and a throwing clock do not escape either
  const y = new HciDump({
    now_us: () => {
      throw new Error('clock');
    },
    on_error: () => {
      throw new Error('cb');
    },
  });
  y.open_sink(() => {
    throw new Error('w');
  }, 'pklg');
  y.log_packet(CMD, OUT, fromHex('030c00'), 3);
  assert.is(y.is_open, false);
});

test('a FIFO works (live capture: wireshark -k -i FIFO); no seeking on it', async () => {
  const { spawn, spawnSync } = await import('node:child_process');
  const fifo = file('live.fifo');
  if (spawnSync('mkfifo', [fifo]).status !== 0) return; // no mkfifo: nothing to test here
  const out = file('live-copy.btsnoop');
  const reader = spawn('sh', ['-c', 'cat "$0" > "$1"', fifo, out]);
  const done = new Promise((resolve) => reader.on('exit', resolve));
  const d = new HciDump({ now_us: stepClock().clock, on_error: (e) => assert.unreachable(e.message) });
  assert.is(d.open(fifo, 'btsnoop'), 0); // blocks until cat opens the other end
  writeSession(d);
  d.close();
  assert.is(await done, 0);
  const r = assertCleanCapture(out);
  assert.is(r.frames, SESSION.length);
});

test('close() closes the sink, and the dump can be reopened', () => {
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 0 });
  d.open_sink(sink, 'pklg');
  d.close();
  d.close();
  assert.ok(sink.closed);
  const f = file('reopen.btsnoop');
  assert.is(d.open(f, 'btsnoop'), 0);
  assert.is(d.format, 'btsnoop');
  writeSession(d, SESSION.slice(0, 2));
  d.close();
  assertCleanCapture(f);
});

// ------------------------------------------------------------------ fuzz

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('fuzz: random packets and arguments never throw; every accepted packet is one record', () => {
  const rnd = prng(0xb75);
  for (const fmt of ['btsnoop', 'pklg'] as const) {
    const sink = new HciDumpMemorySink();
    const d = new HciDump({ now_us: () => Math.floor(rnd() * 2 ** 52) });
    d.open_sink(sink, fmt);
    const expect: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      const type = Math.floor(rnd() * 8);
      const n = Math.floor(rnd() * (rnd() < 0.05 ? 5000 : 64));
      const p = new Uint8Array(n);
      for (let j = 0; j < n; j++) p[j] = Math.floor(rnd() * 256);
      const len = rnd() < 0.1 ? Math.floor(rnd() * 2 * n) - 2 : n;
      d.log_packet(type, rnd() < 0.5 ? 1 : 0, p, len);
      if (type >= 1 && type <= 5 && !(fmt === 'pklg' && type === 5)) {
        expect.push(p.subarray(0, Math.max(0, Math.min(len, n))));
      } else if (type === 5) expect.push(new Uint8Array(0)); // the note: contents checked below by count only
    }
    const parsed = readCapture(sink.bytes());
    assert.is(parsed.records.length, expect.length, fmt);
    for (let i = 0; i < expect.length; i++) {
      if (parsed.records[i]!.packet_type === 0) continue;
      assert.ok(Buffer.from(parsed.records[i]!.data).equals(Buffer.from(expect[i]!)), `${fmt} record ${i + 1}`);
    }
  }
});

test('fuzz: readCapture never throws on random or mutated files', () => {
  const rnd = prng(0xca9);
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: stepClock().clock });
  d.open_sink(sink, 'btsnoop');
  writeSession(d);
  const goodSnoop = sink.bytes();
  const s2 = new HciDumpMemorySink();
  d.open_sink(s2, 'pklg');
  writeSession(d);
  d.log_message(1, 'note');
  const goodPklg = s2.bytes();
  assert.equal(readCapture(goodSnoop).problems, []);
  assert.equal(readCapture(goodPklg).problems, []);
  let flagged = 0;
  for (let i = 0; i < 2000; i++) {
    const base =
      i % 3 === 0
        ? goodSnoop
        : i % 3 === 1
          ? goodPklg
          : new Uint8Array(Math.floor(rnd() * 200)).map(() => Math.floor(rnd() * 256));
    const b = base.slice(0, Math.floor(rnd() * (base.length + 1)));
    for (let k = Math.floor(rnd() * 4); k > 0 && b.length > 0; k--) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const r = readCapture(b);
    assert.type(r.problems.length, 'number');
    if (r.problems.length > 0) flagged++;
  }
  assert.ok(flagged > 1000, `most damaged files are flagged (${flagged})`);
});

test.run();
