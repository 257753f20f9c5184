/**
 * The LE device db on a tag-value store (BTstack's ble/le_device_db_tlv.c behaviour, our own code
 * and byte layout): the bonds the Security Manager makes, kept in the same store as the BR/EDR link
 * keys (src/hci/link-key-db-tlv.ts, tags 'BTL' i) so that one crash-safe file
 * (ports/posix/tlv-file.ts) holds every bond of a controller. Entry i lives under tag
 * 'B' 'T' 'D' i (le_device_db_tlv_tag(i), src/core/tlv.ts), i = 0 .. NVM_NUM_DEVICE_DB_ENTRIES - 1.
 *
 * Value of an entry, LE_DEVICE_DB_TLV_ENTRY_LEN = 124 bytes (integers little endian):
 *
 *   offset   0  seq_nr          u32: 1 + the highest seq_nr in the db when the entry was added
 *   offset   4  addr_type       u8: 0 public, 1 random (identity address type)
 *   offset   5  addr            6 bytes, BdAddr order (most significant first, as printed)
 *   offset  11  irk             16 bytes, MSB first (all zero: the peer sent none)
 *   offset  27  remote enc      28 bytes, the LTK the peer distributed (SC: the LTK of the pairing),
 *                               the one a central encrypts with; layout below
 *   offset  55  local enc       28 bytes, the legacy LTK / EDIV / Rand we distributed (a peripheral
 *                               answers LTK Requests with it; not in BTstack, which derives it)
 *   offset  83  csrk flags      u8: bit 0 remote CSRK present, bit 1 local CSRK present
 *   offset  84  remote_csrk     16 bytes, MSB first
 *   offset 100  remote_counter  u32: last sign counter seen from the peer
 *   offset 104  local_csrk      16 bytes, MSB first
 *   offset 120  local_counter   u32: our next sign counter
 *
 *   enc block (28 bytes):
 *   +0  flags     u8: bit 0 present, bit 1 authenticated, bit 2 authorized, bit 3 secure connection
 *   +1  key_size  u8: 7..16 when present, 0 when not
 *   +2  ediv      u16
 *   +4  rand      8 bytes, as on the wire (Central Identification)
 *   +12 ltk       16 bytes, MSB first
 *
 * A value that is not exactly 124 bytes or breaks the rules above (address type > 1, reserved
 * flag bits set, an absent block or CSRK that is not all zero, a key size outside 7..16) is corrupt:
 * logged once per tag and treated as an empty slot (the next bond may overwrite it); nothing read
 * from the store throws.
 *
 * Replacement and limits as BTstack's le_device_db_tlv: le_device_db_add for an address already in
 * the db reuses its slot and starts the entry afresh (keys cleared, new seq_nr: re-pairing replaces
 * the bond); else the first empty slot; else the slot with the lowest seq_nr (the least recently
 * *added* bond; reading or setting keys does not refresh it). le_device_db_remove deletes the tag.
 * Every call reads the store (no cache), so several instances on one store see the same bonds.
 */
import {
  bd_addr_cmp,
  bd_addr_to_str,
  little_endian_read_16,
  little_endian_read_32,
  little_endian_store_16,
  little_endian_store_32,
  type BdAddr,
} from '../core/bytes.js';
import type { Logger } from '../core/log.js';
import { btstack_tag32_to_str, le_device_db_tlv_tag, type BtstackTlv } from '../core/tlv.js';
import type { LeDeviceDb, LeDeviceDbEncryption, LeDeviceDbInfo } from './le-device-db.js';

/** Bytes in one stored entry. */
export const LE_DEVICE_DB_TLV_ENTRY_LEN = 124;
/** BTstack's NVM_NUM_DEVICE_DB_ENTRIES default here. */
export const NVM_NUM_DEVICE_DB_ENTRIES_DEFAULT = 16;

const ENC_LEN = 28;
const OFF_REMOTE_ENC = 27;
const OFF_LOCAL_ENC = 55;
const OFF_CSRK_FLAGS = 83;
const OFF_REMOTE_CSRK = 84;
const OFF_REMOTE_COUNTER = 100;
const OFF_LOCAL_CSRK = 104;
const OFF_LOCAL_COUNTER = 120;

const ENC_PRESENT = 0x01;
const ENC_AUTHENTICATED = 0x02;
const ENC_AUTHORIZED = 0x04;
const ENC_SECURE_CONNECTION = 0x08;
const CSRK_REMOTE = 0x01;
const CSRK_LOCAL = 0x02;

