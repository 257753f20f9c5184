import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex } from '../../../src/core/bytes.js';
import { RFCOMM_UIH, RfcommFrame, rfcomm_fcs, rfcomm_frame_decode } from '../../../src/rfcomm/frames.js';
import { RfcommMuxCommand, rfcomm_mux_decode } from '../../../src/rfcomm/mux-commands.js';
import { embed, guarded, mutate, prng, randInt, randomBytes } from './fuzz-util.js';

const SEEDS = [
  '03 3f 01 1c',
  '03 73 01 d7',
  '03 53 01 fd',
  '03 1f 01 36',
  '0b 3f 01 59',
  '03 ef 15 83 11 02 f0 07 00 f0 03 00 07 70',
  '01 ef 15 81 11 02 e0 07 00 7f 00 00 07 aa',
  '03 ef 09 e3 05 0b 8d 70',
  '03 ef 0b e3 07 0b 8c 33 70',
  '03 ef 07 93 03 0b 70',
  '03 ef 15 93 11 0b 07 03 00 11 13 7f 3f 70',
  '03 ef 09 53 05 0b 03 70',
  '03 ef 05 a3 01 70',
  '03 ef 07 11 03 c3 70',
  '03 ef 0d 23 09 01 02 03 04 70',
  '0b ff 05 05 68 69 86',
  '0b ef 05 68 69 9a',
].map(fromHex);

function longFrame(len: number): Uint8Array {
  const b = new Uint8Array(len + 5);
  b.set([0x0b, 0xef, (len & 0x7f) << 1, len >> 7]);
  b[len + 4] = 0x9a;
  return b;
}
SEEDS.push(longFrame(200), longFrame(1000));

const frame = new RfcommFrame();
const mux = new RfcommMuxCommand();

/** Decode one input; returns a snapshot of everything the decoders reported (positions relative). */
function run(buf: Uint8Array, pos: number, len: number, creditFlow: boolean): string {
  const st = rfcomm_frame_decode(buf, pos, len, frame, creditFlow);
  if (st !== 'ok') return st;
  assert.ok(frame.info_pos >= pos && frame.info_pos + frame.info_len < pos + len, 'info inside the frame');
  assert.is(frame.size, len);
  let s = `${st} ${frame.dlci} ${frame.cr} ${frame.type} ${frame.pf} ${frame.credits} ${frame.info_pos - pos} ${frame.info_len}`;
  if (frame.dlci === 0 && frame.type === RFCOMM_UIH) {
    let p = frame.info_pos;
    const end = frame.info_pos + frame.info_len;
    for (let k = 0; k < 8 && p < end; k++) {
      const ms = rfcomm_mux_decode(buf, p, end - p, mux);
      s += ` | ${ms} ${mux.type_octet} ${mux.size ? mux.value_pos - pos : -1} ${mux.value_len} ${mux.dlci} ${mux.max_frame_size} ${mux.modem_status} ${mux.break_signal} ${mux.baud_rate} ${mux.line_status}`;
      if (ms !== 'ok' || mux.size <= 0) break;
      assert.ok(mux.value_pos + mux.value_len <= end, 'mux value inside the field');
      p += mux.size;
    }
  }
  return s;
}

/** Make a mutated frame pass the FCS check so the deeper decoders get exercised. */
function fixFcs(b: Uint8Array): void {
  if (b.length < 4) return;
  const isUih = (b[1]! & 0xef) === RFCOMM_UIH;
  const covered = isUih ? 2 : b[2]! & 1 ? 3 : 4;
  if (covered < b.length) b[b.length - 1] = rfcomm_fcs(b, 0, covered);
}

function check(input: Uint8Array, creditFlow: boolean, guard: boolean, stats: Map<string, number>): void {
  const a = embed(input, 0x00);
  const b = embed(input, 0xff);
  const ra = run(a.buf, a.pos, input.length, creditFlow);
  const rb = run(b.buf, b.pos, input.length, creditFlow);
  assert.is(ra, rb, 'decoders looked outside their range');
  const key = ra.split(' ')[0]!;
  stats.set(key, (stats.get(key) ?? 0) + 1);
  if (guard) {
    const g = guarded(input);
    const rg = run(g.buf, 0, input.length, creditFlow);
    assert.is(g.outside(), 0, 'read past the end of the array');
    assert.is(rg, ra);
  }
}

test('fuzz: 120,000 random and mutated frames never throw and never read outside the frame', () => {
  const rnd = prng(0x07100710);
  const stats = new Map<string, number>();
  let n = 0;
  for (let i = 0; i < 120_000; i++) {
    let input: Uint8Array;
    const r = randInt(rnd, 10);
    if (r < 2) input = randomBytes(rnd, randInt(rnd, 24));
    else {
      input = mutate(rnd, SEEDS[randInt(rnd, SEEDS.length)]!);
      if (r < 7) fixFcs(input);
    }
    check(input, rnd() < 0.8, i % 16 === 0, stats);
    n++;
  }
  assert.ok(n >= 100_000);
  // the mix reached the deep paths, not only the FCS gate
  assert.ok((stats.get('ok') ?? 0) > 10_000, JSON.stringify([...stats]));
  assert.ok((stats.get('bad-fcs') ?? 0) > 1000);
  assert.ok((stats.get('bad-length') ?? 0) > 1000);
});

test('fuzz: 100,000 random and mutated multiplexer command fields', () => {
  const rnd = prng(0xdec0de);
  const muxSeeds = SEEDS.filter((s) => s[1] === 0xef && s[0]! <= 3).map((s) => s.subarray(3, s.length - 1));
  const seen = new Set<string>();
  for (let i = 0; i < 100_000; i++) {
    const input = rnd() < 0.25 ? randomBytes(rnd, randInt(rnd, 16)) : mutate(rnd, muxSeeds[randInt(rnd, muxSeeds.length)]!);
    const once = (buf: Uint8Array, pos: number) => {
      const st = rfcomm_mux_decode(buf, pos, input.length, mux);
      if (st === 'ok') assert.ok(mux.value_pos - pos + mux.value_len <= input.length);
      return `${st} ${mux.type_octet} ${mux.size ? mux.value_pos - pos : -1} ${mux.value_len} ${mux.dlci} ${mux.cl} ${mux.max_frame_size} ${mux.modem_status} ${mux.break_signal} ${mux.flags} ${mux.nsc_type} ${mux.size}`;
    };
    const a = embed(input, 0x00);
    const b = embed(input, 0xff);
    const ra = once(a.buf, a.pos);
    assert.is(once(b.buf, b.pos), ra);
    seen.add(ra.split(' ')[0]!);
    if (i % 16 === 0) {
      const g = guarded(input);
      assert.is(once(g.buf, 0), ra);
      assert.is(g.outside(), 0);
    }
  }
  for (const s of ['ok', 'not-supported', 'unknown-response', 'truncated', 'bad-type', 'bad-length', 'bad-value'])
    assert.ok(seen.has(s), s);
});

test.run();
