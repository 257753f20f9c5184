/**
 * The virtual peer's LE credit-based channels, for `bthost le-cbm` without --port (installed on
 * the peer's stack by ports/cli/le-cbm.ts):
 *
 *   SPSM 0x0080  echo: sends back every SDU (split to our MTU). Credits are the flow control: the
 *                peer gives 8 at first and one more each time an SDU it received has been echoed
 *                in full, so the echo never queues more than 8 SDUs.
 *   SPSM 0x0081  discard: swallows everything (automatic credits), for throughput
 *
 * For `le-cbm listen` the peer dials in: it connects to the listener over LE, opens a channel to
 * the listening SPSM, sends a greeting line and echoes, or with `send_bytes` sends that many
 * bytes and disconnects.
 *
 * The peer's stack runs the command's code profile: v1.4 (l2cap_le_*, L2CAP_EVENT_LE_*) or v1.8
 * (l2cap_cbm_*, the unified l2cap_send, L2CAP_EVENT_CBM_*); both event layouts are the same.
 */
import { bd_addr_cmp, little_endian_read_16, type BdAddr } from '../../src/core/bytes.js';
import { HCI_EVENT_PACKET, L2CAP_DATA_PACKET, LEVEL_0 } from '../../src/codes/v1.4.js';
import type { Stack } from '../../src/stack.js';
import { cbm_events, type CbmEvents } from './le-cbm-events.js';

export const PEER_SPSM_ECHO = 0x0080;
export const PEER_SPSM_DISCARD = 0x0081;
export const PEER_LE_GREETING = 'hello from the bthost virtual peer over LE\n';
const ECHO_CREDITS = 8;
const MTU = 2048;

interface Channel {
  cid: number;
  echo: boolean;
  remote_mtu: number;
  rx: Uint8Array;
  /** SDUs to echo (the head may be partly sent); `whole` marks the last piece of a received SDU. */
  queue: { data: Uint8Array; whole: boolean; credit: boolean }[];
  pending: boolean;
  to_send: number;
  closing: boolean;
}

export class PeerLeCbm {
  private readonly ev: CbmEvents;
  private readonly channels = new Map<number, Channel>();
  private readonly block = new Uint8Array(MTU);
  /** Bytes the discard service swallowed. */
  discarded = 0;

  constructor(readonly stack: Stack) {
    this.ev = cbm_events(stack.codes.PROFILE);
    for (let i = 0; i < this.block.length; i++) this.block[i] = i & 0xff;
    const l = stack.l2cap;
    l.l2cap_cbm_register_service(this.handler(true), PEER_SPSM_ECHO, LEVEL_0);
    l.l2cap_cbm_register_service(this.handler(false), PEER_SPSM_DISCARD, LEVEL_0);
  }

  /**
   * Connect to `addr` (public) over LE and open a channel to `spsm`: greeting + echo, or
   * `send_bytes` then disconnect. `on_fail(line)` when that does not work.
   */
  dial(addr: BdAddr, spsm: number, send_bytes: number | null, on_fail: (why: string) => void): void {
    const s = this.stack;
    const codes = s.codes;
    let handle = -1;
    const rx = new Uint8Array(MTU);
    const channelHandler = this.handler(send_bytes === null, send_bytes ?? -1, (why) => on_fail(why));
    s.hci.hci_add_event_handler({
      callback: (type, _c, p) => {
        if (type !== HCI_EVENT_PACKET || handle >= 0) return;
        if (p[0] !== codes.HCI_EVENT_LE_META || p[2] !== codes.HCI_SUBEVENT_LE_CONNECTION_COMPLETE) return;
        if (bd_addr_cmp(codes.hci_subevent_le_connection_complete_get_peer_address(p), addr) !== 0) return;
        const st = codes.hci_subevent_le_connection_complete_get_status(p);
        if (st !== 0) return on_fail(`LE connection failed: status 0x${st.toString(16)}`);
        handle = codes.hci_subevent_le_connection_complete_get_connection_handle(p);
        const r = s.l2cap.l2cap_cbm_create_channel(channelHandler, handle, spsm, rx, MTU, 0xffff, LEVEL_0);
        if (r.status !== 0) on_fail(`l2cap_cbm_create_channel: status 0x${r.status.toString(16)}`);
      },
    });
    const st = s.gap.gap_connect(addr, 0);
    if (st !== 0) on_fail(`gap_connect: status 0x${st.toString(16)}`);
  }

