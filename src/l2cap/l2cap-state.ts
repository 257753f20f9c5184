/**
 * L2CAP's state record (the layer pattern, docs/ARCHITECTURE.md): what the components of the
 * layer share. The Stack's services (run loop, config, logger, code profile, HCI), the pools and
 * the lists of services, channels and links, the event output, the layer's counters. Fields and
 * lookups only: the protocol lives in the components (l2cap-channels.ts, l2cap-links.ts,
 * l2cap-run.ts, l2cap-input.ts, l2cap-signaling-in.ts, l2cap-echo-info.ts, l2cap-services.ts).
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';
import type { Pools, StackConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { EventPacketLog } from '../core/event-out.js';
import type { Pool } from '../core/pool.js';
import type { RunLoop } from '../core/run-loop.js';
import type { Codes } from '../codes/index.js';
import { L2CAP_MINIMAL_MTU, L2CAP_STATE_CLOSED } from '../codes/v1.4.js';
import type { HciService } from '../hci/hci-service.js';
import { L2CAP_CID_DYNAMIC_FIRST } from './pdu.js';
import {
  COMPLETE_L2CAP_HEADER,
  L2CAP_DEFAULT_AUTO_DISCONNECT_TIMEOUT_MS,
  L2capChannel,
  L2capLink,
  L2capService,
} from './l2cap-objects.js';
import { L2capEvents } from './l2cap-events.js';
import { L2capLeState } from './l2cap-le-state.js';

/** What L2CAP needs from the Stack that owns it. */
export interface L2capHost {
  readonly run_loop: RunLoop;
  readonly config: StackConfig;
  readonly pools: Pools;
  readonly log: Logger;
  readonly codes: Codes;
  readonly hci: HciService;
  /** Packet log for L2CAP's events (the stack's HciDump); none: not logged. */
  readonly dump?: EventPacketLog;
}

export class L2capState {
  readonly run_loop: RunLoop;
  readonly config: StackConfig;
  readonly log: Logger;
  readonly codes: Codes;
  readonly hci: HciService;

  readonly channelPool: Pool<L2capChannel>;
  readonly servicePool: Pool<L2capService>;
  readonly linkPool: Pool<L2capLink>;
  /** Live channels in creation order (copy-on-write: iterate a captured reference). */
  channels: L2capChannel[] = [];
  services: L2capService[] = [];
  links: L2capLink[] = [];

  /** Event builders and the l2cap_add_event_handler registrations. */
  readonly events: L2capEvents;
  /** LE links, fixed channels, credit-based services and channels (l2cap-le-state.ts). */
  readonly le: L2capLeState;
  /** l2cap_init done: hooked into HCI. */
  initialized = false;
  /** Auto-disconnect timeout of idle links in ms (0 = never). */
  auto_disconnect_timeout_ms = L2CAP_DEFAULT_AUTO_DISCONNECT_TIMEOUT_MS;
  private nextLocalCid = L2CAP_CID_DYNAMIC_FIRST;
  private sigId = 0;

  constructor(host: L2capHost) {
    this.run_loop = host.run_loop;
    this.config = host.config;
    this.log = host.log;
    this.codes = host.codes;
    this.hci = host.hci;
    this.events = new L2capEvents(this.codes, this.log, host.dump ?? null);
    this.le = new L2capLeState(host.pools, host.dump ?? null);
    this.channelPool = host.pools.create(
      'MAX_NR_L2CAP_CHANNELS',
      'l2cap_channels',
      () => new L2capChannel(),
      (c) => c.reset(),
    );
    this.servicePool = host.pools.create(
      'MAX_NR_L2CAP_SERVICES',
      'l2cap_services',
      () => new L2capService(),
      (s) => s.reset(),
    );
    this.linkPool = host.pools.create(
      'MAX_NR_HCI_CONNECTIONS',
      'l2cap_links',
      () => new L2capLink(),
      (l) => l.reset(),
    );
  }

  serviceFor(psm: number): L2capService | null {
    for (const s of this.services) if (s.psm === psm) return s;
    return null;
  }

  /** A live channel by local CID (CLOSED ones, being torn down, are not found). */
  channelForCid(local_cid: number): L2capChannel | null {
    if (!Number.isInteger(local_cid)) return null;
    for (const c of this.channels) if (c.local_cid === local_cid && c.state !== L2CAP_STATE_CLOSED) return c;
    return null;
  }

  /** The live channel on `con_handle` with local CID `cid`, or null. */
  channelOnLink(con_handle: number, cid: number): L2capChannel | null {
    for (const c of this.channels) {
      if (c.local_cid === cid && c.con_handle === con_handle && c.state !== L2CAP_STATE_CLOSED) return c;
    }
    return null;
  }

  linkForHandle(con_handle: number): L2capLink | null {
    const links = this.links;
    for (let i = 0; i < links.length; i++) if (links[i]!.con_handle === con_handle) return links[i]!;
    return null;
  }

  linkForAddr(addr: BdAddr): L2capLink | null {
    for (const l of this.links) if (bd_addr_cmp(l.address, addr) === 0) return l;
    return null;
  }

  /** A free dynamic CID (0x0040..0xFFFF, wrapping). */
  allocateCid(): number {
    for (let i = 0; i < 0x10000; i++) {
      const cid = this.nextLocalCid;
      this.nextLocalCid = cid >= 0xffff ? L2CAP_CID_DYNAMIC_FIRST : cid + 1;
      if (!this.channels.some((c) => c.local_cid === cid) && !this.le.channels.some((c) => c.local_cid === cid)) return cid;
    }
    return L2CAP_CID_DYNAMIC_FIRST; // unreachable: the pool is far smaller than the CID space
  }

  /** Next signalling identifier (1..255, never 0). */
  nextSigId(): number {
    this.sigId = this.sigId >= 0xff ? 1 : this.sigId + 1;
    return this.sigId;
  }

  /** Largest MTU this stack supports: what fits a pooled packet buffer, at most 65535. */
  maxMtu(): number {
    return Math.max(L2CAP_MINIMAL_MTU, Math.min(0xffff, this.config.HCI_PACKET_BUFFER_SIZE - COMPLETE_L2CAP_HEADER));
  }

  clampMtu(mtu: number): number {
    return Math.max(L2CAP_MINIMAL_MTU, Math.min(mtu, this.maxMtu()));
  }
}
