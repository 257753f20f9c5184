/**
 * No view or array copy per packet on the LE data paths the benchmarks drive (bench/gatt-notify.ts,
 * bench/le-cbm.ts): after a warm-up, 2,000 notifications at ATT_MTU 23 and at the exchanged MTU,
 * and 200 SDUs over an LE credit-based channel each way, make a bounded number of
 * Uint8Array#subarray / Array#slice calls from src/att, src/gatt and src/l2cap (views are made
 * once and cached, copies go through core/span.ts), where they used to make several per packet.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { notifySetup } from '../../../bench/gatt-notify.js';
import { cbmSetup } from '../../../bench/le-cbm.js';

const HOT = /[\\/]src[\\/](att|gatt|l2cap)[\\/]/;

/** subarray and slice calls made from the LE host layers while `fn` runs. */
function viewCalls(fn: () => void): number {
  const u8 = Uint8Array.prototype as unknown as { subarray: (this: Uint8Array, a?: number, b?: number) => Uint8Array };
  const arr = Array.prototype as unknown as { slice: (this: unknown[], a?: number, b?: number) => unknown[] };
  const subarray = u8.subarray;
  const slice = arr.slice;
  let n = 0;
  u8.subarray = function (this: Uint8Array, a?: number, b?: number): Uint8Array {
    if (HOT.test(new Error().stack ?? '')) n++;
    return subarray.call(this, a, b);
  };
  arr.slice = function (this: unknown[], a?: number, b?: number): unknown[] {
    if (HOT.test(new Error().stack ?? '')) n++;
    return slice.call(this, a, b);
  };
  try {
    fn();
  } finally {
    u8.subarray = subarray;
    arr.slice = slice;
  }
  return n;
}

for (const exchange of [false, true]) {
  test(`GATT notifications${exchange ? ' (exchanged MTU)' : ' (ATT_MTU 23)'}: no view per notification`, () => {
    const pair = notifySetup(exchange);
    const per = pair.mtu - 3;
    pair.run(50 * per);
    const before = pair.notifications();
    const calls = viewCalls(() => pair.run(2000 * per));
    assert.is(pair.notifications() - before, 2000);
    assert.ok(calls <= 8, `${calls} subarray/slice calls for 2,000 notifications`);
  });
}

test('LE credit-based channel (MTU 2048): no view per K-frame or SDU, both directions', () => {
  const pair = cbmSetup(2048);
  pair.send('c2p', 20 * 2048);
  pair.send('p2c', 20 * 2048);
  const calls = viewCalls(() => {
    pair.send('c2p', 200 * 2048);
    pair.send('p2c', 200 * 2048);
  });
  assert.ok(calls <= 8, `${calls} subarray/slice calls for 2 x 200 SDUs`);
});

test.run();
