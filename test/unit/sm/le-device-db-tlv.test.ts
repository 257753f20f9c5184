/**
 * The LE device db on a tag-value store (BTstack's le_device_db_tlv behaviour): the documented
 * 124-byte entry layout under tag 'B' 'T' 'D' index, checked against bytes written out by hand
 * from the layout table (not from our encoder); bonds surviving a new instance on the same store
 * and a reopened file (ports/posix/tlv-file.ts) beside link keys ('BTL' tags); re-pairing an
 * address replaces its entry; a full db evicts the lowest seq_nr (least recently added); remove
 * deletes the tag; corrupt or truncated entries logged once and ignored, then overwritable; a fuzz
 * over entry bytes (never throws, a decoded entry re-encodes to the same bytes).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hex, sscanf_bd_addr, type BdAddr } from '../../../src/core/bytes.js';
import { Logger } from '../../../src/core/log.js';
import { btstack_tlv_memory_instance, le_device_db_tlv_tag } from '../../../src/core/tlv.js';
import { btstack_link_key_db_tlv_get_instance } from '../../../src/hci/link-key-db-tlv.js';
import {
  LE_DEVICE_DB_TLV_ENTRY_LEN,
  le_device_db_tlv_decode,
  le_device_db_tlv_encode,
  le_device_db_tlv_get_instance,
} from '../../../src/sm/le-device-db-tlv.js';
import type { LeDeviceDbEncryption } from '../../../src/sm/le-device-db.js';
import { btstack_tlv_posix_init_instance } from '../../../ports/posix/tlv-file.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { RadioLink } from '../../../src/controller/index.js';
import { Stack } from '../../../src/stack.js';
import { LeDeviceDbMemory } from '../../../src/sm/le-device-db.js';
import * as pkg from '../../../src/index.js';
import { VirtualTransport } from '../../../ports/virtual/transport.js';

const addr = (s: string): BdAddr => sscanf_bd_addr(s)!;
const A = addr('C0:FF:EE:00:00:01');
const B = addr('C0:FF:EE:00:00:02');
const C = addr('C0:FF:EE:00:00:03');
/** 'B' 'T' 'D' = 0x42 0x54 0x44. */
const BTD = (i: number): number => 0x42544400 + i;
const seq16 = (seed: number): Uint8Array => Uint8Array.from({ length: 16 }, (_, i) => (seed + i) & 0xff);

function enc(seed: number, sc = true): LeDeviceDbEncryption {
  return {
    ediv: sc ? 0 : 0x1234 + seed,
    rand: sc ? new Uint8Array(8) : Uint8Array.from({ length: 8 }, (_, i) => seed + i),
    ltk: seq16(seed),
    key_size: 16,
    authenticated: !sc,
    authorized: false,
    secure_connection: sc,
  };
}

function logger(): { log: Logger; lines: string[] } {
  const log = new Logger();
  const lines: string[] = [];
  log.add_sink((_l, m) => lines.push(m));
  return { log, lines };
}

test("tag 'BTD' + index, the 124-byte layout written out by hand", () => {
  assert.is(le_device_db_tlv_tag(3), BTD(3));
  const tlv = btstack_tlv_memory_instance();
  const db = le_device_db_tlv_get_instance(tlv);
  const irk = seq16(0xa0);
  const i = db.le_device_db_add(1, A, irk);
  assert.is(i, 0);
  db.le_device_db_encryption_set(i, {
    ediv: 0xbeef,
    rand: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
    ltk: seq16(0x10),
    key_size: 12,
    authenticated: true,
    authorized: false,
    secure_connection: false,
  });
  db.le_device_db_local_encryption_set(i, {
    ediv: 0x0102,
    rand: Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9),
    ltk: seq16(0x40),
    key_size: 16,
    authenticated: false,
    authorized: true,
    secure_connection: false,
  });
  db.le_device_db_remote_csrk_set(i, seq16(0x60));
  db.le_device_db_remote_counter_set(i, 0x01020304);
  const value = tlv.get_tag(BTD(0))!;
  const want = [
    ...[1, 0, 0, 0], // seq_nr 1
    1, // random
    ...[0xc0, 0xff, 0xee, 0, 0, 1], // address as printed
    ...irk,
    // remote enc: present | authenticated, key size 12, EDIV 0xBEEF LE, Rand, LTK
    0x03,
    12,
    0xef,
    0xbe,
    ...[1, 2, 3, 4, 5, 6, 7, 8],
    ...seq16(0x10),
    // local enc: present | authorized, 16, EDIV 0x0102
    0x05,
    16,
    0x02,
    0x01,
    ...[9, 9, 9, 9, 9, 9, 9, 9],
    ...seq16(0x40),
    0x01, // remote CSRK only
    ...seq16(0x60),
    ...[4, 3, 2, 1], // remote counter
    ...new Array<number>(16).fill(0),
    ...[0, 0, 0, 0],
  ];
  assert.is(want.length, LE_DEVICE_DB_TLV_ENTRY_LEN);
  assert.is(hex(value), hex(Uint8Array.from(want)));
  assert.equal(db.le_device_db_info(i), { addr_type: 1, addr: A, irk });
  assert.is(db.le_device_db_remote_counter_get(i), 0x01020304);
  assert.is(db.le_device_db_local_csrk_get(i), null);
  assert.is(db.le_device_db_local_counter_get(i), 0);
});

