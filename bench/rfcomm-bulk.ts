/**
 * Benchmark 2, RFCOMM bulk: payload from one stack to another over one RFCOMM DLC with
 * credit-based flow control (automatic credits), on L2CAP basic mode, through the in-process
 * virtual controllers and radio link (no link delay), controller ACL buffers of 1021 bytes.
 * The sender follows BTstack's pattern: on RFCOMM_EVENT_CAN_SEND_NOW send one frame of
 * rfcomm_get_max_frame_size() bytes with rfcomm_send, then ask again.
 *
 *   npx tsx bench/rfcomm-bulk.ts [--quick] [--mb N]
 */
import {
  HCI_EVENT_PACKET,
  RFCOMM_DATA_PACKET,
  RFCOMM_EVENT_CAN_SEND_NOW,
  RFCOMM_EVENT_CHANNEL_OPENED,
  RFCOMM_EVENT_INCOMING_CONNECTION,
  rfcomm_event_channel_opened_get_rfcomm_cid,
  rfcomm_event_channel_opened_get_status,
  rfcomm_event_incoming_connection_get_rfcomm_cid,
} from '../src/codes/v1.4.js';
import { benchMain, flag_mb, isMain, MB_FLAG, log, newResult, type BenchOptions, type BenchResult } from './lib/harness.js';
import { allocatedBy, MB, measure } from './lib/measure.js';
import { createWorld } from './lib/pair.js';

const SERVER_CHANNEL = 1;

/** A DLC between two stacks with max frame size `mfs` requested on both sides. */
export function rfcommSetup(mfs: number): { send: (bytes: number) => void; frames: () => number; frame_size: number } {
  const w = createWorld(2);
  const [a, b] = w.nodes as [(typeof w.nodes)[0], (typeof w.nodes)[0]];
  let cidA = 0;
  let cidB = 0;
  let failure = '';
  let remaining = 0;
  let received = 0;
  let framesSent = 0;
  let framesReceived = 0;
  let frameSize = 0;
  let payload = new Uint8Array(0);
  const ra = a.stack.rfcomm;
  const rb = b.stack.rfcomm;
  const st = rb.rfcomm_register_service(
    (type, _ch, packet, size) => {
      if (type === RFCOMM_DATA_PACKET) {
        received += size;
        framesReceived++;
        return;
      }
      if (type !== HCI_EVENT_PACKET) return;
      if (packet[0] === RFCOMM_EVENT_INCOMING_CONNECTION)
        rb.rfcomm_accept_connection(rfcomm_event_incoming_connection_get_rfcomm_cid(packet));
      else if (packet[0] === RFCOMM_EVENT_CHANNEL_OPENED) {
        if (rfcomm_event_channel_opened_get_status(packet) === 0) cidB = rfcomm_event_channel_opened_get_rfcomm_cid(packet);
        else failure = `b: open status ${rfcomm_event_channel_opened_get_status(packet)}`;
      }
    },
    SERVER_CHANNEL,
    mfs,
  );
  if (st !== 0) throw new Error(`rfcomm bulk: rfcomm_register_service status ${st}`);
  const r = ra.rfcomm_create_channel(
    (type, _ch, packet) => {
      if (type !== HCI_EVENT_PACKET) return;
      if (packet[0] === RFCOMM_EVENT_CHANNEL_OPENED) {
        if (rfcomm_event_channel_opened_get_status(packet) === 0) cidA = rfcomm_event_channel_opened_get_rfcomm_cid(packet);
        else failure = `a: open status ${rfcomm_event_channel_opened_get_status(packet)}`;
        return;
      }
      if (packet[0] !== RFCOMM_EVENT_CAN_SEND_NOW || remaining <= 0) return;
      const n = remaining < frameSize ? remaining : frameSize;
      const s = ra.rfcomm_send(cidA, payload, n);
      if (s === 0) {
        remaining -= n;
        framesSent++;
      }
      if (remaining > 0) ra.rfcomm_request_can_send_now_event(cidA);
    },
    b.addr,
    SERVER_CHANNEL,
  );
  if (r.status !== 0) throw new Error(`rfcomm bulk: rfcomm_create_channel status ${r.status}`);
  w.rl.run_until(() => (cidA !== 0 && cidB !== 0) || failure !== '', 60_000);
  if (!cidA || !cidB) throw new Error(`rfcomm bulk: DLC did not open (${failure || 'timeout'})`);
  frameSize = ra.rfcomm_get_max_frame_size(cidA);
  if (!(frameSize > 0)) throw new Error(`rfcomm bulk: max frame size ${frameSize}`);
  payload = new Uint8Array(frameSize);
  for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
  return {
    frame_size: frameSize,
    send(bytes: number) {
      const target = received + bytes;
      remaining = bytes;
      ra.rfcomm_request_can_send_now_event(cidA);
      w.rl.run_until(() => received >= target, 1e12);
      if (received !== target) throw new Error(`rfcomm bulk: received ${received - (target - bytes)} of ${bytes} bytes`);
      if (framesReceived !== framesSent) throw new Error(`rfcomm bulk: ${framesSent} frames sent, ${framesReceived} received`);
    },
    frames: () => framesReceived,
  };
}

