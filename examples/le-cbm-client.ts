/**
 * le-cbm-client: BTstack's le_credit_based_flow_control_mode_client. Without --addr it scans for a
 * device advertising "LE CBM Server" (examples/le-cbm-server), connects, opens an LE credit-based
 * channel to SPSM 0x25 (automatic credits), sends --bytes of a test stream (every byte depends on
 * its offset) SDU by SDU on CAN_SEND_NOW with at most --window bytes not yet echoed, checks that
 * every byte comes back in order, prints the throughput and the SHA-256 of what went each way,
 * disconnects and exits 0 (1 on any failure, with one line saying why).
 *
 *   npx tsx examples/le-cbm-client.ts                     in-process virtual controller + a virtual echo server
 *   npx tsx examples/le-cbm-client.ts -u /tmp/ttyV1 --no-flow [--addr 11:22:33:44:55:66]
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --psm SPSM, --bytes N (default 1 MiB),
 *   --mtu MTU, --window BYTES, --profile v1.4|v1.8 (v1.4: l2cap_le_* and L2CAP_EVENT_LE_*;
 *   v1.8: l2cap_cbm_*, l2cap_send and L2CAP_EVENT_CBM_*)
 *
 * bthost/port does the rest, as BTstack's port main.c: flags, transport, packet log,
 * every HCI event printed by name, "up and running at ADDR" once HCI is working, exit.
 */
import { performance } from 'node:perf_hooks';
import { bd_addr_to_str, Stack, type BdAddr, type NodeRunLoop } from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, status_text, type ExampleArgs, type ExampleContext, type VirtualWorld } from 'bthost/port';
import {
  CbmStream,
  LE_CBM_SERVER_NAME,
  TSPX_le_psm,
  advertising_data_has_name,
  cbm_api,
  incoming_local_cid,
  opened_address,
  opened_handle,
  opened_local_cid,
  opened_psm,
  opened_remote_cid,
  opened_remote_mtu,
  opened_status,
} from './le-cbm-common.js';

const OPTIONS = {
  psm: { value: 'SPSM', help: 'SPSM to connect to (default 0x25)', default: TSPX_le_psm, min: 1, max: 0xff },
  bytes: { value: 'N', help: 'bytes to send and get back (default 1048576)', default: 1 << 20, max: 1 << 30 },
  mtu: { value: 'MTU', help: 'largest SDU to receive (default 1000)', default: 1000, min: 23 },
  window: { value: 'BYTES', help: 'bytes sent and not yet echoed at most (default 65536)', default: 65536, min: 1, max: 1 << 30 },
};
type Args = ExampleArgs<typeof OPTIONS>;

