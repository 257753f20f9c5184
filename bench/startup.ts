/**
 * Benchmark 7, start-up: hci_power_control(HCI_POWER_ON) to HCI_STATE_WORKING against the
 * in-process virtual controller, and `npm start` wall time once the demo exists.
 *
 * - cold: a fresh node process, time from process start to the stack modules imported, and to the
 *   first HCI_STATE_WORKING. The headline runs our modules as the published package does: one
 *   esbuild bundle on plain node (bench/lib/node-entry.ts; `npm start` and a user's program load
 *   the stack from dist/, which tsup bundles with esbuild). The same child through tsx (our tests'
 *   and benchmarks' loader, which compiles and resolves each of our ~170 files in its loader
 *   thread) is reported beside it as cold_tsx_*;
 * - warm (in this process, after WARMUP_RUNS boots of each kind, so the JIT has compiled the path):
 *   the same boot repeated WARM_RUNS times on Node's run loop (every controller answer is a real
 *   event-loop turn) and on the virtual run loop (pure CPU), median and p99; the virtual runs also
 *   time building the Stack (`new Stack`, its virtual controller built just before) on its own.
 *
 *   npx tsx bench/startup.ts [--quick]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NodeRunLoop, VirtualRunLoop, type RunLoop } from '../src/core/run-loop.js';
import { RadioLink } from '../src/controller/link.js';
import { VirtualTransport } from '../ports/virtual/transport.js';
import { Stack } from '../src/stack.js';
import { BTSTACK_EVENT_STATE, HCI_POWER_OFF, HCI_POWER_ON, HCI_STATE_OFF, HCI_STATE_WORKING } from '../src/codes/v1.4.js';
import { flag_given, type FlagSpec } from '../ports/options.js';
import { benchMain, isMain, parseArgs, log, newResult, ROOT_DIR, type BenchOptions, type BenchResult } from './lib/harness.js';
import { median, percentile } from './lib/measure.js';
import { node_entry, type BenchRunner } from './lib/node-entry.js';

class CountingTransport extends VirtualTransport {
  commands = 0;
  override send_packet(packet_type: number, packet: Uint8Array, size: number): number {
    if (packet_type === 1) this.commands++;
    return super.send_packet(packet_type, packet, size);
  }
}

interface Boot {
  stack: Stack;
  transport: CountingTransport;
  run_loop: RunLoop;
}

function makeStack(run_loop: RunLoop): Boot {
  const link = new RadioLink(run_loop);
  const transport = new CountingTransport(link.create_controller());
  const stack = new Stack({ transport, run_loop });
  return { stack, transport, run_loop };
}

/** Boot on a NodeRunLoop: resolves with ms from power on to HCI_STATE_WORKING, then powers off. */
export async function bootOnNodeLoop(): Promise<{ ms: number; commands: number; off_ms: number }> {
  const rl = new NodeRunLoop();
  const b = makeStack(rl);
  let t0 = 0;
  let tWorking = 0;
  const result = new Promise<{ ms: number; commands: number; off_ms: number }>((resolve, reject) => {
    b.stack.hci.hci_add_event_handler({
      callback: (_t, _c, packet) => {
        if (packet[0] !== BTSTACK_EVENT_STATE) return;
        if (packet[2] === HCI_STATE_WORKING) {
          tWorking = performance.now();
          b.stack.hci.hci_power_control(HCI_POWER_OFF);
        } else if (packet[2] === HCI_STATE_OFF && tWorking) {
          rl.trigger_exit();
          resolve({ ms: tWorking - t0, commands: b.transport.commands, off_ms: performance.now() - tWorking });
        }
      },
    });
    setTimeout(() => reject(new Error('start-up: no HCI_STATE_WORKING within 10 s')), 10_000).unref();
  });
  void rl.execute();
  t0 = performance.now();
  b.stack.hci.hci_power_control(HCI_POWER_ON);
  return result;
}

