/**
 * L2CAP Enhanced Retransmission Mode throughput (issue 17): SDUs from one stack to the other over
 * an ERTM channel through the in-process virtual controllers and radio link (1 ms air latency,
 * unlimited bandwidth, ACL buffers 8 x 1021), with 0 %, 1 % and 5 % of the ACL data packets lost
 * and as many corrupted (the controllers' acl_loss, seeded), so the figures show what SREJ / REJ
 * and the retransmission timer cost. The channel: 16 + 16 windows of 1000-octet slots, FCS, SDUs
 * of 1000 octets (one I-frame each), retransmission 250 ms / monitor 500 ms (as `bthost l2cap
 * --mode ertm`). The sender follows BTstack's pattern (CAN_SEND_NOW -> l2cap_send -> ask again);
 * every SDU is checked to arrive once and in order. The default size is 10 MiB per loss rate.
 *
 *   npx tsx bench/ertm.ts [--quick] [--mb N]
 */
import {
  HCI_EVENT_PACKET,
  L2CAP_DATA_PACKET,
  L2CAP_EVENT_CAN_SEND_NOW,
  L2CAP_EVENT_CHANNEL_OPENED,
  L2CAP_EVENT_INCOMING_CONNECTION,
} from '../src/codes/v1.4.js';
import { little_endian_read_16 } from '../src/core/bytes.js';
import {
  l2cap_event_channel_opened_get_local_cid,
  l2cap_event_channel_opened_get_status,
  l2cap_event_incoming_connection_get_local_cid,
} from '../src/codes/v1.4.js';
import type { l2cap_ertm_config_t } from '../src/l2cap/l2cap.js';
import { benchMain, flag_mb, isMain, MB_FLAG, log, newResult, type BenchOptions, type BenchResult } from './lib/harness.js';
import { MB, measure } from './lib/measure.js';
import { createWorld } from './lib/pair.js';

const PSM = 0x1005;
const SDU = 1000;
const CONFIG: l2cap_ertm_config_t = {
  ertm_mandatory: 1,
  max_transmit: 50,
  retransmission_timeout_ms: 250,
  monitor_timeout_ms: 500,
  local_mtu: SDU,
  num_tx_buffers: 16,
  num_rx_buffers: 16,
  fcs_option: 1,
};
const BUFFER = SDU + 32 * SDU;

export interface ErtmFigures {
  mbps_virtual: number;
  cpu_ms_per_mb: number;
  retransmissions_per_mb: number;
  virtual_s: number;
  /** Polls (P=1) the sender sent: each one waited out its retransmission timer. */
  polls: number;
  /** SREJs the receiver sent, and of those sent again on evidence (an SREJ'd frame overtaking an earlier one). */
  srej: number;
  srej_resent: number;
}

