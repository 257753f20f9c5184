/**
 * A channel (L2CAP or RFCOMM) as a byte stream for `bthost l2cap` and `bthost spp`, like BlueZ's
 * l2test / rctest:
 *
 * - interactive (default): stdin goes to the channel, what arrives goes to stdout. Sending
 *   follows the can-send-now pattern, one chunk (at most the channel's payload size) per
 *   CAN_SEND_NOW; stdin is paused while 256 KiB wait. At the end of stdin the stream waits
 *   `linger_ms` for replies, then closes the channel.
 * - send: SIZE bytes as fast as can-send-now allows, then close; prints MB/s.
 * - receive: count what arrives until the channel closes; prints MB/s.
 * - with `sha256` (--sha256) in the throughput modes: send a stream whose every byte depends on
 *   its offset (stream_byte), and print `sha256 HEX` of the bytes sent / received, so that two
 *   runs prove every byte arrived, in order.
 *
 * A progress bar goes to stderr with `progress`. The summary goes to stdout in the throughput
 * modes, status lines to stderr.
 *
 * The exit code tells whether the requested work was done (README, "Exit codes"): 0 only when
 * every byte to send went out and the channel then closed cleanly (our close answered, the link
 * still up), every byte expected arrived, and a `--receive` ended with the peer closing the
 * channel; else 1 with one line naming the cause (a fault of the controller or the port, the link
 * lost, the peer closing early with N of M bytes). The verdict waits one run-loop turn after the
 * channel closed, so that a Disconnection Complete or a fault behind the close is known.
 * A `listen` (`keep_serving`) that rides through faults (host.recover) reports a transfer cut by
 * a fault or a lost link in one line and waits for the next one instead of exiting.
 */
import { createHash, type Hash } from 'node:crypto';
import { fstatSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Timer } from '../../src/core/run-loop.js';
import type { CliHost } from './host.js';
import { human_bytes, mb_per_s, progress_bar, status_text } from './format.js';
import { parse_size, type Flags } from './options.js';

export interface StreamOptions {
  mode: 'interactive' | 'send' | 'receive';
  /** Bytes to send in 'send' mode. */
  send_bytes: number;
  progress: boolean;
  linger_ms: number;
  /** Hash what is sent / received (SHA-256) and print it. */
  sha256: boolean;
  /** --serve (listen): after a channel that ended cleanly, serve the next one (never exit on its own). */
  serve?: boolean;
}

/** What the stream needs from the channel (L2CAP or RFCOMM). */
export interface ChannelOps {
  request_can_send_now(): void;
  /** Largest payload of one send. */
  max_payload(): number;
  /** 0 or a status. */
  send(data: Uint8Array, len: number): number;
  disconnect(): void;
}

export const STREAM_VALUED = ['--send', '--linger'];
export const STREAM_BOOLEANS = ['--receive', '--progress', '--no-progress', '--sha256', '--serve'];

/** Byte `k` of the --sha256 send stream: depends on the offset, so lost, repeated or reordered chunks change the hash. */
export function stream_byte(k: number): number {
  const x = Math.imul(k ^ (k >>> 13), 0x5bd1e995);
  return (x ^ (x >>> 15)) & 0xff;
}

/** Stream options from command flags, or the problem with them. */
export function stream_options(flags: Flags): StreamOptions | string {
  const o: StreamOptions = {
    mode: 'interactive',
    send_bytes: 0,
    progress: !!process.stderr.isTTY,
    linger_ms: 500,
    sha256: false,
  };
  const send = flags.get('--send');
  if (send !== undefined) {
    const n = parse_size(send);
    if (!Number.isFinite(n) || n < 1) return `--send: expected a size such as 4096, 64k or 10M, got '${send}'`;
    o.mode = 'send';
    o.send_bytes = n;
  }
  if (flags.has('--receive')) {
    if (o.mode === 'send') return '--send and --receive exclude each other';
    o.mode = 'receive';
  }
  if (flags.has('--progress')) o.progress = true;
  if (flags.has('--no-progress')) o.progress = false;
  if (flags.has('--sha256')) o.sha256 = true;
  if (flags.has('--serve')) o.serve = true;
  const linger = flags.get('--linger');
  if (linger !== undefined) {
    if (!/^\d+$/.test(linger)) return `--linger: expected milliseconds, got '${linger}'`;
    o.linger_ms = Number(linger);
  }
  return o;
}

