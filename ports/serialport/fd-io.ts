/**
 * The serial port's bytes on the event loop itself (issue 19): `serialport` still finds, opens,
 * locks and configures the port (baud, RTS/CTS, parity, termios), then this class does the
 * per-byte work on the file descriptor the binding opened (non-blocking: bindings-cpp opens with
 * O_NONBLOCK), with the binding's own uv_poll handle for readiness:
 *
 * - read: the poller says readable -> the run loop (execute_on_main_thread, the one way into the
 *   stack) -> `readSync` into one fixed 64 KiB buffer, fed straight to the consumer (the H4
 *   deframer), again while a read fills the buffer, then poll again. No thread-pool hop, no
 *   stream, no Buffer per read.
 * - read coalescing (`rx_coalesce_ms`, default 12): what a read costs is mostly the wakeup, not
 *   the bytes, so while data keeps coming the next read waits for a run-loop timer `rx_coalesce_ms`
 *   after the last one (at most one read per interval, like termios VTIME but in user space: the
 *   kernel's tty buffers hold the bytes, 4 KiB in the line discipline + 64 KiB of flip buffers,
 *   and RTS/CTS or the pty's own flow control stop the sender when they fill). A read that finds
 *   nothing goes back to polling, so the first bytes after a quiet spell are read at once; inside
 *   a burst a packet waits at most `rx_coalesce_ms`. Bytes that come further apart than the window
 *   (events trickling in) are read on the poller as they come: a timer read would find nothing and
 *   cost a wakeup of its own; the timer takes over once two reads come within the window. A read
 *   as large as the largest yet (at least 1 KiB) may have been cut by the kernel's tty buffer, so
 *   the next one waits for the poller, not the window: a link faster than one buffer per window
 *   keeps its rate. 0: poll after every read. The default, 12 ms: at 3,000,000 baud one read then
 *   holds ~3.6 KB, and a host sending at full rate wakes ~80 times a second instead of ~120 at
 *   8 ms: 50-56 ms of CPU per MB against 52-75 (receiving 35 against 38-39; BENCHMARKS.md, UART
 *   CPU). A controller's 8 x 1021-byte buffers last 27 ms of line at 3 Mbaud, so a sender refills
 *   them in time. Sending an HCI command ends the wait: its Command Complete / Status is read as
 *   soon as it comes, so request / response exchanges (HCI init, connection set-up) do not pay the
 *   window; ACL data does not (a sender's next packets wait for Number Of Completed Packets, which
 *   the window batches). While the host has ACL packets in the controller, the transport keeps the window
 *   under half the line time of the controller's buffer pool holding them (`set_window`). The
 *   line time comes from the baud: on a link faster than its nominal baud (a USB-CDC adapter, an
 *   unpaced pty) a sender gets at most the pool per window (8 x 1021 bytes per 12 ms: ~680 KB/s,
 *   more than a radio carries; e2e cli-large-acl moves 20 MiB each way that way).
 * - write: packets are copied into a byte FIFO; one flush (a microtask after the task that sent
 *   them) writes what is queued with one `writeSync` per contiguous span (a burst of packets is one
 *   syscall); a short write or EAGAIN waits for the poller's writable.
 * - a read or write error other than EAGAIN / EINTR (EIO: the pty's other end closed; ENXIO /
 *   ENODEV: the USB adapter unplugged), or a read of 0 bytes (a hung-up tty), is the port lost:
 *   `on_lost(reason)`, the same 'failed' the stream path reports.
 *
 * The stream path (serialport's Readable / Writable: an fs.read / fs.write in libuv's thread pool
 * per chunk) stays as the fallback where this one cannot be used (see `fd_io_handle`).
 */
import { readSync, writeSync } from 'node:fs';
import { Timer, type RunLoop } from '../../src/core/run-loop.js';
import { HCI_COMMAND_DATA_PACKET } from '../../src/codes/v1.4.js';

