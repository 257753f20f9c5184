/**
 * ACL data through the controller: packets from the host into the controller's buffers and onto
 * the air (buffer counts enforced, Data Buffer Overflow beyond them), buffers back as Number Of
 * Completed Packets once they crossed the air, and data from the air to the host, joined per PDU
 * when `acl_to_host_max` asks for it (host-acl.ts), under controller-to-host flow control (Set
 * Controller To Host Flow Control, Host Buffer Size, Host Number Of Completed Packets: Vol 4
 * Part E 7.3.38-7.3.40) and while the host takes packets at all (`set_host_ready`).
 */
import { little_endian_read_16 } from '../core/bytes.js';
import { Timer } from '../core/run-loop.js';
import { WeakSpanCopier } from '../core/span.js';
import * as K from '../hci/commands.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import type { LinkEnd, Slot } from './air.js';
import * as C from './codes.js';
import type { CommandReply, CommandTable } from './controller-commands.js';
import type { BlockedPipe, ControllerAirPort, ControllerState } from './controller-state.js';
import { HostAclMerger, type HostAclSink } from './host-acl.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;

const n = (a: HciArg[], i: number): number => a[i] as number;

export interface AclPeers {
  reply: CommandReply;
}

export class ControllerAcl implements ControllerAirPort, HostAclSink {
  private readonly nocp_timer: Timer;
  private readonly nocp_pairs: number[] = [];
  private readonly from_host_copy = new WeakSpanCopier();
  private readonly to_host_copy = new WeakSpanCopier();
  /** Joins the air pieces of a PDU for the host (acl_to_host_max), per handle. */
  private readonly merger: HostAclMerger;

  constructor(
    private readonly s: ControllerState,
    private readonly x: AclPeers,
  ) {
    this.nocp_timer = new Timer(() => this.flush_completed_packets());
    this.merger = new HostAclMerger(this);
  }

  // ---- HostAclSink: what the merger (host-acl.ts) hands back
  emit(handle: number, pb: number, data: Uint8Array, off: number, n: number): void {
    this.emit_acl_to_host(handle, pb, data, off, n);
  }
  can_emit(): boolean {
    const s = this.s;
    return s.out.ready && (!s.host_flow_control || s.host_acl_credits > 0);
  }
  copy(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
    this.to_host_copy.copy(dst, to, src, from, n);
  }

  static readonly COMMANDS: CommandTable<ControllerAcl> = [
    [K.hci_set_controller_to_host_flow_control, (x, a, cmd) => x.setControllerToHostFlowControl(a, cmd)],
    [K.hci_host_buffer_size, (x, a, cmd) => x.hostBufferSize(a, cmd)],
    [K.hci_host_number_of_completed_packets, (x, a, cmd) => x.hostNumberOfCompletedPackets(a, cmd)],
  ];

  // ------------------------------------------------------------------ host to air

  /** An ACL packet from the host (`size` bytes, without the H4 type). Never throws on bad input. */
  on_acl(packet: Uint8Array, size: number): void {
    const s = this.s;
    s.stats.acl_from_host++;
    if (size < 4) return this.drop_acl('ACL packet shorter than its header');
    const hf = little_endian_read_16(packet, 0);
    const handle = hf & 0x0fff;
    const pb = (hf >>> 12) & 0x03;
    const bc = (hf >>> 14) & 0x03;
    const len = little_endian_read_16(packet, 2);
    if (len + 4 !== size) return this.drop_acl(`ACL length ${len} does not match packet size ${size}`);
    const end = s.connections.get(handle);
    if (!end) return this.drop_acl(`ACL for unknown handle 0x${handle.toString(16)}`);
    if (bc !== 0 || pb === 0x03) return this.drop_acl('ACL with broadcast flags or PB 0b11');
    const pool = end.air.kind === 'le' ? s.le_pool : s.acl_pool;
    if (len > pool.size) {
      s.ev.data_buffer_overflow(0x01);
      return this.drop_acl(`ACL of ${len} bytes above buffer size ${pool.size}`);
    }
    const slot = pool.get();
    if (!slot) {
      s.ev.data_buffer_overflow(0x01);
      return this.drop_acl('ACL beyond the advertised buffer count');
    }
    this.from_host_copy.copy(slot.data, 0, packet, 4, len);
    slot.len = len;
    slot.pb = pb;
    const delay = this.take_acl_fault(slot);
    end.air.send(end, slot, delay);
  }

