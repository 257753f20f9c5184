/**
 * Issue 11 item 7 over real serial devices: `bthost controller --listen unix:SOCK` in its own
 * process, two socat ptys onto it (two controllers on one radio), raw HCI written to each pty.
 * A and B link; A is Reset (its side of the link is gone, B's lingers until the supervision
 * timeout); A pages B: A gets Connection Complete with Connection Already Exists (0x0B) and B's
 * host hears nothing (before the fix: Connection Request, a second ACL to the same BD_ADDR, and
 * B's IO Capability Request Reply answered Command Disallowed from the stale link). After the
 * supervision timeout B gets Disconnection Complete 0x08; A connects again and SSP numeric
 * comparison completes with every reply keyed by BD_ADDR. Each host's side is captured (btsnoop)
 * and checked with tshark and btmon.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { SerialPort } from 'serialport';
import { hex } from '../../src/core/bytes.js';
import { HciDump } from '../../src/hci/dump.js';
import { H4Deframer } from '../../src/hci/h4.js';
import { assertCleanCapture } from '../helpers/capture.js';
import { Proc, Socat, waitForPaths } from './cli-helpers.js';
import { wait_for } from './controller-helpers.js';

// its own directory: cli-helpers' `tmp` is shared by every CLI test in the run and must outlive this file
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-stale-link-'));

/** A host that writes raw HCI commands to a pty and records (and captures) the events. */
class RawHost {
  readonly ev: string[] = [];
  readonly dump = new HciDump();
  private readonly deframer = new H4Deframer({
    accept: [0x02, 0x04],
    on_packet: (type, packet, size) => {
      this.dump.log_packet(type, 1, packet, size);
      if (type === 0x04) this.ev.push(hex(packet.subarray(0, size)));
    },
  });
  constructor(
    readonly port: SerialPort,
    capture: string,
  ) {
    assert.is(this.dump.open(capture, 'btsnoop'), 0);
    port.on('data', (d: Buffer) => this.deframer.feed(d));
  }
  static async open(p: string, capture: string): Promise<RawHost> {
    const port = new SerialPort({ path: p, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new RawHost(port, capture);
  }
  cmd(h: string): void {
    const b = Buffer.from(h.replace(/\s+/g, ''), 'hex');
    this.dump.log_packet(0x01, 0, b, b.length);
    this.port.write(Buffer.concat([Buffer.from([0x01]), b]));
  }
  has(prefix: string): boolean {
    return this.ev.some((e) => e.startsWith(prefix));
  }
  /** Wait for an event starting with `prefix`, then return and forget everything received. */
  async until(prefix: string, ms = 5000): Promise<string[]> {
    await wait_for(() => this.has(prefix), ms, `event ${prefix}`);
    return this.ev.splice(0);
  }
  close(): Promise<void> {
    this.dump.close();
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}

const le16 = (v: number): string => hex(Uint8Array.of(v & 0xff, v >> 8));

/** Boot: Reset, Set Event Mask (all), page scan on, SSP on, Read BD_ADDR; returns its address (wire hex). */
async function boot(h: RawHost): Promise<string> {
  h.cmd('03 0c 00');
  h.cmd('01 0c 08 ff ff ff ff ff ff ff 3f');
  h.cmd('1a 0c 01 02');
  h.cmd('56 0c 01 01');
  h.cmd('09 10 00');
  const ev = await h.until('0e 0a 01 09 10 00');
  assert.equal(ev.slice(0, 4), ['0e 04 01 03 0c 00', '0e 04 01 01 0c 00', '0e 04 01 1a 0c 00', '0e 04 01 56 0c 00']);
  assert.is(ev.length, 5);
  return ev[4]!.slice('0e 0a 01 09 10 00 '.length);
}

/** a pages b, b's host accepts; returns [a's handle, b's handle]. */
async function connect(a: RawHost, b: RawHost, A: string, B: string): Promise<[number, number]> {
  a.cmd(`05 04 0d ${B} 18 cc 01 00 00 00 01`);
  assert.equal(await b.until('04 0a'), [`04 0a ${A} 00 00 00 01`]);
  b.cmd(`09 04 07 ${A} 01`);
  const eb = await b.until('03 0b');
  const ea = await a.until('03 0b');
  const ha = parseInt(ea[1]!.slice(12, 14) + ea[1]!.slice(9, 11), 16);
  const hb = parseInt(eb[1]!.slice(12, 14) + eb[1]!.slice(9, 11), 16);
  assert.equal(ea, ['0f 04 00 01 05 04', `03 0b 00 ${le16(ha)} ${B} 01 00`]);
  assert.equal(eb, ['0f 04 00 01 09 04', `03 0b 00 ${le16(hb)} ${A} 01 00`]);
  return [ha, hb];
}

test('Reset A while linked, A pages B: 0x0B, no second ACL on B; after the supervision timeout a fresh link pairs', async () => {
  const sock = path.join(tmp, 'stale.sock');
  const ctl = new Proc(['controller', '--listen', `unix:${sock}`]);
  const socats: Socat[] = [];
  const hosts: RawHost[] = [];
  try {
    await ctl.waitFor(/^listening on unix:/m);
    for (const n of ['A', 'B']) {
      const p = path.join(tmp, `stale-tty${n}`);
      socats.push(new Socat(`pty,raw,echo=0,link=${p}`, `UNIX-CONNECT:${sock}`));
      await waitForPaths([p]);
      hosts.push(await RawHost.open(p, path.join(tmp, `stale-${n}.btsnoop`)));
    }
    const [a, b] = hosts as [RawHost, RawHost];
    const A = await boot(a);
    const B = await boot(b);

    const [ha, hb] = await connect(a, b, A, B);
    a.cmd(`37 0c 04 ${le16(ha)} 80 0c`); // central: link supervision timeout 0x0C80 slots = 2 s
    assert.equal(await a.until('0e 06 01 37 0c'), [`0e 06 01 37 0c 00 ${le16(ha)}`]);

    // A is reset: its side of the link is gone; B still holds it
    assert.is(await boot(a), A);
    a.cmd(`05 04 0d ${B} 18 cc 01 00 00 00 01`);
    await wait_for(() => a.has('03 0b') || b.has('04 0a'), 5000, 'the page from A to end');
    assert.equal(b.ev, [], 'B: no Connection Request, no second Connection Complete for A');
    assert.equal(await a.until('03 0b'), ['0f 04 00 01 05 04', `03 0b 0b 00 00 ${B} 01 00`]);

    // the stale link ends by supervision timeout
    assert.equal(await b.until('05 04', 5000), [`05 04 00 ${le16(hb)} 08`]);

    // a fresh link, and SSP with replies keyed by BD_ADDR
    const [ha2] = await connect(a, b, A, B);
    a.cmd(`11 04 02 ${le16(ha2)}`);
    assert.equal(await a.until('17 06'), ['0f 04 00 01 11 04', `17 06 ${B}`]);
    a.cmd(`0c 04 06 ${B}`);
    assert.equal(await a.until('31 06'), [`0e 0a 01 0c 04 00 ${B}`, `31 06 ${B}`]);
    a.cmd(`2b 04 09 ${B} 01 00 03`);
    assert.equal(await b.until('31 06'), [`32 09 ${A} 01 00 03`, `31 06 ${A}`]);
    b.cmd(`2b 04 09 ${A} 01 00 03`);
    const ub = await b.until('33 0a');
    assert.is(ub[0], `0e 0a 01 2b 04 00 ${A}`, 'IO Capability Request Reply: success on the live link');
    const ua = await a.until('33 0a');
    assert.equal(ua.slice(0, 2), [`0e 0a 01 2b 04 00 ${B}`, `32 09 ${B} 01 00 03`]);
    const value = ua[2]!.slice(-11);
    assert.equal(ua.slice(2), [`33 0a ${B} ${value}`]);
    assert.equal(ub.slice(1), [`33 0a ${A} ${value}`]);
    a.cmd(`2c 04 06 ${B}`);
    b.cmd(`2c 04 06 ${A}`);
    const ea = await a.until('06 03');
    const eb = await b.until('18 17');
    assert.equal(ea.slice(0, 2), [`0e 0a 01 2c 04 00 ${B}`, `36 07 00 ${B}`]);
    assert.ok(ea[2]!.startsWith(`18 17 ${B} `));
    assert.is(ea[3], `06 03 00 ${le16(ha2)}`);
    assert.equal(eb.slice(0, 2), [`0e 0a 01 2c 04 00 ${A}`, `36 07 00 ${A}`]);
    assert.ok(eb[2]!.startsWith(`18 17 ${A} `));
  } finally {
    for (const h of hosts) await h.close();
    for (const s of socats) s.kill();
    ctl.kill();
    await ctl.exited;
  }
  for (const n of ['A', 'B']) assertCleanCapture(path.join(tmp, `stale-${n}.btsnoop`));
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
