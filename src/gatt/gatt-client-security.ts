/**
 * The GATT client's link security (component of gatt-client.ts), as BTstack's gatt_client.c:
 *
 * - gatt_client_set_required_security_level(level): before a query's first PDU on an LE link below
 *   that level the client asks the Security Manager to pair (sm_request_pairing: central pairs or
 *   re-encrypts with a bond) and holds every PDU of that link, the MTU exchange included, until
 *   SM_EVENT_PAIRING_COMPLETE / SM_EVENT_REENCRYPTION_COMPLETE. Success: the query goes on; pairing
 *   failed: GATT_EVENT_QUERY_COMPLETE with ATT_ERROR_INSUFFICIENT_AUTHENTICATION (level 3 / 4
 *   asked) or ATT_ERROR_INSUFFICIENT_ENCRYPTION (level 1 / 2); re-encryption failed (v1.8):
 *   ATT_ERROR_BONDING_INFORMATION_MISSING (0x70). The link's level is BTstack's
 *   gatt_client_le_security_level_for_connection: 0 unencrypted, 2 unauthenticated, then 4 with a
 *   16-octet key, else 3.
 * - Pairing on an Error Response (BTstack's ENABLE_GATT_CLIENT_PAIRING, a compile-time option there,
 *   gatt_client_set_pairing_on_security_error(true) here, off by default): Insufficient
 *   Authentication / Encryption / Encryption Key Size to a read, write, prepare / execute write,
 *   CCC or descriptor request: once per connection the client asks the SM to pair and sends the
 *   same request again when it completes; a second such error, a failed pairing, or a procedure that
 *   cannot be retried (discovery) ends the query with the error code. Insufficient Authorization is
 *   never retried.
 *
 * The SM is the Stack's (created on first need); without one the query ends with the error at once.
 */
import {
  ATT_ERROR_INSUFFICIENT_AUTHENTICATION,
  ATT_ERROR_INSUFFICIENT_ENCRYPTION,
  ATT_ERROR_INSUFFICIENT_ENCRYPTION_KEY_SIZE,
  HCI_EVENT_PACKET,
  LEVEL_0,
  LEVEL_2,
  LEVEL_3,
  LEVEL_4,
  SM_EVENT_PAIRING_COMPLETE,
  SM_EVENT_REENCRYPTION_COMPLETE,
  SM_EVENT_REENCRYPTION_STARTED,
} from '../codes/v1.4.js';
import type { BtstackPacketCallbackRegistration } from '../hci/hci-service.js';
import type { GattClientQuery } from './gatt-client-query.js';
import type { GattClientConnection, GattClientQueryState, GattClientState } from './gatt-client-state.js';

/** The Security Manager calls the GATT client makes (sm.h names; the Stack's `sm` has them). */
export interface GattClientSm {
  sm_request_pairing(con_handle: number): void;
  sm_add_event_handler(registration: BtstackPacketCallbackRegistration): void;
}

/** The link security GAP reports (gap.h names; the Stack's Gap has them). */
export interface GattClientGapSecurity {
  gap_encryption_key_size(con_handle: number): number;
  gap_authenticated(con_handle: number): boolean;
}

/** Requests sent again after pairing: BTstack's table, W4 state -> the W2 state that sends it. */
const RETRY: Partial<Record<GattClientQueryState, GattClientQueryState>> = {
  P_W4_READ_CHARACTERISTIC_VALUE_RESULT: 'P_W2_SEND_READ_CHARACTERISTIC_VALUE_QUERY',
  P_W4_READ_BLOB_RESULT: 'P_W2_SEND_READ_BLOB_QUERY',
  P_W4_READ_BY_TYPE_RESPONSE: 'P_W2_SEND_READ_BY_TYPE_REQUEST',
  P_W4_READ_MULTIPLE_RESPONSE: 'P_W2_SEND_READ_MULTIPLE_REQUEST',
  P_W4_WRITE_CHARACTERISTIC_VALUE_RESULT: 'P_W2_SEND_WRITE_CHARACTERISTIC_VALUE',
  P_W4_PREPARE_WRITE_RESULT: 'P_W2_PREPARE_WRITE',
  P_W4_PREPARE_RELIABLE_WRITE_RESULT: 'P_W2_PREPARE_RELIABLE_WRITE',
  P_W4_EXECUTE_PREPARED_WRITE_RESULT: 'P_W2_EXECUTE_PREPARED_WRITE',
  P_W4_CANCEL_PREPARED_WRITE_RESULT: 'P_W2_CANCEL_PREPARED_WRITE',
  P_W4_CANCEL_PREPARED_WRITE_DATA_MISMATCH_RESULT: 'P_W2_CANCEL_PREPARED_WRITE_DATA_MISMATCH',
  P_W4_READ_CHARACTERISTIC_DESCRIPTOR_RESULT: 'P_W2_SEND_READ_CHARACTERISTIC_DESCRIPTOR_QUERY',
  P_W4_READ_BLOB_CHARACTERISTIC_DESCRIPTOR_RESULT: 'P_W2_SEND_READ_BLOB_CHARACTERISTIC_DESCRIPTOR_QUERY',
  P_W4_WRITE_CHARACTERISTIC_DESCRIPTOR_RESULT: 'P_W2_SEND_WRITE_CHARACTERISTIC_DESCRIPTOR',
  P_W4_CLIENT_CHARACTERISTIC_CONFIGURATION_RESULT: 'P_W2_WRITE_CLIENT_CHARACTERISTIC_CONFIGURATION',
  P_W4_PREPARE_WRITE_CHARACTERISTIC_DESCRIPTOR_RESULT: 'P_W2_PREPARE_WRITE_CHARACTERISTIC_DESCRIPTOR',
  P_W4_EXECUTE_PREPARED_WRITE_CHARACTERISTIC_DESCRIPTOR_RESULT: 'P_W2_EXECUTE_PREPARED_WRITE_CHARACTERISTIC_DESCRIPTOR',
};

