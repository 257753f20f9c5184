/**
 * Where an SDP query's results go: the SdpQuerySink interface, and the sink that turns them into
 * BTstack's SDP events for the app's handler (the RFCOMM query's sink is client-rfcomm.ts).
 */
import type { Codes } from '../codes/index.js';
import type { EventOut } from '../core/event-out.js';
import type { SdpPacketHandler } from './sdp-stack.js';

/** Where a query's results go: the attribute parser's sink (SdpAttributeSink) plus handles and completion. */
/** A query sink's callback before a query sets one (one shared function, not one per sink). */
export function ignore_event(): void {}

export interface SdpQuerySink {
  attribute_byte(record_id: number, attribute_id: number, attribute_length: number, data_offset: number, data: number): void;
  record_end(record_id: number): void;
  record_handle(total_count: number, record_index: number, record_handle: number): void;
  /** Report SDP_EVENT_QUERY_COMPLETE. */
  complete(status: number): void;
}

/** Forwards results to the app's packet handler. */
export class AppSink implements SdpQuerySink {
  callback: SdpPacketHandler = ignore_event;
  constructor(
    private readonly codes: Codes,
    private readonly out: EventOut,
  ) {}
  attribute_byte(record_id: number, attribute_id: number, attribute_length: number, data_offset: number, data: number): void {
    const ev = this.out.buffer();
    const n = this.codes.sdp_event_query_attribute_byte_build(
      ev,
      0,
      record_id,
      attribute_id,
      attribute_length,
      data_offset,
      data,
    );
    ev[0] = this.codes.SDP_EVENT_QUERY_ATTRIBUTE_VALUE; // BTstack's code for this layout
    this.out.to_handler(this.callback, 0, ev, n);
  }
  record_end(): void {}
  record_handle(total_count: number, record_index: number, record_handle: number): void {
    const ev = this.out.buffer();
    const n = this.codes.sdp_event_query_service_record_handle_build(ev, 0, total_count, record_index, record_handle);
    this.out.to_handler(this.callback, 0, ev, n);
  }
  complete(status: number): void {
    const ev = this.out.buffer();
    const n = this.codes.sdp_event_query_complete_build(ev, 0, status);
    this.out.to_handler(this.callback, 0, ev, n);
  }
}
