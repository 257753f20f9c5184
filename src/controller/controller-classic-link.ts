/**
 * BR/EDR link information and link management: remote name (also without a connection, by
 * paging), remote features and version, role discovery and switch, link policy, sniff mode and
 * the link supervision timeout. Answers from the peer take one LMP round trip (2 x latency).
 */
import type { BdAddr } from '../core/bytes.js';
import * as K from '../hci/commands.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import type { LinkEnd } from './air.js';
import * as C from './codes.js';
import type { CommandReply, CommandTable } from './controller-commands.js';
import { addr_key as key, type ControllerState } from './controller-state.js';
import { LMP_MAX_PAGE } from './defs.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
const DISALLOWED = C.ERROR_CODE_COMMAND_DISALLOWED;
const UNKNOWN_CONN = C.ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
/** LMP response timeout, 30 s (error 0x22, Vol 1 Part F 2.34): a peer that never answers. */
const LMP_RESPONSE_TIMEOUT_MS = 30_000;

const n = (a: HciArg[], i: number): number => a[i] as number;

export interface ClassicLinkPeers {
  reply: CommandReply;
}

export class ControllerClassicLink {
  private readonly r: CommandReply;

  constructor(
    private readonly s: ControllerState,
    x: ClassicLinkPeers,
  ) {
    this.r = x.reply;
  }

  static readonly COMMANDS: CommandTable<ControllerClassicLink> = [
    [K.hci_remote_name_request, (x, a, cmd) => x.remoteNameRequest(a, cmd)],
    [K.hci_remote_name_request_cancel, (x, a, cmd) => x.remoteNameRequestCancel(a, cmd)],
    [K.hci_read_remote_supported_features, (x, a, cmd) => x.readRemoteFeatures(a, cmd)],
    [K.hci_read_remote_extended_features, (x, a, cmd) => x.readRemoteExtendedFeatures(a, cmd)],
    [K.hci_read_remote_version_information, (x, a, cmd) => x.readRemoteVersion(a, cmd)],
    [
      K.hci_role_discovery,
      (x, a, cmd) => {
        const end = x.s.connections.get(n(a, 0));
        if (!end) return x.r.fail(cmd, UNKNOWN_CONN);
        x.r.complete(cmd, OK, end.handle, end.role);
      },
    ],
    [K.hci_switch_role, (x, a, cmd) => x.switchRole(a, cmd)],
    [
      K.hci_write_link_policy_settings,
      (x, a, cmd) => {
        const end = x.s.connections.get(n(a, 0));
        if (!end || end.air.kind !== 'classic') return x.r.fail(cmd, UNKNOWN_CONN);
        if (n(a, 1) > 0x000f) return x.r.fail(cmd, INVALID);
        end.link_policy = n(a, 1);
        x.r.complete(cmd, OK, end.handle);
      },
    ],
    [K.hci_sniff_mode, (x, a, cmd) => x.sniffMode(a, cmd)],
    [K.hci_exit_sniff_mode, (x, a, cmd) => x.exitSniffMode(a, cmd)],
    [
      K.hci_write_link_supervision_timeout,
      (x, a, cmd) => {
        const end = x.classicConn(a);
        if (!end) return x.r.fail(cmd, UNKNOWN_CONN);
        const v = n(a, 1);
        if (v !== 0 && v < 0x0001) return x.r.fail(cmd, INVALID);
        end.air.supervision_timeout = v === 0 ? Infinity : v;
        x.r.complete(cmd, OK, end.handle);
      },
    ],
    [
      K.hci_read_link_supervision_timeout,
      (x, a, cmd) => {
        const end = x.classicConn(a);
        if (!end) return x.r.fail(cmd, UNKNOWN_CONN);
        const v = end.air.supervision_timeout;
        x.r.complete(cmd, OK, end.handle, Number.isFinite(v) ? v : 0);
      },
    ],
    [
      K.hci_read_link_policy_settings,
      (x, a, cmd) => {
        const end = x.classicConn(a);
        if (!end) return x.r.fail(cmd, UNKNOWN_CONN);
        x.r.complete(cmd, OK, end.handle, end.link_policy);
      },
    ],
  ];

  /** The classic connection of the command's handle (first parameter). */
  private classicConn(a: HciArg[]): LinkEnd | undefined {
    return this.s.end_of(n(a, 0), 'classic');
  }

  // ------------------------------------------------------------------ remote information

  private readRemoteFeatures(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const end = this.classicConn(a);
    if (!end) return this.r.status(cmd, UNKNOWN_CONN);
    this.r.status(cmd, OK);
    end.air.after(2 * end.air.latency_ms, () => {
      s.ev.read_remote_supported_features_complete(OK, end.handle, end.peer.controller.lmp_features_page0);
    });
  }

  private readRemoteExtendedFeatures(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const end = this.classicConn(a);
    const page = n(a, 1);
    if (!end) return this.r.status(cmd, UNKNOWN_CONN);
    if (page > LMP_MAX_PAGE) return this.r.status(cmd, INVALID);
    this.r.status(cmd, OK);
    end.air.after(2 * end.air.latency_ms, () => {
      const features = end.peer.controller.lmp_features(page) ?? new Uint8Array(8);
      s.ev.read_remote_extended_features_complete(OK, end.handle, page, LMP_MAX_PAGE, features);
    });
  }

