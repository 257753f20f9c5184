/**
 * HCI's side of the transport: binding (hci_init), opening and closing (the transport opens and
 * closes asynchronously: a reopen waits for 'closed', or HCI_TRANSPORT_CLOSE_TIMEOUT_MS), the
 * transport's events (opened, open-failed, failed, closed, framing-error, reset, can-send-now), packets
 * in (to the event handler or the ACL path) and packets out (through the packet log).
 */
import { little_endian_read_16 } from '../core/bytes.js';
import { Timer } from '../core/run-loop.js';
import {
  HCI_ACL_DATA_PACKET,
  HCI_COMMAND_DATA_PACKET,
  HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS,
  HCI_EVENT_PACKET,
  HCI_SCO_DATA_PACKET,
  HCI_STATE_INITIALIZING,
  HCI_STATE_OFF,
} from '../codes/v1.4.js';
import type { HciState, HciTransportConfig } from './hci-state.js';
import type { HciTransport, TransportEvent } from './transport.js';

/** How long to wait for the transport's 'closed' before reopening anyway. */
export const HCI_TRANSPORT_CLOSE_TIMEOUT_MS = 500;

/** What the transport side needs from its siblings. */
export interface HciTransportLinkPeers {
  /** The transport is open while INITIALIZING: start the init sequence. */
  start_init(): void;
  /** The transport could not be opened (POWERON_FAILED, OFF). */
  open_failed(): void;
  /** The transport failed while in use (everything to OFF). */
  transport_failed(): void;
  /** Framing lost or the controller restarted: everything to OFF, then power on again. */
  restart(why: string): void;
  /** HCI events from the controller (hci-events.ts). Called per packet: a component, not a closure. */
  readonly events: { handle(packet: Uint8Array, size: number): void };
  /** ACL packets from the controller (hci-acl.ts). Called per packet. */
  readonly acl: { receive(packet: Uint8Array, size: number): void };
  /** hci_run (hci-scheduler.ts) after every packet: run_acl after ACL data and Number Of Completed Packets, run after any other event. */
  readonly scheduler: { run(): void; run_acl(): void };
  /** The outgoing ACL buffer is reserved by an upper layer. */
  acl_buffer_reserved(): boolean;
  transport_packet_sent(): void;
}

export class HciTransportLink {
  private opening = false;
  private closing = false;
  private openAfterClose = false;
  private readonly closeTimer: Timer;

  constructor(
    private readonly s: HciState,
    private readonly x: HciTransportLinkPeers,
  ) {
    this.closeTimer = new Timer(() => this.onClosed());
  }

  /** hci_init: take the transport and register for its packets and events. */
  bind(transport: HciTransport, config: HciTransportConfig | undefined): void {
    const s = this.s;
    s.transport = transport;
    s.transport_config = config;
    s.closed = false;
    transport.init(s.run_loop);
    transport.register_packet_handler((type, packet, size) => this.onPacket(type, packet, size));
    transport.register_event_handler((ev) => this.onEvent(ev));
  }

  /** Open (or, when open, start the init sequence right away). */
  open(): void {
    if (this.s.transport_open) {
      this.x.start_init();
      return;
    }
    if (this.closing) {
      this.openAfterClose = true;
      return;
    }
    if (this.opening) return;
    this.opening = true;
    this.s.transport!.open();
  }

  close(): void {
    if (!this.s.transport_open && !this.opening) return;
    this.s.transport_open = false;
    this.opening = false;
    this.closing = true;
    this.s.run_loop.set_timer(this.closeTimer, HCI_TRANSPORT_CLOSE_TIMEOUT_MS);
    this.s.run_loop.add_timer(this.closeTimer);
    this.s.transport!.close();
  }

  /** A command packet to the packet log and the transport (the caller checked it may go). */
  send_command(packet: Uint8Array, size: number): void {
    this.s.dump?.log_packet(HCI_COMMAND_DATA_PACKET, 0, packet, size);
    const err = this.s.transport!.send_packet(HCI_COMMAND_DATA_PACKET, packet, size);
    if (err)
      this.s.log.error(
        () => `transport refused command 0x${little_endian_read_16(packet, 0).toString(16).padStart(4, '0')}: status ${err}`,
      );
  }

