/**
 * The boot over real bytes: a Stack on SerialPortTransport, a socat pty linked to the virtual
 * controller's Unix socket (serve_controllers), on the Node run loop in real time.
 * Power on, inquiry through the pty (a second, in-process stack is the device to find),
 * a Hardware Error from the controller (OFF, then a clean power on), and a closed port (socat
 * killed: transport failure, OFF, pools full; a new link and power on works again).
 * The packet log decodes cleanly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { bd_addr_cmp } from '../../src/core/bytes.js';
import { RadioLink } from '../../src/controller/index.js';
import { serve_controllers } from '../../ports/virtual/server.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { SerialPortTransport } from '../../ports/serialport/transport.js';
import { hci_transport_config_uart } from '../../src/chipset/index.js';
import { Stack } from '../../src/stack.js';
import * as C from '../../src/codes/v1.4.js';
import { spawnSocat, until, withKill } from '../pty/pty-helpers.js';
import { assertCleanCapture } from '../helpers/capture.js';

const haveSocat = spawnSync('socat', ['-V'], { encoding: 'utf8' }).status === 0;

test('boot, inquiry, Hardware Error and a closed port over socat pty + serialport', async () => {
  assert.ok(haveSocat, 'socat is installed');
  const dir = mkdtempSync(join(tmpdir(), 'bthost-hci-pty-'));
  const sock = join(dir, 'controller.sock');
  const tty = join(dir, 'a');
  const log = join(dir, 'pty.pklg');
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const link = new RadioLink(loop);
  const server = await serve_controllers(link, `unix:${sock}`);
  const linkTty = async () =>
    withKill(dir, tty, '', await spawnSocat(dir, [`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${sock}`]));
  let pty = await linkTty();

  // the device to find: an in-process stack on the same radio
  const peerCtl = link.create_controller({ name: 'peer' });
  const peer = new Stack({ transport: new VirtualTransport(peerCtl), run_loop: loop });
  peer.gap.gap_set_local_name('Peer');
  peer.gap.gap_discoverable_control(1);
  peer.hci.hci_power_control(C.HCI_POWER_ON);

  const config = hci_transport_config_uart(tty, { flowcontrol: false });
  const transport = new SerialPortTransport(config, { modem_lines: null, presence_check_ms: 50 });
  const stack = new Stack({ transport, run_loop: loop, transport_config: config });
  assert.is(stack.open_packet_log(log, 'pklg'), 0);
  const events: Uint8Array[] = [];
  stack.hci.hci_add_event_handler({ callback: (_t, _c, p, n) => events.push(p.slice(0, n)) });
  const states = () => events.filter((e) => e[0] === C.BTSTACK_EVENT_STATE).map((e) => e[2]);
  const state = () => stack.hci.hci_get_state();
  try {
    // ---- power on over the pty
    assert.is(stack.hci.hci_power_control(C.HCI_POWER_ON), 0);
    await until(() => state() === C.HCI_STATE_WORKING, 5000, 'WORKING over the pty');
    assert.equal(stack.gap.gap_local_bd_addr(), server.controllers[0]!.bd_addr);

    // ---- inquiry: GAP results come through real H4 bytes
    assert.is(stack.gap.gap_inquiry_start(1), 0);
    await until(() => events.some((e) => e[0] === C.GAP_EVENT_INQUIRY_COMPLETE), 5000, 'inquiry complete');
    const found = events
      .filter((e) => e[0] === C.GAP_EVENT_INQUIRY_RESULT)
      .some((e) => bd_addr_cmp(C.gap_event_inquiry_result_get_bd_addr(e), peerCtl.bd_addr) === 0);
    assert.ok(found, 'the peer was found');

    // ---- Hardware Error from the controller: OFF, transport reset, clean power on
    events.length = 0;
    server.controllers[0]!.faults.hardware_error(0x33);
    await until(
      () => states().includes(C.HCI_STATE_OFF) && state() === C.HCI_STATE_WORKING,
      5000,
      'power on after Hardware Error',
    );
    assert.ok(events.some((e) => e[0] === C.HCI_EVENT_HARDWARE_ERROR && e[2] === 0x33));
    assert.equal(states(), [C.HCI_STATE_OFF, C.HCI_STATE_INITIALIZING, C.HCI_STATE_WORKING]);

    // ---- the port goes away (socat killed): transport failure, OFF, pools full
    events.length = 0;
    await pty.kill();
    await until(() => state() === C.HCI_STATE_OFF, 5000, 'OFF after the port vanished');
    assert.ok(stack.pools.all_free(), 'pools full');
    assert.equal(states(), [C.HCI_STATE_OFF]);

    // ---- a new link: power on works again
    pty = await linkTty();
    await until(() => existsSync(tty), 2000, 'new pty');
    events.length = 0;
    assert.is(stack.hci.hci_power_control(C.HCI_POWER_ON), 0);
    await until(() => state() === C.HCI_STATE_WORKING, 5000, 'WORKING again');

    // ---- power off
    stack.hci.hci_power_control(C.HCI_POWER_OFF);
    await until(() => state() === C.HCI_STATE_OFF, 5000, 'OFF');
    assert.ok(stack.pools.all_free());
    stack.close_packet_log();
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
