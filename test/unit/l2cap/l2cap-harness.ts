/**
 * A scripted fake HCI for the L2CAP unit tests: it records every ACL packet L2CAP sends, keeps a
 * controller buffer credit count, and lets a test inject HCI events and incoming L2CAP PDUs as
 * a remote device would. One L2cap on a VirtualRunLoop, with the stack's real pools and codes.
 */
import {
  bd_addr_copy,
  fromHex,
  hex,
  little_endian_read_16,
  little_endian_store_16,
  store_bd_addr,
  type BdAddr,
} from '../../../src/core/bytes.js';
import { Pools, resolveConfig, type StackConfig } from '../../../src/core/config.js';
import { Logger } from '../../../src/core/log.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { codes_for, type CodeProfile, type Codes, type CodesV14, type CodesV18 } from '../../../src/codes/index.js';
import { L2cap, type L2capCallbackRegistration, type L2capPacketHandler } from '../../../src/l2cap/l2cap.js';
import type { HciService } from '../../../src/hci/hci-service.js';

export { fromHex, hex };

export const REMOTE: BdAddr = fromHex('112233445566');
export const HANDLE = 0x0040;

export class FakeHci implements HciService {
  state = 2; // HCI_STATE_WORKING
  /** Controller ACL buffers free (plenty unless a test limits them). */
  credits = 1000;
  reserved = false;
  readonly outgoing: Uint8Array;
  /** ACL packets sent (ACL header included), oldest first. */
  readonly sent: Uint8Array[] = [];
  readonly connect_requests: string[] = [];
  readonly disconnects: number[] = [];
  connectable = false;
  security_level = 0;
  /** Status hci_connect_acl returns. */
  connect_status = 0;
  non_flushable = false;
  private handlers: L2capCallbackRegistration[] = [];
  private aclHandler: L2capPacketHandler | null = null;
  private readonly conns = new Map<number, { address: BdAddr; is_le: boolean }>();

  readonly gap = {
    gap_connectable_control: (enable: boolean | number): void => {
      this.connectable = !!enable;
    },
    gap_disconnect: (handle: number): number => {
      this.disconnects.push(handle);
      return 0;
    },
    gap_security_level: (_handle: number): number => this.security_level,
    gap_request_security_level: (con_handle: number, level: number): void => {
      this.security_requests.push([con_handle, level]);
    },
    gap_get_security_mode: (): number => this.security_mode,
    gap_get_security_level: (): number => this.mode4_level,
    gap_drop_link_key_for_bd_addr: (addr: BdAddr): void => {
      this.dropped_keys.push(hex(addr));
    },
  };
  /** gap_drop_link_key_for_bd_addr calls (addresses as hex). */
  readonly dropped_keys: string[] = [];
  /** The stack's codes (set by makeHarness): events are built through them. */
  codes: Codes | null = null;
  /** gap_request_security_level calls, oldest first: [con_handle, level]. */
  readonly security_requests: [number, number][] = [];
  security_mode = 4;
  /** What gap_get_security_level answers (the mode-4 minimum). */
  mode4_level = 0;

  constructor(buffer_size: number) {
    this.outgoing = new Uint8Array(buffer_size);
  }

  hci_add_event_handler(r: L2capCallbackRegistration): void {
    this.handlers.push(r);
  }
  hci_register_acl_packet_handler(h: L2capPacketHandler | null): void {
    this.aclHandler = h;
  }
  hci_get_state(): number {
    return this.state;
  }
  hci_connect_acl(addr: BdAddr): number {
    this.connect_requests.push(hex(addr));
    return this.connect_status;
  }
  hci_can_send_acl_packet_now(_h: number): boolean {
    return !this.reserved && this.credits > 0;
  }
  hci_can_send_prepared_acl_packet_now(_h: number): boolean {
    return this.credits > 0;
  }
  hci_reserve_packet_buffer(): boolean {
    if (this.reserved) return false;
    this.reserved = true;
    return true;
  }
  hci_release_packet_buffer(): void {
    this.reserved = false;
  }
  hci_is_packet_buffer_reserved(): boolean {
    return this.reserved;
  }
  hci_get_outgoing_packet_buffer(): Uint8Array {
    return this.outgoing;
  }
  hci_send_acl_packet_buffer(size: number): number {
    if (!this.reserved) throw new Error('send without reserve');
    if (this.credits <= 0) {
      this.reserved = false;
      return 0x57;
    }
    this.credits--;
    this.sent.push(this.outgoing.slice(0, size));
    this.reserved = false;
    this.event(fromHex('6e00')); // HCI_EVENT_TRANSPORT_PACKET_SENT
    return 0;
  }
  hci_non_flushable_packet_boundary_flag_supported(): boolean {
    return this.non_flushable;
  }
  hci_connection_for_handle(h: number) {
    return this.conns.get(h) ?? null;
  }
  hci_connection_for_bd_addr_and_type(addr: BdAddr, _type: number) {
    for (const [h, c] of this.conns) if (hex(c.address) === hex(addr)) return { con_handle: h, is_le: c.is_le };
    return null;
  }
  /** A link HCI has but L2CAP never heard of (made before l2cap_init). */
  preexisting(addr: BdAddr, handle: number): void {
    this.conns.set(handle, { address: Uint8Array.from(addr), is_le: false });
  }

