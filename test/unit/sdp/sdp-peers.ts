/**
 * SDP test drivers on the shared fake L2CAP (test/helpers/fake-l2cap.ts): a stack-like object for
 * SdpServer/SdpClient, a raw L2CAP peer that sends hand-made requests to a server, and a scripted
 * "server" that answers a client with whatever a test returns (malformed-answer tests). Nothing
 * here is a fake L2CAP of its own.
 */
import type { BdAddr } from '../../../src/core/bytes.js';
import { Pools, resolveConfig, type StackConfig } from '../../../src/core/config.js';
import { Logger } from '../../../src/core/log.js';
import { codes_for, type CodeProfile } from '../../../src/codes/index.js';
import { L2CAP_DATA_PACKET } from '../../../src/codes/v1.4.js';
import type { SdpPacketHandler, SdpStackLike } from '../../../src/sdp/sdp-stack.js';
import { FakeAir, FakeL2cap } from '../../helpers/fake-l2cap.js';

export { FakeAir, FakeL2cap };

/** Endpoint options of the SDP suites: BTstack's default incoming MTU for a 1691-octet ACL payload, cids from 0x40. */
export const SDP_ENDPOINT = { max_mtu: 1691, first_cid: 0x40 } as const;

/** An endpoint with the SDP suites' options. */
export function sdp_endpoint(air: FakeAir, address: BdAddr, profile: CodeProfile = 'v1.4'): FakeL2cap {
  return new FakeL2cap(air, address, profile, SDP_ENDPOINT);
}

/** A minimal stack-like object for SDP (pools, codes, log; no L2CAP: pass the endpoint). */
export function fake_stack(
  profile: CodeProfile = 'v1.4',
  config: Partial<StackConfig> = {},
): SdpStackLike & { pools: Pools; log: Logger } {
  return { pools: new Pools(resolveConfig(config)), codes: codes_for(profile), log: new Logger() };
}

/** A raw L2CAP endpoint for driving a server by hand: collects what it receives. */
export class RawPeer {
  readonly received: Uint8Array[] = [];
  readonly events: Uint8Array[] = [];
  cid = 0;
  remote_mtu = 0;
  readonly handler: SdpPacketHandler = (type, _channel, packet, size) => {
    if (type === L2CAP_DATA_PACKET) this.received.push(packet.slice(0, size));
    else {
      this.events.push(packet.slice(0, size));
      const codes = this.l2cap.codes;
      if (packet[0] === codes.L2CAP_EVENT_CHANNEL_OPENED && codes.l2cap_event_channel_opened_get_status(packet) === 0) {
        this.cid = codes.l2cap_event_channel_opened_get_local_cid(packet);
        this.remote_mtu = codes.l2cap_event_channel_opened_get_remote_mtu(packet);
      }
    }
  };
  constructor(readonly l2cap: FakeL2cap) {}
  connect(addr: BdAddr, psm = 1, mtu = 672): void {
    this.l2cap.l2cap_create_channel(this.handler, addr, psm, mtu);
    this.l2cap.air.run();
  }
  /** Send a request and return the response (or null). */
  request(bytes: Uint8Array): Uint8Array | null {
    const before = this.received.length;
    this.l2cap.inject(this.cid, bytes);
    this.l2cap.air.run();
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
