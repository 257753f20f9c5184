/**
 * The RFCOMM service query on top of the SDP client (BTstack's sdp_client_rfcomm.c): for every
 * record the server returns, the RFCOMM channel from its ProtocolDescriptorList (0x0004) and its
 * ServiceName (0x0100), reported as SDP_EVENT_QUERY_RFCOMM_SERVICE (channel, name truncated to
 * SDP_SERVICE_NAME_LEN = 20 octets, zero terminated) when the record ends; records without an
 * RFCOMM channel are skipped (and, for the service-class query, records whose ServiceClassIDList does
 * not hold the UUID). Then SDP_EVENT_QUERY_COMPLETE. Both go to the app's handler with
 * channel 0.
 */
import { BLUETOOTH_PROTOCOL_RFCOMM, SDP_SERVICE_NAME_LEN } from '../codes/v1.4.js';
import type { Codes } from '../codes/index.js';
import type { EventOut } from '../core/event-out.js';
import {
  DE_DEA,
  DE_DES,
  DE_STRING,
  DE_UINT,
  DE_SIZE_8,
  DesIterator,
  de_element_size,
  de_get_element_type,
  de_get_header_size,
  de_get_size_type,
  de_get_uuid32,
  des_iterator_has_more,
  des_iterator_init,
  des_iterator_next,
  sdp_element_contains_uuid128,
  uuid128_from_short,
} from './data-element.js';
import {
  BLUETOOTH_ATTRIBUTE_PROTOCOL_DESCRIPTOR_LIST,
  BLUETOOTH_ATTRIBUTE_SERVICE_CLASS_ID_LIST,
  SDP_ATTRIBUTE_SERVICE_NAME,
} from './constants.js';
import type { SdpPacketHandler } from './sdp-stack.js';
import { ignore_event, type SdpQuerySink } from './client-sinks.js';

/** ProtocolDescriptorLists larger than this are not examined (a real one is about 20 octets). */
const PDL_MAX = 512;
/** ServiceClassIDLists larger than this are not examined. */
const CLASS_LIST_MAX = 256;

/**
 * RFCOMM server channel in a ProtocolDescriptorList value (a DES of protocol descriptors, or a
 * DEA of such lists): the uint8 parameter after UUID 0x0003. 0 when there is none.
 */
export function sdp_find_rfcomm_channel(buf: Uint8Array, pos: number, end: number, depth = 0): number {
  if (depth > 3 || de_element_size(buf, pos, end) < 0) return 0;
  const t = de_get_element_type(buf, pos);
  if (t !== DE_DES && t !== DE_DEA) return 0;
  const it = new DesIterator();
  des_iterator_init(it, buf, pos, end);
  // a protocol descriptor: DES { UUID, params... }
  if (des_iterator_has_more(it) && de_get_uuid32(buf, it.pos, it.end) === BLUETOOTH_PROTOCOL_RFCOMM) {
    des_iterator_next(it);
    if (des_iterator_has_more(it) && de_get_element_type(buf, it.pos) === DE_UINT && de_get_size_type(buf, it.pos) === DE_SIZE_8)
      return buf[it.pos + 1]!;
    return 0;
  }
  des_iterator_init(it, buf, pos, end);
  while (des_iterator_has_more(it)) {
    const ch = sdp_find_rfcomm_channel(buf, it.pos, it.end, depth + 1);
    if (ch) return ch;
    des_iterator_next(it);
  }
  return 0;
}

export class RfcommQuerySink implements SdpQuerySink {
  private callback: SdpPacketHandler = ignore_event;
  private readonly pdl = new Uint8Array(PDL_MAX);
  private pdlLen = 0;
  private readonly name = new Uint8Array(5 + SDP_SERVICE_NAME_LEN);
  private nameLen = 0;
  private channel = 0;
  /** With a service class filter: the 128-bit form of the class UUID, and the record's ServiceClassIDList. */
  private classUuid: Uint8Array | null = null;
  private readonly classList = new Uint8Array(CLASS_LIST_MAX);
  private classMatched = false;

  constructor(
    private readonly codes: Codes,
    private readonly out: EventOut,
  ) {}

  /** Start a query; with `service_class_uuid16`, report only records whose ServiceClassIDList holds it. */
  start(callback: SdpPacketHandler, service_class_uuid16: number | null = null): void {
    this.callback = callback;
    this.classUuid = service_class_uuid16 === null ? null : uuid128_from_short(service_class_uuid16);
    this.resetRecord();
  }

  private resetRecord(): void {
    this.pdlLen = 0;
    this.nameLen = 0;
    this.channel = 0;
    this.classMatched = false;
  }

  attribute_byte(_record_id: number, attribute_id: number, attribute_length: number, data_offset: number, data: number): void {
    if (attribute_id === BLUETOOTH_ATTRIBUTE_PROTOCOL_DESCRIPTOR_LIST) {
      if (attribute_length > PDL_MAX) return;
      this.pdl[data_offset] = data;
      if (data_offset + 1 === attribute_length) {
        this.pdlLen = attribute_length;
        this.channel = sdp_find_rfcomm_channel(this.pdl, 0, this.pdlLen);
      }
    } else if (attribute_id === BLUETOOTH_ATTRIBUTE_SERVICE_CLASS_ID_LIST && this.classUuid) {
      if (attribute_length > CLASS_LIST_MAX) return;
      this.classList[data_offset] = data;
      if (data_offset + 1 === attribute_length) {
        const t = de_get_element_type(this.classList, 0);
        this.classMatched =
          (t === DE_DES || t === DE_DEA) && sdp_element_contains_uuid128(this.classList, 0, this.classUuid, attribute_length);
      }
    } else if (attribute_id === SDP_ATTRIBUTE_SERVICE_NAME) {
      // keep the header and the first SDP_SERVICE_NAME_LEN octets of the text
      if (data_offset < this.name.length) this.name[data_offset] = data;
      if (data_offset + 1 === attribute_length) this.nameLen = Math.min(attribute_length, this.name.length);
    }
  }

  record_end(): void {
    if (this.channel && (!this.classUuid || this.classMatched)) this.emitService();
    this.resetRecord();
  }

  private emitService(): void {
    let text = this.name.subarray(0, 0);
    if (this.nameLen > 0 && de_get_element_type(this.name, 0) === DE_STRING) {
      const hs = de_get_header_size(this.name, 0);
      if (hs <= this.nameLen) text = this.name.subarray(hs, this.nameLen);
    }
    const n = Math.min(text.length, SDP_SERVICE_NAME_LEN);
    // layout per @format `1T`: code, length, channel, name octets (as received), NUL
    const ev = this.out.buffer(); // 2 + 255 octets: room for the longest name
    ev[0] = this.codes.SDP_EVENT_QUERY_RFCOMM_SERVICE;
    ev[1] = 1 + n + 1;
    ev[2] = this.channel;
    ev.set(text.subarray(0, n), 3);
    ev[3 + n] = 0;
    this.out.to_handler(this.callback, 0, ev, 4 + n);
  }

  record_handle(): void {}

  complete(status: number): void {
    const ev = this.out.buffer();
    const n = this.codes.sdp_event_query_complete_build(ev, 0, status);
    this.out.to_handler(this.callback, 0, ev, n);
  }
}