  // ---- scripting

  /** Deliver an HCI event to the registered handlers. */
  event(packet: Uint8Array): void {
    for (const r of this.handlers.slice()) r.callback(4, 0, packet, packet.length);
  }

  /**
   * GAP_EVENT_SECURITY_LEVEL (handle, reached level; v1.8 adds a status) as HCI emits it after
   * gap_request_security_level; the link's level (gap_security_level) becomes `level`.
   */
  securityLevel(handle: number, level: number, status = 0): void {
    this.security_level = level;
    const c = this.codes!;
    const buf = new Uint8Array(8);
    const n =
      c.PROFILE === 'v1.8'
        ? (c as CodesV18).gap_event_security_level_build(buf, 0, handle, level, status)
        : (c as CodesV14).gap_event_security_level_build(buf, 0, handle, level);
    this.event(buf.subarray(0, n));
  }

  /** HCI_EVENT_CONNECTION_COMPLETE (ACL). */
  connectionComplete(addr: BdAddr, handle: number, status = 0): void {
    if (status === 0) this.conns.set(handle, { address: Uint8Array.from(addr), is_le: false });
    const e = new Uint8Array(13);
    e[0] = 0x03;
    e[1] = 11;
    e[2] = status;
    little_endian_store_16(e, 3, handle);
    store_bd_addr(e, 5, addr);
    e[11] = 0x01;
    e[12] = 0;
    this.event(e);
  }

  /** HCI_EVENT_DISCONNECTION_COMPLETE. */
  disconnectionComplete(handle: number, reason = 0x13): void {
    const e = new Uint8Array([0x05, 4, 0, handle & 0xff, handle >> 8, reason]);
    this.event(e);
    this.conns.delete(handle);
    this.event(new Uint8Array([0x61, 1, this.conns.size])); // BTSTACK_EVENT_NR_CONNECTIONS_CHANGED, after the record went (as HCI)
  }

  /** Return controller buffers (Number Of Completed Packets). */
  complete(handle: number, n: number): void {
    this.credits += n;
    const e = new Uint8Array([0x13, 5, 1, handle & 0xff, handle >> 8, n & 0xff, n >> 8]);
    this.event(e);
  }

  /** Deliver an L2CAP PDU (basic header included) from the remote on `handle`. */
  acl(handle: number, pdu: Uint8Array): void {
    const p = new Uint8Array(4 + pdu.length);
    little_endian_store_16(p, 0, handle | 0x2000);
    little_endian_store_16(p, 2, pdu.length);
    p.set(pdu, 4);
    this.aclHandler?.(2, handle, p, p.length);
  }

  /** Deliver an ACL packet (ACL header included) as HCI would, this very array (a transport's fixed buffer). */
  aclPacket(handle: number, packet: Uint8Array, size = packet.length): void {
    this.aclHandler?.(2, handle, packet, size);
  }

  /** Deliver a C-frame with the given command bytes (hex) on CID 1. */
  sig(handle: number, commandsHex: string): void {
    const cmds = fromHex(commandsHex);
    const pdu = new Uint8Array(4 + cmds.length);
    little_endian_store_16(pdu, 0, cmds.length);
    little_endian_store_16(pdu, 2, 1);
    pdu.set(cmds, 4);
    this.acl(handle, pdu);
  }

  /** Sent packets as hex (ACL header stripped: the L2CAP PDU), and forget them. */
  take(): string[] {
    const out = this.sent.map((p) => hex(p.subarray(4)));
    this.sent.length = 0;
    return out;
  }

  /** The ACL headers of the packets sent (handle+flags, length) as hex, without forgetting them. */
  aclHeaders(): string[] {
    return this.sent.map((p) => hex(p.subarray(0, 4)));
  }
}

export interface Event {
  type: number;
  channel: number;
  bytes: string;
  code: number;
  data?: Uint8Array;
}

