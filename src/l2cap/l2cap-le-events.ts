/**
 * The LE events of L2CAP in the stack's code profile (BTstack's layouts, built by the generated
 * builders, logged like every L2CAP event):
 *
 * | what                   | v1.4 (BTstack 1.4.1)                  | v1.8 (BTstack >= 1.5)               |
 * |------------------------|---------------------------------------|-------------------------------------|
 * | incoming CBM channel   | L2CAP_EVENT_LE_INCOMING_CONNECTION 0x79 (address_type always 1, as l2cap.c hard-codes) | L2CAP_EVENT_CBM_INCOMING_CONNECTION 0x7C |
 * | CBM channel opened     | L2CAP_EVENT_LE_CHANNEL_OPENED 0x7A    | L2CAP_EVENT_CBM_CHANNEL_OPENED 0x7D |
 * | ECBM incoming / opened | (none: v1.4 has no ECBM)              | ECBM_INCOMING_CONNECTION 0x7F / ECBM_CHANNEL_OPENED 0x8A |
 * | channel closed         | LE_CHANNEL_CLOSED 0x7B; CHANNEL_CLOSED 0x71 when the remote disconnected | CHANNEL_CLOSED 0x71 |
 * | can send now           | LE_CAN_SEND_NOW 0x7C                  | CAN_SEND_NOW 0x79                   |
 * | SDU sent               | LE_PACKET_SENT 0x7D                   | PACKET_SENT 0x7A                    |
 * | fixed channel can send | CAN_SEND_NOW 0x78 (local_cid = fixed CID) | CAN_SEND_NOW 0x79               |
 * | connection parameters  | CONNECTION_PARAMETER_UPDATE_REQUEST 0x76 / _RESPONSE 0x77 to the event handlers |  same |
 *
 * Channel events go to the channel's handler with channel = local cid; fixed-channel CAN_SEND_NOW
 * to the fixed channel's handler with channel = con_handle; parameter update events to the
 * l2cap_add_event_handler / l2cap_register_packet_handler handlers with channel 0.
 */
import type { Codes } from '../codes/index.js';
import type { PacketHandler } from '../hci/hci-service.js';
import type { L2capCbmChannel } from './l2cap-le-objects.js';
import type { L2capLeState } from './l2cap-le-state.js';
import type { L2capState } from './l2cap-state.js';

/** BD_ADDR_TYPE_LE_RANDOM: what BTstack 1.4.1 puts in LE_INCOMING_CONNECTION whatever the peer's type. */
const V14_INCOMING_ADDRESS_TYPE = 1;

export class L2capLeEvents {
  private readonly codes: Codes;
  private readonly le: L2capLeState;

  constructor(private readonly s: L2capState) {
    this.codes = s.codes;
    this.le = s.le;
  }

  private toChannel(ch: L2capCbmChannel, buf: Uint8Array, n: number): void {
    this.le.out.to_handler(ch.handler, ch.local_cid, buf, n);
  }

  incoming(ch: L2capCbmChannel, num_channels = 1): void {
    const c = this.codes;
    const buf = this.le.out.buffer();
    let n: number;
    if (c.PROFILE === 'v1.4') {
      n = c.l2cap_event_le_incoming_connection_build(
        buf,
        0,
        V14_INCOMING_ADDRESS_TYPE,
        ch.address,
        ch.con_handle,
        ch.psm,
        ch.local_cid,
        ch.remote_cid,
        ch.remote_mtu,
      );
    } else if (ch.enhanced) {
      n = c.l2cap_event_ecbm_incoming_connection_build(
        buf,
        0,
        ch.address_type,
        ch.address,
        ch.con_handle,
        ch.psm,
        num_channels,
        ch.local_cid,
      );
    } else {
      n = c.l2cap_event_cbm_incoming_connection_build(
        buf,
        0,
        ch.address_type,
        ch.address,
        ch.con_handle,
        ch.psm,
        ch.local_cid,
        ch.remote_cid,
        ch.remote_mtu,
      );
    }
    this.toChannel(ch, buf, n);
  }

