/**
 * BTHOST_MEM_LOG=FILE (opt-in, for bench/soak.ts): while a command runs, append one JSON line
 * `{"t":MS,"rss":B,"heapUsed":B,"heapTotal":B,"external":B,"arrayBuffers":B}` to FILE every
 * 10 s (and one at the start), from a run-loop timer. t is milliseconds since the Unix epoch.
 * Under `node --expose-gc` each sample is taken after a full GC, so garbage not yet collected does
 * not count (bench/soak.ts starts the listener so).
 */
import { appendFileSync } from 'node:fs';

export const MEM_LOG_PERIOD_MS = 10_000;

/** One sample as a JSON line. */
export function mem_sample_line(): string {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return (
    JSON.stringify({
      t: Date.now(),
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
    }) + '\n'
  );
}

/** Start sampling to `file` on `host`'s run loop (nothing without a file). */
export function mem_log(
  host: { after(ms: number, fn: () => void): unknown },
  file: string | undefined,
  period_ms = MEM_LOG_PERIOD_MS,
): void {
  if (!file) return;
  const tick = () => {
    try {
      appendFileSync(file, mem_sample_line());
    } catch {
      return; // an unwritable log stops sampling; the command goes on
    }
    host.after(period_ms, tick);
  };
  tick();
}
