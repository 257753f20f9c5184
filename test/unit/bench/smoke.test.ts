/**
 * CI smoke test for the benchmarks: the quick variants run and produce positive figures.
 * No timing assertions (benchmarks print figures; they are not pass/fail tests).
 * The parser benchmark itself throws when either side delivers other packets or PDUs than
 * the generated stream holds, so a run that returns has delivered everything.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run as runParser } from '../../../bench/parser.js';
import { run as runL2capBulk } from '../../../bench/l2cap-bulk.js';

function positive(r: { figures: Record<string, number | string | null> }, key: string): void {
  const v = r.figures[key];
  assert.type(v, 'number', `${key} is a number`);
  assert.ok(Number.isFinite(v as number) && (v as number) > 0, `${key} = ${v} is positive`);
}

test('parser benchmark (quick) runs and reports positive throughput for bthost', async () => {
  // never install in a test: the peer is measured only when bench/node_modules is present
  const r = await runParser({ quick: true, install_peer: false, verbose: false });
  assert.is(r.name, 'parser');
  assert.ok(r.quick);
  for (const k of [
    'stream_MB',
    'framing_bthost_MBps',
    'reassembly_bthost_MBps',
    'framing_bthost_cpu_ms_per_MB',
    'reassembly_bthost_cpu_ms_per_MB',
  ])
    positive(r, k);
  if (r.figures.framing_noble_MBps !== null) {
    for (const k of ['framing_noble_MBps', 'reassembly_noble_MBps', 'framing_ratio', 'reassembly_ratio']) positive(r, k);
  } else {
    assert.ok(
      r.notes.some((n) => n.startsWith('peer not measured')),
      'a missing peer is explained in the notes',
    );
  }
});

test('L2CAP bulk benchmark (quick, 1 MB per MTU) runs and reports positive throughput', async () => {
  const r = await runL2capBulk({ quick: true, verbose: false, mb: 1 });
  assert.is(r.name, 'l2cap-bulk');
  for (const mtu of [65535, 672]) {
    positive(r, `mtu${mtu}_MBps`);
    positive(r, `mtu${mtu}_cpu_ms_per_MB`);
    positive(r, `mtu${mtu}_heap_after_MB`);
  }
});

test.run();
