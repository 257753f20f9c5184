/**
 * BR/EDR procedures: inquiry, paging (Create Connection, Connection Request, Accept / Reject),
 * disconnection, remote name / features / version, roles, link policy and sniff.
 *
 * Timing on the run loop: a page reaches a page-scanning device after `link.page_ms`; an unanswered
 * page fails after Page_Timeout; an unanswered Connection Request after the connection accept
 * timeout (5 s); inquiry responses arrive every `link.inquiry_response_ms` until
 * Inquiry_Length x 1.28 s.
 *
 * One ACL per pair of devices: a page from a device this controller already has an ACL with
 * (typically one that was Reset while linked: its side is gone, ours lingers until the
 * supervision timeout) is refused by the link manager with Connection Already Exists (0x0B,
 * Vol 1 Part F 2.11). The pager's host gets Connection Complete 0x0B; ours hears nothing, so it
 * never sees a second Connection Complete for the same BD_ADDR and every address-keyed command
 * finds exactly one link. Pages that cross (each host accepting the other's) form one link; the
 * later attempt ends 0x0B on both sides.
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';
import type { Timer } from '../core/run-loop.js';
import * as K from '../hci/commands.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import { AirLink, join_controllers, type LinkEnd } from './air.js';
import * as C from './codes.js';
import type { Handler, VirtualController } from './controller.js';
import { LAP_MAX, LAP_MIN, LMP_MAX_PAGE } from './defs.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
const DISALLOWED = C.ERROR_CODE_COMMAND_DISALLOWED;
const UNKNOWN_CONN = C.ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
const ALREADY_EXISTS = C.ERROR_CODE_ACL_CONNECTION_ALREADY_EXISTS;
const ACL_LINK = 0x01;
/** LMP response timeout, 30 s (error 0x22, Vol 1 Part F 2.34): a peer that never answers. */
const LMP_RESPONSE_TIMEOUT_MS = 30_000;
const PSRM_R1 = 0x01;

const n = (a: HciArg[], i: number): number => a[i] as number;
const key = (a: BdAddr): string => Array.from(a, (x) => x.toString(16).padStart(2, '0')).join('');

interface Inquiry {
  lap: number;
  max: number;
  count: number;
  reported: Set<VirtualController>;
  end: Timer;
  tick: Timer | null;
}

/** An outgoing page (Create Connection) of this controller. */
interface Page {
  addr: BdAddr;
  allow_role_switch: number;
  timeout: Timer | null;
  retry: Timer | null;
  /** The target holding our Connection Request, once reached. */
  target: VirtualController | null;
}

/** A Connection Request this controller's host has to answer. */
interface Incoming {
  from: VirtualController;
  from_gen: number;
  page: Page;
  timer: Timer;
}

export class ClassicState {
  inquiry: Inquiry | null = null;
  readonly pages = new Map<string, Page>();
  readonly incoming = new Map<string, Incoming>();
  readonly name_requests = new Map<string, Timer>();

  constructor(private readonly c: VirtualController) {}

  reset(): void {
    this.inquiry = null;
    // peers holding our Connection Requests: the page is gone
    for (const p of this.pages.values()) {
      if (p.target) p.target.classic.withdraw(this.c, C.ERROR_CODE_CONNECTION_TIMEOUT);
    }
    this.pages.clear();
    this.incoming.clear();
    this.name_requests.clear();
  }

  /** The page from `from` stopped before our host answered: report it and forget it. */
  withdraw(from: VirtualController, status: number): void {
    const k = key(from.bd_addr);
    const inc = this.incoming.get(k);
    if (!inc || inc.from !== from) return;
    this.c.cancel(inc.timer);
    this.incoming.delete(k);
    this.c.ev.connection_complete(status, 0x0000, from.bd_addr, ACL_LINK, 0);
  }
}

// ------------------------------------------------------------------ inquiry

function inquiryMatches(c: VirtualController, peer: VirtualController): boolean {
  if (c.inquiry_filters.length === 0) return true;
  return c.inquiry_filters.some((f) => {
    if (f.type === 0) return true;
    if (f.type === 1) return (peer.class_of_device & f.mask) === (f.cod & f.mask);
    return f.addr !== null && bd_addr_cmp(f.addr, peer.bd_addr) === 0;
  });
}

