/**
 * SDP server on a fake L2CAP channel: exact response bytes for requests worked out from the
 * Core spec (Vol 3 Part B 4.5-4.7), continuation across small MTUs and byte counts, every error
 * response, and the continuation-state checks that make a CVE-2017-1000250 style leak impossible.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { SdpServer } from '../../../src/sdp/server.js';
import {
  BTSTACK_MEMORY_ALLOC_FAILED,
  SDP_HANDLE_ALREADY_REGISTERED,
  SDP_HANDLE_INVALID,
  L2CAP_SERVICE_ALREADY_REGISTERED,
} from '../../../src/codes/v1.4.js';
import { FakeL2cap, FakeAir, RawPeer, fake_stack, sdp_endpoint } from './sdp-peers.js';
import { OPP_RECORD, SPP_RECORD } from './sdp-vectors.js';

const SERVER = sscanf_bd_addr('00:1B:DC:00:00:01')!;
const CLIENT = sscanf_bd_addr('00:1B:DC:00:00:02')!;

function setup(config = {}, peerMtu = 672) {
  const link = new FakeAir();
  const sl = sdp_endpoint(link, SERVER);
  const cl = sdp_endpoint(link, CLIENT);
  const stack = fake_stack('v1.4', config);
  const server = new SdpServer(stack, sl);
  assert.is(server.sdp_init(), 0);
  const peer = new RawPeer(cl);
  peer.connect(SERVER, 1, peerMtu);
  assert.ok(peer.cid > 0, 'channel opened');
  return { link, sl, cl, stack, server, peer };
}

function ask(peer: RawPeer, req: string): string {
  const r = peer.request(fromHex(req));
  assert.ok(r, 'a response');
  return hex(r!);
}

test('record length worked out by hand matches the bytes', () => {
  assert.is(SPP_RECORD.length, 95);
  assert.is(OPP_RECORD.length, 38); // 3 + 8 + 9 + 9 + 9
});

test('sdp_register_service: handles, statuses, pool exhaustion, copies the record', () => {
  const { server, stack, peer, cl, link } = setup({ MAX_NR_SERVICE_RECORD_ITEMS: 2 });
  assert.is(server.sdp_create_service_record_handle(), 0x10000);
  const rec = SPP_RECORD.slice();
  assert.is(server.sdp_register_service(rec), 0);
  assert.is(server.sdp_register_service(SPP_RECORD), SDP_HANDLE_ALREADY_REGISTERED);
  rec[10] = 0xee; // the server keeps its own copy
  assert.is(hex(server.sdp_get_record_for_handle(0x10001)!), hex(SPP_RECORD));
  assert.is(server.sdp_get_service_record_handle(SPP_RECORD), 0x10001);
  // handle 0x0000ffff is reserved; 16-bit handle element is not a ServiceRecordHandle
  assert.is(server.sdp_register_service(fromHex('36 00 08 09 00 00 0a 00 00 ff ff')), SDP_HANDLE_INVALID);
  assert.is(server.sdp_register_service(fromHex('36 00 06 09 00 00 09 00 03')), SDP_HANDLE_INVALID);
  // lying length, descending ids, odd element count
  assert.is(server.sdp_register_service(fromHex('36 00 09 09 00 00 0a 00 01 00 03')), SDP_HANDLE_INVALID);
  assert.is(server.sdp_register_service(fromHex('36 00 0d 09 00 01 08 01 09 00 00 0a 00 01 00 03')), SDP_HANDLE_INVALID);
  assert.is(server.sdp_register_service(fromHex('36 00 0b 09 00 00 0a 00 01 00 03 09 00 01')), SDP_HANDLE_INVALID);
  assert.is(server.sdp_register_service(OPP_RECORD), 0);
  assert.is(server.sdp_create_service_record_handle(), 0x10000);
  assert.is(server.sdp_register_service(fromHex('36 00 08 09 00 00 0a 00 01 00 07')), BTSTACK_MEMORY_ALLOC_FAILED);
  server.sdp_unregister_service(0x10001);
  assert.is(server.sdp_get_record_for_handle(0x10001), null);
  server.sdp_unregister_service(0x12345); // unknown: nothing happens
  assert.is(server.sdp_register_service(fromHex('36 00 08 09 00 00 0a 00 01 00 07')), 0);
  assert.throws(() => server.sdp_register_service([1, 2] as unknown as Uint8Array), TypeError);
  cl.l2cap_disconnect(peer.cid);
  link.run();
  server.sdp_deinit();
  assert.ok(stack.pools.all_free(), 'records and channels back in their pools');
});

test('sdp_init registers PSM 1 once; a second server on the same L2CAP is refused', () => {
  const link = new FakeAir();
  const sl = sdp_endpoint(link, SERVER);
  const a = new SdpServer(fake_stack(), sl);
  assert.is(a.sdp_init(), 0);
  assert.is(a.sdp_init(), 0);
  assert.is(new SdpServer(fake_stack(), sl).sdp_init(), L2CAP_SERVICE_ALREADY_REGISTERED);
  assert.throws(() => new SdpServer(fake_stack()).sdp_init(), /no L2CAP/);
});

test('ServiceSearchRequest for SerialPort: one handle', () => {
  const { server, peer } = setup();
  assert.is(server.sdp_register_service(SPP_RECORD), 0);
  assert.is(server.sdp_register_service(OPP_RECORD), 0);
  // params: pattern 35 03 19 11 01 (5), MaximumServiceRecordCount 00 0a (2), no continuation (1) = 8
  // response: Total 1, Current 1, handle 00 01 00 01, continuation 00 -> params 9
  assert.is(ask(peer, '02 00 01 00 08 35 03 19 11 01 00 0a 00'), '03 00 01 00 09 00 01 00 01 00 01 00 01 00');
  // PublicBrowseRoot is in both records: handles in registration order
  assert.is(ask(peer, '02 00 02 00 08 35 03 19 10 02 00 0a 00'), '03 00 02 00 0d 00 02 00 02 00 01 00 01 00 01 00 02 00');
  // MaximumServiceRecordCount 1 caps TotalServiceRecordCount
  assert.is(ask(peer, '02 00 03 00 08 35 03 19 10 02 00 01 00'), '03 00 03 00 09 00 01 00 01 00 01 00 01 00');
  // a UUID128 form of 0x1101 and a UUID32 form match the same record; two UUIDs must both be present
  assert.is(
    ask(peer, '02 00 04 00 16 35 11 1c 00 00 11 01 00 00 10 00 80 00 00 80 5f 9b 34 fb 00 0a 00'),
    '03 00 04 00 09 00 01 00 01 00 01 00 01 00',
  );
  assert.is(ask(peer, '02 00 05 00 0a 35 05 1a 00 00 11 01 00 0a 00'), '03 00 05 00 09 00 01 00 01 00 01 00 01 00');
  assert.is(ask(peer, '02 00 06 00 0b 35 06 19 11 01 19 01 00 00 0a 00'), '03 00 06 00 09 00 01 00 01 00 01 00 01 00');
  assert.is(ask(peer, '02 00 07 00 0b 35 06 19 11 01 19 11 05 00 0a 00'), '03 00 07 00 05 00 00 00 00 00');
});

test('ServiceAttributeRequest: one attribute, a range, nothing selected', () => {
  const { server, peer } = setup();
  assert.is(server.sdp_register_service(SPP_RECORD), 0);
  // handle 00 01 00 01, MaximumAttributeByteCount ff ff, AttributeIDList 35 03 09 00 04, cont 00 -> 12 params
  // AttributeList = 36 00 14 + the 20-octet 0x0004 pair -> 23 octets; params 2 + 23 + 1 = 26
  assert.is(
    ask(peer, '04 00 10 00 0c 00 01 00 01 ff ff 35 03 09 00 04 00'),
    '05 00 10 00 1a 00 17 36 00 14 09 00 04 36 00 0e 36 00 03 19 01 00 36 00 05 19 00 03 08 01 00',
  );
  // range 0x0005-0x0006: 9 + 15 = 24 = 0x18 octets -> list 27 = 0x1b, params 30 = 0x1e
  assert.is(
    ask(peer, '04 00 11 00 0e 00 01 00 01 ff ff 35 05 0a 00 05 00 06 00'),
    '05 00 11 00 1e 00 1b 36 00 18 09 00 05 36 00 03 19 10 02 09 00 06 36 00 09 09 65 6e 09 00 6a 09 01 00 00',
  );
  // 0x0200 is not in the record: an empty attribute list 36 00 00
  assert.is(ask(peer, '04 00 12 00 0c 00 01 00 01 ff ff 35 03 09 02 00 00'), '05 00 12 00 06 00 03 36 00 00 00');
});

test('ServiceSearchAttributeRequest: the whole SPP record, and no match', () => {
  const { server, peer } = setup();
  assert.is(server.sdp_register_service(SPP_RECORD), 0);
  // AttributeLists = 36 00 5f { 36 00 5c <92 octets> } = 98 = 0x62 octets; params 2 + 98 + 1 = 101 = 0x65
  assert.is(
    ask(peer, '06 00 20 00 0f 35 03 19 11 01 ff ff 35 05 0a 00 00 ff ff 00'),
    '07 00 20 00 65 00 62 36 00 5f ' + hex(SPP_RECORD) + ' 00',
  );
  // no record with UUID 0x1234: an empty sequence
  assert.is(ask(peer, '06 00 21 00 0f 35 03 19 12 34 ff ff 35 05 0a 00 00 ff ff 00'), '07 00 21 00 06 00 03 36 00 00 00');
  // the RFCOMM query BTstack's client sends (0x0001-0x0100 -> without the handle attribute): 92 - 8 = 84 = 0x54
  const r = ask(peer, '06 00 22 00 0f 35 03 19 11 01 ff ff 35 05 0a 00 01 01 00 00');
  assert.is(r, '07 00 22 00 5d 00 5a 36 00 57 36 00 54 ' + hex(SPP_RECORD.subarray(11)) + ' 00');
});

/** Follow continuations; returns the reassembled AttributeLists octets and the PDU count. */
function collect(
  peer: RawPeer,
  head: string,
  tail: string,
  tid0: number,
  mtu: number,
): { data: string; pdus: number; sizes: number[] } {
  let cont = '00';
  const data: number[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < 200; i++) {
    const c = fromHex(cont);
    const params = fromHex(head + ' ' + tail + ' ' + cont);
    const tid = (tid0 + i) & 0xffff;
    const req = new Uint8Array(5 + params.length);
    req[0] = 0x06;
    req[1] = tid >> 8;
    req[2] = tid & 0xff;
    req[3] = params.length >> 8;
    req[4] = params.length & 0xff;
    req.set(params, 5);
    const r = peer.request(req)!;
    assert.ok(r.length <= mtu, `response of ${r.length} octets fits the MTU ${mtu}`);
    sizes.push(r.length);
    assert.is(r[0], 0x07, 'ServiceSearchAttributeResponse');
    assert.is((r[1]! << 8) | r[2]!, tid, 'transaction id echoed');
    const count = (r[5]! << 8) | r[6]!;
    for (let k = 0; k < count; k++) data.push(r[7 + k]!);
    const clen = r[7 + count]!;
    assert.is(((r[3]! << 8) | r[4]!) + 5, r.length, 'parameter length');
    if (clen === 0) return { data: hex(Uint8Array.from(data)), pdus: i + 1, sizes };
    assert.ok(c.length === 1 || clen <= 16);
    cont = hex(r.subarray(7 + count, 7 + count + 1 + clen));
  }
  throw new Error('no end');
}

