/**
 * SDP end to end on the virtual controller, both code profiles: stack b runs the SDP server with
 * the SPP record and more, stack a queries it with the SDP client. Event bytes are checked
 * against BTstack's layouts written out by hand; an answer larger than one response goes through
 * continuation over fragmented ACL; busy status, the query callback, an ErrorResponse, a page
 * timeout. Both captures decode in tshark and btmon without a malformed frame, and tshark decodes
 * the SDP PDUs on PSM 1 (request/response ids, continuation states).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { ADDR_B, makePair } from './l2cap-helpers.js';
import { fromHex, hex, sscanf_bd_addr } from '../../src/core/bytes.js';
import { btstack_init_default } from '../../src/btstack.js';
import { spp_create_sdp_record } from '../../src/sdp/spp.js';
import { de, sdp_create_record } from '../../src/sdp/data-element.js';
import type { SdpPacketHandler } from '../../src/sdp/sdp-stack.js';

const PUBLIC_BROWSE = fromHex('35 03 19 10 02');
const ALL = fromHex('35 05 0a 00 00 ff ff');

class Events {
  readonly all: string[] = [];
  readonly handler: SdpPacketHandler = (type, channel, packet, size) => {
    assert.is(type, 4);
    assert.is(channel, 0);
    this.all.push(hex(packet.subarray(0, size)));
  };
  get last(): string {
    return this.all[this.all.length - 1] ?? '';
  }
  get done(): boolean {
    return this.last.startsWith('91 01');
  }
  /** Attribute values by "record:attribute" from the 0x94 byte events. */
  values(): Map<string, string> {
    const m = new Map<string, number[]>();
    for (const e of this.all) {
      const b = fromHex(e);
      if (b[0] !== 0x94) continue;
      const key = `${b[2]! | (b[3]! << 8)}:${(b[4]! | (b[5]! << 8)).toString(16).padStart(4, '0')}`;
      const arr = m.get(key) ?? [];
      assert.is(b[8]! | (b[9]! << 8), arr.length);
      arr.push(b[10]!);
      m.set(key, arr);
    }
    return new Map([...m].map(([k, v]) => [k, hex(Uint8Array.from(v))]));
  }
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: SDP client queries the SDP server of another stack`, () => {
    const p = makePair({ profile, tag: `sdp-${profile}` });
    const { a, b } = p;
    // b through the BTstack facade, as ported code does
    const bt = btstack_init_default(b.stack) as unknown as {
      sdp_init(): number;
      sdp_register_service(r: Uint8Array): number;
      sdp_create_service_record_handle(): number;
    };
    const server = b.stack.sdp;
    assert.is(bt.sdp_init(), 0);
    const rec = new Uint8Array(200);
    spp_create_sdp_record(rec, bt.sdp_create_service_record_handle() + 1, 1, 'SPP Counter');
    assert.is(bt.sdp_register_service(rec), 0);
    // a record of about 1.6 KB: more than one response (the server answers from one ACL payload)
    const big = new Uint8Array(2000);
    const n = sdp_create_record(big, 0, [
      [0x0000, de.uint32(0x10002)],
      [0x0001, de.des(de.uuid16(0x1200))],
      [0x0005, de.des(de.uuid16(0x1002))],
      [0x0200, de.text('0123456789'.repeat(160))],
    ]);
    assert.is(server.sdp_register_service(big.subarray(0, n)), 0);
    const client = a.stack.sdp_client;

    // ---- RFCOMM channel and name
    const rf = new Events();
    assert.is(client.sdp_client_query_rfcomm_channel_and_name_for_uuid(rf.handler, ADDR_B, 0x1101), 0);
    assert.is(client.sdp_client_query_uuid16(rf.handler, ADDR_B, 0x1101), 0x84, 'SDP_QUERY_BUSY while a query runs');
    let callbackRan = false;
    const general = new Events();
    assert.is(
      client.sdp_client_register_query_callback({
        callback: () => {
          callbackRan = true;
          // ---- general query, started from the query callback once the client is free
          assert.is(client.sdp_client_query(general.handler, ADDR_B, PUBLIC_BROWSE, ALL), 0);
        },
      }),
      0,
    );
    p.until(() => rf.done, 'rfcomm query complete');
    assert.equal(rf.all, ['92 0d 01 53 50 50 20 43 6f 75 6e 74 65 72 00', '91 01 00']);
    assert.ok(callbackRan);
    p.until(() => general.done, 'general query complete');
    assert.is(general.last, '91 01 00');
    assert.is(general.all[0], '94 09 00 00 00 00 05 00 00 00 0a');
    const v = general.values();
    assert.is(v.get('0:0004'), '35 0c 35 03 19 01 00 35 05 19 00 03 08 01');
    assert.is(v.get('0:0009'), '35 08 35 06 19 11 01 09 01 02');
    assert.is(v.get('0:0100'), '25 0b 53 50 50 20 43 6f 75 6e 74 65 72');
    assert.is(v.get('1:0200'), '26 06 40 ' + hex(new TextEncoder().encode('0123456789'.repeat(160))));

    // ---- service search and attribute search
    const ss = new Events();
    assert.is(client.sdp_client_service_search(ss.handler, ADDR_B, PUBLIC_BROWSE), 0);
    p.until(() => ss.done, 'service search complete');
    assert.equal(ss.all, ['95 08 02 00 01 00 01 00 01 00', '95 08 02 00 02 00 02 00 01 00', '91 01 00']);
    const sa = new Events();
    assert.is(client.sdp_client_service_attribute_search(sa.handler, ADDR_B, 0x10001, fromHex('35 03 09 00 04')), 0);
    p.until(() => sa.done, 'attribute search complete');
    assert.is(sa.all.length, 14 + 1);
    assert.is(sa.all[13], '94 09 00 00 04 00 0e 00 0d 00 01');

    // ---- ErrorResponse (unknown handle) -> SDP_QUERY_INCOMPLETE
    const bad = new Events();
    client.sdp_client_service_attribute_search(bad.handler, ADDR_B, 0x30000, ALL);
    p.until(() => bad.done, 'error response');
    assert.equal(bad.all, ['91 01 81']);

    // ---- nobody there: page timeout 0x04
    const none = new Events();
    assert.is(client.sdp_client_query_uuid16(none.handler, sscanf_bd_addr('CC:00:00:00:00:03')!, 0x1101), 0);
    p.until(() => none.done, 'page timeout', 120_000);
    assert.equal(none.all, ['91 01 04']);

    // the client closed each channel; the server has none left
    p.until(() => server.channels_in_use === 0, 'server channels closed');
    server.sdp_deinit();
    const [logA, logB] = p.finish();
    assertCleanCapture(logA);
    assertCleanCapture(logB);
    // tshark decodes SDP on PSM 1: requests 0x06/0x02/0x04, responses 0x07/0x03/0x05 and the error 0x01
    const pdus = tsharkFields(logA, ['btsdp.pdu'], 'btsdp').map(([x]) => parseInt(x!, 16));
    for (const id of [1, 2, 3, 4, 5, 6, 7]) assert.ok(pdus.includes(id), `SDP PDU 0x0${id} decoded (${pdus.join(',')})`);
    // tshark lists the length of present continuation states: our 8-octet tokens
    const conts = tsharkFields(
      logA,
      ['btsdp.continuation_state.length'],
      'btsdp.pdu == 0x07 && btsdp.continuation_state.length',
    ).map(([x]) => parseInt(x!, 10));
    assert.ok(conts.length >= 1 && conts.every((c) => c === 8), `continuation states decoded (${conts.join(',')})`);
    const errors = tsharkFields(logB, ['btsdp.error_code'], 'btsdp.pdu == 0x01').map(([x]) => parseInt(x!, 16));
    assert.equal(errors, [2]);
  });
}

test.run();
