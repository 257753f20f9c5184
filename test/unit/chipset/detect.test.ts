import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex } from '../../../src/core/bytes.js';
import {
  CHIPSET_TABLE,
  detect_chipset,
  detect_chipset_from_event,
  parse_local_version_information,
} from '../../../src/chipset/detect.js';

// Command Complete for HCI_Read_Local_Version_Information (Core Vol 4 Part E 7.7.14 and 7.4.1):
// 0E (event code) 0C (length 12) 01 (Num_HCI_Command_Packets) 01 10 (opcode 0x1001, OGF 4 OCF 1)
// 00 (status) HCI_Version, HCI_Revision (LE16), LMP_Version, Company_Identifier (LE16), LMP_Subversion (LE16).
// Company identifiers: Bluetooth SIG assigned numbers.
const ANSWERS: [string, string, string | null, boolean][] = [
  // raw event                                   manufacturer name                                       chipset     supported
  ['0e 0c 01 01 10 00 06 00 00 06 00 00 00 00', 'Ericsson Technology Licensing', null, false],
  ['0e 0c 01 01 10 00 0b 00 01 0b 02 00 00 01', 'Intel Corp.', 'intel', false],
  ['0e 0c 01 01 10 00 06 10 00 06 04 00 00 00', 'Toshiba Corp.', 'tc3566x', false],
  ['0e 0c 01 01 10 00 08 00 00 08 09 00 00 00', 'Infineon Technologies AG', null, false],
  // CSR8510 A10 as seen on cheap dongles: HCI 4.0 (06), revision 0x22BB, LMP 06, 0x000A, subversion 0x22BB
  ['0e 0c 01 01 10 00 06 bb 22 06 0a 00 bb 22', 'Qualcomm Technologies International, Ltd. (QTIL)', 'csr', false],
  // CC2564C: HCI 4.1 (07), manufacturer 0x000D
  ['0e 0c 01 01 10 00 07 00 00 07 0d 00 0f 41', 'Texas Instruments Inc.', 'ti', false],
  // Raspberry Pi 3 BCM43430A1: manufacturer 0x000F, LMP subversion 0x2209
  ['0e 0c 01 01 10 00 07 f2 00 07 0f 00 09 22', 'Broadcom Corporation', 'bcm', true],
  ['0e 0c 01 01 10 00 04 00 00 04 13 00 00 00', 'Atmel Corporation', null, false],
  ['0e 0c 01 01 10 00 08 00 00 08 1d 00 00 00', 'Qualcomm', null, false],
  ['0e 0c 01 01 10 00 01 00 00 01 30 00 00 00', 'ST Microelectronics', 'stlc2500d', false],
  ['0e 0c 01 01 10 00 0a 00 00 0a 46 00 00 00', 'MediaTek, Inc.', null, false],
  ['0e 0c 01 01 10 00 08 00 00 08 48 00 00 00', 'Marvell Technology Group Ltd.', null, false],
  ['0e 0c 01 01 10 00 0b 00 00 0b 59 00 00 00', 'Nordic Semiconductor ASA', 'zephyr', true],
  ['0e 0c 01 01 10 00 06 00 00 06 5a 00 00 00', 'EM Microelectronic-Marin SA', 'em9301', false],
  // RTL8761B: HCI 5.1 (0a), revision 0x000B, LMP 0a, 0x005D, subversion 0x8761
  ['0e 0c 01 01 10 00 0a 0b 00 0a 5d 00 61 87', 'Realtek Semiconductor Corporation', 'realtek', true],
  // CYW43455 on a Pi 4 after the patch: 0x0131
  ['0e 0c 01 01 10 00 09 b2 01 09 31 01 19 61', 'Cypress Semiconductor', 'bcm', true],
  // Zephyr hci_uart (nRF52840 dongle): 0x05F1
  ['0e 0c 01 01 10 00 0d 00 00 0d f1 05 ff ff', 'The Linux Foundation', 'zephyr', true],
  ['0e 0c 01 01 10 00 0b 00 00 0b e8 07 00 00', 'Packetcraft, Inc.', 'zephyr', true],
];

test('every manufacturer in the table is detected from a raw Read Local Version Information answer', () => {
  const covered = new Set<number>();
  for (const [raw, name, chipset, supported] of ANSWERS) {
    const r = detect_chipset_from_event(fromHex(raw));
    if (r.status !== 'ok') throw new Error(`${raw}: ${r.reason}`);
    assert.is(r.detection.manufacturer_name, name, raw);
    assert.is(r.detection.chipset, chipset, raw);
    assert.is(r.detection.supported, supported, raw);
    assert.ok(r.detection.description.startsWith(name), r.detection.description);
    covered.add(r.detection.manufacturer);
  }
  assert.equal([...covered].sort(), [...CHIPSET_TABLE.keys()].sort(), 'the test covers the whole table');
});

test('fields are read little endian at the spec offsets', () => {
  const r = parse_local_version_information(fromHex('0e 0c 01 01 10 00 07 f2 00 07 0f 00 09 22'));
  assert.equal(r, {
    status: 'ok',
    info: { hci_version: 7, hci_revision: 0x00f2, lmp_version: 7, manufacturer: 0x000f, lmp_subversion: 0x2209 },
  });
});

test('unknown manufacturer: generic, no driver', () => {
  const d = detect_chipset({ hci_version: 9, hci_revision: 0, lmp_version: 9, manufacturer: 0x1234, lmp_subversion: 0 });
  assert.equal(d, {
    manufacturer: 0x1234,
    manufacturer_name: 'unknown (0x1234)',
    chipset: null,
    supported: false,
    description: 'manufacturer 0x1234 not in the table: generic controller, no vendor init',
  });
});

test('bad answers are a status, never a throw', () => {
  const bad: [string, RegExp][] = [
    ['', /not a Command Complete/],
    ['0f 04 00 01 01 10', /not a Command Complete/],
    ['0e 04 01 03 0c 00', /opcode 0x0c03/],
    ['0e 04 01 01 10 01', /status 0x01/],
    ['0e 0a 01 01 10 00 07 f2 00 07 0f 00', /too short/],
  ];
  for (const [raw, re] of bad) {
    const r = detect_chipset_from_event(fromHex(raw));
    assert.is(r.status, 'error', raw);
    if (r.status === 'error') assert.match(r.reason, re);
  }
  // random bytes
  let x = 1;
  const buf = new Uint8Array(20);
  for (let i = 0; i < 20_000; i++) {
    for (let k = 0; k < buf.length; k++) buf[k] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    if (i & 1) buf[0] = 0x0e;
    if (i & 2) ((buf[3] = 0x01), (buf[4] = 0x10), (buf[5] = 0));
    detect_chipset_from_event(buf, i % 21);
  }
});

test.run();
