/**
 * Realtek USB controllers (RTL8723B/D, RTL8761B, RTL8821C, RTL8822C, ...): the firmware download
 * the ROM needs before it is a full controller, as Linux btrtl and BTstack's realtek driver do it.
 *
 * HCI asks next_command after Reset and Read Local Version (the port picked this driver from the
 * version and gave it the chip and the files: `set_firmware`). The driver then hands out:
 *   Read ROM Version (0xFC6D; chips without one: ROM version 0), whose answer (command_complete)
 *   selects the patch in the file (realtek-fw.ts), then the image in Download commands (0xFC20:
 *   index, up to 252 bytes; 0x80 on the index of the last).
 * After the last fragment restart_delay_ms() > 0 asks HCI for Reset and Read Local Version again
 * (which now reports the firmware's version). No real wait is needed (Linux reads the version right
 * after the last fragment; BTstack sends Reset): REALTEK_RESTART_MS is 1 ms.
 * A refused command or a file without a patch for this ROM stops the download: `error` says why
 * (also given to on_error), next_command returns 0 and the controller stays on its ROM firmware.
 * The driver does no I/O: finding and reading the files is the port's (ports/chipset-auto.ts).
 */
import type { BtstackChipset } from './chipset.js';
import {
  HCI_RTK_DOWNLOAD_FW,
  HCI_RTK_READ_ROM_VERSION,
  realtek_download_command,
  realtek_download_image,
  realtek_epatch_parse,
  realtek_fragment_count,
  REALTEK_FRAGMENT_SIZE,
  type RealtekChip,
} from './realtek-fw.js';

export const REALTEK_RESTART_MS = 1;

export interface RealtekProgress {
  chip: string;
  rom_version: number;
  /** Download commands handed out so far, of `fragments_total`. */
  fragments_sent: number;
  fragments_total: number;
  bytes_sent: number;
  bytes_total: number;
  /** The last fragment was handed out. */
  done: boolean;
}

export interface ChipsetRealtekOptions {
  on_progress?: (p: RealtekProgress) => void;
  /** The download stopped (one line). */
  on_error?: (message: string) => void;
}

export interface RealtekFirmware {
  chip: RealtekChip;
  /** The rtl_bt firmware file's bytes. */
  firmware: Uint8Array;
  /** The config file's bytes (null: none found). */
  config: Uint8Array | null;
}

export interface ChipsetRealtek extends BtstackChipset {
  /**
   * The files to download at the next power on (null: none). Returns null when accepted, else
   * why they cannot be downloaded to this chip (the driver keeps nothing then).
   */
  set_firmware(fw: RealtekFirmware | null): string | null;
  readonly has_firmware: boolean;
  /** The ROM version the controller reported this power on (null before). */
  readonly rom_version: number | null;
  /** Why this power on's download stopped (null: it did not). */
  readonly error: string | null;
}

type Phase = 'idle' | 'w4_rom_version' | 'download' | 'done' | 'failed';

const h2 = (v: number): string => `0x${v.toString(16).padStart(2, '0')}`;

/** A Realtek chipset driver; one instance per stack. */
export function chipset_realtek(options: ChipsetRealtekOptions = {}): ChipsetRealtek {
  let fw: RealtekFirmware | null = null;
  let phase: Phase = 'idle';
  let rom: number | null = null;
  let image: Uint8Array | null = null;
  let next = 0;
  let total = 0;
  let error: string | null = null;
  const fail = (why: string): void => {
    phase = 'failed';
    error = why;
    options.on_error?.(why);
  };
  const prepare = (rom_version: number): void => {
    rom = rom_version;
    const r = realtek_download_image(fw!.chip, fw!.firmware, fw!.config, rom_version);
    if (r.status !== 'ok') return fail(`${fw!.chip.name}: ${r.reason}`);
    image = r.image;
    next = 0;
    total = realtek_fragment_count(image.length);
    phase = 'download';
  };
  return {
    name: 'Realtek',
    get has_firmware() {
      return fw !== null;
    },
    get rom_version() {
      return rom;
    },
    get error() {
      return error;
    },
    set_firmware(f: RealtekFirmware | null): string | null {
      fw = null;
      phase = 'idle';
      if (f === null) return null;
      if (f.chip.lmp_subversion !== 0x1200) {
        const r = realtek_epatch_parse(f.firmware);
        if (r.status !== 'ok') return r.reason;
      }
      if (f.chip.config_needed && !f.config) return `${f.chip.name} needs its config file ${f.chip.config}`;
      fw = f;
      return null;
    },
    init() {
      phase = 'idle';
      rom = null;
      image = null;
      error = null;
    },
    next_command(buf: Uint8Array): number {
      if (!fw) return 0;
      if (phase === 'idle') {
        if (fw.chip.has_rom_version) {
          buf[0] = HCI_RTK_READ_ROM_VERSION & 0xff;
          buf[1] = HCI_RTK_READ_ROM_VERSION >> 8;
          buf[2] = 0;
          phase = 'w4_rom_version';
          return 3;
        }
        prepare(0);
      }
      if (phase === 'w4_rom_version') {
        fail(`${fw.chip.name}: Read ROM Version (0xfc6d) not answered`);
        return 0;
      }
      if (phase !== 'download' || !image) return 0;
      const n = realtek_download_command(image, next, buf);
      if (n <= 0) return 0;
      next++;
      if (next === total) phase = 'done';
      options.on_progress?.({
        chip: fw.chip.name,
        rom_version: rom ?? 0,
        fragments_sent: next,
        fragments_total: total,
        bytes_sent: Math.min(image.length, next * REALTEK_FRAGMENT_SIZE),
        bytes_total: image.length,
        done: phase === 'done',
      });
      return n;
    },
    command_complete(opcode: number, ret: Uint8Array): void {
      if (!fw) return;
      const status = ret.length > 0 ? ret[0]! : 0xff;
      if (opcode === HCI_RTK_READ_ROM_VERSION && phase === 'w4_rom_version') {
        if (status !== 0 || ret.length < 2)
          return fail(`${fw.chip.name}: Read ROM Version (0xfc6d) failed with status ${h2(status)}`);
        prepare(ret[1]!);
      } else if (opcode === HCI_RTK_DOWNLOAD_FW && (phase === 'download' || phase === 'done') && status !== 0) {
        fail(`${fw.chip.name}: the controller refused download fragment ${next} of ${total} with status ${h2(status)}`);
      }
    },
    restart_delay_ms(): number {
      return phase === 'done' ? REALTEK_RESTART_MS : 0;
    },
  };
}

/** BTstack's name for the driver instance. */
export const btstack_chipset_realtek_instance = chipset_realtek;
