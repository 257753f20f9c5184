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
}

test.run();