/** Sending may fail for a moment (ACL buffers full, no RFCOMM credits, FCoff): try on the next CAN_SEND_NOW. */
const RETRY = new Set([0x57, 0x72, 0x73]);
const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;

export class ByteStream {
  private ops: ChannelOps | null = null;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private eof = false;
  private paused = false;
  private lingerTimer: Timer | null = null;
  private progressTimer: Timer | null = null;
  private readonly block: Uint8Array;
  private closing = false;
  private hash: Hash | null;
  private interrupted = false;
  private handle = -1;
  /** Reasons of Disconnection Complete by handle, while a channel is open (recorded by watch()). */
  private linkDown: number | null = null;
  /**
   * A listen: a transfer cut by a fault or a lost link is reported and the next connection is
   * awaited (while host.recover and not --once); `on_next` runs then (the command forgets its channel).
   */
  keep_serving = false;
  on_next: () => void = () => {};
  sent = 0;
  received = 0;
  private t_first_sent = 0;
  private t_last_sent = 0;
  private t_first_received = 0;
  private t_last_received = 0;
  private readonly onStdinData = (chunk: Buffer) =>
    this.host.run_loop.execute_on_main_thread(() => {
      this.queue.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.queued += chunk.byteLength;
      if (this.queued > HIGH_WATER && !this.paused) {
        this.paused = true;
        process.stdin.pause();
      }
      this.ops?.request_can_send_now();
    });
  private readonly onStdinEnd = () =>
    this.host.run_loop.execute_on_main_thread(() => {
      this.eof = true;
      if (this.queued === 0) this.linger();
    });

  constructor(
    private readonly host: CliHost,
    readonly options: StreamOptions,
  ) {
    this.block = new Uint8Array(options.mode === 'send' ? 65535 : 0);
    for (let i = 0; i < this.block.length; i++) this.block[i] = i & 0xff;
    this.hash = options.sha256 && options.mode !== 'interactive' ? createHash('sha256') : null;
    // a lost link under the channel (BTstack reports the channel closed, without a reason)
    host.add_event_handler((packet) => {
      if (packet[0] !== host.stack.codes.HCI_EVENT_DISCONNECTION_COMPLETE || this.handle < 0) return;
      if (host.stack.codes.hci_event_disconnection_complete_get_connection_handle(packet) !== this.handle) return;
      const reason = host.stack.codes.hci_event_disconnection_complete_get_reason(packet);
      // 0x16: we ended it; 0x13 / 0x15: the peer did (its data before that arrived in order)
      if (reason !== 0x16 && reason !== 0x13 && reason !== 0x15) this.linkDown ??= reason;
    });
  }

  /** Ctrl-C: close our side; the command then exits 130 (interactive: 0, as the end of input). */
  interrupt(): void {
    this.interrupted = true;
    this.close();
  }

  get is_open(): boolean {
    return this.ops !== null;
  }

  /** The channel is open (on the ACL link `handle`, -1 when unknown): start the mode. */
  opened(ops: ChannelOps, handle = -1): void {
    this.ops = ops;
    this.handle = handle;
    this.linkDown = null;
    const o = this.options;
    if (o.progress && o.mode !== 'interactive') this.tickProgress();
    if (o.mode === 'send') {
      this.t_first_sent = performance.now();
      ops.request_can_send_now();
    } else if (o.mode === 'interactive') {
      process.stdin.on('data', this.onStdinData);
      process.stdin.on('end', this.onStdinEnd);
      process.stdin.resume();
    }
  }

