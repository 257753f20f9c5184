/**
 * HCI connection records (BTstack's hci_connection_t) and the pool-backed connection table.
 *
 * One record per ACL (classic) or LE link, from the moment the host asks for it (Create
 * Connection, LE Create Connection) or the controller offers it (Connection Request, LE
 * Connection Complete as peripheral) until Disconnection Complete or stack teardown.
 */
import { bd_addr_cmp, bd_addr_copy, bd_addr_to_str, type BdAddr } from '../core/bytes.js';
import type { Logger } from '../core/log.js';
import type { Pool } from '../core/pool.js';
import type { Pools } from '../core/config.js';
import {
  BD_ADDR_TYPE_ACL,
  BD_ADDR_TYPE_LE_PUBLIC,
  BD_ADDR_TYPE_LE_PRIVAT_FALLBACK_RANDOM,
  BD_ADDR_TYPE_UNKNOWN,
  HCI_ROLE_INVALID,
} from '../codes/v1.4.js';
import { HciConnectionSecurity } from './hci-security-state.js';
import { HciLeSecurity } from './hci-le-security.js';

/** Connection states, as BTstack's CONNECTION_STATE. */
export enum ConnState {
  /** Create Connection / LE Create Connection queued, not yet sent. */
  SEND_CREATE_CONNECTION = 0,
  /** Create Connection sent, waiting for Connection Complete. */
  SENT_CREATE_CONNECTION = 1,
  /** LE Create Connection Cancel queued. */
  SEND_CANCEL_CONNECTION = 2,
  SENT_CANCEL_CONNECTION = 3,
  RECEIVED_CONNECTION_REQUEST = 4,
  ACCEPTED_CONNECTION_REQUEST = 5,
  OPEN = 6,
  SEND_DISCONNECT = 7,
  SENT_DISCONNECT = 8,
  RECEIVED_DISCONNECTION_COMPLETE = 9,
}

/** ConnState names for the log (index = state). */
export const HCI_CONNECTION_STATE_NAMES: readonly string[] = Object.freeze([
  'SEND_CREATE_CONNECTION',
  'SENT_CREATE_CONNECTION',
  'SEND_CANCEL_CONNECTION',
  'SENT_CANCEL_CONNECTION',
  'RECEIVED_CONNECTION_REQUEST',
  'ACCEPTED_CONNECTION_REQUEST',
  'OPEN',
  'SEND_DISCONNECT',
  'SENT_DISCONNECT',
  'RECEIVED_DISCONNECTION_COMPLETE',
]);

/**
 * The one place a connection's state changes: sets it and logs
 * `hci con 0x000b: OPEN -> SEND_DISCONNECT (why)` at debug level (the address while the
 * handle is unknown; NEW for a record just created). The line is built only when a sink listens.
 */
export function hci_connection_set_state(log: Logger, conn: HciConnection, state: ConnState, why: string): void {
  const from = conn.is_new ? 'NEW' : (HCI_CONNECTION_STATE_NAMES[conn.state] ?? String(conn.state));
  conn.state = state;
  conn.is_new = false;
  log.debug(() => {
    const who = conn.con_handle !== 0xffff ? `0x${conn.con_handle.toString(16).padStart(4, '0')}` : bd_addr_to_str(conn.address);
    return `hci con ${who}: ${from} -> ${HCI_CONNECTION_STATE_NAMES[state] ?? state} (${why})`;
  });
}

/** Work a connection asks the HCI scheduler for (bit flags). */
export const TODO_ACCEPT = 1 << 0;
export const TODO_READ_REMOTE_FEATURES = 1 << 1;
export const TODO_READ_REMOTE_VERSION = 1 << 2;
export const TODO_CREATE_CONNECTION = 1 << 3;
export const TODO_DISCONNECT = 1 << 4;
export const TODO_LE_CREATE_CONNECTION = 1 << 5;
export const TODO_LE_CREATE_CONNECTION_CANCEL = 1 << 6;
export const TODO_CREATE_CONNECTION_CANCEL = 1 << 7;
export const TODO_READ_REMOTE_EXTENDED_FEATURES = 1 << 8;

