/**
 * What `--port` names, and the transport for it (the CLI and the examples):
 *
 *   /dev/ttyACM0, COM3, ...   H4 over a serial port (ports/serialport)
 *   hci0, hci:0               the Linux HCI user channel (ports/hci-socket)
 *   usb, usb:VID:PID, usb:BUS-PORTS   HCI over USB through libusb (ports/usb)
 *   auto                      the only controller `bthost list` finds
 *
 * Each transport's package is imported only when its kind is named.
 */
import type { BtstackChipset, HciTransportConfigUart } from '../src/chipset/chipset.js';
import type { HciTransport } from '../src/hci/transport.js';
import type { Logger } from '../src/core/log.js';
import type { PortOptions } from './main.js';
import { parse_usb_spec, type UsbSelector } from './usb/find.js';
import { choose_auto_port, list_ports, type PortSource } from './port-list.js';

export type PortSpec =
  { kind: 'serial'; path: string } | { kind: 'hci'; dev: number } | { kind: 'usb'; selector: UsbSelector } | { kind: 'auto' };

/** Classify a --port value; a malformed hci / usb name is a problem (one line). */
export function parse_port_spec(port: string): PortSpec | { problem: string } {
  if (port === 'auto') return { kind: 'auto' };
  const hci = /^hci:?(\d{1,5})$/.exec(port);
  if (hci) return { kind: 'hci', dev: Number(hci[1]) };
  if (port.startsWith('hci') && !port.includes('/'))
    return { problem: `an HCI device is hciN or hci:N (e.g. hci0), got '${port}'` };
  if (port === 'usb' || port.startsWith('usb:')) {
    const sel = parse_usb_spec(port);
    return 'problem' in sel ? sel : { kind: 'usb', selector: sel };
  }
  return { kind: 'serial', path: port };
}

export interface OpenedPort {
  transport: HciTransport;
  /** The UART config (serial ports only). */
  config?: HciTransportConfigUart;
  /** For messages: '/dev/ttyACM0 (115200 baud, flow control on)', 'hci0 (HCI user channel)', 'usb:1-2 (USB)'. */
  where: string;
  /** The port itself (auto resolved). */
  port: string;
  /** The transport cannot take every ACL length: announce its limit (Host Buffer Size). */
  host_flow_control: boolean;
  /** Where the controller is, for chipset detection (which firmware downloads apply: ports/chipset-auto.ts). */
  bus: 'uart' | 'usb' | 'hci';
}

/**
 * The transport for `options.tty` (resolving `auto` through `sources`); one line and an exit code
 * (2: the name is malformed or ambiguous, 1: nothing there) when it cannot be had.
 */
export async function open_port_transport(
  options: PortOptions,
  chipset: BtstackChipset | undefined,
  how: { logger?: Logger; sources?: readonly PortSource[] } = {},
): Promise<OpenedPort | { error: string; exit: 1 | 2 }> {
  let port = options.tty ?? 'auto';
  let spec = parse_port_spec(port);
  if ('problem' in spec) return { error: `--port: ${spec.problem}`, exit: 2 };
  if (spec.kind === 'auto') {
    const chosen = choose_auto_port(await list_ports(how.sources));
    if ('error' in chosen) return chosen;
    port = chosen.port;
    spec = parse_port_spec(port);
    if ('problem' in spec || spec.kind === 'auto') return { error: `--port auto: cannot use ${port}`, exit: 1 };
  }
  switch (spec.kind) {
    case 'hci': {
      const { HciSocketTransport } = await import('./hci-socket/transport.js');
      const transport = new HciSocketTransport(spec.dev, { logger: how.logger });
      return { transport, where: `hci${spec.dev} (HCI user channel)`, port, host_flow_control: true, bus: 'hci' };
    }
    case 'usb': {
      const { UsbTransport } = await import('./usb/transport.js');
      const transport = new UsbTransport(spec.selector, { logger: how.logger });
      return { transport, where: `${port} (USB)`, port, host_flow_control: false, bus: 'usb' };
    }
    default: {
      const { serialport_transport_from_options } = await import('./serialport/main.js');
      const p = serialport_transport_from_options({ ...options, tty: spec.path }, chipset)!;
      return {
        transport: p.transport,
        config: p.config,
        where: `${spec.path} (${options.h5 ? 'H5, ' : ''}${p.config.baudrate_init} baud, flow control ${p.config.flowcontrol ? 'on' : 'off'})`,
        port,
        host_flow_control: false,
        bus: 'uart',
      };
    }
  }
}
