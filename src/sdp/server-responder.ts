/**
 * The SDP server's request handling without I/O: one request PDU in, one response PDU out
 * (Core spec Vol 3 Part B, 4.5-4.7), with continuation for responses larger than the peer's
 * MTU or the request's MaximumAttributeByteCount / MaximumServiceRecordCount.
 *
 * A response is a window onto a byte stream (the AttributeList(s) sequence, or the handle list)
 * that is computed fresh for every request from the registered records and the request's own
 * parameters; nothing is cached between PDUs except the window position. The continuation state
 * handed to the client is an opaque 8-octet token. The server keeps, per channel, the token it
 * issued last together with what it is bound to: the request type, a hash of the parameters that
 * define the stream, the stream length, the window position and the record database generation.
 * A request with a continuation state is served only when the token is exactly the one issued
 * last on this channel and everything bound to it still matches; the position then comes from
 * the server's own state, never from the client. Replayed, forged or foreign tokens, tokens after
 * a record was (un)registered and tokens with a changed request all get ErrorResponse 0x0005
 * (Invalid Continuation State). Reading outside the stream is impossible in any case: every
 * window is clipped to the stream that the current request defines (the CVE-2017-1000250 class
 * of leak needs a client-chosen offset into a stale or foreign response).
 */
import {
  SdpPdu,
  SDP_ATTRIBUTE_RESPONSE_DATA_OFFSET,
  SDP_ERROR_INSUFFICIENT_RESOURCES,
  SDP_ERROR_INVALID_CONTINUATION_STATE,
  SDP_ERROR_INVALID_SERVICE_RECORD_HANDLE,
  SDP_PDU_HEADER_SIZE,
  SDP_ServiceAttributeRequest,
  SDP_ServiceAttributeResponse,
  SDP_ServiceSearchAttributeRequest,
  SDP_ServiceSearchAttributeResponse,
  SDP_ServiceSearchRequest,
  sdp_encode_error_response,
  sdp_encode_service_search_response,
  sdp_finish_attribute_response,
  sdp_request_decode,
} from './pdu.js';
import {
  sdp_filter_attributes_in_attribute_id_list,
  sdp_get_filtered_size,
  sdp_record_matches_service_search_pattern,
} from './data-element.js';
import type { SdpRecordDb, ServiceRecordItem } from './records.js';

/** Octets of the continuation token this server issues. */
export const SDP_SERVER_CONTINUATION_SIZE = 8;

/** Per-channel continuation bookkeeping. */
export class ContinuationSlot {
  active = false;
  pdu_id = 0;
  binding = 0;
  total = 0;
  offset = 0;
  generation = 0;
  readonly token = new Uint8Array(SDP_SERVER_CONTINUATION_SIZE);
  /** Issue counter: makes every token different even for equal positions. */
  serial = 0;
  clear(): void {
    this.active = false;
    this.pdu_id = this.binding = this.total = this.offset = this.generation = 0;
    this.token.fill(0);
  }
}

/** FNV-1a over buf[pos..end), continuing from `h`. */
function fnv1a(buf: Uint8Array, pos: number, end: number, h: number): number {
  for (let i = pos; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193) >>> 0;
  return h;
}
function fnvWord(h: number, v: number): number {
  for (let i = 0; i < 4; i++) h = Math.imul(h ^ ((v >>> (8 * i)) & 0xff), 0x01000193) >>> 0;
  return h;
}

/** Writes the part of a byte stream that falls in a window [start, start + limit). */
class StreamWindow {
  out: Uint8Array = new Uint8Array(0);
  outPos = 0;
  start = 0;
  end = 0;
  pos = 0;
  copied = 0;
  private readonly hdr = new Uint8Array(5);

  reset(out: Uint8Array, outPos: number, start: number, limit: number): void {
    this.out = out;
    this.outPos = outPos;
    this.start = start;
    this.end = start + limit;
    this.pos = 0;
    this.copied = 0;
  }

  /** Intersection of [pos, pos + n) with the window, as [from, to) in stream positions. */
  private clip(n: number): [number, number] {
    return [Math.max(this.pos, this.start), Math.min(this.pos + n, this.end)];
  }

  bytes(src: Uint8Array, srcPos: number, n: number): void {
    const [from, to] = this.clip(n);
    if (to > from) {
      this.out.set(src.subarray(srcPos + (from - this.pos), srcPos + (to - this.pos)), this.outPos + this.copied);
      this.copied += to - from;
    }
    this.pos += n;
  }

  /** A DES header for `len` data octets (16-bit length when it fits, else 32-bit). */
  desHeader(len: number): void {
    const n = des_header_size(len);
    const h = this.hdr;
    if (n === 3) {
      h[0] = 0x36;
      h[1] = len >> 8;
      h[2] = len & 0xff;
    } else {
      h[0] = 0x37;
      h[1] = (len >>> 24) & 0xff;
      h[2] = (len >>> 16) & 0xff;
      h[3] = (len >>> 8) & 0xff;
      h[4] = len & 0xff;
    }
    this.bytes(h, 0, n);
  }

