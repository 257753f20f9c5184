/**
 * Benchmark 3, UART saturation: the virtual controller served on a Unix socket with its H4
 * stream paced like a UART (10 bits per byte) at 921,600 and 3,000,000 baud, reached through a
 * socat pty by a stack on the serialport transport in its own process (bench/lib/uart-host.ts).
 * That stack opens an L2CAP channel (MTU 1017, one SDU per ACL packet) to a peer stack living next to the radio in this
 * process and either sends bulk data (tx) or receives it (rx) for a fixed time. Figures: payload
 * rate as a fraction of the line's capacity (baud / 10 bytes per second), counted by the receiving
 * stack (for tx, the peer's count between the host's window markers), and the measured process's
 * CPU share of one core.
 *
 * Issue 19: the same run measures two floors on a pty fed at the line rate (`cat PTY > /dev/null`,
 * and a Node process reading the pty with serialport's stream, no stack) and gives bthost's CPU
 * per MB of payload as a ratio to each, for both I/O paths of the serialport transport (fd: the
 * default; stream: the fallback). The ratio to cat divides by a cat that runs beside each case, on
 * a pty of its own fed at the same rate, sampled at the host's window markers, so both are
 * measured over the same seconds (on a shared machine the cat floor alone moved by 2x between runs).
 *
 *   npx tsx bench/uart.ts [--quick] [--profile] [--strace] [--io fd,stream] [--baud 921600,3000000] [--coalesce MS] [--warm-ms MS]
 *                         [--acl-buffers N --acl-size S] (the controller's BR/EDR ACL buffers; default 8 x 1021)
 *                         [--mode tx,rx] [--seconds S] (the cases and the window; default both, 8 s)
 *   (BTHOST_BENCH_ALLOC=PREFIX: the host's allocation sites over the window into PREFIX-<mode>.txt;
 *   BTHOST_BENCH_SLICES=MS: the host's CPU ms per MB of every MS from the first byte sent or received)
 *   (--profile: CPU profile of the host process's window; --strace: syscall counts per MB over the
 *   window from strace -c attached to each measured process; it slows them, so CPU figures of such
 *   a run are not comparable; --coalesce MS: the fd path's rx_coalesce_ms, default the transport's)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { flag_given } from '../ports/options.js';
import {
  benchMain,
  BENCH_DIR,
  flag_string,
  isMain,
  log,
  newResult,
  ROOT_DIR,
  type BenchOptions,
  type BenchResult,
} from './lib/harness.js';
import { uart_rig, until as rig_until, type PeerStream } from './lib/uart-rig.js';
import { bench_runner, node_entry } from './lib/node-entry.js';
import { catFloor, catWindow, pacedPty, type CatFloor, type CatWindow, type ProcSample } from './lib/paced-pty.js';
import { perf_attach, strace_attach, strace_available, type SyscallCounts } from './lib/strace-window.js';

const PSM = 0x1001;

export interface UartFigures {
  mode: string;
  baud: number;
  mtu: number;
  wall_ms: number;
  bytes: number;
  payload_Bps: number;
  line_Bps: number;
  fraction: number;
  cpu_ms: number;
  user_ms: number;
  sys_ms: number;
  /** Per-thread CPU from /proc: 'main' and 'other:<comm>' (libuv pool, V8 workers), 10 ms resolution. */
  threads: Record<string, { user_ms: number; sys_ms: number }>;
  cpu_pct: number;
  scavenges: number;
  /** Mark-compact GCs in the window and their pause (main thread; concurrent marking adds worker-thread CPU). */
  major_gcs: number;
  major_gc_ms: number;
  heap_used_MB: number;
  framing_errors: number;
  io_path: string;
  reads: number;
  read_bytes: number;
  writes: number;
  write_bytes: number;
  /** With --strace: syscalls of the host process over the window. */
  syscalls?: SyscallCounts;
  /** `cat` on a pty of its own fed at the same rate, over the host's window (uartRun's beside_cat). */
  cat?: CatWindow;
}

export type SerialIo = 'fd' | 'stream';

const until = (pred: () => boolean, ms: number, what: string): Promise<void> => rig_until(pred, ms, what, 'uart bench', 5);

