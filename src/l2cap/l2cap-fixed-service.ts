/**
 * L2capFixedChannelService: the contract between L2CAP and the layers that live on LE fixed
 * channels (ATT server, GATT client: CID 0x0004; Security Manager: CID 0x0006). Names and
 * behaviour are BTstack's l2cap.h fixed-channel API. `L2cap` implements it; the ATT/GATT/SM unit
 * tests fake it (test/helpers/fake-l2cap-fixed.ts).
 *
 * Delivery, as BTstack's l2cap.c:
 * - data on a fixed channel reaches the channel's handler as `(ATT_DATA_PACKET, con_handle, pdu,
 *   size)` for CID 0x0004 and `(SM_DATA_PACKET, con_handle, pdu, size)` for CID 0x0006 (the PDU
 *   without the basic L2CAP header; a view valid during the call only);
 * - after `l2cap_request_can_send_fix_channel_now_event`, exactly one L2CAP_EVENT_CAN_SEND_NOW
 *   (local_cid = the fixed channel id) reaches that handler as `(HCI_EVENT_PACKET, con_handle,
 *   event, size)` once the connection can take a packet;
 * - connection and disconnection are not reported here: users listen to HCI events
 *   (HCI_EVENT_LE_META / LE Connection Complete, HCI_EVENT_DISCONNECTION_COMPLETE) through
 *   `hci_add_event_handler`.
 */
import type { PacketHandler } from '../hci/hci-service.js';

export interface L2capFixedChannelService {
  /** BTstack's l2cap_register_fixed_channel: one handler per fixed channel id (replaces). */
  l2cap_register_fixed_channel(handler: PacketHandler, channel_id: number): void;
  /** True when l2cap_send_connectionless(con_handle, channel_id, ...) would go out now. */
  l2cap_can_send_fixed_channel_packet_now(con_handle: number, channel_id: number): boolean;
  /** Ask for one L2CAP_EVENT_CAN_SEND_NOW on that channel's handler. */
  l2cap_request_can_send_fix_channel_now_event(con_handle: number, channel_id: number): void;
  /**
   * BTstack's l2cap_send_connectionless(con_handle, cid, data, len): send one PDU on a fixed
   * channel (copied before returning). 0, or ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
   * BTSTACK_ACL_BUFFERS_FULL, L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU.
   */
  l2cap_send_connectionless(con_handle: number, channel_id: number, data: Uint8Array, len: number): number;
}
