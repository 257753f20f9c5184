/**
 * The classic ACL links L2CAP uses: a record per link (created when HCI reports the link up, or
 * adopted when L2CAP meets a link HCI made before l2cap_init), the channels that wait for a link,
 * the end of a link (every channel on it ends), and the auto-disconnect of a link that carries no
 * channel (BTstack's HCI_CONNECTION_TIMEOUT_MS, FreeBSD's auto-disconnect timeout).
 */
import { bd_addr_copy, type BdAddr } from '../core/bytes.js';
import type { Timer } from '../core/run-loop.js';
import {
  BD_ADDR_TYPE_ACL,
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_SUCCESS,
  L2CAP_CONNECTION_BASEBAND_DISCONNECT,
  L2CAP_STATE_WAIT_CONNECTION_COMPLETE,
} from '../codes/v1.4.js';
import { ECHO_IDLE, INFO_DONE, INFO_IDLE, TODO_CREATE_ACL, type L2capChannel, type L2capLink } from './l2cap-objects.js';
import type { L2capState } from './l2cap-state.js';

/** What the link management needs from its siblings. */
export interface L2capLinksPeers {
  /** Channels waiting for the link to `addr` move on. */
  linkReady(link: L2capLink, addr: BdAddr): void;
  /** Channels waiting for the link to `addr` end with `status`. */
  linkFailed(addr: BdAddr, status: number): void;
  finalize(ch: L2capChannel, status: number, why: string): void;
  /** The link goes: its information / echo requests end. */
  linkGone(link: L2capLink): void;
}

export class L2capLinks {
  constructor(
    private readonly s: L2capState,
    private readonly x: L2capLinksPeers,
  ) {}

  /**
   * A classic ACL link is up: its record (created once), and the channels waiting for it move
   * on. Null when no record is left (those channels fail with BTSTACK_MEMORY_ALLOC_FAILED).
   */
  linkUp(handle: number, addr: BdAddr): L2capLink | null {
    const s = this.s;
    let link = s.linkForHandle(handle);
    if (!link) {
      link = s.linkPool.get();
      if (!link) {
        s.log.error(() => `L2CAP: no link record for handle 0x${handle.toString(16)}`);
        this.x.linkFailed(addr, BTSTACK_MEMORY_ALLOC_FAILED);
        return null;
      }
      link.reset();
      link.con_handle = handle;
      bd_addr_copy(link.address, addr);
      s.links = [...s.links, link];
      // a link that comes up without a channel waiting for it is idle from the start
      this.startIdleTimer(link);
    }
    this.x.linkReady(link, addr);
    return link;
  }

  /** HCI_EVENT_CONNECTION_COMPLETE for an ACL link. */
  connectionComplete(status: number, handle: number, addr: BdAddr): void {
    if (status !== ERROR_CODE_SUCCESS) this.x.linkFailed(addr, status);
    else this.linkUp(handle, addr);
  }

  /** The ACL link is gone: every channel on it ends, pending signalling is dropped. */
  linkDown(handle: number): void {
    const s = this.s;
    const link = s.linkForHandle(handle);
    for (const c of s.channels) {
      if (c.con_handle === handle) this.x.finalize(c, L2CAP_CONNECTION_BASEBAND_DISCONNECT, 'link down');
    }
    if (!link) return;
    s.run_loop.remove_timer(link.idle_timer);
    this.x.linkGone(link);
    s.links = s.links.filter((x) => x !== link);
    s.linkPool.free(link);
  }

  /** HCI is off: whatever is left (channels waiting for a link) ends. */
  stackOff(): void {
    const s = this.s;
    for (const link of s.links.slice()) this.linkDown(link.con_handle);
    for (const c of s.channels) this.x.finalize(c, L2CAP_CONNECTION_BASEBAND_DISCONNECT, 'HCI off');
  }

  /**
   * Channels created while their link was closing: once HCI has let the old link go, ask for a
   * new one (a channel whose link request fails ends with that status).
   */
  createPendingLinks(): void {
    const s = this.s;
    const chans = s.channels;
    for (let i = 0; i < chans.length; i++) {
      const c = chans[i]!;
      if (!(c.todo & TODO_CREATE_ACL) || c.state !== L2CAP_STATE_WAIT_CONNECTION_COMPLETE) continue;
      if (s.linkForAddr(c.address) || s.hci.hci_connection_for_bd_addr_and_type(c.address, BD_ADDR_TYPE_ACL)) continue; // not gone yet
      c.todo &= ~TODO_CREATE_ACL;
      const st = s.hci.hci_connect_acl(c.address);
      if (st !== ERROR_CODE_SUCCESS) this.x.finalize(c, st, 'link request failed');
    }
  }

  // ======================================================================== auto-disconnect

  startIdleTimer(link: L2capLink): void {
    const s = this.s;
    if (s.auto_disconnect_timeout_ms <= 0) return;
    s.run_loop.remove_timer(link.idle_timer);
    link.last_activity_ms = s.run_loop.get_time_ms();
    link.idle_timer.handler = this.#onIdleTimeout ??= this.onIdleTimeout.bind(this);
    s.run_loop.set_timer(link.idle_timer, s.auto_disconnect_timeout_ms);
    s.run_loop.add_timer(link.idle_timer);
  }

  /** onIdleTimeout bound to this component, made the first time it is handed out. */
  #onIdleTimeout: ((t: Timer) => void) | null = null;

  private onIdleTimeout(t: Timer): void {
    const s = this.s;
    const link = t.context as L2capLink;
    if (!s.linkPool.owns(link) || link.channels > 0) return;
    if (link.echo_state !== ECHO_IDLE || (link.info_state !== INFO_IDLE && link.info_state !== INFO_DONE)) {
      this.startIdleTimer(link);
      return;
    }
    const quiet = s.run_loop.get_time_ms() - link.last_activity_ms;
    if (quiet < s.auto_disconnect_timeout_ms) {
      // traffic on the channel-less link (echo, information, connectionless): wait the rest
      s.run_loop.set_timer(link.idle_timer, s.auto_disconnect_timeout_ms - quiet);
      s.run_loop.add_timer(link.idle_timer);
      return;
    }
    s.log.info(() => `L2CAP: link 0x${link.con_handle.toString(16)} idle for ${s.auto_disconnect_timeout_ms} ms, disconnecting`);
    if (s.hci.gap.gap_disconnect(link.con_handle) === ERROR_CODE_SUCCESS) link.closing = true;
  }

  /** L2CAP traffic on a link: an idle one (no channel) waits the full timeout again. */
  noteActivity(link: L2capLink): void {
    if (link.channels === 0) link.last_activity_ms = this.s.run_loop.get_time_ms();
  }

  setAutoDisconnectTimeout(ms: number): void {
    const s = this.s;
    s.auto_disconnect_timeout_ms = ms;
    if (ms === 0) for (const l of s.links) s.run_loop.remove_timer(l.idle_timer);
  }
}
