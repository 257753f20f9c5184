/**
 * de_data_element_to_string: every type, nesting, names of well-known UUIDs, malformed input.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex } from '../../../src/core/bytes.js';
import { de_data_element_to_string } from '../../../src/sdp/dump.js';
import { SPP_RECORD_COMPACT } from './sdp-vectors.js';

test('the SPP protocol descriptor list', () => {
  assert.is(
    de_data_element_to_string(fromHex('35 0c 35 03 19 01 00 35 05 19 00 03 08 01')),
    ['DES', '  DES', '    UUID16 0x0100 (L2CAP)', '  DES', '    UUID16 0x0003 (RFCOMM)', '    UINT8 0x01'].join('\n'),
  );
});

test('every type', () => {
  const t = (h: string) => de_data_element_to_string(fromHex(h));
  assert.is(t('00'), 'NIL');
  assert.is(t('28 01'), 'BOOL true');
  assert.is(t('09 01 02'), 'UINT16 0x0102');
  assert.is(t('0a 00 01 00 01'), 'UINT32 0x00010001');
  assert.is(t('0b 01 02 03 04 05 06 07 08'), 'UINT64 0x0102030405060708');
  assert.is(t('10 ff'), 'INT8 -1');
  assert.is(t('11 80 00'), 'INT16 -32768');
  assert.is(t('1a 00 00 11 01'), 'UUID32 0x00001101 (SerialPort)');
  assert.is(t('1c 00 00 11 01 00 00 10 00 80 00 00 80 5f 9b 34 fb'), 'UUID128 00001101-0000-1000-8000-00805F9B34FB');
  assert.is(t('25 03 61 c3 a4'), 'STRING "aä"');
  assert.is(t('45 03 61 62 63'), 'URL "abc"');
  assert.is(t('3d 02 19 12'), 'DEA\n  <malformed data element 0x19>');
  assert.is(t('35 00'), 'DES (empty)');
});

test('malformed: named, nothing read past the end', () => {
  assert.is(de_data_element_to_string(fromHex('35 05 09 00')), '<malformed data element 0x35>');
  assert.is(de_data_element_to_string(new Uint8Array(0)), '<malformed data element>');
  assert.is(de_data_element_to_string(fromHex('f8')), '<malformed data element 0xf8>');
  assert.ok(de_data_element_to_string(SPP_RECORD_COMPACT).includes('STRING "SPP Counter"'));
  // deep nesting is cut
  const deep = new Uint8Array(60);
  for (let i = 0; i < 30; i++) {
    deep[2 * i] = 0x35;
    deep[2 * i + 1] = 58 - 2 * i;
  }
  assert.ok(de_data_element_to_string(deep).includes('...'));
});

test.run();