/**
 * Boot on a VirtualRunLoop (no event-loop turns): ms of CPU to build the Stack (`new Stack`, the
 * virtual controller built before) and from power on to WORKING.
 */
export function bootOnVirtualLoop(): { construct_ms: number; boot_ms: number } {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl);
  const transport = new CountingTransport(link.create_controller());
  const t0 = performance.now();
  const stack = new Stack({ transport, run_loop: rl });
  const t1 = performance.now();
  stack.hci.hci_power_control(HCI_POWER_ON);
  rl.run_until(() => stack.hci.hci_get_state() === HCI_STATE_WORKING, 10_000);
  const t2 = performance.now();
  if (stack.hci.hci_get_state() !== HCI_STATE_WORKING) throw new Error('start-up: virtual boot did not reach WORKING');
  return { construct_ms: t1 - t0, boot_ms: t2 - t1 };
}

/** Child mode: report process-start -> imports -> first WORKING, as JSON on stdout. */
async function child(): Promise<void> {
  const t_main = performance.now(); // performance.now() counts from process start (timeOrigin)
  const boot = await bootOnNodeLoop();
  console.log(JSON.stringify({ t_main, t_working: performance.now() - boot.off_ms, first_boot_ms: boot.ms }));
}

interface Cold {
  t_main: number;
  t_working: number;
  first_boot_ms: number;
  wall_ms: number;
}

function coldRun(runner: BenchRunner): Cold {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...node_entry(join(ROOT_DIR, 'bench', 'startup.ts'), runner), '--child'], {
    cwd: ROOT_DIR,
    encoding: 'utf8',
  });
  const wall_ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`start-up child failed: ${r.stderr}`);
  return { ...JSON.parse(r.stdout.trim().split('\n').pop()!), wall_ms };
}

/**
 * `npm start`: ms until the demo prints "up and running" (the examples' convention) and until it
 * exits; a demo that keeps running after "up and running" is stopped (its process group, which
 * this function started).
 */
