/**
 * Issue 18 items 4 and 5 at a stack on the virtual controller (virtual time): an init command
 * failed by the controller's fault plan (Faults.fail_command) or a silent controller (the fault
 * harness's line) ends power-on with BTSTACK_EVENT_POWERON_FAILED naming the command, never
 * WORKING with zeros; the same stack powers on once the controller behaves.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../src/core/bytes.js';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { Stack } from '../../src/stack.js';
import { hci_read_bd_addr, hci_read_buffer_size, hci_reset } from '../../src/hci/commands.js';
import { FaultyTransport } from '../helpers/fault-harness.js';

function node() {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'init-faults' });
  const c = link.create_controller({});
  const t = new FaultyTransport(c);
  const stack = new Stack({ transport: t, run_loop: rl });
  const events: string[] = [];
  stack.hci.hci_add_event_handler({
    callback: (_t, _c, p, n) => void ((p[0] === 0x60 || p[0] === 0x62) && events.push(hex(p.subarray(0, n)))),
  });
  return { rl, c, t, stack, events };
}

for (const [cmd, status] of [
  [hci_reset, 0x03],
  [hci_read_bd_addr, 0x03],
  [hci_read_buffer_size, 0x1f],
] as const) {
  test(`${cmd.name} failed by the controller (0x${status.toString(16)}): POWERON_FAILED naming it, then a clean power-on`, () => {
    const n = node();
    n.c.faults.fail_command(cmd, status, 1);
    n.stack.hci.hci_power_control(1);
    n.rl.run(10_000);
    assert.equal(n.events, ['60 01 01', '62 00', '60 01 00']);
    assert.match(n.stack.hci.state.poweron_failure, new RegExp(`failed with status 0x${status.toString(16).padStart(2, '0')}`));
    n.stack.hci.hci_power_control(1);
    assert.ok(
      n.rl.run_until(() => n.stack.hci.hci_get_state() === 2, 5000),
      'WORKING once the controller answers',
    );
    assert.is(n.stack.hci.state.poweron_failure, '');
    assert.ok(n.stack.hci.state.controller.acl_packets_total_num > 0);
  });
}

test('a silent controller: POWERON_FAILED after 5 s, no endless Resets', () => {
  const n = node();
  n.t.line.silent = true;
  n.stack.hci.hci_power_control(1);
  n.rl.run(60_000);
  assert.equal(n.events, ['60 01 01', '62 00', '60 01 00']);
  assert.match(n.stack.hci.state.poweron_failure, /Reset \(opcode 0x0c03\) not answered within 5000 ms/);
  assert.is(n.rl.timer_count(), 0, 'no timer left: nothing more is sent');
});

test.run();
