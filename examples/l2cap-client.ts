/**
 * l2cap-client: opens an L2CAP channel to PSM 0x1001 on --addr, sends --count messages of
 * --size bytes (each when L2CAP_EVENT_CAN_SEND_NOW says so), checks that every one comes back
 * unchanged (examples/l2cap-server echoes), disconnects and exits 0 (1 on any failure).
 *
 *   npx tsx examples/l2cap-client.ts                      in-process virtual controller + a virtual echo server
 *   npx tsx examples/l2cap-client.ts -u /tmp/ttyV1 --no-flow --addr 11:22:33:44:55:66
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --psm PSM, --count N, --size BYTES,
 *   --profile v1.4|v1.8
 *
 * Every BTstack event is printed by name; "up and running at ADDR" once HCI is working.
 */
import { NodeRunLoop } from '../src/core/run-loop.js';
import { bd_addr_to_str, type BdAddr } from '../src/core/bytes.js';
import { format_event, is_code_profile, type CodeProfile } from '../src/codes/index.js';
import * as C from '../src/codes/v1.4.js';
import { Stack } from '../src/stack.js';
import { btstack_init_default } from '../src/btstack.js';
import type { HciTransport } from '../src/hci/transport.js';
import type { HciTransportConfig } from '../src/hci/hci.js';
import { parse_port_options, port_usage } from '../ports/main.js';

const EXTRA = [
  '--psm PSM              PSM to connect to (default 0x1001)',
  '--count N              messages to send (default 10)',
  '--size BYTES           bytes per message (default 600)',
  '--profile v1.4|v1.8    BTstack release of the event codes',
];

interface Args {
  psm: number;
  count: number;
  size: number;
  profile: CodeProfile;
}

function parse_args(rest: string[], errors: string[]): Args {
  const a: Args = { psm: 0x1001, count: 10, size: 600, profile: 'v1.4' };
  for (let i = 0; i < rest.length; i++) {
    const k = rest[i]!;
    const v = rest[i + 1];
    const num = (max: number): number => {
      i++;
      const n = v !== undefined && /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : NaN;
      if (!Number.isInteger(n) || n < 0 || n > max) errors.push(`${k}: expected a number 0..${max}, got '${v ?? ''}'`);
      return n;
    };
    if (k === '--psm') a.psm = num(0xffff);
    else if (k === '--count') a.count = num(1_000_000);
    else if (k === '--size') a.size = num(0xffff);
    else if (k === '--profile') {
      i++;
      if (is_code_profile(v)) a.profile = v;
      else errors.push(`--profile must be v1.4 or v1.8, got '${v ?? ''}'`);
    } else errors.push(`unknown option ${k}`);
  }
  return a;
}

/** Message i: its number in the first 4 bytes, then a pattern that depends on it. */
function message(i: number, size: number): Uint8Array {
  const m = new Uint8Array(size);
  for (let k = 0; k < size; k++) m[k] = (i * 31 + k * 7) & 0xff;
  if (size >= 4) new DataView(m.buffer).setUint32(0, i);
  return m;
}

async function main(): Promise<number> {
  const opts = parse_port_options(process.argv.slice(2));
  const errors = [...opts.errors];
  const args = parse_args(opts.rest, errors);
  if (opts.tty && !opts.addr) errors.push('--addr is required with -u');
  if (opts.help || errors.length) {
    for (const e of errors) console.error(e);
    console.error(port_usage('l2cap-client', EXTRA));
    return opts.help ? 0 : 2;
  }
  const run_loop = new NodeRunLoop();
  let transport: HciTransport;
  let transport_config: HciTransportConfig | undefined;
  let remote: BdAddr;
  if (opts.tty) {
    const { serialport_transport_from_options } = await import('../ports/serialport/main.js');
    const port = serialport_transport_from_options(opts)!;
    transport = port.transport;
    transport_config = port.config as unknown as HciTransportConfig;
    remote = opts.addr!;
  } else {
    const world = await virtual_world(run_loop, args.psm);
    transport = world.transport;
    remote = opts.addr ?? world.server;
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

  let cid = 0;
  let sent = 0;
  let echoed = 0;
  let result = 1;
  let finished = false;

  const finish = (code: number, why: string) => {
    if (finished) return;
    finished = true;
    result = code;
    console.log(why);
    bt.hci_power_control(C.HCI_POWER_OFF);
  };

  const packet_handler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => {
    if (packet_type === C.L2CAP_DATA_PACKET) {
      const want = message(echoed, args.size);
      const ok = size === want.length && want.every((b, k) => packet[k] === b);
      console.log(`L2CAP_DATA_PACKET cid 0x${channel.toString(16).padStart(4, '0')} ${size} bytes: echo ${echoed} ${ok ? 'ok' : 'WRONG'}`);
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
    console.log(format_event(codes, packet, size));
    switch (packet[0]) {
      case codes.L2CAP_EVENT_CHANNEL_OPENED: {
        const status = codes.l2cap_event_channel_opened_get_status(packet);
        if (status !== 0) {
          finish(1, `channel to PSM 0x${args.psm.toString(16)} failed: status 0x${status.toString(16)}`);
          break;
        }
        cid = codes.l2cap_event_channel_opened_get_local_cid(packet);
        console.log(`channel open: local cid 0x${cid.toString(16)}, remote MTU ${codes.l2cap_event_channel_opened_get_remote_mtu(packet)}`);
        if (args.count === 0) l2cap.l2cap_disconnect(cid);
        else l2cap.l2cap_request_can_send_now_event(cid);
        break;
      }
      case codes.L2CAP_EVENT_CAN_SEND_NOW: {
        const m = message(sent, args.size);
        const status = l2cap.l2cap_send(cid, m, m.length);
        if (status) {
          finish(1, `l2cap_send failed: status 0x${status.toString(16)}`);
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

  bt.hci_add_event_handler({
    callback: (packet_type, _channel, packet, size) => {
      if (packet_type !== C.HCI_EVENT_PACKET) return;
      if (packet[0] !== C.HCI_EVENT_TRANSPORT_PACKET_SENT && packet[0] !== C.HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS) console.log(format_event(codes, packet, size));
      if (packet[0] === C.BTSTACK_EVENT_STATE) {
        const state = codes.btstack_event_state_get_state(packet);
        if (state === C.HCI_STATE_WORKING) {
          console.log(`up and running at ${bd_addr_to_str(bt.gap_local_bd_addr())}`);
          console.log(`connecting to ${bd_addr_to_str(remote)} PSM 0x${args.psm.toString(16)}`);
          const r = l2cap.l2cap_create_channel(packet_handler, remote, args.psm, l2cap.l2cap_max_mtu());
          if (r.status) finish(1, `l2cap_create_channel failed: status 0x${r.status.toString(16)}`);
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
  process.once('SIGINT', () => finish(1, 'interrupted'));
  process.once('SIGTERM', () => finish(1, 'terminated'));
  if (bt.hci_power_control(C.HCI_POWER_ON) !== 0) {
    console.error('power on refused');
    return 1;
  }
  await bt.btstack_run_loop_execute();
  return result;
}

/** Without -u: a virtual controller for us and a virtual echo server on PSM `psm` on the same radio. */
async function virtual_world(run_loop: NodeRunLoop, psm: number): Promise<{ transport: HciTransport; server: BdAddr }> {
  const { RadioLink } = await import('../src/controller/index.js');
  const { VirtualTransport } = await import('../ports/virtual/transport.js');
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
  return { transport: new VirtualTransport(ours), server: serverCtl.bd_addr };
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
