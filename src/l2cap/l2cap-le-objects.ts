/**
 * The records L2CAP keeps for LE (all pooled, reused, never allocated per packet):
 * - L2capLeLink: one LE ACL link (the fixed channels' can-send-now requests, the LE signalling
 *   answers it owes, the connection parameter update in either role);
 * - L2capLeService: an SPSM registered for credit-based channels (BTstack's l2cap_cbm/ecbm services);
 * - L2capCbmChannel: a channel in LE Credit Based (CBM) or Enhanced Credit Based (ECBM) flow
 *   control mode (Core v5.4 Vol 3 Part A, 10.1-10.2): credits both ways, SDU segmentation and
 *   reassembly into the application's receive buffer.
 */
import type { BdAddr } from '../core/bytes.js';
import { Timer } from '../core/run-loop.js';
import { HCI_CON_HANDLE_INVALID } from '../codes/v1.4.js';
import type { L2capPacketHandler } from './l2cap-objects.js';

/** Full LE signalling answers one link may have waiting (then requests are owed "not understood"). */
export const L2CAP_LE_PENDING_RESPONSES = 16;
/** Room for one encoded LE signalling command (the largest: an ECBM response with 5 CIDs, 18 octets). */
const SLOT_SIZE = 32;
/** Placeholder for a dropped K-frame view. */
const EMPTY_VIEW = new Uint8Array(0);

/**
 * The LE signalling answers a link owes (Vol 3 Part A, 4: every request gets exactly one
 * response). Answers are encoded when queued (code, identifier, length, data) and sent one per
 * C-frame. A full ring owes the request a Command Reject "not understood" (4.1 allows it for any
 * request), counted per identifier, so a flood needs no memory. A slot is made the first time the
 * ring reaches it and the ring starts again at slot 0 whenever it empties (a link with at most n
 * answers waiting makes n slots); the counters are made at the first overflow. No allocation per
 * request once warm.
 */
export class L2capLeResponseQueue {
  private readonly slots: Uint8Array[] = [];
  private readonly lens = new Uint8Array(L2CAP_LE_PENDING_RESPONSES);
  private head = 0;
  private count = 0;
  /** Owed Command Rejects per identifier; null until the ring first overflows. */
  private owed: Uint32Array | null = null;
  private owedTotal = 0;
  private owedCursor = 0;
  /** Requests answered with an owed Command Reject because the ring was full. */
  overflowed = 0;

  clear(): void {
    this.head = this.count = 0;
    if (this.owedTotal) this.owed!.fill(0);
    this.owedTotal = 0;
    this.owedCursor = 0;
    this.overflowed = 0;
  }

  get empty(): boolean {
    return this.count === 0 && this.owedTotal === 0;
  }

  get size(): number {
    return this.count + this.owedTotal;
  }

  /**
   * A slot to write the answer to request `identifier` into (then commit(len)), or null: the
   * request is owed a Command Reject "not understood" instead.
   */
  slot(identifier: number): Uint8Array | null {
    if (this.count < L2CAP_LE_PENDING_RESPONSES && this.owedTotal === 0) {
      // the slots in use are always a run of made ones, so the next is made or the next to make
      const i = (this.head + this.count) % L2CAP_LE_PENDING_RESPONSES;
      let slot = this.slots[i];
      if (slot === undefined) {
        slot = new Uint8Array(SLOT_SIZE);
        this.slots[i] = slot; // i === slots.length: the run starts at 0 and grows by one
      }
      return slot;
    }
    this.overflowed++;
    const id = identifier & 0xff;
    const owed = (this.owed ??= new Uint32Array(256));
    if (owed[id]! < 0xffffffff) {
      owed[id]!++;
      this.owedTotal++;
    }
    return null;
  }

  /** The answer written into the last slot() is `len` octets long. */
  commit(len: number): void {
    this.lens[(this.head + this.count) % L2CAP_LE_PENDING_RESPONSES] = len;
    this.count++;
  }

  /** The oldest full answer (bytes [0, peekLength())), or null. */
  peek(): Uint8Array | null {
    return this.count > 0 ? this.slots[this.head]! : null;
  }

  peekLength(): number {
    return this.count > 0 ? this.lens[this.head]! : 0;
  }

  pop(): void {
    if (this.count === 0) return;
    this.count--;
    this.head = this.count === 0 ? 0 : (this.head + 1) % L2CAP_LE_PENDING_RESPONSES;
  }

