/**
 * An AttServer on the shared fake of L2CAP's fixed channels (test/helpers/fake-l2cap-fixed.ts),
 * serving a db compiled from a small .gatt, with an app whose callbacks record every call.
 *
 * The db (handles from the compiler, checked in the first test of att-server.test.ts):
 *   0x0001 primary service 1800           0x0002 char decl, 0x0003 2A00 READ "bthost"
 *   0x0004 primary service 180F           0x0005 char decl, 0x0006 2A19 READ|NOTIFY|INDICATE|DYNAMIC
 *                                         0x0007 CCC (dynamic)
 *   0x0008 primary service FF10 (128-bit) 0x0009 char decl, 0x000A FF11 READ|WRITE|WWR|DYNAMIC
 *   0x000B char decl, 0x000C 2A01 READ|WRITE|DYNAMIC, read encrypted, write authenticated
 *   0x000D char decl, 0x000E 2A02 READ, key size 16, read authorized
 *   0x000F char decl, 0x0010 2A03 WRITE (static value 00)
 *   0x0011 char decl, 0x0012 2A04 READ "abcdefghijklmnopqrstuvwxyz0123" (30 octets)
 */
import * as assert from 'uvu/assert';
import { Pools, resolveConfig, type StackConfig } from '../../../src/core/config.js';
import { Logger } from '../../../src/core/log.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { fromHex } from '../../../src/core/bytes.js';
import { codes_for, type CodeProfile } from '../../../src/codes/index.js';
import { gatt_compile } from '../../../src/att/gatt-compiler.js';
import { AttServer, ATT_READ_ERROR_CODE_OFFSET } from '../../../src/att/att-server.js';
import { FakeL2capFixed, FakeLeAir } from '../../helpers/fake-l2cap-fixed.js';
import { hx, to_hex } from './helpers.js';

export const GATT = [
  'PRIMARY_SERVICE, 1800',
  'CHARACTERISTIC, 2A00, READ, "bthost"',
  'PRIMARY_SERVICE, 180F',
  'CHARACTERISTIC, 2A19, READ | NOTIFY | INDICATE | DYNAMIC,',
  'PRIMARY_SERVICE, 0000FF10-0000-1000-8000-00805F9B34FB',
  'CHARACTERISTIC, 0000FF11-0000-1000-8000-00805F9B34FB, READ | WRITE | WRITE_WITHOUT_RESPONSE | DYNAMIC,',
  'CHARACTERISTIC, 2A01, READ | WRITE | DYNAMIC | READ_ENCRYPTED | WRITE_AUTHENTICATED,',
  'CHARACTERISTIC, 2A02, READ | ENCRYPTION_KEY_SIZE_16 | READ_AUTHORIZED,',
  'CHARACTERISTIC, 2A03, WRITE, 00',
  'CHARACTERISTIC, 2A04, READ, "abcdefghijklmnopqrstuvwxyz0123"',
].join('\n');

export const DB = (() => {
  const r = gatt_compile(GATT, { file: 'att-server-test.gatt' });
  if (!r.profile_data) throw new Error(JSON.stringify(r.diagnostics));
  return r.profile_data;
})();

export const PEER = fromHex('112233445566');
export const LOCAL = fromHex('C0FFEE000001');

export interface WriteCall {
  handle: number;
  mode: number;
  offset: number;
  value: string;
}

export class Harness {
  readonly run_loop = new VirtualRunLoop();
  readonly config: StackConfig;
  readonly pools: Pools;
  readonly air = new FakeLeAir(this.run_loop);
  readonly l2: FakeL2capFixed;
  readonly server: AttServer;
  readonly codes;
  /** Every event the app's packet handler got, as hex. */
  readonly events: string[] = [];
  readonly writes: WriteCall[] = [];
  /** FF11's dynamic value (40 octets 0x00..0x27 unless a test changes it). */
  ff11 = Uint8Array.from({ length: 40 }, (_, i) => i);
  /** Value a write callback answers with (0 = ok). */
  write_status = 0;
  /** Prepared writes the app accepts before ATT_ERROR_PREPARE_QUEUE_FULL. */
  queue_limit = 2;
  queued = 0;
  /** 2A01's read answer as ATT_READ_ERROR_CODE_OFFSET + code when set. */
  read_error = 0;
  con_handle = 0;
  /** Called inside the write callback (an app calling back into the server from there). */
  on_write: ((handle: number, mode: number) => void) | null = null;

  constructor(
    readonly profile: CodeProfile = 'v1.4',
    config: Partial<StackConfig> = {},
    db: Uint8Array = DB,
  ) {
    this.config = resolveConfig(config);
    this.pools = new Pools(this.config);
    this.codes = codes_for(profile);
    this.l2 = new FakeL2capFixed(this.air, LOCAL, profile);
    this.server = new AttServer(
      { run_loop: this.run_loop, config: this.config, pools: this.pools, log: new Logger(), codes: this.codes },
      this.l2,
      this.l2.hci,
    );
    this.server.att_server_init(
      db,
      (_h, handle, offset, buffer, size) => this.read(handle, offset, buffer, size),
      (_h, handle, mode, offset, buffer, size) => {
        this.writes.push({ handle, mode, offset, value: to_hex(buffer.subarray(0, size)) });
        this.on_write?.(handle, mode);
        if (mode === 1) {
          if (this.queued >= this.queue_limit) return 0x09;
          this.queued++;
        }
        if (mode === 2 || mode === 3) this.queued = 0;
        return this.write_status;
      },
    );
    this.server.att_server_register_packet_handler((_t, _c, p, n) => this.events.push(to_hex(p.subarray(0, n))));
  }

  private read(handle: number, offset: number, buffer: Uint8Array | null, size: number): number {
    const value =
      handle === 0x06
        ? Uint8Array.of(0x64)
        : handle === 0x0a
          ? this.ff11
          : handle === 0x0c
            ? Uint8Array.of(0xaa, 0xbb)
            : handle === 0x07
              ? Uint8Array.of(0, 0)
              : new Uint8Array(0);
    if (handle === 0x0c && this.read_error) return ATT_READ_ERROR_CODE_OFFSET + this.read_error;
    if (!buffer) return value.length;
    const n = Math.max(0, Math.min(size, value.length - offset));
    buffer.set(value.subarray(offset, offset + n), 0);
    return n;
  }

  /** Connect the scripted peer (random address type 1 unless given) and run. */
  connect(addr_type = 1): number {
    this.con_handle = this.l2.connect_remote(PEER, addr_type, 1);
    this.run_loop.run();
    return this.con_handle;
  }

  /** Send `pdu` (hex) from the peer, run, and return the PDUs the server sent meanwhile (hex). */
  req(pdu: string, con_handle = this.con_handle): string[] {
    const from = this.l2.sent.length;
    this.l2.inject(con_handle, 4, hx(pdu));
    this.run_loop.run();
    return this.l2.sent.slice(from).map((s) => {
      assert.is(s.cid, 4);
      return to_hex(s.bytes);
    });
  }

  /** One request, exactly one response: its hex. */
  rsp(pdu: string): string {
    const out = this.req(pdu);
    assert.is(out.length, 1, `one response to ${pdu}, got ${JSON.stringify(out)}`);
    return out[0]!;
  }
}

/** Normalize "0b 62 74" / "0b6274" to the to_hex form. */
export function h(s: string): string {
  return to_hex(hx(s));
}
