/**
 * BTstack's binary ATT database layout (att db format version 1) and a bounds-checked walker.
 *
 *   profile_data = [version = 1] entry* [0x00 0x00]
 *   entry        = [size LE16][flags LE16][handle LE16][type: 2 bytes, or 16 if flags & ATT_PROPERTY_UUID128][value]
 *
 * `size` counts the whole entry (size field included), so value length = size - 6 - uuid length.
 * 128-bit UUIDs are stored little endian. Nothing here allocates per lookup: the walker fills a
 * reusable `AttDbIterator`. Every read is checked against the array: a malformed database ends the
 * walk (`status` says why) instead of reading past the end.
 */

// ---- flags (BTstack's ATT_PROPERTY_* values, bluetooth.h) ----
export const ATT_PROPERTY_BROADCAST = 0x01;
export const ATT_PROPERTY_READ = 0x02;
export const ATT_PROPERTY_WRITE_WITHOUT_RESPONSE = 0x04;
export const ATT_PROPERTY_WRITE = 0x08;
export const ATT_PROPERTY_NOTIFY = 0x10;
export const ATT_PROPERTY_INDICATE = 0x20;
export const ATT_PROPERTY_AUTHENTICATED_SIGNED_WRITE = 0x40;
export const ATT_PROPERTY_EXTENDED_PROPERTIES = 0x80;
/** BTstack extension: the value is read/written through the app's callbacks. */
export const ATT_PROPERTY_DYNAMIC = 0x100;
/** BTstack extension: the entry's type is a 128-bit UUID. */
export const ATT_PROPERTY_UUID128 = 0x200;
export const ATT_PROPERTY_READ_PERMISSION_BIT_0 = 0x400;
export const ATT_PROPERTY_READ_PERMISSION_BIT_1 = 0x800;
/** In the att db, bits that describe a characteristic (broadcast, notify, ...) are reused for the
 *  write permissions and the Secure Connections requirements. */
export const ATT_PROPERTY_WRITE_PERMISSION_BIT_0 = 0x01;
export const ATT_PROPERTY_WRITE_PERMISSION_BIT_1 = 0x10;
export const ATT_PROPERTY_READ_PERMISSION_SC = 0x20;
export const ATT_PROPERTY_WRITE_PERMISSION_SC = 0x80;
/** (key size - 1) << 12; 0 means no encryption key size requirement. */
export const ATT_PROPERTY_ENCRYPTION_KEY_SIZE_MASK = 0xf000;

// ---- security levels (BTstack's att_security_level) ----
export const ATT_SECURITY_NONE = 0;
export const ATT_SECURITY_ENCRYPTED = 1;
export const ATT_SECURITY_AUTHENTICATED = 2;
export const ATT_SECURITY_AUTHORIZED = 3;
export const ATT_SECURITY_AUTHENTICATED_SC = 4;

export const ATT_DB_VERSION = 1;

/** Read security an entry's flags require (ATT_SECURITY_*). */
export function att_db_read_security(flags: number): number {
  let level = 0;
  if (flags & ATT_PROPERTY_READ_PERMISSION_BIT_0) level |= 1;
  if (flags & ATT_PROPERTY_READ_PERMISSION_BIT_1) level |= 2;
  if (level === 2 && flags & ATT_PROPERTY_READ_PERMISSION_SC) level = ATT_SECURITY_AUTHENTICATED_SC;
  return level;
}

/** Write security an entry's flags require (ATT_SECURITY_*). */
export function att_db_write_security(flags: number): number {
  let level = 0;
  if (flags & ATT_PROPERTY_WRITE_PERMISSION_BIT_0) level |= 1;
  if (flags & ATT_PROPERTY_WRITE_PERMISSION_BIT_1) level |= 2;
  if (level === 2 && flags & ATT_PROPERTY_WRITE_PERMISSION_SC) level = ATT_SECURITY_AUTHENTICATED_SC;
  return level;
}

/** Encryption key size an entry requires (7..16), or 0 for none. */
export function att_db_encryption_key_size(flags: number): number {
  const n = (flags & ATT_PROPERTY_ENCRYPTION_KEY_SIZE_MASK) >> 12;
  return n === 0 ? 0 : n + 1;
}

