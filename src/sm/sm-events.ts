/**
 * SM_EVENT_* to the handlers added with sm_add_event_handler, as `(HCI_EVENT_PACKET, 0, event,
 * size)`, built with the stack's code profile: v1.4 layouts (JUST_WORKS_REQUEST H1B, PASSKEY_*
 * H1B4, PAIRING_COMPLETE H1B11) or v1.8's (a secure_connection octet, PAIRING_COMPLETE's
 * ctkd_active, SM_EVENT_SECURITY_REQUEST). Events go into the packet log as well.
 *
 * After PAIRING_COMPLETE and REENCRYPTION_COMPLETE, HCI hears of the end too
 * (gap_le_security_procedure_complete), so a gap_request_security_level on the link gets its
 * GAP_EVENT_SECURITY_LEVEL (the SM is HCI's LE security provider from sm_init).
 */
import type { HciLeSecurityProvider } from '../hci/hci-le-security.js';
import type { SmConnection, SmState } from './sm-state.js';

/** The Gap methods the SM uses to serve LE gap_request_security_level (optional: test fakes lack them). */
export interface SmGapHooks {
  gap_le_set_security_provider(provider: HciLeSecurityProvider | null): void;
  gap_le_security_procedure_complete(con_handle: number, status: number): void;
}

export class SmEvents {
  constructor(private readonly s: SmState) {}

  private emit(size: number): void {
    const s = this.s;
    s.events.to_list(s.handlers, 0, s.events.buffer(), size);
  }

  /** PAIRING_STARTED, REENCRYPTION_STARTED, PASSKEY_DISPLAY_CANCEL, ... (H1B). */
  base(code: 'started' | 'reencryption_started' | 'display_cancel', c: SmConnection): void {
    const k = this.s.codes;
    const b = this.s.events.buffer();
    const build =
      code === 'started'
        ? k.sm_event_pairing_started_build
        : code === 'reencryption_started'
          ? k.sm_event_reencryption_started_build
          : k.sm_event_passkey_display_cancel_build;
    this.emit(build(b, 0, c.con_handle, c.peer_addr_type, c.peer_addr));
  }

  just_works_request(c: SmConnection): void {
    const k = this.s.codes;
    const b = this.s.events.buffer();
    this.emit(
      k.PROFILE === 'v1.8'
        ? k.sm_event_just_works_request_build(b, 0, c.con_handle, c.peer_addr_type, c.peer_addr, c.sc ? 1 : 0)
        : k.sm_event_just_works_request_build(b, 0, c.con_handle, c.peer_addr_type, c.peer_addr),
    );
  }

  passkey_input(c: SmConnection): void {
    const k = this.s.codes;
    const b = this.s.events.buffer();
    this.emit(
      k.PROFILE === 'v1.8'
        ? k.sm_event_passkey_input_number_build(b, 0, c.con_handle, c.peer_addr_type, c.peer_addr, c.sc ? 1 : 0)
        : k.sm_event_passkey_input_number_build(b, 0, c.con_handle, c.peer_addr_type, c.peer_addr),
    );
  }

  /** PASSKEY_DISPLAY_NUMBER or NUMERIC_COMPARISON_REQUEST with the 6-digit value. */
  number(kind: 'display' | 'compare', c: SmConnection, value: number): void {
    const k = this.s.codes;
    const b = this.s.events.buffer();
    if (k.PROFILE === 'v1.8') {
      const f = kind === 'display' ? k.sm_event_passkey_display_number_build : k.sm_event_numeric_comparison_request_build;
      this.emit(f(b, 0, c.con_handle, c.peer_addr_type, c.peer_addr, c.sc ? 1 : 0, value));
    } else {
      const f = kind === 'display' ? k.sm_event_passkey_display_number_build : k.sm_event_numeric_comparison_request_build;
      this.emit(f(b, 0, c.con_handle, c.peer_addr_type, c.peer_addr, value));
    }
  }

