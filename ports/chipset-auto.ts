/**
 * Chipset detection as BTstack's posix-h4 main does it: an HCI event handler sees the Command
 * Complete of Read Local Version Information (HCI sends it right after Reset) and, unless a driver
 * was forced (`--chipset`), picks the driver by manufacturer (src/chipset/detect.ts) and hands it
 * to hci_set_chipset before HCI's next init step, which is the chipset's baud-rate command.
 *
 * For Broadcom/Cypress on a UART (`bus` 'uart', the default) the port also finds the patch file
 * the way Linux btbcm names it (bcm_firmware_names: chip name from the LMP subversion; searched in
 * `firmware_dirs`, default /lib/firmware/brcm) or takes `firmware` (a file path, or 'none' for the
 * ROM firmware), reads and validates it, and gives it to the driver. No .hcd found is a warning
 * (`on_warning`; the ROM firmware runs, as with Linux btbcm and BTstack); a named file that cannot be
 * read or a bad .hcd goes to `on_error` as one line; the caller decides (the CLI exits 1). Through the HCI user
 * channel (`bus` 'hci') the kernel has loaded the firmware already, and USB and the virtual
 * controller have no UART config: no .hcd there (the BCM driver still takes BD_ADDR).
 *
 * Realtek on USB: the chip by its version (realtek-fw.ts), its rtl_bt firmware and config files
 * searched in `firmware_dirs` (default /lib/firmware/rtl_bt) or `firmware` (a file or a directory;
 * the config next to the file), given to the Realtek driver; a missing firmware file is one line
 * naming it and where it was looked for. A Realtek controller whose version is not in the table
 * runs its firmware already (a download earlier since the dongle was plugged in) or is unknown: no
 * download. Realtek elsewhere (the kernel's, or a UART part): no download. Intel on USB: one line
 * (`on_warning`) that its firmware download is not supported.
 *
 * File I/O lives here, in ports/; the driver and the detection table stay pure.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BCM_FIRMWARE_DIR,
  chipset_realtek,
  REALTEK_FIRMWARE_DIR,
  realtek_find_chip,
  type ChipsetRealtek,
  type RealtekChip,
  type RealtekProgress,
  bcm_chip_name,
  bcm_firmware_names,
  chipset_bcm,
  chipset_zephyr,
  detect_chipset_from_event,
  HCI_BCM_DOWNLOAD_MINIDRIVER,
  HCI_BCM_LAUNCH_RAM,
  HCI_BCM_WRITE_RAM,
  HCI_OPCODE_READ_LOCAL_VERSION_INFORMATION,
  type BcmPatchProgress,
  type BtstackChipset,
  type ChipsetBcm,
  type ChipsetDetection,
  type LocalVersionInformation,
} from '../src/chipset/index.js';

const HCI_EVENT_PACKET = 0x04;
const PATCH_COMMANDS: ReadonlyMap<number, string> = new Map([
  [HCI_BCM_DOWNLOAD_MINIDRIVER, 'Download Minidriver'],
  [HCI_BCM_WRITE_RAM, 'Write RAM'],
  [HCI_BCM_LAUNCH_RAM, 'Launch RAM'],
]);
const HCI_EVENT_COMMAND_COMPLETE = 0x0e;

/** The part of Hci this needs (structural: a Stack's `hci`). */
export interface ChipsetAutoHci {
  hci_add_event_handler(reg: { callback: (type: number, channel: number, packet: Uint8Array, size: number) => void }): void;
  hci_set_chipset(chipset: BtstackChipset | null): void;
}

export interface ChipsetChoice {
  /** Driver name ('bcm', 'zephyr'), or null: generic controller. */
  name: string | null;
  how: 'forced' | 'detected';
  /** The driver in use (null: none). */
  driver: BtstackChipset | null;
  /** First Read Local Version answer of this power on (null when it never came or failed). */
  info: LocalVersionInformation | null;
  detection: ChipsetDetection | null;
  /** Read Local Version after the chipset restarted the controller (patch launched), else null. */
  info_after_patch: LocalVersionInformation | null;
  /** The .hcd / rtl_bt file downloaded (path), 'none' (ROM firmware asked for), or null (no download). */
  firmware: string | null;
  /** Why there is no download although the driver may have one (kernel path, no UART, firmware running), or null. */
  note: string | null;
}

/** Where the controller is: a UART (serial port), USB (libusb), the Linux HCI user channel, or in-process. */
export type ChipsetBus = 'uart' | 'usb' | 'hci' | 'virtual';

