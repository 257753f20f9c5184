/**
 * The CLI's chipset handling: detection (ports/chipset-auto.ts) on every command's stack, the
 * Broadcom patch download's progress on stderr, its problems as one line and exit 1, and the
 * lines `bthost info` prints about the driver.
 */
import { ChipsetAuto, describe_choice, type ChipsetBus, type ChipsetChoice } from '../chipset-auto.js';
import type { BtstackChipset, BcmPatchProgress, RealtekProgress } from '../../src/chipset/index.js';
import type { Hci } from '../../src/hci/hci.js';

export interface CliChipsetHooks {
  /** A status line on stderr. */
  say(line: string): void;
  /** A problem: one line, exit 1. */
  fail(message: string): void;
}

/** Install detection; `forced` is --chipset's driver (given to the Stack with --port). */
export function cli_chipset(
  hci: Hci,
  forced: { name: string; driver: BtstackChipset } | undefined,
  firmware: string | undefined,
  hooks: CliChipsetHooks,
  bus: ChipsetBus = 'uart',
  baudrate_main?: number,
): ChipsetAuto {
  let quarter = -1;
  const progress = (p: BcmPatchProgress): void => {
    const q = p.bytes_total > 0 ? Math.floor((p.bytes_sent * 4) / p.bytes_total) : 4;
    if (p.done) {
      hooks.say(
        `bthost: patch: ${p.records_total} records, ${p.bytes_total} bytes written; Launch RAM, waiting for the controller to restart`,
      );
      quarter = -1;
    } else if (q !== quarter) {
      quarter = q;
      hooks.say(`bthost: patch: ${q * 25} % (${p.bytes_sent} of ${p.bytes_total} bytes)`);
    }
  };
  let rtkQuarter = -1;
  const rtkProgress = (p: RealtekProgress): void => {
    const q = Math.floor((p.bytes_sent * 4) / Math.max(1, p.bytes_total));
    if (p.done) {
      hooks.say(
        `bthost: firmware: ${p.chip} ROM version ${p.rom_version}, ${p.bytes_total} bytes in ${p.fragments_total} commands; resetting`,
      );
      rtkQuarter = -1;
    } else if (q !== rtkQuarter) {
      rtkQuarter = q;
      hooks.say(`bthost: firmware: ${q * 25} % (${p.bytes_sent} of ${p.bytes_total} bytes)`);
    }
  };
  return new ChipsetAuto(hci, {
    ...(forced ? { forced } : {}),
    ...(firmware !== undefined ? { firmware } : {}),
    bus,
    ...(baudrate_main !== undefined ? { baudrate_main } : {}),
    on_progress: progress,
    on_realtek_progress: rtkProgress,
    on_warning: (m) => hooks.say(`bthost: ${m}`),
    on_error: (m) => hooks.fail(m),
    on_choice: (c) => {
      if (c.firmware && c.firmware !== 'none')
        hooks.say(`bthost: chipset ${c.name}: downloading the ${c.name === 'realtek' ? 'firmware' : 'patch'} ${c.firmware}`);
    },
  });
}

/** `bthost info` lines about the driver (and the patch, when one was downloaded). */
export function chipset_info_lines(choice: ChipsetChoice | null): string[] {
  const out = [`  Chipset:       ${describe_choice(choice)}`];
  if (choice?.firmware === 'none') out.push('  Firmware:      ROM (--firmware none)');
  else if (choice?.firmware) {
    const before = choice.info?.lmp_subversion ?? 0;
    const after = choice.info_after_patch?.lmp_subversion;
    const h = (v: number) => `0x${v.toString(16).padStart(4, '0')}`;
    out.push(
      `  Firmware:      ${choice.firmware}` +
        (after !== undefined ? `, LMP subversion ${h(before)} -> ${h(after)}` : ', no version after the restart'),
    );
  }
  return out;
}
