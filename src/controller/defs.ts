/**
 * Controller-side facts from the Core specification (Vol 4 Part E): the Supported_Commands bit of
 * every command the virtual controller implements, the LMP and LE feature bits it claims, and the
 * event-mask rules. Event and status codes come from the generated BTstack codes (`./codes.js`).
 */
import {
  hci_accept_connection_request,
  hci_authentication_requested,
  hci_create_connection,
  hci_create_connection_cancel,
  hci_delete_stored_link_key,
  hci_disconnect,
  hci_exit_sniff_mode,
  hci_host_buffer_size,
  hci_inquiry,
  hci_inquiry_cancel,
  hci_io_capability_request_negative_reply,
  hci_io_capability_request_reply,
  hci_le_clear_white_list,
  hci_le_connection_update,
  hci_le_create_connection,
  hci_le_create_connection_cancel,
  hci_le_encrypt,
  hci_le_long_term_key_negative_reply,
  hci_le_long_term_key_request_reply,
  hci_le_rand,
  hci_le_read_advertising_channel_tx_power,
  hci_le_read_buffer_size,
  hci_le_read_local_supported_features,
  hci_le_read_maximum_data_length,
  hci_le_read_remote_used_features,
  hci_le_read_suggested_default_data_length,
  hci_le_read_supported_states,
  hci_le_read_white_list_size,
  hci_le_set_advertise_enable,
  hci_le_set_advertising_data,
  hci_le_set_advertising_parameters,
  hci_le_set_data_length,
  hci_le_set_event_mask,
  hci_le_set_random_address,
  hci_le_set_scan_enable,
  hci_le_set_scan_parameters,
  hci_le_set_scan_response_data,
  hci_le_start_encryption,
  hci_le_write_suggested_default_data_length,
  hci_link_key_request_negative_reply,
  hci_link_key_request_reply,
  hci_pin_code_request_negative_reply,
  hci_pin_code_request_reply,
  hci_read_bd_addr,
  hci_read_buffer_size,
  hci_read_class_of_device,
  hci_read_encryption_key_size,
  hci_read_local_extended_features,
  hci_read_local_name,
  hci_read_local_supported_commands,
  hci_read_local_supported_features,
  hci_read_local_version_information,
  hci_read_remote_extended_features,
  hci_read_remote_supported_features,
  hci_read_remote_version_information,
  hci_read_rssi,
  hci_read_scan_enable,
  hci_reject_connection_request,
  hci_remote_name_request,
  hci_remote_name_request_cancel,
  hci_reset,
  hci_role_discovery,
  hci_set_connection_encryption,
  hci_set_controller_to_host_flow_control,
  hci_set_event_filter,
  hci_set_event_mask,
  hci_sniff_mode,
  hci_switch_role,
  hci_user_confirmation_request_negative_reply,
  hci_user_confirmation_request_reply,
  hci_user_passkey_request_negative_reply,
  hci_user_passkey_request_reply,
  hci_write_authentication_enable,
  hci_write_class_of_device,
  hci_write_default_link_policy_settings,
  hci_write_extended_inquiry_response,
  hci_write_inquiry_mode,
  hci_write_inquiry_scan_activity,
  hci_write_inquiry_scan_type,
  hci_write_le_host_supported,
  hci_write_link_policy_settings,
  hci_write_link_supervision_timeout,
  hci_write_local_name,
  hci_write_page_scan_activity,
  hci_write_page_scan_type,
  hci_write_page_timeout,
  hci_write_pin_type,
  hci_write_scan_enable,
  hci_write_secure_connections_host_support,
  hci_write_simple_pairing_mode,
  hci_write_synchronous_flow_control_enable,
  hci_read_link_policy_settings,
  hci_read_default_link_policy_settings,
  hci_read_connection_accept_timeout,
  hci_write_connection_accept_timeout,
  hci_read_page_timeout,
  hci_read_page_scan_activity,
  hci_read_inquiry_scan_activity,
  hci_read_authentication_enable,
  hci_read_voice_setting,
  hci_write_voice_setting,
  hci_host_number_of_completed_packets,
  hci_read_link_supervision_timeout,
  hci_read_number_of_supported_iac,
  hci_read_current_iac_lap,
  hci_write_current_iac_lap,
  hci_read_inquiry_scan_type,
  hci_read_inquiry_mode,
  hci_read_page_scan_type,
  hci_read_simple_pairing_mode,
  hci_read_le_host_supported,
  hci_read_secure_connections_host_support,
  hci_le_add_device_to_white_list,
  hci_le_remove_device_from_white_list,
  hci_le_remote_connection_parameter_request_reply,
  hci_le_remote_connection_parameter_request_negative_reply,
  hci_le_read_phy,
  hci_le_set_default_phy,
  hci_le_set_phy,
  hci_le_add_device_to_resolving_list,
  hci_le_remove_device_from_resolving_list,
  hci_le_clear_resolving_list,
  hci_le_read_resolving_list_size,
  hci_le_read_peer_resolvable_address,
  hci_le_read_local_resolvable_address,
  hci_le_set_address_resolution_enabled,
  hci_le_set_resolvable_private_address_timeout,
  hci_le_set_privacy_mode,
  type HciCommand,
} from '../hci/commands.js';

