/**
 * Issue 11 item 1, end to end with real processes: `bthost controller --acl-to-host-max 65535`
 * (a controller that hands each L2CAP PDU to its host unfragmented, up to 65535 data bytes per
 * ACL packet), two socat ptys onto it, and two `bthost` CLIs moving 20 MiB with `l2cap` (MTU
 * 65535) and with `spp` (frame size 32767). Every byte must arrive, in order: the sender's
 * offset-dependent stream (--sha256) hashed on both sides and against the hash worked out here.
 * Before the fix the receiver's H4 deframer refused ACL packets above 4096 bytes and its stack
 * restarted (l2cap: 16 bytes received; spp: stopped at 65534 bytes).
 *
 * Then with --host-flow-control on both: the capture shows Host Buffer Size and Host Number Of
 * Completed Packets, decoded by tshark and btmon with zero malformed frames. That capture comes
 * from a controller handing up air-sized ACL packets: btmon stops reading a btsnoop file at the
 * first record above 1490 bytes (BlueZ's BTSNOOP_MAX_PACKET_SIZE), so captures of a large-ACL
 * controller are checked with tshark and our reader only. That the controller keeps to the
 * announced length and count: test/unit/controller/host-acl.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertCleanCapture, readCapture, tsharkFields } from '../helpers/capture.js';
import { stream_byte } from '../../ports/cli/stream.js';
import { SerialPort } from 'serialport';
import { ADDR_RE, bthostAsync, Proc, Socat, start, tmp, waitForPaths } from './cli-helpers.js';

const SIZE = 20 * 1024 * 1024;

let seq = 0;
async function controllerPty(sock: string): Promise<[string, Socat]> {
  const p = path.join(tmp, `large${++seq}`);
  const s = new Socat(`pty,raw,echo=0,link=${p}`, `UNIX-CONNECT:${sock}`);
  await waitForPaths([p]);
  return [p, s];
}

/** SHA-256 of the first n bytes of the --sha256 send stream. */
function expectedHash(n: number): string {
  const h = createHash('sha256');
  const block = new Uint8Array(1 << 20);
  for (let off = 0; off < n; off += block.length) {
    const m = Math.min(block.length, n - off);
    for (let i = 0; i < m; i++) block[i] = stream_byte(off + i);
    h.update(block.subarray(0, m));
  }
  return h.digest('hex');
}

async function withController(fn: (pty: () => Promise<string>, procs: Proc[]) => Promise<void>, large = true): Promise<void> {
  const sock = path.join(tmp, `large-${process.pid}-${++seq}.sock`);
  const ctl = new Proc(['controller', '--listen', `unix:${sock}`, ...(large ? ['--acl-to-host-max', '65535'] : [])]);
  const socats: Socat[] = [];
  const procs: Proc[] = [ctl];
  try {
    await ctl.waitFor(large ? /^listening on unix:.*, ACL to the host up to 65535 bytes$/m : /^listening on unix:/m);
    await fn(async () => {
      const [p, s] = await controllerPty(sock);
      socats.push(s);
      return p;
    }, procs);
  } finally {
    for (const p of procs) p.kill();
    for (const s of socats) s.kill();
    await ctl.exited;
  }
}

const want = expectedHash(SIZE);

/** `l2cap` (MTU 65535) from one CLI to another; resolves with the time taken. */
async function l2capRun(pty: () => Promise<string>, procs: Proc[]): Promise<number> {
  const server = start(['l2cap', 'listen', '0x1001', '--receive', '--sha256', '--port', await pty()]);
  procs.push(server);
  const addr = (await server.waitFor(new RegExp(`listening on PSM 0x1001 at (${ADDR_RE})`)))[1]!;
  const t0 = Date.now();
  const client = await bthostAsync(['l2cap', 'connect', addr, '0x1001', '--send', '20M', '--sha256', '--port', await pty()]);
  const srv = await server.exited;
  const ms = Date.now() - t0;
  assert.is(client.status, 0, client.stderr);
  assert.is(srv.status, 0, srv.stderr);
  assert.match(client.stdout, new RegExp(`^sent ${SIZE} bytes`, 'm'));
  assert.match(srv.stdout, new RegExp(`^received ${SIZE} bytes \\(20\\.00 MiB\\)`, 'm'));
  assert.match(client.stdout, new RegExp(`^sha256 ${want}$`, 'm'), 'l2cap: the sender sent the stream');
  assert.match(srv.stdout, new RegExp(`^sha256 ${want}$`, 'm'), 'l2cap: the receiver got every byte, in order');
  assert.not.match(srv.stderr + client.stderr, /framing error|went away/);
  return ms;
}

