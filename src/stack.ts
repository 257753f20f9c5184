/**
 * One Bluetooth host: a Stack owns its run loop, configuration, pools, logger, code profile,
 * packet log and layers. Nothing is shared between two Stacks in one process.
 *
 *   const stack = new Stack({ transport, profile: 'v1.4' });
 *   stack.hci.hci_add_event_handler({ callback: (type, channel, packet, size) => { ... } });
 *   stack.hci.hci_power_control(HCI_POWER_ON);
 *
 * The constructor creates the layers in order, each from the stack (run loop, config, pools,
 * logger, codes, packet log) and the layer below it as its typed service contract
 * (docs/ARCHITECTURE.md, "The layer pattern"): `hci`, `l2cap` (on HciService), then `rfcomm`,
 * `sdp` and `sdp_client` (on L2capService).
 */
import { resolveConfig, Pools, type StackConfig } from './core/config.js';
import { Logger } from './core/log.js';
import { NodeRunLoop, type RunLoop } from './core/run-loop.js';
import { codes_for, DEFAULT_CODE_PROFILE, is_code_profile, type CodeProfile, type Codes } from './codes/index.js';
import type { BtstackChipset } from './chipset/chipset.js';
import { HciDump, type HciDumpFormat } from './hci/dump.js';
import type { HciTransport } from './hci/transport.js';
import type { BtstackLinkKeyDb } from './hci/link-key-db.js';
import { Hci, type HciTransportConfig } from './hci/hci.js';
import type { Gap } from './hci/gap.js';
import { L2cap } from './l2cap/l2cap.js';
import { Rfcomm } from './rfcomm/rfcomm.js';
import { SdpServer } from './sdp/server.js';
import { SdpClient } from './sdp/client.js';
import { AttDispatch } from './att/att-dispatch.js';
import { AttServer } from './att/att-server.js';
import { GattClient } from './gatt/gatt-client.js';
import { Sm } from './sm/sm.js';
import type { LeDeviceDb } from './sm/le-device-db.js';

export interface StackOptions {
  /** The HCI transport (serial port, virtual controller, ...). */
  transport: HciTransport;
  /** Run loop; default: a new NodeRunLoop. Tests pass a VirtualRunLoop. */
  run_loop?: RunLoop;
  /** BTstack release whose event codes and layouts the stack emits. Default 'v1.4'. */
  profile?: CodeProfile;
  /** Pool capacities and sizes (BTstack's btstack_config.h names). */
  config?: Partial<StackConfig>;
  /** Chipset driver (baud-rate command, BD_ADDR, init script). */
  chipset?: BtstackChipset;
  /** Transport configuration handed to hci_init and the chipset (e.g. the UART config). */
  transport_config?: HciTransportConfig;
  /** Logger; default: a new Logger without sinks. */
  log?: Logger;
  /** Packet log; default: a new, closed HciDump. */
  dump?: HciDump;
  /**
   * Controller-to-host flow control (BTstack's ENABLE_HCI_CONTROLLER_TO_HOST_FLOW_CONTROL): during
   * init announce HCI_HOST_ACL_PACKET_NUM buffers of HCI_HOST_ACL_PACKET_LEN bytes (Host Buffer
   * Size), turn it on (Set Controller To Host Flow Control) and return consumed ACL packets with
   * Host Number Of Completed Packets. Default false.
   */
  host_flow_control?: boolean;
  /**
   * Link key store for BR/EDR bonding (BTstack's hci_set_link_key_db): default a new in-memory db
   * (btstack_link_key_db_memory_instance: keys live as long as the Stack); null: keep no keys.
   */
  link_key_db?: BtstackLinkKeyDb | null;
  /**
   * LE bonds of the Security Manager (BTstack's le_device_db): default in memory (LeDeviceDbMemory).
   * A LeDeviceDbTlv (le_device_db_tlv_get_instance) on the store the link key db uses keeps both
   * kinds of bond in one file that survives a restart. Later changes: sm_set_le_device_db.
   */
  le_device_db?: LeDeviceDb;
}

