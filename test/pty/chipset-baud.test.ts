/**
 * The UART speed switch as HCI drives it, over a socat pty: Reset at baudrate_init, the BCM
 * chipset's Update UART Baud Rate command, its Command Complete, then transport.set_baudrate.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { fromHex, hex } from '../../src/core/bytes.js';
import { chipset_bcm, hci_transport_config_uart } from '../../src/chipset/index.js';
import type { TransportEvent } from '../../src/hci/transport.js';
import { SerialPortTransport } from '../../ports/serialport/transport.js';
import { PeerPort, ptyPair, sttySpeed, until } from './pty-helpers.js';

test('Reset, BCM baud-rate command, Command Complete, port switches to baudrate_main', async () => {
  const pair = await ptyPair();
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const bcm = chipset_bcm();
  const config = hci_transport_config_uart(pair.a, { baudrate_main: 921600 }, bcm);
  bcm.init!(config);
  const t = new SerialPortTransport(config, { modem_lines: null });
  const events: TransportEvent[] = [];
  const packets: string[] = [];
  t.init(loop);
  t.register_event_handler((e) => events.push(e));
  t.register_packet_handler((type, p, size) => packets.push(`${type}: ${hex(p, size)}`));
  const peer = new PeerPort(pair.b);
  try {
    await peer.open();
    t.open();
    await until(() => events.some((e) => e.type === 'opened'), 2000, 'opened');
    assert.is(sttySpeed(pair.a), 115200, 'opens at baudrate_init (BCM default)');

    t.send_packet(1, fromHex('03 0c 00'), 3);
    await until(() => peer.received.length >= 4, 2000, 'reset');
    await peer.write(fromHex('04 0e 04 01 03 0c 00'));
    await until(() => packets.length === 1, 2000, 'reset complete');

    const cmd = new Uint8Array(259);
    const n = bcm.set_baudrate_command!(config.baudrate_main, cmd);
    assert.is(t.send_packet(1, cmd, n), 0);
    await until(() => peer.received.length >= 4 + 10, 2000, 'baud command');
    assert.is(hex(Uint8Array.from(peer.received.slice(4))), '01 18 fc 06 00 00 00 10 0e 00');
    await peer.write(fromHex('04 0e 04 01 18 fc 00'));
    await until(() => packets.length === 2, 2000, 'baud command complete');
    assert.is(packets[1], '4: 0e 04 01 18 fc 00');

    assert.is(t.set_baudrate(config.baudrate_main), 0);
    t.send_packet(1, fromHex('01 10 00'), 3); // Read Local Version Information at the new speed
    await until(() => peer.received.length >= 14 + 4, 2000, 'command after switch');
    assert.is(sttySpeed(pair.a), 921600);
    assert.is(hex(Uint8Array.from(peer.received.slice(14))), '01 01 10 00');
    assert.equal(
      events.map((e) => e.type),
      ['opened'],
    );
  } finally {
    t.close();
    await until(() => events.some((e) => e.type === 'closed'), 2000, 'closed').catch(() => {});
    await peer.close();
    await pair.cleanup();
  }
});

test.run();
