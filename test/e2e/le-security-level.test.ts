/**
 * gap_request_security_level on an LE handle (two stacks on one RadioLink, SM on both): the
 * Security Manager pairs (central: Pairing Request; peripheral: Security Request, the central
 * pairs) and GAP_EVENT_SECURITY_LEVEL reports the level reached, one event per call, in both code
 * profiles (v1.8 adds the status octet). Captures clean under tshark and btmon.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../src/core/bytes.js';
import { assertCleanCapture } from '../helpers/capture.js';
import { sm_pair, type SmPair } from './sm-helpers.js';

const NO_IO = 3; // IO_CAPABILITY_NO_INPUT_NO_OUTPUT
const SC_BOND = 0x09; // SM_AUTHREQ_SECURE_CONNECTION | SM_AUTHREQ_BONDING

/** GAP_EVENT_SECURITY_LEVEL events (hex) a stack's HCI event handlers get. */
function levels(p: SmPair, side: 'A' | 'B'): string[] {
  const out: string[] = [];
  p[side].hci.hci_add_event_handler({
    callback: (_t: number, _c: number, ev: Uint8Array, n: number) => {
      if (ev[0] === 0xd8) out.push(hex(ev.subarray(0, n)).replace(/ /g, ''));
    },
  });
  return out;
}

function h16(h: number): string {
  return (h & 0xff).toString(16).padStart(2, '0') + (h >> 8).toString(16).padStart(2, '0');
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  const ok = (h: number, level: number): string => (profile === 'v1.8' ? `d804${h16(h)}0${level}00` : `d803${h16(h)}0${level}`);

  test(`${profile}: central asks level 2 on LE: SC Just Works pairing, then one GAP_EVENT_SECURITY_LEVEL`, () => {
    const p = sm_pair(profile, `gap-level-central-${profile}`, { io: NO_IO, auth: SC_BOND }, { io: NO_IO, auth: SC_BOND });
    const a = levels(p, 'A');
    assert.is(p.A.gap.gap_security_level(p.con), 0);
    p.A.gap.gap_request_security_level(p.con, 2);
    p.A.gap.gap_request_security_level(p.con, 1); // folds into the running one, gets its own event
    assert.equal(a, []); // never inside the call
    p.until(() => a.length === 2, 'two GAP_EVENT_SECURITY_LEVEL');
    assert.equal(a, [ok(p.con, 2), ok(p.con, 2)]);
    assert.ok(p.a.complete, 'SM_EVENT_PAIRING_COMPLETE came first');
    assert.is(p.A.gap.gap_security_level(p.con), 2);
    assert.is(p.A.gap.gap_encryption_key_size(p.con), 16);
    assert.is(p.A.gap.gap_authenticated(p.con), false);
    assert.is(p.A.gap.gap_secure_connection(p.con), true);
    // met already: the event comes from the run loop, no SMP traffic
    p.A.gap.gap_request_security_level(p.con, 2);
    assert.is(a.length, 2);
    p.rl.run(100);
    assert.equal(a.slice(2), [ok(p.con, 2)]);
    // level 3 cannot be reached with Just Works: the SM re-encrypts with the bond, level stays 2
    p.A.gap.gap_request_security_level(p.con, 3);
    p.until(() => a.length === 4, 'answer to level 3');
    assert.equal(
      a[3],
      profile === 'v1.8' ? `d804${h16(p.con)}022f` : `d803${h16(p.con)}02`, // ERROR_CODE_INSUFFICIENT_SECURITY
    );
    p.close();
    for (const log of p.logs) assertCleanCapture(log);
  });

  test(`${profile}: peripheral asks level 2: Security Request, the central pairs, the peripheral gets the level`, () => {
    const p = sm_pair(profile, `gap-level-periph-${profile}`, { io: NO_IO, auth: SC_BOND }, { io: NO_IO, auth: SC_BOND });
    const b = levels(p, 'B');
    p.B.gap.gap_request_security_level(p.con_b, 2);
    p.until(() => b.length === 1, 'GAP_EVENT_SECURITY_LEVEL on the peripheral');
    assert.equal(b, [ok(p.con_b, 2)]);
    assert.is(p.A.gap.gap_security_level(p.con), 2);
    p.close();
  });

  test(`${profile}: a disconnect during the pairing answers level 0`, () => {
    const p = sm_pair(profile, `gap-level-drop-${profile}`, { io: NO_IO, auth: SC_BOND }, { io: NO_IO, auth: SC_BOND });
    const a = levels(p, 'A');
    p.A.gap.gap_request_security_level(p.con, 2);
    p.A.gap.gap_disconnect(p.con);
    p.until(() => a.length === 1, 'answer after the disconnect');
    assert.equal(a, [profile === 'v1.8' ? `d804${h16(p.con)}0013` : `d803${h16(p.con)}00`]);
    p.close();
  });
  test(`${profile}: LE credit-based service at level 2: 0x0008 on an unencrypted link, opens once paired`, () => {
    const p = sm_pair(profile, `cbm-level-${profile}`, { io: NO_IO, auth: SC_BOND }, { io: NO_IO, auth: SC_BOND });
    const opened_code = profile === 'v1.8' ? 0x7d : 0x7a; // L2CAP_EVENT_CBM_CHANNEL_OPENED / LE_CHANNEL_OPENED
    const statuses: number[] = [];
    const handler = (t: number, _c: number, ev: Uint8Array): void => {
      if (t === 0x04 && ev[0] === opened_code) statuses.push(ev[2]!);
      if (t === 0x04 && ev[0] === (profile === 'v1.8' ? 0x7c : 0x79))
        p.B.l2cap.l2cap_cbm_accept_connection(ev[13]! | (ev[14]! << 8), new Uint8Array(100), 100, 1);
    };
    assert.is(p.B.l2cap.l2cap_cbm_register_service(handler, 0x0081, 2), 0);
    const open = (): void => {
      const r = p.A.l2cap.l2cap_cbm_create_channel(handler, p.con, 0x0081, new Uint8Array(100), 100, 1, 0);
      assert.is(r.status, 0);
    };
    open();
    p.until(() => statuses.length === 1, 'refused');
    // the wire result 0x0008 Insufficient Encryption, reported raw in both profiles (BTstack 1.8's
    // l2cap_cbm_status_for_result maps it to 0x66 REFUSED_SECURITY: not done by our CBM yet)
    assert.equal(statuses, [0x08]);
    const a = levels(p, 'A');
    p.A.gap.gap_request_security_level(p.con, 2);
    p.until(() => a.length === 1, 'paired');
    open();
    p.until(() => statuses.length === 3, 'opened on both sides');
    assert.equal(statuses.slice(1), [0, 0]);
    p.close();
    for (const log of p.logs) assertCleanCapture(log);
  });
}

test.run();
