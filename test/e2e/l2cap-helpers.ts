/**
 * Two stacks on one virtual radio for the L2CAP end-to-end tests: fixed addresses
 * (AA:00:00:00:00:01 for "a", BB:00:00:00:00:02 for "b"), small controller buffers so SDUs are
 * fragmented, a packet log per stack (btsnoop for a, PacketLogger for b), and a recording
 * packet handler per node.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import { hex, little_endian_read_16, sscanf_bd_addr, type BdAddr } from '../../src/core/bytes.js';
import type { StackConfig } from '../../src/core/config.js';
import type { L2capPacketHandler } from '../../src/l2cap/l2cap.js';

export const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-l2cap-e2e-'));

export interface Rec {
  type: number;
  channel: number;
  /** Copy of the packet. */
  bytes: Uint8Array;
}

export interface L2Node {
  name: string;
  stack: Stack;
  addr: BdAddr;
  log: string;
  recs: Rec[];
  handler: L2capPacketHandler;
  /** Events with code `code` (hex strings). */
  events(code: number): string[];
  /** Data received on `cid`, concatenated per SDU. */
  data(cid: number): Uint8Array[];
  /** Hook called after each record (to react: accept, send, ...). */
  on: ((r: Rec, n: L2Node) => void) | null;
  /** ACL handle of the link to the other node (from HCI_EVENT_CONNECTION_COMPLETE), or -1. */
  handle(): number;
}

export interface Pair {
  rl: VirtualRunLoop;
  link: RadioLink;
  a: L2Node;
  b: L2Node;
  /** Run the loop until pred() holds (fails the test after max_ms virtual ms). */
  until(pred: () => boolean, what: string, max_ms?: number): void;
  /** Power both off, check pools are full, close and check both captures. Returns the capture paths. */
  finish(): [string, string];
}

export interface PairOptions {
  profile?: 'v1.4' | 'v1.8';
  acl_size?: number;
  acl_buffers?: number;
  config?: Partial<StackConfig>;
  /** Call l2cap_init on b (default true); false leaves it to b's first L2CAP PDU (a test that wants no L2CAP at all registers its own ACL handler). */
  l2cap_b?: boolean;
  /** Same for a. */
  l2cap_a?: boolean;
  /** Write packet logs (default true). */
  packet_log?: boolean;
  tag: string;
}

export const ADDR_A = sscanf_bd_addr('AA:00:00:00:00:01')!;
export const ADDR_B = sscanf_bd_addr('BB:00:00:00:00:02')!;

function makeNode(
  link: RadioLink,
  rl: VirtualRunLoop,
  name: string,
  addr: BdAddr,
  o: PairOptions,
  format: 'btsnoop' | 'pklg',
): L2Node {
  const controller = link.create_controller({
    bd_addr: addr,
    acl_size: o.acl_size ?? 200,
    acl_buffers: o.acl_buffers ?? 4,
    name,
  });
  const stack = new Stack({
    transport: new VirtualTransport(controller),
    run_loop: rl,
    profile: o.profile ?? 'v1.4',
    config: o.config,
  });
  const log = path.join(tmp, `${o.tag}-${name}.${format}`);
  if (o.packet_log !== false) assert.is(stack.open_packet_log(log, format), 0);
  let handle = -1;
  stack.hci.hci_add_event_handler({
    callback: (_t, _c, p) => {
      if (p[0] === 0x03 && p[2] === 0) handle = little_endian_read_16(p, 3);
      if (p[0] === 0x05 && little_endian_read_16(p, 3) === handle) handle = -1;
    },
  });
  const n: L2Node = {
    name,
    stack,
    addr,
    log,
    recs: [],
    on: null,
    handler: (type, channel, packet, size) => {
      const r = { type, channel, bytes: packet.slice(0, size) };
      n.recs.push(r);
      n.on?.(r, n);
    },
    events: (code) => n.recs.filter((r) => r.type === 4 && r.bytes[0] === code).map((r) => hex(r.bytes)),
    data: (cid) => n.recs.filter((r) => r.type === 6 && r.channel === cid).map((r) => r.bytes),
    handle: () => handle,
  };
  return n;
}

export function makePair(o: PairOptions): Pair {
  const rl = new VirtualRunLoop();
  rl.onError = (err) => {
    throw err;
  };
  const link = new RadioLink(rl, { seed: o.tag });
  const a = makeNode(link, rl, 'a', ADDR_A, o, 'btsnoop');
  const b = makeNode(link, rl, 'b', ADDR_B, o, 'pklg');
  const until = (pred: () => boolean, what: string, max_ms = 60_000) => {
    assert.ok(rl.run_until(pred, max_ms), what);
  };
  a.stack.hci.hci_power_control(1);
  b.stack.hci.hci_power_control(1);
  until(() => a.stack.hci.hci_get_state() === 2 && b.stack.hci.hci_get_state() === 2, 'both stacks working', 5000);
  if (o.l2cap_a !== false) a.stack.l2cap.l2cap_init();
  if (o.l2cap_b !== false) b.stack.l2cap.l2cap_init();
  return {
    rl,
    link,
    a,
    b,
    until,
    finish() {
      a.stack.hci.hci_power_control(0);
      b.stack.hci.hci_power_control(0);
      until(() => a.stack.hci.hci_get_state() === 0 && b.stack.hci.hci_get_state() === 0, 'both stacks off', 10_000);
      rl.run(1000);
      for (const n of [a, b]) {
        assert.ok(n.stack.pools.all_free(), `${n.name}: pools back to full ${JSON.stringify(n.stack.pools.busy())}`);
        assert.is(n.stack.l2cap.l2cap_get_channels().length, 0, `${n.name}: no channel left`);
        n.stack.close_packet_log();
      }
      return [a.log, b.log];
    },
  };
}

/** "AA:00:00:00:00:01" reversed as in BTstack events: "01 00 00 00 00 aa". */
export function revAddr(a: BdAddr): string {
  return hex(Uint8Array.from(a).reverse());
}

/** Little-endian 16-bit as event hex ("40 00"). */
export function h16(v: number): string {
  return hex(new Uint8Array([v & 0xff, (v >> 8) & 0xff]));
}

export function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed >>> 0;
  for (let i = 0; i < len; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