export interface ChipsetAutoOptions {
  /** `--chipset`: this driver, no detection (already given to the Stack). */
  forced?: { name: string; driver: BtstackChipset };
  /** `--firmware`: a .hcd / rtl_bt file or a directory, or 'none' (no download). Default: search firmware_dirs. */
  firmware?: string;
  /** Directories searched for the firmware names (default [BCM_FIRMWARE_DIR] / [REALTEK_FIRMWARE_DIR]). */
  firmware_dirs?: string[];
  /** Where the controller is (default 'uart'): which downloads apply. */
  bus?: ChipsetBus;
  /** Realtek download progress. */
  on_realtek_progress?: (p: RealtekProgress) => void;
  /** Something the user should know that does not stop the stack (one line). */
  on_warning?: (message: string) => void;
  /** Device-tree board name for btbcm's board-specific names (default: none). */
  board?: string;
  on_progress?: (p: BcmPatchProgress) => void;
  /** A problem the user must fix, as one line (the stack goes on without a patch). */
  on_error?: (message: string) => void;
  /** The driver was chosen (each power on). */
  on_choice?: (choice: ChipsetChoice) => void;
  /**
   * `--main-baud` given without `--chipset`: a detected driver without a baud-rate command (or no
   * driver) is an error (on_error, one line) instead of staying at the initial speed unnoticed.
   */
  baudrate_main?: number;
}