  /** PAIRING_COMPLETE names the peer by the identity address it distributed, if any (as BTstack). */
  pairing_complete(c: SmConnection, status: number, reason: number): void {
    const k = this.s.codes;
    const b = this.s.events.buffer();
    const pk = c.peer_keys;
    const type = pk.identity_addr ? pk.identity_addr_type : c.peer_addr_type;
    const addr = pk.identity_addr ?? c.peer_addr;
    this.emit(
      k.PROFILE === 'v1.8'
        ? k.sm_event_pairing_complete_build(b, 0, c.con_handle, type, addr, status, reason, 0)
        : k.sm_event_pairing_complete_build(b, 0, c.con_handle, type, addr, status, reason),
    );
    this.procedure_complete(c, status);
  }

  /** Tell HCI a pairing / encryption ended (answers LE gap_request_security_level). */
  procedure_complete(c: SmConnection, status: number): void {
    if (c.classic) return; // BR/EDR security levels are HCI's own
    (this.s.hci.gap as Partial<SmGapHooks>).gap_le_security_procedure_complete?.(c.con_handle, status);
  }

  /** REENCRYPTION_STARTED / _COMPLETE name the peer by its bond's identity address (as BTstack). */
  private bond_address(c: SmConnection): [number, Uint8Array] {
    const info = c.db_index >= 0 ? this.s.db.le_device_db_info(c.db_index) : null;
    return info ? [info.addr_type, info.addr] : [c.peer_addr_type, c.peer_addr];
  }

  reencryption_started(c: SmConnection): void {
    const [type, addr] = this.bond_address(c);
    this.emit(this.s.codes.sm_event_reencryption_started_build(this.s.events.buffer(), 0, c.con_handle, type, addr));
  }

  reencryption_complete(c: SmConnection, status: number): void {
    const k = this.s.codes;
    const [type, addr] = this.bond_address(c);
    this.emit(k.sm_event_reencryption_complete_build(this.s.events.buffer(), 0, c.con_handle, type, addr, status));
    this.procedure_complete(c, status);
  }

  /** v1.8 only: a peripheral's Security Request reached us (central). */
  security_request(c: SmConnection, auth_req: number): void {
    const k = this.s.codes;
    if (k.PROFILE !== 'v1.8') return;
    this.emit(
      k.sm_event_security_request_build(this.s.events.buffer(), 0, c.con_handle, c.peer_addr_type, c.peer_addr, auth_req),
    );
  }

  /** SM_EVENT_KEYPRESS_NOTIFICATION (H1: handle, action), same layout in both profiles. */
  keypress(c: SmConnection, action: number): void {
    this.emit(this.s.codes.sm_event_keypress_notification_build(this.s.events.buffer(), 0, c.con_handle, action));
  }

  /** SM_EVENT_IDENTITY_RESOLVING_STARTED / _FAILED (H1B) and _SUCCEEDED (H1B1B2). */
  identity_resolving(
    what: 'started' | 'failed' | 'succeeded',
    handle: number,
    addr_type: number,
    addr: Uint8Array,
    identity_addr_type = 0,
    identity_addr: Uint8Array = addr,
    index = 0,
  ): void {
    const k = this.s.codes;
    const b = this.s.events.buffer();
    if (what === 'started') this.emit(k.sm_event_identity_resolving_started_build(b, 0, handle, addr_type, addr));
    else if (what === 'failed') this.emit(k.sm_event_identity_resolving_failed_build(b, 0, handle, addr_type, addr));
    else
      this.emit(
        k.sm_event_identity_resolving_succeeded_build(b, 0, handle, addr_type, addr, identity_addr_type, identity_addr, index),
      );
  }

  /** SM_EVENT_IDENTITY_CREATED after a bond was stored: the peer named by its identity address (as BTstack). */
  identity_created(c: SmConnection, identity_addr_type: number, identity_addr: Uint8Array, index: number): void {
    const k = this.s.codes;
    this.emit(
      k.sm_event_identity_created_build(
        this.s.events.buffer(),
        0,
        c.con_handle,
        identity_addr_type,
        identity_addr,
        identity_addr_type,
        identity_addr,
        index,
      ),
    );
  }
}
