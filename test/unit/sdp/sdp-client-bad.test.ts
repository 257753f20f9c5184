/**
 * The SDP client against scripted servers: answers split at every octet, and every kind of bad
 * answer (wrong transaction id, wrong PDU, lying lengths, broken attribute lists, inconsistent
 * counts, over-long continuation state). Bad answers end the query with SDP_QUERY_INCOMPLETE
 * (0x81) after the client disconnects; nothing throws; the client is free afterwards.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { SdpClient } from '../../../src/sdp/client.js';
import { FakeL2cap, FakeAir, ScriptedServer, fake_stack, sdp_endpoint } from './sdp-peers.js';
import type { SdpPacketHandler } from '../../../src/sdp/sdp-stack.js';
import { SPP_RECORD } from './sdp-vectors.js';

const SERVER = sscanf_bd_addr('00:1B:DC:00:00:01')!;
const CLIENT = sscanf_bd_addr('00:1B:DC:00:00:02')!;
const PATTERN = fromHex('35 03 19 11 01');
const ALL = fromHex('35 05 0a 00 00 ff ff');

function setup() {
  const link = new FakeAir();
  const sl = sdp_endpoint(link, SERVER);
  const cl = sdp_endpoint(link, CLIENT);
  const server = new ScriptedServer(sl);
  const client = new SdpClient(fake_stack(), cl);
  const events: string[] = [];
  const handler: SdpPacketHandler = (_t, ch, p, s) => {
    assert.is(ch, 0);
    events.push(hex(p.subarray(0, s)));
  };
  return { link, sl, cl, server, client, events, handler };
}

function pdu(id: number, tid: number, params: Uint8Array): Uint8Array {
  return Uint8Array.from([id, tid >> 8, tid & 0xff, params.length >> 8, params.length & 0xff, ...params]);
}
function tidOf(req: Uint8Array): number {
  return (req[1]! << 8) | req[2]!;
}
/** A ServiceSearchAttributeResponse with these AttributeLists octets and continuation. */
function ssar(tid: number, data: Uint8Array, cont: Uint8Array = Uint8Array.of(0)): Uint8Array {
  return pdu(0x07, tid, Uint8Array.from([data.length >> 8, data.length & 0xff, ...data, ...cont]));
}

/** The answer to a search for the SPP record: DES { record } = 35 5f + 95 octets. */
const ANSWER = Uint8Array.from([0x35, 0x5f, ...SPP_RECORD]);

function run(respond: (req: Uint8Array, n: number) => Uint8Array[]): {
  events: string[];
  client: SdpClient;
  server: ScriptedServer;
  sl: FakeL2cap;
} {
  const s = setup();
  s.server.respond = respond;
  assert.is(s.client.sdp_client_query(s.handler, SERVER, PATTERN, ALL), 0);
  s.link.run();
  assert.ok(s.client.sdp_client_ready(), 'client free again');
  assert.is(s.sl.channels.size, 0, 'channel closed');
  return { events: s.events, client: s.client, server: s.server, sl: s.sl };
}

test('an answer split after every octet, with 1- to 16-octet continuation states, gives the events of the whole answer', () => {
  const whole = run((req) => [ssar(tidOf(req), ANSWER)]);
  assert.is(whole.events[whole.events.length - 1], '91 01 00');
  // value octets: 5 + 6 + 17 + 6 + 12 + 12 + 13 = 71, then COMPLETE
  assert.is(whole.events.length, 71 + 1);
  for (const chunk of [1, 2, 3, 5, 7, 13]) {
    for (const contLen of [1, 16]) {
      const r = run((req) => {
        // our continuation state: [contLen, offset, 0xee padding]; the first request ends with 00
        const off = req[req.length - 1] === 0 ? 0 : req[req.length - contLen]!;
        const part = ANSWER.subarray(off, off + chunk);
        const next = off + part.length;
        const cont =
          next < ANSWER.length ? Uint8Array.from([contLen, next, ...new Array(contLen - 1).fill(0xee)]) : Uint8Array.of(0);
        return [ssar(tidOf(req), part, cont)];
      });
      assert.equal(r.events, whole.events, `chunks of ${chunk}, continuation of ${contLen}`);
      // the client echoed the continuation state exactly
      const reqs = r.server.requests;
      assert.is(reqs.length, Math.ceil(ANSWER.length / chunk));
      for (let i = 1; i < reqs.length; i++) {
        const q = reqs[i]!;
        assert.is(
          hex(q.subarray(q.length - 1 - contLen)),
          hex(Uint8Array.from([contLen, i * chunk, ...new Array(contLen - 1).fill(0xee)])),
        );
        assert.is(tidOf(q), i + 1, 'transaction ids count up');
      }
    }
  }
});

test('a response with another transaction id is ignored; the right one is then accepted', () => {
  const r = run((req) => [ssar(tidOf(req) + 1, fromHex('35 00')), ssar(tidOf(req), fromHex('35 00'))]);
  assert.equal(r.events, ['91 01 00']);
});

test('an empty answer: only SDP_EVENT_QUERY_COMPLETE with status 0', () => {
  assert.equal(run((req) => [ssar(tidOf(req), fromHex('35 00'))]).events, ['91 01 00']);
  assert.equal(run((req) => [ssar(tidOf(req), fromHex('36 00 00'))]).events, ['91 01 00']);
  // an empty record list inside
  assert.equal(run((req) => [ssar(tidOf(req), fromHex('35 02 35 00'))]).events, ['91 01 00']);
});

