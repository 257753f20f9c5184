/**
 * Two stacks on one virtual radio for the pairing tests (no L2CAP traffic): A (AA:00:00:00:00:01)
 * pages B (BB:00:00:00:00:02); each keeps every event it sees, writes a btsnoop capture, and may
 * answer pairing requests from `on` (as an application's packet handler would).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import { hex, little_endian_read_16, reverse_bd_addr, sscanf_bd_addr, type BdAddr } from '../../src/core/bytes.js';
import { assertCleanCapture } from '../helpers/capture.js';

export const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-pairing-'));
export const ADDR_A = sscanf_bd_addr('AA:00:00:00:00:01')!;
export const ADDR_B = sscanf_bd_addr('BB:00:00:00:00:02')!;

export interface PNode {
  name: string;
  stack: Stack;
  addr: BdAddr;
  log: string;
  events: Uint8Array[];
  /** Called for every event (answer pairing requests here). */
  on: ((packet: Uint8Array, node: PNode) => void) | null;
  /** Handle of the link to the other node, or -1. */
  handle: number;
  /** Events with this code, as hex. */
  of(code: number): string[];
}

export interface PairSetup {
  tag: string;
  profile?: 'v1.4' | 'v1.8';
  /** Settings before power on (SSP / SC enable, IO capability, ...). */
  a?(n: PNode): void;
  b?(n: PNode): void;
  /** Settings that involve both nodes. */
  both?(a: PNode, b: PNode): void;
}

export interface PairWorld {
  rl: VirtualRunLoop;
  a: PNode;
  b: PNode;
  until(pred: () => boolean, what: string, max_ms?: number): void;
  /** A pages B; returns A's handle. */
  connect(): number;
  /** A asks for `level`; waits for its GAP_EVENT_SECURITY_LEVEL; returns [level, whole event hex]. */
  request(level: number): [number, string];
  /** Disconnect from A, wait until both saw it. */
  disconnect(): void;
  /** Power off, delete keys, pools back to full, captures clean. */
  finish(): void;
}

function node(link: RadioLink, rl: VirtualRunLoop, name: string, addr: BdAddr, setup: PairSetup): PNode {
  const controller = link.create_controller({ bd_addr: addr, name });
  const stack = new Stack({ transport: new VirtualTransport(controller), run_loop: rl, profile: setup.profile ?? 'v1.4' });
  const log = path.join(tmp, `${setup.tag}-${name}.btsnoop`);
  assert.is(stack.open_packet_log(log, 'btsnoop'), 0);
  const n: PNode = {
    name,
    stack,
    addr,
    log,
    events: [],
    on: null,
    handle: -1,
    of: (code) => n.events.filter((e) => e[0] === code).map((e) => hex(e)),
  };
  stack.hci.hci_add_event_handler({
    callback: (_t, _c, p, size) => {
      const e = p.slice(0, size);
      if (e[0] === 0x0e || e[0] === 0x0f || e[0] === 0x13) return;
      n.events.push(e);
      if (e[0] === 0x03 && e[2] === 0) n.handle = little_endian_read_16(e, 3);
      if (e[0] === 0x05 && little_endian_read_16(e, 3) === n.handle) n.handle = -1;
      n.on?.(e, n);
    },
  });
  return n;
}

export function pairWorld(setup: PairSetup): PairWorld {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: setup.tag });
  const a = node(link, rl, 'a', ADDR_A, setup);
  const b = node(link, rl, 'b', ADDR_B, setup);
  setup.a?.(a);
  setup.b?.(b);
  setup.both?.(a, b);
  const until = (pred: () => boolean, what: string, max_ms = 60_000): void => {
    assert.ok(rl.run_until(pred, max_ms), what);
  };
  a.stack.hci.hci_power_control(1);
  b.stack.hci.hci_power_control(1);
  until(() => a.stack.hci.hci_get_state() === 2 && b.stack.hci.hci_get_state() === 2, 'both stacks working', 5000);
  b.stack.gap.gap_connectable_control(1);
  rl.run(50);
  const w: PairWorld = {
    rl,
    a,
    b,
    until,
    connect() {
      assert.is(a.stack.hci.hci_connect_acl(ADDR_B), 0);
      until(() => a.handle >= 0 && b.handle >= 0, 'ACL link up', 10_000);
      rl.run(100); // remote features
      return a.handle;
    },
    request(level) {
      const before = a.of(0xd8).length;
      a.stack.gap.gap_request_security_level(a.handle, level);
      until(() => a.of(0xd8).length > before, 'GAP_EVENT_SECURITY_LEVEL', 120_000);
      rl.run(200); // the other side finishes (its key size read)
      const ev = a.of(0xd8)[before]!;
      assert.is(a.of(0xd8).length, before + 1, 'exactly one GAP_EVENT_SECURITY_LEVEL');
      return [parseInt(ev.split(' ')[4]!, 16), ev];
    },
    disconnect() {
      assert.is(a.stack.gap.gap_disconnect(a.handle), 0);
      until(() => a.handle < 0 && b.handle < 0, 'disconnected', 10_000);
      rl.run(100);
    },
    finish() {
      for (const n of [a, b]) n.stack.hci.hci_power_control(0);
      until(() => a.stack.hci.hci_get_state() === 0 && b.stack.hci.hci_get_state() === 0, 'both off', 10_000);
      rl.run(30_000); // no timer left to answer anything
      for (const n of [a, b]) {
        n.stack.gap.gap_delete_all_link_keys();
        assert.ok(n.stack.pools.all_free(), `${n.name}: pools ${JSON.stringify(n.stack.pools.busy())}`);
        n.stack.close_packet_log();
        assertCleanCapture(n.log);
      }
    },
  };
  return w;
}

/** The address in an event at `pos` (display order). */
export function addr_at(e: Uint8Array, pos = 2): BdAddr {
  return reverse_bd_addr(e, pos);
}

/** Link Key Notification's key type (Vol 4 Part E 7.7.24: addr 6, key 16, type). */
export function key_type(n: PNode): number {
  const lkn = n.events.filter((e) => e[0] === 0x18);
  return lkn.length ? lkn[lkn.length - 1]![24]! : -1;
}

/** Encryption_Enabled of the last Encryption Change. */
export function encryption(n: PNode): number {
  const ec = n.events.filter((e) => e[0] === 0x08);
  return ec.length ? ec[ec.length - 1]![5]! : -1;
}
