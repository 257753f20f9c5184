/**
 * LE GAP against a scripted controller: the commands BTstack's gap.h calls send, byte for byte
 * (Core Vol 4 Part E 7.8.x), and the events apps see. Random address (7.8.4) and own address type
 * in advertising (7.8.5) / LE Create Connection (7.8.12); whitelist auto connection (7.8.16,
 * 7.8.12 with Initiator_Filter_Policy 1, 7.8.13, 7.8.17); LE Connection Update (7.8.18); answers
 * to LE Remote Connection Parameter Request (7.7.65.6 -> 7.8.31 / 7.8.32); LE Set Data Length
 * (7.8.33); LE Set PHY (7.8.49); v1.8's GAP_SUBEVENT_LE_CONNECTION_COMPLETE; LE Enhanced
 * Connection Complete (7.7.65.10).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { cc, connect_le, cs, settle, u16, wire_addr, working } from './hci-script.js';

const P = 'C0:FF:EE:00:11:22';
const RND = 'C6:05:04:03:02:01';
const addr = (s: string) => sscanf_bd_addr(s)!;
/** BTstack's default LE connection parameters (scan 0x60/0x30, interval 8-0x18, latency 4, timeout 0x48, CE 2-0x30). */
const CONN_PARAMS = '08 00 18 00 04 00 48 00 02 00 30 00';

test('gap_random_address_set: LE Set Random Address, then advertising with own address type 1', () => {
  const h = working();
  h.stack.gap.gap_random_address_set(addr(RND));
  assert.equal(h.t.take_commands(), ['05 20 06 01 02 03 04 05 c6']);
  h.t.event(cc(0x2005));
  // the own address type is part of the advertising parameters: written again (defaults, type 1)
  assert.equal(h.t.take_commands(), ['06 20 0f 00 08 00 08 00 01 00 00 00 00 00 00 00 07 00']);
  h.t.event(cc(0x2006));
  h.stack.gap.gap_advertisements_set_params(0x30, 0x30, 0, 0, new Uint8Array(6), 7, 0);
  assert.equal(h.t.take_commands(), ['06 20 0f 30 00 30 00 00 01 00 00 00 00 00 00 00 07 00']);
  h.t.event(cc(0x2006));
  h.stack.gap.gap_advertisements_enable(1);
  assert.equal(h.t.take_commands(), ['0a 20 01 01']);
  h.t.event(cc(0x200a));
  // a new address while advertising: advertising off, address, parameters unchanged, on again
  h.stack.gap.gap_random_address_set(addr('C1:00:00:00:00:01'));
  assert.equal(h.t.take_commands(), ['0a 20 01 00']);
  h.t.event(cc(0x200a));
  assert.equal(h.t.take_commands(), ['05 20 06 01 00 00 00 00 c1']);
  h.t.event(cc(0x2005));
  assert.equal(h.t.take_commands(), ['0a 20 01 01']);
  h.t.event(cc(0x200a));
  const own = h.stack.gap.gap_le_get_own_address();
  assert.equal([own.addr_type, hex(own.addr)], [1, 'c1 00 00 00 00 01']);
});

test('gap_random_address_set_mode: STATIC makes a static random address, OFF goes back to public, RESOLVABLE refused without the SM', () => {
  const h = working();
  assert.is(h.stack.gap.gap_random_address_set_mode(3), 0x11); // resolvable: needs the Security Manager's IRK
  assert.is(h.stack.gap.gap_random_address_set_mode(4), 0x11);
  assert.equal(h.t.take_commands(), []);
  assert.is(h.stack.gap.gap_random_address_set_mode(1), 0);
  const [cmd] = h.t.take_commands();
  assert.ok(cmd!.startsWith('05 20 06 '));
  const msb = parseInt(cmd!.slice(-2), 16);
  assert.is(msb & 0xc0, 0xc0, 'static random: two top bits set (Vol 6 Part B 1.3.2.1)');
  assert.is(h.stack.gap.gap_random_address_get_mode(), 1);
  h.t.event(cc(0x2005));
  settle(h);
  // scanning from the random address: own address type 1 in LE Set Scan Parameters
  h.stack.gap.gap_start_scan();
  assert.equal(h.t.take_commands(), ['0b 20 07 01 e0 01 30 00 01 00']);
  h.t.event(cc(0x200b));
  assert.equal(h.t.take_commands(), ['0c 20 02 01 00']);
  h.t.event(cc(0x200c));
  h.stack.gap.gap_stop_scan();
  h.t.take_commands();
  h.t.event(cc(0x200c));
  assert.is(h.stack.gap.gap_random_address_set_mode(0), 0);
  settle(h);
  h.stack.gap.gap_connect(addr(P), 0);
  assert.equal(h.t.take_commands(), [`0d 20 19 60 00 30 00 00 00 ${wire_addr(P)} 00 ${CONN_PARAMS}`]);
});

