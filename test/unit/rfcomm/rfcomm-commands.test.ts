/**
 * RFCOMM multiplexer commands and bad input, driven by a hand-written peer (the initiator) against
 * an RFCOMM server: Test echo, RLS, RPN (command, query, before the DLC, response events per
 * profile), MSC, NSC for unsupported commands, several commands in one frame; frames with a bad
 * FCS, a wrong length, a bad address or control field, unknown DLCIs, UIH before SABM, PN with
 * absurd sizes, truncated commands, DISC on a closed DLC. The layer answers as the specs say
 * (DM, NSC, silence) and keeps working.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../../src/core/bytes.js';
import type { VirtualRunLoop } from '../../../src/core/run-loop.js';
import {
  rfcomm_event_port_configuration_get_baud_rate,
  rfcomm_event_port_configuration_get_data_bits,
  rfcomm_event_port_configuration_get_flow_control,
  rfcomm_event_port_configuration_get_parameter_mask_0,
  rfcomm_event_port_configuration_get_parameter_mask_1,
  rfcomm_event_port_configuration_get_parity,
  rfcomm_event_port_configuration_get_remote,
  rfcomm_event_port_configuration_get_rfcomm_cid,
  rfcomm_event_port_configuration_get_stop_bits,
  rfcomm_event_port_configuration_get_xoff,
  rfcomm_event_port_configuration_get_xon,
} from '../../../src/rfcomm/rfcomm.js';
import {
  ADDR_A,
  ADDR_B,
  INCOMING,
  LINE_STATUS,
  MODEM_STATUS,
  OPENED,
  PORT_CONFIG,
  auto_accept,
  fr,
  frame_by_hand,
  make_pair,
  make_raw,
  opened_info,
  type Node,
  type RawPeer,
} from './rfcomm-helpers.js';

const h = (b: Uint8Array): string => hex(b).replace(/ /g, '');
/** A UIH frame on DLCI 0 from the responder (A) carrying `cmd`. */
const fromA0 = (cmd: number[]): string => h(frame_by_hand(0x01, 0xef, cmd));

