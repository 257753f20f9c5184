/**
 * Soak (issue 18): two CLIs over socat ptys of `bthost controller` moving data for --minutes while
 * faults are injected every --fault-every-s through the controller's control socket; the
 * long-running listener's RSS and V8 heap (and the controller's RSS) sampled every 10 s.
 *
 *   npx tsx bench/soak.ts --minutes 60 [--fault-every-s 180] [--send 512k] [--baud 921600] [--out FILE.json]
 *                         [--faults KIND,KIND...] (the rotation; default below)
 *
 * - `bthost controller --listen unix:DIR/controller.sock --control unix:DIR/control.sock --baud B`
 *   (the H4 line paced at B baud) and one socat pty per side (DIR/a/tty, DIR/b/tty);
 * - `bthost l2cap listen 0x1001 --receive --serve --port DIR/a/tty` with BTHOST_MEM_LOG (one process
 *   for the whole run: it must ride through every fault and not grow);
 * - a client loop: `bthost l2cap connect ADDR 0x1001 --send SIZE --port DIR/b/tty`, a new process
 *   each time (killed after 90 s);
 * - faults on the listener's controller, in rotation: hardware-error, framing-error, unplug (the
 *   pty goes away; a new one at the same path 2 s later), drop-link (its radio link lost: the
 *   supervision timeout follows), inflate-nocp=100:5, crash, stray=00ff04. BTHOST_SOAK_KEEP=1 keeps
 *   the work directory (controller.log, listener.log, clients.log, listener-mem.jsonl).
 *
 * At the end: first vs last minutes of RSS / heapUsed after a warm-up (min(5 min, a quarter of the
 * run)), least-squares slope per 10 minutes, a growth verdict; the samples, transfers and faults
 * as JSON (--out). Exit 0 only when the listener stayed alive all along and a transfer succeeded
 * after every fault (before the next one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const MINUTES = Number(arg('--minutes', '60'));
const FAULT_EVERY_S = Number(arg('--fault-every-s', '180'));
const SEND = arg('--send', '512k');
const BAUD = arg('--baud', '921600');
const OUT = arg('--out', '');
const SAMPLE_MS = 10_000;
const ADDR_RE = /(?:listening on PSM 0x1001 .*at |is back \()((?:[0-9A-F]{2}:){5}[0-9A-F]{2})/g;
const FAULTS = arg('--faults', 'hardware-error,framing-error,unplug,drop-link,inflate-nocp=100:5,crash,stray=00ff04').split(',');

const dir = mkdtempSync(join(tmpdir(), 'bthost-soak-'));
const sock = join(dir, 'controller.sock');
const control = join(dir, 'control.sock');
const ttyA = join(dir, 'a', 'tty');
const ttyB = join(dir, 'b', 'tty');
mkdirSync(join(dir, 'a'));
mkdirSync(join(dir, 'b'));
const memFile = join(dir, 'listener-mem.jsonl');
const t0 = Date.now();
const since = () => ((Date.now() - t0) / 1000).toFixed(1);
const log = (line: string) => console.log(`[${since()} s] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Proc {
  child: ChildProcess;
  /** The last 64 KB of stdout + stderr. */
  out: string;
  exit: Promise<number | null>;
}
const procs: Proc[] = [];
function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, logFile?: string): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const p: Proc = { child, out: '', exit: Promise.resolve(null) };
  const sink = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
  const take = (d: Buffer) => {
    p.out = (p.out + d.toString()).slice(-65536);
    sink?.write(d);
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  p.exit = new Promise((res) => child.on('exit', (code) => res(code)));
  procs.push(p);
  return p;
}
const cli = (args: string[], env: NodeJS.ProcessEnv = {}, logFile?: string) =>
  start(process.execPath, ['--import', 'tsx', 'ports/cli/cli.ts', ...args], env, logFile);
