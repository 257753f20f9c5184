/**
 * The virtual radio out of process: serve_controllers on a Unix socket and on loopback TCP, one
 * controller per connection with its own BD_ADDR, both on one radio; garbage H4 type bytes get a
 * Hardware Error event and the stream resynchronises without disturbing the other connection;
 * UART pacing at a given baud rate and the Broadcom baud-rate command; the `bthost controller` CLI.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fromHex, hex } from '../../src/core/bytes.js';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/link.js';
import { serve_controllers } from '../../ports/virtual/server.js';
import { SocketClient, wait_for } from './controller-helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-ctl-'));
const wireHex = (a: Uint8Array): string =>
  Array.from(a)
    .reverse()
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(' ');

test('unix socket: every connection gets its own controller; both share the radio (inquiry)', async () => {
  const loop = new NodeRunLoop();
  const link = new RadioLink(loop, { seed: 'socket-test' });
  const sock = path.join(tmp, 'radio.sock');
  const server = await serve_controllers(link, `unix:${sock}`);
  const a = await SocketClient.connect(sock);
  const b = await SocketClient.connect(sock);
  try {
    a.cmd('03 0c 00');
    b.cmd('03 0c 00');
    await wait_for(() => a.events().length === 1 && b.events().length === 1, 3000, 'reset');
    assert.equal(a.events(), ['0e 04 01 03 0c 00']);
    assert.equal(Array.from(a.raw), [0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00], 'exact H4 bytes on the stream');
    assert.is(server.controllers.length, 2);
    const [ca, cb] = server.controllers;
    assert.is.not(wireHex(ca!.bd_addr), wireHex(cb!.bd_addr));
    a.clear();
    b.clear();
    a.cmd('09 10 00');
    b.cmd('1a 0c 01 03'); // b discoverable
    await wait_for(() => a.events().length === 1 && b.events().length === 1);
    assert.equal(a.events(), [`0e 0a 01 09 10 00 ${wireHex(ca!.bd_addr)}`]);
    a.clear();
    a.cmd('01 04 05 33 8b 9e 01 01'); // inquiry, 1 response
    await wait_for(() => !!a.find(0x01), 3000, 'inquiry complete');
    assert.ok(a.find(0x02), 'inquiry result');
    assert.is(hex(a.find(0x02)!.subarray(3, 9)), wireHex(cb!.bd_addr));
  } finally {
    await a.close();
    await b.close();
    await wait_for(() => server.controllers.length === 0, 3000, 'sessions closed');
    assert.is(link.controllers.length, 0, 'controllers left the air');
    await server.close();
    loop.trigger_exit();
  }
  assert.not.ok(fs.existsSync(sock), 'socket file removed');
});

test('garbage H4 type bytes: one Hardware Error, then the stream resynchronises; the other connection is unaffected', async () => {
  const loop = new NodeRunLoop();
  const link = new RadioLink(loop);
  const sock = path.join(tmp, 'garbage.sock');
  const server = await serve_controllers(link, `unix:${sock}`);
  const a = await SocketClient.connect(sock);
  const b = await SocketClient.connect(sock);
  try {
    a.send('ff fe 07 00 04 0e'); // none is a type a host may send (0x04 is an event: not accepted)
    a.send('01 03 0c 00');
    b.cmd('03 0c 00');
    await wait_for(() => a.events().length === 2 && b.events().length === 1, 3000, 'answers');
    assert.equal(a.events(), ['10 01 01', '0e 04 01 03 0c 00']);
    assert.equal(b.events(), ['0e 04 01 03 0c 00']);
    // garbage again: a new Hardware Error (one per burst)
    a.clear();
    a.send('09 09 09');
    a.cmd('03 0c 00');
    await wait_for(() => a.events().length === 2);
    assert.equal(a.events(), ['10 01 01', '0e 04 01 03 0c 00']);
  } finally {
    await a.close();
    await b.close();
    await server.close();
    loop.trigger_exit();
  }
});

test('random bytes on one connection (seeded): the server keeps serving the other', async () => {
  const loop = new NodeRunLoop();
  const link = new RadioLink(loop);
  const sock = path.join(tmp, 'fuzz.sock');
  const server = await serve_controllers(link, `unix:${sock}`);
  const errors: unknown[] = [];
  loop.onError = (e) => errors.push(e);
  const a = await SocketClient.connect(sock);
  const b = await SocketClient.connect(sock);
  try {
    let s = 12345;
    const rnd = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    for (let k = 0; k < 20; k++) a.socket.write(Buffer.from(Array.from({ length: 1024 }, rnd)));
    b.cmd('03 0c 00');
    await wait_for(() => b.events().length === 1, 3000, 'other connection answers');
    assert.equal(b.events(), ['0e 04 01 03 0c 00']);
    await a.close();
    await wait_for(() => server.controllers.length === 1);
    b.clear();
    b.cmd('09 10 00');
    await wait_for(() => b.events().length === 1);
    assert.equal(errors, []);
  } finally {
    await a.close();
    await b.close();
    await server.close();
    loop.trigger_exit();
  }
});

test('tcp on loopback; ACL between two socket controllers', async () => {
  const loop = new NodeRunLoop();
  const link = new RadioLink(loop);
  const server = await serve_controllers(link, 'tcp:127.0.0.1:0');
  const port = server.port!;
  assert.ok(port > 0);
  const a = await SocketClient.connect({ host: '127.0.0.1', port });
  const b = await SocketClient.connect({ host: '127.0.0.1', port });
  try {
    await wait_for(() => server.controllers.length === 2);
    const [ca, cb] = server.controllers;
    for (const c of [a, b]) {
      c.cmd('01 0c 08 ff ff ff ff ff ff ff 3f');
      c.cmd('1a 0c 01 02');
    }
    await wait_for(() => a.events().length === 2 && b.events().length === 2);
    a.cmd(`05 04 0d ${wireHex(cb!.bd_addr)} 18 cc 01 00 00 00 01`);
    await wait_for(() => !!b.find(0x04), 3000, 'connection request');
    b.cmd(`09 04 07 ${wireHex(ca!.bd_addr)} 01`);
    await wait_for(() => !!a.find(0x03) && !!b.find(0x03), 3000, 'connection complete');
    const ha = a.find(0x03)![3]! | (a.find(0x03)![4]! << 8);
    const hb = b.find(0x03)![3]! | (b.find(0x03)![4]! << 8);
    a.send(`02 ${hex(Uint8Array.of(ha & 0xff, (ha >> 8) | 0x20))} 04 00 de ad be ef`);
    await wait_for(() => b.packets.some((p) => p.type === 2) && !!a.find(0x13), 3000, 'acl');
    const got = b.packets.find((p) => p.type === 2)!;
    assert.is(got.hex, `${hex(Uint8Array.of(hb & 0xff, (hb >> 8) | 0x20))} 04 00 de ad be ef`);
    await a.close();
    // the peer's link is lost: supervision timeout on b's side
    await wait_for(() => link.controllers.length === 1);
  } finally {
    await a.close();
    await b.close();
    await server.close();
    loop.trigger_exit();
  }
});

// The rate itself is checked exactly on a VirtualRunLoop (test/unit/controller/pacer.test.ts); this
// checks the socket path end to end in real time with bounds that do not depend on load: 259 bytes
// at 9600 baud cannot arrive in less than their 270 ms of line time, and at 921600 baud they need
// 2.8 ms, leaving some 85 ms for scheduling before `fast < slow / 3` could fail.
test('baud pacing: 10 bits per byte; the Broadcom baud command speeds the stream up after its Command Complete', async () => {
  const loop = new NodeRunLoop();
  const link = new RadioLink(loop);
  const sock = path.join(tmp, 'paced.sock');
  const server = await serve_controllers(link, `unix:${sock}`, { baud: 9600 });
  const a = await SocketClient.connect(sock);
  try {
    // Read Local Name: 1 + 2 + 252 = 255 bytes on the wire back, 4 bytes out = 259 bytes at 960 B/s
    let t0 = Date.now();
    a.cmd('14 0c 00');
    await wait_for(() => a.events().length === 1, 5000, 'name');
    const slow = Date.now() - t0;
    assert.ok(slow >= 255, `paced at 9600 baud: ${slow} ms`);
    a.clear();
    a.cmd('18 fc 06 00 00 00 10 0e 00'); // 921600 baud
    await wait_for(() => a.events().length === 1, 5000, 'baud');
    assert.equal(a.events(), ['0e 04 01 18 fc 00']);
    a.clear();
    t0 = Date.now();
    a.cmd('14 0c 00');
    await wait_for(() => a.events().length === 1, 5000, 'name fast');
    const fast = Date.now() - t0;
    assert.ok(fast < slow / 3, `faster after the baud change: ${fast} ms vs ${slow} ms`);
  } finally {
    await a.close();
    await server.close();
    loop.trigger_exit();
  }
});

/** Real milliseconds (only where a real socket must be given time to show that nothing moves). */
const pause_ms = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The backlog bound of one connection: 16 KiB in the socket + 16 KiB controller buffer + a packet or two. */
const BACKLOG_BOUND = 40 * 1024;

