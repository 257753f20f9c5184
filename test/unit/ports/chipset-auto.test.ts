/**
 * Chipset detection as wired for the CLI and examples (ports/chipset-auto.ts): a Read Local
 * Version Information Command Complete (bytes per Core Vol 4 Part E 7.7.14 / 7.4.1) for every
 * manufacturer in the detection table picks the driver `bthost info` names; --chipset overrides;
 * the BCM patch file is found by its btbcm name, a missing one is a warning, a bad one is one line; no .hcd
 * through the HCI user channel or USB; Realtek on USB finds its rtl_bt files (missing: one line
 * naming the file and the directories); Intel on USB is a one-line warning.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChipsetAuto, describe_choice, type ChipsetAutoHci } from '../../../ports/chipset-auto.js';
import { chipset_info_lines } from '../../../ports/cli/chipset.js';
import { CHIPSET_TABLE, chipset_zephyr, type BtstackChipset } from '../../../src/chipset/index.js';

class FakeHci implements ChipsetAutoHci {
  cb: ((type: number, channel: number, packet: Uint8Array, size: number) => void) | null = null;
  chipset: BtstackChipset | null | undefined = undefined;
  hci_add_event_handler(reg: { callback: (type: number, channel: number, packet: Uint8Array, size: number) => void }): void {
    this.cb = reg.callback;
  }
  hci_set_chipset(c: BtstackChipset | null): void {
    this.chipset = c;
  }
  event(bytes: number[]): void {
    const p = Uint8Array.from(bytes);
    this.cb!(0x04, 0, p, p.length);
  }
}

/** 0E 0C 01 01 10 00, HCI 9, revision 0x0001, LMP 9, manufacturer, subversion. */
const version = (manufacturer: number, subversion = 0x0001): number[] => [
  0x0e,
  0x0c,
  0x01,
  0x01,
  0x10,
  0x00,
  0x09,
  0x01,
  0x00,
  0x09,
  manufacturer & 0xff,
  manufacturer >> 8,
  subversion & 0xff,
  subversion >> 8,
];

const EXPECTED: Record<number, string> = {
  0x000f: 'bcm',
  0x0131: 'bcm',
  0x0059: 'zephyr',
  0x05f1: 'zephyr',
  0x07e8: 'zephyr',
};

test('every manufacturer in the table: the driver chosen and the info line (detected)', () => {
  for (const [id, entry] of CHIPSET_TABLE) {
    const hci = new FakeHci();
    const errors: string[] = [];
    const auto = new ChipsetAuto(hci, { firmware: 'none', on_error: (m) => errors.push(m) });
    hci.event(version(id));
    const c = auto.choice!;
    const want = EXPECTED[id] ?? null;
    assert.is(c.name, want, entry.name);
    assert.is(c.how, 'detected');
    assert.is(hci.chipset?.name ?? null, want === 'bcm' ? 'BCM' : want === 'zephyr' ? 'Zephyr' : null, entry.name);
    const line = chipset_info_lines(c)[0]!;
    const hexid = `0x${id.toString(16).padStart(4, '0')}`;
    assert.ok(
      line.startsWith(`  Chipset:       ${want ?? 'generic (no vendor driver)'} (detected: ${entry.name} (${hexid})`),
      line,
    );
    if (entry.chipset === 'realtek') assert.ok(line.endsWith('; firmware download only on the USB path'), line);
    else if (entry.chipset && !want) assert.match(line, /not supported by bthost yet/);
    assert.equal(errors, []);
  }
});

test('--chipset overrides detection; an unknown manufacturer is generic; no answer is said so', () => {
  const hci = new FakeHci();
  const zephyr = chipset_zephyr();
  const auto = new ChipsetAuto(hci, { forced: { name: 'zephyr', driver: zephyr } });
  hci.event(version(0x000f, 0x2209)); // a Broadcom answer
  assert.is(hci.chipset, undefined, 'the forced driver stays (given to the Stack before power on)');
  assert.is(describe_choice(auto.choice), 'zephyr (forced by --chipset)');
  const g = new FakeHci();
  const a2 = new ChipsetAuto(g);
  g.event(version(0x1234));
  assert.is(
    describe_choice(a2.choice),
    'generic (no vendor driver) (detected: manufacturer 0x1234 not in the table: generic controller, no vendor init)',
  );
  assert.is(describe_choice(null), 'none (the controller did not answer Read Local Version Information)');
});

