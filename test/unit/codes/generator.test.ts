/**
 * tools/gen-codes.ts: the committed modules equal a fresh generation, generation is
 * deterministic, --check fails on stale files, and malformed table rows name file and line.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import {
  COMMITTED_REFERENCE_DIR,
  generate,
  generate_object,
  main,
  object_path,
  output_path,
  reference_dir,
  reference_paths,
  REFERENCE_FILES,
  SHARED_REFERENCE_DIR,
  sync_reference_copy,
  PROFILES,
} from '../../../tools/gen-codes.js';

const REPO = resolve(import.meta.dirname, '../../..');

for (const profile of PROFILES) {
  test(`${profile}: committed src/codes/${profile}.ts and ${profile}-object.ts equal a fresh generation`, () => {
    const committed = readFileSync(output_path(profile), 'utf8');
    const fresh = generate(profile);
    assert.ok(committed === fresh, `src/codes/${profile}.ts is stale: run npm run gen`);
    const object = readFileSync(object_path(profile), 'utf8');
    assert.ok(object === generate_object(profile, fresh), `src/codes/${profile}-object.ts is stale: run npm run gen`);
  });
}

test('generation is deterministic and reads ../shared/reference relative to the repo root when it exists, else tools/reference', () => {
  assert.is(generate('v1.8'), generate('v1.8'));
  assert.is(SHARED_REFERENCE_DIR, resolve(REPO, '../shared/reference'));
  assert.is(COMMITTED_REFERENCE_DIR, resolve(REPO, 'tools/reference'));
  const expected = existsSync(SHARED_REFERENCE_DIR) ? SHARED_REFERENCE_DIR : COMMITTED_REFERENCE_DIR;
  assert.is(reference_paths('v1.4').events, join(expected, 'btstack-v1.4-events.tsv'));
  assert.is(reference_dir(join(REPO, 'no-such-dir')), COMMITTED_REFERENCE_DIR);
  assert.is(reference_dir(REPO), REPO, 'an existing shared directory wins');
  assert.ok(!/\d{4}-\d{2}-\d{2}T/.test(generate('v1.4')), 'no time stamps');
});

test('generated modules export values only (index.ts uses them as namespaces; type members break the bundled .d.ts)', () => {
  for (const profile of PROFILES) {
    const text = generate(profile);
    assert.not.match(text, /^export (type|interface) /m, profile);
    assert.not.match(text, /^export \{[^}]*\btype\b/m, profile);
  }
});

test('the committed copy tools/reference/ is byte-identical to ../shared/reference/ (when that exists)', () => {
  assert.equal([...REFERENCE_FILES].sort(), [
    'CODES.md',
    'btstack-v1.4-errors.tsv',
    'btstack-v1.4-events.tsv',
    'btstack-v1.8-errors.tsv',
    'btstack-v1.8-events.tsv',
  ]);
  for (const name of REFERENCE_FILES)
    assert.ok(existsSync(join(COMMITTED_REFERENCE_DIR, name)), `tools/reference/${name} is committed`);
  if (!existsSync(SHARED_REFERENCE_DIR)) return; // a clone without ../shared: the copy is all there is
  for (const name of REFERENCE_FILES) {
    const shared = readFileSync(join(SHARED_REFERENCE_DIR, name));
    const copy = readFileSync(join(COMMITTED_REFERENCE_DIR, name));
    assert.ok(shared.equals(copy), `tools/reference/${name} differs from ../shared/reference/${name}: run npm run gen`);
  }
  assert.equal(sync_reference_copy(false), []);
});

for (const profile of PROFILES) {
  test(`${profile}: the committed copy generates the committed module (a clone without ../shared)`, () => {
    assert.ok(
      generate(profile, reference_paths(profile, COMMITTED_REFERENCE_DIR)) === readFileSync(output_path(profile), 'utf8'),
    );
  });
}

test('sync_reference_copy: reports and (when asked) rewrites the files of the copy that differ', () => {
  const shared = temp_dir();
  const copy = temp_dir();
  try {
    for (const name of REFERENCE_FILES) {
      writeFileSync(join(shared, name), `${name} contents\n`);
      writeFileSync(join(copy, name), `${name} contents\n`);
    }
    assert.equal(sync_reference_copy(true, shared, copy), []);
    writeFileSync(join(shared, 'btstack-v1.8-events.tsv'), 'new contents\n');
    rmSync(join(copy, 'CODES.md'));
    assert.equal(sync_reference_copy(false, shared, copy), ['CODES.md', 'btstack-v1.8-events.tsv'], 'check only');
    assert.not.ok(existsSync(join(copy, 'CODES.md')), 'check does not write');
    assert.equal(sync_reference_copy(true, shared, copy), ['CODES.md', 'btstack-v1.8-events.tsv']);
    assert.is(readFileSync(join(copy, 'btstack-v1.8-events.tsv'), 'utf8'), 'new contents\n');
    assert.is(readFileSync(join(copy, 'CODES.md'), 'utf8'), 'CODES.md contents\n');
    assert.equal(sync_reference_copy(false, shared, copy), []);
    assert.equal(sync_reference_copy(true, join(shared, 'missing'), copy), [], 'no shared directory: nothing to do');
  } finally {
    rmSync(shared, { recursive: true, force: true });
    rmSync(copy, { recursive: true, force: true });
  }
});

function temp_dir(): string {
  return mkdtempSync(join(tmpdir(), 'gen-codes-'));
}

test('--check returns 1 for a stale file and 0 when up to date (main and the CLI)', () => {
  const dir = temp_dir();
  try {
    const log = console.log;
    const err = console.error;
    console.log = () => {};
    console.error = () => {};
    try {
      assert.is(main(['--check', '--out', dir]), 1, 'missing files are stale');
      assert.is(main(['--out', dir]), 0, 'writes');
      assert.is(main(['--check', '--out', dir]), 0, 'fresh');
      writeFileSync(join(dir, 'v1.8.ts'), readFileSync(join(dir, 'v1.8.ts'), 'utf8').replace('= 0x79;', '= 0x78;'));
      assert.is(main(['--check', '--out', dir]), 1, 'edited file is stale');
    } finally {
      console.log = log;
      console.error = err;
    }
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'tools/gen-codes.ts', '--check', '--out', dir], {
      cwd: REPO,
      encoding: 'utf8',
    });
    assert.is(cli.status, 1, cli.stderr);
    assert.match(cli.stderr, /v1\.8\.ts: STALE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Copy the v1.4 tables into a temp dir, inserting `row` after `after` lines of the chosen table. */
