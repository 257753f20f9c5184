/**
 * The records the L2CAP layer keeps (all pooled, reused, never allocated per packet):
 * - L2capService: a registered PSM (BTstack's l2cap_service_t);
 * - L2capChannel: a connection-oriented channel on ACL-U (BTstack's l2cap_channel_t), with its
 *   BTstack state (L2CAP_STATE_*), configuration sub-state (L2CAP_CFG_*) and pending work;
 * - L2capLink: what L2CAP knows about one classic ACL link (signalling answers it owes, see
 *   l2cap-responses.ts; the information exchange, an outstanding echo request, the idle timer).
 * L2CAP reaches HCI only through HciService (src/hci/hci-service.ts), which the real Hci
 * implements and the unit tests fake.
 */
import type { BdAddr } from '../core/bytes.js';
import type { BtstackPacketCallbackRegistration, PacketHandler } from '../hci/hci-service.js';
import { Timer } from '../core/run-loop.js';
import { HCI_CON_HANDLE_INVALID, L2CAP_CHANNEL_MODE_BASIC, L2CAP_DEFAULT_MTU, L2CAP_STATE_CLOSED } from '../codes/v1.4.js';
import type { L2capErtm } from './l2cap-ertm.js';
import { L2capErtmChannelConfig } from './l2cap-ertm-types.js';
import { L2capConfigAnswer, L2capConfigOptions } from './config-options.js';
import { L2capResponseQueue } from './l2cap-responses.js';
import { L2CAP_CONNECTION_RESULT_NO_RESOURCES_AVAILABLE } from './signaling.js';

export { L2CAP_PENDING_RESPONSES_PER_LINK, type L2capPendingResponse } from './l2cap-responses.js';

/** BTstack's btstack_packet_handler_t (HCI's PacketHandler). */
export type L2capPacketHandler = PacketHandler;

/** BTstack's btstack_packet_callback_registration_t. */
export type L2capCallbackRegistration = BtstackPacketCallbackRegistration;

/** ACL header (4) + basic L2CAP header (4): where an SDU starts in the outgoing buffer (BTstack's COMPLETE_L2CAP_HEADER). */
export const COMPLETE_L2CAP_HEADER = 8;

/** Signalling MTU of this host (MTUsig, Vol 3 Part A, 4): larger C-frames are rejected. */
export const L2CAP_SIGNALING_MTU = L2CAP_DEFAULT_MTU;
/** Connectionless MTU of this host (information type 0x0001, and the send limit on CID 0x0002). */
export const L2CAP_CONNECTIONLESS_MTU = L2CAP_DEFAULT_MTU;
/** Room for the options of one (possibly continued) Configuration Request of the remote. */
export const L2CAP_CONFIG_BUFFER_SIZE = 1024;
/** Zero octets: a channel's conf_buf while it holds no options, an Echo Request without data. */
export const NO_BYTES = new Uint8Array(0);

/** `c.conf_buf` with room for `n` octets (the first conf_len kept); n <= L2CAP_CONFIG_BUFFER_SIZE. */
export function l2cap_conf_buf_room(c: L2capChannel, n: number): Uint8Array {
  if (c.conf_buf.length >= n) return c.conf_buf;
  // small requests (an MTU option is 4 octets) stay in a small array; continuations grow it
  const b = new Uint8Array(Math.min(L2CAP_CONFIG_BUFFER_SIZE, Math.max(n, 32, 2 * c.conf_buf.length)));
  b.set(c.conf_buf.subarray(0, c.conf_len), 0);
  c.conf_buf = b;
  return b;
}
/** Room for the data echoed in one Echo Response (longer echo data is answered truncated). */
export const L2CAP_ECHO_BUFFER_SIZE = L2CAP_SIGNALING_MTU;
/** L2capChannel.flush_timeout (and CHANNEL_OPENED's field) while the remote sent no Flush Timeout option, as in BTstack. */
export const L2CAP_FLUSH_TIMEOUT_NOT_RECEIVED = 0;
/** Configuration Requests we send for one channel after "unacceptable parameters" before giving up. */
export const L2CAP_MAX_CONFIG_REQUESTS = 4;
/** An incoming connection the application has not answered after this long gets a "pending" response. */
export const L2CAP_INCOMING_PENDING_DELAY_MS = 1000;
/**
 * Longest time a channel may stay in CONFIG (both directions configured). BTstack has no such
 * guard (its RTX stops when our Configuration Request is answered, so a remote that never sends
 * its own request keeps the channel forever); this is BlueZ's L2CAP_CONN_TIMEOUT (40 s). While our
 * own request is outstanding its RTX / ERTX timer decides instead.
 */
export const L2CAP_CONFIG_TIMEOUT_MS = 40_000;
/**
 * Default time an ACL link without channels stays up: after it came up with none, or after its last
 * channel closed (0 = never closed by L2CAP). BTstack's HCI_CONNECTION_TIMEOUT_MS.
 */
export const L2CAP_DEFAULT_AUTO_DISCONNECT_TIMEOUT_MS = 10_000;

