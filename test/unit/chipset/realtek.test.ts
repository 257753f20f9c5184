/**
 * Realtek firmware (src/chipset/realtek-fw.ts) and driver (src/chipset/realtek.ts) against
 * epatch files built by hand from the layout (signature 'Realtech', version, patch count, chip
 * ids, lengths, offsets, patches, project id instruction, extension signature 51 04 fd 77): the
 * patch chosen by ROM version + 1, its last 4 bytes replaced by the firmware version, the config
 * appended, Download commands 0xFC20 of up to 252 bytes with their index bytes, and the errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from '../../../src/core/bytes.js';
import {
  chipset_realtek,
  realtek_download_command,
  realtek_download_image,
  realtek_epatch_parse,
  realtek_find_chip,
  realtek_fragment_count,
  REALTEK_CHIPS,
  type RealtekChip,
} from '../../../src/chipset/index.js';

const RTL8761BU = REALTEK_CHIPS.find((c) => c.name === 'RTL8761BU')!;
const RTL8723D = REALTEK_CHIPS.find((c) => c.name === 'RTL8723D')!;

// 'Realtech', version 0x11223344, 2 patches: chip ids 1 and 2, lengths 8 and 6, offsets 30 and 38;
// patch A a0..a7, patch B b0..b5; project id 14 (RTL8761B: data 0e, length 01, opcode 00); 51 04 fd 77
const FILE_HEX =
  '52 65 61 6c 74 65 63 68  44 33 22 11  02 00  01 00 02 00  08 00 06 00  1e 00 00 00 26 00 00 00' +
  '  a0 a1 a2 a3 a4 a5 a6 a7  b0 b1 b2 b3 b4 b5  0e 01 00  51 04 fd 77';
const FILE = fromHex(FILE_HEX);
const CONFIG = fromHex('55 ab 23 87 03 00 0c 00 01');

test('chips by Read Local Version: LMP subversion, HCI revision, HCI version (0 = any)', () => {
  assert.is(realtek_find_chip({ lmp_subversion: 0x8761, hci_revision: 0xb, hci_version: 0xa })?.name, 'RTL8761BU');
  assert.is(realtek_find_chip({ lmp_subversion: 0x8822, hci_revision: 0xc, hci_version: 0xa })?.name, 'RTL8822CU');
  assert.is(realtek_find_chip({ lmp_subversion: 0x8723, hci_revision: 0xd, hci_version: 0x8 })?.name, 'RTL8723D');
  assert.is(realtek_find_chip({ lmp_subversion: 0x8761, hci_revision: 0xe, hci_version: 0x3 })?.name, 'RTL8761CU');
  assert.is(realtek_find_chip({ lmp_subversion: 0xdfc6, hci_revision: 0x000b, hci_version: 0xa }), null, 'patched: not a ROM');
  assert.is(RTL8761BU.firmware, 'rtl8761bu_fw.bin');
  assert.is(RTL8761BU.config, 'rtl8761bu_config.bin');
  assert.is(REALTEK_CHIPS[0]!.config, null, 'RTL8723A: no config');
});

test('epatch v1 header: version, project id, patch table', () => {
  assert.equal(realtek_epatch_parse(FILE), {
    status: 'ok',
    epatch: {
      fw_version: 0x11223344,
      project_id: 14,
      patches: [
        { chip_id: 1, length: 8, offset: 30 },
        { chip_id: 2, length: 6, offset: 38 },
      ],
    },
  });
});

test('image for ROM version 0 (chip id 1) and 1 (chip id 2): patch, version in its last 4 bytes, config', () => {
  const a = realtek_download_image(RTL8761BU, FILE, CONFIG, 0);
  assert.ok(a.status === 'ok');
  assert.is(hex(a.image), 'a0 a1 a2 a3 44 33 22 11 55 ab 23 87 03 00 0c 00 01');
  assert.is(a.fw_version, 0x11223344);
  const b = realtek_download_image(RTL8761BU, FILE, null, 1);
  assert.ok(b.status === 'ok');
  assert.is(hex(b.image), 'b0 b1 44 33 22 11');
});

test('Download commands: 20 fc, length, index (0x80 on the last), up to 252 bytes', () => {
  const img = realtek_download_image(RTL8761BU, FILE, CONFIG, 0);
  assert.ok(img.status === 'ok');
  const buf = new Uint8Array(258);
  assert.is(realtek_download_command(img.image, 0, buf), 21);
  assert.is(hex(buf, 21), '20 fc 12 80 a0 a1 a2 a3 44 33 22 11 55 ab 23 87 03 00 0c 00 01');
  assert.is(realtek_download_command(img.image, 1, buf), 0, 'one fragment only');

  const big = new Uint8Array(600).map((_, i) => i & 0xff);
  assert.is(realtek_fragment_count(600), 3);
  const heads = [0, 1, 2].map((i) => {
    const n = realtek_download_command(big, i, buf);
    return `${n} ${hex(buf, 4)} ${buf[4]}`;
  });
  // 252 + 252 + 96 bytes; 0xfd = 253 = index + 252, 0x61 = 97
  assert.equal(heads, ['256 20 fc fd 00 0', '256 20 fc fd 01 252', '100 20 fc 61 82 248']);
  assert.is(hex(buf.subarray(4, 100)), hex(big.subarray(504)));
});

test('index after 0x7f starts again at 1 (130 fragments: ..., 7f, 01, 82)', () => {
  const img = new Uint8Array(252 * 130);
  const buf = new Uint8Array(258);
  const idx: number[] = [];
  for (let i = 0; i < realtek_fragment_count(img.length); i++) {
    assert.is(realtek_download_command(img, i, buf), 256);
    idx.push(buf[3]!);
  }
  assert.is(idx.length, 130);
  assert.equal(idx.slice(0, 3), [0, 1, 2]);
  assert.equal(idx.slice(126), [0x7e, 0x7f, 0x01, 0x82]);
});

test('driver: Read ROM Version, then the image in Download commands, then a restart (Reset, version again)', () => {
  const progress: string[] = [];
  const rtk = chipset_realtek({ on_progress: (p) => progress.push(`${p.fragments_sent}/${p.fragments_total} ${p.done}`) });
  assert.is(rtk.set_firmware({ chip: RTL8761BU, firmware: FILE, config: CONFIG }), null);
  rtk.init!(undefined);
  const buf = new Uint8Array(258);
  assert.is(rtk.next_command!(buf), 3);
  assert.is(hex(buf, 3), '6d fc 00');
  rtk.command_complete!(0xfc6d, fromHex('00 01')); // status 0, ROM version 1 -> chip id 2
  assert.is(rtk.rom_version, 1);
  assert.is(rtk.restart_delay_ms!(), 0);
  const n = rtk.next_command!(buf);
  assert.is(hex(buf, n), '20 fc 10 80 b0 b1 44 33 22 11 55 ab 23 87 03 00 0c 00 01');
  rtk.command_complete!(0xfc20, fromHex('00 80'));
  assert.is(rtk.next_command!(buf), 0);
  assert.is(rtk.restart_delay_ms!(), 1);
  assert.equal(progress, ['1/1 true']);
  assert.is(rtk.error, null);
  // the next power on downloads again
  rtk.init!(undefined);
  assert.is(rtk.next_command!(buf), 3);
});

test('driver: RTL8723A has no ROM version: the plain file at once', () => {
  const chip = REALTEK_CHIPS[0]!;
  const rtk = chipset_realtek();
  const plain = fromHex('01 02 03 04 05 06 07 08 09');
  assert.is(rtk.set_firmware({ chip, firmware: plain, config: null }), null);
  rtk.init!(undefined);
  const buf = new Uint8Array(258);
  const n = rtk.next_command!(buf);
  assert.is(hex(buf, n), '20 fc 0a 80 01 02 03 04 05 06 07 08 09');
  assert.is(realtek_download_image(chip, FILE, null, 0).status, 'error', 'an epatch file is not for RTL8723A');
});

test('driver: errors stop the download with one line, the controller stays on ROM', () => {
  const errors: string[] = [];
  const buf = new Uint8Array(258);
  const rtk = chipset_realtek({ on_error: (m) => errors.push(m) });
  rtk.set_firmware({ chip: RTL8761BU, firmware: FILE, config: null });
  rtk.init!(undefined);
  rtk.next_command!(buf);
  rtk.command_complete!(0xfc6d, fromHex('00 05'));
  assert.is(rtk.next_command!(buf), 0);
  assert.is(errors[0], 'RTL8761BU: no patch for ROM version 5 (chip id 6; the file has 1, 2)');
  assert.is(rtk.restart_delay_ms!(), 0);

  rtk.init!(undefined);
  rtk.next_command!(buf);
  rtk.command_complete!(0xfc6d, fromHex('01'));
  assert.is(rtk.next_command!(buf), 0);
  assert.is(errors[1], 'RTL8761BU: Read ROM Version (0xfc6d) failed with status 0x01');

  const big: RealtekChip = { ...RTL8761BU };
  const file = FILE.slice();
  rtk.set_firmware({ chip: big, firmware: file, config: new Uint8Array(600) });
  rtk.init!(undefined);
  rtk.next_command!(buf);
  rtk.command_complete!(0xfc6d, fromHex('00 00'));
  assert.is(rtk.next_command!(buf), 256);
  rtk.command_complete!(0xfc20, fromHex('12 00'));
  assert.is(rtk.next_command!(buf), 0);
  assert.is(errors[2], 'RTL8761BU: the controller refused download fragment 1 of 3 with status 0x12');
  assert.is(rtk.restart_delay_ms!(), 0);
});

test('files refused: wrong chip family, v2 / v3 formats, no extension signature, missing needed config', () => {
  const rtk = chipset_realtek();
  const for8822 = FILE.slice();
  for8822[FILE.length - 7] = 13; // project id 13 = RTL8822C
  assert.is(
    realtek_download_image(RTL8761BU, for8822, null, 0).status === 'error' &&
      (realtek_download_image(RTL8761BU, for8822, null, 0) as { reason: string }).reason,
    'firmware for 0x8822 chips (project id 13), this is RTL8761BU (0x8761)',
  );
  const v2 = FILE.slice();
  v2.set([0x52, 0x54, 0x42, 0x54, 0x43, 0x6f, 0x72, 0x65]); // 'RTBTCore'
  assert.is(
    rtk.set_firmware({ chip: RTL8761BU, firmware: v2, config: null }),
    'v2 firmware format (RTBTCore) is not supported by bthost yet',
  );
  const noext = FILE.slice(0, FILE.length - 1);
  assert.is(
    rtk.set_firmware({ chip: RTL8761BU, firmware: noext, config: null }),
    'no extension signature 51 04 fd 77 at the end',
  );
  assert.is(
    rtk.set_firmware({ chip: RTL8723D, firmware: FILE, config: null }),
    'RTL8723D needs its config file rtl8723d_config.bin',
  );
  assert.is(rtk.has_firmware, false);
});

test('fuzz: damaged and random files never throw; images stay inside the file', () => {
  let seed = 0x2468ace;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const buf = new Uint8Array(258);
  for (let k = 0; k < 20000; k++) {
    let f: Uint8Array;
    if (k % 3 === 0) {
      f = new Uint8Array(rnd(80)).map(() => rnd(256));
      if (f.length >= 8 && rnd(2)) f.set(FILE.subarray(0, 8));
    } else {
      f = FILE.slice(0, rnd(4) === 0 ? rnd(FILE.length + 1) : FILE.length);
      for (let m = rnd(4) + 1; m > 0 && f.length; m--) f[rnd(f.length)] = rnd(256);
    }
    const chip = REALTEK_CHIPS[rnd(REALTEK_CHIPS.length)]!;
    const r = realtek_download_image(chip, f, rnd(2) ? CONFIG : null, rnd(4));
    if (r.status === 'ok') {
      assert.ok(r.image.length <= f.length + CONFIG.length);
      for (let i = 0; i < realtek_fragment_count(r.image.length); i++) assert.ok(realtek_download_command(r.image, i, buf) > 3);
    }
    const rtk = chipset_realtek();
    if (rtk.set_firmware({ chip, firmware: f, config: CONFIG }) === null) {
      rtk.init!(undefined);
      for (let i = 0; i < 50 && rtk.next_command!(buf) > 0; i++)
        rtk.command_complete!(buf[0]! | (buf[1]! << 8), Uint8Array.of(0, rnd(4)));
    }
  }
});

test.run();
