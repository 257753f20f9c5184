/**
 * Security flows as the hosts see them: Secure Simple Pairing (numeric comparison, just works,
 * passkey entry), Link Key Request on a later connection with its failure paths, legacy PIN
 * pairing, Set Connection Encryption -> Encryption Change, Read Encryption Key Size, and LE
 * Start Encryption / LTK Request with equal, different and missing keys.
 * Event and command layouts written out from Vol 4 Part E 7.1 and 7.7.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../../src/core/bytes.js';
import type { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { bench, le16, unmask, wire, type Host } from './bench.js';

interface Pair {
  loop: VirtualRunLoop;
  a: Host;
  b: Host;
  ha: number;
  hb: number;
  A: string; // a's address, wire order hex
  B: string;
}

function classicPair(opts: { ssp?: boolean; sc?: boolean } = {}): Pair {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  for (const h of [a, b]) {
    unmask(h);
    h.cmd('1a 0c 01 02');
    if (opts.ssp !== false) h.cmd('56 0c 01 01');
    if (opts.sc) h.cmd('7a 0c 01 01');
  }
  loop.advance(100);
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!b.find(0x04));
  b.cmd(`09 04 07 ${wire(a.c.bd_addr)} 01`);
  loop.run_until(() => !!a.find(0x03) && !!b.find(0x03));
  const ea = a.find(0x03)!;
  const eb = b.find(0x03)!;
  loop.advance(100);
  a.clear();
  b.clear();
  return { loop, a, b, ha: ea[3]! | (ea[4]! << 8), hb: eb[3]! | (eb[4]! << 8), A: wire(a.c.bd_addr), B: wire(b.c.bd_addr) };
}

/** Run SSP from Authentication Requested through both IO capability exchanges. */
function sspToStage1(p: Pair, ioA: string, ioB: string): void {
  const { loop, a, b, ha, A, B } = p;
  a.cmd(`11 04 02 ${le16(ha)}`);
  loop.advance(100);
  assert.equal(a.take(), ['0f 04 00 01 11 04', `17 06 ${B}`]);
  a.cmd(`0c 04 06 ${B}`); // no key: pair
  loop.advance(100);
  assert.equal(a.take(), [`0e 0a 01 0c 04 00 ${B}`, `31 06 ${B}`]);
  a.cmd(`2b 04 09 ${B} ${ioA}`);
  loop.advance(100);
  assert.equal(a.take(), [`0e 0a 01 2b 04 00 ${B}`]);
  assert.equal(b.take(), [`32 09 ${A} ${ioA}`, `31 06 ${A}`]);
  b.cmd(`2b 04 09 ${A} ${ioB}`);
  loop.advance(100);
  assert.is(b.shift(), `0e 0a 01 2b 04 00 ${A}`);
  assert.is(a.shift(), `32 09 ${B} ${ioB}`);
}

/** SSP numeric comparison to the end; returns the link key (hex). */
function sspNumeric(p: Pair, keyType: string): string {
  const { loop, a, b, ha, A, B } = p;
  sspToStage1(p, '01 00 03', '01 00 03'); // DisplayYesNo, no OOB data, MITM + dedicated bonding
  const ua = a.take();
  const ub = b.take();
  assert.is(ua.length, 1);
  const value = ua[0]!.slice(-11);
  assert.is(ua[0], `33 0a ${B} ${value}`);
  assert.equal(ub, [`33 0a ${A} ${value}`], 'both hosts see the same number');
  a.cmd(`2c 04 06 ${B}`);
  loop.advance(100);
  assert.equal(a.take(), [`0e 0a 01 2c 04 00 ${B}`]);
  b.cmd(`2c 04 06 ${A}`);
  loop.advance(100);
  const ea = a.take();
  const eb = b.take();
  assert.is(ea.length, 3);
  const key = ea[1]!.slice(`18 17 ${B} `.length, -3);
  assert.equal(ea, [`36 07 00 ${B}`, `18 17 ${B} ${key} ${keyType}`, `06 03 00 ${le16(ha)}`]);
  assert.equal(eb, [`0e 0a 01 2c 04 00 ${A}`, `36 07 00 ${A}`, `18 17 ${A} ${key} ${keyType}`]);
  return key;
}

