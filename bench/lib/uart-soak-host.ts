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
import {
  HCI_EVENT_PACKET,
  L2CAP_DATA_PACKET,
  L2CAP_EVENT_CAN_SEND_NOW,
  L2CAP_EVENT_CHANNEL_CLOSED,
  L2CAP_EVENT_CHANNEL_OPENED,
} from '../../src/codes/v1.4.js';
import { SoakReceiver, SoakSender, soak_pattern } from './soak-stream.js';
import { host_arg, host_fail, opened_cid, power_on_and_connect, uart_host } from './uart-host-stack.js';

const TAG = 'uart-soak-host';
const flow = host_arg(TAG, '--flow') === 'on';
const send = !process.argv.includes('--no-send');
const MTU = 1017;
const fail = (msg: string): never => host_fail(TAG, msg);

const h = uart_host(TAG, { flow });
const { stack, transport, seconds } = h;
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
    cid = opened_cid(TAG, packet);
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
power_on_and_connect(h, TAG, handler, MTU);
