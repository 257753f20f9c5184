/**
 * How a benchmark starts a TypeScript program in a child process.
 *
 * - 'node' (default): our own modules bundled by esbuild into one ES module (npm packages stay
 *   imports), run by plain `node`, as a user runs the published package (dist/ is one bundle per
 *   entry, no TypeScript loader). Built once per process into node_modules/.cache/bthost-bench/
 *   and removed when the process exits.
 * - 'tsx': `node --import tsx FILE`: TypeScript compiled at load by tsx's loader, which lives in a
 *   worker thread with its own V8 heap (its garbage collections, memory-reducer ones included, run
 *   on the measured process's CPU) and wraps every named closure in `__name()` (esbuild keepNames).
 *
 * The choice: the `runner` argument, else BTHOST_BENCH_RUNNER=node|tsx, else 'node'.
 */
import { mkdirSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { ROOT_DIR } from './harness.js';

export type BenchRunner = 'node' | 'tsx';

export function bench_runner(runner?: string): BenchRunner {
  const v = (runner ?? process.env.BTHOST_BENCH_RUNNER ?? 'node').trim().toLowerCase();
  if (v !== 'node' && v !== 'tsx') throw new Error(`bench: unknown runner ${v} (node or tsx)`);
  return v;
}

const built = new Map<string, string>();

/** The node argv (before the program's own arguments) that runs `file` with `runner`. */
export function node_entry(file: string, runner: BenchRunner = bench_runner()): string[] {
  if (runner === 'tsx') return ['--import', 'tsx', file];
  let out = built.get(file);
  if (out === undefined) {
    const dir = join(ROOT_DIR, 'node_modules', '.cache', 'bthost-bench');
    mkdirSync(dir, { recursive: true });
    // the real path: node runs a main module from its real path, so through a symlinked
    // node_modules (a worktree's) the child's isMain() would not see itself as the main module
    out = join(realpathSync(dir), `${basename(file, '.ts')}-${process.pid}.mjs`);
    // esbuild is loaded here, not imported at the top: a benchmark's child that is itself bundled
    // (bench/startup.ts's cold runs) would otherwise load esbuild's API at start and count it
    const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    buildSync({
      entryPoints: [file],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'error',
    });
    built.set(file, out);
    const made = out;
    process.once('exit', () => rmSync(made, { force: true }));
  }
  return [out];
}
