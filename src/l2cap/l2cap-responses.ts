/**
 * The signalling responses a link owes the remote that are not tied to a channel's state
 * (Command Reject, refused Connection Requests, duplicate answers, Echo and Information
 * Responses). Every request the remote sends on CID 0x0001 gets exactly one response
 * (Core v5.4 Vol 3 Part A, 4: "a device receiving a duplicate request should reply with a
 * duplicate response"; requests are matched to responses by identifier alone), in bounded
 * memory, however fast the requests come:
 *
 * 1. A ring of L2CAP_PENDING_RESPONSES_PER_LINK full answers, sent first in arrival order as HCI
 *    takes packets (one C-frame each).
 * 2. When the ring is full, the request is owed a Command Reject "command not understood"
 *    instead: 4.1 allows Command Reject for any request "when sending the corresponding
 *    response is inappropriate", and it needs nothing but the identifier. Owed rejects are a
 *    count per identifier (256 counters), so any number of them fits; while any is owed,
 *    later requests are owed one too (no full answer overtakes an older refusal). They go out
 *    after the ring, identifier by identifier from the one after the last sent (the order a
 *    remote that counts its identifiers up used).
 *
 * Input cannot be paused per link (HCI ACL input has no per-link back-pressure without host flow
 * control), and a remote packing 168 four-octet requests into one 672-octet C-frame outruns any
 * one-answer-per-C-frame sender, so a sustained flood ends in (2): each request still gets its
 * one answer, later. A counter would wrap only after 2^32 requests with one identifier were
 * received while no buffer freed; that never happens on a real link, and it is logged if it
 * does. Everything owed is forgotten when the link goes down (nobody is left to answer).
 */
import {
  COMMAND_REJECT,
  CONFIGURE_RESPONSE,
  CONNECTION_RESPONSE,
  DISCONNECTION_RESPONSE,
  ECHO_RESPONSE,
  INFORMATION_RESPONSE,
} from '../codes/v1.4.js';
import { L2CAP_REJ_INVALID_CID, L2CAP_REJ_MTU_EXCEEDED } from './signaling.js';

/**
 * Full signalling answers that may wait per link before further requests are answered with an
 * owed Command Reject (see above). BTstack keeps 3 for all links and forgets requests beyond them.
 */
export const L2CAP_PENDING_RESPONSES_PER_LINK = 32;

/**
 * Echo data each queued Echo Response holds itself; longer data goes into the link's one echo
 * buffer while that is free, otherwise its first L2CAP_ECHO_INLINE octets are echoed.
 */
export const L2CAP_ECHO_INLINE = 16;

/**
 * Option octets a queued Configuration Response holds (the answers this host gives carry at most
 * an MTU and a Retransmission and Flow Control option, 15 octets; Unknown Options lists longer
 * than this are answered "rejected" instead).
 */
export const L2CAP_CONF_RSP_INLINE = 32;

/** Reason "command not understood" of a Command Reject (Vol 3 Part A, 4.1). */
export const L2CAP_REJ_NOT_UNDERSTOOD = 0x0000;

// One record type per response kind (discriminated by `code`). Each ring slot keeps one record of
// each kind it has held and points at the one in use: no allocation per request once warm.

/** Command Reject: reason (L2CAP_REJ_*) and its data. */
export class L2capPendingCommandReject {
  readonly code = COMMAND_REJECT;
  identifier = 0;
  reason = 0;
  /** Reason "signalling MTU exceeded": our MTUsig. */
  mtu = 0;
  /** Reason "invalid CID in request": the local and remote endpoints as the request named them. */
  local_cid = 0;
  remote_cid = 0;
}

/** Connection Response: DCID (our end, 0 when refused), SCID (the requester's), result, status. */
export class L2capPendingConnectionResponse {
  readonly code = CONNECTION_RESPONSE;
  identifier = 0;
  local_cid = 0;
  remote_cid = 0;
  result = 0;
  status = 0;
}

/** Disconnection Response (to a repeated Disconnection Request): DCID and SCID as the request named them. */
export class L2capPendingDisconnectionResponse {
  readonly code = DISCONNECTION_RESPONSE;
  identifier = 0;
  local_cid = 0;
  remote_cid = 0;
}

