/**
 * The link key db on a tag-value store (BTstack's btstack_link_key_db_tlv): slot layout under tag
 * 'B' 'T' 'L' index, store / replace / delete, eviction of the least recently *stored* key (get
 * does not refresh, as BTstack's TLV db), NVM_NUM_LINK_KEYS from StackConfig, the iterator in slot
 * order, other tags in the same store left alone, a failing store, and a seeded random run against
 * a plain model.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sscanf_bd_addr, type BdAddr } from '../../../src/core/bytes.js';
import { DEFAULT_CONFIG, resolveConfig } from '../../../src/core/config.js';
import { Logger } from '../../../src/core/log.js';
import { btstack_tlv_memory_instance, type BtstackTlv } from '../../../src/core/tlv.js';
import {
  AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256,
  COMBINATION_KEY,
  LINK_KEY_LEN,
  UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P192,
  btstack_link_key_iterator_create,
  type BtstackLinkKeyDb,
  type LinkKeyEntry,
} from '../../../src/hci/link-key-db.js';
import { LINK_KEY_DB_TLV_ENTRY_LEN, btstack_link_key_db_tlv_get_instance } from '../../../src/hci/link-key-db-tlv.js';
import * as pkg from '../../../src/index.js';

const addr = (s: string): BdAddr => sscanf_bd_addr(s)!;
const A = addr('00:1B:DC:07:32:EF');
const B = addr('C0:FF:EE:00:00:02');
const C = addr('C0:FF:EE:00:00:03');
const D = addr('80:70:83:D3:F9:21');
const E = addr('80:70:83:D3:F9:22');
/** Slot tags written out: 'B' 'T' 'L' = 0x42 0x54 0x4C. */
const BTL = (i: number): number => 0x42544c00 + i;

function key(seed: number): Uint8Array {
  return Uint8Array.from({ length: LINK_KEY_LEN }, (_, i) => (seed + i) & 0xff);
}

function make(n = 16, tlv: BtstackTlv = btstack_tlv_memory_instance()): { db: BtstackLinkKeyDb; tlv: BtstackTlv } {
  const db = btstack_link_key_db_tlv_get_instance(tlv, { NVM_NUM_LINK_KEYS: n });
  db.open();
  return { db, tlv };
}

function walk(db: BtstackLinkKeyDb): LinkKeyEntry[] {
  const it = btstack_link_key_iterator_create();
  const out: LinkKeyEntry[] = [];
  assert.ok(db.iterator_init(it));
  for (let e = db.iterator_get_next(it); e; e = db.iterator_get_next(it)) out.push(e);
  db.iterator_done(it);
  return out;
}
const addrs = (db: BtstackLinkKeyDb): string[] => walk(db).map((e) => Array.from(e.bd_addr, (b) => b.toString(16)).join(':'));
const held = (db: BtstackLinkKeyDb, ...list: BdAddr[]): boolean[] => list.map((a) => db.get_link_key(a) !== null);

test('a slot is 27 bytes under BTL + index: seq_nr (LE), bd_addr as printed, key, type', () => {
  const { db, tlv } = make();
  db.put_link_key(A, key(0x10), AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256);
  // seq_nr 1 = 01 00 00 00; 00:1B:DC:07:32:EF; key 10..1f; type 0x08
  const want = Uint8Array.from([
    0x01, 0x00, 0x00, 0x00, 0x00, 0x1b, 0xdc, 0x07, 0x32, 0xef, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
    0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x08,
  ]);
  assert.is(LINK_KEY_DB_TLV_ENTRY_LEN, 27);
  assert.equal(tlv.get_tag(BTL(0)), want);
  db.put_link_key(B, key(0x20), COMBINATION_KEY);
  assert.equal(tlv.get_tag(BTL(1))!.subarray(0, 4), Uint8Array.of(2, 0, 0, 0), 'seq_nr 2 in the first empty slot');
  db.put_link_key(A, key(0x30), COMBINATION_KEY);
  assert.equal(
    tlv.get_tag(BTL(0))!.subarray(0, 4),
    Uint8Array.of(3, 0, 0, 0),
    'a replaced key gets the highest seq_nr + 1, same slot',
  );
  assert.is(tlv.get_tag(BTL(2)), null);
});

