/**
 * le-counter, as BTstack's example/le_counter.c: an LE peripheral advertising "LE Counter" with the
 * GATT database of examples/le-counter.gatt (GAP, Battery, GATT and the Counter Service 0xFF10).
 * A counter ticks once per second; while a central has enabled notifications on the Counter
 * characteristic 0xFF11 (its Client Characteristic Configuration), each tick is sent as a Handle
 * Value Notification "BTstack counter NNNN" on ATT_EVENT_CAN_SEND_NOW. Reads of 0xFF11 return the
 * current text; what a central writes to it is printed. The protected characteristic 0xFF12
 * (READ_ENCRYPTED) gives "encrypted BTstack counter NNNN" over an encrypted link only: before the
 * central pairs, the server answers Insufficient Encryption (0x0F). The Security Manager runs
 * (sm_init, no input / no output): pairing is Just Works, confirmed here (sm_just_works_confirm).
 *
 *   npx tsx examples/le-counter.ts                    in-process virtual controller + a virtual central
 *   npx tsx examples/le-counter.ts -u /dev/ttyACM0    an H4 controller on a serial port
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --once (exit after the first central left),
 *            --profile v1.4|v1.8
 *
 * The database module examples/le-counter-gatt.ts is written by our .gatt compiler, as BTstack's
 * build runs compile_gatt.py:  npx bthost gatt compile examples/le-counter.gatt -o examples/le-counter-gatt.ts
 */
import { Timer, bd_addr_to_str, format_event, little_endian_read_16, type Stack, type NodeRunLoop } from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, status_text, type ExampleArgs, type ExampleContext, type VirtualWorld } from 'bthost/port';
import {
  profile_data,
  ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_VALUE_HANDLE as COUNTER_VALUE_HANDLE,
  ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_CLIENT_CONFIGURATION_HANDLE as COUNTER_CCC_HANDLE,
  ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL_01_VALUE_HANDLE as BATTERY_LEVEL_HANDLE,
  ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL_01_CLIENT_CONFIGURATION_HANDLE as BATTERY_CCC_HANDLE,
  ATT_CHARACTERISTIC_0000FF12_0000_1000_8000_00805F9B34FB_01_VALUE_HANDLE as PROTECTED_VALUE_HANDLE,
} from './le-counter-gatt.js';

const HEARTBEAT_PERIOD_MS = 1000;
/** GATT_CLIENT_CHARACTERISTICS_CONFIGURATION_NOTIFICATION (Core spec Vol 3 Part G 3.3.3.3). */
const CCC_NOTIFICATION = 0x0001;

/** Flags LE General Discoverable + BR/EDR not supported, "LE Counter", 16-bit service UUID 0xFF10. */
const ADV_DATA = Uint8Array.of(
  0x02, 0x01, 0x06,
  0x0b, 0x09, ...new TextEncoder().encode('LE Counter'),
  0x03, 0x03, 0x10, 0xff,
); // prettier-ignore

export interface LeCounterOptions {
  print: (line: string) => void;
  /** Called when the first central's link went down. */
  on_closed?: () => void;
  /** Print every ATT / HCI event by name (the example) or only the essentials (a virtual peer). */
  verbose?: boolean;
}

/** BTstack's att_read_callback_handle_blob: copy `data` from `offset`, or its length when `buffer` is null. */
function read_blob(data: Uint8Array, offset: number, buffer: Uint8Array | null, buffer_size: number): number {
  if (!buffer) return data.length;
  const n = Math.max(0, Math.min(buffer_size, data.length - offset));
  buffer.set(data.subarray(offset, offset + n), 0);
  return n;
}