test('continuation: MTU 48 splits the 98-octet answer into 32 + 32 + 34 octets', () => {
  const { server, peer } = setup({}, 48);
  assert.is(server.sdp_register_service(SPP_RECORD), 0);
  const { data, pdus, sizes } = collect(peer, '35 03 19 11 01 ff ff', '35 05 0a 00 00 ff ff', 0x100, 48);
  assert.is(data, '36 00 5f ' + hex(SPP_RECORD));
  assert.is(pdus, 3);
  // 5 header + 2 count + 32 + 1 + 8 token = 48; last: 5 + 2 + 34 + 1 = 42
  assert.equal(sizes, [48, 48, 42]);
});

test('continuation: MaximumAttributeByteCount 7 gives 7 octets per response (14 PDUs)', () => {
  const { server, peer } = setup();
  assert.is(server.sdp_register_service(SPP_RECORD), 0);
  const { data, pdus, sizes } = collect(peer, '35 03 19 11 01 00 07', '35 05 0a 00 00 ff ff', 0x200, 672);
  assert.is(data, '36 00 5f ' + hex(SPP_RECORD));
  assert.is(pdus, 14);
  assert.equal(sizes.slice(0, 13), new Array(13).fill(5 + 2 + 7 + 1 + 8));
  assert.is(sizes[13], 5 + 2 + 7 + 1);
});