/** The raw peer opens the session and A's server channel 4 (DLCI 8) with PN; returns nothing, A's cid is 1. */
function open_as_initiator(loop: VirtualRunLoop, a: Node, p: RawPeer, withDlc = true): void {
  auto_accept(a);
  a.rfcomm.rfcomm_register_service(a.handler, 4, 500);
  p.connect(ADDR_A);
  loop.run(10);
  p.send(fr(0x03, 0x3f));
  loop.run(10);
  assert.equal(p.rx(), ['037301d7']);
  if (!withDlc) return;
  p.send(fr(0x03, 0xef, [0x83, 0x11, 0x08, 0xf0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07])); // PN N1 256
  loop.run(10);
  p.send(fr(0x23, 0x3f)); // SABM 8
  loop.run(10);
  p.send(fr(0x03, 0xef, [0xe1, 0x05, 0x23, 0x8d])); // MSC response
  p.send(fr(0x03, 0xef, [0xe3, 0x05, 0x23, 0x8d])); // MSC command
  loop.run(10);
  assert.equal(a.events(OPENED).map(opened_info), [{ status: 0, cid: 1, mfs: 256, incoming: 1 }]);
  p.received.length = 0;
  a.clear();
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: Test echo, RLS, RPN command / query / response, MSC, NSC, two commands in one frame`, () => {
    const { loop, a, p } = make_raw(profile);
    open_as_initiator(loop, a, p);
    // Test: echoed in a Test response
    p.send(fr(0x03, 0xef, [0x23, 0x07, 0xaa, 0xbb, 0xcc]));
    loop.run(10);
    assert.equal(p.rx(), [fromA0([0x21, 0x07, 0xaa, 0xbb, 0xcc])]);
    // RLS command: REMOTE_LINE_STATUS (channel 0), RLS response echoing the status
    p.received.length = 0;
    p.send(fr(0x03, 0xef, [0x53, 0x05, 0x23, 0x05]));
    loop.run(10);
    assert.equal(
      a.events(LINE_STATUS).map((r) => [r.channel, r.hex]),
      [[0, '8303010005']],
    );
    assert.equal(p.rx(), [fromA0([0x51, 0x05, 0x23, 0x05])]);
    // RPN command: 115200 baud, 7 data bits, odd parity; masks: baud, data bits, parity (0x0B), RTC out (0x20)
    p.received.length = 0;
    p.send(fr(0x03, 0xef, [0x93, 0x11, 0x23, 0x07, 0x0a, 0x20, 0x11, 0x13, 0x0b, 0x20]));
    loop.run(10);
    // flags: data bits 2 (7 bits), parity bit 3 set; stop bits, parity type untouched; flow control bit 5 taken; XON/XOFF not masked
    const settings = [0x07, 0x0a, 0x20, 0xd1, 0xd3, 0x0b, 0x20];
    assert.equal(p.rx(), [fromA0([0x91, 0x11, 0x23, ...settings])], 'RPN response with the accepted values and masks');
    const pc = a.events(PORT_CONFIG);
    assert.is(pc.length, 1);
    assert.is(pc[0]!.channel, 1, 'PORT_CONFIGURATION with channel = rfcomm_cid');
    assert.is(
      pc[0]!.hex,
      profile === 'v1.4' ? '8807' + h(Uint8Array.from(settings)) : '880a010000' + h(Uint8Array.from(settings)),
    );
    const e = pc[0]!.bytes;
    assert.is(rfcomm_event_port_configuration_get_rfcomm_cid(e), profile === 'v1.4' ? 0 : 1);
    assert.is(rfcomm_event_port_configuration_get_remote(e), false);
    assert.is(rfcomm_event_port_configuration_get_baud_rate(e), 0x07);
    assert.is(rfcomm_event_port_configuration_get_data_bits(e), 2);
    assert.is(rfcomm_event_port_configuration_get_stop_bits(e), 0);
    assert.is(rfcomm_event_port_configuration_get_parity(e), 1);
    assert.is(rfcomm_event_port_configuration_get_flow_control(e), 0x20);
    assert.is(rfcomm_event_port_configuration_get_xon(e), 0xd1);
    assert.is(rfcomm_event_port_configuration_get_xoff(e), 0xd3);
    assert.is(rfcomm_event_port_configuration_get_parameter_mask_0(e), 0x0b);
    assert.is(rfcomm_event_port_configuration_get_parameter_mask_1(e), 0x20);
    // RPN query: current settings, masks 0
    p.received.length = 0;
    p.send(fr(0x03, 0xef, [0x93, 0x03, 0x23]));
    loop.run(10);
    assert.equal(p.rx(), [fromA0([0x91, 0x11, 0x23, 0x07, 0x0a, 0x20, 0xd1, 0xd3, 0x00, 0x00])]);
    // MSC command later on: REMOTE_MODEM_STATUS and MSC response
    p.received.length = 0;
    p.send(fr(0x03, 0xef, [0xe3, 0x05, 0x23, 0xcd]));
    loop.run(10);
    assert.equal(
      a.events(MODEM_STATUS).map((r) => [r.channel, r.hex]),
      [[1, '87030100cd']],
    );
    assert.equal(p.rx(), [fromA0([0xe1, 0x05, 0x23, 0xcd])]);
    // unsupported commands: PSC (0x43), CLD (0xC3), SNC (0xD3), an unknown type (0xFF) -> NSC each
    p.received.length = 0;
    for (const t of [0x43, 0xc3, 0xd3, 0xff]) p.send(fr(0x03, 0xef, [t, 0x01]));
    loop.run(10);
    assert.equal(
      p.rx(),
      [0x43, 0xc3, 0xd3, 0xff].map((t) => fromA0([0x11, 0x03, t])),
    );
    // a response of an unknown type is dropped without an answer; NSC from the peer is only logged
    p.received.length = 0;
    p.send(fr(0x03, 0xef, [0x41, 0x01]));
    p.send(fr(0x03, 0xef, [0x11, 0x03, 0x93]));
    loop.run(10);
    assert.equal(p.rx(), []);
    // two commands in one frame: Test and RLS
    p.send(fr(0x03, 0xef, [0x23, 0x03, 0x01, 0x53, 0x05, 0x23, 0x03]));
    loop.run(10);
    assert.equal(p.rx().sort(), [fromA0([0x21, 0x03, 0x01]), fromA0([0x51, 0x05, 0x23, 0x03])].sort());
    // the DLC still carries data
    p.received.length = 0;
    assert.is(a.rfcomm.rfcomm_send(1, Uint8Array.of(0x55)), 0);
    loop.run(10);
    assert.equal(p.rx(), [h(frame_by_hand(0x21, 0xef, [0x55]))]);
  });

  test(`${profile}: rfcomm_send_modem_status / _local_line_status / _port_configuration / query; the peer's RPN response`, () => {
    const { loop, a, p } = make_raw(profile);
    open_as_initiator(loop, a, p);
    assert.is(a.rfcomm.rfcomm_send_modem_status(1, 0x8c), 0);
    loop.run(10);
    assert.equal(p.rx(), [fromA0([0xe3, 0x05, 0x23, 0x8d])], 'MSC command (EA set)');
    p.received.length = 0;
    assert.is(a.rfcomm.rfcomm_send_local_line_status(1, 0x09), 0);
    loop.run(10);
    assert.equal(p.rx(), [fromA0([0x53, 0x05, 0x23, 0x09])]);
    p.received.length = 0;
    // 19200 baud (4), 8 data bits (code 3), 1 stop bit, even parity (3), RTR in/out (0x0C)
    assert.is(a.rfcomm.rfcomm_send_port_configuration(1, 4, 3, 0, 3, 0x0c), 0);
    loop.run(10);
    assert.equal(p.rx(), [fromA0([0x93, 0x11, 0x23, 0x04, 0x1b, 0x0c, 0x00, 0x00, 0x1f, 0x3f])]);
    p.received.length = 0;
    assert.is(a.rfcomm.rfcomm_query_port_configuration(1), 0);
    loop.run(10);
    assert.equal(p.rx(), [fromA0([0x93, 0x03, 0x23])]);
    // the peer's RPN response: v1.8 reports the remote port, v1.4 has no event for it
    p.send(fr(0x03, 0xef, [0x91, 0x11, 0x23, 0x06, 0x03, 0x00, 0x11, 0x13, 0x7f, 0x3f]));
    loop.run(10);
    const pc = a.events(PORT_CONFIG);
    if (profile === 'v1.8') {
      assert.equal(
        pc.map((r) => [r.channel, r.hex]),
        [[1, '880a0100010603001113' + '7f3f']],
      );
      assert.is(rfcomm_event_port_configuration_get_remote(pc[0]!.bytes), true);
    } else {
      assert.is(pc.length, 0);
    }
    // errors
    assert.is(a.rfcomm.rfcomm_send_modem_status(9, 0), 0x02);
    assert.is(a.rfcomm.rfcomm_query_port_configuration(9), 0x02);
    assert.throws(() => a.rfcomm.rfcomm_send_local_line_status(1, 300), TypeError);
  });
}

