/**
 * Controller & baseband, informational, status and vendor commands (Vol 4 Part E 7.3-7.5):
 * settings the host writes at boot and reads back. Parameter ranges per the specification;
 * out-of-range values get Invalid HCI Command Parameters (0x12). (The host flow control commands
 * are controller-acl.ts's.)
 */
import type { BdAddr } from '../core/bytes.js';
import * as K from '../hci/commands.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import * as C from './codes.js';
import type { CommandHandler, CommandReply, CommandTable } from './controller-commands.js';
import type { ControllerState } from './controller-state.js';
import { LAP_MAX, LAP_MIN, LMP_MAX_PAGE, NUM_SUPPORTED_IAC } from './defs.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;

const n = (a: HciArg[], i: number): number => a[i] as number;

type Handler = CommandHandler<ControllerBaseband>;

export interface BasebandPeers {
  reply: CommandReply;
  /** HCI Reset: everything back to its state after power on. */
  reset(): void;
}

export class ControllerBaseband {
  private readonly r: CommandReply;

  constructor(
    private readonly s: ControllerState,
    private readonly x: BasebandPeers,
  ) {
    this.r = x.reply;
  }

  /** Write a one-byte setting limited to `max`. */
  private static writeByte(max: number, set: (s: ControllerState, v: number) => void): Handler {
    return (x, a, cmd) => {
      const v = n(a, 0);
      if (v > max) return x.r.fail(cmd, INVALID);
      set(x.s, v);
      x.r.complete(cmd, OK);
    };
  }

  private static scanActivity(set: (s: ControllerState, interval: number, window: number) => void): Handler {
    return (x, a, cmd) => {
      const interval = n(a, 0);
      const window = n(a, 1);
      if (interval < 0x0012 || interval > 0x1000 || window < 0x0011 || window > 0x1000 || window > interval) {
        return x.r.fail(cmd, INVALID);
      }
      set(x.s, interval, window);
      x.r.complete(cmd, OK);
    };
  }

  /** Answer with one or more settings read from the state. */
  private static read(get: (s: ControllerState) => HciArg[]): Handler {
    return (x, _a, cmd) => x.r.complete(cmd, OK, ...get(x.s));
  }

