/**
 * The events L2CAP emits, built with the stack's code profile (byte-exact BTstack layouts):
 * L2CAP_EVENT_CHANNEL_OPENED (26 bytes; mode L2CAP_CHANNEL_MODE_*, fcs 1 when the ERTM /
 * streaming channel uses the FCS, both 0 in Basic mode), ERTM_BUFFER_RELEASED, CHANNEL_CLOSED,
 * INCOMING_CONNECTION, CAN_SEND_NOW (0x78 in v1.4, 0x79 in v1.8) to the channel's handler with
 * channel = local cid, and L2CAP_EVENT_INFORMATION_RESPONSE (v1.8 only) to the event handlers.
 * Every one is also written into the packet log, as BTstack's l2cap.c does before dispatching.
 * Buffers, dispatch and logging: the stack's shared mechanism (src/core/event-out.ts).
 */
import type { Logger } from '../core/log.js';
import { EventOut, RegistrationList, type EventPacketLog } from '../core/event-out.js';
import type { Codes } from '../codes/index.js';
import type { L2capCallbackRegistration, L2capChannel, L2capLink } from './l2cap-objects.js';

export class L2capEvents {
  private readonly out: EventOut;
  /** l2cap_add_event_handler registrations. */
  readonly handlers = new RegistrationList<L2capCallbackRegistration>();

  constructor(
    private readonly codes: Codes,
    private readonly log: Logger,
    packet_log: EventPacketLog | null = null,
  ) {
    this.out = new EventOut(packet_log);
  }

  private buffer(): Uint8Array {
    return this.out.buffer();
  }

  private toChannel(ch: L2capChannel, packet: Uint8Array, size: number): void {
    this.out.to_handler(ch.handler, ch.local_cid, packet, size);
  }

  private toHandlers(packet: Uint8Array, size: number): void {
    this.out.to_list(this.handlers, 0, packet, size);
  }

  channelOpened(ch: L2capChannel, status: number): void {
    const buf = this.buffer();
    const n = this.codes.l2cap_event_channel_opened_build(
      buf,
      0,
      status & 0xff,
      ch.address,
      ch.con_handle,
      ch.psm,
      ch.local_cid,
      ch.remote_cid,
      ch.local_mtu,
      ch.remote_mtu,
      ch.flush_timeout,
      ch.incoming ? 1 : 0,
      ch.mode,
      ch.mode !== 0 && ch.ertm_cfg.fcs_in_use ? 1 : 0,
    );
    if (status !== 0)
      this.log.info(() => `L2CAP_EVENT_CHANNEL_OPENED status 0x${status.toString(16)} local cid 0x${ch.local_cid.toString(16)}`);
    this.toChannel(ch, buf, n);
  }

  channelClosed(ch: L2capChannel): void {
    const buf = this.buffer();
    const n = this.codes.l2cap_event_channel_closed_build(buf, 0, ch.local_cid);
    this.log.info(() => `L2CAP_EVENT_CHANNEL_CLOSED local cid 0x${ch.local_cid.toString(16)}`);
    this.toChannel(ch, buf, n);
  }

  incomingConnection(ch: L2capChannel): void {
    const buf = this.buffer();
    const n = this.codes.l2cap_event_incoming_connection_build(
      buf,
      0,
      ch.address,
      ch.con_handle,
      ch.psm,
      ch.local_cid,
      ch.remote_cid,
    );
    this.toChannel(ch, buf, n);
  }

  /** L2CAP_EVENT_ERTM_BUFFER_RELEASED (0x7E in v1.4, 0x7B in v1.8): the application's ERTM buffer is free again. */
  ertmBufferReleased(ch: L2capChannel): void {
    const buf = this.buffer();
    const n = this.codes.l2cap_event_ertm_buffer_released_build(buf, 0, ch.local_cid);
    this.toChannel(ch, buf, n);
  }

  canSendNow(ch: L2capChannel): void {
    const buf = this.buffer();
    const n = this.codes.l2cap_event_can_send_now_build(buf, 0, ch.local_cid);
    this.toChannel(ch, buf, n);
  }

  /** v1.8's L2CAP_EVENT_INFORMATION_RESPONSE (H22: handle, features and fixed channels as 16 bit); v1.4 has none. */
  informationResponse(link: L2capLink): void {
    const codes = this.codes;
    if (codes.PROFILE !== 'v1.8') return;
    const buf = this.buffer();
    const n = codes.l2cap_event_information_response_build(
      buf,
      0,
      link.con_handle,
      link.extended_features & 0xffff,
      link.fixed_channels & 0xffff,
    );
    this.toHandlers(buf, n);
  }
}
