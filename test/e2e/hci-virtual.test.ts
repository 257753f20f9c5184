/**
 * End to end over the virtual controller: two stacks on one radio link power on, inquire (the
 * name from the EIR the peer's GAP wrote, byte for byte; with a custom EIR without a name: the
 * Device ID from it and the name by Remote Name Request) and scan, connect classic and LE, exchange ACL larger than the controller's buffers both ways
 * with flow control, disconnect and power off with every pool back to full. Both packet logs
 * must decode in tshark and btmon without a malformed frame.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import { bd_addr_cmp, bd_addr_to_str, little_endian_read_16, little_endian_store_16, type BdAddr } from '../../src/core/bytes.js';
import * as C from '../../src/codes/v1.4.js';
import { assertCleanCapture } from '../helpers/capture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-hci-e2e-'));

interface Node {
  name: string;
  stack: Stack;
  addr: BdAddr;
  events: Uint8Array[];
  /** Complete ACL packets received, per handle. */
  received: Map<number, Uint8Array[]>;
  /** PDUs waiting to be sent: [handle, payload]. */
  outbox: Array<[number, Uint8Array]>;
  sent: number;
  pump(): void;
}

function node(
  link: RadioLink,
  rl: VirtualRunLoop,
  name: string,
  log: string,
  format: 'btsnoop' | 'pklg',
  profile: 'v1.4' | 'v1.8' = 'v1.4',
): Node {
  // small controller buffers so every PDU is fragmented and flow control matters
  const controller = link.create_controller({ acl_size: 100, acl_buffers: 3, le_size: 27, le_buffers: 2, name });
  const stack = new Stack({ transport: new VirtualTransport(controller), run_loop: rl, profile });
  assert.is(stack.open_packet_log(log, format), 0);
  const n: Node = {
    name,
    stack,
    addr: controller.bd_addr,
    events: [],
    received: new Map(),
    outbox: [],
    sent: 0,
    pump() {
      const hci = stack.hci;
      while (n.outbox.length) {
        const [handle, payload] = n.outbox[0]!;
        if (!hci.hci_can_send_acl_packet_now(handle)) return;
        n.outbox.shift();
        assert.ok(hci.hci_reserve_packet_buffer());
        const buf = hci.hci_get_outgoing_packet_buffer();
        const le = hci.hci_connection_for_handle(handle)!.is_le;
        little_endian_store_16(buf, 0, handle | ((le ? 0x0 : 0x2) << 12));
        little_endian_store_16(buf, 2, payload.length + 4);
        little_endian_store_16(buf, 4, payload.length);
        little_endian_store_16(buf, 6, 0x0040); // a dynamic CID: no protocol dissector looks inside
        buf.set(payload, 8);
        assert.is(hci.hci_send_acl_packet_buffer(8 + payload.length), 0);
        n.sent++;
      }
    },
  };
  stack.hci.hci_add_event_handler({
    callback: (_t, _c, p, size) => {
      n.events.push(p.slice(0, size));
      if (p[0] === C.HCI_EVENT_TRANSPORT_PACKET_SENT || p[0] === C.HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS) n.pump();
    },
  });
  stack.hci.hci_register_acl_packet_handler((_t, handle, p, size) => {
    const list = n.received.get(handle) ?? [];
    list.push(p.slice(0, size));
    n.received.set(handle, list);
  });
  return n;
}

