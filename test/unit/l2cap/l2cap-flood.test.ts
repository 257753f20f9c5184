/**
 * Signalling floods against a scripted fake HCI whose controller has no free buffer while the
 * requests arrive: every request gets exactly one answer (Core v5.4 Vol 3 Part A, 4), the full
 * one while the link's queue has room, then Command Reject "command not understood" (4.1) with
 * the request's identifier; nothing is forgotten. Answers are matched to requests by code and
 * identifier (identifiers recycle after 255, as a remote may) and, for Connection Responses, by
 * the SCID the request named. Afterwards the link answers normally again and pools are full.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HANDLE, fromHex, hex, le16, linkUp, makeHarness, type Harness } from './l2cap-harness.js';

const PSM = 0x1001;

interface Answer {
  code: number;
  id: number;
  /** The command's data octets. */
  data: Uint8Array;
}

/** Every command in the C-frames sent (take() format: basic header + commands). */
function commands(pdus: string[]): Answer[] {
  const out: Answer[] = [];
  for (const pdu of pdus) {
    const b = fromHex(pdu);
    if (b[2] !== 1 || b[3] !== 0) continue;
    for (let p = 4; p + 4 <= b.length;) {
      const len = b[p + 2]! | (b[p + 3]! << 8);
      out.push({ code: b[p]!, id: b[p + 1]!, data: b.subarray(p + 4, p + 4 + len) });
      p += 4 + len;
    }
  }
  return out;
}

/** Give the controller's buffers back one at a time until L2CAP sends nothing more; returns all it sent. */
function drain(h: Harness): string[] {
  const sent: string[] = [];
  h.loop.run(0);
  for (let idle = 0; idle < 3;) {
    h.hci.complete(HANDLE, 1);
    h.loop.run(0);
    const got = h.hci.take();
    sent.push(...got);
    idle = got.length === 0 ? idle + 1 : 0;
  }
  return sent;
}

const u16 = (d: Uint8Array, at: number) => d[at]! | (d[at + 1]! << 8);
const id8 = (i: number) => (i % 255) + 1;
const hx = (v: number) => v.toString(16).padStart(2, '0');

test('500 Connection Requests while no buffer is free: each gets exactly one answer (success, no resources, or Command Reject)', () => {
  const h = makeHarness('v1.4', { MAX_NR_L2CAP_CHANNELS: 4 }, (e, hh) => {
    if (e.type === 4 && e.code === 0x72) hh.l2cap.l2cap_accept_connection(e.channel);
  });
  h.l2cap.l2cap_register_service(h.handler, PSM, 100, 0);
  linkUp(h);
  h.hci.credits = 0;
  // request i: identifier (i % 255) + 1 (recycled after 255, as a remote may), SCID 0x0040 + i
  const pending = new Map<number, number[]>();
  for (let i = 0; i < 500; i++) {
    const id = id8(i);
    h.hci.sig(HANDLE, `02 ${hx(id)} 0400 ${le16(PSM)} ${le16(0x40 + i)}`);
    pending.set(id, [...(pending.get(id) ?? []), 0x40 + i]);
  }
  const answers = commands(drain(h)).filter((c) => c.code === 0x01 || c.code === 0x03);
  let success = 0;
  let refused = 0;
  let rejected = 0;
  // Connection Responses name their request exactly (identifier + SCID); a Command Reject then takes any left with its identifier
  for (const a of [...answers.filter((x) => x.code === 0x03), ...answers.filter((x) => x.code === 0x01)]) {
    const list = pending.get(a.id);
    assert.ok(list && list.length > 0, `answer ${a.code} with identifier ${a.id} answers no request`);
    if (a.code === 0x03) {
      const scid = u16(a.data, 2);
      const at = list!.indexOf(scid);
      assert.ok(at >= 0, `Connection Response id ${a.id} names SCID 0x${scid.toString(16)} of no request with that identifier`);
      list!.splice(at, 1);
      const result = u16(a.data, 4);
      if (result === 0) success++;
      else {
        assert.is(result, 0x0004, 'refused: no resources available');
        assert.is(u16(a.data, 0), 0, 'refused: DCID 0');
        refused++;
      }
    } else {
      assert.is(hex(a.data), '00 00', 'Command Reject "command not understood"');
      list!.shift();
      rejected++;
    }
  }
  const unanswered = [...pending.values()].reduce((n, l) => n + l.length, 0);
  assert.is(unanswered, 0, `every request answered (${success} success, ${refused} no resources, ${rejected} rejected)`);
  assert.is(answers.length, 500, 'and none twice');
  assert.is(success, 4, 'as many channels as the pool has');
  assert.ok(refused >= 4, `full refusals while the queue had room: ${refused}`);
  assert.is(success + refused + rejected, 500);
  // the link answers normally again: an Information Request gets its full answer
  h.hci.credits = 10;
  h.hci.sig(HANDLE, '0a 33 0200 0100');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 0b 33 06 00 01 00 00 00 a0 02'], 'InfoType 1, success, connectionless MTU 672');
});

