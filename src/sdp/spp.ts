/**
 * Serial Port Profile service records (BTstack's spp_server.c API), as phones and PCs look for
 * them (SPP 1.2 section 7, Core Vol 3 Part B 5.1):
 *
 *   0x0000 ServiceRecordHandle            uint32
 *   0x0001 ServiceClassIDList             { UUID16 0x1101 SerialPort }  (or the custom UUID128)
 *   0x0004 ProtocolDescriptorList         { { UUID16 L2CAP }, { UUID16 RFCOMM, uint8 channel } }
 *   0x0005 BrowseGroupList                { UUID16 0x1002 PublicBrowseRoot }
 *   0x0006 LanguageBaseAttributeIDList    { 0x656e "en", 0x006a UTF-8, 0x0100 }
 *   0x0009 BluetoothProfileDescriptorList { { UUID16 SerialPort, uint16 0x0102 (version 1.2) } }
 *   0x0100 ServiceName                    text (UTF-8)
 *
 * Sequences use 16-bit lengths (0x36) as BTstack's builder does.
 */
import {
  DE_SIZE_8,
  DE_SIZE_16,
  DE_SIZE_32,
  DE_STRING,
  DE_UINT,
  DE_UUID,
  DE_ERROR_INVALID_SIZE,
  de_add_data,
  de_add_number,
  de_add_uuid128,
  de_create_sequence,
  de_get_len,
  de_pop_sequence,
  de_push_sequence,
} from './data-element.js';
import { BLUETOOTH_PROTOCOL_L2CAP, BLUETOOTH_PROTOCOL_RFCOMM } from '../codes/v1.4.js';
import {
  BLUETOOTH_ATTRIBUTE_BLUETOOTH_PROFILE_DESCRIPTOR_LIST,
  BLUETOOTH_ATTRIBUTE_BROWSE_GROUP_LIST,
  BLUETOOTH_ATTRIBUTE_LANGUAGE_BASE_ATTRIBUTE_ID_LIST,
  BLUETOOTH_ATTRIBUTE_PROTOCOL_DESCRIPTOR_LIST,
  BLUETOOTH_ATTRIBUTE_PUBLIC_BROWSE_ROOT,
  BLUETOOTH_ATTRIBUTE_SERVICE_CLASS_ID_LIST,
  BLUETOOTH_ATTRIBUTE_SERVICE_RECORD_HANDLE,
  BLUETOOTH_SERVICE_CLASS_SERIAL_PORT,
  SDP_ATTRIBUTE_SERVICE_NAME,
  SDP_CHARACTER_ENCODING_UTF8,
  SDP_LANGUAGE_ENGLISH,
  SDP_PRIMARY_LANGUAGE_BASE,
} from './constants.js';

/** SPP version 1.2 in the profile descriptor. */
export const SPP_PROFILE_VERSION = 0x0102;

/** Throws when a builder step failed (caught below and turned into the return value). */
class BuildError extends Error {
  constructor(readonly code: number) {
    super(`sdp record builder: ${code}`);
  }
}

function ok(r: number): number {
  if (r < 0) throw new BuildError(r);
  return r;
}

