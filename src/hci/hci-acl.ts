/**
 * ACL data path of HCI: controller buffer credits, fragmentation of outgoing L2CAP PDUs to the
 * controller's ACL packet size, and reassembly of incoming fragments into pooled buffers.
 *
 * BTstack's model: one outgoing packet buffer. L2CAP reserves it (hci_reserve_packet_buffer),
 * writes a complete ACL packet (4-byte ACL header + L2CAP PDU) and hands it over with
 * hci_send_acl_packet_buffer(size). HCI sends it in fragments as controller buffers allow; while
 * fragments are pending, hci_can_send_acl_packet_now() is false. When the last fragment is out,
 * the buffer is released and HCI_EVENT_TRANSPORT_PACKET_SENT is emitted so upper layers retry.
 */
import { little_endian_read_16, little_endian_store_16 } from '../core/bytes.js';
import {
  BTSTACK_ACL_BUFFERS_FULL,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  HCI_ACL_DATA_PACKET,
} from '../codes/v1.4.js';
import type { HciConnection } from './hci-connection.js';
import { Timer } from '../core/run-loop.js';
import { SpanCopier } from '../core/span.js';
import type { HciState } from './hci-state.js';

/** Packet boundary flags (Core Vol 4, Part E, 5.4.2). */
export const ACL_PB_FIRST_NON_FLUSHABLE = 0x00;
export const ACL_PB_CONTINUATION = 0x01;
export const ACL_PB_FIRST_FLUSHABLE = 0x02;
export const ACL_PB_COMPLETE = 0x03;

/**
 * How long (ms) the controller must send no Number Of Completed Packets for a handle in doubt
 * before the host takes its in-doubt packets back (see HciAcl.completed for the argument).
 */
export const HCI_NOCP_DOUBT_TIMEOUT_MS = 1000;

/** Size of the ACL data packet header: handle + flags (2), data length (2). */
export const HCI_ACL_HEADER_SIZE = 4;

/** Fragment start offsets whose views of the outgoing buffer are kept (more: the cache starts over). */
const MAX_FRAGMENT_VIEWS = 512;

/** What the ACL path needs from its siblings. */
export interface HciAclPeers {
  /** Write one ACL packet to the packet log and the transport. */
  transport_send_acl(packet: Uint8Array, size: number): void;
  /** HCI_EVENT_TRANSPORT_PACKET_SENT (deferred; hci-emit.ts). Per packet: a component, not a closure. */
  readonly out: { transport_packet_sent(): void };
  /** An ACL packet of data_length bytes for conn was taken from the transport (host flow control, hci-host-flow.ts). */
  readonly host_flow: { consumed(conn: HciConnection, data_length: number): void };
}

export class HciAcl {
  /** Packets in the controller's (shared or BR/EDR) buffers, and in its LE buffers. */
  private acl_in_flight = 0;
  private le_in_flight = 0;
  /** What reportInFlight last told the transport (0: no packets in flight). */
  private bytesReported = 0;

  /** BTstack's single outgoing packet buffer, made the first time it is asked for (see `outgoing`). */
  private outgoingBuf: Uint8Array | null = null;
  reserved = false;
  /** Fragmentation in progress: total packet size (0 = idle), next payload offset, connection. */
  private fragTotal = 0;
  private fragPos = 0;
  private fragConn: HciConnection | null = null;
  /**
   * Views of the outgoing buffer from each fragment's start (the transport takes a packet from
   * offset 0): made once per offset, so sending a fragment allocates nothing. The offsets are
   * multiples of the controller's ACL payload size: a few dozen.
   */
  private readonly fragViews = new Map<number, Uint8Array>();
  /**
   * Copies fragments into reassembly buffers without a view per fragment: natively from a cached
   * view when the transport hands over its fixed receive buffer (H4), else word by word.
   */
  private readonly copier = new SpanCopier(true);
  /** Packets per connection an over-reporting NOCP may or may not have completed (see completed()). */
  private readonly doubt = new Map<HciConnection, number>();
  /** Per connection in doubt: run-loop time at which it has been quiet long enough. */
  private readonly quietAt = new Map<HciConnection, number>();
  private readonly doubtTimer = new Timer(() => this.resolveDoubt());

