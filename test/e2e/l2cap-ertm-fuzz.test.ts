/**
 * Fuzz: 100,000 random and mutated ERTM / streaming frames (Core spec v5.4, Vol 3, Part A, 3.3:
 * I-frames with any TxSeq / ReqSeq / SAR / F and SDU Length, S-frames with any function and P / F
 * bits, raw bytes, lying lengths) injected into the ACL path of a live stack whose ERTM and
 * streaming channels (without FCS, so the frames reach the state machines; and one with FCS) carry
 * real traffic from the peer at the same time. Channels the fuzz breaks (invalid sequence numbers,
 * SAR errors, MaxTransmit) are disconnected and opened again. Nothing may throw; at the end every
 * channel closes, and after power off every pool is full.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { little_endian_store_16 } from '../../src/core/bytes.js';
import { ADDR_B, makePair, pattern } from './l2cap-helpers.js';
import type { l2cap_ertm_config_t } from '../../src/l2cap/l2cap.js';

const FRAMES = 100_000;
/** PSM -> mode and FCS option of its channels. */
const SERVICES: ReadonlyArray<readonly [number, number, number]> = [
  [0x1003, 3, 0], // ERTM without FCS
  [0x1005, 4, 0], // streaming without FCS
  [0x1007, 3, 1], // ERTM with FCS
];

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function cfg(mode: number, fcs: number): l2cap_ertm_config_t {
  return {
    ertm_mandatory: 1,
    max_transmit: 4,
    retransmission_timeout_ms: 100,
    monitor_timeout_ms: 200,
    local_mtu: 300,
    num_tx_buffers: 4,
    num_rx_buffers: 4,
    fcs_option: fcs,
    mode,
  };
}
const BUFFER = 300 + 8 * 60; // MPS 60

