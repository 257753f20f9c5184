import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from '../../../src/core/bytes.js';
import {
  BLUETOOTH_PROTOCOL_L2CAP,
  BLUETOOTH_PROTOCOL_RFCOMM,
  ERROR_CODE_MEMORY_CAPACITY_EXCEEDED,
} from '../../../src/codes/v1.4.js';
import {
  DE_BOOL,
  DE_DEA,
  DE_DES,
  DE_ERROR_INVALID_SIZE,
  DE_ERROR_NO_ROOM,
  DE_ERROR_RESERVED_TYPE,
  DE_ERROR_TOO_DEEP,
  DE_ERROR_TRUNCATED,
  DE_INT,
  DE_MAX_DEPTH,
  DE_NIL,
  DE_SIZE_16,
  DE_SIZE_32,
  DE_SIZE_64,
  DE_SIZE_8,
  DE_SIZE_VAR_16,
  DE_SIZE_VAR_32,
  DE_SIZE_VAR_8,
  DE_STRING,
  DE_UINT,
  DE_URL,
  DE_UUID,
  DesIterator,
  de,
  de_add_data,
  de_add_element,
  de_add_number,
  de_add_uuid128,
  de_create_sequence,
  de_decode_value,
  de_element_get_uint16,
  de_element_get_uint32,
  de_element_size,
  de_encode_to_bytes,
  de_encode_value,
  de_get_data_size,
  de_get_element_type,
  de_get_header_size,
  de_get_len,
  de_get_len_safe,
  de_get_normalized_uuid,
  de_get_size_type,
  de_get_string,
  de_get_string_value,
  de_get_uuid32,
  de_pop_sequence,
  de_push_sequence,
  de_store_descriptor_with_len,
  de_traverse_sequence,
  de_uuid_equal,
  de_uuid_equals_uuid128,
  de_validate,
  des_iterator_get_element,
  des_iterator_get_size,
  des_iterator_get_type,
  des_iterator_has_more,
  des_iterator_init,
  des_iterator_is_complete,
  des_iterator_next,
  sdp_attribute_list_contains_id,
  sdp_attribute_list_valid,
  sdp_create_record,
  sdp_filter_attributes_in_attribute_id_list,
  sdp_get_attribute_value_for_attribute_id,
  sdp_get_filtered_size,
  sdp_normalize_uuid,
  sdp_record_matches_service_search_pattern,
  sdp_service_search_pattern_for_uuid128,
  sdp_service_search_pattern_for_uuid16,
  sdp_set_attribute_value_for_attribute_id,
  sdp_valid_service_search_pattern,
  uuid128_from_string,
  uuid_has_bluetooth_prefix,
} from '../../../src/sdp/data-element.js';

// Assigned numbers used below (Bluetooth Assigned Numbers, SDP): attribute IDs and UUIDs.
const ATTR_SERVICE_RECORD_HANDLE = 0x0000;
const ATTR_SERVICE_CLASS_ID_LIST = 0x0001;
const ATTR_PROTOCOL_DESCRIPTOR_LIST = 0x0004;
const ATTR_BROWSE_GROUP_LIST = 0x0005;
const ATTR_SERVICE_NAME = 0x0100;
const UUID_SERIAL_PORT = 0x1101;
const UUID_PUBLIC_BROWSE_ROOT = 0x1002;

const encHex = (v: Parameters<typeof de_encode_to_bytes>[0]) => hex(de_encode_to_bytes(v));