/** One transfer of `bytes` at `loss` (share of ACL data packets lost, and as many corrupted). */
export async function ertmRun(loss: number, bytes: number): Promise<ErtmFigures> {
  const w = createWorld(2, { link: { latency_ms: 1 } });
  const [a, b] = w.nodes as [(typeof w.nodes)[0], (typeof w.nodes)[0]];
  let cidA = 0;
  let openB = false;
  let received = 0;
  let next = 0;
  let expect = 0;
  b.stack.l2cap.l2cap_register_service(
    (type, _ch, packet, size) => {
      if (type === L2CAP_DATA_PACKET) {
        // SDU k starts with k (16 bit): once, in order
        const k = little_endian_read_16(packet, 0);
        if (k !== (expect & 0xffff) || size !== SDU) throw new Error(`ertm bench: SDU ${k} (${size} octets), expected ${expect}`);
        expect++;
        received += size;
        return;
      }
      if (type !== HCI_EVENT_PACKET) return;
      if (packet[0] === L2CAP_EVENT_INCOMING_CONNECTION)
        b.stack.l2cap.l2cap_ertm_accept_connection(
          l2cap_event_incoming_connection_get_local_cid(packet),
          CONFIG,
          new Uint8Array(BUFFER),
        );
      if (packet[0] === L2CAP_EVENT_CHANNEL_OPENED && l2cap_event_channel_opened_get_status(packet) === 0) openB = true;
    },
    PSM,
    SDU,
    0,
  );
  const payload = new Uint8Array(SDU);
  let target = 0;
  const la = a.stack.l2cap;
  const handler = (type: number, _ch: number, packet: Uint8Array): void => {
    if (type !== HCI_EVENT_PACKET) return;
    if (packet[0] === L2CAP_EVENT_CHANNEL_OPENED && l2cap_event_channel_opened_get_status(packet) === 0)
      cidA = l2cap_event_channel_opened_get_local_cid(packet);
    if (packet[0] === L2CAP_EVENT_CAN_SEND_NOW && next * SDU < target) {
      payload[0] = next & 0xff;
      payload[1] = (next >> 8) & 0xff;
      if (la.l2cap_send(cidA, payload, SDU) === 0) next++;
      if (next * SDU < target) la.l2cap_request_can_send_now_event(cidA);
    }
  };
  const r = la.l2cap_ertm_create_channel(handler, b.addr, PSM, CONFIG, new Uint8Array(BUFFER));
  if (r.status !== 0) throw new Error(`ertm bench: create status ${r.status}`);
  w.rl.run_until(() => cidA !== 0 && openB, 60_000);
  if (!cidA || !openB) throw new Error('ertm bench: channel did not open');
  for (const c of w.link.controllers) c.faults.acl_loss(loss, loss, 7);
  const n = Math.ceil(bytes / SDU);
  const t0 = w.rl.get_time_ms();
  const ch = la.state.channelForCid(cidA)!;
  const chB = b.stack.l2cap.state.channels.find((c) => c.ertm)!;
  const { m } = await measure(() => {
    target = n * SDU;
    la.l2cap_request_can_send_now_event(cidA);
    w.rl.run_until(() => received >= target, 1e12);
  });
  if (received !== target) throw new Error(`ertm bench: received ${received} of ${target}`);
  const virtual_s = (w.rl.get_time_ms() - t0) / 1000;
  const mb = target / MB;
  return {
    mbps_virtual: mb / virtual_s,
    cpu_ms_per_mb: m.cpu_ms / mb,
    retransmissions_per_mb: (ch.ertm?.stats.retransmissions ?? 0) / mb,
    virtual_s,
    polls: ch.ertm?.stats.polls_sent ?? 0,
    srej: chB.ertm?.stats.srej_sent ?? 0,
    srej_resent: chB.ertm?.rx_srej_resent ?? 0,
  };
}

export async function run(opts: BenchOptions & { mb?: number }): Promise<BenchResult> {
  const r = newResult('ertm', 'L2CAP ERTM throughput with loss (in-process virtual link)', opts);
  const bytes = Math.round((opts.mb ?? (opts.quick ? 0.5 : 10.48576)) * MB);
  r.figures.payload_MB = bytes / MB;
  r.units.payload_MB = 'MB (1e6 bytes) of SDUs per loss rate (default 10 MiB)';
  for (const loss of opts.quick ? [0, 0.01] : [0, 0.01, 0.05]) {
    const f = await ertmRun(loss, bytes);
    const k = `loss${Math.round(loss * 100)}`;
    r.figures[`${k}_MBps_virtual`] = f.mbps_virtual;
    r.units[`${k}_MBps_virtual`] = 'MB/s of SDUs in virtual time (1 ms air latency each way): what the protocol achieves';
    r.figures[`${k}_MB_per_cpu_s`] = 1000 / f.cpu_ms_per_mb;
    r.units[`${k}_MB_per_cpu_s`] = 'MB of SDUs per CPU second of the process (both stacks, both controllers)';
    r.figures[`${k}_retransmissions_per_MB`] = f.retransmissions_per_mb;
    r.units[`${k}_retransmissions_per_MB`] = 'I-frames sent again per MB';
    r.figures[`${k}_polls`] = f.polls;
    r.units[`${k}_polls`] = 'polls (P=1) the sender sent, each after waiting out its retransmission timer';
    r.figures[`${k}_srej`] = f.srej;
    r.units[`${k}_srej`] = 'SREJ frames the receiver sent';
    r.figures[`${k}_srej_resent`] = f.srej_resent;
    r.units[`${k}_srej_resent`] = 'of those, sent again at once because a frame asked for later arrived first';
    log(
      opts,
      `loss ${loss * 100} % + corrupt ${loss * 100} %: ${f.mbps_virtual.toFixed(2)} MB/s virtual (${f.virtual_s.toFixed(2)} s), ` +
        `${(1000 / f.cpu_ms_per_mb).toFixed(1)} MB per CPU s, ${f.retransmissions_per_mb.toFixed(1)} retransmissions/MB, ` +
        `${f.polls} polls, ${f.srej} SREJ (${f.srej_resent} sent again on evidence)`,
    );
  }
  r.notes.push('acl_loss drops and corrupts that share of the ACL data packets both ways (I-frames and S-frames), seed 7');
  return r;
}

if (isMain(import.meta.url)) {
  await benchMain((o, f) => run({ ...o, mb: flag_mb(f) }), MB_FLAG, flag_mb);
}
