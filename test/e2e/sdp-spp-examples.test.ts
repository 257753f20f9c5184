/**
 * examples/spp-counter, examples/sdp-general-query and examples/spp-client in separate processes,
 * each on its own socat pty linked to one `bthost controller` Unix socket (a fourth process): the
 * general query lists the counter's SPP record; the client finds the RFCOMM channel through SDP,
 * connects, receives three counter lines, answers each, disconnects; everyone exits 0 and every
 * packet log decodes cleanly (tshark: SDP on PSM 1, RFCOMM on PSM 3).
 * Security at BTstack's defaults (mode 4, RFCOMM at level 2, SSP with display + yes/no on both
 * sides): SDP runs at level 0 (no pairing for the general query); before its RFCOMM channel the
 * client pairs with Numeric Comparison: both examples print the same numeric value and the stack
 * accepts it; the captures show the IO capabilities, the User Confirmation Request with that
 * value, the Link Key Notification and the Encryption Change.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { haveSocat, type Proc, tsx, until, radio } from './proc-helpers.js';

test('spp-counter, sdp-general-query and spp-client in separate processes over socat ptys of one bthost controller socket', async () => {
  assert.ok(haveSocat, 'socat is installed');
  const dir = mkdtempSync(join(tmpdir(), 'bthost-spp-examples-'));
  const procs: Proc[] = [];
  try {
    const ttys = await radio(dir, procs, ['server', 'query', 'client']);
    const serverLog = join(dir, 'server.btsnoop');
    const queryLog = join(dir, 'query.pklg');
    const clientLog = join(dir, 'client.btsnoop');
    const server = tsx('examples/spp-counter.ts', ['-u', ttys[0]!, '--no-flow', '-l', serverLog, '--once']);
    procs.push(server);
    await until(() => /up and running at ([0-9A-F:]{17})/.test(server.out), 30_000, `server up\n${server.out}`);
    const addr = /up and running at ([0-9A-F:]{17})/.exec(server.out)![1]!;

    // ---- the general query lists the SPP record
    const query = tsx('examples/sdp-general-query.ts', ['-u', ttys[1]!, '--no-flow', '--addr', addr, '-l', queryLog]);
    procs.push(query);
    assert.is(await query.exit, 0, `query exit code\n${query.out.slice(-3000)}`);
    assert.match(query.out, /up and running at /);
    assert.match(query.out, /Record nr\. 0/);
    assert.match(
      query.out,
      /SDP_EVENT_QUERY_ATTRIBUTE_VALUE record_id=0 attribute_id=0x0004 attribute_length=14\n {4}DES\n {6}DES\n {8}UUID16 0x0100 \(L2CAP\)\n {6}DES\n {8}UUID16 0x0003 \(RFCOMM\)\n {8}UINT8 0x01\n/,
    );
    assert.match(query.out, /STRING "SPP Counter"/);
    assert.match(query.out, /SDP_EVENT_QUERY_COMPLETE status=0\nGeneral query done with status 0\./);

    // ---- the SPP client
    const client = tsx('examples/spp-client.ts', ['-u', ttys[2]!, '--no-flow', '--addr', addr, '--lines', '3', '-l', clientLog]);
    procs.push(client);
    const [cs, ss] = await Promise.all([client.exit, server.exit]);
    assert.is(cs, 0, `client exit code\n${client.out.slice(-3000)}`);
    assert.is(ss, 0, `server exit code\n${server.out.slice(-3000)}`);
    assert.match(client.out, /SDP_EVENT_QUERY_RFCOMM_SERVICE rfcomm_channel=1 name="SPP Counter"/);
    assert.match(client.out, /SDP_EVENT_QUERY_COMPLETE status=0/);
    assert.match(client.out, /RFCOMM_EVENT_CHANNEL_OPENED status=0 /);
    for (const n of ['0001', '0002', '0003']) {
      assert.match(client.out, new RegExp(`RCV: 'BTstack counter ${n}'`));
      assert.match(server.out, new RegExp(`RCV: 'Thanks for 'BTstack counter ${n}' \\(\\d/3\\)'`));
    }
    assert.match(client.out, /RFCOMM_EVENT_CHANNEL_CLOSED /);
    assert.match(server.out, /RFCOMM_EVENT_INCOMING_CONNECTION /);
    assert.match(server.out, /RFCOMM_EVENT_CHANNEL_CLOSED /);

    // ---- Secure Simple Pairing, Numeric Comparison: the same value on both sides, accepted
    const values = (out: string): string[] =>
      [...out.matchAll(/SSP User Confirmation Request with numeric value '(\d{6})'\nSSP User Confirmation Auto accept\n/g)].map(
        (m) => m[1]!,
      );
    const value = values(client.out);
    assert.is(value.length, 1, `one confirmation on the client\n${client.out.slice(-3000)}`);
    assert.equal(values(server.out), value, 'the server printed the same numeric value');
    assert.not.match(query.out, /SSP User Confirmation|Pin code request/, 'SDP needs no pairing');
    assert.not.match(client.out + server.out, /Pin code request/);
    assert.match(client.out, /GAP_EVENT_SECURITY_LEVEL handle=\d+ security_level=2/);
    for (const log of [serverLog, clientLog]) {
      // IO Capability Request Reply: DisplayYesNo on both sides
      assert.equal(tsharkFields(log, ['bthci_cmd.io_capability'], 'bthci_cmd.opcode == 0x042b'), [['1']], log);
      // User Confirmation Request (0x33) with the printed value, Link Key Notification (0x18), Encryption Change (0x08) on
      const events = tsharkFields(
        log,
        ['bthci_evt.code', 'bthci_evt.numeric_value'],
        'bthci_evt.code == 0x33 || bthci_evt.code == 0x18 || bthci_evt.code == 0x08',
      ).map(([code, v]) => `${code}${v ? ` ${v.padStart(6, '0')}` : ''}`);
      assert.equal(events, [`0x33 ${value[0]}`, '0x18', '0x08'], log);
    }
    // the client paired before asking for PSM 3: the server accepted both channels at once
    const results = tsharkFields(clientLog, ['btl2cap.result'], 'btl2cap.cmd_code == 0x03').map(([x]) => parseInt(x!, 16));
    assert.equal(results, [0, 0]);
    assert.equal(tsharkFields(queryLog, ['bthci_evt.code'], 'bthci_evt.code == 0x33 || bthci_evt.code == 0x16'), []);

    for (const log of [serverLog, queryLog, clientLog]) assertCleanCapture(log);
    // tshark: the query and the client spoke SDP on PSM 1, the client RFCOMM on PSM 3
    const psms = tsharkFields(clientLog, ['btl2cap.psm'], 'btl2cap.cmd_code == 0x02').map(([x]) => parseInt(x!, 16));
    assert.equal(psms, [0x0001, 0x0003]);
    const sdpPdus = tsharkFields(queryLog, ['btsdp.pdu'], 'btsdp').map(([x]) => parseInt(x!, 16));
    assert.equal(sdpPdus, [0x06, 0x07]);
    const rfcommChannels = new Set(
      tsharkFields(clientLog, ['btrfcomm.channel'], 'btrfcomm && btrfcomm.channel > 0').map(([x]) => parseInt(x!, 10)),
    );
    assert.equal([...rfcommChannels], [1]);
  } finally {
    for (const p of procs.reverse()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => Promise.race([p.exit, new Promise((r) => setTimeout(r, 2000))])));
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
