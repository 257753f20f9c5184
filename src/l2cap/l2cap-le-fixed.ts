/**
 * L2CAP on LE links: the link records, the fixed channels and the LE send side.
 *
 * - Links: a record per LE ACL link, made on HCI's LE Connection Complete (or when L2CAP first
 *   meets a link HCI made before), freed on Disconnection Complete or when HCI goes off.
 * - Fixed channels (BTstack's l2cap_register_fixed_channel & co., the L2capFixedChannelService
 *   contract): a PDU on CID 0x0004 reaches the registered handler as (ATT_DATA_PACKET, con_handle,
 *   pdu, size), on 0x0006 as (SM_DATA_PACKET, ...), on another registered fixed CID as
 *   (L2CAP_DATA_PACKET, ...); a PDU for a fixed CID nobody registered is dropped with a log line.
 *   CID 0x0005 is the LE signalling channel (l2cap-le-signaling.ts), 0x0040-0x007F the
 *   credit-based channels (l2cap-cbm.ts).
 * - Send side (BTstack's l2cap_run for LE): per pass, while HCI takes packets for a link: the
 *   signalling answers the link owes, its Connection Parameter Update Request, the channels'
 *   signalling and K-frames; then L2CAP_EVENT_CAN_SEND_NOW to the fixed channels and the
 *   credit-based channels that asked.
 */
import { bd_addr_copy, little_endian_read_16, little_endian_store_16, type BdAddr } from '../core/bytes.js';
import {
  ATT_DATA_PACKET,
  BTSTACK_ACL_BUFFERS_FULL,
  BTSTACK_EVENT_STATE,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  HCI_EVENT_DISCONNECTION_COMPLETE,
  HCI_EVENT_LE_META,
  HCI_STATE_OFF,
  HCI_SUBEVENT_LE_CONNECTION_COMPLETE,
  L2CAP_CID_ATTRIBUTE_PROTOCOL,
  L2CAP_CID_SECURITY_MANAGER_PROTOCOL,
  L2CAP_CID_SIGNALING_LE,
  L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU,
  L2CAP_DATA_PACKET,
  L2CAP_HEADER_SIZE,
  SM_DATA_PACKET,
} from '../codes/v1.4.js';
import { SpanCopier, ViewCache } from '../core/span.js';
import type { PacketHandler } from '../hci/hci-service.js';
import { COMPLETE_L2CAP_HEADER } from './l2cap-objects.js';
import { CPU_NONE, CPU_SEND_REQUEST, CPU_W4_RESPONSE, type L2capLeLink } from './l2cap-le-objects.js';
import { L2CAP_FIXED_CID_LAST } from './l2cap-le-state.js';
import type { L2capLeEvents } from './l2cap-le-events.js';
import { le_sig_command_reject, le_sig_connection_parameter_update_request, LE_REJ_NOT_UNDERSTOOD } from './l2cap-le-sig.js';
import type { L2capState } from './l2cap-state.js';

/** HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE (same first fields as LE Connection Complete). */
const LE_ENHANCED_CONNECTION_COMPLETE = 0x0a;
/** Upper bound of PDUs per pass (HCI's credits end a pass long before). */
const MAX_SENDS_PER_PASS = 4096;

/** What the LE side needs from the signalling and credit-based components. */
export interface L2capLeFixedPeers {
  /** A C-frame payload packet[off, off + len) on CID 0x0005. */
  signaling(link: L2capLeLink, packet: Uint8Array, off: number, len: number): void;
  /** A K-frame packet[off, off + len) for local CID `cid`. */
  kframe(link: L2capLeLink, cid: number, packet: Uint8Array, off: number, len: number): void;
  /** One signalling step or K-frame of the link's channels; true when a PDU went out. */
  channelStep(link: L2capLeLink): boolean;
  /** CAN_SEND_NOW / PACKET_SENT to the credit-based channels that wait for it. */
  channelEvents(): void;
  /** The link is gone: its channels end. */
  linkDown(link: L2capLeLink): void;
}

