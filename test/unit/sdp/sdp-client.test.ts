/**
 * SDP client against the SDP server on a fake L2CAP link, and against scripted (malformed)
 * servers: request bytes on the wire, event bytes per profile, continuation, busy status and the
 * query callback, failures and bad answers -> SDP_EVENT_QUERY_COMPLETE with the right status.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { SdpServer } from '../../../src/sdp/server.js';
import { SdpClient } from '../../../src/sdp/client.js';
import { spp_create_custom_sdp_record, spp_create_sdp_record } from '../../../src/sdp/spp.js';
import { codes_for } from '../../../src/codes/index.js';
import * as v14 from '../../../src/codes/v1.4.js';
import { FakeL2cap, FakeAir, fake_stack, sdp_endpoint } from './sdp-peers.js';
import { OPP_RECORD, SPP_RECORD } from './sdp-vectors.js';
import type { SdpPacketHandler } from '../../../src/sdp/sdp-stack.js';

const SERVER = sscanf_bd_addr('00:1B:DC:00:00:01')!;
const CLIENT = sscanf_bd_addr('00:1B:DC:00:00:02')!;
const NOBODY = sscanf_bd_addr('00:1B:DC:00:00:99')!;
const PUBLIC_BROWSE = fromHex('35 03 19 10 02');
const ALL = fromHex('35 05 0a 00 00 ff ff');

function setup(profile: 'v1.4' | 'v1.8' = 'v1.4', clientMtu = 1691) {
  const link = new FakeAir();
  const sl = sdp_endpoint(link, SERVER, profile);
  const cl = sdp_endpoint(link, CLIENT, profile);
  cl.max_mtu = clientMtu;
  const server = new SdpServer(fake_stack(profile), sl);
  server.sdp_init();
  const cstack = fake_stack(profile);
  const client = new SdpClient(cstack, cl);
  return { link, sl, cl, server, client, cstack };
}

class Events {
  readonly all: Uint8Array[] = [];
  readonly channels: number[] = [];
  readonly handler: SdpPacketHandler = (type, channel, packet, size) => {
    assert.is(type, v14.HCI_EVENT_PACKET);
    this.all.push(packet.slice(0, size));
    this.channels.push(channel);
  };
  of(code: number): Uint8Array[] {
    return this.all.filter((e) => e[0] === code);
  }
  get last(): Uint8Array {
    return this.all[this.all.length - 1]!;
  }
}

/** Reassemble attribute values from the byte events: "record:attr" -> hex. */
function values(events: Uint8Array[]): Map<string, string> {
  const acc = new Map<string, number[]>();
  for (const e of events) {
    const key = `${v14.sdp_event_query_attribute_byte_get_record_id(e)}:${v14
      .sdp_event_query_attribute_byte_get_attribute_id(e)
      .toString(16)
      .padStart(4, '0')}`;
    const len = v14.sdp_event_query_attribute_byte_get_attribute_length(e);
    const off = v14.sdp_event_query_attribute_byte_get_data_offset(e);
    const arr = acc.get(key) ?? [];
    assert.is(off, arr.length, `${key}: offsets in order`);
    assert.ok(off < len, `${key}: offset ${off} < length ${len}`);
    arr.push(v14.sdp_event_query_attribute_byte_get_data(e));
    acc.set(key, arr);
  }
  return new Map([...acc].map(([k, v]) => [k, hex(Uint8Array.from(v))]));
}

const SPP_VALUES: Array<[string, string]> = [
  ['0000', '0a 00 01 00 01'],
  ['0001', '36 00 03 19 11 01'],
  ['0004', '36 00 0e 36 00 03 19 01 00 36 00 05 19 00 03 08 01'],
  ['0005', '36 00 03 19 10 02'],
  ['0006', '36 00 09 09 65 6e 09 00 6a 09 01 00'],
  ['0009', '36 00 09 36 00 06 19 11 01 09 01 02'],
  ['0100', '25 0b 53 50 50 20 43 6f 75 6e 74 65 72'],
];

