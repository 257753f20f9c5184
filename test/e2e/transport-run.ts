/**
 * One run over a real transport, for the transport end-to-end tests (BCM patch + baud switch, H5):
 * the stack under test (its transport on a socat pty of serve_controllers) inquires and finds an
 * in-process peer on the same radio, opens an L2CAP channel and an RFCOMM channel to it and moves
 * `size` bytes over each (a position-dependent pattern, every byte checked on arrival).
 */
import * as assert from 'uvu/assert';
import { bd_addr_cmp, type BdAddr } from '../../src/core/bytes.js';
import type { Stack } from '../../src/stack.js';
import * as C from '../../src/codes/v1.4.js';
import { until } from '../pty/pty-helpers.js';

const PSM = 0x1001;
const RFCOMM_CHANNEL = 3;

/** The byte at stream position i. */
const at = (i: number): number => (i * 131 + (i >>> 9) * 7 + 3) & 0xff;

/** Receives and checks a stream; `bad` is the first position that did not match (-1: none). */
class Sink {
  got = 0;
  bad = -1;
  take(p: Uint8Array, n: number): void {
    for (let k = 0; k < n; k++, this.got++) if (this.bad < 0 && p[k] !== at(this.got)) this.bad = this.got;
  }
}

/** Sends `size` bytes in frames of at most `mtu`, one per CAN_SEND_NOW. */
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

export interface RunResult {
  l2cap_ms: number;
  rfcomm_ms: number;
}

/** Inquiry, L2CAP and RFCOMM with `size` bytes each; both stacks WORKING on one run loop. */
export async function inquire_and_move(
  stack: Stack,
  peer: Stack,
  peer_addr: BdAddr,
  size: number,
  ms = 60_000,
): Promise<RunResult> {
  // ---- inquiry
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
  await until(() => done, 10_000, 'inquiry complete');
  assert.ok(found, 'the peer was found by inquiry');

  // ---- L2CAP
  const l2sink = new Sink();
  assert.is(
    peer.l2cap.l2cap_register_service(
      (type, channel, p, n) => {
        if (type === C.L2CAP_DATA_PACKET) l2sink.take(p, n);
        else if (p[0] === C.L2CAP_EVENT_INCOMING_CONNECTION)
          peer.l2cap.l2cap_accept_connection(C.l2cap_event_incoming_connection_get_local_cid(p));
        void channel;
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
  const t0 = Date.now();
  const l2 = stack.l2cap.l2cap_create_channel(
    (type, _channel, p) => {
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
  await until(() => l2status >= 0, 10_000, 'L2CAP channel opened');
  assert.is(l2status, 0, 'L2CAP_EVENT_CHANNEL_OPENED status');
  await until(() => l2sink.got >= size || l2sink.bad >= 0, ms, `${size} bytes over L2CAP`);
  assert.is(l2sink.bad, -1, 'every L2CAP byte as sent');
  assert.is(l2sink.got, size);
  const l2cap_ms = Date.now() - t0;

  // ---- RFCOMM
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
  const t1 = Date.now();
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
  await until(() => rfstatus >= 0, 20_000, 'RFCOMM channel opened');
  assert.is(rfstatus, 0, 'RFCOMM_EVENT_CHANNEL_OPENED status');
  await until(() => rfsink.got >= size || rfsink.bad >= 0, ms, `${size} bytes over RFCOMM`);
  assert.is(rfsink.bad, -1, 'every RFCOMM byte as sent');
  assert.is(rfsink.got, size);
  return { l2cap_ms, rfcomm_ms: Date.now() - t1 };
}
