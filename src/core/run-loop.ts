/**
 * The run loop: BTstack's single-threaded model. Every layer sets timers here and nowhere else.
 *
 * Two implementations share one timer queue:
 * - NodeRunLoop rides Node's event loop with a single Node timer armed for the earliest deadline;
 * - VirtualRunLoop runs all ready work and then jumps the clock to the next deadline, so a
 *   120-second L2CAP timeout takes microseconds in a test.
 * Timers with equal deadlines fire in the order they were added (stable).
 *
 * Errors: an exception thrown by a timer handler or posted callback (a user's packet handler runs
 * inside one) is rethrown, as any uncaught error in a Node callback: NodeRunLoop lets it leave the
 * Node timer/setImmediate callback, so the process prints the stack and exits non-zero unless the
 * application catches it (process.on('uncaughtException')); VirtualRunLoop.run() throws it to the
 * test. The loop's own state is restored first, so later timers and callbacks still run if someone
 * catches the error. `set_error_handler(fn)` opts in to reporting instead: fn gets the error and
 * the loop goes on with the next callback.
 *
 * BTstack's data sources (file descriptors polled by the loop) have no counterpart: transports
 * get their I/O callbacks from Node (serialport, sockets) and hand the work to the stack with
 * `execute_on_main_thread`, the one way in from another async context.
 */

export type TimerHandler = (timer: Timer) => void;

/** Receives an error thrown by a timer handler or posted callback (see RunLoop.set_error_handler). */
export type RunLoopErrorHandler = (err: unknown) => void;

/** BTstack's btstack_timer_source_t. */
export class Timer {
  /** Absolute deadline in run-loop milliseconds. */
  timeout = 0;
  handler: TimerHandler | null;
  context: unknown;
  /** @internal insertion sequence for stable ordering */
  seq = 0;
  /** @internal */
  active = false;
  constructor(handler: TimerHandler | null = null, context: unknown = null) {
    this.handler = handler;
    this.context = context;
  }
}

export interface RunLoop {
  /** Milliseconds since the loop was created (BTstack's btstack_run_loop_get_time_ms). */
  get_time_ms(): number;
  /** Set the timer's deadline to now + timeout_in_ms (does not add it). */
  set_timer(timer: Timer, timeout_in_ms: number): void;
  set_timer_handler(timer: Timer, handler: TimerHandler): void;
  set_timer_context(timer: Timer, context: unknown): void;
  get_timer_context(timer: Timer): unknown;
  /** Add the timer; adding an active timer re-queues it with its current deadline. */
  add_timer(timer: Timer): void;
  /** Remove the timer; returns true if it was queued. */
  remove_timer(timer: Timer): boolean;
  /**
   * Queue a callback to run on the loop (in order, after the current callback). The transport
   * hook: I/O callbacks from Node (serialport data, socket events) enter the stack only through
   * here, never by calling layers directly. The only entry safe from other async contexts.
   */
  execute_on_main_thread(callback: () => void): void;
  /** Ask the loop to stop after the current callback. */
  trigger_exit(): void;
  /**
   * Opt in to reporting errors thrown by callbacks to `handler` (the loop then carries on with the
   * next one); null restores the default, rethrowing them.
   */
  set_error_handler(handler: RunLoopErrorHandler | null): void;
  /** Number of queued timers (for tests and leak checks). */
  timer_count(): number;
}

/** Shared timer queue and callback queue; subclasses decide how time passes. */
abstract class BaseRunLoop implements RunLoop {
  protected timers: Timer[] = [];
  /** Posted callbacks in [postedHead, postedTail); the array keeps its capacity (no allocation per post). */
  protected posted: Array<(() => void) | undefined> = [];
  protected postedHead = 0;
  protected postedTail = 0;
  protected exitRequested = false;
  private seqCounter = 0;
  /**
   * Opt-in error handler (set_error_handler): errors thrown by callbacks go here and the loop goes
   * on. null (the default) rethrows them.
   */
  onError: RunLoopErrorHandler | null = null;

  set_error_handler(handler: RunLoopErrorHandler | null): void {
    this.onError = handler;
  }

  abstract get_time_ms(): number;

  set_timer(timer: Timer, timeout_in_ms: number): void {
    timer.timeout = this.get_time_ms() + Math.max(0, timeout_in_ms);
  }
  set_timer_handler(timer: Timer, handler: TimerHandler): void {
    timer.handler = handler;
  }
  set_timer_context(timer: Timer, context: unknown): void {
    timer.context = context;
  }
  get_timer_context(timer: Timer): unknown {
    return timer.context;
  }

