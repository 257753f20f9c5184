/**
 * HCI command templates, as BTstack's hci_cmd.c: opcode + a parameter format string.
 * One table serves both sides: the host encodes commands from it (`hci_cmd_encode`) and the
 * virtual controller decodes them (`hci_cmd_decode`) and encodes its return parameters
 * (`ret`, same letters) in Command Complete.
 *
 * Opcodes and parameter layouts are facts from the Bluetooth Core specification, Vol 4, Part E, 7.
 *
 * Format letters (all multi-byte integers little endian):
 *   1 2 3 4  unsigned integer of that many bytes      H  connection handle (uint16)
 *   B  bd_addr (6 bytes; argument in display order, reversed on the wire)
 *   D  8 bytes as given       P  16 bytes as given (keys, plaintext)     A  31 bytes (adv data)
 *   E  240 bytes (EIR)        N  248-byte name, UTF-8, zero padded       C  64 bytes (supported commands)
 *   V  the rest of the parameters (variable length; must be last)
 */
import { reverse_bytes } from '../core/bytes.js';

export interface HciCommand {
  readonly name: string;
  readonly opcode: number;
  readonly format: string;
  /** Return parameters in Command Complete (same letters); undefined for Command Status commands. */
  readonly ret?: string;
  /** True when the controller answers with Command Status and a later event. */
  readonly async?: boolean;
}

export const OGF_LINK_CONTROL = 0x01;
export const OGF_LINK_POLICY = 0x02;
export const OGF_CONTROLLER_BASEBAND = 0x03;
export const OGF_INFORMATIONAL_PARAMETERS = 0x04;
export const OGF_STATUS_PARAMETERS = 0x05;
export const OGF_TESTING = 0x06;
export const OGF_LE_CONTROLLER = 0x08;
export const OGF_VENDOR = 0x3f;

export function hci_opcode(ogf: number, ocf: number): number {
  return ((ogf & 0x3f) << 10) | (ocf & 0x3ff);
}

const cmd = (name: string, ogf: number, ocf: number, format: string, ret?: string): HciCommand =>
  Object.freeze({ name, opcode: hci_opcode(ogf, ocf), format, ret, async: ret === undefined });

const LC = OGF_LINK_CONTROL,
  LP = OGF_LINK_POLICY,
  CB = OGF_CONTROLLER_BASEBAND;
const IP = OGF_INFORMATIONAL_PARAMETERS,
  SP = OGF_STATUS_PARAMETERS,
  LE = OGF_LE_CONTROLLER;

// Link control
export const hci_inquiry = cmd('HCI_Inquiry', LC, 0x01, '311');
export const hci_inquiry_cancel = cmd('HCI_Inquiry_Cancel', LC, 0x02, '', '1');
export const hci_create_connection = cmd('HCI_Create_Connection', LC, 0x05, 'B21121');
export const hci_disconnect = cmd('HCI_Disconnect', LC, 0x06, 'H1');
export const hci_create_connection_cancel = cmd('HCI_Create_Connection_Cancel', LC, 0x08, 'B', '1B');
export const hci_accept_connection_request = cmd('HCI_Accept_Connection_Request', LC, 0x09, 'B1');
export const hci_reject_connection_request = cmd('HCI_Reject_Connection_Request', LC, 0x0a, 'B1');
export const hci_link_key_request_reply = cmd('HCI_Link_Key_Request_Reply', LC, 0x0b, 'BP', '1B');
export const hci_link_key_request_negative_reply = cmd('HCI_Link_Key_Request_Negative_Reply', LC, 0x0c, 'B', '1B');
export const hci_pin_code_request_reply = cmd('HCI_PIN_Code_Request_Reply', LC, 0x0d, 'B1P', '1B');
export const hci_pin_code_request_negative_reply = cmd('HCI_PIN_Code_Request_Negative_Reply', LC, 0x0e, 'B', '1B');
export const hci_authentication_requested = cmd('HCI_Authentication_Requested', LC, 0x11, 'H');
export const hci_set_connection_encryption = cmd('HCI_Set_Connection_Encryption', LC, 0x13, 'H1');
export const hci_remote_name_request = cmd('HCI_Remote_Name_Request', LC, 0x19, 'B112');
export const hci_remote_name_request_cancel = cmd('HCI_Remote_Name_Request_Cancel', LC, 0x1a, 'B', '1B');
export const hci_read_remote_supported_features = cmd('HCI_Read_Remote_Supported_Features', LC, 0x1b, 'H');
export const hci_read_remote_extended_features = cmd('HCI_Read_Remote_Extended_Features', LC, 0x1c, 'H1');
export const hci_read_remote_version_information = cmd('HCI_Read_Remote_Version_Information', LC, 0x1d, 'H');
export const hci_io_capability_request_reply = cmd('HCI_IO_Capability_Request_Reply', LC, 0x2b, 'B111', '1B');
export const hci_user_confirmation_request_reply = cmd('HCI_User_Confirmation_Request_Reply', LC, 0x2c, 'B', '1B');
export const hci_user_confirmation_request_negative_reply = cmd(
  'HCI_User_Confirmation_Request_Negative_Reply',
  LC,
  0x2d,
  'B',
  '1B',
);
export const hci_user_passkey_request_reply = cmd('HCI_User_Passkey_Request_Reply', LC, 0x2e, 'B4', '1B');
export const hci_user_passkey_request_negative_reply = cmd('HCI_User_Passkey_Request_Negative_Reply', LC, 0x2f, 'B', '1B');
export const hci_io_capability_request_negative_reply = cmd('HCI_IO_Capability_Request_Negative_Reply', LC, 0x34, 'B1', '1B');

