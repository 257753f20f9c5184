/**
 * The att_db walker on hand-written databases (BTstack's layout): iteration, lookups by handle
 * and type, value reads with offsets, permission decoding, and malformed databases.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ATT_DB_ERROR_ENTRY_TOO_SHORT,
  ATT_DB_ERROR_TRUNCATED,
  ATT_DB_ERROR_VERSION,
  ATT_DB_OK,
  ATT_SECURITY_AUTHENTICATED,
  ATT_SECURITY_AUTHENTICATED_SC,
  ATT_SECURITY_AUTHORIZED,
  ATT_SECURITY_ENCRYPTED,
  ATT_SECURITY_NONE,
  AttDbIterator,
  att_db_encryption_key_size,
  att_db_entries,
  att_db_find_by_uuid16,
  att_db_find_handle,
  att_db_read_security,
  att_db_read_value,
  att_db_validate,
  att_db_write_security,
} from '../../../src/att/att-db.js';
import { hx, to_hex } from './helpers.js';

const FF11 = 'fb 34 9b 5f 80 00 00 80 00 10 00 00 11 ff 00 00';
const DB = hx(
  '01',
  '0a 00 02 00 01 00 00 28 00 18', // 0x0001 primary service 0x1800
  '0d 00 02 00 02 00 03 28 02 03 00 00 2a', // 0x0002 characteristic declaration -> 0x0003, 0x2A00
  '0c 00 02 00 03 00 00 2a 62 74 68 6f', // 0x0003 Device Name "btho"
  '1b 00 02 00 04 00 03 28 1a 05 00',
  FF11, // 0x0004 declaration of a 128-bit characteristic
  '16 00 0a 03 05 00',
  FF11, // 0x0005 value, READ | WRITE | DYNAMIC | UUID128, empty
  '0a 00 0e 01 06 00 02 29 00 00', // 0x0006 CCC
  '00 00',
);

test('iterate: every entry, fields from the layout', () => {
  const { status, entries } = att_db_entries(DB);
  assert.is(status, ATT_DB_OK);
  assert.equal(
    entries.map((e) => e.handle),
    [1, 2, 3, 4, 5, 6],
  );
  assert.equal(
    entries.map((e) => e.uuid16),
    [0x2800, 0x2803, 0x2a00, 0x2803, 0, 0x2902],
  );
  assert.equal(
    entries.map((e) => e.flags),
    [2, 2, 2, 2, 0x030a, 0x010e],
  );
  assert.is(to_hex(entries[2]!.value), '62 74 68 6f');
  assert.is(to_hex(entries[4]!.uuid), FF11);
  assert.is(entries[4]!.value.length, 0);
  assert.is(att_db_validate(DB), ATT_DB_OK);
});

test('find by handle and by 16-bit type; uuid compare across 16/128-bit forms', () => {
  const it = new AttDbIterator();
  assert.ok(att_db_find_handle(DB, 5, it));
  assert.is(it.uuid_len, 16);
  assert.ok(it.uuid_equals(hx(FF11)));
  assert.ok(it.uuid_equals(hx('11 ff'))); // 0000FF11-0000-1000-8000-00805F9B34FB is the Base UUID form of 0xFF11
  assert.not.ok(it.uuid_equals(hx('12 ff')));
  assert.not.ok(att_db_find_handle(DB, 7, it));
  assert.not.ok(att_db_find_handle(DB, 0, it));
  // characteristic declarations in 1..0xffff, then from after the first
  assert.ok(att_db_find_by_uuid16(DB, 1, 0xffff, 0x2803, it));
  assert.is(it.handle, 2);
  assert.ok(att_db_find_by_uuid16(DB, it.handle + 1, 0xffff, 0x2803, it));
  assert.is(it.handle, 4);
  assert.not.ok(att_db_find_by_uuid16(DB, 5, 0xffff, 0x2803, it));
  assert.not.ok(att_db_find_by_uuid16(DB, 1, 3, 0x2902, it));
  // Device Name 0x2A00 matches in its 128-bit Base UUID form and vice versa
  assert.ok(att_db_find_handle(DB, 3, it));
  const base = hx('fb 34 9b 5f 80 00 00 80 00 10 00 00 00 2a 00 00');
  assert.ok(it.uuid_equals(base));
  assert.ok(it.uuid_equals(hx('00 2a')));
  assert.not.ok(it.uuid_equals(hx('00 2a 00')));
  const out = new Uint8Array(18);
  it.uuid128(out, 2);
  assert.is(to_hex(out.subarray(2)), to_hex(base));
});

test('read value: offsets, short buffers, invalid offset, missing handle', () => {
  const out = new Uint8Array(8).fill(0xee);
  assert.is(att_db_read_value(DB, 3, 0, out), 4);
  assert.is(to_hex(out.subarray(0, 5)), '62 74 68 6f ee');
  assert.is(att_db_read_value(DB, 3, 2, out, 6), 2);
  assert.is(to_hex(out.subarray(6)), '68 6f');
  assert.is(att_db_read_value(DB, 3, 1, out, 7), 1); // room for one byte only
  assert.is(att_db_read_value(DB, 3, 4, out), 0); // offset == length: nothing, not an error
  assert.is(att_db_read_value(DB, 3, 5, out), -2);
  assert.is(att_db_read_value(DB, 9, 0, out), -1);
  assert.is(att_db_read_value(DB, 3, 0, out, 100), 0);
});

test('permissions from flags', () => {
  assert.is(att_db_read_security(0x0002), ATT_SECURITY_NONE);
  assert.is(att_db_read_security(0xf40b), ATT_SECURITY_ENCRYPTED);
  assert.is(att_db_write_security(0xf40b), ATT_SECURITY_ENCRYPTED);
  assert.is(att_db_encryption_key_size(0xf40b), 16);
  assert.is(att_db_read_security(0x091b), ATT_SECURITY_AUTHENTICATED);
  assert.is(att_db_write_security(0x091b), ATT_SECURITY_AUTHORIZED);
  assert.is(att_db_read_security(0x68b6), ATT_SECURITY_AUTHENTICATED_SC);
  assert.is(att_db_write_security(0x68b6), ATT_SECURITY_AUTHENTICATED_SC);
  assert.is(att_db_encryption_key_size(0x68b6), 7);
  assert.is(att_db_encryption_key_size(0x0002), 0);
});

test('malformed databases end the walk with a status', () => {
  assert.is(att_db_validate(new Uint8Array(0)), ATT_DB_ERROR_VERSION);
  assert.is(att_db_validate(hx('02 00 00')), ATT_DB_ERROR_VERSION);
  assert.is(att_db_validate(hx('01')), ATT_DB_ERROR_TRUNCATED); // no end marker
  assert.is(att_db_validate(hx('01 00')), ATT_DB_ERROR_TRUNCATED);
  assert.is(att_db_validate(hx('01 00 00')), ATT_DB_OK); // empty database
  assert.is(att_db_validate(hx('01 07 00 02 00 01 00 00 00 00')), ATT_DB_ERROR_ENTRY_TOO_SHORT); // size 7 < 6 + 2
  assert.is(att_db_validate(hx('01 08 00 00 02 01 00 00 28 00 00')), ATT_DB_ERROR_ENTRY_TOO_SHORT); // UUID128 flag: needs 22
  assert.is(att_db_validate(hx('01 0a 00 02 00 01 00 00 28 00')), ATT_DB_ERROR_TRUNCATED); // entry past the end
  assert.is(att_db_validate(hx('01 0a 00 02')), ATT_DB_ERROR_TRUNCATED);
  assert.is(att_db_validate(DB.subarray(0, DB.length - 1)), ATT_DB_ERROR_TRUNCATED);
  // entries before the damage are still found
  const bad = hx('01 0a 00 02 00 01 00 00 28 00 18 ff ff 02 00');
  const it = new AttDbIterator();
  assert.ok(att_db_find_handle(bad, 1, it));
  assert.not.ok(att_db_find_handle(bad, 2, it));
  assert.is(it.status, ATT_DB_ERROR_TRUNCATED);
  assert.equal(att_db_entries(bad).entries.length, 1);
});

test.run();
