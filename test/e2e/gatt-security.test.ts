/**
 * A protected characteristic end to end (two stacks on one RadioLink, SM on both, SC Just Works):
 * B's ATT server answers a read on an unencrypted link with Insufficient Encryption (0x0F); A's
 * GATT client then pairs and reads it, either on the error (gatt_client_set_pairing_on_security_error,
 * BTstack's ENABLE_GATT_CLIENT_PAIRING: the same Read Request again after pairing) or before the
 * query (gatt_client_set_required_security_level(LEVEL_2): not one ATT PDU before the pairing,
 * the MTU exchange included). Also: a failed pairing ends the query with the error; the
 * peripheral's sm_set_request_security pairs on connect. Events byte for byte; captures clean
 * (tshark whole, btmon without the Read By Type Requests).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../src/core/bytes.js';
import type { Stack } from '../../src/stack.js';
import { assertCleanGattCapture, gatt_pair, type GattPair } from './gatt-helpers.js';
import { tsharkFields } from '../helpers/capture.js';

// 0x0001 service FF00, 0x0002 decl, 0x0003 FF01 "secret" (READ_ENCRYPTED), 0x0004 decl, 0x0005 FF02 "open"
const DB = `PRIMARY_SERVICE, 0000FF00-0000-1000-8000-00805F9B34FB
CHARACTERISTIC, 0000FF01-0000-1000-8000-00805F9B34FB, READ | READ_ENCRYPTED, "secret"
CHARACTERISTIC, 0000FF02-0000-1000-8000-00805F9B34FB, READ, "open"
`;
const SECRET = hex(new TextEncoder().encode('secret')).replace(/ /g, '');

function sm_setup(decline_on_b = false, request_security = false) {
  return (A: Stack, B: Stack): void => {
    for (const s of [A, B]) {
      s.sm.sm_init();
      s.sm.sm_set_io_capabilities(3);
      s.sm.sm_set_authentication_requirements(0x09); // SC + bonding
      s.sm.sm_add_event_handler({
        callback: (_t: number, _c: number, p: Uint8Array) => {
          if (p[0] !== s.codes.SM_EVENT_JUST_WORKS_REQUEST) return;
          const h = p[2]! | (p[3]! << 8);
          s.run_loop.execute_on_main_thread(() =>
            s === B && decline_on_b ? s.sm.sm_bonding_decline(h) : s.sm.sm_just_works_confirm(h),
          );
        },
      });
    }
    if (request_security) B.sm.sm_set_request_security(true);
  };
}

function h16(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0') + (n >> 8).toString(16).padStart(2, '0');
}

/** GATT_EVENT_CHARACTERISTIC_VALUE_QUERY_RESULT (v1.4: A5 len handle(2) value_handle(2) len(2) value). */
function value_result(p: GattPair, handle: number, value_hex: string, profile: string): string {
  const n = value_hex.length / 2;
  const len = (2 + 2 + 2 + n + (profile === 'v1.8' ? 4 : 0)).toString(16).padStart(2, '0');
  const ids = profile === 'v1.8' ? '00000000' : '';
  return `a5${len}${h16(p.con)}${ids}${h16(handle)}${h16(n)}${value_hex}`;
}

function complete(p: GattPair, status: number, profile: string): string {
  return profile === 'v1.8'
    ? `a007${h16(p.con)}00000000${status.toString(16).padStart(2, '0')}`
    : `a003${h16(p.con)}${status.toString(16).padStart(2, '0')}`;
}

/** The query's events without GATT_EVENT_MTU (0xAB, the first query's MTU exchange). */
function q(p: GattPair, start: Parameters<GattPair['query']>[0]): string[] {
  return p.query(start).filter((e) => !e.startsWith('ab'));
}

