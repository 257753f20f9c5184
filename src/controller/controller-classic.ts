/**
 * BR/EDR procedures: inquiry, paging (Create Connection, Connection Request, Accept / Reject) and
 * disconnection. (Remote name, features, version, roles, link policy and sniff are in
 * controller-classic-link.ts.)
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
 *
 * The pager and the paged device are two controllers: each side's part runs in its own
 * component, reached through the peer's `ops` (page_arrived, page_withdrawn, page_failed).
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';
import * as K from '../hci/commands.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import { AirLink, join_controllers, type LinkEnd } from './air.js';
import * as C from './codes.js';
import type { CommandReply, CommandTable } from './controller-commands.js';
import { addr_key as key, type ControllerState, type Incoming, type Inquiry, type Page } from './controller-state.js';
import { LAP_MAX, LAP_MIN } from './defs.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
const DISALLOWED = C.ERROR_CODE_COMMAND_DISALLOWED;
const UNKNOWN_CONN = C.ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
const ALREADY_EXISTS = C.ERROR_CODE_ACL_CONNECTION_ALREADY_EXISTS;
const ACL_LINK = 0x01;
const PSRM_R1 = 0x01;
const DISCONNECT_REASONS = new Set([0x05, 0x13, 0x14, 0x15, 0x1a, 0x29, 0x3b]);

const n = (a: HciArg[], i: number): number => a[i] as number;

/** Whether `page` of `from` is still the one it runs (no reset, cancel or completion since). */
function pageLive(from: ControllerState, gen: number, page: Page): boolean {
  return from.generation === gen && from.classic.pages.get(key(page.addr)) === page;
}

export interface ClassicPeers {
  reply: CommandReply;
  /** This end of a connection is gone (no peer to tell): Disconnection Complete to the host. */
  connection_closed(end: LinkEnd, reason: number): void;
}

export class ControllerClassic {
  private readonly r: CommandReply;

  constructor(
    private readonly s: ControllerState,
    private readonly x: ClassicPeers,
  ) {
    this.r = x.reply;
  }

  static readonly COMMANDS: CommandTable<ControllerClassic> = [
    [K.hci_inquiry, (x, a, cmd) => x.inquiry(a, cmd)],
    [K.hci_inquiry_cancel, (x, _a, cmd) => x.inquiryCancel(cmd)],
    [K.hci_create_connection, (x, a, cmd) => x.createConnection(a, cmd)],
    [K.hci_create_connection_cancel, (x, a, cmd) => x.createConnectionCancel(a, cmd)],
    [K.hci_accept_connection_request, (x, a, cmd) => x.acceptConnection(a, cmd)],
    [K.hci_reject_connection_request, (x, a, cmd) => x.rejectConnection(a, cmd)],
    [K.hci_disconnect, (x, a, cmd) => x.disconnect(a, cmd)],
  ];

  /** HCI Reset: the peers holding our Connection Requests learn that the page is gone. */
  reset(): void {
    for (const p of this.s.classic.pages.values()) {
      if (p.target) p.target.ops.page_withdrawn(this.s, C.ERROR_CODE_CONNECTION_TIMEOUT);
    }
  }

  // ------------------------------------------------------------------ inquiry

  private inquiryMatches(peer: ControllerState): boolean {
    const filters = this.s.inquiry_filters;
    if (filters.length === 0) return true;
    return filters.some((f) => {
      if (f.type === 0) return true;
      if (f.type === 1) return (peer.class_of_device & f.mask) === (f.cod & f.mask);
      return f.addr !== null && bd_addr_cmp(f.addr, peer.bd_addr) === 0;
    });
  }

  /**
   * The response `peer` sends to our inquiry. In mode 2 the EIR is exactly what peer's host
   * wrote with Write Extended Inquiry Response (all zero after reset when it wrote none): a
   * controller never makes an EIR of its own, so a host that wants names without EIR asks with
   * Remote Name Request.
   */
  private report(peer: ControllerState): void {
    const s = this.s;
    const link = s.link;
    const rssi = link.rssi(s, peer) & 0xff;
    const co = link.clock_offset(peer);
    if (s.inquiry_mode === 0) s.ev.inquiry_result(peer.bd_addr, PSRM_R1, peer.class_of_device, co);
    else if (s.inquiry_mode === 1) s.ev.inquiry_result_with_rssi(peer.bd_addr, PSRM_R1, peer.class_of_device, co, rssi);
    else s.ev.extended_inquiry_result(peer.bd_addr, PSRM_R1, peer.class_of_device, co, rssi, peer.eir);
  }

