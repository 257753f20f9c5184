/**
 * The LE half of the L2cap facade (`L2cap` extends this class, so `stack.l2cap` and the
 * btstack_init_default functions carry these names): BTstack's fixed-channel API (the
 * L2capFixedChannelService contract), the connection parameter update, and the credit-based
 * channels under both of BTstack's names: v1.4's `l2cap_le_*` and v1.8's `l2cap_cbm_*` (BTstack
 * >= 1.5 keeps `l2cap_le_*` as deprecated aliases). Which events come (L2CAP_EVENT_LE_* or
 * _CBM_*) depends on the stack's code profile only (l2cap-le-events.ts). The components do the
 * work: l2cap-le-fixed.ts, l2cap-le-signaling.ts, l2cap-cbm.ts.
 */
import type { PacketHandler } from '../hci/hci-service.js';
import type { L2capCbm, L2capCbmCreateResult } from './l2cap-cbm.js';
import type { L2capEcbm, L2capEcbmChannelsResult } from './l2cap-ecbm.js';
import type { L2capLeFixed } from './l2cap-le-fixed.js';
import type { L2capClassicFixed } from './l2cap-classic-fixed.js';
import type { L2capLeSignaling } from './l2cap-le-signaling.js';
import type { L2capFixedChannelService } from './l2cap-fixed-service.js';
import { checkData, checkHandler, checkInt, checkU16 } from './l2cap-args.js';

export type { L2capCbmCreateResult } from './l2cap-cbm.js';
export type { L2capEcbmChannelsResult } from './l2cap-ecbm.js';

/** The LE components the facade forwards to (set once by L2cap's constructor). */
export interface L2capLeParts {
  fixed: L2capLeFixed;
  signaling: L2capLeSignaling;
  cbm: L2capCbm;
  ecbm: L2capEcbm;
  /** BR/EDR fixed channels (0x0007): the same API on a classic handle. */
  classic: L2capClassicFixed;
}

function checkBuffer(fn: string, buf: unknown, mtu: number): void {
  if (!(buf instanceof Uint8Array) || buf.length < mtu)
    throw new TypeError(`${fn}: receive buffer must be a Uint8Array of at least mtu (${mtu}) octets`);
}

/** ECBM: `count` receive buffers of at least `size` octets each. */
function checkBuffers(fn: string, bufs: unknown, count: number, size: number): void {
  if (!Array.isArray(bufs) || bufs.length < count)
    throw new TypeError(`${fn}: receive_buffers must be an array of at least ${count} Uint8Arrays`);
  for (let i = 0; i < count; i++) checkBuffer(fn, bufs[i], size);
}

export abstract class L2capLeApi implements L2capFixedChannelService {
  /** @internal */
  protected abstract readonly le: L2capLeParts;
  /** @internal */
  protected abstract l2cap_init(): void;

  // ========================================================================= fixed channels

  /** BTstack's l2cap_register_fixed_channel: PDUs on `channel_id` (LE: 0x0004 ATT, 0x0006 SM; BR/EDR: 0x0007 SM) go to `handler`; replaces. */
  l2cap_register_fixed_channel(handler: PacketHandler, channel_id: number): void {
    checkHandler('l2cap_register_fixed_channel', handler);
    checkU16('l2cap_register_fixed_channel', 'channel_id', channel_id);
    this.l2cap_init();
    this.le.fixed.register(handler, channel_id);
  }

  /** True when l2cap_send_connectionless(con_handle, channel_id, ...) would go out now. */
  l2cap_can_send_fixed_channel_packet_now(con_handle: number, channel_id: number): boolean {
    if (this.le.classic.isClassic(con_handle)) return this.le.classic.canSend(con_handle, channel_id);
    return this.le.fixed.canSend(con_handle, channel_id);
  }

