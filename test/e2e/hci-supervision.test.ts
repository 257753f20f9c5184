/**
 * Issue 18 item 4, host-side supervision (virtual time, two stacks on one radio): a controller that
 * acknowledges a command with Command Status 0 and never completes it (Faults.swallow_completion)
 * or refuses a cancel no longer leaves the host waiting forever. Each case: the cancel command on
 * the wire (bytes per Core Vol 4 Part E 7.1), then the event BTstack reports for that failure, with
 * its status, to the application (and L2CAP), the connection record back in the pool, and the next
 * attempt working once the controller behaves.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bd_addr_to_str, hex, type BdAddr } from '../../src/core/bytes.js';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink, type VirtualController } from '../../src/controller/index.js';
import { Stack } from '../../src/stack.js';
import * as C from '../../src/codes/v1.4.js';
import {
  hci_authentication_requested,
  hci_create_connection,
  hci_disconnect,
  hci_le_create_connection,
  hci_le_create_connection_cancel,
  hci_remote_name_request,
  hci_write_page_timeout,
} from '../../src/hci/commands.js';
import { FaultyTransport } from '../helpers/fault-harness.js';

/** Records every command the host writes (hex, without the H4 byte) with its run-loop time. */
class WireTransport extends FaultyTransport {
  readonly commands: { at: number; hex: string }[] = [];
  rl: VirtualRunLoop | null = null;
  override send_packet(type: number, packet: Uint8Array, size: number): number {
    if (type === 1) this.commands.push({ at: this.rl?.get_time_ms() ?? 0, hex: hex(packet.subarray(0, size)) });
    return super.send_packet(type, packet, size);
  }
  /** Commands with this opcode (little-endian on the wire). */
  sent(opcode: number): { at: number; hex: string }[] {
    const prefix = hex(Uint8Array.of(opcode & 0xff, opcode >> 8));
    return this.commands.filter((c) => c.hex.startsWith(prefix));
  }
}

const wire = (a: BdAddr): string => hex(Uint8Array.from(a).reverse());

function radio() {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'supervision' });
  const node = (): { c: VirtualController; t: WireTransport; stack: Stack; events: Uint8Array[] } => {
    const c = link.create_controller({});
    const t = new WireTransport(c);
    t.rl = rl;
    const stack = new Stack({ transport: t, run_loop: rl });
    const events: Uint8Array[] = [];
    stack.hci.hci_add_event_handler({ callback: (_t, _c, p, n) => void events.push(Uint8Array.from(p.subarray(0, n))) });
    stack.l2cap.l2cap_init();
    stack.l2cap.l2cap_set_auto_disconnect_timeout(0); // links stay up until the test ends them
    stack.hci.hci_power_control(C.HCI_POWER_ON);
    return { c, t, stack, events };
  };
  const a = node();
  const b = node();
  assert.ok(
    rl.run_until(
      () => a.stack.hci.hci_get_state() === C.HCI_STATE_WORKING && b.stack.hci.hci_get_state() === C.HCI_STATE_WORKING,
      5000,
    ),
  );
  b.stack.gap.gap_connectable_control(1);
  rl.run(100);
  return { rl, a, b };
}

type Node = ReturnType<typeof radio>['a'];
const of = (n: Node, code: number) => n.events.filter((e) => e[0] === code);
const used = (n: Node): number => n.stack.pools.stats().find((p) => p.name === 'hci_connections')!.in_use;

function connect(rl: VirtualRunLoop, a: Node, b: Node): number {
  a.events.length = 0;
  assert.is(a.stack.hci.hci_connect_acl(b.c.bd_addr), 0);
  assert.ok(
    rl.run_until(() => of(a, C.HCI_EVENT_CONNECTION_COMPLETE).length > 0, 10_000),
    'connected',
  );
  const ev = of(a, C.HCI_EVENT_CONNECTION_COMPLETE).at(-1)!;
  assert.is(C.hci_event_connection_complete_get_status(ev), 0);
  a.events.length = 0;
  return C.hci_event_connection_complete_get_connection_handle(ev);
}

