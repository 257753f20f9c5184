/**
 * BR/EDR security in HCI (src/hci/hci-security.ts, gap-security.ts) against a scripted controller.
 * Command bytes from the Core spec Vol 4 Part E 7.1 (OGF 0x01: 0x0B Link Key Request Reply, 0x0C
 * Negative Reply, 0x0D PIN Code Request Reply, 0x0E Negative Reply, 0x11 Authentication
 * Requested, 0x13 Set Connection Encryption, 0x2B IO Capability Request Reply, 0x2C/0x2D User
 * Confirmation Request (Negative) Reply, 0x2E/0x2F User Passkey Request (Negative) Reply, 0x34 IO
 * Capability Request Negative Reply) and 7.5.7 (OGF 0x05 OCF 0x08 Read Encryption Key Size);
 * events from 7.7 (0x06 Authentication Complete, 0x08 Encryption Change, 0x16 PIN Code Request,
 * 0x17 Link Key Request, 0x18 Link Key Notification, 0x31/0x32 IO Capability Request/Response,
 * 0x33 User Confirmation Request, 0x34 User Passkey Request, 0x36 Simple Pairing Complete, 0x59
 * Encryption Change v2). GAP events as BTstack lays them out: GAP_EVENT_SECURITY_LEVEL 0xD8 (handle,
 * level [, status in v1.8]), GAP_EVENT_PAIRING_STARTED 0xDF / 0xE0 and _COMPLETE 0xE0 / 0xE1.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boot, cc, connect_classic, cs, harness, type Harness, settle, wire_addr, working } from './hci-script.js';
import { fromHex, hex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { SSP_IO_CAPABILITY_DISPLAY_YES_NO, SSP_IO_CAPABILITY_KEYBOARD_ONLY } from '../../../src/codes/v1.4.js';
import { GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS } from '../../../src/hci/hci-security-state.js';
import type { StackOptions } from '../../../src/stack.js';
import { Pools, resolveConfig } from '../../../src/core/config.js';
import { btstack_link_key_db_memory_instance } from '../../../src/hci/link-key-db.js';

const PEER = '00:1A:7D:DA:71:13';
const ADDR = sscanf_bd_addr(PEER)!;
const W = wire_addr(PEER); // 13 71 da 7d 1a 00
const KEY = '00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff';

function link(options: Partial<StackOptions> = {}): Harness {
  const h = working(options);
  connect_classic(h, 0x0040, PEER);
  h.t.take_commands();
  h.clear();
  return h;
}

/** Hex of the events (not Command Complete/Status, not NR_CONNECTIONS) since the last clear. */
function events(h: Harness): string[] {
  return h.events.filter((e) => e[0] !== 0x0e && e[0] !== 0x0f && e[0] !== 0x61).map((e) => hex(e));
}

/** The commands sent; each answered with a success Command Status / Complete (status, BD_ADDR echoed). */
function sent(h: Harness): string[] {
  h.rl.run(0);
  const cmds = h.t.take_commands();
  for (const c of cmds) {
    const b = fromHex(c);
    const opcode = b[0]! | (b[1]! << 8);
    if (opcode === 0x0411 || opcode === 0x0413) h.t.event(cs(opcode));
    else if (opcode === 0x1408)
      continue; // the test answers with the key size
    else h.t.event(cc(opcode, '00 ' + hex(b.subarray(3, 9))));
  }
  h.rl.run(0);
  return cmds;
}

/** Secure Simple Pairing as responder's peer sees it, from Link Key Request to the key. */
function pair_just_works(h: Harness, key_type = '04', remote_auth = '04'): void {
  h.t.event(`17 06 ${W}`);
  assert.equal(sent(h), [`0c 04 06 ${W}`], 'Link Key Request Negative Reply: no key stored');
  h.t.event(`31 06 ${W}`);
  assert.equal(sent(h), [`2b 04 09 ${W} 03 00 04`], 'IO Capability Request Reply: NoInputNoOutput, no OOB, general bonding');
  h.t.event(`32 09 ${W} 03 00 ${remote_auth}`);
  h.t.event(`33 0a ${W} 40 e2 01 00`);
  assert.equal(sent(h), [`2c 04 06 ${W}`], 'User Confirmation Request Reply (auto accept)');
  h.t.event(`36 07 00 ${W}`);
  h.t.event(`18 17 ${W} ${KEY} ${key_type}`);
}

