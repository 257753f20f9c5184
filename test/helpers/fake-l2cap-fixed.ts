/**
 * The shared fake of L2CAP's LE fixed channels for the unit tests of the layers that live on them
 * (ATT server, GATT client, later SM): each `FakeL2capFixed` endpoint implements
 * `L2capFixedChannelService` (src/l2cap/l2cap-fixed-service.ts) exactly, and carries `hci`, the
 * slice of `HciService` those layers use (event handlers, LE connection records, security level).
 *
 *   const run_loop = new VirtualRunLoop();
 *   const air = new FakeLeAir(run_loop);
 *   const server = new FakeL2capFixed(air, ADDR_S);          // profile 'v1.4' (default) or 'v1.8'
 *   const client = new FakeL2capFixed(air, ADDR_C, 'v1.8');
 *   const [h_client, h_server] = air.connect(client, server); // client central, server peripheral
 *   // or, with no peer endpoint (a scripted remote):
 *   const h = server.connect_remote(ADDR_C, 0, 1);            // address, address type, role
 *   server.inject(h, 0x0004, fromHex('020002'));              // an ATT PDU from the remote
 *   run_loop.run();
 *   server.sent                                               // [{ con_handle, cid, bytes }]
 *
 * What it models (keep this API small; ATT server and GATT client tests build on it):
 * - Everything is delivered from the run loop (posted), never inside the call that caused it.
 * - Connections: `air.connect(a, b)` (or `x.connect_remote`) posts HCI_EVENT_LE_META / LE
 *   Connection Complete (subevent 0x01, status 0, role 0 central / 1 peripheral, the peer's address
 *   and address type, interval 0x0018, latency 0, timeout 0x0048) to every handler added with
 *   `hci.hci_add_event_handler`, as `(HCI_EVENT_PACKET, 0, event, size)`. Handles count up from
 *   0x0040 per endpoint. `air.disconnect(h_a_or_endpoint, ...)` / `x.disconnect(h, reason)` posts
 *   HCI_EVENT_DISCONNECTION_COMPLETE (status 0, reason default 0x13) at both ends.
 * - Data: `l2cap_send_connectionless(h, cid, data, len)` copies the PDU into `sent`; on an
 *   `air.connect` link it is also posted to the peer's handler for `cid` as `(ATT_DATA_PACKET |
 *   SM_DATA_PACKET, peer_handle, pdu, size)` (the packet type BTstack uses for that cid; a fresh
 *   view each time). Unknown handle -> ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER.
 * - Flow control: `blocked = true` makes can_send false and sends return BTSTACK_ACL_BUFFERS_FULL;
 *   `unblock()` clears it and posts the pending L2CAP_EVENT_CAN_SEND_NOW events.
 *   `l2cap_request_can_send_fix_channel_now_event(h, cid)` posts exactly one L2CAP_EVENT_CAN_SEND_NOW
 *   (local_cid = cid) to that cid's handler as `(HCI_EVENT_PACKET, h, event, size)` once not blocked.
 * - Injection: `inject(h, cid, bytes)` delivers bytes to our handler for `cid` as if the remote
 *   sent them (malformed input welcome).
 * - Security: `hci.gap.gap_security_level(h)` returns the level `set_security_level(h, level)` set
 *   (default 0); `gap_request_security_level` is recorded in `security_requests` and answered with
 *   nothing; `set_security_level(h, level, true)` also posts GAP_EVENT_SECURITY_LEVEL. The level
 *   gives gap_encryption_key_size (16 from level 2 on, or `set_key_size`), gap_authenticated (3+)
 *   and gap_secure_connection (4).
 * - Events are built with the endpoint's code profile (`codes`).
 */
import { bd_addr_to_str, type BdAddr } from '../../src/core/bytes.js';
import type { VirtualRunLoop } from '../../src/core/run-loop.js';
import { codes_for, type CodeProfile, type Codes } from '../../src/codes/index.js';
import type { BtstackPacketCallbackRegistration, HciService, PacketHandler } from '../../src/hci/hci-service.js';
import type { AttServerGapSecurity } from '../../src/att/att-server-state.js';
import type { L2capFixedChannelService } from '../../src/l2cap/l2cap-fixed-service.js';
import {
  ATT_DATA_PACKET,
  BTSTACK_ACL_BUFFERS_FULL,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  HCI_EVENT_PACKET,
  L2CAP_CID_SECURITY_MANAGER_PROTOCOL,
  SM_DATA_PACKET,
} from '../../src/codes/v1.4.js';

