/**
 * Controller & baseband, informational, status and vendor commands (Vol 4 Part E 7.3-7.5):
 * settings the host writes at boot and reads back. Parameter ranges per the specification;
 * out-of-range values get Invalid HCI Command Parameters (0x12).
 */
import type { BdAddr } from '../core/bytes.js';
import * as K from '../hci/commands.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import * as C from './codes.js';
import type { Handler, VirtualController } from './controller.js';
import {
  LAP_MAX, LAP_MIN, LMP_MAX_PAGE, NUM_SUPPORTED_IAC,
} from './defs.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;

const n = (a: HciArg[], i: number): number => a[i] as number;

/** Write a one-byte setting limited to `max`. */
function writeByte(max: number, set: (c: VirtualController, v: number) => void): Handler {
  return (c, a, cmd) => {
    const v = n(a, 0);
    if (v > max) return c.fail(cmd, INVALID);
    set(c, v);
    c.complete(cmd, OK);
  };
}

function scanActivity(set: (c: VirtualController, interval: number, window: number) => void): Handler {
  return (c, a, cmd) => {
    const interval = n(a, 0);
    const window = n(a, 1);
    if (interval < 0x0012 || interval > 0x1000 || window < 0x0011 || window > 0x1000 || window > interval) {
      return c.fail(cmd, INVALID);
    }
    set(c, interval, window);
    c.complete(cmd, OK);
  };
}

/** Set Event Filter (7.3.3): validate the filter/condition layout and store it. */
const setEventFilter: Handler = (c, a, cmd) => {
  const type = n(a, 0);
  const rest = a[1] as Uint8Array;
  if (type === 0x00) {
    if (rest.length !== 0) return c.fail(cmd, INVALID);
    c.inquiry_filters = [];
    c.connection_filters = [];
    return c.complete(cmd, OK);
  }
  if (type !== 0x01 && type !== 0x02) return c.fail(cmd, INVALID);
  if (rest.length < 1) return c.fail(cmd, INVALID);
  const cond = rest[0]!;
  const auto = type === 0x02 ? 1 : 0;
  const sizes = [1, 7, 7]; // condition type + condition (without the auto-accept byte)
  if (cond > 2 || rest.length !== sizes[cond]! + auto) return c.fail(cmd, INVALID);
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
    c.inquiry_filters.push({ type: cond, cod, mask, addr });
  } else {
    const flag = rest[rest.length - 1]!;
    if (flag < 0x01 || flag > 0x03) return c.fail(cmd, INVALID);
    c.connection_filters.push({ type: cond, cod, mask, addr, auto: flag });
  }
  c.complete(cmd, OK);
};

/** Host Number Of Completed Packets (7.3.40): no event unless the parameters are wrong. */
const hostNumberOfCompletedPackets: Handler = (c, a, cmd) => {
  const num = n(a, 0);
  const v = a[1] as Uint8Array;
  if (num < 1 || v.length !== 4 * num) return c.fail(cmd, INVALID);
  let total = 0;
  for (let i = 0; i < num; i++) {
    const handle = (v[4 * i]! | (v[4 * i + 1]! << 8)) & 0x0fff;
    const count = v[4 * i + 2]! | (v[4 * i + 3]! << 8);
    const end = c.connections.get(handle);
    if (!end) continue; // a connection that just ended: its packets were accounted for
    const k = Math.min(count, end.to_host_outstanding);
    end.to_host_outstanding -= k;
    total += k;
  }
  if (total > 0) c.host_credits_returned(total);
};

const readLocalName: Handler = (c, _a, cmd) => {
  const off = c.ev.command_complete(cmd.opcode, 249);
  const b = c.ev.buffer;
  b[off] = OK;
  b.set(c.name, off + 1);
};

const writeLocalName: Handler = (c, _a, cmd) => {
  c.name = Uint8Array.from(c.cur_params.subarray(0, 248));
  c.complete(cmd, OK);
};

const writeEir: Handler = (c, a, cmd) => {
  if (n(a, 0) > 1) return c.fail(cmd, INVALID);
  c.eir_fec = n(a, 0);
  c.eir = Uint8Array.from(a[1] as Uint8Array);
  c.complete(cmd, OK);
};

const readLocalExtendedFeatures: Handler = (c, a, cmd) => {
  const page = n(a, 0);
  const features = page <= LMP_MAX_PAGE ? c.lmp_features(page) : undefined;
  if (!features) return c.complete(cmd, INVALID, page, LMP_MAX_PAGE, new Uint8Array(8));
  c.complete(cmd, OK, page, LMP_MAX_PAGE, features);
};

const readRssi: Handler = (c, a, cmd) => {
  const end = c.connections.get(n(a, 0));
  if (!end) return c.fail(cmd, C.ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER);
  c.complete(cmd, OK, end.handle, c.link.rssi(c, end.peer.controller) & 0xff);
};

