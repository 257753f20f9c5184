/**
 * Two Stacks on one RadioLink for the GATT end-to-end tests: B (peripheral) serves a database
 * compiled from GATT_E2E_DB with our ATT server, A (central) connects with gap_connect and uses
 * our GATT client. B's application keeps the dynamic FF12 value (writes, prepared writes queued
 * and applied on execute, as BTstack's att_server apps do) and the CCC values it was written.
 *
 * Handles (worked out from the .gatt text, checked against the compiler in the test):
 *   0x0001 GAP service, 0x0002 decl, 0x0003 Device Name "gatt e2e"
 *   0x0004 Battery service, 0x0005 decl (READ|NOTIFY 0x12), 0x0006 level 0x64, 0x0007 CCC
 *   0x0008 FF10 service (to 0x0011), 0x0009 include 0x0004-0x0007 0x180F
 *   0x000A decl FF11 (READ 0x02), 0x000B value: 150 octets
 *   0x000C decl FF12 (0x8E: ext | write | write without response | read), 0x000D value, 0x000E ext props
 *   0x000F decl FF13 (0x32: indicate | notify | read), 0x0010 value, 0x0011 CCC
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import { hex, little_endian_read_16, sscanf_bd_addr } from '../../src/core/bytes.js';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { Stack } from '../../src/stack.js';
import { gatt_compile } from '../../src/att/gatt-compiler.js';
import {
  ATT_TRANSACTION_MODE_ACTIVE,
  ATT_TRANSACTION_MODE_CANCEL,
  ATT_TRANSACTION_MODE_EXECUTE,
  ATT_TRANSACTION_MODE_NONE,
} from '../../src/att/att-server.js';
import type { PacketHandler } from '../../src/hci/hci-service.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { assertCleanCapture, checkCapture, formatReport, tsharkFields } from '../helpers/capture.js';

export const LONG_VALUE = 'klmnopqrstuvwxyz'.repeat(10).slice(0, 150);

export const GATT_E2E_DB = `PRIMARY_SERVICE, GAP_SERVICE
CHARACTERISTIC, GAP_DEVICE_NAME, READ, "gatt e2e"
PRIMARY_SERVICE, ORG_BLUETOOTH_SERVICE_BATTERY_SERVICE
CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL, READ | NOTIFY, 64
PRIMARY_SERVICE, 0000FF10-0000-1000-8000-00805F9B34FB
INCLUDE_SERVICE, ORG_BLUETOOTH_SERVICE_BATTERY_SERVICE
CHARACTERISTIC, 0000FF11-0000-1000-8000-00805F9B34FB, READ, "${LONG_VALUE}"
CHARACTERISTIC, 0000FF12-0000-1000-8000-00805F9B34FB, READ | WRITE | WRITE_WITHOUT_RESPONSE | RELIABLE_WRITE | DYNAMIC,
CHARACTERISTIC, 0000FF13-0000-1000-8000-00805F9B34FB, READ | NOTIFY | INDICATE | DYNAMIC,
`;

export const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-gatt-'));
export const ADDR_A = sscanf_bd_addr('AA:00:00:00:00:01')!;
export const ADDR_B = sscanf_bd_addr('BB:00:00:00:00:02')!;

/** B's application: the FF12 value, prepared writes, CCC values, ATT events. */
export class ServerApp {
  ff12 = new Uint8Array(0);
  readonly queue: { offset: number; data: Uint8Array; handle?: number }[] = [];
  readonly ccc = new Map<number, number>();
  readonly events: string[] = [];
  writes = 0;

  read = (_con: number, handle: number, offset: number, buffer: Uint8Array | null, size: number): number => {
    const v = handle === 0x000d ? this.ff12 : handle === 0x0010 ? Uint8Array.of(0x2a) : new Uint8Array(0);
    if (!buffer) return v.length;
    const n = Math.max(0, Math.min(size, v.length - offset));
    buffer.set(v.subarray(offset, offset + n));
    return n;
  };