/** Echo Response: the request's data (see L2CAP_ECHO_INLINE). */
export class L2capPendingEchoResponse {
  readonly code = ECHO_RESPONSE;
  identifier = 0;
  /** Octets of echo data (0: an empty response, as to an empty request). */
  echo_len = 0;
  /** The data is in the link's echo buffer (else in echo_inline). */
  echo_shared = false;
  readonly echo_inline = new Uint8Array(L2CAP_ECHO_INLINE);
}

/** Information Response: the InfoType asked for (the answer is this host's constant). */
export class L2capPendingInformationResponse {
  readonly code = INFORMATION_RESPONSE;
  identifier = 0;
  info_type = 0;
}

/**
 * Configuration Response to a request a newer request on the same channel overtook before its
 * answer went out (the channel itself holds one answer): SCID (the requester's CID), flags,
 * result and the option octets.
 */
export class L2capPendingConfigureResponse {
  readonly code = CONFIGURE_RESPONSE;
  identifier = 0;
  remote_cid = 0;
  flags = 0;
  result = 0;
  options_len = 0;
  readonly options = new Uint8Array(L2CAP_CONF_RSP_INLINE);
}

/** One full signalling answer waiting for the outgoing buffer. */
export type L2capPendingResponse =
  | L2capPendingConfigureResponse
  | L2capPendingCommandReject
  | L2capPendingConnectionResponse
  | L2capPendingDisconnectionResponse
  | L2capPendingEchoResponse
  | L2capPendingInformationResponse;

/**
 * A ring slot: one record per kind, made the first time this slot holds that kind and kept (a link
 * that answers a few requests at a time makes a few records; none per request after that), `active`
 * the one in use. Making all six for all 32 slots up front cost ~30 kB per link end (bench/scale).
 */
class ResponseSlot {
  private r?: L2capPendingCommandReject;
  private c?: L2capPendingConnectionResponse;
  private d?: L2capPendingDisconnectionResponse;
  private e?: L2capPendingEchoResponse;
  private i?: L2capPendingInformationResponse;
  private f?: L2capPendingConfigureResponse;
  active: L2capPendingResponse | null = null;
  get reject(): L2capPendingCommandReject {
    return (this.r ??= new L2capPendingCommandReject());
  }
  get connection(): L2capPendingConnectionResponse {
    return (this.c ??= new L2capPendingConnectionResponse());
  }
  get disconnection(): L2capPendingDisconnectionResponse {
    return (this.d ??= new L2capPendingDisconnectionResponse());
  }
  get echo(): L2capPendingEchoResponse {
    return (this.e ??= new L2capPendingEchoResponse());
  }
  get information(): L2capPendingInformationResponse {
    return (this.i ??= new L2capPendingInformationResponse());
  }
  get configure(): L2capPendingConfigureResponse {
    return (this.f ??= new L2capPendingConfigureResponse());
  }
}

/**
 * The ring's slots are made the first time the ring reaches them, and the ring starts again at
 * slot 0 whenever it empties: a link that has at most n answers waiting at a time makes n slots
 * (most make one or two), not L2CAP_PENDING_RESPONSES_PER_LINK when the link comes up. The owed
 * counters are made at the first overflow. No allocation per request once warm.
 */
export class L2capResponseQueue {
  private readonly ring: ResponseSlot[] = [];
  private head = 0;
  private count = 0;
  /** Command Rejects owed per identifier (see the file comment); null until the ring first overflows. */
  private owed: Uint32Array | null = null;
  private owedTotal = 0;
  /** Identifier the scan for owed rejects starts at. */
  private owedCursor = 1;
  /** Requests the ring had no room for (answered with an owed Command Reject), since the link came up. */
  overflowed = 0;
  /** Requests left unanswered because their identifier's counter was full (never on a real link; logged). */
  lost = 0;

  clear(): void {
    this.head = this.count = 0;
    if (this.owedTotal) this.owed!.fill(0);
    this.owedTotal = 0;
    this.owedCursor = 1;
    this.overflowed = 0;
    this.lost = 0;
  }

  /** Nothing waits. */
  get empty(): boolean {
    return this.count === 0 && this.owedTotal === 0;
  }

  /** Answers waiting (full ones and owed Command Rejects). */
  get size(): number {
    return this.count + this.owedTotal;
  }

