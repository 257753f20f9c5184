/**
 * Glue for examples: BTstack port options -> an H4 serial transport and its UART config.
 * Import this (or `bthost/serialport`) only when `-u` was given, so runs on the virtual
 * controller never load serialport's native binding:
 *
 *   const opts = parse_port_options(process.argv.slice(2), { chipset: true });
 *   if (opts.tty) {
 *     const { serialport_transport_from_options } = await import('../ports/serialport/main.js');
 *     const chipset = port_chipset(opts); // --chipset bcm|zephyr, or undefined
 *     const { transport, config } = serialport_transport_from_options(opts, chipset)!;
 *     new Stack({ transport, transport_config: config, chipset }); // the chipset sends the baud-rate command
 *   }
 */
import type { BtstackChipset, HciTransportConfigUart } from '../../src/chipset/chipset.js';
import { port_chipset, port_uart_config, type PortOptions } from '../main.js';
import { SerialPortTransport, type SerialPortTransportOptions } from './transport.js';
import { H5SerialPortTransport, type H5SerialPortTransportOptions } from './h5-transport.js';

export {
  parse_port_options,
  port_chipset,
  port_usage,
  port_uart_config,
  PORT_CHIPSETS,
  type PortChipsetName,
  type PortOptions,
  type PortParseOptions,
} from '../main.js';

/**
 * The transport and UART config for `-u` options (H4, or H5 with `--h5`); undefined when no tty was given. `chipset`
 * (default: the `--chipset` of the options) supplies the default speed and flow control; hand
 * the same driver to the Stack so it sends the baud-rate command for `--main-baud`.
 */
export function serialport_transport_from_options(
  options: PortOptions,
  chipset: BtstackChipset | undefined = port_chipset(options),
  transport_options?: SerialPortTransportOptions & H5SerialPortTransportOptions,
): { transport: SerialPortTransport | H5SerialPortTransport; config: HciTransportConfigUart } | undefined {
  const config = port_uart_config(options, chipset);
  if (!config) return undefined;
  if (options.h5) {
    const o = transport_options ?? {};
    const h5: H5SerialPortTransportOptions = {
      ...(o.logger ? { logger: o.logger } : {}),
      ...(o.lock !== undefined ? { lock: o.lock } : {}),
      ...(o.max_write_queue !== undefined ? { max_write_queue: o.max_write_queue } : {}),
      ...(o.establish_ms !== undefined ? { establish_ms: o.establish_ms } : {}),
      ...(o.retransmit_ms !== undefined ? { retransmit_ms: o.retransmit_ms } : {}),
      ...(o.config ? { config: o.config } : {}),
    };
    return { transport: new H5SerialPortTransport(config, h5), config };
  }
  return { transport: new SerialPortTransport(config, transport_options), config };
}