test('sdp_client_query: request bytes, one 0x94 event per value octet, complete with status 0', () => {
  const { link, server, client, cstack } = setup();
  server.sdp_register_service(SPP_RECORD);
  server.sdp_register_service(OPP_RECORD);
  const ev = new Events();
  assert.is(client.sdp_client_query(ev.handler, SERVER, PUBLIC_BROWSE, ALL), 0);
  assert.is(client.sdp_client_ready(), false);
  link.run();
  // the request: PDU 06, transaction 1, pattern, MaximumAttributeByteCount = our MTU 1691 - 24 = 1667 = 0x0683, list, no continuation
  assert.is(hex(link.sent[0]!.bytes), '06 00 01 00 0f 35 03 19 10 02 06 83 35 05 0a 00 00 ff ff 00');
  // first event: code 0x94, length 9, record 0, attribute 0x0000, length 5, offset 0, octet 0x0a
  assert.is(hex(ev.all[0]!), '94 09 00 00 00 00 05 00 00 00 0a');
  assert.ok(
    ev.channels.every((c) => c === 0),
    'channel 0 for every event',
  );
  const bytes = ev.of(0x94);
  assert.is(bytes.length, ev.all.length - 1);
  const v = values(bytes);
  for (const [id, val] of SPP_VALUES) assert.is(v.get(`0:${id}`), val, `record 0 attribute ${id}`);
  assert.is(v.get('1:0100'), '25 04 50 75 73 68');
  assert.is(v.get('1:0001'), '36 00 03 19 11 05');
  assert.is(v.size, SPP_VALUES.length + 4);
  assert.is(hex(ev.last), '91 01 00');
  assert.ok(client.sdp_client_ready());
  assert.ok(cstack.pools.all_free());
  assert.is(server.channels_in_use, 0, 'the client disconnected');
});

test('sdp_client_query: continuation with a client MTU of 48 gives the same events', () => {
  const a = setup();
  a.server.sdp_register_service(SPP_RECORD);
  const big = new Events();
  a.client.sdp_client_query(big.handler, SERVER, PUBLIC_BROWSE, ALL);
  a.link.run();
  const b = setup('v1.4', 48);
  b.server.sdp_register_service(SPP_RECORD);
  const small = new Events();
  b.client.sdp_client_query(small.handler, SERVER, PUBLIC_BROWSE, ALL);
  b.link.run();
  const requests = b.link.sent.filter((s) => s.from === '00:1B:DC:00:00:02');
  assert.ok(requests.length >= 3, `several requests (${requests.length})`);
  assert.ok(
    requests.slice(1).every((r) => r.bytes[r.bytes.length - 9] === 8),
    'each follow-up carries the 8-octet token',
  );
  assert.equal(
    small.all.map((e) => hex(e)),
    big.all.map((e) => hex(e)),
  );
  assert.is(hex(small.last), '91 01 00');
});

test('sdp_client_query_uuid16 / uuid128: pattern and attribute list 0x0001-0xFFFF as BTstack', () => {
  const { link, server, client } = setup();
  server.sdp_register_service(SPP_RECORD);
  const ev = new Events();
  assert.is(client.sdp_client_query_uuid16(ev.handler, SERVER, 0x1101), 0);
  link.run();
  assert.is(hex(link.sent[0]!.bytes), '06 00 01 00 0f 35 03 19 11 01 06 83 35 05 0a 00 01 ff ff 00');
  assert.is(values(ev.of(0x94)).has('0:0000'), false, 'no handle attribute');
  assert.is(hex(ev.last), '91 01 00');
  const ev2 = new Events();
  const uuid = fromHex('00 00 11 01 00 00 10 00 80 00 00 80 5f 9b 34 fb');
  assert.is(client.sdp_client_query_uuid128(ev2.handler, SERVER, uuid), 0);
  link.run();
  const req = link.sent.filter((s) => s.from === '00:1B:DC:00:00:02').pop()!;
  assert.is(hex(req.bytes), '06 00 02 00 1d 35 11 1c ' + hex(uuid) + ' 06 83 35 05 0a 00 01 ff ff 00');
  assert.is(values(ev2.of(0x94)).get('0:0100'), '25 0b 53 50 50 20 43 6f 75 6e 74 65 72');
});