test('a client that stops reading while scanning: backlog stays bounded, reports are dropped, the stream stays valid', async () => {
  const loop = new NodeRunLoop();
  const link = new RadioLink(loop, { seed: 'no-reader', rssi: -50 });
  const sock = path.join(tmp, 'noread-scan.sock');
  const server = await serve_controllers(link, `unix:${sock}`);
  // 100 advertisers without a host: ADV_IND every 20 ms with 31 bytes of data (5000 reports/s)
  for (let i = 0; i < 100; i++) {
    const c = link.create_controller();
    for (const h of [
      '06 20 0f 20 00 20 00 00 00 00 00 00 00 00 00 00 07 00',
      `08 20 20 1f 1e ff ${'ab '.repeat(29)}`,
      '0a 20 01 01',
    ]) {
      const b = fromHex(h);
      c.host_send(0x01, b, b.length);
    }
  }
  const a = await SocketClient.connect(sock);
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    a.cmd('01 0c 08 ff ff ff ff ff ff ff 3f'); // Set Event Mask: LE Meta included
    a.cmd('0b 20 07 00 10 00 10 00 00 00'); // passive scan
    a.cmd('0c 20 02 01 00'); // scan, no duplicate filter
    await wait_for(() => !!a.find(0x3e, 0x02), 3000, 'first report');
    const s = [...server.sessions][0]!;
    a.socket.pause(); // the client stops reading
    let max = 0;
    sampler = setInterval(() => (max = Math.max(max, s.backlog)), 2);
    await wait_for(() => s.controller.out.discarded >= 5000 || s.backlog > 1 << 20, 20_000, 'reports dropped');
    max = Math.max(max, s.backlog);
    assert.ok(s.held, 'the controller knows its host is not reading');
    assert.ok(max <= BACKLOG_BOUND, `backlog ${max} bytes`);
    assert.ok(s.controller.out.discarded >= 5000);
    assert.is(s.controller.out.overflowed, 0, 'only reports were dropped');
    // reading again: the stream is intact (whole packets, nothing cut), the controller answers
    a.socket.resume();
    await wait_for(() => !s.held, 5000, 'host reading again');
    a.cmd('09 10 00'); // Read BD_ADDR
    await wait_for(
      () => a.packets.some((p) => p.bytes[0] === 0x0e && p.bytes[3] === 0x09 && p.bytes[4] === 0x10),
      5000,
      'answer',
    );
    a.cmd('0c 20 02 00 00');
    const bad = a.packets.filter(
      (p) => p.type !== 4 || !(p.bytes[0] === 0x0e || (p.bytes[0] === 0x3e && p.bytes[2] === 0x02 && p.bytes.length === 45)),
    );
    assert.equal(
      bad.map((p) => p.hex),
      [],
      'only Command Complete and whole advertising reports',
    );
    const wire = Array.from(s.controller.bd_addr)
      .reverse()
      .map((b) => b.toString(16).padStart(2, '0'))
      .join(' ');
    assert.ok(a.events().includes(`0e 0a 01 09 10 00 ${wire}`));
  } finally {
    clearInterval(sampler);
    await a.close();
    await server.close();
    loop.trigger_exit();
  }
});

