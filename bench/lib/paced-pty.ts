/**
 * The UART benchmark's floors: a socat pty pair fed at a line rate (10 bits per byte) in 256-byte
 * chunks, as the paced controller sends them, and `cat` reading the other end into /dev/null,
 * measured from outside through /proc (schedstat: CPU ns; io: read syscalls and bytes).
 *
 * The cat floor runs either alone (before the host cases) or beside a host case, sampled at the
 * host's own window markers: then both are measured over the same seconds of the same machine, so
 * what other work does to caches and scheduling falls on both (bench/uart.ts divides one by the
 * other).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './uart-rig.js';

/** CPU ns on the CPU of a single-threaded process (schedstat), and its read syscalls and bytes (/proc/PID/io). */
export interface ProcSample {
  cpu_ns: number;
  syscr: number;
  rchar: number;
  t: number;
}

export function procSample(pid: number): ProcSample {
  const cpu_ns = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(io)?.[1] ?? NaN);
  return { cpu_ns, syscr: field('syscr'), rchar: field('rchar'), t: performance.now() };
}

/** What a reader did between two samples. */
export interface CatWindow {
  wall_ms: number;
  bytes: number;
  Bps: number;
  cpu_ms: number;
  cpu_pct: number;
  cpu_ms_per_MB: number;
  reads: number;
  reads_per_s: number;
}

export function catWindow(s0: ProcSample, s1: ProcSample): CatWindow {
  const wall_ms = s1.t - s0.t;
  const bytes = s1.rchar - s0.rchar;
  const cpu_ms = (s1.cpu_ns - s0.cpu_ns) / 1e6;
  const reads = s1.syscr - s0.syscr;
  return {
    wall_ms,
    bytes,
    Bps: (bytes * 1000) / wall_ms,
    cpu_ms,
    cpu_pct: (100 * cpu_ms) / wall_ms,
    cpu_ms_per_MB: cpu_ms / (bytes / 1e6),
    reads,
    reads_per_s: reads / (wall_ms / 1000),
  };
}

export interface PacedPty {
  /** The reader's end (a path). */
  readonly tty: string;
  /** Start feeding the writer's end at the line rate. */
  feed(baud: number): void;
  close(): Promise<void>;
}

/** Writes 256-byte chunks into the pty at argv[1] at the line rate of argv[2] baud (10 bits per byte). */
const FEEDER = `
const fs = require('node:fs');
const fd = fs.openSync(process.argv[1], fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
const chunk = Buffer.alloc(256, 0x55);
const rate = Number(process.argv[2]) / 10 / 1000;
const t0 = performance.now();
let written = 0;
setInterval(() => {
  const due = (performance.now() - t0) * rate;
  while (due - written >= chunk.length) {
    try { fs.writeSync(fd, chunk); } catch { return; }
    written += chunk.length;
  }
}, 1);
`;

/** A socat pty pair; `feed` starts a process writing 256-byte chunks at the line rate into the other end. */
export async function pacedPty(tag: string): Promise<PacedPty> {
  const dir = mkdtempSync(join(tmpdir(), 'bthost-bench-floor-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  let feeder: ChildProcess | null = null;
  const close = async (): Promise<void> => {
    const f = feeder;
    feeder = null;
    if (f && f.exitCode === null && f.signalCode === null) {
      const gone = new Promise((r) => f.once('exit', r));
      f.kill('SIGTERM');
      await gone;
    }
    if (socat.exitCode === null && socat.signalCode === null) {
      const gone = new Promise((r) => socat.once('exit', r));
      socat.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(() => (existsSync(a) && existsSync(b)) || socat.exitCode !== null, 3000, 'socat pty pair', tag, 5);
    if (socat.exitCode !== null) throw new Error(`${tag}: socat exited`);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    tty: a,
    feed(baud: number): void {
      // a process of its own: the orchestrator's timers run late while it serves a host case, and
      // a late pacer hands cat bigger, cheaper reads than the line would
      feeder = spawn(process.execPath, ['-e', FEEDER, b, String(baud)], { stdio: 'ignore' });
    },
    close,
  };
}

/** `cat PTY > /dev/null` on a paced pty: sample() reads its counters; close() stops all. */
export interface CatFloor {
  readonly pid: number;
  sample(): ProcSample;
  close(): Promise<void>;
}

export async function catFloor(baud: number, tag: string): Promise<CatFloor> {
  const pty = await pacedPty(tag);
  let child: ChildProcess | null = null;
  let err = '';
  const close = async (): Promise<void> => {
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    }
    await pty.close();
  };
  try {
    const c = spawn('cat', [pty.tty], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr!.on('data', (d) => (err += d));
    await until(() => existsSync(`/proc/${c.pid}/io`) || c.exitCode !== null, 3000, 'cat started', tag, 5);
    if (c.exitCode !== null) throw new Error(`${tag}: cat exited ${c.exitCode}: ${err.trim()}`);
    pty.feed(baud);
  } catch (e) {
    await close();
    throw e;
  }
  const pid = child.pid!;
  return { pid, sample: () => procSample(pid), close };
}
