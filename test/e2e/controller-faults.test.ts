/**
 * The fault-injection harness (issue 18): `bthost controller --fault SPECS --control unix:PATH`
 * as a process, driven by raw H4 clients on its socket. Every fault is checked by the bytes the
 * client receives (or does not).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { control_send } from '../helpers/fault-harness.js';
import { parse_fault_specs, LineFaults } from '../../ports/virtual/fault-spec.js';
import { SocketClient, wait_for } from './controller-helpers.js';
import { tsx, until, type Proc } from './proc-helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-faults-'));
const procs: Proc[] = [];

test('fault specs: parsed, bad ones named', () => {
  const s = parse_fault_specs('c1:fail=HCI_Reset:0x03:2, inflate-nocp=100@500 ,stray=ff00');
  assert.ok(Array.isArray(s));
  const list = s as Exclude<typeof s, string>;
  assert.equal(
    list.map((x) => [x.target, x.at_ms, x.action.kind]),
    [
      [1, 0, 'fail'],
      [null, 500, 'inflate-nocp'],
      [null, 0, 'stray'],
    ],
  );
  assert.equal(list[0]!.action, { kind: 'fail', opcode: 0x0c03, status: 3, count: 2 });
  assert.is(parse_fault_specs('bogus'), "unknown fault 'bogus'");
  assert.match(parse_fault_specs('stray=f') as string, /whole bytes/);
  assert.match(parse_fault_specs('fail=HCI_Nope:1') as string, /fail=CMD:STATUS/);
  assert.match(parse_fault_specs('unplug@x') as string, /@MS/);
});

test('LineFaults: NOCP counts and command credits rewritten on the line', () => {
  const l = new LineFaults();
  l.set_inflate_nocp(100, 1);
  // NOCP, 2 handles: 0x000b x1, 0x000c x2 (Core Vol 4 Part E 7.7.19)
  const nocp = Uint8Array.from([0x13, 0x09, 0x02, 0x0b, 0x00, 0x01, 0x00, 0x0c, 0x00, 0x02, 0x00]);
  l.rewrite(0x04, nocp, nocp.length);
  assert.equal(Array.from(nocp), [0x13, 0x09, 0x02, 0x0b, 0x00, 0x64, 0x00, 0x0c, 0x00, 0x64, 0x00]);
  const again = Uint8Array.from([0x13, 0x05, 0x01, 0x0b, 0x00, 0x01, 0x00]);
  l.rewrite(0x04, again, again.length);
  assert.is(again[5], 1, 'TIMES=1: only the first NOCP');
  l.set_credits(0);
  const cc = Uint8Array.from([0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00]);
  l.rewrite(0x04, cc, cc.length);
  assert.is(cc[2], 0);
  const cs = Uint8Array.from([0x0f, 0x04, 0x00, 0x01, 0x05, 0x04]);
  l.rewrite(0x04, cs, cs.length);
  assert.is(cs[3], 0);
  const short = Uint8Array.from([0x13, 0x05, 0x02, 0x0b]);
  l.set_inflate_nocp(9);
  l.rewrite(0x04, short, short.length); // never past size
  assert.equal(Array.from(short), [0x13, 0x05, 0x02, 0x0b]);
});

test('bthost controller --fault / --control: failures, credits, stray bytes, silence, unplug', async () => {
  const sock = path.join(tmp, 'c.sock');
  const control = path.join(tmp, 'control.sock');
  const ctl = tsx('ports/cli/cli.ts', [
    'controller',
    '--listen',
    `unix:${sock}`,
    '--control',
    `unix:${control}`,
    '--fault',
    'c0:fail=HCI_Reset:0x03,c1:credits=0:1',
  ]);
  procs.push(ctl);
  await until(() => ctl.out.includes('listening on'), 20_000, 'listening');
  const a = await SocketClient.connect(sock);
  await until(() => ctl.out.includes('controller 0 '), 5000, 'controller 0');
  const b = await SocketClient.connect(sock);
  await until(() => ctl.out.includes('controller 1 '), 5000, 'controller 1');
  try {
    a.cmd('03 0c 00');
    b.cmd('03 0c 00');
    await wait_for(() => a.events().length === 1 && b.events().length === 1, 3000, 'resets answered');
    assert.equal(a.events(), ['0e 04 01 03 0c 03'], 'controller 0: Reset fails with 0x03 (--fault c0:fail)');
    assert.equal(b.events(), ['0e 04 00 03 0c 00'], 'controller 1: zero command credits on the line');
    assert.match(await control_send(control, 'list'), /^controllers 0 [0-9A-F:]{17} 1 [0-9A-F:]{17}$/);
    a.clear();
    b.clear();
    assert.is(await control_send(control, 'c1:stray=ff00aa'), 'ok 1');
    await wait_for(() => b.raw.length === 3, 3000, 'stray bytes');
    assert.equal(b.raw, [0xff, 0x00, 0xaa]);
    assert.is(await control_send(control, 'c0:hardware-error=0x42'), 'ok 1');
    await wait_for(() => a.events().length === 1, 3000, 'hardware error');
    assert.equal(a.events(), ['10 01 42']);
    assert.is(await control_send(control, 'c0:silent'), 'ok 1');
    a.clear();
    a.cmd('03 0c 00');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(a.raw, [], 'a silent controller answers nothing');
    assert.is(await control_send(control, 'c0:talk'), 'ok 1');
    a.cmd('03 0c 00');
    await wait_for(() => a.events().length === 1, 3000, 'answers again');
    assert.match(await control_send(control, 'nonsense'), /^error unknown fault/);
    assert.is(await control_send(control, 'c1:unplug@50'), 'ok 1');
    await wait_for(() => b.socket.destroyed || b.socket.readableEnded, 3000, 'line dropped');
    await until(() => ctl.out.includes('controller 1 ') && ctl.out.includes('disconnected'), 3000, 'disconnect printed');
  } finally {
    await a.close();
    await b.close();
  }
});

test('bthost controller: a bad --fault is a usage error (rc 2) naming the problem', async () => {
  const p = tsx('ports/cli/cli.ts', ['controller', '--listen', `unix:${path.join(tmp, 'x.sock')}`, '--fault', 'inflate-nocp=x']);
  const rc = await p.exit;
  assert.is(rc, 2);
  assert.match(p.out, /--fault: fault 'inflate-nocp=x': expected inflate-nocp=COUNT/);
});

test.after(() => {
  for (const p of procs) p.child.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