test('every type with its header octet (type << 3 | size index), worked out from the spec', () => {
  assert.is(encHex(de.nil()), '00');
  assert.is(encHex(de.uint8(0xab)), '08 ab');
  assert.is(encHex(de.uint16(0x1234)), '09 12 34');
  assert.is(encHex(de.uint32(0x89abcdef)), '0a 89 ab cd ef');
  assert.is(encHex(de.uint64(0x0102030405060708n)), '0b 01 02 03 04 05 06 07 08');
  const b16 = new Uint8Array(16).map((_, i) => i);
  assert.is(encHex(de.uint128(b16)), '0c ' + hex(b16));
  assert.is(encHex(de.int8(-1)), '10 ff');
  assert.is(encHex(de.int16(-2)), '11 ff fe');
  assert.is(encHex(de.int32(-0x12345678)), '12 ed cb a9 88');
  assert.is(encHex(de.int64(-2n)), '13 ff ff ff ff ff ff ff fe');
  assert.is(encHex(de.int128(b16)), '14 ' + hex(b16));
  assert.is(encHex(de.uuid16(0x1101)), '19 11 01');
  assert.is(encHex(de.uuid32(0x00011101)), '1a 00 01 11 01');
  assert.is(encHex(de.uuid128('00001101-0000-1000-8000-00805F9B34FB')), '1c 00 00 11 01 00 00 10 00 80 00 00 80 5f 9b 34 fb');
  assert.is(encHex(de.text('SPP')), '25 03 53 50 50');
  assert.is(encHex(de.bool(true)), '28 01');
  assert.is(encHex(de.bool(false)), '28 00');
  assert.is(encHex(de.des(de.uint8(1), de.uint8(2))), '35 04 08 01 08 02');
  assert.is(encHex(de.dea(de.uuid16(0x1101), de.uuid16(0x1102))), '3d 06 19 11 01 19 11 02');
  assert.is(encHex(de.url('http://a')), '45 08 68 74 74 70 3a 2f 2f 61');
  assert.is(encHex(de.des()), '35 00');
});

test('size descriptors 5/6/7: 8, 16 and 32-bit lengths, chosen by length or forced', () => {
  const t256 = de_encode_to_bytes(de.text(new Uint8Array(256).fill(0x41)));
  assert.is(hex(t256.subarray(0, 4)), '26 01 00 41');
  assert.is(t256.length, 259);
  const t70000 = de_encode_to_bytes(de.url(new Uint8Array(70000)));
  assert.is(hex(t70000.subarray(0, 5)), '47 00 01 11 70'); // 70000 = 0x00011170
  assert.is(t70000.length, 70005);
  assert.is(encHex(de.text('A', DE_SIZE_VAR_16)), '26 00 01 41');
  assert.is(encHex(de.text('A', DE_SIZE_VAR_32)), '27 00 00 00 01 41');
  assert.is(encHex(de.des_sized(DE_SIZE_VAR_16, de.uint8(7))), '36 00 02 08 07');
  assert.is(encHex(de.des_sized(DE_SIZE_VAR_32, de.uint8(7))), '37 00 00 00 02 08 07');
  const dea300 = de_encode_to_bytes({ type: DE_DEA, size: -1, items: Array.from({ length: 100 }, () => de.uuid16(1)) });
  assert.is(hex(dea300.subarray(0, 3)), '3e 01 2c'); // 300 octets
  assert.is(hex(de_encode_to_bytes(de.text('A', DE_SIZE_VAR_8))), '25 01 41');
  assert.is(de_encode_value(new Uint8Array(400), 0, de.text(new Uint8Array(300), DE_SIZE_VAR_8)), DE_ERROR_INVALID_SIZE);
});

test('SPP record attributes as the spec lays them out', () => {
  // ServiceClassIDList = DES { UUID16 SerialPort }
  const scl = new Uint8Array(32);
  const n = sdp_create_record(scl, 0, [[ATTR_SERVICE_CLASS_ID_LIST, de.des(de.uuid16(UUID_SERIAL_PORT))]]);
  // record DES with 16-bit length: 36 00 08 | 09 00 01 | 35 03 19 11 01
  assert.is(hex(scl, n), '36 00 08 09 00 01 35 03 19 11 01');
  // ProtocolDescriptorList = DES { DES { UUID L2CAP }, DES { UUID RFCOMM, uint8 channel } }
  const pdl = de.des(de.des(de.uuid16(BLUETOOTH_PROTOCOL_L2CAP)), de.des(de.uuid16(BLUETOOTH_PROTOCOL_RFCOMM), de.uint8(5)));
  assert.is(encHex(pdl), '35 0c 35 03 19 01 00 35 05 19 00 03 08 05');
});

