/**
 * LE GAP end to end: two Stacks on one RadioLink (virtual time), a peripheral advertising from a
 * static random address, the central scanning (GAP_EVENT_ADVERTISING_REPORT, address type 1) and
 * connecting by that random address; LE connection update from the central and requested by the
 * peripheral (LE Remote Connection Parameter Request answered by the central's host); data length
 * and PHY; an ACL PDU both ways over the LE link; auto connection to an advertising peer; cancel.
 * Event layouts from Core Vol 4 Part E 7.7.65 and BTstack's GAP event tables; the btsnoop
 * captures are checked with tshark and btmon. Last: a raw HCI host (third-party style) on a
 * VirtualTransport sees the right address types.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex, little_endian_read_16, sscanf_bd_addr, type BdAddr } from '../../src/core/bytes.js';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { Stack } from '../../src/stack.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { assertCleanCapture } from '../helpers/capture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-le-gap-'));
const ADDR_A = sscanf_bd_addr('AA:00:00:00:00:01')!;
const ADDR_B = sscanf_bd_addr('BB:00:00:00:00:02')!;
const RND = sscanf_bd_addr('C6:05:04:03:02:01')!;
const rev = (a: BdAddr): string => hex(Uint8Array.from(a).reverse());
const u16 = (v: number): string => hex(Uint8Array.of(v & 0xff, v >> 8));
/** Flags: LE General Discoverable, BR/EDR not supported; Complete Local Name "LE". */
const ADV = Uint8Array.from([0x02, 0x01, 0x06, 0x03, 0x09, 0x4c, 0x45]);

interface Node {
  stack: Stack;
  log: string;
  events: Uint8Array[];
  acl: Uint8Array[];
  /** Events with this code (and LE / GAP meta subevent), as hex. */
  ev(code: number, sub?: number): string[];
}

function setup(tag: string, profile: 'v1.4' | 'v1.8' = 'v1.4') {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: tag });
  const node = (addr: BdAddr, name: string): Node => {
    const c = link.create_controller({ bd_addr: addr, name });
    const stack = new Stack({ transport: new VirtualTransport(c), run_loop: rl, profile });
    const log = path.join(tmp, `${tag}-${name}.btsnoop`);
    assert.is(stack.open_packet_log(log, 'btsnoop'), 0);
    const n: Node = {
      stack,
      log,
      events: [],
      acl: [],
      ev: (code, sub) => n.events.filter((e) => e[0] === code && (sub === undefined || e[2] === sub)).map((e) => hex(e)),
    };
    stack.hci.hci_add_event_handler({ callback: (_t, _c, p, size) => n.events.push(p.slice(0, size)) });
    stack.hci.hci_register_acl_packet_handler((_t, _h, p, size) => n.acl.push(p.slice(0, size)));
    return n;
  };
  const a = node(ADDR_A, 'a');
  const b = node(ADDR_B, 'b');
  const until = (pred: () => boolean, what: string, max = 60_000): void => assert.ok(rl.run_until(pred, max), what);
  a.stack.hci.hci_power_control(1);
  b.stack.hci.hci_power_control(1);
  until(() => a.stack.hci.hci_get_state() === 2 && b.stack.hci.hci_get_state() === 2, 'both working');
  const finish = (): void => {
    a.stack.hci.hci_power_control(0);
    b.stack.hci.hci_power_control(0);
    until(() => a.stack.hci.hci_get_state() === 0 && b.stack.hci.hci_get_state() === 0, 'both off');
    rl.run(1000);
    for (const n of [a, b]) {
      assert.ok(n.stack.pools.all_free(), 'pools back to full');
      n.stack.close_packet_log();
      assertCleanCapture(n.log);
    }
  };
  return { rl, link, a, b, until, finish };
}

