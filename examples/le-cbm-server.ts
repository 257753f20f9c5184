/**
 * le-cbm-server: BTstack's le_credit_based_flow_control_mode_server. Advertises as "LE CBM Server"
 * (connectable, general discoverable, LE only), registers an LE credit-based service on SPSM 0x25,
 * accepts every incoming channel (automatic credits) and sends back whatever arrives (--discard:
 * only counts it), printing the throughput every 3 seconds as BTstack does and, when the channel
 * closes, the bytes and SHA-256 of what was received and echoed.
 *
 *   npx tsx examples/le-cbm-server.ts                     in-process virtual controller + a virtual client
 *   npx tsx examples/le-cbm-server.ts -u /tmp/ttyV0 --no-flow --once
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --psm SPSM, --mtu MTU, --discard, --once
 *   (exit after the first channel closed: 0 when everything received was echoed),
 *   --profile v1.4|v1.8 (v1.4: l2cap_le_* and L2CAP_EVENT_LE_*; v1.8: l2cap_cbm_* and L2CAP_EVENT_CBM_*)
 *
 * bthost/port does the rest, as BTstack's port main.c: flags, transport, packet log,
 * every HCI event printed by name, "up and running at ADDR" once HCI is working, exit.
 */
import { Timer, bd_addr_to_str, Stack, type NodeRunLoop } from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, status_text, type ExampleArgs, type ExampleContext, type VirtualWorld } from 'bthost/port';
import {
  CbmStream,
  LE_CBM_SERVER_NAME,
  TSPX_le_psm,
  advertising_data_has_name,
  cbm_api,
  incoming_local_cid,
  incoming_psm,
  opened_address,
  opened_handle,
  opened_local_cid,
  opened_psm,
  opened_remote_cid,
  opened_remote_mtu,
  opened_status,
} from './le-cbm-common.js';

const OPTIONS = {
  psm: { value: 'SPSM', help: 'SPSM to serve (default 0x25)', default: TSPX_le_psm, min: 1, max: 0xff },
  mtu: { value: 'MTU', help: 'largest SDU to receive (default 1000)', default: 1000, min: 23 },
  discard: { help: 'count what arrives, do not echo it' },
  once: { help: 'exit after the first channel closed' },
};
type Args = ExampleArgs<typeof OPTIONS>;

const REPORT_INTERVAL_MS = 3000;

/** Advertising data: flags (LE General Discoverable, BR/EDR not supported) and the complete name. */
function adv_data(): Uint8Array {
  const name = new TextEncoder().encode(LE_CBM_SERVER_NAME);
  return Uint8Array.of(0x02, 0x01, 0x06, name.length + 1, 0x09, ...name);
}

/** BTstack's btstack_main: the LE CBM service, advertising, the packet handler. */
function btstack_main(stack: Stack, ctx: ExampleContext<Args>): number {
  const { args, bt } = ctx;
  const api = cbm_api(stack);
  const rx = new Uint8Array(args.mtu);
  let conn: CbmStream | null = null;
  let report_start = 0;
  let report_bytes = 0;

  const track = (bytes: number) => {
    report_bytes += bytes;
    const now = bt.btstack_run_loop_get_time_ms();
    const passed = now - report_start;
    if (passed < REPORT_INTERVAL_MS) return;
    const bps = Math.floor((report_bytes * 1000) / passed);
    console.log(`A: ${report_bytes} bytes received-> ${Math.floor(bps / 1000)}.${String(bps % 1000).padStart(3, '0')} kB/s`);
    report_start = now;
    report_bytes = 0;
  };

  const packet_handler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => {
    if (packet_type === C.L2CAP_DATA_PACKET) {
      if (!conn || channel !== conn.cid) return;
      conn.data(packet, size);
      track(size);
      return;
    }
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    const event = packet[0]!;
    if (event === api.INCOMING) {
      ctx.print_event(packet, size);
      const cid = incoming_local_cid(packet);
      const psm = incoming_psm(packet);
      if (psm !== args.psm) return;
      if (conn) {
        console.log(`L2CAP: already serving a channel, declining 0x${cid.toString(16)}`);
        stack.l2cap.l2cap_cbm_decline_connection(cid);
        return;
      }
      console.log(
        `L2CAP: Accepting incoming connection request for 0x${cid.toString(16)}, PSM ${psm.toString(16).padStart(2, '0')}`,
      );
      const st = api.accept(cid, rx, args.mtu);
      if (st) console.log(`accept failed: ${status_text(st)}`);
    } else if (event === api.OPENED) {
      ctx.print_event(packet, size);
      const addr = bd_addr_to_str(opened_address(packet));
      const status = opened_status(packet);
      if (status !== 0) {
        console.log(`L2CAP: Connection to device ${addr} failed. status code ${status}`);
        return;
      }
      const cid = opened_local_cid(packet);
      console.log(
        `L2CAP: Channel successfully opened: ${addr}, handle 0x${opened_handle(packet).toString(16).padStart(2, '0')}, ` +
          `psm 0x${opened_psm(packet).toString(16).padStart(2, '0')}, local cid 0x${cid.toString(16)}, remote cid 0x${opened_remote_cid(packet).toString(16)}`,
      );
      console.log(`Test packet size: ${Math.min(opened_remote_mtu(packet), args.mtu)}`);
      conn = new CbmStream(api, { send_bytes: 0, echo: !args.discard, check: false, window: 0 });
      conn.opened(cid, opened_remote_mtu(packet));
      report_start = bt.btstack_run_loop_get_time_ms();
      report_bytes = 0;
    } else if (event === api.CAN_SEND_NOW) {
      conn?.can_send_now();
    } else if (event === api.PACKET_SENT) {
      conn?.packet_sent();
    } else if (api.CLOSED.includes(event)) {
      ctx.print_event(packet, size);
      if (!conn || little_endian_cid(packet) !== conn.cid) return;
      const c = conn;
      conn = null;
      c.closed();
      console.log('L2CAP: Channel closed');
      console.log(`received ${c.received} bytes, sha256 ${c.sha256_received}`);
      if (!args.discard) console.log(`echoed ${c.echoed} bytes, sha256 ${c.sha256_sent}`);
      if (!args.once) return;
      const left = c.echo_pending;
      if (left) console.log(`the channel closed with ${left} received bytes not echoed`);
      ctx.exit(left ? 1 : 0);
    }
  };

  bt.hci_add_event_handler({
    callback: (packet_type, _channel, packet) => {
      if (packet_type !== C.HCI_EVENT_PACKET) return;
      if (packet[0] === C.BTSTACK_EVENT_STATE && stack.codes.btstack_event_state_get_state(packet) === C.HCI_STATE_WORKING)
        console.log('To start streaming, please run the le-cbm-client example on another device.');
      if (packet[0] === C.HCI_EVENT_DISCONNECTION_COMPLETE)
        console.log(`A: Disconnect, reason ${packet[5]!.toString(16).padStart(2, '0')}`);
      if (packet[0] === C.HCI_EVENT_LE_META && packet[2] === C.HCI_SUBEVENT_LE_CONNECTION_COMPLETE && packet[3] === 0) {
        const interval = stack.codes.hci_subevent_le_connection_complete_get_conn_interval(packet);
        console.log(
          `A: Connection Interval: ${Math.floor((interval * 125) / 100)}.${String(25 * (interval & 3)).padStart(2, '0')} ms`,
        );
        console.log(`A: Connection Latency: ${stack.codes.hci_subevent_le_connection_complete_get_conn_latency(packet)}`);
      }
    },
  });

  stack.l2cap.l2cap_init();
  const st = api.register(packet_handler, args.psm);
  if (st) {
    console.error(`registering SPSM 0x${args.psm.toString(16)} failed: ${status_text(st)}`);
    return 1;
  }
  const adv = adv_data();
  bt.gap_advertisements_set_params(0x0030, 0x0030, 0, 0, new Uint8Array(6), 0x07, 0x00);
  bt.gap_advertisements_set_data(adv.length, adv);
  bt.gap_advertisements_enable(1);
  console.log(`LE CBM service on SPSM 0x${args.psm.toString(16)}, MTU ${args.mtu}, ${args.discard ? 'counting' : 'echoing'}`);
  return 0;
}

