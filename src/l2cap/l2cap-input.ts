/**
 * What comes into L2CAP from HCI: events that make or break links (Connection Complete,
 * Disconnection Complete, the stack going off) and every complete incoming L2CAP PDU, which is
 * checked against its header and handed to the signalling handler, a connectionless service or
 * the channel it is for. Views handed to handlers are valid during the call only.
 */
import { little_endian_read_16, type BdAddr } from '../core/bytes.js';
import { ViewCache } from '../core/span.js';
import {
  BTSTACK_EVENT_NR_CONNECTIONS_CHANGED,
  BTSTACK_EVENT_STATE,
  ERROR_CODE_SUCCESS,
  GAP_EVENT_SECURITY_LEVEL,
  HCI_ACL_DATA_PACKET,
  HCI_EVENT_CONNECTION_COMPLETE,
  HCI_EVENT_DISCONNECTION_COMPLETE,
  HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS,
  HCI_EVENT_PACKET,
  HCI_EVENT_TRANSPORT_PACKET_SENT,
  HCI_STATE_OFF,
  HCI_STATE_WORKING,
  L2CAP_CID_CONNECTIONLESS_CHANNEL,
  L2CAP_CID_SIGNALING,
  L2CAP_DATA_PACKET,
  L2CAP_STATE_OPEN,
} from '../codes/v1.4.js';
import { L2CAP_CID_DYNAMIC_FIRST, l2cap_pdu_check } from './pdu.js';
import { COMPLETE_L2CAP_HEADER, type L2capChannel, type L2capLink } from './l2cap-objects.js';
import type { L2capState } from './l2cap-state.js';

/** What the input side needs from its siblings. */
export interface L2capInputPeers {
  /** The classic run pass (l2cap-run.ts); after every HCI event and C-frame: a component, not a closure. */
  readonly sender: { run(): void; scheduleRun(): void };
  /** LE links and fixed channels (l2cap-le-fixed.ts): every HCI event first, the checked PDUs of LE links, then its own run pass after the classic one. */
  readonly le: {
    onHciEvent(packet: Uint8Array, size: number): void;
    onAcl(handle: number, packet: Uint8Array, size: number): void;
    run(): void;
  };
  /** BR/EDR fixed channels (l2cap-classic-fixed.ts): PDUs on 0x0007; CAN_SEND_NOW after the classic pass. */
  readonly classicFixed: {
    onPdu(link: L2capLink, cid: number, packet: Uint8Array, len: number): boolean;
    run(): void;
  };
  connectionComplete(status: number, handle: number, addr: BdAddr): void;
  linkDown(handle: number): void;
  /** GAP_EVENT_SECURITY_LEVEL: the link's security level after a gap_request_security_level. */
  securityLevel(handle: number, level: number): void;
  stackOff(): void;
  linkUp(handle: number, addr: BdAddr): L2capLink | null;
  noteActivity(link: L2capLink): void;
  /** C-frame payloads packet[off, off + len) on CID 0x0001 (l2cap-signaling-in.ts). */
  readonly signaling: { handle(link: L2capLink, packet: Uint8Array, off: number, len: number): void };
  /** A G-frame (payload packet[8, 8 + len)) on CID 0x0002. */
  connectionless(link: L2capLink, packet: Uint8Array, len: number): void;
}

export class L2capInput {
  /**
   * Views of incoming packets from the SDU on, handed to channel handlers with the SDU size
   * (BTstack's (packet, size): the view may run past the SDU). Cached per buffer and offset:
   * packets come in a transport's buffer or a pooled reassembly buffer, the same few every time.
   */
  private readonly sduViews = new ViewCache(8);

  constructor(
    private readonly s: L2capState,
    private readonly x: L2capInputPeers,
  ) {}

