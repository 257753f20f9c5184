/**
 * Issue 16 item 4, done-when "H4 after a simulated Broadcom patch download with a baud switch":
 * serve_controllers paces its line like a 115200-baud UART and poses as a BCM43430A1 (manufacturer
 * 0x000F, LMP subversion 0x2209, `bcm` option); the stack under test opens a socat pty at 115200
 * with baudrate_main 3,000,000 and no --chipset. Read Local Version picks the BCM driver
 * (ports/chipset-auto.ts), which finds BCM43430A1.hcd (the btbcm name for 0x2209) in a directory
 * this test writes; the init sequence goes Reset, Read Local Version, Update UART Baud Rate,
 * Download Minidriver, Write RAM x N, Launch RAM, (250 ms), Reset at 115200, baud again, Read Local
 * Version (now 0x4209). Then inquiry, L2CAP and RFCOMM with 1 MiB each, every byte checked.
 * The packet log decodes cleanly (tshark, btmon).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hex } from '../../src/core/bytes.js';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { serve_controllers } from '../../ports/virtual/server.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { SerialPortTransport } from '../../ports/serialport/transport.js';
import { ChipsetAuto } from '../../ports/chipset-auto.js';
import { hci_transport_config_uart } from '../../src/chipset/index.js';
import { Stack } from '../../src/stack.js';
import * as C from '../../src/codes/v1.4.js';
import { spawnSocat, until, withKill } from '../pty/pty-helpers.js';
import { assertCleanCapture, readCapture } from '../helpers/capture.js';
import { inquire_and_move } from './transport-run.js';

const haveSocat = spawnSync('socat', ['-V'], { encoding: 'utf8' }).status === 0;

/** A .hcd written by hand: 40 Write RAM records of 200 bytes from 0x00085000, then Launch RAM 0xFFFFFFFF. */
function writeHcd(path: string): { records: number; bytes: number } {
  const parts: number[] = [];
  let addr = 0x00085000;
  for (let r = 0; r < 40; r++) {
    const data = Array.from({ length: 200 }, (_, i) => (r * 7 + i) & 0xff);
    parts.push(0x4c, 0xfc, 4 + data.length, addr & 0xff, (addr >> 8) & 0xff, (addr >> 16) & 0xff, addr >>> 24, ...data);
    addr += data.length;
  }
  parts.push(0x4e, 0xfc, 0x04, 0xff, 0xff, 0xff, 0xff);
  writeFileSync(path, Uint8Array.from(parts));
  return { records: 41, bytes: 40 * 200 };
}

test('BCM patch download with a baud switch over a paced socat pty, then inquiry, L2CAP and RFCOMM with 1 MiB each', async () => {
  assert.ok(haveSocat, 'socat is installed');
  const dir = mkdtempSync(join(tmpdir(), 'bthost-bcm-'));
  const fw = join(dir, 'brcm');
  mkdirSync(fw);
  writeHcd(join(fw, 'BCM43430A1.hcd'));
  const sock = join(dir, 'controller.sock');
  const tty = join(dir, 'a'); // spawnSocat waits for dir/a
  const log = join(dir, 'bcm.btsnoop');
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const link = new RadioLink(loop, { seed: 'bcm' });
  const server = await serve_controllers(link, `unix:${sock}`, {
    baud: 115200,
    controller: { manufacturer: 0x000f, lmp_subversion: 0x2209, name: 'BCM43430A1', bcm: { patched_lmp_subversion: 0x4209 } },
  });
  const pty = withKill(dir, tty, '', await spawnSocat(dir, [`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${sock}`]));

  const peerCtl = link.create_controller({ name: 'peer' });
  const peer = new Stack({ transport: new VirtualTransport(peerCtl), run_loop: loop });
  peer.gap.gap_discoverable_control(1);
  peer.hci.hci_power_control(C.HCI_POWER_ON);

  const config = hci_transport_config_uart(tty, { baudrate_init: 115200, baudrate_main: 3_000_000, flowcontrol: false });
  const transport = new SerialPortTransport(config, { modem_lines: null, presence_check_ms: 0 });
  const bauds: number[] = [];
  const set = transport.set_baudrate.bind(transport);
  transport.set_baudrate = (b: number) => (bauds.push(b), set(b));
  const stack = new Stack({ transport, run_loop: loop, transport_config: config });
  assert.is(stack.open_packet_log(log, 'btsnoop'), 0);
  const errors: string[] = [];
  const progress: boolean[] = [];
  const auto = new ChipsetAuto(stack.hci, {
    firmware_dirs: [join(dir, 'nothing-here'), fw],
    on_error: (m) => errors.push(m),
    on_progress: (p) => progress.push(p.done),
  });
  try {
    assert.is(stack.hci.hci_power_control(C.HCI_POWER_ON), 0);
    await until(() => stack.hci.hci_get_state() === C.HCI_STATE_WORKING || errors.length > 0, 20_000, 'WORKING after the patch');
    assert.equal(errors, []);
    const c = auto.choice!;
    assert.is(c.name, 'bcm');
    assert.is(c.how, 'detected');
    assert.is(c.firmware, join(fw, 'BCM43430A1.hcd'));
    assert.is(c.info!.lmp_subversion, 0x2209);
    assert.is(c.info_after_patch!.lmp_subversion, 0x4209, 'the patched chip reports its new subversion');
    assert.is(progress.length, 41);
    assert.ok(progress[40], 'Launch RAM reported done');
    assert.equal(bauds, [3_000_000, 115200, 3_000_000], 'main speed, back to 115200 for the Reset after Launch RAM, main again');
    const s = server.controllers[0]!.state.bcm;
    assert.equal([s.phase, s.records, s.bytes], ['launched', 40, 8000]);

    await inquire_and_move(stack, peer, peerCtl.bd_addr, 1 << 20);

    stack.hci.hci_power_control(C.HCI_POWER_OFF);
    await until(() => stack.hci.hci_get_state() === C.HCI_STATE_OFF, 5000, 'OFF');
    stack.close_packet_log();
    // the commands on the wire, in order, up to the second Read Local Version
    const cmds = readCapture(readFileSync(log))
      .records.filter((r) => r.packet_type === 0x01 && !r.incoming)
      .map((r) => hex(r.data.subarray(0, 2)));
    const head = cmds.slice(0, cmds.lastIndexOf('01 10', 50) + 1);
    const want = ['03 0c', '01 10', '18 fc', '2e fc', ...Array(40).fill('4c fc'), '4e fc', '03 0c', '18 fc', '01 10'];
    assert.equal(head, want);
    assertCleanCapture(log);
  } finally {
    stack.hci.hci_close();
    peer.hci.hci_close();
    await pty.kill();
    await server.close();
    loop.trigger_exit();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
