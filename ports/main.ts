/**
 * The command line every example and the CLI share, as BTstack's posix-h4 port reads it:
 *
 *   -u, --tty TTY          serial device of an H4 controller (without: in-process virtual controller)
 *   -b, --baudrate BAUD    initial UART speed (default: the chipset's, 115200 without one)
 *       --main-baud BAUD   speed to switch to after Reset via the chipset's baud-rate command
 *       --chipset C        controller driver: bcm | zephyr (only with { chipset: true }, as the
 *                          examples parse; --main-baud then needs a chipset with a baud-rate command)
 *       --no-flow          no RTS/CTS hardware flow control
 *   -l, --logfile FILE     write a packet log
 *   -f, --format FMT       btsnoop | pklg (default: from the file name, else btsnoop)
 *       --addr ADDR        peer address XX:XX:XX:XX:XX:XX
 *   -h, --help             usage
 *
 * `parse_port_options` is a pure function of argv: no I/O, no exit; the example prints
 * `errors`/usage and decides. Arguments it does not know go to `rest` in order.
 */
import { sscanf_bd_addr, type BdAddr } from '../src/core/bytes.js';
import { hci_transport_config_uart, type BtstackChipset, type HciTransportConfigUart } from '../src/chipset/chipset.js';
import { chipset_bcm } from '../src/chipset/bcm.js';
import { chipset_zephyr } from '../src/chipset/zephyr.js';

/** The chipset drivers `--chipset` names. */
export type PortChipsetName = 'bcm' | 'zephyr';

/** `--chipset` name -> driver factory (bcm: Broadcom/Cypress vendor baud-rate command; zephyr: hci_uart, none). */
export const PORT_CHIPSETS: Readonly<Record<PortChipsetName, () => BtstackChipset>> = Object.freeze({
  bcm: chipset_bcm,
  zephyr: chipset_zephyr,
});

/** How to parse. */
export interface PortParseOptions {
  /**
   * Parse `--chipset bcm|zephyr` into `chipset` and reject `--main-baud` without a chipset that
   * can change the speed (default false: `--chipset` is left in `rest` for a caller that reads it itself).
   */
  chipset?: boolean;
}

export type PacketLogFormat = 'btsnoop' | 'pklg';

export interface PortOptions {
  /** -u: serial device; undefined = use the in-process virtual controller. */
  tty: string | undefined;
  /** -b: initial baud rate; undefined = chipset / BTstack default. */
  baudrate: number | undefined;
  /** --main-baud: baud rate after the chipset's baud-rate command; undefined = stay. */
  baudrate_main: number | undefined;
  /** --chipset: the controller's driver (parsed only with { chipset: true }); undefined = generic. */
  chipset: PortChipsetName | undefined;
  /** RTS/CTS flow control (default true; --no-flow turns it off). */
  flowcontrol: boolean;
  /** -l: packet log path; undefined = no log (with only -f: /tmp/hci_dump.<format>). */
  log_file: string | undefined;
  /** -f: packet log format. */
  log_format: PacketLogFormat;
  /** --addr: peer address (display order). */
  addr: BdAddr | undefined;
  /** -h / --help given. */
  help: boolean;
  /** Arguments not recognised here (the example's own), in order. */
  rest: string[];
  /** Problems found (missing or malformed values); empty when all is well. */
  errors: string[];
}

type ValueOption = 'tty' | 'baudrate' | 'main-baud' | 'logfile' | 'format' | 'addr' | 'chipset';

const SHORT: Record<string, ValueOption> = { u: 'tty', b: 'baudrate', l: 'logfile', f: 'format' };
const LONG_VALUE = new Set<string>(['tty', 'baudrate', 'main-baud', 'logfile', 'format', 'addr']);

function parseBaud(v: string, flag: string, errors: string[]): number | undefined {
  if (!/^\d+$/.test(v) || Number(v) <= 0 || Number(v) > 0xffffffff) {
    errors.push(`${flag}: baud rate must be a positive integer, got '${v}'`);
    return undefined;
  }
  return Number(v);
}

