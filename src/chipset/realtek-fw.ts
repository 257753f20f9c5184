/**
 * Realtek Bluetooth firmware (the rtl_bt files of linux-firmware): which chip a controller is, the
 * file names for it, and the bytes to download. Pure: bytes in, a value or a reason out; never throws.
 *
 * Chips are told apart by Read Local Version Information (LMP subversion = the ROM's chip number,
 * HCI revision, HCI version) and the bus, as Linux btrtl does. The table lists the USB parts.
 *
 * The "epatch" v1 file (signature `Realtech`), all numbers little endian:
 *
 *   0   8  signature 'Realtech'
 *   8   4  firmware version
 *   12  2  N = number of patches
 *   14  2N chip ids (ROM version + 1 each patch is for)
 *   ..  2N patch lengths
 *   ..  4N patch offsets (from the start of the file)
 *   ... the patches ...
 *   instructions, read backwards from the end: opcode, length, then `length` data bytes before
 *   them; opcode 0 with length 1 is the project id (which chip family the file is for), 0xFF ends
 *   end-4  4  extension signature 51 04 FD 77
 *
 * The download for ROM version R is the patch whose chip id is R + 1, with its last 4 bytes
 * replaced by the firmware version, then the config file (`_config.bin`, may be absent when the
 * chip does not need it). RTL8723A files have no header: the file is downloaded as it is.
 * The v2 format (`RTBTCore`: sections, subsections chosen by ROM version and a security key id
 * read from a chip register) and v3 (`BTNIC003`) are not supported: said so as the reason.
 */

export const REALTEK_FIRMWARE_DIR = '/lib/firmware/rtl_bt';
/** Vendor command Read ROM Version: no parameters; returns status, version. */
export const HCI_RTK_READ_ROM_VERSION = 0xfc6d;
/** Vendor command Download: index (0x80 set on the last fragment), up to 252 data bytes; returns status, index. */
export const HCI_RTK_DOWNLOAD_FW = 0xfc20;
export const REALTEK_FRAGMENT_SIZE = 252;
export const REALTEK_EPATCH_SIGNATURE = 'Realtech';
export const REALTEK_EPATCH_SIGNATURE_V2 = 'RTBTCore';
export const REALTEK_EPATCH_SIGNATURE_V3 = 'BTNIC003';
export const REALTEK_EXTENSION_SIGNATURE: readonly number[] = [0x51, 0x04, 0xfd, 0x77];

export interface RealtekChip {
  /** Chip name as printed ('RTL8761BU'). */
  name: string;
  /** LMP subversion the ROM reports. */
  lmp_subversion: number;
  hci_revision: number;
  /** HCI version; 0 matches any. */
  hci_version: number;
  bus: 'usb';
  /** Firmware file name in rtl_bt/. */
  firmware: string;
  /** Config file name in rtl_bt/ (null: none). */
  config: string | null;
  /** The download is refused without the config file. */
  config_needed: boolean;
  /** Read ROM Version selects the patch (else ROM version 0). */
  has_rom_version: boolean;
}

const chip = (
  name: string,
  lmp_subversion: number,
  hci_revision: number,
  hci_version: number,
  file: string,
  config_needed = false,
  config = true,
  has_rom_version = true,
): RealtekChip => ({
  name,
  lmp_subversion,
  hci_revision,
  hci_version,
  bus: 'usb',
  firmware: `${file}_fw.bin`,
  config: config ? `${file}_config.bin` : null,
  config_needed,
  has_rom_version,
});

