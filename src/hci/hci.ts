/**
 * The HCI host layer with BTstack's model and names (hci.c): power control and the init
 * sequence, command flow control, ACL flow control with fragmentation and reassembly, the
 * connection table, and event dispatch (every HCI event to every registered event handler,
 * plus BTstack's own events: BTSTACK_EVENT_STATE, _NR_CONNECTIONS_CHANGED, _POWERON_FAILED,
 * GAP_EVENT_*).
 *
 * Scheduling follows BTstack's hci_run(): API calls and incoming events only record work;
 * run() then sends at most one command per Num_HCI_Command_Packets credit, in priority order:
 * init sequence, queued hci_send_cmd commands, connection work, GAP work.
 *
 * One instance per Stack. Everything it emits goes through the stack's code profile.
 */
import { bd_addr_to_str, little_endian_read_16, type BdAddr } from '../core/bytes.js';
import type { StackConfig, Pools } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { BufferPool } from '../core/pool.js';
import { Timer, type RunLoop } from '../core/run-loop.js';
import type { Codes } from '../codes/index.js';
import {
  BD_ADDR_TYPE_ACL,
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_CONNECTION_TERMINATED_BY_LOCAL_HOST,
  ERROR_CODE_REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_POWER_OFF,
  ERROR_CODE_SUCCESS,
  ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER,
  BTSTACK_MEMORY_ALLOC_FAILED,
  HCI_ACL_DATA_PACKET,
  HCI_COMMAND_DATA_PACKET,
  HCI_EVENT_PACKET,
  HCI_POWER_OFF,
  HCI_POWER_ON,
  HCI_POWER_SLEEP,
  HCI_ROLE_MASTER,
  HCI_ROLE_SLAVE,
  HCI_SCO_DATA_PACKET,
  HCI_STATE_FALLING_ASLEEP,
  HCI_STATE_HALTING,
  HCI_STATE_INITIALIZING,
  HCI_STATE_OFF,
  HCI_STATE_SLEEPING,
  HCI_STATE_WORKING,
} from '../codes/v1.4.js';
import type { BtstackChipset } from '../chipset/chipset.js';
import type { HciDump } from './dump.js';
import { EventOut, RegistrationList } from '../core/event-out.js';
import type { HciTransport, TransportEvent } from './transport.js';
import {
  hci_cmd_encode,
  type HciArg,
  type HciCommand,
} from './commands.js';
import {
  ConnState,
  HciConnection,
  HciConnectionTable,
  TODO_CREATE_CONNECTION,
  TODO_CREATE_CONNECTION_CANCEL,
  TODO_DISCONNECT,
  TODO_LE_CREATE_CONNECTION_CANCEL,
  TODO_READ_REMOTE_VERSION,
} from './hci-connection.js';
import { HciAcl } from './hci-acl.js';
import { HciHostFlow } from './hci-host-flow.js';
import { HciInit } from './hci-init.js';
import { Gap } from './gap.js';
import { HciEvents } from './hci-events.js';
import { HCI_USABLE_ACL_PACKET_TYPES, HciLinkControl } from './hci-link-control.js';

export { HCI_USABLE_ACL_PACKET_TYPES };

/** BTstack's btstack_packet_handler_t. For events, channel is 0; for ACL, the connection handle. */
export type PacketHandler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => void;

/** BTstack's btstack_packet_callback_registration_t. */
export interface BtstackPacketCallbackRegistration {
  callback: PacketHandler;
}

/** Transport configuration as passed to hci_init (BTstack's `const void * config`). */
export interface HciTransportConfig {
  baudrate_init?: number;
  baudrate_main?: number;
  [key: string]: unknown;
}

/** What HCI needs from the Stack that owns it. */
export interface HciHost {
  readonly run_loop: RunLoop;
  readonly config: StackConfig;
  readonly pools: Pools;
  readonly log: Logger;
  readonly codes: Codes;
  readonly dump?: HciDump;
  /** Controller-to-host flow control (BTstack's ENABLE_HCI_CONTROLLER_TO_HOST_FLOW_CONTROL); default off. */
  readonly host_flow_control?: boolean;
}

/** App commands accepted while the controller has no command credit wait here (bounded). */
export const HCI_COMMAND_QUEUE_SIZE = 8;
/** How long HALTING waits for Disconnection Complete events before closing anyway. */
export const HCI_HALTING_TIMEOUT_MS = 2000;
/** How long to wait for the transport's 'closed' before reopening anyway. */
export const HCI_TRANSPORT_CLOSE_TIMEOUT_MS = 500;
/** LMP feature bit 54: Non-flushable Packet Boundary Flag. */
const LMP_FEATURE_NON_FLUSHABLE_PB = 54;

export class Hci {
  readonly run_loop: RunLoop;
  readonly config: StackConfig;
  readonly pools: Pools;
  readonly log: Logger;
  readonly codes: Codes;
  readonly dump: HciDump | undefined;

