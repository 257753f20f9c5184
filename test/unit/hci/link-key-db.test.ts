/**
 * Link key db (BTstack's btstack_link_key_db_t) and its memory implementation: store / replace /
 * delete, copies in and out, entries from a pool of MAX_NR_BTSTACK_LINK_KEY_DB_MEMORY_ENTRIES,
 * least recently used entry reused when full, iteration most recently used first (delete-all
 * while iterating), independent instances, and a seeded random run against a plain model.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Pools, resolveConfig } from '../../../src/core/config.js';
import { sscanf_bd_addr, type BdAddr } from '../../../src/core/bytes.js';
import {
  AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256,
  COMBINATION_KEY,
  INVALID_LINK_KEY,
  LINK_KEY_LEN,
  UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P192,
  btstack_link_key_db_memory_instance,
  btstack_link_key_iterator_create,
  type BtstackLinkKeyDb,
  type LinkKeyEntry,
} from '../../../src/hci/link-key-db.js';
import * as pkg from '../../../src/index.js';

function addr(s: string): BdAddr {
  return sscanf_bd_addr(s)!;
}
const A = addr('00:1B:DC:07:32:EF');
const B = addr('C0:FF:EE:00:00:02');
const C = addr('C0:FF:EE:00:00:03');
const D = addr('80:70:83:D3:F9:21');

/** A 16-byte key whose bytes are seed, seed+1, ... */
function key(seed: number): Uint8Array {
  return Uint8Array.from({ length: LINK_KEY_LEN }, (_, i) => (seed + i) & 0xff);
}

function make(entries = 16): { db: BtstackLinkKeyDb; pools: Pools } {
  const pools = new Pools(resolveConfig({ MAX_NR_BTSTACK_LINK_KEY_DB_MEMORY_ENTRIES: entries }));
  const db = btstack_link_key_db_memory_instance(pools);
  db.open();
  return { db, pools };
}

/** Every entry, as the iterator returns them. */
function walk(db: BtstackLinkKeyDb): LinkKeyEntry[] {
  const it = btstack_link_key_iterator_create();
  const out: LinkKeyEntry[] = [];
  assert.ok(db.iterator_init(it));
  for (let e = db.iterator_get_next(it); e; e = db.iterator_get_next(it)) out.push(e);
  db.iterator_done(it);
  return out;
}

function pool_stats(pools: Pools) {
  return pools.stats().find((s) => s.name === 'link_key_db_memory_entries')!;
}

test('link key types are the Key_Type values of HCI Link Key Notification', () => {
  assert.is(COMBINATION_KEY, 0x00);
  assert.is(UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P192, 0x04);
  assert.is(AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256, 0x08);
  assert.is(INVALID_LINK_KEY, 0xffff);
  assert.is(LINK_KEY_LEN, 16);
  assert.is(pkg.btstack_link_key_db_memory_instance, btstack_link_key_db_memory_instance, 'exported from bthost');
});

test('put then get: the key and type; unknown address: null; results and inputs are copies', () => {
  const { db } = make();
  assert.is(db.get_link_key(A), null);
  const k = key(0x10);
  db.put_link_key(A, k, AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256);
  k.fill(0xee); // the db keeps its own copy
  const got = db.get_link_key(addr('00:1B:DC:07:32:EF'))!;
  assert.equal(got, { link_key: key(0x10), type: AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256 });
  got.link_key.fill(0); // changing the result does not change the db
  assert.equal(db.get_link_key(A)!.link_key, key(0x10));
  assert.is(db.get_link_key(B), null);
});

test('put for a known address replaces its key and type without a new entry; delete frees the entry', () => {
  const { db, pools } = make();
  db.put_link_key(A, key(1), COMBINATION_KEY);
  db.put_link_key(B, key(2), COMBINATION_KEY);
  db.put_link_key(A, key(3), UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P192);
  assert.equal(db.get_link_key(A), { link_key: key(3), type: UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P192 });
  assert.equal(pool_stats(pools), { name: 'link_key_db_memory_entries', in_use: 2, capacity: 16, high_water: 2 });
  db.delete_link_key(A);
  assert.is(db.get_link_key(A), null);
  assert.equal(db.get_link_key(B), { link_key: key(2), type: COMBINATION_KEY });
  db.delete_link_key(C); // unknown: nothing happens
  assert.is(pool_stats(pools).in_use, 1);
  db.delete_link_key(B);
  assert.ok(pools.all_free(), 'every entry back in the pool');
});

test('full: put of a new address reuses the least recently used entry (get and put count as use)', () => {
  const { db, pools } = make(3);
  db.put_link_key(A, key(0xa0), COMBINATION_KEY);
  db.put_link_key(B, key(0xb0), COMBINATION_KEY);
  db.put_link_key(C, key(0xc0), COMBINATION_KEY);
  assert.ok(db.get_link_key(A)); // A used: B is now the least recently used
  db.put_link_key(D, key(0xd0), COMBINATION_KEY);
  assert.is(db.get_link_key(B), null, 'B dropped');
  assert.equal(
    walk(db).map((e) => e.bd_addr),
    [D, A, C],
    'most recently used first',
  );
  assert.equal(pool_stats(pools), { name: 'link_key_db_memory_entries', in_use: 3, capacity: 3, high_water: 3 });
  // replacing C's key counts as use: A is the oldest now
  db.put_link_key(C, key(0xc1), COMBINATION_KEY);
  db.put_link_key(B, key(0xb1), COMBINATION_KEY);
  assert.equal(
    walk(db).map((e) => e.bd_addr),
    [B, C, D],
  );
  assert.equal(db.get_link_key(C)!.link_key, key(0xc1));
  assert.equal(db.get_link_key(D)!.link_key, key(0xd0), 'the reused entry holds only the new key');
  assert.equal(db.get_link_key(B)!.link_key, key(0xb1));
});

