/**
 * LE privacy in the Security Manager (Vol 3 Part C 10.7, Vol 3 Part H 2.4.2.1, Vol 6 Part B 1.3.2):
 *
 * - Our keys as BTstack keeps them: the Identity Root IR and Encryption Root ER (16 random octets
 *   each, or the app's: sm_set_ir / sm_set_er), the IRK = d1(IR, 1, 0) we distribute and make our
 *   resolvable private addresses from, and DHK = d1(IR, 3, 0). With a TLV store (`set_tlv`), IR and
 *   ER live under 'SMIR' / 'SMER' ('S' 'M' tags are the SM's, src/core/tlv.ts): read when present,
 *   else the current ones are stored, so the IRK and thus our identity survive a restart.
 * - GAP's resolvable private addresses: the SM hands GAP `sm_rpa_generate(irk)` (gap-le.ts rotates).
 * - Peers' addresses resolved against the bonds (le device db entries): on every LE connection, as
 *   BTstack, SM_EVENT_IDENTITY_RESOLVING_STARTED then _SUCCEEDED (the identity address and db
 *   index) or _FAILED; a bond matches by its identity address, or when the connection's address is
 *   a resolvable private address generated from the bond's IRK (ah). The connection's bond index and
 *   identity are known at once (re-encryption and LTK requests use them); the events follow from the
 *   run loop, after the LE Connection Complete reached every handler (BTstack resolves in sm_run).
 *   HciConnection.identity_addr / _type get the identity, so hci_connection_for_bd_addr_and_type
 *   finds the link by it. sm_address_resolution_lookup resolves any address (advertising reports)
 *   with the same events and con_handle 0.
 * - SM_EVENT_IDENTITY_CREATED after a bond was stored, with its identity address and index.
 *
 * Component of sm.ts. With the controller's resolving list (gap_load_resolving_list_from_le_device_db,
 * src/hci/gap-le-privacy.ts) a resolved peer arrives with address type 0x02 / 0x03 and its identity
 * address: the lookup finds its bond by that address (types mapped to 0 / 1, as BTstack's), the
 * events carry type 0x02 / 0x03; the pairing functions use its RPA (SmConnection.peer_rpa).
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';
import { btstack_tag32, type BtstackTlv } from '../core/tlv.js';
import { sm_d1, sm_rpa_resolve } from './crypto.js';
import type { SmEvents } from './sm-events.js';
import type { SmConnection, SmState } from './sm-state.js';

/** TLV tags of our Identity Root and Encryption Root. */
export const SM_TLV_TAG_IR = btstack_tag32('S', 'M', 'I', 'R');
export const SM_TLV_TAG_ER = btstack_tag32('S', 'M', 'E', 'R');

function zero(v: Uint8Array): boolean {
  return v.every((b) => b === 0);
}

export class SmPrivacy {
  private tlv: BtstackTlv | null = null;

  constructor(
    private readonly s: SmState,
    private readonly ev: SmEvents,
  ) {
    this.derive();
  }

  // ================================================================ our keys

  /** IRK = d1(IR, 1, 0), DHK = d1(IR, 3, 0) (Vol 3 Part H Appendix B.2.2). */
  private derive(): void {
    this.s.irk = sm_d1(this.s.ir, 1, 0);
    this.s.dhk = sm_d1(this.s.ir, 3, 0);
  }

  set_ir(ir: Uint8Array): void {
    this.s.ir = ir.slice();
    this.derive();
    this.store();
  }

  set_er(er: Uint8Array): void {
    this.s.er = er.slice();
    this.store();
  }

  /** Keep IR / ER in `tlv`: adopt the stored ones, else store ours. */
  set_tlv(tlv: BtstackTlv | null): void {
    this.tlv = tlv;
    if (!tlv) return;
    const ir = tlv.get_tag(SM_TLV_TAG_IR);
    const er = tlv.get_tag(SM_TLV_TAG_ER);
    if (ir && ir.length === 16) this.s.ir = ir.slice();
    if (er && er.length === 16) this.s.er = er.slice();
    this.derive();
    if (!ir || ir.length !== 16 || !er || er.length !== 16) this.store();
  }

