/**
 * Two Stacks on one RadioLink for the Security Manager end-to-end tests: A (central) connects to
 * B (peripheral, advertising); both run sm_init with the settings a test gives; an application on
 * each side answers the SM's questions as a user would (Just Works and Numeric Comparison
 * confirmed, the passkey one side shows typed on the other, or a fixed one when both type).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import { hex, little_endian_read_16, sscanf_bd_addr } from '../../src/core/bytes.js';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { Stack } from '../../src/stack.js';
import { event_name } from '../../src/codes/index.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';

export const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-sm-'));
export const ADDR_A = sscanf_bd_addr('AA:00:00:00:00:01')!;
export const ADDR_B = sscanf_bd_addr('BB:00:00:00:00:02')!;

export interface SideConfig {
  io: number;
  auth: number;
  min_key?: number;
  max_key?: number;
  sc_only?: boolean;
  /** Answer the SM's questions with sm_bonding_decline. */
  decline?: boolean;
  /** Type this passkey instead of the one shown on the other side. */
  wrong_passkey?: number;
}

export class SmApp {
  /** Every SM event, as hex. */
  readonly events: string[] = [];
  readonly names: string[] = [];
  /** Names of the SM_EVENT_IDENTITY_RESOLVING_* events. */
  readonly resolving: string[] = [];
  shown: number | null = null;
  compared: number | null = null;
  waiting_input = false;
  peer: SmApp | null = null;
  complete: Uint8Array | null = null;
  reencryption: Uint8Array | null = null;

  constructor(
    readonly stack: Stack,
    readonly cfg: SideConfig,
    private readonly handle: () => number,
  ) {}

  readonly registration = {
    callback: (_t: number, _c: number, p: Uint8Array, n: number) => {
      const ev = p.slice(0, n);
      // identity resolution comes with every connection (SM_EVENT_IDENTITY_RESOLVING_*, 0xCD-0xCF): kept apart
      if (ev[0]! >= 0xcd && ev[0]! <= 0xcf) {
        this.resolving.push(event_name(this.stack.codes, ev) ?? '');
        return;
      }
      this.events.push(hex(ev).replace(/ /g, ''));
      this.names.push(event_name(this.stack.codes, ev) ?? `0x${ev[0]!.toString(16)}`);
      const sm = this.stack.sm;
      const c = this.stack.codes;
      const h = little_endian_read_16(ev, 2);
      const v18 = c.PROFILE === 'v1.8';
      switch (ev[0]) {
        case c.SM_EVENT_JUST_WORKS_REQUEST:
          this.stack.run_loop.execute_on_main_thread(() =>
            this.cfg.decline ? sm.sm_bonding_decline(h) : sm.sm_just_works_confirm(h),
          );
          break;
        case c.SM_EVENT_NUMERIC_COMPARISON_REQUEST:
          this.compared = v18 ? le32(ev, 12) : le32(ev, 11);
          this.stack.run_loop.execute_on_main_thread(() =>
            this.cfg.decline ? sm.sm_bonding_decline(h) : sm.sm_numeric_comparison_confirm(h),
          );
          break;
        case c.SM_EVENT_PASSKEY_DISPLAY_NUMBER:
          this.shown = v18 ? le32(ev, 12) : le32(ev, 11);
          if (this.peer?.waiting_input) this.peer.type();
          break;
        case c.SM_EVENT_PASSKEY_INPUT_NUMBER:
          this.waiting_input = true;
          if (this.cfg.wrong_passkey !== undefined || (this.peer !== null && this.peer.shown !== null) || this.bothInput())
            this.type();
          break;
        case c.SM_EVENT_PAIRING_COMPLETE:
          this.complete = ev;
          break;
        case c.SM_EVENT_REENCRYPTION_COMPLETE:
          this.reencryption = ev;
          break;
      }
    },
  };

  /** Both sides keyboard only: both type the same number (Passkey Entry, both input). */
  private bothInput(): boolean {
    return this.cfg.io === 2 && this.peer?.cfg.io === 2;
  }

