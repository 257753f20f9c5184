/**
 * A Broadcom/Cypress UART chip's patch download (the `bcm` controller option), as Linux btbcm and
 * BTstack's bcm driver drive it:
 *
 * - Download Minidriver (0xFC2E): the chip waits for patch records (phase 'minidriver').
 * - Write RAM (0xFC4C, 32-bit address + data): only after Download Minidriver (else Command
 *   Disallowed 0x0C); at least one data byte, the range within 32 bits and at or above the end of
 *   the previous record: records come in file order and never overlap (else Invalid HCI Command
 *   Parameters 0x12).
 * - Launch RAM (0xFC4E, 32-bit address): only after Download Minidriver with at least one record
 *   (else 0x0C); the address 0xFFFFFFFF (the chip's own entry) or one written (else 0x12). After its
 *   Command Complete the chip restarts from RAM: for BCM_BOOT_MS it answers no command, then
 *   Read Local Version Information reports the patched LMP subversion. The UART is back at its
 *   initial speed (ports/virtual/server.ts paces it so).
 *
 * Without the option these opcodes are unknown commands (0x01), as on any other controller.
 */
import * as K from '../hci/commands.js';
import type { HciArg } from '../hci/commands.js';
import * as C from './codes.js';
import type { CommandReply, CommandTable } from './controller-commands.js';
import type { ControllerState } from './controller-state.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
const DISALLOWED = C.ERROR_CODE_COMMAND_DISALLOWED;
const UNKNOWN = C.ERROR_CODE_UNKNOWN_HCI_COMMAND;

/** How long the chip is deaf after Launch RAM (the host waits longer: btbcm 250 ms). */
export const BCM_BOOT_MS = 100;

export class ControllerBcm {
  constructor(
    private readonly s: ControllerState,
    private readonly r: CommandReply,
  ) {}

  /** Power on / HCI Reset does not lose a launched patch; this is the chip's power on. */
  static power_on(s: ControllerState): void {
    s.bcm = { phase: 'rom', records: 0, bytes: 0, next_address: 0, boot_until: 0, lmp_subversion: s.config.lmp_subversion };
  }

  /** Whether a command arriving now finds the chip restarting after Launch RAM. */
  static booting(s: ControllerState): boolean {
    return s.config.bcm !== null && s.run_loop.get_time_ms() < s.bcm.boot_until;
  }

  static readonly COMMANDS: CommandTable<ControllerBcm> = [
    [
      K.hci_bcm_download_minidriver,
      (x, _a, cmd) => {
        const s = x.s;
        if (!s.config.bcm) return x.r.fail(cmd, UNKNOWN);
        s.bcm.phase = 'minidriver';
        s.bcm.records = 0;
        s.bcm.bytes = 0;
        s.bcm.next_address = 0;
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_bcm_write_ram,
      (x, a: HciArg[], cmd) => {
        const s = x.s;
        if (!s.config.bcm) return x.r.fail(cmd, UNKNOWN);
        if (s.bcm.phase !== 'minidriver') return x.r.fail(cmd, DISALLOWED);
        const address = (a[0] as number) >>> 0;
        const data = a[1] as Uint8Array;
        if (data.length === 0 || address < s.bcm.next_address || address + data.length > 0x1_0000_0000) {
          s.link.logger.info(
            () =>
              `controller ${s.index}: Write RAM at 0x${address.toString(16)} (${data.length} bytes) refused: ` +
              `expected at or above 0x${s.bcm.next_address.toString(16)}`,
          );
          return x.r.fail(cmd, INVALID);
        }
        s.bcm.records++;
        s.bcm.bytes += data.length;
        s.bcm.next_address = address + data.length;
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_bcm_launch_ram,
      (x, a: HciArg[], cmd) => {
        const s = x.s;
        const bcm = s.config.bcm;
        if (!bcm) return x.r.fail(cmd, UNKNOWN);
        if (s.bcm.phase !== 'minidriver' || s.bcm.records === 0) return x.r.fail(cmd, DISALLOWED);
        const address = (a[0] as number) >>> 0;
        if (address !== 0xffffffff && address >= s.bcm.next_address) return x.r.fail(cmd, INVALID);
        x.r.complete(cmd, OK);
        s.bcm.phase = 'launched';
        s.bcm.lmp_subversion = bcm.patched_lmp_subversion;
        s.bcm.boot_until = s.run_loop.get_time_ms() + BCM_BOOT_MS;
        s.link.logger.info(
          () =>
            `controller ${s.index}: patch launched (${s.bcm.records} records, ${s.bcm.bytes} bytes), ` +
            `LMP subversion 0x${bcm.patched_lmp_subversion.toString(16).padStart(4, '0')}`,
        );
      },
    ],
  ];
}