function payload(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function has(n: Node, pred: (e: Uint8Array) => boolean): boolean {
  return n.events.some(pred);
}

function exchange(
  rl: VirtualRunLoop,
  from: Node,
  to: Node,
  fromHandle: number,
  toHandle: number,
  sizes: number[],
  seed: number,
): void {
  const before = to.received.get(toHandle)?.length ?? 0;
  const sent = sizes.map((s, i) => payload(s, seed + i));
  for (const p of sent) from.outbox.push([fromHandle, p]);
  from.pump();
  assert.ok(
    rl.run_until(() => (to.received.get(toHandle)?.length ?? 0) === before + sizes.length, 60_000),
    `${from.name} -> ${to.name}: all PDUs arrive`,
  );
  const got = to.received.get(toHandle)!.slice(before);
  got.forEach((pkt, i) => {
    assert.is(little_endian_read_16(pkt, 0) & 0x0fff, toHandle);
    assert.is(little_endian_read_16(pkt, 2), sizes[i]! + 4, 'ACL length = whole L2CAP PDU');
    assert.is(little_endian_read_16(pkt, 4), sizes[i]!, 'L2CAP length');
    assert.equal(pkt.subarray(8), sent[i], `PDU ${i} intact`);
  });
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`two stacks (${profile}): inquiry, LE scan, classic + LE connections, fragmented ACL both ways, disconnect, power off`, () => {
    const rl = new VirtualRunLoop();
    const link = new RadioLink(rl, { seed: profile });
    const logA = path.join(tmp, `a-${profile}.btsnoop`);
    const logB = path.join(tmp, `b-${profile}.pklg`);
    const a = node(link, rl, 'alpha', logA, 'btsnoop', profile);
    const b = node(link, rl, 'beta', logB, 'pklg', profile);
    const codes = a.stack.codes;

    // ---- power on
    assert.is(a.stack.hci.hci_power_control(C.HCI_POWER_ON), 0);
    assert.is(b.stack.hci.hci_power_control(C.HCI_POWER_ON), 0);
    assert.ok(
      rl.run_until(
        () => a.stack.hci.hci_get_state() === C.HCI_STATE_WORKING && b.stack.hci.hci_get_state() === C.HCI_STATE_WORKING,
        5000,
      ),
    );
    assert.equal(a.stack.gap.gap_local_bd_addr(), a.addr);
    assert.ok(a.stack.hci.hci_max_acl_data_packet_length() === 100);

    // ---- inquiry: b discoverable and connectable. b's GAP writes its local name into its EIR (BTstack's
    // default when no EIR was set: one Complete Local Name field), the controller answers the inquiry with
    // that EIR, and a's GAP takes the name from it.
    b.stack.gap.gap_set_local_name('beta 00:00:00:00:00:00');
    b.stack.gap.gap_discoverable_control(1);
    b.stack.gap.gap_connectable_control(1);
    rl.run_until(() => false, 50);
    const bName = new TextEncoder().encode(`beta ${bd_addr_to_str(b.addr)}`);
    const fromB = (e: Uint8Array, at: number) => bd_addr_cmp(Uint8Array.from(e.subarray(at, at + 6)).reverse(), b.addr) === 0;
    const inquire = () => {
      const from = a.events.length;
      const since = () => a.events.slice(from);
      assert.is(a.stack.gap.gap_inquiry_start(2), 0);
      assert.ok(
        rl.run_until(() => since().some((e) => e[0] === codes.GAP_EVENT_INQUIRY_COMPLETE), 10_000),
        'inquiry completes',
      );
      // the controller's Extended Inquiry Result (0x2F): num 1, bd_addr, psrm, reserved, CoD, clock offset, RSSI, 240 octets of EIR
      const hciResult = since().find((e) => e[0] === 0x2f && fromB(e, 3));
      assert.ok(hciResult, `Extended Inquiry Result from ${bd_addr_to_str(b.addr)}`);
      const gapResult = since().filter((e) => e[0] === codes.GAP_EVENT_INQUIRY_RESULT && fromB(e, 2));
      assert.is(gapResult.length, 1, 'one GAP_EVENT_INQUIRY_RESULT for b');
      return { hci: hciResult!, gap: gapResult[0]! };
    };
    let r = inquire();
    const eirWithName = new Uint8Array(240);
    eirWithName.set([1 + bName.length, 0x09, ...bName]);
    assert.equal(r.hci.subarray(17, 257), eirWithName, "b's EIR: its local name, as its GAP wrote it");
    // GAP_EVENT_INQUIRY_RESULT: code, length 25 + name, bd_addr, psrm, CoD, clock offset, rssi available 1, rssi,
    // no Device ID (1 + 8 zero octets), name available 1, name length, name
    const head = (hci: Uint8Array, len: number) => [
      codes.GAP_EVENT_INQUIRY_RESULT,
      len,
      ...hci.subarray(3, 10),
      ...hci.subarray(11, 16),
      1,
      hci[16]!,
    ];
    assert.equal(Array.from(r.gap), [...head(r.hci, 25 + bName.length), 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, bName.length, ...bName]);

    // b sets its own EIR without a name (16-bit UUID SPP, Device ID): a's result has no name but the Device ID,
    // and the name comes from a Remote Name Request
    const eirNoName = new Uint8Array(240);
    eirNoName.set([0x03, 0x03, 0x01, 0x11, 0x09, 0x10, 0x02, 0x00, 0x34, 0x12, 0x78, 0x56, 0x00, 0x01]);
    b.stack.gap.gap_set_extended_inquiry_response(eirNoName);
    rl.run_until(() => false, 50);
    r = inquire();
    assert.equal(r.hci.subarray(17, 257), eirNoName);
    // Device ID available, source 2 (USB), vendor 0x1234, product 0x5678, version 0x0100; name available 0, length 0
    assert.equal(Array.from(r.gap), [...head(r.hci, 25), 1, 0x02, 0x00, 0x34, 0x12, 0x78, 0x56, 0x00, 0x01, 0, 0]);
    const psrm = codes.gap_event_inquiry_result_get_page_scan_repetition_mode(r.gap);
    const clock = codes.gap_event_inquiry_result_get_clock_offset(r.gap);
    assert.is(a.stack.gap.gap_remote_name_request(b.addr, psrm, clock | 0x8000), 0);
    assert.ok(
      rl.run_until(() => has(a, (e) => e[0] === C.HCI_EVENT_REMOTE_NAME_REQUEST_COMPLETE), 10_000),
      'remote name',
    );
    const rnr = a.events.find((e) => e[0] === C.HCI_EVENT_REMOTE_NAME_REQUEST_COMPLETE)!;
    const name248 = new Uint8Array(248);
    name248.set(bName);
    // code, length 255, status 0, bd_addr, the name in 248 octets, zero padded
    assert.equal(Array.from(rnr), [0x07, 0xff, 0x00, ...Uint8Array.from(b.addr).reverse(), ...name248]);
    b.stack.gap.gap_set_extended_inquiry_response(null);
    rl.run_until(() => false, 50);

    // ---- LE scan: b advertises, a scans
    const ad = Uint8Array.of(0x02, 0x01, 0x06, 0x05, 0x09, 0x62, 0x65, 0x74, 0x61);
    b.stack.gap.gap_advertisements_set_params(0x0030, 0x0030, 0, 0, new Uint8Array(6), 0x07, 0);
    b.stack.gap.gap_advertisements_set_data(ad.length, ad);
    b.stack.gap.gap_advertisements_enable(1);
    a.stack.gap.gap_set_scan_parameters(1, 0x0030, 0x0030);
    a.stack.gap.gap_start_scan();
    const isReportFromB = (e: Uint8Array) =>
      e[0] === C.GAP_EVENT_ADVERTISING_REPORT && bd_addr_cmp(codes.gap_event_advertising_report_get_address(e), b.addr) === 0;
    assert.ok(
      rl.run_until(() => has(a, isReportFromB), 5000),
      'advertising report from b',
    );
    const report = a.events.find(isReportFromB)!;
    const adv = a.events.filter(isReportFromB).find((e) => codes.gap_event_advertising_report_get_data_length(e) === ad.length);
    assert.ok(adv, 'the advertising data arrives');
    assert.equal(codes.gap_event_advertising_report_get_data(adv!), ad);
    assert.ok(report.length > 0);
    a.stack.gap.gap_stop_scan();

    // ---- classic connection, paged by a
    assert.is(a.stack.hci.hci_connect_acl(b.addr), 0);
    const connected = (n: Node) => n.events.find((e) => e[0] === C.HCI_EVENT_CONNECTION_COMPLETE && e[2] === 0);
    assert.ok(
      rl.run_until(() => !!connected(a) && !!connected(b), 10_000),
      'classic link up on both sides',
    );
    const ha = little_endian_read_16(connected(a)!, 3);
    const hb = little_endian_read_16(connected(b)!, 3);
    assert.ok(has(a, (e) => e[0] === C.BTSTACK_EVENT_NR_CONNECTIONS_CHANGED && e[2] === 1));
    assert.is(a.stack.gap.gap_get_connection_type(ha), C.GAP_CONNECTION_ACL);
    assert.is(a.stack.hci.hci_connection_for_handle(ha)!.role, C.HCI_ROLE_MASTER);
    assert.is(b.stack.hci.hci_connection_for_handle(hb)!.role, C.HCI_ROLE_SLAVE);

    // ---- ACL larger than the controller buffer (100 bytes, 3 buffers) both ways
    exchange(rl, a, b, ha, hb, [1000, 250, 96, 97, 4000, 1], 1);
    exchange(rl, b, a, hb, ha, [700, 3000, 100], 2);
    // both directions at once
    a.outbox.push([ha, payload(1500, 9)]);
    b.outbox.push([hb, payload(1400, 10)]);
    a.pump();
    b.pump();
    const na = a.received.get(ha)!.length;
    const nb = b.received.get(hb)!.length;
    assert.ok(
      rl.run_until(() => a.received.get(ha)!.length === na + 1 && b.received.get(hb)!.length === nb + 1, 60_000),
      'simultaneous PDUs arrive',
    );
    assert.equal(a.received.get(ha)![na]!.subarray(8), payload(1400, 10));
    assert.equal(b.received.get(hb)![nb]!.subarray(8), payload(1500, 9));

    // ---- LE connection: b is still advertising (connectable), a connects
    assert.is(a.stack.gap.gap_connect(b.addr, C.BD_ADDR_TYPE_LE_PUBLIC), 0);
    const leUp = (n: Node) =>
      n.events.find((e) => e[0] === C.HCI_EVENT_LE_META && e[2] === C.HCI_SUBEVENT_LE_CONNECTION_COMPLETE && e[3] === 0);
    assert.ok(
      rl.run_until(() => !!leUp(a) && !!leUp(b), 10_000),
      'LE link up on both sides',
    );
    const la = little_endian_read_16(leUp(a)!, 4);
    const lb = little_endian_read_16(leUp(b)!, 4);
    assert.is(a.stack.gap.gap_get_connection_type(la), C.GAP_CONNECTION_LE);
    assert.is(a.events.filter((e) => e[0] === C.BTSTACK_EVENT_NR_CONNECTIONS_CHANGED).pop()![2], 2);
    exchange(rl, a, b, la, lb, [200, 23, 24, 500], 3);
    exchange(rl, b, a, lb, la, [300, 27], 4);

    // ---- disconnect both links
    assert.is(a.stack.gap.gap_disconnect(ha), 0);
    assert.is(b.stack.gap.gap_disconnect(lb), 0);
    const gone = (n: Node, h: number) =>
      n.events.some((e) => e[0] === C.HCI_EVENT_DISCONNECTION_COMPLETE && e[2] === 0 && little_endian_read_16(e, 3) === h);
    assert.ok(
      rl.run_until(() => gone(a, ha) && gone(b, hb) && gone(a, la) && gone(b, lb), 10_000),
      'both links down on both sides',
    );
    assert.is(a.stack.gap.gap_get_connection_type(ha), C.GAP_CONNECTION_INVALID);

    // ---- power off: every pool back to full
    a.stack.hci.hci_power_control(C.HCI_POWER_OFF);
    b.stack.hci.hci_power_control(C.HCI_POWER_OFF);
    assert.ok(
      rl.run_until(
        () => a.stack.hci.hci_get_state() === C.HCI_STATE_OFF && b.stack.hci.hci_get_state() === C.HCI_STATE_OFF,
        5000,
      ),
    );
    rl.run(1000);
    for (const n of [a, b]) {
      assert.ok(n.stack.pools.all_free(), `${n.name}: pools full ${JSON.stringify(n.stack.pools.stats())}`);
      const states = n.events.filter((e) => e[0] === C.BTSTACK_EVENT_STATE).map((e) => e[2]);
      assert.equal(states, [C.HCI_STATE_INITIALIZING, C.HCI_STATE_WORKING, C.HCI_STATE_HALTING, C.HCI_STATE_OFF]);
    }
    a.stack.close_packet_log();
    b.stack.close_packet_log();
    assertCleanCapture(logA);
    assertCleanCapture(logB);
  });
}