  private inquiryTick(): void {
    const s = this.s;
    const inq = s.classic.inquiry;
    if (!inq) return;
    inq.tick = null;
    const peer = s.link.controllers
      .map((c) => c.state)
      .find(
        (p) =>
          p !== s &&
          !p.powered_off &&
          (p.scan_enable & 0x01) !== 0 &&
          p.current_iacs.includes(inq.lap) &&
          !inq.reported.has(p) &&
          this.inquiryMatches(p),
      );
    if (peer) {
      inq.reported.add(peer);
      this.report(peer);
      inq.count++;
      if (inq.max !== 0 && inq.count >= inq.max) {
        s.cancel(inq.end);
        s.classic.inquiry = null;
        s.ev.inquiry_complete(OK);
        return;
      }
    }
    inq.tick = s.after(s.link.inquiry_response_ms, () => this.inquiryTick());
  }

  private inquiry(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const lap = n(a, 0);
    const len = n(a, 1);
    if (lap < LAP_MIN || lap > LAP_MAX || len < 0x01 || len > 0x30) return this.r.status(cmd, INVALID);
    if (s.classic.inquiry) return this.r.status(cmd, DISALLOWED);
    this.r.status(cmd, OK);
    const inq: Inquiry = {
      lap,
      max: n(a, 2),
      count: 0,
      reported: new Set(),
      end: s.after(len * 1280, () => {
        if (inq.tick) s.cancel(inq.tick);
        s.classic.inquiry = null;
        s.ev.inquiry_complete(OK);
      }),
      tick: null,
    };
    s.classic.inquiry = inq;
    inq.tick = s.after(s.link.inquiry_response_ms, () => this.inquiryTick());
  }

  private inquiryCancel(cmd: HciCommand): void {
    const s = this.s;
    const inq = s.classic.inquiry;
    if (!inq) return this.r.complete(cmd, DISALLOWED);
    s.cancel(inq.end);
    s.cancel(inq.tick);
    s.classic.inquiry = null;
    this.r.complete(cmd, OK);
  }

  // ------------------------------------------------------------------ paging: the pager's side

  /** Our page ends with `status` (Connection Complete to our host). */
  page_failed(page: Page, status: number): void {
    const s = this.s;
    s.cancel(page.timeout);
    s.cancel(page.retry);
    s.classic.pages.delete(key(page.addr));
    s.ev.connection_complete(status, 0x0000, page.addr, ACL_LINK, 0);
  }

  private pageTry(page: Page): void {
    const s = this.s;
    page.retry = null;
    const t = s.page_scanning(page.addr);
    if (!t) {
      page.retry = s.after(Math.max(s.link.page_ms, 20), () => this.pageTry(page));
      return;
    }
    s.cancel(page.timeout);
    page.timeout = null;
    page.target = t;
    t.ops.page_arrived(s, page);
  }

  private createConnection(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const addr = a[0] as BdAddr;
    const allow = n(a, 5);
    if (allow > 1) return this.r.status(cmd, INVALID);
    if (s.classic_end(addr)) return this.r.status(cmd, C.ERROR_CODE_ACL_CONNECTION_ALREADY_EXISTS);
    if (s.classic.pages.has(key(addr)) || s.classic.incoming.has(key(addr))) return this.r.status(cmd, DISALLOWED);
    this.r.status(cmd, OK);
    const page: Page = { addr, allow_role_switch: allow, timeout: null, retry: null, target: null };
    s.classic.pages.set(key(addr), page);
    page.timeout = s.after(s.page_timeout * 0.625, () => this.page_failed(page, C.ERROR_CODE_PAGE_TIMEOUT));
    page.retry = s.after(s.link.page_ms, () => this.pageTry(page));
  }

  private createConnectionCancel(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const addr = a[0] as BdAddr;
    const page = s.classic.pages.get(key(addr));
    if (!page) {
      const st = s.classic_end(addr) ? C.ERROR_CODE_ACL_CONNECTION_ALREADY_EXISTS : UNKNOWN_CONN;
      return this.r.complete(cmd, st, addr);
    }
    this.r.complete(cmd, OK, addr);
    if (page.target) page.target.ops.page_withdrawn(s, UNKNOWN_CONN);
    this.page_failed(page, UNKNOWN_CONN);
  }

  // ------------------------------------------------------------------ paging: the paged side

  /** The page from `from` stopped before our host answered: report it and forget it. */
  page_withdrawn(from: ControllerState, status: number): void {
    const s = this.s;
    const k = key(from.bd_addr);
    const inc = s.classic.incoming.get(k);
    if (!inc || inc.from !== from) return;
    s.cancel(inc.timer);
    s.classic.incoming.delete(k);
    s.ev.connection_complete(status, 0x0000, from.bd_addr, ACL_LINK, 0);
  }

