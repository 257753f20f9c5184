/**
 * Security levels enforced by L2CAP (issue 13 item 3) against the scripted fake HCI: incoming
 * channels below their service's level answer "pending" and ask HCI for the level, then are offered
 * to the application or refused with "security block"; outgoing channels raise the link's level
 * before the Connection Request; mode 4 raises every PSM but SDP to gap_get_security_level(), mode 2
 * does not. PDUs worked out by hand from Core v5.4 Vol 3 Part A 4.2 / 4.3 (Connection Response:
 * code 0x03, id, length 8, DCID, SCID, result, status; result 0x0001 pending with status 0x0001
 * authentication pending, result 0x0003 "security block" with DCID 0x0000) and BTstack's events.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE,
  L2CAP_STATE_WAIT_OUTGOING_SECURITY_LEVEL_UPDATE,
} from '../../../src/codes/v1.4.js';
import { HANDLE, REMOTE, linkUp, makeHarness, type Harness } from './l2cap-harness.js';

const PSM = 0x1001;
/** Connection Request id 1: PSM 0x1001, SCID 0x0050. */
const CONN_REQ = '02 01 0400 0110 5000';
/** Connection Response id 1, DCID 0x0040, SCID 0x0050, result 0x0001 pending, status 0x0001 authentication pending. */
const PENDING_AUTHENTICATION = '0c 00 01 00 03 01 08 00 40 00 50 00 01 00 01 00';
/** Connection Response id 1, DCID 0x0000, SCID 0x0050, result 0x0003 security block, status 0. */
const SECURITY_BLOCK = '0c 00 01 00 03 01 08 00 00 00 50 00 03 00 00 00';
/** L2CAP_EVENT_INCOMING_CONNECTION: address reversed, handle 0x0040, PSM 0x1001, local cid 0x0040, remote cid 0x0050. */
const INCOMING = '72 0e 66 55 44 33 22 11 40 00 01 10 40 00 50 00';

function setup(service_level: number, opts: { mode?: number; minimum?: number; profile?: 'v1.4' | 'v1.8'; psm?: number } = {}) {
  const h = makeHarness(opts.profile ?? 'v1.4');
  h.hci.security_mode = opts.mode ?? 4;
  h.hci.mode4_level = opts.minimum ?? 0;
  assert.is(h.l2cap.l2cap_register_service(h.handler, opts.psm ?? PSM, 1000, service_level), 0);
  linkUp(h);
  return h;
}

function allFree(h: Harness): void {
  const s = h.l2cap.state;
  assert.is(s.channelPool.in_use, 0, 'channel pool back to full');
  assert.is(s.channels.length, 0);
}

test('incoming, link already at the level: offered at once, no security request, no pending', () => {
  const h = setup(2);
  h.hci.security_level = 2;
  h.hci.sig(HANDLE, CONN_REQ);
  h.loop.run(0);
  assert.equal(h.hci.security_requests, []);
  assert.equal(h.hci.take(), []);
  assert.equal(
    h.ofCode(0x72).map((e) => e.bytes),
    [INCOMING],
  );
});

test('incoming below the level: pending (authentication pending) at once, request, then sufficient -> INCOMING_CONNECTION, accept opens (both profiles)', () => {
  for (const profile of ['v1.4', 'v1.8'] as const) {
    const h = setup(2, { profile });
    h.hci.sig(HANDLE, CONN_REQ);
    assert.equal(h.hci.security_requests, [[HANDLE, 2]], profile);
    assert.is(h.l2cap.state.channels[0]!.state, L2CAP_STATE_WAIT_INCOMING_SECURITY_LEVEL_UPDATE);
    h.loop.run(0);
    assert.equal(h.hci.take(), [PENDING_AUTHENTICATION], profile);
    assert.is(h.ofCode(0x72).length, 0, 'the application sees nothing while the level is raised');
    h.loop.run(60_000);
    assert.equal(h.hci.take(), [], 'one pending only');
    h.hci.securityLevel(HANDLE, 2);
    h.loop.run(0);
    assert.equal(
      h.ofCode(0x72).map((e) => e.bytes),
      [INCOMING],
      profile,
    );
    assert.ok(
      h.log.some((l) => l.includes('l2cap cid 0x0040: WAIT_INCOMING_SECURITY_LEVEL_UPDATE -> WAIT_CLIENT_ACCEPT_OR_REJECT')),
    );
    assert.is(h.l2cap.l2cap_accept_connection(0x40), 0);
    h.loop.run(0);
    assert.equal(h.hci.take(), [
      '0c 00 01 00 03 01 08 00 40 00 50 00 00 00 00 00', // success
      '0c 00 01 00 04 01 08 00 50 00 00 00 01 02 e8 03', // our Configuration Request, MTU 1000
    ]);
  }
});

