/**
 * Broadcom / Cypress / Infineon (BCM43xx, CYW43xx, CYW207xx) UART controllers.
 *
 * - Update UART Baud Rate: vendor OCF 0x018 (opcode 0xFC18), parameters 00 00 (encoded rate,
 *   unused) then the baud rate as 4 bytes little endian. The controller answers Command
 *   Complete at the old speed and then switches; the host switches its port after that.
 * - Write BD_ADDR: vendor OCF 0x001 (opcode 0xFC01), the address little endian.
 * Patch-file (.hcd) download is not implemented yet: next_command reports done at once.
 * These parts boot at 115200 baud with RTS/CTS flow control.
 */
import type { BdAddr } from '../core/bytes.js';
import { hci_bcm_update_uart_baud_rate, hci_bcm_write_bd_addr, hci_cmd_encode } from '../hci/commands.js';
import type { BtstackChipset, HciTransportConfigUart } from './chipset.js';

export const CHIPSET_BCM_BAUDRATE = 115200;

export interface ChipsetBcm extends BtstackChipset {
  /** The transport config passed to init (undefined before). */
  readonly transport_config: HciTransportConfigUart | undefined;
}

/** A Broadcom/Cypress chipset driver; one instance per stack (it keeps the config). */
export function chipset_bcm(): ChipsetBcm {
  let config: HciTransportConfigUart | undefined;
  return {
    name: 'BCM',
    default_baudrate: CHIPSET_BCM_BAUDRATE,
    default_flowcontrol: true,
    get transport_config() {
      return config;
    },
    init(transport_config: unknown) {
      config = transport_config as HciTransportConfigUart | undefined;
    },
    next_command() {
      return 0; // patch-file download comes later
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
