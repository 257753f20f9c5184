/**
 * VirtualController: one simulated Bluetooth controller on a RadioLink. It takes HCI packets from
 * its host (`host_send`), answers commands as the Core specification prescribes (Vol 4 Part E),
 * routes ACL data over the air with its buffer counts enforced, and queues every event and ACL
 * packet for the host, delivered from the run loop (`attach_host`).
 *
 * The facade of the layer pattern (docs/ARCHITECTURE.md): it builds the state record
 * (controller-state.ts) and one component per concern, and wires them:
 * - controller-commands.ts: command dispatch and the Command Complete / Status answers;
 * - controller-baseband.ts: controller & baseband, informational and vendor commands;
 * - controller-classic.ts: inquiry, paging, disconnection; controller-classic-link.ts: remote
 *   name / features / version, roles, link policy, sniff;
 * - controller-le.ts: advertising, scanning, accept list; controller-le-conn.ts: LE connections,
 *   connection update, data length, PHY; controller-privacy.ts: resolving list, address resolution;
 * - controller-security.ts: pairing, authentication, encryption;
 * - controller-acl.ts: ACL routing, Number Of Completed Packets, controller-to-host flow control;
 * - controller-events.ts: the HCI event encoders (in the state: every component emits events).
 * The air between controllers is air.ts; the radio they share, link.ts.
 */
import { ControllerBcm } from './controller-bcm.js';
import type { BdAddr } from '../core/bytes.js';
import type { RunLoop } from '../core/run-loop.js';
import { HCI_COMMANDS, type HciCommand } from '../hci/commands.js';
import { ControllerAcl } from './controller-acl.js';
import { ControllerBaseband } from './controller-baseband.js';
import { ControllerClassic } from './controller-classic.js';
import { ControllerClassicLink } from './controller-classic-link.js';
import { command_routes, ControllerCommands, ControllerReply } from './controller-commands.js';
import { ControllerLe } from './controller-le.js';
import { ControllerLeConn } from './controller-le-conn.js';
import { ControllerPrivacy } from './controller-privacy.js';
import { ControllerSecurity } from './controller-security.js';
import { ControllerState, resolve_controller_options, type ControllerOptions, type ControllerStats } from './controller-state.js';
import { LE_FEATURE_LL_PRIVACY, SUPPORTED_COMMAND_BIT, supported_commands_bitmap } from './defs.js';
import { Faults } from './faults.js';
import { ControllerWiring } from './controller-wiring.js';
import type { HostQueueStatus, HostSink } from './host-queue.js';
import type { RadioLink } from './link.js';

export type { ControllerOptions, ControllerStats } from './controller-state.js';

/** The components that answer commands, in dispatch order (the facade lists its instances in this order). */
const COMMAND_COMPONENTS = [
  ControllerBaseband,
  ControllerAcl,
  ControllerClassic,
  ControllerClassicLink,
  ControllerLe,
  ControllerLeConn,
  ControllerPrivacy,
  ControllerSecurity,
] as const;
/** Their command tables (the standard commands; the vendor commands come after them). */
const COMMAND_TABLES = COMMAND_COMPONENTS.map((c) => c.COMMANDS);

/** The templates of every implemented command. */
export function implemented_commands(): HciCommand[] {
  const opcodes = new Set<number>();
  for (const table of COMMAND_TABLES) for (const [cmd] of table) opcodes.add(cmd.opcode);
  return [...opcodes].map((op) => HCI_COMMANDS.get(op)!);
}

/** The classes of the facade's components, slot by slot: COMMAND_COMPONENTS, then the vendor commands. */
const COMPONENT_SLOTS = [...COMMAND_COMPONENTS, ControllerBcm] as const;
/** Where each command goes: slot i is the i-th component the facade lists. */
const COMMAND_ROUTES = command_routes(COMPONENT_SLOTS.map((c) => c.COMMANDS));

/** Supported_Commands of every controller (frozen; each controller copies it). */
const SUPPORTED_COMMANDS: readonly number[] = Object.freeze(Array.from(supported_commands_bitmap(implemented_commands())));

export class VirtualController {
  /** @internal the layer's state record (tests and the components' peers on the radio read it). */
  readonly state: ControllerState;
  /** Fault injection on this controller (faults.ts). */
  readonly faults: Faults;
  private readonly commands: ControllerCommands;
  private readonly acl: ControllerAcl;

