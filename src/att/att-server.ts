/**
 * ATT server (BTstack's ble/att_server.c API) on the ATT fixed channel (CID 0x0004) of every LE
 * connection, serving a BTstack att_db (src/att/att-db.ts; made by the .gatt compiler).
 *
 *   stack.att_server.att_server_init(profile_data, read_cb, write_cb);
 *   stack.att_server.att_server_register_packet_handler((type, channel, packet, size) => { ... });
 *
 * Events to the packet handler, built with the stack's code profile (same layouts in v1.4 and
 * v1.8): the LE Connection Complete event (forwarded, as BTstack) then ATT_EVENT_CONNECTED
 * (address type, address, handle) when an LE connection comes up; ATT_EVENT_MTU_EXCHANGE_COMPLETE
 * after the Exchange MTU Response went out; ATT_EVENT_CAN_SEND_NOW after
 * att_server_request_can_send_now_event; ATT_EVENT_HANDLE_VALUE_INDICATION_COMPLETE (status 0 on
 * the confirmation, ATT_HANDLE_VALUE_INDICATION_TIMEOUT after 30 s, _DISCONNECT when the link
 * goes); on disconnection ATT_EVENT_DISCONNECTED then the forwarded Disconnection Complete.
 *
 * Requests are answered as BTstack's att.c (att-server-requests.ts), one at a time per
 * connection: a request arriving before the previous response went out is dropped, as BTstack.
 * Dynamic attributes (ATT_PROPERTY_DYNAMIC) go through the callbacks with BTstack's signatures;
 * prepared writes are queued by the app's write callback (ATT_TRANSACTION_MODE_ACTIVE, then
 * _VALIDATE + _EXECUTE or _CANCEL), which bounds its queue by answering ATT_ERROR_PREPARE_QUEUE_FULL;
 * the server itself stores nothing per prepared write. Permissions come from the db flags and
 * the link's GAP security level (gap_security_level), so a client gets Insufficient
 * Encryption / Authentication / Key Size / Authorization and can pair and retry.
 * Not built yet (needs the Security Manager): Signed Write Command (dropped; BTstack without
 * ENABLE_LE_SIGNED_WRITE answers it with Request Not Supported, we keep the spec's "commands are
 * never answered"), authorization grants, persistent CCC values, GATT over BR/EDR and EATT,
 * delayed responses.
 *
 * The layer pattern (docs/ARCHITECTURE.md 2a): this facade; the state record
 * att-server-state.ts; components att-server-io.ts (PDUs in and out, events) and
 * att-server-requests.ts (the pure request handler on the db, BTstack's att.c).
 */
import type { Logger } from '../core/log.js';
import type { Pools, StackConfig } from '../core/config.js';
import type { RunLoop } from '../core/run-loop.js';
import { EventOut, type EventPacketLog } from '../core/event-out.js';
import { little_endian_read_16, reverse_bd_addr } from '../core/bytes.js';
import type { Codes } from '../codes/index.js';
import {
  ATT_DATA_PACKET,
  ATT_HANDLE_VALUE_INDICATION_DISCONNECT,
  HCI_EVENT_DISCONNECTION_COMPLETE,
  HCI_EVENT_LE_META,
  HCI_EVENT_PACKET,
  HCI_SUBEVENT_LE_CONNECTION_COMPLETE,
  HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE,
  L2CAP_CID_ATTRIBUTE_PROTOCOL,
} from '../codes/v1.4.js';
import type { PacketHandler } from '../hci/hci-service.js';
import type { L2capFixedChannelService } from '../l2cap/l2cap-fixed-service.js';
import { ATT_DB_VERSION } from './att-db.js';
import { ATT_DEFAULT_MTU, ATT_HANDLE_VALUE_INDICATION } from './att-pdu.js';
import { AttServerIo } from './att-server-io.js';
import { AttRequestHandler, type AttReadCallback, type AttWriteCallback } from './att-server-requests.js';
import { AttServerConnection, AttServerState, type AttServerHci } from './att-server-state.js';

export type { AttServerHci } from './att-server-state.js';
export type { AttReadCallback, AttWriteCallback } from './att-server-requests.js';
export {
  ATT_READ_ERROR_CODE_OFFSET,
  ATT_TRANSACTION_MODE_ACTIVE,
  ATT_TRANSACTION_MODE_CANCEL,
  ATT_TRANSACTION_MODE_EXECUTE,
  ATT_TRANSACTION_MODE_NONE,
  ATT_TRANSACTION_MODE_VALIDATE,
} from './att-server-requests.js';

