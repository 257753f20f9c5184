/**
 * .gatt compiler errors: each reported with file:line and a status, never thrown; warnings for
 * what compile_gatt.py only warns about.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  GATT_COMPILE_ERROR_BAD_FLAG,
  GATT_COMPILE_ERROR_BAD_IMPORT,
  GATT_COMPILE_ERROR_BAD_UUID,
  GATT_COMPILE_ERROR_BAD_VALUE,
  GATT_COMPILE_ERROR_IMPORT_DEPTH,
  GATT_COMPILE_ERROR_IMPORT_NOT_FOUND,
  GATT_COMPILE_ERROR_MISSING_FIELD,
  GATT_COMPILE_ERROR_TOO_LARGE,
  GATT_COMPILE_ERROR_UNKNOWN_FORMAT,
  GATT_COMPILE_ERROR_UNKNOWN_KEYWORD,
  GATT_COMPILE_ERROR_UNKNOWN_SERVICE,
  gatt_compile,
  gatt_format_diagnostic,
} from '../../../src/att/gatt-compiler.js';

function first_error(text: string, options = {}): { status: number; where: string; message: string } {
  const r = gatt_compile(text, { file: 'app.gatt', ...options });
  assert.is(r.profile_data, null);
  assert.is(r.typescript, null);
  const e = r.diagnostics.find((d) => d.severity === 'error')!;
  assert.ok(e, 'an error is reported');
  assert.is(r.status, e.status);
  return { status: e.status, where: `${e.file}:${e.line}`, message: gatt_format_diagnostic(e) };
}

test('unknown keyword', () => {
  const e = first_error('PRIMARY_SERVICE, 1800\n\nCHARACTERISTICS, 2A00, READ, "x"\n');
  assert.is(e.status, GATT_COMPILE_ERROR_UNKNOWN_KEYWORD);
  assert.is(e.where, 'app.gatt:3');
  assert.match(e.message, /^app\.gatt:3: error: unknown keyword 'CHARACTERISTICS'/);
});

test('bad UUIDs', () => {
  for (const uuid of [
    '12345',
    'XYZ',
    '0000FF10-0000-1000-8000-00805F9B34F',
    '0000FF10-0000-1000-8000-00805F9B34FBAA',
    '-1',
    'ORG_BLUETOOTH_SERVICE_NOPE',
  ]) {
    const e = first_error(`PRIMARY_SERVICE, ${uuid}`);
    assert.is(e.status, GATT_COMPILE_ERROR_BAD_UUID, uuid);
    assert.is(e.where, 'app.gatt:1');
  }
  // 128-bit units are not allowed in a presentation format (7 fixed bytes)
  const e = first_error(
    'PRIMARY_SERVICE, 1800\nCHARACTERISTIC_FORMAT, a, 04, 00, 0000FF10-0000-1000-8000-00805F9B34FB, 01, 0000',
  );
  assert.is(e.status, GATT_COMPILE_ERROR_BAD_UUID);
  assert.is(e.where, 'app.gatt:2');
});

test('bad flags', () => {
  const e = first_error('PRIMARY_SERVICE, 1800\nCHARACTERISTIC, 2A00, READ | WRTIE, "x"');
  assert.is(e.status, GATT_COMPILE_ERROR_BAD_FLAG);
  assert.is(e.where, 'app.gatt:2');
  assert.match(e.message, /WRTIE/);
  assert.is(first_error('PRIMARY_SERVICE, 1800\nCHARACTERISTIC, 2A00, READ |, "x"').status, GATT_COMPILE_ERROR_BAD_FLAG);
  assert.is(first_error('PRIMARY_SERVICE, 1800\nCHARACTERISTIC, 2A00, read, "x"').status, GATT_COMPILE_ERROR_BAD_FLAG);
  assert.is(first_error('PRIMARY_SERVICE, 1800\nCHARACTERISTIC, 2A00, __proto__, "x"').status, GATT_COMPILE_ERROR_BAD_FLAG);
});

test('imports: not found, bad form, cycles, errors inside an import carry its name and line', () => {
  let e = first_error('// x\n#import <nope.gatt>');
  assert.is(e.status, GATT_COMPILE_ERROR_IMPORT_NOT_FOUND);
  assert.is(e.where, 'app.gatt:2');
  e = first_error('#import nope.gatt');
  assert.is(e.status, GATT_COMPILE_ERROR_BAD_IMPORT);
  // the standard imports can be turned off
  e = first_error('#import <gap.gatt>', { standard_imports: false });
  assert.is(e.status, GATT_COMPILE_ERROR_IMPORT_NOT_FOUND);
  const files: Record<string, string> = {
    'a.gatt': '#import "b.gatt"',
    'b.gatt': 'PRIMARY_SERVICE, 1800\n#import "a.gatt"',
    'bad.gatt': '// comment\nPRIMARY_SERVICE, 1800\nCHARACTERISTIC, 2A00, READ, 123',
  };
  const import_resolver = (name: string) => (files[name] === undefined ? null : { file: name, text: files[name]! });
  e = first_error('#import "a.gatt"', { import_resolver });
  assert.is(e.status, GATT_COMPILE_ERROR_IMPORT_DEPTH);
  assert.is(e.where, 'b.gatt:2');
  e = first_error('PRIMARY_SERVICE, 1801\n#import "bad.gatt"', { import_resolver });
  assert.is(e.status, GATT_COMPILE_ERROR_BAD_VALUE);
  assert.is(e.where, 'bad.gatt:3');
  // a resolver's file wins over the standard one of the same name
  const r = gatt_compile('#import <gap.gatt>', {
    import_resolver: () => ({ file: 'mine/gap.gatt', text: 'PRIMARY_SERVICE, 1800' }),
  });
  assert.is(r.status, 0);
  assert.is(r.profile_data!.length, 1 + 10 + 2);
});

test('missing fields, bad values, unknown include / format', () => {
  assert.is(first_error('PRIMARY_SERVICE').status, GATT_COMPILE_ERROR_MISSING_FIELD);
  assert.is(first_error('PRIMARY_SERVICE,').status, GATT_COMPILE_ERROR_MISSING_FIELD);
  assert.is(first_error('PRIMARY_SERVICE, 1800\nCHARACTERISTIC, 2A00').status, GATT_COMPILE_ERROR_MISSING_FIELD);
  assert.is(first_error('PRIMARY_SERVICE, 1800\nCHARACTERISTIC_USER_DESCRIPTION, READ').status, GATT_COMPILE_ERROR_MISSING_FIELD);
  assert.is(
    first_error('PRIMARY_SERVICE, 1800\nCHARACTERISTIC_FORMAT, a, 04, 00, 2700, 01').status,
    GATT_COMPILE_ERROR_MISSING_FIELD,
  );
  assert.is(first_error('PRIMARY_SERVICE, 1800\nREPORT_REFERENCE, READ, 1').status, GATT_COMPILE_ERROR_MISSING_FIELD);
  // 3 hex digits do not fit a byte (compile_gatt.py would write 0x123 into a uint8_t array)
  assert.is(first_error('PRIMARY_SERVICE, 1800\nCHARACTERISTIC, 2A00, READ, 01 123').status, GATT_COMPILE_ERROR_BAD_VALUE);
  assert.is(first_error('PRIMARY_SERVICE, 1800\nNUMBER_OF_DIGITALS, 01 02').status, GATT_COMPILE_ERROR_BAD_VALUE);
  assert.is(
    first_error('PRIMARY_SERVICE, 1800\nCHARACTERISTIC_FORMAT, a, 04, -1, 2700, 01, 0000').status,
    GATT_COMPILE_ERROR_BAD_VALUE,
  );
  // the included service must be complete (defined and followed by another service) before
  const e = first_error('PRIMARY_SERVICE, 1800\nINCLUDE_SERVICE, 1800');
  assert.is(e.status, GATT_COMPILE_ERROR_UNKNOWN_SERVICE);
  assert.is(e.where, 'app.gatt:2');
  assert.is(first_error('PRIMARY_SERVICE, 1800\nCHARACTERISTIC_AGGREGATE_FORMAT, a').status, GATT_COMPILE_ERROR_UNKNOWN_FORMAT);
});

test('more than 65535 attributes', () => {
  const lines = ['PRIMARY_SERVICE, 1800'];
  for (let i = 0; i < 32768; i++) lines.push('CHARACTERISTIC, 2A00, READ,');
  const e = first_error(lines.join('\n'));
  assert.is(e.status, GATT_COMPILE_ERROR_TOO_LARGE);
  assert.is(e.where, 'app.gatt:32769');
  // one attribute less fits: handles 1..65535
  const r = gatt_compile(lines.slice(0, 32768).join('\n'));
  assert.is(r.status, 0);
  assert.is(r.handles['ATT_SERVICE_1800_END_HANDLE'], 65535);
});

test('every error is collected; warnings do not fail the compile', () => {
  const r = gatt_compile(
    'FOO\nPRIMARY_SERVICE, 1800\nBAR, 1\nVALID_RANGE, 1, 2\n#TODO later\nCHARACTERISTIC, 2A00, READ, "Grüße"\nCLIENT_CHARACTERISTIC_CONFIGURATION, READ',
    { file: 'x.gatt' },
  );
  assert.equal(
    r.diagnostics.map((d) => `${d.file}:${d.line}:${d.severity}`),
    ['x.gatt:1:error', 'x.gatt:3:error', 'x.gatt:4:warning', 'x.gatt:5:warning', 'x.gatt:6:warning'],
  );
  const ok = gatt_compile('PRIMARY_SERVICE, 1800\nVALID_RANGE, 1, 2\n\t// indented comment\nCHARACTERISTIC, 2A00, READ, "Grüße"');
  assert.is(ok.status, 0);
  // non-ASCII text: one byte per code point (& 0xff), as compile_gatt.py writes it
  const v = ok.profile_data!.subarray(1 + 10 + 13 + 8, 1 + 10 + 13 + 8 + 5);
  assert.equal(Array.from(v), [0x47, 0x72, 0xfc, 0xdf, 0x65]);
});

test.run();
