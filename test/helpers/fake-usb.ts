/**
 * A fake of the `usb` package (2.x, its libusb interface: ports/usb/binding.ts describes it) with
 * Bluetooth dongles driven by virtual controllers. What it reproduces:
 * - Device / Interface / InEndpoint / OutEndpoint with the package's methods, sync calls throwing
 *   LibUSBException-like errors (message libusb_error_name, errno LIBUSB_ERROR_*), transfers calling
 *   back later (on the run loop) with LIBUSB_TRANSFER_* errors; claim() while the kernel driver
 *   holds the interface -> LIBUSB_ERROR_BUSY, as libusb on Linux.
 * - Commands must come as class control transfers (bmRequestType 0x20, bRequest 0, wValue 0,
 *   wIndex 0); anything else stalls (LIBUSB_TRANSFER_STALL).
 * - IN endpoints move the controller's packets as USB packets of wMaxPacketSize; a transfer
 *   completes when full or at a short packet (a zero-length one when a packet ends on a packet
 *   boundary), so one 'data' may hold part of an HCI packet or parts of two.
 * - unplug(): transfers in flight fail with LIBUSB_TRANSFER_NO_DEVICE, the module emits 'detach'.
 * - `realtek`: a Realtek ROM in front of the controller (test/helpers/fake-realtek.ts) answers its
 *   vendor commands and Read Local Version as the chip would.
 */
import { EventEmitter } from 'node:events';
import type { RunLoop } from '../../src/core/run-loop.js';
import type { VirtualController } from '../../src/controller/controller.js';
import type {
  UsbDeviceLike,
  UsbEndpointDescriptorLike,
  UsbInEndpointLike,
  UsbInterfaceDescriptorLike,
  UsbInterfaceLike,
  UsbLibError,
  UsbModuleLike,
  UsbOutEndpointLike,
} from '../../ports/usb/binding.js';
import type { FakeRealtekChip } from './fake-realtek.js';

const NAMES: Record<number, string> = {
  [-3]: 'LIBUSB_ERROR_ACCESS',
  [-4]: 'LIBUSB_ERROR_NO_DEVICE',
  [-5]: 'LIBUSB_ERROR_NOT_FOUND',
  [-6]: 'LIBUSB_ERROR_BUSY',
  [-12]: 'LIBUSB_ERROR_NOT_SUPPORTED',
  [-1]: 'LIBUSB_ERROR_IO',
  1: 'LIBUSB_TRANSFER_ERROR',
  4: 'LIBUSB_TRANSFER_STALL',
  5: 'LIBUSB_TRANSFER_NO_DEVICE',
};
export const libusb_error = (errno: number): UsbLibError =>
  Object.assign(new Error(NAMES[errno] ?? `LIBUSB_${errno}`), { errno });

