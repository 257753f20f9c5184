/**
 * How HCI's components reach each other (docs/ARCHITECTURE.md, the layer pattern): one object per
 * Hci whose prototype methods forward to the sibling that does the work (or fan one call out to
 * several). Each component gets it typed as the narrow interface it declares (HciPowerPeers,
 * HciSchedulerPeers, ...), so it sees only what it asked for; the facade creates the components,
 * then sets the fields. No closure per peer and per Stack.
 */
import type { BdAddr } from '../core/bytes.js';
import type { RunLoop } from '../core/run-loop.js';
import type { HciArg, HciCommand } from './commands.js';
import type { GapClassic, GapClassicPeers } from './gap-classic.js';
import type { GapLe, GapLePeers } from './gap-le.js';
import type { GapLeConn, GapLeConnPeers } from './gap-le-conn.js';
import type { GapReports, InquiryResultKind } from './gap-reports.js';
import type { HciAcl, HciAclPeers } from './hci-acl.js';
import { le_initiating, type HciConnection } from './hci-connection.js';
import type { HciEmitter } from './hci-emit.js';
import type { HciEvents, HciEventsPeers } from './hci-events.js';
import type { HciHostFlow, HciHostFlowPeers } from './hci-host-flow.js';
import type { HciInit, HciInitPeers } from './hci-init.js';
import type { GapLeConnectionParameters, HciLinkControl, HciLinkControlPeers } from './hci-link-control.js';
import type { HciPower, HciPowerPeers } from './hci-power.js';
import type { HciScheduler, HciSchedulerPeers } from './hci-scheduler.js';
import type { HciSecurity, HciSecurityPeers } from './hci-security.js';
import type { HciState } from './hci-state.js';
import type { HciSupervision, HciSupervisionPeers } from './hci-supervision.js';
import type { HciTransportLink, HciTransportLinkPeers } from './hci-transport-link.js';