test('BTstack-style builder produces the same bytes as BTstack records (16-bit sequence lengths)', () => {
  const buf = new Uint8Array(128);
  assert.is(de_create_sequence(buf, 0), 3);
  assert.is(de_add_number(buf, 0, DE_UINT, DE_SIZE_16, ATTR_SERVICE_RECORD_HANDLE), 0);
  assert.is(de_add_number(buf, 0, DE_UINT, DE_SIZE_32, 0x10001), 0);
  assert.is(de_add_number(buf, 0, DE_UINT, DE_SIZE_16, ATTR_SERVICE_CLASS_ID_LIST), 0);
  const scl = de_push_sequence(buf, 0);
  assert.ok(scl > 0);
  assert.is(de_add_number(buf, scl, DE_UUID, DE_SIZE_16, UUID_SERIAL_PORT), 0);
  assert.is(de_pop_sequence(buf, 0, scl), 0);
  assert.is(de_add_number(buf, 0, DE_UINT, DE_SIZE_16, ATTR_PROTOCOL_DESCRIPTOR_LIST), 0);
  const pdl = de_push_sequence(buf, 0);
  const l2 = de_push_sequence(buf, pdl);
  de_add_number(buf, l2, DE_UUID, DE_SIZE_16, BLUETOOTH_PROTOCOL_L2CAP);
  de_pop_sequence(buf, pdl, l2);
  const rf = de_push_sequence(buf, pdl);
  de_add_number(buf, rf, DE_UUID, DE_SIZE_16, BLUETOOTH_PROTOCOL_RFCOMM);
  de_add_number(buf, rf, DE_UINT, DE_SIZE_8, 1);
  de_pop_sequence(buf, pdl, rf);
  de_pop_sequence(buf, 0, pdl);
  de_add_number(buf, 0, DE_UINT, DE_SIZE_16, ATTR_SERVICE_NAME);
  assert.is(de_add_data(buf, 0, DE_STRING, new TextEncoder().encode('SPP Counter')), 0);
  const expected =
    '36 00 35 ' +
    '09 00 00 0a 00 01 00 01 ' +
    '09 00 01 36 00 03 19 11 01 ' +
    '09 00 04 36 00 0e 36 00 03 19 01 00 36 00 05 19 00 03 08 01 ' +
    '09 01 00 25 0b 53 50 50 20 43 6f 75 6e 74 65 72';
  assert.is(hex(buf, de_get_len(buf, 0)), expected);
  assert.is(de_get_len(buf, 0), 3 + 0x35);
  assert.is(de_validate(buf, 0), 3 + 0x35);
  // uuid128, bool, int and raw element appends
  const b2 = new Uint8Array(64);
  de_create_sequence(b2, 0);
  de_add_uuid128(b2, 0, uuid128_from_string('00001101-0000-1000-8000-00805F9B34FB')!);
  de_add_number(b2, 0, DE_BOOL, DE_SIZE_8, 1);
  de_add_number(b2, 0, DE_INT, DE_SIZE_8, -1);
  de_add_number(b2, 0, DE_UINT, DE_SIZE_64, 0x0102030405060708n);
  de_add_element(b2, 0, fromHex('35 02 08 09'));
  assert.is(
    hex(b2, de_get_len(b2, 0)),
    '36 00 22 1c 00 00 11 01 00 00 10 00 80 00 00 80 5f 9b 34 fb 28 01 10 ff 0b 01 02 03 04 05 06 07 08 35 02 08 09',
  );
});

test('builder never writes past the buffer and reports no room', () => {
  const buf = new Uint8Array(6).fill(0xee);
  assert.is(de_create_sequence(buf, 0), 3);
  assert.is(de_add_number(buf, 0, DE_UINT, DE_SIZE_32, 1), DE_ERROR_NO_ROOM);
  assert.is(DE_ERROR_NO_ROOM, -ERROR_CODE_MEMORY_CAPACITY_EXCEEDED);
  assert.is(hex(buf), '36 00 00 ee ee ee');
  assert.is(de_add_number(buf, 0, DE_UINT, DE_SIZE_16, 0x0102), 0);
  assert.is(hex(buf), '36 00 03 09 01 02');
  assert.is(de_push_sequence(buf, 0), DE_ERROR_NO_ROOM);
  assert.is(de_add_data(buf, 0, DE_STRING, new Uint8Array(1)), DE_ERROR_NO_ROOM);
  assert.is(de_create_sequence(new Uint8Array(2), 0), DE_ERROR_NO_ROOM);
  assert.is(de_add_number(new Uint8Array(9), 0, DE_UUID, DE_SIZE_8, 1), DE_ERROR_INVALID_SIZE);
  assert.is(de_add_number(new Uint8Array(9), 0, DE_STRING, DE_SIZE_8, 1), DE_ERROR_INVALID_SIZE);
  // an 8-bit sequence cannot grow past 255 octets
  const b = new Uint8Array(600);
  de_store_descriptor_with_len(b, 0, DE_DES, DE_SIZE_VAR_8, 0);
  assert.is(de_add_data(b, 0, DE_STRING, new Uint8Array(250)), 0);
  assert.is(de_add_data(b, 0, DE_STRING, new Uint8Array(10)), DE_ERROR_INVALID_SIZE);
  assert.is(de_encode_value(new Uint8Array(4), 0, de.uint32(1)), DE_ERROR_NO_ROOM);
  assert.is(de_store_descriptor_with_len(new Uint8Array(8), 0, DE_DES, DE_SIZE_VAR_8, 256), DE_ERROR_INVALID_SIZE);
});