  data(packet: Uint8Array, size: number): void {
    const now = performance.now();
    if (this.received === 0) this.t_first_received = now;
    this.t_last_received = now;
    this.received += size;
    this.hash?.update(packet.subarray(0, size));
    if (this.options.mode === 'interactive') process.stdout.write(Buffer.from(packet.subarray(0, size)));
  }

  can_send_now(): void {
    const ops = this.ops;
    if (!ops || this.closing) return;
    if (this.options.mode === 'send') return this.sendBlock(ops);
    if (this.options.mode !== 'interactive' || this.queue.length === 0) return;
    const head = this.queue[0]!;
    const n = Math.min(head.length, ops.max_payload());
    const st = ops.send(head, n);
    if (st !== 0) {
      // buffers full: try again on the next CAN_SEND_NOW
      ops.request_can_send_now();
      return;
    }
    this.sent += n;
    this.queued -= n;
    if (n === head.length) this.queue.shift();
    else this.queue[0] = head.subarray(n);
    if (this.paused && this.queued < LOW_WATER) {
      this.paused = false;
      process.stdin.resume();
    }
    if (this.queue.length) ops.request_can_send_now();
    else if (this.eof) this.linger();
  }

  private sendBlock(ops: ChannelOps): void {
    const left = this.options.send_bytes - this.sent;
    if (left <= 0) {
      // everything is with the controller
      this.t_last_sent = performance.now();
      this.close();
      return;
    }
    const n = Math.min(left, ops.max_payload(), this.block.length);
    if (this.hash) for (let i = 0, k = this.sent; i < n; i++, k++) this.block[i] = stream_byte(k);
    const st = ops.send(this.block, n);
    if (st === 0) {
      this.hash?.update(this.block.subarray(0, n));
      this.sent += n;
    } else if (!RETRY.has(st)) {
      this.host.say(`bthost: send failed: ${status_text(st)}`);
      this.close();
      return;
    }
    ops.request_can_send_now();
  }

  /** Close our side (the CHANNEL_CLOSED event calls closed()). */
  close(): void {
    if (this.closing || !this.ops) return;
    this.closing = true;
    this.host.cancel(this.lingerTimer);
    this.ops.disconnect();
  }

  /**
   * The channel is closed (by either side): summary and exit; with `failure` (the link under it was
   * lost, in the command's words) exit 1 with that line: a cut transfer, which a listen rides through.
   */
  closed(reason?: string, failure?: string): void {
    if (!this.ops) return;
    this.ops = null;
    // a Disconnection Complete or a stack fault behind the close reaches us after it: decide next turn
    this.host.after(0, () => this.verdict(reason, failure));
  }