/** The binding's poller (bindings-cpp's Poller: an EventEmitter over uv_poll). */
export interface FdPoller {
  poll(flags: number): void;
  on(event: 'readable' | 'writable', listener: (err: Error | null) => void): unknown;
  removeListener(event: 'readable' | 'writable', listener: (err: Error | null) => void): unknown;
}

/** Reads below this are never taken as cut by the kernel's tty buffer (every tty buffers more). */
const SATURATED_READ_MIN = 1024;

/** bindings-cpp's poller flags. */
const UV_READABLE = 1;
const UV_WRITABLE = 2;

/** What the serialport binding must offer for the fd path: an open fd and its poller. */
export interface FdIoHandle {
  fd: number;
  poller: FdPoller;
}

/**
 * The fd and poller of an open serialport binding (bindings-cpp's LinuxPortBinding /
 * DarwinPortBinding), or null where there are none (Windows, the mock binding, a port not open).
 */
export function fd_io_handle(binding: unknown): FdIoHandle | null {
  if (process.platform === 'win32' || !binding || typeof binding !== 'object') return null;
  const b = binding as { fd?: unknown; poller?: unknown };
  const p = b.poller as Partial<FdPoller> | undefined;
  if (typeof b.fd !== 'number' || b.fd < 0 || !p) return null;
  if (typeof p.poll !== 'function' || typeof p.on !== 'function' || typeof p.removeListener !== 'function') return null;
  return { fd: b.fd, poller: p as FdPoller };
}

/** Which I/O path a serial transport uses: 'fd' (the fast one), 'stream' (serialport's streams), 'auto' (fd where it can). */
export type SerialIoPath = 'auto' | 'fd' | 'stream';

/** The path asked for: the option, else the environment variable BTHOST_SERIAL_IO, else 'auto'. */
export function serial_io_choice(option?: SerialIoPath, env: NodeJS.ProcessEnv = process.env): SerialIoPath {
  if (option) return option;
  const v = env.BTHOST_SERIAL_IO?.trim().toLowerCase();
  return v === 'fd' || v === 'stream' || v === 'auto' ? v : 'auto';
}

export interface FdIoConsumer {
  /** Bytes read, valid during the call. */
  on_data(bytes: Uint8Array, length: number): void;
  /** The write queue drained below the bound after a write was refused or a can-send check failed. */
  on_drained(): void;
  /** The port is gone (read/write error or hang-up): `reason` is the errno text. */
  on_lost(reason: string): void;
}

/** Counters, for the benchmark and `bthost info`. */
export interface SerialIoStats {
  reads: number;
  read_bytes: number;
  writes: number;
  write_bytes: number;
  /** Times a write waited for the poller (EAGAIN or short write). */
  write_waits: number;
}

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e && typeof e === 'object' && e.code ? `${e.code}: ${e.message}` : String(err);
}

function isRetry(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR';
}

export class FdSerialIo {
  readonly stats: SerialIoStats = { reads: 0, read_bytes: 0, writes: 0, write_bytes: 0, write_waits: 0 };
  private readonly rx: Buffer;
  private readonly ring: Buffer;
  private head = 0; // next byte to queue
  private tail = 0; // next byte to write
  private used = 0;
  private stopped = false;
  private held = 0;
  private blocked = false;
  private flushPosted = false;
  private waitingWritable = false;
  private readArmed = false;
  private readonly coalesceTimer = new Timer(() => this.readNow(true));
  private readonly onReadable = (err: Error | null): void => this.readable(err);
  private readonly onWritable = (err: Error | null): void => this.writable(err);
  private readonly drainRead = (): void => this.readNow(false);
  /** Run-loop time of the last read that got bytes (-Infinity: none yet). */
  private lastDataMs = -Infinity;
  /** The largest single read so far: a read that large may have been cut by the kernel's tty buffer. */
  private maxRead = 0;
  private readonly drainWrite = (): void => this.flush();

