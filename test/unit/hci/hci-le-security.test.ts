/**
 * gap_security_level for LE links (Core Vol 3 Part C 10.2.1, LE security mode 1): from the
 * encryption state HCI keeps and what the Security Manager reports in HciConnection.le_sec.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HciLeSecurity, gap_security_level_for_le_link } from '../../../src/hci/hci-le-security.js';

function sec(key_size: number, authenticated: boolean, secure_connection: boolean): HciLeSecurity {
  const s = new HciLeSecurity();
  s.encryption_key_size = key_size;
  s.authenticated = authenticated;
  s.secure_connection = secure_connection;
  return s;
}

test('LE levels: 0 unencrypted, 2 unauthenticated, 3 authenticated, 4 authenticated SC with 16 octets', () => {
  assert.is(gap_security_level_for_le_link(0, sec(16, true, true), 7), 0, 'not encrypted');
  assert.is(gap_security_level_for_le_link(1, sec(0, false, false), 7), 0, 'encrypted, nothing reported yet');
  assert.is(gap_security_level_for_le_link(1, sec(16, false, true), 7), 2, 'SC Just Works');
  assert.is(gap_security_level_for_le_link(1, sec(16, false, false), 7), 2, 'legacy Just Works');
  assert.is(gap_security_level_for_le_link(1, sec(16, true, false), 7), 3, 'legacy passkey');
  assert.is(gap_security_level_for_le_link(1, sec(15, true, true), 7), 3, 'SC with a short key');
  assert.is(gap_security_level_for_le_link(1, sec(16, true, true), 7), 4, 'SC authenticated');
  assert.is(gap_security_level_for_le_link(1, sec(7, true, false), 8), 0, 'key below the required size');
  const s = sec(16, true, true);
  s.reset();
  assert.is(gap_security_level_for_le_link(1, s, 7), 0, 'reset on disconnect / encryption off');
});

test.run();
