/**
 * serve_controllers: the virtual radio out of process. Every connection to the socket gets a fresh
 * VirtualController (its own BD_ADDR) on the shared RadioLink and speaks H4 over the stream, as a
 * UART controller does; `socat pty,raw,echo=0,link=/tmp/ttyV0 UNIX-CONNECT:PATH` turns a connection
 * into a serial device.
 *
 * With `baud`, bytes move at a UART's pace (10 bits per byte, 8N1) both ways; the Broadcom
 * Update UART Baud Rate vendor command (0xFC18) changes the pace after its Command Complete has
 * been sent, as the chip does. Garbage H4 type bytes get one Hardware Error event per burst and the
 * stream resynchronises on the next plausible packet; other connections are never affected.
 *
 * Socket callbacks enter the stack only through run_loop.execute_on_main_thread.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { little_endian_read_16, little_endian_read_32 } from '../../src/core/bytes.js';
import { Timer, type RunLoop } from '../../src/core/run-loop.js';
import type { ControllerOptions, VirtualController } from '../../src/controller/controller.js';
import type { RadioLink } from '../../src/controller/link.js';
import { H4Deframer } from '../../src/hci/h4.js';

export interface ServeOptions {
  /** Pace the stream like a UART at this many baud (10 bits per byte); default: no pacing. */
  baud?: number;
  /** Options for every controller created (BD_ADDRs still differ: derived per controller). */
  controller?: Omit<ControllerOptions, 'bd_addr'>;
  /** Hardware_Code of the Hardware Error event sent on H4 framing errors (default 0x01). */
  hardware_error_code?: number;
  /** Called on the run loop when a connection gets its controller / when it ends. */
  on_connect?: (controller: VirtualController) => void;
  on_disconnect?: (controller: VirtualController) => void;
}

export type ListenSpec = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** Parse 'unix:PATH', 'tcp:HOST:PORT' or 'tcp:PORT' (host 127.0.0.1). */
export function parse_listen(spec: string): ListenSpec | null {
  if (spec.startsWith('unix:')) {
    const path = spec.slice(5);
    return path ? { kind: 'unix', path } : null;
  }
  if (spec.startsWith('tcp:')) {
    const rest = spec.slice(4);
    const i = rest.lastIndexOf(':');
    const host = i < 0 ? '127.0.0.1' : rest.slice(0, i);
    const port = Number(i < 0 ? rest : rest.slice(i + 1));
    if (!host || !Number.isInteger(port) || port < 0 || port > 65535) return null;
    return { kind: 'tcp', host, port };
  }
  return null;
}

/** Remove a Unix socket file left behind (never any other kind of file). */
function removeStaleSocket(path: string): void {
  try {
    if (fs.lstatSync(path).isSocket()) fs.rmSync(path);
  } catch {
    // not there
  }
}

const INPUT_HIGH_WATER = 64 * 1024;

/** One direction of a paced stream: chunks leave no faster than `baud` / 10 bytes per second. */
class Pacer {
  private readonly queue: Uint8Array[] = [];
  private head_off = 0;
  /** Bytes not yet handed to the sink (including the chunk on the line). */
  private queued = 0;
  private inflight: Uint8Array | null = null;
  private idle = true;
  private busy_until = 0;
  private readonly timer: Timer;
  /** Baud rate changes that take effect once this many more bytes have left. */
  private readonly changes: Array<{ after: number; baud: number }> = [];
  private sent = 0;

  constructor(
    private readonly run_loop: RunLoop,
    public baud: number,
    private readonly sink: (chunk: Uint8Array) => void,
    private readonly on_drain?: () => void,
  ) {
    this.timer = new Timer(() => this.pump());
  }

  get pending(): number {
    return this.queued;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.queue.push(bytes);
    this.queued += bytes.length;
    if (!this.timer.active) this.pump();
  }

  /** Switch to `baud` once everything queued so far has left. */
  change_after_queued(baud: number): void {
    this.changes.push({ after: this.sent + this.queued, baud });
  }

  stop(): void {
    this.run_loop.remove_timer(this.timer);
    this.queue.length = 0;
    this.queued = 0;
    this.inflight = null;
  }

  private pump(): void {
    const now = this.run_loop.get_time_ms();
    while (this.queued > 0) {
      if (!this.inflight) {
        // the next chunk goes on the line; its last byte is out when busy_until is reached
        const first = this.queue[0]!;
        const per_ms = this.baud / 10 / 1000;
        const size = Math.max(1, Math.min(256, Math.floor(per_ms * 4)));
        const n = Math.min(size, first.length - this.head_off);
        this.inflight = first.subarray(this.head_off, this.head_off + n);
        this.head_off += n;
        if (this.head_off >= first.length) {
          this.queue.shift();
          this.head_off = 0;
        }
        // a busy line continues where the previous chunk ended, even when the timer ran late
        if (this.idle) this.busy_until = now;
        this.idle = false;
        this.busy_until += n / per_ms;
      }
      if (this.busy_until > now) break;
      const chunk = this.inflight;
      this.inflight = null;
      this.queued -= chunk.length;
      this.sent += chunk.length;
      this.sink(chunk);
      while (this.changes.length && this.sent >= this.changes[0]!.after) this.baud = this.changes.shift()!.baud;
    }
    if (this.queued > 0) {
      this.run_loop.remove_timer(this.timer);
      this.run_loop.set_timer(this.timer, this.busy_until - now);
      this.run_loop.add_timer(this.timer);
    } else {
      this.idle = true;
      this.on_drain?.();
    }
  }
}

