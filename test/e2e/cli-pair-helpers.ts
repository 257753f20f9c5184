/**
 * Helpers for the `bthost pair` / `bthost keys` tests: a `bthost controller` process on a unix
 * socket, ptys onto it (one new virtual controller each, connected in order so that a controller
 * started again with the same --seed gives the same addresses), and two bthost processes pairing
 * over them with their btsnoop captures.
 */
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { ADDR_RE, Proc, Socat, start, tmp, waitForPaths, type Run } from './cli-helpers.js';

let seq = 0;

export class Controller {
  readonly proc: Proc;
  readonly sock: string;
  private readonly socats: Socat[] = [];
  private connected = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly seed: string) {
    this.sock = path.join(tmp, `pair-${++seq}.sock`);
    this.proc = new Proc(['controller', '--listen', `unix:${this.sock}`, '--seed', seed]);
  }

  async ready(): Promise<void> {
    await this.proc.waitFor(/^listening on unix:/m);
  }

  /** A new pty, and the address of the controller behind it. */
  pty(): Promise<[string, string]> {
    // one at a time: the n-th connection is controller n
    const next = this.queue.then(() => this.ptyNow());
    this.queue = next.catch(() => {});
    return next;
  }

  private async ptyNow(): Promise<[string, string]> {
    const p = path.join(tmp, `pair-tty${++seq}`);
    this.socats.push(new Socat(`pty,raw,echo=0,link=${p}`, `UNIX-CONNECT:${this.sock}`));
    await waitForPaths([p]);
    const n = this.connected++;
    const m = await this.proc.waitFor(new RegExp(`^controller ${n} (${ADDR_RE}) connected$`, 'm'));
    return [p, m[1]!];
  }

  async close(): Promise<void> {
    for (const s of this.socats) s.kill();
    this.proc.kill();
    await this.proc.exited;
  }
}

export interface Side {
  /** Flags of this side (pairing options, --keys, ...). */
  flags?: string[];
  /** Answer typed on stdin once `when` appears in the other side's output: (match) => line. */
  types?: { when: RegExp; line: (m: RegExpMatchArray) => string };
}

export interface PairRun {
  a: Run;
  b: Run;
  /** Captures of A (initiator, `pair ADDR`) and B (`pair --listen`). */
  la: string;
  lb: string;
  addr_a: string;
  addr_b: string;
}

/** B listens, A pairs with it; both exit. B starts while A's pty is made. */
export async function pairOnce(ctl: Controller, tag: string, a: Side, b: Side): Promise<PairRun> {
  const la = path.join(tmp, `${tag}-a.btsnoop`);
  const lb = path.join(tmp, `${tag}-b.btsnoop`);
  const [pb, addr_b] = await ctl.pty();
  const B = start(['pair', '--listen', '--port', pb, '--timeout', '30000', '--log', lb, ...(b.flags ?? [])]);
  let A: Proc | null = null;
  const feed = async (me: Proc, other: Proc, t: Side['types']) => {
    if (!t) return;
    const m = await other.waitFor(t.when, 60_000).catch(() => null);
    if (m) me.child.stdin!.write(`${t.line(m)}\n`);
  };
  try {
    const [pa, addr_a] = await ctl.pty();
    await B.waitFor(/waiting for a device to pair/, 60_000);
    A = new Proc(['pair', addr_b, '--port', pa, '--timeout', '30000', '--log', la, ...(a.flags ?? [])]);
    void feed(A, B, a.types);
    void feed(B, A, b.types);
    const [ra, rb] = await Promise.all([A.exited, B.exited]);
    return { a: ra, b: rb, la, lb, addr_a, addr_b };
  } finally {
    A?.kill();
    B.kill();
  }
}

/** Codes of the HCI events in a capture, in order (tshark). */
export function eventCodes(log: string): number[] {
  return tsharkFields(log, ['bthci_evt.code'], 'bthci_evt').map((r) => parseInt(r[0]!, 16));
}

/** Opcodes of the HCI commands in a capture, in order (tshark). */
export function commandOpcodes(log: string): number[] {
  return tsharkFields(log, ['bthci_cmd.opcode'], 'bthci_cmd').map((r) => parseInt(r[0]!, 16));
}

/** Both captures clean in tshark and btmon. */
export function clean(...logs: string[]): void {
  for (const l of logs) assertCleanCapture(l);
}

/** One line on stderr starting `bthost: `, and nothing else there but status lines. */
export function oneLineWhy(r: Run): string {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('bthost: '));
  assert.is(lines.length, 1, `one failure line: ${r.stderr}`);
  return lines[0]!;
}
