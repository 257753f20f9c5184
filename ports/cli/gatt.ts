/**
 * `bthost gatt ADDR`: an LE central with the GATT client (BTstack's gatt_client):
 *
 *   bthost gatt ADDR                     list services and characteristics (handles, UUIDs, properties)
 *   bthost gatt ADDR --read H            read the value at handle H (long reads as needed): hex and text
 *   bthost gatt ADDR --write H HEX       write HEX to handle H (Write Request; --no-response: Write Command)
 *   bthost gatt ADDR --notify H          subscribe to the characteristic whose value handle is H (CCC:
 *                                        notifications, or indications if it has only those) and print
 *                                        --count N values (default 3)
 *
 * The connection is made with gap_connect (public address; --random for a random one) and given
 * --connect-timeout MS (default 10000). Exit 0 once the asked work is done; 1 with one line when
 * the device is not there, the link drops, or the server answers with an ATT error.
 */
import { bd_addr_cmp, bd_addr_to_str, little_endian_read_16, type BdAddr } from '../../src/core/bytes.js';
import type { Timer } from '../../src/core/run-loop.js';
import {
  gatt_client_deserialize_characteristic,
  gatt_client_deserialize_service,
  type GattClientCharacteristic,
  type GattClientNotification,
  type GattClientService,
} from '../../src/gatt/gatt-client-types.js';
import { GATT_UUID_NAMES, GATT_SHORT_UUID_NAMES } from '../../src/att/uuids.js';
import { CliHost } from './host.js';
import { hex16, status_text } from './format.js';
import { Flags, type CliOptions } from './options.js';
import { parse_addr, usage_error } from './common.js';

const ATT_ERRORS: Record<number, string> = {
  0x01: 'Invalid Handle',
  0x02: 'Read Not Permitted',
  0x03: 'Write Not Permitted',
  0x04: 'Invalid PDU',
  0x05: 'Insufficient Authentication',
  0x06: 'Request Not Supported',
  0x07: 'Invalid Offset',
  0x08: 'Insufficient Authorization',
  0x0a: 'Attribute Not Found',
  0x0b: 'Attribute Not Long',
  0x0c: 'Insufficient Encryption Key Size',
  0x0d: 'Invalid Attribute Value Length',
  0x0e: 'Unlikely Error',
  0x0f: 'Insufficient Encryption',
  0x1f: 'the link went down',
  0x7f: 'no answer within 30 s',
};
const PROPERTIES = ['broadcast', 'read', 'write-without-response', 'write', 'notify', 'indicate', 'signed-write', 'extended'];

