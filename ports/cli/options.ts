/**
 * Options every `bthost` command takes, on top of BTstack's port flags (ports/main.ts):
 *
 *   --port TTY | -u TTY      H4 controller on a serial device (default: in-process virtual controller)
 *   --baud N   | -b N        initial UART speed
 *   --no-flow                no RTS/CTS flow control
 *   --log FILE | -l FILE     packet log; --format btsnoop|pklg (-f)
 *   --profile v1.4|v1.8      BTstack release of the event codes
 *   --timeout MS             how long to wait for the controller to answer at power on (default 3000)
 *   -v, --verbose            print every BTstack event the command's stack receives
 *   --host-flow-control      controller-to-host flow control (Host Buffer Size, Host Number Of Completed Packets)
 *
 * `parse_cli_options` is pure (no I/O); commands read their own flags from `rest`.
 */
import { parse_port_options, type PortOptions } from '../main.js';
import { is_code_profile, type CodeProfile } from '../../src/codes/index.js';

export interface CliOptions {
  port: PortOptions;
  profile: CodeProfile;
  /** Power-on timeout in ms. */
  timeout_ms: number;
  verbose: boolean;
  /** --host-flow-control: the Stack option host_flow_control. */
  host_flow_control: boolean;
  /** --chipset: the controller's vendor driver (baud-rate command, BD_ADDR); undefined = generic. */
  chipset: 'bcm' | 'zephyr' | undefined;
  /** Positional arguments and command flags, in order. */
  rest: string[];
  errors: string[];
  help: boolean;
}

const ALIASES: Record<string, string> = { '--port': '--tty', '--baud': '--baudrate', '--log': '--logfile' };

/** Map the CLI's long names onto the port parser's (`--port=X` too). */
function alias(arg: string): string {
  const eq = arg.indexOf('=');
  const key = eq >= 0 ? arg.slice(0, eq) : arg;
  const to = ALIASES[key];
  return to ? to + (eq >= 0 ? arg.slice(eq) : '') : arg;
}

export function parse_cli_options(argv: readonly string[]): CliOptions {
  const dash = argv.indexOf('--');
  const head = dash >= 0 ? argv.slice(0, dash) : argv;
  const port = parse_port_options([...head.map(alias), ...(dash >= 0 ? argv.slice(dash) : [])]);
  const o: CliOptions = { port, profile: 'v1.4', timeout_ms: 3000, verbose: false, host_flow_control: false, chipset: undefined, rest: [], errors: [...port.errors], help: port.help };
  const r = port.rest;
  for (let i = 0; i < r.length; i++) {
    const a = r[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const key = eq >= 0 ? a.slice(0, eq) : a;
    const take = (): string | undefined => (eq >= 0 ? a.slice(eq + 1) : r[++i]);
    if (key === '--profile') {
      const v = take();
      if (is_code_profile(v)) o.profile = v;
      else o.errors.push(`--profile: expected v1.4 or v1.8, got '${v ?? ''}'`);
    } else if (key === '--timeout') {
      const v = take();
      if (v !== undefined && /^\d+$/.test(v) && Number(v) > 0) o.timeout_ms = Number(v);
      else o.errors.push(`--timeout: expected milliseconds, got '${v ?? ''}'`);
    } else if (key === '--chipset') {
      const v = take();
      if (v === 'bcm' || v === 'zephyr') o.chipset = v;
      else o.errors.push(`--chipset: expected bcm or zephyr, got '${v ?? ''}'`);
    } else if (a === '-v' || a === '--verbose') o.verbose = true;
    else if (a === '--host-flow-control') o.host_flow_control = true;
    else o.rest.push(a);
  }
  return o;
}

export const COMMON_USAGE = `common options:
  --port TTY, -u TTY     H4 controller on serial device TTY (default: an in-process virtual
                         controller, with a virtual peer device at C0:FF:EE:00:00:02)
  --baud N, -b N         initial UART speed (default 115200, or the chipset's)
  --no-flow              no RTS/CTS hardware flow control
  --chipset C            bcm (Broadcom/Cypress, e.g. a Raspberry Pi's) or zephyr (hci_uart)
  --main-baud N          switch the UART to N after Reset (with --chipset bcm)
  --log FILE, -l FILE    write a packet log (open it in Wireshark)
  --format F, -f F       packet log format: btsnoop (default) or pklg
  --profile P            BTstack event codes: v1.4 (default) or v1.8
  --timeout MS           wait this long for the controller at power on (default 3000)
  --host-flow-control    controller-to-host flow control: announce the host's ACL buffers
                         (Host Buffer Size) and return them (Host Number Of Completed Packets)
  -v, --verbose          print every BTstack event the stack receives`;

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
  if ((n & 1) === 0 || (n & 0x100) !== 0) return `PSM 0x${n.toString(16)} is not valid: the low octet must be odd and the high octet even`;
  return n;
}

/** Command flags: `--name value`, `--name=value`, `-x value`, booleans. Unknown ones are errors. */
export class Flags {
  readonly positional: string[] = [];
  readonly errors: string[] = [];
  private readonly values = new Map<string, string>();
  private readonly present = new Set<string>();

  constructor(argv: readonly string[], valued: readonly string[], booleans: readonly string[]) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (!a.startsWith('-') || a === '-' || /^-\d/.test(a)) {
        this.positional.push(a);
        continue;
      }
      const eq = a.indexOf('=');
      const key = eq >= 0 ? a.slice(0, eq) : a;
      if (valued.includes(key)) {
        const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) this.errors.push(`${key}: missing value`);
        else this.values.set(key, v);
        this.present.add(key);
      } else if (booleans.includes(key) && eq < 0) {
        this.present.add(key);
      } else {
        this.errors.push(`unknown option ${a}`);
      }
    }
  }

  has(name: string): boolean {
    return this.present.has(name);
  }

  get(...names: string[]): string | undefined {
    for (const n of names) if (this.values.has(n)) return this.values.get(n);
    return undefined;
  }
}
