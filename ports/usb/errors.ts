/** One line a user can act on for each way opening or using a USB controller fails (libusb codes in binding.ts). */
import {
  LIBUSB_ERROR_ACCESS,
  LIBUSB_ERROR_BUSY,
  LIBUSB_ERROR_NO_DEVICE,
  LIBUSB_TRANSFER_NO_DEVICE,
  type UsbDeviceLike,
  type UsbLibError,
} from './binding.js';
import { usb_id_name, usb_port_name } from './find.js';

export type UsbErrorKind = 'permission' | 'busy' | 'gone' | 'other';

/** What the transport was doing. */
export type UsbStep = 'open' | 'detach' | 'claim' | 'transfer';

const errnoOf = (err: unknown): number | undefined => {
  const n = (err as UsbLibError | undefined)?.errno;
  return typeof n === 'number' ? n : undefined;
};

const textOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Whether the error says the device is gone (unplugged). */
export function usb_error_is_gone(err: unknown): boolean {
  const n = errnoOf(err);
  return n === LIBUSB_ERROR_NO_DEVICE || n === LIBUSB_TRANSFER_NO_DEVICE;
}

export function describe_usb_error(d: UsbDeviceLike, step: UsbStep, err: unknown): { kind: UsbErrorKind; message: string } {
  const name = usb_port_name(d);
  const id = usb_id_name(d).slice(4);
  const [vid, pid] = id.split(':');
  const n = errnoOf(err);
  if (usb_error_is_gone(err)) return { kind: 'gone', message: `USB device ${name} (${id}) was unplugged` };
  if (n === LIBUSB_ERROR_ACCESS) {
    if (step === 'detach') {
      return { kind: 'permission', message: `cannot detach the kernel's btusb driver from ${name} (${id}): run as root` };
    }
    return {
      kind: 'permission',
      message: `no permission for USB device ${name} (${id}): run as root, or add the udev rule SUBSYSTEM=="usb", ATTR{idVendor}=="${vid}", ATTR{idProduct}=="${pid}", MODE="0666" to /etc/udev/rules.d/50-bthost.rules`,
    };
  }
  if (n === LIBUSB_ERROR_BUSY) {
    return { kind: 'busy', message: `USB device ${name} (${id}) is claimed by another program (another bthost?)` };
  }
  const doing = step === 'transfer' ? 'failed' : `cannot ${step} it`;
  return { kind: 'other', message: `USB device ${name} (${id}): ${doing}: ${textOf(err)}` };
}
