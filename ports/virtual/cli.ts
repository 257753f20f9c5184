/**
 * `bthost controller --listen unix:PATH|tcp:HOST:PORT [--baud N] [--seed S] [--latency MS]
 * [--bandwidth BPS] [--acl-to-host-max N] [--acl-loss PCT[:PCT[:SEED]]] [--fault SPECS] [--control unix:PATH] [--bcm]
 * [--h5 [--line-errors PCT[:BURST[:SEED]]]] [--acl-size N]`: serve virtual
 * controllers on one radio link, one per connection; faults from fault-spec.ts.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { bd_addr_to_str } from '../../src/core/bytes.js';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/link.js';
import { serve_control } from './fault-control.js';
import { parse_fault_specs, type FaultSpec } from './fault-spec.js';
import { serve_controllers } from './server.js';
import { check_baud, check_int, flag_string, parse_flags, pick_flags, read_flag, type FlagSpec } from '../options.js';

export const CONTROLLER_USAGE =
  'usage: bthost controller --listen unix:PATH|tcp:HOST:PORT [--baud N] [--seed S] [--latency MS] [--bandwidth BPS]\n' +
  '                         [--acl-to-host-max N] [--acl-loss PCT[:PCT[:SEED]]] [--fault SPECS] [--control unix:PATH]\n' +
  '                         [--bcm] [--h5 [--line-errors PCT[:BURST[:SEED]]]] [--acl-size N]\n' +
  '\n' +
  'Serves a simulated Bluetooth radio: every connection to the socket gets its own virtual\n' +
  'controller (own BD_ADDR) speaking H4. Make a serial device of a connection with\n' +
  '  socat pty,raw,echo=0,link=/tmp/ttyV0 UNIX-CONNECT:PATH\n' +
  '\n' +
  '  --acl-to-host-max N  hand ACL data to the host in packets of up to N bytes (1..65535): each\n' +
  '                       L2CAP PDU joined up to that size, as a controller reassembling PDUs;\n' +
  '                       never above the length the host announced (Host Buffer Size).\n' +
  '                       Default: the air packet size (1021).\n' +
  '  --acl-loss DROP[:CORRUPT[:SEED]]  lose DROP % of the ACL data packets (L2CAP PDUs to dynamic\n' +
  '                       channels) every host sends on the air and deliver CORRUPT % with a\n' +
  '                       flipped byte, drawn from SEED (default 1): the same seed loses the same\n' +
  '                       packets; signalling passes (ERTM retransmission tests)\n' +
  '  --fault SPECS        inject faults into every controller as it connects (testing), SPECS =\n' +
  '                       [cN:]ACTION[@MS][,...]: fail=CMD:STATUS[:COUNT], swallow=CMD[:COUNT],\n' +
  '                       drop-acl=N, corrupt-acl=N, delay-acl=MS[:N], stall-nocp, release-nocp,\n' +
  '                       inflate-nocp=COUNT[:TIMES], credits=N[:TIMES], hardware-error[=CODE],\n' +
  '                       crash[=CODE], drop-link=HANDLE, stray=HEX, framing-error, silent, talk, unplug,\n' +
  '                       clear (ports/virtual/fault-spec.ts)\n' +
  '  --control unix:PATH  a control socket: a line of SPECS applies them now (answer `ok N`),\n' +
  '                       `list` answers `controllers INDEX ADDR ...`\n' +
  '  --bcm                pose as a Broadcom BCM43430A1 UART chip (manufacturer 0x000F, LMP subversion\n' +
  '                       0x2209) taking a .hcd patch download (Download Minidriver, Write RAM, Launch\n' +
  '                       RAM); reports LMP subversion 0x4209 after it\n' +
  '  --h5                 speak H5 (Three-wire UART: SLIP frames, SYNC / CONFIG, acknowledged and\n' +
  '                       retransmitted packets) instead of H4; hosts connect with --h5\n' +
  '  --line-errors PCT[:BURST[:SEED]]  with --h5: lose or corrupt PCT % of the bytes both ways, in\n' +
  '                       bursts of BURST bytes (default 1), drawn from SEED (default 1; controller n\n' +
  '                       uses SEED + n): the same seed damages the same bytes\n' +
  '  --acl-size N         ACL buffer size the controllers announce (27..1021, default 1021): small\n' +
  '                       frames for a lossy H5 line\n';

/** `--bcm`: what a Raspberry Pi 3's BCM43430A1 answers before its patch (manufacturer, LMP subversion, name). */
const BCM_POSE = {
  manufacturer: 0x000f,
  lmp_subversion: 0x2209,
  name: 'BCM43430A1',
  bcm: { patched_lmp_subversion: 0x4209 },
} as const;

