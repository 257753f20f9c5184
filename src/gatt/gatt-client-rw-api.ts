/**
 * The reads and writes of the GATT client facade (`GattClient` extends this class, so
 * `stack.gatt_client` and the btstack_init_default functions carry these names), as BTstack's
 * gatt_client.h: characteristic values (read, by UUID, long, multiple; write with and without
 * response, long, reliable), the Client Characteristic Configuration write, and characteristic
 * descriptors (Core Vol 3 Part G 4.12): read (Read Request), read long (Read Request, then Read
 * Blob Requests while parts are ATT_MTU - 1 long), write (Write Request, at most ATT_MTU - 3
 * octets, else QUERY_COMPLETE with ATT_ERROR_INVALID_ATTRIBUTE_VALUE_LENGTH) and write long
 * (Prepare Write Requests of ATT_MTU - 5 octets, then Execute Write). Descriptor reads report
 * GATT_EVENT_CHARACTERISTIC_DESCRIPTOR_QUERY_RESULT (descriptor handle, value) or, for the long
 * read, one GATT_EVENT_LONG_CHARACTERISTIC_DESCRIPTOR_QUERY_RESULT per part (v1.4: handle,
 * offset, value, without the descriptor handle, as BTstack 1.4's layout; v1.8: handle,
 * service_id, connection_id, descriptor handle, offset, value); every query ends with one
 * GATT_EVENT_QUERY_COMPLETE. Here arguments are checked and the query recorded; the work is done
 * by gatt-client-query.ts (requests) and gatt-client-responses.ts (responses).
 */
import {
  GATT_CLIENT_BUSY,
  GATT_CLIENT_CHARACTERISTIC_INDICATION_NOT_SUPPORTED,
  GATT_CLIENT_CHARACTERISTIC_NOTIFICATION_NOT_SUPPORTED,
  GATT_CLIENT_VALUE_TOO_LONG,
  L2CAP_CID_ATTRIBUTE_PROTOCOL,
} from '../codes/v1.4.js';
import type { PacketHandler } from '../hci/hci-service.js';
import { ATT_WRITE_COMMAND, att_encode_write, uuid_add_bluetooth_prefix } from '../att/att-pdu.js';
import { ATT_PROPERTY_INDICATE, ATT_PROPERTY_NOTIFY } from '../att/att-db.js';
import { checkBytes, checkU16, checkUuid128 } from './gatt-client-args.js';
import type { GattClientConnection, GattClientQueryState, GattClientState } from './gatt-client-state.js';
import {
  GATT_CLIENT_CHARACTERISTICS_CONFIGURATION_INDICATION,
  GATT_CLIENT_CHARACTERISTICS_CONFIGURATION_NOTIFICATION,
  type GattClientCharacteristic,
  type GattClientCharacteristicDescriptor,
} from './gatt-client-types.js';

const ATT = L2CAP_CID_ATTRIBUTE_PROTOCOL;

/** GattClient's reads and writes (values, CCCD, descriptors); use it through `GattClient` / `stack.gatt_client`. */
export abstract class GattClientReadWriteApi {
  /** @internal */
  abstract readonly state: GattClientState;

  /** @internal BTstack's gatt_client_provide_context_for_handle: the connection's context, or a status. */
  protected abstract provideContext(con_handle: number): { status: number; connection: GattClientConnection | null };

  /**
   * @internal A query: context (+ timer), ready check, parameters (`setup` may end the call: false =
   * QUERY_COMPLETE(0) now, a number = that status), then the send side runs.
   */
  protected abstract startQuery(
    callback: PacketHandler,
    con_handle: number,
    to: GattClientQueryState,
    why: string,
    setup: (c: GattClientConnection) => void | boolean | number,
  ): number;

  /** The write-type queries: value[offset..length) to `handle` through the `to` procedure. */
  private writeQuery(
    callback: PacketHandler,
    con_handle: number,
    to: GattClientQueryState,
    why: string,
    handle: number,
    offset: number,
    length: number,
    value: Uint8Array,
  ): number {
    checkBytes(value, length);
    checkU16(offset, 'offset');
    return this.startQuery(callback, con_handle, to, why, (c) => {
      c.attribute_handle = handle;
      c.attribute_length = length;
      c.attribute_offset = offset;
      c.attribute_value = value;
    });
  }

  // ---- reads (Part G 4.8) ----