const alive = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null;
async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}
function controlSend(line: string, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(control);
    let buf = '';
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`control: no answer in ${ms} ms`))), ms);
    s.setEncoding('utf8');
    s.on('error', (e) => (clearTimeout(timer), reject(e)));
    s.on('connect', () => s.write(line + '\n'));
    s.on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i < 0) return;
      clearTimeout(timer);
      s.end();
      resolve(buf.slice(0, i));
    });
  });
}
function rssOf(pid: number | undefined): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
function lastMem(): Record<string, number> | null {
  try {
    const lines = readFileSync(memFile, 'utf8').trim().split('\n');
    return JSON.parse(lines[lines.length - 1]!) as Record<string, number>;
  } catch {
    return null;
  }
}

interface Sample {
  t_s: number;
  listener_rss: number | null;
  controller_rss: number | null;
  heapUsed: number | null;
  heapTotal: number | null;
  external: number | null;
  arrayBuffers: number | null;
  transfers_ok: number;
  transfers_failed: number;
  bytes: number;
}
interface Transfer {
  start_s: number;
  end_s: number;
  code: number | null;
  bytes: number;
  line?: string;
}
interface Fault {
  t_s: number;
  spec: string;
  answer: string;
  data_after: boolean;
}
const samples: Sample[] = [];
const transfers: Transfer[] = [];
const faults: Fault[] = [];
let ok = 0;
let failed = 0;
let bytes = 0;
let listenerAddr = '';
let stopping = false;

function listenerAddress(p: Proc): string {
  const all = [...p.out.matchAll(ADDR_RE)];
  return all.length ? all[all.length - 1]![1]! : listenerAddr;
}