test('SSP numeric comparison: IO capabilities both ways, same number, same fresh key on both sides', () => {
  const p = classicPair();
  const key = sspNumeric(p, '05');
  assert.is.not(key, '00 '.repeat(15) + '00');
  // encryption on: Encryption Change on both sides; key size 16
  const { loop, a, b, ha, hb } = p;
  a.cmd(`13 04 03 ${le16(ha)} 01`);
  b.cmd(`08 14 02 ${le16(hb)}`); // not encrypted yet
  loop.advance(100);
  assert.equal(a.take(), ['0f 04 00 01 13 04', `08 04 00 ${le16(ha)} 01`]);
  assert.equal(b.take(), [`0e 07 01 08 14 0c ${le16(hb)} 00`, `08 04 00 ${le16(hb)} 01`]);
  b.cmd(`08 14 02 ${le16(hb)}`);
  loop.advance(100);
  assert.equal(b.take(), [`0e 07 01 08 14 00 ${le16(hb)} 10`]);
  // a second pairing gives a different key
  const p2 = classicPair();
  assert.is.not(sspNumeric(p2, '05'), key);
});

test('SSP just works with Secure Connections on both: key type 0x07, AES-CCM encryption (0x02)', () => {
  const p = classicPair({ sc: true });
  const { loop, a, b, ha, hb, A, B } = p;
  sspToStage1(p, '03 00 04', '01 00 04'); // NoInputNoOutput / DisplayYesNo, no MITM, general bonding
  const ua = a.take();
  const value = ua[0]!.slice(-11);
  assert.equal(ua, [`33 0a ${B} ${value}`]);
  assert.equal(b.take(), [`33 0a ${A} ${value}`]);
  a.cmd(`2c 04 06 ${B}`);
  b.cmd(`2c 04 06 ${A}`);
  loop.advance(100);
  const ea = a.take();
  assert.ok(ea[2]!.endsWith(' 07'), 'unauthenticated P-256 key');
  assert.is(ea[3], `06 03 00 ${le16(ha)}`);
  a.cmd(`13 04 03 ${le16(ha)} 01`);
  loop.advance(100);
  assert.equal(a.take(), ['0f 04 00 01 13 04', `08 04 00 ${le16(ha)} 02`]);
  assert.is(b.take().pop(), `08 04 00 ${le16(hb)} 02`);
});

test('SSP passkey entry: display side notified, keyboard side asked; right and wrong passkey', () => {
  for (const right of [true, false]) {
    const p = classicPair();
    const { loop, a, b, ha, A, B } = p;
    sspToStage1(p, '02 00 05', '00 00 05'); // KeyboardOnly / DisplayOnly, MITM + general bonding
    assert.equal(a.take(), [`34 06 ${B}`]);
    const nb = b.take();
    assert.is(nb.length, 1);
    assert.ok(nb[0]!.startsWith(`3b 0a ${A} `));
    const passkey = nb[0]!.slice(-11);
    const typed = right ? passkey : hex(Uint8Array.of(0x3f, 0x42, 0x0f, 0x00)); // 999999
    if (!right && typed === passkey) continue;
    a.cmd(`2e 04 0a ${B} ${typed}`);
    loop.advance(100);
    const ea = a.take();
    const eb = b.take();
    if (right) {
      assert.is(ea.length, 4);
      assert.is(ea[1], `36 07 00 ${B}`);
      assert.ok(ea[2]!.endsWith(' 05'));
      assert.is(ea[3], `06 03 00 ${le16(ha)}`);
      assert.is(eb[0], `36 07 00 ${A}`);
    } else {
      assert.equal(ea, [`0e 0a 01 2e 04 00 ${B}`, `36 07 05 ${B}`, `06 03 05 ${le16(ha)}`]);
      assert.equal(eb, [`36 07 05 ${A}`]);
    }
  }
});

