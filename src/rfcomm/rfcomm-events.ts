/**
 * RFCOMM events, byte-exact per code profile, delivered with the channel argument BTstack passes:
 *
 * | event                              | layout (v1.4 / v1.8)                         | channel arg |
 * |------------------------------------|----------------------------------------------|-------------|
 * | RFCOMM_EVENT_INCOMING_CONNECTION   | B12 (11 bytes) / B12H (13 bytes)             | 0           |
 * | RFCOMM_EVENT_CHANNEL_OPENED        | 1B21221 + reserved byte (18 bytes)           | 0           |
 * | RFCOMM_EVENT_CHANNEL_CLOSED        | 2                                            | 0           |
 * | RFCOMM_EVENT_REMOTE_LINE_STATUS    | 21                                           | 0           |
 * | RFCOMM_EVENT_REMOTE_MODEM_STATUS   | 21 (5 bytes, with the cid in both profiles)  | rfcomm_cid  |
 * | RFCOMM_EVENT_PORT_CONFIGURATION    | 7 RPN octets (9 bytes) / cid, remote, 7 RPN octets (12 bytes) | rfcomm_cid |
 * | RFCOMM_EVENT_CAN_SEND_NOW          | 2                                            | rfcomm_cid  |
 *
 * The generated builders of the stack's profile write every event that has an @format;
 * RFCOMM_EVENT_PORT_CONFIGURATION has none in either release and is written here. v1.4.1 emitted
 * REMOTE_MODEM_STATUS without its cid (3 bytes): that bug is not reproduced (see CODES.md).
 * Every event is also written into the packet log, as BTstack's rfcomm.c does before dispatching;
 * buffers, dispatch and logging are the stack's shared mechanism (src/core/event-out.ts).
 */
import type { BdAddr } from '../core/bytes.js';
import { EventOut, type EventPacketLog } from '../core/event-out.js';
import type { Codes } from '../codes/index.js';
import type { RfcommPacketHandler } from './rfcomm-objects.js';

/** RFCOMM_EVENT_PORT_CONFIGURATION: the event code (the same in both profiles). */
const PORT_CONFIGURATION = 0x88;

export class RfcommEvents {
  private readonly out: EventOut;

  /** `packet_log`: the stack's HciDump; every event is logged there before dispatch (BTstack's rfcomm.c). */
  constructor(
    private readonly codes: Codes,
    packet_log: EventPacketLog | null = null,
  ) {
    this.out = new EventOut(packet_log);
  }

  private buffer(): Uint8Array {
    return this.out.buffer();
  }

  private deliver(handler: RfcommPacketHandler | null, channel: number, buf: Uint8Array, size: number): void {
    this.out.to_handler(handler, channel, buf, size);
  }

  incoming_connection(
    handler: RfcommPacketHandler | null,
    addr: BdAddr,
    server_channel: number,
    rfcomm_cid: number,
    con_handle: number,
  ): void {
    const b = this.buffer();
    this.deliver(
      handler,
      0,
      b,
      this.codes.rfcomm_event_incoming_connection_build(b, 0, addr, server_channel, rfcomm_cid, con_handle),
    );
  }

  channel_opened(
    handler: RfcommPacketHandler | null,
    status: number,
    addr: BdAddr,
    con_handle: number,
    server_channel: number,
    rfcomm_cid: number,
    max_frame_size: number,
    incoming: boolean,
  ): void {
    const b = this.buffer();
    const n = this.codes.rfcomm_event_channel_opened_build(
      b,
      0,
      status,
      addr,
      con_handle,
      server_channel,
      rfcomm_cid,
      max_frame_size,
      incoming ? 1 : 0,
    );
    this.deliver(handler, 0, b, n);
  }

  channel_closed(handler: RfcommPacketHandler | null, rfcomm_cid: number): void {
    const b = this.buffer();
    this.deliver(handler, 0, b, this.codes.rfcomm_event_channel_closed_build(b, 0, rfcomm_cid));
  }

  can_send_now(handler: RfcommPacketHandler | null, rfcomm_cid: number): void {
    const b = this.buffer();
    this.deliver(handler, rfcomm_cid, b, this.codes.rfcomm_event_can_send_now_build(b, 0, rfcomm_cid));
  }