/** BTstack's btstack_main: scan or connect once working, open the channel, stream, check, disconnect. */
function btstack_main(stack: Stack, ctx: ExampleContext<Args>): void {
  const { args, bt } = ctx;
  const codes = stack.codes;
  const api = cbm_api(stack);
  const rx = new Uint8Array(args.mtu);
  const stream = new CbmStream(api, { send_bytes: args.bytes, echo: false, check: true, window: args.window });
  let state: 'off' | 'scan' | 'connect' | 'channel' | 'data' | 'done' = 'off';
  let server: BdAddr | null = ctx.remote ?? null;
  let t0 = 0;
  ctx.exit_code = 1; // until every byte came back

  const finish = (code: number, why: string) => {
    if (ctx.exiting) return;
    console.log(why);
    ctx.exit(code);
  };

  const start = () => {
    if (server) {
      console.log(`Connect to ${bd_addr_to_str(server)}`);
      state = 'connect';
      const st = bt.gap_connect(server, 0);
      if (st) finish(1, `gap_connect failed: ${status_text(st)}`);
      return;
    }
    console.log('Start scanning!');
    state = 'scan';
    bt.gap_set_scan_parameters(0, 0x0030, 0x0030);
    bt.gap_start_scan();
  };

  const packet_handler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => {
    if (packet_type === C.L2CAP_DATA_PACKET) {
      if (channel !== stream.cid) return;
      stream.data(packet, size);
      if (stream.wrong) return finish(1, `the echo differs from what was sent (at about byte ${stream.received})`);
      if (stream.received === args.bytes) {
        const ms = performance.now() - t0;
        state = 'done';
        console.log(
          `${args.bytes} bytes sent and received back in ${(ms / 1000).toFixed(3)} s: ` +
            `${((2 * args.bytes) / 1e6 / (ms / 1000)).toFixed(2)} MB/s both ways`,
        );
        console.log(`sent sha256 ${stream.sha256_sent}`);
        console.log(`received sha256 ${stream.sha256_received}`);
        api.disconnect(stream.cid);
      }
      return;
    }
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    const event = packet[0]!;
    switch (event) {
      case C.BTSTACK_EVENT_STATE:
        if (codes.btstack_event_state_get_state(packet) === C.HCI_STATE_WORKING && state === 'off') start();
        return;
      case C.GAP_EVENT_ADVERTISING_REPORT: {
        if (state !== 'scan') return;
        const data = codes.gap_event_advertising_report_get_data(packet);
        if (!advertising_data_has_name(data, codes.gap_event_advertising_report_get_data_length(packet), LE_CBM_SERVER_NAME))
          return;
        server = codes.gap_event_advertising_report_get_address(packet);
        state = 'connect';
        bt.gap_stop_scan();
        console.log(`Stop scan. Connect to device with addr ${bd_addr_to_str(server)}.`);
        bt.gap_connect(server, codes.gap_event_advertising_report_get_address_type(packet));
        return;
      }
      case C.HCI_EVENT_LE_META: {
        if (packet[2] !== C.HCI_SUBEVENT_LE_CONNECTION_COMPLETE || state !== 'connect') return;
        const status = codes.hci_subevent_le_connection_complete_get_status(packet);
        if (status) return finish(1, `LE connection to ${bd_addr_to_str(server!)} failed: ${status_text(status)}`);
        const interval = codes.hci_subevent_le_connection_complete_get_conn_interval(packet);
        console.log(
          `Connection Interval: ${Math.floor((interval * 125) / 100)}.${String(25 * (interval & 3)).padStart(2, '0')} ms`,
        );
        console.log(`Connection Latency: ${codes.hci_subevent_le_connection_complete_get_conn_latency(packet)}`);
        console.log('Connect to performance test service.');
        state = 'channel';
        const handle = codes.hci_subevent_le_connection_complete_get_connection_handle(packet);
        const r = api.create(packet_handler, handle, args.psm, rx, args.mtu);
        if (r.status) finish(1, `creating the channel failed: ${status_text(r.status)}`);
        return;
      }
      case C.HCI_EVENT_DISCONNECTION_COMPLETE:
        console.log(`Disconnected ${server ? bd_addr_to_str(server) : ''}`);
        if (state !== 'done') finish(1, `the LE link went down after ${stream.received} of ${args.bytes} bytes`);
        else finish(0, `echo test passed: ${args.bytes} bytes each way, intact`);
        return;
      default:
        break;
    }
    if (event === api.OPENED) {
      ctx.print_event(packet, size);
      const status = opened_status(packet);
      const addr = bd_addr_to_str(opened_address(packet));
      if (status !== 0) return finish(1, `L2CAP: Connection to device ${addr} failed: ${status_text(status)}`);
      const cid = opened_local_cid(packet);
      console.log(
        `L2CAP: CBM Channel successfully opened: ${addr}, handle 0x${opened_handle(packet).toString(16).padStart(2, '0')}, ` +
          `psm 0x${opened_psm(packet).toString(16).padStart(2, '0')}, local cid 0x${cid.toString(16)}, remote cid 0x${opened_remote_cid(packet).toString(16)}`,
      );
      console.log(`Test packet size: ${Math.min(opened_remote_mtu(packet), args.mtu)}`);
      state = 'data';
      t0 = performance.now();
      if (args.bytes === 0) {
        state = 'done';
        api.disconnect(cid);
      } else stream.opened(cid, opened_remote_mtu(packet), args.mtu);
    } else if (event === api.CAN_SEND_NOW) {
      stream.can_send_now();
    } else if (event === api.PACKET_SENT) {
      stream.packet_sent();
    } else if (api.CLOSED.includes(event)) {
      ctx.print_event(packet, size);
      console.log(`L2CAP: Channel closed 0x${(packet[2]! | (packet[3]! << 8)).toString(16)}`);
      stream.closed();
      if (state !== 'done') return finish(1, `the channel closed after ${stream.received} of ${args.bytes} bytes came back`);
      finish(0, `echo test passed: ${args.bytes} bytes each way, intact`);
    }
  };

  bt.hci_add_event_handler({ callback: packet_handler });
  stack.l2cap.l2cap_init();
}

/** Without -u: a virtual controller for us and a virtual echo server advertising "LE CBM Server". */
async function virtual_world(run_loop: NodeRunLoop, args: Args): Promise<VirtualWorld> {
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'le-cbm-client' });
  const server = new Stack({ transport: new VirtualTransport(link.create_controller({ name: 'echo server' })), run_loop });
  const api = cbm_api(server);
  const rx = new Uint8Array(2000);
  let stream: CbmStream | null = null;
  const handler = (type: number, _channel: number, p: Uint8Array, n: number) => {
    if (type === C.L2CAP_DATA_PACKET) return stream?.data(p, n);
    if (p[0] === api.INCOMING) api.accept(incoming_local_cid(p), rx, rx.length);
    else if (p[0] === api.OPENED && opened_status(p) === 0) {
      stream = new CbmStream(api, { send_bytes: 0, echo: true, check: false, window: 0 });
      stream.opened(opened_local_cid(p), opened_remote_mtu(p));
    } else if (p[0] === api.CAN_SEND_NOW) stream?.can_send_now();
    else if (p[0] === api.PACKET_SENT) stream?.packet_sent();
  };
  api.register(handler, args.psm);
  const name = new TextEncoder().encode(LE_CBM_SERVER_NAME);
  const adv = Uint8Array.of(0x02, 0x01, 0x06, name.length + 1, 0x09, ...name);
  server.gap.gap_advertisements_set_params(0x0030, 0x0030, 0, 0, new Uint8Array(6), 0x07, 0);
  server.gap.gap_advertisements_set_data(adv.length, adv);
  server.gap.gap_advertisements_enable(1);
  server.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours) };
}

example_main(import.meta.url, { name: 'le-cbm-client', options: OPTIONS, virtual_world, btstack_main });
