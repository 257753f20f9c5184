/**
 * A host whose L2CAP has no registered service (and whose application never called l2cap_init)
 * still answers an incoming Connection Request, as BTstack does whenever L2CAP is there: result
 * 0x0002 "PSM not supported" (Core v5.4 Vol 3 Part A, 4.3; every request gets a response, 4).
 * The requester sees L2CAP_EVENT_CHANNEL_OPENED status 0x65 (0x63 + 2, BTstack's mapping) at
 * once instead of 0x69 (RTX timeout) 20 s later. Fails on 182843b: b's L2CAP was only hooked into
 * HCI by l2cap_init or a first service / channel, so b dropped the request and a timed out.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertCleanCapture } from '../helpers/capture.js';
import { ADDR_B, h16, makePair, revAddr } from './l2cap-helpers.js';

test('no service, no l2cap_init: a Connection Request is refused with "PSM not supported", not left to RTX', () => {
  const p = makePair({ tag: 'no-service', l2cap_b: false });
  const { a, b } = p;
  b.stack.gap.gap_connectable_control(1);
  p.rl.run(50);
  const t0 = p.rl.get_time_ms();
  const c = a.stack.l2cap.l2cap_create_channel(a.handler, ADDR_B, 0x1001, 1000);
  assert.is(c.status, 0);
  p.until(() => a.events(0x70).length === 1, 'outcome reported', 60_000);
  const dt = p.rl.get_time_ms() - t0;
  assert.ok(dt < 1000, `answered after ${dt} ms`);
  // status 0x65, PSM 0x1001, local cid 0x0040, remote cid 0, local MTU 1000, remote MTU 672 (never configured)
  assert.equal(a.events(0x70), [`70 18 65 ${revAddr(ADDR_B)} ${h16(a.handle())} 01 10 40 00 00 00 e8 03 a0 02 00 00 00 00 00`]);
  assert.equal(b.events(0x72), [], 'b has no service: nothing offered to an application');
  const [logA, logB] = p.finish();
  assertCleanCapture(logA);
  assertCleanCapture(logB);
});

test.run();
