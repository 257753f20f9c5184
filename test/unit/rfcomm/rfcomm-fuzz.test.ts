/**
 * Fuzz the RFCOMM layer of a live node (fake L2CAP): more than 100,000 random, well-formed-but-
 * random and mutated frames from a peer, with the application accepting, declining, sending,
 * granting credits and disconnecting at random, sessions torn down by link loss from time to
 * time, and data sent before the MSC exchange is done (held). Checks: nothing throws; no data
 * reaches the application for a channel before its RFCOMM_EVENT_CHANNEL_OPENED; every frame the layer sends is a valid frame (FCS computed by
 * hand); every DLC the application heard of ends with exactly one final event; after the last
 * link loss every pool is back to full and no timer is left.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RfcommFrame, rfcomm_frame_decode } from '../../../src/rfcomm/frames.js';
import { ADDR_A, CLOSED, INCOMING, OPENED, fcs_by_hand, fr, make_raw, type Node, type RawPeer } from './rfcomm-helpers.js';
import { mutate, prng, randInt, randomBytes } from './fuzz-util.js';

const CONTROLS = [0x2f, 0x3f, 0x63, 0x73, 0x0f, 0x1f, 0x43, 0x53, 0xef, 0xff];
const MUX_TYPES = [
  0x83, 0x81, 0xe3, 0xe1, 0x93, 0x91, 0x53, 0x51, 0x23, 0x21, 0xa3, 0xa1, 0x63, 0x61, 0x11, 0x43, 0xc3, 0xd3, 0xff, 0x02,
];

/** A random multiplexer command: a supported type with plausible or absurd values. */
function muxCommand(rnd: () => number): number[] {
  const t = MUX_TYPES[randInt(rnd, MUX_TYPES.length)]!;
  const dlci = [2, 3, 4, 5, 8, 9, randInt(rnd, 64)][randInt(rnd, 7)]!;
  const addr = (dlci << 2) | 3;
  switch (t & 0xfc) {
    case 0x80: {
      const n1 = [0, 1, 127, 500, 0xffff, randInt(rnd, 0x10000)][randInt(rnd, 6)]!;
      return [
        t,
        0x11,
        dlci,
        [0xf0, 0xe0, 0x00, randInt(rnd, 256)][randInt(rnd, 4)]!,
        randInt(rnd, 256),
        0,
        n1 & 0xff,
        n1 >> 8,
        0,
        randInt(rnd, 256),
      ];
    }
    case 0xe0:
      return rnd() < 0.5 ? [t, 0x05, addr, randInt(rnd, 256)] : [t, 0x07, addr, randInt(rnd, 256) & 0xfe, randInt(rnd, 256)];
    case 0x90:
      return rnd() < 0.3 ? [t, 0x03, addr] : [t, 0x11, addr, ...Array.from(randomBytes(rnd, 7))];
    case 0x50:
      return [t, 0x05, addr, randInt(rnd, 256)];
    case 0x20:
      return [t, (randInt(rnd, 40) << 1) | 1, ...Array.from(randomBytes(rnd, randInt(rnd, 40)))];
    default:
      return [t, 0x01];
  }
}

/** A frame with a correct FCS and random contents. */
function wellFormed(rnd: () => number, credits: boolean): Uint8Array {
  const dlci = [0, 0, 0, 2, 4, 6, 8, 9, 62, randInt(rnd, 64)][randInt(rnd, 10)]!;
  const cr = randInt(rnd, 2);
  const address = (dlci << 2) | (cr << 1) | 1;
  let control = rnd() < 0.9 ? CONTROLS[randInt(rnd, CONTROLS.length)]! : randInt(rnd, 256);
  // keep the session alive most of the time: DISC / DM on DLCI 0 only now and then
  if (dlci === 0 && (control & 0xef) !== 0xef && rnd() < 0.9) control = 0xef;
  const uih = (control & 0xef) === 0xef;
  let info: number[] = [];
  if (uih)
    info =
      dlci === 0
        ? rnd() < 0.8
          ? muxCommand(rnd)
          : Array.from(randomBytes(rnd, randInt(rnd, 12)))
        : Array.from(randomBytes(rnd, [0, 1, 5, 130][randInt(rnd, 4)]!));
  const withCredits = uih && dlci !== 0 && (control & 0x10) !== 0 && credits;
  return fr(address, control, info, withCredits ? randInt(rnd, 256) : -1);
}