/** local_cid of a CHANNEL_CLOSED / LE_CHANNEL_CLOSED event (octets 2-3 in both). */
function little_endian_cid(packet: Uint8Array): number {
  return packet[2]! | (packet[3]! << 8);
}

/**
 * Without -u: a virtual controller for us and a virtual client on the same radio that scans for
 * "LE CBM Server", connects, opens a channel, sends 64 KiB, checks the echo and disconnects.
 */
async function virtual_world(run_loop: NodeRunLoop, args: Args): Promise<VirtualWorld> {
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'le-cbm-server' });
  const peer = new Stack({ transport: new VirtualTransport(link.create_controller({ name: 'client' })), run_loop });
  const api = cbm_api(peer);
  const rx = new Uint8Array(1000);
  const stream = new CbmStream(api, { send_bytes: 64 * 1024, echo: false, check: true, window: 16 * 1024 });
  let connecting = false;
  const handler = (type: number, _channel: number, p: Uint8Array, n: number) => {
    if (type === C.L2CAP_DATA_PACKET) {
      stream.data(p, n);
      if (stream.received === stream.o.send_bytes) {
        console.log(`[virtual client] ${stream.received} bytes echoed, ${stream.wrong} wrong; disconnecting`);
        api.disconnect(stream.cid);
      }
      return;
    }
    if (p[0] === api.OPENED && opened_status(p) === 0) stream.opened(opened_local_cid(p), opened_remote_mtu(p));
    else if (p[0] === api.CAN_SEND_NOW) stream.can_send_now();
    else if (p[0] === api.PACKET_SENT) stream.packet_sent();
  };
  peer.hci.hci_add_event_handler({
    callback: (_t, _c, p) => {
      if (p[0] === C.BTSTACK_EVENT_STATE && p[2] === C.HCI_STATE_WORKING) {
        run_loop.set_timer(timer, 500); // give the server a moment to advertise
        run_loop.add_timer(timer);
      } else if (p[0] === C.GAP_EVENT_ADVERTISING_REPORT && !connecting) {
        const codes = peer.codes;
        const data = codes.gap_event_advertising_report_get_data(p);
        if (!advertising_data_has_name(data, codes.gap_event_advertising_report_get_data_length(p), LE_CBM_SERVER_NAME)) return;
        connecting = true;
        peer.gap.gap_stop_scan();
        peer.gap.gap_connect(
          codes.gap_event_advertising_report_get_address(p),
          codes.gap_event_advertising_report_get_address_type(p),
        );
      } else if (p[0] === C.HCI_EVENT_LE_META && p[2] === C.HCI_SUBEVENT_LE_CONNECTION_COMPLETE && p[3] === 0) {
        api.create(handler, peer.codes.hci_subevent_le_connection_complete_get_connection_handle(p), args.psm, rx, rx.length);
      }
    },
  });
  const timer = new Timer(() => {
    peer.gap.gap_set_scan_parameters(0, 0x0030, 0x0030);
    peer.gap.gap_start_scan();
  });
  peer.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours) };
}

example_main(import.meta.url, { name: 'le-cbm-server', options: OPTIONS, virtual_world, btstack_main });
