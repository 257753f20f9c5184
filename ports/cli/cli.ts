#!/usr/bin/env node
/**
 * `bthost` command-line tool: `npx bthost <command> [arguments] [options]`.
 * Every command runs on a controller named by `--port` (a serial H4 port, hci0, usb, auto) or, without a port, on an
 * in-process virtual controller that shares its radio with a virtual peer device
 * (C0:FF:EE:00:00:02, see ports/cli/virtual-peer.ts). `controller --listen` serves virtual
 * controllers on a socket for other processes (ports/virtual/cli.ts).
 */
import { COMMON_USAGE, parse_cli_options } from './options.js';
import { EXIT_USAGE } from './usage.js';

const USAGE = `usage: bthost <command> [arguments] [options]

commands:
  info                      controller version, manufacturer, BD_ADDR, features, buffers, commands
  scan                      classic inquiry and LE scan: a live table of devices
  l2ping ADDR               L2CAP echo requests with round-trip times
  l2cap listen PSM          accept an L2CAP channel: a byte stream on stdin/stdout, or throughput
  l2cap connect ADDR PSM    open an L2CAP channel (same modes)
  le-cbm listen SPSM        advertise and accept an LE credit-based channel (same modes)
  le-cbm connect ADDR SPSM  connect over LE and open an LE credit-based channel (same modes)
  spp listen                Serial Port Profile server (RFCOMM + SDP record)
  spp connect ADDR          find the SPP service by SDP and connect over RFCOMM
  gatt ADDR                 LE GATT client: list services and characteristics; --read H,
                            --write H HEX, --notify H
  gatt compile FILE.gatt    compile a BTstack .gatt file into a TypeScript att_db module
  advertise                 LE advertising (--name NAME, --connectable: a GATT server)
  pair ADDR                 bond with a classic device (pair --listen: wait for one to bond)
  keys [list|delete ADDR]   the stored link keys (--keys FILE, or the per-controller files)
  controller --listen ADDR  serve virtual controllers on unix:PATH or tcp:127.0.0.1:PORT
  list                      the controllers on this machine and the --port for each

'bthost <command> --help' shows a command's own options.

${COMMON_USAGE}

Without --port, the command runs on an in-process virtual controller (C0:FF:EE:00:00:01) next to
a virtual peer at C0:FF:EE:00:00:02 named "bthost virtual peer": L2CAP echo on PSM 0x1001,
discard on PSM 0x1003, SPP echo on RFCOMM channel 1 and discard on channel 2, an LE GATT server
(device name, battery level, a notifying counter at 0x000C, a writable note at 0x000F); and a classic
"bthost virtual headset" at C0:FF:EE:00:00:03 without services or a name in its inquiry response.

${EXIT_USAGE}
`;

type Main = (argv: string[]) => Promise<number>;

/** `bthost gatt SUB ...`: one file per subcommand (ports/cli/gatt-*.ts); add new ones here. */
const GATT_SUBCOMMANDS: Record<string, () => Promise<Main>> = {
  compile: async () => (await import('./gatt-compile.js')).gatt_compile_main,
};

async function gatt_main(argv: string[]): Promise<number> {
  const load = GATT_SUBCOMMANDS[argv[0] ?? ''];
  if (load) return (await load())(argv.slice(1));
  // not a subcommand: `bthost gatt ADDR [--read H | --write H HEX | --notify H]` (ports/cli/gatt.ts)
  const { gatt_client_main } = await import('./gatt.js');
  return withOptions(argv, gatt_client_main, 'gatt');
}

const COMMANDS: Record<string, () => Promise<Main>> = {
  info: async () => {
    const { info_main } = await import('./info.js');
    return (argv) => withOptions(argv, info_main, 'info');
  },
  scan: async () => {
    const { scan_main } = await import('./scan.js');
    return (argv) => withOptions(argv, scan_main, 'scan');
  },
  l2ping: async () => {
    const { l2ping_main } = await import('./l2ping.js');
    return (argv) => withOptions(argv, l2ping_main, 'l2ping');
  },
  l2cap: async () => {
    const { l2cap_main } = await import('./l2cap.js');
    return (argv) => withOptions(argv, l2cap_main, 'l2cap');
  },
  'le-cbm': async () => {
    const { le_cbm_main } = await import('./le-cbm.js');
    return (argv) => withOptions(argv, le_cbm_main, 'le-cbm');
  },
  spp: async () => {
    const { spp_main } = await import('./spp.js');
    return (argv) => withOptions(argv, spp_main, 'spp');
  },
  gatt: () => Promise.resolve(gatt_main),
  advertise: async () => {
    const { advertise_main } = await import('./advertise.js');
    return (argv) => withOptions(argv, advertise_main, 'advertise');
  },
  pair: async () => {
    const { pair_main } = await import('./pair.js');
    return (argv) => withOptions(argv, pair_main, 'pair');
  },
  keys: async () => {
    const { keys_main } = await import('./keys.js');
    return (argv) => withOptions(argv, keys_main, 'keys');
  },
  list: async () => {
    const { list_main } = await import('./list.js');
    return (argv) => list_main(argv);
  },
  controller: async () => {
    const { controller_main } = await import('../virtual/cli.js');
    return controller_main;
  },
};

/** Parse the common options; print errors / help the same way for every command. */
async function withOptions(
  argv: string[],
  main: (o: ReturnType<typeof parse_cli_options>) => Promise<number>,
  name: string,
): Promise<number> {
  const o = parse_cli_options(argv);
  if (o.help) {
    const usage = (await import('./usage.js')).command_usage(name);
    process.stdout.write(`${usage}\n\n${COMMON_USAGE}\n\n${(await import('./usage.js')).EXIT_USAGE}\n`);
    return 0;
  }
  if (o.errors.length) {
    process.stderr.write(`bthost ${name}: ${o.errors[0]} (bthost ${name} --help for usage)\n`);
    return 2;
  }
  return main(o);
}

async function cli(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!cmd) {
    process.stderr.write('usage: bthost <command> [arguments] [options] (bthost --help lists the commands)\n');
    return 2;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    process.stderr.write(`bthost: unknown command '${cmd}' (bthost --help lists the commands)\n`);
    return 2;
  }
  const main = await load();
  return main(rest);
}

cli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bthost: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(70);
  },
);