  constructor(
    private readonly s: HciState,
    private readonly x: HciAclPeers,
  ) {}

  /**
   * BTstack's single outgoing packet buffer (HCI_PACKET_BUFFER_SIZE octets): made on first use, so
   * building a Stack and booting it, which sends no ACL data, does not zero-fill 64 KiB.
   */
  get outgoing(): Uint8Array {
    return (this.outgoingBuf ??= new Uint8Array(this.s.config.HCI_PACKET_BUFFER_SIZE));
  }

  /** Forget the controller's buffers and everything in flight (power off / reset). */
  reset(): void {
    const c = this.s.controller;
    c.acl_data_packet_length = 0;
    c.acl_packets_total_num = 0;
    c.le_data_packets_length = 0;
    c.le_acl_packets_total_num = 0;
    this.acl_in_flight = 0;
    this.le_in_flight = 0;
    this.reportInFlight();
    this.fragTotal = 0;
    this.fragPos = 0;
    this.fragConn = null;
    this.reserved = false;
    this.doubt.clear();
    this.quietAt.clear();
    this.s.run_loop.remove_timer(this.doubtTimer);
  }

  get fragmenting(): boolean {
    return this.fragTotal > 0;
  }

  /**
   * Tell the transport the size of the smallest controller buffer pool that holds packets of ours
   * now, or 0 when none does (HciTransport.controller_acl_buffer_bytes: its read window must let
   * Number Of Completed Packets come back before that pool runs dry). Called when a pool's count
   * of packets in flight leaves or reaches 0; says something only when the answer changes.
   */
  private reportInFlight(): void {
    const c = this.s.controller;
    let bytes = 0;
    if (this.acl_in_flight > 0) bytes = c.acl_packets_total_num * c.acl_data_packet_length;
    if (this.le_in_flight > 0) {
      const le = c.le_acl_packets_total_num * c.le_data_packets_length;
      if (bytes === 0 || le < bytes) bytes = le;
    }
    if (bytes === this.bytesReported) return;
    this.bytesReported = bytes;
    this.s.transport?.controller_acl_buffer_bytes?.(bytes);
  }

  private usesLeBuffers(conn: HciConnection): boolean {
    return conn.is_le && this.s.controller.le_acl_packets_total_num > 0;
  }

  /** Free controller buffers for the connection's link type. */
  free_slots(conn: HciConnection): number {
    if (this.usesLeBuffers(conn)) return this.s.controller.le_acl_packets_total_num - this.le_in_flight;
    return this.s.controller.acl_packets_total_num - this.acl_in_flight;
  }

  /** Largest ACL payload the controller takes per packet on this connection. */
  max_payload(conn: HciConnection): number {
    const c = this.s.controller;
    const n = this.usesLeBuffers(conn) ? c.le_data_packets_length : c.acl_data_packet_length;
    return n > 0 ? n : 27; // 27: the smallest LE data length, a safe floor if the controller said 0
  }

  /** BTstack's hci_can_send_prepared_acl_packet_now: credits and no fragmentation pending. */
  can_send_prepared(conn: HciConnection | null): boolean {
    if (!conn || this.fragTotal > 0) return false;
    if (!this.s.transport_can_send(HCI_ACL_DATA_PACKET)) return false;
    return this.free_slots(conn) > 0;
  }

  /** Any classic link could send (BTstack's hci_can_send_acl_classic_packet_now). */
  can_send_classic(): boolean {
    if (this.reserved || this.fragTotal > 0 || !this.s.transport_can_send(HCI_ACL_DATA_PACKET)) return false;
    return this.s.controller.acl_packets_total_num - this.acl_in_flight > 0;
  }

