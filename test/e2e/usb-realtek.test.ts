/**
 * A Realtek USB dongle (issue 16 item 2): the stack over the USB transport on the fake `usb`
 * package, the dongle's ROM (test/helpers/fake-realtek.ts) in front of a virtual controller, chipset
 * detection as the CLI wires it (ports/chipset-auto.ts, bus 'usb'), an rtl_bt firmware file and
 * config the test writes. On the wire: Reset, Read Local Version (Realtek 0x005D, RTL8761BU's ROM),
 * Read ROM Version 0xFC6D, Download 0xFC20 fragments (indices 0, 1, ..., 0x80 on the last), Reset,
 * Read Local Version (the firmware's version); the image the chip got is the patch for ROM
 * version 1 (chip id 2) with the firmware version in its last 4 bytes, then the config. Then the
 * stack inquires, opens L2CAP and RFCOMM channels and moves 1 MiB over each. Also: a missing
 * firmware file is one line naming the file and the directory searched, and the chip stays on ROM.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsbTransport } from '../../ports/usb/transport.js';
import { ChipsetAuto } from '../../ports/chipset-auto.js';
import { FakeUsbModule } from '../helpers/fake-usb.js';
import { FakeRealtekChip } from '../helpers/fake-realtek.js';
import { host_stack, inquire_and_move, world } from '../helpers/transport-move.js';
import * as C from '../../src/codes/v1.4.js';

/** 'Realtech', version 0xdfc6d922, patches for chip ids 1 (4 bytes) and 2 (600 bytes), project id 14, 51 04 fd 77. */
function epatch(): { file: Uint8Array; patch2: Uint8Array } {
  const p1 = Uint8Array.of(1, 2, 3, 4);
  const patch2 = new Uint8Array(600).map((_, i) => (i * 7 + 1) & 0xff);
  const head = [
    ...[0x52, 0x65, 0x61, 0x6c, 0x74, 0x65, 0x63, 0x68],
    ...[0x22, 0xd9, 0xc6, 0xdf],
    ...[0x02, 0x00],
    ...[0x01, 0x00, 0x02, 0x00],
    ...[0x04, 0x00, 0x58, 0x02], // 4, 600
    ...[0x1e, 0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00], // 30, 34
  ];
  const file = Uint8Array.of(...head, ...p1, ...patch2, 0x0e, 0x01, 0x00, 0x51, 0x04, 0xfd, 0x77);
  return { file, patch2 };
}

test('Realtek RTL8761BU on the fake libusb: rtl_bt firmware downloaded, then boot, inquiry, L2CAP and RFCOMM 1 MiB', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bthost-rtl-'));
  try {
    const { file, patch2 } = epatch();
    const config = Uint8Array.of(0x55, 0xab, 0x23, 0x87, 0x02, 0x00, 0xf4, 0x00);
    writeFileSync(join(dir, 'rtl8761bu_fw.bin'), file);
    writeFileSync(join(dir, 'rtl8761bu_config.bin'), config);
    const w = world();
    const usb = new FakeUsbModule(w.rl);
    const chip = new FakeRealtekChip({ rom_version: 1, patched: { hci_revision: 0xdfc6, lmp_subversion: 0xd922 } });
    usb.add(w.controller, { vid: 0x0bda, pid: 0x8771, realtek: chip });
    const transport = new UsbTransport({ kind: 'first' }, { usb });
    const stack = host_stack(w, transport);
    const errors: string[] = [];
    const auto = new ChipsetAuto(stack.hci, { bus: 'usb', firmware_dirs: [dir], on_error: (m) => errors.push(m) });
    await inquire_and_move(w, stack, 1 << 20);
    assert.equal(errors, []);

    // the image: patch 2 with the version in its last 4 bytes, then the config
    const want = new Uint8Array(600 + config.length);
    want.set(patch2);
    want.set([0x22, 0xd9, 0xc6, 0xdf], 596);
    want.set(config, 600);
    assert.ok(chip.firmware, 'download complete');
    assert.equal(Array.from(chip.firmware!), Array.from(want));
    assert.equal(chip.indices, [0x00, 0x01, 0x82], '608 bytes: 252 + 252 + 104');
    assert.is(chip.refused, 0);
    const h = (v: number) => v.toString(16).padStart(4, '0');
    assert.equal(chip.opcodes.slice(0, 8).map(h), ['0c03', '1001', 'fc6d', 'fc20', 'fc20', 'fc20', '0c03', '1001']);
    assert.is(auto.choice!.name, 'realtek');
    assert.is(auto.choice!.firmware, join(dir, 'rtl8761bu_fw.bin'));
    assert.is(auto.choice!.info!.lmp_subversion, 0x8761);
    assert.is(auto.choice!.info_after_patch!.lmp_subversion, 0xd922);
    assert.is(auto.choice!.info_after_patch!.hci_revision, 0xdfc6);
    stack.hci.hci_power_control(C.HCI_POWER_OFF);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Realtek without its firmware file: one line naming the file and where it was searched; the chip stays on ROM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bthost-rtl-'));
  try {
    const w = world();
    const usb = new FakeUsbModule(w.rl);
    const chip = new FakeRealtekChip({ hci_version: 0x0a, hci_revision: 0x000c, lmp_subversion: 0x8822 });
    usb.add(w.controller, { vid: 0x0bda, pid: 0xc82c, realtek: chip });
    const stack = host_stack(w, new UsbTransport({ kind: 'first' }, { usb }));
    const errors: string[] = [];
    new ChipsetAuto(stack.hci, { bus: 'usb', firmware_dirs: [dir], on_error: (m) => errors.push(m) });
    stack.hci.hci_power_control(C.HCI_POWER_ON);
    w.until(() => errors.length > 0, 'the error line');
    assert.equal(errors, [
      `no firmware for RTL8822CU: rtl8822cu_fw.bin not found in ${dir} (install linux-firmware's rtl_bt files, give one with --firmware PATH, or --firmware none to run the ROM firmware)`,
    ]);
    assert.not.ok(chip.opcodes.includes(0xfc20), 'no Download command');
    assert.is(chip.firmware, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
