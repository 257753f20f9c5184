/**
 * Two (or more) RFCOMM layers on the shared fake L2CAP air (test/helpers/fake-l2cap.ts), with recorders for what each application
 * handler sees, and an independent bit-by-bit TS 07.10 FCS for checking frames by hand.
 */
import * as assert from 'uvu/assert';
import { fromHex, hex, type BdAddr } from '../../../src/core/bytes.js';
import { Pools, resolveConfig, type StackConfig } from '../../../src/core/config.js';
import { Logger } from '../../../src/core/log.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { codes_for, type CodeProfile } from '../../../src/codes/index.js';
import { Rfcomm, type RfcommStackLike } from '../../../src/rfcomm/rfcomm.js';
import { FakeAir, FakeL2cap } from '../../helpers/fake-l2cap.js';

export { FakeAir, FakeL2cap };

/** A stack-like object for RFCOMM (run loop, pools, codes, log). */
export function fake_stack(
  run_loop: VirtualRunLoop,
  profile: CodeProfile = 'v1.4',
  config: Partial<StackConfig> = {},
): RfcommStackLike & { pools: Pools; log: Logger } {
  return { run_loop, pools: new Pools(resolveConfig(config)), codes: codes_for(profile), log: new Logger() };
}

export interface Rec {
  type: number;
  channel: number;
  /** Event/data bytes as lowercase hex without spaces. */
  hex: string;
  bytes: Uint8Array;
}

export class Node {
  readonly stack: ReturnType<typeof fake_stack>;
  readonly l2cap: FakeL2cap;
  readonly rfcomm: Rfcomm;
  readonly recs: Rec[] = [];
  /** Called after recording (auto-accept and the like). */
  on: ((r: Rec) => void) | null = null;
  readonly handler = (type: number, channel: number, packet: Uint8Array, size: number): void => {
    const bytes = packet.slice(0, size);
    const r = { type, channel, hex: hex(bytes).replace(/ /g, ''), bytes };
    this.recs.push(r);
    this.on?.(r);
  };

  constructor(
    air: FakeAir,
    readonly addr: BdAddr,
    profile: CodeProfile,
    config: Partial<StackConfig> = {},
  ) {
    if (!air.run_loop) throw new Error('RFCOMM tests run the fake air on a VirtualRunLoop');
    this.stack = fake_stack(air.run_loop, profile, config);
    this.l2cap = new FakeL2cap(air, addr, profile);
    this.rfcomm = new Rfcomm(this.stack, this.l2cap);
    this.rfcomm.rfcomm_init();
  }

  /** Events (type 4) with the given code. */
  events(code: number): Rec[] {
    return this.recs.filter((r) => r.type === 4 && r.bytes[0] === code);
  }
  /** RFCOMM data packets (type 7). */
  data(): Rec[] {
    return this.recs.filter((r) => r.type === 7);
  }
  last(code: number): Rec | undefined {
    const e = this.events(code);
    return e[e.length - 1];
  }
  clear(): void {
    this.recs.length = 0;
  }
}

export const ADDR_A = fromHex('a1a2a3a4a5a6');
export const ADDR_B = fromHex('b1b2b3b4b5b6');
export const ADDR_C = fromHex('c1c2c3c4c5c6');

export function make_pair(
  profile: CodeProfile = 'v1.4',
  config: Partial<StackConfig> = {},
): { loop: VirtualRunLoop; air: FakeAir; a: Node; b: Node } {
  const loop = new VirtualRunLoop();
  loop.onError = (err) => {
    throw err;
  };
  const air = new FakeAir(loop);
  const a = new Node(air, ADDR_A, profile, config);
  const b = new Node(air, ADDR_B, profile, config);
  return { loop, air, a, b };
}

// Event codes (identical in v1.4 and v1.8)
export const OPENED = 0x80;
export const CLOSED = 0x81;
export const INCOMING = 0x82;
export const LINE_STATUS = 0x83;
export const MODEM_STATUS = 0x87;
export const PORT_CONFIG = 0x88;
export const CAN_SEND = 0x89;

/** Accept every RFCOMM_EVENT_INCOMING_CONNECTION on this node. */
export function auto_accept(n: Node): void {
  n.on = (r) => {
    if (r.type === 4 && r.bytes[0] === INCOMING) n.rfcomm.rfcomm_accept_connection(r.bytes[9]! | (r.bytes[10]! << 8));
  };
}

/** Status and rfcomm_cid of an RFCOMM_EVENT_CHANNEL_OPENED record. */
export function opened_info(r: Rec): { status: number; cid: number; mfs: number; incoming: number } {
  const b = r.bytes;
  return { status: b[2]!, cid: b[12]! | (b[13]! << 8), mfs: b[14]! | (b[15]! << 8), incoming: b[16]! };
}

/**
 * TS 07.10 FCS computed bit by bit (annex B: reflected polynomial x^8+x^2+x+1, register
 * preset to all ones, ones' complement of the result), independent of src/rfcomm/frames.ts.
 */
export function fcs_by_hand(octets: number[]): number {
  let reg = 0xff;
  for (const o of octets) {
    for (let i = 0; i < 8; i++) {
      const bit = ((o >> i) & 1) ^ (reg & 1);
      reg >>= 1;
      if (bit) reg ^= 0xe0;
    }
  }
  return 0xff - reg;
}