// ---- walk status ----
export const ATT_DB_OK = 0;
/** The array is empty or its first byte is not version 1. */
export const ATT_DB_ERROR_VERSION = 1;
/** An entry's size field is smaller than its header + UUID. */
export const ATT_DB_ERROR_ENTRY_TOO_SHORT = 2;
/** An entry (or the 0x0000 end marker) runs past the end of the array. */
export const ATT_DB_ERROR_TRUNCATED = 3;

/** The Bluetooth Base UUID, little endian, with the 16-bit part (bytes 12..13) zero. */
const BASE_UUID_LE = [0xfb, 0x34, 0x9b, 0x5f, 0x80, 0x00, 0x00, 0x80, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];

/**
 * Reusable cursor over a database. `init(db)` then `while (it.next()) { ... }`; after the loop
 * `it.status` is ATT_DB_OK when the walk reached the end marker. Fields describe the current entry.
 */
export class AttDbIterator {
  db: Uint8Array = new Uint8Array(0);
  /** Offset of the next entry. */
  pos = 0;
  status = ATT_DB_OK;
  done = true;
  // current entry
  offset = 0;
  size = 0;
  flags = 0;
  handle = 0;
  /** The 16-bit type, or 0 when the type is 128-bit. */
  uuid16 = 0;
  uuid_offset = 0;
  uuid_len = 0;
  value_offset = 0;
  value_len = 0;

  /** Start at the first entry; false (status ATT_DB_ERROR_VERSION) when the header is wrong. */
  init(db: Uint8Array): boolean {
    this.db = db;
    this.pos = 1;
    this.done = false;
    this.status = ATT_DB_OK;
    if (db.length < 1 || db[0] !== ATT_DB_VERSION) return this.fail(ATT_DB_ERROR_VERSION);
    return true;
  }

  private fail(status: number): false {
    this.status = status;
    this.done = true;
    return false;
  }

  /** Advance to the next entry; false at the end marker or on a malformed entry. */
  next(): boolean {
    if (this.done) return false;
    const db = this.db;
    const p = this.pos;
    if (p + 2 > db.length) return this.fail(ATT_DB_ERROR_TRUNCATED);
    const size = db[p]! | (db[p + 1]! << 8);
    if (size === 0) {
      this.done = true;
      return false;
    }
    if (p + 6 > db.length) return this.fail(ATT_DB_ERROR_TRUNCATED);
    const flags = db[p + 2]! | (db[p + 3]! << 8);
    const uuid_len = flags & ATT_PROPERTY_UUID128 ? 16 : 2;
    if (size < 6 + uuid_len) return this.fail(ATT_DB_ERROR_ENTRY_TOO_SHORT);
    if (p + size > db.length) return this.fail(ATT_DB_ERROR_TRUNCATED);
    this.offset = p;
    this.size = size;
    this.flags = flags;
    this.handle = db[p + 4]! | (db[p + 5]! << 8);
    this.uuid_offset = p + 6;
    this.uuid_len = uuid_len;
    this.uuid16 = uuid_len === 2 ? db[p + 6]! | (db[p + 7]! << 8) : 0;
    this.value_offset = p + 6 + uuid_len;
    this.value_len = size - 6 - uuid_len;
    this.pos = p + size;
    return true;
  }

  /** The current entry's type as a 128-bit UUID, little endian, into out[pos..pos+16). */
  uuid128(out: Uint8Array, pos = 0): void {
    if (this.uuid_len === 16) {
      out.set(this.db.subarray(this.uuid_offset, this.uuid_offset + 16), pos);
      return;
    }
    for (let i = 0; i < 16; i++) out[pos + i] = BASE_UUID_LE[i]!;
    out[pos + 12] = this.uuid16 & 0xff;
    out[pos + 13] = this.uuid16 >> 8;
  }

