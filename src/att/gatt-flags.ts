/**
 * The property / permission names a .gatt file may use in a flags field ("READ | WRITE | DYNAMIC"),
 * with the values BTstack's compile_gatt.py gives them, and how they become the 16-bit flags of
 * an att_db entry. Bits >= 0x10000 exist only inside the compiler.
 */
import {
  ATT_PROPERTY_ENCRYPTION_KEY_SIZE_MASK,
  ATT_PROPERTY_READ_PERMISSION_BIT_0,
  ATT_PROPERTY_READ_PERMISSION_BIT_1,
  ATT_PROPERTY_READ_PERMISSION_SC,
  ATT_PROPERTY_WRITE_PERMISSION_BIT_0,
  ATT_PROPERTY_WRITE_PERMISSION_BIT_1,
  ATT_PROPERTY_WRITE_PERMISSION_SC,
} from './att-db.js';

// Compiler-only bits (above the 16 stored ones).
export const GATT_FLAG_RELIABLE_WRITE = 0x00010000;
export const GATT_FLAG_AUTHENTICATION_REQUIRED = 0x00020000;
export const GATT_FLAG_AUTHORIZATION_REQUIRED = 0x00040000;
export const GATT_FLAG_READ_ANYBODY = 0x00080000;
export const GATT_FLAG_READ_ENCRYPTED = 0x00100000;
export const GATT_FLAG_READ_AUTHENTICATED = 0x00200000;
export const GATT_FLAG_READ_AUTHENTICATED_SC = 0x00400000;
export const GATT_FLAG_READ_AUTHORIZED = 0x00800000;
export const GATT_FLAG_WRITE_ANYBODY = 0x01000000;
export const GATT_FLAG_WRITE_ENCRYPTED = 0x02000000;
export const GATT_FLAG_WRITE_AUTHENTICATED = 0x04000000;
export const GATT_FLAG_WRITE_AUTHENTICATED_SC = 0x08000000;
export const GATT_FLAG_WRITE_AUTHORIZED = 0x10000000;

/** Every flag name of the .gatt syntax and its value. */
export const GATT_PROPERTY_FLAGS: Readonly<Record<string, number>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, number>, {
    BROADCAST: 0x01,
    READ: 0x02,
    WRITE_WITHOUT_RESPONSE: 0x04,
    WRITE: 0x08,
    NOTIFY: 0x10,
    INDICATE: 0x20,
    AUTHENTICATED_SIGNED_WRITE: 0x40,
    EXTENDED_PROPERTIES: 0x80,
    DYNAMIC: 0x100,
    LONG_UUID: 0x200,
    READ_PERMISSION_BIT_0: 0x400,
    READ_PERMISSION_BIT_1: 0x800,
    ENCRYPTION_KEY_SIZE_7: 0x6000,
    ENCRYPTION_KEY_SIZE_8: 0x7000,
    ENCRYPTION_KEY_SIZE_9: 0x8000,
    ENCRYPTION_KEY_SIZE_10: 0x9000,
    ENCRYPTION_KEY_SIZE_11: 0xa000,
    ENCRYPTION_KEY_SIZE_12: 0xb000,
    ENCRYPTION_KEY_SIZE_13: 0xc000,
    ENCRYPTION_KEY_SIZE_14: 0xd000,
    ENCRYPTION_KEY_SIZE_15: 0xe000,
    ENCRYPTION_KEY_SIZE_16: 0xf000,
    ENCRYPTION_KEY_SIZE_MASK: 0xf000,
    RELIABLE_WRITE: GATT_FLAG_RELIABLE_WRITE,
    AUTHENTICATION_REQUIRED: GATT_FLAG_AUTHENTICATION_REQUIRED,
    AUTHORIZATION_REQUIRED: GATT_FLAG_AUTHORIZATION_REQUIRED,
    READ_ANYBODY: GATT_FLAG_READ_ANYBODY,
    READ_ENCRYPTED: GATT_FLAG_READ_ENCRYPTED,
    READ_AUTHENTICATED: GATT_FLAG_READ_AUTHENTICATED,
    READ_AUTHENTICATED_SC: GATT_FLAG_READ_AUTHENTICATED_SC,
    READ_AUTHORIZED: GATT_FLAG_READ_AUTHORIZED,
    WRITE_ANYBODY: GATT_FLAG_WRITE_ANYBODY,
    WRITE_ENCRYPTED: GATT_FLAG_WRITE_ENCRYPTED,
    WRITE_AUTHENTICATED: GATT_FLAG_WRITE_AUTHENTICATED,
    WRITE_AUTHENTICATED_SC: GATT_FLAG_WRITE_AUTHENTICATED_SC,
    WRITE_AUTHORIZED: GATT_FLAG_WRITE_AUTHORIZED,
    WRITE_PERMISSION_BIT_0: 0x01,
    WRITE_PERMISSION_BIT_1: 0x10,
    READ_PERMISSION_SC: 0x20,
    WRITE_PERMISSION_SC: 0x80,
  }),
);