test('MSC / RLS / RPN from the API are queued while L2CAP has no buffer (0 returned, nothing lost, the latest modem status wins); errors; server channels 1-30', () => {
  const { loop, a, p } = make_raw('v1.4');
  open_as_initiator(loop, a, p);
  // the controller's buffers are full: BTstack would return BTSTACK_ACL_BUFFERS_FULL and drop the command
  a.l2cap.window = 0;
  assert.is(a.rfcomm.rfcomm_can_send_packet_now(1), false);
  assert.is(a.rfcomm.rfcomm_send_modem_status(1, 0x0c), 0);
  assert.is(a.rfcomm.rfcomm_send_modem_status(1, 0x8c), 0, 'a second value before the first went out replaces it');
  assert.is(a.rfcomm.rfcomm_send_local_line_status(1, 0x05), 0);
  assert.is(a.rfcomm.rfcomm_query_port_configuration(1), 0);
  loop.run(100);
  assert.equal(p.rx(), [], 'nothing on the wire while L2CAP cannot send');
  a.l2cap.window = 4;
  assert.is(a.rfcomm.rfcomm_request_can_send_now_event(1), 0);
  loop.run(100);
  // one MSC with the latest value (EA set), then RLS, then the RPN query, all on DLCI 0 from the responder
  assert.equal(p.rx(), [fromA0([0xe3, 0x05, 0x23, 0x8d]), fromA0([0x53, 0x05, 0x23, 0x05]), fromA0([0x93, 0x03, 0x23])]);
  // unknown rfcomm_cid (BTstack returns 0): ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER
  assert.is(a.rfcomm.rfcomm_send_local_line_status(9, 0), 0x02);
  assert.is(a.rfcomm.rfcomm_send_port_configuration(9, 0, 3, 0, 0, 0), 0x02);
  // server channels outside 1-30: ERROR_CODE_UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE
  assert.is(a.rfcomm.rfcomm_register_service(a.handler, 0, 100), 0x11);
  assert.is(a.rfcomm.rfcomm_register_service(a.handler, 31, 100), 0x11);
  assert.is(a.rfcomm.rfcomm_register_service_with_initial_credits(a.handler, 40, 100, 1), 0x11);
  assert.equal(a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 31), { status: 0x11, rfcomm_cid: 0 });
  assert.equal(a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 0), { status: 0x11, rfcomm_cid: 0 });
  assert.is(a.rfcomm.rfcomm_register_service(a.handler, 30, 100), 0);
});

