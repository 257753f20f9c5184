/**
 * Streaming parser for the attribute lists an SDP client receives, fed the AttributeList(s)
 * octets of each response as they arrive (a response may end anywhere, even inside a header:
 * continuation splits the stream at arbitrary octets).
 *
 *   ServiceSearchAttributeResponse: DES { DES { uint16 id, value }*  }*   ('lists')
 *   ServiceAttributeResponse:             DES { uint16 id, value }*      ('list')
 *
 * For every octet of every attribute value (its header included) the sink gets
 * (record_id, attribute_id, attribute_length, data_offset, byte), as BTstack's parser delivers
 * SDP_EVENT_QUERY_ATTRIBUTE_VALUE; record_id counts records from 0 within the query. Header octets
 * are held back until the header is complete, so attribute_length is the value's full size for
 * every octet. Lengths are checked against their containers as they arrive; anything that does not
 * add up (a non-DES list, an attribute id that is not a uint16, a value longer than its record,
 * octets after the end, a value above 65535 octets) makes feed() return false and the parser stop.
 */

export interface SdpAttributeSink {
  attribute_byte(record_id: number, attribute_id: number, attribute_length: number, data_offset: number, data: number): void;
  record_end(record_id: number): void;
}

const enum S {
  ListHeader,
  RecordHeader,
  AttributeIdHeader,
  AttributeId,
  ValueHeader,
  ValueData,
  Done,
  Error,
}

const LEN_OCTETS = [0, 0, 0, 0, 0, 1, 2, 4];
const FIXED = [1, 2, 4, 8, 16];

/** Whether a data element header octet has a defined type and an allowed size index. */
export function de_header_octet_valid(h: number): boolean {
  const t = h >> 3;
  const s = h & 7;
  switch (t) {
    case 0: // nil
    case 5: // bool
      return s === 0;
    case 1:
    case 2:
      return s <= 4;
    case 3:
      return s === 1 || s === 2 || s === 4;
    case 4:
    case 6:
    case 7:
    case 8:
      return s >= 5;
    default:
      return false;
  }
}

export class SdpAttributeParser {
  private state = S.Done;
  private lists = true;
  private listRemaining = 0;
  private recordRemaining = 0;
  private recordId = 0;
  private attributeId = 0;
  private idOctets = 0;
  private readonly hdr = new Uint8Array(5);
  private hdrLen = 0;
  private hdrNeed = 0;
  private valueLen = 0;
  private valueOffset = 0;

  constructor(private sink: SdpAttributeSink) {}

  /** Start a new stream: 'lists' for ServiceSearchAttribute, 'list' for ServiceAttribute. */
  reset(mode: 'lists' | 'list', sink: SdpAttributeSink = this.sink): void {
    this.sink = sink;
    this.lists = mode === 'lists';
    this.state = this.lists ? S.ListHeader : S.RecordHeader;
    this.listRemaining = 0;
    this.recordRemaining = 0;
    this.recordId = 0;
    this.hdrLen = this.hdrNeed = 0;
  }

  /** The whole stream arrived and added up. */
  get complete(): boolean {
    return this.state === S.Done;
  }

  get failed(): boolean {
    return this.state === S.Error;
  }

  /** Feed octets buf[pos .. pos+len). Returns false once the stream is malformed. */
  feed(buf: Uint8Array, pos: number, len: number): boolean {
    const end = Math.min(pos + len, buf.length);
    for (let i = pos; i < end; i++) {
      if (!this.octet(buf[i]!)) {
        this.state = S.Error;
        return false;
      }
    }
    return this.state !== S.Error;
  }

  /** Collect a header; returns the data length once complete, -1 while incomplete, -2 if invalid. */
  private header(b: number): number {
    if (this.hdrLen === 0) {
      if (!de_header_octet_valid(b)) return -2;
      this.hdrNeed = 1 + LEN_OCTETS[b & 7]!;
    }
    this.hdr[this.hdrLen++] = b;
    if (this.hdrLen < this.hdrNeed) return -1;
    const h = this.hdr[0]!;
    const s = h & 7;
    this.hdrLen = 0;
    if (s < 5) return h >> 3 === 0 ? 0 : FIXED[s]!;
    let n = 0;
    for (let k = 1; k < this.hdrNeed; k++) n = n * 256 + this.hdr[k]!;
    return n;
  }

  private isDes(): boolean {
    return this.hdr[0]! >> 3 === 6;
  }

  private octet(b: number): boolean {
    const st = this.state;
    if (st === S.Done || st === S.Error) return false;
    if (st === S.ListHeader) {
      const n = this.header(b);
      if (n === -1) return true;
      if (n < 0 || !this.isDes()) return false;
      this.listRemaining = n;
      this.state = n > 0 ? S.RecordHeader : S.Done;
      return true;
    }
    if (this.lists) {
      if (this.listRemaining === 0) return false;
      this.listRemaining--;
    }
    if (st === S.RecordHeader) {
      const n = this.header(b);
      if (n === -1) return true;
      if (n < 0 || !this.isDes()) return false;
      if (this.lists && n > this.listRemaining) return false;
      this.recordRemaining = n;
      if (n === 0) this.endRecord();
      else this.state = S.AttributeIdHeader;
      return true;
    }
    // inside a record
    if (this.recordRemaining === 0) return false;
    this.recordRemaining--;
    switch (st) {
      case S.AttributeIdHeader:
        if (b !== 0x09) return false; // uint16
        this.state = S.AttributeId;
        this.idOctets = 0;
        this.attributeId = 0;
        return true;
      case S.AttributeId:
        this.attributeId = (this.attributeId << 8) | b;
        if (++this.idOctets === 2) {
          if (this.recordRemaining === 0) return false; // an id without a value
          this.state = S.ValueHeader;
        }
        return true;
      case S.ValueHeader: {
        const n = this.header(b);
        if (n === -2) return false;
        if (n === -1) return true;
        const hs = this.hdrNeed;
        if (n > this.recordRemaining || hs + n > 0xffff) return false;
        this.valueLen = hs + n;
        for (let k = 0; k < hs; k++) this.sink.attribute_byte(this.recordId, this.attributeId, this.valueLen, k, this.hdr[k]!);
        this.valueOffset = hs;
        if (n === 0) this.endValue();
        else this.state = S.ValueData;
        return true;
      }
      case S.ValueData:
        this.sink.attribute_byte(this.recordId, this.attributeId, this.valueLen, this.valueOffset++, b);
        if (this.valueOffset === this.valueLen) this.endValue();
        return true;
      default:
        return false;
    }
  }

  private endValue(): void {
    if (this.recordRemaining === 0) this.endRecord();
    else this.state = S.AttributeIdHeader;
  }

  private endRecord(): void {
    this.sink.record_end(this.recordId);
    this.recordId++;
    if (!this.lists || this.listRemaining === 0) this.state = S.Done;
    else this.state = S.RecordHeader;
  }
}