// Channel work flags (L2capChannel.todo)
export const TODO_SEND_CONF_REQ = 1 << 0;
export const TODO_SEND_CONF_RSP = 1 << 1;
/** Incoming channel: send Connection Response "pending" (authentication pending while its security level is raised, else authorization pending). */
export const TODO_SEND_CONN_RSP_PENDING = 1 << 2;
/** Our Configuration Request just sent is an empty one asking for the rest of a continued response. */
export const TODO_CONF_REQ_EMPTY = 1 << 3;
/** Outgoing channel: l2cap_disconnect was called while the Connection Response was outstanding. */
export const TODO_DISCONNECT_WHEN_CONNECTED = 1 << 4;
/** Outgoing channel created while its link was being closed: create a new link once the old one is gone. */
export const TODO_CREATE_ACL = 1 << 5;

export class L2capService {
  psm = 0;
  mtu = 0;
  required_security_level = 0;
  handler: L2capPacketHandler | null = null;
  /** Reception of connectionless data (CID 0x0002) for this PSM (FreeBSD's ENABLE_CLT). */
  connectionless_enabled = false;

  reset(): void {
    this.psm = 0;
    this.mtu = 0;
    this.required_security_level = 0;
    this.handler = null;
    this.connectionless_enabled = false;
  }
}

export class L2capChannel {
  /** BTstack L2CAP_STATE_* value (L2CAP_STATE_CLOSED while free or being torn down). */
  state = L2CAP_STATE_CLOSED;
  local_cid = 0;
  remote_cid = 0;
  psm = 0;
  con_handle = HCI_CON_HANDLE_INVALID;
  readonly address: BdAddr = new Uint8Array(6);
  handler: L2capPacketHandler | null = null;
  incoming = false;
  /** The largest SDU we receive (our MTU, sent in our Configuration Request). */
  local_mtu = L2CAP_DEFAULT_MTU;
  /** The largest SDU the remote receives (from its Configuration Request; 672 when it did not say). */
  remote_mtu = L2CAP_DEFAULT_MTU;
  /**
   * The remote's Flush Timeout option from its Configuration Request; 0 while it sent none. This is
   * what L2CAP_EVENT_CHANNEL_OPENED reports: BTstack zeroes a new channel (memset in
   * l2cap_create_channel_entry, v1.4 and current) and only the remote's option sets the field, so
   * ported code sees 0, not the spec's default 0xFFFF, when the option was absent.
   */
  flush_timeout = L2CAP_FLUSH_TIMEOUT_NOT_RECEIVED;
  required_security_level = 0;
  /** Configuration sub-state (L2CAP_CFG_* of channel-state.ts). */
  cfg = 0;
  /** TODO_* work flags. */
  todo = 0;
  /** Identifier of our outstanding request (connection, configuration, disconnection), 0 = none. */
  local_sig_id = 0;
  /** Identifier of the remote's request we still have to answer (connection, disconnection). */
  remote_sig_id = 0;
  /** The Configuration Response to send (TODO_SEND_CONF_RSP). */
  conf_rsp_id = 0;
  conf_rsp_flags = 0;
  readonly conf_answer = new L2capConfigAnswer();
  /**
   * Options of the remote's Configuration Request collected so far (continuation fragments
   * appended): made for a request, as large as its options (up to L2CAP_CONFIG_BUFFER_SIZE), and
   * let go once answered (NO_BYTES in between).
   */
  conf_buf: Uint8Array = NO_BYTES;
  conf_len = 0;
  /** Parsed options of the remote's last complete request. */
  readonly remote_options = new L2capConfigOptions();
  /** Options of our Configuration Request. */
  readonly local_options = new L2capConfigOptions();
  /** Configuration Requests sent so far (retries after "unacceptable parameters"). */
  conf_requests = 0;
  /** True once L2CAP_EVENT_CHANNEL_OPENED with status 0 was emitted. */
  opened = false;
  /** Status reported in L2CAP_EVENT_CHANNEL_OPENED if the channel ends before it opened. */
  fail_status = 0;
  /** Result of the Connection Response refusing an incoming channel (0x0004 declined, 0x0003 security block). */
  refuse_result = L2CAP_CONNECTION_RESULT_NO_RESOURCES_AVAILABLE;
  waiting_for_can_send_now = false;
  /** L2CAP_CHANNEL_MODE_*: Basic, or ERTM / streaming once negotiated (l2cap-ertm-channel.ts). */
  mode = L2CAP_CHANNEL_MODE_BASIC;
  /** ERTM / streaming: what the application asked for, its buffer, the remote's parameters (made on first use). */
  private ertmCfg: L2capErtmChannelConfig | null = null;
  /** The ERTM / streaming engine, made the first time this record carries such a channel, then reused. */
  ertm: L2capErtm | null = null;
  /** RTX / ERTX timer (also the "send pending" delay of an incoming connection). */
  readonly timer: Timer;
  /** Guards the whole CONFIG state (L2CAP_CONFIG_TIMEOUT_MS). */
  readonly config_timer: Timer;