test('BCM: the .hcd by its btbcm name (0x2209 -> BCM43430A1.hcd); missing, bad, and refused patch commands are one line each', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bthost-auto-'));
  try {
    // missing
    let hci = new FakeHci();
    let errors: string[] = [];
    const warnings: string[] = [];
    const missing = new ChipsetAuto(hci, {
      firmware_dirs: [dir],
      on_error: (m) => errors.push(m),
      on_warning: (m) => warnings.push(m),
    });
    hci.event(version(0x000f, 0x2209));
    // a warning, and the ROM firmware runs (as Linux btbcm and BTstack's bcm chipset go on)
    assert.equal(errors, []);
    assert.is(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /^no \.hcd patch file for BCM43430A1: looked for BCM43430A1\.hcd, BCM\.hcd in .*; running the ROM firmware \(give one with --firmware PATH, or --firmware none/,
    );
    assert.not.match(warnings[0]!, /\n/);
    assert.is(missing.choice!.firmware, 'none');
    // found in the directory
    writeFileSync(
      join(dir, 'BCM43430A1.hcd'),
      Uint8Array.of(0x4c, 0xfc, 0x05, 0, 0, 8, 0, 0xaa, 0x4e, 0xfc, 0x04, 0xff, 0xff, 0xff, 0xff),
    );
    hci = new FakeHci();
    errors = [];
    let auto = new ChipsetAuto(hci, { firmware: dir, on_error: (m) => errors.push(m) });
    hci.event(version(0x000f, 0x2209));
    assert.equal(errors, []);
    assert.is(auto.choice!.firmware, join(dir, 'BCM43430A1.hcd'));
    // after the restart: the second answer is the patched version
    hci.event(version(0x000f, 0x4209));
    assert.equal(chipset_info_lines(auto.choice).slice(1), [
      `  Firmware:      ${join(dir, 'BCM43430A1.hcd')}, LMP subversion 0x2209 -> 0x4209`,
    ]);
    // a refused Write RAM
    hci.event([0x0e, 0x04, 0x01, 0x4c, 0xfc, 0x12]);
    assert.equal(errors, [
      `patch download failed: the controller refused Write RAM with status 0x12 (${join(dir, 'BCM43430A1.hcd')})`,
    ]);
    // bad file
    const bad = join(dir, 'bad.hcd');
    writeFileSync(bad, Uint8Array.of(0x4c, 0xfc, 0x09, 0, 0));
    hci = new FakeHci();
    errors = [];
    auto = new ChipsetAuto(hci, { firmware: bad, on_error: (m) => errors.push(m) });
    hci.event(version(0x000f, 0x2209));
    assert.equal(errors, [`bad .hcd patch file ${bad}: record 0xfc4c at offset 0: 9 parameter bytes, 2 left`]);
    assert.is(auto.choice!.firmware, null);
    // unreadable
    hci = new FakeHci();
    errors = [];
    new ChipsetAuto(hci, { firmware: join(dir, 'nope.hcd'), on_error: (m) => errors.push(m) });
    hci.event(version(0x000f, 0x2209));
    assert.equal(errors, [`cannot read the .hcd patch file ${join(dir, 'nope.hcd')}: ENOENT`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Read Local Version of a Realtek chip: 0E 0C 01 01 10 00, HCI version, revision, LMP version, 0x005D, subversion. */
const rtk_version = (hci_version: number, hci_revision: number, subversion: number): number[] => [
  0x0e,
  0x0c,
  0x01,
  0x01,
  0x10,
  0x00,
  hci_version,
  hci_revision & 0xff,
  hci_revision >> 8,
  hci_version,
  0x5d,
  0x00,
  subversion & 0xff,
  subversion >> 8,
];

// a minimal v1 epatch for RTL8761B (project id 14): one patch for ROM version 0 (chip id 1)
const EPATCH = Uint8Array.of(
  ...[0x52, 0x65, 0x61, 0x6c, 0x74, 0x65, 0x63, 0x68], // 'Realtech'
  ...[0x01, 0x00, 0xc6, 0xdf], // version 0xdfc60001
  0x01,
  0x00,
  0x01,
  0x00,
  0x06,
  0x00,
  0x16,
  0x00,
  0x00,
  0x00, // 1 patch: chip id 1, 6 bytes at 22
  ...[0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5],
  ...[0x0e, 0x01, 0x00, 0x51, 0x04, 0xfd, 0x77],
);

test('the HCI user channel and USB: no .hcd download for BCM (kernel loaded it / no UART)', () => {
  for (const [bus, note] of [
    ['hci', 'firmware loaded by the kernel, no .hcd download'],
    ['usb', 'no UART here, no .hcd download'],
  ] as const) {
    const hci = new FakeHci();
    const errors: string[] = [];
    const auto = new ChipsetAuto(hci, { bus, firmware_dirs: ['/nonexistent'], on_error: (m) => errors.push(m) });
    hci.event(version(0x000f, 0x2209));
    assert.equal(errors, [], bus);
    assert.is(auto.choice!.name, 'bcm');
    assert.is(auto.choice!.firmware, null);
    assert.is(auto.choice!.note, note);
    assert.is((hci.chipset as { has_patch?: boolean }).has_patch, false);
    assert.ok(describe_choice(auto.choice).endsWith(`; ${note}`));
  }
});

test('Realtek on USB: rtl8761bu_fw.bin and its config from the directory; missing file one line; patched version no download', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bthost-rtk-'));
  try {
    let hci = new FakeHci();
    let errors: string[] = [];
    new ChipsetAuto(hci, { bus: 'usb', firmware_dirs: [dir, '/lib/firmware/rtl_bt'], on_error: (m) => errors.push(m) });
    hci.event(rtk_version(0x0a, 0x000b, 0x8761));
    assert.equal(errors, [
      `no firmware for RTL8761BU: rtl8761bu_fw.bin not found in ${dir}, /lib/firmware/rtl_bt (install linux-firmware's rtl_bt files, give one with --firmware PATH, or --firmware none to run the ROM firmware)`,
    ]);
    writeFileSync(join(dir, 'rtl8761bu_fw.bin'), EPATCH);
    writeFileSync(join(dir, 'rtl8761bu_config.bin'), Uint8Array.of(0x55, 0xab, 0x23, 0x87));
    hci = new FakeHci();
    errors = [];
    const auto = new ChipsetAuto(hci, { bus: 'usb', firmware: dir, on_error: (m) => errors.push(m) });
    hci.event(rtk_version(0x0a, 0x000b, 0x8761));
    assert.equal(errors, []);
    assert.is(auto.choice!.name, 'realtek');
    assert.is(auto.choice!.firmware, join(dir, 'rtl8761bu_fw.bin'));
    const rtk = hci.chipset!;
    assert.is(rtk.name, 'Realtek');
    const buf = new Uint8Array(258);
    rtk.init!(undefined);
    assert.is(rtk.next_command!(buf), 3);
    rtk.command_complete!(0xfc6d, Uint8Array.of(0, 0));
    const n = rtk.next_command!(buf);
    assert.equal(
      Array.from(buf.subarray(0, n)),
      [0x20, 0xfc, 0x0b, 0x80, 0xa0, 0xa1, 0x01, 0x00, 0xc6, 0xdf, 0x55, 0xab, 0x23, 0x87],
      'patch, version, config',
    );
    // after the restart: the firmware's version
    hci.event(rtk_version(0x0a, 0xdfc6, 0x0001));
    assert.equal(chipset_info_lines(auto.choice).slice(1), [
      `  Firmware:      ${join(dir, 'rtl8761bu_fw.bin')}, LMP subversion 0x8761 -> 0x0001`,
    ]);
    // a new process finds the firmware running: no download
    hci = new FakeHci();
    const again = new ChipsetAuto(hci, { bus: 'usb', firmware: dir, on_error: (m) => errors.push(m) });
    hci.event(rtk_version(0x0a, 0xdfc6, 0x0001));
    assert.equal(errors, []);
    assert.is(again.choice!.firmware, null);
    assert.match(again.choice!.note!, /not in the table: firmware running already/);
    // --firmware FILE of another chip family
    const other = join(dir, 'other.bin');
    const f = EPATCH.slice();
    f[f.length - 7] = 13;
    writeFileSync(other, f);
    hci = new FakeHci();
    new ChipsetAuto(hci, { bus: 'usb', firmware: other, on_error: (m) => errors.push(m) });
    hci.event(rtk_version(0x0a, 0x000b, 0x8761));
    assert.equal(errors, []); // checked when the ROM version is known
    hci.chipset!.init!(undefined);
    hci.chipset!.next_command!(buf);
    hci.chipset!.command_complete!(0xfc6d, Uint8Array.of(0, 0));
    assert.is(hci.chipset!.next_command!(buf), 0);
    assert.equal(errors, ['RTL8761BU: firmware for 0x8822 chips (project id 13), this is RTL8761BU (0x8761)']);
    // through the HCI user channel: the kernel's firmware
    hci = new FakeHci();
    const k = new ChipsetAuto(hci, { bus: 'hci' });
    hci.event(rtk_version(0x0a, 0x000b, 0x8761));
    assert.is(k.choice!.name, null);
    assert.is(k.choice!.note, 'firmware loaded by the kernel');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Intel on USB: one warning line, generic', () => {
  const hci = new FakeHci();
  const warnings: string[] = [];
  const auto = new ChipsetAuto(hci, { bus: 'usb', on_warning: (m) => warnings.push(m) });
  hci.event(version(0x0002, 0x0100));
  assert.equal(warnings, [
    'Intel USB controllers need their firmware download (ibt files), which bthost does not support yet: the controller may not work',
  ]);
  assert.is(auto.choice!.name, null);
});

test.run();