  constructor(
    private readonly handle: FdIoHandle,
    private readonly loop: RunLoop,
    private readonly consumer: FdIoConsumer,
    private readonly maxQueue: number,
    ringSize: number,
    private coalesceMs = 12,
    readSize = 65536,
  ) {
    this.rx = Buffer.allocUnsafe(readSize);
    this.ring = Buffer.allocUnsafe(ringSize);
  }

  /**
   * Change the read window (ms; 0: read on every wakeup). A window running now that would outlast
   * the new one is cut to it (0: ends at once, the poller takes over).
   */
  set_window(ms: number): void {
    this.coalesceMs = ms;
    const t = this.coalesceTimer;
    if (!t.active || t.timeout <= this.loop.get_time_ms() + ms) return;
    this.loop.remove_timer(t);
    if (ms > 0) {
      this.loop.set_timer(t, ms);
      this.loop.add_timer(t);
      return;
    }
    this.readArmed = true;
    this.arm();
  }

  /** Bytes queued and not yet accepted by the OS. */
  get queued(): number {
    return this.used;
  }

  start(): void {
    this.handle.poller.on('readable', this.onReadable);
    this.handle.poller.on('writable', this.onWritable);
    // bytes may already wait: read once on the loop, which polls afterwards
    this.loop.execute_on_main_thread(this.drainRead);
  }

  /** Stop reading and writing (before the binding closes the fd); queued bytes are dropped. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.handle.poller.removeListener('readable', this.onReadable);
    this.handle.poller.removeListener('writable', this.onWritable);
    this.loop.remove_timer(this.coalesceTimer);
    this.used = 0;
  }

  /** Whether `size` more bytes would stay under the bound; false marks us blocked (on_drained later). */
  can_write(): boolean {
    if (this.used < this.maxQueue) return true;
    this.blocked = true;
    return false;
  }

  /** Queue one H4 packet (type byte + size bytes); false when the ring has no room (on_drained later). */
  write(type: number, packet: Uint8Array, size: number): boolean {
    if (this.stopped) return false;
    const n = size + 1;
    const cap = this.ring.length;
    if (cap - this.used < n) {
      this.blocked = true;
      return false;
    }
    const ring = this.ring;
    let h = this.head;
    ring[h] = type;
    h = h + 1 === cap ? 0 : h + 1;
    const first = Math.min(size, cap - h);
    ring.set(first === packet.length ? packet : packet.subarray(0, first), h);
    if (first < size) ring.set(packet.subarray(first, size), 0);
    h += size;
    if (h >= cap) h -= cap;
    this.head = h;
    this.used += n;
    if (type === HCI_COMMAND_DATA_PACKET && this.coalesceTimer.active) {
      // a command's answer is awaited: read it when it comes, not at the end of the window
      this.loop.remove_timer(this.coalesceTimer);
      this.readArmed = true;
      this.arm();
    }
    if (!this.flushPosted && !this.waitingWritable && this.held === 0) {
      this.flushPosted = true;
      queueMicrotask(this.drainWrite);
    }
    return true;
  }

  /** Hold writes (a baud change in progress) until release(). */
  hold(): void {
    this.held++;
  }

  release(): void {
    if (this.held > 0) this.held--;
    if (this.held === 0 && this.used > 0 && !this.flushPosted && !this.waitingWritable) {
      this.flushPosted = true;
      this.loop.execute_on_main_thread(this.drainWrite);
    }
  }

  // ---- read ------------------------------------------------------------------------------------

  /** Ask the poller for what we wait for (its poll() replaces the previous interest). */
  private arm(): void {
    this.handle.poller.poll((this.readArmed ? UV_READABLE : 0) | (this.waitingWritable ? UV_WRITABLE : 0));
  }

  private readable(err: Error | null): void {
    if (this.stopped || !this.readArmed) return;
    this.readArmed = false;
    if (err) {
      if ((err as { canceled?: boolean }).canceled) return; // the binding closes the poller
      this.lost(this.readError() ?? `poll: ${err.message}`);
      return;
    }
    this.loop.execute_on_main_thread(this.drainRead);
  }

