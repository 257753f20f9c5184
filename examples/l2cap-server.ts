/**
 * l2cap-server: registers an L2CAP service on PSM 0x1001, accepts every incoming channel and
 * sends back whatever it receives (with L2CAP_EVENT_CAN_SEND_NOW, never queueing in the stack).
 *
 *   npx tsx examples/l2cap-server.ts                      in-process virtual controller + a virtual client that connects
 *   npx tsx examples/l2cap-server.ts -u /tmp/ttyV0 --no-flow
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --psm PSM, --mtu MTU, --once (exit after the
 *   first channel closed), --profile v1.4|v1.8
 *
 * Every BTstack event is printed by name; "up and running at ADDR" once HCI is working.
 */
import { NodeRunLoop } from '../src/core/run-loop.js';
import { bd_addr_to_str } from '../src/core/bytes.js';
import { format_event, is_code_profile, type CodeProfile } from '../src/codes/index.js';
import * as C from '../src/codes/v1.4.js';
import { Stack } from '../src/stack.js';
import { btstack_init_default } from '../src/btstack.js';
import type { HciTransport } from '../src/hci/transport.js';
import type { HciTransportConfig } from '../src/hci/hci.js';
import { parse_port_options, port_usage } from '../ports/main.js';

const EXTRA = [
  '--psm PSM              PSM to serve (default 0x1001)',
  '--mtu MTU              MTU to receive (default 1691)',
  '--once                 exit after the first channel closed',
  '--profile v1.4|v1.8    BTstack release of the event codes',
];

interface Args {
  psm: number;
  mtu: number;
  once: boolean;
  profile: CodeProfile;
}

function parse_args(rest: string[], errors: string[]): Args {
  const a: Args = { psm: 0x1001, mtu: 1691, once: false, profile: 'v1.4' };
  for (let i = 0; i < rest.length; i++) {
    const k = rest[i]!;
    const v = rest[i + 1];
    const num = (): number => {
      i++;
      const n = v !== undefined && /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : NaN;
      if (!Number.isInteger(n) || n < 0 || n > 0xffff) errors.push(`${k}: expected a number 0..65535, got '${v ?? ''}'`);
      return n;
    };
    if (k === '--psm') a.psm = num();
    else if (k === '--mtu') a.mtu = num();
    else if (k === '--once') a.once = true;
    else if (k === '--profile') {
      i++;
      if (is_code_profile(v)) a.profile = v;
      else errors.push(`--profile must be v1.4 or v1.8, got '${v ?? ''}'`);
    } else errors.push(`unknown option ${k}`);
  }
  return a;
}

