/**
 * RFCOMM end to end: two (or three) stacks on the virtual controller, HCI + L2CAP + RFCOMM for
 * real. A channel opened with the events' bytes checked against hand-written layouts in both
 * profiles, data both ways with credits exhausted and replenished (automatic and manual
 * credits), disconnect from each side, decline, link loss, a full multiplexer pool, the idle
 * close-down; every packet log decodes in tshark and btmon without a malformed frame, and
 * tshark's RFCOMM dissector (PSM 3) sees the DLCIs and frame types the test produced.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import type { VirtualController } from '../../src/controller/controller.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import type { StackConfig } from '../../src/core/config.js';
import { fromHex, hex, type BdAddr } from '../../src/core/bytes.js';
import * as C from '../../src/codes/v1.4.js';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { frame_by_hand as fr } from '../unit/rfcomm/rfcomm-helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-rfcomm-e2e-'));
const h = (b: Uint8Array): string => hex(b).replace(/ /g, '');
const le16 = (v: number): string => h(Uint8Array.of(v & 0xff, v >> 8));

interface Rec {
  type: number;
  channel: number;
  bytes: Uint8Array;
}

interface Node {
  name: string;
  stack: Stack;
  controller: VirtualController;
  addr: BdAddr;
  recs: Rec[];
  handler: (type: number, channel: number, packet: Uint8Array, size: number) => void;
  on: ((r: Rec) => void) | null;
  log: string;
}

const OPENED = 0x80;
const CLOSED = 0x81;
const INCOMING = 0x82;
const CAN_SEND = 0x89;

function node(
  link: RadioLink,
  rl: VirtualRunLoop,
  name: string,
  addr: string,
  format: 'btsnoop' | 'pklg',
  profile: 'v1.4' | 'v1.8',
  config: Partial<StackConfig> = {},
): Node {
  // small controller buffers: RFCOMM frames span several ACL fragments, ACL flow control matters
  const controller = link.create_controller({ bd_addr: addr, name, acl_size: 128, acl_buffers: 4 });
  const stack = new Stack({ transport: new VirtualTransport(controller), run_loop: rl, profile, config });
  const log = path.join(tmp, `${name}-${profile}.${format}`);
  assert.is(stack.open_packet_log(log, format), 0);
  const n: Node = {
    name,
    stack,
    controller,
    addr: controller.bd_addr,
    recs: [],
    on: null,
    log,
    handler: (type, channel, packet, size) => {
      const r = { type, channel, bytes: packet.slice(0, size) };
      n.recs.push(r);
      n.on?.(r);
    },
  };
  stack.rfcomm.rfcomm_init();
  return n;
}

function power_on(rl: VirtualRunLoop, ...nodes: Node[]): void {
  for (const n of nodes) assert.is(n.stack.hci.hci_power_control(C.HCI_POWER_ON), 0);
  assert.ok(
    rl.run_until(() => nodes.every((n) => n.stack.hci.hci_get_state() === C.HCI_STATE_WORKING), 10_000),
    'stacks working',
  );
}

function events(n: Node, code: number): Rec[] {
  return n.recs.filter((r) => r.type === C.HCI_EVENT_PACKET && r.bytes[0] === code);
}

function data(n: Node, cid?: number): Rec[] {
  return n.recs.filter((r) => r.type === C.RFCOMM_DATA_PACKET && (cid === undefined || r.channel === cid));
}

function auto_accept(n: Node): void {
  n.on = (r) => {
    if (r.type === C.HCI_EVENT_PACKET && r.bytes[0] === INCOMING)
      n.stack.rfcomm.rfcomm_accept_connection(r.bytes[9]! | (r.bytes[10]! << 8));
  };
}

function rev(addr: BdAddr): string {
  return h(Uint8Array.from(addr).reverse());
}

function handleTo(n: Node, peer: Node): number {
  return n.stack.hci.hci_connection_for_bd_addr_and_type(peer.addr, C.BD_ADDR_TYPE_ACL)!.con_handle;
}

function payload(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed >>> 0;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function pools_in_use(n: Node, prefix: string): number {
  return n.stack.pools
    .stats()
    .filter((s) => s.name.startsWith(prefix) && !s.name.endsWith('_services'))
    .reduce((a, s) => a + s.in_use, 0);
}

/**
 * Send `frames` payloads of `size` octets on `cid` as fast as RFCOMM allows: on every
 * CAN_SEND_NOW send until refused. Returns how often RFCOMM_NO_OUTGOING_CREDITS came back.
 */