function build(service: Uint8Array, handle: number, uuid128: Uint8Array | null, channel: number, name: string): number {
  if (!(service instanceof Uint8Array)) throw new TypeError('spp_create_sdp_record: service must be a Uint8Array');
  if (!Number.isInteger(channel) || channel < 1 || channel > 30) throw new TypeError(`spp_create_sdp_record: RFCOMM channel ${channel} is not 1-30`);
  if (typeof name !== 'string') throw new TypeError('spp_create_sdp_record: name must be a string');
  if (uuid128 && (!(uuid128 instanceof Uint8Array) || uuid128.length < 16)) throw new TypeError('spp_create_custom_sdp_record: service_uuid128 must be 16 octets');
  try {
    ok(de_create_sequence(service, 0));
    ok(de_add_number(service, 0, DE_UINT, DE_SIZE_16, BLUETOOTH_ATTRIBUTE_SERVICE_RECORD_HANDLE));
    ok(de_add_number(service, 0, DE_UINT, DE_SIZE_32, handle >>> 0));

    ok(de_add_number(service, 0, DE_UINT, DE_SIZE_16, BLUETOOTH_ATTRIBUTE_SERVICE_CLASS_ID_LIST));
    let attr = ok(de_push_sequence(service, 0));
    if (uuid128) ok(de_add_uuid128(service, attr, uuid128));
    else ok(de_add_number(service, attr, DE_UUID, DE_SIZE_16, BLUETOOTH_SERVICE_CLASS_SERIAL_PORT));
    ok(de_pop_sequence(service, 0, attr));

    ok(de_add_number(service, 0, DE_UINT, DE_SIZE_16, BLUETOOTH_ATTRIBUTE_PROTOCOL_DESCRIPTOR_LIST));
    attr = ok(de_push_sequence(service, 0));
    const l2cap = ok(de_push_sequence(service, attr));
    ok(de_add_number(service, l2cap, DE_UUID, DE_SIZE_16, BLUETOOTH_PROTOCOL_L2CAP));
    ok(de_pop_sequence(service, attr, l2cap));
    const rfcomm = ok(de_push_sequence(service, attr));
    ok(de_add_number(service, rfcomm, DE_UUID, DE_SIZE_16, BLUETOOTH_PROTOCOL_RFCOMM));
    ok(de_add_number(service, rfcomm, DE_UINT, DE_SIZE_8, channel));
    ok(de_pop_sequence(service, attr, rfcomm));
    ok(de_pop_sequence(service, 0, attr));

    ok(de_add_number(service, 0, DE_UINT, DE_SIZE_16, BLUETOOTH_ATTRIBUTE_BROWSE_GROUP_LIST));
    attr = ok(de_push_sequence(service, 0));
    ok(de_add_number(service, attr, DE_UUID, DE_SIZE_16, BLUETOOTH_ATTRIBUTE_PUBLIC_BROWSE_ROOT));
    ok(de_pop_sequence(service, 0, attr));

    ok(de_add_number(service, 0, DE_UINT, DE_SIZE_16, BLUETOOTH_ATTRIBUTE_LANGUAGE_BASE_ATTRIBUTE_ID_LIST));
    attr = ok(de_push_sequence(service, 0));
    ok(de_add_number(service, attr, DE_UINT, DE_SIZE_16, SDP_LANGUAGE_ENGLISH));
    ok(de_add_number(service, attr, DE_UINT, DE_SIZE_16, SDP_CHARACTER_ENCODING_UTF8));
    ok(de_add_number(service, attr, DE_UINT, DE_SIZE_16, SDP_PRIMARY_LANGUAGE_BASE));
    ok(de_pop_sequence(service, 0, attr));

    ok(de_add_number(service, 0, DE_UINT, DE_SIZE_16, BLUETOOTH_ATTRIBUTE_BLUETOOTH_PROFILE_DESCRIPTOR_LIST));
    attr = ok(de_push_sequence(service, 0));
    const profile = ok(de_push_sequence(service, attr));
    ok(de_add_number(service, profile, DE_UUID, DE_SIZE_16, BLUETOOTH_SERVICE_CLASS_SERIAL_PORT));
    ok(de_add_number(service, profile, DE_UINT, DE_SIZE_16, SPP_PROFILE_VERSION));
    ok(de_pop_sequence(service, attr, profile));
    ok(de_pop_sequence(service, 0, attr));

    ok(de_add_number(service, 0, DE_UINT, DE_SIZE_16, SDP_ATTRIBUTE_SERVICE_NAME));
    const text = new TextEncoder().encode(name);
    if (text.length > 0xffff) return DE_ERROR_INVALID_SIZE;
    ok(de_add_data(service, 0, DE_STRING, text));
    return de_get_len(service, 0);
  } catch (e) {
    if (e instanceof BuildError) return e.code;
    throw e;
  }
}

/**
 * Write the SPP record into `service` (BTstack's spp_create_sdp_record). Returns the record's
 * size, or a negative error (DE_ERROR_NO_ROOM when the buffer is too small; 150 octets plus the
 * name are always enough). Throws a TypeError for a channel outside 1-30 or a wrong argument type.
 */
export function spp_create_sdp_record(service: Uint8Array, service_record_handle: number, rfcomm_channel: number, name: string): number {
  return build(service, service_record_handle, null, rfcomm_channel, name);
}

/** As spp_create_sdp_record with a custom 128-bit service class UUID (e.g. for Android apps). */
export function spp_create_custom_sdp_record(
  service: Uint8Array,
  service_record_handle: number,
  service_uuid128: Uint8Array,
  rfcomm_channel: number,
  name: string,
): number {
  return build(service, service_record_handle, service_uuid128, rfcomm_channel, name);
}
