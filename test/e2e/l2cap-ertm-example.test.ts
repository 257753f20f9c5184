/**
 * examples/l2cap-ertm: the client on the in-process virtual controller against its virtual ERTM
 * echo server, and server + client as separate processes on socat ptys of one `bthost controller`:
 * both report CHANNEL_OPENED with mode 3 (ERTM) and fcs 1, the client's busy / ready calls return
 * 0, every echo matches, both see L2CAP_EVENT_ERTM_BUFFER_RELEASED, exit 0, the captures decode
 * cleanly and show the RNR (S = 2) the busy condition sends.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { haveSocat, type Proc, tsx, until, radio } from './proc-helpers.js';

test('l2cap-ertm on the virtual controller: echo test passed in ERTM', async () => {
  const p = tsx('examples/l2cap-ertm.ts', ['--count', '30']);
  const code = await p.exit;
  assert.is(code, 0, p.out.slice(-3000));
  assert.match(p.out, /\[virtual server\] channel open: status 0x0 mode 3 fcs 1/);
  assert.match(p.out, /channel open: local cid 0x40 mode 3 fcs 1/);
  assert.match(p.out, /l2cap_ertm_set_busy: 0\n/);
  assert.match(p.out, /l2cap_ertm_set_ready: 0\n/);
  assert.match(p.out, /ERTM echo test passed: 30 messages of 600 bytes/);
});

test('l2cap-ertm server and client in separate processes over socat ptys', async () => {
  assert.ok(haveSocat, 'socat is installed');
  const dir = mkdtempSync(join(tmpdir(), 'bthost-l2cap-ertm-example-'));
  const procs: Proc[] = [];
  try {
    const ttys = await radio(dir, procs, ['server', 'client']);
    const serverLog = join(dir, 'server.btsnoop');
    const clientLog = join(dir, 'client.btsnoop');
    const server = tsx('examples/l2cap-ertm.ts', ['-u', ttys[0]!, '--no-flow', '-l', serverLog, '--once']);
    procs.push(server);
    await until(() => /up and running at ([0-9A-F:]{17})/.test(server.out), 30_000, 'server up');
    const addr = /up and running at ([0-9A-F:]{17})/.exec(server.out)![1]!;
    const client = tsx('examples/l2cap-ertm.ts', ['-u', ttys[1]!, '--no-flow', '--addr', addr, '--count', '40', '-l', clientLog]);
    procs.push(client);
    const [cs, ss] = await Promise.all([client.exit, server.exit]);
    assert.is(cs, 0, `client\n${client.out.slice(-3000)}`);
    assert.is(ss, 0, `server\n${server.out.slice(-3000)}`);
    assert.match(client.out, /ERTM echo test passed: 40 messages of 600 bytes/);
    assert.match(server.out, /channel open: status 0x0 mode 3 fcs 1/);
    assert.match(server.out, /L2CAP_EVENT_ERTM_BUFFER_RELEASED/);
    assertCleanCapture(serverLog);
    assertCleanCapture(clientLog);
    // the client's busy condition: an RNR S-frame (supervisory function 2) on the data channel
    const s = tsharkFields(clientLog, ['btl2cap.control_supervisory'], 'btl2cap.control_type == 1 && !(btl2cap.cid == 0x0001)');
    assert.ok(
      s.some((r) => /^(0x0*)?2$/.test(r[0]!)),
      `RNR sent: ${s.map((r) => r[0]).join(',')}`,
    );
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
