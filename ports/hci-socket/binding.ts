/**
 * The part of @stoprocent/bluetooth-hci-socket (the best-kept HCI socket binding on npm, 2.x) the
 * user-channel transport uses, as structural types, and its loader. The package is an optional
 * install (`npm install @stoprocent/bluetooth-hci-socket`): it is imported only when a command
 * names an HCI device (`--port hci0`), so bthost installs and runs without it and without build tools.
 *
 * What the package does, as read from its 2.x source (and what the fake in
 * test/helpers/fake-hci-socket.ts reproduces):
 * - `new BluetoothHciSocket()`; `bindUser(devId)` binds an HCI_CHANNEL_USER socket and returns the
 *   device id. A failed bind throws `new Error(strerror(errno))` (the text only, no code): "No such
 *   device", "Device or resource busy", "Operation not permitted", "Operation not possible due to
 *   RF-kill", "Too many users". When the socket itself cannot be made (no Bluetooth in the kernel),
 *   bindUser emits 'error' (an Error with `errno` and `syscall`) synchronously and returns undefined.
 * - `start()` starts a reader thread: each read (one whole packet, H4 type byte first, into a
 *   1024-byte buffer) arrives as a 'data' Buffer on the JS thread. Read errors are not reported.
 * - `write(buffer)` writes one packet (type byte first) synchronously; a failure is an 'error'
 *   event (`errno`, `syscall: 'write'`): EPIPE / EBADFD once the device is unregistered (unplugged).
 * - `stop()` ends the reader thread (it waits up to the 1 s read timeout) and closes the socket;
 *   the object cannot be bound again, so every open makes a new one.
 */

/** An Error as the package reports it ('error' events carry errno and syscall; bind errors only a message). */
export interface HciSocketError extends Error {
  errno?: number;
  syscall?: string;
  code?: string;
}

/** One socket (an EventEmitter). */
export interface HciSocketLike {
  bindUser(devId: number): number | undefined;
  start(): void;
  stop(): void;
  write(data: Buffer): void;
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  on(event: 'error', listener: (error: HciSocketError) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/** The package's default export: the socket class. */
export type HciSocketClass = new () => HciSocketLike;

/** The npm name of the binding. */
export const HCI_SOCKET_PACKAGE = '@stoprocent/bluetooth-hci-socket';

/** The class, or one line saying why it cannot be had. */
export type HciSocketLoad = { ok: true; socket_class: HciSocketClass } | { ok: false; error: string };

/** Import the binding (only now: it is native and optional). Never throws. */
export async function load_hci_socket_binding(
  platform: string = process.platform,
  importer: (name: string) => Promise<unknown> = (name) => import(name),
): Promise<HciSocketLoad> {
  if (platform !== 'linux') {
    return {
      ok: false,
      error: `the HCI user channel exists on Linux only (this is ${platform}): use --port usb or a serial port`,
    };
  }
  let mod: unknown;
  try {
    mod = await importer(HCI_SOCKET_PACKAGE);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') {
      return {
        ok: false,
        error: `the HCI user channel needs the optional package ${HCI_SOCKET_PACKAGE}: npm install ${HCI_SOCKET_PACKAGE}`,
      };
    }
    return { ok: false, error: `cannot load ${HCI_SOCKET_PACKAGE}: ${(e.message ?? String(err)).split('\n')[0]}` };
  }
  const m = mod as { default?: unknown };
  const cls = typeof m.default === 'function' ? m.default : typeof mod === 'function' ? mod : undefined;
  if (typeof cls !== 'function') return { ok: false, error: `${HCI_SOCKET_PACKAGE} has no socket class (an unknown version?)` };
  return { ok: true, socket_class: cls as HciSocketClass };
}