test('before the DLC is open: modem status set for the setup MSC, line status and port configuration disallowed', () => {
  const { loop, a, p } = make_raw('v1.4');
  open_as_initiator(loop, a, p, false);
  a.rfcomm.rfcomm_register_service(a.handler, 5, 100);
  auto_accept(a);
  p.send(fr(0x03, 0xef, [0x83, 0x11, 0x0a, 0xf0, 0x00, 0x00, 0x64, 0x00, 0x00, 0x07])); // PN for DLCI 10, N1 100
  loop.run(10);
  p.send(fr(0x2b, 0x3f)); // SABM 10
  loop.run(10);
  assert.is(a.events(INCOMING).length, 1, 'accepted: rfcomm_cid 1');
  // UA sent, the setup MSC too: the DLC is in setup until the peer answers the MSC
  assert.is(a.rfcomm.rfcomm_send_local_line_status(1, 0x05), 0x0c, 'ERROR_CODE_COMMAND_DISALLOWED');
  assert.is(a.rfcomm.rfcomm_send_port_configuration(1, 0, 3, 0, 0, 0), 0x0c);
  assert.is(a.rfcomm.rfcomm_query_port_configuration(1), 0x0c);
  p.received.length = 0;
  assert.is(a.rfcomm.rfcomm_send_modem_status(1, 0x04), 0, 'allowed during setup');
  loop.run(10);
  // the setup MSC went out already: the new value follows in a second MSC (EA set: 0x05)
  assert.equal(p.rx(), [fromA0([0xe3, 0x05, 0x2b, 0x05])]);
});

