/**
 * The HCI host layer with BTstack's model and names (hci.c): power control and the init
 * sequence, command flow control, ACL flow control with fragmentation and reassembly, the
 * connection table, and event dispatch (every HCI event to every registered event handler,
 * plus BTstack's own events: BTSTACK_EVENT_STATE, _NR_CONNECTIONS_CHANGED, _POWERON_FAILED,
 * GAP_EVENT_*).
 *
 * This is the facade: its public members are the hci_* API (and `gap`); it checks arguments and
 * forwards. The data is in HciState (hci-state.ts); the work is done by one component per concern,
 * each built with the state and a narrow interface to its siblings:
 *   HciPower (hci-power.ts)                 power state machine, halting, sleeping, restarts
 *   HciTransportLink (hci-transport-link.ts) transport open/close, its events, packets in and out
 *   HciScheduler (hci-scheduler.ts)         command credits, app command queue, BTstack's hci_run
 *   HciEvents (hci-events.ts)               events from the controller
 *   HciAcl (hci-acl.ts), HciHostFlow        ACL out (fragmentation) and in (reassembly), host flow control
 *   HciInit (hci-init.ts)                   the init sequence
 *   HciLinkControl (hci-link-control.ts)    connection records and the commands they need
 *   HciEmitter (hci-emit.ts)                events the stack builds itself
 *   HciSecurity (hci-security.ts)           pairing answers, link keys, gap_request_security_level
 *   HciSupervision (hci-supervision.ts)     host-side bounds on what the controller was asked to complete
 *   GapClassic, GapLe, GapReports           GAP (the `Gap` facade, gap.ts; GapSecurity: gap-security.ts)
 *
 * One instance per Stack. Everything it emits goes through the stack's code profile.
 */
import type { BdAddr } from '../core/bytes.js';
import { HCI_POWER_OFF, HCI_POWER_ON, HCI_POWER_SLEEP, HCI_ROLE_MASTER, HCI_ROLE_SLAVE, HCI_STATE_OFF } from '../codes/v1.4.js';
import type { BtstackChipset } from '../chipset/chipset.js';
import type { HciTransport } from './transport.js';
import type { HciArg, HciCommand } from './commands.js';
import type { HciConnection } from './hci-connection.js';
import { HciAcl } from './hci-acl.js';
import { HciEmitter } from './hci-emit.js';
import { HciEvents } from './hci-events.js';
import { HciHostFlow } from './hci-host-flow.js';
import { HciInit } from './hci-init.js';
import { HCI_USABLE_ACL_PACKET_TYPES, HciLinkControl } from './hci-link-control.js';
import { HciPower } from './hci-power.js';
import { HciScheduler } from './hci-scheduler.js';
import type { BtstackPacketCallbackRegistration, HciService, PacketHandler } from './hci-service.js';
import { HciState, type HciHost, type HciTransportConfig } from './hci-state.js';
import { HciTransportLink } from './hci-transport-link.js';
import { HciWiring } from './hci-wiring.js';
import { Gap } from './gap.js';
import { GapClassic } from './gap-classic.js';
import { GapLe } from './gap-le.js';
import { GapLeConn } from './gap-le-conn.js';
import { GapReports } from './gap-reports.js';
import { GapSecurity } from './gap-security.js';
import { HciSecurity } from './hci-security.js';
import { HciSupervision } from './hci-supervision.js';
import type { BtstackLinkKeyDb } from './link-key-db.js';

export { HCI_USABLE_ACL_PACKET_TYPES };
export { HCI_COMMAND_QUEUE_SIZE } from './hci-scheduler.js';
export { HCI_HALTING_TIMEOUT_MS } from './hci-power.js';
export { HCI_TRANSPORT_CLOSE_TIMEOUT_MS } from './hci-transport-link.js';
export type { HciHost, HciTransportConfig } from './hci-state.js';
export type { BtstackPacketCallbackRegistration, HciService, PacketHandler } from './hci-service.js';

/** LMP feature bit 54: Non-flushable Packet Boundary Flag. */
const LMP_FEATURE_NON_FLUSHABLE_PB = 54;

