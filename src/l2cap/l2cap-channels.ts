/**
 * Channel lifecycle: creating, accepting, declining and closing channels, their timers (RTX /
 * ERTX, the configuration guard, "pending" and the undecided incoming connection), opening and
 * ending them with their one terminal event. Every state change of a channel goes through
 * setState(), which logs `l2cap cid 0x0041: WAIT_CONNECT_RSP -> CONFIG (connection accepted)`
 * at debug level (built only when a log sink listens).
 */
import { bd_addr_cmp, bd_addr_copy, bd_addr_to_str, type BdAddr } from '../core/bytes.js';
import type { Timer } from '../core/run-loop.js';
import {
  BD_ADDR_TYPE_ACL,
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_SUCCESS,
  HCI_CON_HANDLE_INVALID,
  L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_RESOURCES,
  L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT,
  L2CAP_ERTX_TIMEOUT_MS,
  L2CAP_LOCAL_CID_DOES_NOT_EXIST,
  L2CAP_RTX_TIMEOUT_MS,
  L2CAP_STATE_CLOSED,
  L2CAP_STATE_CONFIG,
  L2CAP_STATE_OPEN,
  L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT,
  L2CAP_STATE_WAIT_CONNECT_RSP,
  L2CAP_STATE_WAIT_CONNECTION_COMPLETE,
  L2CAP_STATE_WAIT_DISCONNECT,
  L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE,
  L2CAP_STATE_WAIT_OUTGOING_EXTENDED_FEATURES,
  L2CAP_STATE_WAIT_OUTGOING_SECURITY_LEVEL_UPDATE,
  L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_ACCEPT,
  L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE,
  L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST,
} from '../codes/v1.4.js';
import { l2cap_btstack_state_name } from './channel-state.js';
import {
  INFO_DONE,
  INFO_IDLE,
  INFO_W2_SEND_EXTENDED_FEATURES,
  L2CAP_CONFIG_TIMEOUT_MS,
  L2CAP_INCOMING_PENDING_DELAY_MS,
  TODO_CREATE_ACL,
  TODO_DISCONNECT_WHEN_CONNECTED,
  TODO_SEND_CONF_REQ,
  TODO_SEND_CONN_RSP_PENDING,
  type L2capChannel,
  type L2capLink,
  type L2capPacketHandler,
} from './l2cap-objects.js';
import type { L2capCreateChannelResult } from './l2cap-service.js';
import type { L2capState } from './l2cap-state.js';

/** What the channel lifecycle needs from its siblings. */
export interface L2capChannelsPeers {
  /** Process pending work now (timeouts). */
  run(): void;
  /** Process pending work from the run loop soon (API calls). */
  scheduleRun(): void;
  /** The link record for a classic ACL link that is up (channels waiting for it move on). */
  linkUp(handle: number, addr: BdAddr): L2capLink | null;
  /** The link has no channel left: its idle timer starts. */
  linkIdle(link: L2capLink): void;
  /** The security level a channel to / from `psm` needs (l2cap-security.ts). */
  requiredLevel(psm: number, service_level: number): number;
  /** First state of an outgoing channel whose link is up: WAIT_OUTGOING_SECURITY_LEVEL_UPDATE or outgoingStartState(). */
  outgoingState(ch: L2capChannel, link: L2capLink): number;
  /** Ask HCI for the level of an outgoing channel waiting in WAIT_OUTGOING_SECURITY_LEVEL_UPDATE (else nothing). */
  requestSecurity(ch: L2capChannel): void;
  /** ERTM / streaming (l2cap-ertm-channel.ts): start the engine on open, release the buffer at the end. */
  readonly ertm: { opened(ch: L2capChannel): void; closed(ch: L2capChannel): void; deferDisconnect(ch: L2capChannel): boolean };
}

export class L2capChannels {
  constructor(
    private readonly s: L2capState,
    private readonly x: L2capChannelsPeers,
  ) {}