/**
 * The response `peer` sends to `c`'s inquiry. In mode 2 the EIR is exactly what peer's host
 * wrote with Write Extended Inquiry Response (all zero after reset when it wrote none): a
 * controller never makes an EIR of its own, so a host that wants names without EIR asks with
 * Remote Name Request.
 */
function report(c: VirtualController, peer: VirtualController): void {
  const link = c.link;
  const rssi = link.rssi(c, peer) & 0xff;
  const co = link.clock_offset(peer);
  if (c.inquiry_mode === 0) c.ev.inquiry_result(peer.bd_addr, PSRM_R1, peer.class_of_device, co);
  else if (c.inquiry_mode === 1) c.ev.inquiry_result_with_rssi(peer.bd_addr, PSRM_R1, peer.class_of_device, co, rssi);
  else c.ev.extended_inquiry_result(peer.bd_addr, PSRM_R1, peer.class_of_device, co, rssi, peer.eir);
}

function inquiryTick(c: VirtualController): void {
  const inq = c.classic.inquiry;
  if (!inq) return;
  inq.tick = null;
  const peer = c.link.controllers.find(
    (p) =>
      p !== c && !p.powered_off && (p.scan_enable & 0x01) !== 0 && p.current_iacs.includes(inq.lap) &&
      !inq.reported.has(p) && inquiryMatches(c, p),
  );
  if (peer) {
    inq.reported.add(peer);
    report(c, peer);
    inq.count++;
    if (inq.max !== 0 && inq.count >= inq.max) {
      c.cancel(inq.end);
      c.classic.inquiry = null;
      c.ev.inquiry_complete(OK);
      return;
    }
  }
  inq.tick = c.after(c.link.inquiry_response_ms, () => inquiryTick(c));
}

const inquiry: Handler = (c, a, cmd) => {
  const lap = n(a, 0);
  const len = n(a, 1);
  if (lap < LAP_MIN || lap > LAP_MAX || len < 0x01 || len > 0x30) return c.status(cmd, INVALID);
  if (c.classic.inquiry) return c.status(cmd, DISALLOWED);
  c.status(cmd, OK);
  const inq: Inquiry = {
    lap,
    max: n(a, 2),
    count: 0,
    reported: new Set(),
    end: c.after(len * 1280, () => {
      if (inq.tick) c.cancel(inq.tick);
      c.classic.inquiry = null;
      c.ev.inquiry_complete(OK);
    }),
    tick: null,
  };
  c.classic.inquiry = inq;
  inq.tick = c.after(c.link.inquiry_response_ms, () => inquiryTick(c));
};

const inquiryCancel: Handler = (c, _a, cmd) => {
  const inq = c.classic.inquiry;
  if (!inq) return c.complete(cmd, DISALLOWED);
  c.cancel(inq.end);
  c.cancel(inq.tick);
  c.classic.inquiry = null;
  c.complete(cmd, OK);
};

// ------------------------------------------------------------------ paging

function pageScanning(c: VirtualController, addr: BdAddr): VirtualController | undefined {
  const t = c.link.find(addr);
  if (!t || t === c || (t.scan_enable & 0x02) === 0) return undefined;
  return t;
}

function pageFail(c: VirtualController, page: Page, status: number): void {
  c.cancel(page.timeout);
  c.cancel(page.retry);
  c.classic.pages.delete(key(page.addr));
  c.ev.connection_complete(status, 0x0000, page.addr, ACL_LINK, 0);
}

function pageTry(c: VirtualController, page: Page): void {
  page.retry = null;
  const t = pageScanning(c, page.addr);
  if (!t) {
    page.retry = c.after(Math.max(c.link.page_ms, 20), () => pageTry(c, page));
    return;
  }
  c.cancel(page.timeout);
  page.timeout = null;
  page.target = t;
  incoming(t, c, page);
}

/** Whether `page` of `from` is still the one it runs (no reset, cancel or completion since). */
function pageLive(from: VirtualController, gen: number, page: Page): boolean {
  return from.generation === gen && from.classic.pages.get(key(page.addr)) === page;
}

