/**
 * The GATT client's response parser at a live stack: A's GATT client runs random queries against
 * B (our ATT server on the e2e database, gatt-helpers.ts) while B's application also sends random
 * and mutated ATT PDUs with client-side opcodes (responses, notifications, indications) on CID
 * 0x0004 over the virtual radio: 100,000 PDUs per profile (seeded). Nothing throws, every accepted
 * query ends with exactly one GATT_EVENT_QUERY_COMPLETE, and after disconnect and power off the
 * pools are back to full. (test/unit/gatt/gatt-client-bad.test.ts fuzzes the same parser on a fake
 * L2CAP; this one goes through HCI, L2CAP and att_dispatch.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PacketHandler } from '../../src/hci/hci-service.js';
import type { GattClientCharacteristic, GattClientService } from '../../src/gatt/gatt-client-types.js';
import { gatt_pair } from './gatt-helpers.js';

const N = 100_000;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OPCODES = [0x01, 0x03, 0x05, 0x07, 0x09, 0x0b, 0x0d, 0x0f, 0x11, 0x13, 0x17, 0x19, 0x1b, 0x1d, 0x21, 0x23];
/** Well-formed server PDUs to mutate (Core Vol 3 Part F 3.4). */
const GOOD = [
  '11 06 0100 0300 0018 0400 0700 0f18',
  '07 0800 1100',
  '09 07 0500 12 0600 192a',
  '09 08 0900 0400 0700 0f18',
  '05 01 1100 0229',
  '0b 6761747420653265',
  '0d 6b6c6d6e',
  '17 0d00 0000 0102',
  '19',
  '13',
  '01 0a 0300 0a',
  '03 6400',
  '1b 0600 63',
  '1d 1000 696e64',
].map((s) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex')));

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: 100,000 random / mutated server PDUs at a live GATT client; one QUERY_COMPLETE per query; pools full`, () => {
    const r = prng(profile === 'v1.4' ? 0x6a77 : 0x6a78);
    const g = gatt_pair(profile, `fuzz-${profile}`, false);
    const { A, B, con, con_b, rl } = g;
    const gc = A.gatt_client;
    let started = 0;
    let completed = 0;
    let other = 0;
    const handler: PacketHandler = (_t, _c, p) => {
      if (p[0] === 0xa0) completed++;
      else other++;
    };
    const service: GattClientService = { start_group_handle: 8, end_group_handle: 0x11, uuid16: 0, uuid128: new Uint8Array(16) };
    const ch: GattClientCharacteristic = {
      start_handle: 0x0f,
      value_handle: 0x10,
      end_handle: 0x11,
      properties: 0x32,
      uuid16: 0,
      uuid128: new Uint8Array(16),
    };
    const value = Uint8Array.from({ length: 150 }, (_, i) => i);
    const queries: Array<() => number> = [
      () => gc.gatt_client_discover_primary_services(handler, con),
      () => gc.gatt_client_discover_primary_services_by_uuid16(handler, con, 0x180f),
      () => gc.gatt_client_find_included_services_for_service(handler, con, service),
      () => gc.gatt_client_discover_characteristics_for_service(handler, con, service),
      () => gc.gatt_client_discover_characteristic_descriptors(handler, con, ch),
      () => gc.gatt_client_read_value_of_characteristic_using_value_handle(handler, con, 1 + Math.floor(r() * 0x14)),
      () => gc.gatt_client_read_value_of_characteristics_by_uuid16(handler, con, 1, 0xffff, 0x2a19),
      () => gc.gatt_client_read_long_value_of_characteristic_using_value_handle(handler, con, 0x000b),
      () => gc.gatt_client_read_multiple_characteristic_values(handler, con, 2, [3, 6]),
      () => gc.gatt_client_write_value_of_characteristic(handler, con, 0x000d, 5, value),
      () => gc.gatt_client_write_long_value_of_characteristic(handler, con, 0x000d, 150, value),
      () => gc.gatt_client_reliable_write_long_value_of_characteristic(handler, con, 0x000d, 120, value),
      () => gc.gatt_client_write_client_characteristic_configuration(handler, con, ch, 1 + Math.floor(r() * 2)),
      () => gc.gatt_client_read_characteristic_descriptor_using_descriptor_handle(handler, con, 0x0011),
      () => gc.gatt_client_read_long_characteristic_descriptor_using_descriptor_handle_with_offset(handler, con, 0x0011, 0),
      () => gc.gatt_client_write_characteristic_descriptor_using_descriptor_handle(handler, con, 0x0011, 2, value),
      () => gc.gatt_client_write_long_characteristic_descriptor_using_descriptor_handle(handler, con, 0x0011, 150, value),
    ];
    const pdu = new Uint8Array(64);
    let sent = 0;
    while (sent < N) {
      if (gc.gatt_client_is_ready(con) && r() < 0.3) {
        const st = queries[Math.floor(r() * queries.length)]!();
        if (st === 0) started++;
      }
      let n: number;
      if (r() < 0.5) {
        const good = GOOD[Math.floor(r() * GOOD.length)]!;
        pdu.set(good);
        n = good.length;
        const flips = 1 + Math.floor(r() * 3);
        for (let i = 0; i < flips; i++) pdu[1 + Math.floor(r() * Math.max(1, n - 1))] = Math.floor(r() * 256);
        if (r() < 0.2) n = Math.max(1, Math.floor(r() * n));
      } else {
        n = 1 + Math.floor(r() * 24);
        for (let i = 0; i < n; i++) pdu[i] = Math.floor(r() * 256);
        pdu[0] = OPCODES[Math.floor(r() * OPCODES.length)]!;
      }
      if (B.l2cap.l2cap_can_send_fixed_channel_packet_now(con_b, 4)) {
        assert.is(B.l2cap.l2cap_send_connectionless(con_b, 4, pdu, n), 0);
        sent++;
      }
      rl.run(r() < 0.01 ? 40_000 : 2);
    }
    // let the last queries end (answers or the 30 s timer)
    g.until(() => completed === started, 'every query completed', 120_000);
    assert.is(completed, started, 'one QUERY_COMPLETE per query');
    assert.ok(started > 1000, `${started} queries`);
    assert.ok(A.hci.hci_connection_for_handle(con), 'the link is still up');
    console.log(`${profile}: ${sent} PDUs, ${started} queries, ${other} result events`);
    g.close();
    for (const s of [A, B]) assert.equal(s.pools.busy(), [], 'pools back to full');
  });
}

test.run();
