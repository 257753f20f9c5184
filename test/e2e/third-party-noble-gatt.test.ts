/**
 * noble (@stoprocent/noble, UART driver, pinned in test/third-party/, installed on demand) as an LE
 * central against examples/le-counter (issue 14, "Third-party peers"): le-counter runs as its own
 * process on a socat pty of the virtual radio, noble in a child process on another pty (through
 * the wiretap). noble finds "LE Counter" by scanning, connects, discovers every service and
 * characteristic (GAP, Battery, GATT, Counter 0xFF10), reads the device name and the counter,
 * writes without response (le-counter prints it), subscribes to 0xFF11 and receives three
 * consecutive counter notifications, unsubscribes and disconnects; le-counter (--once) then exits 0.
 * noble's HCI (the tap's btsnoop) and le-counter's packet log decode cleanly under tshark and btmon.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bd_addr_to_str } from '../../src/core/bytes.js';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { ensure_third_party, NOBLE_RUNNER } from '../third-party/install.js';
import { haveSocat, JsonChild, open_rig, remove_rig, type Rig } from './third-party-helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** examples/le-counter in its own process. */
class LeCounter {
  out = '';
  readonly child: ChildProcess;
  readonly exit: Promise<number | null>;
  constructor(tty: string, log: string) {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', 'examples/le-counter.ts', '-u', tty, '--no-flow', '-l', log, '--once'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout!.on('data', (d) => (this.out += d));
    this.child.stderr!.on('data', (d) => (this.out += d));
    this.exit = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }
}

const UP = /up and running at ([0-9A-F:]{17})/;

