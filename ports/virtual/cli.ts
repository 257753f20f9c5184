/**
 * `bthost controller --listen unix:PATH|tcp:HOST:PORT [--baud N] [--seed S] [--latency MS]
 * [--bandwidth BPS] [--acl-to-host-max N]`: serve virtual controllers on one radio link, one per
 * connection.
 */
import { bd_addr_to_str } from '../../src/core/bytes.js';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/link.js';
import { serve_controllers } from './server.js';

export const CONTROLLER_USAGE =
  'usage: bthost controller --listen unix:PATH|tcp:HOST:PORT [--baud N] [--seed S] [--latency MS] [--bandwidth BPS]\n' +
  '                         [--acl-to-host-max N]\n' +
  '\n' +
  'Serves a simulated Bluetooth radio: every connection to the socket gets its own virtual\n' +
  'controller (own BD_ADDR) speaking H4. Make a serial device of a connection with\n' +
  '  socat pty,raw,echo=0,link=/tmp/ttyV0 UNIX-CONNECT:PATH\n' +
  '\n' +
  '  --acl-to-host-max N  hand ACL data to the host in packets of up to N bytes (1..65535): each\n' +
  '                       L2CAP PDU joined up to that size, as a controller reassembling PDUs;\n' +
  '                       never above the length the host announced (Host Buffer Size).\n' +
  '                       Default: the air packet size (1021).\n';

interface Args {
  listen: string;
  baud?: number;
  seed?: string;
  latency?: number;
  bandwidth?: number;
  acl_to_host_max?: number;
}

function parseArgs(argv: string[]): Args | string {
  const out: Partial<Args> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    const num = (name: string): number | string => {
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n) || n < 0) return `${name} needs a non-negative number`;
      i++;
      return n;
    };
    let r: number | string;
    switch (a) {
      case '--listen':
      case '-l':
        if (!v) return '--listen needs an address';
        out.listen = v;
        i++;
        break;
      case '--baud':
      case '-b':
        if (typeof (r = num('--baud')) === 'string') return r;
        if (r === 0) return '--baud must be positive';
        out.baud = r;
        break;
      case '--seed':
        if (v === undefined) return '--seed needs a value';
        out.seed = v;
        i++;
        break;
      case '--latency':
        if (typeof (r = num('--latency')) === 'string') return r;
        out.latency = r;
        break;
      case '--bandwidth':
        if (typeof (r = num('--bandwidth')) === 'string') return r;
        out.bandwidth = r;
        break;
      case '--acl-to-host-max':
        if (typeof (r = num('--acl-to-host-max')) === 'string') return r;
        if (!Number.isInteger(r) || r < 1 || r > 0xffff) return '--acl-to-host-max must be an integer in 1..65535';
        out.acl_to_host_max = r;
        break;
      default:
        return `unknown option '${a}'`;
    }
  }
  if (!out.listen) return '--listen is required';
  return out as Args;
}

/** Run the controller server until SIGINT / SIGTERM; resolves with the exit code. */
export async function controller_main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(CONTROLLER_USAGE);
    return 0;
  }
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`bthost controller: ${args}\n${CONTROLLER_USAGE}`);
    return 2;
  }
  const loop = new NodeRunLoop();
  const link = new RadioLink(loop, { seed: args.seed, latency_ms: args.latency, bandwidth_bps: args.bandwidth });
  let server;
  try {
    server = await serve_controllers(link, args.listen, {
      baud: args.baud,
      ...(args.acl_to_host_max ? { controller: { acl_to_host_max: args.acl_to_host_max } } : {}),
      on_connect: (c) => process.stdout.write(`controller ${c.index} ${bd_addr_to_str(c.bd_addr)} connected\n`),
      on_disconnect: (c) => process.stdout.write(`controller ${c.index} ${bd_addr_to_str(c.bd_addr)} disconnected\n`),
    });
  } catch (err) {
    process.stderr.write(`bthost controller: cannot listen on ${args.listen}: ${(err as Error).message}\n`);
    return 1;
  }
  const where = server.port !== undefined ? `tcp:${server.listen.kind === 'tcp' ? server.listen.host : ''}:${server.port}` : args.listen;
  const acl = args.acl_to_host_max ? `, ACL to the host up to ${args.acl_to_host_max} bytes` : '';
  process.stdout.write(`listening on ${where}${args.baud ? ` at ${args.baud} baud` : ''}${acl}\n`);
  const stop = (): void => {
    void server.close().then(() => loop.trigger_exit());
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await loop.execute();
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  return 0;
}
