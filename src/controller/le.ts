/**
 * LE procedures (legacy advertising commands): advertising and scanning with reports delivered
 * at the advertiser's interval, scan responses for active scanners, LE Create Connection to a
 * connectable advertiser, connection update, remote features and data length.
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';
import type { Timer } from '../core/run-loop.js';
import * as K from '../hci/commands.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import { AirLink, join_controllers, type LinkEnd } from './air.js';
import * as C from './codes.js';
import type { Handler, VirtualController } from './controller.js';
import {
  LE_ACCEPT_LIST_SIZE, LE_MAX_OCTETS, LE_MAX_TIME, LE_MIN_OCTETS, LE_MIN_TIME, le_octets_to_time,
} from './defs.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
const DISALLOWED = C.ERROR_CODE_COMMAND_DISALLOWED;
const UNKNOWN_CONN = C.ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;

const ADV_IND = 0x00;
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
const listKey = (type: number, addr: BdAddr): string => `${type}:${Array.from(addr).join(',')}`;

interface Initiating {
  filter_policy: number;
  peer_type: number;
  peer: BdAddr;
  own_type: number;
  interval_max: number;
  latency: number;
  timeout: number;
}

export class LeState {
  random_addr: BdAddr | null = null;
  adv_interval_min = 0x0800;
  adv_interval_max = 0x0800;
  adv_type = ADV_IND;
  adv_own_type = 0;
  adv_peer_type = 0;
  adv_peer: BdAddr = new Uint8Array(6);
  adv_channel_map = 0x07;
  adv_filter = 0;
  adv_data = new Uint8Array(31);
  adv_len = 0;
  scan_rsp = new Uint8Array(31);
  scan_rsp_len = 0;
  adv_enabled = false;
  adv_timer: Timer | null = null;
  adv_timeout: Timer | null = null;
  /** Run-loop time of the last advertising event. */
  adv_last = -1;
  /** Run-loop time scanning was enabled. */
  scan_since = 0;
  scan_type = 0;
  scan_interval = 0x0010;
  scan_window = 0x0010;
  scan_own_type = 0;
  scan_filter = 0;
  scan_enabled = false;
  filter_duplicates = 0;
  readonly seen = new Set<string>();
  initiating: Initiating | null = null;
  suggested_tx_octets = LE_MIN_OCTETS;
  suggested_tx_time = LE_MIN_TIME;
  /** Filter accept list: entries "type:address" (type 0 public, 1 random, 0xFF anonymous). */
  readonly accept_list = new Set<string>();

  constructor(private readonly c: VirtualController) {}

  reset(): void {
    this.random_addr = null;
    this.adv_interval_min = 0x0800;
    this.adv_interval_max = 0x0800;
    this.adv_type = ADV_IND;
    this.adv_own_type = 0;
    this.adv_peer_type = 0;
    this.adv_peer = new Uint8Array(6);
    this.adv_channel_map = 0x07;
    this.adv_filter = 0;
    this.adv_data = new Uint8Array(31);
    this.adv_len = 0;
    this.scan_rsp = new Uint8Array(31);
    this.scan_rsp_len = 0;
    this.adv_enabled = false;
    this.adv_timer = null;
    this.adv_timeout = null;
    this.adv_last = -1;
    this.scan_since = 0;
    this.scan_type = 0;
    this.scan_interval = 0x0010;
    this.scan_window = 0x0010;
    this.scan_own_type = 0;
    this.scan_filter = 0;
    this.scan_enabled = false;
    this.filter_duplicates = 0;
    this.seen.clear();
    this.initiating = null;
    this.suggested_tx_octets = LE_MIN_OCTETS;
    this.suggested_tx_time = LE_MIN_TIME;
    this.accept_list.clear();
  }

  /** Whether (type, address) is on the filter accept list. */
  accepts(type: number, addr: BdAddr): boolean {
    return this.accept_list.has(listKey(type, addr));
  }

  /** Whether the accept list is in use (Vol 4 Part E 7.8.16: it may not change then). */
  accept_list_in_use(): boolean {
    return (
      (this.adv_enabled && this.adv_filter !== 0) ||
      (this.scan_enabled && (this.scan_filter & 1) === 1) ||
      (this.initiating !== null && this.initiating.filter_policy === 1)
    );
  }

  /** The address (type, address) this controller uses for own_address_type `t`. */
  own_address(t: number): [number, BdAddr] {
    if ((t & 1) === 1) return [1, this.random_addr ?? new Uint8Array(6)];
    return [0, this.c.bd_addr];
  }
}

// ------------------------------------------------------------------ advertising

function isDirected(t: number): boolean {
  return t === ADV_DIRECT_IND_HIGH || t === ADV_DIRECT_IND_LOW;
}

