/**
 * The Linux HCI user channel (`--port hci0`, `hci:0` in the API): exclusive raw access to a
 * controller the kernel has found and brought up (its driver loaded the firmware: btusb, hci_uart
 * on a Raspberry Pi), as BTstack's Linux port takes it. The kernel's own Bluetooth stack (BlueZ)
 * must leave the device down; bind errors are told as one line each (errors.ts).
 *
 * Sans-I/O split: the socket is the optional native package's (binding.ts), loaded on open; this
 * class only moves packets and states, and `socket_class` takes a fake with the same interface
 * (test/helpers/fake-hci-socket.ts, driven by the virtual controller).
 * - Every socket callback enters the stack through `run_loop.execute_on_main_thread`.
 * - One packet per read, H4 type byte first (datagram.ts checks its length against its header: a
 *   packet cut short, e.g. by the binding's 1024-byte read buffer, is a 'framing-error').
 * - Writes go to the kernel synchronously (one reused buffer): nothing queues here, the HCI
 *   credits are the flow control.
 * - The device gone (a write fails with EPIPE / EBADFD, or /sys/class/bluetooth/hciN vanished,
 *   checked `presence_check_ms` after the previous check) -> 'failed'.
 * - close() stops the reader (the binding waits up to its 1 s read timeout) and so closes the socket.
 */
import { access, readdir, readFile } from 'node:fs/promises';
import type { RunLoop } from '../../src/core/run-loop.js';
import type { Logger } from '../../src/core/log.js';
import type { HciTransport, TransportEventHandler, TransportPacketHandler } from '../../src/hci/transport.js';
import { ERROR_CODE_COMMAND_DISALLOWED, ERROR_CODE_SUCCESS } from '../../src/codes/v1.4.js';
import { PresenceCheck, RunLoopInbox, TransportHandlers, send_packet_args } from '../transport-core.js';
import {
  load_hci_socket_binding,
  type HciSocketClass,
  type HciSocketError,
  type HciSocketLike,
  type HciSocketLoad,
} from './binding.js';
import { hci_datagram_check } from './datagram.js';
import { describe_hci_socket_error, describe_hci_socket_failure, hci_socket_errno } from './errors.js';

/** The binding reads into 1024 bytes: type byte + 4-byte ACL header + at most this much data. */
export const HCI_SOCKET_MAX_ACL = 1024 - 5;

export interface HciSocketTransportOptions {
  logger?: Logger;
  /** The socket class (default: the binding's, imported on open; tests pass a fake). */
  socket_class?: HciSocketClass;
  /** How the binding is loaded (default load_hci_socket_binding). */
  load?: () => Promise<HciSocketLoad>;
  /** While open, check this many ms after the last check that the device still exists (default 500; 0 = off). */
  presence_check_ms?: number;
  /** The presence check (default: /sys/class/bluetooth/hciN exists). */
  device_present?: (dev: number) => Promise<boolean>;
  /** Whether bluetoothd runs (default: a process named bluetoothd in /proc): EBUSY is then BlueZ holding the device. */
  bluez_running?: () => Promise<boolean>;
}

