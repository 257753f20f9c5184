import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boot, harness } from './hci-script.js';
import { btstack_init_default } from '../../../src/btstack.js';
import { Timer } from '../../../src/core/run-loop.js';
import { HCI_POWER_ON, HCI_STATE_WORKING, BTSTACK_EVENT_STATE } from '../../../src/codes/v1.4.js';

test('facade: BTstack free functions bound to one stack read like the C code', () => {
  const h = harness();
  const bt = btstack_init_default(h.stack);
  const states: number[] = [];
  bt.hci_add_event_handler({
    callback: (_type, _channel, packet) => {
      if (packet[0] === BTSTACK_EVENT_STATE) states.push(packet[2]!);
    },
  });
  assert.is(bt.hci_power_control(HCI_POWER_ON), 0);
  boot(h.t, h.rl, h.stack);
  assert.is(bt.hci_get_state(), HCI_STATE_WORKING);
  assert.equal(states, [1, 2]);
  assert.is(bt.gap_inquiry_start(3), 0);
  assert.equal(h.t.take_commands(), ['01 04 05 33 8b 9e 03 00']);
  assert.is(bt.stack, h.stack);
  assert.ok(Object.isFrozen(bt));
});

test('facade: run loop functions use the stack run loop; two facades are independent', () => {
  const a = harness();
  const b = harness();
  const fa = btstack_init_default(a.stack);
  const fb = btstack_init_default(b.stack);
  let fired = 0;
  const t = new Timer(() => fired++);
  fa.btstack_run_loop_set_timer(t, 100);
  fa.btstack_run_loop_add_timer(t);
  b.rl.advance(1000);
  assert.is(fired, 0, 'the other stack run loop does not fire it');
  a.rl.advance(100);
  assert.is(fired, 1);
  assert.is(fa.btstack_run_loop_get_time_ms(), a.rl.get_time_ms());
  fa.hci_power_control(1);
  assert.is(fb.hci_get_state(), 0);
  assert.is(fa.hci_get_state(), 1);
});

test('facade: methods of attached layers with BTstack names join it', () => {
  const h = harness();
  class FakeL2cap {
    calls = 0;
    l2cap_register_service(): number {
      return ++this.calls;
    }
    internalHelper(): void {}
  }
  const l2 = new FakeL2cap();
  (h.stack as unknown as { l2cap: FakeL2cap }).l2cap = l2;
  const bt = btstack_init_default(h.stack);
  const reg = bt['l2cap_register_service'] as () => number;
  assert.is(reg(), 1);
  assert.is(l2.calls, 1);
  assert.is(bt['internalHelper'], undefined);
});

test.run();