  gatt_client_read_value_of_characteristic(
    callback: PacketHandler,
    con_handle: number,
    characteristic: GattClientCharacteristic,
  ): number {
    return this.gatt_client_read_value_of_characteristic_using_value_handle(callback, con_handle, characteristic.value_handle);
  }

  gatt_client_read_value_of_characteristic_using_value_handle(
    callback: PacketHandler,
    con_handle: number,
    value_handle: number,
  ): number {
    return this.startQuery(callback, con_handle, 'P_W2_SEND_READ_CHARACTERISTIC_VALUE_QUERY', 'read value', (c) => {
      c.attribute_handle = value_handle;
      c.attribute_offset = 0;
    });
  }

  gatt_client_read_value_of_characteristics_by_uuid16(
    callback: PacketHandler,
    con_handle: number,
    start_handle: number,
    end_handle: number,
    uuid16: number,
  ): number {
    checkU16(uuid16, 'uuid16');
    return this.startQuery(callback, con_handle, 'P_W2_SEND_READ_BY_TYPE_REQUEST', 'read by UUID16', (c) => {
      c.start_group_handle = c.query_start_handle = start_handle;
      c.end_group_handle = c.query_end_handle = end_handle;
      c.uuid16 = uuid16;
      uuid_add_bluetooth_prefix(c.uuid128, uuid16);
    });
  }

  gatt_client_read_value_of_characteristics_by_uuid128(
    callback: PacketHandler,
    con_handle: number,
    start_handle: number,
    end_handle: number,
    uuid128: Uint8Array,
  ): number {
    checkUuid128(uuid128);
    return this.startQuery(callback, con_handle, 'P_W2_SEND_READ_BY_TYPE_REQUEST', 'read by UUID128', (c) => {
      c.start_group_handle = c.query_start_handle = start_handle;
      c.end_group_handle = c.query_end_handle = end_handle;
      c.uuid16 = 0;
      c.uuid128.set(uuid128.subarray(0, 16));
    });
  }

  gatt_client_read_long_value_of_characteristic(
    callback: PacketHandler,
    con_handle: number,
    characteristic: GattClientCharacteristic,
  ): number {
    return this.gatt_client_read_long_value_of_characteristic_using_value_handle(
      callback,
      con_handle,
      characteristic.value_handle,
    );
  }

  gatt_client_read_long_value_of_characteristic_using_value_handle(
    callback: PacketHandler,
    con_handle: number,
    value_handle: number,
  ): number {
    return this.gatt_client_read_long_value_of_characteristic_using_value_handle_with_offset(
      callback,
      con_handle,
      value_handle,
      0,
    );
  }

  gatt_client_read_long_value_of_characteristic_using_value_handle_with_offset(
    callback: PacketHandler,
    con_handle: number,
    value_handle: number,
    offset: number,
  ): number {
    checkU16(offset, 'offset');
    return this.startQuery(callback, con_handle, 'P_W2_SEND_READ_BLOB_QUERY', 'read long value', (c) => {
      c.attribute_handle = value_handle;
      c.attribute_offset = offset;
    });
  }

  gatt_client_read_multiple_characteristic_values(
    callback: PacketHandler,
    con_handle: number,
    num_value_handles: number,
    value_handles: readonly number[] | Uint16Array,
  ): number {
    if (!Number.isInteger(num_value_handles) || num_value_handles < 0 || num_value_handles > value_handles.length)
      throw new TypeError('gatt_client_read_multiple_characteristic_values: bad num_value_handles');
    const handles = Array.from(value_handles).slice(0, num_value_handles);
    return this.startQuery(callback, con_handle, 'P_W2_SEND_READ_MULTIPLE_REQUEST', 'read multiple', (c) => {
      c.read_multiple_handles = handles;
    });
  }

  // ---- writes (Part G 4.9) ----

  /** Write Command now: GATT_CLIENT_VALUE_TOO_LONG past MTU - 3, GATT_CLIENT_BUSY when the channel cannot send. */
  gatt_client_write_value_of_characteristic_without_response(
    con_handle: number,
    value_handle: number,
    value_length: number,
    value: Uint8Array,
  ): number {
    checkBytes(value, value_length);
    const { status, connection: c } = this.provideContext(con_handle);
    if (!c) return status;
    if (value_length > c.mtu - 3) return GATT_CLIENT_VALUE_TOO_LONG;
    if (!this.state.l2cap.l2cap_can_send_fixed_channel_packet_now(con_handle, ATT)) return GATT_CLIENT_BUSY;
    const n = att_encode_write(this.state.tx, ATT_WRITE_COMMAND, value_handle, value, 0, value_length);
    return this.state.l2cap.l2cap_send_connectionless(con_handle, ATT, this.state.tx, n);
  }

