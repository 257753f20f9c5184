/**
 * Fuzz and robustness tests over every event of both profiles (seeded PRNG, bounded):
 * build with random params -> every getter returns the input; every prefix of a packet is safe
 * for every getter; a too-small buffer is left untouched and gets the negative status.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as v14 from '../../../src/codes/v1.4.js';
import * as v18 from '../../../src/codes/v1.8.js';
import type { Codes } from '../../../src/codes/index.js';
import { btstack_event_iterator_create } from '../../../src/codes/runtime.js';
import type { EventInfo } from '../../../src/codes/runtime.js';
import { base_name, events_with_format, fn, prng } from './helpers.js';

const PROFILES: [string, Codes][] = [
  ['v1.4', v14],
  ['v1.8', v18],
];
const CAPACITY_EXCEEDED = -0x07; // -ERROR_CODE_MEMORY_CAPACITY_EXCEEDED

type Rnd = () => number;
const int = (rnd: Rnd, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const rand_bytes = (rnd: Rnd, n: number) => Uint8Array.from({ length: n }, () => int(rnd, 0, 255));
const CHARS = ['a', 'Z', '0', ' ', '-', 'é', 'ß', '€', '😀'];
const rand_string = (rnd: Rnd, max_chars: number) =>
  Array.from({ length: int(rnd, 0, max_chars) }, () => CHARS[int(rnd, 0, CHARS.length - 1)]).join('');
const utf8_len = (s: string) => Buffer.byteLength(s, 'utf8');

const INT_RANGE: Record<string, [number, number]> = {
  '1': [0, 0xff],
  J: [0, 0xff],
  a: [-128, 127],
  '2': [0, 0xffff],
  H: [0, 0xffff],
  L: [0, 0xffff],
  b: [-32768, 32767],
  '3': [0, 0xffffff],
  '4': [0, 0xffffffff],
};
const BLOB: Record<string, number> = { B: 6, D: 8, P: 16, K: 16, Q: 32, X: 20, Y: 24, Z: 18 };

interface Field {
  letter: string;
  name: string;
  items?: Field[];
}

/** Split an EventInfo into fields (test-side reading of the table notation). */
function fields_of(ev: EventInfo): Field[] {
  const out: Field[] = [];
  const fmt = ev.format!;
  let pi = 0;
  let arr: Field | null = null;
  for (const letter of fmt) {
    if (letter === ']') {
      arr = null;
      continue;
    }
    const p = ev.params[pi++]!;
    if (letter === '[') {
      arr = { letter, name: p.slice(1, -1), items: [] };
      out.push(arr);
    } else if (arr) arr.items!.push({ letter, name: p.replace(/\[\]$/, '') });
    else out.push({ letter, name: p });
  }
  return ev.subevent !== undefined ? out.slice(1) : out;
}

/** Serialize array items for a '[' field (test-side writer). */
function serialize_items(items: Field[], values: Record<string, unknown>[]): Uint8Array {
  const out: number[] = [];
  for (const v of values) {
    for (const f of items) {
      const x = v[f.name];
      if (f.letter === 'J') out.push((v[items[items.indexOf(f) + 1]!.name] as Uint8Array).length);
      else if (f.letter === 'V') out.push(...(x as Uint8Array));
      else if (BLOB[f.letter]) out.push(...(x as Uint8Array));
      else {
        const n = f.letter === '1' || f.letter === 'a' ? 1 : f.letter === '3' ? 3 : f.letter === '4' ? 4 : 2;
        for (let i = 0; i < n; i++) out.push(Math.floor(((x as number) >>> 0) / 2 ** (8 * i)) & 0xff);
      }
    }
  }
  return Uint8Array.from(out);
}

interface Plan {
  args: unknown[];
  expect: { getter: string; value: unknown; index?: number }[];
  arrays: { field: Field; values: Record<string, unknown>[] }[];
}

