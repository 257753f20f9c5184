/**
 * Helpers for the `bthost pair` / `bthost keys` tests: a `bthost controller` process on a unix
 * socket, ptys onto it (one new virtual controller each, connected in order so that a controller
 * started again with the same --seed gives the same addresses), and two bthost processes pairing
 * over them with their btsnoop captures.
 */
import { spawn } from 'node:child_process';
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
    // a listener whose initiator died (say, at start-up) would wait for ever: 20 s after A, B goes too
    void A.exited.then(() => {
      const t = setTimeout(() => B.kill(), 20_000);
      void B.exited.then(() => clearTimeout(t));
    });
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

/** One step of a capture: an HCI event ('e', with its status when it has one), command ('c') or L2CAP signalling PDU ('s', with its result). */
export interface Step {
  kind: 'e' | 'c' | 's';
  code: number;
  status: number | null;
}

const decoded = new Map<string, Promise<Step[]>>();

/**
 * A capture's HCI and L2CAP signalling exchange in order, decoded by tshark (as tsharkFields in
 * test/helpers/capture.ts) in the background: started when the process that wrote it has exited,
 * so that it runs beside the next processes and the synchronous clean() checks. Cached per file.
 */
export function decodeHci(log: string): Promise<Step[]> {
  let steps = decoded.get(log);
  if (steps) return steps;
  const fields = ['bthci_evt.code', 'bthci_cmd.opcode', 'bthci_evt.status', 'btl2cap.cmd_code', 'btl2cap.result'];
  const args = ['-n', '-r', log, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  args.push('-Y', 'bthci_evt || bthci_cmd || btl2cap.cmd_code');
  steps = new Promise<Step[]>((resolve, reject) => {
    const child = spawn('tshark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`tshark on ${log} exited ${code}: ${err}`));
      const num = (v: string | undefined) => (v ? parseInt(v.split(',')[0]!, 16) : null);
      const rows = out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t'));
      resolve(
        rows.map((r): Step => {
          if (r[0]) return { kind: 'e', code: num(r[0])!, status: num(r[2]) };
          if (r[1]) return { kind: 'c', code: num(r[1])!, status: null };
          return { kind: 's', code: num(r[3])!, status: num(r[4]) };
        }),
      );
    });
  });
  steps.catch(() => {}); // awaited by the test; no unhandled rejection meanwhile
  decoded.set(log, steps);
  return steps;
}
