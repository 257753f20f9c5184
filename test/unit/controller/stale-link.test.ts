/**
 * One ACL per pair of devices (issue 11 item 7). Controller A is Reset while linked to B: A's side
 * is gone, B keeps the lost link until its supervision timeout. A page from A meanwhile must not
 * give B a second ACL to the same BD_ADDR: B's link manager refuses it with Connection Already
 * Exists (0x0B, Vol 1 Part F 2.11) and B's host hears nothing; once the supervision timeout ended
 * the stale link, A connects again and address-keyed commands (IO Capability Request Reply, User
 * Confirmation Request Reply) reach the new link.
 *
 * Bytes written out from Vol 4 Part E: Create Connection 0x0405 (7.1.5), Accept Connection
 * Request 0x0409 (7.1.8), Authentication Requested 0x0411, Link Key Request Negative Reply
 * 0x040C, IO Capability Request Reply 0x042B, User Confirmation Request Reply 0x042C, Remote Name
 * Request 0x0419; events Connection Complete 0x03 (status, handle, BD_ADDR, link type 01,
 * encryption 00), Connection Request 0x04, Disconnection Complete 0x05, Command Status 0x0F,
 * Command Complete 0x0E.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { bench, le16, unmask, wire, type Host } from './bench.js';

/** Events on, connectable, SSP on (what a host writes at boot). */
function boot(h: Host): void {
  unmask(h);
  h.cmd('1a 0c 01 02'); // Write Scan Enable: page scan
  h.cmd('56 0c 01 01'); // Write Simple Pairing Mode: enabled
}

const handleOf = (ev: Uint8Array): number => ev[3]! | (ev[4]! << 8);

/** a pages b, b's host accepts (stays peripheral); returns [a's handle, b's handle]. */
function connect(loop: VirtualRunLoop, a: Host, b: Host): [number, number] {
  const A = wire(a.c.bd_addr);
  const B = wire(b.c.bd_addr);
  a.cmd(`05 04 0d ${B} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!b.find(0x04));
  assert.equal(a.take(), ['0f 04 00 01 05 04']);
  assert.equal(b.take(), [`04 0a ${A} 00 00 00 01`]);
  b.cmd(`09 04 07 ${A} 01`);
  loop.run_until(() => !!a.find(0x03) && !!b.find(0x03));
  const ea = a.find(0x03)!;
  const eb = b.find(0x03)!;
  const ha = handleOf(ea);
  const hb = handleOf(eb);
  assert.equal(a.take(), [`03 0b 00 ${le16(ha)} ${B} 01 00`]);
  assert.equal(b.take(), ['0f 04 00 01 09 04', `03 0b 00 ${le16(hb)} ${A} 01 00`]);
  return [ha, hb];
}

/** a linked to b, then a Reset and booted again: b holds a lost link to a. */
function staleLink(supervision?: string) {
  const { loop, hosts, link } = bench(2);
  const [a, b] = hosts as [Host, Host];
  boot(a);
  boot(b);
  loop.advance(100);
  a.clear();
  b.clear();
  const [ha, hb] = connect(loop, a, b);
  if (supervision) {
    a.cmd(`37 0c 04 ${le16(ha)} ${supervision}`); // the central sets the link supervision timeout
    loop.advance(10);
    assert.equal(a.take(), [`0e 06 01 37 0c 00 ${le16(ha)}`]);
  }
  a.cmd('03 0c 00');
  boot(a);
  loop.advance(10);
  assert.equal(a.take(), [
    '0e 04 01 03 0c 00',
    '0e 04 01 01 0c 00',
    '0e 04 01 01 20 00',
    '0e 04 01 1a 0c 00',
    '0e 04 01 56 0c 00',
  ]);
  assert.equal(b.take(), [], 'b does not know yet that a is gone');
  return { loop, link, a, b, hb, A: wire(a.c.bd_addr), B: wire(b.c.bd_addr) };
}

test('a page from a device that still has an ACL here: Connection Complete 0x0B on the pager, nothing on the paged host', () => {
  const { loop, link, a, b, hb, A, B } = staleLink();
  const t0 = loop.get_time_ms();
  a.cmd(`05 04 0d ${B} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!a.find(0x03) || !!b.find(0x04), 1000);
  assert.equal(b.take(), [], 'no Connection Request, no second Connection Complete for the same BD_ADDR');
  // the page reaches b (page_ms), b's link manager refuses the connection (one air message)
  assert.equal(a.take(), ['0f 04 00 01 05 04', `03 0b 0b 00 00 ${B} 01 00`]);
  assert.is(loop.get_time_ms() - t0, link.page_ms + link.latency_ms);
  loop.advance(1000);
  assert.equal(b.take(), []);
  // b's host has no request to answer, and its only link to a is the stale one
  b.cmd(`09 04 07 ${A} 01`);
  b.cmd(`2b 04 09 ${A} 01 00 03`);
  loop.advance(10);
  assert.equal(b.take(), ['0f 04 02 01 09 04', `0e 0a 01 2b 04 0c ${A}`]);
  assert.is(b.c.state.connections.size, 1);
  // the supervision timeout (0x7D00 slots = 20 s after the reset) ends the stale link
  loop.run_until(() => !!b.find(0x05), 30_000);
  assert.equal(b.take(), [`05 04 00 ${le16(hb)} 08`]);
  assert.equal(a.take(), []);
});

