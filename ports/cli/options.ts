/**
 * Options every `bthost` command takes, on top of BTstack's port flags (ports/main.ts):
 *
 *   --port TTY | -u TTY      H4 controller on a serial device (default: in-process virtual controller)
 *   --baud N   | -b N        initial UART speed
 *   --no-flow                no RTS/CTS flow control
 *   --log FILE | -l FILE     packet log; --format btsnoop|pklg (-f)
 *   --chipset bcm|zephyr     the controller's driver; --main-baud N (needs --chipset bcm)
 *   --profile v1.4|v1.8      BTstack release of the event codes
 *   --timeout MS             how long to wait for the controller to answer at power on (default 3000)
 *   -v, --verbose            print every BTstack event the command's stack receives
 *   --host-flow-control      controller-to-host flow control (Host Buffer Size, Host Number Of Completed Packets)
 *   --keys FILE              the link key store (ports/cli/keys.ts); --io, --yes, --pin, --sc, --ssp: how
 *                            pairing requests are answered (ports/cli/agent.ts)
 *
 * One parser for all of them (ports/options.ts, node:util parseArgs): the common flags are defined
 * there once. `parse_cli_options` is pure (no I/O); commands read their own flags from `rest`.
 */
import { port_options_from_flags, type PortChipsetName, type PortOptions } from '../main.js';
import {
  SSP_IO_CAPABILITY_DISPLAY_ONLY,
  SSP_IO_CAPABILITY_DISPLAY_YES_NO,
  SSP_IO_CAPABILITY_KEYBOARD_ONLY,
  SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT,
} from '../../src/codes/v1.4.js';
import {
  check_int,
  check_path,
  check_profile,
  COMMON_FLAGS,
  flag_given,
  parse_flags,
  read_flag,
  type FlagSpec,
} from '../options.js';
import type { CodeProfile } from '../../src/codes/index.js';

export interface CliOptions {
  port: PortOptions;
  profile: CodeProfile;
  /** Power-on timeout in ms (at most MAX_TIMER_MS: longer values are clamped). */
  timeout_ms: number;
  /** --once: a long-running command (listen) stops at the first fault (exit 1) instead of riding through it. */
  once: boolean;
  verbose: boolean;
  /** --host-flow-control: the Stack option host_flow_control. */
  host_flow_control: boolean;
  /** --chipset: the controller's vendor driver (baud-rate command, BD_ADDR); undefined = generic. */
  chipset: PortChipsetName | undefined;
  /** --keys FILE: the link key store; undefined: the default (keys.ts: default_key_file). */
  keys: string | undefined;
  /** How this host pairs (--io, --yes, --pin, --sc, --ssp). */
  pairing: PairingOptions;
  /** Positional arguments and command flags, in order. */
  rest: string[];
  errors: string[];
  help: boolean;
}

/** Every common flag (ports/options.ts: --port/-u, --baud/-b, --log/-l, -f, ...) and the CLI's own. */
const CLI_FLAGS: FlagSpec = {
  ...COMMON_FLAGS,
  timeout: { type: 'string' },
  once: { type: 'boolean' },
  'host-flow-control': { type: 'boolean' },
  keys: { type: 'string' },
  io: { type: 'string' },
  yes: { type: 'boolean' },
  pin: { type: 'string' },
  sc: { type: 'string' },
  ssp: { type: 'string' },
};

/** --io values and their SSP IO capability (Core Vol 4 Part E 7.1.29). */
export const IO_CAPABILITIES = {
  'display-only': SSP_IO_CAPABILITY_DISPLAY_ONLY,
  'display-yes-no': SSP_IO_CAPABILITY_DISPLAY_YES_NO,
  'keyboard-only': SSP_IO_CAPABILITY_KEYBOARD_ONLY,
  'no-io': SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT,
} as const;

/** The pairing flags common to every command. */
export interface PairingOptions {
  /** --io: SSP IO capability (default no-io: Just Works). */
  io: number;
  /** --io as given (for messages), 'no-io' by default. */
  io_name: keyof typeof IO_CAPABILITIES;
  /** --yes: accept a Numeric Comparison without asking. */
  yes: boolean;
  /** --pin: answer for legacy PIN pairing (1..16 characters). */
  pin: string | undefined;
  /** --sc on|off: Secure Connections (default on). */
  sc: boolean;
  /** --ssp on|off: Secure Simple Pairing (default on; off: legacy PIN pairing only). */
  ssp: boolean;
}

const check_io = (v: string): keyof typeof IO_CAPABILITIES | { problem: string } =>
  Object.prototype.hasOwnProperty.call(IO_CAPABILITIES, v)
    ? (v as keyof typeof IO_CAPABILITIES)
    : { problem: `expected ${Object.keys(IO_CAPABILITIES).join(', ')}, got '${v}'` };

const check_on_off = (v: string): boolean | { problem: string } =>
  v === 'on' ? true : v === 'off' ? false : { problem: `expected on or off, got '${v}'` };

const check_pin = (v: string): string | { problem: string } =>
  v.length >= 1 && Buffer.byteLength(v) <= 16 ? v : { problem: `a PIN has 1 to 16 characters, got '${v}'` };

