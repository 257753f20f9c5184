/**
 * Benchmark 6, scale and memory: one central stack with 7 classic links carrying 10 L2CAP
 * channels each, and 20 LE links, all in-process (virtual controllers, one radio link).
 * Heap (after a forced GC) and RSS at rest at every step, the cost per stack, per link and per
 * channel, then 10^6 packets (100-byte SDUs, round robin over the 70 channels) and the heap
 * after GC compared with before them (target: within 1 %). A small warm-up world (one classic
 * link with two channels, two LE links) is built before the baseline sample and kept until the
 * memory samples are taken, so code compiled and hidden classes made on first use are not counted
 * as per-link memory.
 *
 *   npx tsx bench/scale.ts [--quick]
 */
import {
  BD_ADDR_TYPE_LE_PUBLIC,
  HCI_EVENT_LE_META,
  HCI_EVENT_PACKET,
  HCI_SUBEVENT_LE_CONNECTION_COMPLETE,
  L2CAP_DATA_PACKET,
  L2CAP_EVENT_CAN_SEND_NOW,
} from '../src/codes/v1.4.js';
import { setFlagsFromString } from 'node:v8';
import { benchMain, isMain, log, newResult, type BenchOptions, type BenchResult } from './lib/harness.js';
import { forceGc, gcAvailable, MB, measure, tick } from './lib/measure.js';
import { createWorld, openChannel, type ChannelEnds, type Node, type World } from './lib/pair.js';

const CLASSIC_LINKS = 7;
const CHANNELS_PER_LINK = 10;
const LE_LINKS = 20;
const SDU = 100;
const CONFIG = { MAX_NR_HCI_CONNECTIONS: 32, MAX_NR_L2CAP_CHANNELS: 80, MAX_NR_L2CAP_SERVICES: 16 };

/** After a forced GC: JS heap used, `all` = heap + ArrayBuffer backing stores (packet buffers live there), RSS. */
async function memory(): Promise<{ heap: number; all: number; rss: number }> {
  forceGc();
  await tick();
  forceGc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, all: m.heapUsed + m.arrayBuffers, rss: m.rss };
}

/** LE links: each peripheral advertises, the central connects to them one at a time. */
export function connectLe(w: World, central: Node, lePeers: Node[]): { up: number; failure: string } {
  let up = 0;
  let failure = '';
  central.stack.hci.hci_add_event_handler({
    callback: (type, _ch, packet) => {
      if (type !== HCI_EVENT_PACKET || packet[0] !== HCI_EVENT_LE_META || packet[2] !== HCI_SUBEVENT_LE_CONNECTION_COMPLETE)
        return;
      if (packet[3] === 0) up++;
      else failure = `LE Connection Complete status 0x${packet[3]!.toString(16)}`;
    },
  });
  for (const p of lePeers) {
    p.stack.gap.gap_advertisements_set_params(0x0030, 0x0030, 0, 0, new Uint8Array(6), 0x07, 0);
    p.stack.gap.gap_advertisements_enable(1);
  }
  for (const p of lePeers) {
    const before = up;
    const st = central.stack.gap.gap_connect(p.addr, BD_ADDR_TYPE_LE_PUBLIC);
    if (st !== 0) {
      failure = `gap_connect status ${st}`;
      break;
    }
    w.rl.run_until(() => up > before || failure !== '', 60_000);
    if (up === before) {
      failure ||= 'no LE Connection Complete';
      break;
    }
  }
  return { up, failure };
}

/**
 * Traffic: central -> peripherals, `n` 100-byte SDUs round robin over every channel (CAN_SEND_NOW
 * per channel), until all of them arrived. Also bench/lib/ab-scenarios.ts's 'scale-70'.
 */
export function scaleTraffic(w: World, central: Node, channels: ChannelEnds[]): (n: number) => void {
  const payload = new Uint8Array(SDU).fill(0x33);
  let toSend = 0;
  let received = 0;
  const l2cap = central.stack.l2cap;
  for (const ch of channels) {
    const cid = ch.cid_a;
    ch.on_a = (type, _c, packet) => {
      if (type !== HCI_EVENT_PACKET || packet[0] !== L2CAP_EVENT_CAN_SEND_NOW || toSend <= 0) return;
      if (l2cap.l2cap_send(cid, payload, SDU) === 0) toSend--;
      if (toSend > 0) l2cap.l2cap_request_can_send_now_event(cid);
    };
    ch.on_b = (type) => {
      if (type === L2CAP_DATA_PACKET) received++;
    };
  }
  return (n: number): void => {
    const target = received + n;
    toSend = n;
    for (const ch of channels) l2cap.l2cap_request_can_send_now_event(ch.cid_a);
    w.rl.run_until(() => received >= target, 1e12);
    if (received !== target) throw new Error(`scale: ${received - (target - n)} of ${n} packets arrived`);
  };
}

