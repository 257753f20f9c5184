/**
 * The GATT client's public records, as BTstack's gatt_client.h: gatt_client_service_t,
 * gatt_client_characteristic_t, gatt_client_characteristic_descriptor_t and
 * gatt_client_notification_t, with the (de)serializers of the X / Y / Z event fields:
 *
 * | field | bytes in the event                                                             |
 * |-------|--------------------------------------------------------------------------------|
 * | X 20  | start_group_handle, end_group_handle (LE16 each), uuid128 (16, little endian)   |
 * | Y 24  | start_handle, value_handle, end_handle, properties (LE16 each), uuid128 (LE)    |
 * | Z 18  | handle (LE16), uuid128 (LE)                                                    |
 *
 * uuid128 in the records is big endian (display order: 0000180f-0000-1000-8000-00805f9b34fb),
 * uuid16 the 16-bit value when uuid128 is a Bluetooth Base UUID, else 0 (BTstack stores the first
 * four octets into a uint16, so a 32-bit Base UUID gives its low 16 bits).
 */
import { little_endian_read_16, little_endian_store_16 } from '../core/bytes.js';
import type { PacketHandler } from '../hci/hci-service.js';
import { att_reverse, uuid_has_bluetooth_prefix } from '../att/att-pdu.js';

/** BTstack's gatt_client_service_t. */
export interface GattClientService {
  start_group_handle: number;
  end_group_handle: number;
  uuid16: number;
  /** 16 octets, big endian. */
  uuid128: Uint8Array;
}

/** BTstack's gatt_client_characteristic_t. */
export interface GattClientCharacteristic {
  start_handle: number;
  value_handle: number;
  end_handle: number;
  properties: number;
  uuid16: number;
  /** 16 octets, big endian. */
  uuid128: Uint8Array;
}

/** BTstack's gatt_client_characteristic_descriptor_t. */
export interface GattClientCharacteristicDescriptor {
  handle: number;
  uuid16: number;
  /** 16 octets, big endian. */
  uuid128: Uint8Array;
}

/**
 * BTstack's gatt_client_notification_t: the app owns the record and passes it to
 * gatt_client_listen_for_characteristic_value_updates, which fills it in.
 */
export interface GattClientNotification {
  callback: PacketHandler | null;
  con_handle: number;
  attribute_handle: number;
}

/** Listen to every connection (gatt_client.h). */
export const GATT_CLIENT_ANY_CONNECTION = 0xffff;
/** Listen to every value handle (gatt_client.h). */
export const GATT_CLIENT_ANY_VALUE_HANDLE = 0x0000;
/** Client Characteristic Configuration values (gatt_client.h). */
export const GATT_CLIENT_CHARACTERISTICS_CONFIGURATION_NONE = 0;
export const GATT_CLIENT_CHARACTERISTICS_CONFIGURATION_NOTIFICATION = 1;
export const GATT_CLIENT_CHARACTERISTICS_CONFIGURATION_INDICATION = 2;

/** BTstack reads uuid16 as big_endian_read_32(uuid128, 0) stored into a uint16: octets 2 and 3. */
function uuid16_of(uuid128: Uint8Array): number {
  return uuid_has_bluetooth_prefix(uuid128) ? ((uuid128[2]! << 8) | uuid128[3]!) & 0xffff : 0;
}

function uuid_at(packet: Uint8Array, offset: number): Uint8Array {
  const u = new Uint8Array(16);
  att_reverse(packet, offset, u, 0, 16);
  return u;
}

/** BTstack's gatt_client_deserialize_service (X at packet[offset]). */
export function gatt_client_deserialize_service(packet: Uint8Array, offset: number): GattClientService {
  const uuid128 = uuid_at(packet, offset + 4);
  return {
    start_group_handle: little_endian_read_16(packet, offset),
    end_group_handle: little_endian_read_16(packet, offset + 2),
    uuid16: uuid16_of(uuid128),
    uuid128,
  };
}

/** BTstack's gatt_client_deserialize_characteristic (Y at packet[offset]). */
export function gatt_client_deserialize_characteristic(packet: Uint8Array, offset: number): GattClientCharacteristic {
  const uuid128 = uuid_at(packet, offset + 8);
  return {
    start_handle: little_endian_read_16(packet, offset),
    value_handle: little_endian_read_16(packet, offset + 2),
    end_handle: little_endian_read_16(packet, offset + 4),
    properties: little_endian_read_16(packet, offset + 6),
    uuid16: uuid16_of(uuid128),
    uuid128,
  };
}

/** BTstack's gatt_client_deserialize_characteristic_descriptor (Z at packet[offset]). */
export function gatt_client_deserialize_characteristic_descriptor(
  packet: Uint8Array,
  offset: number,
): GattClientCharacteristicDescriptor {
  const uuid128 = uuid_at(packet, offset + 2);
  return { handle: little_endian_read_16(packet, offset), uuid16: uuid16_of(uuid128), uuid128 };
}

/** X field: start, end, uuid128 (big endian in, little endian out) into out[0..20). */
export function gatt_serialize_service(out: Uint8Array, start: number, end: number, uuid128: Uint8Array): Uint8Array {
  little_endian_store_16(out, 0, start);
  little_endian_store_16(out, 2, end);
  att_reverse(uuid128, 0, out, 4, 16);
  return out;
}

/** Y field into out[0..24). */
export function gatt_serialize_characteristic(
  out: Uint8Array,
  start: number,
  value_handle: number,
  end: number,
  properties: number,
  uuid128: Uint8Array,
): Uint8Array {
  little_endian_store_16(out, 0, start);
  little_endian_store_16(out, 2, value_handle);
  little_endian_store_16(out, 4, end);
  little_endian_store_16(out, 6, properties);
  att_reverse(uuid128, 0, out, 8, 16);
  return out;
}

/** Z field into out[0..18). */
export function gatt_serialize_descriptor(out: Uint8Array, handle: number, uuid128: Uint8Array): Uint8Array {
  little_endian_store_16(out, 0, handle);
  att_reverse(uuid128, 0, out, 2, 16);
  return out;
}
