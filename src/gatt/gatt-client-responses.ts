/**
 * The GATT client's query machine, receive side (BTstack's gatt_client_handle_att_response): an
 * ATT PDU from the server for one connection -> result events, the next request (state
 * P_W2_*), or the end of the query (exactly one GATT_EVENT_QUERY_COMPLETE), per Core spec Vol 3
 * Part G 4 (procedures) and Part F 3.4 (PDUs).
 *
 * Bad input never throws and reads nothing past the PDU. As BTstack: a response that does not fit
 * the current state is ignored (the query then ends by the 30 s timeout if nothing else comes),
 * a list entry of an unknown length is skipped, handles going backwards are followed (the next
 * request starts after the last handle seen; the 30 s query timer bounds such a loop), an Error
 * Response ends the query with its error code (Attribute Not Found ends a discovery with success).
 * Where BTstack would read past a short PDU we do not: a Prepare Write Response shorter than 5
 * octets, a Read By Type Response shorter than 2 and a list whose entry length cannot hold the
 * handle that continues the query ends it (as if the last handle were 0xFFFF); an Exchange MTU
 * Response's MTU is kept at least 23 (Part F 3.4.2.2).
 */
import { ATT_ERROR_ATTRIBUTE_NOT_FOUND, ATT_ERROR_DATA_MISMATCH, ATT_ERROR_SUCCESS } from '../codes/v1.4.js';
import {
  ATT_DEFAULT_MTU,
  ATT_ERROR_RESPONSE,
  ATT_EXCHANGE_MTU_RESPONSE,
  ATT_EXECUTE_WRITE_RESPONSE,
  ATT_FIND_BY_TYPE_VALUE_RESPONSE,
  ATT_FIND_INFORMATION_REPLY,
  ATT_HANDLE_VALUE_INDICATION,
  ATT_HANDLE_VALUE_NOTIFICATION,
  ATT_PREPARE_WRITE_RESPONSE,
  ATT_READ_BLOB_RESPONSE,
  ATT_READ_BY_GROUP_TYPE_RESPONSE,
  ATT_READ_BY_TYPE_RESPONSE,
  ATT_READ_MULTIPLE_RESPONSE,
  ATT_READ_RESPONSE,
  ATT_WRITE_RESPONSE,
  att_read_16,
  att_reverse,
  uuid_add_bluetooth_prefix,
} from '../att/att-pdu.js';
import type { GattClientEvents } from './gatt-client-events.js';
import type { GattClientListeners } from './gatt-client-listeners.js';
import type { GattClientQuery } from './gatt-client-query.js';
import type { GattClientConnection, GattClientQueryState, GattClientState } from './gatt-client-state.js';

export class GattClientResponses {
  private readonly uuid = new Uint8Array(16);

  constructor(
    private readonly s: GattClientState,
    private readonly q: GattClientQuery,
    private readonly events: GattClientEvents,
    private readonly listeners: GattClientListeners,
  ) {}