test('bad frames are discarded silently and the session goes on: FCS, length, address, control, truncated', () => {
  const { loop, a, p } = make_raw('v1.4');
  open_as_initiator(loop, a, p);
  const good = fr(0x23, 0xef, [0x41]);
  const badFcs = good.slice();
  badFcs[badFcs.length - 1]! ^= 0x01;
  const longer = fr(0x23, 0xef, [0x41, 0x42]);
  const lying = longer.slice();
  lying[2] = (5 << 1) | 1; // says 5 octets, carries 2
  const eaZero = fr(0x23, 0xef, [0x41]);
  eaZero[0] = 0x22;
  const badControl = Uint8Array.from([0x23, 0x2b, 0x01, 0x00]);
  const twoOctetLenLie = Uint8Array.from([0x23, 0xef, 0x00, 0x10, 0x41, 0x00]);
  for (const f of [
    badFcs,
    lying,
    eaZero,
    badControl,
    twoOctetLenLie,
    Uint8Array.of(0x23),
    Uint8Array.of(),
    Uint8Array.of(0x23, 0xef, 0x01),
  ])
    p.send(f);
  // a PN response with a wrong length (7 octets of value), a truncated MSC
  p.send(fr(0x03, 0xef, [0x81, 0x0f, 0x08, 0xe0, 0x00, 0x00, 0x10, 0x00, 0x00]));
  p.send(fr(0x03, 0xef, [0xe3, 0x05, 0x23]));
  loop.run(10);
  assert.equal(p.rx(), [], 'no answer to any of them');
  assert.is(a.data().length, 0);
  p.send(good);
  loop.run(10);
  assert.equal(
    a.data().map((d) => d.hex),
    ['41'],
    'a good frame afterwards is delivered',
  );
});

test('unknown DLCI, UIH before SABM, DISC on a closed DLC, wrong direction bit, frames before the session', () => {
  const { loop, a, p } = make_raw('v1.8');
  auto_accept(a);
  a.rfcomm.rfcomm_register_service(a.handler, 4, 500);
  p.connect(ADDR_A);
  loop.run(10);
  // before SABM 0: UIH on DLCI 0 and PN are not accepted; DISC gets DM
  p.send(fr(0x03, 0xef, [0x83, 0x11, 0x08, 0xf0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07]));
  p.send(fr(0x23, 0x3f));
  loop.run(10);
  assert.equal(p.rx(), []);
  assert.is(a.events(INCOMING).length, 0);
  p.send(fr(0x23, 0x53));
  loop.run(10);
  assert.equal(p.rx(), [h(frame_by_hand(0x23, 0x1f))], 'DM with F for DISC in disconnected mode');
  p.received.length = 0;
  p.send(fr(0x03, 0x3f));
  loop.run(10);
  assert.equal(p.rx(), ['037301d7']);
  p.received.length = 0;
  // data on a DLCI nobody opened: DM (TS 07.10 5.3.3), F = 0 as the UIH had P = 0; on one that only had a PN so far: discarded
  p.send(fr(0x53, 0xef, [1, 2, 3]));
  loop.run(10);
  assert.equal(p.rx(), [h(frame_by_hand(0x53, 0x0f))], 'DM without F for the UIH on DLCI 20');
  p.received.length = 0;
  p.send(fr(0x03, 0xef, [0x83, 0x11, 0x08, 0xf0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07]));
  loop.run(10);
  assert.is(a.events(INCOMING).length, 1);
  p.send(fr(0x23, 0xef, [9, 9]));
  p.send(fr(0x23, 0xff, [9, 9], 5));
  loop.run(10);
  assert.is(a.data().length, 0, 'UIH before SABM discarded');
  assert.equal(
    p.rx(),
    [h(frame_by_hand(0x01, 0xef, [0x81, 0x11, 0x08, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07]))],
    'only the PN response (N1 256 as asked)',
  );
  p.received.length = 0;
  // DISC on a DLC that is not open: DM
  p.send(fr(0x53, 0x53));
  loop.run(10);
  assert.equal(p.rx(), [h(frame_by_hand(0x53, 0x1f))]);
  p.received.length = 0;
  // SABM for server channel 4 with the direction bit of a server on the initiator (DLCI 9): not ours -> DM
  p.send(fr(0x27, 0x3f));
  loop.run(10);
  assert.equal(p.rx(), [h(frame_by_hand(0x27, 0x1f))]);
  // MSC / RLS for DLCIs without a channel: discarded; RPN for a served DLCI without a channel: answered
  p.received.length = 0;
  p.send(fr(0x03, 0xef, [0xe3, 0x05, 0x53, 0x8d]));
  p.send(fr(0x03, 0xef, [0x53, 0x05, 0x53, 0x01]));
  loop.run(10);
  assert.equal(p.rx(), []);
  a.rfcomm.rfcomm_register_service(a.handler, 6, 100);
  p.send(fr(0x03, 0xef, [0x93, 0x03, 0x33])); // RPN query for DLCI 12 (server channel 6)
  p.send(fr(0x03, 0xef, [0x93, 0x03, 0x63])); // RPN query for DLCI 24 (nobody): DM
  loop.run(10);
  assert.equal(
    p.rx().sort(),
    [
      h(frame_by_hand(0x01, 0xef, [0x91, 0x11, 0x33, 0x03, 0x03, 0x00, 0xd1, 0xd3, 0x00, 0x00])),
      h(frame_by_hand(0x63, 0x1f)),
    ].sort(),
  );
});

