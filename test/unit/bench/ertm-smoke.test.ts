/**
 * CI smoke test for the ERTM benchmark (bench/ertm.ts): a tiny run at 0 % and 1 % loss reports
 * positive throughput, and retransmissions only with loss. The benchmark throws when an SDU is
 * missing, repeated or out of order, so a run that returns delivered everything. No timing assertions.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../../../bench/ertm.js';

test('ertm benchmark: 0 % and 1 % loss, positive MB/s, retransmissions only with loss', async () => {
  const r = await run({ quick: true, verbose: false, mb: 0.1 });
  assert.is(r.name, 'ertm');
  for (const k of ['loss0', 'loss1']) {
    assert.ok((r.figures[`${k}_MBps_virtual`] as number) > 0, k);
    assert.ok((r.figures[`${k}_MB_per_cpu_s`] as number) > 0, k);
  }
  assert.is(r.figures['loss0_retransmissions_per_MB'], 0);
  assert.ok((r.figures['loss1_retransmissions_per_MB'] as number) > 0);
});

test.run();
