/**
 * The value listener registry (BTstack's gatt_client_value_listeners): the app's
 * gatt_client_notification_t records, matched per notification / indication by connection
 * (GATT_CLIENT_ANY_CONNECTION matches all) and value handle (GATT_CLIENT_ANY_VALUE_HANDLE matches
 * all), called in registration order with GATT_EVENT_NOTIFICATION / _INDICATION (channel 0).
 * The list is copy on write: a listener removed during a dispatch is not called again for that
 * value, one added gets the next value.
 */
import type { PacketHandler } from '../hci/hci-service.js';
import type { GattClientEvents } from './gatt-client-events.js';
import type { GattClientConnection, GattClientState } from './gatt-client-state.js';
import { GATT_CLIENT_ANY_CONNECTION, GATT_CLIENT_ANY_VALUE_HANDLE, type GattClientNotification } from './gatt-client-types.js';

export class GattClientListeners {
  constructor(
    private readonly s: GattClientState,
    private readonly events: GattClientEvents,
  ) {}

  /** BTstack's gatt_client_listen_for_characteristic_value_updates: fills `n` and adds it (once). */
  add(n: GattClientNotification, callback: PacketHandler, con_handle: number, value_handle: number): void {
    n.callback = callback;
    n.con_handle = con_handle;
    n.attribute_handle = value_handle;
    if (!this.s.listeners.includes(n)) this.s.listeners = [...this.s.listeners, n];
  }

  /** BTstack's gatt_client_stop_listening_for_characteristic_value_updates. */
  remove(n: GattClientNotification): void {
    if (this.s.listeners.includes(n)) this.s.listeners = this.s.listeners.filter((x) => x !== n);
  }

  /** One notification / indication value (pdu[from..from+len)) to every matching listener. */
  dispatch(
    kind: 'notification' | 'indication',
    c: GattClientConnection,
    value_handle: number,
    pdu: Uint8Array,
    from: number,
    len: number,
  ): void {
    const list = this.s.listeners;
    let buf: Uint8Array | null = null;
    let size = 0;
    for (const n of list) {
      if (list !== this.s.listeners && !this.s.listeners.includes(n)) continue;
      if (n.con_handle !== GATT_CLIENT_ANY_CONNECTION && n.con_handle !== c.con_handle) continue;
      if (n.attribute_handle !== GATT_CLIENT_ANY_VALUE_HANDLE && n.attribute_handle !== value_handle) continue;
      if (!n.callback) continue;
      if (!buf) {
        size = this.events.buildValue(kind, c, value_handle, -1, pdu, from, len);
        buf = this.events.built; // taken now: a handler's own events may build again
      }
      this.events.toHandlerUnlogged(n.callback, 0, buf, size);
    }
  }
}