/** One decoded entry. */
export interface LeDeviceDbTlvEntry {
  seq_nr: number;
  addr_type: number;
  addr: BdAddr;
  irk: Uint8Array;
  enc: LeDeviceDbEncryption | null;
  local_enc: LeDeviceDbEncryption | null;
  remote_csrk: Uint8Array | null;
  remote_counter: number;
  local_csrk: Uint8Array | null;
  local_counter: number;
}

function all_zero(v: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (v[i] !== 0) return false;
  return true;
}

/** The enc block at pos, null when absent, or why it is corrupt. */
function decode_enc(v: Uint8Array, pos: number): LeDeviceDbEncryption | null | string {
  const flags = v[pos]!;
  if (flags & 0xf0) return `reserved enc flags 0x${flags.toString(16)}`;
  if (!(flags & ENC_PRESENT)) return all_zero(v, pos, pos + ENC_LEN) ? null : 'absent enc block not zero';
  const key_size = v[pos + 1]!;
  if (key_size < 7 || key_size > 16) return `key size ${key_size}`;
  return {
    key_size,
    authenticated: (flags & ENC_AUTHENTICATED) !== 0,
    authorized: (flags & ENC_AUTHORIZED) !== 0,
    secure_connection: (flags & ENC_SECURE_CONNECTION) !== 0,
    ediv: little_endian_read_16(v, pos + 2),
    rand: v.slice(pos + 4, pos + 12),
    ltk: v.slice(pos + 12, pos + 28),
  };
}

function encode_enc(out: Uint8Array, pos: number, e: LeDeviceDbEncryption | null): void {
  out.fill(0, pos, pos + ENC_LEN);
  if (!e) return;
  out[pos] =
    ENC_PRESENT |
    (e.authenticated ? ENC_AUTHENTICATED : 0) |
    (e.authorized ? ENC_AUTHORIZED : 0) |
    (e.secure_connection ? ENC_SECURE_CONNECTION : 0);
  out[pos + 1] = e.key_size;
  little_endian_store_16(out, pos + 2, e.ediv & 0xffff);
  out.set(e.rand.subarray(0, 8), pos + 4);
  out.set(e.ltk.subarray(0, 16), pos + 12);
}

/** Decode a stored value: the entry, or a string saying why it is corrupt. Never throws. */
export function le_device_db_tlv_decode(v: Uint8Array): LeDeviceDbTlvEntry | string {
  if (v.length !== LE_DEVICE_DB_TLV_ENTRY_LEN) return `length ${v.length}, expected ${LE_DEVICE_DB_TLV_ENTRY_LEN}`;
  const addr_type = v[4]!;
  if (addr_type > 1) return `address type ${addr_type}`;
  const csrk = v[OFF_CSRK_FLAGS]!;
  if (csrk & 0xfc) return `reserved csrk flags 0x${csrk.toString(16)}`;
  const remote = (csrk & CSRK_REMOTE) !== 0;
  const local = (csrk & CSRK_LOCAL) !== 0;
  if (!remote && !all_zero(v, OFF_REMOTE_CSRK, OFF_LOCAL_CSRK)) return 'absent remote csrk not zero';
  if (!local && !all_zero(v, OFF_LOCAL_CSRK, LE_DEVICE_DB_TLV_ENTRY_LEN)) return 'absent local csrk not zero';
  const enc = decode_enc(v, OFF_REMOTE_ENC);
  if (typeof enc === 'string') return `remote ${enc}`;
  const local_enc = decode_enc(v, OFF_LOCAL_ENC);
  if (typeof local_enc === 'string') return `local ${local_enc}`;
  return {
    seq_nr: little_endian_read_32(v, 0),
    addr_type,
    addr: v.slice(5, 11),
    irk: v.slice(11, 27),
    enc,
    local_enc,
    remote_csrk: remote ? v.slice(OFF_REMOTE_CSRK, OFF_REMOTE_CSRK + 16) : null,
    remote_counter: remote ? little_endian_read_32(v, OFF_REMOTE_COUNTER) : 0,
    local_csrk: local ? v.slice(OFF_LOCAL_CSRK, OFF_LOCAL_CSRK + 16) : null,
    local_counter: local ? little_endian_read_32(v, OFF_LOCAL_COUNTER) : 0,
  };
}

/** Encode an entry as its 124 stored bytes. */
export function le_device_db_tlv_encode(e: LeDeviceDbTlvEntry): Uint8Array {
  const out = new Uint8Array(LE_DEVICE_DB_TLV_ENTRY_LEN);
  little_endian_store_32(out, 0, e.seq_nr >>> 0);
  out[4] = e.addr_type & 1;
  out.set(e.addr, 5);
  out.set(e.irk, 11);
  encode_enc(out, OFF_REMOTE_ENC, e.enc);
  encode_enc(out, OFF_LOCAL_ENC, e.local_enc);
  out[OFF_CSRK_FLAGS] = (e.remote_csrk ? CSRK_REMOTE : 0) | (e.local_csrk ? CSRK_LOCAL : 0);
  if (e.remote_csrk) {
    out.set(e.remote_csrk, OFF_REMOTE_CSRK);
    little_endian_store_32(out, OFF_REMOTE_COUNTER, e.remote_counter >>> 0);
  }
  if (e.local_csrk) {
    out.set(e.local_csrk, OFF_LOCAL_CSRK);
    little_endian_store_32(out, OFF_LOCAL_COUNTER, e.local_counter >>> 0);
  }
  return out;
}