interface Args {
  listen: string;
  baud?: number;
  seed?: string;
  latency?: number;
  bandwidth?: number;
  acl_to_host_max?: number;
  faults?: FaultSpec[];
  control?: string;
  acl_loss?: { drop: number; corrupt: number; seed: number };
  bcm?: boolean;
  h5?: boolean;
  line_errors?: { rate: number; burst: number; seed: number };
  acl_size?: number;
}

/** `--baud`/`-b` is the common UART-speed flag (ports/options.ts); `-l` is the log file everywhere, so --listen has no short form. */
const CONTROLLER_FLAGS: FlagSpec = {
  ...pick_flags('baudrate', 'help'),
  listen: { type: 'string' },
  seed: { type: 'string' },
  latency: { type: 'string' },
  bandwidth: { type: 'string' },
  'acl-to-host-max': { type: 'string' },
  fault: { type: 'string' },
  'acl-loss': { type: 'string' },
  control: { type: 'string' },
  bcm: { type: 'boolean' },
  h5: { type: 'boolean' },
  'line-errors': { type: 'string' },
  'acl-size': { type: 'string' },
};

/** `PCT[:BURST[:SEED]]`: PCT in 0..50 (% of bytes), BURST 1..4096 bytes, SEED a 32-bit integer. */
export function parse_line_errors(v: string): { rate: number; burst: number; seed: number } | { problem: string } {
  const parts = v.split(':');
  const pct = Number(parts[0]);
  const burst = parts[1] === undefined || parts[1] === '' ? 1 : Number(parts[1]);
  const seed = parts[2] === undefined ? 1 : Number(parts[2]);
  if (parts.length > 3 || parts[0] === '' || !Number.isFinite(pct) || pct < 0 || pct > 50)
    return { problem: `expected PCT[:BURST[:SEED]] with PCT in 0..50 (percent of bytes), got '${v}'` };
  if (!Number.isInteger(burst) || burst < 1 || burst > 4096) return { problem: `bad burst length in '${v}' (1..4096 bytes)` };
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) return { problem: `bad seed in '${v}'` };
  return { rate: pct / 100, burst, seed };
}

/** `DROP[:CORRUPT[:SEED]]`, percentages 0..100 (together at most 100), SEED a 32-bit integer. */
export function parse_acl_loss(v: string): { drop: number; corrupt: number; seed: number } | { problem: string } {
  const parts = v.split(':');
  const pct = (x: string | undefined): number => (x === undefined || x === '' ? 0 : Number(x));
  const drop = pct(parts[0]);
  const corrupt = pct(parts[1]);
  const seed = parts[2] === undefined ? 1 : Number(parts[2]);
  const okPct = (n: number): boolean => Number.isFinite(n) && n >= 0 && n <= 100;
  if (parts.length > 3 || parts[0] === '' || !okPct(drop) || !okPct(corrupt) || drop + corrupt > 100)
    return { problem: `expected DROP[:CORRUPT[:SEED]] in percent (0..100), got '${v}'` };
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) return { problem: `bad seed in '${v}'` };
  return { drop: drop / 100, corrupt: corrupt / 100, seed };
}

const nonNegative = (v: string): number | { problem: string } => {
  const n = Number(v);
  return v !== '' && Number.isFinite(n) && n >= 0 ? n : { problem: `expected a non-negative number, got '${v}'` };
};

