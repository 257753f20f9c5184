/**
 * Glue for examples: BTstack port options -> an H4 serial transport and its UART config.
 * Import this (or `bthost/serialport`) only when `-u` was given, so runs on the virtual
 * controller never load serialport's native binding:
 *
 *   const opts = parse_port_options(process.argv.slice(2));
 *   if (opts.tty) {
 *     const { serialport_transport_from_options } = await import('../ports/serialport/main.js');
 *     const { transport, config } = serialport_transport_from_options(opts, chipset_zephyr())!;
 *     hci_init(transport, config);
 *   }
 */
import type { BtstackChipset, HciTransportConfigUart } from '../../src/chipset/chipset.js';
import { port_uart_config, type PortOptions } from '../main.js';
import { SerialPortTransport, type SerialPortTransportOptions } from './transport.js';

export { parse_port_options, port_usage, port_uart_config, type PortOptions } from '../main.js';

/** The transport and UART config for `-u` options; undefined when no tty was given. */
export function serialport_transport_from_options(
  options: PortOptions,
  chipset?: BtstackChipset,
  transport_options?: SerialPortTransportOptions,
): { transport: SerialPortTransport; config: HciTransportConfigUart } | undefined {
  const config = port_uart_config(options, chipset);
  if (!config) return undefined;
  return { transport: new SerialPortTransport(config, transport_options), config };
}
