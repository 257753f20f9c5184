/**
 * LE procedures (legacy advertising commands): advertising and scanning with reports delivered
 * at the advertiser's interval, scan responses for active scanners, LE Create Connection to a
 * connectable advertiser, connection update, remote features and data length.
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';
import * as K from '../hci/commands.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import { AirLink, join_controllers, type LinkEnd } from './air.js';
import * as C from './codes.js';
import type { CommandReply, CommandTable } from './controller-commands.js';
import { accept_list_key as listKey, ADV_IND, type ControllerState, type Initiating } from './controller-state.js';
import { LE_ACCEPT_LIST_SIZE, LE_MAX_OCTETS, LE_MAX_TIME, LE_MIN_OCTETS, LE_MIN_TIME, le_octets_to_time } from './defs.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
const DISALLOWED = C.ERROR_CODE_COMMAND_DISALLOWED;
const UNKNOWN_CONN = C.ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;

const ADV_DIRECT_IND_HIGH = 0x01;
const ADV_SCAN_IND = 0x02;
const ADV_NONCONN_IND = 0x03;
const ADV_DIRECT_IND_LOW = 0x04;
const SCAN_RSP = 0x04;
/** High duty cycle directed advertising lasts at most 1.28 s. */
const HIGH_DUTY_TIMEOUT_MS = 1280;
const HIGH_DUTY_INTERVAL_MS = 3.75;
/** Central clock accuracy reported to a peripheral (0x01 = 250 ppm). */
const CENTRAL_SCA = 0x01;

const n = (a: HciArg[], i: number): number => a[i] as number;

// ------------------------------------------------------------------ helpers over two controllers' data

function isDirected(t: number): boolean {
  return t === ADV_DIRECT_IND_HIGH || t === ADV_DIRECT_IND_LOW;
}

/** Whether `adv`'s directed advertising targets `s` using own address type `own`. */
function directedAt(adv: ControllerState, s: ControllerState, own: number): boolean {
  const [type, addr] = s.le.own_address(own);
  return adv.le.adv_peer_type === type && bd_addr_cmp(adv.le.adv_peer, addr) === 0;
}

/** One advertising event of `adv` heard by scanner `s`. */
function hear(adv: ControllerState, s: ControllerState): void {
  const sl = s.le;
  const al = adv.le;
  if (!sl.scan_enabled || s === adv || s.powered_off || !al.adv_enabled) return;
  const [atype, aaddr] = al.own_address(al.adv_own_type);
  if ((sl.scan_filter & 1) === 1 && !sl.accepts(atype, aaddr)) return;
  let et = al.adv_type;
  if (isDirected(et)) {
    if (!directedAt(adv, s, sl.scan_own_type)) return;
    et = 0x01;
  }
  const rssi = s.link.rssi(s, adv) & 0xff;
  const emit = (event_type: number, data: Uint8Array, len: number): void => {
    const k = `${event_type}:${atype}:${aaddr.join(',')}`;
    if (sl.filter_duplicates) {
      if (sl.seen.has(k)) return;
      sl.seen.add(k);
    }
    s.ev.le_advertising_report(event_type, atype, aaddr, data, len, rssi);
  };
  if (et === 0x01) emit(0x01, EMPTY, 0);
  else emit(et, al.adv_data, al.adv_len);
  if (sl.scan_type === 1 && (et === ADV_IND || et === ADV_SCAN_IND)) {
    // the advertiser answers scan requests from its accept list only, when its policy says so
    const [stype, saddr] = sl.own_address(sl.scan_own_type);
    if ((al.adv_filter & 1) === 0 || al.accepts(stype, saddr)) emit(SCAN_RSP, al.scan_rsp, al.scan_rsp_len);
  }
}

const EMPTY = new Uint8Array(0);

/** LE (Enhanced) Connection Complete, whichever the host unmasked. */
function connectionComplete(
  c: ControllerState,
  status: number,
  handle: number,
  role: number,
  peer_type: number,
  peer: BdAddr,
  interval: number,
  latency: number,
  timeout: number,
  sca: number,
): void {
  if (c.ev.enabled(C.HCI_EVENT_LE_META, C.HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE)) {
    c.ev.le_enhanced_connection_complete(status, handle, role, peer_type, peer, interval, latency, timeout, sca);
  } else {
    c.ev.le_connection_complete(status, handle, role, peer_type, peer, interval, latency, timeout, sca);
  }
}

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
  if (init.filter_policy === 1) return i.le.accepts(atype, aaddr);
  return (init.peer_type & 1) === atype && bd_addr_cmp(init.peer, aaddr) === 0;
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

export interface LePeers {
  reply: CommandReply;
}

export class ControllerLe {
  private readonly r: CommandReply;

  constructor(
    private readonly s: ControllerState,
    x: LePeers,
  ) {
    this.r = x.reply;
  }

