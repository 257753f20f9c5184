/**
 * The `main` every example shares, as BTstack's port/posix-h4/main.c does for its examples: it
 * parses the port flags, picks the transport, opens the packet log, creates the Stack, prints
 * every HCI event by name and "up and running at ADDR" once HCI is working, calls the example's
 * `btstack_main`, powers on, runs the run loop and exits with the example's code. The example
 * only registers its services and handlers (and, without `-u`, builds its virtual world):
 *
 *   example_main(import.meta.url, {
 *     name: 'l2cap-server',
 *     options: { once: { help: 'exit after the first channel closed' } },
 *     virtual_world: (run_loop, args) => ...,              // without -u: our transport (+ a peer)
 *     btstack_main(stack, ctx) { ...register services and handlers...; },
 *   });
 *
 * Command line: BTstack's port flags (ports/main.ts: -u TTY, -b BAUD, --main-baud, --chipset bcm|zephyr,
 * --no-flow, -l LOGFILE, -f btsnoop|pklg, --addr ADDR, -h), `--profile v1.4|v1.8` (the stack's code profile),
 * then the example's own options, declared as `--name VALUE` numbers (decimal or 0x hex, within
 * [min, max]) or `--name` flags. Bad options: one line on stderr (`NAME: PROBLEM (NAME --help for usage)`), exit 2; -h: the usage, exit 0. Parsed by ports/options.ts, the one option parser.
 *
 * Without -u the example's `virtual_world` provides the transport (an in-process virtual
 * controller, usually with a virtual peer on the same radio, whose address becomes `ctx.remote`
 * when --addr is not given); with -u the transport `open_port_transport` (ports/port-transport.ts)
 * names, as the CLI's --port: a serial port (serialport loaded only then) with the --chipset driver,
 * which the Stack uses for --main-baud (BCM's vendor baud-rate command after Reset), `hci0` (the HCI
 * user channel), `usb` / `usb:VID:PID` / `usb:BUS-PORTS` (libusb), `auto`; a port that cannot be had:
 * one line, exit 1 (2 for a malformed name). Over USB and the HCI user channel the chipset is
 * detected (ports/chipset-auto.ts: Realtek's firmware download on USB, `--firmware`; a problem:
 * one line, exit 1). --main-baud without a chipset that has one is an option error.
 *
 * Exit: `ctx.exit(code?)` powers off and leaves the run loop once HCI is off; the process exits
 * with `code` (default `ctx.exit_code`, which starts at 0). SIGINT / SIGTERM do `ctx.exit()`.
 * A failed power-on (BTSTACK_EVENT_POWERON_FAILED) exits with 1.
 *
 * Faults (ports/fault-watch.ts): an H4 framing error, a Hardware Error or the serial port lost is
 * printed as one line on stderr (`H4 framing error on WHERE: ...; the stack restarts`, `port lost:
 * ...; opening it again`); the stack powers on again (a lost port: reopened with backoff, 250 ms up
 * to every 4 s) and the example's services, registered in the stack, serve again once it is
 * WORKING (`up and running at ADDR` again). `--once` (an example's own "one session" option, or
 * the common one) makes the first fault end the program with exit code 1 instead.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { NodeRunLoop } from '../src/core/run-loop.js';
import { bd_addr_to_str, type BdAddr } from '../src/core/bytes.js';
import { format_event, type CodeProfile } from '../src/codes/index.js';
import {
  BTSTACK_EVENT_POWERON_FAILED,
  BTSTACK_EVENT_STATE,
  HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS,
  HCI_EVENT_PACKET,
  HCI_EVENT_TRANSPORT_PACKET_SENT,
  HCI_POWER_OFF,
  HCI_POWER_ON,
  HCI_STATE_OFF,
  HCI_STATE_WORKING,
} from '../src/codes/v1.4.js';
import { Stack } from '../src/stack.js';
import { btstack_init_default, type BtstackApi } from '../src/btstack.js';
import type { HciTransport } from '../src/hci/transport.js';
import type { HciTransportConfig } from '../src/hci/hci.js';
import type { BtstackChipset } from '../src/chipset/chipset.js';
import { parse_port_options, port_chipset, port_usage, type PortOptions } from './main.js';
import { FaultWatch } from './fault-watch.js';
import { poweron_failure_text } from './status-text.js';
import type { ChipsetBus } from './chipset-auto.js';
import {
  check_int,
  check_profile,
  COMMON_FLAGS,
  flag_given,
  parse_flags,
  read_flag,
  usage_error_line,
  type FlagDef,
} from './options.js';

/** One option of an example: `--NAME VALUE` (a number) when `value` is given, else a flag `--NAME`. */
export interface ExampleOptionSpec {
  /** Placeholder in the usage text (e.g. 'PSM'); makes the option take a number. */
  value?: string;
  /** Usage text (mention the default). */
  help: string;
  /** Accepted range of a number (default 0..0xffff). */
  min?: number;
  max?: number;
  /** Value when the option is not given (default 0). */
  default?: number;
}