test('continuation: ServiceAttributeRequest and ServiceSearchRequest across small MTUs', () => {
  const { server, peer } = setup({ MAX_NR_SERVICE_RECORD_ITEMS: 20 }, 48);
  for (let i = 0; i < 20; i++) {
    const h = 0x10010 + i;
    const rec = fromHex(`36 00 0d 09 00 00 0a 00 01 00 ${(h & 0xff).toString(16)} 09 00 05 36 00 03 19 10 02`);
    // fix the length: 8 + 9 = 17 = 0x11
    rec[2] = 0x11;
    assert.is(server.sdp_register_service(rec), 0);
  }
  // ServiceSearch: 20 handles, at most (48 - 5 - 4 - 1 - 8) / 4 = 7 per PDU with a continuation, 9 without
  let cont = fromHex('00');
  const handles: string[] = [];
  const counts: number[] = [];
  for (let i = 0; i < 10; i++) {
    const req = fromHex('02 00 01 00 00 35 03 19 10 02 ff ff ' + hex(cont));
    req[4] = req.length - 5;
    const r = peer.request(req)!;
    assert.ok(r.length <= 48);
    assert.is(r[0], 0x03);
    assert.is((r[5]! << 8) | r[6]!, 20, 'TotalServiceRecordCount in every PDU');
    const n = (r[7]! << 8) | r[8]!;
    counts.push(n);
    for (let k = 0; k < n; k++) handles.push(hex(r.subarray(9 + 4 * k, 13 + 4 * k)));
    cont = r.subarray(9 + 4 * n);
    if (cont[0] === 0) break;
  }
  assert.equal(counts, [7, 7, 6]);
  assert.equal(
    handles,
    Array.from({ length: 20 }, (_, i) => hex(fromHex(`00 01 00 ${(0x10 + i).toString(16)}`))),
  );

  // ServiceAttribute on one record with MaximumAttributeByteCount 7: 3 + 17 = 20 octets in 7 + 7 + 6
  const chunks: string[] = [];
  cont = fromHex('00');
  for (let i = 0; i < 10; i++) {
    const req = fromHex('04 00 09 00 00 00 01 00 10 00 07 35 05 0a 00 00 ff ff ' + hex(cont));
    req[4] = req.length - 5;
    const r = peer.request(req)!;
    assert.is(r[0], 0x05);
    const n = (r[5]! << 8) | r[6]!;
    chunks.push(hex(r.subarray(7, 7 + n)));
    cont = r.subarray(7 + n);
    if (cont[0] === 0) break;
  }
  assert.is(chunks.length, 3);
  assert.is(chunks.join(' '), '36 00 11 09 00 00 0a 00 01 00 10 09 00 05 36 00 03 19 10 02');
});

