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
  /**
   * H4 framing lost (unknown type byte, length above the limit). `error` says where (stream byte
   * position), what, and the error count. HCI logs it at error level, calls the framing error
   * callback (hci_set_framing_error_callback) and resets the transport, once per burst.
   */
  | { type: 'framing-error'; error: string }
  /**
   * The controller restarted on its own (H5: a SYNC on an active link, Core Vol 4 Part D 8.3).
   * HCI logs it at error level and restarts as after a Hardware Error without a callback: every
   * link reported gone, OFF, the transport reset, power on again.
   */
  | { type: 'reset'; error: string }
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
  /**
   * Largest ACL data length (without the 4-byte header) the transport's receive path takes from
   * the controller (H4: its deframer's max_acl). Absent: 65535, every length H4 can express.
   * With host flow control HCI announces at most this in Host Buffer Size.
   */
  max_acl_receive_length?(): number;
  /** Change the transport's line speed (UART); 0 on success. */
  set_baudrate?(baudrate: number): number;
  /**
   * bthost extension, not in BTstack: while the host has ACL packets in the controller's buffers,
   * HCI tells the transport how many bytes the (smallest) buffer pool holding them takes (packets x
   * length), and 0 once none are in flight; it calls again only when that changes. A transport that
   * delays its reads (the serial fd path's read window) keeps the delay short enough that Number Of
   * Completed Packets come back before those buffers run dry; with nothing in flight it need not.
   */
  controller_acl_buffer_bytes?(bytes: number): void;
}