/** b advertises connectable (ADV_IND, 20 ms) from the static random address RND. */
function advertiseRandom(b: Node): void {
  const g = b.stack.gap;
  g.gap_random_address_set(RND);
  g.gap_advertisements_set_params(0x20, 0x20, 0, 0, new Uint8Array(6), 7, 0);
  g.gap_advertisements_set_data(ADV.length, ADV);
  g.gap_advertisements_enable(1);
}

/** The connection handle of the last LE Connection Complete a node saw. */
function leHandle(n: Node): number {
  const e = n.events.filter((p) => p[0] === 0x3e && p[2] === 0x01).pop()!;
  return little_endian_read_16(e, 4);
}

test('static random advertiser: report with address type 1, connect by random address, both sides see the right types', () => {
  const { a, b, until, finish } = setup('random-connect');
  advertiseRandom(b);
  a.stack.gap.gap_set_scan_params(0, 0x30, 0x30, 0);
  a.stack.gap.gap_start_scan();
  until(() => a.ev(0xda).length > 0, 'an advertising report');
  // GAP_EVENT_ADVERTISING_REPORT (v1.4: 0xDA 11B1JV): ADV_IND, address type 1, address, rssi, data
  const rep = a.ev(0xda)[0]!;
  assert.is(rep.slice(0, 3 * 10 - 1), `da 11 00 01 ${rev(RND)}`);
  assert.is(rep.slice(3 * 11), `07 ${hex(ADV)}`);
  a.stack.gap.gap_stop_scan();
  assert.is(a.stack.gap.gap_connect(RND, 1), 0);
  until(() => a.ev(0x3e, 0x01).length > 0 && b.ev(0x3e, 0x01).length > 0, 'LE Connection Complete both sides');
  const ha = leHandle(a);
  const hb = leHandle(b);
  // 7.7.65.1: status 0, handle, role (0 central / 1 peripheral), peer address type, peer address,
  // interval 0x18 (BTstack's conn_interval_max), latency 4, timeout 0x48, clock accuracy
  assert.equal(a.ev(0x3e, 0x01), [`3e 13 01 00 ${u16(ha)} 00 01 ${rev(RND)} 18 00 04 00 48 00 00`]);
  assert.equal(b.ev(0x3e, 0x01), [`3e 13 01 00 ${u16(hb)} 01 00 ${rev(ADDR_A)} 18 00 04 00 48 00 01`]);
  assert.equal(a.stack.hci.hci_connection_for_bd_addr_and_type(RND, 1)?.con_handle, ha);
  assert.equal(b.stack.hci.hci_connection_for_bd_addr_and_type(ADDR_A, 0)?.con_handle, hb);
  assert.equal(b.stack.gap.gap_le_get_own_address(), { addr_type: 1, addr: RND });

  // ACL over the LE link both ways: ATT Exchange MTU Request on the ATT channel (L2CAP not initialised here)
  const pdu = Uint8Array.from([0x03, 0x00, 0x04, 0x00, 0x02, 0x17, 0x00]);
  for (const [from, h] of [
    [a, ha],
    [b, hb],
  ] as const) {
    assert.ok(from.stack.hci.hci_reserve_packet_buffer());
    const buf = from.stack.hci.hci_get_outgoing_packet_buffer();
    buf.set([h & 0xff, 0x20 | (h >> 8), pdu.length, 0], 0);
    buf.set(pdu, 4);
    assert.is(from.stack.hci.hci_send_acl_packet_buffer(4 + pdu.length), 0);
  }
  until(() => a.acl.length > 0 && b.acl.length > 0, 'ACL both ways');
  assert.equal(hex(b.acl[0]!.subarray(4)), hex(pdu));
  assert.equal(hex(a.acl[0]!.subarray(4)), hex(pdu));

  a.stack.gap.gap_disconnect(ha);
  until(() => b.ev(0x05).length > 0 && a.ev(0x05).length > 0, 'disconnected');
  finish();
});