// Link policy
export const hci_sniff_mode = cmd('HCI_Sniff_Mode', LP, 0x03, 'H2222');
export const hci_exit_sniff_mode = cmd('HCI_Exit_Sniff_Mode', LP, 0x04, 'H');
export const hci_role_discovery = cmd('HCI_Role_Discovery', LP, 0x09, 'H', '1H1');
export const hci_switch_role = cmd('HCI_Switch_Role', LP, 0x0b, 'B1');
export const hci_write_link_policy_settings = cmd('HCI_Write_Link_Policy_Settings', LP, 0x0d, 'H2', '1H');
export const hci_read_link_policy_settings = cmd('HCI_Read_Link_Policy_Settings', LP, 0x0c, 'H', '1H2');
export const hci_read_default_link_policy_settings = cmd('HCI_Read_Default_Link_Policy_Settings', LP, 0x0e, '', '12');
export const hci_write_default_link_policy_settings = cmd('HCI_Write_Default_Link_Policy_Settings', LP, 0x0f, '2', '1');

// Controller and baseband
export const hci_set_event_mask = cmd('HCI_Set_Event_Mask', CB, 0x01, '44', '1');
export const hci_reset = cmd('HCI_Reset', CB, 0x03, '', '1');
export const hci_set_event_filter = cmd('HCI_Set_Event_Filter', CB, 0x05, '1V', '1');
export const hci_write_pin_type = cmd('HCI_Write_PIN_Type', CB, 0x0a, '1', '1');
export const hci_read_connection_accept_timeout = cmd('HCI_Read_Connection_Accept_Timeout', CB, 0x15, '', '12');
export const hci_write_connection_accept_timeout = cmd('HCI_Write_Connection_Accept_Timeout', CB, 0x16, '2', '1');
export const hci_read_page_timeout = cmd('HCI_Read_Page_Timeout', CB, 0x17, '', '12');
export const hci_read_page_scan_activity = cmd('HCI_Read_Page_Scan_Activity', CB, 0x1b, '', '122');
export const hci_read_inquiry_scan_activity = cmd('HCI_Read_Inquiry_Scan_Activity', CB, 0x1d, '', '122');
export const hci_read_authentication_enable = cmd('HCI_Read_Authentication_Enable', CB, 0x1f, '', '11');
export const hci_read_voice_setting = cmd('HCI_Read_Voice_Setting', CB, 0x25, '', '12');
export const hci_write_voice_setting = cmd('HCI_Write_Voice_Setting', CB, 0x26, '2', '1');
// No event answers Host Number Of Completed Packets unless its parameters are invalid (Command Complete 0x12).
export const hci_host_number_of_completed_packets = cmd('HCI_Host_Number_Of_Completed_Packets', CB, 0x35, '1V');
export const hci_read_link_supervision_timeout = cmd('HCI_Read_Link_Supervision_Timeout', CB, 0x36, 'H', '1H2');
export const hci_read_number_of_supported_iac = cmd('HCI_Read_Number_Of_Supported_IAC', CB, 0x38, '', '11');
export const hci_read_current_iac_lap = cmd('HCI_Read_Current_IAC_LAP', CB, 0x39, '', '1V');
export const hci_write_current_iac_lap = cmd('HCI_Write_Current_IAC_LAP', CB, 0x3a, '1V', '1');
export const hci_read_inquiry_scan_type = cmd('HCI_Read_Inquiry_Scan_Type', CB, 0x42, '', '11');
export const hci_read_inquiry_mode = cmd('HCI_Read_Inquiry_Mode', CB, 0x44, '', '11');
export const hci_read_page_scan_type = cmd('HCI_Read_Page_Scan_Type', CB, 0x46, '', '11');
export const hci_read_simple_pairing_mode = cmd('HCI_Read_Simple_Pairing_Mode', CB, 0x55, '', '11');
export const hci_read_le_host_supported = cmd('HCI_Read_LE_Host_Support', CB, 0x6c, '', '111');
export const hci_read_secure_connections_host_support = cmd('HCI_Read_Secure_Connections_Host_Support', CB, 0x79, '', '11');
export const hci_delete_stored_link_key = cmd('HCI_Delete_Stored_Link_Key', CB, 0x12, 'B1', '12');
export const hci_write_local_name = cmd('HCI_Write_Local_Name', CB, 0x13, 'N', '1');
export const hci_read_local_name = cmd('HCI_Read_Local_Name', CB, 0x14, '', '1N');
export const hci_write_page_timeout = cmd('HCI_Write_Page_Timeout', CB, 0x18, '2', '1');
export const hci_read_scan_enable = cmd('HCI_Read_Scan_Enable', CB, 0x19, '', '11');
export const hci_write_scan_enable = cmd('HCI_Write_Scan_Enable', CB, 0x1a, '1', '1');
export const hci_write_page_scan_activity = cmd('HCI_Write_Page_Scan_Activity', CB, 0x1c, '22', '1');
export const hci_write_inquiry_scan_activity = cmd('HCI_Write_Inquiry_Scan_Activity', CB, 0x1e, '22', '1');
export const hci_write_authentication_enable = cmd('HCI_Write_Authentication_Enable', CB, 0x20, '1', '1');
export const hci_read_class_of_device = cmd('HCI_Read_Class_of_Device', CB, 0x23, '', '13');
export const hci_write_class_of_device = cmd('HCI_Write_Class_of_Device', CB, 0x24, '3', '1');
export const hci_write_synchronous_flow_control_enable = cmd('HCI_Write_Synchronous_Flow_Control_Enable', CB, 0x2f, '1', '1');
export const hci_set_controller_to_host_flow_control = cmd('HCI_Set_Controller_To_Host_Flow_Control', CB, 0x31, '1', '1');
export const hci_host_buffer_size = cmd('HCI_Host_Buffer_Size', CB, 0x33, '2122', '1');
export const hci_write_link_supervision_timeout = cmd('HCI_Write_Link_Supervision_Timeout', CB, 0x37, 'H2', '1H');
export const hci_write_inquiry_scan_type = cmd('HCI_Write_Inquiry_Scan_Type', CB, 0x43, '1', '1');
export const hci_write_inquiry_mode = cmd('HCI_Write_Inquiry_Mode', CB, 0x45, '1', '1');
export const hci_write_page_scan_type = cmd('HCI_Write_Page_Scan_Type', CB, 0x47, '1', '1');
export const hci_write_extended_inquiry_response = cmd('HCI_Write_Extended_Inquiry_Response', CB, 0x52, '1E', '1');
export const hci_write_simple_pairing_mode = cmd('HCI_Write_Simple_Pairing_Mode', CB, 0x56, '1', '1');
export const hci_write_le_host_supported = cmd('HCI_Write_LE_Host_Supported', CB, 0x6d, '11', '1');
export const hci_write_secure_connections_host_support = cmd('HCI_Write_Secure_Connections_Host_Support', CB, 0x7a, '1', '1');