/**
 * The measured world without the memory samples: a central with CLASSIC_LINKS x CHANNELS_PER_LINK
 * channels and LE_LINKS LE links (bench/lib/ab-scenarios.ts's 'scale-70').
 */
export function scaleWorld(): { sendPackets: (n: number) => void } {
  const w = createWorld(1 + CLASSIC_LINKS + LE_LINKS, { config: CONFIG });
  const central = w.nodes[0]!;
  const classicPeers = w.nodes.slice(1, 1 + CLASSIC_LINKS);
  // in run()'s order: the first channel on each link, then the others
  const channels = classicPeers.map((p) => openChannel(w, central, p, 672, 672));
  for (const p of classicPeers) for (let i = 1; i < CHANNELS_PER_LINK; i++) channels.push(openChannel(w, central, p, 672, 672));
  const { up, failure } = connectLe(w, central, w.nodes.slice(1 + CLASSIC_LINKS));
  if (up !== LE_LINKS) throw new Error(`scale: ${up} of ${LE_LINKS} LE links up (${failure})`);
  return { sendPackets: scaleTraffic(w, central, channels) };
}

/**
 * While the world is built and measured: V8 neither tiers code up (no Sparkplug or TurboFan
 * compiles) nor waits for a function to run a while before giving it its feedback vector, so the
 * memory samples hold per-stack and per-link data, not code compiled when some function became hot
 * during link N. The packets run with the defaults again (`--max-opt=0` is not undone by setting it
 * back: the packets ran 25x slower).
 */
function setupFlags(building: boolean): void {
  setFlagsFromString(
    building
      ? '--no-opt --no-sparkplug --no-lazy-feedback-allocation --no-flush-bytecode'
      : '--opt --sparkplug --lazy-feedback-allocation --flush-bytecode',
  );
}

/**
 * A small world built before the baseline sample and kept alive until the memory samples are taken:
 * one classic link with two channels (set up exactly as the measured ones, so it pairs where they
 * pair) and two LE links (the second peripheral advertises while the first one connects, as in the
 * measured world). The bytecode V8 compiles the first time each path runs, and the hidden classes
 * (maps) the objects of a link take on, are then in the baseline (kept alive, because a dropped
 * world's maps die with it and would be made again in link 1), so the per-link and per-channel
 * figures measure per-link data.
 */
