/**
 * Stack configuration with BTstack's btstack_config.h names. Every pool capacity comes from here.
 */
import { BufferPool, Pool, type PoolStats } from './pool.js';

export interface StackConfig {
  MAX_NR_HCI_CONNECTIONS: number;
  MAX_NR_L2CAP_SERVICES: number;
  MAX_NR_L2CAP_CHANNELS: number;
  MAX_NR_RFCOMM_MULTIPLEXERS: number;
  MAX_NR_RFCOMM_SERVICES: number;
  MAX_NR_RFCOMM_CHANNELS: number;
  MAX_NR_SERVICE_RECORD_ITEMS: number;
  MAX_NR_BTSTACK_LINK_KEY_DB_MEMORY_ENTRIES: number;
  /**
   * Link keys the TLV link key db keeps (BTstack's NVM_NUM_LINK_KEYS, at most 256): when full, a new
   * key overwrites the least recently stored one (src/hci/link-key-db-tlv.ts).
   */
  NVM_NUM_LINK_KEYS: number;
  /** Pooled buffers for reassembled incoming ACL/L2CAP PDUs and outgoing SDUs. */
  MAX_NR_HCI_PACKET_BUFFERS: number;
  /** Size of each pooled packet buffer: largest L2CAP PDU + headers (65535 + 4 + 4 + slack). */
  HCI_PACKET_BUFFER_SIZE: number;
  /**
   * BTstack's HCI_ACL_PAYLOAD_SIZE: the size of "one ACL payload" for the buffers BTstack sizes
   * from it. Used for the SDP server's response buffer per channel (responses of at most
   * HCI_ACL_PAYLOAD_SIZE - 4 bytes, the L2CAP header excluded) and RFCOMM's largest frame when
   * L2CAP reports no l2cap_max_mtu(). It does not limit incoming ACL packets: the H4 deframer
   * accepts every ACL length (up to 65535 data bytes, src/hci/h4.ts), HCI delivers a packet that
   * holds a whole L2CAP PDU in place and reassembles the others into HCI_PACKET_BUFFER_SIZE
   * buffers; outgoing ACL packets follow the controller's buffer size
   * (hci_max_acl_data_packet_length).
   */
  HCI_ACL_PAYLOAD_SIZE: number;
  /**
   * With the Stack option `host_flow_control` (BTstack's ENABLE_HCI_CONTROLLER_TO_HOST_FLOW_CONTROL):
   * the Host_ACL_Data_Packet_Length announced in Host Buffer Size (capped by the transport's
   * receive buffer; default 65535) ...
   */
  HCI_HOST_ACL_PACKET_LEN: number;
  /** ... and Host_Total_Num_ACL_Data_Packets (default 16): ACL packets the controller may send before the host returns them. */
  HCI_HOST_ACL_PACKET_NUM: number;
}

export const DEFAULT_CONFIG: Readonly<StackConfig> = Object.freeze({
  MAX_NR_HCI_CONNECTIONS: 8,
  MAX_NR_L2CAP_SERVICES: 8,
  MAX_NR_L2CAP_CHANNELS: 16,
  MAX_NR_RFCOMM_MULTIPLEXERS: 4,
  MAX_NR_RFCOMM_SERVICES: 8,
  MAX_NR_RFCOMM_CHANNELS: 16,
  MAX_NR_SERVICE_RECORD_ITEMS: 8,
  MAX_NR_BTSTACK_LINK_KEY_DB_MEMORY_ENTRIES: 16,
  NVM_NUM_LINK_KEYS: 16,
  MAX_NR_HCI_PACKET_BUFFERS: 24,
  HCI_PACKET_BUFFER_SIZE: 65535 + 16,
  HCI_ACL_PAYLOAD_SIZE: 1021,
  HCI_HOST_ACL_PACKET_LEN: 0xffff,
  HCI_HOST_ACL_PACKET_NUM: 16,
});

export function resolveConfig(partial: Partial<StackConfig> = {}): StackConfig {
  const cfg: StackConfig = { ...DEFAULT_CONFIG, ...partial };
  for (const [k, v] of Object.entries(cfg)) {
    if (!Number.isInteger(v) || (v as number) < 0) throw new TypeError(`config ${k}: expected a non-negative integer, got ${v}`);
  }
  return cfg;
}

/**
 * The pools one Stack owns. Layers create their item types; this class only wires capacities,
 * so tests can assert that every pool went back to full.
 */
export class Pools {
  readonly all: Array<Pool<object>> = [];
  /** Pools that hold stored data (bonds), not working memory: all_free() does not count them. */
  readonly stores = new Set<Pool<object>>();
  readonly packet_buffers: BufferPool;
  constructor(readonly config: StackConfig) {
    this.packet_buffers = this.register(
      new BufferPool('packet_buffers', config.MAX_NR_HCI_PACKET_BUFFERS, config.HCI_PACKET_BUFFER_SIZE),
    );
  }
  /**
   * Register a pool created by a layer so it shows up in stats(). A `store` pool keeps data on
   * purpose (the in-memory link key db keeps bonds): it is in stats() but not in all_free().
   */
  register<P extends Pool<any>>(pool: P, store = false): P {
    this.all.push(pool);
    if (store) this.stores.add(pool);
    return pool;
  }
  /** Create and register a pool with the capacity named by a config key. */
  create<T extends object>(
    key: keyof StackConfig,
    name: string,
    create: () => T,
    reset?: (t: T) => void,
    store = false,
  ): Pool<T> {
    return this.register(new Pool<T>(name, this.config[key], create, reset), store);
  }
  stats(): PoolStats[] {
    return this.all.map((p) => p.stats());
  }
  /** Stats of the working pools (not stores) that have blocks handed out: [] when all_free(). */
  busy(): PoolStats[] {
    return this.all.filter((p) => p.in_use !== 0 && !this.stores.has(p)).map((p) => p.stats());
  }
  /** True when no working pool has a block handed out (stores may hold data). */
  all_free(): boolean {
    return this.all.every((p) => p.in_use === 0 || this.stores.has(p));
  }
}
