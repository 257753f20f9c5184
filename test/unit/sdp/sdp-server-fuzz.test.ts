/**
 * Fuzz: 120,000 random, generated and mutated requests at a live SDP server (on the fake L2CAP
 * link), seeded and bounded. Every request gets exactly one response that fits the peer's MTU,
 * decodes, echoes the transaction id and is either the matching response PDU or an ErrorResponse
 * with a defined code. Genuine continuations always reassemble to exactly the one-shot answer,
 * while replayed and forged continuation states always get 0x0005: no octet outside the answer
 * the current request defines ever leaves the server.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { SdpServer } from '../../../src/sdp/server.js';
import { SdpPdu, sdp_response_decode } from '../../../src/sdp/pdu.js';
import { spp_create_custom_sdp_record, spp_create_sdp_record } from '../../../src/sdp/spp.js';
import { de, de_encode_to_bytes, sdp_create_record } from '../../../src/sdp/data-element.js';
import { FakeL2cap, FakeAir, RawPeer, fake_stack, sdp_endpoint } from './sdp-peers.js';
import { OPP_RECORD, SPP_RECORD } from './sdp-vectors.js';

const SERVER = sscanf_bd_addr('00:1B:DC:00:00:01')!;
const CLIENT = sscanf_bd_addr('00:1B:DC:00:00:02')!;
const ITERATIONS = 120_000;

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

const UUIDS = [0x1101, 0x1002, 0x1105, 0x0100, 0x0003, 0x1234, 0x1200];

function setup() {
  const link = new FakeAir();
  const sl = sdp_endpoint(link, SERVER);
  const cl = sdp_endpoint(link, CLIENT);
  cl.max_mtu = 0xffff;
  const stack = fake_stack('v1.4', { MAX_NR_SERVICE_RECORD_ITEMS: 8 });
  const server = new SdpServer(stack, sl);
  server.sdp_init();
  const buf = new Uint8Array(300);
  assert.is(server.sdp_register_service(SPP_RECORD), 0);
  assert.is(server.sdp_register_service(OPP_RECORD), 0);
  spp_create_sdp_record(buf, 0x10003, 5, 'Serial Port Two');
  assert.is(server.sdp_register_service(buf), 0);
  spp_create_custom_sdp_record(
    buf,
    0x10004,
    Uint8Array.from({ length: 16 }, (_, i) => i * 17),
    9,
    'Custom',
  );
  assert.is(server.sdp_register_service(buf), 0);
  // a large record (about 700 octets) so that most answers need continuation
  const big = new Uint8Array(1000);
  const n = sdp_create_record(big, 0, [
    [0x0000, de.uint32(0x10005)],
    [0x0001, de.des(de.uuid16(0x1200))],
    [0x0005, de.des(de.uuid16(0x1002))],
    [0x0200, de.text('x'.repeat(300))],
    [0x0201, de.des(...Array.from({ length: 60 }, (_, i) => de.uint32(i * 0x01010101)))],
    [0x0300, de.uuid128('00001101-0000-1000-8000-00805f9b34fb')],
  ]);
  assert.ok(n > 600);
  assert.is(server.sdp_register_service(big.subarray(0, n)), 0);
  const small = new RawPeer(cl);
  small.connect(SERVER, 1, 48);
  const large = new RawPeer(cl);
  large.connect(SERVER, 1, 0xffff);
  return { link, server, stack, small, large, cl };
}

interface Req {
  id: number;
  /** Parameters before the continuation state. */
  params: Uint8Array;
}

function u16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}

function genRequest(r: () => number): Req {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const nUuid = 1 + Math.floor(r() * 3);
  const uuids = Array.from({ length: nUuid }, () => {
    const u = pick(UUIDS);
    const form = r();
    return form < 0.6
      ? de.uuid16(u)
      : form < 0.8
        ? de.uuid32(u)
        : de.uuid128(`0000${u.toString(16).padStart(4, '0')}-0000-1000-8000-00805f9b34fb`);
  });
  const pattern = de_encode_to_bytes(de.des(...uuids));
  const nIds = 1 + Math.floor(r() * 3);
  const ids = Array.from({ length: nIds }, () => {
    if (r() < 0.5) return de.uint16(pick([0, 1, 4, 5, 6, 9, 0x100, 0x200, 0x201, 0x300]));
    const a = Math.floor(r() * 0x400);
    return de.uint32(a * 0x10000 + Math.min(0xffff, a + Math.floor(r() * 0x10000)));
  });
  const list = de_encode_to_bytes(de.des(...ids));
  const maxBytes = r() < 0.5 ? 7 + Math.floor(r() * 60) : 0xffff;
  const kind = r();
  if (kind < 0.3) return { id: 0x02, params: Uint8Array.from([...pattern, ...u16(1 + Math.floor(r() * 8))]) };
  if (kind < 0.6) {
    const handle = r() < 0.9 ? 0x10001 + Math.floor(r() * 5) : Math.floor(r() * 0x30000);
    return {
      id: 0x04,
      params: Uint8Array.from([
        handle >>> 24,
        (handle >> 16) & 0xff,
        (handle >> 8) & 0xff,
        handle & 0xff,
        ...u16(maxBytes),
        ...list,
      ]),
    };
  }
  return { id: 0x06, params: Uint8Array.from([...pattern, ...u16(maxBytes), ...list]) };
}