  /** HCI event handler (registered on l2cap_init). */
  onHciEvent(type: number, _channel: number, packet: Uint8Array, size: number): void {
    if (type !== HCI_EVENT_PACKET || size < 2) return;
    const ev = packet[0];
    // buffers came back: the most frequent events on a busy link, and none the LE side reads
    if (ev === HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS || ev === HCI_EVENT_TRANSPORT_PACKET_SENT) {
      this.run();
      return;
    }
    this.x.le.onHciEvent(packet, size);
    switch (ev) {
      case HCI_EVENT_CONNECTION_COMPLETE:
        if (size >= 13 && packet[11] === 0x01) {
          const addr = new Uint8Array(6);
          for (let i = 0; i < 6; i++) addr[i] = packet[10 - i]!;
          this.x.connectionComplete(packet[2]!, little_endian_read_16(packet, 3) & 0x0fff, addr);
        }
        break;
      case HCI_EVENT_DISCONNECTION_COMPLETE:
        if (size >= 6 && packet[2] === ERROR_CODE_SUCCESS) this.x.linkDown(little_endian_read_16(packet, 3) & 0x0fff);
        break;
      case GAP_EVENT_SECURITY_LEVEL: // handle and level at the same offsets in v1.4 (H1) and v1.8 (H11)
        if (size >= 5) this.x.securityLevel(little_endian_read_16(packet, 2) & 0x0fff, packet[4]!);
        break;
      case BTSTACK_EVENT_NR_CONNECTIONS_CHANGED: // a connection record went: channels waiting for a new link may go on
        break;
      case BTSTACK_EVENT_STATE:
        if (size >= 3 && packet[2] === HCI_STATE_OFF) this.x.stackOff();
        else if (size >= 3 && packet[2] !== HCI_STATE_WORKING) return;
        break;
      default:
        return;
    }
    this.run();
  }

  /** Classic pass, then LE. */
  private run(): void {
    this.x.sender.run();
    this.x.classicFixed.run();
    this.x.le.run();
  }

  /** HCI ACL handler (registered on l2cap_init): one complete L2CAP PDU. */
  onAcl(type: number, handle: number, packet: Uint8Array, size: number): void {
    if (type !== HCI_ACL_DATA_PACKET) return;
    const s = this.s;
    const check = l2cap_pdu_check(packet, 4, size - 4);
    if (check !== 'ok') {
      s.log.error(() => `L2CAP PDU on handle 0x${handle.toString(16)} dropped: ${check}`);
      return;
    }
    const len = little_endian_read_16(packet, 4);
    const cid = little_endian_read_16(packet, 6);
    let link = s.linkForHandle(handle);
    if (!link) {
      // a classic link HCI had before L2CAP was initialised: adopt it
      const conn = s.hci.hci_connection_for_handle(handle);
      if (conn && conn.is_le) {
        this.x.le.onAcl(handle, packet, size);
        return;
      }
      if (conn) link = this.x.linkUp(handle, conn.address);
      if (!link) {
        s.log.debug(() => `L2CAP PDU for CID 0x${cid.toString(16)} on handle 0x${handle.toString(16)} without a link, dropped`);
        return;
      }
    }
    if (link.channels === 0) this.x.noteActivity(link);
    if (cid === L2CAP_CID_SIGNALING) {
      this.x.signaling.handle(link, packet, COMPLETE_L2CAP_HEADER, len);
      this.run();
      return;
    }
    if (cid === L2CAP_CID_CONNECTIONLESS_CHANNEL) {
      this.x.connectionless(link, packet, len);
      return;
    }
    if (cid < L2CAP_CID_DYNAMIC_FIRST) {
      if (this.x.classicFixed.onPdu(link, cid, packet, len)) return;
      s.log.debug(() => `L2CAP PDU for fixed CID 0x${cid.toString(16)} dropped`);
      return;
    }
    let ch: L2capChannel | null = null;
    const chans = s.channels;
    for (let i = 0; i < chans.length; i++) {
      const c = chans[i]!;
      if (c.local_cid === cid && c.con_handle === handle) {
        ch = c;
        break;
      }
    }
    if (!ch || ch.state !== L2CAP_STATE_OPEN) {
      s.log.debug(() => `L2CAP data for CID 0x${cid.toString(16)} (no open channel) dropped`);
      return;
    }
    if (ch.ertm?.running) {
      // ERTM / streaming: the engine checks the frame (FCS over the Basic header at offset 4) and delivers whole SDUs
      ch.ertm.receive(packet, 4, COMPLETE_L2CAP_HEADER, len);
      if (ch.waiting_for_can_send_now) this.x.sender.scheduleRun();
      return;
    }
    if (len > ch.local_mtu) {
      s.log.error(() => `L2CAP SDU of ${len} bytes on CID 0x${cid.toString(16)} exceeds our MTU ${ch!.local_mtu}, dropped`);
      return;
    }
    const h = ch.handler;
    // the SDU from offset 0 (a view cached per buffer: the same few buffers come back), `len` bytes of it
    if (h) h(L2CAP_DATA_PACKET, ch.local_cid, this.sduViews.at(packet, COMPLETE_L2CAP_HEADER), len);
  }
}