test('NON_RESOLVABLE: a private address (top bits 00) now and every update period; advertising paused around LE Set Random Address', () => {
  const h = working();
  h.stack.gap.gap_advertisements_set_params(0x20, 0x20, 0, 0, new Uint8Array(6), 7, 0);
  h.t.take_commands();
  h.t.event(cc(0x2006));
  h.stack.gap.gap_advertisements_enable(1);
  assert.equal(h.t.take_commands(), ['0a 20 01 01']);
  h.t.event(cc(0x200a));
  h.stack.gap.gap_random_address_set_update_period(60_000);
  assert.is(h.stack.gap.gap_random_address_set_mode(2), 0);
  assert.is(h.stack.gap.gap_random_address_get_mode(), 2);
  const first: string[] = [];
  const rotate = (): void => {
    // LE Set Random Address is refused while advertising (Vol 4 Part E 7.8.4): off, address, parameters, on
    assert.equal(h.t.take_commands(), ['0a 20 01 00']);
    h.t.event(cc(0x200a));
    const [cmd] = h.t.take_commands();
    assert.ok(cmd!.startsWith('05 20 06 '), cmd);
    const wire = cmd!.slice(9);
    assert.is(parseInt(wire.slice(-2), 16) & 0xc0, 0x00, 'non-resolvable private: two top bits 0 (Vol 6 Part B 1.3.2.2)');
    first.push(wire);
    h.t.event(cc(0x2005));
    const rest = h.t.take_commands();
    if (rest[0]!.startsWith('06 20')) {
      // own address type 1 in the advertising parameters (first time only)
      assert.is(rest[0]!.split(' ')[8], '01');
      h.t.event(cc(0x2006));
      assert.equal(h.t.take_commands(), ['0a 20 01 01']);
    } else assert.equal(rest, ['0a 20 01 01']);
    h.t.event(cc(0x200a));
  };
  h.rl.run(0);
  rotate();
  h.rl.advance(59_000);
  assert.equal(h.t.take_commands(), [], 'nothing before the period');
  h.rl.advance(1_000);
  rotate();
  assert.is.not(first[0], first[1], 'a new address');
  assert.equal(hex(h.stack.gap.gap_le_get_own_address().addr).replace(/ /g, '').length, 12);
  assert.is(h.stack.gap.gap_le_get_own_address().addr_type, 1);
});

test('gap_connect by random address from a random address: peer type 1 and own address type 1', () => {
  const h = working();
  h.stack.gap.gap_random_address_set(addr(RND));
  assert.is(h.stack.gap.gap_connect(addr('D0:00:00:00:00:0D'), 1), 0);
  // LE Create Connection waits for the random address it uses
  assert.equal(h.t.take_commands(), ['05 20 06 01 02 03 04 05 c6']);
  h.t.event(cc(0x2005));
  assert.equal(h.t.take_commands(), [`0d 20 19 60 00 30 00 00 01 0d 00 00 00 00 d0 01 ${CONN_PARAMS}`]);
  h.t.event(cs(0x200d));
  h.clear();
  connect_le(h, 0x0040, 'D0:00:00:00:00:0D', 0, 1);
  assert.is(h.stack.gap.gap_get_connection_type(0x40), 3); // GAP_CONNECTION_LE
  assert.equal(h.stack.hci.hci_connection_for_bd_addr_and_type(addr('D0:00:00:00:00:0D'), 1)?.con_handle, 0x40);
});

test('gap_auto_connection_start: accept list entry, LE Create Connection with filter policy 1, entry removed once connected', () => {
  const h = working();
  assert.is(h.stack.gap.gap_auto_connection_start(0, addr(P)), 0);
  assert.equal(h.t.take_commands(), [`11 20 07 00 ${wire_addr(P)}`]);
  h.t.event(cc(0x2011));
  assert.equal(h.t.take_commands(), [`0d 20 19 60 00 30 00 01 00 00 00 00 00 00 00 00 ${CONN_PARAMS}`]);
  h.t.event(cs(0x200d));
  assert.is(h.stack.gap.gap_connect(addr('D0:00:00:00:00:0D'), 0), 0x0c, 'one LE connection attempt at a time');
  h.clear();
  connect_le(h, 0x0041, P, 0, 0);
  assert.equal(h.t.take_commands(), [`12 20 07 00 ${wire_addr(P)}`]);
  h.t.event(cc(0x2012));
  assert.equal(h.t.take_commands(), []);
  assert.is(h.stack.gap.gap_get_connection_type(0x41), 3); // GAP_CONNECTION_LE
});