class FakeInEndpoint extends EventEmitter implements UsbInEndpointLike {
  readonly direction = 'in' as const;
  readonly transferType: number;
  readonly address: number;
  pollActive = false;
  /** nTransfers and transferSize of the last startPoll. */
  poll: { n: number; size: number } | null = null;
  private cur: number[] = [];
  constructor(
    private readonly dev: FakeUsbDevice,
    readonly descriptor: UsbEndpointDescriptorLike,
  ) {
    super();
    this.address = descriptor.bEndpointAddress;
    this.transferType = descriptor.bmAttributes & 3;
  }
  startPoll(nTransfers = 3, transferSize = this.descriptor.wMaxPacketSize): unknown {
    if (this.pollActive) throw new Error('Polling already active');
    if (!this.dev.claimed) throw libusb_error(-5);
    this.pollActive = true;
    this.poll = { n: nTransfers, size: transferSize };
    this.cur = [];
    return [];
  }
  stopPoll(callback?: () => void): void {
    if (!this.pollActive) throw new Error('Polling is not active.');
    this.pollActive = false;
    this.cur = [];
    if (callback) this.once('end', callback);
    this.dev.rl.execute_on_main_thread(() => this.emit('end'));
  }
  /** The device sends `bytes` (one HCI packet) as USB packets. */
  deliver(bytes: Uint8Array): void {
    if (!this.pollActive || !this.poll) return;
    const mps = this.descriptor.wMaxPacketSize;
    for (let off = 0; ; off += mps) {
      const pkt = bytes.subarray(off, Math.min(off + mps, bytes.length));
      this.packet(pkt);
      if (pkt.length < mps) break; // short (or zero-length) packet: the HCI packet ended
    }
  }
  private packet(pkt: Uint8Array): void {
    const size = this.poll!.size;
    let short = pkt.length < this.descriptor.wMaxPacketSize;
    for (const b of pkt) {
      this.cur.push(b);
      if (this.cur.length === size) {
        this.complete();
        short = false; // the rest starts a new transfer
      }
    }
    if (short && (this.cur.length > 0 || pkt.length === 0)) this.complete();
  }
  private complete(): void {
    const data = Buffer.from(this.cur);
    this.cur = [];
    if (data.length === 0) return;
    this.dev.rl.execute_on_main_thread(() => {
      if (this.pollActive) this.emit('data', data);
    });
  }
  /** Transfers in flight fail (unplug): 'error' then 'end', as the package's startPoll does. */
  fail(errno: number): void {
    if (!this.pollActive) return;
    this.dev.rl.execute_on_main_thread(() => {
      if (!this.pollActive) return;
      this.emit('error', libusb_error(errno));
      this.stopPoll();
    });
  }
}

class FakeOutEndpoint implements UsbOutEndpointLike {
  readonly direction = 'out' as const;
  readonly transferType: number;
  readonly address: number;
  constructor(
    private readonly dev: FakeUsbDevice,
    readonly descriptor: UsbEndpointDescriptorLike,
  ) {
    this.address = descriptor.bEndpointAddress;
    this.transferType = descriptor.bmAttributes & 3;
  }
  transfer(buffer: Buffer, callback?: (error: UsbLibError | undefined, actual: number) => void): unknown {
    const dev = this.dev;
    if (!(buffer instanceof Buffer)) buffer = Buffer.from(buffer);
    const copy = Buffer.from(buffer);
    dev.completeLater(() => {
      if (dev.gone) return callback?.(libusb_error(5), 0);
      dev.acl_out++;
      dev.controller.host_send(2, copy, copy.length);
      callback?.(undefined, copy.length);
    });
    return this;
  }
}

class FakeInterface implements UsbInterfaceLike {
  readonly interfaceNumber = 0;
  readonly endpoints: (FakeInEndpoint | FakeOutEndpoint)[];
  constructor(private readonly dev: FakeUsbDevice) {
    const [ev, aclIn, aclOut] = dev.configDescriptor.interfaces[0]![0]!.endpoints;
    this.endpoints = [new FakeInEndpoint(dev, ev!), new FakeInEndpoint(dev, aclIn!), new FakeOutEndpoint(dev, aclOut!)];
  }
  get events(): FakeInEndpoint {
    return this.endpoints[0] as FakeInEndpoint;
  }
  get aclIn(): FakeInEndpoint {
    return this.endpoints[1] as FakeInEndpoint;
  }
  claim(): void {
    const d = this.dev;
    if (d.gone) throw libusb_error(-4);
    if (d.errors.claim) throw libusb_error(d.errors.claim);
    if (d.kernel_driver) throw libusb_error(-6);
    d.claimed = true;
  }
  release(closeEndpoints: boolean, callback?: (error?: UsbLibError) => void): void {
    const d = this.dev;
    const active = closeEndpoints
      ? (this.endpoints.filter((e) => e instanceof FakeInEndpoint && e.pollActive) as FakeInEndpoint[])
      : [];
    let n = active.length;
    const next = (): void =>
      d.rl.execute_on_main_thread(() => {
        d.claimed = false;
        callback?.(d.gone ? libusb_error(-4) : undefined);
      });
    if (n === 0) return next();
    for (const ep of active) {
      ep.once('end', () => {
        if (--n === 0) next();
      });
      ep.stopPoll();
    }
  }
  isKernelDriverActive(): boolean {
    return this.dev.kernel_driver;
  }
  detachKernelDriver(): void {
    if (this.dev.errors.detach) throw libusb_error(this.dev.errors.detach);
    this.dev.kernel_driver = false;
    this.dev.detaches++;
  }
  attachKernelDriver(): void {
    if (this.dev.gone) throw libusb_error(-4);
    this.dev.kernel_driver = true;
    this.dev.attaches++;
  }
}

