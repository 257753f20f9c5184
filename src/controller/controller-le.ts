/**
 * LE advertising and scanning (legacy advertising commands) of the virtual controller: the random
 * address, reports delivered at the advertiser's interval tagged with the advertiser's address
 * type (public 0 / random 1), scan responses for active scanners, directed advertising and the
 * filter accept list; with address resolution on, advertisers by their identity (controller-privacy.ts).
 * LE connections are in controller-le-conn.ts.
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';
import * as K from '../hci/commands.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import * as C from './codes.js';
import type { CommandReply, CommandTable } from './controller-commands.js';
import { accept_list_key as listKey, ADV_IND, type ControllerState } from './controller-state.js';
import { resolve_peer } from './controller-privacy.js';
import { LE_ACCEPT_LIST_SIZE } from './defs.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
const DISALLOWED = C.ERROR_CODE_COMMAND_DISALLOWED;

const ADV_DIRECT_IND_HIGH = 0x01;
export const ADV_SCAN_IND = 0x02;
export const ADV_NONCONN_IND = 0x03;
const ADV_DIRECT_IND_LOW = 0x04;
const SCAN_RSP = 0x04;
/** High duty cycle directed advertising lasts at most 1.28 s. */
const HIGH_DUTY_TIMEOUT_MS = 1280;
const HIGH_DUTY_INTERVAL_MS = 3.75;

const n = (a: HciArg[], i: number): number => a[i] as number;

// ------------------------------------------------------------------ helpers over two controllers' data

export function isDirected(t: number): boolean {
  return t === ADV_DIRECT_IND_HIGH || t === ADV_DIRECT_IND_LOW;
}

/** Whether `adv`'s directed advertising targets `s` using own address type `own`. */
export function directedAt(adv: ControllerState, s: ControllerState, own: number): boolean {
  const [type, addr] = s.le.own_address(own);
  return adv.le.adv_peer_type === type && bd_addr_cmp(adv.le.adv_peer, addr) === 0;
}

/** One advertising event of `adv` heard by scanner `s`. */
function hear(adv: ControllerState, s: ControllerState): void {
  const sl = s.le;
  const al = adv.le;
  if (!sl.scan_enabled || s === adv || s.powered_off || !al.adv_enabled) return;
  const [atype, aaddr] = al.own_address(al.adv_own_type);
  // with address resolution on, a peer's RPA is reported by its identity (type 0x02 / 0x03)
  const seen = resolve_peer(s, atype, aaddr);
  if (!seen) return;
  if ((sl.scan_filter & 1) === 1 && !sl.accepts(atype, aaddr) && !(seen.rpa && sl.accepts(seen.type & 1, seen.addr))) return;
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
    s.ev.le_advertising_report(event_type, seen.type, seen.addr, data, len, rssi);
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
export function connectionComplete(
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
  peer_rpa: BdAddr | null = null,
): void {
  if (c.ev.enabled(C.HCI_EVENT_LE_META, C.HCI_SUBEVENT_LE_ENHANCED_CONNECTION_COMPLETE)) {
    c.ev.le_enhanced_connection_complete(status, handle, role, peer_type, peer, interval, latency, timeout, sca, null, peer_rpa);
  } else {
    // the legacy event has types 0 / 1 only: a resolved peer by its identity address
    c.ev.le_connection_complete(status, handle, role, peer_type & 1, peer, interval, latency, timeout, sca);
  }
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
}