/** The LE counter service on `stack`: ATT server, advertising, heartbeat. Call before power-on; returns stop(). */
export function start_le_counter(stack: Stack, o: LeCounterOptions): () => void {
  const codes = stack.codes;
  const att = stack.att_server;
  const gap = stack.gap;
  let counter = 0;
  let counter_text = new TextEncoder().encode('BTstack counter 0000');
  let notification_enabled = false;
  let battery_ccc = 0;
  let con_handle = 0;
  const protected_text = (): Uint8Array => new TextEncoder().encode(`encrypted ${new TextDecoder().decode(counter_text)}`);

  // LE Security Manager: Just Works pairing (BTstack's defaults: no input / no output), confirmed here
  const sm = stack.sm;
  sm.sm_init();
  sm.sm_add_event_handler({
    callback: (_type, _channel, packet) => {
      switch (packet[0]) {
        case codes.SM_EVENT_JUST_WORKS_REQUEST:
          o.print('Just Works pairing requested: confirmed');
          sm.sm_just_works_confirm(little_endian_read_16(packet, 2));
          break;
        case codes.SM_EVENT_PAIRING_COMPLETE:
          o.print(`pairing complete: ${status_text(packet[11]!)}`);
          break;
        default:
          break;
      }
    },
  });

  const packet_handler = (packet_type: number, _channel: number, packet: Uint8Array, size: number): void => {
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    // the HCI events the server forwards (LE Connection Complete, Disconnection Complete) are printed by the port already
    const forwarded = packet[0] === C.HCI_EVENT_LE_META || packet[0] === C.HCI_EVENT_DISCONNECTION_COMPLETE;
    if (o.verbose && !forwarded) o.print(format_event(codes, packet, size));
    switch (packet[0]) {
      case codes.ATT_EVENT_CONNECTED:
        o.print(
          `central ${bd_addr_to_str(codes.att_event_connected_get_address(packet))} connected (handle 0x${codes.att_event_connected_get_handle(packet).toString(16).padStart(4, '0')})`,
        );
        break;
      case codes.ATT_EVENT_CAN_SEND_NOW:
        if (notification_enabled) att.att_server_notify(con_handle, COUNTER_VALUE_HANDLE, counter_text, counter_text.length);
        break;
      case codes.ATT_EVENT_DISCONNECTED:
        notification_enabled = false;
        battery_ccc = 0;
        o.print('central disconnected');
        o.on_closed?.();
        break;
      default:
        break;
    }
  };

  const read_callback = (
    _h: number,
    attribute_handle: number,
    offset: number,
    buffer: Uint8Array | null,
    size: number,
  ): number => {
    const u16 = (v: number) => Uint8Array.of(v & 0xff, v >> 8);
    if (attribute_handle === COUNTER_VALUE_HANDLE) return read_blob(counter_text, offset, buffer, size);
    if (attribute_handle === COUNTER_CCC_HANDLE) return read_blob(u16(notification_enabled ? 1 : 0), offset, buffer, size);
    if (attribute_handle === BATTERY_LEVEL_HANDLE) return read_blob(Uint8Array.of(100), offset, buffer, size);
    if (attribute_handle === BATTERY_CCC_HANDLE) return read_blob(u16(battery_ccc), offset, buffer, size);
    // the ATT server checked the link's encryption (READ_ENCRYPTED) before asking
    if (attribute_handle === PROTECTED_VALUE_HANDLE) return read_blob(protected_text(), offset, buffer, size);
    return 0;
  };

  const write_callback = (
    connection: number,
    attribute_handle: number,
    transaction_mode: number,
    offset: number,
    buffer: Uint8Array,
    size: number,
  ): number => {
    if (transaction_mode !== 0) return 0; // no long writes here (ATT_TRANSACTION_MODE_NONE only)
    if (attribute_handle === COUNTER_CCC_HANDLE) {
      if (offset !== 0 || size !== 2) return C.ATT_ERROR_INVALID_ATTRIBUTE_VALUE_LENGTH;
      notification_enabled = little_endian_read_16(buffer, 0) === CCC_NOTIFICATION;
      con_handle = connection;
      o.print(`notifications ${notification_enabled ? 'enabled' : 'disabled'}`);
      if (notification_enabled) att.att_server_request_can_send_now_event(con_handle);
    } else if (attribute_handle === BATTERY_CCC_HANDLE) {
      if (offset !== 0 || size !== 2) return C.ATT_ERROR_INVALID_ATTRIBUTE_VALUE_LENGTH;
      battery_ccc = little_endian_read_16(buffer, 0);
    } else if (attribute_handle === COUNTER_VALUE_HANDLE) {
      o.print(`write: '${new TextDecoder().decode(buffer.subarray(0, size))}'`);
    }
    return 0;
  };

  // BTstack's heartbeat: the counter ticks once a second; a notification goes out when subscribed
  const heartbeat = new Timer(() => {
    counter++;
    counter_text = new TextEncoder().encode(`BTstack counter ${String(counter % 10000).padStart(4, '0')}`);
    if (notification_enabled) att.att_server_request_can_send_now_event(con_handle);
    stack.run_loop.set_timer(heartbeat, HEARTBEAT_PERIOD_MS);
    stack.run_loop.add_timer(heartbeat);
  });
  stack.run_loop.set_timer(heartbeat, HEARTBEAT_PERIOD_MS);
  stack.run_loop.add_timer(heartbeat);

  att.att_server_init(profile_data, read_callback, write_callback);
  att.att_server_register_packet_handler(packet_handler);

  // connectable undirected advertising every 48 ms on all three channels
  gap.gap_advertisements_set_params(0x0030, 0x0030, 0, 0, new Uint8Array(6), 0x07, 0);
  gap.gap_advertisements_set_data(ADV_DATA.length, ADV_DATA);
  gap.gap_advertisements_enable(1);
  return () => stack.run_loop.remove_timer(heartbeat);
}

const OPTIONS = {
  once: { help: 'exit after the first central disconnected' },
};
type Args = ExampleArgs<typeof OPTIONS>;

function btstack_main(stack: Stack, ctx: ExampleContext<Args>): void {
  const exit_when_closed = ctx.args.once || ctx.virtual;
  start_le_counter(stack, {
    print: (l) => console.log(l),
    verbose: true,
    on_closed: exit_when_closed ? () => ctx.exit(0) : undefined,
  });
}

/** Without -u: a virtual central (examples/le-counter-central.ts) subscribes, gets three notifications, leaves. */
async function virtual_world(run_loop: NodeRunLoop): Promise<VirtualWorld> {
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const { Stack } = await import('bthost');
  const { start_le_counter_central } = await import('./le-counter-central.js');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'le-counter' });
  const central = new Stack({ transport: new VirtualTransport(link.create_controller({ name: 'central' })), run_loop });
  start_le_counter_central(central, ours.bd_addr, {
    print: (l) => console.log(`[virtual central] ${l}`),
    notifications: 3,
    on_done: () => undefined,
  });
  central.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours) };
}

example_main(import.meta.url, { name: 'le-counter', options: OPTIONS, virtual_world, btstack_main });
