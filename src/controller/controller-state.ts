/**
 * ControllerState: the data of one virtual controller (the pattern's state record, like BTstack's
 * one struct per layer): its configuration, what the host wrote (event masks, baseband settings,
 * filters, host buffer size), the ACL buffers and connections, the BR/EDR and LE procedure data,
 * the fault plan, the host queue and the event writer. Fields and tiny lookups only; the
 * procedures are in the components (controller-*.ts), which the facade (controller.ts) wires.
 *
 * The other controllers on the RadioLink read a peer's state (its address, scan settings,
 * features, advertising data) and reach its components only through `ops` (ControllerOps); the air
 * links call its ACL component through `air` (ControllerAirPort).
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';
import { Timer, type RunLoop } from '../core/run-loop.js';
import { SlotPool, type LinkEnd } from './air.js';
import {
  DEFAULT_EVENT_MASK_HI,
  DEFAULT_EVENT_MASK_LO,
  DEFAULT_LE_EVENT_MASK_HI,
  DEFAULT_LE_EVENT_MASK_LO,
  GIAC,
  LE_FEATURES,
  LE_MIN_OCTETS,
  LE_MIN_TIME,
  LE_RESOLVING_LIST_SIZE,
  LE_SUPPORTED_STATES,
  LMP_FEATURES_PAGE0,
  LMP_FEATURES_PAGE2,
} from './defs.js';
import { Events, type EventMasks } from './controller-events.js';
import { ResolvingList } from './controller-privacy.js';
import { HostQueue } from './host-queue.js';
import type { RadioLink } from './link.js';

export interface ControllerOptions {
  /** Public address; default derived from the link seed. */
  bd_addr?: BdAddr | string;
  /** Local name after reset (default 'bthost virtual controller'). */
  name?: string;
  /** ACL data buffers (default 8) of `acl_size` bytes (default 1021). */
  acl_buffers?: number;
  acl_size?: number;
  /** LE data buffers (default 8) of `le_size` bytes (default 251); 0 buffers = shared with ACL. */
  le_buffers?: number;
  le_size?: number;
  sco_buffers?: number;
  sco_size?: number;
  hci_version?: number;
  hci_revision?: number;
  lmp_version?: number;
  lmp_subversion?: number;
  /** Company identifier (default 0xFFFF, "for internal and interoperability tests"). */
  manufacturer?: number;
  /** Class of device after reset (default 0). */
  class_of_device?: number;
  /**
   * Largest ACL data length handed to the host (0, the default: the air packet size, 1021 on
   * BR/EDR). Above the air packet size the controller joins the pieces of each L2CAP PDU, so a
   * PDU reaches the host unfragmented up to this size (65535 at most); never above the host's
   * Host_ACL_Data_Packet_Length (Host Buffer Size). See host-acl.ts.
   */
  acl_to_host_max?: number;
  /**
   * Pose as a Broadcom/Cypress UART chip that takes a patch (.hcd) download: Download Minidriver,
   * Write RAM, Launch RAM are accepted (controller-bcm.ts); without it they are unknown commands.
   * `patched_lmp_subversion`: what Read Local Version reports after Launch RAM (default the
   * configured subversion + 0x0100).
   */
  bcm?: boolean | { patched_lmp_subversion?: number };
  /** Entries in the LE resolving list (default 8); 0: no LL Privacy (controller-privacy.ts). */
  resolving_list_size?: number;
}

/** ControllerOptions checked, with defaults. */
export interface ControllerConfig {
  name: Uint8Array;
  acl_buffers: number;
  acl_size: number;
  le_buffers: number;
  le_size: number;
  sco_buffers: number;
  sco_size: number;
  hci_version: number;
  hci_revision: number;
  lmp_version: number;
  lmp_subversion: number;
  manufacturer: number;
  class_of_device: number;
  acl_to_host_max: number;
  /** Accepts the BCM patch download (null: does not); the LMP subversion after Launch RAM. */
  bcm: { patched_lmp_subversion: number } | null;
  resolving_list_size: number;
}

