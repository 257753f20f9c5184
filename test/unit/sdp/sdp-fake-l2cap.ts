/**
 * A fake L2CAP for SDP unit tests: two or more endpoints on one in-memory "link", each with
 * BTstack's L2CAP API (the SdpL2cap contract). Events are built with the profile's builders and
 * delivered from a queue drained by `link.run()`, so nothing re-enters a handler. MTUs are
 * enforced as real L2CAP does (send larger than the remote MTU -> L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU).
 */
import type { BdAddr } from '../../../src/core/bytes.js';
import { bd_addr_to_str } from '../../../src/core/bytes.js';
import { Pools, resolveConfig, type StackConfig } from '../../../src/core/config.js';
import { Logger } from '../../../src/core/log.js';
import { codes_for, type CodeProfile, type Codes } from '../../../src/codes/index.js';
import type { SdpL2cap, SdpPacketHandler, SdpStackLike } from '../../../src/sdp/l2cap-api.js';
import {
  BTSTACK_ACL_BUFFERS_FULL,
  ERROR_CODE_PAGE_TIMEOUT,
  HCI_EVENT_PACKET,
  L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_PSM,
  L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU,
  L2CAP_DATA_PACKET,
  L2CAP_LOCAL_CID_DOES_NOT_EXIST,
  L2CAP_SERVICE_ALREADY_REGISTERED,
} from '../../../src/codes/v1.4.js';

interface FakeChannel {
  owner: FakeL2cap;
  handler: SdpPacketHandler;
  local_cid: number;
  peer: FakeChannel | null;
  psm: number;
  local_mtu: number;
  open: boolean;
  incoming: boolean;
}

export class FakeLink {
  readonly queue: Array<() => void> = [];
  readonly endpoints: FakeL2cap[] = [];
  /** Every L2CAP SDU sent, for byte checks: [from address, to address, bytes]. */
  readonly sent: Array<{ from: string; cid: number; bytes: Uint8Array }> = [];
  run(max = 10_000_000): number {
    let n = 0;
    while (this.queue.length && n < max) {
      this.queue.shift()!();
      n++;
    }
    return n;
  }
}

export class FakeL2cap implements SdpL2cap {
  readonly codes: Codes;
  private services = new Map<number, { handler: SdpPacketHandler; mtu: number }>();
  readonly channels = new Map<number, FakeChannel>();
  private nextCid = 0x40;
  private readonly ev = new Uint8Array(64);
  /** Incoming MTU this endpoint offers (l2cap_max_mtu). */
  max_mtu = 1691;
  /** Sends refused with BTSTACK_ACL_BUFFERS_FULL before one succeeds (flow-control tests). */
  refuse_sends = 0;
  /** When true, a create_channel to this endpoint times out (page timeout). */
  unreachable = false;

  constructor(
    readonly link: FakeLink,
    readonly address: BdAddr,
    profile: CodeProfile = 'v1.4',
  ) {
    this.codes = codes_for(profile);
    link.endpoints.push(this);
  }

  l2cap_max_mtu(): number {
    return this.max_mtu;
  }

  l2cap_register_service(handler: SdpPacketHandler, psm: number, mtu: number, _security_level: number): number {
    if (this.services.has(psm)) return L2CAP_SERVICE_ALREADY_REGISTERED;
    this.services.set(psm, { handler, mtu: Math.min(mtu, this.max_mtu) });
    return 0;
  }
  l2cap_unregister_service(psm: number): number {
    this.services.delete(psm);
    return 0;
  }

  private emit(ch: FakeChannel, build: (buf: Uint8Array) => number): void {
    const n = build(this.ev);
    const copy = this.ev.slice(0, n);
    this.link.queue.push(() => ch.handler(HCI_EVENT_PACKET, ch.local_cid, copy, n));
  }

  private alloc(handler: SdpPacketHandler, psm: number, mtu: number, incoming: boolean): FakeChannel {
    const ch: FakeChannel = { owner: this, handler, local_cid: this.nextCid++, peer: null, psm, local_mtu: mtu, open: false, incoming };
    this.channels.set(ch.local_cid, ch);
    return ch;
  }

  l2cap_create_channel(handler: SdpPacketHandler, address: BdAddr, psm: number, mtu: number): number {
    const peer = this.link.endpoints.find((e) => bd_addr_to_str(e.address) === bd_addr_to_str(address));
    const ch = this.alloc(handler, psm, Math.min(mtu, this.max_mtu), false);
    const codes = this.codes;
    const fail = (status: number): void => {
      this.emit(ch, (b) => codes.l2cap_event_channel_opened_build(b, 0, status, address, 0, psm, ch.local_cid, 0, ch.local_mtu, 0, 0, 0, 0, 0));
      this.channels.delete(ch.local_cid);
    };
    if (!peer || peer.unreachable) {
      fail(ERROR_CODE_PAGE_TIMEOUT);
      return 0;
    }
    const svc = peer.services.get(psm);
    if (!svc) {
      fail(L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_PSM);
      return 0;
    }
    const remote = peer.alloc(svc.handler, psm, svc.mtu, true);
    remote.peer = ch;
    ch.peer = remote;
    peer.emit(remote, (b) => peer.codes.l2cap_event_incoming_connection_build(b, 0, this.address, 0x0b, psm, remote.local_cid, ch.local_cid));
    return 0;
  }

  private openedEvent(ch: FakeChannel, status: number): void {
    const p = ch.peer!;
    const other = p.owner;
    this.emit(ch, (b) =>
      this.codes.l2cap_event_channel_opened_build(b, 0, status, other.address, 0x0b, ch.psm, ch.local_cid, p.local_cid, ch.local_mtu, p.local_mtu, 0xffff, ch.incoming ? 1 : 0, 0, 0),
    );
  }

