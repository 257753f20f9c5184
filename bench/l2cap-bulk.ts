/**
 * Benchmark 1, L2CAP bulk: payload from one stack to another through the in-process virtual
 * controllers and radio link (no link delay, unlimited air bandwidth), basic mode, with the
 * channel MTU at 65535 and at 672, controller ACL buffers of 1021 bytes (8 of them).
 * The sender follows BTstack's pattern: on L2CAP_EVENT_CAN_SEND_NOW send one SDU of the remote
 * MTU with l2cap_send, then ask again. Figures for the measured phase, after a warm-up phase.
 *
 *   npx tsx bench/l2cap-bulk.ts [--quick] [--mb N]
 */
import { HCI_EVENT_PACKET, L2CAP_DATA_PACKET, L2CAP_EVENT_CAN_SEND_NOW } from '../src/codes/v1.4.js';
import { benchMain, flag_mb, isMain, MB_FLAG, log, newResult, type BenchOptions, type BenchResult } from './lib/harness.js';
import { allocatedBy, MB, measure } from './lib/measure.js';
import { allocationByOwner } from './lib/inspector-profile.js';
import { createWorld, openChannel } from './lib/pair.js';

export interface BulkFigures {
  mtu: number;
  mbps: number;
  cpu_ms_per_mb: number;
  scavenges_per_100mb: number;
  mark_sweeps_per_100mb: number;
  gc_pause_ms_per_100mb: number;
  heap_before_mb: number;
  heap_after_mb: number;
  alloc_bytes_per_sdu: number | null;
  /** Sampled allocation per SDU by owner (stack, virtual controller, run loop, driver). */
  alloc_by_owner_per_sdu: Record<string, number>;
}

/** One sender/receiver pair with a channel of `mtu`; returns a function sending `bytes` and running to completion. */
export function bulkSetup(mtu: number): { send: (bytes: number) => void; sdus: () => number } {
  const w = createWorld(2);
  const [a, b] = w.nodes as [(typeof w.nodes)[0], (typeof w.nodes)[0]];
  const ends = openChannel(w, a, b, mtu, mtu);
  const l2cap = a.stack.l2cap;
  const remoteMtu = l2cap.l2cap_get_remote_mtu_for_local_cid(ends.cid_a);
  if (remoteMtu !== mtu) throw new Error(`l2cap bulk: remote MTU ${remoteMtu}, expected ${mtu}`);
  const payload = new Uint8Array(mtu);
  for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;

  let remaining = 0;
  let received = 0;
  let sdusSent = 0;
  let sdusReceived = 0;
  const cid = ends.cid_a;
  ends.on_a = (type, _ch, packet) => {
    if (type !== HCI_EVENT_PACKET || packet[0] !== L2CAP_EVENT_CAN_SEND_NOW || remaining <= 0) return;
    const n = remaining < mtu ? remaining : mtu;
    const st = l2cap.l2cap_send(cid, payload, n);
    if (st === 0) {
      remaining -= n;
      sdusSent++;
    }
    if (remaining > 0) l2cap.l2cap_request_can_send_now_event(cid);
  };
  ends.on_b = (type, _ch, _packet, size) => {
    if (type !== L2CAP_DATA_PACKET) return;
    received += size;
    sdusReceived++;
  };
  return {
    send(bytes: number) {
      const target = received + bytes;
      remaining = bytes;
      l2cap.l2cap_request_can_send_now_event(cid);
      w.rl.run_until(() => received >= target, 1e12);
      if (received !== target) throw new Error(`l2cap bulk: received ${received - (target - bytes)} of ${bytes} bytes`);
      if (sdusReceived !== sdusSent) throw new Error(`l2cap bulk: ${sdusSent} SDUs sent, ${sdusReceived} received`);
    },
    sdus: () => sdusReceived,
  };
}

