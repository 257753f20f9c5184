/**
 * spp-counter, as BTstack's example/spp_counter.c: an SPP server on RFCOMM channel 1 with its SDP
 * record ("SPP Counter"); while a client is connected it sends "BTstack counter NNNN" once a
 * second and prints what it receives. Security as BTstack's defaults: GAP security mode 4, RFCOMM at
 * level 2, Secure Simple Pairing with a display and yes/no; the numeric value is printed and the
 * stack accepts it (auto accept), a legacy peer gets PIN 0000.
 *
 *   npx tsx examples/spp-counter.ts                    in-process virtual controller + a virtual SPP client
 *   npx tsx examples/spp-counter.ts -u /dev/ttyACM0    an H4 controller on a serial port
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --once (exit after the first client left),
 *            --profile v1.4|v1.8
 *
 * bthost/port does the rest, as BTstack's port main.c: flags, transport, packet log,
 * every HCI event printed by name, "up and running at ADDR" once HCI is working, exit.
 */
import {
  Timer,
  bd_addr_to_str,
  format_event,
  Stack,
  btstack_init_default,
  spp_create_sdp_record,
  type NodeRunLoop,
} from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, status_text, type ExampleArgs, type ExampleContext, type VirtualWorld } from 'bthost/port';

export const RFCOMM_SERVER_CHANNEL = 1;
const HEARTBEAT_PERIOD_MS = 1000;

export interface SppCounterOptions {
  /** Print a line (console.log, or a prefix for a virtual device). */
  print: (line: string) => void;
  /** Called when the first client's channel closed (the counter keeps serving otherwise). */
  on_closed?: () => void;
  /** Print every event by name (the example) or only the essentials (a virtual peer). */
  verbose?: boolean;
}

/**
 * The SPP counter service on `stack`: RFCOMM channel 1, its SDP record, the heartbeat. Call before
 * powering on. Returns a function that stops the heartbeat.
 */