/** Parse BTstack port options from argv (without node and the script: process.argv.slice(2)). */
export function parse_port_options(argv: readonly string[], parse: PortParseOptions = {}): PortOptions {
  const o: PortOptions = {
    tty: undefined,
    baudrate: undefined,
    baudrate_main: undefined,
    chipset: undefined,
    flowcontrol: true,
    log_file: undefined,
    log_format: 'btsnoop',
    addr: undefined,
    help: false,
    rest: [],
    errors: [],
  };
  let format: PacketLogFormat | undefined;
  const set = (name: ValueOption, value: string, flag: string) => {
    switch (name) {
      case 'tty':
        if (value === '') o.errors.push(`${flag}: empty device path`);
        else o.tty = value;
        break;
      case 'baudrate':
        o.baudrate = parseBaud(value, flag, o.errors);
        break;
      case 'main-baud':
        o.baudrate_main = parseBaud(value, flag, o.errors);
        break;
      case 'logfile':
        if (value === '') o.errors.push(`${flag}: empty log file path`);
        else o.log_file = value;
        break;
      case 'format':
        if (value === 'btsnoop' || value === 'pklg') format = value;
        else o.errors.push(`${flag}: log format must be btsnoop or pklg, got '${value}'`);
        break;
      case 'addr': {
        const a = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(value) ? sscanf_bd_addr(value) : null;
        if (a) o.addr = a;
        else o.errors.push(`${flag}: address must look like XX:XX:XX:XX:XX:XX, got '${value}'`);
        break;
      }
      case 'chipset':
        if (Object.prototype.hasOwnProperty.call(PORT_CHIPSETS, value)) o.chipset = value as PortChipsetName;
        else o.errors.push(`${flag}: chipset must be ${Object.keys(PORT_CHIPSETS).join(' or ')}, got '${value}'`);
        break;
    }
  };
  const isValueOption = (key: string): boolean => LONG_VALUE.has(key) || (key === 'chipset' && !!parse.chipset);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      o.rest.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      o.help = true;
      continue;
    }
    if (arg === '--no-flow') {
      o.flowcontrol = false;
      continue;
    }
    let name: ValueOption | undefined;
    let inline: string | undefined;
    let flag = arg;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const key = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      if (isValueOption(key)) {
        name = key as ValueOption;
        flag = `--${key}`;
        if (eq >= 0) inline = arg.slice(eq + 1);
      }
    } else if (arg.length >= 2 && arg[0] === '-' && SHORT[arg[1]!]) {
      name = SHORT[arg[1]!];
      flag = arg.slice(0, 2);
      if (arg.length > 2) inline = arg.slice(2);
    }
    if (!name) {
      o.rest.push(arg);
      continue;
    }
    if (inline !== undefined) {
      set(name, inline, flag);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || (value.startsWith('-') && value.length > 1)) {
      o.errors.push(`${flag}: missing value`);
      continue;
    }
    i++;
    set(name, value, flag);
  }

  if (format) o.log_format = format;
  else if (o.log_file && /\.pklg$/i.test(o.log_file)) o.log_format = 'pklg';
  if (format && !o.log_file) o.log_file = `/tmp/hci_dump.${format}`;
  if (parse.chipset && o.baudrate_main !== undefined && !port_chipset(o)?.set_baudrate_command) {
    const able = (Object.keys(PORT_CHIPSETS) as PortChipsetName[]).filter((n) => PORT_CHIPSETS[n]().set_baudrate_command);
    const why = o.chipset ? `chipset ${o.chipset} has no baud-rate command` : 'no --chipset given';
    o.errors.push(`--main-baud: the speed is changed through the chipset's baud-rate command, and ${why} (use --chipset ${able.join(' | ')}, or drop --main-baud)`);
  }
  return o;
}

/** A fresh driver for `--chipset` (undefined when none was given). */
export function port_chipset(options: PortOptions): BtstackChipset | undefined {
  return options.chipset ? PORT_CHIPSETS[options.chipset]() : undefined;
}

/** Usage text for an example named `program`; `extra` lines describe its own options. */
export function port_usage(program: string, extra: readonly string[] = []): string {
  return [
    `usage: ${program} [options]${extra.length ? ' [example options]' : ''}`,
    '  -u, --tty TTY          H4 controller on serial device TTY (default: in-process virtual controller)',
    '  -b, --baudrate BAUD    initial UART speed (default: the chipset\'s, else 115200)',
    '      --main-baud BAUD   switch to BAUD after Reset (chipset baud-rate command: needs --chipset bcm)',
    '      --chipset C        controller driver: bcm (Broadcom/Cypress) | zephyr (hci_uart); default: generic',
    '      --no-flow          disable RTS/CTS hardware flow control',
    '  -l, --logfile FILE     write a packet log to FILE',
    '  -f, --format FMT       packet log format: btsnoop | pklg (default: from FILE, else btsnoop)',
    '      --addr ADDR        peer address XX:XX:XX:XX:XX:XX',
    '  -h, --help             show this help',
    ...extra.map((l) => `  ${l}`),
  ].join('\n');
}

/** The UART transport config for the options (undefined without -u), using the chipset's defaults. */
export function port_uart_config(options: PortOptions, chipset?: BtstackChipset): HciTransportConfigUart | undefined {
  if (!options.tty) return undefined;
  return hci_transport_config_uart(
    options.tty,
    {
      ...(options.baudrate !== undefined ? { baudrate_init: options.baudrate } : {}),
      ...(options.baudrate_main !== undefined ? { baudrate_main: options.baudrate_main } : {}),
      flowcontrol: options.flowcontrol,
    },
    chipset,
  );
}
