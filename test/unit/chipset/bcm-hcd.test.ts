import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from '../../../src/core/bytes.js';
import { bcm_chip_name, bcm_chip_name_from_local_name, bcm_firmware_names, bcm_hcd_parse } from '../../../src/chipset/bcm-hcd.js';

// A .hcd is HCI command packets back to back (opcode LE16, parameter length, parameters):
// Write RAM (vendor OCF 0x04C -> opcode 0xFC4C, bytes 4C FC) with a 32-bit LE address then data,
// and a final Launch RAM (0xFC4E, bytes 4E FC) with address 0xFFFFFFFF.
const WRITE_1 = '4c fc 0a 00 00 21 00 01 02 03 04 05 06'; // 0x00210000 <- 01..06
const WRITE_2 = '4c fc 08 06 00 21 00 aa bb cc dd'; // 0x00210006 <- aa bb cc dd
const LAUNCH = '4e fc 04 ff ff ff ff';

test('a .hcd file written to disk is read back into validated records', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bthost-hcd-'));
  try {
    const path = join(dir, 'BCM43430A1.hcd');
    writeFileSync(path, fromHex(`${WRITE_1} ${WRITE_2} ${LAUNCH}`));
    const r = bcm_hcd_parse(new Uint8Array(readFileSync(path)));
    if (r.status !== 'ok') throw new Error(r.reason);
    assert.is(r.records.length, 3);
    assert.is(r.write_ram_bytes, 10);
    assert.is(r.launch_address, 0xffffffff);
    const [a, b, c] = r.records;
    assert.equal(
      [a!.kind, a!.opcode, a!.address, a!.offset, hex(a!.data)],
      ['write_ram', 0xfc4c, 0x00210000, 0, '01 02 03 04 05 06'],
    );
    assert.is(hex(a!.packet), WRITE_1);
    assert.equal([b!.kind, b!.address, b!.offset, hex(b!.data)], ['write_ram', 0x00210006, 13, 'aa bb cc dd']);
    assert.equal([c!.kind, c!.opcode, c!.address, hex(c!.packet)], ['launch_ram', 0xfc4e, 0xffffffff, LAUNCH]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad files are an error status with the offset', () => {
  const cases: [string, RegExp, number][] = [
    ['', /empty/, 0],
    [`${WRITE_1} 4c fc`, /truncated record header at offset 13/, 13],
    [`${WRITE_1} 4c fc 0a 00 00`, /record 0xfc4c at offset 13: 10 parameter bytes, 2 left/, 13],
    ['4c fc 03 00 00 21', /no 32-bit address/, 0],
    [`${WRITE_1} ${WRITE_2}`, /no Launch RAM/, 24],
    [`${LAUNCH} ${WRITE_1}`, /record after Launch RAM at offset 7/, 7],
    [`03 0c 00 ${LAUNCH}`, /opcode 0x0c03 is not a vendor command/, 0],
  ];
  for (const [bytes, re, offset] of cases) {
    const r = bcm_hcd_parse(fromHex(bytes));
    assert.is(r.status, 'error', bytes);
    if (r.status === 'error') {
      assert.match(r.reason, re);
      assert.is(r.offset, offset, bytes);
    }
  }
  assert.is(bcm_hcd_parse(new Uint8Array((1 << 20) + 1)).status, 'error');
});

test('chip names from the LMP subversion (btbcm tables) and from Read Local Name', () => {
  assert.is(bcm_chip_name(0x2209), 'BCM43430A1'); // Raspberry Pi 3B / Zero W
  assert.is(bcm_chip_name(0x6119), 'BCM4345C0'); // Raspberry Pi 3B+ / 4B
  assert.is(bcm_chip_name(0x6606), 'BCM4345C5');
  assert.is(bcm_chip_name(0x2118, 'usb'), 'BCM20702A0');
  assert.is(bcm_chip_name(0x2118, 'uart'), null);
  assert.is(bcm_chip_name(0x0000), null);
  assert.is(bcm_chip_name_from_local_name('BCM43430A1 37.4MHz Raspberry Pi 3-0190'), 'BCM43430A1');
  assert.is(bcm_chip_name_from_local_name('CYW43455 ...'), 'CYW43455');
  assert.is(bcm_chip_name_from_local_name('raspberrypi'), null);
});

test('firmware file candidates in btbcm order', () => {
  assert.equal(bcm_firmware_names({ lmp_subversion: 0x6119, board: 'raspberrypi,4-model-b' }), [
    'BCM4345C0.raspberrypi,4-model-b.hcd',
    'BCM4345C0.hcd',
    'BCM.raspberrypi,4-model-b.hcd',
    'BCM.hcd',
  ]);
  assert.equal(bcm_firmware_names({ lmp_subversion: 0x2118, bus: 'usb', vid: 0x0a5c, pid: 0x21e8 }), [
    'BCM20702A0-0a5c-21e8.hcd',
    'BCM-0a5c-21e8.hcd',
  ]);
  assert.equal(bcm_firmware_names({ lmp_subversion: 0x1234, local_name: 'CYW4343W' }), ['CYW4343W.hcd', 'BCM.hcd']);
  assert.equal(bcm_firmware_names({ lmp_subversion: 0x2209, local_name: 'BCM43430A1 37.4MHz' }), ['BCM43430A1.hcd', 'BCM.hcd']);
  assert.equal(bcm_firmware_names({ lmp_subversion: 0x6119, board: 'a/b' })[0], 'BCM4345C0.a-b.hcd');
});

test('fuzz: 100,000 random and mutated files never throw; records stay inside the file', () => {
  let x = 0x16;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296;
  const good = fromHex(`${WRITE_1} ${WRITE_2} ${LAUNCH}`);
  const buf = new Uint8Array(300);
  let ok = 0;
  for (let i = 0; i < 100_000; i++) {
    let n: number;
    if (i & 1) {
      n = Math.floor(rnd() * 300);
      for (let k = 0; k < n; k++) buf[k] = Math.floor(rnd() * 256);
      if (n > 2 && i & 2) ((buf[0] = 0x4c), (buf[1] = 0xfc));
    } else {
      buf.set(good);
      n = good.length;
      const m = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < m; k++) buf[Math.floor(rnd() * n)] = Math.floor(rnd() * 256);
      if (i & 2) n = Math.floor(rnd() * n);
    }
    const file = buf.slice(0, n);
    const r = bcm_hcd_parse(file);
    if (r.status === 'ok') {
      ok++;
      let end = 0;
      for (const rec of r.records) {
        assert.is(rec.offset, end);
        end = rec.offset + rec.packet.length;
        assert.ok(end <= n);
      }
      assert.is(end, n);
      assert.is(r.records.at(-1)!.kind, 'launch_ram');
    } else {
      assert.ok(r.offset >= 0 && r.offset <= n);
    }
  }
  assert.ok(ok > 1000, `valid ${ok}`);
});

test.run();
