/**
 * LE privacy with the controller's resolving list (issue 15 item 4: "in the controller's resolving
 * list when it has one"), two stacks on the virtual radio in virtual time. P (peripheral)
 * advertises from RPAs of its IRK, rotated every period; C (central) calls
 * gap_load_resolving_list_from_le_device_db, pairs with P (bonding, P's IRK and public identity
 * distributed), the SM puts the bond into C's controller (LE Add Device To Resolving List), P
 * rotates its RPA, C scans and reconnects:
 *  - controller with LL Privacy: the advertising report and LE Enhanced Connection Complete carry
 *    P's identity with address type 0x02 and P's current RPA beside it (the controller resolved it),
 *    SM_EVENT_IDENTITY_RESOLVING_STARTED / _SUCCEEDED name the connection by (0x02, identity), the
 *    HCI connection is found by the identity, re-encryption with the bond;
 *  - the resolving list full (size 1, another bond in it: the add is answered 0x07) and a
 *    controller without LL Privacy (gap_load_resolving_list_from_le_device_db -> 0x11): the RPA
 *    comes as is (type 1) and the host resolves it (_SUCCEEDED with type 1 and the RPA).
 * Captures decode cleanly (our reader, tshark, btmon).
 */
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bd_addr_cmp, little_endian_read_16, reverse_bd_addr, type BdAddr } from '../../src/core/bytes.js';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { Stack } from '../../src/stack.js';
import { sm_rpa_resolve } from '../../src/sm/crypto.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { assertCleanCapture } from '../helpers/capture.js';
import { ADDR_A, ADDR_B, SmApp, tmp } from './sm-helpers.js';

const PERIOD = 60_000;
const AUTH = 0x09; // SM_AUTHREQ_BONDING | SM_AUTHREQ_SECURE_CONNECTION
const OTHER = Uint8Array.of(0xc0, 0x11, 0x22, 0x33, 0x44, 0x55);

type Variant = 'controller' | 'list-full' | 'no-privacy';

