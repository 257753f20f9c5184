/**
 * The security check of an incoming LE credit-based connection (CBM and ECBM), in BTstack's order
 * (l2cap.c, LE_CREDIT_BASED_CONNECTION_REQUEST): a service at LEVEL_3 or more needs an
 * authenticated key (else 0x0005 Insufficient Authentication); at LEVEL_2 or more an encrypted
 * link (else 0x0008 Insufficient Encryption) with a 16-octet key (else 0x0007 Encryption Key Size
 * Too Short). BTstack answers LEVEL_4 services with 0x0006 Insufficient Authorization until the
 * application grants authorization; bthost has no authorization grant yet, so a LEVEL_4 service
 * asks for the level itself (Secure Connections, 16-octet key), else 0x0005.
 */
import { LEVEL_2, LEVEL_3, LEVEL_4 } from '../codes/v1.4.js';
import {
  L2CAP_CBM_CONNECTION_RESULT_ENCYRPTION_KEY_SIZE_TOO_SHORT,
  L2CAP_CBM_CONNECTION_RESULT_INSUFFICIENT_AUTHENTICATION,
  L2CAP_CBM_CONNECTION_RESULT_INSUFFICIENT_ENCRYPTION,
} from '../codes/v1.8.js';

/** The GAP calls the check uses (gap.h names); a GAP without the LE ones is judged by its level. */
export interface L2capLeSecurityGap {
  gap_security_level(con_handle: number): number;
  gap_encryption_key_size?(con_handle: number): number;
  gap_authenticated?(con_handle: number): boolean;
}

/** 0, or the connection result (the same values for CBM and ECBM: 0x05, 0x07, 0x08). */
export function l2cap_le_security_result(gap: L2capLeSecurityGap, con_handle: number, required_level: number): number {
  if (required_level < LEVEL_2) return 0;
  const level = gap.gap_security_level(con_handle);
  const key_size = gap.gap_encryption_key_size ? gap.gap_encryption_key_size(con_handle) : level >= LEVEL_2 ? 16 : 0;
  const authenticated = gap.gap_authenticated ? gap.gap_authenticated(con_handle) : level >= LEVEL_3;
  if (required_level >= LEVEL_4 && level < LEVEL_4) return L2CAP_CBM_CONNECTION_RESULT_INSUFFICIENT_AUTHENTICATION;
  if (required_level >= LEVEL_3 && !authenticated) return L2CAP_CBM_CONNECTION_RESULT_INSUFFICIENT_AUTHENTICATION;
  if (key_size === 0) return L2CAP_CBM_CONNECTION_RESULT_INSUFFICIENT_ENCRYPTION;
  if (key_size < 16) return L2CAP_CBM_CONNECTION_RESULT_ENCYRPTION_KEY_SIZE_TOO_SHORT;
  return 0;
}
