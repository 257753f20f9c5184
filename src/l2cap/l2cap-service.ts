/**
 * L2capService: the one contract between L2CAP and the layers above it (RFCOMM, SDP server and
 * client, and later ATT/SM/CBM users). The real L2CAP layer (`L2cap`, src/l2cap/l2cap.ts)
 * implements it; unit tests of the layers above use the shared fake in test/helpers/fake-l2cap.ts,
 * which implements the same interface. Names and return values are BTstack's (l2cap.h), with the
 * one difference of the whole project: l2cap_create_channel returns `{ status, local_cid }`
 * instead of taking an out parameter.
 *
 * Events reach the handler registered for a service / passed to l2cap_create_channel as
 * `(HCI_EVENT_PACKET, 0, event, size)` (L2CAP_EVENT_INCOMING_CONNECTION, CHANNEL_OPENED,
 * CHANNEL_CLOSED, CAN_SEND_NOW in the stack's code profile), data as
 * `(L2CAP_DATA_PACKET, local_cid, sdu, size)`. Packets are views valid during the call only.
 */
import type { BdAddr } from '../core/bytes.js';

/** BTstack's btstack_packet_handler_t. */
export type L2capServicePacketHandler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => void;

/** Result of l2cap_create_channel: status 0 (the outcome follows as L2CAP_EVENT_CHANNEL_OPENED) or an error, and the channel's local cid (0 on error). */
export interface L2capCreateChannelResult {
  status: number;
  local_cid: number;
}

export interface L2capService {
  /** 0, L2CAP_SERVICE_ALREADY_REGISTERED or BTSTACK_MEMORY_ALLOC_FAILED. */
  l2cap_register_service(handler: L2capServicePacketHandler, psm: number, mtu: number, security_level: number): number;
  /** 0 or L2CAP_SERVICE_DOES_NOT_EXIST. */
  l2cap_unregister_service(psm: number): number;
  l2cap_create_channel(handler: L2capServicePacketHandler, address: BdAddr, psm: number, mtu: number): L2capCreateChannelResult;
  /** 0 or L2CAP_LOCAL_CID_DOES_NOT_EXIST / ERROR_CODE_COMMAND_DISALLOWED. */
  l2cap_accept_connection(local_cid: number): number;
  l2cap_decline_connection(local_cid: number): number;
  l2cap_disconnect(local_cid: number): number;
  /** 0 or L2CAP_LOCAL_CID_DOES_NOT_EXIST; L2CAP_EVENT_CAN_SEND_NOW follows from the run loop. */
  l2cap_request_can_send_now_event(local_cid: number): number;
  l2cap_can_send_packet_now(local_cid: number): boolean;
  /** Copies the data before returning; 0 or a status (BTSTACK_ACL_BUFFERS_FULL, L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU, ...). */
  l2cap_send(local_cid: number, data: Uint8Array, len: number): number;
  /** Largest incoming MTU the layer accepts (BTstack's l2cap_max_mtu). */
  l2cap_max_mtu(): number;
  /**
   * Zero-copy send path (BTstack's l2cap_reserve_packet_buffer & co.): reserve, write the SDU at
   * index 0 of l2cap_get_outgoing_buffer(), then l2cap_send_prepared, which releases the buffer
   * whatever the outcome.
   */
  l2cap_reserve_packet_buffer(): boolean;
  l2cap_get_outgoing_buffer(): Uint8Array;
  l2cap_send_prepared(local_cid: number, len: number): number;
  l2cap_release_packet_buffer(): void;
}
