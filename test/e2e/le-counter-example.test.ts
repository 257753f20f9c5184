/**
 * examples/le-counter and examples/att-server as separate processes, each on its own socat pty of
 * one `bthost controller` Unix socket, met by examples/le-counter-central on another pty:
 * - le-counter: the central connects (gap_connect to the address le-counter printed), exchanges
 *   the MTU, finds the Counter Service, reads the protected characteristic 0xFF12 (READ_ENCRYPTED):
 *   Insufficient Encryption (0x0F), pairs (LE legacy Just Works, SMP in the capture), reads it again: the value; finds the CCC, subscribes, receives three "BTstack
 *   counter NNNN" notifications, unsubscribes and disconnects; both exit 0 (le-counter with --once).
 * - att-server: the central connects and reads the device name; att-server prints the central's
 *   address type and address (ATT_EVENT_CONNECTED) and exits 0 with --once.
 * Every packet log decodes cleanly under tshark and btmon, and tshark's btatt sees the PDUs
 * in the order the central asked for them.
 * Also: the committed examples/*-gatt.ts are what the compiler (library and `bthost gatt compile`)
 * writes today, with the handles le-counter uses.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatt_compile } from '../../src/att/gatt-compiler.js';
import { assertCleanCapture, btmonText, tsharkFields } from '../helpers/capture.js';
import { haveSocat, type Proc, ROOT, tsx, until, radio } from './proc-helpers.js';

test('examples/*-gatt.ts are the compiler output of their .gatt files (library and bthost gatt compile)', async () => {
  for (const name of ['le-counter', 'att-server']) {
    const file = `examples/${name}.gatt`;
    const r = gatt_compile(readFileSync(join(ROOT, file), 'utf8'), { file });
    assert.is(r.status, 0, JSON.stringify(r.diagnostics));
    assert.is(
      readFileSync(join(ROOT, `examples/${name}-gatt.ts`), 'utf8'),
      r.typescript,
      `${name}-gatt.ts is stale: npx bthost gatt compile ${file} -o examples/${name}-gatt.ts`,
    );
  }
  const le = gatt_compile(readFileSync(join(ROOT, 'examples/le-counter.gatt'), 'utf8'));
  // GAP 0x0001-0x0003, Battery 0x0004-0x0007, GATT 0x0008-0x000A, Counter 0x000B-0x0010 (0xFF12 protected)
  assert.equal(
    { ...le.handles },
    {
      ATT_SERVICE_GAP_SERVICE_START_HANDLE: 0x01,
      ATT_SERVICE_GAP_SERVICE_END_HANDLE: 0x03,
      ATT_SERVICE_ORG_BLUETOOTH_SERVICE_BATTERY_SERVICE_START_HANDLE: 0x04,
      ATT_SERVICE_ORG_BLUETOOTH_SERVICE_BATTERY_SERVICE_END_HANDLE: 0x07,
      ATT_SERVICE_GATT_SERVICE_START_HANDLE: 0x08,
      ATT_SERVICE_GATT_SERVICE_END_HANDLE: 0x0a,
      ATT_SERVICE_0000FF10_0000_1000_8000_00805F9B34FB_START_HANDLE: 0x0b,
      ATT_SERVICE_0000FF10_0000_1000_8000_00805F9B34FB_END_HANDLE: 0x10,
      ATT_CHARACTERISTIC_GAP_DEVICE_NAME_01_VALUE_HANDLE: 0x03,
      ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL_01_VALUE_HANDLE: 0x06,
      ATT_CHARACTERISTIC_ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL_01_CLIENT_CONFIGURATION_HANDLE: 0x07,
      ATT_CHARACTERISTIC_GATT_DATABASE_HASH_01_VALUE_HANDLE: 0x0a,
      ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_VALUE_HANDLE: 0x0d,
      ATT_CHARACTERISTIC_0000FF11_0000_1000_8000_00805F9B34FB_01_CLIENT_CONFIGURATION_HANDLE: 0x0e,
      ATT_CHARACTERISTIC_0000FF12_0000_1000_8000_00805F9B34FB_01_VALUE_HANDLE: 0x10,
    },
  );
  // the CLI writes the same module
  const dir = mkdtempSync(join(tmpdir(), 'bthost-gatt-compile-'));
  try {
    const out = join(dir, 'out.ts');
    const cli = tsx('ports/cli/cli.ts', ['gatt', 'compile', 'examples/le-counter.gatt', '-o', out]);
    assert.is(await cli.exit, 0, cli.out);
    assert.match(cli.out, /examples\/le-counter\.gatt -> .*out\.ts \(264 octets of att_db\)/);
    assert.is(readFileSync(out, 'utf8'), readFileSync(join(ROOT, 'examples/le-counter-gatt.ts'), 'utf8'));
    const bad = tsx('ports/cli/cli.ts', ['gatt', 'compile', join(dir, 'missing.gatt')]);
    assert.is(await bad.exit, 1);
    assert.match(bad.out, /missing\.gatt not compiled: cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('le-counter and att-server in separate processes on ptys of one bthost controller, met by le-counter-central', async () => {
  assert.ok(haveSocat, 'socat is installed');
  const dir = mkdtempSync(join(tmpdir(), 'bthost-le-examples-'));
  const procs: Proc[] = [];
  try {
    const ttys = await radio(dir, procs, ['counter', 'central', 'att', 'central2']);
    const logs = ['counter.btsnoop', 'central.btsnoop', 'att.btsnoop', 'central2.pklg'].map((f) => join(dir, f));
    const UP = /up and running at ([0-9A-F:]{17})/;

    // ---- le-counter: subscribe, three notifications, unsubscribe, leave
    const counter = tsx('examples/le-counter.ts', ['-u', ttys[0]!, '--no-flow', '-l', logs[0]!, '--once']);
    procs.push(counter);
    await until(() => UP.test(counter.out), 30_000, `le-counter up\n${counter.out}`);
    const counterAddr = UP.exec(counter.out)![1]!;
    const central = tsx('examples/le-counter-central.ts', ['-u', ttys[1]!, '--no-flow', '--addr', counterAddr, '-l', logs[1]!]);
    procs.push(central);
    const [c1, s1] = await Promise.all([central.exit, counter.exit]);
    assert.is(c1, 0, `central exit code\n${central.out.slice(-3000)}`);
    assert.is(s1, 0, `le-counter exit code\n${counter.out.slice(-3000)}`);
    const centralAddr = UP.exec(central.out)![1]!;
    assert.match(central.out, /ATT MTU exchanged: server rx mtu 64/);
    assert.match(central.out, /Counter Service 0xFF10: handles 0x000b-0x0010/);
    assert.match(central.out, /Counter characteristic 0xFF11: properties 0x16, value handle 0x000d/);
    // the protected characteristic: refused before pairing, its value after Just Works pairing
    const steps = [
      /protected characteristic 0xFF12: ATT error 0x0f \(Insufficient Encryption\), pairing\n/,
      /paired \(Just Works\), security level 2\n/,
      /protected characteristic 0xFF12: 'encrypted BTstack counter \d{4}'\n/,
      /subscribed: notifications enabled/,
    ].map((re) => central.out.search(re));
    assert.ok(
      steps.every((at, i) => at > (i === 0 ? 0 : steps[i - 1]!)),
      `in this order: ${steps}\n${central.out}`,
    );
    assert.match(counter.out, /Just Works pairing requested: confirmed\n/);
    assert.match(counter.out, /pairing complete: success \(0x00\)\n/);
    assert.match(central.out, /subscribed: notifications enabled \(CCC 0x000e = 0x0001\)/);
    const notes = [...central.out.matchAll(/ATT notification handle 0x000d: 'BTstack counter (\d{4})'/g)].map((m) =>
      Number(m[1]),
    );
    assert.is(notes.length, 3, central.out);
    assert.ok(notes[1]! === notes[0]! + 1 && notes[2]! === notes[1]! + 1, `one per tick: ${notes}`);
    assert.match(central.out, /unsubscribed: notifications disabled/);
    assert.match(counter.out, new RegExp(`ATT_EVENT_CONNECTED address_type=0 address=${centralAddr} handle=`));
    assert.match(counter.out, new RegExp(`central ${centralAddr} connected`));
    assert.match(counter.out, /ATT_EVENT_MTU_EXCHANGE_COMPLETE handle=\d+ MTU=64/);
    assert.match(counter.out, /notifications enabled\n/);
    assert.match(counter.out, /notifications disabled\n/);
    assert.match(counter.out, /ATT_EVENT_DISCONNECTED handle=/);

    // ---- att-server: accept, print the central's address type and address
    const att = tsx('examples/att-server.ts', ['-u', ttys[2]!, '--no-flow', '-l', logs[2]!, '--once']);
    procs.push(att);
    await until(() => UP.test(att.out), 30_000, `att-server up\n${att.out}`);
    const attAddr = UP.exec(att.out)![1]!;
    const central2 = tsx('examples/le-counter-central.ts', [
      ...['-u', ttys[3]!, '--no-flow', '--addr', attAddr, '--notifications', '0', '-l', logs[3]!, '-f', 'pklg'],
    ]);
    procs.push(central2);
    const [c2, s2] = await Promise.all([central2.exit, att.exit]);
    assert.is(c2, 0, `central exit code\n${central2.out.slice(-3000)}`);
    assert.is(s2, 0, `att-server exit code\n${att.out.slice(-3000)}`);
    const central2Addr = UP.exec(central2.out)![1]!;
    assert.match(central2.out, /GAP Device Name: 'bthost ATT server'/);
    assert.match(
      att.out,
      new RegExp(`accepted connection 1 from public address ${central2Addr} \\(address type 0, handle 0x[0-9a-f]{4}\\)`),
    );
    assert.match(att.out, /connection 0x[0-9a-f]{4} closed/);

    // ---- captures
    for (const log of logs) assertCleanCapture(log);
    const opcodes = (log: string): number[] => tsharkFields(log, ['btatt.opcode'], 'btatt').map(([x]) => parseInt(x!, 16));
    // the central's view: MTU, service, characteristics, protected read -> Error Response, (pairing),
    // the same Read -> Read Response, CCC, subscribe, 3 notifications, unsubscribe
    const seen = opcodes(logs[1]!);
    assert.equal(seen.slice(0, 14), [0x02, 0x03, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x01, 0x0a, 0x0b, 0x04, 0x05, 0x12, 0x13]);
    assert.equal(tsharkFields(logs[1]!, ['btatt.handle', 'btatt.error_code'], 'btatt.opcode == 0x01'), [['0x0010', '0x0f']]);
    // SMP between the two reads: LE legacy Just Works (BTstack's default authentication requirements,
    // no SC flag): Pairing Request / Response, Confirms, Randoms; no key distribution (no bonding)
    assert.equal(
      tsharkFields(logs[1]!, ['btsmp.opcode'], 'btsmp').map(([x]) => parseInt(x!, 16)),
      [0x01, 0x02, 0x03, 0x03, 0x04, 0x04],
    );
    assert.equal(seen.filter((o) => o === 0x1b).length, 3);
    assert.equal(seen.slice(-2), [0x12, 0x13]);
    assert.equal(opcodes(logs[0]!), seen, 'both ends saw the same ATT PDUs');
    assert.equal(opcodes(logs[3]!), [0x02, 0x03, 0x08, 0x09]);
    const values = tsharkFields(logs[1]!, ['btatt.handle', 'btatt.value'], 'btatt.opcode == 0x1b');
    for (const [handle, value] of values) {
      assert.is(parseInt(handle!, 16), 0x0d);
      assert.match(Buffer.from(value!.replace(/:/g, ''), 'hex').toString(), /^BTstack counter \d{4}$/);
    }
    // btmon by name (the counter logs hold a Read By Type Request for 0x2803, which btmon 5.66
    // crashes on: assertCleanCapture reads those without it, see capture.ts)
    const bm = btmonText(logs[2]!);
    assert.match(bm, /ATT: Exchange MTU Request \(0x02\)/);
    assert.match(bm, /ATT: Read By Type Response \(0x09\)/);
  } finally {
    for (const p of procs.reverse()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => Promise.race([p.exit, new Promise((r) => setTimeout(r, 2000))])));
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
