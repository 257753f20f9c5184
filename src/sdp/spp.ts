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
 * Sequences take the shortest length field (0x35 with an 8-bit length for everything but huge
 * names). BTstack's builder writes 16-bit lengths (0x36) instead; both are valid, but Wireshark's
 * SDP dissector (4.0) misreads protocol descriptors inside 0x36 sequences (it counts the header
 * against the sequence length, loses the RFCOMM channel and reports a malformed packet when the
 * list ends a PDU), so records made here decode correctly in captures.
 */
import { de, de_encode_value } from './data-element.js';
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

function build(service: Uint8Array, handle: number, uuid128: Uint8Array | null, channel: number, name: string): number {
  if (!(service instanceof Uint8Array)) throw new TypeError('spp_create_sdp_record: service must be a Uint8Array');
  if (!Number.isInteger(channel) || channel < 1 || channel > 30)
    throw new TypeError(`spp_create_sdp_record: RFCOMM channel ${channel} is not 1-30`);
  if (typeof name !== 'string') throw new TypeError('spp_create_sdp_record: name must be a string');
  if (uuid128 && (!(uuid128 instanceof Uint8Array) || uuid128.length < 16))
    throw new TypeError('spp_create_custom_sdp_record: service_uuid128 must be 16 octets');
  const serviceClass = uuid128 ? de.uuid128(uuid128.subarray(0, 16)) : de.uuid16(BLUETOOTH_SERVICE_CLASS_SERIAL_PORT);
  const record = de.des(
    de.uint16(BLUETOOTH_ATTRIBUTE_SERVICE_RECORD_HANDLE),
    de.uint32(handle >>> 0),
    de.uint16(BLUETOOTH_ATTRIBUTE_SERVICE_CLASS_ID_LIST),
    de.des(serviceClass),
    de.uint16(BLUETOOTH_ATTRIBUTE_PROTOCOL_DESCRIPTOR_LIST),
    de.des(de.des(de.uuid16(BLUETOOTH_PROTOCOL_L2CAP)), de.des(de.uuid16(BLUETOOTH_PROTOCOL_RFCOMM), de.uint8(channel))),
    de.uint16(BLUETOOTH_ATTRIBUTE_BROWSE_GROUP_LIST),
    de.des(de.uuid16(BLUETOOTH_ATTRIBUTE_PUBLIC_BROWSE_ROOT)),
    de.uint16(BLUETOOTH_ATTRIBUTE_LANGUAGE_BASE_ATTRIBUTE_ID_LIST),
    de.des(de.uint16(SDP_LANGUAGE_ENGLISH), de.uint16(SDP_CHARACTER_ENCODING_UTF8), de.uint16(SDP_PRIMARY_LANGUAGE_BASE)),
    de.uint16(BLUETOOTH_ATTRIBUTE_BLUETOOTH_PROFILE_DESCRIPTOR_LIST),
    de.des(de.des(de.uuid16(BLUETOOTH_SERVICE_CLASS_SERIAL_PORT), de.uint16(SPP_PROFILE_VERSION))),
    de.uint16(SDP_ATTRIBUTE_SERVICE_NAME),
    de.text(name),
  );
  return de_encode_value(service, 0, record);
}

/**
 * Write the SPP record into `service` (BTstack's spp_create_sdp_record). Returns the record's
 * size, or a negative error (DE_ERROR_NO_ROOM when the buffer is too small, nothing written;
 * 80 octets plus the UTF-8 name are enough, 96 with a custom UUID). Throws a TypeError for a channel outside 1-30 or a wrong argument type.
 */
export function spp_create_sdp_record(
  service: Uint8Array,
  service_record_handle: number,
  rfcomm_channel: number,
  name: string,
): number {
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