function run(profile: 'v1.4' | 'v1.8', variant: Variant): void {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: `sm-privacy-ctrl-${profile}-${variant}` });
  const ctrlP = link.create_controller({ bd_addr: ADDR_A, name: 'p' });
  const size = variant === 'list-full' ? 1 : variant === 'no-privacy' ? 0 : 8;
  const ctrlC = link.create_controller({ bd_addr: ADDR_B, name: 'c', resolving_list_size: size });
  const until = (pred: () => boolean, what: string, max = 60_000): void => assert.ok(rl.run_until(pred, max), what);
  const logs: string[] = [];

  // ---- P: resolvable private addresses, rotated every PERIOD
  let conP = -1;
  const P = new Stack({ transport: new VirtualTransport(ctrlP), run_loop: rl, profile });
  logs.push(path.join(tmp, `privacy-ctrl-${profile}-${variant}-p.btsnoop`));
  assert.is(P.open_packet_log(logs[0]!, 'btsnoop'), 0);
  P.sm.sm_init();
  P.sm.sm_set_authentication_requirements(AUTH);
  const p = new SmApp(P, { io: 3, auth: AUTH }, () => conP);
  P.sm.sm_add_event_handler(p.registration);
  P.hci.hci_add_event_handler({
    callback: (_t, _c, e) => {
      if (e[0] === 0x3e && (e[2] === 0x01 || e[2] === 0x0a) && e[3] === 0) conP = little_endian_read_16(e, 4);
      if (e[0] === 0x05) conP = -1;
    },
  });
  P.gap.gap_random_address_set_update_period(PERIOD);

  // ---- C: the central whose controller resolves
  let conC = -1;
  const C = new Stack({ transport: new VirtualTransport(ctrlC), run_loop: rl, profile });
  logs.push(path.join(tmp, `privacy-ctrl-${profile}-${variant}-c.btsnoop`));
  assert.is(C.open_packet_log(logs[1]!, 'btsnoop'), 0);
  C.sm.sm_init();
  C.sm.sm_set_authentication_requirements(AUTH);
  const c = new SmApp(C, { io: 3, auth: AUTH }, () => conC);
  C.sm.sm_add_event_handler(c.registration);
  const resolving: Uint8Array[] = [];
  let created: Uint8Array | null = null;
  C.sm.sm_add_event_handler({
    callback: (_t, _c, e, n) => {
      if (e[0]! >= 0xcd && e[0]! <= 0xcf) resolving.push(e.slice(0, n));
      if (e[0] === 0xd3) created = e.slice(0, n);
    },
  });
  let report: { type: number; addr: BdAddr } | null = null;
  let complete: Uint8Array | null = null;
  let gapComplete: Uint8Array | null = null;
  const addStatus: number[] = [];
  C.hci.hci_add_event_handler({
    callback: (_t, _c, e, n) => {
      if (e[0] === 0x3e && (e[2] === 0x01 || e[2] === 0x0a) && e[3] === 0) {
        conC = little_endian_read_16(e, 4);
        complete = e.slice(0, n);
      }
      if (e[0] === 0xe7 && e[2] === 0x08) gapComplete = e.slice(0, n); // v1.8 GAP_SUBEVENT_LE_CONNECTION_COMPLETE
      if (e[0] === 0x05) conC = -1;
      if (e[0] === 0x3e && e[2] === 0x02 && e[3] === 1 && e[4] === 0) report = { type: e[5]!, addr: reverse_bd_addr(e, 6) };
      if (e[0] === 0x0e && little_endian_read_16(e, 3) === 0x2027) addStatus.push(e[5]!);
    },
  });
  if (variant === 'list-full') {
    // another bond with an IRK takes the only place in the list
    assert.is(C.sm.le_device_db.le_device_db_add(1, OTHER, new Uint8Array(16).fill(0x5a)), 0);
  }

  P.hci.hci_power_control(1);
  C.hci.hci_power_control(1);
  until(() => P.hci.hci_get_state() === 2 && C.hci.hci_get_state() === 2, 'both working');
  assert.is(C.gap.gap_load_resolving_list_from_le_device_db(), variant === 'no-privacy' ? 0x11 : 0);
  assert.is(P.gap.gap_random_address_set_mode(3), 0, 'GAP_RANDOM_ADDRESS_RESOLVABLE');
  P.gap.gap_advertisements_set_params(0x20, 0x20, 0, 0, new Uint8Array(6), 7, 0);
  P.gap.gap_advertisements_set_data(3, Uint8Array.of(0x02, 0x01, 0x06));
  P.gap.gap_advertisements_enable(1);
  rl.run(100);
  if (variant === 'list-full') assert.equal(addStatus, [0], 'the other bond went into the list');

  const scan = (fresh: (r: { type: number; addr: BdAddr }) => boolean): { type: number; addr: BdAddr } => {
    report = null;
    C.gap.gap_start_scan();
    until(() => report !== null && fresh(report), 'an advertisement');
    C.gap.gap_stop_scan();
    rl.run(100);
    return report!;
  };
  const irk = P.sm.irk;

  // ---- 1: pair with bonding; the SM puts P into C's resolving list (when there is one)
  const rpa1 = scan(() => true);
  assert.is(rpa1.type, 1);
  assert.ok(sm_rpa_resolve(irk, rpa1.addr), 'an RPA of P');
  assert.is(C.gap.gap_connect(rpa1.addr, 1), 0);
  until(() => conC >= 0 && conP >= 0, 'LE connection');
  C.sm.sm_request_pairing(conC);
  until(() => c.complete !== null && p.complete !== null, 'pairing complete');
  assert.is(c.complete![11], 0, 'pairing status 0');
  assert.ok(created, 'SM_EVENT_IDENTITY_CREATED');
  const index = little_endian_read_16(created!, 18);
  C.gap.gap_disconnect(conC);
  until(() => conC < 0 && conP < 0, 'disconnected');
  rl.run(100);
  if (variant === 'controller') assert.equal(addStatus, [0], 'LE Add Device To Resolving List: success');
  if (variant === 'list-full') assert.equal(addStatus, [0, 0x07], 'list full: Memory Capacity Exceeded');
  if (variant === 'no-privacy') assert.equal(addStatus, [], 'no resolving list commands');

  // ---- 2: P rotates its RPA
  rl.advance(PERIOD + 1_000);
  const now = P.gap.gap_le_get_own_address().addr;
  assert.ok(bd_addr_cmp(now, rpa1.addr) !== 0 && sm_rpa_resolve(irk, now), 'a new RPA of P');

  // ---- 3: scan and reconnect
  resolving.length = 0;
  complete = null;
  c.reencryption = null;
  const resolved = variant === 'controller';
  const seen = scan((r) => bd_addr_cmp(r.addr, rpa1.addr) !== 0);
  if (resolved) {
    assert.is(seen.type, 0x02, 'advertising report: Public Identity Address (resolved by the controller)');
    assert.is(bd_addr_cmp(seen.addr, ADDR_A), 0, 'advertising report: P identity');
    assert.is(C.gap.gap_connect(ADDR_A, 0), 0, 'connect to the identity address');
  } else {
    assert.is(seen.type, 1, 'advertising report: the RPA as on the air');
    assert.is(bd_addr_cmp(seen.addr, now), 0);
    assert.is(C.gap.gap_connect(seen.addr, 1), 0);
  }
  until(() => conC >= 0 && conP >= 0, 'LE connection again');
  rl.run(100);
  const ev = complete!;
  if (resolved) {
    assert.is(ev[2], 0x0a, 'LE Enhanced Connection Complete');
    assert.is(ev[7], 0x02, 'peer address type 0x02');
    assert.is(bd_addr_cmp(reverse_bd_addr(ev, 8), ADDR_A), 0, 'peer address: the identity');
    assert.is(bd_addr_cmp(reverse_bd_addr(ev, 20), now), 0, 'peer resolvable private address: P RPA now');
    if (profile === 'v1.8') {
      const g = gapComplete!;
      assert.is(g[7], 0x02, 'GAP_SUBEVENT_LE_CONNECTION_COMPLETE: type 0x02');
      assert.is(bd_addr_cmp(reverse_bd_addr(g, 8), ADDR_A), 0);
    }
  } else {
    // list full: LE Enhanced Connection Complete (unmasked by the resolving list setup), unresolved
    assert.is(ev[2], variant === 'list-full' ? 0x0a : 0x01, variant === 'list-full' ? 'enhanced' : 'LE Connection Complete');
    assert.is(ev[7], 0x01, 'random, as on the air');
    if (variant === 'list-full')
      assert.ok(
        ev.subarray(20, 26).every((b) => b === 0),
        'no peer RPA resolved',
      );
    assert.is(bd_addr_cmp(reverse_bd_addr(ev, 8), now), 0);
  }
  assert.equal(
    resolving.map((e) => e[0]),
    [0xcd, 0xcf],
    'SM_EVENT_IDENTITY_RESOLVING_STARTED, _SUCCEEDED',
  );
  const ok = resolving[1]!;
  assert.is(little_endian_read_16(ok, 2), conC);
  assert.is(ok[4], resolved ? 0x02 : 0x01, 'the connection address type');
  assert.is(bd_addr_cmp(reverse_bd_addr(ok, 5), resolved ? ADDR_A : now), 0, 'the connection address');
  assert.is(ok[11], 0, 'identity address type: public');
  assert.is(bd_addr_cmp(reverse_bd_addr(ok, 12), ADDR_A), 0, 'identity address');
  assert.is(little_endian_read_16(ok, 18), index, 'db index');
  const conn = C.hci.hci_connection_for_bd_addr_and_type(ADDR_A, 0);
  assert.is(conn?.con_handle, conC, 'HCI connection found by the identity');
  C.sm.sm_request_pairing(conC);
  until(() => c.reencryption !== null && p.reencryption !== null, 're-encryption');
  assert.is(c.reencryption![11], 0, 're-encrypted with the bond');

  C.gap.gap_disconnect(conC);
  until(() => conC < 0 && conP < 0, 'disconnected');
  P.hci.hci_power_control(0);
  C.hci.hci_power_control(0);
  until(() => P.hci.hci_get_state() === 0 && C.hci.hci_get_state() === 0, 'both off');
  P.close_packet_log();
  C.close_packet_log();
  if (profile === 'v1.4') for (const log of logs) assertCleanCapture(log);
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: the controller resolves the rotated RPA (LE Enhanced Connection Complete, type 0x02 + identity + RPA)`, () =>
    run(profile, 'controller'));
  test(`${profile}: resolving list full (0x07): the host resolves the RPA`, () => run(profile, 'list-full'));
  test(`${profile}: controller without LL Privacy (0x11): the host resolves the RPA`, () => run(profile, 'no-privacy'));
}

test.run();