  /** Identifier of the next owed Command Reject (marked sent), or -1. */
  takeOwedReject(): number {
    const owed = this.owed;
    if (this.owedTotal === 0 || owed === null) return -1;
    for (let i = 0; i < 256; i++) {
      const id = (this.owedCursor + i) & 0xff;
      if (owed[id]! > 0) {
        owed[id]!--;
        this.owedTotal--;
        this.owedCursor = (id + 1) & 0xff;
        return id;
      }
    }
    return -1;
  }
}

// Connection parameter update states of a link (BTstack's le_con_parameter_update_state)
export const CPU_NONE = 0;
/** Peripheral: send our Connection Parameter Update Request. */
export const CPU_SEND_REQUEST = 1;
/** Peripheral: our request is out, waiting for the response. */
export const CPU_W4_RESPONSE = 2;

export class L2capLeLink {
  con_handle = HCI_CON_HANDLE_INVALID;
  readonly address: BdAddr = new Uint8Array(6);
  address_type = 0;
  /** We are the peripheral of this link (from LE Connection Complete's role; else central). */
  peripheral = false;
  /** Fixed channels (bit = CID) whose handler asked for L2CAP_EVENT_CAN_SEND_NOW on this link. */
  fixed_waiting = 0;
  #responses: L2capLeResponseQueue | null = null;
  /** Signalling answers the link owes the remote; made with the first request it answers. */
  get responses(): L2capLeResponseQueue {
    return (this.#responses ??= new L2capLeResponseQueue());
  }
  /** Answers are owed (without making the queue). */
  get responses_pending(): boolean {
    return this.#responses !== null && !this.#responses.empty;
  }
  /** Our Connection Parameter Update Request (peripheral role). */
  cpu_state = CPU_NONE;
  cpu_sig_id = 0;
  cpu_interval_min = 0;
  cpu_interval_max = 0;
  cpu_latency = 0;
  cpu_timeout = 0;
  /** Central, auto-accept off: identifier of the remote's request the application has to answer (0 = none). */
  cpu_remote_sig_id = 0;

  reset(): void {
    this.con_handle = HCI_CON_HANDLE_INVALID;
    this.address.fill(0);
    this.address_type = 0;
    this.peripheral = false;
    this.fixed_waiting = 0;
    this.#responses?.clear();
    this.cpu_state = CPU_NONE;
    this.cpu_sig_id = 0;
    this.cpu_remote_sig_id = 0;
    this.cpu_interval_min = this.cpu_interval_max = this.cpu_latency = this.cpu_timeout = 0;
  }
}

export class L2capLeService {
  psm = 0;
  security_level = 0;
  /** Enhanced credit-based service (l2cap_ecbm_register_service). */
  enhanced = false;
  /** ECBM: smallest MTU a remote may announce. */
  min_remote_mtu = 0;
  handler: L2capPacketHandler | null = null;