  readonly connections: HciConnectionTable;
  readonly acl: HciAcl;
  /** Controller-to-host flow control (Host Buffer Size, Host Number Of Completed Packets). */
  readonly host_flow: HciHostFlow;
  readonly init: HciInit;
  readonly gap: Gap;
  private readonly events: HciEvents;
  private readonly links: HciLinkControl;

  transport: HciTransport | null = null;
  transport_config: HciTransportConfig | undefined;
  chipset: BtstackChipset | null = null;
  /** Public address set with hci_set_bd_addr (written through the chipset), or null. */
  custom_bd_addr: BdAddr | null = null;
  /** Role asked for in Accept Connection Request: HCI_ROLE_MASTER (0) switch to central, HCI_ROLE_SLAVE (1) stay. */
  master_slave_policy: number = HCI_ROLE_SLAVE;

  private state = HCI_STATE_OFF;
  private closed = false;
  private transportOpen = false;
  private transportOpening = false;
  private transportClosing = false;
  private openAfterClose = false;
  private readonly closeTimer: Timer;
  /** Power on again once the stack reached OFF (HALTING interrupted by ON, hardware error). */
  private powerOnWhenOff = false;
  /** FALLING_ASLEEP ends in SLEEPING instead of OFF. */
  private haltToSleep = false;
  private readonly haltTimer: Timer;
  private hardwareErrorCallback: ((hardware_code: number) => void) | null = null;
  private framingErrorCallback: ((message: string) => void) | null = null;

  // command flow control
  /** @internal */
  cmdCredits = 1;
  /** @internal opcodes sent and not yet answered by Command Complete / Status */
  readonly outstanding: number[] = [];
  private readonly cmdBuf = new Uint8Array(3 + 255);
  private readonly appCmdBuf = new Uint8Array(3 + 255);
  private readonly cmdPool: BufferPool;
  private cmdQueue: Uint8Array[] = [];
  /** @internal */
  readonly pendingRejects: Array<{ addr: BdAddr; reason: number }> = [];
  /** @internal handles of links the controller opened but no record could be kept for (to disconnect) */
  readonly pendingDisconnects: number[] = [];

  // handlers
  private readonly eventHandlers = new RegistrationList<BtstackPacketCallbackRegistration>();
  private aclHandler: PacketHandler | null = null;

  /** @internal events out: scratch buffers per nesting depth, dispatch, packet log */
  readonly event_out: EventOut;

  private running = false;
  private runAgain = false;

  constructor(host: HciHost) {
    this.run_loop = host.run_loop;
    this.config = host.config;
    this.pools = host.pools;
    this.log = host.log;
    this.codes = host.codes;
    this.dump = host.dump;
    this.event_out = new EventOut(host.dump ?? null);
    this.connections = new HciConnectionTable(this.pools);
    this.acl = new HciAcl(this, this.config.HCI_PACKET_BUFFER_SIZE);
    this.host_flow = new HciHostFlow(this, !!host.host_flow_control);
    this.init = new HciInit(this);
    this.gap = new Gap(this);
    this.events = new HciEvents(this);
    this.links = new HciLinkControl(this);
    this.cmdPool = this.pools.register(new BufferPool('hci_command_queue', HCI_COMMAND_QUEUE_SIZE, 3 + 255));
    this.haltTimer = new Timer(() => this.finishHalting());
    this.closeTimer = new Timer(() => this.onTransportClosed());
  }

  // ===================================================================== BTstack API

  /** Bind the transport (BTstack's hci_init). The stack starts OFF. */
  hci_init(transport: HciTransport, config?: HciTransportConfig): void {
    if (this.state !== HCI_STATE_OFF) throw new Error('hci_init: the stack is not OFF');
    this.transport = transport;
    this.transport_config = config;
    this.closed = false;
    transport.init(this.run_loop);
    transport.register_packet_handler((type, packet, size) => this.onPacket(type, packet, size));
    transport.register_event_handler((ev) => this.onTransportEvent(ev));
  }

  /** BTstack's hci_set_chipset. */
  hci_set_chipset(chipset: BtstackChipset | null): void {
    this.chipset = chipset;
    if (chipset?.init && this.transport) chipset.init(this.transport_config);
  }

  /** Public BD_ADDR to program through the chipset after Reset (BTstack's hci_set_bd_addr). */
  hci_set_bd_addr(addr: BdAddr): void {
    if (!(addr instanceof Uint8Array) || addr.length !== 6) throw new TypeError('hci_set_bd_addr: addr must be a 6-byte BdAddr');
    this.custom_bd_addr = Uint8Array.from(addr);
  }

  /** 0: become central (role switch) when accepting; 1: stay peripheral (default). */
  hci_set_master_slave_policy(policy: number): void {
    this.master_slave_policy = policy ? HCI_ROLE_SLAVE : HCI_ROLE_MASTER;
  }

