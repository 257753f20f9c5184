/**
 * A peer that will not pair cannot reach spp-counter's RFCOMM service (issue 13, "a level-0 peer
 * is refused with the security block result where mode 4 requires it"). spp-counter (the example's
 * own start_spp_counter, unmodified: mode 4, RFCOMM at level 2) runs on one stack of the virtual
 * radio; the peer is in security mode 2 (its outgoing channels ask for nothing) and refuses to
 * pair, either as a legacy device (SSP off) answering the PIN Code Request negatively, or as an
 * SSP device that is not bondable (IO Capability Request Negative Reply, 0x18).
 *
 * On the wire (tshark btl2cap.result / btl2cap.status on spp-counter's capture): the Connection
 * Request for PSM 3 is answered "pending, authentication pending" (result 1, status 1), then
 * "security block" (result 3). The peer's application sees exactly one RFCOMM_EVENT_CHANNEL_OPENED
 * with L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY (0x66, BTstack's 0x63 + result), byte for
 * byte in both profiles; spp-counter's application sees no RFCOMM event. SDP (PSM 1) stays open to
 * the level-0 peer, as mode 4 exempts it. Pools back to full, captures clean in tshark and btmon.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import { hex, sscanf_bd_addr } from '../../src/core/bytes.js';
import * as C from '../../src/codes/v1.4.js';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { start_spp_counter } from '../../examples/spp-counter.js';
import { start_spp_client } from '../../examples/spp-client.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-spp-security-block-'));
const ADDR_SERVER = sscanf_bd_addr('5E:C0:00:00:00:01')!;
const ADDR_PEER = sscanf_bd_addr('5E:C0:00:00:00:02')!;
const h = (b: Uint8Array): string => hex(b).replace(/ /g, '');
const le16 = (v: number): string => h(Uint8Array.of(v & 0xff, v >> 8));

type Refusal = 'legacy PIN refused' | 'SSP, not bondable';

interface World {
  rl: VirtualRunLoop;
  server: Stack;
  peer: Stack;
  /** What spp-counter printed. */
  server_lines: string[];
  server_log: string;
  peer_log: string;
  /** The peer's HCI events (codes). */
  peer_events: number[];
  run_until(pred: () => boolean, what: string, ms?: number): void;
  /** Power both off, pools full, captures clean. */
  finish(): void;
}

function world(tag: string, profile: 'v1.4' | 'v1.8', refusal: Refusal): World {
  const rl = new VirtualRunLoop();
  rl.onError = (err) => {
    throw err;
  };
  const link = new RadioLink(rl, { seed: tag });
  const mk = (name: string, addr: Uint8Array) => {
    const stack = new Stack({
      transport: new VirtualTransport(link.create_controller({ bd_addr: addr, name })),
      run_loop: rl,
      profile,
    });
    const log = path.join(tmp, `${tag}-${name}.btsnoop`);
    assert.is(stack.open_packet_log(log, 'btsnoop'), 0);
    return { stack, log };
  };
  const s = mk('spp-counter', ADDR_SERVER);
  const p = mk('peer', ADDR_PEER);
  const server_lines: string[] = [];
  const stop = start_spp_counter(s.stack, { print: (l) => server_lines.push(l) });

  // the level-0 peer: security mode 2, and it will not pair
  const peer = p.stack;
  assert.is(peer.gap.gap_set_security_mode(C.GAP_SECURITY_MODE_2), 0);
  if (refusal === 'legacy PIN refused') peer.gap.gap_ssp_set_enable(0);
  else peer.gap.gap_set_bondable_mode(0);
  const peer_events: number[] = [];
  peer.hci.hci_add_event_handler({
    callback: (type, _c, e) => {
      if (type !== C.HCI_EVENT_PACKET) return;
      peer_events.push(e[0]!);
      if (e[0] === peer.codes.HCI_EVENT_PIN_CODE_REQUEST)
        assert.is(peer.gap.gap_pin_code_negative(peer.codes.hci_event_pin_code_request_get_bd_addr(e)), 0);
    },
  });

  const run_until = (pred: () => boolean, what: string, ms = 60_000): void => assert.ok(rl.run_until(pred, ms), what);
  for (const st of [s.stack, peer]) assert.is(st.hci.hci_power_control(C.HCI_POWER_ON), 0);
  run_until(() => [s.stack, peer].every((st) => st.hci.hci_get_state() === C.HCI_STATE_WORKING), 'both stacks working', 10_000);
  rl.run(100);
  return {
    rl,
    server: s.stack,
    peer,
    server_lines,
    server_log: s.log,
    peer_log: p.log,
    peer_events,
    run_until,
    finish() {
      // spp-counter's application leaves: heartbeat, RFCOMM service (and PSM 3), SDP (record, PSM 1)
      stop();
      s.stack.rfcomm.rfcomm_unregister_service(1);
      s.stack.sdp.sdp_deinit();
      rl.run(20_000); // the idle link goes
      for (const st of [s.stack, peer]) st.hci.hci_power_control(C.HCI_POWER_OFF);
      run_until(() => [s.stack, peer].every((st) => st.hci.hci_get_state() === C.HCI_STATE_OFF), 'both off', 10_000);
      rl.run(30_000);
      for (const [name, st] of [
        ['spp-counter', s.stack],
        ['peer', peer],
      ] as const) {
        assert.equal(st.pools.busy(), [], `${name}: pools back to full`);
        st.close_packet_log();
      }
      assertCleanCapture(s.log);
      assertCleanCapture(p.log);
    },
  };
}

