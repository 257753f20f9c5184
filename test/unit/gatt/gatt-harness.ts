/**
 * A GATT client on fakes of its two contracts: L2CAP's fixed channels (L2capFixedChannelService)
 * and HCI (events + connection lookup), on a VirtualRunLoop. The test plays the ATT server:
 * `sent()` takes the PDUs the client sent, `inject(bytes)` hands it a server PDU, `events` holds
 * every event the query handler got (copies), `notes` every listener event.
 */
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { Logger } from '../../../src/core/log.js';
import { Pools, resolveConfig, type StackConfig } from '../../../src/core/config.js';
import { codes_for, type CodeProfile } from '../../../src/codes/index.js';
import { hex, fromHex } from '../../../src/core/bytes.js';
import type { BtstackPacketCallbackRegistration, PacketHandler } from '../../../src/hci/hci-service.js';
import type { L2capFixedChannelService } from '../../../src/l2cap/l2cap-fixed-service.js';
import { GattClient } from '../../../src/gatt/gatt-client.js';
import { ATT_DATA_PACKET, HCI_EVENT_PACKET } from '../../../src/codes/v1.4.js';

export const HANDLE = 0x0040;

export class FakeFixed implements L2capFixedChannelService {
  readonly handlers = new Map<number, PacketHandler>();
  readonly out: { con_handle: number; cid: number; bytes: Uint8Array }[] = [];
  can_send = true;
  private readonly waiting = new Set<number>();

  constructor(
    private readonly rl: VirtualRunLoop,
    private readonly profile: CodeProfile,
    private readonly connected: Set<number>,
  ) {}

  l2cap_register_fixed_channel(handler: PacketHandler, channel_id: number): void {
    this.handlers.set(channel_id, handler);
  }
  l2cap_can_send_fixed_channel_packet_now(con_handle: number): boolean {
    return this.can_send && this.connected.has(con_handle);
  }
  l2cap_request_can_send_fix_channel_now_event(con_handle: number, channel_id: number): void {
    if (this.waiting.has(con_handle)) return;
    this.waiting.add(con_handle);
    this.rl.execute_on_main_thread(() => this.pump(con_handle, channel_id));
  }
  /** Deliver owed CAN_SEND_NOW events once sending is possible again. */
  pump(con_handle: number, channel_id = 4): void {
    if (!this.waiting.has(con_handle) || !this.l2cap_can_send_fixed_channel_packet_now(con_handle)) return;
    this.waiting.delete(con_handle);
    const ev = new Uint8Array(8);
    const n = codes_for(this.profile).l2cap_event_can_send_now_build(ev, 0, channel_id);
    this.handlers.get(channel_id)?.(HCI_EVENT_PACKET, con_handle, ev, n);
  }
  l2cap_send_connectionless(con_handle: number, channel_id: number, data: Uint8Array, len: number): number {
    if (!this.connected.has(con_handle)) return 0x02;
    this.out.push({ con_handle, cid: channel_id, bytes: data.slice(0, len) });
    return 0;
  }
}

export class GattHarness {
  readonly rl = new VirtualRunLoop();
  readonly connected = new Set<number>([HANDLE]);
  readonly hciHandlers: BtstackPacketCallbackRegistration[] = [];
  readonly l2cap: FakeFixed;
  readonly config: StackConfig;
  readonly pools: Pools;
  readonly client: GattClient;
  readonly events: Uint8Array[] = [];
  readonly notes: Uint8Array[] = [];
  readonly log = new Logger();
  readonly handler: PacketHandler = (_t, _c, p, n) => this.events.push(p.slice(0, n));
  readonly listener: PacketHandler = (_t, _c, p, n) => this.notes.push(p.slice(0, n));

  constructor(
    readonly profile: CodeProfile,
    config: Partial<StackConfig> = {},
  ) {
    this.config = resolveConfig(config);
    this.pools = new Pools(this.config);
    this.l2cap = new FakeFixed(this.rl, profile, this.connected);
    const hci = {
      hci_add_event_handler: (r: BtstackPacketCallbackRegistration) => void this.hciHandlers.push(r),
      hci_connection_for_handle: (h: number) => (this.connected.has(h) ? { address: new Uint8Array(6), is_le: true } : null),
    };
    const stack = { run_loop: this.rl, config: this.config, pools: this.pools, log: this.log, codes: codes_for(profile) };
    this.client = new GattClient(stack, this.l2cap, hci);
    this.client.gatt_client_init();
  }

  get codes() {
    return codes_for(this.profile);
  }

  /** Hex of every PDU sent since the last call, then forget them. */
  sent(): string[] {
    this.rl.advance(0);
    return this.l2cap.out.splice(0).map((p) => h(hex(p.bytes)));
  }

  /** A server PDU (hex) on the ATT channel of `con_handle`; then let the loop run. */
  inject(pdu: string | Uint8Array, con_handle = HANDLE): void {
    const b = typeof pdu === 'string' ? fromHex(pdu.replace(/\s+/g, '')) : pdu;
    this.l2cap.handlers.get(4)?.(ATT_DATA_PACKET, con_handle, b, b.length);
    this.rl.advance(0);
  }

  /** Events got since the last call (hex), then forget them. */
  got(): string[] {
    this.rl.advance(0);
    return this.events.splice(0).map((e) => h(hex(e)));
  }

  /** HCI Disconnection Complete (Vol 4 Part E 7.7.5): status 0, handle, reason 0x13. */
  disconnect(con_handle = HANDLE): void {
    this.connected.delete(con_handle);
    const ev = Uint8Array.from([0x05, 0x04, 0x00, con_handle & 0xff, con_handle >> 8, 0x13]);
    for (const r of this.hciHandlers) r.callback(HCI_EVENT_PACKET, 0, ev, ev.length);
    this.rl.advance(0);
  }

  /** Answer the MTU exchange the first query sends with `server_mtu`. */
  mtu(server_mtu = 23): string[] {
    const s = this.sent();
    const first = s.shift();
    if (first !== '02f903') throw new Error('expected Exchange MTU Request 02 f9 03, got ' + first);
    this.inject(Uint8Array.from([0x03, server_mtu & 0xff, server_mtu >> 8]));
    return [...s, ...this.sent()];
  }
}

/** Normalise spaced hex for comparisons. */
export const h = (s: string): string => s.replace(/\s+/g, '').toLowerCase();