export async function bulkRun(mtu: number, bytes: number, warm: number): Promise<BulkFigures> {
  const p = bulkSetup(mtu);
  p.send(warm);
  const allocBytes = Math.min(bytes, 1 << 20);
  const s0 = p.sdus();
  const alloc = await allocatedBy(() => p.send(allocBytes));
  const allocSdus = p.sdus() - s0;
  const { m } = await measure(() => p.send(bytes));
  // who allocates: a separate, profiled phase (the sampling profiler slows it; not timed)
  const profBytes = Math.min(bytes, 16 * MB);
  const s1 = p.sdus();
  const owners = await allocationByOwner(() => p.send(profBytes));
  const profSdus = p.sdus() - s1;
  const alloc_by_owner_per_sdu: Record<string, number> = {};
  for (const [k, v] of owners) alloc_by_owner_per_sdu[k] = v / profSdus;
  const per100 = (100 * MB) / bytes;
  return {
    alloc_by_owner_per_sdu,
    mtu,
    mbps: bytes / MB / (m.wall_ms / 1000),
    cpu_ms_per_mb: m.cpu_ms / (bytes / MB),
    scavenges_per_100mb: m.gc.scavenge * per100,
    mark_sweeps_per_100mb: m.gc.mark_sweep * per100,
    gc_pause_ms_per_100mb: m.gc.pause_ms * per100,
    heap_before_mb: m.heap_before / MB,
    heap_after_mb: m.heap_after / MB,
    alloc_bytes_per_sdu: alloc === null ? null : alloc / allocSdus,
  };
}

export async function run(opts: BenchOptions & { mb?: number }): Promise<BenchResult> {
  const r = newResult('l2cap-bulk', '1. L2CAP bulk (in-process virtual link)', opts);
  const bytes = Math.round((opts.mb ?? (opts.quick ? 4 : 256)) * MB);
  const warm = opts.quick ? 1 * MB : 16 * MB;
  r.figures.payload_MB = bytes / MB;
  r.units.payload_MB = 'MB (1e6 bytes) of L2CAP payload per MTU, after a warm-up';
  for (const mtu of [65535, 672]) {
    const f = await bulkRun(mtu, bytes, warm);
    const k = `mtu${mtu}`;
    r.figures[`${k}_MBps`] = f.mbps;
    r.units[`${k}_MBps`] = 'MB/s of payload';
    r.figures[`${k}_MB_per_cpu_s`] = 1000 / f.cpu_ms_per_mb;
    r.units[`${k}_MB_per_cpu_s`] = 'MB of payload per CPU second of the process (robust when other processes share the cores)';
    r.figures[`${k}_cpu_ms_per_MB`] = f.cpu_ms_per_mb;
    r.figures[`${k}_scavenges_per_100MB`] = f.scavenges_per_100mb;
    r.figures[`${k}_mark_sweeps_per_100MB`] = f.mark_sweeps_per_100mb;
    r.figures[`${k}_gc_pause_ms_per_100MB`] = f.gc_pause_ms_per_100mb;
    r.figures[`${k}_heap_before_MB`] = f.heap_before_mb;
    r.figures[`${k}_heap_after_MB`] = f.heap_after_mb;
    r.units[`${k}_heap_after_MB`] = 'MB used after a forced GC';
    r.figures[`${k}_alloc_bytes_per_SDU`] = f.alloc_bytes_per_sdu;
    r.units[`${k}_alloc_bytes_per_SDU`] = 'JS heap bytes allocated per SDU, sender + receiver + controllers (no-GC window)';
    const own = f.alloc_by_owner_per_sdu;
    r.figures[`${k}_stack_alloc_bytes_per_SDU`] = own['stack (src/, ports/)'] ?? 0;
    r.units[`${k}_stack_alloc_bytes_per_SDU`] =
      'of which the two stacks (sampling heap profiler, attributed to the nearest src/ frame)';
    r.figures[`${k}_controller_alloc_bytes_per_SDU`] =
      (own['virtual controller (src/controller)'] ?? 0) + (own['virtual transport (ports/virtual)'] ?? 0);
    r.units[`${k}_controller_alloc_bytes_per_SDU`] =
      'of which the virtual controllers and their transport (not part of a real deployment)';
    r.figures[`${k}_run_loop_alloc_bytes_per_SDU`] = own['run loop (src/core/run-loop.ts)'] ?? 0;
    log(
      opts,
      `MTU ${mtu}: ${f.mbps.toFixed(1)} MB/s, ${f.cpu_ms_per_mb.toFixed(2)} CPU ms/MB, ${f.scavenges_per_100mb.toFixed(1)} scavenges/100 MB`,
    );
    r.targets.push({ figure: `${k}_MBps`, target: '>= 200 MB/s', op: '>=', value: 200 });
    r.targets.push({ figure: `${k}_scavenges_per_100MB`, target: '<= 1 per 100 MB', op: '<=', value: 1 });
  }
  r.notes.push(
    'both stacks, both virtual controllers and the radio link run in this one process and are all counted in CPU and GC figures',
  );
  return r;
}

if (isMain(import.meta.url)) {
  await benchMain((o, f) => run({ ...o, mb: flag_mb(f) }), MB_FLAG, flag_mb);
}
