/**
 * Fixed channels on BR/EDR links (Vol 3 Part A 2.1, Table 2.1): today the BR/EDR Security Manager
 * channel 0x0007 (SMP over BR/EDR, cross-transport key derivation; Vol 3 Part H 3.2). The same
 * BTstack API as the LE fixed channels (l2cap_register_fixed_channel & co.,
 * L2capFixedChannelService), which the facade routes here for a classic handle:
 *
 * - a PDU on CID 0x0007 reaches the handler registered for 0x0007 as (SM_DATA_PACKET, con_handle,
 *   pdu, size); other fixed CIDs below 0x0040 (besides signalling and connectionless) are dropped;
 * - our Information Response's fixed channels mask has bit 7 while a handler is registered for
 *   0x0007 (`localMask`), next to signalling (bit 1) and connectionless reception (bit 2);
 * - a fixed channel may be used on a link only once the remote announced it (Vol 3 Part A 4.12:
 *   its fixed channels mask, or it sent us a PDU on that channel): `canSend` is false until then,
 *   and `requestCanSend` starts the information exchange when it has not run, then gives exactly
 *   one L2CAP_EVENT_CAN_SEND_NOW when the remote has the channel and HCI can take a packet. A remote
 *   without the channel gets nothing (a log line);
 * - `send` (l2cap_send_connectionless) writes a B-frame with the classic packet boundary flags.
 */
import {
  BTSTACK_ACL_BUFFERS_FULL,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU,
  SM_DATA_PACKET,
} from '../codes/v1.4.js';
import { SpanCopier, ViewCache } from '../core/span.js';
import { COMPLETE_L2CAP_HEADER, INFO_DONE, INFO_IDLE, INFO_W2_SEND_EXTENDED_FEATURES, type L2capLink } from './l2cap-objects.js';
import type { L2capLeEvents } from './l2cap-le-events.js';
import { L2CAP_CID_BR_EDR_SECURITY_MANAGER } from './pdu.js';
import { L2CAP_LOCAL_FIXED_CHANNELS } from './l2cap-run.js';
import type { L2capState } from './l2cap-state.js';

/** What the component needs from the classic send side. */
export interface L2capClassicFixedPeers {
  /** Finish and send HCI's reserved buffer (payload of `len` at offset 8) on `cid` (l2cap-run.ts). */
  sendPrepared(con_handle: number, cid: number, len: number): number;
  /** Run the classic pass soon (it sends the Information Requests). */
  scheduleRun(): void;
}

