/**
 * Transport back-pressure: while the transport refuses ACL (a full serial write ring), a
 * channel asking for L2CAP_EVENT_CAN_SEND_NOW waits; when the transport says it can send again,
 * the event comes and the data flows. Nothing is queued inside the stack meanwhile.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import type { TransportEventHandler } from '../../src/hci/transport.js';
import { Stack } from '../../src/stack.js';
import { sscanf_bd_addr } from '../../src/core/bytes.js';

/** A VirtualTransport whose ACL side can be made "full". */
class ChokedTransport extends VirtualTransport {
  choked = false;
  private events: TransportEventHandler | null = null;
  override register_event_handler(handler: TransportEventHandler): void {
    this.events = handler;
    super.register_event_handler(handler);
  }
  override can_send_packet_now(packet_type: number): boolean {
    if (this.choked && packet_type === 0x02) return false;
    return super.can_send_packet_now(packet_type);
  }
  release(): void {
    this.choked = false;
    this.events?.({ type: 'can-send-now' });
  }
}

test('CAN_SEND_NOW waits for a full transport and comes when it drains', () => {
  const rl = new VirtualRunLoop();
  rl.onError = (e) => {
    throw e;
  };
  const link = new RadioLink(rl);
  const ta = new ChokedTransport(link.create_controller({ bd_addr: 'AA:00:00:00:00:01' }));
  const a = new Stack({ transport: ta, run_loop: rl });
  const b = new Stack({
    transport: new VirtualTransport(link.create_controller({ bd_addr: 'BB:00:00:00:00:02' })),
    run_loop: rl,
  });
  a.hci.hci_power_control(1);
  b.hci.hci_power_control(1);
  assert.ok(rl.run_until(() => a.hci.hci_get_state() === 2 && b.hci.hci_get_state() === 2, 5000));
  const received: number[] = [];
  b.l2cap.l2cap_register_service(
    (type, cid, p, n) => {
      if (type === 6) received.push(n);
      else if (p[0] === 0x72) b.l2cap.l2cap_accept_connection(cid);
    },
    0x1001,
    1000,
    0,
  );
  let opened = 0;
  let canSend = 0;
  const r = a.l2cap.l2cap_create_channel(
    (type, cid, p) => {
      if (type !== 4) return;
      if (p[0] === 0x70 && p[2] === 0) opened = cid;
      if (p[0] === 0x78) {
        canSend++;
        assert.is(a.l2cap.l2cap_send(cid, new Uint8Array(100)), 0);
      }
    },
    sscanf_bd_addr('BB:00:00:00:00:02')!,
    0x1001,
    1000,
  );
  assert.ok(
    rl.run_until(() => opened === r.local_cid, 10_000),
    'open',
  );
  ta.choked = true;
  assert.is(a.l2cap.l2cap_can_send_packet_now(opened), false);
  assert.is(a.l2cap.l2cap_send(opened, new Uint8Array(10)), 0x57, 'BTSTACK_ACL_BUFFERS_FULL: nothing queued');
  a.l2cap.l2cap_request_can_send_now_event(opened);
  rl.run(1000);
  assert.is(canSend, 0, 'no CAN_SEND_NOW while the transport is full');
  ta.release();
  assert.ok(
    rl.run_until(() => received.length === 1, 1000),
    'the SDU goes out once the transport drains',
  );
  assert.is(canSend, 1);
  assert.equal(received, [100]);
});

test.run();
