/**
 * The process and radio setup of the ERTM-over-ptys runs (test/e2e/cli-l2cap-ertm.test.ts and
 * bench/ertm-pty.ts): one `bthost controller --acl-loss DROP:CORRUPT:SEED` with two socat ptys on
 * it, then `bthost l2cap listen 0x1005 --receive --once` on the first and `bthost l2cap connect ADDR
 * 0x1005 --send SIZE` on the second, both logging to btsnoop files. Every process started is pushed
 * on `procs` (the caller ends them).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, tsx, until, type Proc } from '../e2e/proc-helpers.js';

/** The listener's "at AA:BB:..." line. */
const ADDR = /at ((?:[0-9A-F]{2}:){5}[0-9A-F]{2})/;

/**
 * A controller losing `loss` % and corrupting `corrupt` % of the ACL packets (seeded), listening
 * on dir/controller.sock, and two ptys dir/a and dir/b on it; BTHOST_KEYS_DIR is dir/keys.
 */
export async function lossy_radio(
  dir: string,
  procs: Proc[],
  loss: number,
  corrupt: number,
  seed: number,
  ready_ms: number,
): Promise<{ controller: Proc; ttys: string[] }> {
  process.env['BTHOST_KEYS_DIR'] = path.join(dir, 'keys');
  const sock = path.join(dir, 'controller.sock');
  const controller = tsx('ports/cli/cli.ts', [
    'controller',
    '--listen',
    `unix:${sock}`,
    '--acl-loss',
    `${loss}:${corrupt}:${seed}`,
  ]);
  procs.push(controller);
  await until(() => controller.out.includes('listening on'), ready_ms, 'bthost controller listening');
  const ttys: string[] = [];
  for (const name of ['a', 'b']) {
    const tty = path.join(dir, name);
    procs.push(run('socat', [`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${sock}`]));
    await until(() => fs.existsSync(tty), 5000, `pty ${tty}`);
    ttys.push(tty);
  }
  return { controller, ttys };
}

export interface Transfer {
  server: Proc;
  client: Proc;
  /** Date.now() just before the client was started. */
  t0: number;
  /** The listener's capture, the connector's capture. */
  logRx: string;
  logTx: string;
}

/**
 * The listener on ttys[0] (once it prints its address, within `ready_ms`), then the connector on
 * ttys[1] sending `size` bytes; `common` goes to both (--mode, --sha256, --mtu ...).
 */
export async function start_transfer(
  dir: string,
  ttys: string[],
  procs: Proc[],
  size: number,
  common: string[],
  ready_ms: number,
): Promise<Transfer> {
  const logRx = path.join(dir, 'listen.btsnoop');
  const logTx = path.join(dir, 'connect.btsnoop');
  const server = tsx('ports/cli/cli.ts', [
    'l2cap',
    'listen',
    '0x1005',
    '--receive',
    '--once',
    ...common,
    '--port',
    ttys[0]!,
    '--log',
    logRx,
  ]);
  procs.push(server);
  await until(() => ADDR.test(server.out), ready_ms, 'listening');
  const t0 = Date.now();
  const client = tsx('ports/cli/cli.ts', [
    'l2cap',
    'connect',
    ADDR.exec(server.out)![1]!,
    '0x1005',
    '--send',
    String(size),
    ...common,
    '--port',
    ttys[1]!,
    '--log',
    logTx,
  ]);
  procs.push(client);
  return { server, client, t0, logRx, logTx };
}
