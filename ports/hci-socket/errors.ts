/**
 * One line a user can act on for each way the HCI user channel fails to open or breaks. The
 * binding gives bind errors as strerror text only, 'error' events with an errno: both are read.
 * Why each happens (Linux net/bluetooth/hci_sock.c, bind on HCI_CHANNEL_USER): CAP_NET_ADMIN
 * missing -> EPERM; no such index -> ENODEV; the device up (hciconfig, or bluetoothd powering it)
 * -> EBUSY; another user-channel socket on it -> EUSERS; opening it while rfkill blocks -> ERFKILL;
 * no Bluetooth in the kernel -> the socket itself fails with EAFNOSUPPORT.
 */
import type { HciSocketError } from './binding.js';

export type HciSocketErrorKind =
  'no-device' | 'permission' | 'busy' | 'bluez' | 'in-use' | 'rfkill' | 'no-kernel-support' | 'gone' | 'other';

/** The exact line that gives node the capabilities the user channel needs. */
export const HCI_SETCAP_LINE = 'sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))';

// Linux errno values (asm-generic/errno-base.h, errno.h): the binding's 'error' events carry these
const ERRNO: Record<number, string> = {
  1: 'EPERM',
  13: 'EACCES',
  16: 'EBUSY',
  19: 'ENODEV',
  32: 'EPIPE',
  77: 'EBADFD',
  87: 'EUSERS',
  97: 'EAFNOSUPPORT',
  100: 'ENETDOWN',
  132: 'ERFKILL',
};

// strerror texts (glibc) of the same, for the errors the binding throws without a code
const TEXT: [RegExp, string][] = [
  [/operation not permitted/i, 'EPERM'],
  [/permission denied/i, 'EACCES'],
  [/device or resource busy/i, 'EBUSY'],
  [/no such device/i, 'ENODEV'],
  [/broken pipe/i, 'EPIPE'],
  [/file descriptor in bad state/i, 'EBADFD'],
  [/too many users/i, 'EUSERS'],
  [/address family not supported/i, 'EAFNOSUPPORT'],
  [/network is down/i, 'ENETDOWN'],
  [/rf-?kill/i, 'ERFKILL'],
];

/** The errno name of an error from the binding (from `code`, `errno`, or its strerror text), else undefined. */
export function hci_socket_errno(err: unknown): string | undefined {
  const e = err as HciSocketError | undefined;
  if (e && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code;
  if (e && typeof e.errno === 'number') {
    const n = ERRNO[Math.abs(e.errno)];
    if (n) return n;
  }
  const text = e instanceof Error ? e.message : String(err);
  for (const [re, name] of TEXT) if (re.test(text)) return name;
  return undefined;
}

/** Context for the message: whether bluetoothd runs (EBUSY is then BlueZ holding the device). */
export interface HciSocketErrorContext {
  bluez_running?: boolean;
}

/** Classify an open failure of hci<dev> and phrase it as one line. */
export function describe_hci_socket_error(
  dev: number,
  err: unknown,
  ctx: HciSocketErrorContext = {},
): { kind: HciSocketErrorKind; message: string } {
  const name = `hci${dev}`;
  switch (hci_socket_errno(err)) {
    case 'ENODEV':
      return { kind: 'no-device', message: `no Bluetooth controller ${name} (bthost list shows the controllers there are)` };
    case 'EPERM':
    case 'EACCES':
      return {
        kind: 'permission',
        message: `no permission for the HCI user channel on ${name}: it needs CAP_NET_ADMIN and CAP_NET_RAW (${HCI_SETCAP_LINE}, or run as root)`,
      };
    case 'EBUSY':
      return ctx.bluez_running
        ? {
            kind: 'bluez',
            message: `${name} is held by BlueZ (bluetoothd keeps it up): stop it (sudo systemctl stop bluetooth), then sudo btmgmt --index ${dev} power off`,
          }
        : {
            kind: 'busy',
            message: `${name} is up: take it down first (sudo hciconfig ${name} down, or sudo btmgmt --index ${dev} power off)`,
          };
    case 'EUSERS':
      return { kind: 'in-use', message: `${name} is already open on the HCI user channel by another program (another bthost?)` };
    case 'ERFKILL':
      return { kind: 'rfkill', message: `${name} is blocked by rfkill: rfkill unblock bluetooth` };
    case 'EAFNOSUPPORT':
      return {
        kind: 'no-kernel-support',
        message: `this kernel has no Bluetooth sockets (load the module: sudo modprobe bluetooth), or use --port usb`,
      };
    default: {
      const text = err instanceof Error ? err.message : String(err);
      return { kind: 'other', message: `cannot open ${name} on the HCI user channel: ${text}` };
    }
  }
}

/** A failure of an open socket (a write error, the device gone), as one line. */
export function describe_hci_socket_failure(dev: number, err: unknown): { kind: HciSocketErrorKind; message: string } {
  const name = `hci${dev}`;
  const code = hci_socket_errno(err);
  if (code === 'EPIPE' || code === 'EBADFD' || code === 'ENODEV') {
    return { kind: 'gone', message: `${name} is gone: the controller was unplugged or its driver unloaded` };
  }
  if (code === 'ENETDOWN') return { kind: 'gone', message: `${name} went down` };
  const text = err instanceof Error ? err.message : String(err);
  const syscall = (err as HciSocketError | undefined)?.syscall;
  return { kind: 'other', message: `${name} failed${syscall ? ` (${syscall})` : ''}: ${text}` };
}