test('defaults as BTstack: mode 4, level 2, bondable; NoInputNoOutput, general bonding in the IO capability reply', () => {
  const h = link();
  const gap = h.stack.gap;
  assert.is(gap.gap_get_security_mode(), 4);
  assert.is(gap.gap_get_security_level(), 2);
  assert.is(gap.gap_get_bondable_mode(), true);
  assert.is(gap.gap_set_security_mode(2), 0);
  assert.is(gap.gap_get_security_mode(), 2);
  assert.is(gap.gap_set_security_mode(3), 0x12, 'mode 3: Invalid HCI Command Parameters');
  assert.is(gap.gap_security_level(0x0040), 0);
  assert.is(gap.gap_security_level(0x0999), 0, 'unknown handle');
  h.t.event(`31 06 ${W}`);
  assert.equal(sent(h), [`2b 04 09 ${W} 03 00 04`]);
});

test('gap_request_security_level: pairing (Just Works), encryption, key size, one GAP_EVENT_SECURITY_LEVEL with level 2', () => {
  const h = link();
  h.stack.gap.gap_request_security_level(0x0040, 2);
  assert.equal(events(h), [], 'nothing synchronously');
  assert.equal(sent(h), ['11 04 02 40 00'], 'Authentication Requested');
  pair_just_works(h);
  assert.equal(
    events(h).slice(0, 2),
    [`17 06 ${W}`, `df 0a 40 00 ${W} 01 01`],
    'Link Key Request, then PAIRING_STARTED ssp=1 initiator=1',
  );
  assert.ok(events(h).includes(`e0 09 40 00 ${W} 00`), 'PAIRING_COMPLETE status 0 on Simple Pairing Complete');
  assert.equal(h.stack.gap.gap_get_link_key_for_bd_addr(ADDR), { link_key: fromHex(KEY), type: 4 }, 'key stored');
  h.clear();
  h.t.event('06 03 00 40 00');
  assert.equal(sent(h), ['13 04 03 40 00 01'], 'Set Connection Encryption on');
  h.t.event('08 04 00 40 00 01');
  assert.equal(sent(h), ['08 14 02 40 00'], 'Read Encryption Key Size');
  assert.equal(events(h), ['06 03 00 40 00', '08 04 00 40 00 01']);
  h.clear();
  h.t.event(cc(0x1408, '00 40 00 10'));
  assert.equal(events(h), ['d8 03 40 00 02'], 'GAP_EVENT_SECURITY_LEVEL handle 0x40 level 2');
  assert.is(h.stack.gap.gap_security_level(0x0040), 2);
  assert.is(h.stack.gap.gap_encryption_key_size(0x0040), 16);
  assert.is(h.stack.gap.gap_authenticated(0x0040), false);
  assert.is(h.stack.gap.gap_secure_connection(0x0040), false);
  // met already: the event comes from the run loop, nothing is sent
  h.clear();
  h.stack.gap.gap_request_security_level(0x0040, 1);
  assert.equal(events(h), []);
  h.rl.run(0);
  assert.equal(events(h), ['d8 03 40 00 02']);
  assert.equal(h.t.take_commands(), []);
});

test('v1.8 profile: GAP_EVENT_SECURITY_LEVEL carries a status, PAIRING_STARTED/COMPLETE are 0xE0/0xE1', () => {
  const h = link({ profile: 'v1.8' });
  h.stack.gap.gap_request_security_level(0x0040, 2);
  sent(h);
  pair_just_works(h);
  assert.ok(events(h).includes(`e0 0a 40 00 ${W} 01 01`));
  assert.ok(events(h).includes(`e1 09 40 00 ${W} 00`));
  h.t.event('06 03 00 40 00');
  sent(h);
  h.t.event('08 04 00 40 00 01');
  sent(h);
  h.clear();
  h.t.event(cc(0x1408, '00 40 00 10'));
  assert.equal(events(h), ['d8 04 40 00 02 00']);
});

