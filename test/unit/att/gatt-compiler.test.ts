/**
 * The .gatt compiler against hand-worked att_db bytes (BTstack's layout, worked out per entry from
 * the format: [size LE16][flags LE16][handle LE16][type][value], size counting the whole entry)
 * and compile_gatt.py's handle names. Each expected line is one attribute; the comment says how
 * its flags were derived.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gatt_compile, type GattCompileResult } from '../../../src/att/gatt-compiler.js';
import { sm_aes_cmac } from '../../../src/sm/crypto.js';
import { hx, to_hex } from './helpers.js';

function compile_ok(text: string): GattCompileResult {
  const r = gatt_compile(text, { file: 'test.gatt' });
  assert.is(r.status, 0, JSON.stringify(r.diagnostics));
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  return r;
}

function check_bytes(r: GattCompileResult, expected: Uint8Array): void {
  assert.is(to_hex(r.profile_data), to_hex(expected));
}

// 128-bit UUIDs as stored (little endian: the written UUID's bytes reversed)
const FF10 = 'fb 34 9b 5f 80 00 00 80 00 10 00 00 10 ff 00 00'; // 0000FF10-0000-1000-8000-00805F9B34FB
const FF11 = 'fb 34 9b 5f 80 00 00 80 00 10 00 00 11 ff 00 00';
const S1234 = 'fb 34 9b 5f 80 00 00 80 00 10 00 00 34 12 00 00'; // 00001234-0000-1000-8000-00805F9B34FB

test('le_counter shape: GAP + GATT imports and a 128-bit service with READ | NOTIFY | DYNAMIC', () => {
  const r = compile_ok(
    [
      '#import <gap.gatt>',
      '#import <gatt.gatt>',
      '',
      '// Counter Service',
      'PRIMARY_SERVICE, 0000FF10-0000-1000-8000-00805F9B34FB',
      'CHARACTERISTIC, 0000FF11-0000-1000-8000-00805F9B34FB, READ | NOTIFY | DYNAMIC,',
    ].join('\n'),
  );
  // sm_aes_cmac is checked against RFC 4493's vectors in test/unit/sm.
  // Database Hash (Core Vol 3 Part G 7.3 with compile_gatt.py's message): services as (handle,
  // 0x2800, uuid); characteristic declarations as (handle + 1, 0x2803, properties, handle + 2,
  // uuid) -- compile_gatt.py hashes them one handle late; CCC as (handle, 0x2902).
  const message = hx(
    '01 00 00 28 00 18', // 0x0001 GAP service
    '03 00 03 28 02 04 00 00 2a', // 0x0002 Device Name declaration (as 3, 4)
    '05 00 03 28 02 06 00 01 2a', // 0x0004 Appearance declaration (as 5, 6)
    '06 00 00 28 01 18', // 0x0006 GATT service
    '08 00 03 28 02 09 00 2a 2b', // 0x0007 Database Hash declaration (as 8, 9)
    '09 00 00 28',
    FF10, // 0x0009 counter service
    '0b 00 03 28 12 0c 00',
    FF11, // 0x000a counter declaration (as 0x0b, 0x0c)
    '0c 00 02 29', // 0x000c CCC
  );
  const hash = Array.from(sm_aes_cmac(new Uint8Array(16), message)).reverse();
  const hash_hex = hash.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  check_bytes(
    r,
    hx(
      '01', // version
      '0a 00 02 00 01 00 00 28 00 18', // 0x0001 service 0x1800; flags READ
      '0d 00 02 00 02 00 03 28 02 03 00 00 2a', // 0x0002 decl: props READ, value handle 3, 0x2A00
      '08 00 02 01 03 00 00 2a', // 0x0003 Device Name: READ | DYNAMIC = 0x0102, no value
      '0d 00 02 00 04 00 03 28 02 05 00 01 2a', // 0x0004 decl Appearance
      '0a 00 02 00 05 00 01 2a 00 00', // 0x0005 Appearance = 00 00
      '0a 00 02 00 06 00 00 28 01 18', // 0x0006 service 0x1801
      '0d 00 02 00 07 00 03 28 02 08 00 2a 2b', // 0x0007 decl Database Hash 0x2B2A
      '18 00 02 00 08 00 2a 2b',
      hash_hex, // 0x0008 hash value: 6 + 2 + 16 = 0x18
      '18 00 02 00 09 00 00 28',
      FF10, // 0x0009 service, 8 + 16 = 0x18
      '1b 00 02 00 0a 00 03 28 12 0b 00',
      FF11, // 0x000a decl: 8 + 3 + 16 = 0x1b, props READ|NOTIFY = 0x12
      '16 00 02 03 0b 00',
      FF11, // 0x000b value: 6 + 16 = 0x16; READ | DYNAMIC | LONG_UUID = 0x0302
      '0a 00 0e 01 0c 00 02 29 00 00', // 0x000c CCC: READ | WRITE_WITHOUT_RESPONSE | WRITE | DYNAMIC = 0x010e
      '00 00',
    ),
  );
  assert.equal(r.handles['ATT_SERVICE_GAP_SERVICE_START_HANDLE'], 0x0001);
  assert.equal(r.handles['ATT_SERVICE_GAP_SERVICE_END_HANDLE'], 0x0005);
  assert.equal(r.handles['ATT_SERVICE_GATT_SERVICE_START_HANDLE'], 0x0006);
  assert.equal(r.handles['ATT_SERVICE_GATT_SERVICE_END_HANDLE'], 0x0008);
  assert.equal(r.handles['ATT_SERVICE_0000FF10_0000_1000_8000_00805F9B34FB_START_HANDLE'], 0x0009);
  assert.equal(r.handles['ATT_SERVICE_0000FF10_0000_1000_8000_00805F9B34FB_END_HANDLE'], 0x000c);
  assert.equal(r.handles['ATT_CHARACTERISTIC_GAP_DEVICE_NAME_01_VALUE_HANDLE'], 0x0003);
  assert.equal(r.handles['ATT_CHARACTERISTIC_GAP_APPEARANCE_01_VALUE_HANDLE'], 0x0005);
  assert.equal(r.handles['ATT_CHARACTERISTIC_GATT_DATABASE_HASH_01_VALUE_HANDLE'], 0x0008);
  assert.equal(r.handles['ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_VALUE_HANDLE'], 0x000b);
  assert.equal(r.handles['ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_CLIENT_CONFIGURATION_HANDLE'], 0x000c);
  assert.is(r.defines.length, 11);
});

test('battery service import', () => {
  const r = compile_ok('#import <battery_service.gatt>\n');
  check_bytes(
    r,
    hx(
      '01',
      '0a 00 02 00 01 00 00 28 0f 18', // 0x0001 service 0x180F
      '0d 00 02 00 02 00 03 28 12 03 00 19 2a', // 0x0002 decl: READ | NOTIFY = 0x12 -> 0x0003, 0x2A19
      '08 00 02 01 03 00 19 2a', // 0x0003 Battery Level: READ | DYNAMIC (NOTIFY is no value flag)
      '0a 00 0e 01 04 00 02 29 00 00', // 0x0004 CCC
      '00 00',
    ),
  );
  assert.equal(r.defines, [
    { name: 'ATT_SERVICE_ORG_BLUETOOTH_SERVICE_BATTERY_SERVICE_START_HANDLE', value: 1 },
    { name: 'ATT_SERVICE_ORG_BLUETOOTH_SERVICE_BATTERY_SERVICE_END_HANDLE', value: 4 },
    { name: 'ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL_01_VALUE_HANDLE', value: 3 },
    { name: 'ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL_01_CLIENT_CONFIGURATION_HANDLE', value: 4 },
  ]);
});

test('device information import: nine READ | DYNAMIC characteristics', () => {
  const r = compile_ok('#import "device_information_service.gatt"');
  check_bytes(
    r,
    hx(
      '01',
      '0a 00 02 00 01 00 00 28 0a 18', // 0x0001 service 0x180A
      '0d 00 02 00 02 00 03 28 02 03 00 29 2a',
      '08 00 02 01 03 00 29 2a', // Manufacturer Name 0x2A29
      '0d 00 02 00 04 00 03 28 02 05 00 24 2a',
      '08 00 02 01 05 00 24 2a', // Model Number 0x2A24
      '0d 00 02 00 06 00 03 28 02 07 00 25 2a',
      '08 00 02 01 07 00 25 2a', // Serial Number 0x2A25
      '0d 00 02 00 08 00 03 28 02 09 00 27 2a',
      '08 00 02 01 09 00 27 2a', // Hardware Revision 0x2A27
      '0d 00 02 00 0a 00 03 28 02 0b 00 26 2a',
      '08 00 02 01 0b 00 26 2a', // Firmware Revision 0x2A26
      '0d 00 02 00 0c 00 03 28 02 0d 00 28 2a',
      '08 00 02 01 0d 00 28 2a', // Software Revision 0x2A28
      '0d 00 02 00 0e 00 03 28 02 0f 00 23 2a',
      '08 00 02 01 0f 00 23 2a', // System ID 0x2A23
      '0d 00 02 00 10 00 03 28 02 11 00 2a 2a',
      '08 00 02 01 11 00 2a 2a', // IEEE 11073 list 0x2A2A
      '0d 00 02 00 12 00 03 28 02 13 00 50 2a',
      '08 00 02 01 13 00 50 2a', // PnP ID 0x2A50
      '00 00',
    ),
  );
  assert.is(r.handles['ATT_SERVICE_ORG_BLUETOOTH_SERVICE_DEVICE_INFORMATION_END_HANDLE'], 0x13);
  assert.is(r.handles['ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_MANUFACTURER_NAME_STRING_01_VALUE_HANDLE'], 0x03);
  assert.is(r.handles['ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_PNP_ID_01_VALUE_HANDLE'], 0x13);
});

test('heart-rate shape: CCC, user description, presentation format, write-only characteristic', () => {
  const r = compile_ok(
    [
      'PRIMARY_SERVICE, ORG_BLUETOOTH_SERVICE_HEART_RATE',
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_HEART_RATE_MEASUREMENT, DYNAMIC | NOTIFY,',
      'CHARACTERISTIC_USER_DESCRIPTION, READ, "Heart Rate"',
      'CHARACTERISTIC, org.bluetooth.characteristic.body_sensor_location, READ, 01',
      'CHARACTERISTIC_FORMAT, fmt, 04, 00, ORG_BLUETOOTH_UNIT_UNITLESS, 01, 0000',
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_HEART_RATE_CONTROL_POINT, WRITE,',
    ].join('\r\n'),
  );
  check_bytes(
    r,
    hx(
      '01',
      '0a 00 02 00 01 00 00 28 0d 18', // 0x0001 service 0x180D
      '0d 00 02 00 02 00 03 28 10 03 00 37 2a', // 0x0002 decl: NOTIFY = 0x10, 0x2A37
      '08 00 00 01 03 00 37 2a', // 0x0003 value: DYNAMIC only = 0x0100
      '0a 00 0e 01 04 00 02 29 00 00', // 0x0004 CCC
      '12 00 02 00 05 00 01 29 48 65 61 72 74 20 52 61 74 65', // 0x0005 user description: 8 + 10, READ
      '0d 00 02 00 06 00 03 28 02 07 00 38 2a', // 0x0006 decl Body Sensor Location (dotted name)
      '09 00 02 00 07 00 38 2a 01', // 0x0007 value 0x01 (hex, not text)
      '0f 00 02 00 08 00 04 29 04 00 00 27 01 00 00', // 0x0008 format: uint8, exp 0, unitless, SIG, 0
      '0d 00 02 00 09 00 03 28 08 0a 00 39 2a', // 0x0009 decl: WRITE = 0x08
      '08 00 08 00 0a 00 39 2a', // 0x000a value: WRITE
      '00 00',
    ),
  );
  assert.is(r.handles['ATT_SERVICE_ORG_BLUETOOTH_SERVICE_HEART_RATE_END_HANDLE'], 0x0a);
  assert.is(r.handles['ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_HEART_RATE_MEASUREMENT_01_VALUE_HANDLE'], 3);
  assert.is(
    r.handles['ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_HEART_RATE_MEASUREMENT_01_CLIENT_CONFIGURATION_HANDLE'],
    4,
  );
  assert.is(r.handles['ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_HEART_RATE_MEASUREMENT_01_USER_DESCRIPTION_HANDLE'], 5);
  // compile_gatt.py keeps the UUID as written in the name (only '-' -> '_')
  assert.is(r.handles['ATT_CHARACTERISTIC_org.bluetooth.characteristic.body_sensor_location_01_VALUE_HANDLE'], 7);
  assert.is(r.handles['ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_HEART_RATE_CONTROL_POINT_01_VALUE_HANDLE'], 0x0a);
});

test('security flags and encryption key size', () => {
  const r = compile_ok(
    [
      'PRIMARY_SERVICE, 1234',
      'CHARACTERISTIC, 2A00, READ | WRITE | ENCRYPTION_KEY_SIZE_16, "A"',
      'CHARACTERISTIC, 2A01, READ | WRITE | NOTIFY | READ_AUTHENTICATED | WRITE_AUTHORIZED | DYNAMIC,',
      'CHARACTERISTIC, 2A02, READ | WRITE_WITHOUT_RESPONSE | READ_AUTHENTICATED_SC | WRITE_AUTHENTICATED_SC | ENCRYPTION_KEY_SIZE_7 | INDICATE,',
      'CHARACTERISTIC, 0x2A03, WRITE | RELIABLE_WRITE | AUTHENTICATION_REQUIRED, 00',
      'SERVER_CHARACTERISTIC_CONFIGURATION, READ | WRITE | WRITE_ENCRYPTED',
    ].join('\n'),
  );
  check_bytes(
    r,
    hx(
      '01',
      '0a 00 02 00 01 00 00 28 34 12', // 0x0001 service 0x1234
      '0d 00 02 00 02 00 03 28 0a 03 00 00 2a', // 0x0002 decl: READ | WRITE = 0x0a
      // 0x0003: key size 16 = 0xf000; no READ_x/WRITE_x -> encrypted both ways: read bit 0 (0x400),
      // write bit 0 (0x01): 0xf000 | 0x400 | 0x0a | 0x01 = 0xf40b. Value "A": every item is hex
      // digits, so compile_gatt.py stores the byte 0x0a, not the letter
      '09 00 0b f4 03 00 00 2a 0a',
      '0d 00 02 00 04 00 03 28 1a 05 00 01 2a', // 0x0004 decl: READ | WRITE | NOTIFY = 0x1a
      // 0x0005: read authenticated (level 2: 0x800), write authorized (level 3: 0x10 | 0x01),
      // READ | WRITE | DYNAMIC = 0x10a -> 0x091b
      '08 00 1b 09 05 00 01 2a',
      // 0x0006 CCC: write permission bits of the value (0x11) | 0x010e = 0x011f
      '0a 00 1f 01 06 00 02 29 00 00',
      '0d 00 02 00 07 00 03 28 26 08 00 02 2a', // 0x0007 decl: READ | WWR | INDICATE = 0x26
      // 0x0008: key size 7 = 0x6000; read auth SC: 0x800 | 0x20; write auth SC: 0x10 | 0x80;
      // READ | WWR = 0x06 -> 0x68b6
      '08 00 b6 68 08 00 02 2a',
      // 0x0009 CCC: 0x68b6 & (0xf000 | 0x11) = 0x6010, | 0x010e = 0x611e
      '0a 00 1e 61 09 00 02 29 00 00',
      '0d 00 02 00 0a 00 03 28 88 0b 00 03 2a', // 0x000a decl: WRITE | EXTENDED_PROPERTIES (reliable write) = 0x88
      // 0x000b: authentication required -> authenticated both ways: 0x800 | 0x10, WRITE 0x08 -> 0x0818
      '09 00 18 08 0b 00 03 2a 00',
      '0a 00 02 00 0c 00 00 29 01 00', // 0x000c Extended Properties: Reliable Write
      // 0x000d Server Characteristic Configuration: write encrypted (0x01) | READ | WRITE | DYNAMIC = 0x010b, no value
      '08 00 0b 01 0d 00 03 29',
      '00 00',
    ),
  );
  assert.is(r.handles['ATT_SERVICE_1234_END_HANDLE'], 0x0d);
  assert.is(r.handles['ATT_CHARACTERISTIC_2A00_01_VALUE_HANDLE'], 3);
  assert.is(r.handles['ATT_CHARACTERISTIC_2A01_01_CLIENT_CONFIGURATION_HANDLE'], 6);
  assert.is(r.handles['ATT_CHARACTERISTIC_2A02_01_CLIENT_CONFIGURATION_HANDLE'], 9);
  assert.is(r.handles['ATT_CHARACTERISTIC_0x2A03_01_VALUE_HANDLE'], 0x0b);
  assert.is(r.handles['ATT_CHARACTERISTIC_0x2A03_01_SERVER_CONFIGURATION_HANDLE'], 0x0d);
});

test('secondary and included services, report reference, aggregate format, digitals, name tag', () => {
  const r = compile_ok(
    [
      'SECONDARY_SERVICE, 180F',
      'CHARACTERISTIC, 2A19, READ, 64',
      'SECONDARY_SERVICE, 00001234-0000-1000-8000-00805F9B34FB',
      'PRIMARY_SERVICE, 1812',
      'INCLUDE_SERVICE, 180F',
      'INCLUDE_SERVICE, 00001234-0000-1000-8000-00805F9B34FB',
      // a fifth field names the characteristic; compile_gatt.py also joins fields 3.. as the value: ", Input"
      'CHARACTERISTIC, 2A4D, READ | NOTIFY | DYNAMIC, , Input',
      'REPORT_REFERENCE, READ, 1, 1',
      'CHARACTERISTIC_FORMAT, a, 04, 00, 2700, 01, 0000',
      'CHARACTERISTIC_FORMAT, b, 06, FE, ORG_BLUETOOTH_UNIT_THERMODYNAMIC_TEMPERATURE_DEGREE_CELSIUS, 01, 0001',
      'CHARACTERISTIC_AGGREGATE_FORMAT, a, b',
      'NUMBER_OF_DIGITALS, 02',
    ].join('\n'),
  );
  check_bytes(
    r,
    hx(
      '01',
      '0a 00 02 00 01 00 01 28 0f 18', // 0x0001 secondary service 0x180F (type 0x2801)
      '0d 00 02 00 02 00 03 28 02 03 00 19 2a', // 0x0002 decl
      '09 00 02 00 03 00 19 2a 64', // 0x0003 value 0x64
      '18 00 02 00 04 00 01 28',
      S1234, // 0x0004 secondary 128-bit service
      '0a 00 02 00 05 00 00 28 12 18', // 0x0005 primary 0x1812
      '0e 00 02 00 06 00 02 28 01 00 03 00 0f 18', // 0x0006 include 1..3 + uuid16: 12 + 2
      '0c 00 02 00 07 00 02 28 04 00 04 00', // 0x0007 include 4..4, 128-bit uuid left out: 12
      '0d 00 02 00 08 00 03 28 12 09 00 4d 2a', // 0x0008 decl READ | NOTIFY
      '0f 00 02 01 09 00 4d 2a 2c 20 49 6e 70 75 74', // 0x0009 value ", Input": 6 + 2 + 7
      '0a 00 0e 01 0a 00 02 29 00 00', // 0x000a CCC
      '0a 00 02 00 0b 00 08 29 01 01', // 0x000b report reference id 1, type 1
      '0f 00 02 00 0c 00 04 29 04 00 00 27 01 00 00', // 0x000c format a
      '0f 00 02 00 0d 00 04 29 06 fe 2f 27 01 01 00', // 0x000d format b: sint8?, exp -2, Celsius 0x272F, desc 1
      '0c 00 02 00 0e 00 05 29 0c 00 0d 00', // 0x000e aggregate of 0x000c, 0x000d
      '09 00 02 00 0f 00 09 29 02', // 0x000f number of digitals
      '00 00',
    ),
  );
  assert.equal(r.defines, [
    { name: 'ATT_SERVICE_180F_START_HANDLE', value: 1 },
    { name: 'ATT_SERVICE_180F_END_HANDLE', value: 3 },
    { name: 'ATT_SERVICE_00001234_0000_1000_8000_00805F9B34FB_START_HANDLE', value: 4 },
    { name: 'ATT_SERVICE_00001234_0000_1000_8000_00805F9B34FB_END_HANDLE', value: 4 },
    { name: 'ATT_SERVICE_1812_START_HANDLE', value: 5 },
    { name: 'ATT_SERVICE_1812_END_HANDLE', value: 0x0f },
    { name: 'ATT_CHARACTERISTIC_2A19_01_VALUE_HANDLE', value: 3 },
    { name: 'ATT_CHARACTERISTIC_2A4D_INPUT_VALUE_HANDLE', value: 9 },
    { name: 'ATT_CHARACTERISTIC_2A4D_INPUT_CLIENT_CONFIGURATION_HANDLE', value: 0x0a },
  ]);
});

test('repeated characteristic UUIDs are numbered _01, _02 ... in lower-case hex; text vs hex values', () => {
  const lines = ['PRIMARY_SERVICE, AAAA'];
  for (let i = 0; i < 11; i++) lines.push('CHARACTERISTIC, BBBB, READ, 10');
  lines.push('CHARACTERISTIC, CCCC, READ, Hi there');
  lines.push('CHARACTERISTIC, CCCC, READ, "0a  ff"');
  const r = compile_ok(lines.join('\n'));
  assert.is(r.handles['ATT_CHARACTERISTIC_BBBB_01_VALUE_HANDLE'], 3);
  assert.is(r.handles['ATT_CHARACTERISTIC_BBBB_0a_VALUE_HANDLE'], 21);
  assert.is(r.handles['ATT_CHARACTERISTIC_BBBB_0b_VALUE_HANDLE'], 23);
  const tail = r.profile_data!.subarray(r.profile_data!.length - (13 + 16 + 13 + 10 + 2));
  assert.is(
    to_hex(tail),
    to_hex(
      hx(
        '0d 00 02 00 18 00 03 28 02 19 00 cc cc',
        '10 00 02 00 19 00 cc cc 48 69 20 74 68 65 72 65', // "Hi there" is text: 6 + 2 + 8
        '0d 00 02 00 1a 00 03 28 02 1b 00 cc cc',
        '0a 00 02 00 1b 00 cc cc 0a ff', // "0a  ff": every ' '-item is hex -> two bytes
        '00 00',
      ),
    ),
  );
  assert.is(r.handles['ATT_CHARACTERISTIC_CCCC_02_VALUE_HANDLE'], 0x1b);
});

test.run();