test('gap_auto_connection_stop while connecting: Create Connection Cancel, LE Connection Complete 0x02, entry removed', () => {
  const h = working();
  h.stack.gap.gap_auto_connection_start(1, addr(RND));
  h.t.take_commands();
  h.t.event(cc(0x2011));
  h.t.take_commands();
  h.t.event(cs(0x200d));
  assert.is(h.stack.gap.gap_auto_connection_stop(1, addr(RND)), 0);
  assert.equal(h.t.take_commands(), ['0e 20 00']);
  h.t.event(cc(0x200e));
  h.clear();
  h.t.event('3e 13 01 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00');
  assert.equal(h.t.take_commands(), [`12 20 07 01 ${wire_addr(RND)}`]);
  h.t.event(cc(0x2012));
  assert.equal(h.t.take_commands(), []);
  assert.equal(h.stack.gap.gap_auto_connection_stop_all(), 0);
  assert.equal(h.t.take_commands(), []);
  // gap_connect works again
  assert.is(h.stack.gap.gap_connect(addr(P), 0), 0);
  assert.equal(h.t.take_commands().length, 1);
});

test('gap_update_connection_parameters: LE Connection Update; Connection Update Complete updates the link', () => {
  const h = working();
  connect_le(h, 0x0040, P, 0);
  assert.is(h.stack.gap.gap_update_connection_parameters(0x0040, 0x10, 0x20, 0, 0x64), 0);
  assert.equal(h.t.take_commands(), ['13 20 0e 40 00 10 00 20 00 00 00 64 00 02 00 30 00']);
  h.t.event(cs(0x2013));
  h.clear();
  h.t.event('3e 0a 03 00 40 00 20 00 00 00 64 00');
  assert.equal(
    h.events.map((e) => hex(e)),
    ['3e 0a 03 00 40 00 20 00 00 00 64 00'],
  );
  assert.is(h.stack.gap.gap_le_connection_interval(0x40), 0x20);
  assert.is(h.stack.gap.gap_update_connection_parameters(0x0099, 0x10, 0x20, 0, 0x64), 0x02);
});

test('LE Remote Connection Parameter Request: Reply inside the range, Negative Reply (0x3B) outside', () => {
  const h = working();
  connect_le(h, 0x0040, P, 0);
  h.t.event('3e 0b 06 40 00 10 00 20 00 02 00 c8 00');
  assert.equal(h.t.take_commands(), ['20 20 0e 40 00 10 00 20 00 02 00 c8 00 02 00 30 00']);
  h.t.event('0e 06 01 20 20 00 40 00');
  h.t.event('3e 0b 06 40 00 10 00 20 00 f5 01 c8 00'); // latency 501 > 500
  assert.equal(h.t.take_commands(), ['21 20 03 40 00 3b']);
  h.t.event('0e 06 01 21 20 00 40 00');
  // a narrower range set by the app
  const range = {
    le_conn_interval_min: 0,
    le_conn_interval_max: 0,
    le_conn_latency_min: 0,
    le_conn_latency_max: 0,
    le_supervision_timeout_min: 0,
    le_supervision_timeout_max: 0,
  };
  h.stack.gap.gap_get_connection_parameter_range(range);
  assert.equal(range.le_conn_interval_max, 3200);
  range.le_conn_interval_min = 0x18;
  h.stack.gap.gap_set_connection_parameter_range(range);
  assert.is(h.stack.gap.gap_connection_parameter_range_included(range, 0x10, 0x20, 0, 0xc8), 0);
  h.t.event('3e 0b 06 40 00 10 00 20 00 02 00 c8 00');
  assert.equal(h.t.take_commands(), ['21 20 03 40 00 3b']);
});

test('gap_le_set_data_length and gap_le_set_phy; events reach the app unchanged', () => {
  const h = working();
  connect_le(h, 0x0040, P, 0);
  assert.is(h.stack.gap.gap_le_set_data_length(0x40, 251, 2120), 0);
  assert.equal(h.t.take_commands(), ['22 20 06 40 00 fb 00 48 08']);
  h.t.event('0e 06 01 22 20 00 40 00');
  assert.is(h.stack.gap.gap_le_set_phy(0x40, 0, 2, 2, 0), 0);
  assert.equal(h.t.take_commands(), ['32 20 07 40 00 00 02 02 00 00']);
  h.t.event(cs(0x2032));
  h.clear();
  h.t.event('3e 0b 07 40 00 fb 00 48 08 fb 00 48 08');
  h.t.event('3e 06 0c 00 40 00 02 02');
  assert.equal(
    h.events.map((e) => hex(e)),
    ['3e 0b 07 40 00 fb 00 48 08 fb 00 48 08', '3e 06 0c 00 40 00 02 02'],
  );
  assert.is(h.stack.gap.gap_le_set_phy(0x99, 0, 2, 2, 0), 0x02);
  assert.is(h.stack.gap.gap_le_set_data_length(0x99, 251, 2120), 0x02);
});

