/**
 * H5 (Three-wire UART) over a serial port: BTstack's hci_transport_h5 for boards whose UART has no
 * RTS/CTS. The port is opened as the H4 transport opens it (transport.ts: 8N1 at baudrate_init,
 * RTS/CTS per `flowcontrol`, exclusive lock, the same one-line open errors), and its bytes go
 * through an H5Line (h5-line.ts: the sans-I/O H5Link, role host) instead of an H4 deframer:
 *
 * - 'opened' only once the H5 link is Active (SYNC / CONFIG done): HCI's Reset goes over an
 *   established link; never Active within `establish_ms` -> 'open-failed' with one line, the port
 *   closed again.
 * - The controller restarting (SYNC on an active link) -> 'reset': HCI restarts as after a
 *   Hardware Error.
 * - Outgoing packets wait in the link's window (reliable types) until acknowledged;
 *   `can_send_packet_now` is false while the window is full or the OS holds `max_write_queue`
 *   bytes; 'can-send-now' follows.
 * - Bytes to the port go through a fixed write ring; when it is full a frame is dropped (H5
 *   retransmits it), never queued without bound.
 * - A close or error we did not ask for (unplug, pty peer gone) -> 'failed'.
 *
 * Every serialport callback enters the stack through run_loop.execute_on_main_thread.
 */
import { SerialPort, type SerialPortMock } from 'serialport';
import type { RunLoop } from '../../src/core/run-loop.js';
import type { Logger } from '../../src/core/log.js';
import type { HciTransport, TransportEvent, TransportEventHandler, TransportPacketHandler } from '../../src/hci/transport.js';
import type { HciTransportConfigUart } from '../../src/chipset/chipset.js';
import {
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS,
  ERROR_CODE_SUCCESS,
} from '../../src/codes/v1.4.js';
import { describe_open_error } from './errors.js';
import { check_uart_config } from './uart-config.js';
import { WriteRing } from './write-ring.js';
import { H5_MAX_ACL, H5Line, type H5LineOptions } from './h5-line.js';
import { RunLoopCounter, RunLoopInbox, TransportHandlers, send_packet_args } from '../transport-core.js';

export interface H5SerialPortTransportOptions extends H5LineOptions {
  logger?: Logger;
  /** Bytes handed to the port and not yet written above which can_send_packet_now() is false (default 8192). */
  max_write_queue?: number;
  /** Take an exclusive lock on the device (default true). */
  lock?: boolean;
  /** The port class (default serialport's SerialPort; tests may pass SerialPortMock). */
  port_class?: typeof SerialPort | typeof SerialPortMock;
}

type PortStream = SerialPort | SerialPortMock;

interface Session {
  port: PortStream;
  closingByUs: boolean;
  ended: boolean;
  onWrite: (err: Error | null | undefined) => void;
}

export class H5SerialPortTransport implements HciTransport {
  readonly name = 'H5 serialport';
  readonly config: Readonly<HciTransportConfigUart>;
  private line: H5Line | null = null;
  private readonly lineOptions: H5LineOptions;
  private readonly logger: Logger | undefined;
  private readonly up: TransportHandlers;
  private readonly maxWriteQueue: number;
  private readonly ring: WriteRing;
  private readonly lock: boolean;
  private readonly PortClass: typeof SerialPort | typeof SerialPortMock;
  private session: Session | null = null;
  private state: 'closed' | 'opening' | 'open' | 'closing' = 'closed';
  private currentBaud: number;
  private blocked = false;
  private readonly rx: RunLoopInbox<Buffer>;
  private readonly writesDone: RunLoopCounter;
  /** Frames dropped because the write ring was full. */
  dropped_writes = 0;

  constructor(config: HciTransportConfigUart, options: H5SerialPortTransportOptions = {}) {
    check_uart_config('H5SerialPortTransport', config);
    this.config = { ...config };
    this.currentBaud = config.baudrate_init;
    this.logger = options.logger;
    this.up = new TransportHandlers('H5SerialPortTransport', options.logger);
    this.maxWriteQueue = options.max_write_queue ?? 8192;
    this.ring = new WriteRing(4 * this.maxWriteQueue + 16 * 1024);
    this.lock = options.lock ?? true;
    this.PortClass = options.port_class ?? SerialPort;
    this.lineOptions = options;
    const loop = (): RunLoop => this.up.loop();
    this.rx = new RunLoopInbox(
      loop,
      () => this.state === 'open',
      (c) => this.h5.feed(new Uint8Array(c.buffer, c.byteOffset, c.length)),
    );
    this.writesDone = new RunLoopCounter(loop, (n) => this.writesDoneNow(n));
  }

