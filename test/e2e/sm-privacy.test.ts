/**
 * LE privacy end to end (issue 15 item 4), two stacks on the virtual radio in virtual time:
 * P (peripheral) advertises from resolvable private addresses made from its IRK and rotated every
 * update period; C (central, public address) pairs with it (LE Secure Connections, bonding, IRK and
 * identity address distributed), sees a new address on the air after the period, then P restarts
 * (a new Stack on the same controller with a new LeDeviceDbTlv over the same TLV store: IR / ER
 * and the bonds come back from the store, nothing from the first Stack's objects) with rotation on; C resolves P's new RPA to P's identity: SM_EVENT_IDENTITY_RESOLVING_SUCCEEDED
 * with the identity address, re-encryption reported by identity, the HCI connection found by it.
 * Captures decode cleanly (our reader, tshark, btmon).
 */
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bd_addr_cmp, hex, little_endian_read_16, reverse_bd_addr, type BdAddr } from '../../src/core/bytes.js';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { btstack_tlv_memory_instance } from '../../src/core/tlv.js';
import { RadioLink } from '../../src/controller/index.js';
import { Stack } from '../../src/stack.js';
import { LeDeviceDbTlv } from '../../src/sm/le-device-db-tlv.js';
import { sm_rpa_resolve } from '../../src/sm/crypto.js';
import { SM_TLV_TAG_IR } from '../../src/sm/sm-privacy.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { assertCleanCapture } from '../helpers/capture.js';
import { ADDR_A, ADDR_B, SmApp, tmp } from './sm-helpers.js';

