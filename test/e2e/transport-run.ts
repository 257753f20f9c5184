/**
 * One run over a real transport, for the transport end-to-end tests (BCM patch + baud switch, H5):
 * the stack under test (its transport on a socat pty of serve_controllers) inquires and finds an
 * in-process peer on the same radio, opens an L2CAP channel and an RFCOMM channel to it and moves
 * `size` bytes over each, in real time (the driver: test/helpers/inquire-move.ts).
 */
import type { BdAddr } from '../../src/core/bytes.js';
import type { Stack } from '../../src/stack.js';
import { inquire_and_move as drive, type MoveResult } from '../helpers/inquire-move.js';
import { until } from '../pty/pty-helpers.js';

/** Inquiry, L2CAP and RFCOMM with `size` bytes each; both stacks WORKING on one run loop. */
export function inquire_and_move(stack: Stack, peer: Stack, peer_addr: BdAddr, size: number, ms = 60_000): Promise<MoveResult> {
  return drive(stack, peer, peer_addr, size, (pred, what, max) => until(pred, max, what), {
    limits: { inquiry: 10_000, l2cap_open: 10_000, rfcomm_open: 20_000, data: ms },
  });
}
