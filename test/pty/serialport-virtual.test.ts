/**
 * The serial transport against the virtual controller served on a Unix socket, through
 * `socat pty,raw,echo=0,link=P UNIX-CONNECT:SOCK` — as a user runs an example with `-u` against
 * `npx bthost controller --listen unix:SOCK`. Real time, bounded polls.
 */
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { bd_addr_to_str, fromHex, hex } from '../../src/core/bytes.js';
import { chipset_bcm, hci_transport_config_uart } from '../../src/chipset/index.js';
import type { TransportEvent } from '../../src/hci/transport.js';
import { HCI_POWER_OFF, HCI_POWER_ON, HCI_STATE_OFF, HCI_STATE_WORKING } from '../../src/codes/v1.4.js';
import { Stack } from '../../src/stack.js';
import { RadioLink } from '../../src/controller/index.js';
import { serve_controllers, type ControllerServer } from '../../ports/virtual/server.js';
import { SerialPortTransport } from '../../ports/serialport/transport.js';
import { spawnSocat, until, withKill, type PtyPair } from './pty-helpers.js';

interface Served {
  loop: NodeRunLoop;
  server: ControllerServer;
  pair: PtyPair;
  cleanup(): Promise<void>;
}

async function serveOverPty(baud?: number): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'bthost-vc-'));
  const sock = join(dir, 'ctrl.sock');
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const link = new RadioLink(loop, { seed: 'pty-test' });
  const server = await serve_controllers(link, `unix:${sock}`, baud ? { baud } : {});
  let pair: PtyPair | null = null;
  try {
    const a = join(dir, 'a');
    const socat = await spawnSocat(dir, [`pty,raw,echo=0,link=${a}`, `UNIX-CONNECT:${sock}`]);
    pair = withKill(dir, a, sock, socat);
  } catch (e) {
    await server.close();
    throw e;
  }
  const p = pair;
  return {
    loop,
    server,
    pair: p,
    async cleanup() {
      await p.kill();
      await server.close();
      await p.cleanup();
    },
  };
}

test('HCI Reset through socat pty -> virtual controller: Command Complete via the serial transport', async () => {
  const s = await serveOverPty();
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const t = new SerialPortTransport(hci_transport_config_uart(s.pair.a, { baudrate_init: 1_000_000 }));
  const events: TransportEvent[] = [];
  const packets: Array<{ type: number; bytes: Uint8Array }> = [];
  t.init(loop);
  t.register_event_handler((e) => events.push(e));
  t.register_packet_handler((type, p, size) => packets.push({ type, bytes: p.slice(0, size) }));
  try {
    t.open();
    await until(() => events.some((e) => e.type === 'opened'), 2000, 'opened');
    assert.is(t.send_packet(1, fromHex('03 0c 00'), 3), 0);
    await until(() => packets.length >= 1, 3000, 'command complete');
    const cc = packets[0]!;
    assert.is(cc.type, 4, 'HCI event');
    // Command Complete (0x0E), 4 parameter bytes: credits, opcode 0x0C03 LE, status Success
    assert.is(cc.bytes[0], 0x0e);
    assert.is(cc.bytes[1], 4);
    assert.ok(cc.bytes[2]! >= 1, 'at least one command credit');
    assert.is(hex(cc.bytes.subarray(3)), '03 0c 00');
    // Read BD_ADDR (0x1009): status + 6 bytes
    assert.is(t.send_packet(1, fromHex('09 10 00'), 3), 0);
    await until(() => packets.length >= 2, 3000, 'read bd_addr complete');
    const rb = packets[1]!.bytes;
    assert.is(hex(rb.subarray(0, 2)), '0e 0a');
    assert.is(hex(rb.subarray(3, 6)), '09 10 00');
    assert.not.ok(events.some((e) => e.type === 'framing-error' || e.type === 'failed'));
  } finally {
    t.close();
    await until(() => events.some((e) => e.type === 'closed'), 2000, 'closed').catch(() => {});
    await s.cleanup();
  }
});

test('a Stack boots to WORKING through the pty, switching 115200 -> 921600 with the BCM baud command, and powers off', async () => {
  const s = await serveOverPty(115200);
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const bcm = chipset_bcm();
  const config = hci_transport_config_uart(s.pair.a, { baudrate_main: 921600 }, bcm);
  const t = new SerialPortTransport(config);
  const stack = new Stack({ transport: t, run_loop: loop, chipset: bcm, transport_config: config });
  try {
    assert.is(stack.hci.hci_power_control(HCI_POWER_ON), 0);
    await until(() => stack.hci.hci_get_state() === HCI_STATE_WORKING, 5000, 'HCI_STATE_WORKING');
    assert.is(t.baudrate, 921600, 'port switched to baudrate_main');
    assert.is(t.framing_errors, 0);
    const addr = bd_addr_to_str(stack.gap.gap_local_bd_addr());
    assert.is(addr, bd_addr_to_str(s.server.controllers[0]!.bd_addr));
    stack.hci.hci_power_control(HCI_POWER_OFF);
    await until(() => stack.hci.hci_get_state() === HCI_STATE_OFF && !t.is_open, 3000, 'HCI_STATE_OFF and port closed');
  } finally {
    if (t.is_open) t.close();
    await s.cleanup();
  }
});

test('the pty vanishing takes the Stack to OFF; with the device back, power on works again', async () => {
  const s = await serveOverPty();
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const config = hci_transport_config_uart(s.pair.a, { baudrate_init: 1_000_000 });
  const t = new SerialPortTransport(config, { presence_check_ms: 50 });
  const stack = new Stack({ transport: t, run_loop: loop, transport_config: config });
  let again: PtyPair | null = null;
  try {
    stack.hci.hci_power_control(HCI_POWER_ON);
    await until(() => stack.hci.hci_get_state() === HCI_STATE_WORKING, 5000, 'WORKING');
    await s.pair.kill(); // device gone
    await until(() => stack.hci.hci_get_state() === HCI_STATE_OFF, 3000, 'OFF after the port vanished');
    assert.is(t.is_open, false);
    assert.ok(stack.pools.all_free(), 'pools back to full');
    // the device comes back at the same path (a new connection: a fresh controller)
    const sock = join(s.pair.dir, 'ctrl.sock');
    const socat = await spawnSocat(s.pair.dir, [`pty,raw,echo=0,link=${s.pair.a}`, `UNIX-CONNECT:${sock}`]);
    again = withKill(s.pair.dir, s.pair.a, sock, socat);
    stack.hci.hci_power_control(HCI_POWER_ON);
    await until(() => stack.hci.hci_get_state() === HCI_STATE_WORKING, 5000, 'WORKING again');
    assert.is(t.framing_errors, 0);
    stack.hci.hci_power_control(HCI_POWER_OFF);
    await until(() => stack.hci.hci_get_state() === HCI_STATE_OFF && !t.is_open, 3000, 'OFF');
  } finally {
    if (t.is_open) t.close();
    if (again) await again.kill();
    await s.cleanup();
  }
});

test.run();