/**
 * Supported_Commands bit (octet * 8 + bit) per command, from the table in Vol 4 Part E 6.27.
 * Vendor commands have no bit.
 */
export const SUPPORTED_COMMAND_BIT: ReadonlyMap<HciCommand, number> = new Map<HciCommand, number>([
  [hci_inquiry, 0],
  [hci_inquiry_cancel, 1],
  [hci_create_connection, 4],
  [hci_disconnect, 5],
  [hci_create_connection_cancel, 7],
  [hci_accept_connection_request, 8],
  [hci_reject_connection_request, 9],
  [hci_link_key_request_reply, 10],
  [hci_link_key_request_negative_reply, 11],
  [hci_pin_code_request_reply, 12],
  [hci_pin_code_request_negative_reply, 13],
  [hci_authentication_requested, 15],
  [hci_set_connection_encryption, 16],
  [hci_remote_name_request, 19],
  [hci_remote_name_request_cancel, 20],
  [hci_read_remote_supported_features, 21],
  [hci_read_remote_extended_features, 22],
  [hci_read_remote_version_information, 23],
  [hci_sniff_mode, 34],
  [hci_exit_sniff_mode, 35],
  [hci_role_discovery, 39],
  [hci_switch_role, 40],
  [hci_write_link_policy_settings, 42],
  [hci_write_default_link_policy_settings, 44],
  [hci_set_event_mask, 46],
  [hci_reset, 47],
  [hci_set_event_filter, 48],
  [hci_write_pin_type, 51],
  [hci_delete_stored_link_key, 55],
  [hci_write_local_name, 56],
  [hci_read_local_name, 57],
  [hci_write_page_timeout, 61],
  [hci_read_scan_enable, 62],
  [hci_write_scan_enable, 63],
  [hci_write_page_scan_activity, 65],
  [hci_write_inquiry_scan_activity, 67],
  [hci_write_authentication_enable, 69],
  [hci_read_class_of_device, 72],
  [hci_write_class_of_device, 73],
  [hci_write_synchronous_flow_control_enable, 84],
  [hci_set_controller_to_host_flow_control, 85],
  [hci_host_buffer_size, 86],
  [hci_write_link_supervision_timeout, 89],
  [hci_write_inquiry_scan_type, 101],
  [hci_write_inquiry_mode, 103],
  [hci_write_page_scan_type, 105],
  [hci_read_local_version_information, 115],
  [hci_read_local_supported_commands, 116],
  [hci_read_local_supported_features, 117],
  [hci_read_local_extended_features, 118],
  [hci_read_buffer_size, 119],
  [hci_read_bd_addr, 121],
  [hci_read_rssi, 125],
  [hci_write_extended_inquiry_response, 137],
  [hci_write_simple_pairing_mode, 142],
  [hci_io_capability_request_reply, 151],
  [hci_user_confirmation_request_reply, 152],
  [hci_user_confirmation_request_negative_reply, 153],
  [hci_user_passkey_request_reply, 154],
  [hci_user_passkey_request_negative_reply, 155],
  [hci_io_capability_request_negative_reply, 163],
  [hci_read_encryption_key_size, 164],
  [hci_write_le_host_supported, 198],
  [hci_le_set_event_mask, 200],
  [hci_le_read_buffer_size, 201],
  [hci_le_read_local_supported_features, 202],
  [hci_le_set_random_address, 204],
  [hci_le_set_advertising_parameters, 205],
  [hci_le_read_advertising_channel_tx_power, 206],
  [hci_le_set_advertising_data, 207],
  [hci_le_set_scan_response_data, 208],
  [hci_le_set_advertise_enable, 209],
  [hci_le_set_scan_parameters, 210],
  [hci_le_set_scan_enable, 211],
  [hci_le_create_connection, 212],
  [hci_le_create_connection_cancel, 213],
  [hci_le_read_white_list_size, 214],
  [hci_le_clear_white_list, 215],
  [hci_le_connection_update, 218],
  [hci_le_read_remote_used_features, 221],
  [hci_le_encrypt, 222],
  [hci_le_rand, 223],
  [hci_le_start_encryption, 224],
  [hci_le_long_term_key_request_reply, 225],
  [hci_le_long_term_key_negative_reply, 226],
  [hci_le_read_supported_states, 227],
  [hci_write_secure_connections_host_support, 259],
  [hci_le_set_data_length, 270],
  [hci_le_read_suggested_default_data_length, 271],
  [hci_le_write_suggested_default_data_length, 272],
  [hci_le_read_maximum_data_length, 283],
  [hci_read_link_policy_settings, 41],
  [hci_read_default_link_policy_settings, 43],
  [hci_read_connection_accept_timeout, 58],
  [hci_write_connection_accept_timeout, 59],
  [hci_read_page_timeout, 60],
  [hci_read_page_scan_activity, 64],
  [hci_read_inquiry_scan_activity, 66],
  [hci_read_authentication_enable, 68],
  [hci_read_voice_setting, 74],
  [hci_write_voice_setting, 75],
  [hci_host_number_of_completed_packets, 87],
  [hci_read_link_supervision_timeout, 88],
  [hci_read_number_of_supported_iac, 90],
  [hci_read_current_iac_lap, 91],
  [hci_write_current_iac_lap, 92],
  [hci_read_inquiry_scan_type, 100],
  [hci_read_inquiry_mode, 102],
  [hci_read_page_scan_type, 104],
  [hci_read_simple_pairing_mode, 141],
  [hci_read_le_host_supported, 197],
  [hci_read_secure_connections_host_support, 258],
  [hci_le_add_device_to_white_list, 216],
  [hci_le_remove_device_from_white_list, 217],
  [hci_le_remote_connection_parameter_request_reply, 268],
  [hci_le_remote_connection_parameter_request_negative_reply, 269],
  [hci_le_read_phy, 284],
  [hci_le_set_default_phy, 285],
  [hci_le_set_phy, 286],
  [hci_le_add_device_to_resolving_list, 275],
  [hci_le_remove_device_from_resolving_list, 276],
  [hci_le_clear_resolving_list, 277],
  [hci_le_read_resolving_list_size, 278],
  [hci_le_read_peer_resolvable_address, 279],
  [hci_le_read_local_resolvable_address, 280],
  [hci_le_set_address_resolution_enabled, 281],
  [hci_le_set_resolvable_private_address_timeout, 282],
  [hci_le_set_privacy_mode, 314],
]);

