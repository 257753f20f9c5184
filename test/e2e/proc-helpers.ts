/**
 * Child processes for the end-to-end tests that run examples and `bthost` as separate programs:
 * start one with its stdout and stderr collected, start a TypeScript program under tsx, and wait
 * (bounded, polling) for what a process prints.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

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

/**
 * A `bthost controller` serving virtual controllers on dir/controller.sock, and one socat pty on it
 * per name (dir/NAME/tty); every process goes into `procs` (the caller kills them). Returns the ttys.
 */
export async function radio(dir: string, procs: Proc[], names: string[]): Promise<string[]> {
  const sock = join(dir, 'controller.sock');
  const controller = tsx('ports/cli/cli.ts', ['controller', '--listen', `unix:${sock}`]);
  procs.push(controller);
  await until(() => controller.out.includes('listening on'), 20_000, 'bthost controller listening');
  const ttys: string[] = [];
  for (const name of names) {
    const d = join(dir, name);
    mkdirSync(d);
    const tty = join(d, 'tty');
    procs.push(run('socat', [`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${sock}`]));
    await until(() => existsSync(tty), 5000, `pty ${tty}`);
    ttys.push(tty);
  }
  return ttys;
}