  /** The H5 link (state, config, stats); made by init(). */
  get h5(): H5Line {
    if (!this.line) throw new TypeError('H5SerialPortTransport: init(run_loop) must be called first');
    return this.line;
  }

  init(run_loop: RunLoop): void {
    this.up.init(run_loop);
    this.line ??= new H5Line(
      {
        run_loop,
        where: () => `${this.config.device_name} at ${this.currentBaud} baud`,
        write: (bytes) => this.write(bytes),
        packet: (type, packet, size) => this.up.packet(type, packet, size),
        event: (ev) => this.onLineEvent(ev),
        logger: this.logger,
      },
      this.lineOptions,
    );
  }

  get baudrate(): number {
    return this.currentBaud;
  }

  get is_open(): boolean {
    return this.state === 'open' && !!this.line?.active;
  }

  /** An H5 frame carries at most 4095 payload bytes: ACL data up to 4091. */
  max_acl_receive_length(): number {
    return H5_MAX_ACL;
  }

  register_packet_handler(handler: TransportPacketHandler): void {
    this.up.set_packet_handler(handler);
  }

  register_event_handler(handler: TransportEventHandler): void {
    this.up.set_event_handler(handler);
  }

  open(): void {
    const loop = this.up.loop();
    if (this.state !== 'closed') {
      this.logger?.info(`${this.config.device_name}: open() while ${this.state}, ignored`);
      return;
    }
    const path = this.config.device_name;
    this.state = 'opening';
    this.currentBaud = this.config.baudrate_init;
    this.blocked = false;
    this.ring.clear();
    this.rx.clear();
    this.writesDone.clear();
    let port: PortStream;
    try {
      port = new this.PortClass({
        path,
        baudRate: this.config.baudrate_init,
        dataBits: 8,
        stopBits: 1,
        parity: 'none',
        rtscts: !!this.config.flowcontrol,
        lock: this.lock,
        autoOpen: false,
      });
    } catch (err) {
      this.state = 'closed';
      this.up.post({ type: 'open-failed', error: describe_open_error(path, err).message });
      return;
    }
    const session: Session = { port, closingByUs: false, ended: false, onWrite: () => {} };
    session.onWrite = (err) => this.onWritten(session, err ?? null);
    this.session = session;
    port.on('data', (chunk: Buffer) => {
      if (this.session === session) this.rx.push(chunk);
    });
    port.on('close', (err: Error | null) => loop.execute_on_main_thread(() => this.onPortGone(session, err ?? null)));
    port.on('error', (err: Error) => loop.execute_on_main_thread(() => this.onPortGone(session, err)));
    port.open((err) => loop.execute_on_main_thread(() => this.onOpened(session, err ?? null)));
  }

  close(): void {
    const session = this.session;
    this.h5.stop();
    if (this.state === 'closed' || !session) {
      this.up.post({ type: 'closed' });
      return;
    }
    if (this.state === 'closing') return;
    const wasOpening = this.state === 'opening';
    this.state = 'closing';
    session.closingByUs = true;
    if (wasOpening) return; // finished in onOpened
    this.closePort(session, { type: 'closed' });
  }

  can_send_packet_now(_packet_type: number): boolean {
    if (this.state !== 'open') return false;
    if (this.ring.used >= this.maxWriteQueue) {
      this.blocked = true;
      return false;
    }
    return this.h5.can_send();
  }

  send_packet(packet_type: number, packet: Uint8Array, size: number): number {
    const bad = send_packet_args(packet_type, packet, size, true);
    if (bad !== ERROR_CODE_SUCCESS) return bad;
    if (this.state !== 'open') return ERROR_CODE_COMMAND_DISALLOWED;
    return this.h5.send(packet_type, packet, size);
  }