test('one query at a time: SDP_QUERY_BUSY, and the query callback runs when the client is free', () => {
  const { link, server, client } = setup();
  server.sdp_register_service(SPP_RECORD);
  const a = new Events();
  const b = new Events();
  assert.is(client.sdp_client_query(a.handler, SERVER, PUBLIC_BROWSE, ALL), 0);
  assert.is(client.sdp_client_query(b.handler, SERVER, PUBLIC_BROWSE, ALL), v14.SDP_QUERY_BUSY);
  assert.is(client.sdp_client_query_uuid16(b.handler, SERVER, 0x1101), 0x84);
  assert.is(client.sdp_client_query_rfcomm_channel_and_name_for_uuid(b.handler, SERVER, 0x1101), 0x84);
  assert.is(client.sdp_client_service_search(b.handler, SERVER, PUBLIC_BROWSE), 0x84);
  const order: string[] = [];
  const reg = {
    callback: (ctx: unknown) => {
      order.push(`callback ${ctx}`);
      assert.is(client.sdp_client_query_rfcomm_channel_and_name_for_uuid(b.handler, SERVER, 0x1101), 0);
    },
    context: 'ctx',
  };
  assert.is(client.sdp_client_register_query_callback(reg), 0);
  assert.is(client.sdp_client_register_query_callback(reg), v14.ERROR_CODE_COMMAND_DISALLOWED);
  assert.equal(order, [], 'not while busy');
  link.run();
  assert.equal(order, ['callback ctx']);
  assert.is(hex(a.last), '91 01 00');
  assert.equal(
    b.all.map((e) => hex(e)),
    ['92 0d 01 53 50 50 20 43 6f 75 6e 74 65 72 00', '91 01 00'],
    'B got nothing from the busy calls, then its own query',
  );
  // free: a registration runs right away
  let ran = 0;
  assert.is(client.sdp_client_register_query_callback({ callback: () => ran++ }), 0);
  assert.is(ran, 1);
});

test('the COMPLETE handler may start the next query', () => {
  const { link, server, client } = setup();
  server.sdp_register_service(SPP_RECORD);
  const seen: string[] = [];
  const second: SdpPacketHandler = (_t, _c, p, s) => seen.push('2:' + hex(p.subarray(0, s)));
  const first: SdpPacketHandler = (_t, _c, p, s) => {
    if (p[0] !== 0x91) return;
    seen.push('1:' + hex(p.subarray(0, s)));
    assert.is(client.sdp_client_query_rfcomm_channel_and_name_for_uuid(second, SERVER, 0x1101), 0);
  };
  client.sdp_client_query_uuid16(first, SERVER, 0x1101);
  link.run();
  assert.equal(seen, ['1:91 01 00', '2:92 0d 01 53 50 50 20 43 6f 75 6e 74 65 72 00', '2:91 01 00']);
});

test('RFCOMM query: channel and name per record, names cut at 20 octets, records without RFCOMM skipped', () => {
  const { link, server, client } = setup();
  const buf = new Uint8Array(200);
  spp_create_sdp_record(buf, 0x10001, 1, 'SPP Counter');
  server.sdp_register_service(buf);
  spp_create_sdp_record(buf, 0x10002, 7, 'A rather long service name');
  server.sdp_register_service(buf);
  server.sdp_register_service(OPP_RECORD); // PublicBrowseRoot, no RFCOMM
  const ev = new Events();
  assert.is(client.sdp_client_query_rfcomm_channel_and_name_for_uuid(ev.handler, SERVER, 0x1002), 0);
  link.run();
  assert.is(hex(link.sent[0]!.bytes), '06 00 01 00 0f 35 03 19 10 02 06 83 35 05 0a 00 01 01 00 00');
  // 92, length 1 + 11 + 1 = 13, channel 1, "SPP Counter", NUL
  assert.is(hex(ev.all[0]!), '92 0d 01 53 50 50 20 43 6f 75 6e 74 65 72 00');
  // 20 octets "A rather long servic" + NUL: length 22
  assert.is(hex(ev.all[1]!), '92 16 07 ' + hex(new TextEncoder().encode('A rather long servic')) + ' 00');
  assert.is(v14.sdp_event_query_rfcomm_service_get_name(ev.all[1]!), 'A rather long servic');
  assert.is(v14.sdp_event_query_rfcomm_service_get_rfcomm_channel(ev.all[1]!), 7);
  // the same layout the generated builder writes
  const b = new Uint8Array(64);
  const n = v14.sdp_event_query_rfcomm_service_build(b, 0, 1, 'SPP Counter');
  assert.is(hex(b, n), hex(ev.all[0]!));
  assert.is(ev.all.length, 3);
  assert.is(hex(ev.last), '91 01 00');
});

