/**
 * OOB pairing between two stacks on the virtual radio (A central / initiator, B peripheral /
 * responder), both profiles: LE Secure Connections OOB with the data passed both ways and one way
 * only (sm_generate_sc_oob_data on one side, sm_register_sc_oob_data_callback on the other), LE
 * legacy OOB with a shared TK (sm_register_oob_data_callback), and a TK that differs (0x04).
 * Checked: no user event on either side, PAIRING_COMPLETE, level 4 (SC) / 3 (legacy), the same
 * LTK in both bonds, the OOB flags of the Pairing Request / Response as tshark's btsmp decodes
 * them, and both captures clean in tshark and btmon. The PDU-by-PDU values are in
 * test/unit/sm/sm-oob.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../src/core/bytes.js';
import { SM_AUTHREQ_BONDING, SM_AUTHREQ_SECURE_CONNECTION } from '../../src/codes/v1.4.js';
import type { Stack } from '../../src/stack.js';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { ADDR_A, ADDR_B, sm_pair, type SmPair } from './sm-helpers.js';

const SC = SM_AUTHREQ_SECURE_CONNECTION | SM_AUTHREQ_BONDING;
const LEGACY = SM_AUTHREQ_BONDING;

/** `from` generates its SC OOB data; `to` gets it through its callback. */
function scOob(p: SmPair, from: Stack, to: Stack): void {
  let data: [Uint8Array, Uint8Array] | null = null;
  from.sm.sm_generate_sc_oob_data((c, r) => (data = [c, r]));
  p.rl.run(0);
  assert.ok(data, 'OOB data generated on the run loop');
  to.sm.sm_register_sc_oob_data_callback((_t, _a, c, r) => {
    c.set(data![0]);
    r.set(data![1]);
    return 1;
  });
}

function finish(p: SmPair, level: number, flags: [string, string]): void {
  p.A.sm.sm_request_pairing(p.con);
  p.until(() => p.a.complete !== null && p.b.complete !== null, 'PAIRING_COMPLETE on both sides');
  const status = (ev: Uint8Array) => ev[11];
  assert.is(status(p.a.complete!), 0, `A: ${p.a.names.join(' ')}`);
  assert.is(status(p.b.complete!), 0, `B: ${p.b.names.join(' ')}`);
  for (const app of [p.a, p.b]) {
    assert.equal(
      app.names.filter((n) => /JUST_WORKS|NUMERIC|PASSKEY/.test(n)),
      [],
      'OOB asks the user nothing',
    );
    assert.ok(app.names.includes('SM_EVENT_PAIRING_STARTED'));
  }
  assert.is(p.A.gap.gap_security_level(p.con), level);
  assert.is(p.B.gap.gap_security_level(p.con_b), level);
  const la = p.A.sm.le_device_db.le_device_db_encryption_get(p.A.sm.le_device_db.le_device_db_lookup(0, ADDR_B))!;
  const lb = p.B.sm.le_device_db.le_device_db_encryption_get(p.B.sm.le_device_db.le_device_db_lookup(0, ADDR_A))!;
  assert.ok(la.authenticated && lb.authenticated);
  if (la.secure_connection) assert.is(hex(la.ltk), hex(lb.ltk), 'the same LTK');
  p.close();
  for (const log of p.logs) assertCleanCapture(log);
  const rows = tsharkFields(p.logs[0]!, ['btsmp.opcode', 'btsmp.oob_data_flags'], 'btsmp.opcode <= 2');
  assert.equal(
    rows.map((r) => r[1]),
    flags,
    'OOB data flags of the Pairing Request / Response',
  );
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: SC OOB, data both ways: level 4`, () => {
    const p = sm_pair(profile, `oob-both-${profile}`, { io: 3, auth: SC }, { io: 3, auth: SC });
    scOob(p, p.A, p.B);
    scOob(p, p.B, p.A);
    finish(p, 4, ['0x01', '0x01']);
  });

  test(`${profile}: SC OOB, only the peripheral's data reached the central (one flag set is enough)`, () => {
    const p = sm_pair(profile, `oob-b2a-${profile}`, { io: 3, auth: SC }, { io: 3, auth: SC });
    scOob(p, p.B, p.A);
    finish(p, 4, ['0x01', '0x00']);
  });

  test(`${profile}: SC OOB, only the central's data reached the peripheral`, () => {
    const p = sm_pair(profile, `oob-a2b-${profile}`, { io: 3, auth: SC }, { io: 3, auth: SC });
    scOob(p, p.A, p.B);
    finish(p, 4, ['0x00', '0x01']);
  });

  test(`${profile}: legacy OOB with a shared TK: level 3; a different TK -> 0x04 Confirm Value Failed`, () => {
    const tk = Uint8Array.from({ length: 16 }, (_, i) => 0x40 + i);
    let p = sm_pair(profile, `oob-legacy-${profile}`, { io: 3, auth: LEGACY }, { io: 3, auth: LEGACY });
    for (const s of [p.A, p.B]) s.sm.sm_register_oob_data_callback((_t, _a, oob) => (oob.set(tk), 1));
    finish(p, 3, ['0x01', '0x01']);

    p = sm_pair(profile, `oob-legacy-wrong-${profile}`, { io: 3, auth: LEGACY }, { io: 3, auth: LEGACY });
    p.A.sm.sm_register_oob_data_callback((_t, _a, oob) => (oob.set(tk), 1));
    p.B.sm.sm_register_oob_data_callback((_t, _a, oob) => (oob.fill(0x77), 1));
    p.A.sm.sm_request_pairing(p.con);
    p.until(() => p.a.complete !== null && p.b.complete !== null, 'PAIRING_COMPLETE');
    assert.equal([p.a.complete![11], p.a.complete![12]], [0x05, 0x04]);
    assert.equal([p.b.complete![11], p.b.complete![12]], [0x05, 0x04]);
    assert.is(p.A.sm.le_device_db.le_device_db_lookup(0, ADDR_B), -1, 'nothing stored');
    p.close();
    for (const log of p.logs) assertCleanCapture(log);
  });
}

test.run();
