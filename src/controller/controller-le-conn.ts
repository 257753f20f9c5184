/**
 * LE connections of the virtual controller: LE Create Connection (to one address or through the
 * filter accept list) and its cancel, the connection update (the central's Connection Update
 * procedure; the peripheral's Connection Parameters Request procedure with the central's host
 * answering LE Remote Connection Parameter Request), remote features, data length and PHY.
 * Every peer address is reported with its type (public 0 / random 1) as its owner uses it, or, with
 * address resolution on, a resolved RPA by its identity (0x02 / 0x03; controller-privacy.ts).
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';
import * as K from '../hci/commands.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import { AirLink, join_controllers, type LinkEnd } from './air.js';
import * as C from './codes.js';
import type { CommandReply, CommandTable } from './controller-commands.js';
import { connectionComplete, directedAt, isDirected, ADV_NONCONN_IND, ADV_SCAN_IND } from './controller-le.js';
import { resolve_peer, same_peer } from './controller-privacy.js';
import type { ControllerState, Initiating } from './controller-state.js';
import {
  LE_FEATURE_2M_PHY,
  LE_FEATURE_CODED_PHY,
  LE_FEATURE_CONN_PARAMS_REQUEST,
  le_feature,
  LE_MAX_OCTETS,
  LE_MAX_TIME,
  LE_MIN_OCTETS,
  LE_MIN_TIME,
  LE_PHY_1M,
  LE_PHY_2M,
  LE_PHY_CODED,
  le_octets_to_time,
  LL_RESPONSE_TIMEOUT_MS,
} from './defs.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
const DISALLOWED = C.ERROR_CODE_COMMAND_DISALLOWED;
const UNKNOWN_CONN = C.ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
const UNSUPPORTED = C.ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
const UNSUPPORTED_REMOTE = C.ERROR_CODE_UNSUPPORTED_REMOTE_FEATURE_UNSUPPORTED_LMP_FEATURE;
/** Central clock accuracy reported to a peripheral (0x01 = 250 ppm). */
const CENTRAL_SCA = 0x01;

const n = (a: HciArg[], i: number): number => a[i] as number;

/** Whether advertiser `adv` is the one initiator `i` looks for and accepts connections from it. */
function matches(i: ControllerState, adv: ControllerState, init: Initiating): boolean {
  const al = adv.le;
  if (adv === i || adv.powered_off || !al.adv_enabled) return false;
  if (al.adv_type === ADV_SCAN_IND || al.adv_type === ADV_NONCONN_IND) return false;
  if (isDirected(al.adv_type) && !directedAt(adv, i, init.own_type)) return false;
  const [atype, aaddr] = al.own_address(al.adv_own_type);
  if (!isDirected(al.adv_type) && (al.adv_filter & 2) !== 0) {
    const [itype, iaddr] = i.le.own_address(init.own_type);
    if (!al.accepts(itype, iaddr)) return false;
  }
  // with address resolution on, the advertiser's RPA stands for its identity address
  const seen = resolve_peer(i, atype, aaddr);
  if (!seen) return false;
  if (init.filter_policy === 1)
    return i.le.accepts(atype, aaddr) || (seen.rpa !== null && i.le.accepts(seen.type & 1, seen.addr));
  return same_peer(init.peer_type, init.peer, seen, atype, aaddr);
}

function dataLengthChanged(air: AirLink): void {
  for (const e of [air.central, air.peripheral]) {
    const tx = Math.min(e.tx_octets, LE_MAX_OCTETS);
    const rx = Math.min(e.peer.tx_octets, LE_MAX_OCTETS);
    e.controller.ev.le_data_length_change(e.handle, tx, le_octets_to_time(tx), rx, le_octets_to_time(rx));
  }
}