  /** The one way a channel changes state: logged by name at debug level. */
  setState(ch: L2capChannel, to: number, why: string): void {
    const from = ch.state;
    ch.state = to;
    if (from !== to) {
      this.s.log.debug(
        () =>
          `l2cap cid 0x${ch.local_cid.toString(16).padStart(4, '0')}: ${l2cap_btstack_state_name(from)} -> ${l2cap_btstack_state_name(to)} (${why})`,
      );
    }
  }

  /** First state of an outgoing channel once its link is up and its security level reached. */
  outgoingStartState(link: L2capLink): number {
    if (link.info_state === INFO_DONE) return L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST;
    if (link.info_state === INFO_IDLE) link.info_state = INFO_W2_SEND_EXTENDED_FEATURES;
    return L2CAP_STATE_WAIT_OUTGOING_EXTENDED_FEATURES;
  }

  /** l2cap_create_channel (arguments checked, L2CAP initialised). */
  create(handler: L2capPacketHandler, address: BdAddr, psm: number, mtu: number): L2capCreateChannelResult {
    const s = this.s;
    const ch = s.channelPool.get();
    if (!ch) return { status: BTSTACK_MEMORY_ALLOC_FAILED, local_cid: 0 };
    ch.reset();
    ch.local_cid = s.allocateCid();
    ch.psm = psm;
    ch.handler = handler;
    ch.incoming = false;
    ch.local_mtu = s.clampMtu(mtu);
    // BTstack: SDP at level 0, every other PSM at gap_get_security_level() (mode 4)
    ch.required_security_level = this.x.requiredLevel(psm, 0);
    bd_addr_copy(ch.address, address);
    let link = s.linkForAddr(address);
    if (!link) {
      // a classic link HCI already has (made before L2CAP was initialised): use it
      const conn = s.hci.hci_connection_for_bd_addr_and_type(address, BD_ADDR_TYPE_ACL);
      if (conn && conn.con_handle !== HCI_CON_HANDLE_INVALID) link = this.x.linkUp(conn.con_handle, address);
    }
    if (link && link.closing) {
      // the idle link is on its way down: a new one is made once it is gone
      this.setState(ch, L2CAP_STATE_WAIT_CONNECTION_COMPLETE, 'created, link closing');
      ch.todo |= TODO_CREATE_ACL;
    } else if (link) {
      ch.con_handle = link.con_handle;
      this.setState(ch, this.x.outgoingState(ch, link), 'created on a link that is up');
    } else {
      const st = s.hci.hci_connect_acl(address);
      if (st !== ERROR_CODE_SUCCESS) {
        s.channelPool.free(ch);
        return { status: st, local_cid: 0 };
      }
      this.setState(ch, L2CAP_STATE_WAIT_CONNECTION_COMPLETE, 'created, link requested');
    }
    this.add(ch);
    this.x.requestSecurity(ch);
    s.log.info(
      () => `L2CAP create channel 0x${ch.local_cid.toString(16)} to ${bd_addr_to_str(address)} PSM 0x${psm.toString(16)}`,
    );
    this.x.scheduleRun();
    return { status: ERROR_CODE_SUCCESS, local_cid: ch.local_cid };
  }