  /**
   * Called on HCI Hardware Error with the Hardware_Code. Differs from BTstack, which only calls the
   * callback and leaves the stack as it is: here the stack is first taken to OFF (every link reported
   * gone with a Disconnection Complete, queues and pools freed, transport closed), then `callback`
   * runs and may power on again. Without a callback HCI powers off and on again, as BTstack does.
   */
  hci_set_hardware_error_callback(callback: ((hardware_code: number) => void) | null): void {
    this.hardwareErrorCallback = callback;
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
    this.framingErrorCallback = callback;
  }

  hci_add_event_handler(registration: BtstackPacketCallbackRegistration): void {
    if (!registration || typeof registration.callback !== 'function') throw new TypeError('hci_add_event_handler: expected { callback }');
    this.eventHandlers.add(registration);
  }

  hci_remove_event_handler(registration: BtstackPacketCallbackRegistration): void {
    this.eventHandlers.remove(registration);
  }

  /** The handler for complete incoming ACL packets (L2CAP). Channel = connection handle. */
  hci_register_acl_packet_handler(handler: PacketHandler | null): void {
    this.aclHandler = handler;
  }

  hci_get_state(): number {
    return this.state;
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
    switch (this.state) {
      case HCI_STATE_OFF:
        if (power_mode === HCI_POWER_ON) return this.powerOn();
        return ERROR_CODE_SUCCESS;
      case HCI_STATE_INITIALIZING:
        if (power_mode === HCI_POWER_OFF) this.powerOffNow();
        return ERROR_CODE_SUCCESS;
      case HCI_STATE_WORKING:
        if (power_mode === HCI_POWER_OFF) this.startHalting(false);
        else if (power_mode === HCI_POWER_SLEEP) this.startHalting(true);
        return ERROR_CODE_SUCCESS;
      case HCI_STATE_HALTING:
        if (power_mode === HCI_POWER_ON) this.powerOnWhenOff = true;
        return ERROR_CODE_SUCCESS;
      case HCI_STATE_FALLING_ASLEEP:
        if (power_mode === HCI_POWER_OFF) {
          this.haltToSleep = false;
          this.setState(HCI_STATE_HALTING);
        } else if (power_mode === HCI_POWER_ON) this.powerOnWhenOff = true;
        return ERROR_CODE_SUCCESS;
      case HCI_STATE_SLEEPING:
        if (power_mode === HCI_POWER_OFF) this.powerOffNow();
        else if (power_mode === HCI_POWER_ON) {
          this.setState(HCI_STATE_INITIALIZING);
          this.startInit();
        }
        return ERROR_CODE_SUCCESS;
      default:
        return ERROR_CODE_COMMAND_DISALLOWED;
    }
  }

  /** Shut down: tear every connection down, power off, and release the transport (BTstack's hci_close). */
  hci_close(): void {
    if (this.state !== HCI_STATE_OFF) this.powerOffNow();
    this.closed = true;
    this.eventHandlers.clear();
    this.aclHandler = null;
  }

  /**
   * Send a command from a template (BTstack's hci_send_cmd). When the controller has no
   * command credit the command waits in a bounded queue; returns 0, or
   * ERROR_CODE_COMMAND_DISALLOWED (stack off, queue full), or BTSTACK_MEMORY_ALLOC_FAILED.
   * Throws a TypeError when the arguments do not match the template's format.
   */
  hci_send_cmd(cmd: HciCommand, ...args: HciArg[]): number {
    if (!cmd || typeof cmd.opcode !== 'number' || typeof cmd.format !== 'string') throw new TypeError('hci_send_cmd: expected an HciCommand template');
    const n = hci_cmd_encode(this.appCmdBuf, cmd, ...args);
    if (n < 0) throw new TypeError(`hci_send_cmd(${cmd.name}): arguments do not match format '${cmd.format}'`);
    return this.hci_send_cmd_packet(this.appCmdBuf, n);
  }

  /** Send a complete command packet (opcode, length, parameters). Same rules as hci_send_cmd. */
  hci_send_cmd_packet(packet: Uint8Array, size: number): number {
    if (!(packet instanceof Uint8Array) || size < 3 || size > packet.length || size !== 3 + packet[2]!) {
      throw new TypeError('hci_send_cmd_packet: not a complete HCI command packet');
    }
    if (this.state === HCI_STATE_OFF || this.state === HCI_STATE_SLEEPING || !this.transport) return ERROR_CODE_COMMAND_DISALLOWED;
    if (this.cmdQueue.length === 0 && this.state !== HCI_STATE_INITIALIZING && this.canSendCommandInternal()) {
      const st = this.links.prepare(packet, size);
      if (st !== ERROR_CODE_SUCCESS) return st;
      this.sendCommandPacketInternal(packet, size);
      this.run();
      return ERROR_CODE_SUCCESS;
    }
    const slot = this.cmdPool.get();
    if (!slot) {
      this.log.error('hci_send_cmd: command queue full');
      return ERROR_CODE_COMMAND_DISALLOWED;
    }
    const st = this.links.prepare(packet, size);
    if (st !== ERROR_CODE_SUCCESS) {
      this.cmdPool.free(slot);
      return st;
    }
    slot.set(packet.subarray(0, size));
    this.cmdQueue = [...this.cmdQueue, slot];
    this.run();
    return ERROR_CODE_SUCCESS;
  }