  type(): void {
    this.waiting_input = false;
    const passkey = this.cfg.wrong_passkey ?? this.peer?.shown ?? 123456;
    const h = this.handle();
    this.stack.run_loop.execute_on_main_thread(() =>
      this.cfg.decline ? this.stack.sm.sm_bonding_decline(h) : this.stack.sm.sm_passkey_input(h, passkey),
    );
  }
}

function le32(b: Uint8Array, pos: number): number {
  return (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
}

export interface SmPair {
  rl: VirtualRunLoop;
  A: Stack;
  B: Stack;
  a: SmApp;
  b: SmApp;
  logs: string[];
  con: number;
  con_b: number;
  until(pred: () => boolean, what: string, max?: number): void;
  /** Drop the link and connect again (same stacks, bonds kept); new handles. */
  reconnect(): void;
  close(): void;
}

function configure(s: Stack, cfg: SideConfig): void {
  const sm = s.sm;
  sm.sm_init();
  sm.sm_set_io_capabilities(cfg.io);
  sm.sm_set_authentication_requirements(cfg.auth);
  sm.sm_set_encryption_key_size_range(cfg.min_key ?? 7, cfg.max_key ?? 16);
  sm.sm_set_secure_connections_only_mode(!!cfg.sc_only);
}

export function sm_pair(profile: 'v1.4' | 'v1.8', tag: string, ca: SideConfig, cb: SideConfig): SmPair {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: `sm-${tag}` });
  const logs: string[] = [];
  const node = (addr: typeof ADDR_A, name: string): Stack => {
    const c = link.create_controller({ bd_addr: addr, name });
    const stack = new Stack({ transport: new VirtualTransport(c), run_loop: rl, profile });
    const log = path.join(tmp, `${tag}-${name}.btsnoop`);
    assert.is(stack.open_packet_log(log, 'btsnoop'), 0);
    logs.push(log);
    return stack;
  };
  const A = node(ADDR_A, 'a');
  const B = node(ADDR_B, 'b');
  configure(A, ca);
  configure(B, cb);
  const until = (pred: () => boolean, what: string, max = 60_000): void => assert.ok(rl.run_until(pred, max), what);
  let con = -1;
  let con_b = -1;
  const a = new SmApp(A, ca, () => con);
  const b = new SmApp(B, cb, () => con_b);
  a.peer = b;
  b.peer = a;
  A.sm.sm_add_event_handler(a.registration);
  B.sm.sm_add_event_handler(b.registration);
  A.hci.hci_power_control(1);
  B.hci.hci_power_control(1);
  until(() => A.hci.hci_get_state() === 2 && B.hci.hci_get_state() === 2, 'both working');
  B.gap.gap_advertisements_set_params(0x20, 0x20, 0, 0, new Uint8Array(6), 7, 0);
  B.gap.gap_advertisements_set_data(3, Uint8Array.of(0x02, 0x01, 0x06));
  const leConn = (set: (h: number) => void) => ({
    callback: (_t: number, _c: number, p: Uint8Array) => {
      if (p[0] === 0x3e && p[2] === 0x01 && p[3] === 0) set(little_endian_read_16(p, 4));
      if (p[0] === 0x05) set(-1);
    },
  });
  A.hci.hci_add_event_handler(leConn((h) => (con = h)));
  B.hci.hci_add_event_handler(leConn((h) => (con_b = h)));
  const connect = (): void => {
    B.gap.gap_advertisements_enable(1);
    assert.is(A.gap.gap_connect(ADDR_B, 0), 0);
    until(() => con >= 0 && con_b >= 0, 'LE connection');
    pair.con = con;
    pair.con_b = con_b;
  };
  const pair: SmPair = {
    rl,
    A,
    B,
    a,
    b,
    logs,
    con,
    con_b,
    until,
    reconnect() {
      A.gap.gap_disconnect(con);
      until(() => con < 0 && con_b < 0, 'disconnected');
      a.complete = b.complete = a.reencryption = b.reencryption = null;
      connect();
    },
    close() {
      if (con >= 0) A.gap.gap_disconnect(con);
      rl.run(2000);
      A.hci.hci_power_control(0);
      B.hci.hci_power_control(0);
      until(() => A.hci.hci_get_state() === 0 && B.hci.hci_get_state() === 0, 'both off');
      rl.run(1000);
    },
  };
  connect();
  return pair;
}
