/**
 * Child processes for the end-to-end tests that run examples and `bthost` as separate programs:
 * start one with its stdout and stderr collected, start a TypeScript program under tsx, and wait
 * (bounded, polling) for what a process prints.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** The repository's root directory. */
export const ROOT = new URL('../../', import.meta.url).pathname;

/** socat is installed (the ptys of `bthost controller` are made with it). */
export const haveSocat = spawnSync('socat', ['-V'], { encoding: 'utf8' }).status === 0;

export interface Proc {
  child: ChildProcess;
  /** stdout and stderr so far, as they came. */
  out: string;
  /** The exit code (null when killed by a signal). */
  exit: Promise<number | null>;
}

/** Start `cmd args` in ROOT, collecting its output. */
export function run(cmd: string, args: string[]): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { child, out: '', exit: Promise.resolve(null) };
  child.stdout!.on('data', (d) => (p.out += d));
  child.stderr!.on('data', (d) => (p.out += d));
  p.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return p;
}

/** Start a TypeScript program (path relative to ROOT) under tsx. */
export function tsx(script: string, args: string[]): Proc {
  return run(process.execPath, ['--import', 'tsx', script, ...args]);
}

/** Wait until `pred()` holds, polling every 10 ms; throws after `ms` naming `what`. */
export async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