  /** True when a command sent now goes straight to the controller. */
  hci_can_send_command_packet_now(): boolean {
    if (this.state === HCI_STATE_OFF || this.state === HCI_STATE_INITIALIZING || this.state === HCI_STATE_SLEEPING) return false;
    return this.cmdQueue.length === 0 && this.canSendCommandInternal();
  }

  /** Classic ACL connection for L2CAP: queues Create Connection (paging). 0 or a status. */
  hci_connect_acl(addr: BdAddr): number {
    if (!(addr instanceof Uint8Array) || addr.length !== 6) throw new TypeError('hci_connect_acl: addr must be a 6-byte BdAddr');
    if (this.state !== HCI_STATE_WORKING) return ERROR_CODE_COMMAND_DISALLOWED;
    const existing = this.connections.for_addr(addr, BD_ADDR_TYPE_ACL);
    if (existing) return ERROR_CODE_SUCCESS; // already connected or connecting
    const conn = this.connections.create(addr, BD_ADDR_TYPE_ACL);
    if (!conn) return BTSTACK_MEMORY_ALLOC_FAILED;
    conn.state = ConnState.SEND_CREATE_CONNECTION;
    conn.role = HCI_ROLE_MASTER;
    conn.todo |= TODO_CREATE_CONNECTION;
    this.run();
    return ERROR_CODE_SUCCESS;
  }

  /** Ask for the remote's version information (HCI_EVENT_READ_REMOTE_VERSION_INFORMATION_COMPLETE). */
  hci_read_remote_version(handle: number): number {
    const conn = this.connections.for_handle(handle);
    if (!conn || conn.is_le) return ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
    conn.todo |= TODO_READ_REMOTE_VERSION;
    this.run();
    return ERROR_CODE_SUCCESS;
  }

  // ---- ACL (BTstack's API for L2CAP)

  hci_can_send_acl_packet_now(con_handle: number): boolean {
    if (this.acl.reserved) return false;
    return this.acl.can_send_prepared(this.connections.for_handle(con_handle));
  }

  /** With the outgoing buffer already reserved: could it be sent now? (BTstack's hci_can_send_prepared_acl_packet_now) */
  hci_can_send_prepared_acl_packet_now(con_handle: number): boolean {
    return this.acl.can_send_prepared(this.connections.for_handle(con_handle));
  }

  /** Any classic link could send (BTstack's hci_can_send_acl_classic_packet_now). */
  hci_can_send_acl_classic_packet_now(): boolean {
    if (this.acl.reserved || this.acl.fragmenting || !this.transportCanSend(HCI_ACL_DATA_PACKET)) return false;
    return this.acl.acl_packets_total_num - this.acl.acl_in_flight > 0;
  }

  /** Any LE link could send (BTstack's hci_can_send_acl_le_packet_now). */
  hci_can_send_acl_le_packet_now(): boolean {
    if (this.acl.reserved || this.acl.fragmenting || !this.transportCanSend(HCI_ACL_DATA_PACKET)) return false;
    if (this.acl.le_acl_packets_total_num > 0) return this.acl.le_acl_packets_total_num - this.acl.le_in_flight > 0;
    return this.acl.acl_packets_total_num - this.acl.acl_in_flight > 0;
  }

  hci_number_free_acl_slots_for_handle(con_handle: number): number {
    const conn = this.connections.for_handle(con_handle);
    return conn ? this.acl.free_slots(conn) : 0;
  }

  /** Reserve the single outgoing packet buffer; false when it is in use. */
  hci_reserve_packet_buffer(): boolean {
    return this.acl.reserve();
  }

  hci_release_packet_buffer(): void {
    this.acl.release();
  }

  hci_is_packet_buffer_reserved(): boolean {
    return this.acl.reserved;
  }

  /** The outgoing buffer: write a 4-byte ACL header and the L2CAP PDU, then hci_send_acl_packet_buffer. */
  hci_get_outgoing_packet_buffer(): Uint8Array {
    return this.acl.outgoing;
  }

  /** Send the reserved buffer (complete ACL packet of `size` bytes), fragmented as needed. */
  hci_send_acl_packet_buffer(size: number): number {
    const st = this.acl.send_buffer(size);
    this.run();
    return st;
  }

  /** Largest ACL payload per packet on BR/EDR links (controller's buffer size). */
  hci_max_acl_data_packet_length(): number {
    return this.acl.acl_data_packet_length;
  }