function encode(req: Req, tid: number, cont: Uint8Array): Uint8Array {
  const n = req.params.length + 1 + cont.length;
  return Uint8Array.from([req.id, tid >> 8, tid & 0xff, n >> 8, n & 0xff, ...req.params, cont.length, ...cont]);
}

function mutate(r: () => number, b: Uint8Array, fixLength = true): Uint8Array {
  const out = Array.from(b);
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const op = r();
    const at = Math.floor(r() * (out.length + 1));
    if (op < 0.4 && out.length) out[Math.min(at, out.length - 1)] = Math.floor(r() * 256);
    else if (op < 0.55) out.splice(at, 1);
    else if (op < 0.7) out.splice(at, 0, Math.floor(r() * 256));
    else if (op < 0.8) out.length = Math.floor(r() * out.length);
    else if (op < 0.9 && out.length > 4) {
      // lie in the parameter length
      const v = Math.floor(r() * 0x10000);
      out[3] = v >> 8;
      out[4] = v & 0xff;
    } else out.push(...Array.from({ length: Math.floor(r() * 20) }, () => Math.floor(r() * 256)));
  }
  // mostly keep the header consistent so that the parameters get parsed
  if (fixLength && out.length >= 5 && r() < 0.7) {
    out[3] = ((out.length - 5) >> 8) & 0xff;
    out[4] = (out.length - 5) & 0xff;
  }
  return Uint8Array.from(out);
}

const pdu = new SdpPdu();

/** Check a response's structure; returns it decoded (pdu) and its error code (0 if none). */
function check(req: Uint8Array, rsp: Uint8Array | null, mtu: number): number {
  assert.ok(rsp, 'a response for every request');
  assert.ok(rsp!.length <= mtu, `response ${rsp!.length} > MTU ${mtu}`);
  const st = sdp_response_decode(rsp!, 0, rsp!.length, pdu);
  assert.is(st, 'ok', `response decodes: ${hex(rsp!)}`);
  const tid = req.length >= 3 ? (req[1]! << 8) | req[2]! : 0;
  assert.is(pdu.transaction_id, tid, 'transaction id');
  if (pdu.pdu_id === 0x01) {
    assert.ok(pdu.error_code >= 2 && pdu.error_code <= 6, `error code ${pdu.error_code}`);
    assert.is(pdu.error_info_len, 0);
    return pdu.error_code;
  }
  assert.is(pdu.pdu_id, req[0]! + 1, 'response to the request type');
  if (pdu.continuation_len) assert.is(pdu.continuation_len, 8);
  return 0;
}

/** The one-shot answer (large MTU, byte count 0xffff) of a request type 0x04/0x06, or the full handle list of 0x02. */
function oneShot(peer: RawPeer, req: Req): string | null {
  const params = Uint8Array.from(req.params);
  if (req.id === 0x02) return null;
  // MaximumAttributeByteCount sits right after the handle (0x04) or the pattern (0x06, a DES 35 len)
  const maxPos = req.id === 0x04 ? 4 : 2 + params[1]!;
  params[maxPos] = 0xff;
  params[maxPos + 1] = 0xff;
  const rsp = peer.request(encode({ id: req.id, params }, 0x7777, new Uint8Array(0)))!;
  const st = sdp_response_decode(rsp, 0, rsp.length, pdu);
  assert.is(st, 'ok');
  if (pdu.pdu_id === 0x01) return `error ${pdu.error_code}`;
  assert.is(pdu.continuation_len, 0, 'one-shot answers fit 64K');
  return hex(rsp.subarray(pdu.attribute_bytes_pos, pdu.attribute_bytes_pos + pdu.attribute_bytes_count));
}

