/**
 * The state record of the HCI layer (BTstack's hci_stack_t): the data the HCI components share.
 * Fields and tiny accessors only; the protocol logic lives in the components (hci-power.ts,
 * hci-transport-link.ts, hci-scheduler.ts, hci-events.ts, hci-acl.ts, hci-init.ts,
 * hci-link-control.ts, hci-host-flow.ts, hci-emit.ts, gap-classic.ts, gap-le.ts). No other layer
 * sees it; tests reach it as `hci.state` (internal).
 */
import type { BdAddr } from '../core/bytes.js';
import type { StackConfig, Pools } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { RunLoop } from '../core/run-loop.js';
import { EventOut, RegistrationList } from '../core/event-out.js';
import type { Codes } from '../codes/index.js';
import {
  HCI_ROLE_SLAVE,
  HCI_STATE_FALLING_ASLEEP,
  HCI_STATE_HALTING,
  HCI_STATE_INITIALIZING,
  HCI_STATE_OFF,
  HCI_STATE_SLEEPING,
  HCI_STATE_WORKING,
} from '../codes/v1.4.js';
import type { BtstackChipset } from '../chipset/chipset.js';
import type { HciDump } from './dump.js';
import type { HciTransport } from './transport.js';
import { HciConnectionTable } from './hci-connection.js';
import { HciSecuritySettings } from './hci-security-state.js';
import { btstack_link_key_db_memory_instance, type BtstackLinkKeyDb } from './link-key-db.js';
import type { BtstackPacketCallbackRegistration, PacketHandler } from './hci-service.js';

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
  /** The link key store; undefined: an in-memory db (BTstack's btstack_link_key_db_memory), null: none. */
  readonly link_key_db?: BtstackLinkKeyDb | null;
}

/** HCI power states by value, for the log (BTstack's HCI_STATE). */
export const HCI_POWER_STATE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [HCI_STATE_OFF]: 'OFF',
  [HCI_STATE_INITIALIZING]: 'INITIALIZING',
  [HCI_STATE_WORKING]: 'WORKING',
  [HCI_STATE_HALTING]: 'HALTING',
  [HCI_STATE_SLEEPING]: 'SLEEPING',
  [HCI_STATE_FALLING_ASLEEP]: 'FALLING_ASLEEP',
});

function bit(bitmap: Uint8Array, n: number): boolean {
  return ((bitmap[n >> 3] ?? 0) & (1 << (n & 7))) !== 0;
}

/** LMP feature bits read by more than one component (Core Vol 2, Part C, 3.3): byte * 8 + bit. */
const LMP_BR_EDR_NOT_SUPPORTED = 37;
const LMP_LE_SUPPORTED_CONTROLLER = 38;

/** What the controller told us during init (versions, features, supported commands, buffers). */
export class HciControllerInfo {
  hci_version = 0;
  hci_revision = 0;
  lmp_version = 0;
  manufacturer = 0;
  lmp_subversion = 0;
  readonly supported_commands = new Uint8Array(64);
  supported_commands_known = false;
  readonly local_features = new Uint8Array(8);
  readonly local_features_page1 = new Uint8Array(8);
  local_features_max_page = 0;
  readonly local_bd_addr = new Uint8Array(6);
  /** From Read Buffer Size: HC_ACL_Data_Packet_Length and HC_Total_Num_ACL_Data_Packets. */
  acl_data_packet_length = 0;
  acl_packets_total_num = 0;
  /** From LE Read Buffer Size; 0 packets = LE shares the BR/EDR buffers. */
  le_data_packets_length = 0;
  le_acl_packets_total_num = 0;
  sco_data_packet_length = 0;
  sco_packets_total_num = 0;
  inquiry_mode = 0;

  /** True while Read Local Supported Commands did not answer (every command assumed supported). */
  supports_command(bitNumber: number): boolean {
    return !this.supported_commands_known || bit(this.supported_commands, bitNumber);
  }
  supports_command_known(bitNumber: number): boolean {
    return this.supported_commands_known && bit(this.supported_commands, bitNumber);
  }
  has_feature(bitNumber: number): boolean {
    return bit(this.local_features, bitNumber);
  }
  get classic_supported(): boolean {
    return !this.has_feature(LMP_BR_EDR_NOT_SUPPORTED);
  }
  get le_supported(): boolean {
    return this.has_feature(LMP_LE_SUPPORTED_CONTROLLER);
  }
}