  /** Any LE link could send (BTstack's hci_can_send_acl_le_packet_now). */
  can_send_le(): boolean {
    if (this.reserved || this.fragTotal > 0 || !this.s.transport_can_send(HCI_ACL_DATA_PACKET)) return false;
    const c = this.s.controller;
    if (c.le_acl_packets_total_num > 0) return c.le_acl_packets_total_num - this.le_in_flight > 0;
    return c.acl_packets_total_num - this.acl_in_flight > 0;
  }

  reserve(): boolean {
    if (this.reserved) return false;
    this.reserved = true;
    return true;
  }

  release(): void {
    this.reserved = false;
  }

  /**
   * Send the reserved buffer holding a complete ACL packet of `size` bytes. Returns 0, or
   * BTSTACK_ACL_BUFFERS_FULL / ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER (buffer released).
   */
  send_buffer(size: number): number {
    if (!this.reserved) {
      this.s.log.error('hci_send_acl_packet_buffer called without a reserved buffer');
      return ERROR_CODE_COMMAND_DISALLOWED;
    }
    const buf = this.outgoing;
    if (!Number.isInteger(size) || size < HCI_ACL_HEADER_SIZE || size > buf.length) {
      this.release();
      throw new TypeError(`hci_send_acl_packet_buffer: bad size ${size}`);
    }
    const handle = little_endian_read_16(buf, 0) & 0x0fff;
    const conn = this.s.connections.for_handle(handle);
    if (!conn) {
      this.s.log.error(() => `hci_send_acl_packet_buffer: no connection for handle 0x${handle.toString(16)}`);
      this.release();
      this.x.out.transport_packet_sent();
      return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    }
    if (!this.can_send_prepared(conn)) {
      this.s.log.error('hci_send_acl_packet_buffer called but no free ACL buffers on controller');
      this.release();
      this.x.out.transport_packet_sent();
      return BTSTACK_ACL_BUFFERS_FULL;
    }
    this.fragTotal = size;
    this.fragPos = HCI_ACL_HEADER_SIZE;
    this.fragConn = conn;
    this.pump();
    return ERROR_CODE_SUCCESS;
  }

  /** Send pending fragments while the controller has buffers and the transport takes them. */
  pump(): void {
    while (this.fragTotal > 0) {
      const conn = this.fragConn!;
      if (!this.s.transport_can_send(HCI_ACL_DATA_PACKET)) return;
      if (this.free_slots(conn) <= 0) return;
      const buf = this.outgoing;
      const remaining = this.fragTotal - this.fragPos;
      const max = this.max_payload(conn);
      const len = remaining < max ? remaining : max;
      const hdr = this.fragPos - HCI_ACL_HEADER_SIZE;
      if (hdr > 0) {
        // continuation: the header goes over bytes already sent (the transport copied them)
        little_endian_store_16(buf, hdr, (conn.con_handle & 0x0fff) | (ACL_PB_CONTINUATION << 12));
      }
      little_endian_store_16(buf, hdr + 2, len);
      conn.acl_outstanding++;
      if (this.usesLeBuffers(conn)) {
        if (this.le_in_flight++ === 0) this.reportInFlight();
      } else if (this.acl_in_flight++ === 0) this.reportInFlight();
      this.fragPos += len;
      const last = this.fragPos >= this.fragTotal;
      if (last) {
        this.fragTotal = 0;
        this.fragConn = null;
      }
      this.x.transport_send_acl(this.fragmentView(hdr), HCI_ACL_HEADER_SIZE + len);
      if (last) {
        this.release();
        this.x.out.transport_packet_sent();
        return;
      }
    }
  }

  /** The outgoing buffer from `offset` on (cached per offset). */
  private fragmentView(offset: number): Uint8Array {
    if (offset === 0) return this.outgoing;
    let v = this.fragViews.get(offset);
    if (!v) {
      if (this.fragViews.size >= MAX_FRAGMENT_VIEWS) this.fragViews.clear();
      v = this.outgoing.subarray(offset);
      this.fragViews.set(offset, v);
    }
    return v;
  }