class Session {
  readonly controller: VirtualController;
  private readonly deframer: H4Deframer;
  private framing_error_reported = false;
  private closed = false;
  private readonly out: Pacer | null;
  private readonly inp: Pacer | null;
  private pending_baud = 0;
  private paused = false;

  constructor(
    private readonly server: ControllerServer,
    private readonly socket: net.Socket,
    private readonly opts: ServeOptions,
  ) {
    const link = server.link;
    const rl = link.run_loop;
    this.controller = link.create_controller({ ...(opts.controller ?? {}) });
    this.deframer = new H4Deframer({
      accept: [0x01, 0x02, 0x03],
      limits: { max_acl: 0xffff },
      on_packet: (type, packet, size) => this.on_packet(type, packet, size),
      on_error: (msg) => this.on_framing_error(msg),
    });
    const baud = opts.baud ?? 0;
    this.out = baud > 0 ? new Pacer(rl, baud, (c) => this.write(Buffer.from(c))) : null;
    this.inp =
      baud > 0
        ? new Pacer(rl, baud, (c) => this.deframer.feed(c), () => {
            if (this.paused && !this.closed) {
              this.paused = false;
              this.socket.resume();
            }
          })
        : null;
    this.controller.attach_host((type, packet, size) => this.to_host(type, packet, size));
    socket.on('data', (chunk: Buffer) => rl.execute_on_main_thread(() => this.input(chunk)));
    socket.on('error', () => rl.execute_on_main_thread(() => this.close()));
    socket.on('close', () => rl.execute_on_main_thread(() => this.close()));
    opts.on_connect?.(this.controller);
  }

  private input(chunk: Buffer): void {
    if (this.closed) return;
    if (!this.inp) {
      this.deframer.feed(chunk);
      return;
    }
    this.inp.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    if (this.inp.pending > INPUT_HIGH_WATER && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private on_packet(type: number, packet: Uint8Array, size: number): void {
    this.framing_error_reported = false;
    if (type === 0x01 && size >= 9 && little_endian_read_16(packet, 0) === 0xfc18) {
      this.pending_baud = little_endian_read_32(packet, 5);
    }
    this.controller.host_send(type, packet, size);
  }

  private on_framing_error(msg: string): void {
    this.server.link.logger.info(() => `controller ${this.controller.index}: ${msg}`);
    if (this.framing_error_reported) return;
    this.framing_error_reported = true;
    this.controller.faults.hardware_error(this.opts.hardware_error_code ?? 0x01);
  }

  private to_host(type: number, packet: Uint8Array, size: number): void {
    if (this.closed) return;
    const bytes = Buffer.allocUnsafe(size + 1);
    bytes[0] = type;
    bytes.set(packet.subarray(0, size), 1);
    if (!this.out) {
      this.write(bytes);
      return;
    }
    this.out.push(bytes);
    // Command Complete for Update UART Baud Rate with success: later bytes at the new speed
    if (type === 0x04 && size >= 6 && packet[0] === 0x0e && little_endian_read_16(packet, 3) === 0xfc18 && packet[5] === 0) {
      if (this.pending_baud > 0) {
        this.out.change_after_queued(this.pending_baud);
        this.inp?.change_after_queued(this.pending_baud);
      }
    }
  }

  private write(b: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(b);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out?.stop();
    this.inp?.stop();
    this.controller.detach_host();
    this.server.link.remove_controller(this.controller);
    this.socket.destroy();
    this.server.sessions.delete(this);
    this.opts.on_disconnect?.(this.controller);
  }
}

export class ControllerServer {
  readonly sessions = new Set<Session>();
  constructor(
    readonly link: RadioLink,
    readonly server: net.Server,
    readonly listen: ListenSpec,
  ) {}

  /** Controllers of the current connections. */
  get controllers(): VirtualController[] {
    return [...this.sessions].map((s) => s.controller);
  }

  /** The TCP port actually bound (for 'tcp:127.0.0.1:0'), or undefined for a Unix socket. */
  get port(): number | undefined {
    const a = this.server.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /**
   * Stop listening and drop every connection (their controllers leave the air). Call it from the
   * run loop's thread of control (not from another async context); resolves once the server is closed.
   */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => {
        if (this.listen.kind === 'unix') removeStaleSocket(this.listen.path);
        resolve();
      });
      for (const s of [...this.sessions]) s.close();
    });
  }
}

/**
 * Listen on 'unix:PATH' or 'tcp:HOST:PORT' and give every connection its own controller on
 * `link`. Resolves once listening.
 */
export function serve_controllers(link: RadioLink, listen: string, opts: ServeOptions = {}): Promise<ControllerServer> {
  const spec = parse_listen(listen);
  if (!spec) return Promise.reject(new TypeError(`bad listen address '${listen}' (unix:PATH or tcp:HOST:PORT)`));
  if (opts.baud !== undefined && (!Number.isFinite(opts.baud) || opts.baud <= 0)) {
    return Promise.reject(new RangeError('baud must be a positive number'));
  }
  return new Promise((resolve, reject) => {
    let cs: ControllerServer;
    const server = net.createServer({ noDelay: true } as net.ServerOpts, (socket) => {
      link.run_loop.execute_on_main_thread(() => {
        if (socket.destroyed) return;
        cs.sessions.add(new Session(cs, socket, opts));
      });
    });
    cs = new ControllerServer(link, server, spec);
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve(cs);
    };
    if (spec.kind === 'unix') {
      removeStaleSocket(spec.path);
      server.listen(spec.path, done);
    } else server.listen(spec.port, spec.host, done);
  });
}
