/**
 * l2cap-client: opens an L2CAP channel to PSM 0x1001 on --addr, sends --count messages of
 * --size bytes (each when L2CAP_EVENT_CAN_SEND_NOW says so), checks that every one comes back
 * unchanged (examples/l2cap-server echoes), disconnects and exits 0 (1 on any failure).
 * GAP security mode 4 at level 2 (BTstack's defaults): the link is paired and encrypted before
 * the Connection Request (Secure Simple Pairing, display + yes/no, numeric value printed and auto
 * accepted; PIN 0000 for a legacy peer).
 *
 *   npx tsx examples/l2cap-client.ts                      in-process virtual controller + a virtual echo server
 *   npx tsx examples/l2cap-client.ts -u /tmp/ttyV1 --no-flow --addr 11:22:33:44:55:66
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --psm PSM, --count N, --size BYTES,
 *   --profile v1.4|v1.8
 *
 * bthost/port does the rest, as BTstack's port main.c: flags, transport, packet log,
 * every HCI event printed by name, "up and running at ADDR" once HCI is working, exit.
 */
import { bd_addr_to_str, Stack, type NodeRunLoop } from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, status_text, type ExampleArgs, type ExampleContext, type VirtualWorld } from 'bthost/port';

const OPTIONS = {
  psm: { value: 'PSM', help: 'PSM to connect to (default 0x1001)', default: 0x1001 },
  count: { value: 'N', help: 'messages to send (default 10)', default: 10, max: 1_000_000 },
  size: { value: 'BYTES', help: 'bytes per message (default 600)', default: 600 },
};
type Args = ExampleArgs<typeof OPTIONS>;

/** Message i: its number in the first 4 bytes, then a pattern that depends on it. */
function message(i: number, size: number): Uint8Array {
  const m = new Uint8Array(size);
  for (let k = 0; k < size; k++) m[k] = (i * 31 + k * 7) & 0xff;
  if (size >= 4) new DataView(m.buffer).setUint32(0, i);
  return m;
}