test('PN with absurd sizes: N1 0 refused with DM, N1 65535 answered with what we take, k above 7 masked', () => {
  const { loop, a, p } = make_raw('v1.4');
  open_as_initiator(loop, a, p, false);
  p.received.length = 0;
  p.send(fr(0x03, 0xef, [0x83, 0x11, 0x08, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07]));
  loop.run(10);
  assert.equal(p.rx(), [h(frame_by_hand(0x23, 0x1f))], 'N1 0: DM');
  assert.is(a.events(INCOMING).length, 0);
  p.received.length = 0;
  p.send(fr(0x03, 0xef, [0x83, 0x11, 0x08, 0xf0, 0x3f, 0xff, 0xff, 0xff, 0xff, 0xff]));
  loop.run(10);
  // priority 63 kept, N1 500 (the service), k 7 from our side; the peer's k 0xFF counts as 7
  assert.equal(p.rx(), [h(frame_by_hand(0x01, 0xef, [0x81, 0x11, 0x08, 0xe0, 0x3f, 0x00, 0xf4, 0x01, 0x00, 0x07]))]);
  p.send(fr(0x23, 0x3f));
  loop.run(10);
  p.send(fr(0x03, 0xef, [0xe1, 0x05, 0x23, 0x8d]));
  loop.run(10);
  assert.equal(
    a
      .events(OPENED)
      .map(opened_info)
      .map((o) => [o.status, o.mfs]),
    [[0, 500]],
  );
  assert.is(a.rfcomm.list()[0]!.channels[0]!.credits_outgoing, 7);
  // a PN on the open DLC: answered with the current parameters, nothing changes
  p.received.length = 0;
  p.send(fr(0x03, 0xef, [0x83, 0x11, 0x08, 0xf0, 0x00, 0x00, 0x10, 0x00, 0x00, 0x07]));
  loop.run(10);
  assert.equal(p.rx(), [h(frame_by_hand(0x01, 0xef, [0x81, 0x11, 0x08, 0xe0, 0x3f, 0x00, 0xf4, 0x01, 0x00, 0x00]))]);
  assert.is(a.rfcomm.rfcomm_get_max_frame_size(1), 500);
});

test('an unsolicited PN response, UA or DM for unknown DLCIs change nothing', () => {
  const { loop, a, b } = make_pair('v1.4');
  auto_accept(b);
  b.rfcomm.rfcomm_register_service(b.handler, 1, 100);
  const cid = a.rfcomm.rfcomm_create_channel(a.handler, ADDR_B, 1).rfcomm_cid;
  loop.run(100);
  const l2 = b.l2cap.first_cid();
  b.l2cap.inject(l2, fr(0x01, 0xef, [0x81, 0x11, 0x14, 0xe0, 0x00, 0x00, 0x10, 0x00, 0x00, 0x07]));
  b.l2cap.inject(l2, fr(0x53, 0x73));
  b.l2cap.inject(l2, fr(0x53, 0x1f));
  b.l2cap.inject(l2, fr(0x01, 0x73)); // UA 0 while open
  b.l2cap.inject(l2, fr(0x01, 0x3f)); // SABM 0 to the initiator
  loop.run(100);
  assert.is(a.rfcomm.rfcomm_send(cid, Uint8Array.of(7)), 0);
  loop.run(100);
  assert.equal(
    b.data().map((d) => d.hex),
    ['07'],
  );
  assert.is(a.events(0x81).length, 0);
});

test.run();
