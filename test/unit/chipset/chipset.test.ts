import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex, sscanf_bd_addr } from '../../../src/core/bytes.js';
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

test('bcm: without a .hcd no init script (ROM firmware); keeps its config per instance', () => {
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
  assert.is(a.restart_delay_ms!(), 0);
});

test('bcm: with a .hcd: Download Minidriver, every record as it is, Launch RAM; restart 250 ms; again after init', () => {
  const progress: string[] = [];
  const a = chipset_bcm({
    on_progress: (p) => progress.push(`${p.records_sent}/${p.records_total} ${p.bytes_sent}/${p.bytes_total} ${p.done}`),
  });
  // Write RAM 0x00085000 = 11 22 33, Write RAM 0x00085003 = 44, Launch RAM 0xFFFFFFFF
  const hcd = fromHex('4c fc 07 00 50 08 00 11 22 33  4c fc 05 03 50 08 00 44  4e fc 04 ff ff ff ff');
  assert.is(a.set_hcd(hcd), null);
  assert.ok(a.has_patch);
  a.init!(hci_transport_config_uart('/dev/ttyAMA0', {}, a));
  const buf = new Uint8Array(259);
  const out: string[] = [];
  for (let n = a.next_command!(buf); n > 0; n = a.next_command!(buf)) out.push(hex(buf.subarray(0, n)));
  assert.equal(out, ['2e fc 00', '4c fc 07 00 50 08 00 11 22 33', '4c fc 05 03 50 08 00 44', '4e fc 04 ff ff ff ff']);
  assert.equal(progress, ['1/3 3/4 false', '2/3 4/4 false', '3/3 4/4 true']);
  assert.is(a.restart_delay_ms!(), 250);
  a.init!(undefined); // the next power on downloads again
  assert.is(a.restart_delay_ms!(), 0);
  assert.is(a.next_command!(buf), 3);
  // a bad file is refused with the reader's reason and leaves no patch
  assert.match(a.set_hcd(fromHex('4c fc 07 00 50'))!, /record 0xfc4c at offset 0/);
  assert.not.ok(a.has_patch);
  assert.is(a.next_command!(buf), 0);
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
