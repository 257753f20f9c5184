/**
 * Fuzz: 160,000 random and mutated LE PDUs (seeded, reproducible) at a live L2cap (the real layer
 * on the scripted fake HCI): LE signalling C-frames of every code (Connection Parameter Update,
 * LE / enhanced credit-based connection and reconfiguration, credits, disconnection, reject,
 * unknown), K-frames on the LE dynamic CIDs and PDUs on fixed CIDs, in both profiles (60,000 in
 * v1.4, where ECBM PDUs are "not understood"; 100,000 in v1.8 with an ECBM service on the same
 * SPSM), with the application accepting, declining, creating (CBM and 1-5 ECBM channels),
 * reconfiguring, sending, disconnecting and HCI buffers coming and going in between.
 *
 * - Nothing throws.
 * - Every PDU L2CAP sends is well formed: ACL length = L2CAP length + 4, one command per LE
 *   C-frame with a matching length, K-frames within the remote's MPS.
 * - Bounded: answers owed per link never exceed what was asked.
 * - Afterwards: the link goes down, services go, pools are back to full, and a new link still
 *   opens a channel and carries an SDU.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex, little_endian_read_16 } from '../../../src/core/bytes.js';
import { prng } from './helpers.js';
import { makeHarness, type Harness } from './l2cap-harness.js';
import { LE_HANDLE, leLinkUp, lePdu, leSig, sent } from './le-harness.js';

const CORPUS = [
  '12 01 08 00 06 00 0c 00 00 00 c8 00', // CPU request
  '13 01 02 00 00 00', // CPU response
  '14 02 0a 00 80 00 40 00 64 00 17 00 0a 00', // LE CB connection request
  '15 03 0a 00 41 00 64 00 17 00 0a 00 00 00', // LE CB connection response
  '16 04 04 00 40 00 05 00', // credits
  '06 05 04 00 40 00 40 00', // disconnection request
  '07 06 04 00 40 00 40 00', // disconnection response
  '01 07 02 00 00 00', // command reject
  '17 08 0c 00 80 00 64 00 40 00 05 00 40 00 41 00', // ECBM request, 2 channels
  '18 09 0c 00 64 00 40 00 05 00 00 00 50 00 51 00', // ECBM response
  '19 0a 08 00 c8 00 64 00 40 00 41 00', // ECBM reconfigure request
  '1a 0b 02 00 00 00', // ECBM reconfigure response
  '17 0d 12 00 80 00 64 00 40 00 05 00 40 00 41 00 42 00 43 00 44 00', // ECBM request, 5 channels
  '18 0e 0e 00 c8 00 40 00 03 00 04 00 52 00 00 00 53 00', // ECBM response, one refused
  '19 0f 06 00 2c 01 50 00 41 00', // ECBM reconfigure request, one channel
  '1a 10 02 00 03 00', // ECBM reconfigure response: invalid DCID
  '08 0c 00 00', // echo request (BR/EDR only)
];

function fromHexStr(s: string): Uint8Array {
  return Uint8Array.from(s.trim().split(/\s+/), (x) => parseInt(x, 16));
}

/** Checks every PDU the layer sent since the last call. */
function checkSent(h: Harness): void {
  for (const p of h.hci.sent) {
    assert.is(little_endian_read_16(p, 2), p.length - 4, 'ACL length');
    const len = little_endian_read_16(p, 4);
    assert.is(len, p.length - 8, 'L2CAP length');
    const cid = little_endian_read_16(p, 6);
    if (cid === 0x0005) assert.is(little_endian_read_16(p, 10), len - 4, `one command per C-frame: ${hex(p)}`);
  }
  h.hci.sent.length = 0;
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  const N = profile === 'v1.4' ? 60_000 : 100_000;
  test(`${profile}: ${N} LE PDUs at a live L2cap: no throw, well-formed answers, pools full after, still works`, () => {
    const rnd = prng(profile === 'v1.4' ? 14 : 18);
    const h = makeHarness(profile);
    const rx = new Uint8Array(512);
    const ecbmRx = Array.from({ length: 5 }, () => new Uint8Array(400));
    let opened = 0;
    let ecbmOpened = 0;
    let reconf = 0;
    let sdus = 0;
    const handler = (type: number, channel: number, p: Uint8Array, size: number): void => {
      if (type === 6) sdus++;
      if (type !== 4) return;
      if ((p[0] === 0x7a || p[0] === 0x7d || p[0] === 0x8a) && p[2] === 0) opened++;
      if (p[0] === 0x8a && p[2] === 0) ecbmOpened++;
      if (profile === 'v1.8' && (p[0] === 0x8b || p[0] === 0x8c)) reconf++;
      if (profile === 'v1.8' && p[0] === 0x7f) {
        // ECBM incoming: accept some of the channels, or decline
        const cid = little_endian_read_16(p, 14);
        const n = p[13]!;
        if (rnd() < 0.7) {
          const k = 1 + Math.floor(rnd() * n);
          h.l2cap.l2cap_ecbm_accept_channels(cid, k, rnd() < 0.5 ? 0xffff : 3, 100, ecbmRx.slice(0, k));
        } else h.l2cap.l2cap_ecbm_decline_channels(cid, Math.floor(rnd() * 16));
        return;
      }
      // accept or decline incoming channels at random, as an application might
      if (p[0] === 0x79 || p[0] === 0x7c) {
        const cid = little_endian_read_16(p, 13);
        if (rnd() < 0.7) h.l2cap.l2cap_cbm_accept_connection(cid, rx, 100 + Math.floor(rnd() * 400), rnd() < 0.5 ? 0xffff : 3);
        else h.l2cap.l2cap_cbm_decline_connection(cid);
      }
      void channel;
      void size;
    };
    h.l2cap.l2cap_cbm_register_service(handler, 0x80, 0);
    h.l2cap.l2cap_ecbm_register_service(handler, 0x80, 64, 0); // v1.4: 0x11, nothing registered
    h.l2cap.l2cap_register_fixed_channel(() => {}, 0x0004);
    h.l2cap.l2cap_register_packet_handler(() => {});
    leLinkUp(h, LE_HANDLE, rnd() < 0.5 ? 0 : 1);
    const data = new Uint8Array(300);
    for (let i = 0; i < N; i++) {
      const r = rnd();
      let bytes: Uint8Array;
      if (r < 0.6) {
        bytes = fromHexStr(CORPUS[Math.floor(rnd() * CORPUS.length)]!);
        const flips = 1 + Math.floor(rnd() * 3);
        for (let k = 0; k < flips; k++) {
          const pos = Math.floor(rnd() * bytes.length);
          bytes[pos] = rnd() < 0.5 ? Math.floor(rnd() * 256) : bytes[pos]! ^ (1 << Math.floor(rnd() * 8));
        }
        if (rnd() < 0.1) bytes = bytes.subarray(0, Math.floor(rnd() * bytes.length));
        leSig(h, hex(bytes));
      } else if (r < 0.85) {
        const n = Math.floor(rnd() * 40);
        bytes = Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
        if (rnd() < 0.6 && n >= 2) {
          bytes[0] = rnd() < 0.7 ? n - 2 : Math.floor(rnd() * 64); // mostly a whole SDU in one K-frame
          bytes[1] = 0;
        }
        const live = h.l2cap.state.le.channels;
        const cid = live.length && rnd() < 0.8 ? live[Math.floor(rnd() * live.length)]!.local_cid : 0x40 + Math.floor(rnd() * 64);
        lePdu(h, cid, hex(bytes)); // K-frames, mostly for live channels
      } else if (r < 0.9) {
        lePdu(
          h,
          Math.floor(rnd() * 0x50),
          hex(Uint8Array.from({ length: Math.floor(rnd() * 10) }, () => Math.floor(rnd() * 256))),
        );
      } else if (r < 0.95) {
        const liveCh = h.l2cap.state.le.channels;
        const cid = liveCh.length ? liveCh[Math.floor(rnd() * liveCh.length)]!.local_cid : 0x40;
        const op = Math.floor(rnd() * 7);
        if (op === 5) {
          const n = 1 + Math.floor(rnd() * 5);
          h.l2cap.l2cap_ecbm_create_channels(handler, LE_HANDLE, 0, 0x80, n, rnd() < 0.5 ? 0xffff : 2, 100, ecbmRx.slice(0, n));
        } else if (op === 6) {
          const cids = liveCh.filter((c) => c.enhanced).map((c) => c.local_cid);
          const k = Math.min(cids.length, 1 + Math.floor(rnd() * 3));
          if (k > 0) h.l2cap.l2cap_ecbm_reconfigure_channels(cids.slice(0, k), 100 + Math.floor(rnd() * 300), ecbmRx.slice(0, k));
        } else if (op === 0) h.l2cap.l2cap_cbm_create_channel(handler, LE_HANDLE, 0x80, rx, 100, rnd() < 0.5 ? 0xffff : 2);
        else if (op === 1) h.l2cap.l2cap_le_send_data(cid, data, Math.floor(rnd() * 300));
        else if (op === 2) h.l2cap.l2cap_le_disconnect(cid);
        else if (op === 3) h.l2cap.l2cap_cbm_provide_credits(cid, Math.floor(rnd() * 100));
        else h.l2cap.l2cap_request_connection_parameter_update(LE_HANDLE, 6, 12, 0, 200);
      } else {
        h.hci.credits = rnd() < 0.2 ? 0 : 1000;
        h.loop.run(rnd() < 0.01 ? 40_000 : 0); // sometimes long enough for response timeouts
      }
      if (i % 97 === 0) {
        h.loop.run(0);
        checkSent(h);
      }
      const link = h.l2cap.state.le.linkForHandle(LE_HANDLE);
      assert.ok(link && link.responses.size <= i + 1, 'bounded');
    }
    h.hci.credits = 1000;
    h.loop.run(0);
    checkSent(h);
    assert.ok(opened > 20 && sdus > 20, `coverage: ${opened} channels opened, ${sdus} SDUs`);
    if (profile === 'v1.8')
      assert.ok(ecbmOpened > 20 && reconf > 0, `coverage: ${ecbmOpened} ECBM channels opened, ${reconf} reconfigured`);
    h.hci.disconnectionComplete(LE_HANDLE);
    h.loop.run(100_000);
    h.l2cap.l2cap_cbm_unregister_service(0x80);
    h.l2cap.l2cap_ecbm_unregister_service(0x80);
    assert.ok(h.pools.all_free(), JSON.stringify(h.pools.busy()));

    // still works: a new link, a channel, one SDU
    const got: string[] = [];
    const rx2 = new Uint8Array(100);
    h.l2cap.l2cap_cbm_register_service(
      (type, _c, p, size) => {
        if (type === 4 && (p[0] === 0x79 || p[0] === 0x7c))
          h.l2cap.l2cap_cbm_accept_connection(little_endian_read_16(p, 13), rx2, 100, 5);
        if (type === 6) got.push(hex(p.subarray(0, size)));
      },
      0x81,
      0,
    );
    leLinkUp(h, 0x0042, 1);
    leSig(h, '14 01 0a 00 81 00 40 00 64 00 17 00 0a 00', 0x0042);
    h.loop.run(0);
    const out = sent(h);
    assert.is(out.length, 1);
    const cid = little_endian_read_16(fromHexStr(out[0]!), 8);
    lePdu(h, cid, '02 00 ab cd', 0x0042);
    assert.equal(got, ['ab cd']);
  });
}

test.run();
