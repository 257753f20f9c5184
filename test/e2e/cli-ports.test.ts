/**
 * `bthost --port`: the errors a user meets on a serial port (no such port, port busy, permission
 * denied, a pty where nothing answers), each one line and exit 1 within a bounded time; then the
 * real thing: `bthost controller --listen unix:SOCK` serving virtual controllers, socat ptys onto
 * it, and every command run as separate processes over those serial devices (info, scan,
 * l2ping, l2cap listen/connect with throughput, spp listen/connect by SDP).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as os from 'node:os';
import { SerialPort } from 'serialport';
import * as fs from 'node:fs';
import { hex } from '../../src/core/bytes.js';
import { assertCleanCapture, readCapture } from '../helpers/capture.js';
import { ADDR_RE, bthost, bthostAsync, Proc, Socat, start, tmp, waitForPaths } from './cli-helpers.js';

let seq = 0;
/** A pty pair made by socat: [our end, the other end nothing reads]. */
async function ptyPair(): Promise<[string, string, Socat]> {
  const a = path.join(tmp, `pty${++seq}a`);
  const b = path.join(tmp, `pty${seq}b`);
  const s = new Socat(`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`);
  await waitForPaths([a, b]);
  return [a, b, s];
}

/** A pty onto the controller socket: a fresh virtual controller per pty. */
async function controllerPty(sock: string): Promise<[string, Socat]> {
  const p = path.join(tmp, `tty${++seq}`);
  const s = new Socat(`pty,raw,echo=0,link=${p}`, `UNIX-CONNECT:${sock}`);
  await waitForPaths([p]);
  return [p, s];
}

test('no such port: one line, exit 1', () => {
  const r = bthost(['info', '--port', '/dev/ttyBTHOST-NOPE']);
  assert.is(r.status, 1);
  assert.is(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n'), [
    'bthost: serial port /dev/ttyBTHOST-NOPE not found: is the controller plugged in and the path right? (try ls /dev/ttyACM* /dev/ttyUSB*)',
  ]);
});

test('a pty with nothing answering: "no answer from the controller" within the timeout', async () => {
  const [a, , s] = await ptyPair();
  try {
    const r = bthost(['info', '--port', a, '--baud', '1000000', '--timeout', '1500']);
    assert.is(r.status, 1);
    assert.is(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n'), [
      `bthost: no answer from the controller on ${a} (1000000 baud, flow control on) within 1500 ms: wrong baud rate or flow control? ` +
        `(try --baud 115200 / 1000000, or --no-flow; is it an H4 controller and powered?)`,
    ]);
    assert.ok(r.ms < 8000, `${r.ms} ms`);
    // the default timeout (3 s) and --no-flow in the message
    const d = bthost(['l2ping', '--port', a, '--no-flow', 'C0:FF:EE:00:00:02']);
    assert.is(d.status, 1);
    assert.match(d.stderr, /no answer from the controller on .* \(115200 baud, flow control off\) within 3000 ms/);
    assert.ok(d.ms < 10_000, `${d.ms} ms`);
  } finally {
    s.kill();
  }
});

test('port busy: another program holds the lock -> one line, exit 1', async () => {
  const [a, , s] = await ptyPair();
  const port = new SerialPort({ path: a, baudRate: 115200, autoOpen: false, lock: true });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  try {
    const r = await bthostAsync(['info', '--port', a]);
    assert.is(r.status, 1);
    assert.equal(r.stderr.trim().split('\n'), [
      `bthost: serial port ${a} is busy: another program has it open (a terminal, ModemManager, another bthost); close it and retry`,
    ]);
  } finally {
    await new Promise<void>((resolve) => port.close(() => resolve()));
    s.kill();
  }
});

test('permission denied: the dialout hint, exit 1', async () => {
  const [a, , s] = await ptyPair();
  try {
    // Make the pty unreadable and open it as the same user, so the CLI runs from this checkout
    // wherever it lives (a clone in a private 0700 directory included). root passes permission
    // checks through CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH, so as root the CLI runs under
    // setpriv (util-linux) with both dropped from its bounding set: EACCES as a user would see it.
    spawnSync('chmod', ['000', a]);
    const argv = [process.execPath, '--import', 'tsx', 'ports/cli/cli.ts', 'info', '--port', a];
    const cmd =
      os.userInfo().uid === 0
        ? ['setpriv', '--inh-caps=-dac_override,-dac_read_search', '--bounding-set=-dac_override,-dac_read_search', ...argv]
        : argv;
    const r = spawnSync(cmd[0], cmd.slice(1), {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, HOME: os.tmpdir() },
    });
    assert.is(r.error, undefined, `${cmd[0]}: ${r.error?.message}`);
    assert.is(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n'), [
      `bthost: permission denied opening serial port ${a}: add your user to the 'dialout' group (sudo usermod -aG dialout $USER) and log in again`,
    ]);
  } finally {
    s.kill();
  }
});