test('put / get / replace / delete; unknown -> null; copies in and out; bad arguments are TypeErrors', () => {
  const { db } = make();
  assert.is(db.get_link_key(A), null);
  const k = key(1);
  db.put_link_key(A, k, UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P192);
  k[0] = 0xee;
  const got = db.get_link_key(A)!;
  assert.equal(got, { link_key: key(1), type: UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P192 });
  got.link_key[1] = 0xee;
  assert.equal(db.get_link_key(A)!.link_key, key(1));
  db.put_link_key(A, key(2), COMBINATION_KEY);
  assert.equal(db.get_link_key(A), { link_key: key(2), type: COMBINATION_KEY });
  db.delete_link_key(A);
  db.delete_link_key(A);
  assert.is(db.get_link_key(A), null);
  assert.throws(() => db.put_link_key(A, new Uint8Array(15), 0), TypeError);
  assert.throws(() => db.get_link_key(new Uint8Array(5)), TypeError);
  assert.throws(() => db.set_local_bd_addr(new Uint8Array(7)), TypeError);
  db.set_local_bd_addr(D);
  db.close();
});

test('full: the least recently stored key goes; get does not refresh it, a put does', () => {
  const { db, tlv } = make(3);
  db.put_link_key(A, key(1), 0); // seq 1
  db.put_link_key(B, key(2), 0); // seq 2
  db.put_link_key(C, key(3), 0); // seq 3
  assert.ok(db.get_link_key(A), 'reading A does not make it recent');
  db.put_link_key(D, key(4), 0); // evicts A (seq 1), takes slot 0, seq 4
  assert.equal(held(db, A, B, C, D), [false, true, true, true]);
  assert.equal(tlv.get_tag(BTL(0))!.subarray(4, 10), D);
  db.put_link_key(B, key(5), 0); // B stored again: seq 5
  db.put_link_key(E, key(6), 0); // evicts C (seq 3)
  assert.equal(held(db, B, C, D, E), [true, false, true, true]);
  db.put_link_key(A, key(7), 0); // evicts D (seq 4)
  assert.equal(held(db, A, B, C, D, E), [true, true, false, false, true]);
  assert.equal(tlv.get_tag(BTL(0))!.subarray(4, 10), A);
});

test('NVM_NUM_LINK_KEYS comes from StackConfig (default 16); 0 keeps nothing; past 256 is a RangeError', () => {
  assert.is(DEFAULT_CONFIG.NVM_NUM_LINK_KEYS, 16);
  assert.is(resolveConfig({ NVM_NUM_LINK_KEYS: 4 }).NVM_NUM_LINK_KEYS, 4);
  const tlv = btstack_tlv_memory_instance();
  const db = btstack_link_key_db_tlv_get_instance(tlv);
  for (let i = 0; i < 17; i++) db.put_link_key(Uint8Array.of(1, 2, 3, 4, 5, i), key(i), 0);
  assert.is(walk(db).length, 16);
  assert.is(db.get_link_key(Uint8Array.of(1, 2, 3, 4, 5, 0)), null, 'the first stored went');
  assert.equal(db.get_link_key(Uint8Array.of(1, 2, 3, 4, 5, 16))!.link_key, key(16));
  assert.equal(tlv.get_tag(BTL(0))!.subarray(4, 10), Uint8Array.of(1, 2, 3, 4, 5, 16));
  const none = make(0);
  none.db.put_link_key(A, key(1), 0);
  assert.is(none.db.get_link_key(A), null);
  assert.equal(walk(none.db), []);
  assert.throws(() => btstack_link_key_db_tlv_get_instance(tlv, { NVM_NUM_LINK_KEYS: 257 }), RangeError);
  assert.is(pkg.btstack_link_key_db_tlv_get_instance, btstack_link_key_db_tlv_get_instance, 'exported from bthost');
});