/** USB Realtek controllers by Read Local Version (values as Linux btrtl's table lists them). */
export const REALTEK_CHIPS: readonly RealtekChip[] = [
  chip('RTL8723A', 0x1200, 0xb, 0x6, 'rtl8723a', false, false, false),
  chip('RTL8723B', 0x8723, 0xb, 0x6, 'rtl8723b'),
  chip('RTL8723D', 0x8723, 0xd, 0x8, 'rtl8723d', true),
  chip('RTL8821A', 0x8821, 0xa, 0x6, 'rtl8821a'),
  chip('RTL8821C', 0x8821, 0xc, 0x8, 'rtl8821c'),
  chip('RTL8761A', 0x8761, 0xa, 0x6, 'rtl8761a'),
  chip('RTL8761BU', 0x8761, 0xb, 0xa, 'rtl8761bu'),
  chip('RTL8761CU', 0x8761, 0xe, 0, 'rtl8761cu'),
  chip('RTL8822CU', 0x8822, 0xc, 0xa, 'rtl8822cu'),
  chip('RTL8822B', 0x8822, 0xb, 0x7, 'rtl8822b', true),
  chip('RTL8852AU', 0x8852, 0xa, 0xb, 'rtl8852au'),
  chip('RTL8852BU', 0x8852, 0xb, 0xb, 'rtl8852bu'),
  chip('RTL8852CU', 0x8852, 0xc, 0xc, 'rtl8852cu'),
  chip('RTL8851BU', 0x8851, 0xb, 0xc, 'rtl8851bu'),
  chip('RTL8922AU', 0x8922, 0xa, 0xc, 'rtl8922au'),
  chip('RTL8852BTU', 0x8852, 0x87, 0xc, 'rtl8852btu'),
];

/** Project id in a firmware file -> the ROM LMP subversion of the chips it is for. */
export const REALTEK_PROJECT_IDS: ReadonlyMap<number, number> = new Map([
  [0, 0x1200],
  [1, 0x8723],
  [2, 0x8821],
  [3, 0x8761],
  [7, 0x8703],
  [8, 0x8822],
  [9, 0x8723],
  [10, 0x8821],
  [13, 0x8822],
  [14, 0x8761],
  [18, 0x8852],
  [20, 0x8852],
  [25, 0x8852],
  [36, 0x8851],
  [44, 0x8922],
  [47, 0x8852],
  [51, 0x8761],
]);

/** The chip for a Read Local Version answer, or null (unknown, or its firmware already runs). */
export function realtek_find_chip(info: {
  lmp_subversion: number;
  hci_revision: number;
  hci_version: number;
}): RealtekChip | null {
  return (
    REALTEK_CHIPS.find(
      (c) =>
        c.lmp_subversion === info.lmp_subversion &&
        c.hci_revision === info.hci_revision &&
        (c.hci_version === 0 || c.hci_version === info.hci_version),
    ) ?? null
  );
}

export interface RealtekEpatch {
  fw_version: number;
  project_id: number;
  patches: { chip_id: number; length: number; offset: number }[];
}

export type RealtekParse = { status: 'ok'; epatch: RealtekEpatch } | { status: 'error'; reason: string };

const HEADER = 14;
const le16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const le32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const ascii = (b: Uint8Array, n: number): string => String.fromCharCode(...b.subarray(0, n));
const h4 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;

function signature(file: Uint8Array): string {
  return file.length >= 8 ? ascii(file, 8) : '';
}

/** Read a v1 epatch file's header, patch table and project id. */
export function realtek_epatch_parse(file: Uint8Array): RealtekParse {
  const sig = signature(file);
  if (sig === REALTEK_EPATCH_SIGNATURE_V2)
    return { status: 'error', reason: 'v2 firmware format (RTBTCore) is not supported by bthost yet' };
  if (sig === REALTEK_EPATCH_SIGNATURE_V3)
    return { status: 'error', reason: 'v3 firmware format (BTNIC003) is not supported by bthost yet' };
  if (sig !== REALTEK_EPATCH_SIGNATURE) return { status: 'error', reason: 'no Realtech epatch signature' };
  const n = file.length;
  if (n < HEADER + 3 + 4) return { status: 'error', reason: `file too short (${n} bytes)` };
  const ext = n - 4;
  for (let i = 0; i < 4; i++)
    if (file[ext + i] !== REALTEK_EXTENSION_SIGNATURE[i])
      return { status: 'error', reason: 'no extension signature 51 04 fd 77 at the end' };
  let project_id = -1;
  let p = ext;
  while (p >= HEADER + 3) {
    const opcode = file[--p]!;
    const length = file[--p]!;
    if (opcode === 0xff) break;
    if (length === 0) return { status: 'error', reason: `instruction 0x${opcode.toString(16)} with length 0 at offset ${p}` };
    if (p - length < HEADER) break;
    if (opcode === 0 && length === 1) {
      project_id = file[p - 1]!;
      break;
    }
    p -= length;
  }
  if (project_id < 0) return { status: 'error', reason: 'no project id instruction' };
  if (!REALTEK_PROJECT_IDS.has(project_id)) return { status: 'error', reason: `unknown project id ${project_id}` };
  const count = le16(file, 12);
  const table = HEADER + 8 * count;
  if (table > ext) return { status: 'error', reason: `${count} patches do not fit in ${n} bytes` };
  const patches: RealtekEpatch['patches'] = [];
  for (let i = 0; i < count; i++) {
    patches.push({
      chip_id: le16(file, HEADER + 2 * i),
      length: le16(file, HEADER + 2 * count + 2 * i),
      offset: le32(file, HEADER + 4 * count + 4 * i),
    });
  }
  return { status: 'ok', epatch: { fw_version: le32(file, 8), project_id, patches } };
}

