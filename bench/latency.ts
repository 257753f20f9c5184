/**
 * Benchmark 4, latency: round trips between two stacks through the in-process virtual
 * controllers and radio link (no air latency), on one VirtualRunLoop, so a round trip is the
 * CPU path through both stacks and both controllers:
 * - L2CAP echo: l2cap_send_echo_request with 20 bytes, timed to its callback;
 * - L2CAP ping-pong: 20 bytes on a basic-mode channel (MTU 672), echoed back by the peer's
 *   packet handler with l2cap_send, timed from send to the echo arriving.
 * Each round trip is timed alone (performance.now()); the next starts from the run loop.
 *
 *   npx tsx bench/latency.ts [--quick]
 */
import { HCI_EVENT_PACKET, L2CAP_DATA_PACKET, L2CAP_EVENT_CAN_SEND_NOW } from '../src/codes/v1.4.js';
import { benchMain, isMain, log, newResult, type BenchOptions, type BenchResult } from './lib/harness.js';
import { measure, percentile } from './lib/measure.js';
import { createWorld, openChannel } from './lib/pair.js';

interface Lat {
  samples: Float64Array;
  gc_scavenges: number;
  gc_mark_sweeps: number;
}

async function echoLatency(rounds: number, warm: number): Promise<Lat> {
  const w = createWorld(2);
  const [a, b] = w.nodes as [(typeof w.nodes)[0], (typeof w.nodes)[0]];
  const ends = openChannel(w, a, b, 672, 672); // brings up the ACL link
  const handle = ends.con_handle_a;
  const l2cap = a.stack.l2cap;
  const data = new Uint8Array(20).fill(0x5a);
  const total = warm + rounds;
  const samples = new Float64Array(rounds);
  let i = 0;
  let t0 = 0;
  let failure = '';
  const start = (): void => {
    t0 = performance.now();
    const st = l2cap.l2cap_send_echo_request(handle, data, 20, onEcho);
    if (st !== 0) failure = `l2cap_send_echo_request status ${st}`;
  };
  const onEcho = (status: number, _d: Uint8Array, size: number): void => {
    const dt = performance.now() - t0;
    if (status !== 0 || size !== 20) failure = `echo status ${status} size ${size}`;
    if (i >= warm) samples[i - warm] = dt * 1000;
    i++;
    if (i < total && !failure) w.rl.execute_on_main_thread(start);
  };
  const { m } = await measure(() => {
    start();
    w.rl.run_until(() => i >= total || failure !== '', 1e12);
  });
  if (failure) throw new Error(`latency (echo): ${failure}`);
  if (i !== total) throw new Error(`latency (echo): ${i} of ${total} round trips`);
  return { samples, gc_scavenges: m.gc.scavenge, gc_mark_sweeps: m.gc.mark_sweep };
}

async function pingPongLatency(rounds: number, warm: number): Promise<Lat> {
  const w = createWorld(2);
  const [a, b] = w.nodes as [(typeof w.nodes)[0], (typeof w.nodes)[0]];
  const ends = openChannel(w, a, b, 672, 672);
  const la = a.stack.l2cap;
  const lb = b.stack.l2cap;
  const ping = new Uint8Array(20).fill(0xa5);
  const pong = new Uint8Array(20);
  const total = warm + rounds;
  const samples = new Float64Array(rounds);
  let i = 0;
  let t0 = 0;
  let failure = '';
  let aWants = false;
  let bWants = false;
  const sendPing = (): void => {
    t0 = performance.now();
    const st = la.l2cap_send(ends.cid_a, ping, 20);
    if (st === 0) return;
    aWants = true;
    la.l2cap_request_can_send_now_event(ends.cid_a);
  };
  const sendPong = (): void => {
    const st = lb.l2cap_send(ends.cid_b, pong, 20);
    if (st === 0) return;
    bWants = true;
    lb.l2cap_request_can_send_now_event(ends.cid_b);
  };
  ends.on_a = (type, _ch, packet, size) => {
    if (type === L2CAP_DATA_PACKET) {
      const dt = performance.now() - t0;
      if (size !== 20) failure = `pong of ${size} bytes`;
      if (i >= warm) samples[i - warm] = dt * 1000;
      i++;
      if (i < total && !failure) w.rl.execute_on_main_thread(sendPing);
    } else if (type === HCI_EVENT_PACKET && packet[0] === L2CAP_EVENT_CAN_SEND_NOW && aWants) {
      aWants = false;
      if (la.l2cap_send(ends.cid_a, ping, 20) !== 0) failure = 'ping refused after CAN_SEND_NOW';
    }
  };
  ends.on_b = (type, _ch, packet, size) => {
    if (type === L2CAP_DATA_PACKET) {
      pong.set(packet.subarray(0, size));
      sendPong();
    } else if (type === HCI_EVENT_PACKET && packet[0] === L2CAP_EVENT_CAN_SEND_NOW && bWants) {
      bWants = false;
      if (lb.l2cap_send(ends.cid_b, pong, 20) !== 0) failure = 'pong refused after CAN_SEND_NOW';
    }
  };
  const { m } = await measure(() => {
    sendPing();
    w.rl.run_until(() => i >= total || failure !== '', 1e12);
  });
  if (failure) throw new Error(`latency (ping-pong): ${failure}`);
  if (i !== total) throw new Error(`latency (ping-pong): ${i} of ${total} round trips`);
  return { samples, gc_scavenges: m.gc.scavenge, gc_mark_sweeps: m.gc.mark_sweep };
}

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const r = newResult('latency', '4. Latency (in-process link, round trips)', opts);
  const rounds = opts.quick ? 2000 : 100_000;
  const warm = opts.quick ? 500 : 10_000;
  r.figures.round_trips = rounds;
  r.units.round_trips = 'timed round trips per test (after a warm-up)';
  for (const [name, fn] of [
    ['echo', echoLatency],
    ['pingpong', pingPongLatency],
  ] as const) {
    const l = await fn(rounds, warm);
    r.figures[`${name}_median_us`] = percentile(l.samples, 50);
    r.figures[`${name}_p99_us`] = percentile(l.samples, 99);
    r.figures[`${name}_p999_us`] = percentile(l.samples, 99.9);
    r.figures[`${name}_max_us`] = percentile(l.samples, 100);
    r.figures[`${name}_scavenges`] = l.gc_scavenges;
    r.units[`${name}_median_us`] = 'us per round trip';
    r.units[`${name}_scavenges`] = 'young-generation GCs during all round trips (warm-up included)';
    log(opts, `${name}: median ${percentile(l.samples, 50).toFixed(2)} us, p99 ${percentile(l.samples, 99).toFixed(2)} us`);
    r.targets.push({ figure: `${name}_median_us`, target: '<= 20 us', op: '<=', value: 20 });
  }
  r.notes.push(
    'echo: L2CAP Echo Request/Response on the signalling channel (20 bytes); pingpong: 20-byte SDUs on a basic-mode channel, echoed by the peer handler',
  );
  return r;
}

if (isMain(import.meta.url)) await benchMain(run);
