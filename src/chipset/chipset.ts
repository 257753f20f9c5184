/**
 * BTstack's chipset interface (btstack_chipset_t) and the UART transport config
 * (hci_transport_config_uart_t) it and the H4 serial transport read.
 *
 * A chipset driver writes complete HCI command packets (opcode, parameter length, parameters;
 * no H4 type byte) into a buffer supplied by HCI. HCI drives it:
 * - `init(config)` once from hci_init / power on, with the transport config;
 * - `next_command(buf)` after HCI Reset and Read Local Version until it returns 0 (vendor init
 *   scripts, patches), each answer first handed to `command_complete(opcode, ret)`; then, when `restart_delay_ms()` > 0 (the commands restarted the controller,
 *   as Broadcom's Launch RAM does), HCI waits that long, switches the port back to
 *   `baudrate_init`, sends Reset, the baud-rate command again and re-reads the version;
 * - `set_baudrate_command(baud, buf)` when `baudrate_main` differs from `baudrate_init`: HCI
 *   sends it, and on its Command Complete calls `transport.set_baudrate(baudrate_main)`;
 * - `set_bd_addr_command(addr, buf)` when the app asked for a public address (hci_set_bd_addr).
 */
import type { BdAddr } from '../core/bytes.js';

/** BTstack's hci_transport_config_type_t. */
export const HCI_TRANSPORT_CONFIG_UART = 0;
export const HCI_TRANSPORT_CONFIG_USB = 1;

/** BTstack's btstack_uart.h parity values. */
export const BTSTACK_UART_PARITY_OFF = 0;
export const BTSTACK_UART_PARITY_EVEN = 1;
export const BTSTACK_UART_PARITY_ODD = 2;

/**
 * BTstack's hci_transport_config_uart_t. A type alias (not an interface) so it is assignable to
 * HCI's generic transport config (an object with an index signature).
 */
export type HciTransportConfigUart = {
  type: typeof HCI_TRANSPORT_CONFIG_UART;
  /** Speed the port opens at and HCI Reset is sent at. */
  baudrate_init: number;
  /** Speed after the chipset's baud-rate command; 0 = stay at baudrate_init. */
  baudrate_main: number;
  /** RTS/CTS hardware flow control: 1/true on (the default in BTstack's examples), 0/false off. */
  flowcontrol: number | boolean;
  /** Serial device path, e.g. /dev/ttyACM0. */
  device_name: string;
  /** BTSTACK_UART_PARITY_OFF (default), _EVEN or _ODD. */
  parity?: number;
};
export type hci_transport_config_uart_t = HciTransportConfigUart;

/** BTstack's btstack_chipset_t: every hook optional except the name. */
export interface BtstackChipset {
  readonly name: string;
  /** Called with the transport config (HciTransportConfigUart for UART) before power on. */
  init?(transport_config: unknown): void;
  /**
   * Write the next vendor init command into buf; returns its size, or 0 when done.
   * Called after HCI Reset completes, repeatedly, each after the previous command completed.
   */
  next_command?(buf: Uint8Array): number;
  /**
   * The Command Complete of a command next_command handed out (`ret`: its return parameters,
   * status first), before HCI asks next_command again (Realtek reads its ROM version so).
   */
  command_complete?(opcode: number, ret: Uint8Array): void;
  /**
   * Asked once next_command returned 0 after sending commands: ms the controller needs to restart
   * after them (0 or absent: it does not restart).
   */
  restart_delay_ms?(): number;
  /**
   * Asked before each next_command after the first: ms to wait first, on a run-loop timer (Linux
   * btbcm sleeps 50 ms after Download Minidriver). 0 or absent: no pause.
   */
  pause_ms?(): number;
  /** Write the vendor "change baud rate" command for `baudrate`; returns its size (0 = unsupported). */
  set_baudrate_command?(baudrate: number, buf: Uint8Array): number;
  /** Write the vendor "set public BD_ADDR" command; returns its size (0 = unsupported). */
  set_bd_addr_command?(addr: BdAddr, buf: Uint8Array): number;
  /** Speed the controller's UART comes up at (informational, for building configs). */
  readonly default_baudrate?: number;
  /** Whether the controller's UART expects RTS/CTS flow control (informational). */
  readonly default_flowcontrol?: boolean;
}
export type btstack_chipset_t = BtstackChipset;

/** A UART config for `device_name` with BTstack's defaults, optionally from a chipset's defaults. */
export function hci_transport_config_uart(
  device_name: string,
  overrides: Partial<Omit<HciTransportConfigUart, 'type' | 'device_name'>> = {},
  chipset?: BtstackChipset,
): HciTransportConfigUart {
  return {
    type: HCI_TRANSPORT_CONFIG_UART,
    baudrate_init: overrides.baudrate_init ?? chipset?.default_baudrate ?? 115200,
    baudrate_main: overrides.baudrate_main ?? 0,
    flowcontrol: overrides.flowcontrol ?? chipset?.default_flowcontrol ?? true,
    device_name,
    parity: overrides.parity ?? BTSTACK_UART_PARITY_OFF,
  };
}
