/**
 * The virtual controller as a serial device: serve_controllers on a Unix socket,
 * `socat pty,raw,echo=0,link=PATH UNIX-CONNECT:SOCK`, and the pty opened with serialport at
 * 115200 baud like a real UART. HCI Reset gets its Command Complete (04 0e 04 01 03 0c 00); two
 * ptys are two controllers on one radio and find each other by inquiry.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SerialPort } from 'serialport';
import { hex } from '../../src/core/bytes.js';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/link.js';
import { serve_controllers } from '../../ports/virtual/server.js';
import { H4Collector, wait_for } from './controller-helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-ctlpty-'));

async function socatPty(link: string, sock: string): Promise<ChildProcess> {
  const child = spawn('socat', [`pty,raw,echo=0,link=${link}`, `UNIX-CONNECT:${sock}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));
  await wait_for(() => exited || fs.existsSync(link), 5000, 'socat pty');
  if (exited) throw new Error('socat exited early');
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function openPort(p: string): Promise<[SerialPort, H4Collector]> {
  const port = new SerialPort({ path: p, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const rx = new H4Collector();
  port.on('data', (d: Buffer) => rx.feed(d));
  return [port, rx];
}

function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

test('socat pty + serialport at 115200: HCI Reset -> 04 0e 04 01 03 0c 00; two ptys see each other', async () => {
  const loop = new NodeRunLoop();
  const link = new RadioLink(loop, { seed: 'pty' });
  const sock = path.join(tmp, 'radio.sock');
  const server = await serve_controllers(link, `unix:${sock}`);
  const children: ChildProcess[] = [];
  const ports: SerialPort[] = [];
  try {
    children.push(await socatPty(path.join(tmp, 'ttyV0'), sock));
    children.push(await socatPty(path.join(tmp, 'ttyV1'), sock));
    const [p0, rx0] = await openPort(path.join(tmp, 'ttyV0'));
    const [p1, rx1] = await openPort(path.join(tmp, 'ttyV1'));
    ports.push(p0, p1);
    p0.write(Buffer.from([0x01, 0x03, 0x0c, 0x00]));
    await wait_for(() => rx0.raw.length >= 7, 5000, 'reset complete on the pty');
    assert.is(hex(Uint8Array.from(rx0.raw)), '04 0e 04 01 03 0c 00');
    // second pty: its own controller, discoverable
    p1.write(Buffer.from('01030c00' + '011a0c0103', 'hex'));
    await wait_for(() => rx1.events().length === 2, 5000, 'second controller');
    assert.equal(rx1.events(), ['0e 04 01 03 0c 00', '0e 04 01 1a 0c 00']);
    assert.is(server.controllers.length, 2);
    const peer = server.controllers.find((c) => c.index === 1) ?? server.controllers[1]!;
    rx0.clear();
    p0.write(Buffer.from('01010405338b9e0101', 'hex')); // inquiry, one response
    await wait_for(() => !!rx0.find(0x01), 5000, 'inquiry complete');
    const result = rx0.find(0x02)!;
    assert.ok(result, 'inquiry result over the pty');
    assert.is(hex(result.subarray(3, 9)), hex(Uint8Array.from(peer.bd_addr).reverse()));
  } finally {
    for (const p of ports) await closePort(p);
    for (const c of children) await kill(c);
    await wait_for(() => server.controllers.length === 0, 5000, 'sessions closed').catch(() => {});
    await server.close();
    loop.trigger_exit();
  }
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
