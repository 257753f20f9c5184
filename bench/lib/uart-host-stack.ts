/**
 * The measured process's side shared by bench/lib/uart-host.ts and bench/lib/uart-soak-host.ts:
 * its command-line arguments, a Stack on the serialport H4 transport (the socat pty to the paced
 * virtual controller), and the L2CAP channel to the peer opened once HCI is WORKING.
 */
import { sscanf_bd_addr, type BdAddr } from '../../src/core/bytes.js';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { hci_transport_config_uart } from '../../src/chipset/index.js';
import { SerialPortTransport } from '../../ports/serialport/transport.js';
import { Stack } from '../../src/stack.js';
import {
  BTSTACK_EVENT_STATE,
  HCI_POWER_ON,
  HCI_STATE_WORKING,
  l2cap_event_channel_opened_get_local_cid,
  l2cap_event_channel_opened_get_status,
} from '../../src/codes/v1.4.js';
import type { PacketHandler } from '../../src/hci/hci-service.js';

/** `--name VALUE` of this process's arguments; throws `<tag>: missing --name` when absent. */
export function host_arg(tag: string, name: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`${tag}: missing ${name}`);
  return v;
}

/** The argument when given, else undefined. */
export const host_opt = (tag: string, name: string): string | undefined =>
  process.argv.includes(name) ? host_arg(tag, name) : undefined;

/** One line `<tag>: msg` on stderr, exit 1. */
export function host_fail(tag: string, msg: string): never {
  console.error(`${tag}: ${msg}`);
  process.exit(1);
}

export interface UartHost {
  loop: NodeRunLoop;
  transport: SerialPortTransport;
  stack: Stack;
  /** The peer (--peer). */
  addr: BdAddr;
  psm: number;
  baud: number;
  seconds: number;
}

/**
 * From --tty, --baud, --peer, --psm, --seconds, [--io fd|stream]: the run loop, the transport
 * (`flow`: RTS/CTS; `rx_coalesce_ms`: the fd path's) and the stack on it.
 */
export function uart_host(tag: string, o: { flow?: boolean; rx_coalesce_ms?: number } = {}): UartHost {
  const tty = host_arg(tag, '--tty');
  const baud = Number(host_arg(tag, '--baud'));
  const peer = host_arg(tag, '--peer');
  const addr = sscanf_bd_addr(peer);
  if (!addr) throw new Error(`${tag}: bad peer address ${peer}`);
  const io = host_opt(tag, '--io') as 'fd' | 'stream' | undefined;
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const config = hci_transport_config_uart(tty, { baudrate_init: baud, flowcontrol: o.flow });
  const transport = new SerialPortTransport(config, { io, rx_coalesce_ms: o.rx_coalesce_ms });
  const stack = new Stack({ transport, run_loop: loop, transport_config: config });
  const psm = Number(host_arg(tag, '--psm'));
  const seconds = Number(host_arg(tag, '--seconds'));
  return { loop, transport, stack, addr, psm, baud, seconds };
}

/** Power on; once WORKING, open the L2CAP channel to the peer with `handler` (a failure: host_fail). */
export function power_on_and_connect(h: UartHost, tag: string, handler: PacketHandler, mtu: number): void {
  h.stack.hci.hci_add_event_handler({
    callback: (_t, _c, packet) => {
      if (packet[0] === BTSTACK_EVENT_STATE && packet[2] === HCI_STATE_WORKING) {
        const r = h.stack.l2cap.l2cap_create_channel(handler, h.addr, h.psm, mtu);
        if (r.status !== 0) host_fail(tag, `l2cap_create_channel status ${r.status}`);
      }
    },
  });
  void h.loop.execute();
  h.stack.hci.hci_power_control(HCI_POWER_ON);
}

/** The local CID of an L2CAP_EVENT_CHANNEL_OPENED; a non-zero status: host_fail. */
export function opened_cid(tag: string, packet: Uint8Array): number {
  const status = l2cap_event_channel_opened_get_status(packet);
  if (status !== 0) host_fail(tag, `channel open status ${status}`);
  return l2cap_event_channel_opened_get_local_cid(packet);
}
