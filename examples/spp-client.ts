/**
 * spp-client: finds the SPP server of --addr through SDP (the RFCOMM channel of its SerialPort
 * record), connects, prints the lines it receives, answers each one, and disconnects after a
 * few lines (BTstack's spp_counter on the other side sends "BTstack counter NNNN" every second).
 * Pairing as BTstack's spp_streamer_client: Secure Simple Pairing with a display and yes/no, the
 * numeric value printed and accepted by the stack (auto accept), PIN 0000 for a legacy peer; the
 * link is raised to security level 2 (mode 4) before RFCOMM's L2CAP channel is requested.
 *
 *   npx tsx examples/spp-client.ts                                   in-process virtual controller + a virtual spp-counter
 *   npx tsx examples/spp-client.ts -u /dev/ttyACM0 --addr 00:1A:7D:DA:71:13
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --lines N (default 3), --profile v1.4|v1.8
 *
 * bthost/port does the rest, as BTstack's port main.c: flags, transport, packet log,
 * every HCI event printed by name, "up and running at ADDR" once HCI is working, exit. Exit
 * status 0 after a clean disconnect, 1 when the service was not found or the channel failed.
 */
import { bd_addr_to_str, format_event, Stack, BLUETOOTH_SERVICE_CLASS_SERIAL_PORT, type NodeRunLoop, type BdAddr } from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, status_text, type ExampleArgs, type ExampleContext, type VirtualWorld } from 'bthost/port';

export interface SppClientOptions {
  print: (line: string) => void;
  /** Lines to read before disconnecting. */
  lines: number;
  /** Print every event by name. */
  verbose?: boolean;
  /** Called once at the end: 0 after a clean disconnect, 1 on failure. */
  on_done?: (code: number) => void;
}

/** Look up the SerialPort service of `addr` with SDP, connect, read `lines` lines, answer each, disconnect. */
export function start_spp_client(stack: Stack, addr: BdAddr, o: SppClientOptions): void {
  const codes = stack.codes;
  const gap = stack.gap;
  const rfcomm = stack.rfcomm;
  let server_channel = 0;
  let rfcomm_cid = 0;
  let received = 0;
  let partial = '';
  const replies: Uint8Array[] = [];
  let closing = false;
  let done = false;
  const finish = (code: number) => {
    if (done) return;
    done = true;
    o.on_done?.(code);
  };

  // BTstack's spp_streamer_client answers the pairing requests in its HCI event handler
  const hci_packet_handler = (packet_type: number, _channel: number, packet: Uint8Array): void => {
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    switch (packet[0]) {
      case codes.HCI_EVENT_PIN_CODE_REQUEST:
        o.print("Pin code request - using '0000'");
        gap.gap_pin_code_response(codes.hci_event_pin_code_request_get_bd_addr(packet), '0000');
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
  stack.hci.hci_add_event_handler({ callback: hci_packet_handler });
  gap.gap_ssp_set_io_capability(C.SSP_IO_CAPABILITY_DISPLAY_YES_NO);

  const rfcomm_handler = (packet_type: number, channel: number, packet: Uint8Array, size: number): void => {
    if (packet_type === C.RFCOMM_DATA_PACKET) {
      partial += new TextDecoder().decode(packet.subarray(0, size));
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl).replace(/\r$/, '');
        partial = partial.slice(nl + 1);
        if (received >= o.lines) continue;
        received++;
        o.print(`RCV: '${line}'`);
        replies.push(new TextEncoder().encode(`Thanks for '${line}' (${received}/${o.lines})\n`));
        rfcomm.rfcomm_request_can_send_now_event(channel);
      }
      return;
    }
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    if (o.verbose) o.print(format_event(codes, packet, size));
    switch (packet[0]) {
      case codes.RFCOMM_EVENT_CHANNEL_OPENED: {
        const status = codes.rfcomm_event_channel_opened_get_status(packet);
        if (status) {
          o.print(`RFCOMM channel open failed: ${status_text(status)}`);
          finish(1);
          break;
        }
        rfcomm_cid = codes.rfcomm_event_channel_opened_get_rfcomm_cid(packet);
        o.print(
          `RFCOMM channel ${server_channel} open, rfcomm_cid ${rfcomm_cid}, max frame size ${codes.rfcomm_event_channel_opened_get_max_frame_size(packet)}`,
        );
        break;
      }
      case codes.RFCOMM_EVENT_CAN_SEND_NOW: {
        const reply = replies.shift();
        if (reply) {
          const status = rfcomm.rfcomm_send(rfcomm_cid, reply, reply.length);
          if (status) o.print(`rfcomm_send failed: ${status_text(status)}`);
          else o.print(`SENT: '${new TextDecoder().decode(reply).trimEnd()}'`);
        }
        if (replies.length) rfcomm.rfcomm_request_can_send_now_event(rfcomm_cid);
        else if (received >= o.lines && !closing) {
          closing = true;
          o.print('disconnecting');
          rfcomm.rfcomm_disconnect(rfcomm_cid);
        }
        break;
      }
      case codes.RFCOMM_EVENT_CHANNEL_CLOSED:
        o.print('RFCOMM channel closed');
        finish(closing ? 0 : 1);
        break;
      default:
        break;
    }
  };

  const sdp_handler = (packet_type: number, _channel: number, packet: Uint8Array, size: number): void => {
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    o.print(format_event(codes, packet, size));
    switch (packet[0]) {
      case codes.SDP_EVENT_QUERY_RFCOMM_SERVICE:
        if (!server_channel) server_channel = codes.sdp_event_query_rfcomm_service_get_rfcomm_channel(packet);
        o.print(
          `Found RFCOMM channel ${codes.sdp_event_query_rfcomm_service_get_rfcomm_channel(packet)}: '${codes.sdp_event_query_rfcomm_service_get_name(packet)}'`,
        );
        break;
      case codes.SDP_EVENT_QUERY_COMPLETE: {
        const status = codes.sdp_event_query_complete_get_status(packet);
        if (status || !server_channel) {
          o.print(status ? `SDP query failed: ${status_text(status)}` : 'no SerialPort service found');
          finish(1);
          break;
        }
        o.print(`connecting to RFCOMM channel ${server_channel} of ${bd_addr_to_str(addr)}`);
        const r = rfcomm.rfcomm_create_channel(rfcomm_handler, addr, server_channel);
        if (r.status) {
          o.print(`rfcomm_create_channel failed: ${status_text(r.status)}`);
          finish(1);
        }
        break;
      }
      default:
        break;
    }
  };

  o.print(`SDP query for SerialPort (0x1101) on ${bd_addr_to_str(addr)}`);
  const st = stack.sdp_client.sdp_client_query_rfcomm_channel_and_name_for_uuid(
    sdp_handler,
    addr,
    BLUETOOTH_SERVICE_CLASS_SERIAL_PORT,
  );
  if (st) {
    o.print(`SDP query refused: ${status_text(st)}`);
    finish(1);
  }
}