test('header accessors', () => {
  const b = fromHex('26 01 00');
  assert.is(de_get_element_type(b, 0), DE_STRING);
  assert.is(de_get_size_type(b, 0), DE_SIZE_VAR_16);
  assert.is(de_get_header_size(b, 0), 3);
  assert.is(de_get_data_size(b, 0), 256);
  assert.is(de_get_len(b, 0), 259);
  assert.is(de_get_len_safe(b, 0), 0); // data not present
  assert.is(de_get_data_size(fromHex('00'), 0), 0); // nil: no data
  assert.is(de_get_data_size(fromHex('0c'), 0), 16);
  assert.is(de_get_header_size(fromHex('47'), 0), 5);
  assert.is(de_get_len_safe(fromHex('09 00 01 ff'), 0), 3);
});

test('validation: every header octet against the spec table of allowed size indices', () => {
  // allowed size indices per type (Core Vol 3 Part B 3.2/3.3)
  const allowed: Record<number, number[]> = {
    [DE_NIL]: [0],
    [DE_UINT]: [0, 1, 2, 3, 4],
    [DE_INT]: [0, 1, 2, 3, 4],
    [DE_UUID]: [1, 2, 4],
    [DE_STRING]: [5, 6, 7],
    [DE_BOOL]: [0],
    [DE_DES]: [5, 6, 7],
    [DE_DEA]: [5, 6, 7],
    [DE_URL]: [5, 6, 7],
  };
  const dataLen = [1, 2, 4, 8, 16];
  for (let h = 0; h < 256; h++) {
    const type = h >> 3;
    const s = h & 7;
    // a well-sized element for the header: fixed data, or a var length of 0
    const body =
      s < 5 ? new Uint8Array(type === DE_NIL ? 0 : dataLen[s]!) : new Uint8Array([0, 0, 0, 0].slice(0, [1, 2, 4][s - 5]!));
    const el = new Uint8Array(1 + body.length);
    el[0] = h;
    el.set(body, 1);
    const r = de_validate(el, 0);
    if (type > 8) assert.is(r, DE_ERROR_RESERVED_TYPE, `0x${h.toString(16)}`);
    else if (allowed[type]!.includes(s)) assert.is(r, el.length, `0x${h.toString(16)}`);
    else assert.is(r, DE_ERROR_INVALID_SIZE, `0x${h.toString(16)}`);
  }
});