test('connection update from the central and requested by the peripheral; data length; PHY (both sides)', () => {
  const { a, b, until, finish } = setup('update');
  advertiseRandom(b);
  a.stack.gap.gap_connect(RND, 1);
  until(() => a.ev(0x3e, 0x01).length > 0 && b.ev(0x3e, 0x01).length > 0, 'connected');
  const ha = leHandle(a);
  const hb = leHandle(b);
  assert.is(a.stack.gap.gap_update_connection_parameters(ha, 0x10, 0x20, 0, 0x64), 0);
  until(() => a.ev(0x3e, 0x03).length > 0 && b.ev(0x3e, 0x03).length > 0, 'update complete both sides');
  // 7.7.65.3: status, handle, interval, latency, timeout
  assert.equal(a.ev(0x3e, 0x03), [`3e 0a 03 00 ${u16(ha)} 20 00 00 00 64 00`]);
  assert.equal(b.ev(0x3e, 0x03), [`3e 0a 03 00 ${u16(hb)} 20 00 00 00 64 00`]);
  assert.is(b.stack.gap.gap_le_connection_interval(hb), 0x20);
  // the peripheral's host asks over HCI: the central's host gets 7.7.65.6 and replies in range
  assert.is(b.stack.gap.gap_update_connection_parameters(hb, 0x28, 0x30, 1, 0xc8), 0);
  until(() => a.ev(0x3e, 0x03).length > 1 && b.ev(0x3e, 0x03).length > 1, 'second update');
  assert.equal(a.ev(0x3e, 0x06), [`3e 0b 06 ${u16(ha)} 28 00 30 00 01 00 c8 00`]);
  assert.equal(a.ev(0x3e, 0x03)[1], `3e 0a 03 00 ${u16(ha)} 30 00 01 00 c8 00`);
  assert.equal(b.ev(0x3e, 0x03)[1], `3e 0a 03 00 ${u16(hb)} 30 00 01 00 c8 00`);
  assert.is(a.stack.gap.gap_le_connection_interval(ha), 0x30);
  // data length 251 octets / 2120 µs from the central (7.7.65.7: tx then rx on each side)
  assert.is(a.stack.gap.gap_le_set_data_length(ha, 251, 2120), 0);
  until(() => a.ev(0x3e, 0x07).length > 0 && b.ev(0x3e, 0x07).length > 0, 'data length change');
  assert.equal(a.ev(0x3e, 0x07), [`3e 0b 07 ${u16(ha)} fb 00 48 08 1b 00 48 01`]);
  assert.equal(b.ev(0x3e, 0x07), [`3e 0b 07 ${u16(hb)} 1b 00 48 01 fb 00 48 08`]);
  // 2M PHY both ways (7.7.65.12: status, handle, TX_PHY, RX_PHY)
  assert.is(b.stack.gap.gap_le_set_phy(hb, 0, 2, 2, 0), 0);
  until(() => a.ev(0x3e, 0x0c).length > 0 && b.ev(0x3e, 0x0c).length > 0, 'PHY update');
  assert.equal(a.ev(0x3e, 0x0c), [`3e 06 0c 00 ${u16(ha)} 02 02`]);
  assert.equal(b.ev(0x3e, 0x0c), [`3e 06 0c 00 ${u16(hb)} 02 02`]);
  b.stack.gap.gap_disconnect(hb);
  until(() => a.ev(0x05).length > 0 && b.ev(0x05).length > 0, 'disconnected');
  finish();
});

