/**
 * LE pairing end to end: two Stacks on the virtual radio (A central, B peripheral), each
 * association model with LE Secure Connections and with legacy pairing, started by the central
 * (sm_request_pairing: Pairing Request) and by the peripheral (Security Request), in both code
 * profiles. Checked: the SM events each application sees (names, PAIRING_COMPLETE byte for
 * byte), the same Numeric Comparison value / passkey on both sides, gap_security_level on both
 * ends of the link (2 Just Works, 3 / 4 authenticated), bonds in the le device db with equal LTKs,
 * re-encryption with the stored LTK on reconnect, asked by the central and by the peripheral's
 * Security Request (REENCRYPTION_* on both sides, no new pairing), pools
 * full after, and both captures clean under tshark (btsmp) and btmon.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bd_addr_to_str, hex } from '../../src/core/bytes.js';
import {
  IO_CAPABILITY_DISPLAY_ONLY,
  IO_CAPABILITY_DISPLAY_YES_NO,
  IO_CAPABILITY_KEYBOARD_DISPLAY,
  IO_CAPABILITY_KEYBOARD_ONLY,
  IO_CAPABILITY_NO_INPUT_NO_OUTPUT,
  SM_AUTHREQ_BONDING,
  SM_AUTHREQ_MITM_PROTECTION,
  SM_AUTHREQ_SECURE_CONNECTION,
} from '../../src/codes/v1.4.js';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { ADDR_A, ADDR_B, sm_pair, type SideConfig, type SmPair } from './sm-helpers.js';

const SC = SM_AUTHREQ_SECURE_CONNECTION | SM_AUTHREQ_BONDING;
const SC_MITM = SC | SM_AUTHREQ_MITM_PROTECTION;
const LEGACY = SM_AUTHREQ_BONDING;
const LEGACY_MITM = LEGACY | SM_AUTHREQ_MITM_PROTECTION;

/** SM_EVENT_PAIRING_COMPLETE as the application sees it (v1.4 H1B11, v1.8 H1B111). */
function completeVector(profile: string, handle: number, addr: Uint8Array, status: number, reason: number): string {
  const a = Array.from(addr).reverse();
  const body = [handle & 0xff, handle >> 8, 0, ...a, status, reason, ...(profile === 'v1.8' ? [0] : [])];
  return hex(Uint8Array.of(0xd5, body.length, ...body)).replace(/ /g, '');
}

function pairOnce(p: SmPair, by: 'central' | 'peripheral'): void {
  if (by === 'central') p.A.sm.sm_request_pairing(p.con);
  else p.B.sm.sm_request_pairing(p.con_b);
  p.until(() => p.a.complete !== null && p.b.complete !== null, 'PAIRING_COMPLETE on both sides');
}

interface Case {
  name: string;
  a: SideConfig;
  b: SideConfig;
  /** The events each side sees between PAIRING_STARTED and PAIRING_COMPLETE. */
  ask_a: string[];
  ask_b: string[];
  level: number;
  sc: boolean;
}