  /** The selected attribute pairs of a record (`size` octets, precomputed). */
  attributes(item: ServiceRecordItem, ids: Uint8Array, idsPos: number, size: number): void {
    const [from, to] = this.clip(size);
    if (to > from) {
      const n = sdp_filter_attributes_in_attribute_id_list(
        item.service_record,
        0,
        ids,
        idsPos,
        from - this.pos,
        to - from,
        this.out,
        this.outPos + this.copied,
      );
      this.copied += n;
    }
    this.pos += size;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }
}

export function des_header_size(len: number): number {
  return len <= 0xffff ? 3 : 5;
}

/**
 * Builds responses. One per server; its scratch state is reused for every request and it holds
 * no per-channel state (that lives in the ContinuationSlot the caller passes).
 */
export class SdpResponder {
  private readonly pdu = new SdpPdu();
  private readonly win = new StreamWindow();
  private matched: ServiceRecordItem[] = [];
  private sizes: number[] = [];
  /** Error code of the last response, 0 when it was not an ErrorResponse (for logs and tests). */
  last_error = 0;

  constructor(private readonly db: SdpRecordDb) {}

  /**
   * Answer the request in req[pos .. pos+len) into out[0..), at most `mtu` octets (the peer's MTU,
   * already clipped to `out`). Returns the response size (always > 0).
   */
  handle_request(req: Uint8Array, pos: number, len: number, mtu: number, slot: ContinuationSlot, out: Uint8Array): number {
    const pdu = this.pdu;
    mtu = Math.min(mtu, out.length, 0xffff);
    const err = sdp_request_decode(req, pos, len, pdu);
    if (err) return this.error(out, pdu.transaction_id, err, slot);
    switch (pdu.pdu_id) {
      case SDP_ServiceSearchRequest:
        return this.serviceSearch(req, mtu, slot, out);
      case SDP_ServiceAttributeRequest:
      case SDP_ServiceSearchAttributeRequest:
        return this.attributes(req, mtu, slot, out);
      default:
        return this.error(out, pdu.transaction_id, SDP_ERROR_INSUFFICIENT_RESOURCES, slot); // unreachable: decode accepts only requests
    }
  }

  private error(out: Uint8Array, tid: number, code: number, slot: ContinuationSlot): number {
    slot.clear();
    this.last_error = code;
    return sdp_encode_error_response(out, 0, tid, code);
  }

  /** Hash of what defines the response stream (request type and its parameters minus the byte count). */
  private binding(req: Uint8Array): number {
    const p = this.pdu;
    let h = fnvWord(0x811c9dc5, p.pdu_id);
    if (p.pdu_id === SDP_ServiceAttributeRequest) h = fnvWord(h, p.record_handle);
    else h = fnv1a(req, p.pattern_pos, p.pattern_pos + p.pattern_len, h);
    if (p.pdu_id === SDP_ServiceSearchRequest) h = fnvWord(h, p.max_record_count);
    else h = fnv1a(req, p.attribute_list_pos, p.attribute_list_pos + p.attribute_list_len, h);
    return h;
  }

  /**
   * The stream position to continue from, -1 for a bad continuation state (slot cleared), or 0
   * for a fresh request (slot cleared).
   */
  private resume(req: Uint8Array, slot: ContinuationSlot, binding: number, total: number): number {
    const p = this.pdu;
    if (p.continuation_len === 0) {
      slot.clear();
      return 0;
    }
    let ok =
      slot.active &&
      p.continuation_len === SDP_SERVER_CONTINUATION_SIZE &&
      slot.pdu_id === p.pdu_id &&
      slot.binding === binding &&
      slot.total === total &&
      slot.generation === this.db.generation &&
      slot.offset < total;
    for (let i = 0; ok && i < SDP_SERVER_CONTINUATION_SIZE; i++) ok = req[p.continuation_pos + i] === slot.token[i];
    if (!ok) {
      slot.clear();
      return -1;
    }
    return slot.offset;
  }

  /** Remember the next position and write a fresh token into slot.token. */
  private issue(slot: ContinuationSlot, binding: number, total: number, offset: number): Uint8Array {
    slot.active = true;
    slot.pdu_id = this.pdu.pdu_id;
    slot.binding = binding;
    slot.total = total;
    slot.offset = offset;
    slot.generation = this.db.generation;
    slot.serial = (slot.serial + 1) >>> 0;
    const t = slot.token;
    t[0] = (offset >>> 24) & 0xff;
    t[1] = (offset >>> 16) & 0xff;
    t[2] = (offset >>> 8) & 0xff;
    t[3] = offset & 0xff;
    const tag = fnvWord(fnvWord(fnvWord(binding, offset), slot.serial), this.db.generation);
    t[4] = (tag >>> 24) & 0xff;
    t[5] = (tag >>> 16) & 0xff;
    t[6] = (tag >>> 8) & 0xff;
    t[7] = tag & 0xff;
    return t;
  }