  opened(ch: L2capCbmChannel, status: number): void {
    const c = this.codes;
    const buf = this.le.out.buffer();
    const args = [
      status & 0xff,
      ch.address_type,
      ch.address,
      ch.con_handle,
      ch.incoming ? 1 : 0,
      ch.psm,
      ch.local_cid,
      ch.remote_cid,
      ch.local_mtu,
      ch.remote_mtu,
    ] as const;
    let n: number;
    if (c.PROFILE === 'v1.4') n = c.l2cap_event_le_channel_opened_build(buf, 0, ...args);
    else if (ch.enhanced) n = c.l2cap_event_ecbm_channel_opened_build(buf, 0, ...args);
    else n = c.l2cap_event_cbm_channel_opened_build(buf, 0, ...args);
    if (status !== 0)
      this.s.log.info(() => `L2CAP LE channel 0x${ch.local_cid.toString(16)} not opened: status 0x${status.toString(16)}`);
    this.toChannel(ch, buf, n);
  }

  closed(ch: L2capCbmChannel): void {
    const c = this.codes;
    const buf = this.le.out.buffer();
    const n =
      c.PROFILE === 'v1.4' && !ch.closed_by_remote
        ? c.l2cap_event_le_channel_closed_build(buf, 0, ch.local_cid)
        : c.l2cap_event_channel_closed_build(buf, 0, ch.local_cid);
    this.s.log.info(() => `L2CAP LE channel 0x${ch.local_cid.toString(16)} closed`);
    this.toChannel(ch, buf, n);
  }

  canSendNow(ch: L2capCbmChannel): void {
    const c = this.codes;
    const buf = this.le.out.buffer();
    const n =
      c.PROFILE === 'v1.4'
        ? c.l2cap_event_le_can_send_now_build(buf, 0, ch.local_cid)
        : c.l2cap_event_can_send_now_build(buf, 0, ch.local_cid);
    this.toChannel(ch, buf, n);
  }

  packetSent(ch: L2capCbmChannel): void {
    const c = this.codes;
    const buf = this.le.out.buffer();
    const n =
      c.PROFILE === 'v1.4'
        ? c.l2cap_event_le_packet_sent_build(buf, 0, ch.local_cid)
        : c.l2cap_event_packet_sent_build(buf, 0, ch.local_cid);
    this.toChannel(ch, buf, n);
  }

  /** ECBM: the remote reconfigured a channel (v1.8 only). */
  reconfigured(ch: L2capCbmChannel): void {
    const c = this.codes;
    if (c.PROFILE !== 'v1.8') return;
    const buf = this.le.out.buffer();
    this.toChannel(ch, buf, c.l2cap_event_ecbm_reconfigured_build(buf, 0, ch.remote_cid, ch.remote_mtu, ch.remote_mps));
  }

  /** ECBM: our reconfiguration finished (v1.8 only). */
  reconfigurationComplete(ch: L2capCbmChannel, result: number): void {
    const c = this.codes;
    if (c.PROFILE !== 'v1.8') return;
    const buf = this.le.out.buffer();
    this.toChannel(ch, buf, c.l2cap_event_ecbm_reconfiguration_complete_build(buf, 0, ch.local_cid, result));
  }

  /** L2CAP_EVENT_CAN_SEND_NOW for a fixed channel: to its handler, channel = con_handle. */
  fixedCanSendNow(handler: PacketHandler, con_handle: number, cid: number): void {
    const buf = this.le.out.buffer();
    this.le.out.to_handler(handler, con_handle, buf, this.codes.l2cap_event_can_send_now_build(buf, 0, cid));
  }

  connectionParameterUpdateRequest(handle: number, min: number, max: number, latency: number, timeout: number): void {
    const buf = this.le.out.buffer();
    const n = this.codes.l2cap_event_connection_parameter_update_request_build(buf, 0, handle, min, max, latency, timeout);
    this.le.out.to_list(this.s.events.handlers, 0, buf, n);
  }

  connectionParameterUpdateResponse(handle: number, result: number): void {
    const buf = this.le.out.buffer();
    const n = this.codes.l2cap_event_connection_parameter_update_response_build(buf, 0, handle, result);
    this.le.out.to_list(this.s.events.handlers, 0, buf, n);
  }
}
