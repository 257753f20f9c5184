/**
 * `bthost le-cbm` as a user runs it. On the in-process virtual controller: a piped stream through
 * the virtual peer's LE CBM echo (SPSM 0x80) comes back on stdout byte for byte (v1.4), a --send
 * to its discard (SPSM 0x81, v1.8) puts every byte on the wire as K-frames, `listen` with the peer
 * dialling in (greeting + echo; --receive --sha256 --peer-send with the hash of the peer's bytes),
 * usage / refused SPSM / no connection errors. Over two socat ptys of one `bthost controller`:
 * listen --receive --once in one process, connect --send in another, the sender killed mid-transfer:
 * the listener reports the lost LE link and exits 1 (without --once it serves on: cli-faults-le).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { assertCleanCapture, readCapture, tsharkFields } from '../helpers/capture.js';
import { bthost, bthostAsync, start, tmp, waitForPaths, Socat, LOCAL, PEER } from './cli-helpers.js';

/** Octets of K-frame payload (after the basic header) we sent on `cid`, from the ACL start fragments. */
function kframeBytes(log: string, cid: number): { frames: number; bytes: number } {
  let frames = 0;
  let bytes = 0;
  for (const r of readCapture(fs.readFileSync(log)).records) {
    if (r.packet_type !== 2 || r.incoming) continue;
    const pb = (r.data[1]! >> 4) & 3;
    if (pb !== 0 && pb !== 2) continue;
    if ((r.data[6]! | (r.data[7]! << 8)) !== cid) continue;
    frames++;
    bytes += r.data[4]! | (r.data[5]! << 8);
  }
  return { frames, bytes };
}

test('le-cbm connect: a piped stream through the peer echo (SPSM 0x80) comes back on stdout; clean capture', () => {
  const input = Array.from({ length: 300 }, (_, i) => `line ${i} over an LE credit-based channel\n`).join('');
  const log = path.join(tmp, 'le-cbm-echo.btsnoop');
  const r = bthost(['le-cbm', 'connect', PEER, '0x80', '--log', log], { input });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, input);
  const err = r.stderr.split('\n');
  assert.is(err[0], `connecting to ${PEER} over LE, SPSM 0x80 ...`);
  assert.match(
    err[1]!,
    new RegExp(`^LE credit-based channel open: ${PEER} SPSM 0x80, handle 0x\\w+, local cid 0x40, MTU 2048 in / 2048 out`),
  );
  assert.ok(r.stderr.includes(`channel closed\n${input.length} bytes sent, ${input.length} bytes received\n`), r.stderr);
  assertCleanCapture(log);
  const sig = tsharkFields(
    log,
    ['btl2cap.cmd_code', 'btl2cap.le_psm', 'btl2cap.le_result'],
    'btl2cap.cmd_code == 0x14 || btl2cap.cmd_code == 0x15',
  );
  assert.equal(sig, [
    ['0x14', '0x0080', ''],
    ['0x15', '', '0x0000'],
  ]);
});

test('le-cbm connect --send (v1.8): throughput to the discard service, every byte on the wire as K-frames', () => {
  const log = path.join(tmp, 'le-cbm-send.btsnoop');
  const r = bthost(['le-cbm', 'connect', PEER, '0x81', '--send', '300k', '--profile', 'v1.8', '--log', log]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^sent 307200 bytes \(300\.0 KiB\) in \d+\.\d{3} s: \d+\.\d\d MB\/s\n$/);
  assertCleanCapture(log);
  // 150 SDUs of 2048: one K-frame each (MPS 2050), 2 octets of SDU length + 2048 of data
  assert.equal(kframeBytes(log, 0x40), { frames: 150, bytes: 150 * 2050 });
});

