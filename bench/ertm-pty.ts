/**
 * Issue 17's done-when as a benchmark: 10 MiB over an ERTM channel between two `bthost`
 * processes on socat ptys of one `bthost controller --acl-loss DROP:CORRUPT:SEED`, at 0 %, 1 % and
 * 5 % of the ACL packets lost and as many corrupted. Both sides announce --mtu 2500 (MPS 1000), so
 * every SDU is a start, a continuation and an end I-frame. Per run: the two sha256 lines must agree
 * and the receiver must count every byte; printed: wall time and MB/s (the receiver's own figure),
 * I-frames the sender sent, retransmissions (I-frames sent minus the 3 per SDU the data needs, from
 * the sender's capture), and the receiver's REJ / SREJ / RR-poll answers (from its capture). With
 * --check (default) both captures go through test/helpers/ertm-capture.ts (tshark + btmon + FCS).
 *
 *   npx tsx bench/ertm-pty.ts [--size BYTES] [--loss 0,1,5] [--no-check] [--keep DIR]
 *
 * Exit 1 on any mismatch or unclean capture. Uses three Node processes and socat; CPU-bound on a
 * shared machine, so the times are wall-clock figures of this machine at that moment.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Proc } from '../test/e2e/proc-helpers.js';
import { lossy_radio, start_transfer } from '../test/helpers/ertm-pty.js';
import { readCapture } from '../test/helpers/capture.js';
import { assertCleanErtmCapture } from '../test/helpers/ertm-capture.js';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const SIZE = Number(opt('--size') ?? 10 * 1024 * 1024);
const LOSSES = (opt('--loss') ?? '0,1,5').split(',').map(Number);
const CHECK = !argv.includes('--no-check');
const MTU = 2500;
const keep = opt('--keep');
const tmp = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-ertm-pty-'));
fs.mkdirSync(tmp, { recursive: true });

/** I-frames an SDU of `len` octets takes with MPS 1000 (the start frame carries the 2-octet SDU Length). */
const frames = (len: number): number => (len <= 1000 ? 1 : Math.ceil((len + 2) / 1000));

async function exitOf(p: Proc, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([p.exit, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** I-frames and S-frames on dynamic CIDs of a capture, by direction (sent = !incoming). */
function countFrames(file: string, sent: boolean) {
  const c = { i: 0, start: 0, rr: 0, rej: 0, rnr: 0, srej: 0, poll: 0, final: 0 };
  for (const r of readCapture(fs.readFileSync(file)).records) {
    const d = r.data;
    if (r.packet_type !== 2 || r.incoming === sent || d.length < 10 || ((d[1]! >> 4) & 3) === 1) continue;
    if ((d[6]! | (d[7]! << 8)) < 0x40) continue;
    const ctl = d[8]! | (d[9]! << 8);
    if ((ctl & 1) === 0) {
      c.i++;
      if (ctl >> 14 === 1) c.start++;
      continue;
    }
    const s = (ctl >> 2) & 3;
    if (s === 0) c.rr++;
    else if (s === 1) c.rej++;
    else if (s === 2) c.rnr++;
    else c.srej++;
    if (ctl & 0x10) c.poll++;
    if (ctl & 0x80) c.final++;
  }
  return c;
}

async function one(loss: number, seed: number): Promise<boolean> {
  const dir = path.join(tmp, `loss-${loss}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  const procs: Proc[] = [];
  try {
    const { ttys } = await lossy_radio(dir, procs, loss, loss, seed, 30_000);
    const common = ['--mode', 'ertm', '--mtu', String(MTU), '--sha256', '--no-progress', '--security', '0'];
    const { server, client, t0, logRx, logTx } = await start_transfer(dir, ttys, procs, SIZE, common, 30_000);
    const c = await exitOf(client, 1_800_000);
    const s = await exitOf(server, 60_000);
    const wall = (Date.now() - t0) / 1000;
    const shaTx = /sha256 ([0-9a-f]{64})/.exec(client.out)?.[1];
    const shaRx = /sha256 ([0-9a-f]{64})/.exec(server.out)?.[1];
    const rate = /received \d+ bytes .* in ([\d.]+) s: ([\d.]+ \S+)/.exec(server.out);
    const got = Number(/received (\d+) bytes/.exec(server.out)?.[1] ?? -1);
    const ok = c === 0 && s === 0 && !!shaTx && shaTx === shaRx && got === SIZE;
    const tx = countFrames(logTx, true);
    const rx = countFrames(logRx, true);
    const needed = Math.floor(SIZE / MTU) * frames(MTU) + (SIZE % MTU ? frames(SIZE % MTU) : 0);
    const retrans = tx.i - needed;
    const mb = SIZE / 1e6;
    console.log(
      `${String(loss).padStart(2)} % lost + ${loss} % corrupt: ${ok ? 'sha256 equal' : 'FAILED'}, ` +
        `${rate ? `${rate[1]} s (${rate[2]})` : `? s`}, wall ${wall.toFixed(1)} s; ` +
        `I-frames sent ${tx.i} (${tx.start} start), retransmitted ${retrans} (${(retrans / mb).toFixed(1)} / MB); ` +
        `receiver sent REJ ${rx.rej}, SREJ ${rx.srej}, RR ${rx.rr} (F=1 ${rx.final}); sender polls ${tx.poll}`,
    );
    if (!ok) console.log(`  client exit ${c}, server exit ${s}\n--- client\n${client.out}\n--- server\n${server.out}`);
    if (CHECK && ok) {
      for (const f of [logTx, logRx]) {
        try {
          const r = assertCleanErtmCapture(f);
          console.log(
            `  ${path.basename(f)}: clean (${r.records} records; ${r.start_frames} start frames, ` +
              `${r.tshark_start_bug} forgiven for tshark 4.0's btl2cap, ${r.fcs_checked} FCS recomputed)`,
          );
        } catch (e) {
          console.log(`  ${path.basename(f)}: ${(e as Error).message.slice(0, 2000)}`);
          return false;
        }
      }
    }
    return ok;
  } finally {
    for (const p of procs.reverse()) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  }
}

let failed = false;
console.log(`ERTM over ptys: ${SIZE} bytes per run, SDUs of ${MTU} (3 I-frames, MPS 1000, FCS), windows 16 + 16`);
for (let i = 0; i < LOSSES.length; i++) if (!(await one(LOSSES[i]!, 7 + i))) failed = true;
if (!keep) fs.rmSync(tmp, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
