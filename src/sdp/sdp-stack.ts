/**
 * What the SDP server and client need from their Stack: pools, the code profile, the logger and
 * the L2CAP layer as its typed service (`L2capService`, src/l2cap/l2cap-service.ts; unit tests
 * pass the shared fake in test/helpers/fake-l2cap.ts, which implements the same interface).
 */
import type { Logger } from '../core/log.js';
import type { Pools } from '../core/config.js';
import type { Codes } from '../codes/index.js';
import type { L2capService, L2capServicePacketHandler } from '../l2cap/l2cap-service.js';

/** BTstack's btstack_packet_handler_t, as SDP's query handlers and its L2CAP channels take it. */
export type SdpPacketHandler = L2capServicePacketHandler;

/** What SDP needs from its Stack. */
export interface SdpStackLike {
  readonly pools: Pools;
  readonly codes: Codes;
  readonly log: Logger;
  readonly l2cap?: L2capService;
}