test('le-cbm listen: the virtual peer dials in over LE, greets, echoes the piped input; --receive --sha256 --peer-send', () => {
  const r = bthost(['le-cbm', 'listen', '0x85'], { input: 'ping over le\n' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'hello from the bthost virtual peer over LE\nping over le\n');
  assert.match(
    r.stderr,
    new RegExp(
      `^listening on SPSM 0x85 at ${LOCAL} \\(LE, advertising as 'bthost le-cbm'\\) on the virtual controller \\(Ctrl-C to stop\\)$`,
      'm',
    ),
  );
  assert.match(r.stderr, new RegExp(`^connection from ${PEER} on SPSM 0x85$`, 'm'));

  const rx = bthost(['le-cbm', 'listen', '0x85', '--receive', '--sha256', '--peer-send', '200k', '--mtu', '500']);
  assert.is(rx.status, 0, rx.stderr);
  assert.match(rx.stdout, /^received 204800 bytes \(200\.0 KiB\) in \d+\.\d{3} s: \d+\.\d\d MB\/s\n/);
  assert.match(rx.stderr, /MTU 500 in \/ 2048 out/);
  // the peer sends its block (octet i = i & 0xff) in SDUs of our MTU, 500: each starts at 0
  const want = Buffer.alloc(204800);
  for (let k = 0; k < want.length; k++) want[k] = (k % 500) & 0xff;
  assert.match(rx.stdout, new RegExp(`^sha256 ${createHash('sha256').update(want).digest('hex')}$`, 'm'));
});

test('le-cbm errors: usage 2; refused SPSM and no LE connection 1 with one line', async () => {
  const [bad, refused, nobody] = await Promise.all([
    bthostAsync(['le-cbm', 'connect', PEER, '0x100']),
    bthostAsync(['le-cbm', 'connect', PEER, '0x99']),
    bthostAsync(['le-cbm', 'connect', '12:34:56:78:9A:BC', '0x80', '--connect-timeout', '300']),
  ]);
  assert.is(bad.status, 2);
  assert.match(
    bad.stderr,
    /^bthost le-cbm: SPSM must be a number 0x01\.\.0xff, got '0x100' \(bthost le-cbm --help for usage\)$/m,
  );
  assert.is(refused.status, 1);
  assert.match(refused.stderr, /^bthost: nothing listens on SPSM 0x99 at C0:FF:EE:00:00:02 \(LE_PSM not supported\)$/m);
  assert.is(nobody.status, 1);
  assert.match(nobody.stderr, /^bthost: no LE connection to 12:34:56:78:9A:BC within 300 ms: is it advertising connectable\?$/m);
});

test('le-cbm over two ptys of bthost controller: the sender killed mid-transfer -> the --once listener exits 1 (link lost)', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'le-cbm-lost-'));
  const sock = path.join(dir, 'controller.sock');
  const controller = start(['controller', '--listen', `unix:${sock}`]);
  const socats: Socat[] = [];
  const procs = [controller];
  try {
    await controller.waitFor(/listening on/);
    const ttys = [path.join(dir, 'ttyA'), path.join(dir, 'ttyB')];
    for (const t of ttys) socats.push(new Socat(`pty,raw,echo=0,link=${t}`, `UNIX-CONNECT:${sock}`));
    await waitForPaths(ttys);
    const log = path.join(dir, 'listener.btsnoop');
    const listener = start(['le-cbm', 'listen', '0x85', '--receive', '--once', '-u', ttys[0]!, '--no-flow', '--log', log]);
    procs.push(listener);
    const [, addr] = await listener.waitFor(/listening on SPSM 0x85 at ((?:[0-9A-F]{2}:){5}[0-9A-F]{2})/, 30_000);
    const sender = start(['le-cbm', 'connect', addr!, '0x85', '--send', '100M', '-u', ttys[1]!, '--no-flow']);
    procs.push(sender);
    await listener.waitFor(/LE credit-based channel open/, 30_000);
    await sender.waitFor(/LE credit-based channel open/, 30_000);
    sender.kill('SIGKILL');
    socats[1]!.kill(); // its controller leaves the radio; the link times out on the listener's side
    const r = await listener.exited;
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stdout, /^received \d+ bytes/m);
    assert.match(
      r.stderr,
      /^bthost: the LE link to (?:[0-9A-F]{2}:){5}[0-9A-F]{2} was lost \(.*\(0x08\)\) after 0 bytes sent, \d+ received$/m,
    );
    assertCleanCapture(log);
  } finally {
    for (const p of procs.reverse()) p.kill('SIGKILL');
    for (const s of socats) s.kill();
  }
});

test.run();
