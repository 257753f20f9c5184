/**
 * `bthost` help, usage errors, `info`, `scan` and `l2ping` on the in-process virtual controller
 * (with its virtual peer at C0:FF:EE:00:00:02), as separate processes: output, exit codes,
 * packet logs in both formats decoding cleanly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { assertCleanCapture, btmonText, readCapture, tsharkFields } from '../helpers/capture.js';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { bthost, bthostAsync, tmp, LOCAL, PEER } from './cli-helpers.js';

const HEADSET = 'C0:FF:EE:00:00:03';

test('help: the command list and common options; exit 0', async () => {
  const r = bthost(['--help']);
  assert.is(r.status, 0);
  for (const c of [
    'info',
    'scan',
    'l2ping ADDR',
    'l2cap listen PSM',
    'l2cap connect ADDR PSM',
    'spp listen',
    'spp connect ADDR',
    'controller --listen',
  ]) {
    assert.ok(r.stdout.includes(c), c);
  }
  assert.match(r.stdout, /--port PORT/);
  assert.match(r.stdout, /--log FILE/);
  assert.match(r.stdout, /C0:FF:EE:00:00:02/);
  const commands = ['info', 'scan', 'l2ping', 'l2cap', 'spp'];
  const helps = await Promise.all(commands.map((c) => bthostAsync([c, '--help'])));
  for (const [i, c] of commands.entries()) {
    const h = helps[i]!;
    assert.is(h.status, 0, c);
    assert.match(h.stdout, new RegExp(`^usage: bthost ${c}`), c);
    assert.match(h.stdout, /common options:/, c);
  }
});

test('no command, unknown command, bad options: one line and exit 2', async () => {
  const none = bthost([]);
  assert.is(none.status, 2);
  assert.match(none.stderr, /^usage: bthost/);
  assert.is(none.stderr.trim().split('\n').length, 1);
  const unknown = bthost(['frobnicate']);
  assert.is(unknown.status, 2);
  assert.equal(unknown.stderr.trim().split('\n'), ["bthost: unknown command 'frobnicate' (bthost --help lists the commands)"]);
  const cases: Array<[string[], RegExp]> = [
    [['info', '--bogus'], /^bthost info: unknown option --bogus/],
    [['info', '--profile', 'v2'], /^bthost info: --profile: expected v1.4 or v1.8/],
    [['info', '--baud', 'fast'], /^bthost info: --baud: baud rate must be a positive integer/],
    [['info', '--format', 'pcap', '--log', '/tmp/x'], /^bthost info: --format: log format must be btsnoop or pklg/],
    [['scan', '--time', '0'], /^bthost scan: --time: expected seconds/],
    [['l2ping'], /^bthost l2ping: missing address/],
    [['l2ping', '12:34'], /^bthost l2ping: '12:34' is not a Bluetooth address/],
    [['l2ping', PEER, '-s', '5000'], /^bthost l2ping: -s: expected 0..600 bytes/],
    [['l2cap'], /^bthost l2cap: listen or connect\?/],
    [['l2cap', 'listen'], /^bthost l2cap: missing PSM/],
    [['l2cap', 'listen', '0x1002'], /^bthost l2cap: PSM 0x1002 is not valid/],
    [['l2cap', 'connect', PEER, '0x1001', '--send', 'lots'], /^bthost l2cap: --send: expected a size/],
    [['l2cap', 'connect', PEER, '0x1001', '--send', '1k', '--receive'], /^bthost l2cap: --send and --receive exclude each other/],
    [['spp', 'connect'], /^bthost spp: missing address/],
    [['spp', 'listen', '--channel', '31'], /^bthost spp: --channel: expected 1..30/],
  ];
  const runs = await Promise.all(cases.map(([args]) => bthostAsync(args)));
  for (const [i, [args, re]] of cases.entries()) {
    const r = runs[i]!;
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, re, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stdout, '', args.join(' '));
    assert.is(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
  // bthost controller: --listen has no -l (-l is the log file of every other program)
  const ctl = await bthostAsync(['controller', '-l', 'unix:/tmp/nope.sock']);
  assert.is(ctl.status, 2);
  assert.equal(ctl.stderr.trim().split('\n'), ['bthost controller: unknown option -l (bthost controller --help for usage)']);
  const noListen = await bthostAsync(['controller', '--baud', '9600']);
  assert.equal(
    [noListen.status, noListen.stderr.trim()],
    [2, 'bthost controller: --listen is required (bthost controller --help for usage)'],
  );
});

test('info: version, manufacturer, BD_ADDR, features, buffers, commands; btsnoop log', () => {
  const log = path.join(tmp, 'info.btsnoop');
  const r = bthost(['info', '--commands', '--log', log]);
  assert.is(r.status, 0, r.stderr);
  const o = r.stdout;
  assert.match(o, /^Controller on the virtual controller$/m);
  assert.match(o, new RegExp(`^  BD_ADDR: +${LOCAL}$`, 'm'));
  assert.match(o, /^ {2}HCI version: +5\.0 \(9\), revision 0x0001$/m);
  assert.match(o, /^ {2}LMP version: +5\.0 \(9\), subversion 0x0001$/m);
  assert.match(o, /^ {2}Manufacturer: +0xffff /m);
  assert.match(o, /^ {2}Features: +([0-9a-f]{2} ){7}[0-9a-f]{2}$/m);
  assert.match(o, /secure simple pairing/);
  assert.match(o, /LE supported/);
  assert.match(o, /^ {2}ACL buffers: +8 x 1021 bytes$/m);
  assert.match(o, /^ {2}LE buffers: +8 x 251 bytes$/m);
  assert.match(o, /^ {2}Supported commands: \d+$/m);
  assert.match(o, /HCI_Inquiry, /);
  assert.match(o, /HCI_LE_Set_Scan_Enable/);
  // the features line matches what the controller sent in Read Local Supported Features
  const features = /Features: +(.*)$/m.exec(o)![1]!;
  const cap = readCapture(fs.readFileSync(log));
  const rlsf = cap.records.find((x) => x.packet_type === 4 && x.data[0] === 0x0e && x.data[3] === 0x03 && x.data[4] === 0x10)!;
  assert.ok(rlsf, 'Read Local Supported Features complete in the log');
  assert.is([...rlsf.data.subarray(6, 14)].map((b) => b.toString(16).padStart(2, '0')).join(' '), features);
  assertCleanCapture(log);
});

test('info with --format pklg writes a PacketLogger file', () => {
  const log = path.join(tmp, 'info.log');
  const r = bthost(['info', '-l', log, '-f', 'pklg']);
  assert.is(r.status, 0, r.stderr);
  const cap = readCapture(fs.readFileSync(log));
  assert.is(cap.format, 'pklg');
  assertCleanCapture(log);
  assert.match(btmonText(log), /Read Local Version Information/);
});

test('scan: the virtual peer over classic inquiry and LE, with RSSI, class and name', () => {
  const log = path.join(tmp, 'scan.btsnoop');
  const r = bthost(['scan', '--time', '1', '--log', log]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /^scanning on the virtual controller for 1 s \(classic inquiry \+ LE scan\) \.\.\.$/m);
  const o = r.stdout;
  assert.match(o, new RegExp(`^found {3}${PEER} {2}BR/EDR +-\\d+ {2}0x5a020c {2}bthost virtual peer$`, 'm'));
  assert.match(o, new RegExp(`^found {3}${PEER} {2}LE public +-\\d+ +bthost virtual peer$`, 'm'));
  // the headset has no name in its inquiry response: found without, then named by Remote Name Request
  assert.match(o, new RegExp(`^found {3}${HEADSET} {2}BR/EDR +-\\d+ {2}0x240404 {2}$`, 'm'));
  assert.match(o, new RegExp(`^update {2}${HEADSET} {2}BR/EDR +-\\d+ {2}0x240404 {2}bthost virtual headset$`, 'm'));
  assert.match(o, /^ADDRESS {12}TYPE {7}RSSI {2}CLASS {5}NAME$/m);
  assert.match(o, /^3 device\(s\) found$/m);
  assertCleanCapture(log);
  // the controller was asked for both an inquiry and an LE scan
  assert.ok(tsharkFields(log, ['frame.number'], 'bthci_cmd.opcode == 0x0401').length === 1, 'HCI_Inquiry');
  assert.ok(tsharkFields(log, ['frame.number'], 'bthci_cmd.opcode == 0x200c').length >= 2, 'LE Set Scan Enable on and off');
  assert.equal(
    tsharkFields(log, ['bthci_cmd.bd_addr'], 'bthci_cmd.opcode == 0x0419'),
    [[HEADSET.toLowerCase()]],
    'one Remote Name Request, for the headset',
  );
});

test('scan on a terminal: the table is redrawn in place as devices appear and get names', () => {
  // util-linux's script gives the command a pty as stdout
  const r = spawnSync('script', ['-qec', `${process.execPath} --import tsx ports/cli/cli.ts scan --time 1`, '/dev/null'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.is(r.status, 0, r.stderr);
  const out = r.stdout.replace(/\r/g, '');
  assert.match(out, /\x1b\[\d+A\x1b\[J/, 'cursor up + clear');
  assert.not.match(out, /^found /m, 'no per-device lines on a terminal');
  // the last drawing has all three rows, the headset with its name
  const last = out.slice(out.lastIndexOf('ADDRESS'));
  assert.match(last, new RegExp(`${HEADSET} {2}BR/EDR +-\\d+ {2}0x240404 {2}bthost virtual headset`));
  assert.is(last.trim().split('\n').length, 5, last);
  assert.match(last, /3 device\(s\) found\s*$/);
});

test('scan --classic / --le: only that kind', () => {
  const c = bthost(['scan', '--time', '1', '--classic']);
  assert.is(c.status, 0, c.stderr);
  assert.match(c.stdout, /BR\/EDR/);
  assert.not.match(c.stdout, /LE public/);
  assert.match(c.stdout, /^2 device\(s\) found$/m);
  const l = bthost(['scan', '--time', '0.5', '--le']);
  assert.is(l.status, 0, l.stderr);
  assert.match(l.stdout, /LE public/);
  assert.not.match(l.stdout, /BR\/EDR/);
});

test('l2ping: echo requests with round-trip times, statistics, exit 0; data size', () => {
  const log = path.join(tmp, 'l2ping.btsnoop');
  const r = bthost(['l2ping', PEER, '-c', '3', '-i', '0.05', '-s', '100', '--log', log]);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], `Ping: ${PEER} from ${LOCAL} (data size 100) ...`);
  for (let i = 0; i < 3; i++) assert.match(lines[1 + i]!, new RegExp(`^100 bytes from ${PEER} id ${i} time \\d+\\.\\d\\dms$`));
  assert.is(lines[4], '3 sent, 3 received, 0% loss');
  assert.is(lines.length, 5);
  assertCleanCapture(log);
  // three Echo Requests with 100 bytes each on the wire, three responses
  const req = tsharkFields(log, ['btl2cap.cmd_length'], 'btl2cap.cmd_code == 0x08');
  assert.equal(req, [['100'], ['100'], ['100']]);
  assert.is(tsharkFields(log, ['frame.number'], 'btl2cap.cmd_code == 0x09').length, 3);
});

test('l2ping: unknown address -> one line, exit 1, within the page timeout', () => {
  const r = bthost(['l2ping', '11:22:33:44:55:66', '-c', '1', '--page-timeout', '500']);
  assert.is(r.status, 1);
  assert.is(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n'), [
    'bthost: no device answered at 11:22:33:44:55:66 (page timeout): is the address right, the device on, in range and connectable?',
  ]);
  assert.ok(r.ms < 10_000, `${r.ms} ms`);
  // the default page timeout (5.12 s) also ends with the same line
  const d = bthost(['l2ping', '11:22:33:44:55:66', '-c', '1']);
  assert.is(d.status, 1);
  assert.match(d.stderr, /no device answered at 11:22:33:44:55:66 \(page timeout\)/);
  assert.ok(d.ms >= 5000 && d.ms < 15_000, `${d.ms} ms`);
});

test('--profile v1.8 and --verbose: events printed by name with v1.8 codes', () => {
  const r = bthost(['l2ping', PEER, '-c', '1', '--profile', 'v1.8', '-v']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /^event: BTSTACK_EVENT_STATE state=2$/m);
  assert.match(
    r.stderr,
    new RegExp(`^event: HCI_EVENT_CONNECTION_COMPLETE status=0 connection_handle=\\d+ bd_addr=${PEER} `, 'm'),
  );
  assert.match(r.stdout, /1 sent, 1 received, 0% loss/);
});

test.run();
