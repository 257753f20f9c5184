/**
 * serve_controllers: the virtual radio out of process. Every connection to the socket gets a fresh
 * VirtualController (its own BD_ADDR) on the shared RadioLink and speaks H4 over the stream, as a
 * UART controller does; `socat pty,raw,echo=0,link=/tmp/ttyV0 UNIX-CONNECT:PATH` turns a connection
 * into a serial device.
 *
 * With `baud`, bytes move at a UART's pace (10 bits per byte, 8N1) both ways; the Broadcom
 * Update UART Baud Rate vendor command (0xFC18) changes the pace after its Command Complete has
 * been sent, as the chip does, and a BCM Launch RAM (controller option `bcm`) puts it back at `baud`. Garbage H4 type bytes get one Hardware Error event per burst and the
 * stream resynchronises on the next plausible packet; other connections are never affected.
 *
 * With `h5` a connection speaks H5 (Three-wire UART) instead of H4: the controller's side of the
 * same H5Link (h5-line.ts), optionally with a seeded share of the bytes lost or corrupted both ways.
 *
 * Socket callbacks enter the stack only through run_loop.execute_on_main_thread.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { little_endian_read_16, little_endian_read_32 } from '../../src/core/bytes.js';
import type { ControllerOptions, VirtualController } from '../../src/controller/controller.js';
import type { RadioLink } from '../../src/controller/link.js';
import { H4Deframer } from '../../src/hci/h4.js';
import { LineFaults, schedule_faults, type FaultSpec, type FaultTarget } from './fault-spec.js';
import { Pacer } from './pacer.js';
import { ControllerH5, LineErrors, type LineErrorOptions } from './h5-line.js';

export interface ServeOptions {
  /** Pace the stream like a UART at this many baud (10 bits per byte); default: no pacing. */
  baud?: number;
  /** Options for every controller created (BD_ADDRs still differ: derived per controller). */
  controller?: Omit<ControllerOptions, 'bd_addr'>;
  /** Hardware_Code of the Hardware Error event sent on H4 framing errors (default 0x01). */
  hardware_error_code?: number;
  /** Faults for each controller as it connects (ports/virtual/fault-spec.ts; `bthost controller --fault`). */
  faults?: readonly FaultSpec[];
  /**
   * Speak H5 (Three-wire UART, h5-line.ts) instead of H4: `true`, or the controller link's
   * retransmission timeout and line errors (a share of the bytes both ways lost or corrupted,
   * seeded: connection n uses seed + n).
   */
  h5?: boolean | { retransmit_ms?: number; line_errors?: LineErrorOptions };
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

/** Paced input from the host waiting for the line; beyond it the socket is not read. */
const INPUT_HIGH_WATER = 64 * 1024;
/**
 * Host bytes given to the controller at a time, so that it can stop taking them mid-chunk: 16
 * commands at most, whose answers (16 x 257 bytes) fit in the half of its buffer still free.
 */
const INPUT_SLICE = 64;
/**
 * Output waiting for the (paced) line: at OUTPUT_HIGH_WATER the controller is told its host does
 * not take packets (as a UART whose RTS is deasserted), at OUTPUT_LOW_WATER it may send again.
 */
export const OUTPUT_HIGH_WATER = 16 * 1024;
export const OUTPUT_LOW_WATER = 4 * 1024;

/**
 * One connection: its controller, H4 both ways, optional UART pacing, and flow control both ways.
 *
 * Towards the client nothing grows without bound: when the socket takes no more (write() returns
 * false) or the paced line is OUTPUT_HIGH_WATER behind, the controller is told its host is not
 * taking packets (`set_host_ready(false)`) until the socket drains and the line is back under
 * OUTPUT_LOW_WATER; the controller then keeps what it has in its bounded buffer, drops
 * advertising and inquiry reports that do not fit, and holds ACL data on the air. When that
 * buffer is half full the socket is no longer read (the controller's RTS), so a client that sends
 * commands and never reads stalls, as it would on a UART.
 */