  private readNow(byTimer: boolean): void {
    const rx = this.rx;
    let got = 0;
    let last = 0;
    while (!this.stopped) {
      let n: number;
      try {
        n = readSync(this.handle.fd, rx, 0, rx.length, null);
      } catch (err) {
        if (isRetry(err)) break;
        this.lost(`read: ${errnoText(err)}`);
        return;
      }
      if (n === 0) {
        this.lost('read: end of file (the line hung up)');
        return;
      }
      this.stats.reads++;
      this.stats.read_bytes += n;
      got += n;
      last = n;
      this.consumer.on_data(rx, n);
      if (n < rx.length) break;
    }
    if (this.stopped) return;
    if (got > 0 && this.coalesceMs > 0) {
      const now = this.loop.get_time_ms();
      const flowing = byTimer || now - this.lastDataMs < this.coalesceMs;
      this.lastDataMs = now;
      // A read as large as the largest yet (and at least 1 KiB) may have been cut by the kernel's tty
      // buffer (Linux's line discipline hands out at most 4 KiB per read; macOS's tty queue less),
      // with more bytes behind it: read them as they come, on the poller. Waiting a window per
      // buffer would hold a link faster than buffer / window (4 KiB per 12 ms: ~340 KB/s, below
      // 4 Mbaud or a USB-CDC adapter) to that rate, throttling RTS/CTS or overrunning the tty.
      const full = last >= SATURATED_READ_MIN && last >= this.maxRead;
      if (last > this.maxRead) this.maxRead = last;
      if (flowing && !full) {
        // data keeps coming faster than the window: read again after it instead of on the next byte
        this.loop.set_timer(this.coalesceTimer, this.coalesceMs);
        this.loop.add_timer(this.coalesceTimer);
        return;
      }
      // bytes further apart than the window (a trickle of events): a timer read would find nothing
      // and cost a wakeup of its own, so wait for the next bytes on the poller
    }
    this.readArmed = true;
    this.arm();
  }

  /** After a poll error (a pty whose other end closed reports EBADF there): the read's own error, which names the cause. */
  private readError(): string | null {
    try {
      return readSync(this.handle.fd, this.rx, 0, this.rx.length, null) === 0 ? 'read: end of file (the line hung up)' : null;
    } catch (err) {
      return isRetry(err) ? null : `read: ${errnoText(err)}`;
    }
  }

  // ---- write -----------------------------------------------------------------------------------

  private writable(err: Error | null): void {
    if (this.stopped || !this.waitingWritable) return;
    this.waitingWritable = false;
    if (err) {
      if ((err as { canceled?: boolean }).canceled) return;
      this.lost(this.readError() ?? `poll: ${err.message}`);
      return;
    }
    this.flush();
  }

  private flush(): void {
    this.flushPosted = false;
    if (this.stopped || this.held > 0) return;
    const cap = this.ring.length;
    while (this.used > 0) {
      const span = Math.min(this.used, cap - this.tail);
      let n: number;
      try {
        n = writeSync(this.handle.fd, this.ring, this.tail, span);
      } catch (err) {
        if (isRetry(err)) n = 0;
        else {
          this.lost(`write: ${errnoText(err)}`);
          return;
        }
      }
      if (n > 0) {
        this.stats.writes++;
        this.stats.write_bytes += n;
        this.used -= n;
        this.tail += n;
        if (this.tail >= cap) this.tail -= cap;
      }
      if (n < span) {
        this.stats.write_waits++;
        this.waitingWritable = true;
        this.arm();
        break;
      }
    }
    if (this.used === 0) {
      this.head = 0;
      this.tail = 0;
    }
    if (this.blocked && this.used < this.maxQueue) {
      this.blocked = false;
      this.consumer.on_drained();
    }
  }

  private lost(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.consumer.on_lost(reason);
  }
}
