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
 *   npx tsx bench/uart.ts [--quick] [--profile]   (--profile: CPU profile of the host process's window)
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants as fsConstants, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bd_addr_to_str } from '../src/core/bytes.js';
import { NodeRunLoop } from '../src/core/run-loop.js';
import { RadioLink } from '../src/controller/link.js';
import { VirtualTransport } from '../ports/virtual/transport.js';
import { serve_controllers } from '../ports/virtual/server.js';
import { Stack } from '../src/stack.js';
import {
  HCI_EVENT_PACKET,
  HCI_POWER_ON,
  HCI_STATE_WORKING,
  L2CAP_DATA_PACKET,
  L2CAP_EVENT_CAN_SEND_NOW,
  L2CAP_EVENT_CHANNEL_OPENED,
  L2CAP_EVENT_INCOMING_CONNECTION,
  l2cap_event_channel_opened_get_local_cid,
  l2cap_event_channel_opened_get_status,
  l2cap_event_incoming_connection_get_local_cid,
} from '../src/codes/v1.4.js';
import { flag_given } from '../ports/options.js';
import { benchMain, BENCH_DIR, isMain, log, newResult, ROOT_DIR, type BenchOptions, type BenchResult } from './lib/harness.js';

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
  framing_errors: number;
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`uart bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function uartRun(baud: number, mode: 'tx' | 'rx', seconds: number, profile = false): Promise<UartFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'bthost-bench-uart-'));
  const sock = join(dir, 'ctrl.sock');
  const tty = join(dir, 'tty');
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const link = new RadioLink(loop, { seed: 'bench-uart' });
  const server = await serve_controllers(link, `unix:${sock}`, { baud });

  // the peer: a stack on a controller of the same radio, in this process
  const peer = new Stack({ transport: new VirtualTransport(link.create_controller()), run_loop: loop });
  let peerCid = 0;
  let peerSending = false;
  let peerReceived = 0;
  const payload = new Uint8Array(65535).fill(0x4d);
  const l2 = peer.l2cap;
  const st = l2.l2cap_register_service(
    (type, _ch, packet, size) => {
      if (type === L2CAP_DATA_PACKET) {
        peerReceived += size;
        return;
      }
      if (type !== HCI_EVENT_PACKET) return;
      if (packet[0] === L2CAP_EVENT_INCOMING_CONNECTION)
        l2.l2cap_accept_connection(l2cap_event_incoming_connection_get_local_cid(packet));
      else if (packet[0] === L2CAP_EVENT_CHANNEL_OPENED && l2cap_event_channel_opened_get_status(packet) === 0) {
        peerCid = l2cap_event_channel_opened_get_local_cid(packet);
        if (mode === 'rx') {
          peerSending = true;
          l2.l2cap_request_can_send_now_event(peerCid);
        }
      } else if (packet[0] === L2CAP_EVENT_CAN_SEND_NOW && peerSending) {
        l2.l2cap_send(peerCid, payload, l2.l2cap_get_remote_mtu_for_local_cid(peerCid));
        l2.l2cap_request_can_send_now_event(peerCid);
      }
    },
    PSM,
    1017,
  );
  if (st !== 0) throw new Error(`uart bench: l2cap_register_service status ${st}`);
  peer.hci.hci_power_control(HCI_POWER_ON);
  await until(() => peer.hci.hci_get_state() === HCI_STATE_WORKING, 5000, 'peer WORKING');
  const peerAddr = bd_addr_to_str(peer.gap.gap_local_bd_addr());

  const socat = spawn('socat', [`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${sock}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let socatErr = '';
  socat.stderr!.on('data', (d) => (socatErr += d));
  try {
    await until(() => existsSync(tty) || socat.exitCode !== null, 3000, 'socat pty');
    if (socat.exitCode !== null) throw new Error(`uart bench: socat exited: ${socatErr}`);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(BENCH_DIR, 'lib', 'uart-host.ts'),
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
        ...(profile ? ['--profile'] : []),
      ],
      { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    // the peer's count between the host's window markers: what actually crossed the line (tx)
    const marks: Array<{ t: number; received: number }> = [];
    child.stdout!.on('data', (d) => {
      const before = out;
      out += d;
      for (const mark of ['WINDOW-START', 'WINDOW-END']) {
        if (!before.includes(mark) && out.includes(mark)) marks.push({ t: performance.now(), received: peerReceived });
      }
    });
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    if (code !== 0) throw new Error(`uart bench: host process exited ${code}: ${err.trim()}`);
    if (profile) console.error(`-- host process profile, ${mode} @ ${baud}:\n${err}`);
    const line = out.trim().split('\n').pop()!;
    const f = JSON.parse(line) as UartFigures;
    if (mode === 'tx') {
      if (marks.length !== 2) throw new Error('uart bench: window markers missing');
      f.bytes = marks[1]!.received - marks[0]!.received;
      f.payload_Bps = (f.bytes * 1000) / (marks[1]!.t - marks[0]!.t);
      f.fraction = f.payload_Bps / f.line_Bps;
    }
    return f;
  } finally {
    peerSending = false;
    if (socat.exitCode === null) {
      socat.kill('SIGTERM');
      await new Promise((r) => socat.once('exit', r));
    }
    await server.close();
    peer.hci.hci_close();
    loop.trigger_exit();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The serialport floor: `serial-floor.ts` reads a pty fed at the line rate in 256-byte chunks
 * (as the paced controller sends them), with no stack. Returns its CPU share of one core.
 */
export async function floorRun(baud: number, seconds: number): Promise<{ cpu_pct: number; Bps: number; reads_per_s: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bthost-bench-floor-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  let fd = -1;
  let pacer: ReturnType<typeof setInterval> | null = null;
  try {
    await until(() => (existsSync(a) && existsSync(b)) || socat.exitCode !== null, 3000, 'socat pty pair');
    if (socat.exitCode !== null) throw new Error('uart bench: socat exited');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(BENCH_DIR, 'lib', 'serial-floor.ts'),
        '--tty',
        a,
        '--baud',
        String(baud),
        '--seconds',
        String(seconds),
      ],
      {
        cwd: ROOT_DIR,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    await until(() => out.includes('OPEN') || child.exitCode !== null, 10_000, 'floor reader open');
    fd = openSync(b, fsConstants.O_RDWR | fsConstants.O_NOCTTY);
    const chunk = Buffer.alloc(256, 0x55);
    const rate = baud / 10 / 1000; // bytes per ms
    const t0 = performance.now();
    let written = 0;
    pacer = setInterval(() => {
      const due = (performance.now() - t0) * rate;
      while (due - written >= chunk.length) {
        try {
          writeSync(fd, chunk);
        } catch {
          return; // EAGAIN: the pty is full; catch up on the next tick
        }
        written += chunk.length;
      }
    }, 1);
    const code = await exited;
    if (code !== 0) throw new Error(`uart bench: floor reader exited ${code}: ${err.trim()}`);
    const f = JSON.parse(out.trim().split('\n').pop()!) as { cpu_pct: number; Bps: number; reads: number; wall_ms: number };
    return { cpu_pct: f.cpu_pct, Bps: f.Bps, reads_per_s: f.reads / (f.wall_ms / 1000) };
  } finally {
    if (pacer) clearInterval(pacer);
    if (fd >= 0) closeSync(fd);
    if (socat.exitCode === null) {
      socat.kill('SIGTERM');
      await new Promise((r) => socat.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(opts: BenchOptions & { profile?: boolean }): Promise<BenchResult> {
  const r = newResult('uart', '3. UART saturation (socat pty, paced virtual controller)', opts);
  const seconds = opts.quick ? 1 : 4;
  if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0) {
    r.notes.push('not measured: socat is not installed');
    return r;
  }
  for (const baud of [921_600, 3_000_000]) {
    const floor = await floorRun(baud, seconds);
    r.figures[`floor_rx_${baud}_cpu_pct`] = floor.cpu_pct;
    r.units[`floor_rx_${baud}_cpu_pct`] =
      `% of one core for a process that only reads the pty with serialport at ${floor.Bps.toFixed(0)} B/s, no stack (the I/O floor)`;
    r.figures[`floor_rx_${baud}_reads_per_s`] = floor.reads_per_s;
    log(
      opts,
      `floor @ ${baud}: serialport alone reading ${(floor.Bps / 1000).toFixed(1)} kB/s costs ${floor.cpu_pct.toFixed(1)} % CPU (${floor.reads_per_s.toFixed(0)} reads/s)`,
    );
    for (const mode of ['tx', 'rx'] as const) {
      const f = await uartRun(baud, mode, seconds, opts.profile === true);
      const k = `${mode}_${baud}`;
      r.figures[`${k}_line_pct`] = f.fraction * 100;
      r.units[`${k}_line_pct`] =
        `% of ${baud / 10} B/s carried as L2CAP payload (${mode === 'tx' ? 'host sends' : 'host receives'})`;
      r.figures[`${k}_payload_kBps`] = f.payload_Bps / 1e3;
      r.figures[`${k}_cpu_pct`] = f.cpu_pct;
      r.units[`${k}_cpu_pct`] = '% of one core used by the host process (stack + serialport + node)';
      r.figures[`${k}_cpu_user_pct`] = (100 * f.user_ms) / f.wall_ms;
      r.figures[`${k}_cpu_sys_pct`] = (100 * f.sys_ms) / f.wall_ms;
      const main = f.threads.main ?? { user_ms: 0, sys_ms: 0 };
      let other = 0;
      for (const [name, v] of Object.entries(f.threads)) if (name !== 'main') other += v.user_ms + v.sys_ms;
      r.figures[`${k}_main_thread_pct`] = (100 * (main.user_ms + main.sys_ms)) / f.wall_ms;
      r.figures[`${k}_other_threads_pct`] = (100 * other) / f.wall_ms;
      r.units[`${k}_main_thread_pct`] = '% of one core on the JS thread (user + kernel), from /proc';
      r.units[`${k}_other_threads_pct`] = '% of one core on other threads (libuv pool: serialport reads/writes; V8 workers)';
      r.figures[`${k}_scavenges_per_s`] = f.scavenges / (f.wall_ms / 1000);
      if (f.framing_errors) r.notes.push(`${k}: ${f.framing_errors} H4 framing errors`);
      log(opts, `${mode} @ ${baud}: ${(f.fraction * 100).toFixed(1)} % of the line, host CPU ${f.cpu_pct.toFixed(1)} %`);
      r.targets.push({ figure: `${k}_line_pct`, target: '>= 90 %', op: '>=', value: 90 });
      r.targets.push({ figure: `${k}_cpu_pct`, target: '<= 5 %', op: '<=', value: 5 });
    }
  }
  r.notes.push(
    `measured over ${seconds} s per case after 0.7 s of warm-up; L2CAP MTU 1017 (one SDU per 1021-byte ACL packet: the payload can be at most 1017 of 1026 line bytes = 99.1 %), controller ACL buffers 8 x 1021; the host process is node + tsx (TypeScript compiled at load, not during the window)`,
  );
  return r;
}

if (isMain(import.meta.url))
  await benchMain((o, f) => run({ ...o, profile: flag_given(f, 'profile') }), { profile: { type: 'boolean' } });