  /**
   * Number Of Completed Packets: return credits. Unknown handles are logged and ignored.
   *
   * Over-reporting (issue 18 item 3). Let O be the packets the host counts as outstanding on a
   * handle and R those the controller really holds. Sending stays within the controller's real
   * free buffers as long as R <= O on every handle (in_flight is the sum of the O's). An entry
   * with count <= O is taken as the truth (R and O both drop by count; nothing can tell it from
   * the truth). An entry with count > O is a lie and proves nothing: it may be an inflated real
   * completion (R dropped by some 1..O unknown) or made up from nothing (R unchanged). So:
   *
   * 1. A lie takes nothing back. O stays, R <= O still holds whatever the lie was. Taking back
   *    even one buffer per lie (b500f38) lets N made-up lies free N buffers the controller still
   *    holds: the host overruns it and an SDU is lost on a channel that stays open.
   * 2. It marks the handle's O packets "in doubt": some of them (the "phantoms": completed but
   *    reported by the lie, P <= O) will never be reported again. A later truthful entry lowers
   *    O, so the doubt is capped at O (P <= O always, and P <= doubt since doubt was O at the lie
   *    and phantoms never leave O except through step 3); packets sent after the last lie are
   *    not in doubt. A later lie sets the doubt to the O of that moment.
   * 3. The in-doubt packets are taken back (never more than O) only once the controller has sent
   *    no Number Of Completed Packets entry for the handle for HCI_NOCP_DOUBT_TIMEOUT_MS; every
   *    entry for a handle in doubt, lie or not, starts its wait again. The assumption: a controller
   *    that still holds a packet reports a completion within that time. Then a quiet handle has
   *    R = 0 and its O are all phantoms, and the release restores R <= O exactly. Lies alone can
   *    therefore only delay a release, never cause one: no sequence of lying events makes the
   *    host send beyond the real free buffers. (What remains: a lie followed by a controller that
   *    holds packets silently for longer than the wait, e.g. a peer that stops the baseband flow;
   *    the release then over-trusts by at most the doubt.)
   *
   * Progress: a controller that inflates every entry (hci-nocp-lie) returns nothing through
   * NOCP, so the host stops once its buffers are full of phantoms; the controller then has
   * nothing to report, goes quiet, and all of them come back after HCI_NOCP_DOUBT_TIMEOUT_MS:
   * one controller buffer pool per wait at worst.
   */
  completed(handle: number, count: number): void {
    const conn = this.s.connections.for_handle(handle);
    if (!conn) {
      this.s.log.error(() => `Number Of Completed Packets for unknown handle 0x${handle.toString(16)} (${count}), ignored`);
      return;
    }
    const outstanding = conn.acl_outstanding;
    if (count > outstanding) {
      this.s.nocp_overreports++;
      this.s.log.error(
        () =>
          `Number Of Completed Packets: ${count} for handle 0x${handle.toString(16)} but only ${outstanding} outstanding: ` +
          `0 taken, ${outstanding} in doubt (${this.s.nocp_overreports} over-reports)`,
      );
      if (outstanding > 0) {
        this.doubt.set(conn, outstanding);
        this.waitQuiet(conn);
      }
      return;
    }
    const d = this.doubt.size === 0 ? undefined : this.doubt.get(conn); // none in doubt: no map lookup per event
    this.giveBack(conn, count);
    if (d === undefined) return;
    if (conn.acl_outstanding === 0) this.forgetDoubt(conn);
    else {
      if (d > conn.acl_outstanding) this.doubt.set(conn, conn.acl_outstanding);
      this.waitQuiet(conn);
    }
  }

  /** An entry for conn (in doubt): its quiet period starts again. */
  private waitQuiet(conn: HciConnection): void {
    this.quietAt.set(conn, this.s.run_loop.get_time_ms() + HCI_NOCP_DOUBT_TIMEOUT_MS);
    this.armDoubt();
  }

  private forgetDoubt(conn: HciConnection): void {
    this.doubt.delete(conn);
    if (this.quietAt.delete(conn)) this.armDoubt();
  }

