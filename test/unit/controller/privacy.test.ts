/**
 * LL Privacy of the virtual controller (controller-privacy.ts): the resolving list commands with
 * their error rules (Core Vol 4 Part E 7.8.38-7.8.45, 7.8.77), Supported_Commands bits (6.27:
 * octet 34 bits 3-7, octet 35 bits 0-2, octet 39 bit 2) and the LL Privacy feature bit (Vol 6
 * Part B 4.6, bit 6), and resolution on the air. Commands and events are written out byte by
 * byte from the specification; the RPA is the ah sample of Vol 3 Part H Appendix D.7
 * (IRK ec0234a3 57c8ad05 341010a6 0a397d9b, prand 708194 -> hash 0dfbaa), so the controller's
 * resolution is checked against the spec's data, not against our SM.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex } from '../../../src/core/bytes.js';
import type { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { bench, unmask, wire, type Host } from './bench.js';

/** The spec's IRK, least significant octet first (as HCI carries it). */
const IRK = '9b 7d 39 0a a6 10 10 34 05 ad c8 57 a3 34 02 ec';
const LOCAL_IRK = ' 00'.repeat(16).trim();
/** The spec's RPA, 70:81:94:0D:FB:AA, in wire order. */
const RPA = 'aa fb 0d 94 81 70';
/** A public identity address 11:22:33:44:55:66, wire order. */
const ID = '66 55 44 33 22 11';

const add = (h: Host, type: string, id: string, irk = IRK): void => h.cmd(`27 20 27 ${type} ${id} ${irk} ${LOCAL_IRK}`);
let LOOP: VirtualRunLoop | null = null;
/** Events delivered so far (the controller answers through the run loop), and forget them. */
const take = (h: Host): string[] => {
  LOOP!.advance(5);
  return h.take();
};
const status = (h: Host): string => take(h).pop()!;

function two(opts = [{}, {}]) {
  const { loop, hosts } = bench(2, { rssi: -55 }, opts);
  LOOP = loop;
  const [a, b] = hosts as [Host, Host];
  unmask(a);
  unmask(b);
  loop.run();
  a.clear();
  b.clear();
  return { loop, a, b };
}

test('Read Resolving List Size, add / duplicate / full (0x12, 0x07), remove, clear, unknown identity (0x02)', () => {
  const { a } = two();
  a.cmd('2a 20 00');
  assert.is(status(a), '0e 05 01 2a 20 00 08', 'size 8');
  add(a, '00', ID);
  assert.is(status(a), '0e 04 01 27 20 00');
  add(a, '00', ID, ' 01'.repeat(16).trim());
  assert.is(status(a), '0e 04 01 27 20 12', 'same identity: Invalid HCI Command Parameters');
  add(a, '01', 'c1 c2 c3 c4 c5 c6');
  assert.is(status(a), '0e 04 01 27 20 12', 'same non-zero peer IRK');
  add(a, '02', 'c1 c2 c3 c4 c5 c6', ' 02'.repeat(16).trim());
  assert.is(status(a), '0e 04 01 27 20 12', 'identity address type 2: invalid');
  for (let i = 1; i < 8; i++) add(a, '01', `0${i} 00 00 00 00 c0`, ` 1${i}`.repeat(16).trim());
  assert.equal(take(a), Array(7).fill('0e 04 01 27 20 00'));
  add(a, '01', '09 00 00 00 00 c0', ' 19'.repeat(16).trim());
  assert.is(status(a), '0e 04 01 27 20 07', 'full: Memory Capacity Exceeded');
  a.cmd(`28 20 07 00 ${ID}`);
  assert.is(status(a), '0e 04 01 28 20 00', 'removed');
  a.cmd(`28 20 07 00 ${ID}`);
  assert.is(status(a), '0e 04 01 28 20 02', 'not in the list: Unknown Connection Identifier');
  a.cmd(`2b 20 07 00 ${ID}`);
  assert.is(status(a), '0e 0a 01 2b 20 02 00 00 00 00 00 00', 'Read Peer RPA, unknown: 0x02 and zeros');
  a.cmd(`2c 20 07 01 01 00 00 00 00 c0`);
  assert.is(status(a), '0e 0a 01 2c 20 00 00 00 00 00 00 00', 'Read Local RPA: none made');
  a.cmd('29 20 00');
  assert.is(status(a), '0e 04 01 29 20 00');
  a.cmd(`2c 20 07 01 01 00 00 00 00 c0`);
  assert.is(status(a), '0e 0a 01 2c 20 02 00 00 00 00 00 00', 'cleared');
  a.cmd('2a 20 01 00');
  assert.is(status(a), '0e 05 01 2a 20 12 00', 'wrong length: Invalid HCI Command Parameters');
});