test('a paced line slower than the scan: the controller is held at 16 KiB behind, reports dropped, packets whole', async () => {
  const loop = new NodeRunLoop();
  const link = new RadioLink(loop, { seed: 'slow-line', rssi: -50 });
  const sock = path.join(tmp, 'slow-scan.sock');
  const server = await serve_controllers(link, `unix:${sock}`, { baud: 115200 });
  // 100 advertisers: 5000 reports/s of 46 bytes, twenty times what 115200 baud carries
  for (let i = 0; i < 100; i++) {
    const c = link.create_controller();
    for (const h of [
      '06 20 0f 20 00 20 00 00 00 00 00 00 00 00 00 00 07 00',
      `08 20 20 1f 1e ff ${'ab '.repeat(29)}`,
      '0a 20 01 01',
    ]) {
      const b = fromHex(h);
      c.host_send(0x01, b, b.length);
    }
  }
  const a = await SocketClient.connect(sock);
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    a.cmd('01 0c 08 ff ff ff ff ff ff ff 3f');
    a.cmd('0b 20 07 00 10 00 10 00 00 00');
    a.cmd('0c 20 02 01 00');
    await wait_for(() => !!a.find(0x3e, 0x02), 3000, 'first report');
    const s = [...server.sessions][0]!;
    let max = 0;
    sampler = setInterval(() => (max = Math.max(max, s.backlog)), 2);
    await wait_for(() => s.controller.out.discarded >= 2000 || s.backlog > 1 << 20, 20_000, 'reports dropped');
    max = Math.max(max, s.backlog);
    assert.ok(max <= BACKLOG_BOUND, `backlog ${max} bytes`);
    a.cmd('0c 20 02 00 00');
    const scan_enable_answers = (): number =>
      a.packets.filter((p) => p.bytes[0] === 0x0e && p.bytes[3] === 0x0c && p.bytes[4] === 0x20).length;
    await wait_for(() => scan_enable_answers() === 2, 10_000, 'scan off');
    const bad = a.packets.filter(
      (p) => p.type !== 4 || !(p.bytes[0] === 0x0e || (p.bytes[0] === 0x3e && p.bytes[2] === 0x02 && p.bytes.length === 45)),
    );
    assert.equal(
      bad.map((p) => p.hex),
      [],
    );
    assert.is(s.controller.out.overflowed, 0);
  } finally {
    clearInterval(sampler);
    await a.close();
    await server.close();
    loop.trigger_exit();
  }
});

