/**
 * Every Configuration Request gets exactly one Configuration Response (Core v5.4 Vol 3 Part A, 4:
 * each request is answered; 4.4/4.5), also when a newer request on the same channel arrives
 * before the answer to the older one could go out (the controller had no buffer). Fails on
 * 182843b: the newer request replaced the unsent answer, so the older one never got one.
 * Bytes worked out by hand: Configuration Response = code 0x05, identifier, length 6 + options,
 * SCID (the requester's CID 0x0050), flags, result; basic header length = 4 + that length, CID 1.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HANDLE, linkUp, makeHarness } from './l2cap-harness.js';

test('three Configuration Requests while no buffer is free: three answers, oldest first', () => {
  const h = makeHarness();
  h.l2cap.l2cap_register_service(h.handler, 0x1001, 1000, 0);
  linkUp(h);
  h.hci.sig(HANDLE, '02 01 0400 0110 5000'); // Connection Request PSM 0x1001, SCID 0x0050
  h.loop.run(0);
  h.l2cap.l2cap_accept_connection(0x40);
  h.loop.run(0);
  assert.equal(h.hci.take().length, 2, 'Connection Response and our Configuration Request');
  h.hci.credits = 0;
  h.hci.sig(HANDLE, '04 10 0800 4000 0000 0102 e803'); // MTU 1000: acceptable
  h.hci.sig(HANDLE, '04 11 0800 4000 0000 0102 2f00'); // MTU 47: below 48
  h.hci.sig(HANDLE, '04 12 0700 4000 0000 7e0155'); // unknown non-hint option 0x7e
  h.loop.run(0);
  assert.equal(h.hci.take(), [], 'nothing can go out yet');
  h.hci.complete(HANDLE, 5);
  h.loop.run(0);
  assert.equal(h.hci.take(), [
    '0a 00 01 00 05 10 06 00 50 00 00 00 00 00', // success
    '0e 00 01 00 05 11 0a 00 50 00 00 00 01 00 01 02 30 00', // unacceptable parameters, MTU 48 proposed
    '0d 00 01 00 05 12 09 00 50 00 00 00 03 00 7e 01 55', // unknown options, listing 0x7e
  ]);
  // the channel still configures: a good request and the answer to ours open it
  h.hci.sig(HANDLE, '04 13 0400 4000 0000');
  h.hci.sig(HANDLE, '05 01 0600 4000 0000 0000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 05 13 06 00 50 00 00 00 00 00']);
  assert.equal(
    h.l2cap.l2cap_get_channels().map((c) => c.state),
    ['OPEN'],
  );
});

test.run();
