/**
 * Little-endian readers and writers and bd_addr helpers, as BTstack's btstack_util.h.
 * Readers never read past the end of the array: out-of-range bytes read as 0.
 */

export type BdAddr = Uint8Array; // 6 bytes, most significant byte first (as printed), like BTstack's bd_addr_t

export function little_endian_read_16(buf: Uint8Array, pos: number): number {
  return (buf[pos] ?? 0) | ((buf[pos + 1] ?? 0) << 8);
}
export function little_endian_read_24(buf: Uint8Array, pos: number): number {
  return (buf[pos] ?? 0) | ((buf[pos + 1] ?? 0) << 8) | ((buf[pos + 2] ?? 0) << 16);
}
export function little_endian_read_32(buf: Uint8Array, pos: number): number {
  return ((buf[pos] ?? 0) | ((buf[pos + 1] ?? 0) << 8) | ((buf[pos + 2] ?? 0) << 16)) + (buf[pos + 3] ?? 0) * 0x1000000;
}
export function big_endian_read_16(buf: Uint8Array, pos: number): number {
  return ((buf[pos] ?? 0) << 8) | (buf[pos + 1] ?? 0);
}
export function big_endian_read_32(buf: Uint8Array, pos: number): number {
  return (buf[pos] ?? 0) * 0x1000000 + (((buf[pos + 1] ?? 0) << 16) | ((buf[pos + 2] ?? 0) << 8) | (buf[pos + 3] ?? 0));
}
export function little_endian_store_16(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value & 0xff;
  buf[pos + 1] = (value >>> 8) & 0xff;
}
export function little_endian_store_24(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value & 0xff;
  buf[pos + 1] = (value >>> 8) & 0xff;
  buf[pos + 2] = (value >>> 16) & 0xff;
}
export function little_endian_store_32(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value & 0xff;
  buf[pos + 1] = (value >>> 8) & 0xff;
  buf[pos + 2] = (value >>> 16) & 0xff;
  buf[pos + 3] = (value >>> 24) & 0xff;
}
export function big_endian_store_16(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = (value >>> 8) & 0xff;
  buf[pos + 1] = value & 0xff;
}
export function big_endian_store_32(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = (value >>> 24) & 0xff;
  buf[pos + 1] = (value >>> 16) & 0xff;
  buf[pos + 2] = (value >>> 8) & 0xff;
  buf[pos + 3] = value & 0xff;
}

/** Copy `len` bytes reversed: dst[dpos + i] = src[spos + len - 1 - i] (BTstack's reverse_bytes). */
export function reverse_bytes(src: Uint8Array, spos: number, dst: Uint8Array, dpos: number, len: number): void {
  for (let i = 0; i < len; i++) dst[dpos + i] = src[spos + len - 1 - i] ?? 0;
}

/** Read a bd_addr stored little endian on the wire (as in HCI) into a new 6-byte BdAddr. */
export function reverse_bd_addr(src: Uint8Array, pos: number, dst: BdAddr = new Uint8Array(6)): BdAddr {
  reverse_bytes(src, pos, dst, 0, 6);
  return dst;
}

/** Store a BdAddr little endian (wire order) at buf[pos]. */
export function store_bd_addr(buf: Uint8Array, pos: number, addr: BdAddr): void {
  reverse_bytes(addr, 0, buf, pos, 6);
}

/** "AA:BB:CC:DD:EE:FF" as BTstack's bd_addr_to_str. */
export function bd_addr_to_str(addr: BdAddr): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    if (i) s += ':';
    s += (addr[i] ?? 0).toString(16).toUpperCase().padStart(2, '0');
  }
  return s;
}

/** Parse "AA:BB:CC:DD:EE:FF" (also '-' or no separators); null when malformed. */
export function sscanf_bd_addr(str: string): BdAddr | null {
  const hex = str.trim().replace(/[:\-\s]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bd_addr_cmp(a: BdAddr, b: BdAddr): number {
  for (let i = 0; i < 6; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

export function bd_addr_copy(dst: BdAddr, src: BdAddr): void {
  for (let i = 0; i < 6; i++) dst[i] = src[i] ?? 0;
}

export function hex(buf: Uint8Array, len = buf.length): string {
  let s = '';
  for (let i = 0; i < len; i++) s += (i ? ' ' : '') + (buf[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}

export function fromHex(str: string): Uint8Array {
  const h = str.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(h.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}
