/**
 * `bthost gatt ADDR` and `bthost advertise` on the in-process virtual controller, as separate
 * processes: the virtual peer's GATT server (ports/cli/virtual-peer-gatt.ts) browsed, read,
 * written and subscribed to; ATT errors, absent devices and usage errors as one line with exit
 * 1 / 2; advertising for a while; the packet log clean (tshark btatt, btmon).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { tsharkFields } from '../helpers/capture.js';
import { bthost, tmp, PEER } from './cli-helpers.js';
import { assertCleanGattCapture } from './gatt-helpers.js';

test("gatt ADDR: the virtual peer's services and characteristics; exit 0; capture clean", () => {
  const log = path.join(tmp, 'gatt-browse.btsnoop');
  const r = bthost(['gatt', PEER, '--log', log]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.equal(r.stdout.trim().split('\n'), [
    `connected to ${PEER} (handle 0x0001)`,
    'service 0x0001-0x0005 1800 (Generic Access)',
    '  characteristic 0x0003 2a00 (Device Name) [read]',
    '  characteristic 0x0005 2a01 (Appearance) [read]',
    'service 0x0006-0x0009 180f (Battery Service)',
    '  characteristic 0x0008 2a19 (Battery Level) [read notify]',
    'service 0x000a-0x000f ff10',
    '  characteristic 0x000c ff11 [read notify indicate]',
    '  characteristic 0x000f ff12 [read write-without-response write]',
    '3 services, ATT MTU 1017',
  ]);
  assertCleanGattCapture(log);
  // the MTU exchange, then Read By Group Type for «Primary Service» until Attribute Not Found
  const ops = tsharkFields(log, ['btatt.opcode'], 'btatt').map((x) => x[0]);
  assert.equal(ops.slice(0, 4), ['0x02', '0x03', '0x10', '0x11']);
});

test('gatt ADDR --read H: the value in hex and text; --read of a missing handle: the ATT error, exit 1', () => {
  const r = bthost(['gatt', PEER, '--read', '0x0003']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), [
    `connected to ${PEER} (handle 0x0001)`,
    '0x0003: 6274686f7374207669727475616c2070656572 "bthost virtual peer"',
  ]);
  const bad = bthost(['gatt', PEER, '--read', '0x0099']);
  assert.is(bad.status, 1);
  assert.is(bad.stderr, 'bthost: read 0x0099: ATT error 0x01 (Invalid Handle)\n');
});

test('gatt ADDR --write H HEX: Write Request (and --no-response: Write Command) on the wire; not writable: exit 1', () => {
  const log = path.join(tmp, 'gatt-write.btsnoop');
  const r = bthost(['gatt', PEER, '--write', '0x000f', '68656c6c6f', '--log', log]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^wrote 5 bytes to 0x000f$/m);
  assert.equal(tsharkFields(log, ['btatt.handle', 'btatt.value'], 'btatt.opcode == 0x12'), [['0x000f', '68656c6c6f']]);
  assert.is(tsharkFields(log, ['frame.number'], 'btatt.opcode == 0x13').length, 1);
  const cmd = path.join(tmp, 'gatt-write-cmd.btsnoop');
  const c = bthost(['gatt', PEER, '--write', '0x000f', '0102', '--no-response', '--log', cmd]);
  assert.is(c.status, 0, c.stderr);
  assert.match(c.stdout, /^wrote 2 bytes to 0x000f \(without response\)$/m);
  assert.equal(tsharkFields(cmd, ['btatt.handle', 'btatt.value'], 'btatt.opcode == 0x52'), [['0x000f', '0102']]);
  const ro = bthost(['gatt', PEER, '--write', '0x0003', '00']);
  assert.is(ro.status, 1);
  assert.is(ro.stderr, 'bthost: write 0x0003: ATT error 0x03 (Write Not Permitted)\n');
});

test('gatt ADDR --notify H --count 3: CCC written, three counter notifications; exit 0; capture clean', () => {
  const log = path.join(tmp, 'gatt-notify.btsnoop');
  const r = bthost(['gatt', PEER, '--notify', '0x000c', '--count', '3', '--log', log]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').slice(1), [
    'subscribed to 0x000c (notifications)',
    'notification 0x000c: 01000000',
    'notification 0x000c: 02000000',
    'notification 0x000c: 03000000',
  ]);
  // Write Request to the CCC 0x000D with 0x0001, then Handle Value Notifications
  assert.equal(tsharkFields(log, ['btatt.handle', 'btatt.characteristic_configuration_client'], 'btatt.opcode == 0x12'), [
    ['0x000d', '0x0001'],
  ]);
  assert.is(tsharkFields(log, ['frame.number'], 'btatt.opcode == 0x1b && btatt.handle == 0x000c').length, 3);
  assertCleanGattCapture(log);
  const none = bthost(['gatt', PEER, '--notify', '0x0003']);
  assert.is(none.status, 1);
  assert.is(none.stderr, 'bthost: characteristic 0x0003 neither notifies nor indicates\n');
});

test('gatt: nobody at the address -> one line, exit 1; usage errors -> exit 2', () => {
  const r = bthost(['gatt', '11:22:33:44:55:66', '--connect-timeout', '500']);
  assert.is(r.status, 1);
  assert.is(r.stdout, '');
  assert.is(r.stderr, 'bthost: no LE connection to 11:22:33:44:55:66 within 500 ms: is it advertising connectable?\n');
  for (const [args, line] of [
    [['gatt'], 'missing address (XX:XX:XX:XX:XX:XX)'],
    [['gatt', PEER, '--read', 'x'], "--read: expected a handle 1..0xFFFF, got 'x'"],
    [['gatt', PEER, '--write', '3', 'abc'], "--write H HEX: expected the value as hex octets, got 'abc'"],
    [['gatt', PEER, '--read', '3', '--notify', '4'], 'give one of --read, --write, --notify'],
    [['advertise', 'x'], "unexpected argument 'x'"],
  ] as const) {
    const u = bthost([...args]);
    assert.is(u.status, 2, args.join(' '));
    assert.is(u.stderr, `bthost ${args[0]}: ${line} (bthost ${args[0]} --help for usage)\n`);
  }
  const help = bthost(['gatt', '--help']);
  assert.is(help.status, 0);
  assert.match(help.stdout, /^usage: bthost gatt ADDR \[--read H \| --write H HEX \| --notify H\]/);
  assert.match(bthost(['--help']).stdout, /\n {2}gatt ADDR {17}LE GATT client/);
});

test('advertise --name --connectable --time: advertising parameters and data on the wire; exit 0', () => {
  const log = path.join(tmp, 'advertise.btsnoop');
  const r = bthost(['advertise', '--name', 'Thing', '--connectable', '--time', '0.5', '--log', log]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), [
    'advertising as "Thing" at C0:FF:EE:00:00:01 (connectable)',
    'advertising stopped, 0 connections',
  ]);
  // LE Set Advertising Parameters: 100 ms, ADV_IND; data: flags 0x06, Complete Local Name "Thing"
  assert.equal(tsharkFields(log, ['bthci_cmd.le_advts_type'], 'bthci_cmd.opcode == 0x2006'), [['0x00']]);
  assert.equal(tsharkFields(log, ['btcommon.eir_ad.entry.device_name'], 'bthci_cmd.opcode == 0x2008'), [['Thing']]);
  const nc = bthost(['advertise', '--time', '0.2']);
  assert.is(nc.status, 0, nc.stderr);
  assert.match(nc.stdout, /^advertising as "bthost" at C0:FF:EE:00:00:01 \(non-connectable\)$/m);
});

test.run();
