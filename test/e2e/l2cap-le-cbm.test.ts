/**
 * LE credit-based channels end to end: two Stacks on one RadioLink (virtual time), B advertising,
 * A connecting (gap_connect), B serving SPSM 0x0080 with l2cap_cbm_register_service, A opening a
 * channel with l2cap_cbm_create_channel (automatic credits), 1 MiB each way at the same time in
 * SDUs of up to MTU octets (K-frames, credits both ways), byte for byte intact; then
 * l2cap_disconnect, power off, pools back to full, and both btsnoop captures clean under tshark
 * (btl2cap LE) and btmon. Profile v1.4 uses the l2cap_le_* names and LE_* events, v1.8 the
 * l2cap_cbm_* names and unified l2cap_send.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { little_endian_read_16, sscanf_bd_addr, type BdAddr } from '../../src/core/bytes.js';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { Stack } from '../../src/stack.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { assertCleanCapture } from '../helpers/capture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-le-cbm-'));
const ADDR_A = sscanf_bd_addr('AA:00:00:00:00:01')!;
const ADDR_B = sscanf_bd_addr('BB:00:00:00:00:02')!;
const SPSM = 0x0080;
const MTU = 2000;
const TOTAL = 1 << 20;

/** Deterministic pattern: octet i of a direction's stream. */
const pattern = (seed: number, i: number): number => (i * 31 + seed + (i >> 8)) & 0xff;

/** One end's stream: sends TOTAL octets in SDUs of up to `mtu`, checks what arrives. */
class End {
  sent = 0;
  received = 0;
  corrupt = 0;
  cid = 0;
  opened = -1;
  closed = false;
  private readonly sdu = new Uint8Array(MTU);
  constructor(
    readonly stack: Stack,
    readonly seedOut: number,
    readonly seedIn: number,
  ) {}
  next(profile: string): void {
    if (this.sent >= TOTAL) return;
    const n = Math.min(MTU, TOTAL - this.sent);
    for (let i = 0; i < n; i++) this.sdu[i] = pattern(this.seedOut, this.sent + i);
    const l = this.stack.l2cap;
    const st = profile === 'v1.4' ? l.l2cap_le_send_data(this.cid, this.sdu, n) : l.l2cap_send(this.cid, this.sdu, n);
    assert.is(st, 0, 'send');
    this.sent += n;
  }
  data(p: Uint8Array, size: number): void {
    for (let i = 0; i < size; i++) if (p[i] !== pattern(this.seedIn, this.received + i)) this.corrupt++;
    this.received += size;
  }
}

