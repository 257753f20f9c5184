/**
 * Issue 18 item 6: with every hci_connections record in use, each further incoming Connection
 * Request is refused at once with Reject Connection Request 0x0D (Limited Resources), never left
 * to the controller's accept timeout (0x10). 16 raw clients (virtual controllers driven by HCI
 * bytes) page one stack with MAX_NR_HCI_CONNECTIONS 8 at the same moment, in virtual time.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex, reverse_bd_addr } from '../../src/core/bytes.js';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import {
  ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES,
  ERROR_CODE_SUCCESS,
  HCI_EVENT_CONNECTION_COMPLETE,
} from '../../src/codes/v1.4.js';

test('16 clients page a stack with 8 connection records: 8 connect, 8 are refused with 0x0D at once', () => {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'pool-full' });
  const server = link.create_controller({});
  const stack = new Stack({ transport: new VirtualTransport(server), run_loop: rl, config: { MAX_NR_HCI_CONNECTIONS: 8 } });
  stack.hci.hci_power_control(1);
  assert.ok(
    rl.run_until(() => stack.hci.hci_get_state() === 2, 5000),
    'working',
  );
  stack.gap.gap_connectable_control(1);
  rl.run(100);
  const serverAddr = Uint8Array.from(server.bd_addr).reverse(); // wire order
  const complete: Array<{ at: number; status: number }> = [];
  const clients = Array.from({ length: 16 }, (_, i) => {
    const c = link.create_controller({});
    c.attach_host((type, p, n) => {
      if (type === 4 && p[0] === HCI_EVENT_CONNECTION_COMPLETE && n >= 3) complete[i] = { at: rl.get_time_ms(), status: p[2]! };
    });
    return c;
  });
  const logs: string[] = [];
  stack.log.add_sink((_l, m) => logs.push(m));
  // HCI_Create_Connection (0x0405): BD_ADDR, packet type 0xcc18, R1, reserved, clock offset 0, role switch allowed
  const page = (c: (typeof clients)[number]) => {
    const cmd = Uint8Array.from([0x05, 0x04, 13, ...serverAddr, 0x18, 0xcc, 0x01, 0x00, 0x00, 0x00, 0x01]);
    c.host_send(0x01, cmd, cmd.length);
  };
  // the first 8 fill the pool, then the other 8 page at the same moment
  for (const c of clients.slice(0, 8)) page(c);
  assert.ok(
    rl.run_until(() => complete.filter(Boolean).length === 8, 30_000),
    'first 8 connected',
  );
  const t0 = rl.get_time_ms();
  for (const c of clients.slice(8)) page(c);
  assert.ok(
    rl.run_until(() => complete.filter(Boolean).length === 16, 30_000),
    'every client gets Connection Complete',
  );
  const ok = complete.filter((c) => c.status === ERROR_CODE_SUCCESS);
  const refused = complete.filter((c) => c.status === ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES);
  assert.not.ok(
    logs.some((l) => /reject.*dropped/.test(l)),
    logs.filter((l) => /reject/.test(l)).join('; '),
  );
  assert.is(ok.length, 8, `8 connected (${hex(Uint8Array.from(complete.map((c) => c.status)))})`);
  assert.is(refused.length, 8, 'the other 8 refused with 0x0D (none waits for the accept timeout 0x10)');
  for (const r of refused) assert.ok(r.at - t0 < 1000, `refused at once (after ${r.at - t0} ms, accept timeout 5 s)`);
  assert.is(stack.pools.stats().find((p) => p.name === 'hci_connections')!.in_use, 8);
  // all links go; the pool is full again
  stack.hci.hci_power_control(0);
  assert.ok(
    rl.run_until(() => stack.hci.hci_get_state() === 0, 10_000),
    'off',
  );
  rl.run(1000);
  assert.ok(stack.pools.all_free(), JSON.stringify(stack.pools.busy()));
  void reverse_bd_addr;
});

test.run();