function intOpt(v: number | undefined, def: number, min: number, max: number, what: string): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what} must be an integer in ${min}..${max}`);
  return v;
}

function nameBytes(s: string): Uint8Array {
  const out = new Uint8Array(248);
  out.set(new TextEncoder().encode(s).subarray(0, 247));
  return out;
}

/** Check the options (RangeError on a bad one) and fill in the defaults. */
export function resolve_controller_options(options: ControllerOptions): Readonly<ControllerConfig> {
  return Object.freeze({
    name: nameBytes(options.name ?? 'bthost virtual controller'),
    acl_buffers: intOpt(options.acl_buffers, 8, 1, 0xffff, 'acl_buffers'),
    acl_size: intOpt(options.acl_size, 1021, 27, 0xffff, 'acl_size'),
    le_buffers: intOpt(options.le_buffers, 8, 0, 0xff, 'le_buffers'),
    le_size: intOpt(options.le_size, 251, 27, 0xffff, 'le_size'),
    sco_buffers: intOpt(options.sco_buffers, 8, 0, 0xffff, 'sco_buffers'),
    sco_size: intOpt(options.sco_size, 64, 0, 0xff, 'sco_size'),
    hci_version: intOpt(options.hci_version, 0x09, 0, 0xff, 'hci_version'),
    hci_revision: intOpt(options.hci_revision, 0x0001, 0, 0xffff, 'hci_revision'),
    lmp_version: intOpt(options.lmp_version, 0x09, 0, 0xff, 'lmp_version'),
    lmp_subversion: intOpt(options.lmp_subversion, 0x0001, 0, 0xffff, 'lmp_subversion'),
    manufacturer: intOpt(options.manufacturer, 0xffff, 0, 0xffff, 'manufacturer'),
    class_of_device: intOpt(options.class_of_device, 0, 0, 0xffffff, 'class_of_device'),
    acl_to_host_max: intOpt(options.acl_to_host_max, 0, 0, 0xffff, 'acl_to_host_max'),
    resolving_list_size: intOpt(options.resolving_list_size, LE_RESOLVING_LIST_SIZE, 0, 0xff, 'resolving_list_size'),
    bcm: options.bcm
      ? Object.freeze({
          patched_lmp_subversion: intOpt(
            typeof options.bcm === 'object' ? options.bcm.patched_lmp_subversion : undefined,
            ((options.lmp_subversion ?? 0x0001) + 0x0100) & 0xffff,
            0,
            0xffff,
            'bcm.patched_lmp_subversion',
          ),
        })
      : null,
  });
}

/** A pipe of an air link waiting for the host to take ACL data again. */
export interface BlockedPipe {
  rearm(): void;
}

/** What the air links call on this controller's ACL path (controller-acl.ts, per packet). */
export interface ControllerAirPort {
  /** Buffers back to the sender: Number Of Completed Packets on the next turn. */
  schedule_completed_packets(): void;
  may_deliver(pipe: BlockedPipe): boolean;
  acl_to_host(handle: number, pb: number, data: Uint8Array, off: number, n: number): void;
  host_fragment_size(air_max: number): number;
  connection_closed(end: LinkEnd, reason: number): void;
}

/**
 * What the other controllers on the radio call on this controller; the facade wires each to the
 * component that owns it.
 */
export interface ControllerOps {
  // a pager's page (controller-classic.ts)
  page_arrived(from: ControllerState, page: Page): void;
  page_withdrawn(from: ControllerState, status: number): void;
  page_failed(page: Page, status: number): void;
  // LE (controller-le.ts)
  try_connect(): void;
  stop_advertising(): void;
  /** Taken off the air (RadioLink.remove_controller). */
  power_off(): void;
}

/** Key of an address in the procedure maps. */
export const addr_key = (a: BdAddr): string => Array.from(a, (x) => x.toString(16).padStart(2, '0')).join('');

export interface Inquiry {
  lap: number;
  max: number;
  count: number;
  reported: Set<ControllerState>;
  end: Timer;
  tick: Timer | null;
}

/** An outgoing page (Create Connection) of this controller. */
export interface Page {
  addr: BdAddr;
  allow_role_switch: number;
  timeout: Timer | null;
  retry: Timer | null;
  /** The target holding our Connection Request, once reached. */
  target: ControllerState | null;
}

/** A Connection Request this controller's host has to answer. */
export interface Incoming {
  from: ControllerState;
  from_gen: number;
  page: Page;
  timer: Timer;
}

/** BR/EDR procedures in progress (reset by HCI Reset). */
export class ClassicData {
  inquiry: Inquiry | null = null;
  readonly pages = new Map<string, Page>();
  readonly incoming = new Map<string, Incoming>();
  readonly name_requests = new Map<string, Timer>();

  clear(): void {
    this.inquiry = null;
    this.pages.clear();
    this.incoming.clear();
    this.name_requests.clear();
  }
}

export const ADV_IND = 0x00;

export interface Initiating {
  filter_policy: number;
  peer_type: number;
  peer: BdAddr;
  own_type: number;
  interval_max: number;
  latency: number;
  timeout: number;
}

/** Key of an LE filter accept list entry. */
export const accept_list_key = (type: number, addr: BdAddr): string => `${type}:${Array.from(addr).join(',')}`;

/** LE advertising, scanning and initiating settings and state (reset by HCI Reset). */
export class LeData {
  random_addr: BdAddr | null = null;
  adv_interval_min = 0x0800;
  adv_interval_max = 0x0800;
  adv_type = ADV_IND;
  adv_own_type = 0;
  adv_peer_type = 0;
  adv_peer: BdAddr = new Uint8Array(6);
  adv_channel_map = 0x07;
  adv_filter = 0;
  adv_data = new Uint8Array(31);
  adv_len = 0;
  scan_rsp = new Uint8Array(31);
  scan_rsp_len = 0;
  adv_enabled = false;
  adv_timer: Timer | null = null;
  adv_timeout: Timer | null = null;
  /** Run-loop time of the last advertising event. */
  adv_last = -1;
  /** Run-loop time scanning was enabled. */
  scan_since = 0;
  scan_type = 0;
  scan_interval = 0x0010;
  scan_window = 0x0010;
  scan_own_type = 0;
  scan_filter = 0;
  scan_enabled = false;
  filter_duplicates = 0;
  readonly seen = new Set<string>();
  initiating: Initiating | null = null;
  suggested_tx_octets = LE_MIN_OCTETS;
  suggested_tx_time = LE_MIN_TIME;
  /** LE Set Default PHY: ALL_PHYS, TX_PHYS, RX_PHYS (3, 0, 0 after reset: no preference). */
  default_all_phys = 3;
  default_tx_phys = 0;
  default_rx_phys = 0;
  /** Filter accept list: entries "type:address" (type 0 public, 1 random, 0xFF anonymous). */
  readonly accept_list = new Set<string>();
  /** LL Privacy: the resolving list, address resolution, RPA timeout (controller-privacy.ts). */
  readonly rl = new ResolvingList();

  constructor(private readonly public_addr: () => BdAddr) {}

  reset(): void {
    this.random_addr = null;
    this.adv_interval_min = 0x0800;
    this.adv_interval_max = 0x0800;
    this.adv_type = ADV_IND;
    this.adv_own_type = 0;
    this.adv_peer_type = 0;
    this.adv_peer = new Uint8Array(6);
    this.adv_channel_map = 0x07;
    this.adv_filter = 0;
    this.adv_data = new Uint8Array(31);
    this.adv_len = 0;
    this.scan_rsp = new Uint8Array(31);
    this.scan_rsp_len = 0;
    this.adv_enabled = false;
    this.adv_timer = null;
    this.adv_timeout = null;
    this.adv_last = -1;
    this.scan_since = 0;
    this.scan_type = 0;
    this.scan_interval = 0x0010;
    this.scan_window = 0x0010;
    this.scan_own_type = 0;
    this.scan_filter = 0;
    this.scan_enabled = false;
    this.filter_duplicates = 0;
    this.seen.clear();
    this.initiating = null;
    this.suggested_tx_octets = LE_MIN_OCTETS;
    this.suggested_tx_time = LE_MIN_TIME;
    this.default_all_phys = 3;
    this.default_tx_phys = 0;
    this.default_rx_phys = 0;
    this.accept_list.clear();
    this.rl.reset();
  }

  /** Whether (type, address) is on the filter accept list. */
  accepts(type: number, addr: BdAddr): boolean {
    return this.accept_list.has(accept_list_key(type, addr));
  }

  /** Whether the accept list is in use (Vol 4 Part E 7.8.16: it may not change then). */
  accept_list_in_use(): boolean {
    return (
      (this.adv_enabled && this.adv_filter !== 0) ||
      (this.scan_enabled && (this.scan_filter & 1) === 1) ||
      (this.initiating !== null && this.initiating.filter_policy === 1)
    );
  }

  /** The address (type, address) this controller uses for own_address_type `t`. */
  own_address(t: number): [number, BdAddr] {
    if ((t & 1) === 1) return [1, this.random_addr ?? new Uint8Array(6)];
    return [0, this.public_addr()];
  }
}

export type EventFilter = { type: number; cod: number; mask: number; addr: BdAddr | null };

/** Counters for diagnostics and tests. */
export interface ControllerStats {
  commands: number;
  unknown_commands: number;
  acl_from_host: number;
  acl_dropped: number;
  acl_to_host: number;
}

/** The BCM patch download as the chip sees it (controller-bcm.ts); kept over HCI Reset, cleared by power off. */
export interface BcmPatchState {
  phase: 'rom' | 'minidriver' | 'launched';
  /** Write RAM records and data bytes taken since Download Minidriver. */
  records: number;
  bytes: number;
  /** End of the last record written: the next must start at or above it. */
  next_address: number;
  /** Commands that arrive before this time (ms) find the chip restarting: no answer. */
  boot_until: number;
  /** LMP subversion reported now (the configured one until Launch RAM). */
  lmp_subversion: number;
}

export class ControllerState implements EventMasks {
  /** BCM patch state (used only with the `bcm` option). */
  bcm: BcmPatchState = { phase: 'rom', records: 0, bytes: 0, next_address: 0, boot_until: 0, lmp_subversion: 0 };
  readonly run_loop: RunLoop;
  readonly out: HostQueue;
  readonly ev: Events;
  /** Public address (display order). A vendor Write BD_ADDR command changes it. */
  bd_addr: BdAddr;
  powered_off = false;
  /** Bumped by every reset; scheduled work from before a reset checks it. */
  generation = 0;

  // event masks
  event_mask_lo = DEFAULT_EVENT_MASK_LO;
  event_mask_hi = DEFAULT_EVENT_MASK_HI;
  le_event_mask_lo = DEFAULT_LE_EVENT_MASK_LO;
  le_event_mask_hi = DEFAULT_LE_EVENT_MASK_HI;

  // controller & baseband state (reset by HCI Reset)
  name!: Uint8Array;
  class_of_device = 0;
  scan_enable = 0;
  page_timeout = 0x2000;
  page_scan_interval = 0x0800;
  page_scan_window = 0x0012;
  inquiry_scan_interval = 0x1000;
  inquiry_scan_window = 0x0012;
  inquiry_scan_type = 0;
  page_scan_type = 0;
  inquiry_mode = 0;
  authentication_enable = 0;
  pin_type = 0;
  default_link_policy = 0;
  simple_pairing_mode = 0;
  secure_connections_host = 0;
  le_host_supported = 0;
  le_simultaneous_host = 0;
  synchronous_flow_control = 0;
  controller_to_host_flow_control = 0;
  eir_fec = 0;
  eir = new Uint8Array(240);
  voice_setting = 0x0060;
  connection_accept_timeout = 0x1f40;
  /** Inquiry access codes this controller answers to when inquiry scanning. */
  current_iacs: number[] = [GIAC];
  /** Host Buffer Size: ACL packet length and count the host accepts (controller-to-host). */
  host_acl_len = 0xffff;
  host_acl_total = 0;
  /** Controller-to-host flow control: ACL packets the host can still take. */
  host_acl_credits = 0;
  /** Pipes waiting for host credits. */
  readonly blocked_pipes = new Set<BlockedPipe>();
  /** Set Event Filter: inquiry result filters and connection setup filters (raw conditions). */
  inquiry_filters: EventFilter[] = [];
  connection_filters: Array<EventFilter & { auto: number }> = [];

  acl_pool!: SlotPool;
  le_pool!: SlotPool;
  readonly connections = new Map<number, LinkEnd>();
  private next_handle: number;
  readonly classic = new ClassicData();
  readonly le = new LeData(() => this.bd_addr);
  /** Timers of `after`, dropped by a reset. */
  private readonly timers = new Set<Timer>();
  /** Raw parameters of the command being handled (valid during the handler). */
  cur_params: Uint8Array = new Uint8Array(0);

  // fault plan (faults.ts writes it; commands and ACL take from it)
  readonly command_failures = new Map<number, { status: number; count: number }>();
  /** Commands acknowledged (Command Status 0) and never carried out, by opcode: how many more. */
  readonly command_swallows = new Map<number, number>();
  acl_drop = 0;
  acl_corrupt = 0;
  /** Share of ACL packets lost / corrupted on the air (faults.ts acl_loss), drawn from a seeded generator. */
  acl_loss_drop = 0;
  acl_loss_corrupt = 0;
  acl_loss_rng = 0;
  /** The last start fragment carried data (dynamic CID): its continuations share its fate. */
  acl_loss_data = false;
  readonly acl_delays: number[] = [];
  nocp_stalled = false;

  /**
   * What this controller reports about itself (Read Local Supported Commands / Features /
   * Extended Features, LE Read Local Supported Features / Supported States) and what its peers
   * read as its remote features. Each controller owns its copies: a test may change them to model
   * a controller without some feature, and no other controller sees the change.
   */
  readonly supported_commands: Uint8Array;
  readonly lmp_features_page0 = Uint8Array.from(LMP_FEATURES_PAGE0);
  readonly lmp_features_page2 = Uint8Array.from(LMP_FEATURES_PAGE2);
  readonly le_features = Uint8Array.from(LE_FEATURES);
  readonly le_supported_states = Uint8Array.from(LE_SUPPORTED_STATES);
  /**
   * The ACL component, called by the air links on every packet. Set once by the facade right
   * after it builds the component (a direct reference: no forwarding call on the data path).
   */
  air!: ControllerAirPort;
  readonly stats: ControllerStats = { commands: 0, unknown_commands: 0, acl_from_host: 0, acl_dropped: 0, acl_to_host: 0 };

  constructor(
    readonly link: RadioLink,
    readonly index: number,
    bd_addr: BdAddr,
    readonly config: Readonly<ControllerConfig>,
    supported_commands: readonly number[],
    readonly ops: ControllerOps,
  ) {
    this.run_loop = link.run_loop;
    this.bd_addr = bd_addr;
    this.supported_commands = Uint8Array.from(supported_commands);
    this.out = new HostQueue(this.run_loop);
    this.ev = new Events(this.out, this);
    this.next_handle = 0x0001 + ((index * 0x10) % 0x0e00);
  }

  /** Whether controller-to-host flow control for ACL is on. */
  get host_flow_control(): boolean {
    return (this.controller_to_host_flow_control & 0x01) !== 0;
  }

  /** A free connection handle (0x0000-0x0EFF), or -1. */
  alloc_handle(): number {
    for (let i = 0; i < 0x0f00; i++) {
      const h = this.next_handle;
      this.next_handle = this.next_handle >= 0x0eff ? 0x0001 : this.next_handle + 1;
      if (!this.connections.has(h)) return h;
    }
    return -1;
  }

  /** The classic connection to `addr`, if any. */
  classic_end(addr: BdAddr): LinkEnd | undefined {
    for (const e of this.connections.values()) if (e.air.kind === 'classic' && bd_addr_cmp(e.peer_addr, addr) === 0) return e;
    return undefined;
  }

  /** The connection `handle` of `kind`, if any. */
  end_of(handle: number, kind?: 'classic' | 'le'): LinkEnd | undefined {
    const end = this.connections.get(handle);
    return end && (kind === undefined || end.air.kind === kind) ? end : undefined;
  }

  /** The controller on the air at `addr` if it is page scanning (not this one). */
  page_scanning(addr: BdAddr): ControllerState | undefined {
    const t = this.link.find(addr)?.state;
    if (!t || t === this || (t.scan_enable & 0x02) === 0) return undefined;
    return t;
  }

  /** LMP features page 0, 1 (host support bits) or 2; undefined beyond LMP_MAX_PAGE. */
  lmp_features(page: number): Uint8Array | undefined {
    if (page === 0) return this.lmp_features_page0;
    if (page === 1) return this.host_features();
    if (page === 2) return this.lmp_features_page2;
    return undefined;
  }

  /** Features page 1: the host-support bits the host wrote. */
  host_features(): Uint8Array {
    const f = new Uint8Array(8);
    f[0] =
      (this.simple_pairing_mode ? 0x01 : 0) |
      (this.le_host_supported ? 0x02 : 0) |
      (this.le_simultaneous_host ? 0x04 : 0) |
      (this.secure_connections_host ? 0x08 : 0);
    return f;
  }

  /** Run `fn` after `ms` unless this controller is reset or powered off first. */
  after(ms: number, fn: () => void): Timer {
    const gen = this.generation;
    const t = new Timer(() => {
      this.timers.delete(t);
      if (gen !== this.generation || this.powered_off) return;
      fn();
    });
    this.timers.add(t);
    this.run_loop.set_timer(t, ms);
    this.run_loop.add_timer(t);
    return t;
  }

  cancel(t: Timer | null | undefined): void {
    if (!t) return;
    this.timers.delete(t);
    this.run_loop.remove_timer(t);
  }

  /** Drop every pending `after` (a reset). */
  cancel_all(): void {
    for (const t of this.timers) this.run_loop.remove_timer(t);
    this.timers.clear();
  }

  /** The settings HCI Reset puts back to their defaults (buffers emptied, filters and lists cleared). */
  set_defaults(): void {
    const cfg = this.config;
    this.classic.clear();
    this.le.reset();
    this.acl_pool = new SlotPool(cfg.acl_size, cfg.acl_buffers);
    this.le_pool = cfg.le_buffers > 0 ? new SlotPool(cfg.le_size, cfg.le_buffers) : this.acl_pool;
    this.event_mask_lo = DEFAULT_EVENT_MASK_LO;
    this.event_mask_hi = DEFAULT_EVENT_MASK_HI;
    this.le_event_mask_lo = DEFAULT_LE_EVENT_MASK_LO;
    this.le_event_mask_hi = DEFAULT_LE_EVENT_MASK_HI;
    this.name = Uint8Array.from(cfg.name);
    this.class_of_device = cfg.class_of_device;
    this.scan_enable = 0;
    this.page_timeout = 0x2000;
    this.page_scan_interval = 0x0800;
    this.page_scan_window = 0x0012;
    this.inquiry_scan_interval = 0x1000;
    this.inquiry_scan_window = 0x0012;
    this.inquiry_scan_type = 0;
    this.page_scan_type = 0;
    this.inquiry_mode = 0;
    this.authentication_enable = 0;
    this.pin_type = 0;
    this.default_link_policy = 0;
    this.simple_pairing_mode = 0;
    this.secure_connections_host = 0;
    this.le_host_supported = 0;
    this.le_simultaneous_host = 0;
    this.synchronous_flow_control = 0;
    this.controller_to_host_flow_control = 0;
    this.eir_fec = 0;
    this.eir = new Uint8Array(240);
    this.voice_setting = 0x0060;
    this.connection_accept_timeout = 0x1f40;
    this.current_iacs = [GIAC];
    this.host_acl_len = 0xffff;
    this.host_acl_total = 0;
    this.host_acl_credits = 0;
    this.blocked_pipes.clear();
    this.inquiry_filters = [];
    this.connection_filters = [];
    this.nocp_stalled = false;
  }
}