  /** l2cap_accept_connection / l2cap_decline_connection. */
  answerIncoming(local_cid: number, accept: boolean): number {
    const ch = this.s.channelForCid(local_cid);
    if (!ch || ch.state !== L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    this.s.run_loop.remove_timer(ch.timer);
    ch.todo &= ~TODO_SEND_CONN_RSP_PENDING;
    if (accept) this.setState(ch, L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_ACCEPT, 'accepted by the application');
    else this.setState(ch, L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE, 'declined by the application');
    this.x.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  /** l2cap_disconnect. */
  disconnect(local_cid: number): number {
    const ch = this.s.channelForCid(local_cid);
    if (!ch) return L2CAP_LOCAL_CID_DOES_NOT_EXIST;
    switch (ch.state) {
      case L2CAP_STATE_OPEN:
      case L2CAP_STATE_CONFIG:
        // ERTM / streaming: the frames already accepted by l2cap_send go out (and are acknowledged) first
        if (this.x.ertm.deferDisconnect(ch)) break;
        this.s.run_loop.remove_timer(ch.timer);
        ch.todo = 0;
        ch.waiting_for_can_send_now = false;
        this.setState(ch, L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST, 'l2cap_disconnect');
        ch.opened = true; // the application closed it: the terminal event is CHANNEL_CLOSED
        break;
      case L2CAP_STATE_WAIT_CONNECT_RSP:
        ch.todo |= TODO_DISCONNECT_WHEN_CONNECTED;
        break;
      case L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT:
        return this.answerIncoming(local_cid, false);
      case L2CAP_STATE_WAIT_DISCONNECT:
      case L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST:
        return ERROR_CODE_SUCCESS;
      default:
        if (
          ch.state === L2CAP_STATE_WAIT_CONNECTION_COMPLETE ||
          ch.state === L2CAP_STATE_WAIT_OUTGOING_SECURITY_LEVEL_UPDATE ||
          ch.state === L2CAP_STATE_WAIT_OUTGOING_EXTENDED_FEATURES ||
          ch.state === L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST
        ) {
          ch.opened = true;
          this.finalize(ch, 0);
        }
        return ERROR_CODE_SUCCESS;
    }
    this.x.scheduleRun();
    return ERROR_CODE_SUCCESS;
  }

  add(ch: L2capChannel): void {
    this.s.channels = [...this.s.channels, ch];
    if (ch.con_handle !== HCI_CON_HANDLE_INVALID) this.attach(ch);
  }

  /** Count the channel on its link (stops the idle timer). */
  attach(ch: L2capChannel): void {
    const link = this.s.linkForHandle(ch.con_handle);
    if (!link) return;
    link.channels++;
    this.s.run_loop.remove_timer(link.idle_timer);
  }

  /** The link `link` (to `addr`) is up: channels waiting for it move on. */
  linkReady(link: L2capLink, addr: BdAddr): void {
    for (const c of this.s.channels) {
      if (c.state === L2CAP_STATE_WAIT_CONNECTION_COMPLETE && bd_addr_cmp(c.address, addr) === 0) {
        c.con_handle = link.con_handle;
        c.todo &= ~TODO_CREATE_ACL;
        this.setState(c, this.x.outgoingState(c, link), 'link up');
        this.attach(c);
        this.x.requestSecurity(c);
      }
    }
  }

  /**
   * An incoming channel whose link has the security level it needs: offered to the application
   * (L2CAP_EVENT_INCOMING_CONNECTION), "pending" after L2CAP_INCOMING_PENDING_DELAY_MS unanswered.
   */
  offerIncoming(ch: L2capChannel): void {
    this.setState(ch, L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT, 'offered to the application');
    this.startPendingTimer(ch);
    this.s.events.incomingConnection(ch);
  }

  /** The link to `addr` could not be made (`status`): the channels waiting for it end. */
  linkFailed(addr: BdAddr, status: number): void {
    for (const c of this.s.channels) {
      if (c.state === L2CAP_STATE_WAIT_CONNECTION_COMPLETE && bd_addr_cmp(c.address, addr) === 0) this.finalize(c, status);
    }
  }

  /** The information exchange on `link` ended: channels waiting for it send their Connection Request. */
  infoReady(link: L2capLink): void {
    for (const c of this.s.channels) {
      if (c.con_handle === link.con_handle && c.state === L2CAP_STATE_WAIT_OUTGOING_EXTENDED_FEATURES) {
        this.setState(c, L2CAP_STATE_WILL_SEND_CONNECTION_REQUEST, 'information exchange done');
      }
    }
  }

  // ================================================================================== timers

  /** (Re)start a channel's RTX (10 s) or ERTX (120 s) timer. */
  startRtx(ch: L2capChannel, ertx = false): void {
    const rl = this.s.run_loop;
    rl.remove_timer(ch.timer);
    ch.timer.handler = this.#onChannelTimeout ??= this.onChannelTimeout.bind(this);
    rl.set_timer(ch.timer, ertx ? L2CAP_ERTX_TIMEOUT_MS : L2CAP_RTX_TIMEOUT_MS);
    rl.add_timer(ch.timer);
  }

  stopTimer(ch: L2capChannel): void {
    this.s.run_loop.remove_timer(ch.timer);
  }

  /**
   * The channel is connected: configuration starts (we send our request, the remote sends its
   * own), guarded by L2CAP_CONFIG_TIMEOUT_MS as a whole.
   */
  enterConfig(ch: L2capChannel, why: string): void {
    this.setState(ch, L2CAP_STATE_CONFIG, why);
    ch.cfg = 0;
    ch.todo |= TODO_SEND_CONF_REQ;
    const rl = this.s.run_loop;
    rl.remove_timer(ch.config_timer);
    ch.config_timer.handler = this.#onConfigTimeout ??= this.onConfigTimeout.bind(this);
    rl.set_timer(ch.config_timer, L2CAP_CONFIG_TIMEOUT_MS);
    rl.add_timer(ch.config_timer);
  }

  /** onConfigTimeout bound to this component, made the first time it is handed out. */
  #onConfigTimeout: ((t: Timer) => void) | null = null;

  /**
   * Configuration did not finish in time (typically: the remote accepted our Configuration
   * Request but never sent its own). While our own request is outstanding its RTX / ERTX decides;
   * otherwise the channel is disconnected and, as it never opened, ends with
   * L2CAP_EVENT_CHANNEL_OPENED status L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT.
   */
  private onConfigTimeout(t: Timer): void {
    const ch = t.context as L2capChannel;
    const s = this.s;
    if (!s.channelPool.owns(ch) || ch.state !== L2CAP_STATE_CONFIG) return;
    if (ch.local_sig_id !== 0) {
      // our request is outstanding: its RTX / ERTX timer ends the channel if the remote stays silent
      s.run_loop.set_timer(ch.config_timer, L2CAP_CONFIG_TIMEOUT_MS);
      s.run_loop.add_timer(ch.config_timer);
      return;
    }
    s.log.info(
      () =>
        `L2CAP channel 0x${ch.local_cid.toString(16)}: configuration not complete after ${L2CAP_CONFIG_TIMEOUT_MS} ms, disconnecting`,
    );
    s.run_loop.remove_timer(ch.timer);
    ch.todo = 0;
    ch.waiting_for_can_send_now = false;
    ch.fail_status = L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT;
    this.setState(ch, L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST, 'configuration timeout');
    this.x.run();
  }

  /** Timer sending "pending" for an incoming connection the application sits on. */
  startPendingTimer(ch: L2capChannel): void {
    const rl = this.s.run_loop;
    rl.remove_timer(ch.timer);
    ch.timer.handler = this.#onPendingTimeout ??= this.onPendingTimeout.bind(this);
    rl.set_timer(ch.timer, L2CAP_INCOMING_PENDING_DELAY_MS);
    rl.add_timer(ch.timer);
  }

  /** onPendingTimeout bound to this component, made the first time it is handed out. */
  #onPendingTimeout: ((t: Timer) => void) | null = null;

  private onPendingTimeout(t: Timer): void {
    const ch = t.context as L2capChannel;
    const rl = this.s.run_loop;
    if (!this.s.channelPool.owns(ch) || ch.state !== L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT) return;
    ch.todo |= TODO_SEND_CONN_RSP_PENDING;
    // the remote waits ERTX after "pending"; past that nobody waits for this channel any more
    rl.remove_timer(ch.timer);
    ch.timer.handler = this.#onUndecidedTimeout ??= this.onUndecidedTimeout.bind(this);
    rl.set_timer(ch.timer, L2CAP_ERTX_TIMEOUT_MS);
    rl.add_timer(ch.timer);
    this.x.run();
  }

  /** onUndecidedTimeout bound to this component, made the first time it is handed out. */
  #onUndecidedTimeout: ((t: Timer) => void) | null = null;

  /**
   * The application never answered L2CAP_EVENT_INCOMING_CONNECTION and the remote has given up
   * (ERTX after our "pending"): decline it so the channel does not stay forever, and tell the
   * application with L2CAP_EVENT_CHANNEL_OPENED status L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT.
   */
  private onUndecidedTimeout(t: Timer): void {
    const ch = t.context as L2capChannel;
    if (!this.s.channelPool.owns(ch) || ch.state !== L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT) return;
    this.s.log.info(() => `L2CAP: incoming channel 0x${ch.local_cid.toString(16)} not answered by the application, declined`);
    ch.todo &= ~TODO_SEND_CONN_RSP_PENDING;
    ch.fail_status = L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT;
    this.setState(ch, L2CAP_STATE_WILL_SEND_CONNECTION_RESPONSE_DECLINE, 'application did not answer');
    this.x.run();
  }

  /** onChannelTimeout bound to this component, made the first time it is handed out. */
  #onChannelTimeout: ((t: Timer) => void) | null = null;

  private onChannelTimeout(t: Timer): void {
    const ch = t.context as L2capChannel;
    if (!this.s.channelPool.owns(ch) || ch.state === L2CAP_STATE_CLOSED) return;
    this.s.log.info(() => `L2CAP RTX timeout on channel 0x${ch.local_cid.toString(16)} (state 0x${ch.state.toString(16)})`);
    // "When terminating the channel, it is not necessary to send a L2CAP_DisconnectReq and enter
    // WAIT_DISCONNECT state. Channels can be transitioned directly to the CLOSED state." (Vol 3 Part A, 6.2)
    this.finalize(ch, L2CAP_CONNECTION_RESPONSE_RESULT_RTX_TIMEOUT, 'RTX timeout');
    this.x.run();
  }

  // ================================================================================ results

  /** Configuration failed: disconnect, and report the failure unless the channel had opened. */
  failConfig(c: L2capChannel, why: string): void {
    c.todo = 0;
    c.waiting_for_can_send_now = false;
    if (!c.opened) c.fail_status = L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_RESOURCES;
    this.setState(c, L2CAP_STATE_WILL_SEND_DISCONNECT_REQUEST, why);
  }

  /**
   * End a channel: the terminal event (CHANNEL_CLOSED once opened, else CHANNEL_OPENED with
   * `status`; none when status is -1), then back to the pool.
   */
  finalize(ch: L2capChannel, status: number, why = 'closed'): void {
    const s = this.s;
    if (ch.state === L2CAP_STATE_CLOSED || !s.channelPool.owns(ch)) return;
    // an incoming channel still waiting for its security level was never shown to the application
    if (ch.state === L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE) status = -1;
    s.run_loop.remove_timer(ch.timer);
    s.run_loop.remove_timer(ch.config_timer);
    this.setState(ch, L2CAP_STATE_CLOSED, why);
    ch.waiting_for_can_send_now = false;
    if (ch.opened) s.events.channelClosed(ch);
    else if (status >= 0) s.events.channelOpened(ch, status);
    this.x.ertm.closed(ch);
    s.channels = s.channels.filter((c) => c !== ch);
    const link = ch.con_handle !== HCI_CON_HANDLE_INVALID ? s.linkForHandle(ch.con_handle) : null;
    s.channelPool.free(ch);
    if (link) {
      link.channels = Math.max(0, link.channels - 1);
      if (link.channels === 0) this.x.linkIdle(link);
    }
  }

  /** Both directions configured: OPEN and CHANNEL_OPENED(0). */
  open(ch: L2capChannel): void {
    const s = this.s;
    s.run_loop.remove_timer(ch.timer);
    s.run_loop.remove_timer(ch.config_timer);
    this.setState(ch, L2CAP_STATE_OPEN, 'configuration done');
    ch.opened = true;
    this.x.ertm.opened(ch);
    s.log.info(
      () =>
        `L2CAP channel 0x${ch.local_cid.toString(16)} open: mode ${ch.mode} PSM 0x${ch.psm.toString(16)} remote cid 0x${ch.remote_cid.toString(16)} local MTU ${ch.local_mtu} remote MTU ${ch.remote_mtu}`,
    );
    s.events.channelOpened(ch, ERROR_CODE_SUCCESS);
  }
}
