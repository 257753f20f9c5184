/**
 * SMP PDUs (Core spec Vol 3 Part H 3.3-3.6), sans-I/O: the command codes, their exact lengths,
 * and small builders writing the wire form (multi-octet values least significant octet first, as
 * on the air). The toolbox (crypto.ts) works MSB first; convert with `sm_read_le` / `sm_write_le`.
 *
 *   code (1) | parameters
 *   0x01 Pairing Request / 0x02 Pairing Response: IO capability, OOB flag, AuthReq, Maximum
 *        Encryption Key Size, Initiator Key Distribution, Responder Key Distribution (7 octets)
 *   0x03 Pairing Confirm, 0x04 Pairing Random: 16 octets (17)
 *   0x05 Pairing Failed: reason (2)
 *   0x06 Encryption Information: LTK (17); 0x07 Central Identification: EDIV (2), Rand (8) (11)
 *   0x08 Identity Information: IRK (17); 0x09 Identity Address Information: type, address (8)
 *   0x0A Signing Information: CSRK (17); 0x0B Security Request: AuthReq (2)
 *   0x0C Pairing Public Key: X (32), Y (32) (65); 0x0D Pairing DHKey Check: 16 octets (17)
 *   0x0E Pairing Keypress Notification: type (2)
 */
import { reverse_bd_addr, store_bd_addr, type BdAddr } from '../core/bytes.js';

export const SM_CODE_PAIRING_REQUEST = 0x01;
export const SM_CODE_PAIRING_RESPONSE = 0x02;
export const SM_CODE_PAIRING_CONFIRM = 0x03;
export const SM_CODE_PAIRING_RANDOM = 0x04;
export const SM_CODE_PAIRING_FAILED = 0x05;
export const SM_CODE_ENCRYPTION_INFORMATION = 0x06;
export const SM_CODE_CENTRAL_IDENTIFICATION = 0x07;
export const SM_CODE_IDENTITY_INFORMATION = 0x08;
export const SM_CODE_IDENTITY_ADDRESS_INFORMATION = 0x09;
export const SM_CODE_SIGNING_INFORMATION = 0x0a;
export const SM_CODE_SECURITY_REQUEST = 0x0b;
export const SM_CODE_PAIRING_PUBLIC_KEY = 0x0c;
export const SM_CODE_PAIRING_DHKEY_CHECK = 0x0d;
export const SM_CODE_PAIRING_KEYPRESS_NOTIFICATION = 0x0e;

/** Key distribution bits (3.6.1). */
export const SM_KEYDIST_ENC_KEY = 0x01;
export const SM_KEYDIST_ID_KEY = 0x02;
export const SM_KEYDIST_SIGN = 0x04;
export const SM_KEYDIST_LINK_KEY = 0x08;

/** Length of each PDU (code included), indexed by code; 0: reserved code. */
export const SM_PDU_LENGTH: readonly number[] = [0, 7, 7, 17, 17, 2, 17, 11, 17, 8, 17, 2, 65, 17, 2];

/** The PDU's exact length for its code, 0 for a reserved code. */
export function sm_pdu_length(code: number): number {
  return SM_PDU_LENGTH[code] ?? 0;
}

/** Pairing Request / Response parameters. */
export interface SmPairingParams {
  io_capability: number;
  oob_data_flag: number;
  auth_req: number;
  max_encryption_key_size: number;
  initiator_key_distribution: number;
  responder_key_distribution: number;
}

/** Pairing Request (0x01) or Response (0x02): 7 octets. */
export function sm_build_pairing(code: number, p: SmPairingParams): Uint8Array {
  return Uint8Array.of(
    code,
    p.io_capability,
    p.oob_data_flag,
    p.auth_req,
    p.max_encryption_key_size,
    p.initiator_key_distribution,
    p.responder_key_distribution,
  );
}