function warmUp(): World {
  // central, one classic peer, two LE peers
  const w = createWorld(4, { config: CONFIG });
  const [central, classic, ...le] = w.nodes as [Node, Node, Node, Node];
  openChannel(w, central, classic, 672, 672);
  openChannel(w, central, classic, 672, 672);
  const { up, failure } = connectLe(w, central, le);
  if (up !== le.length) throw new Error(`scale: warm-up LE links did not come up (${failure})`);
  return w;
}

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const r = newResult('scale', '6. Scale and memory (7 classic links x 10 channels, 20 LE links)', opts);
  if (!gcAvailable()) r.notes.push('GC not exposed (run with node --expose-gc): heap figures include garbage');
  const packets = opts.quick ? 20_000 : 1_000_000;
  const stacks = 1 + CLASSIC_LINKS + LE_LINKS;

  setupFlags(true);
  let warm: World | null = warmUp();
  await memory();
  const m0 = await memory();
  const w = createWorld(stacks, { config: CONFIG });
  // BTstack's outgoing packet buffer (hci_packet_buffer, part of hci_stack) is one per stack; bthost
  // makes it on first use (f5ceca4), which in this world would be each peer's first link. Asked for
  // here, it counts in the per-stack figure, as it did when made with the stack (182843b)
  for (const n of w.nodes) n.stack.hci.hci_get_outgoing_packet_buffer();
  const m1 = await memory();
  const central = w.nodes[0]!;
  const classicPeers = w.nodes.slice(1, 1 + CLASSIC_LINKS);
  const lePeers = w.nodes.slice(1 + CLASSIC_LINKS);
  log(opts, `${stacks} stacks booted`);

  // the first channel on each link brings the ACL link up
  const channels: ChannelEnds[] = [];
  for (const p of classicPeers) channels.push(openChannel(w, central, p, 672, 672));
  const m2 = await memory();
  for (const p of classicPeers) for (let i = 1; i < CHANNELS_PER_LINK; i++) channels.push(openChannel(w, central, p, 672, 672));
  const m3 = await memory();
  log(opts, `${channels.length} L2CAP channels open on ${CLASSIC_LINKS} classic links`);

  // LE links: each peripheral advertises, the central connects to them one at a time
  const { up: leUp, failure: leFailure } = connectLe(w, central, lePeers);
  const m4 = await memory();
  log(opts, `${leUp} LE links up${leFailure ? ` (stopped: ${leFailure})` : ''}`);
  setupFlags(false);
  warm = null; // the memory samples are taken

  const sendPackets = scaleTraffic(w, central, channels);
  sendPackets(Math.min(packets, 20_000)); // warm-up: JIT, pools, buffers reach their working size
  const m5 = await memory();
  const { m } = await measure(() => sendPackets(packets));
  const m6 = await memory();
  log(opts, `${packets} packets: heap ${(m5.heap / MB).toFixed(2)} -> ${(m6.heap / MB).toFixed(2)} MB`);

  const perChannel = (m3.all - m2.all) / (CLASSIC_LINKS * (CHANNELS_PER_LINK - 1));
  r.figures.stacks = stacks;
  r.figures.heap_baseline_MB = m0.heap / MB;
  r.units.heap_baseline_MB = 'MB heap used before any stack exists (modules loaded)';
  r.figures.mem_per_idle_stack_kB = (m1.all - m0.all) / stacks / 1e3;
  r.units.mem_per_idle_stack_kB = 'kB (JS heap + ArrayBuffers) per booted stack + its virtual controller, no links';
  r.figures.mem_per_classic_link_kB = (m2.all - m1.all) / CLASSIC_LINKS / 1e3;
  r.units.mem_per_classic_link_kB = 'kB per ACL link with its first L2CAP channel (both ends)';
  r.figures.mem_per_channel_kB = perChannel / 1e3;
  r.units.mem_per_channel_kB = 'kB per further L2CAP channel (both ends, services included)';
  r.figures.le_links = leUp;
  r.figures.mem_per_le_link_kB = leUp ? (m4.all - m3.all) / leUp / 1e3 : null;
  r.units.mem_per_le_link_kB = 'kB per LE link (both ends)';
  r.figures.heap_at_rest_MB = m4.heap / MB;
  r.figures.array_buffers_at_rest_MB = (m4.all - m4.heap) / MB;
  r.units.array_buffers_at_rest_MB = 'MB of ArrayBuffer backing stores (packet buffers, pools)';
  r.figures.rss_at_rest_MB = m4.rss / MB;
  r.units.heap_at_rest_MB = `MB heap with ${stacks} stacks, ${channels.length} channels, ${leUp} LE links`;
  r.figures.packets = packets;
  r.figures.packets_per_s = packets / (m.wall_ms / 1000);
  r.figures.scavenges_per_1M_packets = (m.gc.scavenge * 1e6) / packets;
  r.figures.mark_sweeps_per_1M_packets = (m.gc.mark_sweep * 1e6) / packets;
  r.figures.heap_before_packets_MB = m5.heap / MB;
  r.figures.heap_after_packets_MB = m6.heap / MB;
  r.figures.heap_drift_pct = (100 * (m6.heap - m5.heap)) / m5.heap;
  r.units.heap_drift_pct = '% heap after GC, after vs before the packets';
  r.figures.array_buffers_drift_pct = (100 * (m6.all - m6.heap - (m5.all - m5.heap))) / (m5.all - m5.heap);
  r.units.array_buffers_drift_pct = '% ArrayBuffer memory, after vs before the packets';
  r.figures.rss_after_packets_MB = m6.rss / MB;
  r.targets.push({ figure: 'heap_drift_pct', target: '<= 1 %', op: '<=', value: 1 });
  r.targets.push({ figure: 'array_buffers_drift_pct', target: '<= 1 %', op: '<=', value: 1 });
  if (leFailure) r.notes.push(`LE links: ${leUp} of ${LE_LINKS} came up (${leFailure})`);
  r.notes.push(
    `${SDU}-byte SDUs central -> peripherals, round robin over ${channels.length} channels; heap figures after forced GC; per-item costs include both ends and the virtual controllers`,
  );
  return r;
}

if (isMain(import.meta.url)) await benchMain(run);