export async function uartRun(
  baud: number,
  mode: 'tx' | 'rx',
  seconds: number,
  profile = false,
  io: SerialIo = 'fd',
  strace = false,
  coalesce?: number,
  warm_ms = 700,
  controller: { acl_buffers?: number; acl_size?: number } = {},
  beside_cat = false,
): Promise<UartFigures> {
  // the peer: a stack on a controller of the same radio, in this process
  let peerReceived = 0;
  const payload = new Uint8Array(65535).fill(0x4d);
  const stream: PeerStream = {
    received: (_p, size) => (peerReceived += size),
    sending: mode === 'rx',
    next: (mtu) => payload.subarray(0, mtu),
    sent: () => {},
  };
  const rig = await uart_rig(
    { baud, seed: 'bench-uart', prefix: 'bthost-bench-uart-', psm: PSM, mtu: 1017, tag: 'uart bench', poll_ms: 5, ...controller },
    stream,
  );
  const { tty, peer_addr: peerAddr } = rig;
  // the cat floor beside the host, sampled at the host's window markers (same seconds, same machine)
  let cat: CatFloor | null = null;
  const catSamples: ProcSample[] = [];
  try {
    if (beside_cat) cat = await catFloor(baud, 'uart bench');
    // BTHOST_BENCH_PERF=PREFIX: perf record -g of the host's window into PREFIX-<mode>-<baud>.data
    const perfPrefix = process.env.BTHOST_BENCH_PERF;
    // BTHOST_BENCH_HOST_FLAGS='--trace-gc ...': node flags for the host process; its other output lines go to stderr
    const hostFlags = (process.env.BTHOST_BENCH_HOST_FLAGS ?? '').split(/\s+/).filter(Boolean);
    const child = spawn(
      process.execPath,
      [
        ...(perfPrefix ? ['--perf-basic-prof'] : []),
        ...hostFlags,
        ...node_entry(join(BENCH_DIR, 'lib', 'uart-host.ts')),
        '--tty',
        tty,
        '--baud',
        String(baud),
        '--peer',
        peerAddr,
        '--psm',
        String(PSM),
        '--mode',
        mode,
        '--seconds',
        String(seconds),
        '--io',
        io,
        ...(coalesce !== undefined ? ['--coalesce', String(coalesce)] : []),
        '--warm-ms',
        String(warm_ms),
        ...(profile ? ['--profile'] : []),
      ],
      { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    // the peer's count between the host's window markers: what actually crossed the line (tx)
    const marks: Array<{ t: number; received: number }> = [];
    let tracer: ReturnType<typeof strace_attach> | null = null;
    let traced: Promise<SyscallCounts> | null = null;
    let perf: ReturnType<typeof perf_attach> | null = null;
    let perfDone: Promise<void> | null = null;
    child.stdout!.on('data', (d) => {
      const before = out;
      out += d;
      for (const mark of ['WINDOW-START', 'WINDOW-END']) {
        if (!before.includes(mark) && out.includes(mark)) {
          marks.push({ t: performance.now(), received: peerReceived });
          if (cat) catSamples.push(cat.sample());
          if (strace && mark === 'WINDOW-START') tracer = strace_attach(child.pid!);
          if (perfPrefix && mark === 'WINDOW-START') perf = perf_attach(child.pid!, `${perfPrefix}-${io}-${mode}-${baud}.data`);
          if (perf && mark === 'WINDOW-END') perfDone = perf.stop();
          if (tracer && mark === 'WINDOW-END') traced = tracer.stop();
        }
      }
    });
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    if (code !== 0) throw new Error(`uart bench: host process exited ${code}: ${err.trim()}`);
    if (profile || process.env.BTHOST_BENCH_SLICES) console.error(`-- host process stderr, ${mode} @ ${baud}:\n${err}`);
    const outLines = out.trim().split('\n');
    const line = outLines.pop()!;
    if (hostFlags.length) console.error(`-- host process output, ${mode} @ ${baud}:\n${outLines.join('\n')}`);
    const f = JSON.parse(line) as UartFigures;
    if (mode === 'tx') {
      if (marks.length !== 2) throw new Error('uart bench: window markers missing');
      f.bytes = marks[1]!.received - marks[0]!.received;
      f.payload_Bps = (f.bytes * 1000) / (marks[1]!.t - marks[0]!.t);
      f.fraction = f.payload_Bps / f.line_Bps;
    }
    if (traced) f.syscalls = await traced;
    if (perfDone) await perfDone;
    if (cat) {
      if (catSamples.length !== 2) throw new Error('uart bench: window markers missing for the cat floor');
      f.cat = catWindow(catSamples[0]!, catSamples[1]!);
    }
    return f;
  } finally {
    await cat?.close();
    await rig.close();
  }
}

export interface FloorFigures extends CatWindow {
  reader: 'cat' | 'stream';
  syscalls?: SyscallCounts;
}

/**
 * A floor: a reader with no stack on a pty fed at the line rate in 256-byte chunks (as the paced
 * controller sends them). 'cat': `cat PTY > /dev/null`, measured from /proc (bench/lib/paced-pty.ts);
 * 'stream': `serial-floor.ts`, a Node process reading the pty with serialport's stream (same
 * library, baud and RTS/CTS as the transport's stream path).
 */
export async function floorRun(
  baud: number,
  seconds: number,
  reader: 'cat' | 'stream',
  strace = false,
  warm_ms = 700,
): Promise<FloorFigures> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  if (reader === 'cat') {
    // the same warm-up and window as the Node readers, measured from outside
    const cat = await catFloor(baud, 'uart bench');
    try {
      await sleep(warm_ms);
      const s0 = cat.sample();
      const tracer = strace ? strace_attach(cat.pid) : null;
      await sleep(seconds * 1000);
      const s1 = cat.sample();
      const traced = tracer ? await tracer.stop() : undefined;
      return { reader, ...catWindow(s0, s1), ...(traced ? { syscalls: traced } : {}) };
    } finally {
      await cat.close();
    }
  }
  const pty = await pacedPty('uart bench');
  let child: ChildProcess | null = null;
  try {
    let out = '';
    let err = '';
    let tracer: ReturnType<typeof strace_attach> | null = null;
    let traced: Promise<SyscallCounts> | null = null;
    const c = spawn(
      process.execPath,
      [
        ...node_entry(join(BENCH_DIR, 'lib', 'serial-floor.ts')),
        '--tty',
        pty.tty,
        '--baud',
        String(baud),
        '--seconds',
        String(seconds),
        '--warm-ms',
        String(warm_ms),
      ],
      { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = c;
    c.stdout!.on('data', (d) => {
      const before = out;
      out += d;
      if (strace && !before.includes('WINDOW-START') && out.includes('WINDOW-START')) tracer = strace_attach(c.pid!);
      if (tracer && !before.includes('WINDOW-END') && out.includes('WINDOW-END')) traced = tracer.stop();
    });
    c.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)));
    await until(() => out.includes('OPEN') || c.exitCode !== null, 10_000, 'floor reader open');
    pty.feed(baud);
    const code = await exited;
    if (code !== 0) throw new Error(`uart bench: floor reader exited ${code}: ${err.trim()}`);
    const f = JSON.parse(out.trim().split('\n').pop()!) as {
      cpu_ms: number;
      Bps: number;
      reads: number;
      bytes: number;
      wall_ms: number;
    };
    return {
      reader,
      wall_ms: f.wall_ms,
      bytes: f.bytes,
      Bps: f.Bps,
      cpu_ms: f.cpu_ms,
      cpu_pct: (100 * f.cpu_ms) / f.wall_ms,
      cpu_ms_per_MB: f.cpu_ms / (f.bytes / 1e6),
      reads: f.reads,
      reads_per_s: f.reads / (f.wall_ms / 1000),
      ...(traced ? { syscalls: await traced } : {}),
    };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    await pty.close();
  }
}

