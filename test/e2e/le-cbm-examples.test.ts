/**
 * examples/le-cbm-server and examples/le-cbm-client in two separate processes, each on its own
 * socat pty linked to one `bthost controller` Unix socket (a third process). The client scans for
 * "LE CBM Server", connects, opens an LE credit-based channel to SPSM 0x25 and sends 1 MiB of an
 * offset-dependent stream; the server echoes it. The client checks every byte of the echo; both
 * print the SHA-256 of what they sent and received, which must all be the hash of the stream
 * computed here: 1 MiB intact each way. The server runs the v1.8 profile (l2cap_cbm_*, CBM
 * events), the client v1.4 (l2cap_le_*, LE events). Both exit 0; both packet logs decode cleanly
 * under tshark and btmon, and tshark sees the LE Credit Based Connection Request / Response.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { haveSocat, type Proc, tsx, until, radio } from './proc-helpers.js';

const TOTAL = 1 << 20;

/** SHA-256 of the first `n` bytes of the test stream, worked out here (not by the examples' code). */
function streamHash(n: number): string {
  const b = Buffer.alloc(n);
  for (let k = 0; k < n; k++) {
    const x = Math.imul(k ^ (k >>> 13), 0x5bd1e995);
    b[k] = (x ^ (x >>> 15)) & 0xff;
  }
  return createHash('sha256').update(b).digest('hex');
}

const hashOf = (out: string, label: string): string => new RegExp(`^${label} sha256 ([0-9a-f]{64})$`, 'm').exec(out)?.[1] ?? '';

test('le-cbm-server (v1.8) and le-cbm-client (v1.4) on two ptys of one bthost controller: 1 MiB each way intact', async () => {
  assert.ok(haveSocat, 'socat is installed');
  const dir = mkdtempSync(join(tmpdir(), 'bthost-le-cbm-examples-'));
  const procs: Proc[] = [];
  try {
    const ttys = await radio(dir, procs, ['server', 'client']);
    const serverLog = join(dir, 'server.btsnoop');
    const clientLog = join(dir, 'client.pklg');
    const server = tsx('examples/le-cbm-server.ts', [
      '-u',
      ttys[0]!,
      '--no-flow',
      '-l',
      serverLog,
      '--once',
      '--profile',
      'v1.8',
    ]);
    procs.push(server);
    await until(() => /up and running at ([0-9A-F:]{17})/.test(server.out), 30_000, 'server up');
    const addr = /up and running at ([0-9A-F:]{17})/.exec(server.out)![1]!;
    const client = tsx('examples/le-cbm-client.ts', ['-u', ttys[1]!, '--no-flow', '-l', clientLog, '-f', 'pklg']);
    procs.push(client);
    const [cs, ss] = await Promise.all([client.exit, server.exit]);
    assert.is(cs, 0, `client exit code\n${client.out.slice(-3000)}`);
    assert.is(ss, 0, `server exit code\n${server.out.slice(-3000)}`);

    // the client found the server by its advertised name, the channel opened on SPSM 0x25
    assert.match(client.out, new RegExp(`^Stop scan\\. Connect to device with addr ${addr}\\.$`, 'm'));
    assert.match(client.out, /^L2CAP_EVENT_LE_CHANNEL_OPENED status=0 .*psm=37 /m);
    assert.match(server.out, /^L2CAP_EVENT_CBM_INCOMING_CONNECTION .*psm=37 /m);
    assert.match(server.out, /^L2CAP_EVENT_CBM_CHANNEL_OPENED status=0 .*incoming=1 psm=37 /m);
    assert.match(client.out, /^echo test passed: 1048576 bytes each way, intact$/m);
    assert.match(server.out, /^received 1048576 bytes, sha256 /m);
    assert.match(server.out, /^echoed 1048576 bytes, sha256 /m);

    // every hash is the stream's: client -> server intact, server -> client intact
    const want = streamHash(TOTAL);
    assert.is(hashOf(client.out, 'sent'), want, 'client sent');
    assert.is(hashOf(server.out, 'received 1048576 bytes,'), want, 'server received');
    assert.is(hashOf(server.out, 'echoed 1048576 bytes,'), want, 'server echoed');
    assert.is(hashOf(client.out, 'received'), want, 'client received');

    for (const log of [serverLog, clientLog]) {
      assertCleanCapture(log);
      // the LE Credit Based Connection Request for SPSM 0x25 and its Response: success
      const sig = tsharkFields(
        log,
        ['btl2cap.cmd_code', 'btl2cap.le_psm', 'btl2cap.le_result'],
        'btl2cap.cmd_code == 0x14 || btl2cap.cmd_code == 0x15',
      );
      assert.equal(
        sig,
        [
          ['0x14', '0x0025', ''],
          ['0x15', '', '0x0000'],
        ],
        log,
      );
    }
  } finally {
    for (const p of procs.reverse()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => Promise.race([p.exit, new Promise((r) => setTimeout(r, 2000))])));
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