// Informational parameters
export const hci_read_local_version_information = cmd('HCI_Read_Local_Version_Information', IP, 0x01, '', '112122');
export const hci_read_local_supported_commands = cmd('HCI_Read_Local_Supported_Commands', IP, 0x02, '', '1C');
export const hci_read_local_supported_features = cmd('HCI_Read_Local_Supported_Features', IP, 0x03, '', '1D');
export const hci_read_local_extended_features = cmd('HCI_Read_Local_Extended_Features', IP, 0x04, '1', '111D');
export const hci_read_buffer_size = cmd('HCI_Read_Buffer_Size', IP, 0x05, '', '12122');
export const hci_read_bd_addr = cmd('HCI_Read_BD_ADDR', IP, 0x09, '', '1B');

// Status parameters
export const hci_read_rssi = cmd('HCI_Read_RSSI', SP, 0x05, 'H', '1H1');
export const hci_read_encryption_key_size = cmd('HCI_Read_Encryption_Key_Size', SP, 0x08, 'H', '1H1');

// LE controller
export const hci_le_set_event_mask = cmd('HCI_LE_Set_Event_Mask', LE, 0x01, '44', '1');
export const hci_le_read_buffer_size = cmd('HCI_LE_Read_Buffer_Size', LE, 0x02, '', '121');
export const hci_le_read_local_supported_features = cmd('HCI_LE_Read_Local_Supported_Features', LE, 0x03, '', '1D');
export const hci_le_set_random_address = cmd('HCI_LE_Set_Random_Address', LE, 0x05, 'B', '1');
export const hci_le_set_advertising_parameters = cmd('HCI_LE_Set_Advertising_Parameters', LE, 0x06, '22111B11', '1');
export const hci_le_read_advertising_channel_tx_power = cmd(
  'HCI_LE_Read_Advertising_Physical_Channel_Tx_Power',
  LE,
  0x07,
  '',
  '11',
);
export const hci_le_set_advertising_data = cmd('HCI_LE_Set_Advertising_Data', LE, 0x08, '1A', '1');
export const hci_le_set_scan_response_data = cmd('HCI_LE_Set_Scan_Response_Data', LE, 0x09, '1A', '1');
export const hci_le_set_advertise_enable = cmd('HCI_LE_Set_Advertising_Enable', LE, 0x0a, '1', '1');
export const hci_le_set_scan_parameters = cmd('HCI_LE_Set_Scan_Parameters', LE, 0x0b, '12211', '1');
export const hci_le_set_scan_enable = cmd('HCI_LE_Set_Scan_Enable', LE, 0x0c, '11', '1');
export const hci_le_create_connection = cmd('HCI_LE_Create_Connection', LE, 0x0d, '2211B1222222');
export const hci_le_create_connection_cancel = cmd('HCI_LE_Create_Connection_Cancel', LE, 0x0e, '', '1');
export const hci_le_read_white_list_size = cmd('HCI_LE_Read_Filter_Accept_List_Size', LE, 0x0f, '', '11');
export const hci_le_clear_white_list = cmd('HCI_LE_Clear_Filter_Accept_List', LE, 0x10, '', '1');
export const hci_le_add_device_to_white_list = cmd('HCI_LE_Add_Device_To_Filter_Accept_List', LE, 0x11, '1B', '1');
export const hci_le_remove_device_from_white_list = cmd('HCI_LE_Remove_Device_From_Filter_Accept_List', LE, 0x12, '1B', '1');
export const hci_le_connection_update = cmd('HCI_LE_Connection_Update', LE, 0x13, 'H222222');
export const hci_le_read_remote_used_features = cmd('HCI_LE_Read_Remote_Features', LE, 0x16, 'H');
export const hci_le_encrypt = cmd('HCI_LE_Encrypt', LE, 0x17, 'PP', '1P');
export const hci_le_rand = cmd('HCI_LE_Rand', LE, 0x18, '', '1D');
export const hci_le_start_encryption = cmd('HCI_LE_Enable_Encryption', LE, 0x19, 'HD2P');
export const hci_le_long_term_key_request_reply = cmd('HCI_LE_Long_Term_Key_Request_Reply', LE, 0x1a, 'HP', '1H');
export const hci_le_long_term_key_negative_reply = cmd('HCI_LE_Long_Term_Key_Request_Negative_Reply', LE, 0x1b, 'H', '1H');
export const hci_le_read_supported_states = cmd('HCI_LE_Read_Supported_States', LE, 0x1c, '', '1D');
export const hci_le_set_data_length = cmd('HCI_LE_Set_Data_Length', LE, 0x22, 'H22', '1H');
export const hci_le_read_suggested_default_data_length = cmd('HCI_LE_Read_Suggested_Default_Data_Length', LE, 0x23, '', '122');
export const hci_le_write_suggested_default_data_length = cmd('HCI_LE_Write_Suggested_Default_Data_Length', LE, 0x24, '22', '1');
export const hci_le_remote_connection_parameter_request_reply = cmd(
  'HCI_LE_Remote_Connection_Parameter_Request_Reply',
  LE,
  0x20,
  'H222222',
  '1H',
);
export const hci_le_remote_connection_parameter_request_negative_reply = cmd(
  'HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply',
  LE,
  0x21,
  'H1',
  '1H',
);
// LE privacy (Vol 4 Part E 7.8.38-7.8.45, 7.8.77); IRKs (P) go least significant octet first, as on the wire
export const hci_le_add_device_to_resolving_list = cmd('HCI_LE_Add_Device_To_Resolving_List', LE, 0x27, '1BPP', '1');
export const hci_le_remove_device_from_resolving_list = cmd('HCI_LE_Remove_Device_From_Resolving_List', LE, 0x28, '1B', '1');
export const hci_le_clear_resolving_list = cmd('HCI_LE_Clear_Resolving_List', LE, 0x29, '', '1');
export const hci_le_read_resolving_list_size = cmd('HCI_LE_Read_Resolving_List_Size', LE, 0x2a, '', '11');
export const hci_le_read_peer_resolvable_address = cmd('HCI_LE_Read_Peer_Resolvable_Address', LE, 0x2b, '1B', '1B');
export const hci_le_read_local_resolvable_address = cmd('HCI_LE_Read_Local_Resolvable_Address', LE, 0x2c, '1B', '1B');
export const hci_le_set_address_resolution_enabled = cmd('HCI_LE_Set_Address_Resolution_Enable', LE, 0x2d, '1', '1');
export const hci_le_set_resolvable_private_address_timeout = cmd(
  'HCI_LE_Set_Resolvable_Private_Address_Timeout',
  LE,
  0x2e,
  '2',
  '1',
);
export const hci_le_set_privacy_mode = cmd('HCI_LE_Set_Privacy_Mode', LE, 0x4e, '1B1', '1');
export const hci_le_read_maximum_data_length = cmd('HCI_LE_Read_Maximum_Data_Length', LE, 0x2f, '', '12222');
export const hci_le_read_phy = cmd('HCI_LE_Read_PHY', LE, 0x30, 'H', '1H11');
export const hci_le_set_default_phy = cmd('HCI_LE_Set_Default_PHY', LE, 0x31, '111', '1');
export const hci_le_set_phy = cmd('HCI_LE_Set_PHY', LE, 0x32, 'H1112');

