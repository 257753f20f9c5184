/**
 * The plumbing the port transports share (serialport H4 and H5, the HCI user channel, USB), as
 * small parts each transport composes (no base class; docs/ARCHITECTURE.md 2a): what stays in a
 * transport is its own device, its open/close sequence and its framing.
 *
 * - `TransportHandlers`: the run loop given by `init` and the handlers the stack registered; the
 *   events up, and a failure told as one logged line plus its event.
 * - `RunLoopInbox`: items from I/O callbacks (read chunks) handed to the run loop in one posted
 *   task per burst, dropped when the transport stopped being open meanwhile.
 * - `RunLoopCounter`: completions (writes done) counted in I/O callbacks, told once per burst.
 * - `PresenceCheck`: while open, ask `presence_check_ms` after the previous answer whether the
 *   device still exists (asynchronously, the answer back on the run loop); gone -> the transport's
 *   failure.
 * - `send_packet_args`: send_packet's argument checks.
 */
import { Timer, type RunLoop } from '../src/core/run-loop.js';
import type { Logger } from '../src/core/log.js';
import type { TransportEvent, TransportEventHandler, TransportPacketHandler } from '../src/hci/transport.js';
import { ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS, ERROR_CODE_SUCCESS } from '../src/codes/v1.4.js';

/** The stack side of a transport: its run loop and the two handlers it registered. */
export class TransportHandlers {
  private runLoop: RunLoop | null = null;
  private packetHandler: TransportPacketHandler = () => {};
  private eventHandler: TransportEventHandler = () => {};

  /** `owner` names the transport in the init() error; failures are logged to `logger`. */
  constructor(
    private readonly owner: string,
    private readonly logger: Logger | undefined,
  ) {}

  init(run_loop: RunLoop): void {
    this.runLoop = run_loop;
  }

  set_packet_handler(handler: TransportPacketHandler): void {
    this.packetHandler = handler;
  }

  set_event_handler(handler: TransportEventHandler): void {
    this.eventHandler = handler;
  }

  /** The run loop; a TypeError before init(). */
  loop(): RunLoop {
    if (!this.runLoop) throw new TypeError(`${this.owner}: init(run_loop) must be called first`);
    return this.runLoop;
  }

  /** A packet up to the stack (a view valid during the call). */
  packet(type: number, packet: Uint8Array, size: number): void {
    this.packetHandler(type, packet, size);
  }

  emit(event: TransportEvent): void {
    this.eventHandler(event);
  }

  /** Emit `event` from the run loop (an API call never reports re-entrantly). */
  post(event: TransportEvent): void {
    this.loop().execute_on_main_thread(() => this.eventHandler(event));
  }

  /** A failure: its one line logged as an error, then the event carrying it. */
  report(type: 'failed' | 'open-failed', message: string): void {
    this.logger?.error(message);
    this.eventHandler({ type, error: message });
  }
}

/**
 * Items pushed from I/O callbacks, handed to `each` on the run loop: one posted task per burst;
 * before each item `open()` is asked (a handler may close the transport: the rest is dropped).
 */
export class RunLoopInbox<T> {
  private readonly items: T[] = [];
  private posted = false;
  private readonly drain = (): void => this.run();

  constructor(
    private readonly loop: () => RunLoop,
    private readonly open: () => boolean,
    private readonly each: (item: T) => void,
  ) {}

  push(item: T): void {
    this.items.push(item);
    if (this.posted) return;
    this.posted = true;
    this.loop().execute_on_main_thread(this.drain);
  }

  clear(): void {
    this.items.length = 0;
  }

  private run(): void {
    this.posted = false;
    for (let i = 0; i < this.items.length; i++) {
      if (!this.open()) break;
      this.each(this.items[i]!);
    }
    this.items.length = 0;
  }
}

/** Completions counted in I/O callbacks; `done(n)` on the run loop, once per burst. */
export class RunLoopCounter {
  private count = 0;
  private posted = false;
  private readonly drain = (): void => {
    this.posted = false;
    const n = this.count;
    this.count = 0;
    this.done(n);
  };

  constructor(
    private readonly loop: () => RunLoop,
    private readonly done: (n: number) => void,
  ) {}

  add(): void {
    this.count++;
    if (this.posted) return;
    this.posted = true;
    this.loop().execute_on_main_thread(this.drain);
  }

  clear(): void {
    this.count = 0;
  }
}

/**
 * While a session is open, `present()` is asked `ms` after the previous answer (at most one
 * question in flight per session); `gone(session)` when it answers false (a rejected question
 * counts as present). `current()` is the open session, null when not open.
 */
export class PresenceCheck<S extends object> {
  private readonly timer = new Timer(() => this.check());
  private checking: S | null = null;

  constructor(
    private readonly loop: () => RunLoop,
    private readonly ms: number,
    private readonly current: () => S | null,
    private readonly present: () => Promise<boolean>,
    private readonly gone: (session: S) => void,
  ) {}

  /** Ask again `ms` from now (nothing when `ms` <= 0). */
  arm(): void {
    if (this.ms <= 0) return;
    const loop = this.loop();
    loop.set_timer(this.timer, this.ms);
    loop.add_timer(this.timer);
  }

  stop(): void {
    this.loop().remove_timer(this.timer);
  }

  private check(): void {
    const session = this.current();
    if (!session || this.checking === session) return;
    this.checking = session;
    const loop = this.loop();
    const answer = (present: boolean): void =>
      loop.execute_on_main_thread(() => {
        if (this.checking === session) this.checking = null;
        if (this.current() !== session) return;
        if (!present) return this.gone(session);
        this.arm();
      });
    this.present().then(answer, () => answer(true));
  }
}

/**
 * send_packet's argument checks: a TypeError for a packet that is no Uint8Array;
 * ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS for a size outside the packet (or above `max_size`)
 * or, with `h4_types`, a packet type outside 1..5; else ERROR_CODE_SUCCESS.
 */
export function send_packet_args(
  packet_type: number,
  packet: Uint8Array,
  size: number,
  h4_types: boolean,
  max_size = Infinity,
): number {
  if (!(packet instanceof Uint8Array)) throw new TypeError('send_packet: packet must be a Uint8Array');
  if (!Number.isInteger(size) || size < 0 || size > packet.length || size > max_size)
    return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
  if (h4_types && (packet_type < 1 || packet_type > 5)) return ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
  return ERROR_CODE_SUCCESS;
}