function check_key(fn: string, v: Uint8Array, len: number): void {
  if (!(v instanceof Uint8Array) || v.length !== len) throw new TypeError(`${fn}: expected ${len} bytes`);
}

function check_enc(fn: string, e: LeDeviceDbEncryption): void {
  check_key(fn, e.ltk, 16);
  check_key(fn, e.rand, 8);
  if (!Number.isInteger(e.key_size) || e.key_size < 7 || e.key_size > 16) throw new TypeError(`${fn}: key_size must be 7..16`);
}

/** BTstack's le_device_db_tlv: bonds in a BtstackTlv, shared with the link key db. */
export class LeDeviceDbTlv implements LeDeviceDb {
  /** Tags already reported corrupt (one log line each until they are rewritten). */
  private readonly reported = new Set<number>();

  constructor(
    private readonly tlv: BtstackTlv,
    private readonly max_count: number = NVM_NUM_DEVICE_DB_ENTRIES_DEFAULT,
    private readonly logger?: Logger,
  ) {
    if (!Number.isInteger(max_count) || max_count < 1 || max_count > 256)
      throw new RangeError(`NVM_NUM_DEVICE_DB_ENTRIES ${max_count}: expected 1..256 (the tag holds the index in one byte)`);
  }

  /** Nothing to do: the entries are in the store. */
  le_device_db_init(): void {}

  le_device_db_count(): number {
    let n = 0;
    for (let i = 0; i < this.max_count; i++) if (this.fetch(i)) n++;
    return n;
  }

  le_device_db_max_count(): number {
    return this.max_count;
  }

  le_device_db_add(addr_type: number, addr: BdAddr, irk: Uint8Array | null): number {
    check_key('le_device_db_add', addr, 6);
    if (irk) check_key('le_device_db_add', irk, 16);
    let highest = 0;
    let same = -1;
    let empty = -1;
    let oldest = -1;
    let oldest_seq = 0;
    for (let i = 0; i < this.max_count; i++) {
      const e = this.fetch(i);
      if (!e) {
        if (empty < 0) empty = i;
        continue;
      }
      if ((e.addr_type & 1) === (addr_type & 1) && bd_addr_cmp(e.addr, addr) === 0) same = i;
      if (e.seq_nr > highest) highest = e.seq_nr;
      if (oldest < 0 || e.seq_nr < oldest_seq) {
        oldest = i;
        oldest_seq = e.seq_nr;
      }
    }
    const index = same >= 0 ? same : empty >= 0 ? empty : oldest;
    if (index >= 0 && same < 0 && empty < 0) {
      const victim = this.fetch(index)!;
      this.logger?.info(
        () =>
          `le device db: full, the oldest bond (${bd_addr_to_str(victim.addr)}, slot ${index}) makes room for ${bd_addr_to_str(addr)}`,
      );
    }
    const entry: LeDeviceDbTlvEntry = {
      seq_nr: (highest + 1) >>> 0,
      addr_type: addr_type & 1,
      addr: addr.slice(),
      irk: irk ? irk.slice() : new Uint8Array(16),
      enc: null,
      local_enc: null,
      remote_csrk: null,
      remote_counter: 0,
      local_csrk: null,
      local_counter: 0,
    };
    return this.store(index, entry) ? index : -1;
  }

  le_device_db_remove(index: number): void {
    if (!this.valid_index(index)) return;
    this.tlv.delete_tag(le_device_db_tlv_tag(index));
    this.reported.delete(le_device_db_tlv_tag(index));
  }

  le_device_db_info(index: number): LeDeviceDbInfo | null {
    const e = this.fetch(index);
    return e ? { addr_type: e.addr_type, addr: e.addr, irk: e.irk } : null;
  }

  le_device_db_encryption_set(index: number, enc: LeDeviceDbEncryption): void {
    check_enc('le_device_db_encryption_set', enc);
    this.update(index, (e) => (e.enc = { ...enc, rand: enc.rand.slice(), ltk: enc.ltk.slice() }));
  }

  le_device_db_encryption_get(index: number): LeDeviceDbEncryption | null {
    return this.fetch(index)?.enc ?? null;
  }