export class Stack {
  readonly run_loop: RunLoop;
  readonly config: StackConfig;
  readonly pools: Pools;
  readonly log: Logger;
  readonly profile: CodeProfile;
  readonly codes: Codes;
  readonly dump: HciDump;
  /** Controller-to-host flow control asked for (StackOptions.host_flow_control). */
  readonly host_flow_control: boolean;
  /** @internal StackOptions.link_key_db, read once by Hci (later changes: hci_set_link_key_db) */
  readonly link_key_db: BtstackLinkKeyDb | null | undefined;
  readonly hci: Hci;
  readonly gap: Gap;
  /** L2CAP (BR/EDR); hooks into HCI on l2cap_init() (or the first service / channel). */
  readonly l2cap: L2cap;
  /** RFCOMM on L2CAP PSM 3; registers with L2CAP on the first rfcomm_register_service / rfcomm_create_channel. */
  readonly rfcomm: Rfcomm;
  /** SDP server (records, PSM 1 once sdp_init() is called). */
  readonly sdp: SdpServer;
  /** SDP client (one query at a time). */
  readonly sdp_client: SdpClient;
  private dumpSink: ((level: number, message: string) => void) | null = null;
  #att_dispatch: AttDispatch | null = null;
  #att_server: AttServer | null = null;
  #gatt_client: GattClient | null = null;
  #sm: Sm | null = null;
  readonly #le_device_db: LeDeviceDb | undefined;

  constructor(options: StackOptions) {
    if (!options || typeof options !== 'object' || !options.transport)
      throw new TypeError('new Stack: options.transport is required');
    const profile = options.profile ?? DEFAULT_CODE_PROFILE;
    if (!is_code_profile(profile))
      throw new TypeError(`new Stack: unknown profile ${String(profile)} (expected 'v1.4' or 'v1.8')`);
    this.run_loop = options.run_loop ?? new NodeRunLoop();
    this.config = resolveConfig(options.config);
    this.pools = new Pools(this.config);
    this.log = options.log ?? new Logger();
    this.profile = profile;
    this.codes = codes_for(profile);
    this.dump = options.dump ?? new HciDump();
    this.host_flow_control = options.host_flow_control === true;
    this.link_key_db = options.link_key_db;
    this.#le_device_db = options.le_device_db;
    this.hci = new Hci(this);
    this.gap = this.hci.gap;
    this.hci.hci_init(options.transport, options.transport_config);
    if (options.chipset) this.hci.hci_set_chipset(options.chipset);
    this.l2cap = new L2cap(this);
    this.rfcomm = new Rfcomm(this, this.l2cap);
    this.sdp = new SdpServer(this, this.l2cap);
    this.sdp_client = new SdpClient(this, this.l2cap);
  }

  /** @internal BTstack's att_dispatch: the LE ATT channel split between the ATT server (even opcodes) and the GATT client (odd). */
  get att_dispatch(): AttDispatch {
    return (this.#att_dispatch ??= new AttDispatch(this.l2cap));
  }

  /** ATT server (BTstack's att_server) on the LE ATT fixed channel; created on first use, serves after att_server_init. */
  get att_server(): AttServer {
    return (this.#att_server ??= new AttServer(this, this.att_dispatch.server, this.hci));
  }

  /** GATT client (BTstack's gatt_client) on the client side of att_dispatch; created on first use, registers at gatt_client_init or its first query. */
  get gatt_client(): GattClient {
    return (this.#gatt_client ??= new GattClient(this, this.att_dispatch.client, this.hci));
  }

  /** LE Security Manager (BTstack's sm) on the SM fixed channel; created on first use, takes part in LE connections after sm_init. */
  get sm(): Sm {
    return (this.#sm ??= new Sm(this, this.l2cap, this.hci, this.#le_device_db));
  }

  /**
   * Open a packet log (BTstack's hci_dump_open): every HCI packet in and out, and log lines
   * (PacketLogger only). Returns 0 or a system error number.
   */
  open_packet_log(path: string, format: HciDumpFormat): number {
    const err = this.dump.open(path, format);
    if (err === 0 && !this.dumpSink) {
      // a module function bound to the dump, not a closure made here (448d006)
      this.dumpSink = logToDump.bind(this.dump);
      this.log.add_sink(this.dumpSink);
    }
    return err;
  }

  close_packet_log(): void {
    if (this.dumpSink) this.log.remove_sink(this.dumpSink);
    this.dumpSink = null;
    this.dump.close();
  }
}

/** The packet log's sink for log lines (`this`: the Stack's HciDump; bound by open_packet_log). */
function logToDump(this: HciDump, level: number, message: string): void {
  if (this.is_open) this.log_message(level, message);
}