  /** Largest ACL payload per packet on LE links. */
  hci_max_acl_le_data_packet_length(): number {
    return this.acl.le_acl_packets_total_num > 0 ? this.acl.le_data_packets_length : this.acl.acl_data_packet_length;
  }

  hci_usable_acl_packet_types(): number {
    return HCI_USABLE_ACL_PACKET_TYPES;
  }

  hci_non_flushable_packet_boundary_flag_supported(): boolean {
    return this.init.has_feature(LMP_FEATURE_NON_FLUSHABLE_PB);
  }

  hci_classic_supported(): boolean {
    return this.init.classic_supported;
  }

  hci_le_supported(): boolean {
    return this.init.le_supported;
  }

  hci_get_manufacturer(): number {
    return this.init.manufacturer;
  }

  hci_connection_for_handle(con_handle: number): HciConnection | null {
    return this.connections.for_handle(con_handle);
  }

  hci_connection_for_bd_addr_and_type(addr: BdAddr, addr_type: number): HciConnection | null {
    return this.connections.for_addr(addr, addr_type);
  }

  /** Local address as "AA:BB:CC:DD:EE:FF" (zeros before Read BD_ADDR). */
  local_bd_addr_string(): string {
    return bd_addr_to_str(this.init.local_bd_addr);
  }

  // ===================================================================== internal: state

  private setState(state: number): void {
    this.state = state;
    const buf = this.eventBuffer();
    const n = this.codes.btstack_event_state_build(buf, 0, state);
    this.emitEvent(buf, n);
  }

  private powerOn(): number {
    if (!this.transport || this.closed) return ERROR_CODE_COMMAND_DISALLOWED;
    this.powerOnWhenOff = false;
    this.chipset?.init?.(this.transport_config);
    this.setState(HCI_STATE_INITIALIZING);
    if (this.state !== HCI_STATE_INITIALIZING) return ERROR_CODE_SUCCESS; // a handler turned it off again
    this.openTransport();
    return ERROR_CODE_SUCCESS;
  }

  private openTransport(): void {
    if (this.transportOpen) {
      this.startInit();
      return;
    }
    if (this.transportClosing) {
      this.openAfterClose = true;
      return;
    }
    if (this.transportOpening) return;
    this.transportOpening = true;
    this.transport!.open();
  }

  private closeTransport(): void {
    if (!this.transportOpen && !this.transportOpening) return;
    this.transportOpen = false;
    this.transportOpening = false;
    this.transportClosing = true;
    this.run_loop.set_timer(this.closeTimer, HCI_TRANSPORT_CLOSE_TIMEOUT_MS);
    this.run_loop.add_timer(this.closeTimer);
    this.transport!.close();
  }

  private onTransportClosed(): void {
    this.run_loop.remove_timer(this.closeTimer);
    if (!this.transportClosing) return;
    this.transportClosing = false;
    if (this.openAfterClose) {
      this.openAfterClose = false;
      if (this.state === HCI_STATE_INITIALIZING) {
        this.transportOpening = true;
        this.transport!.open();
      }
    }
  }

  private startInit(): void {
    this.resetControllerState();
    this.init.start();
    this.run();
  }

  /** @internal called by the init sequence when it is done */
  initDone(): void {
    this.init.stop();
    this.setState(HCI_STATE_WORKING);
    this.runAgain = true;
  }

  /** Forget everything the controller knew (it is being reset). */
  private resetControllerState(): void {
    this.cmdCredits = 1;
    this.outstanding.length = 0;
    this.acl.reset();
    this.host_flow.reset();
    this.gap.reset_controller_state();
  }

  /** Tear down connections, queues and state; close the transport; emit OFF. */
  private powerOffNow(): void {
    this.run_loop.remove_timer(this.haltTimer);
    this.init.stop();
    this.discardConnections();
    this.dropQueuedCommands();
    this.pendingRejects.length = 0;
    this.pendingDisconnects.length = 0;
    this.resetControllerState();
    this.closeTransport();
    this.setState(HCI_STATE_OFF);
    if (this.powerOnWhenOff && this.state === HCI_STATE_OFF) {
      this.powerOnWhenOff = false;
      this.powerOn();
    }
  }

  private dropQueuedCommands(): void {
    if (this.cmdQueue.length) this.log.info(() => `dropping ${this.cmdQueue.length} queued command(s) at power off`);
    for (const b of this.cmdQueue) this.cmdPool.free(b);
    this.cmdQueue = [];
  }

