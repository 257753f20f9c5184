/**
 * The part of the `usb` package (node-usb 2.x, libusb; its "legacy" interface) the USB transport
 * uses, as structural types, and its loader. `usb` is an optional install (`npm install usb@2`),
 * imported only when a command names a USB controller (`--port usb`, `usb:VID:PID`, `usb:BUS-PORTS`).
 * usb 3.x replaced this interface with WebUSB only (no kernel driver detach on the device, no
 * polling endpoints), so 2.x is the one supported.
 *
 * As the package behaves (read from its 2.x source; test/helpers/fake-usb.ts reproduces it):
 * - `getDeviceList()` -> Device: `busNumber`, `deviceAddress`, `portNumbers`, `deviceDescriptor`,
 *   `configDescriptor` (interfaces[n][alt] with endpoints); `open()` (sync, throws), `close()`,
 *   `interface(n)`, `controlTransfer(bmRequestType, bRequest, wValue, wIndex, data, cb)`.
 * - Interface: `isKernelDriverActive()`, `detachKernelDriver()`, `attachKernelDriver()`, `claim()`
 *   (sync, throw), `release(closeEndpoints, cb)` (stops the IN endpoints' polls first), `endpoints`.
 * - InEndpoint: `startPoll(nTransfers, transferSize)` keeps that many transfers in flight; each
 *   completed one is a 'data' Buffer (a transfer ends when full or on a short packet); a failed
 *   one -> 'error' and the poll stops; 'end' once every transfer is back after `stopPoll()`.
 *   OutEndpoint: `transfer(buffer, cb(error, actual))`.
 * - Errors are LibUSBException: `message` libusb_error_name(code), `errno` the code: LIBUSB_ERROR_*
 *   (negative) from synchronous calls, LIBUSB_TRANSFER_* status (positive) from transfers.
 * - The module emits 'detach' (a Device) when a device is unplugged.
 */

// libusb.h (libusb 1.0, shipped in the package): enum libusb_error and enum libusb_transfer_status
export const LIBUSB_ERROR_IO = -1;
export const LIBUSB_ERROR_INVALID_PARAM = -2;
export const LIBUSB_ERROR_ACCESS = -3;
export const LIBUSB_ERROR_NO_DEVICE = -4;
export const LIBUSB_ERROR_NOT_FOUND = -5;
export const LIBUSB_ERROR_BUSY = -6;
export const LIBUSB_ERROR_TIMEOUT = -7;
export const LIBUSB_ERROR_PIPE = -9;
export const LIBUSB_ERROR_NOT_SUPPORTED = -12;
export const LIBUSB_TRANSFER_ERROR = 1;
export const LIBUSB_TRANSFER_TIMED_OUT = 2;
export const LIBUSB_TRANSFER_CANCELLED = 3;
export const LIBUSB_TRANSFER_STALL = 4;
export const LIBUSB_TRANSFER_NO_DEVICE = 5;
// endpoint attributes (USB 2.0 9.6.6): bmAttributes & 3
export const LIBUSB_TRANSFER_TYPE_BULK = 2;
export const LIBUSB_TRANSFER_TYPE_INTERRUPT = 3;

export interface UsbLibError extends Error {
  errno?: number;
}

export interface UsbEndpointDescriptorLike {
  bEndpointAddress: number;
  bmAttributes: number;
  wMaxPacketSize: number;
}

export interface UsbInterfaceDescriptorLike {
  bInterfaceNumber: number;
  bAlternateSetting: number;
  bInterfaceClass: number;
  bInterfaceSubClass: number;
  bInterfaceProtocol: number;
  endpoints: UsbEndpointDescriptorLike[];
}

export interface UsbDeviceDescriptorLike {
  idVendor: number;
  idProduct: number;
  bDeviceClass: number;
  bDeviceSubClass: number;
  bDeviceProtocol: number;
}

export interface UsbInEndpointLike {
  direction: 'in';
  transferType: number;
  address: number;
  startPoll(nTransfers?: number, transferSize?: number): unknown;
  stopPoll(callback?: () => void): void;
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  on(event: 'error', listener: (error: UsbLibError) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  removeAllListeners(event?: string): unknown;
}

export interface UsbOutEndpointLike {
  direction: 'out';
  transferType: number;
  address: number;
  transfer(buffer: Buffer, callback?: (error: UsbLibError | undefined, actual: number) => void): unknown;
}

export interface UsbInterfaceLike {
  interfaceNumber: number;
  endpoints: (UsbInEndpointLike | UsbOutEndpointLike)[];
  claim(): void;
  release(closeEndpoints: boolean, callback?: (error?: UsbLibError) => void): void;
  isKernelDriverActive(): boolean;
  detachKernelDriver(): void;
  attachKernelDriver(): void;
}

export interface UsbDeviceLike {
  busNumber: number;
  deviceAddress: number;
  portNumbers: number[];
  deviceDescriptor: UsbDeviceDescriptorLike;
  configDescriptor?: { interfaces: UsbInterfaceDescriptorLike[][] } | undefined;
  open(defaultConfig?: boolean): void;
  close(): void;
  interface(addr: number): UsbInterfaceLike;
  controlTransfer(
    bmRequestType: number,
    bRequest: number,
    wValue: number,
    wIndex: number,
    data: Buffer | number,
    callback?: (error: UsbLibError | undefined, buffer?: Buffer | number) => void,
  ): unknown;
}

/** The module (`usb` of `import { usb } from 'usb'`). */
export interface UsbModuleLike {
  getDeviceList(): UsbDeviceLike[];
  on?(event: 'detach', listener: (device: UsbDeviceLike) => void): unknown;
  removeListener?(event: 'detach', listener: (device: UsbDeviceLike) => void): unknown;
}

export type UsbLoad = { ok: true; usb: UsbModuleLike } | { ok: false; error: string };

/** Import `usb` (only now: native and optional). Never throws. */
export async function load_usb_binding(importer: (name: string) => Promise<unknown> = (name) => import(name)): Promise<UsbLoad> {
  let mod: unknown;
  try {
    mod = await importer('usb');
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') {
      return { ok: false, error: 'the USB transport needs the optional package usb (libusb): npm install usb@2' };
    }
    return { ok: false, error: `cannot load the usb package: ${(e.message ?? String(err)).split('\n')[0]}` };
  }
  const m = mod as { usb?: unknown; default?: { usb?: unknown } };
  const legacy = (m.usb ?? m.default?.usb) as Partial<UsbModuleLike> | undefined;
  if (!legacy || typeof legacy.getDeviceList !== 'function') {
    return { ok: false, error: 'the installed usb package has no libusb interface (usb 3.x is WebUSB only): npm install usb@2' };
  }
  return { ok: true, usb: legacy as UsbModuleLike };
}
