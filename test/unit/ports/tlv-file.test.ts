/**
 * The file-backed tag-value store (ports/posix/tlv-file.ts): BTstack's btstack_tlv_t contract, the
 * file's bytes (magic "BTHTLV\r\n", version 1, counts and CRC-32s as zlib computes them), restart
 * with the same link keys, one file per controller address, atomic writes (no temp file left, mode
 * 0600, a failed write keeps the old value), damaged files (bad magic / version / checksum,
 * truncated records, trailing bytes: one log line, the good records kept) and a fuzz of 10^4
 * truncations and bit flips of a valid file that never throws and never yields a wrong key.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { sscanf_bd_addr } from '../../../src/core/bytes.js';
import { Logger } from '../../../src/core/log.js';
import { DEFAULT_TLV_LIMITS, btstack_tlv_memory_instance } from '../../../src/core/tlv.js';
import { ERROR_CODE_COMMAND_DISALLOWED, ERROR_CODE_HARDWARE_FAILURE } from '../../../src/codes/v1.4.js';
import { btstack_link_key_db_tlv_get_instance } from '../../../src/hci/link-key-db-tlv.js';
import {
  btstack_tlv_posix_deinit,
  btstack_tlv_posix_init_instance,
  btstack_tlv_posix_open_for_controller,
  btstack_tlv_posix_path_for_controller,
  tlv_file_crc32,
  tlv_file_decode,
  tlv_file_encode,
  type BtstackTlvFile,
} from '../../../ports/posix/tlv-file.js';
import * as port from '../../../ports/port.js';
import { tlv_contract_tests } from '../core/tlv-contract.js';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-tlv-'));
let n = 0;
const fresh = (): string => path.join(DIR, `store-${++n}.tlv`);

/** A logger collecting its lines. */
function collector(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = new Logger();
  log.add_sink((_l, m) => lines.push(m));
  return { log, lines };
}

const quiet = (): Logger => collector().log;
const open = (file: string, log = quiet()): BtstackTlvFile => btstack_tlv_posix_init_instance(file, { log });

tlv_contract_tests(test, 'file', (limits) => btstack_tlv_posix_init_instance(fresh(), { limits, log: quiet() }));

test.after(() => fs.rmSync(DIR, { recursive: true, force: true }));

const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

test('the bytes: header (magic, version 1, count, CRC-32), then tag, len, value, CRC-32 per record, sorted by tag', () => {
  const file = fresh();
  const tlv = open(file);
  tlv.store_tag(0x42544c01, Uint8Array.of(0xaa, 0xbb));
  tlv.store_tag(7, new Uint8Array(0));
  const head = [0x42, 0x54, 0x48, 0x54, 0x4c, 0x56, 0x0d, 0x0a, 0x01, 0x00, 0x00, 0x00, ...u32(2)];
  const r1 = [...u32(7), ...u32(0)];
  const r2 = [...u32(0x42544c01), ...u32(2), 0xaa, 0xbb];
  const want = [
    ...head,
    ...u32(zlib.crc32(Uint8Array.from(head))),
    ...r1,
    ...u32(zlib.crc32(Uint8Array.from(r1))),
    ...r2,
    ...u32(zlib.crc32(Uint8Array.from(r2))),
  ];
  assert.equal(Array.from(fs.readFileSync(file)), want);
  assert.is(tlv_file_crc32(new TextEncoder().encode('123456789')), 0xcbf43926, 'the CRC-32 check value');
  assert.is(fs.statSync(file).mode & 0o777, 0o600, 'keys are private');
  assert.not.ok(fs.existsSync(`${file}.tmp`), 'no temp file left');
  tlv.delete_tag(7);
  tlv.delete_tag(0x42544c01);
  assert.equal(Array.from(fs.readFileSync(file)), [
    ...head.slice(0, 12),
    ...u32(0),
    ...u32(zlib.crc32(Uint8Array.from([...head.slice(0, 12), 0, 0, 0, 0]))),
  ]);
});

test('restart: close, reopen the file, the same link keys (types, slots, eviction order) and other tags', () => {
  const file = fresh();
  const A = sscanf_bd_addr('00:1B:DC:07:32:EF')!;
  const B = sscanf_bd_addr('C0:FF:EE:00:00:02')!;
  const C = sscanf_bd_addr('C0:FF:EE:00:00:03')!;
  const k = (s: number): Uint8Array => Uint8Array.from({ length: 16 }, (_, i) => s + i);
  let tlv = open(file);
  let db = btstack_link_key_db_tlv_get_instance(tlv, { NVM_NUM_LINK_KEYS: 2 });
  db.put_link_key(A, k(1), 5);
  db.put_link_key(B, k(2), 8);
  tlv.store_tag(0x42544400, Uint8Array.of(1, 2, 3));
  btstack_tlv_posix_deinit(tlv);
  assert.is(tlv.store_tag(1, Uint8Array.of(1)), ERROR_CODE_COMMAND_DISALLOWED, 'closed');
  tlv = open(file);
  db = btstack_link_key_db_tlv_get_instance(tlv, { NVM_NUM_LINK_KEYS: 2 });
  assert.equal(db.get_link_key(A), { link_key: k(1), type: 5 });
  assert.equal(db.get_link_key(B), { link_key: k(2), type: 8 });
  assert.equal(tlv.get_tag(0x42544400), Uint8Array.of(1, 2, 3));
  db.put_link_key(C, k(3), 4); // seq numbers survived: A (seq 1) goes
  tlv.close();
  db = btstack_link_key_db_tlv_get_instance(open(file), { NVM_NUM_LINK_KEYS: 2 });
  assert.equal(
    [A, B, C].map((a) => db.get_link_key(a)?.type ?? null),
    [null, 8, 4],
  );
});

