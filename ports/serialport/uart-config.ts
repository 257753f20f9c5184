import type { HciTransportConfigUart } from '../../src/chipset/chipset.js';

/** The UART transports' (H4, H5) constructor check: a TypeError naming `owner` for a config without a device path or a baud rate. */
export function check_uart_config(owner: string, config: HciTransportConfigUart): void {
  if (!config || typeof config.device_name !== 'string' || config.device_name === '') {
    throw new TypeError(`${owner}: config.device_name (the serial device path) is required`);
  }
  if (!Number.isInteger(config.baudrate_init) || config.baudrate_init <= 0) {
    throw new TypeError(`${owner}: bad baudrate_init ${config.baudrate_init}`);
  }
}
