/**
 * The controller's resolving list kept in sync with the bonds (BTstack's
 * ENABLE_LE_PRIVACY_ADDRESS_RESOLUTION part of hci.c): gap_load_resolving_list_from_le_device_db
 * turns it on (bthost's stand-in for the compile-time option; 0x11 when the controller lacks LE
 * Set Address Resolution Enable) and it is rebuilt at every power-on from then on, as BTstack:
 * LE Set Event Mask with LE Enhanced Connection Complete (bit 9, so the controller can report
 * identity address types 0x02 / 0x03 and the peer's RPA), LE Set Address Resolution Enable (1),
 * LE Read Resolving List Size, LE Clear Resolving List, LE Add Device To Resolving List for every
 * le device db entry with an IRK (peer IRK and our IRK, least significant octet first), then LE
 * Set Privacy Mode Device (BTstack's default LE_PRIVACY_MODE_DEVICE: a bonded peer may still
 * use its identity address; sent only when the controller lists the command). The Security
 * Manager adds a new bond (hci_load_le_device_db_entry_into_resolving_list) and removes a deleted
 * one (hci_remove_le_device_db_entry_from_resolving_list: by the identity we added, kept here,
 * since the db entry may be gone already). A full list answers 0x07 to the add: that peer stays
 * resolved by the host (the SM looks every connection up), as with a controller without privacy.
 *
 * The list may only change while advertising, scanning and initiating are off: GapLe pauses
 * advertising and scanning for it as for LE Set Random Address, waits for an LE Create Connection
 * under way, and holds new ones back until the update is done (gap-le.ts).
 */
import { ERROR_CODE_SUCCESS, ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE } from '../codes/v1.4.js';
import type { BdAddr } from '../core/bytes.js';
import {
  hci_le_add_device_to_resolving_list,
  hci_le_clear_resolving_list,
  hci_le_read_resolving_list_size,
  hci_le_remove_device_from_resolving_list,
  hci_le_set_address_resolution_enabled,
  hci_le_set_event_mask,
  hci_le_set_privacy_mode,
  type HciArg,
  type HciCommand,
} from './commands.js';
import { HCI_LE_EVENT_MASK_HIGH, HCI_LE_EVENT_MASK_LOW } from './hci-init-steps.js';

/** Supported_Commands bits (Vol 4 Part E 6.27). */
const SUPPORTED_COMMAND_LE_SET_ADDRESS_RESOLUTION_ENABLE = 281;
const SUPPORTED_COMMAND_LE_SET_PRIVACY_MODE = 314;
/** LE_Event_Mask bit of LE Enhanced Connection Complete (7.8.1). */
const LE_EVENT_ENHANCED_CONNECTION_COMPLETE = 1 << 9;
const LE_PRIVACY_MODE_DEVICE = 1;

/** A bond as the resolving list needs it (le_device_db_info): identity address and IRK (MSB first). */
export interface ResolvingListBond {
  addr_type: number;
  addr: BdAddr;
  irk: Uint8Array;
}

/** Where the bonds and our IRK come from (the Security Manager and its le device db). */
export interface ResolvingListSource {
  max_count(): number;
  info(index: number): ResolvingListBond | null;
  local_irk(): Uint8Array;
}

export interface GapLePrivacyPeers {
  send_command(cmd: HciCommand, ...args: HciArg[]): boolean;
  supports_command(bit: number): boolean;
  run(): void;
}

type Step = 'done' | 'mask' | 'enable' | 'size' | 'clear' | 'update';

const flip = (v: Uint8Array): Uint8Array => Uint8Array.from(v).reverse();
const zero = (v: Uint8Array): boolean => v.every((b) => b === 0);

export class GapLePrivacy {
  /** gap_load_resolving_list_from_le_device_db was called: keep the list in sync from now on. */
  private wanted = false;
  private step: Step = 'done';
  /** A command of ours waits for its Command Complete. */
  private sent = 0;
  /** Read Resolving List Size. */
  size = 0;
  source: ResolvingListSource | null = null;
  /** What we put into the controller's list, by le device db index. */
  readonly on_controller = new Map<number, { addr_type: number; addr: BdAddr }>();
  private readonly toAdd = new Set<number>();
  private readonly toRemove = new Set<number>();
  private readonly toMode = new Set<number>();
  private adding = -1;

  constructor(private readonly x: GapLePrivacyPeers) {}

  /** An update waits or is under way (advertising, scanning and initiating must stay off). */
  get pending(): boolean {
    return this.step !== 'done' || this.sent !== 0;
  }

  /** A command of ours is out. */
  get busy(): boolean {
    return this.sent !== 0;
  }

  /** Resolution by the controller is asked for and the controller has it. */
  get active(): boolean {
    return this.wanted && this.x.supports_command(SUPPORTED_COMMAND_LE_SET_ADDRESS_RESOLUTION_ENABLE);
  }

