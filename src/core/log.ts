/**
 * Logging as BTstack's log_info/log_error: routed to the packet log (PacketLogger text records)
 * and optionally to a console sink. Strings are only built when someone listens.
 */
export const LOG_LEVEL_DEBUG = 0;
export const LOG_LEVEL_INFO = 1;
export const LOG_LEVEL_ERROR = 2;

export type LogSink = (level: number, message: string) => void;

export class Logger {
  private sinks: LogSink[] = [];
  /** Lowest level passed to sinks. */
  level = LOG_LEVEL_INFO;
  add_sink(sink: LogSink): void {
    this.sinks.push(sink);
  }
  remove_sink(sink: LogSink): void {
    const i = this.sinks.indexOf(sink);
    if (i >= 0) this.sinks.splice(i, 1);
  }
  get enabled(): boolean {
    return this.sinks.length > 0;
  }
  log(level: number, message: string | (() => string)): void {
    if (level < this.level || this.sinks.length === 0) return;
    const text = typeof message === 'function' ? message() : message;
    for (const s of this.sinks) s(level, text);
  }
  debug(m: string | (() => string)): void {
    this.log(LOG_LEVEL_DEBUG, m);
  }
  info(m: string | (() => string)): void {
    this.log(LOG_LEVEL_INFO, m);
  }
  error(m: string | (() => string)): void {
    this.log(LOG_LEVEL_ERROR, m);
  }
}
