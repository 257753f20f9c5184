/**
 * Fuzz the ATT server at a live stack (seeded, reproducible): two Stacks on one RadioLink (virtual
 * time). B serves the db of test/unit/att/att-server-harness.ts through stack.att_server (dynamic
 * attributes, a prepared-write queue of 4 in the app, indications now and then); A is a raw peer on
 * the ATT fixed channel (l2cap_register_fixed_channel / l2cap_send_connectionless) sending 120,000
 * random and mutated PDUs (60,000 per code profile, over four connections each): well-formed
 * requests of every opcode with random handles / ranges / UUIDs, then truncated, extended,
 * bit-flipped, opcode-swapped copies, pure noise, commands, responses, confirmations.
 *
 * For each PDU, what a user sees: nothing throws; a request (even opcode, bit 6 clear, fitting the
 * server's request buffer; a Handle Value Confirmation only when no indication waits) is answered
 * exactly once, by its response opcode or an Error Response naming it, never longer than the
 * connection's ATT_MTU; commands, responses, notifications and a due confirmation get no answer.
 * After the last link went down: both stacks' pools back to full, no ATT timers left.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { little_endian_read_16, sscanf_bd_addr } from '../../src/core/bytes.js';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { Stack } from '../../src/stack.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { DB } from '../unit/att/att-server-harness.js';
import { prng } from '../unit/att/helpers.js';

const PER_PROFILE = Number(process.env.ATT_FUZZ_N ?? 60_000);
const ROUNDS = 4;
const ADDR_A = sscanf_bd_addr('AA:00:00:00:00:0A')!;
const ADDR_B = sscanf_bd_addr('BB:00:00:00:00:0B')!;
/** Requests the server answers (Vol 3 Part F 3.4.8), with the response opcode. */
const REQUESTS: Record<number, number> = {
  0x02: 0x03,
  0x04: 0x05,
  0x06: 0x07,
  0x08: 0x09,
  0x0a: 0x0b,
  0x0c: 0x0d,
  0x0e: 0x0f,
  0x10: 0x11,
  0x12: 0x13,
  0x16: 0x17,
  0x18: 0x19,
  0x20: 0x21,
};
const UUIDS = [
  [0x00, 0x28],
  [0x01, 0x28],
  [0x03, 0x28],
  [0x02, 0x29],
  [0x00, 0x2a],
  [0x19, 0x2a],
  [0x01, 0x2a],
  [0xfb, 0x34, 0x9b, 0x5f, 0x80, 0x00, 0x00, 0x80, 0x00, 0x10, 0x00, 0x00, 0x11, 0xff, 0x00, 0x00],
  [0xfb, 0x34, 0x9b, 0x5f, 0x80, 0x00, 0x00, 0x80, 0x00, 0x10, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00],
];

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: ${PER_PROFILE} random and mutated ATT PDUs at a live ATT server: each request answered once, pools full`, () => {
    const rnd = prng(profile === 'v1.4' ? 0xa77 : 0xa78);
    const int = (n: number): number => Math.floor(rnd() * n);
    const pick = <T>(a: readonly T[]): T => a[int(a.length)]!;
    const rl = new VirtualRunLoop();
    const link = new RadioLink(rl, { seed: `att-fuzz-${profile}` });
    const A = new Stack({
      transport: new VirtualTransport(link.create_controller({ bd_addr: ADDR_A, name: 'a' })),
      run_loop: rl,
      profile,
    });
    const B = new Stack({
      transport: new VirtualTransport(link.create_controller({ bd_addr: ADDR_B, name: 'b' })),
      run_loop: rl,
      profile,
    });
    // ---- B: the ATT server and an app with dynamic values and a bounded prepared-write queue
    let queued = 0;
    let b_handle = -1;
    const values = new Map<number, Uint8Array>([[0x0a, Uint8Array.from({ length: 40 }, (_, i) => i)]]);
    const server = B.att_server;
    server.att_server_init(
      DB,
      (_c, handle, offset, buffer, size) => {
        if (handle === 0x0c && rnd() < 0.1) return 0xfe00 + 0x80; // ATT_READ_ERROR_CODE_OFFSET + app error
        const v = values.get(handle) ?? new Uint8Array(handle & 3);
        if (!buffer) return v.length;
        const n = Math.max(0, Math.min(size, v.length - offset));
        buffer.set(v.subarray(offset, offset + n), 0);
        return n;
      },
      (_c, handle, mode, offset, buffer, size) => {
        if (mode === 1) {
          if (queued >= 4) return 0x09; // ATT_ERROR_PREPARE_QUEUE_FULL
          queued++;
          return offset > 40 ? 0x07 : size > 30 ? 0x0d : 0;
        }
        if (mode === 2 || mode === 3) queued = 0;
        if (mode === 0 && handle !== 0) values.set(handle, Uint8Array.from(buffer.subarray(0, size)));
        return rnd() < 0.05 ? 0x80 : 0;
      },
    );
    server.att_server_register_packet_handler((type, _ch, p) => {
      if (type === 0x04 && p[0] === B.codes.ATT_EVENT_CONNECTED) b_handle = B.codes.att_event_connected_get_handle(p);
      if (type === 0x04 && p[0] === B.codes.ATT_EVENT_DISCONNECTED) b_handle = -1;
    });
    const max_request = server.state.max_mtu;
    // ---- A: a raw peer on the ATT channel
    const answers: Uint8Array[] = [];
    let indication_waiting = false;
    let indication_at = 0;
    let a_handle = -1;
    A.l2cap.l2cap_register_fixed_channel((type, channel, p, size) => {
      if (type !== 0x08 || channel !== a_handle) return;
      const pdu = Uint8Array.from(p.subarray(0, size));
      if (pdu[0] === 0x1d) {
        indication_waiting = true;
        indication_at = rl.get_time_ms();
      } else if (pdu[0] !== 0x1b) answers.push(pdu);
    }, 0x0004);
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
    const g = B.gap;
    g.gap_advertisements_set_params(0x20, 0x20, 0, 0, new Uint8Array(6), 7, 0);
    g.gap_advertisements_set_data(3, Uint8Array.of(0x02, 0x01, 0x06));
    g.gap_advertisements_enable(1);

    // ---- PDUs
    const u16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
    const handle = (): number => (rnd() < 0.85 ? int(0x14) : int(0x10000));
    const range = (): number[] => {
      const s = handle();
      return [...u16(s), ...u16(rnd() < 0.7 ? 0xffff : rnd() < 0.5 ? s + int(8) : handle())];
    };
    const bytes = (n: number): number[] => Array.from({ length: n }, () => int(256));
    const well_formed = (): number[] => {
      const op = pick(Object.keys(REQUESTS).map(Number));
      switch (op) {
        case 0x02:
          return [op, ...u16(rnd() < 0.5 ? 23 + int(300) : int(0x10000))];
        case 0x04:
          return [op, ...range()];
        case 0x06:
          return [
            op,
            ...range(),
            ...u16(pick([0x2800, 0x2801, 0x2803, int(0x10000)])),
            ...pick([[0x0f, 0x18], [0x00, 0x18], UUIDS[7]!, bytes(int(6))]),
          ];
        case 0x08:
        case 0x10:
          return [op, ...range(), ...pick(UUIDS)];
        case 0x0a:
          return [op, ...u16(handle())];
        case 0x0c:
          return [op, ...u16(handle()), ...u16(rnd() < 0.7 ? int(45) : int(0x10000))];
        case 0x0e:
        case 0x20:
          return [op, ...Array.from({ length: 2 + int(5) }, () => u16(handle())).flat()];
        case 0x12:
          return [op, ...u16(handle()), ...bytes(int(30))];
        case 0x16:
          return [op, ...u16(handle()), ...u16(rnd() < 0.8 ? int(50) : int(0x10000)), ...bytes(int(40))];
        default:
          return [op, rnd() < 0.8 ? int(2) : int(256)];
      }
    };
    const mutate = (b: number[]): number[] => {
      const m = b.slice();
      switch (int(6)) {
        case 0:
          return m.slice(0, int(m.length + 1));
        case 1:
          return [...m, ...bytes(1 + int(8))];
        case 2:
          for (let k = 0, n = 1 + int(3); k < n && m.length > 0; k++) m[int(m.length)]! ^= 1 << int(8);
          return m;
        case 3:
          m[0] = int(256);
          return m;
        case 4:
          m[0] = (m[0]! | 0x40) & 0xff; // the command form of a request
          return m;
        default:
          return bytes(int(rnd() < 0.95 ? 40 : max_request + 20));
      }
    };
    const next_pdu = (): number[] => {
      const r = rnd();
      if (r < 0.4) return well_formed();
      if (r < 0.9) return mutate(well_formed());
      if (r < 0.95) return [pick([0x52, 0xd2, 0x1e, 0x1b, 0x1d, 0x01, 0x03, 0x13]), ...bytes(int(20))];
      return [0x52, ...u16(handle()), ...bytes(int(20))];
    };

    const pdu = new Uint8Array(2048);
    let requests = 0;
    let silent = 0;
    let indications = 0;
    for (let round = 0; round < ROUNDS; round++) {
      answers.length = 0;
      indication_waiting = false;
      assert.is(A.gap.gap_connect(ADDR_B, 0), 0);
      assert.ok(
        rl.run_until(() => a_handle >= 0 && b_handle >= 0, 60_000),
        `LE connection, round ${round}`,
      );
      for (let i = 0; i < PER_PROFILE / ROUNDS; i++) {
        const b = next_pdu();
        const len = Math.min(b.length, pdu.length);
        pdu.set(b.slice(0, len), 0);
        if (rnd() < 0.01 && server.att_server_indicate(b_handle, 0x06, Uint8Array.of(int(256))) === 0) {
          indications++;
          assert.ok(
            rl.run_until(() => indication_waiting, 1000),
            'indication arrives',
          );
        }
        const op = pdu[0]!;
        let expected = len >= 1 && len <= max_request && (op & 0x41) === 0 ? 1 : 0;
        // a confirmation after the server's 30 s timeout is a stray one (3.3.3): Request Not Supported
        if (indication_waiting && rl.get_time_ms() - indication_at >= 30_000) indication_waiting = false;
        if (op === 0x1e && len >= 1 && indication_waiting) {
          expected = 0;
          indication_waiting = false;
        }
        const st = A.l2cap.l2cap_send_connectionless(a_handle, 0x0004, pdu, len);
        if (st !== 0) {
          assert.ok(len === 0 || st === 0x57, `send status 0x${st.toString(16)}`); // empty PDUs / full buffers: nothing sent
          rl.run_until(() => false, 40);
          continue;
        }
        if (expected) {
          requests++;
          assert.ok(
            rl.run_until(() => answers.length > 0, 1000),
            `answer to ${Buffer.from(pdu.subarray(0, len)).toString('hex')}`,
          );
          rl.run_until(() => false, 5); // a second answer would show up here
        } else {
          silent++;
          rl.run_until(() => false, 40);
        }
        assert.is(answers.length, expected, `answers to ${Buffer.from(pdu.subarray(0, len)).toString('hex')}`);
        if (expected) {
          const a = answers[0]!;
          const ok = a[0] === REQUESTS[op] || (a[0] === 0x01 && a.length === 5 && a[1] === op);
          assert.ok(ok, `answer ${Buffer.from(a).toString('hex')} to ${Buffer.from(pdu.subarray(0, len)).toString('hex')}`);
          if (REQUESTS[op] === undefined) assert.is(a[4], 0x06, 'unknown request: Request Not Supported');
          assert.ok(a.length <= server.att_server_get_mtu(b_handle), 'answer fits ATT_MTU');
        }
        answers.length = 0;
      }
      assert.is(A.gap.gap_disconnect(a_handle), 0);
      assert.ok(
        rl.run_until(() => a_handle < 0 && b_handle < 0, 60_000),
        'disconnected',
      );
    }
    console.log(`${profile}: ${requests} requests answered once, ${silent} PDUs unanswered as due, ${indications} indications`);
    assert.ok(requests > PER_PROFILE / 3);
    assert.equal(A.pools.busy(), []);
    assert.equal(B.pools.busy(), []);
    A.hci.hci_power_control(0);
    B.hci.hci_power_control(0);
    rl.run_until(() => A.hci.hci_get_state() === 0 && B.hci.hci_get_state() === 0, 10_000);
  });
}

test.run();