test('user rejects the number: Simple Pairing Complete 0x05 on both, Authentication Complete 0x05', () => {
  const p = classicPair();
  const { loop, a, b, ha, A, B } = p;
  sspToStage1(p, '01 00 03', '01 00 03');
  a.clear();
  b.clear();
  a.cmd(`2c 04 06 ${B}`);
  b.cmd(`2d 04 06 ${A}`);
  loop.advance(100);
  assert.equal(a.take(), [`0e 0a 01 2c 04 00 ${B}`, `36 07 05 ${B}`, `06 03 05 ${le16(ha)}`]);
  assert.equal(b.take(), [`0e 0a 01 2d 04 00 ${A}`, `36 07 05 ${A}`]);
});

test('one side rejects the number first, the other accepts a moment later: still failure on both, no link key', () => {
  const p = classicPair();
  const { loop, a, b, ha, A, B } = p;
  sspToStage1(p, '01 00 03', '01 00 03');
  a.clear();
  b.clear();
  b.cmd(`2d 04 06 ${A}`);
  loop.advance(0);
  a.cmd(`2c 04 06 ${B}`);
  loop.advance(100);
  assert.equal(a.take(), [`0e 0a 01 2c 04 00 ${B}`, `36 07 05 ${B}`, `06 03 05 ${le16(ha)}`]);
  assert.equal(b.take(), [`0e 0a 01 2d 04 00 ${A}`, `36 07 05 ${A}`]);
});

test('later connection: Link Key Request on both sides; equal key ok, missing 0x06, different 0x05 + detach', () => {
  const p = classicPair();
  const key = sspNumeric(p, '05');
  const { loop, a, b, ha, hb, A, B } = p;
  const other = '11 '.repeat(15) + '11';
  for (const [bReply, status] of [
    [`0b 04 16 ${A} ${key}`, '00'],
    [`0c 04 06 ${A}`, '06'],
    [`0b 04 16 ${A} ${other}`, '05'],
  ] as const) {
    a.cmd(`11 04 02 ${le16(ha)}`);
    loop.advance(100);
    assert.equal(a.take(), ['0f 04 00 01 11 04', `17 06 ${B}`]);
    a.cmd(`0b 04 16 ${B} ${key}`);
    loop.advance(100);
    assert.equal(a.take(), [`0e 0a 01 0b 04 00 ${B}`]);
    assert.equal(b.take(), [`17 06 ${A}`]);
    b.cmd(bReply);
    loop.advance(100);
    if (status !== '05') {
      assert.equal(a.take(), [`06 03 ${status} ${le16(ha)}`]);
      assert.equal(b.take().length, 1); // its Command Complete only: the responder gets no Authentication Complete
    } else {
      // keys differ: the verifier detaches the link with Authentication Failure
      assert.equal(a.take(), [`06 03 05 ${le16(ha)}`, `05 04 00 ${le16(ha)} 05`]);
      assert.equal(b.take().slice(1), [`05 04 00 ${le16(hb)} 05`]);
    }
  }
});

test('Set Connection Encryption on an unauthenticated link authenticates first', () => {
  const p = classicPair();
  const { loop, a, b, ha, hb, A, B } = p;
  a.cmd(`13 04 03 ${le16(ha)} 01`);
  loop.advance(100);
  assert.equal(a.take(), ['0f 04 00 01 13 04', `17 06 ${B}`]);
  a.cmd(`0c 04 06 ${B}`);
  loop.advance(100);
  a.clear();
  a.cmd(`2b 04 09 ${B} 03 00 00`);
  loop.advance(100);
  b.clear();
  b.cmd(`2b 04 09 ${A} 03 00 00`);
  loop.advance(100);
  a.clear();
  b.clear();
  a.cmd(`2c 04 06 ${B}`);
  b.cmd(`2c 04 06 ${A}`);
  loop.advance(100);
  const ea = a.take();
  assert.is(ea[ea.length - 1], `08 04 00 ${le16(ha)} 01`, 'Encryption Change, no Authentication Complete');
  assert.ok(!ea.some((e) => e.startsWith('06 ')));
  assert.is(b.take().pop(), `08 04 00 ${le16(hb)} 01`);
});