// Vendor: Broadcom/Cypress "Update UART Baud Rate" (OCF 0x018): two zero bytes, then the rate.
export const hci_bcm_update_uart_baud_rate = cmd('HCI_BCM_Update_UART_Baud_Rate', OGF_VENDOR, 0x18, '24', '1');
// Vendor: Broadcom/Cypress "Write BD_ADDR" (OCF 0x001).
export const hci_bcm_write_bd_addr = cmd('HCI_BCM_Write_BD_ADDR', OGF_VENDOR, 0x01, 'B', '1');
// Vendor: Broadcom/Cypress patch download (.hcd): Download Minidriver (OCF 0x02E), Write RAM
// (OCF 0x04C: 32-bit address, then the data), Launch RAM (OCF 0x04E: 32-bit address).
export const hci_bcm_download_minidriver = cmd('HCI_BCM_Download_Minidriver', OGF_VENDOR, 0x2e, '', '1');
export const hci_bcm_write_ram = cmd('HCI_BCM_Write_RAM', OGF_VENDOR, 0x4c, '4V', '1');
export const hci_bcm_launch_ram = cmd('HCI_BCM_Launch_RAM', OGF_VENDOR, 0x4e, '4', '1');

/** Every template above, by opcode. */
export const HCI_COMMANDS: ReadonlyMap<number, HciCommand> = new Map(
  [
    hci_inquiry,
    hci_inquiry_cancel,
    hci_create_connection,
    hci_disconnect,
    hci_create_connection_cancel,
    hci_accept_connection_request,
    hci_reject_connection_request,
    hci_link_key_request_reply,
    hci_link_key_request_negative_reply,
    hci_pin_code_request_reply,
    hci_pin_code_request_negative_reply,
    hci_authentication_requested,
    hci_set_connection_encryption,
    hci_remote_name_request,
    hci_remote_name_request_cancel,
    hci_read_remote_supported_features,
    hci_read_remote_extended_features,
    hci_read_remote_version_information,
    hci_io_capability_request_reply,
    hci_user_confirmation_request_reply,
    hci_user_confirmation_request_negative_reply,
    hci_user_passkey_request_reply,
    hci_user_passkey_request_negative_reply,
    hci_io_capability_request_negative_reply,
    hci_sniff_mode,
    hci_exit_sniff_mode,
    hci_role_discovery,
    hci_switch_role,
    hci_write_link_policy_settings,
    hci_write_default_link_policy_settings,
    hci_set_event_mask,
    hci_reset,
    hci_set_event_filter,
    hci_write_pin_type,
    hci_delete_stored_link_key,
    hci_write_local_name,
    hci_read_local_name,
    hci_write_page_timeout,
    hci_read_scan_enable,
    hci_write_scan_enable,
    hci_write_page_scan_activity,
    hci_write_inquiry_scan_activity,
    hci_write_authentication_enable,
    hci_read_class_of_device,
    hci_write_class_of_device,
    hci_write_synchronous_flow_control_enable,
    hci_set_controller_to_host_flow_control,
    hci_host_buffer_size,
    hci_write_link_supervision_timeout,
    hci_write_inquiry_scan_type,
    hci_write_inquiry_mode,
    hci_write_page_scan_type,
    hci_write_extended_inquiry_response,
    hci_write_simple_pairing_mode,
    hci_write_le_host_supported,
    hci_write_secure_connections_host_support,
    hci_read_local_version_information,
    hci_read_local_supported_commands,
    hci_read_local_supported_features,
    hci_read_local_extended_features,
    hci_read_buffer_size,
    hci_read_bd_addr,
    hci_read_rssi,
    hci_read_encryption_key_size,
    hci_le_set_event_mask,
    hci_le_read_buffer_size,
    hci_le_read_local_supported_features,
    hci_le_set_random_address,
    hci_le_set_advertising_parameters,
    hci_le_read_advertising_channel_tx_power,
    hci_le_set_advertising_data,
    hci_le_set_scan_response_data,
    hci_le_set_advertise_enable,
    hci_le_set_scan_parameters,
    hci_le_set_scan_enable,
    hci_le_create_connection,
    hci_le_create_connection_cancel,
    hci_le_read_white_list_size,
    hci_le_clear_white_list,
    hci_le_connection_update,
    hci_le_read_remote_used_features,
    hci_le_encrypt,
    hci_le_rand,
    hci_le_start_encryption,
    hci_le_long_term_key_request_reply,
    hci_le_long_term_key_negative_reply,
    hci_le_read_supported_states,
    hci_le_set_data_length,
    hci_le_read_suggested_default_data_length,
    hci_le_write_suggested_default_data_length,
    hci_le_read_maximum_data_length,
    hci_bcm_update_uart_baud_rate,
    hci_bcm_write_bd_addr,
    hci_bcm_download_minidriver,
    hci_bcm_write_ram,
    hci_bcm_launch_ram,
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
  ].map((c) => [c.opcode, c]),
);

