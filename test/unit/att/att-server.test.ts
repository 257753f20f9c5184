/**
 * The ATT server's answers, PDU by PDU, on the db of att-server-harness.ts. Every request and
 * response is written out from the Bluetooth Core spec, Vol 3 Part F 3.4 (section per test):
 * opcode, then the parameters little endian. Error Response (3.4.1.1) = 01, request opcode,
 * handle (2), error code.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { att_db_entries } from '../../../src/att/att-db.js';
import { att_validate_security, type AttConnection } from '../../../src/att/att-server-requests.js';
import { DB, Harness, h } from './att-server-harness.js';

function ready(profile: 'v1.4' | 'v1.8' = 'v1.4'): Harness {
  const t = new Harness(profile);
  t.connect();
  return t;
}

test('the test db has the handles the tests assume', () => {
  const e = att_db_entries(DB).entries.map((x) => [x.handle, x.flags]);
  assert.equal(
    e.map(([hd]) => hd),
    Array.from({ length: 18 }, (_, i) => i + 1),
  );
  // 0x000C: READ|WRITE|DYNAMIC + read permission bit 0 (encrypted) + write permission bit 1 (authenticated)
  assert.is(e[11]![1], 0x051a);
  // 0x000E: READ + read permission bits 0,1 (authorized) + key size 16 ((16 - 1) << 12)
  assert.is(e[13]![1], 0xfc02);
});

test('3.4.2 Exchange MTU: Server Rx MTU = min(client, ours), at least 23; bad length -> Invalid PDU', () => {
  const t = ready();
  assert.is(t.server.att_server_get_mtu(t.con_handle), 23);
  assert.is(t.rsp('02 00 02'), h('03 00 02')); // client 512 -> 512
  assert.is(t.server.att_server_get_mtu(t.con_handle), 512);
  assert.is(t.rsp('02 10 00'), h('03 17 00')); // client 16 -> 23
  assert.is(t.rsp('02 ff ff'), h('03 f9 03')); // client 65535 -> ours: HCI_ACL_PAYLOAD_SIZE 1021 - 4 = 1017
  assert.is(t.rsp('02 00'), h('01 02 00 00 04'));
  assert.is(t.rsp('02 00 02 00'), h('01 02 00 00 04'));
});

test('3.4.3.1-2 Find Information: format 1 (16-bit) / 2 (128-bit), MTU-bounded, errors', () => {
  const t = ready();
  assert.is(t.rsp('04 01 00 03 00'), h('05 01  01 00 00 28  02 00 03 28  03 00 00 2a'));
  // ATT_MTU 23: 2 + 5 * 4 = 22 octets; a sixth pair would not fit
  assert.is(t.rsp('04 01 00 ff ff'), h('05 01 0100 0028 0200 0328 0300 002a 0400 0028 0500 0328'));
  // a 128-bit type ends a run of 16-bit ones; alone it is sent with format 2
  assert.is(t.rsp('04 09 00 0a 00'), h('05 01 09 00 03 28'));
  assert.is(t.rsp('04 0a 00 0a 00'), h('05 02 0a 00 fb 34 9b 5f 80 00 00 80 00 10 00 00 11 ff 00 00'));
  assert.is(t.rsp('04 00 00 ff ff'), h('01 04 00 00 01')); // start 0: Invalid Handle
  assert.is(t.rsp('04 05 00 04 00'), h('01 04 05 00 01')); // start > end: Invalid Handle
  assert.is(t.rsp('04 13 00 ff ff'), h('01 04 13 00 0a')); // Attribute Not Found, start handle
  assert.is(t.rsp('04 01 00 ff'), h('01 04 00 00 04'));
});

test('3.4.3.3-4 Find By Type Value: handle + group end; a group running past End Handle keeps its real end', () => {
  const t = ready();
  assert.is(t.rsp('06 01 00 ff ff 00 28 0f 18'), h('07 04 00 07 00'));
  assert.is(t.rsp('06 01 00 04 00 00 28 0f 18'), h('07 04 00 07 00'));
  assert.is(t.rsp('06 01 00 ff ff 00 28 fb 34 9b 5f 80 00 00 80 00 10 00 00 10 ff 00 00'), h('07 08 00 12 00'));
  assert.is(t.rsp('06 01 00 ff ff 00 28 0d 18'), h('01 06 01 00 0a'));
  assert.is(t.rsp('06 00 00 ff ff 00 28 0f 18'), h('01 06 00 00 01'));
  assert.is(t.rsp('06 01 00 ff ff 00'), h('01 06 00 00 04'));
});

test('3.4.4.1-2 Read By Type: same-length pairs, dynamic values, truncation, permission errors', () => {
  const t = ready();
  // characteristic declarations 0x0002 and 0x0005 (5-octet values); 0x0009's is 19 octets: stop
  assert.is(t.rsp('08 01 00 ff ff 03 28'), h('09 07  02 00 02 03 00 00 2a  05 00 32 06 00 19 2a'));
  assert.is(t.rsp('08 01 00 ff ff 19 2a'), h('09 03 06 00 64')); // dynamic: the read callback
  // 128-bit type; FF11's 40-octet value cut to ATT_MTU - 4 = 19 octets, Length 21
  assert.is(
    t.rsp('08 01 00 ff ff fb 34 9b 5f 80 00 00 80 00 10 00 00 11 ff 00 00'),
    h('09 15 0a 00 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12'),
  );
  assert.is(t.rsp('08 01 00 ff ff 03 2a'), h('01 08 10 00 02')); // only a non-readable match: Read Not Permitted, its handle
  assert.is(t.rsp('08 01 00 ff ff 01 2a'), h('01 08 01 00 0f')); // encrypted read on a plain link
  assert.is(t.rsp('08 01 00 ff ff 99 99'), h('01 08 01 00 0a'));
  assert.is(t.rsp('08 02 00 01 00 03 28'), h('01 08 02 00 01'));
  assert.is(t.rsp('08 01 00 ff ff 03'), h('01 08 00 00 04'));
});

test('3.4.4.3-6 Read / Read Blob: value up to ATT_MTU - 1, offsets, errors', () => {
  const t = ready();
  assert.is(t.rsp('0a 03 00'), h('0b 62 74 68 6f 73 74')); // "bthost"
  assert.is(t.rsp('0a 12 00'), h('0b 6162636465666768696a6b6c6d6e6f7071727374 7576')); // first 22 of 30
  assert.is(t.rsp('0c 12 00 16 00'), h('0d 77 78 79 7a 30 31 32 33')); // offset 22: the last 8
  assert.is(t.rsp('0c 12 00 1e 00'), h('0d')); // offset = length: empty
  assert.is(t.rsp('0c 12 00 1f 00'), h('01 0c 12 00 07')); // Invalid Offset
  assert.is(t.rsp('0c 0a 00 14 00'), h('0d 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27')); // dynamic, offset 20
  assert.is(t.rsp('0a 20 00'), h('01 0a 20 00 01'));
  assert.is(t.rsp('0a 00 00'), h('01 0a 00 00 01'));
  assert.is(t.rsp('0a 10 00'), h('01 0a 10 00 02'));
  assert.is(t.rsp('0a 03'), h('01 0a 00 00 04'));
  assert.is(t.rsp('0c 12 00 00'), h('01 0c 00 00 04'));
  t.read_error = 0x80; // the app answers with an error through ATT_READ_ERROR_CODE_OFFSET
  t.l2.set_security_level(t.con_handle, 2);
  assert.is(t.rsp('0a 0c 00'), h('01 0a 0c 00 80'));
});

test('3.4.4.7-8 / 3.4.4.11-12 Read Multiple and Read Multiple Variable', () => {
  const t = ready();
  assert.is(t.rsp('0e 03 00 06 00'), h('0f 62 74 68 6f 73 74 64'));
  assert.is(t.rsp('20 03 00 06 00'), h('21 06 00 62 74 68 6f 73 74  01 00 64'));
  assert.is(t.rsp('0e 03 00 20 00'), h('01 0e 20 00 01'));
  assert.is(t.rsp('0e 03 00 10 00'), h('01 0e 10 00 02'));
  assert.is(t.rsp('0e 0c 00 03 00'), h('01 0e 0c 00 0f'));
  assert.is(t.rsp('0e 03 00'), h('01 0e 00 00 04')); // fewer than two handles
  assert.is(t.rsp('0e 03 00 06'), h('01 0e 00 00 04')); // odd
  assert.is(t.rsp('20 03 00'), h('01 20 00 00 04'));
  // ATT_MTU 23: 22 octets of values at most
  assert.is(t.rsp('0e 12 00 03 00'), h('0f 6162636465666768696a6b6c6d6e6f7071727374 7576'));
});

test('3.4.4.9-10 Read By Group Type: services with end handles, unsupported group type', () => {
  const t = ready();
  assert.is(t.rsp('10 01 00 ff ff 00 28'), h('11 06  01 00 03 00 00 18  04 00 07 00 0f 18'));
  assert.is(t.rsp('10 08 00 ff ff 00 28'), h('11 14 08 00 12 00 fb 34 9b 5f 80 00 00 80 00 10 00 00 10 ff 00 00'));
  assert.is(t.rsp('10 01 00 05 00 00 28'), h('11 06  01 00 03 00 00 18  04 00 07 00 0f 18'));
  assert.is(
    t.rsp('10 01 00 ff ff fb 34 9b 5f 80 00 00 80 00 10 00 00 00 28 00 00'),
    h('11 06  01 00 03 00 00 18  04 00 07 00 0f 18'),
  );
  assert.is(t.rsp('10 01 00 ff ff 01 28'), h('01 10 01 00 0a')); // secondary: none
  assert.is(t.rsp('10 01 00 ff ff 03 28'), h('01 10 01 00 10')); // Unsupported Group Type
  assert.is(t.rsp('10 13 00 ff ff 00 28'), h('01 10 13 00 0a'));
  assert.is(t.rsp('10 00 00 ff ff 00 28'), h('01 10 00 00 01'));
  assert.is(t.rsp('10 01 00 ff ff 00'), h('01 10 00 00 04'));
});

test('3.4.5.1-4 Write Request / Write Command: callback, static and missing permissions, commands never answered', () => {
  const t = ready();
  assert.is(t.rsp('12 0a 00 01 02 03'), h('13'));
  assert.equal(t.writes.pop(), { handle: 0x0a, mode: 0, offset: 0, value: '01 02 03' });
  assert.is(t.rsp('12 10 00 01'), h('01 12 10 00 03')); // WRITE but static: Write Not Permitted
  assert.is(t.rsp('12 03 00 01'), h('01 12 03 00 03')); // not writable
  assert.is(t.rsp('12 30 00 01'), h('01 12 30 00 01'));
  assert.is(t.rsp('12 0a'), h('01 12 00 00 04'));
  assert.is(t.rsp('12 0c 00 01'), h('01 12 0c 00 05')); // write needs authentication
  t.write_status = 0x80;
  assert.is(t.rsp('12 0a 00 ff'), h('01 12 0a 00 80')); // the app's error
  t.write_status = 0;
  t.writes.length = 0;
  assert.equal(t.req('52 0a 00 05 06'), []);
  assert.equal(t.writes, [{ handle: 0x0a, mode: 0, offset: 0, value: '05 06' }]);
  assert.equal(t.req('52 0c 00 05'), []); // no WRITE_WITHOUT_RESPONSE: dropped
  assert.equal(t.req('52 0a'), []);
  assert.equal(t.req('d2 0a 00 05 00 00 00 00 00 00 00 00 00 00 00 00'), []); // Signed Write: dropped (no SM)
  assert.equal(t.req('7f 01 02'), []); // unknown command
  assert.is(t.writes.length, 1);
});

test('3.4.6 Prepare / Execute Write: echo, transaction modes, queue full from the app, postponed errors, cancel', () => {
  const t = ready();
  assert.is(t.rsp('16 0a 00 00 00 41 42'), h('17 0a 00 00 00 41 42'));
  assert.is(t.rsp('16 0a 00 02 00 43'), h('17 0a 00 02 00 43'));
  assert.is(t.rsp('16 0a 00 03 00 44'), h('01 16 0a 00 09')); // the app's bound: Prepare Queue Full
  assert.is(t.rsp('18 01'), h('19'));
  assert.equal(
    t.writes.map((w) => [w.mode, w.offset, w.value]),
    [
      [1, 0, '41 42'],
      [1, 2, '43'],
      [1, 3, '44'],
      [4, 0, ''],
      [2, 0, ''],
    ],
  );
  t.writes.length = 0;
  assert.is(t.rsp('16 0a 00 00 00 41'), h('17 0a 00 00 00 41'));
  assert.is(t.rsp('18 00'), h('19')); // cancel
  assert.equal(
    t.writes.map((w) => w.mode),
    [1, 3],
  );
  // Invalid Offset from the app is postponed to the Execute Write Response (as BTstack)
  t.write_status = 0x07;
  assert.is(t.rsp('16 0a 00 50 00 41'), h('17 0a 00 50 00 41'));
  t.write_status = 0;
  assert.is(t.rsp('18 01'), h('01 18 0a 00 07'));
  assert.is(t.rsp('16 10 00 00 00 41'), h('01 16 10 00 03'));
  assert.is(t.rsp('16 0c 00 00 00 41'), h('01 16 0c 00 05'));
  assert.is(t.rsp('16 0a 00 00'), h('01 16 00 00 04'));
  assert.is(t.rsp('18'), h('01 18 00 00 04'));
  assert.is(t.rsp('18 01 00'), h('01 18 00 00 04')); // Flags is one octet (3.4.6.3)
});

test('security from the link level: encryption, authentication, authorization; key size by the rule', () => {
  const t = ready();
  assert.is(t.rsp('0a 0c 00'), h('01 0a 0c 00 0f')); // LEVEL_0: Insufficient Encryption
  t.l2.set_security_level(t.con_handle, 2); // encrypted, unauthenticated
  assert.is(t.rsp('0a 0c 00'), h('0b aa bb'));
  assert.is(t.rsp('12 0c 00 01'), h('01 12 0c 00 05'));
  t.l2.set_security_level(t.con_handle, 3);
  assert.is(t.rsp('12 0c 00 01'), h('13'));
  assert.is(t.rsp('0a 0e 00'), h('01 0a 0e 00 08')); // authorization: not granted without SM
  const conn: AttConnection = {
    con_handle: 1,
    mtu: 23,
    max_mtu: 23,
    mtu_exchanged: false,
    encryption_key_size: 7,
    authenticated: false,
    authorized: false,
    secure_connection: false,
    prepare_write_error_code: 0,
    prepare_write_error_handle: 0,
  };
  assert.is(att_validate_security(conn, 0xf402, false), 0x0c); // encrypted + key size 16 on a 7-octet key
  assert.is(att_validate_security(conn, 0x6402, false), 0); // key size 7
  assert.is(att_validate_security(conn, 0x0402 | 0x20, false), 0x0f); // SC required, link not SC
});

test('unknown requests -> Request Not Supported (handle 0); one request at a time, as BTstack', () => {
  const t = ready();
  assert.is(t.rsp('3f 01 02'), h('01 3f 00 00 06'));
  assert.is(t.rsp('1e'), h('01 1e 00 00 06')); // a confirmation with no indication out
  t.l2.blocked = true;
  assert.equal(t.req('0a 03 00'), []);
  assert.equal(t.req('0a 06 00'), []); // before the first response went out: dropped
  t.l2.unblock();
  t.run_loop.run();
  assert.is(t.l2.sent.length > 0 && t.l2.sent.at(-1)!.bytes[0], 0x0b);
  assert.is(t.l2.sent.filter((s) => s.bytes[0] === 0x0b).length, 1);
  assert.is(t.rsp('0a 06 00'), h('0b 64'));
});

test.run();