const CASES: Case[] = [
  {
    name: 'SC Just Works',
    a: { io: IO_CAPABILITY_NO_INPUT_NO_OUTPUT, auth: SC },
    b: { io: IO_CAPABILITY_NO_INPUT_NO_OUTPUT, auth: SC },
    ask_a: ['SM_EVENT_JUST_WORKS_REQUEST'],
    ask_b: ['SM_EVENT_JUST_WORKS_REQUEST'],
    level: 2,
    sc: true,
  },
  {
    name: 'SC Numeric Comparison',
    a: { io: IO_CAPABILITY_DISPLAY_YES_NO, auth: SC_MITM },
    b: { io: IO_CAPABILITY_DISPLAY_YES_NO, auth: SC_MITM },
    ask_a: ['SM_EVENT_NUMERIC_COMPARISON_REQUEST'],
    ask_b: ['SM_EVENT_NUMERIC_COMPARISON_REQUEST'],
    level: 4,
    sc: true,
  },
  {
    name: 'SC Passkey Entry (central types, peripheral shows)',
    a: { io: IO_CAPABILITY_KEYBOARD_ONLY, auth: SC_MITM },
    b: { io: IO_CAPABILITY_DISPLAY_ONLY, auth: SC_MITM },
    ask_a: ['SM_EVENT_PASSKEY_INPUT_NUMBER'],
    ask_b: ['SM_EVENT_PASSKEY_DISPLAY_NUMBER'],
    level: 4,
    sc: true,
  },
  {
    name: 'SC Passkey Entry (central shows, peripheral types)',
    a: { io: IO_CAPABILITY_KEYBOARD_DISPLAY, auth: SC_MITM },
    b: { io: IO_CAPABILITY_KEYBOARD_ONLY, auth: SC_MITM },
    ask_a: ['SM_EVENT_PASSKEY_DISPLAY_NUMBER'],
    ask_b: ['SM_EVENT_PASSKEY_INPUT_NUMBER'],
    level: 4,
    sc: true,
  },
  {
    name: 'SC Passkey Entry (both type)',
    a: { io: IO_CAPABILITY_KEYBOARD_ONLY, auth: SC_MITM },
    b: { io: IO_CAPABILITY_KEYBOARD_ONLY, auth: SC_MITM },
    ask_a: ['SM_EVENT_PASSKEY_INPUT_NUMBER'],
    ask_b: ['SM_EVENT_PASSKEY_INPUT_NUMBER'],
    level: 4,
    sc: true,
  },
  {
    name: 'legacy Just Works',
    a: { io: IO_CAPABILITY_NO_INPUT_NO_OUTPUT, auth: LEGACY },
    b: { io: IO_CAPABILITY_NO_INPUT_NO_OUTPUT, auth: LEGACY },
    ask_a: ['SM_EVENT_JUST_WORKS_REQUEST'],
    ask_b: ['SM_EVENT_JUST_WORKS_REQUEST'],
    level: 2,
    sc: false,
  },
  {
    name: 'legacy Passkey Entry (central types, peripheral shows)',
    a: { io: IO_CAPABILITY_KEYBOARD_DISPLAY, auth: LEGACY_MITM },
    b: { io: IO_CAPABILITY_DISPLAY_YES_NO, auth: LEGACY_MITM },
    ask_a: ['SM_EVENT_PASSKEY_INPUT_NUMBER'],
    ask_b: ['SM_EVENT_PASSKEY_DISPLAY_NUMBER'],
    level: 3,
    sc: false,
  },
  {
    name: 'legacy Passkey Entry (central shows, peripheral types)',
    a: { io: IO_CAPABILITY_DISPLAY_ONLY, auth: LEGACY_MITM },
    b: { io: IO_CAPABILITY_KEYBOARD_ONLY, auth: LEGACY_MITM },
    ask_a: ['SM_EVENT_PASSKEY_DISPLAY_NUMBER'],
    ask_b: ['SM_EVENT_PASSKEY_INPUT_NUMBER'],
    level: 3,
    sc: false,
  },
];