/** Controller-to-host flow control status (hci-host-flow.ts; init turns it on). */
export class HciHostFlowStatus {
  /** Asked for (Stack option `host_flow_control`). */
  enabled = false;
  /** The controller accepted Host Buffer Size: its length and count apply. */
  buffer_size_set = false;
  /** The controller accepted Set Controller To Host Flow Control: completions are reported. */
  active = false;
  /** Announced Host_ACL_Data_Packet_Length and Host_Total_Num_ACL_Data_Packets (valid once announced). */
  acl_packet_length = 0;
  acl_packet_num = 0;
  /** Host Number Of Completed Packets commands sent since power on (diagnostics, tests). */
  commands_sent = 0;
}

export class HciState {
  readonly run_loop: RunLoop;
  readonly config: StackConfig;
  readonly pools: Pools;
  readonly log: Logger;
  readonly codes: Codes;
  readonly dump: HciDump | undefined;
  /** Events out: scratch buffers per nesting depth, dispatch, packet log. */
  readonly event_out: EventOut;
  readonly event_handlers = new RegistrationList<BtstackPacketCallbackRegistration>();
  /** The handler for complete incoming ACL packets (L2CAP). */
  acl_handler: PacketHandler | null = null;

  /** Power state (HCI_STATE_*); changed only by HciPower.set_state. */
  power = HCI_STATE_OFF;
  /** hci_close was called: no power on until hci_init again. */
  closed = false;

  transport: HciTransport | null = null;
  transport_config: HciTransportConfig | undefined;
  /** The transport reported 'opened' and was not closed since. */
  transport_open = false;
  chipset: BtstackChipset | null = null;
  /** Public address set with hci_set_bd_addr (written through the chipset), or null. */
  custom_bd_addr: BdAddr | null = null;
  /** Role asked for in Accept Connection Request: HCI_ROLE_MASTER (0) switch to central, HCI_ROLE_SLAVE (1) stay. */
  master_slave_policy: number = HCI_ROLE_SLAVE;
  hardware_error_callback: ((hardware_code: number) => void) | null = null;
  framing_error_callback: ((message: string) => void) | null = null;

  readonly connections: HciConnectionTable;
  readonly controller = new HciControllerInfo();
  readonly host_flow = new HciHostFlowStatus();
  /** GAP security settings and the link key db (hci-security.ts, gap-security.ts). */
  readonly security: HciSecuritySettings;

  /** Command flow control: Num_HCI_Command_Packets from the last Command Complete / Status. */
  cmd_credits = 1;
  /**
   * Number Of Completed Packets entries that claimed more packets than were outstanding on their
   * handle (a controller lying about its buffers; hci-acl.ts). Logged at error level each time.
   */
  nocp_overreports = 0;
  /** Why the last power-on failed in the init sequence (command, status), '' when it did not. */
  poweron_failure = '';
  /** Opcodes sent and not yet answered by Command Complete / Status. */
  readonly outstanding: number[] = [];
  /** Connection requests to reject (bounded, MAX_PENDING_REJECTS). */
  readonly pending_rejects: Array<{ addr: BdAddr; reason: number }> = [];
  /** Handles of links the controller opened but no record could be kept for (to disconnect). */
  readonly pending_disconnects: number[] = [];

  constructor(host: HciHost) {
    this.run_loop = host.run_loop;
    this.config = host.config;
    this.pools = host.pools;
    this.log = host.log;
    this.codes = host.codes;
    this.dump = host.dump;
    this.event_out = new EventOut(host.dump ?? null);
    this.connections = new HciConnectionTable(this.pools);
    this.host_flow.enabled = !!host.host_flow_control;
    const db = host.link_key_db === undefined ? btstack_link_key_db_memory_instance(this.pools) : host.link_key_db;
    this.security = new HciSecuritySettings(db);
    db?.open();
  }

  /** A packet of this type may go to the transport now (it is open and has room). */
  transport_can_send(packet_type: number): boolean {
    return this.transport_open && !!this.transport && this.transport.can_send_packet_now(packet_type);
  }
}