test('Create Connection acknowledged, never completed: Cancel after page timeout + 6 s, then Connection Complete 0x04 and CHANNEL_OPENED 0x04', () => {
  const { rl, a, b } = radio();
  a.c.faults.swallow_completion(hci_create_connection);
  const opened: Uint8Array[] = [];
  a.stack.hci.hci_send_cmd(hci_write_page_timeout, 1600); // 1 s
  rl.run(50);
  const t0 = rl.get_time_ms();
  const r = a.stack.l2cap.l2cap_create_channel(
    (type, _ch, p, n) => {
      if (type === C.HCI_EVENT_PACKET && p[0] === C.L2CAP_EVENT_CHANNEL_OPENED) opened.push(Uint8Array.from(p.subarray(0, n)));
    },
    b.c.bd_addr,
    0x1001,
    100,
  );
  assert.is(r.status, 0);
  rl.run(60_000);
  const cancel = a.t.sent(0x0408);
  assert.is(cancel.length, 1, 'one Create Connection Cancel');
  // HCI_Create_Connection_Cancel: opcode 0x0408, 6 parameter bytes: BD_ADDR
  assert.is(cancel[0]!.hex, `08 04 06 ${wire(b.c.bd_addr)}`);
  assert.is(cancel[0]!.at - t0, 1000 + 6000);
  const cc = of(a, C.HCI_EVENT_CONNECTION_COMPLETE);
  assert.is(cc.length, 1);
  assert.is(hex(cc[0]!), `03 0b 04 00 00 ${wire(b.c.bd_addr)} 01 00`);
  assert.is(opened.length, 1);
  assert.is(C.l2cap_event_channel_opened_get_status(opened[0]!), C.ERROR_CODE_PAGE_TIMEOUT);
  assert.is(used(a), 0, 'the connection record is back in the pool');
  connect(rl, a, b);
});

test('Create Connection: the default page timeout (5.12 s) bounds it when none was written', () => {
  const { rl, a, b } = radio();
  a.c.faults.swallow_completion(hci_create_connection);
  const t0 = rl.get_time_ms();
  assert.is(a.stack.hci.hci_connect_acl(b.c.bd_addr), 0);
  rl.run(60_000);
  assert.is(a.t.sent(0x0408)[0]!.at - t0, 5120 + 6000);
  assert.is(C.hci_event_connection_complete_get_status(of(a, C.HCI_EVENT_CONNECTION_COMPLETE)[0]!), C.ERROR_CODE_PAGE_TIMEOUT);
  assert.is(used(a), 0);
});

test('Disconnect acknowledged, never completed: Disconnection Complete reason 0x16 after 22 s, record freed', () => {
  const { rl, a, b } = radio();
  const handle = connect(rl, a, b);
  a.c.faults.swallow_completion(hci_disconnect);
  const t0 = rl.get_time_ms();
  assert.is(a.stack.gap.gap_disconnect(handle), 0);
  rl.run(21_000);
  assert.is(of(a, C.HCI_EVENT_DISCONNECTION_COMPLETE).length, 0, 'nothing before the bound');
  rl.run(60_000);
  const dc = of(a, C.HCI_EVENT_DISCONNECTION_COMPLETE);
  assert.is(dc.length, 1);
  // status 0, handle, reason Connection Terminated By Local Host
  assert.is(hex(dc[0]!), `05 04 00 ${hex(Uint8Array.of(handle & 0xff, handle >> 8))} 16`);
  assert.is(used(a), 0);
  assert.ok(a.t.sent(0x0406)[0]!.at - t0 < 100);
});