  /**
   * Free every connection, as BTstack's hci_discard_connections: each gets a synthesized
   * Disconnection Complete (reason Connection Terminated By Local Host) so upper layers close
   * their channels, then BTSTACK_EVENT_NR_CONNECTIONS_CHANGED.
   */
  private discardConnections(): void {
    for (const conn of this.connections.list) {
      this.acl.release_connection(conn);
      const handle = conn.con_handle;
      if (handle !== 0xffff) {
        const buf = this.eventBuffer();
        const n = this.codes.hci_event_disconnection_complete_build(buf, 0, ERROR_CODE_SUCCESS, handle, ERROR_CODE_CONNECTION_TERMINATED_BY_LOCAL_HOST);
        this.emitEvent(buf, n);
      }
      if (this.connections.list.includes(conn)) this.connections.free(conn);
      this.emitNrConnectionsChanged();
    }
  }

  private startHalting(toSleep: boolean): void {
    this.haltToSleep = toSleep;
    this.setState(toSleep ? HCI_STATE_FALLING_ASLEEP : HCI_STATE_HALTING);
    if (this.state !== HCI_STATE_HALTING && this.state !== HCI_STATE_FALLING_ASLEEP) return;
    for (const c of this.connections.list) {
      switch (c.state) {
        case ConnState.SEND_CREATE_CONNECTION:
          break; // never sent: dropped when halting ends
        case ConnState.SENT_CREATE_CONNECTION:
          if (c.is_le) {
            c.todo |= TODO_LE_CREATE_CONNECTION_CANCEL;
            c.state = ConnState.SEND_CANCEL_CONNECTION;
          } else c.todo |= TODO_CREATE_CONNECTION_CANCEL;
          break;
        case ConnState.SEND_DISCONNECT:
        case ConnState.SENT_DISCONNECT:
        case ConnState.RECEIVED_DISCONNECTION_COMPLETE:
        case ConnState.SEND_CANCEL_CONNECTION:
        case ConnState.SENT_CANCEL_CONNECTION:
          break;
        default:
          if (c.con_handle !== 0xffff) {
            c.disconnect_reason = ERROR_CODE_REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_POWER_OFF;
            c.todo = TODO_DISCONNECT;
            c.state = ConnState.SEND_DISCONNECT;
          }
      }
    }
    this.run_loop.set_timer(this.haltTimer, HCI_HALTING_TIMEOUT_MS);
    this.run_loop.add_timer(this.haltTimer);
    this.run();
  }

  /** Every link is gone (or the halting timeout fired): OFF, or SLEEPING with the transport open. */
  private finishHalting(): void {
    this.run_loop.remove_timer(this.haltTimer);
    if (this.state !== HCI_STATE_HALTING && this.state !== HCI_STATE_FALLING_ASLEEP) return;
    if (this.haltToSleep && this.state === HCI_STATE_FALLING_ASLEEP) {
      this.discardConnections();
      this.dropQueuedCommands();
      this.setState(HCI_STATE_SLEEPING);
      if (this.powerOnWhenOff) {
        this.powerOnWhenOff = false;
        this.hci_power_control(HCI_POWER_ON);
      }
      return;
    }
    this.powerOffNow();
  }

  /** Controller or transport trouble: everything to OFF, then power on again. */
  private restart(): void {
    this.powerOnWhenOff = true;
    this.powerOffNow();
  }

  // ===================================================================== internal: transport

  private onTransportEvent(ev: TransportEvent): void {
    switch (ev.type) {
      case 'opened':
        if (!this.transportOpening) return;
        this.transportOpening = false;
        this.transportOpen = true;
        if (this.state === HCI_STATE_INITIALIZING) this.startInit();
        return;
      case 'open-failed':
        // BTstack learns this synchronously (hci_power_control returns the error, no state events);
        // here INITIALIZING was already reported, so: POWERON_FAILED, then OFF (see hci_power_control)
        this.transportOpening = false;
        this.log.error(() => `transport ${this.transport?.name ?? ''} failed to open: ${ev.error}`);
        if (this.state === HCI_STATE_INITIALIZING) {
          this.init.stop();
          this.state = HCI_STATE_OFF;
          const buf = this.eventBuffer();
          const n = this.codes.btstack_event_poweron_failed_build(buf, 0);
          this.emitEvent(buf, n);
          if (this.state === HCI_STATE_OFF) this.setState(HCI_STATE_OFF);
        }
        return;
      case 'failed':
        this.log.error(() => `transport ${this.transport?.name ?? ''} failed: ${ev.error}`);
        if (this.state !== HCI_STATE_OFF) this.powerOffNow();
        return;
      case 'closed':
        this.onTransportClosed();
        return;
      case 'framing-error':
        // one garbage burst yields many framing errors (the deframer resynchronises byte by byte);
        // the first one closes the transport: the rest, until it is open again, belong to that burst
        if (!this.transportOpen) {
          this.log.debug(() => `transport framing error while the transport is being reset, ignored: ${ev.error}`);
          return;
        }
        this.log.error(() => `transport framing error: ${ev.error}; resetting the transport and powering on again`);
        this.framingErrorCallback?.(ev.error);
        if (this.state !== HCI_STATE_OFF) this.restart();
        return;
      case 'can-send-now':
        this.run();
        // upper layers that found the transport full wait for this (BTstack's H4 transport sends it too)
        if (!this.acl.reserved) this.emitTransportPacketSent();
        return;
      default:
        return;
    }
  }