/** Syscalls per MB of payload, busiest first: 'read 812, epoll_wait 790, ...'. */
function syscallsPerMB(s: SyscallCounts, bytes: number): string {
  return Object.entries(s)
    .map(([name, v]) => [name, v.calls / (bytes / 1e6)] as const)
    .filter(([, n]) => n >= 1)
    .sort((x, y) => y[1] - x[1])
    .map(([name, n]) => `${name} ${n.toFixed(0)}`)
    .join(', ');
}

function listFlag(v: string | undefined, all: string[]): string[] {
  if (!v) return all;
  const out = v.split(',').map((x) => x.trim());
  for (const x of out) if (!all.includes(x)) throw new Error(`uart bench: unknown value ${x} (one of ${all.join(', ')})`);
  return out;
}

export async function run(
  opts: BenchOptions & {
    profile?: boolean;
    strace?: boolean;
    io?: string;
    baud?: string;
    coalesce?: number;
    warm_ms?: number;
    acl_buffers?: number;
    acl_size?: number;
    mode?: string;
    seconds?: number;
  },
): Promise<BenchResult> {
  const r = newResult('uart', '3. UART saturation (socat pty, paced virtual controller)', opts);
  const seconds = opts.seconds ?? (opts.quick ? 1 : 8);
  // the host's hot path must be optimized by the JIT before the window (BTstack's C needs no
  // warm-up): at ~120 wakeups a second that takes 20-30 s (BTHOST_BENCH_SLICES=5000 shows it;
  // BENCHMARKS.md, UART CPU); cat needs none, the stream floor reads ~900 times a second
  const warm_ms = opts.warm_ms ?? (opts.quick ? 700 : 30_000);
  const floorWarm = { cat: Math.min(warm_ms, 2000), stream: Math.min(warm_ms, 15_000) };
  if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0) {
    r.notes.push('not measured: socat is not installed');
    return r;
  }
  const strace = opts.strace === true && strace_available();
  if (opts.strace && !strace) r.notes.push('--strace: strace is not installed, no syscall counts');
  const ios = listFlag(opts.io, ['fd', 'stream']) as SerialIo[];
  const bauds = listFlag(opts.baud, ['921600', '3000000']).map(Number);
  for (const baud of bauds) {
    const floors: Record<string, FloorFigures> = {};
    for (const reader of ['cat', 'stream'] as const) {
      const f = await floorRun(baud, seconds, reader, strace, floorWarm[reader]);
      floors[reader] = f;
      const k = `floor_${reader}_${baud}`;
      r.figures[`${k}_cpu_ms_per_MB`] = f.cpu_ms_per_MB;
      r.units[`${k}_cpu_ms_per_MB`] =
        reader === 'cat'
          ? `CPU ms per MB read by \`cat PTY > /dev/null\` at ${f.Bps.toFixed(0)} B/s (the kernel floor)`
          : `CPU ms per MB for a Node process that only reads the pty with serialport's stream at ${f.Bps.toFixed(0)} B/s (the stream floor)`;
      r.figures[`${k}_cpu_pct`] = f.cpu_pct;
      r.figures[`${k}_reads_per_s`] = f.reads_per_s;
      r.figures[`${k}_bytes_per_read`] = f.bytes / Math.max(1, f.reads);
      const sys = f.syscalls ? `; syscalls/MB: ${syscallsPerMB(f.syscalls, f.bytes)}` : '';
      if (f.syscalls) r.notes.push(`floor ${reader} @ ${baud} syscalls per MB: ${syscallsPerMB(f.syscalls, f.bytes)}`);
      log(
        opts,
        `floor ${reader} @ ${baud}: ${(f.Bps / 1000).toFixed(1)} kB/s, ${f.cpu_ms_per_MB.toFixed(1)} ms/MB (${f.cpu_pct.toFixed(1)} % CPU), ${f.reads_per_s.toFixed(0)} reads/s, ${(f.bytes / Math.max(1, f.reads)).toFixed(0)} B/read${sys}`,
      );
    }
    for (const io of ios) {
      for (const mode of listFlag(opts.mode, ['tx', 'rx']) as Array<'tx' | 'rx'>) {
        const f = await uartRun(
          baud,
          mode,
          seconds,
          opts.profile === true,
          io,
          strace,
          opts.coalesce,
          warm_ms,
          { acl_buffers: opts.acl_buffers, acl_size: opts.acl_size },
          !strace, // cat beside the host (strace slows the host only)
        );
        if (f.io_path !== io) r.notes.push(`${io} ${mode} @ ${baud}: the transport used the ${f.io_path} path`);
        // the default path (fd) keeps the historical figure names; the fallback is prefixed
        const k = `${io === 'fd' ? '' : 'stream_'}${mode}_${baud}`;
        const ms_per_MB = f.cpu_ms / (f.bytes / 1e6);
        // the ratio to cat uses the cat that ran beside this case (same seconds, same machine load);
        // the floor measured alone before the cases is kept for comparison
        const catBeside = f.cat?.cpu_ms_per_MB;
        const xCatAlone = ms_per_MB / floors.cat!.cpu_ms_per_MB;
        const xCat = catBeside ? ms_per_MB / catBeside : xCatAlone;
        const xStream = ms_per_MB / floors.stream!.cpu_ms_per_MB;
        r.figures[`${k}_line_pct`] = f.fraction * 100;
        r.units[`${k}_line_pct`] =
          `% of ${baud / 10} B/s carried as L2CAP payload (${mode === 'tx' ? 'host sends' : 'host receives'}; ${io} I/O path)`;
        r.figures[`${k}_payload_kBps`] = f.payload_Bps / 1e3;
        r.figures[`${k}_cpu_pct`] = f.cpu_pct;
        r.units[`${k}_cpu_pct`] = `% of one core used by the host process (stack + serialport + node; ${io} I/O path)`;
        r.figures[`${k}_cpu_ms_per_MB`] = ms_per_MB;
        r.units[`${k}_cpu_ms_per_MB`] = 'CPU ms of the host process per MB of L2CAP payload';
        r.figures[`${k}_x_cat`] = xCat;
        r.units[`${k}_x_cat`] = catBeside
          ? 'host CPU per MB / that of a cat reading its own pty fed at the same rate over the same seconds'
          : "host CPU per MB / the cat floor's, same run";
        if (catBeside) {
          r.figures[`${k}_cat_beside_cpu_ms_per_MB`] = catBeside;
          r.units[`${k}_cat_beside_cpu_ms_per_MB`] = "CPU ms per MB of the cat beside the host, over the host's window";
          r.figures[`${k}_x_cat_alone`] = xCatAlone;
          r.units[`${k}_x_cat_alone`] = "host CPU per MB / the cat floor's measured alone before the cases";
        }
        r.figures[`${k}_x_stream`] = xStream;
        r.units[`${k}_x_stream`] = "host CPU per MB / the serialport-stream floor's, same run";
        r.figures[`${k}_cpu_user_pct`] = (100 * f.user_ms) / f.wall_ms;
        r.figures[`${k}_cpu_sys_pct`] = (100 * f.sys_ms) / f.wall_ms;
        const main = f.threads.main ?? { user_ms: 0, sys_ms: 0 };
        let other = 0;
        for (const [name, v] of Object.entries(f.threads)) if (name !== 'main') other += v.user_ms + v.sys_ms;
        r.figures[`${k}_main_thread_pct`] = (100 * (main.user_ms + main.sys_ms)) / f.wall_ms;
        r.figures[`${k}_other_threads_pct`] = (100 * other) / f.wall_ms;
        r.units[`${k}_main_thread_pct`] = '% of one core on the JS thread (user + kernel), from /proc';
        r.units[`${k}_other_threads_pct`] = '% of one core on other threads (libuv pool: serialport reads/writes; V8 workers)';
        const secs = f.wall_ms / 1000;
        r.figures[`${k}_reads_per_s`] = f.reads / secs;
        r.figures[`${k}_bytes_per_read`] = f.read_bytes / Math.max(1, f.reads);
        r.figures[`${k}_writes_per_s`] = f.writes / secs;
        r.figures[`${k}_bytes_per_write`] = f.write_bytes / Math.max(1, f.writes);
        r.figures[`${k}_scavenges_per_s`] = f.scavenges / secs;
        r.figures[`${k}_major_gcs`] = f.major_gcs;
        r.units[`${k}_major_gcs`] =
          `mark-compact GCs in the ${seconds} s window (heap ${f.heap_used_MB.toFixed(0)} MB used: node + the stack)`;
        if (f.framing_errors) r.notes.push(`${k}: ${f.framing_errors} H4 framing errors`);
        if (f.syscalls) r.notes.push(`${io} ${mode} @ ${baud} syscalls per MB: ${syscallsPerMB(f.syscalls, f.bytes)}`);
        log(
          opts,
          `${io} ${mode} @ ${baud}: ${(f.fraction * 100).toFixed(1)} % of the line, host CPU ${f.cpu_pct.toFixed(1)} %, ${ms_per_MB.toFixed(0)} ms/MB = ${xCat.toFixed(2)}x cat${catBeside ? ` (beside: ${catBeside.toFixed(1)} ms/MB; ${xCatAlone.toFixed(2)}x the one alone)` : ''}, ${xStream.toFixed(2)}x stream floor; ${(f.reads / secs).toFixed(0)} reads/s of ${(f.read_bytes / Math.max(1, f.reads)).toFixed(0)} B, ${(f.writes / secs).toFixed(0)} writes/s of ${(f.write_bytes / Math.max(1, f.writes)).toFixed(0)} B; ${f.major_gcs} major GC (${f.major_gc_ms.toFixed(0)} ms), heap ${f.heap_used_MB.toFixed(0)} MB${f.syscalls ? `; syscalls/MB: ${syscallsPerMB(f.syscalls, f.bytes)}` : ''}`,
        );
        if (io === 'fd') {
          r.targets.push({ figure: `${k}_line_pct`, target: '>= 90 %', op: '>=', value: 90 });
          r.targets.push({ figure: `${k}_cpu_pct`, target: '<= 5 %', op: '<=', value: 5 });
          if (baud === 3_000_000) r.targets.push({ figure: `${k}_x_cat`, target: '<= 3x the cat floor', op: '<=', value: 3 });
        }
      }
    }
  }
  r.notes.push(
    `measured over ${seconds} s per case after ${warm_ms / 1000} s of warm-up (the JIT optimizes the host's hot path first); L2CAP MTU 1017 (one SDU per 1021-byte ACL packet: the payload can be at most 1017 of 1026 line bytes = 99.1 %), controller ACL buffers ${opts.acl_buffers ?? 8} x ${opts.acl_size ?? 1021}; the host process and the stream floor run ${bench_runner() === 'node' ? 'as one esbuild bundle of our modules on plain node, as the published package runs (BTHOST_BENCH_RUNNER=tsx: through tsx)' : 'through tsx (its loader thread and heap count)'}; floors read a pty fed in 256-byte chunks at the line rate (cat ${floorWarm.cat / 1000} s and the stream ${floorWarm.stream / 1000} s after the feed starts; x_cat divides by a cat run beside each case over its window); I/O paths: ${ios.join(', ')}${strace ? '; strace attached (CPU figures inflated)' : ''}`,
  );
  return r;
}

