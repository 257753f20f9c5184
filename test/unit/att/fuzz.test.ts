/**
 * Fuzz (seeded, reproducible):
 * - 100,000 random and mutated .gatt texts through gatt_compile: nothing throws, no internal
 *   error; an accepted text gives a database the walker reads to the end with handles 1..n in
 *   order and every handle name inside 1..n; a refused one has an error with a file and a line.
 * - 100,000 random and mutated databases through the walker, lookups and value reads: nothing
 *   throws, every entry lies inside the array, reads never report more than the room given.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GATT_COMPILE_ERROR_INTERNAL, gatt_compile } from '../../../src/att/gatt-compiler.js';
import {
  ATT_DB_OK,
  AttDbIterator,
  att_db_entries,
  att_db_find_by_uuid16,
  att_db_find_handle,
  att_db_read_value,
  att_db_validate,
} from '../../../src/att/att-db.js';
import { prng } from './helpers.js';

const SEEDS = [
  '#import <gap.gatt>\n#import <gatt.gatt>\nPRIMARY_SERVICE, 0000FF10-0000-1000-8000-00805F9B34FB\nCHARACTERISTIC, 0000FF11-0000-1000-8000-00805F9B34FB, READ | WRITE | NOTIFY | DYNAMIC,\n',
  '#import <battery_service.gatt>\n#import <device_information_service.gatt>\n#import <gatt_service.gatt>\n',
  'PRIMARY_SERVICE, ORG_BLUETOOTH_SERVICE_HEART_RATE\nCHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_HEART_RATE_MEASUREMENT, DYNAMIC | NOTIFY,\nCHARACTERISTIC_USER_DESCRIPTION, READ | WRITE, "Heart Rate"\nCHARACTERISTIC_FORMAT, fmt, 04, 00, ORG_BLUETOOTH_UNIT_UNITLESS, 01, 0000\n',
  'SECONDARY_SERVICE, 180F\nCHARACTERISTIC, 2A19, READ, 64\nPRIMARY_SERVICE, 1812\nINCLUDE_SERVICE, 180F\nCHARACTERISTIC, 2A4D, READ | NOTIFY | DYNAMIC, , Input\nREPORT_REFERENCE, READ, 1, 1\nCHARACTERISTIC_FORMAT, a, 04, 00, 2700, 01, 0000\nCHARACTERISTIC_AGGREGATE_FORMAT, a\nNUMBER_OF_DIGITALS, 02\n',
  'PRIMARY_SERVICE, 1234\nCHARACTERISTIC, 2A00, READ | WRITE | ENCRYPTION_KEY_SIZE_16, "A"\nCHARACTERISTIC, 2A03, WRITE | RELIABLE_WRITE | AUTHENTICATION_REQUIRED | INDICATE, 00\nSERVER_CHARACTERISTIC_CONFIGURATION, READ | WRITE | WRITE_ENCRYPTED\n',
];
const KEYWORDS = [
  'PRIMARY_SERVICE',
  'SECONDARY_SERVICE',
  'INCLUDE_SERVICE',
  'CHARACTERISTIC',
  'CHARACTERISTIC_USER_DESCRIPTION',
  'CLIENT_CHARACTERISTIC_CONFIGURATION',
  'SERVER_CHARACTERISTIC_CONFIGURATION',
  'CHARACTERISTIC_FORMAT',
  'CHARACTERISTIC_AGGREGATE_FORMAT',
  'REPORT_REFERENCE',
  'NUMBER_OF_DIGITALS',
  'VALID_RANGE',
  '#import',
  '#TODO',
  '//',
  'FOO',
];
const FIELDS = [
  '1800',
  '180F',
  'GAP_SERVICE',
  'GATT_DATABASE_HASH',
  '2A2B',
  '2B2A',
  'ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL',
  '0000FF11-0000-1000-8000-00805F9B34FB',
  'READ',
  'WRITE | NOTIFY',
  'DYNAMIC|INDICATE|RELIABLE_WRITE',
  'READ_AUTHENTICATED_SC | ENCRYPTION_KEY_SIZE_9',
  '"text, with comma"',
  '""',
  '01 02 ff',
  '123',
  'a',
  'b',
  '<gap.gatt>',
  '"gatt.gatt"',
  '<x.gatt>',
  '',
  ' ',
  '"',
  '\u2028',
  'é',
  '0x',
  '-',
  '|',
];

function pick<T>(r: () => number, a: T[]): T {
  return a[Math.floor(r() * a.length)]!;
}

function random_line(r: () => number): string {
  const kw = pick(r, KEYWORDS);
  const n = Math.floor(r() * 8);
  const parts = [kw];
  for (let i = 0; i < n; i++) parts.push(pick(r, FIELDS));
  return kw.startsWith('#') || kw === '//' ? `${kw} ${parts.slice(1).join(' ')}` : parts.join(r() < 0.8 ? ', ' : ',');
}

function mutate(r: () => number, text: string): string {
  let s = text;
  const rounds = Math.floor(r() * 3);
  for (let k = 0; k < rounds; k++) {
    const pos = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 6)) {
      case 0:
        s = s.slice(0, pos) + s.slice(pos + 1 + Math.floor(r() * 8));
        break;
      case 1:
        s = s.slice(0, pos) + String.fromCharCode(Math.floor(r() * 0x80)) + s.slice(pos);
        break;
      case 2:
        s = s.slice(0, pos) + pick(r, FIELDS) + s.slice(pos);
        break;
      case 3:
        s = s.slice(0, pos) + '\n' + random_line(r) + '\n' + s.slice(pos);
        break;
      case 4: {
        const lines = s.split('\n');
        const i = Math.floor(r() * lines.length);
        lines.splice(Math.floor(r() * lines.length), 0, lines[i]!);
        s = lines.join('\n');
        break;
      }
      default:
        s = s.slice(0, pos) + pick(r, [',', '|', '"', '\r', '\t', '//']) + s.slice(pos);
    }
  }
  return s;
}

test('100,000 .gatt texts: never throws, accepted ones walk cleanly, refused ones say where', () => {
  const r = prng(0x6a77);
  const it = new AttDbIterator();
  let accepted = 0;
  const N = 100_000;
  for (let i = 0; i < N; i++) {
    let text: string;
    if (i % 3 === 0) {
      const lines: string[] = [];
      const n = 1 + Math.floor(r() * 10);
      for (let k = 0; k < n; k++) lines.push(random_line(r));
      text = lines.join(r() < 0.5 ? '\n' : '\r\n');
    } else text = mutate(r, pick(r, SEEDS));
    let res;
    try {
      res = gatt_compile(text, { file: 'f.gatt' });
    } catch (e) {
      assert.unreachable(`threw on ${JSON.stringify(text)}: ${String(e)}`);
      return;
    }
    if (res.status === GATT_COMPILE_ERROR_INTERNAL)
      assert.unreachable(`internal error on ${JSON.stringify(text)}: ${res.diagnostics.at(-1)!.message}`);
    if (res.status === 0) {
      accepted++;
      const db = res.profile_data!;
      assert.ok(res.typescript!.length > 0);
      assert.ok(it.init(db));
      let expect = 1;
      while (it.next()) {
        if (it.handle !== expect) assert.unreachable(`handle ${it.handle} != ${expect} for ${JSON.stringify(text)}`);
        expect++;
      }
      if (it.status !== ATT_DB_OK || it.pos + 2 !== db.length)
        assert.unreachable(`db does not end cleanly for ${JSON.stringify(text)}`);
      for (const d of res.defines)
        if (d.value < 1 || d.value >= expect) assert.unreachable(`${d.name} = ${d.value} outside 1..${expect - 1}`);
    } else {
      const e = res.diagnostics.find((d) => d.severity === 'error');
      if (!e || e.status !== res.status || e.line < 1 || !e.file)
        assert.unreachable(`bad diagnostic for ${JSON.stringify(text)}: ${JSON.stringify(e)}`);
      assert.is(res.profile_data, null);
    }
  }
  // both outcomes are well exercised
  assert.ok(accepted > N / 20, `accepted ${accepted}`);
  assert.ok(accepted < N - N / 10, `accepted ${accepted}`);
});

test('100,000 random / mutated databases through the walker', () => {
  const r = prng(0xdb);
  const valid = gatt_compile(SEEDS[0]! + SEEDS[2]! + SEEDS[3]!).profile_data!;
  assert.ok(valid);
  const it = new AttDbIterator();
  const out = new Uint8Array(32);
  let ok = 0;
  for (let i = 0; i < 100_000; i++) {
    let db: Uint8Array;
    if (i % 2 === 0) {
      db = new Uint8Array(Math.floor(r() * 48));
      for (let k = 0; k < db.length; k++) db[k] = r() < 0.3 ? 0 : Math.floor(r() * 256);
      if (db.length > 0 && r() < 0.7) db[0] = 1;
    } else {
      db = valid.slice(0, r() < 0.3 ? Math.floor(r() * valid.length) : valid.length);
      const flips = 1 + Math.floor(r() * 4);
      for (let k = 0; k < flips && db.length > 1; k++) db[1 + Math.floor(r() * (db.length - 1))] = Math.floor(r() * 256);
    }
    try {
      const status = att_db_validate(db);
      if (status === ATT_DB_OK) ok++;
      const { entries } = att_db_entries(db);
      let pos = 1;
      for (const e of entries) {
        if (e.offset !== pos || e.offset + e.size > db.length || e.size !== 6 + e.uuid.length + e.value.length)
          assert.unreachable(`entry outside the array at ${e.offset}`);
        pos += e.size;
      }
      const h = Math.floor(r() * 24);
      if (att_db_find_handle(db, h, it)) assert.ok(it.value_offset + it.value_len <= db.length);
      att_db_find_by_uuid16(db, 0, 0xffff, pick(r, [0x2800, 0x2803, 0x2902, 0]), it);
      const n = att_db_read_value(db, h, Math.floor(r() * 20), out, Math.floor(r() * 40), it);
      assert.ok(n <= out.length && n >= -2);
    } catch (e) {
      assert.unreachable(`walker threw on ${Buffer.from(db).toString('hex')}: ${String(e)}`);
    }
  }
  assert.ok(ok > 1000, `valid ${ok}`);
});

test.run();