/** The slice of HciService the LE fixed-channel layers use; `FakeL2capFixed.hci` implements it. */
export type FakeLeHciService = Pick<HciService, 'hci_add_event_handler' | 'hci_connection_for_handle'> &
  Required<Pick<HciService, 'hci_remove_event_handler'>> & {
    readonly gap: Pick<
      HciService['gap'],
      'gap_security_level' | 'gap_request_security_level' | 'gap_get_security_mode' | 'gap_get_security_level' | 'gap_disconnect'
    > &
      AttServerGapSecurity;
  };

export interface FakeLeConnection {
  readonly con_handle: number;
  readonly address: BdAddr;
  readonly address_type: number;
  /** 0 central, 1 peripheral. */
  readonly role: number;
  /** The other endpoint's end of the link (air.connect), or null (connect_remote). */
  peer: { endpoint: FakeL2capFixed; con_handle: number } | null;
  security_level: number;
  /** Encryption key size reported from level 2 on (default 16). */
  key_size: number;
}

export interface FakeFixedSent {
  con_handle: number;
  cid: number;
  bytes: Uint8Array;
}

/** The medium: posts every delivery on the run loop. */
export class FakeLeAir {
  constructor(readonly run_loop: VirtualRunLoop) {}

  post(fn: () => void): void {
    this.run_loop.execute_on_main_thread(fn);
  }

  /** Link a (central) and b (peripheral); returns [a's handle, b's handle]. */
  connect(a: FakeL2capFixed, b: FakeL2capFixed, a_type = 0, b_type = 0): [number, number] {
    const ha = a.add_connection(b.address, b_type, 0);
    const hb = b.add_connection(a.address, a_type, 1);
    a.connections.get(ha)!.peer = { endpoint: b, con_handle: hb };
    b.connections.get(hb)!.peer = { endpoint: a, con_handle: ha };
    return [ha, hb];
  }

  /** Drop the link at `endpoint`'s handle `con_handle`; both ends get Disconnection Complete. */
  disconnect(endpoint: FakeL2capFixed, con_handle: number, reason = 0x13): void {
    endpoint.disconnect(con_handle, reason);
  }
}

export class FakeL2capFixed implements L2capFixedChannelService {
  readonly codes: Codes;
  readonly connections = new Map<number, FakeLeConnection>();
  /** Every PDU sent through l2cap_send_connectionless, oldest first. */
  readonly sent: FakeFixedSent[] = [];
  /** [con_handle, level] per gap_request_security_level call. */
  readonly security_requests: Array<[number, number]> = [];
  /** While true: can_send false, sends refused with BTSTACK_ACL_BUFFERS_FULL. */
  blocked = false;
  private next_handle = 0x0040;
  private readonly fixed = new Map<number, PacketHandler>();
  private readonly waiting: Array<[number, number]> = [];
  private readonly event_handlers: BtstackPacketCallbackRegistration[] = [];

  readonly hci: FakeLeHciService = {
    hci_add_event_handler: (r) => {
      if (!this.event_handlers.includes(r)) this.event_handlers.push(r);
    },
    hci_remove_event_handler: (r) => {
      const i = this.event_handlers.indexOf(r);
      if (i >= 0) this.event_handlers.splice(i, 1);
    },
    hci_connection_for_handle: (h) => {
      const c = this.connections.get(h);
      return c ? { address: c.address, is_le: true } : null;
    },
    gap: {
      gap_security_level: (h) => this.connections.get(h)?.security_level ?? 0,
      gap_encryption_key_size: (h) => {
        const c = this.connections.get(h);
        return c && c.security_level >= 2 ? c.key_size : 0;
      },
      gap_authenticated: (h) => (this.connections.get(h)?.security_level ?? 0) >= 3,
      gap_secure_connection: (h) => (this.connections.get(h)?.security_level ?? 0) >= 4,
      gap_request_security_level: (h, level) => {
        this.security_requests.push([h, level]);
      },
      gap_get_security_mode: () => 4,
      gap_get_security_level: () => 2,
      gap_disconnect: (h) => {
        if (!this.connections.has(h)) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
        this.disconnect(h, 0x16);
        return 0;
      },
    },
  };

  constructor(
    readonly air: FakeLeAir,
    readonly address: BdAddr,
    readonly profile: CodeProfile = 'v1.4',
  ) {
    this.codes = codes_for(profile);
  }

  // ---- L2capFixedChannelService

  l2cap_register_fixed_channel(handler: PacketHandler, channel_id: number): void {
    this.fixed.set(channel_id, handler);
  }

  l2cap_can_send_fixed_channel_packet_now(con_handle: number, _channel_id: number): boolean {
    return this.connections.has(con_handle) && !this.blocked;
  }

  l2cap_request_can_send_fix_channel_now_event(con_handle: number, channel_id: number): void {
    if (this.waiting.some(([h, c]) => h === con_handle && c === channel_id)) return;
    this.waiting.push([con_handle, channel_id]);
    this.post_can_send_now();
  }