test('validation: lying lengths, truncation, children overrunning their parent, depth', () => {
  assert.is(de_validate(fromHex('35 05 19 11 01'), 0), DE_ERROR_TRUNCATED); // says 5, has 3
  assert.is(de_validate(fromHex('35 03 35 05 19 11 01 00 00'), 0), DE_ERROR_TRUNCATED); // child runs past its parent
  assert.is(de_validate(fromHex('35 04 19 11 01'), 0), DE_ERROR_TRUNCATED);
  assert.is(de_validate(fromHex('35 04 19 11 01 19'), 0), DE_ERROR_TRUNCATED); // last child's header cut by the parent end
  assert.is(de_validate(fromHex('37 ff ff ff ff 00'), 0), DE_ERROR_TRUNCATED);
  assert.is(de_validate(fromHex('27 80 00 00'), 0), DE_ERROR_TRUNCATED); // length field itself truncated
  assert.is(de_validate(fromHex('26 00'), 0), DE_ERROR_TRUNCATED);
  assert.is(de_validate(fromHex('09 00'), 0), DE_ERROR_TRUNCATED);
  assert.is(de_validate(fromHex(''), 0), DE_ERROR_TRUNCATED);
  assert.is(de_validate(fromHex('35 02 18 00'), 0), DE_ERROR_INVALID_SIZE); // 1-octet UUID inside
  assert.is(de_validate(fromHex('35 01 48'), 0), DE_ERROR_RESERVED_TYPE);
  assert.is(de_validate(fromHex('09 00 01'), 0, 2), DE_ERROR_TRUNCATED); // end before buffer end
  assert.is(de_validate(fromHex('35 03 19 11 01'), 0), 5);
  // nesting: DE_MAX_DEPTH sequences are fine, one more is too deep
  const nest = (depth: number) => {
    const b = new Uint8Array(2 * depth);
    for (let i = 0; i < depth; i++) {
      b[2 * i] = 0x35;
      b[2 * i + 1] = 2 * (depth - i - 1);
    }
    return b;
  };
  assert.is(de_validate(nest(DE_MAX_DEPTH), 0), 2 * DE_MAX_DEPTH);
  assert.is(de_validate(nest(DE_MAX_DEPTH + 1), 0), DE_ERROR_TOO_DEEP);
  // absurd nesting (100,000 sequences with 32-bit lengths): an error, no stack overflow
  const deep = 100_000;
  const abs = new Uint8Array(5 * deep);
  for (let i = 0; i < deep; i++) {
    abs[5 * i] = 0x37;
    const len = 5 * (deep - i - 1);
    abs.set([len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff], 5 * i + 1);
  }
  assert.is(de_validate(abs, 0), DE_ERROR_TOO_DEEP);
  assert.is(de_decode_value(abs, 0), DE_ERROR_TOO_DEEP);
  assert.is(de_validate(nest(3), 0, undefined, 2), DE_ERROR_TOO_DEEP);
  assert.is(de_decode_value(nest(DE_MAX_DEPTH + 1), 0), DE_ERROR_TOO_DEEP);
  assert.is(de_element_size(fromHex('35 05 19 11 01'), 0), DE_ERROR_TRUNCATED);
});

test('decode to values and back', () => {
  const bytes = fromHex('35 20 00 08 ff 11 ff fe 19 11 01 1c 00 00 11 01 00 00 10 00 80 00 00 80 5f 9b 34 fb 28 01 3d 00 25 00');
  // 35 20: 32 octets of children
  const v = de_decode_value(bytes, 0);
  assert.ok(typeof v === 'object');
  if (typeof v !== 'object') return;
  assert.is(v.type, DE_DES);
  const items = v.items!;
  assert.is(items.length, 8);
  assert.is(items[0]!.type, DE_NIL);
  assert.is(items[1]!.num, 0xff);
  assert.is(items[2]!.num, -2);
  assert.is(items[3]!.num, 0x1101);
  assert.is(hex(items[4]!.bytes!), '00 00 11 01 00 00 10 00 80 00 00 80 5f 9b 34 fb');
  assert.is(items[5]!.num, 1);
  assert.is(items[6]!.items!.length, 0);
  assert.is(items[7]!.bytes!.length, 0);
  assert.is(hex(de_encode_to_bytes(v)), hex(bytes));
  const v64 = de_decode_value(fromHex('13 ff ff ff ff ff ff ff fe'), 0);
  assert.is(typeof v64 === 'object' && v64.num, -2n);
  assert.is(de_decode_value(fromHex('35 05 19'), 0), DE_ERROR_TRUNCATED);
});

test('value accessors: strings, uint16/32', () => {
  const b = fromHex('25 03 53 50 50 09 12 34 08 07 0a 00 01 00 00 19 11 01');
  assert.is(de_get_string(b, 0), 2);
  assert.is(de_get_string_value(b, 0), 'SPP');
  assert.is(de_get_string_value(b, 0, 4), null); // does not fit
  assert.is(de_get_string(b, 5), -1);
  assert.is(de_element_get_uint16(b, 5), 0x1234);
  assert.is(de_element_get_uint16(b, 8), 7);
  assert.is(de_element_get_uint16(b, 10), -1); // 32-bit
  assert.is(de_element_get_uint32(b, 10), 0x10000);
  assert.is(de_element_get_uint16(b, 15), -1); // a UUID
  assert.is(de_element_get_uint16(b, 5, 6), -1); // truncated by end
});

