/**
 * Chipset detection as BTstack's posix-h4 main does it: an HCI event handler sees the Command
 * Complete of Read Local Version Information (HCI sends it right after Reset) and, unless a driver
 * was forced (`--chipset`), picks the driver by manufacturer (src/chipset/detect.ts) and hands it
 * to hci_set_chipset before HCI's next init step, which is the chipset's baud-rate command.
 *
 * For Broadcom/Cypress the port also finds the patch file the way Linux btbcm names it
 * (bcm_firmware_names: chip name from the LMP subversion; searched in `firmware_dirs`, default
 * /lib/firmware/brcm) or takes `firmware` (a file path, or 'none' for the ROM firmware), reads and
 * validates it, and gives it to the driver. Problems (no .hcd found, a bad .hcd) go to `on_error`
 * as one line; the caller decides (the CLI exits 1).
 *
 * File I/O lives here, in ports/; the driver and the detection table stay pure.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BCM_FIRMWARE_DIR,
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
  /** The .hcd downloaded (path), 'none' (ROM firmware asked for), or null (no patch: not BCM). */
  firmware: string | null;
}

export interface ChipsetAutoOptions {
  /** `--chipset`: this driver, no detection (already given to the Stack). */
  forced?: { name: string; driver: BtstackChipset };
  /** `--firmware`: a .hcd path, or 'none' (no download). Default: search firmware_dirs. */
  firmware?: string;
  /** Directories searched for the btbcm names (default [BCM_FIRMWARE_DIR]). */
  firmware_dirs?: string[];
  /** Device-tree board name for btbcm's board-specific names (default: none). */
  board?: string;
  on_progress?: (p: BcmPatchProgress) => void;
  /** A problem the user must fix, as one line (the stack goes on without a patch). */
  on_error?: (message: string) => void;
  /** The driver was chosen (each power on). */
  on_choice?: (choice: ChipsetChoice) => void;
}

/** One line for `bthost info`: which driver and why. */
export function describe_choice(c: ChipsetChoice | null): string {
  if (!c) return 'none (the controller did not answer Read Local Version Information)';
  const why = c.how === 'forced' ? 'forced by --chipset' : `detected: ${c.detection?.description ?? 'no version answer'}`;
  return `${c.name ?? 'generic (no vendor driver)'} (${why})`;
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
  private driver(name: 'bcm' | 'zephyr'): BtstackChipset {
    let d = this.drivers.get(name);
    if (!d) {
      d = name === 'bcm' ? chipset_bcm({ ...(this.o.on_progress ? { on_progress: this.o.on_progress } : {}) }) : chipset_zephyr();
      this.drivers.set(name, d);
    }
    return d;
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
    let name: string | null;
    let driver: BtstackChipset | null;
    if (forced) {
      name = forced.name;
      driver = forced.driver;
    } else if (
      r.status === 'ok' &&
      r.detection.supported &&
      (r.detection.chipset === 'bcm' || r.detection.chipset === 'zephyr')
    ) {
      name = r.detection.chipset;
      driver = this.driver(r.detection.chipset);
      this.hci.hci_set_chipset(driver);
    } else {
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
    };
    if (name === 'bcm' && driver && info) this.choice.firmware = this.loadFirmware(driver as ChipsetBcm, info);
    this.o.on_choice?.(this.choice);
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
        this.o.on_error?.(
          `no .hcd patch file for ${chip}: looked for ${names.join(', ')} in ${dirs.join(', ')} ` +
            `(give one with --firmware PATH, or --firmware none to run the ROM firmware)`,
        );
        return null;
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