export function start_spp_counter(stack: Stack, o: SppCounterOptions): () => void {
  const codes = stack.codes;
  const bt = btstack_init_default(stack);
  const rfcomm = stack.rfcomm;
  const sdp = stack.sdp;
  let rfcomm_channel_id = 0;
  let counter = 0;
  let line = new Uint8Array(0);

  // BTstack's spp_counter answers the pairing requests in its HCI event handler
  const hci_packet_handler = (packet_type: number, _channel: number, packet: Uint8Array): void => {
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    switch (packet[0]) {
      case codes.HCI_EVENT_PIN_CODE_REQUEST:
        o.print("Pin code request - using '0000'");
        bt.gap_pin_code_response(codes.hci_event_pin_code_request_get_bd_addr(packet), '0000');
        break;
      case codes.HCI_EVENT_USER_CONFIRMATION_REQUEST: {
        const value = codes.hci_event_user_confirmation_request_get_numeric_value(packet);
        o.print(`SSP User Confirmation Request with numeric value '${String(value).padStart(6, '0')}'`);
        o.print('SSP User Confirmation Auto accept');
        break;
      }
      default:
        break;
    }
  };

  const packet_handler = (packet_type: number, channel: number, packet: Uint8Array, size: number): void => {
    if (packet_type === C.RFCOMM_DATA_PACKET) {
      o.print(`RCV: '${new TextDecoder().decode(packet.subarray(0, size)).replace(/\r?\n$/, '')}'`);
      return;
    }
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    if (o.verbose) o.print(format_event(codes, packet, size));
    switch (packet[0]) {
      case codes.RFCOMM_EVENT_INCOMING_CONNECTION: {
        const cid = codes.rfcomm_event_incoming_connection_get_rfcomm_cid(packet);
        o.print(
          `RFCOMM channel ${codes.rfcomm_event_incoming_connection_get_server_channel(packet)} requested for ${bd_addr_to_str(codes.rfcomm_event_incoming_connection_get_bd_addr(packet))}`,
        );
        rfcomm.rfcomm_accept_connection(cid);
        break;
      }
      case codes.RFCOMM_EVENT_CHANNEL_OPENED: {
        const status = codes.rfcomm_event_channel_opened_get_status(packet);
        if (status) {
          o.print(`RFCOMM channel open failed: ${status_text(status)}`);
          break;
        }
        rfcomm_channel_id = codes.rfcomm_event_channel_opened_get_rfcomm_cid(packet);
        o.print(
          `RFCOMM channel open succeeded. New RFCOMM Channel ID ${rfcomm_channel_id}, max frame size ${codes.rfcomm_event_channel_opened_get_max_frame_size(packet)}`,
        );
        break;
      }
      case codes.RFCOMM_EVENT_CAN_SEND_NOW:
        if (rfcomm_channel_id && line.length) {
          const status = rfcomm.rfcomm_send(rfcomm_channel_id, line, line.length);
          if (status) o.print(`rfcomm_send failed: ${status_text(status)}`);
          line = new Uint8Array(0);
        }
        break;
      case codes.RFCOMM_EVENT_CHANNEL_CLOSED:
        o.print('RFCOMM channel closed');
        rfcomm_channel_id = 0;
        o.on_closed?.();
        break;
      default:
        break;
    }
  };

  // BTstack's heartbeat: one line per second while connected, sent on RFCOMM_EVENT_CAN_SEND_NOW
  const heartbeat = new Timer(() => {
    if (rfcomm_channel_id) {
      const text = `BTstack counter ${String(++counter).padStart(4, '0')}\n`;
      o.print(text.trimEnd());
      line = new TextEncoder().encode(text);
      rfcomm.rfcomm_request_can_send_now_event(rfcomm_channel_id);
    }
    bt.btstack_run_loop_set_timer(heartbeat, HEARTBEAT_PERIOD_MS);
    bt.btstack_run_loop_add_timer(heartbeat);
  });
  bt.btstack_run_loop_set_timer(heartbeat, HEARTBEAT_PERIOD_MS);
  bt.btstack_run_loop_add_timer(heartbeat);

  bt.hci_add_event_handler({ callback: hci_packet_handler });

  rfcomm.rfcomm_init();
  const st = rfcomm.rfcomm_register_service(packet_handler, RFCOMM_SERVER_CHANNEL, 0xffff);
  if (st) o.print(`rfcomm_register_service failed: ${status_text(st)}`);
  sdp.sdp_init();
  const record = new Uint8Array(150);
  spp_create_sdp_record(record, 0x10001, RFCOMM_SERVER_CHANNEL, 'SPP Counter');
  const sr = sdp.sdp_register_service(record);
  o.print(sr ? `sdp_register_service failed: ${status_text(sr)}` : `SDP service record size: ${record[1]! + 2}`);
  bt.gap_set_local_name('SPP Counter 00:00:00:00:00:00');
  bt.gap_discoverable_control(1);
  bt.gap_ssp_set_io_capability(C.SSP_IO_CAPABILITY_DISPLAY_YES_NO);
  return () => {
    bt.btstack_run_loop_remove_timer(heartbeat);
  };
}

const OPTIONS = {
  once: { help: 'exit after the first client disconnected' },
};
type Args = ExampleArgs<typeof OPTIONS>;

/** BTstack's btstack_main: the SPP counter service; on the virtual world (or with --once) exit when the client left. */
function btstack_main(stack: Stack, ctx: ExampleContext<Args>): void {
  const exit_when_closed = ctx.args.once || ctx.virtual;
  start_spp_counter(stack, {
    print: (l) => console.log(l),
    verbose: true,
    on_closed: exit_when_closed ? () => ctx.exit(0) : undefined,
  });
}

/**
 * Without -u: a virtual controller for us and a virtual SPP client on the same radio (the
 * spp-client example's logic) that finds us through SDP, reads three lines, answers, disconnects.
 */
async function virtual_world(run_loop: NodeRunLoop): Promise<VirtualWorld> {
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const { start_spp_client } = await import('./spp-client.js');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'spp-counter' });
  const peer = new Stack({ transport: new VirtualTransport(link.create_controller({ name: 'spp-client' })), run_loop });
  peer.hci.hci_add_event_handler({
    callback: (_t, _c, p) => {
      if (p[0] === C.BTSTACK_EVENT_STATE && p[2] === C.HCI_STATE_WORKING) {
        // give the server a moment to come up, then look it up and connect
        run_loop.set_timer(timer, 500);
        run_loop.add_timer(timer);
      }
    },
  });
  const timer = new Timer(() =>
    start_spp_client(peer, ours.bd_addr, { print: (l) => console.log(`[virtual client] ${l}`), lines: 3 }),
  );
  peer.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours) };
}

example_main(import.meta.url, { name: 'spp-counter', options: OPTIONS, virtual_world, btstack_main });
