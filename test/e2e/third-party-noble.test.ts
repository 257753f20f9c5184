/**
 * A third-party host stack on our virtual controller over a socat pty (issue 3, item 4): noble
 * (@stoprocent/noble with @stoprocent/bluetooth-hci-socket's UART driver, pinned in
 * test/third-party/, installed on demand) runs in a child process on pty 1; a bthost Stack
 * (SerialPortTransport) on pty 2 advertises a name. Both ptys are `socat pty,raw,echo=0,...`
 * connections to serve_controllers, so they are two controllers on one radio.
 *
 * noble must reach poweredOn, find the bthost device (address and local name from the AD), connect
 * (LE Connection Complete on both sides) and disconnect (Disconnection Complete on both sides).
 * noble's H4 stream goes through a wiretap (test/third-party/h4-tap.ts): every command it sent is
 * answered once by Command Complete / Command Status with its opcode, the events it received carry
 * what the Core spec prescribes for them, and the tap's btsnoop and bthost's packet log decode
 * cleanly with tshark and btmon.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { bd_addr_to_str, hex, little_endian_read_16, reverse_bd_addr } from '../../src/core/bytes.js';
import { RadioLink } from '../../src/controller/index.js';
import { serve_controllers } from '../../ports/virtual/server.js';
import { SerialPortTransport } from '../../ports/serialport/transport.js';
import { hci_transport_config_uart } from '../../src/chipset/index.js';
import { HciDump } from '../../src/hci/dump.js';
import { Stack } from '../../src/stack.js';
import * as C from '../../src/codes/v1.4.js';
import { spawnSocat, until, withKill, type PtyPair } from '../pty/pty-helpers.js';
import { assertCleanCapture } from '../helpers/capture.js';
import { H4Tap } from '../third-party/h4-tap.js';
import { ensure_third_party, NOBLE_RUNNER } from '../third-party/install.js';

const haveSocat = spawnSync('socat', ['-V'], { encoding: 'utf8' }).status === 0;

type NobleEvent = { ev: string; [k: string]: unknown };

/** noble in a child process, driven by JSON lines (test/third-party/noble-runner.cjs). */
class Noble {
  readonly events: NobleEvent[] = [];
  stderr = '';
  readonly child: ChildProcess;
  constructor(tty: string) {
    this.child = spawn(process.execPath, [NOBLE_RUNNER, tty, '115200'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, DEBUG: '' },
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as NobleEvent);
      } catch {
        this.events.push({ ev: 'stdout', line });
      }
    });
    this.child.stderr!.on('data', (d) => (this.stderr += d));
  }
  send(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(JSON.stringify(cmd) + '\n');
  }
  find(pred: (e: NobleEvent) => boolean): NobleEvent | undefined {
    return this.events.find(pred);
  }
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ cmd: 'exit' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(t);
  }
}

/** Command opcode of a Command Complete (0x0e) or Command Status (0x0f) event, else -1. */
function answered_opcode(e: Uint8Array): number {
  if (e[0] === 0x0e) return little_endian_read_16(e, 3);
  if (e[0] === 0x0f) return little_endian_read_16(e, 4);
  return -1;
}