test('Command Disallowed while resolution is on and scanning; Set Address Resolution Enable while scanning; RPA timeout range', () => {
  const { a } = two();
  a.cmd('0b 20 07 00 10 00 10 00 00 00');
  a.cmd('0c 20 02 01 00'); // scanning
  take(a);
  add(a, '00', ID);
  assert.is(status(a), '0e 04 01 27 20 00', 'resolution off: the list may change while scanning');
  a.cmd('2d 20 01 01');
  assert.is(status(a), '0e 04 01 2d 20 0c', 'enable while scanning: Command Disallowed');
  a.cmd('0c 20 02 00 00');
  a.cmd('2d 20 01 01');
  a.cmd('0c 20 02 01 00');
  assert.equal(take(a), ['0e 04 01 0c 20 00', '0e 04 01 2d 20 00', '0e 04 01 0c 20 00']);
  add(a, '01', 'c1 c2 c3 c4 c5 c6', ' 01'.repeat(16).trim());
  a.cmd(`28 20 07 00 ${ID}`);
  a.cmd('29 20 00');
  a.cmd(`4e 20 08 00 ${ID} 01`);
  a.cmd('2d 20 01 00');
  assert.equal(take(a), [
    '0e 04 01 27 20 0c',
    '0e 04 01 28 20 0c',
    '0e 04 01 29 20 0c',
    '0e 04 01 4e 20 0c',
    '0e 04 01 2d 20 0c',
  ]);
  a.cmd('0c 20 02 00 00');
  a.cmd(`4e 20 08 00 ${ID} 02`);
  a.cmd(`4e 20 08 00 ${ID} 01`);
  a.cmd(`4e 20 08 01 ${ID} 01`);
  a.cmd('2e 20 02 00 00');
  a.cmd('2e 20 02 11 0e');
  a.cmd('2e 20 02 10 0e');
  a.cmd('2d 20 01 02');
  assert.equal(take(a), [
    '0e 04 01 0c 20 00',
    '0e 04 01 4e 20 12',
    '0e 04 01 4e 20 00',
    '0e 04 01 4e 20 02',
    '0e 04 01 2e 20 12',
    '0e 04 01 2e 20 12',
    '0e 04 01 2e 20 00',
    '0e 04 01 2d 20 12',
  ]);
});

/** b advertises (ADV_IND, data 02 01 06) from `own` (0 public, 1 random = the spec's RPA). */
function advertise(b: Host, own: '00' | '01'): void {
  if (own === '01') b.cmd(`05 20 06 ${RPA}`);
  b.cmd(`06 20 0f 20 00 20 00 00 ${own} 00 00 00 00 00 00 00 07 00`);
  b.cmd('08 20 20 03 02 01 06' + ' 00'.repeat(28));
  b.cmd('0a 20 01 01');
}

function reports(a: Host): string[] {
  return take(a).filter((e) => e.startsWith('3e 0f 02'));
}

test('scanning: the RPA reported by identity (type 0x02) with resolution on, as is without; Read Peer RPA', () => {
  const { loop, a, b } = two();
  advertise(b, '01');
  add(a, '00', ID);
  a.cmd('0b 20 07 00 10 00 10 00 00 00');
  a.cmd('0c 20 02 01 01');
  loop.advance(200);
  assert.equal(reports(a), [`3e 0f 02 01 00 01 ${RPA} 03 02 01 06 c9`], 'resolution off: the RPA, type 1');
  a.cmd('0c 20 02 00 00');
  a.cmd('2d 20 01 01');
  a.cmd('0c 20 02 01 01');
  loop.advance(200);
  assert.equal(reports(a), [`3e 0f 02 01 00 02 ${ID} 03 02 01 06 c9`], 'resolved: the identity, type 0x02');
  a.cmd(`2b 20 07 00 ${ID}`);
  assert.is(status(a), `0e 0a 01 2b 20 00 ${RPA}`, 'Read Peer Resolvable Address: the RPA heard');
});

