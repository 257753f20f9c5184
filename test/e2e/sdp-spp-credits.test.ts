/**
 * SDP -> SPP with RFCOMM credits exhausted: stack b serves SPP (its SDP record names RFCOMM
 * channel 5, the RFCOMM service has automatic credits); stack a finds the channel with
 * sdp_client_query_rfcomm_channel_and_name_for_uuid, opens it and sends a burst of 120 frames,
 * far beyond the initial credits, as fast as RFCOMM lets it; b answers every frame with an echo
 * and an acknowledgement, also as fast as it may. Checked: rfcomm_send says RFCOMM_NO_OUTGOING_CREDITS on
 * both sides and the channels' credit counts reach 0 and come back (stack introspection); from
 * the wire (a's capture, tshark's RFCOMM dissector): the credits b grants (PN response + credit
 * octets) and the data frames a sends keep a balance that never goes below 0, touches 0 while a
 * still has data to send, and goes up again afterwards, and the same for b's replies; every frame
 * and reply arrives intact and in order; pools back to full, captures clean. The controllers have
 * room for 16 ACL packets of 1021 octets, so RFCOMM's credits, not the ACL buffers, hold the
 * senders back.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { ADDR_B, makePair, pattern, type L2Node } from './l2cap-helpers.js';
import { spp_create_sdp_record } from '../../src/sdp/spp.js';
import { BLUETOOTH_SERVICE_CLASS_SERIAL_PORT } from '../../src/sdp/constants.js';

const SERVER_CHANNEL = 5;
const FRAMES = 120;
const SIZE = 200;
const REPLY = 24;

/** The channel's outgoing credits as RFCOMM reports them (introspection), -1 when there is none. */
function creditsOut(n: L2Node, cid: number): number {
  for (const m of n.stack.rfcomm.list()) for (const c of m.channels) if (c.rfcomm_cid === cid) return c.credits_outgoing;
  return -1;
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: client finds SPP through SDP, bursts ${FRAMES} frames beyond the credits, the server replies to each; credits run out and come back`, () => {
    const p = makePair({ profile, tag: `sdp-spp-credits-${profile}`, acl_size: 1021, acl_buffers: 16 });
    const { a, b } = p;
    const C = a.stack.codes;

    // ---- b: SDP record + RFCOMM service that replies to every frame
    assert.is(b.stack.sdp.sdp_init(), 0);
    const rec = new Uint8Array(128);
    const n = spp_create_sdp_record(rec, 0x10001, SERVER_CHANNEL, 'SPP Burst');
    assert.ok(n > 0);
    assert.is(b.stack.sdp.sdp_register_service(rec.subarray(0, n)), 0);
    const atB: Uint8Array[] = [];
    const replies: Uint8Array[] = [];
    let replied = 0;
    let bCid = 0;
    let bNoCredits = 0;
    let bMinCredits = Infinity;
    const bPump = (): void => {
      while (replied < replies.length) {
        const st = b.stack.rfcomm.rfcomm_send(bCid, replies[replied]!);
        if (st === C.RFCOMM_NO_OUTGOING_CREDITS) bNoCredits++;
        if (st !== 0) break;
        replied++;
        bMinCredits = Math.min(bMinCredits, creditsOut(b, bCid));
      }
      if (replied < replies.length) b.stack.rfcomm.rfcomm_request_can_send_now_event(bCid);
    };
    assert.is(
      b.stack.rfcomm.rfcomm_register_service(
        (type, channel, packet, size) => {
          if (type === C.RFCOMM_DATA_PACKET) {
            atB.push(packet.slice(0, size));
            // an echo of the frame and a short acknowledgement: twice as many frames back
            replies.push(packet.slice(0, size), pattern(REPLY, 50_000 + atB.length - 1));
            bPump();
            return;
          }
          if (packet[0] === C.RFCOMM_EVENT_INCOMING_CONNECTION)
            b.stack.rfcomm.rfcomm_accept_connection(C.rfcomm_event_incoming_connection_get_rfcomm_cid(packet));
          else if (packet[0] === C.RFCOMM_EVENT_CHANNEL_OPENED && C.rfcomm_event_channel_opened_get_status(packet) === 0)
            bCid = C.rfcomm_event_channel_opened_get_rfcomm_cid(packet);
          else if (packet[0] === C.RFCOMM_EVENT_CAN_SEND_NOW && channel === bCid) bPump();
        },
        SERVER_CHANNEL,
        SIZE,
      ),
      0,
    );

    // ---- a: SDP query for SerialPort, then the RFCOMM channel it names
    let found = 0;
    let queryDone = -1;
    const atA: Uint8Array[] = [];
    let aCid = 0;
    let sent = 0;
    let aNoCredits = 0;
    const aCredits: number[] = [];
    const aPump = (): void => {
      while (sent < FRAMES) {
        const st = a.stack.rfcomm.rfcomm_send(aCid, pattern(SIZE, sent));
        if (st === C.RFCOMM_NO_OUTGOING_CREDITS) aNoCredits++;
        if (st !== 0) break;
        sent++;
        aCredits.push(creditsOut(a, aCid));
      }
      if (sent < FRAMES) a.stack.rfcomm.rfcomm_request_can_send_now_event(aCid);
    };
    const rfcommHandler = (type: number, channel: number, packet: Uint8Array, size: number): void => {
      if (type === C.RFCOMM_DATA_PACKET) {
        atA.push(packet.slice(0, size));
        return;
      }
      if (packet[0] === C.RFCOMM_EVENT_CHANNEL_OPENED) {
        assert.is(C.rfcomm_event_channel_opened_get_status(packet), 0, 'channel opened');
        assert.is(C.rfcomm_event_channel_opened_get_server_channel(packet), SERVER_CHANNEL);
        aCid = C.rfcomm_event_channel_opened_get_rfcomm_cid(packet);
        aPump();
      } else if (packet[0] === C.RFCOMM_EVENT_CAN_SEND_NOW && channel === aCid && aCid) {
        aPump();
      }
    };
    const st = a.stack.sdp_client.sdp_client_query_rfcomm_channel_and_name_for_uuid(
      (_type, _channel, packet) => {
        if (packet[0] === C.SDP_EVENT_QUERY_RFCOMM_SERVICE) {
          found = C.sdp_event_query_rfcomm_service_get_rfcomm_channel(packet);
          assert.is(C.sdp_event_query_rfcomm_service_get_name(packet), 'SPP Burst');
        } else if (packet[0] === C.SDP_EVENT_QUERY_COMPLETE) {
          queryDone = C.sdp_event_query_complete_get_status(packet);
          assert.is(a.stack.rfcomm.rfcomm_create_channel(rfcommHandler, ADDR_B, found).status, 0);
        }
      },
      ADDR_B,
      BLUETOOTH_SERVICE_CLASS_SERIAL_PORT,
    );
    assert.is(st, 0);
    p.until(() => atB.length === FRAMES && atA.length === 2 * FRAMES, 'burst and replies delivered', 120_000);
    assert.is(queryDone, 0, 'SDP query complete with status 0');
    assert.is(found, SERVER_CHANNEL, 'RFCOMM channel found through SDP');

    // ---- everything arrived, intact and in order
    atB.forEach((d, i) => assert.equal(d, pattern(SIZE, i), `frame ${i} at b`));
    atA.forEach((d, i) => assert.equal(d, i % 2 ? pattern(REPLY, 50_000 + (i >> 1)) : pattern(SIZE, i >> 1), `reply ${i} at a`));

    // ---- introspection: both senders ran dry and got credits again
    assert.ok(aNoCredits > 0, `a: RFCOMM_NO_OUTGOING_CREDITS seen (${aNoCredits} times)`);
    assert.ok(aCredits.includes(0), 'a: outgoing credits reached 0');
    const firstZero = aCredits.indexOf(0);
    assert.ok(
      firstZero < FRAMES - 1 && aCredits.slice(firstZero + 1).some((c) => c > 0),
      'a: credits came back after running out',
    );
    assert.ok(bNoCredits > 0 && bMinCredits === 0, `b: ran out of credits for its replies (${bNoCredits} refusals)`);

    // ---- close, pools back to full, clean captures
    assert.is(a.stack.rfcomm.rfcomm_disconnect(aCid), 0);
    p.until(() => a.stack.rfcomm.list().every((m) => m.channels.length === 0), 'DLC closed');
    p.until(() => a.stack.rfcomm.list().length === 0 && b.stack.rfcomm.list().length === 0, 'multiplexers closed', 120_000);
    b.stack.rfcomm.rfcomm_unregister_service(SERVER_CHANNEL);
    b.stack.sdp.sdp_deinit();
    const [logA, logB] = p.finish();
    assertCleanCapture(logA);
    assertCleanCapture(logB);

    // ---- the wire (a's capture, as tshark's RFCOMM dissector reads it): per direction, the credits
    // granted (PN initial credits + credit octets) against the data frames sent on the DLC
    const dlci = SERVER_CHANNEL << 1; // the server is on the responder: direction bit 0
    const rows = tsharkFields(
      logA,
      [
        'hci_h4.direction',
        'btrfcomm.dlci',
        'btrfcomm.frame_type',
        'btrfcomm.len',
        'btrfcomm.credits',
        'btrfcomm.mcc.cmd',
        'btrfcomm.mcc.dlci',
        'btrfcomm.error_recovery_mode',
      ],
      'btrfcomm',
    ).map((r) => ({
      sent: parseInt(r[0]!, 16) === 0,
      dlci: parseInt(r[1]!, 16),
      type: parseInt(r[2]!, 16),
      len: Number(r[3]),
      credits: r[4] ? Number(r[4]) : 0,
      mcc: r[5] ? parseInt(r[5].split(',')[0]!, 16) : -1,
      mccDlci: r[6] ? parseInt(r[6], 16) : -1,
      // RFCOMM puts the initial credits (k) in TS 07.10's window-size octet, which Wireshark names "Error Recovery Mode"
      k: r[7] ? Number(r[7]) : -1,
    }));
    for (const [what, senderIsA, total] of [
      ['a -> b', true, FRAMES],
      ['b -> a', false, 2 * FRAMES],
    ] as const) {
      const pn = rows.find((r) => r.dlci === 0 && r.mcc === 0x20 && r.mccDlci === dlci && r.sent !== senderIsA);
      assert.ok(pn && pn.k > 0 && pn.k < 10, `${what}: PN from the receiver offers initial credits (${pn?.k})`);
      let balance = pn!.k;
      let frames = 0;
      let dry = 0;
      let refilledAfterDry = false;
      for (const r of rows) {
        if (r.dlci !== dlci || r.type !== 0xef) continue;
        if (r.credits > 0 && r.sent !== senderIsA) {
          if (balance === 0 && frames > 0 && frames < total) refilledAfterDry = true;
          balance += r.credits;
        }
        if (r.len > 0 && r.sent === senderIsA) {
          frames++;
          balance--;
          assert.ok(balance >= 0, `${what}: data frame ${frames} sent without a credit`);
          if (balance === 0 && frames < total) dry++;
        }
      }
      assert.is(frames, total, `${what}: ${total} data frames on DLCI ${dlci}`);
      assert.ok(dry > 0, `${what}: the sender used up every credit with data left to send (${dry} times)`);
      assert.ok(refilledAfterDry, `${what}: credits granted again after running out`);
    }
  });
}

test.run();