test('stored key: Link Key Request Reply with it, no pairing; a 6-octet encryption key is level 0', () => {
  const h = link();
  h.stack.gap.gap_store_link_key_for_bd_addr(ADDR, fromHex(KEY), 5);
  h.stack.gap.gap_request_security_level(0x0040, 3);
  assert.equal(sent(h), ['11 04 02 40 00']);
  h.t.event(`17 06 ${W}`);
  assert.equal(sent(h), [`0b 04 16 ${W} ${KEY}`], 'Link Key Request Reply with the stored key');
  h.t.event('06 03 00 40 00');
  assert.equal(sent(h), ['13 04 03 40 00 01']);
  h.t.event('08 04 00 40 00 01');
  sent(h);
  h.clear();
  h.t.event(cc(0x1408, '00 40 00 06'));
  assert.equal(events(h), ['d8 03 40 00 00'], 'key size 6 < 7: level 0');
  assert.ok(!events(h).some((e) => e.startsWith('df')), 'no pairing');
});

test('a stored key too weak for the level asked for is not used: Negative Reply, pairing with MITM', () => {
  const h = link();
  h.stack.gap.gap_ssp_set_io_capability(SSP_IO_CAPABILITY_DISPLAY_YES_NO);
  h.stack.gap.gap_store_link_key_for_bd_addr(ADDR, fromHex(KEY), 4);
  h.stack.gap.gap_request_security_level(0x0040, 3);
  sent(h);
  h.t.event(`17 06 ${W}`);
  assert.equal(sent(h), [`0c 04 06 ${W}`]);
  h.t.event(`31 06 ${W}`);
  assert.equal(sent(h), [`2b 04 09 ${W} 01 00 05`], 'DisplayYesNo, MITM + general bonding (level 3)');
});

test('stale key: Authentication Complete 0x06 deletes the stored key; level 0 (v1.8 status 0x06)', () => {
  const h = link({ profile: 'v1.8' });
  h.stack.gap.gap_store_link_key_for_bd_addr(ADDR, fromHex(KEY), 4);
  h.stack.gap.gap_request_security_level(0x0040, 2);
  sent(h);
  h.t.event(`17 06 ${W}`);
  assert.equal(sent(h), [`0b 04 16 ${W} ${KEY}`]);
  h.clear();
  h.t.event('06 03 06 40 00');
  assert.equal(
    events(h),
    ['d8 04 40 00 00 06', '06 03 06 40 00'],
    'one GAP_EVENT_SECURITY_LEVEL, before the controller event as BTstack',
  );
  assert.is(h.stack.gap.gap_get_link_key_for_bd_addr(ADDR), null, 'stale key deleted');
  assert.equal(sent(h), [], 'nothing else');
});

test('requests fold into the running procedure: one event each, the higher level counts', () => {
  const h = link();
  h.stack.gap.gap_request_security_level(0x0040, 2);
  h.stack.gap.gap_request_security_level(0x0040, 3);
  assert.equal(sent(h), ['11 04 02 40 00'], 'one Authentication Requested');
  h.t.event(`17 06 ${W}`);
  sent(h);
  h.t.event(`31 06 ${W}`);
  assert.equal(sent(h), [`34 04 07 ${W} 18`], 'level 3 (the higher) with NoInputNoOutput: refused at once');
  h.t.event(`36 07 18 ${W}`);
  h.clear();
  h.t.event('06 03 18 40 00');
  assert.equal(events(h), ['d8 03 40 00 00', 'd8 03 40 00 00', '06 03 18 40 00'], 'two requests, two events');
});

