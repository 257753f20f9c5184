/**
 * The device a `bthost` command meets when it runs without `--port`: a second bthost stack on
 * the same simulated radio, at a fixed address, with services to talk to:
 *
 *   address          C0:FF:EE:00:00:02 (the command's own virtual controller is C0:FF:EE:00:00:01)
 *   name             "bthost virtual peer", discoverable (classic inquiry) and advertising (LE)
 *   L2CAP PSM 0x1001 echo: sends back what it receives (up to 256 KiB queued; more is dropped)
 *   L2CAP PSM 0x1003 discard: swallows everything (for throughput)
 *   SPP channel 1    echo (RFCOMM credits hold the sender back while the echo is queued)
 *   SPP channel 2    discard
 *   SDP              records for both SPP services
 *   L2CAP echo       answers l2ping (the L2CAP layer does this by itself)
 *   LE GATT server   device name, battery level, a notifying counter, a writable note
 *                    (ports/cli/virtual-peer-gatt.ts)
 *
 * For `l2cap listen` / `spp listen` the peer dials in: it connects to the listening PSM or
 * (found by SDP) RFCOMM channel, sends a greeting line and echoes, or with `send_bytes` sends
 * that many bytes and disconnects.
 */
import { sscanf_bd_addr, type BdAddr } from '../../src/core/bytes.js';
import type { RunLoop } from '../../src/core/run-loop.js';
import type { CodeProfile } from '../../src/codes/index.js';
import {
  HCI_EVENT_PACKET,
  HCI_POWER_ON,
  HCI_STATE_WORKING,
  L2CAP_DATA_PACKET,
  LEVEL_0,
  RFCOMM_DATA_PACKET,
} from '../../src/codes/v1.4.js';
import { RadioLink } from '../../src/controller/link.js';
import { VirtualTransport } from '../virtual/transport.js';
import { Stack } from '../../src/stack.js';
import { SdpServer } from '../../src/sdp/server.js';
import { SdpClient } from '../../src/sdp/client.js';
import { spp_create_sdp_record } from '../../src/sdp/spp.js';
import { BLUETOOTH_SERVICE_CLASS_SERIAL_PORT } from '../../src/sdp/constants.js';
import { serve_peer_gatt } from './virtual-peer-gatt.js';

export const VIRTUAL_HOST_ADDR = 'C0:FF:EE:00:00:01';
export const VIRTUAL_PEER_ADDR = 'C0:FF:EE:00:00:02';
export const PEER_NAME = 'bthost virtual peer';
export const PEER_PSM_ECHO = 0x1001;
export const PEER_PSM_DISCARD = 0x1003;
export const PEER_SPP_ECHO_CHANNEL = 1;
export const PEER_SPP_DISCARD_CHANNEL = 2;
export const PEER_GREETING = 'hello from the bthost virtual peer\n';
export const VIRTUAL_HEADSET_ADDR = 'C0:FF:EE:00:00:03';
export const HEADSET_NAME = 'bthost virtual headset';

/**
 * A second, classic-only device on the virtual radio: discoverable, connectable, no name in its
 * Extended Inquiry Response (scan asks for it with Remote Name Request), no services.
 */
export function create_virtual_headset(link: RadioLink, run_loop: RunLoop, profile: CodeProfile): Stack {
  const controller = link.create_controller({
    bd_addr: sscanf_bd_addr(VIRTUAL_HEADSET_ADDR)!,
    name: HEADSET_NAME,
    class_of_device: 0x240404,
  });
  const s = new Stack({ transport: new VirtualTransport(controller), run_loop, profile });
  s.gap.gap_set_local_name(HEADSET_NAME);
  s.gap.gap_set_extended_inquiry_response(Uint8Array.of(0x02, 0x0a, 0x00)); // only TX power level 0 dBm
  s.gap.gap_set_class_of_device(0x240404);
  s.gap.gap_discoverable_control(1);
  s.gap.gap_connectable_control(1);
  return s;
}

/** Bytes the L2CAP echo may hold before it drops (basic mode has no flow control). */
const ECHO_LIMIT = 256 * 1024;
/** RFCOMM echo: credits handed out at a time (one per frame queued for echo). */
const RFCOMM_ECHO_CREDITS = 4;