export class L2capClassicFixed {
  private readonly views = new ViewCache(2);
  private readonly copier = new SpanCopier(true);
  /** Per classic handle: fixed CIDs (bits) whose handler waits for CAN_SEND_NOW. */
  private readonly waiting = new Map<number, number>();
  /** Per classic handle: fixed CIDs the remote used towards us (proof it has them). */
  private readonly seen = new Map<number, number>();
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
    private readonly x: L2capClassicFixedPeers,
  ) {}

  /** A classic ACL link HCI knows. */
  isClassic(con_handle: number): boolean {
    const conn = this.s.hci.hci_connection_for_handle(con_handle);
    return !!conn && !conn.is_le;
  }

  /** Our fixed channels mask for the Information Response (bits 0-31). */
  localMask(): number {
    return (
      L2CAP_LOCAL_FIXED_CHANNELS |
      (this.s.le.fixed[L2CAP_CID_BR_EDR_SECURITY_MANAGER] ? 1 << L2CAP_CID_BR_EDR_SECURITY_MANAGER : 0)
    );
  }

  /** The remote has this fixed channel: announced in its mask, or it used it. */
  private remoteHas(link: L2capLink, cid: number): boolean {
    const bit = 1 << cid;
    if (((this.seen.get(link.con_handle) ?? 0) & bit) !== 0) return true;
    return link.info_state === INFO_DONE && (link.fixed_channels & bit) !== 0;
  }

  canSend(con_handle: number, cid: number): boolean {
    const link = this.s.linkForHandle(con_handle);
    return !!link && cid < 32 && this.remoteHas(link, cid) && this.s.hci.hci_can_send_acl_packet_now(con_handle);
  }

  requestCanSend(con_handle: number, cid: number): void {
    const link = this.s.linkForHandle(con_handle);
    if (!link || cid >= 32) {
      this.s.log.info(
        () => `can-send-now for fixed CID 0x${cid.toString(16)} on unknown handle 0x${con_handle.toString(16)}: ignored`,
      );
      return;
    }
    this.waiting.set(con_handle, (this.waiting.get(con_handle) ?? 0) | (1 << cid));
    if (link.info_state === INFO_IDLE && !this.remoteHas(link, cid)) {
      // learn the remote's fixed channels first (extended features, then the mask)
      link.info_state = INFO_W2_SEND_EXTENDED_FEATURES;
      this.x.scheduleRun();
    }
    this.scheduleRun();
  }

  /** BTstack's l2cap_send_connectionless on a classic handle. */
  send(con_handle: number, cid: number, data: Uint8Array, len: number): number {
    const hci = this.s.hci;
    if (!this.s.linkForHandle(con_handle)) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (len > 0xffff || COMPLETE_L2CAP_HEADER + len > hci.hci_get_outgoing_packet_buffer().length)
      return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (!hci.hci_can_send_acl_packet_now(con_handle) || !hci.hci_reserve_packet_buffer()) return BTSTACK_ACL_BUFFERS_FULL;
    this.copier.copy(hci.hci_get_outgoing_packet_buffer(), COMPLETE_L2CAP_HEADER, data, 0, len);
    return this.x.sendPrepared(con_handle, cid, len);
  }

  /** A PDU on fixed CID `cid` (payload packet[8, 8 + len)) of a classic link; false: not ours (dropped by the caller). */
  onPdu(link: L2capLink, cid: number, packet: Uint8Array, len: number): boolean {
    if (cid !== L2CAP_CID_BR_EDR_SECURITY_MANAGER) return false;
    const h = this.s.le.fixed[cid];
    if (!h) return false;
    this.seen.set(link.con_handle, (this.seen.get(link.con_handle) ?? 0) | (1 << cid));
    h(SM_DATA_PACKET, link.con_handle, this.views.at(packet, COMPLETE_L2CAP_HEADER), len);
    return true;
  }

  scheduleRun(): void {
    if (this.runScheduled || this.waiting.size === 0) return;
    this.runScheduled = true;
    this.s.run_loop.execute_on_main_thread((this.#scheduledRun ??= this.scheduledRun.bind(this)));
  }

  /** CAN_SEND_NOW to the waiting handlers whose remote has the channel and whose link can take a packet. */
  run(): void {
    if (this.waiting.size === 0) return;
    for (const [handle, bits] of [...this.waiting]) {
      const link = this.s.linkForHandle(handle);
      if (!link) {
        this.waiting.delete(handle);
        this.seen.delete(handle);
        continue;
      }
      let left = bits;
      for (let cid = 0; cid < 32 && left !== 0; cid++) {
        const bit = 1 << cid;
        if ((left & bit) === 0) continue;
        if (!this.remoteHas(link, cid)) {
          if (link.info_state === INFO_DONE) {
            left &= ~bit;
            this.s.log.info(() => `handle 0x${handle.toString(16)}: the remote has no fixed channel 0x${cid.toString(16)}`);
          }
          continue;
        }
        if (!this.s.hci.hci_can_send_acl_packet_now(handle)) break;
        left &= ~bit;
        this.setWaiting(handle, left);
        const h = this.s.le.fixed[cid];
        if (h) this.ev.fixedCanSendNow(h, handle, cid);
        left = this.waiting.get(handle) ?? 0; // the handler may have asked again
      }
      this.setWaiting(handle, left);
    }
  }

  private setWaiting(handle: number, bits: number): void {
    if (bits === 0) this.waiting.delete(handle);
    else this.waiting.set(handle, bits);
  }

  /** The link is gone. */
  linkDown(handle: number): void {
    this.waiting.delete(handle);
    this.seen.delete(handle);
  }
}
