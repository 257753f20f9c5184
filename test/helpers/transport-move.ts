/**
 * The transport end-to-end run in virtual time (for the fake HCI socket and the fake USB device):
 * a stack on the transport under test and a peer stack (VirtualTransport) on one radio; the stack
 * powers on, inquires and finds the peer, opens an L2CAP channel and an RFCOMM channel to it and
 * moves `size` bytes over each (a position-dependent pattern, every byte checked on arrival), and
 * `size` bytes back from the peer over the L2CAP channel (the controller's ACL packets to the host).
 */
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { bd_addr_cmp, sscanf_bd_addr, type BdAddr } from '../../src/core/bytes.js';
import { RadioLink } from '../../src/controller/index.js';
import type { VirtualController } from '../../src/controller/controller.js';
import type { ControllerOptions } from '../../src/controller/index.js';
import type { HciTransport } from '../../src/hci/transport.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import * as C from '../../src/codes/v1.4.js';

export const HOST_ADDR = sscanf_bd_addr('AA:00:00:00:00:01')!;
export const PEER_ADDR = sscanf_bd_addr('BB:00:00:00:00:02')!;
const PSM = 0x1001;
const RFCOMM_CHANNEL = 3;

/** The byte at stream position i. */
const at = (i: number): number => (i * 131 + (i >>> 9) * 7 + 3) & 0xff;

class Sink {
  got = 0;
  bad = -1;
  take(p: Uint8Array, n: number): void {
    for (let k = 0; k < n; k++, this.got++) if (this.bad < 0 && p[k] !== at(this.got)) this.bad = this.got;
  }
}

class Source {
  sent = 0;
  private buf = new Uint8Array(0);
  constructor(readonly size: number) {}
  next(mtu: number): Uint8Array {
    const n = Math.min(mtu, this.size - this.sent);
    if (this.buf.length < n) this.buf = new Uint8Array(n);
    for (let k = 0; k < n; k++) this.buf[k] = at(this.sent + k);
    this.sent += n;
    return this.buf.subarray(0, n);
  }
}

export interface World {
  rl: VirtualRunLoop;
  link: RadioLink;
  /** The controller the transport under test reaches. */
  controller: VirtualController;
  peer: Stack;
  /** Run until pred holds (asserts it did within max_ms virtual ms). */
  until(pred: () => boolean, what: string, max_ms?: number): void;
}

/** A radio with the host's controller (for the fake to drive) and a working peer stack. */
export function world(controller_options: ControllerOptions = {}): World {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'transport-move' });
  const controller = link.create_controller({ bd_addr: HOST_ADDR, name: 'host', ...controller_options });
  const peer = new Stack({
    transport: new VirtualTransport(link.create_controller({ bd_addr: PEER_ADDR, name: 'peer' })),
    run_loop: rl,
  });
  peer.gap.gap_discoverable_control(1);
  peer.gap.gap_connectable_control(1);
  peer.hci.hci_power_control(C.HCI_POWER_ON);
  const until = (pred: () => boolean, what: string, max_ms = 120_000): void => {
    assert.ok(rl.run_until(pred, max_ms), `within ${max_ms} virtual ms: ${what}`);
  };
  until(() => peer.hci.hci_get_state() === C.HCI_STATE_WORKING, 'peer working');
  return { rl, link, controller, peer, until };
}

/** A stack on `transport` (host flow control on: the transport's receive limit is announced). */
export function host_stack(w: World, transport: HciTransport): Stack {
  return new Stack({ transport, run_loop: w.rl, host_flow_control: true });
}