export class Session implements FaultTarget {
  readonly controller: VirtualController;
  /** Byte-level faults of this line (fault-spec.ts). */
  readonly line = new LineFaults();
  /** The H5 link of this connection (ServeOptions.h5), else null: H4. */
  readonly h5: ControllerH5 | null = null;
  private readonly deframer: H4Deframer;
  private framing_error_reported = false;
  private closed = false;
  private readonly out: Pacer | null;
  private readonly inp: Pacer | null;
  private pending_baud = 0;
  /** The socket is not being read (paced input too far behind, or the controller congested). */
  private paused = false;
  /** socket.write() returned false and 'drain' has not come yet. */
  private socket_full = false;
  /** The controller has been told its host takes no packets. */
  private host_held = false;
  private reported_drops = 0;
  private release_posted = false;
  /** Host bytes received that the controller could not take yet (it was congested). */
  private readonly held_input: Uint8Array[] = [];

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
    this.out =
      baud > 0
        ? new Pacer(rl, baud, (c) => {
            const ok = this.write(c);
            this.update_flow();
            return ok;
          })
        : null;
    this.inp =
      baud > 0
        ? new Pacer(
            rl,
            baud,
            (c) => this.feed_paced(c),
            () => this.update_input(),
          )
        : null;
    if (opts.h5) {
      const h5 = opts.h5 === true ? {} : opts.h5;
      const e = h5.line_errors;
      this.h5 = new ControllerH5({
        run_loop: rl,
        on_packet: (type, packet, size) => this.on_packet(type, packet, size),
        write: (bytes) => {
          if (this.closed) return;
          if (this.out) this.out.push(bytes);
          else this.write(bytes);
          this.update_flow();
        },
        on_drain: () => this.update_flow(),
        errors: e && e.rate > 0 ? new LineErrors({ ...e, seed: (e.seed ?? 1) + this.controller.index }) : null,
        ...(h5.retransmit_ms !== undefined ? { retransmit_ms: h5.retransmit_ms } : {}),
        log: (line) => link.logger.debug(() => `controller ${this.controller.index}: ${line}`),
      });
    }
    this.controller.attach_host((type, packet, size) => this.to_host(type, packet, size));
    this.h5?.open();
    socket.on('data', (chunk: Buffer) => rl.execute_on_main_thread(() => this.input(chunk)));
    socket.on('drain', () => rl.execute_on_main_thread(() => this.on_socket_drain()));
    socket.on('error', () => rl.execute_on_main_thread(() => this.close()));
    socket.on('close', () => rl.execute_on_main_thread(() => this.close()));
    opts.on_connect?.(this.controller);
    if (opts.faults) schedule_faults(rl, this, opts.faults, () => !this.closed);
  }

  /** Raw bytes to the client between two packets (fault injection: stray bytes, a framing error). */
  write_raw(bytes: Uint8Array): void {
    if (this.closed) return;
    const b = Buffer.from(bytes);
    if (this.out) this.out.push(b);
    else this.write(b);
    this.update_flow();
  }

  /** Drop the line (fault injection): the socket closes and the controller leaves the air. */
  unplug(): void {
    this.close();
  }

  /**
   * Bytes this connection holds for its client: on the paced line, in the socket's buffer and in
   * the controller's buffer for its host.
   */
  get backlog(): number {
    if (this.closed) return 0;
    return (this.out?.pending ?? 0) + (this.h5?.pending ?? 0) + this.socket.writableLength + this.controller.out.pending;
  }

  /** Whether the connection has ended. */
  get is_closed(): boolean {
    return this.closed;
  }

  /** Whether the controller is currently told that its host takes no packets. */
  get held(): boolean {
    return this.host_held;
  }

  /** Whether the socket is being read (false while the controller cannot take host input). */
  get reading(): boolean {
    return !this.paused && this.held_input.length === 0;
  }

  private input(chunk: Buffer): void {
    if (this.closed) return;
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.inp) this.inp.push(bytes);
    else if (this.held_input.length > 0) this.held_input.push(bytes);
    else {
      const rest = this.feed(bytes);
      if (rest) this.held_input.push(rest);
    }
    this.update_input();
  }

  /**
   * Give host bytes to the controller, a slice at a time, while it can answer; returns what it
   * could not take (its buffer for the host is congested), or null.
   */
  private feed(bytes: Uint8Array): Uint8Array | null {
    let off = 0;
    while (off < bytes.length) {
      if (this.closed) return null;
      if (this.controller.out.congested) {
        // a host that reads gets the answers on the next turn: continue after them
        if (!this.host_held && !this.release_posted) {
          this.release_posted = true;
          this.server.link.run_loop.execute_on_main_thread(() => {
            this.release_posted = false;
            if (!this.host_held) this.release_input();
            this.update_input();
          });
        }
        return bytes.subarray(off);
      }
      const n = Math.min(INPUT_SLICE, bytes.length - off);
      if (this.h5) this.h5.input(bytes.subarray(off, off + n));
      else this.deframer.feed(bytes.subarray(off, off + n));
      off += n;
    }
    return null;
  }

  /** Paced input: the line stops while the controller cannot take more. */
  private feed_paced(chunk: Uint8Array): boolean {
    const rest = this.feed(chunk);
    if (!rest) return true;
    this.held_input.push(rest);
    return false;
  }

  /** The controller can take input again: what it could not take first, then the line. */
  private release_input(): void {
    while (this.held_input.length > 0 && !this.controller.out.congested && !this.closed) {
      const rest = this.feed(this.held_input.shift()!);
      if (rest) this.held_input.unshift(rest);
    }
    if (this.held_input.length === 0) this.inp?.unblock();
  }

  /**
   * Read the socket or not: not while paced input is too far behind, nor while the controller
   * cannot answer (its RTS deasserted: a host that sends and never reads stalls, as on a UART).
   */
  private update_input(): void {
    if (this.closed) return;
    const stop =
      (this.inp !== null && this.inp.pending > INPUT_HIGH_WATER) || this.held_input.length > 0 || this.controller.out.congested;
    if (stop === this.paused) return;
    this.paused = stop;
    if (stop) this.socket.pause();
    else this.socket.resume();
  }

  private on_packet(type: number, packet: Uint8Array, size: number): void {
    this.framing_error_reported = false;
    if (this.line.silent) return;
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
    if (this.h5) {
      this.h5.send(type, packet, size);
      this.update_flow();
      return;
    }
    const bytes = Buffer.allocUnsafe(size + 1);
    bytes[0] = type;
    bytes.set(packet.subarray(0, size), 1);
    this.line.rewrite(type, bytes.subarray(1), size);
    if (!this.out) {
      this.write(bytes);
      this.update_flow();
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
    // Command Complete for BCM Launch RAM: the chip restarts at its initial speed
    if (type === 0x04 && size >= 6 && packet[0] === 0x0e && little_endian_read_16(packet, 3) === 0xfc4e && packet[5] === 0) {
      this.out.change_after_queued(this.opts.baud!);
      this.inp?.change_after_queued(this.opts.baud!);
    }
    this.update_flow();
  }

  /** Hand bytes to the socket; false when it wants no more until 'drain'. */
  private write(b: Uint8Array): boolean {
    if (this.closed || this.socket.destroyed) return true;
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
    if (!this.socket.write(buf)) this.socket_full = true;
    return !this.socket_full;
  }

  private on_socket_drain(): void {
    if (this.closed) return;
    this.socket_full = false;
    this.out?.unblock();
    this.update_flow();
  }

  /** Tell the controller whether its host takes packets, from the socket and the paced line. */
  private update_flow(): void {
    if (this.closed) return;
    const behind = (this.out?.pending ?? 0) + (this.h5?.pending ?? 0);
    if (!this.host_held) {
      if (this.socket_full || behind >= OUTPUT_HIGH_WATER) {
        this.host_held = true;
        this.controller.set_host_ready(false);
      }
    } else if (!this.socket_full && behind <= OUTPUT_LOW_WATER) {
      this.host_held = false;
      this.controller.set_host_ready(true);
      const q = this.controller.out;
      const drops = q.discarded + q.overflowed;
      if (drops > this.reported_drops) {
        this.server.link.logger.info(
          () =>
            `controller ${this.controller.index}: host was not reading: ${q.discarded} reports, ${q.overflowed} other packets dropped so far`,
        );
        this.reported_drops = drops;
      }
      this.release_input();
    }
    this.update_input();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out?.stop();
    this.inp?.stop();
    this.h5?.close();
    this.held_input.length = 0;
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

  /**
   * Apply fault specs to the current connections (a spec with `cN:` to controller N only; `@MS`
   * on a run-loop timer). Returns how many (spec, connection) pairs were applied or scheduled.
   */
  apply_faults(specs: readonly FaultSpec[]): number {
    let n = 0;
    for (const s of [...this.sessions]) n += schedule_faults(this.link.run_loop, s, specs, () => !s.is_closed);
    return n;
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
        const session = new Session(cs, socket, opts);
        if (!session.is_closed) cs.sessions.add(session);
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