/** The page from `from` reached `t`: refuse a second ACL, apply connection filters or ask t's host. */
function incoming(t: VirtualController, from: VirtualController, page: Page): void {
  if (t.classic_end(from.bd_addr)) {
    // t's link manager answers LMP_host_connection_req with LMP_not_accepted (0x0B); t's host
    // is not asked, its link to `from` (stale until the supervision timeout) stays the only one
    page.target = null;
    const gen = from.generation;
    from.after(t.link.latency_ms, () => {
      if (pageLive(from, gen, page)) pageFail(from, page, ALREADY_EXISTS);
    });
    return;
  }
  const filter = t.connection_filters.find((f) => {
    if (f.type === 0) return true;
    if (f.type === 1) return (from.class_of_device & f.mask) === (f.cod & f.mask);
    return f.addr !== null && bd_addr_cmp(f.addr, from.bd_addr) === 0;
  });
  const k = key(from.bd_addr);
  const inc: Incoming = {
    from,
    from_gen: from.generation,
    page,
    timer: t.after(t.connection_accept_timeout * 0.625, () => {
      t.classic.incoming.delete(k);
      t.ev.connection_complete(C.ERROR_CODE_CONNECTION_ACCEPT_TIMEOUT_EXCEEDED, 0, from.bd_addr, ACL_LINK, 0);
      if (from.generation === inc.from_gen && from.classic.pages.get(key(page.addr)) === page) {
        pageFail(from, page, C.ERROR_CODE_CONNECTION_ACCEPT_TIMEOUT_EXCEEDED);
      }
    }),
  };
  t.classic.incoming.set(k, inc);
  if (filter && filter.auto >= 0x02) {
    accept(t, inc, filter.auto === 0x03 ? 0x00 : 0x01);
    return;
  }
  t.ev.connection_request(from.bd_addr, from.class_of_device, ACL_LINK);
}

/** t's host accepted (role 0: become central, 1: stay peripheral). */
function accept(t: VirtualController, inc: Incoming, role: number): void {
  t.cancel(inc.timer);
  t.classic.incoming.delete(key(inc.from.bd_addr));
  const from = inc.from;
  const page = inc.page;
  t.after(t.link.latency_ms, () => {
    if (from.generation !== inc.from_gen || from.classic.pages.get(key(page.addr)) !== page) {
      t.ev.connection_complete(C.ERROR_CODE_CONNECTION_TIMEOUT, 0, from.bd_addr, ACL_LINK, 0);
      return;
    }
    if (t.classic_end(from.bd_addr) || from.classic_end(t.bd_addr)) {
      // the two formed an ACL meanwhile (pages crossed): no second one
      pageFail(from, page, ALREADY_EXISTS);
      t.ev.connection_complete(ALREADY_EXISTS, 0, from.bd_addr, ACL_LINK, 0);
      return;
    }
    from.cancel(page.retry);
    from.classic.pages.delete(key(page.addr));
    const switched = role === 0x00 && page.allow_role_switch === 0x01;
    const central = switched ? t : from;
    const peripheral = switched ? from : t;
    const air = new AirLink(t.run_loop, { kind: 'classic', latency_ms: t.link.latency_ms, bandwidth_bps: t.link.bandwidth_bps });
    air.central_addr = Uint8Array.from(central.bd_addr);
    air.peripheral_addr = Uint8Array.from(peripheral.bd_addr);
    const ends = join_controllers(air, central, peripheral);
    if (!ends) {
      from.ev.connection_complete(C.ERROR_CODE_CONNECTION_LIMIT_EXCEEDED, 0, t.bd_addr, ACL_LINK, 0);
      t.ev.connection_complete(C.ERROR_CODE_CONNECTION_LIMIT_EXCEEDED, 0, from.bd_addr, ACL_LINK, 0);
      return;
    }
    for (const e of ends) e.link_policy = e.controller.default_link_policy;
    if (switched) {
      t.ev.role_change(OK, from.bd_addr, 0x00);
      from.ev.role_change(OK, t.bd_addr, 0x01);
    }
    for (const e of ends) e.controller.ev.connection_complete(OK, e.handle, e.peer_addr, ACL_LINK, 0);
  });
}