test('noble as central on a pty: finds le-counter, discovers, reads, writes, gets 3 notifications, disconnects', async () => {
  assert.ok(haveSocat, 'socat is installed');
  const tp = ensure_third_party();
  assert.ok(!('unavailable' in tp), 'unavailable' in tp ? tp.unavailable : '');
  let rig: Rig | null = null;
  let noble: JsonChild | null = null;
  let counter: LeCounter | null = null;
  try {
    rig = await open_rig('bthost-3p-noble-gatt-');
    const r = rig;
    const counterLog = join(r.dir, 'le-counter.btsnoop');
    const c = new LeCounter(await r.ptyTo('counter', r.sock), counterLog);
    counter = c;
    const n = new JsonChild(NOBLE_RUNNER, [await r.ptyTo('noble', r.tapSock), '115200']);
    noble = n;
    const trace = (): string => `le-counter output:\n${c.out}\n${r.trace(n)}`;
    const wait = async (pred: () => boolean, ms: number, what: string): Promise<void> => {
      try {
        await r.wait(() => pred() || c.exited, ms, what, n);
      } catch (e) {
        throw new Error(`${(e as Error).message}\nle-counter output:\n${c.out}`);
      }
      if (!pred()) throw new Error(`le-counter exited (${c.child.exitCode}) while waiting for ${what}\n${trace()}`);
    };
    await wait(() => UP.test(c.out), 30_000, 'le-counter up');
    const counterAddr = UP.exec(c.out)![1]!.toLowerCase();
    await wait(() => !!n.find((e) => e.ev === 'state' && e.state === 'poweredOn'), 8000, 'noble poweredOn');

    // ---- scan: le-counter by name
    n.send({ cmd: 'scan' });
    const found = () => n.find((e) => e.ev === 'discover' && e.localName === 'LE Counter');
    await wait(() => !!found(), 8000, 'noble discovers LE Counter');
    assert.is(found()!.address, counterAddr, 'the address le-counter printed');
    assert.is(found()!.connectable, true);
    const ctl = r.server.controllers.find((x) => bd_addr_to_str(x.bd_addr).toLowerCase() === counterAddr);
    assert.ok(ctl, "le-counter's controller is on the radio");
    n.send({ cmd: 'stopScan' });
    await wait(() => !!n.find((e) => e.ev === 'scanStop'), 3000, 'scan stopped');

    // ---- connect, discover everything
    n.send({ cmd: 'connect', address: counterAddr });
    await wait(() => !!n.find((e) => e.ev === 'connect'), 8000, 'noble connected');
    assert.is(n.find((e) => e.ev === 'connect')!.error, null);
    n.send({ cmd: 'discoverAll', address: counterAddr });
    await wait(() => !!n.find((e) => e.ev === 'services'), 8000, 'noble discovered services and characteristics');
    const disc = n.find((e) => e.ev === 'services')!;
    assert.is(disc.error, null);
    type Svc = { uuid: string; characteristics: { uuid: string; properties: string[] }[] };
    const services = disc.services as Svc[];
    assert.equal(
      services.map((s) => [s.uuid, s.characteristics.map((x) => [x.uuid, x.properties])]),
      [
        ['1800', [['2a00', ['read']]]],
        ['180f', [['2a19', ['read', 'notify']]]],
        ['1801', [['2b2a', ['read']]]],
        [
          '0000ff1000001000800000805f9b34fb',
          [
            ['0000ff1100001000800000805f9b34fb', ['read', 'writeWithoutResponse', 'notify']],
            ['0000ff1200001000800000805f9b34fb', ['read']], // the protected one (READ_ENCRYPTED), not read here
          ],
        ],
      ],
      "le-counter's database as noble sees it (examples/le-counter.gatt)",
    );
    const FF10 = '0000ff1000001000800000805f9b34fb';
    const FF11 = '0000ff1100001000800000805f9b34fb';
    const at = { address: counterAddr };

    // ---- reads
    n.send({ cmd: 'read', ...at, service: '1800', characteristic: '2a00' });
    n.send({ cmd: 'read', ...at, service: FF10, characteristic: FF11 });
    await wait(() => n.all('read').length === 2, 5000, 'two reads');
    const [name, value] = n.all('read');
    assert.is(name!.error, null);
    assert.is(Buffer.from(name!.value as string, 'hex').toString(), 'LE Counter');
    assert.is(value!.error, null);
    assert.match(Buffer.from(value!.value as string, 'hex').toString(), /^BTstack counter \d{4}$/);

    // ---- write without response: le-counter prints it
    n.send({
      cmd: 'write',
      ...at,
      service: FF10,
      characteristic: FF11,
      value: Buffer.from('hi from noble').toString('hex'),
      withoutResponse: true,
    });
    await wait(() => c.out.includes("write: 'hi from noble'"), 5000, 'le-counter got the write');

    // ---- subscribe: three consecutive counter notifications
    n.send({ cmd: 'subscribe', ...at, service: FF10, characteristic: FF11 });
    await wait(() => n.all('data').length >= 3, 8000, 'three notifications');
    assert.is(n.find((e) => e.ev === 'subscribed')!.error, null);
    assert.match(c.out, /notifications enabled/);
    const texts = n
      .all('data')
      .slice(0, 3)
      .map((e) => {
        assert.is(e.isNotification, true);
        return Buffer.from(e.value as string, 'hex').toString();
      });
    const nums = texts.map((t) => {
      assert.match(t, /^BTstack counter \d{4}$/);
      return Number(t.slice(-4));
    });
    assert.equal(nums, [nums[0]!, nums[0]! + 1, nums[0]! + 2], `consecutive: ${texts.join(', ')}`);
    n.send({ cmd: 'unsubscribe', ...at, service: FF10, characteristic: FF11 });
    await wait(() => c.out.includes('notifications disabled'), 5000, 'unsubscribed');
    assert.is(n.find((e) => e.ev === 'unsubscribed')?.error ?? null, null);

    // ---- disconnect: le-counter (--once) leaves with 0
    n.send({ cmd: 'disconnect', address: counterAddr });
    await wait(() => !!n.find((e) => e.ev === 'disconnect') && c.out.includes('central disconnected'), 5000, 'disconnected');
    assert.is(await c.exit, 0, c.out);
    assert.equal(r.tap.framing_errors, [], "clean H4 both ways on noble's side");
    await n.stop();
    await r.close();

    // ---- captures: both clean; noble's side saw the ATT PDUs in order, three notifications on 0x000D
    assertCleanCapture(r.tapLog);
    assertCleanCapture(counterLog);
    const notes = tsharkFields(r.tapLog, ['btatt.handle'], 'btatt.opcode == 0x1b');
    assert.ok(notes.length >= 3, `${notes.length} notifications in noble's capture`);
    for (const [h] of notes) assert.is(parseInt(h!, 16), 0x0d);
    const ops = tsharkFields(r.tapLog, ['btatt.opcode'], 'btatt && hci_h4.direction == 0x00').map(([x]) => parseInt(x!, 16));
    assert.is(ops[0], 0x02, 'noble starts with Exchange MTU');
    assert.ok(ops.includes(0x52), 'Write Command');
    assert.ok(ops.filter((o) => o === 0x12).length >= 2, 'CCCD written twice (subscribe, unsubscribe)');
  } finally {
    await noble?.stop();
    if (counter && !counter.exited) counter.child.kill('SIGKILL');
    await rig?.close();
    remove_rig(rig);
  }
});

test.run();
