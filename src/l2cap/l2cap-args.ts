/** Argument checks of the public L2CAP API: a wrong type is a programmer error (TypeError). */
export function checkHandler(fn: string, handler: unknown): void {
  if (typeof handler !== 'function') throw new TypeError(`${fn}: packet handler must be a function`);
}
export function checkInt(fn: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new TypeError(`${fn}: ${name} must be a non-negative integer`);
}
export function checkU16(fn: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff)
    throw new TypeError(`${fn}: ${name} must be an integer 0..65535`);
}
export function checkAddr(fn: string, a: unknown): void {
  if (!(a instanceof Uint8Array) || a.length !== 6) throw new TypeError(`${fn}: address must be a 6-byte BdAddr`);
}
export function checkData(fn: string, data: unknown, len: unknown): void {
  if (!(data instanceof Uint8Array)) throw new TypeError(`${fn}: data must be a Uint8Array`);
  if (typeof len !== 'number' || !Number.isInteger(len) || len < 0 || len > data.length)
    throw new TypeError(`${fn}: bad length ${String(len)}`);
}