  private drop_acl(why: string): void {
    const s = this.s;
    s.stats.acl_dropped++;
    s.link.logger.info(() => `controller ${s.index}: dropped ACL: ${why}`);
  }

  /** Mark an outgoing slot as Faults planned (lost, corrupted); returns the extra delay in ms. */
  private take_acl_fault(slot: Slot): number {
    const s = this.s;
    if (s.acl_drop > 0) {
      s.acl_drop--;
      slot.drop = true;
    } else if (s.acl_corrupt > 0) {
      s.acl_corrupt--;
      slot.corrupt = true;
    } else if (s.acl_loss_drop > 0 || s.acl_loss_corrupt > 0) {
      // the share applies to data channels only (an L2CAP PDU to a dynamic CID, >= 0x0040, and its
      // continuation fragments): signalling and fixed channels cross intact, as the retransmission
      // the tests exercise is ERTM's, not the signalling's RTX
      const start = slot.pb !== 0x01;
      const data = start ? slot.len >= 4 && (slot.data[2]! | (slot.data[3]! << 8)) >= 0x0040 : s.acl_loss_data;
      if (start) s.acl_loss_data = data;
      if (data) {
        const r = acl_loss_random(s);
        if (r < s.acl_loss_drop) slot.drop = true;
        else if (r < s.acl_loss_drop + s.acl_loss_corrupt) slot.corrupt = true;
      }
    }
    return s.acl_delays.length ? s.acl_delays.shift()! : 0;
  }

  /** Some buffers drained: report Number Of Completed Packets on the next turn. */
  schedule_completed_packets(): void {
    if (this.s.nocp_stalled || this.nocp_timer.active) return;
    const rl = this.s.run_loop;
    rl.set_timer(this.nocp_timer, 0);
    rl.add_timer(this.nocp_timer);
  }

  /** Emit Number Of Completed Packets for every handle with completed buffers. */
  private flush_completed_packets(): void {
    const s = this.s;
    if (s.nocp_stalled) return;
    // filled by index, never emptied: `length = 0` would make the next push allocate a new store
    const pairs = this.nocp_pairs;
    let k = 0;
    for (const end of s.connections.values()) {
      if (end.completed > 0) {
        pairs[k++] = end.handle;
        pairs[k++] = end.completed;
        end.completed = 0;
      }
    }
    const total = k / 2;
    for (let i = 0; i < total; i += 63) s.ev.number_of_completed_packets(pairs, i, Math.min(63, total - i));
  }

  // ------------------------------------------------------------------ air to host

  /** Queue ACL data for the host (from the air), joined per PDU when acl_to_host_max asks for it. */
  acl_to_host(handle: number, pb: number, data: Uint8Array, off: number, k: number): void {
    if (this.s.config.acl_to_host_max > 0) {
      this.merger.push(handle, pb, data, off, k, this.host_packet_cap());
      return;
    }
    this.emit_acl_to_host(handle, pb, data, off, k);
  }

  /** Largest ACL packet for the host: acl_to_host_max, within Host Buffer Size's length. */
  private host_packet_cap(): number {
    return Math.max(1, Math.min(this.s.config.acl_to_host_max, this.s.host_acl_len));
  }

  /** One ACL packet to the host: takes a host credit under controller-to-host flow control. */
  private emit_acl_to_host(handle: number, pb: number, data: Uint8Array, off: number, k: number): void {
    const s = this.s;
    s.stats.acl_to_host++;
    if (s.host_flow_control) {
      s.host_acl_credits--;
      const end = s.connections.get(handle);
      if (end) end.to_host_outstanding++;
    }
    const p = s.out.reserve(0x02, 4 + k);
    const b = s.out.buf;
    const hf = (handle & 0x0fff) | (pb << 12);
    b[p] = hf & 0xff;
    b[p + 1] = hf >>> 8;
    b[p + 2] = k & 0xff;
    b[p + 3] = k >>> 8;
    this.to_host_copy.copy(b, p + 4, data, off, k);
  }