  /** One ACL fragment (already counted against the controller's buffers). */
  send_acl(packet: Uint8Array, size: number): void {
    this.s.dump?.log_packet(HCI_ACL_DATA_PACKET, 0, packet, size);
    const err = this.s.transport!.send_packet(HCI_ACL_DATA_PACKET, packet, size);
    if (err) this.s.log.error(() => `transport refused an ACL packet: status ${err}`);
  }

  private onClosed(): void {
    this.s.run_loop.remove_timer(this.closeTimer);
    if (!this.closing) return;
    this.closing = false;
    if (this.openAfterClose) {
      this.openAfterClose = false;
      if (this.s.power === HCI_STATE_INITIALIZING) {
        this.opening = true;
        this.s.transport!.open();
      }
    }
  }

  private onEvent(ev: TransportEvent): void {
    const s = this.s;
    switch (ev.type) {
      case 'opened':
        if (!this.opening) return;
        this.opening = false;
        s.transport_open = true;
        if (s.power === HCI_STATE_INITIALIZING) this.x.start_init();
        return;
      case 'open-failed':
        // BTstack learns this synchronously (hci_power_control returns the error, no state events);
        // here INITIALIZING was already reported, so: POWERON_FAILED, then OFF (see hci_power_control)
        this.opening = false;
        s.log.error(() => `transport ${s.transport?.name ?? ''} failed to open: ${ev.error}`);
        if (s.power === HCI_STATE_INITIALIZING) this.x.open_failed();
        return;
      case 'failed':
        s.log.error(() => `transport ${s.transport?.name ?? ''} failed: ${ev.error}`);
        if (s.power !== HCI_STATE_OFF) this.x.transport_failed();
        return;
      case 'closed':
        this.onClosed();
        return;
      case 'framing-error':
        // one garbage burst yields many framing errors (the deframer resynchronises byte by byte);
        // the first one closes the transport: the rest, until it is open again, belong to that burst
        if (!s.transport_open) {
          s.log.debug(() => `transport framing error while the transport is being reset, ignored: ${ev.error}`);
          return;
        }
        s.log.error(() => `transport framing error: ${ev.error}; resetting the transport and powering on again`);
        s.framing_error_callback?.(ev.error);
        if (s.power !== HCI_STATE_OFF) this.x.restart('transport framing error');
        return;
      case 'reset':
        if (!s.transport_open) return;
        s.log.error(() => `${ev.error}; powering on again`);
        if (s.power !== HCI_STATE_OFF) this.x.restart('controller restarted');
        return;
      case 'can-send-now':
        this.x.scheduler.run();
        // upper layers that found the transport full wait for this (BTstack's H4 transport sends it too)
        if (!this.x.acl_buffer_reserved()) this.x.transport_packet_sent();
        return;
      default:
        return;
    }
  }

  private onPacket(packet_type: number, packet: Uint8Array, size: number): void {
    const s = this.s;
    if (!s.transport_open || s.power === HCI_STATE_OFF) return;
    if (size > packet.length) size = packet.length;
    s.dump?.log_packet(packet_type, 1, packet, size);
    switch (packet_type) {
      case HCI_EVENT_PACKET: {
        const completed = size > 0 && packet[0] === HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS;
        this.x.events.handle(packet, size);
        if (completed) {
          this.x.scheduler.run_acl();
          return;
        }
        break;
      }
      case HCI_ACL_DATA_PACKET:
        this.x.acl.receive(packet, size);
        this.x.scheduler.run_acl();
        return;
      case HCI_SCO_DATA_PACKET:
        s.log.debug('SCO packet dropped (SCO not supported)');
        break;
      default:
        s.log.error(() => `transport delivered packet type ${packet_type}, dropped`);
    }
    this.x.scheduler.run();
  }
}
