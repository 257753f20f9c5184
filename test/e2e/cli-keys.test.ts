/**
 * `bthost keys` on the key files alone (no controller): `keys` / `keys list` over every
 * bthost_<BD_ADDR>.tlv in $BTHOST_KEYS_DIR or the one --keys file, `keys delete ADDR` (exit 1 with
 * one line when no file has a key for ADDR), `keys delete --all`, and usage errors (exit 2, one
 * line). The files are written here with the link key db the commands use (ports/cli/keys.ts);
 * what is left after a delete is read back from the file: the other keys, byte for byte. LE bonds
 * (src/sm/le-device-db-tlv.ts) in the same file: listed beside the link keys (address type,
 * identity address, keys, authenticated, SC, key size) and deleted by address or with --all.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bthostAsync, tmp } from './cli-helpers.js';
import { list_keys, open_key_file, open_key_store } from '../../ports/cli/keys.js';
import { btstack_tlv_posix_init_instance } from '../../ports/posix/tlv-file.js';
import { le_device_db_tlv_tag } from '../../src/core/tlv.js';
import { bd_addr_to_str, hex, sscanf_bd_addr } from '../../src/core/bytes.js';

const DIR = path.join(tmp, 'keys-dir');
process.env['BTHOST_KEYS_DIR'] = DIR; // the children inherit it
const F1 = path.join(DIR, 'bthost_11-22-33-44-55-66.tlv');
const F2 = path.join(DIR, 'bthost_C0-FF-EE-00-00-01.tlv');
const PHONE = '00:1B:DC:0A:0B:0C';
const PC = 'AA:BB:CC:DD:EE:01';
const HEADSET = '00:11:22:33:44:55';
const key = (n: number) => new Uint8Array(16).map((_, i) => (n * 16 + i) & 0xff);
/** The keys of a file as `ADDR type T key HEX`. */
const contents = (f: string) =>
  list_keys(open_key_file(f)).map((k) => `${bd_addr_to_str(k.bd_addr)} type ${k.type} key ${hex(k.link_key)}`);

test.before(() => {
  fs.mkdirSync(DIR, { recursive: true });
  const db1 = open_key_file(F1);
  db1.put_link_key(sscanf_bd_addr(PHONE)!, key(1), 8);
  db1.put_link_key(sscanf_bd_addr(PC)!, key(2), 0);
  open_key_file(F2).put_link_key(sscanf_bd_addr(HEADSET)!, key(3), 4);
  fs.writeFileSync(path.join(DIR, 'not-a-key-file.tlv'), 'ignored');
});

test('keys / keys list: every bthost_<BD_ADDR>.tlv of $BTHOST_KEYS_DIR, or the --keys file; a missing file is no error', async () => {
  const [all, list, one, missing] = await Promise.all([
    bthostAsync(['keys']),
    bthostAsync(['keys', 'list']),
    bthostAsync(['keys', 'list', '--keys', F2]),
    bthostAsync(['keys', 'list', '--keys', path.join(tmp, 'nowhere.tlv')]),
  ]);
  const lines = (f: string) => list_keys(open_key_file(f)).map((k) => `  ${bd_addr_to_str(k.bd_addr)}  type ${k.type}`);
  assert.equal(
    lines(F1).sort(),
    [`  ${PHONE}  type 8`, `  ${PC}  type 0`],
    'what the file holds (the expected output below lists it in slot order)',
  );
  const f1 = list_keys(open_key_file(F1)).map(
    (k) =>
      `  ${bd_addr_to_str(k.bd_addr)}  type ${k.type} (${k.type === 8 ? 'authenticated, P-256' : 'combination key (legacy PIN)'})\n`,
  );
  const expected = `${F1}: 2 keys\n${f1.join('')}${F2}: 1 key\n  ${HEADSET}  type 4 (unauthenticated, P-192)\n`;
  for (const r of [all, list]) {
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, expected);
    assert.is(r.stderr, '');
  }
  assert.is(one.status, 0);
  assert.is(one.stdout, `${F2}: 1 key\n  ${HEADSET}  type 4 (unauthenticated, P-192)\n`);
  assert.is(missing.status, 0);
  assert.is(missing.stdout, `${path.join(tmp, 'nowhere.tlv')}: 0 keys\n`);
  assert.is(missing.stderr, `bthost: no key store at ${path.join(tmp, 'nowhere.tlv')} yet\n`);
  assert.not.ok(fs.existsSync(path.join(tmp, 'nowhere.tlv')), 'listing makes no file');
});