  private readRemoteVersion(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const end = s.connections.get(n(a, 0));
    if (!end) return this.r.status(cmd, UNKNOWN_CONN);
    this.r.status(cmd, OK);
    end.air.after(2 * end.air.latency_ms, () => {
      const f = end.peer.controller.config;
      s.ev.read_remote_version_information_complete(OK, end.handle, f.lmp_version, f.manufacturer, f.lmp_subversion);
    });
  }

  private remoteNameRequest(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const addr = a[0] as BdAddr;
    const k = key(addr);
    if (s.classic.name_requests.has(k)) return this.r.status(cmd, DISALLOWED);
    this.r.status(cmd, OK);
    const connected = s.classic_end(addr);
    if (connected && connected.air.lost) {
      // LMP_name_req on a link that carries nothing: no name through it. The request ends with
      // the link (supervision timeout: 0x08) or at the LMP response timeout (0x22), if sooner.
      const left = connected.air.ends_in_ms();
      const ms = Math.min(left, LMP_RESPONSE_TIMEOUT_MS);
      const st =
        left <= LMP_RESPONSE_TIMEOUT_MS ? C.ERROR_CODE_CONNECTION_TIMEOUT : C.ERROR_CODE_LMP_RESPONSE_TIMEOUT_LL_RESPONSE_TIMEOUT;
      s.classic.name_requests.set(
        k,
        s.after(ms, () => {
          s.classic.name_requests.delete(k);
          s.ev.remote_name_request_complete(st, addr, new Uint8Array(0));
        }),
      );
      return;
    }
    const finish = (): void => {
      s.classic.name_requests.delete(k);
      const peer = connected ? connected.peer.controller : s.page_scanning(addr);
      if (!peer) {
        s.ev.remote_name_request_complete(C.ERROR_CODE_PAGE_TIMEOUT, addr, new Uint8Array(0));
        return;
      }
      if (!connected) s.ev.remote_host_supported_features(addr, peer.host_features());
      s.ev.remote_name_request_complete(OK, addr, peer.name);
    };
    const ms = connected ? 2 * connected.air.latency_ms : s.page_scanning(addr) ? s.link.page_ms : s.page_timeout * 0.625;
    s.classic.name_requests.set(k, s.after(ms, finish));
  }

  private remoteNameRequestCancel(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const addr = a[0] as BdAddr;
    const t = s.classic.name_requests.get(key(addr));
    if (!t) return this.r.complete(cmd, UNKNOWN_CONN, addr);
    s.cancel(t);
    s.classic.name_requests.delete(key(addr));
    this.r.complete(cmd, OK, addr);
    s.ev.remote_name_request_complete(UNKNOWN_CONN, addr, new Uint8Array(0));
  }

  // ------------------------------------------------------------------ roles and modes

  private switchRole(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const addr = a[0] as BdAddr;
    const role = n(a, 1);
    const end = s.classic_end(addr);
    if (!end) return this.r.status(cmd, UNKNOWN_CONN);
    if (role > 1) return this.r.status(cmd, INVALID);
    if (end.role === role) return this.r.status(cmd, DISALLOWED);
    this.r.status(cmd, OK);
    const air = end.air;
    air.after(2 * air.latency_ms, () => {
      if ((end.peer.link_policy & 0x01) === 0) {
        s.ev.role_change(C.ERROR_CODE_ROLE_CHANGE_NOT_ALLOWED, addr, end.role);
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
  }

  private sniffMode(a: HciArg[], cmd: HciCommand): void {
    const end = this.classicConn(a);
    const [, max, min, attempt, timeout] = a as number[];
    if (!end) return this.r.status(cmd, UNKNOWN_CONN);
    if (
      min! < 0x0002 ||
      max! > 0xfffe ||
      min! > max! ||
      min! & 1 ||
      max! & 1 ||
      attempt! < 1 ||
      attempt! > 0x7fff ||
      timeout! > 0x7fff
    ) {
      return this.r.status(cmd, INVALID);
    }
    if (end.mode !== 0) return this.r.status(cmd, DISALLOWED);
    if ((end.link_policy & 0x04) === 0) return this.r.status(cmd, DISALLOWED);
    this.r.status(cmd, OK);
    end.mode = 2;
    end.peer.mode = 2;
    end.air.after(2 * end.air.latency_ms, () => {
      for (const e of [end, end.peer]) e.controller.ev.mode_change(OK, e.handle, 0x02, max!);
    });
  }

  private exitSniffMode(a: HciArg[], cmd: HciCommand): void {
    const end = this.classicConn(a);
    if (!end) return this.r.status(cmd, UNKNOWN_CONN);
    if (end.mode !== 2) return this.r.status(cmd, DISALLOWED);
    this.r.status(cmd, OK);
    end.mode = 0;
    end.peer.mode = 0;
    end.air.after(2 * end.air.latency_ms, () => {
      for (const e of [end, end.peer]) e.controller.ev.mode_change(OK, e.handle, 0x00, 0);
    });
  }
}
