/**
 * SDP client fuzz at a live stack: stack b has no SDP server; a raw L2CAP service on PSM 1
 * answers stack a's sdp_client_* queries (all seven kinds) over the virtual controller with
 * correct answers split at random points (random continuation tokens of 1-16 octets), mutated
 * answers, random bytes, ErrorResponses, a wrong transaction id, the wrong response type, two
 * answers to one request, no answer, a channel closed mid-answer or refused: at least
 * 100,000 responses in all (seeded; SDP_CLIENT_FUZZ_N changes the count).
 *
 * Checked for every query: nothing throws; it ends with exactly one SDP_EVENT_QUERY_COMPLETE,
 * last, with status 0, SDP_QUERY_INCOMPLETE or (refused channel) the L2CAP result, and the
 * client is free again; every event before it has the shape of its code; an untouched answer
 * gives status 0 and the events worked out by hand (attribute bytes counted from the records,
 * the RFCOMM channel and name, every record handle); the client always echoes the continuation
 * state it was given; it is left waiting only when the last answer did not carry the request's
 * transaction id (or there was none), and then the responder closing the channel ends the query.
 * At the end both stacks' pools are full.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADDR_B, makePair } from './l2cap-helpers.js';
import { hex } from '../../src/core/bytes.js';
import { L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_RESOURCES, SDP_QUERY_INCOMPLETE } from '../../src/codes/v1.4.js';
import { OPP_RECORD, SPP_RECORD } from '../unit/sdp/sdp-vectors.js';

const TARGET = Number(process.env.SDP_CLIENT_FUZZ_N ?? 100_000);

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

/** ServiceSearchAttributeResponse payload: DES { SPP record (95 octets), OPP record (38) } = 135 octets. */
const LISTS = Uint8Array.from([0x35, SPP_RECORD.length + OPP_RECORD.length, ...SPP_RECORD, ...OPP_RECORD]);
/** ServiceAttributeResponse payload: the SPP record's attribute list. */
const LIST = SPP_RECORD;
/** ServiceSearchResponse payload: five record handles. */
const HANDLES = [0x00010001, 0x00010002, 0x00010003, 0x0001abcd, 0xfedcba98];

/**
 * SDP_EVENT_QUERY_ATTRIBUTE_VALUE events an untouched answer gives, counted by hand from the
 * records (one per octet of every attribute value): the SPP record's 0x0000 uint32 (5 octets),
 * 0x0001 (6), 0x0004 (17), 0x0005 (6), 0x0006 (12), 0x0009 (12), 0x0100 "SPP Counter" (13) = 71;
 * the OPP record's 0x0000 (5), 0x0001 (6), 0x0005 (6), 0x0100 "Push" (6) = 23.
 */
const SPP_VALUE_OCTETS = 5 + 6 + 17 + 6 + 12 + 12 + 13;
const OPP_VALUE_OCTETS = 5 + 6 + 6 + 6;

type Kind = 'query' | 'uuid16' | 'attribute' | 'search' | 'rfcomm' | 'rfcomm-class' | 'rfcomm128';
const KINDS: Kind[] = ['query', 'uuid16', 'attribute', 'search', 'rfcomm', 'rfcomm-class', 'rfcomm128'];
const SPP_UUID128 = Uint8Array.from([
  0x00, 0x00, 0x11, 0x01, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0x80, 0x5f, 0x9b, 0x34, 0xfb,
]);

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
  // keep the parameter length consistent most of the time, so the mutation reaches the body
  if (out.length >= 5 && r() < 0.6) {
    out[3] = ((out.length - 5) >> 8) & 0xff;
    out[4] = (out.length - 5) & 0xff;
  }
  return Uint8Array.from(out);
}

