/**
 * A controller that resets (HCI Reset, as a host sends after a Hardware Error) loses its links:
 * its own host hears nothing more about them (no Disconnection Complete: the handles are simply
 * gone), data the peer sends meanwhile goes nowhere, and the peer's controller ends the link by its
 * supervision timeout: Disconnection Complete with reason Connection Timeout (0x08), in virtual
 * time. BR/EDR: 0x7d00 slots (20 s) unless the central wrote another; LE: Supervision_Timeout x 10 ms.
 * Layouts from Vol 4 Part E 7.7.5 (Disconnection Complete), 7.7.14 (Command Complete), 7.7.16
 * (Hardware Error).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bench, le16, unmask, wire, type Host } from './bench.js';
import type { VirtualRunLoop } from '../../../src/core/run-loop.js';

function up(h: Host): void {
  unmask(h);
  h.cmd('1a 0c 01 03'); // page + inquiry scan
}

const handleOf = (e: Uint8Array, at: number): number => e[at]! | (e[at + 1]! << 8);

/** a pages b (Create Connection), b accepts: [a's handle, b's handle]. */
function connect(loop: VirtualRunLoop, a: Host, b: Host): [number, number] {
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!b.find(0x04));
  b.cmd(`09 04 07 ${wire(a.c.bd_addr)} 01`);
  loop.run_until(() => !!a.find(0x03) && !!b.find(0x03));
  loop.run();
  return [handleOf(a.find(0x03)!, 3), handleOf(b.find(0x03)!, 3)];
}

/** b advertises (ADV_IND), a creates an LE connection (timeout 0x002a): [a's handle, b's handle]. */
function leConnect(loop: VirtualRunLoop, a: Host, b: Host): [number, number] {
  b.cmd('06 20 0f 20 00 20 00 00 00 00 00 00 00 00 00 00 07 00');
  b.cmd('0a 20 01 01');
  a.cmd(`0d 20 19 60 00 30 00 00 00 ${wire(b.c.bd_addr)} 00 18 00 28 00 00 00 2a 00 00 00 00 00`);
  loop.run_until(() => !!a.find(0x3e, 0x01) && !!b.find(0x3e, 0x01));
  return [handleOf(a.find(0x3e, 0x01)!, 4), handleOf(b.find(0x3e, 0x01)!, 4)];
}

test('BR/EDR: Hardware Error, the host resets -> the peer gets Disconnection Complete 0x08 20 s later', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  loop.run();
  const [ha, hb] = connect(loop, a, b);
  a.clear();
  b.clear();
  a.c.faults.hardware_error(0x42);
  loop.run();
  assert.equal(a.take(), ['10 01 42']);
  const t0 = loop.get_time_ms();
  a.cmd('03 0c 00');
  // the peer keeps sending: nothing reaches a's host, no completions for it while the link is lost
  b.acl(hb, 2, Uint8Array.of(0x01, 0x00, 0x40, 0x00, 0xaa));
  loop.advance(19_999);
  assert.equal(a.take(), ['0e 04 01 03 0c 00']);
  assert.is(a.acls().length, 0);
  assert.equal(b.take(), []);
  loop.run();
  assert.is(loop.get_time_ms() - t0, 20_000);
  assert.equal(b.take(), [`05 04 00 ${le16(hb)} 08`]);
  assert.equal(a.take(), [], 'the reset controller reports nothing about the old link');
  // the old handle is unknown to a now
  assert.is(a.c.state.connections.has(ha), false);
  // and the two meet again
  up(a);
  loop.run();
  a.clear();
  b.clear();
  const [ha2, hb2] = connect(loop, a, b);
  assert.ok(ha2 > 0 && hb2 > 0);
});

test('BR/EDR: the supervision timeout the central wrote applies (0x0c80 slots = 2 s)', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  loop.run();
  const [ha, hb] = connect(loop, a, b);
  a.cmd(`37 0c 04 ${le16(ha)} 80 0c`);
  loop.run();
  a.clear();
  b.clear();
  const t0 = loop.get_time_ms();
  b.cmd('03 0c 00'); // the peripheral resets: the central's link drops
  loop.run();
  assert.is(loop.get_time_ms() - t0, 2000);
  assert.equal(a.take(), [`05 04 00 ${le16(ha)} 08`]);
  assert.equal(b.take(), ['0e 04 01 03 0c 00']);
  assert.ok(hb > 0);
});

test('BR/EDR: a Hardware Error alone changes nothing on the air (the host decides): data still flows', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  loop.run();
  const [ha, hb] = connect(loop, a, b);
  a.clear();
  b.clear();
  a.c.faults.hardware_error(0x42);
  b.acl(hb, 2, Uint8Array.of(0x01, 0x00, 0x40, 0x00, 0xaa));
  loop.run();
  assert.equal(
    a.acls().map((r) => r.hex),
    [`${le16(ha | 0x2000)} 05 00 01 00 40 00 aa`],
  );
  assert.equal(a.take(), ['10 01 42']);
  assert.equal(b.take(), [`13 05 01 ${le16(hb)} 01 00`]);
});

test('BR/EDR: crash (the controller restarts by itself) -> Hardware Error, the peer gets 0x08 20 s later without a Reset', () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  up(a);
  up(b);
  loop.run();
  const [ha, hb] = connect(loop, a, b);
  a.clear();
  b.clear();
  const t0 = loop.get_time_ms();
  a.c.faults.crash(0x42);
  loop.run();
  assert.is(loop.get_time_ms() - t0, 20_000);
  // its state is back to after Reset: the default event mask still carries Hardware Error
  assert.equal(a.take(), ['10 01 42']);
  assert.equal(b.take(), [`05 04 00 ${le16(hb)} 08`]);
  assert.is(a.c.state.connections.has(ha), false);
});

for (const who of ['peripheral', 'central'] as const) {
  test(`LE: the ${who} resets -> the other gets Disconnection Complete 0x08 after timeout x 10 ms (420 ms)`, () => {
    const { loop, hosts } = bench(2, { rssi: -55 });
    const [a, b] = hosts as [Host, Host];
    unmask(a);
    unmask(b);
    loop.run();
    const [ha, hb] = leConnect(loop, a, b); // a central, b peripheral; timeout 0x002a
    a.clear();
    b.clear();
    const [resets, peer, handle] = who === 'peripheral' ? [b, a, ha] : [a, b, hb];
    const t0 = loop.get_time_ms();
    resets.cmd('03 0c 00');
    loop.run();
    assert.is(loop.get_time_ms() - t0, 420);
    assert.equal(peer.take(), [`05 04 00 ${le16(handle)} 08`]);
    assert.equal(resets.take(), ['0e 04 01 03 0c 00']);
  });
}

test.run();
