/**
 * UART soak (issue 19 done-when): bytes at line rate in both directions at once for N minutes,
 * hash-checked, with RTS/CTS on and off. The virtual controller is served on a Unix socket with
 * its H4 stream paced like a UART (10 bits per byte), a socat pty joins it, and a Stack in its own
 * process (bench/lib/uart-soak-host.ts) on the serialport transport opens one L2CAP channel to a
 * peer Stack here; the sender(s) send a deterministic stream (SDUs of 1..1017 bytes) as fast as
 * credits allow and both sides hash what they send and receive. --direction each (default): one
 * case host->peer, one peer->host, each at line rate; both: the two at once (the host->peer rate
 * then falls: the controller's Number Of Completed Packets events wait behind the peer's data on
 * the paced controller->host line, so credits come back late). Passes when each direction's receiver got exactly
 * the bytes its sender sent (count, SDUs, SHA-256) and the host saw no H4 framing error.
 *
 *   npx tsx bench/uart-soak.ts [--minutes N (10)] [--baud B (3000000)] [--flow on,off] [--io fd|stream] [--direction each|both|tx|rx]
 * (--minutes is per case: each direction x each flow setting)
 *
 * Exit 0 when every case passed, 1 otherwise. Prints one line per case.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { flag_given, flag_string, parse_flags } from '../ports/options.js';
import { BENCH_DIR, ROOT_DIR } from './lib/harness.js';
import { SoakReceiver, SoakSender, soak_pattern } from './lib/soak-stream.js';
import { uart_rig, until as rig_until, type PeerStream } from './lib/uart-rig.js';

const PSM = 0x1003;
const MTU = 1017;

interface Totals {
  bytes: number;
  sdus: number;
  hash: string;
}

const until = (pred: () => boolean, ms: number, what: string): Promise<void> => rig_until(pred, ms, what, 'uart soak', 20);

export async function soakCase(
  baud: number,
  seconds: number,
  flow: boolean,
  io: string,
  direction: 'tx' | 'rx' | 'both',
): Promise<{ ok: boolean; line: string }> {
  const peerSends = direction !== 'tx';
  const sender = new SoakSender(soak_pattern(2), MTU);
  const receiver = new SoakReceiver();
  const stream: PeerStream = {
    received: (p, size) => receiver.received(p, size),
    sending: peerSends,
    next: () => sender.next(),
    sent: (sdu) => sender.sent(sdu),
  };
  const rig = await uart_rig(
    { baud, seed: 'uart-soak', prefix: 'bthost-uart-soak-', psm: PSM, mtu: MTU, tag: 'uart soak', poll_ms: 20 },
    stream,
  );
  const { tty, peer_addr } = rig;
  try {
    const args = ['--tty', tty, '--baud', String(baud), '--peer', peer_addr];
    args.push('--psm', String(PSM), '--seconds', String(seconds), '--flow', flow ? 'on' : 'off', '--io', io);
    if (direction === 'rx') args.push('--no-send');
    const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'lib', 'uart-soak-host.ts'), ...args], {
      cwd: ROOT_DIR,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const field = (tag: string): Totals & Record<string, unknown> => {
      const m = new RegExp(`^${tag} (.*)$`, 'm').exec(out);
      return JSON.parse(m![1]!) as Totals & Record<string, unknown>;
    };
    await until(() => out.includes('HOST-OPEN') || child.exitCode !== null, 30_000, 'host channel');
    const t0 = performance.now();
    await until(() => out.includes('HOST-SENT') || child.exitCode !== null, seconds * 1000 + 30_000, 'host done sending');
    if (child.exitCode !== null) throw new Error(`host exited ${child.exitCode}: ${err.trim()}`);
    stream.sending = false;
    const wall = (performance.now() - t0) / 1000;
    const hostSent = field('HOST-SENT');
    child.stdin!.write(`PEER-SENT ${JSON.stringify({ bytes: sender.bytes, sdus: sender.sdus, hash: sender.digest() })}\n`);
    await until(() => receiver.bytes >= hostSent.bytes, 60_000, 'the host stream at the peer').catch(() => {});
    const code = await exited;
    if (code !== 0 || !out.includes('HOST-RECEIVED')) throw new Error(`host exited ${code}: ${err.trim()}`);
    const hostGot = field('HOST-RECEIVED');
    const up = receiver.bytes === hostSent.bytes && receiver.sdus === hostSent.sdus && receiver.digest() === hostSent.hash;
    const down = hostGot.bytes === sender.bytes && hostGot.sdus === sender.sdus && hostGot.hash === sender.digest();
    const clean = hostGot.framing_errors === 0;
    const ok = up && down && clean;
    const line =
      `${ok ? 'PASS' : 'FAIL'} ${direction === 'both' ? 'both directions at once' : direction === 'tx' ? 'host sends' : 'host receives'}, baud ${baud}, RTS/CTS ${flow ? 'on' : 'off'}, ${hostGot.io_path} I/O, ${wall.toFixed(0)} s: ` +
      `host->peer ${(hostSent.bytes / 1e6).toFixed(2)} MB in ${hostSent.sdus} SDUs (${((100 * hostSent.bytes) / wall / (baud / 10)).toFixed(1)} % of the line) ${up ? 'hash ok' : `MISMATCH (peer got ${receiver.bytes} B, ${receiver.sdus} SDUs)`}; ` +
      `peer->host ${(sender.bytes / 1e6).toFixed(2)} MB in ${sender.sdus} SDUs (${((100 * sender.bytes) / wall / (baud / 10)).toFixed(1)} %) ${down ? 'hash ok' : `MISMATCH (host got ${hostGot.bytes} B, ${hostGot.sdus} SDUs)`}; ` +
      `framing errors ${hostGot.framing_errors}; host CPU ${((Number(hostGot.cpu_ms) / 1000 / wall) * 100).toFixed(1)} % of a core; load ${loadavg()[0]!.toFixed(1)}`;
    return { ok, line };
  } finally {
    await rig.close();
  }
}

const USAGE =
  'usage: npx tsx bench/uart-soak.ts [--minutes N (10)] [--baud B (3000000)] [--flow on,off] [--io fd|stream] [--direction each|both|tx|rx]';
const flags = parse_flags(process.argv.slice(2), {
  minutes: { type: 'string' },
  baud: { type: 'string' },
  flow: { type: 'string' },
  io: { type: 'string' },
  direction: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
});
if (flag_given(flags, 'help')) {
  console.log(USAGE);
  process.exit(0);
}
if (flags.errors.length > 0) {
  console.error(`uart-soak: ${flags.errors[0]} (${USAGE})`);
  process.exit(2);
}
const minutes = Number(flag_string(flags, 'minutes') ?? 10);
const baud = Number(flag_string(flags, 'baud') ?? 3_000_000);
const flows = (flag_string(flags, 'flow') ?? 'on,off').split(',');
const io = flag_string(flags, 'io') ?? 'fd';
const dir = flag_string(flags, 'direction') ?? 'each';
const directions = (dir === 'each' ? ['tx', 'rx'] : [dir]) as Array<'tx' | 'rx' | 'both'>;
let allOk = true;
for (const f of flows) {
  for (const d of directions) {
    const r = await soakCase(baud, minutes * 60, f === 'on', io, d);
    console.log(r.line);
    allOk &&= r.ok;
  }
}
process.exit(allOk ? 0 : 1);