export function parse_cli_options(argv: readonly string[]): CliOptions {
  const p = parse_flags(argv, CLI_FLAGS, { unknown: 'rest' });
  const port = port_options_from_flags(p, { chipset: true, detect: true });
  const io = read_flag(p, 'io', check_io) ?? 'no-io';
  return {
    port,
    profile: read_flag(p, 'profile', check_profile) ?? 'v1.4',
    // the run loop's timers hold at most 2^31-1 ms (Node's setTimeout): longer is clamped, not overflowed
    timeout_ms: Math.min(read_flag(p, 'timeout', check_int(1, Number.MAX_SAFE_INTEGER, 'milliseconds')) ?? 3000, 0x7fffffff),
    once: flag_given(p, 'once'),
    verbose: flag_given(p, 'verbose'),
    host_flow_control: flag_given(p, 'host-flow-control'),
    keys: read_flag(p, 'keys', check_path('key file path')),
    pairing: {
      io: IO_CAPABILITIES[io],
      io_name: io,
      yes: flag_given(p, 'yes'),
      pin: read_flag(p, 'pin', check_pin),
      sc: read_flag(p, 'sc', check_on_off) ?? true,
      ssp: read_flag(p, 'ssp', check_on_off) ?? true,
    },
    chipset: port.chipset,
    rest: p.rest,
    errors: p.errors,
    help: port.help,
  };
}

export const COMMON_USAGE = `common options:
  --port PORT, -u PORT   the controller (default: an in-process virtual controller, with a
                         virtual peer device at C0:FF:EE:00:00:02): a serial device (/dev/ttyACM0,
                         H4), hci0 (Linux HCI user channel), usb, usb:VID:PID or usb:BUS-PORTS
                         (libusb), or auto (the only one bthost list finds)
  --baud N, -b N         initial UART speed (default 115200, or the chipset's)
  --no-flow              no RTS/CTS hardware flow control
  --h5                   H5 (Three-wire UART) instead of H4 on a serial port: for UARTs without
                         RTS/CTS; the link (SYNC / CONFIG) must come up within 2 s
  --chipset C            bcm (Broadcom/Cypress, e.g. a Raspberry Pi's) or zephyr (hci_uart)
  --main-baud N          switch the UART to N after Reset (the chipset's baud-rate command: a
                         detected or --chipset bcm driver; a chipset without one: exit 1)
  --log FILE, -l FILE    write a packet log (open it in Wireshark)
  --format F, -f F       packet log format: btsnoop (default) or pklg
  --profile P            BTstack event codes: v1.4 (default) or v1.8
  --timeout MS           wait this long for the controller at power on (default 3000; at most
                         2147483647, about 24.8 days: longer values are clamped)
  --once                 listen and other long-running commands stop at the first fault (exit 1)
                         instead of riding through it
  --host-flow-control    controller-to-host flow control: announce the host's ACL buffers
                         (Host Buffer Size) and return them (Host Number Of Completed Packets)
  -v, --verbose          print every BTstack event the stack receives

pairing options (every command that makes links):
  --keys FILE            keep link keys and LE bonds in FILE (default with --port: ~/.bthost/bthost_<BD_ADDR>.tlv,
                         one file per controller, $BTHOST_KEYS_DIR overrides the directory;
                         without --port: in memory only)
  --io CAP               display-yes-no, display-only, keyboard-only or no-io (default: Just Works)
  --yes                  accept a Numeric Comparison without asking
  --pin PIN              the PIN for legacy pairing (peers without Secure Simple Pairing)
  --sc on|off            Secure Connections (default on)
  --ssp on|off           Secure Simple Pairing (default on; off: legacy PIN pairing)`;

/**
 * A byte count: 1000, 64k / 64K (KiB), 1m / 1M (MiB). Returns NaN when malformed.
 */
export function parse_size(s: string | undefined): number {
  const m = /^(\d+)([kKmM]?)$/.exec(s ?? '');
  if (!m) return NaN;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  return unit === 'k' ? n * 1024 : unit === 'm' ? n * 1024 * 1024 : n;
}

/** A PSM in decimal or 0x hex; odd, bit 8 of the most significant octet clear (Core Vol 3 Part A 4.2). */
export function parse_psm(s: string | undefined): number | string {
  if (s === undefined) return 'missing PSM';
  const n = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 0xffff) return `PSM must be a number 0x0001..0xffff, got '${s}'`;
  if ((n & 1) === 0 || (n & 0x100) !== 0)
    return `PSM 0x${n.toString(16)} is not valid: the low octet must be odd and the high octet even`;
  return n;
}

/**
 * A command's own flags (`--name value`, `--name=value`, `-x value`, `-xVALUE`, switches), parsed by
 * ports/options.ts's parse_flags; an unknown option is an error (`unknown option X`).
 */
export class Flags {
  readonly positional: string[];
  readonly errors: string[];
  private readonly values: Map<string, string | true>;

  constructor(argv: readonly string[], valued: readonly string[], booleans: readonly string[]) {
    const spec: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
    const add = (flag: string, type: 'string' | 'boolean') => {
      if (/^-[^-]$/.test(flag)) spec[flag[1]!] = { type, short: flag[1]! };
      else spec[flag.replace(/^--/, '')] = { type };
    };
    for (const f of valued) add(f, 'string');
    for (const f of booleans) add(f, 'boolean');
    const p = parse_flags(argv, spec);
    this.positional = p.positionals;
    this.errors = p.errors;
    this.values = new Map([...p.values].map(([k, v]) => [k.length === 1 ? `-${k}` : `--${k}`, v]));
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  get(...names: string[]): string | undefined {
    for (const n of names) {
      const v = this.values.get(n);
      if (typeof v === 'string') return v;
    }
    return undefined;
  }
}