  /** @internal */
  transportCanSend(packet_type: number): boolean {
    return this.transportOpen && !!this.transport && this.transport.can_send_packet_now(packet_type);
  }

  private onPacket(packet_type: number, packet: Uint8Array, size: number): void {
    if (!this.transportOpen || this.state === HCI_STATE_OFF) return;
    if (size > packet.length) size = packet.length;
    this.dump?.log_packet(packet_type, 1, packet, size);
    switch (packet_type) {
      case HCI_EVENT_PACKET:
        this.events.handle(packet, size);
        break;
      case HCI_ACL_DATA_PACKET:
        this.acl.receive(packet, size);
        break;
      case HCI_SCO_DATA_PACKET:
        this.log.debug('SCO packet dropped (SCO not supported)');
        break;
      default:
        this.log.error(() => `transport delivered packet type ${packet_type}, dropped`);
    }
    this.run();
  }

  // ===================================================================== internal: commands

  /** @internal the shared buffer for building internal commands */
  commandBuffer(): Uint8Array {
    return this.cmdBuf;
  }

  /** @internal a command may go to the controller now (credit, open transport) */
  canSendCommandInternal(): boolean {
    return this.cmdCredits > 0 && this.transportCanSend(HCI_COMMAND_DATA_PACKET);
  }

  /** @internal the Reset resend path: the controller may have lost the first Reset */
  forceCommandCredit(): void {
    if (this.cmdCredits < 1) this.cmdCredits = 1;
  }

  /**
   * @internal send a command that takes no command credit and gets no Command Complete unless it
   * is wrong (Host Number Of Completed Packets, Vol 4 Part E 7.3.40); the caller checked the transport
   */
  sendCommandWithoutCredit(packet: Uint8Array, size: number): void {
    this.dump?.log_packet(HCI_COMMAND_DATA_PACKET, 0, packet, size);
    const err = this.transport!.send_packet(HCI_COMMAND_DATA_PACKET, packet, size);
    if (err) this.log.error(() => `transport refused command 0x${little_endian_read_16(packet, 0).toString(16).padStart(4, '0')}: status ${err}`);
  }

  /** @internal encode and send an internal command; false on an encoding bug */
  sendCommandInternal(cmd: HciCommand, ...args: HciArg[]): boolean {
    const n = hci_cmd_encode(this.cmdBuf, cmd, ...args);
    if (n < 0) {
      this.log.error(() => `internal: cannot encode ${cmd.name}`);
      return false;
    }
    return this.sendCommandPacketInternal(this.cmdBuf, n);
  }

  /** @internal send a complete command packet now (the caller checked canSendCommandInternal) */
  sendCommandPacketInternal(packet: Uint8Array, size: number): boolean {
    const opcode = little_endian_read_16(packet, 0);
    if (this.cmdCredits > 0) this.cmdCredits--;
    this.outstanding.push(opcode);
    if (this.outstanding.length > 64) this.outstanding.shift();
    this.links.on_command_sent(opcode, packet.subarray(3, size));
    this.dump?.log_packet(HCI_COMMAND_DATA_PACKET, 0, packet, size);
    const err = this.transport!.send_packet(HCI_COMMAND_DATA_PACKET, packet, size);
    if (err) this.log.error(() => `transport refused command 0x${opcode.toString(16).padStart(4, '0')}: status ${err}`);
    return true;
  }

  // ===================================================================== internal: scheduler

