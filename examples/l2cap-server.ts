/**
 * l2cap-server: registers an L2CAP service on PSM 0x1001, accepts every incoming channel and
 * sends back whatever it receives (with L2CAP_EVENT_CAN_SEND_NOW, never queueing in the stack).
 * The service asks for security level 2 (BTstack's default in GAP security mode 4): a client
 * pairs first (Secure Simple Pairing, display + yes/no, numeric value printed and auto accepted;
 * PIN 0000 for a legacy peer) and a client that will not pair is refused ("security block").
 *
 *   npx tsx examples/l2cap-server.ts                      in-process virtual controller + a virtual client that connects
 *   npx tsx examples/l2cap-server.ts -u /tmp/ttyV0 --no-flow
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --psm PSM, --mtu MTU, --once (exit after the
 *   first channel closed), --profile v1.4|v1.8
 *
 * bthost/port does the rest, as BTstack's port main.c: flags, transport, packet log,
 * every HCI event printed by name, "up and running at ADDR" once HCI is working, exit.
 */
import { Timer, bd_addr_to_str, Stack, type NodeRunLoop } from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, status_text, type ExampleArgs, type ExampleContext, type VirtualWorld } from 'bthost/port';

const OPTIONS = {
  psm: { value: 'PSM', help: 'PSM to serve (default 0x1001)', default: 0x1001 },
  mtu: { value: 'MTU', help: 'MTU to receive (default 1691)', default: 1691 },
  once: { help: 'exit after the first channel closed' },
};
type Args = ExampleArgs<typeof OPTIONS>;

/** BTstack's btstack_main: the L2CAP service and its packet handler; discoverable once up. */
function btstack_main(stack: Stack, ctx: ExampleContext<Args>): number {
  const codes = stack.codes;
  const { args, bt } = ctx;
  const l2cap = stack.l2cap;

  /** Per channel: SDUs received and not yet echoed (the application's queue, not the stack's). */
  const pending = new Map<number, Uint8Array[]>();

  const packet_handler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => {
    if (packet_type === C.L2CAP_DATA_PACKET) {
      console.log(`L2CAP_DATA_PACKET cid 0x${channel.toString(16).padStart(4, '0')} ${size} bytes`);
      const q = pending.get(channel);
      if (!q) return;
      q.push(packet.slice(0, size)); // the packet is only valid during this call
      l2cap.l2cap_request_can_send_now_event(channel);
      return;
    }
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    ctx.print_event(packet, size);
    switch (packet[0]) {
      case codes.L2CAP_EVENT_INCOMING_CONNECTION: {
        const cid = codes.l2cap_event_incoming_connection_get_local_cid(packet);
        console.log(
          `accepting channel 0x${cid.toString(16)} from ${bd_addr_to_str(codes.l2cap_event_incoming_connection_get_address(packet))}`,
        );
        l2cap.l2cap_accept_connection(cid);
        break;
      }
      case codes.L2CAP_EVENT_CHANNEL_OPENED:
        if (codes.l2cap_event_channel_opened_get_status(packet) === 0)
          pending.set(codes.l2cap_event_channel_opened_get_local_cid(packet), []);
        break;
      case codes.L2CAP_EVENT_CAN_SEND_NOW: {
        const cid = codes.l2cap_event_can_send_now_get_local_cid(packet);
        const q = pending.get(cid);
        const sdu = q?.shift();
        if (!sdu) break;
        const status = l2cap.l2cap_send(cid, sdu, sdu.length);
        if (status) console.log(`l2cap_send failed: ${status_text(status)}`);
        if (q!.length) l2cap.l2cap_request_can_send_now_event(cid);
        break;
      }
      case codes.L2CAP_EVENT_CHANNEL_CLOSED:
        pending.delete(codes.l2cap_event_channel_closed_get_local_cid(packet));
        if (args.once) ctx.exit(0);
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
      if (
        packet_type === C.HCI_EVENT_PACKET &&
        packet[0] === C.BTSTACK_EVENT_STATE &&
        codes.btstack_event_state_get_state(packet) === C.HCI_STATE_WORKING
      ) {
        bt.gap_discoverable_control(1);
      }
    },
  });

  l2cap.l2cap_init();
  const st = l2cap.l2cap_register_service(packet_handler, args.psm, args.mtu, C.LEVEL_2);
  if (st) {
    console.error(`l2cap_register_service failed: ${status_text(st)}`);
    return 1;
  }
  console.log(`L2CAP service on PSM 0x${args.psm.toString(16)}, MTU ${Math.min(args.mtu, l2cap.l2cap_max_mtu())}`);
  return 0;
}

/**
 * Without -u: a virtual controller for us, and a virtual client on the same radio that opens a
 * channel to our PSM once we are up, sends three messages, checks the echoes and disconnects.
 */
async function virtual_world(run_loop: NodeRunLoop, args: Args): Promise<VirtualWorld> {
  const psm = args.psm;
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'l2cap-server' });
  const peer = new Stack({ transport: new VirtualTransport(link.create_controller({ name: 'client' })), run_loop });
  const codes = peer.codes;
  let sent = 0;
  let cid = 0;
  const handler = (type: number, channel: number, p: Uint8Array, n: number) => {
    if (type === C.L2CAP_DATA_PACKET) {
      console.log(`[virtual client] echo of ${n} bytes: '${new TextDecoder().decode(p.subarray(0, n))}'`);
      if (sent < 3) peer.l2cap.l2cap_request_can_send_now_event(channel);
      else peer.l2cap.l2cap_disconnect(channel);
      return;
    }
    if (p[0] === codes.L2CAP_EVENT_CHANNEL_OPENED && codes.l2cap_event_channel_opened_get_status(p) === 0) {
      cid = codes.l2cap_event_channel_opened_get_local_cid(p);
      peer.l2cap.l2cap_request_can_send_now_event(cid);
    } else if (p[0] === codes.L2CAP_EVENT_CAN_SEND_NOW) {
      peer.l2cap.l2cap_send(cid, new TextEncoder().encode(`hello ${++sent}`));
    }
  };
  peer.hci.hci_add_event_handler({
    callback: (_t, _c, p) => {
      if (p[0] === C.BTSTACK_EVENT_STATE && p[2] === C.HCI_STATE_WORKING) {
        // give the server a moment to come up, then connect
        run_loop.set_timer(timer, 500);
        run_loop.add_timer(timer);
      }
    },
  });
  const timer = new Timer(() => peer.l2cap.l2cap_create_channel(handler, ours.bd_addr, psm, 1000));
  peer.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours) };
}

example_main(import.meta.url, { name: 'l2cap-server', options: OPTIONS, virtual_world, btstack_main });