async function sysfsPresent(dev: number): Promise<boolean> {
  try {
    await access(`/sys/class/bluetooth/hci${dev}`);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Whether a process named bluetoothd runs (reads /proc/PID/comm). */
export async function bluetoothd_running(): Promise<boolean> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  } catch {
    return false;
  }
  for (const pid of pids) {
    try {
      if ((await readFile(`/proc/${pid}/comm`, 'utf8')).trim() === 'bluetoothd') return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

type State = 'closed' | 'opening' | 'open' | 'closing';

interface Session {
  socket: HciSocketLike | null;
  ended: boolean;
}

export class HciSocketTransport implements HciTransport {
  readonly name = 'HCI user channel';
  /** 'hci0'. */
  readonly device_name: string;
  private readonly logger: Logger | undefined;
  private readonly up: TransportHandlers;
  private readonly load: () => Promise<HciSocketLoad>;
  private readonly socketClass: HciSocketClass | undefined;
  private readonly bluezRunning: () => Promise<boolean>;
  private readonly presence: PresenceCheck<Session>;
  private state: State = 'closed';
  private session: Session | null = null;
  private reopenPending = false;
  private readonly out = Buffer.alloc(1 + 4 + 65535);
  private readonly rx: RunLoopInbox<Buffer>;
  private framingErrors = 0;

  constructor(
    readonly dev_id: number,
    options: HciSocketTransportOptions = {},
  ) {
    if (!Number.isInteger(dev_id) || dev_id < 0 || dev_id > 0xfffe)
      throw new TypeError(`HciSocketTransport: bad device index ${dev_id}`);
    this.device_name = `hci${dev_id}`;
    this.logger = options.logger;
    this.up = new TransportHandlers('HciSocketTransport', options.logger);
    this.socketClass = options.socket_class;
    this.load = options.load ?? (() => load_hci_socket_binding());
    this.bluezRunning = options.bluez_running ?? bluetoothd_running;
    const loop = (): RunLoop => this.up.loop();
    const devicePresent = options.device_present ?? sysfsPresent;
    this.presence = new PresenceCheck(
      loop,
      options.presence_check_ms ?? 500,
      () => (this.state === 'open' ? this.session : null),
      () => devicePresent(this.dev_id),
      (session) => this.fail(session, `${this.device_name} is gone: the controller was unplugged or its driver unloaded`),
    );
    this.rx = new RunLoopInbox(
      loop,
      () => this.state === 'open',
      (d) => this.received(d),
    );
  }

  get is_open(): boolean {
    return this.state === 'open';
  }

  /** Packets dropped because their length did not match their header. */
  get framing_errors(): number {
    return this.framingErrors;
  }

  max_acl_receive_length(): number {
    return HCI_SOCKET_MAX_ACL;
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
    if (this.state === 'open' || this.state === 'opening') return;
    if (this.state === 'closing') {
      this.reopenPending = true;
      return;
    }
    this.state = 'opening';
    this.rx.clear();
    const session: Session = { socket: null, ended: false };
    this.session = session;
    const cls = this.socketClass;
    if (cls) {
      loop.execute_on_main_thread(() => this.bind(session, { ok: true, socket_class: cls }));
      return;
    }
    this.load().then(
      (load) => loop.execute_on_main_thread(() => this.bind(session, load)),
      (err: unknown) => loop.execute_on_main_thread(() => this.bind(session, { ok: false, error: String(err) })),
    );
  }

  close(): void {
    const loop = this.up.loop();
    this.reopenPending = false;
    const session = this.session;
    if (this.state === 'closed' || !session) {
      this.up.post({ type: 'closed' });
      return;
    }
    if (this.state === 'opening') {
      this.state = 'closing'; // bind() finishes the close
      return;
    }
    if (this.state === 'closing') return;
    this.state = 'closing';
    this.endSession(session);
    loop.execute_on_main_thread(() => this.closed());
  }

  can_send_packet_now(_packet_type: number): boolean {
    return this.state === 'open';
  }

  send_packet(packet_type: number, packet: Uint8Array, size: number): number {
    const bad = send_packet_args(packet_type, packet, size, true, this.out.length - 1);
    if (bad !== ERROR_CODE_SUCCESS) return bad;
    const socket = this.session?.socket;
    if (this.state !== 'open' || !socket) return ERROR_CODE_COMMAND_DISALLOWED;
    this.out[0] = packet_type;
    this.out.set(packet.subarray(0, size), 1);
    socket.write(this.out.subarray(0, size + 1));
    return ERROR_CODE_SUCCESS;
  }

  // ---- internals

  private bind(session: Session, load: HciSocketLoad): void {
    if (this.session !== session) return;
    if (this.state === 'closing') {
      this.closed();
      return;
    }
    if (!load.ok) return this.openFailed(session, load.error);
    const loop = this.up.loop();
    let socket: HciSocketLike;
    try {
      socket = new load.socket_class();
    } catch (err) {
      return this.openFailed(session, describe_hci_socket_error(this.dev_id, err).message);
    }
    session.socket = socket;
    let bindError: unknown = null;
    let binding = true;
    socket.on('error', (err: HciSocketError) => {
      if (binding) bindError ??= err;
      else loop.execute_on_main_thread(() => this.socketError(session, err));
    });
    let result: number | undefined;
    try {
      result = socket.bindUser(this.dev_id);
    } catch (err) {
      bindError = err;
    }
    binding = false;
    if (bindError !== null || typeof result !== 'number') {
      const err = bindError ?? new Error('bind failed');
      if (hci_socket_errno(err) !== 'EBUSY') return this.openFailed(session, describe_hci_socket_error(this.dev_id, err).message);
      const tell = (bluez: boolean): void =>
        loop.execute_on_main_thread(() =>
          this.openFailed(session, describe_hci_socket_error(this.dev_id, err, { bluez_running: bluez }).message),
        );
      this.bluezRunning().then(tell, () => tell(false));
      return;
    }
    socket.on('data', (data: Buffer) => {
      if (this.session !== session || session.ended) return;
      this.rx.push(data);
    });
    socket.start();
    this.state = 'open';
    this.logger?.info(`${this.device_name}: open on the HCI user channel`);
    this.presence.arm();
    this.up.emit({ type: 'opened' });
  }

  private openFailed(session: Session, message: string): void {
    if (this.session !== session) return;
    const closing = this.state === 'closing';
    session.ended = true;
    session.socket?.removeAllListeners();
    this.session = null;
    this.state = 'closed';
    if (closing) {
      this.up.emit({ type: 'closed' });
      this.maybeReopen();
      return;
    }
    this.up.report('open-failed', message);
  }

  /** Stop the reader (closes the socket) and forget the session. */
  private endSession(session: Session): void {
    if (session.ended) return;
    session.ended = true;
    this.presence.stop();
    const socket = session.socket;
    if (socket) {
      try {
        socket.stop();
      } catch (err) {
        this.logger?.info(`${this.device_name}: stop failed, ignored (${(err as Error).message})`);
      }
      socket.removeAllListeners();
    }
    this.rx.clear();
  }

  private closed(): void {
    this.session = null;
    this.state = 'closed';
    this.logger?.info(`${this.device_name}: closed`);
    this.up.emit({ type: 'closed' });
    this.maybeReopen();
  }

  private maybeReopen(): void {
    if (!this.reopenPending) return;
    this.reopenPending = false;
    this.open();
  }

  private socketError(session: Session, err: HciSocketError): void {
    if (this.session !== session || session.ended || this.state !== 'open') return;
    this.fail(session, describe_hci_socket_failure(this.dev_id, err).message);
  }

  private fail(session: Session, message: string): void {
    if (this.session !== session || session.ended) return;
    this.endSession(session);
    this.session = null;
    this.state = 'closed';
    this.up.report('failed', message);
  }

  /** One datagram read (on the run loop, while open). */
  private received(d: Buffer): void {
    const r = hci_datagram_check(d, d.length);
    if (!r.ok) {
      this.framingErrors++;
      const message = `${this.device_name}: ${r.error}`;
      this.logger?.error(`HCI framing error on ${message}`);
      this.up.emit({ type: 'framing-error', error: message });
      return;
    }
    this.up.packet(r.type, d.subarray(r.offset, r.offset + r.size), r.size);
  }
}
