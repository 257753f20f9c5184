/**
 * The peer stack for the parser head-to-head: noble's HCI layer (@stoprocent/noble, the maintained
 * noble fork) over its UART driver's H4 parser (@stoprocent/bluetooth-hci-socket,
 * lib/uart/hci-serial-parser.js). Both are dev dependencies of bench/ only (bench/package.json,
 * bench/node_modules), installed with npm on first use. Only their JavaScript is loaded: the UART
 * driver is selected, so no native binding is needed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BENCH_DIR } from './harness.js';

export const PEER_PACKAGES = ['@stoprocent/bluetooth-hci-socket', '@stoprocent/noble'] as const;

/** A stream.Transform that turns a UART byte stream into whole H4 packets (type byte included). */
export interface PeerParser {
  write(chunk: Buffer): boolean;
  end(): void;
  on(event: 'data', cb: (packet: Buffer) => void): unknown;
  once(event: 'finish' | 'end' | 'error', cb: (...a: unknown[]) => void): unknown;
  reset(): void;
}

export interface PeerHci {
  onSocketData(packet: Buffer): void;
  on(event: 'aclDataPkt', cb: (handle: number, cid: number, data: Buffer) => void): unknown;
  setAclBuffers(length: number, num: number): void;
  removeAllListeners(event?: string): unknown;
}

export interface Peer {
  versions: Record<string, string>;
  HciSerialParser: new () => PeerParser;
  Hci: new (options: { hciDriver: string }) => PeerHci;
}

function installed(): boolean {
  return PEER_PACKAGES.every((p) => existsSync(join(BENCH_DIR, 'node_modules', p, 'package.json')));
}

/**
 * Load the peer, installing bench/ dependencies when missing and `install` is set.
 * Returns the peer or a reason it is unavailable.
 */
export function loadPeer(install: boolean): Peer | { unavailable: string } {
  if (!installed()) {
    if (!install) return { unavailable: 'bench/node_modules not installed (run `npm install --prefix bench`)' };
    console.error('  .. installing bench/ dev dependencies (peer stacks) with npm');
    // --ignore-scripts: only the JavaScript is used; no native build is wanted or needed
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: BENCH_DIR,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0 || !installed()) return { unavailable: `npm install in bench/ failed (status ${r.status})` };
  }
  // select the pure-JS UART driver before noble's hci.js loads the driver index
  process.env.BLUETOOTH_HCI_SOCKET_FORCE_UART ??= '1';
  const req = createRequire(join(BENCH_DIR, 'package.json'));
  try {
    const versions: Record<string, string> = {};
    for (const p of PEER_PACKAGES) {
      versions[p] = JSON.parse(readFileSync(join(BENCH_DIR, 'node_modules', p, 'package.json'), 'utf8')).version;
    }
    const HciSerialParser = req('@stoprocent/bluetooth-hci-socket/lib/uart/hci-serial-parser.js');
    const Hci = req('@stoprocent/noble/lib/hci-socket/hci.js');
    return { versions, HciSerialParser, Hci };
  } catch (e) {
    return { unavailable: `loading the peer failed: ${(e as Error).message}` };
  }
}