  /** One L2CAP_EVENT_CAN_SEND_NOW (local_cid = channel_id, channel = con_handle) to the fixed channel's handler, from the run loop. */
  l2cap_request_can_send_fix_channel_now_event(con_handle: number, channel_id: number): void {
    checkU16('l2cap_request_can_send_fix_channel_now_event', 'channel_id', channel_id);
    this.l2cap_init();
    if (this.le.classic.isClassic(con_handle)) this.le.classic.requestCanSend(con_handle, channel_id);
    else this.le.fixed.requestCanSend(con_handle, channel_id);
  }

  /**
   * BTstack's l2cap_send_connectionless(con_handle, cid, data, len): one PDU on a fixed channel,
   * copied before returning. 0, ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER, BTSTACK_ACL_BUFFERS_FULL
   * or L2CAP_DATA_LEN_EXCEEDS_REMOTE_MTU. (The BR/EDR G-frame sender is l2cap_send_connectionless_psm.)
   */
  l2cap_send_connectionless(con_handle: number, channel_id: number, data: Uint8Array, len: number = data?.length): number {
    checkU16('l2cap_send_connectionless', 'channel_id', channel_id);
    checkData('l2cap_send_connectionless', data, len);
    if (this.le.classic.isClassic(con_handle)) return this.le.classic.send(con_handle, channel_id, data, len);
    return this.le.fixed.send(con_handle, channel_id, data, len);
  }

  // ================================================================ connection parameters

  /**
   * Peripheral: send a Connection Parameter Update Request (Vol 3 Part A 4.20) to the central;
   * its answer comes as L2CAP_EVENT_CONNECTION_PARAMETER_UPDATE_RESPONSE (result 0 accepted, 1
   * rejected; a Command Reject counts as rejected). The L2CAP half of BTstack's
   * gap_request_connection_parameter_update. 0 or ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER.
   */
  l2cap_request_connection_parameter_update(
    con_handle: number,
    conn_interval_min: number,
    conn_interval_max: number,
    conn_latency: number,
    supervision_timeout: number,
  ): number {
    for (const [n, v] of Object.entries({ conn_interval_min, conn_interval_max, conn_latency, supervision_timeout }))
      checkU16('l2cap_request_connection_parameter_update', n, v);
    this.l2cap_init();
    return this.le.fixed.requestConnectionParameterUpdate(
      con_handle,
      conn_interval_min,
      conn_interval_max,
      conn_latency,
      supervision_timeout,
    );
  }

  /**
   * Central: true (default, BTstack's behaviour) answers Connection Parameter Update Requests by
   * GAP's parameter range and has GAP apply accepted ones; false leaves the answer to the
   * application (l2cap_connection_parameter_update_response after the REQUEST event).
   */
  l2cap_set_connection_parameter_update_auto_accept(enable: boolean): void {
    this.le.signaling.auto_accept_connection_parameters = !!enable;
  }

  /** Central with auto accept off: answer the pending request (the application applies accepted parameters itself). */
  l2cap_connection_parameter_update_response(con_handle: number, accept: boolean): number {
    return this.le.signaling.applicationAnswer(con_handle, !!accept);
  }

  // ================================================================ credit-based channels (CBM)

  /** Register an SPSM (0x0001-0x00FF) for LE credit-based channels. 0, L2CAP_SERVICE_ALREADY_REGISTERED, BTSTACK_MEMORY_ALLOC_FAILED or ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS (SPSM out of range). */
  l2cap_cbm_register_service(handler: PacketHandler, psm: number, security_level = 0): number {
    checkHandler('l2cap_cbm_register_service', handler);
    checkU16('l2cap_cbm_register_service', 'psm', psm);
    checkInt('l2cap_cbm_register_service', 'security_level', security_level);
    this.l2cap_init();
    return this.le.cbm.registerService(handler, psm, security_level, false);
  }

  l2cap_cbm_unregister_service(psm: number): number {
    return this.le.cbm.unregisterService(psm, false);
  }

