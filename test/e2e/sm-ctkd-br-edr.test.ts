/**
 * Cross-transport key derivation, BR/EDR -> LE (Vol 3 Part H 2.4.2.5, SMP over BR/EDR on the
 * fixed channel 0x0007, Part H 3.2 / Part A 2.1), two dual-mode stacks on the virtual radio:
 * a BR/EDR Secure Connections pairing (SSP, P-256 link key, AES-CCM encryption) makes the central
 * learn the peripheral's fixed channels (Information Response mask with bit 7) and send a Pairing
 * Request over 0x0007 (IO / OOB / AuthReq zero but CT2, key distribution EncKey | IdKey | SignKey);
 * identity and signing keys go both ways; both keep the LE LTK h6(h7(SALT "tmp2", link key), "brle")
 * (h6 / h7 checked against Appendix D in crypto.test.ts) as an LE bond. The link key is taken from
 * the capture's Link Key Notification (the controller's, not the host's copy). A later LE
 * connection re-encrypts with it: LE Start Encryption with that LTK, REENCRYPTION_COMPLETE 0, no
 * SMP on the LE link. A Pairing Request over 0x0007 on a link without SC encryption is refused
 * with Pairing Failed 0x0E (Cross-transport Key Derivation/Generation not allowed). Captures
 * clean in tshark and btmon.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex, little_endian_read_16 } from '../../src/core/bytes.js';
import { IO_CAPABILITY_NO_INPUT_NO_OUTPUT, SM_AUTHREQ_BONDING, SM_AUTHREQ_SECURE_CONNECTION } from '../../src/codes/v1.4.js';
import { sm_link_key_to_ltk } from '../../src/sm/crypto.js';
import { assertCleanCapture, btmonText, tsharkFields } from '../helpers/capture.js';
import { ADDR_A, ADDR_B, sm_pair, type SmPair } from './sm-helpers.js';

const SC = SM_AUTHREQ_SECURE_CONNECTION | SM_AUTHREQ_BONDING;

/** Drop the LE link sm_pair made, then connect BR/EDR (A central); returns A's and B's classic handles. */
function classic(p: SmPair): { a: number; b: number } {
  let gone = false;
  p.A.hci.hci_add_event_handler({ callback: (_t, _c, ev) => void (ev[0] === 0x05 && (gone = true)) });
  p.A.gap.gap_disconnect(p.con);
  p.until(() => gone, 'LE disconnected');
  const h = { a: -1, b: -1 };
  p.A.hci.hci_add_event_handler({
    callback: (_t, _c, ev) => void (ev[0] === 0x03 && ev[2] === 0 && (h.a = little_endian_read_16(ev, 3))),
  });
  p.B.hci.hci_add_event_handler({
    callback: (_t, _c, ev) => void (ev[0] === 0x03 && ev[2] === 0 && (h.b = little_endian_read_16(ev, 3))),
  });
  p.B.gap.gap_connectable_control(1);
  assert.is(p.A.hci.hci_connect_acl(ADDR_B), 0);
  p.until(() => h.a >= 0 && h.b >= 0, 'BR/EDR connection');
  return h;
}

