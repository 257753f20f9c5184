/**
 * The link key db on a tag-value store (BTstack's classic/btstack_link_key_db_tlv.c behaviour, our
 * own code): NVM_NUM_LINK_KEYS slots, slot i under tag 'B' 'T' 'L' i (link_key_db_tlv_tag(i),
 * src/core/tlv.ts), so the LE device db ('BTD' i), the Security Manager and the application can
 * keep their records in the same store.
 *
 * Value of a slot, 27 bytes (our layout; BTstack stores its C struct link_key_nvm_t):
 *
 *   offset 0   seq_nr    uint32 little endian: 1 + the highest seq_nr in the db when stored
 *   offset 4   bd_addr   6 bytes, BdAddr order (most significant first, as printed)
 *   offset 10  link_key  16 bytes, as put_link_key received them
 *   offset 26  type      link_key_type_t (Key_Type of HCI Link Key Notification, 0x00..0x08)
 *
 * Eviction as BTstack's: put_link_key reuses the slot of the same address, else the first empty
 * slot, else the slot with the lowest seq_nr (the least recently *stored* key). get_link_key does
 * not refresh a key's recency (BTstack's TLV db reads only; its memory db does move the entry to
 * the front). A slot whose value is not 27 bytes is treated as empty. The iterator walks the slots
 * in index order and reads the store at each step, so deleting the key just returned is fine.
 * open / close / set_local_bd_addr do nothing: the store is chosen per controller by whoever
 * creates it (ports/posix/tlv-file.ts keeps one file per controller address).
 */