test('one file per controller: bthost_AA-BB-...-FF.tlv in the directory (made if missing); --keys FILE wins', () => {
  const local = sscanf_bd_addr('00:1A:7D:DA:71:13')!;
  assert.is(
    btstack_tlv_posix_path_for_controller('/var/lib/bthost', local),
    path.join('/var/lib/bthost', 'bthost_00-1A-7D-DA-71-13.tlv'),
  );
  const dir = path.join(DIR, 'keys', 'sub');
  const a = btstack_tlv_posix_open_for_controller({ dir, bd_addr: local, log: quiet() });
  assert.is(a.path, path.join(dir, 'bthost_00-1A-7D-DA-71-13.tlv'));
  a.store_tag(1, Uint8Array.of(1));
  assert.ok(fs.existsSync(a.path));
  const other = btstack_tlv_posix_open_for_controller({ dir, bd_addr: sscanf_bd_addr('00:1A:7D:DA:71:14')!, log: quiet() });
  assert.is(other.get_tag(1), null, 'another controller, another store');
  const explicit = path.join(DIR, 'explicit.keys');
  const b = btstack_tlv_posix_open_for_controller({ dir, bd_addr: local, keys_file: explicit, log: quiet() });
  assert.is(b.path, explicit);
  assert.throws(() => btstack_tlv_posix_open_for_controller({ bd_addr: local }), TypeError);
  assert.is(port.btstack_tlv_posix_open_for_controller, btstack_tlv_posix_open_for_controller, 'exported from bthost/port');
});

test('a write that fails (directory gone) returns ERROR_CODE_HARDWARE_FAILURE, logs one line, keeps the old value', () => {
  const dir = path.join(DIR, 'gone');
  fs.mkdirSync(dir);
  const file = path.join(dir, 'k.tlv');
  const { log, lines } = collector();
  const tlv = open(file, log);
  assert.is(tlv.store_tag(1, Uint8Array.of(1)), 0);
  fs.rmSync(dir, { recursive: true });
  assert.is(tlv.store_tag(1, Uint8Array.of(2)), ERROR_CODE_HARDWARE_FAILURE);
  assert.is(tlv.store_tag(2, Uint8Array.of(2)), ERROR_CODE_HARDWARE_FAILURE);
  tlv.delete_tag(1);
  assert.equal(tlv.get_tag(1), Uint8Array.of(1));
  assert.is(tlv.get_tag(2), null);
  assert.is(lines.length, 3);
  assert.match(lines[0]!, /^key store .*k\.tlv: write failed \(.*ENOENT.*\); the file keeps its previous contents$/);
});

/** A valid file with three records, and what damage does to it when opened: the log line and what is kept. */
function damaged(mutate: (b: Buffer) => Buffer): { lines: string[]; tags: number[] } {
  const file = fresh();
  const tlv = open(file);
  tlv.store_tag(1, Uint8Array.of(1));
  tlv.store_tag(2, Uint8Array.of(2, 2));
  tlv.store_tag(3, Uint8Array.of(3, 3, 3));
  fs.writeFileSync(file, mutate(fs.readFileSync(file)));
  const { log, lines } = collector();
  const again = open(file, log);
  return { lines, tags: again.tags() };
}

