/**
 * GATT client events, byte-exact per code profile, built with the profile's generated builders
 * (v1.8's carry service_id and connection_id after the handle; the plain API sends 0 for both):
 *
 * | event                                       | v1.4       | v1.8          | to                     | logged |
 * |---------------------------------------------|------------|---------------|------------------------|--------|
 * | GATT_EVENT_QUERY_COMPLETE 0xA0              | H1         | H221          | query handler, ch 0    | yes    |
 * | GATT_EVENT_SERVICE_QUERY_RESULT 0xA1        | HX         | H22X          | query handler, ch 0    | yes    |
 * | GATT_EVENT_CHARACTERISTIC_QUERY_RESULT 0xA2 | HY         | H22Y          | query handler, ch 0    | yes    |
 * | GATT_EVENT_INCLUDED_SERVICE_QUERY_RESULT    | H2X        | H222X         | query handler, ch 0    | yes    |
 * | GATT_EVENT_ALL_CHARACTERISTIC_DESCRIPTORS.. | HZ         | H22Z          | query handler, ch 0    | yes    |
 * | GATT_EVENT_CHARACTERISTIC_VALUE_QUERY_RESULT| H2LV       | H222LV        | query handler, ch 0    | yes    |
 * | GATT_EVENT_LONG_CHARACTERISTIC_VALUE_...    | H22LV      | H2222LV       | query handler, ch 0    | yes    |
 * | GATT_EVENT_NOTIFICATION / _INDICATION       | H2LV       | H222LV        | listeners, ch 0        | no     |
 * | GATT_EVENT_CHARACTERISTIC_DESCRIPTOR_QUERY..| H2LV       | H222LV        | query handler, ch 0    | yes    |
 * | GATT_EVENT_LONG_CHARACTERISTIC_DESCRIPTOR.. | H2LV (*)   | H2222LV       | query handler, ch 0    | yes    |
 * | GATT_EVENT_MTU 0xAB                         | H2         | H2            | query handler, ch 0    | yes    |
 * | GATT_EVENT_CAN_WRITE_WITHOUT_RESPONSE 0xAC  | H          | H             | its handler, ch handle | no     |
 *
 * (*) v1.4's long descriptor event has no descriptor handle: handle, offset, length, value.
 *
 * Values longer than one event holds (2 + 255 octets) are delivered as BTstack does: the
 * parameter-length octet keeps only its low 8 bits, value_length and the `size` argument are
 * right (read values with the getters or value_length, not packet[1]). Such events are not
 * written into the packet log (an HCI event cannot be that long; BTstack's log would show a
 * malformed one).
 */
import { EventOut, EVENT_BUFFER_SIZE, type EventPacketLog } from '../core/event-out.js';
import { little_endian_store_16 } from '../core/bytes.js';
import { SpanCopier } from '../core/span.js';
import type { Codes } from '../codes/index.js';
import type { PacketHandler } from '../hci/hci-service.js';
import type { GattClientConnection } from './gatt-client-state.js';
import { gatt_serialize_characteristic, gatt_serialize_descriptor, gatt_serialize_service } from './gatt-client-types.js';

const EMPTY = new Uint8Array(0);

/** Which value event to build. */
export type GattValueEvent = 'value' | 'notification' | 'indication' | 'descriptor';

export class GattClientEvents {
  private readonly out: EventOut;
  private readonly field = new Uint8Array(24);
  /** Scratch buffers for values past one event's size, one per nesting depth. */
  private readonly big: Uint8Array[] = [];
  /** Values from the PDU into the event: no view per value. */
  private readonly copier = new SpanCopier();
  /** The buffer the last buildValue wrote (take it right after the call: the next build may change it). */
  built: Uint8Array = EMPTY;

  constructor(
    private readonly codes: Codes,
    packet_log: EventPacketLog | null,
    /** Largest value an event may carry (the local MTU). */
    private readonly max_value: number,
  ) {
    this.out = new EventOut(packet_log);
  }

  private deliver(c: GattClientConnection, buf: Uint8Array, size: number): void {
    this.out.to_handler(c.callback, 0, buf, size, size <= EVENT_BUFFER_SIZE);
  }