  write = (_con: number, handle: number, mode: number, offset: number, buffer: Uint8Array, size: number): number => {
    this.writes++;
    const data = buffer.slice(0, size);
    if (mode === ATT_TRANSACTION_MODE_CANCEL) this.queue.length = 0;
    else if (mode === ATT_TRANSACTION_MODE_EXECUTE) {
      for (const w of this.queue) {
        const next = new Uint8Array(Math.max(this.ff12.length, w.offset + w.data.length));
        next.set(this.ff12);
        next.set(w.data, w.offset);
        this.ff12 = next;
      }
      this.queue.length = 0;
    } else if (mode === ATT_TRANSACTION_MODE_ACTIVE) {
      if (handle !== 0x000d) return 0x03; // Write Not Permitted
      this.queue.push({ offset, data });
    } else if (mode === ATT_TRANSACTION_MODE_NONE) {
      if (handle === 0x000d) this.ff12 = data;
      else if (handle === 0x0007 || handle === 0x0011) this.ccc.set(handle, little_endian_read_16(data, 0));
      else return 0x03;
    }
    return 0;
  };
}

export interface GattPair {
  rl: VirtualRunLoop;
  A: Stack;
  B: Stack;
  logs: string[];
  app: ServerApp;
  /** A's LE connection handle. */
  con: number;
  /** B's LE connection handle. */
  con_b: number;
  until(pred: () => boolean, what: string, max?: number): void;
  /** Start a query with a collecting handler; run until GATT_EVENT_QUERY_COMPLETE; the events as hex. */
  query(start: (handler: PacketHandler) => number): string[];
  close(): void;
}

/** B's database (.gatt text, default GATT_E2E_DB) and application (default a new ServerApp). */
export interface GattPairOptions {
  db?: string;
  app?: ServerApp;
  /** Called once both stacks are up, before A connects (e.g. sm_init on both). */
  before_connect?: (A: Stack, B: Stack) => void;
}

export function gatt_pair(profile: 'v1.4' | 'v1.8', tag: string, packet_log = true, options: GattPairOptions = {}): GattPair {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: `gatt-${tag}` });
  const logs: string[] = [];
  const node = (addr: typeof ADDR_A, name: string, config = {}): Stack => {
    const c = link.create_controller({ bd_addr: addr, name });
    const stack = new Stack({ transport: new VirtualTransport(c), run_loop: rl, profile, config });
    if (packet_log) {
      const log = path.join(tmp, `${tag}-${name}.btsnoop`);
      assert.is(stack.open_packet_log(log, 'btsnoop'), 0);
      logs.push(log);
    }
    return stack;
  };
  // A's ATT MTU 100 (HCI_ACL_PAYLOAD_SIZE - 4): long reads and writes take several PDUs
  const A = node(ADDR_A, 'a', { HCI_ACL_PAYLOAD_SIZE: 104 });
  const B = node(ADDR_B, 'b');
  const until = (pred: () => boolean, what: string, max = 60_000): void => assert.ok(rl.run_until(pred, max), what);
  const compiled = gatt_compile(options.db ?? GATT_E2E_DB, { file: 'e2e.gatt' });
  assert.is(compiled.status, 0, JSON.stringify(compiled.diagnostics));
  const app = options.app ?? new ServerApp();
  B.att_server.att_server_init(compiled.profile_data!, app.read, app.write);
  B.att_server.att_server_register_packet_handler((type, _ch, p, n) => {
    if (type === 0x04) app.events.push(hex(p.subarray(0, n)).replace(/ /g, ''));
  });
  A.hci.hci_power_control(1);
  B.hci.hci_power_control(1);
  until(() => A.hci.hci_get_state() === 2 && B.hci.hci_get_state() === 2, 'both working');
  B.gap.gap_advertisements_set_params(0x20, 0x20, 0, 0, new Uint8Array(6), 7, 0);
  B.gap.gap_advertisements_set_data(3, Uint8Array.of(0x02, 0x01, 0x06));
  B.gap.gap_advertisements_enable(1);
  options.before_connect?.(A, B);
  let con = -1;
  let con_b = -1;
  const leConn = (set: (h: number) => void) => ({
    callback: (_t: number, _c: number, p: Uint8Array) => {
      if (p[0] === 0x3e && p[2] === 0x01 && p[3] === 0) set(little_endian_read_16(p, 4));
    },
  });
  A.hci.hci_add_event_handler(leConn((h) => (con = h)));
  B.hci.hci_add_event_handler(leConn((h) => (con_b = h)));
  assert.is(A.gap.gap_connect(ADDR_B, 0), 0);
  until(() => con >= 0 && con_b >= 0, 'LE connection');
  const pair: GattPair = {
    rl,
    A,
    B,
    logs,
    app,
    con,
    con_b,
    until,
    query(start) {
      const got: string[] = [];
      let done = false;
      const st = start((type, _ch, p, n) => {
        assert.is(type, 0x04);
        got.push(hex(p.subarray(0, n)).replace(/ /g, ''));
        if (p[0] === 0xa0) done = true;
      });
      assert.is(st, 0, 'query accepted');
      until(() => done, 'GATT_EVENT_QUERY_COMPLETE');
      return got;
    },
    close() {
      A.gap.gap_disconnect(con);
      rl.run(2000);
      A.hci.hci_power_control(0);
      B.hci.hci_power_control(0);
      until(() => A.hci.hci_get_state() === 0 && B.hci.hci_get_state() === 0, 'both off');
      rl.run(1000);
    },
  };
  return pair;
}