/** spp-counter's Connection Responses: [result, status] per response. */
function connection_responses(log: string): number[][] {
  return tsharkFields(log, ['btl2cap.result', 'btl2cap.status'], 'btl2cap.cmd_code == 0x03').map((r) =>
    r.map((x) => parseInt(x!, 16)),
  );
}

/** spp-counter's side on the wire and in its application, after the refusal. */
function assert_refused_by_server(w: World, sdp_first: boolean): void {
  const results = connection_responses(w.server_log);
  // SDP (exempt) accepted at once; PSM 3: pending / authentication pending, then security block
  assert.equal(results, [...(sdp_first ? [[0, 0]] : []), [1, 1], [3, 0]]);
  const psms = tsharkFields(w.server_log, ['btl2cap.psm'], 'btl2cap.cmd_code == 0x02').map(([x]) => parseInt(x!, 16));
  assert.equal(psms, [...(sdp_first ? [0x0001] : []), 0x0003]);
  // spp-counter asked for authentication and encryption (Authentication Requested), it failed
  assert.is(tsharkFields(w.server_log, ['frame.number'], 'bthci_cmd.opcode == 0x0411').length, 1, 'Authentication Requested');
  assert.equal(
    tsharkFields(w.server_log, ['frame.number'], 'bthci_evt.code == 0x08'),
    [],
    'no Encryption Change: the link stays at level 0',
  );
  assert.not.ok(
    w.server_lines.some((l) => /RFCOMM channel|SSP User Confirmation/.test(l)),
    `spp-counter's application saw no RFCOMM channel:\n${w.server_lines.join('\n')}`,
  );
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: legacy peer (mode 2, SSP off) refusing the PIN: L2CAP security block for PSM 3, one RFCOMM_EVENT_CHANNEL_OPENED 0x66`, () => {
    const w = world(`legacy-${profile}`, profile, 'legacy PIN refused');
    const opened: string[] = [];
    let handle = -1;
    const handler = (type: number, _channel: number, packet: Uint8Array, size: number): void => {
      if (type !== C.HCI_EVENT_PACKET) return;
      if (packet[0] === w.peer.codes.RFCOMM_EVENT_CHANNEL_OPENED) {
        opened.push(h(packet.subarray(0, size)));
        handle = w.peer.hci.hci_connection_for_bd_addr_and_type(ADDR_SERVER, C.BD_ADDR_TYPE_ACL)?.con_handle ?? -1;
      }
    };
    w.peer.rfcomm.rfcomm_init();
    const r = w.peer.rfcomm.rfcomm_create_channel(handler, ADDR_SERVER, 1);
    assert.is(r.status, 0);
    w.run_until(() => opened.length > 0, 'RFCOMM_EVENT_CHANNEL_OPENED', 120_000);
    w.rl.run(5_000); // nothing more comes
    assert.ok(handle >= 0 && handle < 0x0f00, `the ACL was up (handle ${handle})`);
    const mfs = Math.min(32767, w.peer.l2cap.l2cap_max_mtu() - 5);
    // code, length 16, status 0x66 (L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY), bd_addr reversed,
    // con_handle, server channel 1, rfcomm_cid, max_frame_size, incoming 0, reserved 0
    const rev = h(Uint8Array.from(ADDR_SERVER).reverse());
    assert.equal(opened, [`801066${rev}${le16(handle)}01${le16(r.rfcomm_cid)}${le16(mfs)}0000`]);
    assert.is(C.L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY, 0x66);
    // the legacy exchange: spp-counter answered 0000 as BTstack's example, the peer refused
    assert.ok(w.server_lines.includes("Pin code request - using '0000'"), w.server_lines.join('\n'));
    assert.equal(
      tsharkFields(w.server_log, ['bthci_cmd.opcode'], 'bthci_cmd.opcode == 0x040d').map(([x]) => parseInt(x!, 16)),
      [0x040d],
      'spp-counter: PIN Code Request Reply',
    );
    assert.equal(
      tsharkFields(w.peer_log, ['bthci_cmd.opcode'], 'bthci_cmd.opcode == 0x040e').map(([x]) => parseInt(x!, 16)),
      [0x040e],
      'peer: PIN Code Request Negative Reply',
    );
    assert.is(w.peer_events.filter((c) => c === C.HCI_EVENT_PIN_CODE_REQUEST).length, 1);
    assert_refused_by_server(w, false);
    w.finish();
  });
}

test('v1.4: SSP peer that is not bondable, through the spp-client example: SDP works (exempt), RFCOMM refused, one failure, exit code 1', () => {
  const w = world('not-bondable', 'v1.4', 'SSP, not bondable');
  const lines: string[] = [];
  let done = -1;
  start_spp_client(w.peer, ADDR_SERVER, { print: (l) => lines.push(l), lines: 3, verbose: true, on_done: (c) => (done = c) });
  w.run_until(() => done >= 0, 'spp-client done', 120_000);
  w.rl.run(5_000);
  assert.is(done, 1, lines.join('\n'));
  assert.ok(lines.includes("Found RFCOMM channel 1: 'SPP Counter'"), 'SDP at level 0 found the service');
  const opened = lines.filter((l) => l.startsWith('RFCOMM_EVENT_CHANNEL_OPENED'));
  assert.is(opened.length, 1, lines.join('\n'));
  assert.match(opened[0]!, /^RFCOMM_EVENT_CHANNEL_OPENED status=102 /);
  assert.ok(lines.includes('RFCOMM channel open failed: L2CAP: security block (0x66)'), lines.join('\n'));
  assert.not.ok(
    lines.some((l) => l.startsWith('RFCOMM_EVENT_CHANNEL_CLOSED')),
    'no close event for a channel never opened',
  );
  // the peer refused with IO Capability Request Negative Reply, reason Pairing Not Allowed
  assert.equal(
    tsharkFields(w.peer_log, ['bthci_cmd.reason'], 'bthci_cmd.opcode == 0x0434').map(([x]) => parseInt(x!, 16)),
    [0x18],
  );
  assert.equal(
    tsharkFields(w.server_log, ['bthci_evt.status'], 'bthci_evt.code == 0x36').map(([x]) => parseInt(x!, 16)),
    [0x18],
    'spp-counter: Simple Pairing Complete, Pairing Not Allowed',
  );
  assert_refused_by_server(w, true);
  w.finish();
});

test.run();
