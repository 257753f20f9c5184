/**
 * The measured side of the UART soak (bench/uart-soak.ts): a Stack on the serialport H4 transport
 * (socat pty to the paced virtual controller), one L2CAP channel to the peer, sending the soak
 * stream (seed 1) for --seconds while receiving the peer's (seed 2). Protocol on stdio:
 *   stdout `HOST-SENT {json}` when it stops sending; stdin `PEER-SENT {json}` when the peer has;
 *   stdout `HOST-RECEIVED {json}` once that many bytes arrived (or 60 s passed), then exit 0.
 *
 *   node --import tsx bench/lib/uart-soak-host.ts --tty PATH --baud N --peer ADDR --psm P --seconds S --flow on|off [--io fd|stream] [--no-send]
 */
import { createInterface } from 'node:readline';
import { sscanf_bd_addr } from '../../src/core/bytes.js';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { hci_transport_config_uart } from '../../src/chipset/index.js';
import { SerialPortTransport } from '../../ports/serialport/transport.js';
import { Stack } from '../../src/stack.js';
import {
  HCI_EVENT_PACKET,
  HCI_POWER_ON,
  HCI_STATE_WORKING,
  L2CAP_DATA_PACKET,
  L2CAP_EVENT_CAN_SEND_NOW,
  L2CAP_EVENT_CHANNEL_CLOSED,
  L2CAP_EVENT_CHANNEL_OPENED,
  l2cap_event_channel_opened_get_local_cid,
  l2cap_event_channel_opened_get_status,
} from '../../src/codes/v1.4.js';
import { SoakReceiver, SoakSender, soak_pattern } from './soak-stream.js';

function arg(name: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`uart-soak-host: missing ${name}`);
  return v;
}

const tty = arg('--tty');
const baud = Number(arg('--baud'));
const addr = sscanf_bd_addr(arg('--peer'));
const psm = Number(arg('--psm'));
const seconds = Number(arg('--seconds'));
const flow = arg('--flow') === 'on';
const send = !process.argv.includes('--no-send');
const io = process.argv.includes('--io') ? (arg('--io') as 'fd' | 'stream') : undefined;
const MTU = 1017;
if (!addr) throw new Error('uart-soak-host: bad --peer');

function fail(msg: string): never {
  console.error(`uart-soak-host: ${msg}`);
  process.exit(1);
}

const loop = new NodeRunLoop();
loop.keepAlive = false;
const config = hci_transport_config_uart(tty, { baudrate_init: baud, flowcontrol: flow });
const transport = new SerialPortTransport(config, { io });
const stack = new Stack({ transport, run_loop: loop, transport_config: config });
const sender = new SoakSender(soak_pattern(1), MTU);
const receiver = new SoakReceiver();
let cid = 0;
let sending = false;
let expected = -1;
const cpu0 = process.cpuUsage();

function finishIfDone(): void {
  if (expected < 0 || receiver.bytes < expected) return;
  const cpu = process.cpuUsage(cpu0);
  const out = {
    bytes: receiver.bytes,
    sdus: receiver.sdus,
    hash: receiver.digest(),
    framing_errors: transport.framing_errors,
    io_path: transport.io_path,
    cpu_ms: (cpu.user + cpu.system) / 1000,
  };
  process.stdout.write(`HOST-RECEIVED ${JSON.stringify(out)}\n`);
  process.exit(0);
}

const handler = (type: number, _ch: number, packet: Uint8Array, size: number): void => {
  if (type === L2CAP_DATA_PACKET) {
    receiver.received(packet, size);
    finishIfDone();
    return;
  }
  if (type !== HCI_EVENT_PACKET) return;
  if (packet[0] === L2CAP_EVENT_CHANNEL_OPENED) {
    if (l2cap_event_channel_opened_get_status(packet) !== 0)
      fail(`channel open status ${l2cap_event_channel_opened_get_status(packet)}`);
    cid = l2cap_event_channel_opened_get_local_cid(packet);
    sending = send;
    process.stdout.write('HOST-OPEN\n');
    stack.l2cap.l2cap_request_can_send_now_event(cid);
    setTimeout(() => {
      sending = false;
      process.stdout.write(`HOST-SENT ${JSON.stringify({ bytes: sender.bytes, sdus: sender.sdus, hash: sender.digest() })}\n`);
    }, seconds * 1000);
  } else if (packet[0] === L2CAP_EVENT_CAN_SEND_NOW && sending) {
    const sdu = sender.next();
    if (stack.l2cap.l2cap_send(cid, sdu, sdu.length) === 0) sender.sent(sdu);
    stack.l2cap.l2cap_request_can_send_now_event(cid);
  } else if (packet[0] === L2CAP_EVENT_CHANNEL_CLOSED) {
    fail('channel closed');
  }
};

stack.hci.hci_add_event_handler({
  callback: (_t, _c, packet) => {
    if (packet[0] === 0x60 && packet[2] === HCI_STATE_WORKING) {
      const r = stack.l2cap.l2cap_create_channel(handler, addr, psm, MTU);
      if (r.status !== 0) fail(`l2cap_create_channel status ${r.status}`);
    }
  },
});
createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.startsWith('PEER-SENT ')) return;
  expected = (JSON.parse(line.slice(10)) as { bytes: number }).bytes;
  finishIfDone();
  setTimeout(() => {
    process.stdout.write(
      `HOST-RECEIVED ${JSON.stringify({ bytes: receiver.bytes, sdus: receiver.sdus, hash: receiver.digest(), framing_errors: transport.framing_errors, io_path: transport.io_path, timeout: true })}\n`,
    );
    process.exit(0);
  }, 60_000).unref();
});
void loop.execute();
stack.hci.hci_power_control(HCI_POWER_ON);