/** A readable name for a 16-bit UUID ("Battery Level"), or ''. */
export function gatt_uuid16_name(uuid16: number): string {
  for (const [k, v] of Object.entries(GATT_UUID_NAMES)) {
    if (v !== uuid16 || k.startsWith('ORG_BLUETOOTH_UNIT_')) continue;
    const short = k.replace(/^ORG_BLUETOOTH_(SERVICE|CHARACTERISTIC|DESCRIPTOR|ATTRIBUTE)_/, '');
    return title(short.endsWith('_SERVICE') ? short : short.replace(/^GAP_|^GATT_/, ''));
  }
  for (const [k, v] of Object.entries(GATT_SHORT_UUID_NAMES))
    if (v === uuid16) return title(k.endsWith('_SERVICE') ? k : k.replace(/^GAP_|^GATT_/, ''));
  return '';
}
function title(s: string): string {
  return s
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

/** "2a19 (Battery Level)" or the 128-bit UUID written out. */
export function gatt_uuid_text(uuid16: number, uuid128: Uint8Array): string {
  if (uuid16) {
    const name = gatt_uuid16_name(uuid16);
    return uuid16.toString(16).padStart(4, '0') + (name ? ` (${name})` : '');
  }
  const x = Buffer.from(uuid128).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function gatt_properties_text(p: number): string {
  return PROPERTIES.filter((_, i) => p & (1 << i)).join(' ');
}

/** Hex and, when printable, the text. */
function value_text(v: Uint8Array): string {
  const hex = Buffer.from(v).toString('hex');
  const printable = v.length > 0 && v.every((b) => b >= 0x20 && b < 0x7f);
  return printable ? `${hex} "${Buffer.from(v).toString('latin1')}"` : hex || '(empty)';
}

function parse_handle(s: string | undefined, flag: string): number | string {
  if (s === undefined) return -1;
  const n = /^(0x[0-9a-fA-F]{1,4}|[0-9]{1,5})$/.test(s) ? Number(s) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 0xffff ? n : `${flag}: expected a handle 1..0xFFFF, got '${s}'`;
}

export async function gatt_client_main(options: CliOptions): Promise<number> {
  const flags = new Flags(
    options.rest,
    ['--read', '--write', '--notify', '--count', '--connect-timeout'],
    ['--random', '--no-response'],
  );
  const addr = parse_addr(flags.positional[0] ?? (options.port.addr ? bd_addr_to_str(options.port.addr) : undefined));
  const read = parse_handle(flags.get('--read'), '--read');
  const write = parse_handle(flags.get('--write'), '--write');
  const notify = parse_handle(flags.get('--notify'), '--notify');
  const hexValue = flags.positional[1];
  const count = flags.get('--count') === undefined ? 3 : Number(flags.get('--count'));
  const connectMs = flags.get('--connect-timeout') === undefined ? 10_000 : Number(flags.get('--connect-timeout'));
  const asked = [read, write, notify].filter((h) => h !== -1).length;
  const problem =
    flags.errors[0] ??
    (typeof addr === 'string' ? addr : undefined) ??
    [read, write, notify].find((h): h is string => typeof h === 'string') ??
    (asked > 1 ? 'give one of --read, --write, --notify' : undefined) ??
    (write !== -1 && (hexValue === undefined || !/^([0-9a-fA-F]{2})*$/.test(hexValue))
      ? `--write H HEX: expected the value as hex octets, got '${hexValue ?? ''}'`
      : undefined) ??
    (flags.positional.length > (write !== -1 ? 2 : 1) ? `unexpected argument '${flags.positional.at(-1)}'` : undefined) ??
    (!Number.isInteger(count) || count < 1 ? `--count: expected a number >= 1, got '${flags.get('--count')}'` : undefined) ??
    (!Number.isInteger(connectMs) || connectMs < 1
      ? `--connect-timeout: expected ms, got '${flags.get('--connect-timeout')}'`
      : undefined);
  if (problem) return usage_error('gatt', problem);
  const peer = addr as BdAddr;
  const peerStr = bd_addr_to_str(peer);

  const host = new CliHost(options, 'gatt');
  if (!(await host.open())) return host.exit_code;
  const stack = host.stack;
  const codes = stack.codes;
  const gc = stack.gatt_client;
  const ids = stack.profile === 'v1.8' ? 4 : 0;
  let con = -1;
  let connectTimer: Timer | null = null;
  let over = false;
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const finish = (code: number, message?: string): void => {
    if (over) return;
    over = true;
    host.cancel(connectTimer);
    host.finish(code, message);
  };
  const failed = (what: string, status: number): void =>
    finish(1, `${what}: ATT error 0x${status.toString(16).padStart(2, '0')} (${ATT_ERRORS[status] ?? 'unknown'})`);
  /** A query handler: `each` for result events, `done` on success. */
  const query =
    (what: string, each: (packet: Uint8Array, size: number) => void, done: () => void) =>
    (_t: number, _c: number, packet: Uint8Array, size: number): void => {
      if (packet[0] === codes.GATT_EVENT_QUERY_COMPLETE) {
        const st = codes.gatt_event_query_complete_get_att_status(packet);
        if (st !== 0) failed(what, st);
        else done();
      } else each(packet, size);
    };
  const start = (what: string, st: number): void => {
    if (st !== 0) finish(1, `${what}: ${status_text(st)}`);
  };

  const browse = (): void => {
    const services: GattClientService[] = [];
    start(
      'discover services',
      gc.gatt_client_discover_primary_services(
        query(
          'discover services',
          (p) => {
            if (p[0] === codes.GATT_EVENT_SERVICE_QUERY_RESULT)
              services.push(gatt_client_deserialize_service(codes.gatt_event_service_query_result_get_service(p), 0));
          },
          () => next(0),
        ),
        con,
      ),
    );
    const next = (i: number): void => {
      const s = services[i];
      if (!s) {
        out(`${services.length} services, ATT MTU ${gc.gatt_client_get_mtu(con).mtu}`);
        return finish(0);
      }
      out(`service ${hex16(s.start_group_handle)}-${hex16(s.end_group_handle)} ${gatt_uuid_text(s.uuid16, s.uuid128)}`);
      start(
        'discover characteristics',
        gc.gatt_client_discover_characteristics_for_service(
          query(
            'discover characteristics',
            (p) => {
              if (p[0] !== codes.GATT_EVENT_CHARACTERISTIC_QUERY_RESULT) return;
              const c = gatt_client_deserialize_characteristic(
                codes.gatt_event_characteristic_query_result_get_characteristic(p),
                0,
              );
              out(
                `  characteristic ${hex16(c.value_handle)} ${gatt_uuid_text(c.uuid16, c.uuid128)} [${gatt_properties_text(c.properties)}]`,
              );
            },
            () => next(i + 1),
          ),
          con,
          s,
        ),
      );
    };
  };

  const doRead = (h: number): void => {
    const chunks: Uint8Array[] = [];
    start(
      'read',
      gc.gatt_client_read_long_value_of_characteristic_using_value_handle(
        query(
          `read ${hex16(h)}`,
          (p, size) => {
            if (p[0] !== codes.GATT_EVENT_LONG_CHARACTERISTIC_VALUE_QUERY_RESULT) return;
            const len = little_endian_read_16(p, 8 + ids);
            chunks.push(p.slice(10 + ids, Math.min(size, 10 + ids + len)));
          },
          () => {
            const v = Buffer.concat(chunks);
            out(`${hex16(h)}: ${value_text(v)}`);
            finish(0);
          },
        ),
        con,
        h,
      ),
    );
  };

  const doWrite = (h: number, v: Uint8Array): void => {
    if (flags.has('--no-response')) {
      const st = gc.gatt_client_write_value_of_characteristic_without_response(con, h, v.length, v);
      if (st !== 0) return finish(1, `write ${hex16(h)}: ${status_text(st)}`);
      out(`wrote ${v.length} bytes to ${hex16(h)} (without response)`);
      // give the Write Command time to leave before the link goes down
      host.after(200, () => finish(0));
      return;
    }
    const done = query(
      `write ${hex16(h)}`,
      () => {},
      () => {
        out(`wrote ${v.length} bytes to ${hex16(h)}`);
        finish(0);
      },
    );
    const mtu = gc.gatt_client_get_mtu(con).mtu;
    start(
      'write',
      v.length > mtu - 3
        ? gc.gatt_client_write_long_value_of_characteristic(done, con, h, v.length, v)
        : gc.gatt_client_write_value_of_characteristic(done, con, h, v.length, v),
    );
  };

  const doNotify = (h: number): void => {
    let found: GattClientCharacteristic | null = null;
    const listener: GattClientNotification = { callback: null, con_handle: 0, attribute_handle: 0 };
    let got = 0;
    const subscribe = (): void => {
      const c = found;
      if (!c) return finish(1, `no characteristic with value handle ${hex16(h)} on ${peerStr}`);
      const mode = c.properties & 0x10 ? 1 : c.properties & 0x20 ? 2 : 0;
      if (!mode) return finish(1, `characteristic ${hex16(h)} neither notifies nor indicates`);
      gc.gatt_client_listen_for_characteristic_value_updates(
        listener,
        (_t, _c, p) => {
          if (p[0] !== codes.GATT_EVENT_NOTIFICATION && p[0] !== codes.GATT_EVENT_INDICATION) return;
          const len = little_endian_read_16(p, 6 + ids);
          const kind = p[0] === codes.GATT_EVENT_NOTIFICATION ? 'notification' : 'indication';
          out(`${kind} ${hex16(h)}: ${value_text(p.subarray(8 + ids, 8 + ids + len))}`);
          if (++got >= count) {
            gc.gatt_client_stop_listening_for_characteristic_value_updates(listener);
            finish(0);
          }
        },
        con,
        c,
      );
      start(
        'subscribe',
        gc.gatt_client_write_client_characteristic_configuration(
          query(
            `subscribe ${hex16(h)}`,
            () => {},
            () => out(`subscribed to ${hex16(h)} (${mode === 1 ? 'notifications' : 'indications'})`),
          ),
          con,
          c,
          mode,
        ),
      );
    };
    start(
      'discover services',
      gc.gatt_client_discover_primary_services(
        query('discover services', collectServices, () => nextService(0)),
        con,
      ),
    );
    const services: GattClientService[] = [];
    function collectServices(p: Uint8Array): void {
      if (p[0] === codes.GATT_EVENT_SERVICE_QUERY_RESULT)
        services.push(gatt_client_deserialize_service(codes.gatt_event_service_query_result_get_service(p), 0));
    }
    const nextService = (i: number): void => {
      const s = services.find((x, k) => k >= i && x.start_group_handle <= h && h <= x.end_group_handle);
      if (!s) return subscribe();
      start(
        'discover characteristics',
        gc.gatt_client_discover_characteristics_for_service(
          query(
            'discover characteristics',
            (p) => {
              if (p[0] !== codes.GATT_EVENT_CHARACTERISTIC_QUERY_RESULT) return;
              const c = gatt_client_deserialize_characteristic(
                codes.gatt_event_characteristic_query_result_get_characteristic(p),
                0,
              );
              if (c.value_handle === h) found = c;
            },
            subscribe,
          ),
          con,
          s,
        ),
      );
    };
  };

  const ready = (): void => {
    out(`connected to ${peerStr} (handle ${hex16(con)})`);
    if (read !== -1) doRead(read as number);
    else if (write !== -1) doWrite(write as number, Uint8Array.from(Buffer.from(hexValue!, 'hex')));
    else if (notify !== -1) doNotify(notify as number);
    else browse();
  };

  host.add_event_handler((packet) => {
    if (over) return;
    if (packet[0] === codes.HCI_EVENT_LE_META && packet[2] === codes.HCI_SUBEVENT_LE_CONNECTION_COMPLETE) {
      if (bd_addr_cmp(codes.hci_subevent_le_connection_complete_get_peer_address(packet), peer) !== 0) return;
      host.cancel(connectTimer);
      const st = codes.hci_subevent_le_connection_complete_get_status(packet);
      if (st !== 0) return finish(1, `cannot connect to ${peerStr}: ${status_text(st)}`);
      con = codes.hci_subevent_le_connection_complete_get_connection_handle(packet);
      // after the other layers saw the new link (their handlers run after this one)
      host.run_loop.execute_on_main_thread(ready);
    } else if (packet[0] === codes.HCI_EVENT_DISCONNECTION_COMPLETE) {
      if (codes.hci_event_disconnection_complete_get_connection_handle(packet) !== con) return;
      finish(1, `link to ${peerStr} closed: ${status_text(codes.hci_event_disconnection_complete_get_reason(packet))}`);
    }
  });

  host.power_on(() => {
    const st = stack.gap.gap_connect(peer, flags.has('--random') ? 1 : 0);
    if (st !== 0) return finish(1, `cannot connect to ${peerStr}: ${status_text(st)}`);
    connectTimer = host.after(connectMs, () => {
      stack.gap.gap_connect_cancel();
      finish(1, `no LE connection to ${peerStr} within ${connectMs} ms: is it advertising connectable?`);
    });
  });
  return host.run();
}