  /** The timer at the earliest end of a quiet period (none: stopped). */
  private armDoubt(): void {
    const rl = this.s.run_loop;
    rl.remove_timer(this.doubtTimer);
    let first = Infinity;
    for (const t of this.quietAt.values()) if (t < first) first = t;
    if (first === Infinity) return;
    rl.set_timer(this.doubtTimer, first - rl.get_time_ms());
    rl.add_timer(this.doubtTimer);
  }

  /** Handles quiet for HCI_NOCP_DOUBT_TIMEOUT_MS since their last entry: their in-doubt packets come back. */
  private resolveDoubt(): void {
    const now = this.s.run_loop.get_time_ms() + 0.001; // deadlines are floats: due within a microsecond
    let released = false;
    for (const [conn, at] of this.quietAt) {
      if (at > now) continue;
      const k = Math.min(this.doubt.get(conn) ?? 0, conn.acl_outstanding);
      this.s.log.error(
        () => `Number Of Completed Packets: handle 0x${conn.con_handle.toString(16)} quiet, ${k} in doubt taken back`,
      );
      this.giveBack(conn, k);
      this.doubt.delete(conn);
      this.quietAt.delete(conn);
      released = true;
    }
    this.armDoubt();
    if (!released) return;
    this.pump();
    if (this.fragTotal === 0) this.x.out.transport_packet_sent();
  }

  private giveBack(conn: HciConnection, count: number): void {
    conn.acl_outstanding -= count;
    if (count <= 0) return;
    if (this.usesLeBuffers(conn)) {
      const before = this.le_in_flight;
      this.le_in_flight = Math.max(0, before - count);
      if (before > 0 && this.le_in_flight === 0) this.reportInFlight(); // the LE pool emptied
    } else {
      const before = this.acl_in_flight;
      this.acl_in_flight = Math.max(0, before - count);
      if (before > 0 && this.acl_in_flight === 0) this.reportInFlight(); // the BR/EDR pool emptied
    }
  }

  /** Disconnection / teardown: return the link's credits, drop its pending fragments and reassembly. */
  release_connection(conn: HciConnection): void {
    this.giveBack(conn, conn.acl_outstanding);
    this.forgetDoubt(conn);
    this.dropReassembly(conn);
    if (this.fragConn === conn) {
      this.fragTotal = 0;
      this.fragConn = null;
      this.release();
      this.x.out.transport_packet_sent();
    }
  }

  private dropReassembly(conn: HciConnection): void {
    if (conn.rx_buffer) this.s.pools.packet_buffers.free(conn.rx_buffer);
    conn.rx_buffer = null;
    conn.rx_pos = 0;
    conn.rx_expected = 0;
  }

  /** Largest L2CAP PDU (header included) that fits a pooled reassembly buffer. */
  private get maxReassembly(): number {
    return this.s.pools.packet_buffers.buffer_size - HCI_ACL_HEADER_SIZE;
  }

  /** An incoming ACL packet from the transport (already length-checked against its header). */
  receive(packet: Uint8Array, size: number): void {
    if (size < HCI_ACL_HEADER_SIZE) {
      this.s.log.error(() => `ACL packet of ${size} bytes is shorter than its header, dropped`);
      return;
    }
    const hf = little_endian_read_16(packet, 0);
    const handle = hf & 0x0fff;
    const pb = (hf >>> 12) & 0x03;
    const dataLen = little_endian_read_16(packet, 2);
    if (HCI_ACL_HEADER_SIZE + dataLen > size) {
      this.s.log.error(() => `ACL packet says ${dataLen} data bytes but carries ${size - HCI_ACL_HEADER_SIZE}, dropped`);
      return;
    }
    const conn = this.s.connections.for_handle(handle);
    if (!conn) {
      this.s.log.error(() => `ACL packet for unknown handle 0x${handle.toString(16)}, dropped`);
      return;
    }
    // consumed by the time this returns (copied or delivered): its host buffer is free again
    this.x.host_flow.consumed(conn, dataLen);
    if (pb === ACL_PB_CONTINUATION) {
      this.continuation(conn, packet, dataLen);
      return;
    }
    // start of a PDU (first flushable, first non-flushable, or complete)
    if (conn.rx_buffer) {
      this.s.log.error(
        () =>
          `ACL start on handle 0x${handle.toString(16)} while ${conn.rx_pos - 4} of ${conn.rx_expected || '?'} bytes were reassembled: incomplete PDU dropped`,
      );
      this.dropReassembly(conn);
    }
    conn.rx_discard = false;
    if (dataLen >= 4) {
      const total = little_endian_read_16(packet, HCI_ACL_HEADER_SIZE) + 4;
      if (total <= dataLen) {
        // whole L2CAP PDU in one packet: deliver in place, no copy
        this.deliver(handle, packet, HCI_ACL_HEADER_SIZE + dataLen);
        return;
      }
      if (total > this.maxReassembly) {
        this.s.log.error(() => `L2CAP PDU of ${total} bytes exceeds the reassembly buffer, dropped`);
        conn.rx_discard = true;
        return;
      }
      this.startReassembly(conn, packet, dataLen, total);
      return;
    }
    this.startReassembly(conn, packet, dataLen, 0);
  }