  l2cap_accept_connection(local_cid: number): void {
    const ch = this.channels.get(local_cid);
    if (!ch || !ch.peer || ch.open) return;
    ch.open = ch.peer.open = true;
    this.openedEvent(ch, 0);
    ch.peer.owner.openedEvent(ch.peer, 0);
  }

  l2cap_decline_connection(local_cid: number): void {
    const ch = this.channels.get(local_cid);
    if (!ch || !ch.peer) return;
    const p = ch.peer;
    this.channels.delete(local_cid);
    p.owner.emit(p, (b) => p.owner.codes.l2cap_event_channel_opened_build(b, 0, 0x63 + 4, this.address, 0x0b, p.psm, p.local_cid, 0, p.local_mtu, 0, 0, 0, 0, 0));
    p.owner.channels.delete(p.local_cid);
  }

  l2cap_request_can_send_now_event(local_cid: number): void {
    const ch = this.channels.get(local_cid);
    if (!ch || !ch.open) return;
    this.emit(ch, (b) => this.codes.l2cap_event_can_send_now_build(b, 0, local_cid));
  }

  l2cap_send(local_cid: number, data: Uint8Array, len: number): number {
    const ch = this.channels.get(local_cid);
    if (!ch || !ch.open || !ch.peer) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    if (len > ch.peer.local_mtu) return L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU;
    if (this.refuse_sends > 0) {
      this.refuse_sends--;
      return BTSTACK_ACL_BUFFERS_FULL;
    }
    const copy = data.slice(0, len);
    const p = ch.peer;
    this.link.sent.push({ from: bd_addr_to_str(this.address), cid: local_cid, bytes: copy });
    this.link.queue.push(() => {
      if (p.open) p.handler(L2CAP_DATA_PACKET, p.local_cid, copy, copy.length);
    });
    return 0;
  }

  /** Deliver raw bytes to the peer of `local_cid` as if sent (no MTU check): for malformed input tests. */
  inject(local_cid: number, bytes: Uint8Array): void {
    const ch = this.channels.get(local_cid)!;
    const p = ch.peer!;
    const copy = bytes.slice();
    this.link.queue.push(() => p.handler(L2CAP_DATA_PACKET, p.local_cid, copy, copy.length));
  }

  l2cap_disconnect(local_cid: number): void {
    const ch = this.channels.get(local_cid);
    if (!ch) return;
    this.close(ch);
    if (ch.peer) ch.peer.owner.close(ch.peer);
  }

  private close(ch: FakeChannel): void {
    if (!this.channels.has(ch.local_cid)) return;
    this.channels.delete(ch.local_cid);
    ch.open = false;
    this.emit(ch, (b) => this.codes.l2cap_event_channel_closed_build(b, 0, ch.local_cid));
  }
}

/** A minimal stack-like object for SDP (pools, codes, log). */
export function fake_stack(profile: CodeProfile = 'v1.4', config: Partial<StackConfig> = {}): SdpStackLike & { pools: Pools; log: Logger } {
  return { pools: new Pools(resolveConfig(config)), codes: codes_for(profile), log: new Logger() };
}

/** A raw L2CAP endpoint for driving a server by hand: collects what it receives. */
export class RawPeer {
  readonly received: Uint8Array[] = [];
  readonly events: Uint8Array[] = [];
  cid = 0;
  remote_mtu = 0;
  readonly handler: SdpPacketHandler = (type, channel, packet, size) => {
    if (type === L2CAP_DATA_PACKET) this.received.push(packet.slice(0, size));
    else {
      this.events.push(packet.slice(0, size));
      if (packet[0] === this.l2cap.codes.L2CAP_EVENT_CHANNEL_OPENED && this.l2cap.codes.l2cap_event_channel_opened_get_status(packet) === 0) {
        this.cid = channel;
        this.remote_mtu = this.l2cap.codes.l2cap_event_channel_opened_get_remote_mtu(packet);
      }
    }
  };
  constructor(readonly l2cap: FakeL2cap) {}
  connect(addr: BdAddr, psm = 1, mtu = 672): void {
    this.l2cap.l2cap_create_channel(this.handler, addr, psm, mtu);
    this.l2cap.link.run();
  }
  /** Send a request and return the response (or null). */
  request(bytes: Uint8Array): Uint8Array | null {
    const before = this.received.length;
    this.l2cap.inject(this.cid, bytes);
    this.l2cap.link.run();
    return this.received.length > before ? this.received[this.received.length - 1]! : null;
  }
}

/** An SDP "server" that answers each request with whatever `respond` returns (malformed-answer tests). */
export class ScriptedServer {
  readonly requests: Uint8Array[] = [];
  cid = 0;
  respond: (req: Uint8Array, n: number) => Uint8Array[] = () => [];
  readonly handler: SdpPacketHandler = (type, channel, packet, size) => {
    const codes = this.l2cap.codes;
    if (type === L2CAP_DATA_PACKET) {
      const req = packet.slice(0, size);
      this.requests.push(req);
      for (const r of this.respond(req, this.requests.length)) this.l2cap.inject(channel, r);
      return;
    }
    if (packet[0] === codes.L2CAP_EVENT_INCOMING_CONNECTION) {
      this.cid = codes.l2cap_event_incoming_connection_get_local_cid(packet);
      this.l2cap.l2cap_accept_connection(this.cid);
    }
  };
  constructor(readonly l2cap: FakeL2cap) {
    l2cap.l2cap_register_service(this.handler, 1, 0xffff, 0);
  }
}
