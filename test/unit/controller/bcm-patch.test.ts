/**
 * The virtual controller posing as a Broadcom/Cypress chip (`bcm` option): Download Minidriver,
 * Write RAM and Launch RAM (controller-bcm.ts). Command packets written out by hand: opcode
 * 0xFC2E / 0xFC4C / 0xFC4E little endian (OGF 0x3F << 10 | OCF), parameter length, parameters;
 * answers are Command Complete 0e 04 01 <opcode LE> <status> (Core Vol 4 Part E 7.7.14).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bench } from './bench.js';

const one = (opts = {}) => {
  const { loop, hosts } = bench(1, {}, [opts]);
  return { loop, h: hosts[0]! };
};

const MINIDRIVER = '2e fc 00';
const writeRam = (addr: string, data: string) => {
  const n = 4 + data.split(' ').length;
  return `4c fc ${n.toString(16).padStart(2, '0')} ${addr} ${data}`;
};
const LAUNCH = '4e fc 04 ff ff ff ff';
const READ_VERSION = '01 10 00';

test('without the bcm option the patch commands are unknown (0x01)', () => {
  const { loop, h } = one();
  h.cmd(MINIDRIVER);
  h.cmd(writeRam('00 00 08 00', 'aa bb'));
  h.cmd(LAUNCH);
  loop.run();
  assert.equal(h.take(), ['0e 04 01 2e fc 01', '0e 04 01 4c fc 01', '0e 04 01 4e fc 01']);
});

test('patch download: records in order accepted, Launch RAM, deaf while restarting, new LMP subversion', () => {
  const { loop, h } = one({ manufacturer: 0x000f, lmp_subversion: 0x2209, bcm: { patched_lmp_subversion: 0x4209 } });
  h.cmd(READ_VERSION);
  loop.run();
  // HCI 9, revision 0x0001, LMP 9, manufacturer 0x000f, subversion 0x2209
  assert.equal(h.take(), ['0e 0c 01 01 10 00 09 01 00 09 0f 00 09 22']);
  h.cmd(MINIDRIVER);
  h.cmd(writeRam('00 00 08 00', '01 02 03 04')); // 0x00080000, 4 bytes
  h.cmd(writeRam('04 00 08 00', '05 06')); // right after
  h.cmd(writeRam('00 10 08 00', '07')); // a gap is fine
  h.cmd(LAUNCH);
  loop.run(0);
  assert.equal(h.take(), [
    '0e 04 01 2e fc 00',
    '0e 04 01 4c fc 00',
    '0e 04 01 4c fc 00',
    '0e 04 01 4c fc 00',
    '0e 04 01 4e fc 00',
  ]);
  h.cmd('03 0c 00'); // Reset while the chip restarts: no answer
  loop.advance(50);
  assert.equal(h.take(), []);
  loop.advance(60);
  h.cmd('03 0c 00');
  h.cmd(READ_VERSION);
  loop.run(0);
  assert.equal(
    h.take(),
    ['0e 04 01 03 0c 00', '0e 0c 01 01 10 00 09 01 00 09 0f 00 09 42'],
    'patched subversion 0x4209, kept over Reset',
  );
});

test('Write RAM before Download Minidriver: Command Disallowed; overlapping or backwards records: Invalid Parameters', () => {
  const { loop, h } = one({ bcm: true });
  h.cmd(writeRam('00 00 08 00', 'aa'));
  h.cmd(LAUNCH); // nothing written
  h.cmd(MINIDRIVER);
  h.cmd(LAUNCH); // still nothing written
  h.cmd(writeRam('00 00 08 00', 'aa bb cc dd'));
  h.cmd(writeRam('02 00 08 00', 'ee')); // overlaps the previous record
  h.cmd(writeRam('00 00 07 00', 'ee')); // below it
  h.cmd('4c fc 04 00 00 09 00'); // no data
  h.cmd('4c fc 05 fe ff ff ff 01 02'); // length says 5, 6 given: malformed
  h.cmd('4c fc 06 ff ff ff ff 01 02'); // past 32 bits
  h.cmd('4e fc 04 00 00 09 00'); // launch into unwritten memory
  loop.run();
  assert.equal(h.take(), [
    '0e 04 01 4c fc 0c',
    '0e 04 01 4e fc 0c',
    '0e 04 01 2e fc 00',
    '0e 04 01 4e fc 0c',
    '0e 04 01 4c fc 00',
    '0e 04 01 4c fc 12',
    '0e 04 01 4c fc 12',
    '0e 04 01 4c fc 12',
    '0e 04 01 4c fc 12',
    '0e 04 01 4c fc 12',
    '0e 04 01 4e fc 12',
  ]);
  // the default patched subversion is the configured one + 0x0100
  h.cmd(LAUNCH);
  loop.run(0);
  assert.equal(h.take(), ['0e 04 01 4e fc 00']);
  loop.advance(100);
  h.cmd(READ_VERSION);
  loop.run();
  assert.equal(h.take(), ['0e 0c 01 01 10 00 09 01 00 09 ff ff 01 01']);
});

test.run();