test('legacy PIN pairing when SSP is off: PIN Code Request on both, combination key; wrong PIN 0x05', () => {
  for (const right of [true, false]) {
    const p = classicPair({ ssp: false });
    const { loop, a, b, ha, A, B } = p;
    a.cmd(`11 04 02 ${le16(ha)}`);
    loop.advance(100);
    a.clear();
    a.cmd(`0c 04 06 ${B}`);
    loop.advance(100);
    assert.equal(a.take(), [`0e 0a 01 0c 04 00 ${B}`, `16 06 ${B}`]);
    a.cmd(`0d 04 17 ${B} 04 31 32 33 34` + ' 00'.repeat(12));
    loop.advance(100);
    assert.equal(a.take(), [`0e 0a 01 0d 04 00 ${B}`]);
    assert.equal(b.take(), [`16 06 ${A}`]);
    b.cmd(`0d 04 17 ${A} 04 31 32 33 ${right ? '34' : '35'}` + ' 00'.repeat(12));
    loop.advance(100);
    const ea = a.take();
    if (right) {
      assert.is(ea.length, 2);
      assert.ok(ea[0]!.startsWith(`18 17 ${B} `) && ea[0]!.endsWith(' 00'));
      assert.is(ea[1], `06 03 00 ${le16(ha)}`);
      assert.is(b.take()[1]!.slice(0, -3), ea[0]!.replace(B, A).slice(0, -3));
    } else {
      assert.equal(ea, [`06 03 05 ${le16(ha)}`, `05 04 00 ${le16(ha)} 05`]);
    }
  }
});

test('replies nobody asked for: 0x0C; for an unknown address: 0x02', () => {
  const p = classicPair();
  const { loop, a, B } = p;
  a.cmd(`2c 04 06 ${B}`);
  a.cmd(`0b 04 16 ${B}` + ' 00'.repeat(16));
  a.cmd('2c 04 06 01 02 03 04 05 06');
  a.cmd(`2b 04 09 ${B} 04 00 00`); // IO capability 0x04 is LE only
  loop.advance(100);
  assert.equal(a.take(), [
    `0e 0a 01 2c 04 0c ${B}`,
    `0e 0a 01 0b 04 0c ${B}`,
    '0e 0a 01 2c 04 02 01 02 03 04 05 06',
    `0e 0a 01 2b 04 12 ${B}`,
  ]);
});

test('a host that never answers: Authentication Complete 0x22 after the LMP response timeout', () => {
  const p = classicPair();
  const { loop, a, ha, B } = p;
  a.cmd(`11 04 02 ${le16(ha)}`);
  loop.advance(100);
  a.clear();
  a.cmd(`0b 04 16 ${B}` + ' 22'.repeat(16));
  const t0 = loop.get_time_ms();
  loop.run(); // b's host never replies to its Link Key Request
  assert.equal(a.take(), [`0e 0a 01 0b 04 00 ${B}`, `06 03 22 ${le16(ha)}`]);
  assert.is(loop.get_time_ms() - t0, 30_000);
});

// ------------------------------------------------------------------ LE

function lePair(): Pair {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  for (const h of [a, b]) unmask(h);
  b.cmd('06 20 0f 20 00 20 00 00 00 00 00 00 00 00 00 00 07 00');
  b.cmd('0a 20 01 01');
  a.cmd(`0d 20 19 60 00 30 00 00 00 ${wire(b.c.bd_addr)} 00 18 00 28 00 00 00 2a 00 00 00 00 00`);
  loop.run_until(() => !!a.find(0x3e, 1) && !!b.find(0x3e, 1));
  const ea = a.find(0x3e, 1)!;
  const eb = b.find(0x3e, 1)!;
  loop.run();
  a.clear();
  b.clear();
  return { loop, a, b, ha: ea[4]! | (ea[5]! << 8), hb: eb[4]! | (eb[5]! << 8), A: wire(a.c.bd_addr), B: wire(b.c.bd_addr) };
}

