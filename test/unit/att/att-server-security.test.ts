/**
 * Attribute permissions against the link's security, PDU by PDU (Vol 3 Part F 3.4; Error Response
 * 3.4.1.1 = 01, request opcode, handle, error code; error codes Table 3.4: 0x05 Insufficient
 * Authentication, 0x08 Insufficient Authorization, 0x0C Insufficient Encryption Key Size, 0x0F
 * Insufficient Encryption). The db is compiled from a .gatt with the flags BTstack's compile_gatt.py
 * knows; the link's security comes from gap_encryption_key_size / gap_authenticated /
 * gap_secure_connection, as BTstack's att_server reads them on Encryption Change.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { att_db_entries } from '../../../src/att/att-db.js';
import { gatt_compile } from '../../../src/att/gatt-compiler.js';
import { Harness, h } from './att-server-harness.js';

const GATT = [
  'PRIMARY_SERVICE, FF00',
  'CHARACTERISTIC, FF01, READ | WRITE | WRITE_WITHOUT_RESPONSE | NOTIFY | DYNAMIC | READ_ENCRYPTED | WRITE_ENCRYPTED,',
  'CHARACTERISTIC, FF02, READ | WRITE | DYNAMIC | READ_AUTHENTICATED | WRITE_AUTHENTICATED,',
  'CHARACTERISTIC, FF03, READ | DYNAMIC | ENCRYPTION_KEY_SIZE_16,',
  'CHARACTERISTIC, FF04, READ | WRITE | DYNAMIC | READ_AUTHORIZED | WRITE_AUTHORIZED,',
  'CHARACTERISTIC, FF05, READ, "open"',
].join('\n');

const DB = (() => {
  const r = gatt_compile(GATT, { file: 'att-security.gatt' });
  if (!r.profile_data) throw new Error(JSON.stringify(r.diagnostics));
  return r.profile_data;
})();

function ready(): Harness {
  const t = new Harness('v1.4', {}, DB);
  t.connect();
  return t;
}

test('the db: handles and permission flags as compile_gatt.py sets them', () => {
  const e = new Map(att_db_entries(DB).entries.map((x) => [x.handle, x.flags]));
  // value flags: READ 0x02, WRITE 0x08, WWR 0x04, DYNAMIC 0x100, read perm bit0 0x400 / bit1 0x800,
  // write perm bit0 0x01 / bit1 0x10, key size (n - 1) << 12
  assert.is(e.get(0x0003), 0x050f); // FF01: read + write encrypted
  assert.is(e.get(0x0004)! & 0x11, 0x01); // its CCC: writes need encryption too
  assert.is(e.get(0x0006), 0x091a); // FF02: read + write authenticated
  assert.is(e.get(0x0008), 0xf503); // FF03: key size 16 implies encrypted read and write
  assert.is(e.get(0x000a), 0x0d1b); // FF04: read + write authorized
  assert.is(e.get(0x000c), 0x0002); // FF05: open
});

test('unencrypted link: every protected request gets its error, open ones are served', () => {
  const t = ready();
  assert.is(t.rsp('0a 03 00'), h('01 0a 03 00 0f')); // Read: Insufficient Encryption
  assert.is(t.rsp('0c 03 00 00 00'), h('01 0c 03 00 0f')); // Read Blob
  assert.is(t.rsp('0a 06 00'), h('01 0a 06 00 05')); // Read: Insufficient Authentication
  assert.is(t.rsp('0a 08 00'), h('01 0a 08 00 0f')); // key size named, link unencrypted
  assert.is(t.rsp('0a 0a 00'), h('01 0a 0a 00 08')); // Insufficient Authorization
  assert.is(t.rsp('0a 0c 00'), h('0b 6f 70 65 6e')); // "open"
  assert.is(t.rsp('08 01 00 ff ff 01 ff'), h('01 08 01 00 0f')); // Read By Type FF01: BTstack names the start handle
  assert.is(t.rsp('0e 0c 00 03 00'), h('01 0e 03 00 0f')); // Read Multiple: the failing handle
  assert.is(t.rsp('12 03 00 01'), h('01 12 03 00 0f')); // Write
  assert.is(t.rsp('12 06 00 01'), h('01 12 06 00 05'));
  assert.is(t.rsp('12 0a 00 01'), h('01 12 0a 00 08'));
  assert.is(t.rsp('12 04 00 01 00'), h('01 12 04 00 0f')); // CCC write (notifications on)
  assert.is(t.rsp('16 03 00 00 00 41'), h('01 16 03 00 0f')); // Prepare Write
  assert.equal(t.req('52 03 00 01'), []); // Write Command: dropped, no response
  assert.equal(t.writes, []); // the app saw none of them
});

test('encrypted (level 2, 16-octet key): encrypted permissions pass, authenticated / authorized do not', () => {
  const t = ready();
  t.l2.set_security_level(t.con_handle, 2);
  assert.is(t.rsp('0a 03 00'), h('0b'));
  assert.is(t.rsp('0a 08 00'), h('0b'));
  assert.is(t.rsp('0a 06 00'), h('01 0a 06 00 05'));
  assert.is(t.rsp('0a 0a 00'), h('01 0a 0a 00 08'));
  assert.is(t.rsp('08 01 00 ff ff 01 ff'), h('09 02 03 00'));
  assert.is(t.rsp('0e 0c 00 03 00'), h('0f 6f 70 65 6e'));
  assert.is(t.rsp('0e 0c 00 06 00'), h('01 0e 06 00 05'));
  assert.is(t.rsp('12 03 00 01'), h('13'));
  assert.is(t.rsp('12 04 00 01 00'), h('13'));
  assert.is(t.rsp('16 03 00 00 00 41'), h('17 03 00 00 00 41'));
  assert.is(t.rsp('18 01'), h('19'));
  assert.is(t.rsp('12 06 00 01'), h('01 12 06 00 05'));
  assert.equal(
    t.writes.map((w) => [w.handle, w.mode]),
    [
      [3, 0],
      [4, 0],
      [3, 1],
      [0, 4], // ATT_TRANSACTION_MODE_VALIDATE, then EXECUTE (handle 0, as BTstack)
      [0, 2],
    ],
  );
});

test('a 7-octet key: ENCRYPTION_KEY_SIZE_16 -> Insufficient Encryption Key Size (0x0C)', () => {
  const t = ready();
  t.l2.set_security_level(t.con_handle, 2);
  t.l2.set_key_size(t.con_handle, 7);
  assert.is(t.rsp('0a 08 00'), h('01 0a 08 00 0c'));
  assert.is(t.rsp('0a 03 00'), h('0b')); // no key size named: any encryption will do
});

test('authenticated (level 3): authenticated permissions pass, authorization is never granted', () => {
  const t = ready();
  t.l2.set_security_level(t.con_handle, 3);
  assert.is(t.rsp('0a 06 00'), h('0b 64')); // the harness app answers 0x0006 with 64
  assert.is(t.rsp('12 06 00 01'), h('13'));
  assert.is(t.rsp('0a 0a 00'), h('01 0a 0a 00 08'));
  assert.is(t.rsp('12 0a 00 01'), h('01 12 0a 00 08'));
});

test.run();
