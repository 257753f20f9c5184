/**
 * Syscall counts of a running process over a window: `strace -c -f -p PID` attached at the
 * window's start (every thread: -f with -p attaches them all) and stopped with SIGINT at its end.
 * strace slows the traced process, so a run with it gives counts, not CPU figures.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type SyscallCounts = Record<string, { calls: number; errors: number }>;

export function strace_available(): boolean {
  return spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Parse strace -c's table. */
export function parse_strace_summary(text: string): SyscallCounts {
  const out: SyscallCounts = {};
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (!m || m[3] === 'total') continue;
    out[m[3]!] = { calls: Number(m[1]), errors: m[2] ? Number(m[2]) : 0 };
  }
  return out;
}

/** Attach to `pid`; stop() detaches and returns the counts. */
export function strace_attach(pid: number): { stop(): Promise<SyscallCounts> } {
  const file = join(tmpdir(), `bthost-strace-${pid}-${Date.now()}.txt`);
  const st = spawn('strace', ['-c', '-f', '-p', String(pid), '-o', file], { stdio: 'ignore' });
  return {
    async stop() {
      if (st.exitCode === null) {
        const exited = new Promise((r) => st.once('exit', r));
        st.kill('SIGINT');
        await exited;
      }
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        // strace could not attach
      }
      rmSync(file, { force: true });
      return parse_strace_summary(text);
    },
  };
}

/** `perf record -g` of `pid` (every thread) into `file` until stop(); node should run with --perf-basic-prof for JS names. */
export function perf_attach(pid: number, file: string): { stop(): Promise<void> } {
  const p = spawn('perf', ['record', '-F', '4999', '-g', '-o', file, '-p', String(pid)], { stdio: 'ignore' });
  return {
    async stop() {
      if (p.exitCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGINT');
      await exited;
    },
  };
}
