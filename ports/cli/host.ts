/**
 * The stack a `bthost` command runs on: a NodeRunLoop, one Stack on either a serial H4
 * controller (`--port`) or an in-process virtual controller with a virtual peer, the packet log,
 * power on with a time limit, Ctrl-C, and a clean power off before the process exits.
 *
 *   const host = new CliHost(options, 'scan');
 *   if (!(await host.open())) return host.exit_code;
 *   host.power_on(() => { ... the stack is working ... host.finish(0); });
 *   return host.run();
 *
 * Problems a user can fix are reported as one line on stderr (`bthost: ...`) and a non-zero exit.
 */
import { bd_addr_to_str, sscanf_bd_addr } from '../../src/core/bytes.js';
import { NodeRunLoop, Timer } from '../../src/core/run-loop.js';
import { format_event } from '../../src/codes/index.js';
import {
  BTSTACK_EVENT_POWERON_FAILED,
  BTSTACK_EVENT_STATE,
  HCI_EVENT_PACKET,
  HCI_POWER_OFF,
  HCI_POWER_ON,
  HCI_STATE_OFF,
  HCI_STATE_WORKING,
} from '../../src/codes/v1.4.js';
import type { HciTransport, TransportEvent } from '../../src/hci/transport.js';
import type { HciTransportConfig } from '../../src/hci/hci.js';
import { Stack } from '../../src/stack.js';
import { RadioLink } from '../../src/controller/link.js';
import { VirtualTransport } from '../virtual/transport.js';
import type { CliOptions } from './options.js';
import { chipset_bcm, chipset_zephyr, type BtstackChipset } from '../../src/chipset/index.js';
import { create_virtual_headset, VirtualPeer, VIRTUAL_HOST_ADDR } from './virtual-peer.js';
import { PairingAgent, type LineSource } from './agent.js';
import { key_file_for, open_key_store } from './keys.js';
import type { LeDeviceDb } from '../../src/sm/le-device-db.js';
import { FaultWatch } from '../fault-watch.js';
import { status_text } from './format.js';
import { cli_chipset } from './chipset.js';
import type { ChipsetAuto } from '../chipset-auto.js';
import { mem_log } from './mem-log.js';
import { PowerOnWitness, poweron_failure_text } from './power-on-report.js';

/** The longest timer the Node run loop can arm (Node's setTimeout: a signed 32-bit count of ms, about 24.8 days). */
export const MAX_TIMER_MS = 0x7fffffff;

/** A delay the run loop can represent: NaN and negatives -> 0, past MAX_TIMER_MS -> MAX_TIMER_MS. */
export function clamp_timer_ms(ms: number): number {
  return ms > 0 ? Math.min(ms, MAX_TIMER_MS) : 0;
}

export type EventHandler = (packet: Uint8Array, size: number) => void;

/** Wrap a transport to see its events (open failures carry the message a user needs). */
function tap(t: HciTransport, on: (ev: TransportEvent) => void, witness: PowerOnWitness): HciTransport {
  const wrapped: HciTransport = {
    name: t.name,
    init: (rl) => t.init(rl),
    register_packet_handler: (h) =>
      t.register_packet_handler((type, packet, size) => {
        witness.received_packet(type, packet, size);
        h(type, packet, size);
      }),
    register_event_handler: (h) =>
      t.register_event_handler((ev) => {
        on(ev);
        h(ev);
      }),
    open: () => t.open(),
    close: () => t.close(),
    can_send_packet_now: (type) => t.can_send_packet_now(type),
    send_packet: (type, p, size) => {
      witness.sent_packet(type, p, size);
      return t.send_packet(type, p, size);
    },
  };
  if (t.set_baudrate) wrapped.set_baudrate = (baud) => t.set_baudrate!(baud);
  return wrapped;
}