  private verdict(reason?: string, failure?: string): void {
    const o = this.options;
    this.host.cancel(this.lingerTimer);
    this.host.cancel(this.progressTimer);
    process.stdin.off('data', this.onStdinData);
    process.stdin.off('end', this.onStdinEnd);
    process.stdin.pause();
    if (o.progress && o.mode !== 'interactive') {
      process.stderr.write(`\r\x1b[K${this.progressLine()}\n`);
    }
    this.host.say(`channel closed${reason ? ` (${reason})` : ''}`);
    let code = 0;
    let message: string | undefined;
    if (o.mode === 'send') {
      const end = this.t_last_sent || performance.now();
      const ms = end - this.t_first_sent;
      process.stdout.write(
        `sent ${this.sent} bytes (${human_bytes(this.sent)}) in ${(ms / 1000).toFixed(3)} s: ${mb_per_s(this.sent, ms)}\n`,
      );
      if (this.received) process.stdout.write(`received ${this.received} bytes back\n`);
      if (this.hash) process.stdout.write(`sha256 ${this.hash.digest('hex')}\n`);
      if (this.sent < o.send_bytes && !this.interrupted) {
        code = 1;
        message = `the peer closed the channel after ${this.sent} of ${o.send_bytes} bytes`;
      }
    } else if (o.mode === 'receive') {
      const ms = this.t_last_received - this.t_first_received;
      process.stdout.write(
        `received ${this.received} bytes (${human_bytes(this.received)}) in ${(ms / 1000).toFixed(3)} s: ${mb_per_s(this.received, ms)}\n`,
      );
      if (this.hash) process.stdout.write(`sha256 ${this.hash.digest('hex')}\n`);
    } else {
      this.host.say(`${this.sent} bytes sent, ${this.received} bytes received`);
      // the peer closed while input was still waiting (read and not sent, or a file not read to its end,
      // or a pipe that had started to deliver and had not ended): not everything went out. An idle pipe
      // or a terminal that never gave a byte is no unsent input: a clean close then is success.
      const unsent = this.queued > 0 || (!this.eof && (stdin_is_file() || this.sent > 0));
      if (!this.closing && unsent && !process.stdin.isTTY) {
        code = 1;
        message =
          `the peer closed the channel after ${this.sent} bytes sent, ` +
          `before the end of the input (${this.sent + this.queued} bytes read so far)`;
      }
    }
    const cut = this.cutBy() ?? failure ?? null;
    if (cut) {
      code = 1;
      message = cut;
    }
    if (this.interrupted && o.mode !== 'interactive') {
      code = 130;
      message = `interrupted after ${o.mode === 'send' ? `${this.sent} of ${o.send_bytes} bytes sent` : `${this.received} bytes received`}`;
    }
    if (code === 1 && cut && this.keep_serving && this.host.recover && !this.host.options.once) {
      this.host.say(`bthost: transfer failed: ${cut}; still listening`);
      this.reset();
      this.on_next();
      return;
    }
    if (code === 0 && this.keep_serving && o.serve && !this.interrupted) {
      this.reset();
      this.on_next();
      return;
    }
    this.host.finish(code, message);
  }

  /** Why the transfer was cut under the channel (a fault of the controller or port, a lost link), or null. */
  private cutBy(): string | null {
    const o = this.options;
    const done =
      o.mode === 'send'
        ? `after ${this.sent} of ${o.send_bytes} bytes sent`
        : o.mode === 'receive'
          ? `after ${this.received} bytes received`
          : `after ${this.sent} bytes sent, ${this.received} received`;
    const fault = this.host.faults.cause;
    if (fault) return `${fault}: the channel was cut ${done}`;
    if (this.linkDown !== null) return `the link was lost (${status_text(this.linkDown)}): the channel was cut ${done}`;
    return null;
  }

  /** Ready for the next channel (a listen that goes on). */
  private reset(): void {
    this.closing = false;
    this.interrupted = false;
    this.eof = false;
    this.queue.length = 0;
    this.queued = 0;
    this.sent = 0;
    this.received = 0;
    this.t_first_sent = this.t_last_sent = this.t_first_received = this.t_last_received = 0;
    this.lingerTimer = null;
    this.progressTimer = null;
    this.handle = -1;
    this.linkDown = null;
    this.hash = this.options.sha256 && this.options.mode !== 'interactive' ? createHash('sha256') : null;
  }

  private linger(): void {
    if (this.lingerTimer || this.closing) return;
    this.lingerTimer = this.host.after(this.options.linger_ms, () => this.close());
  }

  private progressLine(): string {
    const o = this.options;
    if (o.mode === 'send') return progress_bar(this.sent, o.send_bytes, performance.now() - this.t_first_sent);
    return progress_bar(this.received, 0, this.received ? this.t_last_received - this.t_first_received : 0);
  }

  private tickProgress(): void {
    process.stderr.write(`\r${this.progressLine()}`);
    this.progressTimer = this.host.after(200, () => this.tickProgress());
  }
}

/** Whether standard input is a regular file (`< file`): its unread rest is input the peer did not take. */
function stdin_is_file(): boolean {
  try {
    return fstatSync(0).isFile();
  } catch {
    return false;
  }
}