export interface FakeUsbDeviceOptions {
  vid?: number;
  pid?: number;
  bus?: number;
  ports?: number[];
  /** A Bluetooth controller (class E0/01/01 on the device; default true). */
  bluetooth?: boolean;
  /** Class E0/01/01 only on interface 0, the device class 0xEF (as composite dongles). */
  interface_class_only?: boolean;
  /** wMaxPacketSize of the interrupt endpoint (default 16) and of the bulk ones (default 64). */
  mps_event?: number;
  mps_bulk?: number;
  errors?: { open?: number; claim?: number; detach?: number };
  /** A Realtek dongle: its ROM answers the vendor commands (firmware download). */
  realtek?: FakeRealtekChip;
}

export class FakeUsbDevice implements UsbDeviceLike {
  busNumber: number;
  deviceAddress: number;
  portNumbers: number[];
  deviceDescriptor;
  configDescriptor: { interfaces: UsbInterfaceDescriptorLike[][] };
  interfaces: FakeInterface[] | undefined;
  kernel_driver = true;
  claimed = false;
  gone = false;
  opened = false;
  detaches = 0;
  attaches = 0;
  commands = 0;
  acl_out = 0;
  /** Control transfers as given: [bmRequestType, bRequest, wValue, wIndex]. */
  setups: number[][] = [];
  /** Stall every control transfer (a device refusing commands). */
  stall = false;
  /** Hold OUT transfer completions (tests of flow control) until release_out(). */
  hold_out = false;
  private held: (() => void)[] = [];
  readonly errors: NonNullable<FakeUsbDeviceOptions['errors']>;
  readonly realtek: FakeRealtekChip | null;

  constructor(
    readonly module: FakeUsbModule,
    readonly controller: VirtualController,
    o: FakeUsbDeviceOptions = {},
  ) {
    this.busNumber = o.bus ?? 1;
    this.deviceAddress = 2 + module.devices.length;
    this.portNumbers = o.ports ?? [1 + module.devices.length];
    const bt = o.bluetooth ?? true;
    const devClass = bt && !o.interface_class_only ? [0xe0, 0x01, 0x01] : [0xef, 0x02, 0x01];
    this.deviceDescriptor = {
      idVendor: o.vid ?? 0x0a12,
      idProduct: o.pid ?? 0x0001,
      bDeviceClass: devClass[0]!,
      bDeviceSubClass: devClass[1]!,
      bDeviceProtocol: devClass[2]!,
    };
    const ifClass = bt ? [0xe0, 0x01, 0x01] : [0xff, 0x00, 0x00];
    const ep = (addr: number, type: number, mps: number): UsbEndpointDescriptorLike => ({
      bEndpointAddress: addr,
      bmAttributes: type,
      wMaxPacketSize: mps,
    });
    this.configDescriptor = {
      interfaces: [
        [
          {
            bInterfaceNumber: 0,
            bAlternateSetting: 0,
            bInterfaceClass: ifClass[0]!,
            bInterfaceSubClass: ifClass[1]!,
            bInterfaceProtocol: ifClass[2]!,
            endpoints: [ep(0x81, 3, o.mps_event ?? 16), ep(0x82, 2, o.mps_bulk ?? 64), ep(0x02, 2, o.mps_bulk ?? 64)],
          },
        ],
      ],
    };
    this.errors = o.errors ?? {};
    this.realtek = o.realtek ?? null;
  }