async function scenario(baud: number): Promise<void> {
  assert.ok(haveSocat, 'socat is installed');
  const tp = ensure_third_party();
  assert.ok(!('unavailable' in tp), 'unavailable' in tp ? tp.unavailable : '');

  const dir = mkdtempSync(join(tmpdir(), 'bthost-3p-noble-'));
  const sock = join(dir, 'radio.sock');
  const tapSock = join(dir, 'tap.sock');
  const tapLog = join(dir, 'noble.btsnoop');
  const stackLog = join(dir, 'bthost.btsnoop');
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const link = new RadioLink(loop, { seed: 'third-party' });
  const server = await serve_controllers(link, `unix:${sock}`, baud ? { baud } : {});
  const dump = new HciDump();
  assert.is(dump.open(tapLog, 'btsnoop'), 0);
  const tap = await H4Tap.listen(tapSock, sock, dump);

  const ptys: PtyPair[] = [];
  const ptyTo = async (name: string, target: string): Promise<string> => {
    const d = join(dir, name);
    mkdirSync(d);
    const tty = join(d, 'a');
    ptys.push(withKill(d, tty, '', await spawnSocat(d, [`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${target}`])));
    return tty;
  };

  let noble: Noble | null = null;
  let stack: Stack | null = null;
  const events: Uint8Array[] = [];
  const trace = (): string =>
    [
      `noble events: ${JSON.stringify(noble?.events ?? [])}`,
      `noble stderr: ${noble?.stderr.slice(-2000) ?? ''}`,
      'tap (last 40):',
      ...tap.packets.slice(-40).map((p) => `  ${p.dir === 'out' ? '>' : '<'} ${p.type} ${hex(p.bytes)}`),
    ].join('\n');
  const wait = async (pred: () => boolean, ms: number, what: string): Promise<void> => {
    try {
      await until(() => pred() || (noble?.exited ?? false), ms, what);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${trace()}`);
    }
    if (!pred()) throw new Error(`noble exited (${noble?.child.exitCode}) while waiting for ${what}\n${trace()}`);
  };

  try {
    // ---- bthost on pty 2: an LE peripheral advertising its name
    const stackTty = await ptyTo('bthost', sock);
    const config = hci_transport_config_uart(stackTty, { flowcontrol: false });
    const bt = new Stack({
      transport: new SerialPortTransport(config, { modem_lines: null }),
      run_loop: loop,
      transport_config: config,
    });
    stack = bt;
    assert.is(bt.open_packet_log(stackLog, 'btsnoop'), 0);
    bt.hci.hci_add_event_handler({ callback: (_t, _c, p, n) => events.push(p.slice(0, n)) });
    assert.is(bt.hci.hci_power_control(C.HCI_POWER_ON), 0);
    await until(() => bt.hci.hci_get_state() === C.HCI_STATE_WORKING, 5000, 'bthost WORKING');
    const bthostAddr = bt.gap.gap_local_bd_addr();
    const name = 'bthost-3p';
    // AD: Flags (LE General Discoverable, BR/EDR not supported), Complete Local Name
    const ad = Uint8Array.from([0x02, 0x01, 0x06, 1 + name.length, 0x09, ...new TextEncoder().encode(name)]);
    bt.gap.gap_advertisements_set_params(0x0030, 0x0030, 0x00, 0, new Uint8Array(6), 0x07, 0);
    bt.gap.gap_advertisements_set_data(ad.length, ad);
    bt.gap.gap_advertisements_enable(1);

    // ---- noble on pty 1, through the wiretap
    const nobleTty = await ptyTo('noble', tapSock);
    noble = new Noble(nobleTty);
    const n = noble;
    await wait(() => !!n.find((e) => e.ev === 'state' && e.state === 'poweredOn'), 8000, 'noble poweredOn');
    const nobleCtl = server.controllers.find((c) => bd_addr_to_str(c.bd_addr) !== bd_addr_to_str(bthostAddr));
    assert.ok(nobleCtl, 'a second controller serves noble');
    // noble reports its address when it has read it, which may come just after poweredOn
    await wait(() => !!n.find((e) => e.ev === 'address'), 4000, "noble's address");
    const addrEv = n.find((e) => e.ev === 'address');
    assert.is(addrEv?.address, bd_addr_to_str(nobleCtl!.bd_addr).toLowerCase(), "noble read its controller's BD_ADDR");
    assert.equal(tap.framing_errors, [], 'clean H4 both ways during boot');

    // ---- scan: noble finds the bthost device, address and local name
    n.send({ cmd: 'scan' });
    const want = bd_addr_to_str(bthostAddr).toLowerCase();
    const found = (): NobleEvent | undefined => n.find((e) => e.ev === 'discover' && e.address === want && e.localName === name);
    await wait(() => !!found(), 5000, 'noble discovers the bthost device by name');
    assert.is(found()!.addressType, 'public');
    assert.is(found()!.connectable, true);
    // the advertising report noble got carries bthost's AD octet for octet (Vol 4 Part E 7.7.65.2)
    const reports = tap.of('in', 0x04).filter((e) => e[0] === 0x3e && e[2] === 0x02);
    const adv = reports.find(
      (e) => e[3] === 1 && e[4] === 0x00 && hex(e.subarray(6, 12)) === hex(reverse_bd_addr(bthostAddr, 0)),
    );
    assert.ok(adv, `an ADV_IND report from ${want}\n${trace()}`);
    assert.is(adv![1], adv!.length - 2, 'parameter length');
    assert.is(adv![5], 0x00, 'public address type');
    assert.is(adv![12], ad.length);
    assert.is(hex(adv!.subarray(13, 13 + ad.length)), hex(ad));
    assert.is(adv!.length, 13 + ad.length + 1, 'RSSI is the last octet');
    n.send({ cmd: 'stopScan' });
    await wait(() => !!n.find((e) => e.ev === 'scanStop'), 3000, 'scan stopped');

    // ---- connect: LE Connection Complete on both sides
    n.send({ cmd: 'connect', address: want });
    const leUp = (): Uint8Array | undefined =>
      events.find((e) => e[0] === C.HCI_EVENT_LE_META && e[2] === C.HCI_SUBEVENT_LE_CONNECTION_COMPLETE);
    await wait(() => !!n.find((e) => e.ev === 'connect') && !!leUp(), 5000, 'LE link up on both sides');
    assert.is(n.find((e) => e.ev === 'connect')!.error, null, 'noble connected without error');
    const up = leUp()!;
    assert.is(up[3], 0x00, 'bthost: status success');
    assert.is(up[6], 0x01, 'bthost: role peripheral');
    assert.is(up[7], 0x00, 'bthost: peer address type public');
    assert.is(hex(up.subarray(8, 14)), hex(reverse_bd_addr(nobleCtl!.bd_addr, 0)), "bthost: peer is noble's controller");
    const bthostHandle = little_endian_read_16(up, 4) & 0x0fff;
    // noble's side: Command Status for LE Create Connection, then Connection Complete with what it asked for
    const create = tap.of('out', 0x01).find((c) => little_endian_read_16(c, 0) === 0x200d);
    assert.ok(create, 'noble sent LE Create Connection');
    assert.is(create![2], 25);
    const nc = tap.of('in', 0x04).find((e) => e[0] === 0x3e && (e[2] === 0x01 || e[2] === 0x0a));
    assert.ok(nc, 'noble got LE (Enhanced) Connection Complete');
    assert.is(nc![3], 0x00, 'noble: status success');
    assert.is(nc![6], 0x00, 'noble: role central');
    assert.is(hex(nc!.subarray(8, 14)), hex(reverse_bd_addr(bthostAddr, 0)), 'noble: peer address');
    const off = nc![2] === 0x0a ? 26 : 14; // enhanced: two RPAs precede the parameters
    const interval = little_endian_read_16(nc!, off);
    const [imin, imax] = [little_endian_read_16(create!, 3 + 13), little_endian_read_16(create!, 3 + 15)];
    assert.ok(
      interval >= imin && interval <= imax,
      `connection interval ${interval} within [${imin}, ${imax}] (Vol 4 Part E 7.8.12)`,
    );
    assert.is(little_endian_read_16(nc!, off + 2), little_endian_read_16(create!, 3 + 17), 'latency as requested');
    assert.is(little_endian_read_16(nc!, off + 4), little_endian_read_16(create!, 3 + 19), 'supervision timeout as requested');
    const nobleHandle = little_endian_read_16(nc!, 4) & 0x0fff;

    // ---- disconnect from noble: Disconnection Complete on both sides (Vol 4 Part E 7.1.6 / 7.7.5)
    n.send({ cmd: 'disconnect', address: want });
    const down = (): Uint8Array | undefined => events.find((e) => e[0] === C.HCI_EVENT_DISCONNECTION_COMPLETE);
    await wait(() => !!n.find((e) => e.ev === 'disconnect') && !!down(), 5000, 'LE link down on both sides');
    const disc = tap.of('out', 0x01).find((c) => little_endian_read_16(c, 0) === 0x0406);
    assert.ok(disc, 'noble sent Disconnect');
    assert.is(little_endian_read_16(disc!, 3), nobleHandle);
    assert.is(disc![5], 0x13, 'noble: Remote User Terminated Connection');
    assert.is(
      hex(down()!),
      `05 04 00 ${hex(Uint8Array.of(bthostHandle & 0xff, bthostHandle >> 8))} 13`,
      'bthost: reason 0x13 from the peer',
    );
    const nd = tap.of('in', 0x04).find((e) => e[0] === 0x05);
    assert.ok(nd);
    assert.is(
      hex(nd!),
      `05 04 00 ${hex(Uint8Array.of(nobleHandle & 0xff, nobleHandle >> 8))} 16`,
      'noble: Connection Terminated By Local Host',
    );
    assert.is(n.find((e) => e.ev === 'disconnect')!.reason, 0x16);

    // ---- the whole stream: clean H4, every command answered once, in order, with its opcode
    assert.equal(tap.framing_errors, []);
    const cmds = tap.of('out', 0x01).map((c) => little_endian_read_16(c, 0));
    const answers = tap
      .of('in', 0x04)
      .map(answered_opcode)
      .filter((o) => o >= 0);
    assert.equal(answers, cmds, 'one Command Complete/Status per command, in order');
    for (const e of tap.of('in', 0x04).filter((x) => x[0] === 0x0e || x[0] === 0x0f)) {
      assert.is(e[e[0] === 0x0e ? 2 : 3], 1, `Num_HCI_Command_Packets in ${hex(e)}`);
    }
    const unknown = tap.of('in', 0x04).filter((e) => (e[0] === 0x0e && e[5] === 0x01) || (e[0] === 0x0f && e[2] === 0x01));
    assert.equal(
      unknown.map((e) => hex(e)),
      [],
      'no command noble sent is unknown to the controller',
    );

    await n.stop();
    // BTHOST_3P_TRACE=1: print noble's whole HCI conversation (docs/third-party-hosts.md)
    if (process.env.BTHOST_3P_TRACE)
      console.log(tap.packets.map((p) => `${p.dir === 'out' ? '>' : '<'} ${p.type} ${hex(p.bytes)}`).join('\n'));
    bt.hci.hci_power_control(C.HCI_POWER_OFF);
    await until(() => bt.hci.hci_get_state() === C.HCI_STATE_OFF, 5000, 'bthost OFF');
    assert.ok(bt.pools.all_free(), 'bthost pools full');
    bt.close_packet_log();
    dump.close();
    const report = assertCleanCapture(tapLog);
    assert.is(report.frames, tap.packets.length, 'every packet noble exchanged is in the capture');
    assertCleanCapture(stackLog);
  } finally {
    await noble?.stop();
    stack?.hci.hci_close();
    for (const p of ptys) await p.kill();
    await tap.close();
    await server.close();
    dump.close();
    loop.trigger_exit();
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}

test('noble (@stoprocent/noble, UART driver) boots on a socat pty, scans, connects to and disconnects from a bthost peripheral', async () => {
  await scenario(0);
});

test('the same with the controller paced like a 115200 baud UART (serve_controllers --baud 115200)', async () => {
  await scenario(115200);
});

test.run();
