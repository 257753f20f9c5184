/**
 * Shared by examples/le-cbm-server.ts and examples/le-cbm-client.ts (not a program itself):
 *
 * - `cbm_api(stack)`: BTstack's LE credit-based channel calls and event codes of the stack's code
 *   profile. v1.4 (BTstack 1.4.1): l2cap_le_register_service / _create_channel / _accept_connection
 *   / _send_data / _request_can_send_now_event / _disconnect and L2CAP_EVENT_LE_* (0x79-0x7D).
 *   v1.8: l2cap_cbm_register_service / _create_channel / _accept_connection, the unified
 *   l2cap_send / l2cap_request_can_send_now_event / l2cap_disconnect and L2CAP_EVENT_CBM_*,
 *   L2CAP_EVENT_CAN_SEND_NOW 0x79, L2CAP_EVENT_PACKET_SENT 0x7A, L2CAP_EVENT_CHANNEL_CLOSED 0x71.
 *   The INCOMING_CONNECTION and CHANNEL_OPENED layouts are the same in both profiles.
 * - `CbmStream`: one channel's test traffic: a byte stream whose every byte depends on its offset
 *   (`stream_byte`), sent SDU by SDU on CAN_SEND_NOW with at most `window` bytes not yet echoed,
 *   and/or an echo of what arrives; SHA-256 of what was sent and received.
 * - `advertising_data_has_name`: find a (shortened or complete) local name in advertising data.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Stack } from 'bthost';
import { status_text } from 'bthost/port';
import * as V14 from 'bthost/v1.4';

/** BTstack's examples use SPSM 0x25 (TSPX_le_psm) and advertise as "LE CBM Server". */
export const TSPX_le_psm = 0x25;
export const LE_CBM_SERVER_NAME = 'LE CBM Server';
/** initial_credits asking L2CAP to manage the credits (BTstack's L2CAP_LE_AUTOMATIC_CREDITS). */
export const L2CAP_LE_AUTOMATIC_CREDITS = 0xffff;

type Handler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => void;

export interface CbmApi {
  readonly INCOMING: number;
  readonly OPENED: number;
  readonly CAN_SEND_NOW: number;
  readonly PACKET_SENT: number;
  /** v1.4: 0x71 (remote Disconnection Request) or 0x7B (link gone); v1.8: 0x71. */
  readonly CLOSED: readonly number[];
  register(handler: Handler, psm: number): number;
  create(
    handler: Handler,
    con_handle: number,
    psm: number,
    buffer: Uint8Array,
    mtu: number,
  ): { status: number; local_cid: number };
  accept(cid: number, buffer: Uint8Array, mtu: number): number;
  send(cid: number, data: Uint8Array, len: number): number;
  request_can_send_now(cid: number): void;
  disconnect(cid: number): void;
}

export function cbm_api(stack: Stack): CbmApi {
  const l = stack.l2cap;
  if (stack.codes.PROFILE === 'v1.4') {
    return {
      INCOMING: 0x79, // L2CAP_EVENT_LE_INCOMING_CONNECTION
      OPENED: 0x7a, // L2CAP_EVENT_LE_CHANNEL_OPENED
      CAN_SEND_NOW: 0x7c, // L2CAP_EVENT_LE_CAN_SEND_NOW
      PACKET_SENT: 0x7d, // L2CAP_EVENT_LE_PACKET_SENT
      CLOSED: [0x71, 0x7b],
      register: (h, psm) => l.l2cap_le_register_service(h, psm, V14.LEVEL_0),
      create: (h, con, psm, buf, mtu) =>
        l.l2cap_le_create_channel(h, con, psm, buf, mtu, L2CAP_LE_AUTOMATIC_CREDITS, V14.LEVEL_0),
      accept: (cid, buf, mtu) => l.l2cap_le_accept_connection(cid, buf, mtu, L2CAP_LE_AUTOMATIC_CREDITS),
      send: (cid, data, len) => l.l2cap_le_send_data(cid, data, len),
      request_can_send_now: (cid) => void l.l2cap_le_request_can_send_now_event(cid),
      disconnect: (cid) => void l.l2cap_le_disconnect(cid),
    };
  }
  return {
    INCOMING: 0x7c, // L2CAP_EVENT_CBM_INCOMING_CONNECTION
    OPENED: 0x7d, // L2CAP_EVENT_CBM_CHANNEL_OPENED
    CAN_SEND_NOW: 0x79, // L2CAP_EVENT_CAN_SEND_NOW
    PACKET_SENT: 0x7a, // L2CAP_EVENT_PACKET_SENT
    CLOSED: [0x71],
    register: (h, psm) => l.l2cap_cbm_register_service(h, psm, V14.LEVEL_0),
    create: (h, con, psm, buf, mtu) => l.l2cap_cbm_create_channel(h, con, psm, buf, mtu, L2CAP_LE_AUTOMATIC_CREDITS, V14.LEVEL_0),
    accept: (cid, buf, mtu) => l.l2cap_cbm_accept_connection(cid, buf, mtu, L2CAP_LE_AUTOMATIC_CREDITS),
    send: (cid, data, len) => l.l2cap_send(cid, data, len),
    request_can_send_now: (cid) => void l.l2cap_request_can_send_now_event(cid),
    disconnect: (cid) => void l.l2cap_disconnect(cid),
  };
}