  /**
   * Open a credit-based channel to `psm` on the LE link `con_handle`; SDUs up to `mtu` (>= 23) are
   * reassembled into `receive_buffer`. `initial_credits` or L2CAP_LE_AUTOMATIC_CREDITS (0xFFFF).
   * A link below `security_level` is paired first (the SM must be set up with sm_init); the
   * request goes out once the level is reached. The outcome: L2CAP_EVENT_LE_CHANNEL_OPENED (v1.4) /
   * _CBM_CHANNEL_OPENED (v1.8); status 0, ERROR_CODE_INSUFFICIENT_SECURITY (0x2F) when the level
   * was not reached, or the remote's refusal: its result raw in v1.4, 0x65-0x6F in v1.8
   * (l2cap-cbm-status.ts). Returns { status, local_cid }.
   */
  l2cap_cbm_create_channel(
    handler: PacketHandler,
    con_handle: number,
    psm: number,
    receive_buffer: Uint8Array,
    mtu: number,
    initial_credits: number,
    security_level = 0,
  ): L2capCbmCreateResult {
    checkHandler('l2cap_cbm_create_channel', handler);
    checkU16('l2cap_cbm_create_channel', 'psm', psm);
    checkU16('l2cap_cbm_create_channel', 'mtu', mtu);
    checkU16('l2cap_cbm_create_channel', 'initial_credits', initial_credits);
    checkBuffer('l2cap_cbm_create_channel', receive_buffer, mtu);
    this.l2cap_init();
    return this.le.cbm.create(handler, con_handle, psm, receive_buffer, mtu, initial_credits, security_level);
  }

  l2cap_cbm_accept_connection(local_cid: number, receive_buffer: Uint8Array, mtu: number, initial_credits: number): number {
    checkU16('l2cap_cbm_accept_connection', 'mtu', mtu);
    checkU16('l2cap_cbm_accept_connection', 'initial_credits', initial_credits);
    checkBuffer('l2cap_cbm_accept_connection', receive_buffer, mtu);
    return this.le.cbm.accept(local_cid, receive_buffer, mtu, initial_credits);
  }

  /** Refuse with `result` (LE result code; default 0x0004 no resources, as BTstack 1.4's l2cap_le_decline_connection). */
  l2cap_cbm_decline_connection(local_cid: number, result = 0x0004): number {
    return this.le.cbm.decline(local_cid, result);
  }

  l2cap_cbm_provide_credits(local_cid: number, credits: number): number {
    checkU16('l2cap_cbm_provide_credits', 'credits', credits);
    return this.le.cbm.provideCredits(local_cid, credits);
  }

  /** Credits the remote gave us (K-frames we may send). */
  l2cap_cbm_available_credits(local_cid: number): number {
    return this.le.cbm.availableCredits(local_cid);
  }

  /** v1.4 name. The SDU is NOT copied (BTstack): keep `data` until L2CAP_EVENT_LE_PACKET_SENT / PACKET_SENT. */
  l2cap_le_send_data(local_cid: number, data: Uint8Array, len: number = data?.length): number {
    checkData('l2cap_le_send_data', data, len);
    return this.le.cbm.send(local_cid, data, len);
  }

  l2cap_le_request_can_send_now_event(local_cid: number): number {
    return this.le.cbm.requestCanSendNow(local_cid);
  }

  l2cap_le_can_send_now(local_cid: number): boolean {
    return this.le.cbm.canSendNow(local_cid);
  }

  l2cap_le_disconnect(local_cid: number): number {
    return this.le.cbm.disconnect(local_cid);
  }