test('damaged files: one log line each; bad magic / version / header CRC -> empty; a bad record ends the read', () => {
  const flip = (at: number) => (b: Buffer) => ((b[at]! ^= 0x01), b);
  const file = (p: string): RegExp => new RegExp(`^key store .*store-\\d+\\.tlv: ${p}; kept \\d record\\(s\\)$`);
  let r = damaged(flip(0));
  assert.equal(r.tags, []);
  assert.equal(r.lines.length, 1);
  assert.match(r.lines[0]!, file('bad magic \\(not a bthost key store\\)'));
  r = damaged((b) => (b.writeUInt16LE(2, 8), b.writeUInt32LE(zlib.crc32(b.subarray(0, 16)), 16), b));
  assert.equal([r.tags, r.lines.length], [[], 1]);
  assert.match(r.lines[0]!, file('unsupported version 2'));
  r = damaged(flip(12));
  assert.equal([r.tags, r.lines.length], [[], 1]);
  assert.match(r.lines[0]!, file('bad header checksum'));
  // records: 20..32 (tag 1), 33..46 (tag 2), 47..61 (tag 3)
  r = damaged(flip(20 + 8 + 12 + 1)); // second record's value byte
  assert.equal(r.tags, [1]);
  assert.match(r.lines[0]!, file('record 2 of 3 at offset 33: bad checksum'));
  r = damaged((b) => b.subarray(0, b.length - 1));
  assert.equal(r.tags, [1, 2]);
  assert.match(r.lines[0]!, file('record 3 of 3 at offset 47: truncated'));
  r = damaged((b) => b.subarray(0, 47));
  assert.equal(r.tags, [1, 2]);
  assert.match(r.lines[0]!, file('record 3 of 3 at offset 47: truncated'));
  r = damaged((b) => Buffer.concat([b, Buffer.from([0])]));
  assert.equal(r.tags, [1, 2, 3]);
  assert.match(r.lines[0]!, file('1 bytes after the last record'));
  r = damaged((b) => b.subarray(0, 5));
  assert.equal([r.tags, r.lines.length], [[], 1]);
  assert.match(r.lines[0]!, file('5-byte file, shorter than the header'));
  r = damaged((b) => b);
  assert.equal([r.tags, r.lines], [[1, 2, 3], []], 'a whole file: no line');
});

test('a damaged file is rewritten whole by the next change; a leftover temp file is removed at open (one line)', () => {
  const file = fresh();
  const tlv = open(file);
  tlv.store_tag(1, Uint8Array.of(1));
  tlv.store_tag(2, Uint8Array.of(2));
  const good = fs.readFileSync(file);
  fs.writeFileSync(file, good.subarray(0, good.length - 3));
  fs.writeFileSync(`${file}.tmp`, good.subarray(0, 9));
  const { log, lines } = collector();
  const again = open(file, log);
  assert.is(lines.length, 2);
  assert.match(lines[0]!, /removed store-\d+\.tlv\.tmp left by an interrupted write$/);
  assert.not.ok(fs.existsSync(`${file}.tmp`));
  assert.equal(again.tags(), [1]);
  again.store_tag(3, Uint8Array.of(3));
  const { log: log2, lines: lines2 } = collector();
  assert.equal(open(file, log2).tags(), [1, 3]);
  assert.equal(lines2, []);
});

test('fuzz: 10^4 truncations / bit flips / byte overwrites of a valid file never throw and never yield a wrong key', () => {
  const keys = btstack_tlv_memory_instance();
  const db = btstack_link_key_db_tlv_get_instance(keys);
  for (let i = 0; i < 12; i++)
    db.put_link_key(
      Uint8Array.of(0xc0, 0xff, 0xee, 0, 0, i),
      Uint8Array.from({ length: 16 }, (_, j) => i * 16 + j),
      i % 9,
    );
  keys.store_tag(0x42544400, new Uint8Array(100).fill(0x5a));
  const original = new Map(keys.tags().map((t) => [t, keys.get_tag(t)!]));
  const valid = tlv_file_encode(original);
  assert.equal(tlv_file_decode(valid, DEFAULT_TLV_LIMITS), { values: original, problem: null });
  let seed = 0xc0ffee;
  const rnd = (k: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % k;
  let damaged_files = 0;
  let kept = 0;
  for (let round = 0; round < 10_000; round++) {
    let b = valid.slice();
    const kind = rnd(4);
    if (kind === 0 || kind === 3) b = b.subarray(0, rnd(b.length));
    if (kind === 1 || kind === 3) for (let f = 1 + rnd(4); f > 0; f--) if (b.length) b[rnd(b.length)]! ^= 1 << rnd(8);
    if (kind === 2) for (let f = 1 + rnd(3); f > 0; f--) b[rnd(b.length)] = rnd(256);
    const { values, problem } = tlv_file_decode(b, DEFAULT_TLV_LIMITS);
    if (problem) damaged_files++;
    for (const [tag, value] of values) {
      assert.ok(original.has(tag), `round ${round}: invented tag ${tag}`);
      assert.equal(value, original.get(tag), `round ${round}: tag ${tag}`);
      kept++;
    }
  }
  assert.ok(damaged_files > 9_000, `${damaged_files} of 10^4 inputs damaged`);
  assert.ok(kept > 10_000, 'truncations keep the records before the damage');
  // and through the file and the link key db: every key read is the stored one, or none
  for (let round = 0; round < 200; round++) {
    const file = fresh();
    const b = Buffer.from(valid);
    b[rnd(b.length)]! ^= 1 << rnd(8);
    fs.writeFileSync(file, b.subarray(0, round % 2 ? b.length : rnd(b.length)));
    const { log, lines } = collector();
    const got = btstack_link_key_db_tlv_get_instance(open(file, log));
    assert.is(lines.length, 1, `round ${round}: one line`);
    for (let i = 0; i < 12; i++) {
      const k = got.get_link_key(Uint8Array.of(0xc0, 0xff, 0xee, 0, 0, i));
      if (k) assert.equal(k, db.get_link_key(Uint8Array.of(0xc0, 0xff, 0xee, 0, 0, i)));
    }
    fs.rmSync(file);
  }
});

test.run();
