/**
 * The part of the L2CAP layer that SDP uses, with BTstack's names. The real L2CAP layer
 * (`src/l2cap/l2cap.ts`) provides it; unit tests give SDP a fake channel with the same
 * contract (`test/unit/sdp/fake-l2cap.ts`).
 *
 * Events reach the handler registered for the service / passed to create_channel as
 * `(HCI_EVENT_PACKET, 0, event, size)` (L2CAP_EVENT_INCOMING_CONNECTION, CHANNEL_OPENED,
 * CHANNEL_CLOSED, CAN_SEND_NOW, in the stack's code profile) and data as
 * `(L2CAP_DATA_PACKET, local_cid, payload, size)`. Packets are views valid during the call only.
 */
import type { BdAddr } from '../core/bytes.js';
import type { Logger } from '../core/log.js';
import type { Pools } from '../core/config.js';
import type { Codes } from '../codes/index.js';

export type SdpPacketHandler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => void;

export interface SdpL2cap {
  /** Returns 0 or a status (L2CAP_SERVICE_ALREADY_REGISTERED, BTSTACK_MEMORY_ALLOC_FAILED). */
  l2cap_register_service(handler: SdpPacketHandler, psm: number, mtu: number, security_level: number): number;
  l2cap_unregister_service(psm: number): number;
  /** Returns 0 or a status; the result arrives as L2CAP_EVENT_CHANNEL_OPENED. Extra arguments (out cid) are optional. */
  l2cap_create_channel(handler: SdpPacketHandler, address: BdAddr, psm: number, mtu: number): number | { status: number };
  l2cap_accept_connection(local_cid: number): unknown;
  l2cap_decline_connection(local_cid: number): unknown;
  l2cap_request_can_send_now_event(local_cid: number): unknown;
  /** Copies the data before returning; 0 or a status. */
  l2cap_send(local_cid: number, data: Uint8Array, len: number): number;
  l2cap_disconnect(local_cid: number): unknown;
  /** Largest incoming MTU the layer accepts (BTstack's l2cap_max_mtu). */
  l2cap_max_mtu?(): number;
}

/** What SDP needs from its Stack. */
export interface SdpStackLike {
  readonly pools: Pools;
  readonly codes: Codes;
  readonly log: Logger;
  l2cap?: unknown;
}

/** Status of l2cap_create_channel whatever shape the L2CAP layer returns it in. */
export function create_channel_status(result: number | { status: number } | unknown): number {
  if (typeof result === 'number') return result;
  if (Array.isArray(result) && typeof result[0] === 'number') return result[0];
  if (result && typeof result === 'object' && typeof (result as { status?: unknown }).status === 'number') return (result as { status: number }).status;
  return 0;
}
