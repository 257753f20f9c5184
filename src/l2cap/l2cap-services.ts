/**
 * The PSM registry (l2cap_register_service / l2cap_unregister_service: registered services make
 * the device connectable) and connectionless data to and from registered PSMs (G-frames on CID
 * 0x0002, FreeBSD's ENABLE_CLT; reception off by default per PSM).
 */
import { little_endian_read_16, little_endian_store_16 } from '../core/bytes.js';
import {
  BTSTACK_ACL_BUFFERS_FULL,
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  L2CAP_CID_CONNECTIONLESS_CHANNEL,
  L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU,
  L2CAP_SERVICE_ALREADY_REGISTERED,
  L2CAP_SERVICE_DOES_NOT_EXIST,
  UCD_DATA_PACKET,
} from '../codes/v1.4.js';
import { ViewCache } from '../core/span.js';
import { COMPLETE_L2CAP_HEADER, L2CAP_CONNECTIONLESS_MTU, type L2capLink, type L2capPacketHandler } from './l2cap-objects.js';
import { l2cap_sig_psm_length } from './signaling.js';
import type { L2capState } from './l2cap-state.js';

/** What the services need from their siblings. */
export interface L2capServicesPeers {
  noteActivity(link: L2capLink): void;
  /** Send the reserved outgoing buffer holding `len` payload octets on `cid` (l2cap-run.ts). */
  sendPrepared(con_handle: number, cid: number, len: number): number;
}

export class L2capServices {
  /** Views of received connectionless data (cached per buffer and offset). */
  private readonly views = new ViewCache(4);

  constructor(
    private readonly s: L2capState,
    private readonly x: L2capServicesPeers,
  ) {}

  register(handler: L2capPacketHandler, psm: number, mtu: number, security_level: number): number {
    const s = this.s;
    if (s.serviceFor(psm)) return L2CAP_SERVICE_ALREADY_REGISTERED;
    const svc = s.servicePool.get();
    if (!svc) return BTSTACK_MEMORY_ALLOC_FAILED;
    svc.psm = psm;
    svc.mtu = s.clampMtu(mtu);
    svc.required_security_level = security_level;
    svc.handler = handler;
    s.services = [...s.services, svc];
    s.log.info(() => `L2CAP service registered: PSM 0x${psm.toString(16)} MTU ${svc.mtu} security level ${security_level}`);
    s.hci.gap.gap_connectable_control(1);
    return ERROR_CODE_SUCCESS;
  }

  unregister(psm: number): number {
    const s = this.s;
    const svc = s.serviceFor(psm);
    if (!svc) return L2CAP_SERVICE_DOES_NOT_EXIST;
    s.services = s.services.filter((x) => x !== svc);
    s.servicePool.free(svc);
    if (s.services.length === 0) s.hci.gap.gap_connectable_control(0);
    return ERROR_CODE_SUCCESS;
  }

  connectionlessEnable(psm: number, enable: boolean): number {
    const svc = this.s.serviceFor(psm);
    if (!svc) return L2CAP_SERVICE_DOES_NOT_EXIST;
    svc.connectionless_enabled = enable;
    return ERROR_CODE_SUCCESS;
  }

  canSendConnectionless(con_handle: number): boolean {
    return !!this.s.linkForHandle(con_handle) && this.s.hci.hci_can_send_acl_packet_now(con_handle);
  }

  sendConnectionless(con_handle: number, psm: number, data: Uint8Array, len: number): number {
    const s = this.s;
    const link = s.linkForHandle(con_handle);
    if (!link) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (len > L2CAP_CONNECTIONLESS_MTU) return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (!s.hci.hci_can_send_acl_packet_now(con_handle) || !s.hci.hci_reserve_packet_buffer()) return BTSTACK_ACL_BUFFERS_FULL;
    this.x.noteActivity(link);
    const buf = s.hci.hci_get_outgoing_packet_buffer();
    little_endian_store_16(buf, COMPLETE_L2CAP_HEADER, psm);
    buf.set(len === data.length ? data : data.subarray(0, len), COMPLETE_L2CAP_HEADER + 2);
    return this.x.sendPrepared(con_handle, L2CAP_CID_CONNECTIONLESS_CHANNEL, len + 2);
  }

  /** A G-frame on CID 0x0002 (payload packet[8, 8 + len)) from the remote of `link`. */
  receiveConnectionless(link: L2capLink, packet: Uint8Array, len: number): void {
    const s = this.s;
    const plen = l2cap_sig_psm_length(packet, COMPLETE_L2CAP_HEADER, len);
    if (plen < 0) {
      s.log.error('connectionless frame without a complete PSM, dropped');
      return;
    }
    const psm = plen === 2 ? little_endian_read_16(packet, COMPLETE_L2CAP_HEADER) : -1;
    const svc = psm >= 0 ? s.serviceFor(psm) : null;
    if (!svc || !svc.connectionless_enabled || !svc.handler) {
      s.log.debug(() => `connectionless data for PSM 0x${psm.toString(16)} not enabled, dropped`);
      return;
    }
    const start = COMPLETE_L2CAP_HEADER + plen;
    svc.handler(UCD_DATA_PACKET, link.con_handle, this.views.at(packet, start), len - plen);
  }
}