  constructor() {
    this.timer = new Timer(null, this);
    this.config_timer = new Timer(null, this);
  }

  /**
   * The ERTM / streaming record, made the first time this channel record is asked for one (an
   * application's ERTM config, or a channel whose mode is not Basic), then kept and reset with the
   * record: a Basic channel never makes it.
   */
  get ertm_cfg(): L2capErtmChannelConfig {
    return (this.ertmCfg ??= new L2capErtmChannelConfig());
  }

  /** The ERTM / streaming record if one was ever made, without making it. */
  get ertm_cfg_made(): L2capErtmChannelConfig | null {
    return this.ertmCfg;
  }

  reset(): void {
    this.state = L2CAP_STATE_CLOSED;
    this.local_cid = 0;
    this.remote_cid = 0;
    this.psm = 0;
    this.con_handle = HCI_CON_HANDLE_INVALID;
    this.address.fill(0);
    this.handler = null;
    this.incoming = false;
    this.local_mtu = L2CAP_DEFAULT_MTU;
    this.remote_mtu = L2CAP_DEFAULT_MTU;
    this.flush_timeout = L2CAP_FLUSH_TIMEOUT_NOT_RECEIVED;
    this.required_security_level = 0;
    this.cfg = 0;
    this.todo = 0;
    this.local_sig_id = 0;
    this.remote_sig_id = 0;
    this.conf_rsp_id = 0;
    this.conf_rsp_flags = 0;
    this.conf_answer.clear();
    this.conf_buf = NO_BYTES;
    this.conf_len = 0;
    this.remote_options.clear();
    this.local_options.clear();
    this.conf_requests = 0;
    this.opened = false;
    this.fail_status = 0;
    this.refuse_result = L2CAP_CONNECTION_RESULT_NO_RESOURCES_AVAILABLE;
    this.waiting_for_can_send_now = false;
    this.mode = L2CAP_CHANNEL_MODE_BASIC;
    this.ertmCfg?.reset();
    this.ertm?.stop();
  }
}

/** Information exchange with the remote (Vol 3 Part A, 4.10-4.11). */
export const INFO_IDLE = 0;
export const INFO_W2_SEND_EXTENDED_FEATURES = 1;
export const INFO_W4_EXTENDED_FEATURES = 2;
export const INFO_W2_SEND_FIXED_CHANNELS = 3;
export const INFO_W4_FIXED_CHANNELS = 4;
export const INFO_DONE = 5;

export const ECHO_IDLE = 0;
export const ECHO_W2_SEND = 1;
export const ECHO_W4_RESPONSE = 2;

/** Result callback of l2cap_send_echo_request: status 0 and the response's data, or a failure status. */
export type L2capEchoCallback = (status: number, data: Uint8Array, size: number) => void;

export class L2capLink {
  con_handle = HCI_CON_HANDLE_INVALID;
  readonly address: BdAddr = new Uint8Array(6);
  /** Channels that use this link (any state). */
  channels = 0;
  /** Signalling answers the link owes the remote (every request gets exactly one; see l2cap-responses.ts). */
  readonly responses = new L2capResponseQueue();
  /** Echo data of the one pending Echo Response that carries data (others go out empty); made on first use. */
  echo_rsp_data: Uint8Array | null = null;
  echo_rsp_busy = false;

  info_state = INFO_IDLE;
  info_sig_id = 0;
  /** Remote's extended feature mask and fixed channels (bits 0-31), valid in INFO_DONE. */
  extended_features = 0;
  fixed_channels = 0;
  readonly info_timer: Timer;

  echo_state = ECHO_IDLE;
  echo_sig_id = 0;
  /** Data of our Echo Request; made the first time l2cap_send_echo_request carries data. */
  echo_req_data: Uint8Array | null = null;
  echo_req_len = 0;
  echo_callback: L2capEchoCallback | null = null;
  readonly echo_timer: Timer;

  /** Auto-disconnect once idle (no channel since the link came up, or since its last channel closed). */
  readonly idle_timer: Timer;
  /** Run-loop time of the last L2CAP traffic while the link had no channel (an idle link with traffic stays). */
  last_activity_ms = 0;
  /** L2CAP asked HCI to disconnect the idle link; new channels wait for a new link. */
  closing = false;

  constructor() {
    this.info_timer = new Timer(null, this);
    this.echo_timer = new Timer(null, this);
    this.idle_timer = new Timer(null, this);
  }

  reset(): void {
    this.con_handle = HCI_CON_HANDLE_INVALID;
    this.address.fill(0);
    this.channels = 0;
    this.closing = false;
    this.last_activity_ms = 0;
    this.responses.clear();
    this.echo_rsp_busy = false;
    this.info_state = INFO_IDLE;
    this.info_sig_id = 0;
    this.extended_features = 0;
    this.fixed_channels = 0;
    this.echo_state = ECHO_IDLE;
    this.echo_sig_id = 0;
    this.echo_req_len = 0;
    this.echo_callback = null;
  }
}