  reset(): void {
    this.psm = 0;
    this.security_level = 0;
    this.enhanced = false;
    this.min_remote_mtu = 0;
    this.handler = null;
  }
}

// Channel states (ours; BTstack's L2CAP_STATE_* names where it has them)
export const CBM_CLOSED = 0;
/** Outgoing: send the (Enhanced) Credit Based Connection Request. */
export const CBM_WILL_SEND_REQUEST = 1;
export const CBM_W4_RESPONSE = 2;
/** Incoming: waiting for l2cap_cbm_accept_connection / decline. */
export const CBM_W4_ACCEPT = 3;
/** Incoming: send the response (accept or refuse). */
export const CBM_WILL_SEND_RESPONSE = 4;
export const CBM_OPEN = 5;
export const CBM_WILL_SEND_DISCONNECT_REQUEST = 6;
export const CBM_W4_DISCONNECT_RESPONSE = 7;
/** Outgoing: waiting for the link's security level before the request (BTstack's WAIT_OUTGOING_SECURITY_LEVEL_UPDATE; l2cap-cbm-security.ts). */
export const CBM_W4_SECURITY = 8;

export class L2capCbmChannel {
  state = CBM_CLOSED;
  /** Enhanced (ECBM) channel. */
  enhanced = false;
  incoming = false;
  local_cid = 0;
  remote_cid = 0;
  psm = 0;
  con_handle = HCI_CON_HANDLE_INVALID;
  readonly address: BdAddr = new Uint8Array(6);
  address_type = 0;
  handler: L2capPacketHandler | null = null;
  security_level = 0;
  /** Our MTU / MPS and the remote's. */
  local_mtu = 0;
  local_mps = 0;
  remote_mtu = 0;
  remote_mps = 0;
  /** K-frames the remote may still send us (we granted), and we may still send (it granted). */
  credits_incoming = 0;
  credits_outgoing = 0;
  /** Credits to grant at connection time, or L2CAP_LE_AUTOMATIC_CREDITS. */
  initial_credits = 0;
  automatic_credits = false;
  /** Credits consumed by the remote and not yet returned (manual mode: granted by l2cap_cbm_provide_credits). */
  credits_to_return = 0;
  /** The application's receive buffer (SDU reassembly) of `local_mtu` octets. */
  receive_buffer: Uint8Array | null = null;
  /** SDU being reassembled: its length (from the first K-frame) and octets so far; -1 = none. */
  rx_sdu_len = -1;
  rx_pos = 0;
  /** SDU being sent (a reference to the application's data, BTstack: valid until PACKET_SENT) and progress. */
  tx_data: Uint8Array | null = null;
  tx_len = 0;
  tx_pos = 0;
  /** K-frames of the SDU being sent so far (the index into tx_views). */
  tx_kframe = 0;
  /**
   * Views of the app's SDU, one per K-frame index: apps send SDU after SDU from the same buffer,
   * so K-frame i starts at the same offset every time and its view is made once (l2cap-cbm.ts).
   */
  readonly tx_views: Uint8Array[] = [];
  /** Waiting for L2CAP_EVENT_(LE_)CAN_SEND_NOW. */
  waiting_for_can_send_now = false;
  /** Identifier of our outstanding request / the remote's request to answer. */
  local_sig_id = 0;
  remote_sig_id = 0;
  /** Result of the response to send (incoming channel). */
  response_result = 0;
  /** ECBM: channels created by one request share its identifier; this is the group leader's CID. */
  group_cid = 0;
  /** ECBM incoming request (kept by the first channel of the group): the SCIDs in request order and the refusal found when it came (0: none). */
  readonly ecbm_scids = new Uint16Array(5);
  ecbm_count = 0;
  ecbm_result = 0;
  /** ECBM reconfiguration outstanding (our request), and one to send (group leader). */
  reconf_sig_id = 0;
  reconf_pending = false;
  /** ECBM reconfiguration: the first channel of our request (channels of one request share it), new MTU / MPS and receive buffer. */
  reconf_group = 0;
  reconf_mtu = 0;
  reconf_mps = 0;
  reconf_buffer: Uint8Array | null = null;
  /** An SDU went out completely: PACKET_SENT is due. */
  packet_sent_pending = false;
  /** True once the opened event with status 0 went out. */
  opened = false;
  /** Remote Disconnection Request (v1.4 emits CHANNEL_CLOSED 0x71 then). */
  closed_by_remote = false;
  readonly timer: Timer;

  constructor() {
    this.timer = new Timer(null, this);
  }

  reset(): void {
    this.state = CBM_CLOSED;
    this.enhanced = false;
    this.incoming = false;
    this.local_cid = this.remote_cid = this.psm = 0;
    this.con_handle = HCI_CON_HANDLE_INVALID;
    this.address.fill(0);
    this.address_type = 0;
    this.handler = null;
    this.security_level = 0;
    this.local_mtu = this.local_mps = this.remote_mtu = this.remote_mps = 0;
    this.credits_incoming = this.credits_outgoing = this.initial_credits = this.credits_to_return = 0;
    this.automatic_credits = false;
    this.receive_buffer = null;
    this.rx_sdu_len = -1;
    this.rx_pos = 0;
    this.tx_data = null;
    this.tx_len = this.tx_pos = this.tx_kframe = 0;
    this.tx_views.fill(EMPTY_VIEW); // drop the last app buffer's views, keep the array's storage
    this.waiting_for_can_send_now = false;
    this.local_sig_id = this.remote_sig_id = this.response_result = 0;
    this.group_cid = 0;
    this.ecbm_scids.fill(0);
    this.ecbm_count = this.ecbm_result = 0;
    this.reconf_sig_id = 0;
    this.reconf_pending = false;
    this.reconf_group = this.reconf_mtu = this.reconf_mps = 0;
    this.reconf_buffer = null;
    this.packet_sent_pending = false;
    this.opened = false;
    this.closed_by_remote = false;
  }
}
