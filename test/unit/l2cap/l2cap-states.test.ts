/**
 * Every state change of a channel goes through one function that logs it by name at debug level
 * (issue 12 item 5): `l2cap cid 0x0040: WAIT_CONNECT_RSP -> CONFIG (why)`. One outgoing channel's
 * life, from l2cap_create_channel to the Disconnection Response, as the log tells it; and nothing
 * is logged below the logger's level.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HANDLE, REMOTE, makeHarness } from './l2cap-harness.js';

const PSM = 0x1001;

function transitions(lines: string[], cid: string): string[] {
  return lines.filter((l) => l.startsWith(`l2cap cid ${cid}: `)).map((l) => l.slice(`l2cap cid ${cid}: `.length));
}

test('one outgoing channel: every transition logged with the names and the reason', () => {
  const h = makeHarness();
  const r = h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 1000);
  assert.is(r.local_cid, 0x40);
  h.hci.connectionComplete(REMOTE, HANDLE);
  h.loop.run(0);
  h.hci.sig(HANDLE, '0b 01 0800 0200 0000 00000000'); // Information Response: no extended features
  h.loop.run(0);
  h.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000'); // Connection Response success, DCID 0x0050
  h.loop.run(0);
  h.hci.sig(HANDLE, '05 03 0600 4000 0000 0000'); // Configuration Response success to our request (id 3)
  h.hci.sig(HANDLE, '04 07 0400 4000 0000'); // the remote's Configuration Request, no options
  h.loop.run(0);
  assert.is(h.l2cap.l2cap_disconnect(0x40), 0);
  h.loop.run(0);
  h.hci.sig(HANDLE, '07 04 0400 5000 4000'); // Disconnection Response (id 4)
  h.loop.run(0);
  assert.equal(transitions(h.log, '0x0040'), [
    'CLOSED -> WAIT_CONNECTION_COMPLETE (created, link requested)',
    'WAIT_CONNECTION_COMPLETE -> WAIT_OUTGOING_EXTENDED_FEATURES (link up)',
    'WAIT_OUTGOING_EXTENDED_FEATURES -> WILL_SEND_CONNECTION_REQUEST (information exchange done)',
    'WILL_SEND_CONNECTION_REQUEST -> WAIT_CONNECT_RSP (Connection Request sent)',
    'WAIT_CONNECT_RSP -> CONFIG (Connection Response success)',
    'CONFIG -> OPEN (configuration done)',
    'OPEN -> WILL_SEND_DISCONNECT_REQUEST (l2cap_disconnect)',
    'WILL_SEND_DISCONNECT_REQUEST -> WAIT_DISCONNECT (Disconnection Request sent)',
    'WAIT_DISCONNECT -> CLOSED (Disconnection Response)',
  ]);
  assert.equal(
    h.ofCode(0x71).map((e) => e.bytes),
    ['71 02 40 00'],
    'L2CAP_EVENT_CHANNEL_CLOSED',
  );
  assert.is(h.l2cap.state.channelPool.in_use, 0);
});

test('above debug level no transition is logged', () => {
  const h = makeHarness();
  h.l2cap.state.log.level = 1; // LOG_LEVEL_INFO
  h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 1000);
  h.hci.connectionComplete(REMOTE, HANDLE);
  h.loop.run(0);
  assert.equal(transitions(h.log, '0x0040'), []);
  assert.ok(
    h.log.some((l) => l.startsWith('L2CAP create channel 0x40')),
    'info lines still come',
  );
});

test.run();
