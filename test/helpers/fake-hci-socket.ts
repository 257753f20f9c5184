/**
 * A fake of @stoprocent/bluetooth-hci-socket (2.x) on a fake kernel, driven by virtual controllers:
 * the same methods and events as the package (ports/hci-socket/binding.ts describes them), and the
 * kernel's answers to a user-channel bind in the kernel's order (net/bluetooth/hci_sock.c):
 * CAP_NET_ADMIN missing -> EPERM, no such index -> ENODEV, device up -> EBUSY, another user channel
 * -> EUSERS, rfkill -> ERFKILL; thrown as the package throws them (`new Error(strerror(errno))`,
 * no code). No Bluetooth in the kernel: 'error' (errno 97) emitted inside bindUser, which returns
 * undefined. Reads are one packet each, cut to the package's 1024-byte buffer, delivered on the run
 * loop; after an unplug a write emits 'error' EPIPE (then EBADFD), as an unregistered hdev answers.
 */
import { EventEmitter } from 'node:events';
import type { RunLoop } from '../../src/core/run-loop.js';
import type { VirtualController } from '../../src/controller/controller.js';
import type { HciSocketClass, HciSocketLike } from '../../ports/hci-socket/binding.js';

export interface FakeHciDevice {
  controller: VirtualController;
  /** Up in the kernel (hciconfig up / bluetoothd powered it): bind -> EBUSY. */
  up: boolean;
  /** rfkill soft-blocked: bind -> ERFKILL. */
  rfkill: boolean;
  /** Unplugged: gone from the kernel (sysfs too). */
  gone: boolean;
  /** The user-channel socket bound to it. */
  user: FakeHciSocket | null;
}

const errnoError = (message: string, errno: number, syscall: string): Error =>
  Object.assign(new Error(message), { errno, syscall });

export class FakeHciSocket extends EventEmitter implements HciSocketLike {
  dev: FakeHciDevice | null = null;
  started = false;
  stopped = false;
  writes = 0;
  private pipeBroken = false;

  constructor(readonly kernel: FakeHciKernel) {
    super();
    kernel.sockets.push(this);
  }

  bindUser(devId: number): number | undefined {
    const k = this.kernel;
    if (!k.bluetooth) {
      // EnsureSocket: socket(AF_BLUETOOTH) failed -> EmitError, bindUser returns undefined
      this.emit('error', errnoError('Address family not supported by protocol', 97, 'socket creation failed'));
      return undefined;
    }
    if (!k.cap_net_admin) throw new Error('Operation not permitted');
    const dev = k.devices.get(devId);
    if (!dev || dev.gone) throw new Error('No such device');
    if (dev.up) throw new Error('Device or resource busy');
    if (dev.user) throw new Error('Too many users');
    if (dev.rfkill) throw new Error('Operation not possible due to RF-kill');
    dev.user = this;
    this.dev = dev;
    return devId;
  }

  start(): void {
    const dev = this.dev;
    if (!dev) return;
    this.started = true;
    const rl = this.kernel.run_loop;
    dev.controller.attach_host((type, packet, size) => {
      // the reader thread: read() into 1024 bytes, Buffer::Copy, emit on the JS thread
      const n = Math.min(1 + size, this.kernel.read_buffer);
      const b = Buffer.alloc(n);
      b[0] = type;
      b.set(packet.subarray(0, n - 1), 1);
      rl.execute_on_main_thread(() => {
        if (!this.stopped) this.emit('data', b);
      });
    });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const dev = this.dev;
    if (dev && dev.user === this) {
      dev.user = null;
      if (!dev.gone) dev.controller.detach_host();
    }
  }

  write(data: Buffer): void {
    const dev = this.dev;
    if (!dev) return;
    if (dev.gone) {
      // the hdev was unregistered: the first send gets EPIPE, later ones EBADFD
      this.emit(
        'error',
        this.pipeBroken ? errnoError('File descriptor in bad state', 77, 'write') : errnoError('Broken pipe', 32, 'write'),
      );
      this.pipeBroken = true;
      return;
    }
    this.writes++;
    dev.controller.host_send(data[0]!, data.subarray(1), data.length - 1);
  }
}

/** The fake kernel: HCI devices by index, capabilities, Bluetooth support. */
export class FakeHciKernel {
  readonly devices = new Map<number, FakeHciDevice>();
  readonly sockets: FakeHciSocket[] = [];
  /** CAP_NET_ADMIN held (false: bind -> EPERM). */
  cap_net_admin = true;
  /** AF_BLUETOOTH exists (false: socket creation fails with EAFNOSUPPORT). */
  bluetooth = true;
  /** The package's read buffer. */
  read_buffer = 1024;

  constructor(readonly run_loop: RunLoop) {}

  add(dev_id: number, controller: VirtualController, state: Partial<Pick<FakeHciDevice, 'up' | 'rfkill'>> = {}): FakeHciDevice {
    const d: FakeHciDevice = { controller, up: false, rfkill: false, gone: false, user: null, ...state };
    this.devices.set(dev_id, d);
    return d;
  }

  /** The dongle pulled out: the device leaves the kernel (and /sys/class/bluetooth). */
  unplug(dev_id: number): void {
    const d = this.devices.get(dev_id);
    if (!d) return;
    d.gone = true;
    d.controller.detach_host();
  }

  /** /sys/class/bluetooth/hciN exists. */
  present = (dev_id: number): Promise<boolean> => Promise.resolve(!!this.devices.get(dev_id) && !this.devices.get(dev_id)!.gone);

  /** The package's class, bound to this kernel. */
  socket_class(): HciSocketClass {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const kernel = this;
    return class extends FakeHciSocket {
      constructor() {
        super(kernel);
      }
    };
  }
}