test('iterator: slot order, copies, empty slots skipped, delete-all while walking, a foreign iterator reads nothing', () => {
  const { db } = make(4);
  db.put_link_key(A, key(1), 1);
  db.put_link_key(B, key(2), 2);
  db.put_link_key(C, key(3), 3);
  db.delete_link_key(B);
  db.put_link_key(D, key(4), 4); // first empty slot: B's (slot 1)
  assert.equal(addrs(db), ['0:1b:dc:7:32:ef', '80:70:83:d3:f9:21', 'c0:ff:ee:0:0:3']);
  assert.equal(walk(db)[1], { bd_addr: D, link_key: key(4), type: 4 });
  const it = btstack_link_key_iterator_create();
  db.iterator_init(it);
  for (let e = db.iterator_get_next(it); e; e = db.iterator_get_next(it)) db.delete_link_key(e.bd_addr);
  db.iterator_done(it);
  assert.equal(walk(db), []);
  const other = make(4);
  other.db.put_link_key(A, key(1), 1);
  const it2 = btstack_link_key_iterator_create();
  db.iterator_init(it2);
  assert.is(other.db.iterator_get_next(it2), null);
  assert.is(db.iterator_get_next(btstack_link_key_iterator_create()), null, 'not initialised');
});

test('one store, other tags: LE device db entries (BTD) and application tags are neither read nor touched', () => {
  const tlv = btstack_tlv_memory_instance();
  tlv.store_tag(0x42544400, new Uint8Array(27).fill(0xaa)); // 'BTD' 0: an LE bond, same length as a slot
  tlv.store_tag(0x534d4552, new Uint8Array(16).fill(0xbb)); // 'SMER'
  const { db } = make(2, tlv);
  assert.equal(walk(db), []);
  db.put_link_key(A, key(1), 0);
  db.put_link_key(B, key(2), 0);
  db.put_link_key(C, key(3), 0);
  for (const e of walk(db)) db.delete_link_key(e.bd_addr);
  assert.equal(tlv.get_tag(0x42544400), new Uint8Array(27).fill(0xaa));
  assert.equal(tlv.get_tag(0x534d4552), new Uint8Array(16).fill(0xbb));
});

test('a slot value that is not 27 bytes reads as empty and is reused; two dbs on one store see the same keys', () => {
  const tlv = btstack_tlv_memory_instance();
  tlv.store_tag(BTL(0), new Uint8Array(26));
  const { db } = make(2, tlv);
  assert.equal(walk(db), []);
  db.put_link_key(A, key(1), 0);
  assert.is(tlv.get_tag(BTL(0))!.length, 27, 'slot 0 taken over');
  const again = btstack_link_key_db_tlv_get_instance(tlv, { NVM_NUM_LINK_KEYS: 2 });
  assert.equal(again.get_link_key(A)!.link_key, key(1));
});

test('a store that refuses the write: put logs one error line, the db keeps its previous keys, nothing throws', () => {
  const tlv = btstack_tlv_memory_instance({ max_tags: 1 });
  const lines: string[] = [];
  const log = new Logger();
  log.add_sink((_l, m) => lines.push(m));
  const db = btstack_link_key_db_tlv_get_instance(tlv, { NVM_NUM_LINK_KEYS: 4 }, log);
  db.put_link_key(A, key(1), 0);
  db.put_link_key(B, key(2), 0);
  assert.equal(lines, ['link key db: storing the key of C0:FF:EE:00:00:02 failed, status 0x56']);
  assert.equal(held(db, A, B), [true, false]);
});

test('seeded random run against a model of least-recently-stored eviction', () => {
  let seed = 0x5eed;
  const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const N = 5;
  const { db } = make(N);
  // model: address index -> [key seed, type, stored-at counter]
  const model = new Map<number, [number, number, number]>();
  let clock = 0;
  const who = (i: number): BdAddr => Uint8Array.of(0xc0, 0xff, 0xee, 0, 0, i);
  for (let step = 0; step < 20_000; step++) {
    const i = rnd(9);
    const op = rnd(10);
    if (op < 5) {
      const k = rnd(256);
      const type = rnd(9);
      if (!model.has(i) && model.size === N) {
        let oldest = -1;
        for (const [j, v] of model) if (oldest < 0 || v[2] < model.get(oldest)![2]) oldest = j;
        model.delete(oldest);
      }
      model.set(i, [k, type, ++clock]);
      db.put_link_key(who(i), key(k), type);
    } else if (op < 7) {
      model.delete(i);
      db.delete_link_key(who(i));
    } else {
      const m = model.get(i);
      assert.equal(db.get_link_key(who(i)), m ? { link_key: key(m[0]), type: m[1] } : null, `step ${step}`);
    }
  }
  assert.is(walk(db).length, model.size);
});

test.run();
