/**
 * The generated TypeScript module type-checks and exports profile_data and the handle constants;
 * the embedded standard imports equal the shipped .gatt files; gatt_compile_file reads files and
 * resolves imports next to the file and in include paths.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import ts from 'typescript';
import { gatt_compile, GATT_COMPILE_ERROR_IMPORT_NOT_FOUND } from '../../../src/att/gatt-compiler.js';
import { gatt_compile_file } from '../../../src/att/gatt-compile-file.js';
import { GATT_STANDARD_IMPORTS } from '../../../src/att/gatt-standard.js';

const dir = mkdtempSync(join(tmpdir(), 'bthost-gatt-'));

test('the generated module type-checks (strict) and exports the bytes and handles', async () => {
  const text = [
    '#import <gap.gatt>',
    '#import <battery_service.gatt>',
    'PRIMARY_SERVICE, 0000FF10-0000-1000-8000-00805F9B34FB',
    'CHARACTERISTIC, 0000FF11-0000-1000-8000-00805F9B34FB, READ | WRITE | NOTIFY | DYNAMIC,',
    'CHARACTERISTIC_USER_DESCRIPTION, READ, "*/ odd \u2028 text"',
    'CHARACTERISTIC, org.bluetooth.characteristic.battery_level, READ, 64',
    'PRIMARY_SERVICE, 0000FF10-0000-1000-8000-00805F9B34FB',
  ].join('\n');
  const r = gatt_compile(text, { file: 'le_counter.gatt' });
  assert.is(r.status, 0, JSON.stringify(r.diagnostics));
  const file = join(dir, 'le_counter.ts');
  writeFileSync(file, r.typescript!);
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
    lib: ['lib.es2022.d.ts'],
  });
  const diags = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.equal(diags, []);
  // handles: gap.gatt 1..5, battery 6..9 (value 8, CCC 9), FF10 service 10, FF11 decl 11,
  // value 12, CCC 13, user description 14, battery level decl 15, value 16, FF10 again 17
  const m = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  assert.equal(Array.from(m['profile_data'] as Uint8Array), Array.from(r.profile_data!));
  assert.is(m['ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_VALUE_HANDLE'], 0x000c);
  assert.is(m['ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_CLIENT_CONFIGURATION_HANDLE'], 0x000d);
  assert.is(m['ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_USER_DESCRIPTION_HANDLE'], 0x000e);
  assert.is(m['ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL_01_VALUE_HANDLE'], 0x0008);
  assert.is(m['ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL_01_CLIENT_CONFIGURATION_HANDLE'], 0x0009);
  // a dotted name (not an identifier) becomes one
  assert.is(m['ATT_CHARACTERISTIC_org_bluetooth_characteristic_battery_level_01_VALUE_HANDLE'], 0x0010);
  // the same service twice: one export, the last value (as a redefined C macro)
  assert.is(m['ATT_SERVICE_0000FF10_0000_1000_8000_00805F9B34FB_START_HANDLE'], 0x0011);
  assert.is(m['ATT_SERVICE_GAP_SERVICE_END_HANDLE'], 0x0005);
});

test('embedded standard imports equal src/att/gatt/*.gatt', () => {
  const gatt_dir = fileURLToPath(new URL('../../../src/att/gatt/', import.meta.url));
  const names = Object.keys(GATT_STANDARD_IMPORTS).sort();
  assert.equal(names, ['battery_service.gatt', 'device_information_service.gatt', 'gap.gatt', 'gatt.gatt', 'gatt_service.gatt']);
  for (const n of names) assert.is(GATT_STANDARD_IMPORTS[n], readFileSync(join(gatt_dir, n), 'utf8'), n);
  for (const n of names) assert.is(gatt_compile(`#import <${n}>`).status, 0, n);
});

test('gatt_compile_file: imports next to the file, include paths, read errors', () => {
  mkdirSync(join(dir, 'inc'));
  writeFileSync(join(dir, 'inc', 'custom.gatt'), 'PRIMARY_SERVICE, 1234\nCHARACTERISTIC, 2A19, READ, 64\n');
  writeFileSync(join(dir, 'local.gatt'), 'PRIMARY_SERVICE, 5678\n');
  writeFileSync(join(dir, 'app.gatt'), '#import <gatt.gatt>\n#import "local.gatt"\n#import <custom.gatt>\n');
  const r = gatt_compile_file(join(dir, 'app.gatt'), { include_paths: [join(dir, 'inc')] });
  assert.is(r.status, 0, JSON.stringify(r.diagnostics));
  assert.is(r.handles['ATT_SERVICE_5678_START_HANDLE'], 4);
  assert.is(r.handles['ATT_CHARACTERISTIC_2A19_01_VALUE_HANDLE'], 7);
  const missing = gatt_compile_file(join(dir, 'app.gatt'));
  assert.is(missing.status, GATT_COMPILE_ERROR_IMPORT_NOT_FOUND);
  assert.is(`${missing.diagnostics[0]!.file}:${missing.diagnostics[0]!.line}`, `${join(dir, 'app.gatt')}:3`);
  const none = gatt_compile_file(join(dir, 'nope.gatt'));
  assert.is(none.status, GATT_COMPILE_ERROR_IMPORT_NOT_FOUND);
  assert.is(none.profile_data, null);
});

test('cleanup', () => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