/** What the gate tells the send side: hold the link, a PDU went out (the SM's), or go on. */
export type GattClientSecurityGate = 'WAIT' | 'SENT' | 'GO';

export class GattClientSecurity {
  /** gatt_client_set_required_security_level (default LEVEL_0). */
  required_level = LEVEL_0;
  /** BTstack's ENABLE_GATT_CLIENT_PAIRING. */
  pairing_on_error = false;
  private registered = false;
  private readonly registration = { callback: this.onSmEvent.bind(this) };

  constructor(
    private readonly s: GattClientState,
    private readonly q: GattClientQuery,
    private readonly sm: () => GattClientSm | null,
    private readonly gap: GattClientGapSecurity | null,
  ) {}

  /** BTstack's gatt_client_le_security_level_for_connection. */
  level(con_handle: number): number {
    const size = this.gap?.gap_encryption_key_size(con_handle) ?? 0;
    if (size === 0) return LEVEL_0;
    if (!this.gap!.gap_authenticated(con_handle)) return LEVEL_2;
    return size === 16 ? LEVEL_4 : LEVEL_3;
  }

  /** Listen to the SM's events from now on (when security is configured or first needed). */
  register(): GattClientSm | null {
    const sm = this.sm();
    if (sm && !this.registered) {
      this.registered = true;
      sm.sm_add_event_handler(this.registration);
    }
    return sm;
  }

  /** The start of gatt_client_run_for_gatt_client: wait for the SM, or start pairing for the required level. */
  gate(c: GattClientConnection): GattClientSecurityGate {
    if (c.reencryption_active || c.wait_for_authentication_complete) return 'WAIT';
    if (c.state === 'P_READY' || this.required_level <= this.level(c.con_handle)) return 'GO';
    this.s.log.info(
      `gatt client 0x${hex4(c.con_handle)}: pairing for level ${this.required_level} (now ${this.level(c.con_handle)})`,
    );
    c.pending_error_code =
      this.required_level >= LEVEL_3 ? ATT_ERROR_INSUFFICIENT_AUTHENTICATION : ATT_ERROR_INSUFFICIENT_ENCRYPTION;
    return this.pair(c) ? 'SENT' : 'WAIT';
  }

  /** An Error Response: true when pairing started and the request will be sent again. */
  onError(c: GattClientConnection, code: number): boolean {
    if (!this.pairing_on_error) return false;
    if (
      code !== ATT_ERROR_INSUFFICIENT_AUTHENTICATION &&
      code !== ATT_ERROR_INSUFFICIENT_ENCRYPTION &&
      code !== ATT_ERROR_INSUFFICIENT_ENCRYPTION_KEY_SIZE
    )
      return false;
    if (c.security_counter > 0) return false;
    c.security_counter++;
    const again = RETRY[c.state];
    if (!again) {
      this.s.log.info(`gatt client 0x${hex4(c.con_handle)}: no retry after a security error in ${c.state}`);
      return false;
    }
    this.q.setState(c, again, `Error Response 0x${code.toString(16).padStart(2, '0')}: pair, then again`);
    c.pending_error_code = code;
    this.pair(c);
    return true;
  }

  /** sm_request_pairing and wait for its end; false (query ended) without an SM. */
  private pair(c: GattClientConnection): boolean {
    const sm = this.register();
    if (!sm) {
      this.q.reportErrorIfPending(c, c.pending_error_code, 'no Security Manager');
      return false;
    }
    c.wait_for_authentication_complete = true;
    sm.sm_request_pairing(c.con_handle);
    return true;
  }

  private onSmEvent(packet_type: number, _channel: number, packet: Uint8Array, size: number): void {
    if (packet_type !== HCI_EVENT_PACKET || size < 4) return;
    const code = packet[0];
    if (code !== SM_EVENT_PAIRING_COMPLETE && code !== SM_EVENT_REENCRYPTION_STARTED && code !== SM_EVENT_REENCRYPTION_COMPLETE)
      return;
    const c = this.s.connectionFor(packet[2]! | (packet[3]! << 8));
    if (!c) return;
    // H1B then status: the status octet follows handle (2), address type (1), address (6)
    const status = size > 11 ? packet[11]! : 0;
    if (code === SM_EVENT_REENCRYPTION_STARTED) {
      c.reencryption_active = true;
      return;
    }
    if (code === SM_EVENT_REENCRYPTION_COMPLETE) c.reencryption_active = false;
    if (c.wait_for_authentication_complete) {
      c.wait_for_authentication_complete = false;
      if (status !== 0) {
        const missing = (this.s.codes as { ATT_ERROR_BONDING_INFORMATION_MISSING?: number })
          .ATT_ERROR_BONDING_INFORMATION_MISSING;
        const error = code === SM_EVENT_REENCRYPTION_COMPLETE && missing !== undefined ? missing : c.pending_error_code;
        this.q.reportErrorIfPending(c, error, `${code === SM_EVENT_PAIRING_COMPLETE ? 'pairing' : 're-encryption'} failed`);
      } else {
        this.s.log.info(`gatt client 0x${hex4(c.con_handle)}: link secured (level ${this.level(c.con_handle)}), query goes on`);
      }
    }
    this.q.run();
  }
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