test('Remote Name Request acknowledged, never completed: Cancel, then Remote Name Request Complete 0x04', () => {
  const { rl, a, b } = radio();
  a.c.faults.swallow_completion(hci_remote_name_request);
  const t0 = rl.get_time_ms();
  assert.is(a.stack.gap.gap_remote_name_request(b.c.bd_addr, 1, 0), 0);
  rl.run(120_000);
  const cancel = a.t.sent(0x041a);
  assert.is(cancel.length, 1);
  // HCI_Remote_Name_Request_Cancel: opcode 0x041a, BD_ADDR
  assert.is(cancel[0]!.hex, `1a 04 06 ${wire(b.c.bd_addr)}`);
  assert.ok(cancel[0]!.at - t0 >= 5120 + 30_000 && cancel[0]!.at - t0 < 5120 + 30_000 + 100, String(cancel[0]!.at - t0));
  const rn = of(a, C.HCI_EVENT_REMOTE_NAME_REQUEST_COMPLETE);
  assert.is(rn.length, 1);
  assert.is(rn[0]![2], C.ERROR_CODE_PAGE_TIMEOUT);
  assert.is(bd_addr_to_str(C.hci_event_remote_name_request_complete_get_bd_addr(rn[0]!)), bd_addr_to_str(b.c.bd_addr));
  // GAP takes the next request
  a.events.length = 0;
  assert.is(a.stack.gap.gap_remote_name_request(b.c.bd_addr, 1, 0), 0);
  assert.ok(rl.run_until(() => of(a, C.HCI_EVENT_REMOTE_NAME_REQUEST_COMPLETE).length > 0, 10_000));
  assert.is(of(a, C.HCI_EVENT_REMOTE_NAME_REQUEST_COMPLETE)[0]![2], 0);
});

test('Authentication Requested acknowledged, never completed: Authentication Complete 0x22 after 60 s, GAP_EVENT_SECURITY_LEVEL', () => {
  const { rl, a, b } = radio();
  const handle = connect(rl, a, b);
  a.c.faults.swallow_completion(hci_authentication_requested);
  a.stack.gap.gap_request_security_level(handle, C.LEVEL_2);
  assert.ok(
    rl.run_until(() => a.t.sent(0x0411).length > 0, 10_000),
    'Authentication Requested sent',
  );
  const t0 = a.t.sent(0x0411)[0]!.at;
  rl.run(59_000);
  assert.is(of(a, C.HCI_EVENT_AUTHENTICATION_COMPLETE).length, 0);
  assert.ok(
    rl.run_until(() => of(a, C.GAP_EVENT_SECURITY_LEVEL).length > 0, 5000),
    'GAP_EVENT_SECURITY_LEVEL',
  );
  const ac = of(a, C.HCI_EVENT_AUTHENTICATION_COMPLETE);
  assert.is(ac.length, 1);
  assert.is(hex(ac[0]!), `06 03 22 ${hex(Uint8Array.of(handle & 0xff, handle >> 8))}`);
  assert.ok(rl.get_time_ms() - t0 >= 60_000);
  const sl = of(a, C.GAP_EVENT_SECURITY_LEVEL)[0]!;
  assert.is(C.gap_event_security_level_get_security_level(sl), 0, 'level 0: not reached');
});

test('LE Create Connection: unbounded (initiating lasts until cancelled); a cancel the controller refuses ends with LE Connection Complete 0x02', () => {
  const { rl, a, b } = radio();
  a.c.faults.swallow_completion(hci_le_create_connection);
  a.c.faults.fail_command(hci_le_create_connection_cancel, C.ERROR_CODE_COMMAND_DISALLOWED);
  assert.is(a.stack.gap.gap_connect(b.c.bd_addr, C.BD_ADDR_TYPE_LE_PUBLIC), 0);
  rl.run(120_000);
  const le = () => a.events.filter((e) => e[0] === C.HCI_EVENT_LE_META && e[2] === C.HCI_SUBEVENT_LE_CONNECTION_COMPLETE);
  assert.is(le().length, 0, 'no host bound on initiating');
  const t0 = rl.get_time_ms();
  assert.is(a.stack.gap.gap_connect_cancel(), 0);
  rl.run(10_000);
  assert.is(a.t.sent(0x200e).length, 1, 'LE Create Connection Cancel sent');
  assert.is(le().length, 1);
  const ev = le()[0]!;
  assert.is(ev[3], C.ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER);
  assert.is(bd_addr_to_str(C.hci_subevent_le_connection_complete_get_peer_address(ev)), bd_addr_to_str(b.c.bd_addr));
  assert.ok(a.events.indexOf(ev) >= 0 && rl.get_time_ms() - t0 >= 1000);
  assert.is(used(a), 0);
  assert.is(a.stack.gap.gap_connect(b.c.bd_addr, C.BD_ADDR_TYPE_LE_PUBLIC), 0, 'a new attempt is allowed');
});

test.run();
