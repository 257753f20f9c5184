/**
 * The transport end-to-end driver, shared by the pty runs (test/e2e/transport-run.ts, real time)
 * and the virtual-time runs (test/helpers/transport-move.ts): the stack under test inquires and
 * finds the peer, opens an L2CAP channel and an RFCOMM channel to it and moves `size` bytes over
 * each (a position-dependent pattern, every byte checked on arrival); with `back`, `size` bytes
 * also come back from the peer over the L2CAP channel (the controller's ACL packets to the host).
 * Both stacks are WORKING on one run loop; `wait` is how each caller lets time pass.
 */
import * as assert from 'uvu/assert';
import { bd_addr_cmp, type BdAddr } from '../../src/core/bytes.js';
import type { Stack } from '../../src/stack.js';
import * as C from '../../src/codes/v1.4.js';

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

/** Lets time pass until pred holds; fails the test (naming `what`) after `ms`. */
export type Wait = (pred: () => boolean, what: string, ms: number) => Promise<void> | void;

/** How long each step may take (in the caller's time: real or virtual ms). */
export interface MoveLimits {
  inquiry: number;
  l2cap_open: number;
  rfcomm_open: number;
  /** Each stream of `size` bytes. */
  data: number;
}

export interface MoveOptions {
  limits: MoveLimits;
  /** Also move `size` bytes from the peer to the stack over the L2CAP channel. */
  back?: boolean;
}

export interface MoveResult {
  /** Real ms from the L2CAP channel request to the last byte to the peer. */
  l2cap_ms: number;
  /** Real ms from the RFCOMM channel request to the last byte. */
  rfcomm_ms: number;
}

/** Inquiry, L2CAP and RFCOMM with `size` bytes each (see the file comment). */
export async function inquire_and_move(
  stack: Stack,
  peer: Stack,
  peer_addr: BdAddr,
  size: number,
  wait: Wait,
  { limits, back = false }: MoveOptions,
): Promise<MoveResult> {
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
  await wait(() => done, 'inquiry complete', limits.inquiry);
  assert.ok(found, 'the peer was found by inquiry');

  // ---- L2CAP (and back, when asked)
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
  const t0 = Date.now();
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
  await wait(() => l2status >= 0, 'L2CAP channel opened', limits.l2cap_open);
  assert.is(l2status, 0, 'L2CAP_EVENT_CHANNEL_OPENED status');
  await wait(() => l2sink.got >= size || l2sink.bad >= 0, `${size} bytes over L2CAP`, limits.data);
  assert.is(l2sink.bad, -1, 'every L2CAP byte as sent');
  assert.is(l2sink.got, size);
  const l2cap_ms = Date.now() - t0;
  if (back) {
    peer.l2cap.l2cap_request_can_send_now_event(peerCid);
    await wait(() => backSink.got >= size || backSink.bad >= 0, `${size} bytes back over L2CAP`, limits.data);
    assert.is(backSink.bad, -1, 'every L2CAP byte from the peer as sent');
    assert.is(backSink.got, size);
  }

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
  await wait(() => rfstatus >= 0, 'RFCOMM channel opened', limits.rfcomm_open);
  assert.is(rfstatus, 0, 'RFCOMM_EVENT_CHANNEL_OPENED status');
  await wait(() => rfsink.got >= size || rfsink.bad >= 0, `${size} bytes over RFCOMM`, limits.data);
  assert.is(rfsink.bad, -1, 'every RFCOMM byte as sent');
  assert.is(rfsink.got, size);
  return { l2cap_ms, rfcomm_ms: Date.now() - t1 };
}