test('usage errors: exit 2 with one line, no file touched', async () => {
  const before = [fs.readFileSync(F1), fs.readFileSync(F2)];
  const runs = await Promise.all([
    bthostAsync(['keys', 'frob']),
    bthostAsync(['keys', 'delete']),
    bthostAsync(['keys', 'delete', 'not-an-address']),
    bthostAsync(['keys', 'delete', '--all', PHONE]),
    bthostAsync(['keys', 'list', PHONE]),
  ]);
  for (const r of runs) {
    assert.is(r.status, 2, r.stderr);
    assert.is(r.stdout, '');
    assert.is(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
    assert.match(r.stderr, /^bthost keys: .* \(bthost keys --help for usage\)\n$/);
  }
  assert.match(runs[0]!.stderr, "unknown subcommand 'frob' (list or delete)");
  assert.match(runs[3]!.stderr, `delete --all takes no address, got '${PHONE}'`);
  assert.equal([fs.readFileSync(F1), fs.readFileSync(F2)], before);
});

test('keys delete ADDR: from the file that has it, the other keys kept byte for byte; again: exit 1 with one line', async () => {
  const del = await bthostAsync(['keys', 'delete', PHONE.toLowerCase()]);
  assert.is(del.status, 0, del.stderr);
  assert.is(del.stdout, `deleted the key for ${PHONE} from ${F1}\n`);
  assert.equal(contents(F1), [`${PC} type 0 key ${hex(key(2))}`]);
  assert.equal(contents(F2), [`${HEADSET} type 4 key ${hex(key(3))}`]);
  const again = await bthostAsync(['keys', 'delete', PHONE]);
  assert.is(again.status, 1);
  assert.is(again.stdout, '');
  assert.is(again.stderr, `bthost: no key for ${PHONE} in ${DIR}/bthost_*.tlv\n`);
});

test('keys delete --all --keys FILE: that file only; then nothing left to delete is no error', async () => {
  const del = await bthostAsync(['keys', 'delete', '--all', '--keys', F1]);
  assert.is(del.status, 0, del.stderr);
  assert.is(del.stdout, `deleted the key for ${PC} from ${F1}\n`);
  assert.equal(contents(F1), []);
  assert.equal(contents(F2), [`${HEADSET} type 4 key ${hex(key(3))}`], 'the other file untouched');
  const none = await bthostAsync(['keys', 'delete', '--all', '--keys', F1]);
  assert.is(none.status, 0, none.stderr);
  assert.is(none.stdout, `no keys in ${F1}\n`);
});

test('LE bonds: listed beside the link keys; delete ADDR removes the bond from the file, --all the rest', async () => {
  const F3 = path.join(tmp, 'le-keys', 'bthost_le.tlv');
  const store = open_key_store(F3);
  store.link_keys.put_link_key(sscanf_bd_addr(HEADSET)!, key(3), 4);
  const LE1 = 'C0:FF:EE:00:00:09';
  const LE2 = 'D0:11:22:33:44:55';
  const db = store.le_devices;
  const i1 = db.le_device_db_add(0, sscanf_bd_addr(LE1)!, key(4));
  db.le_device_db_encryption_set(i1, {
    ediv: 0,
    rand: new Uint8Array(8),
    ltk: key(5),
    key_size: 16,
    authenticated: false,
    authorized: false,
    secure_connection: true,
  });
  const i2 = db.le_device_db_add(1, sscanf_bd_addr(LE2)!, null);
  const legacy = {
    ediv: 0x1234,
    rand: key(6).subarray(0, 8),
    ltk: key(7),
    key_size: 7,
    authenticated: true,
    authorized: false,
    secure_connection: false,
  };
  db.le_device_db_encryption_set(i2, legacy);
  db.le_device_db_local_encryption_set(i2, { ...legacy, ltk: key(8) });
  db.le_device_db_remote_csrk_set(i2, key(9));
  const list = await bthostAsync(['keys', 'list', '--keys', F3]);
  assert.is(list.status, 0, list.stderr);
  assert.is(
    list.stdout,
    `${F3}: 1 key, 2 LE bonds\n` +
      `  ${HEADSET}  type 4 (unauthenticated, P-192)\n` +
      `  LE public  ${LE1}  keys LTK,IRK  authenticated no  SC yes  key size 16\n` +
      `  LE random  ${LE2}  keys LTK,local-LTK,CSRK  authenticated yes  SC no  key size 7\n`,
  );
  const bond2 = btstack_tlv_posix_init_instance(F3).get_tag(le_device_db_tlv_tag(i2))!;
  const del = await bthostAsync(['keys', 'delete', LE1, '--keys', F3]);
  assert.is(del.status, 0, del.stderr);
  assert.is(del.stdout, `deleted the LE bond for ${LE1} (public) from ${F3}\n`);
  const after = btstack_tlv_posix_init_instance(F3);
  assert.is(after.get_tag(le_device_db_tlv_tag(i1)), null, "the bond's tag is gone from the file");
  assert.equal(after.get_tag(le_device_db_tlv_tag(i2)), bond2, 'the other bond byte for byte');
  assert.equal(contents(F3), [`${HEADSET} type 4 key ${hex(key(3))}`]);
  const all = await bthostAsync(['keys', 'delete', '--all', '--keys', F3]);
  assert.is(all.status, 0, all.stderr);
  assert.is(all.stdout, `deleted the key for ${HEADSET} from ${F3}\ndeleted the LE bond for ${LE2} (random) from ${F3}\n`);
  assert.equal(btstack_tlv_posix_init_instance(F3).tags(), []);
});

test.run();
