/**
 * The part of the L2CAP layer that RFCOMM uses, with BTstack's names. The real L2CAP layer
 * (`src/l2cap/l2cap.ts`) provides it; unit tests give RFCOMM a fake with the same contract
 * (`test/unit/rfcomm/rfcomm-fake-l2cap.ts`).
 *
 * Events reach the handler registered for PSM 3 / passed to l2cap_create_channel as
 * `(HCI_EVENT_PACKET, 0, event, size)` (L2CAP_EVENT_INCOMING_CONNECTION, CHANNEL_OPENED,
 * CHANNEL_CLOSED, CAN_SEND_NOW in the stack's code profile) and data as
 * `(L2CAP_DATA_PACKET, local_cid, sdu, size)`. Packets are views valid during the call only.
 */
import type { BdAddr } from '../core/bytes.js';
import type { Logger } from '../core/log.js';
import type { EventPacketLog } from '../core/event-out.js';
import type { Pools } from '../core/config.js';
import type { RunLoop } from '../core/run-loop.js';
import type { Codes } from '../codes/index.js';

/** BTstack's btstack_packet_handler_t. */
export type RfcommPacketHandler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => void;

export interface RfcommL2cap {
  /** 0 or a status (L2CAP_SERVICE_ALREADY_REGISTERED, BTSTACK_MEMORY_ALLOC_FAILED). */
  l2cap_register_service(handler: RfcommPacketHandler, psm: number, mtu: number, security_level: number): number;
  l2cap_unregister_service(psm: number): unknown;
  /**
   * 0 or a status; the result arrives as L2CAP_EVENT_CHANNEL_OPENED. The local cid may come back
   * in the result ({ status, local_cid } or [status, local_cid]); RFCOMM also learns it from the
   * CHANNEL_OPENED event, so a bare status is enough.
   */
  l2cap_create_channel(handler: RfcommPacketHandler, address: BdAddr, psm: number, mtu: number): unknown;
  l2cap_accept_connection(local_cid: number): unknown;
  l2cap_decline_connection(local_cid: number): unknown;
  l2cap_request_can_send_now_event(local_cid: number): unknown;
  l2cap_can_send_packet_now(local_cid: number): boolean;
  /** Copies the data before returning; 0 or a status. */
  l2cap_send(local_cid: number, data: Uint8Array, len: number): number;
  l2cap_disconnect(local_cid: number): unknown;
  /** Largest incoming MTU the layer accepts (BTstack's l2cap_max_mtu). */
  l2cap_max_mtu?(): number;
  /**
   * Optional zero-copy path (BTstack's l2cap_reserve_packet_buffer & co.): when all four exist,
   * RFCOMM writes data frames straight into L2CAP's outgoing buffer. l2cap_send_prepared releases
   * the buffer whatever the outcome; the SDU starts at index 0 of l2cap_get_outgoing_buffer().
   */
  l2cap_reserve_packet_buffer?(): boolean;
  l2cap_get_outgoing_buffer?(): Uint8Array;
  l2cap_send_prepared?(local_cid: number, len: number): number;
  l2cap_release_packet_buffer?(): void;
}

/** An L2CAP layer with the zero-copy send path. */
export type RfcommL2capPrepared = RfcommL2cap & Required<Pick<RfcommL2cap, 'l2cap_reserve_packet_buffer' | 'l2cap_get_outgoing_buffer' | 'l2cap_send_prepared' | 'l2cap_release_packet_buffer'>>;

export function l2cap_has_prepared(l2cap: RfcommL2cap | null): l2cap is RfcommL2capPrepared {
  return (
    !!l2cap &&
    typeof l2cap.l2cap_reserve_packet_buffer === 'function' &&
    typeof l2cap.l2cap_get_outgoing_buffer === 'function' &&
    typeof l2cap.l2cap_send_prepared === 'function' &&
    typeof l2cap.l2cap_release_packet_buffer === 'function'
  );
}

/** What RFCOMM needs from its Stack. */
export interface RfcommStackLike {
  readonly run_loop: RunLoop;
  readonly pools: Pools;
  readonly codes: Codes;
  readonly log: Logger;
  /** Packet log for RFCOMM's events (the stack's HciDump); none: not logged. */
  readonly dump?: EventPacketLog;
  l2cap?: unknown;
}

/** Status and local cid of l2cap_create_channel, whatever shape the L2CAP layer returns them in (cid 0 = unknown). */
export function l2cap_create_result(result: unknown): { status: number; local_cid: number } {
  if (typeof result === 'number') return { status: result, local_cid: 0 };
  if (Array.isArray(result)) {
    const status = typeof result[0] === 'number' ? result[0] : 0;
    const cid = typeof result[1] === 'number' ? result[1] : 0;
    return { status, local_cid: cid };
  }
  if (result && typeof result === 'object') {
    const r = result as { status?: unknown; local_cid?: unknown; cid?: unknown };
    const status = typeof r.status === 'number' ? r.status : 0;
    const cid = typeof r.local_cid === 'number' ? r.local_cid : typeof r.cid === 'number' ? r.cid : 0;
    return { status, local_cid: cid };
  }
  return { status: 0, local_cid: 0 };
}
