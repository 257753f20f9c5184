/**
 * Errors thrown by application callbacks (issue 12 item 6): by default they leave the loop like any
 * uncaught error in a Node callback (the process prints the stack and exits non-zero), the loop's
 * own state restored first; set_error_handler() opts in to reporting them and carrying on.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { NodeRunLoop, Timer, VirtualRunLoop } from '../../../src/core/run-loop.js';

function addTimer(loop: VirtualRunLoop | NodeRunLoop, ms: number, fn: () => void): Timer {
  const t = new Timer(() => fn());
  loop.set_timer(t, ms);
  loop.add_timer(t);
  return t;
}

test("VirtualRunLoop.run rethrows a posted callback's error; the callbacks behind it run on the next run()", () => {
  const loop = new VirtualRunLoop();
  const log: string[] = [];
  const boom = new Error('handler boom');
  loop.execute_on_main_thread(() => log.push('a'));
  loop.execute_on_main_thread(() => {
    throw boom;
  });
  loop.execute_on_main_thread(() => log.push('c'));
  assert.throws(
    () => loop.run(),
    (e: unknown) => e === boom,
  );
  assert.equal(log, ['a']);
  loop.run();
  assert.equal(log, ['a', 'c']);
});

test("VirtualRunLoop.run rethrows a timer handler's error at its deadline; later timers still fire", () => {
  const loop = new VirtualRunLoop();
  const log: Array<[string, number]> = [];
  addTimer(loop, 10, () => log.push(['t10', loop.get_time_ms()]));
  addTimer(loop, 20, () => {
    throw new RangeError('timer boom');
  });
  addTimer(loop, 20, () => log.push(['t20b', loop.get_time_ms()]));
  addTimer(loop, 30, () => log.push(['t30', loop.get_time_ms()]));
  assert.throws(() => loop.run(), /timer boom/);
  assert.is(loop.get_time_ms(), 20);
  assert.is(loop.timer_count(), 2);
  loop.run();
  assert.equal(log, [
    ['t10', 10],
    ['t20b', 20],
    ['t30', 30],
  ]);
  assert.is(loop.timer_count(), 0);
});

test('VirtualRunLoop.run_until rethrows too', () => {
  const loop = new VirtualRunLoop();
  addTimer(loop, 5, () => {
    throw new Error('until boom');
  });
  assert.throws(() => loop.run_until(() => false, 100), /until boom/);
  loop.execute_on_main_thread(() => {
    throw new Error('posted boom');
  });
  assert.throws(() => loop.run_until(() => false, 100), /posted boom/);
});

test('opt-in handler: errors are reported and the loop goes on (virtual); null restores rethrowing', () => {
  const loop = new VirtualRunLoop();
  const errors: unknown[] = [];
  loop.set_error_handler((e) => errors.push(e));
  const log: number[] = [];
  addTimer(loop, 1, () => {
    throw new Error('t');
  });
  addTimer(loop, 2, () => log.push(2));
  loop.execute_on_main_thread(() => {
    throw new Error('p');
  });
  loop.execute_on_main_thread(() => log.push(0));
  loop.run();
  assert.equal(log, [0, 2]);
  assert.equal(
    errors.map((e) => (e as Error).message),
    ['p', 't'],
  );
  loop.set_error_handler(null);
  loop.execute_on_main_thread(() => {
    throw new Error('again');
  });
  assert.throws(() => loop.run(), /again/);
});

/** Run a script on NodeRunLoop in a child process (through tsx, as the tests run). */
function child(body: string): { status: number | null; stdout: string; stderr: string } {
  const src = `import { NodeRunLoop, Timer } from ${JSON.stringify(new URL('../../../src/core/run-loop.ts', import.meta.url).pathname)};\n${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('NodeRunLoop: a throwing packet handler crashes the process with the error and its stack, non-zero exit', () => {
  const r = child(`
    const loop = new NodeRunLoop();
    function user_packet_handler() { throw new Error('user handler failed'); }
    const t = new Timer(() => user_packet_handler());
    loop.set_timer(t, 5);
    loop.add_timer(t);
    const later = new Timer(() => console.log('never'));
    loop.set_timer(later, 200);
    loop.add_timer(later);
    void loop.execute();
  `);
  assert.is.not(r.status, 0, r.stderr);
  assert.match(r.stderr, /Error: user handler failed/);
  assert.match(r.stderr, /at user_packet_handler/);
  assert.not.match(r.stdout, /never/);
});

test('NodeRunLoop: a throwing posted callback crashes the process too', () => {
  const r = child(`
    const loop = new NodeRunLoop();
    loop.execute_on_main_thread(() => { throw new TypeError('posted failed'); });
    void loop.execute();
  `);
  assert.is.not(r.status, 0, r.stderr);
  assert.match(r.stderr, /TypeError: posted failed/);
});

test('NodeRunLoop: caught by uncaughtException, later timers and posted callbacks still run', () => {
  const r = child(`
    const loop = new NodeRunLoop();
    const seen = [];
    process.on('uncaughtException', (e) => seen.push(e.message));
    const add = (ms, fn) => { const t = new Timer(fn); loop.set_timer(t, ms); loop.add_timer(t); };
    add(5, () => { throw new Error('timer'); });
    add(5, () => seen.push('same-deadline'));
    add(40, () => seen.push('later'));
    loop.execute_on_main_thread(() => { throw new Error('posted'); });
    loop.execute_on_main_thread(() => seen.push('posted-after'));
    add(80, () => { console.log(JSON.stringify(seen)); loop.trigger_exit(); });
    await loop.execute();
  `);
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout.trim()), ['posted', 'posted-after', 'timer', 'same-deadline', 'later']);
});

test('NodeRunLoop: with the opt-in handler the error is reported and the loop goes on', () => {
  const r = child(`
    const loop = new NodeRunLoop();
    const seen = [];
    loop.set_error_handler((e) => seen.push('reported ' + e.message));
    const add = (ms, fn) => { const t = new Timer(fn); loop.set_timer(t, ms); loop.add_timer(t); };
    add(5, () => { throw new Error('timer'); });
    add(20, () => seen.push('later'));
    add(40, () => { console.log(JSON.stringify(seen)); loop.trigger_exit(); });
    await loop.execute();
  `);
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout.trim()), ['reported timer', 'later']);
});

test.run();