for (const profile of ['v1.4', 'v1.8'] as const) {
  for (const [i, k] of CASES.entries()) {
    for (const by of ['central', 'peripheral'] as const) {
      // every case both ways in v1.8; in v1.4 the central starts, but one case of each kind
      // (SC, legacy) also from the peripheral
      if (profile === 'v1.4' && by === 'peripheral' && i !== 1 && i !== 6) continue;
      test(`${profile} ${k.name}, started by the ${by}`, () => {
        const tag = `${profile}-${i}-${by}`;
        const p = sm_pair(profile, tag, k.a, k.b);
        pairOnce(p, by);
        const started = 'SM_EVENT_PAIRING_STARTED';
        const done = 'SM_EVENT_PAIRING_COMPLETE';
        const sec = profile === 'v1.8' && by === 'peripheral' ? ['SM_EVENT_SECURITY_REQUEST'] : [];
        // a bond stored (both ask for bonding): SM_EVENT_IDENTITY_CREATED before PAIRING_COMPLETE, as BTstack
        const created = k.a.auth & k.b.auth & 0x01 ? ['SM_EVENT_IDENTITY_CREATED'] : [];
        assert.equal(p.a.names, [...sec, started, ...k.ask_a, ...created, done], 'central events');
        assert.equal(p.b.names, [started, ...k.ask_b, ...created, done], 'peripheral events');
        assert.is(p.a.events.at(-1), completeVector(profile, p.con, ADDR_B, 0, 0));
        assert.is(p.b.events.at(-1), completeVector(profile, p.con_b, ADDR_A, 0, 0));
        if (k.ask_a[0] === 'SM_EVENT_NUMERIC_COMPARISON_REQUEST') {
          assert.ok(p.a.compared !== null && p.a.compared === p.b.compared, 'same 6-digit value on both sides');
        }
        assert.is(p.A.gap.gap_security_level(p.con), k.level, 'central level');
        assert.is(p.B.gap.gap_security_level(p.con_b), k.level, 'peripheral level');
        // bonds: each side stored the other's identity address with the same LTK (SC) / a usable key
        const da = p.A.sm.le_device_db;
        const db = p.B.sm.le_device_db;
        const ia = da.le_device_db_lookup(0, ADDR_B);
        const ib = db.le_device_db_lookup(0, ADDR_A);
        assert.ok(ia >= 0 && ib >= 0, `bonds stored (${bd_addr_to_str(ADDR_B)}, ${bd_addr_to_str(ADDR_A)})`);
        const ea = da.le_device_db_encryption_get(ia);
        if (k.sc) {
          const eb = db.le_device_db_encryption_get(ib);
          assert.equal(hex(ea!.ltk), hex(eb!.ltk), 'same LTK');
          assert.is(ea!.secure_connection, true);
        } else {
          assert.equal(
            hex(ea!.ltk),
            hex(db.le_device_db_local_encryption_get(ib)!.ltk),
            "the central keeps the peripheral's LTK",
          );
        }
        assert.equal(da.le_device_db_info(ia)!.irk.length, 16);
        // re-encryption with the stored key (no pairing) when the central asks again after reconnecting
        p.reconnect();
        const before_a = p.a.names.length;
        p.A.sm.sm_request_pairing(p.con);
        p.until(() => p.a.reencryption !== null && p.b.reencryption !== null, 'REENCRYPTION_COMPLETE on both');
        assert.equal(p.a.names.slice(before_a), ['SM_EVENT_REENCRYPTION_STARTED', 'SM_EVENT_REENCRYPTION_COMPLETE']);
        assert.is(p.a.reencryption![p.a.reencryption!.length - 1], 0, 'status 0');
        assert.is(p.A.gap.gap_security_level(p.con), k.level, 'level after re-encryption');
        assert.is(p.B.gap.gap_security_level(p.con_b), k.level);
        // and when the peripheral asks (Security Request), the bonded central re-encrypts too
        p.reconnect();
        const mark_a = p.a.names.length;
        const mark_b = p.b.names.length;
        p.B.sm.sm_request_pairing(p.con_b);
        p.until(() => p.a.reencryption !== null && p.b.reencryption !== null, 'REENCRYPTION_COMPLETE after a Security Request');
        const reenc = ['SM_EVENT_REENCRYPTION_STARTED', 'SM_EVENT_REENCRYPTION_COMPLETE'];
        assert.equal(p.a.names.slice(mark_a), [...(profile === 'v1.8' ? ['SM_EVENT_SECURITY_REQUEST'] : []), ...reenc]);
        assert.equal(p.b.names.slice(mark_b), reenc);
        assert.is(p.B.gap.gap_security_level(p.con_b), k.level);
        p.close();
        assert.equal(p.A.pools.busy(), []);
        assert.equal(p.B.pools.busy(), []);
        if (i === 1 || i === 6) {
          for (const log of p.logs) assertCleanCapture(log);
          const codes = tsharkFields(p.logs[0]!, ['btsmp.opcode'], 'btsmp').map((r) => r[0]);
          assert.ok(codes.length > 0 && codes.includes(k.sc ? '0x0c' : '0x03'), `btsmp decodes: ${codes.join(' ')}`);
        }
      });
    }
  }
}