const FIXED: Record<string, number> = { '1': 1, '2': 2, '3': 3, '4': 4, H: 2, B: 6, D: 8, P: 16, A: 31, E: 240, N: 248, C: 64 };

/** Parameter length of a format, or -1 when it ends in V (variable). */
export function hci_format_size(format: string): number {
  let n = 0;
  for (const ch of format) {
    if (ch === 'V') return -1;
    const s = FIXED[ch];
    if (s === undefined) throw new TypeError(`bad HCI format letter '${ch}'`);
    n += s;
  }
  return n;
}

export type HciArg = number | Uint8Array | string;

/**
 * Write parameters for `format` into buf at pos. Numbers for integer letters, Uint8Array for byte
 * fields (shorter arrays are zero padded), string or Uint8Array for N. Returns bytes written, or -1
 * when buf is too small or an argument is missing or of the wrong type.
 */
export function hci_format_encode(buf: Uint8Array, pos: number, format: string, args: readonly HciArg[]): number {
  const start = pos;
  let a = 0;
  for (const ch of format) {
    const v = args[a++];
    if (v === undefined) return -1;
    if (ch === '1' || ch === '2' || ch === '3' || ch === '4' || ch === 'H') {
      if (typeof v !== 'number') return -1;
      const n = ch === 'H' ? 2 : +ch;
      if (pos + n > buf.length) return -1;
      for (let i = 0; i < n; i++) buf[pos + i] = Math.floor(v / 2 ** (8 * i)) & 0xff;
      pos += n;
      continue;
    }
    if (ch === 'V') {
      if (!(v instanceof Uint8Array) || pos + v.length > buf.length) return -1;
      buf.set(v, pos);
      pos += v.length;
      continue;
    }
    const n = FIXED[ch];
    if (n === undefined) return -1;
    if (pos + n > buf.length) return -1;
    let bytes: Uint8Array;
    if (typeof v === 'string') {
      if (ch !== 'N') return -1;
      bytes = new TextEncoder().encode(v);
    } else if (v instanceof Uint8Array) bytes = v;
    else return -1;
    buf.fill(0, pos, pos + n);
    if (ch === 'B') {
      if (bytes.length !== 6) return -1;
      reverse_bytes(bytes, 0, buf, pos, 6);
    } else {
      buf.set(bytes.subarray(0, ch === 'N' ? n - 1 : n), pos);
    }
    pos += n;
  }
  return pos - start;
}

