/**
 * GAP with BTstack's names (gap.h): local name, class of device, discoverable / connectable
 * control, inquiry with GAP_EVENT_INQUIRY_RESULT / _COMPLETE, remote name request, LE advertising
 * and scanning with GAP_EVENT_ADVERTISING_REPORT, LE connect / cancel, disconnect, connection type,
 * and BR/EDR security (gap-security.ts: mode, level, SSP settings, pairing answers, link keys).
 *
 * The facade (`stack.gap`): it checks arguments and forwards to classic GAP (gap-classic.ts), LE
 * GAP (gap-le.ts) and HCI's link control (hci-link-control.ts). Every gap_* call records what is
 * wanted and asks HCI to run; HCI's scheduler sends at most one command per opportunity
 * (Num_HCI_Command_Packets).
 */
import { bd_addr_copy, type BdAddr } from '../core/bytes.js';
import { ERROR_CODE_COMMAND_DISALLOWED, GAP_CONNECTION_ACL, GAP_CONNECTION_INVALID, GAP_CONNECTION_LE } from '../codes/v1.4.js';
import type { GapClassic } from './gap-classic.js';
import type { GapSecurity } from './gap-security.js';
import type { HciLeSecurityProvider } from './hci-le-security.js';
import type { BtstackLinkKeyIterator, LinkKeyEntry, LinkKeyRecord, LinkKeyType } from './link-key-db.js';
import type { GapLe } from './gap-le.js';
import type { ResolvingListSource } from './gap-le-privacy.js';
import type { LeConnectionParameterRange, LeConnectionParameterUpdateRequest } from './gap-le-conn.js';
import type { HciLinkControl } from './hci-link-control.js';
import type { HciState } from './hci-state.js';

export {
  GAP_DEFAULT_CLASS_OF_DEVICE,
  GAP_DEFAULT_LOCAL_NAME,
  GAP_IAC_GENERAL_INQUIRY,
  GAP_IAC_LIMITED_INQUIRY,
  GAP_INQUIRY_DURATION_MAX,
  GAP_INQUIRY_DURATION_MIN,
} from './gap-classic.js';
export { GAP_INQUIRY_MAX_NAME_LEN } from './gap-reports.js';
export type { GapLeConnectionParameters } from './hci-link-control.js';
export type { LeConnectionParameterRange, LeConnectionParameterUpdateRequest } from './gap-le-conn.js';
export { MAX_NR_WHITELIST_ENTRIES } from './gap-le-conn.js';
export {
  GAP_RANDOM_ADDRESS_NON_RESOLVABLE,
  GAP_RANDOM_ADDRESS_RESOLVABLE,
  GAP_RANDOM_ADDRESS_TYPE_OFF,
  GAP_RANDOM_ADDRESS_TYPE_STATIC,
  GAP_RANDOM_ADDRESS_UPDATE_PERIOD_DEFAULT_MS,
  gap_non_resolvable_private_address,
  gap_static_random_address,
} from './gap-le.js';

function check_addr(fn: string, addr: BdAddr): void {
  if (!(addr instanceof Uint8Array) || addr.length !== 6) throw new TypeError(`${fn}: addr must be a 6-byte BdAddr`);
}

export class Gap {
  readonly #s: HciState;
  readonly #classic: GapClassic;
  readonly #le: GapLe;
  readonly #links: HciLinkControl;
  readonly #sec: GapSecurity;

  /** @internal built by Hci */
  constructor(s: HciState, classic: GapClassic, le: GapLe, links: HciLinkControl, security: GapSecurity) {
    this.#s = s;
    this.#classic = classic;
    this.#le = le;
    this.#links = links;
    this.#sec = security;
  }

  // =============================================================== classic settings

  gap_set_local_name(name: string): void {
    if (typeof name !== 'string') throw new TypeError('gap_set_local_name: name must be a string');
    this.#classic.set_local_name(name);
  }

  gap_set_class_of_device(class_of_device: number): void {
    this.#classic.set_class_of_device(class_of_device);
  }

  /** Set the EIR data (240 bytes max); null = BTstack's default (the local name). */
  gap_set_extended_inquiry_response(data: Uint8Array | null): void {
    this.#classic.set_extended_inquiry_response(data);
  }

