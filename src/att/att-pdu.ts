/**
 * ATT PDUs (Bluetooth Core spec Vol 3 Part F 3.4): opcodes with BTstack's names (src/bluetooth.h)
 * and pure encoders/readers, shared by the ATT server (src/att/) and the GATT client (src/gatt/).
 * Bytes in, values out; encoders write into a caller-supplied buffer and return the PDU length
 * (or 0 when the buffer is too small: nothing written). No state, no I/O. Add what a side needs;
 * do not rename (both sides import these names).
 */
import { little_endian_read_16, little_endian_store_16 } from '../core/bytes.js';

// ---- opcodes (Vol 3 Part F 3.4.8, Table 3.37) ----
export const ATT_ERROR_RESPONSE = 0x01;
export const ATT_EXCHANGE_MTU_REQUEST = 0x02;
export const ATT_EXCHANGE_MTU_RESPONSE = 0x03;
export const ATT_FIND_INFORMATION_REQUEST = 0x04;
/** BTstack's name for the Find Information Response. */
export const ATT_FIND_INFORMATION_REPLY = 0x05;
export const ATT_FIND_BY_TYPE_VALUE_REQUEST = 0x06;
export const ATT_FIND_BY_TYPE_VALUE_RESPONSE = 0x07;
export const ATT_READ_BY_TYPE_REQUEST = 0x08;
export const ATT_READ_BY_TYPE_RESPONSE = 0x09;
export const ATT_READ_REQUEST = 0x0a;
export const ATT_READ_RESPONSE = 0x0b;
export const ATT_READ_BLOB_REQUEST = 0x0c;
export const ATT_READ_BLOB_RESPONSE = 0x0d;
export const ATT_READ_MULTIPLE_REQUEST = 0x0e;
export const ATT_READ_MULTIPLE_RESPONSE = 0x0f;
export const ATT_READ_BY_GROUP_TYPE_REQUEST = 0x10;
export const ATT_READ_BY_GROUP_TYPE_RESPONSE = 0x11;
export const ATT_WRITE_REQUEST = 0x12;
export const ATT_WRITE_RESPONSE = 0x13;
export const ATT_PREPARE_WRITE_REQUEST = 0x16;
export const ATT_PREPARE_WRITE_RESPONSE = 0x17;
export const ATT_EXECUTE_WRITE_REQUEST = 0x18;
export const ATT_EXECUTE_WRITE_RESPONSE = 0x19;
export const ATT_HANDLE_VALUE_NOTIFICATION = 0x1b;
export const ATT_HANDLE_VALUE_INDICATION = 0x1d;
export const ATT_HANDLE_VALUE_CONFIRMATION = 0x1e;
export const ATT_READ_MULTIPLE_VARIABLE_REQ = 0x20;
export const ATT_READ_MULTIPLE_VARIABLE_RSP = 0x21;
export const ATT_MULTIPLE_HANDLE_VALUE_NTF = 0x23;
export const ATT_WRITE_COMMAND = 0x52;
export const ATT_SIGNED_WRITE_COMMAND = 0xd2;

/** Default ATT_MTU on LE (Vol 3 Part F 3.2.8). */
export const ATT_DEFAULT_MTU = 23;

// ---- GATT attribute types (Vol 3 Part G 3, Assigned Numbers) ----
export const GATT_PRIMARY_SERVICE_UUID = 0x2800;
export const GATT_SECONDARY_SERVICE_UUID = 0x2801;
export const GATT_INCLUDE_SERVICE_UUID = 0x2802;
export const GATT_CHARACTERISTICS_UUID = 0x2803;
export const GATT_CLIENT_CHARACTERISTICS_CONFIGURATION = 0x2902;

/** The Bluetooth Base UUID 0000xxxx-0000-1000-8000-00805F9B34FB, big endian (display order). */
const BASE_UUID = Uint8Array.from([0, 0, 0, 0, 0, 0, 0x10, 0x00, 0x80, 0x00, 0x00, 0x80, 0x5f, 0x9b, 0x34, 0xfb]);

/** BTstack's uuid_add_bluetooth_prefix: the 128-bit form (big endian) of a 16-bit UUID, into out[0..16). */
export function uuid_add_bluetooth_prefix(out: Uint8Array, uuid16: number): void {
  out.set(BASE_UUID, 0);
  out[2] = (uuid16 >> 8) & 0xff;
  out[3] = uuid16 & 0xff;
}

/** BTstack's uuid_has_bluetooth_prefix: whether a big-endian UUID128 is the Base UUID with a 16/32-bit value. */
export function uuid_has_bluetooth_prefix(uuid128: Uint8Array): boolean {
  for (let i = 4; i < 16; i++) if (uuid128[i] !== BASE_UUID[i]) return false;
  return true;
}

/** Reverse `n` bytes of src[from..] into dst[to..] (little endian <-> big endian). */
export function att_reverse(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  for (let i = 0; i < n; i++) dst[to + i] = src[from + n - 1 - i]!;
}

