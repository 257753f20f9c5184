/**
 * Events HCI hands to its event handlers (BTstack's hci_emit_*): the controller's events as they
 * came (already in the packet log), and the events the stack builds itself (BTSTACK_EVENT_STATE,
 * _NR_CONNECTIONS_CHANGED, _POWERON_FAILED, synthesized connection failures,
 * HCI_EVENT_TRANSPORT_PACKET_SENT). Every handler gets channel 0.
 */
import type { BdAddr } from '../core/bytes.js';
import { HCI_ROLE_MASTER, HCI_STATE_FALLING_ASLEEP, HCI_STATE_HALTING, HCI_STATE_WORKING } from '../codes/v1.4.js';
import type { HciState } from './hci-state.js';

export class HciEmitter {
  private packetSentPending = false;
  /** packetSentCallback bound to this component, made the first time it is handed out. */
  #packetSentCallback: (() => void) | null = null;

  private packetSentCallback(): void {
    this.packetSentPending = false;
    const st = this.s.power;
    if (st !== HCI_STATE_WORKING && st !== HCI_STATE_HALTING && st !== HCI_STATE_FALLING_ASLEEP) return;
    const buf = this.buffer();
    buf[0] = this.s.codes.HCI_EVENT_TRANSPORT_PACKET_SENT;
    buf[1] = 0;
    this.emit(buf, 2, false); // BTstack does not log this one
  }

  constructor(private readonly s: HciState) {}

  /** A scratch buffer for building an event at the current nesting depth. */
  buffer(): Uint8Array {
    return this.s.event_out.buffer();
  }

  /**
   * Hand an event built by the stack to every event handler. As BTstack's hci_emit_event, it is
   * also written to the packet log (as an incoming event) unless `dump` is false.
   */
  emit(packet: Uint8Array, size: number, dump = true): void {
    this.s.event_out.to_list(this.s.event_handlers, 0, packet, size, dump);
  }

  /** Hand an HCI event from the controller (already in the packet log) to every event handler. */
  dispatch(packet: Uint8Array, size: number): void {
    this.s.event_out.to_list(this.s.event_handlers, 0, packet, size, false);
  }

  /** BTSTACK_EVENT_STATE. */
  state(state: number): void {
    const buf = this.buffer();
    const n = this.s.codes.btstack_event_state_build(buf, 0, state);
    this.emit(buf, n);
  }

  /** BTSTACK_EVENT_POWERON_FAILED. */
  poweron_failed(): void {
    const buf = this.buffer();
    const n = this.s.codes.btstack_event_poweron_failed_build(buf, 0);
    this.emit(buf, n);
  }

  nr_connections_changed(): void {
    const buf = this.buffer();
    const n = this.s.codes.btstack_event_nr_connections_changed_build(buf, 0, this.s.connections.size);
    this.emit(buf, n);
  }

  /** A synthesized Disconnection Complete (teardown in the host). */
  disconnection_complete(handle: number, reason: number): void {
    const buf = this.buffer();
    const n = this.s.codes.hci_event_disconnection_complete_build(buf, 0, 0, handle, reason);
    this.emit(buf, n);
  }

  /**
   * HCI_EVENT_TRANSPORT_PACKET_SENT: the outgoing buffer is free again. Emitted from the run loop
   * after the current call returns (as an asynchronous H4 transport does in BTstack), so a sender
   * is never re-entered from inside hci_send_acl_packet_buffer.
   */
  transport_packet_sent(): void {
    if (this.packetSentPending) return;
    this.packetSentPending = true;
    this.s.run_loop.execute_on_main_thread((this.#packetSentCallback ??= this.packetSentCallback.bind(this)));
  }

  /** A synthesized LE Connection Complete for an attempt that ended in the host. */
  le_connection_complete(status: number, address_type: number, address: BdAddr): void {
    const buf = this.buffer();
    const n = this.s.codes.hci_subevent_le_connection_complete_build(
      buf,
      0,
      status,
      0,
      HCI_ROLE_MASTER,
      address_type,
      address,
      0,
      0,
      0,
      0,
    );
    this.emit(buf, n);
  }

  /** A synthesized Connection Complete for a Create Connection the controller refused. */
  connection_complete_failure(status: number, address: BdAddr): void {
    const buf = this.buffer();
    const n = this.s.codes.hci_event_connection_complete_build(buf, 0, status, 0, address, 1, 0);
    this.emit(buf, n);
  }
}