/** A whole frame by hand: address, control, length octet(s), [credits], info, FCS. */
export function frame_by_hand(address: number, control: number, info: number[] = [], credits = -1): Uint8Array {
  const hdr = [address, control];
  if (info.length > 127) hdr.push((info.length & 0x7f) << 1, info.length >> 7);
  else hdr.push((info.length << 1) | 1);
  const isUih = (control & 0xef) === 0xef;
  const fcs = fcs_by_hand(isUih ? hdr.slice(0, 2) : hdr);
  const out = [...hdr];
  if (credits >= 0) out.push(credits);
  out.push(...info, fcs);
  return Uint8Array.from(out);
}

/** Sent frames as hex, optionally only those from one address. */
export function sent_hex(air: FakeAir, from?: BdAddr): string[] {
  const f = from ? hex(from).replace(/ /g, ':').toUpperCase() : null;
  return air.sent.filter((s) => !f || s.from === f).map((s) => hex(s.bytes).replace(/ /g, ''));
}

/**
 * A hand-driven RFCOMM peer: an L2CAP endpoint on the air without an RFCOMM layer. It accepts
 * PSM 3 (or connects to it), records every SDU it receives and sends whatever bytes a test
 * writes, so the RFCOMM layer under test can be fed exact (and broken) frames.
 */
export class RawPeer {
  readonly l2cap: FakeL2cap;
  readonly received: Uint8Array[] = [];
  readonly events: Uint8Array[] = [];
  cid = 0;
  closed = false;
  readonly handler = (type: number, channel: number, packet: Uint8Array, size: number): void => {
    if (type === 4) {
      const e = packet.slice(0, size);
      this.events.push(e);
      if (e[0] === this.l2cap.codes.L2CAP_EVENT_INCOMING_CONNECTION) {
        this.cid = e[12]! | (e[13]! << 8);
        this.l2cap.l2cap_accept_connection(this.cid);
      } else if (e[0] === this.l2cap.codes.L2CAP_EVENT_CHANNEL_OPENED && e[2] === 0) {
        this.cid = e[13]! | (e[14]! << 8);
      } else if (e[0] === this.l2cap.codes.L2CAP_EVENT_CHANNEL_CLOSED) {
        this.closed = true;
      }
    } else if (type === 6) {
      this.received.push(packet.slice(0, size));
    }
  };

  constructor(
    air: FakeAir,
    readonly addr: BdAddr,
    profile: CodeProfile = 'v1.4',
  ) {
    this.l2cap = new FakeL2cap(air, addr, profile);
    this.l2cap.window = 1 << 20; // a test driver: never out of buffers
  }

  listen(): void {
    this.l2cap.l2cap_register_service(this.handler, 3, 0xffff, 0);
  }

  connect(to: BdAddr): void {
    this.l2cap.l2cap_create_channel(this.handler, to, 3, 0xffff);
  }

  send(bytes: Uint8Array | number[]): number {
    const b = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
    return this.l2cap.l2cap_send(this.cid, b, b.length);
  }

  /** Received SDUs as hex. */
  rx(): string[] {
    return this.received.map((b) => hex(b).replace(/ /g, ''));
  }
}

/** A raw peer and an RFCOMM node on one air. */
export function make_raw(
  profile: CodeProfile = 'v1.4',
  config: Partial<StackConfig> = {},
): { loop: VirtualRunLoop; air: FakeAir; a: Node; p: RawPeer } {
  const loop = new VirtualRunLoop();
  loop.onError = (err) => {
    throw err;
  };
  const air = new FakeAir(loop);
  const a = new Node(air, ADDR_A, profile, config);
  const p = new RawPeer(air, ADDR_B, profile);
  return { loop, air, a, p };
}

/** Frame bytes as an array (for RawPeer.send). */
export function fr(address: number, control: number, info: number[] = [], credits = -1): Uint8Array {
  return frame_by_hand(address, control, info, credits);
}

export function pool_in_use(n: Node, name: string): number {
  return n.stack.pools.all.find((p) => p.name === name)!.in_use;
}

/** Open A's DLC to server channel 1 on the raw peer (DLCI 2), the peer answering by hand. */
export function open_with_raw(
  loop: VirtualRunLoop,
  a: Node,
  p: RawPeer,
  opt: { credit: boolean; k: number; n1: number },
): number {
  p.listen();
  const cid = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1).rfcomm_cid;
  loop.run(10);
  p.send(fr(0x03, 0x73)); // UA 0
  loop.run(10);
  p.send(fr(0x01, 0xef, [0x81, 0x11, 0x02, opt.credit ? 0xe0 : 0x00, 0x00, 0x00, opt.n1 & 0xff, opt.n1 >> 8, 0x00, opt.k]));
  loop.run(10);
  p.send(fr(0x0b, 0x73)); // UA 2
  loop.run(10);
  p.send(fr(0x01, 0xef, [0xe1, 0x05, 0x0b, 0x8d])); // MSC response
  p.send(fr(0x01, 0xef, [0xe3, 0x05, 0x0b, 0x8d])); // MSC command
  loop.run(10);
  assert.equal(
    a
      .events(OPENED)
      .map(opened_info)
      .map((o) => o.status),
    [0],
    'open',
  );
  return cid;
}