  private store(): void {
    const t = this.tlv;
    if (!t) return;
    const a = t.store_tag(SM_TLV_TAG_IR, this.s.ir);
    const b = t.store_tag(SM_TLV_TAG_ER, this.s.er);
    if (a !== 0 || b !== 0) this.s.log.error(`sm: IR / ER not stored (0x${(a || b).toString(16)})`);
  }

  // ================================================================ resolving peers

  /**
   * The bond of (addr_type, addr), or -1: an entry with that identity address, or (random
   * addresses) one whose IRK generated it. Entries in index order, as BTstack's lookup.
   */
  lookup(addr_type: number, addr: BdAddr): number {
    const db = this.s.db;
    const n = db.le_device_db_max_count();
    for (let i = 0; i < n; i++) {
      const info = db.le_device_db_info(i);
      if (!info) continue;
      if ((info.addr_type & 1) === (addr_type & 1) && bd_addr_cmp(info.addr, addr) === 0) return i;
      if ((addr_type & 1) === 0 || zero(info.irk)) continue; // a public address is not resolvable
      if (sm_rpa_resolve(info.irk, addr)) return i;
    }
    return -1;
  }

  /** A new LE connection: find the peer's bond now, report it from the run loop. */
  connected(c: SmConnection): void {
    const index = this.lookup(c.peer_addr_type, c.peer_addr);
    const info = index >= 0 ? this.s.db.le_device_db_info(index) : null;
    if (info) {
      c.db_index = index;
      this.set_identity(c, info.addr_type, info.addr);
    }
    const handle = c.con_handle;
    const addr_type = c.peer_addr_type;
    const addr = c.peer_addr.slice();
    this.s.run_loop.execute_on_main_thread(() => {
      // the link may be gone already: BTstack reports the lookup it started all the same
      this.ev.identity_resolving('started', handle, addr_type, addr);
      const now = this.s.db.le_device_db_info(index);
      if (index >= 0 && now) this.ev.identity_resolving('succeeded', handle, addr_type, addr, now.addr_type, now.addr, index);
      else this.ev.identity_resolving('failed', handle, addr_type, addr);
    });
  }

  /** BTstack's sm_address_resolution_lookup: resolve an address seen on the air (events with handle 0). */
  address_resolution_lookup(addr_type: number, addr: BdAddr): number {
    const a = addr.slice();
    this.s.run_loop.execute_on_main_thread(() => {
      this.ev.identity_resolving('started', 0, addr_type, a);
      const index = this.lookup(addr_type, a);
      const info = index >= 0 ? this.s.db.le_device_db_info(index) : null;
      if (info) this.ev.identity_resolving('succeeded', 0, addr_type, a, info.addr_type, info.addr, index);
      else this.ev.identity_resolving('failed', 0, addr_type, a);
    });
    return 0;
  }

  /** The connection's peer is (addr_type, addr): on the SM record and the HCI connection. */
  set_identity(c: SmConnection, addr_type: number, addr: BdAddr): void {
    c.identity_addr_type = addr_type;
    c.identity_addr = addr.slice();
    const conn = this.s.hci.hci_connection_for_handle(c.con_handle);
    if (conn) {
      conn.identity_addr = addr.slice();
      conn.identity_addr_type = addr_type;
    }
  }

  /** A bond was stored at `index`: the identity is known, SM_EVENT_IDENTITY_CREATED. */
  identity_created(c: SmConnection, index: number): void {
    const info = this.s.db.le_device_db_info(index);
    if (!info) return;
    this.set_identity(c, info.addr_type, info.addr);
    // BTstack (ENABLE_LE_PRIVACY_ADDRESS_RESOLUTION): the new bond into the controller's resolving list
    this.s.hci.gap.hci_load_le_device_db_entry_into_resolving_list?.(index);
    this.ev.identity_created(c, info.addr_type, info.addr, index);
  }
}