test(`fuzz: ${TARGET.toLocaleString('en')}+ random and mutated responses from a raw PSM 1 endpoint at a live SDP client`, () => {
  const p = makePair({ tag: 'sdp-client-fuzz', packet_log: false, acl_size: 128, acl_buffers: 8 });
  const { a, b } = p;
  const codes = a.stack.codes;
  const client = a.stack.sdp_client;
  const r = prng(0x5dc11e);

  // ---- the responder: a raw L2CAP service on PSM 1 of stack b
  let kind: Kind = 'query';
  let cidB = 0;
  let offset = 0; // where the next chunk of the answer starts
  let token: number[] = []; // continuation state last issued, [] for none
  let tokenTrusted = true; // false once a mutated answer may have carried another token
  let untouched = true; // every answer of this query so far was correct
  let lastTidOk = false; // the last SDU sent carried the request's transaction id (>= 3 octets)
  let closeAfter = false;
  let declineNext = false;
  let responses = 0;
  let requests = 0;
  let echoChecked = 0;
  const lb = b.stack.l2cap;
  const send = (bytes: Uint8Array, tid: number): void => {
    assert.is(lb.l2cap_send(cidB, bytes, bytes.length), 0, 'responder send');
    responses++;
    lastTidOk = bytes.length >= 3 && ((bytes[1]! << 8) | bytes[2]!) === tid;
  };
  const answer = (pduId: number, tid: number, chunk: number): Uint8Array => {
    let body: number[];
    let more: boolean;
    if (pduId === 0x02) {
      const n = Math.min(HANDLES.length - offset, Math.max(1, Math.floor(chunk / 12)));
      const hs = HANDLES.slice(offset, offset + n);
      offset += n;
      more = offset < HANDLES.length;
      body = [0, HANDLES.length, 0, n];
      for (const h of hs) body.push(h >>> 24, (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
    } else {
      const all = pduId === 0x04 ? LIST : LISTS;
      const part = all.subarray(offset, offset + chunk);
      offset += part.length;
      more = offset < all.length;
      body = [part.length >> 8, part.length & 0xff, ...part];
    }
    token = more ? Array.from({ length: 1 + Math.floor(r() * 16) }, () => Math.floor(r() * 256)) : [];
    body.push(token.length, ...token);
    return Uint8Array.from([pduId + 1, tid >> 8, tid & 0xff, body.length >> 8, body.length & 0xff, ...body]);
  };
  const onRequest = (req: Uint8Array): void => {
    requests++;
    const pduId = req[0]!;
    const tid = (req[1]! << 8) | req[2]!;
    const expectPdu = kind === 'attribute' ? 0x04 : kind === 'search' ? 0x02 : 0x06;
    assert.is(pduId, expectPdu, `request PDU for ${kind}`);
    assert.is((req[3]! << 8) | req[4]!, req.length - 5, 'request parameter length');
    // the request ends with the continuation state we gave (or none)
    const tail = Array.from(req.subarray(req.length - 1 - token.length));
    if (tokenTrusted) {
      assert.equal(tail, [token.length, ...token], 'continuation state echoed');
      echoChecked++;
    } else if (tail[0] !== token.length || tail.slice(1).some((x, i) => x !== token[i])) {
      // not our last token: the spec's answer
      send(Uint8Array.from([0x01, tid >> 8, tid & 0xff, 0, 2, 0, 5]), tid);
      untouched = false;
      return;
    }
    const x = r();
    const chunk = 1 + Math.floor(r() * 64);
    if (x < 0.72) {
      send(answer(pduId, tid, chunk), tid);
    } else if (x < 0.86) {
      const m = mutate(r, answer(pduId, tid, chunk));
      untouched = false;
      tokenTrusted = false;
      send(m, tid);
    } else if (x < 0.9) {
      untouched = false;
      const junk = Uint8Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256));
      if (junk.length >= 3 && r() < 0.7) {
        junk[1] = tid >> 8;
        junk[2] = tid & 0xff;
      }
      tokenTrusted = false;
      send(junk, tid);
    } else if (x < 0.92) {
      untouched = false;
      const code = Math.floor(r() * 8);
      send(Uint8Array.from([0x01, tid >> 8, tid & 0xff, 0, 2, 0, code]), tid);
    } else if (x < 0.935) {
      // another transaction id: the client ignores it and keeps waiting
      untouched = false;
      const other = (tid + 1 + Math.floor(r() * 0xfffe)) & 0xffff;
      send(answer(pduId, other, chunk), tid);
    } else if (x < 0.95) {
      // the wrong response type, well-formed
      untouched = false;
      const wrong = [0x02, 0x04, 0x06].filter((w) => w !== pduId)[Math.floor(r() * 2)]!;
      send(answer(wrong, tid, chunk), tid);
    } else if (x < 0.97) {
      // two answers to one request
      untouched = false;
      tokenTrusted = false;
      send(answer(pduId, tid, chunk), tid);
      send(r() < 0.5 ? answer(pduId, tid, chunk) : mutate(r, answer(pduId, tid, chunk)), tid);
    } else if (x < 0.985) {
      // no answer at all
      untouched = false;
      lastTidOk = false;
    } else {
      // part of the answer, then the channel goes down
      untouched = false;
      send(answer(pduId, tid, chunk), tid);
      closeAfter = true;
    }
    if (closeAfter) lb.l2cap_disconnect(cidB);
  };
  assert.is(
    lb.l2cap_register_service(
      (type, channel, packet, size) => {
        if (type === 6) {
          if (channel === cidB) onRequest(packet.slice(0, size));
          return;
        }
        if (packet[0] === codes.L2CAP_EVENT_INCOMING_CONNECTION) {
          const cid = b.stack.codes.l2cap_event_incoming_connection_get_local_cid(packet);
          if (declineNext) lb.l2cap_decline_connection(cid);
          else {
            cidB = cid;
            lb.l2cap_accept_connection(cid);
          }
        }
      },
      1,
      0xffff,
      0,
    ),
    0,
  );

  // ---- the queries
  const statuses = new Map<number, number>();
  const reference = new Map<Kind, string[]>();
  let queries = 0;
  let stuck = 0;
  let declined = 0;
  const t0 = Date.now();
  while (responses < TARGET) {
    kind = KINDS[Math.floor(r() * KINDS.length)]!;
    offset = 0;
    token = [];
    tokenTrusted = true;
    untouched = true;
    lastTidOk = false;
    closeAfter = false;
    declineNext = r() < 0.01;
    const events: Uint8Array[] = [];
    const handler = (type: number, channel: number, packet: Uint8Array, size: number): void => {
      assert.is(type, 4);
      assert.is(channel, 0);
      events.push(packet.slice(0, size));
    };
    const completes = (): number => events.filter((e) => e[0] === codes.SDP_EVENT_QUERY_COMPLETE).length;
    let st: number;
    switch (kind) {
      case 'query':
        st = client.sdp_client_query(
          handler,
          ADDR_B,
          Uint8Array.of(0x35, 3, 0x19, 0x10, 0x02),
          Uint8Array.of(0x35, 5, 0x0a, 0, 0, 0xff, 0xff),
        );
        break;
      case 'uuid16':
        st = client.sdp_client_query_uuid16(handler, ADDR_B, 0x1101);
        break;
      case 'attribute':
        st = client.sdp_client_service_attribute_search(handler, ADDR_B, 0x10001, Uint8Array.of(0x35, 5, 0x0a, 0, 0, 0xff, 0xff));
        break;
      case 'search':
        st = client.sdp_client_service_search(handler, ADDR_B, Uint8Array.of(0x35, 3, 0x19, 0x10, 0x02));
        break;
      case 'rfcomm':
        st = client.sdp_client_query_rfcomm_channel_and_name_for_uuid(handler, ADDR_B, 0x1101);
        break;
      case 'rfcomm-class':
        st = client.sdp_client_query_rfcomm_channel_and_name_for_service_class_uuid(handler, ADDR_B, 0x1101);
        break;
      case 'rfcomm128':
        st = client.sdp_client_query_rfcomm_channel_and_name_for_uuid128(handler, ADDR_B, SPP_UUID128);
        break;
    }
    assert.is(st, 0, `${kind} query started`);
    queries++;
    if (!p.rl.run_until(() => completes() > 0, 10_000)) {
      // left waiting: only when the last SDU did not carry the request's transaction id
      assert.not.ok(lastTidOk, `${kind}: the client waits although the last answer carried the request's transaction id`);
      stuck++;
      lb.l2cap_disconnect(cidB);
      p.until(() => completes() > 0, `${kind}: the query ends once the responder closes the channel`);
    }
    // let the channel finish closing before the next query
    p.until(
      () => client.sdp_client_ready() && lb.l2cap_get_channels().length === 0 && a.stack.l2cap.l2cap_get_channels().length === 0,
      'channel closed on both sides',
    );
    assert.is(completes(), 1, 'exactly one SDP_EVENT_QUERY_COMPLETE');
    const last = events[events.length - 1]!;
    assert.is(last[0], codes.SDP_EVENT_QUERY_COMPLETE, 'COMPLETE comes last');
    assert.is(last.length, 3);
    const status = codes.sdp_event_query_complete_get_status(last);
    if (declineNext) {
      declined++;
      assert.is(status, L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_RESOURCES, 'refused channel: the L2CAP result');
      assert.is(events.length, 1);
    } else {
      assert.ok(status === 0 || status === SDP_QUERY_INCOMPLETE, `${kind}: status 0x${status.toString(16)}`);
    }
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    for (const e of events.slice(0, -1)) {
      switch (e[0]) {
        case codes.SDP_EVENT_QUERY_ATTRIBUTE_VALUE:
          assert.ok(kind === 'query' || kind === 'uuid16' || kind === 'attribute', `attribute event in a ${kind} query`);
          assert.is(e.length, 11);
          assert.is(e[1], 9);
          assert.ok(
            codes.sdp_event_query_attribute_byte_get_data_offset(e) <
              codes.sdp_event_query_attribute_byte_get_attribute_length(e),
          );
          break;
        case codes.SDP_EVENT_QUERY_SERVICE_RECORD_HANDLE: {
          assert.is(kind, 'search');
          assert.is(e.length, 10);
          const total = codes.sdp_event_query_service_record_handle_get_total_count(e);
          const index = codes.sdp_event_query_service_record_handle_get_record_index(e);
          assert.ok(index >= 1 && index <= total, `record ${index} of ${total}`);
          break;
        }
        case codes.SDP_EVENT_QUERY_RFCOMM_SERVICE: {
          assert.ok(kind.startsWith('rfcomm'), `RFCOMM event in a ${kind} query`);
          assert.is(e.length, 2 + e[1]!);
          const ch = codes.sdp_event_query_rfcomm_service_get_rfcomm_channel(e);
          assert.ok(ch >= 1 && ch <= 255);
          assert.ok(e.length <= 2 + 1 + 20 + 1, 'name at most 20 octets + NUL');
          assert.is(e[e.length - 1], 0, 'name NUL-terminated');
          break;
        }
        default:
          assert.unreachable(`unexpected event 0x${e[0]!.toString(16)} in a ${kind} query`);
      }
    }
    if (untouched && !declineNext) {
      assert.is(status, 0, `${kind}: an untouched answer completes with 0`);
      const seq = events.map((e) => hex(e));
      const ref = reference.get(kind);
      if (ref) assert.equal(seq, ref, `${kind}: same events for every split of the answer`);
      else {
        reference.set(kind, seq);
        // the events worked out by hand
        if (kind === 'query' || kind === 'uuid16') assert.is(seq.length, SPP_VALUE_OCTETS + OPP_VALUE_OCTETS + 1);
        else if (kind === 'attribute') assert.is(seq.length, SPP_VALUE_OCTETS + 1);
        else if (kind === 'search') {
          const le16 = (v: number): string => hex(Uint8Array.of(v & 0xff, v >> 8));
          const le32 = (v: number): string => hex(Uint8Array.of(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24));
          assert.equal(seq, [...HANDLES.map((h, i) => `95 08 ${le16(5)} ${le16(i + 1)} ${le32(h)}`), '91 01 00']);
        } else {
          // RFCOMM channel 1, "SPP Counter"; the OPP record has no RFCOMM channel (v1.4 length byte: name length + 1, as BTstack)
          assert.equal(seq, ['92 0d 01 53 50 50 20 43 6f 75 6e 74 65 72 00', '91 01 00']);
        }
      }
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  if (process.env.SDP_FUZZ_STATS)
    console.log({ responses, requests, queries, stuck, declined, echoChecked, statuses: [...statuses], seconds });
  assert.ok(responses >= TARGET);
  assert.is(reference.size, KINDS.length, 'every kind of query completed untouched at least once');
  assert.ok(
    (statuses.get(0) ?? 0) > queries / 10 && (statuses.get(SDP_QUERY_INCOMPLETE) ?? 0) > queries / 10,
    JSON.stringify([...statuses]),
  );
  assert.ok(stuck > 0 && declined > 0, `stuck ${stuck}, declined ${declined}`);
  assert.ok(echoChecked > requests / 2, 'continuation echo checked on most requests');
  lb.l2cap_unregister_service(1);
  p.finish();
});

test.run();
