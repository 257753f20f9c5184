/**
 * SDP server and a client that pipelines (sends requests without waiting for the responses, which
 * the spec forbids a client): every request still gets exactly one response with its own
 * TransactionID, in arrival order. The first is answered in full; those that arrive while an
 * answer is owed get SDP_ErrorResponse (PDU 0x01) with ErrorCode 0x0006 Insufficient Resources
 * (Core Vol 3 Part B, 4.4.1): '01 <tid> 00 02 00 06'. Afterwards the server answers normally.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { SdpServer } from '../../../src/sdp/server.js';
import { FakeL2cap, FakeAir, RawPeer, fake_stack, sdp_endpoint } from './sdp-peers.js';
import { SPP_RECORD } from './sdp-vectors.js';

const SERVER = sscanf_bd_addr('00:1B:DC:00:00:01')!;
const CLIENT = sscanf_bd_addr('00:1B:DC:00:00:02')!;

function setup() {
  const link = new FakeAir();
  const sl = sdp_endpoint(link, SERVER);
  const cl = sdp_endpoint(link, CLIENT);
  const stack = fake_stack('v1.4');
  const server = new SdpServer(stack, sl);
  assert.is(server.sdp_init(), 0);
  assert.is(server.sdp_register_service(SPP_RECORD), 0);
  const peer = new RawPeer(cl);
  peer.connect(SERVER, 1, 672);
  assert.ok(peer.cid > 0, 'channel opened');
  return { link, sl, cl, stack, server, peer };
}

const tid = (t: number) => hex(new Uint8Array([t >> 8, t & 0xff]));
/** ServiceSearchRequest for SerialPort (0x1101), MaximumServiceRecordCount 10, transaction `t`. */
const search = (t: number) => fromHex(`02 ${tid(t)} 00 08 35 03 19 11 01 00 0a 00`);
/** Its answer: one handle, 0x00010001. */
const found = (t: number) => `03 ${tid(t)} 00 09 00 01 00 01 00 01 00 01 00`;
const insufficient = (t: number) => `01 ${tid(t)} 00 02 00 06`;

test('100 pipelined requests: 100 responses, each with its TransactionID, in order', () => {
  const { link, cl, peer, server, stack } = setup();
  for (let t = 0x100; t < 0x100 + 100; t++) cl.inject(peer.cid, search(t));
  link.run();
  const got = peer.received.map((b) => hex(b));
  assert.is(got.length, 100, 'one response per request');
  assert.is(got[0], found(0x100), 'the first is answered in full');
  for (let i = 1; i < 100; i++) assert.is(got[i], insufficient(0x100 + i), `request ${i}`);
  // the client behaves again: a full answer
  assert.is(hex(peer.request(search(0x300))!), found(0x300));
  cl.l2cap_disconnect(peer.cid);
  link.run();
  assert.is(server.channels_in_use, 0);
  server.sdp_deinit();
  assert.ok(stack.pools.all_free(), 'pools full');
});

test('pipelined requests while L2CAP has no buffer: still one response each, none lost', () => {
  const { link, sl, cl, peer } = setup();
  sl.refuse_sends = 7;
  // TransactionIDs not consecutive (each one a run of its own), a short request without one
  const tids = [5, 9, 7, 0xffff, 0, 1];
  for (const t of tids) cl.inject(peer.cid, search(t));
  cl.inject(peer.cid, fromHex('02 00'));
  link.run();
  assert.equal(
    peer.received.map((b) => hex(b)),
    [found(5), ...tids.slice(1).map(insufficient), insufficient(0)],
  );
});

test('a client that breaks more runs than the server remembers is disconnected, never ignored', () => {
  const { link, cl, peer, server } = setup();
  // 40 requests with scattered TransactionIDs arrive before the server can answer the first
  for (let i = 0; i < 40; i++) cl.inject(peer.cid, search((i * 7919) & 0xffff));
  link.run();
  const closed = peer.events.some((e) => e[0] === cl.codes.L2CAP_EVENT_CHANNEL_CLOSED);
  assert.ok(closed, 'channel closed by the server');
  assert.is(server.channels_in_use, 0);
});

test.run();