export type ExampleOptionSpecs = Record<string, ExampleOptionSpec>;

/** Parsed example options: numbers for options with a value, booleans for flags. */
export type ExampleArgs<S extends ExampleOptionSpecs> = { [K in keyof S]: S[K] extends { value: string } ? number : boolean };

/** What `virtual_world` hands back: our transport, and the virtual peer's address if there is one. */
export interface VirtualWorld {
  transport: HciTransport;
  peer?: BdAddr;
}

export interface ExampleContext<A> {
  readonly stack: Stack;
  /** BTstack's free functions bound to the stack (hci_*, gap_*, l2cap_*, rfcomm_*, btstack_run_loop_*). */
  readonly bt: BtstackApi;
  /** The example's own options. */
  readonly args: A;
  /** The port flags as parsed. */
  readonly options: PortOptions;
  readonly profile: CodeProfile;
  /** --addr, else the virtual peer's address (undefined when neither). */
  readonly remote: BdAddr | undefined;
  /** True without -u (in-process virtual controller). */
  readonly virtual: boolean;
  /** True once exit() was called. */
  readonly exiting: boolean;
  /** The process exit code (default 0); exit() without an argument keeps it. */
  exit_code: number;
  /** Print an event by name (`L2CAP_EVENT_CHANNEL_OPENED status=0 ...`), as the helper does for HCI events. */
  print_event(packet: Uint8Array, size: number): void;
  /** Power off, then leave the run loop; the process exits with `code` (default: exit_code). */
  exit(code?: number): void;
}

export interface Example<S extends ExampleOptionSpecs = ExampleOptionSpecs> {
  /** Program name for the usage text. */
  name: string;
  /** The example's own options (without the leading --). */
  options?: S;
  /** --addr is required with -u (a client). */
  requires_addr?: boolean;
  /** Without -u: build the in-process world (our transport, peers on the same radio). */
  virtual_world(run_loop: NodeRunLoop, args: ExampleArgs<S>): VirtualWorld | Promise<VirtualWorld>;
  /**
   * BTstack's btstack_main: register services and handlers before power-on. A non-zero return
   * ends the program with that code without powering on.
   */
  btstack_main(stack: Stack, ctx: ExampleContext<ExampleArgs<S>>): number | void;
}

const PROFILE_USAGE = '--profile v1.4|v1.8    BTstack release of the event codes';
const ONCE_USAGE = '--once                 stop at the first controller fault (exit 1) instead of riding through it';
/** HCI events not printed: flow-control chatter, one per packet. */
const QUIET_EVENTS = new Set([HCI_EVENT_TRANSPORT_PACKET_SENT, HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS]);

function usageLine(name: string, spec: ExampleOptionSpec): string {
  return `${`--${name}${spec.value ? ` ${spec.value}` : ''}`.padEnd(23)}${spec.help}`;
}

/** Parse `rest` (what the port parser left) into the profile and the example's options. */
export function parse_example_args<S extends ExampleOptionSpecs>(
  rest: readonly string[],
  specs: S,
  errors: string[],
): { profile: CodeProfile; args: ExampleArgs<S>; once: boolean } {
  // the one option parser (ports/options.ts): --profile and --once as every example has them, then its own
  const flags: Record<string, FlagDef> = { profile: COMMON_FLAGS.profile, once: { type: 'boolean' } };
  for (const [name, spec] of Object.entries(specs)) flags[name] = { type: spec.value ? 'string' : 'boolean' };
  const p = parse_flags(rest, flags, { positionals: false });
  const args: Record<string, number | boolean> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (!spec.value) {
      args[name] = flag_given(p, name);
      continue;
    }
    const min = spec.min ?? 0;
    const max = spec.max ?? 0xffff;
    args[name] = read_flag(p, name, check_int(min, max, `a number ${min}..${max}`, true)) ?? spec.default ?? 0;
  }
  const profile = read_flag(p, 'profile', check_profile) ?? 'v1.4';
  errors.push(...p.errors);
  return { profile, args: args as ExampleArgs<S>, once: flag_given(p, 'once') };
}