test('BR/EDR SC pairing -> SMP over 0x0007 derives the same LE LTK on both sides; a later LE link re-encrypts without pairing', () => {
  const cfg = { io: IO_CAPABILITY_NO_INPUT_NO_OUTPUT, auth: SC };
  const p = sm_pair('v1.8', 'ctkd-bredr', cfg, cfg);
  const h = classic(p);
  p.A.gap.gap_request_security_level(h.a, 2);
  p.until(() => p.a.complete !== null && p.b.complete !== null, 'PAIRING_COMPLETE over BR/EDR');
  for (const app of [p.a, p.b]) {
    assert.is(app.complete![11], 0, `${app.names.join(' ')}: success`);
    assert.ok(app.names.includes('SM_EVENT_PAIRING_STARTED'));
    assert.is(little_endian_read_16(app.complete!, 2), app === p.a ? h.a : h.b, 'on the BR/EDR handle');
  }
  const dbA = p.A.sm.le_device_db;
  const dbB = p.B.sm.le_device_db;
  const ia = dbA.le_device_db_lookup(0, ADDR_B);
  const ib = dbB.le_device_db_lookup(0, ADDR_A);
  assert.ok(ia >= 0 && ib >= 0, 'an LE bond on both sides, for the identity (public) address');
  const ea = dbA.le_device_db_encryption_get(ia)!;
  const eb = dbB.le_device_db_encryption_get(ib)!;
  assert.is(hex(ea.ltk), hex(eb.ltk), 'the same LTK');
  assert.ok(ea.secure_connection && eb.secure_connection && ea.key_size === 16);
  assert.is(ea.ediv, 0);
  assert.ok(
    dbA.le_device_db_info(ia)!.irk?.some((b) => b !== 0),
    'the peer IRK stored (identity distributed)',
  );
  assert.ok(dbA.le_device_db_remote_csrk_get?.(ia)?.some((b) => b !== 0) ?? true, 'the peer CSRK stored');

  // LE again: A re-encrypts with the derived LTK, no pairing
  p.A.gap.gap_disconnect(h.a);
  let le = { a: -1, b: -1 };
  const leUp = (side: 'a' | 'b') => ({
    callback: (_t: number, _c: number, ev: Uint8Array) => {
      if (ev[0] === 0x3e && ev[2] === 0x01 && ev[3] === 0) le[side] = little_endian_read_16(ev, 4);
    },
  });
  p.A.hci.hci_add_event_handler(leUp('a'));
  p.B.hci.hci_add_event_handler(leUp('b'));
  p.rl.run(500);
  p.a.complete = p.b.complete = null;
  le = { a: -1, b: -1 };
  p.B.gap.gap_advertisements_enable(1);
  assert.is(p.A.gap.gap_connect(ADDR_B, 0), 0);
  p.until(() => le.a >= 0 && le.b >= 0, 'LE connection');
  p.A.sm.sm_request_pairing(le.a);
  p.until(() => p.a.reencryption !== null && p.b.reencryption !== null, 'REENCRYPTION_COMPLETE');
  assert.is(p.a.reencryption![p.a.reencryption!.length - 1], 0, 'A re-encrypted');
  assert.is(p.b.reencryption![p.b.reencryption!.length - 1], 0, 'B re-encrypted');
  assert.is(p.a.complete, null, 'no LE pairing');
  assert.is(p.A.gap.gap_encryption_key_size(le.a), 16);
  p.close();
  for (const log of p.logs) assertCleanCapture(log);

  // the controller's link key (Link Key Notification) -> h6(h7(SALT tmp2, key), brle) = the stored LTK
  const lk = tsharkFields(p.logs[0]!, ['bthci_evt.link_key'], 'bthci_evt.code == 0x18');
  assert.is(lk.length, 1, 'one Link Key Notification');
  const wire = Uint8Array.from(lk[0]![0]!.match(/../g)!.map((x) => parseInt(x, 16)));
  assert.is(hex(sm_link_key_to_ltk(wire.reverse(), true)), hex(ea.ltk), 'LTK = h6(h7(SALT tmp2, link key), brle) (CT2)');
  // SMP only on the BR/EDR channel 0x0007 (this tshark shows it as raw L2CAP; btmon decodes it):
  // Pairing Request / Response with CT2 only and EncKey | IdKey | SignKey, B's identity and signing keys, then A's
  assert.is(tsharkFields(p.logs[0]!, ['btsmp.opcode'], 'btsmp').length, 0, 'no SMP on the LE link');
  const smp = tsharkFields(p.logs[0]!, ['btl2cap.payload'], 'btl2cap.cid == 7').map((r) => r[0]!);
  assert.equal(
    smp.map((x) => x.slice(0, 2)),
    ['01', '02', '08', '09', '0a', '08', '09', '0a'],
    smp.join(' '),
  );
  assert.is(smp[0], '01000020100707', 'Pairing Request: IO 0, OOB 0, AuthReq CT2, 16, EncKey|IdKey|SignKey both');
  assert.is(smp[1], '02000020100707', 'Pairing Response');
  assert.ok(
    smp[3]!.endsWith(hex(Uint8Array.from(ADDR_B).reverse()).replace(/ /g, '')),
    'B: Identity Address = its public address',
  );
  const mon = btmonText(p.logs[0]!);
  assert.match(mon, /BR\/EDR SMP: Pairing Request \(0x01\)/);
  assert.match(mon, /BR\/EDR SMP: Pairing Response \(0x02\)/);
  // the central learnt the peripheral's fixed channels first: 0x0007 announced (mask 0x86)
  assert.match(
    btmonText(p.logs[1]!),
    /Channels: 0x0000000000000086\s+L2CAP Signaling \(BR\/EDR\)\s+Connectionless reception\s+Security Manager \(BR\/EDR\)/,
  );
  const start = tsharkFields(p.logs[0]!, ['bthci_cmd.le_long_term_key'], 'bthci_cmd.opcode == 0x2019');
  assert.is(start.length, 1, 'one LE Start Encryption');
  assert.is(start[0]![0]!.replace(/:/g, ''), hex(Uint8Array.from(ea.ltk).reverse()).replace(/ /g, ''), 'with the derived LTK');
});

test('a Pairing Request over 0x0007 on a link without SC encryption: Pairing Failed 0x0E, nothing stored', () => {
  const cfg = { io: IO_CAPABILITY_NO_INPUT_NO_OUTPUT, auth: SC };
  const p = sm_pair('v1.8', 'ctkd-bredr-refused', cfg, cfg);
  const h = classic(p);
  // not encrypted: A (as a misbehaving initiator) sends a Pairing Request straight onto 0x0007
  const req = Uint8Array.of(0x01, 0x00, 0x00, 0x20, 0x10, 0x07, 0x07);
  assert.is(p.A.l2cap.l2cap_send_connectionless(h.a, 0x0007, req, req.length), 0);
  p.rl.run(1000);
  assert.is(p.B.sm.le_device_db.le_device_db_lookup(0, ADDR_A), -1, 'nothing stored');
  assert.is(p.b.complete, null, 'no pairing started on B');
  p.close();
  for (const log of p.logs) assertCleanCapture(log);
  const rows = tsharkFields(p.logs[1]!, ['btl2cap.payload'], 'btl2cap.cid == 7').map((r) => r[0]);
  assert.equal(rows, ['01000020100707', '050e'], 'Pairing Request in, Pairing Failed 0x0E out');
  assert.match(
    btmonText(p.logs[1]!),
    /BR\/EDR SMP: Pairing Failed \(0x05\)[^]*Reason: Cross-transport Key Derivation\/Generation not allowed \(0x0e\)/,
  );
});

test.run();
