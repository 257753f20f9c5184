/**
 * H5 (Three-wire UART, Core spec Vol 4 Part D) as the line discipline of the serial transport:
 * the bytes of the port go through an H5Link (src/hci/h5-link.ts, role 'host') instead of the H4
 * deframer. The serial transport (transport.ts) hands this class its bytes and asks it to send;
 * this class turns the link's life into transport events:
 *
 * - After the port opened, `start()` begins link establishment (SYNC, CONFIG); the transport's
 *   'opened' is reported only once the link is Active, so HCI's init (Reset first) runs over an
 *   established link. No SYNC RESPONSE or no CONFIG RESPONSE within `establish_ms` -> one line in
 *   'open-failed' naming which (an H4 controller, another baud rate, or nothing listening).
 * - A SYNC from the controller while Active means it restarted (Part D 8.3): 'reset' -> HCI
 *   powers off (every link reported gone) and on again, as after a Hardware Error.
 * - `send` queues reliable packets in the link's window; a full window is
 *   MEMORY_CAPACITY_EXCEEDED and 'can-send-now' follows when an acknowledgement frees a slot.
 * - Dropped frames (CRC, header checksum, SLIP) are recovered by retransmission; they are logged
 *   at debug level and counted (`link.stats`), never reported as framing errors.
 */
import { Timer, type RunLoop } from '../../src/core/run-loop.js';
import type { Logger } from '../../src/core/log.js';
import { H5_MAX_PAYLOAD, type H5Config } from '../../src/hci/h5.js';
import { H5_LINK_ACTIVE, H5_LINK_UNINITIALIZED, H5Link, type H5LinkEvent } from '../../src/hci/h5-link.js';
import type { TransportEvent, TransportPacketHandler } from '../../src/hci/transport.js';

const ERROR_CODE_SUCCESS = 0x00;
const ERROR_CODE_MEMORY_CAPACITY_EXCEEDED = 0x07;
const ERROR_CODE_COMMAND_DISALLOWED = 0x0c;

/** Largest ACL data length an H5 frame carries (payload 4095 minus the ACL header). */
export const H5_MAX_ACL = H5_MAX_PAYLOAD - 4;

/** Default time for link establishment before 'open-failed'. */
export const H5_ESTABLISH_MS = 2000;

export interface H5LineOptions {
  /** What the host offers in CONFIG (default: window 4, data integrity check, no OOF flow control). */
  config?: Partial<H5Config>;
  /** Link establishment bound (default H5_ESTABLISH_MS). */
  establish_ms?: number;
  /** Retransmission timeout (default: h5_retransmit_ms of the baud rate, at most 250 ms). */
  retransmit_ms?: number;
  /** SYNC / CONFIG period (default 250 ms). */
  sync_ms?: number;
}

export interface H5LineHooks {
  run_loop: RunLoop;
  /** Where the link is, for messages ('/dev/ttyS0 at 115200 baud'). */
  where: () => string;
  /** Bytes to the port (a view: copy before keeping). */
  write: (bytes: Uint8Array) => void;
  packet: TransportPacketHandler;
  event: (ev: TransportEvent) => void;
  logger?: Logger | undefined;
}

export class H5Line {
  readonly link: H5Link;
  private readonly establishTimer: Timer;
  private readonly establishMs: number;
  private opening = false;
  private blocked = false;
  private sawSyncResponse = false;

  constructor(
    private readonly h: H5LineHooks,
    o: H5LineOptions = {},
  ) {
    this.establishMs = o.establish_ms ?? H5_ESTABLISH_MS;
    this.establishTimer = new Timer(() => this.onEstablishTimeout());
    const log = h.logger;
    this.link = new H5Link({
      run_loop: h.run_loop,
      role: 'host',
      config: o.config ?? {},
      ...(o.sync_ms !== undefined ? { sync_ms: o.sync_ms, config_ms: o.sync_ms } : {}),
      retransmit_ms: o.retransmit_ms ?? 250,
      on_packet: (type, packet, size) => h.packet(type, packet, size),
      on_write: (bytes) => h.write(bytes),
      on_event: (ev) => this.onLinkEvent(ev),
      ...(log ? { log: (line: string) => log.debug(line) } : {}),
    });
  }

  /** The link is established. */
  get active(): boolean {
    return this.link.state === H5_LINK_ACTIVE;
  }

  /** The port is open: establish the link; 'opened' or 'open-failed' follows. */
  start(): void {
    this.opening = true;
    this.blocked = false;
    this.sawSyncResponse = false;
    const loop = this.h.run_loop;
    loop.remove_timer(this.establishTimer);
    loop.set_timer(this.establishTimer, this.establishMs);
    loop.add_timer(this.establishTimer);
    this.link.open();
  }

  /** The port is closing or gone. */
  stop(): void {
    this.opening = false;
    this.h.run_loop.remove_timer(this.establishTimer);
    this.link.close();
  }

  feed(chunk: Uint8Array): void {
    const before = this.link.state;
    this.link.feed(chunk, 0, chunk.length);
    if (before === H5_LINK_UNINITIALIZED && this.link.state !== H5_LINK_UNINITIALIZED) this.sawSyncResponse = true;
  }

  can_send(): boolean {
    if (this.link.can_send_now()) return true;
    if (this.active) this.blocked = true;
    return false;
  }

  send(packet_type: number, packet: Uint8Array, size: number): number {
    if (!this.active) return ERROR_CODE_COMMAND_DISALLOWED;
    if (this.link.send(packet_type, packet, size)) return ERROR_CODE_SUCCESS;
    this.blocked = true;
    return ERROR_CODE_MEMORY_CAPACITY_EXCEEDED;
  }

  private onLinkEvent(ev: H5LinkEvent): void {
    const h = this.h;
    switch (ev.kind) {
      case 'active': {
        if (!this.opening) return;
        this.opening = false;
        h.run_loop.remove_timer(this.establishTimer);
        const c = ev.config;
        h.logger?.info(
          `${h.where()}: H5 link active (window ${c.window}, data integrity check ${c.dic ? 'on' : 'off'}, OOF flow control ${c.oof ? 'on' : 'off'})`,
        );
        h.event({ type: 'opened' });
        return;
      }
      case 'reset':
        if (this.opening) return; // still establishing: the link goes on by itself
        h.logger?.error(`${h.where()}: the controller restarted the H5 link (${ev.reason})`);
        // establishing again counts as opening: a link that never comes back is an open failure
        h.event({ type: 'reset', error: `the controller on ${h.where()} restarted (H5 SYNC on an active link)` });
        return;
      case 'error':
        h.logger?.debug(() => `${h.where()}: H5 frame dropped: ${ev.reason} (byte ${ev.position})`);
        return;
      case 'can_send':
        if (!this.blocked) return;
        this.blocked = false;
        h.event({ type: 'can-send-now' });
        return;
      case 'flow':
        return;
    }
  }

  private onEstablishTimeout(): void {
    if (!this.opening) return;
    this.opening = false;
    const s = this.establishMs / 1000;
    const msg = this.sawSyncResponse
      ? `no H5 link with the controller on ${this.h.where()}: it answered SYNC but no CONFIG RESPONSE came within ${s} s`
      : `no H5 link with the controller on ${this.h.where()}: no answer to SYNC within ${s} s ` +
        `(an H5 controller at this baud rate? for H4 leave out --h5)`;
    this.link.close();
    this.h.logger?.error(msg);
    this.h.event({ type: 'open-failed', error: msg });
  }
}