function connParamsValid(min: number, max: number, latency: number, timeout: number): boolean {
  if (min < 0x0006 || max > 0x0c80 || min > max) return false;
  if (latency > 0x01f3 || timeout < 0x000a || timeout > 0x0c80) return false;
  // Supervision timeout (10 ms units) must exceed (1 + latency) * interval (1.25 ms units) * 2
  return timeout * 10 > (1 + latency) * max * 1.25 * 2;
}

/** Suggested / requested data length within Vol 6 Part B 4.5.10. */
function dataLengthValid(octets: number, time: number): boolean {
  return octets >= LE_MIN_OCTETS && octets <= LE_MAX_OCTETS && time >= LE_MIN_TIME && time <= 0x4290;
}

/** PHY preference bits (1M 0x01, 2M 0x02, Coded 0x04) a controller supports. */
function supportedPhys(c: ControllerState): number {
  const f = c.le_features;
  return 1 | (le_feature(f, LE_FEATURE_2M_PHY) ? 2 : 0) | (le_feature(f, LE_FEATURE_CODED_PHY) ? 4 : 0);
}

/**
 * ALL_PHYS / TX_PHYS / RX_PHYS of LE Set PHY or LE Set Default PHY (Vol 4 Part E 7.8.48-49):
 * 0 when usable, else the status to answer.
 */
function phyArgsStatus(c: ControllerState, all: number, tx: number, rx: number): number {
  if (all > 3 || tx > 7 || rx > 7) return UNSUPPORTED;
  if (((all & 1) === 0 && tx === 0) || ((all & 2) === 0 && rx === 0)) return INVALID;
  const sup = supportedPhys(c);
  if (((all & 1) === 0 && (tx & ~sup) !== 0) || ((all & 2) === 0 && (rx & ~sup) !== 0)) return UNSUPPORTED;
  return OK;
}

/** The PHY a direction uses: the sender's TX and the receiver's RX preferences, 2M first. */
function choosePhy(allowed: number, current: number): number {
  if (allowed & 2) return LE_PHY_2M;
  if (allowed & 1) return LE_PHY_1M;
  if (allowed & 4) return LE_PHY_CODED;
  return current;
}

export interface LeConnPeers {
  reply: CommandReply;
}

export class ControllerLeConn {
  private readonly r: CommandReply;

  constructor(
    private readonly s: ControllerState,
    x: LeConnPeers,
  ) {
    this.r = x.reply;
  }