  /** One ATT PDU (pdu[0..size)) from the server of `c`. */
  handle(c: GattClientConnection, pdu: Uint8Array, size: number): void {
    if (size < 1) return;
    switch (pdu[0]) {
      case ATT_EXCHANGE_MTU_RESPONSE: {
        if (size < 3) return;
        const remote = att_read_16(pdu, 1, size);
        c.mtu = Math.max(ATT_DEFAULT_MTU, Math.min(remote, this.s.local_mtu));
        c.mtu_state = 'MTU_EXCHANGED';
        this.events.mtu(c, c.mtu);
        return;
      }
      case ATT_READ_BY_GROUP_TYPE_RESPONSE:
        if (c.state !== 'P_W4_SERVICE_QUERY_RESULT') return;
        this.services(c, pdu, size);
        this.next(c, this.lastHandle(pdu, size, 2), 'P_W2_SEND_SERVICE_QUERY');
        return;
      case ATT_HANDLE_VALUE_NOTIFICATION:
        if (size < 3) return;
        this.listeners.dispatch('notification', c, att_read_16(pdu, 1, size), pdu, 3, size - 3);
        return;
      case ATT_HANDLE_VALUE_INDICATION:
        if (size < 3) return;
        this.listeners.dispatch('indication', c, att_read_16(pdu, 1, size), pdu, 3, size - 3);
        c.send_confirmation = true;
        return;
      case ATT_READ_BY_TYPE_RESPONSE:
        this.readByType(c, pdu, size);
        return;
      case ATT_READ_RESPONSE:
        this.read(c, pdu, size);
        return;
      case ATT_FIND_BY_TYPE_VALUE_RESPONSE: {
        if (c.state !== 'P_W4_SERVICE_WITH_UUID_RESULT') return;
        let end = 0xffff; // no entries: done
        for (let i = 1; i + 4 <= size; i += 4) {
          end = att_read_16(pdu, i + 2, size);
          this.events.service(c, att_read_16(pdu, i, size), end, c.uuid128);
        }
        this.next(c, end, 'P_W2_SEND_SERVICE_WITH_UUID_QUERY');
        return;
      }
      case ATT_FIND_INFORMATION_REPLY: {
        if (c.state !== 'P_W4_ALL_CHARACTERISTIC_DESCRIPTORS_QUERY_RESULT' || size < 2) return;
        const pair = pdu[1] === 2 ? 18 : 4;
        if (size < 2 + pair) return;
        const last = att_read_16(pdu, size - pair, size);
        for (let i = 2; i + pair <= size; i += pair) {
          this.uuidAt(pdu, i + 2, pair - 2);
          this.events.descriptor(c, att_read_16(pdu, i, size), this.uuid);
        }
        this.next(c, last, 'P_W2_SEND_ALL_CHARACTERISTIC_DESCRIPTORS_QUERY');
        return;
      }
      case ATT_WRITE_RESPONSE:
        if (
          c.state === 'P_W4_WRITE_CHARACTERISTIC_VALUE_RESULT' ||
          c.state === 'P_W4_CLIENT_CHARACTERISTIC_CONFIGURATION_RESULT' ||
          c.state === 'P_W4_WRITE_CHARACTERISTIC_DESCRIPTOR_RESULT'
        ) {
          this.q.complete(c, ATT_ERROR_SUCCESS, 'Write Response');
        }
        return;
      case ATT_READ_BLOB_RESPONSE:
        if (c.state !== 'P_W4_READ_BLOB_RESULT' && c.state !== 'P_W4_READ_BLOB_CHARACTERISTIC_DESCRIPTOR_RESULT') return;
        this.blob(c, pdu, size);
        return;
      case ATT_PREPARE_WRITE_RESPONSE:
        this.prepareWrite(c, pdu, size);
        return;
      case ATT_EXECUTE_WRITE_RESPONSE:
        if (
          c.state === 'P_W4_EXECUTE_PREPARED_WRITE_RESULT' ||
          c.state === 'P_W4_CANCEL_PREPARED_WRITE_RESULT' ||
          c.state === 'P_W4_EXECUTE_PREPARED_WRITE_CHARACTERISTIC_DESCRIPTOR_RESULT'
        ) {
          this.q.complete(c, ATT_ERROR_SUCCESS, 'Execute Write Response');
        } else if (c.state === 'P_W4_CANCEL_PREPARED_WRITE_DATA_MISMATCH_RESULT') {
          this.q.complete(c, ATT_ERROR_DATA_MISMATCH, 'Execute Write Response after a mismatch');
        }
        return;
      case ATT_READ_MULTIPLE_RESPONSE:
        if (c.state !== 'P_W4_READ_MULTIPLE_RESPONSE') return;
        this.events.value(c, 0, pdu, 1, size - 1);
        this.q.complete(c, ATT_ERROR_SUCCESS, 'Read Multiple Response');
        return;
      case ATT_ERROR_RESPONSE:
        if (size < 5) return;
        this.error(c, pdu[4]!);
        return;
      default:
        return;
    }
  }