export function is_le_address_type(address_type: number): boolean {
  return address_type >= BD_ADDR_TYPE_LE_PUBLIC && address_type <= BD_ADDR_TYPE_LE_PRIVAT_FALLBACK_RANDOM;
}

/** An LE Create Connection for this record is under way (or being cancelled) in the controller. */
export function le_initiating(c: HciConnection): boolean {
  return (
    c.is_le &&
    (c.state === ConnState.SENT_CREATE_CONNECTION ||
      c.state === ConnState.SEND_CANCEL_CONNECTION ||
      c.state === ConnState.SENT_CANCEL_CONNECTION)
  );
}

export class HciConnection {
  /** Connection handle (0x0000-0x0EFF), 0xFFFF while unknown. */
  con_handle = 0xffff;
  readonly address: BdAddr = new Uint8Array(6);
  /** BD_ADDR_TYPE_ACL for classic; BD_ADDR_TYPE_LE_* for LE. */
  address_type: number = BD_ADDR_TYPE_ACL;
  role: number = HCI_ROLE_INVALID;
  state: ConnState = ConnState.SEND_CREATE_CONNECTION;
  /** @internal created and not yet given a state (logged as NEW) */
  is_new = false;
  /** Pending scheduler work (TODO_* bits). */
  todo = 0;
  /** Reason used for the next HCI_Disconnect. */
  disconnect_reason = 0;
  /** @internal host-side supervision (hci-supervision.ts): what is bounded (SupOp), until when (run-loop ms) */
  sup_op = 0;
  sup_deadline = 0;
  /** @internal Authentication Requested waits for Authentication Complete until then (0: not waiting) */
  sup_auth_deadline = 0;

  /** ACL packets sent to the controller and not yet reported by Number Of Completed Packets. */
  acl_outstanding = 0;

  /** Reassembly of an incoming L2CAP PDU: pooled buffer (ACL header + data), or null. */
  rx_buffer: Uint8Array | null = null;
  /** Bytes in rx_buffer (including the 4-byte ACL header). */
  rx_pos = 0;
  /** Expected ACL data length (L2CAP header + payload), 0 while the L2CAP header is incomplete. */
  rx_expected = 0;
  /** Drop continuation fragments until the next start fragment (after an error). */
  rx_discard = false;
  /** ACL packets received and consumed, not yet reported with Host Number Of Completed Packets. */
  host_completed = 0;