test('errors: PDU size, syntax, handle, continuation length (exact ErrorResponse bytes)', () => {
  const { server, peer } = setup();
  assert.is(server.sdp_register_service(SPP_RECORD), 0);
  // ParameterLength 9 but 8 octets follow -> 0x0004 Invalid PDU Size, transaction id echoed
  assert.is(ask(peer, '02 00 05 00 09 35 03 19 11 01 00 0a 00'), '01 00 05 00 02 00 04');
  // too short for a header
  assert.is(ask(peer, '02 00 07'), '01 00 07 00 02 00 04');
  assert.is(ask(peer, '02'), '01 00 00 00 02 00 04');
  assert.is(ask(peer, ''), '01 00 00 00 02 00 04');
  // DES says 4 octets, the UUID takes 3 and swallows the count: 0x0003 Invalid Request Syntax
  assert.is(ask(peer, '02 00 06 00 08 35 04 19 11 01 00 0a 00'), '01 00 06 00 02 00 03');
  // a DES header claiming 0x7f00 octets
  assert.is(ask(peer, '02 00 08 00 09 36 7f 00 19 11 01 00 0a 00'), '01 00 08 00 02 00 03');
  // reserved type 31, nil in the pattern, empty pattern, 13 UUIDs
  assert.is(ask(peer, '02 00 09 00 08 35 03 f9 11 01 00 0a 00'), '01 00 09 00 02 00 03');
  assert.is(ask(peer, '02 00 0a 00 06 35 01 00 00 0a 00'), '01 00 0a 00 02 00 03');
  assert.is(ask(peer, '02 00 0b 00 05 35 00 00 0a 00'), '01 00 0b 00 02 00 03');
  const thirteen = '35 27 ' + Array(13).fill('19 11 01').join(' ');
  assert.is(ask(peer, '02 00 0c 00 2c ' + thirteen + ' 00 0a 00'), '01 00 0c 00 02 00 03');
  // MaximumServiceRecordCount 0, MaximumAttributeByteCount 6
  assert.is(ask(peer, '02 00 0d 00 08 35 03 19 11 01 00 00 00'), '01 00 0d 00 02 00 03');
  assert.is(ask(peer, '04 00 0e 00 0c 00 01 00 01 00 06 35 03 09 00 04 00'), '01 00 0e 00 02 00 03');
  // attribute range start > end, attribute id as uint8, trailing octets
  assert.is(ask(peer, '04 00 0f 00 0e 00 01 00 01 ff ff 35 05 0a 00 06 00 05 00'), '01 00 0f 00 02 00 03');
  assert.is(ask(peer, '04 00 10 00 0b 00 01 00 01 ff ff 35 02 08 04 00'), '01 00 10 00 02 00 03');
  assert.is(ask(peer, '04 00 11 00 0d 00 01 00 01 ff ff 35 03 09 00 04 00 00'), '01 00 11 00 02 00 03');
  // a response PDU, the error PDU, unknown PDU IDs sent to the server
  assert.is(ask(peer, '03 00 12 00 05 00 00 00 00 00'), '01 00 12 00 02 00 03');
  assert.is(ask(peer, '01 00 13 00 02 00 03'), '01 00 13 00 02 00 03');
  assert.is(ask(peer, 'ff 00 14 00 00'), '01 00 14 00 02 00 03');
  // unknown record handle -> 0x0002
  assert.is(ask(peer, '04 00 15 00 0c 00 02 00 00 ff ff 35 03 09 00 04 00'), '01 00 15 00 02 00 02');
  // InfoLength 17 -> 0x0005
  assert.is(ask(peer, '02 00 16 00 19 35 03 19 11 01 00 0a 11 ' + Array(17).fill('00').join(' ')), '01 00 16 00 02 00 05');
  // the server still works afterwards
  assert.is(ask(peer, '02 00 17 00 08 35 03 19 11 01 00 0a 00'), '03 00 17 00 09 00 01 00 01 00 01 00 01 00');
});

