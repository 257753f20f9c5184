/**
 * H4 over a serial port (UART, USB-CDC): BTstack's hci_transport_h4 on top of `serialport`.
 *
 * - Opens at `baudrate_init` with RTS/CTS when `flowcontrol` is set (BTstack's default), 8 data
 *   bits, 1 stop bit, the configured parity. Reports 'opened' or 'open-failed' (with a message a
 *   user can act on: not found, busy/locked, permission denied -> dialout group).
 * - Every serialport callback enters the stack through `run_loop.execute_on_main_thread`;
 *   events and packets are delivered on the run loop, never re-entrantly from an API call.
 * - Incoming bytes go through one H4Deframer (host side: types 2,3,4,5); packets are handed to
 *   the packet handler as views valid during the call. Framing errors -> 'framing-error'.
 * - Outgoing packets are copied into a fixed write ring; `can_send_packet_now` is false while
 *   the bytes not yet accepted by the OS exceed `max_write_queue`, and 'can-send-now' follows
 *   when they drain.
 * - `set_baudrate` changes the port speed (writes are held back until the change is done).
 * - A close or error we did not ask for (unplugged USB: serialport's disconnect, pty peer gone)
 *   -> 'failed'. On Linux an unplugged USB device does not always surface as a read error, so
 *   while open the device node is also checked `presence_check_ms` after the previous check ended
 *   (a run-loop timer starts an asynchronous fs.promises.access, never blocking the loop; its
 *   answer comes back through execute_on_main_thread); when it is gone -> 'failed'.
 * - Modem-line ioctls (DTR/RTS) that a pty refuses are logged and ignored.
 * - I/O path (issue 19): once serialport has opened and configured the port, the bytes go through
 *   the binding's fd on the event loop (`FdSerialIo`, fd-io.ts: non-blocking reads into one fixed
 *   buffer, one write per burst) where the binding offers an fd and a poller (Linux, macOS);
 *   elsewhere (Windows, the mock binding) through serialport's streams. Option `io` or the
 *   environment variable BTHOST_SERIAL_IO=fd|stream|auto chooses; `io_path` says which is in use.
 */
import { access } from 'node:fs/promises';
import { SerialPort, type SerialPortMock } from 'serialport';
import type { RunLoop } from '../../src/core/run-loop.js';
import type { Logger } from '../../src/core/log.js';
import { H4Deframer, type H4Limits } from '../../src/hci/h4.js';
import type { HciTransport, TransportEventHandler, TransportPacketHandler } from '../../src/hci/transport.js';
import { BTSTACK_UART_PARITY_EVEN, BTSTACK_UART_PARITY_ODD, type HciTransportConfigUart } from '../../src/chipset/chipset.js';
import {
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS,
  ERROR_CODE_MEMORY_CAPACITY_EXCEEDED,
  ERROR_CODE_SUCCESS,
} from '../../src/codes/v1.4.js';
import { describe_open_error } from './errors.js';
import { check_uart_config } from './uart-config.js';
import { WriteRing } from './write-ring.js';
import { FdSerialIo, fd_io_handle, serial_io_choice, type SerialIoPath, type SerialIoStats } from './fd-io.js';
import { PresenceCheck, RunLoopCounter, RunLoopInbox, TransportHandlers, send_packet_args } from '../transport-core.js';

export interface SerialPortTransportOptions {
  /** Log open/close/baud changes and ignored ioctl errors here. */
  logger?: Logger;
  /** Bytes handed to the port but not yet accepted by the OS above which can_send_packet_now() is false (default 8192). */
  max_write_queue?: number;
  /** Size of the outgoing byte ring (default 4 * max_write_queue + 66 KiB: room for a maximal ACL packet). */
  write_ring_size?: number;
  /**
   * Limits for incoming packets (defaults from H4Deframer: every length H4 can express, ACL up to
   * 65535 data bytes, in one 64 KiB receive buffer). Lower `max_acl` only with host flow control
   * (`host_flow_control` Stack option): HCI then announces at most this length in Host Buffer Size.
   */
  limits?: Partial<H4Limits>;
  /** Take an exclusive lock on the device (default true). */
  lock?: boolean;
  /**
   * Modem lines asserted after open (default DTR and RTS on, as Linux does on open; USB-CDC
   * firmware such as Zephyr's often waits for DTR). null: leave them alone. Failures (a pty
   * refuses these ioctls) are logged and ignored.
   */
  modem_lines?: { dtr: boolean; rts: boolean } | null;
  /** While open, check this many ms after the last check that the device node still exists (default 500; 0 = off). */
  presence_check_ms?: number;
  /**
   * The presence check: resolves false when the device at `path` is gone (default: an
   * fs.promises.access on the device node; only ENOENT counts as gone).
   */
  device_present?: (path: string) => Promise<boolean>;
  /**
   * The port class (default serialport's SerialPort; tests pass SerialPortMock, whose binding is
   * @serialport/binding-mock's MockBinding).
   */
  port_class?: typeof SerialPort | typeof SerialPortMock;
  /**
   * The I/O path: 'fd' (the port's fd on the event loop), 'stream' (serialport's streams), 'auto'
   * (default: fd where the binding has one, else stream). Default from BTHOST_SERIAL_IO.
   */
  io?: SerialIoPath;
  /**
   * fd path: while data keeps coming, read at most once per this many ms (default 12; 0 = after every
   * wakeup; an HCI command sent ends the wait). See fd-io.ts.
   */
  rx_coalesce_ms?: number;
}