/** One open channel of the peer. */
interface PeerChannel {
  kind: 'l2cap' | 'rfcomm';
  cid: number;
  echo: boolean;
  queue: Uint8Array[];
  queued: number;
  /** Outgoing data for dial-in mode: bytes still to send (-1: none). */
  to_send: number;
  sent: number;
  closing: boolean;
  /** RFCOMM echo service: one credit back per frame echoed. */
  manual_credits: boolean;
}

export class VirtualPeer {
  readonly stack: Stack;
  readonly address: BdAddr;
  private readonly sdp: SdpServer;
  private readonly sdpClient: SdpClient;
  private readonly channels = new Map<string, PeerChannel>();
  private readonly block = new Uint8Array(65535);
  /** Bytes the discard services swallowed. */
  discarded = 0;
  /** Bytes the L2CAP echo dropped because its queue was full. */
  dropped = 0;

  constructor(link: RadioLink, run_loop: RunLoop, profile: CodeProfile) {
    this.address = sscanf_bd_addr(VIRTUAL_PEER_ADDR)!;
    const controller = link.create_controller({ bd_addr: this.address, name: PEER_NAME, class_of_device: 0x5a020c });
    this.stack = new Stack({ transport: new VirtualTransport(controller), run_loop, profile });
    for (let i = 0; i < this.block.length; i++) this.block[i] = i & 0xff;
    const s = this.stack;
    const codes = s.codes;
    s.gap.gap_set_local_name(PEER_NAME);
    s.gap.gap_set_class_of_device(0x5a020c);
    s.gap.gap_discoverable_control(1);
    s.gap.gap_connectable_control(1);
    // LE: advertise as connectable undirected with flags and the name
    const name = new TextEncoder().encode(PEER_NAME);
    const adv = new Uint8Array(3 + 2 + name.length);
    adv.set([0x02, 0x01, 0x1a, name.length + 1, 0x09]);
    adv.set(name, 5);
    s.gap.gap_advertisements_set_params(0x0030, 0x0030, 0, 0, new Uint8Array(6), 0x07, 0);
    s.gap.gap_advertisements_set_data(adv.length, adv);
    s.gap.gap_advertisements_enable(1);
    serve_peer_gatt(s, run_loop);

    const l2capService = (echo: boolean) => (type: number, channel: number, packet: Uint8Array, size: number) => {
      if (type === L2CAP_DATA_PACKET) return this.onData('l2cap', channel, packet, size);
      if (type !== HCI_EVENT_PACKET) return;
      switch (packet[0]) {
        case codes.L2CAP_EVENT_INCOMING_CONNECTION:
          s.l2cap.l2cap_accept_connection(codes.l2cap_event_incoming_connection_get_local_cid(packet));
          break;
        case codes.L2CAP_EVENT_CHANNEL_OPENED:
          if (codes.l2cap_event_channel_opened_get_status(packet) === 0)
            this.opened('l2cap', codes.l2cap_event_channel_opened_get_local_cid(packet), { echo });
          break;
        default:
          this.common('l2cap', channel, packet);
      }
    };
    s.l2cap.l2cap_register_service(l2capService(true), PEER_PSM_ECHO, 0xffff, LEVEL_0);
    s.l2cap.l2cap_register_service(l2capService(false), PEER_PSM_DISCARD, 0xffff, LEVEL_0);

    const rfcommService = (echo: boolean) => (type: number, channel: number, packet: Uint8Array, size: number) => {
      if (type === RFCOMM_DATA_PACKET) return this.onData('rfcomm', channel, packet, size);
      if (type !== HCI_EVENT_PACKET) return;
      switch (packet[0]) {
        case codes.RFCOMM_EVENT_INCOMING_CONNECTION:
          s.rfcomm.rfcomm_accept_connection(codes.rfcomm_event_incoming_connection_get_rfcomm_cid(packet));
          break;
        case codes.RFCOMM_EVENT_CHANNEL_OPENED:
          if (codes.rfcomm_event_channel_opened_get_status(packet) === 0)
            this.opened('rfcomm', codes.rfcomm_event_channel_opened_get_rfcomm_cid(packet), { echo, manual_credits: echo });
          break;
        default:
          this.common('rfcomm', channel, packet);
      }
    };
    s.rfcomm.rfcomm_register_service_with_initial_credits(rfcommService(true), PEER_SPP_ECHO_CHANNEL, 1000, RFCOMM_ECHO_CREDITS);
    s.rfcomm.rfcomm_register_service(rfcommService(false), PEER_SPP_DISCARD_CHANNEL, 0xffff);

    this.sdp = new SdpServer(s);
    this.sdp.sdp_init();
    const rec = new Uint8Array(256);
    spp_create_sdp_record(rec, 0x10001, PEER_SPP_ECHO_CHANNEL, `Peer SPP echo`);
    this.sdp.sdp_register_service(rec);
    spp_create_sdp_record(rec, 0x10002, PEER_SPP_DISCARD_CHANNEL, `Peer SPP discard`);
    this.sdp.sdp_register_service(rec);
    this.sdpClient = new SdpClient(s);
  }

