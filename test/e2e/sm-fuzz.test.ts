/**
 * Fuzz the Security Manager at a live stack (seeded, reproducible): two Stacks on one RadioLink
 * (virtual time). B runs stack.sm as peripheral (SC + bonding + MITM off, DisplayYesNo; its
 * application confirms every Just Works / Numeric Comparison question and types a random passkey
 * when asked); A is a raw peer on the SM fixed channel (l2cap_register_fixed_channel /
 * l2cap_send_connectionless) sending 120,000 PDUs (60,000 per code profile): well-formed Pairing
 * Requests with random features, valid and invalid P-256 public keys, confirm / random / DHKey
 * check / key distribution PDUs of the right length with random contents, truncated, extended and
 * bit-flipped copies, Pairing Failed, Security Requests, noise of any code and length; now and
 * then A starts LE encryption with a random key (B answers the LTK Request), idles past the 30 s
 * SMP timeout, or drops and re-makes the link.
 *
 * What a user sees: nothing throws; every PDU B sends is a well-formed SMP PDU of a code a
 * responder may send, Pairing Failed only with a reason 3.5.5 defines (0x09 Repeated Attempts
 * after failed confirm / DHKey checks); no bond is ever stored
 * (no fuzzed pairing can succeed); after the last link went down both stacks' pools are full; and
 * then a real pairing between A (with its own SM now) and B still succeeds.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { little_endian_read_16, sscanf_bd_addr } from '../../src/core/bytes.js';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { Stack } from '../../src/stack.js';
import { hci_le_start_encryption } from '../../src/hci/commands.js';
import { sm_p256_generate_key_pair, sm_p256_public_key_to_wire } from '../../src/sm/p256.js';
import { sm_pdu_length } from '../../src/sm/sm-pdu.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { prng } from '../unit/att/helpers.js';

const PER_PROFILE = Number(process.env.SM_FUZZ_N ?? 60_000);
const ADDR_A = sscanf_bd_addr('AA:00:00:00:00:1A')!;
const ADDR_B = sscanf_bd_addr('BB:00:00:00:00:1B')!;
/** Codes a responder sends: Pairing Response, Confirm, Random, Failed, the five key PDUs, Public Key, DHKey Check. */
const RESPONDER_CODES = new Set([0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0c, 0x0d]);

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: ${PER_PROFILE} random and mutated SMP PDUs at a live SM: well-formed answers, nothing stored, pools full`, () => {
    const rnd = prng(profile === 'v1.4' ? 0x5a1 : 0x5a2);
    const int = (n: number): number => Math.floor(rnd() * n);
    const bytes = (n: number): number[] => Array.from({ length: n }, () => int(256));
    const rl = new VirtualRunLoop();
    const link = new RadioLink(rl, { seed: `sm-fuzz-${profile}` });
    const node = (addr: typeof ADDR_A, name: string): Stack =>
      new Stack({ transport: new VirtualTransport(link.create_controller({ bd_addr: addr, name })), run_loop: rl, profile });
    const A = node(ADDR_A, 'a');
    const B = node(ADDR_B, 'b');
    const sm = B.sm;
    sm.sm_init();
    sm.sm_set_io_capabilities(1);
    sm.sm_set_authentication_requirements(0x09);
    let fuzzing = true;
    const counts = new Map<string, number>();
    const bump = (k: string): void => void counts.set(k, (counts.get(k) ?? 0) + 1);
    sm.sm_add_event_handler({
      callback: (_t, _c, p) => {
        const h = little_endian_read_16(p, 2);
        bump(`event 0x${p[0]!.toString(16)}`);
        if (p[0] === B.codes.SM_EVENT_JUST_WORKS_REQUEST) sm.sm_just_works_confirm(h);
        if (p[0] === B.codes.SM_EVENT_NUMERIC_COMPARISON_REQUEST) sm.sm_numeric_comparison_confirm(h);
        if (p[0] === B.codes.SM_EVENT_PASSKEY_INPUT_NUMBER) sm.sm_passkey_input(h, int(1000000));
        if (p[0] === B.codes.SM_EVENT_PAIRING_COMPLETE) assert.ok(!fuzzing || p[11] !== 0, 'no fuzzed pairing succeeds');
      },
    });
    // ---- A: a raw peer on the SM channel
    let a_handle = -1;
    let told_to_wait = false;
    A.l2cap.l2cap_register_fixed_channel((type, channel, p, size) => {
      if (type !== 0x09 || channel !== a_handle) return;
      const code = p[0]!;
      assert.ok(RESPONDER_CODES.has(code), `B sent code 0x${code.toString(16)}`);
      assert.is(size, sm_pdu_length(code), `B's 0x${code.toString(16)} has its length`);
      if (code === 0x05) assert.ok(p[1]! >= 0x01 && p[1]! <= 0x0c, `reason 0x${p[1]!.toString(16)}`);
      if (code === 0x05 && p[1] === 0x09) told_to_wait = true;
      bump(`pdu 0x${code.toString(16)}`);
    }, 0x0006);
    A.hci.hci_add_event_handler({
      callback: (_t, _c, p) => {
        if (p[0] === 0x3e && p[2] === 0x01 && p[3] === 0) a_handle = little_endian_read_16(p, 4);
        if (p[0] === 0x05 && little_endian_read_16(p, 3) === a_handle) a_handle = -1;
      },
    });
    A.hci.hci_power_control(1);
    B.hci.hci_power_control(1);
    assert.ok(
      rl.run_until(() => A.hci.hci_get_state() === 2 && B.hci.hci_get_state() === 2, 60_000),
      'both working',
    );
    B.gap.gap_advertisements_set_params(0x20, 0x20, 0, 0, new Uint8Array(6), 7, 0);
    B.gap.gap_advertisements_set_data(3, Uint8Array.of(0x02, 0x01, 0x06));
    const connect = (): void => {
      B.gap.gap_advertisements_enable(1);
      assert.is(A.gap.gap_connect(ADDR_B, 0), 0);
      assert.ok(
        rl.run_until(() => a_handle >= 0 && B.sm.state.connections.length === 1, 10_000),
        'connected',
      );
    };
    const disconnect = (): void => {
      if (a_handle >= 0) A.gap.gap_disconnect(a_handle);
      assert.ok(
        rl.run_until(() => a_handle < 0 && B.sm.state.connections.length === 0, 10_000),
        'disconnected',
      );
    };
    // valid public keys (a few, reused) and their wire form
    const keys = Array.from({ length: 4 }, () => {
      const w = new Uint8Array(64);
      sm_p256_public_key_to_wire(sm_p256_generate_key_pair().public_key, w, 0);
      return Array.from(w);
    });
    const preq = (): number[] => [
      0x01,
      int(6),
      int(3) === 0 ? int(2) : 0,
      [0, 1, 5, 8, 9, 0x0d, 0x2d, int(256)][int(8)]!,
      6 + int(12),
      int(16),
      int(16),
    ];
    const wellFormed = (): number[] => {
      const code = 0x03 + int(12);
      if (code === 0x0c) return [0x0c, ...(rnd() < 0.6 ? keys[int(4)]! : bytes(64))];
      return [code, ...bytes(sm_pdu_length(code) - 1)];
    };
    let last: number[] = preq();
    const next = (): number[] => {
      const r = rnd();
      let p: number[];
      if (r < 0.18) p = preq();
      else if (r < 0.55) p = wellFormed();
      else if (r < 0.65)
        p = last.slice(0, int(last.length)); // truncated (maybe empty: not sent)
      else if (r < 0.72)
        p = [...last, ...bytes(1 + int(4))]; // extended
      else if (r < 0.8) {
        p = last.slice();
        const i = int(p.length);
        p[i] = p[i]! ^ (1 << int(8));
      } else if (r < 0.86) p = [0x05, int(256)];
      else if (r < 0.9) p = [0x0b, int(256)];
      else p = [int(256), ...bytes(int(70))];
      last = p.length > 0 ? p : last;
      return p;
    };
    connect();
    let sent = 0;
    let encryptions = 0;
    let timeouts = 0;
    while (sent < PER_PROFILE) {
      if (told_to_wait) {
        // Repeated Attempts: a patient fuzzer waits it out (at most 64 s) so pairings keep starting
        told_to_wait = false;
        rl.run_until(() => false, 65_000);
        bump('waited');
        continue;
      }
      const roll = rnd();
      if (roll < 0.0004) {
        disconnect();
        connect();
        continue;
      }
      if (roll < 0.0006) {
        rl.run_until(() => false, 31_000); // past the SMP timeout
        timeouts++;
        continue;
      }
      if (roll < 0.0016) {
        // A (central) encrypts with a random key: B gets an LTK Request
        A.hci.hci_send_cmd(
          hci_le_start_encryption,
          a_handle,
          Uint8Array.from(bytes(8)),
          int(2) ? 0 : int(0x10000),
          Uint8Array.from(bytes(16)),
        );
        encryptions++;
        rl.run_until(() => false, 50);
        if (a_handle < 0) connect(); // a key mismatch ends the link (MIC failure)
        continue;
      }
      const pdu = Uint8Array.from(next());
      if (pdu.length === 0) continue;
      if (!rl.run_until(() => a_handle >= 0 && A.l2cap.l2cap_can_send_fixed_channel_packet_now(a_handle, 0x0006), 1000)) {
        if (a_handle < 0) connect();
        continue;
      }
      const st = A.l2cap.l2cap_send_connectionless(a_handle, 0x0006, pdu, pdu.length);
      assert.is(st, 0, 'sent');
      sent++;
      rl.run_until(() => false, 3);
    }
    disconnect();
    assert.is(B.sm.le_device_db.le_device_db_count(), 0, 'no bond from fuzz');
    assert.ok((counts.get('pdu 0x2') ?? 0) > 100, 'Pairing Responses');
    assert.ok((counts.get('pdu 0x5') ?? 0) > 1000, 'Pairing Failed');
    assert.ok((counts.get('pdu 0xc') ?? 0) > 10, 'public keys answered');
    assert.ok((counts.get('pdu 0x3') ?? 0) > 10, 'confirm values sent');
    assert.ok(
      (counts.get('event 0xcc') ?? 0) > 0 && (counts.get('event 0xc9') ?? 0) > 0,
      'Numeric Comparison and passkey display reached',
    );
    assert.ok(encryptions > 10 && timeouts > 0);
    assert.ok((counts.get('waited') ?? 0) > 0, 'Repeated Attempts seen');
    assert.is(counts.get('event 0xd4'), counts.get('event 0xd5'), 'every PAIRING_STARTED has its PAIRING_COMPLETE');
    // a real pairing still works (A gets its own SM on the same channel)
    fuzzing = false;
    rl.run_until(() => false, 70_000); // past any repeated-attempts wait (2.3.6, at most 64 s)
    A.sm.sm_init();
    A.sm.sm_set_authentication_requirements(0x09);
    let done = -1;
    A.sm.sm_add_event_handler({
      callback: (_t, _c, p) => {
        if (p[0] === A.codes.SM_EVENT_JUST_WORKS_REQUEST) A.sm.sm_just_works_confirm(little_endian_read_16(p, 2));
        if (p[0] === A.codes.SM_EVENT_PAIRING_COMPLETE) done = p[11]!;
      },
    });
    connect();
    A.sm.sm_request_pairing(a_handle);
    assert.ok(
      rl.run_until(() => done >= 0, 10_000),
      'pairing complete',
    );
    assert.is(done, 0, 'status 0');
    assert.is(B.gap.gap_security_level(B.sm.state.connections[0]!.con_handle), 2);
    disconnect();
    A.hci.hci_power_control(0);
    B.hci.hci_power_control(0);
    rl.run_until(() => A.hci.hci_get_state() === 0 && B.hci.hci_get_state() === 0, 10_000);
    rl.run(1000);
    assert.equal(A.pools.busy(), []);
    assert.equal(B.pools.busy(), []);
  });
}

