/**
 * Helpers for tests on real ptys made by socat: a linked pty pair in a unique temp dir, bounded
 * polling waits, and a "controller" end opened with serialport.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';

/** Poll `pred` every few ms until it holds; throws after `ms` (real time). */
export async function until(pred: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface PtyPair {
  dir: string;
  a: string;
  b: string;
  socat: ChildProcess;
  /** Kill socat (idempotent); resolves when it exited. */
  kill(): Promise<void>;
  /** Kill socat and remove the temp dir. */
  cleanup(): Promise<void>;
}

/** Spawn socat with `spec_b` as the second address (default: another pty linked at dir/b). */
export async function spawnSocat(dir: string, args: string[]): Promise<ChildProcess> {
  const socat = spawn('socat', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  socat.stderr!.on('data', (d) => (stderr += d));
  let exited = false;
  socat.on('exit', () => (exited = true));
  socat.on('error', () => (exited = true));
  try {
    await until(() => exited || existsSync(join(dir, 'a')), 3000, 'socat pty link');
  } catch (e) {
    socat.kill('SIGKILL');
    throw e;
  }
  if (exited) throw new Error(`socat exited early: ${stderr}`);
  return socat;
}

export async function ptyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'bthost-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const socat = await spawnSocat(dir, [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`]);
  await until(() => existsSync(b), 3000, 'socat second link');
  return withKill(dir, a, b, socat);
}

export function withKill(dir: string, a: string, b: string, socat: ChildProcess): PtyPair {
  let done: Promise<void> | null = null;
  const kill = (): Promise<void> => {
    if (!done) {
      done = new Promise<void>((resolve) => {
        if (socat.exitCode !== null || socat.signalCode !== null) return resolve();
        const t = setTimeout(() => {
          socat.kill('SIGKILL');
        }, 1000);
        socat.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        socat.kill('SIGTERM');
      });
    }
    return done;
  };
  return {
    dir,
    a,
    b,
    socat,
    kill,
    async cleanup() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The controller side: a SerialPort on the other pty end collecting every byte it reads. */
export class PeerPort {
  readonly port: SerialPort;
  received: number[] = [];
  private reading = false;
  constructor(path: string, read = true) {
    this.port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    this.port.on('error', () => {});
    if (read) this.resume();
  }
  resume(): void {
    if (this.reading) return;
    this.reading = true;
    this.port.on('data', (d: Buffer) => {
      for (const x of d) this.received.push(x);
    });
  }
  open(): Promise<void> {
    return new Promise((res, rej) => this.port.open((e) => (e ? rej(e) : res())));
  }
  write(bytes: Uint8Array | number[]): Promise<void> {
    return new Promise((res, rej) => {
      this.port.write(Buffer.from(bytes as Uint8Array), (e) => (e ? rej(e) : res()));
    });
  }
  close(): Promise<void> {
    return new Promise((res) => {
      if (!this.port.isOpen) return res();
      this.port.close(() => res());
    });
  }
}

/** Line speed of a tty as `stty` reports it. */
export function sttySpeed(path: string): number {
  const r = spawnSync('stty', ['-F', path, 'speed'], { encoding: 'utf8', timeout: 2000 });
  if (r.status !== 0) throw new Error(`stty failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}