/** What the ATT server takes from the Stack. */
export interface AttServerStackLike {
  readonly run_loop: RunLoop;
  readonly config: StackConfig;
  readonly pools: Pools;
  readonly log: Logger;
  readonly codes: Codes;
  readonly dump?: EventPacketLog;
}

const ATT = L2CAP_CID_ATTRIBUTE_PROTOCOL;

export class AttServer {
  /** @internal The server's state record (tests). */
  readonly state: AttServerState;
  readonly #io: AttServerIo;
  readonly #hciRegistration = { callback: this.#onHciEvent.bind(this) };

  constructor(stack: AttServerStackLike, l2cap: L2capFixedChannelService, hci: AttServerHci) {
    // BTstack: max_mtu = l2cap_max_le_mtu() (HCI_ACL_PAYLOAD_SIZE - 4), capped by the request buffer
    const max_mtu = Math.max(ATT_DEFAULT_MTU, stack.config.HCI_ACL_PAYLOAD_SIZE - 4);
    const pool = stack.pools.create(
      'MAX_NR_HCI_CONNECTIONS',
      'att_server_connections',
      () => new AttServerConnection(max_mtu),
      (c) => c.reset(),
    );
    const events = new EventOut(stack.dump ?? null);
    this.state = new AttServerState(stack.codes, stack.log, stack.run_loop, l2cap, hci, pool, events, max_mtu);
    this.#io = new AttServerIo(this.state);
  }