  // v1.4 names of the CBM functions (deprecated aliases in BTstack >= 1.5)
  l2cap_le_register_service(handler: PacketHandler, psm: number, security_level = 0): number {
    return this.l2cap_cbm_register_service(handler, psm, security_level);
  }
  l2cap_le_unregister_service(psm: number): number {
    return this.l2cap_cbm_unregister_service(psm);
  }
  l2cap_le_create_channel(
    handler: PacketHandler,
    con_handle: number,
    psm: number,
    receive_buffer: Uint8Array,
    mtu: number,
    initial_credits: number,
    security_level = 0,
  ): L2capCbmCreateResult {
    return this.l2cap_cbm_create_channel(handler, con_handle, psm, receive_buffer, mtu, initial_credits, security_level);
  }
  l2cap_le_accept_connection(local_cid: number, receive_buffer: Uint8Array, mtu: number, initial_credits: number): number {
    return this.l2cap_cbm_accept_connection(local_cid, receive_buffer, mtu, initial_credits);
  }
  /** v1.4: always result 0x0004 (no resources). */
  l2cap_le_decline_connection(local_cid: number): number {
    return this.l2cap_cbm_decline_connection(local_cid);
  }
  l2cap_le_provide_credits(local_cid: number, credits: number): number {
    return this.l2cap_cbm_provide_credits(local_cid, credits);
  }

  // ===================================================== enhanced credit-based mode (v1.8)
  // BTstack >= 1.5 (l2cap.h "ECBM"); LE links only. In the v1.4 profile (BTstack 1.4.1 has no
  // ECBM) each returns ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE and creates nothing.
  // Open ECBM channels use the unified l2cap_send, l2cap_can_send_packet_now,
  // l2cap_request_can_send_now_event and l2cap_disconnect; events: l2cap-le-events.ts.

  /**
   * Accept Credit Based Connection Requests for `psm` (1-0x00FF): L2CAP_EVENT_ECBM_INCOMING_CONNECTION
   * goes to `handler`. A remote announcing an MTU below `min_remote_mtu` is refused 0x000B; below
   * `security_level` 0x0005 / 0x0007 / 0x0008 (l2cap-le-security.ts). `authorization_required` is accepted for BTstack's signature and not
   * used (no authorization step yet). 0, L2CAP_SERVICE_ALREADY_REGISTERED, BTSTACK_MEMORY_ALLOC_FAILED
   * or ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS.
   */
  l2cap_ecbm_register_service(
    handler: PacketHandler,
    psm: number,
    min_remote_mtu: number,
    security_level = 0,
    authorization_required = false,
  ): number {
    checkHandler('l2cap_ecbm_register_service', handler);
    checkU16('l2cap_ecbm_register_service', 'psm', psm);
    checkU16('l2cap_ecbm_register_service', 'min_remote_mtu', min_remote_mtu);
    checkInt('l2cap_ecbm_register_service', 'security_level', security_level);
    void authorization_required;
    this.l2cap_init();
    return this.le.ecbm.registerService(handler, psm, min_remote_mtu, security_level);
  }

  /** 0 or L2CAP_SERVICE_DOES_NOT_EXIST; channels already open stay open. */
  l2cap_ecbm_unregister_service(psm: number): number {
    return this.le.ecbm.unregisterService(psm);
  }

  /**
   * Open `num_channels` (1-5) channels to `psm` with one Credit Based Connection Request; SDUs up to
   * `receive_buffer_size` (the MTU, >= 64) are reassembled into receive_buffers[i]. `initial_credits`
   * per channel or L2CAP_LE_AUTOMATIC_CREDITS. A link below `security_level` is paired first, as
   * for CBM. One L2CAP_EVENT_ECBM_CHANNEL_OPENED per channel (status 0; 0x2F when the level was not
   * reached; a refused one: 0x65-0x6F, l2cap-cbm-status.ts). Returns { status, local_cids }.
   */
  l2cap_ecbm_create_channels(
    handler: PacketHandler,
    con_handle: number,
    security_level: number,
    psm: number,
    num_channels: number,
    initial_credits: number,
    receive_buffer_size: number,
    receive_buffers: Uint8Array[],
  ): L2capEcbmChannelsResult {
    const fn = 'l2cap_ecbm_create_channels';
    checkHandler(fn, handler);
    checkInt(fn, 'security_level', security_level);
    checkU16(fn, 'psm', psm);
    checkInt(fn, 'num_channels', num_channels);
    checkU16(fn, 'initial_credits', initial_credits);
    checkU16(fn, 'receive_buffer_size', receive_buffer_size);
    checkBuffers(fn, receive_buffers, Math.min(num_channels, 5), receive_buffer_size);
    this.l2cap_init();
    return this.le.ecbm.create(
      handler,
      con_handle,
      security_level,
      psm,
      num_channels,
      initial_credits,
      receive_buffer_size,
      receive_buffers,
    );
  }

