/**
 * Link key storage with BTstack's interface (classic/btstack_link_key_db.h) and its in-memory
 * implementation (classic/btstack_link_key_db_memory.h).
 *
 * `btstack_link_key_db_memory_instance(pools)` keeps up to MAX_NR_BTSTACK_LINK_KEY_DB_MEMORY_ENTRIES
 * keys in a pool of the stack's Pools. As BTstack's memory db it keeps its entries most recently
 * used first: get_link_key and put_link_key move an entry to the front, and put_link_key of a new
 * address when the pool is exhausted reuses the entry at the back (the least recently used one).
 * open / close / set_local_bd_addr do nothing for the memory db: keys stay until deleted, and the
 * pool shows them as in use.
 *
 * The persistent implementation is btstack_link_key_db_tlv_get_instance (link-key-db-tlv.ts), on a
 * tag-value store (src/core/tlv.ts; a file per controller: ports/posix/tlv-file.ts).
 *
 * HCI answers Link Key Requests from, and stores Link Key Notifications in, the db it holds
 * (hci-pairing.ts; Stack option `link_key_db`, default a memory db; hci_set_link_key_db).
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';
import type { Pools } from '../core/config.js';
import type { Pool } from '../core/pool.js';

/** BTstack's link_key_type_t: the Key_Type of HCI Link Key Notification (Core spec Vol 4, Part E, 7.7.24). */
export type LinkKeyType = number;
export const COMBINATION_KEY = 0x00;
export const LOCAL_UNIT_KEY = 0x01;
export const REMOTE_UNIT_KEY = 0x02;
export const DEBUG_COMBINATION_KEY = 0x03;
export const UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P192 = 0x04;
export const AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P192 = 0x05;
export const CHANGED_COMBINATION_KEY = 0x06;
export const UNAUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256 = 0x07;
export const AUTHENTICATED_COMBINATION_KEY_GENERATED_FROM_P256 = 0x08;
/** No key (BTstack uses it for 'not known'). */
export const INVALID_LINK_KEY = 0xffff;
/** Bytes in a link key (BTstack's LINK_KEY_LEN). */
export const LINK_KEY_LEN = 16;

/** A stored key as get_link_key returns it: copies, the caller may keep and change them. */
export interface LinkKeyRecord {
  link_key: Uint8Array;
  type: LinkKeyType;
}

/** One entry as iterator_get_next returns it (copies). */
export interface LinkKeyEntry extends LinkKeyRecord {
  bd_addr: BdAddr;
}

/** BTstack's btstack_link_key_iterator_t: state of one walk over a db, owned by the db between init and done. */
export interface BtstackLinkKeyIterator {
  context: unknown;
}

export function btstack_link_key_iterator_create(): BtstackLinkKeyIterator {
  return { context: null };
}

/** BTstack's btstack_link_key_db_t. */
export interface BtstackLinkKeyDb {
  /** Open the db. */
  open(): void;
  /** The local controller's address (only needed where the controller can be swapped). */
  set_local_bd_addr(bd_addr: BdAddr): void;
  /** Close the db. */
  close(): void;
  /** The key stored for bd_addr, or null. */
  get_link_key(bd_addr: BdAddr): LinkKeyRecord | null;
  /** Store (or replace) the key for bd_addr. link_key: LINK_KEY_LEN bytes. */
  put_link_key(bd_addr: BdAddr, link_key: Uint8Array, type: LinkKeyType): void;
  /** Forget the key for bd_addr (nothing happens when there is none). */
  delete_link_key(bd_addr: BdAddr): void;
  /** Start a walk over the stored keys; false when the db cannot iterate. */
  iterator_init(it: BtstackLinkKeyIterator): boolean;
  /** The next stored key, or null at the end. */
  iterator_get_next(it: BtstackLinkKeyIterator): LinkKeyEntry | null;
  /** End a walk. */
  iterator_done(it: BtstackLinkKeyIterator): void;
}

/** One pooled entry of the memory db, linked most recently used first. */
class MemoryEntry {
  readonly bd_addr = new Uint8Array(6);
  readonly link_key = new Uint8Array(LINK_KEY_LEN);
  type: LinkKeyType = INVALID_LINK_KEY;
  prev: MemoryEntry | null = null;
  next: MemoryEntry | null = null;
  linked = false;
  /** Counts unlinks: an iterator notices that its next entry moved, was reused or deleted. */
  moves = 0;
}

