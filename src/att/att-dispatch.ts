/**
 * BTstack's att_dispatch: L2CAP has one handler per fixed channel, and the ATT channel (CID
 * 0x0004) carries both the ATT server's and the GATT client's traffic. This splits it: PDUs with
 * an even opcode (requests, commands, Handle Value Confirmation: client -> server) go to the
 * server view, odd ones (responses, notifications, indications) to the client view, as BTstack's
 * att_dispatch.c. Each view implements L2capFixedChannelService, so the ATT server and the GATT
 * client take `dispatch.server` / `dispatch.client` where they would take L2CAP. Other fixed
 * channels (SM's 0x0006) pass through unchanged.
 *
 * Can-send-now: a view's request is remembered per connection; L2CAP's L2CAP_EVENT_CAN_SEND_NOW
 * goes to the server view first (responses before the client's requests), then, if L2CAP can
 * still take a packet, to the client view; otherwise the client's request is asked again.
 */
import { ATT_DATA_PACKET, HCI_EVENT_PACKET, L2CAP_CID_ATTRIBUTE_PROTOCOL } from '../codes/v1.4.js';
import type { PacketHandler } from '../hci/hci-service.js';
import type { L2capFixedChannelService } from '../l2cap/l2cap-fixed-service.js';

const ATT = L2CAP_CID_ATTRIBUTE_PROTOCOL;

/**
 * A few connection handles (the connections whose can-send-now a view asked for): add / delete /
 * has without an allocation per call, as a Set would make when it grows and shrinks around one
 * entry on every notification.
 */
class HandleSet {
  private handles = new Int32Array(4);
  private count = 0;

  has(handle: number): boolean {
    for (let i = 0; i < this.count; i++) if (this.handles[i] === handle) return true;
    return false;
  }

  add(handle: number): void {
    if (this.has(handle)) return;
    if (this.count === this.handles.length) {
      const more = new Int32Array(this.handles.length * 2);
      more.set(this.handles);
      this.handles = more;
    }
    this.handles[this.count++] = handle;
  }

  delete(handle: number): void {
    for (let i = 0; i < this.count; i++) {
      if (this.handles[i] !== handle) continue;
      this.handles[i] = this.handles[--this.count]!;
      return;
    }
  }
}

class AttDispatchView implements L2capFixedChannelService {
  handler: PacketHandler | null = null;
  /** Connections whose can-send-now this view asked for. */
  readonly waiting = new HandleSet();

  constructor(
    private readonly lower: L2capFixedChannelService,
    private readonly attach: () => void,
  ) {}

  l2cap_register_fixed_channel(handler: PacketHandler, channel_id: number): void {
    if (channel_id !== ATT) {
      this.lower.l2cap_register_fixed_channel(handler, channel_id);
      return;
    }
    this.handler = handler;
    this.attach();
  }

  l2cap_can_send_fixed_channel_packet_now(con_handle: number, channel_id: number): boolean {
    return this.lower.l2cap_can_send_fixed_channel_packet_now(con_handle, channel_id);
  }

  l2cap_request_can_send_fix_channel_now_event(con_handle: number, channel_id: number): void {
    if (channel_id === ATT) this.waiting.add(con_handle);
    this.lower.l2cap_request_can_send_fix_channel_now_event(con_handle, channel_id);
  }

  l2cap_send_connectionless(con_handle: number, channel_id: number, data: Uint8Array, len: number): number {
    return this.lower.l2cap_send_connectionless(con_handle, channel_id, data, len);
  }
}

export class AttDispatch {
  /** The ATT server's view (even opcodes). */
  readonly server: L2capFixedChannelService;
  /** The GATT client's view (odd opcodes). */
  readonly client: L2capFixedChannelService;
  readonly #server: AttDispatchView;
  readonly #client: AttDispatchView;
  /** The views in the order CAN_SEND_NOW is offered (server first). */
  readonly #views: readonly AttDispatchView[];
  #attached = false;

  constructor(private readonly lower: L2capFixedChannelService) {
    const attach = (): void => this.#attach();
    this.#server = new AttDispatchView(lower, attach);
    this.#client = new AttDispatchView(lower, attach);
    this.server = this.#server;
    this.client = this.#client;
    this.#views = [this.#server, this.#client];
  }

  #attach(): void {
    if (this.#attached) return;
    this.#attached = true;
    this.lower.l2cap_register_fixed_channel(this.#onAtt.bind(this), ATT);
  }

  #onAtt(packet_type: number, con_handle: number, packet: Uint8Array, size: number): void {
    if (packet_type === ATT_DATA_PACKET) {
      if (size < 1) return;
      const view = (packet[0]! & 1) === 0 ? this.#server : this.#client;
      view.handler?.(packet_type, con_handle, packet, size);
      return;
    }
    if (packet_type !== HCI_EVENT_PACKET) return;
    // L2CAP_EVENT_CAN_SEND_NOW (channel = con_handle)
    const views = this.#views;
    for (let i = 0; i < views.length; i++) {
      const view = views[i]!;
      if (!view.waiting.has(con_handle)) continue;
      if (!this.lower.l2cap_can_send_fixed_channel_packet_now(con_handle, ATT)) {
        this.lower.l2cap_request_can_send_fix_channel_now_event(con_handle, ATT);
        return;
      }
      view.waiting.delete(con_handle);
      view.handler?.(packet_type, con_handle, packet, size);
    }
  }
}