  add_timer(timer: Timer): void {
    if (timer.active) this.unlink(timer);
    timer.seq = ++this.seqCounter;
    timer.active = true;
    // binary search for the first timer that fires strictly later (stable for equal deadlines)
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timers[mid]!.timeout <= timer.timeout) lo = mid + 1;
      else hi = mid;
    }
    this.timers.splice(lo, 0, timer);
    this.timersChanged();
  }

  remove_timer(timer: Timer): boolean {
    if (!timer.active) return false;
    this.unlink(timer);
    this.timersChanged();
    return true;
  }

  private unlink(timer: Timer): void {
    const i = this.timers.indexOf(timer);
    if (i >= 0) this.timers.splice(i, 1);
    timer.active = false;
  }

  execute_on_main_thread(callback: () => void): void {
    this.posted[this.postedTail++] = callback;
    this.postedChanged();
  }

  trigger_exit(): void {
    this.exitRequested = true;
  }

  timer_count(): number {
    return this.timers.length;
  }

  /** Deadline of the earliest timer, or undefined. */
  next_deadline(): number | undefined {
    return this.timers[0]?.timeout;
  }

  /** Run every posted callback (including ones posted while draining). */
  protected drainPosted(): number {
    let n = 0;
    while (this.hasPosted() && !this.exitRequested) {
      n++;
      this.safely(this.takePosted());
    }
    return n;
  }

  protected hasPosted(): boolean {
    return this.postedHead < this.postedTail;
  }

  /** Remove and return the oldest posted callback (caller checked hasPosted). */
  protected takePosted(): () => void {
    const cb = this.posted[this.postedHead]!;
    this.posted[this.postedHead++] = undefined;
    if (this.postedHead === this.postedTail) {
      this.postedHead = 0;
      this.postedTail = 0;
    }
    return cb;
  }

  /** Fire every timer whose deadline is <= now, in order. Returns how many fired. */
  protected fireDue(now: number): number {
    let n = 0;
    try {
      while (this.timers.length && this.timers[0]!.timeout <= now && !this.exitRequested) {
        const t = this.timers.shift()!;
        t.active = false;
        n++;
        const h = t.handler;
        if (h) this.fireTimer(h, t);
      }
    } finally {
      // also when a handler threw: the queue changed, re-arm for what is left
      if (n) this.timersChanged();
    }
    return n;
  }

  /** Call a timer handler without allocating a closure (hot in benchmarks and long tests). */
  protected fireTimer(h: TimerHandler, t: Timer): void {
    const report = this.onError;
    if (!report) {
      h(t); // the default: an error leaves the loop (callers restore their state in finally)
      return;
    }
    try {
      h(t);
    } catch (err) {
      report(err);
    }
  }

  protected safely(fn: () => void): void {
    const report = this.onError;
    if (!report) {
      fn();
      return;
    }
    try {
      fn();
    } catch (err) {
      report(err);
    }
  }

  protected timersChanged(): void {}
  protected postedChanged(): void {}
}

/**
 * Run loop on Node's event loop: one Node timer for the earliest deadline, posted callbacks
 * drained on setImmediate. Timer changes are settled once per synchronous burst: adding 100
 * timers, or a batch of handlers re-adding theirs, arms the Node timer once (at the end of the
 * loop's own Node callback, or in a microtask when the change comes from elsewhere).
 */
export class NodeRunLoop extends BaseRunLoop {
  private readonly start = performance.now();
  private nodeTimer: ReturnType<typeof setTimeout> | null = null;
  private armedFor = Infinity;
  private armQueued = false;
  private readonly armNow = (): void => this.arm();
  private readonly onNodeTimerBound = (): void => this.onNodeTimer();
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private running = false;
  private exitResolve: (() => void) | null = null;

  get_time_ms(): number {
    return Math.floor(performance.now() - this.start);
  }

  /** Start processing; resolves after trigger_exit(). Timers and callbacks are live from construction. */
  execute(): Promise<void> {
    this.running = true;
    this.exitRequested = false;
    this.timersChanged();
    this.postedChanged();
    return new Promise((resolve) => {
      this.exitResolve = resolve;
    });
  }

  override trigger_exit(): void {
    super.trigger_exit();
    this.disarm();
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    const r = this.exitResolve;
    this.exitResolve = null;
    this.running = false;
    if (r) r();
  }

  /** Whether the loop keeps the Node process alive while timers are pending (default true). */
  keepAlive = true;