  get rl(): RunLoop {
    return this.module.rl;
  }

  open(): void {
    if (this.gone) throw libusb_error(-4);
    if (this.errors.open) throw libusb_error(this.errors.open);
    this.opened = true;
    this.interfaces = [new FakeInterface(this)];
    this.controller.attach_host((type, p, n) => {
      const i = this.interfaces?.[0];
      if (!i || this.gone) return;
      const bytes = Uint8Array.from(p.subarray(0, n));
      if (type === 4) i.events.deliver(this.realtek ? this.realtek.event(bytes) : bytes);
      else if (type === 2) i.aclIn.deliver(bytes);
    });
  }

  close(): void {
    if (!this.opened) throw new Error('Device is not opened');
    this.opened = false;
    this.interfaces = undefined;
    if (!this.gone) this.controller.detach_host();
  }

  interface(addr: number): FakeInterface {
    if (!this.interfaces) throw new Error('Device must be open before searching for interfaces');
    const i = this.interfaces.find((x) => x.interfaceNumber === addr);
    if (!i) throw new Error(`Interface not found for address: ${addr}`);
    return i;
  }

  controlTransfer(
    bmRequestType: number,
    bRequest: number,
    wValue: number,
    wIndex: number,
    data: Buffer | number,
    callback?: (error: UsbLibError | undefined, buffer?: Buffer | number) => void,
  ): unknown {
    if (typeof data === 'number' || (bmRequestType & 0x80) !== 0)
      throw new TypeError('Expected buffer for OUT transfer (based on bmRequestType)');
    this.setups.push([bmRequestType, bRequest, wValue, wIndex]);
    const copy = Buffer.from(data);
    this.rl.execute_on_main_thread(() => {
      if (this.gone) return callback?.(libusb_error(5));
      if (this.stall || bmRequestType !== 0x20 || bRequest !== 0 || wValue !== 0 || wIndex !== 0)
        return callback?.(libusb_error(4));
      this.commands++;
      const own = this.realtek?.command(copy);
      if (own) this.interfaces?.[0]?.events.deliver(own);
      else this.controller.host_send(1, copy, copy.length);
      callback?.(undefined, copy.length);
    });
    return this;
  }

  completeLater(fn: () => void): void {
    if (this.hold_out) this.held.push(fn);
    else this.rl.execute_on_main_thread(fn);
  }

  /** Let the held OUT transfers complete. */
  release_out(): void {
    this.hold_out = false;
    const h = this.held;
    this.held = [];
    for (const fn of h) this.rl.execute_on_main_thread(fn);
  }

  get held_out(): number {
    return this.held.length;
  }
}

/** The module: devices on the bus, 'detach' on unplug. */
export class FakeUsbModule extends EventEmitter implements UsbModuleLike {
  readonly devices: FakeUsbDevice[] = [];
  constructor(readonly rl: RunLoop) {
    super();
  }
  add(controller: VirtualController, o: FakeUsbDeviceOptions = {}): FakeUsbDevice {
    const d = new FakeUsbDevice(this, controller, o);
    this.devices.push(d);
    return d;
  }
  getDeviceList(): FakeUsbDevice[] {
    return this.devices.filter((d) => !d.gone);
  }
  /** Pull the dongle out. */
  unplug(d: FakeUsbDevice): void {
    d.gone = true;
    d.controller.detach_host();
    const i = d.interfaces?.[0];
    i?.events.fail(5);
    i?.aclIn.fail(5);
    this.rl.execute_on_main_thread(() => this.emit('detach', d));
  }
}