export class L2capLeFixed {
  private readonly views = new ViewCache(4);
  /** l2cap_send_connectionless's data into HCI's buffer: no view per PDU (the caller's array may be fresh each time). */
  private readonly copier = new SpanCopier(true);
  private running = false;
  private runAgain = false;
  private runScheduled = false;
  /** scheduledRun bound to this component, made the first time it is handed out. */
  #scheduledRun: (() => void) | null = null;

  private scheduledRun(): void {
    this.runScheduled = false;
    this.run();
  }

  constructor(
    private readonly s: L2capState,
    private readonly ev: L2capLeEvents,
    private readonly x: L2capLeFixedPeers,
  ) {}

  // ================================================================================= links

  /** Every HCI event (called by l2cap-input.ts before its own handling). */
  onHciEvent(packet: Uint8Array, size: number): void {
    if (size < 2) return;
    switch (packet[0]) {
      case HCI_EVENT_LE_META: {
        const sub = packet[2];
        if ((sub !== HCI_SUBEVENT_LE_CONNECTION_COMPLETE && sub !== LE_ENHANCED_CONNECTION_COMPLETE) || size < 13) return;
        if (packet[3] !== ERROR_CODE_SUCCESS) return;
        const addr = new Uint8Array(6);
        for (let i = 0; i < 6; i++) addr[i] = packet[13 - i]!;
        const link = this.linkUp(little_endian_read_16(packet, 4) & 0x0fff, addr, packet[7]!);
        if (link) link.peripheral = packet[6] === 0x01;
        return;
      }
      case HCI_EVENT_DISCONNECTION_COMPLETE:
        if (size >= 6 && packet[2] === ERROR_CODE_SUCCESS) this.linkDown(little_endian_read_16(packet, 3) & 0x0fff);
        return;
      case this.s.codes.L2CAP_EVENT_TRIGGER_RUN: {
        // GAP's gap_request_connection_parameter_update (peripheral): take the requests and send them
        const gap = this.s.hci.gap;
        for (
          let r = gap.gap_le_take_connection_parameter_update_request?.();
          r;
          r = gap.gap_le_take_connection_parameter_update_request?.()
        )
          this.requestConnectionParameterUpdate(
            r.con_handle,
            r.conn_interval_min,
            r.conn_interval_max,
            r.conn_latency,
            r.supervision_timeout,
          );
        return;
      }
      case BTSTACK_EVENT_STATE:
        if (size >= 3 && packet[2] === HCI_STATE_OFF) for (const l of this.s.le.links.slice()) this.linkDown(l.con_handle);
        return;
    }
  }

  private linkUp(handle: number, addr: BdAddr, address_type: number): L2capLeLink | null {
    const le = this.s.le;
    let link = le.linkForHandle(handle);
    if (link) return link;
    link = le.linkPool.get();
    if (!link) {
      this.s.log.error(() => `L2CAP: no LE link record for handle 0x${handle.toString(16)}`);
      return null;
    }
    link.reset();
    link.con_handle = handle;
    bd_addr_copy(link.address, addr);
    link.address_type = address_type;
    le.links = [...le.links, link];
    return link;
  }

  private linkDown(handle: number): void {
    const le = this.s.le;
    const link = le.linkForHandle(handle);
    if (!link) return;
    this.x.linkDown(link);
    le.links = le.links.filter((l) => l !== link);
    le.linkPool.free(link);
  }

  /** The record of an LE link HCI knows (made now if L2CAP has none yet), or null. */
  linkFor(handle: number): L2capLeLink | null {
    const link = this.s.le.linkForHandle(handle);
    if (link) return link;
    const conn = this.s.hci.hci_connection_for_handle(handle);
    if (!conn || !conn.is_le) return null;
    return this.linkUp(handle, conn.address, 0);
  }

  // ======================================================================= fixed channels

  register(handler: PacketHandler, cid: number): void {
    if (cid < 0 || cid > L2CAP_FIXED_CID_LAST) return;
    this.s.le.fixed[cid] = handler;
  }

