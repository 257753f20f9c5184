/**
 * spp-client: finds the SPP server of --addr through SDP (the RFCOMM channel of its SerialPort
 * record), connects, prints the lines it receives, answers each one, and disconnects after a
 * few lines (BTstack's spp_counter on the other side sends "BTstack counter NNNN" every second).
 *
 *   npx tsx examples/spp-client.ts                                   in-process virtual controller + a virtual spp-counter
 *   npx tsx examples/spp-client.ts -u /dev/ttyACM0 --addr 00:1A:7D:DA:71:13
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --lines N (default 3), --profile v1.4|v1.8
 *
 * Every BTstack event is printed by name; "up and running at ADDR" once HCI is working. Exit
 * status 0 after a clean disconnect, 1 when the service was not found or the channel failed.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { NodeRunLoop } from '../src/core/run-loop.js';
import { bd_addr_to_str, type BdAddr } from '../src/core/bytes.js';
import { format_event, is_code_profile, type CodeProfile } from '../src/codes/index.js';
import * as C from '../src/codes/v1.4.js';
import { Stack } from '../src/stack.js';
import { btstack_init_default } from '../src/btstack.js';
import { BLUETOOTH_SERVICE_CLASS_SERIAL_PORT } from '../src/sdp/constants.js';
import type { HciTransport } from '../src/hci/transport.js';
import type { HciTransportConfig } from '../src/hci/hci.js';
import { parse_port_options, port_usage } from '../ports/main.js';

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
          o.print(`RFCOMM channel open failed, status 0x${status.toString(16).padStart(2, '0')}`);
          finish(1);
          break;
        }
        rfcomm_cid = codes.rfcomm_event_channel_opened_get_rfcomm_cid(packet);
        o.print(`RFCOMM channel ${server_channel} open, rfcomm_cid ${rfcomm_cid}, max frame size ${codes.rfcomm_event_channel_opened_get_max_frame_size(packet)}`);
        break;
      }
      case codes.RFCOMM_EVENT_CAN_SEND_NOW: {
        const reply = replies.shift();
        if (reply) {
          const status = rfcomm.rfcomm_send(rfcomm_cid, reply, reply.length);
          if (status) o.print(`rfcomm_send failed, status 0x${status.toString(16)}`);
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
        o.print(`Found RFCOMM channel ${codes.sdp_event_query_rfcomm_service_get_rfcomm_channel(packet)}: '${codes.sdp_event_query_rfcomm_service_get_name(packet)}'`);
        break;
      case codes.SDP_EVENT_QUERY_COMPLETE: {
        const status = codes.sdp_event_query_complete_get_status(packet);
        if (status || !server_channel) {
          o.print(status ? `SDP query failed, status 0x${status.toString(16).padStart(2, '0')}` : 'no SerialPort service found');
          finish(1);
          break;
        }
        o.print(`connecting to RFCOMM channel ${server_channel} of ${bd_addr_to_str(addr)}`);
        const r = rfcomm.rfcomm_create_channel(rfcomm_handler, addr, server_channel);
        if (r.status) {
          o.print(`rfcomm_create_channel failed, status 0x${r.status.toString(16)}`);
          finish(1);
        }
        break;
      }
      default:
        break;
    }
  };

  o.print(`SDP query for SerialPort (0x1101) on ${bd_addr_to_str(addr)}`);
  const st = stack.sdp_client.sdp_client_query_rfcomm_channel_and_name_for_uuid(sdp_handler, addr, BLUETOOTH_SERVICE_CLASS_SERIAL_PORT);
  if (st) {
    o.print(`SDP query refused, status 0x${st.toString(16)}`);
    finish(1);
  }
}

async function main(): Promise<number> {
  const opts = parse_port_options(process.argv.slice(2));
  const errors = [...opts.errors];
  let lines = 3;
  let profile: CodeProfile = 'v1.4';
  for (let i = 0; i < opts.rest.length; i++) {
    const k = opts.rest[i]!;
    const v = opts.rest[i + 1];
    if (k === '--lines') {
      i++;
      if (v !== undefined && /^\d+$/.test(v) && Number(v) > 0) lines = Number(v);
      else errors.push(`--lines: expected a positive number, got '${v ?? ''}'`);
    } else if (k === '--profile') {
      i++;
      if (is_code_profile(v)) profile = v;
      else errors.push(`--profile must be v1.4 or v1.8, got '${v ?? ''}'`);
    } else errors.push(`unknown option ${k}`);
  }
  if (opts.tty && !opts.addr) errors.push('--addr XX:XX:XX:XX:XX:XX is required with -u');
  if (opts.help || errors.length) {
    for (const e of errors) console.error(e);
    console.error(port_usage('spp-client', ['--lines N              lines to read before disconnecting (default 3)', '--profile v1.4|v1.8    BTstack release of the event codes']));
    return opts.help ? 0 : 2;
  }
  const run_loop = new NodeRunLoop();
  let transport: HciTransport;
  let transport_config: HciTransportConfig | undefined;
  let addr = opts.addr;
  if (opts.tty) {
    const { serialport_transport_from_options } = await import('../ports/serialport/main.js');
    const port = serialport_transport_from_options(opts)!;
    transport = port.transport;
    transport_config = port.config as unknown as HciTransportConfig;
  } else {
    const world = await virtual_world(run_loop);
    transport = world.transport;
    addr ??= world.server;
  }
  const stack = new Stack({ transport, run_loop, profile, transport_config });
  if (opts.log_file) {
    const err = stack.open_packet_log(opts.log_file, opts.log_format);
    if (err) console.error(`cannot write packet log ${opts.log_file} (error ${err})`);
    else console.log(`packet log: ${opts.log_file} (${opts.log_format})`);
  }
  const codes = stack.codes;
  const bt = btstack_init_default(stack);
  let exitCode = 1;
  let finished = false;
  const shutdown = (code: number) => {
    if (finished) return;
    finished = true;
    exitCode = code;
    bt.hci_power_control(C.HCI_POWER_OFF);
  };
  bt.hci_add_event_handler({
    callback: (packet_type, _channel, packet, size) => {
      if (packet_type !== C.HCI_EVENT_PACKET) return;
      if (packet[0] !== C.HCI_EVENT_TRANSPORT_PACKET_SENT && packet[0] !== C.HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS) console.log(format_event(codes, packet, size));
      if (packet[0] === C.BTSTACK_EVENT_STATE) {
        const state = codes.btstack_event_state_get_state(packet);
        if (state === C.HCI_STATE_WORKING && !finished) {
          console.log(`up and running at ${bd_addr_to_str(bt.gap_local_bd_addr())}`);
          start_spp_client(stack, addr!, { print: (l) => console.log(l), lines, verbose: true, on_done: shutdown });
        } else if (state === C.HCI_STATE_OFF && finished) bt.btstack_run_loop_trigger_exit();
      } else if (packet[0] === C.BTSTACK_EVENT_POWERON_FAILED) {
        console.error('power on failed: is the controller connected and powered?');
        bt.btstack_run_loop_trigger_exit();
      }
    },
  });
  process.once('SIGINT', () => shutdown(1));
  process.once('SIGTERM', () => shutdown(1));
  if (bt.hci_power_control(C.HCI_POWER_ON) !== 0) {
    console.error('power on refused');
    return 1;
  }
  await bt.btstack_run_loop_execute();
  return exitCode;
}

/** Without -u: a virtual controller for us and a virtual spp-counter on the same radio. */
async function virtual_world(run_loop: NodeRunLoop): Promise<{ transport: HciTransport; server: BdAddr }> {
  const { RadioLink } = await import('../src/controller/index.js');
  const { VirtualTransport } = await import('../ports/virtual/transport.js');
  const { start_spp_counter } = await import('./spp-counter.js');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'spp-client' });
  const theirs = link.create_controller({ name: 'spp-counter' });
  const peer = new Stack({ transport: new VirtualTransport(theirs), run_loop });
  const stop = start_spp_counter(peer, { print: (l) => console.log(`[virtual spp-counter] ${l}`), on_closed: () => stop() });
  peer.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours), server: theirs.bd_addr };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