  static readonly COMMANDS: CommandTable<ControllerBaseband> = [
    [
      K.hci_reset,
      (x, _a, cmd) => {
        x.x.reset();
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_set_event_mask,
      (x, a, cmd) => {
        x.s.event_mask_lo = n(a, 0);
        x.s.event_mask_hi = n(a, 1);
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_le_set_event_mask,
      (x, a, cmd) => {
        x.s.le_event_mask_lo = n(a, 0);
        x.s.le_event_mask_hi = n(a, 1);
        x.r.complete(cmd, OK);
      },
    ],
    [K.hci_set_event_filter, (x, a, cmd) => x.setEventFilter(a, cmd)],
    [K.hci_write_pin_type, ControllerBaseband.writeByte(1, (s, v) => (s.pin_type = v))],
    [
      K.hci_delete_stored_link_key,
      (x, a, cmd) => {
        if (n(a, 1) > 1) return x.r.fail(cmd, INVALID);
        x.r.complete(cmd, OK, 0);
      },
    ],
    [
      K.hci_write_local_name,
      (x, _a, cmd) => {
        x.s.name = Uint8Array.from(x.s.cur_params.subarray(0, 248));
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_read_local_name,
      (x, _a, cmd) => {
        const ev = x.s.ev;
        const off = ev.command_complete(cmd.opcode, 249);
        const b = ev.buffer;
        b[off] = OK;
        b.set(x.s.name, off + 1);
      },
    ],
    [
      K.hci_write_page_timeout,
      (x, a, cmd) => {
        if (n(a, 0) === 0) return x.r.fail(cmd, INVALID);
        x.s.page_timeout = n(a, 0);
        x.r.complete(cmd, OK);
      },
    ],
    [K.hci_read_scan_enable, ControllerBaseband.read((s) => [s.scan_enable])],
    [K.hci_write_scan_enable, ControllerBaseband.writeByte(3, (s, v) => (s.scan_enable = v))],
    [
      K.hci_write_page_scan_activity,
      ControllerBaseband.scanActivity((s, i, w) => {
        s.page_scan_interval = i;
        s.page_scan_window = w;
      }),
    ],
    [
      K.hci_write_inquiry_scan_activity,
      ControllerBaseband.scanActivity((s, i, w) => {
        s.inquiry_scan_interval = i;
        s.inquiry_scan_window = w;
      }),
    ],
    [K.hci_write_authentication_enable, ControllerBaseband.writeByte(1, (s, v) => (s.authentication_enable = v))],
    [K.hci_read_class_of_device, ControllerBaseband.read((s) => [s.class_of_device])],
    [
      K.hci_write_class_of_device,
      (x, a, cmd) => {
        x.s.class_of_device = n(a, 0);
        x.r.complete(cmd, OK);
      },
    ],
    [K.hci_write_synchronous_flow_control_enable, ControllerBaseband.writeByte(1, (s, v) => (s.synchronous_flow_control = v))],
    [K.hci_read_connection_accept_timeout, ControllerBaseband.read((s) => [s.connection_accept_timeout])],
    [
      K.hci_write_connection_accept_timeout,
      (x, a, cmd) => {
        if (n(a, 0) < 0x0001 || n(a, 0) > 0xb540) return x.r.fail(cmd, INVALID);
        x.s.connection_accept_timeout = n(a, 0);
        x.r.complete(cmd, OK);
      },
    ],
    [K.hci_read_page_timeout, ControllerBaseband.read((s) => [s.page_timeout])],
    [K.hci_read_page_scan_activity, ControllerBaseband.read((s) => [s.page_scan_interval, s.page_scan_window])],
    [K.hci_read_inquiry_scan_activity, ControllerBaseband.read((s) => [s.inquiry_scan_interval, s.inquiry_scan_window])],
    [K.hci_read_authentication_enable, ControllerBaseband.read((s) => [s.authentication_enable])],
    [K.hci_read_voice_setting, ControllerBaseband.read((s) => [s.voice_setting])],
    [
      K.hci_write_voice_setting,
      (x, a, cmd) => {
        if (n(a, 0) > 0x03ff) return x.r.fail(cmd, INVALID);
        x.s.voice_setting = n(a, 0);
        x.r.complete(cmd, OK);
      },
    ],
    [K.hci_read_number_of_supported_iac, ControllerBaseband.read(() => [NUM_SUPPORTED_IAC])],
    [
      K.hci_read_current_iac_lap,
      (x, _a, cmd) => {
        const iacs = x.s.current_iacs;
        const v = new Uint8Array(1 + 3 * iacs.length);
        v[0] = iacs.length;
        iacs.forEach((lap, i) => v.set([lap & 0xff, (lap >> 8) & 0xff, lap >> 16], 1 + 3 * i));
        x.r.complete(cmd, OK, v);
      },
    ],
    [K.hci_write_current_iac_lap, (x, a, cmd) => x.writeCurrentIacLap(a, cmd)],
    [K.hci_read_inquiry_scan_type, ControllerBaseband.read((s) => [s.inquiry_scan_type])],
    [K.hci_read_inquiry_mode, ControllerBaseband.read((s) => [s.inquiry_mode])],
    [K.hci_read_page_scan_type, ControllerBaseband.read((s) => [s.page_scan_type])],
    [K.hci_read_simple_pairing_mode, ControllerBaseband.read((s) => [s.simple_pairing_mode])],
    [K.hci_read_le_host_supported, ControllerBaseband.read((s) => [s.le_host_supported, s.le_simultaneous_host])],
    [K.hci_read_secure_connections_host_support, ControllerBaseband.read((s) => [s.secure_connections_host])],
    [K.hci_read_default_link_policy_settings, ControllerBaseband.read((s) => [s.default_link_policy])],
    [K.hci_write_inquiry_scan_type, ControllerBaseband.writeByte(1, (s, v) => (s.inquiry_scan_type = v))],
    [K.hci_write_inquiry_mode, ControllerBaseband.writeByte(2, (s, v) => (s.inquiry_mode = v))],
    [K.hci_write_page_scan_type, ControllerBaseband.writeByte(1, (s, v) => (s.page_scan_type = v))],
    [
      K.hci_write_extended_inquiry_response,
      (x, a, cmd) => {
        if (n(a, 0) > 1) return x.r.fail(cmd, INVALID);
        x.s.eir_fec = n(a, 0);
        x.s.eir = Uint8Array.from(a[1] as Uint8Array);
        x.r.complete(cmd, OK);
      },
    ],
    [K.hci_write_simple_pairing_mode, ControllerBaseband.writeByte(1, (s, v) => (s.simple_pairing_mode = v))],
    [K.hci_write_secure_connections_host_support, ControllerBaseband.writeByte(1, (s, v) => (s.secure_connections_host = v))],
    [
      K.hci_write_le_host_supported,
      (x, a, cmd) => {
        if (n(a, 0) > 1 || n(a, 1) > 1) return x.r.fail(cmd, INVALID);
        x.s.le_host_supported = n(a, 0);
        x.s.le_simultaneous_host = n(a, 1);
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_write_default_link_policy_settings,
      (x, a, cmd) => {
        if (n(a, 0) > 0x000f) return x.r.fail(cmd, INVALID);
        x.s.default_link_policy = n(a, 0);
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_read_local_version_information,
      ControllerBaseband.read(({ config: f, bcm }) => [
        f.hci_version,
        f.hci_revision,
        f.lmp_version,
        f.manufacturer,
        bcm.lmp_subversion, // the configured one, or the patched one after a BCM Launch RAM
      ]),
    ],
    [K.hci_read_local_supported_commands, ControllerBaseband.read((s) => [s.supported_commands])],
    [K.hci_read_local_supported_features, ControllerBaseband.read((s) => [s.lmp_features_page0])],
    [
      K.hci_read_local_extended_features,
      (x, a, cmd) => {
        const page = n(a, 0);
        const features = page <= LMP_MAX_PAGE ? x.s.lmp_features(page) : undefined;
        if (!features) return x.r.complete(cmd, INVALID, page, LMP_MAX_PAGE, new Uint8Array(8));
        x.r.complete(cmd, OK, page, LMP_MAX_PAGE, features);
      },
    ],
    [K.hci_read_buffer_size, ControllerBaseband.read(({ config: f }) => [f.acl_size, f.sco_size, f.acl_buffers, f.sco_buffers])],
    [K.hci_read_bd_addr, ControllerBaseband.read((s) => [s.bd_addr])],
    [
      K.hci_read_rssi,
      (x, a, cmd) => {
        const s = x.s;
        const end = s.connections.get(n(a, 0));
        if (!end) return x.r.fail(cmd, C.ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER);
        x.r.complete(cmd, OK, end.handle, s.link.rssi(s, end.peer.controller) & 0xff);
      },
    ],
    [
      K.hci_le_read_buffer_size,
      (x, _a, cmd) => {
        const f = x.s.config;
        if (f.le_buffers === 0) x.r.complete(cmd, OK, 0, 0);
        else x.r.complete(cmd, OK, f.le_size, f.le_buffers);
      },
    ],
    [K.hci_le_read_local_supported_features, ControllerBaseband.read((s) => [s.le_features])],
    [K.hci_le_read_supported_states, ControllerBaseband.read((s) => [s.le_supported_states])],
    [
      K.hci_bcm_update_uart_baud_rate,
      (x, a, cmd) => {
        const baud = n(a, 1);
        if (n(a, 0) !== 0 || baud < 1200 || baud > 8_000_000) return x.r.fail(cmd, INVALID);
        x.r.complete(cmd, OK);
      },
    ],
    [
      K.hci_bcm_write_bd_addr,
      (x, a, cmd) => {
        const addr = a[0] as BdAddr;
        const other = x.s.link.find(addr);
        if (other && other.state !== x.s) return x.r.fail(cmd, INVALID);
        x.s.bd_addr = addr;
        x.r.complete(cmd, OK);
      },
    ],
  ];

  /** Set Event Filter (7.3.3): validate the filter/condition layout and store it. */
  private setEventFilter(a: HciArg[], cmd: HciCommand): void {
    const s = this.s;
    const type = n(a, 0);
    const rest = a[1] as Uint8Array;
    if (type === 0x00) {
      if (rest.length !== 0) return this.r.fail(cmd, INVALID);
      s.inquiry_filters = [];
      s.connection_filters = [];
      return this.r.complete(cmd, OK);
    }
    if (type !== 0x01 && type !== 0x02) return this.r.fail(cmd, INVALID);
    if (rest.length < 1) return this.r.fail(cmd, INVALID);
    const cond = rest[0]!;
    const auto = type === 0x02 ? 1 : 0;
    const sizes = [1, 7, 7]; // condition type + condition (without the auto-accept byte)
    if (cond > 2 || rest.length !== sizes[cond]! + auto) return this.r.fail(cmd, INVALID);
    let cod = 0;
    let mask = 0;
    let addr: BdAddr | null = null;
    if (cond === 1) {
      cod = rest[1]! | (rest[2]! << 8) | (rest[3]! << 16);
      mask = rest[4]! | (rest[5]! << 8) | (rest[6]! << 16);
    } else if (cond === 2) {
      addr = new Uint8Array(6);
      for (let i = 0; i < 6; i++) addr[i] = rest[6 - i]!;
    }
    if (type === 0x01) {
      s.inquiry_filters.push({ type: cond, cod, mask, addr });
    } else {
      const flag = rest[rest.length - 1]!;
      if (flag < 0x01 || flag > 0x03) return this.r.fail(cmd, INVALID);
      s.connection_filters.push({ type: cond, cod, mask, addr, auto: flag });
    }
    this.r.complete(cmd, OK);
  }

  private writeCurrentIacLap(a: HciArg[], cmd: HciCommand): void {
    const num = n(a, 0);
    const v = a[1] as Uint8Array;
    if (num < 1 || num > NUM_SUPPORTED_IAC || v.length !== 3 * num) return this.r.fail(cmd, INVALID);
    const laps: number[] = [];
    for (let i = 0; i < num; i++) {
      const lap = v[3 * i]! | (v[3 * i + 1]! << 8) | (v[3 * i + 2]! << 16);
      if (lap < LAP_MIN || lap > LAP_MAX) return this.r.fail(cmd, INVALID);
      laps.push(lap);
    }
    this.s.current_iacs = laps;
    this.r.complete(cmd, OK);
  }
}