/** Build the 64-byte Supported_Commands field for a set of implemented commands. */
export function supported_commands_bitmap(commands: Iterable<HciCommand>): Uint8Array {
  const out = new Uint8Array(64);
  for (const c of commands) {
    const bit = SUPPORTED_COMMAND_BIT.get(c);
    if (bit !== undefined) out[bit >> 3]! |= 1 << (bit & 7);
  }
  return out;
}

/*
 * The feature and state tables below are the defaults every controller starts from. They are
 * frozen arrays: each controller holds its own Uint8Array copy (see controller-state.ts), so a
 * test that changes one controller's features never affects another controller.
 */

/**
 * LMP features page 0 (Vol 2 Part C 3.3): 3/5-slot, encryption, slot offset, timing accuracy,
 * role switch, sniff; EDR 2/3 Mbps, enhanced/interlaced scans, inquiry with RSSI; LE
 * supported (controller), 3-slot EDR; 5-slot EDR; EIR, simultaneous LE and BR/EDR (controller),
 * secure simple pairing, encapsulated PDU, non-flushable packet boundary flag; extended features.
 */
export const LMP_FEATURES_PAGE0: readonly number[] = Object.freeze([0xbf, 0x00, 0x00, 0x7e, 0xc0, 0x01, 0x5b, 0x80]);
/** Page 2: Secure Connections (Controller Support), bit 8. */
export const LMP_FEATURES_PAGE2: readonly number[] = Object.freeze([0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
export const LMP_MAX_PAGE = 2;

/** Host-support bits of features page 1, set from the host's Write commands. */
export const HOST_FEATURE_SSP = 0x01;
export const HOST_FEATURE_LE = 0x02;
export const HOST_FEATURE_LE_BREDR = 0x04;
export const HOST_FEATURE_SC = 0x08;

/**
 * LE features (Vol 6 Part B 4.6): LE Encryption (bit 0), Connection Parameters Request procedure
 * (1), Extended Reject Indication (2), Peripheral-initiated Features Exchange (3), LE Data Packet
 * Length Extension (5), LL Privacy (6), LE 2M PHY (8), LE Coded PHY (11).
 */
export const LE_FEATURES: readonly number[] = Object.freeze([0x6f, 0x09, 0, 0, 0, 0, 0, 0]);
export const LE_FEATURE_LL_PRIVACY = 6;
/** Entries in the resolving list by default (ControllerOptions.resolving_list_size). */
export const LE_RESOLVING_LIST_SIZE = 8;
/** LE feature bits the controller's procedures look at. */
export const LE_FEATURE_CONN_PARAMS_REQUEST = 1;
export const LE_FEATURE_2M_PHY = 8;
export const LE_FEATURE_CODED_PHY = 11;
/** Whether an LE features field has bit `bit`. */
export function le_feature(features: Uint8Array, bit: number): boolean {
  return ((features[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0;
}
/** PHY values in events (Vol 4 Part E 7.7.65.12) and the preference bits of LE Set PHY (7.8.49). */
export const LE_PHY_1M = 1;
export const LE_PHY_2M = 2;
export const LE_PHY_CODED = 3;
/** LL response timeout (Vol 6 Part B 5.2): 40 s. */
export const LL_RESPONSE_TIMEOUT_MS = 40000;
/** LE_States: every legacy state and combination (bits 0-41). */
export const LE_SUPPORTED_STATES: readonly number[] = Object.freeze([0xff, 0xff, 0xff, 0xff, 0xff, 0x03, 0, 0]);

/** Default Event_Mask after reset (Vol 4 Part E 7.3.1): bits 0-44. */
export const DEFAULT_EVENT_MASK_LO = 0xffffffff;
export const DEFAULT_EVENT_MASK_HI = 0x00001fff;
/** Default LE_Event_Mask after reset (7.8.1): bits 0-4. */
export const DEFAULT_LE_EVENT_MASK_LO = 0x0000001f;
export const DEFAULT_LE_EVENT_MASK_HI = 0;

/**
 * Event_Mask bit for an event code, or -1 when the event cannot be masked (Command Complete,
 * Command Status, Number Of Completed Packets). For codes 0x01-0x3E the bit is code - 1.
 */
export function event_mask_bit(code: number): number {
  if (code === 0x0e || code === 0x0f || code === 0x13) return -1;
  if (code >= 0x01 && code <= 0x3e) return code - 1;
  return -1;
}

export function mask_has(lo: number, hi: number, bit: number): boolean {
  if (bit < 0) return true;
  return bit < 32 ? ((lo >>> bit) & 1) === 1 : ((hi >>> (bit - 32)) & 1) === 1;
}

/** LE data length limits (Vol 6 Part B 4.5.10). */
export const LE_MIN_OCTETS = 27;
export const LE_MAX_OCTETS = 251;
export const LE_MIN_TIME = 328;
export const LE_MAX_TIME = 2120;
/** Transmission time on the 1M PHY for a data PDU of n payload octets (µs). */
export function le_octets_to_time(octets: number): number {
  return (octets + 14) * 8;
}

/** Entries in the LE filter accept list. */
export const LE_ACCEPT_LIST_SIZE = 8;

/** Largest classic ACL payload carried in one baseband packet (3-DH5). */
export const CLASSIC_AIR_MAX = 1021;

/** General Inquiry Access Code LAP. */
export const GIAC = 0x9e8b33;
/** Current IAC LAPs a controller can listen to at once (Read Number Of Supported IAC). */
export const NUM_SUPPORTED_IAC = 2;
/** Inquiry LAP range (GIAC/DIAC): 0x9E8B00-0x9E8B3F. */
export const LAP_MIN = 0x9e8b00;
export const LAP_MAX = 0x9e8b3f;