  gatt_client_write_value_of_characteristic(
    callback: PacketHandler,
    con_handle: number,
    value_handle: number,
    value_length: number,
    value: Uint8Array,
  ): number {
    return this.writeQuery(
      callback,
      con_handle,
      'P_W2_SEND_WRITE_CHARACTERISTIC_VALUE',
      'write value',
      value_handle,
      0,
      value_length,
      value,
    );
  }

  gatt_client_write_long_value_of_characteristic(
    callback: PacketHandler,
    con_handle: number,
    value_handle: number,
    value_length: number,
    value: Uint8Array,
  ): number {
    return this.gatt_client_write_long_value_of_characteristic_with_offset(
      callback,
      con_handle,
      value_handle,
      0,
      value_length,
      value,
    );
  }

  /** Prepare Write parts from `offset` (value[offset..value_length)), then Execute Write. */
  gatt_client_write_long_value_of_characteristic_with_offset(
    callback: PacketHandler,
    con_handle: number,
    value_handle: number,
    offset: number,
    value_length: number,
    value: Uint8Array,
  ): number {
    return this.writeQuery(
      callback,
      con_handle,
      'P_W2_PREPARE_WRITE',
      'write long value',
      value_handle,
      offset,
      value_length,
      value,
    );
  }

  /** Prepare Write parts checked against their echo (Part G 4.9.5); a mismatch cancels: ATT_ERROR_DATA_MISMATCH. */
  gatt_client_reliable_write_long_value_of_characteristic(
    callback: PacketHandler,
    con_handle: number,
    value_handle: number,
    value_length: number,
    value: Uint8Array,
  ): number {
    return this.writeQuery(
      callback,
      con_handle,
      'P_W2_PREPARE_RELIABLE_WRITE',
      'reliable write',
      value_handle,
      0,
      value_length,
      value,
    );
  }

  /** Find the CCCD (Read By Type 0x2902 over value_handle..end_handle), then write `configuration` to it. */
  gatt_client_write_client_characteristic_configuration(
    callback: PacketHandler,
    con_handle: number,
    characteristic: GattClientCharacteristic,
    configuration: number,
  ): number {
    checkU16(configuration, 'configuration');
    return this.startQuery(
      callback,
      con_handle,
      'P_W2_SEND_READ_CLIENT_CHARACTERISTIC_CONFIGURATION_QUERY',
      'write CCCD',
      (c) => {
        if (
          configuration & GATT_CLIENT_CHARACTERISTICS_CONFIGURATION_NOTIFICATION &&
          (characteristic.properties & ATT_PROPERTY_NOTIFY) === 0
        )
          return GATT_CLIENT_CHARACTERISTIC_NOTIFICATION_NOT_SUPPORTED;
        if (
          configuration & GATT_CLIENT_CHARACTERISTICS_CONFIGURATION_INDICATION &&
          (characteristic.properties & ATT_PROPERTY_INDICATE) === 0
        )
          return GATT_CLIENT_CHARACTERISTIC_INDICATION_NOT_SUPPORTED;
        c.start_group_handle = characteristic.value_handle;
        c.end_group_handle = characteristic.end_handle;
        c.client_characteristic_configuration_value = configuration;
        return true;
      },
    );
  }

  // ---- characteristic descriptors (Part G 4.12) ----

  /** Read Request on descriptor.handle: GATT_EVENT_CHARACTERISTIC_DESCRIPTOR_QUERY_RESULT, then QUERY_COMPLETE. */
  gatt_client_read_characteristic_descriptor(
    callback: PacketHandler,
    con_handle: number,
    descriptor: GattClientCharacteristicDescriptor,
  ): number {
    return this.gatt_client_read_characteristic_descriptor_using_descriptor_handle(callback, con_handle, descriptor.handle);
  }

  gatt_client_read_characteristic_descriptor_using_descriptor_handle(
    callback: PacketHandler,
    con_handle: number,
    descriptor_handle: number,
  ): number {
    checkU16(descriptor_handle, 'descriptor_handle');
    return this.startQuery(callback, con_handle, 'P_W2_SEND_READ_CHARACTERISTIC_DESCRIPTOR_QUERY', 'read descriptor', (c) => {
      c.attribute_handle = descriptor_handle;
      c.attribute_offset = 0;
    });
  }

