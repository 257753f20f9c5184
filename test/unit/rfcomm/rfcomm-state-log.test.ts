/**
 * The RFCOMM state machines explain themselves (issue 12 item 5): every state change of a
 * multiplexer and of a DLC is logged at debug level through the stack's Logger, by name, with the
 * reason: `rfcomm mux <con_handle>: FROM -> TO (why)`, `rfcomm dlci <n> cid <rfcomm_cid>: FROM -> TO (why)`.
 * One channel is opened (A initiator, B responder), closed by A, and A closes the idle session down
 * (DISC on DLCI 0, UA, then L2CAP); both sides' transitions are checked in order.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO } from '../../../src/core/log.js';
import { ADDR_B, CLOSED, OPENED, auto_accept, make_pair, type Node } from './rfcomm-helpers.js';

/** The RFCOMM transition lines a node's Logger emits at debug level. */
function transitions(n: Node): string[] {
  const lines: string[] = [];
  n.stack.log.level = LOG_LEVEL_DEBUG;
  n.stack.log.add_sink((level, message) => {
    if (level === LOG_LEVEL_DEBUG && /^rfcomm (mux|dlci) /.test(message)) lines.push(message);
  });
  return lines;
}

test('one DLC opened and closed, then the idle multiplexer closed down: every transition by name, in order', () => {
  const { loop, a, b } = make_pair('v1.4');
  const la = transitions(a);
  const lb = transitions(b);
  auto_accept(b);
  b.rfcomm.state.multiplexer_timeout_ms = 90_000; // A's idle timer fires first: A closes the session down
  assert.is(b.rfcomm.rfcomm_register_service(b.handler, 1, 500), 0);
  const { status, rfcomm_cid } = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1);
  assert.is(status, 0);
  loop.run(1000);
  assert.is(a.events(OPENED).length, 1);
  assert.is(a.rfcomm.rfcomm_disconnect(rfcomm_cid), 0);
  loop.run(1000);
  assert.is(a.events(CLOSED).length, 1);
  assert.is(b.events(CLOSED).length, 1);
  // A's idle timeout (60 s) closes both multiplexers
  loop.run(120_000);
  assert.ok(a.stack.pools.all_free(), 'A: pools back to full');
  assert.is(b.rfcomm.list().length, 0, 'B: multiplexer freed');

  // A: initiator; server channel 1 on the responder is DLCI 2; the fake L2CAP's ACL handle is 0x000b
  const dlcA = 'rfcomm dlci 2 cid 0x0001';
  assert.equal(la, [
    'rfcomm mux 0xffff: CLOSED -> W4_CONNECT (rfcomm_create_channel)',
    `${dlcA}: CLOSED -> W4_MULTIPLEXER (rfcomm_create_channel)`,
    'rfcomm mux 0x000b: W4_CONNECT -> SEND_SABM_0 (L2CAP open)',
    'rfcomm mux 0x000b: SEND_SABM_0 -> W4_UA_0 (SABM 0 sent)',
    'rfcomm mux 0x000b: W4_UA_0 -> OPEN (UA 0)',
    `${dlcA}: W4_MULTIPLEXER -> SEND_UIH_PN (multiplexer open)`,
    `${dlcA}: SEND_UIH_PN -> W4_PN_RSP (PN sent)`,
    `${dlcA}: W4_PN_RSP -> SEND_SABM_W4_UA (PN response)`,
    `${dlcA}: SEND_SABM_W4_UA -> W4_UA (SABM sent)`,
    `${dlcA}: W4_UA -> DLC_SETUP (UA)`,
    `${dlcA}: DLC_SETUP -> OPEN (MSC exchanged)`,
    `${dlcA}: OPEN -> SEND_DISC (rfcomm_disconnect)`,
    `${dlcA}: SEND_DISC -> W4_UA_AFTER_DISC (DISC sent)`,
    `${dlcA}: W4_UA_AFTER_DISC -> CLOSED (UA after DISC)`,
    // idle: DISC on DLCI 0, B's UA, then L2CAP is closed
    'rfcomm mux 0x000b: OPEN -> SEND_DISC_0 (idle)',
    'rfcomm mux 0x000b: SEND_DISC_0 -> W4_UA_0_AFTER_DISC (DISC 0 sent)',
    'rfcomm mux 0x000b: W4_UA_0_AFTER_DISC -> SHUTTING_DOWN (UA 0 after DISC 0)',
    'rfcomm mux 0x000b: SHUTTING_DOWN -> CLOSED (L2CAP closed)',
  ]);
  const dlcB = 'rfcomm dlci 2 cid 0x0001';
  assert.equal(lb, [
    'rfcomm mux 0x000b: CLOSED -> W4_SABM_0 (L2CAP incoming)',
    'rfcomm mux 0x000b: W4_SABM_0 -> SEND_UA_0 (SABM 0)',
    'rfcomm mux 0x000b: SEND_UA_0 -> OPEN (UA 0 sent)',
    `${dlcB}: CLOSED -> INCOMING_SETUP (PN)`,
    `${dlcB}: INCOMING_SETUP -> DLC_SETUP (UA sent)`,
    `${dlcB}: DLC_SETUP -> OPEN (MSC exchanged)`,
    `${dlcB}: OPEN -> SEND_UA_AFTER_DISC (DISC)`,
    `${dlcB}: SEND_UA_AFTER_DISC -> CLOSED (UA sent after DISC)`,
    // A's DISC on DLCI 0: UA, then L2CAP is closed
    'rfcomm mux 0x000b: OPEN -> SEND_UA_0_AND_DISC (DISC 0)',
    'rfcomm mux 0x000b: SEND_UA_0_AND_DISC -> SHUTTING_DOWN (UA 0 sent after DISC 0)',
    'rfcomm mux 0x000b: SHUTTING_DOWN -> CLOSED (L2CAP closed)',
  ]);
});

