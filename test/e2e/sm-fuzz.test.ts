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

test.run();
