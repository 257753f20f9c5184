/**
 * The SDP client's state record: the query machine's state and the current query (type, pattern,
 * attribute list, continuation, counters), the L2CAP service, code profile, logger and the queue of
 * query callbacks. Fields only; the machine lives in client-query.ts.
 */
import type { Logger } from '../core/log.js';
import type { Codes } from '../codes/index.js';
import type { L2capService } from '../l2cap/l2cap-service.js';
import { SDP_MAX_CONTINUATION_STATE } from './pdu.js';
import type { SdpQuerySink } from './client-sinks.js';

/** BTstack's btstack_context_callback_registration_t. */
export interface BtstackContextCallbackRegistration {
  callback: (context: unknown) => void;
  context?: unknown;
}

/** States of the query machine (BTstack's sdp_client.c names). */
export const SDP_CLIENT_INIT = 0;
export const SDP_CLIENT_W4_CONNECT = 1;
export const SDP_CLIENT_W2_SEND = 2;
export const SDP_CLIENT_W4_RESPONSE = 3;
export const SDP_CLIENT_QUERY_COMPLETE = 4;
/** Gave up on a broken answer; waiting for the channel to close. */
export const SDP_CLIENT_W4_DISCONNECT = 5;
/** Names for the transition log, by state. */
export const SDP_CLIENT_STATE_NAMES: readonly string[] = [
  'INIT',
  'W4_CONNECT',
  'W2_SEND',
  'W4_RESPONSE',
  'QUERY_COMPLETE',
  'W4_DISCONNECT',
];

export class SdpClientState {
  /** Machine state (SDP_CLIENT_*); change it only through SdpClientQuery.setState. */
  state = SDP_CLIENT_INIT;
  /** The query's L2CAP channel (0 before it opened). */
  cid = 0;
  /** Response PDU id the query expects (selects the request it sends). */
  pduId = 0;
  transactionId = 0;
  pattern: Uint8Array = new Uint8Array(0);
  attributeList: Uint8Array = new Uint8Array(0);
  recordHandle = 0;
  maxAttributeBytes = 0;
  remoteMtu = 0;
  /** Request buffer, sized for the query. */
  tx: Uint8Array = new Uint8Array(0);
  readonly cont = new Uint8Array(SDP_MAX_CONTINUATION_STATE);
  contLen = 0;
  handlesSeen = 0;
  handlesTotal = -1;
  /** Queued sdp_client_register_query_callback registrations. */
  readonly requests: BtstackContextCallbackRegistration[] = [];

  constructor(
    readonly codes: Codes,
    readonly log: Logger,
    readonly l2cap: L2capService | null,
    /** Where the current query's results go. */
    public sink: SdpQuerySink,
  ) {}
}