function check_addr(fn: string, addr: BdAddr): void {
  if (!(addr instanceof Uint8Array) || addr.length !== 6) throw new TypeError(`${fn}: addr must be a 6-byte BdAddr`);
}

export class Hci implements HciService {
  /** GAP (gap.h names); also `stack.gap`. */
  readonly gap: Gap;
  /** @internal the layer's data, for the Stack and tests */
  readonly state: HciState;

  readonly #power: HciPower;
  readonly #transport: HciTransportLink;
  readonly #scheduler: HciScheduler;
  readonly #acl: HciAcl;
  readonly #links: HciLinkControl;
  readonly #gapSecurity: GapSecurity;

  constructor(host: HciHost) {
    const s = new HciState(host);
    this.state = s;
    // the components reach each other only through the narrow interfaces each declares, all
    // satisfied by one wiring object (hci-wiring.ts) whose fields are set as they are built
    const w = new HciWiring(s);
    w.out = new HciEmitter(s);
    w.host_flow = new HciHostFlow(s, w);
    const acl = (w.acl = new HciAcl(s, w));
    const classic = (w.classic = new GapClassic(s, w));
    const le = (w.le = new GapLe(w));
    le.conn = w.le_conn = new GapLeConn(s, w);
    w.reports = new GapReports(s, w.out);
    const security = (w.security = new HciSecurity(s, w));
    const links = (w.links = new HciLinkControl(s, w));
    w.init = new HciInit(s, w);
    const scheduler = (w.scheduler = new HciScheduler(s, w));
    w.events = new HciEvents(s, w);
    w.supervision = new HciSupervision(s, w);
    const transport = (w.transport = new HciTransportLink(s, w));
    const power = (w.power = new HciPower(s, w));

    this.#power = power;
    this.#transport = transport;
    this.#scheduler = scheduler;
    this.#acl = acl;
    this.#links = links;
    this.#gapSecurity = new GapSecurity(s, security);
    this.gap = new Gap(s, classic, le, links, this.#gapSecurity);
  }

  // ===================================================================== BTstack API

  /** Bind the transport (BTstack's hci_init). The stack starts OFF. */
  hci_init(transport: HciTransport, config?: HciTransportConfig): void {
    if (this.state.power !== HCI_STATE_OFF) throw new Error('hci_init: the stack is not OFF');
    this.#transport.bind(transport, config);
  }

  /** BTstack's hci_set_chipset. */
  hci_set_chipset(chipset: BtstackChipset | null): void {
    const s = this.state;
    s.chipset = chipset;
    if (chipset?.init && s.transport) chipset.init(s.transport_config);
  }

  /** Public BD_ADDR to program through the chipset after Reset (BTstack's hci_set_bd_addr). */
  hci_set_bd_addr(addr: BdAddr): void {
    if (!(addr instanceof Uint8Array) || addr.length !== 6) throw new TypeError('hci_set_bd_addr: addr must be a 6-byte BdAddr');
    this.state.custom_bd_addr = Uint8Array.from(addr);
  }

  /** 0: become central (role switch) when accepting; 1: stay peripheral (default). */
  hci_set_master_slave_policy(policy: number): void {
    this.state.master_slave_policy = policy ? HCI_ROLE_SLAVE : HCI_ROLE_MASTER;
  }

  /**
   * Called on HCI Hardware Error with the Hardware_Code. Differs from BTstack, which only calls the
   * callback and leaves the stack as it is: here the stack is first taken to OFF (every link reported
   * gone with a Disconnection Complete, queues and pools freed, transport closed), then `callback`
   * runs and may power on again. Without a callback HCI powers off and on again, as BTstack does.
   */
  hci_set_hardware_error_callback(callback: ((hardware_code: number) => void) | null): void {
    this.state.hardware_error_callback = callback;
  }

  /**
   * Called when the transport lost H4 framing (an unknown packet type byte, or a length above the
   * receive limit): `message` says where in the stream (byte position), what (type, length,
   * limit) and how many errors so far. No BTstack event code exists for this, so it is a callback,
   * like the hardware error one. It runs before the stack restarts (OFF, transport reset, power on
   * again: every link is reported gone), once per burst of errors. The error is also logged at
   * error level.
   */
  hci_set_framing_error_callback(callback: ((message: string) => void) | null): void {
    this.state.framing_error_callback = callback;
  }

  hci_add_event_handler(registration: BtstackPacketCallbackRegistration): void {
    if (!registration || typeof registration.callback !== 'function')
      throw new TypeError('hci_add_event_handler: expected { callback }');
    this.state.event_handlers.add(registration);
  }

  hci_remove_event_handler(registration: BtstackPacketCallbackRegistration): void {
    this.state.event_handlers.remove(registration);
  }

  /** The handler for complete incoming ACL packets (L2CAP). Channel = connection handle. */
  hci_register_acl_packet_handler(handler: PacketHandler | null): void {
    this.state.acl_handler = handler;
  }

  hci_get_state(): number {
    return this.state.power;
  }

  /**
   * Power control as BTstack: ON runs the init sequence and reaches HCI_STATE_WORKING; OFF
   * disconnects every link (HALTING) and closes the transport; SLEEP disconnects and idles.
   * Returns 0 or a status.
   *
   * Opening the transport is asynchronous here (a serial port opens in the background), so ON
   * returns 0 and a transport that cannot be opened shows up afterwards as BTSTACK_EVENT_STATE
   * INITIALIZING, BTSTACK_EVENT_POWERON_FAILED, BTSTACK_EVENT_STATE OFF. BTstack opens its
   * transport synchronously: there hci_power_control returns the error and only
   * BTSTACK_EVENT_POWERON_FAILED is emitted. Ported code should react to the event, not the return.
   */
  hci_power_control(power_mode: number): number {
    if (power_mode !== HCI_POWER_ON && power_mode !== HCI_POWER_OFF && power_mode !== HCI_POWER_SLEEP) {
      throw new TypeError(`hci_power_control: unknown power mode ${power_mode}`);
    }
    return this.#power.power_control(power_mode);
  }

  /**
   * The link key store (BTstack's hci_set_link_key_db; opened here). Default: an in-memory db
   * (Stack option `link_key_db`); null: no keys kept, every Link Key Request answered negatively.
   */
  hci_set_link_key_db(link_key_db: BtstackLinkKeyDb | null): void {
    this.#gapSecurity.set_link_key_db(link_key_db);
  }

  /** Shut down: tear every connection down, power off, and release the transport (BTstack's hci_close). */
  hci_close(): void {
    this.#power.close();
    this.#gapSecurity.close_link_key_db();
    const s = this.state;
    s.closed = true;
    s.event_handlers.clear();
    s.acl_handler = null;
  }

  /**
   * Send a command from a template (BTstack's hci_send_cmd). When the controller has no
   * command credit the command waits in a bounded queue; returns 0, or
   * ERROR_CODE_COMMAND_DISALLOWED (stack off, queue full), or BTSTACK_MEMORY_ALLOC_FAILED.
   * Throws a TypeError when the arguments do not match the template's format.
   */
  hci_send_cmd(cmd: HciCommand, ...args: HciArg[]): number {
    if (!cmd || typeof cmd.opcode !== 'number' || typeof cmd.format !== 'string')
      throw new TypeError('hci_send_cmd: expected an HciCommand template');
    return this.#scheduler.send_app_command(cmd, ...args);
  }

  /** Send a complete command packet (opcode, length, parameters). Same rules as hci_send_cmd. */
  hci_send_cmd_packet(packet: Uint8Array, size: number): number {
    if (!(packet instanceof Uint8Array) || size < 3 || size > packet.length || size !== 3 + packet[2]!) {
      throw new TypeError('hci_send_cmd_packet: not a complete HCI command packet');
    }
    return this.#scheduler.send_app_packet(packet, size);
  }

  /** True when a command sent now goes straight to the controller. */
  hci_can_send_command_packet_now(): boolean {
    return this.#scheduler.can_send_app_command_now();
  }

  /** Classic ACL connection for L2CAP: queues Create Connection (paging). 0 or a status. */
  hci_connect_acl(addr: BdAddr): number {
    check_addr('hci_connect_acl', addr);
    return this.#links.connect_acl(addr);
  }

  /** Ask for the remote's version information (HCI_EVENT_READ_REMOTE_VERSION_INFORMATION_COMPLETE). */
  hci_read_remote_version(handle: number): number {
    return this.#links.read_remote_version(handle);
  }

  // ---- ACL (BTstack's API for L2CAP)

  hci_can_send_acl_packet_now(con_handle: number): boolean {
    const acl = this.#acl;
    if (acl.reserved) return false;
    return acl.can_send_prepared(this.state.connections.for_handle(con_handle));
  }

  /** With the outgoing buffer already reserved: could it be sent now? (BTstack's hci_can_send_prepared_acl_packet_now) */
  hci_can_send_prepared_acl_packet_now(con_handle: number): boolean {
    return this.#acl.can_send_prepared(this.state.connections.for_handle(con_handle));
  }

  /** Any classic link could send (BTstack's hci_can_send_acl_classic_packet_now). */
  hci_can_send_acl_classic_packet_now(): boolean {
    return this.#acl.can_send_classic();
  }

  /** Any LE link could send (BTstack's hci_can_send_acl_le_packet_now). */
  hci_can_send_acl_le_packet_now(): boolean {
    return this.#acl.can_send_le();
  }

  hci_number_free_acl_slots_for_handle(con_handle: number): number {
    const conn = this.state.connections.for_handle(con_handle);
    return conn ? this.#acl.free_slots(conn) : 0;
  }

  /** Reserve the single outgoing packet buffer; false when it is in use. */
  hci_reserve_packet_buffer(): boolean {
    return this.#acl.reserve();
  }

  hci_release_packet_buffer(): void {
    this.#acl.release();
  }

  hci_is_packet_buffer_reserved(): boolean {
    return this.#acl.reserved;
  }

  /** The outgoing buffer: write a 4-byte ACL header and the L2CAP PDU, then hci_send_acl_packet_buffer. */
  hci_get_outgoing_packet_buffer(): Uint8Array {
    return this.#acl.outgoing;
  }

  /** Send the reserved buffer (complete ACL packet of `size` bytes), fragmented as needed. */
  hci_send_acl_packet_buffer(size: number): number {
    const st = this.#acl.send_buffer(size);
    this.#scheduler.run_acl();
    return st;
  }

  /** Largest ACL payload per packet on BR/EDR links (controller's buffer size). */
  hci_max_acl_data_packet_length(): number {
    return this.state.controller.acl_data_packet_length;
  }

  /** Largest ACL payload per packet on LE links. */
  hci_max_acl_le_data_packet_length(): number {
    const c = this.state.controller;
    return c.le_acl_packets_total_num > 0 ? c.le_data_packets_length : c.acl_data_packet_length;
  }

  hci_usable_acl_packet_types(): number {
    return HCI_USABLE_ACL_PACKET_TYPES;
  }

  hci_non_flushable_packet_boundary_flag_supported(): boolean {
    return this.state.controller.has_feature(LMP_FEATURE_NON_FLUSHABLE_PB);
  }

  hci_classic_supported(): boolean {
    return this.state.controller.classic_supported;
  }

  hci_le_supported(): boolean {
    return this.state.controller.le_supported;
  }

  hci_get_manufacturer(): number {
    return this.state.controller.manufacturer;
  }

  hci_connection_for_handle(con_handle: number): HciConnection | null {
    return this.state.connections.for_handle(con_handle);
  }

  hci_connection_for_bd_addr_and_type(addr: BdAddr, addr_type: number): HciConnection | null {
    // an LE peer is found by the address on the air or by its identity address once resolved
    return this.state.connections.for_addr(addr, addr_type) ?? this.state.connections.for_identity(addr, addr_type);
  }
}