const PERIOD = 60_000;
const AUTH = 0x09; // SM_AUTHREQ_BONDING | SM_AUTHREQ_SECURE_CONNECTION

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: after a restart with RPA rotation on, the peer reconnects and is reported by identity address`, () => {
    const rl = new VirtualRunLoop();
    const link = new RadioLink(rl, { seed: `sm-privacy-${profile}` });
    const ctrlP = link.create_controller({ bd_addr: ADDR_A, name: 'p' });
    const ctrlC = link.create_controller({ bd_addr: ADDR_B, name: 'c' });
    const logs: string[] = [];
    const until = (pred: () => boolean, what: string, max = 60_000): void => assert.ok(rl.run_until(pred, max), what);
    const tlvP = btstack_tlv_memory_instance();

    let conP = -1;
    let conC = -1;
    const stackP = (n: number): { stack: Stack; app: SmApp } => {
      const stack = new Stack({ transport: new VirtualTransport(ctrlP), run_loop: rl, profile });
      const log = path.join(tmp, `privacy-${profile}-p${n}.btsnoop`);
      assert.is(stack.open_packet_log(log, 'btsnoop'), 0);
      logs.push(log);
      const sm = stack.sm;
      sm.set_tlv(tlvP);
      sm.sm_set_le_device_db(new LeDeviceDbTlv(tlvP)); // each boot reads the bonds back from the store
      sm.sm_init();
      sm.sm_set_authentication_requirements(AUTH);
      const app = new SmApp(stack, { io: 3, auth: AUTH }, () => conP);
      sm.sm_add_event_handler(app.registration);
      stack.hci.hci_add_event_handler({
        callback: (_t, _c, p) => {
          if (p[0] === 0x3e && (p[2] === 0x01 || p[2] === 0x0a) && p[3] === 0) conP = little_endian_read_16(p, 4);
          if (p[0] === 0x05) conP = -1;
        },
      });
      stack.gap.gap_random_address_set_update_period(PERIOD);
      stack.hci.hci_power_control(1);
      until(() => stack.hci.hci_get_state() === 2, 'P working');
      assert.is(stack.gap.gap_random_address_set_mode(3), 0, 'GAP_RANDOM_ADDRESS_RESOLVABLE');
      stack.gap.gap_advertisements_set_params(0x20, 0x20, 0, 0, new Uint8Array(6), 7, 0);
      stack.gap.gap_advertisements_set_data(3, Uint8Array.of(0x02, 0x01, 0x06));
      stack.gap.gap_advertisements_enable(1);
      return { stack, app };
    };

    // ---- the central
    const C = new Stack({ transport: new VirtualTransport(ctrlC), run_loop: rl, profile });
    const logC = path.join(tmp, `privacy-${profile}-c.btsnoop`);
    assert.is(C.open_packet_log(logC, 'btsnoop'), 0);
    logs.push(logC);
    C.sm.sm_init();
    C.sm.sm_set_authentication_requirements(AUTH);
    const c = new SmApp(C, { io: 3, auth: AUTH }, () => conC);
    const resolving: Uint8Array[] = [];
    const created: Uint8Array[] = [];
    C.sm.sm_add_event_handler(c.registration);
    C.sm.sm_add_event_handler({
      callback: (_t, _c, p, n) => {
        if (p[0]! >= 0xcd && p[0]! <= 0xcf) resolving.push(p.slice(0, n));
        if (p[0] === 0xd3) created.push(p.slice(0, n));
      },
    });
    let seen: { type: number; addr: BdAddr } | null = null;
    C.hci.hci_add_event_handler({
      callback: (_t, _c, p) => {
        if (p[0] === 0x3e && (p[2] === 0x01 || p[2] === 0x0a) && p[3] === 0) conC = little_endian_read_16(p, 4);
        if (p[0] === 0x05) conC = -1;
        // LE Advertising Report (one report): event type, address type, address
        if (p[0] === 0x3e && p[2] === 0x02 && p[3] === 1 && p[4] === 0) seen = { type: p[5]!, addr: reverse_bd_addr(p, 6) };
      },
    });
    C.hci.hci_power_control(1);
    let P = stackP(1);
    until(() => C.hci.hci_get_state() === 2, 'C working');

    const scan = (not: BdAddr[]): { type: number; addr: BdAddr } => {
      seen = null;
      C.gap.gap_start_scan();
      until(() => seen !== null && not.every((a) => bd_addr_cmp(a, seen!.addr) !== 0), 'an advertisement from a new address');
      C.gap.gap_stop_scan();
      rl.run(100);
      return seen!;
    };
    const connect = (to: { type: number; addr: BdAddr }): void => {
      assert.is(C.gap.gap_connect(to.addr, to.type), 0);
      until(() => conC >= 0 && conP >= 0, 'LE connection');
      rl.run(100);
    };
    const irk = P.stack.sm.irk;

    // ---- 1: P advertises from an RPA of its IRK (own address type 1)
    const rpa1 = scan([]);
    assert.is(rpa1.type, 1, 'random address on the air');
    assert.is(rpa1.addr[0]! & 0xc0, 0x40, 'resolvable private: two top bits 01');
    assert.ok(sm_rpa_resolve(irk, rpa1.addr), 'made from P IRK');
    assert.is(bd_addr_cmp(P.stack.gap.gap_le_get_own_address().addr, rpa1.addr), 0);

    // ---- 2: pair with bonding; P distributes IRK + identity address (public ADDR_A, type 0)
    connect(rpa1);
    C.sm.sm_request_pairing(conC);
    until(() => c.complete !== null && P.app.complete !== null, 'pairing complete');
    assert.is(c.complete![11], 0, 'central: pairing status 0');
    assert.is(P.app.complete![11], 0, 'peripheral: pairing status 0');
    // the first connection: C looked P's RPA up and found no bond
    assert.equal(
      resolving.map((e) => e[0]),
      [0xcd, 0xce],
      'IDENTITY_RESOLVING_STARTED, _FAILED',
    );
    assert.equal(hex(resolving[0]!.subarray(4, 11)), hex(Uint8Array.of(1, ...rpa1.addr.slice().reverse())));
    // SM_EVENT_IDENTITY_CREATED: (handle, addr_type, address, identity_addr_type, identity_address, index)
    assert.is(created.length, 1);
    const ev = created[0]!;
    assert.is(little_endian_read_16(ev, 2), conC);
    assert.is(ev[11], 0, 'identity address type: public');
    assert.is(bd_addr_cmp(reverse_bd_addr(ev, 12), ADDR_A), 0, 'identity address: P public address');
    const index = little_endian_read_16(ev, 18);
    const info = C.sm.le_device_db.le_device_db_info(index)!;
    assert.is(hex(info.irk), hex(irk), 'C stored P IRK');
    assert.is(C.hci.hci_connection_for_bd_addr_and_type(ADDR_A, 0)?.con_handle, conC, 'link found by identity');
    C.gap.gap_disconnect(conC);
    until(() => conC < 0 && conP < 0, 'disconnected');

    // ---- 3: rotation: past the update period a new RPA is on the air, still P's
    rl.advance(PERIOD + 1_000);
    const rpa2 = scan([rpa1.addr]);
    assert.is(rpa2.type, 1);
    assert.ok(sm_rpa_resolve(irk, rpa2.addr), 'rotated address made from the same IRK');

    // ---- 4: P restarts (same controller, same TLV store: IR and bonds read back from it), rotation on
    P.stack.hci.hci_power_control(0);
    until(() => P.stack.hci.hci_get_state() === 0, 'P off');
    P.stack.close_packet_log();
    assert.ok(tlvP.get_tag(SM_TLV_TAG_IR), 'IR kept in the TLV store');
    P = stackP(2);
    assert.is(hex(P.stack.sm.irk), hex(irk), 'the same IRK after the restart (IR from the TLV store)');
    const rpa3 = scan([rpa1.addr, rpa2.addr]);
    assert.ok(sm_rpa_resolve(irk, rpa3.addr));

    // sm_address_resolution_lookup on the advertising report: the identity before connecting
    resolving.length = 0;
    assert.is(C.sm.sm_address_resolution_lookup(rpa3.type, rpa3.addr), 0);
    rl.run(10);
    assert.equal(
      resolving.map((e) => e[0]),
      [0xcd, 0xcf],
    );
    assert.is(little_endian_read_16(resolving[1]!, 2), 0, 'general lookup: handle 0');

    // ---- 5: reconnect: C resolves the new RPA to P's identity and re-encrypts with the bond
    resolving.length = 0;
    c.reencryption = null;
    connect(rpa3);
    assert.equal(
      resolving.map((e) => e[0]),
      [0xcd, 0xcf],
      'IDENTITY_RESOLVING_STARTED, _SUCCEEDED',
    );
    const ok = resolving[1]!;
    assert.is(ok.length, 20, 'H1B1B2: 20 octets');
    assert.is(little_endian_read_16(ok, 2), conC);
    assert.is(ok[4], 1, 'address type on the air: random');
    assert.is(bd_addr_cmp(reverse_bd_addr(ok, 5), rpa3.addr), 0, 'address on the air: the new RPA');
    assert.is(ok[11], 0, 'identity address type');
    assert.is(bd_addr_cmp(reverse_bd_addr(ok, 12), ADDR_A), 0, 'identity address');
    assert.is(little_endian_read_16(ok, 18), index, 'db index');
    const conn = C.hci.hci_connection_for_bd_addr_and_type(ADDR_A, 0);
    assert.is(conn?.con_handle, conC, 'gap lookup by identity address');
    assert.is(bd_addr_cmp(conn!.identity_addr!, ADDR_A), 0);
    assert.is(bd_addr_cmp(conn!.address, rpa3.addr), 0, 'the connection address stays the RPA');
    C.sm.sm_request_pairing(conC);
    until(() => c.reencryption !== null && P.app.reencryption !== null, 're-encryption');
    assert.is(c.reencryption![11], 0, 're-encrypted with the stored LTK, no pairing');
    assert.is(bd_addr_cmp(reverse_bd_addr(c.reencryption!, 5), ADDR_A), 0, 'REENCRYPTION_COMPLETE names P by identity');
    assert.is(c.reencryption![4], 0);

    C.gap.gap_disconnect(conC);
    until(() => conC < 0 && conP < 0, 'disconnected');
    P.stack.hci.hci_power_control(0);
    C.hci.hci_power_control(0);
    until(() => P.stack.hci.hci_get_state() === 0 && C.hci.hci_get_state() === 0, 'both off');
    P.stack.close_packet_log();
    C.close_packet_log();
    if (profile === 'v1.4') for (const log of logs) assertCleanCapture(log);
  });
}

test.run();