  /**
   * BTstack's att_server_init: serve `db` (BTstack's att_db bytes, version 1) on every LE
   * connection from now on; `read_callback` / `write_callback` serve ATT_PROPERTY_DYNAMIC
   * attributes (null: dynamic reads are empty, writes Write Not Permitted).
   */
  att_server_init(
    db: Uint8Array,
    read_callback: AttReadCallback | null = null,
    write_callback: AttWriteCallback | null = null,
  ): void {
    if (!(db instanceof Uint8Array)) throw new TypeError('att_server_init: db must be a Uint8Array');
    if (db[0] !== ATT_DB_VERSION)
      this.state.log.error('att_server_init: ATT DB version differs, regenerate it from the .gatt file');
    const s = this.state;
    s.requests = new AttRequestHandler(db, read_callback, write_callback);
    if (s.initialized) return;
    s.initialized = true;
    s.hci.hci_add_event_handler(this.#hciRegistration);
    s.l2cap.l2cap_register_fixed_channel(this.#onAtt.bind(this), ATT);
  }

  /** BTstack's att_server_deinit: stop serving; connection records go back to the pool. */
  att_server_deinit(): void {
    const s = this.state;
    if (!s.initialized) return;
    s.initialized = false;
    s.hci.hci_remove_event_handler?.(this.#hciRegistration);
    for (const c of s.connections.slice()) this.#release(c);
    s.requests = null;
    s.handler = null;
  }

  /** BTstack's att_server_register_packet_handler: the app's handler for ATT_EVENT_* (one). */
  att_server_register_packet_handler(handler: PacketHandler | null): void {
    this.state.handler = handler;
  }

  /** BTstack's att_server_can_send_packet_now. */
  att_server_can_send_packet_now(con_handle: number): boolean {
    if (!this.state.connectionFor(con_handle)) return false;
    return this.state.l2cap.l2cap_can_send_fixed_channel_packet_now(con_handle, ATT);
  }

  /** BTstack's att_server_request_can_send_now_event: one ATT_EVENT_CAN_SEND_NOW when it can. */
  att_server_request_can_send_now_event(con_handle: number): number {
    const c = this.state.connectionFor(con_handle);
    if (!c) return 0x02; // ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER
    c.can_send_now_requested = true;
    this.#io.run();
    return 0;
  }

  /**
   * BTstack's att_server_notify: send a Handle Value Notification now (value cut to ATT_MTU - 3).
   * 0, ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER or BTSTACK_ACL_BUFFERS_FULL.
   */
  att_server_notify(con_handle: number, attribute_handle: number, value: Uint8Array, value_len: number = value.length): number {
    return this.#io.notify(con_handle, attribute_handle, value, value_len);
  }

  /**
   * BTstack's att_server_indicate: send a Handle Value Indication; its confirmation (or 30 s
   * timeout, or disconnection) ends with ATT_EVENT_HANDLE_VALUE_INDICATION_COMPLETE. 0,
   * ATT_HANDLE_VALUE_INDICATION_IN_PROGRESS, ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
   * BTSTACK_ACL_BUFFERS_FULL.
   */
  att_server_indicate(con_handle: number, attribute_handle: number, value: Uint8Array, value_len: number = value.length): number {
    return this.#io.send_value(con_handle, ATT_HANDLE_VALUE_INDICATION, attribute_handle, value, value_len);
  }

  /** BTstack's att_server_get_mtu: the connection's ATT_MTU, 0 for an unknown handle. */
  att_server_get_mtu(con_handle: number): number {
    return this.state.connectionFor(con_handle)?.mtu ?? 0;
  }

  // ---- lower layers

  #onAtt(packet_type: number, channel: number, packet: Uint8Array, size: number): void {
    if (!this.state.initialized) return;
    if (packet_type === ATT_DATA_PACKET) this.#io.pdu(channel, packet, size);
    else if (packet_type === HCI_EVENT_PACKET && packet[0] === this.state.codes.L2CAP_EVENT_CAN_SEND_NOW) this.#io.run();
  }

  #onHciEvent(packet_type: number, _channel: number, packet: Uint8Array, size: number): void {
    const s = this.state;
    if (packet_type !== HCI_EVENT_PACKET || size < 2 || !s.initialized) return;
    if (packet[0] === HCI_EVENT_LE_META && size >= 14) {
      const sub = packet[2];
      if (sub !== HCI_SUBEVENT_LE_CONNECTION_COMPLETE && sub !== HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE) return;
      if (packet[3] !== 0) return;
      this.#connected(little_endian_read_16(packet, 4) & 0x0fff, packet[7]!, reverse_bd_addr(packet, 8), packet, size);
    } else if (packet[0] === HCI_EVENT_DISCONNECTION_COMPLETE && size >= 6 && packet[2] === 0) {
      const c = s.connectionFor(little_endian_read_16(packet, 3) & 0x0fff);
      if (!c) return;
      const con_handle = c.con_handle;
      this.#release(c);
      const ev = s.events.buffer();
      s.events.to_handler(s.handler, 0, ev, s.codes.att_event_disconnected_build(ev, 0, con_handle));
      s.events.to_handler(s.handler, 0, packet, size, false);
      this.#io.run();
    }
  }

  #connected(con_handle: number, addr_type: number, addr: Uint8Array, packet: Uint8Array, size: number): void {
    const s = this.state;
    const old = s.connectionFor(con_handle);
    if (old) this.#release(old);
    const c = s.pool.get();
    if (!c) {
      s.log.error(`att_server: no connection record free for handle 0x${con_handle.toString(16)}`);
      return;
    }
    c.con_handle = con_handle;
    c.peer_addr_type = addr_type;
    c.peer_address = addr;
    c.mtu = ATT_DEFAULT_MTU;
    c.max_mtu = s.max_mtu;
    s.connections.push(c);
    s.setState(c, 'IDLE', 'LE connection complete');
    s.events.to_handler(s.handler, 0, packet, size, false);
    const ev = s.events.buffer();
    s.events.to_handler(s.handler, 0, ev, s.codes.att_event_connected_build(ev, 0, addr_type, addr, con_handle));
  }

  /** The link is gone: cancel the app's prepared writes, end an indication, free the record. */
  #release(c: AttServerConnection): void {
    const s = this.state;
    const i = s.connections.indexOf(c);
    if (i < 0) return;
    s.connections.splice(i, 1);
    s.run_loop.remove_timer(c.indication_timer);
    s.requests?.clear_transaction_queue(c);
    if (c.value_indication_handle !== 0 && !c.indication_timed_out && s.initialized)
      this.#io.emitIndicationComplete(ATT_HANDLE_VALUE_INDICATION_DISCONNECT, c.con_handle, c.value_indication_handle);
    s.setState(c, 'IDLE', 'disconnected');
    s.pool.free(c);
  }
}