async function main(): Promise<number> {
  log(`dir ${dir}; ${MINUTES} min, a fault every ${FAULT_EVERY_S} s, --send ${SEND}, ${BAUD} baud`);
  const controller = cli(
    ['controller', '--listen', `unix:${sock}`, '--control', `unix:${control}`, '--baud', BAUD],
    {},
    join(dir, 'controller.log'),
  );
  await until(() => controller.out.includes('listening on'), 30_000, 'bthost controller');
  const socat = (tty: string) => start('socat', [`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${sock}`]);
  let socatA = socat(ttyA);
  await until(() => existsSync(ttyA), 5000, 'pty a');
  socat(ttyB);
  await until(() => existsSync(ttyB), 5000, 'pty b');
  // --expose-gc: the listener's samples follow a full GC (ports/cli/mem-log.ts), so garbage does not count
  const env = { BTHOST_MEM_LOG: memFile, BTHOST_KEYS_DIR: join(dir, 'keys'), NODE_OPTIONS: '--expose-gc' };
  const clientEnv = { BTHOST_KEYS_DIR: join(dir, 'keys') };
  const listener = cli(
    ['l2cap', 'listen', '0x1001', '--receive', '--serve', '--no-progress', '--port', ttyA],
    env,
    join(dir, 'listener.log'),
  );
  await until(() => listenerAddress(listener) !== '', 30_000, 'listener address');
  listenerAddr = listenerAddress(listener);
  log(`listener pid ${listener.child.pid} at ${listenerAddr}; controller pid ${controller.child.pid}`);

  const end = t0 + MINUTES * 60_000;
  // sampling
  const sample = () => {
    const m = lastMem();
    samples.push({
      t_s: (Date.now() - t0) / 1000,
      listener_rss: rssOf(listener.child.pid),
      controller_rss: rssOf(controller.child.pid),
      heapUsed: m?.['heapUsed'] ?? null,
      heapTotal: m?.['heapTotal'] ?? null,
      external: m?.['external'] ?? null,
      arrayBuffers: m?.['arrayBuffers'] ?? null,
      transfers_ok: ok,
      transfers_failed: failed,
      bytes,
    });
    const s = samples[samples.length - 1]!;
    log(
      `sample: listener rss ${mb(s.listener_rss)} heap ${mb(s.heapUsed)} / controller rss ${mb(s.controller_rss)}; ` +
        `transfers ${ok} ok ${failed} failed, ${mb(bytes)} moved, ${faults.length} faults`,
    );
  };
  sample();
  const sampler = setInterval(sample, SAMPLE_MS);

  // client loop
  const clients = (async () => {
    const clientLog = join(dir, 'clients.log');
    while (!stopping && Date.now() < end) {
      listenerAddr = listenerAddress(listener);
      const startS = (Date.now() - t0) / 1000;
      const c = cli(
        ['l2cap', 'connect', listenerAddr, '0x1001', '--send', SEND, '--no-progress', '--port', ttyB],
        clientEnv, // no BTHOST_MEM_LOG: the memory file is the listener's alone
        clientLog,
      );
      const killer = setTimeout(() => c.child.kill('SIGKILL'), 90_000);
      const code = await c.exit;
      clearTimeout(killer);
      procs.splice(procs.indexOf(c), 1);
      const sent = Number(/sent (\d+) bytes/.exec(c.out)?.[1] ?? 0);
      const t: Transfer = { start_s: startS, end_s: (Date.now() - t0) / 1000, code, bytes: code === 0 ? sent : 0 };
      if (code === 0) {
        ok++;
        bytes += sent;
      } else {
        failed++;
        t.line = c.out.split('\n').filter((l) => l.startsWith('bthost:'))[0] ?? c.out.trim().split('\n').pop();
        log(`transfer failed (exit ${code}): ${t.line}`);
        await sleep(1000);
      }
      transfers.push(t);
    }
  })();

  // faults
  let n = 0;
  let nextFault = t0 + FAULT_EVERY_S * 1000;
  while (Date.now() < end && alive(listener)) {
    await sleep(500);
    // none in the last minute: a fault whose peer waits out its supervision timeout (20 s) needs
    // that long before a transfer can show that data moves again
    if (Date.now() < nextFault || Date.now() > end - 60_000) continue;
    const addr = listenerAddress(listener);
    const list = await controlSend('list').catch((e: Error) => e.message);
    const m = new RegExp(`(\\d+) ${addr}`).exec(list);
    if (!m) {
      log(`fault postponed: listener's controller ${addr} not in '${list}'`);
      nextFault = Date.now() + 5000;
      continue;
    }
    const c = `c${m[1]}:`;
    const kind = FAULTS[n++ % FAULTS.length]!;
    const spec = kind === 'drop-link' ? dropLinkSpecs(c, Number(m[1])) : c + kind;
    const answer = await controlSend(spec).catch((e: Error) => e.message);
    log(`fault ${faults.length + 1}: ${c}${kind} -> ${answer}`);
    faults.push({ t_s: (Date.now() - t0) / 1000, spec: c + kind, answer, data_after: false });
    if (kind === 'unplug') {
      await socatA.exit;
      procs.splice(procs.indexOf(socatA), 1);
      await sleep(2000);
      socatA = socat(ttyA);
      await until(() => existsSync(ttyA), 5000, 'pty a again').catch((e: Error) => log(e.message));
    }
    nextFault = Date.now() + FAULT_EVERY_S * 1000;
  }
  stopping = true;
  const listenerAlive = alive(listener);
  await clients;
  clearInterval(sampler);
  sample();

  // data after every fault: a transfer that ended OK after it (and before the next fault)
  for (const [i, f] of faults.entries()) {
    const next = faults[i + 1]?.t_s ?? Infinity;
    f.data_after = transfers.some((t) => t.code === 0 && t.end_s > f.t_s && t.end_s <= next);
  }
  const summary = summarize(listenerAlive);
  if (OUT)
    writeFileSync(
      OUT,
      JSON.stringify({ command: process.argv.slice(1).join(' '), summary, faults, transfers, samples }, null, 1),
    );
  const pass = listenerAlive && faults.every((f) => f.data_after) && ok > 0;
  log(
    `${pass ? 'PASS' : 'FAIL'}: listener ${listenerAlive ? 'alive' : 'DIED'}; ${faults.filter((f) => !f.data_after).length} faults without data after`,
  );
  return pass ? 0 : 1;
}

/**
 * drop-link for the handles controller I has given out: the virtual controller numbers them from
 * 0x0001 + 16 I, one more per connection (wrapping after 0x0eff); a handle that is not a
 * connection is ignored. 512 of them keep the line under the control socket's 64 KB.
 */
