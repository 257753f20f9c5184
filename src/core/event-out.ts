/**
 * Events a layer hands up to the app: one mechanism for HCI (hci_emit_event), L2CAP
 * (l2cap_emit_*), RFCOMM (rfcomm_emit_*) and the SDP client (its query callbacks).
 *
 * - `buffer()`: scratch space (2 + 255 octets) to build an event in. A handler may cause another
 *   event while it runs (a send gives CAN_SEND_NOW, a disconnect CHANNEL_CLOSED, a query started
 *   from QUERY_COMPLETE ...): every nesting depth has its own buffer, made the first time that
 *   depth is reached and reused from then on, so emitting allocates nothing.
 * - `to_handler(handler, channel, packet, size)`: to one handler (a channel's, a service's, a
 *   query's), as `handler(HCI_EVENT_PACKET, channel, packet, size)`.
 * - `to_list(list, channel, packet, size)`: to every registration of a RegistrationList.
 * - Both first write the event into the packet log as an incoming HCI event, as BTstack's emit
 *   functions do (hci_dump_packet(HCI_EVENT_PACKET, 1, ...)), when the EventOut has a packet log
 *   and the call does not pass `log = false`. A layer whose events BTstack does not log (the SDP
 *   client) is given no packet log.
 *
 * The packet handed to a handler is a view valid during the call only (BTstack's contract).
 * A size <= 0 (a builder that reported an error) emits nothing.
 */

/** BTstack's HCI_EVENT_PACKET: the packet type every event is delivered with. */
const HCI_EVENT_PACKET = 0x04;
/** Event code, parameter length, up to 255 parameter octets. */
export const EVENT_BUFFER_SIZE = 2 + 255;

/** BTstack's btstack_packet_handler_t. */
export type EventPacketHandler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => void;

/** BTstack's btstack_packet_callback_registration_t. */
export interface EventRegistration {
  callback: EventPacketHandler;
}

/** Where events are logged: the stack's HciDump (BTstack's hci_dump_packet). */
export interface EventPacketLog {
  log_packet(packet_type: number, incoming: number, packet: Uint8Array, len: number): void;
}

const NONE: readonly never[] = Object.freeze([]);

/**
 * Handler registrations (hci_add_event_handler, l2cap_add_event_handler, ...). The array behind
 * `items` is never changed in place: add and remove replace it, so a dispatch in progress keeps
 * walking the array it started with (no copy per event). A registration removed during a
 * dispatch is not called again for that event; one added during a dispatch gets the next event.
 */
export class RegistrationList<R extends EventRegistration = EventRegistration> {
  private list: readonly R[] = NONE;

  /** The registrations, in the order they were added. Do not keep it across calls. */
  get items(): readonly R[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  has(r: R): boolean {
    return this.list.includes(r);
  }

  /** Append; adding a registration that is already there does nothing. Returns whether it was added. */
  add(r: R): boolean {
    if (this.list.includes(r)) return false;
    this.list = [...this.list, r];
    return true;
  }

  /** Returns whether it was there. */
  remove(r: R): boolean {
    const i = this.list.indexOf(r);
    if (i < 0) return false;
    this.list = this.list.length === 1 ? NONE : this.list.filter((x) => x !== r);
    return true;
  }

  clear(): void {
    this.list = NONE;
  }
}

export class EventOut {
  private readonly bufs: Uint8Array[] = [];
  private level = 0;

  /** `packet_log`: where events are logged (null: this layer's events are not logged). */
  constructor(private readonly packet_log: EventPacketLog | null = null) {}

  /** Current nesting depth (0 outside any dispatch). */
  get depth(): number {
    return this.level;
  }

  /** Buffers made so far (one per depth reached). */
  get buffers_allocated(): number {
    return this.bufs.length;
  }

  /** A scratch buffer for building an event at the current nesting depth. */
  buffer(): Uint8Array {
    let b = this.bufs[this.level];
    if (!b) {
      b = new Uint8Array(EVENT_BUFFER_SIZE);
      this.bufs[this.level] = b;
    }
    return b;
  }

  /** Write an event into the packet log (if this EventOut has one). */
  log(packet: Uint8Array, size: number): void {
    if (size > 0) this.packet_log?.log_packet(HCI_EVENT_PACKET, 1, packet, size);
  }

  /** Hand an event to one handler (nothing when there is none or size <= 0). */
  to_handler(
    handler: EventPacketHandler | null | undefined,
    channel: number,
    packet: Uint8Array,
    size: number,
    log = true,
  ): void {
    if (size <= 0) return;
    if (log) this.packet_log?.log_packet(HCI_EVENT_PACKET, 1, packet, size);
    if (!handler) return;
    this.level++;
    try {
      handler(HCI_EVENT_PACKET, channel, packet, size);
    } finally {
      this.level--;
    }
  }

  /** Hand an event to every registration of `list`, in order (see RegistrationList for changes during the walk). */
  to_list(list: RegistrationList<EventRegistration>, channel: number, packet: Uint8Array, size: number, log = true): void {
    if (size <= 0) return;
    if (log) this.packet_log?.log_packet(HCI_EVENT_PACKET, 1, packet, size);
    const items = list.items;
    if (items.length === 0) return;
    this.level++;
    try {
      for (let i = 0; i < items.length; i++) {
        const r = items[i]!;
        // the list changed under us: skip registrations removed meanwhile
        if (list.items !== items && !list.has(r)) continue;
        r.callback(HCI_EVENT_PACKET, channel, packet, size);
      }
    } finally {
      this.level--;
    }
  }
}