function plan(codes: Codes, ev: EventInfo, rnd: Rnd): Plan {
  const base = base_name(ev.name);
  const fields = fields_of(ev);
  const args: unknown[] = [];
  const expect: Plan['expect'] = [];
  const arrays: Plan['arrays'] = [];
  let last_int = 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const getter = `${base}_get_${f.name}`;
    const range = INT_RANGE[f.letter];
    if (f.letter === 'J' || f.letter === 'L') continue; // computed from the V after it, checked there
    if (range) {
      // item counts for C and arrays stay small
      const next = fields[i + 1]?.letter;
      const v = next === 'C' || next === '[' ? int(rnd, 0, 4) : int(rnd, range[0], range[1]);
      last_int = v;
      args.push(v);
      expect.push({ getter, value: v });
    } else if (BLOB[f.letter]) {
      const v = rand_bytes(rnd, BLOB[f.letter]!);
      args.push(v);
      expect.push({ getter, value: v });
    } else if (f.letter === 'V' || f.letter === 'R') {
      const v = rand_bytes(rnd, int(rnd, 0, 16));
      args.push(v);
      expect.push({ getter, value: v });
      const prev = fields[i - 1];
      if (prev && (prev.letter === 'J' || prev.letter === 'L'))
        expect.push({ getter: `${base}_get_${prev.name}`, value: v.length });
    } else if (f.letter === 'N') {
      const ascii = rnd() < 0.2;
      const v = ascii ? 'n'.repeat(248) : rand_string(rnd, 60);
      args.push(v);
      expect.push({ getter, value: v });
    } else if (f.letter === 'T') {
      const v = rand_string(rnd, 12);
      args.push(v);
      expect.push({ getter, value: v });
    } else if (f.letter === 'C') {
      const v = Array.from({ length: last_int }, () => int(rnd, 0, 0xffff));
      args.push(v);
      v.forEach((x, index) => expect.push({ getter, value: x, index }));
    } else if (f.letter === '[') {
      const values: Record<string, unknown>[] = [];
      for (let k = 0; k < last_int; k++) {
        const item: Record<string, unknown> = {};
        for (const x of f.items!) {
          if (x.letter === 'V') item[x.name] = rand_bytes(rnd, int(rnd, 0, 8));
          else if (BLOB[x.letter]) item[x.name] = rand_bytes(rnd, BLOB[x.letter]!);
          else if (x.letter !== 'J') item[x.name] = int(rnd, INT_RANGE[x.letter]![0], INT_RANGE[x.letter]![1]);
        }
        for (const x of f.items!)
          if (x.letter === 'J') item[x.name] = (item[f.items![f.items!.indexOf(x) + 1]!.name] as Uint8Array).length;
        values.push(item);
      }
      args.push(serialize_items(f.items!, values));
      arrays.push({ field: f, values });
    } else throw new Error(`test has no generator for '${f.letter}' in ${ev.name}`);
  }
  void codes;
  return { args, expect, arrays };
}

function check_getters(codes: Codes, ev: EventInfo, pkt: Uint8Array, p: Plan, ctx: string): void {
  for (const e of p.expect) {
    const got = e.index === undefined ? fn(codes, e.getter)(pkt) : fn(codes, e.getter)(pkt, e.index);
    assert.equal(got, e.value, `${ctx}: ${e.getter}${e.index === undefined ? '' : `[${e.index}]`}`);
  }
  const base = base_name(ev.name);
  for (const { field, values } of p.arrays) {
    const it = btstack_event_iterator_create();
    fn(codes, `${base}_${field.name}_init`)(it, pkt);
    for (const v of values) {
      assert.ok(fn(codes, `${base}_${field.name}_has_next`)(it), `${ctx}: ${field.name} has_next`);
      for (const x of field.items!) {
        assert.equal(fn(codes, `${base}_get_${field.name}_item_${x.name}`)(it), v[x.name], `${ctx}: ${field.name}[].${x.name}`);
      }
      fn(codes, `${base}_${field.name}_next`)(it);
    }
    assert.not.ok(fn(codes, `${base}_${field.name}_has_next`)(it), `${ctx}: ${field.name} ends after ${values.length} items`);
  }
}

/** Every getter name of an event (from the BTstack naming rule), with its arity. */
function getter_names(codes: Codes, ev: EventInfo): string[] {
  const base = base_name(ev.name);
  const names: string[] = [];
  for (const f of fields_of(ev)) {
    if (f.letter === '[') {
      for (const x of f.items!) names.push(`${base}_get_${f.name}_item_${x.name}`);
    } else names.push(`${base}_get_${f.name}`);
  }
  for (const n of names) assert.type((codes as unknown as Record<string, unknown>)[n], 'function', `${n} exists`);
  return names;
}