export interface Harness {
  loop: VirtualRunLoop;
  hci: FakeHci;
  l2cap: L2cap;
  pools: Pools;
  log: string[];
  /** Everything the test's handler received. */
  events: Event[];
  handler: L2capPacketHandler;
  /** Events of one code (as hex strings). */
  ofCode(code: number): Event[];
}

export function makeHarness(
  profile: CodeProfile = 'v1.4',
  config: Partial<StackConfig> = {},
  onEvent?: (e: Event, h: Harness) => void,
): Harness {
  const cfg = resolveConfig(config);
  const pools = new Pools(cfg);
  const loop = new VirtualRunLoop();
  loop.onError = (err) => {
    throw err;
  };
  const log = new Logger();
  const lines: string[] = [];
  log.level = 0;
  log.add_sink((_lvl, m) => lines.push(m));
  const hci = new FakeHci(cfg.HCI_PACKET_BUFFER_SIZE);
  hci.codes = codes_for(profile);
  const l2cap = new L2cap({ run_loop: loop, config: cfg, pools, log, codes: codes_for(profile), hci });
  l2cap.l2cap_init();
  const events: Event[] = [];
  const h: Harness = {
    loop,
    hci,
    l2cap,
    pools,
    log: lines,
    events,
    handler: (type, channel, packet, size) => {
      const e: Event = { type, channel, bytes: hex(packet.subarray(0, size)), code: type === 4 ? packet[0]! : -1 };
      if (type !== 4) e.data = packet.slice(0, size);
      events.push(e);
      onEvent?.(e, h);
    },
    ofCode: (code) => events.filter((e) => e.type === 4 && e.code === code),
  };
  return h;
}

/** Bring a link up (Connection Complete from the remote side, as an incoming ACL connection). */
export function linkUp(h: Harness, handle = HANDLE, addr: BdAddr = REMOTE): void {
  h.hci.connectionComplete(addr, handle);
  h.loop.run(0);
}

/** Little-endian 16-bit hex of v ("4000" for 0x40). */
export function le16(v: number): string {
  return hex(new Uint8Array([v & 0xff, (v >> 8) & 0xff])).replace(/ /g, '');
}

export function readCid(pduHex: string, offset: number): number {
  const b = fromHex(pduHex);
  return little_endian_read_16(b, offset);
}

export { bd_addr_copy };

/** Code and identifier of the first command of each sent C-frame (hex PDUs as take() returns them). */
export function sigIds(pdus: string[]): Array<{ code: number; id: number; pdu: string }> {
  return pdus
    .map((p) => fromHex(p))
    .filter((b) => b.length >= 8 && b[2] === 1 && b[3] === 0)
    .map((b) => ({ code: b[4]!, id: b[5]!, pdu: hex(b) }));
}

/**
 * Drive an outgoing channel from create to open on a fresh link: information exchange answered
 * with "no features", connection accepted with `remote_cid`, configuration both ways (the remote
 * asks for `remote_mtu`). Returns the local cid.
 */
export function openOutgoing(h: Harness, psm: number, remote_cid: number, remote_mtu = 672, handle = HANDLE): number {
  const r = h.l2cap.l2cap_create_channel(h.handler, REMOTE, psm, 1000);
  if (r.status !== 0) throw new Error(`create failed ${r.status}`);
  if (!h.l2cap.state.linkForHandle(handle)) h.hci.connectionComplete(REMOTE, handle);
  h.loop.run(0);
  for (let i = 0; i < 10; i++) {
    const sent = sigIds(h.hci.take());
    if (sent.length === 0) break;
    for (const s of sent) {
      const b = fromHex(s.pdu);
      if (s.code === 0x0a)
        h.hci.sig(handle, `0b ${s.id.toString(16).padStart(2, '0')} 0400 ${hex(b.subarray(8, 10)).replace(/ /g, '')} 0100`);
      if (s.code === 0x02 && little_endian_read_16(b, 10) === r.local_cid) {
        h.hci.sig(handle, `03 ${s.id.toString(16).padStart(2, '0')} 0800 ${le16(remote_cid)} ${le16(r.local_cid)} 0000 0000`);
      }
      if (s.code === 0x04 && little_endian_read_16(b, 8) === remote_cid) {
        h.hci.sig(handle, `04 77 0800 ${le16(r.local_cid)} 0000 0102 ${le16(remote_mtu)}`);
        h.hci.sig(handle, `05 ${s.id.toString(16).padStart(2, '0')} 0600 ${le16(r.local_cid)} 0000 0000`);
      }
    }
    h.loop.run(0);
  }
  h.hci.take();
  return r.local_cid;
}