/** BTstack's btstack_main: connect once HCI is working, send, check the echoes, disconnect. */
function btstack_main(stack: Stack, ctx: ExampleContext<Args>): void {
  const codes = stack.codes;
  const { args, bt } = ctx;
  const l2cap = stack.l2cap;
  const remote = ctx.remote!;

  let cid = 0;
  let sent = 0;
  let echoed = 0;
  ctx.exit_code = 1; // until the echo test passed

  const finish = (code: number, why: string) => {
    if (ctx.exiting) return;
    console.log(why);
    ctx.exit(code);
  };

  const packet_handler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => {
    if (packet_type === C.L2CAP_DATA_PACKET) {
      const want = message(echoed, args.size);
      const ok = size === want.length && want.every((b, k) => packet[k] === b);
      console.log(
        `L2CAP_DATA_PACKET cid 0x${channel.toString(16).padStart(4, '0')} ${size} bytes: echo ${echoed} ${ok ? 'ok' : 'WRONG'}`,
      );
      if (!ok) {
        finish(1, `echo ${echoed} does not match what was sent`);
        return;
      }
      echoed++;
      if (echoed === args.count) {
        console.log(`all ${args.count} messages echoed, disconnecting`);
        l2cap.l2cap_disconnect(cid);
      }
      return;
    }
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    ctx.print_event(packet, size);
    switch (packet[0]) {
      case codes.L2CAP_EVENT_CHANNEL_OPENED: {
        const status = codes.l2cap_event_channel_opened_get_status(packet);
        if (status !== 0) {
          finish(1, `channel to PSM 0x${args.psm.toString(16)} failed: ${status_text(status)}`);
          break;
        }
        cid = codes.l2cap_event_channel_opened_get_local_cid(packet);
        console.log(
          `channel open: local cid 0x${cid.toString(16)}, remote MTU ${codes.l2cap_event_channel_opened_get_remote_mtu(packet)}`,
        );
        if (args.count === 0) l2cap.l2cap_disconnect(cid);
        else l2cap.l2cap_request_can_send_now_event(cid);
        break;
      }
      case codes.L2CAP_EVENT_CAN_SEND_NOW: {
        const m = message(sent, args.size);
        const status = l2cap.l2cap_send(cid, m, m.length);
        if (status) {
          finish(1, `l2cap_send failed: ${status_text(status)}`);
          break;
        }
        sent++;
        if (sent < args.count) l2cap.l2cap_request_can_send_now_event(cid);
        break;
      }
      case codes.L2CAP_EVENT_CHANNEL_CLOSED:
        if (echoed === args.count) finish(0, `echo test passed: ${echoed} messages of ${args.size} bytes`);
        else finish(1, `channel closed after ${echoed} of ${args.count} echoes`);
        break;
      default:
        break;
    }
  };

  // pairing as BTstack's examples: print the numeric value (the stack accepts it), PIN 0000 for legacy peers
  const hci_packet_handler = (packet_type: number, _channel: number, packet: Uint8Array): void => {
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    switch (packet[0]) {
      case codes.HCI_EVENT_PIN_CODE_REQUEST:
        console.log("Pin code request - using '0000'");
        bt.gap_pin_code_response(codes.hci_event_pin_code_request_get_bd_addr(packet), '0000');
        break;
      case codes.HCI_EVENT_USER_CONFIRMATION_REQUEST: {
        const value = codes.hci_event_user_confirmation_request_get_numeric_value(packet);
        console.log(`SSP User Confirmation Request with numeric value '${String(value).padStart(6, '0')}'`);
        console.log('SSP User Confirmation Auto accept');
        break;
      }
      default:
        break;
    }
  };
  bt.hci_add_event_handler({ callback: hci_packet_handler });
  bt.gap_ssp_set_io_capability(C.SSP_IO_CAPABILITY_DISPLAY_YES_NO);

  bt.hci_add_event_handler({
    callback: (packet_type, _channel, packet) => {
      if (packet_type !== C.HCI_EVENT_PACKET || packet[0] !== C.BTSTACK_EVENT_STATE) return;
      if (codes.btstack_event_state_get_state(packet) !== C.HCI_STATE_WORKING) return;
      console.log(`connecting to ${bd_addr_to_str(remote)} PSM 0x${args.psm.toString(16)}`);
      const r = l2cap.l2cap_create_channel(packet_handler, remote, args.psm, l2cap.l2cap_max_mtu());
      if (r.status) finish(1, `l2cap_create_channel failed: ${status_text(r.status)}`);
    },
  });

  l2cap.l2cap_init();
}

/** Without -u: a virtual controller for us and a virtual echo server on PSM `psm` on the same radio. */
async function virtual_world(run_loop: NodeRunLoop, args: Args): Promise<VirtualWorld> {
  const psm = args.psm;
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'l2cap-client' });
  const serverCtl = link.create_controller({ name: 'echo server' });
  const server = new Stack({ transport: new VirtualTransport(serverCtl), run_loop });
  const codes = server.codes;
  const queue: Uint8Array[] = [];
  const handler = (type: number, channel: number, p: Uint8Array, n: number) => {
    if (type === C.L2CAP_DATA_PACKET) {
      queue.push(p.slice(0, n));
      server.l2cap.l2cap_request_can_send_now_event(channel);
    } else if (p[0] === codes.L2CAP_EVENT_INCOMING_CONNECTION) {
      server.l2cap.l2cap_accept_connection(codes.l2cap_event_incoming_connection_get_local_cid(p));
    } else if (p[0] === codes.L2CAP_EVENT_CAN_SEND_NOW) {
      const m = queue.shift();
      if (m) server.l2cap.l2cap_send(codes.l2cap_event_can_send_now_get_local_cid(p), m);
      if (queue.length) server.l2cap.l2cap_request_can_send_now_event(channel);
    }
  };
  server.l2cap.l2cap_register_service(handler, psm, 0xffff, C.LEVEL_0);
  server.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours), peer: serverCtl.bd_addr };
}

example_main(import.meta.url, { name: 'l2cap-client', options: OPTIONS, requires_addr: true, virtual_world, btstack_main });