  /**
   * Accept the first `num_channels` channels of an incoming request (`local_cid` from
   * L2CAP_EVENT_ECBM_INCOMING_CONNECTION); the others are refused (0x0004). Returns { status, local_cids }.
   */
  l2cap_ecbm_accept_channels(
    local_cid: number,
    num_channels: number,
    initial_credits: number,
    receive_buffer_size: number,
    receive_buffers: Uint8Array[],
  ): L2capEcbmChannelsResult {
    const fn = 'l2cap_ecbm_accept_channels';
    checkInt(fn, 'num_channels', num_channels);
    checkU16(fn, 'initial_credits', initial_credits);
    checkU16(fn, 'receive_buffer_size', receive_buffer_size);
    checkBuffers(fn, receive_buffers, Math.min(num_channels, 5), receive_buffer_size);
    return this.le.ecbm.accept(local_cid, num_channels, initial_credits, receive_buffer_size, receive_buffers);
  }

  /** Refuse an incoming request with `result` (an L2CAP_ECBM_CONNECTION_RESULT_*; 0 counts as 0x0004). */
  l2cap_ecbm_decline_channels(local_cid: number, result: number): number {
    checkU16('l2cap_ecbm_decline_channels', 'result', result);
    return this.le.ecbm.decline(local_cid, result);
  }

  /** Smallest MPS we announce on ECBM channels (64-65533; default 64). */
  l2cap_ecbm_mps_set_min(mps_min: number): void {
    checkU16('l2cap_ecbm_mps_set_min', 'mps_min', mps_min);
    this.le.ecbm.setMpsRange(mps_min, null);
  }

  /** Largest MPS we announce on ECBM channels (64-65533; default 65533; we use MTU + 2 when it fits). */
  l2cap_ecbm_mps_set_max(mps_max: number): void {
    checkU16('l2cap_ecbm_mps_set_max', 'mps_max', mps_max);
    this.le.ecbm.setMpsRange(null, mps_max);
  }

  /** Manual credits for an ECBM channel (as l2cap_cbm_provide_credits). */
  l2cap_ecbm_provide_credits(local_cid: number, credits: number): number {
    return this.l2cap_cbm_provide_credits(local_cid, credits);
  }

  /** L2CAP_EVENT_CAN_SEND_NOW for an ECBM channel (as l2cap_request_can_send_now_event). */
  l2cap_ecbm_request_can_send_now_event(local_cid: number): number {
    return this.le.cbm.requestCanSendNow(local_cid);
  }

  /**
   * Raise the MTU (never lower it) of 1-5 open ECBM channels of one link to `receive_buffer_size`
   * with one Credit Based Reconfigure Request; receive_buffers[i] (for local_cids[i]) take over
   * once the remote accepts. L2CAP_EVENT_ECBM_RECONFIGURATION_COMPLETE per channel with the
   * remote's result. 0, L2CAP_LOCAL_CID_DOES_NOT_EXIST, ERROR_CODE_COMMAND_DISALLOWED (not open, or
   * one outstanding) or ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS.
   */
  l2cap_ecbm_reconfigure_channels(local_cids: number[], receive_buffer_size: number, receive_buffers: Uint8Array[]): number {
    const fn = 'l2cap_ecbm_reconfigure_channels';
    if (!Array.isArray(local_cids)) throw new TypeError(`${fn}: local_cids must be an array`);
    for (const cid of local_cids) checkU16(fn, 'local_cid', cid);
    checkU16(fn, 'receive_buffer_size', receive_buffer_size);
    checkBuffers(fn, receive_buffers, Math.min(local_cids.length, 5), receive_buffer_size);
    return this.le.ecbm.reconfigure(local_cids, receive_buffer_size, receive_buffers);
  }
}