export class HciWiring
  implements
    HciHostFlowPeers,
    HciAclPeers,
    GapClassicPeers,
    GapLePeers,
    GapLeConnPeers,
    HciSecurityPeers,
    HciLinkControlPeers,
    HciInitPeers,
    HciSchedulerPeers,
    HciEventsPeers,
    HciSupervisionPeers,
    HciTransportLinkPeers,
    HciPowerPeers
{
  readonly run_loop: RunLoop;
  out!: HciEmitter;
  host_flow!: HciHostFlow;
  acl!: HciAcl;
  classic!: GapClassic;
  le!: GapLe;
  le_conn!: GapLeConn;
  reports!: GapReports;
  security!: HciSecurity;
  links!: HciLinkControl;
  init!: HciInit;
  scheduler!: HciScheduler;
  events!: HciEvents;
  supervision!: HciSupervision;
  transport!: HciTransportLink;
  power!: HciPower;

  constructor(private readonly s: HciState) {
    this.run_loop = s.run_loop;
  }

  // ------------------------------------------------------------ commands (hci-scheduler.ts)
  run(): void {
    this.scheduler.run();
  }
  run_again(): void {
    this.scheduler.run_again();
  }
  send_command(cmd: HciCommand, ...args: HciArg[]): boolean {
    return this.scheduler.send_command(cmd, ...args);
  }
  send_command_without_credit(packet: Uint8Array, size: number): void {
    this.scheduler.send_command_without_credit(packet, size);
  }
  can_send_command(): boolean {
    return this.scheduler.can_send_command();
  }
  command_buffer(): Uint8Array {
    return this.scheduler.command_buffer();
  }
  send_command_packet(packet: Uint8Array, size: number): boolean {
    return this.scheduler.send_command_packet(packet, size);
  }
  force_command_credit(): void {
    this.scheduler.force_command_credit();
  }
  queue_command(cmd: HciCommand, ...args: HciArg[]): void {
    void this.scheduler.send_app_command(cmd, ...args);
  }
  drop_queued_commands(): void {
    this.scheduler.drop_queued();
  }
  prepare(packet: Uint8Array, size: number): number {
    return this.links.prepare(packet, size);
  }
  command_sent(opcode: number, params: Uint8Array): void {
    this.links.on_command_sent(opcode, params);
    this.supervision.command_sent(opcode, params);
  }
  gap_command_sent(opcode: number, params: Uint8Array): void {
    this.classic.on_command_sent(opcode);
    this.le.on_command_sent(opcode, params);
  }
  init_run(): boolean {
    return this.init.run();
  }

  // ------------------------------------------------------------ transport (hci-transport-link.ts)
  transport_send_command(packet: Uint8Array, size: number): void {
    this.transport.send_command(packet, size);
  }
  transport_send_acl(packet: Uint8Array, size: number): void {
    this.transport.send_acl(packet, size);
  }
  open_transport(): void {
    this.transport.open();
  }
  close_transport(): void {
    this.transport.close();
  }
  acl_buffer_reserved(): boolean {
    return this.acl.reserved;
  }
  transport_packet_sent(): void {
    this.out.transport_packet_sent();
  }

  // ------------------------------------------------------------ power (hci-power.ts) and init (hci-init.ts)
  start_init(): void {
    this.power.start_init();
  }
  open_failed(): void {
    this.power.transport_open_failed();
  }
  transport_failed(): void {
    this.power.transport_failed();
  }
  restart(why: string): void {
    this.power.restart(why);
  }
  init_done(): void {
    this.power.init_done();
  }
  init_failed(why: string): void {
    this.power.init_failed(why);
  }
  finish_halting(): void {
    this.power.finish_halting();
  }
  hardware_error(code: number): void {
    this.power.hardware_error(code);
  }
  init_start(): void {
    this.init.start();
  }
  init_stop(): void {
    this.init.stop();
  }
  init_command_complete(opcode: number, ret: Uint8Array): void {
    this.init.command_complete(opcode, ret);
  }
  reset_controller_state(): void {
    this.scheduler.reset_flow();
    this.supervision.reset();
    this.acl.reset();
    this.host_flow.reset();
    this.classic.reset_controller_state();
    this.le.reset_controller_state();
    this.le_conn.reset_controller_state();
  }

  // ------------------------------------------------------------ connections (hci-link-control.ts)
  release_connection(conn: HciConnection): void {
    this.security.link_down(conn);
    this.acl.release_connection(conn);
  }
  halt_connections(): void {
    this.links.halt_connections();
  }
  close_for_power_off(conn: HciConnection): void {
    this.links.close_for_power_off(conn);
  }

  // ------------------------------------------------------------ events the stack builds (hci-emit.ts)
  emit(packet: Uint8Array, size: number): void {
    this.out.emit(packet, size);
  }
  buffer(): Uint8Array {
    return this.out.buffer();
  }
  state_event(state: number): void {
    this.out.state(state);
  }
  poweron_failed_event(): void {
    this.out.poweron_failed();
  }
  disconnection_complete_event(handle: number, reason: number): void {
    this.out.disconnection_complete(handle, reason);
  }
  nr_connections_changed_event(): void {
    this.out.nr_connections_changed();
  }
  le_connection_complete_event(status: number, address_type: number, address: BdAddr): void {
    this.out.le_connection_complete(status, address_type, address);
  }
  inject(packet: Uint8Array, size: number): void {
    this.s.event_out.log(packet, size);
    this.events.handle(packet, size);
  }

  // ------------------------------------------------------------ LE GAP (gap-le.ts, gap-le-conn.ts)
  public_address(): BdAddr {
    return this.s.controller.local_bd_addr;
  }
  supports_command(bit: number): boolean {
    return this.s.controller.supports_command(bit);
  }
  initiating(): boolean {
    return this.le_conn.initiating || this.s.connections.list.some(le_initiating);
  }
  le_connection_parameters(): GapLeConnectionParameters {
    return this.le.le_connection;
  }
  le_own_address_type(): number {
    return this.le.le_own_address_type;
  }
  le_address_settled(): boolean {
    return this.le.address_settled;
  }

  // ------------------------------------------------------------ events to GAP (HciEventsGap)
  command_complete(opcode: number, ret: Uint8Array): void {
    this.classic.on_command_complete(opcode);
    this.le.on_command_complete(opcode, ret);
    this.le_conn.on_command_complete(opcode, ret);
    this.security.command_complete(opcode, ret);
  }
  command_status(opcode: number, status: number): void {
    this.classic.on_command_status(opcode, status);
    this.le_conn.on_command_status(opcode, status);
    this.security.command_status(opcode, status);
  }
  inquiry_result(packet: Uint8Array, size: number, kind: InquiryResultKind): boolean {
    return this.reports.inquiry_result(packet, size, kind);
  }
  inquiry_complete(status: number): void {
    this.classic.on_inquiry_complete(status);
  }
  remote_name_request_complete(): void {
    this.classic.on_remote_name_request_complete();
  }
  remote_name_waiting(): boolean {
    return this.classic.remote_name_waiting;
  }
  advertising_report(packet: Uint8Array, size: number): boolean {
    return this.reports.advertising_report(packet, size);
  }
  le_connection_complete(role_peripheral: boolean): void {
    this.le.on_le_connection_complete(role_peripheral);
  }
  le_disconnection(): void {
    this.le.on_le_disconnection();
  }
  le_meta(packet: Uint8Array, size: number): void {
    this.le_conn.on_le_meta(packet, size);
  }
}