test('Network Privacy Mode ignores a listed identity on the air; Device Privacy Mode accepts it (type 0)', () => {
  const { loop, a, b } = two();
  advertise(b, '00');
  const pub = wire(b.c.bd_addr);
  add(a, '00', pub);
  a.cmd('2d 20 01 01');
  a.cmd('0b 20 07 00 10 00 10 00 00 00');
  a.cmd('0c 20 02 01 00');
  loop.advance(200);
  assert.equal(reports(a), [], 'network privacy: the identity address of a peer with an IRK is not accepted');
  a.cmd('0c 20 02 00 00');
  a.cmd(`4e 20 08 00 ${pub} 01`);
  a.cmd('0c 20 02 01 01');
  loop.advance(200);
  assert.equal(reports(a), [`3e 0f 02 01 00 00 ${pub} 03 02 01 06 c9`], 'device privacy: reported as on the air');
});

test('LE Create Connection to identity type 0x02: LE Enhanced Connection Complete with the identity and the peer RPA; legacy event when masked', () => {
  for (const enhanced of [true, false]) {
    const { loop, a, b } = two();
    if (enhanced) a.cmd('01 20 08 7f 02 00 00 00 00 00 00'); // LE event mask + bit 9
    advertise(b, '01');
    add(a, '00', ID);
    a.cmd('2d 20 01 01');
    take(a);
    a.cmd(`0d 20 19 60 00 30 00 00 02 ${ID} 00 18 00 28 00 00 00 2a 00 00 00 00 00`);
    loop.run_until(() => !!a.find(0x3e, enhanced ? 0x0a : 0x01) && !!b.find(0x3e, 0x01));
    const ev = a.find(0x3e, enhanced ? 0x0a : 0x01)!;
    const h = `${ev[4]!.toString(16).padStart(2, '0')} ${ev[5]!.toString(16).padStart(2, '0')}`;
    const want = enhanced
      ? `3e 1f 0a 00 ${h} 00 02 ${ID} 00 00 00 00 00 00 ${RPA} 28 00 00 00 2a 00 00`
      : `3e 13 01 00 ${h} 00 00 ${ID} 28 00 00 00 2a 00 00`;
    assert.is(
      a.events().find((e) => e.startsWith(enhanced ? '3e 1f 0a' : '3e 13 01')),
      want,
    );
    // b (no resolution) names a by its public address
    const eb = b.find(0x3e, 0x01)!;
    assert.equal(Array.from(eb.subarray(7, 14)), Array.from(fromHex(`00 ${wire(a.c.bd_addr)}`)));
  }
});

test('resolving_list_size 0: no LL Privacy (unknown commands, Supported_Commands bits and LE feature bit off)', () => {
  const { a, b } = two([{ resolving_list_size: 0 }, {}]);
  for (const h of [a, b]) {
    h.cmd('02 10 00');
    h.cmd('03 20 00');
  }
  const [cmdsA, featA] = take(a);
  const [cmdsB, featB] = take(b);
  const octet = (e: string, n: number): number => fromHex(e)[6 + n]!;
  assert.is(octet(cmdsB!, 34) & 0xf8, 0xf8, 'octet 34 bits 3-7');
  assert.is(octet(cmdsB!, 35) & 0x07, 0x07, 'octet 35 bits 0-2');
  assert.is(octet(cmdsB!, 39) & 0x04, 0x04, 'octet 39 bit 2: LE Set Privacy Mode');
  assert.is(octet(cmdsA!, 34) & 0xf8, 0);
  assert.is(octet(cmdsA!, 35) & 0x07, 0);
  assert.is(octet(cmdsA!, 39) & 0x04, 0);
  assert.is(fromHex(featB!)[6]! & 0x40, 0x40, 'LL Privacy');
  assert.is(fromHex(featA!)[6]! & 0x40, 0);
  a.cmd('2a 20 00');
  assert.is(status(a), '0e 04 01 2a 20 01', 'Unknown HCI Command');
});

test('HCI Reset empties the list and turns resolution off', () => {
  const { loop, a } = two();
  add(a, '00', ID);
  a.cmd('2d 20 01 01');
  a.cmd('03 0c 00');
  loop.run();
  take(a);
  a.cmd(`2b 20 07 00 ${ID}`);
  assert.is(status(a), '0e 0a 01 2b 20 02 00 00 00 00 00 00');
  assert.is(a.c.state.le.rl.enabled, false);
});

test.run();