  /** Largest ACL data length to hand the host, for data that crossed the air in `air_max` pieces. */
  host_fragment_size(air_max: number): number {
    if (this.s.config.acl_to_host_max > 0) return Math.min(air_max, this.host_packet_cap());
    return Math.max(1, Math.min(air_max, this.s.host_acl_len));
  }

  /**
   * Whether one more ACL packet may go to the host now: not while the host takes no packets
   * (set_host_ready), nor without host credits (controller-to-host flow control). When not,
   * `pipe` is re-armed once that changes; meanwhile the data waits on the air.
   */
  may_deliver(pipe: BlockedPipe): boolean {
    const s = this.s;
    if (this.merger.held === 0 && s.out.ready && (!s.host_flow_control || s.host_acl_credits > 0)) return true;
    s.blocked_pipes.add(pipe);
    return false;
  }

  /** The host returned `k` ACL buffers (Host Number Of Completed Packets, or a disconnection). */
  private host_credits_returned(k: number): void {
    const s = this.s;
    s.host_acl_credits = Math.min(s.host_acl_total, s.host_acl_credits + k);
    this.release_pipes();
  }

  /** Whether the host takes what the controller sends (see VirtualController.set_host_ready). */
  set_host_ready(ready: boolean): void {
    this.s.out.set_ready(ready);
    this.release_pipes();
  }

  private release_pipes(): void {
    const s = this.s;
    if (!this.merger.release()) return;
    if (s.blocked_pipes.size === 0 || !s.out.ready) return;
    if (s.host_flow_control && s.host_acl_credits <= 0) return;
    const pipes = [...s.blocked_pipes];
    s.blocked_pipes.clear();
    for (const p of pipes) p.rearm();
  }

  /** The air link ended for this controller: forget the handle, tell the host. */
  connection_closed(end: LinkEnd, reason: number): void {
    const s = this.s;
    s.connections.delete(end.handle);
    this.merger.drop(end.handle);
    // the host considers every packet of this handle flushed
    if (end.to_host_outstanding > 0) {
      const k = end.to_host_outstanding;
      end.to_host_outstanding = 0;
      this.host_credits_returned(k);
    }
    s.ev.disconnection_complete(C.ERROR_CODE_SUCCESS, end.handle, reason);
  }

  /** HCI Reset: nothing held for the host, no Number Of Completed Packets pending. */
  reset(): void {
    this.s.run_loop.remove_timer(this.nocp_timer);
    this.merger.clear();
  }

  // ------------------------------------------------------------------ host flow control commands

  private setControllerToHostFlowControl(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const v = n(a, 0);
    if (v > 3) return this.x.reply.fail(cmd, INVALID);
    s.controller_to_host_flow_control = v;
    s.host_acl_credits = s.host_acl_total;
    this.x.reply.complete(cmd, OK);
  }

  private hostBufferSize(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    s.host_acl_len = n(a, 0) || 0xffff;
    s.host_acl_total = n(a, 2);
    s.host_acl_credits = s.host_acl_total;
    this.x.reply.complete(cmd, OK);
  }

  /** Host Number Of Completed Packets (7.3.40): no event unless the parameters are wrong. */
  private hostNumberOfCompletedPackets(a: HciArg[], cmd: HciCommand): void {
    const num = n(a, 0);
    const v = a[1] as Uint8Array;
    if (num < 1 || v.length !== 4 * num) return this.x.reply.fail(cmd, INVALID);
    let total = 0;
    for (let i = 0; i < num; i++) {
      const handle = (v[4 * i]! | (v[4 * i + 1]! << 8)) & 0x0fff;
      const count = v[4 * i + 2]! | (v[4 * i + 3]! << 8);
      const end = this.s.connections.get(handle);
      if (!end) continue; // a connection that just ended: its packets were accounted for
      const k = Math.min(count, end.to_host_outstanding);
      end.to_host_outstanding -= k;
      total += k;
    }
    if (total > 0) this.host_credits_returned(total);
  }
}

/** mulberry32 step over the controller's loss generator: [0, 1), the same sequence for the same seed. */
function acl_loss_random(s: ControllerState): number {
  s.acl_loss_rng = (s.acl_loss_rng + 0x6d2b79f5) >>> 0;
  let t = s.acl_loss_rng;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