const bcmUpdateBaud: Handler = (c, a, cmd) => {
  const baud = n(a, 1);
  if (n(a, 0) !== 0 || baud < 1200 || baud > 8_000_000) return c.fail(cmd, INVALID);
  c.complete(cmd, OK);
};

const bcmWriteBdAddr: Handler = (c, a, cmd) => {
  const addr = a[0] as BdAddr;
  const other = c.link.find(addr);
  if (other && other !== c) return c.fail(cmd, INVALID);
  c.bd_addr = addr;
  c.complete(cmd, OK);
};

export const BASEBAND_HANDLERS: ReadonlyArray<readonly [HciCommand, Handler]> = [
  [K.hci_reset, (c, _a, cmd) => {
    c.reset_state();
    c.complete(cmd, OK);
  }],
  [K.hci_set_event_mask, (c, a, cmd) => {
    c.event_mask_lo = n(a, 0);
    c.event_mask_hi = n(a, 1);
    c.complete(cmd, OK);
  }],
  [K.hci_le_set_event_mask, (c, a, cmd) => {
    c.le_event_mask_lo = n(a, 0);
    c.le_event_mask_hi = n(a, 1);
    c.complete(cmd, OK);
  }],
  [K.hci_set_event_filter, setEventFilter],
  [K.hci_write_pin_type, writeByte(1, (c, v) => (c.pin_type = v))],
  [K.hci_delete_stored_link_key, (c, a, cmd) => {
    if (n(a, 1) > 1) return c.fail(cmd, INVALID);
    c.complete(cmd, OK, 0);
  }],
  [K.hci_write_local_name, writeLocalName],
  [K.hci_read_local_name, readLocalName],
  [K.hci_write_page_timeout, (c, a, cmd) => {
    if (n(a, 0) === 0) return c.fail(cmd, INVALID);
    c.page_timeout = n(a, 0);
    c.complete(cmd, OK);
  }],
  [K.hci_read_scan_enable, (c, _a, cmd) => c.complete(cmd, OK, c.scan_enable)],
  [K.hci_write_scan_enable, writeByte(3, (c, v) => (c.scan_enable = v))],
  [K.hci_write_page_scan_activity, scanActivity((c, i, w) => {
    c.page_scan_interval = i;
    c.page_scan_window = w;
  })],
  [K.hci_write_inquiry_scan_activity, scanActivity((c, i, w) => {
    c.inquiry_scan_interval = i;
    c.inquiry_scan_window = w;
  })],
  [K.hci_write_authentication_enable, writeByte(1, (c, v) => (c.authentication_enable = v))],
  [K.hci_read_class_of_device, (c, _a, cmd) => c.complete(cmd, OK, c.class_of_device)],
  [K.hci_write_class_of_device, (c, a, cmd) => {
    c.class_of_device = n(a, 0);
    c.complete(cmd, OK);
  }],
  [K.hci_write_synchronous_flow_control_enable, writeByte(1, (c, v) => (c.synchronous_flow_control = v))],
  [K.hci_set_controller_to_host_flow_control, writeByte(3, (c, v) => {
    c.controller_to_host_flow_control = v;
    c.host_acl_credits = c.host_acl_total;
  })],
  [K.hci_host_buffer_size, (c, a, cmd) => {
    c.host_acl_len = n(a, 0) || 0xffff;
    c.host_acl_total = n(a, 2);
    c.host_acl_credits = c.host_acl_total;
    c.complete(cmd, OK);
  }],
  [K.hci_host_number_of_completed_packets, hostNumberOfCompletedPackets],
  [K.hci_read_connection_accept_timeout, (c, _a, cmd) => c.complete(cmd, OK, c.connection_accept_timeout)],
  [K.hci_write_connection_accept_timeout, (c, a, cmd) => {
    if (n(a, 0) < 0x0001 || n(a, 0) > 0xb540) return c.fail(cmd, INVALID);
    c.connection_accept_timeout = n(a, 0);
    c.complete(cmd, OK);
  }],
  [K.hci_read_page_timeout, (c, _a, cmd) => c.complete(cmd, OK, c.page_timeout)],
  [K.hci_read_page_scan_activity, (c, _a, cmd) => c.complete(cmd, OK, c.page_scan_interval, c.page_scan_window)],
  [K.hci_read_inquiry_scan_activity, (c, _a, cmd) => c.complete(cmd, OK, c.inquiry_scan_interval, c.inquiry_scan_window)],
  [K.hci_read_authentication_enable, (c, _a, cmd) => c.complete(cmd, OK, c.authentication_enable)],
  [K.hci_read_voice_setting, (c, _a, cmd) => c.complete(cmd, OK, c.voice_setting)],
  [K.hci_write_voice_setting, (c, a, cmd) => {
    if (n(a, 0) > 0x03ff) return c.fail(cmd, INVALID);
    c.voice_setting = n(a, 0);
    c.complete(cmd, OK);
  }],
  [K.hci_read_number_of_supported_iac, (c, _a, cmd) => c.complete(cmd, OK, NUM_SUPPORTED_IAC)],
  [K.hci_read_current_iac_lap, (c, _a, cmd) => {
    const v = new Uint8Array(1 + 3 * c.current_iacs.length);
    v[0] = c.current_iacs.length;
    c.current_iacs.forEach((lap, i) => v.set([lap & 0xff, (lap >> 8) & 0xff, lap >> 16], 1 + 3 * i));
    c.complete(cmd, OK, v);
  }],
  [K.hci_write_current_iac_lap, (c, a, cmd) => {
    const num = n(a, 0);
    const v = a[1] as Uint8Array;
    if (num < 1 || num > NUM_SUPPORTED_IAC || v.length !== 3 * num) return c.fail(cmd, INVALID);
    const laps: number[] = [];
    for (let i = 0; i < num; i++) {
      const lap = v[3 * i]! | (v[3 * i + 1]! << 8) | (v[3 * i + 2]! << 16);
      if (lap < LAP_MIN || lap > LAP_MAX) return c.fail(cmd, INVALID);
      laps.push(lap);
    }
    c.current_iacs = laps;
    c.complete(cmd, OK);
  }],
  [K.hci_read_inquiry_scan_type, (c, _a, cmd) => c.complete(cmd, OK, c.inquiry_scan_type)],
  [K.hci_read_inquiry_mode, (c, _a, cmd) => c.complete(cmd, OK, c.inquiry_mode)],
  [K.hci_read_page_scan_type, (c, _a, cmd) => c.complete(cmd, OK, c.page_scan_type)],
  [K.hci_read_simple_pairing_mode, (c, _a, cmd) => c.complete(cmd, OK, c.simple_pairing_mode)],
  [K.hci_read_le_host_supported, (c, _a, cmd) => c.complete(cmd, OK, c.le_host_supported, c.le_simultaneous_host)],
  [K.hci_read_secure_connections_host_support, (c, _a, cmd) => c.complete(cmd, OK, c.secure_connections_host)],
  [K.hci_read_default_link_policy_settings, (c, _a, cmd) => c.complete(cmd, OK, c.default_link_policy)],
  [K.hci_write_inquiry_scan_type, writeByte(1, (c, v) => (c.inquiry_scan_type = v))],
  [K.hci_write_inquiry_mode, writeByte(2, (c, v) => (c.inquiry_mode = v))],
  [K.hci_write_page_scan_type, writeByte(1, (c, v) => (c.page_scan_type = v))],
  [K.hci_write_extended_inquiry_response, writeEir],
  [K.hci_write_simple_pairing_mode, writeByte(1, (c, v) => (c.simple_pairing_mode = v))],
  [K.hci_write_secure_connections_host_support, writeByte(1, (c, v) => (c.secure_connections_host = v))],
  [K.hci_write_le_host_supported, (c, a, cmd) => {
    if (n(a, 0) > 1 || n(a, 1) > 1) return c.fail(cmd, INVALID);
    c.le_host_supported = n(a, 0);
    c.le_simultaneous_host = n(a, 1);
    c.complete(cmd, OK);
  }],
  [K.hci_write_default_link_policy_settings, (c, a, cmd) => {
    if (n(a, 0) > 0x000f) return c.fail(cmd, INVALID);
    c.default_link_policy = n(a, 0);
    c.complete(cmd, OK);
  }],
  [K.hci_read_local_version_information, (c, _a, cmd) => {
    const f = c.config;
    c.complete(cmd, OK, f.hci_version, f.hci_revision, f.lmp_version, f.manufacturer, f.lmp_subversion);
  }],
  [K.hci_read_local_supported_commands, (c, _a, cmd) => c.complete(cmd, OK, c.supported_commands)],
  [K.hci_read_local_supported_features, (c, _a, cmd) => c.complete(cmd, OK, c.lmp_features_page0)],
  [K.hci_read_local_extended_features, readLocalExtendedFeatures],
  [K.hci_read_buffer_size, (c, _a, cmd) => {
    const f = c.config;
    c.complete(cmd, OK, f.acl_size, f.sco_size, f.acl_buffers, f.sco_buffers);
  }],
  [K.hci_read_bd_addr, (c, _a, cmd) => c.complete(cmd, OK, c.bd_addr)],
  [K.hci_read_rssi, readRssi],
  [K.hci_le_read_buffer_size, (c, _a, cmd) => {
    const f = c.config;
    if (f.le_buffers === 0) c.complete(cmd, OK, 0, 0);
    else c.complete(cmd, OK, f.le_size, f.le_buffers);
  }],
  [K.hci_le_read_local_supported_features, (c, _a, cmd) => c.complete(cmd, OK, c.le_features)],
  [K.hci_le_read_supported_states, (c, _a, cmd) => c.complete(cmd, OK, c.le_supported_states)],
  [K.hci_bcm_update_uart_baud_rate, bcmUpdateBaud],
  [K.hci_bcm_write_bd_addr, bcmWriteBdAddr],
];