test(`fuzz: ${FRAMES} ERTM / streaming frames at a live stack with traffic`, () => {
  const p = makePair({ tag: 'ertm-fuzz', packet_log: false, acl_size: 1021, acl_buffers: 8 });
  const { a, b } = p;
  const la = a.stack.l2cap;
  const lb = b.stack.l2cap;
  la.l2cap_set_auto_disconnect_timeout(0);
  lb.l2cap_set_auto_disconnect_timeout(0);
  const psmOf = new Map<number, number>();
  const bOpen = new Map<number, number>(); // b's open cids -> psm
  const aOpen = new Set<number>();
  let opened = 0;
  let closed = 0;
  b.on = (r, n) => {
    if (r.type !== 4) return;
    if (r.bytes[0] === 0x72) {
      const psm = r.bytes[10]! | (r.bytes[11]! << 8);
      const s = SERVICES.find((x) => x[0] === psm)!;
      assert.is(n.stack.l2cap.l2cap_ertm_accept_connection(r.channel, cfg(s[1], s[2]), new Uint8Array(BUFFER)), 0);
      psmOf.set(r.channel, psm);
    }
    if (r.bytes[0] === 0x70 && r.bytes[2] === 0) {
      bOpen.set(r.channel, psmOf.get(r.channel)!);
      opened++;
    }
    if (r.bytes[0] === 0x71) {
      bOpen.delete(r.channel);
      closed++;
    }
  };
  const CAN_SEND_NOW = 0x78;
  let sent = 0;
  let injected = 0;
  a.on = (r, n) => {
    if (r.type !== 4) return;
    if (r.bytes[0] === 0x70 && r.bytes[2] === 0) {
      aOpen.add(r.channel);
      n.stack.l2cap.l2cap_request_can_send_now_event(r.channel);
    }
    if (r.bytes[0] === 0x71) aOpen.delete(r.channel);
    // one SDU per 8 injected frames, spread over the whole run (the loop asks again every 16 frames)
    if (r.bytes[0] === CAN_SEND_NOW && aOpen.has(r.channel) && sent * 8 < injected) {
      // every SDU fits the 4 transmit slots of 60 octets (at most 238 octets)
      if (n.stack.l2cap.l2cap_send(r.channel, pattern(1 + (sent % 230), sent)) === 0) sent++;
      n.stack.l2cap.l2cap_request_can_send_now_event(r.channel);
    }
  };
  // b's data is counted, not recorded (the node's handler keeps a copy of every packet)
  let delivered = 0;
  const bHandler: typeof b.handler = (type, channel, packet, size) => {
    if (type === 6) delivered++;
    else b.handler(type, channel, packet, size);
  };
  for (const [psm] of SERVICES) assert.is(lb.l2cap_register_service(bHandler, psm, 300, 0), 0);
  let pending = 0;
  const reopen = (): void => {
    // one channel per service (a creates; b accepts with the same mode)
    const psms = new Set([...bOpen.values()]);
    for (const [psm, mode, fcs] of SERVICES) {
      if (psms.has(psm) || pending > 0) continue;
      const r = la.l2cap_ertm_create_channel(a.handler, ADDR_B, psm, cfg(mode, fcs), new Uint8Array(BUFFER));
      assert.is(r.status, 0);
      pending++;
    }
  };
  reopen();
  p.until(() => bOpen.size === 1, 'first channel open');
  pending = 0;
  reopen();
  p.until(() => bOpen.size === 2, 'second channel open');
  pending = 0;
  reopen();
  p.until(() => bOpen.size === 3, 'three channels open');
  pending = 0;

  const r = prng(0xe27);
  const ri = (n: number) => Math.floor(r() * n);
  const hb = b.handle();
  const buf = new Uint8Array(8 + 400);
  for (let i = 0; i < FRAMES; i++) {
    const cids = [...bOpen.keys()];
    const cid = cids.length && ri(20) !== 0 ? cids[ri(cids.length)]! : 0x40 + ri(8);
    let len: number;
    const kind = ri(10);
    const body = buf.subarray(8);
    if (kind < 5) {
      // I-frame: any TxSeq / ReqSeq / SAR / F, near the live sequence numbers more often than not
      const sar = ri(4);
      const ctl = (ri(64) << 1) | (ri(4) === 0 ? 0x80 : 0) | (ri(64) << 8) | (sar << 14);
      len = 2;
      body[0] = ctl & 0xff;
      body[1] = ctl >> 8;
      if (sar === 1) {
        little_endian_store_16(body, 2, ri(4) === 0 ? ri(0x10000) : ri(400));
        len = 4;
      }
      const n = ri(4) === 0 ? ri(300) : ri(70);
      for (let k = 0; k < n; k++) body[len + k] = ri(256);
      len += n;
    } else if (kind < 8) {
      // S-frame: function, P, F, ReqSeq; sometimes with stray octets
      const ctl =
        1 |
        (ri(4) << 2) |
        (ri(3) === 0 ? 0x10 : 0) |
        (ri(3) === 0 ? 0x80 : 0) |
        (ri(64) << 8) |
        (ri(8) === 0 ? ri(0x10000) & 0xc062 : 0);
      body[0] = ctl & 0xff;
      body[1] = (ctl >> 8) & 0xff;
      len = 2 + (ri(6) === 0 ? ri(5) : 0);
      for (let k = 2; k < len; k++) body[k] = ri(256);
    } else {
      len = ri(40);
      for (let k = 0; k < len; k++) body[k] = ri(256);
    }
    let l2len = len;
    if (ri(40) === 0) l2len = ri(0x10000);
    little_endian_store_16(buf, 0, hb | 0x2000);
    little_endian_store_16(buf, 2, 4 + len);
    little_endian_store_16(buf, 4, l2len);
    little_endian_store_16(buf, 6, cid);
    b.stack.hci.state.acl_handler?.(0x02, hb, buf, 8 + len);
    injected++;
    if (i % 16 === 15) {
      for (const c of aOpen) la.l2cap_request_can_send_now_event(c);
      p.rl.run(ri(50) === 0 ? 1000 : 3);
      if (bOpen.size < 3) {
        pending = 0;
        reopen();
      }
    }
  }
  assert.is(injected, FRAMES);
  // the fuzz broke channels (and they came back) while real data flowed
  assert.ok(closed > 20, `channels broken by the fuzz: ${closed}`);
  assert.ok(opened > closed, `reopened: ${opened}`);
  assert.ok(sent > FRAMES / 10, `SDUs sent by the peer meanwhile: ${sent}`);
  assert.ok(delivered > 500, `SDUs delivered meanwhile: ${delivered}`);
  // close everything: every channel ends, every pool comes back full (finish checks after power off)
  p.rl.run(5000);
  for (const c of la.l2cap_get_channels()) la.l2cap_disconnect(c.local_cid);
  p.until(() => la.l2cap_get_channels().length === 0 && lb.l2cap_get_channels().length === 0, 'all channels closed', 60_000);
  for (const [psm] of SERVICES) lb.l2cap_unregister_service(psm);
  p.finish();
});

test.run();
