/**
 * CI smoke test for the LE benchmarks (bench/le-cbm.ts, bench/gatt-notify.ts): tiny runs report
 * positive figures for every MTU and direction. The benchmarks throw when fewer bytes arrive than
 * were sent, so a run that returns delivered everything. No timing assertions.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run as runLeCbm } from '../../../bench/le-cbm.js';
import { run as runGattNotify } from '../../../bench/gatt-notify.js';

function positive(r: { figures: Record<string, number | string | null> }, key: string): void {
  const v = r.figures[key];
  assert.type(v, 'number', `${key} is a number`);
  assert.ok(Number.isFinite(v as number) && (v as number) > 0, `${key} = ${v} is positive`);
}

test('le-cbm benchmark: both MTUs, both directions, 27- and 251-octet air PDUs, positive MB/s', async () => {
  const r = await runLeCbm({ quick: true, verbose: false, mb: 0.2 });
  assert.is(r.name, 'le-cbm');
  for (const mtu of ['2048', '65535', '2048_dle', '65535_dle'])
    for (const dir of ['central_to_peripheral', 'peripheral_to_central']) {
      positive(r, `mtu${mtu}_${dir}_MBps`);
      positive(r, `mtu${mtu}_${dir}_MB_per_cpu_s`);
    }
});

test('gatt-notify benchmark: ATT_MTU 23 and the exchanged MTU (1017 with 1021-octet ACL buffers), without and with LE Data Length Extension', async () => {
  const r = await runGattNotify({ quick: true, verbose: false, mb: 0.05 });
  assert.is(r.name, 'gatt-notify');
  for (const mtu of ['23', '1017', '1017_dle']) {
    positive(r, `mtu${mtu}_MBps`);
    positive(r, `mtu${mtu}_notifications_per_s`);
  }
});

test.run();
