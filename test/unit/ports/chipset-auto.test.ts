/**
 * Chipset detection as wired for the CLI and examples (ports/chipset-auto.ts): a Read Local
 * Version Information Command Complete (bytes per Core Vol 4 Part E 7.7.14 / 7.4.1) for every
 * manufacturer in the detection table picks the driver `bthost info` names; --chipset overrides;
 * the BCM patch file is found by its btbcm name, and a missing or bad one is one line.
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
    if (entry.chipset && !want) assert.match(line, /not supported by bthost yet/);
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
    new ChipsetAuto(hci, { firmware_dirs: [dir], on_error: (m) => errors.push(m) });
    hci.event(version(0x000f, 0x2209));
    assert.is(errors.length, 1);
    assert.match(
      errors[0]!,
      /^no \.hcd patch file for BCM43430A1: looked for BCM43430A1\.hcd, BCM\.hcd in .* \(give one with --firmware PATH, or --firmware none/,
    );
    assert.not.match(errors[0]!, /\n/);
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

test.run();
