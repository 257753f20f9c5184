/**
 * The ATT server's PDU path (component of AttServer; BTstack's att_server.c without the HCI
 * events): requests in, one at a time per connection; responses, notifications and indications
 * out on the ATT fixed channel as L2CAP can take them; the ATT_EVENT_* the app sees.
 */
import {
  ATT_HANDLE_VALUE_INDICATION_IN_PROGRESS,
  ATT_HANDLE_VALUE_INDICATION_TIMEOUT,
  BTSTACK_ACL_BUFFERS_FULL,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  L2CAP_CID_ATTRIBUTE_PROTOCOL,
} from '../codes/v1.4.js';
import { little_endian_store_16 } from '../core/bytes.js';
import { SpanCopier } from '../core/span.js';
import {
  ATT_EXCHANGE_MTU_RESPONSE,
  ATT_HANDLE_VALUE_CONFIRMATION,
  ATT_HANDLE_VALUE_INDICATION,
  ATT_HANDLE_VALUE_NOTIFICATION,
  ATT_WRITE_COMMAND,
} from './att-pdu.js';
import type { AttServerConnection, AttServerState } from './att-server-state.js';

const ATT = L2CAP_CID_ATTRIBUTE_PROTOCOL;
/** ATT transaction timeout (Vol 3 Part F 3.3.3): 30 s. */
export const ATT_TRANSACTION_TIMEOUT_MS = 30000;

export class AttServerIo {
  /** Values of notifications / indications into tx: the app's array, no view per value. */
  private readonly values = new SpanCopier(true);
  /** runOnce's copy of the connection list (handlers may change the list while it is served). */
  private readonly snapshot: AttServerConnection[] = [];

  constructor(private readonly s: AttServerState) {}

  // ---- in

  /** An ATT PDU from the peer (ATT_DATA_PACKET on the fixed channel). */
  pdu(con_handle: number, pdu: Uint8Array, size: number): void {
    const s = this.s;
    const c = s.connectionFor(con_handle);
    if (!c || size < 1 || !s.requests) return;
    const op = pdu[0]!;
    if (op === ATT_HANDLE_VALUE_CONFIRMATION && c.value_indication_handle !== 0 && !c.indication_timed_out) {
      s.run_loop.remove_timer(c.indication_timer);
      const handle = c.value_indication_handle;
      c.value_indication_handle = 0;
      this.emitIndicationComplete(0, c.con_handle, handle);
      this.run();
      return;
    }
    if ((op & 0x40) !== 0) {
      // Commands are never answered (3.3: an unsupported command is ignored). Signed Write
      // Command (0xD2) needs the Security Manager's CSRK: dropped until SM exists.
      if (op === ATT_WRITE_COMMAND) s.requests.handle_request(c, pdu, size, s.tx);
      else s.log.debug(() => `att_server 0x${con_handle.toString(16)}: command 0x${op.toString(16)} dropped`);
      return;
    }
    if (size > c.request.length) {
      s.log.info(`att_server: drop ATT PDU 0x${op.toString(16)}, ${size} octets > request buffer ${c.request.length}`);
      return;
    }
    if (c.state !== 'IDLE') {
      // BTstack: a request before the previous response went out is skipped
      s.log.info(`att_server: skip ATT PDU 0x${op.toString(16)}, server not idle`);
      return;
    }
    c.request.set(pdu.subarray(0, size), 0);
    c.request_size = size;
    s.setState(c, 'REQUEST_RECEIVED_AND_VALIDATED', `opcode 0x${op.toString(16).padStart(2, '0')}`);
    this.run();
  }

  // ---- out

  #running = false;
  #again = false;

  /**
   * Serve what waits (responses first, then the app's can-send-now) while L2CAP can take it.
   * Not re-entered: the app may call att_server_request_can_send_now_event (which runs this) from
   * its read / write callback while a request is being answered; that call is served right after.
   */
  run(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      do {
        this.#again = false;
        this.runOnce();
      } while (this.#again);
    } finally {
      this.#running = false;
    }
  }

  /** Copy the connection list into `snapshot` (filled by index: no new array per pass); its length. */
  private takeSnapshot(): number {
    const list = this.s.connections;
    const snap = this.snapshot;
    for (let i = 0; i < list.length; i++) snap[i] = list[i]!; // entries past the length are pooled records: harmless
    return list.length;
  }