test('auto connection to an advertising peer (v1.8: GAP_SUBEVENT_LE_CONNECTION_COMPLETE); gap_connect_cancel', () => {
  const { rl, a, b, until, finish } = setup('auto', 'v1.8');
  assert.is(a.stack.gap.gap_auto_connection_start(1, RND), 0);
  rl.run(500); // nobody advertises yet: a waits with filter policy 1
  assert.equal(a.ev(0x3e, 0x01), []);
  advertiseRandom(b);
  until(() => a.ev(0xe7, 0x08).length > 0 && b.ev(0xe7, 0x08).length > 0, 'connected by the whitelist');
  const ha = leHandle(a);
  const hb = leHandle(b);
  // GAP_SUBEVENT_LE_CONNECTION_COMPLETE (0xE7/0x08, 36 bytes): the HCI fields, no RPAs, 0xFF / 0xFFFF
  const z12 = '00 '.repeat(12);
  assert.equal(a.ev(0xe7, 0x08), [`e7 22 08 00 ${u16(ha)} 00 01 ${rev(RND)} ${z12}18 00 04 00 48 00 00 ff ff ff`]);
  assert.equal(b.ev(0xe7, 0x08), [`e7 22 08 00 ${u16(hb)} 01 00 ${rev(ADDR_A)} ${z12}18 00 04 00 48 00 01 ff ff ff`]);
  rl.run(200);
  // the whitelist entry was removed (LE Remove Device From Filter Accept List): nothing else starts
  assert.is(a.stack.gap.gap_connect(sscanf_bd_addr('D0:00:00:00:00:0D')!, 0), 0);
  rl.run(200);
  assert.is(a.stack.gap.gap_connect_cancel(), 0);
  until(() => a.ev(0x3e, 0x01).some((e) => e.startsWith('3e 13 01 02')), 'cancelled attempt reported');
  a.stack.gap.gap_disconnect(ha);
  until(() => b.ev(0x05).length > 0, 'disconnected');
  finish();
});

test('a raw HCI host (third-party style) sees public and random address types', () => {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'raw' });
  const raw = link.create_controller({ bd_addr: ADDR_B, name: 'raw' });
  const t = new VirtualTransport(raw);
  const got: string[] = [];
  t.init(rl);
  t.register_packet_handler((type, p, size) => {
    if (type === 4) got.push(hex(p.subarray(0, size)));
  });
  t.register_event_handler(() => {});
  t.open();
  rl.run(10);
  const cmd = (s: string): void => {
    const b = Uint8Array.from(s.split(' ').map((x) => parseInt(x, 16)));
    t.send_packet(1, b, b.length);
    rl.run(5);
  };
  cmd('03 0c 00'); // Reset
  cmd('01 0c 08 ff ff ff ff ff ff ff 3f');
  cmd('01 20 08 1f 00 00 00 00 00 00 00');
  const c = link.create_controller({ bd_addr: ADDR_A, name: 'a' });
  const a = new Stack({ transport: new VirtualTransport(c), run_loop: rl });
  const reports: string[] = [];
  a.hci.hci_add_event_handler({ callback: (_t, _c, p, size) => p[0] === 0xda && reports.push(hex(p.subarray(0, size))) });
  a.hci.hci_power_control(1);
  assert.ok(rl.run_until(() => a.hci.hci_get_state() === 2, 5000));
  // the raw host advertises from a random address (7.8.4, 7.8.5 own type 1, 7.8.9)
  cmd(`05 20 06 ${rev(RND)}`);
  cmd('06 20 0f 20 00 20 00 00 01 00 00 00 00 00 00 00 07 00');
  cmd('0a 20 01 01');
  a.gap.gap_start_scan();
  assert.ok(rl.run_until(() => reports.length > 0, 5000));
  assert.ok(reports[0]!.startsWith(`da 0a 00 01 ${rev(RND)}`), reports[0]);
  a.gap.gap_stop_scan();
  // our stack connects from a static random address: the raw host's LE Connection Complete says type 1
  const OUR = sscanf_bd_addr('C0:00:00:00:00:AA')!;
  a.gap.gap_random_address_set(OUR);
  got.length = 0;
  a.gap.gap_connect(RND, 1);
  assert.ok(rl.run_until(() => got.some((e) => e.startsWith('3e 13 01')), 5000));
  const h = got.find((e) => e.startsWith('3e 13 01'))!;
  assert.is(h.slice(3 * 6), `01 01 ${rev(OUR)} 18 00 04 00 48 00 01`);
});

test.run();
