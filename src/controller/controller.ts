/**
 * VirtualController: one simulated Bluetooth controller on a RadioLink. It takes HCI packets from
 * its host (`host_send`), answers commands as the Core specification prescribes (Vol 4 Part E),
 * routes ACL data over the air with its buffer counts enforced, and queues every event and ACL
 * packet for the host, delivered from the run loop (`attach_host`).
 *
 * Commands are decoded with the shared templates of src/hci/commands.ts; handlers live in
 * baseband.ts (controller, informational and status commands), classic.ts (inquiry, paging,
 * connections), le.ts (advertising, scanning, LE connections) and security.ts (pairing,
 * authentication, encryption).
 */
import { type BdAddr, little_endian_read_16, reverse_bd_addr } from '../core/bytes.js';
import { WeakSpanCopier } from '../core/span.js';
import { Timer, type RunLoop } from '../core/run-loop.js';
import { HCI_COMMANDS, hci_format_decode, hci_format_encode, hci_format_size, type HciArg, type HciCommand } from '../hci/commands.js';
import { type LinkEnd, SlotPool } from './air.js';
import { BASEBAND_HANDLERS } from './baseband.js';
import { CLASSIC_HANDLERS, ClassicState } from './classic.js';
import * as C from './codes.js';
import {
  DEFAULT_EVENT_MASK_HI, DEFAULT_EVENT_MASK_LO, DEFAULT_LE_EVENT_MASK_HI, DEFAULT_LE_EVENT_MASK_LO, GIAC,
  LE_FEATURES, LE_SUPPORTED_STATES, LMP_FEATURES_PAGE0, LMP_FEATURES_PAGE2, supported_commands_bitmap,
} from './defs.js';
import { Events } from './events.js';
import { Faults } from './faults.js';
import { HostAclMerger } from './host-acl.js';
import { HostQueue, type HostSink } from './host-queue.js';
import { LE_HANDLERS, LeState } from './le.js';
import type { RadioLink } from './link.js';
import { SECURITY_HANDLERS } from './security.js';

export type Handler = (c: VirtualController, args: HciArg[], cmd: HciCommand) => void;

const HOST_NUMBER_OF_COMPLETED_PACKETS = 0x0c35;

/** Every command this controller implements, by opcode. */
const HANDLERS: ReadonlyMap<number, Handler> = new Map(
  [...BASEBAND_HANDLERS, ...CLASSIC_HANDLERS, ...LE_HANDLERS, ...SECURITY_HANDLERS].map(([cmd, h]) => [cmd.opcode, h]),
);

/** The templates of every implemented command. */
export function implemented_commands(): HciCommand[] {
  return [...HANDLERS.keys()].map((op) => HCI_COMMANDS.get(op)!);
}

/** Supported_Commands of every controller (frozen; each controller copies it). */
const SUPPORTED_COMMANDS: readonly number[] = Object.freeze(Array.from(supported_commands_bitmap(implemented_commands())));

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
}

interface Resolved {
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

export class VirtualController {
  readonly run_loop: RunLoop;
  readonly out: HostQueue;
  readonly ev: Events;
  readonly faults: Faults;
  readonly config: Readonly<Resolved>;
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
  readonly blocked_pipes = new Set<{ rearm(): void }>();
  /** Set Event Filter: inquiry result filters and connection setup filters (raw conditions). */
  inquiry_filters: Array<{ type: number; cod: number; mask: number; addr: BdAddr | null }> = [];
  connection_filters: Array<{ type: number; cod: number; mask: number; addr: BdAddr | null; auto: number }> = [];

  acl_pool!: SlotPool;
  le_pool!: SlotPool;
  readonly connections = new Map<number, LinkEnd>();
  private next_handle: number;
  readonly classic: ClassicState;
  readonly le: LeState;
  private readonly timers = new Set<Timer>();
  private readonly nocp_timer: Timer;
  private readonly nocp_pairs: number[] = [];
  private readonly from_host_copy = new WeakSpanCopier();
  private readonly to_host_copy = new WeakSpanCopier();
  /** Joins the air pieces of a PDU for the host (acl_to_host_max), per handle. */
  private readonly merger = new HostAclMerger({
    emit: (handle, pb, data, off, n) => this.emit_acl_to_host(handle, pb, data, off, n),
    can_emit: () => this.out.ready && (!this.host_flow_control || this.host_acl_credits > 0),
    copy: (src, from, dst, to, n) => this.to_host_copy.copy(dst, to, src, from, n),
  });
  /** Raw parameters of the command being handled (valid during the handler). */
  cur_params: Uint8Array = new Uint8Array(0);
  /**
   * What this controller reports about itself (Read Local Supported Commands / Features /
   * Extended Features, LE Read Local Supported Features / Supported States) and what its peers
   * read as its remote features. Each controller owns its copies: a test may change them to model
   * a controller without some feature, and no other controller sees the change.
   */
  readonly supported_commands = Uint8Array.from(SUPPORTED_COMMANDS);
  readonly lmp_features_page0 = Uint8Array.from(LMP_FEATURES_PAGE0);
  readonly lmp_features_page2 = Uint8Array.from(LMP_FEATURES_PAGE2);
  readonly le_features = Uint8Array.from(LE_FEATURES);
  readonly le_supported_states = Uint8Array.from(LE_SUPPORTED_STATES);
  /** Counters for diagnostics and tests. */
  readonly stats = { commands: 0, unknown_commands: 0, acl_from_host: 0, acl_dropped: 0, acl_to_host: 0 };