/**
 * The bytes to download to `chip` with ROM version `rom_version`: the patch (firmware version in
 * its last 4 bytes) then `config`; RTL8723A: the file as it is. Checks the file is for this chip.
 */
export function realtek_download_image(
  chip: RealtekChip,
  file: Uint8Array,
  config: Uint8Array | null,
  rom_version: number,
): { status: 'ok'; image: Uint8Array; fw_version: number | null } | { status: 'error'; reason: string } {
  if (chip.config_needed && !config) return { status: 'error', reason: `${chip.name} needs its config file ${chip.config}` };
  if (chip.lmp_subversion === 0x1200) {
    if (file.length < 8) return { status: 'error', reason: `file too short (${file.length} bytes)` };
    if (signature(file) === REALTEK_EPATCH_SIGNATURE)
      return { status: 'error', reason: 'an epatch file, but RTL8723A takes a plain image' };
    return { status: 'ok', image: Uint8Array.from(file), fw_version: null };
  }
  const r = realtek_epatch_parse(file);
  if (r.status !== 'ok') return r;
  const e = r.epatch;
  const family = REALTEK_PROJECT_IDS.get(e.project_id)!;
  if (family !== chip.lmp_subversion)
    return {
      status: 'error',
      reason: `firmware for ${h4(family)} chips (project id ${e.project_id}), this is ${chip.name} (${h4(chip.lmp_subversion)})`,
    };
  const patch = e.patches.find((x) => x.chip_id === ((rom_version + 1) & 0xffff));
  if (!patch || patch.offset === 0)
    return {
      status: 'error',
      reason: `no patch for ROM version ${rom_version} (chip id ${rom_version + 1}; the file has ${e.patches.map((x) => x.chip_id).join(', ') || 'none'})`,
    };
  if (patch.length < 4 || patch.offset + patch.length > file.length)
    return {
      status: 'error',
      reason: `patch of ${patch.length} bytes at offset ${patch.offset} is outside the ${file.length}-byte file`,
    };
  const cfg = config ?? new Uint8Array(0);
  const image = new Uint8Array(patch.length + cfg.length);
  image.set(file.subarray(patch.offset, patch.offset + patch.length - 4), 0);
  const v = e.fw_version;
  image.set([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24], patch.length - 4);
  image.set(cfg, patch.length);
  return { status: 'ok', image, fw_version: v };
}

/** Number of Download commands for an image: fragments of up to 252 bytes (at least one). */
export function realtek_fragment_count(image_length: number): number {
  return Math.max(1, Math.ceil(image_length / REALTEK_FRAGMENT_SIZE));
}

/**
 * Download command `i` (0-based) of `image` into `buf` (opcode, length, index, data); returns its
 * size. Index: i counted 0..0x7F, then 1..0x7F again; 0x80 added on the last fragment.
 */
export function realtek_download_command(image: Uint8Array, i: number, buf: Uint8Array): number {
  const total = realtek_fragment_count(image.length);
  if (i < 0 || i >= total) return 0;
  const off = i * REALTEK_FRAGMENT_SIZE;
  const len = Math.min(REALTEK_FRAGMENT_SIZE, image.length - off);
  if (buf.length < 4 + len) return 0;
  const index = (i <= 0x7f ? i : ((i - 0x80) % 0x7f) + 1) | (i === total - 1 ? 0x80 : 0);
  buf[0] = HCI_RTK_DOWNLOAD_FW & 0xff;
  buf[1] = HCI_RTK_DOWNLOAD_FW >> 8;
  buf[2] = 1 + len;
  buf[3] = index;
  buf.set(image.subarray(off, off + len), 4);
  return 4 + len;
}
