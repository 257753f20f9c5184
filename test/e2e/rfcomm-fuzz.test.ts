/**
 * Fuzz the RFCOMM parser of a live stack (HCI + L2CAP + RFCOMM on the virtual controller):
 * another stack opens an L2CAP channel to PSM 3 and sends 100,000 random, random-but-valid and
 * mutated RFCOMM frames, sometimes playing along (PN + SABM, MSC responses) so DLCs open and
 * the open-state paths get hit, while the server's application accepts, declines, sends and
 * disconnects at random; the L2CAP channel is closed and reopened and the radio link dropped
 * now and then. Nothing may throw; at the end every RFCOMM and L2CAP pool is back to full.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import * as C from '../../src/codes/v1.4.js';
import { RfcommFrame, rfcomm_frame_decode } from '../../src/rfcomm/frames.js';
import { fcs_by_hand, frame_by_hand as fr } from '../unit/rfcomm/rfcomm-helpers.js';
import { mutate, prng, randInt, randomBytes } from '../unit/rfcomm/fuzz-util.js';

const TOTAL = 100_000;

function wellFormed(rnd: () => number): Uint8Array {
  const dlci = [0, 0, 2, 4, 6, 8, randInt(rnd, 64)][randInt(rnd, 7)]!;
  const address = (dlci << 2) | (randInt(rnd, 2) << 1) | 1;
  const controls = [0x2f, 0x3f, 0x63, 0x73, 0x0f, 0x1f, 0x43, 0x53, 0xef, 0xff];
  let control = rnd() < 0.9 ? controls[randInt(rnd, controls.length)]! : randInt(rnd, 256);
  if (dlci === 0 && (control & 0xef) !== 0xef && rnd() < 0.9) control = 0xef;
  const uih = (control & 0xef) === 0xef;
  let info: number[] = [];
  if (uih && dlci === 0) {
    const t = [0x83, 0x81, 0xe3, 0xe1, 0x93, 0x91, 0x53, 0x51, 0x23, 0xa3, 0x63, 0x43, 0xc3, 0xff][randInt(rnd, 14)]!;
    const d = [2, 4, 6, 8, randInt(rnd, 64)][randInt(rnd, 5)]!;
    info =
      t >= 0x80 && t < 0x84
        ? [t, 0x11, d, [0xf0, 0x00, 0xe0][randInt(rnd, 3)]!, 0, 0, randInt(rnd, 256), randInt(rnd, 4), 0, randInt(rnd, 256)]
        : [t, (randInt(rnd, 9) << 1) | 1, ...Array.from(randomBytes(rnd, randInt(rnd, 9)))];
  } else if (uih) {
    info = Array.from(randomBytes(rnd, randInt(rnd, 3) * 40));
  }
  return fr(address, control, info, uih && dlci !== 0 && (control & 0x10) !== 0 ? randInt(rnd, 256) : -1);
}

test(`fuzz: ${TOTAL.toLocaleString('en')} frames at the RFCOMM layer of a live stack`, () => {
  const rnd = prng(0xf0f0);
  const rl = new VirtualRunLoop();
  let thrown: unknown = null;
  rl.onError = (e) => {
    thrown ??= e;
  };
  const link = new RadioLink(rl, { seed: 'rfcomm-fuzz' });
  const ca = link.create_controller({ name: 'server', acl_size: 300, acl_buffers: 8 });
  const cp = link.create_controller({ name: 'fuzzer', acl_size: 300, acl_buffers: 8 });
  const a = new Stack({ transport: new VirtualTransport(ca), run_loop: rl, config: { MAX_NR_RFCOMM_CHANNELS: 6 } });
  const p = new Stack({ transport: new VirtualTransport(cp), run_loop: rl });
  a.hci.hci_power_control(C.HCI_POWER_ON);
  p.hci.hci_power_control(C.HCI_POWER_ON);
  assert.ok(
    rl.run_until(() => a.hci.hci_get_state() === C.HCI_STATE_WORKING && p.hci.hci_get_state() === C.HCI_STATE_WORKING, 10_000),
  );

  const open = new Set<number>();
  let opened = 0;
  let incoming = 0;
  const handler = (type: number, _channel: number, e: Uint8Array): void => {
    if (type !== C.HCI_EVENT_PACKET) return;
    if (e[0] === 0x82) {
      incoming++;
      const cid = e[9]! | (e[10]! << 8);
      if (rnd() < 0.8) a.rfcomm.rfcomm_accept_connection(cid);
      else a.rfcomm.rfcomm_decline_connection(cid);
    } else if (e[0] === 0x80 && e[2] === 0) {
      opened++;
      open.add(e[12]! | (e[13]! << 8));
    } else if (e[0] === 0x81) {
      open.delete(e[2]! | (e[3]! << 8));
    }
  };
  a.rfcomm.rfcomm_register_service(handler, 1, 200);
  a.rfcomm.rfcomm_register_service(handler, 2, 1000);
  a.rfcomm.rfcomm_register_service_with_initial_credits(handler, 3, 100, 1);

  // the fuzzer: a raw L2CAP channel to PSM 3
  let cid = 0;
  let up = false;
  let connecting = false;
  let sent = 0;
  const rx: Uint8Array[] = [];
  const frame = new RfcommFrame();
  const corpus = [
    fr(0x03, 0x3f),
    fr(0x03, 0xef, [0x83, 0x11, 0x02, 0xf0, 0, 0, 0x7f, 0, 0, 7]),
    fr(0x0b, 0x3f),
    fr(0x0b, 0xff, [1, 2], 5),
    fr(0x03, 0xef, [0xe3, 0x05, 0x0b, 0x8d]),
    fr(0x0b, 0x53),
  ];
  const next = (): Uint8Array => {
    for (const g of rx.splice(0)) {
      // every frame the server sends is valid
      assert.ok(
        rfcomm_frame_decode(g, 0, g.length, frame, true) === 'ok' || rfcomm_frame_decode(g, 0, g.length, frame, false) === 'ok',
        'valid frame from the server',
      );
      const uih = (g[1]! & 0xef) === 0xef;
      assert.is(g[g.length - 1], fcs_by_hand(Array.from(g.subarray(0, uih ? 2 : g[2]! & 1 ? 3 : 4))));
      if (g.length === 8 && g[1] === 0xef && g[3] === 0xe3 && rnd() < 0.9) return fr(0x03, 0xef, [0xe1, 0x05, g[5]!, g[6]!]);
    }
    const x = rnd();
    if (x < 0.02) return fr(0x03, 0xef, [0x83, 0x11, (1 + randInt(rnd, 3)) << 1, 0xf0, 0, 0, 100, 0, 0, 7]);
    if (x < 0.04) return fr(((1 + randInt(rnd, 3)) << 3) | 3, 0x3f);
    if (x < 0.2) return randomBytes(rnd, randInt(rnd, 30));
    if (x < 0.6) return wellFormed(rnd);
    return mutate(rnd, corpus[randInt(rnd, corpus.length)]!);
  };
  const pump = (): void => {
    while (up && sent < TOTAL && p.l2cap.l2cap_can_send_packet_now(cid)) {
      const f = next();
      if (p.l2cap.l2cap_send(cid, f, f.length) !== 0) break;
      sent++;
      if (rnd() < 0.01) {
        for (const c of open) a.rfcomm.rfcomm_send(c, randomBytes(rnd, randInt(rnd, 50)));
      } else if (rnd() < 0.002 && open.size) {
        a.rfcomm.rfcomm_disconnect([...open][0]!);
      } else if (rnd() < 0.0005) {
        p.l2cap.l2cap_disconnect(cid);
        up = false;
        return;
      }
    }
    if (up && sent < TOTAL) p.l2cap.l2cap_request_can_send_now_event(cid);
  };
  const fuzzer = (type: number, _ch: number, e: Uint8Array, size: number): void => {
    if (type === C.L2CAP_DATA_PACKET) {
      rx.push(e.slice(0, size));
      return;
    }
    if (type !== C.HCI_EVENT_PACKET) return;
    const codes = p.codes;
    if (e[0] === codes.L2CAP_EVENT_CHANNEL_OPENED) {
      connecting = false;
      if (codes.l2cap_event_channel_opened_get_status(e) === 0) {
        cid = codes.l2cap_event_channel_opened_get_local_cid(e);
        up = true;
        pump();
      }
    } else if (e[0] === codes.L2CAP_EVENT_CHANNEL_CLOSED) {
      up = false;
    } else if (e[0] === codes.L2CAP_EVENT_CAN_SEND_NOW) {
      pump();
    }
  };
  let drops = 0;
  let rounds = 0;
  while (sent < TOTAL && rounds < 100_000) {
    rounds++;
    if (!up && !connecting) {
      connecting = true;
      const r = p.l2cap.l2cap_create_channel(fuzzer, ca.bd_addr, 3, 1000);
      assert.is(r.status, 0);
    }
    const target = Math.min(TOTAL, sent + 1 + randInt(rnd, 4000));
    rl.run_until(() => thrown !== null || sent >= target || (!up && !connecting), 30_000);
    if (thrown) break;
    if (up && sent < TOTAL && rnd() < 0.1) {
      const hc = p.hci.hci_connection_for_bd_addr_and_type(ca.bd_addr, C.BD_ADDR_TYPE_ACL);
      if (hc) {
        cp.faults.drop_link(hc.con_handle);
        drops++;
        rl.run_until(() => !up, 60_000);
      }
    }
  }
  if (thrown) throw thrown;
  assert.is(sent, TOTAL, `${sent} frames sent`);
  if (up) p.l2cap.l2cap_disconnect(cid);
  const ok = rl.run_until(() => a.pools.busy().filter((s) => !s.name.endsWith('services')).length === 0, 300_000);
  assert.ok(ok, `server pools back to full: ${JSON.stringify(a.pools.busy())}`);
  if (thrown) throw thrown;
  assert.ok(incoming > 100 && opened > 20, `DLCs offered ${incoming}, opened ${opened}`);
  if (process.env.FUZZ_STATS) console.log({ sent, incoming, opened, drops, rounds, t: rl.get_time_ms() });
});

test.run();
