/**
 * What comes into L2CAP from HCI: events that make or break links (Connection Complete,
 * Disconnection Complete, the stack going off) and every complete incoming L2CAP PDU, which is
 * checked against its header and handed to the signalling handler, a connectionless service or
 * the channel it is for. Views handed to handlers are valid during the call only.
 */
import { bd_addr_cmp, little_endian_read_16 } from '../core/bytes.js';
import {
  BTSTACK_EVENT_NR_CONNECTIONS_CHANGED,
  BTSTACK_EVENT_STATE,
  ERROR_CODE_SUCCESS,
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
  L2CAP_CONNECTION_BASEBAND_DISCONNECT,
  L2CAP_DATA_PACKET,
  L2CAP_STATE_OPEN,
  L2CAP_STATE_WAIT_CONNECTION_COMPLETE,
  UCD_DATA_PACKET,
} from '../codes/v1.4.js';
import { L2CAP_CID_DYNAMIC_FIRST, l2cap_pdu_check } from './pdu.js';
import { l2cap_sig_psm_length } from './signaling.js';
import { COMPLETE_L2CAP_HEADER, ECHO_IDLE, type L2capChannel, type L2capLink } from './l2cap-objects.js';
import { l2cap_handle_signaling } from './l2cap-signaling-in.js';
import type { L2cap } from './l2cap.js';

export function l2cap_on_hci_event(l: L2cap, type: number, packet: Uint8Array, size: number): void {
  if (type !== HCI_EVENT_PACKET || size < 2) return;
  switch (packet[0]) {
    case HCI_EVENT_CONNECTION_COMPLETE:
      if (size >= 13 && packet[11] === 0x01) onConnectionComplete(l, packet);
      break;
    case HCI_EVENT_DISCONNECTION_COMPLETE:
      if (size >= 6 && packet[2] === ERROR_CODE_SUCCESS) onLinkDown(l, little_endian_read_16(packet, 3) & 0x0fff);
      break;
    case HCI_EVENT_TRANSPORT_PACKET_SENT:
    case HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS:
    case BTSTACK_EVENT_NR_CONNECTIONS_CHANGED: // a connection record went: channels waiting for a new link may go on
      break;
    case BTSTACK_EVENT_STATE:
      if (size >= 3 && packet[2] === HCI_STATE_OFF) onStackOff(l);
      else if (size >= 3 && packet[2] !== HCI_STATE_WORKING) return;
      break;
    default:
      return;
  }
  l.run();
}

function onConnectionComplete(l: L2cap, packet: Uint8Array): void {
  const status = packet[2]!;
  const handle = little_endian_read_16(packet, 3) & 0x0fff;
  const addr = new Uint8Array(6);
  for (let i = 0; i < 6; i++) addr[i] = packet[10 - i]!;
  if (status !== ERROR_CODE_SUCCESS) {
    for (const c of l.channels) {
      if (c.state === L2CAP_STATE_WAIT_CONNECTION_COMPLETE && bd_addr_cmp(c.address, addr) === 0) l.finalize(c, status);
    }
    return;
  }
  l.linkUp(handle, addr);
}

/** The ACL link is gone: every channel on it ends, pending signalling is dropped. */
function onLinkDown(l: L2cap, handle: number): void {
  const link = l.linkForHandle(handle);
  for (const c of l.channels) {
    if (c.con_handle === handle) l.finalize(c, L2CAP_CONNECTION_BASEBAND_DISCONNECT);
  }
  if (!link) return;
  l.run_loop.remove_timer(link.idle_timer);
  l.run_loop.remove_timer(link.info_timer);
  if (link.echo_state !== ECHO_IDLE) l.echoDone(link, L2CAP_CONNECTION_BASEBAND_DISCONNECT, null, 0, 0);
  l.run_loop.remove_timer(link.echo_timer);
  l.links = l.links.filter((x) => x !== link);
  l.linkPool.free(link);
}

/** HCI is off: whatever is left (channels waiting for a link) ends. */
function onStackOff(l: L2cap): void {
  for (const link of l.links.slice()) onLinkDown(l, link.con_handle);
  for (const c of l.channels) l.finalize(c, L2CAP_CONNECTION_BASEBAND_DISCONNECT);
}

export function l2cap_on_acl(l: L2cap, type: number, handle: number, packet: Uint8Array, size: number): void {
  if (type !== HCI_ACL_DATA_PACKET) return;
  const check = l2cap_pdu_check(packet, 4, size - 4);
  if (check !== 'ok') {
    l.log.error(() => `L2CAP PDU on handle 0x${handle.toString(16)} dropped: ${check}`);
    return;
  }
  const len = little_endian_read_16(packet, 4);
  const cid = little_endian_read_16(packet, 6);
  let link = l.linkForHandle(handle);
  if (!link) {
    // a classic link HCI had before L2CAP was initialised: adopt it
    const conn = l.hci.hci_connection_for_handle(handle);
    if (conn && !conn.is_le) link = l.linkUp(handle, conn.address);
    if (!link) {
      l.log.debug(() => `L2CAP PDU for CID 0x${cid.toString(16)} on handle 0x${handle.toString(16)} without a classic link, dropped`);
      return;
    }
  }
  if (link.channels === 0) l.noteActivity(link);
  if (cid === L2CAP_CID_SIGNALING) {
    l2cap_handle_signaling(l, link, packet, COMPLETE_L2CAP_HEADER, len);
    l.run();
    return;
  }
  if (cid === L2CAP_CID_CONNECTIONLESS_CHANNEL) {
    onConnectionless(l, link, packet, len);
    return;
  }
  if (cid < L2CAP_CID_DYNAMIC_FIRST) {
    l.log.debug(() => `L2CAP PDU for fixed CID 0x${cid.toString(16)} dropped`);
    return;
  }
  let ch: L2capChannel | null = null;
  const chans = l.channels;
  for (let i = 0; i < chans.length; i++) {
    const c = chans[i]!;
    if (c.local_cid === cid && c.con_handle === handle) {
      ch = c;
      break;
    }
  }
  if (!ch || ch.state !== L2CAP_STATE_OPEN) {
    l.log.debug(() => `L2CAP data for CID 0x${cid.toString(16)} (no open channel) dropped`);
    return;
  }
  if (len > ch.local_mtu) {
    l.log.error(() => `L2CAP SDU of ${len} bytes on CID 0x${cid.toString(16)} exceeds our MTU ${ch!.local_mtu}, dropped`);
    return;
  }
  const h = ch.handler;
  // the SDU from offset 0 (a view cached per buffer: the same few buffers come back), `len` bytes of it
  if (h) h(L2CAP_DATA_PACKET, ch.local_cid, l.sduViews.at(packet, COMPLETE_L2CAP_HEADER), len);
}

function onConnectionless(l: L2cap, link: L2capLink, packet: Uint8Array, len: number): void {
  const plen = l2cap_sig_psm_length(packet, COMPLETE_L2CAP_HEADER, len);
  if (plen < 0) {
    l.log.error('connectionless frame without a complete PSM, dropped');
    return;
  }
  const psm = plen === 2 ? little_endian_read_16(packet, COMPLETE_L2CAP_HEADER) : -1;
  const s = psm >= 0 ? l.serviceFor(psm) : null;
  if (!s || !s.connectionless_enabled || !s.handler) {
    l.log.debug(() => `connectionless data for PSM 0x${psm.toString(16)} not enabled, dropped`);
    return;
  }
  const start = COMPLETE_L2CAP_HEADER + plen;
  const n = len - plen;
  s.handler(UCD_DATA_PACKET, link.con_handle, l.sduViews.at(packet, start), n);
}