/** Power on, inquiry, L2CAP and RFCOMM with `size` bytes each. */
export function inquire_and_move(w: World, stack: Stack, size: number, peer_addr: BdAddr = PEER_ADDR): void {
  const { peer, until } = w;
  stack.hci.hci_power_control(C.HCI_POWER_ON);
  until(() => stack.hci.hci_get_state() === C.HCI_STATE_WORKING, 'host working');

  let found = false;
  let done = false;
  stack.hci.hci_add_event_handler({
    callback: (_t, _c, p) => {
      if (p[0] === C.GAP_EVENT_INQUIRY_RESULT && bd_addr_cmp(C.gap_event_inquiry_result_get_bd_addr(p), peer_addr) === 0)
        found = true;
      if (p[0] === C.GAP_EVENT_INQUIRY_COMPLETE) done = true;
    },
  });
  assert.is(stack.gap.gap_inquiry_start(2), 0);
  until(() => done, 'inquiry complete');
  assert.ok(found, 'the peer was found by inquiry');

  const l2sink = new Sink();
  const backSink = new Sink();
  const backSrc = new Source(size);
  let peerCid = 0;
  let peerMtu = 0;
  assert.is(
    peer.l2cap.l2cap_register_service(
      (type, _channel, p, n) => {
        if (type === C.L2CAP_DATA_PACKET) l2sink.take(p, n);
        else if (p[0] === C.L2CAP_EVENT_INCOMING_CONNECTION)
          peer.l2cap.l2cap_accept_connection(C.l2cap_event_incoming_connection_get_local_cid(p));
        else if (p[0] === C.L2CAP_EVENT_CHANNEL_OPENED) {
          peerCid = C.l2cap_event_channel_opened_get_local_cid(p);
          peerMtu = C.l2cap_event_channel_opened_get_remote_mtu(p);
        } else if (p[0] === C.L2CAP_EVENT_CAN_SEND_NOW && backSrc.sent < size) {
          const d = backSrc.next(peerMtu);
          assert.is(peer.l2cap.l2cap_send(peerCid, d, d.length), 0);
          if (backSrc.sent < size) peer.l2cap.l2cap_request_can_send_now_event(peerCid);
        }
      },
      PSM,
      1691,
    ),
    0,
  );
  const l2src = new Source(size);
  let l2cid = 0;
  let l2mtu = 0;
  let l2status = -1;
  const l2 = stack.l2cap.l2cap_create_channel(
    (type, _channel, p, n) => {
      if (type === C.L2CAP_DATA_PACKET) backSink.take(p, n);
      if (type !== C.HCI_EVENT_PACKET) return;
      if (p[0] === C.L2CAP_EVENT_CHANNEL_OPENED) {
        l2status = C.l2cap_event_channel_opened_get_status(p);
        l2cid = C.l2cap_event_channel_opened_get_local_cid(p);
        l2mtu = C.l2cap_event_channel_opened_get_remote_mtu(p);
        if (l2status === 0) stack.l2cap.l2cap_request_can_send_now_event(l2cid);
      } else if (p[0] === C.L2CAP_EVENT_CAN_SEND_NOW && l2src.sent < size) {
        const d = l2src.next(l2mtu);
        assert.is(stack.l2cap.l2cap_send(l2cid, d, d.length), 0);
        if (l2src.sent < size) stack.l2cap.l2cap_request_can_send_now_event(l2cid);
      }
    },
    peer_addr,
    PSM,
    1691,
  );
  assert.is(l2.status, 0);
  until(() => l2status >= 0, 'L2CAP channel opened');
  assert.is(l2status, 0, 'L2CAP_EVENT_CHANNEL_OPENED status');
  until(() => l2sink.got >= size || l2sink.bad >= 0, `${size} bytes over L2CAP`, 600_000);
  assert.is(l2sink.bad, -1, 'every L2CAP byte as sent');
  assert.is(l2sink.got, size);
  peer.l2cap.l2cap_request_can_send_now_event(peerCid);
  until(() => backSink.got >= size || backSink.bad >= 0, `${size} bytes back over L2CAP`, 600_000);
  assert.is(backSink.bad, -1, 'every L2CAP byte from the peer as sent');
  assert.is(backSink.got, size);

  const rfsink = new Sink();
  assert.is(
    peer.rfcomm.rfcomm_register_service(
      (type, _channel, p, n) => {
        if (type === C.RFCOMM_DATA_PACKET) rfsink.take(p, n);
        else if (p[0] === C.RFCOMM_EVENT_INCOMING_CONNECTION)
          peer.rfcomm.rfcomm_accept_connection(C.rfcomm_event_incoming_connection_get_rfcomm_cid(p));
      },
      RFCOMM_CHANNEL,
      1000,
    ),
    0,
  );
  const rfsrc = new Source(size);
  let rfcid = 0;
  let rfmax = 0;
  let rfstatus = -1;
  const rf = stack.rfcomm.rfcomm_create_channel(
    (type, _channel, p) => {
      if (type !== C.HCI_EVENT_PACKET) return;
      if (p[0] === C.RFCOMM_EVENT_CHANNEL_OPENED) {
        rfstatus = C.rfcomm_event_channel_opened_get_status(p);
        rfcid = C.rfcomm_event_channel_opened_get_rfcomm_cid(p);
        rfmax = C.rfcomm_event_channel_opened_get_max_frame_size(p);
        if (rfstatus === 0) stack.rfcomm.rfcomm_request_can_send_now_event(rfcid);
      } else if (p[0] === C.RFCOMM_EVENT_CAN_SEND_NOW && rfsrc.sent < size) {
        const d = rfsrc.next(rfmax);
        assert.is(stack.rfcomm.rfcomm_send(rfcid, d, d.length), 0);
        if (rfsrc.sent < size) stack.rfcomm.rfcomm_request_can_send_now_event(rfcid);
      }
    },
    peer_addr,
    RFCOMM_CHANNEL,
  );
  assert.is(rf.status, 0);
  until(() => rfstatus >= 0, 'RFCOMM channel opened');
  assert.is(rfstatus, 0, 'RFCOMM_EVENT_CHANNEL_OPENED status');
  until(() => rfsink.got >= size || rfsink.bad >= 0, `${size} bytes over RFCOMM`, 600_000);
  assert.is(rfsink.bad, -1, 'every RFCOMM byte as sent');
  assert.is(rfsink.got, size);
}