/** First response of a continued SPP ServiceSearchAttribute query at MaximumAttributeByteCount 7; returns its token. */
function firstToken(peer: RawPeer, tid: number, pattern = '35 03 19 11 01', ids = '35 05 0a 00 00 ff ff'): string {
  const params = fromHex(`${pattern} 00 07 ${ids} 00`);
  const req = Uint8Array.from([0x06, tid >> 8, tid & 0xff, 0, params.length, ...params]);
  const r = peer.request(req)!;
  assert.is(r[0], 0x07);
  assert.is(hex(r.subarray(5, 14)), '00 07 36 00 5f 36 00 5c 09');
  assert.is(r[14], 8, 'an 8-octet continuation token');
  return hex(r.subarray(14, 23));
}

function next(
  peer: RawPeer,
  tid: number,
  cont: string,
  pattern = '35 03 19 11 01',
  ids = '35 05 0a 00 00 ff ff',
  max = '00 07',
): string {
  const params = fromHex(`${pattern} ${max} ${ids} ${cont}`);
  const req = Uint8Array.from([0x06, tid >> 8, tid & 0xff, 0, params.length, ...params]);
  return hex(peer.request(req)!);
}

const INVALID_CONT = (tid: number) => `01 00 ${tid.toString(16).padStart(2, '0')} 00 02 00 05`;