/** Whether `adv`'s directed advertising targets `s` using own address type `own`. */
function directedAt(adv: VirtualController, s: VirtualController, own: number): boolean {
  const [type, addr] = s.le.own_address(own);
  return adv.le.adv_peer_type === type && bd_addr_cmp(adv.le.adv_peer, addr) === 0;
}

/** One advertising event of `adv` heard by scanner `s`. */
function hear(adv: VirtualController, s: VirtualController): void {
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

function advInterval(c: VirtualController): number {
  const l = c.le;
  return l.adv_type === ADV_DIRECT_IND_HIGH ? HIGH_DUTY_INTERVAL_MS : l.adv_interval_min * 0.625;
}

function advTick(c: VirtualController): void {
  const l = c.le;
  if (!l.adv_enabled) return;
  l.adv_last = c.run_loop.get_time_ms();
  for (const s of c.link.controllers) hear(c, s);
  l.adv_timer = c.after(advInterval(c), () => advTick(c));
}

function stopAdvertising(c: VirtualController): void {
  const l = c.le;
  l.adv_enabled = false;
  c.cancel(l.adv_timer);
  c.cancel(l.adv_timeout);
  l.adv_timer = null;
  l.adv_timeout = null;
}

function startAdvertising(c: VirtualController): void {
  const l = c.le;
  l.adv_enabled = true;
  l.adv_timer = c.after(c.link.scan_report_ms, () => advTick(c));
  if (l.adv_type === ADV_DIRECT_IND_HIGH) {
    l.adv_timeout = c.after(HIGH_DUTY_TIMEOUT_MS, () => {
      stopAdvertising(c);
      connectionComplete(c, C.ERROR_CODE_DIRECTED_ADVERTISING_TIMEOUT, 0, 1, l.adv_peer_type, l.adv_peer, 0, 0, 0, 0);
    });
  }
  // initiators waiting for this advertiser
  for (const i of c.link.controllers) if (i !== c && i.le.initiating) tryConnect(i);
}

const setAdvParams: Handler = (c, a, cmd) => {
  const l = c.le;
  if (l.adv_enabled) return c.fail(cmd, DISALLOWED);
  const [min, max, type, own, peerType, peer, map, filter] = a as [number, number, number, number, number, BdAddr, number, number];
  if (type > 4 || own > 3 || peerType > 1 || map === 0 || map > 7 || filter > 3) return c.fail(cmd, INVALID);
  if (type !== ADV_DIRECT_IND_HIGH && (min < 0x0020 || max > 0x4000 || min > max)) return c.fail(cmd, INVALID);
  l.adv_interval_min = min;
  l.adv_interval_max = max;
  l.adv_type = type;
  l.adv_own_type = own;
  l.adv_peer_type = peerType;
  l.adv_peer = peer;
  l.adv_channel_map = map;
  l.adv_filter = filter;
  c.complete(cmd, OK);
};

function setData(which: 'adv' | 'scan_rsp'): Handler {
  return (c, a, cmd) => {
    const len = n(a, 0);
    if (len > 31) return c.fail(cmd, INVALID);
    const data = Uint8Array.from(a[1] as Uint8Array);
    data.fill(0, len);
    if (which === 'adv') {
      c.le.adv_data = data;
      c.le.adv_len = len;
    } else {
      c.le.scan_rsp = data;
      c.le.scan_rsp_len = len;
    }
    c.complete(cmd, OK);
  };
}

const setAdvEnable: Handler = (c, a, cmd) => {
  const en = n(a, 0);
  const l = c.le;
  if (en > 1) return c.fail(cmd, INVALID);
  if (en === 1 && !l.adv_enabled) {
    if ((l.adv_own_type & 1) === 1 && !l.random_addr) return c.fail(cmd, INVALID);
    c.complete(cmd, OK);
    startAdvertising(c);
    return;
  }
  if (en === 0) stopAdvertising(c);
  c.complete(cmd, OK);
};

// ------------------------------------------------------------------ scanning

const setScanParams: Handler = (c, a, cmd) => {
  const l = c.le;
  if (l.scan_enabled) return c.fail(cmd, DISALLOWED);
  const [type, interval, window, own, filter] = a as number[];
  if (type! > 1 || interval! < 0x0004 || interval! > 0x4000 || window! < 0x0004 || window! > interval! || own! > 3 || filter! > 3) {
    return c.fail(cmd, INVALID);
  }
  l.scan_type = type!;
  l.scan_interval = interval!;
  l.scan_window = window!;
  l.scan_own_type = own!;
  l.scan_filter = filter!;
  c.complete(cmd, OK);
};

const setScanEnable: Handler = (c, a, cmd) => {
  const en = n(a, 0);
  const dup = n(a, 1);
  const l = c.le;
  if (en > 1 || dup > 1) return c.fail(cmd, INVALID);
  if (en === 1) {
    if ((l.scan_own_type & 1) === 1 && !l.random_addr) return c.fail(cmd, INVALID);
    l.filter_duplicates = dup;
    l.seen.clear();
    const was = l.scan_enabled;
    l.scan_enabled = true;
    c.complete(cmd, OK);
    if (!was) {
      // hear the advertisers already on air soon, not only after their next interval
      const since = (l.scan_since = c.run_loop.get_time_ms());
      c.after(c.link.scan_report_ms, () => {
        for (const adv of c.link.controllers) if (adv.le.adv_enabled && adv.le.adv_last < since) hear(adv, c);
      });
    }
    return;
  }
  l.scan_enabled = false;
  c.complete(cmd, OK);
};

// ------------------------------------------------------------------ connections

function connectionComplete(
  c: VirtualController, status: number, handle: number, role: number, peer_type: number, peer: BdAddr,
  interval: number, latency: number, timeout: number, sca: number,
): void {
  if (c.ev.enabled(C.HCI_EVENT_LE_META, C.HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE)) {
    c.ev.le_enhanced_connection_complete(status, handle, role, peer_type, peer, interval, latency, timeout, sca);
  } else {
    c.ev.le_connection_complete(status, handle, role, peer_type, peer, interval, latency, timeout, sca);
  }
}

/** Whether advertiser `adv` is the one initiator `i` looks for and accepts connections from it. */
function matches(i: VirtualController, adv: VirtualController, init: Initiating): boolean {
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

function tryConnect(i: VirtualController): void {
  const init = i.le.initiating;
  if (!init) return;
  const adv = i.link.controllers.find((x) => matches(i, x, init));
  if (!adv) return;
  i.after(i.link.latency_ms, () => {
    if (i.le.initiating !== init || !matches(i, adv, init)) return;
    connect(i, adv, init);
  });
}

function connect(i: VirtualController, adv: VirtualController, init: Initiating): void {
  i.le.initiating = null;
  stopAdvertising(adv);
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
  if (ce.tx_octets !== LE_MIN_OCTETS || pe.tx_octets !== LE_MIN_OCTETS) air.after(2 * air.latency_ms, () => dataLengthChanged(air));
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

const createConnection: Handler = (c, a, cmd) => {
  const [scanInt, scanWin, filter, peerType, peer, own, min, max, latency, timeout] =
    a as [number, number, number, number, BdAddr, number, number, number, number, number];
  if (scanInt < 0x0004 || scanInt > 0x4000 || scanWin < 0x0004 || scanWin > scanInt || filter > 1 || peerType > 3 || own > 3) {
    return c.status(cmd, INVALID);
  }
  if (!connParamsValid(min, max, latency, timeout)) return c.status(cmd, INVALID);
  if (c.le.initiating) return c.status(cmd, DISALLOWED);
  if ((own & 1) === 1 && !c.le.random_addr) return c.status(cmd, INVALID);
  for (const e of c.connections.values()) {
    if (e.air.kind === 'le' && e.peer_addr_type === (peerType & 1) && bd_addr_cmp(e.peer_addr, peer) === 0) {
      return c.status(cmd, C.ERROR_CODE_ACL_CONNECTION_ALREADY_EXISTS);
    }
  }
  c.status(cmd, OK);
  c.le.initiating = { filter_policy: filter, peer_type: peerType, peer, own_type: own, interval_max: max, latency, timeout };
  c.after(c.link.scan_report_ms, () => tryConnect(c));
};

const createConnectionCancel: Handler = (c, _a, cmd) => {
  const init = c.le.initiating;
  if (!init) return c.complete(cmd, DISALLOWED);
  c.le.initiating = null;
  c.complete(cmd, OK);
  connectionComplete(c, UNKNOWN_CONN, 0, 0, 0, new Uint8Array(6), 0, 0, 0, 0);
};

function leConn(c: VirtualController, a: HciArg[]): LinkEnd | undefined {
  const end = c.connections.get(n(a, 0));
  return end && end.air.kind === 'le' ? end : undefined;
}

const connectionUpdate: Handler = (c, a, cmd) => {
  const end = leConn(c, a);
  const [, min, max, latency, timeout] = a as number[];
  if (!end) return c.status(cmd, UNKNOWN_CONN);
  if (!connParamsValid(min!, max!, latency!, timeout!)) return c.status(cmd, INVALID);
  c.status(cmd, OK);
  const air = end.air;
  air.after(2 * air.latency_ms, () => {
    if (end.role === 1) {
      // the central does not support the Connection Parameters Request procedure
      c.ev.le_connection_update_complete(C.ERROR_CODE_UNSUPPORTED_REMOTE_FEATURE_UNSUPPORTED_LMP_FEATURE, end.handle, air.interval, air.latency, air.timeout);
      return;
    }
    air.interval = max!;
    air.latency = latency!;
    air.timeout = timeout!;
    for (const e of [end, end.peer]) {
      e.controller.ev.le_connection_update_complete(OK, e.handle, air.interval, air.latency, air.timeout);
    }
  });
};

const readRemoteFeatures: Handler = (c, a, cmd) => {
  const end = leConn(c, a);
  if (!end) return c.status(cmd, UNKNOWN_CONN);
  c.status(cmd, OK);
  end.air.after(2 * end.air.latency_ms, () => c.ev.le_read_remote_features_complete(OK, end.handle, end.peer.controller.le_features));
};

const setDataLength: Handler = (c, a, cmd) => {
  const end = leConn(c, a);
  const [, octets, time] = a as number[];
  if (!end) return c.fail(cmd, UNKNOWN_CONN);
  if (octets! < LE_MIN_OCTETS || octets! > LE_MAX_OCTETS || time! < LE_MIN_TIME || time! > 0x4290) return c.fail(cmd, INVALID);
  c.complete(cmd, OK, end.handle);
  if (end.tx_octets === octets) return;
  end.tx_octets = octets!;
  end.air.after(2 * end.air.latency_ms, () => dataLengthChanged(end.air));
};

const writeSuggestedDataLength: Handler = (c, a, cmd) => {
  const [octets, time] = a as number[];
  if (octets! < LE_MIN_OCTETS || octets! > LE_MAX_OCTETS || time! < LE_MIN_TIME || time! > 0x4290) return c.fail(cmd, INVALID);
  c.le.suggested_tx_octets = octets!;
  c.le.suggested_tx_time = time!;
  c.complete(cmd, OK);
};

const setRandomAddress: Handler = (c, a, cmd) => {
  const l = c.le;
  if (l.adv_enabled || l.scan_enabled || l.initiating) return c.fail(cmd, DISALLOWED);
  l.random_addr = a[0] as BdAddr;
  c.complete(cmd, OK);
};

export const LE_HANDLERS: ReadonlyArray<readonly [HciCommand, Handler]> = [
  [K.hci_le_set_random_address, setRandomAddress],
  [K.hci_le_set_advertising_parameters, setAdvParams],
  [K.hci_le_read_advertising_channel_tx_power, (c, _a, cmd) => c.complete(cmd, OK, 0)],
  [K.hci_le_set_advertising_data, setData('adv')],
  [K.hci_le_set_scan_response_data, setData('scan_rsp')],
  [K.hci_le_set_advertise_enable, setAdvEnable],
  [K.hci_le_set_scan_parameters, setScanParams],
  [K.hci_le_set_scan_enable, setScanEnable],
  [K.hci_le_create_connection, createConnection],
  [K.hci_le_create_connection_cancel, createConnectionCancel],
  [K.hci_le_read_white_list_size, (c, _a, cmd) => c.complete(cmd, OK, LE_ACCEPT_LIST_SIZE)],
  [K.hci_le_clear_white_list, (c, _a, cmd) => {
    if (c.le.accept_list_in_use()) return c.fail(cmd, DISALLOWED);
    c.le.accept_list.clear();
    c.complete(cmd, OK);
  }],
  [K.hci_le_add_device_to_white_list, (c, a, cmd) => {
    const type = n(a, 0);
    if (type > 1 && type !== 0xff) return c.fail(cmd, INVALID);
    if (c.le.accept_list_in_use()) return c.fail(cmd, DISALLOWED);
    const k = listKey(type, a[1] as BdAddr);
    if (!c.le.accept_list.has(k) && c.le.accept_list.size >= LE_ACCEPT_LIST_SIZE) {
      return c.fail(cmd, C.ERROR_CODE_MEMORY_CAPACITY_EXCEEDED);
    }
    c.le.accept_list.add(k);
    c.complete(cmd, OK);
  }],
  [K.hci_le_remove_device_from_white_list, (c, a, cmd) => {
    const type = n(a, 0);
    if (type > 1 && type !== 0xff) return c.fail(cmd, INVALID);
    if (c.le.accept_list_in_use()) return c.fail(cmd, DISALLOWED);
    c.le.accept_list.delete(listKey(type, a[1] as BdAddr));
    c.complete(cmd, OK);
  }],
  [K.hci_le_connection_update, connectionUpdate],
  [K.hci_le_read_remote_used_features, readRemoteFeatures],
  [K.hci_le_set_data_length, setDataLength],
  [K.hci_le_read_suggested_default_data_length, (c, _a, cmd) => c.complete(cmd, OK, c.le.suggested_tx_octets, c.le.suggested_tx_time)],
  [K.hci_le_write_suggested_default_data_length, writeSuggestedDataLength],
  [K.hci_le_read_maximum_data_length, (c, _a, cmd) => c.complete(cmd, OK, LE_MAX_OCTETS, LE_MAX_TIME, LE_MAX_OCTETS, LE_MAX_TIME)],
];