if (isMain(import.meta.url))
  await benchMain(
    (o, f) =>
      run({
        ...o,
        profile: flag_given(f, 'profile'),
        strace: flag_given(f, 'strace'),
        io: flag_string(f, 'io'),
        baud: flag_string(f, 'baud'),
        coalesce: flag_string(f, 'coalesce') !== undefined ? Number(flag_string(f, 'coalesce')) : undefined,
        warm_ms: flag_string(f, 'warm-ms') !== undefined ? Number(flag_string(f, 'warm-ms')) : undefined,
        acl_buffers: flag_string(f, 'acl-buffers') !== undefined ? Number(flag_string(f, 'acl-buffers')) : undefined,
        acl_size: flag_string(f, 'acl-size') !== undefined ? Number(flag_string(f, 'acl-size')) : undefined,
        mode: flag_string(f, 'mode'),
        seconds: flag_string(f, 'seconds') !== undefined ? Number(flag_string(f, 'seconds')) : undefined,
      }),
    {
      profile: { type: 'boolean' },
      strace: { type: 'boolean' },
      io: { type: 'string' },
      baud: { type: 'string' },
      coalesce: { type: 'string' },
      'warm-ms': { type: 'string' },
      'acl-buffers': { type: 'string' },
      'acl-size': { type: 'string' },
      mode: { type: 'string' },
      seconds: { type: 'string' },
    },
  );
