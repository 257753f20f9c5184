import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import {
  HCI_COMMANDS,
  hci_accept_connection_request,
  hci_cmd_encode,
  hci_create_connection,
  hci_disconnect,
  hci_format_decode,
  hci_format_size,
  hci_inquiry,
  hci_le_create_connection,
  hci_le_set_advertising_data,
  hci_le_set_advertising_parameters,
  hci_le_set_event_mask,
  hci_le_set_scan_enable,
  hci_le_set_scan_parameters,
  hci_opcode,
  hci_remote_name_request,
  hci_reset,
  hci_set_event_mask,
  hci_write_class_of_device,
  hci_write_local_name,
  hci_write_scan_enable,
} from '../../../src/hci/commands.js';

// Every vector below is written out by hand from the Core spec, Vol 4, Part E, 7:
// opcode = OGF << 10 | OCF, little endian; one length byte; parameters little endian;
// BD_ADDR least significant byte first.

function enc(cmd: Parameters<typeof hci_cmd_encode>[1], ...args: Array<number | Uint8Array | string>): string {
  const buf = new Uint8Array(260);
  const n = hci_cmd_encode(buf, cmd, ...args);
  assert.ok(n > 0, `${cmd.name} encodes`);
  return hex(buf.subarray(0, n));
}

test('opcodes from OGF/OCF', () => {
  assert.is(hci_opcode(0x03, 0x003), 0x0c03);
  assert.is(hci_opcode(0x01, 0x005), 0x0405);
  assert.is(hci_opcode(0x08, 0x00d), 0x200d);
  assert.is(hci_opcode(0x3f, 0x018), 0xfc18);
});

test('Reset, Inquiry (GIAC, 10.24 s, unlimited responses)', () => {
  assert.is(enc(hci_reset), '03 0c 00');
  assert.is(enc(hci_inquiry, 0x9e8b33, 8, 0), '01 04 05 33 8b 9e 08 00');
});

test('Create Connection: BD_ADDR reversed, packet types, R1, clock offset, role switch allowed', () => {
  const addr = sscanf_bd_addr('00:1A:7D:DA:71:13')!;
  assert.is(
    enc(hci_create_connection, addr, 0xcc18, 0x01, 0x00, 0x8123, 0x01),
    '05 04 0d 13 71 da 7d 1a 00 18 cc 01 00 23 81 01',
  );
});

test('Disconnect, Accept Connection Request, Remote Name Request', () => {
  assert.is(enc(hci_disconnect, 0x0040, 0x13), '06 04 03 40 00 13');
  assert.is(enc(hci_accept_connection_request, sscanf_bd_addr('00:1A:7D:DA:71:13')!, 0x01), '09 04 07 13 71 da 7d 1a 00 01');
  assert.is(
    enc(hci_remote_name_request, sscanf_bd_addr('AA:BB:CC:DD:EE:FF')!, 0x02, 0x00, 0x0000),
    '19 04 0a ff ee dd cc bb aa 02 00 00 00',
  );
});

test('LE Create Connection: 25 parameter bytes in spec order', () => {
  const addr = sscanf_bd_addr('C0:FF:EE:00:11:22')!;
  assert.is(
    enc(hci_le_create_connection, 0x0060, 0x0030, 0x00, 0x01, addr, 0x00, 0x0008, 0x0018, 0x0004, 0x0048, 0x0002, 0x0030),
    '0d 20 19 60 00 30 00 00 01 22 11 00 ee ff c0 00 08 00 18 00 04 00 48 00 02 00 30 00',
  );
});

test('LE advertising and scanning commands', () => {
  assert.is(
    enc(hci_le_set_advertising_parameters, 0x0800, 0x0800, 0x00, 0x00, 0x00, new Uint8Array(6), 0x07, 0x00),
    '06 20 0f 00 08 00 08 00 00 00 00 00 00 00 00 00 07 00',
  );
  const ad = fromHex('02 01 06');
  assert.is(enc(hci_le_set_advertising_data, 3, ad), '08 20 20 03 02 01 06' + ' 00'.repeat(28));
  assert.is(enc(hci_le_set_scan_parameters, 0x01, 0x0010, 0x0010, 0x00, 0x00), '0b 20 07 01 10 00 10 00 00 00');
  assert.is(enc(hci_le_set_scan_enable, 0x01, 0x00), '0c 20 02 01 00');
});

test('event masks, class of device, scan enable, local name (248 bytes, zero padded)', () => {
  assert.is(enc(hci_set_event_mask, 0xffffffff, 0x3fffffff), '01 0c 08 ff ff ff ff ff ff ff 3f');
  assert.is(enc(hci_le_set_event_mask, 0x1df, 0), '01 20 08 df 01 00 00 00 00 00 00');
  assert.is(enc(hci_write_class_of_device, 0x5a020c), '24 0c 03 0c 02 5a');
  assert.is(enc(hci_write_scan_enable, 0x03), '1a 0c 01 03');
  const name = enc(hci_write_local_name, 'BTstack');
  assert.is(name.slice(0, 8), '13 0c f8');
  assert.is(name.slice(9, 9 + 20), '42 54 73 74 61 63 6b');
  assert.is(fromHex(name).length, 3 + 248);
  assert.is(fromHex(name)[3 + 7], 0);
});

test('bad arguments: missing, wrong type, wrong BD_ADDR length, too small buffer', () => {
  const buf = new Uint8Array(260);
  assert.is(hci_cmd_encode(buf, hci_disconnect, 0x40), -1);
  assert.is(hci_cmd_encode(buf, hci_disconnect, 0x40, 'x'), -1);
  assert.is(hci_cmd_encode(buf, hci_create_connection, new Uint8Array(5), 0, 0, 0, 0, 0), -1);
  assert.is(hci_cmd_encode(new Uint8Array(5), hci_disconnect, 0x40, 0x13), -1);
});

test('decode is the inverse for every template with a fixed format (round trip of spec-sized params)', () => {
  for (const cmd of HCI_COMMANDS.values()) {
    if (cmd.format.includes('V')) continue;
    const size = hci_format_size(cmd.format);
    const params = new Uint8Array(size);
    for (let i = 0; i < size; i++) params[i] = (i * 37 + 5) & 0xff;
    // N is a zero-terminated string: keep it text
    if (cmd.format.includes('N')) continue;
    const vals = hci_format_decode(params, 0, size, cmd.format);
    assert.ok(vals, cmd.name);
    const buf = new Uint8Array(260);
    const n = hci_cmd_encode(buf, cmd, ...vals!);
    assert.is(n, 3 + size, cmd.name);
    assert.is(hex(buf.subarray(3, n)), hex(params), cmd.name);
    assert.is(hci_format_decode(params, 0, size + 1, cmd.format), null, 'length mismatch rejected');
  }
});

test.run();