test('a Hardware Error from the controller: links torn down on both sides, OFF, clean power on again', () => {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl);
  const logA = path.join(tmp, 'hw-a.btsnoop');
  const a = node(link, rl, 'alpha', logA, 'btsnoop');
  const b = node(link, rl, 'beta', path.join(tmp, 'hw-b.btsnoop'), 'btsnoop');
  a.stack.hci.hci_power_control(C.HCI_POWER_ON);
  b.stack.hci.hci_power_control(C.HCI_POWER_ON);
  assert.ok(rl.run_until(() => a.stack.hci.hci_get_state() === 2 && b.stack.hci.hci_get_state() === 2, 5000));
  b.stack.gap.gap_connectable_control(1);
  rl.run_until(() => false, 20);
  a.stack.hci.hci_connect_acl(b.addr);
  assert.ok(rl.run_until(() => has(a, (e) => e[0] === C.HCI_EVENT_CONNECTION_COMPLETE && e[2] === 0), 5000));
  const ha = little_endian_read_16(
    a.events.find((e) => e[0] === C.HCI_EVENT_CONNECTION_COMPLETE)!,
    3,
  );
  a.outbox.push([ha, payload(5000, 7)]);
  a.pump();
  a.events.length = 0;
  const ca = (a.stack.hci.state.transport as VirtualTransport).controller;
  ca.faults.hardware_error(0x42);
  assert.ok(
    rl.run_until(
      () => a.stack.hci.hci_get_state() === C.HCI_STATE_WORKING && a.events.some((e) => e[0] === C.HCI_EVENT_HARDWARE_ERROR),
      5000,
    ),
  );
  const states = a.events.filter((e) => e[0] === C.BTSTACK_EVENT_STATE).map((e) => e[2]);
  assert.equal(states, [C.HCI_STATE_OFF, C.HCI_STATE_INITIALIZING, C.HCI_STATE_WORKING]);
  assert.ok(
    a.events.some((e) => e[0] === C.HCI_EVENT_DISCONNECTION_COMPLETE && little_endian_read_16(e, 3) === ha && e[5] === 0x16),
  );
  // the peer loses the link too (the controller reset dropped it)
  assert.ok(
    rl.run_until(() => has(b, (e) => e[0] === C.HCI_EVENT_DISCONNECTION_COMPLETE), 30_000),
    'peer sees the link go',
  );
  assert.ok(a.stack.pools.all_free());
  // and the restarted stack works: connect again
  a.stack.hci.hci_connect_acl(b.addr);
  a.events.length = 0;
  assert.ok(rl.run_until(() => has(a, (e) => e[0] === C.HCI_EVENT_CONNECTION_COMPLETE && e[2] === 0), 5000));
  a.stack.hci.hci_power_control(C.HCI_POWER_OFF);
  b.stack.hci.hci_power_control(C.HCI_POWER_OFF);
  assert.ok(rl.run_until(() => a.stack.hci.hci_get_state() === 0 && b.stack.hci.hci_get_state() === 0, 5000));
  assert.ok(a.stack.pools.all_free() && b.stack.pools.all_free());
  a.stack.close_packet_log();
  assertCleanCapture(logA);
});

test.run();