export class CliHost {
  readonly run_loop = new NodeRunLoop();
  stack!: Stack;
  /** The virtual peer (without --port), else null. */
  peer: VirtualPeer | null = null;
  /** A classic device without a name in its inquiry response (without --port), else null. */
  headset: Stack | null = null;
  link: RadioLink | null = null;
  /** 'the virtual controller' or '/dev/ttyX (115200 baud, flow control on)'. */
  where = '';
  /** With --port: the port's transport itself (not the tap), for lines such as the serial I/O path. */
  port_transport: HciTransport | null = null;
  exit_code = 0;
  /** Answers pairing requests (--io, --yes, --pin, --sc, --ssp); made by open(). */
  agent!: PairingAgent;
  /** Where the agent reads what the user types; set before open() by a command whose stdin is free. */
  pairing_input: LineSource | null = null;
  /** The link key file (--keys, or the per-controller default with --port); null: keys in memory. Set once working. */
  key_file: string | null = null;
  /** LE bonds in the key file (with key_file; sm_set_le_device_db it where the SM is used), else null. */
  le_device_db: LeDeviceDb | null = null;
  /**
   * A long-running command (`listen`) rides through faults: a framing error, a Hardware Error, the
   * serial port lost and back (reopened with backoff); `on_working` runs again once the stack is
   * WORKING. Without it (or with --once) the first fault ends the command: exit 1 and its cause.
   */
  recover = false;
  /** Sees faults, names them, reopens a lost port (ports/fault-watch.ts); made by open(). */
  faults!: FaultWatch;
  /** The chipset driver chosen at power on (detected or --chipset). */
  chipsets!: ChipsetAuto;
  /** Called when a fault took the stack down while `recover` holds (before it is up again). */
  on_fault: (cause: string) => void = () => {};
  /** Called on Ctrl-C (SIGINT/SIGTERM), on the run loop. Default: power off, exit 130. */
  on_interrupt: () => void = () => this.finish(130, 'interrupted');
  private finishing = false;
  private working = false;
  private openError: string | null = null;
  private readonly powerTimer = new Timer(() => this.powerOnTimeout());
  /** What the controller answered (for the line of a failed or timed-out power-on). */
  private readonly witness = new PowerOnWitness();
  private readonly handlers: EventHandler[] = [];
  private onWorking: (() => void) | null = null;
  private readonly signal = () => this.run_loop.execute_on_main_thread(() => this.on_interrupt());

  constructor(
    readonly options: CliOptions,
    readonly command: string,
  ) {}

