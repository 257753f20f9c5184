/**
 * The contract HCI offers the layer above it (L2CAP): BTstack's names, exact types. `Hci`
 * (hci.ts) implements it; L2CAP's unit tests fake it.
 */
import type { BdAddr } from '../core/bytes.js';

/** BTstack's btstack_packet_handler_t. For events, channel is 0; for ACL, the connection handle. */
export type PacketHandler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => void;

/** BTstack's btstack_packet_callback_registration_t. */
export interface BtstackPacketCallbackRegistration {
  callback: PacketHandler;
}

/** What L2CAP needs from HCI (BTstack names). */
export interface HciService {
  readonly gap: {
    gap_connectable_control(enable: boolean | number): void;
    gap_disconnect(handle: number): number;
    gap_security_level(handle: number): number;
    /**
     * BTstack's gap_request_security_level: raise the link's security (authentication, then
     * encryption) to at least `level`; the outcome reaches every HCI event handler as
     * GAP_EVENT_SECURITY_LEVEL (handle, reached level) exactly once per request.
     */
    gap_request_security_level(con_handle: number, level: number): void;
    /** GAP_SECURITY_MODE_2 or _4 (BTstack default 4). */
    gap_get_security_mode(): number;
    /** The minimum level mode 4 asks of every service but SDP (BTstack default LEVEL_2). */
    gap_get_security_level(): number;
    /**
     * BTstack's gap_drop_link_key_for_bd_addr: forget the link key for `addr` (L2CAP calls it when
     * the remote refuses a channel with "security block"). Optional until the key store lands.
     */
    gap_drop_link_key_for_bd_addr?(addr: BdAddr): void;
    /**
     * LE connection parameters (gap-le-conn.ts). As central, L2CAP answers a peripheral's
     * Connection Parameter Update Request: accept when gap_connection_parameter_range_included
     * (gap_get_connection_parameter_range), then gap_update_connection_parameters sends LE
     * Connection Update. As peripheral, gap_request_connection_parameter_update stores the request
     * and emits L2CAP_EVENT_TRIGGER_RUN; L2CAP then takes it (once) with
     * gap_le_take_connection_parameter_update_request() and sends the signalling request.
     */
    gap_update_connection_parameters?(
      con_handle: number,
      conn_interval_min: number,
      conn_interval_max: number,
      conn_latency: number,
      supervision_timeout: number,
    ): number;
    gap_le_take_connection_parameter_update_request?(): {
      con_handle: number;
      conn_interval_min: number;
      conn_interval_max: number;
      conn_latency: number;
      supervision_timeout: number;
    } | null;
    gap_connection_parameter_range_included?(
      existing_range: {
        le_conn_interval_min: number;
        le_conn_interval_max: number;
        le_conn_latency_min: number;
        le_conn_latency_max: number;
        le_supervision_timeout_min: number;
        le_supervision_timeout_max: number;
      },
      le_conn_interval_min: number,
      le_conn_interval_max: number,
      le_conn_latency: number,
      le_supervision_timeout: number,
    ): number;
    gap_get_connection_parameter_range?(range: {
      le_conn_interval_min: number;
      le_conn_interval_max: number;
      le_conn_latency_min: number;
      le_conn_latency_max: number;
      le_supervision_timeout_min: number;
      le_supervision_timeout_max: number;
    }): void;
  };
  hci_add_event_handler(registration: BtstackPacketCallbackRegistration): void;
  hci_remove_event_handler?(registration: BtstackPacketCallbackRegistration): void;
  hci_register_acl_packet_handler(handler: PacketHandler | null): void;
  hci_get_state(): number;
  hci_connect_acl(addr: BdAddr): number;
  hci_can_send_acl_packet_now(con_handle: number): boolean;
  hci_can_send_prepared_acl_packet_now(con_handle: number): boolean;
  hci_reserve_packet_buffer(): boolean;
  hci_release_packet_buffer(): void;
  hci_is_packet_buffer_reserved(): boolean;
  hci_get_outgoing_packet_buffer(): Uint8Array;
  hci_send_acl_packet_buffer(size: number): number;
  hci_non_flushable_packet_boundary_flag_supported(): boolean;
  hci_connection_for_handle(con_handle: number): { readonly address: BdAddr; readonly is_le: boolean } | null;
  /** The connection record for an address (con_handle 0xFFFF while it is being created). */
  hci_connection_for_bd_addr_and_type(
    addr: BdAddr,
    addr_type: number,
  ): { readonly con_handle: number; readonly is_le: boolean } | null;
}
