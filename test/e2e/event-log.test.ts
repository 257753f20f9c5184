/**
 * Layer events in the packet log, as BTstack writes them (hci_dump_packet(HCI_EVENT_PACKET, 1,
 * ...) in l2cap.c's and rfcomm.c's emit functions, before the handler runs): two stacks on the
 * virtual controller, an L2CAP channel (CHANNEL_OPENED, CAN_SEND_NOW) and an RFCOMM channel
 * (CHANNEL_OPENED) opened by stack a. In a's btsnoop capture each of these events is a received
 * HCI event record holding exactly the bytes a's handler got, before the ACL packet the handler
 * sent in answer; tshark reads them as HCI events with their code (stack-internal codes are
 * "Unknown event" for it: the capture checker keeps that as a warning, and the capture is clean).
 * What BTstack does not log stays out: the SDP client's events, HCI_EVENT_TRANSPORT_PACKET_SENT.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertCleanCapture, readCapture, tsharkFields } from '../helpers/capture.js';
import { ADDR_B, makePair, type Rec } from './l2cap-helpers.js';
import * as fs from 'node:fs';
import { hex } from '../../src/core/bytes.js';
import { spp_create_sdp_record } from '../../src/sdp/spp.js';

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: L2CAP and RFCOMM events are in the btsnoop capture, SDP client events and TRANSPORT_PACKET_SENT are not`, () => {
    const p = makePair({ profile, tag: `event-log-${profile}` });
    const { a, b } = p;
    const C = a.stack.codes;
    const OPENED = C.L2CAP_EVENT_CHANNEL_OPENED;
    const CAN_SEND = C.L2CAP_EVENT_CAN_SEND_NOW;
    const RF_OPENED = C.RFCOMM_EVENT_CHANNEL_OPENED;

    // every HCI event a's app sees (TRANSPORT_PACKET_SENT included)
    const hciEvents: number[] = [];
    a.stack.hci.hci_add_event_handler({ callback: (_t, _c, pk) => hciEvents.push(pk[0]!) });

    // ---- L2CAP: b serves PSM 0x1001; a opens a channel, asks for CAN_SEND_NOW and sends on it
    assert.is(b.stack.l2cap.l2cap_register_service(b.handler, 0x1001, 1000, 0), 0);
    b.on = (r, n) => {
      if (r.type === 4 && r.bytes[0] === C.L2CAP_EVENT_INCOMING_CONNECTION) n.stack.l2cap.l2cap_accept_connection(r.channel);
    };
    const sent = Uint8Array.of(0xc0, 0xff, 0xee);
    a.on = (r, n) => {
      if (r.type !== 4) return;
      if (r.bytes[0] === OPENED && r.bytes[2] === 0) n.stack.l2cap.l2cap_request_can_send_now_event(r.channel);
      if (r.bytes[0] === CAN_SEND) assert.is(n.stack.l2cap.l2cap_send(r.channel, sent, sent.length), 0);
    };
    assert.equal(a.stack.l2cap.l2cap_create_channel(a.handler, ADDR_B, 0x1001, 800), { status: 0, local_cid: 0x40 });
    p.until(() => b.data(0x40).length === 1, 'b gets the data sent on CAN_SEND_NOW');
    assert.equal(b.data(0x40)[0], sent);
    a.on = null;

    // ---- SDP: a asks b for its SPP record (the client's events must not be logged)
    assert.is(b.stack.sdp.sdp_init(), 0);
    const rec = new Uint8Array(200);
    spp_create_sdp_record(rec, 0x10001, 1, 'Log');
    assert.is(b.stack.sdp.sdp_register_service(rec), 0);
    const sdpEvents: string[] = [];
    assert.is(
      a.stack.sdp_client.sdp_client_query_rfcomm_channel_and_name_for_uuid(
        (_t, _c, pk, size) => sdpEvents.push(hex(pk.subarray(0, size))),
        ADDR_B,
        0x1101,
      ),
      0,
    );
    p.until(() => sdpEvents.some((e) => e.startsWith('91 01')), 'SDP query complete');
    assert.equal(sdpEvents, ['92 05 01 4c 6f 67 00', '91 01 00']);

    // ---- RFCOMM: b serves channel 1; a opens a DLC
    const rfA: Rec[] = [];
    assert.is(
      b.stack.rfcomm.rfcomm_register_service(
        (t, ch, pk, size) => {
          if (t === 4 && pk[0] === C.RFCOMM_EVENT_INCOMING_CONNECTION)
            b.stack.rfcomm.rfcomm_accept_connection(pk[9]! | (pk[10]! << 8));
          void ch;
          void size;
        },
        1,
        500,
      ),
      0,
    );
    const rfc = a.stack.rfcomm.rfcomm_create_channel(
      (type, channel, pk, size) => rfA.push({ type, channel, bytes: pk.slice(0, size) }),
      ADDR_B,
      1,
    );
    assert.is(rfc.status, 0);
    p.until(() => rfA.some((r) => r.type === 4 && r.bytes[0] === RF_OPENED), 'RFCOMM channel open');
    assert.ok(
      hciEvents.includes(C.HCI_EVENT_TRANSPORT_PACKET_SENT),
      'a saw HCI_EVENT_TRANSPORT_PACKET_SENT (so its absence from the log means something)',
    );

    b.stack.rfcomm.rfcomm_unregister_service(1);
    b.stack.l2cap.l2cap_unregister_service(0x1001);
    b.stack.sdp.sdp_unregister_service(0x10001);
    b.stack.sdp.sdp_deinit();
    const [capA, capB] = p.finish();

    // ---- the records: received HCI events with exactly the bytes the handlers got
    const records = readCapture(fs.readFileSync(capA)).records;
    const evRecords = records.filter((r) => r.packet_type === 4);
    const indexOf = (bytes: Uint8Array): number => {
      const r = evRecords.find((x) => hex(x.data) === hex(bytes));
      assert.ok(r, `capture has the event ${hex(bytes)}`);
      assert.ok(r!.incoming, 'logged as received');
      return r!.index;
    };
    const opened = a.recs.find((r) => r.type === 4 && r.bytes[0] === OPENED)!;
    const canSend = a.recs.find((r) => r.type === 4 && r.bytes[0] === CAN_SEND)!;
    const rfOpened = rfA.find((r) => r.type === 4 && r.bytes[0] === RF_OPENED)!;
    assert.is(hex(canSend.bytes), `${hex(Uint8Array.of(CAN_SEND))} 02 40 00`);
    assert.is(rfOpened.bytes[2], 0, 'RFCOMM open succeeded');
    const iOpened = indexOf(opened.bytes);
    const iCanSend = indexOf(canSend.bytes);
    const iRfOpened = indexOf(rfOpened.bytes);
    assert.ok(iOpened < iCanSend, 'CHANNEL_OPENED before CAN_SEND_NOW');
    // the ACL packet a sent on CAN_SEND_NOW (c0 ff ee on the channel) comes right after the event
    const dataRec = records.find((r) => r.packet_type === 2 && !r.incoming && hex(r.data).endsWith('c0 ff ee'));
    assert.ok(dataRec, 'the data a sent is in the capture');
    assert.ok(iCanSend < dataRec!.index, 'the event is logged before the handler sends');
    assert.ok(iCanSend < iRfOpened);

    // ---- not logged: the SDP client's events, HCI_EVENT_TRANSPORT_PACKET_SENT
    const codes = evRecords.map((r) => r.data[0]!);
    for (const c of [C.SDP_EVENT_QUERY_COMPLETE, C.SDP_EVENT_QUERY_RFCOMM_SERVICE, C.HCI_EVENT_TRANSPORT_PACKET_SENT]) {
      assert.not.ok(codes.includes(c), `event 0x${c.toString(16)} is not logged`);
    }

    // ---- tshark reads them as HCI events with their code
    const rows = tsharkFields(capA, ['frame.number', 'bthci_evt.code'], 'bthci_evt');
    const codeOf = new Map(rows.map(([num, code]) => [Number(num), Number(code)]));
    assert.is(codeOf.get(iOpened), OPENED);
    assert.is(codeOf.get(iCanSend), CAN_SEND);
    assert.is(codeOf.get(iRfOpened), RF_OPENED);

    // ---- and the checker: clean, with tshark's "Unknown event" for these frames kept as warnings
    const report = assertCleanCapture(capA);
    for (const i of [iOpened, iCanSend, iRfOpened]) {
      assert.ok(
        report.tsharkWarnings.some((w) => w.startsWith(`frame ${i}: warning: Unknown event`)),
        `frame ${i} is an "Unknown event" warning, not a problem`,
      );
    }
    assertCleanCapture(capB);
  });
}

test.run();