function dropLinkSpecs(c: string, index: number): string {
  const base = 0x0001 + ((index * 0x10) % 0x0e00);
  return Array.from({ length: 512 }, (_, i) => {
    const h = ((base - 1 + i) % 0x0eff) + 1;
    return `${c}drop-link=0x${h.toString(16).padStart(4, '0')}`;
  }).join(',');
}

function mb(b: number | null | undefined): string {
  return b == null ? '-' : `${(b / 1048576).toFixed(1)} MB`;
}

/** Least-squares slope (bytes per 10 minutes) of key over samples. */
function slope(ss: Sample[], key: keyof Sample): number {
  const pts = ss.filter((s) => s[key] != null).map((s) => [s.t_s, s[key] as number] as const);
  if (pts.length < 2) return 0;
  const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
  const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  const num = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return den ? (num / den) * 600 : 0;
}
function mean(ss: Sample[], key: keyof Sample): number | null {
  const v = ss.map((s) => s[key]).filter((x): x is number => typeof x === 'number');
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

function summarize(listenerAlive: boolean) {
  const total = (Date.now() - t0) / 1000;
  const warm = Math.min(300, total / 4);
  const after = samples.filter((s) => s.t_s >= warm);
  const win = Math.max(60, (total - warm) / 6);
  const first = after.filter((s) => s.t_s < warm + win);
  const last = after.filter((s) => s.t_s >= total - win);
  const row = (key: keyof Sample) => ({
    first: mean(first, key),
    last: mean(last, key),
    slope_per_10min: slope(after, key),
  });
  const rss = row('listener_rss');
  const heap = row('heapUsed');
  const ctl = row('controller_rss');
  // growth: a steady climb (slope above 1 MB / 10 min for RSS, 0.5 MB for heapUsed) AND the last
  // minutes above the first by more than 5 %
  const grows = (r: ReturnType<typeof row>, lim: number) =>
    r.slope_per_10min > lim && r.first !== null && r.last !== null && r.last > r.first * 1.05;
  const verdict = grows(rss, 1048576) || grows(heap, 524288) ? 'GROWTH' : 'no growth';
  const s = {
    minutes: total / 60,
    warm_s: warm,
    window_s: win,
    listener_alive: listenerAlive,
    transfers_ok: ok,
    transfers_failed: failed,
    bytes_moved: bytes,
    faults: faults.length,
    faults_with_data_after: faults.filter((f) => f.data_after).length,
    listener_rss: rss,
    listener_heapUsed: heap,
    controller_rss: ctl,
    verdict,
  };
  const fmt = (r: ReturnType<typeof row>) =>
    `first ${mb(r.first)}, last ${mb(r.last)}, slope ${(r.slope_per_10min / 1048576).toFixed(2)} MB / 10 min`;
  console.log(
    `\nsoak summary (${s.minutes.toFixed(1)} min; after ${warm.toFixed(0)} s warm-up, windows of ${win.toFixed(0)} s):`,
  );
  console.log(`  transfers: ${ok} ok, ${failed} failed (cut by faults); ${mb(bytes)} moved`);
  console.log(`  faults: ${faults.length} injected, ${s.faults_with_data_after} followed by a good transfer`);
  console.log(`  listener RSS:      ${fmt(rss)}`);
  console.log(`  listener heapUsed: ${fmt(heap)}`);
  console.log(`  controller RSS:    ${fmt(ctl)}`);
  console.log(`  verdict: ${verdict}`);
  return s;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  log(`soak error: ${(e as Error).stack ?? e}`);
} finally {
  stopping = true;
  for (const p of procs) if (alive(p)) p.child.kill('SIGTERM');
  await sleep(1500);
  for (const p of procs) if (alive(p)) p.child.kill('SIGKILL');
  if (!process.env['BTHOST_SOAK_KEEP']) rmSync(dir, { recursive: true, force: true });
  else log(`kept ${dir}`);
}
process.exit(code);
