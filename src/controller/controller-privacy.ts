/**
 * LL Privacy of the virtual controller (Core Vol 4 Part E 7.8.38-7.8.45, 7.8.77; Vol 6 Part B 6.9):
 * the resolving list (peer identity address, peer IRK, local IRK, privacy mode), address
 * resolution on or off, the RPA timeout, and the resolution itself: with resolution enabled, a
 * peer's resolvable private address (top bits 01) whose hash ah(IRK, prand) matches an entry's
 * peer IRK is reported by its identity address with address type 0x02 / 0x03 (advertising reports,
 * LE Enhanced Connection Complete with the RPA beside it); in Network Privacy Mode (the default) a
 * listed peer with a non-zero IRK is not accepted under its identity address (its advertising is
 * ignored), in Device Privacy Mode it is. The rules of the commands: Command Disallowed while
 * resolution is enabled and advertising, scanning or an LE Create Connection is under way (Set
 * Address Resolution Enable: while any of them is, whatever the setting), Memory Capacity Exceeded
 * when full, Invalid Parameters for a second entry with the same identity or the same non-zero peer
 * IRK, Unknown Connection Identifier for an identity not in the list.
 *
 * Not modelled: the controller making local RPAs from the local IRK (own address types 0x02 / 0x03
 * use the public / random address; Read Local Resolvable Address answers zeros), the RPA timeout
 * driving anything, resolution by the advertiser of a scanner's or initiator's RPA in directed
 * advertising and its filter policy. A controller made with `resolving_list_size: 0` has no LL
 * Privacy: these commands are unknown, their Supported_Commands bits and the LE feature bit are off.
 */
import { bd_addr_cmp, type BdAddr } from '../core/bytes.js';
import * as K from '../hci/commands.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import * as C from './codes.js';
import type { CommandReply, CommandTable } from './controller-commands.js';
import { le_encrypt } from './controller-security.js';
import type { ControllerState } from './controller-state.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
const DISALLOWED = C.ERROR_CODE_COMMAND_DISALLOWED;
const UNKNOWN_ID = C.ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
const FULL = C.ERROR_CODE_MEMORY_CAPACITY_EXCEEDED;

/** RPA timeout range (7.8.45): 1 s .. 1 hour, default 900 s. */
const RPA_TIMEOUT_MIN = 0x0001;
const RPA_TIMEOUT_MAX = 0x0e10;
const RPA_TIMEOUT_DEFAULT = 0x0384;

export const PRIVACY_MODE_NETWORK = 0;
export const PRIVACY_MODE_DEVICE = 1;

export interface ResolvingListEntry {
  /** Peer identity address type: 0 public, 1 random (static). */
  id_type: number;
  id_addr: BdAddr;
  /** IRKs as the host sent them: least significant octet first. */
  peer_irk: Uint8Array;
  local_irk: Uint8Array;
  privacy_mode: number;
  /** The last resolvable private address resolved to this peer (zeros: none yet). */
  peer_rpa: BdAddr;
}

/** The resolving list and its settings (reset by HCI Reset). */
export class ResolvingList {
  readonly entries: ResolvingListEntry[] = [];
  enabled = false;
  rpa_timeout = RPA_TIMEOUT_DEFAULT;

  reset(): void {
    this.entries.length = 0;
    this.enabled = false;
    this.rpa_timeout = RPA_TIMEOUT_DEFAULT;
  }

  find(type: number, addr: BdAddr): ResolvingListEntry | undefined {
    return this.entries.find((e) => e.id_type === type && bd_addr_cmp(e.id_addr, addr) === 0);
  }
}

const zero = (v: Uint8Array): boolean => v.every((b) => b === 0);
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Whether `addr` (display order) is a resolvable private address made from `irk_le` (least
 * significant octet first): top bits 01 and hash = ah(IRK, prand) (Vol 3 Part H 2.2.2), with
 * the controller's own AES (LE Encrypt's, which takes and gives least significant octets first).
 */
export function rpa_matches(irk_le: Uint8Array, addr: BdAddr): boolean {
  if (addr.length !== 6 || irk_le.length !== 16 || (addr[0]! & 0xc0) !== 0x40) return false;
  const plain = new Uint8Array(16);
  plain[0] = addr[2]!;
  plain[1] = addr[1]!;
  plain[2] = addr[0]!;
  const out = le_encrypt(irk_le, plain);
  return out[0] === addr[5] && out[1] === addr[4] && out[2] === addr[3];
}

/** A peer address as this controller reports it: the type (0-3), the address, and the RPA it resolved (or null). */
export interface ResolvedAddress {
  type: number;
  addr: BdAddr;
  rpa: BdAddr | null;
}

/**
 * The address of a peer heard on the air (type 0 public / 1 random) as controller `s` sees it:
 * resolved to its identity (type 0x02 / 0x03) when resolution is on and an entry's IRK made it,
 * null when the peer must not be accepted (a listed identity in Network Privacy Mode), else as is.
 */
export function resolve_peer(s: ControllerState, type: number, addr: BdAddr): ResolvedAddress | null {
  const rl = s.le.rl;
  if (!rl.enabled || rl.entries.length === 0) return { type, addr, rpa: null };
  if (type === 1 && (addr[0]! & 0xc0) === 0x40) {
    for (const e of rl.entries) {
      if (zero(e.peer_irk) || !rpa_matches(e.peer_irk, addr)) continue;
      e.peer_rpa = Uint8Array.from(addr);
      return { type: 0x02 | e.id_type, addr: Uint8Array.from(e.id_addr), rpa: Uint8Array.from(addr) };
    }
    return { type, addr, rpa: null };
  }
  const e = rl.find(type, addr);
  if (e && !zero(e.peer_irk) && e.privacy_mode === PRIVACY_MODE_NETWORK) return null;
  return { type, addr, rpa: null };
}