  power_on(): void {
    this.stack.hci.hci_power_control(HCI_POWER_ON);
  }

  get ready(): boolean {
    return this.stack.hci.hci_get_state() === HCI_STATE_WORKING;
  }

  /**
   * Dial in to `addr` on `psm`. Sends the greeting and echoes, or sends `send_bytes` bytes and
   * disconnects. `on_fail(status)` if the channel does not open.
   */
  dial_l2cap(addr: BdAddr, psm: number, send_bytes: number | null, on_fail: (status: number) => void): void {
    const s = this.stack;
    const codes = s.codes;
    const r = s.l2cap.l2cap_create_channel(
      (type, channel, packet, size) => {
        if (type === L2CAP_DATA_PACKET) return this.onData('l2cap', channel, packet, size);
        if (type !== HCI_EVENT_PACKET) return;
        if (packet[0] === codes.L2CAP_EVENT_CHANNEL_OPENED) {
          const st = codes.l2cap_event_channel_opened_get_status(packet);
          if (st !== 0) return on_fail(st);
          this.opened('l2cap', codes.l2cap_event_channel_opened_get_local_cid(packet), {
            echo: send_bytes === null,
            to_send: send_bytes ?? -1,
            dial_in: true,
          });
        } else this.common('l2cap', channel, packet);
      },
      addr,
      psm,
      0xffff,
    );
    if (r.status !== 0) on_fail(r.status);
  }

  /** Find the Serial Port service on `addr` by SDP and dial in (as dial_l2cap). */
  dial_spp(addr: BdAddr, send_bytes: number | null, on_fail: (status: number) => void): void {
    const s = this.stack;
    const codes = s.codes;
    let channel = 0;
    const handler = (type: number, ch: number, packet: Uint8Array, size: number) => {
      if (type === RFCOMM_DATA_PACKET) return this.onData('rfcomm', ch, packet, size);
      if (type !== HCI_EVENT_PACKET) return;
      if (packet[0] === codes.RFCOMM_EVENT_CHANNEL_OPENED) {
        const st = codes.rfcomm_event_channel_opened_get_status(packet);
        if (st !== 0) return on_fail(st);
        this.opened('rfcomm', codes.rfcomm_event_channel_opened_get_rfcomm_cid(packet), {
          echo: send_bytes === null,
          to_send: send_bytes ?? -1,
          dial_in: true,
        });
      } else this.common('rfcomm', ch, packet);
    };
    const st = this.sdpClient.sdp_client_query_rfcomm_channel_and_name_for_uuid(
      (type, _ch, packet) => {
        if (type !== HCI_EVENT_PACKET) return;
        if (packet[0] === codes.SDP_EVENT_QUERY_RFCOMM_SERVICE && !channel)
          channel = codes.sdp_event_query_rfcomm_service_get_rfcomm_channel(packet);
        if (packet[0] === codes.SDP_EVENT_QUERY_COMPLETE) {
          const status = codes.sdp_event_query_complete_get_status(packet);
          if (status !== 0 || !channel) return on_fail(status || 0x82);
          const r = s.rfcomm.rfcomm_create_channel(handler, addr, channel);
          if (r.status !== 0) on_fail(r.status);
        }
      },
      addr,
      BLUETOOTH_SERVICE_CLASS_SERIAL_PORT,
    );
    if (st !== 0) on_fail(st);
  }

  // ---------------------------------------------------------------- channels

  private key(kind: string, cid: number): string {
    return `${kind}:${cid}`;
  }