  /** Remote LMP features page 0 (classic) or LE features. */
  readonly remote_features = new Uint8Array(8);
  remote_features_valid = false;
  // Page 1 is read on classic links only: made the first time it is written or read
  #features_page1: Uint8Array | null = null;
  /** Remote LMP features page 1 (host features: SSP host support); zeros until read from the remote. */
  get remote_features_page1(): Uint8Array {
    return (this.#features_page1 ??= new Uint8Array(8));
  }
  remote_version = 0;
  remote_manufacturer = 0;
  remote_subversion = 0;
  remote_version_valid = false;

  /** LE connection parameters (from LE Connection Complete / Update Complete). */
  le_conn_interval = 0;
  le_conn_latency = 0;
  le_supervision_timeout = 0;

  /** Encryption_Enabled of the last Encryption Change (0 off, 1 E0 / AES-CCM on LE, 2 AES-CCM on BR/EDR). */
  encryption_enabled = 0;
  // The BR/EDR security record is made the first time the connection needs it (an LE link that
  // nobody asks about never makes it), then kept and reset with the record.
  #sec: HciConnectionSecurity | null = null;
  /** @internal BR/EDR security: link key type, key size, pairing, gap_request_security_level (hci-security.ts) */
  get sec(): HciConnectionSecurity {
    return (this.#sec ??= new HciConnectionSecurity());
  }
  /** @internal The BR/EDR security work owed (SEC_* bits) without making the record: 0 when there is none. */
  get sec_todo(): number {
    return this.#sec === null ? 0 : this.#sec.todo;
  }
  // made the first time the LE security is asked about or set (a classic link never makes it)
  #le_sec: HciLeSecurity | null = null;
  /** LE security the Security Manager reports (key size, authenticated, Secure Connections; hci-le-security.ts). */
  get le_sec(): HciLeSecurity {
    return (this.#le_sec ??= new HciLeSecurity());
  }
  /**
   * LE: the peer's identity address (public or static random) and its type (BD_ADDR_TYPE_LE_PUBLIC /
   * _RANDOM) once the Security Manager found its bond (its resolvable private address resolved with
   * a stored IRK, or its address is a bond's identity), or learnt it in pairing; null until then.
   */
  identity_addr: BdAddr | null = null;
  identity_addr_type: number = BD_ADDR_TYPE_UNKNOWN;

  get is_le(): boolean {
    return is_le_address_type(this.address_type);
  }

  reset(): void {
    this.con_handle = 0xffff;
    this.address.fill(0);
    this.address_type = BD_ADDR_TYPE_ACL;
    this.identity_addr = null;
    this.identity_addr_type = BD_ADDR_TYPE_UNKNOWN;
    this.role = HCI_ROLE_INVALID;
    this.state = ConnState.SEND_CREATE_CONNECTION;
    this.is_new = false;
    this.todo = 0;
    this.disconnect_reason = 0;
    this.sup_op = 0;
    this.sup_deadline = 0;
    this.sup_auth_deadline = 0;
    this.acl_outstanding = 0;
    this.rx_buffer = null;
    this.rx_pos = 0;
    this.rx_expected = 0;
    this.rx_discard = false;
    this.host_completed = 0;
    this.remote_features.fill(0);
    this.remote_features_valid = false;
    this.#features_page1?.fill(0);
    this.remote_version = 0;
    this.remote_manufacturer = 0;
    this.remote_subversion = 0;
    this.remote_version_valid = false;
    this.le_conn_interval = 0;
    this.le_conn_latency = 0;
    this.le_supervision_timeout = 0;
    this.encryption_enabled = 0;
    this.#sec?.reset();
    this.#le_sec?.reset();
  }
}

/** The connection table: a pool (MAX_NR_HCI_CONNECTIONS) plus an ordered list for iteration. */
export class HciConnectionTable {
  private readonly pool: Pool<HciConnection>;
  /** Live connections in creation order. Do not mutate; copy-on-write on add/remove. */
  list: HciConnection[] = [];

  constructor(pools: Pools) {
    this.pool = pools.create(
      'MAX_NR_HCI_CONNECTIONS',
      'hci_connections',
      () => new HciConnection(),
      (c) => c.reset(),
    );
  }

  /** A new record for (addr, type), or null when the pool is exhausted. */
  create(addr: BdAddr, address_type: number): HciConnection | null {
    const c = this.pool.get();
    if (!c) return null;
    c.reset();
    bd_addr_copy(c.address, addr);
    c.address_type = address_type;
    c.is_new = true;
    this.list = [...this.list, c];
    return c;
  }

  /** Return a record to the pool. The caller has released its buffers. */
  free(c: HciConnection): void {
    const i = this.list.indexOf(c);
    if (i < 0) return;
    const next = this.list.slice();
    next.splice(i, 1);
    this.list = next;
    this.pool.free(c);
  }

  for_handle(handle: number): HciConnection | null {
    const list = this.list; // indexed: called several times per packet
    for (let i = 0; i < list.length; i++) if (list[i]!.con_handle === handle && handle !== 0xffff) return list[i]!;
    return null;
  }

  /** Classic (BD_ADDR_TYPE_ACL) or LE record for addr; LE lookups match any LE address type given. */
  for_addr(addr: BdAddr, address_type: number): HciConnection | null {
    for (const c of this.list) {
      if (c.address_type !== address_type) continue;
      if (bd_addr_cmp(c.address, addr) === 0) return c;
    }
    return null;
  }

  /** The LE record whose peer's identity address (resolved by the Security Manager) is (addr_type, addr). */
  for_identity(addr: BdAddr, address_type: number): HciConnection | null {
    if (!is_le_address_type(address_type)) return null;
    for (const c of this.list) {
      const id = c.identity_addr;
      if (id && (c.identity_addr_type & 1) === (address_type & 1) && bd_addr_cmp(id, addr) === 0) return c;
    }
    return null;
  }

  /** Number of connection records, as BTstack counts them for BTSTACK_EVENT_NR_CONNECTIONS_CHANGED. */
  get size(): number {
    return this.list.length;
  }
}