/**
 * Decode parameters of `format` from buf[pos, pos+len). Integers as numbers, B as a BdAddr
 * (display order, new array), N as a string, other byte fields as subarray views.
 * Returns null when the length does not match the format exactly (Invalid HCI Command Parameters).
 */
export function hci_format_decode(buf: Uint8Array, pos: number, len: number, format: string): HciArg[] | null {
  const fixed = hci_format_size(format.replace('V', ''));
  const variable = format.endsWith('V');
  if (variable ? len < fixed : len !== fixed) return null;
  if (pos + len > buf.length) return null;
  const out: HciArg[] = [];
  for (const ch of format) {
    if (ch === 'V') {
      out.push(buf.subarray(pos, pos + len - fixed));
      pos += len - fixed;
      continue;
    }
    const n = FIXED[ch]!;
    if (ch === '1' || ch === '2' || ch === '3' || ch === '4' || ch === 'H') {
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + buf[pos + i]!;
      out.push(v);
    } else if (ch === 'B') {
      const a = new Uint8Array(6);
      reverse_bytes(buf, pos, a, 0, 6);
      out.push(a);
    } else if (ch === 'N') {
      const field = buf.subarray(pos, pos + n);
      const z = field.indexOf(0);
      out.push(new TextDecoder().decode(z >= 0 ? field.subarray(0, z) : field));
    } else out.push(buf.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

/**
 * Build a complete HCI command packet (opcode, length, parameters; no H4 byte) into buf.
 * Returns the packet size, or -1 on a bad argument or a too-small buffer.
 */
export function hci_cmd_encode(buf: Uint8Array, command: HciCommand, ...args: HciArg[]): number {
  if (buf.length < 3) return -1;
  const n = hci_format_encode(buf, 3, command.format, args);
  if (n < 0 || n > 255) return -1;
  buf[0] = command.opcode & 0xff;
  buf[1] = command.opcode >>> 8;
  buf[2] = n;
  return 3 + n;
}
