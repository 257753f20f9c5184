import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Pool, BufferPool } from '../../../src/core/pool.js';
import { Pools, resolveConfig, DEFAULT_CONFIG } from '../../../src/core/config.js';

test('get returns null when exhausted; stats track in-use and high water', () => {
  const p = new Pool('l2cap_channels', 3, () => ({ cid: 0 }));
  const a = p.get()!,
    b = p.get()!,
    c = p.get()!;
  assert.ok(a && b && c);
  assert.is(p.get(), null);
  assert.equal(p.stats(), { name: 'l2cap_channels', in_use: 3, capacity: 3, high_water: 3 });
  p.free(b);
  assert.is(p.in_use, 2);
  const d = p.get();
  assert.is(d, b, 'freed blocks are recycled, not reallocated');
  p.free(a);
  p.free(c);
  p.free(d!);
  assert.equal(p.stats(), { name: 'l2cap_channels', in_use: 0, capacity: 3, high_water: 3 });
});

test('double free and foreign free are programmer errors', () => {
  const p = new Pool('x', 2, () => ({}));
  const a = p.get()!;
  p.free(a);
  assert.throws(() => p.free(a), /double free/);
  assert.throws(() => p.free({}), /does not belong/);
  const q = new Pool('y', 1, () => ({}));
  const foreign = q.get()!;
  assert.throws(() => p.free(foreign), /does not belong/);
});

test('reset hook clears a block on free', () => {
  const p = new Pool(
    'c',
    1,
    () => ({ v: 0 }),
    (o) => (o.v = 0),
  );
  const a = p.get()!;
  a.v = 7;
  p.free(a);
  assert.is(p.get()!.v, 0);
});

test('buffer pool hands out fixed-size buffers', () => {
  const bp = new BufferPool('bufs', 2, 1021);
  const b = bp.get()!;
  assert.is(b.length, 1021);
  bp.get();
  assert.is(bp.get(), null);
});

test('config uses BTstack MAX_NR_* names; Pools registers and reports all', () => {
  const cfg = resolveConfig({ MAX_NR_L2CAP_CHANNELS: 2 });
  assert.is(cfg.MAX_NR_L2CAP_CHANNELS, 2);
  assert.is(cfg.MAX_NR_HCI_CONNECTIONS, DEFAULT_CONFIG.MAX_NR_HCI_CONNECTIONS);
  assert.throws(() => resolveConfig({ MAX_NR_L2CAP_SERVICES: -1 }), TypeError);
  const pools = new Pools(cfg);
  const ch = pools.create('MAX_NR_L2CAP_CHANNELS', 'l2cap_channels', () => ({}));
  assert.is(ch.capacity, 2);
  const x = ch.get()!;
  assert.not.ok(pools.all_free());
  ch.free(x);
  assert.ok(pools.all_free());
  assert.equal(
    pools.stats().map((s) => s.name),
    ['packet_buffers', 'l2cap_channels'],
  );
});

test('a store pool (bonds) shows in stats() but all_free() does not count it', () => {
  const pools = new Pools(resolveConfig({ MAX_NR_BTSTACK_LINK_KEY_DB_MEMORY_ENTRIES: 2 }));
  const keys = pools.create('MAX_NR_BTSTACK_LINK_KEY_DB_MEMORY_ENTRIES', 'keys', () => ({}), undefined, true);
  const k = keys.get()!;
  assert.ok(pools.all_free(), 'a kept bond is not a leak');
  assert.equal(pools.stats()[1], { name: 'keys', in_use: 1, capacity: 2, high_water: 1 });
  keys.free(k);
  const work = pools.create('MAX_NR_BTSTACK_LINK_KEY_DB_MEMORY_ENTRIES', 'work', () => ({}));
  work.get();
  assert.not.ok(pools.all_free(), 'a working pool still counts');
});

test.run();
