/**
 * GATT notification throughput: an ATT server (att_server_init with a database compiled from a
 * .gatt text) notifies one characteristic value as fast as can-send-now allows (on
 * ATT_EVENT_CAN_SEND_NOW: att_server_notify with ATT_MTU - 3 octets, then
 * att_server_request_can_send_now_event, as BTstack's le_streamer); the GATT client on the other
 * stack counts the values (gatt_client_listen_for_characteristic_value_updates after writing the
 * CCCD). Over an LE connection through the in-process virtual controllers and radio link (no link
 * delay, unlimited air bandwidth; LE buffers 8 x 251 octets), at the default ATT_MTU 23 and at the
 * MTU the GATT client's exchange reaches. Figures for the measured phase, after a warm-up. The air
 * carries 27-octet LE data PDUs (no Data Length Extension); `mtu1017_dle` repeats the exchanged
 * MTU after both sides asked for 251 octets (gap_le_set_data_length, as BTstack's le_streamer).
 *
 *   npx tsx bench/gatt-notify.ts [--quick] [--mb N]
 */
import {
  ATT_EVENT_CAN_SEND_NOW,
  GATT_EVENT_MTU,
  GATT_EVENT_NOTIFICATION,
  GATT_EVENT_QUERY_COMPLETE,
  HCI_EVENT_PACKET,
} from '../src/codes/v1.4.js';
import { gatt_compile } from '../src/att/gatt-compiler.js';
import type { GattClientCharacteristic, GattClientNotification } from '../src/gatt/gatt-client-types.js';
import { benchMain, flag_mb, isMain, MB_FLAG, log, newResult, type BenchOptions, type BenchResult } from './lib/harness.js';
import { MB, measure } from './lib/measure.js';
import { createWorld, type Node } from './lib/pair.js';
import { connectLe } from './lib/le-link.js';

const GATT = `PRIMARY_SERVICE, 0000FF10-0000-1000-8000-00805F9B34FB
CHARACTERISTIC, 0000FF11-0000-1000-8000-00805F9B34FB, READ | NOTIFY | DYNAMIC,
`;

/** Server and client over one LE link; `run(bytes)` notifies until `bytes` of values arrived. */
export function notifySetup(
  exchange: boolean,
  data_length = 0,
): { mtu: number; run: (bytes: number) => void; notifications: () => number } {
  const db = gatt_compile(GATT, { file: 'bench.gatt' });
  if (!db.profile_data) throw new Error('gatt-notify bench: the .gatt text did not compile');
  const value_handle = db.handles['ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_VALUE_HANDLE'];
  const ccc_handle = db.handles['ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_CLIENT_CONFIGURATION_HANDLE'];
  if (!value_handle || !ccc_handle) throw new Error(`gatt-notify bench: handles ${JSON.stringify(db.handles)}`);
  const w = createWorld(2);
  const [central, peripheral] = w.nodes as [Node, Node];
  const server = peripheral.stack.att_server;
  let remaining = 0;
  let received = 0;
  let count = 0;
  let con = -1;
  const payload = new Uint8Array(0xffff);
  for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
  server.att_server_init(
    db.profile_data,
    () => 0,
    () => 0,
  );
  server.att_server_register_packet_handler((type, _ch, p) => {
    if (type !== HCI_EVENT_PACKET || p[0] !== ATT_EVENT_CAN_SEND_NOW || remaining <= 0) return;
    const n = Math.min(remaining, server.att_server_get_mtu(con) - 3);
    const st = server.att_server_notify(con, value_handle, payload, n);
    if (st !== 0) throw new Error(`gatt-notify bench: att_server_notify status ${st}`);
    remaining -= n;
    if (remaining > 0) server.att_server_request_can_send_now_event(con);
  });
  const gc = central.stack.gatt_client;
  gc.gatt_client_mtu_enable_auto_negotiation(0);
  const le = connectLe(w, central, peripheral, { data_length });
  con = le.handle_peripheral;
  const c = le.handle_central;
  let done = false;
  const query = (start: (cb: (t: number, ch: number, p: Uint8Array) => void) => void) => {
    done = false;
    start((t, _ch, p) => {
      if (t === HCI_EVENT_PACKET && (p[0] === GATT_EVENT_QUERY_COMPLETE || p[0] === GATT_EVENT_MTU)) done = true;
    });
    w.rl.run_until(() => done, 60_000);
    if (!done) throw new Error('gatt-notify bench: query did not complete');
  };
  if (exchange) query((cb) => gc.gatt_client_send_mtu_negotiation(cb, c));
  const characteristic: GattClientCharacteristic = {
    start_handle: value_handle - 1,
    value_handle,
    end_handle: ccc_handle,
    properties: 0x32,
    uuid16: 0,
    uuid128: new Uint8Array(16),
  };
  const listener: GattClientNotification = { callback: null, con_handle: 0, attribute_handle: 0 };
  gc.gatt_client_listen_for_characteristic_value_updates(
    listener,
    (t, _ch, p) => {
      if (t !== HCI_EVENT_PACKET || p[0] !== GATT_EVENT_NOTIFICATION) return;
      received += p[6]! | (p[7]! << 8); // value_length (after handle and value_handle)
      count++;
    },
    c,
    characteristic,
  );
  query((cb) => gc.gatt_client_write_client_characteristic_configuration(cb, c, characteristic, 1));
  return {
    mtu: server.att_server_get_mtu(con),
    run(bytes) {
      const target = received + bytes;
      remaining = bytes;
      server.att_server_request_can_send_now_event(con);
      w.rl.run_until(() => received >= target, 1e12);
      if (received !== target) throw new Error(`gatt-notify bench: ${received - (target - bytes)} of ${bytes} bytes arrived`);
    },
    notifications: () => count,
  };
}