test('UUIDs: 16/32-bit forms equal their Base UUID 128-bit form', () => {
  const u128 = uuid128_from_string('00001101-0000-1000-8000-00805F9B34FB')!;
  const n = new Uint8Array(16);
  sdp_normalize_uuid(n, 0x1101);
  assert.is(hex(n), hex(u128));
  assert.ok(uuid_has_bluetooth_prefix(u128));
  const custom = uuid128_from_string('8ce255c0-200a-11e0-ac64-0800200c9a66')!;
  assert.not.ok(uuid_has_bluetooth_prefix(custom));
  const e16 = fromHex('19 11 01');
  const e32 = fromHex('1a 00 00 11 01');
  const e128 = fromHex('1c ' + hex(u128));
  const eCustom = fromHex('1c ' + hex(custom));
  assert.ok(de_uuid_equal(e16, 0, e128, 0));
  assert.ok(de_uuid_equal(e32, 0, e16, 0));
  assert.ok(de_uuid_equal(e128, 0, e32, 0));
  assert.not.ok(de_uuid_equal(e16, 0, eCustom, 0));
  assert.not.ok(de_uuid_equal(e16, 0, fromHex('19 11 02'), 0));
  assert.not.ok(de_uuid_equal(e16, 0, fromHex('09 11 01'), 0)); // a uint16 is not a UUID
  assert.is(de_get_uuid32(e128, 0), 0x1101);
  assert.is(de_get_uuid32(e32, 0), 0x1101);
  assert.is(de_get_uuid32(eCustom, 0), 0);
  assert.is(de_get_uuid32(fromHex('1a ff ff ff ff'), 0), 0xffffffff);
  const out = new Uint8Array(16);
  assert.ok(de_get_normalized_uuid(out, e32, 0));
  assert.is(hex(out), hex(u128));
  assert.not.ok(de_get_normalized_uuid(out, fromHex('1c 00 00'), 0));
  assert.is(uuid128_from_string('xyz'), null);
  // element against a 128-bit value, without normalising
  assert.ok(de_uuid_equals_uuid128(e16, 0, u128));
  assert.ok(de_uuid_equals_uuid128(e32, 0, u128));
  assert.ok(de_uuid_equals_uuid128(e128, 0, u128));
  assert.not.ok(de_uuid_equals_uuid128(e16, 0, custom));
  assert.ok(de_uuid_equals_uuid128(eCustom, 0, custom));
  assert.not.ok(de_uuid_equals_uuid128(fromHex('1a 00 01 11 01'), 0, u128)); // 0x00011101 != 0x00001101
  assert.ok(de_uuid_equals_uuid128(fromHex('1a 00 01 11 01'), 0, uuid128_from_string('00011101-0000-1000-8000-00805F9B34FB')!));
  assert.not.ok(de_uuid_equals_uuid128(fromHex('19 11'), 0, u128)); // truncated
});

test('DES iterator and traversal stop at broken children', () => {
  const b = fromHex('35 06 09 00 01 19 11 01 08 05');
  const it = new DesIterator();
  assert.ok(des_iterator_init(it, b, 0));
  const seen: string[] = [];
  while (des_iterator_has_more(it)) {
    seen.push(`${des_iterator_get_type(it)}/${des_iterator_get_size(it)}@${des_iterator_get_element(it)}`);
    des_iterator_next(it);
  }
  assert.equal(seen, ['1/2@2', '3/2@5']); // 08 05 lies outside the DES (length 6)
  assert.ok(des_iterator_is_complete(it));
  const broken = fromHex('35 04 09 00 01 09 ff ff');
  assert.ok(des_iterator_init(it, broken, 0, 6)); // DES fits [0, 6)
  let k = 0;
  while (des_iterator_has_more(it)) {
    k++;
    des_iterator_next(it);
  }
  assert.is(k, 1);
  assert.not.ok(des_iterator_is_complete(it)); // 09 at offset 5 cut by the DES end
  assert.ok(it.error);
  assert.not.ok(des_iterator_init(it, fromHex('09 00 01'), 0));
  assert.not.ok(des_iterator_has_more(it));
  const visited: number[] = [];
  assert.ok(de_traverse_sequence(fromHex('3d 04 08 01 08 02'), 0, (p) => void visited.push(p)));
  assert.equal(visited, [2, 4]);
  assert.not.ok(de_traverse_sequence(fromHex('35 03 08 01 08'), 0, () => {}));
});

