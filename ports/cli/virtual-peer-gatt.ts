/**
 * The virtual peer's LE GATT server (ports/cli/virtual-peer.ts): our ATT server on a database
 * compiled from PEER_GATT below, so `bthost gatt C0:FF:EE:00:00:02` has something to browse,
 * read, write and subscribe to:
 *
 *   0x0001 GAP service: Device Name 0x0003 "bthost virtual peer", Appearance 0x0005
 *   0x0006 Battery service: Battery Level 0x0008 (read, notify; 0x0009 its CCC)
 *   0x000A Counter service 0000FF10-...: counter 0x000C (read, notify, indicate; 0x000D CCC):
 *          a 4-octet little-endian count sent every PEER_COUNTER_MS while subscribed;
 *          a writable note 0x000F (read, write, write without response; up to 64 octets)
 */
import type { RunLoop } from '../../src/core/run-loop.js';
import { Timer } from '../../src/core/run-loop.js';
import { little_endian_read_16, little_endian_store_32 } from '../../src/core/bytes.js';
import type { Stack } from '../../src/stack.js';
import { gatt_compile } from '../../src/att/gatt-compiler.js';
import { ATT_TRANSACTION_MODE_NONE } from '../../src/att/att-server.js';
import { HCI_EVENT_PACKET } from '../../src/codes/v1.4.js';

export const PEER_GATT = `PRIMARY_SERVICE, GAP_SERVICE
CHARACTERISTIC, GAP_DEVICE_NAME, READ, "bthost virtual peer"
CHARACTERISTIC, GAP_APPEARANCE, READ, 00 00
PRIMARY_SERVICE, ORG_BLUETOOTH_SERVICE_BATTERY_SERVICE
CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL, READ | NOTIFY, 5a
PRIMARY_SERVICE, 0000FF10-0000-1000-8000-00805F9B34FB
CHARACTERISTIC, 0000FF11-0000-1000-8000-00805F9B34FB, READ | NOTIFY | INDICATE | DYNAMIC,
CHARACTERISTIC, 0000FF12-0000-1000-8000-00805F9B34FB, READ | WRITE | WRITE_WITHOUT_RESPONSE | DYNAMIC,
`;
export const PEER_COUNTER_HANDLE = 0x000c;
export const PEER_NOTE_HANDLE = 0x000f;
export const PEER_BATTERY_HANDLE = 0x0008;
/** How often the counter is sent to a subscribed central. */
export const PEER_COUNTER_MS = 200;
const COUNTER_CCC = 0x000d;
const BATTERY_CCC = 0x0009;
const NOTE_MAX = 64;

/** Serve PEER_GATT on `stack`'s ATT server; the counter runs on `run_loop`. */
export function serve_peer_gatt(stack: Stack, run_loop: RunLoop): void {
  const compiled = gatt_compile(PEER_GATT, { file: 'virtual-peer.gatt' });
  if (!compiled.profile_data) throw new Error('virtual peer: its .gatt database does not compile');
  let note: Uint8Array = new TextEncoder().encode('write me');
  let count = 0;
  /** CCC value per connection handle (counter). */
  const subscribed = new Map<number, number>();
  const value = new Uint8Array(4);
  const att = stack.att_server;

  const tick = new Timer(() => {
    count = (count + 1) >>> 0;
    little_endian_store_32(value, 0, count);
    for (const [con, ccc] of subscribed) {
      if (ccc & 1) att.att_server_notify(con, PEER_COUNTER_HANDLE, value, 4);
      else if (ccc & 2) att.att_server_indicate(con, PEER_COUNTER_HANDLE, value, 4);
    }
    if (subscribed.size) {
      run_loop.set_timer(tick, PEER_COUNTER_MS);
      run_loop.add_timer(tick);
    }
  });
  const start = (): void => {
    run_loop.remove_timer(tick);
    run_loop.set_timer(tick, PEER_COUNTER_MS);
    run_loop.add_timer(tick);
  };

  att.att_server_init(
    compiled.profile_data,
    (_con, handle, offset, buffer, size) => {
      let v: Uint8Array;
      if (handle === PEER_COUNTER_HANDLE) {
        v = new Uint8Array(4);
        little_endian_store_32(v, 0, count);
      } else if (handle === PEER_NOTE_HANDLE) v = note;
      else return 0;
      if (!buffer) return v.length;
      const n = Math.max(0, Math.min(size, v.length - offset));
      buffer.set(v.subarray(offset, offset + n));
      return n;
    },
    (con, handle, mode, offset, buffer, size) => {
      if (mode !== ATT_TRANSACTION_MODE_NONE) return 0x06; // Request Not Supported: no prepared writes here
      if (handle === PEER_NOTE_HANDLE) {
        if (offset + size > NOTE_MAX) return 0x0d; // Invalid Attribute Value Length
        note = buffer.slice(0, size);
        return 0;
      }
      if (handle === COUNTER_CCC) {
        const ccc = size >= 2 ? little_endian_read_16(buffer, 0) : 0;
        if (ccc) {
          subscribed.set(con, ccc);
          start();
        } else subscribed.delete(con);
        return 0;
      }
      if (handle === BATTERY_CCC) return 0;
      return 0x03; // Write Not Permitted
    },
  );
  att.att_server_register_packet_handler((type, _ch, packet) => {
    if (type !== HCI_EVENT_PACKET) return;
    if (packet[0] === stack.codes.ATT_EVENT_DISCONNECTED) {
      subscribed.delete(stack.codes.att_event_disconnected_get_handle(packet));
      if (!subscribed.size) run_loop.remove_timer(tick);
    }
  });
}