  private opened(
    kind: 'l2cap' | 'rfcomm',
    cid: number,
    o: { echo: boolean; to_send?: number; dial_in?: boolean; manual_credits?: boolean },
  ): void {
    const ch: PeerChannel = {
      kind,
      cid,
      echo: o.echo,
      queue: [],
      queued: 0,
      to_send: o.to_send ?? -1,
      sent: 0,
      closing: false,
      manual_credits: !!o.manual_credits,
    };
    this.channels.set(this.key(kind, cid), ch);
    if (o.dial_in && o.echo) {
      // dialled in without a byte count: greet, then echo
      const greeting = new TextEncoder().encode(PEER_GREETING);
      ch.queue.push(greeting);
      ch.queued += greeting.length;
    }
    this.request(ch);
  }

  private request(ch: PeerChannel): void {
    if (ch.queue.length === 0 && ch.to_send <= 0) return;
    if (ch.kind === 'l2cap') this.stack.l2cap.l2cap_request_can_send_now_event(ch.cid);
    else this.stack.rfcomm.rfcomm_request_can_send_now_event(ch.cid);
  }

  private onData(kind: 'l2cap' | 'rfcomm', cid: number, packet: Uint8Array, size: number): void {
    const ch = this.channels.get(this.key(kind, cid));
    if (!ch || !ch.echo) {
      this.discarded += size;
      return;
    }
    if (kind === 'l2cap' && ch.queued + size > ECHO_LIMIT) {
      this.dropped += size;
      return;
    }
    ch.queue.push(packet.slice(0, size));
    ch.queued += size;
    this.request(ch);
  }

  /** CAN_SEND_NOW and CHANNEL_CLOSED for either kind. */
  private common(kind: 'l2cap' | 'rfcomm', channel: number, packet: Uint8Array): void {
    const codes = this.stack.codes;
    const ev = packet[0];
    if (ev === codes.L2CAP_EVENT_CHANNEL_CLOSED || ev === codes.RFCOMM_EVENT_CHANNEL_CLOSED) {
      const cid =
        ev === codes.L2CAP_EVENT_CHANNEL_CLOSED
          ? codes.l2cap_event_channel_closed_get_local_cid(packet)
          : codes.rfcomm_event_channel_closed_get_rfcomm_cid(packet);
      this.channels.delete(this.key(kind, cid));
      return;
    }
    if (ev !== codes.L2CAP_EVENT_CAN_SEND_NOW && ev !== codes.RFCOMM_EVENT_CAN_SEND_NOW) return;
    const cid =
      kind === 'l2cap'
        ? codes.l2cap_event_can_send_now_get_local_cid(packet)
        : codes.rfcomm_event_can_send_now_get_rfcomm_cid(packet);
    const ch = this.channels.get(this.key(kind, cid ?? channel));
    if (!ch || ch.closing) return;
    const s = this.stack;
    const max =
      kind === 'l2cap' ? s.l2cap.l2cap_get_remote_mtu_for_local_cid(ch.cid) : s.rfcomm.rfcomm_get_max_frame_size(ch.cid);
    if (ch.queue.length) {
      const head = ch.queue[0]!;
      const n = Math.min(head.length, max);
      const st = kind === 'l2cap' ? s.l2cap.l2cap_send(ch.cid, head, n) : s.rfcomm.rfcomm_send(ch.cid, head, n);
      if (st === 0) {
        ch.queued -= n;
        if (n === head.length) {
          ch.queue.shift();
          if (ch.manual_credits) s.rfcomm.rfcomm_grant_credits(ch.cid, 1);
        } else ch.queue[0] = head.subarray(n);
      }
      this.request(ch);
      return;
    }
    if (ch.to_send > 0) {
      const n = Math.min(ch.to_send, max, this.block.length);
      const st = kind === 'l2cap' ? s.l2cap.l2cap_send(ch.cid, this.block, n) : s.rfcomm.rfcomm_send(ch.cid, this.block, n);
      if (st === 0) {
        ch.to_send -= n;
        ch.sent += n;
      }
      if (ch.to_send > 0) return this.request(ch);
      // all handed to the controller: one more round so the last packet is on its way, then close
      ch.to_send = 0;
      ch.closing = true;
      if (kind === 'l2cap') s.l2cap.l2cap_disconnect(ch.cid);
      else s.rfcomm.rfcomm_disconnect(ch.cid);
    }
  }
}
