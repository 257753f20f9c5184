/**
 * Broadcom / Cypress / Infineon (BCM43xx, CYW43xx, CYW207xx) UART controllers.
 *
 * - Update UART Baud Rate: vendor OCF 0x018 (opcode 0xFC18), parameters 00 00 (encoded rate,
 *   unused) then the baud rate as 4 bytes little endian. The controller answers Command
 *   Complete at the old speed and then switches; the host switches its port after that.
 * - Write BD_ADDR: vendor OCF 0x001 (opcode 0xFC01), the address little endian.
 * - Patch download (`set_hcd` with a .hcd file's bytes, validated by bcm_hcd_parse): after Reset
 *   and the baud-rate command, next_command hands out Download Minidriver (0xFC2E), then every
 *   record of the file as it is (Write RAM 0xFC4C ..., Launch RAM 0xFC4E last), after a pause of
 *   BCM_MINIDRIVER_DELAY_MS behind Download Minidriver (pause_ms, as btbcm); the controller then
 *   restarts from RAM at its initial speed, so restart_delay_ms() asks HCI to wait
 *   BCM_LAUNCH_RAM_DELAY_MS (Linux btbcm waits 250 ms), switch the port back to baudrate_init, send
 *   Reset and the baud-rate command again. Without a .hcd, nothing is downloaded (ROM firmware).
 *   The driver does no I/O: finding and reading the file is the port's (ports/chipset-auto.ts).
 * These parts boot at 115200 baud with RTS/CTS flow control.
 */
import type { BdAddr } from '../core/bytes.js';
import { hci_bcm_update_uart_baud_rate, hci_bcm_write_bd_addr, hci_cmd_encode } from '../hci/commands.js';
import type { BtstackChipset, HciTransportConfigUart } from './chipset.js';
import { bcm_hcd_parse, HCI_BCM_DOWNLOAD_MINIDRIVER, type BcmHcdRecord } from './bcm-hcd.js';

export const CHIPSET_BCM_BAUDRATE = 115200;
/** Time the controller needs after Launch RAM before it takes HCI Reset (Linux btbcm: 250 ms). */
export const BCM_LAUNCH_RAM_DELAY_MS = 250;
/** Time the controller needs after Download Minidriver before the first Write RAM (Linux btbcm: 50 ms). */
export const BCM_MINIDRIVER_DELAY_MS = 50;

/** Patch download progress, reported after each command handed out. */
export interface BcmPatchProgress {
  /** Records handed out so far (Download Minidriver not counted). */
  records_sent: number;
  records_total: number;
  /** Write RAM data bytes handed out so far. */
  bytes_sent: number;
  bytes_total: number;
  /** Launch RAM handed out: the download is complete. */
  done: boolean;
}

export interface ChipsetBcmOptions {
  /** Called after each patch command is handed to HCI. */
  on_progress?: (p: BcmPatchProgress) => void;
}

export interface ChipsetBcm extends BtstackChipset {
  /** The transport config passed to init (undefined before). */
  readonly transport_config: HciTransportConfigUart | undefined;
  /**
   * The .hcd file to download at the next power on (null: none, ROM firmware). Returns null when
   * accepted, else why the file is not a valid .hcd (the driver keeps no patch then).
   */
  set_hcd(file: Uint8Array | null): string | null;
  /** Whether a patch is set. */
  readonly has_patch: boolean;
}

/** A Broadcom/Cypress chipset driver; one instance per stack (it keeps the config and the patch). */
export function chipset_bcm(options: ChipsetBcmOptions = {}): ChipsetBcm {
  let config: HciTransportConfigUart | undefined;
  let records: BcmHcdRecord[] = [];
  let bytes_total = 0;
  /** -1: Download Minidriver next; 0..n-1: that record next; n: done. */
  let next = -1;
  let bytes_sent = 0;
  let launched = false;
  const restart = () => {
    next = -1;
    bytes_sent = 0;
    launched = false;
  };
  return {
    name: 'BCM',
    default_baudrate: CHIPSET_BCM_BAUDRATE,
    default_flowcontrol: true,
    get transport_config() {
      return config;
    },
    get has_patch() {
      return records.length > 0;
    },
    set_hcd(file: Uint8Array | null): string | null {
      records = [];
      bytes_total = 0;
      restart();
      if (file === null) return null;
      const r = bcm_hcd_parse(file);
      if (r.status !== 'ok') return r.reason;
      records = r.records;
      bytes_total = r.write_ram_bytes;
      return null;
    },
    init(transport_config: unknown) {
      config = transport_config as HciTransportConfigUart | undefined;
      restart();
    },
    next_command(buf: Uint8Array): number {
      if (records.length === 0 || next >= records.length) return 0;
      if (next === -1) {
        next = 0;
        buf[0] = HCI_BCM_DOWNLOAD_MINIDRIVER & 0xff;
        buf[1] = HCI_BCM_DOWNLOAD_MINIDRIVER >> 8;
        buf[2] = 0;
        return 3;
      }
      const rec = records[next++]!;
      if (rec.packet.length > buf.length) return 0;
      buf.set(rec.packet);
      bytes_sent += rec.data.length;
      if (rec.kind === 'launch_ram') launched = true;
      options.on_progress?.({ records_sent: next, records_total: records.length, bytes_sent, bytes_total, done: launched });
      return rec.packet.length;
    },
    pause_ms(): number {
      return next === 0 ? BCM_MINIDRIVER_DELAY_MS : 0; // Download Minidriver was the last command
    },
    restart_delay_ms(): number {
      return launched ? BCM_LAUNCH_RAM_DELAY_MS : 0;
    },
    set_baudrate_command(baudrate: number, buf: Uint8Array): number {
      if (!Number.isInteger(baudrate) || baudrate <= 0 || baudrate > 0xffffffff) return 0;
      return Math.max(0, hci_cmd_encode(buf, hci_bcm_update_uart_baud_rate, 0, baudrate));
    },
    set_bd_addr_command(addr: BdAddr, buf: Uint8Array): number {
      return Math.max(0, hci_cmd_encode(buf, hci_bcm_write_bd_addr, addr));
    },
  };
}

/** BTstack's name for the driver instance. */
export const btstack_chipset_bcm_instance = chipset_bcm;