  le_device_db_local_encryption_set(index: number, enc: LeDeviceDbEncryption): void {
    check_enc('le_device_db_local_encryption_set', enc);
    this.update(index, (e) => (e.local_enc = { ...enc, rand: enc.rand.slice(), ltk: enc.ltk.slice() }));
  }

  le_device_db_local_encryption_get(index: number): LeDeviceDbEncryption | null {
    return this.fetch(index)?.local_enc ?? null;
  }

  le_device_db_remote_csrk_set(index: number, csrk: Uint8Array): void {
    check_key('le_device_db_remote_csrk_set', csrk, 16);
    this.update(index, (e) => {
      e.remote_csrk = csrk.slice();
      e.remote_counter = 0;
    });
  }

  le_device_db_remote_csrk_get(index: number): Uint8Array | null {
    return this.fetch(index)?.remote_csrk ?? null;
  }

  le_device_db_local_csrk_set(index: number, csrk: Uint8Array): void {
    check_key('le_device_db_local_csrk_set', csrk, 16);
    this.update(index, (e) => {
      e.local_csrk = csrk.slice();
      e.local_counter = 0;
    });
  }

  le_device_db_local_csrk_get(index: number): Uint8Array | null {
    return this.fetch(index)?.local_csrk ?? null;
  }

  /** BTstack's le_device_db_remote_counter_get: the last sign counter seen from the peer (0 without a CSRK). */
  le_device_db_remote_counter_get(index: number): number {
    return this.fetch(index)?.remote_counter ?? 0;
  }

  /** BTstack's le_device_db_remote_counter_set (kept only with a remote CSRK). */
  le_device_db_remote_counter_set(index: number, counter: number): void {
    this.update(index, (e) => {
      if (e.remote_csrk) e.remote_counter = counter >>> 0;
    });
  }

  /** BTstack's le_device_db_local_counter_get: our next sign counter (0 without a CSRK). */
  le_device_db_local_counter_get(index: number): number {
    return this.fetch(index)?.local_counter ?? 0;
  }

  /** BTstack's le_device_db_local_counter_set (kept only with a local CSRK). */
  le_device_db_local_counter_set(index: number, counter: number): void {
    this.update(index, (e) => {
      if (e.local_csrk) e.local_counter = counter >>> 0;
    });
  }

  le_device_db_lookup(addr_type: number, addr: BdAddr): number {
    for (let i = 0; i < this.max_count; i++) {
      const e = this.fetch(i);
      if (e && (e.addr_type & 1) === (addr_type & 1) && bd_addr_cmp(e.addr, addr) === 0) return i;
    }
    return -1;
  }

  // ---------------------------------------------------------------- internals

  private valid_index(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.max_count;
  }

  /** The entry in slot index, or null (empty, out of range, or corrupt: logged once). */
  private fetch(index: number): LeDeviceDbTlvEntry | null {
    if (!this.valid_index(index)) return null;
    const tag = le_device_db_tlv_tag(index);
    const value = this.tlv.get_tag(tag);
    if (!value) return null;
    const e = le_device_db_tlv_decode(value);
    if (typeof e !== 'string') return e;
    if (!this.reported.has(tag)) {
      this.reported.add(tag);
      this.logger?.error(() => `le device db: entry ${btstack_tag32_to_str(tag)} ignored (corrupt: ${e})`);
    }
    return null;
  }

  private store(index: number, e: LeDeviceDbTlvEntry): boolean {
    const tag = le_device_db_tlv_tag(index);
    const status = this.tlv.store_tag(tag, le_device_db_tlv_encode(e));
    if (status !== 0) {
      this.logger?.error(
        () => `le device db: storing the bond of ${bd_addr_to_str(e.addr)} failed, status 0x${status.toString(16)}`,
      );
      return false;
    }
    this.reported.delete(tag);
    return true;
  }

  private update(index: number, change: (e: LeDeviceDbTlvEntry) => void): void {
    const e = this.fetch(index);
    if (!e) return;
    change(e);
    this.store(index, e);
  }
}

/**
 * The LE device db kept in `tlv` (BTstack's le_device_db_tlv_configure(tlv_impl, tlv_context)):
 * up to `max_count` bonds (BTstack's NVM_NUM_DEVICE_DB_ENTRIES, 1..256, default 16), problems
 * logged on `logger`. Give it the store the link key db uses to keep every bond in one file.
 */
export function le_device_db_tlv_get_instance(
  tlv: BtstackTlv,
  max_count: number = NVM_NUM_DEVICE_DB_ENTRIES_DEFAULT,
  logger?: Logger,
): LeDeviceDbTlv {
  return new LeDeviceDbTlv(tlv, max_count, logger);
}