  canSend(con_handle: number, _cid: number): boolean {
    return !!this.s.hci.hci_connection_for_handle(con_handle) && this.s.hci.hci_can_send_acl_packet_now(con_handle);
  }

  requestCanSend(con_handle: number, cid: number): void {
    if (cid < 0 || cid > L2CAP_FIXED_CID_LAST) return;
    const link = this.linkFor(con_handle);
    if (!link) {
      this.s.log.info(
        () => `can-send-now for fixed CID 0x${cid.toString(16)} on unknown LE handle 0x${con_handle.toString(16)}: ignored`,
      );
      return;
    }
    link.fixed_waiting |= 2 ** cid;
    this.scheduleRun();
  }

  /** BTstack's l2cap_send_connectionless(con_handle, cid, data, len). */
  send(con_handle: number, cid: number, data: Uint8Array, len: number): number {
    const hci = this.s.hci;
    if (!hci.hci_connection_for_handle(con_handle)) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (len > 0xffff || COMPLETE_L2CAP_HEADER + len > hci.hci_get_outgoing_packet_buffer().length)
      return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (!hci.hci_can_send_acl_packet_now(con_handle) || !hci.hci_reserve_packet_buffer()) return BTSTACK_ACL_BUFFERS_FULL;
    const buf = hci.hci_get_outgoing_packet_buffer();
    this.copier.copy(buf, COMPLETE_L2CAP_HEADER, data, 0, len);
    return this.sendPrepared(con_handle, cid, len);
  }

  /** Finish and send the reserved buffer holding `len` payload octets at offset 8 on `cid` (LE: PB 0b00). */
  sendPrepared(con_handle: number, cid: number, len: number): number {
    const hci = this.s.hci;
    const buf = hci.hci_get_outgoing_packet_buffer();
    little_endian_store_16(buf, 0, con_handle & 0x0fff);
    little_endian_store_16(buf, 2, len + L2CAP_HEADER_SIZE);
    little_endian_store_16(buf, 4, len);
    little_endian_store_16(buf, 6, cid);
    return hci.hci_send_acl_packet_buffer(len + COMPLETE_L2CAP_HEADER);
  }

  // ================================================================================= input

  /** A complete L2CAP PDU (ACL header at 0) on an LE link; the header is checked. */
  onAcl(handle: number, packet: Uint8Array, size: number): void {
    const s = this.s;
    const link = this.linkFor(handle);
    if (!link) return;
    const len = little_endian_read_16(packet, 4);
    const cid = little_endian_read_16(packet, 6);
    if (len + COMPLETE_L2CAP_HEADER > size) return;
    if (cid === L2CAP_CID_SIGNALING_LE) {
      this.x.signaling(link, packet, COMPLETE_L2CAP_HEADER, len);
      this.run();
      return;
    }
    if (cid <= L2CAP_FIXED_CID_LAST) {
      const h = s.le.fixed[cid];
      if (!h) {
        s.log.info(() => `L2CAP LE PDU for fixed CID 0x${cid.toString(16)} without a handler, dropped`);
        return;
      }
      const type =
        cid === L2CAP_CID_ATTRIBUTE_PROTOCOL
          ? ATT_DATA_PACKET
          : cid === L2CAP_CID_SECURITY_MANAGER_PROTOCOL
            ? SM_DATA_PACKET
            : L2CAP_DATA_PACKET;
      h(type, handle, this.views.at(packet, COMPLETE_L2CAP_HEADER), len);
      return;
    }
    this.x.kframe(link, cid, packet, COMPLETE_L2CAP_HEADER, len);
    this.run();
  }

  // ============================================================================== send side

