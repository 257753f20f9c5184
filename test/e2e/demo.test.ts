/**
 * `npm start` (examples/demo.ts) as a user runs it: a separate process on the NodeRunLoop. It
 * must exit 0 within seconds, print the trace (events by name, code and fields) through inquiry,
 * SDP, L2CAP and RFCOMM to both stacks off, a summary whose byte counts match what was asked
 * for, pools back to full, and two btsnoop captures that tshark and btmon read without a
 * malformed frame and that contain the SDP, L2CAP and RFCOMM traffic.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';

const ADDR = '([0-9A-F]{2}:){5}[0-9A-F]{2}';

function demo(args: string[], timeout = 60_000) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/demo.ts', ...args], { encoding: 'utf8', timeout });
  return { ...r, ms: Date.now() - t0 };
}

test('npm start: trace, summary, clean close, exit 0, clean captures', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-demo-test-'));
  const bytes = 100_000;
  const r = demo(['--out', out, '--bytes', String(bytes)]);
  assert.is(r.status, 0, `exit status; stderr: ${r.stderr}\nstdout: ${r.stdout}`);
  assert.ok(r.ms < 20_000, `finished in ${r.ms} ms`);
  const o = r.stdout;
  assert.match(o, /run loop: NodeRunLoop \(real time\)/, 'says which run loop');
  // events by name, code and decoded fields, for both stacks
  assert.match(o, /server {2}BTSTACK_EVENT_STATE \(0x60\) state=2$/m);
  assert.match(o, /client {2}BTSTACK_EVENT_STATE \(0x60\) state=2$/m);
  assert.match(o, new RegExp(`client {2}GAP_EVENT_INQUIRY_RESULT \\(0xdb\\) bd_addr=${ADDR} .*name="bthost demo server"`));
  assert.match(o, /client {2}SDP_EVENT_QUERY_RFCOMM_SERVICE \(0x92\) rfcomm_channel=1 name="bthost demo SPP"$/m);
  assert.match(o, /client {2}SDP_EVENT_QUERY_COMPLETE \(0x91\) status=0$/m);
  assert.match(o, new RegExp(`server {2}L2CAP_EVENT_INCOMING_CONNECTION \\(0x72\\) address=${ADDR} handle=\\d+ psm=4097 `));
  assert.match(o, /client {2}L2CAP_EVENT_CHANNEL_OPENED \(0x70\) status=0 .* psm=4097 .* incoming=0 /);
  assert.match(o, /server {2}L2CAP_EVENT_CHANNEL_OPENED \(0x70\) status=0 .* psm=4097 .* incoming=1 /);
  assert.match(o, /client {2}L2CAP_EVENT_CAN_SEND_NOW \(0x78\) local_cid=\d+$/m);
  assert.match(o, /client {2}L2CAP data on cid 0x[0-9a-f]+: 'hello from the server'$/m);
  assert.match(o, /client {2}L2CAP_EVENT_CHANNEL_CLOSED \(0x71\)/);
  assert.match(o, /server {2}L2CAP_EVENT_CHANNEL_CLOSED \(0x71\)/);
  assert.match(o, /server {2}RFCOMM_EVENT_INCOMING_CONNECTION \(0x82\) .*server_channel=1 /);
  assert.match(o, /client {2}RFCOMM_EVENT_CHANNEL_OPENED \(0x80\) status=0 .*server_channel=1 /);
  assert.match(o, /client {2}RFCOMM_EVENT_CAN_SEND_NOW \(0x89\)/);
  assert.match(o, /client {2}RFCOMM_EVENT_CHANNEL_CLOSED \(0x81\)/);
  assert.match(o, /server {2}RFCOMM_EVENT_CHANNEL_CLOSED \(0x81\)/);
  assert.match(o, /client {2}HCI_EVENT_DISCONNECTION_COMPLETE \(0x05\) status=0 /);
  assert.match(o, /client {2}BTSTACK_EVENT_STATE \(0x60\) state=0$/m);
  assert.match(o, /server {2}BTSTACK_EVENT_STATE \(0x60\) state=0$/m);
  // the steps come in this order
  const order = [
    'GAP_EVENT_INQUIRY_RESULT',
    'SDP_EVENT_QUERY_COMPLETE',
    'L2CAP_EVENT_CHANNEL_OPENED',
    'L2CAP_EVENT_CHANNEL_CLOSED',
    'RFCOMM_EVENT_CHANNEL_OPENED',
    'RFCOMM_EVENT_CHANNEL_CLOSED',
    'HCI_EVENT_DISCONNECTION_COMPLETE',
    'state=0',
  ];
  const at = order.map((s) => o.indexOf(s));
  assert.ok(
    at.every((x, i) => x >= 0 && (i === 0 || x > at[i - 1]!)),
    `order ${JSON.stringify(at)}`,
  );
  // summary
  assert.match(o, new RegExp(`L2CAP  PSM 0x1001: sent ${bytes} bytes, received ${bytes} bytes in [\\d.]+ ms \\([\\d.]+ MB/s\\)`));
  assert.match(o, new RegExp(`RFCOMM channel 1: sent ${bytes} bytes, received ${bytes} bytes in [\\d.]+ ms \\([\\d.]+ MB/s\\)`));
  assert.match(o, /client pools: all \d+ back to full/);
  assert.match(o, /server pools: all \d+ back to full/);
  assert.match(o, /clean close: both stacks off, every byte delivered, every pool back to full\s*$/);
  // captures
  const client = path.join(out, 'bthost-demo-client.btsnoop');
  const server = path.join(out, 'bthost-demo-server.btsnoop');
  assert.match(o, /open one in Wireshark: wireshark /);
  assert.ok(o.includes(client) && o.includes(server), 'capture paths printed');
  for (const f of [client, server]) {
    const report = assertCleanCapture(f);
    assert.ok(report.records > 100, `${f}: ${report.records} records`);
    // SDP, the L2CAP connection to PSM 0x1001 and to RFCOMM (PSM 3), and RFCOMM frames are in it
    const psms = tsharkFields(f, ['btl2cap.psm'], 'btl2cap.cmd_code == 0x02').map(([p]) => parseInt(p!, 16));
    assert.equal(psms, [0x0001, 0x1001, 0x0003], `${f}: connection requests`);
    assert.ok(tsharkFields(f, ['frame.number'], 'btsdp').length >= 2, 'SDP frames');
    assert.ok(tsharkFields(f, ['frame.number'], 'btrfcomm').length > 5, 'RFCOMM frames');
  }
});

test('npm start: bad option prints usage and exits 2; --help exits 0', () => {
  const bad = demo(['--bogus'], 30_000);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /demo: unknown option --bogus/);
  assert.match(bad.stderr, /usage: npm start/);
  const help = demo(['--help'], 30_000);
  assert.is(help.status, 0);
  assert.match(help.stderr, /--bytes N/);
});

test('npm start: the v1.8 profile prints v1.8 codes', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-demo-test-'));
  const r = demo(['--out', out, '--bytes', '5000', '--profile', 'v1.8']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /L2CAP_EVENT_CAN_SEND_NOW \(0x79\)/);
  assert.match(r.stdout, /GAP_EVENT_INQUIRY_RESULT \(0xdc\)/);
});

test.run();
