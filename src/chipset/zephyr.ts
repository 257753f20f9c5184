/**
 * Generic controller / Zephyr `hci_uart` firmware (nRF52/nRF53 boards, many dev kits).
 *
 * No vendor init; the UART runs at 1,000,000 baud, 8N1, with RTS/CTS flow control and no
 * baud-rate command. Zephyr's vendor-specific "Write BD_ADDR" (OCF 0x006, opcode 0xFC06,
 * available with CONFIG_BT_HCI_VS_EXT) sets the public address: one 6-byte BD_ADDR parameter,
 * little endian as every address on the HCI wire.
 */
import type { BdAddr } from '../core/bytes.js';
import { hci_cmd_encode, hci_opcode, OGF_VENDOR, type HciCommand } from '../hci/commands.js';
import type { BtstackChipset } from './chipset.js';

export const CHIPSET_ZEPHYR_BAUDRATE = 1_000_000;

/** Zephyr vendor command Write BD_ADDR (0xFC06), returns status. */
export const hci_zephyr_write_bd_addr: HciCommand = Object.freeze({
  name: 'HCI_Zephyr_Write_BD_ADDR',
  opcode: hci_opcode(OGF_VENDOR, 0x006),
  format: 'B',
  ret: '1',
  async: false,
});

/** A Zephyr / generic chipset driver (stateless; a fresh object per call for symmetry). */
export function chipset_zephyr(): BtstackChipset {
  return {
    name: 'Zephyr',
    default_baudrate: CHIPSET_ZEPHYR_BAUDRATE,
    default_flowcontrol: true,
    init() {},
    next_command() {
      return 0;
    },
    set_bd_addr_command(addr: BdAddr, buf: Uint8Array): number {
      return Math.max(0, hci_cmd_encode(buf, hci_zephyr_write_bd_addr, addr));
    },
  };
}

/** BTstack's name for the driver instance. */
export const btstack_chipset_zephyr_instance = chipset_zephyr;