  queryComplete(c: GattClientConnection, status: number): void {
    const b = this.out.buffer();
    const k = this.codes;
    const n =
      k.PROFILE === 'v1.8'
        ? k.gatt_event_query_complete_build(b, 0, c.con_handle, c.service_id, c.connection_id, status)
        : k.gatt_event_query_complete_build(b, 0, c.con_handle, status);
    this.deliver(c, b, n);
  }

  service(c: GattClientConnection, start: number, end: number, uuid128: Uint8Array): void {
    const b = this.out.buffer();
    const k = this.codes;
    const x = gatt_serialize_service(this.field, start, end, uuid128).subarray(0, 20);
    const n =
      k.PROFILE === 'v1.8'
        ? k.gatt_event_service_query_result_build(b, 0, c.con_handle, c.service_id, c.connection_id, x)
        : k.gatt_event_service_query_result_build(b, 0, c.con_handle, x);
    this.deliver(c, b, n);
  }

  includedService(c: GattClientConnection, include_handle: number, start: number, end: number, uuid128: Uint8Array): void {
    const b = this.out.buffer();
    const k = this.codes;
    const x = gatt_serialize_service(this.field, start, end, uuid128).subarray(0, 20);
    const n =
      k.PROFILE === 'v1.8'
        ? k.gatt_event_included_service_query_result_build(b, 0, c.con_handle, c.service_id, c.connection_id, include_handle, x)
        : k.gatt_event_included_service_query_result_build(b, 0, c.con_handle, include_handle, x);
    this.deliver(c, b, n);
  }

  characteristic(
    c: GattClientConnection,
    start: number,
    value_handle: number,
    end: number,
    properties: number,
    uuid128: Uint8Array,
  ): void {
    const b = this.out.buffer();
    const k = this.codes;
    const y = gatt_serialize_characteristic(this.field, start, value_handle, end, properties, uuid128);
    const n =
      k.PROFILE === 'v1.8'
        ? k.gatt_event_characteristic_query_result_build(b, 0, c.con_handle, c.service_id, c.connection_id, y)
        : k.gatt_event_characteristic_query_result_build(b, 0, c.con_handle, y);
    this.deliver(c, b, n);
  }

  descriptor(c: GattClientConnection, handle: number, uuid128: Uint8Array): void {
    const b = this.out.buffer();
    const k = this.codes;
    const z = gatt_serialize_descriptor(this.field, handle, uuid128).subarray(0, 18);
    const n =
      k.PROFILE === 'v1.8'
        ? k.gatt_event_all_characteristic_descriptors_query_result_build(b, 0, c.con_handle, c.service_id, c.connection_id, z)
        : k.gatt_event_all_characteristic_descriptors_query_result_build(b, 0, c.con_handle, z);
    this.deliver(c, b, n);
  }

  mtu(c: GattClientConnection, mtu: number): void {
    const b = this.out.buffer();
    this.deliver(c, b, this.codes.gatt_event_mtu_build(b, 0, c.con_handle, mtu));
  }

  /** GATT_EVENT_CAN_WRITE_WITHOUT_RESPONSE to its one-shot handler, channel = con_handle, not logged. */
  canWriteWithoutResponse(handler: PacketHandler, con_handle: number): void {
    const b = this.out.buffer();
    this.out.to_handler(handler, con_handle, b, this.codes.gatt_event_can_write_without_response_build(b, 0, con_handle), false);
  }

  /** GATT_EVENT_CHARACTERISTIC_VALUE_QUERY_RESULT to the query handler. */
  value(c: GattClientConnection, value_handle: number, pdu: Uint8Array, from: number, len: number): void {
    const size = this.buildValue('value', c, value_handle, -1, pdu, from, len);
    this.deliver(c, this.built, size);
  }

  /** GATT_EVENT_LONG_CHARACTERISTIC_VALUE_QUERY_RESULT to the query handler. */
  longValue(c: GattClientConnection, value_handle: number, offset: number, pdu: Uint8Array, from: number, len: number): void {
    const size = this.buildValue('value', c, value_handle, offset, pdu, from, len);
    this.deliver(c, this.built, size);
  }