/**
 * A capture with GATT client traffic, clean: tshark (and the record walker) on the whole file,
 * btmon on a copy without the Read By Type Requests. btmon 5.66 (Debian 12) dies with SIGSEGV on
 * a Read By Type Request whose type it has a GATT handler for (0x2803, 0x2902, ...): its
 * att_read_type_req uses a connection record it does not keep for btsnoop input; a capture of
 * just the LE Connection Complete and one such valid PDU crashes it.
 */
export function assertCleanGattCapture(log: string): void {
  const full = checkCapture(log);
  assert.equal([...full.formatProblems, ...full.tsharkProblems], [], formatReport(full));
  assert.is(full.malformed, 0);
  assert.is(full.frames, full.records);
  const frames = tsharkFields(log, ['frame.number'], 'btatt.opcode == 0x08').map((r) => r[0]!);
  const out = log.replace(/(\.btsnoop|\.pklg)?$/, '-btmon.btsnoop');
  const r = spawnSync('editcap', ['-F', 'btsnoop', log, out, ...frames], { encoding: 'utf8' });
  assert.is(r.status, 0, `editcap: ${r.stderr}`);
  assertCleanCapture(out);
}

export const USER_DESCRIPTION = 'The FF21 sensor value: updated by the peripheral and notified to subscribers. '
  .repeat(2)
  .slice(0, 130);

/**
 * The descriptor database (handles checked against the compiler in gatt-client.test.ts):
 *   0x0001 FF20 service (to 0x0006), 0x0002 decl FF21 (READ | NOTIFY 0x12), 0x0003 value (dynamic)
 *   0x0004 CCC 0x2902 (dynamic), 0x0005 User Description 0x2901 (static, 130 octets, read only)
 *   0x0006 Server Characteristic Configuration 0x2903 (dynamic, writable)
 */
export const DESCRIPTOR_DB = `PRIMARY_SERVICE, 0000FF20-0000-1000-8000-00805F9B34FB
CHARACTERISTIC, 0000FF21-0000-1000-8000-00805F9B34FB, READ | NOTIFY | DYNAMIC,
CHARACTERISTIC_USER_DESCRIPTION, READ, "${USER_DESCRIPTION}"
SERVER_CHARACTERISTIC_CONFIGURATION, READ | WRITE,
`;

/** B's application for DESCRIPTOR_DB: every dynamic handle keeps what was written (prepared writes applied on execute). */
export class DescriptorApp extends ServerApp {
  readonly store = new Map<number, Uint8Array>();

  override read = (_con: number, handle: number, offset: number, buffer: Uint8Array | null, size: number): number => {
    const v = this.store.get(handle) ?? (handle === 0x0003 ? Uint8Array.of(0x17) : Uint8Array.of(0, 0));
    if (!buffer) return v.length;
    const n = Math.max(0, Math.min(size, v.length - offset));
    buffer.set(v.subarray(offset, offset + n));
    return n;
  };

  override write = (_con: number, handle: number, mode: number, offset: number, buffer: Uint8Array, size: number): number => {
    this.writes++;
    const data = buffer.slice(0, size);
    if (mode === ATT_TRANSACTION_MODE_CANCEL) this.queue.length = 0;
    else if (mode === ATT_TRANSACTION_MODE_ACTIVE) this.queue.push({ offset, data, handle });
    else if (mode === ATT_TRANSACTION_MODE_EXECUTE) {
      for (const w of this.queue) {
        const old = this.store.get(w.handle!) ?? new Uint8Array(0);
        const next = new Uint8Array(Math.max(old.length, w.offset + w.data.length));
        next.set(old);
        next.set(w.data, w.offset);
        this.store.set(w.handle!, next);
      }
      this.queue.length = 0;
    } else if (mode === ATT_TRANSACTION_MODE_NONE) {
      if (handle !== 0x0004 && handle !== 0x0006) return 0x03; // Write Not Permitted
      this.store.set(handle, data);
    }
    return 0;
  };
}
