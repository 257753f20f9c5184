/**
 * Measurement helpers for the benchmarks: wall time, CPU time, GC counts by kind, heap and RSS.
 *
 * GC counts come from PerformanceObserver('gc') entries (delivered asynchronously, so `measure`
 * awaits a macrotask after the measured section and keeps only entries that started inside it).
 * A forced GC (global.gc, present when node runs with --expose-gc) is used for heap figures and is
 * never counted: it runs outside the measured window.
 */
import { constants, PerformanceObserver, performance } from 'node:perf_hooks';

export interface GcCounts {
  /** Young-generation collections (scavenges). */
  scavenge: number;
  /** Full mark-sweep-compact collections. */
  mark_sweep: number;
  /** Incremental marking steps. */
  incremental: number;
  /** Weak-callback processing. */
  weak: number;
  /** Total time spent in GC pauses, ms. */
  pause_ms: number;
}

export interface Measurement {
  wall_ms: number;
  /** User + system CPU of the whole process during the section. */
  cpu_ms: number;
  gc: GcCounts;
  /** Heap used before and after, bytes (after a forced GC when available). */
  heap_before: number;
  heap_after: number;
  rss_after: number;
}

export function gcAvailable(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

/** Force a full GC (twice, so weak callbacks run) when --expose-gc is on; otherwise a no-op. */
export function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

function emptyGc(): GcCounts {
  return { scavenge: 0, mark_sweep: 0, incremental: 0, weak: 0, pause_ms: 0 };
}

/** Let queued macrotasks (and PerformanceObserver deliveries) run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Collects GC entries for the life of the process; `countBetween` picks a window. */
class GcRecorder {
  private entries: Array<{ start: number; kind: number; duration: number }> = [];
  private observer: PerformanceObserver | null = null;

  start(): void {
    if (this.observer) return;
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const detail = (e as unknown as { detail?: { kind?: number } }).detail;
        this.entries.push({ start: e.startTime, kind: detail?.kind ?? 0, duration: e.duration });
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  countBetween(t0: number, t1: number): GcCounts {
    const c = emptyGc();
    for (const e of this.entries) {
      if (e.start < t0 || e.start > t1) continue;
      c.pause_ms += e.duration;
      switch (e.kind) {
        case constants.NODE_PERFORMANCE_GC_MINOR:
          c.scavenge++;
          break;
        case constants.NODE_PERFORMANCE_GC_MAJOR:
          c.mark_sweep++;
          break;
        case constants.NODE_PERFORMANCE_GC_INCREMENTAL:
          c.incremental++;
          break;
        case constants.NODE_PERFORMANCE_GC_WEAKCB:
          c.weak++;
          break;
        default:
          break;
      }
    }
    // forget old entries so a long run does not grow this list without bound
    this.entries = this.entries.filter((e) => e.start > t1);
    return c;
  }
}

const recorder = new GcRecorder();

/**
 * Measure `fn` (sync or async). Heap figures are taken after a forced GC when available.
 * Returns the measurement and fn's result.
 */
export async function measure<T>(fn: () => T | Promise<T>): Promise<{ m: Measurement; result: T }> {
  recorder.start();
  forceGc();
  await tick();
  const heap_before = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  // PerformanceObserver delivers entries asynchronously: give it a chance before counting
  await tick();
  await tick();
  const gc = recorder.countBetween(t0, t1);
  forceGc();
  const mem = process.memoryUsage();
  return {
    m: {
      wall_ms: t1 - t0,
      cpu_ms: (cpu.user + cpu.system) / 1000,
      gc,
      heap_before,
      heap_after: mem.heapUsed,
      rss_after: mem.rss,
    },
    result,
  };
}

/**
 * Bytes allocated on the JS heap by `fn` (synchronous), from heapUsed growth in a window with
 * no GC; retried a few times, null when a collection always interfered. Run it on a slice of
 * work small enough to fit the young generation (a few MB).
 */
export async function allocatedBy(fn: () => void, tries = 5): Promise<number | null> {
  recorder.start();
  for (let i = 0; i < tries; i++) {
    forceGc();
    await tick();
    const h0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    fn();
    const h1 = process.memoryUsage().heapUsed;
    const t1 = performance.now();
    await tick();
    await tick();
    const gc = recorder.countBetween(t0, t1);
    if (gc.scavenge + gc.mark_sweep + gc.incremental === 0) return Math.max(0, h1 - h0);
  }
  return null;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-th percentile (0..100) by nearest rank. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  const n = xs.length;
  if (n === 0) return NaN;
  const s = Array.from(xs).sort((a, b) => a - b);
  const rank = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
  return s[rank]!;
}

/** Small seeded PRNG (mulberry32) so streams and chunk cuts are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const MB = 1e6;

export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toFixed(digits);
}
