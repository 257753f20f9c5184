/**
 * CPU and allocation profiles of a function, taken in-process through the inspector protocol:
 * - CPU: V8's sampling profiler, summarized as self time per function;
 * - allocation: V8's sampling heap profiler with objects already collected by minor and major
 *   GCs included, so short-lived garbage (what causes scavenges) shows up, summarized per
 *   allocation site with its callers.
 */
import { Session } from 'node:inspector';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

function post<T>(s: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => s.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/|src\/|ports\/|bench\/)/, '$1');
}

function frameName(cf: CallFrame): string {
  const u = shortUrl(cf.url);
  return `${cf.functionName || '(anonymous)'}${u ? ` ${u}:${cf.lineNumber + 1}` : ''}`;
}

interface CpuNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export async function cpuProfile(fn: () => void | Promise<void>, top = 25): Promise<string> {
  const stop = await startCpuProfile(top);
  await fn();
  return stop();
}

/** Start the sampling profiler now; the returned function stops it and returns the summary. */
export async function startCpuProfile(top = 25, intervalUs = 100): Promise<() => Promise<string>> {
  const s = new Session();
  s.connect();
  await post(s, 'Profiler.enable');
  await post(s, 'Profiler.setSamplingInterval', { interval: intervalUs });
  await post(s, 'Profiler.start');
  return async () => {
    const { profile } = await post<{ profile: { nodes: CpuNode[]; samples: number[]; timeDeltas: number[] } }>(
      s,
      'Profiler.stop',
    );
    s.disconnect();
    return summarizeCpu(profile, top);
  };
}

function summarizeCpu(profile: { nodes: CpuNode[]; samples: number[]; timeDeltas: number[] }, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // the profiler's own stop call (node:inspector) is not the workload
  const isProfiler = (id: number): boolean => {
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x))
      if (byId.get(x)!.callFrame.url === 'node:inspector') return true;
    return false;
  };
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    if (isProfiler(profile.samples[i]!)) continue;
    const n = byId.get(profile.samples[i]!)!;
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const k = frameName(n.callFrame);
    self.set(k, (self.get(k) ?? 0) + dt);
  }
  // self time by function with its caller, for the top functions
  const withCaller = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    if (isProfiler(id)) continue;
    const n = byId.get(id)!;
    const p = parent.get(id);
    const k = `${frameName(n.callFrame)}  <-  ${p !== undefined ? frameName(byId.get(p)!.callFrame) : '(root)'}`;
    withCaller.set(k, (withCaller.get(k) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  // self time by component: whose code the CPU was in
  const groups = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    if (isProfiler(id)) continue;
    const g = component(byId.get(id)!.callFrame);
    groups.set(g, (groups.get(g) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const out = [`CPU profile: ${(total / 1000).toFixed(0)} ms sampled; self time by component:`];
  for (const [k, us] of [...groups].sort((a, b) => b[1] - a[1]))
    out.push(`  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  out.push('self time by function:');
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
    out.push(`  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  out.push('self time with caller (top 10):');
  for (const [k, us] of [...withCaller].sort((a, b) => b[1] - a[1]).slice(0, 10))
    out.push(`  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  return out.join('\n');
}

/** Which component a frame belongs to. */
function component(cf: CallFrame): string {
  const u = cf.url;
  if (cf.functionName === '(idle)') return 'idle';
  if (cf.functionName === '(garbage collector)') return 'GC';
  if (u.includes('/src/controller/')) return 'virtual controller (src/controller)';
  if (u.includes('/ports/virtual/')) return 'virtual transport (ports/virtual)';
  if (/\/(src|ports)\//.test(u) && !u.includes('node_modules')) return 'bthost (src/, ports/)';
  if (u.includes('/bench/')) return 'benchmark driver (bench/)';
  if (u.includes('node_modules/@serialport') || u.includes('node_modules/serialport')) return 'serialport (JS)';
  if (u.includes('node_modules/')) return 'other node_modules';
  if (u.startsWith('node:')) return 'node internals (JS)';
  return 'native / VM (bindings: fs read/write, (program))';
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/**
 * Allocation sites of `fn` (sampled every `interval` bytes), with `depth` callers each.
 * Returns the report and the total sampled bytes.
 */
export async function allocationProfile(fn: () => void | Promise<void>, top = 20, depth = 4, interval = 1024): Promise<string> {
  const s = new Session();
  s.connect();
  await post(s, 'HeapProfiler.enable');
  await post(s, 'HeapProfiler.startSampling', {
    samplingInterval: interval,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await fn();
  const { profile } = await post<{ profile: { head: HeapNode } }>(s, 'HeapProfiler.stopSampling');
  s.disconnect();
  const sites = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode, stack: string[]): void => {
    const st = [...stack, frameName(n.callFrame)];
    if (n.selfSize) {
      total += n.selfSize;
      const k = st.slice(-depth).reverse().join('  <-  ');
      sites.set(k, (sites.get(k) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, st);
  };
  walk(profile.head, []);
  const out = [`allocation profile: ${(total / 1e6).toFixed(1)} MB sampled (including collected objects); by site:`];
  for (const [k, b] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, top))
    out.push(`  ${((100 * b) / total).toFixed(1).padStart(5)}%  ${(b / 1e6).toFixed(2).padStart(7)} MB  ${k}`);
  return out.join('\n');
}

/** Which part of the system an allocation belongs to: the nearest frame in our own code decides. */
function ownerOf(stack: CallFrame[]): string {
  for (let i = stack.length - 1; i >= 0; i--) {
    const u = stack[i]!.url;
    if (u.includes('node_modules')) continue;
    if (u.includes('/src/controller/')) return 'virtual controller (src/controller)';
    if (u.includes('/ports/virtual/')) return 'virtual transport (ports/virtual)';
    if (u.includes('/src/core/run-loop')) return 'run loop (src/core/run-loop.ts)';
    if (u.includes('/src/') || u.includes('/ports/')) return 'stack (src/, ports/)';
    if (u.includes('/bench/')) return 'benchmark driver (bench/)';
  }
  return 'other';
}

/** Bytes allocated by `fn` per owner (sampled, collected objects included). */
export async function allocationByOwner(fn: () => void | Promise<void>, interval = 1024): Promise<Map<string, number>> {
  const s = new Session();
  s.connect();
  await post(s, 'HeapProfiler.enable');
  await post(s, 'HeapProfiler.startSampling', {
    samplingInterval: interval,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await fn();
  const { profile } = await post<{ profile: { head: HeapNode } }>(s, 'HeapProfiler.stopSampling');
  s.disconnect();
  const owners = new Map<string, number>();
  const walk = (n: HeapNode, stack: CallFrame[]): void => {
    stack.push(n.callFrame);
    if (n.selfSize) {
      const o = ownerOf(stack);
      owners.set(o, (owners.get(o) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, stack);
    stack.pop();
  };
  walk(profile.head, []);
  return owners;
}
