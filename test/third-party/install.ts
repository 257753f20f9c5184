/**
 * The third-party host stacks the end-to-end tests boot against our virtual controller. They are
 * pinned in test/third-party/package.json (+ lock) and installed on demand into
 * test/third-party/node_modules: never a dependency of bthost.
 *
 * `npm install --ignore-scripts`: npm 11 blocks install scripts unless approved, and none is
 * needed: serialport's native binding (@serialport/bindings-cpp) and bluetooth-hci-socket ship
 * prebuilds that node-gyp-build picks at run time. ensure_third_party() checks that the binding
 * loads, in a child process (the test process never loads a native module).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const THIRD_PARTY_DIR = dirname(fileURLToPath(import.meta.url));
export const THIRD_PARTY_PACKAGES = ['@stoprocent/noble', '@stoprocent/bluetooth-hci-socket', 'ble-host'] as const;
/** The noble driver script (JSON lines on stdin/stdout); see its header. */
export const NOBLE_RUNNER = join(THIRD_PARTY_DIR, 'noble-runner.cjs');
/** The ble-host driver script (JSON lines on stdin/stdout, H4 over a Unix socket); see its header. */
export const BLE_HOST_RUNNER = join(THIRD_PARTY_DIR, 'ble-host-runner.cjs');

export interface ThirdParty {
  /** package name -> installed version */
  versions: Record<string, string>;
}

function pkgJson(name: string): string {
  return join(THIRD_PARTY_DIR, 'node_modules', name, 'package.json');
}

export function third_party_installed(): boolean {
  return THIRD_PARTY_PACKAGES.every((p) => existsSync(pkgJson(p)));
}

/**
 * Install test/third-party/node_modules when missing (npm, from the lock), then check that the
 * serial port binding noble's UART driver uses loads. Returns the versions or why it is unavailable.
 */
export function ensure_third_party(log: (line: string) => void = (l) => console.error(l)): ThirdParty | { unavailable: string } {
  // test files run in parallel processes (tools/run-tests.ts): one installs, the others wait for it
  const lock = join(THIRD_PARTY_DIR, '.install-lock');
  for (const until = Date.now() + 360_000; ;) {
    if (third_party_installed() && !existsSync(lock)) break;
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() > until) return { unavailable: `another install held ${lock} for 6 minutes` };
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200); // a synchronous 200 ms wait
      continue;
    }
    try {
      const failed = third_party_installed() ? undefined : install(log);
      if (failed) return failed;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
    break;
  }
  const versions: Record<string, string> = {};
  for (const p of THIRD_PARTY_PACKAGES) versions[p] = JSON.parse(readFileSync(pkgJson(p), 'utf8')).version;
  // serialport as bluetooth-hci-socket resolves it, and its native binding
  const probe = [
    "const { createRequire } = require('node:module');",
    `const req = createRequire(${JSON.stringify(pkgJson('@stoprocent/bluetooth-hci-socket'))});`,
    "req('serialport');",
    "const b = createRequire(req.resolve('serialport'))('@serialport/bindings-cpp');",
    'b.autoDetect();',
    "process.stdout.write(req('serialport/package.json').version);",
  ].join('\n');
  const r = spawnSync(process.execPath, ['-e', probe], { cwd: THIRD_PARTY_DIR, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) return { unavailable: `serialport's native binding does not load: ${r.stderr.trim().split('\n')[0]}` };
  versions['serialport'] = r.stdout.trim();
  return { versions };
}

/** npm install in test/third-party; undefined when it worked, else why not. */
function install(log: (line: string) => void): { unavailable: string } | undefined {
  log('  .. installing test/third-party (third-party host stacks) with npm');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: THIRD_PARTY_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0 || !third_party_installed()) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ');
    return { unavailable: `npm install in test/third-party failed (status ${r.status}): ${why}` };
  }
  return undefined;
}
