/**
 * Issue 18 item 3: a controller whose Number Of Completed Packets over-reports (100 packets for a
 * handle with fewer in flight, every time) must not make the host send beyond the controller's
 * buffers: three 65,535-byte SDUs arrive whole, the controller drops no ACL packet and reports no
 * Data Buffer Overflow, and the host counts and logs the lies. Two stacks on the virtual radio in
 * virtual time; the lie is written on a's line by the fault harness (FaultyTransport).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import {
  HCI_EVENT_DATA_BUFFER_OVERFLOW,
  L2CAP_EVENT_CHANNEL_OPENED,
  L2CAP_EVENT_INCOMING_CONNECTION,
} from '../../src/codes/v1.4.js';
import { FaultyTransport } from '../helpers/fault-harness.js';
import { ADDR_A, ADDR_B, pattern } from './l2cap-helpers.js';

function world(inflate: (t: FaultyTransport) => void) {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'nocp-lie', latency_ms: 5, bandwidth_bps: 1_000_000 });
  const ca = link.create_controller({ bd_addr: ADDR_A, acl_size: 1021, acl_buffers: 8 });
  const cb = link.create_controller({ bd_addr: ADDR_B, acl_size: 1021, acl_buffers: 8 });
  const ta = new FaultyTransport(ca);
  const a = new Stack({ transport: ta, run_loop: rl });
  const b = new Stack({ transport: new VirtualTransport(cb), run_loop: rl });
  const logs: string[] = [];
  a.log.add_sink((_l, m) => logs.push(m));
  const overflow: number[] = [];
  a.hci.hci_add_event_handler({
    callback: (_t, _c, p) => void (p[0] === HCI_EVENT_DATA_BUFFER_OVERFLOW && overflow.push(p[2]!)),
  });
  a.hci.hci_power_control(1);
  b.hci.hci_power_control(1);
  assert.ok(
    rl.run_until(() => a.hci.hci_get_state() === 2 && b.hci.hci_get_state() === 2, 5000),
    'both working',
  );
  inflate(ta);
  return { rl, ca, cb, ta, a, b, logs, overflow };
}

test('inflated NOCP (100 per entry, always): three 65,535-byte SDUs arrive whole, nothing overflows', () => {
  const w = world((t) => t.line.set_inflate_nocp(100));
  const got: Uint8Array[] = [];
  let opened = -1;
  w.b.l2cap.l2cap_register_service(
    (type, ch, p, n) => {
      if (type === 4 && p[0] === L2CAP_EVENT_INCOMING_CONNECTION) w.b.l2cap.l2cap_accept_connection(ch);
      if (type === 6) got.push(p.slice(0, n));
    },
    0x1001,
    0xffff,
    0,
  );
  const c = w.a.l2cap.l2cap_create_channel(
    (type, _ch, p) => {
      if (type === 4 && p[0] === L2CAP_EVENT_CHANNEL_OPENED && p[2] === 0) opened = 1;
    },
    ADDR_B,
    0x1001,
    0xffff,
  );
  assert.ok(
    w.rl.run_until(() => opened === 1, 10_000),
    'channel open',
  );
  const sdus = [pattern(65535, 1), pattern(65535, 2), pattern(65535, 3)];
  for (const sdu of sdus) {
    assert.ok(
      w.rl.run_until(() => w.a.l2cap.l2cap_can_send_packet_now(c.local_cid), 60_000),
      'can send',
    );
    assert.is(w.a.l2cap.l2cap_send(c.local_cid, sdu), 0);
  }
  assert.ok(
    w.rl.run_until(() => got.length === 3, 120_000),
    `three SDUs arrive (got ${got.length})`,
  );
  for (let i = 0; i < 3; i++) assert.ok(Buffer.from(got[i]!).equals(Buffer.from(sdus[i]!)), `SDU ${i} byte for byte`);
  assert.is(w.ca.stats.acl_dropped, 0, 'the controller dropped no ACL packet');
  assert.equal(w.overflow, [], 'no Data Buffer Overflow');
  assert.ok(w.ta.line.inflated > 0, 'the line lied');
  assert.ok(w.a.hci.state.nocp_overreports > 0, 'the host counted the lies');
  assert.ok(
    w.logs.some((m) => /Number Of Completed Packets: 100 for handle 0x[0-9a-f]+ but only \d+ outstanding/.test(m)),
    'the lie is logged',
  );
  // the link still works without lies, and every credit comes back
  w.ta.line.clear();
  w.b.l2cap.l2cap_unregister_service(0x1001);
  w.a.hci.hci_power_control(0);
  w.b.hci.hci_power_control(0);
  assert.ok(
    w.rl.run_until(() => w.a.hci.hci_get_state() === 0 && w.b.hci.hci_get_state() === 0, 10_000),
    'both off',
  );
  w.rl.run(1000);
  assert.ok(w.a.pools.all_free(), `a: pools back to full ${JSON.stringify(w.a.pools.busy())}`);
  assert.ok(w.b.pools.all_free(), `b: pools back to full ${JSON.stringify(w.b.pools.busy())}`);
});

test.run();