test(`fuzz: ${ITERATIONS} random / generated / mutated requests, genuine continuations reassemble, others are refused`, () => {
  const { server, stack, small, large, link, cl } = setup();
  const r = prng(0x5d9c0001);
  const seen = {
    random: 0,
    generated: 0,
    mutated: 0,
    errors: new Map<number, number>(),
    continued: 0,
    reassembled: 0,
    refusedTokens: 0,
  };
  const oldTokens: Uint8Array[] = [];
  let tid = 1;
  for (let i = 0; i < ITERATIONS;) {
    const peer = r() < 0.5 ? small : large;
    const mtu = peer === small ? 48 : 0xffff;
    const kind = r();
    if (kind < 0.2) {
      const b = Uint8Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256));
      const e = check(b, peer.request(b), mtu);
      seen.errors.set(e, (seen.errors.get(e) ?? 0) + 1);
      seen.random++;
      i++;
      continue;
    }
    const req = genRequest(r);
    if (kind < 0.55) {
      const b = mutate(r, encode(req, tid++ & 0xffff, new Uint8Array(0)));
      const e = check(b, peer.request(b), mtu);
      seen.errors.set(e, (seen.errors.get(e) ?? 0) + 1);
      seen.mutated++;
      i++;
      continue;
    }
    // a generated request, followed through its continuations; sometimes interrupted by a bad token
    let cont = new Uint8Array(0);
    const parts: string[] = [];
    for (let k = 0; k < 400; k++) {
      const b = encode(req, tid++ & 0xffff, cont);
      const rsp = peer.request(b);
      const e = check(b, rsp, mtu);
      i++;
      seen.generated++;
      if (e) {
        assert.is(k, 0, 'a genuine continuation is never refused');
        seen.errors.set(e, (seen.errors.get(e) ?? 0) + 1);
        break;
      }
      if (req.id === 0x02) parts.push(hex(rsp!.subarray(9, 9 + 4 * pdu.current_record_count)));
      else parts.push(hex(rsp!.subarray(pdu.attribute_bytes_pos, pdu.attribute_bytes_pos + pdu.attribute_bytes_count)));
      if (!pdu.continuation_len) {
        if (k > 0) seen.reassembled++;
        if (req.id !== 0x02)
          assert.is(parts.filter((p) => p).join(' '), oneShot(large, req) ?? '', 'continued answer == one-shot answer');
        break;
      }
      seen.continued++;
      if (cont.length) oldTokens.push(cont);
      if (oldTokens.length > 50) oldTokens.shift();
      cont = rsp!.slice(pdu.continuation_pos, pdu.continuation_pos + 8);
      const trick = r();
      if (trick < 0.05 && oldTokens.length) {
        // a replayed token (used before on this or the other channel), or a forged one
        const bad = trick < 0.025 ? oldTokens[Math.floor(r() * oldTokens.length)]! : mutate(r, cont, false).subarray(0, 16);
        if (bad.length === 0 || hex(bad) === hex(cont)) continue;
        const b2 = encode(req, tid++ & 0xffff, bad);
        const e2 = check(b2, peer.request(b2), mtu);
        i++;
        assert.is(e2, 0x0005, `token ${hex(bad)} refused`);
        seen.errors.set(e2, (seen.errors.get(e2) ?? 0) + 1);
        seen.refusedTokens++;
        break; // the continuation is over
      }
    }
  }
  if (process.env.SDP_FUZZ_STATS) console.log(seen);
  // every error code the server uses occurred, and nothing else
  for (const code of seen.errors.keys()) assert.ok([0, 2, 3, 4, 5].includes(code), `code ${code}`);
  for (const code of [0, 2, 3, 4, 5]) assert.ok((seen.errors.get(code) ?? 0) > 0, `error ${code} exercised`);
  assert.ok(seen.reassembled > 1000, `reassembled ${seen.reassembled}`);
  assert.ok(seen.refusedTokens > 100, `refused tokens ${seen.refusedTokens}`);
  // the server is still well: a known request gets the known answer, and everything goes back to its pool
  assert.is(
    hex(large.request(Uint8Array.from([0x02, 0, 1, 0, 8, 0x35, 3, 0x19, 0x11, 0x05, 0, 10, 0]))!),
    '03 00 01 00 09 00 01 00 01 00 01 00 02 00',
  );
  cl.l2cap_disconnect(small.cid);
  cl.l2cap_disconnect(large.cid);
  link.run();
  server.sdp_deinit();
  assert.ok(stack.pools.all_free());
});

test.run();