  /** GATT_EVENT_CHARACTERISTIC_DESCRIPTOR_QUERY_RESULT to the query handler. */
  descriptorValue(c: GattClientConnection, descriptor_handle: number, pdu: Uint8Array, from: number, len: number): void {
    const size = this.buildValue('descriptor', c, descriptor_handle, -1, pdu, from, len);
    this.deliver(c, this.built, size);
  }

  /** GATT_EVENT_LONG_CHARACTERISTIC_DESCRIPTOR_QUERY_RESULT to the query handler. */
  longDescriptor(
    c: GattClientConnection,
    descriptor_handle: number,
    offset: number,
    pdu: Uint8Array,
    from: number,
    len: number,
  ): void {
    const size = this.buildValue('descriptor', c, descriptor_handle, offset, pdu, from, len);
    this.deliver(c, this.built, size);
  }

  /** Hand a built event to one handler without logging it (listeners: BTstack calls them directly). */
  toHandlerUnlogged(handler: PacketHandler, channel: number, buf: Uint8Array, size: number): void {
    this.out.to_handler(handler, channel, buf, size, false);
  }

  /**
   * Build a value event (offset >= 0: the LONG variant) with the profile's builder: its fields
   * with an empty value, then the value copied in behind them and the two lengths set (no view of
   * the PDU per event). Returns the size; the buffer is `built`. See the header for long values.
   */
  buildValue(
    kind: GattValueEvent,
    c: GattClientConnection,
    handle: number,
    offset: number,
    pdu: Uint8Array,
    from: number,
    len: number,
  ): number {
    if (from < 0) from = 0;
    if (from + len > pdu.length) len = Math.max(0, pdu.length - from); // as subarray would clamp
    let b = this.out.buffer();
    let header = this.writeValue(b, kind, c, handle, offset, EMPTY);
    if (header > 0 && (header + len > b.length || header - 2 + len > 255)) {
      // too long for one event: the same fields in a scratch buffer that holds the value
      const depth = this.out.depth;
      let big = this.big[depth];
      if (!big) {
        big = new Uint8Array(16 + this.max_value);
        this.big[depth] = big;
      }
      b = big;
      header = this.writeValue(b, kind, c, handle, offset, EMPTY);
    }
    this.built = b;
    if (header <= 0 || header + len > b.length) return 0;
    b[1] = (header - 2 + len) & 0xff;
    little_endian_store_16(b, header - 2, len);
    this.copier.copy(b, header, pdu, from, len);
    return header + len;
  }

  private writeValue(
    b: Uint8Array,
    kind: GattValueEvent,
    c: GattClientConnection,
    handle: number,
    offset: number,
    v: Uint8Array,
  ): number {
    const k = this.codes;
    const h = c.con_handle;
    if (k.PROFILE === 'v1.8') {
      const s = c.service_id;
      const id = c.connection_id;
      if (kind === 'descriptor') {
        if (offset >= 0) return k.gatt_event_long_characteristic_descriptor_query_result_build(b, 0, h, s, id, handle, offset, v);
        return k.gatt_event_characteristic_descriptor_query_result_build(b, 0, h, s, id, handle, v);
      }
      if (offset >= 0) return k.gatt_event_long_characteristic_value_query_result_build(b, 0, h, s, id, handle, offset, v);
      if (kind === 'notification') return k.gatt_event_notification_build(b, 0, h, s, id, handle, v);
      if (kind === 'indication') return k.gatt_event_indication_build(b, 0, h, s, id, handle, v);
      return k.gatt_event_characteristic_value_query_result_build(b, 0, h, s, id, handle, v);
    }
    if (kind === 'descriptor') {
      // v1.4's layout (H2LV) has no descriptor handle in the long event
      if (offset >= 0) return k.gatt_event_long_characteristic_descriptor_query_result_build(b, 0, h, offset, v);
      return k.gatt_event_characteristic_descriptor_query_result_build(b, 0, h, handle, v);
    }
    if (offset >= 0) return k.gatt_event_long_characteristic_value_query_result_build(b, 0, h, handle, offset, v);
    if (kind === 'notification') return k.gatt_event_notification_build(b, 0, h, handle, v);
    if (kind === 'indication') return k.gatt_event_indication_build(b, 0, h, handle, v);
    return k.gatt_event_characteristic_value_query_result_build(b, 0, h, handle, v);
  }
}