test('not bondable: a bonding peer gets IO Capability Request Negative Reply 0x18; PIN requests are refused unseen', () => {
  const h = link();
  h.stack.gap.gap_set_bondable_mode(0);
  h.t.event(`32 09 ${W} 01 00 04`);
  h.t.event(`31 06 ${W}`);
  assert.equal(sent(h), [`34 04 07 ${W} 18`], 'Pairing Not Allowed');
  assert.ok(events(h).includes(`e0 09 40 00 ${W} 18`), 'PAIRING_COMPLETE 0x18');
  h.clear();
  h.t.event(`16 06 ${W}`);
  assert.equal(sent(h), [`0e 04 06 ${W}`], 'PIN Code Request Negative Reply');
  assert.ok(!events(h).includes(`16 06 ${W}`), 'the PIN Code Request does not reach the application');
});

test('not bondable, peer not bonding: IO capability reply without bonding; no key stored', () => {
  const h = link();
  h.stack.gap.gap_set_bondable_mode(false);
  h.t.event(`32 09 ${W} 03 00 00`);
  h.t.event(`31 06 ${W}`);
  assert.equal(sent(h), [`2b 04 09 ${W} 03 00 00`]);
  h.t.event(`18 17 ${W} ${KEY} 04`);
  assert.is(h.stack.gap.gap_get_link_key_for_bd_addr(ADDR), null);
});

test("Link Key Notification: all-zero key ignored, debug key and a non-bonding peer's key not stored, legacy key stored", () => {
  const h = link();
  const zero = '00 '.repeat(16).trim();
  h.t.event(`18 17 ${W} ${zero} 04`);
  assert.is(h.stack.gap.gap_get_link_key_for_bd_addr(ADDR), null, 'all zero (CVE-2020-26555)');
  h.t.event(`18 17 ${W} ${KEY} 03`);
  assert.is(h.stack.gap.gap_get_link_key_for_bd_addr(ADDR), null, 'debug combination key');
  h.t.event(`32 09 ${W} 03 00 00`);
  h.t.event(`18 17 ${W} ${KEY} 04`);
  assert.is(h.stack.gap.gap_get_link_key_for_bd_addr(ADDR), null, 'peer asked for no bonding');
  h.t.event(`18 17 ${W} ${KEY} 00`);
  assert.equal(h.stack.gap.gap_get_link_key_for_bd_addr(ADDR), { link_key: fromHex(KEY), type: 0 }, 'combination key (legacy)');
});

test('User Confirmation without auto accept: the application answers; yes, no, and no answer (timeout)', () => {
  const h = link();
  const gap = h.stack.gap;
  gap.gap_ssp_set_auto_accept(0);
  h.t.event(`33 0a ${W} 40 e2 01 00`);
  assert.equal(sent(h), []);
  assert.ok(events(h).includes(`33 0a ${W} 40 e2 01 00`), 'the request reaches the application');
  assert.is(gap.gap_ssp_confirmation_response(ADDR), 0);
  assert.equal(sent(h), [`2c 04 06 ${W}`]);
  assert.is(gap.gap_ssp_confirmation_response(ADDR), 0x0c, 'a second answer: Command Disallowed');
  h.t.event(`33 0a ${W} 40 e2 01 00`);
  assert.is(gap.gap_ssp_confirmation_negative(ADDR), 0);
  assert.equal(sent(h), [`2d 04 06 ${W}`]);
  h.t.event(`33 0a ${W} 40 e2 01 00`);
  h.rl.advance(GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS - 1);
  assert.equal(sent(h), []);
  h.rl.advance(1);
  assert.equal(sent(h), [`2d 04 06 ${W}`], 'Negative Reply after 25 s');
  assert.is(gap.gap_ssp_confirmation_response(ADDR), 0x0c);
  assert.is(gap.gap_ssp_confirmation_response(sscanf_bd_addr('11:11:11:11:11:11')!), 0x02, 'unknown address');
});