// The CHANNEL_OPENED / INCOMING_CONNECTION layouts are the same in both profiles (v1.4 getters).
export const opened_status = V14.l2cap_event_le_channel_opened_get_status;
export const opened_address = V14.l2cap_event_le_channel_opened_get_address;
export const opened_handle = V14.l2cap_event_le_channel_opened_get_handle;
export const opened_psm = V14.l2cap_event_le_channel_opened_get_psm;
export const opened_local_cid = V14.l2cap_event_le_channel_opened_get_local_cid;
export const opened_remote_cid = V14.l2cap_event_le_channel_opened_get_remote_cid;
export const opened_remote_mtu = V14.l2cap_event_le_channel_opened_get_remote_mtu;
export const incoming_psm = V14.l2cap_event_le_incoming_connection_get_psm;
export const incoming_local_cid = V14.l2cap_event_le_incoming_connection_get_local_cid;

/** Byte `k` of the test stream: depends on the offset, so a lost, repeated or reordered SDU shows. */
export function stream_byte(k: number): number {
  const x = Math.imul(k ^ (k >>> 13), 0x5bd1e995);
  return (x ^ (x >>> 15)) & 0xff;
}

/** True when the advertising data carries a local name (AD type 0x08 / 0x09) starting with `name`. */
export function advertising_data_has_name(data: Uint8Array, len: number, name: string): boolean {
  const want = new TextEncoder().encode(name);
  for (let i = 0; i + 1 < len;) {
    const n = data[i]!;
    if (n === 0 || i + 1 + n > len) return false;
    const type = data[i + 1]!;
    if ((type === 0x08 || type === 0x09) && n - 1 >= want.length && want.every((b, k) => data[i + 2 + k] === b)) return true;
    i += 1 + n;
  }
  return false;
}

export interface CbmStreamOptions {
  /** Bytes of the test stream to send. */
  send_bytes: number;
  /** Send back every SDU that arrives. */
  echo: boolean;
  /** Check that what arrives is the test stream (the echo of what we send). */
  check: boolean;
  /** At most this many bytes sent and not yet received back (0: no limit). */
  window: number;
}

/** One channel's traffic; the handler calls data() / can_send_now() / packet_sent(). */
export class CbmStream {
  cid = 0;
  sent = 0;
  received = 0;
  echoed = 0;
  /** Received bytes that were not the test stream at their offset. */
  wrong = 0;
  private max_sdu = 0;
  private readonly sdu: Uint8Array;
  private readonly echo_queue: Uint8Array[] = [];
  private in_flight = false;
  private waiting = false;
  private readonly hash_sent: Hash = createHash('sha256');
  private readonly hash_received: Hash = createHash('sha256');
  private digest_sent = '';
  private digest_received = '';

  constructor(
    readonly api: CbmApi,
    readonly o: CbmStreamOptions,
  ) {
    this.sdu = new Uint8Array(0xffff);
  }

  /** The channel is open: SDUs up to `remote_mtu` (and `local_limit`). */
  opened(cid: number, remote_mtu: number, local_limit = 0xffff): void {
    this.cid = cid;
    this.max_sdu = Math.min(remote_mtu, local_limit);
    this.kick();
  }

  get echo_pending(): number {
    return this.echo_queue.reduce((n, b) => n + b.length, 0);
  }

  data(packet: Uint8Array, size: number): void {
    const view = packet.subarray(0, size);
    this.hash_received.update(view);
    if (this.o.check) for (let i = 0; i < size; i++) if (packet[i] !== stream_byte(this.received + i)) this.wrong++;
    this.received += size;
    if (this.o.echo) this.echo_queue.push(view.slice()); // the packet is only valid during this call
    this.kick();
  }

  /** CAN_SEND_NOW: nothing of ours is pending in L2CAP; send the next SDU. */
  can_send_now(): void {
    this.waiting = false;
    if (!this.cid || this.in_flight) return;
    const echo = this.echo_queue[0];
    if (echo) {
      // SDUs as they came, split where the peer's MTU is smaller
      const n = Math.min(echo.length, this.max_sdu);
      this.submit(echo, n);
      this.echoed += n;
      this.hash_sent.update(echo.subarray(0, n));
      if (n === echo.length) this.echo_queue.shift();
      else this.echo_queue[0] = echo.subarray(n);
      return;
    }
    const n = this.next_len();
    if (n === 0) return;
    for (let i = 0; i < n; i++) this.sdu[i] = stream_byte(this.sent + i);
    this.submit(this.sdu, n);
    this.hash_sent.update(this.sdu.subarray(0, n));
    this.sent += n;
  }

  /** PACKET_SENT: the SDU is out (its buffer may be reused). */
  packet_sent(): void {
    this.in_flight = false;
    this.kick();
  }

  closed(): void {
    this.cid = 0;
  }

  get sha256_sent(): string {
    this.digest_sent ||= this.hash_sent.digest('hex');
    return this.digest_sent;
  }

  get sha256_received(): string {
    this.digest_received ||= this.hash_received.digest('hex');
    return this.digest_received;
  }

  private next_len(): number {
    let n = Math.min(this.o.send_bytes - this.sent, this.max_sdu);
    if (this.o.window) n = Math.min(n, this.o.window - (this.sent - this.received));
    return Math.max(0, n);
  }

  private submit(data: Uint8Array, len: number): void {
    const st = this.api.send(this.cid, data, len);
    if (st !== 0) throw new Error(`send on 0x${this.cid.toString(16)} failed: ${status_text(st)}`);
    this.in_flight = true;
  }

  /** Ask for CAN_SEND_NOW when there is something to send. */
  private kick(): void {
    if (!this.cid || this.in_flight || this.waiting) return;
    if (this.echo_queue.length === 0 && this.next_len() === 0) return;
    this.waiting = true;
    this.api.request_can_send_now(this.cid);
  }
}
