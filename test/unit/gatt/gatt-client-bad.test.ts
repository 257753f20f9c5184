/**
 * Bad server input at a live GATT client (fake L2CAP fixed channel): short PDUs, wrong opcodes,
 * handles going backwards (followed, as BTstack's gatt_client.c does, until the 30 s query timer
 * ends the query), and a seeded fuzz of >= 100,000 random and mutated server PDUs. Nothing throws,
 * every accepted query ends with exactly one GATT_EVENT_QUERY_COMPLETE, pools go back to full.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GattHarness, HANDLE, h } from './gatt-harness.js';

test('short and unexpected PDUs are ignored; the query then ends by the 30 s timeout', () => {
  const g = new GattHarness('v1.4');
  g.client.gatt_client_discover_primary_services(g.handler, HANDLE);
  g.mtu();
  g.got();
  for (const pdu of [
    '',
    '01',
    '01 10 0100',
    '09 07 0200',
    '0b 41',
    '13',
    '17 0300',
    '19',
    '03',
    '1b 03',
    '1d',
    '05 01',
    'ff 00 00',
  ])
    g.inject(pdu);
  assert.equal(g.got(), []);
  assert.equal(g.sent(), []);
  g.rl.advance(30_000);
  assert.equal(g.got(), [h('a0 03 4000 7f')]);
  // a Read By Group Type Response without a list ends the discovery (BTstack: last handle 0xFFFF)
  g.client.gatt_client_discover_primary_services(g.handler, HANDLE);
  assert.equal(g.sent(), [h('10 0100 ffff 0028')]);
  g.inject('11');
  assert.equal(g.got(), [h('a0 03 4000 00')]);
  g.disconnect();
  assert.ok(g.pools.all_free());
});

test('handles going backwards: the next request starts after the last handle seen (BTstack continues)', () => {
  const g = new GattHarness('v1.4');
  g.client.gatt_client_discover_primary_services(g.handler, HANDLE);
  assert.equal(g.mtu(), [h('10 0100 ffff 0028')]);
  g.inject('11 06 2000 3000 0018');
  assert.equal(g.sent(), [h('10 3100 ffff 0028')]);
  g.inject('11 06 0100 0500 0018'); // backwards
  assert.equal(g.sent(), [h('10 0600 ffff 0028')]);
  g.inject('11 06 0600 ffff 0f18'); // end 0xFFFF: done
  assert.equal(g.got().length, 1 + 3 + 1); // MTU, three services, complete
  // an entry length that cannot hold the end handle ends the query at once
  g.client.gatt_client_discover_primary_services(g.handler, HANDLE);
  assert.equal(g.sent(), [h('10 0100 ffff 0028')]);
  g.inject('11 01 00');
  assert.equal(g.got(), [h('a0 03 4000 00')]);
});

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

const RESPONSES = [0x01, 0x03, 0x05, 0x07, 0x09, 0x0b, 0x0d, 0x0f, 0x11, 0x13, 0x17, 0x19, 0x1b, 0x1d, 0x21, 0x23];
const LENGTHS = [0, 1, 2, 4, 6, 7, 8, 16, 18, 20, 21, 22];
/** Well-formed answers to mutate. */
const GOOD = [
  '11 06 0100 0500 0018 0600 0900 0f18',
  '07 0600 0900',
  '09 07 0200 02 0300 002a 0400 0a 0500 012a',
  '09 08 0200 0a00 0f00 0f18',
  '09 06 0200 0a00 0f00',
  '09 04 0400 0000',
  '05 01 0600 0229 0700 0129',
  '0b' + '11'.repeat(22),
  '0d 2222',
  '17 0300 0000 0001',
  '01 10 0a00 0a',
  '03 0002',
].map((s) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex')));

test('fuzz: 100,000+ random and mutated server PDUs; one QUERY_COMPLETE per query, no throw, pools back to full', () => {
  for (const profile of ['v1.4', 'v1.8'] as const) {
    const r = prng(profile === 'v1.4' ? 14 : 18);
    const g = new GattHarness(profile);
    const value = Uint8Array.from({ length: 40 }, (_, i) => i);
    const service = { start_group_handle: 1, end_group_handle: 0x30, uuid16: 0, uuid128: new Uint8Array(16) };
    const characteristic = {
      start_handle: 2,
      value_handle: 3,
      end_handle: 0x10,
      properties: 0x3e,
      uuid16: 0,
      uuid128: new Uint8Array(16),
    };
    const queries: (() => number)[] = [
      () => g.client.gatt_client_discover_primary_services(g.handler, HANDLE),
      () => g.client.gatt_client_discover_primary_services_by_uuid16(g.handler, HANDLE, 0x180f),
      () => g.client.gatt_client_discover_primary_services_by_uuid128(g.handler, HANDLE, value.subarray(0, 16)),
      () => g.client.gatt_client_find_included_services_for_service(g.handler, HANDLE, service),
      () => g.client.gatt_client_discover_characteristics_for_service(g.handler, HANDLE, service),
      () => g.client.gatt_client_discover_characteristics_for_service_by_uuid16(g.handler, HANDLE, service, 0x2a01),
      () => g.client.gatt_client_discover_characteristic_descriptors(g.handler, HANDLE, characteristic),
      () => g.client.gatt_client_read_value_of_characteristic(g.handler, HANDLE, characteristic),
      () => g.client.gatt_client_read_value_of_characteristics_by_uuid16(g.handler, HANDLE, 1, 0xffff, 0x2a19),
      () => g.client.gatt_client_read_long_value_of_characteristic(g.handler, HANDLE, characteristic),
      () => g.client.gatt_client_read_multiple_characteristic_values(g.handler, HANDLE, 2, [3, 5]),
      () => g.client.gatt_client_write_value_of_characteristic(g.handler, HANDLE, 3, 4, value),
      () => g.client.gatt_client_write_long_value_of_characteristic(g.handler, HANDLE, 3, 40, value),
      () => g.client.gatt_client_reliable_write_long_value_of_characteristic(g.handler, HANDLE, 3, 40, value),
      () => g.client.gatt_client_write_client_characteristic_configuration(g.handler, HANDLE, characteristic, 1),
      () => g.client.gatt_client_read_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 4),
      () => g.client.gatt_client_read_long_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 4),
      () => g.client.gatt_client_write_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 4, 2, value),
      () => g.client.gatt_client_write_long_characteristic_descriptor_using_descriptor_handle(g.handler, HANDLE, 4, 40, value),
    ];
    g.client.gatt_client_listen_for_characteristic_value_updates(
      { callback: null, con_handle: 0, attribute_handle: 0 },
      g.listener,
      0xffff,
      null,
    );
    let started = 0;
    let completed = 0;
    let pdus = 0;
    const count = (): void => {
      for (const e of g.events.splice(0)) if (e[0] === 0xa0) completed++;
      g.notes.length = 0;
    };
    while (pdus < 55_000) {
      count();
      if (g.client.gatt_client_is_ready(HANDLE)) {
        assert.is(completed, started);
        if (queries[Math.floor(r() * queries.length)]!() === 0) started++;
      }
      g.l2cap.out.length = 0;
      let pdu: Uint8Array;
      const k = r();
      if (k < 0.5) {
        pdu = Uint8Array.from(GOOD[Math.floor(r() * GOOD.length)]!);
        for (let m = 1 + Math.floor(r() * 3); m > 0 && pdu.length; m--) pdu[Math.floor(r() * pdu.length)] = Math.floor(r() * 256);
        if (r() < 0.3) pdu = pdu.subarray(0, Math.floor(r() * pdu.length));
      } else {
        pdu = Uint8Array.from({ length: Math.floor(r() * 24) }, () => Math.floor(r() * 256));
        if (pdu.length) pdu[0] = r() < 0.9 ? RESPONSES[Math.floor(r() * RESPONSES.length)]! : pdu[0]!;
        if (pdu.length > 1) pdu[1] = LENGTHS[Math.floor(r() * LENGTHS.length)]!;
      }
      g.inject(pdu);
      pdus++;
      if (r() < 0.002) g.rl.advance(30_000);
      if (r() < 0.001) {
        g.disconnect();
        count();
        assert.is(completed, started);
        assert.ok(g.pools.all_free());
        g.connected.add(HANDLE);
      }
    }
    g.disconnect();
    count();
    assert.is(completed, started, 'one QUERY_COMPLETE per accepted query');
    assert.ok(started > 1000, `queries started: ${started}`);
    assert.ok(g.pools.all_free());
    assert.is(g.rl.timer_count(), 0);
  }
});

test.run();
