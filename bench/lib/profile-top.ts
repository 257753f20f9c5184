/**
 * Summarize a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per file.
 *
 *   npx tsx bench/lib/profile-top.ts PROFILE.cpuprofile... [N]
 */
import { readFileSync, statSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export function profileTop(path: string, n = 25): string {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const short = cf.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/|src\/|ports\/|bench\/)/, '$1');
    const key = `${cf.functionName || '(anonymous)'}  ${short}:${cf.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const fkey = short || `(${cf.functionName})`;
    file.set(fkey, (file.get(fkey) ?? 0) + us);
  }
  const pct = (us: number) => ((100 * us) / total).toFixed(1).padStart(5) + '%';
  const out: string[] = [`total sampled ${(total / 1000).toFixed(0)} ms`, 'self time by function:'];
  for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, n)) out.push(`  ${pct(us)}  ${k}`);
  out.push('self time by file:');
  for (const [k, us] of [...file].sort((a, b) => b[1] - a[1]).slice(0, 12)) out.push(`  ${pct(us)}  ${k}`);
  return out.join('\n');
}

if (process.argv[1] && process.argv[1].endsWith('profile-top.ts')) {
  // several files (node writes one per thread, e.g. tsx's loader worker): take the largest
  const args = process.argv.slice(2);
  const num = args.find((a) => /^\d+$/.test(a));
  const files = args.filter((a) => a !== num && !a.startsWith('--'));
  if (!files.length) {
    console.error('usage: profile-top.ts PROFILE.cpuprofile... [N]');
    process.exit(2);
  }
  const path = files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  console.log(profileTop(path, Number(num ?? 25)));
}