  l2cap_send_connectionless(con_handle: number, channel_id: number, data: Uint8Array, len: number): number {
    const conn = this.connections.get(con_handle);
    if (!conn) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (this.blocked) return BTSTACK_ACL_BUFFERS_FULL;
    const bytes = data.slice(0, len);
    this.sent.push({ con_handle, cid: channel_id, bytes });
    const peer = conn.peer;
    if (peer) peer.endpoint.inject(peer.con_handle, channel_id, bytes);
    return 0;
  }

  // ---- test controls

  /** A connection to a scripted remote (no peer endpoint); returns the handle. Posts LE Connection Complete. */
  connect_remote(address: BdAddr, address_type = 0, role = 1): number {
    return this.add_connection(address, address_type, role);
  }

  /** Post Disconnection Complete here (and at the peer's end of an air.connect link). */
  disconnect(con_handle: number, reason = 0x13): void {
    const conn = this.connections.get(con_handle);
    if (!conn) return;
    this.connections.delete(con_handle);
    this.post_disconnection(con_handle, reason);
    const peer = conn.peer;
    if (peer) {
      peer.endpoint.connections.delete(peer.con_handle);
      peer.endpoint.post_disconnection(peer.con_handle, reason);
    }
  }

  /** Deliver `bytes` to our handler for `cid` as if the remote sent them (posted). */
  inject(con_handle: number, cid: number, bytes: Uint8Array): void {
    const copy = bytes.slice();
    this.air.post(() => {
      const h = this.fixed.get(cid);
      if (!h || !this.connections.has(con_handle)) return;
      h(cid === L2CAP_CID_SECURITY_MANAGER_PROTOCOL ? SM_DATA_PACKET : ATT_DATA_PACKET, con_handle, copy, copy.length);
    });
  }

  /** Set the encryption key size reported while the level is 2 or more. */
  set_key_size(con_handle: number, key_size: number): void {
    const conn = this.connections.get(con_handle);
    if (conn) conn.key_size = key_size;
  }

  /** Set the level gap_security_level reports; with `emit`, post GAP_EVENT_SECURITY_LEVEL. */
  set_security_level(con_handle: number, level: number, emit = false): void {
    const conn = this.connections.get(con_handle);
    if (conn) conn.security_level = level;
    if (emit) {
      const buf = new Uint8Array(8);
      const c = this.codes;
      // v1.8's GAP_EVENT_SECURITY_LEVEL carries a status byte after the level
      const n =
        c.PROFILE === 'v1.8'
          ? c.gap_event_security_level_build(buf, 0, con_handle, level, 0)
          : c.gap_event_security_level_build(buf, 0, con_handle, level);
      this.post_event(buf, n);
    }
  }

  /** Clear `blocked` and post the pending can-send-now events. */
  unblock(): void {
    this.blocked = false;
    this.post_can_send_now();
  }

  /** Post an arbitrary HCI event to the event handlers (e.g. an Enhanced Connection Complete). */
  post_event(event: Uint8Array, size = event.length): void {
    const copy = event.slice(0, size);
    this.air.post(() => {
      for (const r of this.event_handlers.slice()) r.callback(HCI_EVENT_PACKET, 0, copy, copy.length);
    });
  }

  /** @internal used by FakeLeAir */
  add_connection(address: BdAddr, address_type: number, role: number): number {
    const con_handle = this.next_handle++;
    this.connections.set(con_handle, { con_handle, address, address_type, role, peer: null, security_level: 0, key_size: 16 });
    const buf = new Uint8Array(32);
    const n = this.codes.hci_subevent_le_connection_complete_build(
      buf,
      0,
      0,
      con_handle,
      role,
      address_type,
      address,
      0x18,
      0,
      0x48,
      0,
    );
    this.post_event(buf, n);
    return con_handle;
  }

  /** @internal */
  post_disconnection(con_handle: number, reason: number): void {
    this.waiting.splice(0, this.waiting.length, ...this.waiting.filter(([h]) => h !== con_handle));
    const buf = new Uint8Array(8);
    const n = this.codes.hci_event_disconnection_complete_build(buf, 0, 0, con_handle, reason);
    this.post_event(buf, n);
  }

  toString(): string {
    return `FakeL2capFixed(${bd_addr_to_str(this.address)})`;
  }

  private post_can_send_now(): void {
    this.air.post(() => {
      while (!this.blocked && this.waiting.length > 0) {
        const [h, cid] = this.waiting.shift()!;
        const handler = this.fixed.get(cid);
        if (!handler || !this.connections.has(h)) continue;
        const buf = new Uint8Array(4);
        const n = this.codes.l2cap_event_can_send_now_build(buf, 0, cid);
        handler(HCI_EVENT_PACKET, h, buf, n);
      }
    });
  }
}