  static readonly COMMANDS: CommandTable<ControllerLe> = [
    [
      K.hci_le_set_random_address,
      (x, a, cmd) => {
        const l = x.s.le;
        if (l.adv_enabled || l.scan_enabled || l.initiating) return x.r.fail(cmd, DISALLOWED);
        l.random_addr = a[0] as BdAddr;
        x.r.complete(cmd, OK);
      },
    ],
    [K.hci_le_set_advertising_parameters, (x, a, cmd) => x.setAdvParams(a, cmd)],
    [K.hci_le_read_advertising_channel_tx_power, (x, _a, cmd) => x.r.complete(cmd, OK, 0)],
    [K.hci_le_set_advertising_data, (x, a, cmd) => x.setData('adv', a, cmd)],
    [K.hci_le_set_scan_response_data, (x, a, cmd) => x.setData('scan_rsp', a, cmd)],
    [K.hci_le_set_advertise_enable, (x, a, cmd) => x.setAdvEnable(a, cmd)],
    [K.hci_le_set_scan_parameters, (x, a, cmd) => x.setScanParams(a, cmd)],
    [K.hci_le_set_scan_enable, (x, a, cmd) => x.setScanEnable(a, cmd)],
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
    [K.hci_le_read_white_list_size, (x, _a, cmd) => x.r.complete(cmd, OK, LE_ACCEPT_LIST_SIZE)],
    [
      K.hci_le_clear_white_list,
      (x, _a, cmd) => {
        const l = x.s.le;
        if (l.accept_list_in_use()) return x.r.fail(cmd, DISALLOWED);
        l.accept_list.clear();
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_le_add_device_to_white_list,
      (x, a, cmd) => {
        const l = x.s.le;
        const type = n(a, 0);
        if (type > 1 && type !== 0xff) return x.r.fail(cmd, INVALID);
        if (l.accept_list_in_use()) return x.r.fail(cmd, DISALLOWED);
        const k = listKey(type, a[1] as BdAddr);
        if (!l.accept_list.has(k) && l.accept_list.size >= LE_ACCEPT_LIST_SIZE) {
          return x.r.fail(cmd, C.ERROR_CODE_MEMORY_CAPACITY_EXCEEDED);
        }
        l.accept_list.add(k);
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_le_remove_device_from_white_list,
      (x, a, cmd) => {
        const l = x.s.le;
        const type = n(a, 0);
        if (type > 1 && type !== 0xff) return x.r.fail(cmd, INVALID);
        if (l.accept_list_in_use()) return x.r.fail(cmd, DISALLOWED);
        l.accept_list.delete(listKey(type, a[1] as BdAddr));
        x.r.complete(cmd, OK);
      },
    ],
    [K.hci_le_connection_update, (x, a, cmd) => x.connectionUpdate(a, cmd)],
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
  ];

  // ------------------------------------------------------------------ advertising

  private advInterval(): number {
    const l = this.s.le;
    return l.adv_type === ADV_DIRECT_IND_HIGH ? HIGH_DUTY_INTERVAL_MS : l.adv_interval_min * 0.625;
  }

  private advTick(): void {
    const s = this.s;
    const l = s.le;
    if (!l.adv_enabled) return;
    l.adv_last = s.run_loop.get_time_ms();
    for (const c of s.link.controllers) hear(s, c.state);
    l.adv_timer = s.after(this.advInterval(), () => this.advTick());
  }

  stop_advertising(): void {
    const s = this.s;
    const l = s.le;
    l.adv_enabled = false;
    s.cancel(l.adv_timer);
    s.cancel(l.adv_timeout);
    l.adv_timer = null;
    l.adv_timeout = null;
  }

  private startAdvertising(): void {
    const s = this.s;
    const l = s.le;
    l.adv_enabled = true;
    l.adv_timer = s.after(s.link.scan_report_ms, () => this.advTick());
    if (l.adv_type === ADV_DIRECT_IND_HIGH) {
      l.adv_timeout = s.after(HIGH_DUTY_TIMEOUT_MS, () => {
        this.stop_advertising();
        connectionComplete(s, C.ERROR_CODE_DIRECTED_ADVERTISING_TIMEOUT, 0, 1, l.adv_peer_type, l.adv_peer, 0, 0, 0, 0);
      });
    }
    // initiators waiting for this advertiser
    for (const c of s.link.controllers) if (c.state !== s && c.state.le.initiating) c.state.ops.try_connect();
  }

  private setAdvParams(a: HciArg[], cmd: HciCommand): void {
    const l = this.s.le;
    if (l.adv_enabled) return this.r.fail(cmd, DISALLOWED);
    const [min, max, type, own, peerType, peer, map, filter] = a as [
      number,
      number,
      number,
      number,
      number,
      BdAddr,
      number,
      number,
    ];
    if (type > 4 || own > 3 || peerType > 1 || map === 0 || map > 7 || filter > 3) return this.r.fail(cmd, INVALID);
    if (type !== ADV_DIRECT_IND_HIGH && (min < 0x0020 || max > 0x4000 || min > max)) return this.r.fail(cmd, INVALID);
    l.adv_interval_min = min;
    l.adv_interval_max = max;
    l.adv_type = type;
    l.adv_own_type = own;
    l.adv_peer_type = peerType;
    l.adv_peer = peer;
    l.adv_channel_map = map;
    l.adv_filter = filter;
    this.r.complete(cmd, OK);
  }

  private setData(which: 'adv' | 'scan_rsp', a: HciArg[], cmd: HciCommand): void {
    const l = this.s.le;
    const len = n(a, 0);
    if (len > 31) return this.r.fail(cmd, INVALID);
    const data = Uint8Array.from(a[1] as Uint8Array);
    data.fill(0, len);
    if (which === 'adv') {
      l.adv_data = data;
      l.adv_len = len;
    } else {
      l.scan_rsp = data;
      l.scan_rsp_len = len;
    }
    this.r.complete(cmd, OK);
  }

  private setAdvEnable(a: HciArg[], cmd: HciCommand): void {
    const en = n(a, 0);
    const l = this.s.le;
    if (en > 1) return this.r.fail(cmd, INVALID);
    if (en === 1 && !l.adv_enabled) {
      if ((l.adv_own_type & 1) === 1 && !l.random_addr) return this.r.fail(cmd, INVALID);
      this.r.complete(cmd, OK);
      this.startAdvertising();
      return;
    }
    if (en === 0) this.stop_advertising();
    this.r.complete(cmd, OK);
  }

  // ------------------------------------------------------------------ scanning

  private setScanParams(a: HciArg[], cmd: HciCommand): void {
    const l = this.s.le;
    if (l.scan_enabled) return this.r.fail(cmd, DISALLOWED);
    const [type, interval, window, own, filter] = a as number[];
    if (
      type! > 1 ||
      interval! < 0x0004 ||
      interval! > 0x4000 ||
      window! < 0x0004 ||
      window! > interval! ||
      own! > 3 ||
      filter! > 3
    ) {
      return this.r.fail(cmd, INVALID);
    }
    l.scan_type = type!;
    l.scan_interval = interval!;
    l.scan_window = window!;
    l.scan_own_type = own!;
    l.scan_filter = filter!;
    this.r.complete(cmd, OK);
  }

  private setScanEnable(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const en = n(a, 0);
    const dup = n(a, 1);
    const l = s.le;
    if (en > 1 || dup > 1) return this.r.fail(cmd, INVALID);
    if (en === 1) {
      if ((l.scan_own_type & 1) === 1 && !l.random_addr) return this.r.fail(cmd, INVALID);
      l.filter_duplicates = dup;
      l.seen.clear();
      const was = l.scan_enabled;
      l.scan_enabled = true;
      this.r.complete(cmd, OK);
      if (!was) {
        // hear the advertisers already on air soon, not only after their next interval
        const since = (l.scan_since = s.run_loop.get_time_ms());
        s.after(s.link.scan_report_ms, () => {
          for (const c of s.link.controllers) {
            const adv = c.state;
            if (adv.le.adv_enabled && adv.le.adv_last < since) hear(adv, s);
          }
        });
      }
      return;
    }
    l.scan_enabled = false;
    this.r.complete(cmd, OK);
  }

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
    connectionComplete(i, OK, ce.handle, 0, atype, aaddr, air.interval, air.latency, air.timeout, 0);
    connectionComplete(adv, OK, pe.handle, 1, itype, iaddr, air.interval, air.latency, air.timeout, CENTRAL_SCA);
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
    for (const e of s.connections.values()) {
      if (e.air.kind === 'le' && e.peer_addr_type === (peerType & 1) && bd_addr_cmp(e.peer_addr, peer) === 0) {
        return this.r.status(cmd, C.ERROR_CODE_ACL_CONNECTION_ALREADY_EXISTS);
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

  private connectionUpdate(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const end = this.leConn(a);
    const [, min, max, latency, timeout] = a as number[];
    if (!end) return this.r.status(cmd, UNKNOWN_CONN);
    if (!connParamsValid(min!, max!, latency!, timeout!)) return this.r.status(cmd, INVALID);
    this.r.status(cmd, OK);
    const air = end.air;
    air.after(2 * air.latency_ms, () => {
      if (end.role === 1) {
        // the central does not support the Connection Parameters Request procedure
        const st = C.ERROR_CODE_UNSUPPORTED_REMOTE_FEATURE_UNSUPPORTED_LMP_FEATURE;
        s.ev.le_connection_update_complete(st, end.handle, air.interval, air.latency, air.timeout);
        return;
      }
      air.interval = max!;
      air.latency = latency!;
      air.timeout = timeout!;
      for (const e of [end, end.peer]) {
        e.controller.ev.le_connection_update_complete(OK, e.handle, air.interval, air.latency, air.timeout);
      }
    });
  }
}