function sppRecord(channel: number): Uint8Array {
  const buf = new Uint8Array(128);
  const n = sdp_create_record(buf, 0, [
    [ATTR_SERVICE_NAME, de.text('SPP Counter')],
    [
      ATTR_PROTOCOL_DESCRIPTOR_LIST,
      de.des(de.des(de.uuid16(BLUETOOTH_PROTOCOL_L2CAP)), de.des(de.uuid16(BLUETOOTH_PROTOCOL_RFCOMM), de.uint8(channel))),
    ],
    [ATTR_SERVICE_RECORD_HANDLE, de.uint32(0x10001)],
    [ATTR_SERVICE_CLASS_ID_LIST, de.des(de.uuid16(UUID_SERIAL_PORT))],
    [ATTR_BROWSE_GROUP_LIST, de.des(de.uuid16(UUID_PUBLIC_BROWSE_ROOT))],
  ]);
  assert.ok(n > 0);
  return buf.slice(0, n);
}

test('records: attributes sorted, found by id, handle rewritten in place, pattern matching', () => {
  const rec = sppRecord(3);
  assert.is(
    hex(rec),
    '36 00 39 ' +
      '09 00 00 0a 00 01 00 01 ' +
      '09 00 01 35 03 19 11 01 ' +
      '09 00 04 35 0c 35 03 19 01 00 35 05 19 00 03 08 03 ' +
      '09 00 05 35 03 19 10 02 ' +
      '09 01 00 25 0b 53 50 50 20 43 6f 75 6e 74 65 72',
  );
  const p = sdp_get_attribute_value_for_attribute_id(rec, 0, ATTR_PROTOCOL_DESCRIPTOR_LIST);
  assert.is(p, 22);
  assert.is(hex(rec.subarray(p, p + 2)), '35 0c');
  assert.is(sdp_get_attribute_value_for_attribute_id(rec, 0, 0x0009), -1);
  assert.is(de_get_string_value(rec, sdp_get_attribute_value_for_attribute_id(rec, 0, ATTR_SERVICE_NAME)), 'SPP Counter');
  assert.ok(sdp_set_attribute_value_for_attribute_id(rec, 0, ATTR_SERVICE_RECORD_HANDLE, 0x10005));
  assert.is(hex(rec.subarray(6, 11)), '0a 00 01 00 05');
  assert.not.ok(sdp_set_attribute_value_for_attribute_id(rec, 0, ATTR_SERVICE_CLASS_ID_LIST, 1)); // not a uint
  const pat = (s: string) => fromHex(s);
  assert.ok(sdp_record_matches_service_search_pattern(rec, 0, pat('35 03 19 11 01'), 0));
  assert.ok(sdp_record_matches_service_search_pattern(rec, 0, pat('35 06 19 01 00 19 00 03'), 0)); // L2CAP and RFCOMM
  assert.ok(
    sdp_record_matches_service_search_pattern(rec, 0, pat('35 11 1c 00 00 11 01 00 00 10 00 80 00 00 80 5f 9b 34 fb'), 0),
  );
  assert.not.ok(sdp_record_matches_service_search_pattern(rec, 0, pat('35 06 19 11 01 19 11 02'), 0)); // every UUID must match
  assert.not.ok(sdp_record_matches_service_search_pattern(rec, 0, pat('35 03 09 11 01'), 0)); // not a UUID
  // a lying record never matches and is never read past
  assert.is(sdp_get_attribute_value_for_attribute_id(fromHex('35 09 09 00 01 35 07 19 11 01'), 0, 1), -1);
  assert.is(sdp_get_attribute_value_for_attribute_id(fromHex('35 05 08 01 08 02 00'), 0, 1), -1); // 8-bit id
});