const createConnection: Handler = (c, a, cmd) => {
  const addr = a[0] as BdAddr;
  const allow = n(a, 5);
  if (allow > 1) return c.status(cmd, INVALID);
  if (c.classic_end(addr)) return c.status(cmd, C.ERROR_CODE_ACL_CONNECTION_ALREADY_EXISTS);
  if (c.classic.pages.has(key(addr)) || c.classic.incoming.has(key(addr))) return c.status(cmd, DISALLOWED);
  c.status(cmd, OK);
  const page: Page = { addr, allow_role_switch: allow, timeout: null, retry: null, target: null };
  c.classic.pages.set(key(addr), page);
  page.timeout = c.after(c.page_timeout * 0.625, () => pageFail(c, page, C.ERROR_CODE_PAGE_TIMEOUT));
  page.retry = c.after(c.link.page_ms, () => pageTry(c, page));
};

const createConnectionCancel: Handler = (c, a, cmd) => {
  const addr = a[0] as BdAddr;
  const page = c.classic.pages.get(key(addr));
  if (!page) {
    const st = c.classic_end(addr) ? C.ERROR_CODE_ACL_CONNECTION_ALREADY_EXISTS : UNKNOWN_CONN;
    return c.complete(cmd, st, addr);
  }
  c.complete(cmd, OK, addr);
  if (page.target) page.target.classic.withdraw(c, UNKNOWN_CONN);
  pageFail(c, page, UNKNOWN_CONN);
};

const acceptConnection: Handler = (c, a, cmd) => {
  const addr = a[0] as BdAddr;
  const role = n(a, 1);
  const inc = c.classic.incoming.get(key(addr));
  if (!inc) return c.status(cmd, UNKNOWN_CONN);
  if (role > 1) return c.status(cmd, INVALID);
  c.status(cmd, OK);
  accept(c, inc, role);
};

const rejectConnection: Handler = (c, a, cmd) => {
  const addr = a[0] as BdAddr;
  const reason = n(a, 1);
  const inc = c.classic.incoming.get(key(addr));
  if (!inc) return c.status(cmd, UNKNOWN_CONN);
  if (reason < 0x0d || reason > 0x0f) return c.status(cmd, INVALID);
  c.status(cmd, OK);
  c.cancel(inc.timer);
  c.classic.incoming.delete(key(addr));
  c.after(c.link.latency_ms, () => {
    c.ev.connection_complete(reason, 0x0000, addr, ACL_LINK, 0);
    const from = inc.from;
    if (from.generation === inc.from_gen && from.classic.pages.get(key(inc.page.addr)) === inc.page) {
      pageFail(from, inc.page, reason);
    }
  });
};

// ------------------------------------------------------------------ disconnect

const DISCONNECT_REASONS = new Set([0x05, 0x13, 0x14, 0x15, 0x1a, 0x29, 0x3b]);

const disconnect: Handler = (c, a, cmd) => {
  const end = c.connections.get(n(a, 0));
  const reason = n(a, 1);
  if (!end) return c.status(cmd, UNKNOWN_CONN);
  if (!DISCONNECT_REASONS.has(reason)) return c.status(cmd, INVALID);
  c.status(cmd, OK);
  const air = end.air;
  if (air.lost) {
    // the peer cannot hear LMP_detach / LL_TERMINATE_IND: only this side ends now
    c.after(c.link.latency_ms, () => {
      if (!end.present) return;
      air.pipe_from(end).flush();
      end.present = false;
      end.completed = 0;
      c.connection_closed(end, C.ERROR_CODE_CONNECTION_TERMINATED_BY_LOCAL_HOST);
    });
    return;
  }
  air.lmp(() => {
    const local = C.ERROR_CODE_CONNECTION_TERMINATED_BY_LOCAL_HOST;
    if (end === air.central) air.disconnect(local, reason);
    else air.disconnect(reason, local);
  });
};

// ------------------------------------------------------------------ remote information

function classicConn(c: VirtualController, a: HciArg[]): LinkEnd | undefined {
  const end = c.connections.get(n(a, 0));
  return end && end.air.kind === 'classic' ? end : undefined;
}

const readRemoteFeatures: Handler = (c, a, cmd) => {
  const end = classicConn(c, a);
  if (!end) return c.status(cmd, UNKNOWN_CONN);
  c.status(cmd, OK);
  end.air.after(2 * end.air.latency_ms, () => {
    c.ev.read_remote_supported_features_complete(OK, end.handle, end.peer.controller.lmp_features_page0);
  });
};