/** One line for `bthost info`: which driver and why. */
export function describe_choice(c: ChipsetChoice | null): string {
  if (!c) return 'none (the controller did not answer Read Local Version Information)';
  const why = c.how === 'forced' ? 'forced by --chipset' : `detected: ${c.detection?.description ?? 'no version answer'}`;
  return `${c.name ?? 'generic (no vendor driver)'} (${why})${c.note ? `; ${c.note}` : ''}`;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Find the .hcd for a BCM chip: the first btbcm candidate name that exists in one of `dirs`. */
export function find_bcm_firmware(info: LocalVersionInformation, dirs: readonly string[], board?: string): string | null {
  const names = bcm_firmware_names({ lmp_subversion: info.lmp_subversion, bus: 'uart', ...(board ? { board } : {}) });
  for (const name of names) {
    for (const dir of dirs) {
      const p = path.join(dir, name);
      if (fs.existsSync(p)) return p;
    }
  }
  return null;
}

function find_in(dirs: readonly string[], name: string): string | null {
  for (const dir of dirs) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** Install detection on `hci`; `choice` is the current power on's decision. */
export class ChipsetAuto {
  choice: ChipsetChoice | null = null;
  private readonly drivers = new Map<string, BtstackChipset>();

  constructor(
    private readonly hci: ChipsetAutoHci,
    private readonly o: ChipsetAutoOptions = {},
  ) {
    hci.hci_add_event_handler({
      callback: (type, _channel, packet, size) => {
        if (type !== HCI_EVENT_PACKET || size < 6 || packet[0] !== HCI_EVENT_COMMAND_COMPLETE) return;
        const opcode = packet[3]! | (packet[4]! << 8);
        if (opcode === HCI_OPCODE_READ_LOCAL_VERSION_INFORMATION) this.onVersion(packet, size);
        else if (PATCH_COMMANDS.has(opcode) && packet[5] !== 0) {
          this.o.on_error?.(
            `patch download failed: the controller refused ${PATCH_COMMANDS.get(opcode)} with status 0x${packet[5]!.toString(16).padStart(2, '0')}` +
              (this.choice?.firmware ? ` (${this.choice.firmware})` : ''),
          );
        }
      },
    });
  }

  /** The driver for a detected name, one instance per name (BCM keeps its patch between power ons). */
  private driver(name: 'bcm' | 'zephyr' | 'realtek'): BtstackChipset {
    let d = this.drivers.get(name);
    if (!d) {
      const o = this.o;
      d =
        name === 'bcm'
          ? chipset_bcm({ ...(o.on_progress ? { on_progress: o.on_progress } : {}) })
          : name === 'realtek'
            ? chipset_realtek({
                ...(o.on_realtek_progress ? { on_progress: o.on_realtek_progress } : {}),
                on_error: (m) => o.on_error?.(m),
              })
            : chipset_zephyr();
      this.drivers.set(name, d);
    }
    return d;
  }

  private get bus(): ChipsetBus {
    return this.o.bus ?? 'uart';
  }

  private onVersion(packet: Uint8Array, size: number): void {
    const r = detect_chipset_from_event(packet, size);
    const info = r.status === 'ok' ? r.info : null;
    const c = this.choice;
    // the second answer of a power on: after the patch restart (HCI re-reads the version)
    if (c && c.info && !c.info_after_patch && c.firmware && c.firmware !== 'none') {
      c.info_after_patch = info;
      return;
    }
    const forced = this.o.forced;
    const bus = this.bus;
    let name: string | null;
    let driver: BtstackChipset | null;
    let note: string | null = null;
    const detected = r.status === 'ok' ? r.detection.chipset : null;
    if (forced) {
      name = forced.name;
      driver = forced.driver;
    } else if (detected === 'bcm' || detected === 'zephyr' || (detected === 'realtek' && bus === 'usb')) {
      name = detected;
      driver = this.driver(detected);
      this.hci.hci_set_chipset(driver);
    } else {
      if (detected === 'realtek')
        note = bus === 'hci' ? 'firmware loaded by the kernel' : 'firmware download only on the USB path';
      if (detected === 'intel' && bus === 'usb')
        this.o.on_warning?.(
          'Intel USB controllers need their firmware download (ibt files), which bthost does not support yet: the controller may not work',
        );
      name = null;
      driver = null;
      this.hci.hci_set_chipset(null);
    }
    this.choice = {
      name,
      how: forced ? 'forced' : 'detected',
      driver,
      info,
      detection: r.status === 'ok' ? r.detection : null,
      info_after_patch: null,
      firmware: null,
      note,
    };
    if (name === 'bcm' && driver && info) {
      if (bus === 'uart') this.choice.firmware = this.loadFirmware(driver as ChipsetBcm, info);
      else {
        (driver as ChipsetBcm).set_hcd?.(null);
        this.choice.note = bus === 'hci' ? 'firmware loaded by the kernel, no .hcd download' : 'no UART here, no .hcd download';
      }
    }
    if (name === 'realtek' && driver && info) this.choice.firmware = this.loadRealtek(driver as ChipsetRealtek, info);
    this.o.on_choice?.(this.choice);
    const main = this.o.baudrate_main;
    if (main !== undefined && !forced && !driver?.set_baudrate_command) {
      this.o.on_error?.(
        `--main-baud ${main}: the speed is changed through the chipset's baud-rate command, and the driver chosen, ` +
          `${describe_choice(this.choice)}, has none (leave out --main-baud, or name the chipset with --chipset bcm)`,
      );
    }
  }

  /** Find, read and check the rtl_bt files for a Realtek chip; returns the firmware path, 'none', or null. */
  private loadRealtek(rtk: ChipsetRealtek, info: LocalVersionInformation): string | null {
    rtk.set_firmware(null);
    const chip = realtek_find_chip(info);
    if (!chip) {
      this.choice!.note = `LMP subversion 0x${info.lmp_subversion.toString(16).padStart(4, '0')} / HCI revision 0x${info.hci_revision.toString(16).padStart(4, '0')} not in the table: firmware running already (or an unknown chip), no download`;
      return null;
    }
    const given = this.o.firmware;
    if (given === 'none') return 'none';
    let dirs = this.o.firmware_dirs ?? [REALTEK_FIRMWARE_DIR];
    let file: string | null = null;
    if (given !== undefined) {
      if (isDirectory(given)) dirs = [given];
      else {
        file = given;
        dirs = [path.dirname(given)];
      }
    }
    file ??= find_in(dirs, chip.firmware);
    if (file === null) {
      this.o.on_error?.(
        `no firmware for ${chip.name}: ${chip.firmware} not found in ${dirs.join(', ')} ` +
          `(install linux-firmware's rtl_bt files, give one with --firmware PATH, or --firmware none to run the ROM firmware)`,
      );
      return null;
    }
    const cfgPath = chip.config ? find_in(dirs, chip.config) : null;
    const firmware = this.read(file, chip);
    if (!firmware) return null;
    const config = cfgPath ? this.read(cfgPath, chip) : null;
    if (cfgPath && !config) return null;
    if (!config && chip.config_needed) {
      this.o.on_error?.(`no config for ${chip.name}: ${chip.config} not found in ${dirs.join(', ')}`);
      return null;
    }
    const bad = rtk.set_firmware({ chip, firmware, config });
    if (bad) {
      this.o.on_error?.(`bad firmware file ${file} for ${chip.name}: ${bad}`);
      return null;
    }
    return file;
  }

  private read(file: string, chip: RealtekChip): Uint8Array | null {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      this.o.on_error?.(`cannot read ${file} for ${chip.name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return null;
    }
  }

  /** Find, read and validate the .hcd; returns its path, 'none', or null after an error. */
  private loadFirmware(bcm: ChipsetBcm, info: LocalVersionInformation): string | null {
    if (typeof bcm.set_hcd !== 'function') return null;
    const given = this.o.firmware;
    if (given === 'none') {
      bcm.set_hcd(null);
      return 'none';
    }
    let file = given ?? null;
    let dirs = this.o.firmware_dirs ?? [BCM_FIRMWARE_DIR];
    if (file !== null && isDirectory(file)) {
      dirs = [file];
      file = null;
    }
    if (file === null) {
      file = find_bcm_firmware(info, dirs, this.o.board);
      if (file === null) {
        bcm.set_hcd(null);
        const chip =
          bcm_chip_name(info.lmp_subversion) ??
          `unknown chip (LMP subversion 0x${info.lmp_subversion.toString(16).padStart(4, '0')})`;
        const names = bcm_firmware_names({
          lmp_subversion: info.lmp_subversion,
          ...(this.o.board ? { board: this.o.board } : {}),
        });
        // as Linux btbcm ("firmware Patch file not found") and BTstack's bcm chipset (could not open the
        // .hcd: init goes on): the controller runs its ROM firmware; a warning, not a failure
        this.o.on_warning?.(
          `no .hcd patch file for ${chip}: looked for ${names.join(', ')} in ${dirs.join(', ')}; ` +
            `running the ROM firmware (give one with --firmware PATH, or --firmware none to silence this)`,
        );
        return 'none';
      }
    }
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      bcm.set_hcd(null);
      this.o.on_error?.(
        `cannot read the .hcd patch file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
      return null;
    }
    const bad = bcm.set_hcd(bytes);
    if (bad) {
      this.o.on_error?.(`bad .hcd patch file ${file}: ${bad}`);
      return null;
    }
    return file;
  }
}
