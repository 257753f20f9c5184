/**
 * The SDP server's L2CAP side (BTstack's sdp_packet_handler): accepts channels on PSM 1 (declines
 * when the channel pool is empty), answers one request at a time on L2CAP_EVENT_CAN_SEND_NOW,
 * retries on BTSTACK_ACL_BUFFERS_FULL, and answers pipelined requests with ErrorResponse 0x0006
 * in arrival order (disconnecting a client that breaks more than SDP_SERVER_OWED_RUNS runs).
 */
import { HCI_EVENT_PACKET, L2CAP_DATA_PACKET, BTSTACK_ACL_BUFFERS_FULL, ERROR_CODE_SUCCESS } from '../codes/v1.4.js';
import type { L2capService } from '../l2cap/l2cap-service.js';
import { SDP_ERROR_INSUFFICIENT_RESOURCES, sdp_encode_error_response } from './pdu.js';
import { SDP_SERVER_OWED_RUNS, type SdpServerChannel } from './server-channel.js';
import type { ContinuationSlot } from './server-responder.js';
import type { SdpServerState } from './server-state.js';

/** What the L2CAP side needs from the request handling (server-responder.ts's SdpResponder). */
export interface SdpServerRequests {
  /** Answer req[pos .. pos+len) into out, at most `mtu` octets; returns the response size (> 0). */
  handle_request(req: Uint8Array, pos: number, len: number, mtu: number, slot: ContinuationSlot, out: Uint8Array): number;
}

export class SdpServerL2cap {
  constructor(
    private readonly s: SdpServerState,
    private readonly requests: SdpServerRequests,
  ) {}

  /** The packet handler registered for PSM 1. */
  packetHandler(packet_type: number, channel: number, packet: Uint8Array, size: number): void {
    const l2cap = this.s.l2cap;
    if (!l2cap) return;
    if (packet_type === L2CAP_DATA_PACKET) {
      this.request(l2cap, channel, packet, size);
      return;
    }
    if (packet_type !== HCI_EVENT_PACKET || size < 2) return;
    const s = this.s;
    const codes = s.codes;
    switch (packet[0]) {
      case codes.L2CAP_EVENT_INCOMING_CONNECTION: {
        const cid = codes.l2cap_event_incoming_connection_get_local_cid(packet);
        if (s.channel(cid)) return;
        const c = s.channels.get();
        if (!c) {
          s.log.info(() => `sdp: no free SDP channel, declining cid 0x${cid.toString(16)}`);
          l2cap.l2cap_decline_connection(cid);
          return;
        }
        c.local_cid = cid;
        l2cap.l2cap_accept_connection(cid);
        return;
      }
      case codes.L2CAP_EVENT_CHANNEL_OPENED: {
        const c = s.channel(codes.l2cap_event_channel_opened_get_local_cid(packet));
        if (!c) return;
        if (codes.l2cap_event_channel_opened_get_status(packet) !== 0) {
          s.channels.free(c);
          return;
        }
        c.open = true;
        c.remote_mtu = codes.l2cap_event_channel_opened_get_remote_mtu(packet);
        return;
      }
      case codes.L2CAP_EVENT_CAN_SEND_NOW: {
        const c = s.channel(codes.l2cap_event_can_send_now_get_local_cid(packet));
        if (c && c.open) this.send(l2cap, c);
        return;
      }
      case codes.L2CAP_EVENT_CHANNEL_CLOSED: {
        const c = s.channel(codes.l2cap_event_channel_closed_get_local_cid(packet));
        if (c) s.channels.free(c);
        return;
      }
      default:
        return;
    }
  }

  /** A request PDU on `channel`: answer it, or owe it an ErrorResponse if an answer is still owed. */
  private request(l2cap: L2capService, channel: number, packet: Uint8Array, size: number): void {
    const s = this.s;
    const c = s.channel(channel);
    if (!c || !c.open) return;
    if (c.pending || c.owed.total) {
      // pipelined: answered with an ErrorResponse after the answers owed before it
      const n = Math.min(size, packet.length);
      const tid = n >= 3 ? (packet[1]! << 8) | packet[2]! : 0;
      if (c.owed.add(tid)) {
        s.log.info(
          () =>
            `sdp: request 0x${tid.toString(16)} on cid 0x${channel.toString(16)} while an answer is owed: ErrorResponse insufficient resources`,
        );
      } else {
        s.log.error(
          () =>
            `sdp: client on cid 0x${channel.toString(16)} pipelines beyond ${SDP_SERVER_OWED_RUNS} runs of requests: disconnecting`,
        );
        l2cap.l2cap_disconnect(c.local_cid);
      }
      return;
    }
    const mtu = Math.min(c.remote_mtu, c.response.length);
    c.pending = this.requests.handle_request(packet, 0, Math.min(size, packet.length), mtu, c.slot, c.response);
    l2cap.l2cap_request_can_send_now_event(c.local_cid);
  }

  /** CAN_SEND_NOW: send the pending response, else the oldest owed ErrorResponse. */
  private send(l2cap: L2capService, c: SdpServerChannel): void {
    // the pending response is older than every owed ErrorResponse
    const owedError = c.pending === 0;
    if (owedError) {
      if (c.owed.total === 0) return;
      c.pending = sdp_encode_error_response(c.response, 0, c.owed.peek(), SDP_ERROR_INSUFFICIENT_RESOURCES);
    }
    const status = l2cap.l2cap_send(c.local_cid, c.response, c.pending);
    if (status === BTSTACK_ACL_BUFFERS_FULL) {
      if (owedError) c.pending = 0;
      l2cap.l2cap_request_can_send_now_event(c.local_cid);
      return;
    }
    if (status !== ERROR_CODE_SUCCESS)
      this.s.log.error(`sdp: l2cap_send on cid 0x${c.local_cid.toString(16)} failed, status 0x${status.toString(16)}`);
    c.pending = 0;
    if (owedError) c.owed.shift();
    if (c.owed.total) l2cap.l2cap_request_can_send_now_event(c.local_cid);
  }
}