  static readonly COMMANDS: CommandTable<ControllerLeConn> = [
    [K.hci_le_create_connection, (x, a, cmd) => x.createConnection(a, cmd)],
    [
      K.hci_le_create_connection_cancel,
      (x, _a, cmd) => {
        const s = x.s;
        if (!s.le.initiating) return x.r.complete(cmd, DISALLOWED);
        s.le.initiating = null;
        x.r.complete(cmd, OK);
        connectionComplete(s, UNKNOWN_CONN, 0, 0, 0, new Uint8Array(6), 0, 0, 0, 0);
      },
    ],
    [K.hci_le_connection_update, (x, a, cmd) => x.connectionUpdate(a, cmd)],
    [K.hci_le_remote_connection_parameter_request_reply, (x, a, cmd) => x.paramRequestReply(a, cmd, true)],
    [K.hci_le_remote_connection_parameter_request_negative_reply, (x, a, cmd) => x.paramRequestReply(a, cmd, false)],
    [
      K.hci_le_read_remote_used_features,
      (x, a, cmd) => {
        const s = x.s;
        const end = x.leConn(a);
        if (!end) return x.r.status(cmd, UNKNOWN_CONN);
        x.r.status(cmd, OK);
        end.air.after(2 * end.air.latency_ms, () =>
          s.ev.le_read_remote_features_complete(OK, end.handle, end.peer.controller.le_features),
        );
      },
    ],
    [
      K.hci_le_set_data_length,
      (x, a, cmd) => {
        const end = x.leConn(a);
        const [, octets, time] = a as number[];
        if (!end) return x.r.fail(cmd, UNKNOWN_CONN);
        if (!dataLengthValid(octets!, time!)) return x.r.fail(cmd, INVALID);
        x.r.complete(cmd, OK, end.handle);
        if (end.tx_octets === octets) return;
        end.tx_octets = octets!;
        end.air.after(2 * end.air.latency_ms, () => dataLengthChanged(end.air));
      },
    ],
    [
      K.hci_le_read_suggested_default_data_length,
      (x, _a, cmd) => x.r.complete(cmd, OK, x.s.le.suggested_tx_octets, x.s.le.suggested_tx_time),
    ],
    [
      K.hci_le_write_suggested_default_data_length,
      (x, a, cmd) => {
        const [octets, time] = a as number[];
        if (!dataLengthValid(octets!, time!)) return x.r.fail(cmd, INVALID);
        x.s.le.suggested_tx_octets = octets!;
        x.s.le.suggested_tx_time = time!;
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_le_read_maximum_data_length,
      (x, _a, cmd) => x.r.complete(cmd, OK, LE_MAX_OCTETS, LE_MAX_TIME, LE_MAX_OCTETS, LE_MAX_TIME),
    ],
    [
      K.hci_le_read_phy,
      (x, a, cmd) => {
        const end = x.leConn(a);
        if (!end) return x.r.fail(cmd, UNKNOWN_CONN);
        x.r.complete(cmd, OK, end.handle, end.tx_phy, end.peer.tx_phy);
      },
    ],
    [
      K.hci_le_set_default_phy,
      (x, a, cmd) => {
        const [all, tx, rx] = a as number[];
        const st = phyArgsStatus(x.s, all!, tx!, rx!);
        if (st !== OK) return x.r.fail(cmd, st);
        const l = x.s.le;
        l.default_all_phys = all!;
        l.default_tx_phys = tx!;
        l.default_rx_phys = rx!;
        x.r.complete(cmd, OK);
      },
    ],
    [K.hci_le_set_phy, (x, a, cmd) => x.setPhy(a, cmd)],
  ];

  // ------------------------------------------------------------------ connections

  /** Look for the advertiser our LE Create Connection waits for; connect one latency later. */
  try_connect(): void {
    const i = this.s;
    const init = i.le.initiating;
    if (!init) return;
    const adv = i.link.controllers.find((c) => matches(i, c.state, init))?.state;
    if (!adv) return;
    i.after(i.link.latency_ms, () => {
      if (i.le.initiating !== init || !matches(i, adv, init)) return;
      this.connect(adv, init);
    });
  }

  private connect(adv: ControllerState, init: Initiating): void {
    const i = this.s;
    i.le.initiating = null;
    adv.ops.stop_advertising();
    const air = new AirLink(i.run_loop, { kind: 'le', latency_ms: i.link.latency_ms, bandwidth_bps: i.link.bandwidth_bps });
    const [itype, iaddr] = i.le.own_address(init.own_type);
    const [atype, aaddr] = adv.le.own_address(adv.le.adv_own_type);
    air.central_addr = Uint8Array.from(iaddr);
    air.central_addr_type = itype;
    air.peripheral_addr = Uint8Array.from(aaddr);
    air.peripheral_addr_type = atype;
    air.interval = init.interval_max;
    air.latency = init.latency;
    air.timeout = init.timeout;
    const ends = join_controllers(air, i, adv);
    if (!ends) {
      connectionComplete(i, C.ERROR_CODE_CONNECTION_LIMIT_EXCEEDED, 0, 0, atype, aaddr, 0, 0, 0, 0);
      return;
    }
    const [ce, pe] = ends;
    ce.tx_octets = i.le.suggested_tx_octets;
    pe.tx_octets = adv.le.suggested_tx_octets;
    // each side names the other as its address resolution sees it (identity + RPA, or the address on the air)
    const a = resolve_peer(i, atype, aaddr) ?? { type: atype, addr: aaddr, rpa: null };
    const c = resolve_peer(adv, itype, iaddr) ?? { type: itype, addr: iaddr, rpa: null };
    connectionComplete(i, OK, ce.handle, 0, a.type, a.addr, air.interval, air.latency, air.timeout, 0, a.rpa);
    connectionComplete(adv, OK, pe.handle, 1, c.type, c.addr, air.interval, air.latency, air.timeout, CENTRAL_SCA, c.rpa);
    if (ce.tx_octets !== LE_MIN_OCTETS || pe.tx_octets !== LE_MIN_OCTETS)
      air.after(2 * air.latency_ms, () => dataLengthChanged(air));
  }

  private createConnection(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const [scanInt, scanWin, filter, peerType, peer, own, min, max, latency, timeout] = a as [
      number,
      number,
      number,
      number,
      BdAddr,
      number,
      number,
      number,
      number,
      number,
    ];
    if (scanInt < 0x0004 || scanInt > 0x4000 || scanWin < 0x0004 || scanWin > scanInt || filter > 1 || peerType > 3 || own > 3) {
      return this.r.status(cmd, INVALID);
    }
    if (!connParamsValid(min, max, latency, timeout)) return this.r.status(cmd, INVALID);
    if (s.le.initiating) return this.r.status(cmd, DISALLOWED);
    if ((own & 1) === 1 && !s.le.random_addr) return this.r.status(cmd, INVALID);
    if (filter === 0) {
      for (const e of s.connections.values()) {
        if (e.air.kind === 'le' && e.peer_addr_type === (peerType & 1) && bd_addr_cmp(e.peer_addr, peer) === 0) {
          return this.r.status(cmd, C.ERROR_CODE_ACL_CONNECTION_ALREADY_EXISTS);
        }
      }
    }
    this.r.status(cmd, OK);
    s.le.initiating = { filter_policy: filter, peer_type: peerType, peer, own_type: own, interval_max: max, latency, timeout };
    s.after(s.link.scan_report_ms, () => this.try_connect());
  }

  /** The LE connection of the command's handle (first parameter). */
  private leConn(a: HciArg[]): LinkEnd | undefined {
    return this.s.end_of(n(a, 0), 'le');
  }

  /** New connection parameters on `air`: LE Connection Update Complete on both sides. */
  private static applyUpdate(air: AirLink, interval: number, latency: number, timeout: number): void {
    air.interval = interval;
    air.latency = latency;
    air.timeout = timeout;
    for (const e of [air.central, air.peripheral]) {
      e.controller.ev.le_connection_update_complete(OK, e.handle, air.interval, air.latency, air.timeout);
    }
  }

  private connectionUpdate(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const end = this.leConn(a);
    const [, min, max, latency, timeout] = a as number[];
    if (!end) return this.r.status(cmd, UNKNOWN_CONN);
    if (!connParamsValid(min!, max!, latency!, timeout!)) return this.r.status(cmd, INVALID);
    const central = end.peer;
    if (end.role === 1 && central.param_request) return this.r.status(cmd, DISALLOWED);
    this.r.status(cmd, OK);
    const air = end.air;
    if (end.role === 0) {
      // the central's Connection Update procedure: both hosts learn the new parameters
      air.after(2 * air.latency_ms, () => ControllerLeConn.applyUpdate(air, max!, latency!, timeout!));
      return;
    }
    // the peripheral asks with the Connection Parameters Request procedure (Vol 6 Part B 5.1.7)
    const fail = (st: number): void => {
      s.ev.le_connection_update_complete(st, end.handle, air.interval, air.latency, air.timeout);
    };
    const cs = central.controller;
    if (
      !le_feature(s.le_features, LE_FEATURE_CONN_PARAMS_REQUEST) ||
      !le_feature(cs.le_features, LE_FEATURE_CONN_PARAMS_REQUEST)
    ) {
      air.after(2 * air.latency_ms, () => fail(UNSUPPORTED_REMOTE));
      return;
    }
    air.lmp(() => {
      if (central.param_request) return fail(C.ERROR_CODE_COMMAND_DISALLOWED);
      if (!cs.ev.enabled(C.HCI_EVENT_LE_META, C.HCI_SUBEVENT_LE_REMOTE_CONNECTION_PARAMETER_REQUEST)) {
        // the central's host masked the event: its controller rejects (Vol 4 Part E 7.7.65.6)
        air.lmp(() => fail(UNSUPPORTED_REMOTE));
        return;
      }
      const timer = air.after(LL_RESPONSE_TIMEOUT_MS, () => {
        central.param_request = null;
        fail(C.ERROR_CODE_LMP_RESPONSE_TIMEOUT_LL_RESPONSE_TIMEOUT);
      });
      central.param_request = { min: min!, max: max!, latency: latency!, timeout: timeout!, timer };
      cs.ev.le_remote_connection_parameter_request(central.handle, min!, max!, latency!, timeout!);
    });
  }

  /** LE Remote Connection Parameter Request (Negative) Reply from the central's host. */
  private paramRequestReply(a: HciArg[], cmd: HciCommand, accept: boolean): void {
    const end = this.leConn(a);
    if (!end) return this.r.fail(cmd, UNKNOWN_CONN);
    const req = end.param_request;
    if (!req) return this.r.complete(cmd, DISALLOWED, end.handle);
    const air = end.air;
    const peripheral = end.peer;
    if (accept) {
      const [, min, max, latency, timeout] = a as number[];
      if (!connParamsValid(min!, max!, latency!, timeout!)) return this.r.complete(cmd, INVALID, end.handle);
      end.param_request = null;
      air.cancel(req.timer);
      this.r.complete(cmd, OK, end.handle);
      air.after(2 * air.latency_ms, () => ControllerLeConn.applyUpdate(air, max!, latency!, timeout!));
      return;
    }
    const reason = n(a, 1);
    end.param_request = null;
    air.cancel(req.timer);
    this.r.complete(cmd, OK, end.handle);
    air.lmp(() =>
      peripheral.controller.ev.le_connection_update_complete(reason, peripheral.handle, air.interval, air.latency, air.timeout),
    );
  }

  // ------------------------------------------------------------------ PHY

  private setPhy(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const end = this.leConn(a);
    const [, all, tx, rx] = a as number[];
    if (!end) return this.r.status(cmd, UNKNOWN_CONN);
    const st = phyArgsStatus(s, all!, tx!, rx!);
    if (st !== OK) return this.r.status(cmd, st);
    this.r.status(cmd, OK);
    const air = end.air;
    air.after(2 * air.latency_ms, () => {
      const peer = end.peer;
      const pl = peer.controller.le;
      const both = supportedPhys(s) & supportedPhys(peer.controller);
      const myTx = (all! & 1) === 1 ? 7 : tx!;
      const myRx = (all! & 2) === 2 ? 7 : rx!;
      const peerTx = (pl.default_all_phys & 1) === 1 ? 7 : pl.default_tx_phys;
      const peerRx = (pl.default_all_phys & 2) === 2 ? 7 : pl.default_rx_phys;
      const out = choosePhy(both & myTx & peerRx, end.tx_phy);
      const back = choosePhy(both & peerTx & myRx, peer.tx_phy);
      const changed = out !== end.tx_phy || back !== peer.tx_phy;
      end.tx_phy = out;
      peer.tx_phy = back;
      s.ev.le_phy_update_complete(OK, end.handle, out, back);
      // the peer's host hears of it only when a PHY changed (Vol 4 Part E 7.7.65.12)
      if (changed) peer.controller.ev.le_phy_update_complete(OK, peer.handle, back, out);
    });
  }
}