  /** BTstack's trigger_next_query: done when the last handle reached the end, else continue after it. */
  private next(c: GattClientConnection, last: number, again: GattClientQueryState): void {
    if (last >= c.end_group_handle) {
      if (again === 'P_W2_SEND_ALL_CHARACTERISTICS_OF_SERVICE_QUERY') this.characteristicEnd(c, c.end_group_handle);
      this.q.complete(c, ATT_ERROR_SUCCESS, 'last handle reached');
      return;
    }
    c.start_group_handle = (last + 1) & 0xffff;
    this.q.setState(c, again, `continue after 0x${last.toString(16).padStart(4, '0')}`);
  }

  /**
   * BTstack's get_last_result_handle_from_*_list: the handle at `at` in the last list entry, or
   * 0xFFFF (the query ends) when the PDU holds no entry or the entry length cannot hold that handle.
   */
  private lastHandle(pdu: Uint8Array, size: number, at: number): number {
    if (size < 2) return 0xffff;
    const len = pdu[1]!;
    if (2 + len > size || len < at + 2) return 0xffff;
    return att_read_16(pdu, size - len + at, size, 0xffff);
  }

  /** uuid (2 or 16 octets, little endian) at pdu[at] -> this.uuid (128-bit, big endian); false for other lengths. */
  private uuidAt(pdu: Uint8Array, at: number, len: number): boolean {
    if (len === 2) uuid_add_bluetooth_prefix(this.uuid, att_read_16(pdu, at, at + 2));
    else if (len === 16) att_reverse(pdu, at, this.uuid, 0, 16);
    else return false;
    return true;
  }

  private services(c: GattClientConnection, pdu: Uint8Array, size: number): void {
    if (size < 2) return;
    const len = pdu[1]!;
    if (len !== 6 && len !== 20) return;
    for (let i = 2; i + len <= size; i += len) {
      this.uuidAt(pdu, i + 4, len - 4);
      this.events.service(c, att_read_16(pdu, i, size), att_read_16(pdu, i + 2, size), this.uuid);
    }
  }

  private characteristicEnd(c: GattClientConnection, end: number): void {
    if (!c.characteristic_start_handle) return;
    this.events.characteristic(
      c,
      c.characteristic_start_handle,
      c.attribute_handle,
      end & 0xffff,
      c.characteristic_properties,
      c.uuid128,
    );
    c.characteristic_start_handle = 0;
  }

  private characteristics(c: GattClientConnection, pdu: Uint8Array, size: number): void {
    if (size < 2) return;
    const len = pdu[1]!;
    if (len !== 7 && len !== 21) return;
    for (let i = 2; i + len <= size; i += len) {
      const start = att_read_16(pdu, i, size);
      this.characteristicEnd(c, start - 1);
      this.uuidAt(pdu, i + 5, len - 5);
      if (c.filter_with_uuid && !equal16(c.uuid128, this.uuid)) continue;
      c.characteristic_properties = pdu[i + 2]!;
      c.characteristic_start_handle = start;
      c.attribute_handle = att_read_16(pdu, i + 3, size);
      if (!c.filter_with_uuid) c.uuid128.set(this.uuid);
    }
  }