function node(rl: VirtualRunLoop, link: RadioLink, addr: BdAddr, name: string, profile: 'v1.4' | 'v1.8', tag: string) {
  const c = link.create_controller({ bd_addr: addr, name });
  const stack = new Stack({ transport: new VirtualTransport(c), run_loop: rl, profile });
  const log = path.join(tmp, `${tag}-${name}.btsnoop`);
  assert.is(stack.open_packet_log(log, 'btsnoop'), 0);
  return { stack, log };
}

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: 1 MiB each way over an LE credit-based channel, intact; clean captures; pools full`, () => {
    const rl = new VirtualRunLoop();
    const link = new RadioLink(rl, { seed: `cbm-${profile}` });
    const A = node(rl, link, ADDR_A, 'a', profile, profile);
    const B = node(rl, link, ADDR_B, 'b', profile, profile);
    const until = (pred: () => boolean, what: string, max = 600_000): void => assert.ok(rl.run_until(pred, max), what);
    const OPENED = profile === 'v1.4' ? 0x7a : 0x7d;
    const INCOMING = profile === 'v1.4' ? 0x79 : 0x7c;
    const SENT = profile === 'v1.4' ? 0x7d : 0x7a;
    const CLOSED = profile === 'v1.4' ? [0x7b, 0x71] : [0x71];
    const ends: End[] = [new End(A.stack, 1, 2), new End(B.stack, 2, 1)];
    const rxA = new Uint8Array(MTU);
    const rxB = new Uint8Array(MTU);
    const handler = (end: End, rx: Uint8Array) => (type: number, channel: number, p: Uint8Array, size: number) => {
      if (type === 0x06) {
        assert.is(p, rx, 'SDUs arrive in the receive buffer');
        end.data(p, size);
        return;
      }
      if (type !== 0x04) return;
      if (p[0] === INCOMING) {
        end.cid = little_endian_read_16(p, 13);
        const st =
          profile === 'v1.4'
            ? end.stack.l2cap.l2cap_le_accept_connection(end.cid, rx, MTU, 0xffff)
            : end.stack.l2cap.l2cap_cbm_accept_connection(end.cid, rx, MTU, 0xffff);
        assert.is(st, 0);
      } else if (p[0] === OPENED) {
        end.opened = p[2]!;
        if (end.opened === 0) end.next(profile);
      } else if (p[0] === SENT) {
        assert.is(channel, end.cid);
        end.next(profile);
      } else if (CLOSED.includes(p[0]!)) {
        end.closed = true;
      }
    };
    A.stack.hci.hci_power_control(1);
    B.stack.hci.hci_power_control(1);
    until(() => A.stack.hci.hci_get_state() === 2 && B.stack.hci.hci_get_state() === 2, 'both working');
    assert.is(B.stack.l2cap.l2cap_cbm_register_service(handler(ends[1]!, rxB), SPSM, 0), 0);
    const g = B.stack.gap;
    g.gap_advertisements_set_params(0x20, 0x20, 0, 0, new Uint8Array(6), 7, 0);
    g.gap_advertisements_set_data(3, Uint8Array.of(0x02, 0x01, 0x06));
    g.gap_advertisements_enable(1);
    let handle = -1;
    A.stack.hci.hci_add_event_handler({
      callback: (_t, _c, p) => {
        if (p[0] === 0x3e && p[2] === 0x01 && p[3] === 0) handle = little_endian_read_16(p, 4);
      },
    });
    assert.is(A.stack.gap.gap_connect(ADDR_B, 0), 0);
    until(() => handle >= 0, 'LE connection');
    const r =
      profile === 'v1.4'
        ? A.stack.l2cap.l2cap_le_create_channel(handler(ends[0]!, rxA), handle, SPSM, rxA, MTU, 0xffff)
        : A.stack.l2cap.l2cap_cbm_create_channel(handler(ends[0]!, rxA), handle, SPSM, rxA, MTU, 0xffff);
    assert.is(r.status, 0);
    ends[0]!.cid = r.local_cid;
    until(() => ends[0]!.opened === 0 && ends[1]!.opened === 0, 'channel open both sides');
    const t0 = rl.get_time_ms();
    until(() => ends.every((e) => e.received >= TOTAL), '1 MiB each way', 3_600_000);
    const ms = rl.get_time_ms() - t0;
    for (const e of ends) {
      assert.is(e.received, TOTAL);
      assert.is(e.corrupt, 0, 'intact');
    }
    console.log(`${profile}: 2 x 1 MiB in ${ms} ms virtual time`);
    assert.is(A.stack.l2cap.l2cap_disconnect(ends[0]!.cid), 0);
    until(() => ends.every((e) => e.closed), 'closed both sides');
    A.stack.hci.hci_power_control(0);
    B.stack.hci.hci_power_control(0);
    until(() => A.stack.hci.hci_get_state() === 0 && B.stack.hci.hci_get_state() === 0, 'both off');
    rl.run(1000);
    assert.is(B.stack.l2cap.l2cap_cbm_unregister_service(SPSM), 0);
    for (const n of [A, B]) {
      assert.ok(n.stack.pools.all_free(), 'pools back to full');
      n.stack.close_packet_log();
      assertCleanCapture(n.log);
    }
  });
}

test.run();
