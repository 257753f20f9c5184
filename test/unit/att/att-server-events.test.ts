/**
 * ATT_EVENT_* byte for byte in both code profiles (BTstack's btstack_defines.h layouts, the same
 * in v1.4.1 and v1.8: CONNECTED 0xB3 = address type, address (reversed), handle; DISCONNECTED 0xB4
 * = handle; MTU_EXCHANGE_COMPLETE 0xB5 = handle, MTU; HANDLE_VALUE_INDICATION_COMPLETE 0xB6 =
 * status, handle, attribute handle; CAN_SEND_NOW 0xB7 empty), notifications and indications
 * (Vol 3 Part F 3.4.7), the 30 s transaction timeout (3.3.3), and the connection pool.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, PEER, h } from './att-server-harness.js';

const LE_CONN = (role: number, type: number) =>
  h(
    `3e 13 01 00 40 00 ${role.toString(16).padStart(2, '0')} ${type.toString(16).padStart(2, '0')} 66 55 44 33 22 11 18 00 00 00 48 00 00`,
  );

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: connect -> LE Connection Complete forwarded, then ATT_EVENT_CONNECTED; disconnect -> ATT_EVENT_DISCONNECTED, then Disconnection Complete`, () => {
    const t = new Harness(profile);
    const hd = t.connect(1);
    assert.is(hd, 0x0040);
    assert.equal(t.events, [LE_CONN(1, 1), h('b3 09 01 66 55 44 33 22 11 40 00')]);
    t.events.length = 0;
    t.l2.disconnect(hd, 0x13);
    t.run_loop.run();
    assert.equal(t.events, [h('b4 02 40 00'), h('05 04 00 40 00 13')]);
    assert.ok(t.pools.all_free());
    assert.is(t.server.att_server_get_mtu(hd), 0);
    // public address type 0
    t.events.length = 0;
    t.connect(0);
    assert.equal(t.events[1], h('b3 09 00 66 55 44 33 22 11 41 00'));
  });

  test(`${profile}: ATT_EVENT_MTU_EXCHANGE_COMPLETE after the response; ATT_EVENT_CAN_SEND_NOW once per request`, () => {
    const t = new Harness(profile);
    const hd = t.connect();
    t.events.length = 0;
    assert.is(t.rsp('02 00 02'), h('03 00 02'));
    assert.equal(t.events, [h('b5 04 40 00 00 02')]);
    t.events.length = 0;
    assert.is(t.server.att_server_request_can_send_now_event(hd), 0);
    t.run_loop.run();
    assert.equal(t.events, [h('b7 00')]);
    t.run_loop.run();
    assert.is(t.events.length, 1);
    // blocked: the event waits for L2CAP's can-send-now
    t.events.length = 0;
    t.l2.blocked = true;
    assert.is(t.server.att_server_can_send_packet_now(hd), false);
    t.server.att_server_request_can_send_now_event(hd);
    t.run_loop.run();
    assert.equal(t.events, []);
    t.l2.unblock();
    t.run_loop.run();
    assert.equal(t.events, [h('b7 00')]);
    assert.is(t.server.att_server_can_send_packet_now(hd), true);
    assert.is(t.server.att_server_request_can_send_now_event(0x0999), 0x02);
  });

  test(`${profile}: notify (3.4.7.1) and indicate (3.4.7.2) with ATT_EVENT_HANDLE_VALUE_INDICATION_COMPLETE status 0`, () => {
    const t = new Harness(profile);
    const hd = t.connect();
    t.events.length = 0;
    assert.is(t.server.att_server_notify(hd, 0x0006, Uint8Array.of(0x55)), 0);
    assert.is(t.server.att_server_notify(hd, 0x0006, new Uint8Array(40).fill(0x11)), 0); // cut to ATT_MTU - 3 = 20
    assert.is(t.server.att_server_indicate(hd, 0x0006, Uint8Array.of(0x56), 1), 0);
    assert.is(t.server.att_server_indicate(hd, 0x0006, Uint8Array.of(0x57)), 0x90); // ATT_HANDLE_VALUE_INDICATION_IN_PROGRESS
    assert.equal(
      t.l2.sent.map((s) => h(Array.from(s.bytes, (b) => b.toString(16).padStart(2, '0')).join(''))),
      [h('1b 06 00 55'), h('1b 06 00' + '11'.repeat(20)), h('1d 06 00 56')],
    );
    assert.equal(t.req('1e'), []); // Handle Value Confirmation (3.4.7.3): no answer
    assert.equal(t.events, [h('b6 05 00 40 00 06 00')]);
    assert.is(t.server.att_server_indicate(hd, 0x0006, Uint8Array.of(0x58)), 0);
    assert.is(t.server.att_server_notify(0x0999, 6, Uint8Array.of(1)), 0x02);
    t.l2.blocked = true;
    assert.is(t.server.att_server_notify(hd, 6, Uint8Array.of(1)), 0x57); // BTSTACK_ACL_BUFFERS_FULL
  });

  test(`${profile}: indication timeout after 30 s (status 0x91, no further indications), disconnect (0x92)`, () => {
    const t = new Harness(profile);
    const hd = t.connect();
    t.events.length = 0;
    assert.is(t.server.att_server_indicate(hd, 0x0006, Uint8Array.of(1)), 0);
    t.run_loop.advance(29999);
    assert.equal(t.events, []);
    t.run_loop.advance(1);
    assert.equal(t.events, [h('b6 05 91 40 00 06 00')]);
    assert.is(t.server.att_server_indicate(hd, 0x0006, Uint8Array.of(1)), 0x90);
    // a second connection: the indication ends with the link
    t.events.length = 0;
    const h2 = t.l2.connect_remote(PEER, 0, 1);
    t.run_loop.run();
    t.events.length = 0;
    assert.is(t.server.att_server_indicate(h2, 0x0006, Uint8Array.of(2)), 0);
    t.l2.disconnect(h2, 0x08);
    t.run_loop.run();
    assert.equal(t.events, [h('b6 05 92 41 00 06 00'), h('b4 02 41 00'), h('05 04 00 41 00 08')]);
    t.l2.disconnect(hd);
    t.run_loop.run();
    assert.ok(t.pools.all_free());
    assert.is(t.run_loop.timer_count(), 0);
  });
}

test('the app asks for can-send-now inside its write callback (le-counter on a CCC write): one response, then one ATT_EVENT_CAN_SEND_NOW', () => {
  const t = new Harness();
  const hd = t.connect();
  t.events.length = 0;
  t.on_write = () => assert.is(t.server.att_server_request_can_send_now_event(hd), 0);
  assert.equal(t.req('12 0a 00 01 00'), [h('13')]);
  assert.equal(t.writes.length, 1);
  assert.equal(t.events, [h('b7 00')]);
  // the same from a Write Command (no response)
  t.events.length = 0;
  assert.equal(t.req('52 0a 00 01 00'), []);
  assert.equal(t.events, [h('b7 00')]);
  assert.is(t.writes.length, 2);
});

test('connection records from a fixed pool of MAX_NR_HCI_CONNECTIONS; one more link is not served', () => {
  const t = new Harness('v1.4', { MAX_NR_HCI_CONNECTIONS: 2 });
  const a = t.connect();
  const b = t.connect();
  const c = t.connect();
  assert.is(t.events.filter((e) => e.startsWith('b3')).length, 2);
  assert.equal(t.req('0a 03 00', c), []);
  assert.is(t.req('0a 03 00', b).length, 1);
  t.l2.disconnect(a);
  t.l2.disconnect(b);
  t.l2.disconnect(c);
  t.run_loop.run();
  assert.ok(t.pools.all_free());
});

test('prepared writes are cancelled at the app when the link goes; deinit frees every record', () => {
  const t = new Harness();
  const hd = t.connect();
  t.rsp('16 0a 00 00 00 41');
  t.writes.length = 0;
  t.l2.disconnect(hd);
  t.run_loop.run();
  assert.equal(
    t.writes.map((w) => w.mode),
    [3],
  );
  t.connect();
  t.server.att_server_deinit();
  assert.ok(t.pools.all_free());
  assert.equal(t.req('0a 03 00'), []);
});

test.run();