  /** Use RadioLink.create_controller, which derives the address and puts the controller on the air. */
  constructor(link: RadioLink, index: number, bd_addr: BdAddr, options: ControllerOptions = {}) {
    // the components reach each other through one wiring object (controller-wiring.ts) whose
    // fields are set as they are built
    const w = new ControllerWiring();
    const s = (w.s = new ControllerState(link, index, bd_addr, resolve_controller_options(options), SUPPORTED_COMMANDS, w));
    this.state = s;
    const reply = (w.reply = new ControllerReply(s));
    this.acl = w.acl = new ControllerAcl(s, w);
    s.air = this.acl;
    const classic = (w.classic = new ControllerClassic(s, w));
    const le = (w.le = new ControllerLe(s, w));
    const leConn = (w.leConn = new ControllerLeConn(s, w));
    const baseband = new ControllerBaseband(s, w);
    const classicLink = new ControllerClassicLink(s, w);
    const security = new ControllerSecurity(s, w);
    // in the order of COMPONENT_SLOTS (null: the component is absent and its commands unknown)
    const components = [
      baseband,
      this.acl,
      classic,
      classicLink,
      le,
      leConn,
      s.config.resolving_list_size > 0 ? new ControllerPrivacy(s, w) : null,
      security,
      new ControllerBcm(s, reply),
    ];
    components.forEach((c, i) => {
      if (c !== null && !(c instanceof COMPONENT_SLOTS[i]!))
        throw new Error(`controller: component ${i} is not a ${COMPONENT_SLOTS[i]!.name}`);
    });
    this.commands = new ControllerCommands(s, { reply, routes: COMMAND_ROUTES, components });
    this.faults = new Faults(s, w);
    if (s.config.resolving_list_size === 0) {
      // no LL Privacy: neither the feature nor its commands
      s.le_features[LE_FEATURE_LL_PRIVACY >> 3]! &= ~(1 << (LE_FEATURE_LL_PRIVACY & 7));
      for (const [cmd] of ControllerPrivacy.COMMANDS) {
        const bit = SUPPORTED_COMMAND_BIT.get(cmd)!;
        s.supported_commands[bit >> 3]! &= ~(1 << (bit & 7));
      }
    }
    ControllerBcm.power_on(s);
    w.reset();
  }

  /** The link's run loop: the host must run on it. */
  get run_loop(): RunLoop {
    return this.state.run_loop;
  }

  /** Position on the link (creation order). */
  get index(): number {
    return this.state.index;
  }

  /** Public address (display order). A vendor Write BD_ADDR command changes it. */
  get bd_addr(): BdAddr {
    return this.state.bd_addr;
  }

  /** Whether the controller was taken off the air (RadioLink.remove_controller). */
  get powered_off(): boolean {
    return this.state.powered_off;
  }

  /** What waits for the host, and what was dropped while it did not read. */
  get out(): HostQueueStatus {
    return this.state.out;
  }

  /** Counters for diagnostics and tests. */
  get stats(): Readonly<ControllerStats> {
    return this.state.stats;
  }

  // ------------------------------------------------------------------ host side

  /** Connect the host: every packet for the host goes to `sink` (on the run loop). */
  attach_host(sink: HostSink): void {
    this.state.out.sink = sink;
  }

  detach_host(): void {
    this.state.out.sink = null;
  }

  /**
   * A packet from the host (H4 type 1 command, 2 ACL, 3 SCO), without the type byte. Processed
   * at once; answers are queued for the host. Never throws on bad input.
   */
  host_send(packet_type: number, packet: Uint8Array, size = packet.length): void {
    const s = this.state;
    if (s.powered_off) return;
    size = Math.min(size, packet.length);
    if (packet_type === 0x01) this.commands.on_command(packet, size);
    else if (packet_type === 0x02) this.acl.on_acl(packet, size);
    else s.link.logger.info(() => `controller ${s.index}: dropped host packet of type ${packet_type}`);
  }

  /**
   * Whether the host takes what the controller sends (a UART host's RTS; a socket client that
   * reads). While it does not, events wait in the controller's bounded buffer, advertising and
   * inquiry reports beyond their share of it are dropped (counted in `out.discarded`), and ACL
   * data from peers waits on the air: the peers' buffers stay in use and they get no Number Of
   * Completed Packets for it, as with a real controller whose host stopped reading.
   */
  set_host_ready(ready: boolean): void {
    this.acl.set_host_ready(ready);
  }
}