test('incoming: level not reached -> Connection Response "security block", no event, pools back to full; a repeated request meanwhile gets pending again', () => {
  const h = setup(3);
  h.hci.sig(HANDLE, CONN_REQ);
  h.loop.run(0);
  assert.equal(h.hci.take(), [PENDING_AUTHENTICATION]);
  assert.equal(h.hci.security_requests, [[HANDLE, 3]]);
  h.hci.sig(HANDLE, CONN_REQ); // the remote repeats its request (same identifier, same SCID)
  h.loop.run(0);
  assert.equal(h.hci.take(), [PENDING_AUTHENTICATION]);
  h.hci.securityLevel(HANDLE, 2); // unauthenticated: below level 3
  h.loop.run(0);
  assert.equal(h.hci.take(), [SECURITY_BLOCK]);
  assert.equal(h.events, [], 'no event: the application never saw the channel');
  allFree(h);
  h.hci.securityLevel(HANDLE, 3); // a late event finds nothing waiting
  h.loop.run(0);
  assert.equal(h.hci.take(), []);
});

test('mode 4: a level-0 service is raised to gap_get_security_level(); SDP (PSM 0x0001) stays at level 0', () => {
  const h = setup(0, { minimum: 2 });
  assert.is(h.l2cap.l2cap_register_service(h.handler, 0x0001, 1000, 0), 0);
  h.hci.sig(HANDLE, '02 01 0400 0100 5000'); // SDP
  h.loop.run(0);
  assert.equal(h.hci.security_requests, []);
  assert.equal(
    h.ofCode(0x72).map((e) => e.bytes),
    ['72 0e 66 55 44 33 22 11 40 00 01 00 40 00 50 00'],
  );
  h.hci.sig(HANDLE, '02 02 0400 0110 5100'); // PSM 0x1001, SCID 0x0051
  h.loop.run(0);
  assert.equal(h.hci.security_requests, [[HANDLE, 2]]);
  assert.equal(h.hci.take(), ['0c 00 01 00 03 02 08 00 41 00 51 00 01 00 01 00']);
});

test('mode 2: only the service level counts (level 0 offered at once, level 1 asked for)', () => {
  const h = setup(0, { mode: 2, minimum: 2 });
  h.hci.sig(HANDLE, CONN_REQ);
  h.loop.run(0);
  assert.equal(h.hci.security_requests, []);
  assert.is(h.ofCode(0x72).length, 1);
  assert.is(h.l2cap.l2cap_register_service(h.handler, 0x1003, 1000, 1), 0);
  h.hci.sig(HANDLE, '02 02 0400 0310 5100');
  h.loop.run(0);
  assert.equal(h.hci.security_requests, [[HANDLE, 1]]);
});

/** Create a channel to PSM 0x1001 in mode 4 with minimum level 2 and bring the link up. */
function outgoingWaiting(psm = PSM): Harness {
  const h = makeHarness();
  h.hci.mode4_level = 2;
  assert.equal(h.l2cap.l2cap_create_channel(h.handler, REMOTE, psm, 1000), { status: 0, local_cid: 0x40 });
  h.hci.connectionComplete(REMOTE, HANDLE);
  h.loop.run(0);
  return h;
}

test('outgoing: the link is raised to the mode-4 level before the information exchange and the Connection Request', () => {
  const h = outgoingWaiting();
  assert.equal(h.hci.security_requests, [[HANDLE, 2]]);
  assert.equal(h.hci.take(), [], 'nothing sent while the level is raised');
  assert.is(h.l2cap.state.channels[0]!.state, L2CAP_STATE_WAIT_OUTGOING_SECURITY_LEVEL_UPDATE);
  h.hci.securityLevel(HANDLE, 2);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['06 00 01 00 0a 01 02 00 02 00'], 'Information Request, extended features');
  h.hci.sig(HANDLE, '0b 01 0800 0200 0000 00000000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['08 00 01 00 02 02 04 00 01 10 40 00'], 'Connection Request PSM 0x1001 SCID 0x0040');
  // a second channel on the link that has the level now: no new request
  h.l2cap.l2cap_create_channel(h.handler, REMOTE, 0x1003, 1000);
  h.loop.run(0);
  assert.equal(h.hci.security_requests.length, 1);
  assert.equal(h.hci.take(), ['08 00 01 00 02 03 04 00 03 10 41 00']);
});

