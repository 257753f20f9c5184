/**
 * Cross-transport key derivation, LE -> BR/EDR (Vol 3 Part H 2.4.2.4), two dual-mode stacks on the
 * virtual radio: an LE Secure Connections pairing with bonding offers the LinkKey bit and CT2
 * (the Pairing Request / Response as tshark's btsmp decodes them); both sides then hold the same
 * BR/EDR link key, h6(h7(SALT "tmp1", LTK), "lebr") of the LTK in their le device db (h6 / h7 are
 * checked against Appendix D.6 / D.8 / D.9 in crypto.test.ts), typed 0x07 (unauthenticated P-256)
 * for Just Works and 0x08 after Numeric Comparison; a classic connection between the two then
 * reaches security level 2 / 4 with that key: Link Key Request answered with it, no IO Capability
 * exchange, no new link key. LE legacy pairing derives nothing. Captures clean in tshark and btmon.
 * The other direction (an LE LTK from a BR/EDR link key, SMP over 0x0007): sm-ctkd-br-edr.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex, little_endian_read_16 } from '../../src/core/bytes.js';
import {
  IO_CAPABILITY_DISPLAY_YES_NO,
  IO_CAPABILITY_NO_INPUT_NO_OUTPUT,
  SM_AUTHREQ_BONDING,
  SM_AUTHREQ_MITM_PROTECTION,
  SM_AUTHREQ_SECURE_CONNECTION,
} from '../../src/codes/v1.4.js';
import { sm_ltk_to_link_key } from '../../src/sm/crypto.js';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { ADDR_A, ADDR_B, sm_pair } from './sm-helpers.js';

const SC = SM_AUTHREQ_SECURE_CONNECTION | SM_AUTHREQ_BONDING;
const IO_CAPABILITY_REQUEST = 0x31;
const LINK_KEY_REQUEST = 0x17;
const LINK_KEY_NOTIFICATION = 0x18;
const LINK_KEY_REQUEST_REPLY = 0x040b;

for (const [name, io, auth, type, level] of [
  ['Just Works', IO_CAPABILITY_NO_INPUT_NO_OUTPUT, SC, 0x07, 2],
  ['Numeric Comparison', IO_CAPABILITY_DISPLAY_YES_NO, SC | SM_AUTHREQ_MITM_PROTECTION, 0x08, 4],
] as const) {
  test(`LE SC ${name} with bonding -> the same BR/EDR link key (type ${type}) on both sides; BR/EDR then reaches level ${level} without pairing`, () => {
    const p = sm_pair('v1.8', `ctkd-${type}`, { io, auth }, { io, auth });
    // the classic side: HCI events and commands each stack sees
    const seen = { a: [] as number[], b: [] as number[] };
    for (const [s, list] of [
      [p.A, seen.a],
      [p.B, seen.b],
    ] as const)
      s.hci.hci_add_event_handler({ callback: (_t, _c, ev) => void list.push(ev[0]!) });
    p.A.sm.sm_request_pairing(p.con);
    p.until(() => p.a.complete !== null && p.b.complete !== null, 'PAIRING_COMPLETE');
    assert.is(p.a.complete![11], 0, 'pairing succeeded');
    const la = p.A.gap.gap_get_link_key_for_bd_addr(ADDR_B);
    const lb = p.B.gap.gap_get_link_key_for_bd_addr(ADDR_A);
    assert.ok(la && lb, 'a link key on both sides');
    assert.is(hex(la.link_key), hex(lb.link_key), 'the same link key');
    assert.is(la.type, type);
    assert.is(lb.type, type);
    const db = p.A.sm.le_device_db;
    const ltk = db.le_device_db_encryption_get(db.le_device_db_lookup(0, ADDR_B))!.ltk;
    // h6 gives the key most significant octet first; HCI and the key db hold it least significant first
    assert.is(hex(la.link_key), hex(sm_ltk_to_link_key(ltk, true).reverse()), 'h6(h7(SALT tmp1, LTK), lebr): CT2 on both sides');

    // BR/EDR: A connects and asks for the level; the derived key answers the Link Key Request
    p.A.gap.gap_disconnect(p.con);
    p.until(() => p.a.complete !== null && seen.a.includes(0x05), 'LE disconnected');
    p.B.gap.gap_connectable_control(1);
    let handle = -1;
    const levels: number[] = [];
    p.A.hci.hci_add_event_handler({
      callback: (_t, _c, ev) => {
        if (ev[0] === 0x03 && ev[2] === 0) handle = little_endian_read_16(ev, 3);
        if (ev[0] === p.A.codes.GAP_EVENT_SECURITY_LEVEL) levels.push(ev[4]!);
      },
    });
    const before = { a: seen.a.length, b: seen.b.length };
    assert.is(p.A.hci.hci_connect_acl(ADDR_B), 0);
    p.until(() => handle >= 0, 'BR/EDR connection');
    p.A.gap.gap_request_security_level(handle, level);
    p.until(() => levels.length > 0, 'GAP_EVENT_SECURITY_LEVEL');
    assert.equal(levels, [level], `level ${level} with the derived key`);
    const after = { a: seen.a.slice(before.a), b: seen.b.slice(before.b) };
    assert.ok(after.a.includes(LINK_KEY_REQUEST), 'A was asked for the link key');
    for (const evs of [after.a, after.b]) {
      assert.not.ok(evs.includes(IO_CAPABILITY_REQUEST), 'no pairing: no IO Capability Request');
      assert.not.ok(evs.includes(LINK_KEY_NOTIFICATION), 'no new link key');
    }
    p.close();
    for (const log of p.logs) assertCleanCapture(log);
    // the SMP feature exchange offered CTKD: LinkKey bit in both key distributions, CT2 in AuthReq
    const rows = tsharkFields(
      p.logs[0]!,
      ['btsmp.opcode', 'btsmp.authreq', 'btsmp.initiator_key_distribution', 'btsmp.responder_key_distribution'],
      'btsmp.opcode <= 2',
    );
    assert.is(rows.length, 2);
    for (const r of rows) {
      assert.ok((parseInt(r[1]!, 16) & 0x20) !== 0, `CT2 in ${r.join(' ')}`);
      assert.ok((parseInt(r[2]!, 16) & 0x08) !== 0 && (parseInt(r[3]!, 16) & 0x08) !== 0, `LinkKey bits in ${r.join(' ')}`);
    }
    const cmds = tsharkFields(p.logs[0]!, ['bthci_cmd.opcode'], 'bthci_cmd').map((r) => parseInt(r[0]!, 16));
    assert.ok(cmds.includes(LINK_KEY_REQUEST_REPLY), 'Link Key Request Reply on the wire');
  });
}

test('LE legacy pairing derives no BR/EDR link key (the LinkKey bit is for Secure Connections only)', () => {
  const p = sm_pair('v1.8', 'ctkd-legacy', { io: 3, auth: SM_AUTHREQ_BONDING }, { io: 3, auth: SM_AUTHREQ_BONDING });
  p.A.sm.sm_request_pairing(p.con);
  p.until(() => p.a.complete !== null && p.b.complete !== null, 'PAIRING_COMPLETE');
  assert.is(p.a.complete![11], 0);
  assert.is(p.A.gap.gap_get_link_key_for_bd_addr(ADDR_B), null);
  assert.is(p.B.gap.gap_get_link_key_for_bd_addr(ADDR_A), null);
  p.close();
});

test.run();
