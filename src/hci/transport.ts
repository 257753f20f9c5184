/**
 * The transport contract between HCI and a port (BTstack's hci_transport_t).
 * A transport delivers whole HCI packets (H4 type + packet) to one packet handler, on the run loop.
 * The packet passed to the handler is valid only during the call.
 */
import type { RunLoop } from '../core/run-loop.js';

export type TransportPacketHandler = (packet_type: number, packet: Uint8Array, size: number) => void;

export type TransportEvent =
  | { type: 'opened' }
  | { type: 'open-failed'; error: string }
  /** The device vanished or failed (unplugged, read error): HCI goes to OFF. */
  | { type: 'failed'; error: string }
  | { type: 'closed' }
  /** H4 framing lost (unknown type byte, impossible length). HCI resets the transport. */
  | { type: 'framing-error'; error: string }
  /** Room to send again after can_send_packet_now() returned false. */
  | { type: 'can-send-now' };

export type TransportEventHandler = (event: TransportEvent) => void;

export interface HciTransport {
  readonly name: string;
  /** Bind to the stack's run loop; called once by hci_init. */
  init(run_loop: RunLoop): void;
  register_packet_handler(handler: TransportPacketHandler): void;
  register_event_handler(handler: TransportEventHandler): void;
  /** Start opening; completion is reported as 'opened' or 'open-failed' on the run loop. */
  open(): void;
  /** Close; reported as 'closed'. */
  close(): void;
  can_send_packet_now(packet_type: number): boolean;
  /**
   * Send one packet (without the H4 type byte). The transport copies what it needs before
   * returning. Returns 0 on success or a BTstack status.
   */
  send_packet(packet_type: number, packet: Uint8Array, size: number): number;
  /** Change the transport's line speed (UART); 0 on success. */
  set_baudrate?(baudrate: number): number;
}