for (const [profile, codes] of PROFILES) {
  test(`${profile}: every event with a format has its builder and getters`, () => {
    let count = 0;
    for (const ev of events_with_format(codes)) {
      assert.type((codes as unknown as Record<string, unknown>)[`${base_name(ev.name)}_build`], 'function', `${ev.name} builder`);
      count += getter_names(codes, ev).length;
    }
    assert.ok(count > 300, `${count} getters`);
    // events without @format get a constant and no builder
    const none = codes.EVENTS.find((e) => e.format === null)!;
    assert.type((codes as unknown as Record<string, unknown>)[none.name], 'number');
    assert.is((codes as unknown as Record<string, unknown>)[`${base_name(none.name)}_build`], undefined);
  });

  test(`${profile}: fuzz round trip build -> getters over every event`, () => {
    const rnd = prng(profile === 'v1.4' ? 0x1404 : 0x1808);
    const buf = new Uint8Array(600);
    for (const ev of events_with_format(codes)) {
      for (let round = 0; round < 25; round++) {
        const p = plan(codes, ev, rnd);
        const pos = int(rnd, 0, 40);
        buf.fill(0xa5);
        const size = fn(codes, `${base_name(ev.name)}_build`)(buf, pos, ...p.args) as number;
        const ctx = `${ev.name} round ${round}`;
        assert.ok(size >= 2, `${ctx}: size ${size}`);
        if (ev.size !== undefined) assert.is(size, ev.size, `${ctx}: fixed size`);
        assert.is(buf[pos], ev.code, `${ctx}: code`);
        assert.is(buf[pos + 1], size - 2, `${ctx}: length byte`);
        if (ev.subevent !== undefined) assert.is(buf[pos + 2], ev.subevent, `${ctx}: subevent`);
        for (let i = 0; i < buf.length; i++)
          if (i < pos || i >= pos + size) assert.is(buf[i], 0xa5, `${ctx}: byte ${i} outside the event untouched`);
        // getters on the event inside the larger buffer (bounded by the length byte) and on an exact copy
        check_getters(codes, ev, buf.subarray(pos), p, ctx);
        check_getters(codes, ev, buf.slice(pos, pos + size), p, `${ctx} (copy)`);
      }
    }
  });

  test(`${profile}: getters on every prefix of every event never throw and return defined values`, () => {
    const rnd = prng(profile === 'v1.4' ? 77 : 78);
    const buf = new Uint8Array(300);
    for (const ev of events_with_format(codes)) {
      const p = plan(codes, ev, rnd);
      const size = fn(codes, `${base_name(ev.name)}_build`)(buf, 0, ...p.args) as number;
      const full = buf.slice(0, size);
      const names = getter_names(codes, ev);
      for (let n = 0; n <= size; n++) {
        const prefix = full.slice(0, n);
        for (const g of names) {
          let v: unknown;
          if (g.includes('_item_')) {
            const arr = g.slice(base_name(ev.name).length + 5).split('_item_')[0];
            const it = btstack_event_iterator_create();
            fn(codes, `${base_name(ev.name)}_${arr}_init`)(it, prefix);
            let guard = 0;
            while (fn(codes, `${base_name(ev.name)}_${arr}_has_next`)(it) && guard++ < 300) {
              v = fn(codes, g)(it);
              assert.ok(v !== undefined && !(typeof v === 'number' && Number.isNaN(v)), `${g} on ${n} bytes`);
              fn(codes, `${base_name(ev.name)}_${arr}_next`)(it);
            }
            assert.ok(guard < 300, 'iterator terminates');
            continue;
          }
          v = fn(codes, g)(prefix, 0);
          assert.ok(v !== undefined && v !== null, `${g} on ${n} bytes`);
          if (typeof v === 'number') assert.ok(Number.isFinite(v), `${g} on ${n} bytes is a number`);
          else if (typeof v !== 'string') assert.instance(v, Uint8Array, `${g} on ${n} bytes`);
        }
      }
    }
  });

  test(`${profile}: a field that does not fit in a truncated packet reads as 0 / empty / ''`, () => {
    const rnd = prng(5);
    const buf = new Uint8Array(300);
    let checked = 0;
    for (const ev of events_with_format(codes)) {
      if (ev.size === undefined) continue; // fixed layouts: offsets known without the packet
      const p = plan(codes, ev, rnd);
      const size = fn(codes, `${base_name(ev.name)}_build`)(buf, 0, ...p.args) as number;
      const full = buf.slice(0, size);
      // offsets of each field computed here from the format letters
      const sizes: Record<string, number> = {
        '1': 1,
        a: 1,
        '2': 2,
        b: 2,
        H: 2,
        '3': 3,
        '4': 4,
        B: 6,
        D: 8,
        P: 16,
        K: 16,
        Q: 32,
        N: 248,
        X: 20,
        Y: 24,
        Z: 18,
      };
      let o = ev.subevent !== undefined ? 3 : 2;
      for (const f of fields_of(ev)) {
        const getter = `${base_name(ev.name)}_get_${f.name}`;
        const expected = p.expect.find((e) => e.getter === getter)!.value;
        for (const n of [o + sizes[f.letter]! - 1, o + sizes[f.letter]!]) {
          if (n < 0) continue;
          const got = fn(codes, getter)(full.slice(0, n));
          if (n >= o + sizes[f.letter]!) assert.equal(got, expected, `${getter} with ${n} bytes`);
          else if (f.letter === 'N') assert.type(got, 'string');
          else if (typeof expected === 'number') assert.is(got, 0, `${getter} with ${n} bytes`);
          else assert.is((got as Uint8Array).length, 0, `${getter} with ${n} bytes`);
          checked++;
        }
        o += sizes[f.letter]!;
      }
    }
    assert.ok(checked > 500, `${checked} checks`);
  });

  test(`${profile}: a too-small buffer gets -ERROR_CODE_MEMORY_CAPACITY_EXCEEDED and is untouched`, () => {
    const rnd = prng(11);
    assert.is(codes.ERROR_CODE_MEMORY_CAPACITY_EXCEEDED, 0x07);
    for (const ev of events_with_format(codes)) {
      const p = plan(codes, ev, rnd);
      const build = fn(codes, `${base_name(ev.name)}_build`);
      const size = build(new Uint8Array(300), 0, ...p.args) as number;
      for (const [len, pos] of [
        [size - 1, 0],
        [size + 2, 3],
        [0, 0],
        [size, 1],
        [size, -1],
      ] as const) {
        if (len < 0) continue;
        const small = new Uint8Array(len).fill(0x3c);
        assert.is(build(small, pos, ...p.args), CAPACITY_EXCEEDED, `${ev.name} into ${len} bytes at ${pos}`);
        assert.ok(
          small.every((b) => b === 0x3c),
          `${ev.name}: buffer untouched`,
        );
      }
    }
  });

  test(`${profile}: parameters longer than 255 bytes are refused, not truncated`, () => {
    const buf = new Uint8Array(600).fill(0x11);
    const data = new Uint8Array(250);
    assert.is(codes.gap_event_advertising_report_build(buf, 0, 0, 0, new Uint8Array(6), 0, data), CAPACITY_EXCEEDED);
    assert.ok(buf.every((b) => b === 0x11));
    // exactly 255 parameter bytes is fine: 1 + 1 + 6 + 1 + 1 + 245
    assert.is(codes.gap_event_advertising_report_build(buf, 0, 0, 0, new Uint8Array(6), 0, new Uint8Array(245)), 257);
    assert.is(buf[1], 255);
  });
}

test('getters on random garbage never throw (both profiles)', () => {
  const rnd = prng(0xbadc0de);
  for (const [, codes] of PROFILES) {
    const names = events_with_format(codes).flatMap((ev) => getter_names(codes, ev).filter((g) => !g.includes('_item_')));
    for (let round = 0; round < 300; round++) {
      const pkt = rand_bytes(rnd, int(rnd, 0, 64));
      for (const g of names) {
        const v = fn(codes, g)(pkt, int(rnd, -2, 10));
        assert.ok(v !== undefined && v !== null);
      }
    }
  }
});

void utf8_len;
test.run();
