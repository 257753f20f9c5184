/**
 * HCI over USB (Core spec Vol 4 Part B) through libusb (the optional `usb` package, 2.x; loaded on
 * open): BTstack's hci_transport_h2_libusb for Node. `--port usb` takes the first Bluetooth
 * controller, `usb:VID:PID` or `usb:BUS-PORTS` a given one (find.ts).
 *
 * - Open: the device, interface 0 (the kernel's btusb driver detached when it holds it, and
 *   attached again on close), its claim; then the interrupt IN endpoint (events) and the bulk IN
 *   endpoint (ACL) polled with several reads in flight. One line per failure (errors.ts).
 * - Commands: class control transfers on endpoint 0 (bmRequestType 0x20: host-to-device, class,
 *   device; bRequest 0, wValue 0, wIndex 0). ACL: bulk OUT transfers, one per packet, their bytes
 *   held in a write ring until libusb is done with them. SCO (isochronous, interface 1) is not done.
 * - Incoming: each pipe's transfers go through a UsbPacketAssembler (a transfer may hold part of a
 *   packet or more than one); every callback enters the stack through execute_on_main_thread.
 * - Flow control as the serial transport: can_send_packet_now is false while the ACL bytes handed
 *   to libusb and not yet done reach `max_write_queue`; 'can-send-now' when they drain.
 * - Unplug: the module's 'detach' event for the device, or a transfer ending with NO_DEVICE ->
 *   'failed' ("USB device usb:1-1.2 (0a12:0001) was unplugged").
 * - Firmware: none is downloaded. Realtek dongles then run their ROM code (their rtl_bt download
 *   is not done yet), Intel ones stay in their bootloader (not supported): both are logged at open.
 */
import type { RunLoop } from '../../src/core/run-loop.js';
import type { Logger } from '../../src/core/log.js';
import type { HciTransport, TransportEventHandler, TransportPacketHandler } from '../../src/hci/transport.js';
import {
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS,
  ERROR_CODE_MEMORY_CAPACITY_EXCEEDED,
  ERROR_CODE_SUCCESS,
  HCI_ACL_DATA_PACKET,
  HCI_COMMAND_DATA_PACKET,
  HCI_EVENT_PACKET,
} from '../../src/codes/v1.4.js';
import { WriteRing } from '../serialport/write-ring.js';
import { RunLoopInbox, TransportHandlers, send_packet_args } from '../transport-core.js';
import {
  LIBUSB_ERROR_NOT_SUPPORTED,
  LIBUSB_TRANSFER_TYPE_BULK,
  LIBUSB_TRANSFER_TYPE_INTERRUPT,
  load_usb_binding,
  type UsbDeviceLike,
  type UsbInEndpointLike,
  type UsbInterfaceLike,
  type UsbLibError,
  type UsbLoad,
  type UsbModuleLike,
  type UsbOutEndpointLike,
} from './binding.js';
import { UsbPacketAssembler } from './assembler.js';
import { describe_usb_error, usb_error_is_gone } from './errors.js';
import { usb_id_name, usb_port_name, usb_select, type UsbSelector } from './find.js';

/** bmRequestType of an HCI command: host-to-device, class, recipient device (Vol 4 Part B 2.2). */
export const USB_HCI_COMMAND_REQUEST_TYPE = 0x20;

export interface UsbTransportOptions {
  logger?: Logger;
  /** The usb module (default: imported on open; tests pass the fake). */
  usb?: UsbModuleLike;
  load?: () => Promise<UsbLoad>;
  /** Bulk IN reads kept in flight (default 4) of `acl_read_size` bytes (default 1028, as Linux's btusb). */
  acl_reads?: number;
  acl_read_size?: number;
  /** Interrupt IN reads kept in flight (default 2), each of the endpoint's packet size. */
  event_reads?: number;
  /** ACL bytes handed to libusb and not done above which can_send_packet_now() is false (default 8192). */
  max_write_queue?: number;
  /** Largest incoming ACL data length (default 65535). */
  max_acl?: number;
}

type State = 'closed' | 'opening' | 'open' | 'closing';

interface Session {
  device: UsbDeviceLike | null;
  iface: UsbInterfaceLike | null;
  evIn: UsbInEndpointLike | null;
  aclIn: UsbInEndpointLike | null;
  aclOut: UsbOutEndpointLike | null;
  detached: boolean;
  ended: boolean;
  usb: UsbModuleLike | null;
  onDetach: ((d: UsbDeviceLike) => void) | null;
  onCommand: (err: UsbLibError | undefined) => void;
  onAcl: (err: UsbLibError | undefined) => void;
}