  constructor(
    readonly link: RadioLink,
    readonly index: number,
    bd_addr: BdAddr,
    options: ControllerOptions = {},
  ) {
    this.run_loop = link.run_loop;
    this.bd_addr = bd_addr;
    this.config = Object.freeze({
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
    });
    this.out = new HostQueue(this.run_loop);
    this.ev = new Events(this.out, this);
    this.faults = new Faults(this);
    this.classic = new ClassicState(this);
    this.le = new LeState(this);
    this.next_handle = 0x0001 + ((index * 0x10) % 0x0e00);
    this.nocp_timer = new Timer(() => this.flush_completed_packets());
    this.reset_state();
  }

  // ------------------------------------------------------------------ host side

  /** Connect the host: every packet for the host goes to `sink` (on the run loop). */
  attach_host(sink: HostSink): void {
    this.out.sink = sink;
  }
  detach_host(): void {
    this.out.sink = null;
  }

  /**
   * A packet from the host (H4 type 1 command, 2 ACL, 3 SCO), without the type byte. Processed
   * at once; answers are queued for the host. Never throws on bad input.
   */
  host_send(packet_type: number, packet: Uint8Array, size = packet.length): void {
    if (this.powered_off) return;
    size = Math.min(size, packet.length);
    if (packet_type === 0x01) this.on_command(packet, size);
    else if (packet_type === 0x02) this.on_acl(packet, size);
    else this.link.logger.info(() => `controller ${this.index}: dropped host packet of type ${packet_type}`);
  }

  // ------------------------------------------------------------------ commands

  private on_command(packet: Uint8Array, size: number): void {
    this.stats.commands++;
    if (size < 3) {
      this.link.logger.error(() => `controller ${this.index}: command shorter than its header dropped`);
      return;
    }
    const opcode = little_endian_read_16(packet, 0);
    const declared = packet[2]!;
    const plen = Math.min(declared, size - 3);
    const params = packet.subarray(3, 3 + plen);
    this.cur_params = params;
    const cmd = HCI_COMMANDS.get(opcode);
    const handler = HANDLERS.get(opcode);
    if (!cmd || !handler) {
      this.stats.unknown_commands++;
      const off = this.ev.command_complete(opcode, 1);
      this.ev.buffer[off] = C.ERROR_CODE_UNKNOWN_HCI_COMMAND;
      return;
    }
    const injected = this.faults.take_command_failure(opcode);
    if (injected >= 0) {
      this.fail(cmd, injected);
      return;
    }
    const args = declared === size - 3 ? hci_format_decode(params, 0, plen, cmd.format) : null;
    if (!args) {
      this.fail(cmd, C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS);
      return;
    }
    handler(this, args, cmd);
  }

  /** Command Complete with return parameters per `cmd.ret` (the first is the status). */
  complete(cmd: HciCommand, ...ret: HciArg[]): void {
    const fmt = cmd.ret ?? '1';
    let len = hci_format_size(fmt);
    if (len < 0) {
      const tail = ret[ret.length - 1];
      len = hci_format_size(fmt.slice(0, -1)) + (tail instanceof Uint8Array ? tail.length : 0);
    }
    const off = this.ev.command_complete(cmd.opcode, len);
    const n = hci_format_encode(this.ev.buffer, off, fmt, ret);
    if (n !== len) {
      // a bug in a handler: answer with the status alone rather than garbage
      this.ev.buffer.fill(0, off, off + len);
      this.ev.buffer[off] = typeof ret[0] === 'number' ? ret[0] : C.ERROR_CODE_HARDWARE_FAILURE;
    }
  }

  /** Command Status for an asynchronous command. */
  status(cmd: HciCommand, status: number): void {
    this.ev.command_status(status, cmd.opcode);
  }

