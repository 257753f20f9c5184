/**
 * Tag-value persistent storage with BTstack's contract (btstack_tlv.h, btstack_tlv_t): the store
 * the link key db, the LE device db and the Security Manager keep their bonds in, and an in-memory
 * implementation for tests. The file-backed implementation is a port (ports/posix/tlv-file.ts).
 *
 * Tags are 32-bit numbers, by convention four ASCII characters, first one most significant
 * (BTstack's BTSTACK_TAG32('B','T','L',index)). The tags BTstack's components use, and this stack
 * keeps for them, so that all of them share one store:
 *
 *   'B' 'T' 'L' index  one link key (classic link key db, btstack_link_key_db_tlv): index 0 ..
 *                      NVM_NUM_LINK_KEYS - 1; value layout in src/hci/link-key-db-tlv.ts
 *   'B' 'T' 'D' index  one LE device db entry (BTstack's le_device_db_tlv): the bond of one LE peer
 *                      (identity address + type, IRK, LTK with EDIV / Rand, key size, authenticated /
 *                      authorized / secure connection flags, CSRKs and sign counters) plus a seq_nr
 *                      for the same least-recently-stored eviction; index 0 .. NVM_NUM_DEVICE_DB_ENTRIES - 1
 *   'S' 'M' x x        reserved for the Security Manager's own keys (ER / IR)
 *
 * Applications may store their own tags: anything not starting with 'BT' or 'SM'.
 */
/** Status: success. */
const TLV_OK = 0;
/**
 * Status of store_tag when the store is full or the value too long: BTstack's
 * BTSTACK_MEMORY_ALLOC_FAILED (0x56; src/core does not import the codes, test/unit/core/tlv.test.ts
 * checks that the values agree).
 */
export const TLV_STATUS_FULL = 0x56;

/** BTstack's btstack_tlv_t. */
export interface BtstackTlv {
  /** A copy of the value stored for tag, or null when there is none. */
  get_tag(tag: number): Uint8Array | null;
  /**
   * Store (or replace) the value for tag: the first len bytes of data (default: all of it).
   * Returns 0 on success, else a BTstack status (TLV_STATUS_FULL when the store's bounds forbid
   * it; an implementation's own status when the write failed). On failure the previous value stays.
   */
  store_tag(tag: number, data: Uint8Array, len?: number): number;
  /** Forget the value for tag (nothing happens when there is none). */
  delete_tag(tag: number): void;
}

/** Bounds of a store: how many tags and how long a value. */
export interface BtstackTlvLimits {
  /** Most tags held at once (default 64: 16 link keys + 16 LE devices + room for the SM and the application). */
  max_tags: number;
  /** Longest value in bytes (default 1000, the limit BTstack's posix TLV reads). */
  max_value_len: number;
}

/** The bounds of a store made without limits. */
export const DEFAULT_TLV_LIMITS: Readonly<BtstackTlvLimits> = Object.freeze({ max_tags: 64, max_value_len: 1000 });

/** BTSTACK_TAG32(a, b, c, d): four characters (or byte values) as a tag, a most significant. */
export function btstack_tag32(a: string | number, b: string | number, c: string | number, d: string | number): number {
  const byte = (x: string | number): number => (typeof x === 'string' ? x.charCodeAt(0) : x) & 0xff;
  return ((byte(a) << 24) | (byte(b) << 16) | (byte(c) << 8) | byte(d)) >>> 0;
}

/** Tag of link key db entry `index` ('BTL' + index), as btstack_link_key_db_tlv. */
export function link_key_db_tlv_tag(index: number): number {
  return btstack_tag32('B', 'T', 'L', check_index(index));
}

/** Tag of LE device db entry `index` ('BTD' + index), as BTstack's le_device_db_tlv. */
export function le_device_db_tlv_tag(index: number): number {
  return btstack_tag32('B', 'T', 'D', check_index(index));
}

/** "BTL#3" for 'B' 'T' 'L' 3 (printable characters as such, others as '#' + number); for logs and tools. */
export function btstack_tag32_to_str(tag: number): string {
  let s = '';
  for (let shift = 24; shift >= 0; shift -= 8) {
    const b = (tag >>> shift) & 0xff;
    s += b >= 0x21 && b <= 0x7e ? String.fromCharCode(b) : `#${b}`;
  }
  return s;
}