/**
 * BTstack's port main for `example`: returns the process exit code (0 ok, 1 failure, 2 bad
 * options). `argv` without node and the script (process.argv.slice(2)).
 */
export async function btstack_main_run<S extends ExampleOptionSpecs>(
  argv: readonly string[],
  example: Example<S>,
): Promise<number> {
  const specs = (example.options ?? {}) as S;
  const opts = parse_port_options(argv, { chipset: true });
  const errors = [...opts.errors];
  const { profile, args, once } = parse_example_args(opts.rest, specs, errors);
  if (example.requires_addr && opts.tty && !opts.addr) errors.push('--addr XX:XX:XX:XX:XX:XX is required with -u');
  if (errors.length && !opts.help) {
    // a usage error is one line, as in every bthost program (the CLI, the demo, the benchmarks)
    console.error(usage_error_line(example.name, errors[0]!, `${example.name} --help for usage`));
    return 2;
  }
  if (opts.help) {
    const extra = [
      ...Object.entries(specs).map(([name, spec]) => usageLine(name, spec)),
      PROFILE_USAGE,
      ...(specs['once'] ? [] : [ONCE_USAGE]),
    ];
    console.error(port_usage(example.name, extra));
    return 0;
  }

  // ---- transport: the serial port (-u), else the example's virtual world
  const run_loop = new NodeRunLoop();
  let transport: HciTransport;
  let transport_config: HciTransportConfig | undefined;
  let chipset: BtstackChipset | undefined;
  let remote = opts.addr;
  let host_flow_control = false;
  let bus: ChipsetBus = 'virtual';
  if (opts.tty) {
    // a serial path, hci0 / hci:0, usb / usb:VID:PID / usb:BUS-PORTS, or auto, as the CLI's --port
    const { open_port_transport } = await import('./port-transport.js');
    chipset = port_chipset(opts);
    const port = await open_port_transport(opts, chipset);
    if ('error' in port) {
      console.error(`${example.name}: ${port.error}`);
      return port.exit;
    }
    transport = port.transport;
    transport_config = port.config as unknown as HciTransportConfig | undefined;
    host_flow_control = port.host_flow_control; // the HCI user channel reads at most 1019-byte ACL packets
    bus = port.bus;
  } else {
    const world = await example.virtual_world(run_loop, args);
    transport = world.transport;
    remote ??= world.peer;
  }

  // the fault watcher sees the transport's events before HCI does (a lost port names its cause)
  let faults: FaultWatch | null = null;
  let openError: string | null = null;
  const inner = transport;
  const watched: HciTransport = {
    name: inner.name,
    init: (rl) => inner.init(rl),
    register_packet_handler: (h) => inner.register_packet_handler(h),
    register_event_handler: (h) =>
      inner.register_event_handler((ev) => {
        if (ev.type === 'open-failed') openError = ev.error;
        faults?.transport_event(ev);
        h(ev);
      }),
    open: () => inner.open(),
    close: () => inner.close(),
    can_send_packet_now: (type) => inner.can_send_packet_now(type),
    send_packet: (type, p, size) => inner.send_packet(type, p, size),
    ...(inner.set_baudrate ? { set_baudrate: (baud: number) => inner.set_baudrate!(baud) } : {}),
    ...(inner.max_acl_receive_length ? { max_acl_receive_length: () => inner.max_acl_receive_length!() } : {}),
  };
  const stack = new Stack({
    transport: watched,
    run_loop,
    profile,
    transport_config,
    host_flow_control,
    ...(chipset ? { chipset } : {}),
  });
  if (opts.log_file) {
    const err = stack.open_packet_log(opts.log_file, opts.log_format);
    if (err) console.error(`cannot write packet log ${opts.log_file} (error ${err})`);
    else console.log(`packet log: ${opts.log_file} (${opts.log_format})`);
  }
  const codes = stack.codes;
  const bt = btstack_init_default(stack);
  // a fault is never silent: one line (FaultWatch's cause), then the stack restarts or the port reopens
  stack.hci.hci_set_framing_error_callback((message) => faults?.framing_error(message));

  let exiting = false;
  const ctx: ExampleContext<ExampleArgs<S>> = {
    stack,
    bt,
    args,
    options: opts,
    profile,
    remote,
    virtual: !opts.tty,
    get exiting() {
      return exiting;
    },
    exit_code: 0,
    print_event: (packet, size) => console.log(format_event(codes, packet, size)),
    exit(code?: number) {
      if (code !== undefined) ctx.exit_code = code;
      if (exiting) return;
      exiting = true;
      faults?.stop();
      if (bt.hci_get_state() === HCI_STATE_OFF) bt.btstack_run_loop_trigger_exit();
      else bt.hci_power_control(HCI_POWER_OFF);
    },
  };

  if (bus === 'usb' || bus === 'hci') {
    const { ChipsetAuto } = await import('./chipset-auto.js');
    new ChipsetAuto(stack.hci, {
      bus,
      ...(opts.firmware !== undefined ? { firmware: opts.firmware } : {}),
      on_warning: (m) => console.error(m),
      on_error: (m) => {
        console.error(m);
        ctx.exit(1);
      },
    });
  }

  const stopAtFault =
    once || (typeof (args as Record<string, unknown>)['once'] === 'boolean' && !!(args as Record<string, boolean>)['once']);
  faults = new FaultWatch(stack.hci, run_loop, {
    where: opts.tty ?? 'the virtual controller',
    reopen: true,
    on_down: (cause) => {
      if (exiting) return;
      if (stopAtFault) {
        console.error(`${cause}: stopping (--once)`);
        ctx.exit(1);
        return;
      }
      console.error(`${cause}; ${faults!.port_lost ? 'opening it again' : 'the stack restarts'}`);
    },
    on_up: () => console.error('the controller is back: serving again'),
    on_retry: (attempt, ms) => {
      if (attempt === 1 || attempt % 10 === 0)
        console.error(`opening ${opts.tty ?? 'the port'} again in ${ms} ms (attempt ${attempt})`);
    },
  });

  // main.c's handler comes first: the example's handlers see each event after it was printed
  bt.hci_add_event_handler({
    callback: (packet_type, _channel, packet, size) => {
      if (packet_type !== HCI_EVENT_PACKET) return;
      faults!.event(packet);
      if (!QUIET_EVENTS.has(packet[0]!)) console.log(format_event(codes, packet, size));
      if (packet[0] === BTSTACK_EVENT_STATE) {
        const state = codes.btstack_event_state_get_state(packet);
        if (state === HCI_STATE_WORKING) console.log(`up and running at ${bd_addr_to_str(bt.gap_local_bd_addr())}`);
        else if (state === HCI_STATE_OFF && exiting) bt.btstack_run_loop_trigger_exit();
      } else if (packet[0] === BTSTACK_EVENT_POWERON_FAILED && !faults!.is_down) {
        // the transport's own line when it could not open (hci0: no device, capabilities...; usb: package, permission...)
        // else HCI's reason (an init command's error answer, a silent controller), as the CLI prints it
        const why = stack.hci.state.poweron_failure;
        console.error(
          openError
            ? `${example.name}: ${openError}`
            : `${example.name}: power on failed: ${why ? poweron_failure_text(why) : 'is the controller connected and powered?'}`,
        );
        ctx.exit_code = 1;
        exiting = true;
        bt.btstack_run_loop_trigger_exit();
      }
    },
  });

  const status = example.btstack_main(stack, ctx);
  if (typeof status === 'number' && status !== 0) return status;
  const onSignal = (signal: NodeJS.Signals) => {
    console.log(`${signal} received, shutting down..`);
    ctx.exit();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (exiting) return ctx.exit_code; // exit() already from btstack_main
    if (bt.hci_power_control(HCI_POWER_ON) !== 0) {
      console.error('power on refused');
      return 1;
    }
    // an exit requested before the run loop runs would be lost (execute() starts afresh)
    if (exiting && bt.hci_get_state() === HCI_STATE_OFF) return ctx.exit_code;
    await bt.btstack_run_loop_execute();
    return ctx.exit_code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Run `example` when the calling module is the script node was started with (so an example can
 * also be imported for its services), and exit the process with its code.
 */
export function example_main<S extends ExampleOptionSpecs>(module_url: string, example: Example<S>): void {
  const script = process.argv[1];
  if (!script || module_url !== pathToFileURL(resolve(script)).href) return;
  btstack_main_run(process.argv.slice(2), example).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