/** The parameters of a 7-octet Pairing Request / Response (no range checks). */
export function sm_parse_pairing(pdu: Uint8Array): SmPairingParams {
  return {
    io_capability: pdu[1]!,
    oob_data_flag: pdu[2]!,
    auth_req: pdu[3]!,
    max_encryption_key_size: pdu[4]!,
    initiator_key_distribution: pdu[5]!,
    responder_key_distribution: pdu[6]!,
  };
}

/** A code followed by a 16-octet value given MSB first (written least significant octet first). */
export function sm_build_value128(code: number, value_msb_first: Uint8Array): Uint8Array {
  const pdu = new Uint8Array(17);
  pdu[0] = code;
  for (let i = 0; i < 16; i++) pdu[1 + i] = value_msb_first[15 - i]!;
  return pdu;
}

/** The 16-octet value of a Confirm / Random / key / DHKey Check PDU, MSB first. */
export function sm_parse_value128(pdu: Uint8Array): Uint8Array {
  const v = new Uint8Array(16);
  for (let i = 0; i < 16; i++) v[i] = pdu[16 - i]!;
  return v;
}

/** Pairing Failed (0x05). */
export function sm_build_pairing_failed(reason: number): Uint8Array {
  return Uint8Array.of(SM_CODE_PAIRING_FAILED, reason);
}

/** Security Request (0x0B). */
export function sm_build_security_request(auth_req: number): Uint8Array {
  return Uint8Array.of(SM_CODE_SECURITY_REQUEST, auth_req);
}

/** Central Identification (0x07): EDIV, then Rand as on the wire (8 octets, least significant first). */
export function sm_build_central_identification(ediv: number, rand_wire: Uint8Array): Uint8Array {
  const pdu = new Uint8Array(11);
  pdu[0] = SM_CODE_CENTRAL_IDENTIFICATION;
  pdu[1] = ediv & 0xff;
  pdu[2] = (ediv >> 8) & 0xff;
  pdu.set(rand_wire.subarray(0, 8), 3);
  return pdu;
}

/** Identity Address Information (0x09): address type (0 public, 1 static random) and address. */
export function sm_build_identity_address(addr_type: number, addr: BdAddr): Uint8Array {
  const pdu = new Uint8Array(8);
  pdu[0] = SM_CODE_IDENTITY_ADDRESS_INFORMATION;
  pdu[1] = addr_type;
  store_bd_addr(pdu, 2, addr);
  return pdu;
}

/** The address of an Identity Address Information PDU (display order). */
export function sm_parse_identity_address(pdu: Uint8Array): { addr_type: number; addr: BdAddr } {
  return { addr_type: pdu[1]!, addr: reverse_bd_addr(pdu, 2) };
}

/** Pairing Public Key (0x0C): the 64-octet key as on the wire (X then Y, each LSB first). */
export function sm_build_public_key(public_key_wire: Uint8Array): Uint8Array {
  const pdu = new Uint8Array(65);
  pdu[0] = SM_CODE_PAIRING_PUBLIC_KEY;
  pdu.set(public_key_wire.subarray(0, 64), 1);
  return pdu;
}

/** Pairing Keypress Notification (0x0E). */
export function sm_build_keypress_notification(type: number): Uint8Array {
  return Uint8Array.of(SM_CODE_PAIRING_KEYPRESS_NOTIFICATION, type);
}

/** Name of an SMP code for log lines. */
export function sm_code_name(code: number): string {
  return (
    [
      'reserved',
      'Pairing Request',
      'Pairing Response',
      'Pairing Confirm',
      'Pairing Random',
      'Pairing Failed',
      'Encryption Information',
      'Central Identification',
      'Identity Information',
      'Identity Address Information',
      'Signing Information',
      'Security Request',
      'Pairing Public Key',
      'Pairing DHKey Check',
      'Pairing Keypress Notification',
    ][code] ?? `code 0x${code.toString(16).padStart(2, '0')}`
  );
}
