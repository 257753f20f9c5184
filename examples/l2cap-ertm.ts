/**
 * l2cap-ertm: an L2CAP channel in Enhanced Retransmission Mode, in the shape of BTstack's ERTM
 * test: the server registers PSM 0x1001 and accepts every channel with
 * l2cap_ertm_accept_connection (ERTM mandatory, FCS), echoing what it receives; with --addr the
 * client opens the channel with l2cap_ertm_create_channel, sends --count messages of --size bytes
 * (one I-frame each) on L2CAP_EVENT_CAN_SEND_NOW, checks every echo, sets the channel busy for a
 * moment half way (l2cap_ertm_set_busy / l2cap_ertm_set_ready: the peer sees RNR, then RR),
 * disconnects and exits 0 (1 on any failure). Both print CHANNEL_OPENED's mode and fcs and, at
 * the end, L2CAP_EVENT_ERTM_BUFFER_RELEASED. Security level 0 (no pairing), as the test.
 *
 *   npx tsx examples/l2cap-ertm.ts                       client, in-process virtual controller + a virtual ERTM echo server
 *   npx tsx examples/l2cap-ertm.ts -u /tmp/ttyV0 --no-flow --once                     server
 *   npx tsx examples/l2cap-ertm.ts -u /tmp/ttyV1 --no-flow --addr 11:22:33:44:55:66   client
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --psm PSM, --count N, --size BYTES (<= 1000),
 *   --once (server: exit after the first channel closed), --profile v1.4|v1.8
 */
import { Timer, bd_addr_to_str, Stack, type l2cap_ertm_config_t, type NodeRunLoop } from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, status_text, type ExampleArgs, type ExampleContext, type VirtualWorld } from 'bthost/port';

const OPTIONS = {
  psm: { value: 'PSM', help: 'PSM to serve / connect to (default 0x1001)', default: 0x1001 },
  count: { value: 'N', help: 'messages to send (default 20)', default: 20, max: 1_000_000 },
  size: { value: 'BYTES', help: 'bytes per message, at most 1000 (default 600)', default: 600, max: 1000 },
  once: { help: 'server: exit after the first channel closed' },
};
type Args = ExampleArgs<typeof OPTIONS>;

/** As BTstack's ERTM test: mandatory, FCS, a few buffers each way. */
const ERTM_CONFIG: l2cap_ertm_config_t = {
  ertm_mandatory: 1,
  max_transmit: 10,
  retransmission_timeout_ms: 2000,
  monitor_timeout_ms: 12000,
  local_mtu: 1000,
  num_tx_buffers: 4,
  num_rx_buffers: 4,
  fcs_option: 1,
};
/** Reassembly (MTU) + 8 slots of 1000 octets. */
const ertm_buffer = (): Uint8Array => new Uint8Array(1000 + 8 * 1000);

function message(i: number, size: number): Uint8Array {
  const m = new Uint8Array(size);
  for (let k = 0; k < size; k++) m[k] = (i * 31 + k * 7) & 0xff;
  if (size >= 4) new DataView(m.buffer).setUint32(0, i);
  return m;
}

/** The echo service (server role, and the virtual peer): accept in ERTM, send back what arrives. */
function echo_service(stack: Stack, psm: number, log: (s: string) => void, closed: () => void): void {
  const codes = stack.codes;
  const l2cap = stack.l2cap;
  const queue: Uint8Array[] = [];
  const handler = (type: number, channel: number, p: Uint8Array, n: number) => {
    if (type === C.L2CAP_DATA_PACKET) {
      queue.push(p.slice(0, n));
      l2cap.l2cap_request_can_send_now_event(channel);
      return;
    }
    if (type !== C.HCI_EVENT_PACKET) return;
    switch (p[0]) {
      case codes.L2CAP_EVENT_INCOMING_CONNECTION:
        l2cap.l2cap_ertm_accept_connection(codes.l2cap_event_incoming_connection_get_local_cid(p), ERTM_CONFIG, ertm_buffer());
        break;
      case codes.L2CAP_EVENT_CHANNEL_OPENED:
        log(
          `channel open: status 0x${codes.l2cap_event_channel_opened_get_status(p).toString(16)} mode ${codes.l2cap_event_channel_opened_get_mode(p)} fcs ${codes.l2cap_event_channel_opened_get_fcs(p)}`,
        );
        break;
      case codes.L2CAP_EVENT_CAN_SEND_NOW: {
        const m = queue.shift();
        if (m) l2cap.l2cap_send(channel, m);
        if (queue.length) l2cap.l2cap_request_can_send_now_event(channel);
        break;
      }
      case codes.L2CAP_EVENT_ERTM_BUFFER_RELEASED:
        log('L2CAP_EVENT_ERTM_BUFFER_RELEASED');
        closed();
        break;
    }
  };
  l2cap.l2cap_register_service(handler, psm, 1000, C.LEVEL_0);
}

