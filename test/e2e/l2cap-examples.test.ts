/**
 * examples/l2cap-server and examples/l2cap-client in two separate processes, each on its own
 * socat pty linked to one `bthost controller` Unix socket (a third process): the client opens a
 * channel to PSM 0x1001 on the server's address, sends with CAN_SEND_NOW, checks the echoes,
 * disconnects; both exit 0 and their packet logs decode cleanly.
 * Security at BTstack's defaults (mode 4, the service at level 2, SSP with display + yes/no on
 * both sides): the client pairs with Numeric Comparison before its Connection Request; both print
 * the same numeric value, the stack accepts it, the captures show the exchange.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { haveSocat, type Proc, tsx, until, radio } from './proc-helpers.js';

test('l2cap-server and l2cap-client in separate processes over socat ptys of one bthost controller socket', async () => {
  assert.ok(haveSocat, 'socat is installed');
  const dir = mkdtempSync(join(tmpdir(), 'bthost-l2cap-examples-'));
  const procs: Proc[] = [];
  try {
    const ttys = await radio(dir, procs, ['server', 'client']);
    const serverLog = join(dir, 'server.btsnoop');
    const clientLog = join(dir, 'client.pklg');
    const server = tsx('examples/l2cap-server.ts', ['-u', ttys[0]!, '--no-flow', '-l', serverLog, '--once']);
    procs.push(server);
    await until(() => /up and running at ([0-9A-F:]{17})/.test(server.out), 30_000, 'server up');
    const addr = /up and running at ([0-9A-F:]{17})/.exec(server.out)![1]!;
    const client = tsx('examples/l2cap-client.ts', [
      '-u',
      ttys[1]!,
      '--no-flow',
      '--addr',
      addr,
      '--count',
      '20',
      '--size',
      '1500',
      '-l',
      clientLog,
    ]);
    procs.push(client);
    const [cs, ss] = await Promise.all([client.exit, server.exit]);
    assert.is(cs, 0, `client exit code\n${client.out.slice(-3000)}`);
    assert.is(ss, 0, `server exit code\n${server.out.slice(-3000)}`);
    assert.match(client.out, /echo test passed: 20 messages of 1500 bytes/);
    assert.match(client.out, /L2CAP_EVENT_CHANNEL_OPENED status=0 /);
    assert.match(server.out, /L2CAP_EVENT_INCOMING_CONNECTION /);
    assert.match(server.out, /L2CAP_EVENT_CHANNEL_CLOSED /);
    assert.is((server.out.match(/L2CAP_DATA_PACKET cid 0x0040 1500 bytes/g) ?? []).length, 20);
    // ---- Secure Simple Pairing, Numeric Comparison: the same value on both sides, accepted
    const values = (out: string): string[] =>
      [...out.matchAll(/SSP User Confirmation Request with numeric value '(\d{6})'\nSSP User Confirmation Auto accept\n/g)].map(
        (m) => m[1]!,
      );
    const value = values(client.out);
    assert.is(value.length, 1, `one confirmation on the client\n${client.out.slice(-3000)}`);
    assert.equal(values(server.out), value, 'the server printed the same numeric value');
    assert.match(client.out, /GAP_EVENT_SECURITY_LEVEL handle=\d+ security_level=2/);
    for (const log of [serverLog, clientLog]) {
      assert.equal(tsharkFields(log, ['bthci_cmd.io_capability'], 'bthci_cmd.opcode == 0x042b'), [['1']], log);
      const events = tsharkFields(
        log,
        ['bthci_evt.code', 'bthci_evt.numeric_value'],
        'bthci_evt.code == 0x33 || bthci_evt.code == 0x18 || bthci_evt.code == 0x08',
      ).map(([code, v]) => `${code}${v ? ` ${v.padStart(6, '0')}` : ''}`);
      assert.equal(events, [`0x33 ${value[0]}`, '0x18', '0x08'], log);
    }
    // paired and encrypted before the Connection Request: accepted at once
    const results = tsharkFields(clientLog, ['btl2cap.result'], 'btl2cap.cmd_code == 0x03').map(([x]) => parseInt(x!, 16));
    assert.equal(results, [0]);
    assertCleanCapture(serverLog);
    assertCleanCapture(clientLog);
    const psm = tsharkFields(clientLog, ['btl2cap.psm'], 'btl2cap.cmd_code == 0x02').map(([x]) => parseInt(x!, 16));
    assert.equal(psm, [0x1001]);
  } finally {
    for (const p of procs.reverse()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => Promise.race([p.exit, new Promise((r) => setTimeout(r, 2000))])));
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