export async function run(opts: BenchOptions & { mb?: number }): Promise<BenchResult> {
  const r = newResult('gatt-notify', 'GATT notifications (in-process virtual link)', opts);
  const bytes = Math.round((opts.mb ?? (opts.quick ? 0.5 : 4)) * MB);
  const warm = opts.quick ? 0.1 * MB : 0.5 * MB;
  r.figures.payload_MB = bytes / MB;
  r.units.payload_MB = 'MB (1e6 bytes) of notified values per ATT_MTU, after a warm-up';
  for (const [exchange, dle] of [
    [false, 0],
    [true, 0],
    [true, 251],
  ] as const) {
    const pair = notifySetup(exchange, dle);
    pair.run(warm);
    const n0 = pair.notifications();
    const { m } = await measure(() => pair.run(bytes));
    const notes = pair.notifications() - n0;
    const k = `mtu${pair.mtu}${dle ? '_dle' : ''}`;
    const mbps = bytes / MB / (m.wall_ms / 1000);
    r.figures[`${k}_MBps`] = mbps;
    r.units[`${k}_MBps`] = `MB/s of values (ATT_MTU ${pair.mtu}: ${pair.mtu - 3} octets per notification)`;
    r.figures[`${k}_notifications_per_s`] = notes / (m.wall_ms / 1000);
    r.figures[`${k}_MB_per_cpu_s`] = bytes / MB / (m.cpu_ms / 1000);
    r.units[`${k}_MB_per_cpu_s`] = 'MB of values per CPU second of the process (robust when other processes share the cores)';
    r.figures[`${k}_scavenges_per_100MB`] = (m.gc.scavenge * 100 * MB) / bytes;
    log(
      opts,
      `ATT_MTU ${pair.mtu}${dle ? ' DLE' : ''}: ${mbps.toFixed(2)} MB/s, ${(notes / (m.wall_ms / 1000)).toFixed(0)} notifications/s`,
    );
  }
  r.notes.push(
    'ATT server, GATT client, both virtual controllers and the radio link run in this one process and are all counted',
  );
  return r;
}

if (isMain(import.meta.url)) {
  await benchMain((o, f) => run({ ...o, mb: flag_mb(f) }), MB_FLAG, flag_mb);
}