  private readByType(c: GattClientConnection, pdu: Uint8Array, size: number): void {
    switch (c.state) {
      case 'P_W4_ALL_CHARACTERISTICS_OF_SERVICE_QUERY_RESULT':
      case 'P_W4_CHARACTERISTIC_WITH_UUID_QUERY_RESULT':
        this.characteristics(c, pdu, size);
        this.next(c, this.lastHandle(pdu, size, 3), 'P_W2_SEND_ALL_CHARACTERISTICS_OF_SERVICE_QUERY');
        return;
      case 'P_W4_INCLUDED_SERVICE_QUERY_RESULT': {
        if (size < 2) return;
        const len = pdu[1]!;
        if (len === 6) {
          if (size < 8) return;
          // no UUID in the declaration: read it from the included service (Part G 4.5.1)
          c.start_group_handle = att_read_16(pdu, 2, size);
          c.query_start_handle = att_read_16(pdu, 4, size);
          c.query_end_handle = att_read_16(pdu, 6, size);
          this.q.setState(c, 'P_W2_SEND_INCLUDED_SERVICE_WITH_UUID_QUERY', 'included service without UUID16');
          return;
        }
        if (len !== 8) return;
        for (let i = 2; i + 8 <= size; i += 8) {
          c.query_start_handle = att_read_16(pdu, i + 2, size);
          c.query_end_handle = att_read_16(pdu, i + 4, size);
          uuid_add_bluetooth_prefix(this.uuid, att_read_16(pdu, i + 6, size));
          this.events.includedService(c, att_read_16(pdu, i, size), c.query_start_handle, c.query_end_handle, this.uuid);
        }
        this.next(c, this.lastHandle(pdu, size, 0), 'P_W2_SEND_INCLUDED_SERVICE_QUERY');
        return;
      }
      case 'P_W4_READ_CLIENT_CHARACTERISTIC_CONFIGURATION_QUERY_RESULT':
        if (size < 4) return;
        c.client_characteristic_configuration_handle = att_read_16(pdu, 2, size);
        this.q.setState(c, 'P_W2_WRITE_CLIENT_CHARACTERISTIC_CONFIGURATION', 'CCCD found');
        return;
      case 'P_W4_READ_BY_TYPE_RESPONSE': {
        if (size < 2) return;
        const len = pdu[1]!;
        let last = 0xffff;
        if (len > 2) {
          for (let i = 2; i + len <= size; i += len) {
            last = att_read_16(pdu, i, size);
            this.events.value(c, last, pdu, i + 2, len - 2);
          }
        }
        this.next(c, last, 'P_W2_SEND_READ_BY_TYPE_REQUEST');
        return;
      }
      default:
        return;
    }
  }

  private read(c: GattClientConnection, pdu: Uint8Array, size: number): void {
    switch (c.state) {
      case 'P_W4_INCLUDED_SERVICE_UUID_WITH_QUERY_RESULT':
        if (size >= 17) {
          att_reverse(pdu, 1, this.uuid, 0, 16);
          this.events.includedService(c, c.start_group_handle, c.query_start_handle, c.query_end_handle, this.uuid);
        }
        this.next(c, c.start_group_handle, 'P_W2_SEND_INCLUDED_SERVICE_QUERY');
        return;
      case 'P_W4_READ_CHARACTERISTIC_VALUE_RESULT':
        this.q.finish(c, 'Read Response');
        this.events.value(c, c.attribute_handle, pdu, 1, size - 1);
        this.events.queryComplete(c, ATT_ERROR_SUCCESS);
        return;
      case 'P_W4_READ_CHARACTERISTIC_DESCRIPTOR_RESULT':
        this.q.finish(c, 'Read Response');
        this.events.descriptorValue(c, c.attribute_handle, pdu, 1, size - 1);
        this.events.queryComplete(c, ATT_ERROR_SUCCESS);
        return;
      case 'P_W4_READ_BLOB_RESULT':
      case 'P_W4_READ_BLOB_CHARACTERISTIC_DESCRIPTOR_RESULT':
        this.blob(c, pdu, size);
        return;
      default:
        return;
    }
  }

  /**
   * One part of a long read (Part G 4.8.3, 4.12.2): report it (value or descriptor event), then
   * the next Read Blob or the end.
   */
  private blob(c: GattClientConnection, pdu: Uint8Array, size: number): void {
    const n = size - 1;
    const state = c.state;
    if (state === 'P_W4_READ_BLOB_RESULT') this.events.longValue(c, c.attribute_handle, c.attribute_offset, pdu, 1, n);
    else this.events.longDescriptor(c, c.attribute_handle, c.attribute_offset, pdu, 1, n);
    if (c.state !== state) return; // the handler started over
    if (n < c.mtu - 1) {
      this.q.complete(c, ATT_ERROR_SUCCESS, 'short part: value complete');
      return;
    }
    c.attribute_offset += n;
    const again =
      state === 'P_W4_READ_BLOB_RESULT' ? 'P_W2_SEND_READ_BLOB_QUERY' : 'P_W2_SEND_READ_BLOB_CHARACTERISTIC_DESCRIPTOR_QUERY';
    this.q.setState(c, again, 'full part');
  }