/** Vendors whose dongles need a firmware download bthost does not do (a line at open). */
const FIRMWARE_NOTES: Record<number, string> = {
  0x0bda: 'Realtek: bthost does not download its rtl_bt firmware yet; the controller runs its ROM code',
  0x8087: 'Intel: bthost does not download Intel firmware; the controller may stay in its bootloader (not supported)',
};

export class UsbTransport implements HciTransport {
  readonly name = 'USB';
  private readonly logger: Logger | undefined;
  private readonly up: TransportHandlers;
  private readonly usbModule: UsbModuleLike | undefined;
  private readonly load: () => Promise<UsbLoad>;
  private readonly aclReads: number;
  private readonly aclReadSize: number;
  private readonly eventReads: number;
  private readonly maxWriteQueue: number;
  private readonly ring: WriteRing;
  private readonly events: UsbPacketAssembler;
  private readonly acl: UsbPacketAssembler;
  private state: State = 'closed';
  private session: Session | null = null;
  private reopenPending = false;
  private blocked = false;
  private readonly rx: RunLoopInbox<{ pipe: UsbPacketAssembler; chunk: Buffer }>;
  /** The device opened last: `usb:1-1.2 (0a12:0001)`; '' before. */
  opened_device = '';

  constructor(
    readonly selector: UsbSelector,
    options: UsbTransportOptions = {},
  ) {
    this.logger = options.logger;
    this.up = new TransportHandlers('UsbTransport', options.logger);
    this.usbModule = options.usb;
    this.load = options.load ?? (() => load_usb_binding());
    this.aclReads = options.acl_reads ?? 4;
    this.aclReadSize = options.acl_read_size ?? 1028;
    this.eventReads = options.event_reads ?? 2;
    this.maxWriteQueue = options.max_write_queue ?? 8192;
    this.ring = new WriteRing(4 * this.maxWriteQueue + 66 * 1024);
    const on_packet = (type: number, p: Uint8Array, n: number): void => this.up.packet(type, p, n);
    const on_error = (message: string): void => {
      this.logger?.error(`USB framing error: ${message}`);
      this.up.emit({ type: 'framing-error', error: `${this.opened_device}: ${message}` });
    };
    this.events = new UsbPacketAssembler({ type: HCI_EVENT_PACKET, on_packet, on_error });
    this.acl = new UsbPacketAssembler({ type: HCI_ACL_DATA_PACKET, max_acl: options.max_acl, on_packet, on_error });
    this.rx = new RunLoopInbox(
      () => this.up.loop(),
      () => this.state === 'open',
      ({ pipe, chunk }) => pipe.feed(chunk, 0, chunk.length),
    );
  }

  get is_open(): boolean {
    return this.state === 'open';
  }

  /** ACL bytes handed to libusb and not done. */
  get write_queue_bytes(): number {
    return this.ring.used;
  }

  max_acl_receive_length(): number {
    return this.acl.max;
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
    this.blocked = false;
    this.ring.clear();
    this.rx.clear();
    this.events.reset();
    this.acl.reset();
    const session: Session = {
      device: null,
      iface: null,
      evIn: null,
      aclIn: null,
      aclOut: null,
      detached: false,
      ended: false,
      usb: null,
      onDetach: null,
      onCommand: () => {},
      onAcl: () => {},
    };
    session.onCommand = (err) => loop.execute_on_main_thread(() => this.transferDone(session, err, false));
    session.onAcl = (err) => loop.execute_on_main_thread(() => this.transferDone(session, err, true));
    this.session = session;
    const mod = this.usbModule;
    if (mod) {
      loop.execute_on_main_thread(() => this.start(session, { ok: true, usb: mod }));
      return;
    }
    this.load().then(
      (l) => loop.execute_on_main_thread(() => this.start(session, l)),
      (err: unknown) => loop.execute_on_main_thread(() => this.start(session, { ok: false, error: String(err) })),
    );
  }

  close(): void {
    this.reopenPending = false;
    const session = this.session;
    if (this.state === 'closed' || !session) {
      this.up.post({ type: 'closed' });
      return;
    }
    if (this.state === 'opening') {
      this.state = 'closing';
      return;
    }
    if (this.state === 'closing') return;
    this.state = 'closing';
    this.release(session, true, () => this.closed());
  }