  protected override timersChanged(): void {
    if (this.exitRequested || this.armQueued) return;
    // inside our own Node callback the timer is armed once at its end (no microtask per wakeup)
    if (this.inLoop) return;
    this.armQueued = true;
    queueMicrotask(this.armNow);
  }

  /** Arm (or keep) the one Node timer for the earliest deadline. */
  private arm(): void {
    this.armQueued = false;
    if (this.exitRequested) return;
    const next = this.timers[0]?.timeout;
    if (next === undefined) {
      this.disarm();
      return;
    }
    if (this.nodeTimer && next >= this.armedFor) return; // already armed early enough
    this.disarm();
    this.armedFor = next;
    const delay = Math.max(0, next - (performance.now() - this.start));
    this.nodeTimer = setTimeout(this.onNodeTimerBound, Math.ceil(delay));
    if (!this.keepAlive) this.nodeTimer.unref?.();
  }

  private disarm(): void {
    if (this.nodeTimer) clearTimeout(this.nodeTimer);
    this.nodeTimer = null;
    this.armedFor = Infinity;
  }

  /**
   * Inside one of our Node callbacks (timers or posted callbacks): callbacks posted meanwhile run at
   * the end of this same Node callback (one loop iteration handles timers, then posted callbacks,
   * like BTstack's run loop) instead of costing one more event-loop turn (a setImmediate: on a
   * serial line at full rate, the L2CAP run posted after every read doubled the wakeups).
   */
  private inLoop = false;

  private onNodeTimer(): void {
    this.nodeTimer = null;
    this.armedFor = Infinity;
    this.inLoop = true;
    try {
      this.fireDue(this.get_time_ms());
      this.drainPosted();
    } finally {
      this.inLoop = false;
      // a handler's error propagates out of this Node callback; the timers left are re-armed and
      // the posted callbacks behind it run on the next turn
      this.arm();
      if (this.hasPosted()) this.postedChanged();
    }
  }

  private readonly onImmediateBound = (): void => {
    this.immediate = null;
    this.inLoop = true;
    try {
      this.drainPosted();
    } finally {
      this.inLoop = false;
      // a callback's error propagates out of this Node callback; the ones behind it still run
      this.arm();
      if (this.hasPosted()) this.postedChanged();
    }
  };

  protected override postedChanged(): void {
    if (this.immediate || this.exitRequested || this.inLoop) return;
    this.immediate = setImmediate(this.onImmediateBound);
  }

  /** @internal for ports: whether execute() is active */
  isRunning(): boolean {
    return this.running;
  }
}

/**
 * Deterministic run loop for tests: time only moves when all ready work is done.
 */
export class VirtualRunLoop extends BaseRunLoop {
  private now = 0;

  get_time_ms(): number {
    return this.now;
  }

  /**
   * Run until nothing is ready and no timer is pending, until trigger_exit(), or until the clock
   * would pass `max_ms` of virtual time from now. Returns the virtual ms elapsed.
   */
  run(max_ms = Infinity): number {
    const start = this.now;
    const limit = start + max_ms;
    this.exitRequested = false;
    for (;;) {
      this.drainPosted();
      if (this.exitRequested) break;
      if (this.fireDue(this.now)) continue;
      if (this.hasPosted()) continue;
      const next = this.timers[0]?.timeout;
      if (next === undefined) break;
      if (next > limit) {
        this.now = limit;
        break;
      }
      this.now = Math.max(this.now, next);
    }
    return this.now - start;
  }

  /** Advance virtual time by exactly `ms`, running everything due on the way. */
  advance(ms: number): void {
    const target = this.now + ms;
    this.run(ms);
    if (!this.exitRequested && this.now < target) this.now = target;
  }

  /** Run until `predicate()` holds (checked after every step) or `max_ms` virtual ms pass. */
  run_until(predicate: () => boolean, max_ms = 600_000): boolean {
    const limit = this.now + max_ms;
    this.exitRequested = false;
    for (;;) {
      if (predicate()) return true;
      if (this.hasPosted()) {
        // run one posted callback at a time so the predicate sees each step
        this.safely(this.takePosted());
        continue;
      }
      if (this.exitRequested) return predicate();
      const next = this.timers[0]?.timeout;
      if (next === undefined || next > limit) return predicate();
      this.now = Math.max(this.now, next);
      const t = this.timers.shift()!;
      t.active = false;
      const h = t.handler;
      if (h) this.fireTimer(h, t);
    }
  }
}