function att_opcodes(log: string): string[] {
  return tsharkFields(log, ['btatt.opcode'], 'btatt').map((r) => r[0]!);
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: unencrypted read -> 0x0F; pairing on the error, the same Read Request again -> the value`, () => {
    const p = gatt_pair(profile, `gatt-sec-retry-${profile}`, true, { db: DB, before_connect: sm_setup() });
    const gc = p.A.gatt_client;
    assert.equal(
      q(p, (h) => gc.gatt_client_read_value_of_characteristic_using_value_handle(h, p.con, 0x0003)),
      [complete(p, 0x0f, profile)],
    );
    assert.is(p.A.gap.gap_security_level(p.con), 0);
    assert.equal(
      q(p, (h) => gc.gatt_client_read_value_of_characteristic_using_value_handle(h, p.con, 0x0005)),
      [value_result(p, 0x0005, '6f70656e', profile), complete(p, 0, profile)],
    );
    gc.gatt_client_set_pairing_on_security_error(true);
    assert.equal(
      q(p, (h) => gc.gatt_client_read_value_of_characteristic_using_value_handle(h, p.con, 0x0003)),
      [value_result(p, 0x0003, SECRET, profile), complete(p, 0, profile)],
    );
    assert.is(p.A.gap.gap_security_level(p.con), 2);
    p.close();
    for (const log of p.logs) assertCleanGattCapture(log);
    // A: MTU, read 0x0003 (error), read 0x0005, read 0x0003 (error), read 0x0003 again (value)
    const ops = att_opcodes(p.logs[0]!);
    assert.equal(
      ops.filter((o) => o === '0x0a' || o === '0x0b' || o === '0x01'),
      ['0x0a', '0x01', '0x0a', '0x0b', '0x0a', '0x01', '0x0a', '0x0b'],
    );
  });

  test(`${profile}: gatt_client_set_required_security_level(2): pairing before the first ATT PDU`, () => {
    const p = gatt_pair(profile, `gatt-sec-level-${profile}`, true, { db: DB, before_connect: sm_setup() });
    const gc = p.A.gatt_client;
    gc.gatt_client_set_required_security_level(2);
    assert.equal(
      q(p, (h) => gc.gatt_client_read_value_of_characteristic_using_value_handle(h, p.con, 0x0003)),
      [value_result(p, 0x0003, SECRET, profile), complete(p, 0, profile)],
    );
    p.close();
    for (const log of p.logs) assertCleanGattCapture(log);
    // no Error Response at all: the MTU exchange and the read went out after encryption
    assert.equal(
      att_opcodes(p.logs[0]!).filter((o) => o !== '0x03'),
      ['0x02', '0x0a', '0x0b'],
    );
  });

  test(`${profile}: the pairing fails (peer declines) -> QUERY_COMPLETE with the error`, () => {
    const p = gatt_pair(profile, `gatt-sec-fail-${profile}`, true, { db: DB, before_connect: sm_setup(true) });
    const gc = p.A.gatt_client;
    gc.gatt_client_set_required_security_level(3);
    assert.equal(
      q(p, (h) => gc.gatt_client_read_value_of_characteristic_using_value_handle(h, p.con, 0x0005)),
      [complete(p, 0x05, profile)], // level 3 asked: Insufficient Authentication
    );
    gc.gatt_client_set_required_security_level(0);
    gc.gatt_client_set_pairing_on_security_error(true);
    assert.equal(
      q(p, (h) => gc.gatt_client_read_value_of_characteristic_using_value_handle(h, p.con, 0x0003)),
      [complete(p, 0x0f, profile)], // pairing on the error fails: the error
    );
    p.close();
  });

  test(`${profile}: the peripheral asks for security on connect (sm_set_request_security): encrypted before the read`, () => {
    const p = gatt_pair(profile, `gatt-sec-req-${profile}`, true, { db: DB, before_connect: sm_setup(false, true) });
    p.until(() => p.A.gap.gap_security_level(p.con) === 2, 'paired on the Security Request');
    assert.equal(
      q(p, (h) => p.A.gatt_client.gatt_client_read_value_of_characteristic_using_value_handle(h, p.con, 0x0003)),
      [value_result(p, 0x0003, SECRET, profile), complete(p, 0, profile)],
    );
    p.close();
  });
}

test.run();