/** Where a memory db iterator stands: the entry it returns next. */
class MemoryIteratorState {
  next: MemoryEntry | null = null;
  moves = 0;
  constructor(readonly db: LinkKeyDbMemory) {}
  stand_on(entry: MemoryEntry | null): void {
    this.next = entry;
    this.moves = entry ? entry.moves : 0;
  }
}

function check_bd_addr(bd_addr: BdAddr): void {
  if (!(bd_addr instanceof Uint8Array) || bd_addr.length !== 6) throw new TypeError('link key db: bd_addr must be 6 bytes');
}

class LinkKeyDbMemory implements BtstackLinkKeyDb {
  private head: MemoryEntry | null = null;
  private tail: MemoryEntry | null = null;

  constructor(private readonly pool: Pool<MemoryEntry>) {}

  open(): void {}

  set_local_bd_addr(bd_addr: BdAddr): void {
    check_bd_addr(bd_addr);
  }

  close(): void {}

  get_link_key(bd_addr: BdAddr): LinkKeyRecord | null {
    check_bd_addr(bd_addr);
    const entry = this.find(bd_addr);
    if (!entry) return null;
    this.unlink(entry);
    this.push_front(entry);
    return { link_key: entry.link_key.slice(), type: entry.type };
  }

  put_link_key(bd_addr: BdAddr, link_key: Uint8Array, type: LinkKeyType): void {
    check_bd_addr(bd_addr);
    if (!(link_key instanceof Uint8Array) || link_key.length !== LINK_KEY_LEN) {
      throw new TypeError(`link key db: link_key must be ${LINK_KEY_LEN} bytes`);
    }
    let entry = this.find(bd_addr) ?? this.pool.get() ?? this.tail;
    if (!entry) return; // no entries at all (capacity 0)
    if (entry.linked) this.unlink(entry);
    entry.bd_addr.set(bd_addr);
    entry.link_key.set(link_key);
    entry.type = type;
    this.push_front(entry);
  }

  delete_link_key(bd_addr: BdAddr): void {
    check_bd_addr(bd_addr);
    const entry = this.find(bd_addr);
    if (!entry) return;
    this.unlink(entry);
    this.pool.free(entry);
  }

  iterator_init(it: BtstackLinkKeyIterator): boolean {
    const state = new MemoryIteratorState(this);
    state.stand_on(this.head);
    it.context = state;
    return true;
  }

  /**
   * Entries most recently used first. Deleting the entry just returned (to delete every key) is
   * fine; when the entry the walk would return next was moved (get_link_key / put_link_key of its
   * address), reused or deleted meanwhile, the walk ends there.
   */
  iterator_get_next(it: BtstackLinkKeyIterator): LinkKeyEntry | null {
    const state = it.context;
    if (!(state instanceof MemoryIteratorState) || state.db !== this) return null;
    const entry = state.next;
    if (!entry || !entry.linked || entry.moves !== state.moves) {
      state.stand_on(null);
      return null;
    }
    state.stand_on(entry.next);
    return { bd_addr: entry.bd_addr.slice(), link_key: entry.link_key.slice(), type: entry.type };
  }

  iterator_done(it: BtstackLinkKeyIterator): void {
    it.context = null;
  }

  private find(bd_addr: BdAddr): MemoryEntry | null {
    for (let e = this.head; e; e = e.next) if (bd_addr_cmp(e.bd_addr, bd_addr) === 0) return e;
    return null;
  }

  private push_front(entry: MemoryEntry): void {
    entry.prev = null;
    entry.next = this.head;
    if (this.head) this.head.prev = entry;
    else this.tail = entry;
    this.head = entry;
    entry.linked = true;
  }

  private unlink(entry: MemoryEntry): void {
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = entry.next = null;
    entry.linked = false;
    entry.moves++;
  }
}

/**
 * A new in-memory link key db whose entries come from a pool of MAX_NR_BTSTACK_LINK_KEY_DB_MEMORY_ENTRIES
 * registered with `pools` (named 'link_key_db_memory_entries'). Create one per stack (BTstack's
 * btstack_link_key_db_memory_instance() returns its single static instance).
 */
export function btstack_link_key_db_memory_instance(pools: Pools): BtstackLinkKeyDb {
  const pool = pools.create(
    'MAX_NR_BTSTACK_LINK_KEY_DB_MEMORY_ENTRIES',
    'link_key_db_memory_entries',
    () => new MemoryEntry(),
    (e) => {
      e.bd_addr.fill(0);
      e.link_key.fill(0);
      e.type = INVALID_LINK_KEY;
    },
    true, // bonds are kept on purpose: a store, not counted by Pools.all_free()
  );
  return new LinkKeyDbMemory(pool);
}