  /** gap_load_resolving_list_from_le_device_db. */
  load(): number {
    if (!this.x.supports_command(SUPPORTED_COMMAND_LE_SET_ADDRESS_RESOLUTION_ENABLE)) {
      return ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE;
    }
    if (!this.wanted || this.step === 'done' || this.step === 'update') this.step = this.wanted ? 'size' : 'mask';
    this.wanted = true;
    this.x.run();
    return ERROR_CODE_SUCCESS;
  }

  /** hci_load_le_device_db_entry_into_resolving_list: a bond was stored at `index`. */
  load_entry(index: number): void {
    if (!this.wanted) return;
    if (this.on_controller.has(index)) this.toRemove.add(index);
    this.toAdd.add(index);
    if (this.step === 'done') this.step = 'update';
    this.x.run();
  }

  /** hci_remove_le_device_db_entry_from_resolving_list: the bond at `index` goes. */
  remove_entry(index: number): void {
    if (!this.wanted) return;
    this.toAdd.delete(index);
    if (!this.on_controller.has(index)) return;
    this.toRemove.add(index);
    if (this.step === 'done') this.step = 'update';
    this.x.run();
  }

  /** The controller was reset (power off / on): rebuild once it works again. */
  reset_controller_state(): void {
    this.sent = 0;
    this.on_controller.clear();
    this.toAdd.clear();
    this.toRemove.clear();
    this.toMode.clear();
    this.step = this.wanted ? 'mask' : 'done';
  }

  /** Send the next command of the update (advertising, scanning and initiating are off). */
  run(): boolean {
    if (this.sent !== 0) return false;
    switch (this.step) {
      case 'mask':
        this.step = 'enable';
        return this.send(
          hci_le_set_event_mask,
          (HCI_LE_EVENT_MASK_LOW | LE_EVENT_ENHANCED_CONNECTION_COMPLETE) >>> 0,
          HCI_LE_EVENT_MASK_HIGH,
        );
      case 'enable':
        this.step = 'size';
        return this.send(hci_le_set_address_resolution_enabled, 1);
      case 'size':
        this.step = 'clear';
        return this.send(hci_le_read_resolving_list_size);
      case 'clear': {
        this.step = 'update';
        this.on_controller.clear();
        this.toRemove.clear();
        this.toMode.clear();
        const n = this.source?.max_count() ?? 0;
        for (let i = 0; i < n; i++) this.toAdd.add(i);
        return this.send(hci_le_clear_resolving_list);
      }
      case 'update':
        return this.update();
      default:
        return false;
    }
  }

  private update(): boolean {
    for (const i of this.toRemove) {
      this.toRemove.delete(i);
      const e = this.on_controller.get(i);
      if (!e) continue;
      this.on_controller.delete(i);
      return this.send(hci_le_remove_device_from_resolving_list, e.addr_type, e.addr);
    }
    for (const i of this.toAdd) {
      this.toAdd.delete(i);
      const b = this.source?.info(i);
      if (!b || zero(b.irk) || this.size === 0) continue;
      this.adding = i;
      return this.send(hci_le_add_device_to_resolving_list, b.addr_type & 1, b.addr, flip(b.irk), flip(this.source!.local_irk()));
    }
    for (const i of this.toMode) {
      this.toMode.delete(i);
      const e = this.on_controller.get(i);
      if (!e || !this.x.supports_command(SUPPORTED_COMMAND_LE_SET_PRIVACY_MODE)) continue;
      return this.send(hci_le_set_privacy_mode, e.addr_type, e.addr, LE_PRIVACY_MODE_DEVICE);
    }
    this.step = 'done';
    return false;
  }

  private send(cmd: HciCommand, ...args: HciArg[]): boolean {
    const ok = this.x.send_command(cmd, ...args);
    if (ok) this.sent = cmd.opcode;
    return ok;
  }

  /** Command Complete: `r` return parameters (status first). */
  on_command_complete(opcode: number, r: Uint8Array): void {
    if (opcode !== this.sent) return;
    this.sent = 0;
    const status = r[0] ?? 0xff;
    if (opcode === hci_le_read_resolving_list_size.opcode) this.size = status === ERROR_CODE_SUCCESS ? (r[1] ?? 0) : 0;
    if (opcode === hci_le_add_device_to_resolving_list.opcode && this.adding >= 0) {
      const b = this.source?.info(this.adding);
      // 0x07 (full) or another refusal: this peer stays resolved by the host
      if (status === ERROR_CODE_SUCCESS && b) {
        this.on_controller.set(this.adding, { addr_type: b.addr_type & 1, addr: b.addr.slice() });
        this.toMode.add(this.adding);
      }
      this.adding = -1;
    }
  }
}