function blast(
  rl: VirtualRunLoop,
  from: Node,
  to: Node,
  cid: number,
  toCid: number,
  frames: number,
  size: number,
  seed: number,
): number {
  let next = 0;
  let noCredits = 0;
  const prev = from.on;
  const before = data(to, toCid).length;
  const pump = (): void => {
    while (next < frames) {
      const st = from.stack.rfcomm.rfcomm_send(cid, payload(size, seed + next));
      if (st === C.RFCOMM_NO_OUTGOING_CREDITS) noCredits++;
      if (st !== 0) break;
      next++;
    }
    if (next < frames) from.stack.rfcomm.rfcomm_request_can_send_now_event(cid);
  };
  from.on = (r) => {
    prev?.(r);
    if (r.type === C.HCI_EVENT_PACKET && r.bytes[0] === CAN_SEND && r.channel === cid) pump();
  };
  pump();
  assert.ok(
    rl.run_until(() => data(to, toCid).length === before + frames, 120_000),
    `${from.name} -> ${to.name}: ${frames} frames arrive`,
  );
  from.on = prev;
  const got = data(to, toCid).slice(before);
  got.forEach((r, i) => assert.equal(r.bytes, payload(size, seed + i), `frame ${i} intact and in order`));
  return noCredits;
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: open, events byte-exact, data both ways with credits exhausted and replenished, disconnect from each side, idle close-down`, () => {
    const rl = new VirtualRunLoop();
    const link = new RadioLink(rl, { seed: `rfcomm-${profile}` });
    const a = node(link, rl, 'alpha', 'A1:A2:A3:A4:A5:A6', 'btsnoop', profile);
    const b = node(link, rl, 'beta', 'B1:B2:B3:B4:B5:B6', 'pklg', profile);
    power_on(rl, a, b);
    auto_accept(b);
    assert.is(b.stack.rfcomm.rfcomm_register_service(b.handler, 1, 1000), 0);
    assert.is(b.stack.rfcomm.rfcomm_register_service_with_initial_credits(b.handler, 2, 100, 2), 0);

    // ---- DLC 1: A -> B:1
    const c1 = a.stack.rfcomm.rfcomm_create_channel(a.handler, b.addr, 1);
    assert.equal(c1, { status: 0, rfcomm_cid: 1 });
    assert.ok(
      rl.run_until(() => events(a, OPENED).length === 1 && events(b, OPENED).length === 1, 30_000),
      'opened on both sides',
    );
    const hA = handleTo(a, b);
    const hB = handleTo(b, a);
    const inc = events(b, INCOMING);
    assert.is(inc.length, 1);
    assert.is(inc[0]!.channel, 0);
    assert.is(
      h(inc[0]!.bytes),
      profile === 'v1.4' ? `8209${rev(a.addr)}01${le16(1)}` : `820b${rev(a.addr)}01${le16(1)}${le16(hB)}`,
    );
    assert.is(events(a, OPENED)[0]!.channel, 0);
    assert.is(h(events(a, OPENED)[0]!.bytes), `801000${rev(b.addr)}${le16(hA)}01${le16(1)}${le16(1000)}0000`);
    assert.is(h(events(b, OPENED)[0]!.bytes), `801000${rev(a.addr)}${le16(hB)}01${le16(1)}${le16(1000)}0100`);
    for (const n of [a, b]) {
      assert.equal(
        events(n, 0x87).map((r) => [r.channel, h(r.bytes)]),
        [[1, '870301008d']],
      );
      assert.equal(
        events(n, CAN_SEND).map((r) => [r.channel, h(r.bytes)]),
        [[1, '89020100']],
      );
      assert.equal(
        events(n, 0x88).map((r) => [r.channel, h(r.bytes)]),
        profile === 'v1.4' ? [[1, '8807030300d1d37f3f']] : [],
      );
    }

    // ---- data A -> B, 1000-octet frames (8 ACL fragments each), automatic credits
    blast(rl, a, b, 1, 1, 120, 1000, 1);
    // ---- data B -> A
    blast(rl, b, a, 1, 1, 60, 333, 500);

    // ---- zero-copy: the payload written straight into L2CAP's outgoing buffer
    for (const len of [10, 300]) {
      assert.ok(rl.run_until(() => a.stack.rfcomm.rfcomm_can_send_packet_now(1), 5000));
      assert.ok(a.stack.rfcomm.rfcomm_reserve_packet_buffer());
      a.stack.rfcomm.rfcomm_get_outgoing_buffer().set(payload(len, 7000 + len));
      assert.is(a.stack.rfcomm.rfcomm_send_prepared(1, len), 0);
    }
    assert.ok(rl.run_until(() => data(b, 1).length === 122, 5000));
    assert.equal(
      data(b, 1)
        .slice(-2)
        .map((r) => r.bytes),
      [payload(10, 7010), payload(300, 7300)],
    );

    // ---- DLC 2: manual credits on the server (2 initial), data A -> B: A runs dry until B grants
    a.recs.length = 0;
    const c2 = a.stack.rfcomm.rfcomm_create_channel(a.handler, b.addr, 2);
    assert.equal(c2, { status: 0, rfcomm_cid: 2 });
    assert.ok(rl.run_until(() => events(a, OPENED).length === 1, 30_000));
    const b2 = events(b, OPENED)[1]!.bytes[12]!;
    assert.is(a.stack.rfcomm.rfcomm_send(2, Uint8Array.of(1)), 0);
    assert.is(a.stack.rfcomm.rfcomm_send(2, Uint8Array.of(2)), 0);
    assert.is(a.stack.rfcomm.rfcomm_send(2, Uint8Array.of(3)), C.RFCOMM_NO_OUTGOING_CREDITS);
    a.stack.rfcomm.rfcomm_request_can_send_now_event(2);
    rl.run_until(() => false, 2000);
    assert.is(events(a, CAN_SEND).filter((r) => r.channel === 2).length, 1, 'only the CAN_SEND_NOW right after the open');
    assert.is(data(b, b2).length, 2);
    assert.is(b.stack.rfcomm.rfcomm_grant_credits(b2, 4), 0);
    assert.ok(
      rl.run_until(() => events(a, CAN_SEND).filter((r) => r.channel === 2).length === 2, 5000),
      'CAN_SEND_NOW after the grant',
    );
    for (let i = 0; i < 4; i++) assert.is(a.stack.rfcomm.rfcomm_send(2, Uint8Array.of(10 + i)), 0);
    assert.ok(rl.run_until(() => data(b, b2).length === 6, 5000));
    assert.equal(
      data(b, b2).map((r) => r.bytes[0]),
      [1, 2, 10, 11, 12, 13],
    );
    // B hands out one credit per frame it has consumed: A keeps running dry and getting more
    const prevB = b.on;
    b.on = (r) => {
      prevB?.(r);
      if (r.type === C.RFCOMM_DATA_PACKET && r.channel === b2) b.stack.rfcomm.rfcomm_grant_credits(b2, 1);
    };
    assert.is(b.stack.rfcomm.rfcomm_grant_credits(b2, 1), 0);
    const dry = blast(rl, a, b, 2, b2, 50, 90, 900);
    assert.ok(dry >= 10, `A ran out of credits ${dry} times and got more each time`);
    b.on = prevB;

    // ---- disconnect DLC 1 from A, DLC 2 from B
    assert.is(a.stack.rfcomm.rfcomm_disconnect(1), 0);
    assert.ok(rl.run_until(() => events(a, CLOSED).length === 1 && events(b, CLOSED).length === 1, 5000));
    assert.equal(
      events(a, CLOSED).map((r) => [r.channel, h(r.bytes)]),
      [[0, '81020100']],
    );
    assert.is(b.stack.rfcomm.rfcomm_disconnect(b2), 0);
    assert.ok(rl.run_until(() => events(a, CLOSED).length === 2 && events(b, CLOSED).length === 2, 5000));
    assert.equal(events(a, CLOSED)[1]!.bytes[2], 2);

    // ---- idle: the session closes after 60 s, L2CAP after its own idle time; pools back to full
    assert.ok(
      rl.run_until(() => pools_in_use(a, 'rfcomm') === 0 && pools_in_use(b, 'rfcomm_m') === 0, 70_000),
      'session closed',
    );
    assert.ok(
      rl.run_until(() => pools_in_use(a, 'l2cap') === 0 && pools_in_use(b, 'l2cap') === 0, 120_000),
      'L2CAP closed',
    );
    b.stack.rfcomm.rfcomm_unregister_service(1);
    b.stack.rfcomm.rfcomm_unregister_service(2);
    assert.equal(b.stack.pools.busy(), [], 'every pool of B back to full');
    assert.equal(a.stack.pools.busy(), [], 'every pool of A back to full');

    a.stack.close_packet_log();
    b.stack.close_packet_log();
    for (const n of [a, b]) {
      assertCleanCapture(n.log);
      const rows = tsharkFields(n.log, ['btrfcomm.dlci', 'btrfcomm.frame_type'], 'btrfcomm');
      const dlcis = new Set(rows.map((r) => Number(r[0])));
      assert.equal([...dlcis].sort(), [0, 2, 4], `${n.name}: tshark decodes RFCOMM on DLCIs 0, 2, 4`);
      const types = new Set(rows.map((r) => Number(r[1])));
      for (const t of [0x2f, 0x63, 0xef, 0x43])
        assert.ok(types.has(t), `${n.name}: frame type 0x${t.toString(16)} seen (${[...types].map((x) => x.toString(16))})`);
      assert.ok(rows.length > 200, `${n.name}: ${rows.length} RFCOMM frames decoded`);
    }
  });
}

test('decline, link loss (open DLC and one being set up), a full multiplexer pool; pools back to full', () => {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'rfcomm-loss' });
  const a = node(link, rl, 'alpha', 'A1:A2:A3:A4:A5:A6', 'btsnoop', 'v1.4', { MAX_NR_RFCOMM_MULTIPLEXERS: 1 });
  const b = node(link, rl, 'beta', 'B1:B2:B3:B4:B5:B6', 'btsnoop', 'v1.4');
  const c = node(link, rl, 'gamma', 'C1:C2:C3:C4:C5:C6', 'pklg', 'v1.4');
  power_on(rl, a, b, c);
  // B declines server channel 3, accepts 1; C accepts
  b.on = (r) => {
    if (r.type === C.HCI_EVENT_PACKET && r.bytes[0] === INCOMING) {
      const cid = r.bytes[9]! | (r.bytes[10]! << 8);
      if (r.bytes[8] === 3) b.stack.rfcomm.rfcomm_decline_connection(cid);
      else b.stack.rfcomm.rfcomm_accept_connection(cid);
    }
  };
  auto_accept(c);
  for (const sc of [1, 2, 3]) b.stack.rfcomm.rfcomm_register_service(b.handler, sc, 200);
  c.stack.rfcomm.rfcomm_register_service(c.handler, 1, 200);

  a.stack.rfcomm.rfcomm_create_channel(a.handler, b.addr, 3);
  assert.ok(rl.run_until(() => events(a, OPENED).length === 1, 30_000));
  assert.is(events(a, OPENED)[0]!.bytes[2], C.ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES, 'declined');
  assert.equal(events(b, OPENED), [], 'no event for the declined DLC on the server');

  // the one multiplexer of A is in use for B: a channel to C fails
  assert.equal(a.stack.rfcomm.rfcomm_create_channel(a.handler, c.addr, 1), {
    status: C.BTSTACK_MEMORY_ALLOC_FAILED,
    rfcomm_cid: 0,
  });
  // C connects to A instead: A has no multiplexer left and declines the L2CAP channel
  c.stack.rfcomm.rfcomm_create_channel(c.handler, a.addr, 1);
  assert.ok(rl.run_until(() => events(c, OPENED).length === 1, 30_000));
  assert.ok(events(c, OPENED)[0]!.bytes[2] !== 0, `C refused (status 0x${events(c, OPENED)[0]!.bytes[2]!.toString(16)})`);

  // an open DLC and one being set up when the radio link is lost
  a.recs.length = 0;
  a.stack.rfcomm.rfcomm_create_channel(a.handler, b.addr, 1);
  assert.ok(rl.run_until(() => events(a, OPENED).length === 1, 30_000));
  assert.is(events(a, OPENED)[0]!.bytes[2], 0);
  assert.is(a.stack.rfcomm.rfcomm_send(events(a, OPENED)[0]!.bytes[12]!, fromHex('0102030405')), 0);
  a.stack.rfcomm.rfcomm_create_channel(a.handler, b.addr, 2);
  rl.run_until(() => false, 1);
  a.controller.faults.drop_link(handleTo(a, b));
  assert.ok(
    rl.run_until(() => events(a, CLOSED).length === 1 && events(a, OPENED).length === 2, 60_000),
    'final events after link loss',
  );
  assert.is(events(a, OPENED)[1]!.bytes[2], C.RFCOMM_MULTIPLEXER_STOPPED);
  assert.ok(
    rl.run_until(() => events(b, CLOSED).length === 1, 60_000),
    'B closed too',
  );
  const ok = rl.run_until(() => [a, b, c].every((n) => pools_in_use(n, 'rfcomm') + pools_in_use(n, 'l2cap') === 0), 200_000);
  assert.ok(ok, `pools full: ${JSON.stringify([a, b, c].map((n) => n.stack.pools.busy()))}`);
  for (const n of [a, b, c]) {
    n.stack.close_packet_log();
    assertCleanCapture(n.log);
  }
});

test('multiplexer commands on the wire (API senders and a hand-driven peer) decode cleanly in tshark and btmon', () => {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'rfcomm-mcc' });
  const a = node(link, rl, 'alpha', 'A1:A2:A3:A4:A5:A6', 'btsnoop', 'v1.8');
  const p = node(link, rl, 'raw', 'D1:D2:D3:D4:D5:D6', 'pklg', 'v1.8');
  power_on(rl, a, p);
  auto_accept(a);
  a.stack.rfcomm.rfcomm_register_service(a.handler, 4, 300);
  // the peer: a bare L2CAP channel to PSM 3, frames written by hand (the peer is the initiator)
  const rx: Uint8Array[] = [];
  let cid = 0;
  const r = p.stack.l2cap.l2cap_create_channel(
    (type, _ch, e, size) => {
      if (type === C.L2CAP_DATA_PACKET) rx.push(e.slice(0, size));
      else if (type === C.HCI_EVENT_PACKET && e[0] === p.stack.codes.L2CAP_EVENT_CHANNEL_OPENED && e[2] === 0)
        cid = p.stack.codes.l2cap_event_channel_opened_get_local_cid(e);
    },
    a.addr,
    3,
    1000,
  );
  assert.is(r.status, 0);
  assert.ok(rl.run_until(() => cid !== 0, 30_000));
  const send = (f: Uint8Array): void => {
    assert.ok(rl.run_until(() => p.stack.l2cap.l2cap_can_send_packet_now(cid), 5000));
    assert.is(p.stack.l2cap.l2cap_send(cid, f, f.length), 0);
    rl.run_until(() => false, 200);
  };
  const rxHex = (): string[] => rx.splice(0).map(h);
  send(fr(0x03, 0x3f)); // SABM 0
  assert.equal(rxHex(), ['037301d7']);
  send(fr(0x03, 0xef, [0x83, 0x11, 0x08, 0xf0, 0x00, 0x00, 0x2c, 0x01, 0x00, 0x07])); // PN DLCI 8, N1 300
  send(fr(0x23, 0x3f)); // SABM 8
  send(fr(0x03, 0xef, [0xe3, 0x05, 0x23, 0x8d])); // MSC command
  send(fr(0x03, 0xef, [0xe1, 0x05, 0x23, 0x8d])); // MSC response
  assert.ok(rl.run_until(() => events(a, OPENED).length === 1, 5000));
  rxHex();
  // commands from the peer, each answered
  send(fr(0x03, 0xef, [0x23, 0x09, 0x74, 0x65, 0x73, 0x74])); // Test "test"
  send(fr(0x03, 0xef, [0x53, 0x05, 0x23, 0x05])); // RLS parity error
  send(fr(0x03, 0xef, [0x93, 0x11, 0x23, 0x07, 0x03, 0x00, 0x11, 0x13, 0x01, 0x00])); // RPN 115200
  send(fr(0x03, 0xef, [0x93, 0x03, 0x23])); // RPN query
  send(fr(0x03, 0xef, [0x63, 0x01])); // FCoff
  send(fr(0x03, 0xef, [0xa3, 0x01])); // FCon
  send(fr(0x03, 0xef, [0x43, 0x01])); // PSC: not supported -> NSC
  send(fr(0x13, 0x53)); // DISC on DLCI 4 (not open) -> DM
  assert.equal(rxHex(), [
    h(fr(0x01, 0xef, [0x21, 0x09, 0x74, 0x65, 0x73, 0x74])),
    h(fr(0x01, 0xef, [0x51, 0x05, 0x23, 0x05])),
    h(fr(0x01, 0xef, [0x91, 0x11, 0x23, 0x07, 0x03, 0x00, 0xd1, 0xd3, 0x01, 0x00])),
    h(fr(0x01, 0xef, [0x91, 0x11, 0x23, 0x07, 0x03, 0x00, 0xd1, 0xd3, 0x00, 0x00])),
    h(fr(0x01, 0xef, [0x61, 0x01])),
    h(fr(0x01, 0xef, [0xa1, 0x01])),
    h(fr(0x01, 0xef, [0x11, 0x03, 0x43])),
    h(fr(0x13, 0x1f)),
  ]);
  // commands from the API
  const acid = events(a, OPENED)[0]!.bytes[12]!;
  assert.is(a.stack.rfcomm.rfcomm_send_modem_status(acid, 0x8c), 0);
  assert.is(a.stack.rfcomm.rfcomm_send_local_line_status(acid, 0x03), 0);
  assert.is(a.stack.rfcomm.rfcomm_send_port_configuration(acid, 4, 3, 0, 0, 0), 0);
  assert.is(a.stack.rfcomm.rfcomm_query_port_configuration(acid), 0);
  rl.run_until(() => false, 500);
  assert.equal(rxHex(), [
    h(fr(0x01, 0xef, [0xe3, 0x05, 0x23, 0x8d])),
    h(fr(0x01, 0xef, [0x53, 0x05, 0x23, 0x03])),
    h(fr(0x01, 0xef, [0x93, 0x11, 0x23, 0x04, 0x03, 0x00, 0x00, 0x00, 0x1f, 0x3f])),
    h(fr(0x01, 0xef, [0x93, 0x03, 0x23])),
  ]);
  send(fr(0x23, 0x53)); // DISC 8
  send(fr(0x03, 0x53)); // DISC 0
  assert.ok(rl.run_until(() => pools_in_use(a, 'rfcomm') === 0, 10_000));
  a.stack.close_packet_log();
  p.stack.close_packet_log();
  for (const n of [a, p]) {
    assertCleanCapture(n.log);
    const cmds = tsharkFields(n.log, ['btrfcomm.mcc.cmd'], 'btrfcomm.mcc.cmd').map((row) => Number(row[0]));
    for (const t of [0x08, 0x04, 0x14, 0x24, 0x18, 0x28, 0x38, 0x20])
      assert.ok(
        cmds.includes(t),
        `${n.name}: MCC type 0x${t.toString(16)} decoded (${[...new Set(cmds)].map((x) => x.toString(16))})`,
      );
  }
});

test.run();