const readRemoteExtendedFeatures: Handler = (c, a, cmd) => {
  const end = classicConn(c, a);
  const page = n(a, 1);
  if (!end) return c.status(cmd, UNKNOWN_CONN);
  if (page > LMP_MAX_PAGE) return c.status(cmd, INVALID);
  c.status(cmd, OK);
  end.air.after(2 * end.air.latency_ms, () => {
    const features = end.peer.controller.lmp_features(page) ?? new Uint8Array(8);
    c.ev.read_remote_extended_features_complete(OK, end.handle, page, LMP_MAX_PAGE, features);
  });
};

const readRemoteVersion: Handler = (c, a, cmd) => {
  const end = c.connections.get(n(a, 0));
  if (!end) return c.status(cmd, UNKNOWN_CONN);
  c.status(cmd, OK);
  end.air.after(2 * end.air.latency_ms, () => {
    const f = end.peer.controller.config;
    c.ev.read_remote_version_information_complete(OK, end.handle, f.lmp_version, f.manufacturer, f.lmp_subversion);
  });
};

const remoteNameRequest: Handler = (c, a, cmd) => {
  const addr = a[0] as BdAddr;
  const k = key(addr);
  if (c.classic.name_requests.has(k)) return c.status(cmd, DISALLOWED);
  c.status(cmd, OK);
  const connected = c.classic_end(addr);
  if (connected && connected.air.lost) {
    // LMP_name_req on a link that carries nothing: no name through it. The request ends with
    // the link (supervision timeout: 0x08) or at the LMP response timeout (0x22), if sooner.
    const left = connected.air.ends_in_ms();
    const ms = Math.min(left, LMP_RESPONSE_TIMEOUT_MS);
    const st = left <= LMP_RESPONSE_TIMEOUT_MS ? C.ERROR_CODE_CONNECTION_TIMEOUT : C.ERROR_CODE_LMP_RESPONSE_TIMEOUT_LL_RESPONSE_TIMEOUT;
    c.classic.name_requests.set(k, c.after(ms, () => {
      c.classic.name_requests.delete(k);
      c.ev.remote_name_request_complete(st, addr, new Uint8Array(0));
    }));
    return;
  }
  const finish = (): void => {
    c.classic.name_requests.delete(k);
    const peer = connected ? connected.peer.controller : pageScanning(c, addr);
    if (!peer) {
      c.ev.remote_name_request_complete(C.ERROR_CODE_PAGE_TIMEOUT, addr, new Uint8Array(0));
      return;
    }
    if (!connected) c.ev.remote_host_supported_features(addr, peer.host_features());
    c.ev.remote_name_request_complete(OK, addr, peer.name);
  };
  const ms = connected ? 2 * connected.air.latency_ms : pageScanning(c, addr) ? c.link.page_ms : c.page_timeout * 0.625;
  c.classic.name_requests.set(k, c.after(ms, finish));
};

const remoteNameRequestCancel: Handler = (c, a, cmd) => {
  const addr = a[0] as BdAddr;
  const t = c.classic.name_requests.get(key(addr));
  if (!t) return c.complete(cmd, UNKNOWN_CONN, addr);
  c.cancel(t);
  c.classic.name_requests.delete(key(addr));
  c.complete(cmd, OK, addr);
  c.ev.remote_name_request_complete(UNKNOWN_CONN, addr, new Uint8Array(0));
};

// ------------------------------------------------------------------ link policy, roles, modes

const roleDiscovery: Handler = (c, a, cmd) => {
  const end = c.connections.get(n(a, 0));
  if (!end) return c.fail(cmd, UNKNOWN_CONN);
  c.complete(cmd, OK, end.handle, end.role);
};

const switchRole: Handler = (c, a, cmd) => {
  const addr = a[0] as BdAddr;
  const role = n(a, 1);
  const end = c.classic_end(addr);
  if (!end) return c.status(cmd, UNKNOWN_CONN);
  if (role > 1) return c.status(cmd, INVALID);
  if (end.role === role) return c.status(cmd, DISALLOWED);
  c.status(cmd, OK);
  const air = end.air;
  air.after(2 * air.latency_ms, () => {
    if ((end.peer.link_policy & 0x01) === 0) {
      c.ev.role_change(C.ERROR_CODE_ROLE_CHANGE_NOT_ALLOWED, addr, end.role);
      return;
    }
    const oldCentral = air.central;
    const oldPeripheral = air.peripheral;
    const ca = air.central_addr;
    air.central_addr = air.peripheral_addr;
    air.peripheral_addr = ca;
    air.attach(oldPeripheral, oldCentral);
    oldCentral.role = 1;
    oldPeripheral.role = 0;
    for (const e of [end, end.peer]) e.controller.ev.role_change(OK, e.peer_addr, e.role);
  });
};