  set_baudrate(baudrate: number): number {
    if (!Number.isInteger(baudrate) || baudrate <= 0) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
    const session = this.session;
    if (this.state !== 'open' || !session) return ERROR_CODE_COMMAND_DISALLOWED;
    const loop = this.up.loop();
    const port = session.port;
    const previous = this.currentBaud;
    this.currentBaud = baudrate;
    port.cork(); // writes after this call wait for the new speed
    port.update({ baudRate: baudrate }, (err) => {
      loop.execute_on_main_thread(() => {
        if (this.session !== session) return;
        port.uncork();
        if (err) {
          this.currentBaud = previous;
          this.end(session, `cannot set ${this.config.device_name} to ${baudrate} baud: ${err.message}`, 'failed');
        }
      });
    });
    return 0;
  }

  // ---- internals ---------------------------------------------------------------------------

  private onLineEvent(ev: TransportEvent): void {
    const session = this.session;
    if (ev.type === 'open-failed') {
      if (session) this.end(session, ev.error, 'open-failed');
      return;
    }
    if (ev.type === 'can-send-now') this.blocked = false;
    this.up.emit(ev);
  }

  private onOpened(session: Session, err: Error | null): void {
    if (this.session !== session) return;
    if (err) {
      const closing = this.state === 'closing';
      this.session = null;
      this.state = 'closed';
      session.ended = true;
      if (closing) this.up.emit({ type: 'closed' });
      else this.up.emit({ type: 'open-failed', error: describe_open_error(this.config.device_name, err).message });
      return;
    }
    if (this.state === 'closing') {
      this.closePort(session, { type: 'closed' });
      return;
    }
    this.state = 'open';
    this.logger?.info(`${this.config.device_name}: open at ${this.currentBaud} baud, establishing the H5 link`);
    this.h5.start(); // 'opened' once the link is active
  }

  private write(bytes: Uint8Array): void {
    const session = this.session;
    if (this.state !== 'open' || !session) return;
    const pos = this.ring.reserve(bytes.length);
    if (pos < 0) {
      this.dropped_writes++; // the link sends it again
      return;
    }
    const buf = this.ring.buffer;
    buf.set(bytes, pos);
    session.port.write(buf.subarray(pos, pos + bytes.length), session.onWrite);
  }

  private onWritten(session: Session, err: Error | null): void {
    if (this.session === session && !err) this.writesDone.add();
  }

  private writesDoneNow(n: number): void {
    if (this.state !== 'open') return;
    for (let i = 0; i < n; i++) this.ring.release();
    if (this.blocked && this.ring.used < this.maxWriteQueue && this.h5.can_send()) {
      this.blocked = false;
      this.up.emit({ type: 'can-send-now' });
    }
  }

  private closePort(session: Session, then: TransportEvent): void {
    session.closingByUs = true;
    const done = (): void => {
      if (session.ended) return;
      session.ended = true;
      if (this.session === session) {
        this.session = null;
        this.state = 'closed';
      }
      this.ring.clear();
      this.rx.clear();
      this.logger?.info(`${this.config.device_name}: closed`);
      this.up.emit(then);
    };
    const loop = this.up.loop();
    if (!session.port.isOpen) loop.execute_on_main_thread(done);
    else session.port.close(() => loop.execute_on_main_thread(done));
  }

  /** The port fails or the link never came up: close it, then report `type`. */
  private end(session: Session, message: string, type: 'failed' | 'open-failed'): void {
    if (this.session !== session || session.ended) return;
    this.h5.stop();
    this.state = 'closing';
    this.logger?.error(message);
    this.closePort(session, { type, error: message });
  }

  private onPortGone(session: Session, err: Error | null): void {
    if (this.session !== session || session.ended || session.closingByUs) return;
    if (this.state !== 'open') return; // open errors come through the open callback
    this.end(session, `serial port ${this.config.device_name} failed: ${err?.message ?? 'port closed'}`, 'failed');
  }
}

/** BTstack-style factory: an H5 transport for the UART config. */
export function hci_transport_h5_instance(
  config: HciTransportConfigUart,
  options?: H5SerialPortTransportOptions,
): H5SerialPortTransport {
  return new H5SerialPortTransport(config, options);
}