test('User Passkey Request: auto accept replies 000000 (BTstack); otherwise the application, or the timeout', () => {
  const h = link();
  const gap = h.stack.gap;
  h.t.event(`34 06 ${W}`);
  assert.equal(sent(h), [`2e 04 0a ${W} 00 00 00 00`]);
  gap.gap_ssp_set_auto_accept(false);
  gap.gap_ssp_set_io_capability(SSP_IO_CAPABILITY_KEYBOARD_ONLY);
  h.t.event(`34 06 ${W}`);
  assert.is(gap.gap_ssp_passkey_response(ADDR, 1000000), 0x12, 'out of range');
  assert.is(gap.gap_ssp_passkey_response(ADDR, 123456), 0);
  assert.equal(sent(h), [`2e 04 0a ${W} 40 e2 01 00`], '123456 = 0x0001e240');
  h.t.event(`34 06 ${W}`);
  assert.is(gap.gap_ssp_passkey_negative(ADDR), 0);
  assert.equal(sent(h), [`2f 04 06 ${W}`]);
  h.t.event(`34 06 ${W}`);
  h.rl.advance(GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS);
  assert.equal(sent(h), [`2f 04 06 ${W}`]);
  h.t.event(`3b 0a ${W} 40 e2 01 00`);
  assert.equal(sent(h), [], 'User Passkey Notification needs no answer');
  assert.ok(events(h).includes(`3b 0a ${W} 40 e2 01 00`));
});

test('PIN Code Request (legacy): PAIRING_STARTED ssp=0; text and binary PINs, negative, timeout', () => {
  const h = link();
  const gap = h.stack.gap;
  h.t.event(`16 06 ${W}`);
  assert.ok(events(h).includes(`df 0a 40 00 ${W} 00 00`), 'legacy, responder');
  assert.is(gap.gap_pin_code_response(ADDR, ''), 0x12, 'empty PIN');
  assert.is(gap.gap_pin_code_response(ADDR, '0000'), 0);
  assert.equal(sent(h), [`0d 04 17 ${W} 04 30 30 30 30${' 00'.repeat(12)}`]);
  h.t.event(`16 06 ${W}`);
  assert.is(gap.gap_pin_code_response_binary(ADDR, Uint8Array.of(1, 2, 3, 4, 5), 2), 0);
  assert.equal(sent(h), [`0d 04 17 ${W} 02 01 02${' 00'.repeat(14)}`]);
  h.t.event(`16 06 ${W}`);
  assert.is(gap.gap_pin_code_negative(ADDR), 0);
  assert.equal(sent(h), [`0e 04 06 ${W}`]);
  h.t.event(`16 06 ${W}`);
  h.rl.advance(GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS);
  assert.equal(sent(h), [`0e 04 06 ${W}`]);
});

test('level 3 out of reach of the IO capabilities: confirmation refused unseen, PAIRING_COMPLETE 0x2F, level event', () => {
  const h = link();
  h.stack.gap.gap_ssp_set_io_capability(SSP_IO_CAPABILITY_DISPLAY_YES_NO);
  h.stack.gap.gap_request_security_level(0x0040, 3);
  sent(h);
  h.t.event(`17 06 ${W}`);
  sent(h);
  h.t.event(`31 06 ${W}`);
  assert.equal(sent(h), [`2b 04 09 ${W} 01 00 05`]);
  h.t.event(`32 09 ${W} 07 00 04`); // not an IO capability (0..3): counts as NoInputNoOutput
  h.clear();
  h.t.event(`33 0a ${W} 40 e2 01 00`);
  assert.equal(sent(h), [`2d 04 06 ${W}`]);
  assert.equal(events(h), [`e0 09 40 00 ${W} 2f`], 'the request itself does not reach the application');
  h.t.event(`36 07 05 ${W}`);
  h.clear();
  h.t.event('06 03 05 40 00');
  assert.equal(events(h), ['d8 03 40 00 00', '06 03 05 40 00']);
});