test('two processes on ptys of one `bthost controller`: every command over --port', async () => {
  const sock = path.join(tmp, 'radio.sock');
  const ctl = new Proc(['controller', '--listen', `unix:${sock}`]);
  const socats: Socat[] = [];
  const procs: Proc[] = [ctl];
  const pty = async () => {
    const [p, s] = await controllerPty(sock);
    socats.push(s);
    return p;
  };
  try {
    await ctl.waitFor(/^listening on unix:/m);

    // info over a serial device
    const info = await bthostAsync(['info', '--port', await pty()]);
    assert.is(info.status, 0, info.stderr);
    assert.match(info.stdout, new RegExp(`^Controller on .*tty\\d+ \\(115200 baud, flow control on\\)$`, 'm'));
    assert.match(info.stdout, /^  Serial I\/O: +fd \(the port read and written on the event loop\)$/m);
    assert.match(info.stdout, new RegExp(`^  BD_ADDR: +${ADDR_RE}$`, 'm'));

    // an L2CAP server in one process ...
    const serverLog = path.join(tmp, 'server.btsnoop');
    const server = start(['l2cap', 'listen', '0x1001', '--receive', '--port', await pty(), '--log', serverLog]);
    procs.push(server);
    const addr = (await server.waitFor(new RegExp(`listening on PSM 0x1001 at (${ADDR_RE})`)))[1]!;
    assert.not.match(server.stderr, /virtual peer/, 'no virtual peer with --port');

    // ... found by a scan from another, and pinged
    const scan = await bthostAsync(['scan', '--time', '1', '--classic', '--port', await pty()]);
    assert.is(scan.status, 0, scan.stderr);
    assert.match(scan.stdout, new RegExp(`^found {3}${addr} {2}BR/EDR .* bthost ${addr}$`, 'm'));
    const ping = await bthostAsync(['l2ping', addr, '-c', '2', '-i', '0.05', '--port', await pty()]);
    assert.is(ping.status, 0, ping.stderr);
    assert.match(ping.stdout, /^2 sent, 2 received, 0% loss$/m);

    // ... and a client sending to it
    const clientLog = path.join(tmp, 'client.pklg');
    const client = await bthostAsync([
      'l2cap',
      'connect',
      addr,
      '0x1001',
      '--send',
      '64k',
      '--port',
      await pty(),
      '--log',
      clientLog,
    ]);
    assert.is(client.status, 0, client.stderr);
    assert.match(client.stdout, /^sent 65536 bytes/);
    const srv = await server.exited;
    assert.is(srv.status, 0, srv.stderr);
    assert.match(srv.stdout, /^received 65536 bytes \(64\.0 KiB\) in \d+\.\d{3} s: \d+\.\d\d MB\/s$/m);
    assertCleanCapture(serverLog);
    assertCleanCapture(clientLog);

    // SPP: the client finds the server's record by SDP and streams a file through it
    const spp = start(['spp', 'listen', '--port', await pty()]);
    procs.push(spp);
    const sppAddr = (await spp.waitFor(new RegExp(`listening on RFCOMM channel 1 at (${ADDR_RE})`)))[1]!;
    const text = 'over two serial ports and one virtual radio\n'.repeat(50);
    const sc = await bthostAsync(['spp', 'connect', sppAddr, '--port', await pty()], text);
    assert.is(sc.status, 0, sc.stderr);
    assert.match(sc.stderr, /'bthost SPP' on RFCOMM channel 1/);
    const sl = await spp.exited;
    assert.is(sl.status, 0, sl.stderr);
    assert.is(sl.stdout, text, 'the listener wrote what the client piped in');
  } finally {
    for (const p of procs) p.kill();
    for (const s of socats) s.kill();
    await ctl.exited;
  }
});

test('--chipset bcm --main-baud: the Broadcom baud-rate command on a paced 115200 baud link', async () => {
  const sock = path.join(tmp, 'paced.sock');
  const ctl = new Proc(['controller', '--listen', `unix:${sock}`, '--baud', '115200']);
  let socat: Socat | null = null;
  try {
    await ctl.waitFor(/^listening on unix:.* at 115200 baud$/m);
    const [p, s] = await controllerPty(sock);
    socat = s;
    const log = path.join(tmp, 'bcm.btsnoop');
    const r = await bthostAsync(['info', '--port', p, '--chipset', 'bcm', '--main-baud', '921600', '--log', log]);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /\(115200 baud, flow control on\)/);
    assertCleanCapture(log);
    // Update UART Baud Rate (0xFC18): 00 00 then 921600 little endian, after Reset and Read Local Version
    const cmds = readCapture(fs.readFileSync(log)).records.filter((x) => x.packet_type === 1);
    assert.is(hex(cmds[0]!.data), '03 0c 00');
    // Read Local Version Information right after Reset (BTstack's init order, for chipset detection)
    assert.is(hex(cmds[1]!.data), '01 10 00');
    assert.is(hex(cmds[2]!.data), '18 fc 06 00 00 00 10 0e 00');
  } finally {
    socat?.kill();
    ctl.kill();
    await ctl.exited;
  }
});

test.run();
