/**
 * Out-of-band pairing (Vol 3 Part H 2.3.5.1 Tables 2.6 / 2.7, 2.3.5.6.4), the SM as responder
 * against a scripted initiator, PDU by PDU, both code profiles: LE legacy OOB (TK from
 * sm_register_oob_data_callback; c1 / s1 checked against 2.2.3 / 2.2.4's examples in
 * crypto.test.ts) and LE Secure Connections OOB (sm_generate_sc_oob_data's C = f4(PKx, PKx, r, 0),
 * the peer's commitment checked against its Public Key, Na / Nb without confirms, Ea / Eb with
 * rb / ra; f4, f5, f6 checked against Appendix D). Our key pair is the SMP debug key (2.3.5.6.1).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, type BdAddr } from '../../../src/core/bytes.js';
import { sm_c1, sm_f4, sm_f5, sm_f6, sm_s1 } from '../../../src/sm/crypto.js';
import {
  sm_p256_debug_key_pair,
  sm_p256_dhkey,
  sm_p256_generate_key_pair,
  sm_p256_public_key_to_wire,
} from '../../../src/sm/p256.js';
import { sm_association_model } from '../../../src/sm/sm-pairing.js';
import { sm_parse_pairing } from '../../../src/sm/sm-pdu.js';
import { ADDR_PEER, ADDR_US, SmHarness, h, x } from './sm-harness.js';

const rev = (v: Uint8Array): Uint8Array => Uint8Array.from(v).reverse();
const wire = (pk: Uint8Array): Uint8Array => {
  const w = new Uint8Array(64);
  sm_p256_public_key_to_wire(pk, w, 0);
  return w;
};
const X = (pk: Uint8Array): Uint8Array => pk.subarray(0, 32);
const TK = fromHex('00112233445566778899aabbccddeeff');

test('association model with OOB flags: legacy needs both (Table 2.6), SC either (Table 2.7), before MITM / IO', () => {
  const p = (s: string) => sm_parse_pairing(fromHex(h(s)));
  // KeyboardDisplay both, MITM: Passkey / NC without OOB
  assert.is(sm_association_model(p('01 04 01 05 10 00 00'), p('02 04 01 05 10 00 00'), false), 'OOB');
  assert.is(sm_association_model(p('01 04 01 05 10 00 00'), p('02 04 00 05 10 00 00'), false), 'PK_RESP_INPUT');
  assert.is(sm_association_model(p('01 03 00 00 10 00 00'), p('02 03 01 00 10 00 00'), false), 'JW');
  assert.is(sm_association_model(p('01 04 00 0d 10 00 00'), p('02 04 01 0d 10 00 00'), true), 'OOB');
  assert.is(sm_association_model(p('01 03 01 08 10 00 00'), p('02 03 00 08 10 00 00'), true), 'OOB');
  assert.is(sm_association_model(p('01 04 00 0d 10 00 00'), p('02 04 00 0d 10 00 00'), true), 'NC');
});

for (const profile of ['v1.4', 'v1.8'] as const) {
  const v18 = profile === 'v1.8';
  const complete = (t: SmHarness, status: number, reason: number): string =>
    t.ev(
      0xd5,
      v18 ? 12 : 11,
      `${status.toString(16).padStart(2, '0')} ${reason.toString(16).padStart(2, '0')} ${v18 ? '00' : ''}`,
    );

  test(`${profile}: legacy OOB as responder: OOB flag 1 in the Pairing Response, TK from the callback, no user event, level 3`, () => {
    const t = new SmHarness(profile);
    t.sm.sm_set_io_capabilities(3);
    t.sm.sm_set_authentication_requirements(0x05); // Bonding | MITM
    const asked: [number, string][] = [];
    t.sm.sm_register_oob_data_callback((type: number, addr: BdAddr, oob: Uint8Array) => {
      asked.push([type, x(addr)]);
      oob.set(TK);
      return 1;
    });
    t.connect(1);
    const req = '01 03 01 05 10 00 00';
    const res = '02 03 01 05 10 00 00';
    assert.equal(t.pdu(req), [h(res)], 'OOB data flag 1');
    assert.equal(asked, [[0, x(ADDR_PEER)]], 'asked once, for the peer');
    assert.equal(t.events, [t.ev(0xd4, 9)], 'PAIRING_STARTED only: OOB asks the user nothing');
    const c1 = (r: Uint8Array): Uint8Array => sm_c1(TK, r, rev(fromHex(h(req))), rev(fromHex(h(res))), 0, 0, ADDR_PEER, ADDR_US);
    const mrand = fromHex('0f0e0d0c0b0a09080706050403020100');
    const srand = t.peek_random(16);
    assert.equal(t.pdu(`03 ${x(rev(c1(mrand)))}`), [h(`03 ${x(rev(c1(srand)))}`)], 'Sconfirm with the OOB TK');
    assert.equal(t.pdu(`04 ${x(rev(mrand))}`), [h(`04 ${x(rev(srand))}`)]);
    t.ltk_request();
    assert.is(t.cmds[0]!.name, 'HCI_LE_Long_Term_Key_Request_Reply');
    assert.equal(x(t.cmds[0]!.args[1] as Uint8Array), x(rev(sm_s1(TK, srand, mrand))), 'STK = s1(TK, Srand, Mrand)');
    t.encryption_change();
    assert.equal(t.events.at(-1), complete(t, 0, 0));
    assert.is(t.level(), 3, 'OOB is authenticated');
  });

  test(`${profile}: legacy OOB: only one side has data -> IO capabilities decide; a wrong TK on the peer -> 0x04`, () => {
    // we have data, the peer not: Just Works (both NoInputNoOutput)
    let t = new SmHarness(profile);
    t.sm.sm_set_io_capabilities(3);
    t.sm.sm_set_authentication_requirements(0x01);
    t.sm.sm_register_oob_data_callback((_t, _a, oob) => (oob.set(TK), 1));
    t.connect(1);
    assert.equal(t.pdu('01 03 00 01 10 00 00'), [h('02 03 01 01 10 00 00')]);
    assert.equal(t.events, [t.ev(0xd4, 9), v18 ? t.ev(0xc8, 10, '00') : t.ev(0xc8, 9)], 'JUST_WORKS_REQUEST');
    // both have data, but the peer's TK differs: its Mconfirm does not match -> Confirm Value Failed
    t = new SmHarness(profile);
    t.sm.sm_register_oob_data_callback((_t, _a, oob) => (oob.set(TK), 1));
    t.connect(1);
    const req = '01 03 01 00 10 00 00';
    const res = '02 03 01 00 10 00 00';
    assert.equal(t.pdu(req), [h(res)]);
    const other = fromHex('ffeeddccbbaa99887766554433221100');
    const mrand = new Uint8Array(16).fill(7);
    const mconfirm = sm_c1(other, mrand, rev(fromHex(h(req))), rev(fromHex(h(res))), 0, 0, ADDR_PEER, ADDR_US);
    assert.equal(t.pdu(`03 ${x(rev(mconfirm))}`).length, 1, 'Sconfirm');
    assert.equal(t.pdu(`04 ${x(rev(mrand))}`), [h('05 04')]);
    assert.equal(t.events.at(-1), complete(t, 0x05, 0x04));
  });

  test(`${profile}: OOB flags both set but the pairing is legacy and we have only SC OOB data -> 0x02 OOB Not Available`, () => {
    const t = new SmHarness(profile);
    t.sm.sm_set_authentication_requirements(0x09); // Bonding | SC
    t.sm.sm_register_sc_oob_data_callback((_t, _a, c, r) => (c.fill(1), r.fill(2), 1));
    t.connect(1);
    // the peer does not set SC: legacy, both OOB flags -> OOB, but there is no TK
    assert.equal(t.pdu('01 03 01 01 10 00 00'), [h('02 03 01 09 10 00 00'), h('05 02')]);
    assert.equal(t.events.at(-1), complete(t, 0x05, 0x02));
  });

  const sc_setup = () => {
    const t = new SmHarness(profile);
    t.sm.sm_set_io_capabilities(3);
    t.sm.sm_set_authentication_requirements(0x09); // Bonding | SC
    const debug = sm_p256_debug_key_pair();
    t.sm.state.key_pair = debug;
    return { t, ours: debug.public_key, remote: sm_p256_generate_key_pair() };
  };

  test(`${profile}: sm_generate_sc_oob_data: C = f4(PKx, PKx, r, 0) with our key, on the run loop`, () => {
    const { t, ours } = sc_setup();
    const r = t.peek_random(16);
    let got: [string, string] | null = null;
    assert.is(
      t.sm.sm_generate_sc_oob_data((c, rv) => (got = [x(c), x(rv)])),
      0,
    );
    assert.is(got, null, 'not within the call');
    t.rl.run(0);
    assert.equal(got, [x(sm_f4(X(ours), X(ours), r, 0)), x(r)]);
  });

  test(`${profile}: SC OOB as responder, both sides hold the other's data: no confirms, Na / Nb, Ea with rb, Eb with ra, level 4`, () => {
    const { t, ours, remote } = sc_setup();
    let rb: Uint8Array = new Uint8Array(16);
    t.sm.sm_generate_sc_oob_data((_c, r) => (rb = r));
    t.rl.run(0);
    const ra = fromHex('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf');
    const pka = remote.public_key;
    const ca = sm_f4(X(pka), X(pka), ra, 0);
    const seen: string[] = [];
    t.sm.sm_register_sc_oob_data_callback((type, addr, c, r) => {
      seen.push(`${type}/${x(addr)}`);
      c.set(ca);
      r.set(ra);
      return 1;
    });
    t.connect(1);
    assert.equal(t.pdu('01 03 01 09 10 00 00'), [h('02 03 01 09 10 00 00')]);
    assert.equal(seen, [`0/${x(ADDR_PEER)}`]);
    assert.equal(t.pdu(`0c ${x(wire(pka))}`), [h(`0c ${x(wire(ours))}`)], 'our Public Key, and no Pairing Confirm');
    const na = fromHex('000102030405060708090a0b0c0d0e0f').reverse();
    const nb = t.peek_random(16);
    assert.equal(t.pdu(`04 ${x(rev(na))}`), [h(`04 ${x(rev(nb))}`)], 'Nb answers Na');
    assert.equal(t.events, [t.ev(0xd4, 9)], 'no user event');
    const dhkey = sm_p256_dhkey(remote.private_key, ours)!;
    const A = { type: 0, addr: ADDR_PEER };
    const B = { type: 0, addr: ADDR_US };
    const { mac_key, ltk } = sm_f5(dhkey, na, nb, A, B);
    const ea = sm_f6(mac_key, na, nb, rb, Uint8Array.of(0x09, 0x01, 0x03), A, B);
    const eb = sm_f6(mac_key, nb, na, ra, Uint8Array.of(0x09, 0x01, 0x03), B, A);
    assert.equal(t.pdu(`0d ${x(rev(ea))}`), [h(`0d ${x(rev(eb))}`)]);
    t.ltk_request();
    assert.equal(x(t.cmds[0]!.args[1] as Uint8Array), x(rev(ltk)));
    t.encryption_change();
    assert.equal(t.events.at(-1), complete(t, 0, 0));
    assert.is(t.level(), 4, 'SC OOB: authenticated, level 4');
  });

  test(`${profile}: SC OOB, the peer has no data of ours (flag 0): our r is 0 in Ea; a commitment not matching the Public Key -> 0x04`, () => {
    let { t, ours, remote } = sc_setup();
    const ra = new Uint8Array(16).fill(0x5a);
    const pka = remote.public_key;
    t.sm.sm_generate_sc_oob_data(() => {});
    t.rl.run(0);
    t.sm.sm_register_sc_oob_data_callback((_t, _a, c, r) => (c.set(sm_f4(X(pka), X(pka), ra, 0)), r.set(ra), 1));
    t.connect(1);
    assert.equal(t.pdu('01 03 00 09 10 00 00'), [h('02 03 01 09 10 00 00')]);
    t.pdu(`0c ${x(wire(pka))}`);
    const na = new Uint8Array(16).fill(0x11);
    const nb = t.peek_random(16);
    t.pdu(`04 ${x(rev(na))}`);
    const dhkey = sm_p256_dhkey(remote.private_key, ours)!;
    const A = { type: 0, addr: ADDR_PEER };
    const B = { type: 0, addr: ADDR_US };
    const { mac_key } = sm_f5(dhkey, na, nb, A, B);
    const ea = sm_f6(mac_key, na, nb, new Uint8Array(16), Uint8Array.of(0x09, 0x00, 0x03), A, B);
    const eb = sm_f6(mac_key, nb, na, ra, Uint8Array.of(0x09, 0x01, 0x03), B, A);
    assert.equal(t.pdu(`0d ${x(rev(ea))}`), [h(`0d ${x(rev(eb))}`)], 'rb = 0 since the peer could not have ours');

    // a commitment that does not fit the Public Key the peer sends
    ({ t, ours, remote } = sc_setup());
    const other = sm_p256_generate_key_pair().public_key;
    t.sm.sm_register_sc_oob_data_callback((_t, _a, c, r) => (c.set(sm_f4(X(other), X(other), ra, 0)), r.set(ra), 1));
    t.connect(1);
    t.pdu('01 03 00 09 10 00 00');
    assert.equal(t.pdu(`0c ${x(wire(remote.public_key))}`), [h(`0c ${x(wire(ours))}`), h('05 04')]);
    assert.equal(t.events.at(-1), complete(t, 0x05, 0x04));
  });
}

test.run();