import { bd_addr_cmp, bd_addr_to_str, little_endian_read_32, little_endian_store_32, type BdAddr } from '../core/bytes.js';
import { DEFAULT_CONFIG, type StackConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { link_key_db_tlv_tag, type BtstackTlv } from '../core/tlv.js';
import {
  LINK_KEY_LEN,
  type BtstackLinkKeyDb,
  type BtstackLinkKeyIterator,
  type LinkKeyEntry,
  type LinkKeyRecord,
  type LinkKeyType,
} from './link-key-db.js';

/** Bytes in one stored slot. */
export const LINK_KEY_DB_TLV_ENTRY_LEN = 27;

/** One decoded slot. */
interface Slot {
  seq_nr: number;
  bd_addr: BdAddr;
  link_key: Uint8Array;
  type: LinkKeyType;
}

function decode_slot(value: Uint8Array | null): Slot | null {
  if (!value || value.length !== LINK_KEY_DB_TLV_ENTRY_LEN) return null;
  return {
    seq_nr: little_endian_read_32(value, 0),
    bd_addr: value.slice(4, 10),
    link_key: value.slice(10, 26),
    type: value[26]!,
  };
}

function encode_slot(seq_nr: number, bd_addr: BdAddr, link_key: Uint8Array, type: LinkKeyType): Uint8Array {
  const out = new Uint8Array(LINK_KEY_DB_TLV_ENTRY_LEN);
  little_endian_store_32(out, 0, seq_nr);
  out.set(bd_addr, 4);
  out.set(link_key, 10);
  out[26] = type & 0xff;
  return out;
}

function check_bd_addr(bd_addr: BdAddr): void {
  if (!(bd_addr instanceof Uint8Array) || bd_addr.length !== 6) throw new TypeError('link key db: bd_addr must be 6 bytes');
}

/** Where a TLV db iterator stands: the slot index it reads next. */
class TlvIteratorState {
  index = 0;
  constructor(readonly db: LinkKeyDbTlv) {}
}

class LinkKeyDbTlv implements BtstackLinkKeyDb {
  constructor(
    private readonly tlv: BtstackTlv,
    private readonly num_keys: number,
    private readonly logger: Logger | undefined,
  ) {}

  open(): void {}

  set_local_bd_addr(bd_addr: BdAddr): void {
    check_bd_addr(bd_addr);
  }

  close(): void {}

  get_link_key(bd_addr: BdAddr): LinkKeyRecord | null {
    check_bd_addr(bd_addr);
    for (let i = 0; i < this.num_keys; i++) {
      const slot = this.slot(i);
      if (slot && bd_addr_cmp(slot.bd_addr, bd_addr) === 0) return { link_key: slot.link_key, type: slot.type };
    }
    return null;
  }

  put_link_key(bd_addr: BdAddr, link_key: Uint8Array, type: LinkKeyType): void {
    check_bd_addr(bd_addr);
    if (!(link_key instanceof Uint8Array) || link_key.length !== LINK_KEY_LEN) {
      throw new TypeError(`link key db: link_key must be ${LINK_KEY_LEN} bytes`);
    }
    let highest = 0;
    let same = -1;
    let empty = -1;
    let oldest = -1;
    let oldest_seq = 0;
    for (let i = 0; i < this.num_keys; i++) {
      const slot = this.slot(i);
      if (!slot) {
        if (empty < 0) empty = i;
        continue;
      }
      if (bd_addr_cmp(slot.bd_addr, bd_addr) === 0) same = i;
      if (slot.seq_nr > highest) highest = slot.seq_nr;
      if (oldest < 0 || slot.seq_nr < oldest_seq) {
        oldest = i;
        oldest_seq = slot.seq_nr;
      }
    }
    const index = same >= 0 ? same : empty >= 0 ? empty : oldest;
    if (index < 0) return; // NVM_NUM_LINK_KEYS 0: nowhere to keep it
    const status = this.tlv.store_tag(link_key_db_tlv_tag(index), encode_slot((highest + 1) >>> 0, bd_addr, link_key, type));
    if (status !== 0)
      this.logger?.error(
        () => `link key db: storing the key of ${bd_addr_to_str(bd_addr)} failed, status 0x${status.toString(16)}`,
      );
  }

  delete_link_key(bd_addr: BdAddr): void {
    check_bd_addr(bd_addr);
    for (let i = 0; i < this.num_keys; i++) {
      const slot = this.slot(i);
      if (slot && bd_addr_cmp(slot.bd_addr, bd_addr) === 0) {
        this.tlv.delete_tag(link_key_db_tlv_tag(i));
        return;
      }
    }
  }

  iterator_init(it: BtstackLinkKeyIterator): boolean {
    it.context = new TlvIteratorState(this);
    return true;
  }

  iterator_get_next(it: BtstackLinkKeyIterator): LinkKeyEntry | null {
    const state = it.context;
    if (!(state instanceof TlvIteratorState) || state.db !== this) return null;
    while (state.index < this.num_keys) {
      const slot = this.slot(state.index++);
      if (slot) return { bd_addr: slot.bd_addr, link_key: slot.link_key, type: slot.type };
    }
    return null;
  }

  iterator_done(it: BtstackLinkKeyIterator): void {
    it.context = null;
  }

  private slot(index: number): Slot | null {
    return decode_slot(this.tlv.get_tag(link_key_db_tlv_tag(index)));
  }
}

/**
 * The link key db kept in `tlv` (BTstack's btstack_link_key_db_tlv_get_instance(tlv_impl,
 * tlv_context)): up to config.NVM_NUM_LINK_KEYS keys (0..256; pass the stack's config), failures
 * to store logged on `logger`. Several instances on one store see the same keys.
 */
export function btstack_link_key_db_tlv_get_instance(
  tlv: BtstackTlv,
  config: Pick<StackConfig, 'NVM_NUM_LINK_KEYS'> = DEFAULT_CONFIG,
  logger?: Logger,
): BtstackLinkKeyDb {
  const n = config.NVM_NUM_LINK_KEYS;
  if (!Number.isInteger(n) || n < 0 || n > 256)
    throw new RangeError(`NVM_NUM_LINK_KEYS ${n}: expected 0..256 (the tag holds the index in one byte)`);
  return new LinkKeyDbTlv(tlv, n, logger);
}
