/**
 * The FreeBSD node's connection and channel lists, for tools and tests: plain objects built on
 * demand (not a hot path).
 */
import { bd_addr_to_str } from '../core/bytes.js';
import { HCI_CON_HANDLE_INVALID, L2CAP_STATE_CLOSED, L2CAP_STATE_WAIT_CONNECTION_COMPLETE } from '../codes/v1.4.js';
import { l2cap_channel_state_from_btstack, l2cap_channel_state_name } from './channel-state.js';
import { INFO_DONE } from './l2cap-objects.js';
import type { L2capState } from './l2cap-state.js';

/** One row of l2cap_get_channels() (the FreeBSD node's channel list). */
export interface L2capChannelInfo {
  local_cid: number;
  remote_cid: number;
  psm: number;
  con_handle: number;
  address: string;
  /** FreeBSD-style state name: CLOSED, W4_L2CAP_CON_RSP, W4_L2CA_CON_RSP, CONFIG, OPEN, W4_L2CAP_DISCON_RSP, W4_L2CA_DISCON_RSP. */
  state: string;
  /** BTstack L2CAP_STATE_* value. */
  btstack_state: number;
  incoming: boolean;
  local_mtu: number;
  remote_mtu: number;
  flush_timeout: number;
}

/** One row of l2cap_get_connections() (the FreeBSD node's connection list). */
export interface L2capConnectionInfo {
  con_handle: number;
  address: string;
  /** 'W4_LP_CON_CFM' while the ACL link is being created for a channel, 'OPEN' once it is up. */
  state: string;
  channels: number;
  /** Remote's extended feature mask and fixed channels (bits 0-31), -1 until learned. */
  extended_features: number;
  fixed_channels: number;
  /** Auto-disconnect timer running (the link is idle). */
  idle: boolean;
}

export function l2cap_channel_list(l: L2capState): L2capChannelInfo[] {
  return l.channels
    .filter((c) => c.state !== L2CAP_STATE_CLOSED)
    .map((c) => ({
      local_cid: c.local_cid,
      remote_cid: c.remote_cid,
      psm: c.psm,
      con_handle: c.con_handle,
      address: bd_addr_to_str(c.address),
      state: l2cap_channel_state_name(l2cap_channel_state_from_btstack(c.state)),
      btstack_state: c.state,
      incoming: c.incoming,
      local_mtu: c.local_mtu,
      remote_mtu: c.remote_mtu,
      flush_timeout: c.flush_timeout,
    }));
}

export function l2cap_connection_list(l: L2capState): L2capConnectionInfo[] {
  const out: L2capConnectionInfo[] = l.links.map((link) => ({
    con_handle: link.con_handle,
    address: bd_addr_to_str(link.address),
    state: 'OPEN',
    channels: link.channels,
    extended_features: link.info_state === INFO_DONE ? link.extended_features : -1,
    fixed_channels: link.info_state === INFO_DONE ? link.fixed_channels : -1,
    idle: link.idle_timer.active,
  }));
  for (const c of l.channels) {
    if (c.state !== L2CAP_STATE_WAIT_CONNECTION_COMPLETE) continue;
    const a = bd_addr_to_str(c.address);
    const row = out.find((r) => r.address === a && r.state !== 'OPEN');
    if (row) row.channels++;
    else
      out.push({
        con_handle: HCI_CON_HANDLE_INVALID,
        address: a,
        state: 'W4_LP_CON_CFM',
        channels: 1,
        extended_features: -1,
        fixed_channels: -1,
        idle: false,
      });
  }
  return out;
}