test('a second instance on the same store, and a reopened file, see the bonds; link keys alongside', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-le-db-'));
  try {
    const file = path.join(dir, 'bthost_00-00-00-00-00-01.tlv');
    const tlv = btstack_tlv_posix_init_instance(file);
    const keys = btstack_link_key_db_tlv_get_instance(tlv);
    const db = le_device_db_tlv_get_instance(tlv);
    keys.put_link_key(C, seq16(0x77), 0x08);
    const ia = db.le_device_db_add(0, A, null);
    db.le_device_db_encryption_set(ia, enc(1));
    const ib = db.le_device_db_add(1, B, seq16(0x33));
    db.le_device_db_encryption_set(ib, enc(2, false));
    db.le_device_db_local_csrk_set(ib, seq16(0x55));
    db.le_device_db_local_counter_set(ib, 7);
    assert.is(le_device_db_tlv_get_instance(tlv).le_device_db_count(), 2, 'another instance, same store');
    // "restart": a new store object reads the file
    const again = btstack_tlv_posix_init_instance(file);
    const db2 = le_device_db_tlv_get_instance(again);
    assert.is(db2.le_device_db_count(), 2);
    assert.is(db2.le_device_db_lookup(0, A), ia);
    assert.is(db2.le_device_db_lookup(1, B), ib);
    assert.is(db2.le_device_db_lookup(1, A), -1, 'address type matters');
    assert.equal(db2.le_device_db_encryption_get(ia), enc(1));
    assert.equal(db2.le_device_db_encryption_get(ib), enc(2, false));
    assert.equal(db2.le_device_db_local_csrk_get(ib), seq16(0x55));
    assert.is(db2.le_device_db_local_counter_get(ib), 7);
    assert.equal(btstack_link_key_db_tlv_get_instance(again).get_link_key(C)?.link_key, seq16(0x77));
    // remove deletes the tag from the file
    db2.le_device_db_remove(ia);
    const third = btstack_tlv_posix_init_instance(file);
    assert.is(third.get_tag(BTD(ia)), null);
    assert.is(le_device_db_tlv_get_instance(third).le_device_db_count(), 1);
    assert.ok(btstack_link_key_db_tlv_get_instance(third).get_link_key(C), 'the link key stays');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('re-pairing an address replaces its entry (same slot, keys cleared, newest seq_nr)', () => {
  const tlv = btstack_tlv_memory_instance();
  const db = le_device_db_tlv_get_instance(tlv, 4);
  const ia = db.le_device_db_add(0, A, seq16(1));
  db.le_device_db_encryption_set(ia, enc(1));
  db.le_device_db_remote_csrk_set(ia, seq16(9));
  db.le_device_db_add(0, B, null);
  const again = db.le_device_db_add(0, A, seq16(2));
  assert.is(again, ia);
  assert.is(db.le_device_db_count(), 2);
  assert.is(db.le_device_db_encryption_get(ia), null, 'old LTK gone');
  assert.is(db.le_device_db_remote_csrk_get(ia), null);
  assert.equal(db.le_device_db_info(ia)!.irk, seq16(2));
  assert.is(tlv.get_tag(BTD(ia))![0], 3, 'seq_nr 3: newer than B (2)');
});

test('a full db evicts the bond added longest ago; getting or setting keys does not refresh it', () => {
  const { log, lines } = logger();
  const tlv = btstack_tlv_memory_instance();
  const db = le_device_db_tlv_get_instance(tlv, 2, log);
  const ia = db.le_device_db_add(0, A, null);
  const ib = db.le_device_db_add(0, B, null);
  db.le_device_db_encryption_set(ia, enc(1));
  db.le_device_db_encryption_get(ia);
  const ic = db.le_device_db_add(0, C, null);
  assert.is(ic, ia, "A's slot (seq_nr 1) reused");
  assert.is(db.le_device_db_lookup(0, A), -1);
  assert.is(db.le_device_db_lookup(0, B), ib);
  assert.is(db.le_device_db_max_count(), 2);
  assert.ok(
    lines.some((l) => l.includes('oldest bond (C0:FF:EE:00:00:01')),
    lines.join('\n'),
  );
  assert.throws(() => le_device_db_tlv_get_instance(tlv, 0), RangeError);
  assert.throws(() => le_device_db_tlv_get_instance(tlv, 257), RangeError);
});

test('corrupt or truncated entries are logged once and ignored; the slot is reused', () => {
  const { log, lines } = logger();
  const tlv = btstack_tlv_memory_instance();
  const db = le_device_db_tlv_get_instance(tlv, 4, log);
  const ia = db.le_device_db_add(0, A, null);
  db.le_device_db_encryption_set(ia, enc(1));
  const good = tlv.get_tag(BTD(ia))!;
  tlv.store_tag(BTD(ia), good.subarray(0, 100));
  const bad_type = good.slice();
  bad_type[4] = 2;
  tlv.store_tag(BTD(1), bad_type);
  const bad_size = good.slice();
  bad_size[28] = 17;
  tlv.store_tag(BTD(2), bad_size);
  assert.is(db.le_device_db_count(), 0);
  assert.is(db.le_device_db_lookup(0, A), -1);
  assert.is(db.le_device_db_info(1), null);
  assert.is(db.le_device_db_encryption_get(2), null);
  db.le_device_db_count();
  assert.is(lines.length, 3, lines.join('\n'));
  assert.ok(lines[0]!.includes('BTD#0') && lines[0]!.includes('length 100'), lines[0]);
  assert.ok(lines[1]!.includes('address type 2'), lines[1]);
  assert.ok(lines[2]!.includes('key size 17'), lines[2]);
  // the first corrupt slot takes the next bond
  assert.is(db.le_device_db_add(0, B, null), 0);
  assert.is(db.le_device_db_count(), 1);
  assert.is(tlv.get_tag(BTD(0))!.length, LE_DEVICE_DB_TLV_ENTRY_LEN);
  // out-of-range indices read as unused
  assert.is(db.le_device_db_info(-1), null);
  assert.is(db.le_device_db_info(4), null);
  db.le_device_db_remove(99);
});

test('fuzz: 20000 mutated or random entries never throw; a decoded entry re-encodes to its bytes', () => {
  let seed = 0x1234567;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const tlv = btstack_tlv_memory_instance();
  const db = le_device_db_tlv_get_instance(tlv, 4, new Logger());
  const i = db.le_device_db_add(0, A, seq16(3));
  db.le_device_db_encryption_set(i, enc(4, false));
  db.le_device_db_local_encryption_set(i, enc(5, false));
  db.le_device_db_remote_csrk_set(i, seq16(6));
  db.le_device_db_local_csrk_set(i, seq16(7));
  const good = tlv.get_tag(BTD(i))!;
  let decoded = 0;
  for (let n = 0; n < 20000; n++) {
    let v: Uint8Array;
    const kind = rnd(4);
    if (kind === 0) v = Uint8Array.from({ length: rnd(200) }, () => rnd(256));
    else if (kind === 1) v = good.subarray(0, rnd(good.length + 1)).slice();
    else {
      v = good.slice();
      for (let k = 1 + rnd(kind === 2 ? 2 : 8); k > 0; k--) v[rnd(v.length)] = rnd(256);
    }
    const e = le_device_db_tlv_decode(v);
    if (typeof e !== 'string') {
      decoded++;
      assert.is(hex(le_device_db_tlv_encode(e)), hex(v), 'canonical');
    }
    tlv.store_tag(BTD(n % 4), v);
    db.le_device_db_count();
    db.le_device_db_lookup(0, A);
    db.le_device_db_info(n % 4);
    db.le_device_db_encryption_get(n % 4);
    db.le_device_db_local_encryption_get(n % 4);
    db.le_device_db_remote_csrk_get(n % 4);
  }
  assert.ok(decoded > 100, `some mutations still decode (${decoded})`);
  // and the db still works after the garbage
  for (let k = 0; k < 4; k++) tlv.delete_tag(BTD(k));
  assert.is(db.le_device_db_add(0, B, null), 0);
});

test('argument checks are programmer errors (TypeError)', () => {
  const db = le_device_db_tlv_get_instance(btstack_tlv_memory_instance());
  assert.throws(() => db.le_device_db_add(0, new Uint8Array(5), null), TypeError);
  const i = db.le_device_db_add(0, A, null);
  assert.throws(() => db.le_device_db_encryption_set(i, { ...enc(1), key_size: 6 }), TypeError);
  assert.throws(() => db.le_device_db_remote_csrk_set(i, new Uint8Array(15)), TypeError);
});

test("Stack option le_device_db: the SM keeps its bonds there (default: in memory); exported from 'bthost'", () => {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'le-db-option' });
  const tlv = btstack_tlv_memory_instance();
  const db = pkg.le_device_db_tlv_get_instance(tlv);
  const s = new Stack({ transport: new VirtualTransport(link.create_controller()), run_loop: rl, le_device_db: db });
  assert.is(s.sm.le_device_db, db);
  const plain = new Stack({ transport: new VirtualTransport(link.create_controller()), run_loop: rl });
  assert.ok(plain.sm.le_device_db instanceof LeDeviceDbMemory);
  assert.is(pkg.LE_DEVICE_DB_TLV_ENTRY_LEN, LE_DEVICE_DB_TLV_ENTRY_LEN);
  assert.is(pkg.LeDeviceDbTlv, db.constructor);
});

test.run();