test('continuation state: the issued token continues; replayed, forged and altered ones are refused', () => {
  const { server, peer } = setup();
  assert.is(server.sdp_register_service(SPP_RECORD), 0);
  assert.is(server.sdp_register_service(OPP_RECORD), 0);
  const t1 = firstToken(peer, 0x30);
  const r2 = next(peer, 0x31, t1);
  assert.ok(r2.startsWith('07 00 31 00 12 00 07 00 00 0a 00 01 00 01 08'), r2); // stream octets 7..13
  const t2 = r2.slice(r2.length - 26);
  // replaying t1 (already used) is refused, and it also ends the continuation
  assert.is(next(peer, 0x32, t1), INVALID_CONT(0x32));
  assert.is(next(peer, 0x33, t2), INVALID_CONT(0x33));

  // forged tokens: every offset with every guessable tag, zero token, truncated and extended tokens
  const t3 = firstToken(peer, 0x34);
  const forged = [
    '08 00 00 00 07 00 00 00 00',
    '08 ' + t3.slice(3, 3 + 11) + ' 00 00 00 00',
    '08 00 00 ff 00' + t3.slice(14),
    '08 ff ff ff ff' + t3.slice(14),
    '07 ' + t3.slice(3, 3 + 20),
    '09 ' + t3.slice(3) + ' 00',
    '02 00 07',
    '01 07',
  ];
  for (const f of forged) {
    assert.is(next(peer, 0x35, f), INVALID_CONT(0x35), f);
    // each refusal ends the continuation: the genuine token is now also dead
    assert.is(next(peer, 0x36, t3), INVALID_CONT(0x36));
    firstToken(peer, 0x37);
  }

  // bound to the request: another pattern, another attribute list, another request type
  let t = firstToken(peer, 0x40);
  assert.is(next(peer, 0x41, t, '35 03 19 10 02'), INVALID_CONT(0x41));
  t = firstToken(peer, 0x42);
  assert.is(next(peer, 0x43, t, '35 03 19 11 01', '35 05 0a 00 00 00 ff'), INVALID_CONT(0x43));
  t = firstToken(peer, 0x44);
  const sa = fromHex(`00 01 00 01 00 07 35 05 0a 00 00 ff ff ${t}`);
  assert.is(hex(peer.request(Uint8Array.from([0x04, 0, 0x45, 0, sa.length, ...sa]))!), INVALID_CONT(0x45));
  t = firstToken(peer, 0x46);
  const ss = fromHex(`35 03 19 11 01 00 07 ${t}`);
  assert.is(hex(peer.request(Uint8Array.from([0x02, 0, 0x47, 0, ss.length, ...ss]))!), INVALID_CONT(0x47));

  // a different MaximumAttributeByteCount is still the same stream: allowed, and bounded by the new count
  t = firstToken(peer, 0x48);
  const r = next(peer, 0x49, t, '35 03 19 11 01', '35 05 0a 00 00 ff ff', '00 0a');
  assert.ok(r.startsWith('07 00 49 00 15 00 0a 00 00 0a 00 01 00 01 09 00 01 08'), r);
});

