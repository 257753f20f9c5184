/**
 * Fuzz: 100,000+ random and mutated response PDUs at the SDP client (seeded, bounded). Every
 * query ends with exactly one SDP_EVENT_QUERY_COMPLETE (0 or SDP_QUERY_INCOMPLETE), attribute
 * events are self-consistent, nothing throws, the client is free again; unmutated answers split
 * at random points give exactly the events of the whole answer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { SdpClient } from '../../../src/sdp/client.js';
import * as v14 from '../../../src/codes/v1.4.js';
import { FakeL2cap, FakeAir, ScriptedServer, fake_stack, sdp_endpoint } from './sdp-peers.js';
import type { SdpPacketHandler } from '../../../src/sdp/sdp-stack.js';
import { OPP_RECORD, SPP_RECORD } from './sdp-vectors.js';

const SERVER = sscanf_bd_addr('00:1B:DC:00:00:01')!;
const CLIENT = sscanf_bd_addr('00:1B:DC:00:00:02')!;
const TARGET_PDUS = 100_000;

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

/** DES { SPP record, OPP record }: 2 + 95 + 38 = 135 octets. */
const ANSWER = Uint8Array.from([0x35, 95 + 38, ...SPP_RECORD, ...OPP_RECORD]);

function mutate(r: () => number, b: Uint8Array): Uint8Array {
  const out = Array.from(b);
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const op = r();
    const at = Math.floor(r() * Math.max(1, out.length));
    if (op < 0.5 && out.length) out[at] = Math.floor(r() * 256);
    else if (op < 0.65) out.splice(at, 1);
    else if (op < 0.8) out.splice(at, 0, Math.floor(r() * 256));
    else if (op < 0.9) out.length = Math.floor(r() * out.length);
    else out.push(...Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)));
  }
  if (out.length >= 5 && r() < 0.6) {
    out[3] = ((out.length - 5) >> 8) & 0xff;
    out[4] = (out.length - 5) & 0xff;
  }
  return Uint8Array.from(out);
}

test(`fuzz: ${TARGET_PDUS}+ random and mutated responses at the SDP client`, () => {
  const link = new FakeAir();
  const sl = sdp_endpoint(link, SERVER);
  const cl = sdp_endpoint(link, CLIENT);
  const server = new ScriptedServer(sl);
  const stack = fake_stack();
  const client = new SdpClient(stack, cl);
  const r = prng(0xc11e7);
  let reference: string[] | null = null;
  let pdus = 0;
  let queries = 0;
  let stuck = 0;
  const statuses = new Map<number, number>();
  while (pdus < TARGET_PDUS) {
    const events: Uint8Array[] = [];
    const handler: SdpPacketHandler = (_t, ch, p, s) => {
      assert.is(ch, 0);
      events.push(p.slice(0, s));
    };
    const chunk = 1 + Math.floor(r() * 60);
    const mutating = queries > 0 && r() < 0.8;
    const random = mutating && r() < 0.2;
    server.respond = (q) => {
      pdus++;
      const tid = (q[1]! << 8) | q[2]!;
      if (random) return [Uint8Array.from({ length: Math.floor(r() * 30) }, () => Math.floor(r() * 256))];
      const c = q[q.length - 2] === 1 ? q[q.length - 1]! : 0; // our 1-octet continuation = offset
      const part = ANSWER.subarray(c, c + chunk);
      const next = c + part.length;
      const cont = next < ANSWER.length ? [1, next] : [0];
      let rsp: Uint8Array = Uint8Array.from([
        0x07,
        tid >> 8,
        tid & 0xff,
        0,
        2 + part.length + cont.length,
        0,
        part.length,
        ...part,
        ...cont,
      ]);
      if (mutating && r() < 0.3) rsp = mutate(r, rsp);
      return [rsp];
    };
    assert.is(
      client.sdp_client_query(
        handler,
        SERVER,
        Uint8Array.of(0x35, 3, 0x19, 0x10, 0x02),
        Uint8Array.of(0x35, 5, 0x0a, 0, 0, 0xff, 0xff),
      ),
      0,
    );
    link.run(100_000);
    queries++;
    if (!client.sdp_client_ready()) {
      // an answer with another transaction id is ignored and the client keeps waiting (as BTstack):
      // the server side then gives up and closes the channel
      assert.ok(mutating, 'only a mutated answer leaves the client waiting');
      stuck++;
      sl.l2cap_disconnect(server.cid);
      link.run();
    }
    assert.ok(client.sdp_client_ready(), 'free after every query');
    const completes = events.filter((e) => e[0] === 0x91);
    assert.is(completes.length, 1, 'exactly one COMPLETE');
    assert.is(events[events.length - 1]![0], 0x91, 'COMPLETE last');
    const status = v14.sdp_event_query_complete_get_status(completes[0]!);
    assert.ok(status === 0 || status === v14.SDP_QUERY_INCOMPLETE, `status ${status}`);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    for (const e of events.slice(0, -1)) {
      assert.is(e[0], 0x94);
      assert.is(e.length, 11);
      assert.ok(
        v14.sdp_event_query_attribute_byte_get_data_offset(e) < v14.sdp_event_query_attribute_byte_get_attribute_length(e),
      );
    }
    const seq = events.map((e) => hex(e));
    if (!mutating) {
      if (!reference) reference = seq;
      assert.equal(seq, reference, 'an unmutated answer in any split gives the same events');
      assert.is(status, 0);
    }
  }
  // 71 value octets in the SPP record + 5 + 6 + 6 + 6 in the OPP record + COMPLETE
  assert.is(reference?.length, 95);
  assert.ok((statuses.get(0) ?? 0) > 100 && (statuses.get(0x81) ?? 0) > 100, JSON.stringify([...statuses]));
  if (process.env.SDP_FUZZ_STATS) console.log({ pdus, queries, stuck, statuses });
  assert.ok(stack.pools.all_free());
  assert.is(sl.channels.size + cl.channels.size, 0, 'every channel closed');
});

test.run();