test('attribute ID lists and service search patterns', () => {
  const list = fromHex('35 0b 09 00 01 0a 00 04 00 06 09 01 00');
  assert.ok(sdp_attribute_list_valid(list, 0));
  for (const id of [0x0001, 0x0004, 0x0005, 0x0006, 0x0100]) assert.ok(sdp_attribute_list_contains_id(list, 0, id), `${id}`);
  for (const id of [0x0000, 0x0002, 0x0007, 0x00ff, 0xffff]) assert.not.ok(sdp_attribute_list_contains_id(list, 0, id), `${id}`);
  assert.ok(sdp_attribute_list_contains_id(fromHex('35 05 0a 00 00 ff ff'), 0, 0x1234));
  assert.not.ok(sdp_attribute_list_valid(fromHex('35 00'), 0)); // empty
  assert.not.ok(sdp_attribute_list_valid(fromHex('35 02 08 01'), 0)); // uint8
  assert.not.ok(sdp_attribute_list_valid(fromHex('35 05 0a 00 05 00 04'), 0)); // range start > end
  assert.not.ok(sdp_attribute_list_valid(fromHex('3d 03 09 00 01'), 0)); // DEA
  assert.not.ok(sdp_attribute_list_valid(fromHex('35 05 35 03 09 00 01'), 0)); // nested
  assert.not.ok(sdp_attribute_list_valid(fromHex('35 04 09 00 01'), 0)); // lying
  assert.ok(sdp_valid_service_search_pattern(fromHex('35 03 19 11 01'), 0));
  const twelve = de_encode_to_bytes(de.des(...Array.from({ length: 12 }, (_, i) => de.uuid16(i))));
  const thirteen = de_encode_to_bytes(de.des(...Array.from({ length: 13 }, (_, i) => de.uuid16(i))));
  assert.ok(sdp_valid_service_search_pattern(twelve, 0));
  assert.not.ok(sdp_valid_service_search_pattern(thirteen, 0));
  assert.not.ok(sdp_valid_service_search_pattern(fromHex('35 00'), 0));
  assert.not.ok(sdp_valid_service_search_pattern(fromHex('35 03 09 11 01'), 0));
  const b = new Uint8Array(24);
  assert.is(sdp_service_search_pattern_for_uuid16(b, 0, 0x1101), 5);
  assert.is(hex(b, 5), '35 03 19 11 01');
  assert.is(sdp_service_search_pattern_for_uuid128(b, 0, uuid128_from_string('00001101-0000-1000-8000-00805F9B34FB')!), 19);
  assert.is(hex(b, 19), '35 11 1c 00 00 11 01 00 00 10 00 80 00 00 80 5f 9b 34 fb');
});

test('attribute filtering: selected pairs in record order, sliced for continuation', () => {
  const rec = sppRecord(3);
  const ids = fromHex('35 06 09 00 01 09 01 00'); // ServiceClassIDList, ServiceName
  const expected = '09 00 01 35 03 19 11 01 09 01 00 25 0b 53 50 50 20 43 6f 75 6e 74 65 72';
  const total = sdp_get_filtered_size(rec, 0, ids, 0);
  assert.is(total, 24);
  const out = new Uint8Array(64);
  assert.is(sdp_filter_attributes_in_attribute_id_list(rec, 0, ids, 0, 0, 100, out, 0), 24);
  assert.is(hex(out, 24), expected);
  // slices of every size reassemble to the same stream
  for (const chunk of [1, 5, 7, 23]) {
    const parts: number[] = [];
    for (let off = 0; off < total;) {
      const o = new Uint8Array(chunk);
      const n = sdp_filter_attributes_in_attribute_id_list(rec, 0, ids, 0, off, chunk, o, 0);
      assert.ok(n > 0 && n <= chunk);
      parts.push(...o.subarray(0, n));
      off += n;
    }
    assert.is(hex(Uint8Array.from(parts)), expected);
  }
  assert.is(sdp_filter_attributes_in_attribute_id_list(rec, 0, ids, 0, total, 10, out, 0), 0);
  assert.is(sdp_filter_attributes_in_attribute_id_list(rec, 0, ids, 0, 999_999, 10, out, 0), 0);
  // all attributes
  assert.is(sdp_get_filtered_size(rec, 0, fromHex('35 05 0a 00 00 ff ff'), 0), rec.length - 3);
  // output buffer smaller than max_bytes: never written past
  const small = new Uint8Array(4);
  assert.is(sdp_filter_attributes_in_attribute_id_list(rec, 0, ids, 0, 0, 100, small, 1), 3);
});

test.run();