test('continuation state: a record change or another channel invalidates the token', () => {
  const { server, peer, cl, link } = setup();
  assert.is(server.sdp_register_service(SPP_RECORD), 0);
  assert.is(server.sdp_register_service(OPP_RECORD), 0);
  let t = firstToken(peer, 0x50);
  server.sdp_unregister_service(0x10002);
  assert.is(next(peer, 0x51, t), INVALID_CONT(0x51));
  t = firstToken(peer, 0x52);
  assert.is(server.sdp_register_service(OPP_RECORD), 0);
  assert.is(next(peer, 0x53, t), INVALID_CONT(0x53));

  // token from channel A presented on channel B (same peer, second channel)
  t = firstToken(peer, 0x54);
  const other = new RawPeer(cl);
  other.connect(SERVER, 1, 672);
  assert.ok(other.cid && other.cid !== peer.cid);
  assert.is(next(other, 0x55, t), INVALID_CONT(0x55));
  // ...and channel A's own continuation is unaffected
  assert.ok(next(peer, 0x56, t).startsWith('07 00 56'));
  link.run();
});

test('flow control: response waits for CAN_SEND_NOW and is retried on ACL buffers full; a second request meanwhile gets ErrorResponse 0x0006', () => {
  const { server, peer, sl, link } = setup();
  assert.is(server.sdp_register_service(SPP_RECORD), 0);
  sl.refuse_sends = 2;
  const r = peer.request(fromHex('02 00 01 00 08 35 03 19 11 01 00 0a 00'));
  assert.is(hex(r!), '03 00 01 00 09 00 01 00 01 00 01 00 01 00');
  // two requests back to back: the first is answered, the second (the client must wait) gets Insufficient Resources
  const before = peer.received.length;
  sl.refuse_sends = 1;
  peer.l2cap.inject(peer.cid, fromHex('02 00 02 00 08 35 03 19 11 01 00 0a 00'));
  peer.l2cap.inject(peer.cid, fromHex('02 00 03 00 08 35 03 19 11 01 00 0a 00'));
  link.run();
  assert.is(peer.received.length, before + 2);
  assert.is(hex(peer.received[before]!.subarray(0, 3)), '03 00 02');
  assert.is(hex(peer.received[before + 1]!), '01 00 03 00 02 00 06');
});

test('channels: a pool per peer; full pool declines; close frees; pools back to full', () => {
  const { server, peer, cl, stack, link } = setup({ MAX_NR_HCI_CONNECTIONS: 2 });
  const b = new RawPeer(cl);
  b.connect(SERVER);
  assert.ok(b.cid > 0);
  assert.is(server.channels_in_use, 2);
  const c = new RawPeer(cl);
  c.connect(SERVER);
  assert.is(c.cid, 0, 'third channel declined');
  const opened = c.events.find((e) => e[0] === cl.codes.L2CAP_EVENT_CHANNEL_OPENED)!;
  assert.is(opened[2], 0x67, 'refused, no resources');
  cl.l2cap_disconnect(peer.cid);
  cl.l2cap_disconnect(b.cid);
  link.run();
  assert.is(server.channels_in_use, 0);
  server.sdp_deinit();
  assert.ok(stack.pools.all_free());
});

test('v1.8 profile: the server follows the profile event codes (CAN_SEND_NOW 0x79)', () => {
  const link = new FakeAir();
  const sl = sdp_endpoint(link, SERVER, 'v1.8');
  const cl = sdp_endpoint(link, CLIENT, 'v1.8');
  const server = new SdpServer(fake_stack('v1.8'), sl);
  server.sdp_init();
  assert.is(server.sdp_register_service(SPP_RECORD), 0);
  const peer = new RawPeer(cl);
  peer.connect(SERVER);
  assert.is(hex(peer.request(fromHex('02 00 01 00 08 35 03 19 11 01 00 0a 00'))!), '03 00 01 00 09 00 01 00 01 00 01 00 01 00');
});

test.run();