test('500 Echo Requests, 50 to a C-frame, while no buffer is free: each gets exactly one answer', () => {
  const h = makeHarness('v1.4');
  linkUp(h);
  h.hci.credits = 0;
  const pending = new Map<number, number>();
  for (let f = 0; f < 10; f++) {
    let frame = '';
    for (let k = 0; k < 50; k++) {
      const id = id8(f * 50 + k);
      frame += ` 08 ${hx(id)} 0200 ${hx(f)} ${hx(k)}`;
      pending.set(id, (pending.get(id) ?? 0) + 1);
    }
    h.hci.sig(HANDLE, frame);
  }
  const answers = commands(drain(h));
  let echoed = 0;
  for (const a of answers) {
    assert.ok(a.code === 0x09 || (a.code === 0x01 && hex(a.data) === '00 00'), `echo response or Command Reject, got ${a.code}`);
    assert.ok((pending.get(a.id) ?? 0) > 0, `identifier ${a.id} answered more often than asked`);
    pending.set(a.id, pending.get(a.id)! - 1);
    if (a.code === 0x09 && a.data.length) {
      echoed++;
      assert.is(a.data.length, 2);
    }
  }
  assert.is(answers.length, 500, 'one answer per request');
  assert.ok(
    [...pending.values()].every((n) => n === 0),
    'every request answered',
  );
  assert.is(answers[0]!.code, 0x09);
  assert.is(hex(answers[0]!.data), '00 00', 'the first one echoes its data');
  assert.ok(echoed >= 1);
});

test('repeated requests with an identifier still being answered: one answer each (Vol 3 Part A, 4)', () => {
  const h = makeHarness('v1.4');
  linkUp(h);
  h.hci.credits = 0;
  // Information Request "extended features" twice with identifier 0x21, and an unknown command twice with 0x22
  h.hci.sig(HANDLE, '0a 21 0200 0200');
  h.hci.sig(HANDLE, '0a 21 0200 0200');
  h.hci.sig(HANDLE, '7f 22 0000');
  h.hci.sig(HANDLE, '7f 22 0000');
  h.loop.run(0);
  h.hci.complete(HANDLE, 10);
  h.loop.run(0);
  // extended features: fixed channels (bit 7) + unicast connectionless reception (bit 9)
  assert.equal(h.hci.take(), [
    '0c 00 01 00 0b 21 08 00 02 00 00 00 b8 02 00 00',
    '0c 00 01 00 0b 21 08 00 02 00 00 00 b8 02 00 00',
    '06 00 01 00 01 22 02 00 00 00',
    '06 00 01 00 01 22 02 00 00 00',
  ]);
});

test('Disconnection Request repeated before our response went out: two Disconnection Responses, one CHANNEL_CLOSED', () => {
  const h = makeHarness('v1.4', {}, (e, hh) => {
    if (e.type === 4 && e.code === 0x72) hh.l2cap.l2cap_accept_connection(e.channel);
  });
  h.l2cap.l2cap_register_service(h.handler, PSM, 1000, 0);
  linkUp(h);
  h.hci.sig(HANDLE, '02 01 0400 0110 5000');
  h.loop.run(0);
  h.hci.sig(HANDLE, '04 02 0400 4000 0000');
  h.hci.sig(HANDLE, '05 01 0600 4000 0000 0000');
  h.loop.run(0);
  assert.is(h.l2cap.l2cap_get_channels()[0]!.state, 'OPEN');
  h.hci.take();
  h.hci.credits = 0;
  h.hci.sig(HANDLE, '06 07 0400 4000 5000');
  h.hci.sig(HANDLE, '06 07 0400 4000 5000');
  h.loop.run(0);
  h.hci.complete(HANDLE, 5);
  h.loop.run(0);
  // DCID 0x0040 (ours), SCID 0x0050 (theirs), identifier 7, twice
  assert.equal(h.hci.take(), ['08 00 01 00 07 07 04 00 40 00 50 00', '08 00 01 00 07 07 04 00 40 00 50 00']);
  assert.is(h.ofCode(0x71).length, 1);
  assert.is(h.l2cap.state.channelPool.in_use, 0);
});

test('Configuration Request on a channel being disconnected: Command Reject "invalid CID", not silence', () => {
  const h = makeHarness('v1.4', {}, (e, hh) => {
    if (e.type === 4 && e.code === 0x72) hh.l2cap.l2cap_accept_connection(e.channel);
  });
  h.l2cap.l2cap_register_service(h.handler, PSM, 1000, 0);
  linkUp(h);
  h.hci.sig(HANDLE, '02 01 0400 0110 5000');
  h.hci.sig(HANDLE, '04 02 0400 4000 0000');
  h.hci.sig(HANDLE, '05 01 0600 4000 0000 0000');
  h.loop.run(0);
  h.l2cap.l2cap_disconnect(0x40);
  h.loop.run(0);
  h.hci.take();
  h.hci.sig(HANDLE, '04 09 0400 4000 0000');
  h.loop.run(0);
  // reason 2 invalid CID, local endpoint 0x0040, remote endpoint 0x0050
  assert.equal(h.hci.take(), ['0a 00 01 00 01 09 06 00 02 00 40 00 50 00']);
});

test('after a flood the link goes down: the queue is forgotten, every pool is full', () => {
  const h = makeHarness('v1.4');
  linkUp(h);
  h.hci.credits = 0;
  for (let i = 0; i < 300; i++) h.hci.sig(HANDLE, `08 ${hx(id8(i))} 0000`);
  h.loop.run(0);
  h.hci.disconnectionComplete(HANDLE);
  h.loop.run(0);
  h.hci.credits = 10;
  h.hci.complete(HANDLE, 1);
  h.loop.run(0);
  assert.equal(h.hci.take(), [], 'nothing is sent for a link that is gone');
  assert.ok(h.pools.all_free(), 'pools full');
  // a new link starts with an empty queue
  linkUp(h);
  h.hci.sig(HANDLE, '08 05 0000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['04 00 01 00 09 05 00 00']);
});

test.run();
