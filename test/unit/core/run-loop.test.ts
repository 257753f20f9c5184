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
  assert.equal(fired, [
    ['short', 5],
    ['rtx', 10_000],
    ['ertx', 120_000],
  ]);
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
  assert.equal(
    order,
    Array.from({ length: 50 }, (_, i) => i),
  );
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
    if (log.filter((l) => l.startsWith('tick')).length < 3) {
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

test('trigger_exit stops the virtual loop; with an error handler a throwing callback does not kill it', () => {
  const loop = new VirtualRunLoop();
  const errors: unknown[] = [];
  loop.set_error_handler((e) => errors.push(e));
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

test('node loop: 100 timers with at most one Node timer live at any time, armed once per burst', async () => {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Set<unknown>();
  let maxLive = 0;
  let sets = 0;
  // count the Node timers the loop creates: live from setTimeout until fired or cleared
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    sets++;
    const handle: ReturnType<typeof setTimeout> = realSet(
      (...a: unknown[]) => {
        live.delete(handle);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.add(handle);
    maxLive = Math.max(maxLive, live.size);
    return handle;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((handle?: Parameters<typeof clearTimeout>[0]) => {
    live.delete(handle);
    realClear(handle);
  }) as typeof clearTimeout;
  try {
    const loop = new NodeRunLoop();
    const fired: number[] = [];
    const deadlines = new Set<number>();
    // 100 timers added latest deadline first (each one earlier than the armed one), 10 distinct deadlines
    for (let i = 99; i >= 0; i--) {
      const ms = 5 + 5 * (i % 10);
      deadlines.add(ms);
      const t = new Timer(() => fired.push(i));
      loop.set_timer(t, ms);
      loop.add_timer(t);
    }
    // a handler that re-arms itself and adds another timer in the same batch
    let rearmed = 0;
    const again = new Timer((t) => {
      if (++rearmed < 3) {
        loop.set_timer(t, 7);
        loop.add_timer(t);
        const n = rearmed;
        const extra = new Timer(() => fired.push(1000 + n));
        loop.set_timer(extra, 8);
        loop.add_timer(extra);
      }
    });
    loop.set_timer(again, 12);
    loop.add_timer(again);
    const last = new Timer(() => loop.trigger_exit());
    loop.set_timer(last, 80);
    loop.add_timer(last);
    assert.is(loop.timer_count(), 102);
    assert.is(sets, 0, 'nothing armed inside the synchronous burst');
    await Promise.resolve();
    assert.is(sets, 1, 'the burst of 102 adds (10 of them earlier than the one before) armed one Node timer');
    await loop.execute();
    assert.is(maxLive, 1, 'never more than one Node timer live');
    assert.is(live.size, 0, 'none left after exit');
    const plain = fired.filter((i) => i < 1000);
    assert.is(plain.length, 100, 'every timer fired');
    // deadline order; equal deadlines in insertion order (i descending within a deadline)
    const expected = Array.from({ length: 100 }, (_, k) => 99 - k).sort((a, b) => (a % 10) - (b % 10));
    assert.equal(plain, expected);
    assert.equal(
      fired.filter((i) => i >= 1000),
      [1001, 1002],
    );
    assert.is(loop.timer_count(), 0);
    // one arm per burst: the adds, then about one per firing batch (distinct deadlines, the
    // re-armed ones, and slack for Node waking up a little early)
    assert.ok(sets <= 2 * deadlines.size + 10, `${sets} setTimeout calls for ${deadlines.size} distinct deadlines`);
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
});

test('node loop: callbacks posted by a timer handler run in the same Node callback, after the due timers, with no setImmediate', async () => {
  const realImmediate = globalThis.setImmediate;
  let immediates = 0;
  globalThis.setImmediate = ((fn: (...a: unknown[]) => void, ...args: unknown[]) => {
    immediates++;
    return realImmediate(fn, ...args);
  }) as typeof setImmediate;
  try {
    const loop = new NodeRunLoop();
    const order: string[] = [];
    let turn = 0;
    // a macrotask boundary marker: anything Node runs between two of our callbacks bumps `turn`
    const tick = setInterval(() => turn++, 1);
    let immediatesBefore = -1;
    const a = new Timer(() => {
      order.push(`a@${turn}`);
      immediatesBefore = immediates;
      loop.execute_on_main_thread(() => {
        order.push(`posted-a@${turn}`);
        loop.execute_on_main_thread(() => order.push(`posted-again@${turn}`));
      });
    });
    const b = new Timer(() => order.push(`b@${turn}`));
    loop.set_timer(a, 5);
    loop.add_timer(a);
    loop.set_timer(b, 5);
    loop.add_timer(b);
    const last = new Timer(() => loop.trigger_exit());
    loop.set_timer(last, 30);
    loop.add_timer(last);
    const run = loop.execute();
    await run;
    clearInterval(tick);
    const t = order[0]!.split('@')[1];
    // both due timers first, then the posted callbacks (and one posted by a posted one), one turn
    assert.equal(order, [`a@${t}`, `b@${t}`, `posted-a@${t}`, `posted-again@${t}`]);
    // (execute() itself may post a turn before the timers; none from the timer's posts)
    assert.is(immediates, immediatesBefore);
  } finally {
    globalThis.setImmediate = realImmediate;
  }
});

test('node loop: timers changed inside its own callbacks are armed at their end, with no microtask (the read window re-arms on every wakeup)', async () => {
  const realQueue = globalThis.queueMicrotask;
  let microtasks = 0;
  globalThis.queueMicrotask = ((fn: () => void) => {
    microtasks++;
    realQueue(fn);
  }) as typeof queueMicrotask;
  try {
    const loop = new NodeRunLoop();
    const fired: number[] = [];
    const run = loop.execute();
    await Promise.resolve();
    // a posted callback (setImmediate turn) adds the first timer; each firing re-adds it
    let n = 0;
    const window = new Timer((t) => {
      fired.push(loop.get_time_ms());
      if (++n < 5) {
        loop.set_timer(t, 2);
        loop.add_timer(t);
      } else loop.trigger_exit();
    });
    const before = microtasks;
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        // outside the loop: the add is settled by a microtask, as before
        loop.execute_on_main_thread(() => {
          loop.set_timer(window, 2);
          loop.add_timer(window);
        });
        resolve();
      }),
    );
    const fromOutside = microtasks - before;
    await run;
    assert.is(fired.length, 5, 'the timer re-added by its own handler kept firing');
    for (let i = 1; i < fired.length; i++) assert.ok(fired[i]! - fired[i - 1]! >= 2, `fired at ${fired.join(', ')}`);
    assert.is(microtasks - before - fromOutside, 0, 'no microtask for timers added inside the loop');
  } finally {
    globalThis.queueMicrotask = realQueue;
  }
});

test('node loop: a timer handler that throws still lets the callbacks it posted run on a later turn', async () => {
  const loop = new NodeRunLoop();
  const seen: string[] = [];
  const realListeners = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const caught: unknown[] = [];
  process.on('uncaughtException', (e) => caught.push(e));
  try {
    const a = new Timer(() => {
      loop.execute_on_main_thread(() => seen.push('posted'));
      throw new Error('handler failed');
    });
    loop.set_timer(a, 2);
    loop.add_timer(a);
    const last = new Timer(() => loop.trigger_exit());
    loop.set_timer(last, 20);
    loop.add_timer(last);
    await loop.execute();
    assert.equal(seen, ['posted']);
    assert.is(caught.length, 1);
    assert.match(String(caught[0]), /handler failed/);
  } finally {
    process.removeAllListeners('uncaughtException');
    for (const l of realListeners) process.on('uncaughtException', l);
  }
});

test.run();