/** `spp` (frame size 32767) from one CLI to another; resolves with the time taken. */
async function sppRun(pty: () => Promise<string>, procs: Proc[]): Promise<number> {
  const server = start(['spp', 'listen', '--receive', '--sha256', '--port', await pty()]);
  procs.push(server);
  const addr = (await server.waitFor(new RegExp(`listening on RFCOMM channel 1 at (${ADDR_RE})`)))[1]!;
  const t0 = Date.now();
  const client = await bthostAsync(['spp', 'connect', addr, '--send', '20M', '--sha256', '--port', await pty()]);
  const srv = await server.exited;
  const ms = Date.now() - t0;
  assert.is(client.status, 0, client.stderr);
  assert.is(srv.status, 0, srv.stderr);
  assert.match(client.stderr, /max frame size 32767/);
  assert.match(srv.stdout, new RegExp(`^received ${SIZE} bytes`, 'm'));
  assert.match(client.stdout, new RegExp(`^sha256 ${want}$`, 'm'), 'spp: the sender sent the stream');
  assert.match(srv.stdout, new RegExp(`^sha256 ${want}$`, 'm'), 'spp: the receiver got every byte, in order');
  assert.not.match(srv.stderr + client.stderr, /framing error|went away/);
  return ms;
}

test('20 MiB with l2cap (MTU 65535) and, at the same time, with spp (frame size 32767) between CLIs on a large-ACL controller: every byte in order (SHA-256)', async () => {
  await withController(async (pty, procs) => {
    const [l2, sp] = await Promise.all([l2capRun(pty, procs), sppRun(pty, procs)]);
    console.log(`    20 MiB over two ptys each, concurrently: l2cap ${l2} ms, spp ${sp} ms`);
  });
});

test('--host-flow-control: Host Buffer Size and Host Number Of Completed Packets in a clean capture; ACL to the host within the announced length', async () => {
  await withController(async (pty, procs) => {
    const log = path.join(tmp, 'host-flow.btsnoop');
    const server = start([
      'l2cap',
      'listen',
      '0x1001',
      '--receive',
      '--sha256',
      '--host-flow-control',
      '--log',
      log,
      '--port',
      await pty(),
    ]);
    procs.push(server);
    const addr = (await server.waitFor(new RegExp(`listening on PSM 0x1001 at (${ADDR_RE})`)))[1]!;
    const client = await bthostAsync([
      'l2cap',
      'connect',
      addr,
      '0x1001',
      '--send',
      '1M',
      '--sha256',
      '--host-flow-control',
      '--port',
      await pty(),
    ]);
    const srv = await server.exited;
    assert.is(client.status, 0, client.stderr);
    assert.is(srv.status, 0, srv.stderr);
    assert.match(srv.stdout, new RegExp(`^sha256 ${expectedHash(1 << 20)}$`, 'm'));
    assertCleanCapture(log);
    // Host Buffer Size: 65535-byte ACL packets, 16 of them, no synchronous buffers
    assert.equal(
      tsharkFields(
        log,
        [
          'bthci_cmd.max_data_length_acl',
          'bthci_cmd.max_data_num_acl',
          'bthci_cmd.max_data_length_sco',
          'bthci_cmd.max_data_num_sco',
        ],
        'bthci_cmd.opcode == 0x0c33',
      ),
      [['65535', '16', '0', '0']],
    );
    assert.equal(tsharkFields(log, ['bthci_cmd.flow_contr_enable'], 'bthci_cmd.opcode == 0x0c31'), [['0x01']]);
    const nocp = tsharkFields(log, ['bthci_cmd.num_handles'], 'bthci_cmd.opcode == 0x0c35');
    assert.ok(nocp.length > 10, `Host Number Of Completed Packets sent (${nocp.length})`);
    // every ACL packet the host got counted: the controller's credits came back
    const acl = readCapture(fs.readFileSync(log)).records.filter((r) => r.packet_type === 2 && r.incoming).length;
    const returned = tsharkFields(log, ['bthci_cmd.num_compl_packets'], 'bthci_cmd.opcode == 0x0c35')
      .flatMap((row) => row[0]!.split(',').map(Number))
      .reduce((a, b) => a + b, 0);
    assert.ok(acl > 1000 && returned >= acl - 16 && returned <= acl, `${acl} ACL packets in, ${returned} returned`);
  }, false);
});

test('a framing error is never silent: the CLI prints it as one line (where, what, count) and the stack restarts', async () => {
  const a = path.join(tmp, 'garbage-a');
  const b = path.join(tmp, 'garbage-b');
  const socat = new Socat(`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`);
  await waitForPaths([a, b]);
  const port = new SerialPort({ path: b, baudRate: 115200, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  // the "controller": answers the first command (HCI Reset) with a byte no H4 packet starts with
  port.once('data', () => port.write(Buffer.from([0xff])));
  try {
    const r = await bthostAsync(['info', '--port', a, '--timeout', '1500']);
    assert.is(r.status, 1);
    const lines = r.stderr.split('\n').filter((l) => l.includes('framing error'));
    assert.is(lines.length, 1, r.stderr);
    assert.match(
      lines[0]!,
      /^bthost: H4 framing error on .*garbage-a .*: unknown H4 packet type 0xff at stream byte 0 \(framing error 1, 0 packets before\); the stack restarts$/,
    );
  } finally {
    port.close();
    socat.kill();
  }
});

test.run();