  private matchRecords(req: Uint8Array): void {
    const p = this.pdu;
    this.matched.length = 0;
    for (const it of this.db.items) {
      if (
        sdp_record_matches_service_search_pattern(
          it.service_record,
          0,
          req,
          p.pattern_pos,
          it.service_record.length,
          p.pattern_pos + p.pattern_len,
        )
      ) {
        this.matched.push(it);
      }
    }
  }

  private serviceSearch(req: Uint8Array, mtu: number, slot: ContinuationSlot, out: Uint8Array): number {
    const p = this.pdu;
    this.matchRecords(req);
    const total = Math.min(this.matched.length, p.max_record_count);
    const binding = this.binding(req);
    let first = this.resume(req, slot, binding, total);
    if (first < 0) return this.error(out, p.transaction_id, SDP_ERROR_INVALID_CONTINUATION_STATE, slot);
    // header 5 + counts 4 + handles + continuation (1 [+ token])
    const fitAll = Math.floor((mtu - SDP_PDU_HEADER_SIZE - 4 - 1) / 4);
    const remaining = total - first;
    let count: number;
    let cont: Uint8Array | null = null;
    if (remaining <= fitAll) {
      count = remaining;
      slot.clear();
    } else {
      count = Math.floor((mtu - SDP_PDU_HEADER_SIZE - 4 - 1 - SDP_SERVER_CONTINUATION_SIZE) / 4);
      if (count < 1) return this.error(out, p.transaction_id, SDP_ERROR_INSUFFICIENT_RESOURCES, slot);
      cont = this.issue(slot, binding, total, first + count);
    }
    const handles: number[] = [];
    for (let i = 0; i < count; i++) handles.push(this.matched[first + i]!.service_record_handle);
    this.last_error = 0;
    return sdp_encode_service_search_response(out, 0, p.transaction_id, total, handles, 0, count, cont);
  }

  private attributes(req: Uint8Array, mtu: number, slot: ContinuationSlot, out: Uint8Array): number {
    const p = this.pdu;
    const ids = req;
    const idsPos = p.attribute_list_pos;
    let total: number;
    const search = p.pdu_id === SDP_ServiceSearchAttributeRequest;
    this.sizes.length = 0;
    if (search) {
      this.matchRecords(req);
      let inner = 0;
      for (const it of this.matched) {
        const f = sdp_get_filtered_size(it.service_record, 0, ids, idsPos);
        this.sizes.push(f);
        inner += des_header_size(f) + f;
      }
      total = des_header_size(inner) + inner;
    } else {
      const it = this.db.find(p.record_handle);
      if (!it) return this.error(out, p.transaction_id, SDP_ERROR_INVALID_SERVICE_RECORD_HANDLE, slot);
      this.matched.length = 0;
      this.matched.push(it);
      const f = sdp_get_filtered_size(it.service_record, 0, ids, idsPos);
      this.sizes.push(f);
      total = des_header_size(f) + f;
    }
    const binding = this.binding(req);
    const start = this.resume(req, slot, binding, total);
    if (start < 0) return this.error(out, p.transaction_id, SDP_ERROR_INVALID_CONTINUATION_STATE, slot);

    // header 5 + byte count 2 + data + continuation (1 [+ token])
    const room = mtu - SDP_ATTRIBUTE_RESPONSE_DATA_OFFSET - 1;
    const remaining = total - start;
    let limit: number;
    let last: boolean;
    if (remaining <= Math.min(p.max_attribute_bytes, room)) {
      limit = remaining;
      last = true;
    } else {
      limit = Math.min(p.max_attribute_bytes, room - SDP_SERVER_CONTINUATION_SIZE);
      last = false;
      if (limit < 1) return this.error(out, p.transaction_id, SDP_ERROR_INSUFFICIENT_RESOURCES, slot);
    }

    const w = this.win;
    w.reset(out, SDP_ATTRIBUTE_RESPONSE_DATA_OFFSET, start, limit);
    if (search) {
      let inner = 0;
      for (const f of this.sizes) inner += des_header_size(f) + f;
      w.desHeader(inner);
    }
    for (let i = 0; i < this.matched.length && !w.done; i++) {
      const f = this.sizes[i]!;
      w.desHeader(f);
      w.attributes(this.matched[i]!, ids, idsPos, f);
    }
    const cont = last ? null : this.issue(slot, binding, total, start + w.copied);
    if (last) slot.clear();
    this.last_error = 0;
    const pduId = search ? SDP_ServiceSearchAttributeResponse : SDP_ServiceAttributeResponse;
    return sdp_finish_attribute_response(out, 0, pduId, p.transaction_id, w.copied, cont);
  }
}