const writeLinkPolicy: Handler = (c, a, cmd) => {
  const end = c.connections.get(n(a, 0));
  if (!end || end.air.kind !== 'classic') return c.fail(cmd, UNKNOWN_CONN);
  if (n(a, 1) > 0x000f) return c.fail(cmd, INVALID);
  end.link_policy = n(a, 1);
  c.complete(cmd, OK, end.handle);
};

const sniffMode: Handler = (c, a, cmd) => {
  const end = classicConn(c, a);
  const [, max, min, attempt, timeout] = a as number[];
  if (!end) return c.status(cmd, UNKNOWN_CONN);
  if (min! < 0x0002 || max! > 0xfffe || min! > max! || (min! & 1) || (max! & 1) || attempt! < 1 || attempt! > 0x7fff || timeout! > 0x7fff) {
    return c.status(cmd, INVALID);
  }
  if (end.mode !== 0) return c.status(cmd, DISALLOWED);
  if ((end.link_policy & 0x04) === 0) return c.status(cmd, DISALLOWED);
  c.status(cmd, OK);
  end.mode = 2;
  end.peer.mode = 2;
  end.air.after(2 * end.air.latency_ms, () => {
    for (const e of [end, end.peer]) e.controller.ev.mode_change(OK, e.handle, 0x02, max!);
  });
};

const exitSniffMode: Handler = (c, a, cmd) => {
  const end = classicConn(c, a);
  if (!end) return c.status(cmd, UNKNOWN_CONN);
  if (end.mode !== 2) return c.status(cmd, DISALLOWED);
  c.status(cmd, OK);
  end.mode = 0;
  end.peer.mode = 0;
  end.air.after(2 * end.air.latency_ms, () => {
    for (const e of [end, end.peer]) e.controller.ev.mode_change(OK, e.handle, 0x00, 0);
  });
};

const writeSupervisionTimeout: Handler = (c, a, cmd) => {
  const end = classicConn(c, a);
  if (!end) return c.fail(cmd, UNKNOWN_CONN);
  const v = n(a, 1);
  if (v !== 0 && v < 0x0001) return c.fail(cmd, INVALID);
  end.air.supervision_timeout = v === 0 ? Infinity : v;
  c.complete(cmd, OK, end.handle);
};

export const CLASSIC_HANDLERS: ReadonlyArray<readonly [HciCommand, Handler]> = [
  [K.hci_inquiry, inquiry],
  [K.hci_inquiry_cancel, inquiryCancel],
  [K.hci_create_connection, createConnection],
  [K.hci_create_connection_cancel, createConnectionCancel],
  [K.hci_accept_connection_request, acceptConnection],
  [K.hci_reject_connection_request, rejectConnection],
  [K.hci_disconnect, disconnect],
  [K.hci_remote_name_request, remoteNameRequest],
  [K.hci_remote_name_request_cancel, remoteNameRequestCancel],
  [K.hci_read_remote_supported_features, readRemoteFeatures],
  [K.hci_read_remote_extended_features, readRemoteExtendedFeatures],
  [K.hci_read_remote_version_information, readRemoteVersion],
  [K.hci_role_discovery, roleDiscovery],
  [K.hci_switch_role, switchRole],
  [K.hci_write_link_policy_settings, writeLinkPolicy],
  [K.hci_sniff_mode, sniffMode],
  [K.hci_exit_sniff_mode, exitSniffMode],
  [K.hci_write_link_supervision_timeout, writeSupervisionTimeout],
  [K.hci_read_link_supervision_timeout, (c, a, cmd) => {
    const end = classicConn(c, a);
    if (!end) return c.fail(cmd, UNKNOWN_CONN);
    const v = end.air.supervision_timeout;
    c.complete(cmd, OK, end.handle, Number.isFinite(v) ? v : 0);
  }],
  [K.hci_read_link_policy_settings, (c, a, cmd) => {
    const end = classicConn(c, a);
    if (!end) return c.fail(cmd, UNKNOWN_CONN);
    c.complete(cmd, OK, end.handle, end.link_policy);
  }],
];
