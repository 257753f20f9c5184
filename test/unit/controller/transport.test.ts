/**
 * VirtualTransport (the HciTransport contract): open/close reported on the run loop, packets to
 * the host delivered from the run loop (never inside send_packet), copies taken before
 * send_packet returns, one run loop shared with the controller.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../../src/core/bytes.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { RadioLink } from '../../../src/controller/link.js';
import type { TransportEvent } from '../../../src/hci/transport.js';
import { VirtualTransport } from '../../../ports/virtual/transport.js';

function setup() {
  const loop = new VirtualRunLoop();
  const link = new RadioLink(loop);
  const t = new VirtualTransport(link.create_controller());
  const events: TransportEvent['type'][] = [];
  const packets: string[] = [];
  t.init(loop);
  t.register_event_handler((e) => events.push(e.type));
  t.register_packet_handler((type, packet, size) => packets.push(`${type}: ${hex(packet, size)}`));
  return { loop, link, t, events, packets };
}

test('open -> opened on the run loop; commands answered from the run loop only', () => {
  const { loop, t, events, packets } = setup();
  assert.not.ok(t.can_send_packet_now(0x01));
  t.open();
  assert.equal(events, [], 'not reported inside open()');
  loop.run();
  assert.equal(events, ['opened']);
  assert.ok(t.can_send_packet_now(0x01));
  const cmd = Uint8Array.of(0x03, 0x0c, 0x00);
  assert.is(t.send_packet(0x01, cmd, 3), 0);
  cmd.fill(0xff); // the transport copied what it needed
  assert.equal(packets, [], 'no delivery inside send_packet');
  loop.run();
  assert.equal(packets, ['4: 0e 04 01 03 0c 00']);
});

test('a host sending from its packet handler is not re-entered', () => {
  const { loop, t, packets } = setup();
  let depth = 0;
  let maxDepth = 0;
  t.register_packet_handler((type, packet, size) => {
    depth++;
    maxDepth = Math.max(maxDepth, depth);
    packets.push(hex(packet, size));
    if (packets.length < 5) t.send_packet(0x01, Uint8Array.of(0x03, 0x0c, 0x00), 3);
    depth--;
  });
  t.open();
  loop.run();
  t.send_packet(0x01, Uint8Array.of(0x03, 0x0c, 0x00), 3);
  loop.run();
  assert.is(packets.length, 5);
  assert.is(maxDepth, 1);
});

test('close -> closed; nothing delivered after close; another run loop is refused', () => {
  const { loop, link, t, events, packets } = setup();
  t.open();
  loop.run();
  t.send_packet(0x01, Uint8Array.of(0x03, 0x0c, 0x00), 3);
  t.close();
  loop.run();
  assert.equal(events, ['opened', 'closed']);
  assert.equal(packets, []);
  assert.is(t.send_packet(0x01, Uint8Array.of(0x03, 0x0c, 0x00), 3), 0x0c);
  const other = new VirtualTransport(link.create_controller());
  assert.throws(() => other.init(new VirtualRunLoop()), /one run loop/);
});

test('open on a controller removed from the link -> open-failed', () => {
  const { loop, link, t, events } = setup();
  link.remove_controller(t.controller);
  t.open();
  loop.run();
  assert.equal(events, ['open-failed']);
});

test.run();