const RAND = '01 02 03 04 05 06 07 08';
const EDIV = '34 12';
const LTK = '00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff';

test('LE Start Encryption: LTK Request on the peripheral, equal key -> Encryption Change on both; again -> Key Refresh', () => {
  const { loop, a, b, ha, hb } = lePair();
  a.cmd(`19 20 1c ${le16(ha)} ${RAND} ${EDIV} ${LTK}`);
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 19 20']);
  assert.equal(b.take(), [`3e 0d 05 ${le16(hb)} ${RAND} ${EDIV}`]);
  b.cmd(`1a 20 12 ${le16(hb)} ${LTK}`);
  loop.run();
  assert.equal(b.take(), [`0e 06 01 1a 20 00 ${le16(hb)}`, `08 04 00 ${le16(hb)} 01`]);
  assert.equal(a.take(), [`08 04 00 ${le16(ha)} 01`]);
  a.cmd(`19 20 1c ${le16(ha)} ${RAND} ${EDIV} ${LTK}`);
  loop.run();
  b.take();
  b.cmd(`1a 20 12 ${le16(hb)} ${LTK}`);
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 19 20', `30 03 00 ${le16(ha)}`]);
  assert.equal(b.take(), [`0e 06 01 1a 20 00 ${le16(hb)}`, `30 03 00 ${le16(hb)}`]);
});

test('LE encryption with different keys ends the link with MIC failure (0x3D) on both sides', () => {
  const { loop, a, b, ha, hb } = lePair();
  a.cmd(`19 20 1c ${le16(ha)} ${RAND} ${EDIV} ${LTK}`);
  loop.run();
  b.take();
  b.cmd(`1a 20 12 ${le16(hb)} ` + 'ff '.repeat(15) + 'ff');
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 19 20', `05 04 00 ${le16(ha)} 3d`]);
  assert.equal(b.take(), [`0e 06 01 1a 20 00 ${le16(hb)}`, `05 04 00 ${le16(hb)} 3d`]);
});

test('LTK negative reply: the central gets Encryption Change 0x06; peripheral may not start encryption', () => {
  const { loop, a, b, ha, hb } = lePair();
  b.cmd(`19 20 1c ${le16(hb)} ${RAND} ${EDIV} ${LTK}`);
  b.cmd(`1a 20 12 ${le16(hb)} ${LTK}`); // no request pending
  a.cmd(`19 20 1c ${le16(ha)} ${RAND} ${EDIV} ${LTK}`);
  loop.run();
  assert.equal(b.take(), ['0f 04 0c 01 19 20', `0e 06 01 1a 20 0c ${le16(hb)}`, `3e 0d 05 ${le16(hb)} ${RAND} ${EDIV}`]);
  b.cmd(`1b 20 02 ${le16(hb)}`);
  loop.run();
  assert.equal(b.take(), [`0e 06 01 1b 20 00 ${le16(hb)}`]);
  assert.equal(a.take(), ['0f 04 00 01 19 20', `08 04 06 ${le16(ha)} 00`]);
});

test('LTK Request masked on the peripheral: the controller answers negative by itself', () => {
  const { loop, a, b, ha } = lePair();
  b.cmd('01 20 08 0f 00 00 00 00 00 00 00'); // LE mask without LTK Request (bit 4)
  loop.run();
  b.clear();
  a.cmd(`19 20 1c ${le16(ha)} ${RAND} ${EDIV} ${LTK}`);
  loop.run();
  assert.equal(a.take(), ['0f 04 00 01 19 20', `08 04 06 ${le16(ha)} 00`]);
  assert.equal(b.take(), []);
});

test.run();