const OPTIONS = {
  lines: { value: 'N', help: 'lines to read before disconnecting (default 3)', default: 3, min: 1, max: 1_000_000 },
};
type Args = ExampleArgs<typeof OPTIONS>;

/** BTstack's btstack_main: once HCI is working, find the SPP service of the remote and talk to it. */
function btstack_main(stack: Stack, ctx: ExampleContext<Args>): void {
  ctx.exit_code = 1; // until the client disconnected cleanly
  ctx.bt.hci_add_event_handler({
    callback: (packet_type, _channel, packet) => {
      if (packet_type !== C.HCI_EVENT_PACKET || packet[0] !== C.BTSTACK_EVENT_STATE || ctx.exiting) return;
      if (stack.codes.btstack_event_state_get_state(packet) !== C.HCI_STATE_WORKING) return;
      start_spp_client(stack, ctx.remote!, {
        print: (l) => console.log(l),
        lines: ctx.args.lines,
        verbose: true,
        on_done: (code) => ctx.exit(code),
      });
    },
  });
}

/** Without -u: a virtual controller for us and a virtual spp-counter on the same radio. */
async function virtual_world(run_loop: NodeRunLoop): Promise<VirtualWorld> {
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const { start_spp_counter } = await import('./spp-counter.js');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'spp-client' });
  const theirs = link.create_controller({ name: 'spp-counter' });
  const peer = new Stack({ transport: new VirtualTransport(theirs), run_loop });
  const stop = start_spp_counter(peer, { print: (l) => console.log(`[virtual spp-counter] ${l}`), on_closed: () => stop() });
  peer.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours), peer: theirs.bd_addr };
}

example_main(import.meta.url, { name: 'spp-client', options: OPTIONS, requires_addr: true, virtual_world, btstack_main });