  /** BTstack's hci_run: send what is due, one command per credit. Safe to call any time. */
  run(): void {
    if (this.running) {
      this.runAgain = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.runAgain = false;
        this.runOnce();
      } while (this.runAgain);
    } finally {
      this.running = false;
    }
  }

  private runOnce(): void {
    if (this.state === HCI_STATE_OFF || this.state === HCI_STATE_SLEEPING || !this.transportOpen) return;
    this.host_flow.run();
    this.acl.pump();
    if (this.state === HCI_STATE_INITIALIZING) {
      // the init sequence checks credits itself; it also notices when it is done
      while (this.state === HCI_STATE_INITIALIZING && this.init.run());
      if (this.state === HCI_STATE_INITIALIZING) return;
    }
    while (this.canSendCommandInternal()) {
      if (!this.runStep()) break;
    }
    if ((this.state === HCI_STATE_HALTING || this.state === HCI_STATE_FALLING_ASLEEP) && this.haltingDone()) {
      this.finishHalting();
    }
  }

  private haltingDone(): boolean {
    for (const c of this.connections.list) {
      if (c.state !== ConnState.SEND_CREATE_CONNECTION) return false;
    }
    return this.cmdQueue.length === 0;
  }

  /** Send one command if there is work. */
  private runStep(): boolean {
    switch (this.state) {
      case HCI_STATE_WORKING:
        if (this.sendQueuedCommand()) return true;
        if (this.links.run()) return true;
        return this.gap.run();
      case HCI_STATE_HALTING:
      case HCI_STATE_FALLING_ASLEEP:
        if (this.sendQueuedCommand()) return true;
        return this.links.run();
      default:
        return false;
    }
  }

  private sendQueuedCommand(): boolean {
    if (this.cmdQueue.length === 0) return false;
    const slot = this.cmdQueue[0]!;
    this.cmdQueue = this.cmdQueue.slice(1);
    this.sendCommandPacketInternal(slot, 3 + slot[2]!);
    this.cmdPool.free(slot);
    return true;
  }

  // ===================================================================== internal: events out

  /** @internal a scratch buffer for building an event at the current nesting depth */
  eventBuffer(): Uint8Array {
    return this.event_out.buffer();
  }

  /**
   * @internal hand an event built by the stack to every event handler (channel 0). As BTstack's
   * hci_emit_event, it is also written to the packet log (as an incoming event) unless `dump`
   * is false.
   */
  emitEvent(packet: Uint8Array, size: number, dump = true): void {
    this.event_out.to_list(this.eventHandlers, 0, packet, size, dump);
  }

  /** @internal hand an HCI event from the controller (already in the packet log) to every event handler */
  dispatchEvent(packet: Uint8Array, size: number): void {
    this.event_out.to_list(this.eventHandlers, 0, packet, size, false);
  }

  /** @internal */
  emitNrConnectionsChanged(): void {
    const buf = this.eventBuffer();
    const n = this.codes.btstack_event_nr_connections_changed_build(buf, 0, this.connections.size);
    this.emitEvent(buf, n);
  }

  /**
   * @internal HCI_EVENT_TRANSPORT_PACKET_SENT: the outgoing buffer is free again. Emitted from
   * the run loop after the current call returns (as an asynchronous H4 transport does in
   * BTstack), so a sender is never re-entered from inside hci_send_acl_packet_buffer.
   */
  emitTransportPacketSent(): void {
    if (this.packetSentPending) return;
    this.packetSentPending = true;
    this.run_loop.execute_on_main_thread(this.packetSentCallback);
  }

  private packetSentPending = false;
  private readonly packetSentCallback = (): void => {
    this.packetSentPending = false;
    const st = this.state;
    if (st !== HCI_STATE_WORKING && st !== HCI_STATE_HALTING && st !== HCI_STATE_FALLING_ASLEEP) return;
    const buf = this.eventBuffer();
    buf[0] = this.codes.HCI_EVENT_TRANSPORT_PACKET_SENT;
    buf[1] = 0;
    this.emitEvent(buf, 2, false); // BTstack does not log this one
  };

  /** @internal a synthesized LE Connection Complete for an attempt that ended in the host */
  emitLeConnectionComplete(status: number, address_type: number, address: BdAddr): void {
    const buf = this.eventBuffer();
    const n = this.codes.hci_subevent_le_connection_complete_build(buf, 0, status, 0, HCI_ROLE_MASTER, address_type, address, 0, 0, 0, 0);
    this.emitEvent(buf, n);
  }

  /** @internal */
  emitConnectionCompleteFailure(status: number, address: BdAddr): void {
    const buf = this.eventBuffer();
    const n = this.codes.hci_event_connection_complete_build(buf, 0, status, 0, address, 1, 0);
    this.emitEvent(buf, n);
  }

  /**
   * @internal Hardware Error: without a callback power off and on again (as BTstack); with one, OFF
   * first and then the callback (BTstack only calls the callback; see hci_set_hardware_error_callback).
   */
  hardwareError(code: number): void {
    this.log.error(() => `Hardware Error 0x${code.toString(16).padStart(2, '0')}`);
    if (this.state === HCI_STATE_OFF) return;
    const cb = this.hardwareErrorCallback;
    if (cb) {
      this.powerOffNow();
      cb(code);
    } else {
      this.restart();
    }
  }

  // ===================================================================== internal: ACL glue

  /** @internal send one ACL fragment (already counted against the controller's buffers) */
  sendAclFragment(packet: Uint8Array, size: number): void {
    this.dump?.log_packet(HCI_ACL_DATA_PACKET, 0, packet, size);
    const err = this.transport!.send_packet(HCI_ACL_DATA_PACKET, packet, size);
    if (err) this.log.error(() => `transport refused an ACL packet: status ${err}`);
  }

  /** @internal a complete L2CAP PDU as an ACL packet */
  deliverAcl(handle: number, packet: Uint8Array, size: number): void {
    const h = this.aclHandler;
    if (h) h(HCI_ACL_DATA_PACKET, handle, packet, size);
    else this.log.debug('ACL packet without a registered ACL handler, dropped');
  }

}
