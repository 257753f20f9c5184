/**
 * The ATT server's state record (docs/ARCHITECTURE.md 2a): the database handler, the app's packet
 * handler, the per-connection records (BTstack's att_server_t + att_connection_t, one per LE
 * connection, from the fixed pool `att_server_connections` of MAX_NR_HCI_CONNECTIONS) and the
 * one state-change function. No protocol logic here.
 */
import { Timer, type RunLoop } from '../core/run-loop.js';
import type { Logger } from '../core/log.js';
import type { Pool } from '../core/pool.js';
import type { EventOut } from '../core/event-out.js';
import type { Codes } from '../codes/index.js';
import type { BdAddr } from '../core/bytes.js';
import type { HciService, PacketHandler } from '../hci/hci-service.js';
import type { L2capFixedChannelService } from '../l2cap/l2cap-fixed-service.js';
import { ATT_DEFAULT_MTU } from './att-pdu.js';
import type { AttConnection, AttRequestHandler } from './att-server-requests.js';

/** The link security BTstack's att_server reads on Encryption Change (gap.h names; Gap has them). */
export interface AttServerGapSecurity {
  gap_encryption_key_size(con_handle: number): number;
  gap_authenticated(con_handle: number): boolean;
  gap_secure_connection(con_handle: number): boolean;
}

/** What the ATT server needs from HCI: connection events and the link's security level. */
export type AttServerHci = Pick<HciService, 'hci_add_event_handler' | 'hci_remove_event_handler'> & {
  readonly gap: Pick<HciService['gap'], 'gap_security_level'> & AttServerGapSecurity;
};

/** BTstack's att_server_state_t (the states this server uses). */
export type AttServerConnState = 'IDLE' | 'REQUEST_RECEIVED_AND_VALIDATED';

export class AttServerConnection implements AttConnection {
  con_handle = 0;
  mtu = ATT_DEFAULT_MTU;
  max_mtu = ATT_DEFAULT_MTU;
  mtu_exchanged = false;
  encryption_key_size = 0;
  authenticated = false;
  authorized = false;
  secure_connection = false;
  prepare_write_error_code = 0;
  prepare_write_error_handle = 0;
  peer_addr_type = 0;
  peer_address: BdAddr = new Uint8Array(6);
  state: AttServerConnState = 'IDLE';
  /** The request waiting for its response (copied out of L2CAP's buffer). */
  readonly request: Uint8Array;
  request_size = 0;
  /** Attribute handle of the indication awaiting its confirmation (0: none). */
  value_indication_handle = 0;
  /** True after an indication timed out: ATT forbids further indications on this bearer. */
  indication_timed_out = false;
  readonly indication_timer = new Timer();
  /** att_server_request_can_send_now_event was called for this connection. */
  can_send_now_requested = false;

  constructor(request_buffer_size: number) {
    this.request = new Uint8Array(request_buffer_size);
  }

  reset(): void {
    this.con_handle = 0;
    this.mtu = ATT_DEFAULT_MTU;
    this.max_mtu = ATT_DEFAULT_MTU;
    this.mtu_exchanged = false;
    this.encryption_key_size = 0;
    this.authenticated = false;
    this.authorized = false;
    this.secure_connection = false;
    this.prepare_write_error_code = 0;
    this.prepare_write_error_handle = 0;
    this.peer_addr_type = 0;
    this.peer_address = new Uint8Array(6);
    this.state = 'IDLE';
    this.request_size = 0;
    this.value_indication_handle = 0;
    this.indication_timed_out = false;
    this.indication_timer.context = null;
    this.can_send_now_requested = false;
  }
}

export class AttServerState {
  /** att_server_init was called (and no deinit since). */
  initialized = false;
  /** The request handler on the app's database (att_server_init). */
  requests: AttRequestHandler | null = null;
  /** att_server_register_packet_handler. */
  handler: PacketHandler | null = null;
  /** Live connections, oldest first. */
  readonly connections: AttServerConnection[] = [];
  /** Response / notification scratch (max_mtu octets), copied by l2cap_send_connectionless. */
  readonly tx: Uint8Array;

  constructor(
    readonly codes: Codes,
    readonly log: Logger,
    readonly run_loop: RunLoop,
    readonly l2cap: L2capFixedChannelService,
    readonly hci: AttServerHci,
    readonly pool: Pool<AttServerConnection>,
    readonly events: EventOut,
    /** BTstack's l2cap_max_le_mtu() capped by the request buffer: the largest MTU we accept. */
    readonly max_mtu: number,
  ) {
    this.tx = new Uint8Array(max_mtu);
  }

  connectionFor(con_handle: number): AttServerConnection | null {
    for (const c of this.connections) if (c.con_handle === con_handle) return c;
    return null;
  }

  /** Every state change of a connection goes through here (logged at debug level). */
  setState(c: AttServerConnection, next: AttServerConnState, why: string): void {
    const prev = c.state;
    c.state = next;
    this.log.debug(() => `att_server 0x${c.con_handle.toString(16).padStart(4, '0')}: ${prev} -> ${next} (${why})`);
  }
}