  /** Read Request, then Read Blob Requests: one GATT_EVENT_LONG_CHARACTERISTIC_DESCRIPTOR_QUERY_RESULT per part. */
  gatt_client_read_long_characteristic_descriptor(
    callback: PacketHandler,
    con_handle: number,
    descriptor: GattClientCharacteristicDescriptor,
  ): number {
    return this.gatt_client_read_long_characteristic_descriptor_using_descriptor_handle(callback, con_handle, descriptor.handle);
  }

  gatt_client_read_long_characteristic_descriptor_using_descriptor_handle(
    callback: PacketHandler,
    con_handle: number,
    descriptor_handle: number,
  ): number {
    return this.gatt_client_read_long_characteristic_descriptor_using_descriptor_handle_with_offset(
      callback,
      con_handle,
      descriptor_handle,
      0,
    );
  }

  /** The long read from `offset` (a Read Blob Request first unless offset is 0). */
  gatt_client_read_long_characteristic_descriptor_using_descriptor_handle_with_offset(
    callback: PacketHandler,
    con_handle: number,
    descriptor_handle: number,
    offset: number,
  ): number {
    checkU16(descriptor_handle, 'descriptor_handle');
    checkU16(offset, 'offset');
    const to = 'P_W2_SEND_READ_BLOB_CHARACTERISTIC_DESCRIPTOR_QUERY';
    return this.startQuery(callback, con_handle, to, 'read long descriptor', (c) => {
      c.attribute_handle = descriptor_handle;
      c.attribute_offset = offset;
    });
  }

  /** Write Request (length <= ATT_MTU - 3); `data` is not copied: keep it until QUERY_COMPLETE. */
  gatt_client_write_characteristic_descriptor(
    callback: PacketHandler,
    con_handle: number,
    descriptor: GattClientCharacteristicDescriptor,
    length: number,
    data: Uint8Array,
  ): number {
    return this.gatt_client_write_characteristic_descriptor_using_descriptor_handle(
      callback,
      con_handle,
      descriptor.handle,
      length,
      data,
    );
  }

  gatt_client_write_characteristic_descriptor_using_descriptor_handle(
    callback: PacketHandler,
    con_handle: number,
    descriptor_handle: number,
    length: number,
    data: Uint8Array,
  ): number {
    checkU16(descriptor_handle, 'descriptor_handle');
    const to = 'P_W2_SEND_WRITE_CHARACTERISTIC_DESCRIPTOR';
    return this.writeQuery(callback, con_handle, to, 'write descriptor', descriptor_handle, 0, length, data);
  }

  /** Prepare Write Requests, then Execute Write; `data` is not copied: keep it until QUERY_COMPLETE. */
  gatt_client_write_long_characteristic_descriptor(
    callback: PacketHandler,
    con_handle: number,
    descriptor: GattClientCharacteristicDescriptor,
    length: number,
    data: Uint8Array,
  ): number {
    return this.gatt_client_write_long_characteristic_descriptor_using_descriptor_handle_with_offset(
      callback,
      con_handle,
      descriptor.handle,
      0,
      length,
      data,
    );
  }

  gatt_client_write_long_characteristic_descriptor_using_descriptor_handle(
    callback: PacketHandler,
    con_handle: number,
    descriptor_handle: number,
    length: number,
    data: Uint8Array,
  ): number {
    return this.gatt_client_write_long_characteristic_descriptor_using_descriptor_handle_with_offset(
      callback,
      con_handle,
      descriptor_handle,
      0,
      length,
      data,
    );
  }

  /** Prepare Write parts of data[offset..length) from `offset`, then Execute Write. */
  gatt_client_write_long_characteristic_descriptor_using_descriptor_handle_with_offset(
    callback: PacketHandler,
    con_handle: number,
    descriptor_handle: number,
    offset: number,
    length: number,
    data: Uint8Array,
  ): number {
    checkU16(descriptor_handle, 'descriptor_handle');
    const to = 'P_W2_PREPARE_WRITE_CHARACTERISTIC_DESCRIPTOR';
    return this.writeQuery(callback, con_handle, to, 'write long descriptor', descriptor_handle, offset, length, data);
  }
}