/** "READ | WRITE" -> value, or the first unknown name. */
export function gatt_parse_flags(text: string, strip: (s: string) => string): { value: number; bad: string | null } {
  let value = 0;
  for (const raw of text.split('|')) {
    const name = strip(raw);
    const v = GATT_PROPERTY_FLAGS[name];
    if (v === undefined) return { value, bad: name };
    value |= v;
  }
  return { value, bad: null };
}

const DISTINCT =
  GATT_FLAG_READ_AUTHORIZED |
  GATT_FLAG_READ_AUTHENTICATED_SC |
  GATT_FLAG_READ_AUTHENTICATED |
  GATT_FLAG_READ_ENCRYPTED |
  GATT_FLAG_READ_ANYBODY |
  GATT_FLAG_WRITE_AUTHORIZED |
  GATT_FLAG_WRITE_AUTHENTICATED |
  GATT_FLAG_WRITE_AUTHENTICATED_SC |
  GATT_FLAG_WRITE_ENCRYPTED |
  GATT_FLAG_WRITE_ANYBODY;

/**
 * The att_db flags of a characteristic value from its .gatt properties (compiler bits kept; the
 * caller stores the low 16). Broadcast / notify / indicate / extended properties say nothing about
 * the value and are dropped; those bit positions then carry the write permission and the SC bits.
 * Without any READ_x / WRITE_x name, ENCRYPTION_KEY_SIZE_n implies encrypted read and write,
 * AUTHENTICATION_REQUIRED authenticated, AUTHORIZATION_REQUIRED authorized. Per direction the
 * strongest wins: authorized (3) > authenticated (2) > authenticated SC (2 + SC) > encrypted (1).
 */
export function gatt_value_flags(properties: number): number {
  let p = properties & ~(0x01 | 0x10 | 0x20 | 0x80);
  const distinct = (p & DISTINCT) !== 0;
  if (!distinct) {
    if (p & ATT_PROPERTY_ENCRYPTION_KEY_SIZE_MASK) p |= GATT_FLAG_READ_ENCRYPTED | GATT_FLAG_WRITE_ENCRYPTED;
    if (p & GATT_FLAG_AUTHENTICATION_REQUIRED) p |= GATT_FLAG_READ_AUTHENTICATED | GATT_FLAG_WRITE_AUTHENTICATED;
    if (p & GATT_FLAG_AUTHORIZATION_REQUIRED) p |= GATT_FLAG_READ_AUTHORIZED | GATT_FLAG_WRITE_AUTHORIZED;
  }
  const level = (authz: number, auth: number, auth_sc: number, enc: number): [number, boolean] => {
    if (p & authz) return [3, false];
    if (p & auth) return [2, false];
    if (p & auth_sc) return [2, true];
    if (p & enc) return [1, false];
    return [0, false];
  };
  const [r, r_sc] = level(
    GATT_FLAG_READ_AUTHORIZED,
    GATT_FLAG_READ_AUTHENTICATED,
    GATT_FLAG_READ_AUTHENTICATED_SC,
    GATT_FLAG_READ_ENCRYPTED,
  );
  const [w, w_sc] = level(
    GATT_FLAG_WRITE_AUTHORIZED,
    GATT_FLAG_WRITE_AUTHENTICATED,
    GATT_FLAG_WRITE_AUTHENTICATED_SC,
    GATT_FLAG_WRITE_ENCRYPTED,
  );
  if (r & 2) p |= ATT_PROPERTY_READ_PERMISSION_BIT_1;
  if (r & 1) p |= ATT_PROPERTY_READ_PERMISSION_BIT_0;
  if (r_sc) p |= ATT_PROPERTY_READ_PERMISSION_SC;
  if (w & 2) p |= ATT_PROPERTY_WRITE_PERMISSION_BIT_1;
  if (w & 1) p |= ATT_PROPERTY_WRITE_PERMISSION_BIT_0;
  if (w_sc) p |= ATT_PROPERTY_WRITE_PERMISSION_SC;
  return p;
}

/** The write permission + key size part of the value flags: what descriptors a client writes
 *  (CCC, SCC, user description) inherit from their characteristic's flags field. */
export function gatt_write_permission_flags(properties: number): number {
  return (
    gatt_value_flags(properties) &
    (ATT_PROPERTY_ENCRYPTION_KEY_SIZE_MASK | ATT_PROPERTY_WRITE_PERMISSION_BIT_0 | ATT_PROPERTY_WRITE_PERMISSION_BIT_1)
  );
}