  /**
   * The ring slot for the full answer to a request, or null when the ring is full (or rejects
   * are owed): then the request `identifier` is owed a Command Reject instead.
   */
  private add(identifier: number): ResponseSlot | null {
    if (this.count < L2CAP_PENDING_RESPONSES_PER_LINK && this.owedTotal === 0) {
      // the slots in use are always a run of made ones, so the next is made or the next to make
      const i = (this.head + this.count) % L2CAP_PENDING_RESPONSES_PER_LINK;
      let slot = this.ring[i];
      if (slot === undefined) {
        slot = new ResponseSlot();
        this.ring[i] = slot; // i === ring.length: the run starts at 0 and grows by one
      }
      this.count++;
      return slot;
    }
    this.overflowed++;
    const id = identifier & 0xff;
    const owed = (this.owed ??= new Uint32Array(256));
    if (owed[id] === 0xffffffff) {
      this.lost++;
      return null;
    }
    owed[id]!++;
    this.owedTotal++;
    return null;
  }

  /** Command Reject (reason L2CAP_REJ_*; `d1`, `d2`: the MTU, or the local and remote CIDs). False: owed as "not understood". */
  command_reject(identifier: number, reason: number, d1 = 0, d2 = 0): boolean {
    const slot = this.add(identifier);
    if (!slot) return false;
    const r = (slot.active = slot.reject);
    r.identifier = identifier;
    r.reason = reason;
    r.mtu = reason === L2CAP_REJ_MTU_EXCEEDED ? d1 : 0;
    r.local_cid = reason === L2CAP_REJ_INVALID_CID ? d1 : 0;
    r.remote_cid = reason === L2CAP_REJ_INVALID_CID ? d2 : 0;
    return true;
  }

  connection_response(identifier: number, local_cid: number, remote_cid: number, result: number, status: number): boolean {
    const slot = this.add(identifier);
    if (!slot) return false;
    const r = (slot.active = slot.connection);
    r.identifier = identifier;
    r.local_cid = local_cid;
    r.remote_cid = remote_cid;
    r.result = result;
    r.status = status;
    return true;
  }

  disconnection_response(identifier: number, local_cid: number, remote_cid: number): boolean {
    const slot = this.add(identifier);
    if (!slot) return false;
    const r = (slot.active = slot.disconnection);
    r.identifier = identifier;
    r.local_cid = local_cid;
    r.remote_cid = remote_cid;
    return true;
  }

  /** An Echo Response whose data the caller fills in (echo_len, echo_shared / echo_inline); null: owed a Command Reject. */
  echo_response(identifier: number): L2capPendingEchoResponse | null {
    const slot = this.add(identifier);
    if (!slot) return null;
    const r = (slot.active = slot.echo);
    r.identifier = identifier;
    r.echo_len = 0;
    r.echo_shared = false;
    return r;
  }

  /** A Configuration Response whose options the caller writes (options, options_len); null: owed a Command Reject. */
  configure_response(
    identifier: number,
    remote_cid: number,
    flags: number,
    result: number,
  ): L2capPendingConfigureResponse | null {
    const slot = this.add(identifier);
    if (!slot) return null;
    const r = (slot.active = slot.configure);
    r.identifier = identifier;
    r.remote_cid = remote_cid;
    r.flags = flags;
    r.result = result;
    r.options_len = 0;
    return r;
  }

  information_response(identifier: number, info_type: number): boolean {
    const slot = this.add(identifier);
    if (!slot) return false;
    const r = (slot.active = slot.information);
    r.identifier = identifier;
    r.info_type = info_type;
    return true;
  }

  /** The oldest full answer, or null (then owed rejects may wait: next_owed_reject). */
  peek(): L2capPendingResponse | null {
    return this.count > 0 ? this.ring[this.head]!.active : null; // a slot in the ring's count is always active
  }

  pop(): void {
    if (this.count === 0) return;
    this.count--;
    this.head = this.count === 0 ? 0 : (this.head + 1) % L2CAP_PENDING_RESPONSES_PER_LINK;
  }

  /** Identifier of the next owed Command Reject, or -1. */
  next_owed_reject(): number {
    const owed = this.owed;
    if (this.owedTotal === 0 || owed === null) return -1;
    for (let i = 0; i < 256; i++) {
      const id = (this.owedCursor + i) & 0xff;
      if (owed[id]! > 0) return id;
    }
    return -1;
  }

  /** The owed Command Reject for `identifier` went out. */
  owed_reject_sent(identifier: number): void {
    const id = identifier & 0xff;
    const owed = this.owed;
    if (owed === null || owed[id]! === 0) return;
    owed[id]!--;
    this.owedTotal--;
    this.owedCursor = (id + 1) & 0xff;
  }
}