  /** A complete L2CAP PDU as an ACL packet, to the registered ACL handler (L2CAP). */
  private deliver(handle: number, packet: Uint8Array, size: number): void {
    const h = this.s.acl_handler;
    if (h) h(HCI_ACL_DATA_PACKET, handle, packet, size);
    else this.s.log.debug('ACL packet without a registered ACL handler, dropped');
  }

  private startReassembly(conn: HciConnection, packet: Uint8Array, dataLen: number, total: number): void {
    const buf = this.s.pools.packet_buffers.get();
    if (!buf) {
      this.s.log.error('no packet buffer for ACL reassembly, PDU dropped');
      conn.rx_discard = true;
      return;
    }
    this.copier.copy(buf, 0, packet, 0, HCI_ACL_HEADER_SIZE + dataLen);
    conn.rx_buffer = buf;
    conn.rx_pos = HCI_ACL_HEADER_SIZE + dataLen;
    conn.rx_expected = total;
  }

  private continuation(conn: HciConnection, packet: Uint8Array, dataLen: number): void {
    const buf = conn.rx_buffer;
    if (!buf) {
      if (!conn.rx_discard)
        this.s.log.error(() => `ACL continuation without a start on handle 0x${conn.con_handle.toString(16)}, dropped`);
      return;
    }
    const limit = conn.rx_expected > 0 ? HCI_ACL_HEADER_SIZE + conn.rx_expected : buf.length;
    if (conn.rx_pos + dataLen > limit) {
      this.s.log.error(
        () => `ACL continuation overruns the L2CAP length on handle 0x${conn.con_handle.toString(16)}: PDU dropped`,
      );
      this.dropReassembly(conn);
      conn.rx_discard = true;
      return;
    }
    this.copier.copy(buf, conn.rx_pos, packet, HCI_ACL_HEADER_SIZE, dataLen);
    conn.rx_pos += dataLen;
    if (conn.rx_expected === 0 && conn.rx_pos >= HCI_ACL_HEADER_SIZE + 4) {
      const total = little_endian_read_16(buf, HCI_ACL_HEADER_SIZE) + 4;
      if (total > this.maxReassembly || conn.rx_pos > HCI_ACL_HEADER_SIZE + total) {
        this.s.log.error(() => `bad L2CAP length ${total - 4} in reassembly, PDU dropped`);
        this.dropReassembly(conn);
        conn.rx_discard = true;
        return;
      }
      conn.rx_expected = total;
    }
    if (conn.rx_expected > 0 && conn.rx_pos === HCI_ACL_HEADER_SIZE + conn.rx_expected) {
      little_endian_store_16(buf, 2, conn.rx_expected);
      const size = conn.rx_pos;
      conn.rx_buffer = null;
      conn.rx_pos = 0;
      conn.rx_expected = 0;
      try {
        this.deliver(conn.con_handle, buf, size);
      } finally {
        this.s.pools.packet_buffers.free(buf);
      }
    }
  }
}