  gap_ssp_set_enable(enable: boolean | number): void {
    this.#classic.set_ssp(!!enable);
  }

  gap_secure_connections_enable(enable: boolean | number): void {
    this.#classic.set_secure_connections(!!enable);
  }

  gap_discoverable_control(enable: boolean | number): void {
    this.#classic.discoverable_control(!!enable);
  }

  /** Page scan on/off. L2CAP turns it on when a classic service is registered. */
  gap_connectable_control(enable: boolean | number): void {
    this.#classic.connectable_control(!!enable);
  }

  // =============================================================== inquiry, remote name

  /** Start an inquiry for duration * 1.28 s; results as GAP_EVENT_INQUIRY_RESULT, then GAP_EVENT_INQUIRY_COMPLETE. */
  gap_inquiry_start(duration_in_1280ms_units: number): number {
    return this.#classic.inquiry_start(duration_in_1280ms_units);
  }

  /** Stop a running inquiry; GAP_EVENT_INQUIRY_COMPLETE follows. */
  gap_inquiry_stop(): number {
    return this.#classic.inquiry_stop();
  }

  gap_remote_name_request(addr: BdAddr, page_scan_repetition_mode: number, clock_offset: number): number {
    if (!this.#classic.remote_name_idle) return ERROR_CODE_COMMAND_DISALLOWED;
    check_addr('gap_remote_name_request', addr);
    return this.#classic.remote_name_request(addr, page_scan_repetition_mode, clock_offset);
  }

  // =============================================================== LE advertising

  gap_advertisements_set_params(
    adv_int_min: number,
    adv_int_max: number,
    adv_type: number,
    direct_address_typ: number,
    direct_address: BdAddr,
    channel_map: number,
    filter_policy: number,
  ): void {
    this.#le.set_advertising_params(
      adv_int_min,
      adv_int_max,
      adv_type,
      direct_address_typ,
      direct_address,
      channel_map,
      filter_policy,
    );
  }

  gap_advertisements_set_data(advertising_data_length: number, advertising_data: Uint8Array): void {
    this.#le.set_advertising_data(advertising_data_length, advertising_data);
  }

  gap_scan_response_set_data(scan_response_data_length: number, scan_response_data: Uint8Array): void {
    this.#le.set_scan_response_data(scan_response_data_length, scan_response_data);
  }

  gap_advertisements_enable(enabled: boolean | number): void {
    this.#le.advertisements_enable(!!enabled);
  }

  // =============================================================== LE scanning

  /** BTstack v1.4: scan_type 0 passive / 1 active, interval and window in 0.625 ms units. */
  gap_set_scan_parameters(scan_type: number, scan_interval: number, scan_window: number): void {
    this.#le.set_scan_params(scan_type, scan_interval, scan_window, this.#le.scan_filter_policy);
  }

  /** Current BTstack: as gap_set_scan_parameters plus the scanning filter policy. */
  gap_set_scan_params(scan_type: number, scan_interval: number, scan_window: number, scanning_filter_policy = 0): void {
    this.#le.set_scan_params(scan_type, scan_interval, scan_window, scanning_filter_policy);
  }

  gap_start_scan(): void {
    this.#le.scan(true);
  }

  gap_stop_scan(): void {
    this.#le.scan(false);
  }

  // =============================================================== connections