test('requests for addresses without a link get their negative replies; answers for a link not pairing are refused', () => {
  const h = link();
  const other = '66:55:44:33:22:11';
  const wo = wire_addr(other);
  h.t.event(`17 06 ${wo}`);
  h.t.event(`31 06 ${wo}`);
  h.t.event(`33 0a ${wo} 00 00 00 00`);
  h.t.event(`34 06 ${wo}`);
  h.t.event(`16 06 ${wo}`);
  const all: string[] = [];
  for (let c = sent(h); c.length; c = sent(h)) all.push(...c);
  assert.equal(
    all,
    [`0c 04 06 ${wo}`, `34 04 07 ${wo} 18`, `2d 04 06 ${wo}`, `2f 04 06 ${wo}`, `0e 04 06 ${wo}`],
    'one at a time, as credits allow',
  );
  assert.is(h.stack.gap.gap_ssp_confirmation_response(ADDR), 0x0c, 'link not pairing');
  assert.is(h.stack.gap.gap_ssp_passkey_response(ADDR, 1), 0x0c);
  assert.is(h.stack.gap.gap_pin_code_response(ADDR, '1234'), 0x0c);
});

test('Command Status failure of Authentication Requested ends the request with level 0', () => {
  const h = link();
  h.stack.gap.gap_request_security_level(0x0040, 2);
  h.rl.run(0);
  assert.equal(h.t.take_commands(), ['11 04 02 40 00']);
  h.clear();
  h.t.event(cs(0x0411, 0x0c));
  assert.equal(events(h)[0], 'd8 03 40 00 00');
});

test('disconnect during a request: one GAP_EVENT_SECURITY_LEVEL (level 0) per request, after the Disconnection Complete', () => {
  const h = link();
  h.stack.gap.gap_ssp_set_auto_accept(0);
  h.stack.gap.gap_request_security_level(0x0040, 2);
  h.stack.gap.gap_request_security_level(0x0040, 2);
  sent(h);
  h.t.event(`17 06 ${W}`);
  sent(h);
  h.t.event(`31 06 ${W}`);
  sent(h);
  h.t.event(`33 0a ${W} 40 e2 01 00`);
  h.clear();
  h.t.event('05 04 00 40 00 13');
  h.rl.run(0);
  assert.equal(events(h), [`e0 09 40 00 ${W} 13`, '05 04 00 40 00 13', 'd8 03 40 00 00', 'd8 03 40 00 00']);
  h.rl.advance(GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS);
  assert.equal(sent(h), [], 'no timeout answer for a gone link');
  assert.ok(h.stack.pools.all_free(), JSON.stringify(h.stack.pools.busy()));
  // a request for a handle that does not exist: level 0 from the run loop
  h.clear();
  h.stack.gap.gap_request_security_level(0x0040, 2);
  h.rl.run(0);
  assert.equal(events(h), ['d8 03 40 00 00']);
});

test('Encryption Change v2 gives the key size (no Read Encryption Key Size); AES-CCM with a P-256 key is level 4', () => {
  const h = link();
  h.stack.gap.gap_store_link_key_for_bd_addr(ADDR, fromHex(KEY), 8);
  h.stack.gap.gap_request_security_level(0x0040, 4);
  sent(h);
  h.t.event(`17 06 ${W}`);
  sent(h);
  h.t.event('06 03 00 40 00');
  assert.equal(sent(h), ['13 04 03 40 00 01']);
  h.clear();
  h.t.event('59 05 00 40 00 02 10');
  assert.equal(sent(h), []);
  assert.equal(events(h), ['d8 03 40 00 04', '59 05 00 40 00 02 10']);
  assert.is(h.stack.gap.gap_authenticated(0x0040), true);
  assert.is(h.stack.gap.gap_secure_connection(0x0040), true);
});

test('the peer encrypts: the key size is read; a later request is met at once', () => {
  const h = link();
  h.stack.gap.gap_store_link_key_for_bd_addr(ADDR, fromHex(KEY), 7);
  h.t.event(`17 06 ${W}`);
  assert.equal(sent(h), [`0b 04 16 ${W} ${KEY}`]);
  h.t.event('08 04 00 40 00 02');
  assert.equal(sent(h), ['08 14 02 40 00']);
  h.stack.gap.gap_request_security_level(0x0040, 2);
  h.clear();
  h.t.event(cc(0x1408, '00 40 00 10'));
  h.rl.run(0);
  assert.equal(events(h), ['d8 03 40 00 02'], 'answered once the key size is known');
  assert.equal(h.t.take_commands(), []);
});

