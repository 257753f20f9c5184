/**
 * Run `bthost` (ports/cli/cli.ts through tsx) as a user would: a separate process, output and exit
 * code checked. `bthost()` waits for the exit; `start()` returns a running process whose output
 * can be waited for (for the two-process tests on socat ptys).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-cli-test-'));
const CLI = ['--import', 'tsx', 'ports/cli/cli.ts'];

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function bthost(args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): Run {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [...CLI, ...args], {
    encoding: 'utf8',
    input: opts.input ?? '',
    timeout: opts.timeout ?? 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - t0 };
}

/** As bthost(), without blocking: for running several at once. */
export function bthostAsync(args: string[], input = ''): Promise<Run> {
  const p = new Proc(args);
  p.child.stdin!.end(input);
  return p.exited;
}

/** A bthost process running in the background. */
export class Proc {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly t0 = Date.now();
  readonly exited: Promise<Run>;

  constructor(args: string[], cmd: string[] = CLI) {
    this.child = spawn(process.execPath, [...cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.stdout += s));
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code) =>
        resolve({ status: code, stdout: this.stdout, stderr: this.stderr, ms: Date.now() - this.t0 }),
      );
    });
  }

  /** Resolve with the first match of `re` in stdout+stderr; reject after `ms`. */
  waitFor(re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = (this.stdout + '\n' + this.stderr).match(re);
        if (m) {
          clearInterval(iv);
          clearTimeout(to);
          resolve(m);
        }
      };
      const iv = setInterval(check, 20);
      const to = setTimeout(() => {
        clearInterval(iv);
        reject(new Error(`timed out waiting for ${re}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      }, ms);
      check();
    });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

export function start(args: string[]): Proc {
  return new Proc(args);
}

/** A socat pty pair (or pty <-> socket); killed with kill(). */
export class Socat {
  readonly child: ChildProcess;
  constructor(
    readonly a: string,
    readonly b: string,
  ) {
    this.child = spawn('socat', ['-d', a, b], { stdio: 'ignore' });
  }
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

/** Wait until every path exists (socat made the pty links). */
export async function waitForPaths(paths: string[], ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!paths.every((p) => fs.existsSync(p))) {
    if (Date.now() - t0 > ms) throw new Error(`not created in ${ms} ms: ${paths.filter((p) => !fs.existsSync(p)).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const ADDR_RE = '(?:[0-9A-F]{2}:){5}[0-9A-F]{2}';
export const PEER = 'C0:FF:EE:00:00:02';
export const LOCAL = 'C0:FF:EE:00:00:01';