/** Whether (type, addr) as the host names a peer (type 0-3) is the peer resolved as `r`. */
export function same_peer(type: number, addr: BdAddr, r: ResolvedAddress, on_air_type: number, on_air: BdAddr): boolean {
  if ((type & 1) === (r.type & 1) && bd_addr_cmp(addr, r.addr) === 0) return true;
  return type < 2 && type === on_air_type && bd_addr_cmp(addr, on_air) === 0;
}

export interface PrivacyPeers {
  reply: CommandReply;
}

export class ControllerPrivacy {
  private readonly r: CommandReply;

  constructor(
    private readonly s: ControllerState,
    x: PrivacyPeers,
  ) {
    this.r = x.reply;
  }

  /** The list may not change now (resolution on and advertising, scanning or initiating). */
  private locked(): boolean {
    const l = this.s.le;
    return l.rl.enabled && this.busy();
  }

  private busy(): boolean {
    const l = this.s.le;
    return l.adv_enabled || l.scan_enabled || l.initiating !== null;
  }

  static readonly COMMANDS: CommandTable<ControllerPrivacy> = [
    [K.hci_le_add_device_to_resolving_list, (x, a, cmd) => x.add(a, cmd)],
    [
      K.hci_le_remove_device_from_resolving_list,
      (x, a, cmd) => {
        const rl = x.s.le.rl;
        if ((a[0] as number) > 1) return x.r.fail(cmd, INVALID);
        if (x.locked()) return x.r.fail(cmd, DISALLOWED);
        const e = rl.find(a[0] as number, a[1] as BdAddr);
        if (!e) return x.r.fail(cmd, UNKNOWN_ID);
        rl.entries.splice(rl.entries.indexOf(e), 1);
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_le_clear_resolving_list,
      (x, _a, cmd) => {
        if (x.locked()) return x.r.fail(cmd, DISALLOWED);
        x.s.le.rl.entries.length = 0;
        x.r.complete(cmd, OK);
      },
    ],
    [K.hci_le_read_resolving_list_size, (x, _a, cmd) => x.r.complete(cmd, OK, x.s.config.resolving_list_size)],
    [
      K.hci_le_read_peer_resolvable_address,
      (x, a, cmd) => {
        if ((a[0] as number) > 1) return x.r.fail(cmd, INVALID);
        const e = x.s.le.rl.find(a[0] as number, a[1] as BdAddr);
        if (!e) return x.r.fail(cmd, UNKNOWN_ID);
        x.r.complete(cmd, OK, e.peer_rpa);
      },
    ],
    [
      K.hci_le_read_local_resolvable_address,
      (x, a, cmd) => {
        if ((a[0] as number) > 1) return x.r.fail(cmd, INVALID);
        if (!x.s.le.rl.find(a[0] as number, a[1] as BdAddr)) return x.r.fail(cmd, UNKNOWN_ID);
        x.r.complete(cmd, OK, new Uint8Array(6)); // this controller makes no local RPAs
      },
    ],
    [
      K.hci_le_set_address_resolution_enabled,
      (x, a, cmd) => {
        const v = a[0] as number;
        if (v > 1) return x.r.fail(cmd, INVALID);
        if (x.busy()) return x.r.fail(cmd, DISALLOWED);
        x.s.le.rl.enabled = v === 1;
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_le_set_resolvable_private_address_timeout,
      (x, a, cmd) => {
        const t = a[0] as number;
        if (t < RPA_TIMEOUT_MIN || t > RPA_TIMEOUT_MAX) return x.r.fail(cmd, INVALID);
        x.s.le.rl.rpa_timeout = t;
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_le_set_privacy_mode,
      (x, a, cmd) => {
        const [type, addr, mode] = a as [number, BdAddr, number];
        if (type > 1 || mode > 1) return x.r.fail(cmd, INVALID);
        if (x.locked()) return x.r.fail(cmd, DISALLOWED);
        const e = x.s.le.rl.find(type, addr);
        if (!e) return x.r.fail(cmd, UNKNOWN_ID);
        e.privacy_mode = mode;
        x.r.complete(cmd, OK);
      },
    ],
  ];

  private add(a: HciArg[], cmd: HciCommand): void {
    const rl = this.s.le.rl;
    const [type, addr, peer_irk, local_irk] = a as [number, BdAddr, Uint8Array, Uint8Array];
    if (type > 1) return this.r.fail(cmd, INVALID);
    if (this.locked()) return this.r.fail(cmd, DISALLOWED);
    const clash = rl.entries.some(
      (e) => (e.id_type === type && bd_addr_cmp(e.id_addr, addr) === 0) || (!zero(peer_irk) && same(e.peer_irk, peer_irk)),
    );
    if (clash) return this.r.fail(cmd, INVALID);
    if (rl.entries.length >= this.s.config.resolving_list_size) return this.r.fail(cmd, FULL);
    rl.entries.push({
      id_type: type,
      id_addr: Uint8Array.from(addr),
      peer_irk: Uint8Array.from(peer_irk),
      local_irk: Uint8Array.from(local_irk),
      privacy_mode: PRIVACY_MODE_NETWORK,
      peer_rpa: new Uint8Array(6),
    });
    this.r.complete(cmd, OK);
  }
}