const BR_N = Number(process.env.SM_FUZZ_BREDR_N ?? 50_000);
/** What the BR/EDR responder sends (3.2): Pairing Response, Pairing Failed, Identity Information / Address, Signing Information. */
const BR_RESPONDER_CODES = new Set([0x02, 0x05, 0x08, 0x09, 0x0a]);

/*
 * SMP over BR/EDR (fixed channel 0x0007) at a live classic link: B runs stack.sm (SC + bonding, the
 * CTKD responder), A is a raw peer with its own handler on 0x0007 (so the fixed channels masks
 * announce it both ways). A alternates phases: an unencrypted link (every Pairing Request refused
 * with 0x0E), then gap_request_security_level(2) (SSP with a P-256 link key, AES-CCM encryption:
 * Pairing Requests answered, B distributes its keys), fuzzing in both; now and then the link is
 * dropped and made again, or A idles past the SMP timeout. Checked: nothing throws; every PDU B
 * sends on 0x0007 is one a responder sends, with its length, Pairing Failed reasons 0x01..0x0E;
 * a refused exchange (PAIRING_COMPLETE status != 0, Pairing Failed before any PAIRING_STARTED)
 * stores nothing (a fuzzed exchange that is in fact a valid CTKD pairing may store its bond: it is
 * counted and removed at once); no Pairing Response ever goes out on a link without SC encryption;
 * pools full after power off.
 */
