import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeRunLoop, Timer, VirtualRunLoop } from '../../../src/core/run-loop.js';

test('virtual loop jumps to deadlines and fires in deadline order', () => {
  const loop = new VirtualRunLoop();
  const fired: Array<[string, number]> = [];
  const mk = (name: string, ms: number) => {
    const t = new Timer((tt) => fired.push([tt.context as string, loop.get_time_ms()]), name);
    loop.set_timer(t, ms);
    loop.add_timer(t);
    return t;
  };
  mk('rtx', 10_000);
  mk('ertx', 120_000);
  mk('short', 5);
  const elapsed = loop.run();
  assert.equal(fired, [['short', 5], ['rtx', 10_000], ['ertx', 120_000]]);
  assert.is(elapsed, 120_000);
  assert.is(loop.timer_count(), 0);
});

test('equal deadlines fire in the order they were added', () => {
  const loop = new VirtualRunLoop();
  const order: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = new Timer(() => order.push(i));
    loop.set_timer(t, 100);
    loop.add_timer(t);
  }
  loop.run();
  assert.equal(order, Array.from({ length: 50 }, (_, i) => i));
});

test('remove_timer cancels; re-adding moves the deadline', () => {
  const loop = new VirtualRunLoop();
  let hits = 0;
  const t = new Timer(() => hits++);
  loop.set_timer(t, 100);
  loop.add_timer(t);
  assert.ok(loop.remove_timer(t));
  assert.not.ok(loop.remove_timer(t));
  loop.run();
  assert.is(hits, 0);
  loop.set_timer(t, 50);
  loop.add_timer(t);
  loop.set_timer(t, 70);
  loop.add_timer(t); // re-add of an active timer re-queues, never duplicates
  assert.is(loop.timer_count(), 1);
  loop.run();
  assert.is(hits, 1);
  assert.is(loop.get_time_ms(), 70);
});

test('posted callbacks run before time advances; timer handlers may re-arm', () => {
  const loop = new VirtualRunLoop();
  const log: string[] = [];
  const t = new Timer((tt) => {
    log.push(`tick@${loop.get_time_ms()}`);
    if (log.filter((l) => l.startsWith("tick")).length < 3) {
      loop.set_timer(tt, 1000);
      loop.add_timer(tt);
    }
  });
  loop.set_timer(t, 1000);
  loop.add_timer(t);
  loop.execute_on_main_thread(() => log.push(`posted@${loop.get_time_ms()}`));
  loop.run();
  assert.equal(log, ['posted@0', 'tick@1000', 'tick@2000', 'tick@3000']);
});

test('run(max) stops at the limit; advance moves the clock exactly', () => {
  const loop = new VirtualRunLoop();
  let hit = false;
  const t = new Timer(() => (hit = true));
  loop.set_timer(t, 120_000);
  loop.add_timer(t);
  loop.run(10_000);
  assert.is(loop.get_time_ms(), 10_000);
  assert.not.ok(hit);
  loop.advance(110_000);
  assert.ok(hit);
  assert.is(loop.get_time_ms(), 120_000);
  loop.advance(5);
  assert.is(loop.get_time_ms(), 120_005);
});

test('trigger_exit stops the virtual loop; a throwing handler does not kill it', () => {
  const loop = new VirtualRunLoop();
  const errors: unknown[] = [];
  loop.onError = (e) => errors.push(e);
  const log: number[] = [];
  loop.execute_on_main_thread(() => {
    throw new Error('boom');
  });
  loop.execute_on_main_thread(() => log.push(1));
  loop.execute_on_main_thread(() => loop.trigger_exit());
  loop.execute_on_main_thread(() => log.push(2));
  loop.run();
  assert.equal(log, [1]);
  assert.is(errors.length, 1);
  loop.run();
  assert.equal(log, [1, 2]);
});

test('run_until stops as soon as the predicate holds', () => {
  const loop = new VirtualRunLoop();
  let n = 0;
  const t = new Timer((tt) => {
    n++;
    loop.set_timer(tt, 10);
    loop.add_timer(tt);
  });
  loop.set_timer(t, 10);
  loop.add_timer(t);
  assert.ok(loop.run_until(() => n === 5));
  assert.is(loop.get_time_ms(), 50);
  assert.not.ok(loop.run_until(() => n === 1000, 100));
  loop.remove_timer(t);
});

test('node loop: one Node timer for the earliest deadline, stable order, exit resolves', async () => {
  const loop = new NodeRunLoop();
  const order: string[] = [];
  const add = (name: string, ms: number) => {
    const t = new Timer(() => order.push(name));
    loop.set_timer(t, ms);
    loop.add_timer(t);
  };
  add('b', 20);
  add('a', 5);
  add('c', 20);
  const last = new Timer(() => loop.trigger_exit());
  loop.set_timer(last, 30);
  loop.add_timer(last);
  loop.execute_on_main_thread(() => order.push('posted'));
  await loop.execute();
  assert.equal(order, ['posted', 'a', 'b', 'c']);
  assert.ok(loop.get_time_ms() >= 30);
});

test.run();
