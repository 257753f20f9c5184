/**
 * `bthost l2cap` and `bthost spp` on the in-process virtual controller: piped byte streams
 * through the virtual peer's echo services (stdout = stdin), throughput to its discard services
 * (byte counts on the wire match), the peer dialling in to `listen` (greeting, piped data,
 * --peer-send with --receive), refused PSM / no SPP / page timeout errors, clean packet logs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { assertCleanCapture, readCapture, tsharkFields } from '../helpers/capture.js';
import { bthost, bthostAsync, start, tmp, LOCAL, PEER } from './cli-helpers.js';

const GREETING = 'hello from the bthost virtual peer\n';

/** Sum of the lengths of the L2CAP PDUs we sent to `cid`, from the start fragments in the capture. */
function l2capSent(log: string, cid: number): number {
  let total = 0;
  for (const r of readCapture(fs.readFileSync(log)).records) {
    if (r.packet_type !== 2 || r.incoming) continue;
    const pb = (r.data[1]! >> 4) & 3;
    if (pb !== 0 && pb !== 2) continue; // continuation fragment
    if ((r.data[6]! | (r.data[7]! << 8)) === cid) total += r.data[4]! | (r.data[5]! << 8);
  }
  return total;
}

test('l2cap connect: a piped stream to the echo service comes back on stdout', () => {
  const input = Array.from({ length: 200 }, (_, i) => `line ${i} of the piped input\n`).join('');
  const log = path.join(tmp, 'l2cap-echo.btsnoop');
  const r = bthost(['l2cap', 'connect', PEER, '0x1001', '--log', log], { input });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, input);
  const err = r.stderr.split('\n');
  assert.is(err[0], `connecting to ${PEER} PSM 0x1001 ...`);
  assert.match(err[1]!, new RegExp(`^L2CAP channel open: ${PEER} PSM 0x1001, local cid 0x0040, MTU 65535 in / 65535 out`));
  assert.ok(r.stderr.includes(`channel closed\n${input.length} bytes sent, ${input.length} bytes received\n`), r.stderr);
  assertCleanCapture(log);
  assert.equal(tsharkFields(log, ['btl2cap.psm'], 'btl2cap.cmd_code == 0x02'), [['0x1001']]);
});