/** SM_EVENT_REENCRYPTION_COMPLETE (H1B1) as the application sees it. */
function reencVector(handle: number, addr: Uint8Array, status: number): string {
  const a = Array.from(addr).reverse();
  return hex(Uint8Array.of(0xd7, 10, handle & 0xff, handle >> 8, 0, ...a, status)).replace(/ /g, '');
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: the peripheral lost the bond: REENCRYPTION_COMPLETE 0x06, the bond stays until the app deletes it, then pairing again (BTstack's sm_pairing_central)`, () => {
    const cfg = { io: IO_CAPABILITY_NO_INPUT_NO_OUTPUT, auth: SC };
    const p = sm_pair(profile, `${profile}-lost`, cfg, cfg);
    pairOnce(p, 'central');
    assert.is(p.a.complete![11], 0);
    const da = p.A.sm.le_device_db;
    const db_b = p.B.sm.le_device_db;
    const ia = da.le_device_db_lookup(0, ADDR_B);
    const old_ltk = hex(da.le_device_db_encryption_get(ia)!.ltk);
    p.B.sm.gap_delete_bonding(0, ADDR_A);
    assert.is(db_b.le_device_db_lookup(0, ADDR_A), -1, 'the peripheral forgot the bond');
    p.reconnect();
    const mark_b = p.b.names.length;
    p.A.sm.sm_request_pairing(p.con);
    p.until(() => p.a.reencryption !== null, 'REENCRYPTION_COMPLETE at the central');
    assert.equal(p.a.names.slice(-2), ['SM_EVENT_REENCRYPTION_STARTED', 'SM_EVENT_REENCRYPTION_COMPLETE']);
    assert.is(p.a.events.at(-1), reencVector(p.con, ADDR_B, 0x06), 'REENCRYPTION_COMPLETE status 0x06 (PIN or Key Missing)');
    assert.equal(p.b.names.slice(mark_b), [], 'the peripheral answered the LTK Request negatively, no SM event');
    assert.is(da.le_device_db_lookup(0, ADDR_B), ia, 'as BTstack, the SM keeps the bond');
    assert.is(p.A.gap.gap_security_level(p.con), 0);
    // the application does what BTstack's sm_pairing_central does: delete the bond, pair again
    p.A.sm.gap_delete_bonding(0, ADDR_B);
    assert.is(da.le_device_db_lookup(0, ADDR_B), -1, 'gap_delete_bonding');
    p.A.sm.sm_request_pairing(p.con);
    p.until(() => p.a.complete !== null && p.b.complete !== null, 'paired again');
    assert.is(p.a.complete![11], 0);
    assert.is(p.b.complete![11], 0);
    assert.is(p.B.gap.gap_security_level(p.con_b), 2);
    const ia2 = da.le_device_db_lookup(0, ADDR_B);
    const ib2 = db_b.le_device_db_lookup(0, ADDR_A);
    assert.ok(ia2 >= 0 && ib2 >= 0, 'bonded again');
    const new_ltk = hex(da.le_device_db_encryption_get(ia2)!.ltk);
    assert.is(new_ltk, hex(db_b.le_device_db_encryption_get(ib2)!.ltk), 'same new LTK on both sides');
    assert.not.equal(new_ltk, old_ltk);
    // the new bond re-encrypts on the next link
    p.reconnect();
    p.A.sm.sm_request_pairing(p.con);
    p.until(() => p.a.reencryption !== null && p.b.reencryption !== null, 'REENCRYPTION_COMPLETE on both');
    assert.is(p.a.events.at(-1), reencVector(p.con, ADDR_B, 0));
    p.close();
    assert.equal(p.A.pools.busy(), []);
    assert.equal(p.B.pools.busy(), []);
    if (profile === 'v1.4') for (const log of p.logs) assertCleanCapture(log);
  });

  test(`${profile}: after a failed re-encryption sm_request_pairing pairs on that link even with the stale bond kept; the new bond replaces it`, () => {
    const cfg = { io: IO_CAPABILITY_NO_INPUT_NO_OUTPUT, auth: SC };
    const p = sm_pair(profile, `${profile}-stale`, cfg, cfg);
    pairOnce(p, 'central');
    const da = p.A.sm.le_device_db;
    const ia = da.le_device_db_lookup(0, ADDR_B);
    p.B.sm.gap_delete_bonding(0, ADDR_A);
    p.reconnect();
    p.A.sm.sm_request_pairing(p.con);
    p.until(() => p.a.reencryption !== null, 'REENCRYPTION_COMPLETE at the central');
    assert.is(p.a.reencryption![p.a.reencryption!.length - 1], 0x06);
    const mark = p.a.names.length;
    p.A.sm.sm_request_pairing(p.con);
    p.until(() => p.a.complete !== null && p.b.complete !== null, 'paired');
    assert.is(p.a.names[mark], 'SM_EVENT_PAIRING_STARTED', 'a Pairing Request, not the stored LTK again');
    assert.is(p.a.complete![11], 0);
    assert.is(da.le_device_db_lookup(0, ADDR_B), ia, 'same slot');
    assert.is(da.le_device_db_count(), 1, 'replaced, not added');
    assert.is(
      hex(da.le_device_db_encryption_get(ia)!.ltk),
      hex(p.B.sm.le_device_db.le_device_db_encryption_get(p.B.sm.le_device_db.le_device_db_lookup(0, ADDR_A))!.ltk),
    );
    p.close();
    assert.equal(p.A.pools.busy(), []);
  });

  test(`${profile}: the central lost the bond: it pairs (no re-encryption), the peripheral's bond for it is replaced`, () => {
    const cfg = { io: IO_CAPABILITY_NO_INPUT_NO_OUTPUT, auth: SC };
    const p = sm_pair(profile, `${profile}-lost-c`, cfg, cfg);
    pairOnce(p, 'central');
    const db_b = p.B.sm.le_device_db;
    const ib = db_b.le_device_db_lookup(0, ADDR_A);
    const old_ltk = hex(db_b.le_device_db_encryption_get(ib)!.ltk);
    p.A.sm.gap_delete_bonding(0, ADDR_B);
    assert.is(p.A.sm.le_device_db.le_device_db_count(), 0);
    p.reconnect();
    const mark_a = p.a.names.length;
    const mark_b = p.b.names.length;
    // asked by the peripheral (Security Request): the central has no key, so it pairs
    p.B.sm.sm_request_pairing(p.con_b);
    p.until(() => p.a.complete !== null && p.b.complete !== null, 'paired again');
    assert.ok(!p.a.names.slice(mark_a).includes('SM_EVENT_REENCRYPTION_STARTED'), p.a.names.slice(mark_a).join(' '));
    assert.is(p.b.names[mark_b], 'SM_EVENT_PAIRING_STARTED');
    assert.is(p.a.complete![11], 0);
    assert.is(p.b.complete![11], 0);
    assert.is(db_b.le_device_db_lookup(0, ADDR_A), ib, "the peripheral reused its bond's slot");
    assert.is(db_b.le_device_db_count(), 1);
    const ltk = hex(db_b.le_device_db_encryption_get(ib)!.ltk);
    assert.not.equal(ltk, old_ltk, 'the new LTK replaced the old one');
    assert.is(ltk, hex(p.A.sm.le_device_db.le_device_db_encryption_get(p.A.sm.le_device_db.le_device_db_lookup(0, ADDR_B))!.ltk));
    p.close();
    assert.equal(p.A.pools.busy(), []);
    assert.equal(p.B.pools.busy(), []);
  });
}

test.run();