  /**
   * Reject a command with `status`: Command Status for asynchronous commands; otherwise Command
   * Complete with all return parameters, the handle or address echoed from the command and the
   * rest zero, as controllers answer.
   */
  fail(cmd: HciCommand, status: number): void {
    if (cmd.opcode === HOST_NUMBER_OF_COMPLETED_PACKETS) {
      // answered only when wrong, with Command Complete (Vol 4 Part E 7.3.40)
      this.complete(cmd, status);
      return;
    }
    if (cmd.async || !cmd.ret) {
      this.status(cmd, status);
      return;
    }
    const p = this.cur_params;
    const handle = cmd.format.startsWith('H') && p.length >= 2 ? little_endian_read_16(p, 0) : 0;
    const addr = cmd.format.startsWith('B') && p.length >= 6 ? reverse_bd_addr(p, 0) : new Uint8Array(6);
    const args: HciArg[] = [status];
    for (const ch of cmd.ret.slice(1)) {
      if (ch === 'V') args.push(Uint8Array.of(0));
      else if (ch === 'H') args.push(handle);
      else if (ch === 'B') args.push(addr);
      else if (ch === '1' || ch === '2' || ch === '3' || ch === '4') args.push(0);
      else args.push(new Uint8Array(0));
    }
    this.complete(cmd, ...args);
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

  // ------------------------------------------------------------------ ACL

  private on_acl(packet: Uint8Array, size: number): void {
    this.stats.acl_from_host++;
    if (size < 4) return this.drop_acl('ACL packet shorter than its header');
    const hf = little_endian_read_16(packet, 0);
    const handle = hf & 0x0fff;
    const pb = (hf >>> 12) & 0x03;
    const bc = (hf >>> 14) & 0x03;
    const len = little_endian_read_16(packet, 2);
    if (len + 4 !== size) return this.drop_acl(`ACL length ${len} does not match packet size ${size}`);
    const end = this.connections.get(handle);
    if (!end) return this.drop_acl(`ACL for unknown handle 0x${handle.toString(16)}`);
    if (bc !== 0 || pb === 0x03) return this.drop_acl('ACL with broadcast flags or PB 0b11');
    const pool = end.air.kind === 'le' ? this.le_pool : this.acl_pool;
    if (len > pool.size) {
      this.ev.data_buffer_overflow(0x01);
      return this.drop_acl(`ACL of ${len} bytes above buffer size ${pool.size}`);
    }
    const slot = pool.get();
    if (!slot) {
      this.ev.data_buffer_overflow(0x01);
      return this.drop_acl('ACL beyond the advertised buffer count');
    }
    this.from_host_copy.copy(slot.data, 0, packet, 4, len);
    slot.len = len;
    slot.pb = pb;
    const delay = this.faults.take_acl_fault(slot);
    end.air.send(end, slot, delay);
  }

  private drop_acl(why: string): void {
    this.stats.acl_dropped++;
    this.link.logger.info(() => `controller ${this.index}: dropped ACL: ${why}`);
  }

  /** Queue ACL data for the host (from the air), joined per PDU when acl_to_host_max asks for it. */
  acl_to_host(handle: number, pb: number, data: Uint8Array, off: number, n: number): void {
    if (this.config.acl_to_host_max > 0) {
      this.merger.push(handle, pb, data, off, n, this.host_packet_cap());
      return;
    }
    this.emit_acl_to_host(handle, pb, data, off, n);
  }

  /** Largest ACL packet for the host: acl_to_host_max, within Host Buffer Size's length. */
  private host_packet_cap(): number {
    return Math.max(1, Math.min(this.config.acl_to_host_max, this.host_acl_len));
  }

  /** One ACL packet to the host: takes a host credit under controller-to-host flow control. */
  private emit_acl_to_host(handle: number, pb: number, data: Uint8Array, off: number, n: number): void {
    this.stats.acl_to_host++;
    if (this.host_flow_control) {
      this.host_acl_credits--;
      const end = this.connections.get(handle);
      if (end) end.to_host_outstanding++;
    }
    const p = this.out.reserve(0x02, 4 + n);
    const b = this.out.buf;
    const hf = (handle & 0x0fff) | (pb << 12);
    b[p] = hf & 0xff;
    b[p + 1] = hf >>> 8;
    b[p + 2] = n & 0xff;
    b[p + 3] = n >>> 8;
    this.to_host_copy.copy(b, p + 4, data, off, n);
  }

  /** Whether controller-to-host flow control for ACL is on. */
  get host_flow_control(): boolean {
    return (this.controller_to_host_flow_control & 0x01) !== 0;
  }

  /** Largest ACL data length to hand the host, for data that crossed the air in `air_max` pieces. */
  host_fragment_size(air_max: number): number {
    if (this.config.acl_to_host_max > 0) return Math.min(air_max, this.host_packet_cap());
    return Math.max(1, Math.min(air_max, this.host_acl_len));
  }

  /**
   * Whether one more ACL packet may go to the host now: not while the host takes no packets
   * (set_host_ready), nor without host credits (controller-to-host flow control). When not,
   * `pipe` is re-armed once that changes; meanwhile the data waits on the air.
   */
  may_deliver(pipe: { rearm(): void }): boolean {
    if (this.merger.held === 0 && this.out.ready && (!this.host_flow_control || this.host_acl_credits > 0)) return true;
    this.blocked_pipes.add(pipe);
    return false;
  }

  /** The host returned `n` ACL buffers (Host Number Of Completed Packets, or a disconnection). */
  host_credits_returned(n: number): void {
    this.host_acl_credits = Math.min(this.host_acl_total, this.host_acl_credits + n);
    this.release_pipes();
  }

  /**
   * Whether the host takes what the controller sends (a UART host's RTS; a socket client that
   * reads). While it does not, events wait in the controller's bounded buffer, advertising and
   * inquiry reports beyond their share of it are dropped (counted in `out.discarded`), and ACL
   * data from peers waits on the air: the peers' buffers stay in use and they get no Number Of
   * Completed Packets for it, as with a real controller whose host stopped reading.
   */
  set_host_ready(ready: boolean): void {
    this.out.set_ready(ready);
    this.release_pipes();
  }

  private release_pipes(): void {
    if (!this.merger.release()) return;
    if (this.blocked_pipes.size === 0 || !this.out.ready) return;
    if (this.host_flow_control && this.host_acl_credits <= 0) return;
    const pipes = [...this.blocked_pipes];
    this.blocked_pipes.clear();
    for (const p of pipes) p.rearm();
  }

  /** Some buffers drained: report Number Of Completed Packets on the next turn. */
  schedule_completed_packets(): void {
    if (this.faults.nocp_stalled || this.nocp_timer.active) return;
    this.run_loop.set_timer(this.nocp_timer, 0);
    this.run_loop.add_timer(this.nocp_timer);
  }

  /** Emit Number Of Completed Packets for every handle with completed buffers. */
  flush_completed_packets(): void {
    if (this.faults.nocp_stalled) return;
    // filled by index, never emptied: `length = 0` would make the next push allocate a new store
    const pairs = this.nocp_pairs;
    let k = 0;
    for (const end of this.connections.values()) {
      if (end.completed > 0) {
        pairs[k++] = end.handle;
        pairs[k++] = end.completed;
        end.completed = 0;
      }
    }
    const total = k / 2;
    for (let i = 0; i < total; i += 63) this.ev.number_of_completed_packets(pairs, i, Math.min(63, total - i));
  }

  // ------------------------------------------------------------------ connections

  /** A free connection handle (0x0000-0x0EFF). */
  alloc_handle(): number {
    for (let i = 0; i < 0x0f00; i++) {
      const h = this.next_handle;
      this.next_handle = this.next_handle >= 0x0eff ? 0x0001 : this.next_handle + 1;
      if (!this.connections.has(h)) return h;
    }
    return -1;
  }

  /** Called by AirLink when a connection ends for this controller. */
  connection_closed(end: LinkEnd, reason: number): void {
    this.connections.delete(end.handle);
    this.merger.drop(end.handle);
    // the host considers every packet of this handle flushed
    if (end.to_host_outstanding > 0) {
      const n = end.to_host_outstanding;
      end.to_host_outstanding = 0;
      this.host_credits_returned(n);
    }
    this.ev.disconnection_complete(C.ERROR_CODE_SUCCESS, end.handle, reason);
  }

  /** The classic connection to `addr`, if any. */
  classic_end(addr: BdAddr): LinkEnd | undefined {
    for (const e of this.connections.values()) {
      if (e.air.kind !== 'classic') continue;
      const a = e.peer_addr;
      let same = true;
      for (let i = 0; i < 6; i++) if (a[i] !== addr[i]) same = false;
      if (same) return e;
    }
    return undefined;
  }

  // ------------------------------------------------------------------ time

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

  // ------------------------------------------------------------------ reset / power

  /** Everything HCI Reset puts back: links are lost for the peers, state to defaults. */
  reset_state(): void {
    this.generation++;
    for (const t of this.timers) this.run_loop.remove_timer(t);
    this.timers.clear();
    this.run_loop.remove_timer(this.nocp_timer);
    for (const end of [...this.connections.values()]) {
      end.present = false;
      end.completed = 0;
      end.air.lose();
    }
    this.connections.clear();
    this.merger?.clear();
    this.classic?.reset();
    this.le?.reset();
    const cfg = this.config;
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
    this.faults.nocp_stalled = false;
  }

  /** Power off (removed from the link): the host hears nothing more; peers lose their links. */
  power_off(): void {
    if (this.powered_off) return;
    this.reset_state();
    this.powered_off = true;
    this.out.sink = null;
    this.out.clear();
  }
}