test('l2cap connect --send: throughput to the discard service, every byte on the wire', () => {
  const log = path.join(tmp, 'l2cap-send.btsnoop');
  const r = bthost(['l2cap', 'connect', PEER, '0x1003', '--send', '300k', '--progress', '--log', log]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^sent 307200 bytes \(300\.0 KiB\) in \d+\.\d{3} s: \d+\.\d\d MB\/s\n$/);
  // progress bar on stderr, ending at 100%
  assert.match(r.stderr, /\[#{30}\] 100% +300\.0 KiB +\d+\.\d\d MB\/s\n/);
  assert.match(r.stderr, /\[[#-]{30}\] +\d+%/);
  assertCleanCapture(log);
  // the L2CAP PDUs sent on the data channel (remote cid 0x40) add up to what was sent
  assert.is(l2capSent(log, 0x40), 307200);
});

test('l2cap listen: the virtual peer dials in, greets, echoes the piped input; exit 0', () => {
  const log = path.join(tmp, 'l2cap-listen.btsnoop');
  const r = bthost(['l2cap', 'listen', '0x1001', '--log', log], { input: 'ping over l2cap\n' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, `${GREETING}ping over l2cap\n`);
  assert.match(r.stderr, new RegExp(`^listening on PSM 0x1001 at ${LOCAL} on the virtual controller \\(Ctrl-C to stop\\)$`, 'm'));
  assert.match(r.stderr, new RegExp(`^connection from ${PEER} on PSM 0x1001$`, 'm'));
  assertCleanCapture(log);
});

test('l2cap listen --receive with --peer-send: counts what the peer sends, MB/s', () => {
  const r = bthost(['l2cap', 'listen', '0x1005', '--receive', '--peer-send', '200k', '--mtu', '1000']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^received 204800 bytes \(200\.0 KiB\) in \d+\.\d{3} s: \d+\.\d\d MB\/s\n$/);
  assert.match(r.stderr, /MTU 1000 in \/ 65535 out/);
});

test('l2cap errors: refused PSM and page timeout -> one line, exit 1', async () => {
  const [refused, nobody] = await Promise.all([
    bthostAsync(['l2cap', 'connect', PEER, '0x1005']),
    bthostAsync(['l2cap', 'connect', '12:34:56:78:9A:BC', '0x1001', '--page-timeout', '300']),
  ]);
  assert.is(refused.status, 1);
  assert.match(
    refused.stderr,
    /^bthost: nothing listens on PSM 0x1005 at C0:FF:EE:00:00:02 \(L2CAP: PSM not supported \(0x65\)\)$/m,
  );
  assert.is(refused.stdout, '');
  assert.is(nobody.status, 1);
  assert.match(nobody.stderr, /^bthost: no device answered at 12:34:56:78:9A:BC \(page timeout\)/m);
});

test('spp connect: SDP lists the peer services, a piped stream comes back through the echo', () => {
  const input = 'x'.repeat(5000) + '\nend\n';
  const log = path.join(tmp, 'spp-echo.btsnoop');
  const r = bthost(['spp', 'connect', PEER, '--log', log], { input });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, input);
  assert.match(r.stderr, /^asking C0:FF:EE:00:00:02 for Serial Port services \(SDP\) \.\.\.$/m);
  assert.match(r.stderr, /^ {2}'Peer SPP echo' on RFCOMM channel 1$/m);
  assert.match(r.stderr, /^ {2}'Peer SPP discard' on RFCOMM channel 2$/m);
  assert.match(r.stderr, /^RFCOMM channel open: C0:FF:EE:00:00:02 channel 1, rfcomm cid \d+, max frame size \d+/m);
  assertCleanCapture(log);
  assert.ok(tsharkFields(log, ['frame.number'], 'btsdp').length >= 2, 'SDP on the wire');
  assert.ok(tsharkFields(log, ['frame.number'], 'btrfcomm').length > 5, 'RFCOMM on the wire');
});

test('spp connect --channel 2 --send: throughput to the discard service (no SDP)', () => {
  const r = bthost(['spp', 'connect', PEER, '--channel', '2', '--send', '256k']);
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stderr, /SDP/);
  assert.match(r.stdout, /^sent 262144 bytes \(256\.0 KiB\) in \d+\.\d{3} s: \d+\.\d\d MB\/s\n$/);
});

test('spp listen: the peer finds the service by SDP and dials in; --receive with --peer-send', () => {
  const r = bthost(['spp', 'listen'], { input: 'hi over rfcomm\n' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, `${GREETING}hi over rfcomm\n`);
  assert.match(r.stderr, new RegExp(`^SPP 'bthost SPP' listening on RFCOMM channel 1 at ${LOCAL}`, 'm'));
  assert.match(r.stderr, new RegExp(`^connection from ${PEER} on RFCOMM channel 1$`, 'm'));
  const rx = bthost(['spp', 'listen', '--channel', '5', '--receive', '--peer-send', '100k']);
  assert.is(rx.status, 0, rx.stderr);
  assert.match(rx.stdout, /^received 102400 bytes \(100\.0 KiB\) in \d+\.\d{3} s: \d+\.\d\d MB\/s\n$/);
  assert.match(rx.stderr, /listening on RFCOMM channel 5/);
});

test('spp errors: page timeout, a channel nobody serves', async () => {
  const [nobody, noChannel] = await Promise.all([
    bthostAsync(['spp', 'connect', '12:34:56:78:9A:BC', '--page-timeout', '300']),
    bthostAsync(['spp', 'connect', PEER, '--channel', '9']),
  ]);
  assert.is(nobody.status, 1);
  assert.match(nobody.stderr, /^bthost: no device answered at 12:34:56:78:9A:BC \(page timeout\)/m);
  assert.is(noChannel.status, 1);
  assert.match(noChannel.stderr, /^bthost: cannot open RFCOMM channel 9 at C0:FF:EE:00:00:02: /m);
});

test('Ctrl-C: l2ping -c 0 prints its statistics, an open stream closes its channel; both exit 0', async () => {
  const ping = start(['l2ping', PEER, '-c', '0', '-i', '0.05']);
  await ping.waitFor(/id 2 time/);
  ping.kill('SIGINT');
  const p = await ping.exited;
  assert.is(p.status, 0, p.stderr);
  assert.match(p.stdout, /^(\d+) sent, \1 received, 0% loss$/m);

  const stream = start(['l2cap', 'connect', PEER, '0x1001']); // stdin stays open
  await stream.waitFor(/L2CAP channel open/);
  stream.child.stdin!.write('typed before Ctrl-C\n');
  await stream.waitFor(/typed before Ctrl-C/);
  stream.kill('SIGINT');
  const r = await stream.exited;
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'typed before Ctrl-C\n');
  assert.match(r.stderr, /^channel closed\n20 bytes sent, 20 bytes received$/m);
});

test.run();