  remote_line_status(handler: RfcommPacketHandler | null, rfcomm_cid: number, line_status: number): void {
    const b = this.buffer();
    this.deliver(handler, 0, b, this.codes.rfcomm_event_remote_line_status_build(b, 0, rfcomm_cid, line_status));
  }

  remote_modem_status(handler: RfcommPacketHandler | null, rfcomm_cid: number, modem_status: number): void {
    const b = this.buffer();
    this.deliver(handler, rfcomm_cid, b, this.codes.rfcomm_event_remote_modem_status_build(b, 0, rfcomm_cid, modem_status));
  }

  /**
   * `remote`: false when the peer configured our port (RPN command), true when the settings are
   * the peer's port (RPN response to our query or configuration). v1.4 has no cid/remote octets.
   */
  port_configuration(handler: RfcommPacketHandler | null, rfcomm_cid: number, remote: boolean, rpn: Uint8Array): void {
    const b = this.buffer();
    let p = 0;
    b[p++] = PORT_CONFIGURATION;
    if (this.codes.PROFILE === 'v1.4') {
      b[p++] = 7;
    } else {
      b[p++] = 10;
      b[p++] = rfcomm_cid & 0xff;
      b[p++] = rfcomm_cid >> 8;
      b[p++] = remote ? 1 : 0;
    }
    for (let i = 0; i < 7; i++) b[p++] = rpn[i]!;
    this.deliver(handler, rfcomm_cid, b, p);
  }
}

// ---- getters for RFCOMM_EVENT_PORT_CONFIGURATION (hand-written in BTstack's rfcomm.h since v1.5)
// They read either layout: length byte 7 = v1.4 (RPN octets at 2), 10 = v1.8 (cid, remote, RPN at 5).

function rpnOffset(event: Uint8Array): number {
  if (event.length < 2) return -1;
  const len = event[1]!;
  if (len === 7 && event.length >= 9) return 2;
  if (len >= 10 && event.length >= 12) return 5;
  return -1;
}

function rpnByte(event: Uint8Array, i: number): number {
  const o = rpnOffset(event);
  return o < 0 ? 0 : event[o + i]!;
}

/** rfcomm_cid (v1.8 layout; 0 in the v1.4 layout, where the channel argument carries it). */
export function rfcomm_event_port_configuration_get_rfcomm_cid(event: Uint8Array): number {
  return rpnOffset(event) === 5 ? event[2]! | (event[3]! << 8) : 0;
}
/** true: the settings of the remote port; false: our port as the peer configured it (v1.4: false). */
export function rfcomm_event_port_configuration_get_remote(event: Uint8Array): boolean {
  return rpnOffset(event) === 5 ? event[4] !== 0 : false;
}
/** RPN_BAUD_* */
export function rfcomm_event_port_configuration_get_baud_rate(event: Uint8Array): number {
  return rpnByte(event, 0);
}
/** RPN_DATA_BITS_* code (0 = 5 bits .. 3 = 8 bits). */
export function rfcomm_event_port_configuration_get_data_bits(event: Uint8Array): number {
  return rpnByte(event, 1) & 3;
}
/** RPN_STOP_BITS_* */
export function rfcomm_event_port_configuration_get_stop_bits(event: Uint8Array): number {
  return (rpnByte(event, 1) >> 2) & 1;
}
/** RPN_PARITY_* */
export function rfcomm_event_port_configuration_get_parity(event: Uint8Array): number {
  return (rpnByte(event, 1) >> 3) & 7;
}
/** RPN_FLOW_CONTROL_* bits. */
export function rfcomm_event_port_configuration_get_flow_control(event: Uint8Array): number {
  return rpnByte(event, 2) & 0x3f;
}
export function rfcomm_event_port_configuration_get_xon(event: Uint8Array): number {
  return rpnByte(event, 3);
}
export function rfcomm_event_port_configuration_get_xoff(event: Uint8Array): number {
  return rpnByte(event, 4);
}
export function rfcomm_event_port_configuration_get_parameter_mask_0(event: Uint8Array): number {
  return rpnByte(event, 5);
}
export function rfcomm_event_port_configuration_get_parameter_mask_1(event: Uint8Array): number {
  return rpnByte(event, 6);
}
