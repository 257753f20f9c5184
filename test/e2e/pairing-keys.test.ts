/**
 * Link keys between two bthost stacks (virtual radio, virtual time): a stored key is used again on
 * the next connection (HCI Link Key Request Reply, opcode 0x040B, Core Vol 4 Part E 7.1.10; no IO
 * Capability exchange), a stale key (the peer deleted its copy) ends in Authentication Complete
 * 0x06 PIN or Key Missing, which deletes ours, and the next request pairs again, as BTstack does.
 * Bad input: a peer that refuses to pair, IO capabilities that cannot give MITM, an application
 * that never answers, a disconnect in the middle: exactly one GAP_EVENT_SECURITY_LEVEL per request,
 * pools full afterwards, captures clean.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SSP_IO_CAPABILITY_DISPLAY_YES_NO } from '../../src/codes/v1.4.js';
import { GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS } from '../../src/hci/hci-security-state.js';
import { tsharkFields } from '../helpers/capture.js';
import { ADDR_A, ADDR_B, addr_at, pairWorld } from './pairing-helpers.js';

const LINK_KEY_REQUEST_REPLY = 'bthci_cmd.opcode == 0x040b';
const IO_CAP_REPLY = 'bthci_cmd.opcode == 0x042b';

test('stored key: the second connection authenticates with Link Key Request Reply on both sides, no pairing', () => {
  const w = pairWorld({ tag: 'reuse' });
  w.connect();
  assert.is(w.request(2)[0], 2);
  const key_a = w.a.stack.gap.gap_get_link_key_for_bd_addr(ADDR_B)!;
  w.disconnect();
  w.connect();
  assert.is(w.request(2)[0], 2);
  assert.is(w.a.of(0xdf).length, 1, 'no second PAIRING_STARTED');
  assert.equal(w.a.stack.gap.gap_get_link_key_for_bd_addr(ADDR_B), key_a, 'same key');
  w.finish();
  assert.is(tsharkFields(w.a.log, ['frame.number'], LINK_KEY_REQUEST_REPLY).length, 1, 'A: Link Key Request Reply');
  assert.is(tsharkFields(w.b.log, ['frame.number'], LINK_KEY_REQUEST_REPLY).length, 1, 'B: Link Key Request Reply');
  assert.is(tsharkFields(w.a.log, ['frame.number'], IO_CAP_REPLY).length, 1, 'one IO capability exchange (the first pairing)');
});

test('stale key: B lost its key; A gets 0x06, deletes its key, level 0; the next request pairs again', () => {
  const w = pairWorld({ tag: 'stale' });
  w.connect();
  assert.is(w.request(2)[0], 2);
  w.disconnect();
  w.b.stack.gap.gap_drop_link_key_for_bd_addr(ADDR_A);
  w.connect();
  assert.is(w.request(2)[0], 0);
  assert.ok(
    w.a.of(0x06).some((e) => e.startsWith('06 03 06')),
    'Authentication Complete PIN or Key Missing',
  );
  assert.is(w.a.stack.gap.gap_get_link_key_for_bd_addr(ADDR_B), null, 'stale key deleted');
  assert.is(w.request(2)[0], 2, 're-paired');
  assert.is(w.a.of(0xdf).length, 2);
  assert.ok(w.a.stack.gap.gap_get_link_key_for_bd_addr(ADDR_B));
  assert.ok(w.b.stack.gap.gap_get_link_key_for_bd_addr(ADDR_A));
  w.finish();
});

test('A lost its key: Link Key Request Negative Reply, pairing again, B keeps the new key', () => {
  const w = pairWorld({ tag: 'lost-a' });
  w.connect();
  w.request(2);
  const old_b = w.b.stack.gap.gap_get_link_key_for_bd_addr(ADDR_A)!;
  w.disconnect();
  w.a.stack.gap.gap_delete_all_link_keys();
  w.connect();
  assert.is(w.request(2)[0], 2);
  assert.is(w.a.of(0xdf).length, 2, 'paired again');
  assert.not.equal(w.b.stack.gap.gap_get_link_key_for_bd_addr(ADDR_A)!.link_key, old_b.link_key);
  w.finish();
});

test('peer refuses to pair (not bondable, A bonds): IO Capability Negative Reply 0x18 from B; A level 0, one event', () => {
  const w = pairWorld({ tag: 'refuse', b: (n) => n.stack.gap.gap_set_bondable_mode(0) });
  w.connect();
  assert.is(w.request(2)[0], 0);
  assert.equal(
    w.a.of(0xe0).map((e) => e.slice(-2)),
    ['18'],
    'A: PAIRING_COMPLETE Pairing Not Allowed',
  );
  assert.equal(
    w.b.of(0xe0).map((e) => e.slice(-2)),
    ['18'],
  );
  w.finish();
  assert.equal(
    tsharkFields(w.b.log, ['bthci_cmd.reason'], 'bthci_cmd.opcode == 0x0434').length,
    1,
    'B: IO Capability Request Negative Reply',
  );
});

test('level 3 asked for, peer has no input or output: confirmation refused, level 0', () => {
  const w = pairWorld({ tag: 'no-mitm', a: (n) => n.stack.gap.gap_ssp_set_io_capability(SSP_IO_CAPABILITY_DISPLAY_YES_NO) });
  w.connect();
  assert.is(w.request(3)[0], 0);
  assert.equal(
    w.a.of(0xe0).map((e) => e.slice(-2)),
    ['2f'],
    'Insufficient Security',
  );
  assert.is(w.a.of(0x33).length, 0, 'the confirmation request does not reach the application');
  w.finish();
});

test('an application that never answers: the negative reply after 25 s, level 0', () => {
  const w = pairWorld({ tag: 'silent', b: (n) => n.stack.gap.gap_ssp_set_auto_accept(0) });
  w.connect();
  const t0 = w.rl.get_time_ms();
  assert.is(w.request(2)[0], 0);
  assert.ok(w.rl.get_time_ms() - t0 >= GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS);
  assert.is(w.b.of(0x33).length, 1, 'B was asked');
  assert.is(w.b.stack.gap.gap_ssp_confirmation_response(ADDR_A), 0x0c, 'too late: Command Disallowed');
  w.finish();
  assert.is(
    tsharkFields(w.b.log, ['frame.number'], 'bthci_cmd.opcode == 0x042d').length,
    1,
    'B: User Confirmation Negative Reply',
  );
});

test('disconnect during pairing: one GAP_EVENT_SECURITY_LEVEL (level 0) for each of two requests, PAIRING_COMPLETE 0x13, after the Disconnection Complete', () => {
  const w = pairWorld({ tag: 'drop', b: (n) => n.stack.gap.gap_ssp_set_auto_accept(0) });
  w.b.on = (e, me) => {
    if (e[0] === 0x33) me.stack.run_loop.execute_on_main_thread(() => me.stack.gap.gap_disconnect(me.handle));
  };
  const h = w.connect();
  w.a.stack.gap.gap_request_security_level(h, 2);
  w.a.stack.gap.gap_request_security_level(h, 2);
  w.until(() => w.a.handle < 0, 'link gone');
  w.rl.run(1000);
  const hh = h.toString(16).padStart(2, '0');
  assert.equal(w.a.of(0xd8), [`d8 03 ${hh} 00 00`, `d8 03 ${hh} 00 00`]);
  const codes = w.a.events.map((e) => e[0]);
  assert.ok(codes.indexOf(0x05) < codes.indexOf(0xd8), 'after the Disconnection Complete');
  assert.equal(
    w.a.of(0xe0).map((e) => e.slice(-2)),
    ['13'],
  );
  assert.is(w.b.stack.gap.gap_ssp_confirmation_response(addr_at(w.b.events.find((e) => e[0] === 0x33)!)), 0x02, 'gone');
  w.finish();
});

test.run();