test('a refused DLC and a failed L2CAP channel end in CLOSED with their reasons; nothing at info level', () => {
  const { loop, a, b } = make_pair('v1.8');
  const la = transitions(a);
  const quiet: string[] = [];
  b.stack.log.level = LOG_LEVEL_INFO;
  b.stack.log.add_sink((_level, message) => {
    if (/^rfcomm (mux|dlci) /.test(message)) quiet.push(message);
  });
  // no service on B: the PN is answered with DM
  assert.is(b.rfcomm.rfcomm_register_service(b.handler, 3, 500), 0);
  const r = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1);
  loop.run(1000);
  assert.is(a.events(OPENED).length, 1);
  assert.ok(
    la.includes(`rfcomm dlci 2 cid 0x${r.rfcomm_cid.toString(16).padStart(4, '0')}: W4_PN_RSP -> CLOSED (DM)`),
    la.join('\n'),
  );
  assert.equal(quiet, [], 'no transition line reaches a sink listening at info level');
  // L2CAP to an unreachable device fails: the multiplexer goes from W4_CONNECT to CLOSED
  const c = make_pair('v1.8');
  const lc = transitions(c.a);
  c.b.l2cap.unreachable = true;
  c.a.rfcomm.rfcomm_create_channel(c.a.handler, ADDR_B, 1);
  c.loop.run(1000);
  assert.equal(lc, [
    'rfcomm mux 0xffff: CLOSED -> W4_CONNECT (rfcomm_create_channel)',
    'rfcomm dlci 2 cid 0x0001: CLOSED -> W4_MULTIPLEXER (rfcomm_create_channel)',
    'rfcomm mux 0xffff: W4_CONNECT -> SHUTTING_DOWN (L2CAP failed)',
    'rfcomm dlci 2 cid 0x0001: W4_MULTIPLEXER -> CLOSED (L2CAP failed)',
    'rfcomm mux 0xffff: SHUTTING_DOWN -> CLOSED (L2CAP failed)',
  ]);
  assert.ok(c.a.stack.pools.all_free());
});

test.run();