test('outgoing SDP is not raised: information exchange at once', () => {
  const h = outgoingWaiting(0x0001);
  assert.equal(h.hci.security_requests, []);
  assert.equal(h.hci.take(), ['06 00 01 00 0a 01 02 00 02 00']);
});

test('outgoing: level not reached -> CHANNEL_OPENED status 0x66 (REFUSED_SECURITY), nothing sent, pools back to full', () => {
  const h = outgoingWaiting();
  h.hci.securityLevel(HANDLE, 0);
  h.loop.run(0);
  assert.equal(
    h.ofCode(0x70).map((e) => e.bytes),
    ['70 18 66 66 55 44 33 22 11 40 00 01 10 40 00 00 00 e8 03 a0 02 00 00 00 00 00'],
  );
  assert.equal(h.hci.take(), []);
  allFree(h);
});

test('remote security block (result 3) -> 0x66 and the link key is dropped (BTstack); other refusals keep it', () => {
  const h = makeHarness();
  h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 1000);
  h.hci.connectionComplete(REMOTE, HANDLE);
  h.loop.run(0);
  h.hci.sig(HANDLE, '0b 01 0800 0200 0000 00000000');
  h.loop.run(0);
  h.hci.take();
  h.hci.sig(HANDLE, '03 02 0800 0000 4000 0300 0000');
  h.loop.run(0);
  assert.is(h.ofCode(0x70)[0]!.bytes.slice(0, 8), '70 18 66');
  assert.equal(h.hci.dropped_keys, ['11 22 33 44 55 66']);
  h.l2cap.l2cap_create_channel(h.handler, REMOTE, PSM, 1000);
  h.loop.run(0);
  h.hci.sig(HANDLE, '03 03 0800 0000 4100 0200 0000'); // PSM not supported
  h.loop.run(0);
  assert.is(h.ofCode(0x70)[1]!.bytes.slice(0, 8), '70 18 65');
  assert.equal(h.hci.dropped_keys.length, 1);
});

test('disconnect while waiting: the outgoing channel ends with one CHANNEL_OPENED 0x6a, the incoming one silently; pools full', () => {
  const h = outgoingWaiting();
  assert.is(h.l2cap.l2cap_register_service(h.handler, 0x1003, 1000, 2), 0);
  h.hci.sig(HANDLE, '02 01 0400 0310 5000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 03 01 08 00 41 00 50 00 01 00 01 00']);
  assert.equal(h.hci.security_requests, [
    [HANDLE, 2],
    [HANDLE, 2],
  ]);
  h.hci.disconnectionComplete(HANDLE, 0x08);
  h.loop.run(0);
  assert.equal(
    h.events.map((e) => e.bytes),
    ['70 18 6a 66 55 44 33 22 11 40 00 01 10 40 00 00 00 e8 03 a0 02 00 00 00 00 00'],
  );
  allFree(h);
  assert.is(h.l2cap.state.linkPool.in_use, 0);
  h.hci.securityLevel(HANDLE, 2);
  h.loop.run(200_000);
  assert.is(h.events.length, 1, 'exactly one event');
});

test('l2cap_disconnect while the level is raised: CHANNEL_CLOSED, a late answer does nothing', () => {
  const h = outgoingWaiting();
  assert.is(h.l2cap.l2cap_disconnect(0x40), 0);
  assert.equal(
    h.ofCode(0x71).map((e) => e.bytes),
    ['71 02 40 00'],
  );
  h.hci.securityLevel(HANDLE, 2);
  h.loop.run(0);
  assert.equal(h.hci.take(), []);
  assert.is(h.events.length, 1);
  allFree(h);
});

test('no answer from HCI for ERTX (120 s): incoming refused with security block, outgoing 0x66', () => {
  const h = outgoingWaiting();
  assert.is(h.l2cap.l2cap_register_service(h.handler, PSM, 1000, 2), 0);
  h.hci.sig(HANDLE, '02 01 0400 0110 5000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0c 00 01 00 03 01 08 00 41 00 50 00 01 00 01 00']);
  h.loop.run(119_000);
  assert.equal(h.events, []);
  h.loop.run(1_001);
  assert.equal(h.hci.take(), [SECURITY_BLOCK]);
  assert.equal(
    h.events.map((e) => e.bytes.slice(0, 8)),
    ['70 18 66'],
  );
  allFree(h);
});

test.run();