test('no entries configured: put stores nothing, get finds nothing', () => {
  const { db, pools } = make(0);
  db.put_link_key(A, key(1), COMBINATION_KEY);
  assert.is(db.get_link_key(A), null);
  assert.equal(walk(db), []);
  assert.ok(pools.all_free());
});

test('iterator: every entry with address, key and type; empty db; delete each key as it is returned', () => {
  const { db, pools } = make();
  assert.equal(walk(db), []);
  db.put_link_key(A, key(1), COMBINATION_KEY);
  db.put_link_key(B, key(2), AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256);
  db.put_link_key(C, key(3), COMBINATION_KEY);
  assert.equal(walk(db), [
    { bd_addr: C, link_key: key(3), type: COMBINATION_KEY },
    { bd_addr: B, link_key: key(2), type: AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256 },
    { bd_addr: A, link_key: key(1), type: COMBINATION_KEY },
  ]);
  // gap_delete_all_link_keys does this
  const it = btstack_link_key_iterator_create();
  db.iterator_init(it);
  let n = 0;
  for (let e = db.iterator_get_next(it); e; e = db.iterator_get_next(it)) {
    db.delete_link_key(e.bd_addr);
    n++;
  }
  db.iterator_done(it);
  assert.is(n, 3);
  assert.equal(walk(db), []);
  assert.ok(pools.all_free());
});

test('iterator: the walk ends where the next entry was deleted or moved; after done, and for another db, nothing', () => {
  const { db } = make();
  db.put_link_key(A, key(1), COMBINATION_KEY);
  db.put_link_key(B, key(2), COMBINATION_KEY);
  db.put_link_key(C, key(3), COMBINATION_KEY); // order C B A
  const it = btstack_link_key_iterator_create();
  db.iterator_init(it);
  assert.equal(db.iterator_get_next(it)!.bd_addr, C);
  db.delete_link_key(B); // the next one
  assert.is(db.iterator_get_next(it), null);
  assert.is(db.iterator_get_next(it), null, 'stays at the end');

  db.put_link_key(B, key(2), COMBINATION_KEY); // order B C A
  db.iterator_init(it);
  assert.equal(db.iterator_get_next(it)!.bd_addr, B);
  assert.ok(db.get_link_key(C)); // moves the next one to the front
  assert.is(db.iterator_get_next(it), null);

  db.iterator_init(it);
  db.iterator_done(it);
  assert.is(db.iterator_get_next(it), null, 'after done');
  const other = make().db;
  other.put_link_key(D, key(4), COMBINATION_KEY);
  other.iterator_init(it);
  assert.is(db.iterator_get_next(it), null, 'an iterator of another db');
  assert.equal(other.iterator_get_next(it)!.bd_addr, D);
});

test('open / close / set_local_bd_addr keep the keys; two instances do not share keys', () => {
  const first = make();
  const second = make();
  first.db.put_link_key(A, key(1), COMBINATION_KEY);
  first.db.close();
  first.db.open();
  first.db.set_local_bd_addr(B);
  assert.equal(first.db.get_link_key(A), { link_key: key(1), type: COMBINATION_KEY });
  assert.is(second.db.get_link_key(A), null);
  assert.is(pool_stats(second.pools).in_use, 0);
});

test('wrong sizes are programming errors (TypeError), and change nothing', () => {
  const { db, pools } = make();
  assert.throws(() => db.put_link_key(new Uint8Array(5), key(1), COMBINATION_KEY), TypeError);
  assert.throws(() => db.put_link_key(A, new Uint8Array(15), COMBINATION_KEY), TypeError);
  assert.throws(() => db.get_link_key(new Uint8Array(7)), TypeError);
  assert.throws(() => db.delete_link_key(new Uint8Array(0)), TypeError);
  assert.ok(pools.all_free());
});

/** mulberry32 */
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

test('random operations agree with a most-recently-used list model (seeded, bounded)', () => {
  for (const seed of [1, 2, 3, 0xb7]) {
    const rnd = prng(seed);
    const capacity = 1 + Math.floor(rnd() * 5);
    const { db, pools } = make(capacity);
    const addrs = Array.from({ length: 8 }, (_, i) => Uint8Array.of(0xc0, 0xff, 0xee, 0, 0, i));
    // model: [address index, key seed, type], most recently used first
    let model: Array<[number, number, number]> = [];
    for (let step = 0; step < 400; step++) {
      const i = Math.floor(rnd() * addrs.length);
      const op = rnd();
      if (op < 0.45) {
        const seedKey = Math.floor(rnd() * 256);
        const type = Math.floor(rnd() * 9);
        db.put_link_key(addrs[i]!, key(seedKey), type);
        const old = model.findIndex((m) => m[0] === i);
        if (old >= 0) model.splice(old, 1);
        else if (model.length === capacity) model.pop();
        model.unshift([i, seedKey, type]);
      } else if (op < 0.8) {
        const got = db.get_link_key(addrs[i]!);
        const at = model.findIndex((m) => m[0] === i);
        if (at < 0) assert.is(got, null, `seed ${seed} step ${step}`);
        else {
          const [m] = model.splice(at, 1);
          model.unshift(m!);
          assert.equal(got, { link_key: key(m![1]), type: m![2] }, `seed ${seed} step ${step}`);
        }
      } else {
        db.delete_link_key(addrs[i]!);
        model = model.filter((m) => m[0] !== i);
      }
      assert.is(pool_stats(pools).in_use, model.length);
    }
    assert.equal(
      walk(db),
      model.map(([i, k, type]) => ({ bd_addr: addrs[i]!, link_key: key(k), type })),
      `seed ${seed}: final contents in order`,
    );
  }
});

test.run();
