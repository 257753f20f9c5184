/**
 * `bthost list`: the controllers this machine has and what to pass to --port for each (HCI devices
 * for the user channel, USB Bluetooth controllers, serial ports). Takes no options but --help.
 */
import { format_port_list, list_ports, type PortSource } from '../port-list.js';

export async function list_main(
  argv: string[],
  sources?: readonly PortSource[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    const { command_usage } = await import('./usage.js');
    out(command_usage('list'));
    return 0;
  }
  if (argv.length) {
    process.stderr.write(`bthost list: unknown argument ${argv[0]} (bthost list --help for usage)\n`);
    return 2;
  }
  for (const line of format_port_list(await list_ports(sources))) out(line);
  return 0;
}