  private runOnce(): void {
    const s = this.s;
    const snap = this.snapshot;
    let n = this.takeSnapshot();
    for (let i = 0; i < n; i++) {
      const c = snap[i]!;
      if (c.state !== 'REQUEST_RECEIVED_AND_VALIDATED') continue;
      if (!s.l2cap.l2cap_can_send_fixed_channel_packet_now(c.con_handle, ATT)) {
        s.l2cap.l2cap_request_can_send_fix_channel_now_event(c.con_handle, ATT);
        continue;
      }
      this.respond(c);
    }
    n = this.takeSnapshot();
    for (let i = 0; i < n; i++) {
      const c = snap[i]!;
      if (!c.can_send_now_requested || c.state !== 'IDLE' || s.connectionFor(c.con_handle) !== c) continue;
      if (!s.l2cap.l2cap_can_send_fixed_channel_packet_now(c.con_handle, ATT)) {
        s.l2cap.l2cap_request_can_send_fix_channel_now_event(c.con_handle, ATT);
        continue;
      }
      c.can_send_now_requested = false;
      const ev = s.events.buffer();
      s.events.to_handler(s.handler, 0, ev, s.codes.att_event_can_send_now_build(ev, 0));
    }
  }

  private respond(c: AttServerConnection): void {
    const s = this.s;
    this.refreshSecurity(c);
    const n = s.requests!.handle_request(c, c.request, c.request_size, s.tx);
    s.setState(c, 'IDLE', n > 0 ? `response 0x${s.tx[0]!.toString(16).padStart(2, '0')}` : 'no response');
    if (n === 0) return;
    const status = s.l2cap.l2cap_send_connectionless(c.con_handle, ATT, s.tx, n);
    if (status !== 0)
      s.log.error(`att_server 0x${c.con_handle.toString(16)}: response not sent, status 0x${status.toString(16)}`);
    if (s.tx[0] === ATT_EXCHANGE_MTU_RESPONSE) {
      const ev = s.events.buffer();
      s.events.to_handler(s.handler, 0, ev, s.codes.att_event_mtu_exchange_complete_build(ev, 0, c.con_handle, c.mtu));
    }
  }

  /**
   * The link's security as att_db checks it, as BTstack's att_server takes it on every Encryption
   * Change: gap_encryption_key_size (the LTK / STK's size the SM reported, 0 unencrypted),
   * gap_authenticated, gap_secure_connection. Read before each request, so a link encrypted a
   * moment ago is served at once. Authorization stays off (no grant API yet).
   */
  private refreshSecurity(c: AttServerConnection): void {
    const gap = this.s.hci.gap;
    c.encryption_key_size = gap.gap_encryption_key_size(c.con_handle);
    c.authenticated = c.encryption_key_size > 0 && gap.gap_authenticated(c.con_handle);
    c.secure_connection = c.encryption_key_size > 0 && gap.gap_secure_connection(c.con_handle);
  }

  /** Handle Value Notification (3.4.7.1) / Indication (3.4.7.2): value cut to ATT_MTU - 3. */
  send_value(con_handle: number, opcode: number, attribute_handle: number, value: Uint8Array, value_len: number): number {
    const s = this.s;
    const c = s.connectionFor(con_handle);
    if (!c) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    if (opcode === ATT_HANDLE_VALUE_INDICATION && c.value_indication_handle !== 0) return ATT_HANDLE_VALUE_INDICATION_IN_PROGRESS;
    if (!s.l2cap.l2cap_can_send_fixed_channel_packet_now(con_handle, ATT)) return BTSTACK_ACL_BUFFERS_FULL;
    const n = Math.max(0, Math.min(value_len, value.length, c.mtu - 3));
    const tx = s.tx;
    tx[0] = opcode;
    little_endian_store_16(tx, 1, attribute_handle);
    this.values.copy(tx, 3, value, 0, n);
    const status = s.l2cap.l2cap_send_connectionless(con_handle, ATT, tx, 3 + n);
    if (status !== 0 || opcode !== ATT_HANDLE_VALUE_INDICATION) return status;
    c.value_indication_handle = attribute_handle;
    const t = c.indication_timer;
    t.context = c;
    s.run_loop.set_timer_handler(t, () => this.indicationTimeout(c));
    s.run_loop.set_timer(t, ATT_TRANSACTION_TIMEOUT_MS);
    s.run_loop.add_timer(t);
    return 0;
  }

  notify(con_handle: number, attribute_handle: number, value: Uint8Array, value_len: number): number {
    return this.send_value(con_handle, ATT_HANDLE_VALUE_NOTIFICATION, attribute_handle, value, value_len);
  }

  private indicationTimeout(c: AttServerConnection): void {
    if (this.s.connectionFor(c.con_handle) !== c || c.value_indication_handle === 0) return;
    // as BTstack: value_indication_handle stays set: no further indication on this bearer (3.3.3)
    c.indication_timed_out = true;
    this.emitIndicationComplete(ATT_HANDLE_VALUE_INDICATION_TIMEOUT, c.con_handle, c.value_indication_handle);
  }

  emitIndicationComplete(status: number, con_handle: number, attribute_handle: number): void {
    const s = this.s;
    const ev = s.events.buffer();
    const n = s.codes.att_event_handle_value_indication_complete_build(ev, 0, status, con_handle, attribute_handle);
    s.events.to_handler(s.handler, 0, ev, n);
  }
}
