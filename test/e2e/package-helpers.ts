/**
 * The built package for the package tests (package-types, api-report, package-pack): the
 * repository's dist/ when it is newer than every source file (CI builds before it tests), else a
 * build with the repository's tsup config into a temporary directory (dist/ is not touched).
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

interface ExportTarget {
  types: string;
  default: string;
}
export type Exports = Record<string, string | { import: ExportTarget; require: ExportTarget }>;
export interface PackageJson {
  name: string;
  version: string;
  exports: Exports;
  bin: Record<string, string>;
  files: string[];
  dependencies: Record<string, string>;
}

export function packageJson(): PackageJson {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;
}

/** Every file package.json's "exports" and "bin" point into dist/ (relative to dist/). */
export function distFiles(): string[] {
  const pkg = packageJson();
  const files = new Set<string>();
  for (const v of Object.values(pkg.exports)) {
    if (typeof v === 'string') continue;
    for (const t of [v.import, v.require]) {
      files.add(t.types);
      files.add(t.default);
    }
  }
  for (const b of Object.values(pkg.bin)) files.add(b);
  return [...files].filter((f) => f.startsWith('./dist/')).map((f) => f.slice('./dist/'.length));
}

function newestMtime(p: string): number {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/** The repository's dist/ when it has every exported file and is newer than the sources and build config. */
export function freshDist(): string | null {
  const dist = path.join(ROOT, 'dist');
  let oldest = Infinity;
  for (const f of distFiles()) {
    const file = path.join(dist, f);
    if (!fs.existsSync(file)) return null;
    oldest = Math.min(oldest, fs.statSync(file).mtimeMs);
  }
  const sources = ['src', 'ports', 'tsup.config.ts', 'package.json', 'tsconfig.json'].map((p) => newestMtime(path.join(ROOT, p)));
  return oldest > Math.max(...sources) ? dist : null;
}

/** A built dist/: the repository's when fresh, else built into `out` (which must not exist yet). */
export function builtDist(out: string): string {
  const fresh = freshDist();
  if (fresh) return fresh;
  const r = spawnSync(path.join(ROOT, 'node_modules/.bin/tsup'), ['--out-dir', out, '--silent'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.is(r.status, 0, `tsup: ${r.stderr}${r.stdout}`);
  for (const f of distFiles()) assert.ok(fs.existsSync(path.join(out, f)), `built ${f}`);
  return out;
}

/** The declaration files of a dist/ directory (.d.ts and .d.cts, chunks included). */
export function declarationFiles(dist: string): string[] {
  return fs
    .readdirSync(dist)
    .filter((f) => f.endsWith('.d.ts') || f.endsWith('.d.cts'))
    .map((f) => path.join(dist, f));
}
