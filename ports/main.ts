/**
 * The command line every example and the CLI share, as BTstack's posix-h4 port reads it:
 *
 *   -u, --tty TTY          serial device of an H4 controller (without: in-process virtual controller)
 *   -b, --baudrate BAUD    initial UART speed (default: the chipset's, 115200 without one)
 *       --main-baud BAUD   speed to switch to after Reset via the chipset's baud-rate command
 *       --chipset C        controller driver: bcm | zephyr (only with { chipset: true }, as the
 *                          examples parse; --main-baud then needs a chipset with a baud-rate command)
 *       --firmware PATH    Broadcom/Cypress patch: a .hcd file, a directory to search, or none
 *                          (default: /lib/firmware/brcm; with { chipset: true })
 *       --no-flow          no RTS/CTS hardware flow control
 *       --h5               H5 (Three-wire UART) instead of H4 on the serial port
 *   -l, --logfile FILE     write a packet log
 *   -f, --format FMT       btsnoop | pklg (default: from the file name, else btsnoop)
 *       --addr ADDR        peer address XX:XX:XX:XX:XX:XX
 *   -h, --help             usage
 *
 * `parse_port_options` is a pure function of argv: no I/O, no exit; the example prints
 * `errors`/usage and decides. Arguments it does not know go to `rest` in order. The flags are
 * defined once for every program in ports/options.ts (node:util parseArgs); `--port`, `--baud` and
 * `--log` are accepted for --tty, --baudrate and --logfile, as the `bthost` CLI spells them.
 */
import type { BdAddr } from '../src/core/bytes.js';
import { hci_transport_config_uart, type BtstackChipset, type HciTransportConfigUart } from '../src/chipset/chipset.js';
import { chipset_bcm } from '../src/chipset/bcm.js';
import { chipset_zephyr } from '../src/chipset/zephyr.js';
import {
  check_addr,
  check_baud,
  check_format,
  check_path,
  flag_given,
  parse_flags,
  pick_flags,
  read_flag,
  type PacketLogFormat,
  type ParsedFlags,
} from './options.js';

// the one option parser, for an example's or a program's own flags (bthost/port)
export {
  COMMON_FLAGS,
  check_int,
  check_profile,
  flag_given,
  flag_string,
  parse_flags,
  pick_flags,
  read_flag,
  type CommonFlag,
  type FlagDef,
  type FlagSpec,
  type ParsedFlags,
  type ParseFlagsOptions,
} from './options.js';

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
  /**
   * The program detects the chipset from Read Local Version (ports/chipset-auto.ts, the CLI):
   * `--main-baud` without `--chipset` is then allowed; the detection refuses it (one line) when the
   * driver it picks has no baud-rate command. Without it (the examples on a UART) it is refused here.
   */
  detect?: boolean;
}

export type { PacketLogFormat };

export interface PortOptions {
  /** -u: serial device; undefined = use the in-process virtual controller. */
  tty: string | undefined;
  /** -b: initial baud rate; undefined = chipset / BTstack default. */
  baudrate: number | undefined;
  /** --main-baud: baud rate after the chipset's baud-rate command; undefined = stay. */
  baudrate_main: number | undefined;
  /** --chipset: the controller's driver (parsed only with { chipset: true }); undefined = generic. */
  chipset: PortChipsetName | undefined;
  /** --firmware: .hcd file, directory, or 'none' (parsed only with { chipset: true }); undefined = search /lib/firmware/brcm. */
  firmware: string | undefined;
  /** RTS/CTS flow control (default true; --no-flow turns it off). */
  flowcontrol: boolean;
  /** --h5: H5 (Three-wire UART, ports/serialport/h5-transport.ts) instead of H4 on the serial port. */
  h5: boolean;
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

/** The port flags: BTstack's -u -b -l -f and the rest of the common flags an example takes (ports/options.ts). */
const PORT_FLAGS = pick_flags('tty', 'baudrate', 'main-baud', 'no-flow', 'h5', 'logfile', 'format', 'addr', 'help');
const PORT_FLAGS_CHIPSET = { ...PORT_FLAGS, ...pick_flags('chipset', 'firmware') };

const checkChipset = (v: string): PortChipsetName | { problem: string } =>
  Object.prototype.hasOwnProperty.call(PORT_CHIPSETS, v)
    ? (v as PortChipsetName)
    : { problem: `chipset must be ${Object.keys(PORT_CHIPSETS).join(' or ')}, got '${v}'` };

/** Parse BTstack port options from argv (without node and the script: process.argv.slice(2)). */
export function parse_port_options(argv: readonly string[], parse: PortParseOptions = {}): PortOptions {
  const p = parse_flags(argv, parse.chipset ? PORT_FLAGS_CHIPSET : PORT_FLAGS, { unknown: 'rest' });
  return port_options_from_flags(p, parse);
}

/**
 * PortOptions from flags already parsed with (at least) the port flags: for a program that parses
 * its own flags in the same pass (the `bthost` CLI). Problems go to `p.errors` (shared).
 */
export function port_options_from_flags(p: ParsedFlags, parse: PortParseOptions = {}): PortOptions {
  const o: PortOptions = {
    tty: read_flag(p, 'tty', check_path('device path')),
    baudrate: read_flag(p, 'baudrate', check_baud),
    baudrate_main: read_flag(p, 'main-baud', check_baud),
    chipset: parse.chipset ? read_flag(p, 'chipset', checkChipset) : undefined,
    firmware: parse.chipset ? read_flag(p, 'firmware', check_path('firmware path')) : undefined,
    flowcontrol: !flag_given(p, 'no-flow'),
    h5: flag_given(p, 'h5'),
    log_file: read_flag(p, 'logfile', check_path('log file path')),
    log_format: 'btsnoop',
    addr: read_flag(p, 'addr', check_addr),
    help: flag_given(p, 'help'),
    rest: p.rest,
    errors: p.errors,
  };
  const format = read_flag(p, 'format', check_format);
  if (format) o.log_format = format;
  else if (o.log_file && /\.pklg$/i.test(o.log_file)) o.log_format = 'pklg';
  if (format && !o.log_file) o.log_file = `/tmp/hci_dump.${format}`;
  if (parse.chipset && o.baudrate_main !== undefined && (o.chipset || !parse.detect) && !port_chipset(o)?.set_baudrate_command) {
    const able = (Object.keys(PORT_CHIPSETS) as PortChipsetName[]).filter((n) => PORT_CHIPSETS[n]().set_baudrate_command);
    const why = o.chipset ? `chipset ${o.chipset} has no baud-rate command` : 'no --chipset given';
    o.errors.push(
      `--main-baud: the speed is changed through the chipset's baud-rate command, and ${why} (use --chipset ${able.join(' | ')}, or drop --main-baud)`,
    );
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
    "  -b, --baudrate BAUD    initial UART speed (default: the chipset's, else 115200)",
    '      --main-baud BAUD   switch to BAUD after Reset (chipset baud-rate command: needs --chipset bcm)',
    '      --chipset C        controller driver: bcm (Broadcom/Cypress) | zephyr (hci_uart); default: detected',
    '      --firmware PATH    firmware file or directory, or none: Broadcom .hcd (UART; default /lib/firmware/brcm), Realtek rtl_bt (USB; default /lib/firmware/rtl_bt)',
    '      --no-flow          disable RTS/CTS hardware flow control',
    '      --h5               H5 (Three-wire UART: SLIP, acknowledged packets) instead of H4 on the serial port',
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