for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: ${BR_N} random and mutated SMP PDUs on the BR/EDR channel 0x0007, with and without SC encryption`, () => {
    const rnd = prng(profile === 'v1.4' ? 0xb7e1 : 0xb7e2);
    const int = (n: number): number => Math.floor(rnd() * n);
    const bytes = (n: number): number[] => Array.from({ length: n }, () => int(256));
    const rl = new VirtualRunLoop();
    const link = new RadioLink(rl, { seed: `sm-fuzz-bredr-${profile}` });
    const node = (addr: typeof ADDR_A, name: string): Stack =>
      new Stack({ transport: new VirtualTransport(link.create_controller({ bd_addr: addr, name })), run_loop: rl, profile });
    const A = node(ADDR_A, 'a');
    const B = node(ADDR_B, 'b');
    const sm = B.sm;
    sm.sm_init();
    sm.sm_set_io_capabilities(3);
    sm.sm_set_authentication_requirements(0x09);
    const db = sm.le_device_db;
    const counts = new Map<string, number>();
    const bump = (k: string): void => void counts.set(k, (counts.get(k) ?? 0) + 1);
    sm.sm_add_event_handler({
      callback: (_t, _c, p) => {
        bump(`event 0x${p[0]!.toString(16)}`);
        if (p[0] === B.codes.SM_EVENT_PAIRING_STARTED) assert.is(db.le_device_db_count(), 0, 'no bond before an exchange');
        if (p[0] !== B.codes.SM_EVENT_PAIRING_COMPLETE) return;
        if (p[11] !== 0) {
          assert.is(db.le_device_db_count(), 0, 'nothing stored from a refused exchange');
          return;
        }
        // a valid exchange among the fuzz: a bond when EncKey was agreed in both key distributions
        // (3.6.1), for the identity address A's fuzzed Identity Address Information named (else A's)
        assert.ok(db.le_device_db_count() <= 1, 'at most the one bond of this exchange');
        if (db.le_device_db_count() === 0) return bump('paired, no bond');
        const i = Array.from({ length: db.le_device_db_max_count() }, (_, k) => k).find((k) => db.le_device_db_info(k))!;
        const enc = db.le_device_db_encryption_get(i)!;
        assert.ok(enc.secure_connection && enc.ediv === 0 && enc.key_size >= 7 && enc.key_size <= 16, 'a derived SC bond');
        db.le_device_db_remove(i);
        bump('derived');
      },
    });
    // ---- A: a raw peer on 0x0007
    let a_handle = -1;
    let encrypted = false;
    A.l2cap.l2cap_register_fixed_channel((type, channel, p, size) => {
      if (type !== 0x09 || channel !== a_handle) return;
      const code = p[0]!;
      assert.ok(BR_RESPONDER_CODES.has(code), `B sent code 0x${code.toString(16)} over BR/EDR`);
      assert.is(size, sm_pdu_length(code), `B's 0x${code.toString(16)} has its length`);
      if (code === 0x05) assert.ok(p[1]! >= 0x01 && p[1]! <= 0x0e, `reason 0x${p[1]!.toString(16)}`);
      if (code === 0x02) assert.ok(encrypted, 'a Pairing Response only on an SC-encrypted link');
      bump(`pdu 0x${code.toString(16)}${code === 0x05 ? `/${p[1]!.toString(16)}` : ''}${encrypted ? ' enc' : ''}`);
    }, 0x0007);
    A.hci.hci_add_event_handler({
      callback: (_t, _c, p) => {
        if (p[0] === 0x03 && p[2] === 0) a_handle = little_endian_read_16(p, 3);
        if (p[0] === 0x08 && p[2] === 0 && little_endian_read_16(p, 3) === a_handle) encrypted = p[5] === 0x02;
        if (p[0] === 0x08) bump(`encryption change ${p[2]} ${p[5]}`);
        if (p[0] === 0x05 && little_endian_read_16(p, 3) === a_handle) {
          bump(`disconnected 0x${p[5]!.toString(16)}`);
          a_handle = -1;
          encrypted = false;
        }
      },
    });
    A.hci.hci_power_control(1);
    B.hci.hci_power_control(1);
    assert.ok(
      rl.run_until(() => A.hci.hci_get_state() === 2 && B.hci.hci_get_state() === 2, 60_000),
      'both working',
    );
    B.gap.gap_connectable_control(1);
    const connect = (): void => {
      // each link pairs anew: the virtual controller encrypts with E0 (0x01) on a stored key, AES-CCM
      // (0x02) only right after an SC pairing
      A.gap.gap_drop_link_key_for_bd_addr(ADDR_B);
      B.gap.gap_drop_link_key_for_bd_addr(ADDR_A);
      assert.is(A.hci.hci_connect_acl(ADDR_B), 0);
      assert.ok(
        rl.run_until(() => a_handle >= 0 && B.sm.state.connections.length === 1, 10_000),
        'connected',
      );
      // learn B's fixed channels (Information Request): 0x0007 may be used from then on
      A.l2cap.l2cap_request_can_send_fix_channel_now_event(a_handle, 0x0007);
      assert.ok(
        rl.run_until(() => A.l2cap.l2cap_can_send_fixed_channel_packet_now(a_handle, 0x0007), 5_000),
        "B's mask announces 0x0007",
      );
    };
    const disconnect = (): void => {
      if (a_handle >= 0) A.gap.gap_disconnect(a_handle);
      assert.ok(
        rl.run_until(() => a_handle < 0 && B.sm.state.connections.length === 0, 10_000),
        'disconnected',
      );
    };
    const encrypt = (): void => {
      A.gap.gap_request_security_level(a_handle, 2);
      assert.ok(
        rl.run_until(() => encrypted || a_handle < 0, 10_000),
        'AES-CCM encryption after SSP',
      );
    };
    const preq = (): number[] => [
      0x01,
      int(6),
      int(4) === 0 ? int(2) : 0,
      [0, 0x20, 0x21, 0x29, 0x2d, int(256)][int(6)]!,
      [16, 16, 7 + int(10), int(256)][int(4)]!,
      int(8) === 0 ? int(256) : int(8),
      int(8) === 0 ? int(256) : int(8),
    ];
    const wellFormed = (): number[] => {
      const code = [0x02, 0x05, 0x08, 0x09, 0x0a, 0x06, 0x07, 0x03, 0x04, 0x0b, 0x0d, 0x0e][int(12)]!;
      return [code, ...bytes(sm_pdu_length(code) - 1)];
    };
    let last: number[] = preq();
    const next = (): number[] => {
      const r = rnd();
      let p: number[];
      if (r < 0.3) p = preq();
      else if (r < 0.6) p = wellFormed();
      else if (r < 0.68) p = last.slice(0, int(last.length));
      else if (r < 0.74) p = [...last, ...bytes(1 + int(4))];
      else if (r < 0.82) {
        p = last.slice();
        const i = int(p.length);
        p[i] = p[i]! ^ (1 << int(8));
      } else if (r < 0.88) p = [0x05, int(256)];
      else p = [int(256), ...bytes(int(70))];
      last = p.length > 0 ? p : last;
      return p;
    };
    connect();
    let sent = 0;
    let timeouts = 0;
    let cycles = 0;
    while (sent < BR_N) {
      const roll = rnd();
      if (roll < 0.002) {
        // a new link: unencrypted first, encrypted (stored link key, AES-CCM) after the next roll
        disconnect();
        connect();
        cycles++;
        continue;
      }
      if (roll < 0.0026) {
        rl.run_until(() => false, 31_000); // past the SMP timeout of an exchange under way
        timeouts++;
        continue;
      }
      if (!encrypted && roll < 0.012) {
        encrypt();
        if (a_handle < 0) connect();
        continue;
      }
      const pdu = Uint8Array.from(next());
      if (pdu.length === 0) continue;
      if (!rl.run_until(() => a_handle >= 0 && A.l2cap.l2cap_can_send_fixed_channel_packet_now(a_handle, 0x0007), 1000)) {
        if (a_handle < 0) connect();
        continue;
      }
      assert.is(A.l2cap.l2cap_send_connectionless(a_handle, 0x0007, pdu, pdu.length), 0, 'sent');
      sent++;
      bump(encrypted ? 'sent enc' : 'sent plain');
      rl.run_until(() => false, 3);
    }
    disconnect();
    assert.is(db.le_device_db_count(), 0, 'no bond left (derived ones were removed at once)');
    const c = (k: string): number => counts.get(k) ?? 0;
    assert.ok(c('sent plain') > BR_N / 10 && c('sent enc') > BR_N / 10, `both kinds of link fuzzed: ${[...counts]}`);
    assert.ok(c('pdu 0x5/e') > 100, 'Pairing Requests refused 0x0E on unencrypted links');
    assert.ok(c('pdu 0x2 enc') > 100, 'Pairing Responses on SC-encrypted links');
    assert.ok(c('pdu 0x8 enc') > 10 && c('pdu 0xa enc') > 10, "B's identity and signing keys distributed");
    assert.ok(c('pdu 0x5/8 enc') + c('pdu 0x5/a enc') + c('pdu 0x5/7 enc') > 100, 'exchanges under way refused');
    assert.ok(cycles > 5 && timeouts > 0, `cycles ${cycles}, timeouts ${timeouts}`);
    assert.is(c('event 0xd4'), c('event 0xd5'), 'every PAIRING_STARTED has its PAIRING_COMPLETE');
    assert.ok(c('derived') > 0 && c('paired, no bond') > 0, 'valid exchanges among the fuzz, with and without a bond');
    if (process.env.SM_FUZZ_VERBOSE) console.log(profile, [...counts].sort().join(' | '), 'cycles', cycles, 'timeouts', timeouts);
    A.hci.hci_power_control(0);
    B.hci.hci_power_control(0);
    rl.run_until(() => A.hci.hci_get_state() === 0 && B.hci.hci_get_state() === 0, 10_000);
    rl.run(1000);
    assert.equal(A.pools.busy(), []);
    assert.equal(B.pools.busy(), []);
  });
}

test.run();
