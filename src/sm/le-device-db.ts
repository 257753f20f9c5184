/**
 * The LE device db: bonds made by the Security Manager, with BTstack's le_device_db.h names, as a
 * contract (`LeDeviceDb`) and an in-memory implementation (`LeDeviceDbMemory`, BTstack's
 * le_device_db_memory.c). The persistent one, in the TLV store shared with BR/EDR link keys, is
 * `LeDeviceDbTlv` (le-device-db-tlv.ts, BTstack's le_device_db_tlv.c).
 *
 * Index-based like BTstack: `le_device_db_add` returns the index of a new (or the existing) entry
 * for an identity address; getters return null for an unused index. Keys are 16 octets MSB first
 * (as in crypto.ts); `rand` is the 8-octet Rand of Central Identification as on the wire.
 *
 * Beyond BTstack's API (the SM needs it because we do not derive a legacy LTK from ER/EDIV):
 * `le_device_db_local_encryption_set/get` keep the LTK / EDIV / Rand WE distributed in legacy
 * pairing, which the peripheral replies with when the central re-encrypts.
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';

export interface LeDeviceDbEncryption {
  ediv: number;
  /** 8 octets, as on the wire. */
  rand: Uint8Array;
  /** 16 octets, MSB first. */
  ltk: Uint8Array;
  key_size: number;
  authenticated: boolean;
  authorized: boolean;
  secure_connection: boolean;
}

export interface LeDeviceDbInfo {
  addr_type: number;
  addr: BdAddr;
  /** 16 octets MSB first; all zero when the peer sent none. */
  irk: Uint8Array;
}

/** BTstack's le_device_db.h. */
export interface LeDeviceDb {
  le_device_db_init(): void;
  le_device_db_count(): number;
  le_device_db_max_count(): number;
  /** Add (or find) the entry for an identity address; its index, or -1 when full. */
  le_device_db_add(addr_type: number, addr: BdAddr, irk: Uint8Array | null): number;
  le_device_db_remove(index: number): void;
  le_device_db_info(index: number): LeDeviceDbInfo | null;
  le_device_db_encryption_set(index: number, enc: LeDeviceDbEncryption): void;
  le_device_db_encryption_get(index: number): LeDeviceDbEncryption | null;
  le_device_db_remote_csrk_set(index: number, csrk: Uint8Array): void;
  le_device_db_remote_csrk_get(index: number): Uint8Array | null;
  le_device_db_local_csrk_set(index: number, csrk: Uint8Array): void;
  le_device_db_local_csrk_get(index: number): Uint8Array | null;
  /** Not in BTstack: the legacy LTK / EDIV / Rand we distributed to this peer. */
  le_device_db_local_encryption_set(index: number, enc: LeDeviceDbEncryption): void;
  le_device_db_local_encryption_get(index: number): LeDeviceDbEncryption | null;
  /** Index of the entry for (addr_type, addr), or -1. */
  le_device_db_lookup(addr_type: number, addr: BdAddr): number;
  /** BTstack's le_device_db_remote_counter_get: the last sign counter seen from the peer (0 without a remote CSRK). */
  le_device_db_remote_counter_get?(index: number): number;
  le_device_db_remote_counter_set?(index: number, counter: number): void;
  /** BTstack's le_device_db_local_counter_get: our next sign counter (0 without a local CSRK). */
  le_device_db_local_counter_get?(index: number): number;
  le_device_db_local_counter_set?(index: number, counter: number): void;
}

interface Entry {
  addr_type: number;
  addr: BdAddr;
  irk: Uint8Array;
  enc: LeDeviceDbEncryption | null;
  local_enc: LeDeviceDbEncryption | null;
  remote_csrk: Uint8Array | null;
  local_csrk: Uint8Array | null;
  remote_counter: number;
  local_counter: number;
}

function copyEnc(e: LeDeviceDbEncryption): LeDeviceDbEncryption {
  return { ...e, rand: e.rand.slice(), ltk: e.ltk.slice() };
}