  /** The page from `from` reached us: refuse a second ACL, apply connection filters or ask our host. */
  page_arrived(from: ControllerState, page: Page): void {
    const t = this.s;
    if (t.classic_end(from.bd_addr)) {
      // our link manager answers LMP_host_connection_req with LMP_not_accepted (0x0B); our host
      // is not asked, its link to `from` (stale until the supervision timeout) stays the only one
      page.target = null;
      const gen = from.generation;
      from.after(t.link.latency_ms, () => {
        if (pageLive(from, gen, page)) from.ops.page_failed(page, ALREADY_EXISTS);
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
        if (pageLive(from, inc.from_gen, page)) from.ops.page_failed(page, C.ERROR_CODE_CONNECTION_ACCEPT_TIMEOUT_EXCEEDED);
      }),
    };
    t.classic.incoming.set(k, inc);
    if (filter && filter.auto >= 0x02) {
      this.accept(inc, filter.auto === 0x03 ? 0x00 : 0x01);
      return;
    }
    t.ev.connection_request(from.bd_addr, from.class_of_device, ACL_LINK);
  }

  /** Our host accepted (role 0: become central, 1: stay peripheral). */
  private accept(inc: Incoming, role: number): void {
    const t = this.s;
    t.cancel(inc.timer);
    t.classic.incoming.delete(key(inc.from.bd_addr));
    const from = inc.from;
    const page = inc.page;
    t.after(t.link.latency_ms, () => {
      if (!pageLive(from, inc.from_gen, page)) {
        t.ev.connection_complete(C.ERROR_CODE_CONNECTION_TIMEOUT, 0, from.bd_addr, ACL_LINK, 0);
        return;
      }
      if (t.classic_end(from.bd_addr) || from.classic_end(t.bd_addr)) {
        // the two formed an ACL meanwhile (pages crossed): no second one
        from.ops.page_failed(page, ALREADY_EXISTS);
        t.ev.connection_complete(ALREADY_EXISTS, 0, from.bd_addr, ACL_LINK, 0);
        return;
      }
      from.cancel(page.retry);
      from.classic.pages.delete(key(page.addr));
      const switched = role === 0x00 && page.allow_role_switch === 0x01;
      const central = switched ? t : from;
      const peripheral = switched ? from : t;
      const air = new AirLink(t.run_loop, {
        kind: 'classic',
        latency_ms: t.link.latency_ms,
        bandwidth_bps: t.link.bandwidth_bps,
      });
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

  private acceptConnection(a: HciArg[], cmd: HciCommand): void {
    const addr = a[0] as BdAddr;
    const role = n(a, 1);
    const inc = this.s.classic.incoming.get(key(addr));
    if (!inc) return this.r.status(cmd, UNKNOWN_CONN);
    if (role > 1) return this.r.status(cmd, INVALID);
    this.r.status(cmd, OK);
    this.accept(inc, role);
  }

  private rejectConnection(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const addr = a[0] as BdAddr;
    const reason = n(a, 1);
    const inc = s.classic.incoming.get(key(addr));
    if (!inc) return this.r.status(cmd, UNKNOWN_CONN);
    if (reason < 0x0d || reason > 0x0f) return this.r.status(cmd, INVALID);
    this.r.status(cmd, OK);
    s.cancel(inc.timer);
    s.classic.incoming.delete(key(addr));
    s.after(s.link.latency_ms, () => {
      s.ev.connection_complete(reason, 0x0000, addr, ACL_LINK, 0);
      const from = inc.from;
      if (pageLive(from, inc.from_gen, inc.page)) from.ops.page_failed(inc.page, reason);
    });
  }

  // ------------------------------------------------------------------ disconnect

  private disconnect(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const end = s.connections.get(n(a, 0));
    const reason = n(a, 1);
    if (!end) return this.r.status(cmd, UNKNOWN_CONN);
    if (!DISCONNECT_REASONS.has(reason)) return this.r.status(cmd, INVALID);
    this.r.status(cmd, OK);
    const air = end.air;
    if (air.lost) {
      // the peer cannot hear LMP_detach / LL_TERMINATE_IND: only this side ends now
      s.after(s.link.latency_ms, () => {
        if (!end.present) return;
        air.pipe_from(end).flush();
        end.present = false;
        end.completed = 0;
        this.x.connection_closed(end, C.ERROR_CODE_CONNECTION_TERMINATED_BY_LOCAL_HOST);
      });
      return;
    }
    air.lmp(() => {
      const local = C.ERROR_CODE_CONNECTION_TERMINATED_BY_LOCAL_HOST;
      if (end === air.central) air.disconnect(local, reason);
      else air.disconnect(reason, local);
    });
  }
}
