/**
 * BR/EDR pairing between two bthost stacks on the virtual radio (virtual time), one association
 * model per test (Core Vol 3 Part C 5.2.2.6 table 5.7): Just Works (NoInputNoOutput), Numeric
 * Comparison (DisplayYesNo both), Passkey Entry (KeyboardOnly with a display on the other side), and
 * legacy PIN pairing when one side has SSP off; Secure Connections on (P-256 keys, types 7/8,
 * AES-CCM: Encryption_Enabled 2) and off (P-192 keys, types 4/5, E0: 1). Events checked with BTstack's
 * layouts; every capture is clean in tshark and btmon; pools full at the end.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  SSP_IO_CAPABILITY_DISPLAY_ONLY,
  SSP_IO_CAPABILITY_DISPLAY_YES_NO,
  SSP_IO_CAPABILITY_KEYBOARD_ONLY,
} from '../../src/codes/v1.4.js';
import { little_endian_read_32 } from '../../src/core/bytes.js';
import { tsharkFields } from '../helpers/capture.js';
import { ADDR_A, ADDR_B, addr_at, encryption, key_type, pairWorld, type PNode } from './pairing-helpers.js';

const IO_CAP_REQUEST = 0x31;
const USER_CONFIRMATION_REQUEST = 0x33;
const USER_PASSKEY_REQUEST = 0x34;
const USER_PASSKEY_NOTIFICATION = 0x3b;
const PIN_CODE_REQUEST = 0x16;

test('Just Works, Secure Connections on: P-256 unauthenticated key (7), AES-CCM, level 2 on both sides, keys stored', () => {
  const w = pairWorld({ tag: 'jw-sc' });
  const h = w.connect();
  assert.equal(w.request(2), [2, `d8 03 ${h.toString(16).padStart(2, '0')} 00 02`]);
  for (const n of [w.a, w.b]) {
    assert.is(key_type(n), 7, `${n.name} key type`);
    assert.is(encryption(n), 2, `${n.name} AES-CCM`);
    assert.is(n.stack.gap.gap_security_level(n.handle), 2);
    assert.is(n.stack.gap.gap_encryption_key_size(n.handle), 16);
    assert.is(n.stack.gap.gap_secure_connection(n.handle), true);
    assert.is(n.stack.gap.gap_authenticated(n.handle), false);
    assert.is(n.of(0xdf).length, 1, 'one PAIRING_STARTED');
    assert.equal(
      n.of(0xe0).map((e) => e.slice(-2)),
      ['00'],
      'one PAIRING_COMPLETE, success',
    );
  }
  assert.is(w.a.of(0xdf)[0]!.slice(-5), '01 01', 'A: ssp, initiator');
  assert.is(w.b.of(0xdf)[0]!.slice(-5), '01 00', 'B: ssp, responder');
  assert.is(w.a.stack.gap.gap_get_link_key_for_bd_addr(ADDR_B)?.type, 7);
  assert.is(w.b.stack.gap.gap_get_link_key_for_bd_addr(ADDR_A)?.type, 7);
  w.finish();
  assert.equal(
    tsharkFields(w.a.log, ['bthci_cmd.opcode'], 'bthci_cmd.opcode == 0x042b').length,
    1,
    'IO Capability Request Reply',
  );
});

test('Just Works, Secure Connections off (v1.8 profile): P-192 key (4), E0, level 2; SC host support not written', () => {
  const w = pairWorld({
    tag: 'jw-nosc',
    profile: 'v1.8',
    a: (n) => n.stack.gap.gap_secure_connections_enable(0),
    b: (n) => n.stack.gap.gap_secure_connections_enable(false),
  });
  const h = w.connect();
  assert.equal(w.request(2), [2, `d8 04 ${h.toString(16).padStart(2, '0')} 00 02 00`]);
  assert.is(key_type(w.a), 4);
  assert.is(encryption(w.a), 1);
  assert.is(w.a.of(0xe0)[0]!.slice(-5), '01 01', 'v1.8: PAIRING_STARTED is 0xE0');
  w.finish();
  assert.equal(
    tsharkFields(w.a.log, ['frame.number'], 'bthci_cmd.opcode == 0x0c7a'),
    [],
    'no Write Secure Connections Host Support',
  );
});

function confirm_on(n: PNode, yes: boolean): void {
  n.stack.gap.gap_ssp_set_io_capability(SSP_IO_CAPABILITY_DISPLAY_YES_NO);
  n.stack.gap.gap_ssp_set_auto_accept(false);
  n.on = (e, me) => {
    if (e[0] !== USER_CONFIRMATION_REQUEST) return;
    const gap = me.stack.gap;
    assert.is(yes ? gap.gap_ssp_confirmation_response(addr_at(e)) : gap.gap_ssp_confirmation_negative(addr_at(e)), 0);
  };
}

test('Numeric Comparison accepted by both applications: authenticated P-256 key (8), level 4 for a level 3 request', () => {
  const w = pairWorld({ tag: 'nc-yes', a: (n) => confirm_on(n, true), b: (n) => confirm_on(n, true) });
  w.connect();
  assert.is(w.request(3)[0], 4);
  const va = little_endian_read_32(Uint8Array.from(w.a.events.find((e) => e[0] === USER_CONFIRMATION_REQUEST)!), 8);
  const vb = little_endian_read_32(Uint8Array.from(w.b.events.find((e) => e[0] === USER_CONFIRMATION_REQUEST)!), 8);
  assert.is(va, vb, 'both show the same number');
  assert.is(key_type(w.a), 8);
  assert.is(w.a.stack.gap.gap_authenticated(w.a.handle), true);
  assert.is(w.b.stack.gap.gap_security_level(w.b.handle), 4);
  w.finish();
});

test('Numeric Comparison rejected by B: Simple Pairing Complete 0x05, A gets level 0 and no key is stored', () => {
  const w = pairWorld({ tag: 'nc-no', a: (n) => confirm_on(n, true), b: (n) => confirm_on(n, false) });
  w.connect();
  assert.is(w.request(3)[0], 0);
  assert.equal(
    w.a.of(0xe0).map((e) => e.slice(-2)),
    ['05'],
    'PAIRING_COMPLETE Authentication Failure',
  );
  assert.equal(
    w.b.of(0xe0).map((e) => e.slice(-2)),
    ['05'],
  );
  assert.is(w.a.stack.gap.gap_get_link_key_for_bd_addr(ADDR_B), null);
  assert.is(w.b.stack.gap.gap_get_link_key_for_bd_addr(ADDR_A), null);
  assert.is(w.a.stack.gap.gap_security_level(w.a.handle), 0);
  w.finish();
});

/** `keyboard` types what `display` shows (Passkey Entry). */
function passkey_pair(keyboard: PNode, display: PNode): void {
  keyboard.stack.gap.gap_ssp_set_io_capability(SSP_IO_CAPABILITY_KEYBOARD_ONLY);
  keyboard.stack.gap.gap_ssp_set_auto_accept(false);
  display.stack.gap.gap_ssp_set_io_capability(SSP_IO_CAPABILITY_DISPLAY_ONLY);
  let shown = -1;
  display.on = (e) => {
    if (e[0] === USER_PASSKEY_NOTIFICATION) shown = little_endian_read_32(e, 8);
  };
  keyboard.on = (e, me) => {
    if (e[0] !== USER_PASSKEY_REQUEST) return;
    // the user reads the display a little later
    me.stack.run_loop.execute_on_main_thread(() => assert.is(me.stack.gap.gap_ssp_passkey_response(addr_at(e), shown), 0));
  };
}