/** In-memory bonds (BTstack's le_device_db_memory): lost with the process. */
export class LeDeviceDbMemory implements LeDeviceDb {
  private entries: (Entry | null)[];

  /** `max_count`: BTstack's MAX_NR_LE_DEVICE_DB_ENTRIES (default 16). */
  constructor(private readonly max_count = 16) {
    this.entries = new Array<Entry | null>(max_count).fill(null);
  }

  le_device_db_init(): void {
    this.entries.fill(null);
  }

  le_device_db_count(): number {
    return this.entries.filter((e) => e !== null).length;
  }

  le_device_db_max_count(): number {
    return this.max_count;
  }

  le_device_db_add(addr_type: number, addr: BdAddr, irk: Uint8Array | null): number {
    const existing = this.le_device_db_lookup(addr_type, addr);
    const index = existing >= 0 ? existing : this.entries.indexOf(null);
    if (index < 0) return -1;
    const prev = existing >= 0 ? this.entries[index]! : null;
    this.entries[index] = {
      addr_type,
      addr: addr.slice(),
      irk: irk ? irk.slice() : new Uint8Array(16),
      enc: prev?.enc ?? null,
      local_enc: prev?.local_enc ?? null,
      remote_csrk: prev?.remote_csrk ?? null,
      local_csrk: prev?.local_csrk ?? null,
      remote_counter: prev?.remote_counter ?? 0,
      local_counter: prev?.local_counter ?? 0,
    };
    return index;
  }

  le_device_db_remove(index: number): void {
    if (this.entries[index]) this.entries[index] = null;
  }

  le_device_db_info(index: number): LeDeviceDbInfo | null {
    const e = this.entries[index];
    return e ? { addr_type: e.addr_type, addr: e.addr.slice(), irk: e.irk.slice() } : null;
  }

  le_device_db_encryption_set(index: number, enc: LeDeviceDbEncryption): void {
    const e = this.entries[index];
    if (e) e.enc = copyEnc(enc);
  }

  le_device_db_encryption_get(index: number): LeDeviceDbEncryption | null {
    const e = this.entries[index]?.enc;
    return e ? copyEnc(e) : null;
  }

  le_device_db_local_encryption_set(index: number, enc: LeDeviceDbEncryption): void {
    const e = this.entries[index];
    if (e) e.local_enc = copyEnc(enc);
  }

  le_device_db_local_encryption_get(index: number): LeDeviceDbEncryption | null {
    const e = this.entries[index]?.local_enc;
    return e ? copyEnc(e) : null;
  }

  le_device_db_remote_csrk_set(index: number, csrk: Uint8Array): void {
    const e = this.entries[index];
    if (!e) return;
    e.remote_csrk = csrk.slice();
    e.remote_counter = 0;
  }

  le_device_db_remote_csrk_get(index: number): Uint8Array | null {
    return this.entries[index]?.remote_csrk?.slice() ?? null;
  }

  le_device_db_local_csrk_set(index: number, csrk: Uint8Array): void {
    const e = this.entries[index];
    if (!e) return;
    e.local_csrk = csrk.slice();
    e.local_counter = 0;
  }

  le_device_db_local_csrk_get(index: number): Uint8Array | null {
    return this.entries[index]?.local_csrk?.slice() ?? null;
  }

  le_device_db_remote_counter_get(index: number): number {
    return this.entries[index]?.remote_counter ?? 0;
  }

  le_device_db_remote_counter_set(index: number, counter: number): void {
    const e = this.entries[index];
    if (e?.remote_csrk) e.remote_counter = counter >>> 0;
  }

  le_device_db_local_counter_get(index: number): number {
    return this.entries[index]?.local_counter ?? 0;
  }

  le_device_db_local_counter_set(index: number, counter: number): void {
    const e = this.entries[index];
    if (e?.local_csrk) e.local_counter = counter >>> 0;
  }

  le_device_db_lookup(addr_type: number, addr: BdAddr): number {
    return this.entries.findIndex((e) => e !== null && (e.addr_type & 1) === (addr_type & 1) && bd_addr_cmp(e.addr, addr) === 0);
  }
}