function with_bad_row(table: 'events' | 'errors', after: number, row: string, expect: RegExp): void {
  const dir = temp_dir();
  try {
    const src = reference_paths('v1.4');
    const paths = { events: join(dir, 'events.tsv'), errors: join(dir, 'errors.tsv') };
    writeFileSync(paths.events, readFileSync(src.events, 'utf8'));
    writeFileSync(paths.errors, readFileSync(src.errors, 'utf8'));
    const lines = readFileSync(paths[table], 'utf8').split('\n');
    lines.splice(after, 0, row);
    writeFileSync(paths[table], lines.join('\n'));
    let message = '';
    try {
      generate('v1.4', paths);
    } catch (e) {
      message = (e as Error).message;
    }
    // the row is line after + 1
    assert.ok(message.startsWith(`${paths[table]}:${after + 1}: `), `message names file and line: ${message}`);
    assert.match(message, expect);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('malformed rows fail with file and line: wrong column count', () => {
  with_bad_row('events', 40, 'HCI_EVENT_BROKEN\t0x20\thci\t1\tstatus', /expected 6 tab-separated columns, got 5/);
  with_bad_row('errors', 30, 'SOME_ERROR\t0x01\tsrc/x.h', /expected 5 tab-separated columns, got 3/);
});

test('malformed rows fail with file and line: bad hex', () => {
  with_bad_row('errors', 25, 'SOME_ERROR\t0x6G\tsrc/x.h\thci-status\t', /bad value "0x6G"/);
  with_bad_row('events', 50, 'HCI_EVENT_BROKEN\t0xZ1\thci\t1\tstatus\t', /bad code "0xZ1"/);
  with_bad_row('events', 50, 'HCI_SUBEVENT_BROKEN\t0x3E/0x100\thci-le-meta\t11\tsubevent_code,status\t', /bad code/);
});

test('malformed rows fail with file and line: unknown format letter, param count, layout', () => {
  with_bad_row('events', 45, 'HCI_EVENT_BROKEN\t0x20\thci\t1W\tstatus,what\t', /unknown format letter 'W'/);
  with_bad_row('events', 45, 'HCI_EVENT_BROKEN\t0x20\thci\t12\tstatus\t', /fewer params than format letters/);
  with_bad_row('events', 45, 'HCI_EVENT_BROKEN\t0x20\thci\t1\tstatus,extra\t', /2 params for 1 format letters/);
  with_bad_row('events', 45, 'HCI_EVENT_BROKEN\t0x20\thci\tR1\trest,status\t', /'R' must be the last field/);
  with_bad_row(
    'events',
    45,
    'HCI_SUBEVENT_BROKEN\t0x3E/0x7F\thci-le-meta\t11\tstatus,reason\t',
    /must start with param subevent_code/,
  );
  with_bad_row('events', 45, 'HCI_EVENT_BROKEN\t0x20\thci\t1\tbad-name\t', /bad param name/);
});

test('group-note aliases: "(A_X/B_Y alias these)" becomes A_X = the group row named *_X; a bad alias names file and line', () => {
  const text = generate('v1.4');
  assert.match(text, 'export const PSM_SDP = BLUETOOTH_PROTOCOL_SDP;');
  assert.match(text, 'export const PSM_RFCOMM = BLUETOOTH_PROTOCOL_RFCOMM;');
  assert.match(text, 'export const PSM_BNEP = BLUETOOTH_PROTOCOL_BNEP;');
  const dir = temp_dir();
  try {
    const errors = join(dir, 'errors.tsv');
    const head = 'name\tvalue\tfile\tgroup\tnote\nERROR_CODE_MEMORY_CAPACITY_EXCEEDED\t0x07\tsrc/bluetooth.h\thci-status\t\n';
    writeFileSync(
      errors,
      head + 'P_ONE\t0x01\tsrc/x.h\tproto (Q_ONE/Q_TWO alias these)\t\nP_TWO\t0x02\tsrc/x.h\tproto (Q_ONE/Q_TWO alias these)\t\n',
    );
    const ok = generate('v1.4', { errors });
    assert.match(ok, 'export const Q_ONE = P_ONE;');
    assert.match(ok, 'export const Q_TWO = P_TWO;');
    writeFileSync(errors, head + 'P_ONE\t0x01\tsrc/x.h\tproto (Q_ONE/Q_THREE alias these)\t\n');
    assert.throws(
      () => generate('v1.4', { errors }),
      (e: Error) => e.message.startsWith(`${errors}:3: alias Q_THREE`) && /found 0/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a header that is not the expected columns is refused', () => {
  const dir = temp_dir();
  try {
    const events = join(dir, 'e.tsv');
    writeFileSync(events, '# comment\nname\tcode\tformat\n');
    assert.throws(
      () => generate('v1.4', { events }),
      (e: Error) => e.message.startsWith(`${events}:2: expected header columns`),
    );
    assert.throws(() => generate('v1.4', { events: join(dir, 'missing.tsv') }), /cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('duplicate names: same value deduplicated, first definition wins; header aliases become constants', () => {
  const dir = temp_dir();
  try {
    const src = reference_paths('v1.4');
    const errors = join(dir, 'errors.tsv');
    writeFileSync(
      errors,
      readFileSync(src.errors, 'utf8') +
        'L2CAP_SERVICE_ALREADY_REGISTERED\t0x6A\tdoc/manual\tl2cap-status\tmanual erratum\nBTSTACK_BUSY\t0x55\tsrc/x.h\tbtstack-status\t\n',
    );
    const text = generate('v1.4', { errors });
    assert.is(text.match(/export const L2CAP_SERVICE_ALREADY_REGISTERED = /g)!.length, 1);
    assert.match(text, 'export const L2CAP_SERVICE_ALREADY_REGISTERED = 0x6B;');
    assert.match(
      text,
      /\/\/ L2CAP_SERVICE_ALREADY_REGISTERED = 0x6A \(line \d+, l2cap-status\) ignored: the first definition \(107\) wins/,
    );
    assert.match(text, /\/\/ BTSTACK_BUSY = 0x55 \(line \d+, btstack-status\) repeats the same value/);
    assert.match(generate('v1.4'), 'export const HCI_EVENT_AUTHENTICATION_COMPLETE_EVENT = HCI_EVENT_AUTHENTICATION_COMPLETE;');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('params after a variable-length field are located with the lengths in the packet', async () => {
  // A table with a layout the BTstack tables do not have yet: 1 J V 2 H, plus a C array in the middle.
  const dir = temp_dir();
  try {
    const events = join(dir, 'events.tsv');
    const errors = join(dir, 'errors.tsv');
    writeFileSync(
      errors,
      'name\tvalue\tfile\tgroup\tnote\nERROR_CODE_MEMORY_CAPACITY_EXCEEDED\t0x07\tsrc/bluetooth.h\thci-status\t\n',
    );
    writeFileSync(
      events,
      'name\tcode\tlayer\tformat\tparams\tnotes\n' +
        'TEST_EVENT_AFTER_VAR\t0x50\ttest\t1JV2H\tkind,data_len,data,value,handle\t\n' +
        'TEST_EVENT_AFTER_ARRAY\t0x51\ttest\t1C2\tcount,items,tail\t\n',
    );
    let text = generate('v1.8', { events, errors });
    // make the module importable from the temp dir
    text = text
      .replaceAll("'../core/bytes.js'", `'${pathToFileURL(join(REPO, 'src/core/bytes.ts')).href}'`)
      .replaceAll("'./runtime.js'", `'${pathToFileURL(join(REPO, 'src/codes/runtime.ts')).href}'`);
    const file = join(dir, 'codes.ts');
    writeFileSync(file, text);
    const m = await import(pathToFileURL(file).href);
    const buf = new Uint8Array(32);
    const n = m.test_event_after_var_build(buf, 0, 9, Uint8Array.of(0xd0, 0xd1, 0xd2), 0xbeef, 0x0042);
    // 50 (code) 09 (length 1 + 1 + 3 + 2 + 2) 09 (kind) 03 (data_len) D0 D1 D2 (data) EF BE (value) 42 00 (handle)
    assert.equal(buf.slice(0, n), Uint8Array.from([0x50, 0x09, 0x09, 0x03, 0xd0, 0xd1, 0xd2, 0xef, 0xbe, 0x42, 0x00]));
    assert.is(m.test_event_after_var_get_value(buf), 0xbeef);
    assert.is(m.test_event_after_var_get_handle(buf), 0x42);
    // empty data: length 6; the trailing 0xFF is outside the event
    const other = Uint8Array.from([0x50, 0x06, 0x09, 0x00, 0x34, 0x12, 0x78, 0x56, 0xff]);
    assert.is(m.test_event_after_var_get_value(other), 0x1234);
    assert.is(m.test_event_after_var_get_handle(other), 0x5678);
    assert.is(m.test_event_after_var_get_handle(other.slice(0, 7)), 0, 'truncated');
    const n2 = m.test_event_after_array_build(buf, 0, 2, [0x1111, 0x2222], 0x3333);
    // 51 07 02 (count) 11 11 22 22 (items) 33 33 (tail)
    assert.equal(buf.slice(0, n2), Uint8Array.from([0x51, 0x07, 0x02, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33]));
    assert.is(m.test_event_after_array_get_tail(buf), 0x3333);
    assert.is(m.test_event_after_array_get_items(buf, 1), 0x2222);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