test('RFCOMM query for a custom UUID128 and a record without a name', () => {
  const { link, server, client } = setup();
  const uuid = fromHex('8c e2 55 c0 20 0a 11 e0 ac 64 08 00 20 0c 9a 66');
  const buf = new Uint8Array(200);
  spp_create_custom_sdp_record(buf, 0x10001, uuid, 5, 'Custom');
  server.sdp_register_service(buf);
  // no ServiceName: PDL with RFCOMM 9 inside a DEA of alternatives
  assert.is(
    server.sdp_register_service(
      fromHex(
        '36 00 26 09 00 00 0a 00 01 00 02 09 00 01 36 00 03 19 11 01 09 00 04 3d 10 35 0c 35 03 19 01 00 35 05 19 00 03 08 09 35 00',
      ),
    ),
    0,
  );
  const ev = new Events();
  client.sdp_client_query_rfcomm_channel_and_name_for_uuid128(ev.handler, SERVER, uuid);
  link.run();
  assert.equal(
    ev.all.map((e) => hex(e)),
    ['92 08 05 43 75 73 74 6f 6d 00', '91 01 00'],
  );
  const ev2 = new Events();
  client.sdp_client_query_rfcomm_channel_and_name_for_uuid(ev2.handler, SERVER, 0x1101);
  link.run();
  assert.equal(
    ev2.all.map((e) => hex(e)),
    ['92 08 05 43 75 73 74 6f 6d 00', '92 02 09 00', '91 01 00'],
  );
});

test('RFCOMM query for a service class: only records with the UUID in their ServiceClassIDList', () => {
  const { link, server, client } = setup();
  const buf = new Uint8Array(200);
  spp_create_sdp_record(buf, 0x10001, 1, 'SPP');
  assert.is(server.sdp_register_service(buf), 0);
  // SerialPort only in the profile descriptor list
  spp_create_custom_sdp_record(buf, 0x10002, fromHex('8c e2 55 c0 20 0a 11 e0 ac 64 08 00 20 0c 9a 66'), 5, 'Custom');
  assert.is(server.sdp_register_service(buf), 0);
  // ServiceClassIDList { DialupNetworking, SerialPort (as UUID128) }, RFCOMM 7, no name
  assert.is(
    server.sdp_register_service(
      fromHex(
        '35 32 09 00 00 0a 00 01 00 03 09 00 01 35 14 19 11 03 1c 00 00 11 01 00 00 10 00 80 00 00 80 5f 9b 34 fb 09 00 04 35 0c 35 03 19 01 00 35 05 19 00 03 08 07',
      ),
    ),
    0,
  );
  const any = new Events();
  client.sdp_client_query_rfcomm_channel_and_name_for_uuid(any.handler, SERVER, 0x1101);
  link.run();
  assert.equal(
    any.all.map((e) => hex(e)),
    ['92 05 01 53 50 50 00', '92 08 05 43 75 73 74 6f 6d 00', '92 02 07 00', '91 01 00'],
  );
  const cls = new Events();
  assert.is(client.sdp_client_query_rfcomm_channel_and_name_for_service_class_uuid(cls.handler, SERVER, 0x1101), 0);
  link.run();
  assert.equal(
    cls.all.map((e) => hex(e)),
    ['92 05 01 53 50 50 00', '92 02 07 00', '91 01 00'],
  );
  // the same pattern and attribute list on the wire as the _for_uuid query
  const reqs = link.sent.filter((x) => x.from === '00:1B:DC:00:00:02');
  assert.is(hex(reqs[reqs.length - 1]!.bytes).slice(9), hex(reqs[0]!.bytes).slice(9));
});

test('service search and service attribute search (extra queries)', () => {
  const { link, server, client } = setup();
  server.sdp_register_service(SPP_RECORD);
  server.sdp_register_service(OPP_RECORD);
  const ev = new Events();
  assert.is(client.sdp_client_service_search(ev.handler, SERVER, PUBLIC_BROWSE), 0);
  link.run();
  assert.is(hex(link.sent[0]!.bytes), '02 00 01 00 08 35 03 19 10 02 ff ff 00');
  // 95, length 8, total 2, index 1 / 2 (from 1, as BTstack), handle little endian
  assert.equal(
    ev.all.map((e) => hex(e)),
    ['95 08 02 00 01 00 01 00 01 00', '95 08 02 00 02 00 02 00 01 00', '91 01 00'],
  );
  const ev2 = new Events();
  assert.is(client.sdp_client_service_attribute_search(ev2.handler, SERVER, 0x10002, fromHex('35 03 09 01 00')), 0);
  link.run();
  const req = link.sent.filter((s) => s.from === '00:1B:DC:00:00:02').pop()!;
  assert.is(hex(req.bytes), '04 00 02 00 0c 00 01 00 02 06 83 35 03 09 01 00 00');
  assert.equal(
    ev2.all.map((e) => hex(e)),
    [
      '94 09 00 00 00 01 06 00 00 00 25',
      '94 09 00 00 00 01 06 00 01 00 04',
      '94 09 00 00 00 01 06 00 02 00 50',
      '94 09 00 00 00 01 06 00 03 00 75',
      '94 09 00 00 00 01 06 00 04 00 73',
      '94 09 00 00 00 01 06 00 05 00 68',
      '91 01 00',
    ],
  );
});