function btstack_main(stack: Stack, ctx: ExampleContext<Args>): void {
  const codes = stack.codes;
  const { args, bt } = ctx;
  const l2cap = stack.l2cap;
  bt.gap_set_security_level(C.LEVEL_0);
  l2cap.l2cap_init();
  const remote = ctx.remote;
  if (!remote) {
    echo_service(
      stack,
      args.psm,
      (s) => console.log(s),
      () => args.once && ctx.exit(0),
    );
    bt.gap_discoverable_control(1);
    bt.gap_connectable_control(1);
    return;
  }
  let cid = 0;
  let sent = 0;
  let echoed = 0;
  ctx.exit_code = 1;
  const finish = (code: number, why: string) => {
    if (ctx.exiting) return;
    console.log(why);
    ctx.exit(code);
  };
  const packet_handler = (packet_type: number, _channel: number, packet: Uint8Array, size: number) => {
    if (packet_type === C.L2CAP_DATA_PACKET) {
      const want = message(echoed, args.size);
      if (size !== want.length || !want.every((b, k) => packet[k] === b)) return finish(1, `echo ${echoed} does not match`);
      echoed++;
      if (echoed === args.count) l2cap.l2cap_disconnect(cid);
      return;
    }
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    ctx.print_event(packet, size);
    switch (packet[0]) {
      case codes.L2CAP_EVENT_CHANNEL_OPENED: {
        const status = codes.l2cap_event_channel_opened_get_status(packet);
        if (status !== 0) return finish(1, `ERTM channel failed: ${status_text(status)}`);
        cid = codes.l2cap_event_channel_opened_get_local_cid(packet);
        console.log(
          `channel open: local cid 0x${cid.toString(16)} mode ${codes.l2cap_event_channel_opened_get_mode(packet)} fcs ${codes.l2cap_event_channel_opened_get_fcs(packet)}`,
        );
        l2cap.l2cap_request_can_send_now_event(cid);
        break;
      }
      case codes.L2CAP_EVENT_CAN_SEND_NOW: {
        const status = l2cap.l2cap_send(cid, message(sent, args.size));
        if (status) return finish(1, `l2cap_send failed: ${status_text(status)}`);
        sent++;
        if (sent === Math.floor(args.count / 2)) {
          // local busy for 50 ms: RNR goes out, the echoes wait; then RR
          console.log(`l2cap_ertm_set_busy: ${l2cap.l2cap_ertm_set_busy(cid)}`);
          const ready = new Timer(() => console.log(`l2cap_ertm_set_ready: ${l2cap.l2cap_ertm_set_ready(cid)}`));
          stack.run_loop.set_timer(ready, 50);
          stack.run_loop.add_timer(ready);
        }
        if (sent < args.count) l2cap.l2cap_request_can_send_now_event(cid);
        break;
      }
      case codes.L2CAP_EVENT_ERTM_BUFFER_RELEASED:
        if (echoed === args.count) finish(0, `ERTM echo test passed: ${echoed} messages of ${args.size} bytes`);
        else finish(1, `channel closed after ${echoed} of ${args.count} echoes`);
        break;
      default:
        break;
    }
  };
  bt.hci_add_event_handler({
    callback: (packet_type, _channel, packet) => {
      if (packet_type !== C.HCI_EVENT_PACKET || packet[0] !== C.BTSTACK_EVENT_STATE) return;
      if (codes.btstack_event_state_get_state(packet) !== C.HCI_STATE_WORKING) return;
      console.log(`connecting to ${bd_addr_to_str(remote)} PSM 0x${args.psm.toString(16)} in ERTM`);
      const r = l2cap.l2cap_ertm_create_channel(packet_handler, remote, args.psm, ERTM_CONFIG, ertm_buffer());
      if (r.status) finish(1, `l2cap_ertm_create_channel failed: ${status_text(r.status)}`);
    },
  });
}

/** Without -u: a virtual controller for us and a virtual ERTM echo server on the same radio. */
async function virtual_world(run_loop: NodeRunLoop, args: Args): Promise<VirtualWorld> {
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'l2cap-ertm' });
  const serverCtl = link.create_controller({ name: 'ertm echo server' });
  const server = new Stack({ transport: new VirtualTransport(serverCtl), run_loop });
  server.gap.gap_set_security_level(C.LEVEL_0);
  echo_service(
    server,
    args.psm,
    (s) => console.log(`[virtual server] ${s}`),
    () => undefined,
  );
  server.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours), peer: serverCtl.bd_addr };
}

example_main(import.meta.url, { name: 'l2cap-ertm', options: OPTIONS, virtual_world, btstack_main });