  private handler(echo: boolean, to_send = -1, on_fail?: (why: string) => void) {
    const ev = this.ev;
    const l = this.stack.l2cap;
    return (type: number, channel: number, packet: Uint8Array, size: number): void => {
      if (type === L2CAP_DATA_PACKET) return this.data(channel, packet, size);
      if (type !== HCI_EVENT_PACKET) return;
      const code = packet[0]!;
      if (code === ev.INCOMING) {
        const cid = little_endian_read_16(packet, 13);
        const rx = new Uint8Array(MTU);
        l.l2cap_cbm_accept_connection(cid, rx, MTU, echo ? ECHO_CREDITS : 0xffff);
        this.channels.set(cid, newChannel(cid, echo, rx));
      } else if (code === ev.OPENED) {
        const cid = little_endian_read_16(packet, 15);
        if (packet[2] !== 0) {
          this.channels.delete(cid);
          on_fail?.(`the channel did not open: status 0x${packet[2]!.toString(16)}`);
          return;
        }
        const ch = this.channels.get(cid) ?? newChannel(cid, echo, new Uint8Array(0));
        ch.remote_mtu = little_endian_read_16(packet, 21);
        ch.to_send = to_send;
        this.channels.set(cid, ch);
        if (on_fail && echo) ch.queue.push({ data: new TextEncoder().encode(PEER_LE_GREETING), whole: true, credit: false });
        this.kick(ch);
      } else if (code === ev.CAN_SEND_NOW) {
        const ch = this.channels.get(little_endian_read_16(packet, 2));
        if (ch) this.send(ch);
      } else if (code === ev.PACKET_SENT) {
        const ch = this.channels.get(little_endian_read_16(packet, 2));
        if (!ch) return;
        ch.pending = false;
        this.kick(ch);
      } else if (ev.CLOSED.includes(code)) {
        this.channels.delete(little_endian_read_16(packet, 2));
      }
    };
  }

  private data(cid: number, packet: Uint8Array, size: number): void {
    const ch = this.channels.get(cid);
    if (!ch || !ch.echo) {
      this.discarded += size;
      return;
    }
    ch.queue.push({ data: packet.slice(0, size), whole: true, credit: true });
    this.kick(ch);
  }

  private kick(ch: Channel): void {
    if (ch.pending || ch.closing) return;
    if (ch.queue.length === 0 && ch.to_send <= 0) {
      if (ch.to_send === 0) {
        ch.closing = true; // everything sent: close
        this.stack.l2cap.l2cap_disconnect(ch.cid);
      }
      return;
    }
    this.stack.l2cap.l2cap_request_can_send_now_event(ch.cid);
  }

  private send(ch: Channel): void {
    if (ch.pending || ch.closing) return;
    const l = this.stack.l2cap;
    const head = ch.queue[0];
    if (head) {
      const n = Math.min(head.data.length, ch.remote_mtu);
      if (l.l2cap_send(ch.cid, head.data, n) !== 0) return this.kick(ch);
      ch.pending = true;
      if (n < head.data.length) ch.queue[0] = { ...head, data: head.data.subarray(n) };
      else {
        ch.queue.shift();
        if (head.credit) l.l2cap_cbm_provide_credits(ch.cid, 1);
      }
      return;
    }
    if (ch.to_send > 0) {
      const n = Math.min(ch.to_send, ch.remote_mtu, this.block.length);
      if (l.l2cap_send(ch.cid, this.block, n) !== 0) return this.kick(ch);
      ch.pending = true;
      ch.to_send -= n;
    }
  }
}

function newChannel(cid: number, echo: boolean, rx: Uint8Array): Channel {
  return { cid, echo, remote_mtu: 23, rx, queue: [], pending: false, to_send: -1, closing: false };
}