interface Tracker {
  /** cid -> final events seen after INCOMING_CONNECTION (OPENED != 0 or CLOSED) */
  finals: Map<number, number>;
  declined: Set<number>;
}

function drive(seed: number, frames: number, profile: 'v1.4' | 'v1.8'): void {
  const rnd = prng(seed);
  const { loop, a, p } = make_raw(profile, { MAX_NR_RFCOMM_CHANNELS: 6 });
  loop.onError = (err) => {
    throw err;
  };
  const tr: Tracker = { finals: new Map(), declined: new Set() };
  const open = new Set<number>();
  let early = 0;
  a.on = (r) => {
    if (r.type === 7) {
      // data only ever for a channel the application was told is open (held until then)
      assert.ok(open.has(r.channel), `data for cid ${r.channel} before RFCOMM_EVENT_CHANNEL_OPENED`);
      return;
    }
    if (r.type !== 4) return;
    const code = r.bytes[0];
    if (code === INCOMING) {
      const cid = r.bytes[9]! | (r.bytes[10]! << 8);
      assert.not.ok(tr.finals.has(cid), `cid ${cid} reused while alive`);
      tr.finals.set(cid, 0);
      const x = rnd();
      if (x < 0.7) a.rfcomm.rfcomm_accept_connection(cid);
      else if (x < 0.85) {
        a.rfcomm.rfcomm_decline_connection(cid);
        tr.declined.add(cid);
      }
    } else if (code === OPENED) {
      const cid = r.bytes[12]! | (r.bytes[13]! << 8);
      if (r.bytes[2] === 0) open.add(cid);
      else if (tr.finals.has(cid)) tr.finals.set(cid, tr.finals.get(cid)! + 1);
    } else if (code === CLOSED) {
      const cid = r.bytes[2]! | (r.bytes[3]! << 8);
      open.delete(cid);
      if (tr.finals.has(cid)) tr.finals.set(cid, tr.finals.get(cid)! + 1);
    }
  };
  a.rfcomm.rfcomm_register_service(a.handler, 1, 300);
  a.rfcomm.rfcomm_register_service(a.handler, 2, 50);
  a.rfcomm.rfcomm_register_service_with_initial_credits(a.handler, 3, 1000, 1);
  a.rfcomm.rfcomm_register_service_with_initial_credits(a.handler, 4, 127, 0);

  const corpus: Uint8Array[] = [
    fr(0x03, 0x3f),
    fr(0x03, 0xef, [0x83, 0x11, 0x02, 0xf0, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x07]),
    fr(0x03, 0xef, [0x83, 0x11, 0x04, 0xf0, 0x00, 0x00, 0x00, 0x04, 0x00, 0x03]),
    fr(0x0b, 0x3f),
    fr(0x13, 0x3f),
    fr(0x03, 0xef, [0xe3, 0x05, 0x0b, 0x8d]),
    fr(0x03, 0xef, [0xe1, 0x05, 0x0b, 0x8d]),
    fr(0x0b, 0xff, [0x41, 0x42], 3),
    fr(0x0b, 0xef, [0x41]),
    fr(0x0b, 0x53),
    fr(0x03, 0x53),
    fr(0x03, 0xef, [0x23, 0x05, 1, 2]),
    fr(0x03, 0xef, [0x93, 0x11, 0x0b, 1, 2, 3, 4, 5, 0x7f, 0x3f]),
  ];
  let linkUp = false;
  let sessions = 0;
  const received = new RfcommFrame();
  const checkSent = (): void => {
    for (const f of p.received) {
      assert.is(
        rfcomm_frame_decode(f, 0, f.length, received, false) === 'ok' ||
          rfcomm_frame_decode(f, 0, f.length, received, true) === 'ok',
        true,
        'the layer sends valid frames',
      );
      const uih = (f[1]! & 0xef) === 0xef;
      const lenOctets = f[2]! & 1 ? 1 : 2;
      const covered = Array.from(f.subarray(0, uih ? 2 : 2 + lenOctets));
      assert.is(f[f.length - 1], fcs_by_hand(covered), 'FCS');
    }
    p.received.length = 0;
  };
  for (let i = 0; i < frames; i++) {
    if (!linkUp || p.closed) {
      if (p.closed) {
        loop.run(10);
        p.closed = false;
      }
      p.connect(ADDR_A);
      loop.run(10);
      linkUp = true;
      sessions++;
      if (rnd() < 0.9) p.send(fr(0x03, 0x3f));
    }
    // a peer that plays along: open a DLC properly, answer our MSC commands
    if (rnd() < 0.02) {
      const sc = 1 + randInt(rnd, 4);
      const dlci = sc << 1;
      p.send(
        fr(0x03, 0xef, [0x83, 0x11, dlci, rnd() < 0.8 ? 0xf0 : 0x00, 0x00, 0x00, randInt(rnd, 400), 0x00, 0x00, randInt(rnd, 8)]),
      );
      if (rnd() < 0.9) p.send(fr((dlci << 2) | 3, 0x3f));
      loop.run(5);
      // data at once, before the MSC exchange is done (held until CHANNEL_OPENED, or refused)
      if (rnd() < 0.5) {
        early++;
        for (let k = randInt(rnd, 14); k > 0; k--)
          p.send(
            fr((dlci << 2) | 3, rnd() < 0.5 ? 0xef : 0xff, Array.from(randomBytes(rnd, randInt(rnd, 450))), randInt(rnd, 3) - 1),
          );
      }
    }
    for (const g of p.received) {
      if (g.length === 8 && g[0] === 0x01 && g[1] === 0xef && g[3] === 0xe3 && rnd() < 0.9)
        p.send(fr(0x03, 0xef, [0xe1, 0x05, g[5]!, g[6]!]));
    }
    if (rnd() < 0.001) a.rfcomm.rfcomm_create_channel(a.handler, p.addr, 1 + randInt(rnd, 30));
    const x = rnd();
    let f: Uint8Array;
    if (x < 0.2) f = randomBytes(rnd, randInt(rnd, 24));
    else if (x < 0.6) f = wellFormed(rnd, rnd() < 0.8);
    else f = mutate(rnd, corpus[randInt(rnd, corpus.length)]!);
    p.send(f);
    // the application acts now and then
    const y = rnd();
    if (y < 0.05) {
      for (const cid of open) a.rfcomm.rfcomm_send(cid, randomBytes(rnd, randInt(rnd, 60)));
    } else if (y < 0.06) {
      const cids = [...open];
      if (cids.length) a.rfcomm.rfcomm_disconnect(cids[randInt(rnd, cids.length)]!);
    } else if (y < 0.07) {
      for (const cid of open) {
        a.rfcomm.rfcomm_grant_credits(cid, randInt(rnd, 256));
        a.rfcomm.rfcomm_send_modem_status(cid, randInt(rnd, 256));
        a.rfcomm.rfcomm_query_port_configuration(cid);
      }
    } else if (y < 0.075) {
      for (const cid of open) a.rfcomm.rfcomm_request_can_send_now_event(cid);
    }
    if ((i & 7) === 7) loop.run(rnd() < 0.01 ? 70_000 : 5);
    if ((i & 63) === 63) checkSent();
    if (rnd() < 0.002) {
      // link loss (or an orderly close) in the middle of whatever is going on
      if (rnd() < 0.5) p.l2cap.link_loss();
      else a.l2cap.l2cap_disconnect(a.l2cap.first_cid());
      loop.run(10);
      linkUp = false;
    }
  }
  p.l2cap.link_loss();
  loop.run();
  checkSent();
  assert.ok(sessions > 10, `several sessions (${sessions})`);
  for (const s of [1, 2, 3, 4]) a.rfcomm.rfcomm_unregister_service(s);
  assert.equal(a.stack.pools.busy(), [], 'every pool back to full');
  assert.is(loop.timer_count(), 0, 'no timer left');
  for (const [cid, n] of tr.finals) {
    if (tr.declined.has(cid)) assert.is(n, 0, `declined cid ${cid}: no final event`);
    else assert.is(n, 1, `cid ${cid}: exactly one final event`);
  }
  assert.ok(tr.finals.size > 50, `many DLCs offered (${tr.finals.size})`);
  assert.ok(early > 100, `early data sent often (${early})`);
  if (process.env.FUZZ_STATS)
    console.log({
      sessions,
      dlcs: tr.finals.size,
      opened: a.recs.filter((r) => r.type === 4 && r.bytes[0] === OPENED && r.bytes[2] === 0).length,
      data: a.data().length,
      events: a.recs.length,
    });
}

test('fuzz: 60,000 frames against an RFCOMM server (v1.4)', () => {
  drive(0x5eed01, 60_000, 'v1.4');
});

test('fuzz: 60,000 frames against an RFCOMM server (v1.8)', () => {
  drive(0x5eed02, 60_000, 'v1.8');
});

test.run();

export type { Node, RawPeer };
