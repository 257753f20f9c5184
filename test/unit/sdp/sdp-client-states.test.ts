/**
 * The SDP client's query machine explains itself (issue 12 item 5): every state change is one
 * debug line `sdp client: FROM -> TO (why)` through the stack's Logger, built only when a sink
 * listens at debug level.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO } from '../../../src/core/log.js';
import { SdpServer } from '../../../src/sdp/server.js';
import { SdpClient } from '../../../src/sdp/client.js';
import { FakeAir, fake_stack, sdp_endpoint } from './sdp-peers.js';
import { SPP_RECORD } from './sdp-vectors.js';

const SERVER = sscanf_bd_addr('00:1B:DC:00:00:01')!;
const CLIENT = sscanf_bd_addr('00:1B:DC:00:00:02')!;
const ALL = fromHex('35 05 0a 00 00 ff ff');

function setup() {
  const air = new FakeAir();
  const server = new SdpServer(fake_stack(), sdp_endpoint(air, SERVER));
  server.sdp_init();
  server.sdp_register_service(SPP_RECORD);
  const stack = fake_stack();
  const client = new SdpClient(stack, sdp_endpoint(air, CLIENT));
  const lines: string[] = [];
  stack.log.level = LOG_LEVEL_DEBUG;
  stack.log.add_sink((level, message) => {
    if (level === LOG_LEVEL_DEBUG) lines.push(message);
  });
  return { air, client, stack, lines };
}

test('one query: each state change logged once, in order, with its reason', () => {
  const { air, client, lines } = setup();
  let complete = -1;
  client.sdp_client_query_uuid16((_t, _c, p) => (p[0] === 0x91 ? (complete = p[2]!) : 0), SERVER, 0x1101);
  air.run();
  assert.is(complete, 0);
  assert.equal(lines, [
    'sdp client: INIT -> W4_CONNECT (query started)',
    'sdp client: W4_CONNECT -> W2_SEND (channel 0x40 open)',
    'sdp client: W2_SEND -> W4_RESPONSE (request 0x1 sent)',
    'sdp client: W4_RESPONSE -> QUERY_COMPLETE (answer complete)',
    'sdp client: QUERY_COMPLETE -> INIT (channel closed, query complete with status 0x0)',
  ]);
});

test('a query the server refuses: W4_DISCONNECT with the ErrorResponse, then INIT with SDP_QUERY_INCOMPLETE', () => {
  const { air, client, lines } = setup();
  client.sdp_client_service_attribute_search(() => {}, SERVER, 0x20000, ALL);
  air.run();
  assert.equal(lines.slice(3), [
    'sdp client: W4_RESPONSE -> W4_DISCONNECT (ErrorResponse 0x0002)',
    'sdp client: W4_DISCONNECT -> INIT (channel closed, query complete with status 0x81)',
  ]);
});

test('nothing is built or logged below the sink level', () => {
  const { air, client, stack, lines } = setup();
  stack.log.level = LOG_LEVEL_INFO;
  client.sdp_client_query(() => {}, SERVER, fromHex('35 03 19 11 01'), ALL);
  air.run();
  assert.equal(lines, []);
  assert.ok(client.sdp_client_ready());
});

test.run();
