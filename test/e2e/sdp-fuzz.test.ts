/**
 * Fuzz at a live stack: 100,000 random and mutated SDP requests sent over a real L2CAP channel
 * (virtual controller, fragmented ACL) to stack b's SDP server on PSM 1. Every request gets one
 * response that decodes, echoes the transaction id and is the matching response or an
 * ErrorResponse with a defined code; afterwards the server still answers correctly and every pool
 * is full once the stacks are off. Seeded and bounded.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADDR_B, makePair } from './l2cap-helpers.js';
import { hex } from '../../src/core/bytes.js';
import { SdpPdu, sdp_response_decode } from '../../src/sdp/pdu.js';
import { spp_create_sdp_record } from '../../src/sdp/spp.js';
import { de, sdp_create_record } from '../../src/sdp/data-element.js';

const REQUESTS = Number(process.env.SDP_FUZZ_N ?? 100_000);

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Well-formed requests to mutate (transaction id patched in). */
const SEEDS = [
  '02 00 00 00 08 35 03 19 11 01 00 0a 00',
  '02 00 00 00 08 35 03 19 10 02 00 02 00',
  '04 00 00 00 0e 00 01 00 01 00 20 35 05 0a 00 00 ff ff 00',
  '04 00 00 00 0c 00 01 00 02 ff ff 35 03 09 02 00 00',
  '06 00 00 00 0f 35 03 19 10 02 00 10 35 05 0a 00 00 ff ff 00',
  '06 00 00 00 0f 35 03 19 11 01 ff ff 35 05 0a 00 01 01 00 00',
  '06 00 00 00 14 35 05 1a 00 00 12 00 00 07 35 08 09 00 01 0a 02 00 02 01 00',
].map((s) => Uint8Array.from(s.split(' ').map((x) => parseInt(x, 16))));

test(`fuzz: ${REQUESTS} random and mutated SDP requests over L2CAP at a live SDP server`, () => {
  const p = makePair({ tag: 'sdp-fuzz', packet_log: false });
  const { a, b } = p;
  const server = b.stack.sdp;
  assert.is(server.sdp_init(), 0);
  const rec = new Uint8Array(200);
  spp_create_sdp_record(rec, 0x10001, 1, 'SPP Counter');
  assert.is(server.sdp_register_service(rec), 0);
  const big = new Uint8Array(1500);
  const n = sdp_create_record(big, 0, [
    [0x0000, de.uint32(0x10002)],
    [0x0001, de.des(de.uuid16(0x1200))],
    [0x0005, de.des(de.uuid16(0x1002))],
    [0x0200, de.text('x'.repeat(900))],
  ]);
  assert.is(server.sdp_register_service(big.subarray(0, n)), 0);

  // a raw L2CAP channel from a to b's PSM 1 (MTU 100: continuation is common)
  const la = a.stack.l2cap;
  let cid = 0;
  let response: Uint8Array | null = null;
  let canSend = false;
  const handler = (type: number, channel: number, packet: Uint8Array, size: number) => {
    if (type === 6) response = packet.slice(0, size);
    else if (packet[0] === a.stack.codes.L2CAP_EVENT_CHANNEL_OPENED && packet[2] === 0) cid = channel;
    else if (packet[0] === a.stack.codes.L2CAP_EVENT_CAN_SEND_NOW) canSend = true;
  };
  assert.is(la.l2cap_create_channel(handler, ADDR_B, 1, 100).status, 0);
  p.until(() => cid !== 0, 'SDP channel open');
  const remoteMtu = la.l2cap_get_remote_mtu_for_local_cid(cid);

  const r = prng(0x5d9f2);
  const pdu = new SdpPdu();
  const codes = new Map<number, number>();
  for (let i = 0; i < REQUESTS; i++) {
    let req: number[];
    const kind = r();
    if (kind < 0.25) req = Array.from({ length: Math.floor(r() * 30) }, () => Math.floor(r() * 256));
    else {
      req = Array.from(SEEDS[Math.floor(r() * SEEDS.length)]!);
      const m = kind < 0.4 ? 0 : 1 + Math.floor(r() * 3);
      for (let k = 0; k < m; k++) {
        const at = Math.floor(r() * req.length);
        const op = r();
        if (op < 0.5) req[at] = Math.floor(r() * 256);
        else if (op < 0.7) req.splice(at, 1);
        else if (op < 0.9) req.splice(at, 0, Math.floor(r() * 256));
        else req.length = at;
      }
      if (req.length >= 5 && r() < 0.7) {
        req[3] = ((req.length - 5) >> 8) & 0xff;
        req[4] = (req.length - 5) & 0xff;
      }
    }
    if (req.length >= 3) {
      req[1] = (i >> 8) & 0xff;
      req[2] = i & 0xff;
    }
    const bytes = Uint8Array.from(req.slice(0, remoteMtu));
    canSend = false;
    response = null;
    la.l2cap_request_can_send_now_event(cid);
    p.until(() => canSend, 'can send');
    assert.is(la.l2cap_send(cid, bytes, bytes.length), 0);
    p.until(() => response !== null, `response to ${hex(bytes)}`);
    const rsp = response as unknown as Uint8Array;
    assert.ok(rsp.length <= 100, 'fits our MTU');
    assert.is(sdp_response_decode(rsp, 0, rsp.length, pdu), 'ok', hex(rsp));
    assert.is(pdu.transaction_id, bytes.length >= 3 ? i & 0xffff : 0);
    const code = pdu.pdu_id === 1 ? pdu.error_code : 0;
    if (code) assert.ok(code >= 2 && code <= 6, `error ${code}`);
    else assert.is(pdu.pdu_id, bytes[0]! + 1);
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  if (process.env.SDP_FUZZ_STATS) console.log(codes, p.rl.get_time_ms());
  for (const c of [0, 2, 3, 4, 5]) assert.ok((codes.get(c) ?? 0) > 0, `code ${c} seen ${JSON.stringify([...codes])}`);
  // still answers correctly
  response = null;
  canSend = false;
  la.l2cap_request_can_send_now_event(cid);
  p.until(() => canSend, 'can send');
  la.l2cap_send(cid, SEEDS[0]!, SEEDS[0]!.length);
  p.until(() => response !== null, 'final response');
  assert.is(hex(response as unknown as Uint8Array), '03 00 00 00 09 00 01 00 01 00 01 00 01 00');
  la.l2cap_disconnect(cid);
  p.until(() => server.channels_in_use === 0, 'closed');
  server.sdp_deinit();
  p.finish();
});

test.run();
