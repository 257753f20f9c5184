/**
 * package-lock.json is complete for every platform: `npm ci` refuses a lock that lacks a package
 * some locked package depends on, optional platform packages included (rollup 4.x and esbuild list
 * one per OS/CPU, e.g. @rollup/rollup-linux-arm64-musl), so a lock written on one machine without
 * them stops `npm ci` on a clean clone (EUSAGE "Missing: ... from lock file") and on a Raspberry Pi.
 * The same check npm makes, done on the JSON: every dependency, optional or not, of every locked
 * package resolves to a locked entry by Node's lookup (nested node_modules first, then the root's).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function missingFrom(lock: { packages: Record<string, LockEntry> }): string[] {
  const pkgs = lock.packages;
  const missing: string[] = [];
  /** Node's lookup from the package at `from` (a lock key, '' = root): nearest node_modules/name. */
  const resolves = (from: string, name: string): boolean => {
    let dir = from;
    for (;;) {
      const key = (dir ? dir + '/' : '') + 'node_modules/' + name;
      if (pkgs[key]) return true;
      if (!dir) return false;
      const i = dir.lastIndexOf('/node_modules/');
      dir = i < 0 ? '' : dir.slice(0, i);
    }
  };
  for (const [key, e] of Object.entries(pkgs)) {
    if ((e as { link?: boolean }).link) continue;
    const deps = { ...e.dependencies, ...e.optionalDependencies, ...(key === '' ? e.devDependencies : {}) };
    for (const name of Object.keys(deps)) if (!resolves(key, name)) missing.push(`${name} (needed by ${key || 'the root'})`);
  }
  return missing;
}

test('package-lock.json: every locked package (optional platform packages too) is in the lock', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  assert.is(lock.lockfileVersion, 3);
  assert.equal(missingFrom(lock), []);
});

test('package-lock.json: its root entry is package.json (a stale lock fails npm ci)', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const root = lock.packages[''] as LockEntry;
  assert.equal(root.dependencies ?? {}, pkg.dependencies ?? {});
  assert.equal(root.devDependencies ?? {}, pkg.devDependencies ?? {});
  assert.equal(root.optionalDependencies ?? {}, pkg.optionalDependencies ?? {});
});

test('the check itself: a lock without one optional platform package is reported', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const key = Object.keys(lock.packages).find((k) => k.startsWith('node_modules/@rollup/rollup-linux-arm64'));
  assert.ok(key, 'the lock lists rollup arm64 packages');
  delete lock.packages[key!];
  assert.equal(missingFrom(lock), [`${key!.slice('node_modules/'.length)} (needed by node_modules/rollup)`]);
});

test.run();