test('failures: page timeout, PSM refused, ErrorResponse, server closing early', () => {
  const { link, server, client } = setup();
  server.sdp_register_service(SPP_RECORD);
  let ev = new Events();
  assert.is(client.sdp_client_query(ev.handler, NOBODY, PUBLIC_BROWSE, ALL), 0);
  link.run();
  assert.equal(
    ev.all.map((e) => hex(e)),
    ['91 01 04'],
  );
  const noSdp = sdp_endpoint(link, sscanf_bd_addr('00:1B:DC:00:00:03')!);
  ev = new Events();
  client.sdp_client_query(ev.handler, noSdp.address, PUBLIC_BROWSE, ALL);
  link.run();
  assert.equal(
    ev.all.map((e) => hex(e)),
    ['91 01 65'],
    'refused: 0x63 + result 2 (PSM not supported)',
  );
  // unknown handle: the server answers ErrorResponse 0x0002, the client disconnects -> SDP_QUERY_INCOMPLETE
  ev = new Events();
  client.sdp_client_service_attribute_search(ev.handler, SERVER, 0x20000, ALL);
  link.run();
  assert.equal(
    ev.all.map((e) => hex(e)),
    ['91 01 81'],
  );
  assert.is(server.channels_in_use, 0);
  // the server side drops the channel after the first response of a continued answer
  const small = setup('v1.4', 48);
  small.server.sdp_register_service(SPP_RECORD);
  ev = new Events();
  small.client.sdp_client_query(ev.handler, SERVER, PUBLIC_BROWSE, ALL);
  while (ev.all.length === 0) assert.ok(small.link.run(1) === 1, 'progress');
  for (const cid of [...small.sl.channels.keys()]) small.sl.l2cap_disconnect(cid);
  small.link.run();
  assert.ok(ev.of(0x94).length > 0 && ev.of(0x94).length < 40, 'part of the answer');
  assert.is(hex(ev.last), '91 01 81');
  assert.ok(small.client.sdp_client_ready());
});

test('wrong arguments are TypeErrors and leave the client free', () => {
  const { client } = setup();
  const h: SdpPacketHandler = () => {};
  assert.throws(() => client.sdp_client_query(h, SERVER, fromHex('35 03 19 11'), ALL), TypeError);
  assert.throws(() => client.sdp_client_query(h, SERVER, fromHex('35 00'), ALL), TypeError);
  assert.throws(() => client.sdp_client_query(h, SERVER, PUBLIC_BROWSE, fromHex('35 02 08 01')), TypeError);
  assert.throws(() => client.sdp_client_query(h, new Uint8Array(3), PUBLIC_BROWSE, ALL), TypeError);
  assert.throws(() => client.sdp_client_query(null as unknown as SdpPacketHandler, SERVER, PUBLIC_BROWSE, ALL), TypeError);
  assert.throws(() => client.sdp_client_query_uuid128(h, SERVER, new Uint8Array(15)), TypeError);
  assert.ok(client.sdp_client_ready());
});

test('v1.8 profile: same SDP event codes and layouts, L2CAP codes of v1.8', () => {
  const { link, server, client } = setup('v1.8');
  server.sdp_register_service(SPP_RECORD);
  const ev = new Events();
  client.sdp_client_query_rfcomm_channel_and_name_for_uuid(ev.handler, SERVER, 0x1101);
  link.run();
  const c8 = codes_for('v1.8');
  assert.is(c8.SDP_EVENT_QUERY_RFCOMM_SERVICE, 0x92);
  assert.equal(
    ev.all.map((e) => hex(e)),
    ['92 0d 01 53 50 50 20 43 6f 75 6e 74 65 72 00', '91 01 00'],
  );
});

test.run();
