/**
 * Issue 16 item 5, done-when "H5 on a pty (also with 1 % of bytes lost or corrupted)": the stack
 * under test runs H5SerialPortTransport (ports/serialport/h5-transport.ts) on a socat pty whose
 * other end is serve_controllers with `h5` (the virtual controller's side of the same H5Link).
 * Link establishment comes before HCI's Reset; then inquiry, an L2CAP and an RFCOMM channel with
 * 1 MiB each, every byte checked (test/e2e/transport-run.ts); the packet log decodes cleanly
 * (tshark, btmon; H5 itself is below the log, as H4 is).
 *
 * With line errors, 1 % of the bytes in both directions is lost or corrupted (seeded, so every
 * run damages the same bytes), in bursts of 8 bytes (0.125 % of the bytes start a burst). A frame
 * survives only if all its bytes do: a 1 KiB ACL frame almost never would (0.99^1030 = 3e-5 with
 * single-byte errors; 0.9987^1030 = 26 % with these bursts), so this controller announces
 * 128-byte ACL buffers (acl_size 128: frames of about 140 bytes, 84 % intact) and both links
 * retransmit after 40 ms instead of 250 ms (the pty is fast; a lost last frame waits for that
 * timer, the others are resent on the peer's pure ACK, H5Link's fast retransmission).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { serve_controllers, type ServeOptions } from '../../ports/virtual/server.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { H5SerialPortTransport } from '../../ports/serialport/h5-transport.js';
import { hci_transport_config_uart } from '../../src/chipset/index.js';
import { Stack } from '../../src/stack.js';
import * as C from '../../src/codes/v1.4.js';
import { spawnSocat, until, withKill } from '../pty/pty-helpers.js';
import { assertCleanCapture } from '../helpers/capture.js';
import { inquire_and_move } from './transport-run.js';

const haveSocat = spawnSync('socat', ['-V'], { encoding: 'utf8' }).status === 0;

interface Rig {
  loop: NodeRunLoop;
  stack: Stack;
  peer: Stack;
  peer_addr: ReturnType<RadioLink['create_controller']>['bd_addr'];
  transport: H5SerialPortTransport;
  server: Awaited<ReturnType<typeof serve_controllers>>;
  log: string;
  states: number[];
  lines: string[];
  close(): Promise<void>;
}

async function rig(name: string, serve: ServeOptions, retransmit_ms?: number): Promise<Rig> {
  assert.ok(haveSocat, 'socat is installed');
  const dir = mkdtempSync(join(tmpdir(), `bthost-h5-${name}-`));
  const sock = join(dir, 'controller.sock');
  const tty = join(dir, 'a');
  const log = join(dir, 'h5.btsnoop');
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const link = new RadioLink(loop, { seed: `h5 ${name}` });
  const server = await serve_controllers(link, `unix:${sock}`, serve);
  const pty = withKill(dir, tty, '', await spawnSocat(dir, [`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${sock}`]));
  const peerCtl = link.create_controller({ name: 'peer' });
  const peer = new Stack({ transport: new VirtualTransport(peerCtl), run_loop: loop });
  peer.gap.gap_discoverable_control(1);
  peer.hci.hci_power_control(C.HCI_POWER_ON);
  const config = hci_transport_config_uart(tty, { baudrate_init: 115200, flowcontrol: false });
  const transport = new H5SerialPortTransport(config, retransmit_ms ? { retransmit_ms } : {});
  const lines: string[] = []; // the transport's one-line reports
  const register = transport.register_event_handler.bind(transport);
  transport.register_event_handler = (h) =>
    register((ev) => {
      if (ev.type === 'open-failed' || ev.type === 'reset' || ev.type === 'failed') lines.push(`${ev.type}: ${ev.error}`);
      h(ev);
    });
  const stack = new Stack({ transport, run_loop: loop, transport_config: config });
  assert.is(stack.open_packet_log(log, 'btsnoop'), 0);
  const states: number[] = [];
  stack.hci.hci_add_event_handler({
    callback: (_t, _c, p) => {
      if (p[0] === C.BTSTACK_EVENT_STATE) states.push(p[2]!);
    },
  });
  return {
    loop,
    stack,
    peer,
    peer_addr: peerCtl.bd_addr,
    transport,
    server,
    log,
    states,
    lines,
    close: async () => {
      stack.hci.hci_close();
      peer.hci.hci_close();
      await pty.kill();
      await server.close();
      loop.trigger_exit();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function working(r: Rig): Promise<void> {
  await until(() => r.stack.hci.hci_get_state() === C.HCI_STATE_WORKING, 20_000, 'WORKING over H5');
}

test('H5 on a pty: link first, then HCI init, inquiry, L2CAP and RFCOMM with 1 MiB each; capture clean', async () => {
  const r = await rig('clean', { h5: true });
  try {
    assert.is(r.stack.hci.hci_power_control(C.HCI_POWER_ON), 0);
    await working(r);
    const h5 = r.transport.h5.link;
    assert.equal(h5.config, { window: 4, oof: false, dic: true, version: 0 }, 'both offered window 4 with the CRC');
    await inquire_and_move(r.stack, r.peer, r.peer_addr, 1 << 20);
    assert.is(h5.stats.frames_dropped, 0, 'a clean line drops nothing');
    r.stack.hci.hci_power_control(C.HCI_POWER_OFF);
    await until(() => r.stack.hci.hci_get_state() === C.HCI_STATE_OFF, 5000, 'OFF');
    r.stack.close_packet_log();
    assertCleanCapture(r.log);
  } finally {
    await r.close();
  }
});

test('H5 with 1 % of the bytes lost or corrupted both ways (seeded): 1 MiB over L2CAP and RFCOMM intact', async () => {
  const r = await rig(
    'errors',
    { h5: { retransmit_ms: 40, line_errors: { rate: 0.01, burst: 8, seed: 7 } }, controller: { acl_size: 128 } },
    40,
  );
  try {
    assert.is(r.stack.hci.hci_power_control(C.HCI_POWER_ON), 0);
    await working(r);
    await inquire_and_move(r.stack, r.peer, r.peer_addr, 1 << 20, 120_000);
    const s = r.transport.h5.link.stats;
    const e = r.server.sessions.values().next().value!.h5!;
    const damaged = e.errors!.dropped + e.errors!.corrupted;
    assert.ok(damaged > 20_000, `bytes damaged: ${damaged}`);
    assert.ok(s.frames_dropped > 100, `the host dropped damaged frames (${s.frames_dropped})`);
    assert.ok(e.link.stats.frames_dropped > 100, `the controller dropped damaged frames (${e.link.stats.frames_dropped})`);
    assert.ok(s.retransmits > 0 && e.link.stats.retransmits > 0, 'both sides retransmitted');
    r.stack.hci.hci_power_control(C.HCI_POWER_OFF);
    await until(() => r.stack.hci.hci_get_state() === C.HCI_STATE_OFF, 5000, 'OFF');
    r.stack.close_packet_log();
    assertCleanCapture(r.log);
  } finally {
    await r.close();
  }
});

test('the controller restarts its H5 link (SYNC while active): the stack goes OFF and comes back WORKING', async () => {
  const r = await rig('reset', { h5: true });
  try {
    assert.is(r.stack.hci.hci_power_control(C.HCI_POWER_ON), 0);
    await working(r);
    const before = r.states.length;
    [...r.server.sessions][0]!.h5!.restart();
    await until(() => r.states.slice(before).includes(C.HCI_STATE_WORKING), 20_000, 'WORKING again');
    assert.equal(r.states.slice(before), [C.HCI_STATE_OFF, C.HCI_STATE_INITIALIZING, C.HCI_STATE_WORKING]);
    assert.is(r.transport.h5.link.stats.resets, 1);
    assert.equal(r.lines, [
      `reset: the controller on ${r.transport.config.device_name} at 115200 baud restarted (H5 SYNC on an active link)`,
    ]);
    await inquire_and_move(r.stack, r.peer, r.peer_addr, 4096);
  } finally {
    await r.close();
  }
});

test('no H5 controller on the line (an H4 one): open-failed with one line, POWERON_FAILED, port closed', async () => {
  const r = await rig('h4', {});
  try {
    const failed: number[] = [];
    r.stack.hci.hci_add_event_handler({
      callback: (_t, _c, p) => {
        if (p[0] === C.BTSTACK_EVENT_POWERON_FAILED) failed.push(1);
      },
    });
    const t = r.transport;
    assert.is(r.stack.hci.hci_power_control(C.HCI_POWER_ON), 0);
    await until(() => failed.length > 0, 10_000, 'POWERON_FAILED');
    assert.equal(r.lines, [
      `open-failed: no H5 link with the controller on ${t.config.device_name} at 115200 baud: no answer to SYNC within 2 s (an H5 controller at this baud rate? for H4 leave out --h5)`,
    ]);
    assert.is(r.stack.hci.hci_get_state(), C.HCI_STATE_OFF);
    assert.not.ok(t.is_open);
  } finally {
    await r.close();
  }
});

test.run();
