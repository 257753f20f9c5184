/**
 * Privacy pieces of the Security Manager: d1 (Vol 3 Part H Appendix B.2.1: d' = padding || r ||
 * d, checked as e() of the spec's layout; e itself is checked with the spec's vectors in
 * crypto.test.ts) and the IRK = d1(IR, 1, 0) derivation, IR / ER kept in a TLV store, and
 * sm_address_resolution_lookup against several bonds' IRKs (the RPA from Appendix D.7's IRK and
 * prand, others not matching, identity addresses, public addresses never resolved by IRK).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex, little_endian_read_16, reverse_bd_addr, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { btstack_tlv_memory_instance } from '../../../src/core/tlv.js';
import { RadioLink } from '../../../src/controller/index.js';
import { Stack } from '../../../src/stack.js';
import { sm_d1, sm_e, sm_rpa_generate } from '../../../src/sm/crypto.js';
import { SM_TLV_TAG_ER, SM_TLV_TAG_IR } from '../../../src/sm/sm-privacy.js';
import { VirtualTransport } from '../../../ports/virtual/transport.js';

const h = (s: string): Uint8Array => fromHex(s.replace(/ /g, ''));
const x = (b: Uint8Array): string => hex(b).replace(/ /g, '');
/** The IRK of Appendix D.7 (ah sample data). */
const IRK_D7 = 'ec0234a3 57c8ad05 341010a6 0a397d9b';

test('d1(k, d, r) = e(k, padding || r || d); IRK = d1(IR, 1, 0), DHK = d1(IR, 3, 0)', () => {
  const k = h(IRK_D7);
  assert.is(x(sm_d1(k, 1, 0)), x(sm_e(k, h('00000000 00000000 00000000 00000001'))));
  assert.is(x(sm_d1(k, 3, 0)), x(sm_e(k, h('00000000 00000000 00000000 00000003'))));
  assert.is(x(sm_d1(k, 0x0304, 0x0102)), x(sm_e(k, h('00000000 00000000 00000000 01020304'))));
  assert.throws(() => sm_d1(k.subarray(1), 1, 0), TypeError);
});

function stack(): { rl: VirtualRunLoop; s: Stack } {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'sm-privacy-unit' });
  const c = link.create_controller({ bd_addr: sscanf_bd_addr('AA:00:00:00:00:01')!, name: 'a' });
  return { rl, s: new Stack({ transport: new VirtualTransport(c), run_loop: rl }) };
}

test('our IRK follows IR; IR / ER adopted from the TLV store, else stored there', () => {
  const { s } = stack();
  const ir = h('00112233 44556677 8899aabb ccddeeff');
  s.sm.sm_set_ir(ir);
  assert.is(x(s.sm.irk), x(sm_d1(ir, 1, 0)));
  const tlv = btstack_tlv_memory_instance();
  s.sm.set_tlv(tlv);
  assert.is(x(tlv.get_tag(SM_TLV_TAG_IR)!), x(ir), 'IR stored');
  assert.is(tlv.get_tag(SM_TLV_TAG_ER)!.length, 16, 'ER stored');
  // a second stack with the same store: the same IRK
  const other = stack().s;
  other.sm.set_tlv(tlv);
  assert.is(x(other.sm.irk), x(sm_d1(ir, 1, 0)));
  assert.throws(() => s.sm.sm_set_ir(new Uint8Array(15)), TypeError);
});

test('sm_address_resolution_lookup: resolved against several bonds IRKs, STARTED then SUCCEEDED / FAILED', () => {
  const { rl, s } = stack();
  const db = s.sm.le_device_db;
  const irk1 = h('11'.repeat(16));
  const irk2 = h(IRK_D7);
  const irk3 = h('33'.repeat(16));
  const id = (n: number) => sscanf_bd_addr(`C0:00:00:00:00:0${n}`)!;
  assert.is(db.le_device_db_add(0, id(1), irk1), 0);
  assert.is(db.le_device_db_add(0, id(4), null), 1); // a bond without IRK
  assert.is(db.le_device_db_add(1, id(2), irk2), 2); // static random identity
  assert.is(db.le_device_db_add(0, id(3), irk3), 3);
  const events: Uint8Array[] = [];
  s.sm.sm_add_event_handler({ callback: (_t, _c, p, n) => events.push(p.slice(0, n)) });
  const lookup = (type: number, addr: Uint8Array): Uint8Array[] => {
    events.length = 0;
    assert.is(s.sm.sm_address_resolution_lookup(type, addr), 0);
    rl.run(0);
    return events.slice();
  };
  // Appendix D.7's RPA 70:81:94:0D:FB:AA belongs to the bond with that IRK (index 2)
  const rpa = h('708194 0dfbaa');
  let ev = lookup(1, rpa);
  assert.equal(
    ev.map((e) => e[0]),
    [0xcd, 0xcf],
  );
  assert.is(x(ev[0]!), x(h(`cd 09 0000 01 aafb0d948170`)), 'STARTED: handle 0, type, address (LSB first)');
  // SUCCEEDED: handle 0, the RPA, identity type 1 and address C0:00:00:00:00:02 (LSB first), index 2
  assert.is(x(ev[1]!), x(h('cf 12 0000 01 aafb0d948170 01 0200000000c0 0200')));
  assert.is(little_endian_read_16(ev[1]!, 18), 2);
  // RPAs of the other IRKs resolve to their bonds
  for (const [irk, index] of [
    [irk1, 0],
    [irk3, 3],
  ] as const) {
    ev = lookup(1, sm_rpa_generate(irk));
    assert.is(ev[1]![0], 0xcf);
    assert.is(little_endian_read_16(ev[1]!, 18), index);
    assert.is(x(reverse_bd_addr(ev[1]!, 12)), x(db.le_device_db_info(index)!.addr));
  }
  // an RPA of an unknown IRK, a non-resolvable address, a changed hash: FAILED
  for (const a of [sm_rpa_generate(h('44'.repeat(16))), h('308194 0dfbaa'), h('708194 0dfbab')]) {
    ev = lookup(1, a);
    assert.equal(
      ev.map((e) => e[0]),
      [0xcd, 0xce],
      x(a),
    );
  }
  // identity addresses are found as such; a public address is never tried against IRKs
  assert.is(little_endian_read_16(lookup(0, id(4))[1]!, 18), 1);
  assert.is(little_endian_read_16(lookup(1, id(2))[1]!, 18), 2);
  assert.is(lookup(0, rpa)[1]![0], 0xce, 'public type: no IRK match');
});

test.run();