async function npmStart(): Promise<{ up_ms: number | null; exit_ms: number | null; status: number | null } | null> {
  if (!existsSync(join(ROOT_DIR, 'examples', 'demo.ts'))) return null;
  const t0 = performance.now();
  const child = spawn('npm', ['start', '--silent'], { cwd: ROOT_DIR, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let up_ms: number | null = null;
  let out = '';
  const stop = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  const onData = (d: Buffer) => {
    out += d.toString();
    if (up_ms === null && /up and running/.test(out)) {
      up_ms = performance.now() - t0;
      // give a demo that finishes by itself a moment; otherwise stop it
      setTimeout(stop, 2000).unref();
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const timer = setTimeout(stop, 60_000);
  const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  clearTimeout(timer);
  const exit_ms = performance.now() - t0;
  return { up_ms, exit_ms: up_ms !== null && exit_ms - up_ms >= 1900 ? null : exit_ms, status };
}

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const r = newResult('startup', '7. Start-up (power on to HCI_STATE_WORKING)', opts);
  // one fresh process varies by ±30 % on a shared machine (130-200 ms), so a median of several
  const coldRuns = opts.quick ? 3 : 11;
  // 100 measured boots after 3 left much of the path in V8's interpreter and baseline tiers, so
  // the figure was mostly JIT warm-up (a tree with more functions on the path paid more of it)
  const warmupRuns = opts.quick ? 3 : 300;
  const warmRuns = opts.quick ? 5 : 1000;

  // alternated, so both loaders see the same machine
  const colds: Cold[] = [];
  const coldsTsx: Cold[] = [];
  for (let i = 0; i < coldRuns; i++) {
    colds.push(coldRun('node'));
    coldsTsx.push(coldRun('tsx'));
  }
  log(
    opts,
    `cold: ${colds.map((c) => c.t_working.toFixed(0)).join(', ')} ms to WORKING (tsx: ${coldsTsx.map((c) => c.t_working.toFixed(0)).join(', ')})`,
  );

  // warm: the first boots in this process JIT-compile the path; measure after them
  for (let i = 0; i < warmupRuns; i++) await bootOnNodeLoop();
  const node: number[] = [];
  let commands = 0;
  for (let i = 0; i < warmRuns; i++) {
    const b = await bootOnNodeLoop();
    node.push(b.ms);
    commands = b.commands;
  }
  for (let i = 0; i < warmupRuns; i++) bootOnVirtualLoop();
  const virt: number[] = [];
  const construct: number[] = [];
  for (let i = 0; i < warmRuns; i++) {
    const v = bootOnVirtualLoop();
    virt.push(v.boot_ms);
    construct.push(v.construct_ms);
  }

  r.figures.cold_process_to_main_ms = median(colds.map((c) => c.t_main));
  r.units.cold_process_to_main_ms =
    'ms, process start to the benchmark module running (node + the bundle of our modules, as dist/ loads)';
  r.figures.cold_first_boot_ms = median(colds.map((c) => c.first_boot_ms));
  r.units.cold_first_boot_ms = 'ms, first power on -> HCI_STATE_WORKING in a fresh process';
  r.figures.cold_process_to_working_ms = median(colds.map((c) => c.t_working));
  r.units.cold_process_to_working_ms = 'ms, process start -> HCI_STATE_WORKING (the bundle on plain node)';
  r.figures.cold_tsx_process_to_main_ms = median(coldsTsx.map((c) => c.t_main));
  r.units.cold_tsx_process_to_main_ms = 'ms, the same through tsx (node + tsx + our modules one by one)';
  r.figures.cold_tsx_process_to_working_ms = median(coldsTsx.map((c) => c.t_working));
  r.units.cold_tsx_process_to_working_ms = 'ms, process start -> HCI_STATE_WORKING through tsx';
  r.figures.warm_boot_median_ms = median(node);
  r.figures.warm_boot_p99_ms = percentile(node, 99);
  r.units.warm_boot_median_ms = 'ms, power on -> WORKING on NodeRunLoop (warm)';
  r.units.warm_boot_p99_ms = 'ms';
  r.figures.virtual_boot_median_ms = median(virt);
  r.figures.virtual_boot_p99_ms = percentile(virt, 99);
  r.units.virtual_boot_median_ms = 'ms, same on VirtualRunLoop (CPU only, no event-loop turns)';
  r.units.virtual_boot_p99_ms = 'ms';
  r.figures.stack_construct_median_ms = median(construct);
  r.figures.stack_construct_p99_ms = percentile(construct, 99);
  r.units.stack_construct_median_ms = 'ms, new Stack (its virtual controller built before), warm';
  r.units.stack_construct_p99_ms = 'ms';
  r.figures.init_commands = commands;
  r.units.init_commands = 'HCI commands sent from power on to WORKING';

  const demo = await npmStart();
  if (demo) {
    r.figures.npm_start_up_ms = demo.up_ms;
    r.units.npm_start_up_ms = 'ms, `npm start` -> "up and running" printed';
    r.figures.npm_start_exit_ms = demo.exit_ms;
    r.units.npm_start_exit_ms = 'ms, `npm start` -> the demo exited by itself (n/a when it kept running and was stopped)';
    if (demo.up_ms === null) r.notes.push(`npm start never printed "up and running" (exit status ${demo.status})`);
  } else {
    r.figures.npm_start_up_ms = null;
    r.notes.push('npm start not measured: examples/demo.ts does not exist yet');
  }
  return r;
}

/** --child: internal, one boot measured in a fresh process. */
const CHILD_FLAG: FlagSpec = { child: { type: 'boolean' } };

if (isMain(import.meta.url)) {
  // --child: one boot in a fresh process (the benchmark starts itself with it)
  if (flag_given(parseArgs(process.argv.slice(2), CHILD_FLAG).flags, 'child')) await child();
  else await benchMain(run, CHILD_FLAG);
}