function parseControllerArgs(argv: readonly string[]): Args | string {
  const p = parse_flags(argv, CONTROLLER_FLAGS, { positionals: false });
  const out: Args = {
    listen: flag_string(p, 'listen') ?? '',
    baud: read_flag(p, 'baudrate', check_baud),
    seed: flag_string(p, 'seed'),
    latency: read_flag(p, 'latency', nonNegative),
    // 0 would mean "no limit" to the radio: leaving --bandwidth out says that
    bandwidth: read_flag(p, 'bandwidth', (v) => {
      const n = nonNegative(v);
      return n === 0 ? { problem: `expected a positive number of bits per second, got '${v}' (leave it out for no limit)` } : n;
    }),
    acl_to_host_max: read_flag(p, 'acl-to-host-max', check_int(1, 0xffff, 'an integer in 1..65535')),
    faults: read_flag(p, 'fault', (v) => {
      const f = parse_fault_specs(v);
      return typeof f === 'string' ? { problem: f } : f;
    }),
    control: flag_string(p, 'control'),
    acl_loss: read_flag(p, 'acl-loss', parse_acl_loss),
    bcm: p.values.has('bcm'),
    h5: p.values.has('h5'),
    line_errors: read_flag(p, 'line-errors', parse_line_errors),
    acl_size: read_flag(p, 'acl-size', check_int(27, 1021, 'an integer in 27..1021')),
  };
  if (p.errors.length) return p.errors[0]!;
  if (out.line_errors && !out.h5)
    return '--line-errors needs --h5 (H4 has no retransmission: every damaged byte breaks the stream)';
  if (!out.listen) return '--listen is required';
  return out;
}

/** Why listening failed: a unix socket's missing directory by name (Node reports EACCES for it). */
function listen_problem(listen: string, err: Error): string {
  if (listen.startsWith('unix:')) {
    const dir = dirname(listen.slice(5));
    if (!existsSync(dir)) return `the directory ${dir} does not exist (ENOENT)`;
  }
  return err.message;
}

/** Run the controller server until SIGINT / SIGTERM; resolves with the exit code. */
export async function controller_main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    // before the other checks: --help wins over a bad option
    process.stdout.write(CONTROLLER_USAGE);
    return 0;
  }
  const args = parseControllerArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`bthost controller: ${args} (bthost controller --help for usage)\n`);
    return 2;
  }
  const loop = new NodeRunLoop();
  const link = new RadioLink(loop, {
    seed: args.seed,
    latency_ms: args.latency,
    bandwidth_bps: args.bandwidth,
    ...(args.acl_loss ? { acl_loss: args.acl_loss } : {}),
  });
  let server;
  try {
    server = await serve_controllers(link, args.listen, {
      baud: args.baud,
      controller: {
        ...(args.acl_to_host_max ? { acl_to_host_max: args.acl_to_host_max } : {}),
        ...(args.bcm ? BCM_POSE : {}),
        ...(args.acl_size ? { acl_size: args.acl_size } : {}),
      },
      ...(args.h5 ? { h5: args.line_errors ? { line_errors: args.line_errors } : true } : {}),
      ...(args.faults ? { faults: args.faults } : {}),
      on_connect: (c) => process.stdout.write(`controller ${c.index} ${bd_addr_to_str(c.bd_addr)} connected\n`),
      on_disconnect: (c) => process.stdout.write(`controller ${c.index} ${bd_addr_to_str(c.bd_addr)} disconnected\n`),
    });
  } catch (err) {
    process.stderr.write(`bthost controller: cannot listen on ${args.listen}: ${listen_problem(args.listen, err as Error)}\n`);
    return 1;
  }
  let control: import('node:net').Server | null = null;
  if (args.control) {
    try {
      control = await serve_control(server, args.control);
    } catch (err) {
      process.stderr.write(`bthost controller: cannot listen on ${args.control}: ${(err as Error).message}\n`);
      await server.close();
      return 1;
    }
  }
  const where =
    server.port !== undefined ? `tcp:${server.listen.kind === 'tcp' ? server.listen.host : ''}:${server.port}` : args.listen;
  const acl =
    (args.acl_to_host_max ? `, ACL to the host up to ${args.acl_to_host_max} bytes` : '') +
    (args.bcm ? ', posing as BCM43430A1 (patch download)' : '') +
    (args.acl_size ? `, ACL buffers of ${args.acl_size} bytes` : '') +
    (args.h5 ? ', H5' : '') +
    (args.line_errors
      ? ` with ${args.line_errors.rate * 100} % of bytes damaged (bursts of ${args.line_errors.burst}, seed ${args.line_errors.seed})`
      : '');
  const loss = args.acl_loss
    ? `, ACL loss ${args.acl_loss.drop * 100} % corrupt ${args.acl_loss.corrupt * 100} % seed ${args.acl_loss.seed}`
    : '';
  process.stdout.write(`listening on ${where}${args.baud ? ` at ${args.baud} baud` : ''}${acl}${loss}\n`);
  const stop = (): void => {
    control?.close();
    void server.close().then(() => loop.trigger_exit());
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await loop.execute();
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  return 0;
}
