/**
 * The command set of one controller, byte for byte (Core spec Vol 4 Part E 7.x). Every vector
 * below is written out by hand from the spec's parameter tables.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex } from '../../../src/core/bytes.js';
import { HCI_COMMANDS } from '../../../src/hci/commands.js';
import { implemented_commands } from '../../../src/controller/controller.js';
import { SUPPORTED_COMMAND_BIT } from '../../../src/controller/defs.js';
import { bench, Host, le16, unmask, wire } from './bench.js';

const one = (opts = {}) => {
  const { loop, hosts, link } = bench(1, {}, [opts]);
  return { loop, h: hosts[0]!, link };
};

test('HCI_Reset -> Command Complete 0e 04 01 03 0c 00', () => {
  const { loop, h } = one();
  h.cmd('03 0c 00');
  assert.equal(h.events(), [], 'nothing delivered inside host_send');
  loop.run();
  assert.equal(h.take(), ['0e 04 01 03 0c 00']);
});

test('unknown opcode -> Command Complete with status 0x01 only', () => {
  const { loop, h } = one();
  h.cmd('99 fc 02 01 02'); // vendor OCF 0x099
  h.cmd('7f 0c 00'); // OGF 3 OCF 0x07F: not a command we implement
  loop.run();
  assert.equal(h.take(), ['0e 04 01 99 fc 01', '0e 04 01 7f 0c 01']);
});

test('length mismatch -> 0x12 Invalid HCI Command Parameters (Complete or Status)', () => {
  const { loop, h } = one();
  h.cmd('03 0c 01 00'); // Reset takes no parameters
  h.cmd('1a 0c 00'); // Write Scan Enable needs 1 byte
  h.cmd('01 04 04 33 8b 9e 08'); // Inquiry needs 5 bytes: Command Status
  h.cmd('1a 0c 02 03'); // length byte says 2, only 1 present
  h.cmd('06 04 03 01 00 13 00'); // Disconnect: length 3 but 4 bytes follow
  loop.run();
  assert.equal(h.take(), [
    '0e 04 01 03 0c 12',
    '0e 04 01 1a 0c 12',
    '0f 04 12 01 01 04',
    '0e 04 01 1a 0c 12',
    '0f 04 12 01 06 04',
  ]);
});

test('failed commands return full-length parameters with the handle or address echoed', () => {
  const { loop, h } = one();
  h.cmd('08 14 02 34 12'); // Read Encryption Key Size, handle 0x1234: unknown
  h.cmd('0b 04 16 06 05 04 03 02 01' + ' 00'.repeat(16)); // Link Key Request Reply for 01:02:03:04:05:06: no connection
  h.cmd('05 14 02 40 00'); // Read RSSI handle 0x0040
  loop.run();
  assert.equal(h.take(), ['0e 07 01 08 14 02 34 12 00', '0e 0a 01 0b 04 02 06 05 04 03 02 01', '0e 07 01 05 14 02 40 00 00']);
});

test('informational parameters', () => {
  const { loop, h } = one({ bd_addr: '00:1b:dc:07:32:a1' });
  h.cmd('01 10 00'); // Read Local Version Information
  h.cmd('09 10 00'); // Read BD_ADDR
  h.cmd('05 10 00'); // Read Buffer Size
  h.cmd('02 20 00'); // LE Read Buffer Size
  h.cmd('03 10 00'); // Read Local Supported Features
  h.cmd('03 20 00'); // LE Read Local Supported Features
  h.cmd('04 10 01 02'); // Read Local Extended Features page 2
  h.cmd('04 10 01 03'); // page 3 does not exist
  loop.run();
  assert.equal(h.take(), [
    // status, HCI version 5.0, revision 0x0001, LMP 5.0, manufacturer 0xFFFF, subversion 0x0001
    '0e 0c 01 01 10 00 09 01 00 09 ff ff 01 00',
    '0e 0a 01 09 10 00 a1 32 07 dc 1b 00',
    // ACL 1021 bytes, SCO 64, 8 ACL buffers, 8 SCO buffers
    '0e 0b 01 05 10 00 fd 03 40 08 00 08 00',
    // LE 251 bytes x 8
    '0e 07 01 02 20 00 fb 00 08',
    '0e 0c 01 03 10 00 bf 00 00 7e c0 01 5b 80',
    // LE features (Vol 6 Part B 4.6): bits 0 1 2 3 5 (encryption, connection parameters request,
    // extended reject, peripheral-initiated features exchange, data length extension), 8 (2M PHY),
    // 11 (Coded PHY)
    '0e 0c 01 03 20 00 6f 09 00 00 00 00 00 00',
    '0e 0e 01 04 10 00 02 02 00 01 00 00 00 00 00 00',
    '0e 0e 01 04 10 12 03 02 00 00 00 00 00 00 00 00',
  ]);
});

test('buffer options show in Read Buffer Size; LE buffers 0 means shared', () => {
  const { loop, h } = one({ acl_buffers: 3, acl_size: 339, le_buffers: 0 });
  h.cmd('05 10 00');
  h.cmd('02 20 00');
  loop.run();
  assert.equal(h.take(), ['0e 0b 01 05 10 00 53 01 40 03 00 08 00', '0e 07 01 02 20 00 00 00 00']);
});

test('host feature bits (extended features page 1) follow the host writes', () => {
  const { loop, h } = one();
  h.cmd('56 0c 01 01'); // Write Simple Pairing Mode on
  h.cmd('6d 0c 02 01 00'); // Write LE Host Supported
  h.cmd('7a 0c 01 01'); // Write Secure Connections Host Support
  h.cmd('04 10 01 01');
  h.cmd('56 0c 01 02'); // invalid mode
  loop.run();
  assert.equal(h.take(), [
    '0e 04 01 56 0c 00',
    '0e 04 01 6d 0c 00',
    '0e 04 01 7a 0c 00',
    '0e 0e 01 04 10 00 01 02 0b 00 00 00 00 00 00 00',
    '0e 04 01 56 0c 12',
  ]);
});

test('local name: default, write, read back (248 bytes, zero padded)', () => {
  const { loop, h } = one({ name: 'ctl' });
  h.cmd('14 0c 00');
  const name = new Uint8Array(248);
  name.set(new TextEncoder().encode('bthost demo'));
  h.cmd('13 0c f8 ' + Array.from(name, (b) => b.toString(16).padStart(2, '0')).join(' '));
  h.cmd('14 0c 00');
  loop.run();
  const ev = h.take();
  assert.is(ev.length, 3);
  assert.is(ev[0], '0e fc 01 14 0c 00 63 74 6c' + ' 00'.repeat(245));
  assert.is(ev[1], '0e 04 01 13 0c 00');
  assert.is(ev[2], '0e fc 01 14 0c 00 62 74 68 6f 73 74 20 64 65 6d 6f' + ' 00'.repeat(237));
});

test('parameter ranges: scan enable, scan activity, page timeout, inquiry mode, class of device', () => {
  const { loop, h } = one();
  h.cmd('1a 0c 01 04'); // scan enable 4: invalid
  h.cmd('1a 0c 01 03');
  h.cmd('19 0c 00'); // read back
  h.cmd('1c 0c 04 00 08 12 00'); // page scan activity 0x0800 / 0x0012
  h.cmd('1c 0c 04 12 00 13 00'); // window > interval
  h.cmd('18 0c 02 00 00'); // page timeout 0
  h.cmd('45 0c 01 03'); // inquiry mode 3
  h.cmd('24 0c 03 0c 02 5a'); // class of device 0x5a020c
  h.cmd('23 0c 00');
  loop.run();
  assert.equal(h.take(), [
    '0e 04 01 1a 0c 12',
    '0e 04 01 1a 0c 00',
    '0e 05 01 19 0c 00 03',
    '0e 04 01 1c 0c 00',
    '0e 04 01 1c 0c 12',
    '0e 04 01 18 0c 12',
    '0e 04 01 45 0c 12',
    '0e 04 01 24 0c 00',
    '0e 07 01 23 0c 00 0c 02 5a',
  ]);
});

test('read-back of settings; IAC LAPs; connection accept timeout; voice setting', () => {
  const { loop, h } = one();
  h.cmd('25 0c 00'); // Read Voice Setting
  h.cmd('38 0c 00'); // Read Number Of Supported IAC
  h.cmd('39 0c 00'); // Read Current IAC LAP
  h.cmd('3a 0c 07 02 00 8b 9e 33 8b 9e'); // LIAC + GIAC
  h.cmd('39 0c 00');
  h.cmd('3a 0c 04 01 00 00 00'); // LAP 0x000000: invalid
  h.cmd('3a 0c 0a 03 00 8b 9e 33 8b 9e 01 8b 9e'); // 3 IACs > 2 supported
  h.cmd('16 0c 02 00 7d'); // Write Connection Accept Timeout 0x7d00
  h.cmd('15 0c 00');
  h.cmd('17 0c 00'); // Read Page Timeout
  h.cmd('1b 0c 00'); // Read Page Scan Activity
  h.cmd('6c 0c 00'); // Read LE Host Support
  h.cmd('0e 08 00'); // Read Default Link Policy Settings
  h.cmd('26 0c 02 00 04'); // Write Voice Setting 0x0400: above 10 bits
  loop.run();
  assert.equal(h.take(), [
    '0e 06 01 25 0c 00 60 00',
    '0e 05 01 38 0c 00 02',
    '0e 08 01 39 0c 00 01 33 8b 9e',
    '0e 04 01 3a 0c 00',
    '0e 0b 01 39 0c 00 02 00 8b 9e 33 8b 9e',
    '0e 04 01 3a 0c 12',
    '0e 04 01 3a 0c 12',
    '0e 04 01 16 0c 00',
    '0e 06 01 15 0c 00 00 7d',
    '0e 06 01 17 0c 00 00 20',
    '0e 08 01 1b 0c 00 00 08 12 00',
    '0e 06 01 6c 0c 00 00 00',
    '0e 06 01 0e 08 00 00 00',
    '0e 04 01 26 0c 12',
  ]);
});

test('Host Number Of Completed Packets: no event when valid, Command Complete 0x12 when not', () => {
  const { loop, h } = one();
  h.cmd('35 0c 05 01 01 00 01 00'); // one handle: nothing comes back
  h.cmd('35 0c 04 02 01 00 01'); // two handles announced, three bytes follow
  h.cmd('35 0c 00'); // too short for the format
  loop.run();
  assert.equal(h.take(), ['0e 04 01 35 0c 12', '0e 04 01 35 0c 12']);
});

test('Set Event Filter validates the filter layout', () => {
  const { loop, h } = one();
  h.cmd('05 0c 01 00'); // clear all
  h.cmd('05 0c 03 02 00 02'); // connection setup, all devices, auto accept
  h.cmd('05 0c 02 02 00'); // missing auto-accept flag
  h.cmd('05 0c 08 01 02 06 05 04 03 02 01'); // inquiry filter by BD_ADDR
  h.cmd('05 0c 02 03 00'); // filter type 3
  loop.run();
  assert.equal(h.take(), [
    '0e 04 01 05 0c 00',
    '0e 04 01 05 0c 00',
    '0e 04 01 05 0c 12',
    '0e 04 01 05 0c 00',
    '0e 04 01 05 0c 12',
  ]);
});

test('Inquiry Cancel and LE Create Connection Cancel with nothing to cancel -> Command Disallowed', () => {
  const { loop, h } = one();
  h.cmd('02 04 00');
  h.cmd('0e 20 00');
  loop.run();
  assert.equal(h.take(), ['0e 04 01 02 04 0c', '0e 04 01 0e 20 0c']);
});

test('LE settings are disallowed while advertising / scanning', () => {
  const { loop, h } = one();
  // advertising parameters: 0x00a0..0x00a0, ADV_IND, public, peer public 0, channels 7, no filter
  h.cmd('06 20 0f a0 00 a0 00 00 00 00 00 00 00 00 00 00 07 00');
  h.cmd('0a 20 01 01'); // enable
  h.cmd('06 20 0f a0 00 a0 00 00 00 00 00 00 00 00 00 00 07 00');
  h.cmd('05 20 06 11 22 33 44 55 c6'); // set random address
  h.cmd('0a 20 01 00');
  h.cmd('05 20 06 11 22 33 44 55 c6');
  h.cmd('06 20 0f a0 00 a0 00 00 01 00 00 00 00 00 00 00 07 00'); // own address random
  h.cmd('0b 20 07 01 10 00 10 00 00 00'); // scan parameters: active
  h.cmd('0c 20 02 01 00'); // scan enable
  h.cmd('0b 20 07 01 10 00 10 00 00 00');
  h.cmd('0c 20 02 00 00');
  loop.run();
  assert.equal(h.take(), [
    '0e 04 01 06 20 00',
    '0e 04 01 0a 20 00',
    '0e 04 01 06 20 0c',
    '0e 04 01 05 20 0c',
    '0e 04 01 0a 20 00',
    '0e 04 01 05 20 00',
    '0e 04 01 06 20 00',
    '0e 04 01 0b 20 00',
    '0e 04 01 0c 20 00',
    '0e 04 01 0b 20 0c',
    '0e 04 01 0c 20 00',
  ]);
});

test('advertising with a random own address and no random address set -> 0x12', () => {
  const { loop, h } = one();
  h.cmd('06 20 0f a0 00 a0 00 00 01 00 00 00 00 00 00 00 07 00');
  h.cmd('0a 20 01 01');
  h.cmd('08 20 20 20' + ' 00'.repeat(31)); // data length 32 > 31
  loop.run();
  assert.equal(h.take(), ['0e 04 01 06 20 00', '0e 04 01 0a 20 12', '0e 04 01 08 20 12']);
});

test('LE Encrypt computes AES-128 (FIPS-197 C.1 vector, HCI byte order)', () => {
  const { loop, h } = one();
  // key 000102..0f and plaintext 00112233..ff, sent least significant octet first
  h.cmd('17 20 20 0f 0e 0d 0c 0b 0a 09 08 07 06 05 04 03 02 01 00 ff ee dd cc bb aa 99 88 77 66 55 44 33 22 11 00');
  loop.run();
  // ciphertext 69c4e0d86a7b0430d8cdb78070b4c55a, reversed
  assert.equal(h.take(), ['0e 14 01 17 20 00 5a c5 b4 70 80 b7 cd d8 30 04 7b 6a d8 e0 c4 69']);
});

test('LE Rand returns 8 random bytes', () => {
  const { loop, h } = one();
  h.cmd('18 20 00');
  h.cmd('18 20 00');
  loop.run();
  const ev = h.take();
  assert.is(ev.length, 2);
  for (const e of ev) assert.ok(e.startsWith('0e 0c 01 18 20 00 '));
  assert.is.not(ev[0], ev[1]);
});

test('Supported_Commands matches exactly the commands implemented', () => {
  const { loop, h } = one();
  h.cmd('02 10 00');
  loop.run();
  const ev = fromHex(h.take()[0]!);
  const bitmap = ev.subarray(6, 70);
  assert.is(bitmap.length, 64);
  const implemented = new Set(implemented_commands());
  const set: number[] = [];
  for (let i = 0; i < 64 * 8; i++) if (bitmap[i >> 3]! & (1 << (i & 7))) set.push(i);
  const expected = [...SUPPORTED_COMMAND_BIT.entries()]
    .filter(([cmd]) => implemented.has(cmd))
    .map(([, bit]) => bit)
    .sort((a, b) => a - b);
  assert.equal(set, expected);
  // spot checks from the spec table: Reset = octet 5 bit 7, LE Rand = octet 27 bit 7,
  // Read Encryption Key Size = octet 20 bit 4, Write Secure Connections Host Support = octet 32 bit 3
  assert.ok(bitmap[5]! & 0x80);
  assert.ok(bitmap[27]! & 0x80);
  assert.ok(bitmap[20]! & 0x10);
  assert.ok(bitmap[32]! & 0x08);
  // every implemented, non-vendor command has a bit
  for (const cmd of implemented) {
    if (cmd.opcode >> 10 === 0x3f) continue;
    assert.ok(SUPPORTED_COMMAND_BIT.has(cmd), `${cmd.name} has a Supported_Commands bit`);
  }
});

test('each controller owns its Supported_Commands and feature tables: changing one changes no other', () => {
  const { loop, hosts, link } = bench(2);
  const [a, b] = hosts as [Host, Host];
  const ask = (h: Host): string[] => {
    h.cmd('02 10 00'); // Read Local Supported Commands
    h.cmd('03 10 00'); // Read Local Supported Features
    h.cmd('04 10 01 02'); // Read Local Extended Features page 2
    h.cmd('03 20 00'); // LE Read Local Supported Features
    h.cmd('1c 20 00'); // LE Read Supported States
    loop.run();
    return h.take();
  };
  const before = ask(b);
  // a models a controller without BR/EDR features, LE or the Reset command
  a.c.state.supported_commands.fill(0);
  a.c.state.lmp_features_page0.fill(0);
  a.c.state.lmp_features_page2.fill(0);
  a.c.state.le_features.fill(0);
  a.c.state.le_supported_states.fill(0);
  const zero8 = ' 00'.repeat(8);
  assert.equal(ask(a), [
    `0e 44 01 02 10 00${' 00'.repeat(64)}`,
    `0e 0c 01 03 10 00${zero8}`,
    `0e 0e 01 04 10 00 02 02${zero8}`,
    `0e 0c 01 03 20 00${zero8}`,
    `0e 0c 01 1c 20 00${zero8}`,
  ]);
  // b, and a controller created afterwards, still report the defaults (vectors from the spec
  // tables: Reset is octet 5 bit 7; features as in 'informational parameters')
  const c = new Host(link.create_controller());
  for (const ev of [ask(b), ask(c)]) {
    assert.equal(ev, before);
    assert.ok(fromHex(ev[0]!)[6 + 5]! & 0x80, 'Reset supported');
    assert.equal(ev.slice(1), [
      '0e 0c 01 03 10 00 bf 00 00 7e c0 01 5b 80',
      '0e 0e 01 04 10 00 02 02 00 01 00 00 00 00 00 00',
      '0e 0c 01 03 20 00 6f 09 00 00 00 00 00 00',
      '0e 0c 01 1c 20 00 ff ff ff ff ff 03 00 00',
    ]);
  }
});

test("remote features read over a link are the peer controller's own", () => {
  const { loop, hosts } = bench(2);
  const [a, b] = hosts as [Host, Host];
  for (const h of [a, b]) unmask(h);
  b.c.state.lmp_features_page0[0] = 0x01; // 3-slot packets only
  b.c.state.lmp_features_page2.fill(0);
  b.cmd('1a 0c 01 02'); // page scan
  loop.run();
  a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
  loop.run_until(() => !!b.find(0x04));
  b.cmd(`09 04 07 ${wire(a.c.bd_addr)} 01`);
  loop.run_until(() => !!a.find(0x03) && !!b.find(0x03));
  const ha = le16(a.find(0x03)![3]! | (a.find(0x03)![4]! << 8));
  const hb = le16(b.find(0x03)![3]! | (b.find(0x03)![4]! << 8));
  loop.run();
  a.clear();
  b.clear();
  a.cmd(`1b 04 02 ${ha}`);
  a.cmd(`1c 04 03 ${ha} 02`);
  b.cmd(`1b 04 02 ${hb}`);
  loop.run();
  assert.equal(a.take(), [
    '0f 04 00 01 1b 04',
    '0f 04 00 01 1c 04',
    `0b 0b 00 ${ha} 01 00 00 7e c0 01 5b 80`,
    `23 0d 00 ${ha} 02 02${' 00'.repeat(8)}`,
  ]);
  assert.equal(b.take(), ['0f 04 00 01 1b 04', `0b 0b 00 ${hb} bf 00 00 7e c0 01 5b 80`]);
});

test('every command template in commands.ts is answered (never 0x01)', () => {
  // posing as a BCM chip: the patch download commands exist only then (bcm-patch.test.ts)
  const { loop, h } = one({ bcm: true });
  for (const cmd of HCI_COMMANDS.values()) {
    h.cmd(le16(cmd.opcode) + ' 00');
  }
  loop.run();
  const ev = h.take();
  for (const e of ev) {
    const b = fromHex(e);
    if (b[0] === 0x0e) assert.is.not(b[5], 0x01, e);
    else assert.is.not(b[2], 0x01, e);
  }
  assert.is(ev.length, HCI_COMMANDS.size);
});

test('event masks: a masked event is not delivered, Command Complete always is', () => {
  const { loop, h } = one();
  h.c.faults.hardware_error(0x42);
  loop.run();
  assert.equal(h.take(), ['10 01 42']);
  h.cmd('01 0c 08 ff 7f ff ff ff 1f 00 00'); // bit 15 (Hardware Error) cleared
  h.c.faults.hardware_error(0x42);
  loop.run();
  assert.equal(h.take(), ['0e 04 01 01 0c 00']);
  unmask(h);
  h.c.faults.hardware_error(0x01);
  loop.run();
  assert.equal(h.take(), ['0e 04 01 01 0c 00', '0e 04 01 01 20 00', '10 01 01']);
});

test('Reset restores defaults (event masks, name, scan enable)', () => {
  const { loop, h } = one();
  h.cmd('1a 0c 01 03');
  h.cmd('01 0c 08 00 00 00 00 00 00 00 00');
  h.cmd('03 0c 00');
  h.cmd('19 0c 00');
  loop.run();
  h.take();
  h.c.faults.hardware_error(0x07);
  loop.run();
  assert.equal(h.take(), ['10 01 07']);
});

test('vendor: Broadcom Update UART Baud Rate and Write BD_ADDR', () => {
  const { loop, h } = one();
  h.cmd('18 fc 06 00 00 00 10 0e 00'); // 921600 baud
  h.cmd('18 fc 06 00 00 00 00 00 00'); // 0 baud
  h.cmd('01 fc 06 66 55 44 33 22 11');
  h.cmd('09 10 00');
  loop.run();
  assert.equal(h.take(), ['0e 04 01 18 fc 00', '0e 04 01 18 fc 12', '0e 04 01 01 fc 00', '0e 0a 01 09 10 00 66 55 44 33 22 11']);
});

test('fault: fail a command with a chosen status', () => {
  const { loop, h } = one();
  h.c.faults.fail_command(0x0c03, 0x03, 1);
  h.c.faults.fail_command(0x0401, 0x0c, 1);
  h.cmd('03 0c 00');
  h.cmd('03 0c 00');
  h.cmd('01 04 05 33 8b 9e 08 00');
  loop.run();
  assert.equal(h.take(), ['0e 04 01 03 0c 03', '0e 04 01 03 0c 00', '0f 04 0c 01 01 04']);
});

test.run();