test('Passkey Entry, A types (KeyboardOnly) what B shows (DisplayOnly): authenticated key, level 4', () => {
  const w = pairWorld({ tag: 'pk-ab', both: (a, b) => passkey_pair(a, b) });
  w.connect();
  assert.is(w.request(3)[0], 4);
  assert.is(w.a.of(USER_PASSKEY_REQUEST).length, 1);
  assert.is(w.b.of(USER_PASSKEY_NOTIFICATION).length, 1);
  assert.is(key_type(w.b), 8);
  w.finish();
});

test('Passkey Entry the other way, B types what A shows; SC off: authenticated P-192 key (5), level 3', () => {
  const w = pairWorld({
    tag: 'pk-ba',
    both: (a, b) => {
      passkey_pair(b, a);
      a.stack.gap.gap_secure_connections_enable(0);
    },
  });
  w.connect();
  assert.is(w.request(3)[0], 3);
  assert.is(w.b.of(USER_PASSKEY_REQUEST).length, 1);
  assert.is(w.a.of(USER_PASSKEY_NOTIFICATION).length, 1);
  assert.is(key_type(w.a), 5);
  assert.is(encryption(w.a), 1);
  w.finish();
});

test('legacy PIN pairing (B has SSP off): both applications answer 0000; combination key (0), level 3; ssp=0 in PAIRING_STARTED', () => {
  const answer = (n: PNode): void => {
    n.on = (e, me) => {
      if (e[0] === PIN_CODE_REQUEST) assert.is(me.stack.gap.gap_pin_code_response(addr_at(e), '0000'), 0);
    };
  };
  const w = pairWorld({
    tag: 'pin',
    a: answer,
    b: (n) => {
      n.stack.gap.gap_ssp_set_enable(0);
      answer(n);
    },
  });
  w.connect();
  assert.is(w.request(2)[0], 3);
  assert.is(w.a.of(IO_CAP_REQUEST).length, 0, 'no SSP');
  assert.is(w.a.of(PIN_CODE_REQUEST).length, 1);
  assert.is(w.b.of(PIN_CODE_REQUEST).length, 1);
  assert.is(key_type(w.a), 0);
  assert.is(w.a.of(0xdf)[0]!.slice(-5), '00 01', 'legacy, initiator');
  assert.is(w.b.stack.gap.gap_get_link_key_for_bd_addr(ADDR_A)?.type, 0);
  w.finish();
  assert.equal(tsharkFields(w.b.log, ['frame.number'], 'bthci_cmd.opcode == 0x0c56'), [], 'B: no Write Simple Pairing Mode');
});

test.run();