function check_index(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index > 0xff) throw new RangeError(`tlv tag index ${index}: expected 0..255`);
  return index;
}

/**
 * Throws a TypeError for a tag that is not a 32-bit unsigned integer (a programmer error).
 * @internal
 */
export function check_tlv_tag(tag: number): void {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffffff)
    throw new TypeError(`tlv: tag must be a 32-bit unsigned integer, got ${tag}`);
}

/**
 * The bytes store_tag(tag, data, len) means; throws a TypeError for arguments of the wrong type.
 * @internal
 */
export function tlv_value_of(data: Uint8Array, len?: number): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError('tlv: data must be a Uint8Array');
  if (len === undefined) return data;
  if (!Number.isInteger(len) || len < 0 || len > data.length) throw new TypeError(`tlv: len ${len} outside 0..${data.length}`);
  return data.subarray(0, len);
}

/**
 * The in-memory store: a map of tag to a private copy of its value, bounded by `limits`. Also the
 * cache of the file-backed store, which persists after each change (ports/posix/tlv-file.ts).
 */
export class BtstackTlvMemory implements BtstackTlv {
  /** The bounds this store enforces. */
  readonly limits: Readonly<BtstackTlvLimits>;
  /** @internal tag -> private copy of its value */
  protected readonly values = new Map<number, Uint8Array>();

  constructor(limits: Partial<BtstackTlvLimits> = {}) {
    const l = { ...DEFAULT_TLV_LIMITS, ...limits };
    for (const [k, v] of Object.entries(l)) {
      if (!Number.isInteger(v) || v < 0) throw new TypeError(`tlv limits ${k}: expected a non-negative integer, got ${v}`);
    }
    this.limits = Object.freeze(l);
  }

  /** A copy of the value stored for tag, or null. */
  get_tag(tag: number): Uint8Array | null {
    check_tlv_tag(tag);
    const v = this.values.get(tag);
    return v ? v.slice() : null;
  }

  /** Store (or replace) the value: 0, or TLV_STATUS_FULL past the limits (the previous value stays). */
  store_tag(tag: number, data: Uint8Array, len?: number): number {
    check_tlv_tag(tag);
    const value = tlv_value_of(data, len);
    const status = this.check_room(tag, value.length);
    if (status) return status;
    const previous = this.values.get(tag);
    this.values.set(tag, value.slice());
    const persisted = this.persist();
    if (persisted === TLV_OK) return TLV_OK;
    if (previous) this.values.set(tag, previous);
    else this.values.delete(tag);
    return persisted;
  }

  /** Forget the value for tag. */
  delete_tag(tag: number): void {
    check_tlv_tag(tag);
    const previous = this.values.get(tag);
    if (!previous) return;
    this.values.delete(tag);
    if (this.persist() !== TLV_OK) this.values.set(tag, previous);
  }

  /** Number of tags held. */
  get size(): number {
    return this.values.size;
  }

  /** Every tag held, ascending (not part of BTstack's contract: for tools and tests). */
  tags(): number[] {
    return [...this.values.keys()].sort((a, b) => a - b);
  }

  /** @internal TLV_STATUS_FULL when storing len bytes under tag would break the bounds, else 0. */
  protected check_room(tag: number, len: number): number {
    if (len > this.limits.max_value_len) return TLV_STATUS_FULL;
    if (!this.values.has(tag) && this.values.size >= this.limits.max_tags) return TLV_STATUS_FULL;
    return TLV_OK;
  }

  /** @internal Called after each change of `values`: 0, or a status that undoes the change. The memory store has nothing to do. */
  protected persist(): number {
    return TLV_OK;
  }
}

/** A new, empty in-memory store (BTstack's tests use a RAM TLV the same way). */
export function btstack_tlv_memory_instance(limits: Partial<BtstackTlvLimits> = {}): BtstackTlvMemory {
  return new BtstackTlvMemory(limits);
}