  gap_set_connection_parameters(
    conn_scan_interval: number,
    conn_scan_window: number,
    conn_interval_min: number,
    conn_interval_max: number,
    conn_latency: number,
    supervision_timeout: number,
    min_ce_length: number,
    max_ce_length: number,
  ): void {
    this.#le.set_connection_parameters({
      scan_interval: conn_scan_interval,
      scan_window: conn_scan_window,
      conn_interval_min,
      conn_interval_max,
      conn_latency,
      supervision_timeout,
      min_ce_length,
      max_ce_length,
    });
  }

  /** Connect to an LE peripheral (LE Create Connection). Completion: HCI_SUBEVENT_LE_CONNECTION_COMPLETE. */
  gap_connect(addr: BdAddr, addr_type: number): number {
    check_addr('gap_connect', addr);
    if (this.#le.conn.whitelist_connecting) return ERROR_CODE_COMMAND_DISALLOWED;
    return this.#links.connect_le(addr, addr_type);
  }

  /** Cancel gap_connect (or a whitelist connect). The controller answers with an LE Connection Complete (status 0x02). */
  gap_connect_cancel(): number {
    if (this.#le.conn.whitelist_connecting) return this.#le.conn.cancel();
    return this.#links.connect_le_cancel();
  }

  // =============================================================== LE whitelist, auto connection (gap-le-conn.ts)

  /** Add to the whitelist (LE Filter Accept List); address_type 0 public, 1 random. */
  gap_whitelist_add(address_type: number, address: BdAddr): number {
    check_addr('gap_whitelist_add', address);
    return this.#le.conn.whitelist_add(address_type, address);
  }

  gap_whitelist_remove(address_type: number, address: BdAddr): number {
    check_addr('gap_whitelist_remove', address);
    return this.#le.conn.whitelist_remove(address_type, address);
  }

  gap_whitelist_clear(): number {
    return this.#le.conn.whitelist_clear();
  }

  /** LE Create Connection with the whitelist (initiator filter policy 1), once. */
  gap_connect_with_whitelist(): number {
    return this.#le.conn.connect_with_whitelist();
  }

  /** Connect to this device whenever it advertises (whitelist + filter policy 1); the entry goes once connected. */
  gap_auto_connection_start(address_type: number, address: BdAddr): number {
    check_addr('gap_auto_connection_start', address);
    return this.#le.conn.auto_connection_start(address_type, address);
  }

  gap_auto_connection_stop(address_type: number, address: BdAddr): number {
    check_addr('gap_auto_connection_stop', address);
    return this.#le.conn.auto_connection_stop(address_type, address);
  }

  gap_auto_connection_stop_all(): number {
    return this.#le.conn.auto_connection_stop_all();
  }

  // =============================================================== LE random address

  /**
   * GAP_RANDOM_ADDRESS_TYPE_OFF (public), _STATIC, GAP_RANDOM_ADDRESS_NON_RESOLVABLE or
   * GAP_RANDOM_ADDRESS_RESOLVABLE (a new private address now and every update period; RESOLVABLE
   * uses the Security Manager's IRK: status 0x11 until `stack.sm` exists). Returns a status.
   */
  gap_random_address_set_mode(random_address_type: number): number {
    return this.#le.random_address_set_mode(random_address_type);
  }

  /** How often a private address is made anew, in ms (BTstack's default 15 minutes). */
  gap_random_address_set_update_period(period_ms: number): void {
    if (!Number.isInteger(period_ms) || period_ms <= 0)
      throw new TypeError('gap_random_address_set_update_period: period_ms must be a positive integer');
    this.#le.random_address_set_update_period(period_ms);
  }

  /**
   * @internal The Security Manager hands GAP its maker of resolvable private addresses (from our
   * IRK); GAP cannot compute ah() itself (sm sits above hci).
   */
  le_set_resolvable_address_source(source: (() => BdAddr) | null): void {
    this.#le.set_resolvable_address_source(source);
  }

  gap_random_address_get_mode(): number {
    return this.#le.random_address_mode;
  }

  /**
   * BTstack's gap_load_resolving_list_from_le_device_db: load the bonds with an IRK into the
   * controller's resolving list and turn address resolution on (gap-le-privacy.ts); from then on
   * the list follows the bonds and is rebuilt at every power-on (BTstack's
   * ENABLE_LE_PRIVACY_ADDRESS_RESOLUTION). 0x11 when the controller has no LE Set Address
   * Resolution Enable (call it once the stack is working).
   */
  gap_load_resolving_list_from_le_device_db(): number {
    return this.#le.privacy.load();
  }

  /** @internal The Security Manager's le device db and IRK, for the resolving list. */
  le_set_resolving_list_source(source: ResolvingListSource | null): void {
    this.#le.privacy.source = source;
  }

  /** @internal BTstack's hci_load_le_device_db_entry_into_resolving_list (the SM stored a bond). */
  hci_load_le_device_db_entry_into_resolving_list(index: number): void {
    this.#le.privacy.load_entry(index);
  }

  /** @internal BTstack's hci_remove_le_device_db_entry_from_resolving_list (a bond is deleted). */
  hci_remove_le_device_db_entry_from_resolving_list(index: number): void {
    this.#le.privacy.remove_entry(index);
  }

  /** Use `addr` as static random address for advertising, scanning and connecting. */
  gap_random_address_set(addr: BdAddr): void {
    check_addr('gap_random_address_set', addr);
    this.#le.random_address_set(addr);
  }

  /** BTstack's gap_le_get_own_address: the type (0 public, 1 random) and address LE uses. */
  gap_le_get_own_address(): { addr_type: number; addr: BdAddr } {
    return this.#le.own_address(this.#s.controller.local_bd_addr);
  }

  // =============================================================== LE connection parameters, data length, PHY

  /** As central: LE Connection Update; HCI_SUBEVENT_LE_CONNECTION_UPDATE_COMPLETE follows. */
  gap_update_connection_parameters(
    con_handle: number,
    conn_interval_min: number,
    conn_interval_max: number,
    conn_latency: number,
    supervision_timeout: number,
  ): number {
    return this.#le.conn.update_connection_parameters(
      con_handle,
      conn_interval_min,
      conn_interval_max,
      conn_latency,
      supervision_timeout,
    );
  }

  /** As peripheral: L2CAP sends a Connection Parameter Update Request (L2CAP_EVENT_CONNECTION_PARAMETER_UPDATE_RESPONSE follows). */
  gap_request_connection_parameter_update(
    con_handle: number,
    conn_interval_min: number,
    conn_interval_max: number,
    conn_latency: number,
    supervision_timeout: number,
  ): number {
    const c = this.#le.conn;
    return c.request_connection_parameter_update(
      con_handle,
      conn_interval_min,
      conn_interval_max,
      conn_latency,
      supervision_timeout,
    );
  }

  /** @internal L2CAP takes the peripheral's pending request (after L2CAP_EVENT_TRIGGER_RUN). */
  gap_le_take_connection_parameter_update_request(): LeConnectionParameterUpdateRequest | null {
    return this.#le.conn.take_connection_parameter_update_request();
  }

  /** The range LE Remote Connection Parameter Requests (and L2CAP requests) are accepted in. */
  gap_get_connection_parameter_range(range: LeConnectionParameterRange): void {
    Object.assign(range, this.#le.conn.range);
  }

  gap_set_connection_parameter_range(range: LeConnectionParameterRange): void {
    Object.assign(this.#le.conn.range, range);
  }

  gap_connection_parameter_range_included(
    existing_range: LeConnectionParameterRange,
    le_conn_interval_min: number,
    le_conn_interval_max: number,
    le_conn_latency: number,
    le_supervision_timeout: number,
  ): number {
    const c = this.#le.conn;
    return c.range_included(existing_range, le_conn_interval_min, le_conn_interval_max, le_conn_latency, le_supervision_timeout)
      ? 1
      : 0;
  }

  /** LE Set Data Length (HCI_SUBEVENT_LE_DATA_LENGTH_CHANGE follows when it changes). */
  gap_le_set_data_length(con_handle: number, tx_octets: number, tx_time: number): number {
    return this.#le.conn.set_data_length(con_handle, tx_octets, tx_time);
  }

  /** LE Set PHY: tx/rx_phys bits 1 = 1M, 2 = 2M, 4 = Coded; HCI_SUBEVENT_LE_PHY_UPDATE_COMPLETE follows. */
  gap_le_set_phy(con_handle: number, all_phys: number, tx_phys: number, rx_phys: number, phy_options: number): number {
    return this.#le.conn.set_phy(con_handle, all_phys, tx_phys, rx_phys, phy_options);
  }

  /** Connection interval of an LE link (1.25 ms units), 0 if none. */
  gap_le_connection_interval(con_handle: number): number {
    const conn = this.#s.connections.for_handle(con_handle);
    return conn?.is_le ? conn.le_conn_interval : 0;
  }

  /** Disconnect a classic or LE link (reason: Remote User Terminated Connection). */
  gap_disconnect(handle: number): number {
    return this.#links.disconnect(handle);
  }

  gap_get_connection_type(handle: number): number {
    const conn = this.#s.connections.for_handle(handle);
    if (!conn) return GAP_CONNECTION_INVALID;
    return conn.is_le ? GAP_CONNECTION_LE : GAP_CONNECTION_ACL;
  }

  // =============================================================== BR/EDR security (gap-security.ts, hci-security.ts)

  /**
   * Security level of a connection now (BTstack's gap_security_level): 0 unless encrypted with a key
   * of at least 7 octets; then 2 (unauthenticated key), 3 (authenticated or legacy PIN key), 4
   * (authenticated P-256 key, 16-octet key). LE links: the same levels from what the Security Manager
   * reported for the link's LTK / STK (src/hci/hci-le-security.ts).
   */
  gap_security_level(con_handle: number): number {
    return this.#sec.level(con_handle);
  }

  /**
   * Raise a link's security to at least `level`: Authentication Requested (with the stored key, else
   * pairing), Set Connection Encryption, Read Encryption Key Size. Every call gets exactly one
   * GAP_EVENT_SECURITY_LEVEL (handle, level reached; lower on failure) from the run loop. LE links:
   * the Security Manager pairs or encrypts (sm_request_pairing), its end gives the event; without
   * sm_init the current level (v1.8 status ERROR_CODE_INSUFFICIENT_SECURITY).
   */
  gap_request_security_level(con_handle: number, level: number): void {
    this.#sec.request_security_level(con_handle, level);
  }

  /** @internal The Security Manager (sm_init) registers here: LE gap_request_security_level asks it. */
  gap_le_set_security_provider(provider: HciLeSecurityProvider | null): void {
    this.#sec.set_le_security_provider(provider);
  }

  /** @internal The Security Manager reports the end of a pairing / encryption on an LE link. */
  gap_le_security_procedure_complete(con_handle: number, status: number): void {
    this.#sec.le_security_procedure_complete(con_handle, status);
  }

  /** GAP_SECURITY_MODE_4 (default) or _2; returns 0 or ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS. */
  gap_set_security_mode(security_mode: number): number {
    return this.#sec.set_security_mode(security_mode);
  }

  /** The security mode set with gap_set_security_mode. */
  gap_get_security_mode(): number {
    return this.#sec.security_mode();
  }

  /** The minimum level mode 4 asks of every service but SDP (default LEVEL_2). */
  gap_set_security_level(security_level: number): void {
    this.#sec.set_security_level(security_level);
  }

  /** The level set with gap_set_security_level. */
  gap_get_security_level(): number {
    return this.#sec.security_level();
  }

  /** SSP_IO_CAPABILITY_* (default NO_INPUT_NO_OUTPUT). */
  gap_ssp_set_io_capability(io_capability: number): void {
    this.#sec.set_io_capability(io_capability);
  }

  /** SSP_IO_AUTHREQ_* (default MITM_PROTECTION_NOT_REQUIRED_GENERAL_BONDING; the MITM bit counts, bonding follows gap_set_bondable_mode). */
  gap_ssp_set_authentication_requirement(authentication_requirement: number): void {
    this.#sec.set_authentication_requirement(authentication_requirement);
  }

  /** Answer User Confirmation Requests yes (and User Passkey Requests with 000000) at once. Default on. */
  gap_ssp_set_auto_accept(auto_accept: boolean | number): void {
    this.#sec.set_auto_accept(!!auto_accept);
  }

  /** Store keys and ask for bonding (default on); off: PIN requests and bonding peers are refused. */
  gap_set_bondable_mode(enabled: boolean | number): void {
    this.#sec.set_bondable(!!enabled);
  }

  /** True when bondable (keys stored, bonding asked for). */
  gap_get_bondable_mode(): boolean {
    return this.#sec.bondable();
  }

  /** Accept the numeric value of HCI_EVENT_USER_CONFIRMATION_REQUEST. 0 or a status. */
  gap_ssp_confirmation_response(addr: BdAddr): number {
    return this.#sec.confirmation('gap_ssp_confirmation_response', addr, true);
  }

  /** Reject the numeric value of HCI_EVENT_USER_CONFIRMATION_REQUEST. 0 or a status. */
  gap_ssp_confirmation_negative(addr: BdAddr): number {
    return this.#sec.confirmation('gap_ssp_confirmation_negative', addr, false);
  }

  /** Answer HCI_EVENT_USER_PASSKEY_REQUEST with the passkey (0..999999). 0 or a status. */
  gap_ssp_passkey_response(addr: BdAddr, passkey: number): number {
    return this.#sec.passkey('gap_ssp_passkey_response', addr, true, passkey);
  }

  /** Refuse HCI_EVENT_USER_PASSKEY_REQUEST. 0 or a status. */
  gap_ssp_passkey_negative(addr: BdAddr): number {
    return this.#sec.passkey('gap_ssp_passkey_negative', addr, false);
  }

  /** Answer HCI_EVENT_PIN_CODE_REQUEST (legacy pairing) with a PIN of 1..16 octets (UTF-8). 0 or a status. */
  gap_pin_code_response(addr: BdAddr, pin: string): number {
    return this.#sec.pin('gap_pin_code_response', addr, pin);
  }

  /** As gap_pin_code_response with the first pin_len octets of pin_data (1..16). */
  gap_pin_code_response_binary(addr: BdAddr, pin_data: Uint8Array, pin_len: number = pin_data.length): number {
    return this.#sec.pin('gap_pin_code_response_binary', addr, pin_data.subarray(0, pin_len));
  }

  /** Refuse HCI_EVENT_PIN_CODE_REQUEST. 0 or a status. */
  gap_pin_code_negative(addr: BdAddr): number {
    return this.#sec.pin('gap_pin_code_negative', addr, null);
  }

  /** The link uses a key made with MITM protection. */
  gap_authenticated(con_handle: number): boolean {
    return this.#sec.authenticated(con_handle);
  }

  /** Encryption key size in octets (0: not encrypted). */
  gap_encryption_key_size(con_handle: number): number {
    return this.#sec.encryption_key_size(con_handle);
  }

  /** The link uses a Secure Connections (P-256) key. */
  gap_secure_connection(con_handle: number): boolean {
    return this.#sec.secure_connection(con_handle);
  }

  /** Forget the stored key for addr (L2CAP calls it on "security block"). */
  gap_drop_link_key_for_bd_addr(addr: BdAddr): void {
    this.#sec.drop_link_key(addr);
  }

  /** Store a key (16 octets as in HCI Link Key Notification) of a link_key_type_t for addr. */
  gap_store_link_key_for_bd_addr(addr: BdAddr, link_key: Uint8Array, type: LinkKeyType): void {
    this.#sec.store_link_key(addr, link_key, type);
  }

  /** The stored key for addr (copies), or null. */
  gap_get_link_key_for_bd_addr(addr: BdAddr): LinkKeyRecord | null {
    return this.#sec.get_link_key(addr);
  }

  /** Forget every stored key. */
  gap_delete_all_link_keys(): void {
    this.#sec.delete_all_link_keys();
  }

  /** Walk the stored keys: init (false: no db), get_next until null, done. */
  gap_link_key_iterator_init(it: BtstackLinkKeyIterator): boolean {
    return this.#sec.iterator_init(it);
  }

  /** The next stored key (copies), or null at the end. */
  gap_link_key_iterator_get_next(it: BtstackLinkKeyIterator): LinkKeyEntry | null {
    return this.#sec.iterator_get_next(it);
  }

  /** End a walk begun with gap_link_key_iterator_init. */
  gap_link_key_iterator_done(it: BtstackLinkKeyIterator): void {
    this.#sec.iterator_done(it);
  }

  /** BTstack's gap_local_bd_addr: copies the controller's public address into addr (and returns it). */
  gap_local_bd_addr(addr: BdAddr = new Uint8Array(6)): BdAddr {
    bd_addr_copy(addr, this.#s.controller.local_bd_addr);
    return addr;
  }
}
