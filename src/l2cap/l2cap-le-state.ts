/**
 * L2CAP's LE state (part of L2capState, l2cap-state.ts): the LE link records, the fixed channels'
 * handlers, the credit-based services and channels with their pools, and the event output for
 * LE events. Fields and lookups only; the protocol lives in l2cap-le-fixed.ts,
 * l2cap-le-signaling.ts and l2cap-cbm.ts.
 */
import type { Pools } from '../core/config.js';
import type { Pool } from '../core/pool.js';
import { EventOut, type EventPacketLog } from '../core/event-out.js';
import type { PacketHandler } from '../hci/hci-service.js';
import { L2capCbmChannel, L2capLeLink, L2capLeService, CBM_CLOSED } from './l2cap-le-objects.js';

/** Fixed channel ids a handler may be registered for (0x0000-0x003F, Vol 3 Part A 2.1). */
export const L2CAP_FIXED_CID_LAST = 0x3f;
/** First and last dynamically allocated CID on LE-U (Vol 3 Part A, 2.1, Table 2.3). */
export const L2CAP_LE_CID_DYNAMIC_FIRST = 0x0040;
export const L2CAP_LE_CID_DYNAMIC_LAST = 0x007f;

export class L2capLeState {
  readonly linkPool: Pool<L2capLeLink>;
  readonly servicePool: Pool<L2capLeService>;
  readonly channelPool: Pool<L2capCbmChannel>;
  links: L2capLeLink[] = [];
  services: L2capLeService[] = [];
  /** Live credit-based channels in creation order (copy-on-write). */
  channels: L2capCbmChannel[] = [];
  /** l2cap_register_fixed_channel handlers by CID. */
  readonly fixed: (PacketHandler | null)[] = new Array<PacketHandler | null>(L2CAP_FIXED_CID_LAST + 1).fill(null);
  readonly out: EventOut;
  /** Our MPS range on ECBM channels (l2cap_ecbm_mps_set_min / _max; Vol 3 Part A 4.25: 64-65533). */
  ecbm_mps_min = 64;
  ecbm_mps_max = 65533;
  private nextCid = L2CAP_LE_CID_DYNAMIC_FIRST;

  constructor(pools: Pools, packet_log: EventPacketLog | null) {
    this.out = new EventOut(packet_log);
    this.linkPool = pools.create(
      'MAX_NR_HCI_CONNECTIONS',
      'l2cap_le_links',
      () => new L2capLeLink(),
      (l) => l.reset(),
    );
    this.servicePool = pools.create(
      'MAX_NR_L2CAP_SERVICES',
      'l2cap_le_services',
      () => new L2capLeService(),
      (s) => s.reset(),
    );
    this.channelPool = pools.create(
      'MAX_NR_L2CAP_CHANNELS',
      'l2cap_le_channels',
      () => new L2capCbmChannel(),
      (c) => c.reset(),
    );
  }

  linkForHandle(con_handle: number): L2capLeLink | null {
    const l = this.links;
    for (let i = 0; i < l.length; i++) if (l[i]!.con_handle === con_handle) return l[i]!;
    return null;
  }

  serviceFor(psm: number): L2capLeService | null {
    for (const s of this.services) if (s.psm === psm) return s;
    return null;
  }

  channelForCid(local_cid: number): L2capCbmChannel | null {
    const c = this.channels;
    for (let i = 0; i < c.length; i++) if (c[i]!.local_cid === local_cid && c[i]!.state !== CBM_CLOSED) return c[i]!;
    return null;
  }

  /** The live channel on `con_handle` whose remote end is `remote_cid`. */
  channelForRemote(con_handle: number, remote_cid: number): L2capCbmChannel | null {
    for (const c of this.channels)
      if (c.con_handle === con_handle && c.remote_cid === remote_cid && c.state !== CBM_CLOSED) return c;
    return null;
  }

  /**
   * A free LE dynamic CID (0x0040-0x007F, wrapping), or 0 when all are in use. CIDs are
   * allocated per host, not per link: simpler, and the pool is smaller than the range.
   */
  allocateCid(): number {
    const n = L2CAP_LE_CID_DYNAMIC_LAST - L2CAP_LE_CID_DYNAMIC_FIRST + 1;
    for (let i = 0; i < n; i++) {
      const cid = this.nextCid;
      this.nextCid = cid >= L2CAP_LE_CID_DYNAMIC_LAST ? L2CAP_LE_CID_DYNAMIC_FIRST : cid + 1;
      if (!this.channels.some((c) => c.local_cid === cid)) return cid;
    }
    return 0;
  }
}