  /** BTstack's is_value_valid: the echoed handle, offset and part match what was sent. */
  private echoed(c: GattClientConnection, pdu: Uint8Array, size: number): boolean {
    if (att_read_16(pdu, 1, size) !== c.attribute_handle || att_read_16(pdu, 3, size) !== c.attribute_offset) return false;
    const n = size - 5;
    if (c.attribute_offset + n > c.attribute_value.length) return false;
    for (let i = 0; i < n; i++) if (pdu[5 + i] !== c.attribute_value[c.attribute_offset + i]) return false;
    return true;
  }

  private prepareWrite(c: GattClientConnection, pdu: Uint8Array, size: number): void {
    if (size < 5) return;
    switch (c.state) {
      case 'P_W4_PREPARE_WRITE_RESULT':
        c.attribute_offset = att_read_16(pdu, 3, size);
        this.nextPart(c, 'P_W2_PREPARE_WRITE');
        return;
      case 'P_W4_PREPARE_WRITE_CHARACTERISTIC_DESCRIPTOR_RESULT':
        c.attribute_offset = att_read_16(pdu, 3, size);
        this.nextPart(c, 'P_W2_PREPARE_WRITE_CHARACTERISTIC_DESCRIPTOR', 'P_W2_EXECUTE_PREPARED_WRITE_CHARACTERISTIC_DESCRIPTOR');
        return;
      case 'P_W4_PREPARE_RELIABLE_WRITE_RESULT':
        if (this.echoed(c, pdu, size)) {
          c.attribute_offset = att_read_16(pdu, 3, size);
          this.nextPart(c, 'P_W2_PREPARE_RELIABLE_WRITE');
        } else {
          this.q.setState(c, 'P_W2_CANCEL_PREPARED_WRITE_DATA_MISMATCH', 'echoed part differs');
        }
        return;
      default:
        return;
    }
  }

  /** BTstack's trigger_next_prepare_write_query. */
  private nextPart(
    c: GattClientConnection,
    again: GattClientQueryState,
    execute: GattClientQueryState = 'P_W2_EXECUTE_PREPARED_WRITE',
  ): void {
    c.attribute_offset += this.q.writeBlobLength(c);
    if (this.q.writeBlobLength(c) === 0) this.q.setState(c, execute, 'all parts prepared');
    else this.q.setState(c, again, 'next part');
  }

  private error(c: GattClientConnection, code: number): void {
    const why = `Error Response 0x${code.toString(16).padStart(2, '0')}`;
    if (code !== ATT_ERROR_ATTRIBUTE_NOT_FOUND) {
      if (this.q.security?.onError(c, code)) return; // pairing, then the same request again
      this.q.reportErrorIfPending(c, code, why);
      return;
    }
    switch (c.state) {
      case 'P_W4_SERVICE_QUERY_RESULT':
      case 'P_W4_SERVICE_WITH_UUID_RESULT':
      case 'P_W4_INCLUDED_SERVICE_QUERY_RESULT':
      case 'P_W4_ALL_CHARACTERISTIC_DESCRIPTORS_QUERY_RESULT':
        this.q.complete(c, ATT_ERROR_SUCCESS, why);
        return;
      case 'P_W4_ALL_CHARACTERISTICS_OF_SERVICE_QUERY_RESULT':
      case 'P_W4_CHARACTERISTIC_WITH_UUID_QUERY_RESULT':
        this.characteristicEnd(c, c.end_group_handle);
        this.q.complete(c, ATT_ERROR_SUCCESS, why);
        return;
      case 'P_W4_READ_BY_TYPE_RESPONSE':
        this.q.complete(
          c,
          c.start_group_handle === c.query_start_handle ? ATT_ERROR_ATTRIBUTE_NOT_FOUND : ATT_ERROR_SUCCESS,
          why,
        );
        return;
      default:
        this.q.reportErrorIfPending(c, code, why);
        return;
    }
  }
}

function equal16(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}
