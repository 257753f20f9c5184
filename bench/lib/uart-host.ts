/**
 * The measured side of the UART saturation benchmark, run as its own process so its CPU time is
 * the stack's alone: a Stack on the serialport H4 transport (a socat pty to the paced virtual
 * controller), an L2CAP channel to the peer, then bulk data for a fixed time, either sent by this
 * stack (tx) or received from the peer (rx). Prints one JSON line with the figures.
 *
 *   node --import tsx bench/lib/uart-host.ts --tty PATH --baud N --peer AA:BB:.. --psm P --mode tx|rx --seconds S [--io fd|stream]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { allocationProfile, startCpuProfile } from './inspector-profile.js';
import {
  HCI_EVENT_PACKET,
  L2CAP_DATA_PACKET,
  L2CAP_EVENT_CAN_SEND_NOW,
  L2CAP_EVENT_CHANNEL_OPENED,
} from '../../src/codes/v1.4.js';
import { host_arg, host_fail, opened_cid, host_opt, power_on_and_connect, uart_host } from './uart-host-stack.js';

const TAG = 'uart-host';
const arg = (name: string): string => host_arg(TAG, name);
const mode = arg('--mode');
/** Warm-up before the window (--warm-ms; the JIT must have optimized the hot path: at ~300 packets/s that takes seconds). */
const WARM_MS = process.argv.includes('--warm-ms') ? Number(arg('--warm-ms')) : 700;
/** One SDU per 1021-byte ACL packet (4-byte basic header): counting stays fine-grained, overhead is 9 of 1026 line bytes. */
const MTU = Number(process.argv.includes('--mtu') ? arg('--mtu') : 1017);

let scavenges = 0;
let majorGcs = 0;
let majorGcMs = 0;
let measuring = false;
new PerformanceObserver((list) => {
  if (!measuring) return;
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      majorGcs++;
      majorGcMs += e.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

const coalesce = host_opt(TAG, '--coalesce');
const h = uart_host(TAG, { rx_coalesce_ms: coalesce !== undefined ? Number(coalesce) : undefined });
const { stack, transport, baud, seconds } = h;

const payload = new Uint8Array(65535).fill(0x6b);
let cid = 0;
let bytes = 0;
let mtu = 0;
let sending = false;

/** CPU per thread name (user/sys ms) from /proc/self/task/<tid>/stat; 10 ms resolution. */
function threadCpu(): Map<string, { user: number; sys: number }> {
  const out = new Map<string, { user: number; sys: number }>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      // threads of node 20 are mostly unnamed ("node"): tell the main thread from the others
      const comm = stat.slice(stat.indexOf('(') + 1, close).trim();
      const name = Number(tid) === process.pid ? 'main' : `other:${comm}`;
      const f = stat.slice(close + 2).split(' ');
      // fields after the name: state(0) ... utime is field 14 overall -> index 11 here, stime index 12
      const user = Number(f[11]) * 10;
      const sys = Number(f[12]) * 10;
      const e = out.get(name) ?? { user: 0, sys: 0 };
      e.user += user;
      e.sys += sys;
      out.set(name, e);
    }
  } catch {
    // not Linux
  }
  return out;
}

const fail = (msg: string): never => host_fail(TAG, msg);

const handler = (type: number, _ch: number, packet: Uint8Array, size: number): void => {
  if (type === L2CAP_DATA_PACKET) {
    bytes += size;
    return;
  }
  if (type !== HCI_EVENT_PACKET) return;
  if (packet[0] === L2CAP_EVENT_CHANNEL_OPENED) {
    cid = opened_cid(TAG, packet);
    mtu = stack.l2cap.l2cap_get_remote_mtu_for_local_cid(cid);
    start();
  } else if (packet[0] === L2CAP_EVENT_CAN_SEND_NOW && sending) {
    if (stack.l2cap.l2cap_send(cid, payload, mtu) === 0) bytes += mtu;
    stack.l2cap.l2cap_request_can_send_now_event(cid);
  }
};

function start(): void {
  clearTimeout(openTimeout);
  if (mode === 'tx') {
    sending = true;
    stack.l2cap.l2cap_request_can_send_now_event(cid);
  }
  const sliceMs = Number(process.env.BTHOST_BENCH_SLICES ?? 0);
  if (sliceMs > 0) {
    // diagnostic: CPU ms per MB of each slice from the first byte on (how long the JIT takes to settle), on stderr
    let c = process.cpuUsage();
    let b = bytes;
    let t = performance.now();
    setInterval(() => {
      const c1 = process.cpuUsage();
      const ms = (c1.user + c1.system - c.user - c.system) / 1000;
      console.error(`slice ${(t / 1000).toFixed(0)} s: ${((ms * 1e6) / Math.max(1, bytes - b)).toFixed(1)} ms/MB`);
      c = c1;
      b = bytes;
      t = performance.now();
    }, sliceMs).unref();
  }
  // warm up, then measure a window of `seconds`
  setTimeout(async () => {
    if (process.env.BTHOST_BENCH_ALLOC) {
      // diagnostic: allocation sites over the window (sampled every 128 bytes) into $BTHOST_BENCH_ALLOC-<mode>.txt
      const rep = await allocationProfile(() => new Promise((r) => setTimeout(r, seconds * 1000)), 30, 8, 128);
      writeFileSync(`${process.env.BTHOST_BENCH_ALLOC}-${mode}.txt`, rep);
    }
    const stopProfile = process.argv.includes('--profile') ? await startCpuProfile(30, 500) : null;
    const b0 = bytes;
    const io0 = { ...transport.io_stats };
    const th0 = threadCpu();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    measuring = true;
    process.stdout.write('WINDOW-START\n'); // the orchestrator counts what the peer receives from here
    setTimeout(async () => {
      const wall_ms = performance.now() - t0;
      const cpu = process.cpuUsage(c0);
      const io1 = transport.io_stats;
      process.stdout.write('WINDOW-END\n');
      measuring = false;
      if (stopProfile) console.error(await stopProfile());
      const payload_Bps = ((bytes - b0) * 1000) / wall_ms;
      const th1 = threadCpu();
      const threads: Record<string, { user_ms: number; sys_ms: number }> = {};
      for (const [name, v] of th1) {
        const b = th0.get(name) ?? { user: 0, sys: 0 };
        if (v.user - b.user || v.sys - b.sys) threads[name] = { user_ms: v.user - b.user, sys_ms: v.sys - b.sys };
      }
      const out = {
        mode,
        baud,
        mtu,
        wall_ms,
        bytes: bytes - b0,
        payload_Bps,
        line_Bps: baud / 10,
        fraction: payload_Bps / (baud / 10),
        cpu_ms: (cpu.user + cpu.system) / 1000,
        user_ms: cpu.user / 1000,
        sys_ms: cpu.system / 1000,
        threads,
        cpu_pct: ((cpu.user + cpu.system) / 1000 / wall_ms) * 100,
        scavenges,
        major_gcs: majorGcs,
        major_gc_ms: majorGcMs,
        heap_used_MB: process.memoryUsage().heapUsed / 1e6,
        framing_errors: transport.framing_errors,
        io_path: transport.io_path,
        reads: io1.reads - io0.reads,
        read_bytes: io1.read_bytes - io0.read_bytes,
        writes: io1.writes - io0.writes,
        write_bytes: io1.write_bytes - io0.write_bytes,
      };
      console.log(JSON.stringify(out));
      process.exit(0);
    }, seconds * 1000);
  }, WARM_MS);
}

const openTimeout = setTimeout(() => fail('timeout: no channel within 15 s'), 15_000);
power_on_and_connect(h, TAG, handler, MTU);