test('gap_request_connection_parameter_update: peripheral only; L2CAP_EVENT_TRIGGER_RUN, then L2CAP takes it once', () => {
  for (const profile of ['v1.4', 'v1.8'] as const) {
    const h = working({ profile });
    connect_le(h, 0x0040, P, 1);
    connect_le(h, 0x0041, 'D0:00:00:00:00:0D', 0);
    h.clear();
    assert.is(h.stack.gap.gap_request_connection_parameter_update(0x41, 8, 16, 0, 100), 0x0c, 'central: not via L2CAP');
    assert.is(h.stack.gap.gap_request_connection_parameter_update(0x40, 8, 16, 0, 100), 0);
    assert.equal(
      h.events.map((e) => hex(e)),
      [profile === 'v1.4' ? '7f 00' : '7e 00'],
    );
    assert.equal(h.stack.gap.gap_le_take_connection_parameter_update_request(), {
      con_handle: 0x40,
      conn_interval_min: 8,
      conn_interval_max: 16,
      conn_latency: 0,
      supervision_timeout: 100,
    });
    assert.is(h.stack.gap.gap_le_take_connection_parameter_update_request(), null);
  }
});

test('v1.8: GAP_SUBEVENT_LE_CONNECTION_COMPLETE after LE Connection Complete (BTstack conversion); Enhanced accepted', () => {
  const h = working({ profile: 'v1.8' });
  connect_le(h, 0x0040, P, 1, 0);
  // 0xE7 len 0x22, subevent 0x08, status, handle, role, type, address, 12 zero (RPAs), interval
  // 0x18, latency 0, timeout 0x48, SCA 0, advertising handle 0xFF, sync handle 0xFFFF
  assert.equal(h.events.map((e) => hex(e)).slice(-1), [
    `e7 22 08 00 40 00 01 00 ${wire_addr(P)} ${'00 '.repeat(12)}18 00 00 00 48 00 00 ff ff ff`,
  ]);
  h.clear();
  const rpa = 'ee ee ee ee ee 7e';
  h.t.event(`3e 1f 0a 00 41 00 00 01 ${wire_addr(RND)} ${'00 '.repeat(6)}${rpa} 20 00 01 00 64 00 00`);
  h.rl.run(0);
  assert.equal(
    h.events.filter((e) => e[0] !== 0x61).map((e) => hex(e)),
    [
      `3e 1f 0a 00 41 00 00 01 ${wire_addr(RND)} ${'00 '.repeat(6)}${rpa} 20 00 01 00 64 00 00`,
      `e7 22 08 00 41 00 00 01 ${wire_addr(RND)} ${'00 '.repeat(6)}${rpa} 20 00 01 00 64 00 00 ff ff ff`,
    ],
  );
  assert.is(h.stack.gap.gap_le_connection_interval(0x41), 0x20);
  assert.equal(h.stack.hci.hci_connection_for_bd_addr_and_type(addr(RND), 1)?.con_handle, 0x41);
  // v1.4 has no GAP meta event
  const h4 = working({ profile: 'v1.4' });
  connect_le(h4, 0x0040, P, 1, 0);
  assert.ok(!h4.events.some((e) => e[0] === 0xe7));
});

test('fuzz: 10^5 random LE meta events (connection complete, update, parameter request, data length, PHY) never throw', () => {
  const h = working({ profile: 'v1.8' });
  let seed = 0x1234567;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const subs = [0x01, 0x03, 0x04, 0x06, 0x07, 0x0a, 0x0c, 0x02];
  for (let i = 0; i < 100000; i++) {
    const len = rnd(40);
    const p = new Uint8Array(len + 2);
    p[0] = 0x3e;
    p[1] = len;
    for (let j = 2; j < p.length; j++) p[j] = rnd(256);
    if (len > 0) p[2] = subs[rnd(subs.length)]!;
    if (len > 3) p[4] = rnd(4); // handles 0x000-0x003 + high byte: hit the records sometimes
    if (len > 4) p[5] = 0;
    h.t.event(hex(p));
    if (i % 64 === 0) settle(h);
    if (i % 1000 === 0) {
      for (const c of h.stack.hci.state.connections.list) if (c.con_handle !== 0xffff) h.stack.gap.gap_disconnect(c.con_handle);
      settle(h);
      for (const c of [...h.stack.hci.state.connections.list]) h.t.event(`05 04 00 ${u16(c.con_handle)} 16`);
      settle(h);
      h.clear();
    }
  }
  assert.is(h.stack.hci.hci_get_state(), 2);
  for (const c of [...h.stack.hci.state.connections.list]) h.t.event(`05 04 00 ${u16(c.con_handle)} 16`);
  settle(h);
  assert.ok(h.stack.pools.all_free(), 'connection records and buffers back');
});

test.run();