test('SSP and SC host support are announced only when enabled (Write Simple Pairing Mode 0x0C56, Write SC Host Support 0x0C7A)', () => {
  for (const [ssp, sc] of [
    [true, true],
    [false, true],
    [true, false],
  ] as const) {
    const h = harness();
    h.stack.gap.gap_ssp_set_enable(ssp);
    h.stack.gap.gap_secure_connections_enable(sc);
    h.stack.hci.hci_power_control(1);
    const cmds = boot(h.t, h.rl, h.stack);
    assert.is(cmds.includes('56 0c 01 01'), ssp, `ssp ${ssp}`);
    assert.is(cmds.includes('7a 0c 01 01'), sc, `sc ${sc}`);
  }
});

test('malformed security events are dropped; random ones never throw and leave the pools full', () => {
  const h = link();
  for (const e of [
    '17 05 13 71 da 7d 1a',
    '18 16' + ' 00'.repeat(22),
    '32 08' + ' 00'.repeat(8),
    '06 02 00 40',
    '59 04 00 40 00 01',
  ]) {
    h.clear();
    h.t.event(e);
    assert.equal(events(h), [], e);
  }
  let x = 12345;
  const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  const codes = [0x06, 0x08, 0x16, 0x17, 0x18, 0x31, 0x32, 0x33, 0x34, 0x36, 0x3b, 0x59, 0x30];
  const buf = new Uint8Array(40);
  h.stack.gap.gap_ssp_set_auto_accept(0);
  for (let i = 0; i < 100_000; i++) {
    const code = codes[rnd() % codes.length]!;
    const plen = rnd() % 28;
    buf[0] = code;
    buf[1] = plen;
    for (let j = 2; j < 2 + plen; j++) buf[j] = rnd();
    if (rnd() < 200) buf.set(fromHex(W), 2); // mostly our peer
    if (rnd() < 128) {
      buf[3] = 0x40;
      buf[4] = 0;
    }
    h.t.event(buf.subarray(0, 2 + plen));
    if (i % 64 === 0) {
      settle(h);
      if (rnd() < 32) h.stack.gap.gap_request_security_level(0x0040, rnd() % 5);
    }
  }
  settle(h);
  h.rl.advance(GAP_PAIRING_USER_RESPONSE_TIMEOUT_MS);
  settle(h);
  h.t.event('05 04 00 40 00 13');
  settle(h);
  h.stack.gap.gap_delete_all_link_keys();
  assert.ok(h.stack.pools.all_free(), JSON.stringify(h.stack.pools.busy()));
  assert.is(h.stack.hci.hci_get_state(), 2);
});

test('Stack option link_key_db: the given db answers Link Key Requests; null keeps no keys; hci_set_link_key_db swaps it', () => {
  const pools = new Pools(resolveConfig({}));
  const db = btstack_link_key_db_memory_instance(pools);
  db.put_link_key(ADDR, fromHex(KEY), 4);
  const h = link({ link_key_db: db });
  h.t.event(`17 06 ${W}`);
  assert.equal(sent(h), [`0b 04 16 ${W} ${KEY}`]);
  const none = link({ link_key_db: null });
  none.t.event(`17 06 ${W}`);
  assert.equal(sent(none), [`0c 04 06 ${W}`]);
  none.t.event(`18 17 ${W} ${KEY} 00`);
  assert.is(none.stack.gap.gap_get_link_key_for_bd_addr(ADDR), null);
  none.stack.hci.hci_set_link_key_db(db);
  none.t.event(`17 06 ${W}`);
  assert.equal(sent(none), [`0b 04 16 ${W} ${KEY}`]);
  const it = { context: null };
  assert.ok(none.stack.gap.gap_link_key_iterator_init(it));
  assert.equal(none.stack.gap.gap_link_key_iterator_get_next(it)?.bd_addr, ADDR);
  assert.is(none.stack.gap.gap_link_key_iterator_get_next(it), null);
  none.stack.gap.gap_link_key_iterator_done(it);
});

test.run();
