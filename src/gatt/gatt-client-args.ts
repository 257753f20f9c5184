/**
 * Argument checks of the GATT client facade: programmer errors (a wrong type, a number out of
 * range) throw a TypeError; everything else is a status code (docs/ARCHITECTURE.md, errors).
 */

export function checkHandler(cb: unknown): void {
  if (typeof cb !== 'function') throw new TypeError('callback: expected a packet handler function');
}

export function checkU16(v: unknown, what: string): void {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffff) throw new TypeError(`${what}: expected 0..0xFFFF`);
}

export function checkUuid128(v: unknown): void {
  if (!(v instanceof Uint8Array) || v.length < 16) throw new TypeError('uuid128: expected 16 octets');
}

/** A value and its length: a Uint8Array, 0 <= len <= value.length, len <= 0xFFFF. */
export function checkBytes(v: unknown, len: unknown): void {
  if (!(v instanceof Uint8Array)) throw new TypeError('value: expected a Uint8Array');
  if (!Number.isInteger(len) || (len as number) < 0 || (len as number) > v.length || (len as number) > 0xffff)
    throw new TypeError('value_length: expected 0..value.length');
}