  /** Does the current entry's type equal `uuid` (2 bytes LE or 16 bytes LE)? A 16-bit type and
   *  the same UUID written in 128-bit form (Base UUID) compare equal. */
  uuid_equals(uuid: Uint8Array): boolean {
    const db = this.db;
    if (uuid.length === 2) {
      if (this.uuid_len === 2) return db[this.uuid_offset] === uuid[0] && db[this.uuid_offset + 1] === uuid[1];
      return this.uuid128_is_base(uuid[0]! | (uuid[1]! << 8));
    }
    if (uuid.length !== 16) return false;
    if (this.uuid_len === 2) {
      for (let i = 0; i < 16; i++) {
        const expect = i === 12 ? this.uuid16 & 0xff : i === 13 ? this.uuid16 >> 8 : BASE_UUID_LE[i];
        if (uuid[i] !== expect) return false;
      }
      return true;
    }
    for (let i = 0; i < 16; i++) if (db[this.uuid_offset + i] !== uuid[i]) return false;
    return true;
  }

  private uuid128_is_base(uuid16: number): boolean {
    const db = this.db;
    for (let i = 0; i < 16; i++) {
      const expect = i === 12 ? uuid16 & 0xff : i === 13 ? uuid16 >> 8 : BASE_UUID_LE[i];
      if (db[this.uuid_offset + i] !== expect) return false;
    }
    return true;
  }
}

/** Walk the whole database: ATT_DB_OK when every entry is well formed and the end marker is there. */
export function att_db_validate(db: Uint8Array): number {
  const it = new AttDbIterator();
  if (!it.init(db)) return it.status;
  while (it.next()) {
    /* walk */
  }
  return it.status;
}

/** Position `it` on the entry with this handle; false when there is none (or the db is malformed
 *  before it). */
export function att_db_find_handle(db: Uint8Array, handle: number, it: AttDbIterator): boolean {
  if (!it.init(db)) return false;
  while (it.next()) if (it.handle === handle) return true;
  return false;
}

/** Position `it` on the first entry in [start, end] whose type is `uuid16` (16-bit types only,
 *  as BTstack's att_db searches declarations); false when there is none. Call again with
 *  start = it.handle + 1 for the next one. */
export function att_db_find_by_uuid16(db: Uint8Array, start: number, end: number, uuid16: number, it: AttDbIterator): boolean {
  if (!it.init(db)) return false;
  while (it.next()) {
    if (it.handle < start) continue;
    if (it.handle > end) return false;
    if (it.uuid_len === 2 && it.uuid16 === uuid16) return true;
  }
  return false;
}

/**
 * Copy the stored value of `handle` from `offset` into out[out_pos..]; returns the number of bytes
 * copied (limited by out's room), or -1 when the handle does not exist and -2 when offset is past
 * the value's end (ATT's Invalid Offset). DYNAMIC entries hold no meaningful stored value; the
 * caller asks the app for those.
 */
export function att_db_read_value(
  db: Uint8Array,
  handle: number,
  offset: number,
  out: Uint8Array,
  out_pos = 0,
  it: AttDbIterator = new AttDbIterator(),
): number {
  if (!att_db_find_handle(db, handle, it)) return -1;
  if (offset > it.value_len || offset < 0) return -2;
  const room = Math.max(0, out.length - out_pos);
  const n = Math.min(it.value_len - offset, room);
  if (n > 0) out.set(db.subarray(it.value_offset + offset, it.value_offset + offset + n), out_pos);
  return n;
}

/** One entry, copied out (for tools and tests; the server uses AttDbIterator). */
export interface AttDbEntry {
  offset: number;
  size: number;
  flags: number;
  handle: number;
  /** 16-bit type, or 0 for a 128-bit one. */
  uuid16: number;
  /** The type's bytes as stored (2 or 16, little endian). */
  uuid: Uint8Array;
  value: Uint8Array;
}

/** Every entry up to the end marker or the first malformed one; `status` says which. */
export function att_db_entries(db: Uint8Array): { status: number; entries: AttDbEntry[] } {
  const it = new AttDbIterator();
  const entries: AttDbEntry[] = [];
  if (!it.init(db)) return { status: it.status, entries };
  while (it.next()) {
    entries.push({
      offset: it.offset,
      size: it.size,
      flags: it.flags,
      handle: it.handle,
      uuid16: it.uuid16,
      uuid: db.slice(it.uuid_offset, it.uuid_offset + it.uuid_len),
      value: db.slice(it.value_offset, it.value_offset + it.value_len),
    });
  }
  return { status: it.status, entries };
}
