/**
 * LE credit-based channel throughput: SDUs from one stack to the other over an LE connection
 * through the in-process virtual controllers and radio link (no link delay, unlimited air
 * bandwidth; LE buffers 8 x 251 octets), both directions (central -> peripheral and back), at an
 * SDU size (MTU) of 2048 and of 65535, automatic credits (BTstack's 10 / watermark 5 / +5). The
 * sender follows BTstack's CBM pattern: on L2CAP_EVENT_LE_CAN_SEND_NOW send one SDU with
 * l2cap_le_send_data (not copied; the same buffer again once it went out), then ask again.
 * Figures for the measured phase, after a warm-up phase. The air carries 27-octet LE data PDUs
 * (no Data Length Extension: each 251-octet ACL packet reaches the other host as ten); the `_dle`
 * figures repeat the runs after both sides asked for 251 octets (gap_le_set_data_length, as
 * BTstack's le_streamer), the shape of a modern LE link.
 *
 *   npx tsx bench/le-cbm.ts [--quick] [--mb N]
 */
import {
  HCI_EVENT_PACKET,
  L2CAP_DATA_PACKET,
  L2CAP_EVENT_LE_CAN_SEND_NOW,
  L2CAP_EVENT_LE_CHANNEL_OPENED,
  L2CAP_EVENT_LE_INCOMING_CONNECTION,
} from '../src/codes/v1.4.js';
import { little_endian_read_16 } from '../src/core/bytes.js';
import { benchMain, flag_mb, isMain, MB_FLAG, log, newResult, type BenchOptions, type BenchResult } from './lib/harness.js';
import { MB, measure } from './lib/measure.js';
import { createWorld, type Node } from './lib/pair.js';
import { connectLe } from './lib/le-link.js';

const SPSM = 0x0080;

interface Side {
  node: Node;
  cid: number;
  rx: Uint8Array;
  remaining: number;
  received: number;
  sdus: number;
}

/** Two stacks, an LE link, one CBM channel of `mtu` both ways; `send(from, bytes)` runs until `bytes` arrived. */
export function cbmSetup(mtu: number, data_length = 0): { send: (dir: 'c2p' | 'p2c', bytes: number) => void } {
  const w = createWorld(2);
  const [central, peripheral] = w.nodes as [Node, Node];
  const le = connectLe(w, central, peripheral, { data_length });
  const payload = new Uint8Array(mtu);
  for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
  const sides: Side[] = [central, peripheral].map((node) => ({
    node,
    cid: 0,
    rx: new Uint8Array(mtu),
    remaining: 0,
    received: 0,
    sdus: 0,
  }));
  let opened = 0;
  const handler = (side: Side) => (type: number, _ch: number, p: Uint8Array, size: number) => {
    if (type === L2CAP_DATA_PACKET) {
      side.received += size;
      side.sdus++;
      return;
    }
    if (type !== HCI_EVENT_PACKET) return;
    const l2 = side.node.stack.l2cap;
    if (p[0] === L2CAP_EVENT_LE_INCOMING_CONNECTION) {
      side.cid = little_endian_read_16(p, 13);
      l2.l2cap_le_accept_connection(side.cid, side.rx, mtu, 0xffff);
    } else if (p[0] === L2CAP_EVENT_LE_CHANNEL_OPENED) {
      if (p[2] !== 0) throw new Error(`le-cbm bench: open status ${p[2]}`);
      side.cid = little_endian_read_16(p, 15);
      opened++;
    } else if (p[0] === L2CAP_EVENT_LE_CAN_SEND_NOW && side.remaining > 0) {
      const n = Math.min(side.remaining, mtu);
      const st = l2.l2cap_le_send_data(side.cid, payload, n);
      if (st !== 0) throw new Error(`le-cbm bench: send status ${st}`);
      side.remaining -= n;
      if (side.remaining > 0) l2.l2cap_le_request_can_send_now_event(side.cid);
    }
  };
  const [c, p] = sides as [Side, Side];
  if (p.node.stack.l2cap.l2cap_le_register_service(handler(p), SPSM, 0) !== 0) throw new Error('le-cbm bench: register');
  const r = c.node.stack.l2cap.l2cap_le_create_channel(handler(c), le.handle_central, SPSM, c.rx, mtu, 0xffff, 0);
  if (r.status !== 0) throw new Error(`le-cbm bench: create status ${r.status}`);
  w.rl.run_until(() => opened === 2, 60_000);
  if (opened !== 2) throw new Error('le-cbm bench: channel did not open');
  return {
    send(dir, bytes) {
      const [from, to] = dir === 'c2p' ? [c, p] : [p, c];
      const target = to.received + bytes;
      from.remaining = bytes;
      from.node.stack.l2cap.l2cap_le_request_can_send_now_event(from.cid);
      w.rl.run_until(() => to.received >= target, 1e12);
      if (to.received !== target) throw new Error(`le-cbm bench: ${to.received - (target - bytes)} of ${bytes} bytes arrived`);
    },
  };
}

export async function run(opts: BenchOptions & { mb?: number }): Promise<BenchResult> {
  const r = newResult('le-cbm', 'LE credit-based channel (in-process virtual link)', opts);
  const bytes = Math.round((opts.mb ?? (opts.quick ? 2 : 16)) * MB);
  const warm = opts.quick ? 0.5 * MB : 2 * MB;
  r.figures.payload_MB = bytes / MB;
  r.units.payload_MB = 'MB (1e6 bytes) of SDU payload per MTU and direction, after a warm-up';
  for (const [mtu, dle] of [
    [2048, 0],
    [65535, 0],
    [2048, 251],
    [65535, 251],
  ] as const) {
    const pair = cbmSetup(mtu, dle);
    for (const dir of ['c2p', 'p2c'] as const) {
      pair.send(dir, warm);
      const { m } = await measure(() => pair.send(dir, bytes));
      const k = `mtu${mtu}${dle ? '_dle' : ''}_${dir === 'c2p' ? 'central_to_peripheral' : 'peripheral_to_central'}`;
      const mbps = bytes / MB / (m.wall_ms / 1000);
      r.figures[`${k}_MBps`] = mbps;
      r.units[`${k}_MBps`] = 'MB/s of SDU payload';
      r.figures[`${k}_MB_per_cpu_s`] = bytes / MB / (m.cpu_ms / 1000);
      r.units[`${k}_MB_per_cpu_s`] = 'MB of payload per CPU second of the process (robust when other processes share the cores)';
      r.figures[`${k}_scavenges_per_100MB`] = (m.gc.scavenge * 100 * MB) / bytes;
      log(
        opts,
        `MTU ${mtu}${dle ? ' DLE' : ''} ${dir}: ${mbps.toFixed(2)} MB/s, ${(m.cpu_ms / (bytes / MB)).toFixed(1)} CPU ms/MB`,
      );
    }
  }
  r.notes.push(
    'both stacks, both virtual controllers and the radio link run in this one process and are all counted; LE ACL packets of 251 octets from the host, 27-octet air PDUs (251 with _dle) and as many ACL packets to the receiving host, one K-frame per SDU up to MPS',
  );
  return r;
}

if (isMain(import.meta.url)) {
  await benchMain((o, f) => run({ ...o, mb: flag_mb(f) }), MB_FLAG, flag_mb);
}
