/**
 * LE link security as HCI reports it (BTstack keeps an sm_connection_t inside every
 * hci_connection_t; gap_security_level reads its encryption key size, authentication and Secure
 * Connections flags). The Security Manager (src/sm/) writes these fields when an LE link becomes
 * encrypted (after pairing or re-encryption with a stored LTK) and clears them when encryption
 * stops; HCI keeps `encryption_enabled` from Encryption Change itself.
 */
import { LEVEL_0, LEVEL_2, LEVEL_3, LEVEL_4 } from '../codes/v1.4.js';

/**
 * The Security Manager as HCI asks it for more security on an LE link (gap_request_security_level
 * on an LE handle; BTstack's hci.c calls sm_request_pairing for it). The SM registers itself at
 * sm_init (Gap.gap_le_set_security_provider) and reports the end of every pairing / encryption with
 * Gap.gap_le_security_procedure_complete; HCI then answers the pending requests with
 * GAP_EVENT_SECURITY_LEVEL.
 */
export interface HciLeSecurityProvider {
  /** Start pairing or encryption on the link (true), or say that none can run now (false). */
  le_request_security(con_handle: number): boolean;
}

/** The LE security the Security Manager reports for one connection. */
export class HciLeSecurity {
  /** Key size of the LTK / STK the link is encrypted with (7..16), 0 when not encrypted. */
  encryption_key_size = 0;
  /** The key came from an MITM-protected pairing (Passkey Entry, Numeric Comparison, OOB). */
  authenticated = false;
  /** The key came from LE Secure Connections pairing. */
  secure_connection = false;

  reset(): void {
    this.encryption_key_size = 0;
    this.authenticated = false;
    this.secure_connection = false;
  }
}

/**
 * gap_security_level for an LE link: 0 unless encrypted with a key of at least
 * `required_key_size` octets; 2 unauthenticated; 3 authenticated; 4 authenticated Secure
 * Connections with a 16-octet key (Core Vol 3 Part C 10.2.1, LE security mode 1 levels 2-4).
 */
export function gap_security_level_for_le_link(
  encryption_enabled: number,
  sec: HciLeSecurity,
  required_key_size: number,
): number {
  if (encryption_enabled === 0 || sec.encryption_key_size === 0) return LEVEL_0;
  if (sec.encryption_key_size < required_key_size) return LEVEL_0;
  if (!sec.authenticated) return LEVEL_2;
  return sec.secure_connection && sec.encryption_key_size === 16 ? LEVEL_4 : LEVEL_3;
}
