/**
 * LE Secure Connections, Numeric Comparison, the SM as responder against a scripted initiator
 * that works every value out with the toolbox (f4 2.2.6, f5 2.2.7, f6 2.2.8, g2 2.2.9; each
 * checked against Vol 3 Part H Appendix D in crypto.test.ts). Our key pair is the SMP debug key
 * (2.3.5.6.1) so the Public Key PDU is known in advance. Both code profiles: NUMERIC_COMPARISON_REQUEST
 * v1.4 H1B4 (13 octets of parameters), v1.8 H1B14 (secure_connection 1, then the value).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sm_f4, sm_f5, sm_f6, sm_g2 } from '../../../src/sm/crypto.js';
import {
  sm_p256_debug_key_pair,
  sm_p256_dhkey,
  sm_p256_generate_key_pair,
  sm_p256_public_key_to_wire,
} from '../../../src/sm/p256.js';
import { ADDR_PEER, ADDR_US, SmHarness, h, x } from './sm-harness.js';

const rev = (v: Uint8Array): Uint8Array => Uint8Array.from(v).reverse();
const wire = (pk: Uint8Array): Uint8Array => {
  const w = new Uint8Array(64);
  sm_p256_public_key_to_wire(pk, w, 0);
  return w;
};
const le32 = (n: number): string => x(Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24));

for (const profile of ['v1.4', 'v1.8'] as const) {
  const v18 = profile === 'v1.8';
  const setup = (): { t: SmHarness; remote: ReturnType<typeof sm_p256_generate_key_pair>; ours: Uint8Array } => {
    const t = new SmHarness(profile);
    t.sm.sm_set_io_capabilities(1);
    t.sm.sm_set_authentication_requirements(0x0d);
    const debug = sm_p256_debug_key_pair();
    t.sm.state.key_pair = debug;
    t.connect(1);
    return { t, remote: sm_p256_generate_key_pair(), ours: debug.public_key };
  };

  test(`${profile}: SC Numeric Comparison as responder: Public Key, Cb, Nb, the 6-digit value, Eb, LTK (3.5.6-3.5.7)`, () => {
    const { t, remote, ours } = setup();
    assert.equal(t.pdu('01 01 00 0d 10 00 00'), [h('02 01 00 0d 10 00 00')]);
    const nb = t.peek_random(16);
    const pka = remote.public_key;
    const cb = sm_f4(ours.subarray(0, 32), pka.subarray(0, 32), nb, 0);
    assert.equal(t.pdu(`0c ${x(wire(pka))}`), [h(`0c ${x(wire(ours))}`), h(`03 ${x(rev(cb))}`)]);
    const na = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    assert.equal(t.pdu(`04 ${x(rev(na))}`), [h(`04 ${x(rev(nb))}`)]);
    const value = sm_g2(pka.subarray(0, 32), ours.subarray(0, 32), na, nb) % 1000000;
    assert.equal(t.events, [t.ev(0xd4, 9), v18 ? t.ev(0xcc, 14, `01 ${le32(value)}`) : t.ev(0xcc, 13, le32(value))]);
    t.sm.sm_numeric_comparison_confirm(t.con);
    const dhkey = sm_p256_dhkey(remote.private_key, ours)!;
    const A = { type: 0, addr: ADDR_PEER };
    const B = { type: 0, addr: ADDR_US };
    const { mac_key, ltk } = sm_f5(dhkey, na, nb, A, B);
    const ea = sm_f6(mac_key, na, nb, new Uint8Array(16), Uint8Array.of(0x0d, 0x00, 0x01), A, B);
    const eb = sm_f6(mac_key, nb, na, new Uint8Array(16), Uint8Array.of(0x0d, 0x00, 0x01), B, A);
    assert.equal(t.pdu(`0d ${x(rev(ea))}`), [h(`0d ${x(rev(eb))}`)]);
    t.ltk_request();
    assert.equal(
      t.cmds.map((c) => c.name),
      ['HCI_LE_Long_Term_Key_Request_Reply'],
    );
    assert.equal(x(t.cmds[0]!.args[1] as Uint8Array), x(rev(ltk)));
    t.encryption_change();
    assert.equal(t.events.at(-1), t.ev(0xd5, v18 ? 12 : 11, v18 ? '00 00 00' : '00 00'));
    assert.is(t.level(), 4, 'authenticated SC with a 16-octet key');
  });

  test(`${profile}: SC Numeric Comparison: a wrong Ea -> 0x0B; the user says no -> 0x0C; a wrong Cb (initiator) -> 0x04`, () => {
    {
      const { t, remote } = setup();
      t.pdu('01 01 00 0d 10 00 00');
      t.pdu(`0c ${x(wire(remote.public_key))}`);
      t.pdu(`04 ${'11'.repeat(16)}`);
      t.sm.sm_numeric_comparison_confirm(t.con);
      assert.equal(t.pdu(`0d ${'00'.repeat(16)}`), ['050b']);
      assert.ok(t.events.at(-1)!.startsWith(v18 ? 'd50c' : 'd50b') && t.events.at(-1)!.slice(22, 26) === '050b');
      assert.is(t.sm.le_device_db.le_device_db_count(), 0);
    }
    {
      const { t, remote } = setup();
      t.pdu('01 01 00 0d 10 00 00');
      t.pdu(`0c ${x(wire(remote.public_key))}`);
      t.pdu(`04 ${'11'.repeat(16)}`);
      t.sm.sm_bonding_decline(t.con);
      assert.equal(t.flush(), ['050c']);
    }
    {
      // as initiator: the responder's confirm does not match its nonce
      const t = new SmHarness(profile);
      t.sm.sm_set_io_capabilities(1);
      t.sm.sm_set_authentication_requirements(0x0d);
      const remote = sm_p256_generate_key_pair();
      t.connect(0);
      t.sm.sm_request_pairing(t.con);
      assert.equal(t.flush(), [h('01 01 00 0d 10 07 07')]);
      const out = t.pdu('02 01 00 0d 10 00 00');
      assert.is(out.length, 1);
      assert.is(out[0]!.slice(0, 2), '0c');
      t.pdu(`0c ${x(wire(remote.public_key))}`);
      const na = t.peek_random(16);
      assert.equal(t.pdu(`03 ${'77'.repeat(16)}`), [h(`04 ${x(rev(na))}`)]);
      assert.equal(t.pdu(`04 ${'88'.repeat(16)}`), ['0504']);
    }
  });
}

test.run();