export async function run(opts: BenchOptions & { mb?: number }): Promise<BenchResult> {
  const r = newResult('rfcomm-bulk', '2. RFCOMM bulk (credits, in-process virtual link)', opts);
  const bytes = Math.round((opts.mb ?? (opts.quick ? 4 : 256)) * MB);
  const warm = opts.quick ? 1 * MB : 16 * MB;
  r.figures.payload_MB = bytes / MB;
  r.units.payload_MB = 'MB (1e6 bytes) of RFCOMM payload, after a warm-up';
  // the largest frame RFCOMM allows, and frames that fit an L2CAP MTU of 672 (as the L2CAP bulk's small MTU)
  for (const requested of [0xffff, 667]) {
    const p = rfcommSetup(requested);
    p.send(warm);
    const f0 = p.frames();
    const alloc = await allocatedBy(() => p.send(Math.min(bytes, 1 << 20)));
    const allocFrames = p.frames() - f0;
    const { m } = await measure(() => p.send(bytes));
    const per100 = (100 * MB) / bytes;
    const k = `frame${p.frame_size}`;
    r.figures[`${k}_MBps`] = bytes / MB / (m.wall_ms / 1000);
    r.units[`${k}_MBps`] = `MB/s of payload, ${p.frame_size}-byte frames (rfcomm_get_max_frame_size; ${requested} requested)`;
    r.figures[`${k}_MB_per_cpu_s`] = bytes / MB / (m.cpu_ms / 1000);
    r.units[`${k}_MB_per_cpu_s`] = 'MB of payload per CPU second of the process (robust when other processes share the cores)';
    r.figures[`${k}_cpu_ms_per_MB`] = m.cpu_ms / (bytes / MB);
    r.figures[`${k}_scavenges_per_100MB`] = m.gc.scavenge * per100;
    r.figures[`${k}_mark_sweeps_per_100MB`] = m.gc.mark_sweep * per100;
    r.figures[`${k}_gc_pause_ms_per_100MB`] = m.gc.pause_ms * per100;
    r.figures[`${k}_heap_before_MB`] = m.heap_before / MB;
    r.figures[`${k}_heap_after_MB`] = m.heap_after / MB;
    r.units[`${k}_heap_after_MB`] = 'MB used after a forced GC';
    r.figures[`${k}_alloc_bytes_per_frame`] = alloc === null ? null : alloc / allocFrames;
    r.units[`${k}_alloc_bytes_per_frame`] = 'JS heap bytes allocated per frame, both stacks + controllers (no-GC window)';
    log(
      opts,
      `frame ${p.frame_size} bytes: ${(r.figures[`${k}_MBps`] as number).toFixed(1)} MB/s, ${(r.figures[`${k}_cpu_ms_per_MB`] as number).toFixed(2)} CPU ms/MB`,
    );
    r.targets.push({ figure: `${k}_MBps`, target: '>= 100 MB/s', op: '>=', value: 100 });
  }
  r.notes.push('both stacks, both virtual controllers and the radio link run in this one process and are all counted');
  return r;
}

if (isMain(import.meta.url)) {
  await benchMain((o, f) => run({ ...o, mb: flag_mb(f) }), MB_FLAG, flag_mb);
}
