/**
 * Two (or more) bthost stacks on one in-process radio link with virtual controllers, booted to
 * HCI_STATE_WORKING, and an L2CAP channel between them, for the in-process benchmarks.
 * Everything runs on one VirtualRunLoop: the figures are pure CPU, no event-loop turns.
 */
import type { BdAddr } from '../../src/core/bytes.js';
import type { StackConfig } from '../../src/core/config.js';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink, type RadioLinkOptions } from '../../src/controller/link.js';
import type { ControllerOptions } from '../../src/controller/controller.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import {
  HCI_POWER_ON,
  HCI_STATE_WORKING,
  L2CAP_DATA_PACKET,
  L2CAP_EVENT_CHANNEL_OPENED,
  L2CAP_EVENT_INCOMING_CONNECTION,
  HCI_EVENT_PACKET,
  l2cap_event_channel_opened_get_handle,
  l2cap_event_channel_opened_get_local_cid,
  l2cap_event_channel_opened_get_status,
  l2cap_event_incoming_connection_get_local_cid,
} from '../../src/codes/v1.4.js';

export interface Node {
  stack: Stack;
  addr: BdAddr;
}

export interface World {
  rl: VirtualRunLoop;
  link: RadioLink;
  nodes: Node[];
}

export interface WorldOptions {
  controller?: ControllerOptions;
  config?: Partial<StackConfig>;
  link?: RadioLinkOptions;
}

/** `n` stacks on one radio link (no air latency, unlimited air bandwidth unless given), all WORKING. */
export function createWorld(n: number, opts: WorldOptions = {}): World {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { latency_ms: 0, bandwidth_bps: 0, ...opts.link });
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const controller = link.create_controller({ acl_size: 1021, acl_buffers: 8, ...opts.controller });
    const stack = new Stack({ transport: new VirtualTransport(controller), run_loop: rl, config: opts.config });
    stack.hci.hci_power_control(HCI_POWER_ON);
    nodes.push({ stack, addr: controller.bd_addr });
  }
  rl.run_until(() => nodes.every((x) => x.stack.hci.hci_get_state() === HCI_STATE_WORKING), 10_000);
  if (!nodes.every((x) => x.stack.hci.hci_get_state() === HCI_STATE_WORKING))
    throw new Error('bench: stacks did not reach HCI_STATE_WORKING');
  return { rl, link, nodes };
}

/** Per-channel packet handlers that the benchmark can swap. */
export interface ChannelEnds {
  /** Local CIDs on the initiator (a) and acceptor (b). */
  cid_a: number;
  cid_b: number;
  con_handle_a: number;
  /** Data and events for the channel on each side (set these; they are called from the handlers). */
  on_a: (packet_type: number, channel: number, packet: Uint8Array, size: number) => void;
  on_b: (packet_type: number, channel: number, packet: Uint8Array, size: number) => void;
}

let nextPsm = 0x1001;

/**
 * Open an L2CAP channel from `a` to `b` (b registers a service on a fresh PSM and accepts).
 * `mtu_a` / `mtu_b`: the MTU each side announces. Runs the loop until both ends are open.
 */
export function openChannel(w: World, a: Node, b: Node, mtu_a: number, mtu_b: number): ChannelEnds {
  const psm = nextPsm;
  nextPsm += 2; // PSMs are odd
  const ends: ChannelEnds = { cid_a: 0, cid_b: 0, con_handle_a: 0, on_a: () => {}, on_b: () => {} };
  let openedA = false;
  let openedB = false;
  let failure = '';
  const hb = (type: number, channel: number, packet: Uint8Array, size: number): void => {
    if (type === HCI_EVENT_PACKET) {
      if (packet[0] === L2CAP_EVENT_INCOMING_CONNECTION) {
        b.stack.l2cap.l2cap_accept_connection(l2cap_event_incoming_connection_get_local_cid(packet));
        return;
      }
      if (packet[0] === L2CAP_EVENT_CHANNEL_OPENED) {
        if (l2cap_event_channel_opened_get_status(packet) !== 0)
          failure = `b: open status ${l2cap_event_channel_opened_get_status(packet)}`;
        else {
          ends.cid_b = l2cap_event_channel_opened_get_local_cid(packet);
          openedB = true;
        }
        return;
      }
    }
    ends.on_b(type, channel, packet, size);
  };
  const ha = (type: number, channel: number, packet: Uint8Array, size: number): void => {
    if (type === HCI_EVENT_PACKET && packet[0] === L2CAP_EVENT_CHANNEL_OPENED) {
      if (l2cap_event_channel_opened_get_status(packet) !== 0)
        failure = `a: open status ${l2cap_event_channel_opened_get_status(packet)}`;
      else {
        ends.cid_a = l2cap_event_channel_opened_get_local_cid(packet);
        ends.con_handle_a = l2cap_event_channel_opened_get_handle(packet);
        openedA = true;
      }
      return;
    }
    ends.on_a(type, channel, packet, size);
  };
  const st = b.stack.l2cap.l2cap_register_service(hb, psm, mtu_b);
  if (st !== 0) throw new Error(`bench: l2cap_register_service status ${st}`);
  const r = a.stack.l2cap.l2cap_create_channel(ha, b.addr, psm, mtu_a);
  if (r.status !== 0) throw new Error(`bench: l2cap_create_channel status ${r.status}`);
  w.rl.run_until(() => (openedA && openedB) || failure !== '', 60_000);
  if (!openedA || !openedB) throw new Error(`bench: channel did not open (${failure || 'timeout'})`);
  return ends;
}

export { L2CAP_DATA_PACKET };
