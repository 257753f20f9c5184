/**
 * Out-of-band pairing data (Vol 3 Part H 2.3.5.1, 2.3.5.6.4), BTstack's OOB hooks:
 *
 *   sm_register_oob_data_callback((address_type, addr, oob_data) => 1 | 0)
 *       LE legacy OOB: write the 16-octet TK (MSB first) into oob_data, return 1 when there is one
 *       for this peer. Used when both sides set the OOB flag (Table 2.6).
 *   sm_register_sc_oob_data_callback((address_type, addr, peer_confirm, peer_random) => 1 | 0)
 *       LE Secure Connections OOB: the peer's confirm Cx = f4(PKx, PKx, rx, 0) and random rx as the
 *       peer's sm_generate_sc_oob_data gave them (16 octets each, MSB first). Used when either side
 *       sets the OOB flag (Table 2.7).
 *   sm_generate_sc_oob_data((confirm, random) => void)
 *       our own confirm and random for the peer, from our P-256 key; the callback runs on the run loop.
 *
 * The OOB flag of our Pairing Request / Response says we hold OOB data for this peer. In SC OOB,
 * a side holding the peer's data checks the peer's commitment against its Public Key (mismatch:
 * 0x04 Confirm Value Failed); the r a side did not get is 0, and so is our own r when the peer
 * says it has no data from us. Component of sm.ts, used by sm-pairing.ts.
 */
import { SM_AUTHREQ_SECURE_CONNECTION } from '../codes/v1.4.js';
import type { BdAddr } from '../core/bytes.js';
import { sm_f4 } from './crypto.js';
import { sm_p256_generate_key_pair } from './p256.js';
import type { SmConnection, SmState } from './sm-state.js';

/** BTstack's get_oob_data_callback: fill oob_data (TK, 16 octets), return 1; 0 when there is none. */
export type SmOobDataCallback = (address_type: number, addr: BdAddr, oob_data: Uint8Array) => number;
/** BTstack's get_sc_oob_data_callback: fill the peer's confirm and random (16 octets each), return 1; 0: none. */
export type SmScOobDataCallback = (
  address_type: number,
  addr: BdAddr,
  oob_sc_peer_confirm: Uint8Array,
  oob_sc_peer_random: Uint8Array,
) => number;
/** BTstack's sm_generate_sc_oob_data callback: our confirm and random (16 octets each, MSB first). */
export type SmScOobGenerateCallback = (confirm_value: Uint8Array, random_value: Uint8Array) => void;

const X = (pk: Uint8Array): Uint8Array => pk.subarray(0, 32);

function equal(a: Uint8Array, b: Uint8Array): boolean {
  let d = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export class SmOob {
  constructor(private readonly s: SmState) {}

  /** sm_generate_sc_oob_data: a new random r and C = f4(PKx, PKx, r, 0) with our key; 0. */
  generate(callback: SmScOobGenerateCallback): number {
    const s = this.s;
    const pk = (s.key_pair ??= sm_p256_generate_key_pair()).public_key;
    const r = s.random(16);
    const confirm = sm_f4(X(pk), X(pk), r, 0);
    s.oob_sc_local_random = r;
    s.run_loop.execute_on_main_thread(() => callback(confirm.slice(), r.slice()));
    return 0;
  }

  /** Ask the application for OOB data for this peer (at the start of phase 1); the OOB flag we send. */
  lookup(c: SmConnection, auth_req: number): number {
    const st = this.s.settings;
    c.oob_tk = null;
    c.oob_peer_confirm = c.oob_peer_random = null;
    if (st.sc_oob_data_callback && auth_req & SM_AUTHREQ_SECURE_CONNECTION) {
      const confirm = new Uint8Array(16);
      const random = new Uint8Array(16);
      if (st.sc_oob_data_callback(c.peer_addr_type, c.peer_addr.slice(), confirm, random) === 1) {
        c.oob_peer_confirm = confirm;
        c.oob_peer_random = random;
      }
    }
    if (st.oob_data_callback) {
      const tk = new Uint8Array(16);
      if (st.oob_data_callback(c.peer_addr_type, c.peer_addr.slice(), tk) === 1) c.oob_tk = tk;
    }
    return c.oob_tk || c.oob_peer_confirm ? 1 : 0;
  }

  /**
   * SC OOB, the peer's Public Key is in: check its commitment when we hold its data and fix ra / rb
   * (ours: the random of sm_generate_sc_oob_data when the peer's OOB flag says it has it, else 0).
   * False: the commitment does not match.
   */
  sc_public_key(c: SmConnection, peer_pk: Uint8Array): boolean {
    const peer_flag = (c.role === 0 ? c.pres : c.preq)[2]!;
    const local = peer_flag && this.s.oob_sc_local_random ? this.s.oob_sc_local_random.slice() : new Uint8Array(16);
    let peer: Uint8Array = new Uint8Array(16);
    if (c.oob_peer_confirm && c.oob_peer_random) {
      if (!equal(sm_f4(X(peer_pk), X(peer_pk), c.oob_peer_random, 0), c.oob_peer_confirm)) return false;
      peer = c.oob_peer_random;
    }
    c.oob_ra = c.role === 0 ? local : peer;
    c.oob_rb = c.role === 0 ? peer : local;
    return true;
  }
}
