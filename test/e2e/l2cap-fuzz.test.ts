/**
 * Fuzz: 100,000 random and mutated signalling PDUs (and some data / connectionless PDUs with
 * lying lengths) thrown at a live stack on the virtual controller, injected into its ACL path
 * as if they came from the peer (whose own L2CAP is off, so the fuzz alone plays the remote).
 * Mutated commands aim at the target's live channels and reuse the identifiers of the requests
 * it sends, so real state transitions happen (channels open, close, time out). Seeded, bounded,
 * virtual time advancing so RTX / ERTX fire. Nothing may throw; afterwards every channel the
 * fuzz created is gone except fully open ones, and once the link is dropped every pool is full.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { little_endian_store_16 } from '../../src/core/bytes.js';
import { ADDR_B, makePair } from './l2cap-helpers.js';

const PDUS = 100_000;

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

test(`fuzz: ${PDUS} random and mutated signalling PDUs at a live stack`, () => {
  const p = makePair({ tag: 'fuzz', packet_log: false, l2cap_a: false, config: { MAX_NR_L2CAP_CHANNELS: 12 } });
  const { a, b } = p;
  const lb = b.stack.l2cap;
  // a is a raw HCI application: b's answers are dropped there (its L2CAP never sees them)
  a.stack.hci.hci_register_acl_packet_handler(() => {});
  lb.l2cap_register_service(b.handler, 0x1001, 1000, 0);
  lb.l2cap_register_service(b.handler, 0x1003, 48, 2);
  lb.l2cap_register_service(b.handler, 0x1005, 0xffff, 0);
  lb.l2cap_connectionless_enable(0x1005, 1);
  let incoming = 0;
  b.on = (r, n) => {
    if (r.type === 4 && r.bytes[0] === 0x72) {
      incoming++;
      // accept most, decline some, leave a few to the "pending" timer and accept them later
      if (incoming % 7 === 0) n.stack.l2cap.l2cap_decline_connection(r.channel);
      else if (incoming % 11 !== 0) n.stack.l2cap.l2cap_accept_connection(r.channel);
    }
    if (r.type === 4 && r.bytes[0] === 0x70 && r.bytes[2] === 0 && incoming % 3 === 0) n.stack.l2cap.l2cap_disconnect(r.channel);
    if (r.type === 6) n.stack.l2cap.l2cap_request_can_send_now_event(r.channel);
    if (r.type === 4 && r.bytes[0] === 0x78) n.stack.l2cap.l2cap_send(r.channel, r.bytes.subarray(0, 1));
  };
  // a brings the link up without L2CAP: the fuzz alone plays b's remote (a's HCI drops b's answers)
  lb.l2cap_set_auto_disconnect_timeout(0);
  assert.is(a.stack.hci.hci_connect_acl(ADDR_B), 0);
  p.until(() => b.handle() >= 0 && a.handle() >= 0, 'link up');
  const hb = b.handle();
  let answers = 0;
  // identifiers of the requests b sends (to a), so some fuzzed responses answer them
  const recentIds: number[] = [];
  const send = b.stack.hci.hci_send_acl_packet_buffer.bind(b.stack.hci);
  b.stack.hci.hci_send_acl_packet_buffer = (size: number) => {
    answers++;
    const out = b.stack.hci.hci_get_outgoing_packet_buffer();
    if (size >= 10 && out[6] === 1 && out[7] === 0 && [2, 4, 6, 8, 10].includes(out[8]!)) {
      recentIds.push(out[9]!);
      if (recentIds.length > 8) recentIds.shift();
    }
    return send(size);
  };
  const rnd = prng(0x5eef);
  const ri = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[ri(xs.length)]!;
  const cids = [0x0000, 0x0001, 0x0002, 0x003f, 0x0040, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0050, 0xffff];
  const psms = [0x0001, 0x1001, 0x1003, 0x1005, 0x1002, 0x0003, 0xffff, 0x0101];
  const ids = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xfe, 0xff];
  const buf = new Uint8Array(4 + 4 + 800);
  const cmd = new Uint8Array(700);

  const u16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
  // CIDs of b's live channels (refreshed every batch) so mutated commands hit real channels
  let live: Array<{ local_cid: number; remote_cid: number }> = [];
  const cid = (): number => {
    const r = ri(10);
    if (r < 4 && live.length) return pick(live).local_cid;
    if (r < 6 && live.length) return pick(live).remote_cid;
    if (r < 8) return pick(cids);
    return 0x40 + ri(0x200);
  };
  function options(): number[] {
    const out: number[] = [];
    const n = ri(4);
    for (let i = 0; i < n; i++) {
      switch (ri(8)) {
        case 0:
          out.push(0x01, 2, ...u16(pick([0, 1, 47, 48, 672, 1000, 0xffff])));
          break;
        case 1:
          out.push(0x02, 2, ...u16(ri(0x10000)));
          break;
        case 2:
          out.push(0x03, 22, ...Array.from({ length: 22 }, () => ri(256)));
          break;
        case 3:
          out.push(0x04, 9, pick([0, 1, 2, 3, 4, 9]), ...Array.from({ length: 8 }, () => ri(256)));
          break;
        case 4:
          out.push(0x05, 1, ri(3));
          break;
        case 5:
          out.push(pick([0x08, 0x7f, 0x88, 0xff]), ri(4), ...Array.from({ length: ri(4) }, () => ri(256)));
          break;
        case 6:
          out.push(0x01, pick([0, 1, 3, 200]), 0x30);
          break; // lying length
        default:
          out.push(0x07, 2, ...u16(ri(100)));
      }
    }
    return out;
  }
  function command(): number[] {
    const code = ri(20) === 0 ? ri(256) : 1 + ri(11);
    const r = ri(8);
    const id = r < 2 ? ri(256) : r < 5 && recentIds.length ? pick(recentIds) : pick(ids);
    let data: number[];
    switch (code) {
      case 0x01:
        data = [...u16(ri(4)), ...u16(cid()), ...u16(cid())].slice(0, pick([2, 4, 6]));
        break;
      case 0x02:
        data = [...u16(pick(psms)), ...u16(cid())];
        break;
      case 0x03:
        data = [...u16(cid()), ...u16(cid()), ...u16(ri(9)), ...u16(ri(3))];
        break;
      case 0x04:
        data = [...u16(cid()), ...u16(ri(3)), ...options()];
        break;
      case 0x05:
        data = [...u16(cid()), ...u16(ri(3)), ...u16(ri(6)), ...options()];
        break;
      case 0x06:
      case 0x07:
        data = [...u16(cid()), ...u16(cid())];
        break;
      case 0x08:
      case 0x09:
        data = Array.from({ length: ri(8) === 0 ? 300 + ri(400) : ri(20) }, () => ri(256));
        break;
      case 0x0a:
        data = u16(ri(6));
        break;
      case 0x0b:
        data = [...u16(ri(5)), ...u16(ri(3)), ...Array.from({ length: ri(12) }, () => ri(256))];
        break;
      default:
        data = Array.from({ length: ri(16) }, () => ri(256));
    }
    const out = [code, id, ...u16(data.length), ...data];
    // mutations: flip, truncate, extend, lie about the length
    switch (ri(6)) {
      case 0:
        out[ri(out.length)] = ri(256);
        break;
      case 1:
        out.length = ri(out.length + 1);
        break;
      case 2:
        out.push(...Array.from({ length: 1 + ri(5) }, () => ri(256)));
        break;
      case 3:
        if (out.length >= 4) {
          out[2] = ri(256);
          out[3] = ri(3);
        }
        break;
      default:
        break;
    }
    return out;
  }

  let injected = 0;
  let maxChannels = 0;
  for (let i = 0; i < PDUS; i++) {
    let len = 0;
    let cid = 0x0001;
    const kind = ri(100);
    if (kind < 8) {
      // raw random bytes on the signalling channel
      len = ri(80);
      for (let k = 0; k < len; k++) cmd[k] = ri(256);
    } else if (kind < 12) {
      // data or connectionless frames with random content
      cid = pick([0x0002, 0x0040, 0x0041, 0x0042, 0x0007, 0x0003]);
      len = ri(60);
      for (let k = 0; k < len; k++) cmd[k] = ri(256);
      if (cid === 0x0002 && len >= 2) {
        cmd[0] = 0x05;
        cmd[1] = 0x10;
      }
    } else {
      // one to three (mutated) commands in one C-frame
      const n = 1 + (ri(4) === 0 ? ri(3) : 0);
      for (let c = 0; c < n; c++) {
        const bytes = command();
        if (len + bytes.length > cmd.length) break;
        cmd.set(bytes, len);
        len += bytes.length;
      }
    }
    // the basic header: usually honest, sometimes lying
    let l2len = len;
    if (ri(50) === 0) l2len = ri(0x10000);
    little_endian_store_16(buf, 0, hb | 0x2000);
    little_endian_store_16(buf, 2, 4 + len);
    little_endian_store_16(buf, 4, l2len);
    little_endian_store_16(buf, 6, cid);
    buf.set(cmd.subarray(0, len), 8);
    b.stack.hci.state.acl_handler?.(0x02, hb, buf, 8 + len); // as HCI delivers a complete PDU (HCI_ACL_DATA_PACKET)
    injected++;
    maxChannels = Math.max(maxChannels, lb.state.channelPool.in_use);
    if (i % 16 === 15) {
      p.rl.run(ri(20) === 0 ? 15_000 : 12);
      live = lb.l2cap_get_channels();
    }
  }
  assert.is(injected, PDUS);
  // the fuzz reached the interesting places (deterministic for this seed)
  assert.ok(answers > 10_000, `answers sent: ${answers}`);
  assert.ok(incoming > 100, `incoming connections: ${incoming}`);
  assert.ok(
    b.events(0x70).some((e) => e.startsWith('70 18 00')),
    'some fuzzed channel opened',
  );
  assert.ok(b.events(0x71).length > 0, 'some fuzzed channel closed');
  assert.ok(
    b.recs.some((r) => r.type === 0x0c),
    'connectionless data delivered',
  );
  assert.is(maxChannels, 12, 'the channel pool ran full at times');
  // accept what the handler left undecided; let every RTX / ERTX run out
  for (const c of lb.l2cap_get_channels()) if (c.state === 'W4_L2CA_CON_RSP') lb.l2cap_accept_connection(c.local_cid);
  p.rl.run(300_000);
  const left = lb.l2cap_get_channels();
  for (const c of left) assert.is(c.state, 'OPEN', `channel 0x${c.local_cid.toString(16)} stuck in ${c.state}`);
  assert.is(lb.state.channelPool.in_use, left.length);
  // the link goes: everything returns
  assert.is(b.stack.gap.gap_disconnect(hb), 0);
  p.until(() => b.handle() === -1 && a.handle() === -1, 'link down', 10_000);
  assert.is(lb.state.channelPool.in_use, 0);
  assert.is(lb.state.linkPool.in_use, 0);
  assert.is(b.stack.pools.packet_buffers.in_use, 0);
  for (const psm of [0x1001, 0x1003, 0x1005]) lb.l2cap_unregister_service(psm);
  p.finish();
});

test.run();