// ---- request encoders (client side) ----

/** opcode, start handle, end handle (Find Information Request, 3.4.3.1): 5 octets. */
export function att_encode_handle_range(buf: Uint8Array, opcode: number, start: number, end: number): number {
  if (buf.length < 5) return 0;
  buf[0] = opcode;
  little_endian_store_16(buf, 1, start);
  little_endian_store_16(buf, 3, end);
  return 5;
}

/**
 * Read By Type / Read By Group Type Request (3.4.4.1, 3.4.4.9): opcode, start, end, a 16-bit type
 * (7 octets) or a 128-bit one (21 octets; `uuid128` big endian, sent little endian).
 */
export function att_encode_read_by_type(
  buf: Uint8Array,
  opcode: number,
  start: number,
  end: number,
  uuid16: number,
  uuid128: Uint8Array | null,
): number {
  const len = uuid128 ? 21 : 7;
  if (buf.length < len) return 0;
  att_encode_handle_range(buf, opcode, start, end);
  if (uuid128) att_reverse(uuid128, 0, buf, 5, 16);
  else little_endian_store_16(buf, 5, uuid16);
  return len;
}

/** Find By Type Value Request (3.4.3.3): opcode, start, end, attribute type (16 bit), value. */
export function att_encode_find_by_type_value(
  buf: Uint8Array,
  start: number,
  end: number,
  type: number,
  value: Uint8Array,
  value_len: number,
): number {
  if (buf.length < 7 + value_len) return 0;
  att_encode_handle_range(buf, ATT_FIND_BY_TYPE_VALUE_REQUEST, start, end);
  little_endian_store_16(buf, 5, type);
  buf.set(value.subarray(0, value_len), 7);
  return 7 + value_len;
}

/** opcode + handle (Read Request 3.4.4.3): 3 octets. */
export function att_encode_handle(buf: Uint8Array, opcode: number, handle: number): number {
  if (buf.length < 3) return 0;
  buf[0] = opcode;
  little_endian_store_16(buf, 1, handle);
  return 3;
}

/** opcode, handle, offset (Read Blob Request 3.4.4.5): 5 octets. */
export function att_encode_handle_offset(buf: Uint8Array, opcode: number, handle: number, offset: number): number {
  return att_encode_handle_range(buf, opcode, handle, offset);
}

/** Read Multiple Request (3.4.4.7): opcode, handles. */
export function att_encode_read_multiple(buf: Uint8Array, handles: readonly number[]): number {
  const len = 1 + 2 * handles.length;
  if (buf.length < len) return 0;
  buf[0] = ATT_READ_MULTIPLE_REQUEST;
  for (let i = 0; i < handles.length; i++) little_endian_store_16(buf, 1 + 2 * i, handles[i]!);
  return len;
}

/** Write Request / Write Command (3.4.5.1, 3.4.5.3): opcode, handle, value. */
export function att_encode_write(
  buf: Uint8Array,
  opcode: number,
  handle: number,
  value: Uint8Array,
  from: number,
  len: number,
): number {
  if (buf.length < 3 + len) return 0;
  att_encode_handle(buf, opcode, handle);
  buf.set(value.subarray(from, from + len), 3);
  return 3 + len;
}

/** Prepare Write Request (3.4.6.1): opcode, handle, offset, part of `value` from `offset`. */
export function att_encode_prepare_write(
  buf: Uint8Array,
  handle: number,
  offset: number,
  value: Uint8Array,
  len: number,
): number {
  if (buf.length < 5 + len) return 0;
  att_encode_handle_range(buf, ATT_PREPARE_WRITE_REQUEST, handle, offset);
  buf.set(value.subarray(offset, offset + len), 5);
  return 5 + len;
}

/** Execute Write Request (3.4.6.3): flags 0x00 cancel, 0x01 write. */
export function att_encode_execute_write(buf: Uint8Array, flags: number): number {
  if (buf.length < 2) return 0;
  buf[0] = ATT_EXECUTE_WRITE_REQUEST;
  buf[1] = flags;
  return 2;
}

/** Exchange MTU Request (3.4.2.1): Client Rx MTU. */
export function att_encode_exchange_mtu(buf: Uint8Array, opcode: number, mtu: number): number {
  return att_encode_handle(buf, opcode, mtu);
}

/** Handle Value Confirmation (3.4.7.3): one octet. */
export function att_encode_confirmation(buf: Uint8Array): number {
  if (buf.length < 1) return 0;
  buf[0] = ATT_HANDLE_VALUE_CONFIRMATION;
  return 1;
}

/** A little-endian 16-bit field of a received PDU, or `fallback` when it lies past `size`. */
export function att_read_16(pdu: Uint8Array, pos: number, size: number, fallback = 0): number {
  return pos >= 0 && pos + 2 <= size && pos + 2 <= pdu.length ? little_endian_read_16(pdu, pos) : fallback;
}
