import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import {
  BTSTACK_UART_PARITY_OFF,
  HCI_TRANSPORT_CONFIG_UART,
  btstack_chipset_bcm_instance,
  btstack_chipset_zephyr_instance,
  chipset_bcm,
  chipset_zephyr,
  hci_transport_config_uart,
} from '../../../src/chipset/index.js';

// Expected bytes worked out by hand: opcode = OGF 0x3F << 10 | OCF, little endian; then the
// parameter length; multi-byte values little endian; BD_ADDR reversed on the wire.

test('bcm: Update UART Baud Rate 0xFC18 = 00 00 + rate (LE32)', () => {
  const bcm = chipset_bcm();
  const buf = new Uint8Array(64);
  assert.is(bcm.set_baudrate_command!(921600, buf), 9); // 921600 = 0x000E1000
  assert.is(hex(buf, 9), '18 fc 06 00 00 00 10 0e 00');
  assert.is(bcm.set_baudrate_command!(3000000, buf), 9); // 0x002DC6C0
  assert.is(hex(buf, 9), '18 fc 06 00 00 c0 c6 2d 00');
  assert.is(bcm.set_baudrate_command!(115200, buf), 9); // 0x0001C200
  assert.is(hex(buf, 9), '18 fc 06 00 00 00 c2 01 00');
});

test('bcm: Write BD_ADDR 0xFC01 with the address little endian', () => {
  const bcm = chipset_bcm();
  const buf = new Uint8Array(16);
  assert.is(bcm.set_bd_addr_command!(sscanf_bd_addr('00:1A:7D:DA:71:13')!, buf), 9);
  assert.is(hex(buf, 9), '01 fc 06 13 71 da 7d 1a 00');
});

test('bcm: no init script yet (patch download left out); keeps its config per instance', () => {
  const a = chipset_bcm();
  const b = btstack_chipset_bcm_instance();
  assert.is.not(a, b);
  assert.is(a.name, 'BCM');
  const cfg = hci_transport_config_uart('/dev/ttyUSB0', { baudrate_main: 921600 }, a);
  a.init!(cfg);
  assert.is(a.transport_config, cfg);
  assert.is(b.transport_config, undefined);
  assert.is(a.next_command!(new Uint8Array(259)), 0);
  assert.is(a.default_baudrate, 115200);
});

test('bcm: a too-small buffer or a bad rate writes nothing and returns 0', () => {
  const bcm = chipset_bcm();
  const small = new Uint8Array(8).fill(0xee);
  assert.is(bcm.set_baudrate_command!(921600, small), 0);
  assert.is(bcm.set_bd_addr_command!(sscanf_bd_addr('00:1A:7D:DA:71:13')!, small), 0);
  const buf = new Uint8Array(16);
  assert.is(bcm.set_baudrate_command!(0, buf), 0);
  assert.is(bcm.set_baudrate_command!(-9600, buf), 0);
  assert.is(bcm.set_baudrate_command!(1.5, buf), 0);
});

test('zephyr: no init, 1 Mbaud with flow control, no baud-rate command', () => {
  const z = chipset_zephyr();
  assert.is(z.name, 'Zephyr');
  z.init!(hci_transport_config_uart('/dev/ttyACM0', {}, z));
  assert.is(z.next_command!(new Uint8Array(259)), 0);
  assert.is(z.set_baudrate_command, undefined);
  assert.is(z.default_baudrate, 1_000_000);
  assert.is(z.default_flowcontrol, true);
  assert.is.not(btstack_chipset_zephyr_instance(), z);
});

test('zephyr: vendor Write BD_ADDR 0xFC06 with the address little endian', () => {
  const z = chipset_zephyr();
  const buf = new Uint8Array(16);
  assert.is(z.set_bd_addr_command!(sscanf_bd_addr('C0:12:34:56:78:9A')!, buf), 9);
  assert.is(hex(buf, 9), '06 fc 06 9a 78 56 34 12 c0');
  assert.is(z.set_bd_addr_command!(sscanf_bd_addr('C0:12:34:56:78:9A')!, new Uint8Array(4)), 0);
});

test('hci_transport_config_uart: BTstack defaults, chipset defaults, overrides', () => {
  assert.equal(hci_transport_config_uart('/dev/ttyUSB0'), {
    type: HCI_TRANSPORT_CONFIG_UART,
    baudrate_init: 115200,
    baudrate_main: 0,
    flowcontrol: true,
    device_name: '/dev/ttyUSB0',
    parity: BTSTACK_UART_PARITY_OFF,
  });
  const z = hci_transport_config_uart('/dev/ttyACM0', {}, chipset_zephyr());
  assert.is(z.baudrate_init, 1_000_000);
  const o = hci_transport_config_uart('/dev/ttyACM0', { baudrate_init: 460800, flowcontrol: false }, chipset_zephyr());
  assert.is(o.baudrate_init, 460800);
  assert.is(o.flowcontrol, false);
});

test.run();