test('after the stale link timed out: a fresh connection, and SSP replies by address reach it', () => {
  const { loop, a, b, hb, A, B } = staleLink('40 06'); // 0x0640 slots = 1 s
  a.cmd(`05 04 0d ${B} 18 cc 01 00 00 00 01`);
  loop.advance(100);
  assert.equal(a.take(), ['0f 04 00 01 05 04', `03 0b 0b 00 00 ${B} 01 00`]);
  loop.advance(1000);
  assert.equal(b.take(), [`05 04 00 ${le16(hb)} 08`]);
  const [ha2, hb2] = connect(loop, a, b);
  assert.is.not(hb2, hb);
  assert.is(b.c.state.connections.size, 1);
  // SSP, numeric comparison: every reply names the peer by BD_ADDR
  a.cmd(`11 04 02 ${le16(ha2)}`);
  loop.advance(100);
  assert.equal(a.take(), ['0f 04 00 01 11 04', `17 06 ${B}`]);
  a.cmd(`0c 04 06 ${B}`);
  loop.advance(100);
  assert.equal(a.take(), [`0e 0a 01 0c 04 00 ${B}`, `31 06 ${B}`]);
  a.cmd(`2b 04 09 ${B} 01 00 03`);
  loop.advance(100);
  assert.equal(a.take(), [`0e 0a 01 2b 04 00 ${B}`]);
  assert.equal(b.take(), [`32 09 ${A} 01 00 03`, `31 06 ${A}`]);
  b.cmd(`2b 04 09 ${A} 01 00 03`);
  loop.advance(100);
  assert.is(b.shift(), `0e 0a 01 2b 04 00 ${A}`, 'IO Capability Request Reply accepted on the live link');
  assert.is(a.shift(), `32 09 ${B} 01 00 03`);
  const ua = a.take();
  const ub = b.take();
  assert.is(ua.length, 1);
  const value = ua[0]!.slice(-11);
  assert.equal(ua, [`33 0a ${B} ${value}`]);
  assert.equal(ub, [`33 0a ${A} ${value}`]);
  a.cmd(`2c 04 06 ${B}`);
  b.cmd(`2c 04 06 ${A}`);
  loop.advance(100);
  const ea = a.take();
  const eb = b.take();
  assert.is(ea.length, 4);
  assert.equal(ea.slice(0, 2), [`0e 0a 01 2c 04 00 ${B}`, `36 07 00 ${B}`]);
  assert.ok(ea[2]!.startsWith(`18 17 ${B} `) && ea[2]!.endsWith(' 05'), 'authenticated P-192 key');
  assert.is(ea[3], `06 03 00 ${le16(ha2)}`);
  assert.equal(eb.slice(0, 2), [`0e 0a 01 2c 04 00 ${A}`, `36 07 00 ${A}`]);
  assert.is(eb[2]!.slice(0, -3), ea[2]!.replace(B, A).slice(0, -3), 'the same key on both sides');
  assert.is(eb.length, 3);
});

test("pages crossing: each host accepts the other's page, only one ACL forms; the second attempt ends 0x0B", () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  boot(a);
  boot(b);
  loop.advance(100);
  a.clear();
  b.clear();
  const A = wire(a.c.bd_addr);
  const B = wire(b.c.bd_addr);
  a.cmd(`05 04 0d ${B} 18 cc 01 00 00 00 01`);
  b.cmd(`05 04 0d ${A} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!a.find(0x04) && !!b.find(0x04));
  assert.equal(a.take(), ['0f 04 00 01 05 04', `04 0a ${B} 00 00 00 01`]);
  assert.equal(b.take(), ['0f 04 00 01 05 04', `04 0a ${A} 00 00 00 01`]);
  a.cmd(`09 04 07 ${B} 01`); // a takes b's page first: b central, a peripheral
  b.cmd(`09 04 07 ${A} 01`);
  loop.advance(100);
  const ha = handleOf(a.find(0x03)!);
  const hb = handleOf(b.find(0x03)!);
  // b's page completed; a's page meets the ACL now there: 0x0B to both hosts for that attempt
  assert.equal(a.take(), ['0f 04 00 01 09 04', `03 0b 00 ${le16(ha)} ${B} 01 00`, `03 0b 0b 00 00 ${B} 01 00`]);
  assert.equal(b.take(), ['0f 04 00 01 09 04', `03 0b 00 ${le16(hb)} ${A} 01 00`, `03 0b 0b 00 00 ${A} 01 00`]);
  assert.is(a.c.state.connections.size, 1);
  assert.is(b.c.state.connections.size, 1);
});

test('Remote Name Request over a lost link: no name through it; Connection Timeout when the link ends', () => {
  const { loop, b, hb, A } = staleLink('40 06'); // 1 s
  const t0 = loop.get_time_ms();
  b.cmd(`19 04 0a ${A} 01 00 00 00`);
  loop.advance(100);
  assert.equal(b.take(), ['0f 04 00 01 19 04'], 'the name request waits on the lost link');
  loop.run_until(() => !!b.find(0x07), 60_000);
  assert.ok(loop.get_time_ms() - t0 <= 1000);
  assert.equal(b.take(), [`05 04 00 ${le16(hb)} 08`, `07 ff 08 ${A}${' 00'.repeat(248)}`]);
  // the link is gone: the name now comes by paging a
  b.cmd(`19 04 0a ${A} 01 00 00 00`);
  loop.advance(100);
  const ev = b.take();
  assert.is(ev.length, 3);
  assert.is(ev[0], '0f 04 00 01 19 04');
  assert.ok(ev[2]!.startsWith(`07 ff 00 ${A}`));
});

test.run();
