/**
 * The RFCOMM layer's state record (BTstack's rfcomm.c globals): configuration, the pools and lists
 * of services, multiplexers and DLCs, the L2CAP service below, the event output, and lookups.
 * Shared by the layer's components (rfcomm-lifecycle.ts, rfcomm-output.ts, rfcomm-input.ts,
 * rfcomm-mux-input.ts) and the facade (rfcomm.ts); no other layer sees it.
 *
 * Every state change of a multiplexer or a DLC goes through setMuxState / setChannelState, which
 * log the transition by name at debug level (`rfcomm mux 0x000b: W4_UA_0 -> OPEN (UA)`).
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';
import type { Pools } from '../core/config.js';
import type { EventPacketLog } from '../core/event-out.js';
import { LOG_LEVEL_DEBUG, type Logger } from '../core/log.js';
import type { Pool } from '../core/pool.js';
import type { RunLoop } from '../core/run-loop.js';
import type { Codes } from '../codes/index.js';
import { LEVEL_2, RFCOMM_CREDITS } from '../codes/v1.4.js';
import type { L2capService } from '../l2cap/l2cap-service.js';
import { RfcommEvents } from './rfcomm-events.js';
import {
  CH_STATE_NAMES,
  MUX_CLOSED,
  MUX_SEND_UA_0_AND_DISC,
  MUX_SHUTTING_DOWN,
  MUX_STATE_NAMES,
  MUX_W4_UA_0_AFTER_DISC,
  RfcommChannel,
  RfcommMultiplexer,
  RfcommService,
  frameSizeForMtu,
} from './rfcomm-objects.js';
import { ViewCache } from '../core/span.js';

/** BTstack's RFCOMM_MULIPLEXER_TIMEOUT_MS: a multiplexer without DLCs is closed after this long. */
export const RFCOMM_MULTIPLEXER_TIMEOUT_MS = 60_000;
/** T1/T2 (RFCOMM spec 5.3, range 10-60 s): how long we wait for UA, PN and MSC responses. */
export const RFCOMM_RESPONSE_TIMEOUT_MS = 60_000;
/** How long a multiplexer waits for L2CAP to report its channel closed before freeing itself. */
export const RFCOMM_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Automatic credits: grant more once the peer holds fewer than this. */
export const RFCOMM_CREDITS_LOW_WATER = RFCOMM_CREDITS >> 1;
/** Frames sent in one CAN_SEND_NOW handler before the rest is left to the next event. */
export const MAX_FRAMES_PER_TOKEN = 32;

/** What RFCOMM needs from its Stack. */
export interface RfcommStackLike {
  readonly run_loop: RunLoop;
  readonly pools: Pools;
  readonly codes: Codes;
  readonly log: Logger;
  /** Packet log for RFCOMM's events (the stack's HciDump); none: not logged. */
  readonly dump?: EventPacketLog;
  readonly l2cap?: L2capService;
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

export class RfcommState {
  readonly run_loop: RunLoop;
  readonly log: Logger;
  readonly codes: Codes;
  readonly events: RfcommEvents;
  /** The L2CAP layer below (null until attached). */
  l2cap: L2capService | null;
  /** Security level asked of L2CAP for PSM 3: LEVEL_2 as BTstack's rfcomm_init (rfcomm_set_required_security_level changes it). */
  security_level = LEVEL_2;
  /** Idle time after which a multiplexer without DLCs is closed (DISC on DLCI 0). */
  multiplexer_timeout_ms = RFCOMM_MULTIPLEXER_TIMEOUT_MS;
  /** T1/T2 response timer. */
  response_timeout_ms = RFCOMM_RESPONSE_TIMEOUT_MS;

  readonly servicePool: Pool<RfcommService>;
  readonly muxPool: Pool<RfcommMultiplexer>;
  readonly channelPool: Pool<RfcommChannel>;
  readonly services: RfcommService[] = [];
  readonly muxes: RfcommMultiplexer[] = [];
  readonly channels: RfcommChannel[] = [];
  cidGenerator = 0;
  /** PSM 3 is registered with L2CAP (from the first service until the last is gone). */
  l2capRegistered = false;
  /** Largest information field we offer (L2CAP MTU - 5, at most 32767). */
  readonly maxInfo: number;
  /** Views of received data (one per L2CAP buffer and header size): no view per frame. */
  readonly rxViews = new ViewCache(4);