async function main(): Promise<number> {
  const opts = parse_port_options(process.argv.slice(2));
  const errors = [...opts.errors];
  const args = parse_args(opts.rest, errors);
  if (opts.help || errors.length) {
    for (const e of errors) console.error(e);
    console.error(port_usage('l2cap-server', EXTRA));
    return opts.help ? 0 : 2;
  }
  const run_loop = new NodeRunLoop();
  let transport: HciTransport;
  let transport_config: HciTransportConfig | undefined;
  if (opts.tty) {
    const { serialport_transport_from_options } = await import('../ports/serialport/main.js');
    const port = serialport_transport_from_options(opts)!;
    transport = port.transport;
    transport_config = port.config as unknown as HciTransportConfig;
  } else {
    transport = await virtual_world(run_loop, args.psm);
  }

  const stack = new Stack({ transport, run_loop, profile: args.profile, transport_config });
  if (opts.log_file) {
    const err = stack.open_packet_log(opts.log_file, opts.log_format);
    if (err) console.error(`cannot write packet log ${opts.log_file} (error ${err})`);
    else console.log(`packet log: ${opts.log_file} (${opts.log_format})`);
  }
  const codes = stack.codes;
  const bt = btstack_init_default(stack);
  const l2cap = stack.l2cap;

  /** Per channel: SDUs received and not yet echoed (the application's queue, not the stack's). */
  const pending = new Map<number, Uint8Array[]>();
  let finished = false;

  const shutdown = () => {
    if (finished) return;
    finished = true;
    bt.hci_power_control(C.HCI_POWER_OFF);
  };

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
    console.log(format_event(codes, packet, size));
    switch (packet[0]) {
      case codes.L2CAP_EVENT_INCOMING_CONNECTION: {
        const cid = codes.l2cap_event_incoming_connection_get_local_cid(packet);
        console.log(`accepting channel 0x${cid.toString(16)} from ${bd_addr_to_str(codes.l2cap_event_incoming_connection_get_address(packet))}`);
        l2cap.l2cap_accept_connection(cid);
        break;
      }
      case codes.L2CAP_EVENT_CHANNEL_OPENED:
        if (codes.l2cap_event_channel_opened_get_status(packet) === 0) pending.set(codes.l2cap_event_channel_opened_get_local_cid(packet), []);
        break;
      case codes.L2CAP_EVENT_CAN_SEND_NOW: {
        const cid = codes.l2cap_event_can_send_now_get_local_cid(packet);
        const q = pending.get(cid);
        const sdu = q?.shift();
        if (!sdu) break;
        const status = l2cap.l2cap_send(cid, sdu, sdu.length);
        if (status) console.log(`l2cap_send failed: status 0x${status.toString(16)}`);
        if (q!.length) l2cap.l2cap_request_can_send_now_event(cid);
        break;
      }
      case codes.L2CAP_EVENT_CHANNEL_CLOSED:
        pending.delete(codes.l2cap_event_channel_closed_get_local_cid(packet));
        if (args.once) shutdown();
        break;
      default:
        break;
    }
  };

  bt.hci_add_event_handler({
    callback: (packet_type, _channel, packet, size) => {
      if (packet_type !== C.HCI_EVENT_PACKET) return;
      // flow-control chatter is not printed
      if (packet[0] !== C.HCI_EVENT_TRANSPORT_PACKET_SENT && packet[0] !== C.HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS) console.log(format_event(codes, packet, size));
      if (packet[0] === C.BTSTACK_EVENT_STATE) {
        const state = codes.btstack_event_state_get_state(packet);
        if (state === C.HCI_STATE_WORKING) {
          console.log(`up and running at ${bd_addr_to_str(bt.gap_local_bd_addr())}`);
          bt.gap_discoverable_control(1);
        } else if (state === C.HCI_STATE_OFF && finished) {
          bt.btstack_run_loop_trigger_exit();
        }
      } else if (packet[0] === C.BTSTACK_EVENT_POWERON_FAILED) {
        console.error('power on failed: is the controller connected and powered?');
        bt.btstack_run_loop_trigger_exit();
      }
    },
  });

  l2cap.l2cap_init();
  const st = l2cap.l2cap_register_service(packet_handler, args.psm, args.mtu, C.LEVEL_0);
  if (st) {
    console.error(`l2cap_register_service failed: status 0x${st.toString(16)}`);
    return 1;
  }
  console.log(`L2CAP service on PSM 0x${args.psm.toString(16)}, MTU ${Math.min(args.mtu, l2cap.l2cap_max_mtu())}`);
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  if (bt.hci_power_control(C.HCI_POWER_ON) !== 0) {
    console.error('power on refused');
    return 1;
  }
  await bt.btstack_run_loop_execute();
  return 0;
}

/**
 * Without -u: a virtual controller for us, and a virtual client on the same radio that opens a
 * channel to our PSM once we are up, sends three messages, checks the echoes and disconnects.
 */
async function virtual_world(run_loop: NodeRunLoop, psm: number): Promise<HciTransport> {
  const { RadioLink } = await import('../src/controller/index.js');
  const { VirtualTransport } = await import('../ports/virtual/transport.js');
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
  const { Timer } = await import('../src/core/run-loop.js');
  const timer = new Timer(() => peer.l2cap.l2cap_create_channel(handler, ours.bd_addr, psm, 1000));
  peer.hci.hci_power_control(C.HCI_POWER_ON);
  return new VirtualTransport(ours);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