const BAD: Array<[string, (req: Uint8Array) => Uint8Array[]]> = [
  ['ErrorResponse', (q) => [pdu(0x01, tidOf(q), fromHex('00 03'))]],
  ['ServiceSearchResponse to a search-attribute request', (q) => [pdu(0x03, tidOf(q), fromHex('00 00 00 00 00'))]],
  ['unknown PDU 0x42', (q) => [pdu(0x42, tidOf(q), fromHex('00'))]],
  ['ParameterLength one too long', (q) => [Uint8Array.from([0x07, q[1]!, q[2]!, 0x00, 0x06, 0x00, 0x02, 0x35, 0x00, 0x00])]],
  ['ParameterLength one too short', (q) => [Uint8Array.from([0x07, q[1]!, q[2]!, 0x00, 0x04, 0x00, 0x02, 0x35, 0x00, 0x00])]],
  ['byte count beyond the PDU', (q) => [pdu(0x07, tidOf(q), fromHex('00 09 35 00 00'))]],
  [
    'more octets than MaximumAttributeByteCount',
    (q) => [ssar(tidOf(q), Uint8Array.from([0x36, 0x06, 0x81, ...new Array(0x681).fill(0)]))],
  ],
  ['AttributeLists not a DES', (q) => [ssar(tidOf(q), fromHex('09 00 01'))]],
  ['AttributeLists is a DEA', (q) => [ssar(tidOf(q), fromHex('3d 00'))]],
  ['reserved type', (q) => [ssar(tidOf(q), fromHex('f8'))]],
  ['record longer than the list', (q) => [ssar(tidOf(q), fromHex('35 04 35 05 09 00 00 08 01'))]],
  ['record not a DES', (q) => [ssar(tidOf(q), fromHex('35 02 08 01'))]],
  ['attribute id as uint8', (q) => [ssar(tidOf(q), fromHex('35 05 35 03 08 00 08'))]],
  ['attribute id as uint32', (q) => [ssar(tidOf(q), fromHex('35 08 35 06 0a 00 00 00 00 08'))]],
  ['attribute id without a value', (q) => [ssar(tidOf(q), fromHex('35 05 35 03 09 00 01'))]],
  ['value longer than its record', (q) => [ssar(tidOf(q), fromHex('35 08 35 06 09 00 01 25 05 41'))]],
  [
    'value with an invalid size index (UUID of 8 octets)',
    (q) => [ssar(tidOf(q), fromHex('35 0e 35 0c 09 00 01 1b 00 00 00 00 00 00 00 00'))],
  ],
  ['octets after the list', (q) => [ssar(tidOf(q), fromHex('35 00 00'))]],
  ['answer ends before the list does', (q) => [ssar(tidOf(q), fromHex('35 05 35 03 09 00'))]],
  ['continuation state of 17 octets', (q) => [ssar(tidOf(q), fromHex('35 00'), Uint8Array.from([17, ...new Array(17).fill(1)]))]],
  ['continuation InfoLength beyond the PDU', (q) => [ssar(tidOf(q), fromHex('35 03'), fromHex('04 01'))]],
];

for (const [name, respond] of BAD) {
  test(`bad answer: ${name} -> SDP_QUERY_INCOMPLETE`, () => {
    const r = run(respond);
    assert.is(r.events[r.events.length - 1], '91 01 81');
    assert.ok(
      r.events.slice(0, -1).every((e) => e.startsWith('94 09')),
      'only attribute octets before',
    );
  });
}

test('the server never answers with data but closes the channel: SDP_QUERY_INCOMPLETE', () => {
  const s = setup();
  s.server.respond = () => {
    s.sl.l2cap_disconnect(s.server.cid);
    return [];
  };
  s.client.sdp_client_query(s.handler, SERVER, PATTERN, ALL);
  s.link.run();
  assert.equal(s.events, ['91 01 81']);
});

test('ServiceSearchResponse: counts that do not add up -> SDP_QUERY_INCOMPLETE', () => {
  const cases: Array<[string, (q: Uint8Array, n: number) => Uint8Array[]]> = [
    ['current > total', (q) => [pdu(0x03, tidOf(q), fromHex('00 01 00 02 00 01 00 01 00 01 00 02 00'))]],
    ['handles beyond the PDU', (q) => [pdu(0x03, tidOf(q), fromHex('00 02 00 02 00 01 00 01 00'))]],
    ['fewer handles than the total, no continuation', (q) => [pdu(0x03, tidOf(q), fromHex('00 02 00 01 00 01 00 01 00'))]],
    [
      'total changes between responses',
      (q, n) => [
        n === 1
          ? pdu(0x03, tidOf(q), fromHex('00 03 00 01 00 01 00 01 01 07'))
          : pdu(0x03, tidOf(q), fromHex('00 04 00 01 00 01 00 02 00')),
      ],
    ],
  ];
  for (const [name, respond] of cases) {
    const s = setup();
    s.server.respond = respond;
    s.client.sdp_client_service_search(s.handler, SERVER, PATTERN);
    s.link.run();
    assert.is(s.events[s.events.length - 1], '91 01 81', name);
    assert.ok(s.client.sdp_client_ready());
  }
  // and a good one split over two responses
  const s = setup();
  s.server.respond = (q, n) => [
    n === 1
      ? pdu(0x03, tidOf(q), fromHex('00 02 00 01 00 01 00 01 01 07'))
      : pdu(0x03, tidOf(q), fromHex('00 02 00 01 00 01 00 02 00')),
  ];
  s.client.sdp_client_service_search(s.handler, SERVER, PATTERN);
  s.link.run();
  assert.equal(s.events, ['95 08 02 00 01 00 01 00 01 00', '95 08 02 00 02 00 02 00 01 00', '91 01 00']);
  assert.is(hex(s.server.requests[1]!), '02 00 02 00 09 35 03 19 11 01 ff ff 01 07');
});

test.run();