  scheduleRun(): void {
    if (this.runScheduled) return;
    this.runScheduled = true;
    this.s.run_loop.execute_on_main_thread((this.#scheduledRun ??= this.scheduledRun.bind(this)));
  }

  run(): void {
    if (!this.s.initialized) return;
    // no LE link and no credit-based channel: nothing to send and no event to give (the common
    // case on BR/EDR, where l2cap-input.ts calls this after every HCI event and ACL packet)
    if (this.s.le.links.length === 0 && this.s.le.channels.length === 0) return;
    if (this.running) {
      this.runAgain = true;
      return;
    }
    this.running = true;
    try {
      let rounds = 0;
      do {
        this.runAgain = false;
        this.runOnce();
      } while (this.runAgain && ++rounds < 10_000);
    } finally {
      this.running = false;
    }
  }

  private runOnce(): void {
    const hci = this.s.hci;
    const anyChannel = this.s.le.channels.length !== 0;
    let sends = 0;
    for (const link of this.s.le.links) {
      // what the link may have to send first (plain fields), HCI's buffers only then: with LE links
      // up and no credit-based channel, most passes (one per HCI event) find nothing
      if (!anyChannel && !link.responses_pending && link.cpu_state !== CPU_SEND_REQUEST) continue;
      while (sends < MAX_SENDS_PER_PASS && hci.hci_can_send_acl_packet_now(link.con_handle)) {
        if (!this.sendOne(link)) break;
        sends++;
      }
    }
    for (const link of this.s.le.links) {
      if (link.fixed_waiting === 0) continue;
      for (let cid = 0; cid <= L2CAP_FIXED_CID_LAST && link.fixed_waiting !== 0; cid++) {
        const bit = 2 ** cid;
        if ((link.fixed_waiting & bit) === 0) continue;
        if (!hci.hci_can_send_acl_packet_now(link.con_handle)) break;
        link.fixed_waiting -= bit;
        const h = this.s.le.fixed[cid];
        if (h) this.ev.fixedCanSendNow(h, link.con_handle, cid);
      }
    }
    this.x.channelEvents();
  }

  /** One signalling answer, request or channel PDU on the link; false when it has nothing to send. */
  private sendOne(link: L2capLeLink): boolean {
    const hci = this.s.hci;
    if (link.responses_pending) {
      const q = link.responses;
      if (!hci.hci_reserve_packet_buffer()) return false;
      const buf = hci.hci_get_outgoing_packet_buffer();
      const r = q.peek();
      let n: number;
      if (r) {
        n = q.peekLength();
        buf.set(r.subarray(0, n), COMPLETE_L2CAP_HEADER);
        q.pop();
      } else {
        n = le_sig_command_reject(buf, COMPLETE_L2CAP_HEADER, q.takeOwedReject(), LE_REJ_NOT_UNDERSTOOD);
      }
      this.sendPrepared(link.con_handle, L2CAP_CID_SIGNALING_LE, n);
      return true;
    }
    if (link.cpu_state === CPU_SEND_REQUEST) {
      if (!hci.hci_reserve_packet_buffer()) return false;
      const buf = hci.hci_get_outgoing_packet_buffer();
      link.cpu_sig_id = this.s.nextSigId();
      const n = le_sig_connection_parameter_update_request(
        buf,
        COMPLETE_L2CAP_HEADER,
        link.cpu_sig_id,
        link.cpu_interval_min,
        link.cpu_interval_max,
        link.cpu_latency,
        link.cpu_timeout,
      );
      link.cpu_state = CPU_W4_RESPONSE;
      this.sendPrepared(link.con_handle, L2CAP_CID_SIGNALING_LE, n);
      return true;
    }
    return this.x.channelStep(link);
  }

  /** Peripheral: ask the central for new connection parameters (4.20). */
  requestConnectionParameterUpdate(handle: number, min: number, max: number, latency: number, timeout: number): number {
    const link = this.linkFor(handle);
    if (!link) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    link.cpu_interval_min = min;
    link.cpu_interval_max = max;
    link.cpu_latency = latency;
    link.cpu_timeout = timeout;
    link.cpu_state = CPU_SEND_REQUEST;
    this.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  /** The Connection Parameter Update Response (or a Command Reject) to our request. */
  cpuAnswered(link: L2capLeLink, identifier: number, result: number): boolean {
    if (link.cpu_state !== CPU_W4_RESPONSE || link.cpu_sig_id !== identifier) return false;
    link.cpu_state = CPU_NONE;
    this.ev.connectionParameterUpdateResponse(link.con_handle, result);
    return true;
  }
}
