/**
 * The Security Manager PDU by PDU against a scripted remote (sm-harness.ts), in both code
 * profiles. SMP PDUs as Core Vol 3 Part H 3.5-3.6 lay them out (code, then parameters least
 * significant octet first); confirm / random / key values worked out with the toolbox (c1, s1
 * are checked against 2.2.3 / 2.2.4's examples in crypto.test.ts). SM events byte for byte with
 * the reference tables' layouts: v1.4 JUST_WORKS_REQUEST H1B (9 octets of parameters),
 * PAIRING_COMPLETE H1B11; v1.8 adds the secure_connection octet and ctkd_active.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex } from '../../../src/core/bytes.js';
import { sm_c1, sm_s1 } from '../../../src/sm/crypto.js';
import { sm_p256_debug_key_pair, sm_p256_public_key_to_wire } from '../../../src/sm/p256.js';
import { ADDR_PEER, ADDR_US, SmHarness, h, x } from './sm-harness.js';

const PROFILES = ['v1.4', 'v1.8'] as const;
const rev = (v: Uint8Array): Uint8Array => Uint8Array.from(v).reverse();
const PREQ = '01 03 00 01 10 07 07'; // NoInputNoOutput, no OOB, Bonding, 16 octets, EncKey|IdKey|Sign both ways
const PRES = '02 03 00 01 10 07 07';

function responder(profile: (typeof PROFILES)[number], auth = 0x01, io = 3): SmHarness {
  const t = new SmHarness(profile);
  t.sm.sm_set_io_capabilities(io);
  t.sm.sm_set_authentication_requirements(auth);
  t.connect(1);
  return t;
}

for (const profile of PROFILES) {
  const v18 = profile === 'v1.8';
  const started = (t: SmHarness): string => t.ev(0xd4, 9);
  const jw = (t: SmHarness): string => (v18 ? t.ev(0xc8, 10, '00') : t.ev(0xc8, 9));
  const complete = (t: SmHarness, status: number, reason: number): string =>
    t.ev(
      0xd5,
      v18 ? 12 : 11,
      `${status.toString(16).padStart(2, '0')} ${reason.toString(16).padStart(2, '0')} ${v18 ? '00' : ''}`,
    );

  test(`${profile}: legacy Just Works as responder, every PDU and event (3.5.1-3.5.4, 3.6.2-3.6.6)`, () => {
    const t = responder(profile);
    assert.equal(t.pdu(PREQ), [h(PRES)]);
    assert.equal(t.events, [started(t), jw(t)]);
    t.sm.sm_just_works_confirm(t.con);
    const preq = rev(fromHex(h(PREQ)));
    const pres = rev(fromHex(h(PRES)));
    const tk = new Uint8Array(16);
    const mrand = fromHex('aabbccddeeff00112233445566778899');
    const c1 = (r: Uint8Array): Uint8Array => sm_c1(tk, r, preq, pres, 0, 0, ADDR_PEER, ADDR_US);
    const srand = t.peek_random(16);
    assert.equal(t.pdu(`03 ${x(rev(c1(mrand)))}`), [h(`03 ${x(rev(c1(srand)))}`)], 'Sconfirm');
    assert.equal(t.pdu(`04 ${x(rev(mrand))}`), [h(`04 ${x(rev(srand))}`)], 'Srand');
    // the central encrypts with the STK: EDIV 0, Rand 0
    t.ltk_request();
    const stk = sm_s1(tk, srand, mrand);
    assert.equal(t.cmds.length, 1);
    assert.is(t.cmds[0]!.name, 'HCI_LE_Long_Term_Key_Request_Reply');
    assert.equal(x(t.cmds[0]!.args[1] as Uint8Array), x(rev(stk)));
    // encrypted: the responder's keys first, in the spec's order
    const ltk = t.peek_random(16);
    const r = t.peek_random(10, 16);
    t.encryption_change();
    assert.equal(t.flush(), [
      h(`06 ${x(rev(ltk))}`),
      h(`07 ${x(r)}`), // EDIV (2, LSB first) then Rand (8) as drawn
      h(`08 ${'11'.repeat(16)}`),
      h(`09 00 ${x(rev(ADDR_US))}`),
      h(`0a ${'22'.repeat(16)}`),
    ]);
    assert.is(t.level(), 2, 'level 2 (unauthenticated) as soon as encrypted');
    assert.equal(t.events.length, 2, 'no PAIRING_COMPLETE before the initiator keys');
    // the initiator's keys
    t.pdu(`06 ${'33'.repeat(16)}`);
    t.pdu('07 3412 0102030405060708');
    t.pdu(`08 ${'44'.repeat(16)}`);
    t.pdu(`09 00 ${x(rev(ADDR_PEER))}`);
    assert.equal(t.pdu(`0a ${'55'.repeat(16)}`), []);
    // the bond is stored, SM_EVENT_IDENTITY_CREATED (identity address = the one distributed, db index 0), then complete
    const created = t.ev(0xd3, 18, `00 ${x(rev(ADDR_PEER))} 0000`);
    assert.equal(t.events, [started(t), jw(t), created, complete(t, 0, 0)]);
    const db = t.sm.le_device_db;
    const i = db.le_device_db_lookup(0, ADDR_PEER);
    assert.ok(i >= 0);
    assert.equal(x(db.le_device_db_info(i)!.irk), '44'.repeat(16));
    assert.equal(x(db.le_device_db_encryption_get(i)!.ltk), '33'.repeat(16));
    assert.is(db.le_device_db_encryption_get(i)!.ediv, 0x1234);
    assert.equal(x(db.le_device_db_local_encryption_get(i)!.ltk), x(ltk));
    assert.equal(x(db.le_device_db_remote_csrk_get(i)!), '55'.repeat(16));
    // reconnect: the central re-encrypts with our EDIV / Rand -> our LTK, REENCRYPTION_* events
    t.l2.disconnect(t.con);
    t.rl.run(0);
    t.connect(1);
    t.events.length = 0;
    t.ltk_request(r.slice(2, 10), r[0]! | (r[1]! << 8));
    assert.equal(x(t.cmds.at(-1)!.args[1] as Uint8Array), x(rev(ltk)));
    t.encryption_change();
    assert.equal(t.events, [t.ev(0xd6, 9), t.ev(0xd7, 10, '00')]);
    // an unknown EDIV gets a negative reply
    t.ltk_request(new Uint8Array(8), 0x9999);
    assert.is(t.cmds.at(-1)!.name, 'HCI_LE_Long_Term_Key_Request_Negative_Reply');
  });

  test(`${profile}: legacy Passkey Entry as responder, showing (PASSKEY_DISPLAY_NUMBER) and typing (PASSKEY_INPUT_NUMBER)`, () => {
    const mrand = fromHex('0102030405060708090a0b0c0d0e0f10');
    for (const [io, req, ev] of [
      [0, '01 02 00 05 10 00 00', 'display'],
      [2, '01 00 00 05 10 00 00', 'input'],
    ] as const) {
      const t = responder(profile, 0x05, io);
      t.sm.sm_use_fixed_passkey_in_display_role(123456);
      const pres = `02 0${io} 00 05 10 00 00`;
      assert.equal(t.pdu(req), [h(pres)]);
      const passkey = ev === 'display' ? 123456 : 999999;
      const tk = new Uint8Array(16);
      new DataView(tk.buffer).setUint32(12, passkey);
      // PASSKEY_DISPLAY_NUMBER: H1B4 (v1.4) / H1B14 (v1.8, secure_connection 0); the passkey LE 32
      const shown = v18 ? t.ev(0xc9, 14, '00 40 e2 01 00') : t.ev(0xc9, 13, '40 e2 01 00');
      const asked = v18 ? t.ev(0xcb, 10, '00') : t.ev(0xcb, 9);
      assert.equal(t.events, [started(t), ev === 'display' ? shown : asked]);
      const c1 = (r: Uint8Array): Uint8Array =>
        sm_c1(tk, r, rev(fromHex(h(req))), rev(fromHex(h(pres))), 0, 0, ADDR_PEER, ADDR_US);
      const srand = t.peek_random(16);
      const mconfirm = `03 ${x(rev(c1(mrand)))}`;
      if (ev === 'input') {
        assert.equal(t.pdu(mconfirm), [], 'no Sconfirm before the user typed');
        t.sm.sm_passkey_input(t.con, passkey);
        assert.equal(t.flush(), [h(`03 ${x(rev(c1(srand)))}`)]);
      } else {
        assert.equal(t.pdu(mconfirm), [h(`03 ${x(rev(c1(srand)))}`)]);
      }
      assert.equal(t.pdu(`04 ${x(rev(mrand))}`), [h(`04 ${x(rev(srand))}`)]);
      t.ltk_request();
      assert.equal(x(t.cmds[0]!.args[1] as Uint8Array), x(rev(sm_s1(tk, srand, mrand))));
      t.encryption_change();
      assert.equal(t.events.at(-1), complete(t, 0, 0));
      assert.is(t.level(), 3, 'authenticated legacy key');
    }
  });

  test(`${profile}: Keypress Notifications during Passkey Entry (3.5.8): KEYPRESS_NOTIFICATION both ways`, () => {
    const t = responder(profile, 0x15, 2); // Bonding | MITM | Keypress, KeyboardOnly: we type
    assert.equal(t.pdu('01 00 00 15 10 00 00'), [h('02 02 00 15 10 00 00')]);
    const handle = x(Uint8Array.of(t.con & 0xff, t.con >> 8));
    assert.equal(t.pdu('0e 00'), []);
    assert.equal(t.events.at(-1), h(`d2 03 ${handle} 00`), 'SM_EVENT_KEYPRESS_NOTIFICATION H1, entry started');
    t.pdu('0e 04');
    assert.equal(t.events.at(-1), h(`d2 03 ${handle} 04`));
    t.sm.sm_keypress_notification(t.con, 1);
    assert.equal(t.flush(), ['0e01']);
    assert.equal(t.pdu('0e 05'), ['050a'], 'reserved notification type');
    // outside Passkey Entry: unexpected
    const u = responder(profile);
    u.pdu(PREQ);
    u.sm.sm_keypress_notification(u.con, 1);
    assert.equal(u.flush(), [], 'nothing sent during Just Works');
    assert.equal(u.pdu('0e 01'), ['0508']);
  });

  test(`${profile}: a central answers a Security Request with its Pairing Request (3.6.7)`, () => {
    const t = new SmHarness(profile);
    t.sm.sm_set_authentication_requirements(0x01);
    t.connect(0);
    assert.equal(t.pdu('0b 01'), [h(PREQ)]);
    assert.equal(t.events, [...(v18 ? [t.ev(0xc7, 10, '01')] : []), started(t)]);
    // a peripheral may not send a Pairing Request: Command Not Supported
    assert.equal(t.pdu('01 03 00 01 10 07 07'), ['0507']);
    assert.equal(t.events.at(-1), complete(t, 5, 7));
  });

  test(`${profile}: a peripheral's sm_request_pairing sends a Security Request; sm_set_request_security on connect`, () => {
    const t = new SmHarness(profile);
    t.sm.sm_set_authentication_requirements(0x0d);
    t.connect(1);
    t.sm.sm_request_pairing(t.con);
    assert.equal(t.flush(), ['0b0d']);
    const u = new SmHarness(profile);
    u.sm.sm_set_request_security(true);
    u.connect(1);
    assert.equal(u.flush(), ['0b00']);
  });
}

// ---------------------------------------------------------------- bad input: reason per 3.5.5, nothing stored

function failsWith(profile: (typeof PROFILES)[number], setup: (t: SmHarness) => string[], reason: number, started = true): void {
  const t = responder(profile);
  const sent = setup(t);
  assert.equal(sent.at(-1), `05${reason.toString(16).padStart(2, '0')}`, 'Pairing Failed with the reason');
  const last = t.events.at(-1);
  if (started) {
    assert.ok(last?.startsWith('d5'), 'PAIRING_COMPLETE');
    assert.is(parseInt(last!.slice(22, 24), 16), 0x05, 'status ERROR_CODE_AUTHENTICATION_FAILURE');
    assert.is(parseInt(last!.slice(24, 26), 16), reason, 'reason');
  } else {
    assert.equal(t.events, [], 'no pairing started, no event');
  }
  assert.is(t.sm.le_device_db.le_device_db_count(), 0, 'nothing stored');
  assert.is(t.level(), 0);
  t.l2.disconnect(t.con);
  t.rl.run(0);
  assert.equal(t.pools.busy(), []);
}

for (const profile of PROFILES) {
  test(`${profile}: wrong lengths -> 0x0A Invalid Parameters`, () => {
    failsWith(profile, (t) => t.pdu('01 03 00 01 10 07'), 0x0a, false);
    failsWith(profile, (t) => t.pdu('01 03 00 01 10 07 07 00'), 0x0a, false);
    failsWith(profile, (t) => (t.pdu(PREQ), t.sm.sm_just_works_confirm(t.con), t.pdu(`03 ${'00'.repeat(15)}`)), 0x0a);
    failsWith(profile, (t) => (t.pdu(PREQ), t.pdu(`04 ${'00'.repeat(17)}`)), 0x0a);
  });

  test(`${profile}: out-of-order PDUs -> 0x08 Unspecified Reason; a reserved code -> 0x07`, () => {
    failsWith(profile, (t) => (t.pdu(PREQ), t.pdu(`04 ${'00'.repeat(16)}`)), 0x08);
    failsWith(profile, (t) => (t.pdu(PREQ), t.pdu(PREQ)), 0x08);
    failsWith(profile, (t) => (t.pdu(PREQ), t.pdu(`06 ${'00'.repeat(16)}`)), 0x08);
    failsWith(profile, (t) => (t.pdu(PREQ), t.pdu(`0d ${'00'.repeat(16)}`)), 0x08);
    failsWith(profile, (t) => t.pdu(`03 ${'00'.repeat(16)}`), 0x08, false);
    failsWith(profile, (t) => t.pdu('0f 00'), 0x07, false);
    failsWith(profile, (t) => (t.pdu(PREQ), t.pdu('ff')), 0x07);
  });

  test(`${profile}: key size below the range -> 0x06; out of range parameters -> 0x0A`, () => {
    failsWith(profile, (t) => t.pdu('01 03 00 01 06 07 07'), 0x06);
    failsWith(profile, (t) => (t.sm.sm_set_encryption_key_size_range(16, 16), t.pdu('01 03 00 01 0a 07 07')), 0x06);
    failsWith(profile, (t) => t.pdu('01 03 00 01 11 07 07'), 0x0a);
    failsWith(profile, (t) => t.pdu('01 05 00 01 10 07 07'), 0x0a);
  });

  test(`${profile}: SC-only against legacy, MITM with only Just Works -> 0x03 Authentication Requirements`, () => {
    failsWith(profile, (t) => (t.sm.sm_set_secure_connections_only_mode(true), t.pdu(PREQ)), 0x03);
    failsWith(profile, (t) => (t.sm.sm_set_authentication_requirements(0x05), t.pdu(PREQ)), 0x03);
  });

  test(`${profile}: confirm value mismatch -> 0x04 Confirm Value Failed`, () => {
    failsWith(
      profile,
      (t) => {
        t.pdu(PREQ);
        t.sm.sm_just_works_confirm(t.con);
        t.pdu(`03 ${'5a'.repeat(16)}`);
        return t.pdu(`04 ${'a5'.repeat(16)}`);
      },
      0x04,
    );
  });

  test(`${profile}: repeated attempts (2.3.6): after a failed confirm the peer waits 2 s, then 4 s, before pairing again`, () => {
    const t = responder(profile);
    const mismatch = (): string[] => {
      t.pdu(PREQ);
      t.sm.sm_just_works_confirm(t.con);
      t.pdu(`03 ${'5a'.repeat(16)}`);
      return t.pdu(`04 ${'a5'.repeat(16)}`);
    };
    assert.equal(mismatch().at(-1), '0504');
    const events = t.events.length;
    assert.equal(t.pdu(PREQ), ['0509'], 'Repeated Attempts at once');
    assert.is(t.events.length, events, 'no pairing started');
    t.rl.advance(1_999);
    assert.equal(t.pdu(PREQ), ['0509'], 'still within 2 s');
    t.rl.advance(1);
    assert.equal(mismatch().at(-1), '0504', 'allowed after 2 s, fails again');
    t.rl.advance(3_999);
    assert.equal(t.pdu(PREQ), ['0509'], 'now 4 s');
    t.rl.advance(1);
    assert.equal(t.pdu(PREQ), [h(PRES)], 'allowed after 4 s');
  });

  test(`${profile}: the user declines -> 0x01 Passkey Entry Failed (legacy) / 0x0C Numeric Comparison Failed (SC)`, () => {
    failsWith(profile, (t) => (t.pdu(PREQ), t.sm.sm_bonding_decline(t.con), t.flush()), 0x01);
  });

  test(`${profile}: invalid public keys are refused with 0x0B DHKey Check Failed (CVE-2018-5383), nothing computed`, () => {
    const debug = sm_p256_debug_key_pair();
    const wire = new Uint8Array(64);
    sm_p256_public_key_to_wire(debug.public_key, wire, 0);
    const y0 = wire.slice();
    y0.fill(0, 32); // X kept, Y = 0: the fixed-coordinate invalid-curve attack
    const zero = new Uint8Array(64);
    for (const key of [y0, zero]) {
      failsWith(
        profile,
        (t) => {
          t.sm.sm_set_authentication_requirements(0x09);
          assert.equal(t.pdu('01 03 00 09 10 07 07'), ['020300091007 07'.replace(/ /g, '')]);
          return t.pdu(`0c ${x(key)}`);
        },
        0x0b,
      );
    }
    // a valid key gets our public key and (Just Works) our confirm value
    const t = responder(profile, 0x09);
    t.pdu('01 03 00 09 10 07 07');
    const out = t.pdu(`0c ${x(wire)}`);
    assert.equal(
      out.map((p) => p.slice(0, 2)),
      ['0c', '03'],
    );
  });

  const v18 = profile === 'v1.8';
  test(`${profile}: the peer's Pairing Failed and a disconnect end the pairing; nothing sent back`, () => {
    const t = responder(profile);
    t.pdu(PREQ);
    assert.equal(t.pdu('05 08'), []);
    assert.equal(
      t.events.at(-1),
      h(`d5 ${v18 ? '0c' : '0b'} ${x(Uint8Array.of(t.con & 0xff, t.con >> 8))} 00 ${x(rev(ADDR_PEER))} 05 08 ${v18 ? '00' : ''}`),
    );
    t.pdu(PREQ);
    t.l2.disconnect(t.con);
    t.rl.run(0);
    assert.ok(t.events.at(-1)!.endsWith(v18 ? '130000' : '1300'), 'status 0x13 REMOTE_USER_TERMINATED_CONNECTION');
    assert.equal(t.pools.busy(), []);
  });

  test(`${profile}: the 30 s SMP timeout: PAIRING_COMPLETE 0x08, then no SMP on that link`, () => {
    const t = responder(profile);
    t.pdu(PREQ);
    t.rl.advance(29_999);
    assert.equal(t.events.length, 2);
    t.rl.advance(2);
    t.rl.run(0);
    assert.ok(t.events.at(-1)!.startsWith('d5'));
    assert.is(t.events.at(-1)!.slice(22, 26), '0800');
    assert.equal(t.pdu(PREQ), [], 'ignored after the timeout');
    t.l2.disconnect(t.con);
    t.connect(1);
    assert.equal(t.pdu(PREQ), [h(PRES)], 'a new link pairs again');
  });
}

test.run();
