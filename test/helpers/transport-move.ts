/**
 * The transport end-to-end run in virtual time (for the fake HCI socket and the fake USB device):
 * a stack on the transport under test and a peer stack (VirtualTransport) on one radio; the stack
 * powers on, then test/helpers/inquire-move.ts inquires, opens L2CAP and RFCOMM, moves `size` bytes
 * over each and `size` bytes back from the peer over L2CAP (the controller's ACL packets to the host).
 */
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { sscanf_bd_addr, type BdAddr } from '../../src/core/bytes.js';
import { RadioLink } from '../../src/controller/index.js';
import type { VirtualController } from '../../src/controller/controller.js';
import type { ControllerOptions } from '../../src/controller/index.js';
import type { HciTransport } from '../../src/hci/transport.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import * as C from '../../src/codes/v1.4.js';
import { inquire_and_move as drive } from './inquire-move.js';

export const HOST_ADDR = sscanf_bd_addr('AA:00:00:00:00:01')!;
export const PEER_ADDR = sscanf_bd_addr('BB:00:00:00:00:02')!;
export interface World {
  rl: VirtualRunLoop;
  link: RadioLink;
  /** The controller the transport under test reaches. */
  controller: VirtualController;
  peer: Stack;
  /** Run until pred holds (asserts it did within max_ms virtual ms). */
  until(pred: () => boolean, what: string, max_ms?: number): void;
}

/** A radio with the host's controller (for the fake to drive) and a working peer stack. */
export function world(controller_options: ControllerOptions = {}): World {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'transport-move' });
  const controller = link.create_controller({ bd_addr: HOST_ADDR, name: 'host', ...controller_options });
  const peer = new Stack({
    transport: new VirtualTransport(link.create_controller({ bd_addr: PEER_ADDR, name: 'peer' })),
    run_loop: rl,
  });
  peer.gap.gap_discoverable_control(1);
  peer.gap.gap_connectable_control(1);
  peer.hci.hci_power_control(C.HCI_POWER_ON);
  const until = (pred: () => boolean, what: string, max_ms = 120_000): void => {
    assert.ok(rl.run_until(pred, max_ms), `within ${max_ms} virtual ms: ${what}`);
  };
  until(() => peer.hci.hci_get_state() === C.HCI_STATE_WORKING, 'peer working');
  return { rl, link, controller, peer, until };
}

/** A stack on `transport` (host flow control on: the transport's receive limit is announced). */
export function host_stack(w: World, transport: HciTransport): Stack {
  return new Stack({ transport, run_loop: w.rl, host_flow_control: true });
}

/** Power on, inquiry, L2CAP and RFCOMM with `size` bytes each, and `size` bytes back over L2CAP. */
export async function inquire_and_move(w: World, stack: Stack, size: number, peer_addr: BdAddr = PEER_ADDR): Promise<void> {
  const { peer, until } = w;
  stack.hci.hci_power_control(C.HCI_POWER_ON);
  until(() => stack.hci.hci_get_state() === C.HCI_STATE_WORKING, 'host working');
  await drive(stack, peer, peer_addr, size, until, {
    limits: { inquiry: 120_000, l2cap_open: 120_000, rfcomm_open: 120_000, data: 600_000 },
    back: true,
  });
}