/** The default presence check: the device node exists (an error other than ENOENT, e.g. EACCES, is not an unplug). */
async function deviceNodePresent(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

type PortStream = SerialPort | SerialPortMock;

type State = 'closed' | 'opening' | 'open' | 'closing';

/** One open of the port: listeners check they still belong to the current session. */
interface Session {
  port: PortStream;
  /** Set once we asked for the close (ours, not a failure). */
  closingByUs: boolean;
  ended: boolean;
  /** Write completion callback, one per session (not one closure per write). */
  onWrite: (err: Error | null | undefined) => void;
  /** The fd path's reader/writer, when that path is in use. */
  fd: FdSerialIo | null;
}

export class SerialPortTransport implements HciTransport {
  readonly name = 'H4 serialport';
  readonly config: Readonly<HciTransportConfigUart>;
  private readonly logger: Logger | undefined;
  private readonly up: TransportHandlers;
  private readonly maxWriteQueue: number;
  private readonly ring: WriteRing;
  private readonly deframer: H4Deframer;
  private readonly lock: boolean;
  private readonly modemLines: { dtr: boolean; rts: boolean } | null;
  private readonly presence: PresenceCheck<Session>;
  private readonly PortClass: typeof SerialPort | typeof SerialPortMock;
  private readonly ioChoice: SerialIoPath;
  private readonly rxCoalesceMs: number;
  /** The controller buffer pool holding our ACL packets in flight, in bytes, as HCI reported it (0: none in flight). */
  private aclBufferBytes = 0;
  private ioPathUsed: 'fd' | 'stream' | null = null;
  private readonly streamStats: SerialIoStats = { reads: 0, read_bytes: 0, writes: 0, write_bytes: 0, write_waits: 0 };

  private state: State = 'closed';
  private session: Session | null = null;
  private reopenPending = false;
  private currentBaud: number;
  private baudUpdates = 0; // port.update calls in flight (each corks the stream once)
  private blocked = false;

  // incoming chunks and write completions queued for the run loop
  private readonly rx: RunLoopInbox<Buffer>;
  private readonly writesDone: RunLoopCounter;

  constructor(config: HciTransportConfigUart, options: SerialPortTransportOptions = {}) {
    check_uart_config('SerialPortTransport', config);
    this.config = { ...config };
    this.currentBaud = config.baudrate_init;
    this.logger = options.logger;
    this.up = new TransportHandlers('SerialPortTransport', options.logger);
    this.maxWriteQueue = options.max_write_queue ?? 8192;
    if (!Number.isInteger(this.maxWriteQueue) || this.maxWriteQueue <= 0) {
      throw new TypeError(`SerialPortTransport: bad max_write_queue ${options.max_write_queue}`);
    }
    this.ring = new WriteRing(options.write_ring_size ?? 4 * this.maxWriteQueue + 66 * 1024);
    this.lock = options.lock ?? true;
    this.modemLines = options.modem_lines === undefined ? { dtr: true, rts: true } : options.modem_lines;
    const loop = (): RunLoop => this.up.loop();
    const devicePresent = options.device_present ?? deviceNodePresent;
    this.presence = new PresenceCheck(
      loop,
      options.presence_check_ms ?? 500,
      () => (this.state === 'open' ? this.session : null),
      () => devicePresent(this.config.device_name),
      (session) => this.fail(session, `serial port ${this.config.device_name} failed: device removed`),
    );
    // A packet handler may close the transport: the rest of the chunks is dropped then.
    this.rx = new RunLoopInbox(
      loop,
      () => this.state === 'open',
      (chunk) => this.deframer.feed(chunk, 0, chunk.length),
    );
    this.writesDone = new RunLoopCounter(loop, (n) => this.processWritesDone(n));
    this.PortClass = options.port_class ?? SerialPort;
    this.ioChoice = serial_io_choice(options.io);
    this.rxCoalesceMs = options.rx_coalesce_ms ?? 12;
    if (!(this.rxCoalesceMs >= 0 && this.rxCoalesceMs <= 1000)) {
      throw new TypeError(`SerialPortTransport: bad rx_coalesce_ms ${options.rx_coalesce_ms}`);
    }
    this.deframer = new H4Deframer({
      accept: [2, 3, 4, 5],
      limits: options.limits,
      // the message carries the stream position, the length and limit, and the error count
      on_packet: (type, packet, size) => this.up.packet(type, packet, size),
      on_error: (message) => {
        this.logger?.error(`H4 framing error on ${this.config.device_name}: ${message}`);
        this.up.emit({ type: 'framing-error', error: message });
      },
    });
  }

  /** Current line speed. */
  get baudrate(): number {
    return this.currentBaud;
  }

  /** Whether the port is open (opened reported, not closed or failed since). */
  get is_open(): boolean {
    return this.state === 'open';
  }

  /** Bytes written but not yet accepted by the OS. */
  get write_queue_bytes(): number {
    return this.session?.fd ? this.session.fd.queued : this.ring.used;
  }

  /** The I/O path of the open port ('fd' or 'stream'; the last one used once closed; null before any open). */
  get io_path(): 'fd' | 'stream' | null {
    return this.ioPathUsed;
  }

  /** The I/O path asked for (option `io`, else BTHOST_SERIAL_IO, else 'auto'). */
  get io_choice(): SerialIoPath {
    return this.ioChoice;
  }

  /** The fd path's read window in ms (rx_coalesce_ms capped by the controller's ACL buffers at the current baud). */
  get read_window_ms(): number {
    return this.readWindowMs();
  }

  /** Reads and writes of the current (or last) session's path: counts and bytes. */
  get io_stats(): Readonly<SerialIoStats> {
    return this.session?.fd ? this.session.fd.stats : this.streamStats;
  }

  /** Framing errors seen since construction. */
  get framing_errors(): number {
    return this.deframer.errors;
  }

  /** Largest ACL data length the receive path takes (the deframer's max_acl). */
  max_acl_receive_length(): number {
    return this.deframer.limits.max_acl;
  }

  init(run_loop: RunLoop): void {
    this.up.init(run_loop);
  }

  register_packet_handler(handler: TransportPacketHandler): void {
    this.up.set_packet_handler(handler);
  }

  register_event_handler(handler: TransportEventHandler): void {
    this.up.set_event_handler(handler);
  }

  open(): void {
    const loop = this.up.loop();
    if (this.state === 'open' || this.state === 'opening') {
      this.logger?.info(`${this.config.device_name}: open() while ${this.state}, ignored`);
      return;
    }
    if (this.state === 'closing') {
      this.reopenPending = true;
      return;
    }
    const path = this.config.device_name;
    this.state = 'opening';
    this.currentBaud = this.config.baudrate_init;
    this.baudUpdates = 0;
    this.blocked = false;
    this.ring.clear();
    this.rx.clear();
    this.writesDone.clear();
    this.deframer.reset();
    let port: PortStream;
    try {
      port = new this.PortClass({
        path,
        baudRate: this.config.baudrate_init,
        dataBits: 8,
        stopBits: 1,
        parity:
          this.config.parity === BTSTACK_UART_PARITY_EVEN
            ? 'even'
            : this.config.parity === BTSTACK_UART_PARITY_ODD
              ? 'odd'
              : 'none',
        rtscts: !!this.config.flowcontrol,
        lock: this.lock,
        autoOpen: false,
      });
    } catch (err) {
      this.state = 'closed';
      this.up.post({ type: 'open-failed', error: describe_open_error(path, err).message });
      return;
    }
    const session: Session = { port, closingByUs: false, ended: false, onWrite: () => {}, fd: null };
    session.onWrite = (err) => this.onWritten(session, err ?? null);
    this.session = session;
    port.on('close', (err: Error | null) => {
      loop.execute_on_main_thread(() => this.onPortGone(session, err ?? null, 'closed'));
    });
    port.on('error', (err: Error) => {
      loop.execute_on_main_thread(() => this.onPortGone(session, err, 'error'));
    });
    port.open((err) => {
      loop.execute_on_main_thread(() => this.onOpened(session, err ?? null));
    });
  }

  close(): void {
    this.reopenPending = false;
    const session = this.session;
    switch (this.state) {
      case 'closed':
        this.up.post({ type: 'closed' });
        return;
      case 'closing':
        return;
      case 'opening':
        // finish in onOpened: close the port if it opened, then report 'closed'
        this.state = 'closing';
        if (session) session.closingByUs = true;
        return;
      case 'open':
        this.state = 'closing';
        if (!session) return;
        this.closePort(session);
        return;
    }
  }

  can_send_packet_now(_packet_type: number): boolean {
    const fd = this.session?.fd;
    if (fd) return this.state === 'open' && fd.can_write();
    if (this.state !== 'open' || this.ring.used >= this.maxWriteQueue) {
      if (this.state === 'open') this.blocked = true;
      return false;
    }
    return true;
  }

  send_packet(packet_type: number, packet: Uint8Array, size: number): number {
    const bad = send_packet_args(packet_type, packet, size, true);
    if (bad !== ERROR_CODE_SUCCESS) return bad;
    const session = this.session;
    if (this.state !== 'open' || !session) return ERROR_CODE_COMMAND_DISALLOWED;
    if (session.fd) return session.fd.write(packet_type, packet, size) ? ERROR_CODE_SUCCESS : ERROR_CODE_MEMORY_CAPACITY_EXCEEDED;
    const pos = this.ring.reserve(size + 1);
    if (pos < 0) {
      this.blocked = true;
      return ERROR_CODE_MEMORY_CAPACITY_EXCEEDED;
    }
    const buf = this.ring.buffer;
    buf[pos] = packet_type;
    buf.set(packet.subarray(0, size), pos + 1);
    session.port.write(buf.subarray(pos, pos + size + 1), session.onWrite);
    this.streamStats.writes++;
    this.streamStats.write_bytes += size + 1;
    return ERROR_CODE_SUCCESS;
  }

  /**
   * HCI's report of the controller buffer pool holding our ACL packets in flight (0: none). While
   * packets are in flight the fd path's read window stays under half the time the line takes to
   * carry that pool, so a sender's Number Of Completed Packets are read before the controller's
   * buffers run dry: 8 x 1021 bytes at 3,000,000 baud (27 ms) leaves the 12 ms window as it is;
   * 3 x 27 bytes at 1,000,000 baud (0.8 ms) turns it off. Receiving alone keeps the whole window.
   */
  controller_acl_buffer_bytes(bytes: number): void {
    this.aclBufferBytes = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
    this.session?.fd?.set_window(this.readWindowMs());
  }

  /** The fd path's read window now: rx_coalesce_ms, capped by the controller's buffers at the current baud. */
  private readWindowMs(): number {
    if (this.aclBufferBytes === 0 || !(this.currentBaud > 0)) return this.rxCoalesceMs;
    const cap = Math.floor((this.aclBufferBytes * 10 * 1000) / this.currentBaud / 2);
    return Math.min(this.rxCoalesceMs, cap);
  }

  set_baudrate(baudrate: number): number {
    if (!Number.isInteger(baudrate) || baudrate <= 0) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    const session = this.session;
    if (this.state !== 'open' || !session) return ERROR_CODE_COMMAND_DISALLOWED;
    const loop = this.up.loop();
    const port = session.port;
    const previous = this.currentBaud;
    this.currentBaud = baudrate;
    session.fd?.set_window(this.readWindowMs());
    // Hold writes (sent after this call) until the port runs at the new speed.
    if (session.fd) session.fd.hold();
    else port.cork();
    this.baudUpdates++;
    port.update({ baudRate: baudrate }, (err) => {
      loop.execute_on_main_thread(() => {
        if (this.session !== session) return;
        this.baudUpdates--;
        if (session.fd) session.fd.release();
        else port.uncork();
        if (err) {
          this.currentBaud = previous;
          session.fd?.set_window(this.readWindowMs());
          this.fail(session, `cannot set ${this.config.device_name} to ${baudrate} baud: ${err.message}`);
          return;
        }
        this.logger?.info(`${this.config.device_name}: now at ${baudrate} baud`);
      });
    });
    return ERROR_CODE_SUCCESS;
  }

  // ---- internals ---------------------------------------------------------------------------

  private onOpened(session: Session, err: Error | null): void {
    if (this.session !== session) return;
    const path = this.config.device_name;
    if (err) {
      this.session = null;
      const wasClosing = this.state === 'closing';
      this.state = 'closed';
      session.ended = true;
      if (wasClosing) {
        this.up.emit({ type: 'closed' });
        this.maybeReopen();
        return;
      }
      this.up.report('open-failed', describe_open_error(path, err).message);
      return;
    }
    if (this.state === 'closing') {
      // close() was called while opening
      this.closePort(session);
      return;
    }
    this.state = 'open';
    this.startIo(session);
    this.logger?.info(
      `${path}: open at ${this.currentBaud} baud, flow control ${this.config.flowcontrol ? 'on' : 'off'}, I/O ${this.ioPathUsed}`,
    );
    const lines = this.modemLines;
    if (lines) {
      session.port.set({ dtr: lines.dtr, rts: lines.rts }, (e) => {
        if (e) this.logger?.info(`${path}: setting DTR/RTS not supported here, ignored (${e.message})`);
      });
    }
    this.presence.arm();
    this.up.emit({ type: 'opened' });
  }

  /** The fd path where the binding offers one (and it was not refused), else serialport's stream. */
  private startIo(session: Session): void {
    const loop = this.up.loop();
    const handle = this.ioChoice === 'stream' ? null : fd_io_handle((session.port as { port?: unknown }).port);
    if (!handle && this.ioChoice === 'fd') {
      this.logger?.info(`${this.config.device_name}: no file descriptor from the serial binding here, using the stream path`);
    }
    if (handle) {
      const fd = new FdSerialIo(
        handle,
        loop,
        {
          on_data: (bytes, length) => {
            if (this.session === session && this.state === 'open') this.deframer.feed(bytes, 0, length);
          },
          on_drained: () => {
            if (this.session === session && this.state === 'open') this.up.emit({ type: 'can-send-now' });
          },
          on_lost: (reason) => this.fail(session, `serial port ${this.config.device_name} failed: ${reason}`),
        },
        this.maxWriteQueue,
        this.ring.capacity,
        this.readWindowMs(),
      );
      session.fd = fd;
      this.ioPathUsed = 'fd';
      fd.start();
      return;
    }
    this.ioPathUsed = 'stream';
    session.port.on('data', (chunk: Buffer) => {
      if (this.session !== session) return;
      this.streamStats.reads++;
      this.streamStats.read_bytes += chunk.length;
      this.rx.push(chunk);
    });
  }

  private closePort(session: Session): void {
    session.closingByUs = true;
    const loop = this.up.loop();
    this.presence.stop();
    session.fd?.stop();
    const port = session.port;
    if (!port.isOpen) {
      loop.execute_on_main_thread(() => this.onClosedByUs(session));
      return;
    }
    port.close(() => loop.execute_on_main_thread(() => this.onClosedByUs(session)));
  }

  private onClosedByUs(session: Session): void {
    if (this.session !== session || session.ended) return;
    session.ended = true;
    this.presence.stop();
    this.session = null;
    this.state = 'closed';
    this.ring.clear();
    this.rx.clear();
    this.logger?.info(`${this.config.device_name}: closed`);
    this.up.emit({ type: 'closed' });
    this.maybeReopen();
  }

  private maybeReopen(): void {
    if (!this.reopenPending) return;
    this.reopenPending = false;
    this.open();
  }

  /** A 'close' or 'error' event from the port. */
  private onPortGone(session: Session, err: Error | null, what: 'closed' | 'error'): void {
    if (this.session !== session || session.ended) return;
    if (session.closingByUs) {
      // our own close: the close callback reports it; an error here means close failed
      if (what === 'error' && this.state === 'closing') this.onClosedByUs(session);
      return;
    }
    if (this.state !== 'open') return; // open errors arrive through the open callback
    const reason = err?.message ?? (what === 'closed' ? 'port closed' : 'port error');
    this.fail(session, `serial port ${this.config.device_name} failed: ${reason}`);
  }

  /** The device vanished or broke: drop the session and report 'failed'. */
  private fail(session: Session, message: string): void {
    if (this.session !== session || session.ended) return;
    session.ended = true;
    session.closingByUs = true;
    this.presence.stop();
    this.session = null;
    this.state = 'closed';
    this.ring.clear();
    this.rx.clear();
    this.deframer.reset();
    session.fd?.stop();
    if (session.port.isOpen) session.port.close(() => {});
    this.up.report('failed', message);
  }

  private onWritten(session: Session, err: Error | null): void {
    if (this.session !== session) return;
    if (err) return; // the stream reports the failure through 'error'/'close'
    this.writesDone.add();
  }

  private processWritesDone(n: number): void {
    if (this.state !== 'open') return;
    for (let i = 0; i < n; i++) this.ring.release();
    if (this.blocked && this.ring.used < this.maxWriteQueue) {
      this.blocked = false;
      this.up.emit({ type: 'can-send-now' });
    }
  }
}

/** BTstack-style factory: an H4 transport for the UART config. */
export function hci_transport_h4_instance(
  config: HciTransportConfigUart,
  options?: SerialPortTransportOptions,
): SerialPortTransport {
  return new SerialPortTransport(config, options);
}