  can_send_packet_now(packet_type: number): boolean {
    if (this.state !== 'open') return false;
    if (packet_type !== HCI_ACL_DATA_PACKET) return true;
    if (this.ring.used >= this.maxWriteQueue) {
      this.blocked = true;
      return false;
    }
    return true;
  }

  send_packet(packet_type: number, packet: Uint8Array, size: number): number {
    const bad = send_packet_args(packet_type, packet, size, false);
    if (bad !== ERROR_CODE_SUCCESS) return bad;
    const s = this.session;
    if (this.state !== 'open' || !s || !s.device || !s.aclOut) return ERROR_CODE_COMMAND_DISALLOWED;
    if (packet_type === HCI_COMMAND_DATA_PACKET) {
      const b = Buffer.from(packet.subarray(0, size)); // a copy: the packet is valid during the call only
      try {
        s.device.controlTransfer(USB_HCI_COMMAND_REQUEST_TYPE, 0, 0, 0, b, s.onCommand);
      } catch (err) {
        this.up.loop().execute_on_main_thread(() => this.transferDone(s, err as UsbLibError, false));
      }
      return ERROR_CODE_SUCCESS;
    }
    if (packet_type !== HCI_ACL_DATA_PACKET) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS; // SCO over USB: not done
    const pos = this.ring.reserve(Math.max(size, 1));
    if (pos < 0) {
      this.blocked = true;
      return ERROR_CODE_MEMORY_CAPACITY_EXCEEDED;
    }
    this.ring.buffer.set(packet.subarray(0, size), pos);
    try {
      s.aclOut.transfer(this.ring.buffer.subarray(pos, pos + size), s.onAcl);
    } catch (err) {
      this.up.loop().execute_on_main_thread(() => this.transferDone(s, err as UsbLibError, true));
    }
    return ERROR_CODE_SUCCESS;
  }

  // ---- internals

  private start(session: Session, load: UsbLoad): void {
    if (this.session !== session) return;
    if (this.state === 'closing') return this.closed();
    if (!load.ok) return this.openFailed(session, load.error);
    const usb = load.usb;
    let list: UsbDeviceLike[];
    try {
      list = usb.getDeviceList();
    } catch (err) {
      return this.openFailed(session, `cannot list USB devices: ${(err as Error).message}`);
    }
    const pick = usb_select(list, this.selector);
    if ('error' in pick) return this.openFailed(session, pick.error);
    const dev = pick.device;
    this.opened_device = `${usb_port_name(dev)} (${usb_id_name(dev).slice(4)})`;
    try {
      dev.open();
    } catch (err) {
      return this.openFailed(session, describe_usb_error(dev, 'open', err).message);
    }
    session.device = dev;
    let iface: UsbInterfaceLike;
    try {
      iface = dev.interface(0);
    } catch (err) {
      this.closeDevice(session);
      return this.openFailed(session, `USB device ${this.opened_device} has no interface 0: ${(err as Error).message}`);
    }
    try {
      if (iface.isKernelDriverActive()) {
        iface.detachKernelDriver();
        session.detached = true;
        this.logger?.info(`${this.opened_device}: kernel driver detached`);
      }
    } catch (err) {
      if ((err as UsbLibError).errno !== LIBUSB_ERROR_NOT_SUPPORTED) {
        this.closeDevice(session);
        return this.openFailed(session, describe_usb_error(dev, 'detach', err).message);
      }
    }
    try {
      iface.claim();
    } catch (err) {
      this.reattach(session, iface);
      this.closeDevice(session);
      return this.openFailed(session, describe_usb_error(dev, 'claim', err).message);
    }
    session.iface = iface;
    const eps = iface.endpoints;
    const evIn = eps.find((e) => e.direction === 'in' && e.transferType === LIBUSB_TRANSFER_TYPE_INTERRUPT) as
      UsbInEndpointLike | undefined;
    const aclIn = eps.find((e) => e.direction === 'in' && e.transferType === LIBUSB_TRANSFER_TYPE_BULK) as
      UsbInEndpointLike | undefined;
    const aclOut = eps.find((e) => e.direction === 'out' && e.transferType === LIBUSB_TRANSFER_TYPE_BULK) as
      UsbOutEndpointLike | undefined;
    if (!evIn || !aclIn || !aclOut) {
      this.release(session, false, () => {});
      return this.openFailed(
        session,
        `USB device ${this.opened_device} is not an HCI controller: interface 0 lacks interrupt IN, bulk IN and bulk OUT endpoints`,
      );
    }
    Object.assign(session, { evIn, aclIn, aclOut });
    const loop = this.up.loop();
    const pipe = (ep: UsbInEndpointLike, asm: UsbPacketAssembler): void => {
      ep.on('data', (chunk: Buffer) => {
        if (this.session !== session || session.ended) return;
        this.rx.push({ pipe: asm, chunk });
      });
      ep.on('error', (err: UsbLibError) => loop.execute_on_main_thread(() => this.transferDone(session, err, false)));
    };
    pipe(evIn, this.events);
    pipe(aclIn, this.acl);
    try {
      evIn.startPoll(this.eventReads);
      aclIn.startPoll(this.aclReads, this.aclReadSize);
    } catch (err) {
      this.release(session, true, () => {});
      return this.openFailed(session, describe_usb_error(dev, 'open', err).message);
    }
    session.usb = usb;
    session.onDetach = (d) => {
      if (d === dev) loop.execute_on_main_thread(() => this.fail(session, `USB device ${this.opened_device} was unplugged`));
    };
    usb.on?.('detach', session.onDetach);
    this.state = 'open';
    const note = FIRMWARE_NOTES[dev.deviceDescriptor.idVendor];
    if (note) this.logger?.info(`${this.opened_device}: ${note}`);
    this.logger?.info(`${this.opened_device}: open`);
    this.up.emit({ type: 'opened' });
  }