test('a client that sends commands and never reads stalls: the server stops reading it, no answer is lost', async () => {
  const loop = new NodeRunLoop();
  const link = new RadioLink(loop);
  const sock = path.join(tmp, 'noread-cmd.sock');
  const server = await serve_controllers(link, `unix:${sock}`);
  // a raw client: counts the answers and checks each byte against the expected one
  const client = net.connect(sock);
  await new Promise<void>((r) => client.once('connect', () => r()));
  const name = new Uint8Array(248);
  name.set(new TextEncoder().encode('bthost virtual controller'));
  // H4 event: Command Complete, 252 bytes: 1 command, Read Local Name, success, the name
  const answer = Uint8Array.from([0x04, 0x0e, 0xfc, 0x01, 0x14, 0x0c, 0x00, ...name]);
  let received = 0;
  let mismatch = -1;
  client.on('data', (chunk: Buffer) => {
    for (const b of chunk) {
      if (mismatch < 0 && b !== answer[received % answer.length]) mismatch = received;
      received++;
    }
  });
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    await wait_for(() => server.sessions.size === 1);
    const s = [...server.sessions][0]!;
    client.pause();
    const N = 20_000; // 80 KB of commands asking for 5 MB of answers
    client.write(Buffer.from('01140c00'.repeat(N), 'hex'));
    let max = 0;
    sampler = setInterval(() => (max = Math.max(max, s.backlog)), 2);
    await wait_for(() => s.held && !s.reading, 10_000, 'server stops reading');
    // the socket buffers on both sides fill up; then nothing moves
    let taken = -1;
    for (let i = 0; i < 20 && taken !== s.controller.stats.commands; i++) {
      taken = s.controller.stats.commands;
      await pause_ms(100);
    }
    await pause_ms(300);
    assert.is(s.controller.stats.commands, taken, 'no command taken while the answers cannot go out');
    assert.ok(s.held && !s.reading);
    assert.ok(taken < N, `${taken} commands taken`);
    max = Math.max(max, s.backlog);
    assert.ok(max <= BACKLOG_BOUND, `backlog ${max} bytes`);
    client.resume();
    await wait_for(() => received >= N * answer.length, 30_000, 'every answer');
    assert.is(received, N * answer.length);
    assert.is(mismatch, -1, 'every answer intact, in order');
    assert.is(s.controller.stats.commands, N);
    assert.is(s.controller.out.overflowed, 0);
    assert.ok(max <= BACKLOG_BOUND, `backlog ${max} bytes`);
  } finally {
    clearInterval(sampler);
    client.destroy();
    await wait_for(() => server.sessions.size === 0);
    await server.close();
    loop.trigger_exit();
  }
});

test('npx bthost controller --listen unix:PATH serves controllers; bad arguments exit 2', async () => {
  const sock = path.join(tmp, 'cli.sock');
  const cli = path.resolve('ports/cli/cli.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'controller', '--listen', `unix:${sock}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await wait_for(() => out.includes('listening on'), 15000, 'cli listening');
    assert.ok(out.includes(`listening on unix:${sock}`));
    const a = await SocketClient.connect(sock);
    a.cmd('03 0c 00');
    await wait_for(() => a.events().length === 1);
    assert.equal(a.events(), ['0e 04 01 03 0c 00']);
    await wait_for(() => /controller 0 [0-9A-F:]{17} connected/.test(out));
    await a.close();
  } finally {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.is(await exited, 0);
  }
  const bad = spawn(process.execPath, ['--import', 'tsx', cli, 'controller', '--baud', '9600'], { stdio: 'ignore' });
  assert.is(await new Promise((r) => bad.once('exit', (code) => r(code))), 2);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