  constructor(stack: RfcommStackLike, l2cap?: L2capService) {
    this.run_loop = stack.run_loop;
    this.log = stack.log;
    this.codes = stack.codes;
    this.l2cap = l2cap ?? stack.l2cap ?? null;
    this.events = new RfcommEvents(stack.codes, stack.dump ?? null);
    const pools = stack.pools;
    this.servicePool = pools.create(
      'MAX_NR_RFCOMM_SERVICES',
      'rfcomm_services',
      () => new RfcommService(),
      (s) => s.reset(),
    );
    this.muxPool = pools.create(
      'MAX_NR_RFCOMM_MULTIPLEXERS',
      'rfcomm_multiplexers',
      () => new RfcommMultiplexer(),
      (m) => m.reset(),
    );
    this.channelPool = pools.create(
      'MAX_NR_RFCOMM_CHANNELS',
      'rfcomm_channels',
      () => new RfcommChannel(),
      (c) => c.reset(),
    );
    this.maxInfo = frameSizeForMtu(this.l2capMaxMtu(pools.config.HCI_ACL_PAYLOAD_SIZE - 4));
  }

  // ====================================================================== the two state machines

  /**
   * The one way a multiplexer changes state; logs `rfcomm mux <con_handle>: FROM -> TO (why)` at
   * debug level (nothing is built unless a sink listens at debug level). The handle is 0xffff
   * until L2CAP reports the channel open.
   */
  setMuxState(mux: RfcommMultiplexer, state: number, why: string): void {
    const from = mux.state;
    if (from === state) return;
    mux.state = state;
    if (this.log.level <= LOG_LEVEL_DEBUG && this.log.enabled)
      this.log.debug(
        () => `rfcomm mux 0x${hex4(mux.con_handle)}: ${MUX_STATE_NAMES[from]} -> ${MUX_STATE_NAMES[state]} (${why})`,
      );
  }

  /** The one way a DLC changes state; logs `rfcomm dlci <n> cid <rfcomm_cid>: FROM -> TO (why)` at debug level. */
  setChannelState(ch: RfcommChannel, state: number, why: string): void {
    const from = ch.state;
    if (from === state) return;
    ch.state = state;
    if (this.log.level <= LOG_LEVEL_DEBUG && this.log.enabled)
      this.log.debug(
        () => `rfcomm dlci ${ch.dlci} cid 0x${hex4(ch.rfcomm_cid)}: ${CH_STATE_NAMES[from]} -> ${CH_STATE_NAMES[state]} (${why})`,
      );
  }

  // ====================================================================== lookups

  // the lookups on the data path index the arrays (no iterator per frame before optimisation)
  channelForCid(cid: number): RfcommChannel | null {
    const chs = this.channels;
    for (let i = 0; i < chs.length; i++) if (chs[i]!.rfcomm_cid === cid) return chs[i]!;
    return null;
  }

  channelFor(mux: RfcommMultiplexer, dlci: number): RfcommChannel | null {
    const chs = this.channels;
    for (let i = 0; i < chs.length; i++) if (chs[i]!.mux === mux && chs[i]!.dlci === dlci) return chs[i]!;
    return null;
  }

  /** Whether any DLC runs on `mux`. */
  hasChannels(mux: RfcommMultiplexer): boolean {
    for (const ch of this.channels) if (ch.mux === mux) return true;
    return false;
  }

  serviceFor(server_channel: number): RfcommService | null {
    for (const s of this.services) if (s.server_channel === server_channel) return s;
    return null;
  }

  /** The multiplexer with `addr` that can take new DLCs (not closing down). */
  muxForAddr(addr: BdAddr): RfcommMultiplexer | null {
    for (const m of this.muxes) {
      if (
        m.state === MUX_SHUTTING_DOWN ||
        m.state === MUX_W4_UA_0_AFTER_DISC ||
        m.state === MUX_SEND_UA_0_AND_DISC ||
        m.state === MUX_CLOSED
      )
        continue;
      if (bd_addr_cmp(m.addr, addr) === 0) return m;
    }
    return null;
  }

  muxForL2capCid(cid: number): RfcommMultiplexer | null {
    if (!cid) return null;
    const ms = this.muxes;
    for (let i = 0; i < ms.length; i++) if (ms[i]!.l2cap_cid === cid) return ms[i]!;
    return null;
  }

  nextCid(): number {
    do {
      this.cidGenerator = this.cidGenerator >= 0xffff ? 1 : this.cidGenerator + 1;
    } while (this.channelForCid(this.cidGenerator));
    return this.cidGenerator;
  }

  requireL2cap(): L2capService {
    if (!this.l2cap) throw new Error("RFCOMM: no L2CAP layer (create the stack's L2CAP first or pass one to new Rfcomm)");
    return this.l2cap;
  }

  /** L2CAP's largest incoming MTU, `fallback` without an L2CAP layer. */
  l2capMaxMtu(fallback: number): number {
    const m = this.l2cap ? this.l2cap.l2cap_max_mtu() : 0;
    return m > 0 ? m : fallback;
  }
}
