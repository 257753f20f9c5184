/**
 * The SDP server's state record: what its components share (code profile, logger, the L2CAP
 * service, the record database, the channel pool, the response buffer size, whether PSM 1 is
 * registered). Fields and lookups only; the protocol lives in server-l2cap.ts and
 * server-responder.ts.
 */
import type { Pool } from '../core/pool.js';
import type { Logger } from '../core/log.js';
import type { Codes } from '../codes/index.js';
import type { L2capService } from '../l2cap/l2cap-service.js';
import type { SdpStackLike } from './sdp-stack.js';
import { SdpRecordDb } from './records.js';
import { L2CAP_MIN_MTU, SdpServerChannel } from './server-channel.js';

export class SdpServerState {
  readonly codes: Codes;
  readonly log: Logger;
  readonly l2cap: L2capService | null;
  readonly db: SdpRecordDb;
  /** SDP channels, one per peer (MAX_NR_HCI_CONNECTIONS). */
  readonly channels: Pool<SdpServerChannel>;
  /** Octets of a channel's response buffer: one ACL payload minus the L2CAP header, as BTstack. */
  readonly responseSize: number;
  /** PSM 1 registered with L2CAP (sdp_init done). */
  registered = false;

  constructor(stack: SdpStackLike, l2cap: L2capService | null) {
    this.codes = stack.codes;
    this.log = stack.log;
    this.l2cap = l2cap;
    this.db = new SdpRecordDb(stack.pools, stack.log);
    // BTstack answers from a buffer of one ACL payload (HCI_ACL_PAYLOAD_SIZE - L2CAP header).
    const size = Math.max(L2CAP_MIN_MTU, stack.pools.config.HCI_ACL_PAYLOAD_SIZE - 4);
    this.responseSize = size;
    this.channels = stack.pools.create(
      'MAX_NR_HCI_CONNECTIONS',
      'sdp_server_channels',
      () => {
        const c = new SdpServerChannel();
        c.response = new Uint8Array(size);
        return c;
      },
      (c) => c.reset(),
    );
  }

  /** The channel with this L2CAP local cid, or null. */
  channel(local_cid: number): SdpServerChannel | null {
    for (const c of this.channels.items()) if (c.local_cid === local_cid) return c;
    return null;
  }
}