  private reattach(session: Session, iface: UsbInterfaceLike): void {
    if (!session.detached) return;
    session.detached = false;
    try {
      iface.attachKernelDriver();
      this.logger?.info(`${this.opened_device}: kernel driver attached again`);
    } catch (err) {
      this.logger?.info(`${this.opened_device}: cannot attach the kernel driver again (${(err as Error).message})`);
    }
  }

  private closeDevice(session: Session): void {
    try {
      session.device?.close();
    } catch {
      // already gone
    }
  }

  /** Stop the polls, release interface 0, give it back to the kernel, close the device; then `done` on the run loop. */
  private release(session: Session, polls: boolean, done: () => void): void {
    const loop = this.up.loop();
    session.ended = true;
    if (session.onDetach) session.usb?.removeListener?.('detach', session.onDetach);
    const iface = session.iface;
    const finish = (): void =>
      loop.execute_on_main_thread(() => {
        session.evIn?.removeAllListeners();
        session.aclIn?.removeAllListeners();
        if (iface) this.reattach(session, iface);
        this.closeDevice(session);
        done();
      });
    if (!iface) return finish();
    try {
      iface.release(polls, () => finish());
    } catch {
      finish();
    }
  }

  private openFailed(session: Session, message: string): void {
    if (this.session !== session) return;
    const closing = this.state === 'closing';
    session.ended = true;
    this.session = null;
    this.state = 'closed';
    if (closing) {
      this.up.emit({ type: 'closed' });
      this.maybeReopen();
      return;
    }
    this.up.report('open-failed', message);
  }

  private closed(): void {
    this.session = null;
    this.state = 'closed';
    this.ring.clear();
    this.rx.clear();
    this.logger?.info(`${this.opened_device}: closed`);
    this.up.emit({ type: 'closed' });
    this.maybeReopen();
  }

  private maybeReopen(): void {
    if (!this.reopenPending) return;
    this.reopenPending = false;
    this.open();
  }

  private fail(session: Session, message: string): void {
    if (this.session !== session || session.ended || this.state !== 'open') return;
    this.session = null;
    this.state = 'closed';
    this.ring.clear();
    this.rx.clear();
    this.release(session, true, () => {});
    this.up.report('failed', message);
  }

  private transferDone(session: Session, err: UsbLibError | undefined, acl: boolean): void {
    if (this.session !== session || session.ended) return;
    if (err) {
      const dev = session.device!;
      this.fail(
        session,
        usb_error_is_gone(err)
          ? `USB device ${this.opened_device} was unplugged`
          : describe_usb_error(dev, 'transfer', err).message,
      );
      return;
    }
    if (!acl) return;
    this.ring.release();
    if (this.blocked && this.ring.used < this.maxWriteQueue) {
      this.blocked = false;
      this.up.emit({ type: 'can-send-now' });
    }
  }
}