  /** Print a status line on stderr (stdout carries the command's data). */
  say(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  /** Build the transport and the stack; false (with the message printed) when that failed. */
  async open(): Promise<boolean> {
    const o = this.options;
    let transport: HciTransport;
    let transport_config: HciTransportConfig | undefined;
    let chipset: BtstackChipset | undefined;
    if (o.chipset === 'bcm') chipset = chipset_bcm();
    if (o.chipset === 'zephyr') chipset = chipset_zephyr();
    let host_flow_control = o.host_flow_control;
    let bus: 'uart' | 'usb' | 'hci' | 'virtual' = 'virtual';
    if (o.port.tty) {
      // a serial path, hci0 / hci:0, usb / usb:VID:PID / usb:BUS-PORTS, or auto (ports/port-transport.ts)
      const { open_port_transport } = await import('../port-transport.js');
      const port = await open_port_transport(o.port, chipset);
      if ('error' in port) {
        this.say(`bthost: ${port.error}`);
        this.exit_code = port.exit;
        return false;
      }
      transport = port.transport;
      this.port_transport = port.transport;
      transport_config = port.config as unknown as HciTransportConfig | undefined;
      this.where = port.where;
      host_flow_control ||= port.host_flow_control; // the HCI user channel reads at most 1019-byte ACL packets
      bus = port.bus;
    } else {
      this.link = new RadioLink(this.run_loop, { seed: 'bthost cli' });
      const ours = this.link.create_controller({ bd_addr: sscanf_bd_addr(VIRTUAL_HOST_ADDR)!, name: 'bthost' });
      transport = new VirtualTransport(ours);
      this.peer = new VirtualPeer(this.link, this.run_loop, o.profile);
      this.headset = create_virtual_headset(this.link, this.run_loop, o.profile);
      this.where = 'the virtual controller';
    }
    this.stack = new Stack({
      transport: tap(
        transport,
        (ev) => {
          this.faults?.transport_event(ev);
          this.transportEvent(ev);
        },
        this.witness,
      ),
      run_loop: this.run_loop,
      profile: o.profile,
      host_flow_control,
      transport_config,
      ...(chipset && o.port.tty ? { chipset } : {}),
    });
    // Read Local Version picks the driver unless --chipset forced one (ports/cli/chipset.ts)
    this.chipsets = cli_chipset(
      this.stack.hci,
      chipset && o.chipset && o.port.tty ? { name: o.chipset, driver: chipset } : undefined,
      o.port.firmware,
      { say: (l) => this.say(l), fail: (m) => this.finish(1, m) },
      bus,
      o.port.baudrate_main,
    );
    this.faults = new FaultWatch(this.stack.hci, this.run_loop, {
      where: this.where,
      reopen: true,
      on_down: (cause) => this.faultDown(cause),
      on_up: () => this.faultUp(),
      on_retry: (attempt, ms) => {
        if (attempt === 1 || attempt % 10 === 0)
          this.say(`bthost: opening ${this.options.port.tty ?? this.where} again in ${ms} ms (attempt ${attempt})`);
      },
    });
    this.agent = new PairingAgent(this.stack, o.pairing, this.pairing_input, (line) => this.say(line));
    this.agent.configure();
    // BTstack replaces 00:00:00:00:00:00 in the name with the address
    this.stack.gap.gap_set_local_name('bthost 00:00:00:00:00:00');
    if (o.port.log_file) {
      const err = this.stack.open_packet_log(o.port.log_file, o.port.log_format);
      if (err) {
        this.say(`bthost: cannot write the packet log ${o.port.log_file} (error ${err})`);
        this.exit_code = 1;
        return false;
      }
    }
    this.stack.hci.hci_add_event_handler({
      callback: (type, _channel, packet, size) => {
        if (type !== HCI_EVENT_PACKET) return;
        this.event(packet, size);
      },
    });
    // never silent: the stack restarts after this, and every link is reported gone
    // (FaultWatch prints it once, as the fault's cause)
    this.stack.hci.hci_set_framing_error_callback((message) => this.faults.framing_error(message));
    return true;
  }

  /** Every HCI-level event (BTstack, GAP, HCI) goes to these, after the verbose trace. */
  add_event_handler(h: EventHandler): void {
    this.handlers.push(h);
  }

  /** Trace an event from any layer with --verbose (on stderr). */
  trace(packet: Uint8Array, size: number): void {
    if (this.options.verbose) this.say(`event: ${format_event(this.stack.codes, packet, size)}`);
  }

  /** Power on (and the virtual peer); `on_working` once both are up. */
  power_on(on_working: () => void): void {
    this.onWorking = on_working;
    process.once('SIGINT', this.signal);
    process.once('SIGTERM', this.signal);
    this.run_loop.set_timer(this.powerTimer, clamp_timer_ms(this.options.timeout_ms));
    this.run_loop.add_timer(this.powerTimer);
    if (this.peer) {
      this.peer.stack.hci.hci_add_event_handler({ callback: () => this.checkWorking() });
      this.peer.power_on();
    }
    if (this.headset) {
      this.headset.hci.hci_add_event_handler({ callback: () => this.checkWorking() });
      this.headset.hci.hci_power_control(HCI_POWER_ON);
    }
    const st = this.stack.hci.hci_power_control(HCI_POWER_ON);
    if (st !== 0) this.finish(1, `cannot power on: ${status_text(st)}`);
  }

  /** A run-loop timer (src/ never uses setTimeout). */
  after(ms: number, fn: () => void): Timer {
    const t = new Timer(() => fn());
    this.run_loop.set_timer(t, clamp_timer_ms(ms));
    this.run_loop.add_timer(t);
    return t;
  }

  cancel(t: Timer | null): void {
    if (t) this.run_loop.remove_timer(t);
  }

  get local_address(): string {
    return bd_addr_to_str(this.stack.gap.gap_local_bd_addr());
  }

  /**
   * End the command: print `message` (as `bthost: message` on stderr) when given, power off,
   * close the packet log, stop the run loop. The first call decides the exit code.
   */
  finish(code: number, message?: string): void {
    if (this.finishing) return;
    this.finishing = true;
    this.exit_code = code;
    this.faults?.stop();
    if (message) this.say(`bthost: ${message}`);
    this.pairing_input?.close();
    this.run_loop.remove_timer(this.powerTimer);
    process.off('SIGINT', this.signal);
    process.off('SIGTERM', this.signal);
    const done = () => {
      if (!this.finishing) return;
      this.finishing = false;
      this.stack.close_packet_log();
      this.run_loop.trigger_exit();
    };
    if (this.stack.hci.hci_get_state() === HCI_STATE_OFF) return this.run_loop.execute_on_main_thread(done);
    this.stack.hci.hci_add_event_handler({
      callback: (type, _c, packet) => {
        if (type === HCI_EVENT_PACKET && packet[0] === BTSTACK_EVENT_STATE && packet[2] === HCI_STATE_OFF) done();
      },
    });
    this.after(2000, done); // a controller that stopped answering cannot hold us
    this.stack.hci.hci_power_control(HCI_POWER_OFF);
    for (const other of [this.peer?.stack, this.headset]) {
      if (other && other.hci.hci_get_state() !== HCI_STATE_OFF) other.hci.hci_power_control(HCI_POWER_OFF);
    }
  }

  /** Run until finish(); resolves with the exit code. */
  async run(): Promise<number> {
    mem_log(this, process.env['BTHOST_MEM_LOG']);
    await this.run_loop.execute();
    return this.exit_code;
  }

  // ---------------------------------------------------------------- internals

  private event(packet: Uint8Array, size: number): void {
    this.trace(packet, size);
    this.faults.event(packet);
    if (this.finishing) return;
    if (packet[0] === BTSTACK_EVENT_STATE) this.checkWorking();
    if (packet[0] === BTSTACK_EVENT_POWERON_FAILED && !this.faults.is_down) {
      // the transport's own line; else the init answer that failed (command and status, or no credit)
      const why = this.stack.hci.state.poweron_failure;
      this.finish(
        1,
        this.openError ?? (why ? `power on failed: ${poweron_failure_text(why)}` : `cannot open the controller on ${this.where}`),
      );
      return;
    }
    if (packet[0] === BTSTACK_EVENT_STATE && packet[2] === HCI_STATE_OFF && this.working && !this.faults.is_down) {
      // turned off by nobody we know of
      this.finish(1, `the controller on ${this.where} stopped${this.openError ? `: ${this.openError}` : ''}`);
      return;
    }
    this.agent.event(packet);
    for (const h of this.handlers) h(packet, size);
  }

  /** The stack left WORKING because of a fault (FaultWatch): stop with its cause, or ride through it. */
  private faultDown(cause: string): void {
    if (this.finishing) return;
    const lost = this.faults.port_lost;
    if (!this.working) {
      // still powering on: the stack restarts by itself within --timeout; a lost port ends it
      if (lost) this.finish(1, cause);
      else this.say(`bthost: ${cause}; the stack restarts`);
      return;
    }
    if (!this.recover || this.options.once) {
      this.faults.stop(); // no reopening (nor its 'opening ... again' line) for a command that ends here
      // a channel cut by this fault decides first (its line names the bytes done); else this line
      this.after(0, () => this.finish(1, `${cause}${lost ? '' : '; the controller restarted'}`));
      return;
    }
    this.say(`bthost: ${cause}; ${lost ? 'opening it again' : 'the stack restarts'} (--once: stop at a fault)`);
    this.on_fault(cause);
  }

  /** WORKING again after a fault: the command sets itself up again (its on_working). */
  private faultUp(): void {
    if (this.finishing || !this.recover) return;
    this.say(`bthost: the controller on ${this.where} is back (${this.local_address})`);
    this.onWorkingAgain?.();
  }

  private onWorkingAgain: (() => void) | null = null;

  private checkWorking(): void {
    if (this.working || this.finishing) return;
    if (this.stack.hci.hci_get_state() !== HCI_STATE_WORKING) return;
    if (this.peer && !this.peer.ready) return;
    if (this.headset && this.headset.hci.hci_get_state() !== HCI_STATE_WORKING) return;
    this.working = true;
    this.run_loop.remove_timer(this.powerTimer);
    // the key file is chosen by the controller's address (BTstack's posix ports do the same)
    this.key_file = key_file_for(this.options, this.stack.gap.gap_local_bd_addr());
    if (this.key_file !== null) {
      const store = open_key_store(this.key_file);
      this.stack.hci.hci_set_link_key_db(store.link_keys);
      this.le_device_db = store.le_devices;
    }
    const cb = this.onWorking;
    this.onWorking = null;
    this.onWorkingAgain = cb;
    cb?.();
  }

  private transportEvent(ev: TransportEvent): void {
    if (ev.type === 'open-failed' || ev.type === 'failed') this.openError = ev.error;
  }

  private powerOnTimeout(): void {
    if (this.working || this.finishing) return;
    const o = this.options.port;
    // bytes that answered our commands: not a baud-rate problem; say what the controller did
    const answered = o.tty ? this.witness.timeout_line(this.where, this.options.timeout_ms) : null;
    if (answered) {
      this.finish(1, answered);
    } else if (o.tty) {
      this.finish(
        1,
        `no answer from the controller on ${this.where} within ${this.options.timeout_ms} ms: wrong baud rate or flow control? ` +
          `(try --baud 115200 / 1000000, or --no-flow; is it an H4 controller and powered?)`,
      );
    } else {
      this.finish(1, `the virtual controller did not start within ${this.options.timeout_ms} ms`);
    }
  }
}
