/**
 * L2CAP Enhanced Retransmission and Streaming modes end to end: two stacks on the virtual radio,
 * l2cap_ertm_create_channel / l2cap_ertm_accept_connection, the RFC and FCS options on the wire
 * (Core spec v5.4, Vol 3, Part A, 5.4, 5.5), CHANNEL_OPENED's mode and fcs, SDUs once and in
 * order over a radio losing and corrupting ACL packets, ERTM_BUFFER_RELEASED, clean captures.
 * SDUs of 1..1000 octets over an MPS of 300: most are segmented (start / continuation / end); the
 * captures are checked with test/helpers/ertm-capture.ts (tshark 4.0's start-frame bug, explained there).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../src/core/bytes.js';
import { tsharkFields } from '../helpers/capture.js';
import { assertCleanErtmCapture } from '../helpers/ertm-capture.js';
import { ADDR_B, makePair, pattern, type L2Node, type Pair, type Rec } from './l2cap-helpers.js';
import type { l2cap_ertm_config_t } from '../../src/l2cap/l2cap.js';

const PSM = 0x1003;

function config(o: Partial<l2cap_ertm_config_t> = {}): l2cap_ertm_config_t {
  return {
    ertm_mandatory: 0,
    max_transmit: 20,
    retransmission_timeout_ms: 300,
    monitor_timeout_ms: 1000,
    local_mtu: 1000,
    num_tx_buffers: 8,
    num_rx_buffers: 8,
    fcs_option: 1,
    ...o,
  };
}

function bufferFor(c: l2cap_ertm_config_t, mps = 300): Uint8Array {
  return new Uint8Array(c.local_mtu + (c.num_rx_buffers + c.num_tx_buffers) * mps);
}

/** b accepts every incoming connection with `cfg` (or as a Basic channel when null). */
function acceptWith(cfg: l2cap_ertm_config_t | null): (r: Rec, n: L2Node) => void {
  return (r, n) => {
    if (r.type !== 4 || r.bytes[0] !== 0x72) return;
    if (cfg) assert.is(n.stack.l2cap.l2cap_ertm_accept_connection(r.channel, cfg, bufferFor(cfg)), 0);
    else n.stack.l2cap.l2cap_accept_connection(r.channel);
  };
}

/** Send `sdus` from a on `cid` as fast as CAN_SEND_NOW allows. */
function pump(p: Pair, cid: number, sdus: Uint8Array[], can_send_now: number): void {
  let next = 0;
  p.a.on = (r, n) => {
    if (r.type === 4 && r.bytes[0] === can_send_now && next < sdus.length) {
      assert.is(n.stack.l2cap.l2cap_send(cid, sdus[next]!), 0);
      next++;
      if (next < sdus.length) n.stack.l2cap.l2cap_request_can_send_now_event(cid);
    }
  };
  p.a.stack.l2cap.l2cap_request_can_send_now_event(cid);
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  const CAN_SEND_NOW = profile === 'v1.4' ? 0x78 : 0x79;
  const BUFFER_RELEASED = profile === 'v1.4' ? 0x7e : 0x7b;

  for (const [loss, corrupt] of [
    [0, 0],
    [0.01, 0.01],
    [0.05, 0.05],
  ] as const) {
    test(`${profile}: ERTM at ${loss * 100} % lost + ${corrupt * 100} % corrupted ACL packets: every SDU once, in order`, () => {
      const p = makePair({ profile, tag: `ertm-${profile}-${loss}`, acl_size: 1021, acl_buffers: 8 });
      const { a, b } = p;
      const cfg = config();
      b.on = acceptWith(cfg);
      assert.is(b.stack.l2cap.l2cap_register_service(b.handler, PSM, 1000, 0), 0);
      const r = a.stack.l2cap.l2cap_ertm_create_channel(a.handler, ADDR_B, PSM, cfg, bufferFor(cfg));
      assert.is(r.status, 0);
      p.until(() => a.events(0x70).length === 1 && b.events(0x70).length === 1, 'open');
      // CHANNEL_OPENED: status 0 ... mode 3 (ERTM), fcs 1 (the last two octets)
      for (const ev of [a.events(0x70)[0]!, b.events(0x70)[0]!]) {
        assert.is(ev.slice(0, 8), '70 18 00');
        assert.is(ev.slice(-5), '03 01');
      }
      for (const c of p.link.controllers) c.faults.acl_loss(loss, corrupt, 17);
      // SDUs up to the MTU (1000) over an MPS of 300: unsegmented and segmented
      const sdus = Array.from({ length: 400 }, (_, i) => pattern(1 + ((i * 37) % 1000), i));
      pump(p, r.local_cid, sdus, CAN_SEND_NOW);
      p.until(() => b.data(0x40).length === sdus.length, 'all SDUs', 600_000);
      const got = b.data(0x40);
      for (let i = 0; i < sdus.length; i++) assert.is(hex(got[i]!), hex(sdus[i]!), `SDU ${i}`);
      for (const c of p.link.controllers) c.faults.acl_loss(0, 0);
      a.stack.l2cap.l2cap_disconnect(r.local_cid);
      p.until(() => b.events(0x71).length === 1 && a.events(0x71).length === 1, 'closed');
      assert.is(a.events(BUFFER_RELEASED).length, 1);
      assert.is(b.events(BUFFER_RELEASED).length, 1);
      b.stack.l2cap.l2cap_unregister_service(PSM);
      const [logA, logB] = p.finish();
      assert.ok(assertCleanErtmCapture(logA).start_frames > 200, 'segmented SDUs sent');
      assert.ok(assertCleanErtmCapture(logB).start_frames > 200, 'segmented SDUs received');
      // tshark's btl2cap decodes the control fields: I-frames from a, S-frames (0 RR, 1 REJ, 3 SREJ) from b
      const s = tsharkFields(logA, ['btl2cap.control_supervisory'], 'btl2cap.cid == 0x0040 && btl2cap.control_type == 1').map(
        (r) => r[0],
      );
      const i = tsharkFields(logA, ['btl2cap.control_txseq'], 'btl2cap.cid == 0x0040 && btl2cap.control_type == 0').map(
        (r) => r[0],
      );
      assert.ok(s.includes('0x0000') || s.includes('0'), 'RR seen');
      if (loss > 0) {
        assert.ok(i.length > sdus.length, `retransmitted I-frames: ${i.length} I-frames for ${sdus.length} SDUs`);
        assert.ok(
          s.some((v) => v === '0x0003' || v === '3'),
          'SREJ seen',
        );
      }
      // a poll met while frames are missing is answered with SREJ F=1 (tshark names the F bit 'R', bit 7), not RR,
      // so the sender resends only what is missing; the receiver sends no REJ (it keeps out-of-sequence frames)
      if (loss >= 0.05) {
        const f = tsharkFields(
          logA,
          ['btl2cap.control_supervisory'],
          'btl2cap.cid == 0x0040 && btl2cap.control_type == 1 && btl2cap.control_retransmissiondisable == 1',
        ).map((r) => r[0]);
        assert.ok(
          f.some((v) => v === '0x0003' || v === '3'),
          `SREJ with F=1: ${[...new Set(f)]}`,
        );
      }
      assert.not.ok(
        s.some((v) => v === '0x0001' || v === '1'),
        'no REJ',
      );
    });
  }
}

test.run();
